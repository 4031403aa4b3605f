//! The reader site: server-rendered HTML that works without JavaScript, Atom and JSON feeds,
//! sitemaps, a JSON API, verification bundles and a health endpoint. Every page has a `<head>`
//! with the blog's language, a description, its canonical address, feed autodiscovery and
//! OpenGraph tags; pages and feeds carry `ETag` and (a blog's) `Last-Modified`.
//!
//! | path | what |
//! |---|---|
//! | `/` | the 20 newest posts of the whole council (hosted here or council copies), and the blogs hosted here |
//! | `/search?q=` | full-text search over every post of the council |
//! | `/b/{blog}/` | a blog's home page |
//! | `/b/{blog}/posts/{slug}` | a post (permalink) |
//! | `/b/{blog}/feed.atom`, `/b/{blog}/feed.json` | a blog's Atom feed (RFC 4287) and JSON Feed 1.1, absolute links |
//! | `/b/{blog}/tags/{tag}` and its `/feed.atom`, `/feed.json` | a blog's posts with one tag, and their feeds |
//! | `/b/{blog}/sitemap.xml` | a blog's sitemap (sitemaps.org 0.9) |
//! | `/b/{blog}/bundle.json` | verification bundle |
//! | `/feed.atom` | the 50 newest posts of the whole council |
//! | `/sitemap.xml`, `/robots.txt` | an index of the hosted blogs' sitemaps; what crawlers may read (RFC 9309) |
//! | `/favicon.svg` (`/favicon.ico` redirects to it) | the site's icon |
//! | `/b/{blog}/…` of a blog not held here | with partial council copies, 307 to the member ranked first for the blog |
//! | any of the blog's paths on its name (`Host: maria.spokes.example`) | `/`, `/posts/{slug}`, `/tags/{tag}`, the feeds, `/sitemap.xml`, `/images/…`, `/bundle.json` ([`by_host`]) |
//! | `/api/v1/blogs` , `/api/v1/blogs/{blog}`, `/api/v1/blogs/{blog}/posts/{slug}` | JSON |
//! | `/api/v1/newest` | the 20 newest posts of the council, JSON |
//! | `/api/v1/search?q=&limit=` | search results with snippets, JSON |
//! | `/api/v1/council` | the council's members, JSON |
//! | `/health` | `{"status":"ok",...}`: the process answers |
//! | `/ready` | 200 when the spoke can serve (its database answers, and it is a member of its council if it has one), else 503; JSON says which ([`SpokeView::readiness`]) |
//!
//! The operator's listener ([`admin_router`], `admin` in config.toml) serves `/metrics`
//! (Prometheus, [`crate::metrics`]), `/health` and `/ready`; the reader site has no `/metrics`.
//!
//! Every post shown comes from a blog view whose signatures verified; council copies link to
//! a spoke that hosts the blog when the council knows one.

use spokes_site::words::Words;
use spokes_site::pages::{CSS, FAVICON, Meta, date, date_in, entry_with, feed_xml, feed_xml_with, feeds_at, json_feed, page_meta, page_with, post_list, sitemap_index_xml, sitemap_xml, verification_note_with};
use spokes_site::view::{AnyBundle, BlogView, PostBody, PostView};
use atom_syndication::Entry;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::extract::Query;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use maud::{Markup, PreEscaped, html};
use spokes_core::BlogId;
use spokes_core::image::ImageName;
use std::sync::Arc;
use tower_http::set_header::SetResponseHeaderLayer;

/// What the site reads from the spoke.
pub trait SpokeView: Send + Sync + 'static {
    /// All hosted blogs.
    fn blogs(&self) -> Vec<Arc<BlogView>>;
    /// One blog.
    fn blog(&self, id: &BlogId) -> Option<Arc<BlogView>>;
    /// The spoke's name.
    fn name(&self) -> &str;
    /// This spoke's endpoint ID (the invite page shows only this spoke's invites).
    fn endpoint(&self) -> Option<&str> {
        None
    }
    /// The bytes of one of a blog's stored images.
    fn image(&self, id: &BlogId, name: &ImageName) -> Option<Vec<u8>>;
    /// A blog's verification bundle.
    fn bundle(&self, id: &BlogId) -> Option<AnyBundle>;
    /// A blog's verification bundle as served: the one already made for the blog as it is
    /// shown now, else (with `make`) made now; `None` when there is none (or, without `make`,
    /// none made yet). A bundle holds every post's document, so making one costs time and
    /// memory in proportion to the blog: the HTTP layer makes one at a time, off the async
    /// workers, and a spoke keeps what it made while the blog stays the same.
    fn bundle_json(&self, id: &BlogId, make: bool) -> Option<Arc<MadeBundle>> {
        if !make {
            return None;
        }
        self.bundle(id).as_ref().and_then(MadeBundle::of).map(Arc::new)
    }
    /// Post `p` of `blog` rendered for its page and feed entry: the view's own body, or (a
    /// view of a set of documents holds none) the one the spoke renders from the stored
    /// document. `None` when it cannot be had now (the post changed a moment ago).
    fn body(&self, _blog: &BlogView, p: &PostView) -> Option<Arc<PostBody>> {
        p.body.clone()
    }
    /// Council-wide search; the error is for the log.
    fn search(&self, _query: &str, _limit: usize) -> Result<Vec<crate::search::Hit>, String> {
        Ok(vec![])
    }
    /// The council's members (empty outside a council).
    fn members(&self) -> Vec<crate::council::MemberInfo> {
        vec![]
    }
    /// Spokes the council cut off: pages do not send readers to them, even when a writer
    /// chose one.
    fn cut_off(&self) -> std::collections::BTreeSet<String> {
        std::collections::BTreeSet::new()
    }
    /// Whether this spoke keeps a copy of every blog of its council (no partial copies): what
    /// the front page and search say they cover.
    fn holds_every_blog(&self) -> bool {
        true
    }
    /// Blogs this spoke does not hold, shown from the council's digest of newest posts with
    /// only the posts it carries ([`spokes_sync::council::digest`]): part of the front page,
    /// `/api/v1/newest` and the council feed, never a blog's own pages.
    fn council_newest(&self) -> Vec<Arc<BlogView>> {
        vec![]
    }
    /// Counts a read of one of `blog`'s pages or feeds (what makes a blog popular).
    fn count_read(&self, _blog: &BlogId) {}
    /// For a blog not shown here: the reader site (absolute, no final slash) of a council
    /// member that holds it, where its addresses are redirected (307); `None`: answer here.
    fn holder_of(&self, _blog: &BlogId) -> Option<String> {
        None
    }
    /// The council log (`None` outside a council), served at `/council`.
    fn council_log(&self) -> Option<crate::council::Membership> {
        None
    }
    /// The Prometheus exposition.
    fn metrics(&self) -> String {
        String::new()
    }
    /// Counts a response: its status code and how long it took, seconds.
    fn count_response(&self, _status: u16, _seconds: f64) {}
    /// Whether the spoke can serve, for `/ready`: a JSON object whose `ready` is true or
    /// false, with what it checked (`database`: `"ok"` or the error; `council`: null outside
    /// a council, else its `id`, whether this spoke is a `member`, and the `members` count).
    fn readiness(&self) -> serde_json::Value {
        serde_json::json!({"ready": true})
    }
    /// This spoke's own reader site, absolute, no final slash (`https://spoke.example`): what
    /// canonical links, feeds and sitemaps of blogs without a name use. Empty: unknown (links
    /// stay relative).
    fn site_url(&self) -> String {
        String::new()
    }
    /// The blog whose name is `host` (a request's `Host` header), when it has one here.
    fn blog_for_host(&self, _host: &str) -> Option<BlogId> {
        None
    }
    /// The address readers should use for `blog` when it has a name here: scheme, name and
    /// port, no final slash (`https://maria.spokes.example`; `http://` when no certificate
    /// covers the name).
    fn named_url(&self, _blog: &BlogId) -> Option<String> {
        None
    }
    /// Where `host` (a request's `Host`, with or without its port) is served over HTTPS, when
    /// this spoke's certificate covers it: scheme, host and port, no final slash
    /// (`https://maria.spokes.example`). `None`: plain HTTP only.
    fn https_base(&self, _host: &str) -> Option<String> {
        None
    }
    /// A number that changes whenever anything the site shows may have changed (a blog, its
    /// statements, the council); responses are reused while it stays the same.
    fn generation(&self) -> u64 {
        0
    }
}

