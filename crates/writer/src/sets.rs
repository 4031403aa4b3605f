//! The blog as a set of documents on the writer's side (`spokes/sync/2`, docs/formats.md
//! "Signed manifest"): a profile upgraded with `spokes upgrade` keeps, beside its blog
//! document, the published set (`set/manifests.json`: the manifests this computer holds;
//! `set/posts/<post ID>.automerge`: the live posts' documents).
//!
//! At each publish the set is derived from the blog document (the published posts that are
//! due; a post unpublished or deleted becomes a `gone` leaf and its document leaves the set),
//! signed, and sent to the spokes; what the spokes bring from the writer's other computers is
//! folded back into the blog document, so the drafts, history and app work as before. The blog
//! document stays on this computer: it is the writer's own history, which the spokes no longer
//! receive. Posts dated in the future stay out of the set until their date (held back by the
//! app, docs/formats.md explains the choice).

use crate::fsutil::write_atomic;
use crate::publish::{PublishSummary, SpokeStatus, SpokeTarget};
use crate::profile::{Profile, ProfileError, commit_signed};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use spokes_core::manifest::{Entry, SiteSettings, is_post_id};
use spokes_core::postdoc::{PostContent, PostDoc};
use spokes_core::problem::Code;
use spokes_core::{Post, PostState, SigningKey};
use spokes_sync::set::{SetReplica, SignedManifest, StoredManifest};
use std::collections::{BTreeMap, BTreeSet};

/// The file that holds the set's manifests; its presence marks an upgraded profile.
const MANIFESTS: &str = "set/manifests.json";

/// The leaves the blog document last matched (`fold_set` reads only the others).
const FOLDED: &str = "set/folded.json";

/// What `sign_set` last read: the blog document's heads, and the published posts it held back
/// for their date (`sign_set` then reads only the posts changed since, and those now due), and
/// the settings it signed (`unsigned_blog_changes` compares them with the drafts' settings).
const SIGNED: &str = "set/signed.json";

#[derive(Serialize, Deserialize)]
struct SignMark {
    blog_heads: Vec<String>,
    scheduled: Vec<(String, DateTime<FixedOffset>)>,
    /// `{"blog": BlogSettings, "spokes": [SpokeAddr]}` as signed; absent in records written
    /// before it was kept (then every publish is offered).
    #[serde(default)]
    settings: Option<serde_json::Value>,
}

/// The posts whose documents hold two computers' words written at once
/// (`PostDoc::has_conflicts`), as the folds found them: the next publish takes them again
/// from the drafts, where both edits merged, and that write settles them.
const CONFLICTS: &str = "set/conflicts.json";

/// The version of `set/conflicts.json` this build writes and reads.
const CONFLICTS_VERSION: u32 = 1;

/// `set/conflicts.json`.
#[derive(Serialize, Deserialize, Default)]
struct ConflictsFile {
    version: u32,
    posts: BTreeSet<String>,
}

/// A set as [`Profile::load_set`] last read it (`key`: BLAKE3 of the manifests file, the
/// anchor file and the certificate), with the anchor its manifests are stored against.
#[derive(Debug)]
pub(crate) struct OpenedSet {
    key: [u8; 32],
    replica: SetReplica,
    lost_rev: Option<u64>,
    anchor: Option<SignedManifest>,
}

/// How many post documents [`PostDocCache`] holds.
const POST_DOC_CACHE: std::num::NonZeroUsize = match std::num::NonZeroUsize::new(32) {
    Some(n) => n,
    None => std::num::NonZeroUsize::MIN,
};

/// The set's post documents this profile last read or wrote, by post ID, each with the BLAKE3
/// hash of the file bytes it stands for: a publish of one post reads its document once (for
/// signing, then a session per spoke), not once per use, and a file changed since (a session,
/// a restore) is read again. At most [`POST_DOC_CACHE`] documents, least recently used first
/// out.
#[derive(Debug)]
pub(crate) struct PostDocCache(lru::LruCache<String, ([u8; 32], PostDoc)>);

impl Default for PostDocCache {
    fn default() -> Self {
        PostDocCache(lru::LruCache::new(POST_DOC_CACHE))
    }
}

/// The key of [`OpenedSet`]: BLAKE3 over the manifests file's length and bytes, the anchor
/// file's length and bytes, then the certificate file.
fn set_key(manifests: &[u8], anchor: &[u8], certificate: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    for part in [manifests, anchor] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.update(certificate);
    hasher.finalize().into()
}

/// The version of `set/manifests.json` this build writes. Version 1 kept every manifest
/// whole; version 2 keeps them as differences from an anchor (read both).
const MANIFESTS_VERSION: u32 = 2;

/// `set/manifests.json`. In version 2, a manifest with a `base` is stored as its difference
/// from the anchor, `set/anchor-<header hash>.json` (one manifest, whole, as
/// [`StoredManifest`]): a publish of one post writes one leaf per manifest, not the whole
/// index again. The anchor is written again when the newest manifest has moved far from it.
#[derive(Serialize, Deserialize)]
struct ManifestsFile {
    version: u32,
    frontier: Vec<StoredManifest>,
    #[serde(default)]
    recent: Vec<StoredManifest>,
    /// The anchor's header hash (64 lowercase hex), when one is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    anchor: Option<String>,
}

/// `set/folded.json`, version 2: the merged manifest the blog document last matched, as
/// its leaves that differ from the anchor `anchor` (header hash, hex). Version 1 is a JSON
/// array of every leaf (as text).
#[derive(Serialize, Deserialize)]
struct FoldedFile {
    version: u32,
    anchor: String,
    leaves: Vec<String>,
}

/// What [`Profile::fold_set`] reads from `set/folded.json`.
enum Folded {
    /// Version 1: every leaf's text.
    Whole(BTreeSet<String>),
    /// Version 2: the anchor's header hash, and the leaves that differ from it, by post ID.
    OnAnchor { anchor: String, leaves: BTreeMap<String, String> },
}

/// The anchor file of the manifest whose header hash is `hash` (hex).
fn anchor_file(hash: &str) -> String {
    format!("set/anchor-{hash}.json")
}


/// The set's post documents on this computer, for a sync session: loaded through the
/// profile's cache, and sent to a spoke that holds none of a post as the file holds it.
struct SetPosts<'a>(&'a Profile);

impl spokes_sync::set::PostSource for SetPosts<'_> {
    fn load(&mut self, id: &str) -> Option<PostDoc> {
        self.0.load_set_post(id)
    }
    fn saved(&mut self, id: &str) -> Option<Vec<u8>> {
        self.0.set_post_bytes(id)
    }
}

impl Profile {
    /// Whether this profile keeps its published blog as a set of documents.
    pub fn is_set(&self) -> bool {
        self.path(MANIFESTS).exists()
    }

