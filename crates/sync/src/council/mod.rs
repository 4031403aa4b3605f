//! `spokes/council/1`: council members exchange their membership entries and catalogs, and
//! pull the blogs they lack with `spokes/sync/1` (verify before merge, as for any peer).
//!
//! One exchange, on one bidirectional stream; frames as in `crate::frame`:
//!
//! 1. The initiator sends a `Membership` frame with a [`CouncilHello`]: protocol version 2,
//!    the council ID it knows (or the version-1 ID its council had, while it waits for the
//!    founder's charter), its own [`MemberInfo`], the entries of the council log
//!    ([`membership`], format 2) the responder lacks as far as it knows (all of them, or those
//!    after the heads the responder answered with last time), its own heads, and, to join, a
//!    council invite token with its consent signature.
//! 2. The responder merges the entries it can verify, proposes a joining spoke (a `join`
//!    entry it signs: its approval, one of the majority the newcomer needs), and answers with
//!    a `Membership` frame ([`MembershipAnswer`]: the entries the initiator's heads lack, and
//!    its own heads) and a `Catalog` frame
//!    ([`Catalog`]: each blog it holds and its heads, sealed with its key: [`evidence`]), or
//!    with an `Error` frame
//!    (`unsupported-version`, `malformed`, `blocked`, `no-council`, `other-council`,
//!    `not-a-member`, `bad-invite`, `bad-signature`). After the catalog, when the hello asked
//!    for it, a `Digest` frame: the council's newest posts as the responder knows them
//!    ([`digest`]). A spoke proposed but not yet admitted,
//!    and a spoke the council cut off, get the log and then `not-a-member` instead of the
//!    catalog: that is how they learn their admission or their removal.
//! 3. The initiator closes the connection. For each blog whose heads differ from its own it
//!    checks the peer did not roll the blog back (below), then runs a sync session for it.
//!
//! **Tiers.** A spoke pulls only from its upstreams (`[council] upstreams` in the config), or
//! from [`DEFAULT_FANOUT`] members ([`choose_upstreams`]: its successor on a ring of all members,
//! and others chosen by hashing endpoint IDs); an upstream's catalog holds
//! the council copies it pulled itself, so posts travel ring by ring and no spoke talks to
//! every other. A loop or a blog offered twice costs nothing: blogs are merged by ID as CRDTs,
//! so the same revision arriving twice is one revision.
//!
//! **Placement.** With partial copies (a spoke's `[council] copies`), a blog's council copies
//! live only on the members [`placement`] ranks first for it; a puller takes a blog it does not
//! hold from a catalog only when it is placed for it.
//!
//! **Rollback.** A spoke remembers the heads each peer offered for each blog. When a peer
//! later offers heads that no longer descend from those (it dropped revisions, or replays an
//! old state), nothing is taken from it for that blog and the refusal `rolled-back` is
//! recorded for the operator. For a blog kept as a set of documents the puller also keeps the peer's sealed
//! offer of the highest manifest `rev`, so that a later, lower offer makes evidence
//! ([`evidence::Misdeed::RolledBack`]) it can sign into the council log.

use spokes_core::problem::Code;
pub mod digest;
pub mod evidence;
pub mod legacy;
pub mod membership;
pub mod placement;

pub use evidence::{CatalogSeal, Evidence, Misdeed, SealedCatalog, SignedOffer};
pub use membership::*;
use membership as council;
use automerge::ChangeHash;
use serde::{Deserialize, Serialize};
use spokes_core::BlogId;
use crate::frame::{Frame, FrameType, read_frame, write_frame};
use crate::session::{RemoteError, SyncError};
use std::collections::BTreeMap;
use std::time::Duration;

