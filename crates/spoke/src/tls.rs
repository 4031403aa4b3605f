//! HTTPS for the reader site: a certificate for the council's zone (`ZONE` and `*.ZONE`, so
//! every blog name under it) from an ACME certificate authority (RFC 8555, through
//! `instant-acme`), whose DNS-01 challenges (RFC 8555 §8.4) are answered with dynamic updates to
//! the same zone ([`crate::dns::Zone`], the channel names already use), and served with rustls.
//!
//! - **Each member gets its own certificate**, with its own key: no member ever holds another's
//!   private key. Its order also names `spoke-ID.ZONE` (the first 12 hex digits of its
//!   endpoint ID), so no two members ask for the same set of names (a CA limits duplicate
//!   certificates, Let's Encrypt to 5 a week).
//! - **Challenges of several members at once** live side by side: each adds its own TXT value at
//!   `_acme-challenge.ZONE` (and `_acme-challenge.spoke-ID.ZONE`) and deletes only that value
//!   afterwards (RFC 2136 §2.5.4), whatever happened.
//! - **Renewal**: a certificate is renewed when fewer than `renew_before_days` days of it are
//!   left (checked at start and every [`CHECK_INTERVAL`]); a failed order is tried again after
//!   [`FIRST_RETRY`], doubling up to [`CHECK_INTERVAL`]. The certificate in use is swapped in
//!   place: connections already open keep theirs.
//! - **Stored** in the data folder's `tls/`: `certificate.pem` (the chain, leaf first, as the CA
//!   sent it), `key.pem` (PKCS #8, mode 0600) and `account.json` (the ACME account: version 1,
//!   the directory URL and instant-acme's credentials; an account for another directory is not
//!   used, a new one is made). Files that cannot be read or do not match are logged and replaced
//!   by a new order; an `account.json` of a later version is refused and left alone.
//! - **Plain HTTP** redirects (308) to HTTPS for every host the certificate covers, except
//!   `/health` (the members' health checks) ([`crate::http`]); other hosts (a writer's own
//!   domain, an IP address) stay on plain HTTP.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How often the certificate's remaining life is checked.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(12 * 3600);
/// The wait after a failed order before the next; it doubles after each failure, up to
/// [`CHECK_INTERVAL`].
pub const FIRST_RETRY: Duration = Duration::from_secs(60);
/// Longest a TLS handshake may take; a client slower than this is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Most TLS handshakes under way at once; more connections wait in the kernel's queue.
pub const MAX_HANDSHAKES: usize = 256;
/// Let's Encrypt's production directory, the default CA.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// `[tls]` of `config.toml`: HTTPS for the reader site. Needs `[dns]` (the certificate's
/// challenges are answered in the council's zone).
///
/// ```toml
/// [tls]
/// https = "0.0.0.0:443"                 # where HTTPS listens
/// https_port = 443                      # the HTTPS port readers use on every member
/// acme_directory = "https://acme-v02.api.letsencrypt.org/directory"
/// contact = ["mailto:ops@spokes.example"]   # where the CA may write about the certificates
/// # acme_root = "pebble-ca.pem"         # a root the CA's own HTTPS is signed by (private or test CAs)
/// renew_before_days = 30                # renew when fewer days are left
/// challenge_delay_secs = 10             # wait after adding a challenge, for secondaries to load it
/// relay = true                          # a relay at /relay for writers whose network blocks UDP
/// ```
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Where HTTPS listens.
    #[serde(default = "default_https")]
    pub https: SocketAddr,
    /// The port readers use for HTTPS on every member: redirects and links name it (443 is
    /// left out of them).
    #[serde(default = "default_https_port")]
    pub https_port: u16,
    /// The ACME directory URL of the certificate authority.
    #[serde(default = "default_directory")]
    pub acme_directory: String,
    /// Contact URLs for the ACME account (`mailto:…`); may be empty.
    #[serde(default)]
    pub contact: Vec<String>,
    /// A PEM file of the root certificate the CA's own HTTPS API is signed by, when that is no
    /// public root (a private CA, or Pebble in tests). A relative path is under the data folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme_root: Option<PathBuf>,
    /// A certificate is renewed when fewer days than this are left of it.
    #[serde(default = "default_renew_before_days")]
    pub renew_before_days: u32,
    /// Seconds to wait after adding the challenges' TXT records before the CA is told to
    /// check them (secondary name servers load the change in that time).
    #[serde(default = "default_challenge_delay")]
    pub challenge_delay_secs: u64,
    /// Whether to run a relay for writers whose network blocks UDP, at `/relay` on this HTTPS
    /// port ([`crate::relay`]); on unless set to `false`.
    #[serde(default = "default_relay")]
    pub relay: bool,
}