    /// Upgrades this profile: the published set is made from the blog document as of `now`
    /// (`spokes_core::upgrade::split_blog`: published posts that are due move; unpublished,
    /// deleted and scheduled ones do not) and signed with `key`. From then on the profile
    /// publishes over `spokes/sync/2`. Returns how many posts moved. No network; the spokes
    /// take the set at the next publish or sync (and then delete the version 1 document).
    pub fn upgrade_to_set(&self, key: &mut SigningKey, now: DateTime<FixedOffset>) -> Result<usize, ProfileError> {
        if self.is_set() {
            return Ok(0);
        }
        // The split and what it read, at once: an edit made meanwhile (the app upgrades in the
        // background) is read by the next signing, not lost between the two.
        let (mut up, mark) = self.with_blog(|b| {
            let up = spokes_core::upgrade::split_blog(b, now).map_err(|e| ProfileError::Damaged { path: self.path("blog.automerge"), message: e.to_string() })?;
            b.record_changes_from_here();
            let scheduled = up.held_back.iter().filter_map(|id| b.post(id).map(|p| (id.clone(), p.date))).collect();
            Ok((up, SignMark { blog_heads: b.heads().iter().map(ToString::to_string).collect(), scheduled, settings: None }))
        })?;
        let n = up.posts.len();
        // The settings as every later publish writes them (the profile's spokes, the drafts'
        // settings), so the first publish after the upgrade does not sign again for nothing.
        let split = up.manifest.site_settings().unwrap_or_default();
        up.manifest.set_settings(&self.site_settings(split)?);
        let mut replica = SetReplica::new(self.blog_id().clone(), Some(self.certificate()?));
        for (id, d) in std::mem::take(&mut up.posts) {
            replica.posts.insert(id, d);
        }
        // The settings also list the chosen spokes and bind the ID (the split took them from
        // the blog document).
        let signed = SignedManifest::sign(up.manifest, key).map_err(|e| ProfileError::Signing(e.to_string()))?;
        replica.frontier.push(signed);
        let ids: BTreeSet<String> = replica.posts.keys().cloned().collect();
        self.save_set(&mut replica, &ids, &BTreeSet::new())?;
        if let Some(m) = replica.merged() {
            self.remember_folded(&m)?;
        }
        // What the split read, so the next publish reads only what changes after it.
        let mark = SignMark { settings: Some(self.signed_settings_mark()?), ..mark };
        self.write(SIGNED, &serde_json::to_vec(&mark).unwrap_or_default())?;
        Ok(n)
    }

    /// Takes `replica` (verified, with every live post's document in its cache) as this
    /// profile's set, for a profile just restored from it: the blog document, made from the
    /// set's posts, is signed with this computer's key, and is recorded as matching the set
    /// (nothing to fold, nothing to sign at the next publish).
    pub(crate) fn adopt_set(&self, replica: SetReplica, passphrase: &str) -> Result<(), ProfileError> {
        let mut key = self.unlock(passphrase)?;
        let heads = self.with_blog(|b| Ok(b.heads()))?;
        let statement = spokes_core::Statement::new(self.blog_id().clone(), &heads).sign(&mut key).map_err(|e| ProfileError::Signing(e.to_string()))?;
        self.append_statement(statement)?;
        let merged = replica.merged();
        self.keep_set(replica)?;
        if let Some(m) = merged {
            self.remember_folded(&m)?;
        }
        let mark = SignMark { blog_heads: heads.iter().map(ToString::to_string).collect(), scheduled: vec![], settings: Some(self.signed_settings_mark()?) };
        self.write(SIGNED, &serde_json::to_vec(&mark).unwrap_or_default())
    }

    /// Takes the set another of the writer's computers made (`replica`, as a spoke gave it)
    /// as this profile's, for a profile still at version 1 whose blog moved to a set
    /// elsewhere. The set is verified against the certificate (merged with the one it
    /// carries). This computer does not split its own blog document: post documents made
    /// twice from differing words would clash. Instead every post is folded in, and the next
    /// signing reads every post, so posts published only here join the set. Returns how many
    /// posts the set holds.
    ///
    /// Errors: [`ProfileError::Damaged`] when the set does not verify; storage errors.
    pub(crate) fn join_set(&self, replica: SetReplica, key: &mut SigningKey) -> Result<usize, ProfileError> {
        let damaged = |m: String| ProfileError::Damaged { path: "the spokes' copy of the blog".into(), message: m };
        if let Some(c) = &replica.certificate {
            self.merge_certificate(c)?;
        }
        let verified = spokes_sync::set::VerifiedSet::verify(replica, &mut |_: &str| None).map_err(|b| damaged(b.1.message))?;
        let replica = verified.into_replica();
        let n = replica.merged().map_or(0, |m| m.posts().count());
        // No record of a fold or a signing: both read every post once.
        for f in [FOLDED, SIGNED] {
            match std::fs::remove_file(self.path(f)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(ProfileError::Io { path: self.path(f), source: e }),
                _ => {}
            }
        }
        self.keep_set(replica)?;
        // Where this computer's words differ from the set's, the set's are folded in, and the
        // post is published again from the drafts at the next publish, as a post published
        // on two computers at once is: the drafts hold both computers' edits, merged.
        let differing: BTreeSet<String> = self.fold_set_posts(key)?.into_iter().collect();
        self.note_set_conflicts(&differing, &BTreeSet::new())?;
        Ok(n)
    }

    /// The set's files for the export archive (`set/manifests.json`, `set/posts/{ID}.automerge`,
    /// as stored), empty for a profile not upgraded.
    pub(crate) fn set_archive_entries(&self) -> Result<Vec<(String, Vec<u8>)>, ProfileError> {
        if !self.is_set() {
            return Ok(Vec::new());
        }
        // Whole, in version 1 (what every reader of archives takes).
        let replica = self.load_set()?;
        let file = ManifestsFile { version: 1, frontier: replica.frontier.iter().map(StoredManifest::of).collect(), recent: replica.recent.iter().map(StoredManifest::of).collect(), anchor: None };
        let mut entries = vec![(MANIFESTS.to_owned(), serde_json::to_vec(&file).unwrap_or_default())];
        if let Some(m) = replica.merged() {
            for (id, _) in m.posts() {
                let path = self.path(&format!("set/posts/{id}.automerge"));
                if let Ok(bytes) = std::fs::read(&path) {
                    entries.push((format!("set/posts/{id}.automerge"), bytes));
                }
            }
        }
        Ok(entries)
    }

    /// Keeps `replica` (verified, every live post's document in its cache) as this profile's
    /// set, as [`archived_set`] gives it for a profile just restored from the same archive.
    pub(crate) fn keep_set(&self, mut replica: SetReplica) -> Result<(), ProfileError> {
        let ids: BTreeSet<String> = replica.posts.keys().cloned().collect();
        self.save_set(&mut replica, &ids, &BTreeSet::new())
    }

    /// The manifests this computer holds, each whole (as bundles and archives carry them):
    /// (frontier, recent). Errors as [`Profile::load_set`].
    pub fn stored_manifests(&self) -> Result<(Vec<StoredManifest>, Vec<StoredManifest>), ProfileError> {
        let r = self.load_set()?;
        Ok((r.frontier.iter().map(StoredManifest::of).collect(), r.recent.iter().map(StoredManifest::of).collect()))
    }

    /// The set as stored (manifests checked against the certificate; no post documents yet).
    pub(crate) fn load_set(&self) -> Result<SetReplica, ProfileError> {
        Ok(self.load_set_noting_lost()?.0)
    }

