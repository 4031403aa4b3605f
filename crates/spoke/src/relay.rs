//! The relay a spoke runs for writers (and spokes) whose network lets no UDP through: iroh's
//! own relay server (the `iroh-relay` crate, relay protocol over a WebSocket, HTTP/1.1 upgrade)
//! served at `/relay` on the reader site's HTTPS port, so it needs no port of its own and
//! passes wherever a web page does.
//!
//! - **Where**: `https://spoke-ID.ZONE[:https_port]/` ([`relay_url`]), the name this member's
//!   certificate already covers ([`crate::tls::wanted_names`]) and that [`crate::naming`] points
//!   at this member's addresses; it is in this spoke's tickets (`relay`), so a writer's app dials
//!   the spoke through it when no direct path works. Only with `[tls]` (and `relay = true`, the
//!   default): a relay over plain HTTP would show every onlooker who talks to whom.
//! - **The spoke's own endpoint** keeps its home relay connection to this same server over
//!   plain HTTP on this machine (`http://127.0.0.1:HTTP_PORT/`, or the reader site's own address
//!   when it listens on one; answered only to this machine, [`RelayFor::admits`]), so datagrams
//!   for it that arrive at `/relay` reach it; what the relay carries is QUIC, end-to-end
//!   encrypted between the two endpoints: the relay sees endpoint IDs and sizes, never content.
//! - **Bounded** ([`Gate`]): at most [`MAX_CLIENTS`] connections at once, [`MAX_PER_ENDPOINT`]
//!   per endpoint ID, each client's sending limited to [`CLIENT_BYTES_PER_SECOND`] (burst
//!   [`CLIENT_BURST_BYTES`]); a refused client is told why. Metrics:
//!   `spoke_relay_connections_total{result}`, `spoke_relay_clients`.
//!
//! [`serve`] is the reader site's HTTP/1.1 server (instead of `axum::serve`): it hands `/relay`
//! (and the relay's latency probe `/ping`) to the relay and everything else to the site's
//! router, and shuts down gracefully.

use axum::body::Body;
use axum::response::IntoResponse as _;
use hyper::body::Incoming;
use hyper::service::Service as _;
use iroh_relay::server::streams::MaybeTlsStream;
use iroh_relay::server::{Access, AccessControl, ClientRateLimit, ClientRequest, ConnectionId, RelayService};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt as _;

/// Most relay connections at once; more are refused ("busy").
pub const MAX_CLIENTS: usize = 2048;
/// Most relay connections of one endpoint ID at once.
pub const MAX_PER_ENDPOINT: usize = 4;
/// What one client may send through the relay, bytes per second.
pub const CLIENT_BYTES_PER_SECOND: u32 = 4 << 20;
/// The most one client may send at once above [`CLIENT_BYTES_PER_SECOND`], bytes.
pub const CLIENT_BURST_BYTES: u32 = 16 << 20;
/// How long a request's head may take to arrive before the connection is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Endpoint IDs whose public keys are kept decoded.
const KEY_CACHE: usize = 4096;

type Labels = Vec<(String, String)>;

/// The relay's public URL for this member: `https://spoke-ID.ZONE/` (with `:https_port` when
/// it is not 443), `ID` the first 12 characters of `endpoint` as in the certificate's names.
pub fn relay_url(zone: &str, endpoint: &str, https_port: u16) -> String {
    let host = crate::tls::own_name(zone, endpoint);
    match https_port {
        443 => format!("https://{host}/"),
        p => format!("https://{host}:{p}/"),
    }
}

/// The URL the spoke's own endpoint reaches its relay at: the reader site's plain HTTP
/// listener `http` over loopback (an unspecified address becomes 127.0.0.1 or ::1).
pub fn home_url(http: SocketAddr) -> String {
    let mut a = http;
    if a.ip().is_unspecified() {
        a.set_ip(if a.is_ipv4() { std::net::Ipv4Addr::LOCALHOST.into() } else { std::net::Ipv6Addr::LOCALHOST.into() });
    }
    format!("http://{a}/")
}

/// Who may use the relay: a bounded number of connections, a few per endpoint ID
/// ([`MAX_CLIENTS`], [`MAX_PER_ENDPOINT`]).
#[derive(Debug)]
pub struct Gate {
    open: Mutex<HashMap<iroh::EndpointId, usize>>,
    connections: Family<Labels, Counter>,
    clients: Gauge,
}

