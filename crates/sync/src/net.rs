//! iroh endpoints bound the Spokes way: direct QUIC, and relays only where a spoke names its
//! own (a ticket's `relay`, [`spokes_core::SpokeAddr::relay`]): no third party's relay, no
//! address lookup.

use iroh::tls::CaTlsConfig;
use iroh::{Endpoint, RelayMap, RelayMode, RelayUrl, SecretKey, endpoint::presets};
use std::net::SocketAddr;

/// Set to `1` for a dialing endpoint with no UDP socket at all, that reaches spokes only
/// through their relays: what a network that blocks UDP leaves ([`Reach::from_env`]).
pub const RELAY_ONLY_ENV: &str = "SPOKES_RELAY_ONLY";
/// `ip:port` of a DNS server to look relays' names up with instead of the system's (a private
/// network's, or a test's name server).
pub const DNS_SERVER_ENV: &str = "SPOKES_DNS_SERVER";
/// A PEM file of root certificates trusted for relays' HTTPS beside the public roots (a
/// private CA's, or a test CA's).
pub const EXTRA_ROOTS_ENV: &str = "SPOKES_EXTRA_ROOTS";

/// Errors binding an endpoint.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The address is not usable.
    #[error("cannot listen on {addr}: {message}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        message: String,
    },
    /// A setting of [`Reach`] is not usable.
    #[error("{name}: {message}")]
    Setting {
        /// The environment variable.
        name: &'static str,
        /// Why.
        message: String,
    },
}

/// How an endpoint reaches spokes: a writer's app or CLI, and a spoke reaching the members
/// of its council.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Only through relays: no UDP socket ([`RELAY_ONLY_ENV`]).
    pub relay_only: bool,
    /// The DNS server for relays' names ([`DNS_SERVER_ENV`]); `None`: the system's.
    pub dns: Option<SocketAddr>,
    /// Roots trusted for relays' HTTPS beside the public (Mozilla's) ones ([`EXTRA_ROOTS_ENV`]).
    pub extra_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl Reach {
    /// From the environment ([`RELAY_ONLY_ENV`], [`DNS_SERVER_ENV`], [`EXTRA_ROOTS_ENV`]).
    /// Errors: [`NetError::Setting`] for an address or a file that is not one.
    pub fn from_env() -> Result<Reach, NetError> {
        use rustls::pki_types::pem::PemObject;
        let relay_only = relay_only_from_env();
        let dns = match std::env::var(DNS_SERVER_ENV) {
            Ok(v) => Some(v.parse().map_err(|e| NetError::Setting { name: DNS_SERVER_ENV, message: format!("`{v}` is not ip:port: {e}") })?),
            Err(_) => None,
        };
        let extra_roots = match std::env::var_os(EXTRA_ROOTS_ENV) {
            Some(path) => {
                let setting = |message: String| NetError::Setting { name: EXTRA_ROOTS_ENV, message };
                let pem = std::fs::read(&path).map_err(|e| setting(format!("cannot read {}: {e}", path.to_string_lossy())))?;
                let roots = rustls::pki_types::CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>().map_err(|e| setting(format!("not PEM certificates: {e}")))?;
                if roots.is_empty() {
                    return Err(setting(format!("no certificate in {}", path.to_string_lossy())));
                }
                roots
            }
            None => Vec::new(),
        };
        Ok(Reach { relay_only, dns, extra_roots })
    }
}

/// Whether the environment says this side's network lets no UDP through ([`RELAY_ONLY_ENV`]
/// is `1`): [`Reach::relay_only`], without reading the rest of [`Reach::from_env`].
pub fn relay_only_from_env() -> bool {
    std::env::var(RELAY_ONLY_ENV).is_ok_and(|v| v == "1")
}

/// A spoke's relay URL if `s` is one this side dials: an `https` URL with a host (a relay over
/// plain HTTP would show onlookers who talks to whom). `None` otherwise.
pub fn relay_url(s: &str) -> Option<RelayUrl> {
    let u: url::Url = s.parse().ok()?;
    (u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty())).then(|| RelayUrl::from(u))
}

