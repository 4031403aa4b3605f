//! spoke: the Spokes server.
//!
//! A spoke stores the blogs its operator admitted (SQLite, [`store`]), accepts signed
//! revisions over `spokes/sync/1` (verify before merge, [`spokes_sync`]), replicates each blog
//! with the other spokes its author listed, and serves readers over HTTP ([`http`]).
//!
//! Data folder layout (version 1): `config.toml`, `endpoint.key` (the iroh secret key, hex:
//! the spoke's network identity), `spoke.db`.

pub mod config;
pub mod http;
pub mod site;
pub mod store;
pub mod view;

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
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use store::Store;
use tokio::sync::mpsc;
use view::BlogView;

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
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SpokeError + '_ {
    move |source| SpokeError::Io { path: path.to_path_buf(), source }
}

/// Creates a data folder: `config.toml` (from `config`) and a new `endpoint.key`.
/// An existing folder keeps its key and only gets its config rewritten.
pub fn init(data: &Path, config: &Config) -> Result<iroh::EndpointId, SpokeError> {
    std::fs::create_dir_all(data).map_err(io_err(data))?;
    let key_path = data.join("endpoint.key");
    let key = match std::fs::read_to_string(&key_path) {
        Ok(s) => parse_key(&s)?,
        Err(_) => {
            let k = SecretKey::generate();
            write_private(&key_path, hex::encode(k.to_bytes()).as_bytes())?;
            k
        }
    };
    config.save(&data.join("config.toml"))?;
    Store::open(&data.join("spoke.db"))?;
    Ok(key.public())
}

fn parse_key(s: &str) -> Result<SecretKey, SpokeError> {
    let bytes = hex::decode(s.trim()).map_err(|e| SpokeError::Config(format!("endpoint.key: {e}")))?;
    let arr: [u8; 32] = bytes.try_into().map_err(|_| SpokeError::Config("endpoint.key must hold 32 bytes".into()))?;
    Ok(SecretKey::from_bytes(&arr))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SpokeError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(io_err(path))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io_err(path))
}

/// Loads the endpoint key and config of an initialised data folder.
pub fn load(data: &Path) -> Result<(SecretKey, Config), SpokeError> {
    let key = std::fs::read_to_string(data.join("endpoint.key")).map_err(|_| SpokeError::NotInitialised(data.display().to_string()))?;
    let config = Config::load(&data.join("config.toml"))?;
    Ok((parse_key(&key)?, config))
}

/// Creates an invite ticket with `uses` uses for the spoke in `data`.
pub fn invite(data: &Path, uses: u32) -> Result<Ticket, SpokeError> {
    let (key, config) = load(data)?;
    let store = Store::open(&data.join("spoke.db"))?;
    let token = store.create_invite(uses, None)?;
    Ok(Ticket { v: 1, endpoint: key.public().to_string(), addrs: config.ticket_addrs(), token: Some(token), name: Some(config.name.clone()), web: Some(config.ticket_web(config.http)) })
}

/// Hosts the blog of an export archive (`spokes-archive`, see `spokes_core::archive`), with
/// its whole history and signatures, after checking them. A blog already hosted here (same
/// author) is merged with it. Run it while the spoke is stopped, or restart the spoke after.
/// Returns the blog ID and whether it is new here.
///
/// Errors: [`SpokeError::Archive`] (unreadable, or failing verification), [`SpokeError::Store`]
/// (another author's blog under that ID).
pub fn import_archive(data: &Path, archive: &Path) -> Result<(BlogId, bool), SpokeError> {
    load(data)?;
    let a = spokes_core::archive::read_archive(archive)?;
    let store = Store::open(&data.join("spoke.db"))?;
    let blog_id = a.manifest.blog_id.clone();
    let mut doc = a.blog.into_automerge();
    let mut cert = a.certificate;
    // Merged with what is hosted here already; another author's blog is refused by the store.
    if let Some(stored) = store.blog(&blog_id)?.filter(|s| s.fingerprint == cert.fingerprint()) {
        if !stored.document.is_empty() {
            let mut old = load_automerge(&stored.document).map_err(|e| store::StoreError::Damaged(e.to_string()))?;
            doc.merge(&mut old).map_err(|e| store::StoreError::Damaged(e.to_string()))?;
        }
        cert.merge(&stored.certificate);
    }
    let is_new = store.import_blog(&blog_id, &cert, &doc.save(), &a.statements)?;
    // The archive checked each picture against its name; the site serves those a post shows.
    for (name, bytes) in &a.images {
        store.put_image(&blog_id, name, bytes)?;
    }
    Ok((blog_id, is_new))
}

