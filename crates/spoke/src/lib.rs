//! spoke: the Spokes server.
//!
//! A spoke stores the blogs its operator admitted (SQLite, [`store`]), accepts signed
//! revisions over `spokes/sync/1` (verify before merge, [`spokes_sync`]), replicates each blog
//! with the other spokes its author listed, and serves readers over HTTP ([`http`]). With
//! other spokes it forms a council ([`council`], the `spokes/council/1` protocol in `spokes_sync::council`): it pulls council copies of
//! their blogs, so its front page shows the newest posts of the whole council and its search
//! ([`search`]) covers all of them.
//!
//! Data folder layout (version 1): `config.toml`, `endpoint.key` (the iroh secret key, hex:
//! the spoke's network identity), `spoke.db`, `search-v1/` (the search index, rebuilt when
//! missing).

pub mod config;
pub use spokes_sync::council;
#[cfg(feature = "dishonest")]
pub mod dishonest;
pub mod http;
pub mod metrics;
pub mod rate;
pub mod search;
pub mod store;

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

/// Creates an invite ticket with `uses` uses for the spoke in `data`, valid until
/// `expires_at` (Unix seconds) if given.
pub fn invite(data: &Path, uses: u32, expires_at: Option<i64>) -> Result<Ticket, SpokeError> {
    load(data)?;
    let store = Store::open(&data.join("spoke.db"))?;
    let token = store.create_invite(uses, None, expires_at)?;
    ticket(data, Some(token))
}

/// A ticket for the spoke in `data` carrying `token` (`None`: it only locates the spoke, which
/// is enough to publish to a spoke in open admission mode).
pub fn ticket(data: &Path, token: Option<String>) -> Result<Ticket, SpokeError> {
    let (key, config) = load(data)?;
    Ok(Ticket { v: 1, endpoint: key.public().to_string(), addrs: config.ticket_addrs(), token, name: Some(config.name.clone()), web: Some(config.ticket_web(config.http)) })
}

/// This spoke as the council lists it, from its configuration (for commands run beside a
/// running spoke or while it is stopped).
fn member_info(key: &SecretKey, config: &Config) -> council::MemberInfo {
    council::MemberInfo { endpoint: key.public().to_string(), addrs: config.ticket_addrs().iter().map(|a| a.to_string()).collect(), web: config.ticket_web(config.http), name: config.name.clone() }
}

fn stored_membership(store: &Store) -> Result<council::Membership, SpokeError> {
    let mut m = council::Membership::new();
    let (_, refused) = m.merge(store.council_entries()?);
    if let Some(e) = refused.first() {
        tracing::warn!("a stored council entry does not verify: {e}");
    }
    Ok(m)
}

/// A council invite (`spokescouncil1…`) another spoke passes to `spoke council join`, with
/// `uses` uses, valid until `expires_at` (Unix seconds) if given. A spoke in no council
/// founds one first, with itself as its only member.
pub fn council_invite(data: &Path, uses: u32, expires_at: Option<i64>) -> Result<council::CouncilTicket, SpokeError> {
    let (key, config) = load(data)?;
    let store = Store::open(&data.join("spoke.db"))?;
    let mut m = stored_membership(&store)?;
    let me = member_info(&key, &config);
    if m.id().is_none() {
        m = council::Membership::found(&key, me.clone(), chrono::Utc::now().timestamp());
        store.put_council_entries(&m.entries())?;
    }
    let Some(id) = m.id().map(str::to_owned) else { return Err(SpokeError::Council("could not found a council".into())) };
    if !m.is_member(&me.endpoint) {
        return Err(SpokeError::Council("this spoke was cut off from its council and cannot invite".into()));
    }
    let token = store.create_council_invite(uses, expires_at)?;
    Ok(council::CouncilTicket { v: 1, council: id, member: m.members().get(&me.endpoint).cloned().unwrap_or(me), token })
}

/// Joins the council of `ticket`: asks the inviting spoke (over `spokes/council/1`) to admit
/// this one, then stores the membership it answers. Returns the members. Works while the
/// spoke runs (it picks the membership up within a council interval) or is stopped.
///
/// Errors: [`SpokeError::Council`] (already in another council, refused, or not admitted),
/// [`SpokeError::Net`].
pub async fn council_join(data: &Path, ticket: &council::CouncilTicket) -> Result<Vec<council::MemberInfo>, SpokeError> {
    let (key, config) = load(data)?;
    let store = Store::open(&data.join("spoke.db"))?;
    let mut m = stored_membership(&store)?;
    if let Some(id) = m.id()
        && id != ticket.council
    {
        return Err(SpokeError::Council("this spoke already belongs to another council".into()));
    }
    let me = member_info(&key, &config);
    let hello = council::CouncilHello {
        protocol: council::COUNCIL_PROTOCOL,
        council: Some(ticket.council.clone()),
        consent: Some(council::consent(&key, &ticket.council, &me)),
        member: me.clone(),
        entries: m.entries(),
        token: Some(ticket.token.clone()),
    };
    let endpoint = spokes_sync::net::bind_endpoint(key.clone(), (std::net::Ipv4Addr::UNSPECIFIED, 0).into(), vec![]).await.map_err(|e| SpokeError::Net(e.to_string()))?;
    let r = council::exchange(&endpoint, &ticket.member, &hello).await;
    endpoint.close().await;
    let (entries, _) = r.map_err(|e| SpokeError::Council(format!("the inviting spoke refused: {e}")))?;
    let (_, refused) = m.merge(entries);
    // Entries of spokes never admitted are left out (an older spoke may still hold some).
    if let Some(e) = refused.iter().find(|e| !matches!(e, council::CouncilError::UnknownSigner(_))) {
        return Err(SpokeError::Council(format!("the inviting spoke sent a membership that does not verify: {e}")));
    }
    if m.id() != Some(ticket.council.as_str()) || !m.is_member(&me.endpoint) {
        return Err(SpokeError::Council("the inviting spoke answered, but this spoke is not listed as a member".into()));
    }
    store.put_council_entries(&m.entries())?;
    Ok(m.members().into_values().collect())
}

/// The council as this spoke knows it.
#[derive(Debug, Clone)]
pub struct CouncilStatus {
    /// The council ID; `None` outside a council.
    pub id: Option<String>,
    /// The members.
    pub members: Vec<council::MemberInfo>,
    /// Votes to cut members off that have no majority yet: member → voters.
    pub pending_removals: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
}

/// The council as stored here.
pub fn council_status(data: &Path) -> Result<CouncilStatus, SpokeError> {
    load(data)?;
    let store = Store::open(&data.join("spoke.db"))?;
    let m = stored_membership(&store)?;
    Ok(CouncilStatus { id: m.id().map(str::to_owned), members: m.members().into_values().collect(), pending_removals: m.pending_removals() })
}