fn default_relay() -> bool {
    true
}

fn default_https() -> SocketAddr {
    (std::net::Ipv4Addr::UNSPECIFIED, 443).into()
}
fn default_https_port() -> u16 {
    443
}
fn default_directory() -> String {
    LETS_ENCRYPT.into()
}
fn default_renew_before_days() -> u32 {
    30
}
fn default_challenge_delay() -> u64 {
    10
}

/// Errors of HTTPS.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// `[tls]` is not usable.
    #[error("[tls] in config.toml: {0}")]
    Config(String),
    /// A stored file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A stored or received certificate or key is not usable (not PEM, no certificate, a key
    /// that does not match, a date that cannot be read).
    #[error("the certificate is not usable: {0}")]
    Certificate(String),
    /// The certificate authority refused or failed (its problem document, RFC 7807, or the
    /// transport error).
    #[error("the certificate authority: {0}")]
    Acme(String),
    /// The challenge's TXT record could not be written in the council's zone.
    #[error(transparent)]
    Dns(#[from] crate::dns::DnsError),
    /// `account.json` of a later version than this spoke knows.
    #[error("{0}: written by a later version of spoke (account version {1}); update spoke, or move the file away to make a new account")]
    LaterAccount(PathBuf, u32),
}

impl From<instant_acme::Error> for TlsError {
    fn from(e: instant_acme::Error) -> Self {
        TlsError::Acme(e.to_string())
    }
}

/// What a certificate covers and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Its DNS names (subject alternative names), lowercase, as written (`*.zone` for the
    /// wildcard).
    pub names: Vec<String>,
    /// The end of its validity (`notAfter`), Unix seconds.
    pub not_after: i64,
}

impl CertInfo {
    /// Whether the certificate covers `host` (no port, no final dot): one of its names, or one
    /// label under a wildcard name (RFC 6125 §6.4.3).
    pub fn covers(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.names.iter().any(|n| match n.strip_prefix("*.") {
            Some(parent) => host.split_once('.').is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
            None => *n == host,
        })
    }

    /// The end of its validity as an RFC 3339 date, for people.
    pub fn until(&self) -> String {
        chrono::DateTime::from_timestamp(self.not_after, 0).map_or_else(|| self.not_after.to_string(), |d| d.to_rfc3339())
    }

    /// Whether a new certificate is needed for `wanted` names at Unix time `now`: one of them
    /// is not covered, or fewer than `renew_before_days` days are left.
    pub fn needs_renewal(&self, wanted: &[String], now: i64, renew_before_days: u32) -> bool {
        wanted.iter().any(|w| !self.names.contains(w)) || self.not_after - now < i64::from(renew_before_days) * 86_400
    }
}

/// The certificate in use, swapped in place on renewal; rustls asks it at every handshake.
#[derive(Debug, Default)]
pub struct Certificates {
    current: RwLock<Option<(Arc<CertifiedKey>, CertInfo)>>,
    /// How many certificates were put in use: pages made before one was (their links name
    /// `http://` or the old certificate's names) are not reused after it.
    installed: std::sync::atomic::AtomicU64,
}

impl Certificates {
    /// What the certificate in use covers, if there is one.
    pub fn info(&self) -> Option<CertInfo> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).as_ref().map(|(_, i)| i.clone())
    }

    /// Puts `key` in use.
    pub fn install(&self, key: Arc<CertifiedKey>, info: CertInfo) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some((key, info));
        self.installed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many certificates were put in use so far (a part of the site's generation).
    pub fn installed(&self) -> u64 {
        self.installed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a certificate in use covers `host` (asked for every plain HTTP request: read in
    /// place, not copied).
    pub fn covers(&self, host: &str) -> bool {
        self.current.read().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|(_, i)| i.covers(host))
    }
}

impl ResolvesServerCert for Certificates {
    /// The certificate in use, whatever name the client asked for (one it does not cover fails
    /// the client's check, as it should); none yet: the handshake fails.
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).as_ref().map(|(k, _)| k.clone())
    }
}

