//! `spokes/drafts/1` and `spokes/drafts/2` ([`DRAFT_ITEMS_ALPN`]): the writer's devices leave their drafts, sealed
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
    let conn = crate::peer::dial(endpoint, addr, DRAFTS_ALPN).await?;
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

/// Reads the hello of a drafts exchange and checks it is of `protocol`, refusing otherwise
/// (`malformed`, `unsupported-version`).
async fn read_hello(send: &mut iroh::endpoint::SendStream, recv: &mut iroh::endpoint::RecvStream, protocol: u32) -> Result<DraftsHello, SyncError> {
    let first = read_frame(recv).await?;
    if first.typ != FrameType::Hello {
        return Err(refuse(send, RemoteError::new(Code::Malformed, "the exchange must start with hello")).await);
    }
    let hello: DraftsHello = match first.parse_json() {
        Ok(h) => h,
        Err(e) => return Err(refuse(send, RemoteError::new(Code::Malformed, e.to_string())).await),
    };
    if hello.protocol != protocol {
        return Err(refuse(send, RemoteError::new(Code::UnsupportedVersion, format!("drafts protocol {} is not supported on this ALPN, which speaks {protocol}", hello.protocol))).await);
    }
    Ok(hello)
}

/// Answers one incoming drafts connection (one exchange). Returns how many sealed drafts
/// were sent back.
pub async fn respond<H: DraftsHost + ?Sized>(host: &H, conn: Connection) -> Result<usize, SyncError> {
    let peer = conn.remote_id().to_string();
    let (mut send, mut recv) = conn.accept_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
    let r = crate::peer::while_moving(&conn, crate::peer::SESSION_IDLE_TIMEOUT, async {
        let hello = read_hello(&mut send, &mut recv, DRAFTS_PROTOCOL).await?;
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

/// The ALPN of the drafts exchange by item, version 2: each device leaves its drafts as one
/// sealed item per document (the index, each post), and only what changed travels.
///
/// One exchange per bidirectional stream, frames as in [`crate::frame`]:
///
/// 1. writer → spoke: `Hello`, JSON [`DraftsHello`] with `protocol` 2.
/// 2. spoke → writer: `Error` (`unsupported-version`, `not-hosted`, `suspended`, `malformed`,
///    `internal`), or the spoke's inventory: `DraftInventory` frames, each a JSON array of at
///    most [`LIST_CHUNK`] [`ItemRef`] (every item it holds for the blog, every device's),
///    then `Done` (JSON `{"count": n}`).
/// 3. writer → spoke: `DraftItem` frames, the items it leaves (name, newline, sealed bytes);
///    `DraftWants` frames, JSON arrays of at most [`LIST_CHUNK`] `[device, item]` pairs it
///    takes; then `Done` (`{}`).
/// 4. spoke → writer: `Error` (`bad-signature` for an item whose seal does not verify against
///    the blog's certificate, `malformed`, `quota` when the blog's drafts would pass the
///    spoke's limit) or one `DraftItem` per wanted item it holds (device, newline, name,
///    newline, sealed bytes), then `Done` (JSON `{"stored": n, "sent": m}`).
///
/// Item names are `index`, a post ID, or `bundle` (a whole drafts bundle a device left with
/// `spokes/drafts/1`; listed so an updated computer still takes an older one's drafts, never
/// written through this protocol). The spoke keeps the newest seal per (device, item), the
/// device being the seal's signing key, and cannot read them. A device's `spokes/drafts/1`
/// bundle is deleted when it leaves items.
pub const DRAFT_ITEMS_ALPN: &[u8] = b"spokes/drafts/2";
/// The version carried in the hello of [`DRAFT_ITEMS_ALPN`].
pub const DRAFT_ITEMS_PROTOCOL: u32 = 2;
/// Most items a spoke keeps for one blog, every device's together; an inventory lists at most
/// this many and an exchange takes or asks for at most this many.
pub const MAX_ITEMS: usize = 2 * 100_000 + 64;
/// Most entries in one `DraftInventory` or `DraftWants` frame.
pub const LIST_CHUNK: usize = 10_000;
/// Most bytes of `DraftWants` frames a spoke reads in one exchange (200,064 wants of two
/// names each are under 30 MB); more is refused as `malformed`.
pub const MAX_WANTS_BYTES: usize = 32 << 20;
/// Most bytes of items one exchange takes from a spoke (the seals of a 10,000-post blog's
/// drafts are about 50 MB); a spoke that sends more is refused as `too-large`.
pub const MAX_RECEIVED_BYTES: usize = 1 << 30;
/// The item name of a `spokes/drafts/1` bundle in an inventory.
pub const BUNDLE_ITEM: &str = "bundle";

/// One item a spoke holds: whose, which, and the BLAKE3 hash (hex) of its sealed bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ItemRef {
    /// Fingerprint of the device key that sealed it (uppercase hex).
    pub device: String,
    /// `index`, a post ID or [`BUNDLE_ITEM`].
    pub item: String,
    /// BLAKE3 of the sealed bytes, hex.
    pub hash: String,
}

/// An item as received from a spoke: its device as the spoke says (the seal says for
/// certain), its name and sealed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedItem {
    /// The device the spoke filed it under.
    pub device: String,
    /// Its name.
    pub item: String,
    /// The sealed bytes (`spokes_core::seal`).
    pub sealed: Vec<u8>,
}

/// Whether `name` is an item a device may leave: `index` or a post ID.
pub fn is_item_name(name: &str) -> bool {
    name == "index" || spokes_core::manifest::is_post_id(name)
}

/// What a spoke provides to answer `spokes/drafts/2`.
pub trait DraftItemsHost: Send + Sync + 'static {
    /// Every item held for `blog` (at most [`MAX_ITEMS`]). Errors: not hosted, suspended.
    fn inventory(&self, peer: &str, blog: &BlogId) -> Result<Vec<ItemRef>, RemoteError>;
    /// Checks the seal of each of `items` (name, sealed bytes) against the blog's certificate
    /// and keeps it as that item of its signing device, the batch in one write. Errors:
    /// `bad-signature`, `quota`, `malformed` (then nothing of the batch is kept).
    fn put_items(&self, peer: &str, blog: &BlogId, items: &[(String, Vec<u8>)]) -> Result<(), RemoteError>;
    /// The sealed bytes of `device`'s `item`, if held.
    fn item(&self, blog: &BlogId, device: &str, item: &str) -> Result<Option<Vec<u8>>, RemoteError>;
}

