//! The drafts, one document per post (profile layout 4).
//!
//! - `drafts/index.automerge` (with its log): the drafts' settings and every post *without
//!   its text*: title, slug, tags, dates, state, `deleted_at`, and two fields only the index
//!   keeps: `published` (`yes` while the post's published copy is shown to readers) and
//!   `published_updated` (the post's `updated` value when it was last published; the post
//!   changed since if its `updated` differs). The post list, slugs and settings come from the
//!   index alone, so opening a blog of any size reads one small document.
//! - `drafts/posts/<id>.automerge` (with its log): one post, with its text as Automerge text.
//!   A post's document is the truth about it; its index entry is written from it after every
//!   change ([`Profile::with_draft`]). Documents are read when a post is opened and at most
//!   [`crate::store::POSTS_HELD`] stay in memory.
//!
//! Every drafts document of a blog starts with the same genesis change, and each post's
//! document with a second change made the same on every computer
//! ([`BlogDoc::create_post_draft`]), so the writer's computers merge a post field by field and
//! character by character.
//!
//! Between the writer's computers the drafts travel sealed as a *bundle*
//! ([`BUNDLE_MAGIC`]): the files of the index and of every post, as they are on disk.
//!
//! A profile of layout 3 or earlier kept the drafts as one document, `drafts.automerge`; it
//! is split when the profile is opened ([`Profile::split_drafts`]) and kept beside as
//! `drafts.automerge.before-layout-4`.

use crate::profile::{PostSummary, Profile, ProfileError, next_free_slug};
use crate::store::{POSTS_DIR, Which};
use spokes_core::doc::{DocError, TextForm};
use spokes_core::manifest::is_post_id;
use spokes_core::{BlogDoc, Post, PostState};
use std::collections::{BTreeMap, HashSet};

/// The start of a sealed drafts bundle, version 1. Then, until the end, entries of
/// `name length (u16, big-endian) | name (UTF-8) | length (u32, big-endian) | bytes`. Names:
/// `index`, `index.log`, `post/<id>`, `post/<id>.log` (a document's full save and its log of
/// later changes, as the files hold them). Anything else is refused whole.
pub const BUNDLE_MAGIC: &[u8] = b"spokes drafts bundle v1\n";

/// The most entries a bundle may hold (two per post and two for the index).
pub const BUNDLE_MAX_ENTRIES: usize = 2 * 200_000 + 2;

/// Index-only field: `yes` while the post's published copy is shown to readers.
const PUBLISHED: &str = "published";
/// Index-only field: the post's `updated` value as of its last publish.
const PUBLISHED_UPDATED: &str = "published_updated";

/// Errors reading a drafts bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The bytes are not a bundle of this version, or are cut short.
    #[error("the drafts bundle is malformed: {0}")]
    Malformed(String),
}

/// A drafts bundle as read: the documents' files by name.
#[derive(Debug, Default)]
pub struct Bundle {
    /// `(full save, log)` of the index.
    pub index: (Vec<u8>, Vec<u8>),
    /// `(full save, log)` of each post's document, by post ID.
    pub posts: BTreeMap<String, (Vec<u8>, Vec<u8>)>,
}

impl Bundle {
    /// Writes the bundle (see [`BUNDLE_MAGIC`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = BUNDLE_MAGIC.to_vec();
        let mut put = |name: &str, bytes: &[u8]| {
            out.extend_from_slice(&(name.len() as u16).to_be_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            out.extend_from_slice(bytes);
        };
        put("index", &self.index.0);
        put("index.log", &self.index.1);
        for (id, (base, log)) in &self.posts {
            put(&format!("post/{id}"), base);
            put(&format!("post/{id}.log"), log);
        }
        out
    }

