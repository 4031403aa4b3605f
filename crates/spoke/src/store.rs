//! The spoke's storage: one SQLite database in WAL mode (`spoke.db` in the data folder).
//!
//! Schema version 12 (`PRAGMA user_version = 12`; version 1 lacked `sealed_drafts`, version 2
//! lacked `images`, version 3 lacked the council and moderation tables and columns, version 4
//! `document_increments`, version 5 the set tables, version 6 `set_posts.size`, version 7
//! `set_posts.listing`, version 8 `set_manifests.base`, version 9 `draft_items`, version 10
//! `council_ready`, version 11 `peer_offers`; all are upgraded on open):
//!
//! | table | holds |
//! |---|---|
//! | `blogs` | blog ID, owner fingerprint, armored certificate, saved Automerge document, status (`active`, `suspended`), kind (`hosted`: admitted here; `mirror`: a council copy) |
//! | `document_increments` | Automerge change chunks appended to a blog's saved document since it was last saved whole, in order (`seq`); the document is the save followed by them |
//! | `statements` | signed statements per blog (JSON of `SignedStatement`), unique per signature |
//! | `invites` | invite tokens, how many uses each has left, optional expiry (Unix seconds) |
//! | `sync_states` | persisted Automerge `sync::State` per (peer endpoint, blog) |
//! | `refusals` | every refused session: time, peer, blog, code, reason |
//! | `sealed_drafts` | the newest sealed drafts bundle per (blog, device signing key) left with `spokes/drafts/1`, unreadable here |
//! | `draft_items` | the newest sealed draft item per (blog, device, item) left with `spokes/drafts/2` (the index or one post), with the BLAKE3 hash of its sealed bytes and when it was sealed, unreadable here |
//! | `images` | the bytes of images the blog's posts link to, per (blog, image name), checked against the name |
//! | `dropped_blogs` | blogs the operator dropped: never taken again, hosted or mirrored |
//! | `blocked_peers` | spokes the operator blocked: no session with them is answered or opened |
//! | `council_entries` | the council's signed membership entries ([`crate::council`]) |
//! | `council_invites` | council invite tokens, uses left, expiry (Unix seconds) |
//! | `council_ready` | per spoke this one proposed to the council: what its self-test reported when it joined (JSON of `council::ReadyReport`) and when |
//! | `peer_heads` | per (peer, blog) the heads the peer last offered in its catalog (rollback detection) |
//! | `peer_offers` | per (council peer, set blog) the highest manifest `rev` the peer offered in a sealed catalog, and that offer (JSON of `council::SignedOffer`): the earlier half of evidence should the peer later offer less |
//! | `set_manifests` | a set blog's signed manifests by header hash (`StoredManifest` JSON): the frontier (`recent` 0), superseded ones kept as bases of differences (`recent` 1), and the anchor (`recent` 2 when it is neither); a row with `base` (the anchor's hash) holds only the leaves that differ from the anchor |
//! | `set_posts` | a set blog's live post documents (saved Automerge bytes), each one's size in bytes, and its listing as the reader view shows it (`crate::listing`; NULL until rendered, and again whenever the document is replaced) |

use rusqlite::{Connection, OptionalExtension, params};
use spokes_core::image::ImageName;
use spokes_core::problem::Code;
use spokes_core::{BlogId, Certificate, SignedStatement};
use spokes_sync::set::StoredManifest;
use std::path::Path;
use std::sync::Mutex;

/// Schema version of `spoke.db`.
pub const STORE_SCHEMA: i64 = 12;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed (disk full, corrupt file, locked).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer spoke.
    #[error("spoke.db has schema version {0}; this spoke reads up to {STORE_SCHEMA}")]
    NewerSchema(i64),
    /// Stored data does not parse.
    #[error("stored data is damaged: {0}")]
    Damaged(String),
    /// Keeping it would pass a limit this spoke keeps per blog.
    #[error("{0}")]
    Quota(String),
}

/// One sealed draft item to keep ([`Store::put_draft_items`]): whose (the device key that
/// sealed it), which, the seal, and when it was sealed (Unix seconds).
#[derive(Debug, Clone, Copy)]
pub struct DraftItemRow<'a> {
    /// Fingerprint of the sealing device key.
    pub device: &'a str,
    /// `index` or a post ID.
    pub item: &'a str,
    /// The sealed bytes.
    pub sealed: &'a [u8],
    /// When it was sealed.
    pub signed_at: i64,
}

/// What a spoke keeps of one blog's sealed drafts ([`Store::put_draft_items`]).
#[derive(Debug, Clone, Copy)]
pub struct DraftLimits {
    /// Bytes of seals, every device's bundles and items together (0: no limit).
    pub max_bytes: u64,
    /// Items, every device's together.
    pub max_items: usize,
}

/// Whether readers are shown a blog: `active`, or `suspended` by the operator (held, not
/// served, not synced). Stored as that word in `blogs.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum BlogStatus {
    /// Served and synced.
    Active,
    /// Held but neither served nor synced.
    Suspended,
}

/// How a spoke came to hold a blog: `hosted` (its operator admitted it, by invite or
/// openly) or `mirror` (a copy taken from the council). Stored as that word in `blogs.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum BlogKind {
    /// Admitted here.
    Hosted,
    /// A council copy.
    Mirror,
}

/// Reads and writes a word-valued enum as SQLite text; another word is a damaged row.
macro_rules! sql_word {
    ($t:ty) => {
        impl rusqlite::types::ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                let word: &'static str = self.into();
                Ok(word.into())
            }
        }
        impl rusqlite::types::FromSql for $t {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let word = v.as_str()?;
                word.parse().map_err(|_| rusqlite::types::FromSqlError::Other(format!("`{word}` is not a {} this version knows", stringify!($t)).into()))
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let word: &'static str = self.into();
                // `pad`, so that a width in the format (`{:<6}`) applies.
                f.pad(word)
            }
        }
    };
}
sql_word!(BlogStatus);
sql_word!(BlogKind);

/// A hosted blog as stored.
#[derive(Debug, Clone)]
pub struct StoredBlog {
    /// Blog ID.
    pub blog_id: BlogId,
    /// Owner's certificate fingerprint.
    pub fingerprint: String,
    /// Owner's certificate.
    pub certificate: Certificate,
    /// Saved Automerge document (may be empty before the first change arrives).
    pub document: Vec<u8>,
    /// Served or suspended.
    pub status: BlogStatus,
    /// Hosted or a council copy.
    pub kind: BlogKind,
    /// 1: one document and `spokes revision v1` statements (`document`, `statements`);
    /// 2: a set of documents (`set_manifests`, `set_posts`; `document` is empty).
    pub format: u8,
}

/// The statements a session adds to a blog and those it voids ([`Store::save_session`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct StatementChanges<'a> {
    /// New statements, verified and canonical.
    pub added: &'a [SignedStatement],
    /// Statements to delete: signed by a device the author declared lost or stolen.
    pub voided: &'a [SignedStatement],
}

/// How a session's result reaches a blog's stored document ([`Store::save_session`]).
#[derive(Clone, Debug)]
pub enum DocumentWrite {
    /// A full save that replaces the stored document (and what was appended to it).
    Replace(Vec<u8>),
    /// Change chunks to append: the stored document followed by them loads to the result.
    Append(Vec<u8>),
    /// The document did not change.
    Keep,
}

impl DocumentWrite {
    /// The stored document's size in bytes after this write, when it was `before` bytes.
    pub fn len_after(&self, before: usize) -> usize {
        match self {
            DocumentWrite::Replace(b) => b.len(),
            DocumentWrite::Append(b) => before + b.len(),
            DocumentWrite::Keep => before,
        }
    }

    /// BLAKE3 of the stored document's bytes after this write, when they were `before`.
    pub fn hash_after(&self, before: &[u8]) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        match self {
            DocumentWrite::Replace(b) => h.update(b),
            DocumentWrite::Append(b) => h.update(before).update(b),
            DocumentWrite::Keep => h.update(before),
        };
        h.finalize().into()
    }
}

/// `set_manifests.recent` of a frontier manifest.
const ROLE_FRONTIER: i64 = 0;
/// `set_manifests.recent` of a superseded manifest kept as a base of differences.
const ROLE_RECENT: i64 = 1;
/// `set_manifests.recent` of the anchor when it is neither of the others.
const ROLE_ANCHOR: i64 = 2;

/// A set blog's manifests as [`Store::set_manifests`] reads them: those with a `base` are
/// differences from the anchor, which is among them (in `anchor` when it is in neither list).
#[derive(Debug, Default)]
pub struct StoredManifests {
    /// The frontier, newest rev first.
    pub frontier: Vec<StoredManifest>,
    /// Superseded manifests kept as bases of differences, newest rev first.
    pub recent: Vec<StoredManifest>,
    /// The anchor, when it is neither in the frontier nor recent.
    pub anchor: Option<StoredManifest>,
}

