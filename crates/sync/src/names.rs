//! `spokes/name/1`: a writer asks a spoke to register, keep or release its blog's name in the
//! council's DNS zone (`spokes_core::names`; the spoke's side is `spoke::naming`).
//!
//! One exchange per bidirectional stream, frames as in [`crate::frame`], at most
//! [`MAX_REQUESTS`] per connection:
//!
//! 1. writer → spoke: `NameRequest`, JSON [`NameRequest`]
//!    (`{"protocol":1,"op":"zone"|"claim"|"release","blog_id":"…","binding":{…}}`).
//! 2. spoke → writer: `NameAnswer`, JSON [`NameAnswer`], or `Error` with a code:
//!    `unsupported-version`, `malformed`, `no-names` (the spoke has no council domain),
//!    `not-hosted`, `bad-name`, `bad-signature`, `dns-failed`, `rate-limited`, `internal`.
//!
//! `zone` asks which zone names are registered in (the writer signs its binding for it);
//! `claim` registers the binding's name with the spoke's addresses, or says it is taken and
//! offers free names; `release` removes the name if it is still bound to the blog. A spoke acts
//! only for a blog it hosts, and only on a binding its author signed for this zone.

use crate::frame::{Frame, FrameType, read_frame, write_frame};
use crate::session::{RemoteError, SyncError, refuse};
use iroh::endpoint::Connection;
use iroh::{Endpoint, EndpointAddr};
use serde::{Deserialize, Serialize};
use spokes_core::BlogId;
use spokes_core::names::NameBinding;
use spokes_core::problem::Code;

/// The ALPN of the names exchange, version 1.
pub const NAME_ALPN: &[u8] = b"spokes/name/1";
/// The version carried in its requests.
pub const NAME_PROTOCOL: u32 = 1;
/// Most requests answered on one connection.
pub const MAX_REQUESTS: usize = 4;
/// Most free names offered with a `taken` answer.
pub const MAX_ALTERNATIVES: usize = 3;

/// What the writer asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NameOp {
    /// Which zone the spoke registers names in.
    Zone,
    /// Register the binding's name (or keep it, if it is already the blog's).
    Claim,
    /// Remove the binding's name.
    Release,
}

/// A request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameRequest {
    /// [`NAME_PROTOCOL`].
    pub protocol: u32,
    /// What is asked.
    pub op: NameOp,
    /// The blog.
    pub blog_id: BlogId,
    /// The name bound to the blog, signed by its author; required for `claim` and `release`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<NameBinding>,
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NameOutcome {
    /// The answer to `zone`.
    Zone,
    /// The name was free and is now the blog's.
    Claimed,
    /// The name was already the blog's; this spoke's addresses are in it.
    Yours,
    /// Another blog has the name; see `alternatives`.
    Taken,
    /// The name is gone (or was not there).
    Released,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameAnswer {
    /// [`NAME_PROTOCOL`].
    pub protocol: u32,
    /// How it ended.
    pub outcome: NameOutcome,
    /// The spoke's zone, for example `spokes.example`.
    pub zone: String,
    /// With `taken`: free names like the one asked for, at most [`MAX_ALTERNATIVES`].
    #[serde(default)]
    pub alternatives: Vec<String>,
}

/// The spoke's side: what it does for each request.
pub trait NameHost: Send + Sync {
    /// Answers one request from `peer` (the request is well formed and of this version).
    fn answer(&self, peer: &str, request: NameRequest) -> impl std::future::Future<Output = Result<NameAnswer, RemoteError>> + Send;
}

/// Sends `request` to the spoke at `addr` and returns its answer. Errors: [`SyncError`]
/// (unreachable, timeout, a refusal with its code).
pub async fn request(endpoint: &Endpoint, addr: EndpointAddr, request: &NameRequest) -> Result<NameAnswer, SyncError> {
    let conn = crate::peer::dial(endpoint, addr, NAME_ALPN).await?;
    let r = tokio::time::timeout(crate::peer::SESSION_IDLE_TIMEOUT, async {
        let (mut send, mut recv) = conn.open_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
        write_frame(&mut send, &Frame::json(FrameType::NameRequest, request)).await?;
        let _ = send.finish();
        let f = read_frame(&mut recv).await?;
        match f.typ {
            FrameType::NameAnswer => Ok(f.parse_json::<NameAnswer>()?),
            FrameType::Error => Err(SyncError::Remote(crate::session::refusal_from_peer(&f))),
            other => Err(crate::FrameError::Unexpected { expected: FrameType::NameAnswer, got: other }.into()),
        }
    })
    .await
    .unwrap_or(Err(SyncError::Timeout));
    conn.close(0u32.into(), b"done");
    r
}

/// Answers one incoming names connection (up to [`MAX_REQUESTS`] requests, one per stream).
pub async fn respond<H: NameHost>(host: &H, conn: Connection) -> Result<usize, SyncError> {
    let peer = conn.remote_id().to_string();
    let mut answered = 0;
    while answered < MAX_REQUESTS {
        let Ok(Ok((mut send, mut recv))) = tokio::time::timeout(crate::peer::SESSION_IDLE_TIMEOUT, conn.accept_bi()).await else { break };
        let one = tokio::time::timeout(crate::peer::SESSION_IDLE_TIMEOUT, async {
            let f = read_frame(&mut recv).await?;
            if f.typ != FrameType::NameRequest {
                return Err(refuse(&mut send, RemoteError::new(Code::Malformed, "a names exchange starts with a name request")).await);
            }
            let req: NameRequest = match f.parse_json() {
                Ok(r) => r,
                Err(e) => return Err(refuse(&mut send, RemoteError::new(Code::Malformed, e.to_string())).await),
            };
            if req.protocol != NAME_PROTOCOL {
                return Err(refuse(&mut send, RemoteError::new(Code::UnsupportedVersion, format!("names protocol {} is not supported; this spoke speaks {NAME_PROTOCOL}", req.protocol))).await);
            }
            if req.op != NameOp::Zone && req.binding.is_none() {
                return Err(refuse(&mut send, RemoteError::new(Code::Malformed, "claim and release need the signed binding")).await);
            }
            match host.answer(&peer, req).await {
                Ok(a) => {
                    write_frame(&mut send, &Frame::json(FrameType::NameAnswer, &a)).await?;
                    let _ = send.finish();
                    Ok(())
                }
                Err(e) => Err(refuse(&mut send, e).await),
            }
        })
        .await
        .unwrap_or(Err(SyncError::Timeout));
        let _ = send.finish();
        answered += 1;
        if let Err(e) = one {
            // The refusal is delivered before the connection goes: the peer closes it.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn.closed()).await;
            return Err(e);
        }
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn.closed()).await;
    Ok(answered)
}
