//! Running sessions over iroh connections.

use spokes_core::problem::Code;
use crate::frame::{Frame, FrameType, read_frame, write_frame};
use crate::session::{Hello, Outcome, RemoteError, Replica, SyncError, exchange_with, finish, refuse};
use crate::{ALPN, PROTOCOL_VERSION};
use automerge::sync::State;
use iroh::endpoint::{Connection, RecvStream, SendStream};
use iroh::{Endpoint, EndpointAddr};
use spokes_core::BlogId;
use std::time::Duration;

/// Longest a session may go without moving any data either way before it is abandoned: a
/// peer that stalls is given up on, while a large first publish over a slow link goes on as
/// long as it moves ([`while_moving`]).
pub const SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest a whole session may take however much it moves (a guard against a peer that
/// trickles a byte at a time to hold a session open).
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Longest a pooled (warm) connection may take to answer a session's hello before it is
/// taken for dead and the session is retried on a new connection.
pub const POOLED_ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest a connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Dials `addr` on `alpn`, waiting at most [`CONNECT_TIMEOUT`]. Errors:
/// [`SyncError::Timeout`], [`SyncError::Connect`] (unreachable, or the peer's TLS refused the
/// ALPN).
pub(crate) async fn dial(endpoint: &Endpoint, addr: EndpointAddr, alpn: &[u8]) -> Result<Connection, SyncError> {
    tokio::time::timeout(CONNECT_TIMEOUT, endpoint.connect(addr, alpn)).await.map_err(|_| SyncError::Timeout)?.map_err(|e| SyncError::Connect(e.to_string()))
}

/// Runs `session` on `conn` while it makes progress. It is abandoned with
/// [`SyncError::Timeout`] when no stream data moved on the connection, either way, for
/// `idle` ([`SESSION_IDLE_TIMEOUT`] in the sessions here; checked every `idle`, so a stall is
/// noticed after `idle` to twice that), or after [`SESSION_TIMEOUT`] in all. Progress is
/// QUIC STREAM frames sent and received (`Connection::stats`), so keep-alive pings and
/// acknowledgements do not count.
pub async fn while_moving<T>(conn: &Connection, idle: Duration, session: impl std::future::Future<Output = Result<T, SyncError>>) -> Result<T, SyncError> {
    let moved = || {
        let s = conn.stats();
        s.frame_tx.stream + s.frame_rx.stream
    };
    let watchdog = async {
        let mut last = moved();
        loop {
            tokio::time::sleep(idle).await;
            let now = moved();
            if now == last {
                return;
            }
            last = now;
        }
    };
    tokio::select! {
        r = session => r,
        _ = watchdog => Err(SyncError::Timeout),
        _ = tokio::time::sleep(SESSION_TIMEOUT) => Err(SyncError::Timeout),
    }
}

/// Dials `addr`, runs a session for `replica` as initiator, calls `persist` with the merged
/// replica (before telling the peer we are done), and returns the outcome.
pub async fn initiate<F>(endpoint: &Endpoint, addr: EndpointAddr, hello: Hello, replica: &mut Replica, state: &mut State, persist: F) -> Result<Outcome, SyncError>
where
    F: FnOnce(&mut Replica, &State, &Outcome) -> Result<(), RemoteError>,
{
    let conn = dial(endpoint, addr, ALPN).await?;
    let hello = hello.with_heads(&replica.doc.get_heads());
    let r = while_moving(&conn, SESSION_IDLE_TIMEOUT, initiate_on(&conn, hello, replica, state, persist)).await;
    conn.close(0u32.into(), b"done");
    r
}

async fn initiate_on<F>(conn: &Connection, hello: Hello, replica: &mut Replica, state: &mut State, persist: F) -> Result<Outcome, SyncError>
where
    F: FnOnce(&mut Replica, &State, &Outcome) -> Result<(), RemoteError>,
{
    let (mut send, mut recv, answer) = open_stream(conn, &Frame::json(FrameType::Hello, &hello)).await?;
    run_initiated(&mut send, &mut recv, answer, &hello, replica, state, persist).await
}

async fn run_initiated<F>(send: &mut SendStream, recv: &mut RecvStream, answer: Frame, hello: &Hello, replica: &mut Replica, state: &mut State, persist: F) -> Result<Outcome, SyncError>
where
    F: FnOnce(&mut Replica, &State, &Outcome) -> Result<(), RemoteError>,
{
    let peer_heads = match answer.typ {
        FrameType::Hello => {
            let h: Hello = answer.parse_json()?;
            if h.protocol != PROTOCOL_VERSION || h.blog_id != hello.blog_id {
                return Err(refuse(send, RemoteError::new(Code::UnsupportedVersion, "the spoke answered for another protocol or blog")).await);
            }
            match h.parsed_heads() {
                Ok(heads) => heads.filter(|_| hello.heads.is_some()),
                Err(e) => return Err(refuse(send, e).await),
            }
        }
        FrameType::Error => {
            let e = crate::session::refusal_from_peer(&answer);
            return Err(SyncError::Remote(e));
        }
        other => return Err(crate::FrameError::Unexpected { expected: FrameType::Hello, got: other }.into()),
    };
    let mut outcome = exchange_with(send, recv, true, replica, state, peer_heads.as_deref()).await?;
    let persisted = persist(replica, state, &outcome).map(|_| outcome.heads.clone());
    match finish(send, recv, true, persisted).await {
        Ok(h) => outcome.peer_heads = h,
        Err(e) => {
            // The peer refused to keep what it received: the state's shared heads are wrong.
            *state = State::new();
            return Err(e);
        }
    }
    let _ = send.finish();
    Ok(outcome)
}

/// The pool's connections, by peer and ALPN.
type Pooled = std::collections::HashMap<(iroh::EndpointId, &'static [u8]), Connection>;

/// Connections kept open between sessions, one per peer and protocol: a writer that publishes
/// again to the same spoke skips the QUIC and TLS handshake (a warm connection). Each session runs on
/// its own bidirectional stream of the peer's connection.
///
/// A cached connection the peer has since closed or lost is noticed when the session's hello
/// gets no answer within [`POOLED_ANSWER_TIMEOUT`]; the session is then retried once on a new
/// connection. Idle
/// connections close after iroh's idle timeout and are dialled again when next needed.
#[derive(Debug, Clone)]
pub struct ConnectionPool {
    endpoint: Endpoint,
    /// One connection per peer and ALPN (`spokes/sync/1`, `spokes/sync/2`).
    conns: std::sync::Arc<tokio::sync::Mutex<Pooled>>,
    dialled: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl ConnectionPool {
    /// A pool dialling from `endpoint`.
    pub fn new(endpoint: Endpoint) -> ConnectionPool {
        ConnectionPool { endpoint, conns: Default::default(), dialled: Default::default() }
    }

    /// How many connections the pool has dialled so far (for diagnostics: a pool that keeps
    /// its connections warm dials once per peer).
    pub fn dialled(&self) -> u64 {
        self.dialled.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The endpoint it dials from.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The pooled connection to `addr` on `alpn` (`true`), or a new one (`false`); `fresh`
    /// dials even when one is pooled.
    async fn connection(&self, addr: &EndpointAddr, alpn: &'static [u8], fresh: bool) -> Result<(Connection, bool), SyncError> {
        if !fresh
            && let Some(c) = self.conns.lock().await.get(&(addr.id, alpn))
            && c.close_reason().is_none()
        {
            return Ok((c.clone(), true));
        }
        // Dial without holding the lock: an unreachable spoke must not delay the others.
        self.dialled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let conn = tokio::time::timeout(CONNECT_TIMEOUT, self.endpoint.connect(addr.clone(), alpn))
            .await
            .map_err(|_| SyncError::Timeout)?
            .map_err(|e| SyncError::Connect(e.to_string()))?;
        self.conns.lock().await.insert((addr.id, alpn), conn.clone());
        Ok((conn, false))
    }

    /// Opens a session stream on the pooled connection to `addr` on `alpn` (dialled if there
    /// is none): sends `hello` and reads the answer frame. A pooled connection that does not
    /// answer within a short while (the peer restarted) is closed and dialled again.
    pub(crate) async fn open(&self, addr: &EndpointAddr, alpn: &'static [u8], hello: &Frame) -> Result<(Connection, (SendStream, RecvStream, Frame)), SyncError> {
        let (conn, cached) = self.connection(addr, alpn, false).await?;
        let opened = if cached {
            // A peer that restarted never answers on the old connection; QUIC would only
            // notice at its idle timeout. Give a pooled connection a short while instead.
            tokio::time::timeout(POOLED_ANSWER_TIMEOUT, open_stream(&conn, hello)).await.unwrap_or(Err(SyncError::Timeout))
        } else {
            open_stream(&conn, hello).await
        };
        match opened {
            Err(e) if cached => {
                conn.close(0u32.into(), b"stale");
                tracing::debug!("pooled connection unusable ({e}); dialling again");
                let (conn, _) = self.connection(addr, alpn, true).await?;
                let opened = open_stream(&conn, hello).await?;
                Ok((conn, opened))
            }
            r => r.map(|opened| (conn, opened)),
        }
    }

    /// Runs a session as initiator like [`initiate`], on the pooled connection to `addr`
    /// (dialled if there is none). Errors as [`initiate`].
    pub async fn session<F>(&self, addr: EndpointAddr, hello: Hello, replica: &mut Replica, state: &mut State, persist: F) -> Result<Outcome, SyncError>
    where
        F: FnOnce(&mut Replica, &State, &Outcome) -> Result<(), RemoteError>,
    {
        let hello = hello.with_heads(&replica.doc.get_heads());
        let (conn, (mut send, mut recv, answer)) = tokio::time::timeout(SESSION_IDLE_TIMEOUT, self.open(&addr, ALPN, &Frame::json(FrameType::Hello, &hello))).await.map_err(|_| SyncError::Timeout)??;
        while_moving(&conn, SESSION_IDLE_TIMEOUT, run_initiated(&mut send, &mut recv, answer, &hello, replica, state, persist)).await
    }

    /// Closes every connection and the endpoint.
    pub async fn close(&self) {
        for (_, c) in self.conns.lock().await.drain() {
            c.close(0u32.into(), b"done");
        }
        self.endpoint.close().await;
    }
}

/// Opens a stream, sends the hello frame and reads the answer frame.
async fn open_stream(conn: &Connection, hello: &Frame) -> Result<(SendStream, RecvStream, Frame), SyncError> {
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
    write_frame(&mut send, hello).await?;
    let answer = read_frame(&mut recv).await?;
    Ok((send, recv, answer))
}

/// What a spoke (or any responder) provides to answer sessions.
pub trait Host: Send + Sync + 'static {
    /// Admission and loading. Called with the peer's endpoint ID and hello; returns the replica
    /// and the persisted sync state for (peer, blog), or a refusal sent to the peer.
    fn open(&self, peer: &str, hello: &Hello) -> Result<(Replica, State), RemoteError>;
    /// Persists a successful session's result before `Done` is sent.
    fn commit(&self, peer: &str, hello: &Hello, replica: &mut Replica, state: &State, outcome: &Outcome) -> Result<(), RemoteError>;
    /// Records a failed session (refusals, protocol errors) for the operator.
    fn record_failure(&self, peer: &str, blog: Option<&BlogId>, error: &SyncError);
}

/// Answers one incoming connection: each bidirectional stream the peer opens is one session
/// (a peer keeping its connection warm opens one per publish). For each, reads the hello, asks
/// `host` to admit and load, runs the session, asks `host` to persist, and reports failures
/// to `host`. Returns when the peer closes the connection (or it times out idle), with the
/// outcome of the last session.
pub async fn respond<H: Host + ?Sized>(host: &H, conn: Connection) -> Result<Outcome, SyncError> {
    let peer = conn.remote_id().to_string();
    let mut last = Err(SyncError::Connect("the peer opened no session".into()));
    loop {
        let streams = tokio::select! {
            s = conn.accept_bi() => s,
            _ = conn.closed() => break,
        };
        let Ok((mut send, mut recv)) = streams else { break };
        let mut blog = None;
        let r = while_moving(&conn, SESSION_IDLE_TIMEOUT, respond_on(host, &mut send, &mut recv, &peer, &mut blog)).await;
        if let Err(e) = &r {
            host.record_failure(&peer, blog.as_ref(), e);
        }
        let failed = r.is_err();
        last = r;
        if failed {
            // A failed session may have left frames unread: close the whole connection.
            let _ = tokio::time::timeout(Duration::from_secs(5), conn.closed()).await;
            break;
        }
    }
    last
}

async fn respond_on<H: Host + ?Sized>(host: &H, send: &mut SendStream, recv: &mut RecvStream, peer: &str, blog: &mut Option<BlogId>) -> Result<Outcome, SyncError> {
    let first = read_frame(recv).await?;
    if first.typ != FrameType::Hello {
        return Err(refuse(send, RemoteError::new(Code::Malformed, "the session must start with hello")).await);
    }
    let hello: Hello = match first.parse_json::<serde_json::Value>() {
        Ok(v) => {
            let version = v.get("protocol").and_then(|p| p.as_u64()).unwrap_or(0);
            if version != PROTOCOL_VERSION as u64 {
                return Err(refuse(send, RemoteError::new(Code::UnsupportedVersion, format!("protocol version {version} is not supported; this spoke speaks version {PROTOCOL_VERSION}"))).await);
            }
            match serde_json::from_value(v) {
                Ok(h) => h,
                Err(e) => return Err(refuse(send, RemoteError::new(Code::Malformed, e.to_string())).await),
            }
        }
        Err(e) => return Err(refuse(send, RemoteError::new(Code::Malformed, e.to_string())).await),
    };
    *blog = Some(hello.blog_id.clone());
    let started = std::time::Instant::now();
    let (mut replica, mut state) = match host.open(peer, &hello) {
        Ok(x) => x,
        Err(e) => return Err(refuse(send, e).await),
    };
    let opened = started.elapsed();
    // Heads in the hello turn on the changes step (a peer without them is synced as before).
    let peer_heads = match hello.parsed_heads() {
        Ok(h) => h,
        Err(e) => return Err(refuse(send, e).await),
    };
    let mut answer = Hello::new(hello.blog_id.clone(), None);
    if peer_heads.is_some() {
        answer = answer.with_heads(&replica.doc.get_heads());
    }
    write_frame(send, &Frame::json(FrameType::Hello, &answer)).await?;
    let mut outcome = exchange_with(send, recv, false, &mut replica, &mut state, peer_heads.as_deref()).await?;
    let exchanged = started.elapsed();
    let persisted = host.commit(peer, &hello, &mut replica, &state, &outcome).map(|_| outcome.heads.clone());
    tracing::debug!(open_ms = opened.as_secs_f64() * 1e3, exchange_ms = (exchanged - opened).as_secs_f64() * 1e3, commit_ms = (started.elapsed() - exchanged).as_secs_f64() * 1e3, "session timings");
    outcome.peer_heads = finish(send, recv, false, persisted).await?;
    let _ = send.finish();
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_ALPN: &[u8] = b"spokes/test-while-moving/1";

    /// Two real endpoints on loopback; the listener echoes nothing, it only reads what comes
    /// (so the dialler's writes are the only data that moves). Returns the dialler's connection.
    async fn connected() -> (Endpoint, Endpoint, Connection) {
        let a = crate::net::bind_endpoint(iroh::SecretKey::generate(), "127.0.0.1:0".parse().unwrap(), vec![]).await.unwrap();
        let b = crate::net::bind_endpoint(iroh::SecretKey::generate(), "127.0.0.1:0".parse().unwrap(), vec![TEST_ALPN.to_vec()]).await.unwrap();
        let listener = b.clone();
        tokio::spawn(async move {
            let conn = listener.accept().await.unwrap().await.unwrap();
            let (_send, mut recv) = conn.accept_bi().await.unwrap();
            let mut buf = vec![0u8; 1024];
            while let Ok(Some(_)) = recv.read(&mut buf).await {}
            conn.closed().await;
        });
        let conn = a.connect(b.addr(), TEST_ALPN).await.unwrap();
        (a, b, conn)
    }

    #[tokio::test]
    async fn a_session_that_keeps_moving_outlives_the_idle_timeout_and_a_stalled_one_does_not() {
        let (_a, _b, conn) = connected().await;
        let (mut send, _recv) = conn.open_bi().await.unwrap();
        let idle = Duration::from_millis(300);
        // Writes a little every 100 ms for 1.5 s: five idle timeouts long, never idle.
        let started = std::time::Instant::now();
        let r = while_moving(&conn, idle, async {
            for _ in 0..15 {
                send.write_all(b"a slow link, still moving").await.map_err(|e| SyncError::Connect(e.to_string()))?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(())
        })
        .await;
        assert!(r.is_ok(), "a session that moves is not cut: {r:?}");
        assert!(started.elapsed() >= Duration::from_millis(1500));
        // Then nothing moves: the session is given up on after one to two idle timeouts.
        let started = std::time::Instant::now();
        let r = while_moving(&conn, idle, std::future::pending::<Result<(), SyncError>>()).await;
        assert!(matches!(r, Err(SyncError::Timeout)), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "a stall is noticed within two idle timeouts, not at the session cap");
    }
}