/// The ALPN of council exchanges, version 1.
pub const COUNCIL_ALPN: &[u8] = b"spokes/council/1";
/// The protocol version in council hellos: 2 since the council log (entries of format 2);
/// a spoke speaking 1 is refused with `unsupported-version`.
pub const COUNCIL_PROTOCOL: u32 = 2;
/// Upstreams pulled from when the config names none.
pub const DEFAULT_FANOUT: usize = 3;
/// Most blogs a catalog may list.
pub const MAX_CATALOG: usize = 100_000;
/// Longest one exchange may take.
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(20);
/// Council ticket prefix (format version 1).
pub const COUNCIL_TICKET_PREFIX: &str = "spokescouncil1";

/// The initiator's first frame.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CouncilHello {
    /// [`COUNCIL_PROTOCOL`].
    pub protocol: u32,
    /// The council ID the initiator knows, if any (or the version-1 ID of the council it is
    /// carrying over).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub council: Option<String>,
    /// The initiator itself (its `endpoint` must be the connection's).
    pub member: MemberInfo,
    /// The entries of the council log the responder lacks as far as the initiator knows: all
    /// of them, or those after the heads the responder last answered with.
    pub entries: Vec<SignedEntry>,
    /// The initiator's heads: the responder answers with the entries that are not among them
    /// or before them. Empty: every entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub have: Vec<String>,
    /// A council invite token, to join.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// With `token`: the initiator's consent ([`council::consent`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<String>,
    /// With `token`: what the initiator's self-test found (`spoke council join` runs it), kept
    /// by the inviting spoke for its operator. Older spokes ignore the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<ReadyReport>,
    /// Asks for the responder's digest of the council's newest posts ([`digest`]): the name
    /// of the digest the initiator holds from it ([`digest::Digest::name_of`]), or `""` for
    /// none. The responder answers with a `Digest` frame after its catalog. Older spokes
    /// ignore the field and send none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Most checks a [`ReadyReport`] keeps.
pub const MAX_READY_CHECKS: usize = 16;
/// Longest check name or detail a [`ReadyReport`] keeps, in bytes.
pub const MAX_READY_TEXT: usize = 300;

/// What a joining spoke's self-test found (`spoke self-test`), sent with its join so the
/// inviting spoke can tell its operator the newcomer works before the members approve it.
/// The newcomer's own word: it shows the newcomer was set up and reached, not that it is
/// honest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyReport {
    /// The newcomer's spoke version (its Cargo package version).
    pub version: String,
    /// Each check, in the order it ran.
    pub checks: Vec<ReadyCheck>,
}

/// One self-test check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyCheck {
    /// What was checked (`database`, `reader site`, …).
    pub check: String,
    /// Whether it passed.
    pub ok: bool,
    /// What it found.
    pub detail: String,
}

impl ReadyReport {
    /// Whether every check passed (and there was one).
    pub fn ready(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    /// The report cut to [`MAX_READY_CHECKS`] checks and [`MAX_READY_TEXT`] bytes per text, its
    /// control characters dropped: what a spoke keeps of a peer's report.
    pub fn bounded(mut self) -> ReadyReport {
        let cut = |s: &str| -> String {
            let mut out: String = s.chars().filter(|c| !c.is_control()).collect();
            let mut end = out.len().min(MAX_READY_TEXT);
            while !out.is_char_boundary(end) {
                end -= 1;
            }
            out.truncate(end);
            out
        };
        self.version = cut(&self.version);
        self.checks.truncate(MAX_READY_CHECKS);
        for c in &mut self.checks {
            c.check = cut(&c.check);
            c.detail = cut(&c.detail);
        }
        self
    }
}

/// The responder's membership frame.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MembershipAnswer {
    /// [`COUNCIL_PROTOCOL`].
    pub protocol: u32,
    /// The entries the responder holds that the initiator's `have` lacks.
    pub entries: Vec<SignedEntry>,
    /// The responder's heads once it merged the initiator's entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub heads: Vec<String>,
}

