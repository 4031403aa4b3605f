//! Pairing a second computer with a code shown on the first.
//!
//! The first computer (which holds the main key) listens on a fresh iroh endpoint with ALPN
//! `spokes/pair/1` and shows a pairing code; the new computer dials it. QUIC's TLS pins the
//! endpoint ID in the code, so the new computer knows it talks to the right one; the secret
//! in the code tells the first computer the new one was given the code. The first computer
//! then certifies a signing subkey for the new one, leaves its drafts (sealed) with its spokes
//! and sends the identity; the new computer fetches the blog and drafts from a spoke, as a
//! restore does.
//!
//! The pairing code and the exchange's messages are `spokes_sync::pairing`.

use spokes_core::problem::Code;
use crate::devices::this_device_name;
use crate::profile::{Profile, ProfileError};
use crate::publish::SpokeTarget;
use spokes_core::Identity;
use spokes_sync::frame::{Frame, FrameType, read_frame, write_frame};
use spokes_sync::session::RemoteError;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

pub use spokes_sync::pairing::{PAIR_ALPN, PAIR_PREFIX, PairHello, PairingCode, PairingPackage};

impl From<spokes_sync::pairing::PairingCodeError> for ProfileError {
    fn from(e: spokes_sync::pairing::PairingCodeError) -> Self {
        ProfileError::Damaged { path: "pairing code".into(), message: e.to_string() }
    }
}

/// The first computer's side, waiting for one new computer.
pub struct PairingListener {
    endpoint: iroh::Endpoint,
    code: PairingCode,
}

/// A best guess at this computer's address on the local network (no packet is sent), plus
/// loopback.
fn local_addrs(port: u16) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    if let Ok(s) = std::net::UdpSocket::bind("0.0.0.0:0")
        && s.connect("192.0.2.1:9").is_ok()
        && let Ok(a) = s.local_addr()
        && !a.ip().is_unspecified()
        && !a.ip().is_loopback()
    {
        out.push(SocketAddr::new(a.ip(), port));
    }
    out.push(SocketAddr::from(([127, 0, 0, 1], port)));
    out
}

impl Profile {
    /// Starts pairing: checks `passphrase` (the main key is needed to certify the new
    /// computer) and listens. Show [`PairingListener::code`], then call
    /// [`Profile::pair_wait`].
    pub async fn pair_listen(&self, passphrase: &str) -> Result<PairingListener, ProfileError> {
        self.identity()?.check_passphrase(passphrase)?;
        let endpoint = spokes_sync::net::bind_endpoint(iroh::SecretKey::generate(), (std::net::Ipv4Addr::UNSPECIFIED, 0).into(), vec![PAIR_ALPN.to_vec()])
            .await
            .map_err(|e| ProfileError::Io { path: self.dir().into(), source: std::io::Error::other(e.to_string()) })?;
        let port = endpoint.bound_sockets().first().map(|a| a.port()).unwrap_or(0);
        let code = PairingCode { v: 1, endpoint: endpoint.id().to_string(), addrs: local_addrs(port), secret: hex::encode(rand::random::<[u8; 16]>()) };
        Ok(PairingListener { endpoint, code })
    }

    /// Waits (up to `limit`) for a new computer to use the code, certifies a signing key for
    /// it, leaves this computer's drafts with the spokes (so the new one finds them), and sends
    /// it the identity. Three wrong secrets end the pairing. Returns the new computer's name
    /// and key fingerprint.
    ///
    /// Errors: `Pairing` on timeout, three wrong codes or network failure; identity errors.
    pub async fn pair_wait(&self, listener: PairingListener, passphrase: &str, limit: Duration) -> Result<(String, String), ProfileError> {
        let fail = ProfileError::Pairing;
        let deadline = tokio::time::Instant::now() + limit;
        let mut wrong = 0;
        let result = loop {
            let incoming = tokio::time::timeout_at(deadline, listener.endpoint.accept()).await.map_err(|_| fail("no computer used the pairing code in time".into()))?;
            let Some(incoming) = incoming else { break Err(fail("pairing stopped".into())) };
            let Ok(conn) = incoming.await else { continue };
            let Ok((mut send, mut recv)) = conn.accept_bi().await else { continue };
            let Ok(Ok(first)) = tokio::time::timeout(Duration::from_secs(30), read_frame(&mut recv)).await else { continue };
            let hello: Option<PairHello> = (first.typ == FrameType::Hello).then(|| first.parse_json().ok()).flatten();
            let Some(hello) = hello.filter(|h| h.protocol == 1 && constant_time_eq(h.secret.as_bytes(), listener.code.secret.as_bytes())) else {
                let _ = write_frame(&mut send, &Frame::json(FrameType::Error, &RemoteError::new(Code::BadCode, "this pairing code is not the one shown"))).await;
                let _ = send.finish();
                // Let the other computer read why before the connection goes.
                let _ = tokio::time::timeout(Duration::from_secs(5), conn.closed()).await;
                wrong += 1;
                if wrong >= 3 {
                    break Err(fail("three wrong pairing codes; pairing stopped".into()));
                }
                continue;
            };
            let device_name: String = hello.device.chars().take(64).collect();
            let (with_new, new_key) = self.identity()?.add_device(passphrase, &device_name)?;
            self.save_identity(&with_new)?;
            // The spokes learn the new key, and get this computer's drafts for it.
            self.sync_with(&self.targets()).await?;
            let mut key = self.unlock(passphrase)?;
            let opening = with_new.opening_keys(passphrase)?;
            self.sync_drafts(&mut key, &opening, &self.targets()).await?;
            let package = PairingPackage {
                blog_id: self.blog_id().clone(),
                name: self.name().into(),
                spokes: self.spokes().to_vec(),
                identity: String::from_utf8_lossy(&with_new.for_device(&new_key)?.to_armored()).into_owned(),
                device_key: new_key.clone(),
            };
            write_frame(&mut send, &Frame::json(FrameType::Hello, &package)).await.map_err(|e| fail(e.to_string()))?;
            let _ = send.finish();
            let _ = tokio::time::timeout(Duration::from_secs(10), conn.closed()).await;
            break Ok((device_name, new_key));
        };
        listener.endpoint.close().await;
        result
    }

