//! `spokes/drafts/1`: the writer's devices leave their drafts, sealed
//! (`spokes_core::seal`), with the spokes, and take the other devices' drafts from there.
//!
//! One exchange per bidirectional stream, frames as in [`crate::frame`]:
//!
//! 1. writer → spoke: `Hello`, JSON [`DraftsHello`] (`{"protocol":1,"blog_id":"…"}`).
//! 2. writer → spoke: `SealedDrafts`, this device's sealed drafts (empty: none to leave).
//! 3. spoke → writer: either `Error` (JSON [`RemoteError`]: `unsupported-version`,
//!    `not-hosted`, `bad-signature`, `malformed`, `internal`), or one `SealedDrafts` frame per
//!    other device's stored drafts followed by `Done` (JSON `{"count": n}`).
//!
//! The spoke checks the seal's signature against the blog's certificate and keeps the newest
//! sealed drafts per signing key; it cannot read them.

use spokes_core::problem::Code;
use crate::frame::{Frame, FrameType, read_frame, write_frame};
use crate::session::{RemoteError, SyncError, refuse};
use iroh::endpoint::Connection;
use iroh::{Endpoint, EndpointAddr};
use serde::{Deserialize, Serialize};
use spokes_core::BlogId;

/// The ALPN of the drafts exchange, version 1.
pub const DRAFTS_ALPN: &[u8] = b"spokes/drafts/1";
/// The version carried in its hello.
pub const DRAFTS_PROTOCOL: u32 = 1;
/// Most sealed drafts a spoke returns in one exchange (devices of one author).
pub const MAX_DEVICES: usize = 32;

/// The first frame of an exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftsHello {
    /// [`DRAFTS_PROTOCOL`].
    pub protocol: u32,
    /// The blog whose drafts are exchanged.
    pub blog_id: BlogId,
}

/// What a spoke provides to answer drafts exchanges.
pub trait DraftsHost: Send + Sync + 'static {
    /// Checks and stores `sealed` (if any) from `peer` for `blog`, and returns the sealed
    /// drafts of the blog's other devices (at most [`MAX_DEVICES`]).
    fn exchange(&self, peer: &str, blog: &BlogId, sealed: Option<&[u8]>) -> Result<Vec<Vec<u8>>, RemoteError>;
}

/// Leaves `sealed` (if any) with the spoke at `addr` and returns the other devices' sealed
/// drafts. Errors: [`SyncError`] (unreachable, timeout, refusal with its code).
pub async fn exchange(endpoint: &Endpoint, addr: EndpointAddr, blog_id: &BlogId, sealed: Option<Vec<u8>>) -> Result<Vec<Vec<u8>>, SyncError> {
    let conn = tokio::time::timeout(crate::peer::CONNECT_TIMEOUT, endpoint.connect(addr, DRAFTS_ALPN))
        .await
        .map_err(|_| SyncError::Timeout)?
        .map_err(|e| SyncError::Connect(e.to_string()))?;
    let r = crate::peer::while_moving(&conn, crate::peer::SESSION_IDLE_TIMEOUT, async {
        let (mut send, mut recv) = conn.open_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
        write_frame(&mut send, &Frame::json(FrameType::Hello, &DraftsHello { protocol: DRAFTS_PROTOCOL, blog_id: blog_id.clone() })).await?;
        write_frame(&mut send, &Frame { typ: FrameType::SealedDrafts, payload: sealed.unwrap_or_default() }).await?;
        let mut out = Vec::new();
        loop {
            let f = read_frame(&mut recv).await?;
            match f.typ {
                FrameType::SealedDrafts if out.len() < MAX_DEVICES => out.push(f.payload),
                FrameType::Done => break,
                FrameType::Error => {
                    let e = crate::session::refusal_from_peer(&f);
                    return Err(SyncError::Remote(e));
                }
                other => return Err(crate::FrameError::Unexpected { expected: FrameType::Done, got: other }.into()),
            }
        }
        let _ = send.finish();
        Ok(out)
    })
    .await;
    conn.close(0u32.into(), b"done");
    r
}

/// Answers one incoming drafts connection (one exchange). Returns how many sealed drafts
/// were sent back.
pub async fn respond<H: DraftsHost + ?Sized>(host: &H, conn: Connection) -> Result<usize, SyncError> {
    let peer = conn.remote_id().to_string();
    let (mut send, mut recv) = conn.accept_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
    let r = crate::peer::while_moving(&conn, crate::peer::SESSION_IDLE_TIMEOUT, async {
        let first = read_frame(&mut recv).await?;
        if first.typ != FrameType::Hello {
            return Err(refuse(&mut send, RemoteError::new(Code::Malformed, "the exchange must start with hello")).await);
        }
        let hello: DraftsHello = match first.parse_json() {
            Ok(h) => h,
            Err(e) => return Err(refuse(&mut send, RemoteError::new(Code::Malformed, e.to_string())).await),
        };
        if hello.protocol != DRAFTS_PROTOCOL {
            return Err(refuse(&mut send, RemoteError::new(Code::UnsupportedVersion, format!("drafts protocol {} is not supported; this spoke speaks {DRAFTS_PROTOCOL}", hello.protocol))).await);
        }
        let sealed = read_frame(&mut recv).await?;
        if sealed.typ != FrameType::SealedDrafts {
            return Err(refuse(&mut send, RemoteError::new(Code::Malformed, "expected sealed drafts")).await);
        }
        let mine = if sealed.payload.is_empty() { None } else { Some(sealed.payload.as_slice()) };
        let others = match host.exchange(&peer, &hello.blog_id, mine) {
            Ok(o) => o,
            Err(e) => return Err(refuse(&mut send, e).await),
        };
        let n = others.len().min(MAX_DEVICES);
        for payload in others.into_iter().take(MAX_DEVICES) {
            write_frame(&mut send, &Frame { typ: FrameType::SealedDrafts, payload }).await?;
        }
        write_frame(&mut send, &Frame::json(FrameType::Done, &serde_json::json!({ "count": n }))).await?;
        let _ = send.finish();
        Ok(n)
    })
    .await;
    // Let the writer read everything before the connection goes.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn.closed()).await;
    r
}
