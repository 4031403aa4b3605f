//! The reader site: server-rendered HTML that works without JavaScript, Atom feeds, a JSON
//! API, verification bundles and a health endpoint.
//!
//! | path | what |
//! |---|---|
//! | `/` | the 20 newest posts of the whole council (hosted here or council copies), and the blogs hosted here |
//! | `/search?q=` | full-text search over every post of the council |
//! | `/b/{blog}/` | a blog's home page |
//! | `/b/{blog}/posts/{slug}` | a post (permalink) |
//! | `/b/{blog}/feed.atom` | a blog's Atom feed (RFC 4287) |
//! | `/b/{blog}/bundle.json` | verification bundle |
//! | `/feed.atom` | the 50 newest posts of the whole council |
//! | `/api/v1/blogs` , `/api/v1/blogs/{blog}`, `/api/v1/blogs/{blog}/posts/{slug}` | JSON |
//! | `/api/v1/newest` | the 20 newest posts of the council, JSON |
//! | `/api/v1/search?q=&limit=` | search results with snippets, JSON |
//! | `/api/v1/council` | the council's members, JSON |
//! | `/health` | `{"status":"ok",...}` |
//! | `/metrics` | Prometheus metrics ([`crate::metrics`]) |
//!
//! Every post shown comes from a blog view whose signatures verified; council copies link to
//! a spoke that hosts the blog when the council knows one.