/// A verification bundle as served: its JSON (`application/json`) and its strong entity
/// tag (RFC 9110 §8.8.3, [`entity_tag`] of the body).
#[derive(Debug)]
pub struct MadeBundle {
    /// The bundle, serialized.
    pub body: axum::body::Bytes,
    /// The body's entity tag.
    pub etag: HeaderValue,
}

impl MadeBundle {
    /// `bundle` serialized; `None` if it cannot be.
    pub fn of(bundle: &AnyBundle) -> Option<MadeBundle> {
        let body = serde_json::to_vec(bundle).ok()?;
        Some(MadeBundle { etag: entity_tag(&body), body: body.into() })
    }
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// The spoke.
    pub spoke: Arc<dyn SpokeView>,
    /// Responses already made for the spoke's current [`SpokeView::generation`].
    cache: Arc<std::sync::Mutex<ResponseCache>>,
    /// Held while a verification bundle is made: one at a time.
    bundle_turn: Arc<tokio::sync::Mutex<()>>,
}

impl AppState {
    /// The handlers' state for `spoke`.
    pub fn new(spoke: Arc<dyn SpokeView>) -> AppState {
        AppState { spoke, cache: Arc::default(), bundle_turn: Arc::default() }
    }
}

/// Most requests the site answers at once; more wait their turn (tower's global
/// concurrency limit), so a crowd of requests cannot make the spoke build thousands of large
/// pages at once.
pub const MAX_CONCURRENT_REQUESTS: usize = 256;
/// Longest a request may take before it is answered `408 Request Timeout`.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Most bytes of responses kept for reuse; past it the cache starts again empty.
const CACHE_BYTES: usize = 64 << 20;
/// Largest response kept for reuse (and given an entity tag); larger ones are sent as made.
const MAX_CACHED_BODY: u64 = 16 << 20;
/// Most responses kept for reuse.
const CACHE_ENTRIES: usize = 1024;
/// Most posts `/api/v1/blogs/{blog}` lists per page (`?limit=`, at most this).
pub const MAX_API_POSTS: usize = 10_000;
/// Most blogs `/api/v1/blogs` lists per page (`?limit=`, at most this).
pub const MAX_API_BLOGS: usize = 200;
/// Posts listed for each blog in `/api/v1/blogs` (the newest); the blog's own address lists all.
pub const API_BLOG_LIST_POSTS: usize = 20;
/// Entries in a blog's feed (the newest), as feed readers expect.
pub const FEED_ENTRIES: usize = 50;

/// Responses made for one generation of the spoke's blogs: (status 200) headers and body,
/// keyed by path (and, for the paginated API, its page).
#[derive(Default)]
struct ResponseCache {
    generation: u64,
    bytes: usize,
    entries: std::collections::HashMap<String, (axum::http::HeaderMap, axum::body::Bytes)>,
}


/// Set on a request that came for a blog's name (`Host: maria.spokes.example`): its pages link
/// to `/posts/…` on that name rather than to `/b/{blog}/posts/…`.
#[derive(Clone, Debug)]
pub struct Named {
    /// The blog.
    pub blog: BlogId,
    /// The `Host` it came for.
    pub host: String,
}

/// Before routing: a request over plain HTTP for a host this spoke's certificate covers is
/// sent to HTTPS (308, permanent; not `/health` and `/ready`, which health checks and
/// orchestrators ask over HTTP); a request for a blog's name is served as `/b/{blog}/…` (`/`, `/posts/SLUG`,
/// `/tags/TAG`, `/feed.atom`, `/feed.json`, `/images/NAME`, `/bundle.json`, `/sitemap.xml`),
/// marked [`Named`] (so is every other request for the name); a request for a named
/// blog's page or feed under `/b/{blog}/` by any other host is sent to the name (308,
/// permanent); a request under `/b/{blog}/` counts as a read of that blog
/// ([`SpokeView::count_read`]), or, for a blog not shown here, is sent to a member that holds
/// it ([`SpokeView::holder_of`]; 307, temporary: copies move).
async fn by_host(State(s): State<AppState>, mut req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned).or_else(|| req.uri().host().map(str::to_owned));
    let path = req.uri().path().to_owned();
    if req.extensions().get::<crate::tls::OverTls>().is_none()
        && path != "/health"
        && path != "/ready"
        && let Some(base) = host.as_deref().and_then(|h| s.spoke.https_base(h))
    {
        let q = req.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
        return Redirect::permanent(&format!("{base}{path}{q}")).into_response();
    }
    if let Some(blog) = host.as_deref().and_then(|h| s.spoke.blog_for_host(h)) {
        let blog_path = ["/", "/feed.atom", "/feed.json", "/bundle.json", "/sitemap.xml"].contains(&path.as_str()) || ["/posts/", "/images/", "/tags/"].iter().any(|p| path.starts_with(p));
        if blog_path {
            let q = req.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
            if let Ok(uri) = format!("/b/{blog}{path}{q}").parse() {
                *req.uri_mut() = uri;
            }
        }
        s.spoke.count_read(&blog);
        req.extensions_mut().insert(Named { blog, host: host.unwrap_or_default() });
        return next.run(req).await;
    }
    if let Some(rest) = path.strip_prefix("/b/")
        && let Some((id, tail)) = rest.split_once('/').or(Some((rest, "")))
        && (tail.is_empty() || tail.starts_with("posts/") || tail.starts_with("tags/") || tail == "feed.atom" || tail == "feed.json")
        && let Ok(blog) = id.parse::<BlogId>()
        && let Some(base) = s.spoke.named_url(&blog)
    {
        return Redirect::permanent(&format!("{base}/{tail}")).into_response();
    }
    // A read of a blog shown here is counted (before any cached answer); a blog this spoke
    // does not hold (with partial council copies) is sent to a member that does.
    if let Some(rest) = path.strip_prefix("/b/")
        && let Ok(blog) = rest.split('/').next().unwrap_or_default().parse::<BlogId>()
    {
        if s.spoke.blog(&blog).is_some() {
            s.spoke.count_read(&blog);
        } else if let Some(web) = s.spoke.holder_of(&blog) {
            let q = req.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
            return Redirect::temporary(&format!("{web}{path}{q}")).into_response();
        }
    }
    next.run(req).await
}

