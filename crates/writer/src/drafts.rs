//! The drafts, one document per post (profile layouts 4 and 5).
//!
//! - `drafts/index.automerge` (with its log): the drafts' settings. At layout 4 it also held
//!   every post *without its text*, which made it a document of ten operations per post,
//!   read at every start (a quarter of a second at 10,000 posts); layout 5 no longer writes
//!   posts there, and an index from layout 4 keeps its old entries unread (a computer still
//!   at layout 4 writes its own from the post documents it receives).
//! - `drafts/list.sqlite`: the post list, this computer's own ([`crate::list`]): every post
//!   without its text, in the bin too, and which posts readers see. The post list, slugs and
//!   the settings' copy come from it alone, so opening a blog of any size reads rows, not a
//!   document.
//! - `drafts/posts/<id>.automerge` (with its log): one post, with its text as Automerge text.
//!   A post's document is the truth about it; its row in the list is written from it after
//!   every change ([`Profile::with_draft`]). Documents are read when a post is opened and at
//!   most [`crate::store::POSTS_HELD`] stay in memory.
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

use crate::list::Row;
use crate::profile::{Profile, ProfileError, next_free_slug};
use crate::store::{POSTS_DIR, Which};
use spokes_core::doc::{DocError, TextForm};
use spokes_core::manifest::is_post_id;
use spokes_core::{BlogDoc, Post, PostState};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The start of a sealed drafts bundle, version 1. Then, until the end, entries of
/// `name length (u16, big-endian) | name (UTF-8) | length (u32, big-endian) | bytes`. Names:
/// `index`, `index.log`, `post/<id>`, `post/<id>.log` (a document's full save and its log of
/// later changes, as the files hold them). Anything else is refused whole.
pub const BUNDLE_MAGIC: &[u8] = b"spokes drafts bundle v1\n";

/// The most entries a bundle may hold (two per post and two for the index).
pub const BUNDLE_MAX_ENTRIES: usize = 2 * 200_000 + 2;

/// Index-only field of layout 4: `yes` while the post's published copy is shown to readers.
const PUBLISHED: &str = "published";
/// Index-only field of layout 4: the post's `updated` value as of its last publish.
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
        if !self.index.0.is_empty() {
            put("index", &self.index.0);
            put("index.log", &self.index.1);
        }
        for (id, (base, log)) in &self.posts {
            put(&format!("post/{id}"), base);
            put(&format!("post/{id}.log"), log);
        }
        out
    }

    /// Reads a bundle.
    ///
    /// Errors: [`BundleError::Malformed`] for another format, a cut entry, an unknown or
    /// repeated name, a post ID that is not one, more than [`BUNDLE_MAX_ENTRIES`] entries, no
    /// document at all. (A bundle made from a computer's draft items may lack the index.)
    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle, BundleError> {
        let b = Self::parse(bytes)?;
        if b.index.0.is_empty() && b.posts.is_empty() {
            return Err(BundleError::Malformed("it holds no document".into()));
        }
        Ok(b)
    }

    /// Reads one draft item of `spokes/drafts/2` ([`Profile::draft_item`]): a bundle holding
    /// only the document `name` (`index` or a post ID), with its log.
    ///
    /// Errors: [`BundleError::Malformed`] as [`Bundle::from_bytes`], and for a bundle holding
    /// anything but that one document.
    pub fn from_item(bytes: &[u8], name: &str) -> Result<Bundle, BundleError> {
        let b = Self::parse(bytes)?;
        let only = if name == "index" { b.posts.is_empty() && !b.index.0.is_empty() } else { b.index.0.is_empty() && b.index.1.is_empty() && b.posts.len() == 1 && b.posts.contains_key(name) };
        if !only {
            return Err(BundleError::Malformed(format!("the item `{}` holds other documents than its own", name.escape_debug())));
        }
        Ok(b)
    }

    fn parse(bytes: &[u8]) -> Result<Bundle, BundleError> {
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
        if b.index.0.is_empty() && !b.index.1.is_empty() {
            return Err(bad("the index has a log but no document"));
        }
        if let Some((id, _)) = b.posts.iter().find(|(_, (base, _))| base.is_empty()) {
            return Err(BundleError::Malformed(format!("post {id} has a log but no document")));
        }
        Ok(b)
    }
}