use spokes_site::pages::{CSS, date, entry_with, feed_xml, page_with, post_list, verification_note_with};
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
    /// The Prometheus exposition.
    fn metrics(&self) -> String {
        String::new()
    }
    /// Counts a response.
    fn count_response(&self, _status: u16) {}
    /// The blog whose name is `host` (a request's `Host` header), when it has one here.
    fn blog_for_host(&self, _host: &str) -> Option<BlogId> {
        None
    }
    /// The address readers should use for `blog` when it has a name here: scheme, name and
    /// port, no final slash (`http://maria.spokes.example`).
    fn named_url(&self, _blog: &BlogId) -> Option<String> {
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

/// Before routing: a request for a blog's name is served as `/b/{blog}/…` (`/`, `/posts/SLUG`,
/// `/feed.atom`, `/images/NAME`, `/bundle.json`), marked [`Named`]; a request for a named
/// blog's page or feed under `/b/{blog}/` by any other host is sent to the name (308,
/// permanent).
async fn by_host(State(s): State<AppState>, mut req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned).or_else(|| req.uri().host().map(str::to_owned));
    let path = req.uri().path().to_owned();
    if let Some(blog) = host.as_deref().and_then(|h| s.spoke.blog_for_host(h)) {
        let inner = if path == "/" || path.starts_with("/posts/") || path == "/feed.atom" || path.starts_with("/images/") || path == "/bundle.json" { Some(format!("/b/{blog}{path}")) } else { None };
        if let Some(p) = inner {
            let q = req.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
            if let Ok(uri) = format!("{p}{q}").parse() {
                *req.uri_mut() = uri;
                req.extensions_mut().insert(Named { blog, host: host.unwrap_or_default() });
            }
        }
        return next.run(req).await;
    }
    if let Some(rest) = path.strip_prefix("/b/")
        && let Some((id, tail)) = rest.split_once('/').or(Some((rest, "")))
        && (tail.is_empty() || tail.starts_with("posts/") || tail == "feed.atom")
        && let Ok(blog) = id.parse::<BlogId>()
        && let Some(base) = s.spoke.named_url(&blog)
    {
        return Redirect::permanent(&format!("{base}/{tail}")).into_response();
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
        .route("/feed.atom", get(front_feed))
        .route("/assets/reader.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], CSS) }))
        .route("/b/{blog}", get(|Path(b): Path<String>| async move { Redirect::permanent(&format!("/b/{b}/")) }))
        .route("/b/{blog}/", get(blog_home))
        .route("/b/{blog}/posts/{slug}", get(post_page))
        .route("/b/{blog}/feed.atom", get(blog_feed))
        .route("/b/{blog}/images/{name}", get(image))
        .route("/b/{blog}/bundle.json", get(bundle))
        .route("/api/v1/blogs", get(api_blogs))
        .route("/api/v1/blogs/{blog}", get(api_blog))
        .route("/api/v1/blogs/{blog}/posts/{slug}", get(api_post))
        .route("/api/v1/newest", get(api_newest))
        .route("/api/v1/search", get(api_search))
        .route("/api/v1/council", get(api_council))
        .route("/search", get(search_page))
        .route("/metrics", get(|State(s): State<AppState>| async move { ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], s.spoke.metrics()) }))
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

/// The Content-Security-Policy of every response (W3C CSP Level 3): no scripts, styles and
/// pictures from this spoke only (a post's remote picture would let a third party see who
/// reads it), forms only to this spoke, and no framing by other sites (`frame-ancestors`).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The key a GET of `uri` is cached under, if its response may be reused: pages, feeds,
/// bundles and the blog API (by page); not search, health or metrics. Query strings other
/// than the API's `offset` and `limit` do not change a response, so they do not make keys.
fn cache_key(uri: &axum::http::Uri) -> Option<String> {
    let path = uri.path();
    // Pictures are named by their hash and sent with their own caching headers; bundles are
    // kept by the spoke while their blog stays the same (`bundle`).
    if path.starts_with("/search") || path.starts_with("/api/v1/search") || path == "/health" || path == "/metrics" || path.contains("/images/") || path.ends_with("/bundle.json") {
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

/// Reuses responses while the spoke's blogs stay the same, and answers conditional GETs:
/// every 200 response to a GET of a page, feed, bundle or the blog API (up to
/// [`MAX_CACHED_BODY`]) carries an `ETag`, and a request whose `If-None-Match` names it is
/// answered `304 Not Modified` with no body.
async fn cached(State(s): State<AppState>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if req.method() != axum::http::Method::GET {
        return next.run(req).await;
    }
    let key = cache_key(req.uri()).map(|k| match req.extensions().get::<Named>() {
        Some(n) => format!("{}{k}", n.host),
        None => k,
    });
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
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
    if not_modified(if_none_match.as_ref(), &tag) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().insert(header::ETAG, tag);
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
    let r = next.run(req).await;
    s.spoke.count_response(r.status().as_u16());
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
fn also_at(members: &[crate::council::MemberInfo], b: &BlogView, p: Option<&PostView>) -> Vec<(String, Option<String>)> {
    let path = match p {
        Some(p) => format!("/b/{}/posts/{}", b.blog_id, p.slug),
        None => format!("/b/{}/", b.blog_id),
    };
    b.spokes
        .iter()
        .map(|r| {
            let member = members.iter().find(|m| m.endpoint == r.endpoint);
            let web = r.web.as_deref().and_then(spokes_core::web::reader_url).or_else(|| member.and_then(|m| spokes_core::web::reader_url(&m.web)));
            let name = r.name.clone().or_else(|| member.map(|m| m.name.clone())).unwrap_or_else(|| format!("spoke {}…", r.endpoint.chars().take(10).collect::<String>()));
            (name, web.map(|w| format!("{}{path}", w.trim_end_matches('/'))))
        })
        .collect()
}

fn also_at_note(list: &[(String, Option<String>)]) -> Markup {
    html! {
        @if !list.is_empty() {
            p.also { "This blog is also served by the spokes its author chose: "
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

fn search_form(q: &str) -> Markup {
    html! {
        form.search action="/search" method="get" role="search" {
            input type="search" name="q" value=(q) placeholder="Search every blog of the council" aria-label="Search";
            " " button type="submit" { "Search" }
        }
    }
}

async fn search_page(State(s): State<AppState>, Query(p): Query<SearchParams>) -> Response {
    let members = s.spoke.members();
    let hits = s.spoke.search(&p.q, 20);
    let blogs: std::collections::HashMap<BlogId, Arc<BlogView>> = s.spoke.blogs().into_iter().map(|b| (b.blog_id.clone(), b)).collect();
    page(&format!("Search · {}", s.spoke.name()), html! {
        nav { a href="/" { "← " (s.spoke.name()) } }
        h1 { "Search" }
        (search_form(&p.q))
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
    let blogs = s.spoke.blogs();
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
    let blogs = s.spoke.blogs();
    let members = s.spoke.members();
    let newest = newest(&blogs, 20);
    let hosted: Vec<&Arc<BlogView>> = blogs.iter().filter(|b| b.hosted).collect();
    page(s.spoke.name(), html! {
        header {
            h1 { (s.spoke.name()) }
            @if members.len() > 1 { p { "One of " (members.len()) " spokes of a council: the newest posts of all of them, each checked against its author's signatures." } }
            @else { p { "Blogs hosted here, signed by their authors." } }
        }
        (search_form(""))
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
        ul { @for b in &hosted { li { a href=(format!("/b/{}/", b.blog_id)) { (b.title()) } " " span.meta { (b.visible().len()) " posts" } } } }
        footer { a href="/feed.atom" { "Atom feed" } }
    })
}

async fn blog_home(State(s): State<AppState>, named: Option<axum::Extension<Named>>, Path(id): Path<String>) -> Response {
    let blog = match find_blog(&s, &id) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let base = base(&named, &blog.blog_id);
    page(blog.title(), html! {
        header {
            h1 { (blog.title()) }
            @if !blog.settings.description.is_empty() { p { (blog.settings.description) } }
            link rel="alternate" type="application/atom+xml" href=(format!("{base}/feed.atom"));
        }
        (verification_note_at(&blog, &base))
        @if blog.visible().is_empty() { p { "No posts yet." } }
        (post_list(&|p| format!("{base}/posts/{}", p.slug), &blog.visible()))
        (also_at_note(&also_at(&s.spoke.members(), &blog, None)))
        footer { a href=(format!("{base}/feed.atom")) { "Atom feed" } @if named.is_none() { " · " a href="/" { (s.spoke.name()) } } }
    })
    .into_response()
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

async fn post_page(State(s): State<AppState>, named: Option<axum::Extension<Named>>, Path((id, slug)): Path<(String, String)>) -> Response {
    let blog = match find_blog(&s, &id) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(p) = blog.post(&slug) else { return not_found("There is no post at this address.") };
    let Some(body) = s.spoke.body(&blog, p) else { return changing() };
    let base = base(&named, &blog.blog_id);
    page(&format!("{} · {}", p.title, blog.title()), html! {
        nav { a href=(format!("{base}/")) { "← " (blog.title()) } }
        article {
            h1 { (p.title) }
            p.meta { (date(&p.date)) @for t in &p.tags { " " span.tag { (t) } } }
            div.body { (PreEscaped(&body.html)) }
        }
        (verification_note_at(&blog, &base))
        (also_at_note(&also_at(&s.spoke.members(), &blog, Some(p))))
    })
    .into_response()
}

fn feed(title: &str, id: &str, self_url: &str, entries: Vec<Entry>, related: &[String]) -> Response {
    ([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], feed_xml(title, id, self_url, entries, related)).into_response()
}

async fn blog_feed(State(s): State<AppState>, named: Option<axum::Extension<Named>>, Path(id): Path<String>) -> Response {
    let blog = match find_blog(&s, &id) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let base = base(&named, &blog.blog_id);
    let entries = blog.visible().into_iter().take(FEED_ENTRIES).map(|p| entry_with(&blog, p, s.spoke.body(&blog, p).as_deref(), &format!("{base}/posts/{}", p.slug))).collect();
    let related: Vec<String> = also_at(&s.spoke.members(), &blog, None).into_iter().filter_map(|(_, u)| u.map(|u| format!("{u}feed.atom"))).collect();
    feed(blog.title(), &format!("urn:spokes:{}", blog.blog_id), &format!("{base}/feed.atom"), entries, &related)
}

async fn front_feed(State(s): State<AppState>) -> Response {
    let blogs = s.spoke.blogs();
    let members = s.spoke.members();
    let entries: Vec<Entry> = newest(&blogs, 50).into_iter().map(|(b, p)| entry_with(b, p, s.spoke.body(b, p).as_deref(), &post_href(&members, b, p))).collect();
    feed(s.spoke.name(), "urn:spokes:front", "/feed.atom", entries, &[])
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
