//! Full-text search over every post this spoke holds, hosted or council copy (tantivy).
//!
//! The index lives in `search-v1/` in the data folder. It is only a cache: every document in
//! it comes from a verified [`BlogView`], and deleting the folder (`spoke reindex`) makes the
//! next start rebuild it from the stored blogs. The folder name carries the index layout's
//! version; a spoke with a newer layout builds its own folder beside it.
//!
//! Results are checked again when asked for: a hit is shown only if the blog's current view
//! verifies and still has that post with the same body (by BLAKE3 hash), so an index that
//! lags behind never shows text the author's signatures do not cover.

use spokes_site::view::{BlogView, PostView};
use spokes_core::BlogId;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, QueryParser};
use tantivy::schema::{Field, STORED, STRING, Schema, TEXT, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};

/// The index folder's name (its layout version).
pub const INDEX_DIR: &str = "search-v1";
/// Most results one query returns.
pub const MAX_RESULTS: usize = 50;
/// Longest query accepted, in bytes.
pub const MAX_QUERY_LEN: usize = 500;

/// Errors of the search index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// tantivy failed (disk, damaged index).
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index folder could not be opened.
    #[error("search index folder: {0}")]
    Folder(String),
}

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    blog: Field,
    post: Field,
    hash: Field,
    title: Field,
    body: Field,
    tags: Field,
}

/// One search result, checked against the blog's verified view.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hit {
    /// Blog ID.
    pub blog_id: BlogId,
    /// Post ID.
    pub post_id: String,
    /// The post's title.
    pub title: String,
    /// The post's slug.
    pub slug: String,
    /// The blog's title.
    pub blog_title: String,
    /// Publication date (RFC 3339).
    pub date: String,
    /// A passage of the body with the matched words in `<b>…</b>`, HTML-escaped.
    pub snippet_html: String,
    /// tantivy's relevance score.
    pub score: f32,
}

/// The search index: a writer fed with views, and a reader.
pub struct SearchIndex {
    index: Index,
    fields: Fields,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    /// What the index holds: blog → post → BLAKE3 of (title, tags, body, slug), with the post
    /// view it was taken from. By blog, so a pass over one blog costs that blog's posts, not
    /// every post the spoke indexes.
    indexed: Mutex<HashMap<BlogId, HashMap<String, Indexed>>>,
    /// A post left the index since the last commit: its words are purged from the disk.
    purge: std::sync::atomic::AtomicBool,
}

/// One post as the index holds it.
struct Indexed {
    /// BLAKE3 of (title, tags, body, slug): [`digest`].
    digest: [u8; 32],
    /// The view the post was indexed from (none when read back from the index's files). A
    /// blog's new view keeps the same `Arc` for every post it did not change, so a pass after
    /// a publish of one post of a long blog compares pointers, not digests. A `Weak` keeps
    /// the allocation, so a pointer that compares equal is that very view.
    view: std::sync::Weak<PostView>,
}

fn schema() -> (Schema, Fields) {
    let mut sb = Schema::builder();
    let fields = Fields {
        key: sb.add_text_field("key", STRING),
        blog: sb.add_text_field("blog", STRING | STORED),
        post: sb.add_text_field("post", STRING | STORED),
        hash: sb.add_text_field("hash", STORED),
        title: sb.add_text_field("title", TEXT | STORED),
        body: sb.add_text_field("body", TEXT | STORED),
        tags: sb.add_text_field("tags", TEXT | STORED),
    };
    (sb.build(), fields)
}

fn key(blog: &BlogId, post: &str) -> String {
    format!("{blog}/{post}")
}

fn digest(p: &PostView) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(p.title.as_bytes());
    h.update(&[0]);
    h.update(p.tags.join("\u{1f}").as_bytes());
    h.update(&[0]);
    h.update(&p.body_hash);
    h.update(p.slug.as_bytes());
    h.finalize().into()
}

impl SearchIndex {
    /// Opens (or creates) the index in `data/search-v1`. A damaged index is deleted and
    /// created empty: it is rebuilt from the views the spoke feeds it.
    pub fn open(data: &Path) -> Result<SearchIndex, SearchError> {
        let dir = data.join(INDEX_DIR);
        match Self::open_at(&dir) {
            Ok(s) => Ok(s),
            Err(e) => {
                tracing::warn!("search index unusable ({e}); rebuilding it");
                let _ = std::fs::remove_dir_all(&dir);
                Self::open_at(&dir)
            }
        }
    }

