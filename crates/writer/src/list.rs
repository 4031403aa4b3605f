//! The post list (profile layout 5): `drafts/list.sqlite`, one SQLite row per post and a copy
//! of the blog's settings, so that opening a blog of any size reads a few hundred kilobytes
//! of rows instead of a document.
//!
//! The list is this computer's own and never travels: it is written from each post's
//! document ([`crate::drafts`]) after every change, in the same call, and from the published
//! blog document for what readers see. It can always be made again from them: a list that
//! is missing, or was left by a build that did not finish, is rebuilt from the post
//! documents when it is next used ([`crate::Profile::posts`]).
//!
//! Rows: `id` (the post ID), `slug`, `entry` (the post without its text, as JSON: the
//! fields of [`spokes_core::Post`]), `deleted_at` (in the bin since, RFC 3339; `NULL` when
//! not) and `published` (`NULL` while readers do not see the post; else the post's
//! [`stamp`] when it was last published, `''` when that is not known). The database's
//! `user_version` is the list's version ([`LIST_VERSION`]); 0 means not built yet.
//!
//! Three more tables remember the drafts exchange by item (`spokes/drafts/2`,
//! [`crate::drafts_sync`]): `drafts_sent` (what this computer left, by its document's heads),
//! `drafts_taken` (what it took from its other computers) and `item_heads` (each document's
//! heads as last read, kept while its files are unchanged, so that an exchange reads no
//! document that did not change). Lost, they cost one exchange of every item again.

use crate::profile::PostSummary;
use rusqlite::{Connection, OptionalExtension, params};
use spokes_core::Post;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The list's file, in the profile folder.
pub const LIST_FILE: &str = "drafts/list.sqlite";

/// The version of the list's tables this build writes (the database's `user_version`).
pub const LIST_VERSION: i64 = 1;

/// How long a write waits for another process (the CLI beside the app) to finish its own.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Errors of the post list.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// SQLite could not open, read or write the file.
    #[error("the post list {path} could not be used: {source}")]
    Sqlite {
        /// The list's file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file was written by a newer version of Spokes.
    #[error("the post list {path} was written by a newer version of Spokes (version {found})")]
    Newer {
        /// The list's file.
        path: PathBuf,
        /// Its version.
        found: i64,
    },
}

/// One row to write: a post (its text is not kept) and when it went to the bin.
pub(crate) struct Row<'a> {
    pub post: &'a Post,
    pub deleted_at: Option<&'a str>,
}

/// The stamp of a post's version: its `updated` time as RFC 3339. A post is "changed since
/// published" when its stamp differs from the one recorded at its last publish.
pub(crate) fn stamp(p: &Post) -> String {
    p.updated.to_rfc3339()
}

/// The post list of one profile. Opened on first use; clones of a profile share it.
#[derive(Debug)]
pub(crate) struct PostList {
    path: PathBuf,
    conn: Mutex<Option<Connection>>,
    /// Writes made through this connection ([`PostList::version`]).
    writes: AtomicU64,
}

impl PostList {
    /// The list of the profile in `dir` (nothing is opened yet).
    pub(crate) fn new(dir: &Path) -> PostList {
        PostList { path: dir.join(LIST_FILE), conn: Mutex::new(None), writes: AtomicU64::new(0) }
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> ListError + '_ {
        |source| ListError::Sqlite { path: self.path.clone(), source }
    }