/// Where `blog`'s pages are, as links on a page: `""` on its name, else `/b/{blog}`.
fn base(named: &Option<axum::Extension<Named>>, blog: &BlogId) -> String {
    match named {
        Some(n) if &n.blog == blog => String::new(),
        _ => format!("/b/{blog}"),
    }
}

/// The site's routes, behind [`by_host`].
pub fn router(state: AppState) -> Router {
    Router::new().fallback_service(tower::Layer::layer(&axum::middleware::from_fn_with_state(state.clone(), by_host), routes(state)))
}

fn routes(state: AppState) -> Router {
    Router::new()
        .route("/", get(front))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/feed.atom", get(front_feed))
        .route("/assets/reader.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], CSS) }))
        .route("/b/{blog}", get(|Path(b): Path<String>| async move { Redirect::permanent(&format!("/b/{b}/")) }))
        .route("/b/{blog}/", get(blog_home))
        .route("/b/{blog}/posts/{slug}", get(post_page))
        .route("/b/{blog}/feed.atom", get(|s, n, p| blog_feed(s, n, p, false)))
        .route("/b/{blog}/feed.json", get(|s, n, p| blog_feed(s, n, p, true)))
        .route("/b/{blog}/tags/{tag}", get(tag_page))
        .route("/b/{blog}/tags/{tag}/feed.atom", get(|s, n, p| tag_feed(s, n, p, false)))
        .route("/b/{blog}/tags/{tag}/feed.json", get(|s, n, p| tag_feed(s, n, p, true)))
        .route("/b/{blog}/sitemap.xml", get(blog_sitemap))
        .route("/sitemap.xml", get(front_sitemap))
        .route("/robots.txt", get(robots))
        .route("/favicon.svg", get(|| async { ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], FAVICON) }))
        .route("/favicon.ico", get(|| async { Redirect::permanent("/favicon.svg") }))
        .route("/b/{blog}/images/{name}", get(image))
        .route("/b/{blog}/bundle.json", get(bundle))
        .route("/api/v1/blogs", get(api_blogs))
        .route("/api/v1/blogs/{blog}", get(api_blog))
        .route("/api/v1/blogs/{blog}/posts/{slug}", get(api_post))
        .route("/api/v1/newest", get(api_newest))
        .route("/api/v1/search", get(api_search))
        .route("/api/v1/council", get(api_council))
        .route("/council", get(council_log))
        .route("/search", get(search_page))
        .route("/join", get(join_page))
        .fallback(|| async { not_found("This page does not exist.") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), cached))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(MAX_CONCURRENT_REQUESTS))
        .layer(axum::middleware::from_fn_with_state(state.clone(), count_responses))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .with_state(state)
}

/// The operator's listener: `/metrics` (OpenMetrics text), `/health` and `/ready`; nothing else.
pub fn admin_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(|State(s): State<AppState>| async move { ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], s.spoke.metrics()) }))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .fallback(|| async { (StatusCode::NOT_FOUND, "The operator's listener serves /metrics, /health and /ready.") })
        .with_state(state)
}

/// The Content-Security-Policy of every response (W3C CSP Level 3): no scripts, styles and
/// pictures from this spoke only (a post's remote picture would let a third party see who
/// reads it), forms only to this spoke, and no framing by other sites (`frame-ancestors`).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The key a GET of `uri` is cached under, if its response may be reused: pages, feeds,
/// bundles and the blog API (by page); not search, health, metrics or invite pages. Query strings other
/// than the API's `offset` and `limit` do not change a response, so they do not make keys.
fn cache_key(uri: &axum::http::Uri) -> Option<String> {
    let path = uri.path();
    // Pictures are named by their hash and sent with their own caching headers; bundles are
    // kept by the spoke while their blog stays the same (`bundle`).
    // An invite page holds its query's ticket: kept, it would hand the invite to the next
    // visitor of `/join`.
    if path.starts_with("/search") || path.starts_with("/api/v1/search") || path == "/health" || path == "/ready" || path == "/join" || path.contains("/images/") || path.ends_with("/bundle.json") {
        return None;
    }
    if path.starts_with("/api/v1/blogs") {
        let q: Page = Query::<Page>::try_from_uri(uri).map(|q| q.0).unwrap_or_default();
        return Some(format!("{path}?offset={}&limit={}", q.offset.unwrap_or(0), q.limit.map_or(-1, |l| l as i64)));
    }
    Some(path.to_owned())
}

/// The strong entity tag of a body (RFC 9110 §8.8.3): its BLAKE3 hash, first 128 bits.
fn entity_tag(body: &[u8]) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{}\"", &blake3::hash(body).to_hex()[..32])).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// Whether the request's `If-None-Match` (RFC 9110 §13.1.2) names `tag`.
fn not_modified(req_tags: Option<&HeaderValue>, tag: &HeaderValue) -> bool {
    let (Some(have), Ok(tag)) = (req_tags.and_then(|v| v.to_str().ok()), tag.to_str()) else { return false };
    have.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == tag)
}

/// Whether a response last modified at `last_modified` is not newer than `since` (both HTTP
/// dates, RFC 9110 §13.1.3); false when either is missing or unreadable.
fn unmodified_since(since: Option<&HeaderValue>, last_modified: Option<&HeaderValue>) -> bool {
    let read = |v: Option<&HeaderValue>| v.and_then(|v| v.to_str().ok()).and_then(|t| chrono::DateTime::parse_from_rfc2822(t).ok());
    matches!((read(since), read(last_modified)), (Some(s), Some(m)) if m <= s)
}

