//! What the HTTP layer and the search index read of a running spoke (`http::SpokeView`,
//! `search::Source`), and the bodies of set blogs' posts rendered when a reader asks.

use super::*;
use spokes_site::view::{PostBody, PostView};

/// Most bytes of rendered bodies (HTML and text) the body cache keeps.
pub(crate) const BODY_CACHE_BYTES: usize = 32 << 20;
/// Most bytes (as saved) of set blogs' post documents the document cache keeps.
pub(crate) const POST_DOC_CACHE_BYTES: usize = 8 << 20;

/// A least-recently-used cache bounded by the bytes its values hold (as the caller counts
/// them): putting a value in lets the least recently read ones go until the rest fit in
/// `budget`; a value larger than the whole budget is not kept.
pub(crate) struct SizedLru<K: std::hash::Hash + Eq, V> {
    lru: lru::LruCache<K, (usize, V)>,
    bytes: usize,
    budget: usize,
}

impl<K: std::hash::Hash + Eq, V> SizedLru<K, V> {
    /// An empty cache of at most `budget` bytes.
    pub(crate) fn new(budget: usize) -> Self {
        SizedLru { lru: lru::LruCache::unbounded(), bytes: 0, budget }
    }

    /// The value of `key`, marked as just read.
    pub(crate) fn get(&mut self, key: &K) -> Option<&V> {
        self.lru.get(key).map(|(_, v)| v)
    }

    /// Keeps `value` (`size` bytes) under `key`, replacing what was there.
    pub(crate) fn put(&mut self, key: K, value: V, size: usize) {
        self.bytes += size;
        if let Some((old, _)) = self.lru.put(key, (size, value)) {
            self.bytes -= old;
        }
        while self.bytes > self.budget {
            let Some((_, (n, _))) = self.lru.pop_lru() else { break };
            self.bytes -= n;
        }
    }

    /// Lets the value of `key` go.
    pub(crate) fn pop(&mut self, key: &K) {
        if let Some((n, _)) = self.lru.pop(key) {
            self.bytes -= n;
        }
    }

    /// (entries, bytes) held.
    #[cfg(test)]
    fn len(&self) -> (usize, usize) {
        (self.lru.len(), self.bytes)
    }
}

/// Bodies of set blogs' posts rendered for readers, keyed by blog, post and the BLAKE3 hash
/// of the Markdown they show (so a changed post is never served from here).
pub(crate) type BodyCache = SizedLru<(BlogId, String, [u8; 32]), Arc<PostBody>>;

/// Set blogs' post documents as the last sessions stored them, keyed by blog and post, with
/// the BLAKE3 hash of the stored bytes (an entry is used only while the store holds exactly
/// those bytes): the next session for the same post does not load its document again.
pub(crate) type PostDocCache = SizedLru<(BlogId, String), ([u8; 32], spokes_core::postdoc::PostDoc)>;

/// Most posts of one session whose bodies are rendered as it is stored ([`Inner::keep_body`]).
pub(crate) const WARM_BODIES: usize = 8;

/// Most bytes of made verification bundles the bundle cache keeps; a larger bundle is made
/// for each request (one at a time, see `http::bundle`).
pub(crate) const BUNDLE_CACHE_BYTES: usize = 128 << 20;

/// Verification bundles as served (`/b/{blog}/bundle.json`), by blog, each with the view it
/// was made from: an entry is used only while that view is the one being served, and a new
/// view (a publish, a post taken back) or a removed one lets its entry go at once, so a
/// forgotten post's words do not stay in memory here either.
pub(crate) type BundleCache = SizedLru<BlogId, (std::sync::Weak<BlogView>, Arc<http::MadeBundle>)>;

impl Inner {
    /// Renders `markdown`, post `p`'s body, into the body cache.
    pub(crate) fn keep_body(&self, blog_id: &BlogId, p: &PostView, markdown: &str) -> Arc<PostBody> {
        let body = Arc::new(PostBody::render(markdown, &format!("/b/{blog_id}/images/")));
        self.bodies.lock().unwrap_or_else(|e| e.into_inner()).put((blog_id.clone(), p.id.clone(), p.body_hash), body.clone(), body.size());
        body
    }