/// How many loaded documents a spoke keeps in memory.
const DOC_CACHE_BLOGS: usize = 64;

/// How long after a blog received new changes its replication to the other spokes starts. A
/// writer publishes to all its spokes at once; waiting lets those sessions finish first (so
/// replication finds little to do) instead of competing with them for the machine.
pub const REPLICATION_DELAY: Duration = Duration::from_millis(1000);

struct Inner {
    store: Store,
    views: RwLock<HashMap<BlogId, Arc<BlogView>>>,
    /// Loaded documents, keyed by blog and by the BLAKE3 hash of the stored bytes they were
    /// loaded from (so a stale entry is never used). Loading is the dominant cost of a session.
    docs: Mutex<HashMap<BlogId, ([u8; 32], automerge::AutoCommit)>>,
    commit_lock: Mutex<()>,
    endpoint_id: String,
    replicate: mpsc::UnboundedSender<(BlogId, Option<String>)>,
    name: String,
}

/// A running spoke.
pub struct RunningSpoke {
    /// Where the reader site listens.
    pub http_addr: SocketAddr,
    /// The spoke's endpoint ID.
    pub endpoint_id: iroh::EndpointId,
    /// Where the sync endpoint listens.
    pub p2p_addrs: Vec<SocketAddr>,
    /// The reader site's base URL as tickets give it.
    pub web: String,
    router: Router,
    http_task: tokio::task::JoinHandle<()>,
    repl_task: tokio::task::JoinHandle<()>,
    inner: Arc<Inner>,
}

impl RunningSpoke {
    /// A ticket that admits one new writer.
    pub fn invite(&self, uses: u32) -> Result<Ticket, SpokeError> {
        let token = self.inner.store.create_invite(uses, None)?;
        Ok(Ticket { v: 1, endpoint: self.endpoint_id.to_string(), addrs: self.p2p_addrs.clone(), token: Some(token), name: Some(self.inner.name.clone()), web: Some(self.web.clone()) })
    }
    /// Stops serving and closes the endpoint.
    pub async fn shutdown(self) {
        self.http_task.abort();
        self.repl_task.abort();
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
    /// Seconds between replication rounds.
    pub replicate_interval_secs: Option<u64>,
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
    if let Some(i) = overrides.replicate_interval_secs {
        config.replicate_interval_secs = i;
    }
    let store = Store::open(&data.join("spoke.db"))?;
    let endpoint = spokes_sync::net::bind_endpoint(key.clone(), config.p2p, vec![ALPN.to_vec()]).await.map_err(|e| SpokeError::Net(e.to_string()))?;
    let p2p_addrs = endpoint.bound_sockets();
    let (tx, rx) = mpsc::unbounded_channel();
    let inner = Arc::new(Inner { store, views: RwLock::new(HashMap::new()), docs: Mutex::new(HashMap::new()), commit_lock: Mutex::new(()), endpoint_id: key.public().to_string(), replicate: tx, name: config.name.clone() });
    for id in inner.store.blog_ids()? {
        inner.refresh_view(&id);
    }
    let router = Router::builder(endpoint.clone())
        .accept(ALPN, SyncHandler { inner: inner.clone() })
        .accept(spokes_sync::drafts::DRAFTS_ALPN, DraftsHandler { inner: inner.clone() })
        .accept(spokes_sync::images::IMAGES_ALPN, ImagesHandler { inner: inner.clone() })
        .spawn();
    let listener = tokio::net::TcpListener::bind(config.http).await.map_err(|e| SpokeError::Net(format!("cannot listen on {}: {e}", config.http)))?;
    let http_addr = listener.local_addr().map_err(|e| SpokeError::Net(e.to_string()))?;
    let app = http::router(http::AppState { spoke: inner.clone() as Arc<dyn http::SpokeView> });
    let http_task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("reader site stopped: {e}");
        }
    });
    let repl_task = tokio::spawn(replication_loop(inner.clone(), endpoint, rx, Duration::from_secs(config.replicate_interval_secs.max(1))));
    let web = config.ticket_web(http_addr);
    Ok(RunningSpoke { http_addr, endpoint_id: key.public(), p2p_addrs, web, router, http_task, repl_task, inner })
}