/// Reuses responses while the spoke's blogs stay the same, and answers conditional GETs:
/// every 200 response to a GET of a page, feed, bundle or the blog API (up to
/// [`MAX_CACHED_BODY`]) carries an `ETag`, and a request whose `If-None-Match` names it is
/// answered `304 Not Modified` with no body; so is one with no `If-None-Match` whose
/// `If-Modified-Since` is not older than the response's `Last-Modified` (blog pages and feeds).
async fn cached(State(s): State<AppState>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if req.method() != axum::http::Method::GET {
        return next.run(req).await;
    }
    let key = cache_key(req.uri()).map(|k| match req.extensions().get::<Named>() {
        Some(n) => format!("{}{k}", n.host),
        None => k,
    });
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let if_modified_since = req.headers().get(header::IF_MODIFIED_SINCE).cloned();
    let generation = s.spoke.generation();
    let hit = key.as_ref().and_then(|k| {
        let c = s.cache.lock().unwrap_or_else(|p| p.into_inner());
        (c.generation == generation).then(|| c.entries.get(k).cloned()).flatten()
    });
    let (headers, body) = match hit {
        Some(h) => h,
        None => {
            let r = next.run(req).await;
            if r.status() != StatusCode::OK || key.is_none() {
                return r;
            }
            let (mut parts, body) = r.into_parts();
            if axum::body::HttpBody::size_hint(&body).upper().is_none_or(|n| n > MAX_CACHED_BODY) {
                return Response::from_parts(parts, body);
            }
            let Ok(body) = axum::body::to_bytes(body, MAX_CACHED_BODY as usize).await else {
                return (StatusCode::INTERNAL_SERVER_ERROR, "response too large").into_response();
            };
            parts.headers.insert(header::ETAG, entity_tag(&body));
            parts.headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-cache"));
            if let Some(k) = key {
                let mut c = s.cache.lock().unwrap_or_else(|p| p.into_inner());
                if c.generation != generation || c.bytes + body.len() > CACHE_BYTES || c.entries.len() >= CACHE_ENTRIES {
                    *c = ResponseCache { generation, ..Default::default() };
                }
                c.bytes += body.len();
                c.entries.insert(k, (parts.headers.clone(), body.clone()));
            }
            (parts.headers, body)
        }
    };
    let tag = headers.get(header::ETAG).cloned().unwrap_or_else(|| entity_tag(&body));
    // If-Modified-Since counts only without If-None-Match (RFC 9110 §13.1.3).
    let unchanged = match &if_none_match {
        Some(_) => not_modified(if_none_match.as_ref(), &tag),
        None => unmodified_since(if_modified_since.as_ref(), headers.get(header::LAST_MODIFIED)),
    };
    if unchanged {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().insert(header::ETAG, tag);
        if let Some(lm) = headers.get(header::LAST_MODIFIED) {
            r.headers_mut().insert(header::LAST_MODIFIED, lm.clone());
        }
        if let Some(cc) = headers.get(header::CACHE_CONTROL) {
            r.headers_mut().insert(header::CACHE_CONTROL, cc.clone());
        }
        return r;
    }
    let mut r = Response::new(axum::body::Body::from(body));
    *r.headers_mut() = headers;
    r
}

async fn count_responses(State(s): State<AppState>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let start = std::time::Instant::now();
    let r = next.run(req).await;
    s.spoke.count_response(r.status().as_u16(), start.elapsed().as_secs_f64());
    r
}

/// Where readers find a post: here for a blog hosted here, else on the first of the blog's
/// spokes (as its author lists them) whose reader site is known; here when none is.
fn post_href(members: &[crate::council::MemberInfo], b: &BlogView, p: &PostView) -> String {
    let local = format!("/b/{}/posts/{}", b.blog_id, p.slug);
    if b.hosted {
        return local;
    }
    b.spokes
        .iter()
        .find_map(|r| r.web.as_deref().and_then(spokes_core::web::reader_url).or_else(|| members.iter().find(|m| m.endpoint == r.endpoint).and_then(|m| spokes_core::web::reader_url(&m.web))))
        .map(|w| format!("{}{local}", w.trim_end_matches('/')))
        .unwrap_or(local)
}

/// The blogs this spoke shows posts of on its front page and council feed: those it holds
/// and those shown from the council's digest.
fn shown(spoke: &dyn SpokeView) -> Vec<Arc<BlogView>> {
    let mut all = spoke.blogs();
    all.extend(spoke.council_newest());
    all
}

/// The `n` newest visible posts of every verified blog shown here.
fn newest(blogs: &[Arc<BlogView>], n: usize) -> Vec<(&Arc<BlogView>, &PostView)> {
    let mut all: Vec<(&Arc<BlogView>, &PostView)> = blogs.iter().filter(|b| b.verified()).flat_map(|b| b.visible().into_iter().map(move |p| (b, p))).collect();
    all.sort_by(|a, b| b.1.date.cmp(&a.1.date).then_with(|| a.1.id.cmp(&b.1.id)));
    all.truncate(n);
    all
}

/// The spokes the author lists for this blog (signed in the blog document), with their
/// reader sites: as the author gave them, else as the council lists them. Only `http(s)`
/// addresses become links.
/// The other spokes a writer chose for `b` (post `p`'s page on them, or the blog's), with
/// names, for "also served by": those the council cut off left out, since they served
/// tampered data.
fn also_at(spoke: &dyn SpokeView, b: &BlogView, p: Option<&PostView>) -> Vec<(String, Option<String>)> {
    let (members, cut_off) = (spoke.members(), spoke.cut_off());
    let path = match p {
        Some(p) => format!("/b/{}/posts/{}", b.blog_id, p.slug),
        None => format!("/b/{}/", b.blog_id),
    };
    b.spokes
        .iter()
        .filter(|r| !cut_off.contains(&r.endpoint))
        .map(|r| {
            let member = members.iter().find(|m| m.endpoint == r.endpoint);
            let web = r.web.as_deref().and_then(spokes_core::web::reader_url).or_else(|| member.and_then(|m| spokes_core::web::reader_url(&m.web)));
            let name = r.name.clone().or_else(|| member.map(|m| m.name.clone())).unwrap_or_else(|| format!("spoke {}…", r.endpoint.chars().take(10).collect::<String>()));
            (name, web.map(|w| format!("{}{path}", w.trim_end_matches('/'))))
        })
        .collect()
}

fn also_at_note(list: &[(String, Option<String>)], w: &Words) -> Markup {
    html! {
        @if !list.is_empty() {
            p.also { (w.also_served)
                @for (i, (name, url)) in list.iter().enumerate() {
                    @if i > 0 { ", " }
                    @match url { Some(u) => { a href=(u) { (name) } }, None => { (name) } }
                }
                "."
            }
        }
    }
}

#[derive(Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<usize>,
}

fn search_form(q: &str, whole_council: bool) -> Markup {
    let placeholder = if whole_council { "Search every blog of the council" } else { "Search the blogs this spoke keeps and the council’s newest posts" };
    html! {
        form.search action="/search" method="get" role="search" {
            input type="search" name="q" value=(q) placeholder=(placeholder) aria-label="Search";
            " " button type="submit" { "Search" }
        }
    }
}