    fn open_at(dir: &Path) -> Result<SearchIndex, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| SearchError::Folder(format!("{}: {e}", dir.display())))?;
        let (schema, fields) = schema();
        let mmap = tantivy::directory::MmapDirectory::open(dir).map_err(|e| SearchError::Folder(e.to_string()))?;
        let index = Index::open_or_create(mmap, schema)?;
        let writer = index.writer(32 * 1024 * 1024)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let me = SearchIndex { index, fields, reader, writer: Mutex::new(writer), indexed: Mutex::new(HashMap::new()), purge: Default::default() };
        me.load_indexed()?;
        Ok(me)
    }

    /// Reads which posts the index holds (its stored blog, post and hash fields).
    fn load_indexed(&self) -> Result<(), SearchError> {
        let searcher = self.reader.searcher();
        let n = searcher.num_docs() as usize;
        let mut indexed = self.indexed.lock().unwrap_or_else(|p| p.into_inner());
        if n == 0 {
            return Ok(());
        }
        for (_, addr) in searcher.search(&AllQuery, &TopDocs::with_limit(n))? {
            let d: TantivyDocument = searcher.doc(addr)?;
            let get = |f: Field| d.get_first(f).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let (Ok(blog), post) = (get(self.fields.blog).parse::<BlogId>(), get(self.fields.post)) else { continue };
            let mut hash = [0u8; 32];
            if hex::decode_to_slice(get(self.fields.hash), &mut hash).is_ok() {
                indexed.entry(blog).or_default().insert(post, Indexed { digest: hash, view: std::sync::Weak::new() });
            }
        }
        Ok(())
    }

    /// The blogs the index holds posts of.
    pub fn blogs(&self) -> std::collections::HashSet<BlogId> {
        self.indexed.lock().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect()
    }

    /// How many posts the index holds.
    pub fn len(&self) -> usize {
        self.indexed.lock().unwrap_or_else(|p| p.into_inner()).values().map(HashMap::len).sum()
    }

    /// Whether the index holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Brings the index in line with `view` (a verified blog's current published posts;
    /// `None` removes the blog), without committing. Only posts whose view holds their body
    /// are indexed ([`SearchIndex::refresh`] reads the others). Returns whether anything
    /// changed.
    pub fn update(&self, blog: &BlogId, view: Option<&BlogView>) -> Result<bool, SearchError> {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.update_with(&writer, blog, view, &|_, p| p.body.as_ref().map(|b| b.text.clone()))
    }

    /// [`SearchIndex::update`] with the view `source` gives for `blog` now, read while the
    /// index is locked: a view that was replaced before this call can never be indexed after
    /// its replacement (which would bring back, until the next pass, the words of a post the
    /// writer took back). The words of posts whose view does not hold their body come from
    /// [`Source::text`].
    pub fn refresh(&self, blog: &BlogId, source: &dyn Source) -> Result<bool, SearchError> {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let view = source.view(blog);
        self.update_with(&writer, blog, view.as_deref(), &|v, p| source.text(v, p))
    }

    fn update_with(&self, writer: &IndexWriter, blog: &BlogId, view: Option<&BlogView>, text: &dyn Fn(&BlogView, &PostView) -> Option<String>) -> Result<bool, SearchError> {
        let f = self.fields;
        let mut indexed = self.indexed.lock().unwrap_or_else(|p| p.into_inner());
        let posts: &[Arc<PostView>] = view.filter(|v| v.verified()).map(|v| v.posts.as_slice()).unwrap_or_default();
        let mut changed = false;
        let held = indexed.entry(blog.clone()).or_default();
        // The posts the index already holds as they are: the same view (no digest), or one
        // whose digest matches.
        let mut kept = 0;
        for p in posts {
            let d = match held.get_mut(&p.id) {
                Some(h) if std::ptr::eq(h.view.as_ptr(), Arc::as_ptr(p)) => {
                    kept += 1;
                    continue;
                }
                Some(h) => {
                    let d = digest(p);
                    if h.digest == d {
                        h.view = Arc::downgrade(p);
                        kept += 1;
                        continue;
                    }
                    d
                }
                None => digest(p),
            };
            // Words that cannot be read now (the post changed a moment ago): its newer view
            // brings the blog back to the index.
            let Some(body) = view.and_then(|v| text(v, p)) else { continue };
            writer.delete_term(Term::from_field_text(f.key, &key(blog, &p.id)));
            writer.add_document(doc!(
                f.key => key(blog, &p.id),
                f.blog => blog.to_string(),
                f.post => p.id.clone(),
                f.hash => hex::encode(d),
                f.title => p.title.clone(),
                f.body => body,
                f.tags => p.tags.join(" "),
            ))?;
            let fresh = held.insert(p.id.clone(), Indexed { digest: d, view: Arc::downgrade(p) }).is_none();
            if !fresh {
                kept += 1;
            }
            changed = true;
        }
        // Posts held that the view no longer lists: only when the view's posts do not account
        // for every one held (post IDs are unique in a view).
        if held.len() > kept {
            let live: std::collections::HashSet<&str> = posts.iter().map(|p| p.id.as_str()).collect();
            let stale: Vec<String> = held.keys().filter(|p| !live.contains(&p[..])).cloned().collect();
            for p in stale {
                writer.delete_term(Term::from_field_text(f.key, &key(blog, &p)));
                held.remove(&p);
                changed = true;
                self.purge.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        if held.is_empty() {
            indexed.remove(blog);
        }
        Ok(changed)
    }

    /// Commits what [`SearchIndex::update`] wrote and makes it searchable.
    ///
    /// When a post left the index (unpublished, deleted, its blog dropped), its words would
    /// stay in the segment files until tantivy happened to merge them; the segments are then
    /// merged into one and the old files deleted, so the words leave the disk with the commit.
    pub fn commit(&self) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        writer.commit()?;
        if self.purge.swap(false, std::sync::atomic::Ordering::Relaxed) {
            let segments = self.index.searchable_segment_ids()?;
            if !segments.is_empty() {
                writer.merge(&segments).wait()?;
            }
            // The reader lets go of the old segments first: files in use are not collected.
            self.reader.reload()?;
            writer.garbage_collect_files().wait()?;
        }
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Searches titles (boosted), bodies and tags with tantivy's query syntax, leniently (a
    /// stray quote or colon is not an error). Each hit is checked with `view_of` (see the
    /// module documentation); at most `limit` (≤ [`MAX_RESULTS`]) hits, best first.
    pub fn search(&self, query: &str, limit: usize, view_of: &dyn Fn(&BlogId) -> Option<Arc<BlogView>>) -> Result<Vec<Hit>, SearchError> {
        let f = self.fields;
        let query: String = query.chars().take(MAX_QUERY_LEN).collect();
        if query.trim().is_empty() {
            return Ok(vec![]);
        }
        let mut qp = QueryParser::for_index(&self.index, vec![f.title, f.body, f.tags]);
        qp.set_field_boost(f.title, 2.0);
        qp.set_conjunction_by_default();
        let (q, _) = qp.parse_query_lenient(&query);
        let searcher = self.reader.searcher();
        let limit = limit.clamp(1, MAX_RESULTS);
        // Room for hits dropped by the check below.
        let top = searcher.search(&q, &TopDocs::with_limit(limit * 2))?;
        let mut snippets = SnippetGenerator::create(&searcher, &*q, f.body)?;
        snippets.set_max_num_chars(220);
        let mut hits = Vec::new();
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr)?;
            let get = |fl: Field| d.get_first(fl).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let Ok(blog) = get(f.blog).parse::<BlogId>() else { continue };
            let post_id = get(f.post);
            let Some(view) = view_of(&blog).filter(|v| v.verified()) else { continue };
            let Some(p) = view.visible().into_iter().find(|p| p.id == post_id) else { continue };
            if hex::encode(digest(p)) != get(f.hash) {
                continue;
            }
            let snippet = snippets.snippet_from_doc(&d);
            let snippet_html = if snippet.is_empty() { html_escape(&p.excerpt) } else { snippet.to_html() };
            hits.push(Hit { blog_id: blog, post_id, title: p.title.clone(), slug: p.slug.clone(), blog_title: view.title().to_owned(), date: p.date.to_rfc3339(), snippet_html, score });
            if hits.len() == limit {
                break;
            }
        }
        Ok(hits)
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// What the index reads: what a blog shows readers now (the spoke's views), and the words of
/// posts whose view does not hold their body (a blog kept as a set of documents).
pub trait Source: Send + Sync {
    /// The blog's current view, `None` when it is no longer held.
    fn view(&self, blog: &BlogId) -> Option<Arc<BlogView>>;
    /// Post `p`'s plain text as `blog` shows it; `None` when it cannot be read now. By
    /// default the text of the body the view holds.
    fn text(&self, _blog: &BlogView, p: &PostView) -> Option<String> {
        p.body.as_ref().map(|b| b.text.clone())
    }
}

/// Feeds views to the index in the background, committing at most every `every`.
///
/// Each blog named in a batch is indexed as `source` shows it when the index takes it (the
/// views in the messages only say which blogs changed), so a batch that waited cannot put back
/// what a newer view left out.
pub async fn indexer(index: Arc<SearchIndex>, mut rx: tokio::sync::mpsc::UnboundedReceiver<(BlogId, Option<Arc<BlogView>>)>, every: std::time::Duration, source: Arc<dyn Source>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        tokio::time::sleep(every).await;
        while let Ok(m) = rx.try_recv() {
            batch.push(m);
        }
        let (index, source) = (index.clone(), source.clone());
        let r = tokio::task::spawn_blocking(move || -> Result<(), SearchError> {
            let blogs: std::collections::BTreeSet<BlogId> = batch.into_iter().map(|(b, _)| b).collect();
            let mut changed = false;
            for b in &blogs {
                changed |= index.refresh(b, source.as_ref())?;
            }
            if changed {
                index.commit()?;
            }
            Ok(())
        })
        .await;
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("search index update failed: {e}"),
            Err(e) => tracing::error!("search indexer stopped: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::doc::{BlogDoc, BlogSettings, PostState};
    use spokes_core::statement::Statement;
    use spokes_core::{Identity, Post};
    use spokes_sync::session::Replica;

    /// A verified view of a blog with these (title, body) posts; `blog` is an ID and its salt
    /// from `BlogId::bound_to`.
    fn view(posts: &[(&str, &str)], blog: &(BlogId, String), id: &Identity) -> BlogView {
        let mut key = id.unlock("pw").unwrap();
        let cert = id.certificate();
        let (blog_id, salt) = blog;
        let mut doc = BlogDoc::create_bound(blog_id, salt, &cert.fingerprint(), &BlogSettings { title: "Field Notes".into(), ..Default::default() });
        for (i, (title, body)) in posts.iter().enumerate() {
            let mut p = Post::new(title, body);
            p.id = format!("{i:016x}");
            p.state = PostState::Published;
            doc.put_post(&p).unwrap();
        }
        doc.commit("posts");
        let statements = vec![Statement::new(blog_id.clone(), &doc.heads()).sign(&mut key).unwrap()];
        let mut r = Replica { blog_id: blog_id.clone(), doc: doc.automerge().fork(), certificate: Some(cert), statements, saved: Default::default() };
        BlogView::build(&mut r)
    }

    #[test]
    fn posts_are_found_with_snippets_and_stale_or_removed_hits_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        let id = Identity::generate("Ada", "pw").unwrap();
        let bound = BlogId::bound_to(&id.fingerprint());
        let blog = bound.0.clone();
        let v1 = Arc::new(view(&[("Tide tables", "The <b>spring</b> tide comes twice a month, with the new and full moon."), ("Gulls", "Herring gulls nest on the roofs.")], &bound, &id));
        assert!(index.update(&blog, Some(&v1)).unwrap());
        assert!(!index.update(&blog, Some(&v1)).unwrap(), "nothing changed");
        index.commit().unwrap();
        let current = std::sync::Mutex::new(v1.clone());
        let lookup = |b: &BlogId| (*b == blog).then(|| current.lock().unwrap().clone());
        let hits = index.search("spring tide", 10, &lookup).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].title, "Tide tables");
        assert_eq!(hits[0].blog_title, "Field Notes");
        assert!(hits[0].snippet_html.contains("<b>spring</b>") && hits[0].snippet_html.contains("<b>tide</b>"), "{}", hits[0].snippet_html);
        assert!(!hits[0].snippet_html.contains("<b><b>"), "the body's own markup is escaped: {}", hits[0].snippet_html);
        assert!(index.search("", 10, &lookup).unwrap().is_empty());
        assert!(index.search("\"unbalanced", 10, &lookup).is_ok(), "a stray quote is not an error");

        // The blog changed but the index has not caught up: the old text is not shown.
        let v2 = Arc::new(view(&[("Tide tables", "Rewritten entirely."), ("Gulls", "Herring gulls nest on the roofs.")], &bound, &id));
        *current.lock().unwrap() = v2.clone();
        assert!(index.search("spring", 10, &lookup).unwrap().is_empty(), "a stale hit was shown");
        index.update(&blog, Some(&v2)).unwrap();
        index.commit().unwrap();
        assert_eq!(index.search("rewritten", 10, &lookup).unwrap().len(), 1);

        // Reopened, the index knows what it holds; a removed blog leaves it.
        drop(index);
        let index = SearchIndex::open(dir.path()).unwrap();
        assert_eq!(index.len(), 2);
        assert!(!index.update(&blog, Some(&v2)).unwrap());
        assert!(index.update(&blog, None).unwrap());
        index.commit().unwrap();
        assert!(index.is_empty());
        assert!(index.search("gulls", 10, &lookup).unwrap().is_empty());
    }

    /// A blog's next view keeps the same post views for the posts a publish did not change:
    /// the index takes the changed post, keeps the others, and lets go of a post the view no
    /// longer lists, whether or not the other posts' views are the ones it indexed.
    #[test]
    fn a_view_that_shares_its_unchanged_posts_is_indexed_by_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        let id = Identity::generate("Ada", "pw").unwrap();
        let bound = BlogId::bound_to(&id.fingerprint());
        let blog = bound.0.clone();
        let posts = [("Tide tables", "Spring tides twice a month."), ("Gulls", "Herring gulls nest on roofs."), ("Kelp", "Kelp forests sway offshore.")];
        let first = Arc::new(view(&posts, &bound, &id));
        assert!(index.update(&blog, Some(&first)).unwrap());
        index.commit().unwrap();
        // The first post rewritten: a view whose other posts are the very ones indexed.
        let rewritten = view(&[("Tide tables", "Neap tides between them."), posts[1], posts[2]], &bound, &id);
        let mut next = (*first).clone();
        let tides = |v: &BlogView| v.posts.iter().position(|p| p.title == "Tide tables").unwrap();
        next.posts[tides(&first)] = rewritten.posts[tides(&rewritten)].clone();
        let next = Arc::new(next);
        let current = std::sync::Mutex::new(next.clone());
        let lookup = |b: &BlogId| (*b == blog).then(|| current.lock().unwrap().clone());
        assert!(index.update(&blog, Some(&next)).unwrap());
        assert!(!index.update(&blog, Some(&next)).unwrap(), "nothing changed since");
        index.commit().unwrap();
        assert_eq!(index.search("neap", 10, &lookup).unwrap().len(), 1);
        assert!(index.search("spring", 10, &lookup).unwrap().is_empty());
        assert_eq!(index.search("gulls", 10, &lookup).unwrap().len(), 1);
        // The same words in views built anew: nothing to index.
        assert!(!index.update(&blog, Some(&rewritten)).unwrap());
        // The last post taken back; the others shared: its words leave the index.
        let mut fewer = (*next).clone();
        fewer.posts.retain(|p| p.title != "Kelp");
        let fewer = Arc::new(fewer);
        *current.lock().unwrap() = fewer.clone();
        assert!(index.update(&blog, Some(&fewer)).unwrap());
        index.commit().unwrap();
        assert_eq!(index.len(), 2);
        *current.lock().unwrap() = first.clone();
        assert!(index.search("kelp", 10, &lookup).unwrap().is_empty(), "the index still holds a post taken back");
    }
}