/// The crypto provider every TLS part of the spoke uses (ring).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate chain and its private key, both PEM, made usable: the key checked against the
/// leaf, the leaf's names and `notAfter` read. Errors: [`TlsError::Certificate`].
pub fn parse(chain_pem: &[u8], key_pem: &[u8]) -> Result<(Arc<CertifiedKey>, CertInfo), TlsError> {
    let bad = |e: &dyn std::fmt::Display| TlsError::Certificate(e.to_string());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem).collect::<Result<_, _>>().map_err(|e| bad(&e))?;
    let leaf = chain.first().ok_or_else(|| TlsError::Certificate("no certificate in the chain".into()))?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf).map_err(|e| bad(&e))?;
    let not_after = cert.validity().not_after.timestamp();
    let mut names: Vec<String> = match cert.subject_alternative_name().map_err(|e| bad(&e))? {
        Some(san) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_ascii_lowercase()),
                _ => None,
            })
            .collect(),
        None => vec![],
    };
    names.sort();
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| bad(&e))?;
    let certified = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| bad(&e))?;
    Ok((Arc::new(certified), CertInfo { names, not_after }))
}

/// Where the files of [`TlsConfig`] are kept: `DATA/tls/`.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// `account.json`, version 1.
#[derive(Serialize, Deserialize)]
struct StoredAccount {
    version: u32,
    directory: String,
    credentials: instant_acme::AccountCredentials,
}

impl Store {
    /// The store under `data_dir`.
    pub fn new(data_dir: &Path) -> Store {
        Store { dir: data_dir.join("tls") }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// The stored certificate, if there is a usable one. Errors: [`TlsError::Io`] (other than
    /// a missing file), [`TlsError::Certificate`].
    pub fn certificate(&self) -> Result<Option<(Arc<CertifiedKey>, CertInfo)>, TlsError> {
        let read = |f: &str| match std::fs::read(self.path(f)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(TlsError::Io { path: self.path(f), source }),
        };
        match (read("certificate.pem")?, read("key.pem")?) {
            (Some(chain), Some(key)) => parse(&chain, &key).map(Some),
            _ => Ok(None),
        }
    }

    /// Writes a certificate chain and its key (the key first, mode 0600; each file replaced
    /// whole, through a temporary file and a rename).
    pub fn save_certificate(&self, chain_pem: &str, key_pem: &str) -> Result<(), TlsError> {
        self.write("key.pem", key_pem.as_bytes(), true)?;
        self.write("certificate.pem", chain_pem.as_bytes(), false)
    }

    fn write(&self, file: &str, bytes: &[u8], secret: bool) -> Result<(), TlsError> {
        let io = |source, path: &Path| TlsError::Io { path: path.to_owned(), source };
        std::fs::create_dir_all(&self.dir).map_err(|e| io(e, &self.dir))?;
        let path = self.path(file);
        crate::fsutil::write_atomic(&path, bytes, secret).map_err(|e| io(e, &path))
    }

    /// The stored account for `directory`: `None` when there is none, or it is for another
    /// directory, or it cannot be read (logged). Errors: [`TlsError::LaterAccount`].
    fn account(&self, directory: &str) -> Result<Option<instant_acme::AccountCredentials>, TlsError> {
        let path = self.path("account.json");
        let Ok(bytes) = std::fs::read(&path) else { return Ok(None) };
        let version = serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| v.get("version")?.as_u64()).unwrap_or(0);
        if version > 1 {
            return Err(TlsError::LaterAccount(path, u32::try_from(version).unwrap_or(u32::MAX)));
        }
        match serde_json::from_slice::<StoredAccount>(&bytes) {
            Ok(a) if a.version == 1 && a.directory == directory => Ok(Some(a.credentials)),
            Ok(_) => Ok(None),
            Err(e) => {
                tracing::warn!("{}: not a usable ACME account ({e}); a new one is made", path.display());
                Ok(None)
            }
        }
    }

    fn save_account(&self, directory: &str, credentials: instant_acme::AccountCredentials) -> Result<(), TlsError> {
        let bytes = serde_json::to_vec_pretty(&StoredAccount { version: 1, directory: directory.to_owned(), credentials }).map_err(|e| TlsError::Acme(e.to_string()))?;
        self.write("account.json", &bytes, true)
    }
}

