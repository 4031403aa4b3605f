//! iroh endpoints bound the Spokes way.

use iroh::{Endpoint, SecretKey, endpoint::presets};
use std::net::SocketAddr;

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
}

/// Binds an iroh endpoint on `addr` with the `Minimal` preset: direct QUIC only, no relay
/// servers and no address lookup, so nothing leaves the machine but connections we dial.
/// `alpns` are the protocols it accepts (empty for a dial-only endpoint).
pub async fn bind_endpoint(secret: SecretKey, addr: SocketAddr, alpns: Vec<Vec<u8>>) -> Result<Endpoint, NetError> {
    let err = |m: String| NetError::Bind { addr, message: m };
    Endpoint::builder(presets::Minimal)
        .secret_key(secret)
        .alpns(alpns)
        .clear_ip_transports()
        .bind_addr(addr)
        .map_err(|e| err(e.to_string()))?
        .bind()
        .await
        .map_err(|e| err(e.to_string()))
}

/// The iroh address to dial `spoke` at: its endpoint ID with every socket address it lists.
/// Errors: a sentence saying the endpoint ID is not one.
pub fn dial_addr(spoke: &spokes_core::SpokeAddr) -> Result<iroh::EndpointAddr, String> {
    let id: iroh::EndpointId = spoke.endpoint.parse().map_err(|e| format!("bad endpoint ID: {e}"))?;
    Ok(spoke.addrs.iter().fold(iroh::EndpointAddr::new(id), |a, ip| a.with_ip_addr(*ip)))
}