#[derive(Clone)]
struct SyncHandler {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SyncHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SyncHandler")
    }
}

impl ProtocolHandler for SyncHandler {
    async fn accept(&self, connection: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        match respond(self.inner.as_ref(), connection).await {
            Ok(o) => tracing::info!(new_changes = o.new_changes, "sync session done"),
            Err(e) => tracing::warn!("sync session failed: {e}"),
        }
        Ok(())
    }
}

/// Answers `spokes/drafts/1`.
#[derive(Clone)]
struct DraftsHandler {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for DraftsHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DraftsHandler")
    }
}

impl ProtocolHandler for DraftsHandler {
    async fn accept(&self, connection: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        match spokes_sync::drafts::respond(self.inner.as_ref(), connection).await {
            Ok(n) => tracing::info!(returned = n, "drafts exchange done"),
            Err(e) => tracing::warn!("drafts exchange failed: {e}"),
        }
        Ok(())
    }
}

/// Answers `spokes/images/1`.
#[derive(Clone)]
struct ImagesHandler {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ImagesHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImagesHandler")
    }
}

impl ProtocolHandler for ImagesHandler {
    async fn accept(&self, connection: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        let peer = connection.remote_id().to_string();
        match spokes_sync::images::respond(self.inner.as_ref(), connection).await {
            Ok(o) => tracing::info!(sent = o.sent, received = o.received, "images exchange done"),
            Err(e) => {
                if matches!(e, SyncError::Refused(_)) {
                    self.inner.record_failure(&peer, None, &e);
                }
                tracing::warn!("images exchange failed: {e}");
            }
        }
        Ok(())
    }
}

impl spokes_sync::images::ImageStore for Inner {
    fn wanted(&self, blog: &BlogId, offered: &[ImageName]) -> Result<Vec<ImageName>, RemoteError> {
        let Some(view) = http::SpokeView::blog(self, blog) else {
            return Err(RemoteError::new("not-hosted", "this spoke does not host that blog"));
        };
        let linked: Vec<ImageName> = offered.iter().filter(|n| view.images.contains(*n)).cloned().collect();
        let held = self.store.has_images(blog, &linked).map_err(|e| RemoteError::new("internal", e.to_string()))?;
        Ok(linked.into_iter().filter(|n| !held.contains(n)).collect())
    }
    fn get(&self, blog: &BlogId, name: &ImageName) -> Option<Vec<u8>> {
        self.store.image(blog, name).ok().flatten()
    }
    fn put(&self, blog: &BlogId, name: &ImageName, bytes: &[u8]) -> Result<(), RemoteError> {
        self.store.put_image(blog, name, bytes).map_err(|e| RemoteError::new("internal", e.to_string()))
    }
}