    /// The new computer's side: uses `code`, receives the identity (checked with
    /// `passphrase`), and makes a profile at `dir` from one of the spokes the first computer
    /// uses, drafts included.
    ///
    /// Errors: `Damaged` (bad code), `Pairing` (first computer unreachable, or it refused
    /// the code), `Identity(WrongPassphrase)`, `Exists`.
    pub async fn pair_join(dir: &Path, code: &str, passphrase: &str, device_name: Option<&str>) -> Result<Profile, ProfileError> {
        if Self::exists(dir) {
            return Err(ProfileError::Exists(dir.into()));
        }
        let code = PairingCode::decode(code)?;
        let fail = ProfileError::Pairing;
        let id: iroh::EndpointId = code.endpoint.parse().map_err(|_| ProfileError::Damaged { path: "pairing code".into(), message: "bad endpoint".into() })?;
        let addr = code.addrs.iter().fold(iroh::EndpointAddr::new(id), |a, ip| a.with_ip_addr(*ip));
        let endpoint = spokes_sync::net::bind_endpoint(iroh::SecretKey::generate(), (std::net::Ipv4Addr::UNSPECIFIED, 0).into(), vec![]).await.map_err(|e| fail(e.to_string()))?;
        let device = device_name.map(str::to_owned).unwrap_or_else(this_device_name);
        let exchange = async {
            let conn = endpoint.connect(addr, PAIR_ALPN).await.map_err(|e| fail(format!("the other computer could not be reached: {e}")))?;
            let (mut send, mut recv) = conn.open_bi().await.map_err(|e| fail(e.to_string()))?;
            write_frame(&mut send, &Frame::json(FrameType::Hello, &PairHello { protocol: 1, secret: code.secret.clone(), device: device.clone() })).await.map_err(|e| fail(e.to_string()))?;
            let answer = read_frame(&mut recv).await.map_err(|e| fail(e.to_string()))?;
            conn.close(0u32.into(), b"done");
            match answer.typ {
                FrameType::Hello => answer.parse_json::<PairingPackage>().map_err(|e| fail(e.to_string())),
                _ => Err(fail(spokes_sync::session::refusal_from_peer(&answer).message)),
            }
        };
        let package = tokio::time::timeout(Duration::from_secs(120), exchange).await.map_err(|_| fail("the other computer did not answer in time".into()))?;
        endpoint.close().await;
        let package = package?;
        let identity = Identity::from_bytes(package.identity.as_bytes())?;
        identity.unlock_device(passphrase, Some(&package.device_key))?;
        let targets: Vec<SpokeTarget> = package.spokes.iter().map(SpokeTarget::from).collect();
        Self::restore_from_spokes(dir, &package.name, identity, &package.device_key, passphrase, &package.blog_id, &targets, package.spokes.clone()).await
    }
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl PairingListener {
    /// The code to show (and to render as a QR code).
    pub fn code(&self) -> String {
        self.code.encode()
    }

    /// The code as a QR code (ISO/IEC 18004) in SVG, dark on light with its quiet zone, for a
    /// window to show; `None` if it does not fit one.
    pub fn qr_svg(&self) -> Option<String> {
        let qr = qrcode::QrCode::with_error_correction_level(self.code().to_ascii_uppercase(), qrcode::EcLevel::L).ok()?;
        Some(qr.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).dark_color(qrcode::render::svg::Color("#000000")).light_color(qrcode::render::svg::Color("#ffffff")).build())
    }

    /// The code as a QR code (ISO/IEC 18004) drawn with Unicode half blocks, for a terminal;
    /// `None` if it does not fit one.
    pub fn qr_text(&self) -> Option<String> {
        let qr = qrcode::QrCode::with_error_correction_level(self.code().to_ascii_uppercase(), qrcode::EcLevel::L).ok()?;
        Some(qr.render::<qrcode::render::unicode::Dense1x2>().dark_color(qrcode::render::unicode::Dense1x2::Light).light_color(qrcode::render::unicode::Dense1x2::Dark).build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_damaged_ones_are_refused() {
        let c = PairingCode { v: 1, endpoint: "ab".into(), addrs: vec!["127.0.0.1:5".parse().unwrap()], secret: "00ff".into() };
        assert_eq!(PairingCode::decode(&format!("  {}\n", c.encode())).unwrap(), c);
        assert_eq!(PairingCode::decode(&c.encode().to_ascii_uppercase()).unwrap(), c, "as a QR code carries it");
        assert!(PairingCode::decode("spokes1abc").is_err());
        assert!(PairingCode::decode("spokespair1!!!").is_err());
        let newer = PairingCode { v: 2, ..c };
        assert!(PairingCode::decode(&newer.encode()).is_err());
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"ab", b"abc"));
    }
}