async fn search_page(State(s): State<AppState>, Query(p): Query<SearchParams>) -> Response {
    let members = s.spoke.members();
    let hits = s.spoke.search(&p.q, 20);
    let blogs: std::collections::HashMap<BlogId, Arc<BlogView>> = shown(s.spoke.as_ref()).into_iter().map(|b| (b.blog_id.clone(), b)).collect();
    page(&format!("Search · {}", s.spoke.name()), html! {
        nav { a href="/" { "← " (s.spoke.name()) } }
        h1 { "Search" }
        (search_form(&p.q, s.spoke.holds_every_blog()))
        @match &hits {
            Err(e) => { p { "Search is not available on this spoke right now." } (PreEscaped(format!("<!-- {} -->", e.replace("--", "")))) }
            Ok(hits) if p.q.trim().is_empty() => { @if hits.is_empty() { p { "Type a word or two to search every post of the council." } } }
            Ok(hits) if hits.is_empty() => { p { "Nothing matches “" (p.q) "”." } }
            Ok(hits) => {
                ol.posts.results {
                    @for h in hits {
                        @let href = blogs.get(&h.blog_id).and_then(|b| b.visible().into_iter().find(|x| x.id == h.post_id).map(|x| post_href(&members, b, x))).unwrap_or_else(|| format!("/b/{}/posts/{}", h.blog_id, h.slug));
                        li {
                            a href=(href) { (h.title) }
                            " " span.meta { "in " (h.blog_title) }
                            p.excerpt { (PreEscaped(&h.snippet_html)) }
                        }
                    }
                }
                p.verified { "✓ Every result was checked against its author's signatures on this spoke." }
            }
        }
    })
    .into_response()
}

async fn api_search(State(s): State<AppState>, Query(p): Query<SearchParams>) -> Response {
    match s.spoke.search(&p.q, p.limit.unwrap_or(20)) {
        Ok(hits) => Json(serde_json::json!({"query": p.q, "results": hits})).into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"error": "search-unavailable"}))).into_response(),
    }
}

async fn api_newest(State(s): State<AppState>) -> Response {
    let blogs = shown(s.spoke.as_ref());
    let members = s.spoke.members();
    let list: Vec<serde_json::Value> = newest(&blogs, 20)
        .into_iter()
        .map(|(b, p)| serde_json::json!({"blog_id": b.blog_id, "blog_title": b.title(), "fingerprint": b.fingerprint, "post_id": p.id, "title": p.title, "slug": p.slug, "date": p.date.to_rfc3339(), "url": post_href(&members, b, p), "hosted_here": b.hosted, "verified": b.verified()}))
        .collect();
    Json(list).into_response()
}

async fn api_council(State(s): State<AppState>) -> Response {
    Json(serde_json::json!({"members": s.spoke.members()})).into_response()
}

/// `/council`: the council log, public, for anyone to check (format `spokes-council/2`, see
/// `spokes_sync::council::membership`): `{"format", "council", "heads", "members",
/// "pending_joins", "removed", "entries": [{"hash", "entry", "signature"}]}`, entries in the
/// order the log applies them (each after the entries its `prev` names). 404 outside a council.
async fn council_log(State(s): State<AppState>) -> Response {
    let Some(m) = s.spoke.council_log().filter(|m| m.id().is_some()) else {
        return (StatusCode::NOT_FOUND, Json(serde_json::json!({"error": "this spoke belongs to no council"}))).into_response();
    };
    let entries: Vec<serde_json::Value> = m.entries().into_iter().map(|e| serde_json::json!({"hash": e.hash(), "entry": e.entry, "signature": e.signature})).collect();
    let body = serde_json::json!({
        "format": "spokes-council/2",
        "council": m.id(),
        "heads": m.heads(),
        "members": m.members().into_values().collect::<Vec<_>>(),
        "pending_joins": m.pending_joins(),
        "removed": m.removed(),
        "accusations": m.accusations().into_iter().map(|a| serde_json::json!({"entry": a.entry, "by": a.by, "member": a.member, "reason": a.reason})).collect::<Vec<_>>(),
        "entries": entries,
    });
    ([(header::CACHE_CONTROL, "no-cache")], Json(body)).into_response()
}

/// The query of `/join`.
#[derive(Deserialize)]
struct JoinParams {
    t: Option<String>,
}

/// `/join?t=TICKET`: the page of an invite link (`spoke invite --link`), with a button that
/// opens the ticket in the writer's app (`spokes:TICKET`, the link the app registers) and the
/// ticket to copy. Only this spoke's own tickets are shown (no page for anyone else's words);
/// never cached, never indexed, no referrer sent on.
async fn join_page(State(s): State<AppState>, Query(q): Query<JoinParams>) -> Response {
    let ticket = q.t.as_deref().and_then(|t| spokes_sync::Ticket::decode(t).ok());
    let Some(ticket) = ticket.filter(|t| s.spoke.endpoint().is_some_and(|e| e == t.endpoint)) else {
        return (StatusCode::NOT_FOUND, page("Not an invite", html! { h1 { "Not an invite" } p { "This link holds no invite from this spoke. Ask for a new one." } })).into_response();
    };
    let name = s.spoke.name().to_owned();
    let text = ticket.encode();
    let body = html! {
        h1 { "An invitation to publish on " (name) }
        p { (name) " offers to host your blog. Open the invitation in the Spokes app on your computer:" }
        p { a.button href=(format!("spokes:{text}")) { "Open in Spokes" } }
        p { "If the button does nothing, copy the invitation below and paste it where the app asks for one." }
        textarea readonly rows="4" cols="60" aria-label="The invitation" { (text) }
    };
    let headers = [(header::CACHE_CONTROL, "no-store"), (header::REFERRER_POLICY, "no-referrer"), (header::HeaderName::from_static("x-robots-tag"), "noindex")];
    (headers, page("An invitation to publish", body)).into_response()
}

fn page(title: &str, body: Markup) -> Markup {
    page_with(title, "/assets/reader.css", body)
}

/// The page of a post whose body changed between finding it and reading it (a session
/// stored a newer version a moment ago): try again.
fn changing() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "1")], page("One moment", html! { h1 { "One moment" } p { "This post was updated just now. Reload the page to read the new version." } })).into_response()
}

fn not_found(msg: &str) -> Response {
    (StatusCode::NOT_FOUND, page("Not found", html! { h1 { "Not found" } p { (msg) } p { a href="/" { "Home" } } })).into_response()
}

// The error is the reader's "Not found" page, returned by the handlers as it is (axum's
// `Response` is large, and built only on this cold path).
#[allow(clippy::result_large_err)]
fn find_blog(s: &AppState, id: &str) -> Result<Arc<BlogView>, Response> {
    let id: BlogId = id.parse().map_err(|_| not_found("There is no blog at this address."))?;
    s.spoke.blog(&id).ok_or_else(|| not_found("This spoke does not host that blog."))
}

