//! spokes-writer: the writer's side of Spokes, shared by the desktop app and the `spokes` CLI.
//!
//! A profile is one folder (layout version 5, [`profile::PROFILE_VERSION`]):
//!
//! | file | holds |
//! |---|---|
//! | `profile.json` | version, blog ID, fingerprint, author name, chosen spokes |
//! | `identity.asc` | the secret key, passphrase-encrypted, ASCII-armored (`profile.json`'s `device_key` names this computer's signing subkey) |
//! | `certificate.asc` | the public certificate |
//! | `blog.automerge` | the published blog document (what spokes get) |
//! | `drafts/index.automerge` | the drafts index: the settings, shared by the writer's computers ([`drafts`]) |
//! | `drafts/list.sqlite` | the post list: every post without its text, what readers see of it, a copy of the settings; this computer's own, made again from the documents if lost ([`list`]) |
//! | `drafts/posts/<id>.automerge` | one draft per document, with its text; the drafts leave the machine only sealed for the author's other computers (`drafts_sync`) |
//! | `drafts.automerge.before-layout-4` | a profile upgraded from layout 3: its drafts as they were, one document (kept, never read) |
//! | `statements.json` | the signed statements as last written whole, JSON array of `SignedStatement` |
//! | `statements.log` | statements signed since, one JSON `SignedStatement` per line (a publish appends one) |
//! | `endpoint.key` | this device's iroh secret key (hex) |
//! | `sync/<endpoint>.state` | Automerge sync state per spoke |
//! | `status.json` | per-spoke publish status |
//! | `images/<hash>.<ext>` | pictures added to posts, named by the BLAKE3 hash of their bytes (`images`) |
//! | `set/manifests.json`, `set/anchor-<hash>.json`, `set/posts/<id>.automerge` | after `spokes upgrade`: the published blog as a set of documents, what spokes get instead of `blog.automerge` (the manifests as differences from the anchor, [`sets`]); `set/received.json`: what the set brought from other computers, by key ([`received`]) |
//!
//! Every file except the logs (`*.log`) is replaced atomically (write to a temporary file, fsync,
//! rename, fsync the folder), so a crash at any instant leaves either the old or the new
//! version. The logs are only appended to; a torn last append is skipped when loading.

pub mod archive;
pub mod devices;
pub mod drafts;
pub mod drafts_sync;
pub mod fsutil;
pub mod history;
pub mod images;
pub mod list;
pub mod naming;
pub mod import;
pub mod organise;
pub mod pairing;
pub mod platforms;
pub mod profile;
pub mod publish;
pub mod received;
pub mod recovery;
pub mod sets;
pub mod store;
pub mod workflow;

pub use profile::{ImportReport, PostSummary, Profile, ProfileError, SpokeEntry};
pub use publish::{PublishSummary, SpokeStatus, SpokeTarget};
pub use spokes_sync::peer::ConnectionPool;
pub use workflow::{Durability, LayoutUpgrade, WriterSession, check_new_passphrase, default_profile_dir};