/// What one exchange brought the initiator.
#[derive(Debug)]
pub struct Exchanged {
    /// Council log entries the responder sent.
    pub entries: Vec<SignedEntry>,
    /// The responder's heads (what it holds of the log, for the next hello's `entries`).
    pub heads: Vec<String>,
    /// The catalog, or the responder's refusal after the entries (a spoke waiting for
    /// approval, or cut off).
    pub catalog: Result<Catalog, RemoteError>,
    /// The responder's digest, when the hello asked and the responder sent one (a spoke
    /// built before digests sends none). Not yet checked: see [`digest::check_digest`].
    pub digest: Option<digest::Digest>,
}

/// One blog in a catalog.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CatalogEntry {
    /// Blog ID.
    pub blog_id: BlogId,
    /// The document's heads (hex change hashes), sorted; empty for a blog kept as a set of
    /// documents.
    pub heads: Vec<String>,
    /// For a blog kept as a set of documents (`spokes/sync/2`): its frontier, each signed
    /// manifest's header hash as lowercase hex, sorted. Absent for format 1; a member that
    /// predates it ignores the field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<String>,
    /// For a set of documents: the highest manifest `rev` of that frontier, which a puller
    /// remembers to notice a member that later offers an older blog. Taken on the offerer's
    /// word; the session verifies what it brings.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rev: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The blogs a spoke holds (hosted or council copies), active ones only.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Catalog {
    /// The blogs.
    pub blogs: Vec<CatalogEntry>,
    /// The responder's signature over the blogs ([`evidence`]): what lets a puller show
    /// others what the responder offered. Absent from spokes built before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<CatalogSeal>,
}

/// A council invite: `spokescouncil1` + unpadded lowercase base32 of this JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouncilTicket {
    /// Format version (1).
    pub v: u32,
    /// Council ID.
    pub council: String,
    /// The inviting spoke.
    pub member: MemberInfo,
    /// One-use (or few-use) invite token.
    pub token: String,
}

/// Errors of council tickets.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// Not a council ticket.
    #[error("this is not a council invite (it should start with `{COUNCIL_TICKET_PREFIX}`)")]
    NotATicket,
    /// Damaged.
    #[error("this council invite is damaged: {0}")]
    Damaged(String),
}

impl CouncilTicket {
    /// Encodes as `spokescouncil1…`.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{COUNCIL_TICKET_PREFIX}{}", data_encoding::BASE32_NOPAD.encode(&json).to_ascii_lowercase())
    }

    /// Decodes a council ticket (surrounding whitespace ignored).
    pub fn decode(s: &str) -> Result<CouncilTicket, TicketError> {
        let body = s.trim().strip_prefix(COUNCIL_TICKET_PREFIX).ok_or(TicketError::NotATicket)?;
        let bytes = data_encoding::BASE32_NOPAD.decode(body.to_ascii_uppercase().as_bytes()).map_err(|e| TicketError::Damaged(e.to_string()))?;
        let t: CouncilTicket = serde_json::from_slice(&bytes).map_err(|e| TicketError::Damaged(e.to_string()))?;
        if t.v != 1 {
            return Err(TicketError::Damaged(format!("ticket version {} is not supported", t.v)));
        }
        t.member.endpoint.parse::<iroh::EndpointId>().map_err(|e| TicketError::Damaged(e.to_string()))?;
        Ok(t)
    }
}

/// The address of a member, for dialling.
pub fn member_addr(m: &MemberInfo) -> Result<iroh::EndpointAddr, SyncError> {
    crate::net::dial_addr(&m.spoke_addr()).map_err(SyncError::Connect)
}

/// Runs one exchange as initiator: sends `hello`, returns the responder's entries and catalog.
///
/// Errors: [`SyncError::Remote`] with the responder's refusal, [`SyncError::Connect`],
/// [`SyncError::Timeout`], [`SyncError::Frame`] (malformed or oversized frames).
pub async fn exchange(endpoint: &iroh::Endpoint, to: &MemberInfo, hello: &CouncilHello) -> Result<(Vec<SignedEntry>, Catalog), SyncError> {
    let x = exchange_entries(endpoint, to, hello).await?;
    Ok((x.entries, x.catalog.map_err(SyncError::Remote)?))
}