/// This member's own name in the zone, `spoke-ID.ZONE` (`ID`: the first 12 letters and digits
/// of `endpoint`, lowercase): in its certificate, pointed at its addresses, its relay's host.
pub fn own_name(zone: &str, endpoint: &str) -> String {
    format!("{}.{zone}", own_label(endpoint))
}

/// The label of [`own_name`]: `spoke-ID`.
pub fn own_label(endpoint: &str) -> String {
    let id: String = endpoint.chars().filter(char::is_ascii_alphanumeric).take(12).collect::<String>().to_ascii_lowercase();
    format!("spoke-{id}")
}

/// The names this spoke's certificate covers, sorted: the zone, its wildcard, and
/// `spoke-ID.ZONE` (`endpoint`'s first 12 characters) that makes the set this member's own.
pub fn wanted_names(zone: &str, endpoint: &str) -> Vec<String> {
    let mut names = vec![zone.to_owned(), format!("*.{zone}"), own_name(zone, endpoint)];
    names.sort();
    names
}

/// The ACME account for `config`: the stored one (unless `fresh`), else a new one (stored).
/// Returns the account and whether it was the stored one.
async fn acme_account(config: &TlsConfig, store: &Store, data_dir: &Path, fresh: bool) -> Result<(instant_acme::Account, bool), TlsError> {
    let builder = match &config.acme_root {
        Some(root) => instant_acme::Account::builder_with_root(if root.is_absolute() { root.clone() } else { data_dir.join(root) })?,
        None => instant_acme::Account::builder()?,
    };
    if !fresh && let Some(credentials) = store.account(&config.acme_directory)? {
        return Ok((builder.from_credentials(credentials).await?, true));
    }
    let contact: Vec<&str> = config.contact.iter().map(String::as_str).collect();
    let new = instant_acme::NewAccount { contact: &contact, terms_of_service_agreed: true, only_return_existing: false };
    let (account, credentials) = builder.create(&new, config.acme_directory.clone(), None).await?;
    store.save_account(&config.acme_directory, credentials)?;
    Ok((account, false))
}

