//! The profile's documents, held in memory and written to disk as they change: the blog,
//! the drafts index and the drafts' per-post documents (at most [`POSTS_HELD`] of those in
//! memory at once; see [`crate::drafts`]).
//!
//! Each document is two files:
//!
//! - `<name>.automerge`: a full save (Automerge document format), replaced atomically;
//! - `<name>.automerge.log`: Automerge change chunks appended since that save, one append per
//!   saved edit (an autosave costs the size of the change, not of the document).
//!
//! Loading reads the full save, then applies the log's complete chunks; a chunk torn by a crash
//! in the middle of an append is skipped (that one autosave is lost, nothing before it), and
//! the document is then written in full at once, so later appends never follow torn bytes. When
//! the log grows past the size of the full save, or holds more than [`MAX_LOG_OPS`] operations
//! (Automerge applies a log change by change, far slower than it loads a full save: a log of a
//! few pasted long posts took 40 s to load), the document is saved whole and the log
//! removed ("compaction"); a crash between the two leaves changes in both, which loading
//! applies once. Appends are not fsynced one by one (they survive the app being killed);
//! [`DocStore::sync_logs`] flushes them, and the app calls it a few seconds after the writer
//! pauses, so a power cut loses at most what was typed since. Compaction is fsynced.
//!
//! Another process (the CLI beside the app) may write the same files. Every access takes
//! the document's lock file (`<name>.automerge.lock`, an exclusive `flock`, so a second
//! writer waits for the first), compares the files' sizes and modification times with what
//! this process last saw and, if they differ, merges the files into the held document first;
//! it writes before it lets go. So a compaction never removes an append it has not merged.

use crate::fsutil::write_atomic;
use automerge::ChangeHash;
use spokes_core::BlogDoc;
use spokes_core::doc::ops_after;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Appended bytes below this never trigger compaction.
const MIN_COMPACT_BYTES: u64 = 256 * 1024;

/// The most operations the log holds before compaction: applying them at load takes about
/// half a second (Automerge applies 200,000 to 500,000 operations a second change by change).
pub const MAX_LOG_OPS: u64 = 100_000;

/// Errors of the document store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("could not use {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The full save is not a readable document.
    #[error("{path} is damaged: {message}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Which of the profile's documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// `blog.automerge`: the signed, published blog.
    Blog,
    /// `drafts.automerge`: the drafts as one document (profile layout 3 and earlier; read
    /// only to move them to [`Which::Index`] and per-post documents, see [`crate::drafts`]).
    Drafts,
    /// `drafts/index.automerge`: the drafts' settings and every post without its text
    /// (profile layout 4, [`crate::drafts`]).
    Index,
}

