//! spokes-core: the pure logic of Spokes.
//!
//! - [`archive`]: the export archive (`spokes-archive` version 1): layout, reading and checking, writing.
//! - [`doc`]: the blog and drafts documents (Automerge, UTF-16 text indexing).
//! - [`expansion`]: bounding what Automerge bytes from a peer inflate to, before Automerge reads them.
//! - [`edit`]: the editor's splices (UTF-16 code units) and how a run of them is folded.
//! - [`image`]: images in posts, named by the BLAKE3 hash of their bytes.
//! - [`manifest`]: the blog as a set of documents: the signed manifest (`spokes revision v2`) over one document per post.
//! - [`merkle`]: the RFC 9162 Merkle tree hash (SHA-256) and inclusion proofs.
//! - [`identity`]: the writer's OpenPGP certificate and its devices' signing subkeys (sequoia-openpgp).
//! - [`seal`]: the drafts document sealed for the author's own devices (encrypted and signed).
//! - [`statement`]: signed revision statements (`spokes revision v1`) and the coverage rule.
//! - [`upgrade`]: a schema 1 blog document split into the manifest and post documents.
//! - [`render`]: Markdown to sanitised HTML (pulldown-cmark, then ammonia).
//! - [`postdoc`]: one Automerge document per post (schema 2), listed by the manifest.
//! - [`problem`]: the one error-code enum ([`problem::Code`]) and `{code, message}` ([`problem::Problem`]).
//! - [`import`]: Markdown files with YAML or TOML front matter (Jekyll, Hugo, Zola) to posts, and back.
//!
//! No networking, no async runtime: everything here is unit-testable.

// Core is pure (crates/core/clippy.toml); its tests may use files and the clock.
#![cfg_attr(test, allow(clippy::disallowed_methods, clippy::disallowed_types))]

pub mod archive;
pub mod doc;
pub mod edit;
pub mod expansion;
pub mod identity;
pub mod image;
pub mod manifest;
pub mod merkle;
pub mod names;
pub mod import;
pub mod postdoc;
pub mod problem;
pub mod render;
pub mod seal;
pub mod statement;
pub mod upgrade;
pub mod web;

pub use automerge;
pub use doc::{BlogDoc, BlogId, BlogSettings, DocKind, Post, PostState, SpokeAddr, SpokeRef, TextForm};
pub use identity::{Certificate, Identity, SigningKey};
pub use statement::{SignedStatement, Statement};