    /// [`Profile::load_set`], and the highest rev among the frontier's manifests left out
    /// because a key declared lost signed them (`None` when none was). Parsing and checking a
    /// large blog's manifests takes tens of milliseconds: the result is kept, and used again
    /// while `set/manifests.json` and the certificate are byte for byte the same.
    fn load_set_noting_lost(&self) -> Result<(SetReplica, Option<u64>), ProfileError> {
        let path = self.path(MANIFESTS);
        let bytes = std::fs::read(&path).map_err(|source| ProfileError::Io { path: path.clone(), source })?;
        let damaged = |m: String| ProfileError::Damaged { path: path.clone(), message: m };
        let file: ManifestsFile = serde_json::from_slice(&bytes).map_err(|e| damaged(e.to_string()))?;
        if file.version > MANIFESTS_VERSION {
            return Err(ProfileError::NewerVersion(file.version));
        }
        let anchor_bytes = match &file.anchor {
            Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) => self.read(&anchor_file(h))?,
            Some(_) => return Err(damaged("the anchor is not a header hash".into())),
            None => Vec::new(),
        };
        let cert_bytes = self.read("certificate.asc")?;
        let key = set_key(&bytes, &anchor_bytes, &cert_bytes);
        let cached = self.set_cache.lock().unwrap_or_else(|p| p.into_inner()).as_ref().filter(|c| c.key == key).map(|c| (c.replica.clone_manifests(), c.lost_rev));
        if let Some(hit) = cached {
            return Ok(hit);
        }
        let cert = spokes_core::Certificate::from_bytes(&cert_bytes)?;
        let anchor = match &file.anchor {
            None => None,
            Some(h) => {
                let apath = self.path(&anchor_file(h));
                let adamaged = |m: String| ProfileError::Damaged { path: apath.clone(), message: m };
                let stored: StoredManifest = serde_json::from_slice(&anchor_bytes).map_err(|e| adamaged(e.to_string()))?;
                let a = stored.open_as_base(self.blog_id()).map_err(|e| adamaged(e.to_string()))?;
                if hex::encode(a.hash()) != *h {
                    return Err(adamaged("the anchor is not the manifest its name says".into()));
                }
                Some(a)
            }
        };
        let (replica, lost_rev) = self.open_set(&path, &file, cert, anchor.as_ref())?;
        *self.set_cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(OpenedSet { key, replica: replica.clone_manifests(), lost_rev, anchor });
        Ok((replica, lost_rev))
    }

    fn open_set(&self, path: &std::path::Path, file: &ManifestsFile, cert: spokes_core::Certificate, anchor: Option<&SignedManifest>) -> Result<(SetReplica, Option<u64>), ProfileError> {
        let damaged = |m: String| ProfileError::Damaged { path: path.to_path_buf(), message: m };
        let mut frontier = Vec::new();
        let mut lost_rev: Option<u64> = None;
        for m in &file.frontier {
            match m.open_on_unless_lost(&cert, self.blog_id(), anchor).map_err(|e| damaged(e.to_string()))? {
                Some(m) => frontier.push(m),
                None => {
                    let rev = spokes_core::manifest::Header::parse(m.statement.as_bytes()).map(|h| h.rev).unwrap_or(0);
                    lost_rev = Some(lost_rev.unwrap_or(0).max(rev));
                }
            }
        }
        let recent = file.recent.iter().filter_map(|m| m.open_on(&cert, self.blog_id(), anchor).ok()).collect();
        let mut replica = SetReplica { blog_id: self.blog_id().clone(), certificate: Some(cert), frontier, recent, posts: BTreeMap::new(), rejected: None };
        if lost_rev.is_some() {
            // The blog stands where the other computers' manifests left it.
            replica.reseat_from_recent(&mut |id: &str| self.load_set_post(id));
        }
        Ok((replica, lost_rev))
    }

    /// Post `id`'s document file in the set as stored, if it has one.
    fn set_post_bytes(&self, id: &str) -> Option<Vec<u8>> {
        is_post_id(id).then(|| std::fs::read(self.path(&format!("set/posts/{id}.automerge"))).ok()).flatten()
    }

    /// Post `id`'s document in the set, if it has one.
    pub(crate) fn load_set_post(&self, id: &str) -> Option<PostDoc> {
        let bytes = self.set_post_bytes(id)?;
        let hash: [u8; 32] = blake3::hash(&bytes).into();
        let kept = |c: &mut PostDocCache| c.0.get(id).filter(|(h, _)| *h == hash).map(|(_, d)| d.clone());
        if let Some(d) = kept(&mut self.set_posts.lock().unwrap_or_else(|p| p.into_inner())) {
            return Some(d);
        }
        // Loaded without the cache's lock: the sessions with each spoke load at once.
        // This computer wrote the file: its own save, or bytes a session or an archive's
        // import checked against expansion before they were written.
        let d = PostDoc::load_checked(&bytes, self.blog_id(), id).ok()?;
        self.set_posts.lock().unwrap_or_else(|p| p.into_inner()).0.put(id.to_owned(), (hash, d.clone()));
        Some(d)
    }

    /// Writes the set: the `changed` posts' documents, then the manifests; deletes the
    /// `forgotten` posts' documents.
    pub(crate) fn save_set(&self, replica: &mut SetReplica, changed: &BTreeSet<String>, forgotten: &BTreeSet<String>) -> Result<(), ProfileError> {
        let io = |path: std::path::PathBuf| move |source| ProfileError::Io { path: path.clone(), source };
        let dir = self.path("set/posts");
        std::fs::create_dir_all(&dir).map_err(io(dir.clone()))?;
        if changed.len() <= POST_DOC_CACHE.get() {
            for id in changed {
                if let Some(d) = replica.posts.get_mut(id).filter(|_| is_post_id(id)) {
                    let p = dir.join(format!("{id}.automerge"));
                    let bytes = d.save();
                    write_atomic(&p, &bytes).map_err(io(p.clone()))?;
                    // Kept for the next read: a publish of a few posts reads them again.
                    self.set_posts.lock().unwrap_or_else(|p| p.into_inner()).0.put(id.clone(), (blake3::hash(&bytes).into(), d.clone()));
                }
            }
        } else {
            // A whole blog at once (the first publish after an import, an upgrade): saved on
            // every core, written with the flushes joined, and not copied into the cache.
            let mut docs: Vec<(&String, &mut PostDoc)> = replica.posts.iter_mut().filter(|(id, _)| changed.contains(*id) && is_post_id(id)).collect();
            let per = docs.len().div_ceil(std::thread::available_parallelism().map_or(1, usize::from)).max(1);
            let folder = dir.as_path();
            let files: Vec<(std::path::PathBuf, Vec<u8>)> = std::thread::scope(|s| {
                let workers: Vec<_> = docs.chunks_mut(per).map(|part| s.spawn(move || part.iter_mut().map(|(id, d)| (folder.join(format!("{id}.automerge")), d.save())).collect::<Vec<_>>())).collect();
                workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
            });
            if files.len() != docs.len() {
                return Err(ProfileError::Io { path: dir, source: std::io::Error::other("a post document could not be saved") });
            }
            crate::fsutil::write_atomic_many(&dir, files).map_err(io(dir.clone()))?;
        }
        // The anchor: the one in use while it serves the newest manifest, else the newest.
        let held = self.cached_anchor();
        let held_hash = held.as_ref().map(SignedManifest::hash);
        let anchor = spokes_sync::set::choose_anchor(held, &replica.frontier, true);
        let anchor_bytes = match &anchor {
            Some(a) => {
                let name = anchor_file(&hex::encode(a.hash()));
                // Written once under its name (the manifests file names it after), and read
                // back while it stays the anchor: the cache key covers its bytes on disk.
                match self.read(&name) {
                    Ok(bytes) if held_hash.as_ref() == Some(&a.hash()) => bytes,
                    _ => {
                        let bytes = serde_json::to_vec(&StoredManifest::of(a)).unwrap_or_default();
                        self.write(&name, &bytes)?;
                        bytes
                    }
                }
            }
            None => Vec::new(),
        };
        let stored = |m: &SignedManifest| anchor.as_ref().and_then(|a| StoredManifest::difference(m, a)).unwrap_or_else(|| StoredManifest::of(m));
        let file = ManifestsFile { version: MANIFESTS_VERSION, frontier: replica.frontier.iter().map(stored).collect(), recent: replica.recent.iter().map(stored).collect(), anchor: anchor.as_ref().map(|a| hex::encode(a.hash())) };
        let bytes = serde_json::to_vec(&file).unwrap_or_default();
        self.write(MANIFESTS, &bytes)?;
        self.remove_other_anchors(file.anchor.as_deref());
        // What was just written is what the next read would find (the manifests are checked).
        let key = set_key(&bytes, &anchor_bytes, &self.read("certificate.asc")?);
        *self.set_cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(OpenedSet { key, replica: replica.clone_manifests(), lost_rev: None, anchor });
        for id in forgotten.iter().filter(|id| is_post_id(id)) {
            self.set_posts.lock().unwrap_or_else(|p| p.into_inner()).0.pop(id);
            let p = dir.join(format!("{id}.automerge"));
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(ProfileError::Io { path: p, source: e }),
                _ => {}
            }
        }
        Ok(())
    }

    /// The anchor of the set as last read or written (`None` before the first read).
    fn cached_anchor(&self) -> Option<SignedManifest> {
        self.set_cache.lock().unwrap_or_else(|p| p.into_inner()).as_ref().and_then(|c| c.anchor.clone())
    }

    /// Deletes the anchor files other than `keep`'s (left by an anchor replaced, or by a write
    /// cut short). A failure is logged: the next write tries again.
    fn remove_other_anchors(&self, keep: Option<&str>) {
        let Ok(dir) = std::fs::read_dir(self.path("set")) else { return };
        let keep = keep.map(|h| format!("anchor-{h}.json"));
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("anchor-") && name.ends_with(".json") && Some(&name) != keep.as_ref()
                && let Err(err) = std::fs::remove_file(e.path())
            {
                tracing::warn!("could not delete {}: {err}", e.path().display());
            }
        }
    }

    /// Derives the next manifest from the blog document as of `now` and signs it with `key`
    /// when anything changed (or when concurrent manifests need merging). Returns whether a
    /// manifest was signed. No network.
    pub fn sign_set(&self, key: &mut SigningKey, now: DateTime<FixedOffset>) -> Result<bool, ProfileError> {
        let (mut replica, lost_rev) = self.load_set_noting_lost()?;
        // Manifests a computer declared lost signed no longer count: the set is signed again
        // from the blog document (which no longer holds what only that computer vouched
        // for), whole, above their rev.
        let merged = match (replica.merged(), lost_rev) {
            (Some(m), _) => m,
            (None, Some(rev)) => {
                let settings = self.with_blog(|b| Ok(spokes_core::upgrade::site_settings(b)))?;
                let mut m = spokes_core::manifest::Manifest::new(self.blog_id().clone(), &settings);
                m.rev = rev;
                m
            }
            (None, None) => return Ok(false),
        };
        let mut next = merged.next_revision();
        if let Some(rev) = lost_rev {
            next.rev = next.rev.max(rev + 1);
        }
        // Only the posts that changed in the blog document since the last signing, and the
        // scheduled posts whose date came, are read: a publish of one post costs one post.
        // Without a record of the last signing (just upgraded), every post is read.
        let mark: Option<SignMark> = if lost_rev.is_some() { None } else { std::fs::read(self.path(SIGNED)).ok().and_then(|b| serde_json::from_slice(&b).ok()) };
        type Read = (Vec<Post>, Vec<automerge::ChangeHash>, Vec<(String, DateTime<FixedOffset>)>, Option<BTreeSet<String>>);
        let (posts, heads, waiting, read): Read = self.with_blog(|b| {
            let heads = b.heads();
            // The posts changed since the last signing, and the scheduled ones it held back.
            let read: Option<BTreeSet<String>> = mark.as_ref().and_then(|m| {
                let before: Vec<automerge::ChangeHash> = m.blog_heads.iter().filter_map(|h| h.parse().ok()).collect();
                b.changed_post_ids_between(&before, &heads).ok().map(|mut ids| {
                    ids.extend(m.scheduled.iter().map(|(id, _)| id.clone()));
                    ids
                })
            });
            // The next signing reads what changes from here on (when this copy stays open).
            b.record_changes_from_here();
            let posts: Vec<Post> = match &read {
                Some(ids) => ids.iter().filter_map(|id| b.post(id)).collect(),
                None => b.posts(),
            };
            let live: Vec<Post> = posts.into_iter().filter(|p| p.state == PostState::Published && !b.is_deleted(&p.id)).collect();
            let waiting = live.iter().filter(|p| p.date > now).map(|p| (p.id.clone(), p.date)).collect();
            Ok((live, heads, waiting, read))
        })?;
        let due: Vec<&Post> = posts.iter().filter(|p| p.date <= now && is_post_id(&p.id) && spokes_core::doc::is_slug(&p.slug)).collect();
        let mut changed = BTreeSet::new();
        let mut settled = BTreeSet::new();
        let mut listed_images = Vec::new();
        let conflicts = self.set_conflicts();
        let actor = automerge::ActorId::random();
        for p in &due {
            let blog = self.blog_id().clone();
            let loaded = self.load_set_post(&p.id);
            let d = replica.posts.entry(p.id.clone()).or_insert_with(|| loaded.unwrap_or_else(|| PostDoc::create(&blog, &p.id, actor.clone())));
            d.set_actor(actor.clone());
            let content = PostContent { title: p.title.clone(), body: p.body.clone(), tags: p.tags.clone() };
            // A post written on two computers at once whose words here are still the ones the
            // fold picked of the two: left as it is (both edits stay listed) until the drafts'
            // merge of both is published; that write settles it.
            if conflicts.contains(&p.id) && d.has_conflicts() && d.content() == content {
                next.put_post(&p.id, &p.slug, p.date, p.updated, &d.heads());
                continue;
            }
            if d.write(&content, now.timestamp()).map_err(|e| ProfileError::Signing(e.to_string()))?.is_some() {
                changed.insert(p.id.clone());
                settled.insert(p.id.clone());
            }
            let heads = d.heads();
            next.put_post(&p.id, &p.slug, p.date, p.updated, &heads);
            if changed.contains(&p.id) {
                listed_images.push((p.id.clone(), heads, content.body));
            }
        }
        self.note_set_conflicts(&BTreeSet::new(), &settled)?;
        // Gone: listed, but not live and due now. With a partial read, only the posts read
        // can have gone (a post leaves only through a change of the blog document).
        let live: BTreeSet<&str> = due.iter().map(|p| p.id.as_str()).collect();
        let gone: Vec<String> = next.posts().map(|(id, _)| id.clone()).filter(|id| read.as_ref().is_none_or(|r| r.contains(id)) && !live.contains(id.as_str())).collect();
        for id in &gone {
            next.forget(id);
        }
        next.set_settings(&self.site_settings(merged.site_settings().unwrap_or_default())?);
        let same = next.entries() == merged.entries() && next.settings == merged.settings;
        let mark = SignMark { blog_heads: heads.iter().map(ToString::to_string).collect(), scheduled: waiting, settings: Some(self.signed_settings_mark()?) };
        if same && replica.frontier.len() == 1 && lost_rev.is_none() {
            self.write(SIGNED, &serde_json::to_vec(&mark).unwrap_or_default())?;
            return Ok(false);
        }
        let signed = SignedManifest::sign(next, key).map_err(|e| ProfileError::Signing(e.to_string()))?;
        let old = std::mem::take(&mut replica.frontier);
        replica.frontier.push(signed);
        replica.recent = old.into_iter().chain(std::mem::take(&mut replica.recent)).take(spokes_sync::set::MAX_RECENT).collect();
        for id in &gone {
            replica.posts.remove(id);
        }
        self.save_set(&mut replica, &changed, &gone.into_iter().collect())?;
        self.note_set_images(&listed_images);
        if let Some(m) = replica.merged() {
            self.remember_folded(&m)?;
        }
        self.write(SIGNED, &serde_json::to_vec(&mark).unwrap_or_default())?;
        Ok(true)
    }

    /// The blog's settings and spokes as a manifest signed now would carry them (the part
    /// [`Profile::site_settings`] takes from the drafts), for the record of the last signing.
    fn signed_settings_mark(&self) -> Result<serde_json::Value, ProfileError> {
        let spokes: Vec<spokes_core::SpokeAddr> = self.spokes().iter().map(|s| s.spoke_addr()).collect();
        Ok(serde_json::json!({ "blog": self.settings()?, "spokes": spokes }))
    }

    /// Whether the next publish has more to sign than changed drafts: the blog's settings or
    /// spokes differ from those last signed, or a scheduled post's date has come. (Posts are
    /// published and withdrawn only by signings, and what another computer signed needs no
    /// signing here, so the blog document itself is not read: it stays unloaded.) `true` when
    /// that cannot be told (a blog not yet kept as a set, no readable record of the last
    /// signing, or one written before it kept the settings): publishing is then always
    /// offered, as before the record existed. Reads `set/signed.json` and the settings; no
    /// signing, no network.
    pub fn unsigned_blog_changes(&self) -> Result<bool, ProfileError> {
        if !self.is_set() {
            return Ok(true);
        }
        let Some(mark) = std::fs::read(self.path(SIGNED)).ok().and_then(|b| serde_json::from_slice::<SignMark>(&b).ok()) else {
            return Ok(true);
        };
        let now = chrono::Utc::now();
        Ok(mark.scheduled.iter().any(|(_, date)| *date <= now) || mark.settings.as_ref() != Some(&self.signed_settings_mark()?))
    }

    /// The settings a manifest of this profile carries: the blog's settings and chosen spokes
    /// as they are now, with the owner and ID salt of `base`.
    fn site_settings(&self, base: SiteSettings) -> Result<SiteSettings, ProfileError> {
        Ok(SiteSettings { blog: self.settings()?, spokes: self.spokes().iter().map(|s| s.spoke_addr()).collect(), ..base })
    }

    /// Sends the set to every target over `spokes/sync/2`, taking in what they bring (the
    /// writer's other computers' manifests and post documents, verified), then exchanges
    /// pictures. Failures are recorded per spoke, as version 1 does.
    ///
    /// The sessions run at once, each on its own copy of the set, and keep nothing: a publish
    /// that the spokes only take costs one round for all of them. A spoke that brought
    /// something gets a second session, one spoke after another, whose results are saved
    /// before it ends (the spoke sends the same again).
    pub(crate) async fn sync_set_with_pool(&self, pool: &spokes_sync::peer::ConnectionPool, targets: &[SpokeTarget]) -> Result<PublishSummary, ProfileError> {
        let mut status: BTreeMap<String, SpokeStatus> = self.load_status();
        let now = chrono::Utc::now().to_rfc3339();
        let base = self.load_set()?;
        // A session's result in the spoke's status line: when it ended well, the frontier the
        // spoke now holds (`replica`'s); otherwise the reason, in the writer's words.
        let record = |status: &mut BTreeMap<String, SpokeStatus>, t: &SpokeTarget, r: Result<u64, spokes_sync::SyncError>, replica: &SetReplica| {
            let s = status.entry(t.endpoint.clone()).or_insert_with(|| SpokeStatus { endpoint: t.endpoint.clone(), ..Default::default() });
            s.last_attempt = Some(now.clone());
            match r {
                Ok(bytes) => {
                    s.last_bytes_sent = Some(bytes);
                    s.last_success = Some(now.clone());
                    s.last_error = None;
                    s.heads = replica.frontier.iter().map(|m| hex::encode(m.hash())).collect();
                }
                Err(e) => {
                    tracing::warn!(spoke = t.endpoint, "sync failed: {e}");
                    s.last_error = Some(crate::publish::plain(&e));
                }
            }
        };
        let sessions = targets.iter().map(|t| {
            let mut replica = base.clone_manifests();
            async move {
                let r = match t.endpoint_addr() {
                    Err(e) => Err(spokes_sync::SyncError::Connect(e)),
                    Ok(addr) => pool.set_session(addr, t.token.clone(), &mut replica, &mut SetPosts(self), |_, _| Ok(())).await,
                };
                (t, r)
            }
        });
        let first = futures_util::future::join_all(sessions).await;
        let mut again = Vec::new();
        for (t, r) in first {
            match r {
                Ok(out) if out.new_manifests > 0 || !out.changed_posts.is_empty() || !out.forgotten.is_empty() || out.certificate_changed || out.frontier_changed => again.push(t.clone()),
                r => record(&mut status, t, r.map(|o| o.bytes_sent), &base),
            }
        }
        // Read once; each session's result is saved before it ends, so the next session starts
        // from it. A failed session may have left the copy half-changed: it is read again.
        let mut replica = base;
        for t in &again {
            let r = match t.endpoint_addr() {
                Err(e) => Err(spokes_sync::SyncError::Connect(e)),
                Ok(addr) => {
                    pool.set_session(addr, t.token.clone(), &mut replica, &mut SetPosts(self), |rep, out| {
                        let internal = |e: ProfileError| spokes_sync::RemoteError::new(Code::Internal, e.to_string());
                        // Devices added on the writer's other computers: their manifests are
                        // read back against the certificate that names them.
                        if out.certificate_changed
                            && let Some(c) = &rep.certificate
                        {
                            self.merge_certificate(c).map_err(internal)?;
                        }
                        let changed = out.changed_posts.clone();
                        self.save_set(rep, &changed, &out.forgotten).map_err(internal)
                    })
                    .await
                }
            };
            let failed = r.is_err();
            record(&mut status, t, r.map(|o| o.bytes_sent), &replica);
            if failed {
                replica = self.load_set()?;
            }
        }
        let synced: Vec<SpokeTarget> = targets.iter().filter(|t| status.get(&t.endpoint).is_some_and(|s| s.last_error.is_none())).cloned().collect();
        for (endpoint, problem) in self.sync_images(pool, &synced).await? {
            if let Some(s) = status.get_mut(&endpoint) {
                s.last_error = Some(problem);
                s.heads.clear();
            }
        }
        self.write("status.json", &serde_json::to_vec_pretty(&status).unwrap_or_default())?;
        self.status(targets)
    }

    /// The hex hashes of the manifests this computer holds (what an up-to-date spoke holds).
    pub(crate) fn set_heads(&self) -> Result<Vec<String>, ProfileError> {
        Ok(self.load_set()?.frontier.iter().map(|m| hex::encode(m.hash())).collect())
    }

    /// Folds the set's merged view into the blog document: posts published (or changed) on
    /// another computer are published here too, posts gone there are unpublished here, as one
    /// revision signed with `key`. Returns how many posts changed. No network.
    pub fn fold_set(&self, key: &mut SigningKey) -> Result<usize, ProfileError> {
        Ok(self.fold_set_posts(key)?.len())
    }

    /// [`Profile::fold_set`], giving the IDs of the posts that changed.
    fn fold_set_posts(&self, key: &mut SigningKey) -> Result<Vec<String>, ProfileError> {
        let replica = self.load_set()?;
        let Some(merged) = replica.merged() else { return Ok(Vec::new()) };
        // Only the leaves that changed since the last fold (or this computer's last publish)
        // are read: a sync that brings one post costs one post.
        let anchor = self.cached_anchor();
        let candidates: Vec<String> = match (self.folded(), &anchor) {
            (Folded::OnAnchor { anchor: named, leaves }, Some(a)) if named == hex::encode(a.hash()) => {
                // A post that differs neither from the anchor nor in the record was folded.
                let ids: BTreeSet<String> = merged.changed_since(&a.manifest).into_iter().chain(leaves.keys().cloned()).collect();
                let folded_leaf = |id: &str| leaves.get(id).map(|l| l.as_bytes()).or_else(|| a.manifest.leaf(id));
                ids.into_iter().filter(|id| merged.leaf(id) != folded_leaf(id)).collect()
            }
            (Folded::Whole(folded), _) => merged.entries().keys().filter(|id| merged.leaf(id).is_none_or(|l| std::str::from_utf8(l).is_ok_and(|l| !folded.contains(l)))).cloned().collect(),
            // A record on an anchor no longer held: every post is compared.
            (Folded::OnAnchor { .. }, _) => merged.entries().keys().cloned().collect(),
        };
        let mut wanted: Vec<(String, Option<Post>)> = Vec::new();
        let (mut conflicted, mut settled) = (BTreeSet::new(), BTreeSet::new());
        for (id, entry) in candidates.iter().filter_map(|id| merged.entries().get(id).map(|e| (id, e))) {
            match entry {
                Entry::Post(l) => {
                    let d = match replica.posts.get(id) {
                        Some(d) => Some(d.clone()),
                        None => self.load_set_post(id),
                    };
                    if let Some(d) = d {
                        if d.has_conflicts() { &mut conflicted } else { &mut settled }.insert(id.clone());
                        wanted.push((id.clone(), Some(d.post(id, l))));
                    }
                }
                Entry::Gone { .. } => {
                    settled.insert(id.clone());
                    wanted.push((id.clone(), None));
                }
            }
        }
        self.note_set_conflicts(&conflicted, &settled)?;
        let blog_id = self.blog_id().clone();
        let (n, statement, changed, before, after) = self.with_blog(|blog| {
            let mut changed: Vec<String> = Vec::new();
            let before = blog.heads();
            for (id, post) in &wanted {
                let here = blog.post(id);
                match post {
                    Some(p) => {
                        let same = here.as_ref().is_some_and(|h| h.state == PostState::Published && h.title == p.title && h.body == p.body && h.tags == p.tags && h.slug == p.slug && h.date == p.date);
                        if !same {
                            blog.put_post(p)?;
                            changed.push(id.clone());
                        }
                    }
                    None => {
                        if let Some(mut h) = here.filter(|h| h.state == PostState::Published) {
                            h.state = PostState::Unpublished;
                            blog.put_post(&h)?;
                            changed.push(id.clone());
                        }
                    }
                }
            }
            let n = changed.len();
            let st = if n > 0 { commit_signed(&blog_id, blog, key, &format!("take in {n} posts from the published set"))? } else { None };
            Ok((n, st, changed, before, blog.heads()))
        })?;
        if let Some(st) = statement {
            self.append_statement(st)?;
        }
        // Who brought each change: the keys whose manifests carry the leaf folded (none when
        // this computer's own manifest carries it too).
        let own = self.device_key().map(str::to_uppercase);
        self.append_received(crate::received::entries_by_signer(&changed, replica.frontier.iter(), &merged, own.as_deref(), &before, &after))?;
        self.remember_folded(&merged)?;
        debug_assert_eq!(n, changed.len());
        // The list shows what the other computers published.
        self.refresh_published(Some(&changed))?;
        Ok(changed)
    }

    /// The posts written on two computers at once that wait to be published again from the
    /// drafts (see [`CONFLICTS`]). A missing, damaged or newer file reads as none: the words
    /// are still all in the post document, and the next write of the post settles it.
    pub(crate) fn set_conflicts(&self) -> BTreeSet<String> {
        std::fs::read(self.path(CONFLICTS)).ok().and_then(|b| serde_json::from_slice::<ConflictsFile>(&b).ok()).filter(|f| f.version == CONFLICTS_VERSION).map(|f| f.posts).unwrap_or_default()
    }

    /// Adds `found` to the list of posts written on two computers at once and takes `settled`
    /// off it; writes the file only when that changes it.
    fn note_set_conflicts(&self, found: &BTreeSet<String>, settled: &BTreeSet<String>) -> Result<(), ProfileError> {
        let before = self.set_conflicts();
        let after: BTreeSet<String> = before.iter().filter(|id| !settled.contains(*id)).chain(found).cloned().collect();
        if after == before {
            return Ok(());
        }
        self.write(CONFLICTS, &serde_json::to_vec(&ConflictsFile { version: CONFLICTS_VERSION, posts: after }).unwrap_or_default())
    }

    /// The merged manifest this computer's blog document last matched (nothing when the
    /// record is missing or unreadable: every post is then compared).
    fn folded(&self) -> Folded {
        let bytes = std::fs::read(self.path(FOLDED)).unwrap_or_default();
        if let Ok(f) = serde_json::from_slice::<FoldedFile>(&bytes)
            && f.version == 2
        {
            let leaves = f.leaves.into_iter().filter_map(|l| spokes_core::manifest::parse_leaf(l.as_bytes()).ok().map(|(id, _)| (id, l))).collect();
            return Folded::OnAnchor { anchor: f.anchor, leaves };
        }
        Folded::Whole(serde_json::from_slice::<Vec<String>>(&bytes).unwrap_or_default().into_iter().collect())
    }

    /// Records that the blog document matches `m`'s leaves: as its difference from the
    /// anchor when `m` lists every post the anchor does (a publish of one post writes one
    /// leaf), else whole.
    fn remember_folded(&self, m: &spokes_core::manifest::Manifest) -> Result<(), ProfileError> {
        let anchor = self.cached_anchor();
        let bytes = match anchor.filter(|a| m.lists_all_of(&a.manifest)) {
            Some(a) => {
                let leaves = m.added_or_changed_since(&a.manifest).iter().filter_map(|id| m.leaf(id)).map(|l| String::from_utf8_lossy(l).into_owned()).collect();
                serde_json::to_vec(&FoldedFile { version: 2, anchor: hex::encode(a.hash()), leaves })
            }
            None => serde_json::to_vec(&m.leaf_texts()),
        };
        self.write(FOLDED, &bytes.unwrap_or_default())
    }
}