/// Binds an endpoint that dials spokes (a writer's), reaching them directly over UDP and,
/// when a spoke's address names its relay, through that relay too (iroh uses whichever path
/// works, preferring direct); with [`Reach::relay_only`], through relays alone.
pub async fn bind_dialer(secret: SecretKey, alpns: Vec<Vec<u8>>, reach: &Reach) -> Result<Endpoint, NetError> {
    // No home relay: the relays a spoke names are dialed when needed.
    bind_with(secret, (std::net::Ipv4Addr::UNSPECIFIED, 0).into(), alpns, RelayMap::empty(), reach).await
}

/// An endpoint with the `Minimal` preset (no address lookup), `relays` as its home relays,
/// relays found and checked as `reach` says, and a UDP socket on `addr` unless
/// [`Reach::relay_only`].
async fn bind_with(secret: SecretKey, addr: SocketAddr, alpns: Vec<Vec<u8>>, relays: RelayMap, reach: &Reach) -> Result<Endpoint, NetError> {
    let err = |m: String| NetError::Bind { addr, message: m };
    let mut b = Endpoint::builder(presets::Minimal)
        .secret_key(secret)
        .alpns(alpns)
        .relay_mode(RelayMode::Custom(relays))
        .ca_tls_config(CaTlsConfig::embedded().with_extra_roots(reach.extra_roots.iter().cloned()))
        .clear_ip_transports();
    if let Some(d) = reach.dns {
        b = b.dns_resolver(iroh::dns::DnsResolver::with_nameserver(d));
    }
    if !reach.relay_only {
        b = b.bind_addr(addr).map_err(|e| err(e.to_string()))?;
    }
    b.bind().await.map_err(|e| err(e.to_string()))
}

/// Binds an iroh endpoint on `addr` with the `Minimal` preset: direct QUIC, no relay of its
/// own (a relay only where an address it dials names one) and no address lookup, so nothing
/// leaves the machine but connections we dial.
/// `alpns` are the protocols it accepts (empty for a dial-only endpoint).
pub async fn bind_endpoint(secret: SecretKey, addr: SocketAddr, alpns: Vec<Vec<u8>>) -> Result<Endpoint, NetError> {
    bind_with_home_relay(secret, addr, alpns, None, &Reach::default()).await
}

/// A spoke's endpoint on `addr`, connected to `home` (its own relay, over loopback), so that
/// what reaches that relay for this endpoint arrives; the relays other spokes name (council
/// members' [`crate::council::MemberInfo::relay`]) are dialed when needed, found and checked
/// as `reach` says. With [`Reach::relay_only`] (a spoke whose network lets no UDP through)
/// it binds no UDP socket: peers reach it through `home`, and it reaches them through theirs.
pub async fn bind_with_home_relay(secret: SecretKey, addr: SocketAddr, alpns: Vec<Vec<u8>>, home: Option<RelayUrl>, reach: &Reach) -> Result<Endpoint, NetError> {
    bind_with(secret, addr, alpns, home.map(RelayMap::from).unwrap_or_else(RelayMap::empty), reach).await
}

/// The iroh address to dial `spoke` at: its endpoint ID with every socket address it lists,
/// and its relay when it names an `https` one ([`relay_url`]).
/// Errors: a sentence saying the endpoint ID is not one.
pub fn dial_addr(spoke: &spokes_core::SpokeAddr) -> Result<iroh::EndpointAddr, String> {
    let id: iroh::EndpointId = spoke.endpoint.parse().map_err(|e| format!("bad endpoint ID: {e}"))?;
    let a = spoke.addrs.iter().fold(iroh::EndpointAddr::new(id), |a, ip| a.with_ip_addr(*ip));
    Ok(match spoke.relay.as_deref().and_then(relay_url) {
        Some(r) => a.with_relay_url(r),
        None => a,
    })
}