impl spokes_sync::drafts::DraftsHost for Inner {
    fn exchange(&self, peer: &str, blog: &BlogId, sealed: Option<&[u8]>) -> Result<Vec<Vec<u8>>, RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new("internal", e.to_string());
        let Some(b) = self.store.blog(blog).map_err(|e| internal(&e))? else {
            return Err(RemoteError::new("not-hosted", "this spoke does not host that blog"));
        };
        if b.status != "active" {
            return Err(RemoteError::new("suspended", "this blog is suspended on this spoke"));
        }
        let mut device = None;
        if let Some(sealed) = sealed {
            match spokes_core::seal::check_sealer(sealed, &b.certificate) {
                Ok((signer, at)) => {
                    self.store.put_sealed_drafts(blog, &signer, sealed, at).map_err(|e| internal(&e))?;
                    device = Some(signer);
                }
                Err(e) => {
                    let _ = self.store.record_refusal(peer, Some(blog), "bad-signature", &e.to_string());
                    return Err(RemoteError::new("bad-signature", e.to_string()));
                }
            }
        }
        self.store.sealed_drafts(blog, device.as_deref(), spokes_sync::drafts::MAX_DEVICES).map_err(|e| internal(&e))
    }
}

impl Inner {
    fn load_replica(&self, blog_id: &BlogId, peer: &str) -> Result<Option<(Replica, State)>, RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new("internal", e.to_string());
        let Some(b) = self.store.blog(blog_id).map_err(|e| internal(&e))? else { return Ok(None) };
        if b.status != "active" {
            return Err(RemoteError::new("suspended", "this blog is suspended on this spoke"));
        }
        let doc = self.document(blog_id, &b.document).map_err(|e| internal(&e))?;
        let statements = self.store.statements(blog_id).map_err(|e| internal(&e))?;
        let state = self
            .store
            .sync_state(peer, blog_id)
            .map_err(|e| internal(&e))?
            .and_then(|s| State::decode(&s).ok())
            .unwrap_or_default();
        Ok(Some((Replica { blog_id: blog_id.clone(), doc, certificate: Some(b.certificate), statements }, state)))
    }

    /// Merges a verified replica into the stored blog and records the sync state.
    fn persist(&self, peer: &str, token: Option<&str>, replica: &Replica, state: &State, outcome: &Outcome) -> Result<(), RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new("internal", e.to_string());
        let _guard = self.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
        let cert = replica.certificate.clone().ok_or_else(|| RemoteError::new("wrong-certificate", "no certificate"))?;
        let stored = self.store.blog(&replica.blog_id).map_err(|e| internal(&e))?;
        let mut current = match &stored {
            Some(b) => self.document(&replica.blog_id, &b.document).map_err(|e| internal(&e))?,
            None => empty_automerge(),
        };
        if stored.is_none() {
            let token = token.ok_or_else(|| RemoteError::new("not-hosted", "this spoke does not host this blog"))?;
            if !self.store.admit(token, &replica.blog_id, &cert).map_err(|e| internal(&e))? {
                return Err(RemoteError::new("bad-invite", "this invite is unknown or already used; ask the spoke's operator for a new one"));
            }
        }
        let mut incoming = replica.doc.clone();
        current.merge(&mut incoming).map_err(|e| internal(&e))?;
        let bytes = current.save();
        self.store
            .save_session(&replica.blog_id, &bytes, &cert, &outcome.new_statements, peer, &state.encode())
            .map_err(|e| internal(&e))?;
        // The readers' view is rebuilt from the merged document under the commit lock, so views
        // of concurrent sessions are installed in commit order.
        if outcome.new_changes > 0 || outcome.certificate_changed || stored.is_none() {
            let statements = self.store.statements(&replica.blog_id).map_err(|e| internal(&e))?;
            let mut merged = Replica { blog_id: replica.blog_id.clone(), doc: current, certificate: Some(cert), statements };
            self.install_view(&mut merged);
            current = merged.doc;
        }
        self.cache_document(&replica.blog_id, blake3::hash(&bytes).into(), current);
        drop(_guard);
        if outcome.new_changes > 0 {
            let _ = self.replicate.send((replica.blog_id.clone(), Some(peer.to_owned())));
        }
        Ok(())
    }

    /// The document stored as `bytes`: from the cache when it holds exactly these bytes,
    /// else loaded (with head verification) and cached.
    fn document(&self, blog_id: &BlogId, bytes: &[u8]) -> Result<automerge::AutoCommit, spokes_core::doc::DocError> {
        if bytes.is_empty() {
            return Ok(empty_automerge());
        }
        let hash: [u8; 32] = blake3::hash(bytes).into();
        if let Some((h, doc)) = self.docs.lock().unwrap_or_else(|p| p.into_inner()).get(blog_id)
            && *h == hash
        {
            return Ok(doc.clone());
        }
        let doc = load_automerge(bytes)?;
        self.cache_document(blog_id, hash, doc.clone());
        Ok(doc)
    }

    /// Caches `doc`, loaded from (or saved as) bytes whose BLAKE3 hash is `hash`.
    fn cache_document(&self, blog_id: &BlogId, hash: [u8; 32], doc: automerge::AutoCommit) {
        let mut docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        if docs.len() >= DOC_CACHE_BLOGS
            && !docs.contains_key(blog_id)
            && let Some(k) = docs.keys().next().cloned()
        {
            docs.remove(&k);
        }
        docs.insert(blog_id.clone(), (hash, doc));
    }

    /// Rebuilds the rendered, verified view of a blog from the store.
    fn refresh_view(&self, blog_id: &BlogId) {
        match self.load_replica(blog_id, "") {
            Ok(Some((mut replica, _))) => self.install_view(&mut replica),
            Ok(None) => {}
            Err(e) => tracing::error!("cannot load blog {blog_id}: {e}"),
        }
    }

    /// Builds the view of `replica` from the current one (see [`BlogView::rebuild`]) and
    /// installs it for readers.
    fn install_view(&self, replica: &mut Replica) {
        let previous = self.views.read().unwrap_or_else(|p| p.into_inner()).get(&replica.blog_id).cloned();
        let view = BlogView::rebuild(replica, previous.as_deref());
        self.views.write().unwrap_or_else(|p| p.into_inner()).insert(replica.blog_id.clone(), Arc::new(view));
    }
}