/// Signs this spoke's vote to cut `endpoint` off the council; the vote spreads with the next
/// exchanges, and the member is cut off once more than half of the other members voted.
/// Returns whether the member is cut off already.
pub fn council_remove(data: &Path, endpoint: &str, reason: &str) -> Result<bool, SpokeError> {
    let (key, _) = load(data)?;
    let store = Store::open(&data.join("spoke.db"))?;
    let mut m = stored_membership(&store)?;
    let Some(id) = m.id().map(str::to_owned) else { return Err(SpokeError::Council("this spoke belongs to no council".into())) };
    if !m.is_member(endpoint) {
        return Err(SpokeError::Council(format!("{endpoint} is not a member of this council")));
    }
    let entry = council::Entry::Remove { council: id, member: endpoint.to_owned(), by: key.public().to_string(), reason: reason.to_owned(), at: chrono::Utc::now().timestamp() };
    let signed = council::SignedEntry::sign(&entry, &key);
    m.add(signed.clone()).map_err(|e| SpokeError::Council(e.to_string()))?;
    store.put_council_entries(&[signed])?;
    Ok(!m.is_member(endpoint))
}

/// Deletes the search index; the next start rebuilds it from the stored blogs.
pub fn reindex(data: &Path) -> Result<(), SpokeError> {
    load(data)?;
    let dir = data.join(search::INDEX_DIR);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SpokeError::Io { path: dir, source: e }),
    }
}

/// One self-test check: its name, and what it found or why it failed.
pub type Check = (&'static str, Result<String, String>);

/// Checks the spoke of `data` as it runs: its database, free disk, reader site (`/health`),
/// sync endpoint (`spokes/sync/1` must answer a hello for a made-up blog with a typed
/// refusal) and council endpoint (`spokes/council/1` must answer a stranger with
/// a typed refusal). Errors only when the data folder cannot be read.
pub async fn self_test(data: &Path) -> Result<Vec<Check>, SpokeError> {
    let (key, config) = load(data)?;
    let mut checks: Vec<Check> = Vec::new();
    let store = Store::open(&data.join("spoke.db"))?;
    checks.push(("database", store.quick_check().map(|n| format!("spoke.db is sound, {n} blogs")).map_err(|e| e.to_string())));
    checks.push(("disk", match fs4::available_space(data) {
        Ok(free) if free < config.admission.min_free_bytes => Err(format!("{} MiB free, below the {} MiB needed to take new blogs", free >> 20, config.admission.min_free_bytes >> 20)),
        Ok(free) => Ok(format!("{} MiB free", free >> 20)),
        Err(e) => Err(e.to_string()),
    }));
    let mut http = config.http;
    if http.ip().is_unspecified() {
        http.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{http}/health");
    let health = tokio::task::spawn_blocking(move || -> Result<String, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(5))).build().into();
        let body = agent.get(&url).call().map_err(|e| format!("{url}: {e}"))?.body_mut().read_to_string().map_err(|e| e.to_string())?;
        let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("{url} did not answer JSON: {e}"))?;
        if v["status"] == "ok" { Ok(format!("{url} answers, {} blogs shown", v["blogs"])) } else { Err(format!("{url} answered {body}")) }
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    checks.push(("reader site", health));
    let me = member_info(&key, &config);
    let endpoint = spokes_sync::net::bind_endpoint(SecretKey::generate(), (std::net::Ipv4Addr::UNSPECIFIED, 0).into(), vec![]).await.map_err(|e| SpokeError::Net(e.to_string()))?;
    let target = council::member_addr(&me).map_err(|e| SpokeError::Net(e.to_string()))?;
    let mut replica = Replica { blog_id: BlogId::generate(), doc: empty_automerge(), certificate: None, statements: vec![], saved: Default::default() };
    let sync = initiate(&endpoint, target, Hello::new(replica.blog_id.clone(), None), &mut replica, &mut State::new(), |_, _, _| Ok(())).await;
    checks.push(("sync endpoint", match sync {
        // Any typed refusal of a made-up blog shows the protocol works (`not-hosted`; in open
        // mode `wrong-certificate`, or `low-disk`).
        Err(SyncError::Remote(e)) => Ok(format!("{} answers spokes/sync/1 (a made-up blog: {})", me.addrs.join(", "), e.code)),
        Err(e) => Err(format!("{}: {e}", me.addrs.join(", "))),
        Ok(_) => Err("it accepted a blog it cannot hold".into()),
    }));
    let stranger = council::MemberInfo { endpoint: endpoint.id().to_string(), addrs: vec![], web: String::new(), name: "self-test".into() };
    let hello = council::CouncilHello { protocol: council::COUNCIL_PROTOCOL, council: None, member: stranger, entries: vec![], token: None, consent: None };
    checks.push(("council endpoint", match council::exchange(&endpoint, &me, &hello).await {
        Err(SyncError::Remote(e)) if matches!(e.code, Code::NotAMember | Code::NoCouncil) => Ok(format!("answers spokes/council/1 ({})", if e.code == Code::NoCouncil { "in no council yet" } else { "in a council" })),
        Err(e) => Err(e.to_string()),
        Ok(_) => Err("it admitted a stranger".into()),
    }));
    endpoint.close().await;
    Ok(checks)
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
    let file = std::fs::File::open(archive).map_err(|source| spokes_core::archive::ArchiveError::Io { path: archive.into(), source })?;
    let a = spokes_core::archive::read_archive_from(file)?;
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
    /// Council offers refused for failing verification: (peer, blog) → the offered heads, not
    /// fetched again until the peer offers something else.
    refused_offers: Mutex<HashMap<(String, BlogId), Vec<String>>>,
    /// Per (peer spoke, blog), the heads both sides held at the end of the last replication
    /// session: while ours are still those, the periodic replication skips that peer (it
    /// pushes to us itself when it has something new).
    in_step: Mutex<HashMap<(String, BlogId), Vec<automerge::ChangeHash>>>,
    /// Test-only dishonesty (feature `dishonest`).
    #[cfg(feature = "dishonest")]
    tamper: Option<dishonest::Tamper>,
    views: RwLock<HashMap<BlogId, Arc<BlogView>>>,
    /// Loaded documents, keyed by blog and by the BLAKE3 hash of the stored bytes they were
    /// loaded from (so a stale entry is never used). Loading is the dominant cost of a session.
    docs: Mutex<HashMap<BlogId, ([u8; 32], automerge::AutoCommit)>>,
    commit_lock: Mutex<()>,
    endpoint_id: String,
    replicate: mpsc::UnboundedSender<(BlogId, Option<String>)>,
    name: String,
    /// Bumped whenever what readers are shown may have changed ([`http::SpokeView::generation`]).
    generation: std::sync::atomic::AtomicU64,
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
    tasks: Vec<tokio::task::JoinHandle<()>>,
    inner: Arc<Inner>,
}

