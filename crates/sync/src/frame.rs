//! Frames of `spokes/sync/1` (and of `spokes/drafts/1` and `spokes/images/1`, which use the same framing).
//!
//! ```text
//! +--------+----------------+-------------------+
//! | type   | length         | payload           |
//! | 1 byte | u32 big-endian | `length` bytes    |
//! +--------+----------------+-------------------+
//! ```
//!
//! `length` is at most [`MAX_FRAME_LEN`]; a larger length is refused before any payload is
//! read. Payloads: hello, certificate list, statements, done and error are JSON objects
//! (UTF-8); a sync message is the raw Automerge sync message, and an empty payload means
//! "nothing to send this round".

use serde::{Serialize, de::DeserializeOwned};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest accepted payload: 16 MiB.
pub const MAX_FRAME_LEN: u32 = 16 * 1024 * 1024;

/// Frame types. Values are fixed for protocol version 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameType {
    /// JSON [`crate::Hello`]: protocol version, blog ID, optional invite token.
    Hello = 1,
    /// Armored OpenPGP certificate of the blog's author; empty if unknown to the sender.
    Certificate = 2,
    /// JSON array of [`spokes_core::SignedStatement`].
    Statements = 3,
    /// One Automerge sync message; empty for "nothing this round".
    SyncMessage = 4,
    /// JSON `{"heads": [hex…]}`: the sender accepted the session; its heads after merging.
    Done = 5,
    /// JSON [`crate::RemoteError`]: the sender refused; the session ends.
    Error = 6,
    /// Sealed drafts (`spokes_core::seal`), only on `spokes/drafts/1` ([`crate::drafts`]);
    /// empty for "none".
    SealedDrafts = 7,
    /// JSON [`crate::images::ImageList`], only on `spokes/images/1` ([`crate::images`]).
    ImageList = 8,
    /// One image on `spokes/images/1`: its name (ASCII), a newline, its bytes; empty for
    /// "no more images".
    Image = 9,
    /// JSON membership message, only on `spokes/council/1` ([`crate::council`]): a council hello or the answering membership entries.
    Membership = 10,
    /// JSON catalog, only on `spokes/council/1`: the blogs a spoke holds and their heads.
    Catalog = 11,
    /// One part of the changes step of `spokes/sync/1` ([`crate::session`]): a byte that is 1
    /// while more parts follow and 0 on the last, then Automerge bytes (a saved document or
    /// change chunks).
    Changes = 12,
    /// JSON array of the SHA-256 hashes (hex) of the signed manifest headers the sender holds,
    /// only on `spokes/sync/2` ([`crate::set`]).
    ManifestHave = 13,
    /// JSON array of signed manifests the peer lacks, as differences from one it holds, only
    /// on `spokes/sync/2` ([`crate::set`]).
    Manifests = 14,
    /// JSON object `{post ID: [heads hex]}`: the posts whose documents the sender lacks,
    /// with the heads it has, only on `spokes/sync/2` ([`crate::set`]).
    Wants = 15,
    /// One part of the post documents answering the peer's wants, only on `spokes/sync/2`
    /// ([`crate::set`]): framed as [`FrameType::Changes`].
    PostChanges = 16,
    /// JSON array of [`crate::drafts::ItemRef`], a part of a spoke's inventory of sealed draft
    /// items, only on `spokes/drafts/2` ([`crate::drafts`]).
    DraftInventory = 17,
    /// One sealed draft item, only on `spokes/drafts/2` ([`crate::drafts`]): to a spoke, the
    /// item's name (ASCII), a newline, the sealed bytes; from a spoke, the device's
    /// fingerprint, a newline, the item's name, a newline, the sealed bytes.
    DraftItem = 18,
    /// JSON array of `[device, item]` pairs the sender wants, only on `spokes/drafts/2`.
    DraftWants = 19,
    /// JSON [`crate::names::NameRequest`], only on `spokes/name/1` ([`crate::names`]).
    NameRequest = 20,
    /// JSON [`crate::names::NameAnswer`], only on `spokes/name/1`.
    NameAnswer = 21,
    /// JSON [`crate::council::digest::Digest`], only on `spokes/council/1`, after the catalog
    /// and only when the hello asked for it: the newest posts the responder knows of, each
    /// with what proves it.
    Digest = 22,
}

impl FrameType {
    fn from_u8(b: u8) -> Option<FrameType> {
        Some(match b {
            1 => FrameType::Hello,
            2 => FrameType::Certificate,
            3 => FrameType::Statements,
            4 => FrameType::SyncMessage,
            5 => FrameType::Done,
            6 => FrameType::Error,
            7 => FrameType::SealedDrafts,
            8 => FrameType::ImageList,
            9 => FrameType::Image,
            10 => FrameType::Membership,
            11 => FrameType::Catalog,
            12 => FrameType::Changes,
            13 => FrameType::ManifestHave,
            14 => FrameType::Manifests,
            15 => FrameType::Wants,
            16 => FrameType::PostChanges,
            17 => FrameType::DraftInventory,
            18 => FrameType::DraftItem,
            19 => FrameType::DraftWants,
            20 => FrameType::NameRequest,
            21 => FrameType::NameAnswer,
            22 => FrameType::Digest,
            _ => return None,
        })
    }
}