fn verification_note_at(blog: &BlogView, base: &str) -> Markup {
    verification_note_with(blog, &format!("{base}/bundle.json"))
}

async fn front(State(s): State<AppState>) -> Markup {
    let every = shown(s.spoke.as_ref());
    let members = s.spoke.members();
    let newest = newest(&every, 20);
    // Shown from the digest means not held here: never hosted.
    let hosted: Vec<&Arc<BlogView>> = every.iter().filter(|b| b.hosted).collect();
    let site = s.spoke.site_url();
    let whole = s.spoke.holds_every_blog();
    let meta = Meta {
        description: "The newest posts of the blogs this spoke and its council hold, each checked against its author's signatures.".into(),
        canonical: (!site.is_empty()).then(|| format!("{}/", site.trim_end_matches('/'))),
        og_type: "website",
        site_name: s.spoke.name().to_owned(),
        feeds: vec![(s.spoke.name().to_owned(), "application/atom+xml", "/feed.atom".into())],
        icon: Some("/favicon.svg".into()),
        ..Default::default()
    };
    page_meta(s.spoke.name(), "/assets/reader.css", &meta, html! {
        header {
            h1 { (s.spoke.name()) }
            @if members.len() > 1 && whole { p { "One of " (members.len()) " spokes of a council: the newest posts of all of them, each checked against its author's signatures." } }
            @else if members.len() > 1 { p { "One of " (members.len()) " spokes of a council: the newest posts of all of them, passed on from spoke to spoke, each checked against its author's signatures." } }
            @else { p { "Blogs hosted here, signed by their authors." } }
        }
        (search_form("", whole))
        h2 { "Newest posts" }
        @if newest.is_empty() { p { "Nothing has been published here yet." } }
        ol.posts {
            @for (b, p) in &newest {
                li {
                    a href=(post_href(&members, b, p)) { (p.title) }
                    " " span.meta { "in " (b.title()) " · " (date(&p.date)) }
                }
            }
        }
        h2 { "Blogs hosted here" }
        @if hosted.is_empty() { p { "None yet." } }
        ul { @for b in &hosted { li { a href=(s.spoke.named_url(&b.blog_id).map(|u| format!("{u}/")).unwrap_or_else(|| format!("/b/{}/", b.blog_id))) { (b.title()) } " " span.meta { (b.visible().len()) " posts" } } } }
        footer { a href="/feed.atom" { "Atom feed" } }
    })
}

/// Where one blog's pages are for this request: `rel`, the prefix of its links on the page
/// (`""` on its name, else `/b/{blog}`), and `abs`, its canonical address, absolute with no
/// final slash (its name when it has one here, else this spoke's `/b/{blog}`).
struct Place {
    rel: String,
    abs: String,
}

fn place(s: &AppState, named: &Option<axum::Extension<Named>>, blog: &BlogView) -> Place {
    let abs = s.spoke.named_url(&blog.blog_id).unwrap_or_else(|| format!("{}/b/{}", s.spoke.site_url().trim_end_matches('/'), blog.blog_id));
    Place { rel: base(named, &blog.blog_id), abs }
}

/// The `<head>` of a page of `blog` at `path` (under the blog), with the feeds at `feeds`.
fn blog_meta(blog: &BlogView, at: &Place, path: &str, description: &str, og_type: &'static str, feeds: (&str, &str)) -> Meta {
    Meta {
        lang: blog.settings.language.clone(),
        description: description.chars().take(300).collect(),
        canonical: Some(format!("{}{path}", at.abs)),
        og_type,
        site_name: blog.title().to_owned(),
        feeds: feeds_at(feeds.0, feeds.1),
        icon: Some("/favicon.svg".into()),
    }
}

/// A tag's address under `rel` (`{rel}/tags/{tag}`, the tag percent-encoded, RFC 3986 §2.1).
fn tag_path(rel: &str, tag: &str) -> String {
    format!("{rel}/tags/{}", percent_encoding::utf8_percent_encode(tag, percent_encoding::NON_ALPHANUMERIC))
}

/// The newest change of `posts`: their `Last-Modified` (RFC 9110 §8.8.2).
fn last_change<'a>(posts: impl IntoIterator<Item = &'a PostView>) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    posts.into_iter().map(|p| p.updated.max(p.date)).max()
}

/// An HTTP date (RFC 9110 §5.6.7, IMF-fixdate).
fn http_date(at: chrono::DateTime<chrono::FixedOffset>) -> String {
    at.with_timezone(&chrono::Utc).format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn with_last_modified(mut r: Response, at: Option<chrono::DateTime<chrono::FixedOffset>>) -> Response {
    if let Some(v) = at.and_then(|a| HeaderValue::from_str(&http_date(a)).ok()) {
        r.headers_mut().insert(header::LAST_MODIFIED, v);
    }
    r
}

fn tag_links(rel: &str, tags: &[String]) -> Markup {
    html! { @for t in tags { " " a.tag href=(tag_path(rel, t)) { (t) } } }
}

async fn blog_home(State(s): State<AppState>, named: Option<axum::Extension<Named>>, Path(id): Path<String>) -> Response {
    let blog = match find_blog(&s, &id) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let at = place(&s, &named, &blog);
    let base = at.rel.clone();
    let visible = blog.visible();
    let mut tags: Vec<&String> = visible.iter().flat_map(|p| p.tags.iter()).collect();
    tags.sort();
    tags.dedup();
    let meta = blog_meta(&blog, &at, "/", &blog.settings.description, "website", (blog.title(), &base));
    let w = Words::for_language(&blog.settings.language);
    let page = page_meta(blog.title(), "/assets/reader.css", &meta, html! {
        header {
            h1 { (blog.title()) }
            @if !blog.settings.description.is_empty() { p { (blog.settings.description) } }
        }
        (verification_note_at(&blog, &base))
        @if visible.is_empty() { p { (w.no_posts) } }
        (post_list(&|p| format!("{base}/posts/{}", p.slug), &visible, w))
        @if !tags.is_empty() { p.meta { (w.topics) @for t in &tags { " " a.tag href=(tag_path(&base, t)) { (t) } } } }
        (also_at_note(&also_at(s.spoke.as_ref(), &blog, None), w))
        footer { a href=(format!("{base}/feed.atom")) { (w.atom_feed) } " · " a href=(format!("{base}/feed.json")) { (w.json_feed) } @if named.is_none() { " · " a href="/" { (s.spoke.name()) } } }
    });
    with_last_modified(page.into_response(), last_change(visible))
}

async fn post_page(State(s): State<AppState>, named: Option<axum::Extension<Named>>, Path((id, slug)): Path<(String, String)>) -> Response {
    let blog = match find_blog(&s, &id) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(p) = blog.post(&slug) else { return not_found("There is no post at this address.") };
    let Some(body) = s.spoke.body(&blog, p) else { return changing() };
    let at = place(&s, &named, &blog);
    let base = at.rel.clone();
    let meta = blog_meta(&blog, &at, &format!("/posts/{}", p.slug), &p.excerpt, "article", (blog.title(), &base));
    let w = Words::for_language(&blog.settings.language);
    let page = page_meta(&format!("{} · {}", p.title, blog.title()), "/assets/reader.css", &meta, html! {
        nav { a href=(format!("{base}/")) { "← " (blog.title()) } }
        article {
            h1 { (p.title) }
            p.meta { (date_in(&p.date, w)) (tag_links(&base, &p.tags)) }
            div.body { (PreEscaped(&body.html)) }
        }
        (verification_note_at(&blog, &base))
        (also_at_note(&also_at(s.spoke.as_ref(), &blog, Some(p)), w))
    });
    with_last_modified(page.into_response(), last_change([p]))
}

/// The visible posts of `blog` with `tag`, newest first; the reader's "Not found" page when none.
#[allow(clippy::result_large_err)]
fn tagged<'a>(blog: &'a BlogView, tag: &str) -> Result<Vec<&'a PostView>, Response> {
    let posts: Vec<&PostView> = blog.visible().into_iter().filter(|p| p.tags.iter().any(|t| t == tag)).collect();
    if posts.is_empty() {
        return Err(not_found("No post of this blog has that tag."));
    }
    Ok(posts)
}