impl RunningSpoke {
    /// A ticket that admits one new writer.
    pub fn invite(&self, uses: u32) -> Result<Ticket, SpokeError> {
        let token = self.inner.store.create_invite(uses, None, None)?;
        Ok(Ticket { v: 1, endpoint: self.endpoint_id.to_string(), addrs: self.p2p_addrs.clone(), token: Some(token), name: Some(self.inner.name.clone()), web: Some(self.web.clone()) })
    }
    /// Stops serving and closes the endpoint.
    pub async fn shutdown(self) {
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
    if let Some(i) = overrides.replicate_interval_secs {
        config.replicate_interval_secs = i;
    }
    if let Some(i) = overrides.council_interval_secs {
        config.council.interval_secs = i;
    }
    let store = Store::open(&data.join("spoke.db"))?;
    let search = Arc::new(search::SearchIndex::open(data)?);
    let endpoint = spokes_sync::net::bind_endpoint(key.clone(), config.p2p, vec![ALPN.to_vec()]).await.map_err(|e| SpokeError::Net(e.to_string()))?;
    let p2p_addrs = endpoint.bound_sockets();
    let listener = tokio::net::TcpListener::bind(config.http).await.map_err(|e| SpokeError::Net(format!("cannot listen on {}: {e}", config.http)))?;
    let http_addr = listener.local_addr().map_err(|e| SpokeError::Net(e.to_string()))?;
    let web = config.ticket_web(http_addr);
    let addrs: Vec<String> = if config.public_addrs.is_empty() {
        p2p_addrs.iter().map(|a| if a.ip().is_unspecified() { SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), a.port()) } else { *a }).map(|a| a.to_string()).collect()
    } else {
        config.public_addrs.iter().map(|a| a.to_string()).collect()
    };
    let me = council::MemberInfo { endpoint: key.public().to_string(), addrs, web: web.clone(), name: config.name.clone() };
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
        #[cfg(feature = "dishonest")]
        tamper: dishonest::Tamper::from_env(),
        views: RwLock::new(HashMap::new()),
        docs: Mutex::new(HashMap::new()),
        commit_lock: Mutex::new(()),
        endpoint_id: key.public().to_string(),
        replicate: tx,
        name: config.name.clone(),
        generation: Default::default(),
    });
    for id in inner.store.blog_ids()? {
        inner.refresh_view(&id);
    }
    // Posts of blogs dropped while the spoke was stopped leave the index.
    for b in search.blogs() {
        if http::SpokeView::blog(inner.as_ref(), &b).is_none() {
            let _ = inner.index_tx.send((b, None));
        }
    }
    inner.update_gauges();
    let router = Router::builder(endpoint.clone())
        .accept(ALPN, SyncHandler { inner: inner.clone() })
        .accept(spokes_sync::drafts::DRAFTS_ALPN, DraftsHandler { inner: inner.clone() })
        .accept(spokes_sync::images::IMAGES_ALPN, ImagesHandler { inner: inner.clone() })
        .accept(council::COUNCIL_ALPN, CouncilHandler { inner: inner.clone() })
        .spawn();
    let app = http::router(http::AppState::new(inner.clone() as Arc<dyn http::SpokeView>));
    let http_task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("reader site stopped: {e}");
        }
    });
    let repl_task = tokio::spawn(replication_loop(inner.clone(), endpoint.clone(), rx, Duration::from_secs(config.replicate_interval_secs.max(1))));
    let index_task = tokio::spawn(search::indexer(search, index_rx, Duration::from_millis(200)));
    let council_task = tokio::spawn(council_loop(inner.clone(), endpoint, Duration::from_secs(config.council.interval_secs.max(1))));
    let watch_task = tokio::spawn(watch_loop(inner.clone()));
    Ok(RunningSpoke { http_addr, endpoint_id: key.public(), p2p_addrs, web, router, tasks: vec![http_task, repl_task, index_task, council_task, watch_task], inner })
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

/// An iroh protocol handler over the spoke's shared state (its `accept` is written out).
macro_rules! protocol_handler {
    ($name:ident) => {
        #[derive(Clone)]
        struct $name {
            inner: Arc<Inner>,
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

// Answers `spokes/sync/1`.
protocol_handler!(SyncHandler);

impl ProtocolHandler for SyncHandler {
    async fn accept(&self, connection: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        let peer = connection.remote_id().to_string();
        if self.inner.store.is_blocked(&peer).unwrap_or(false) {
            connection.close(1u32.into(), b"blocked");
            return Ok(());
        }
        match respond(self.inner.as_ref(), connection).await {
            Ok(o) => {
                self.inner.metrics.sync("ok");
                tracing::info!(new_changes = o.new_changes, "sync session done")
            }
            Err(e) => {
                self.inner.metrics.sync(if matches!(e, SyncError::Refused(_)) { "refused" } else { "failed" });
                tracing::warn!("sync session failed: {e}")
            }
        }
        Ok(())
    }
}

// Answers `spokes/drafts/1`.
protocol_handler!(DraftsHandler);

impl ProtocolHandler for DraftsHandler {
    async fn accept(&self, connection: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        match spokes_sync::drafts::respond(self.inner.as_ref(), connection).await {
            Ok(n) => tracing::info!(returned = n, "drafts exchange done"),
            Err(e) => tracing::warn!("drafts exchange failed: {e}"),
        }
        Ok(())
    }
}

// Answers `spokes/images/1`.
protocol_handler!(ImagesHandler);

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
            return Err(RemoteError::new(Code::NotHosted, "this spoke does not host that blog"));
        };
        let linked: Vec<ImageName> = offered.iter().filter(|n| view.images.contains(*n)).cloned().collect();
        let held = self.store.has_images(blog, &linked).map_err(|e| RemoteError::new(Code::Internal, e.to_string()))?;
        Ok(linked.into_iter().filter(|n| !held.contains(n)).collect())
    }
    fn sendable(&self, blog: &BlogId, wanted: &[ImageName]) -> Vec<ImageName> {
        // Readers' rule: only pictures a published post of a shown blog shows.
        let Some(view) = http::SpokeView::blog(self, blog) else { return vec![] };
        let shown: Vec<ImageName> = wanted.iter().filter(|n| view.images.contains(*n)).cloned().collect();
        let held = self.store.has_images(blog, &shown).unwrap_or_default();
        shown.into_iter().filter(|n| held.contains(n)).collect()
    }
    fn get(&self, blog: &BlogId, name: &ImageName) -> Option<Vec<u8>> {
        self.store.image(blog, name).ok().flatten()
    }
    fn put(&self, blog: &BlogId, name: &ImageName, bytes: &[u8]) -> Result<(), RemoteError> {
        self.store.put_image(blog, name, bytes).map_err(|e| RemoteError::new(Code::Internal, e.to_string()))
    }
}

