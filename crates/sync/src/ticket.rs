//! Invite tickets.
//!
//! A ticket is the text `spokes1` followed by the unpadded lowercase base32 (RFC 4648) of a
//! JSON object, version 1:
//!
//! ```json
//! {"v":1,"endpoint":"<iroh endpoint ID>","addrs":["127.0.0.1:7001"],"token":"<hex>","name":"<label>","web":"http://127.0.0.1:8080","relay":"https://spoke-0123456789ab.spokes.example/"}
//! ```
//!
//! `token` is an invite token that admits one author (absent in tickets that only locate a
//! spoke); `name` is the operator's label for the spoke; `web` is the base URL of its reader
//! site (optional: older tickets lack it, and readers ignore fields they do not know); `relay`
//! is the URL of the spoke's relay, dialed when no direct path works (optional: only spokes with
//! HTTPS run one; anything but an `https` URL is dropped when the ticket is read).

use data_encoding::BASE32_NOPAD;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// The ticket prefix, carrying the ticket format version.
pub const TICKET_PREFIX: &str = "spokes1";

/// Errors parsing tickets.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// Not a Spokes ticket.
    #[error("this is not a Spokes invite (it should start with `spokes1`)")]
    NotATicket,
    /// Damaged: bad base32, JSON or fields.
    #[error("this invite is damaged or incomplete: {0}")]
    Damaged(String),
    /// A newer ticket version.
    #[error("this invite was made by a newer version of Spokes (ticket version {0})")]
    UnknownVersion(u32),
}

/// A decoded ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Format version (1).
    pub v: u32,
    /// The spoke's endpoint ID.
    pub endpoint: String,
    /// Socket addresses the spoke listens on.
    pub addrs: Vec<SocketAddr>,
    /// Invite token, if this ticket admits a writer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Operator's label for the spoke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Base URL of the spoke's reader site (`http://…` or `https://…`, no trailing slash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
    /// The spoke's relay (`https://…/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
}

impl Ticket {
    /// Where the spoke is (the ticket without its version and token).
    pub fn spoke_addr(&self) -> spokes_core::SpokeAddr {
        spokes_core::SpokeAddr { endpoint: self.endpoint.clone(), addrs: self.addrs.clone(), name: self.name.clone(), web: self.web.clone(), relay: self.relay.clone() }
    }

    /// Encodes as `spokes1…`.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{TICKET_PREFIX}{}", BASE32_NOPAD.encode(&json).to_ascii_lowercase())
    }

    /// Decodes a ticket; surrounding whitespace is ignored, so a pasted ticket works.
    pub fn decode(s: &str) -> Result<Ticket, TicketError> {
        let s = s.trim();
        let body = s.strip_prefix(TICKET_PREFIX).ok_or(TicketError::NotATicket)?;
        let bytes = BASE32_NOPAD
            .decode(body.to_ascii_uppercase().as_bytes())
            .map_err(|e| TicketError::Damaged(e.to_string()))?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| TicketError::Damaged(e.to_string()))?;
        let version = v.get("v").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        if version != 1 {
            return Err(TicketError::UnknownVersion(version));
        }
        let mut t: Ticket = serde_json::from_value(v).map_err(|e| TicketError::Damaged(e.to_string()))?;
        t.endpoint_id().map_err(|e| TicketError::Damaged(e.to_string()))?;
        // A reader site that is not an http(s) address (`javascript:`…) is dropped: the app
        // would otherwise offer it as a link.
        t.web = t.web.filter(|w| spokes_core::web::reader_url(w).is_some());
        t.relay = t.relay.filter(|r| crate::net::relay_url(r).is_some());
        Ok(t)
    }

    /// The endpoint ID parsed.
    pub fn endpoint_id(&self) -> Result<iroh::EndpointId, iroh::KeyParsingError> {
        self.endpoint.parse()
    }

    /// The iroh address to dial: every socket address, and the relay.
    pub fn endpoint_addr(&self) -> Result<iroh::EndpointAddr, iroh::KeyParsingError> {
        let mut a = iroh::EndpointAddr::new(self.endpoint_id()?);
        for s in &self.addrs {
            a = a.with_ip_addr(*s);
        }
        if let Some(r) = self.relay.as_deref().and_then(crate::net::relay_url) {
            a = a.with_relay_url(r);
        }
        Ok(a)
    }
}

/// A spoke the writer chose: where it is, the invite token of its ticket, and when it was
/// added. Kept in the writer's `profile.json` and sent to a computer being paired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpokeEntry {
    /// Endpoint ID.
    pub endpoint: String,
    /// Addresses.
    pub addrs: Vec<SocketAddr>,
    /// Operator's label.
    #[serde(default)]
    pub name: Option<String>,
    /// Invite token from the ticket.
    #[serde(default)]
    pub token: Option<String>,
    /// When it was added (RFC 3339).
    pub added_at: String,
    /// Base URL of the spoke's reader site, from the ticket (older tickets lack it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
    /// The spoke's relay, from the ticket (older tickets, and spokes without HTTPS, lack it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
}

impl SpokeEntry {
    /// A spoke chosen now, at `addr`, with the invite `token` of its ticket.
    pub fn new(addr: spokes_core::SpokeAddr, token: Option<String>) -> SpokeEntry {
        let spokes_core::SpokeAddr { endpoint, addrs, name, web, relay } = addr;
        SpokeEntry { endpoint, addrs, name, token, added_at: chrono::Utc::now().to_rfc3339(), web, relay }
    }

    /// Where the spoke is.
    pub fn spoke_addr(&self) -> spokes_core::SpokeAddr {
        spokes_core::SpokeAddr { endpoint: self.endpoint.clone(), addrs: self.addrs.clone(), name: self.name.clone(), web: self.web.clone(), relay: self.relay.clone() }
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_round_trip_and_bad_ones_are_explained() {
        let id = iroh::SecretKey::generate().public();
        let t = Ticket { v: 1, endpoint: id.to_string(), addrs: vec!["127.0.0.1:7001".parse().unwrap()], token: Some("ab".into()), name: None, web: Some("http://127.0.0.1:8080".into()), relay: Some("https://spoke-abc.spokes.test/".into()) };
        let s = t.encode();
        assert!(s.starts_with("spokes1"));
        assert_eq!(Ticket::decode(&format!("  {s}\n")).unwrap(), t);
        assert!(matches!(Ticket::decode("hello"), Err(TicketError::NotATicket)));
        assert!(matches!(Ticket::decode(&s[..s.len() - 5]), Err(TicketError::Damaged(_))));
        // A reader site a link must not point to is dropped; the rest of the ticket stands.
        let js = Ticket { web: Some("javascript:alert(document.cookie)".into()), ..t.clone() };
        assert_eq!(Ticket::decode(&js.encode()).unwrap(), Ticket { web: None, ..t.clone() });
        // A relay that is not an https URL is dropped: a relay over plain HTTP would show
        // onlookers who talks to whom, and anything else is no relay.
        for bad in ["http://spoke.test/", "javascript:alert(1)", "not a url", "https://"] {
            let b = Ticket { relay: Some(bad.into()), ..t.clone() };
            assert_eq!(Ticket::decode(&b.encode()).unwrap(), Ticket { relay: None, ..t.clone() }, "{bad}");
        }
        assert_eq!(t.endpoint_addr().unwrap().relay_urls().count(), 1, "the relay is dialed");
        let v2 = Ticket { v: 2, ..t };
        assert!(matches!(Ticket::decode(&v2.encode()), Err(TicketError::UnknownVersion(2))));
    }
}