impl Host for Inner {
    fn open(&self, peer: &str, hello: &Hello) -> Result<(Replica, State), RemoteError> {
        if let Some(x) = self.load_replica(&hello.blog_id, peer)? {
            return Ok(x);
        }
        match &hello.token {
            Some(t) if self.store.invite_valid(t).unwrap_or(false) => {
                Ok((Replica { blog_id: hello.blog_id.clone(), doc: empty_automerge(), certificate: None, statements: vec![] }, State::new()))
            }
            Some(_) => Err(RemoteError::new("bad-invite", "this invite is unknown or already used; ask the spoke's operator for a new one")),
            None => Err(RemoteError::new("not-hosted", "this spoke does not host this blog")),
        }
    }

    fn commit(&self, peer: &str, hello: &Hello, replica: &Replica, state: &State, outcome: &Outcome) -> Result<(), RemoteError> {
        self.persist(peer, hello.token.as_deref(), replica, state, outcome)
    }

    fn record_failure(&self, peer: &str, blog: Option<&BlogId>, error: &SyncError) {
        let reason = error.to_string();
        if let Err(e) = self.store.record_refusal(peer, blog, error.code(), &reason) {
            tracing::error!("cannot record refusal: {e}");
        }
        tracing::warn!(peer, code = error.code(), "refused: {reason}");
    }
}

impl http::SpokeView for Inner {
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
    fn image(&self, id: &BlogId, name: &ImageName) -> Option<Vec<u8>> {
        self.store.image(id, name).ok().flatten()
    }
    fn bundle(&self, id: &BlogId) -> Option<view::Bundle> {
        let b = self.store.blog(id).ok()??;
        let statements = self.store.statements(id).ok()?;
        Some(view::Bundle::new(&b, statements))
    }
}