impl spokes_sync::drafts::DraftsHost for Inner {
    fn exchange(&self, peer: &str, blog: &BlogId, sealed: Option<&[u8]>) -> Result<Vec<Vec<u8>>, RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        let Some(b) = self.store.blog(blog).map_err(|e| internal(&e))? else {
            return Err(RemoteError::new(Code::NotHosted, "this spoke does not host that blog"));
        };
        if b.status != BlogStatus::Active {
            return Err(RemoteError::new(Code::Suspended, "this blog is suspended on this spoke"));
        }
        let mut device = None;
        if let Some(sealed) = sealed {
            match spokes_core::seal::check_sealer(sealed, &b.certificate) {
                Ok((signer, at)) => {
                    self.store.put_sealed_drafts(blog, &signer, sealed, at).map_err(|e| internal(&e))?;
                    device = Some(signer);
                }
                Err(e) => {
                    let _ = self.store.record_refusal(peer, Some(blog), Code::BadSignature, &e.to_string());
                    return Err(RemoteError::new(Code::BadSignature, e.to_string()));
                }
            }
        }
        self.store.sealed_drafts(blog, device.as_deref(), spokes_sync::drafts::MAX_DEVICES).map_err(|e| internal(&e))
    }
}

impl Inner {
    fn load_replica(&self, blog_id: &BlogId, peer: &str) -> Result<Option<(Replica, State)>, RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        let Some(b) = self.store.blog(blog_id).map_err(|e| internal(&e))? else { return Ok(None) };
        if b.status != BlogStatus::Active {
            return Err(RemoteError::new(Code::Suspended, "this blog is suspended on this spoke"));
        }
        let doc = self.document(blog_id, &b.document).map_err(|e| internal(&e))?;
        let statements = self.store.statements(blog_id).map_err(|e| internal(&e))?;
        let state = self
            .store
            .sync_state(peer, blog_id)
            .map_err(|e| internal(&e))?
            .and_then(|s| State::decode(&s).ok())
            .unwrap_or_default();
        #[allow(unused_mut)]
        // The stored bytes load to exactly this document: a peer that has nothing gets them as
        // they are.
        let mut replica = Replica { blog_id: blog_id.clone(), doc, certificate: Some(b.certificate), statements, saved: spokes_sync::SavedDoc::known(b.document) };
        #[cfg(feature = "dishonest")]
        if let Some(t) = &self.tamper
            && !peer.is_empty()
        {
            t.apply(&mut replica);
            replica.saved = Default::default();
        }
        Ok(Some((replica, state)))
    }

    /// Whether the data folder's disk has room for a new blog.
    fn room_for_new_blog(&self) -> Result<(), RemoteError> {
        let min = self.config.admission.min_free_bytes;
        match fs4::available_space(&self.data) {
            Ok(free) if free < min => Err(RemoteError::new(Code::LowDisk, "this spoke is low on disk space and takes no new blogs for now; try another spoke")),
            _ => Ok(()),
        }
    }

    /// Takes a blog not held yet, as `admission` allows.
    fn admit_new(&self, admission: Admission<'_>, blog_id: &BlogId, cert: &spokes_core::Certificate) -> Result<(), RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        let dropped = || RemoteError::new(Code::NotHosted, "this spoke's operator removed this blog");
        match admission {
            Admission::Writer(Some(token)) => {
                self.room_for_new_blog()?;
                if !self.store.admit(token, blog_id, cert).map_err(|e| internal(&e))? {
                    return Err(RemoteError::new(Code::BadInvite, "this invite is unknown, used up or expired; ask the spoke's operator for a new one"));
                }
            }
            Admission::Writer(None) if self.config.admission.mode == config::AdmissionMode::Open => {
                self.room_for_new_blog()?;
                if !self.store.admit_open(blog_id, cert).map_err(|e| internal(&e))? {
                    return Err(dropped());
                }
            }
            Admission::Mirror => {
                // Copies for the council keep to the same disk rules as blogs writers bring,
                // and to a number the operator chose: a member cannot fill this spoke.
                self.room_for_new_blog()?;
                let max = self.config.council.max_mirrored_blogs;
                if max > 0 && self.store.mirror_count().map_err(|e| internal(&e))? >= max {
                    return Err(RemoteError::new(Code::Quota, format!("this spoke keeps copies of at most {max} blogs of its council")));
                }
                if !self.store.add_mirror(blog_id, cert).map_err(|e| internal(&e))? {
                    return Err(dropped());
                }
            }
            Admission::Writer(None) | Admission::Replica => return Err(RemoteError::new(Code::NotHosted, "this spoke does not host this blog")),
        }
        Ok(())
    }

    /// Refuses a merged document (hosted, or a copy for the council) over the post or size quota. Posts count when
    /// published: an unpublished post stays in the document (for its history) but counts only
    /// in its size.
    fn check_quota(&self, doc: &automerge::AutoCommit, bytes: usize) -> Result<(), RemoteError> {
        let a = &self.config.admission;
        if a.max_bytes > 0 && bytes as u64 > a.max_bytes {
            return Err(RemoteError::new(Code::Quota, format!("this blog would take {bytes} bytes here; this spoke allows {} per blog", a.max_bytes)));
        }
        let published = spokes_core::doc::published_count(doc);
        if a.max_posts > 0 && published as u64 > a.max_posts {
            return Err(RemoteError::new(Code::Quota, format!("this blog would have {published} published posts here; this spoke allows {} per blog", a.max_posts)));
        }
        Ok(())
    }

    /// Whether `peer` is exempt from the rate quotas for `blog_id`: one of the blog's own
    /// spokes, or a council member (their sessions replicate; they are not publishing).
    /// Sessions of blogs not hosted here (council copies) are not counted either.
    fn rate_exempt(&self, peer: &str, blog_id: &BlogId) -> bool {
        let Some(view) = http::SpokeView::blog(self, blog_id) else { return true };
        !view.hosted || view.spokes.iter().any(|s| s.endpoint == peer) || self.membership().is_ok_and(|m| m.is_member(peer))
    }
    /// The council membership, from the store. Entries are only ever added, so their count
    /// tells whether the cached membership is current (the `spoke council` commands write the
    /// database beside the running spoke).
    fn membership(&self) -> Result<council::Membership, RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        let count = self.store.council_entry_count().map_err(|e| internal(&e))?;
        let mut cache = self.council.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((n, m)) = cache.as_ref()
            && *n == count
        {
            return Ok(m.clone());
        }
        let entries = self.store.council_entries().map_err(|e| internal(&e))?;
        let mut m = cache.as_ref().map(|(_, m)| m.clone()).unwrap_or_default();
        let (_, refused) = m.merge(entries);
        if let Some(e) = refused.first() {
            tracing::warn!("a stored council entry does not verify: {e}");
        }
        *cache = Some((count, m.clone()));
        Ok(m)
    }

    /// Merges and stores membership entries a peer sent.
    fn merge_entries(&self, peer: &str, entries: Vec<council::SignedEntry>) {
        let Ok(mut m) = self.membership() else { return };
        let (new, refused) = m.merge(entries);
        if let Some(e) = refused.iter().find(|e| !matches!(e, council::CouncilError::OtherCouncil)) {
            let _ = self.store.record_refusal(peer, None, Code::BadCouncilEntry, &e.to_string());
        }
        if new > 0
            && let Err(e) = self.store.put_council_entries(&m.entries())
        {
            tracing::error!("cannot store council entries: {e}");
        }
    }

    /// Merges a verified replica into the stored blog and records the sync state.
    fn persist(&self, peer: &str, admission: Admission<'_>, replica: &mut Replica, state: &State, outcome: &Outcome) -> Result<(), RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        // A dishonest spoke serves its tampering but keeps its storage as it was, so that a
        // test can switch kinds of tampering (or honesty) back on cleanly.
        #[cfg(feature = "dishonest")]
        if self.tamper.is_some() {
            return Ok(());
        }
        let _guard = self.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
        let cert = replica.certificate.clone().ok_or_else(|| RemoteError::new(Code::WrongCertificate, "no certificate"))?;
        let stored = self.store.blog(&replica.blog_id).map_err(|e| internal(&e))?;
        let stored_heads = match &stored {
            Some(b) => self.stored_heads(&replica.blog_id, &b.document).map_err(|e| internal(&e))?,
            None => Vec::new(),
        };
        let hosted = match &stored {
            Some(b) => b.kind == BlogKind::Hosted,
            None => !matches!(admission, Admission::Mirror),
        };
        // A blog is taken only with content its author signed: the session then checked the
        // document's blog ID binding and owner against the certificate. (An empty session
        // with a stranger's certificate would otherwise bind the ID to the stranger.)
        if stored.is_none() && outcome.new_changes == 0 {
            return Err(RemoteError::new(Code::NotHosted, "this spoke takes a new blog only together with its signed revisions"));
        }
        // Nothing new: nothing is written (a session that brought nothing costs no disk).
        if stored.is_some() && outcome.new_changes == 0 && outcome.new_statements.is_empty() && !outcome.certificate_changed {
            return Ok(());
        }
        // The usual case: the session started from what is stored, so its result contains it
        // and is taken as it is (the session's document, not a copy: the session is over).
        // Otherwise (another session stored something meanwhile) the two are merged.
        let mut incoming = std::mem::replace(&mut replica.doc, empty_automerge());
        let mut current;
        let contains_stored = stored_heads.iter().all(|h| incoming.get_change_meta_by_hash(h).is_some());
        let stored_bytes = stored.as_ref().map_or(&[][..], |b| &b.document);
        let (increments, increment_bytes) = if stored.is_some() { self.store.increments(&replica.blog_id).map_err(|e| internal(&e))? } else { (0, 0) };
        // What to store: the bytes received when they complete the stored document exactly
        // (a blog arriving whole; or a few changes, appended), else the changes after what is
        // stored, or a full save. Appended chunks are folded into a full save once they
        // outweigh it or pass 256.
        let full_save_due = stored_heads.is_empty() || increments >= 256 || increment_bytes as usize > stored_bytes.len() / 2;
        let mut voided: Vec<spokes_core::SignedStatement> = Vec::new();
        let write = if outcome.pruned {
            // The certificate declares a device lost or stolen: what is stored and what the
            // session brought are merged, then everything only that key signed is left out
            // (the session pruned its copy; another session may have stored more meanwhile).
            // The whole document is written again: appending cannot remove changes.
            current = self.document(&replica.blog_id, stored_bytes).map_err(|e| internal(&e))?;
            current.merge(&mut incoming).map_err(|e| internal(&e))?;
            let mut all = self.store.statements(&replica.blog_id).map_err(|e| internal(&e))?;
            all.extend(outcome.new_statements.iter().cloned());
            let pruned = spokes_core::statement::prune_lost(&mut current, &all, &cert, &replica.blog_id).map_err(|e| internal(&e))?;
            if let Some(doc) = pruned.doc {
                current = doc;
            }
            voided = pruned.voided;
            store::DocumentWrite::Replace(current.save())
        } else if contains_stored {
            current = incoming;
            match &outcome.received {
                _ if outcome.new_changes == 0 => store::DocumentWrite::Keep,
                Some(r) if r.whole => store::DocumentWrite::Replace(r.bytes.clone()),
                Some(r) if !full_save_due && r.base_heads.len() == stored_heads.len() && r.base_heads.iter().all(|h| stored_heads.contains(h)) => store::DocumentWrite::Append(r.bytes.clone()),
                _ if full_save_due => store::DocumentWrite::Replace(current.save()),
                _ => store::DocumentWrite::Append(current.save_after(&stored_heads)),
            }
        } else {
            // The session began before another one stored more: what is stored, plus what
            // this session brought (if anything).
            current = self.document(&replica.blog_id, stored_bytes).map_err(|e| internal(&e))?;
            if outcome.new_changes == 0 {
                store::DocumentWrite::Keep
            } else {
                current.merge(&mut incoming).map_err(|e| internal(&e))?;
                if full_save_due { store::DocumentWrite::Replace(current.save()) } else { store::DocumentWrite::Append(current.save_after(&stored_heads)) }
            }
        };
        let size = write.len_after(stored_bytes.len());
        if outcome.new_changes > 0 {
            // Copies for the council keep to the per-blog quota too.
            self.check_quota(&current, size)?;
        }
        if hosted && outcome.new_changes > 0 && matches!(admission, Admission::Writer(_)) && !self.rate_exempt(peer, &replica.blog_id) {
            self.rates.publish(&replica.blog_id)?;
        }
        if stored.is_none() {
            self.admit_new(admission, &replica.blog_id, &cert)?;
        }
        self.store.save_session(&replica.blog_id, &write, &cert, store::StatementChanges { added: &outcome.new_statements, voided: &voided }, peer, &state.encode()).map_err(|e| internal(&e))?;
        if !voided.is_empty() {
            // Sealed drafts of a lost device are the thief's to write from now on.
            self.store.drop_sealed_drafts(&replica.blog_id, &cert.lost_keys()).map_err(|e| internal(&e))?;
        }
        self.touch();
        // The readers' view is rebuilt from the merged document under the commit lock, so views
        // of concurrent sessions are installed in commit order.
        if outcome.new_changes > 0 || outcome.certificate_changed || stored.is_none() {
            let statements = self.store.statements(&replica.blog_id).map_err(|e| internal(&e))?;
            let mut merged = Replica { blog_id: replica.blog_id.clone(), doc: current, certificate: Some(cert), statements, saved: Default::default() };
            self.install_view(&mut merged);
            current = merged.doc;
        }
        // Cached under the hash of the bytes now stored, as `document` computes it.
        self.cache_document(&replica.blog_id, write.hash_after(stored.as_ref().map_or(&[][..], |b| &b.document)), current);
        drop(_guard);
        if stored.is_none() {
            self.update_gauges();
        }
        if outcome.new_changes > 0 {
            let _ = self.replicate.send((replica.blog_id.clone(), Some(peer.to_owned())));
        }
        Ok(())
    }

    /// The heads of the document stored as `bytes`, from the cache when it holds exactly
    /// these bytes (no copy of the document), else from [`Inner::document`].
    fn stored_heads(&self, blog_id: &BlogId, bytes: &[u8]) -> Result<Vec<automerge::ChangeHash>, spokes_core::doc::DocError> {
        if bytes.is_empty() {
            return Ok(Vec::new());
        }
        let hash: [u8; 32] = blake3::hash(bytes).into();
        if let Some((h, doc)) = self.docs.lock().unwrap_or_else(|p| p.into_inner()).get_mut(blog_id)
            && *h == hash
        {
            return Ok(doc.get_heads());
        }
        Ok(self.document(blog_id, bytes)?.get_heads())
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

    /// Verifies `replica` and installs its view for readers, built from the current one (see
    /// [`BlogView::verify_and_build`]): the only place a spoke makes what it serves, and a
    /// view shows posts only when made from a `VerifiedReplica`.
    fn install_view(&self, replica: &mut Replica) {
        let previous = self.views.read().unwrap_or_else(|p| p.into_inner()).get(&replica.blog_id).cloned();
        let mut view = BlogView::rebuild(replica, previous.as_deref());
        view.hosted = self.store.kind(&replica.blog_id).ok().flatten().is_none_or(|k| k == BlogKind::Hosted);
        let view = Arc::new(view);
        self.views.write().unwrap_or_else(|p| p.into_inner()).insert(replica.blog_id.clone(), view.clone());
        self.touch();
        let _ = self.index_tx.send((replica.blog_id.clone(), Some(view)));
    }

    /// Stops showing a blog (suspended or dropped).
    /// Marks what readers are shown as changed (responses made before are not reused).
    fn touch(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn remove_view(&self, blog_id: &BlogId) {
        self.touch();
        if self.views.write().unwrap_or_else(|p| p.into_inner()).remove(blog_id).is_some() {
            let _ = self.index_tx.send((blog_id.clone(), None));
        }
        self.docs.lock().unwrap_or_else(|p| p.into_inner()).remove(blog_id);
    }

    /// Refreshes the gauges that are not counted as they happen.
    fn update_gauges(&self) {
        if let Ok((hosted, mirror)) = self.store.blog_counts() {
            self.metrics.set_blogs(hosted, mirror);
        }
        if let Ok(free) = fs4::available_space(&self.data) {
            self.metrics.disk_free_bytes.set(free.min(i64::MAX as u64) as i64);
        }
        self.metrics.search_posts.set(self.search.len() as i64);
    }

    /// The catalog offered to council members: every blog shown here, with its heads.
    fn offered_catalog(&self) -> council::Catalog {
        let views: Vec<Arc<BlogView>> = self.views.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        let mut blogs: Vec<council::CatalogEntry> = views
            .iter()
            .filter(|v| !v.heads.is_empty())
            .map(|v| council::CatalogEntry { blog_id: v.blog_id.clone(), heads: v.heads.iter().map(|h| h.to_string()).collect() })
            .collect();
        #[cfg(feature = "dishonest")]
        if self.tamper.is_some() {
            for b in &mut blogs {
                if let Ok(Some((mut r, _))) = self.load_replica(&b.blog_id, "catalog") {
                    let mut heads = r.doc.get_heads();
                    heads.sort();
                    b.heads = heads.iter().map(|h| h.to_string()).collect();
                }
            }
        }
        blogs.sort_by(|a, b| a.blog_id.cmp(&b.blog_id));
        council::Catalog { blogs }
    }
}

impl Host for Inner {
    fn open(&self, peer: &str, hello: &Hello) -> Result<(Replica, State), RemoteError> {
        if let Some(x) = self.load_replica(&hello.blog_id, peer)? {
            // Counted per peer before anything is verified: a stranger's sessions spend only
            // its own allowance.
            if !self.rate_exempt(peer, &hello.blog_id) {
                self.rates.open_session(peer, &hello.blog_id)?;
            }
            return Ok(x);
        }
        let empty = || (Replica { blog_id: hello.blog_id.clone(), doc: empty_automerge(), certificate: None, statements: vec![], saved: Default::default() }, State::new());
        match &hello.token {
            Some(t) if self.store.invite_valid(t).unwrap_or(false) => {
                self.room_for_new_blog()?;
                Ok(empty())
            }
            Some(_) => Err(RemoteError::new(Code::BadInvite, "this invite is unknown, used up or expired; ask the spoke's operator for a new one")),
            None if self.config.admission.mode == config::AdmissionMode::Open && !self.store.is_dropped(&hello.blog_id).unwrap_or(true) => {
                self.room_for_new_blog()?;
                Ok(empty())
            }
            None => Err(RemoteError::new(Code::NotHosted, "this spoke does not host this blog")),
        }
    }

    fn commit(&self, peer: &str, hello: &Hello, replica: &mut Replica, state: &State, outcome: &Outcome) -> Result<(), RemoteError> {
        self.persist(peer, Admission::Writer(hello.token.as_deref()), replica, state, outcome)
    }

    fn record_failure(&self, peer: &str, blog: Option<&BlogId>, error: &SyncError) {
        if let Some(b) = blog
            && let Err(e) = self.store.forget_sync_state(peer, b)
        {
            tracing::error!("cannot reset a sync state: {e}");
        }
        self.metrics.refusal(error.code());
        let reason = error.to_string();
        if let Err(e) = self.store.record_refusal(peer, blog, error.code(), &reason) {
            tracing::error!("cannot record refusal: {e}");
        }
        tracing::warn!(peer, code = error.code().as_str(), "refused: {reason}");
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
        // Only what readers are shown: a suspended blog is held but not served.
        let b = self.store.blog(id).ok()?.filter(|b| b.status == BlogStatus::Active)?;
        let statements = self.store.statements(id).ok()?;
        Some(view::Bundle::from_parts(&b.blog_id, &b.certificate, &b.document, &statements))
    }
    fn search(&self, query: &str, limit: usize) -> Result<Vec<search::Hit>, String> {
        let started = std::time::Instant::now();
        let r = self.search.search(query, limit, &|b| http::SpokeView::blog(self, b)).map_err(|e| e.to_string());
        self.metrics.search_queries.inc();
        self.metrics.search_seconds.observe(started.elapsed().as_secs_f64());
        r
    }
    fn members(&self) -> Vec<council::MemberInfo> {
        self.membership().map(|m| m.members().into_values().collect()).unwrap_or_default()
    }
    fn metrics(&self) -> String {
        self.metrics.encode()
    }
    fn count_response(&self, status: u16) {
        self.metrics.http(status);
    }
    fn generation(&self) -> u64 {
        // The council's entries count too: pages link to the members' reader sites.
        self.generation.load(std::sync::atomic::Ordering::Relaxed).wrapping_add(self.store.council_entry_count().unwrap_or(0) as u64 * 1_000_003)
    }
}

// Answers `spokes/council/1`.
protocol_handler!(CouncilHandler);

impl ProtocolHandler for CouncilHandler {
    async fn accept(&self, connection: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        if let Err(e) = council::respond(self.inner.as_ref(), connection).await {
            tracing::debug!("council exchange failed: {e}");
        }
        Ok(())
    }
}

impl council::CouncilHost for Inner {
    fn key(&self) -> &SecretKey {
        &self.key
    }
    fn membership(&self) -> Result<council::Membership, RemoteError> {
        Inner::membership(self)
    }
    fn store_entries(&self, entries: &[council::SignedEntry]) -> Result<(), RemoteError> {
        self.store.put_council_entries(entries).map_err(|e| RemoteError::new(Code::Internal, e.to_string()))
    }
    fn take_invite(&self, token: &str) -> Result<bool, RemoteError> {
        self.store.take_council_invite(token).map_err(|e| RemoteError::new(Code::Internal, e.to_string()))
    }
    fn blocked(&self, peer: &str) -> bool {
        self.store.is_blocked(peer).unwrap_or(false)
    }
    fn catalog(&self) -> council::Catalog {
        self.offered_catalog()
    }
    fn refused(&self, peer: &str, code: Code, reason: &str) {
        self.metrics.refusal(code);
        let _ = self.store.record_refusal(peer, None, code, reason);
        tracing::warn!(peer, code = code.as_str(), "council exchange refused: {reason}");
    }
}

/// Pulls from the council upstreams every `every`. Each upstream is pulled by a task of its
/// own, started again once the previous pull from it ended, so an upstream that vanished in
/// the middle of a pull (its sessions wait for QUIC's idle timeout) never delays the others.
async fn council_loop(inner: Arc<Inner>, endpoint: Endpoint, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pulling: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
    loop {
        tick.tick().await;
        pulling.retain(|_, t| !t.is_finished());
        let Ok(m) = inner.membership() else { continue };
        let members = m.members();
        inner.metrics.council_members.set(members.len() as i64);
        if !members.contains_key(&inner.endpoint_id) {
            continue;
        }
        let ups = council::choose_upstreams(&members, &inner.config.council.upstreams, &inner.endpoint_id);
        for up in ups {
            if pulling.contains_key(&up.endpoint) || inner.store.is_blocked(&up.endpoint).unwrap_or(false) {
                continue;
            }
            let (inner, endpoint, key) = (inner.clone(), endpoint.clone(), up.endpoint.clone());
            pulling.insert(
                key,
                tokio::spawn(async move {
                    match pull_from(&inner, &endpoint, &up).await {
                        Ok(n) => {
                            inner.metrics.council_pull("ok");
                            if n > 0 {
                                tracing::info!(upstream = up.name, blogs = n, "pulled from the council");
                            }
                        }
                        Err(e) => {
                            inner.metrics.council_pull("failed");
                            tracing::debug!(upstream = up.name, "council pull failed: {e}");
                        }
                    }
                }),
            );
        }
    }
}

/// One exchange with `up`, then a sync session for each blog it offers that differs here.
/// Returns how many blogs changed here.
async fn pull_from(inner: &Arc<Inner>, endpoint: &Endpoint, up: &council::MemberInfo) -> Result<usize, SyncError> {
    let m = inner.membership().map_err(SyncError::Refused)?;
    let hello = council::CouncilHello { protocol: council::COUNCIL_PROTOCOL, council: m.id().map(str::to_owned), member: inner.me.clone(), entries: m.entries(), token: None, consent: None };
    let (entries, catalog) = council::exchange_entries(endpoint, up, &hello).await?;
    // Merged even with a refusal: a spoke the council cut off learns it from the votes.
    inner.merge_entries(&up.endpoint, entries);
    let catalog = catalog.map_err(SyncError::Remote)?;
    let addr = council::member_addr(up)?;
    let mut changed = 0;
    for offered in catalog.blogs {
        match pull_blog(inner, endpoint, up, addr.clone(), &offered).await {
            Ok(true) => changed += 1,
            Ok(false) => {}
            // The upstream is gone: the rest waits for the next pull.
            Err(e @ (SyncError::Connect(_) | SyncError::Timeout)) => return Err(e),
            Err(e) => tracing::debug!(upstream = up.name, blog = %offered.blog_id, "council pull of a blog failed: {e}"),
        }
    }
    Ok(changed)
}

/// Pulls one offered blog unless it is the same here, dropped or suspended here, or the
/// upstream rolled it back. Returns whether anything new arrived.
async fn pull_blog(inner: &Arc<Inner>, endpoint: &Endpoint, up: &council::MemberInfo, addr: EndpointAddr, offered: &council::CatalogEntry) -> Result<bool, SyncError> {
    let internal = |e: &dyn std::fmt::Display| SyncError::Refused(RemoteError::new(Code::Internal, e.to_string()));
    let blog = &offered.blog_id;
    let Some(mut theirs) = council::parse_heads(&offered.heads) else {
        inner.refused_blog(&up.endpoint, blog, Code::Malformed, "its catalog names heads that are not change hashes");
        return Ok(false);
    };
    theirs.sort();
    let view = inner.blog(blog);
    match &view {
        Some(v) if v.heads == theirs => {
            inner.store.set_peer_heads(&up.endpoint, blog, &offered.heads).map_err(|e| internal(&e))?;
            return Ok(false);
        }
        // Held but not shown (suspended), or dropped: nothing is taken.
        None if inner.store.kind(blog).map_err(|e| internal(&e))?.is_some() => return Ok(false),
        None if inner.store.is_dropped(blog).map_err(|e| internal(&e))? => return Ok(false),
        _ => {}
    }
    let before = inner.store.peer_heads(&up.endpoint, blog).map_err(|e| internal(&e))?.and_then(|h| council::parse_heads(&h));
    if let Some(before) = &before
        && inner.check_rollback(&up.endpoint, blog, before, &theirs, &offered.heads) == Some(true)
    {
        return Ok(false);
    }
    let key = (up.endpoint.clone(), blog.clone());
    if inner.refused_offers.lock().unwrap_or_else(|p| p.into_inner()).get(&key) == Some(&offered.heads) {
        return Ok(false);
    }
    let outcome = match sync_with(inner, endpoint, blog, &up.endpoint, addr, Admission::Mirror).await {
        Ok(o) => o,
        Err(e) => {
            if matches!(e, SyncError::Refused(_)) {
                inner.refused_offers.lock().unwrap_or_else(|p| p.into_inner()).insert(key, offered.heads.clone());
            }
            return Err(e);
        }
    };
    // Heads this spoke did not hold could only be checked now.
    if let Some(before) = &before
        && inner.check_rollback(&up.endpoint, blog, before, &theirs, &offered.heads) == Some(true)
    {
        return Ok(outcome.new_changes > 0);
    }
    inner.store.set_peer_heads(&up.endpoint, blog, &offered.heads).map_err(|e| internal(&e))?;
    Ok(outcome.new_changes > 0)
}

impl Inner {
    /// Records a refusal about one blog from a peer.
    fn refused_blog(&self, peer: &str, blog: &BlogId, code: Code, reason: &str) {
        self.metrics.refusal(code);
        let _ = self.store.record_refusal(peer, Some(blog), code, reason);
        tracing::warn!(peer, %blog, code = code.as_str(), "refused: {reason}");
    }

    /// Whether `peer`, which offered `before` for `blog`, now offers `now` that drops some of
    /// it; reported once per offered state. `None` when this spoke lacks some of `now`.
    fn check_rollback(&self, peer: &str, blog: &BlogId, before: &[automerge::ChangeHash], now: &[automerge::ChangeHash], now_hex: &[String]) -> Option<bool> {
        let stored = self.store.blog(blog).ok()??;
        let mut doc = self.document(blog, &stored.document).ok()?;
        let r = council::rolled_back(&mut doc, before, now);
        if r == Some(true) && self.rollbacks.lock().unwrap_or_else(|p| p.into_inner()).insert((peer.to_owned(), blog.clone(), now_hex.to_vec())) {
            self.refused_blog(
                peer,
                blog,
                Code::RolledBack,
                &format!(
                    "it offered an older state of this blog than it offered before (it dropped revisions, or replays an old state); nothing was taken from it. Offered heads {}, earlier {}",
                    short_heads(now),
                    short_heads(before)
                ),
            );
        }
        r
    }
}

/// Heads as short hex prefixes, for people.
fn short_heads(heads: &[automerge::ChangeHash]) -> String {
    heads.iter().map(|h| h.to_string().chars().take(12).collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// Follows the operator's moderation (suspend, drop: `spoke blog …` edits the database) and
/// refreshes the gauges, every second.
async fn watch_loop(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let Ok(statuses) = inner.store.statuses() else { continue };
        let held: HashMap<BlogId, (BlogKind, BlogStatus)> = statuses.into_iter().map(|(b, k, s)| (b, (k, s))).collect();
        let shown: Vec<(BlogId, bool)> = inner.views.read().unwrap_or_else(|p| p.into_inner()).iter().map(|(b, v)| (b.clone(), v.hosted)).collect();
        for (b, hosted) in &shown {
            match held.get(b) {
                None => inner.remove_view(b),
                Some((_, status)) if *status != BlogStatus::Active => inner.remove_view(b),
                Some((kind, _)) if (*kind == BlogKind::Hosted) != *hosted => inner.refresh_view(b),
                _ => {}
            }
        }
        for (b, (_, status)) in &held {
            if *status == BlogStatus::Active && !shown.iter().any(|(s, _)| s == b) {
                inner.refresh_view(b);
            }
        }
        inner.update_gauges();
    }
}

async fn replication_loop(inner: Arc<Inner>, endpoint: Endpoint, mut rx: mpsc::UnboundedReceiver<(BlogId, Option<String>)>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    // Blogs with new changes, when to replicate them, and the peer they came from (not sent
    // back to it; `None` once changes came from two peers).
    let mut due: HashMap<BlogId, (tokio::time::Instant, Option<String>)> = HashMap::new();
    let mut passes: u64 = 0;
    loop {
        let next = due.values().map(|(at, _)| *at).min();
        let (blogs, skip, periodic): (Vec<BlogId>, Option<String>, bool) = tokio::select! {
            _ = tick.tick() => {
                passes += 1;
                (inner.store.blog_ids().unwrap_or_default(), None, true)
            }
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
                (vec![b], skip, false)
            }
        };
        // A periodic pass (not one for new changes) skips peers known to be in step, but
        // every tenth pass asks them all, should one have lost data meanwhile.
        for blog in blogs {
            let Some(view) = inner.blog(&blog) else { continue };
            let mut tasks = Vec::new();
            for p in view.spokes.clone() {
                if p.endpoint == inner.endpoint_id || Some(&p.endpoint) == skip.as_ref() {
                    continue;
                }
                if periodic && !passes.is_multiple_of(10) && inner.in_step.lock().unwrap_or_else(|e| e.into_inner()).get(&(p.endpoint.clone(), blog.clone())) == Some(&view.heads) {
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
    if inner.store.is_blocked(&peer.endpoint).unwrap_or(false) {
        return Err(SyncError::Connect("this spoke's operator blocked that spoke".into()));
    }
    let addr = spokes_sync::net::dial_addr(peer).map_err(SyncError::Connect)?;
    let r = sync_with(inner, endpoint, blog, &peer.endpoint, addr, Admission::Replica).await;
    let key = (peer.endpoint.clone(), blog.clone());
    let mut in_step = inner.in_step.lock().unwrap_or_else(|e| e.into_inner());
    match &r {
        Ok(o) if o.heads == o.peer_heads => {
            in_step.insert(key, o.heads.clone());
        }
        _ => {
            in_step.remove(&key);
        }
    }
    drop(in_step);
    r
}

/// A sync session for `blog` with `peer` at `addr`, then the exchange of the pictures the
/// blog links to. With [`Admission::Mirror`], a blog not held yet is pulled as a council copy.
async fn sync_with(inner: &Arc<Inner>, endpoint: &Endpoint, blog: &BlogId, peer: &str, addr: EndpointAddr, admission: Admission<'_>) -> Result<Outcome, SyncError> {
    let loaded = inner.load_replica(blog, peer).map_err(SyncError::Refused)?;
    let (mut replica, mut state) = match (loaded, admission) {
        (Some(x), _) => x,
        (None, Admission::Mirror) => (Replica { blog_id: blog.clone(), doc: empty_automerge(), certificate: None, statements: vec![], saved: Default::default() }, State::new()),
        (None, _) => return Err(SyncError::Connect("blog no longer hosted".into())),
    };
    let peer_id = peer.to_owned();
    let r = initiate(endpoint, addr.clone(), Hello::new(blog.clone(), None), &mut replica, &mut state, |rep, st, out| inner.persist(&peer_id, admission, rep, st, out)).await;
    // Then the images the blog links to, both ways.
    if r.is_ok()
        && let Some(view) = inner.blog(blog)
        && !view.images.is_empty()
    {
        let linked: Vec<ImageName> = view.images.iter().cloned().collect();
        let held = inner.store.has_images(blog, &linked).unwrap_or_default();
        let (have, want): (Vec<ImageName>, Vec<ImageName>) = linked.into_iter().partition(|n| held.contains(n));
        if let Err(e) = spokes_sync::images::exchange(endpoint, addr, blog, inner.as_ref(), have, want).await {
            tracing::debug!(peer, "image replication failed: {e}");
        }
    }
    if let Err(e) = &r {
        if matches!(e, SyncError::Refused(_)) {
            inner.record_failure(peer, Some(blog), e);
        } else if let Err(e) = inner.store.forget_sync_state(peer, blog) {
            tracing::error!("cannot reset a sync state: {e}");
        }
    }
    r
}