    /// Runs `f` on the open connection, opening the file first if needed. Returns `f`'s
    /// result and whether the list is built (`user_version` set).
    fn with<R>(&self, f: impl FnOnce(&mut Connection, bool) -> rusqlite::Result<R>) -> Result<R, ListError> {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            if let Some(parent) = self.path.parent() {
                crate::fsutil::private_dir(parent).map_err(|e| ListError::Sqlite { path: self.path.clone(), source: rusqlite::Error::InvalidPath(format!("{}: {e}", parent.display()).into()) })?;
            }
            let c = match open(&self.path) {
                // A file that is not a database (a broken disk, a stray copy) is moved aside and
                // the list made again: nothing in it is not also in the documents.
                Err(e) if matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)) => {
                    let aside = self.path.with_extension("sqlite.damaged");
                    tracing::warn!(path = %self.path.display(), error = %e, "the post list is damaged; it is made again from the documents");
                    for suffix in ["", "-wal", "-shm"] {
                        let from = PathBuf::from(format!("{}{suffix}", self.path.display()));
                        let _ = std::fs::rename(&from, PathBuf::from(format!("{}{suffix}", aside.display())));
                    }
                    open(&self.path).map_err(self.err())?
                }
                r => r.map_err(self.err())?,
            };
            *guard = Some(c);
        }
        let Some(c) = guard.as_mut() else { unreachable!("opened above") };
        let version: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(self.err())?;
        if version > LIST_VERSION {
            return Err(ListError::Newer { path: self.path.clone(), found: version });
        }
        f(c, version == LIST_VERSION).map_err(self.err())
    }

    /// Whether the list is built.
    pub(crate) fn is_built(&self) -> Result<bool, ListError> {
        self.with(|_, built| Ok(built))
    }

    /// Replaces the whole list with `rows` and `settings` and marks it built, in one
    /// transaction: another process sees the old list or the new one. `published`: the
    /// published stamp of each post that readers see.
    pub(crate) fn build(&self, rows: &[Row], published: &std::collections::HashMap<String, String>, settings: &spokes_core::BlogSettings) -> Result<(), ListError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.with(|c, _| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM posts", [])?;
            {
                let mut put = tx.prepare("INSERT OR REPLACE INTO posts (id, slug, entry, deleted_at, published) VALUES (?1, ?2, ?3, ?4, ?5)")?;
                for r in rows {
                    put.execute(params![r.post.id, r.post.slug, entry_json(r.post), r.deleted_at, published.get(&r.post.id)])?;
                }
            }
            tx.execute("INSERT OR REPLACE INTO settings (one, json) VALUES (1, ?1)", [serde_json::to_string(settings).unwrap_or_default()])?;
            tx.pragma_update(None, "user_version", LIST_VERSION)?;
            tx.commit()
        })
    }

    /// Writes the rows of `rows` (their `published` mark kept), in one transaction.
    pub(crate) fn put(&self, rows: &[Row]) -> Result<(), ListError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.with(|c, _| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            {
                let mut put = tx.prepare_cached(
                    "INSERT INTO posts (id, slug, entry, deleted_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, entry = excluded.entry, deleted_at = excluded.deleted_at",
                )?;
                for r in rows {
                    put.execute(params![r.post.id, r.post.slug, entry_json(r.post), r.deleted_at])?;
                }
            }
            tx.commit()
        })
    }

    /// Removes post `id`'s row.
    pub(crate) fn remove(&self, id: &str) -> Result<(), ListError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.with(|c, _| c.execute("DELETE FROM posts WHERE id = ?1", [id]).map(|_| ()))
    }

    /// Records what readers see: for each post, `Some(stamp)` when it is published as of
    /// that stamp, `None` when it is not shown. Posts without a row are skipped.
    pub(crate) fn mark_published(&self, marks: &[(String, Option<String>)]) -> Result<(), ListError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.with(|c, _| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            {
                let mut set = tx.prepare_cached("UPDATE posts SET published = ?2 WHERE id = ?1")?;
                for (id, mark) in marks {
                    set.execute(params![id, mark])?;
                }
            }
            tx.commit()
        })
    }

    /// The published stamp of post `id` (`None`: not shown, or no such post).
    pub(crate) fn published_stamp(&self, id: &str) -> Result<Option<String>, ListError> {
        self.with(|c, _| c.query_row("SELECT published FROM posts WHERE id = ?1", [id], |r| r.get::<_, Option<String>>(0)).optional().map(Option::flatten))
    }

    /// Every post ID, in the bin too.
    pub(crate) fn ids(&self) -> Result<Vec<String>, ListError> {
        self.with(|c, _| c.prepare_cached("SELECT id FROM posts ORDER BY id")?.query_map([], |r| r.get(0))?.collect())
    }

    /// Whether post `id` has a row.
    pub(crate) fn has(&self, id: &str) -> Result<bool, ListError> {
        self.with(|c, _| c.query_row("SELECT 1 FROM posts WHERE id = ?1", [id], |_| Ok(())).optional().map(|r| r.is_some()))
    }

    /// The slugs of every post but `except`.
    pub(crate) fn slugs_except(&self, except: &str) -> Result<HashSet<String>, ListError> {
        self.with(|c, _| c.prepare_cached("SELECT slug FROM posts WHERE id <> ?1")?.query_map([except], |r| r.get(0))?.collect())
    }

    /// Every post not in the bin, newest `date` first (ties by ID), with its marks.
    pub(crate) fn summaries(&self) -> Result<Vec<PostSummary>, ListError> {
        let mut out: Vec<PostSummary> = self.with(|c, _| {
            c.prepare_cached("SELECT entry, published FROM posts WHERE deleted_at IS NULL OR deleted_at = ''")?
                .query_map([], |r| {
                    let entry: String = r.get(0)?;
                    let published: Option<String> = r.get(1)?;
                    Ok((entry, published))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
        })?
        .into_iter()
        .filter_map(|(entry, published)| {
            // A row this build cannot read is left out (the list is rebuilt from the
            // documents if it is damaged: see `Profile::rebuild_list`).
            let post: Post = serde_json::from_str(&entry).ok()?;
            let changed = published.as_deref() != Some(stamp(&post).as_str());
            Some(PostSummary { published: published.is_some(), changed_since_published: changed, post })
        })
        .collect();
        out.sort_by(|a, b| b.post.date.cmp(&a.post.date).then_with(|| a.post.id.cmp(&b.post.id)));
        Ok(out)
    }

    /// The blog's settings as last written by [`PostList::set_settings`] or a build.
    pub(crate) fn settings(&self) -> Result<Option<spokes_core::BlogSettings>, ListError> {
        let json: Option<String> = self.with(|c, _| c.query_row("SELECT json FROM settings WHERE one = 1", [], |r| r.get(0)).optional())?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    /// Keeps a copy of the blog's settings (the drafts index holds them).
    pub(crate) fn set_settings(&self, settings: &spokes_core::BlogSettings) -> Result<(), ListError> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.with(|c, _| c.execute("INSERT OR REPLACE INTO settings (one, json) VALUES (1, ?1)", [serde_json::to_string(settings).unwrap_or_default()]).map(|_| ()))
    }

    /// A number that changes whenever the list changes, here or in another process (SQLite's
    /// `data_version` and this connection's writes): what the post list's memo is keyed by.
    pub(crate) fn version(&self) -> Result<(i64, u64), ListError> {
        let data: i64 = self.with(|c, _| c.pragma_query_value(None, "data_version", |r| r.get(0)))?;
        Ok((data, self.writes.load(Ordering::Relaxed)))
    }
}

/// Opens (creating if needed) the list's file with its tables.
fn open(path: &Path) -> rusqlite::Result<Connection> {
    // Made private before SQLite first writes it: its `-wal` and `-shm` files take the
    // database file's permissions.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let _ = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path);
    }
    let c = Connection::open(path)?;
    c.busy_timeout(BUSY_WAIT)?;
    // WAL: readers never wait for a writer; NORMAL: a commit survives the process being
    // killed, and the list is made again from the documents after a power cut.
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "NORMAL")?;
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS posts (id TEXT PRIMARY KEY NOT NULL, slug TEXT NOT NULL, entry TEXT NOT NULL, deleted_at TEXT, published TEXT) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS settings (one INTEGER PRIMARY KEY CHECK (one = 1), json TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS drafts_sent (item TEXT PRIMARY KEY NOT NULL, stamp TEXT NOT NULL, hash TEXT NOT NULL) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS drafts_taken (device TEXT NOT NULL, item TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (device, item)) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS item_heads (item TEXT PRIMARY KEY NOT NULL, file_stamp TEXT NOT NULL, heads TEXT NOT NULL) WITHOUT ROWID;",
    )?;
    Ok(c)
}