/// One frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Its type.
    pub typ: FrameType,
    /// Its payload (at most [`MAX_FRAME_LEN`] bytes).
    pub payload: Vec<u8>,
}

/// Errors reading or writing frames.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The peer announced a payload over the cap.
    #[error("frame of {len} bytes exceeds the {MAX_FRAME_LEN}-byte limit")]
    TooLarge {
        /// The announced length.
        len: u32,
    },
    /// The type byte is not one of [`FrameType`].
    #[error("unknown frame type {0}")]
    UnknownType(u8),
    /// The stream ended in the middle of a frame.
    #[error("the connection ended in the middle of a frame")]
    Truncated,
    /// The stream ended between frames.
    #[error("the connection ended")]
    Closed,
    /// A JSON payload did not parse.
    #[error("malformed {typ:?} payload: {message}")]
    Malformed {
        /// The frame type.
        typ: FrameType,
        /// The parser's message.
        message: String,
    },
    /// A frame of another type arrived than the protocol allows here.
    #[error("expected a {expected:?} frame, got {got:?}")]
    Unexpected {
        /// What the protocol expects.
        expected: FrameType,
        /// What came.
        got: FrameType,
    },
    /// I/O error.
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
}

impl Frame {
    /// A frame with a JSON payload.
    pub fn json<T: Serialize>(typ: FrameType, value: &T) -> Frame {
        Frame { typ, payload: serde_json::to_vec(value).unwrap_or_default() }
    }

    /// Parses the JSON payload.
    pub fn parse_json<T: DeserializeOwned>(&self) -> Result<T, FrameError> {
        serde_json::from_slice(&self.payload).map_err(|e| FrameError::Malformed { typ: self.typ, message: e.to_string() })
    }

    /// Encodes header and payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + self.payload.len());
        out.push(self.typ as u8);
        out.extend_from_slice(&(self.payload.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.payload);
        out
    }
}

/// Writes one frame. Payloads over the cap are an error and nothing is written.
pub async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, frame: &Frame) -> Result<(), FrameError> {
    if frame.payload.len() > MAX_FRAME_LEN as usize {
        return Err(FrameError::TooLarge { len: frame.payload.len().min(u32::MAX as usize) as u32 });
    }
    w.write_all(&frame.encode()).await?;
    w.flush().await?;
    Ok(())
}

/// Reads one frame, refusing oversized lengths and unknown types before reading the payload.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> Result<Frame, FrameError> {
    let mut header = [0u8; 5];
    let mut got = 0;
    while got < 5 {
        let n = r.read(&mut header[got..]).await?;
        if n == 0 {
            return Err(if got == 0 { FrameError::Closed } else { FrameError::Truncated });
        }
        got += n;
    }
    let typ = FrameType::from_u8(header[0]).ok_or(FrameError::UnknownType(header[0]))?;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
    if len > MAX_FRAME_LEN {
        return Err(FrameError::TooLarge { len });
    }
    let mut payload = vec![0u8; len as usize];
    r.read_exact(&mut payload).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => FrameError::Truncated,
        _ => FrameError::Io(e),
    })?;
    Ok(Frame { typ, payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip() {
        let f = Frame { typ: FrameType::SyncMessage, payload: vec![1, 2, 3] };
        let bytes = f.encode();
        assert_eq!(bytes, vec![4, 0, 0, 0, 3, 1, 2, 3]);
        assert_eq!(read_frame(&mut &bytes[..]).await.unwrap(), f);
    }

    #[tokio::test]
    async fn oversized_unknown_and_truncated_frames_are_errors() {
        let big = [4u8, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(read_frame(&mut &big[..]).await, Err(FrameError::TooLarge { len: u32::MAX })));
        let unknown = [99u8, 0, 0, 0, 0];
        assert!(matches!(read_frame(&mut &unknown[..]).await, Err(FrameError::UnknownType(99))));
        let short = [4u8, 0, 0, 0, 9, 1, 2];
        assert!(matches!(read_frame(&mut &short[..]).await, Err(FrameError::Truncated)));
        let half_header = [4u8, 0];
        assert!(matches!(read_frame(&mut &half_header[..]).await, Err(FrameError::Truncated)));
        assert!(matches!(read_frame(&mut &[][..]).await, Err(FrameError::Closed)));
        let bad_json = Frame { typ: FrameType::Hello, payload: b"{nope".to_vec() };
        assert!(matches!(bad_json.parse_json::<serde_json::Value>(), Err(FrameError::Malformed { .. })));
    }

    #[tokio::test]
    async fn writing_an_oversized_payload_is_refused() {
        let f = Frame { typ: FrameType::SyncMessage, payload: vec![0; MAX_FRAME_LEN as usize + 1] };
        let mut out = Vec::new();
        assert!(matches!(write_frame(&mut out, &f).await, Err(FrameError::TooLarge { .. })));
        assert!(out.is_empty());
    }
}