/// An open `spokes/drafts/2` exchange, after the spoke's inventory ([`open_items`]).
pub struct ItemsExchange {
    conn: Connection,
    send: iroh::endpoint::SendStream,
    recv: iroh::endpoint::RecvStream,
}

/// Opens a `spokes/drafts/2` exchange with the spoke at `addr` and reads its inventory.
/// Errors: [`SyncError`]; a spoke that does not speak version 2 fails to connect
/// ([`SyncError::Connect`]), and the caller may fall back to [`exchange`].
pub async fn open_items(endpoint: &Endpoint, addr: EndpointAddr, blog_id: &BlogId) -> Result<(ItemsExchange, Vec<ItemRef>), SyncError> {
    let conn = crate::peer::dial(endpoint, addr, DRAFT_ITEMS_ALPN).await?;
    let r = crate::peer::while_moving(&conn, crate::peer::SESSION_IDLE_TIMEOUT, async {
        let (mut send, mut recv) = conn.open_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
        write_frame(&mut send, &Frame::json(FrameType::Hello, &DraftsHello { protocol: DRAFT_ITEMS_PROTOCOL, blog_id: blog_id.clone() })).await?;
        let mut inventory = Vec::new();
        loop {
            let f = read_frame(&mut recv).await?;
            match f.typ {
                FrameType::DraftInventory => {
                    let part: Vec<ItemRef> = f.parse_json()?;
                    if part.len() > LIST_CHUNK || inventory.len() + part.len() > MAX_ITEMS {
                        return Err(SyncError::Remote(RemoteError::new(Code::Malformed, "the spoke listed more draft items than any blog may have")));
                    }
                    inventory.extend(part);
                }
                FrameType::Done => break,
                FrameType::Error => return Err(SyncError::Remote(crate::session::refusal_from_peer(&f))),
                other => return Err(crate::FrameError::Unexpected { expected: FrameType::Done, got: other }.into()),
            }
        }
        Ok((send, recv, inventory))
    })
    .await;
    match r {
        Ok((send, recv, inventory)) => Ok((ItemsExchange { conn, send, recv }, inventory)),
        Err(e) => {
            conn.close(0u32.into(), b"done");
            Err(e)
        }
    }
}

