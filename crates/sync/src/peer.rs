//! Running sessions over iroh connections.

use crate::frame::{Frame, FrameType, read_frame, write_frame};
use crate::session::{Hello, Outcome, RemoteError, Replica, SyncError, exchange, finish, refuse};
use crate::{ALPN, PROTOCOL_VERSION};
use automerge::sync::State;
use iroh::endpoint::Connection;
use iroh::{Endpoint, EndpointAddr};
use spokes_core::BlogId;
use std::time::Duration;

/// Longest a whole session may take before it is abandoned.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest a connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Dials `addr`, runs a session for `replica` as initiator, calls `persist` with the merged
/// replica (before telling the peer we are done), and returns the outcome.
pub async fn initiate<F>(endpoint: &Endpoint, addr: EndpointAddr, hello: Hello, replica: &mut Replica, state: &mut State, persist: F) -> Result<Outcome, SyncError>
where
    F: FnOnce(&Replica, &State, &Outcome) -> Result<(), RemoteError>,
{
    let conn = tokio::time::timeout(CONNECT_TIMEOUT, endpoint.connect(addr, ALPN))
        .await
        .map_err(|_| SyncError::Timeout)?
        .map_err(|e| SyncError::Connect(e.to_string()))?;
    let r = tokio::time::timeout(SESSION_TIMEOUT, initiate_on(&conn, hello, replica, state, persist)).await;
    conn.close(0u32.into(), b"done");
    r.map_err(|_| SyncError::Timeout)?
}

async fn initiate_on<F>(conn: &Connection, hello: Hello, replica: &mut Replica, state: &mut State, persist: F) -> Result<Outcome, SyncError>
where
    F: FnOnce(&Replica, &State, &Outcome) -> Result<(), RemoteError>,
{
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
    write_frame(&mut send, &Frame::json(FrameType::Hello, &hello)).await?;
    let answer = read_frame(&mut recv).await?;
    match answer.typ {
        FrameType::Hello => {
            let h: Hello = answer.parse_json()?;
            if h.protocol != PROTOCOL_VERSION || h.blog_id != hello.blog_id {
                return Err(refuse(&mut send, RemoteError::new("unsupported-version", "the spoke answered for another protocol or blog")).await);
            }
        }
        FrameType::Error => {
            let e: RemoteError = answer.parse_json().unwrap_or_else(|_| RemoteError::new("malformed", "unreadable error"));
            return Err(SyncError::Remote(e));
        }
        other => return Err(crate::FrameError::Unexpected { expected: FrameType::Hello, got: other }.into()),
    }
    let mut outcome = exchange(&mut send, &mut recv, true, replica, state).await?;
    let persisted = persist(replica, state, &outcome).map(|_| outcome.heads.clone());
    outcome.peer_heads = finish(&mut send, &mut recv, true, persisted).await?;
    let _ = send.finish();
    Ok(outcome)
}

/// What a spoke (or any responder) provides to answer sessions.
pub trait Host: Send + Sync + 'static {
    /// Admission and loading. Called with the peer's endpoint ID and hello; returns the replica
    /// and the persisted sync state for (peer, blog), or a refusal sent to the peer.
    fn open(&self, peer: &str, hello: &Hello) -> Result<(Replica, State), RemoteError>;
    /// Persists a successful session's result before `Done` is sent.
    fn commit(&self, peer: &str, hello: &Hello, replica: &Replica, state: &State, outcome: &Outcome) -> Result<(), RemoteError>;
    /// Records a failed session (refusals, protocol errors) for the operator.
    fn record_failure(&self, peer: &str, blog: Option<&BlogId>, error: &SyncError);
}

/// Answers one incoming connection: reads the hello, asks `host` to admit and load, runs the
/// session, asks `host` to persist, and reports failures to `host`.
pub async fn respond<H: Host + ?Sized>(host: &H, conn: Connection) -> Result<Outcome, SyncError> {
    let peer = conn.remote_id().to_string();
    let mut blog = None;
    let r = tokio::time::timeout(SESSION_TIMEOUT, respond_on(host, &conn, &peer, &mut blog)).await.unwrap_or(Err(SyncError::Timeout));
    if let Err(e) = &r {
        host.record_failure(&peer, blog.as_ref(), e);
    }
    // The initiator closes; wait briefly for it so the last frames are delivered.
    let _ = tokio::time::timeout(Duration::from_secs(5), conn.closed()).await;
    r
}

async fn respond_on<H: Host + ?Sized>(host: &H, conn: &Connection, peer: &str, blog: &mut Option<BlogId>) -> Result<Outcome, SyncError> {
    let (mut send, mut recv) = conn.accept_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
    let first = read_frame(&mut recv).await?;
    if first.typ != FrameType::Hello {
        return Err(refuse(&mut send, RemoteError::new("malformed", "the session must start with hello")).await);
    }
    let hello: Hello = match first.parse_json::<serde_json::Value>() {
        Ok(v) => {
            let version = v.get("protocol").and_then(|p| p.as_u64()).unwrap_or(0);
            if version != PROTOCOL_VERSION as u64 {
                return Err(refuse(&mut send, RemoteError::new("unsupported-version", format!("protocol version {version} is not supported; this spoke speaks version {PROTOCOL_VERSION}"))).await);
            }
            match serde_json::from_value(v) {
                Ok(h) => h,
                Err(e) => return Err(refuse(&mut send, RemoteError::new("malformed", e.to_string())).await),
            }
        }
        Err(e) => return Err(refuse(&mut send, RemoteError::new("malformed", e.to_string())).await),
    };
    *blog = Some(hello.blog_id.clone());
    let (mut replica, mut state) = match host.open(peer, &hello) {
        Ok(x) => x,
        Err(e) => return Err(refuse(&mut send, e).await),
    };
    write_frame(&mut send, &Frame::json(FrameType::Hello, &Hello::new(hello.blog_id.clone(), None))).await?;
    let mut outcome = exchange(&mut send, &mut recv, false, &mut replica, &mut state).await?;
    let persisted = host.commit(peer, &hello, &replica, &state, &outcome).map(|_| outcome.heads.clone());
    outcome.peer_heads = finish(&mut send, &mut recv, false, persisted).await?;
    let _ = send.finish();
    Ok(outcome)
}