/// `/b/{blog}/tags/{tag}`: the blog's posts with that tag, newest first.
async fn tag_page(State(s): State<AppState>, named: Option<axum::Extension<Named>>, Path((id, tag)): Path<(String, String)>) -> Response {
    let blog = match find_blog(&s, &id) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let posts = match tagged(&blog, &tag) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let at = place(&s, &named, &blog);
    let base = at.rel.clone();
    let here = tag_path(&base, &tag);
    let title = format!("“{tag}” · {}", blog.title());
    let w = Words::for_language(&blog.settings.language);
    let meta = blog_meta(&blog, &at, &tag_path("", &tag), &w.posts_of_about(blog.title(), &tag), "website", (&title, &here));
    let page = page_meta(&title, "/assets/reader.css", &meta, html! {
        nav { a href=(format!("{base}/")) { "← " (blog.title()) } }
        h1 { (w.posts_about.0) (tag) (w.posts_about.1) }
        (post_list(&|p| format!("{base}/posts/{}", p.slug), &posts, w))
        footer { a href=(format!("{here}/feed.atom")) { (w.atom_feed) } " · " a href=(format!("{here}/feed.json")) { (w.json_feed) } }
    });
    with_last_modified(page.into_response(), last_change(posts))
}

/// A feed (Atom, or JSON Feed 1.1 when `json`) of `posts` of `blog`, at `path` under the blog,
/// with absolute links.
fn blog_feed_of(s: &AppState, blog: &BlogView, at: &Place, posts: Vec<&PostView>, title: &str, path: &str, json: bool) -> Response {
    let posts: Vec<&PostView> = posts.into_iter().take(FEED_ENTRIES).collect();
    let href = |p: &PostView| format!("{}/posts/{}", at.abs, p.slug);
    let home = format!("{}{}/", at.abs, path);
    let changed = last_change(posts.iter().copied());
    let r = if json {
        let feed = json_feed(blog, title, &home, &format!("{}{path}/feed.json", at.abs), &posts, &href, &|p| s.spoke.body(blog, p));
        ([(header::CONTENT_TYPE, "application/feed+json")], Json(feed)).into_response()
    } else {
        let entries = posts.iter().map(|p| entry_with(blog, p, s.spoke.body(blog, p).as_deref(), &href(p))).collect();
        let related: Vec<String> = if path.is_empty() { also_at(s.spoke.as_ref(), blog, None).into_iter().filter_map(|(_, u)| u.map(|u| format!("{u}feed.atom"))).collect() } else { vec![] };
        let xml = feed_xml_with(title, &format!("urn:spokes:{}{path}", blog.blog_id), &format!("{}{path}/feed.atom", at.abs), Some(&blog.settings.language), Some(&home), entries, &related);
        ([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response()
    };
    with_last_modified(r, changed)
}

async fn blog_feed(State(s): State<AppState>, named: Option<axum::Extension<Named>>, Path(id): Path<String>, json: bool) -> Response {
    let blog = match find_blog(&s, &id) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let at = place(&s, &named, &blog);
    blog_feed_of(&s, &blog, &at, blog.visible(), blog.title(), "", json)
}

async fn tag_feed(State(s): State<AppState>, named: Option<axum::Extension<Named>>, Path((id, tag)): Path<(String, String)>, json: bool) -> Response {
    let blog = match find_blog(&s, &id) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let posts = match tagged(&blog, &tag) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let at = place(&s, &named, &blog);
    blog_feed_of(&s, &blog, &at, posts, &format!("“{tag}” · {}", blog.title()), &tag_path("", &tag), json)
}

/// `/b/{blog}/sitemap.xml` (and `/sitemap.xml` on the blog's name): its home, posts and tag
/// pages at their canonical addresses.
async fn blog_sitemap(State(s): State<AppState>, named: Option<axum::Extension<Named>>, Path(id): Path<String>) -> Response {
    let blog = match find_blog(&s, &id) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let at = place(&s, &named, &blog);
    let visible = blog.visible();
    let mut urls = Vec::with_capacity(visible.len() + 1);
    urls.extend(last_change(visible.iter().copied()).map(|t| (format!("{}/", at.abs), t)));
    let mut tags: std::collections::BTreeMap<&str, chrono::DateTime<chrono::FixedOffset>> = std::collections::BTreeMap::new();
    for p in &visible {
        let t = p.updated.max(p.date);
        urls.push((format!("{}/posts/{}", at.abs, p.slug), t));
        for tag in &p.tags {
            let e = tags.entry(tag).or_insert(t);
            *e = (*e).max(t);
        }
    }
    urls.extend(tags.into_iter().map(|(tag, t)| (tag_path(&at.abs, tag), t)));
    ([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], sitemap_xml(&urls)).into_response()
}

/// `/sitemap.xml` of the spoke: an index of the sitemaps of the blogs hosted here that have
/// no name (a named blog's sitemap is on its name).
async fn front_sitemap(State(s): State<AppState>) -> Response {
    let site = s.spoke.site_url();
    let maps: Vec<String> = s.spoke.blogs().iter().filter(|b| b.hosted && s.spoke.named_url(&b.blog_id).is_none()).map(|b| format!("{}/b/{}/sitemap.xml", site.trim_end_matches('/'), b.blog_id)).collect();
    ([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], sitemap_index_xml(&maps)).into_response()
}

/// `/robots.txt` (RFC 9309): everything may be crawled but search results and the API, and
/// where the sitemap is.
async fn robots(State(s): State<AppState>, named: Option<axum::Extension<Named>>) -> Response {
    let origin = named.as_ref().and_then(|n| s.spoke.named_url(&n.blog)).unwrap_or_else(|| s.spoke.site_url());
    let text = format!("User-agent: *\nDisallow: /search\nDisallow: /api/\nAllow: /\n\nSitemap: {}/sitemap.xml\n", origin.trim_end_matches('/'));
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}


/// An image a published post links to, named by its hash: immutable, so cached for a year.
async fn image(State(s): State<AppState>, Path((id, name)): Path<(String, String)>) -> Response {
    let blog = match find_blog(&s, &id) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Ok(name) = name.parse::<ImageName>() else { return not_found("There is no picture at this address.") };
    if !blog.images.contains(&name) {
        return not_found("No published post shows this picture.");
    }
    match s.spoke.image(&blog.blog_id, &name) {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, name.mime_type()),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        None => not_found("This spoke has not received this picture yet."),
    }
}

fn feed(title: &str, id: &str, self_url: &str, entries: Vec<Entry>, related: &[String]) -> Response {
    ([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], feed_xml(title, id, self_url, entries, related)).into_response()
}

async fn front_feed(State(s): State<AppState>) -> Response {
    let blogs = shown(s.spoke.as_ref());
    let members = s.spoke.members();
    let site = s.spoke.site_url();
    let site = site.trim_end_matches('/');
    let absolute = |h: String| if h.starts_with('/') { format!("{site}{h}") } else { h };
    let entries: Vec<Entry> = newest(&blogs, 50).into_iter().map(|(b, p)| entry_with(b, p, s.spoke.body(b, p).as_deref(), &absolute(post_href(&members, b, p)))).collect();
    feed(s.spoke.name(), "urn:spokes:front", &format!("{site}/feed.atom"), entries, &[])
}

/// `/b/{blog}/bundle.json`: the blog's verification bundle, with its `ETag` (a request whose
/// `If-None-Match` names it is answered `304 Not Modified`). Made at most once per state of
/// the blog and one at a time, on a blocking thread: a crowd asking for a large blog's bundle
/// waits for the one being made instead of making one each, and readers who hang up do not
/// let builds run side by side.
async fn bundle(State(s): State<AppState>, Path(id): Path<String>, headers: axum::http::HeaderMap) -> Response {
    let Ok(id) = id.parse::<BlogId>() else { return not_found("There is no blog at this address.") };
    let made = match s.spoke.bundle_json(&id, false) {
        Some(b) => Some(b),
        None => {
            // The turn is held by the build itself, not by this request: a reader who hangs
            // up while it runs drops the request, and the next would otherwise start a second
            // build beside the first.
            let turn = s.bundle_turn.clone().lock_owned().await;
            let spoke = s.spoke.clone();
            tokio::task::spawn_blocking(move || {
                let _turn = turn;
                spoke.bundle_json(&id, true)
            })
            .await
            .ok()
            .flatten()
        }
    };
    let Some(made) = made else { return not_found("This spoke does not host that blog.") };
    let cache_control = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if not_modified(headers.get(header::IF_NONE_MATCH), &made.etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, made.etag.clone()), cache_control]).into_response();
    }
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json")), (header::ETAG, made.etag.clone()), cache_control], made.body.clone()).into_response()
}

