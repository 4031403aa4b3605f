//! spokes-core: the pure logic of Spokes.
//!
//! - [`doc`]: the blog and drafts documents (Automerge, UTF-16 text indexing).
//! - [`identity`]: the writer's OpenPGP certificate and device signing subkey (sequoia-openpgp).
//! - [`statement`]: signed revision statements (`spokes revision v1`) and the coverage rule.
//! - [`render`]: Markdown to sanitised HTML (pulldown-cmark, then ammonia).
//! - [`import`]: Markdown files with YAML or TOML front matter (Jekyll, Hugo, Zola) to posts.
//!
//! No networking, no async runtime: everything here is unit-testable.

pub mod doc;
pub mod identity;
pub mod import;
pub mod render;
pub mod statement;

pub use automerge;
pub use doc::{BlogDoc, BlogId, BlogSettings, DocKind, Post, PostState, SpokeRef};
pub use identity::{Certificate, Identity, SigningKey};
pub use statement::{SignedStatement, Statement};
