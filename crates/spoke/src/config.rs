//! `config.toml` of a spoke (version 1).
//!
//! ```toml
//! version = 1
//! name = "My spoke"                 # shown to readers and in tickets
//! http = "127.0.0.1:8080"           # reader site
//! admin = "127.0.0.1:9464"          # the operator's listener: /metrics, /health, /ready (never the reader site)
//! p2p = "0.0.0.0:7080"              # sync endpoint (UDP)
//! public_addrs = ["203.0.113.5:7080"]   # addresses put in tickets; default: the p2p address
//! replicate_interval_secs = 30      # how often to sync hosted blogs with their other spokes
//!
//! [council]
//! upstreams = []        # endpoint IDs of members to pull from; empty (or none of them still a member): 3 members chosen for you
//! interval_secs = 30    # how often to pull from the upstreams
//! max_mirrored_blogs = 10000   # most council members' blogs copied here (0: no limit)
//! act_on_evidence = true      # accuse a member that serves tampered blogs, and vote on others' evidence
//! copies = 0            # council copies of each blog besides its writer's spokes, on the members ranked first for it (0: every member keeps every blog)
//! popular_reads = 1000  # reads a day that earn a blog one more copy (one more at each tenfold; 0: none)
//!
//! [admission]
//! mode = "invite"       # "invite": writers need an invite ticket; "open": anyone may publish here
//! max_posts = 10000     # published posts per hosted blog (0: no limit)
//! max_bytes = 268435456 # per hosted blog: its document, in bytes (0: no limit)
//! max_sessions_per_hour = 600   # per peer and blog, and per blog for sessions bringing signed changes (0: no limit)
//! min_free_bytes = 1073741824   # below this much free disk, no new blogs are taken
//!
//! [dns]                 # optional: the council's domain, where blogs get names (crate::dns)
//! zone = "spokes.example"
//! server = "192.0.2.53:53"
//! tsig_key = "council"
//! tsig_secret_file = "council.key"
//! addresses = ["203.0.113.5"]
//!
//! [tls]                 # optional, needs [dns]: HTTPS with a certificate from an ACME CA (crate::tls)
//! https = "0.0.0.0:443"
//! contact = ["mailto:ops@spokes.example"]
//! relay = true        # a relay for writers whose network blocks UDP, at /relay (crate::relay)
//! ```
//!
//! Every field is optional; a missing one takes the default shown.

use crate::SpokeError;
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

/// The spoke's configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// File format version (1).
    #[serde(default = "one")]
    pub version: u32,
    /// Human name of the spoke.
    #[serde(default = "default_name")]
    pub name: String,
    /// Reader site address.
    #[serde(default = "default_http")]
    pub http: SocketAddr,
    /// Sync endpoint address.
    #[serde(default = "default_p2p")]
    pub p2p: SocketAddr,
    /// The operator's listener: `/metrics` (Prometheus), `/health` and `/ready`, kept off the
    /// reader site. A spoke that cannot listen there (the port is taken) starts without it and
    /// says so in its log.
    #[serde(default = "default_admin")]
    pub admin: SocketAddr,
    /// Addresses written into tickets.
    #[serde(default)]
    pub public_addrs: Vec<SocketAddr>,
    /// The reader site's public base URL for tickets (for example `https://notes.example`);
    /// without it, tickets say `http://` and the reader site's address (a public address's IP
    /// when it listens on all interfaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Seconds between replication rounds.
    #[serde(default = "default_interval")]
    pub replicate_interval_secs: u64,
    /// The council.
    #[serde(default)]
    pub council: CouncilConfig,
    /// Who may publish here, and how much.
    #[serde(default)]
    pub admission: AdmissionConfig,
    /// The council's domain, where blogs get names ([`crate::dns`]); none: no names here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<crate::dns::DnsConfig>,
    /// HTTPS for the reader site, with a certificate for the council's zone ([`crate::tls`]);
    /// needs `dns`. None: plain HTTP only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::tls::TlsConfig>,
}

/// `[council]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CouncilConfig {
    /// Endpoint IDs of the members this spoke pulls from; empty, or none of them still a
    /// member: a few chosen by hash.
    #[serde(default)]
    pub upstreams: Vec<String>,
    /// Seconds between pulls.
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// Most blogs copied from council members (mirrors) this spoke holds; 0: no limit. Each
    /// copy also keeps to `[admission]`'s per-blog quota and the low-disk refusal.
    #[serde(default = "default_max_mirrored")]
    pub max_mirrored_blogs: u64,
    /// Whether this spoke acts on evidence: it accuses a member that offered it a blog older
    /// than one it offered before, or a manifest the writer did not sign (an `accuse` entry
    /// carrying what the member signed), and votes to cut off a member another accused once it
    /// checked the evidence itself. `false` leaves removals to the operator
    /// (`spoke council remove`). Default `true`.
    #[serde(default = "yes")]
    pub act_on_evidence: bool,
    /// Council copies of each blog besides the spokes its writer chose, placed on the members
    /// that rank first for it ([`crate::council::placement`], `crate::placement`); 0: every
    /// member keeps a copy of every blog. Should be the same on every member. Default 0.
    #[serde(default)]
    pub copies: usize,
    /// Reads a day from which a blog gets one more council copy (another at each tenfold, at
    /// most `copies` more); 0: no extra copies. Default 1000.
    #[serde(default = "default_popular_reads")]
    pub popular_reads: u64,
}