async fn health(State(s): State<AppState>) -> Response {
    Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION"), "protocol": "spokes/sync/1", "blogs": s.spoke.blogs().len()})).into_response()
}

async fn ready(State(s): State<AppState>) -> Response {
    let r = s.spoke.readiness();
    let code = if r["ready"] == true { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, [(header::CACHE_CONTROL, "no-store")], Json(r)).into_response()
}

/// `?offset=&limit=` of the paginated API.
#[derive(Debug, Default, Deserialize)]
struct Page {
    offset: Option<usize>,
    limit: Option<usize>,
}

/// A blog as the API lists it, with `posts` newest first from `offset`, at most `limit`, and
/// `post_count` (all its visible posts).
fn blog_json(b: &BlogView, offset: usize, limit: usize) -> serde_json::Value {
    let visible = b.visible();
    serde_json::json!({
        "blog_id": b.blog_id, "settings": b.settings, "fingerprint": b.fingerprint,
        "verification": b.verification,
        "post_count": visible.len(),
        "posts": visible.into_iter().skip(offset).take(limit).map(|p| serde_json::json!({"id": p.id, "title": p.title, "slug": p.slug, "date": p.date.to_rfc3339(), "updated": p.updated.to_rfc3339(), "tags": p.tags, "url": format!("/b/{}/posts/{}", b.blog_id, p.slug)})).collect::<Vec<_>>(),
    })
}

/// The blogs shown here, by title, `?offset=` and `?limit=` (default and at most
/// [`MAX_API_BLOGS`]), each with its newest [`API_BLOG_LIST_POSTS`] posts.
async fn api_blogs(State(s): State<AppState>, Query(page): Query<Page>) -> Response {
    let limit = page.limit.unwrap_or(MAX_API_BLOGS).min(MAX_API_BLOGS);
    Json(s.spoke.blogs().iter().skip(page.offset.unwrap_or(0)).take(limit).map(|b| blog_json(b, 0, API_BLOG_LIST_POSTS)).collect::<Vec<_>>()).into_response()
}

/// One blog with its posts, `?offset=` and `?limit=` (default and at most [`MAX_API_POSTS`]).
async fn api_blog(State(s): State<AppState>, Path(id): Path<String>, Query(page): Query<Page>) -> Response {
    match find_blog(&s, &id) {
        Ok(b) => Json(blog_json(&b, page.offset.unwrap_or(0), page.limit.unwrap_or(MAX_API_POSTS).min(MAX_API_POSTS))).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, Json(serde_json::json!({"error": "not-found"}))).into_response(),
    }
}

async fn api_post(State(s): State<AppState>, Path((id, slug)): Path<(String, String)>) -> Response {
    let Ok(b) = find_blog(&s, &id) else { return (StatusCode::NOT_FOUND, Json(serde_json::json!({"error": "not-found"}))).into_response() };
    match b.post(&slug) {
        Some(p) => {
            let Some(body) = s.spoke.body(&b, p) else { return (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "1")], Json(serde_json::json!({"error": "changing"}))).into_response() };
            let mut post = serde_json::json!(p);
            post["html"] = body.html.clone().into();
            Json(serde_json::json!({"blog_id": b.blog_id, "fingerprint": b.fingerprint, "verification": b.verification, "post": post})).into_response()
        }
        None => (StatusCode::NOT_FOUND, Json(serde_json::json!({"error": "not-found"}))).into_response(),
    }
}