    /// Reads a bundle.
    ///
    /// Errors: [`BundleError::Malformed`] for another format, a cut entry, an unknown or
    /// repeated name, a post ID that is not one, more than [`BUNDLE_MAX_ENTRIES`] entries.
    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle, BundleError> {
        let bad = |m: &str| BundleError::Malformed(m.to_owned());
        let mut rest = bytes.strip_prefix(BUNDLE_MAGIC).ok_or_else(|| bad("it does not start as a version 1 bundle"))?;
        let mut b = Bundle::default();
        let mut seen = HashSet::new();
        let take = |n: usize, rest: &mut &[u8]| -> Result<Vec<u8>, BundleError> {
            if rest.len() < n {
                return Err(bad("an entry is cut short"));
            }
            let (a, r) = rest.split_at(n);
            *rest = r;
            Ok(a.to_vec())
        };
        while !rest.is_empty() {
            if seen.len() >= BUNDLE_MAX_ENTRIES {
                return Err(bad("too many entries"));
            }
            let n = u16::from_be_bytes(take(2, &mut rest)?.try_into().map_err(|_| bad("length"))?) as usize;
            let name = String::from_utf8(take(n, &mut rest)?).map_err(|_| bad("a name is not UTF-8"))?;
            let len = u32::from_be_bytes(take(4, &mut rest)?.try_into().map_err(|_| bad("length"))?) as usize;
            let data = take(len, &mut rest)?;
            if !seen.insert(name.clone()) {
                return Err(BundleError::Malformed(format!("`{}` appears twice", name.escape_debug())));
            }
            match name.as_str() {
                "index" => b.index.0 = data,
                "index.log" => b.index.1 = data,
                other => {
                    let (id, log) = match other.strip_prefix("post/") {
                        Some(id) => id.strip_suffix(".log").map_or((id, false), |id| (id, true)),
                        None => return Err(BundleError::Malformed(format!("unknown entry `{}`", other.escape_debug()))),
                    };
                    if !is_post_id(id) {
                        return Err(BundleError::Malformed(format!("`{}` is not a post ID", id.escape_debug())));
                    }
                    let e = b.posts.entry(id.to_owned()).or_default();
                    if log { e.1 = data } else { e.0 = data }
                }
            }
        }
        if b.index.0.is_empty() {
            return Err(bad("it has no index"));
        }
        if let Some((id, _)) = b.posts.iter().find(|(_, (base, _))| base.is_empty()) {
            return Err(BundleError::Malformed(format!("post {id} has a log but no document")));
        }
        Ok(b)
    }
}

/// Loads a document from its full save and log, as the store does.
fn load_pair(base: &[u8], log: &[u8]) -> Result<BlogDoc, DocError> {
    let mut d = BlogDoc::load(base)?;
    if !log.is_empty() {
        // Complete changes are applied; a torn last one is skipped.
        let _ = d.automerge().load_incremental(log);
    }
    Ok(d)
}