/// What a `spokes/sync/2` session writes ([`Store::save_set`]).
pub struct SetWrite<'a> {
    /// The manifests of the frontier, in order (only those not stored yet are written out).
    pub frontier: &'a [spokes_sync::set::SignedManifest],
    /// Superseded manifests kept as bases of differences, newest first.
    pub recent: &'a [spokes_sync::set::SignedManifest],
    /// The manifest the others are stored as differences from (`None`: each stored whole).
    /// A manifest that does not list every post it does is stored whole.
    pub anchor: Option<&'a spokes_sync::set::SignedManifest>,
    /// Post documents to write: (post ID, saved document).
    pub changed: &'a [(String, Vec<u8>)],
    /// Post documents to delete.
    pub forgotten: &'a [String],
    /// When given, every image of the blog not named here is deleted (the pictures only
    /// removed posts showed).
    pub keep_images: Option<&'a std::collections::BTreeSet<ImageName>>,
    /// Listings of posts as the new view shows them (`crate::listing`): (post ID, listing),
    /// written after the documents (a document written without one loses its old one).
    pub listings: &'a [(String, Vec<u8>)],
}

/// One blog's size on this spoke, for the operator.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BlogSize {
    /// Blog ID.
    pub blog_id: String,
    /// Hosted or a council copy.
    pub kind: BlogKind,
    /// Served or suspended.
    pub status: BlogStatus,
    /// Bytes of the saved document, statements, sealed drafts and images.
    pub bytes: i64,
    /// Signed statements held.
    pub statements: i64,
    /// Images held.
    pub images: i64,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// A refused session, for the operator.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Refusal {
    /// RFC 3339 time.
    pub at: String,
    /// Peer endpoint ID.
    pub peer: String,
    /// Blog ID, if known.
    pub blog_id: Option<String>,
    /// Stable code (a code stored by a later version that this one does not know reads as
    /// [`Code::Unknown`]).
    pub code: Code,
    /// Explanation.
    pub reason: String,
}

/// The store. One connection behind a mutex: writes are short, and SQLite serialises them anyway.
pub struct Store {
    conn: Mutex<Connection>,
    /// Parsed certificates by the BLAKE3 hash of their stored bytes (parsing is the costly
    /// part of reading a blog).
    certs: Mutex<std::collections::HashMap<[u8; 32], Certificate>>,
}

/// A refusal repeated within this many seconds is recorded once.
pub const REFUSAL_REPEAT_SECS: i64 = 600;

/// Parsed certificates kept at most.
const CERT_CACHE: usize = 1024;

fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Store {
    /// Opens or creates `path`, enables WAL and `synchronous=NORMAL` (durable at checkpoints,
    /// never corrupt), and migrates the schema.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted content is overwritten with zeros, not left in free pages: a post the
        // writer took back leaves the file (docs/formats.md, "Forgetting").
        conn.pragma_update(None, "secure_delete", "ON")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > STORE_SCHEMA {
            return Err(StoreError::NewerSchema(version));
        }
        if version < 1 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE IF NOT EXISTS blogs(
                    blog_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, certificate BLOB NOT NULL,
                    document BLOB NOT NULL, status TEXT NOT NULL DEFAULT 'active',
                    admitted_at TEXT NOT NULL, updated_at TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS statements(
                    blog_id TEXT NOT NULL REFERENCES blogs(blog_id) ON DELETE CASCADE,
                    signature BLOB NOT NULL, statement TEXT NOT NULL, received_at TEXT NOT NULL,
                    PRIMARY KEY(blog_id, signature));
                 CREATE TABLE IF NOT EXISTS invites(
                    token TEXT PRIMARY KEY, uses_left INTEGER NOT NULL, created_at TEXT NOT NULL, note TEXT);
                 CREATE TABLE IF NOT EXISTS sync_states(
                    peer TEXT NOT NULL, blog_id TEXT NOT NULL, state BLOB NOT NULL, updated_at TEXT NOT NULL,
                    PRIMARY KEY(peer, blog_id));
                 CREATE TABLE IF NOT EXISTS refusals(
                    id INTEGER PRIMARY KEY, at TEXT NOT NULL, peer TEXT NOT NULL, blog_id TEXT,
                    code TEXT NOT NULL, reason TEXT NOT NULL);
                 PRAGMA user_version = 1;
                 COMMIT;",
            )?;
        }
        if version < 2 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE IF NOT EXISTS sealed_drafts(
                    blog_id TEXT NOT NULL REFERENCES blogs(blog_id) ON DELETE CASCADE,
                    device TEXT NOT NULL, sealed BLOB NOT NULL, signed_at INTEGER NOT NULL,
                    updated_at TEXT NOT NULL, PRIMARY KEY(blog_id, device));
                 PRAGMA user_version = 2;
                 COMMIT;",
            )?;
        }
        if version < 3 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE IF NOT EXISTS images(
                    blog_id TEXT NOT NULL REFERENCES blogs(blog_id) ON DELETE CASCADE,
                    name TEXT NOT NULL, bytes BLOB NOT NULL, received_at TEXT NOT NULL,
                    PRIMARY KEY(blog_id, name));
                 PRAGMA user_version = 3;
                 COMMIT;",
            )?;
        }
        if version < 4 {
            conn.execute_batch(
                "BEGIN;
                 ALTER TABLE blogs ADD COLUMN kind TEXT NOT NULL DEFAULT 'hosted';
                 ALTER TABLE invites ADD COLUMN expires_at INTEGER;
                 CREATE TABLE IF NOT EXISTS dropped_blogs(blog_id TEXT PRIMARY KEY, reason TEXT NOT NULL, at TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS blocked_peers(endpoint TEXT PRIMARY KEY, reason TEXT NOT NULL, at TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS council_entries(hash TEXT PRIMARY KEY, entry TEXT NOT NULL, signature TEXT NOT NULL, received_at TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS council_invites(token TEXT PRIMARY KEY, uses_left INTEGER NOT NULL, expires_at INTEGER, created_at TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS peer_heads(peer TEXT NOT NULL, blog_id TEXT NOT NULL, heads TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY(peer, blog_id));
                 CREATE INDEX IF NOT EXISTS refusals_by_peer ON refusals(peer, at);
                 PRAGMA user_version = 4;
                 COMMIT;",
            )?;
        }
        if version < 5 {
            // A blog's document is its full save (`blogs.document`) followed by the change
            // chunks appended since, so a session that brings a few changes stores those bytes
            // instead of saving the whole document again.
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE IF NOT EXISTS document_increments(
                    blog_id TEXT NOT NULL REFERENCES blogs(blog_id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY(blog_id, seq));
                 PRAGMA user_version = 5;
                 COMMIT;",
            )?;
        }
        if version < 6 {
            // Blogs kept as a set of documents (`spokes/sync/2`): their manifests (the
            // frontier, and a few superseded ones kept as bases of differences) and one row
            // per live post's document. A blog moves from format 1 to 2 once, when its first
            // manifest arrives; its version 1 document and statements are deleted then.
            conn.execute_batch(
                "BEGIN;
                 ALTER TABLE blogs ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
                 CREATE TABLE IF NOT EXISTS set_manifests(
                    blog_id TEXT NOT NULL REFERENCES blogs(blog_id) ON DELETE CASCADE,
                    hash TEXT NOT NULL, rev INTEGER NOT NULL, recent INTEGER NOT NULL,
                    manifest TEXT NOT NULL, PRIMARY KEY(blog_id, hash));
                 CREATE TABLE IF NOT EXISTS set_posts(
                    blog_id TEXT NOT NULL REFERENCES blogs(blog_id) ON DELETE CASCADE,
                    post_id TEXT NOT NULL, document BLOB NOT NULL, PRIMARY KEY(blog_id, post_id));
                 PRAGMA user_version = 6;
                 COMMIT;",
            )?;
        }
        if version < 7 {
            // Each post document's size beside it, with an index, so that a blog's size (for
            // its quota, at every session) is summed from the index instead of walking every
            // document's pages.
            conn.execute_batch(
                "BEGIN;
                 ALTER TABLE set_posts ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
                 UPDATE set_posts SET size = length(document);
                 CREATE INDEX IF NOT EXISTS set_posts_size ON set_posts(blog_id, size);
                 PRAGMA user_version = 7;
                 COMMIT;",
            )?;
        }
        if version < 8 {
            // Each post's listing (title, excerpt, pictures, heads) beside its document, so
            // that a start builds a set blog's view without loading its documents. Empty at
            // first: the next start renders them from the documents once.
            conn.execute_batch(
                "BEGIN;
                 ALTER TABLE set_posts ADD COLUMN listing BLOB;
                 PRAGMA user_version = 8;
                 COMMIT;",
            )?;
        }
        if version < 9 {
            // Manifests stored as differences from an anchor: each row names its base (NULL:
            // stored whole, as every row written before).
            conn.execute_batch(
                "BEGIN;
                 ALTER TABLE set_manifests ADD COLUMN base TEXT;
                 PRAGMA user_version = 9;
                 COMMIT;",
            )?;
        }
        if version < 10 {
            // Drafts by item (`spokes/drafts/2`): each device's index and posts sealed apart,
            // so that a sync moves only what changed.
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE IF NOT EXISTS draft_items(
                    blog_id TEXT NOT NULL REFERENCES blogs(blog_id) ON DELETE CASCADE,
                    device TEXT NOT NULL,
                    item TEXT NOT NULL,
                    hash BLOB NOT NULL,
                    sealed BLOB NOT NULL,
                    signed_at INTEGER NOT NULL,
                    PRIMARY KEY(blog_id, device, item));
                 PRAGMA user_version = 10;
                 COMMIT;",
            )?;
        }
        if version < 11 {
            // A newcomer's self-test, reported when it joins (`install-spoke.sh --join`).
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE IF NOT EXISTS council_ready(endpoint TEXT PRIMARY KEY, report TEXT NOT NULL, at INTEGER NOT NULL);
                 PRAGMA user_version = 11;
                 COMMIT;",
            )?;
        }
        if version < 12 {
            // Sealed offers of council peers: evidence should a peer roll a blog back.
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE IF NOT EXISTS peer_offers(peer TEXT NOT NULL, blog_id TEXT NOT NULL, rev INTEGER NOT NULL, offer TEXT NOT NULL, PRIMARY KEY(peer, blog_id));
                 PRAGMA user_version = 12;
                 COMMIT;",
            )?;
        }
        Ok(Store { conn: Mutex::new(conn), certs: Mutex::default() })
    }

    /// The stored manifests of a set blog, each as stored (whole, or as a difference from
    /// the anchor). Error `Damaged` for a row that does not parse or an unknown role.
    pub fn set_manifests(&self, blog_id: &BlogId) -> Result<StoredManifests, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached("SELECT recent, manifest FROM set_manifests WHERE blog_id = ?1 ORDER BY rev DESC, hash")?;
        let rows = st.query_map(params![blog_id.as_str()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?.collect::<Result<Vec<_>, _>>()?;
        let mut out = StoredManifests::default();
        for (role, text) in rows {
            let m: StoredManifest = serde_json::from_str(&text).map_err(|e| StoreError::Damaged(format!("a stored manifest: {e}")))?;
            match role {
                ROLE_FRONTIER => out.frontier.push(m),
                ROLE_RECENT => out.recent.push(m),
                ROLE_ANCHOR => out.anchor = Some(m),
                r => return Err(StoreError::Damaged(format!("a stored manifest has role {r}"))),
            }
        }
        Ok(out)
    }

    /// The stored document of post `post_id` of a set blog.
    pub fn set_post(&self, blog_id: &BlogId, post_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.conn().prepare_cached("SELECT document FROM set_posts WHERE blog_id = ?1 AND post_id = ?2")?.query_row(params![blog_id.as_str(), post_id], |r| r.get(0)).optional()?)
    }

    /// The IDs of the posts whose documents a set blog stores.
    pub fn set_post_ids(&self, blog_id: &BlogId) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached("SELECT post_id FROM set_posts WHERE blog_id = ?1 ORDER BY post_id")?;
        let ids = st.query_map(params![blog_id.as_str()], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(ids)
    }

    /// The stored listings of a set blog's posts (`crate::listing`): (post ID, listing), by
    /// post ID, for the posts that have one.
    pub fn set_listings(&self, blog_id: &BlogId) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached("SELECT post_id, listing FROM set_posts WHERE blog_id = ?1 AND listing IS NOT NULL ORDER BY post_id")?;
        let rows = st.query_map(params![blog_id.as_str()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Stores listings of a set blog's posts, in one transaction: (post ID, listing). A post
    /// whose document is not stored gets none.
    pub fn put_set_listings(&self, blog_id: &BlogId, listings: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        put_listings(&tx, blog_id.as_str(), listings)?;
        tx.commit()?;
        Ok(())
    }

    /// Every stored post document of a set blog: (post ID, saved document), by post ID.
    pub fn set_posts(&self, blog_id: &BlogId) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached("SELECT post_id, document FROM set_posts WHERE blog_id = ?1 ORDER BY post_id")?;
        let rows = st.query_map(params![blog_id.as_str()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Bytes of a set blog's stored post documents, leaving out those of the posts `except`
    /// (the ones a session is about to replace, so that an edit is not counted twice).
    pub fn set_bytes(&self, blog_id: &BlogId, except: &[&str]) -> Result<i64, StoreError> {
        let conn = self.conn();
        let all: i64 = conn.prepare_cached("SELECT COALESCE(SUM(size), 0) FROM set_posts INDEXED BY set_posts_size WHERE blog_id = ?1")?.query_row(params![blog_id.as_str()], |r| r.get(0))?;
        let mut st = conn.prepare_cached("SELECT COALESCE(SUM(size), 0) FROM set_posts WHERE blog_id = ?1 AND post_id = ?2")?;
        let mut left = all;
        for id in except {
            left -= st.query_row(params![blog_id.as_str(), id], |r| r.get::<_, i64>(0))?;
        }
        Ok(left)
    }

    /// Stores what a `spokes/sync/2` session brought, in one transaction: the blog becomes a
    /// set blog (its version 1 document, increments, statements and sync states are deleted:
    /// they would keep words the writer took back); its manifests are replaced; `changed`
    /// post documents are written; `forgotten` ones and every image not in `keep_images` are
    /// deleted; the certificate is updated.
    pub fn save_set(&self, blog_id: &BlogId, cert: &Certificate, set: SetWrite<'_>) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let b = blog_id.as_str();
        let format: u8 = tx.query_row("SELECT format FROM blogs WHERE blog_id = ?1", params![b], |r| r.get(0))?;
        if format != 2 {
            tx.execute("UPDATE blogs SET format = 2, document = x'' WHERE blog_id = ?1", params![b])?;
            tx.execute("DELETE FROM document_increments WHERE blog_id = ?1", params![b])?;
            tx.execute("DELETE FROM statements WHERE blog_id = ?1", params![b])?;
            tx.execute("DELETE FROM sync_states WHERE blog_id = ?1", params![b])?;
        }
        // Manifests by the hash of their header: those kept on the same base stay as they
        // are (only their role may change), new ones are added (as differences from the
        // anchor when they can be), those on another base are written again, the others
        // deleted.
        let anchor_hash = set.anchor.map(|a| hex::encode(a.hash()));
        let mut kept: Vec<(String, &spokes_sync::set::SignedManifest, i64)> = set.frontier.iter().map(|m| (m, ROLE_FRONTIER)).chain(set.recent.iter().map(|m| (m, ROLE_RECENT))).map(|(m, role)| (hex::encode(m.hash()), m, role)).collect();
        if let (Some(a), Some(h)) = (set.anchor, &anchor_hash)
            && !kept.iter().any(|(k, _, _)| k == h)
        {
            kept.push((h.clone(), a, ROLE_ANCHOR));
        }
        let held: Vec<(String, Option<String>)> = {
            let mut st = tx.prepare("SELECT hash, base FROM set_manifests WHERE blog_id = ?1")?;
            st.query_map(params![b], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))?.collect::<Result<Vec<_>, _>>()?
        };
        for (h, _) in held.iter().filter(|(h, _)| !kept.iter().any(|(k, _, _)| k == h)) {
            tx.execute("DELETE FROM set_manifests WHERE blog_id = ?1 AND hash = ?2", params![b, h])?;
        }
        for (hash, m, role) in &kept {
            let stored_base = held.iter().find(|(h, _)| h == hash).map(|(_, base)| base);
            // A row stays when it is whole, or a difference from this anchor.
            if let Some(base) = stored_base
                && (base.is_none() || *base == anchor_hash)
            {
                tx.execute("UPDATE set_manifests SET recent = ?3 WHERE blog_id = ?1 AND hash = ?2", params![b, hash, role])?;
                continue;
            }
            let stored = match set.anchor.filter(|_| anchor_hash.as_ref() != Some(hash)) {
                Some(a) => StoredManifest::difference(m, a).unwrap_or_else(|| StoredManifest::of(m)),
                None => StoredManifest::of(m),
            };
            let text = serde_json::to_string(&stored).map_err(|e| StoreError::Damaged(e.to_string()))?;
            tx.execute(
                "INSERT INTO set_manifests(blog_id, hash, rev, recent, manifest, base) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(blog_id, hash) DO UPDATE SET recent = excluded.recent, manifest = excluded.manifest, base = excluded.base",
                params![b, hash, m.manifest.rev as i64, role, text, stored.base],
            )?;
        }
        for (id, bytes) in set.changed {
            tx.execute(
                "INSERT INTO set_posts(blog_id, post_id, document, size) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(blog_id, post_id) DO UPDATE SET document = excluded.document, size = excluded.size, listing = NULL",
                params![b, id, bytes, bytes.len() as i64],
            )?;
        }
        put_listings(&tx, b, set.listings)?;
        for id in set.forgotten {
            tx.execute("DELETE FROM set_posts WHERE blog_id = ?1 AND post_id = ?2", params![b, id])?;
        }
        if let Some(keep) = set.keep_images {
            let names: Vec<String> = {
                let mut st = tx.prepare("SELECT name FROM images WHERE blog_id = ?1")?;
                st.query_map(params![b], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?
            };
            let keep: std::collections::HashSet<String> = keep.iter().map(ToString::to_string).collect();
            for n in names.iter().filter(|n| !keep.contains(*n)) {
                tx.execute("DELETE FROM images WHERE blog_id = ?1 AND name = ?2", params![b, n])?;
            }
        }
        tx.execute("UPDATE blogs SET certificate = ?2, updated_at = ?3 WHERE blog_id = ?1", params![b, cert.to_armored(), now()])?;
        tx.commit()?;
        if format != 2 || !set.forgotten.is_empty() {
            // The write-ahead log still holds the pages as they were before: copy it into the
            // database and empty it, so the words are gone from every file.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Creates an invite token with `uses` uses, valid until `expires_at` (Unix seconds) if
    /// given.
    pub fn create_invite(&self, uses: u32, note: Option<&str>, expires_at: Option<i64>) -> Result<String, StoreError> {
        let token = hex::encode(rand::random::<[u8; 16]>());
        self.conn().execute("INSERT INTO invites(token, uses_left, created_at, note, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)", params![token, uses, now(), note, expires_at])?;
        Ok(token)
    }

    /// Admits a new blog with `token`: consumes one use of the token and binds the blog ID to
    /// the certificate, in one transaction. Returns `false` if the token is unknown or used up.
    pub fn admit(&self, token: &str, blog_id: &BlogId, cert: &Certificate) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute("UPDATE invites SET uses_left = uses_left - 1 WHERE token = ?1 AND uses_left > 0 AND (expires_at IS NULL OR expires_at > ?2)", params![token, unix_now()])?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO blogs(blog_id, fingerprint, certificate, document, admitted_at, updated_at) VALUES (?1, ?2, ?3, x'', ?4, ?4)",
            params![blog_id.as_str(), cert.fingerprint(), cert.to_armored(), now()],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Hosts a blog from an export archive the operator was given (no invite needed: the
    /// operator chose it). The caller has verified `document` and `statements` against `cert`.
    /// A blog already hosted here must have the same author; its document is then replaced by
    /// `document`, which the caller merged with the stored one. Returns whether the blog is new.
    ///
    /// Errors: [`StoreError::Damaged`] when the blog is hosted here under another certificate.
    pub fn import_blog(&self, blog_id: &BlogId, cert: &Certificate, document: &[u8], statements: &[SignedStatement]) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let existing: Option<String> = tx.query_row("SELECT fingerprint FROM blogs WHERE blog_id = ?1", params![blog_id.as_str()], |r| r.get(0)).optional()?;
        let t = now();
        match &existing {
            Some(fp) if *fp != cert.fingerprint() => return Err(StoreError::Damaged(format!("blog {blog_id} is hosted here for certificate {fp}, not {}", cert.fingerprint()))),
            Some(_) => {
                tx.execute("UPDATE blogs SET document = ?2, certificate = ?3, updated_at = ?4 WHERE blog_id = ?1", params![blog_id.as_str(), document, cert.to_armored(), t])?;
                tx.execute("DELETE FROM document_increments WHERE blog_id = ?1", params![blog_id.as_str()])?;
            }
            None => {
                tx.execute(
                    "INSERT INTO blogs(blog_id, fingerprint, certificate, document, admitted_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    params![blog_id.as_str(), cert.fingerprint(), cert.to_armored(), document, t],
                )?;
            }
        }
        for s in statements {
            tx.execute("INSERT OR IGNORE INTO statements(blog_id, signature, statement, received_at) VALUES (?1, ?2, ?3, ?4)", params![blog_id.as_str(), s.signature, s.statement, t])?;
        }
        tx.commit()?;
        Ok(existing.is_none())
    }

    /// Keeps `sealed` as the newest sealed drafts of `device` (a signing key fingerprint) for
    /// `blog_id`, unless a newer seal from that device is stored already (`signed_at`, seconds).
    pub fn put_sealed_drafts(&self, blog_id: &BlogId, device: &str, sealed: &[u8], signed_at: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO sealed_drafts(blog_id, device, sealed, signed_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(blog_id, device) DO UPDATE SET sealed = excluded.sealed, signed_at = excluded.signed_at, updated_at = excluded.updated_at
             WHERE excluded.signed_at >= sealed_drafts.signed_at",
            params![blog_id.as_str(), device, sealed, signed_at, now()],
        )?;
        Ok(())
    }

    /// Deletes the sealed drafts (bundles and items) of the devices `fingerprints` (declared
    /// lost or stolen).
    pub fn drop_sealed_drafts(&self, blog_id: &BlogId, fingerprints: &[String]) -> Result<usize, StoreError> {
        let conn = self.conn();
        let mut n = 0;
        for fp in fingerprints {
            n += conn.execute("DELETE FROM sealed_drafts WHERE blog_id = ?1 AND device = ?2", params![blog_id.as_str(), fp])?;
            n += conn.execute("DELETE FROM draft_items WHERE blog_id = ?1 AND device = ?2", params![blog_id.as_str(), fp])?;
        }
        Ok(n)
    }

    /// Keeps each of `items` as its device's item of `blog_id`, in one transaction, unless a
    /// seal that device made later is stored already (`signed_at`, seconds), and deletes
    /// those devices' `spokes/drafts/1` bundles (they have moved on). Refuses the whole batch
    /// ([`StoreError::Quota`]) when the blog's sealed drafts would pass `limits`. Returns how
    /// many were kept.
    pub fn put_draft_items(&self, blog_id: &BlogId, items: &[DraftItemRow<'_>], limits: DraftLimits) -> Result<usize, StoreError> {
        let DraftLimits { max_bytes, max_items } = limits;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let b = blog_id.as_str();
        // The totals once per batch, then each row's change to them.
        let (mut count, mut bytes): (i64, i64) = tx.query_row("SELECT count(*), coalesce(sum(length(sealed)), 0) FROM draft_items WHERE blog_id = ?1", params![b], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let bundles: i64 = tx.query_row("SELECT coalesce(sum(length(sealed)), 0) FROM sealed_drafts WHERE blog_id = ?1", params![b], |r| r.get(0))?;
        bytes += bundles;
        let mut kept = 0;
        let mut devices = std::collections::BTreeSet::new();
        {
            let mut old = tx.prepare_cached("SELECT length(sealed) FROM draft_items WHERE blog_id = ?1 AND device = ?2 AND item = ?3")?;
            let mut put = tx.prepare_cached(
                "INSERT INTO draft_items(blog_id, device, item, hash, sealed, signed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(blog_id, device, item) DO UPDATE SET hash = excluded.hash, sealed = excluded.sealed, signed_at = excluded.signed_at
                 WHERE excluded.signed_at >= draft_items.signed_at",
            )?;
            for r in items {
                match old.query_row(params![b, r.device, r.item], |x| x.get::<_, i64>(0)).optional()? {
                    Some(len) => bytes -= len,
                    None => count += 1,
                }
                bytes += r.sealed.len() as i64;
                if count as usize > max_items {
                    return Err(StoreError::Quota(format!("this blog's drafts would hold more than {max_items} items here, the most a blog may keep")));
                }
                if max_bytes > 0 && bytes as u64 > max_bytes {
                    return Err(StoreError::Quota(format!("this blog's sealed drafts would pass the {max_bytes} bytes this spoke keeps per blog")));
                }
                kept += put.execute(params![b, r.device, r.item, blake3::hash(r.sealed).as_bytes().as_slice(), r.sealed, r.signed_at])?;
                devices.insert(r.device);
            }
        }
        for d in devices {
            tx.execute("DELETE FROM sealed_drafts WHERE blog_id = ?1 AND device = ?2", params![b, d])?;
        }
        tx.commit()?;
        Ok(kept)
    }

    /// Every draft item of `blog_id` as (device, item, BLAKE3 hex of the sealed bytes), with
    /// each device's `spokes/drafts/1` bundle as the item `bundle`; at most `limit`.
    pub fn draft_inventory(&self, blog_id: &BlogId, limit: usize) -> Result<Vec<(String, String, String)>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached("SELECT device, item, hash FROM draft_items WHERE blog_id = ?1 ORDER BY device, item LIMIT ?2")?;
        let mut v: Vec<(String, String, String)> = st
            .query_map(params![blog_id.as_str(), limit as i64], |r| Ok((r.get(0)?, r.get(1)?, hex::encode(r.get::<_, Vec<u8>>(2)?))))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut st = conn.prepare_cached("SELECT device, sealed FROM sealed_drafts WHERE blog_id = ?1 ORDER BY signed_at DESC LIMIT 32")?;
        for row in st.query_map(params![blog_id.as_str()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))? {
            let (device, sealed) = row?;
            if v.len() < limit {
                v.push((device, spokes_sync::drafts::BUNDLE_ITEM.to_owned(), blake3::hash(&sealed).to_hex().to_string()));
            }
        }
        Ok(v)
    }

    /// The sealed bytes of `device`'s draft `item` of `blog_id` ([`spokes_sync::drafts::BUNDLE_ITEM`]: its
    /// `spokes/drafts/1` bundle), if held.
    pub fn draft_item(&self, blog_id: &BlogId, device: &str, item: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = self.conn();
        Ok(if item == spokes_sync::drafts::BUNDLE_ITEM {
            conn.query_row("SELECT sealed FROM sealed_drafts WHERE blog_id = ?1 AND device = ?2", params![blog_id.as_str(), device], |r| r.get(0)).optional()?
        } else {
            conn.query_row("SELECT sealed FROM draft_items WHERE blog_id = ?1 AND device = ?2 AND item = ?3", params![blog_id.as_str(), device, item], |r| r.get(0)).optional()?
        })
    }

    /// The sealed drafts of every device of `blog_id` except `except`, newest first, at most `limit`.
    pub fn sealed_drafts(&self, blog_id: &BlogId, except: Option<&str>, limit: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT sealed FROM sealed_drafts WHERE blog_id = ?1 AND device IS NOT ?2 ORDER BY signed_at DESC LIMIT ?3")?;
        let v = st.query_map(params![blog_id.as_str(), except, limit as i64], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    /// Stores an image of `blog_id` (the caller checked the bytes against the name).
    pub fn put_image(&self, blog_id: &BlogId, name: &ImageName, bytes: &[u8]) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR IGNORE INTO images(blog_id, name, bytes, received_at) VALUES (?1, ?2, ?3, ?4)",
            params![blog_id.as_str(), name.as_str(), bytes, now()],
        )?;
        Ok(())
    }

    /// The bytes of an image of `blog_id`, if stored.
    pub fn image(&self, blog_id: &BlogId, name: &ImageName) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.conn().query_row("SELECT bytes FROM images WHERE blog_id = ?1 AND name = ?2", params![blog_id.as_str(), name.as_str()], |r| r.get(0)).optional()?)
    }

    /// Which of `names` are stored for `blog_id`.
    pub fn has_images(&self, blog_id: &BlogId, names: &[ImageName]) -> Result<std::collections::HashSet<ImageName>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached("SELECT 1 FROM images WHERE blog_id = ?1 AND name = ?2")?;
        let mut out = std::collections::HashSet::new();
        for n in names {
            if st.exists(params![blog_id.as_str(), n.as_str()])? {
                out.insert(n.clone());
            }
        }
        Ok(out)
    }

    /// Whether a token is valid (without consuming it).
    pub fn invite_valid(&self, token: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .query_row("SELECT uses_left > 0 AND (expires_at IS NULL OR expires_at > ?2) FROM invites WHERE token = ?1", params![token, unix_now()], |r| r.get::<_, bool>(0))
            .optional()?
            .unwrap_or(false))
    }

    /// One hosted blog.
    pub fn blog(&self, blog_id: &BlogId) -> Result<Option<StoredBlog>, StoreError> {
        let row = self
            .conn()
            .query_row("SELECT fingerprint, certificate, document, status, kind, format FROM blogs WHERE blog_id = ?1", params![blog_id.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, Vec<u8>>(2)?, r.get::<_, BlogStatus>(3)?, r.get::<_, BlogKind>(4)?, r.get::<_, u8>(5)?))
            })
            .optional()?;
        let Some((fingerprint, cert, mut document, status, kind, format)) = row else { return Ok(None) };
        {
            let conn = self.conn();
            let mut st = conn.prepare_cached("SELECT bytes FROM document_increments WHERE blog_id = ?1 ORDER BY seq")?;
            for bytes in st.query_map(params![blog_id.as_str()], |r| r.get::<_, Vec<u8>>(0))? {
                document.extend_from_slice(&bytes?);
            }
        }
        let key: [u8; 32] = blake3::hash(&cert).into();
        let cached = self.certs.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
        let certificate = match cached {
            Some(c) => c,
            None => {
                let c = Certificate::from_bytes(&cert).map_err(|e| StoreError::Damaged(e.to_string()))?;
                let mut certs = self.certs.lock().unwrap_or_else(|p| p.into_inner());
                if certs.len() >= CERT_CACHE {
                    certs.clear();
                }
                certs.insert(key, c.clone());
                c
            }
        };
        Ok(Some(StoredBlog { blog_id: blog_id.clone(), fingerprint, certificate, document, status, kind, format }))
    }

    /// IDs of all hosted blogs.
    pub fn blog_ids(&self) -> Result<Vec<BlogId>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT blog_id FROM blogs ORDER BY blog_id")?;
        let ids = st.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(ids.into_iter().filter_map(|s| s.parse().ok()).collect())
    }

    /// Statements of a blog.
    pub fn statements(&self, blog_id: &BlogId) -> Result<Vec<SignedStatement>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT statement, signature FROM statements WHERE blog_id = ?1 ORDER BY received_at, rowid")?;
        let v = st
            .query_map(params![blog_id.as_str()], |r| Ok(SignedStatement { statement: r.get(0)?, signature: r.get(1)? }))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    /// Saves a session's result in one transaction: document, certificate, new statements and
    /// the sync state for (peer, blog).
    /// Voided statements (signed by a device declared lost) are deleted, and with them every
    /// peer's sync state for the blog, which may name changes the document no longer has.
    pub fn save_session(&self, blog_id: &BlogId, document: &DocumentWrite, cert: &Certificate, statements: StatementChanges<'_>, peer: &str, state: &[u8]) -> Result<(), StoreError> {
        let StatementChanges { added: new_statements, voided } = statements;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let t = now();
        match document {
            DocumentWrite::Replace(bytes) => {
                tx.execute("UPDATE blogs SET document = ?2, certificate = ?3, updated_at = ?4 WHERE blog_id = ?1", params![blog_id.as_str(), bytes, cert.to_armored(), t])?;
                tx.execute("DELETE FROM document_increments WHERE blog_id = ?1", params![blog_id.as_str()])?;
            }
            DocumentWrite::Append(bytes) => {
                tx.execute("UPDATE blogs SET certificate = ?2, updated_at = ?3 WHERE blog_id = ?1", params![blog_id.as_str(), cert.to_armored(), t])?;
                tx.execute(
                    "INSERT INTO document_increments(blog_id, seq, bytes) VALUES (?1, coalesce((SELECT max(seq) + 1 FROM document_increments WHERE blog_id = ?1), 0), ?2)",
                    params![blog_id.as_str(), bytes],
                )?;
            }
            DocumentWrite::Keep => {
                tx.execute("UPDATE blogs SET certificate = ?2, updated_at = ?3 WHERE blog_id = ?1", params![blog_id.as_str(), cert.to_armored(), t])?;
            }
        }
        for s in voided {
            tx.execute("DELETE FROM statements WHERE blog_id = ?1 AND signature = ?2", params![blog_id.as_str(), s.signature])?;
        }
        if !voided.is_empty() {
            tx.execute("DELETE FROM sync_states WHERE blog_id = ?1", params![blog_id.as_str()])?;
        }
        for s in new_statements {
            tx.execute("INSERT OR IGNORE INTO statements(blog_id, signature, statement, received_at) VALUES (?1, ?2, ?3, ?4)", params![blog_id.as_str(), s.signature, s.statement, t])?;
        }
        tx.execute(
            "INSERT INTO sync_states(peer, blog_id, state, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(peer, blog_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            params![peer, blog_id.as_str(), state, t],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The persisted sync state for (peer, blog), if any.
    pub fn sync_state(&self, peer: &str, blog_id: &BlogId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.conn().query_row("SELECT state FROM sync_states WHERE peer = ?1 AND blog_id = ?2", params![peer, blog_id.as_str()], |r| r.get(0)).optional()?)
    }

    /// Forgets the sync state for (peer, blog), so the next session with that peer starts
    /// from nothing and sends every statement. Called after a failed session: the state may
    /// then claim the peer holds changes it refused, and a session built on it would send
    /// changes without the statements that cover them.
    pub fn forget_sync_state(&self, peer: &str, blog_id: &BlogId) -> Result<(), StoreError> {
        self.conn().execute("DELETE FROM sync_states WHERE peer = ?1 AND blog_id = ?2", params![peer, blog_id.as_str()])?;
        Ok(())
    }

    /// Starts keeping a council copy (`mirror`) of a blog another council member holds. The
    /// caller verified the document against `cert`. Returns `false` (and stores nothing) when
    /// the operator dropped the blog.
    pub fn add_mirror(&self, blog_id: &BlogId, cert: &Certificate) -> Result<bool, StoreError> {
        let conn = self.conn();
        if conn.query_row("SELECT 1 FROM dropped_blogs WHERE blog_id = ?1", params![blog_id.as_str()], |_| Ok(())).optional()?.is_some() {
            return Ok(false);
        }
        let t = now();
        conn.execute(
            "INSERT OR IGNORE INTO blogs(blog_id, fingerprint, certificate, document, admitted_at, updated_at, kind) VALUES (?1, ?2, ?3, x'', ?4, ?4, 'mirror')",
            params![blog_id.as_str(), cert.fingerprint(), cert.to_armored(), t],
        )?;
        Ok(true)
    }

    /// How many blogs are held as copies for the council (mirrors).
    pub fn mirror_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn().query_row("SELECT count(*) FROM blogs WHERE kind = 'mirror'", [], |r| r.get::<_, i64>(0))?.max(0) as u64)
    }

    /// Sets a blog's status. Returns whether the blog exists.
    pub fn set_status(&self, blog_id: &BlogId, status: BlogStatus) -> Result<bool, StoreError> {
        Ok(self.conn().execute("UPDATE blogs SET status = ?2, updated_at = ?3 WHERE blog_id = ?1", params![blog_id.as_str(), status, now()])? > 0)
    }

    /// Drops a blog: deletes it with its statements, sync states, drafts and images, and
    /// remembers it so that it is never taken again. Returns whether it was held.
    pub fn drop_blog(&self, blog_id: &BlogId, reason: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute("DELETE FROM blogs WHERE blog_id = ?1", params![blog_id.as_str()])?;
        tx.execute("DELETE FROM sync_states WHERE blog_id = ?1", params![blog_id.as_str()])?;
        tx.execute("DELETE FROM peer_heads WHERE blog_id = ?1", params![blog_id.as_str()])?;
        tx.execute("DELETE FROM peer_offers WHERE blog_id = ?1", params![blog_id.as_str()])?;
        tx.execute("INSERT OR REPLACE INTO dropped_blogs(blog_id, reason, at) VALUES (?1, ?2, ?3)", params![blog_id.as_str(), reason, now()])?;
        tx.commit()?;
        Ok(n > 0)
    }

    /// Deletes a council copy (never a hosted blog) that moved to other members, with its
    /// documents, pictures and what was remembered of peers about it. Unlike
    /// [`Store::drop_blog`] it leaves no mark: the blog may be copied here again later.
    /// Whether a copy was deleted.
    pub fn release_mirror(&self, blog_id: &BlogId) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute("DELETE FROM blogs WHERE blog_id = ?1 AND kind = 'mirror'", params![blog_id.as_str()])?;
        if n > 0 {
            tx.execute("DELETE FROM sync_states WHERE blog_id = ?1", params![blog_id.as_str()])?;
            tx.execute("DELETE FROM peer_heads WHERE blog_id = ?1", params![blog_id.as_str()])?;
            tx.execute("DELETE FROM peer_offers WHERE blog_id = ?1", params![blog_id.as_str()])?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// How many change chunks were appended to a blog's full save, and their bytes.
    pub fn increments(&self, blog_id: &BlogId) -> Result<(u64, u64), StoreError> {
        Ok(self.conn().query_row("SELECT count(*), coalesce(sum(length(bytes)), 0) FROM document_increments WHERE blog_id = ?1", params![blog_id.as_str()], |r| Ok((r.get::<_, i64>(0)?.max(0) as u64, r.get::<_, i64>(1)?.max(0) as u64)))?)
    }

    /// Whether the operator dropped this blog.
    pub fn is_dropped(&self, blog_id: &BlogId) -> Result<bool, StoreError> {
        Ok(self.conn().query_row("SELECT 1 FROM dropped_blogs WHERE blog_id = ?1", params![blog_id.as_str()], |_| Ok(())).optional()?.is_some())
    }

    /// Every blog held, with its size, largest first.
    pub fn blog_sizes(&self) -> Result<Vec<BlogSize>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT b.blog_id, b.kind, b.status, b.updated_at,
                    length(b.document) + length(b.certificate)
                      + coalesce((SELECT sum(length(bytes)) FROM document_increments x WHERE x.blog_id = b.blog_id), 0)
                      + coalesce((SELECT sum(length(statement) + length(signature)) FROM statements s WHERE s.blog_id = b.blog_id), 0)
                      + coalesce((SELECT sum(length(sealed)) FROM sealed_drafts d WHERE d.blog_id = b.blog_id), 0)
                      + coalesce((SELECT sum(length(sealed)) FROM draft_items d WHERE d.blog_id = b.blog_id), 0)
                      + coalesce((SELECT sum(length(bytes)) FROM images i WHERE i.blog_id = b.blog_id), 0)
                      + coalesce((SELECT sum(size) FROM set_posts p WHERE p.blog_id = b.blog_id), 0)
                      + coalesce((SELECT sum(length(manifest)) FROM set_manifests m WHERE m.blog_id = b.blog_id), 0),
                    (SELECT count(*) FROM statements s WHERE s.blog_id = b.blog_id),
                    (SELECT count(*) FROM images i WHERE i.blog_id = b.blog_id)
             FROM blogs b ORDER BY 5 DESC, b.blog_id",
        )?;
        let v = st
            .query_map([], |r| Ok(BlogSize { blog_id: r.get(0)?, kind: r.get(1)?, status: r.get(2)?, updated_at: r.get(3)?, bytes: r.get(4)?, statements: r.get(5)?, images: r.get(6)? }))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    /// Blocks a peer spoke (by endpoint ID).
    pub fn block_peer(&self, endpoint: &str, reason: &str) -> Result<(), StoreError> {
        self.conn().execute("INSERT OR REPLACE INTO blocked_peers(endpoint, reason, at) VALUES (?1, ?2, ?3)", params![endpoint, reason, now()])?;
        Ok(())
    }

    /// SQLite's `quick_check`; returns the number of blogs when the database is sound.
    ///
    /// Errors: [`StoreError::Damaged`] with SQLite's first complaint.
    pub fn quick_check(&self) -> Result<i64, StoreError> {
        let conn = self.conn();
        let r: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if r != "ok" {
            return Err(StoreError::Damaged(r));
        }
        Ok(conn.query_row("SELECT count(*) FROM blogs", [], |r| r.get(0))?)
    }

    /// A blog's kind, if held.
    pub fn kind(&self, blog_id: &BlogId) -> Result<Option<BlogKind>, StoreError> {
        Ok(self.conn().query_row("SELECT kind FROM blogs WHERE blog_id = ?1", params![blog_id.as_str()], |r| r.get(0)).optional()?)
    }

    /// Whether a peer is blocked.
    pub fn is_blocked(&self, endpoint: &str) -> Result<bool, StoreError> {
        Ok(self.conn().query_row("SELECT 1 FROM blocked_peers WHERE endpoint = ?1", params![endpoint], |_| Ok(())).optional()?.is_some())
    }

    /// Admits a new blog in open mode (no invite): binds the blog ID to the certificate.
    /// Returns `false` when the operator dropped that blog.
    pub fn admit_open(&self, blog_id: &BlogId, cert: &Certificate) -> Result<bool, StoreError> {
        let conn = self.conn();
        if conn.query_row("SELECT 1 FROM dropped_blogs WHERE blog_id = ?1", params![blog_id.as_str()], |_| Ok(())).optional()?.is_some() {
            return Ok(false);
        }
        conn.execute(
            "INSERT OR IGNORE INTO blogs(blog_id, fingerprint, certificate, document, admitted_at, updated_at) VALUES (?1, ?2, ?3, x'', ?4, ?4)",
            params![blog_id.as_str(), cert.fingerprint(), cert.to_armored(), now()],
        )?;
        Ok(true)
    }

    /// (blog ID, kind, status) of every blog held.
    pub fn statuses(&self) -> Result<Vec<(BlogId, BlogKind, BlogStatus)>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT blog_id, kind, status FROM blogs")?;
        let v = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, BlogKind>(1)?, r.get::<_, BlogStatus>(2)?)))?.collect::<Result<Vec<_>, _>>()?;
        Ok(v.into_iter().filter_map(|(b, k, s)| b.parse().ok().map(|b| (b, k, s))).collect())
    }

    /// Unblocks a peer. Returns whether it was blocked.
    pub fn unblock_peer(&self, endpoint: &str) -> Result<bool, StoreError> {
        Ok(self.conn().execute("DELETE FROM blocked_peers WHERE endpoint = ?1", params![endpoint])? > 0)
    }

    /// Blocked peers: (endpoint ID, reason, since).
    pub fn blocked_peers(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT endpoint, reason, at FROM blocked_peers ORDER BY at")?;
        let v = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    /// The council's stored membership entries.
    pub fn council_entries(&self) -> Result<Vec<crate::council::SignedEntry>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT entry, signature FROM council_entries ORDER BY hash")?;
        let v = st.query_map([], |r| Ok(crate::council::SignedEntry { entry: r.get(0)?, signature: r.get(1)? }))?.collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    /// Stores membership entries (the caller verified them); known ones are ignored.
    pub fn put_council_entries(&self, entries: &[crate::council::SignedEntry]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let t = now();
        for e in entries {
            tx.execute("INSERT OR IGNORE INTO council_entries(hash, entry, signature, received_at) VALUES (?1, ?2, ?3, ?4)", params![e.hash(), e.entry, e.signature, t])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records what a newcomer's self-test reported when it joined (JSON text of at most 16 KiB,
    /// the caller bounds it), replacing an earlier report.
    pub fn put_council_ready(&self, endpoint: &str, report: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO council_ready(endpoint, report, at) VALUES (?1, ?2, ?3) ON CONFLICT(endpoint) DO UPDATE SET report = excluded.report, at = excluded.at",
            params![endpoint, report, chrono::Utc::now().timestamp()],
        )?;
        Ok(())
    }

    /// Every newcomer's report: (endpoint, report JSON text, Unix seconds).
    pub fn council_ready(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT endpoint, report, at FROM council_ready ORDER BY at")?;
        let v = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    /// Creates a council invite token with `uses` uses, valid until `expires_at` (Unix seconds).
    pub fn create_council_invite(&self, uses: u32, expires_at: Option<i64>) -> Result<String, StoreError> {
        let token = hex::encode(rand::random::<[u8; 16]>());
        self.conn().execute("INSERT INTO council_invites(token, uses_left, expires_at, created_at) VALUES (?1, ?2, ?3, ?4)", params![token, uses, expires_at, now()])?;
        Ok(token)
    }

    /// Consumes one use of a council invite. Returns `false` if unknown, used up or expired.
    pub fn take_council_invite(&self, token: &str) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "UPDATE council_invites SET uses_left = uses_left - 1 WHERE token = ?1 AND uses_left > 0 AND (expires_at IS NULL OR expires_at > ?2)",
            params![token, unix_now()],
        )? > 0)
    }

    /// The heads `peer` last offered for `blog_id` in its catalog (hex), if any.
    pub fn peer_heads(&self, peer: &str, blog_id: &BlogId) -> Result<Option<Vec<String>>, StoreError> {
        let text: Option<String> = self.conn().query_row("SELECT heads FROM peer_heads WHERE peer = ?1 AND blog_id = ?2", params![peer, blog_id.as_str()], |r| r.get(0)).optional()?;
        Ok(text.map(|t| t.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect()))
    }

    /// The highest manifest `rev` `peer` offered for each set blog in a sealed catalog.
    pub fn offered_revs(&self, peer: &str) -> Result<std::collections::HashMap<BlogId, u64>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached("SELECT blog_id, rev FROM peer_offers WHERE peer = ?1")?;
        let rows = st.query_map(params![peer], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        let mut out = std::collections::HashMap::new();
        for row in rows {
            let (blog, rev) = row?;
            if let Ok(b) = blog.parse::<BlogId>() {
                out.insert(b, rev.max(0) as u64);
            }
        }
        Ok(out)
    }

    /// Keeps, per blog, `peer`'s sealed offer (JSON) at `rev`, in one transaction.
    pub fn put_offers(&self, peer: &str, offers: &[(BlogId, u64, String)]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut st = tx.prepare_cached("INSERT OR REPLACE INTO peer_offers(peer, blog_id, rev, offer) VALUES (?1, ?2, ?3, ?4)")?;
            for (blog, rev, offer) in offers {
                st.execute(params![peer, blog.as_str(), i64::try_from(*rev).unwrap_or(i64::MAX), offer])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// `peer`'s kept sealed offer of `blog_id` (JSON), if any.
    pub fn offer(&self, peer: &str, blog_id: &BlogId) -> Result<Option<String>, StoreError> {
        Ok(self.conn().query_row("SELECT offer FROM peer_offers WHERE peer = ?1 AND blog_id = ?2", params![peer, blog_id.as_str()], |r| r.get(0)).optional()?)
    }

    /// Remembers the heads (hex) `peer` offered for `blog_id`.
    pub fn set_peer_heads(&self, peer: &str, blog_id: &BlogId, heads: &[String]) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO peer_heads(peer, blog_id, heads, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(peer, blog_id) DO UPDATE SET heads = excluded.heads, updated_at = excluded.updated_at",
            params![peer, blog_id.as_str(), heads.join(","), now()],
        )?;
        Ok(())
    }

    /// Blogs held per kind: (`hosted` count, `mirror` count).
    pub fn blog_counts(&self) -> Result<(i64, i64), StoreError> {
        Ok(self.conn().query_row("SELECT coalesce(sum(kind = 'hosted'), 0), coalesce(sum(kind = 'mirror'), 0) FROM blogs", [], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }

    /// Records a refused session. The same refusal (peer, blog, code and reason: the same
    /// refused data) recorded in the last [`REFUSAL_REPEAT_SECS`] is not recorded again, so a
    /// peer that offers the same bad data every round does not fill the disk.
    pub fn record_refusal(&self, peer: &str, blog_id: Option<&BlogId>, code: Code, reason: &str) -> Result<(), StoreError> {
        let conn = self.conn();
        let blog = blog_id.map(|b| b.as_str().to_owned());
        let since = (chrono::Utc::now() - chrono::Duration::seconds(REFUSAL_REPEAT_SECS)).to_rfc3339();
        let repeated = conn
            .query_row(
                "SELECT 1 FROM refusals WHERE peer = ?1 AND blog_id IS ?2 AND code = ?3 AND reason = ?4 AND at > ?5 LIMIT 1",
                params![peer, blog, code.as_str(), reason, since],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !repeated {
            conn.execute("INSERT INTO refusals(at, peer, blog_id, code, reason) VALUES (?1, ?2, ?3, ?4, ?5)", params![now(), peer, blog, code.as_str(), reason])?;
        }
        Ok(())
    }

    /// How many council entries are stored.
    pub fn council_entry_count(&self) -> Result<i64, StoreError> {
        Ok(self.conn().query_row("SELECT count(*) FROM council_entries", [], |r| r.get(0))?)
    }

    /// The newest refusals, newest first.
    pub fn refusals(&self, limit: u32) -> Result<Vec<Refusal>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT at, peer, blog_id, code, reason FROM refusals ORDER BY id DESC LIMIT ?1")?;
        let v = st
            .query_map(params![limit], |r| Ok(Refusal { at: r.get(0)?, peer: r.get(1)?, blog_id: r.get(2)?, code: Code::parse(&r.get::<_, String>(3)?), reason: r.get(4)? }))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }
}

/// Writes listings of a set blog's posts inside `tx`: (post ID, listing); a post whose
/// document is not stored gets none.
fn put_listings(tx: &rusqlite::Transaction<'_>, blog_id: &str, listings: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
    for (id, bytes) in listings {
        tx.execute("UPDATE set_posts SET listing = ?3 WHERE blog_id = ?1 AND post_id = ?2", params![blog_id, id, bytes])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invites_admit_once_and_bind_the_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("spoke.db")).unwrap();
        let token = store.create_invite(1, None, None).unwrap();
        let cert = spokes_core::Identity::generate("Ada", "pw").unwrap().certificate();
        let blog = BlogId::generate();
        assert!(store.admit(&token, &blog, &cert).unwrap());
        assert!(!store.admit(&token, &BlogId::generate(), &cert).unwrap(), "single use");
        assert!(!store.admit("nope", &BlogId::generate(), &cert).unwrap());
        let b = store.blog(&blog).unwrap().unwrap();
        assert_eq!(b.fingerprint, cert.fingerprint());
        assert_eq!(store.blog_ids().unwrap(), vec![blog]);
    }

    #[test]
    fn a_released_council_copy_leaves_no_mark_and_a_hosted_blog_is_never_released() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("spoke.db")).unwrap();
        let cert = spokes_core::Identity::generate("Ada", "pw").unwrap().certificate();
        let mirror = BlogId::generate();
        assert!(store.add_mirror(&mirror, &cert).unwrap());
        store.put_image(&mirror, &format!("{}.png", "cd".repeat(32)).parse().unwrap(), &[1u8; 100]).unwrap();
        store.set_peer_heads("peer-a", &mirror, &["aa".repeat(32)]).unwrap();
        assert!(store.release_mirror(&mirror).unwrap());
        assert_eq!(store.kind(&mirror).unwrap(), None);
        assert!(!store.is_dropped(&mirror).unwrap());
        assert_eq!(store.peer_heads("peer-a", &mirror).unwrap(), None);
        assert_eq!(store.blog_sizes().unwrap().len(), 0, "its pictures went with it");
        assert!(store.add_mirror(&mirror, &cert).unwrap(), "it may be copied here again");
        let token = store.create_invite(1, None, None).unwrap();
        let hosted = BlogId::generate();
        assert!(store.admit(&token, &hosted, &cert).unwrap());
        assert!(!store.release_mirror(&hosted).unwrap());
        assert_eq!(store.kind(&hosted).unwrap(), Some(BlogKind::Hosted));
    }

    #[test]
    fn expired_invites_dropped_blogs_blocks_sizes_and_repeated_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("spoke.db")).unwrap();
        let cert = spokes_core::Identity::generate("Ada", "pw").unwrap().certificate();
        let past = chrono::Utc::now().timestamp() - 1;
        let expired = store.create_invite(5, None, Some(past)).unwrap();
        assert!(!store.invite_valid(&expired).unwrap());
        assert!(!store.admit(&expired, &BlogId::generate(), &cert).unwrap(), "an expired invite admits nobody");
        let good = store.create_invite(2, None, Some(past + 3600)).unwrap();
        let blog = BlogId::generate();
        assert!(store.admit(&good, &blog, &cert).unwrap());
        // A council copy, then sizes by kind.
        let mirror = BlogId::generate();
        assert!(store.add_mirror(&mirror, &cert).unwrap());
        assert_eq!(store.kind(&mirror).unwrap(), Some(BlogKind::Mirror));
        assert_eq!(store.blog_counts().unwrap(), (1, 1));
        store.put_image(&blog, &format!("{}.png", "ab".repeat(32)).parse().unwrap(), &[0u8; 5000]).unwrap();
        let sizes = store.blog_sizes().unwrap();
        assert_eq!(sizes[0].blog_id, blog.as_str(), "largest first");
        assert!(sizes[0].bytes > 5000 && sizes[0].images == 1);
        // Dropped: gone, and never taken again as a council copy or in open mode.
        assert!(store.drop_blog(&mirror, "spam").unwrap());
        assert!(store.is_dropped(&mirror).unwrap());
        assert!(!store.add_mirror(&mirror, &cert).unwrap());
        assert!(!store.admit_open(&mirror, &cert).unwrap());
        assert_eq!(store.kind(&mirror).unwrap(), None);
        // Suspend and block.
        assert!(store.set_status(&blog, BlogStatus::Suspended).unwrap());
        assert_eq!(store.statuses().unwrap(), vec![(blog.clone(), BlogKind::Hosted, BlogStatus::Suspended)]);
        store.block_peer("peer-x", "testing").unwrap();
        assert!(store.is_blocked("peer-x").unwrap());
        assert!(store.unblock_peer("peer-x").unwrap() && !store.is_blocked("peer-x").unwrap());
        // The same refusal twice in a row is kept once; another reason is kept.
        for _ in 0..3 {
            store.record_refusal("peer-y", Some(&blog), Code::BadSignature, "statement 1 does not verify").unwrap();
        }
        store.record_refusal("peer-y", Some(&blog), Code::BadSignature, "statement 2 does not verify").unwrap();
        assert_eq!(store.refusals(10).unwrap().len(), 2);
        // Council invites run out.
        let t = store.create_council_invite(1, None).unwrap();
        assert!(store.take_council_invite(&t).unwrap());
        assert!(!store.take_council_invite(&t).unwrap());
    }

    #[test]
    fn appended_changes_follow_the_full_save_until_a_new_one_replaces_them() {
        use automerge::ReadDoc;
        use automerge::transaction::Transactable;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("spoke.db")).unwrap();
        let cert = spokes_core::Identity::generate("Ada", "pw").unwrap().certificate();
        let blog = BlogId::generate();
        assert!(store.admit_open(&blog, &cert).unwrap());
        let mut doc = spokes_core::doc::empty_automerge();
        doc.put(automerge::ROOT, "n", 0).unwrap();
        doc.commit();
        let save = |store: &Store, w: DocumentWrite| store.save_session(&blog, &w, &cert, StatementChanges::default(), "peer", b"state").unwrap();
        save(&store, DocumentWrite::Replace(doc.save()));
        let mut heads = doc.get_heads();
        for i in 1..4 {
            doc.put(automerge::ROOT, "n", i).unwrap();
            doc.commit();
            save(&store, DocumentWrite::Append(doc.save_after(&heads)));
            heads = doc.get_heads();
        }
        save(&store, DocumentWrite::Keep);
        assert_eq!(store.increments(&blog).unwrap().0, 3);
        // The stored document is the save followed by the appended changes, in order.
        let mut back = spokes_core::doc::load_automerge(&store.blog(&blog).unwrap().unwrap().document).unwrap();
        assert_eq!(back.get_heads(), doc.get_heads());
        assert_eq!(back.get(automerge::ROOT, "n").unwrap().unwrap().0.as_i64(), Some(3));
        // A full save replaces them; the sizes count both parts.
        assert!(store.blog_sizes().unwrap()[0].bytes > 0);
        save(&store, DocumentWrite::Replace(doc.save()));
        assert_eq!(store.increments(&blog).unwrap(), (0, 0));
        assert_eq!(spokes_core::doc::load_automerge(&store.blog(&blog).unwrap().unwrap().document).unwrap().get_heads(), doc.get_heads());
        // Dropping the blog drops its appended changes too.
        save(&store, DocumentWrite::Append(b"x".to_vec()));
        assert!(store.drop_blog(&blog, "gone").unwrap());
        assert_eq!(store.increments(&blog).unwrap(), (0, 0));
    }

    #[test]
    fn a_version_3_database_is_upgraded_and_keeps_its_blogs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("spoke.db");
        {
            let conn = Connection::open(&p).unwrap();
            conn.execute_batch(
                "CREATE TABLE blogs(blog_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, certificate BLOB NOT NULL,
                    document BLOB NOT NULL, status TEXT NOT NULL DEFAULT 'active', admitted_at TEXT NOT NULL, updated_at TEXT NOT NULL);
                 CREATE TABLE statements(blog_id TEXT NOT NULL, signature BLOB NOT NULL, statement TEXT NOT NULL, received_at TEXT NOT NULL, PRIMARY KEY(blog_id, signature));
                 CREATE TABLE invites(token TEXT PRIMARY KEY, uses_left INTEGER NOT NULL, created_at TEXT NOT NULL, note TEXT);
                 CREATE TABLE sync_states(peer TEXT NOT NULL, blog_id TEXT NOT NULL, state BLOB NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY(peer, blog_id));
                 CREATE TABLE refusals(id INTEGER PRIMARY KEY, at TEXT NOT NULL, peer TEXT NOT NULL, blog_id TEXT, code TEXT NOT NULL, reason TEXT NOT NULL);
                 CREATE TABLE sealed_drafts(blog_id TEXT NOT NULL, device TEXT NOT NULL, sealed BLOB NOT NULL, signed_at INTEGER NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY(blog_id, device));
                 CREATE TABLE images(blog_id TEXT NOT NULL, name TEXT NOT NULL, bytes BLOB NOT NULL, received_at TEXT NOT NULL, PRIMARY KEY(blog_id, name));
                 INSERT INTO invites VALUES ('tok', 1, 'then', NULL);
                 PRAGMA user_version = 3;",
            )
            .unwrap();
        }
        let cert = spokes_core::Identity::generate("Ada", "pw").unwrap().certificate();
        let blog = BlogId::generate();
        let store = Store::open(&p).unwrap();
        assert!(store.invite_valid("tok").unwrap(), "an old invite (no expiry) still admits");
        assert!(store.admit("tok", &blog, &cert).unwrap());
        assert_eq!(store.kind(&blog).unwrap(), Some(BlogKind::Hosted));
        assert_eq!(store.council_entry_count().unwrap(), 0);
        drop(store);
        let v: i64 = Connection::open(&p).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, STORE_SCHEMA);
    }

    #[test]
    fn a_set_keeps_only_the_pictures_named_and_counts_an_edited_post_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("spoke.db")).unwrap();
        let cert = spokes_core::Identity::generate("Ada", "pw").unwrap().certificate();
        let blog = BlogId::generate();
        assert!(store.admit_open(&blog, &cert).unwrap());
        let [kept, dropped]: [ImageName; 2] = ["ab", "cd"].map(|h| format!("{}.png", h.repeat(32)).parse().unwrap());
        for i in [&kept, &dropped] {
            store.put_image(&blog, i, &[1u8; 10]).unwrap();
        }
        let changed = vec![("a".repeat(16), vec![0u8; 100]), ("b".repeat(16), vec![0u8; 50])];
        let keep: std::collections::BTreeSet<ImageName> = [kept.clone()].into();
        store.save_set(&blog, &cert, SetWrite { frontier: &[], recent: &[], anchor: None, changed: &changed, forgotten: &[], keep_images: Some(&keep), listings: &[] }).unwrap();
        assert_eq!(store.set_bytes(&blog, &[]).unwrap(), 150);
        // The post about to be replaced is left out; an unknown one changes nothing.
        assert_eq!(store.set_bytes(&blog, &[&"a".repeat(16), "f00dfeedf00dfeed"]).unwrap(), 50);
        // The operator's sizes count the post documents too (and the one picture left).
        assert!(store.blog_sizes().unwrap()[0].bytes >= 160);
        let changed = vec![("a".repeat(16), vec![0u8; 30])];
        store.save_set(&blog, &cert, SetWrite { frontier: &[], recent: &[], anchor: None, changed: &changed, forgotten: &["b".repeat(16)], keep_images: None, listings: &[] }).unwrap();
        assert_eq!(store.set_bytes(&blog, &[]).unwrap(), 30, "a replaced document's old size and a forgotten one's are gone");
        let names: Vec<String> = {
            let conn = store.conn();
            let mut st = conn.prepare("SELECT name FROM images WHERE blog_id = ?1").unwrap();
            st.query_map(params![blog.as_str()], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
        };
        assert_eq!(names, vec![kept.to_string()], "the picture no post shows is gone");
    }

    #[test]
    fn a_version_7_database_gains_listings_and_a_replaced_document_loses_its_listing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("spoke.db");
        let cert = spokes_core::Identity::generate("Ada", "pw").unwrap().certificate();
        let blog = BlogId::generate();
        let id = "a".repeat(16);
        {
            let store = Store::open(&p).unwrap();
            assert!(store.admit_open(&blog, &cert).unwrap());
            let changed = vec![(id.clone(), vec![1u8; 40])];
            store.save_set(&blog, &cert, SetWrite { frontier: &[], recent: &[], anchor: None, changed: &changed, forgotten: &[], keep_images: None, listings: &[] }).unwrap();
            // As version 7 left it.
            store.conn().execute_batch("ALTER TABLE set_posts DROP COLUMN listing; ALTER TABLE set_manifests DROP COLUMN base; PRAGMA user_version = 7;").unwrap();
        }
        let store = Store::open(&p).unwrap();
        assert_eq!(store.set_post(&blog, &id).unwrap(), Some(vec![1u8; 40]), "the document is kept");
        assert!(store.set_listings(&blog).unwrap().is_empty(), "no listing until one is rendered");
        store.put_set_listings(&blog, &[(id.clone(), b"listed".to_vec()), ("b".repeat(16), b"no document".to_vec())]).unwrap();
        assert_eq!(store.set_listings(&blog).unwrap(), vec![(id.clone(), b"listed".to_vec())], "only a stored post gets one");
        // A new document without a listing drops the old one; with one, it is stored.
        let changed = vec![(id.clone(), vec![2u8; 40])];
        store.save_set(&blog, &cert, SetWrite { frontier: &[], recent: &[], anchor: None, changed: &changed, forgotten: &[], keep_images: None, listings: &[] }).unwrap();
        assert!(store.set_listings(&blog).unwrap().is_empty());
        let listings = vec![(id.clone(), b"new".to_vec())];
        store.save_set(&blog, &cert, SetWrite { frontier: &[], recent: &[], anchor: None, changed: &changed, forgotten: &[], keep_images: None, listings: &listings }).unwrap();
        assert_eq!(store.set_listings(&blog).unwrap(), listings);
        drop(store);
        let v: i64 = Connection::open(&p).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, STORE_SCHEMA);
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("spoke.db");
        Connection::open(&p).unwrap().pragma_update(None, "user_version", STORE_SCHEMA + 1).unwrap();
        assert!(matches!(Store::open(&p), Err(StoreError::NewerSchema(v)) if v == STORE_SCHEMA + 1));
    }
}