impl Which {
    /// The full save's file name, in the profile folder.
    pub fn file(self) -> &'static str {
        match self {
            Which::Blog => "blog.automerge",
            Which::Drafts => "drafts.automerge",
            Which::Index => "drafts/index.automerge",
        }
    }
    /// The lock file's name: held while one process reads, changes and writes the document.
    pub fn lock_file(self) -> &'static str {
        match self {
            Which::Blog => "blog.automerge.lock",
            Which::Drafts => "drafts.automerge.lock",
            Which::Index => "drafts/index.automerge.lock",
        }
    }
    /// The change log's file name.
    pub fn log_file(self) -> &'static str {
        match self {
            Which::Blog => "blog.automerge.log",
            Which::Drafts => "drafts.automerge.log",
            Which::Index => "drafts/index.automerge.log",
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

/// The folder of the per-post drafts documents, in the profile folder.
pub const POSTS_DIR: &str = "drafts/posts";

/// How many per-post documents a store keeps in memory; the least recently used one not in
/// use is let go beyond that (its appends flushed first).
pub const POSTS_HELD: usize = 64;

type Stamp = Option<(u64, SystemTime)>;

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

#[derive(Debug)]
struct Held {
    doc: BlogDoc,
    /// Heads the files hold.
    saved: Vec<ChangeHash>,
    /// The files as this process last saw them (full save, log).
    stamps: (Stamp, Stamp),
    /// Size of the full save and of the log, in bytes.
    base_len: u64,
    log_len: u64,
    /// Operations in the log's changes.
    log_ops: u64,
    /// Whether bytes were appended to the log since it was last fsynced ([`DocStore::sync_logs`]).
    unsynced: bool,
    /// The full save's bytes while the log is empty (they are then the whole document), kept
    /// so that sending the document to a peer that has nothing does not save it again.
    full: Option<Arc<Vec<u8>>>,
}

/// A document's three files.
#[derive(Debug, Clone)]
struct Files {
    base: PathBuf,
    log: PathBuf,
    lock: PathBuf,
}

type Slot = Arc<Mutex<Option<Held>>>;

/// The per-post documents held in memory, with when each was last used.
#[derive(Debug, Default)]
struct PostSlots {
    held: std::collections::HashMap<String, (Slot, u64)>,
    tick: u64,
}

/// The documents of one profile folder. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct DocStore {
    dir: PathBuf,
    /// One lock per document: drafts may be held while the blog is used (never the reverse).
    slots: Arc<[Mutex<Option<Held>>; 3]>,
    /// Per-post drafts documents, at most [`POSTS_HELD`] of them not in use.
    posts: Arc<Mutex<PostSlots>>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

/// Errors: [`StoreError::Damaged`] when `id` is not a post ID (it names a file).
fn check_post_id(dir: &Path, id: &str) -> Result<(), StoreError> {
    if spokes_core::manifest::is_post_id(id) {
        Ok(())
    } else {
        Err(StoreError::Damaged { path: dir.join(POSTS_DIR), message: format!("`{}` is not a post ID", id.escape_debug()) })
    }
}

impl DocStore {
    /// A store for the profile folder `dir`; nothing is read until first use.
    pub fn new(dir: &Path) -> DocStore {
        DocStore { dir: dir.into(), slots: Arc::default(), posts: Arc::default() }
    }

    fn files(&self, w: Which) -> Files {
        Files { base: self.dir.join(w.file()), log: self.dir.join(w.log_file()), lock: self.dir.join(w.lock_file()) }
    }

    /// The files of post `id`'s document: `drafts/posts/<id>.automerge` and `.log`; one lock
    /// file, `drafts/posts.lock`, serves every post.
    fn post_files(&self, id: &str) -> Files {
        let dir = self.dir.join(POSTS_DIR);
        Files { base: dir.join(format!("{id}.automerge")), log: dir.join(format!("{id}.automerge.log")), lock: self.dir.join("drafts/posts.lock") }
    }

    /// The full save and log of post `id`'s document, as `(full save, log)` paths.
    ///
    /// Errors: [`StoreError::Damaged`] when `id` is not a post ID.
    pub fn post_paths(&self, id: &str) -> Result<(PathBuf, PathBuf), StoreError> {
        check_post_id(&self.dir, id)?;
        let f = self.post_files(id);
        Ok((f.base, f.log))
    }

    /// Whether post `id` has a document on disk.
    pub fn post_exists(&self, id: &str) -> bool {
        spokes_core::manifest::is_post_id(id) && self.post_files(id).base.is_file()
    }

    /// Whether `w` is loaded, without waiting for a load in progress.
    pub fn is_loaded(&self, w: Which) -> bool {
        self.slots[w.index()].try_lock().is_ok_and(|s| s.is_some())
    }

    fn load(files: &Files) -> Result<Held, StoreError> {
        let (base, log) = (&files.base, &files.log);
        let stamps = (stamp(base), stamp(log));
        let bytes = std::fs::read(base).map_err(io(base))?;
        let mut doc = BlogDoc::load(&bytes).map_err(|e| StoreError::Damaged { path: base.clone(), message: e.to_string() })?;
        let log_bytes = match std::fs::read(log) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(StoreError::Io { path: log.clone(), source: e }),
        };
        let full = log_bytes.is_empty().then(|| Arc::new(bytes.clone()));
        let mut held = Held { saved: doc.heads(), doc, stamps, base_len: bytes.len() as u64, log_len: log_bytes.len() as u64, log_ops: 0, unsynced: false, full };
        if !log_bytes.is_empty() {
            // Complete chunks are applied; Automerge stops at a torn chunk and skips the rest.
            if let Err(e) = held.doc.automerge().load_incremental(&log_bytes) {
                tracing::warn!(file = %log.display(), "unreadable changes in the log were skipped: {e}");
            }
            // The changes applied, written out again, are the log's bytes when the log is whole.
            // Otherwise (a torn append, or changes also in the full save after a crash during
            // compaction) the log is replaced now: an append after torn bytes would be lost.
            let applied = held.doc.automerge().save_after(&held.saved).len() as u64;
            if applied != held.log_len {
                tracing::warn!(file = %log.display(), "the log was not whole; writing the document in full");
                Self::persist(&mut held, files, true)?;
            }
            held.log_ops = if held.log_len == 0 { 0 } else { ops_after(held.doc.automerge(), &held.saved) };
            held.saved = held.doc.heads();
        }
        Ok(held)
    }

    /// Runs `f` on document `w`, loading it first if needed (or merging in what another process
    /// wrote). Changes `f` makes are written to disk before this returns.
    ///
    /// Errors: the load's, `f`'s, or the write's. If `f` fails, operations it left
    /// uncommitted are rolled back; changes it committed are written.
    pub fn with<R, E: From<StoreError>>(&self, w: Which, f: impl FnOnce(&mut BlogDoc) -> Result<R, E>) -> Result<R, E> {
        self.with_full_save(w, |d, _| f(d))
    }

    /// [`DocStore::with`], also giving `f` the document's full save when the files hold it as
    /// one (nothing appended since), so a caller that needs the saved bytes (to send the whole
    /// document to a peer) does not save it again.
    pub fn with_full_save<R, E: From<StoreError>>(&self, w: Which, f: impl FnOnce(&mut BlogDoc, Option<Arc<Vec<u8>>>) -> Result<R, E>) -> Result<R, E> {
        let mut slot = self.slots[w.index()].lock().unwrap_or_else(|p| p.into_inner());
        Self::with_slot(&self.files(w), &mut slot, |d, full| f(d, full))
    }

    fn with_slot<R, E: From<StoreError>>(files: &Files, slot: &mut Option<Held>, f: impl FnOnce(&mut BlogDoc, Option<Arc<Vec<u8>>>) -> Result<R, E>) -> Result<R, E> {
        let _lock = Self::lock(files)?;
        let h = Self::current(files, slot)?;
        let full = h.full.clone();
        let r = f(&mut h.doc, full);
        if r.is_err() {
            // Operations `f` left uncommitted are discarded; committed changes are kept.
            h.doc.automerge().rollback();
        }
        Self::persist(h, files, false)?;
        r
    }

    /// The slot of post `id` (held in memory from now on), letting go of the least recently
    /// used posts not in use beyond [`POSTS_HELD`].
    fn post_slot(&self, id: &str) -> Slot {
        let mut posts = self.posts.lock().unwrap_or_else(|p| p.into_inner());
        posts.tick += 1;
        let tick = posts.tick;
        let slot = posts.held.entry(id.to_owned()).or_insert_with(|| (Slot::default(), tick));
        slot.1 = tick;
        let slot = slot.0.clone();
        if posts.held.len() > POSTS_HELD {
            let mut idle: Vec<(u64, String)> = posts.held.iter().filter(|(_, (s, _))| Arc::strong_count(s) == 1).map(|(k, (_, t))| (*t, k.clone())).collect();
            idle.sort();
            let over = posts.held.len() - POSTS_HELD;
            for (_, k) in idle.into_iter().take(over) {
                if let Some((s, _)) = posts.held.remove(&k) {
                    // Its appends reach the disk before it is let go: `sync_logs` no longer sees it.
                    let unsynced = s.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|h| h.unsynced);
                    if unsynced && let Err(e) = std::fs::File::open(self.post_files(&k).log).and_then(|f| f.sync_data()) {
                        tracing::warn!("could not flush the changes of post {k}: {e}");
                    }
                }
            }
        }
        slot
    }

    /// Runs `f` on post `id`'s drafts document, as [`DocStore::with`] does. With `create`,
    /// a post with no document yet gets the one `create` makes (written whole); without it,
    /// a missing document is [`StoreError::Io`] (not found).
    ///
    /// Errors: [`StoreError::Damaged`] when `id` is not a post ID; else as [`DocStore::with`].
    pub fn with_post<R, E: From<StoreError>>(&self, id: &str, create: Option<&dyn Fn() -> BlogDoc>, f: impl FnOnce(&mut BlogDoc) -> Result<R, E>) -> Result<R, E> {
        check_post_id(&self.dir, id)?;
        let files = self.post_files(id);
        let slot = self.post_slot(id);
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none()
            && let Some(make) = create
        {
            let _lock = Self::lock(&files)?;
            if !files.base.is_file() {
                if let Some(parent) = files.base.parent() {
                    crate::fsutil::private_dir(parent).map_err(io(parent))?;
                }
                let mut doc = make();
                let bytes = doc.save();
                write_atomic(&files.base, &bytes).map_err(io(&files.base))?;
            }
        }
        Self::with_slot(&files, &mut slot, |d, _| f(d))
    }

    /// Replaces document `w` with the one `f` returns (when it returns one) and writes it
    /// whole, removing the log: the one way history leaves a document, for changes that only
    /// a device declared lost signed. Other processes holding the profile take the new files
    /// as they are (see `current`).
    ///
    /// Errors: the load's, `f`'s, or the write's; on error nothing is replaced.
    pub fn rewrite<R, E: From<StoreError>>(&self, w: Which, f: impl FnOnce(&mut BlogDoc) -> Result<(Option<BlogDoc>, R), E>) -> Result<R, E> {
        let mut slot = self.slots[w.index()].lock().unwrap_or_else(|p| p.into_inner());
        Self::rewrite_slot(&self.files(w), &mut slot, f)
    }

    fn rewrite_slot<R, E: From<StoreError>>(files: &Files, slot: &mut Option<Held>, f: impl FnOnce(&mut BlogDoc) -> Result<(Option<BlogDoc>, R), E>) -> Result<R, E> {
        let _lock = Self::lock(files)?;
        let h = Self::current(files, slot)?;
        let (replacement, r) = match f(&mut h.doc) {
            Ok(x) => x,
            Err(e) => {
                h.doc.automerge().rollback();
                return Err(e);
            }
        };
        if let Some(doc) = replacement {
            h.doc = doc;
            Self::persist(h, files, true)?;
        }
        Ok(r)
    }

    /// Waits for and takes the document's lock file (released when the returned file is
    /// dropped): no other process reads, changes or writes the document meanwhile.
    fn lock(files: &Files) -> Result<std::fs::File, StoreError> {
        let path = &files.lock;
        if let Some(parent) = path.parent() {
            crate::fsutil::private_dir(parent).map_err(io(parent))?;
        }
        let mut open = std::fs::OpenOptions::new();
        open.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
        let f = open.open(path).map_err(io(path))?;
        f.lock().map_err(io(path))?;
        Ok(f)
    }

    /// The held document as the files hold it now: loaded, or with what another process
    /// wrote since merged in. Call with the lock taken.
    fn current<'a>(files: &Files, slot: &'a mut Option<Held>) -> Result<&'a mut Held, StoreError> {
        let held = match slot.take() {
            None => Self::load(files)?,
            Some(mut h) => {
                if h.stamps != (stamp(&files.base), stamp(&files.log)) {
                    // Another process wrote the files: take in its changes. Files that no
                    // longer hold what this process last saved were rewritten without some
                    // history ([`DocStore::rewrite`]): they are taken as they are, so that
                    // what was left out does not come back from this process's copy.
                    let mut theirs = Self::load(files)?;
                    if h.saved.iter().any(|s| theirs.doc.automerge().get_change_meta_by_hash(s).is_none()) {
                        return Ok(slot.insert(theirs));
                    }
                    h.doc.automerge().merge(theirs.doc.automerge()).map_err(|e| StoreError::Damaged { path: files.base.clone(), message: e.to_string() })?;
                    h.saved = theirs.saved;
                    h.full = None;
                    h.stamps = theirs.stamps;
                    h.base_len = theirs.base_len;
                    h.log_len = theirs.log_len;
                    h.log_ops = theirs.log_ops;
                }
                h
            }
        };
        Ok(slot.insert(held))
    }

    fn persist(h: &mut Held, files: &Files, whole: bool) -> Result<(), StoreError> {
        let (base, log) = (&files.base, &files.log);
        let heads = h.doc.heads();
        if heads == h.saved && !whole {
            return Ok(());
        }
        // Changes that outweigh a third of the document (an import, a first publish) are not
        // encoded one by one for the log, which costs more than saving the document whole.
        let saved = h.saved.clone();
        let new = ops_after(h.doc.automerge(), &saved);
        let whole = whole || (new > 10_000 && new * 3 > ops_after(h.doc.automerge(), &[])) || h.log_ops + new > MAX_LOG_OPS;
        let tail = if whole { Vec::new() } else { h.doc.automerge().save_after(&h.saved) };
        if whole || h.log_len + tail.len() as u64 > h.base_len.max(MIN_COMPACT_BYTES) {
            let bytes = h.doc.save();
            write_atomic(base, &bytes).map_err(io(base))?;
            match std::fs::remove_file(log) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::Io { path: log.clone(), source: e }),
            }
            h.base_len = bytes.len() as u64;
            h.log_len = 0;
            h.log_ops = 0;
            h.unsynced = false;
            h.full = Some(Arc::new(bytes));
        } else {
            let mut f = crate::fsutil::open_private_append(log).map_err(io(log))?;
            f.write_all(&tail).map_err(io(log))?;
            h.log_len += tail.len() as u64;
            h.log_ops += new;
            h.unsynced = true;
            h.full = None;
        }
        h.saved = heads;
        h.stamps = (stamp(base), stamp(log));
        Ok(())
    }

    /// Flushes the logs' appends to the disk (fsync of each log with unsynced appends, and of
    /// the folders, which may hold a new log). Appends themselves are not fsynced, to keep an
    /// autosave cheap; the app calls this a few seconds after the writer pauses, so what was
    /// typed before a pause survives a power cut too. Returns how many logs it flushed.
    pub fn sync_logs(&self) -> Result<usize, StoreError> {
        let mut flushed = 0;
        let flush = |slot: &mut Option<Held>, files: &Files| -> Result<bool, StoreError> {
            let Some(h) = slot.as_mut().filter(|h| h.unsynced) else { return Ok(false) };
            match std::fs::File::open(&files.log) {
                Ok(f) => f.sync_data().map_err(io(&files.log))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::Io { path: files.log.clone(), source: e }),
            }
            h.unsynced = false;
            Ok(true)
        };
        for w in [Which::Drafts, Which::Index, Which::Blog] {
            let mut slot = self.slots[w.index()].lock().unwrap_or_else(|p| p.into_inner());
            flushed += usize::from(flush(&mut slot, &self.files(w))?);
        }
        let posts: Vec<(String, Slot)> = self.posts.lock().unwrap_or_else(|p| p.into_inner()).held.iter().map(|(k, (s, _))| (k.clone(), s.clone())).collect();
        for (id, slot) in posts {
            let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
            flushed += usize::from(flush(&mut slot, &self.post_files(&id))?);
        }
        if flushed > 0 {
            for d in [self.dir.clone(), self.dir.join("drafts"), self.dir.join(POSTS_DIR)] {
                if let Ok(d) = std::fs::File::open(d) {
                    let _ = d.sync_all();
                }
            }
        }
        Ok(flushed)
    }

    /// Writes `w` whole and removes its log (for example before the app quits).
    pub fn compact(&self, w: Which) -> Result<(), StoreError> {
        let mut slot = self.slots[w.index()].lock().unwrap_or_else(|p| p.into_inner());
        Self::compact_slot(&self.files(w), &mut slot)
    }

    /// [`DocStore::compact`] for every per-post document held in memory.
    pub fn compact_posts(&self) -> Result<(), StoreError> {
        let posts: Vec<(String, Slot)> = self.posts.lock().unwrap_or_else(|p| p.into_inner()).held.iter().map(|(k, (s, _))| (k.clone(), s.clone())).collect();
        for (id, slot) in posts {
            let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
            Self::compact_slot(&self.post_files(&id), &mut slot)?;
        }
        Ok(())
    }

    fn compact_slot(files: &Files, slot: &mut Option<Held>) -> Result<(), StoreError> {
        if slot.is_none() {
            return Ok(());
        }
        let _lock = Self::lock(files)?;
        // What another process appended is merged first, so removing the log loses nothing.
        let h = Self::current(files, slot)?;
        if h.log_len == 0 {
            return Ok(());
        }
        Self::persist(h, files, true)
    }

    /// Lets go of document `w` held in memory (read again at next use). Its appends must have
    /// been flushed or be of no further use (the old drafts document after the split).
    pub fn unload(&self, w: Which) {
        *self.slots[w.index()].lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// How many per-post documents are held in memory.
    pub fn posts_held(&self) -> usize {
        self.posts.lock().unwrap_or_else(|p| p.into_inner()).held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::{BlogId, BlogSettings, DocKind, Post};

    fn setup() -> (tempfile::TempDir, DocStore, String) {
        let d = tempfile::tempdir().unwrap();
        let mut doc = BlogDoc::create(DocKind::Drafts, &BlogId::generate(), "AB", &BlogSettings::default());
        let p = Post::new("T", "");
        doc.put_post(&p).unwrap();
        doc.commit("post");
        std::fs::write(d.path().join("drafts.automerge"), doc.save()).unwrap();
        let s = DocStore::new(d.path());
        (d, s, p.id)
    }

    fn type_text(s: &DocStore, id: &str, at: usize, text: &str) {
        s.with(Which::Drafts, |d| {
            d.splice_body(id, at, 0, text)?;
            d.commit("edit");
            Ok::<_, Box<dyn std::error::Error>>(())
        })
        .map_err(|e| e.to_string())
        .unwrap();
    }

    #[test]
    fn edits_are_appended_and_survive_a_torn_last_append() {
        let (d, s, id) = setup();
        type_text(&s, &id, 0, "Hello");
        type_text(&s, &id, 5, ", world");
        let log = d.path().join("drafts.automerge.log");
        let full = std::fs::read(&log).unwrap();
        assert!(!full.is_empty());
        // A fresh reader sees both edits.
        let read = |dir: &Path| DocStore::new(dir).with(Which::Drafts, |d| Ok::<_, StoreError>(d.post(&id).unwrap().body)).unwrap();
        let base = std::fs::read(d.path().join("drafts.automerge")).unwrap();
        assert_eq!(read(d.path()), "Hello, world");
        assert_eq!(std::fs::read(d.path().join("drafts.automerge")).unwrap(), base, "a whole log is read, not rewritten");
        // A crash in the middle of the second append: the first edit is still there.
        type_text(&s, &id, 12, "!");
        let torn = std::fs::read(&log).unwrap();
        std::fs::write(&log, &torn[..torn.len() - 3]).unwrap();
        assert_eq!(read(d.path()), "Hello, world");
        // The app restarts and writes on: nothing after the torn bytes may be lost.
        let restarted = DocStore::new(d.path());
        type_text(&restarted, &id, 12, "?");
        assert_eq!(read(d.path()), "Hello, world?");
    }

    #[test]
    fn appends_are_flushed_once_each_and_compaction_leaves_nothing_to_flush() {
        let (_d, s, id) = setup();
        assert_eq!(s.sync_logs().unwrap(), 0, "nothing appended yet");
        type_text(&s, &id, 0, "Hello");
        type_text(&s, &id, 5, ", world");
        assert_eq!(s.sync_logs().unwrap(), 1, "the drafts log");
        assert_eq!(s.sync_logs().unwrap(), 0, "already on disk");
        type_text(&s, &id, 12, "!");
        s.compact(Which::Drafts).unwrap();
        assert_eq!(s.sync_logs().unwrap(), 0, "compaction writes the whole document with fsync");
    }

    #[test]
    fn a_large_log_is_compacted_into_the_full_save() {
        let (d, s, id) = setup();
        let big = "x".repeat(MIN_COMPACT_BYTES as usize / 4);
        for i in 0..6 {
            type_text(&s, &id, i * big.len(), &big);
        }
        let log = d.path().join("drafts.automerge.log");
        assert!(std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0) < MIN_COMPACT_BYTES, "the log was compacted");
        let body = DocStore::new(d.path()).with(Which::Drafts, |d| Ok::<_, StoreError>(d.post(&id).unwrap().body)).unwrap();
        assert_eq!(body.len(), 6 * big.len());
    }

    /// Pasted long texts, each small beside the document, are not left in the log past
    /// [`MAX_LOG_OPS`] operations: a later load would apply them one by one.
    #[test]
    fn a_log_of_many_operations_is_compacted_into_the_full_save() {
        let (d, s, id) = setup();
        let log = d.path().join("drafts.automerge.log");
        let long = "y".repeat(3 * MAX_LOG_OPS as usize);
        type_text(&s, &id, 0, &long);
        let paste = "z".repeat(MAX_LOG_OPS as usize * 2 / 5);
        type_text(&s, &id, 0, &paste);
        type_text(&s, &id, 0, &paste);
        assert!(std::fs::metadata(&log).unwrap().len() > 0, "two pastes are appended to the log");
        type_text(&s, &id, 0, &paste);
        assert!(!log.exists(), "the third would pass the bound: the document is saved whole");
        let body = DocStore::new(d.path()).with(Which::Drafts, |d| Ok::<_, StoreError>(d.post(&id).unwrap().body)).unwrap();
        assert_eq!(body.len(), long.len() + 3 * paste.len());
        // A process that loads a log counts its operations too.
        type_text(&s, &id, 0, &paste);
        let other = DocStore::new(d.path());
        type_text(&other, &id, 0, &paste);
        assert!(log.exists());
        type_text(&other, &id, 0, &paste);
        assert!(!log.exists(), "the loaded log's operations count toward the bound");
    }

    #[test]
    fn changes_written_by_another_process_are_merged_not_lost() {
        let (d, a, id) = setup();
        let b = DocStore::new(d.path());
        type_text(&a, &id, 0, "one ");
        type_text(&b, &id, 0, "two ");
        // `a` holds a stale document; its next edit must keep `b`'s.
        type_text(&a, &id, 0, "three ");
        a.compact(Which::Drafts).unwrap();
        let body = DocStore::new(d.path()).with(Which::Drafts, |d| Ok::<_, StoreError>(d.post(&id).unwrap().body)).unwrap();
        for w in ["one", "two", "three"] {
            assert!(body.contains(w), "{w} missing from {body:?}");
        }
    }

    /// A rewrite (history left out, for a computer declared lost) is taken as it is by
    /// another process holding the document: its copy's merge would bring the left-out
    /// changes back.
    #[test]
    fn a_rewrite_is_not_undone_by_another_process_holding_the_old_document() {
        let (d, a, id) = setup();
        let b = DocStore::new(d.path());
        let before = a.with(Which::Drafts, |d| Ok::<_, StoreError>(d.heads())).unwrap();
        type_text(&a, &id, 0, "unwanted ");
        type_text(&b, &id, 0, "seen by b ");
        // `a` rewrites the document back to before both edits.
        a.rewrite(Which::Drafts, |d| Ok::<_, StoreError>((Some(BlogDoc::from_automerge(d.automerge().fork_at(&before).unwrap()).unwrap()), ()))).unwrap();
        type_text(&b, &id, 0, "after ");
        let body = DocStore::new(d.path()).with(Which::Drafts, |d| Ok::<_, StoreError>(d.post(&id).unwrap().body)).unwrap();
        assert_eq!(body, "after ", "the rewrite held, and b's later edit is kept");
        // A rewrite that returns no document changes nothing.
        a.rewrite(Which::Drafts, |_| Ok::<_, StoreError>((None, ()))).unwrap();
        assert_eq!(DocStore::new(d.path()).with(Which::Drafts, |d| Ok::<_, StoreError>(d.post(&id).unwrap().body)).unwrap(), "after ");
    }

    /// Attack 17 of the hostile-peers issue: the app and the CLI write one profile at once.
    /// Without the lock file, one side's compaction (save whole, remove the log) could
    /// remove an append the other made between its check and its write. Two writers with
    /// their own stores (as two processes have) type and compact at full speed; every word
    /// each typed is there at the end.
    #[test]
    fn two_writers_at_once_lose_nothing() {
        let (d, _, id) = setup();
        let writers: Vec<_> = ["app", "cli"]
            .into_iter()
            .map(|who| {
                let (dir, id) = (d.path().to_path_buf(), id.clone());
                std::thread::spawn(move || {
                    let s = DocStore::new(&dir);
                    let filler = "x".repeat(MIN_COMPACT_BYTES as usize / 8);
                    for i in 0..40 {
                        type_text(&s, &id, 0, &format!("{who}{i} "));
                        if i % 5 == 0 {
                            type_text(&s, &id, 0, &filler);
                        }
                        if i % 7 == 0 {
                            s.compact(Which::Drafts).unwrap();
                        }
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let body = DocStore::new(d.path()).with(Which::Drafts, |d| Ok::<_, StoreError>(d.post(&id).unwrap().body)).unwrap();
        let missing: Vec<String> = ["app", "cli"].iter().flat_map(|w| (0..40).map(move |i| format!("{w}{i} "))).filter(|m| !body.contains(m.as_str())).collect();
        assert!(missing.is_empty(), "lost: {missing:?}");
    }

    #[test]
    fn a_failing_edit_leaves_nothing_half_done() {
        let (d, s, id) = setup();
        let r = s.with(Which::Drafts, |doc| {
            doc.splice_body(&id, 0, 0, "half")?;
            Err::<(), crate::ProfileError>(crate::ProfileError::NoSuchPost("later step".into()))
        });
        assert!(r.is_err());
        let body = DocStore::new(d.path()).with(Which::Drafts, |d| Ok::<_, StoreError>(d.post(&id).unwrap().body)).unwrap();
        assert_eq!(body, "");
        assert_eq!(s.with(Which::Drafts, |d| Ok::<_, StoreError>(d.post(&id).unwrap().body)).unwrap(), "");
    }

    #[test]
    fn a_damaged_full_save_is_a_clear_error() {
        let (d, s, _) = setup();
        let f = d.path().join("drafts.automerge");
        let b = std::fs::read(&f).unwrap();
        std::fs::write(&f, &b[..b.len() / 2]).unwrap();
        let e = s.with(Which::Drafts, |_| Ok::<_, StoreError>(())).unwrap_err();
        assert!(matches!(e, StoreError::Damaged { .. }), "{e}");
    }
}