fn not_found(e: &ProfileError) -> bool {
    matches!(e, ProfileError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
}

/// The list of posts as the index has it: every post not in the bin, newest first.
pub(crate) fn index_summaries(idx: &BlogDoc) -> Vec<PostSummary> {
    idx.posts_with_fields()
        .into_iter()
        .filter(|(_, f)| f.get("deleted_at").is_none_or(|d| d.is_empty()))
        .map(|(post, f)| {
            let published = f.get(PUBLISHED).is_some_and(|v| v == "yes");
            let changed = f.get(PUBLISHED_UPDATED) != f.get("updated");
            PostSummary { post, published, changed_since_published: changed }
        })
        .collect()
}

/// Writes `post`'s index entry (everything but its text) into `idx`; with `None`, removes it.
fn put_entry(idx: &mut BlogDoc, id: &str, post: Option<&Post>, deleted_at: Option<&str>) -> Result<(), DocError> {
    match post {
        Some(p) => {
            idx.put_post_as(&Post { body: String::new(), ..p.clone() }, TextForm::Snapshot)?;
            if idx.post_field(id, "deleted_at").as_deref().unwrap_or("") != deleted_at.unwrap_or("") {
                idx.set_deleted(id, deleted_at)?;
            }
        }
        None if idx.post_slug(id).is_some() => idx.delete_post(id)?,
        None => {}
    }
    Ok(())
}

fn deleted_at(doc: &BlogDoc, id: &str) -> Option<String> {
    doc.post_field(id, "deleted_at").filter(|s| !s.is_empty())
}

impl Profile {
    /// Runs `f` on the drafts index (settings, and every post without its text) and writes
    /// what it changed. Do not change posts here: their documents are the truth
    /// ([`Profile::with_draft`]); settings are the index's own.
    pub fn with_index<R>(&self, f: impl FnOnce(&mut BlogDoc) -> Result<R, ProfileError>) -> Result<R, ProfileError> {
        self.docs.with(Which::Index, f)
    }

    /// One draft with its text (`None` if there is no such post). Reads the post's document
    /// only.
    pub fn draft(&self, id: &str) -> Result<Option<Post>, ProfileError> {
        if !self.docs.post_exists(id) {
            return Ok(None);
        }
        match self.docs.with_post(id, None, |d| Ok::<_, ProfileError>(d.post(id))) {
            Err(e) if not_found(&e) => Ok(None),
            r => r,
        }
    }

    /// Runs `f` on post `id`'s drafts document, writes what it changed, and writes the post's
    /// index entry from it. A change to a post published as it was gets a new `updated` time,
    /// so the list shows it changed since it was published.
    ///
    /// Errors: [`ProfileError::NoSuchPost`] when the post has no document; `f`'s; I/O.
    pub fn with_draft<R>(&self, id: &str, f: impl FnOnce(&mut BlogDoc) -> Result<R, ProfileError>) -> Result<R, ProfileError> {
        if !self.docs.post_exists(id) {
            return Err(ProfileError::NoSuchPost(id.to_owned()));
        }
        let published_updated = self.with_index(|i| Ok(i.post_field(id, PUBLISHED_UPDATED)))?;
        let (r, post, deleted) = self.docs.with_post(id, None, |d| {
            let before = d.heads();
            let r = f(d)?;
            if d.heads() != before && published_updated.is_some() && d.post_field(id, "updated") == published_updated {
                let mut now = chrono::Utc::now().fixed_offset().to_rfc3339();
                if Some(&now) == published_updated.as_ref() {
                    now = (chrono::Utc::now() + chrono::Duration::milliseconds(1)).fixed_offset().to_rfc3339();
                }
                d.set_post_field(id, "updated", &now)?;
                d.commit("edit");
            }
            Ok::<_, ProfileError>((r, d.post(id), deleted_at(d, id)))
        })?;
        self.with_index(|i| {
            put_entry(i, id, post.as_ref(), deleted.as_deref())?;
            i.commit("index");
            Ok(())
        })?;
        Ok(r)
    }

    /// Makes the document of a new post and its index entry. `form`: how its title and text
    /// are held ([`TextForm::Snapshot`] for an import, until the writer first edits it).
    ///
    /// Errors: [`ProfileError::Damaged`] when the ID is not a post ID; I/O.
    pub(crate) fn create_draft(&self, post: &Post, form: TextForm) -> Result<(), ProfileError> {
        let (blog_id, owner) = (self.blog_id().clone(), self.fingerprint().to_owned());
        let id = post.id.clone();
        let make = move || BlogDoc::create_post_draft(&blog_id, &owner, &id);
        self.docs.with_post(&post.id, Some(&make), |d| {
            d.put_post_as(post, form)?;
            d.commit("new post");
            Ok::<_, ProfileError>(())
        })?;
        self.with_index(|i| {
            put_entry(i, &post.id, Some(post), None)?;
            i.commit("index");
            Ok(())
        })
    }

    /// Many new posts at once (an import): each document written, then the index once.
    pub(crate) fn create_drafts(&self, posts: &[Post], form: TextForm) -> Result<(), ProfileError> {
        let (blog_id, owner) = (self.blog_id().clone(), self.fingerprint().to_owned());
        let mut files = Vec::with_capacity(posts.len());
        for p in posts {
            let (base, _) = self.docs.post_paths(&p.id)?;
            let mut d = BlogDoc::create_post_draft(&blog_id, &owner, &p.id);
            d.put_post_as(p, form)?;
            d.commit("import");
            files.push((base, d.save()));
        }
        let dir = self.path(POSTS_DIR);
        crate::fsutil::private_dir(&self.path("drafts")).and_then(|_| crate::fsutil::private_dir(&dir)).map_err(|source| ProfileError::Io { path: dir.clone(), source })?;
        crate::fsutil::write_atomic_many(&dir, files).map_err(|source| ProfileError::Io { path: dir.clone(), source })?;
        self.with_index(|i| {
            for p in posts {
                put_entry(i, &p.id, Some(p), None)?;
            }
            i.commit(&format!("import {} posts", posts.len()));
            Ok(())
        })
    }

    /// A slug for post `id` from `wanted`, not taken by another post (read from the index).
    pub(crate) fn free_slug(&self, wanted: &str, id: &str) -> Result<String, ProfileError> {
        self.with_index(|i| {
            let taken: HashSet<String> = i.post_ids().into_iter().filter(|p| p != id).filter_map(|p| i.post_slug(&p)).collect();
            Ok(next_free_slug(&taken, wanted))
        })
    }

    /// Records in the index what readers now see of each post: `Some(updated)` when the post
    /// was published as of its `updated` time `updated` (the draft's own string), `None` when
    /// it is not shown (unpublished, or never published).
    pub(crate) fn mark_published(&self, marks: &[(String, Option<String>)]) -> Result<(), ProfileError> {
        if marks.is_empty() {
            return Ok(());
        }
        self.with_index(|i| {
            for (id, updated) in marks {
                if i.post_slug(id).is_none() {
                    continue;
                }
                let want = if updated.is_some() { "yes" } else { "" };
                if i.post_field(id, PUBLISHED).as_deref().unwrap_or("") != want {
                    i.set_post_field(id, PUBLISHED, want)?;
                }
                if let Some(u) = updated
                    && i.post_field(id, PUBLISHED_UPDATED).as_deref() != Some(u.as_str())
                {
                    i.set_post_field(id, PUBLISHED_UPDATED, u)?;
                }
            }
            i.commit("published");
            Ok(())
        })
    }

    /// Brings the index's record of what is published up to date with the blog document for
    /// `ids` (every post when `None`): a post whose published copy equals its draft counts as
    /// published as of the draft's `updated` time. Loads the blog document.
    pub(crate) fn refresh_published(&self, ids: Option<&[String]>) -> Result<(), ProfileError> {
        let ids: Vec<String> = match ids {
            Some(ids) => ids.to_vec(),
            None => self.with_index(|i| Ok(i.post_ids()))?,
        };
        let published: Vec<(String, Option<Post>)> = self.with_blog(|b| Ok(ids.iter().map(|id| (id.clone(), b.post(id))).collect()))?;
        // Each post's `updated` and `published_updated` as the index has them, read once.
        let stamps: Vec<(Option<String>, Option<String>)> = self.with_index(|i| Ok(ids.iter().map(|id| (i.post_field(id, "updated"), i.post_field(id, PUBLISHED_UPDATED))).collect()))?;
        let mut marks = Vec::new();
        for ((id, p), (updated, published_updated)) in published.into_iter().zip(stamps) {
            let Some(p) = p.filter(|p| p.state == PostState::Published) else {
                marks.push((id, None));
                continue;
            };
            let Some(d) = self.draft(&id)? else { continue };
            // Published but changed since: shown, and `published_updated` left as it was.
            let mark = if crate::received::same_words(&d, &p) { updated } else { published_updated.or(Some(String::new())) };
            marks.push((id, mark));
        }
        self.mark_published(&marks)
    }

    /// The drafts as a bundle ([`BUNDLE_MAGIC`]): the index's and every post's files as they
    /// are on disk (nothing is loaded).
    pub(crate) fn drafts_bundle(&self) -> Result<Vec<u8>, ProfileError> {
        let read = |p: std::path::PathBuf| -> Result<Vec<u8>, ProfileError> {
            match std::fs::read(&p) {
                Ok(b) => Ok(b),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
                Err(source) => Err(ProfileError::Io { path: p, source }),
            }
        };
        let mut b = Bundle { index: (read(self.path(Which::Index.file()))?, read(self.path(Which::Index.log_file()))?), posts: BTreeMap::new() };
        for id in self.with_index(|i| Ok(i.post_ids()))? {
            let Ok((base, log)) = self.docs.post_paths(&id) else { continue };
            let base = read(base)?;
            if !base.is_empty() {
                b.posts.insert(id, (base, read(log)?));
            }
        }
        Ok(b.to_bytes())
    }

    /// Takes in another computer's drafts: a bundle, or (from a computer not yet at layout 4)
    /// one whole drafts document. Posts merge field by field and character by character; a
    /// post only there is added. Returns the number of posts that changed here.
    ///
    /// Errors: [`ProfileError::Damaged`] for drafts of another blog or unreadable bytes
    /// (nothing is taken then); I/O.
    pub(crate) fn take_drafts(&self, plain: &[u8]) -> Result<usize, ProfileError> {
        let damaged = |m: String| ProfileError::Damaged { path: self.path("drafts"), message: m };
        if !plain.starts_with(BUNDLE_MAGIC) {
            let doc = BlogDoc::load(plain).map_err(|e| damaged(e.to_string()))?;
            return self.take_whole_drafts(doc);
        }
        let bundle = Bundle::from_bytes(plain).map_err(|e| damaged(e.to_string()))?;
        let mut theirs_index = load_pair(&bundle.index.0, &bundle.index.1).map_err(|e| damaged(format!("the index: {e}")))?;
        if theirs_index.blog_id().ok().as_ref() != Some(self.blog_id()) {
            return Err(damaged("the drafts belong to another blog".into()));
        }
        // Every post is read before anything is written: one unreadable post takes nothing.
        let mut posts = Vec::with_capacity(bundle.posts.len());
        for (id, (base, log)) in &bundle.posts {
            let d = load_pair(base, log).map_err(|e| damaged(format!("post {id}: {e}")))?;
            if d.blog_id().ok().as_ref() != Some(self.blog_id()) {
                return Err(damaged(format!("post {id} belongs to another blog")));
            }
            posts.push((id.clone(), d));
        }
        self.with_index(|mine| {
            mine.automerge().merge(theirs_index.automerge()).map_err(|e| damaged(format!("merging the index: {e}")))?;
            Ok(())
        })?;
        let mut changed = 0;
        for (id, mut theirs) in posts {
            let exists = self.docs.post_exists(&id);
            let mine_heads = if exists { self.docs.with_post(&id, None, |d| Ok::<_, ProfileError>(d.heads()))? } else { Vec::new() };
            let their_heads = theirs.heads();
            if exists && their_heads.iter().all(|h| mine_heads.contains(h)) {
                // Nothing new there; the merged index entry is written from the document again.
                let (post, del) = self.docs.with_post(&id, None, |d| Ok::<_, ProfileError>((d.post(&id), deleted_at(d, &id))))?;
                self.with_index(|i| {
                    put_entry(i, &id, post.as_ref(), del.as_deref())?;
                    i.commit("index");
                    Ok(())
                })?;
                continue;
            }
            if !exists {
                // Only there: its files are taken as they are, history and all.
                let (base, log) = self.docs.post_paths(&id)?;
                let dir = self.path(POSTS_DIR);
                crate::fsutil::private_dir(&dir).map_err(|source| ProfileError::Io { path: dir, source })?;
                let bytes = theirs.save();
                crate::fsutil::write_atomic(&base, &bytes).map_err(|source| ProfileError::Io { path: base, source })?;
                let _ = std::fs::remove_file(log);
            }
            let (post, del) = self.docs.with_post(&id, None, |d| {
                if d.same_origin(&theirs) {
                    d.automerge().merge(theirs.automerge()).map_err(|e| damaged(format!("merging post {id}: {e}")))?;
                } else if let Some(p) = theirs.post(&id)
                    && d.post(&id).is_none_or(|here| here.updated < p.updated)
                {
                    d.put_post(&p)?;
                    d.commit("drafts from another device");
                }
                Ok::<_, ProfileError>((d.post(&id), deleted_at(d, &id)))
            })?;
            self.with_index(|i| {
                put_entry(i, &id, post.as_ref(), del.as_deref())?;
                i.commit("index");
                Ok(())
            })?;
            changed += 1;
        }
        Ok(changed)
    }

    /// Takes in a whole drafts document (layout 3 and earlier): each post newer there, or
    /// only there, replaces or joins the copy here. Returns the number of posts changed.
    fn take_whole_drafts(&self, doc: BlogDoc) -> Result<usize, ProfileError> {
        if doc.blog_id().ok().as_ref() != Some(self.blog_id()) {
            return Err(ProfileError::Damaged { path: self.path("drafts"), message: "the drafts belong to another blog".into() });
        }
        let mut n = 0;
        for post in doc.posts() {
            if !is_post_id(&post.id) {
                continue;
            }
            let del = deleted_at(&doc, &post.id);
            match self.draft(&post.id)? {
                Some(here) if here.updated >= post.updated => {}
                Some(_) => {
                    self.with_draft(&post.id, |d| {
                        d.put_post(&post)?;
                        d.set_deleted(&post.id, del.as_deref())?;
                        d.commit("drafts from another device");
                        Ok(())
                    })?;
                    n += 1;
                }
                None => {
                    self.create_draft(&post, TextForm::Snapshot)?;
                    if del.is_some() {
                        self.with_draft(&post.id, |d| {
                            d.set_deleted(&post.id, del.as_deref())?;
                            d.commit("delete");
                            Ok(())
                        })?;
                    }
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// The drafts as one whole document (the form of layout 3, which export archives keep):
    /// settings, and every post with its text as a string, in the bin too.
    pub fn drafts_whole(&self) -> Result<BlogDoc, ProfileError> {
        let settings = self.with_index(|i| Ok(i.settings()))?;
        let mut d = BlogDoc::create(spokes_core::DocKind::Drafts, self.blog_id(), self.fingerprint(), &settings);
        for id in self.with_index(|i| Ok(i.post_ids()))? {
            let Some((p, del)) = (if self.docs.post_exists(&id) { self.docs.with_post(&id, None, |doc| Ok::<_, ProfileError>(doc.post(&id).map(|p| (p, deleted_at(doc, &id)))))? } else { None }) else { continue };
            d.put_post_as(&p, TextForm::Snapshot)?;
            if del.is_some() {
                d.set_deleted(&id, del.as_deref())?;
            }
        }
        d.commit("drafts");
        Ok(d)
    }

    /// Writes a whole drafts document (layout 3) as the index and one document per post,
    /// replacing any there are. Each post's document is made the same way on every computer
    /// from the same post (fixed actor and time, its title and text as Automerge text), so two
    /// computers that split the same drafts share those changes and later edits merge; a post
    /// whose words already differed between them merges as two texts written at once (one
    /// shows). With `blog`,
    /// the index records which posts are published as they are ([`index_summaries`]).
    /// A post whose ID is not one (none made by Spokes) gets one derived from it.
    /// Returns the number of posts.
    pub(crate) fn split_drafts(&self, legacy: &mut BlogDoc, blog: Option<&mut BlogDoc>) -> Result<usize, ProfileError> {
        let (blog_id, owner) = (self.blog_id().clone(), self.fingerprint().to_owned());
        let mut index = BlogDoc::create(spokes_core::DocKind::Drafts, &blog_id, &owner, &legacy.settings());
        let mut files = Vec::new();
        let mut blog = blog;
        for old_id in legacy.post_ids() {
            let Some(mut post) = legacy.post(&old_id) else { continue };
            let del = deleted_at(legacy, &old_id);
            if !is_post_id(&post.id) {
                post.id = blake3::hash(format!("spokes post id v1 {old_id}").as_bytes()).to_hex()[..16].to_owned();
            }
            let mut d = BlogDoc::create_post_draft(&blog_id, &owner, &post.id);
            let seed = blake3::hash(&serde_json::to_vec(&(&post, &del)).unwrap_or_default());
            d.automerge().set_actor(automerge::ActorId::from(&seed.as_bytes()[..16]));
            // As text, made the same way from the same words on every computer: a first
            // edit on each of two computers then merges, where a value turned into text on
            // both would leave one computer's edits hidden behind the other's.
            d.put_post_as(&post, TextForm::Editable)?;
            if del.is_some() {
                d.set_deleted(&post.id, del.as_deref())?;
            }
            d.automerge().commit_with(automerge::transaction::CommitOptions::default().with_message("moved from the drafts document".to_owned()).with_time(0));
            d.automerge().set_actor(automerge::ActorId::random());
            let (base, _) = self.docs.post_paths(&post.id)?;
            files.push((base, d.save()));
            put_entry(&mut index, &post.id, Some(&post), del.as_deref())?;
            if let Some(b) = blog.as_deref_mut()
                && let Some(p) = b.post(&old_id).filter(|p| p.state == PostState::Published)
            {
                index.set_post_field(&post.id, PUBLISHED, "yes")?;
                if crate::received::same_words(&p, &post)
                    && let Some(u) = index.post_field(&post.id, "updated")
                {
                    index.set_post_field(&post.id, PUBLISHED_UPDATED, &u)?;
                }
            }
        }
        index.commit("index");
        let dir = self.path(POSTS_DIR);
        crate::fsutil::private_dir(&self.path("drafts")).and_then(|_| crate::fsutil::private_dir(&dir)).map_err(|source| ProfileError::Io { path: dir.clone(), source })?;
        let n = files.len();
        crate::fsutil::write_atomic_many(&dir, files).map_err(|source| ProfileError::Io { path: dir.clone(), source })?;
        // A log left by an earlier index would be merged into this one: it goes first.
        let _ = std::fs::remove_file(self.path(Which::Index.log_file()));
        self.write(Which::Index.file(), &index.save())?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::BlogSettings;
    use spokes_core::edit::Splice;

    fn profile(dir: &std::path::Path) -> Profile {
        Profile::create(dir, "Ada", "pw", &BlogSettings { title: "Ada's".into(), ..Default::default() }).unwrap()
    }

    fn entry(name: &str, bytes: &[u8]) -> Vec<u8> {
        let mut out = (name.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn a_malformed_bundle_is_refused_whole_and_takes_nothing() {
        let d = tempfile::tempdir().unwrap();
        let p = profile(d.path());
        let post = p.new_post("Mine", "my words", &[]).unwrap();
        let good = p.drafts_bundle().unwrap();
        let index = Bundle::from_bytes(&good).unwrap().index.0;
        let with = |entries: &[Vec<u8>]| [BUNDLE_MAGIC.to_vec(), entries.concat()].concat();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("another format", b"spokes drafts bundle v9\n".to_vec()),
            ("cut short", good[..good.len() - 3].to_vec()),
            ("unknown entry", with(&[entry("index", &index), entry("../../etc/passwd", b"x")])),
            ("repeated", with(&[entry("index", &index), entry("index", &index)])),
            ("not a post ID", with(&[entry("index", &index), entry("post/../x", b"x")])),
            ("log without document", with(&[entry("index", &index), entry(&format!("post/{}.log", "ab".repeat(8)), b"x")])),
            ("no index", with(&[])),
            ("a length past the end", [BUNDLE_MAGIC.to_vec(), vec![0, 5], b"index".to_vec(), u32::MAX.to_be_bytes().to_vec()].concat()),
            ("unreadable post", with(&[entry("index", &index), entry(&format!("post/{}", "cd".repeat(8)), b"not automerge")])),
        ];
        for (what, bytes) in cases {
            let e = p.take_drafts(&bytes).unwrap_err();
            assert_eq!(e.code(), "damaged-file", "{what}: {e}");
            assert_eq!(p.posts().unwrap().len(), 1, "{what}");
            assert_eq!(p.draft(&post.id).unwrap().unwrap().body, "my words", "{what}");
        }
        // Not a bundle and not a document either.
        assert!(p.take_drafts(b"garbage").is_err());
    }

    #[test]
    fn drafts_of_another_blog_are_refused() {
        let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (mine, theirs) = (profile(d1.path()), profile(d2.path()));
        mine.new_post("Mine", "my words", &[]).unwrap();
        theirs.new_post("Theirs", "their words", &[]).unwrap();
        let e = mine.take_drafts(&theirs.drafts_bundle().unwrap()).unwrap_err();
        assert!(e.to_string().contains("another blog"), "{e}");
        let e = mine.take_drafts(&theirs.drafts_whole().unwrap().save()).unwrap_err();
        assert!(e.to_string().contains("another blog"), "{e}");
        assert_eq!(mine.posts().unwrap().iter().map(|s| s.post.title.as_str()).collect::<Vec<_>>(), ["Mine"]);
    }

    #[test]
    fn a_post_only_in_the_bundle_comes_with_its_history_and_both_sides_keep_editing() {
        let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let one = profile(d1.path());
        // The second computer's profile: the same blog, as pairing or a restore makes it.
        let mut blog = one.blog().unwrap();
        let two = Profile::create_from_blog(d2.path(), "Ada", &one.identity().unwrap(), "pw", &mut blog, &one.statements().unwrap()).unwrap();
        let post = one.new_post("Travelling", "Hello", &[]).unwrap();
        assert_eq!(two.take_drafts(&one.drafts_bundle().unwrap()).unwrap(), 1);
        assert_eq!(two.draft(&post.id).unwrap().unwrap().body, "Hello");
        // Both edit the post; each takes the other's bundle; both hold both edits.
        one.edit_post(&post.id, None, &[Splice { pos: 5, delete: 0, insert: ", world".into() }], None).unwrap();
        two.edit_post(&post.id, None, &[Splice { pos: 0, delete: 0, insert: "Oh. ".into() }], None).unwrap();
        two.take_drafts(&one.drafts_bundle().unwrap()).unwrap();
        one.take_drafts(&two.drafts_bundle().unwrap()).unwrap();
        for p in [&one, &two] {
            assert_eq!(p.draft(&post.id).unwrap().unwrap().body, "Oh. Hello, world");
        }
        // Nothing new: taking the same bundle again changes no post.
        assert_eq!(one.take_drafts(&two.drafts_bundle().unwrap()).unwrap(), 0);
    }

    #[test]
    fn a_damaged_post_document_is_a_clear_error_and_leaves_the_others_alone() {
        let d = tempfile::tempdir().unwrap();
        let p = profile(d.path());
        let (a, b) = (p.new_post("Damaged", "words of a", &[]).unwrap(), p.new_post("Fine", "words of b", &[]).unwrap());
        let file = d.path().join(format!("drafts/posts/{}.automerge", a.id));
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
        let fresh = Profile::open(d.path()).unwrap();
        let e = fresh.draft(&a.id).unwrap_err();
        assert_eq!(e.code(), "damaged-file", "{e}");
        assert!(e.to_string().contains(&a.id), "the message names the file: {e}");
        // The list, the other post and its edits are untouched.
        assert_eq!(fresh.posts().unwrap().len(), 2);
        fresh.edit_post(&b.id, None, &[Splice { pos: 0, delete: 0, insert: "More ".into() }], None).unwrap();
        assert_eq!(fresh.draft(&b.id).unwrap().unwrap().body, "More words of b");
        // A name that is not a post ID never reaches the file system.
        assert!(fresh.draft("../../identity").unwrap().is_none());
        assert_eq!(fresh.with_draft("../../identity", |_| Ok(())).unwrap_err().code(), "no-such-post");
    }

    #[test]
    fn at_most_the_set_number_of_post_documents_stay_in_memory() {
        let d = tempfile::tempdir().unwrap();
        let p = profile(d.path());
        let n = crate::store::POSTS_HELD + 20;
        let posts: Vec<Post> = (0..n).map(|i| Post::new(&format!("Post {i}"), "words")).collect();
        p.create_drafts(&posts, TextForm::Editable).unwrap();
        let fresh = Profile::open(d.path()).unwrap();
        for post in &posts {
            fresh.edit_post(&post.id, None, &[Splice { pos: 0, delete: 0, insert: "More ".into() }], None).unwrap();
        }
        assert_eq!(fresh.docs.posts_held(), crate::store::POSTS_HELD);
        // What was let go was written: another process reads every edit.
        let other = Profile::open(d.path()).unwrap();
        assert!(posts.iter().all(|post| other.draft(&post.id).unwrap().unwrap().body == "More words"));
    }
}