/// Like [`exchange`], but keeps the entries when the responder refuses after sending them:
/// a spoke the council cut off gets the membership entries (the votes), then `not-a-member`
/// instead of the catalog.
pub async fn exchange_entries(endpoint: &iroh::Endpoint, to: &MemberInfo, hello: &CouncilHello) -> Result<Exchanged, SyncError> {
    let addr = member_addr(to)?;
    let conn = tokio::time::timeout(crate::peer::CONNECT_TIMEOUT, endpoint.connect(addr, COUNCIL_ALPN))
        .await
        .map_err(|_| SyncError::Timeout)?
        .map_err(|e| SyncError::Connect(e.to_string()))?;
    let r = tokio::time::timeout(EXCHANGE_TIMEOUT, async {
        let (mut send, mut recv) = conn.open_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
        write_frame(&mut send, &Frame::json(FrameType::Membership, hello)).await?;
        let answer = read_frame(&mut recv).await?;
        let (entries, heads) = match answer.typ {
            FrameType::Membership => {
                let a = answer.parse_json::<MembershipAnswer>()?;
                (a.entries, a.heads)
            }
            FrameType::Error => return Err(SyncError::Remote(crate::session::refusal_from_peer(&answer))),
            other => return Err(crate::FrameError::Unexpected { expected: FrameType::Membership, got: other }.into()),
        };
        let cat = read_frame(&mut recv).await?;
        match cat.typ {
            FrameType::Catalog => {}
            FrameType::Error => return Ok(Exchanged { entries, heads, catalog: Err(crate::session::refusal_from_peer(&cat)), digest: None }),
            other => return Err(crate::FrameError::Unexpected { expected: FrameType::Catalog, got: other }.into()),
        }
        let mut catalog: Catalog = cat.parse_json()?;
        catalog.blogs.truncate(MAX_CATALOG);
        // A responder built before digests ends the stream here.
        let digest = match hello.digest {
            Some(_) => match read_frame(&mut recv).await {
                Ok(f) if f.typ == FrameType::Digest => Some(f.parse_json::<digest::Digest>()?),
                Ok(f) => return Err(crate::FrameError::Unexpected { expected: FrameType::Digest, got: f.typ }.into()),
                Err(_) => None,
            },
            None => None,
        };
        Ok(Exchanged { entries, heads, catalog: Ok(catalog), digest })
    })
    .await;
    conn.close(0u32.into(), b"done");
    r.map_err(|_| SyncError::Timeout)?
}

/// What the responder side needs from the spoke.
pub trait CouncilHost: Send + Sync {
    /// The spoke's endpoint key (signs `join` entries).
    fn key(&self) -> &iroh::SecretKey;
    /// Stored membership.
    fn membership(&self) -> Result<Membership, RemoteError>;
    /// Stores verified entries.
    fn store_entries(&self, entries: &[SignedEntry]) -> Result<(), RemoteError>;
    /// Consumes a council invite token.
    fn take_invite(&self, token: &str) -> Result<bool, RemoteError>;
    /// Whether the operator blocked this peer.
    fn blocked(&self, peer: &str) -> bool;
    /// The catalog to offer.
    fn catalog(&self) -> Catalog;
    /// Records a refusal for the operator.
    fn refused(&self, peer: &str, code: Code, reason: &str);
    /// Keeps what a spoke this one proposed reported of its self-test (already bounded).
    fn newcomer_ready(&self, _peer: &str, _report: &ReadyReport) {}
    /// The digest to offer ([`digest`]): its name and its JSON. `None`: none yet.
    fn digest(&self) -> Option<(String, std::sync::Arc<Vec<u8>>)> {
        None
    }
}