impl ItemsExchange {
    /// Leaves `puts` (item name, sealed bytes) and takes `wants` (device, item). Returns what
    /// the spoke sent (at most one per want). Errors: [`SyncError`], a refusal with its code
    /// (one refused item ends the exchange; the batches the spoke stored before it stay).
    pub async fn finish(self, puts: &[(String, Vec<u8>)], wants: &[(String, String)]) -> Result<Vec<ReceivedItem>, SyncError> {
        let ItemsExchange { conn, mut send, mut recv } = self;
        let r = crate::peer::while_moving(&conn, crate::peer::SESSION_IDLE_TIMEOUT, async {
            for (item, sealed) in puts {
                let mut payload = Vec::with_capacity(item.len() + 1 + sealed.len());
                payload.extend_from_slice(item.as_bytes());
                payload.push(b'\n');
                payload.extend_from_slice(sealed);
                write_frame(&mut send, &Frame { typ: FrameType::DraftItem, payload }).await?;
            }
            for part in wants.chunks(LIST_CHUNK) {
                write_frame(&mut send, &Frame::json(FrameType::DraftWants, &part)).await?;
            }
            write_frame(&mut send, &Frame::json(FrameType::Done, &serde_json::json!({}))).await?;
            let mut out = Vec::new();
            let mut received = 0usize;
            loop {
                let f = read_frame(&mut recv).await?;
                match f.typ {
                    FrameType::DraftItem if out.len() < wants.len() => {
                        received += f.payload.len();
                        if received > MAX_RECEIVED_BYTES {
                            return Err(SyncError::Remote(RemoteError::new(Code::TooLarge, format!("the spoke sent more than {MAX_RECEIVED_BYTES} bytes of drafts"))));
                        }
                        let bad = || SyncError::Remote(RemoteError::new(Code::Malformed, "a draft item from the spoke is not device, name and seal"));
                        let mut parts = f.payload.splitn(3, |&b| b == b'\n');
                        let (Some(device), Some(item), Some(sealed)) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
                        let (Ok(device), Ok(item)) = (std::str::from_utf8(device), std::str::from_utf8(item)) else { return Err(bad()) };
                        out.push(ReceivedItem { device: device.to_owned(), item: item.to_owned(), sealed: sealed.to_vec() });
                    }
                    FrameType::Done => break,
                    FrameType::Error => return Err(SyncError::Remote(crate::session::refusal_from_peer(&f))),
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
}

/// Answers one incoming `spokes/drafts/2` connection (one exchange). Returns (items stored,
/// items sent).
pub async fn respond_items<H: DraftItemsHost + ?Sized>(host: &H, conn: Connection) -> Result<(usize, usize), SyncError> {
    let peer = conn.remote_id().to_string();
    let (mut send, mut recv) = conn.accept_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
    let r = crate::peer::while_moving(&conn, crate::peer::SESSION_IDLE_TIMEOUT, async {
        let hello = read_hello(&mut send, &mut recv, DRAFT_ITEMS_PROTOCOL).await?;
        let inventory = match host.inventory(&peer, &hello.blog_id) {
            Ok(i) => i,
            Err(e) => return Err(refuse(&mut send, e).await),
        };
        let count = inventory.len().min(MAX_ITEMS);
        for part in inventory[..count].chunks(LIST_CHUNK) {
            write_frame(&mut send, &Frame::json(FrameType::DraftInventory, &part)).await?;
        }
        write_frame(&mut send, &Frame::json(FrameType::Done, &serde_json::json!({ "count": count }))).await?;
        let (mut stored, mut wants) = (0usize, Vec::new());
        // Items are kept in batches (one write each), of at most this many or bytes.
        const BATCH_ITEMS: usize = 256;
        const BATCH_BYTES: usize = 8 * 1024 * 1024;
        let mut batch: Vec<(String, Vec<u8>)> = Vec::new();
        let mut batch_bytes = 0;
        let mut wants_bytes = 0;
        loop {
            let f = read_frame(&mut recv).await?;
            match f.typ {
                FrameType::DraftItem => {
                    if stored >= MAX_ITEMS {
                        return Err(refuse(&mut send, RemoteError::new(Code::Malformed, "more draft items than any blog may have")).await);
                    }
                    let Some(nl) = f.payload.iter().position(|&b| b == b'\n') else {
                        return Err(refuse(&mut send, RemoteError::new(Code::Malformed, "a draft item is its name, a newline and its seal")).await);
                    };
                    let name = std::str::from_utf8(&f.payload[..nl]).unwrap_or("");
                    if !is_item_name(name) {
                        return Err(refuse(&mut send, RemoteError::new(Code::Malformed, format!("`{}` is not a draft item's name", name.escape_debug()))).await);
                    }
                    batch_bytes += f.payload.len() - nl - 1;
                    batch.push((name.to_owned(), f.payload[nl + 1..].to_vec()));
                    stored += 1;
                    if batch.len() >= BATCH_ITEMS || batch_bytes >= BATCH_BYTES {
                        if let Err(e) = host.put_items(&peer, &hello.blog_id, &batch) {
                            return Err(refuse(&mut send, e).await);
                        }
                        batch.clear();
                        batch_bytes = 0;
                    }
                }
                FrameType::DraftWants => {
                    wants_bytes += f.payload.len();
                    if wants_bytes > MAX_WANTS_BYTES {
                        return Err(refuse(&mut send, RemoteError::new(Code::Malformed, format!("more than {MAX_WANTS_BYTES} bytes of wants"))).await);
                    }
                    let part: Vec<(String, String)> = match f.parse_json() {
                        Ok(p) => p,
                        Err(e) => return Err(refuse(&mut send, RemoteError::new(Code::Malformed, e.to_string())).await),
                    };
                    if part.len() > LIST_CHUNK || wants.len() + part.len() > MAX_ITEMS {
                        return Err(refuse(&mut send, RemoteError::new(Code::Malformed, "more wants than any blog has draft items")).await);
                    }
                    wants.extend(part);
                }
                FrameType::Done => break,
                _ => return Err(refuse(&mut send, RemoteError::new(Code::Malformed, "expected draft items, wants or done")).await),
            }
        }
        if !batch.is_empty()
            && let Err(e) = host.put_items(&peer, &hello.blog_id, &batch)
        {
            return Err(refuse(&mut send, e).await);
        }
        let mut sent = 0;
        for (device, item) in &wants {
            let sealed = match host.item(&hello.blog_id, device, item) {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(e) => return Err(refuse(&mut send, e).await),
            };
            let mut payload = Vec::with_capacity(device.len() + item.len() + 2 + sealed.len());
            payload.extend_from_slice(device.as_bytes());
            payload.push(b'\n');
            payload.extend_from_slice(item.as_bytes());
            payload.push(b'\n');
            payload.extend_from_slice(&sealed);
            write_frame(&mut send, &Frame { typ: FrameType::DraftItem, payload }).await?;
            sent += 1;
        }
        write_frame(&mut send, &Frame::json(FrameType::Done, &serde_json::json!({ "stored": stored, "sent": sent }))).await?;
        let _ = send.finish();
        Ok((stored, sent))
    })
    .await;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn.closed()).await;
    r
}