    /// Lets go of what the caches hold of `posts` of `blog_id` (taken back by the writer, or
    /// the blog dropped): their words leave the spoke's memory too, not only its store.
    pub(crate) fn forget_cached<'a>(&self, blog_id: &BlogId, posts: impl Iterator<Item = &'a PostView>) {
        let mut bodies = self.bodies.lock().unwrap_or_else(|e| e.into_inner());
        let mut docs = self.post_docs.lock().unwrap_or_else(|e| e.into_inner());
        for p in posts {
            bodies.pop(&(blog_id.clone(), p.id.clone(), p.body_hash));
            docs.pop(&(blog_id.clone(), p.id.clone()));
        }
    }

    /// Post `p`'s body if the cache holds it.
    fn cached_body(&self, blog_id: &BlogId, p: &PostView) -> Option<Arc<PostBody>> {
        self.bodies.lock().unwrap_or_else(|e| e.into_inner()).get(&(blog_id.clone(), p.id.clone(), p.body_hash)).cloned()
    }

    /// The Markdown of post `p` of `blog` (a set blog's view, which holds no bodies) from its
    /// stored document, as the view lists it; `None` when it is not the body the view was
    /// built from or cannot be read.
    fn stored_markdown(&self, blog: &BlogView, p: &PostView) -> Option<String> {
        let doc = self.load_post_doc(&blog.blog_id, &p.id)?;
        p.markdown_of(&doc)
    }
}

impl search::Source for Inner {
    fn view(&self, blog: &BlogId) -> Option<Arc<BlogView>> {
        // Held here first: a digest's view of a blog held here is never indexed or shown.
        http::SpokeView::blog(self, blog).or_else(|| self.digest_view(blog))
    }
    fn text(&self, blog: &BlogView, p: &PostView) -> Option<String> {
        match p.body.clone().or_else(|| self.cached_body(&blog.blog_id, p)) {
            Some(b) => Some(b.text.clone()),
            None => self.stored_markdown(blog, p).map(|m| spokes_core::render::plain_text(&m)),
        }
    }
}

