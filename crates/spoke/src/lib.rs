//! spoke: the Spokes server.
//!
//! A spoke stores the blogs its operator admitted (SQLite, [`store`]), accepts signed
//! revisions over `spokes/sync/1` (verify before merge, [`spokes_sync`]), replicates each blog
//! with the other spokes its author listed, and serves readers over HTTP ([`http`]). With
//! other spokes it forms a council ([`council`], the `spokes/council/1` protocol of
//! `spokes_sync`): it pulls council copies of their blogs, so its front page shows the newest
//! posts of the whole council and its search ([`search`]) covers all of them.
//!
//! By concern: this file holds the running spoke's state (`Inner`) and [`start`]; `admin`
//! the operator's commands on a data folder that is not running (re-exported here: [`init`],
//! [`invite`], [`open_store`], …); `handlers` the answers to peers, one per ALPN; `storage`
//! admission and storing what sessions bring, the document cache and the readers' views;
//! `serving` what the HTTP layer reads; `loops` council pulls, replication and moderation;
//! [`store`] every database access.
//!
//! Data folder layout (version 1): `config.toml`, `endpoint.key` (the iroh secret key, hex:
//! the spoke's network identity), `spoke.db`, `search-v1/` (the search index, rebuilt when
//! missing), and with `[tls]` `tls/` (the certificate, its key and the ACME account, [`tls`]).

mod admin;
mod aggregate;
mod handlers;
mod listing;
mod fsutil;
pub mod dns;
mod naming;
mod loops;
mod placement;
mod serving;
mod sets;
mod storage;
pub mod config;
pub use spokes_sync::council;
#[cfg(feature = "dishonest")]
pub mod dishonest;
pub mod http;
pub mod metrics;
pub mod rate;
pub mod relay;
pub mod search;
pub mod store;
pub mod tls;

use spokes_core::problem::Code;
use store::{BlogKind, BlogStatus};
use automerge::sync::State;
use config::Config;
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, EndpointAddr, SecretKey};
use spokes_core::doc::{empty_automerge, load_automerge};
use spokes_core::BlogId;
use spokes_core::image::ImageName;
use spokes_sync::peer::{Host, initiate, respond};
use spokes_sync::session::{Hello, Outcome, RemoteError, Replica};
use spokes_sync::{ALPN, SyncError, Ticket};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use store::Store;
use tokio::sync::mpsc;
pub use admin::*;
use handlers::*;
use loops::*;
use spokes_site::view::{self, BlogView};