fn default_popular_reads() -> u64 {
    crate::council::placement::DEFAULT_POPULAR_READS
}

fn yes() -> bool {
    true
}

fn default_max_mirrored() -> u64 {
    10_000
}

impl Default for CouncilConfig {
    fn default() -> Self {
        CouncilConfig { upstreams: vec![], interval_secs: default_interval(), max_mirrored_blogs: default_max_mirrored(), act_on_evidence: true, copies: 0, popular_reads: default_popular_reads() }
    }
}

/// How writers are admitted.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum AdmissionMode {
    /// Writers need an invite ticket.
    #[default]
    Invite,
    /// Any writer may publish a new blog here, within the quotas.
    Open,
}

/// `[admission]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AdmissionConfig {
    /// Invite or open.
    #[serde(default)]
    pub mode: AdmissionMode,
    /// Most published posts per hosted blog; 0: no limit.
    #[serde(default = "default_max_posts")]
    pub max_posts: u64,
    /// Largest saved document per hosted blog, bytes; 0: no limit.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// Most sync sessions per hour that each peer may open for a hosted blog, and (counted
    /// apart) that may bring a hosted blog signed changes ([`crate::rate`]); 0: no limit.
    #[serde(default = "default_max_sessions")]
    pub max_sessions_per_hour: u32,
    /// No new blog is taken while the data folder's disk has less free space, bytes.
    #[serde(default = "default_min_free")]
    pub min_free_bytes: u64,
}

fn default_max_posts() -> u64 {
    10_000
}
fn default_max_bytes() -> u64 {
    256 * 1024 * 1024
}
fn default_max_sessions() -> u32 {
    600
}
fn default_min_free() -> u64 {
    1024 * 1024 * 1024
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        AdmissionConfig { mode: AdmissionMode::Invite, max_posts: default_max_posts(), max_bytes: default_max_bytes(), max_sessions_per_hour: default_max_sessions(), min_free_bytes: default_min_free() }
    }
}

fn one() -> u32 {
    1
}
fn default_name() -> String {
    "A Spokes spoke".into()
}
fn default_http() -> SocketAddr {
    (Ipv4Addr::LOCALHOST, 8080).into()
}
fn default_admin() -> SocketAddr {
    (Ipv4Addr::LOCALHOST, 9464).into()
}
fn default_p2p() -> SocketAddr {
    (Ipv4Addr::UNSPECIFIED, 7080).into()
}
fn default_interval() -> u64 {
    30
}

impl Default for Config {
    fn default() -> Self {
        Config { version: 1, name: default_name(), http: default_http(), p2p: default_p2p(), admin: default_admin(), public_addrs: vec![], public_url: None, replicate_interval_secs: default_interval(), council: CouncilConfig::default(), admission: AdmissionConfig::default(), dns: None, tls: None }
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, SpokeError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpokeError::Io { path: path.into(), source })?;
        let c: Config = toml::from_str(&text).map_err(|e| SpokeError::Config(format!("{}: {e}", path.display())))?;
        if c.version != 1 {
            return Err(SpokeError::Config(format!("{}: config version {} is not supported", path.display(), c.version)));
        }
        Ok(c)
    }

    /// Writes the config whole ([`crate::fsutil::write_atomic`]).
    pub fn save(&self, path: &Path) -> Result<(), SpokeError> {
        let text = toml::to_string_pretty(self).map_err(|e| SpokeError::Config(e.to_string()))?;
        crate::fsutil::write_atomic(path, text.as_bytes(), false).map_err(|source| SpokeError::Io { path: path.into(), source })
    }

    /// The reader site's base URL for tickets, given where it actually listens (`http`).
    pub fn ticket_web(&self, http: SocketAddr) -> String {
        if let Some(u) = &self.public_url {
            return u.trim_end_matches('/').to_owned();
        }
        let mut a = http;
        if a.ip().is_unspecified() {
            a.set_ip(self.public_addrs.first().map(|p| p.ip()).unwrap_or(Ipv4Addr::LOCALHOST.into()));
        }
        format!("http://{a}")
    }

    /// The public URL of this spoke's relay ([`crate::relay::relay_url`]), for tickets: only
    /// with HTTPS (`[tls]`, its `relay` on) and its zone (`[dns]`).
    pub fn relay_url(&self, endpoint: &str) -> Option<String> {
        match (&self.tls, &self.dns) {
            (Some(t), Some(d)) if t.relay => Some(crate::relay::relay_url(&d.zone, endpoint, t.https_port)),
            _ => None,
        }
    }

    /// Addresses to put in tickets: `public_addrs`, else the p2p address (with an unspecified
    /// IP replaced by 127.0.0.1, which only reaches this machine).
    pub fn ticket_addrs(&self) -> Vec<SocketAddr> {
        if !self.public_addrs.is_empty() {
            return self.public_addrs.clone();
        }
        let mut a = self.p2p;
        if a.ip().is_unspecified() {
            a.set_ip(Ipv4Addr::LOCALHOST.into());
        }
        vec![a]
    }
}