/// Answers one council connection. Refusals are sent to the peer and recorded.
pub async fn respond<H: CouncilHost + ?Sized>(host: &H, conn: iroh::endpoint::Connection) -> Result<(), SyncError> {
    let peer = conn.remote_id().to_string();
    let r = tokio::time::timeout(EXCHANGE_TIMEOUT, async {
        let (mut send, mut recv) = conn.accept_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
        let r = respond_on(host, &peer, &mut recv).await;
        let refused = match r {
            Ok((entries, heads, catalog)) => {
                write_frame(&mut send, &Frame::json(FrameType::Membership, &MembershipAnswer { protocol: COUNCIL_PROTOCOL, entries, heads })).await?;
                match catalog {
                    Ok((catalog, asked)) => {
                        write_frame(&mut send, &Frame::json(FrameType::Catalog, &catalog)).await?;
                        if let (Some(asked), Some((name, json))) = (asked, host.digest()) {
                            let payload = if asked == name { serde_json::to_vec(&digest::Digest { format: digest::DIGEST_FORMAT, same: true, ..Default::default() }).unwrap_or_default() } else { json.as_ref().clone() };
                            write_frame(&mut send, &Frame { typ: FrameType::Digest, payload }).await?;
                        }
                        let _ = send.finish();
                        return Ok(());
                    }
                    Err(e) => e,
                }
            }
            Err(e) => e,
        };
        host.refused(&peer, refused.code, &refused.message);
        Err(crate::session::refuse(&mut send, refused).await)
    })
    .await
    .unwrap_or(Err(SyncError::Timeout));
    let _ = tokio::time::timeout(Duration::from_secs(5), conn.closed()).await;
    r
}

/// What the responder answers: the entries, then the catalog and whether (with the name of
/// the one the initiator holds) a digest was asked for, or the refusal instead of both.
type Answer = (Vec<SignedEntry>, Vec<String>, Result<(Catalog, Option<String>), RemoteError>);