/// Errors starting or administering a spoke.
#[derive(Debug, thiserror::Error)]
pub enum SpokeError {
    /// The data folder has no spoke (run `spoke init`).
    #[error("{0} is not a spoke data folder (run `spoke init --data {0}` first)")]
    NotInitialised(String),
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Bad configuration.
    #[error("configuration: {0}")]
    Config(String),
    /// Storage error.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// Network error.
    #[error("network: {0}")]
    Net(String),
    /// An export archive could not be used.
    #[error(transparent)]
    Archive(#[from] spokes_core::archive::ArchiveError),
    /// The search index could not be opened.
    #[error(transparent)]
    Search(#[from] search::SearchError),
    /// A council operation failed.
    #[error("council: {0}")]
    Council(String),
}

/// How many loaded documents a spoke keeps in memory.
const DOC_CACHE_BLOGS: usize = 64;

/// How long after a blog received new changes its replication to the other spokes starts. A
/// writer publishes to all its spokes at once; waiting lets those sessions finish first (so
/// replication finds little to do) instead of competing with them for the machine.
pub const REPLICATION_DELAY: Duration = Duration::from_millis(1000);

struct Inner {
    store: Store,
    key: SecretKey,
    /// This spoke as the council lists it.
    me: council::MemberInfo,
    config: Config,
    data: PathBuf,
    search: Arc<search::SearchIndex>,
    index_tx: mpsc::UnboundedSender<(BlogId, Option<Arc<BlogView>>)>,
    metrics: metrics::Metrics,
    /// The rate quotas (`max_sessions_per_hour`): sessions each peer opens per blog, and
    /// sessions per blog that brought the author's signed changes.
    rates: rate::Rates,
    /// Rollbacks already reported: (peer, blog, offered heads).
    rollbacks: Mutex<HashSet<(String, BlogId, Vec<String>)>>,
    /// The council membership and the number of stored entries it was computed from.
    council: Mutex<Option<(i64, council::Membership)>>,
    /// Per upstream, the council log heads it answered with last: the next hello sends only
    /// the entries after them (kept in memory; a restart sends everything once).
    council_peer_heads: Mutex<HashMap<String, Vec<String>>>,
    /// Council offers refused for failing verification: (peer, blog) → the offered heads, not
    /// fetched again until the peer offers something else.
    refused_offers: Mutex<HashMap<(String, BlogId), Vec<String>>>,
    /// Per (peer spoke, blog), the state both sides held at the end of the last replication
    /// session ([`BlogView::state`]: heads, or manifest names): while ours is still that, the
    /// periodic replication skips that peer (it pushes to us itself when it has something new).
    in_step: Mutex<HashMap<(String, BlogId), Vec<String>>>,
    /// Test-only dishonesty (feature `dishonest`).
    #[cfg(feature = "dishonest")]
    tamper: Option<dishonest::Tamper>,
    views: RwLock<HashMap<BlogId, Arc<BlogView>>>,
    /// The digests upstreams offered ([`aggregate`]).
    aggregate: Mutex<aggregate::Aggregate>,
    /// The digest this spoke offers and the views of the blogs shown from it.
    composed: RwLock<aggregate::Composed>,
    /// Held while a digest is composed (one at a time).
    composing: Mutex<()>,
    /// When each blog's view last changed here (Unix seconds), for the digest's headers
    /// alone; entries older than a day are dropped.
    recently_changed: Mutex<HashMap<BlogId, i64>>,
    /// Set once the views of what the store held at start are built.
    started: std::sync::atomic::AtomicBool,
    /// Loaded documents, keyed by blog and by the BLAKE3 hash of the stored bytes they were
    /// loaded from (so a stale entry is never used). Loading is the dominant cost of a session.
    docs: Mutex<HashMap<BlogId, ([u8; 32], automerge::AutoCommit)>>,
    /// The verified manifests (frontier, recent) of recently used set blogs, as last stored:
    /// a session then does not parse and check every leaf again. Only `persist_set` writes a
    /// set blog's manifests, and it replaces the entry; at most [`DOC_CACHE_BLOGS`] blogs.
    manifests: Mutex<HashMap<BlogId, sets::CachedManifests>>,
    /// Bodies of set blogs' posts rendered for readers (their views hold none).
    bodies: Mutex<serving::BodyCache>,
    /// Post documents of set blogs the last sessions stored.
    post_docs: Mutex<serving::PostDocCache>,
    /// Verification bundles made for the views being served ([`serving::BundleCache`]).
    bundles: Mutex<serving::BundleCache>,
    commit_lock: Mutex<()>,
    endpoint_id: String,
    replicate: mpsc::UnboundedSender<(BlogId, Option<String>)>,
    name: String,
    /// Bumped whenever what readers are shown may have changed ([`http::SpokeView::generation`]).
    generation: std::sync::atomic::AtomicU64,
    /// How many council entries the store holds, as last read ([`Inner::count_council_entries`]):
    /// pages link to the members' sites, so it is part of the responses' generation. Kept here
    /// rather than counted on every request, which serialised every GET on the database.
    council_entries: std::sync::atomic::AtomicU64,
    /// Names in the council's domain (`[dns]`); `None` without one.
    naming: Option<Arc<naming::Naming>>,
    /// The HTTPS certificate in use and the port readers use for HTTPS (`[tls]`); `None`
    /// without HTTPS.
    https: Option<(Arc<tls::Certificates>, u16)>,
    /// Reads of each shown blog, for popular blogs' extra council copies.
    reads: placement::Reads,
    /// When a peer last ended a session for each blog held, with partial copies (the lease
    /// of a copy beyond the placed ranks, `placement::LEASE`); pruned to the blogs held.
    touched: Mutex<HashMap<BlogId, std::time::Instant>>,
}

/// A running spoke.
pub struct RunningSpoke {
    /// Where the reader site listens.
    pub http_addr: SocketAddr,
    /// Where it listens for HTTPS (with `[tls]`).
    pub https_addr: Option<SocketAddr>,
    /// Where the operator's listener is (`/metrics`, `/health`, `/ready`); `None` when its
    /// address could not be had.
    pub admin_addr: Option<SocketAddr>,
    /// The spoke's endpoint ID.
    pub endpoint_id: iroh::EndpointId,
    /// Where the sync endpoint listens.
    pub p2p_addrs: Vec<SocketAddr>,
    /// The reader site's base URL as tickets give it.
    pub web: String,
    router: Router,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The reader site's servers (HTTP, HTTPS): stopped gracefully.
    servers: Vec<tokio::task::JoinHandle<()>>,
    stop: tokio::sync::watch::Sender<bool>,
    inner: Arc<Inner>,
}

/// Longest a stopping spoke waits for the reader site's requests under way.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Resolves once `stop` says so (or its sender is gone).
async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

impl RunningSpoke {
    /// A ticket that admits one new writer.
    pub fn invite(&self, uses: u32) -> Result<Ticket, SpokeError> {
        let token = self.inner.store.create_invite(uses, None, None)?;
        let relay = self.inner.config.relay_url(&self.endpoint_id.to_string());
        Ok(Ticket { v: 1, endpoint: self.endpoint_id.to_string(), addrs: self.p2p_addrs.clone(), token: Some(token), name: Some(self.inner.name.clone()), web: Some(self.web.clone()), relay })
    }
    /// Stops: the reader site takes no new connections and finishes the requests under way
    /// (at most [`SHUTDOWN_GRACE`]), the background work stops, and the endpoint closes (its
    /// peers are told). What is stored is stored at every step, so nothing waits to be saved.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let servers = futures_util::future::join_all(self.servers);
        if tokio::time::timeout(SHUTDOWN_GRACE, servers).await.is_err() {
            tracing::warn!("requests still under way after {} s: stopping anyway", SHUTDOWN_GRACE.as_secs());
        }
        for t in &self.tasks {
            t.abort();
        }
        let _ = self.router.shutdown().await;
    }
}

/// Options that override the config file at start.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// Reader site address.
    pub http: Option<SocketAddr>,
    /// Sync endpoint address.
    pub p2p: Option<SocketAddr>,
    /// The operator's listener.
    pub admin: Option<SocketAddr>,
    /// No operator's listener at all (a spoke inside another program, such as the app's own).
    pub no_admin: bool,
    /// Seconds between replication rounds.
    pub replicate_interval_secs: Option<u64>,
    /// Seconds between council pulls.
    pub council_interval_secs: Option<u64>,
}

