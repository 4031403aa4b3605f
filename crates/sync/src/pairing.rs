//! `spokes/pair/1`: pairing a second computer with a code shown on the first. The wire
//! format; the workflow (certifying the new computer's key, sending the identity, fetching the
//! blog) is the writer's (`spokes_writer::pairing`).
//!
//! # Pairing code (version 1)
//!
//! `spokespair1` + unpadded lowercase base32 (RFC 4648) of JSON
//! `{"v":1,"endpoint":"<iroh endpoint ID>","addrs":["ip:port"],"secret":"<32 hex>"}`.
//! It is long, so the app also shows it as a QR code. Valid for one computer, while the first
//! computer waits.
//!
//! # Exchange (frames as in [`crate::frame`], one stream)
//!
//! 1. new → first: `Hello`, JSON [`PairHello`] `{"protocol":1,"secret":"…","device":"<computer name>"}`.
//! 2. first → new: `Hello`, JSON [`PairingPackage`], or `Error` (`bad-code`, `internal`).

use crate::ticket::SpokeEntry;
use data_encoding::BASE32_NOPAD;
use serde::{Deserialize, Serialize};
use spokes_core::BlogId;
use std::net::SocketAddr;

/// Why a pairing code could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PairingCodeError {
    /// Not a pairing code.
    #[error("it should start with spokespair1")]
    NotACode,
    /// Bad base32 or JSON.
    #[error("it is damaged or incomplete")]
    Damaged,
    /// A later version.
    #[error("it was made by a newer version of Spokes")]
    NewerVersion,
}

/// The ALPN of pairing, version 1.
pub const PAIR_ALPN: &[u8] = b"spokes/pair/1";
/// The pairing code's prefix (format version 1).
pub const PAIR_PREFIX: &str = "spokespair1";

/// A decoded pairing code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingCode {
    /// Format version (1).
    pub v: u32,
    /// The first computer's pairing endpoint ID.
    pub endpoint: String,
    /// Where it listens.
    pub addrs: Vec<SocketAddr>,
    /// 128-bit secret, hex.
    pub secret: String,
}

impl PairingCode {
    /// Encodes as `spokespair1…`.
    pub fn encode(&self) -> String {
        format!("{PAIR_PREFIX}{}", BASE32_NOPAD.encode(&serde_json::to_vec(self).unwrap_or_default()).to_ascii_lowercase())
    }

    /// Decodes a code (as typed, or read from the QR code, which carries it in capitals);
    /// surrounding whitespace is ignored.
    ///
    /// Errors: [`PairingCodeError`] for anything that is not a version 1 pairing code.
    pub fn decode(s: &str) -> Result<PairingCode, PairingCodeError> {
        let lower = s.trim().to_ascii_lowercase();
        let body = lower.strip_prefix(PAIR_PREFIX).ok_or(PairingCodeError::NotACode)?;
        let json = BASE32_NOPAD.decode(body.to_ascii_uppercase().as_bytes()).map_err(|_| PairingCodeError::Damaged)?;
        let c: PairingCode = serde_json::from_slice(&json).map_err(|_| PairingCodeError::Damaged)?;
        if c.v != 1 {
            return Err(PairingCodeError::NewerVersion);
        }
        Ok(c)
    }
}

/// What the new computer sends first.
#[derive(Debug, Serialize, Deserialize)]
pub struct PairHello {
    /// Protocol version (1).
    pub protocol: u32,
    /// The code's secret, hex.
    pub secret: String,
    /// The new computer's name.
    pub device: String,
}

/// What the first computer sends: the identity with the new computer's key, and where the
/// blog lives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairingPackage {
    /// The blog's ID.
    pub blog_id: BlogId,
    /// The author's name.
    pub name: String,
    /// The spokes that host the blog.
    pub spokes: Vec<SpokeEntry>,
    /// The armored secret key: the main key and encryption secrets, and only the new
    /// computer's signing secret, all protected by the writer's passphrase.
    pub identity: String,
    /// The new computer's signing key fingerprint.
    pub device_key: String,
}