/// The entries to answer with, then the catalog or (for a spoke the council cut off, which is
/// thereby told by whose votes) the refusal. Errors: refusals sent instead of the entries.
async fn respond_on<H: CouncilHost + ?Sized>(host: &H, peer: &str, recv: &mut iroh::endpoint::RecvStream) -> Result<Answer, RemoteError> {
    let f = read_frame(recv).await.map_err(|e| RemoteError::new(Code::Malformed, e.to_string()))?;
    if f.typ != FrameType::Membership {
        return Err(RemoteError::new(Code::Malformed, "a council exchange starts with a membership frame"));
    }
    let v: serde_json::Value = f.parse_json().map_err(|e| RemoteError::new(Code::Malformed, e.to_string()))?;
    let version = v.get("protocol").and_then(|p| p.as_u64()).unwrap_or(0);
    if version != COUNCIL_PROTOCOL as u64 {
        return Err(RemoteError::new(Code::UnsupportedVersion, format!("council protocol {version} is not supported; this spoke speaks {COUNCIL_PROTOCOL}")));
    }
    let hello: CouncilHello = serde_json::from_value(v).map_err(|e| RemoteError::new(Code::Malformed, e.to_string()))?;
    if host.blocked(peer) {
        return Err(RemoteError::new(Code::Blocked, "this spoke's operator blocked yours"));
    }
    if hello.member.endpoint != peer {
        return Err(RemoteError::new(Code::Malformed, "the member named in the hello is not the connecting spoke"));
    }
    let mut m = host.membership()?;
    let Some(id) = m.id().map(str::to_owned) else {
        return Err(RemoteError::new(Code::NoCouncil, "this spoke belongs to no council"));
    };
    let upgrades = m.founding().and_then(|(_, _, u)| u.map(str::to_owned));
    if hello.council.as_ref().is_some_and(|c| *c != id && Some(c) != upgrades.as_ref()) {
        return Err(RemoteError::new(Code::OtherCouncil, "this spoke belongs to another council"));
    }
    if hello.entries.len() > council::MAX_ENTRIES || hello.have.len() > council::MAX_ENTRIES {
        return Err(RemoteError::new(Code::Malformed, "too many membership entries"));
    }
    let have = hello.have;
    let answer = |m: &Membership| (m.entries_since(&have), m.heads());
    // What the peer brings is taken only if the peer is a member once it is merged: a
    // stranger's, a newcomer's or a cut-off spoke's entries are not stored, and entries signed
    // by spokes never admitted are refused one by one.
    let mut merged = m.clone();
    let (new, refused) = merged.merge(hello.entries);
    if merged.is_member(peer) {
        // An entry whose predecessors this spoke lacks is no offence: the peer thought it held
        // them (it answered with older heads), and learns better from this answer.
        if let Some(e) = refused.iter().find(|e| !matches!(e, CouncilError::OtherCouncil | CouncilError::MissingPrev(_))) {
            host.refused(peer, Code::BadCouncilEntry, &e.to_string());
        }
        if new > 0 {
            host.store_entries(&merged.entries())?;
        }
        m = merged;
    }
    if !m.is_member(peer) {
        let waiting = |m: &Membership| {
            m.pending_join_of(peer).map(|p| RemoteError::new(Code::NotAMember, format!("your spoke waits for the council's approval ({} more of its members must approve)", p.needed)))
        };
        let (Some(token), Some(consent)) = (hello.token, hello.consent) else {
            if let Some(wait) = waiting(&m) {
                let (entries, heads) = answer(&m);
                return Ok((entries, heads, Err(wait)));
            }
            let no = RemoteError::new(Code::NotAMember, "your spoke is not a member of this council (or was cut off)");
            if m.was_cut_off(peer) {
                let (entries, heads) = answer(&m);
                return Ok((entries, heads, Err(no)));
            }
            return Err(no);
        };
        council::check_signature(peer, &council::consent_bytes(&id, &hello.member), &consent).map_err(|e| RemoteError::new(Code::BadSignature, e.to_string()))?;
        if m.was_cut_off(peer) {
            return Err(RemoteError::new(Code::NotAMember, "the council cut your spoke off; it cannot join again"));
        }
        if !m.is_member(&host.key().public().to_string()) {
            return Err(RemoteError::new(Code::NotAMember, "this spoke is no longer a member of its council and cannot propose anyone"));
        }
        if m.pending_join_of(peer).is_none() {
            if !host.take_invite(&token)? {
                return Err(RemoteError::new(Code::BadInvite, "this council invite is unknown, used up or expired; ask for a new one"));
            }
            let signed = m.sign(host.key(), Act::Join { member: hello.member, consent }, chrono::Utc::now().timestamp()).map_err(|e| match e {
                CouncilError::Malformed(_) => RemoteError::new(Code::Malformed, e.to_string()),
                _ => RemoteError::new(Code::Internal, e.to_string()),
            })?;
            host.store_entries(&[signed])?;
            tracing::info!(peer, "proposed a spoke to the council");
        }
        // Kept only for a spoke proposed with a valid invite: one row per invite at most.
        if let Some(report) = hello.ready {
            host.newcomer_ready(peer, &report.bounded());
        }
        if let Some(wait) = waiting(&m) {
            let (entries, heads) = answer(&m);
            return Ok((entries, heads, Err(wait)));
        }
    }
    let (entries, heads) = answer(&m);
    let mut catalog = host.catalog();
    catalog.seal(host.key(), &id, chrono::Utc::now().timestamp());
    Ok((entries, heads, Ok((catalog, hello.digest))))
}