impl Gate {
    fn admit(&self, who: iroh::EndpointId) -> Access {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let total: usize = open.values().sum();
        let refuse = if total >= MAX_CLIENTS {
            Some("this spoke's relay is busy; try again in a minute")
        } else if open.get(&who).copied().unwrap_or(0) >= MAX_PER_ENDPOINT {
            Some("too many relay connections from this endpoint")
        } else {
            None
        };
        let result = if refuse.is_some() { "refused" } else { "accepted" };
        self.connections.get_or_create(&vec![("result".into(), result.into())]).inc();
        match refuse {
            Some(reason) => Access::Deny { reason: Some(reason.into()) },
            None => {
                *open.entry(who).or_default() += 1;
                self.clients.set((total + 1) as i64);
                Access::Allow
            }
        }
    }
}

impl AccessControl for Gate {
    async fn on_connect(&self, request: &ClientRequest) -> Access {
        self.admit(request.endpoint_id())
    }

    fn on_disconnect(&self, endpoint_id: iroh::EndpointId, _connection: ConnectionId) {
        self.leave(endpoint_id);
    }
}

impl Gate {
    fn leave(&self, endpoint_id: iroh::EndpointId) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&endpoint_id) {
            *n -= 1;
            if *n == 0 {
                open.remove(&endpoint_id);
            }
        }
        self.clients.set(open.values().sum::<usize>() as i64);
    }
}

/// The relay: iroh's relay service behind a [`Gate`], counted in `metrics`.
pub fn service(metrics: &crate::metrics::Metrics) -> RelayService {
    let gate = Gate { open: Mutex::default(), connections: metrics.relay_connections.clone(), clients: metrics.relay_clients.clone() };
    let mut limit = ClientRateLimit::new(NonZeroU32::new(CLIENT_BYTES_PER_SECOND).unwrap_or(NonZeroU32::MIN));
    limit.max_burst_bytes = NonZeroU32::new(CLIENT_BURST_BYTES);
    RelayService::new(
        iroh_relay::server::Handlers::default(),
        axum::http::HeaderMap::new(),
        Some(limit),
        iroh_relay::KeyCache::new(KEY_CACHE),
        Arc::new(gate),
        Arc::new(iroh_relay::server::Metrics::default()),
    )
}

/// Which connections of a listener may reach the relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayFor {
    /// Every client (the HTTPS listener).
    Everyone,
    /// Loopback peers only (the plain HTTP listener: the spoke's own endpoint).
    Loopback,
}

impl RelayFor {
    /// Whether a connection from `peer` to a listener on `here` may reach the relay: for
    /// [`RelayFor::Loopback`], a loopback peer or this machine itself (a listener on one
    /// address, which the spoke's endpoint dials, sees its own address as the peer's).
    pub fn admits(self, peer: std::net::IpAddr, here: Option<std::net::IpAddr>) -> bool {
        self == RelayFor::Everyone || peer.is_loopback() || here.is_some_and(|h| !h.is_unspecified() && h == peer)
    }
}

/// A connection's stream as the relay wants it after the upgrade (it takes the stream back
/// out of hyper by its type).
pub trait IntoRelayStream {
    /// The stream, wrapped.
    fn into_relay_stream(self) -> MaybeTlsStream;
}

impl IntoRelayStream for tokio::net::TcpStream {
    fn into_relay_stream(self) -> MaybeTlsStream {
        MaybeTlsStream::Plain(self)
    }
}

impl IntoRelayStream for tokio_rustls::server::TlsStream<tokio::net::TcpStream> {
    fn into_relay_stream(self) -> MaybeTlsStream {
        MaybeTlsStream::Tls(self)
    }
}

/// Serves `router` on `listener` (HTTP/1.1, with upgrades), handing `/relay` and `/ping` to
/// `relay` for the peers `relay_for` allows, until `stop` turns true; then lets the requests
/// under way finish and closes the relay's clients.
///
/// hyper's own HTTP/1.1 connection, not `hyper_util`'s automatic one: the relay takes its
/// upgraded stream back by type, which the automatic connection's wrapper would hide.
pub async fn serve<L>(mut listener: L, router: axum::Router, relay: Option<(RelayService, RelayFor)>, mut stop: tokio::sync::watch::Receiver<bool>)
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    L::Io: IntoRelayStream,
{
    // Every connection's task holds a clone of `open`; when all are gone, all have finished.
    let (open, mut finished) = tokio::sync::mpsc::channel::<()>(1);
    let here = listener.local_addr().ok().map(|a| a.ip());
    loop {
        let (io, peer) = tokio::select! {
            c = listener.accept() => c,
            _ = stop.wait_for(|s| *s) => break,
        };
        let relay_here = relay.as_ref().filter(|(_, r)| r.admits(peer.ip(), here)).map(|(s, _)| s.clone());
        let router = router.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let (router, relay) = (router.clone(), relay_here.clone());
            async move { Ok::<_, Infallible>(answer(req, router, relay).await) }
        });
        let (open, mut stop) = (open.clone(), stop.clone());
        tokio::spawn(async move {
            let _open = open;
            let io = hyper_util::rt::TokioIo::new(io.into_relay_stream());
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(io, service)
                .with_upgrades();
            tokio::pin!(conn);
            let r = tokio::select! {
                r = conn.as_mut() => r,
                _ = async { stop.wait_for(|s| *s).await.map(|_| ()) } => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = r {
                tracing::debug!(%peer, "HTTP connection: {e}");
            }
        });
    }
    drop((listener, open));
    let _ = finished.recv().await;
    if let Some((relay, _)) = relay {
        relay.shutdown().await;
    }
}

