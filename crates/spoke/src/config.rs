//! `config.toml` of a spoke (version 1).
//!
//! ```toml
//! version = 1
//! name = "My spoke"                 # shown to readers and in tickets
//! http = "127.0.0.1:8080"           # reader site
//! p2p = "0.0.0.0:7080"              # sync endpoint (UDP)
//! public_addrs = ["203.0.113.5:7080"]   # addresses put in tickets; default: the p2p address
//! replicate_interval_secs = 30      # how often to sync hosted blogs with their other spokes
//! ```

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
fn default_p2p() -> SocketAddr {
    (Ipv4Addr::UNSPECIFIED, 7080).into()
}
fn default_interval() -> u64 {
    30
}

impl Default for Config {
    fn default() -> Self {
        Config { version: 1, name: default_name(), http: default_http(), p2p: default_p2p(), public_addrs: vec![], public_url: None, replicate_interval_secs: default_interval() }
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

    /// Writes the config atomically.
    pub fn save(&self, path: &Path) -> Result<(), SpokeError> {
        let text = toml::to_string_pretty(self).map_err(|e| SpokeError::Config(e.to_string()))?;
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path)).map_err(|source| SpokeError::Io { path: path.into(), source })
    }

    /// Addresses to put in tickets: `public_addrs`, else the p2p address (with an unspecified
    /// IP replaced by 127.0.0.1, which only reaches this machine).
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