/// The upstreams to pull from: the configured ones that are members, else
/// [`DEFAULT_FANOUT`] members: this spoke's successor on the council's ring, and the rest
/// chosen by the BLAKE3 hash of (this spoke, member), so each spoke has its own stable choice.
/// Never this spoke itself.
///
/// The ring orders members by the BLAKE3 hash of `spokes ring v1\n{endpoint}`; every member
/// pulls from the next one, so every member is some member's upstream and what any member
/// offers goes round the whole council, while the hash-chosen upstreams keep the paths short
/// (about log n pulls). (Chosen by hash alone, about one member in twenty would be nobody's
/// upstream: its blogs would never leave it.) O(n) hashes, no sorting.
///
/// When none of the configured upstreams is a member any more (all cut off or gone), the
/// stable few are chosen instead: a spoke is never left pulling from no one, and the votes
/// that cut its upstreams off still reach the rest of the council through its pulls (each
/// exchange carries the puller's membership entries).
pub fn choose_upstreams(members: &BTreeMap<String, MemberInfo>, configured: &[String], me: &str) -> Vec<MemberInfo> {
    let listed: Vec<MemberInfo> = configured.iter().filter(|e| e.as_str() != me).filter_map(|e| members.get(e).cloned()).collect();
    if !listed.is_empty() {
        return listed;
    }
    let ring = |e: &str| *blake3::hash(format!("spokes ring v1\n{e}").as_bytes()).as_bytes();
    let mine = ring(me);
    // The successor: the smallest ring position after this spoke's, else the smallest.
    let mut after: Option<([u8; 32], &MemberInfo)> = None;
    let mut lowest: Option<([u8; 32], &MemberInfo)> = None;
    for m in members.values().filter(|m| m.endpoint != me) {
        let r = ring(&m.endpoint);
        if r > mine && after.is_none_or(|(a, _)| r < a) {
            after = Some((r, m));
        }
        if lowest.is_none_or(|(l, _)| r < l) {
            lowest = Some((r, m));
        }
    }
    let Some((_, successor)) = after.or(lowest) else { return vec![] };
    let mut chosen = vec![successor.clone()];
    let mut others: Vec<([u8; 32], &MemberInfo)> = Vec::with_capacity(DEFAULT_FANOUT);
    for m in members.values().filter(|m| m.endpoint != me && m.endpoint != successor.endpoint) {
        let h = *blake3::hash(format!("{me}\n{}", m.endpoint).as_bytes()).as_bytes();
        if others.len() + 1 < DEFAULT_FANOUT || others.last().is_some_and(|(l, _)| h < *l) {
            let at = others.iter().position(|(o, _)| h < *o).unwrap_or(others.len());
            others.insert(at, (h, m));
            others.truncate(DEFAULT_FANOUT - 1);
        }
    }
    chosen.extend(others.into_iter().map(|(_, m)| m.clone()));
    chosen
}

/// Parses hex change hashes. `None` if any is malformed.
pub fn parse_heads(heads: &[String]) -> Option<Vec<ChangeHash>> {
    heads.iter().map(|h| h.parse::<ChangeHash>().ok()).collect()
}