/// Starts a spoke from an initialised data folder.
pub async fn start(data: &Path, overrides: Overrides) -> Result<RunningSpoke, SpokeError> {
    let (key, mut config) = load(data)?;
    if let Some(h) = overrides.http {
        config.http = h;
    }
    if let Some(p) = overrides.p2p {
        config.p2p = p;
    }
    if let Some(a) = overrides.admin {
        config.admin = a;
    }
    if let Some(i) = overrides.replicate_interval_secs {
        config.replicate_interval_secs = i;
    }
    if let Some(i) = overrides.council_interval_secs {
        config.council.interval_secs = i;
    }
    let naming = match &config.dns {
        Some(d) => Some(Arc::new(naming::Naming::new(dns::Zone::new(d.clone(), data).map_err(|e| SpokeError::Config(e.to_string()))?, Some(data)))),
        None => None,
    };
    if config.tls.is_some() && config.dns.is_none() {
        return Err(SpokeError::Config("[tls] needs [dns]: the certificate's challenges are answered in the council's zone".into()));
    }
    let store = Store::open(&data.join(STORE_FILE))?;
    let search = Arc::new(search::SearchIndex::open(data)?);
    let listener = tokio::net::TcpListener::bind(config.http).await.map_err(|e| SpokeError::Net(format!("cannot listen on {}: {e}", config.http)))?;
    let http_addr = listener.local_addr().map_err(|e| SpokeError::Net(e.to_string()))?;
    // With a relay, the spoke's endpoint keeps its home relay connection to it over loopback.
    let relay_url = config.relay_url(&key.public().to_string());
    let home = match &relay_url {
        Some(_) => Some(relay::home_url(http_addr).parse().map_err(|e| SpokeError::Net(format!("relay: {e}")))?),
        None => None,
    };
    // How it reaches other members' relays (and whether its network lets UDP through at all):
    // from the environment, as for writers (docs/operators.md).
    let reach = spokes_sync::net::Reach::from_env().map_err(|e| SpokeError::Config(e.to_string()))?;
    let endpoint = spokes_sync::net::bind_with_home_relay(key.clone(), config.p2p, vec![ALPN.to_vec()], home, &reach).await.map_err(|e| SpokeError::Net(e.to_string()))?;
    let p2p_addrs = endpoint.bound_sockets();
    let web = config.ticket_web(http_addr);
    let https_listener = match &config.tls {
        Some(t) => Some(tokio::net::TcpListener::bind(t.https).await.map_err(|e| SpokeError::Net(format!("cannot listen on {} for HTTPS: {e}", t.https)))?),
        None => None,
    };
    let https = config.tls.as_ref().map(|t| (Arc::new(tls::Certificates::default()), t.https_port));
    let addrs: Vec<String> = if config.public_addrs.is_empty() {
        p2p_addrs.iter().map(|a| if a.ip().is_unspecified() { SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), a.port()) } else { *a }).map(|a| a.to_string()).collect()
    } else {
        config.public_addrs.iter().map(|a| a.to_string()).collect()
    };
    let me = council::MemberInfo { endpoint: key.public().to_string(), addrs, web: web.clone(), name: config.name.clone(), relay: relay_url.clone() };
    // A council this spoke founded before the council log is carried over; a member that
    // moved tells the council where it is now.
    admin::carry_over(&store, &key, &me)?;
    admin::announce_address(&store, &key, &me)?;
    let (tx, rx) = mpsc::unbounded_channel();
    let (index_tx, index_rx) = mpsc::unbounded_channel();
    let inner = Arc::new(Inner {
        store,
        key: key.clone(),
        me,
        config: config.clone(),
        data: data.to_path_buf(),
        search: search.clone(),
        index_tx,
        metrics: metrics::Metrics::new(),
        rates: rate::Rates::new(config.admission.max_sessions_per_hour),
        rollbacks: Mutex::default(),
        refused_offers: Mutex::default(),
        in_step: Mutex::default(),
        council: Mutex::default(),
        council_peer_heads: Mutex::default(),
        #[cfg(feature = "dishonest")]
        // Answering only `spokes/drafts/1` is no tampering: the spoke is otherwise honest.
        tamper: dishonest::Tamper::from_env().filter(|t| *t != dishonest::Tamper::OldDrafts),
        views: RwLock::new(HashMap::new()),
        aggregate: Mutex::default(),
        composed: RwLock::default(),
        composing: Mutex::default(),
        recently_changed: Mutex::default(),
        started: Default::default(),
        docs: Mutex::new(HashMap::new()),
        manifests: Mutex::new(HashMap::new()),
        bodies: Mutex::new(serving::BodyCache::new(serving::BODY_CACHE_BYTES)),
        post_docs: Mutex::new(serving::PostDocCache::new(serving::POST_DOC_CACHE_BYTES)),
        bundles: Mutex::new(serving::BundleCache::new(serving::BUNDLE_CACHE_BYTES)),
        commit_lock: Mutex::new(()),
        endpoint_id: key.public().to_string(),
        replicate: tx,
        name: config.name.clone(),
        generation: Default::default(),
        council_entries: Default::default(),
        naming: naming.clone(),
        https: https.clone(),
        reads: Default::default(),
        touched: Mutex::default(),
    });
    inner.count_council_entries();
    for id in inner.store.blog_ids()? {
        inner.refresh_view(&id);
    }
    inner.started.store(true, std::sync::atomic::Ordering::Relaxed);
    // Posts of blogs dropped while the spoke was stopped leave the index.
    for b in search.blogs() {
        if http::SpokeView::blog(inner.as_ref(), &b).is_none() {
            let _ = inner.index_tx.send((b, None));
        }
    }
    inner.update_gauges();
    let router = Router::builder(endpoint.clone())
        .accept(ALPN, SyncHandler { inner: inner.clone() })
        .accept(spokes_sync::set::SET_ALPN, SetHandler { inner: inner.clone() })
        .accept(spokes_sync::drafts::DRAFTS_ALPN, DraftsHandler { inner: inner.clone() })
        .accept(spokes_sync::images::IMAGES_ALPN, ImagesHandler { inner: inner.clone() })
        .accept(council::COUNCIL_ALPN, CouncilHandler { inner: inner.clone() })
        .accept(spokes_sync::names::NAME_ALPN, NameHandler { inner: inner.clone() });
    #[cfg(feature = "dishonest")]
    let old_drafts = std::env::var("SPOKE_DISHONEST").is_ok_and(|v| v == "old-drafts");
    #[cfg(not(feature = "dishonest"))]
    let old_drafts = false;
    let router = if old_drafts { router } else { router.accept(spokes_sync::drafts::DRAFT_ITEMS_ALPN, DraftItemsHandler { inner: inner.clone() }) };
    let router = router.spawn();
    let state = http::AppState::new(inner.clone() as Arc<dyn http::SpokeView>);
    let app = http::router(state.clone());
    let mut tasks = Vec::new();
    let mut servers = Vec::new();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let mut https_addr = None;
    let relay_service = relay_url.as_ref().map(|_| relay::service(&inner.metrics));
    if let (Some(t), Some(listener), Some((certs, _)), Some(d)) = (&config.tls, https_listener, &https, &config.dns) {
        let listener = tls::listen(listener, certs.clone()).map_err(|e| SpokeError::Net(e.to_string()))?;
        https_addr = Some(axum::serve::Listener::local_addr(&listener).map_err(|e| SpokeError::Net(e.to_string()))?);
        let secure = http::router(state).layer(axum::Extension(tls::OverTls));
        let relay = relay_service.clone().map(|s| (s, relay::RelayFor::Everyone));
        servers.push(tokio::spawn(relay::serve(listener, secure, relay, stop_rx.clone())));
        let zone = dns::Zone::new(d.clone(), data).map_err(|e| SpokeError::Config(e.to_string()))?;
        tasks.push(tokio::spawn(tls::certificate_loop(zone, t.clone(), data.to_path_buf(), key.public().to_string(), certs.clone())));
    }
    let http_task = tokio::spawn(relay::serve(listener, app, relay_service.map(|s| (s, relay::RelayFor::Loopback)), stop_rx.clone()));
    let repl_task = tokio::spawn(replication_loop(inner.clone(), endpoint.clone(), rx, Duration::from_secs(config.replicate_interval_secs.max(1))));
    let index_task = tokio::spawn(search::indexer(search, index_rx, Duration::from_millis(200), inner.clone()));
    let placement_task = tokio::spawn(placement::placement_loop(inner.clone(), endpoint.clone(), Duration::from_secs(config.council.interval_secs.max(1))));
    let council_task = tokio::spawn(council_loop(inner.clone(), endpoint, Duration::from_secs(config.council.interval_secs.max(1))));
    let watch_task = tokio::spawn(watch_loop(inner.clone()));
    servers.push(http_task);
    let admin_listener = if overrides.no_admin { None } else { Some(tokio::net::TcpListener::bind(config.admin).await) };
    let admin_addr = match admin_listener {
        None => None,
        Some(Ok(listener)) => {
            let addr = listener.local_addr().ok();
            let admin = http::admin_router(http::AppState::new(inner.clone() as Arc<dyn http::SpokeView>));
            let admin_stop = stop_rx.clone();
            servers.push(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, admin).with_graceful_shutdown(stopped(admin_stop)).await {
                    tracing::error!("operator listener stopped: {e}");
                }
            }));
            addr
        }
        Some(Err(e)) => {
            tracing::warn!("no operator listener (/metrics, /health, /ready): cannot listen on {}: {e}; set `admin` in config.toml", config.admin);
            None
        }
    };
    tasks.extend([repl_task, index_task, council_task, placement_task, watch_task]);
    if let Some(n) = naming {
        tasks.push(tokio::spawn(naming::naming_loop(inner.clone(), n)));
    }
    Ok(RunningSpoke { http_addr, https_addr, admin_addr, endpoint_id: key.public(), p2p_addrs, web, router, tasks, servers, stop, inner })
}

/// How writers get in when a blog is not held here yet.
#[derive(Clone, Copy, Debug)]
enum Admission<'a> {
    /// A writer's session, with the invite token its hello carried.
    Writer(Option<&'a str>),
    /// A council copy pulled from a member.
    Mirror,
    /// Replication between spokes that host the blog: never admits.
    Replica,
}