/// The bytes of the file at `p`, empty when there is none (a document without a log).
fn read(p: std::path::PathBuf) -> Result<Vec<u8>, ProfileError> {
    match std::fs::read(&p) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(ProfileError::Io { path: p, source }),
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

/// A post and when it went to the bin (RFC 3339; `None` when it is not in the bin).
pub(crate) type BinnedPost = (Post, Option<String>);

/// The list's rows and published stamps as a layout-4 index has them (every post, in the bin
/// too): what the upgrade to layout 5 builds the list from ([`Profile::build_list_from_index`]).
pub(crate) fn index_rows(idx: &BlogDoc) -> (Vec<BinnedPost>, HashMap<String, String>) {
    let mut published = HashMap::new();
    let rows = idx
        .posts_with_fields()
        .into_iter()
        .map(|(post, f)| {
            if f.get(PUBLISHED).is_some_and(|v| v == "yes") {
                let stamp = crate::list::stamp(&post);
                // Unchanged since published: as of its own stamp; else as of one it does not have.
                let mark = if f.get(PUBLISHED_UPDATED) == f.get("updated") { stamp } else { f.get(PUBLISHED_UPDATED).filter(|u| **u != stamp).cloned().unwrap_or_default() };
                published.insert(post.id.clone(), mark);
            }
            let del = f.get("deleted_at").filter(|d| !d.is_empty()).cloned();
            (post, del)
        })
        .collect();
    (rows, published)
}

/// Writes `post`'s row in the list (everything but its text); with `None`, removes it.
fn put_entry(p: &Profile, id: &str, post: Option<&Post>, deleted_at: Option<&str>) -> Result<(), ProfileError> {
    match post {
        Some(post) => p.list()?.put(&[Row { post, deleted_at }])?,
        None => p.list()?.remove(id)?,
    }
    Ok(())
}

/// Heads as text: sorted hex hashes, comma-separated.
pub(crate) fn heads_text(heads: &[automerge::ChangeHash]) -> String {
    let mut h: Vec<String> = heads.iter().map(ToString::to_string).collect();
    h.sort();
    h.join(",")
}

fn deleted_at(doc: &BlogDoc, id: &str) -> Option<String> {
    doc.post_field(id, "deleted_at").filter(|s| !s.is_empty())
}

impl Profile {
    /// Runs `f` on the drafts index (settings, and every post without its text) and writes
    /// what it changed. Do not change posts here: their documents are the truth
    /// ([`Profile::with_draft`]); settings are the index's own.
    /// The list keeps a copy of the settings, written here whenever the index changes.
    pub fn with_index<R>(&self, f: impl FnOnce(&mut BlogDoc) -> Result<R, ProfileError>) -> Result<R, ProfileError> {
        let (r, settings) = self.docs.with(Which::Index, |i| {
            let before = i.heads();
            let r = f(i)?;
            Ok::<_, ProfileError>((r, (i.heads() != before).then(|| i.settings())))
        })?;
        if let Some(s) = settings {
            self.list.set_settings(&s)?;
        }
        Ok(r)
    }

    /// The post list, built first if it is not ([`Profile::rebuild_list`]).
    pub(crate) fn list(&self) -> Result<&crate::list::PostList, ProfileError> {
        if !self.list.is_built()? {
            self.rebuild_list()?;
        }
        Ok(&self.list)
    }

    /// Makes the post list again from the post documents (each one read) and the published
    /// blog document: when the list's file is missing or was left half built. Returns the
    /// number of posts listed.
    ///
    /// Errors: [`ProfileError::Damaged`] when a post document cannot be read (the list is
    /// then not built, and the error says which); I/O.
    pub fn rebuild_list(&self) -> Result<usize, ProfileError> {
        let dir = self.path(POSTS_DIR);
        let mut ids: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries.filter_map(Result::ok).filter_map(|e| e.file_name().to_str()?.strip_suffix(".automerge").filter(|id| is_post_id(id)).map(str::to_owned)).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(ProfileError::Io { path: dir, source }),
        };
        ids.sort();
        let mut rows = Vec::with_capacity(ids.len());
        for id in &ids {
            let (base, log) = self.docs.post_paths(id)?;
            let doc = load_pair(&read(base.clone())?, &read(log)?).map_err(|e| ProfileError::Damaged { path: base.clone(), message: e.to_string() })?;
            if let Some(post) = doc.post(id) {
                rows.push((post, deleted_at(&doc, id)));
            }
        }
        let settings = self.with_index(|i| Ok(i.settings()))?;
        let listed: Vec<Row> = rows.iter().map(|(post, del)| Row { post, deleted_at: del.as_deref() }).collect();
        self.list.build(&listed, &HashMap::new(), &settings)?;
        if !rows.is_empty() {
            self.refresh_published(None)?;
        }
        tracing::info!(posts = rows.len(), "the post list was made again from the documents");
        Ok(rows.len())
    }

    /// Builds the post list from a layout-4 index, whose entries are current (every change
    /// wrote them): the upgrade to layout 5. Returns the number of posts.
    pub(crate) fn build_list_from_index(&self) -> Result<usize, ProfileError> {
        let (rows, published, settings) = self.with_index(|i| {
            let (rows, published) = index_rows(i);
            Ok((rows, published, i.settings()))
        })?;
        let listed: Vec<Row> = rows.iter().map(|(post, del)| Row { post, deleted_at: del.as_deref() }).collect();
        self.list.build(&listed, &published, &settings)?;
        // Not needed to write: the writing screen reads the list.
        self.docs.unload(Which::Index);
        Ok(rows.len())
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
        let published = self.list()?.published_stamp(id)?;
        let (r, post, deleted) = self.docs.with_post(id, None, |d| {
            let before = d.heads();
            let r = f(d)?;
            let stamp = d.post_field(id, "updated").and_then(|u| chrono::DateTime::parse_from_rfc3339(&u).ok()).map(|u| u.to_rfc3339());
            if d.heads() != before && published.is_some() && stamp == published {
                let mut now = chrono::Utc::now().fixed_offset().to_rfc3339();
                if Some(&now) == published.as_ref() {
                    now = (chrono::Utc::now() + chrono::Duration::milliseconds(1)).fixed_offset().to_rfc3339();
                }
                d.set_post_field(id, "updated", &now)?;
                d.commit("edit");
            }
            Ok::<_, ProfileError>((r, d.post(id), deleted_at(d, id)))
        })?;
        put_entry(self, id, post.as_ref(), deleted.as_deref())?;
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
        put_entry(self, &post.id, Some(post), None)
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
        let rows: Vec<Row> = posts.iter().map(|post| Row { post, deleted_at: None }).collect();
        self.list()?.put(&rows)?;
        Ok(())
    }

    /// A slug for post `id` from `wanted`, not taken by another post (read from the index).
    pub(crate) fn free_slug(&self, wanted: &str, id: &str) -> Result<String, ProfileError> {
        Ok(next_free_slug(&self.list()?.slugs_except(id)?, wanted))
    }

    /// Records in the list what readers now see of each post: `Some(stamp)` when the post
    /// was published as of that stamp ([`crate::list::stamp`]), `None` when it is not shown
    /// (unpublished, or never published).
    pub(crate) fn mark_published(&self, marks: &[(String, Option<String>)]) -> Result<(), ProfileError> {
        if marks.is_empty() {
            return Ok(());
        }
        Ok(self.list()?.mark_published(marks)?)
    }

    /// Brings the list's record of what is published up to date with the blog document for
    /// `ids` (every post when `None`): a post whose published copy equals its draft counts as
    /// published as of the draft's `updated` time. Loads the blog document.
    pub(crate) fn refresh_published(&self, ids: Option<&[String]>) -> Result<(), ProfileError> {
        let ids: Vec<String> = match ids {
            Some(ids) => ids.to_vec(),
            None => self.list()?.ids()?,
        };
        let published: Vec<(String, Option<Post>)> = self.with_blog(|b| Ok(ids.iter().map(|id| (id.clone(), b.post(id))).collect()))?;
        let list = self.list()?;
        let mut marks = Vec::new();
        for (id, p) in published {
            let Some(p) = p.filter(|p| p.state == PostState::Published) else {
                marks.push((id, None));
                continue;
            };
            let Some(d) = self.draft(&id)? else { continue };
            // Published but changed since: shown, and its published stamp left as it was.
            let mark = if crate::received::same_words(&d, &p) { crate::list::stamp(&d) } else { list.published_stamp(&id)?.unwrap_or_default() };
            marks.push((id, Some(mark)));
        }
        self.mark_published(&marks)
    }

    /// The drafts as a bundle ([`BUNDLE_MAGIC`]): the index's and every post's files as they
    /// are on disk (nothing is loaded).
    pub(crate) fn drafts_bundle(&self) -> Result<Vec<u8>, ProfileError> {
        let mut b = Bundle { index: (read(self.path(Which::Index.file()))?, read(self.path(Which::Index.log_file()))?), posts: BTreeMap::new() };
        for id in self.list()?.ids()? {
            let Ok((base, log)) = self.docs.post_paths(&id) else { continue };
            let base = read(base)?;
            if !base.is_empty() {
                b.posts.insert(id, (base, read(log)?));
            }
        }
        Ok(b.to_bytes())
    }

    /// The names of this computer's draft items (`spokes/drafts/2`): `index` and every post
    /// ID, in the bin too.
    pub(crate) fn draft_item_names(&self) -> Result<Vec<String>, ProfileError> {
        let mut names = vec!["index".to_owned()];
        names.extend(self.list()?.ids()?.into_iter().filter(|id| self.docs.post_exists(id)));
        Ok(names)
    }

    /// A stamp of draft item `name`'s files (length and change time of its full save and of
    /// its log): it differs whenever the document was written. Read without loading it.
    pub(crate) fn draft_item_stamp(&self, name: &str) -> Result<String, ProfileError> {
        let (base, log) = self.item_paths(name)?;
        let part = |p: &std::path::Path| match std::fs::metadata(p) {
            Ok(m) => {
                use std::os::unix::fs::MetadataExt;
                format!("{}:{}.{}", m.len(), m.mtime(), m.mtime_nsec())
            }
            Err(_) => "-".to_owned(),
        };
        Ok(format!("{}|{}", part(&base), part(&log)))
    }

    /// The heads of draft item `name`'s document (sorted hex, comma-separated): from `known`
    /// (item → (file stamp, heads)) while its files keep that stamp, else read from the
    /// document, and then added to `fresh` as (item, file stamp, heads) to remember.
    pub(crate) fn draft_item_heads(&self, name: &str, known: &HashMap<String, (String, String)>, fresh: &mut Vec<(String, String, String)>) -> Result<String, ProfileError> {
        // The stamp before the document: a change between them is read again next time.
        let stamp = self.draft_item_stamp(name)?;
        if let Some((s, heads)) = known.get(name)
            && *s == stamp
        {
            return Ok(heads.clone());
        }
        let heads = if name == "index" { self.with_index(|i| Ok(i.heads()))? } else { self.docs.with_post(name, None, |d| Ok::<_, ProfileError>(d.heads()))? };
        let heads = heads_text(&heads);
        fresh.push((name.to_owned(), stamp, heads.clone()));
        Ok(heads)
    }

    fn item_paths(&self, name: &str) -> Result<(std::path::PathBuf, std::path::PathBuf), ProfileError> {
        if name == "index" {
            Ok((self.path(Which::Index.file()), self.path(Which::Index.log_file())))
        } else {
            Ok(self.docs.post_paths(name)?)
        }
    }

    /// Draft item `name` as a bundle holding only its document's files ([`Bundle::from_item`]),
    /// what is sealed and left with the spokes (its files as on disk).
    pub(crate) fn draft_item(&self, name: &str) -> Result<Vec<u8>, ProfileError> {
        let (base, log) = self.item_paths(name)?;
        let mut b = Bundle::default();
        if name == "index" {
            b.index = (read(base)?, read(log)?);
        } else {
            b.posts.insert(name.to_owned(), (read(base)?, read(log)?));
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
        self.take_bundle(&bundle)
    }

    /// Takes in a bundle from another computer: a whole one, or the items of one
    /// (`spokes/drafts/2`, without the index when it did not change). Returns the number of
    /// posts that changed here. Errors as [`Profile::take_drafts`].
    pub(crate) fn take_bundle(&self, bundle: &Bundle) -> Result<usize, ProfileError> {
        Ok(self.take_bundle_covering(bundle)?.0)
    }

    /// [`Profile::take_bundle`], also returning the posts whose document here is now exactly
    /// the bundle's, with those heads ([`heads_text`]): the other computer's copy stands for
    /// this one's, so this computer need not leave it again ([`crate::drafts_sync`]).
    pub(crate) fn take_bundle_covering(&self, bundle: &Bundle) -> Result<(usize, Vec<(String, String)>), ProfileError> {
        let damaged = |m: String| ProfileError::Damaged { path: self.path("drafts"), message: m };
        let mut theirs_index = if bundle.index.0.is_empty() {
            None
        } else {
            let i = load_pair(&bundle.index.0, &bundle.index.1).map_err(|e| damaged(format!("the index: {e}")))?;
            if i.blog_id().ok().as_ref() != Some(self.blog_id()) {
                return Err(damaged("the drafts belong to another blog".into()));
            }
            Some(i)
        };
        // Every post is read before anything is written: one unreadable post takes nothing.
        let mut posts = Vec::with_capacity(bundle.posts.len());
        for (id, (base, log)) in &bundle.posts {
            let d = load_pair(base, log).map_err(|e| damaged(format!("post {id}: {e}")))?;
            if d.blog_id().ok().as_ref() != Some(self.blog_id()) {
                return Err(damaged(format!("post {id} belongs to another blog")));
            }
            posts.push((id.clone(), d));
        }
        if let Some(theirs) = theirs_index.as_mut() {
            self.with_index(|mine| {
                mine.automerge().merge(theirs.automerge()).map_err(|e| damaged(format!("merging the index: {e}")))?;
                Ok(())
            })?;
        }
        let mut changed = 0;
        let mut covered = Vec::new();
        let same = |a: &[automerge::ChangeHash], b: &[automerge::ChangeHash]| {
            let (mut a, mut b) = (a.to_vec(), b.to_vec());
            a.sort();
            b.sort();
            a == b
        };
        for (id, mut theirs) in posts {
            let exists = self.docs.post_exists(&id);
            let mine_heads = if exists { self.docs.with_post(&id, None, |d| Ok::<_, ProfileError>(d.heads()))? } else { Vec::new() };
            let their_heads = theirs.heads();
            if exists && their_heads.iter().all(|h| mine_heads.contains(h)) {
                if same(&mine_heads, &their_heads) {
                    covered.push((id.clone(), heads_text(&their_heads)));
                }
                // Nothing new there (a row a crash left unwritten is written now).
                if !self.list()?.has(&id)? {
                    let (post, del) = self.docs.with_post(&id, None, |d| Ok::<_, ProfileError>((d.post(&id), deleted_at(d, &id))))?;
                    put_entry(self, &id, post.as_ref(), del.as_deref())?;
                }
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
            let (post, del, now) = self.docs.with_post(&id, None, |d| {
                if d.same_origin(&theirs) {
                    d.automerge().merge(theirs.automerge()).map_err(|e| damaged(format!("merging post {id}: {e}")))?;
                } else if let Some(p) = theirs.post(&id)
                    && d.post(&id).is_none_or(|here| here.updated < p.updated)
                {
                    d.put_post(&p)?;
                    d.commit("drafts from another device");
                }
                Ok::<_, ProfileError>((d.post(&id), deleted_at(d, &id), d.heads()))
            })?;
            put_entry(self, &id, post.as_ref(), del.as_deref())?;
            if same(&now, &their_heads) {
                covered.push((id.clone(), heads_text(&their_heads)));
            }
            changed += 1;
        }
        Ok((changed, covered))
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
        for id in self.list()?.ids()? {
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
    /// shows). The index keeps the settings; the list ([`crate::list`]) is built with every
    /// post and, with `blog`, which posts are published as they are.
    /// A post whose ID is not one (none made by Spokes) gets one derived from it.
    /// Returns the number of posts.
    pub(crate) fn split_drafts(&self, legacy: &mut BlogDoc, blog: Option<&mut BlogDoc>) -> Result<usize, ProfileError> {
        let (blog_id, owner) = (self.blog_id().clone(), self.fingerprint().to_owned());
        let settings = legacy.settings();
        let index = BlogDoc::create(spokes_core::DocKind::Drafts, &blog_id, &owner, &settings);
        let mut files = Vec::new();
        let (mut rows, mut published) = (Vec::new(), HashMap::new());
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
            if let Some(b) = blog.as_deref_mut()
                && let Some(p) = b.post(&old_id).filter(|p| p.state == PostState::Published)
            {
                published.insert(post.id.clone(), if crate::received::same_words(&p, &post) { crate::list::stamp(&post) } else { String::new() });
            }
            rows.push((post, del));
        }
        let dir = self.path(POSTS_DIR);
        crate::fsutil::private_dir(&self.path("drafts")).and_then(|_| crate::fsutil::private_dir(&dir)).map_err(|source| ProfileError::Io { path: dir.clone(), source })?;
        let n = files.len();
        crate::fsutil::write_atomic_many(&dir, files).map_err(|source| ProfileError::Io { path: dir.clone(), source })?;
        // A log left by an earlier index would be merged into this one: it goes first.
        let _ = std::fs::remove_file(self.path(Which::Index.log_file()));
        self.docs.unload(Which::Index);
        let mut index = index;
        self.write(Which::Index.file(), &index.save())?;
        let rows: Vec<Row> = rows.iter().map(|(post, del)| Row { post, deleted_at: del.as_deref() }).collect();
        self.list.build(&rows, &published, &settings)?;
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
            ("no document", with(&[])),
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
    fn the_post_list_is_made_again_when_lost_and_one_from_a_newer_spokes_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = profile(d.path());
        let (a, b) = (p.new_post("Kept", "words of a", &["x".into()]).unwrap(), p.new_post("Binned", "words of b", &[]).unwrap());
        let mut key = p.unlock("pw").unwrap();
        p.publish_local(&mut key, Some(std::slice::from_ref(&a.id))).unwrap();
        p.delete_post(&b.id).unwrap();
        let before = p.posts().unwrap();
        assert_eq!(before.len(), 1);
        assert!(before[0].published && !before[0].changed_since_published);
        drop(p);
        // Lost (a user's clean-up, a restore of a backup without it): made again from the
        // post documents, the published blog and the index's settings.
        let list = d.path().join(crate::list::LIST_FILE);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", list.display()));
        }
        let fresh = Profile::open(d.path()).unwrap();
        assert_eq!(fresh.posts().unwrap(), before);
        assert_eq!(fresh.settings().unwrap().title, "Ada's");
        fresh.undo_delete(&b.id).unwrap();
        assert_eq!(fresh.posts().unwrap().len(), 2, "the bin was made again too");
        drop(fresh);
        // Written by a newer Spokes: refused with a clear error, and left as it is.
        let c = rusqlite::Connection::open(&list).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        drop(c);
        let newer = Profile::open(d.path()).unwrap();
        let e = newer.posts().unwrap_err();
        assert_eq!(e.code(), spokes_core::problem::Code::NewerVersion, "{e}");
        assert!(e.to_string().contains("newer version"), "{e}");
        let c = rusqlite::Connection::open(&list).unwrap();
        assert_eq!(c.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0)).unwrap(), 99);
    }

    #[test]
    fn an_edit_from_another_process_shows_in_the_list_at_once() {
        let d = tempfile::tempdir().unwrap();
        let app = profile(d.path());
        let a = app.new_post("First title", "words", &[]).unwrap();
        assert_eq!(app.posts().unwrap()[0].post.title, "First title");
        // The CLI beside the app: its own connection to the list.
        let cli = Profile::open(d.path()).unwrap();
        cli.edit_post(&a.id, Some("Second title"), &[], None).unwrap();
        assert_eq!(app.posts().unwrap()[0].post.title, "Second title", "the app's memo of the list noticed the other write");
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