/// Whether offering `now` after `before` drops revisions: some head of `before` that `doc`
/// holds is not an ancestor of (or equal to) `now`. `None` when `doc` lacks some of `now`
/// (check again after syncing).
pub fn rolled_back(doc: &mut automerge::AutoCommit, before: &[ChangeHash], now: &[ChangeHash]) -> Option<bool> {
    if now.iter().any(|h| doc.get_change_by_hash(h).is_none()) {
        return None;
    }
    let after: std::collections::HashSet<ChangeHash> = doc.get_changes(now).iter().map(|c| c.hash()).collect();
    Some(before.iter().any(|h| after.contains(h)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;

    #[test]
    fn rollback_is_a_head_that_no_longer_descends() {
        let mut doc = spokes_core::doc::empty_automerge();
        doc.put(automerge::ROOT, "a", 1).unwrap();
        doc.commit();
        let h1 = doc.get_heads();
        doc.put(automerge::ROOT, "a", 2).unwrap();
        doc.commit();
        let h2 = doc.get_heads();
        assert_eq!(rolled_back(&mut doc, &h1, &h2), Some(false), "moving forward");
        assert_eq!(rolled_back(&mut doc, &h2, &h2), Some(false), "standing still");
        assert_eq!(rolled_back(&mut doc, &h2, &h1), Some(true), "replaying the older state");
        let unknown = vec![ChangeHash([7; 32])];
        assert_eq!(rolled_back(&mut doc, &h1, &unknown), None);
    }

    #[test]
    fn upstreams_are_configured_members_or_a_stable_few() {
        let members: BTreeMap<String, MemberInfo> = (0..6)
            .map(|i| {
                let e = iroh::SecretKey::from_bytes(&[i; 32]).public().to_string();
                (e.clone(), MemberInfo { endpoint: e, addrs: vec![], web: String::new(), name: String::new(), relay: None })
            })
            .collect();
        let ids: Vec<String> = members.keys().cloned().collect();
        let me = &ids[0];
        let chosen = choose_upstreams(&members, &[], me);
        assert_eq!(chosen.len(), DEFAULT_FANOUT);
        assert!(chosen.iter().all(|m| &m.endpoint != me));
        assert_eq!(chosen, choose_upstreams(&members, &[], me), "stable");
        let configured = vec![ids[2].clone(), "not-a-member".into(), me.clone()];
        let c = choose_upstreams(&members, &configured, me);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].endpoint, ids[2]);
        // Every configured upstream cut off: the stable few, not no one.
        let gone = vec!["cut-off".to_owned()];
        assert_eq!(choose_upstreams(&members, &gone, me), chosen);
    }

    #[test]
    fn every_member_is_someones_upstream_so_what_any_member_offers_reaches_all() {
        let members: BTreeMap<String, MemberInfo> = (0..400u16)
            .map(|i| {
                let mut seed = [0u8; 32];
                seed[..2].copy_from_slice(&i.to_be_bytes());
                let e = iroh::SecretKey::from_bytes(&seed).public().to_string();
                (e.clone(), MemberInfo { endpoint: e, addrs: vec![], web: String::new(), name: String::new(), relay: None })
            })
            .collect();
        let ids: Vec<&String> = members.keys().collect();
        let mut pulled_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for me in &ids {
            let ups = choose_upstreams(&members, &[], me);
            assert_eq!(ups.len(), DEFAULT_FANOUT);
            assert!(ups.iter().all(|u| &u.endpoint != *me));
            let distinct: std::collections::BTreeSet<&str> = ups.iter().map(|u| u.endpoint.as_str()).collect();
            assert_eq!(distinct.len(), DEFAULT_FANOUT);
            for u in &ups {
                pulled_by.entry(members.get_key_value(&u.endpoint).unwrap().0.as_str()).or_default().push(me.as_str());
            }
        }
        assert_eq!(pulled_by.len(), ids.len(), "a member nobody pulls from");
        // From any member, following who pulls from whom reaches every member.
        let mut reached = std::collections::BTreeSet::from([ids[7].as_str()]);
        let mut frontier = vec![ids[7].as_str()];
        while let Some(x) = frontier.pop() {
            for p in pulled_by.get(x).into_iter().flatten() {
                if reached.insert(p) {
                    frontier.push(p);
                }
            }
        }
        assert_eq!(reached.len(), ids.len());
    }

    #[test]
    fn council_tickets_round_trip() {
        let key = iroh::SecretKey::from_bytes(&[3; 32]);
        let t = CouncilTicket { v: 1, council: "ab".repeat(32), member: MemberInfo { endpoint: key.public().to_string(), addrs: vec!["127.0.0.1:7001".into()], web: "http://127.0.0.1:8001".into(), name: "one".into(), relay: None }, token: "00ff".into() };
        assert_eq!(CouncilTicket::decode(&format!("  {} ", t.encode())).unwrap(), t);
        assert!(matches!(CouncilTicket::decode("spokes1abc"), Err(TicketError::NotATicket)));
        assert!(matches!(CouncilTicket::decode("spokescouncil1!!"), Err(TicketError::Damaged(_))));
    }
}