/// One request: the relay's if it is for `/relay` or `/ping` and `relay` is offered here,
/// else the site's.
async fn answer(req: hyper::Request<Incoming>, router: axum::Router, relay: Option<RelayService>) -> axum::response::Response {
    let path = req.uri().path();
    if let Some(relay) = relay {
        if path == iroh_relay::http::RELAY_PATH {
            let notify = Arc::new(tokio::sync::Notify::new());
            return match iroh_relay::server::http_server::RelayServiceWithNotify::new(relay, notify).call(req).await {
                Ok(r) => r.map(Body::new),
                Err(e) => {
                    tracing::debug!("relay request: {e}");
                    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "relay error").into_response()
                }
            };
        }
        if path == iroh_relay::http::RELAY_PROBE_PATH {
            return ([(axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")], "").into_response();
        }
    }
    match router.oneshot(req.map(Body::new)).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relay_is_at_the_members_own_name_with_its_port_only_when_not_443() {
        let e = "AbCdEf0123456789";
        assert_eq!(relay_url("spokes.test", e, 443), "https://spoke-abcdef012345.spokes.test/");
        assert_eq!(relay_url("spokes.test", e, 8443), "https://spoke-abcdef012345.spokes.test:8443/");
        assert_eq!(home_url("0.0.0.0:80".parse().expect("addr")), "http://127.0.0.1:80/");
        assert_eq!(home_url("[::]:8080".parse().expect("addr")), "http://[::1]:8080/");
        assert_eq!(home_url("127.0.0.2:8080".parse().expect("addr")), "http://127.0.0.2:8080/");
    }

    #[test]
    fn plain_http_offers_the_relay_to_this_machine_only() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("ip");
        assert!(RelayFor::Everyone.admits(ip("198.51.100.7"), None));
        assert!(RelayFor::Loopback.admits(ip("127.0.0.1"), Some(ip("0.0.0.0"))));
        assert!(RelayFor::Loopback.admits(ip("203.0.113.5"), Some(ip("203.0.113.5"))), "the spoke dialing its own address");
        assert!(!RelayFor::Loopback.admits(ip("198.51.100.7"), Some(ip("203.0.113.5"))));
        assert!(!RelayFor::Loopback.admits(ip("198.51.100.7"), Some(ip("0.0.0.0"))));
        assert!(!RelayFor::Loopback.admits(ip("0.0.0.0"), Some(ip("0.0.0.0"))));
    }

    #[test]
    fn the_gate_bounds_connections_per_endpoint_and_counts_them_back_down() {
        let m = crate::metrics::Metrics::new();
        let gate = Gate { open: Mutex::default(), connections: m.relay_connections.clone(), clients: m.relay_clients.clone() };
        let a = iroh::SecretKey::generate().public();
        for _ in 0..MAX_PER_ENDPOINT {
            assert_eq!(gate.admit(a), Access::Allow);
        }
        assert!(matches!(gate.admit(a), Access::Deny { .. }), "a fifth connection of one endpoint is refused");
        let b = iroh::SecretKey::generate().public();
        assert_eq!(gate.admit(b), Access::Allow, "another endpoint still gets in");
        assert_eq!(m.relay_clients.get(), (MAX_PER_ENDPOINT + 1) as i64);
        gate.leave(a);
        assert_eq!(gate.admit(a), Access::Allow, "a closed connection frees its place");
        for _ in 0..=MAX_PER_ENDPOINT {
            gate.leave(a);
        }
        gate.leave(b);
        assert_eq!(m.relay_clients.get(), 0, "never below zero, and none left");
        assert!(gate.open.lock().expect("lock").is_empty());
    }
}