async fn replication_loop(inner: Arc<Inner>, endpoint: Endpoint, mut rx: mpsc::UnboundedReceiver<(BlogId, Option<String>)>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    // Blogs with new changes, when to replicate them, and the peer they came from (not sent
    // back to it; `None` once changes came from two peers).
    let mut due: HashMap<BlogId, (tokio::time::Instant, Option<String>)> = HashMap::new();
    loop {
        let next = due.values().map(|(at, _)| *at).min();
        let (blogs, skip): (Vec<BlogId>, Option<String>) = tokio::select! {
            _ = tick.tick() => (inner.store.blog_ids().unwrap_or_default(), None),
            m = rx.recv() => match m {
                Some((b, from)) => {
                    // The first change sets the time; later ones do not push it back.
                    match due.get_mut(&b) {
                        Some(entry) if entry.1 != from => entry.1 = None,
                        Some(_) => {}
                        None => {
                            due.insert(b, (tokio::time::Instant::now() + REPLICATION_DELAY, from));
                        }
                    }
                    continue;
                }
                None => return,
            },
            _ = async { match next { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {
                let now = tokio::time::Instant::now();
                let ready: Vec<BlogId> = due.iter().filter(|(_, (at, _))| *at <= now).map(|(b, _)| b.clone()).collect();
                let Some(b) = ready.into_iter().next() else { continue };
                let skip = due.remove(&b).and_then(|(_, s)| s);
                (vec![b], skip)
            }
        };
        for blog in blogs {
            let peers: Vec<spokes_core::SpokeRef> = inner.blog(&blog).map(|v| v.spokes.clone()).unwrap_or_default();
            let mut tasks = Vec::new();
            for p in peers {
                if p.endpoint == inner.endpoint_id || Some(&p.endpoint) == skip.as_ref() {
                    continue;
                }
                let (inner, endpoint, blog) = (inner.clone(), endpoint.clone(), blog.clone());
                tasks.push(tokio::spawn(async move {
                    if let Err(e) = replicate_once(&inner, &endpoint, &blog, &p).await {
                        tracing::debug!(peer = p.endpoint, "replication failed: {e}");
                    }
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
        }
    }
}

use http::SpokeView as _;

async fn replicate_once(inner: &Arc<Inner>, endpoint: &Endpoint, blog: &BlogId, peer: &spokes_core::SpokeRef) -> Result<Outcome, SyncError> {
    let id: iroh::EndpointId = peer.endpoint.parse().map_err(|e: iroh::KeyParsingError| SyncError::Connect(e.to_string()))?;
    let mut addr = EndpointAddr::new(id);
    for a in &peer.addrs {
        if let Ok(s) = a.parse() {
            addr = addr.with_ip_addr(s);
        }
    }
    let Some((mut replica, mut state)) = inner.load_replica(blog, &peer.endpoint).map_err(SyncError::Refused)? else {
        return Err(SyncError::Connect("blog no longer hosted".into()));
    };
    let peer_id = peer.endpoint.clone();
    let r = initiate(endpoint, addr.clone(), Hello::new(blog.clone(), None), &mut replica, &mut state, |rep, st, out| inner.persist(&peer_id, None, rep, st, out)).await;
    // Then the images the blog links to, both ways.
    if r.is_ok()
        && let Some(view) = inner.blog(blog)
        && !view.images.is_empty()
    {
        let linked: Vec<ImageName> = view.images.iter().cloned().collect();
        let held = inner.store.has_images(blog, &linked).unwrap_or_default();
        let (have, want): (Vec<ImageName>, Vec<ImageName>) = linked.into_iter().partition(|n| held.contains(n));
        if let Err(e) = spokes_sync::images::exchange(endpoint, addr, blog, inner.as_ref(), have, want).await {
            tracing::debug!(peer = peer.endpoint, "image replication failed: {e}");
        }
    }
    if let Err(e) = &r
        && matches!(e, SyncError::Refused(_))
    {
        inner.record_failure(&peer.endpoint, Some(blog), e);
    }
    r
}