impl PostList {
    /// What this computer last left with its spokes as draft items (`spokes/drafts/2`): per
    /// item, the heads of its document then (sorted hex, comma-separated) and the BLAKE3 hash
    /// (hex) of the sealed bytes, or `=device:hash` for another computer's item that stands
    /// for this one's.
    pub(crate) fn drafts_sent(&self) -> Result<HashMap<String, (String, String)>, ListError> {
        self.with(|c, _| c.prepare_cached("SELECT item, stamp, hash FROM drafts_sent")?.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?.collect())
    }

    /// Records items left: (item, heads, hash).
    pub(crate) fn set_drafts_sent(&self, sent: &[(String, String, String)]) -> Result<(), ListError> {
        self.put_triples("INSERT OR REPLACE INTO drafts_sent (item, stamp, hash) VALUES (?1, ?2, ?3)", sent)
    }

    /// Runs `sql` (three parameters) for each of `rows`, in one transaction.
    fn put_triples(&self, sql: &str, rows: &[(String, String, String)]) -> Result<(), ListError> {
        self.with(|c, _| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            {
                let mut put = tx.prepare_cached(sql)?;
                for (a, b, c) in rows {
                    put.execute(params![a, b, c])?;
                }
            }
            tx.commit()
        })
    }

    /// The heads of each draft item's document as last read, with the stamp of its files then
    /// ([`crate::Profile::draft_item_stamp`]): while the files keep that stamp, the heads are
    /// known without loading the document.
    pub(crate) fn item_heads(&self) -> Result<HashMap<String, (String, String)>, ListError> {
        self.with(|c, _| c.prepare_cached("SELECT item, file_stamp, heads FROM item_heads")?.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?.collect())
    }

    /// Records heads read: (item, file stamp, heads).
    pub(crate) fn set_item_heads(&self, rows: &[(String, String, String)]) -> Result<(), ListError> {
        self.put_triples("INSERT OR REPLACE INTO item_heads (item, file_stamp, heads) VALUES (?1, ?2, ?3)", rows)
    }

    /// The other devices' items this computer took in last: (device, item) → hash (hex).
    pub(crate) fn drafts_taken(&self) -> Result<HashMap<(String, String), String>, ListError> {
        self.with(|c, _| c.prepare_cached("SELECT device, item, hash FROM drafts_taken")?.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?.collect())
    }

    /// Records items taken in: (device, item, hash).
    pub(crate) fn set_drafts_taken(&self, taken: &[(String, String, String)]) -> Result<(), ListError> {
        self.put_triples("INSERT OR REPLACE INTO drafts_taken (device, item, hash) VALUES (?1, ?2, ?3)", taken)
    }
}

/// A post without its text, as a row's `entry`.
fn entry_json(p: &Post) -> String {
    let bare = Post { id: p.id.clone(), title: p.title.clone(), body: String::new(), slug: p.slug.clone(), tags: p.tags.clone(), date: p.date, updated: p.updated, state: p.state };
    serde_json::to_string(&bare).unwrap_or_default()
}