/// The published set an export archive carried, verified whole against `certificate` (the
/// archive's, which knows every computer that signed it) before anything is written.
///
/// Errors: `Archive(Verification)` when a manifest or post document does not verify,
/// `Damaged` when `set/manifests.json` is unreadable, `NewerVersion`.
pub(crate) fn archived_set(set: spokes_core::archive::ArchiveSet, certificate: &spokes_core::Certificate, blog_id: &spokes_core::BlogId) -> Result<SetReplica, ProfileError> {
    let damaged = |m: String| ProfileError::Damaged { path: "the archive's set/manifests.json".into(), message: m };
    let file: ManifestsFile = serde_json::from_slice(&set.manifests).map_err(|e| damaged(e.to_string()))?;
    if file.version != 1 {
        return Err(ProfileError::NewerVersion(file.version));
    }
    let bad = |m: String| ProfileError::Archive(spokes_core::archive::ArchiveError::Verification(m));
    if file.frontier.is_empty() || file.frontier.len() > spokes_sync::set::MAX_FRONTIER {
        return Err(damaged(format!("{} manifests in the frontier; 1 to {} expected", file.frontier.len(), spokes_sync::set::MAX_FRONTIER)));
    }
    let frontier = file.frontier.iter().map(|m| m.open(certificate, blog_id)).collect::<Result<Vec<_>, _>>().map_err(|e| bad(e.to_string()))?;
    let recent = file.recent.iter().take(spokes_sync::set::MAX_RECENT).filter_map(|m| m.open(certificate, blog_id).ok()).collect();
    let mut replica = SetReplica { blog_id: blog_id.clone(), certificate: Some(certificate.clone()), frontier, recent, posts: BTreeMap::new(), rejected: None };
    let saved: Vec<(&str, &[u8])> = set.posts.iter().map(|(id, b)| (id.as_str(), b.as_slice())).collect();
    // Each document was checked against expansion as the archive was read.
    replica.posts = spokes_sync::set::load_checked_posts(blog_id, &saved).map_err(|(id, e)| bad(format!("post {id}: {e}")))?;
    let verified = spokes_sync::set::VerifiedSet::verify(replica, &mut |_: &str| None).map_err(|b| bad(b.1.message))?;
    // Every live post must come with its document: a set missing one would publish without it.
    if let Some(m) = verified.merged()
        && let Some((id, _)) = m.posts().find(|(id, _)| !set.posts.contains_key(*id))
    {
        return Err(bad(format!("post {id} is listed but its document is missing")));
    }
    Ok(verified.into_replica())
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::BlogSettings;

    /// The list of posts written on two computers at once: added to and settled from, written
    /// only when it changes; a damaged or newer file reads as none (the words all stay in
    /// the post documents, so nothing is lost), and the next note writes it afresh.
    #[test]
    fn the_conflicts_list_is_noted_settled_and_survives_a_damaged_file() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Profile::create(tmp.path(), "Ada", "pw", &BlogSettings { title: "Notes".into(), ..Default::default() }).unwrap();
        std::fs::create_dir_all(p.path("set")).unwrap();
        let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<String>>();
        assert!(p.set_conflicts().is_empty());
        p.note_set_conflicts(&ids(&["00000000000000a1", "00000000000000b2"]), &BTreeSet::new()).unwrap();
        p.note_set_conflicts(&BTreeSet::new(), &ids(&["00000000000000a1"])).unwrap();
        assert_eq!(p.set_conflicts(), ids(&["00000000000000b2"]));
        let written = std::fs::metadata(p.path(CONFLICTS)).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        p.note_set_conflicts(&ids(&["00000000000000b2"]), &ids(&["00000000000000c3"])).unwrap();
        assert_eq!(std::fs::metadata(p.path(CONFLICTS)).unwrap().modified().unwrap(), written, "nothing changed, nothing written");
        for damaged in [&b"{\"version\": 1, \"posts\": ["[..], b"{\"version\": 2, \"posts\": []}"] {
            std::fs::write(p.path(CONFLICTS), damaged).unwrap();
            assert!(p.set_conflicts().is_empty());
        }
        p.note_set_conflicts(&ids(&["00000000000000c3"]), &BTreeSet::new()).unwrap();
        assert_eq!(p.set_conflicts(), ids(&["00000000000000c3"]));
    }

    /// Publishing is offered when the blog has something no signature covers yet: not after a
    /// signing, again after a change of the blog's settings, and whenever the record of the
    /// last signing is missing or damaged (then always, as before the record existed).
    #[test]
    fn unsigned_blog_changes_follow_the_last_signing() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Profile::create(tmp.path(), "Ada", "pw", &BlogSettings { title: "Notes".into(), ..Default::default() }).unwrap();
        p.new_post("First", "Marmalade.", &[]).unwrap();
        let mut key = p.unlock("pw").unwrap();
        p.publish_local(&mut key, None).unwrap();
        if !p.is_set() {
            assert!(p.unsigned_blog_changes().unwrap(), "not yet a set: always offered");
            p.upgrade_to_set(&mut key, chrono::Utc::now().fixed_offset()).unwrap();
        }
        p.sign_set(&mut key, chrono::Utc::now().fixed_offset()).unwrap();
        assert!(!p.unsigned_blog_changes().unwrap(), "just signed: nothing new");
        p.set_settings(&BlogSettings { title: "Notes and letters".into(), ..Default::default() }).unwrap();
        assert!(p.unsigned_blog_changes().unwrap(), "new settings wait for a publish");
        assert!(p.sign_set(&mut key, chrono::Utc::now().fixed_offset()).unwrap());
        assert!(!p.unsigned_blog_changes().unwrap());
        for damaged in [&b"{\"blog_heads\": ["[..], b"", b"[]"] {
            std::fs::write(p.path(SIGNED), damaged).unwrap();
            assert!(p.unsigned_blog_changes().unwrap(), "a damaged record offers publishing");
        }
        std::fs::remove_file(p.path(SIGNED)).unwrap();
        assert!(p.unsigned_blog_changes().unwrap());
    }

    /// The checked manifests are kept between reads, but a change to the file on disk (a
    /// broken disk, another program) is always seen: the file is read and hashed every time.
    #[test]
    fn the_kept_manifests_never_hide_a_change_on_disk() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Profile::create(tmp.path(), "Ada", "pw", &BlogSettings { title: "Notes".into(), ..Default::default() }).unwrap();
        p.new_post("First", "Marmalade.", &[]).unwrap();
        let mut key = p.unlock("pw").unwrap();
        p.publish_local(&mut key, None).unwrap();
        assert_eq!(p.upgrade_to_set(&mut key, chrono::Utc::now().fixed_offset()).unwrap(), 1);
        let first = p.load_set().unwrap();
        assert_eq!(p.load_set().unwrap().frontier, first.frontier, "read again, the same");
        // The leaf is in the anchor the manifests file names.
        let file: ManifestsFile = serde_json::from_slice(&std::fs::read(p.path(MANIFESTS)).unwrap()).unwrap();
        let path = p.path(&anchor_file(file.anchor.as_deref().unwrap()));
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace(" first ", " fiRst ")).unwrap();
        assert!(matches!(p.load_set(), Err(ProfileError::Damaged { .. })), "an altered leaf no longer matches its signed root");
        std::fs::write(&path, &text).unwrap();
        assert_eq!(p.load_set().unwrap().frontier, first.frontier);
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(p.load_set(), Err(ProfileError::Io { .. })), "a missing anchor is an error, not an empty blog");
    }

    /// A post document is read once and then kept, but a file changed on disk since (a
    /// session, a restore, a broken disk) is always read again, and a damaged one is no
    /// document, whatever was kept.
    #[test]
    fn a_kept_post_document_never_hides_a_change_on_disk() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Profile::create(tmp.path(), "Ada", "pw", &BlogSettings { title: "Notes".into(), ..Default::default() }).unwrap();
        let post = p.new_post("First", "Marmalade.", &[]).unwrap();
        let mut key = p.unlock("pw").unwrap();
        p.publish_local(&mut key, None).unwrap();
        p.upgrade_to_set(&mut key, chrono::Utc::now().fixed_offset()).unwrap();
        let body = |p: &Profile| p.load_set_post(&post.id).map(|d| d.content().body);
        assert_eq!(body(&p).as_deref(), Some("Marmalade."));
        // A name a peer asks for that is no post ID reads no file, even one that exists.
        let beside = format!("../posts/{}", post.id);
        assert!(p.set_post_bytes(&beside).is_none() && p.load_set_post(&beside).is_none());
        // Another program writes the file: a later state of the same document.
        let path = p.path(&format!("set/posts/{}.automerge", post.id));
        let mut d = PostDoc::load_checked(&std::fs::read(&path).unwrap(), p.blog_id(), &post.id).unwrap();
        d.write(&PostContent { title: "First".into(), body: "Lemon curd.".into(), tags: vec![] }, 1).unwrap();
        std::fs::write(&path, d.save()).unwrap();
        assert_eq!(body(&p).as_deref(), Some("Lemon curd."), "the kept document hid the file's change");
        std::fs::write(&path, b"not a document").unwrap();
        assert_eq!(body(&p), None);
        // The profile's own write is what the next read finds.
        let mut replica = p.load_set().unwrap();
        replica.posts.insert(post.id.clone(), d);
        p.save_set(&mut replica, &BTreeSet::from([post.id.clone()]), &BTreeSet::new()).unwrap();
        assert_eq!(body(&p).as_deref(), Some("Lemon curd."));
    }

    /// A publish of one post writes that post's leaf, not the whole index: the manifests are
    /// kept as differences from an anchor, which is replaced (and the old one deleted) once
    /// the newest manifest has moved far from it. A fresh read finds the same set, and a
    /// version 1 file (every manifest whole) is still read.
    #[test]
    fn manifests_are_kept_as_differences_from_an_anchor() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Profile::create(tmp.path(), "Ada", "pw", &BlogSettings { title: "Notes".into(), ..Default::default() }).unwrap();
        for i in 0..300 {
            p.new_post(&format!("Post {i}"), "Words.", &[]).unwrap();
        }
        let mut key = p.unlock("pw").unwrap();
        p.publish_local(&mut key, None).unwrap();
        assert_eq!(p.upgrade_to_set(&mut key, chrono::Utc::now().fixed_offset()).unwrap(), 300);
        let anchors = || std::fs::read_dir(p.path("set")).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with("anchor-")).collect::<Vec<_>>();
        let first_anchor = anchors();
        assert_eq!(first_anchor.len(), 1);
        let posts = p.posts().unwrap();
        // One edit: the manifests file holds the new leaf, the old one (now recent) and settings.
        let mut edited = posts[0].post.clone();
        edited.body = "Other words.".into();
        p.update_post(&edited).unwrap();
        p.publish_local(&mut key, Some(std::slice::from_ref(&edited.id))).unwrap();
        assert!(p.sign_set(&mut key, chrono::Utc::now().fixed_offset()).unwrap());
        let file: ManifestsFile = serde_json::from_slice(&std::fs::read(p.path(MANIFESTS)).unwrap()).unwrap();
        assert_eq!(file.version, MANIFESTS_VERSION);
        assert_eq!(file.frontier[0].leaves.len(), 1, "one leaf for one edited post");
        assert!(std::fs::metadata(p.path(MANIFESTS)).unwrap().len() < 4096);
        assert_eq!(anchors(), first_anchor);
        let fresh = Profile::open(tmp.path()).unwrap().load_set().unwrap();
        assert_eq!(fresh.frontier, p.load_set().unwrap().frontier);
        assert_eq!(fresh.recent, p.load_set().unwrap().recent);
        // Past 256 changed leaves (an eighth of 300 is less), the newest becomes the anchor.
        for post in posts.iter().take(260) {
            let mut e = post.post.clone();
            e.body = "Changed again.".into();
            p.update_post(&e).unwrap();
        }
        p.publish_local(&mut key, None).unwrap();
        assert!(p.sign_set(&mut key, chrono::Utc::now().fixed_offset()).unwrap());
        let now = anchors();
        assert_eq!(now.len(), 1, "the old anchor is deleted");
        assert_ne!(now, first_anchor);
        let file: ManifestsFile = serde_json::from_slice(&std::fs::read(p.path(MANIFESTS)).unwrap()).unwrap();
        assert_eq!(file.frontier[0].leaves.len(), 0, "the newest is the anchor");
        assert_eq!(Profile::open(tmp.path()).unwrap().load_set().unwrap().frontier, p.load_set().unwrap().frontier);
        // Nothing to take in: the record of what the blog document matches is on the anchor.
        assert_eq!(p.fold_set(&mut key).unwrap(), 0);
        // Version 1, every manifest whole, as earlier builds wrote it.
        let set = p.load_set().unwrap();
        let v1 = ManifestsFile { version: 1, frontier: set.frontier.iter().map(StoredManifest::of).collect(), recent: set.recent.iter().map(StoredManifest::of).collect(), anchor: None };
        std::fs::write(p.path(MANIFESTS), serde_json::to_vec(&v1).unwrap()).unwrap();
        assert_eq!(Profile::open(tmp.path()).unwrap().load_set().unwrap().frontier, set.frontier);
        assert_eq!(p.fold_set(&mut key).unwrap(), 0);
    }
}