impl http::SpokeView for Inner {
    fn body(&self, blog: &BlogView, p: &PostView) -> Option<Arc<PostBody>> {
        if let Some(b) = &p.body {
            return Some(b.clone());
        }
        if let Some(b) = self.cached_body(&blog.blog_id, p) {
            return Some(b);
        }
        let markdown = self.stored_markdown(blog, p)?;
        Some(self.keep_body(&blog.blog_id, p, &markdown))
    }
    fn blogs(&self) -> Vec<Arc<BlogView>> {
        let mut v: Vec<_> = self.views.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        v.sort_by(|a, b| a.settings.title.cmp(&b.settings.title));
        v
    }
    fn blog(&self, id: &BlogId) -> Option<Arc<BlogView>> {
        self.views.read().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn endpoint(&self) -> Option<&str> {
        Some(&self.endpoint_id)
    }
    fn image(&self, id: &BlogId, name: &ImageName) -> Option<Vec<u8>> {
        self.store.image(id, name).ok().flatten()
    }
    fn bundle_json(&self, id: &BlogId, make: bool) -> Option<Arc<http::MadeBundle>> {
        // Nothing shown, nothing served: a suspended or dropped blog has no view.
        let view = http::SpokeView::blog(self, id)?;
        let made_from = |w: &std::sync::Weak<BlogView>, v: &Arc<BlogView>| w.upgrade().is_some_and(|w| Arc::ptr_eq(&w, v));
        if let Some((w, b)) = self.bundles.lock().unwrap_or_else(|e| e.into_inner()).get(id)
            && made_from(w, &view)
        {
            return Some(b.clone());
        }
        if !make {
            return None;
        }
        let made = Arc::new(http::MadeBundle::of(&self.bundle(id)?)?);
        self.metrics.bundle_builds.inc();
        // Kept only if the view it was made from is still served (`publish_view` replaces the
        // view, then lets the entry go, so one made from an older view never stays).
        let mut cache = self.bundles.lock().unwrap_or_else(|e| e.into_inner());
        if http::SpokeView::blog(self, id).is_some_and(|now| Arc::ptr_eq(&now, &view)) {
            cache.put(id.clone(), (Arc::downgrade(&view), made.clone()), made.body.len());
        }
        Some(made)
    }
    fn bundle(&self, id: &BlogId) -> Option<view::AnyBundle> {
        // Only what readers are shown: a suspended blog is held but not served.
        let b = self.store.blog(id).ok()?.filter(|b| b.status == BlogStatus::Active)?;
        if b.format == 2 {
            return self.set_bundle(id).map(view::AnyBundle::V2);
        }
        let statements = self.store.statements(id).ok()?;
        Some(view::AnyBundle::V1(view::Bundle::from_parts(&b.blog_id, &b.certificate, &b.document, &statements)))
    }
    fn search(&self, query: &str, limit: usize) -> Result<Vec<search::Hit>, String> {
        let started = std::time::Instant::now();
        let r = self.search.search(query, limit, &|b| search::Source::view(self, b)).map_err(|e| e.to_string());
        self.metrics.search_queries.inc();
        self.metrics.search_duration_seconds.observe(started.elapsed().as_secs_f64());
        r
    }
    fn members(&self) -> Vec<council::MemberInfo> {
        self.with_membership(|m| m.members().into_values().collect()).unwrap_or_default()
    }
    fn cut_off(&self) -> std::collections::BTreeSet<String> {
        self.with_membership(council::Membership::removed).unwrap_or_default()
    }
    fn holds_every_blog(&self) -> bool {
        self.config.council.copies == 0
    }
    fn council_newest(&self) -> Vec<Arc<BlogView>> {
        // A blog held here since the digest was composed is shown as held, once.
        let held = self.views.read().unwrap_or_else(|p| p.into_inner());
        self.composed.read().unwrap_or_else(|p| p.into_inner()).views.values().filter(|v| !held.contains_key(&v.blog_id)).cloned().collect()
    }
    fn count_read(&self, blog: &BlogId) {
        Inner::count_read(self, blog);
    }
    fn holder_of(&self, blog: &BlogId) -> Option<String> {
        self.placed_holder(blog)
    }
    fn council_log(&self) -> Option<council::Membership> {
        self.membership().ok()
    }
    fn readiness(&self) -> serde_json::Value {
        // The membership is read from the database (its entry count at least): it checks both.
        match self.membership() {
            Err(e) => serde_json::json!({"ready": false, "database": e.message, "council": null}),
            Ok(m) => match m.id() {
                None => serde_json::json!({"ready": true, "database": "ok", "council": null}),
                Some(id) => {
                    let member = m.is_member(&self.endpoint_id);
                    serde_json::json!({"ready": member, "database": "ok", "council": {"id": id, "member": member, "members": m.members().len()}})
                }
            },
        }
    }
    fn metrics(&self) -> String {
        if let Some((certs, _)) = &self.https {
            self.metrics.tls_certificate_expiry.set(certs.info().map_or(0, |i| i.not_after));
        }
        self.metrics.encode()
    }
    fn count_response(&self, status: u16, seconds: f64) {
        self.metrics.http(status, seconds);
    }
    fn site_url(&self) -> String {
        self.me.web.trim_end_matches('/').to_owned()
    }
    fn blog_for_host(&self, host: &str) -> Option<BlogId> {
        self.naming.as_ref()?.blog_for_host(host)
    }
    fn named_url(&self, blog: &BlogId) -> Option<String> {
        let n = self.naming.as_ref()?;
        let name = n.name_of(blog)?;
        if let Some(base) = self.https_base(&name) {
            return Some(base);
        }
        let port = n.zone.config.reader_port;
        Some(if port == 80 { format!("http://{name}") } else { format!("http://{name}:{port}") })
    }
    fn https_base(&self, host: &str) -> Option<String> {
        let (certs, port) = self.https.as_ref()?;
        let host = host.parse::<axum::http::uri::Authority>().ok()?.host().to_ascii_lowercase();
        certs.covers(&host).then(|| if *port == 443 { format!("https://{host}") } else { format!("https://{host}:{port}") })
    }
    fn generation(&self) -> u64 {
        // The council's entries count too: pages link to the members' reader sites; so does a
        // new HTTPS certificate: pages link to their blog's name over HTTPS once there is one.
        let certificates = self.https.as_ref().map_or(0, |(c, _)| c.installed());
        self.generation
            .load(std::sync::atomic::Ordering::Relaxed)
            .wrapping_add(self.council_entries.load(std::sync::atomic::Ordering::Relaxed).wrapping_mul(1_000_003))
            .wrapping_add(certificates.wrapping_mul(0x9e37_79b9))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache holds at most its byte budget, the least recently read body leaving first,
    /// and counts a replaced body once.
    #[test]
    fn the_body_cache_stays_within_its_bytes_and_lets_the_least_recently_read_go() {
        let blog: BlogId = "0123456789abcdef0123456789abcdef".parse().unwrap();
        let body = |n: usize| Arc::new(PostBody { html: "h".repeat(n), text: String::new() });
        let key = |i: usize| (blog.clone(), format!("post{i}"), [0u8; 32]);
        let mut c = BodyCache::new(BODY_CACHE_BYTES);
        let quarter = BODY_CACHE_BYTES / 4;
        for i in 0..4 {
            c.put(key(i), body(quarter), quarter);
        }
        assert_eq!(c.len(), (4, BODY_CACHE_BYTES));
        c.put(key(3), body(quarter), quarter);
        assert_eq!(c.len(), (4, BODY_CACHE_BYTES), "a body put again is counted once");
        assert!(c.get(&key(0)).is_some(), "post 0 read: post 1 is now the least recent");
        c.put(key(4), body(quarter), quarter);
        assert_eq!(c.len(), (4, BODY_CACHE_BYTES));
        assert!(c.get(&key(1)).is_none() && c.get(&key(0)).is_some() && c.get(&key(4)).is_some());
        c.pop(&key(4));
        assert_eq!(c.len(), (3, BODY_CACHE_BYTES - quarter), "a body let go is no longer counted");
        assert!(c.get(&key(4)).is_none());
        c.put(key(5), body(BODY_CACHE_BYTES + 1), BODY_CACHE_BYTES + 1);
        assert_eq!(c.len(), (0, 0), "a body larger than the whole budget is not kept");
    }
}