/// Whether the CA no longer knows the account (RFC 8555 §7.3.1: deactivated, or a test CA that
/// started again): a new one is made.
fn account_gone(e: &instant_acme::Error) -> bool {
    matches!(e, instant_acme::Error::Api(p) if matches!(p.r#type.as_deref(), Some("urn:ietf:params:acme:error:accountDoesNotExist" | "urn:ietf:params:acme:error:unauthorized")))
}

/// Orders a certificate for `names` from the CA of `config`, answering its DNS-01 challenges in
/// `zone`, and stores it. Returns it ready to serve, with what it covers. The TXT values added are deleted
/// again whatever the outcome. Errors: [`TlsError::Acme`] (the CA refused, or a challenge
/// failed: its detail says why), [`TlsError::Dns`], storage errors.
pub async fn obtain(zone: &crate::dns::Zone, config: &TlsConfig, data_dir: &Path, names: &[String]) -> Result<(Arc<CertifiedKey>, CertInfo), TlsError> {
    use instant_acme::{AuthorizationStatus, ChallengeType, Identifier, NewOrder, OrderStatus, RetryPolicy};
    let store = Store::new(data_dir);
    let (account, stored) = acme_account(config, &store, data_dir, false).await?;
    let identifiers: Vec<Identifier> = names.iter().map(|n| Identifier::Dns(n.clone())).collect();
    let mut order = match account.new_order(&NewOrder::new(&identifiers)).await {
        Err(e) if stored && account_gone(&e) => {
            tracing::warn!("HTTPS: the CA no longer knows this spoke's account ({e}); making a new one");
            acme_account(config, &store, data_dir, true).await?.0.new_order(&NewOrder::new(&identifiers)).await?
        }
        r => r?,
    };
    let mut added: Vec<(hickory_client::proto::rr::Name, String)> = Vec::new();
    let outcome = async {
        let mut ready = Vec::new();
        let mut authorizations = order.authorizations();
        while let Some(authz) = authorizations.next().await {
            let mut authz = authz?;
            match authz.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => return Err(TlsError::Acme(format!("an authorization is {other:?}"))),
            }
            let url = authz.url().to_owned();
            let challenge = authz.challenge(ChallengeType::Dns01).ok_or_else(|| TlsError::Acme("the CA offers no DNS-01 challenge".into()))?;
            let domain = match challenge.identifier().identifier {
                Identifier::Dns(d) => d.clone(),
                other => return Err(TlsError::Acme(format!("an identifier that is no DNS name: {other:?}"))),
            };
            let label = domain.strip_suffix(zone.name()).map(|l| l.trim_end_matches('.')).ok_or_else(|| TlsError::Acme(format!("{domain} is outside the zone {}", zone.name())))?;
            let txt_name = zone.fqdn(&if label.is_empty() { "_acme-challenge".to_owned() } else { format!("_acme-challenge.{label}") })?;
            let value = challenge.key_authorization().dns_value();
            zone.add_txt(&txt_name, std::slice::from_ref(&value)).await?;
            added.push((txt_name, value));
            ready.push(url);
        }
        if config.challenge_delay_secs > 0 {
            tokio::time::sleep(Duration::from_secs(config.challenge_delay_secs)).await;
        }
        // Every TXT value is in place before the CA looks at any of them (a wildcard and its
        // parent share one name).
        let mut authorizations = order.authorizations();
        while let Some(authz) = authorizations.next().await {
            let mut authz = authz?;
            if !ready.iter().any(|u| u == authz.url()) {
                continue;
            }
            if let Some(mut challenge) = authz.challenge(ChallengeType::Dns01) {
                challenge.set_ready().await?;
            }
        }
        let policy = RetryPolicy::new().initial_delay(Duration::from_millis(500)).timeout(Duration::from_secs(180));
        match order.poll_ready(&policy).await? {
            OrderStatus::Ready => {}
            other => return Err(TlsError::Acme(format!("the order is {other:?} (a challenge failed)"))),
        }
        let key_pem = order.finalize().await?;
        let chain_pem = order.poll_certificate(&policy).await?;
        Ok((chain_pem, key_pem))
    }
    .await;
    for (name, value) in &added {
        if let Err(e) = zone.delete_txt_value(name, std::slice::from_ref(value)).await {
            tracing::warn!("the ACME challenge at {name} stays in the zone: {e}");
        }
    }
    let (chain_pem, key_pem) = outcome?;
    let usable = parse(chain_pem.as_bytes(), key_pem.as_bytes())?;
    store.save_certificate(&chain_pem, &key_pem)?;
    Ok(usable)
}

/// Keeps a valid certificate in `certs`: the stored one at start, a new one when there is none
/// or it nears its end ([`CertInfo::needs_renewal`]), retried after failures (see the module
/// documentation). Runs until the spoke stops.
pub async fn certificate_loop(zone: crate::dns::Zone, config: TlsConfig, data_dir: PathBuf, endpoint: String, certs: Arc<Certificates>) {
    let names = wanted_names(zone.name(), &endpoint);
    let store = Store::new(&data_dir);
    match store.certificate() {
        Ok(Some((key, info))) => {
            tracing::info!("HTTPS: the stored certificate for {} is valid until {}", info.names.join(", "), info.until());
            certs.install(key, info);
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("HTTPS: the stored certificate is not used ({e}); a new one is ordered"),
    }
    let mut retry = FIRST_RETRY;
    loop {
        let now = chrono::Utc::now().timestamp();
        let due = certs.info().is_none_or(|i| i.needs_renewal(&names, now, config.renew_before_days));
        let wait = if due {
            tracing::info!("HTTPS: ordering a certificate for {} from {}", names.join(", "), config.acme_directory);
            match obtain(&zone, &config, &data_dir, &names).await {
                Ok((key, info)) => {
                    tracing::info!("HTTPS: new certificate for {}, valid until {}", info.names.join(", "), info.until());
                    certs.install(key, info);
                    retry = FIRST_RETRY;
                    CHECK_INTERVAL
                }
                Err(e) => {
                    tracing::warn!("HTTPS: no certificate this time ({e}); trying again in {} s", retry.as_secs());
                    let w = retry;
                    retry = (retry * 2).min(CHECK_INTERVAL);
                    w
                }
            }
        } else {
            CHECK_INTERVAL
        };
        tokio::time::sleep(wait).await;
    }
}

/// Connections whose TLS handshake is done, for `axum::serve` (`Listener`): the handshakes
/// run apart ([`listen`]), so a slow client does not hold up others.
pub struct TlsListener {
    rx: tokio::sync::mpsc::Receiver<(tokio_rustls::server::TlsStream<tokio::net::TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

/// Accepts TCP connections on `tcp` and runs their TLS handshakes with `certs` (at most
/// [`MAX_HANDSHAKES`] at once, each at most [`HANDSHAKE_TIMEOUT`]); ALPN `http/1.1`. Stops
/// accepting, and closes `tcp`, once the returned listener is dropped.
pub fn listen(tcp: tokio::net::TcpListener, certs: Arc<Certificates>) -> Result<TlsListener, TlsError> {
    let local = tcp.local_addr().map_err(|source| TlsError::Io { path: "https".into(), source })?;
    let mut server = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(certs);
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let turns = Arc::new(tokio::sync::Semaphore::new(MAX_HANDSHAKES));
    tokio::spawn(async move {
        loop {
            let Ok(turn) = turns.clone().acquire_owned().await else { return };
            // Ends with the server (its listener dropped): the port is let go.
            let accepted = tokio::select! {
                _ = tx.closed() => return,
                a = tcp.accept() => a,
            };
            let (stream, peer) = match accepted {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!("HTTPS accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let (acceptor, tx) = (acceptor.clone(), tx.clone());
            tokio::spawn(async move {
                let _turn = turn;
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send((tls, peer)).await;
                    }
                    Ok(Err(e)) => tracing::debug!("HTTPS handshake with {peer}: {e}"),
                    Err(_) => tracing::debug!("HTTPS handshake with {peer}: too slow"),
                }
            });
        }
    });
    Ok(TlsListener { rx, local })
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The accepting task ended (the runtime is stopping): no more connections.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// Marks a request that came over HTTPS (an extension the HTTPS side of the site adds).
#[derive(Debug, Clone, Copy)]
pub struct OverTls;

#[cfg(test)]
mod tests {
    use super::*;

    fn info(names: &[&str], not_after: i64) -> CertInfo {
        CertInfo { names: names.iter().map(|s| s.to_string()).collect(), not_after }
    }

    #[test]
    fn a_wildcard_covers_one_label_under_the_zone_and_nothing_else() {
        let i = info(&["*.spokes.test", "spokes.test"], 0);
        for yes in ["spokes.test", "maria.spokes.test", "MARIA.Spokes.Test.", "spoke-abc.spokes.test"] {
            assert!(i.covers(yes), "{yes}");
        }
        for no in ["a.b.spokes.test", "evilspokes.test", "blog.maria.test", "127.0.0.1", ".spokes.test", "test"] {
            assert!(!i.covers(no), "{no}");
        }
    }

    #[test]
    fn a_certificate_is_renewed_near_its_end_or_when_a_name_is_missing() {
        let names = wanted_names("spokes.test", "ABCDEF0123456789abcdef");
        assert_eq!(names, ["*.spokes.test", "spoke-abcdef012345.spokes.test", "spokes.test"]);
        let day = 86_400;
        let full = CertInfo { names: names.clone(), not_after: 90 * day };
        assert!(!full.needs_renewal(&names, 0, 30));
        assert!(!full.needs_renewal(&names, 59 * day, 30));
        assert!(full.needs_renewal(&names, 61 * day, 30), "fewer than 30 days left");
        assert!(full.needs_renewal(&names, 91 * day, 30), "expired");
        let other = wanted_names("other.test", "ABCDEF0123456789abcdef");
        assert!(full.needs_renewal(&other, 0, 30), "the zone changed");
    }

    /// A self-signed certificate for `names` and its key, PEM.
    fn self_signed(names: &[&str]) -> (String, String) {
        let params = rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("params");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("cert");
        (cert.pem(), key.serialize_pem())
    }

    /// A TLS client of `addr` for `host`, trusting `root` (PEM); the site's answer to `GET /`.
    async fn fetch(addr: SocketAddr, host: &str, root: &str) -> std::io::Result<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(root.as_bytes()) {
            roots.add(c.map_err(std::io::Error::other)?).map_err(std::io::Error::other)?;
        }
        let config = rustls::ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions().map_err(std::io::Error::other)?.with_root_certificates(roots).with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(std::io::Error::other)?;
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await?;
        tls.write_all(format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes()).await?;
        let mut out = Vec::new();
        let _ = tls.read_to_end(&mut out).await;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// What a hostile or broken client sends at the TLS boundary: bytes that are no handshake,
    /// a handshake never finished, a handshake before there is a certificate. Each fails on its
    /// own; none stops the listener or holds up the next client.
    #[tokio::test]
    async fn hostile_clients_fail_alone_and_the_listener_goes_on() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let certs = Arc::new(Certificates::default());
        let listener = listen(tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind"), certs.clone()).expect("listen");
        let addr = axum::serve::Listener::local_addr(&listener).expect("addr");
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello over TLS" }));
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let (chain, key) = self_signed(&["spokes.test", "*.spokes.test"]);

        // No certificate yet: the handshake fails, cleanly.
        assert!(fetch(addr, "maria.spokes.test", &chain).await.is_err(), "no certificate, no handshake");
        let (k, i) = parse(chain.as_bytes(), key.as_bytes()).expect("usable");
        certs.install(k, i);

        // Garbage instead of a ClientHello: the connection is closed.
        let mut junk = tokio::net::TcpStream::connect(addr).await.expect("connect");
        junk.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), junk.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "a client speaking plain HTTP to the HTTPS port is dropped at once");
        // A client that connects and says nothing holds no one else up.
        let _silent = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let page = tokio::time::timeout(Duration::from_secs(5), fetch(addr, "maria.spokes.test", &chain)).await.expect("not held up").expect("served");
        assert!(page.starts_with("HTTP/1.1 200") && page.ends_with("hello over TLS"), "{page}");
        // A name the certificate does not cover fails the client's check.
        assert!(fetch(addr, "blog.maria.test", &chain).await.is_err());
        // Renewed in place: the next connection gets the new certificate.
        let (chain2, key2) = self_signed(&["spokes.test", "*.spokes.test"]);
        let (k, i) = parse(chain2.as_bytes(), key2.as_bytes()).expect("usable");
        certs.install(k, i);
        assert!(fetch(addr, "maria.spokes.test", &chain).await.is_err(), "the old certificate is no longer served");
        assert!(fetch(addr, "maria.spokes.test", &chain2).await.expect("served").ends_with("hello over TLS"));
        assert_eq!(certs.installed(), 2, "each certificate put in use is counted (pages made before it are not reused)");

        // The server gone, the port is let go (a spoke stopped inside a longer-lived program).
        server.abort();
        let _ = server.await;
        let freed = async {
            while tokio::net::TcpListener::bind(addr).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), freed).await.expect("the HTTPS port is let go once the server stops");
    }

    /// A broken disk or a hand-edited folder: nothing usable is refused with a clear error, never
    /// a panic; a later account version is refused and left alone.
    #[test]
    fn broken_stored_files_are_refused_clearly() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::new(dir.path());
        assert!(store.certificate().expect("no files").is_none());
        let params = rcgen::CertificateParams::new(vec!["spokes.test".to_owned(), "*.spokes.test".to_owned()]).expect("params");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("cert");
        store.save_certificate(&cert.pem(), &key.serialize_pem()).expect("save");
        let (_, i) = store.certificate().expect("read").expect("a certificate");
        assert_eq!(i.names, ["*.spokes.test", "spokes.test"]);
        assert!(i.not_after > chrono::Utc::now().timestamp());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(dir.path().join("tls/key.pem")).expect("key").permissions().mode() & 0o777, 0o600);
        }
        let other = rcgen::KeyPair::generate().expect("key");
        for (chain, key, what) in [
            (cert.pem(), other.serialize_pem(), "a key that is not the certificate's"),
            ("garbage".to_owned(), key.serialize_pem(), "no certificate"),
            (cert.pem().replace("MII", "MIX"), key.serialize_pem(), "a damaged certificate"),
            (cert.pem(), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_owned(), "a damaged key"),
        ] {
            store.save_certificate(&chain, &key).expect("save");
            assert!(matches!(store.certificate(), Err(TlsError::Certificate(_))), "{what}");
        }
        std::fs::write(dir.path().join("tls/account.json"), b"{\"version\": 2}").expect("write");
        assert!(matches!(store.account(LETS_ENCRYPT), Err(TlsError::LaterAccount(_, 2))));
        std::fs::write(dir.path().join("tls/account.json"), b"{not json").expect("write");
        assert!(store.account(LETS_ENCRYPT).expect("a broken account is replaced").is_none());
    }
}
