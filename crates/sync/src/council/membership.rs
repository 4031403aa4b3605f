//! The council log, format `spokes-council/2`: who belongs to a council, decided by majority,
//! in a public, append-only, hash-chained log every member holds, serves (`/council`) and
//! checks.
//!
//! A council is the set of spokes that aggregate and search each other. Who belongs is kept by
//! none of them alone: it is a log of **entries**, each signed with the Ed25519 key of a
//! spoke's iroh endpoint (its endpoint ID) and each naming the entries its signer held when it
//! signed (`prev`, BLAKE3 hashes). The entries form a hash-linked graph with one root, the
//! founding entry, whose hash is the council's ID: nobody can remove, alter or insert an entry
//! under an existing one without every holder noticing, and the log's **heads** (the entries
//! no other names) stand for the whole of it.
//!
//! An entry (JSON; the exact UTF-8 bytes are what is signed):
//!
//! ```json
//! {"v":2,"council":ID,"prev":[HASH,…],"by":ENDPOINT,"at":UNIX_SECONDS,"act":{"kind":…,…}}
//! ```
//!
//! Acts:
//!
//! - `found` `{member, charter, upgrades}`: the root (`council` empty, `prev` empty, `by` the
//!   founder). `charter` lists members the council starts with besides the founder: empty for
//!   a new council; for a council carried over from format 1, the members that council had,
//!   and `upgrades` names its version-1 ID (see [`Membership::charter_matches`]).
//! - `join` `{member, consent}`: a member proposes a newcomer (who consented by signing
//!   [`consent_bytes`] with its own key: nobody is enrolled without holding its key). The
//!   proposer's own approval.
//! - `approve` `{join}`: a member approves the proposal with that hash.
//! - `remove` `{member, reason}`: a member votes to cut another off.
//! - `accuse` `{member, reason, evidence}`: a `remove` vote carrying [`super::evidence`]: what
//!   the accused itself signed that shows it served a rolled-back or forged blog. An entry
//!   whose evidence does not prove what it says is refused as malformed, so the log holds
//!   only evidence every holder can check; members that check it vote with a plain `remove`.
//!   Entries of this act are written in entry format 3 (format 2 plus `accuse`), so a spoke
//!   that knows only format 2 says it must be upgraded rather than misreading them.
//! - `address` `{member}`: a member announces its own new addresses or reader site.
//!
//! A signature is Ed25519 over `spokes council entry v2\n` followed by the entry's bytes
//! (domain separation, so no other Spokes signature can be replayed as an entry).
//!
//! **Members** ([`Membership::members`]): the entries are applied in one order every holder
//! computes alike, a topological order of the `prev` links with ties taken by hash. A
//! proposal admits its newcomer once **more than half of the current members** approved it
//! (the proposer counts); a member is cut off once more than half of the **other** current
//! members voted so, and a spoke cut off cannot be proposed again. Only current members' acts
//! count: a member alone (or a member and friends it proposed) cannot admit anyone into a
//! council of three or more, and spokes never admitted cannot vote at all. `at` times are
//! informative only.
//!
//! **Bounds.** Entries are kept only from spokes that were once members (the founder, the
//! charter, or a newcomer a majority admitted), at most [`MAX_ENTRIES_PER_SIGNER`] each and
//! [`MAX_ENTRIES`] in all, each at most [`MAX_ENTRY_LEN`] bytes naming at most [`MAX_PREV`]
//! predecessors that must be held already: strangers cannot make a member store anything.

use iroh::{PublicKey, SecretKey, Signature};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The format of the council log, and of its entries but `accuse` ones.
pub const FORMAT: u32 = 2;
/// The entry format of `accuse` entries: format 2 plus that act. A spoke reads both.
pub const FORMAT_EVIDENCE: u32 = 3;
/// Domain-separation tag of entry signatures.
pub const ENTRY_TAG: &[u8] = b"spokes council entry v2\n";
/// Domain-separation tag of a newcomer's consent.
pub const CONSENT_TAG: &[u8] = b"spokes council consent v2\n";
/// Largest entry accepted, in bytes (an `accuse` entry: [`MAX_ACCUSE_LEN`]).
pub const MAX_ENTRY_LEN: usize = 8 * 1024;
/// Largest `accuse` entry accepted, in bytes: its evidence carries a blog's certificate.
pub const MAX_ACCUSE_LEN: usize = 32 * 1024;
/// Most entries one log may hold.
pub const MAX_ENTRIES: usize = 10_000;
/// Most entries one signer may have in a log (its proposals, approvals, votes, addresses).
pub const MAX_ENTRIES_PER_SIGNER: usize = 500;
/// Most predecessors one entry may name.
pub const MAX_PREV: usize = 32;

/// Errors of council entries.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CouncilError {
    /// The entry is not JSON of a known kind, or too large.
    #[error("malformed council entry: {0}")]
    Malformed(String),
    /// A signature does not verify, or the signer is not who the entry says.
    #[error("bad signature on a council entry: {0}")]
    BadSignature(String),
    /// The entry belongs to another council.
    #[error("this entry belongs to another council")]
    OtherCouncil,
    /// The log has no founding entry.
    #[error("this spoke belongs to no council yet")]
    NoCouncil,
    /// Too many entries, in all or from one signer.
    #[error("the council log is too large")]
    TooLarge,
    /// Signed by a spoke that was never a member (not the founder, not in the charter, never
    /// admitted by a majority).
    #[error("signed by a spoke this council never admitted: {0}")]
    UnknownSigner(String),
    /// Names a predecessor this log does not hold.
    #[error("names an earlier entry this log does not hold: {0}")]
    MissingPrev(String),
    /// Written by a later version of Spokes.
    #[error("council log format {0} is newer than this spoke understands ({FORMAT}); upgrade the spoke")]
    NewerFormat(u32),
}

/// A member spoke as the council lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    /// Endpoint ID (the iroh public key, as iroh prints it).
    pub endpoint: String,
    /// Sync addresses (`ip:port`).
    pub addrs: Vec<String>,
    /// Reader site base URL (`http://…` or `https://…`).
    pub web: String,
    /// The operator's name for the spoke.
    pub name: String,
    /// The member's relay (`https://spoke-ID.ZONE[:port]/`, iroh-relay over HTTPS: see
    /// `docs/operators.md`), through which a peer whose network lets no UDP through reaches
    /// it; `None` when it runs none. Optional in the JSON (left out when `None`): entries of
    /// members before it have none, and members before it ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
}

impl MemberInfo {
    /// Where the member is (addresses that are not `ip:port` left out; [`MemberInfo::check`]
    /// refuses them).
    pub fn spoke_addr(&self) -> spokes_core::SpokeAddr {
        spokes_core::SpokeAddr { endpoint: self.endpoint.clone(), addrs: self.addrs.iter().filter_map(|a| a.parse().ok()).collect(), name: Some(self.name.clone()), web: Some(self.web.clone()), relay: self.relay.clone() }
    }

    /// Checks what a peer says of a member: an endpoint ID, `ip:port` sync addresses, a
    /// reader site that is an `http(s)` URL ([`spokes_core::web::reader_url`]), a name of at
    /// most 200 bytes, and a relay, if named, that is an `https` URL of at most 300 bytes
    /// ([`crate::net::relay_url`]). Error: [`CouncilError::Malformed`].
    pub fn check(&self) -> Result<(), CouncilError> {
        let bad = |m: String| Err(CouncilError::Malformed(m));
        if self.endpoint.parse::<PublicKey>().is_err() {
            return bad(format!("member endpoint {:?} is not an endpoint ID", self.endpoint));
        }
        if let Some(a) = self.addrs.iter().find(|a| a.parse::<std::net::SocketAddr>().is_err()) {
            return bad(format!("member address {a:?} is not ip:port"));
        }
        if spokes_core::web::reader_url(&self.web).is_none() {
            return bad(format!("member reader site {:?} is not an http or https address", self.web));
        }
        if self.name.len() > 200 {
            return bad("member name longer than 200 bytes".into());
        }
        if let Some(r) = &self.relay
            && (r.len() > 300 || crate::net::relay_url(r).is_none())
        {
            return bad(format!("member relay {:?} is not an https address", r.chars().take(300).collect::<String>()));
        }
        Ok(())
    }
}

/// What an entry does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Act {
    /// Founds a council (the root entry).
    Found {
        /// The founder (its endpoint is the entry's `by`).
        member: MemberInfo,
        /// Members besides the founder the council starts with (a council carried over from
        /// format 1); empty for a new council.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        charter: Vec<MemberInfo>,
        /// The version-1 council ID this council carries over.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        upgrades: Option<String>,
    },
    /// Proposes a newcomer (and approves it).
    Join {
        /// The newcomer.
        member: MemberInfo,
        /// The newcomer's signature (hex) over [`consent_bytes`].
        consent: String,
    },
    /// Approves a proposal.
    Approve {
        /// The `join` entry's hash.
        join: String,
    },
    /// Votes to cut a member off.
    Remove {
        /// The member's endpoint ID.
        member: String,
        /// Why, for operators and readers of the log.
        reason: String,
    },
    /// The signer's own new addresses or reader site.
    Address {
        /// The signer, as it now is.
        member: MemberInfo,
    },
    /// Votes to cut a member off, with evidence (entry format 3).
    Accuse {
        /// The member's endpoint ID.
        member: String,
        /// What the evidence proves, for operators and readers of the log.
        reason: String,
        /// What the member signed that shows it.
        evidence: Box<super::evidence::Evidence>,
    },
}

/// An entry of the council log (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// [`FORMAT`].
    pub v: u32,
    /// The council ID; empty in the founding entry.
    pub council: String,
    /// Hashes of the entries the signer held as heads when it signed (empty only for the
    /// founding entry).
    pub prev: Vec<String>,
    /// The signer's endpoint ID.
    pub by: String,
    /// Unix seconds (informative).
    pub at: i64,
    /// What it does.
    pub act: Act,
}

/// A signed entry as stored and exchanged: the entry's exact JSON text and the hex Ed25519
/// signature of its `by`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedEntry {
    /// The entry's JSON text.
    pub entry: String,
    /// Hex Ed25519 signature over [`ENTRY_TAG`] + `entry`.
    pub signature: String,
}

impl SignedEntry {
    /// Signs `entry` with `key`, which must be the entry's `by`.
    pub fn sign(entry: &Entry, key: &SecretKey) -> SignedEntry {
        let text = serde_json::to_string(entry).unwrap_or_default();
        let sig = key.sign(&[ENTRY_TAG, text.as_bytes()].concat());
        SignedEntry { entry: text, signature: hex::encode(sig.to_bytes()) }
    }

    /// BLAKE3 of the entry's bytes, hex: its identity (the council ID for `found`).
    pub fn hash(&self) -> String {
        blake3::hash(self.entry.as_bytes()).to_hex().to_string()
    }

    /// The format the entry says it is in: 2 for this one, `None` for a version-1 entry
    /// (which has no `v`) or text that is not an entry.
    pub fn format(&self) -> Option<u32> {
        #[derive(Deserialize)]
        struct V {
            v: Option<u32>,
        }
        serde_json::from_str::<V>(&self.entry).ok().and_then(|v| v.v)
    }

    /// Parses and checks the entry on its own: size, format, JSON, shape, the signer's
    /// signature, a `join`'s consent and an `accuse`'s evidence (with the certificate it
    /// carries).
    pub fn verify(&self) -> Result<Entry, CouncilError> {
        if self.entry.len() > MAX_ACCUSE_LEN {
            return Err(CouncilError::Malformed(format!("{} bytes (at most {MAX_ACCUSE_LEN})", self.entry.len())));
        }
        let format = match self.format() {
            Some(v @ (FORMAT | FORMAT_EVIDENCE)) => v,
            Some(v) if v > FORMAT_EVIDENCE => return Err(CouncilError::NewerFormat(v)),
            _ => return Err(CouncilError::Malformed("not a council log entry of format 2 or 3".into())),
        };
        let entry: Entry = serde_json::from_str(&self.entry).map_err(|e| CouncilError::Malformed(e.to_string()))?;
        let accuse = matches!(entry.act, Act::Accuse { .. });
        if accuse != (format == FORMAT_EVIDENCE) {
            return Err(CouncilError::Malformed("`accuse` entries, and only they, are of format 3".into()));
        }
        if !accuse && self.entry.len() > MAX_ENTRY_LEN {
            return Err(CouncilError::Malformed(format!("{} bytes (at most {MAX_ENTRY_LEN})", self.entry.len())));
        }
        check_signature(&entry.by, &[ENTRY_TAG, self.entry.as_bytes()].concat(), &self.signature)?;
        let founding = matches!(entry.act, Act::Found { .. });
        if founding != entry.prev.is_empty() || founding != entry.council.is_empty() {
            return Err(CouncilError::Malformed("only the founding entry has no council and no earlier entries".into()));
        }
        if entry.prev.len() > MAX_PREV || entry.prev.iter().any(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(CouncilError::Malformed(format!("`prev` must be at most {MAX_PREV} hashes")));
        }
        match &entry.act {
            Act::Found { member, charter, .. } => {
                if member.endpoint != entry.by {
                    return Err(CouncilError::Malformed("the founder must sign the founding entry".into()));
                }
                member.check()?;
                charter.iter().try_for_each(MemberInfo::check)?;
            }
            Act::Join { member, consent } => {
                member.check()?;
                check_signature(&member.endpoint, &consent_bytes(&entry.council, member), consent)?;
            }
            Act::Address { member } => {
                if member.endpoint != entry.by {
                    return Err(CouncilError::Malformed("a member announces only its own address".into()));
                }
                member.check()?;
            }
            Act::Accuse { member, evidence, .. } => {
                if *member == entry.by {
                    return Err(CouncilError::Malformed("a member does not accuse itself".into()));
                }
                evidence.check(member, &entry.council, None).map_err(|e| CouncilError::Malformed(e.to_string()))?;
            }
            Act::Approve { .. } | Act::Remove { .. } => {}
        }
        Ok(entry)
    }
}

/// What a newcomer signs to consent to joining `council` as `member`:
/// [`CONSENT_TAG`] + council ID + `\n` + the member's JSON.
pub fn consent_bytes(council: &str, member: &MemberInfo) -> Vec<u8> {
    [CONSENT_TAG, council.as_bytes(), b"\n", serde_json::to_string(member).unwrap_or_default().as_bytes()].concat()
}

/// The newcomer's consent signature (hex) for joining `council` as `member`.
pub fn consent(key: &SecretKey, council: &str, member: &MemberInfo) -> String {
    hex::encode(key.sign(&consent_bytes(council, member)).to_bytes())
}

/// Checks a hex Ed25519 signature by endpoint ID `signer` over `message`.
pub fn check_signature(signer: &str, message: &[u8], signature_hex: &str) -> Result<(), CouncilError> {
    let key: PublicKey = signer.parse().map_err(|e| CouncilError::BadSignature(format!("signer {signer}: {e}")))?;
    let bytes: [u8; 64] = hex::decode(signature_hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| CouncilError::BadSignature("not a 64-byte hex signature".into()))?;
    key.verify(message, &Signature::from_bytes(&bytes)).map_err(|_| CouncilError::BadSignature(format!("does not verify for {signer}")))
}

/// `entries` ordered so that each comes after those of them its `prev` names (depth first,
/// iteratively), so that a log arriving in any order (the store's is by hash) is taken in one
/// pass rather than one pass per link.
fn predecessors_first(entries: Vec<(SignedEntry, Entry)>) -> Vec<(SignedEntry, Entry)> {
    let mut by_hash: BTreeMap<String, (SignedEntry, Entry)> = entries.into_iter().map(|(s, e)| (s.hash(), (s, e))).collect();
    let hashes: Vec<String> = by_hash.keys().cloned().collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(hashes.len());
    for root in hashes {
        // (hash, whether its predecessors were pushed already)
        let mut stack = vec![(root, false)];
        while let Some((h, expanded)) = stack.pop() {
            if done.contains(&h) {
                continue;
            }
            if expanded {
                done.insert(h.clone());
                if let Some(x) = by_hash.remove(&h) {
                    out.push(x);
                }
                continue;
            }
            let Some((_, e)) = by_hash.get(&h) else { continue };
            let prevs: Vec<String> = e.prev.iter().filter(|p| by_hash.contains_key(*p) && !done.contains(*p)).cloned().collect();
            stack.push((h, true));
            stack.extend(prevs.into_iter().map(|p| (p, false)));
        }
    }
    out
}

/// An `accuse` entry against a current member ([`Membership::accusations`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Accusation {
    /// The entry's hash.
    pub entry: String,
    /// The accuser.
    pub by: String,
    /// The accused.
    pub member: String,
    /// What the evidence proves, in the accuser's words.
    pub reason: String,
    /// The evidence.
    pub evidence: super::evidence::Evidence,
}

/// A proposal waiting for approvals.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PendingJoin {
    /// The `join` entry's hash (what `approve` names).
    pub join: String,
    /// The newcomer.
    pub member: MemberInfo,
    /// Current members who approved (the proposer among them).
    pub approvals: BTreeSet<String>,
    /// How many more approvals admit it.
    pub needed: usize,
}

/// The state the log comes to.
#[derive(Clone, Debug, Default)]
struct State {
    members: BTreeMap<String, MemberInfo>,
    /// Every spoke that was a member at some point (whose entries are kept).
    ever: BTreeSet<String>,
    removed: BTreeSet<String>,
    /// join hash → (newcomer, approvers).
    proposals: BTreeMap<String, (MemberInfo, BTreeSet<String>)>,
    /// member → voters.
    votes: BTreeMap<String, BTreeSet<String>>,
}

/// Approvals (the proposer's `join` entry counts as one) a newcomer needs in a council of
/// `members`: more than half of them.
pub fn approvals_needed(members: usize) -> usize {
    members / 2 + 1
}

impl State {
    fn majority(count: usize, of: usize) -> bool {
        of > 0 && count * 2 > of
    }

    fn count(&self, who: &BTreeSet<String>, except: &str) -> usize {
        who.iter().filter(|w| w.as_str() != except && self.members.contains_key(*w)).count()
    }

    fn apply(&mut self, hash: &str, e: &Entry) {
        let active = self.members.contains_key(&e.by);
        match &e.act {
            Act::Found { member, charter, .. } => {
                for m in std::iter::once(member).chain(charter) {
                    self.members.entry(m.endpoint.clone()).or_insert_with(|| m.clone());
                    self.ever.insert(m.endpoint.clone());
                }
            }
            Act::Join { member, .. } if active && !self.members.contains_key(&member.endpoint) && !self.removed.contains(&member.endpoint) => {
                self.proposals.insert(hash.to_owned(), (member.clone(), BTreeSet::from([e.by.clone()])));
            }
            Act::Approve { join } if active => {
                if let Some((_, approvals)) = self.proposals.get_mut(join) {
                    approvals.insert(e.by.clone());
                }
            }
            Act::Remove { member, .. } | Act::Accuse { member, .. } if active && *member != e.by && self.members.contains_key(member) => {
                self.votes.entry(member.clone()).or_default().insert(e.by.clone());
            }
            Act::Address { member } if active => {
                self.members.insert(e.by.clone(), member.clone());
            }
            _ => {}
        }
        self.settle();
    }

    /// Admits and cuts off until nothing changes (each round shrinks the proposals or the
    /// members, so this ends).
    fn settle(&mut self) {
        loop {
            let admit = self.proposals.iter().find(|(_, (_, a))| State::majority(self.count(a, ""), self.members.len())).map(|(h, (m, _))| (h.clone(), m.clone()));
            if let Some((hash, member)) = admit {
                self.proposals.remove(&hash);
                self.proposals.retain(|_, (m, _)| m.endpoint != member.endpoint);
                self.ever.insert(member.endpoint.clone());
                self.members.insert(member.endpoint.clone(), member);
                continue;
            }
            let cut = self.votes.iter().find(|(who, voters)| self.members.contains_key(*who) && State::majority(self.count(voters, who), self.members.len().saturating_sub(1))).map(|(w, _)| w.clone());
            let Some(who) = cut else { return };
            self.members.remove(&who);
            self.votes.remove(&who);
            self.removed.insert(who.clone());
            self.proposals.retain(|_, (m, _)| m.endpoint != who);
        }
    }
}

/// A council log: its verified entries, keyed by hash, and the state they come to.
#[derive(Clone, Debug, Default)]
pub struct Membership {
    id: Option<String>,
    entries: BTreeMap<String, (SignedEntry, Entry)>,
    heads: BTreeSet<String>,
    per_signer: BTreeMap<String, usize>,
    state: State,
    /// Whether `state` lags behind `entries` (an entry was taken somewhere other than at the
    /// end of the order) and must be computed again.
    stale: bool,
}

impl Membership {
    /// An empty log (no council).
    pub fn new() -> Membership {
        Membership::default()
    }

    /// Founds a council with `me` as its only member.
    pub fn found(key: &SecretKey, me: MemberInfo, at: i64) -> Membership {
        Membership::found_with_charter(key, me, Vec::new(), None, at)
    }

    /// Founds a council that starts with `me` and `charter` (a version-1 council carried over:
    /// `upgrades` is its ID).
    pub fn found_with_charter(key: &SecretKey, me: MemberInfo, charter: Vec<MemberInfo>, upgrades: Option<String>, at: i64) -> Membership {
        let entry = Entry { v: FORMAT, council: String::new(), prev: Vec::new(), by: key.public().to_string(), at, act: Act::Found { member: me, charter, upgrades } };
        let mut m = Membership::new();
        let _ = m.add(SignedEntry::sign(&entry, key));
        m
    }

    /// The council ID (the founding entry's hash), if founded.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The founding entry's founder, charter and carried-over version-1 ID.
    pub fn founding(&self) -> Option<(&MemberInfo, &[MemberInfo], Option<&str>)> {
        let (_, e) = self.entries.get(self.id.as_deref()?)?;
        match &e.act {
            Act::Found { member, charter, upgrades } => Some((member, charter, upgrades.as_deref())),
            _ => None,
        }
    }

    /// Whether this council is the carried-over form of the version-1 council `legacy`: founded
    /// by that council's founder, naming its ID, and starting with none but its members.
    pub fn charter_matches(&self, legacy: &super::legacy::LegacyCouncil) -> bool {
        let (Some((founder, charter, Some(upgrades))), Some(old)) = (self.founding(), legacy.id()) else { return false };
        let old_members = legacy.members();
        upgrades == old && legacy.founder() == Some(founder.endpoint.as_str()) && charter.iter().all(|m| old_members.contains_key(&m.endpoint))
    }

    /// Every signed entry, in the order the log applies them (predecessors first).
    pub fn entries(&self) -> Vec<SignedEntry> {
        self.order().into_iter().filter_map(|h| self.entries.get(&h)).map(|(s, _)| s.clone()).collect()
    }

    /// The entries a holder of `have` (heads it sent, say) lacks: every entry that is not
    /// `have` or an earlier entry of them, in application order. Hashes this log does not hold
    /// are ignored (so an empty or unknown `have` gives every entry).
    pub fn entries_since(&self, have: &[String]) -> Vec<SignedEntry> {
        let mut held: BTreeSet<&str> = BTreeSet::new();
        let mut stack: Vec<&str> = have.iter().filter(|h| self.entries.contains_key(*h)).map(String::as_str).collect();
        while let Some(h) = stack.pop() {
            if held.insert(h)
                && let Some((_, e)) = self.entries.get(h)
            {
                stack.extend(e.prev.iter().map(String::as_str));
            }
        }
        self.order().into_iter().filter(|h| !held.contains(h.as_str())).filter_map(|h| self.entries.get(&h)).map(|(s, _)| s.clone()).collect()
    }

    /// The log's heads: hashes of the entries no other entry names, sorted.
    pub fn heads(&self) -> Vec<String> {
        self.heads.iter().cloned().collect()
    }

    /// How many entries the log holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Hashes in application order: topological by `prev`, ties by hash (Kahn's algorithm).
    fn order(&self) -> Vec<String> {
        let mut waiting: BTreeMap<&str, usize> = BTreeMap::new();
        let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (h, (_, e)) in &self.entries {
            waiting.insert(h, e.prev.len());
            for p in &e.prev {
                children.entry(p).or_default().push(h);
            }
        }
        let mut ready: BTreeSet<&str> = waiting.iter().filter(|(_, n)| **n == 0).map(|(h, _)| *h).collect();
        let mut out = Vec::with_capacity(self.entries.len());
        while let Some(h) = ready.pop_first() {
            out.push(h.to_owned());
            for c in children.get(h).into_iter().flatten() {
                if let Some(n) = waiting.get_mut(c) {
                    *n -= 1;
                    if *n == 0 {
                        ready.insert(c);
                    }
                }
            }
        }
        out
    }

    fn recompute(&mut self) {
        let mut state = State::default();
        for h in self.order() {
            if let Some((_, e)) = self.entries.get(&h) {
                state.apply(&h, e);
            }
        }
        // A spoke once admitted stays one whose entries are kept, whatever a later entry
        // reorders: the bound on what is stored only ever loosens by majority decisions.
        state.ever.extend(self.state.ever.iter().cloned());
        self.state = state;
        self.stale = false;
    }

    /// Adds one entry after verifying it. Returns whether it was new.
    ///
    /// Errors: [`CouncilError::Malformed`], [`CouncilError::BadSignature`],
    /// [`CouncilError::OtherCouncil`] (also a second `found`), [`CouncilError::TooLarge`],
    /// [`CouncilError::UnknownSigner`], [`CouncilError::MissingPrev`],
    /// [`CouncilError::NewerFormat`].
    pub fn add(&mut self, signed: SignedEntry) -> Result<bool, CouncilError> {
        if self.entries.contains_key(&signed.hash()) {
            return Ok(false);
        }
        let entry = signed.verify()?;
        let new = self.insert(signed, entry)?;
        if self.stale {
            self.recompute();
        }
        Ok(new)
    }

    fn insert(&mut self, signed: SignedEntry, entry: Entry) -> Result<bool, CouncilError> {
        let hash = signed.hash();
        if self.entries.contains_key(&hash) {
            return Ok(false);
        }
        if self.entries.len() >= MAX_ENTRIES {
            return Err(CouncilError::TooLarge);
        }
        match (&entry.act, &self.id) {
            (Act::Found { .. }, None) => {}
            (Act::Found { .. }, Some(_)) => return Err(CouncilError::OtherCouncil),
            (_, None) => return Err(CouncilError::NoCouncil),
            (_, Some(id)) if entry.council != *id => return Err(CouncilError::OtherCouncil),
            (_, Some(_)) => {
                if !self.state.ever.contains(&entry.by) {
                    return Err(CouncilError::UnknownSigner(entry.by.clone()));
                }
                if self.per_signer.get(&entry.by).copied().unwrap_or(0) >= MAX_ENTRIES_PER_SIGNER {
                    return Err(CouncilError::TooLarge);
                }
                if let Some(p) = entry.prev.iter().find(|p| !self.entries.contains_key(*p)) {
                    return Err(CouncilError::MissingPrev(p.clone()));
                }
            }
        }
        if matches!(entry.act, Act::Found { .. }) {
            self.id = Some(hash.clone());
            // The founder and charter may sign before any recomputation.
            if let Act::Found { member, charter, .. } = &entry.act {
                self.state.ever.extend(std::iter::once(member).chain(charter).map(|m| m.endpoint.clone()));
            }
        }
        *self.per_signer.entry(entry.by.clone()).or_default() += 1;
        // An entry that follows every head follows every entry: it comes last in the order, so
        // applying it to the state is what computing the whole log again would do.
        let last = entry.prev.len() == self.heads.len() && entry.prev.iter().all(|p| self.heads.contains(p));
        for p in &entry.prev {
            self.heads.remove(p);
        }
        self.heads.insert(hash.clone());
        if last && !self.stale {
            self.state.apply(&hash, &entry);
        } else {
            self.stale = true;
        }
        self.entries.insert(hash, (signed, entry));
        Ok(true)
    }

    /// Merges `incoming` entries in any order: each is taken once its predecessors are held
    /// and its signer was admitted (rounds until nothing more can be taken). Returns how many
    /// were new and the entries refused, with why.
    pub fn merge(&mut self, incoming: Vec<SignedEntry>) -> (usize, Vec<CouncilError>) {
        let mut new = 0;
        let mut refused = Vec::new();
        let mut incoming_entries: Vec<(SignedEntry, Entry)> = Vec::new();
        let mut seen = BTreeSet::new();
        for s in incoming {
            let h = s.hash();
            if self.entries.contains_key(&h) || !seen.insert(h) {
                continue;
            }
            match s.verify() {
                Ok(e) => incoming_entries.push((s, e)),
                Err(e) => refused.push(e),
            }
        }
        let mut pending = predecessors_first(incoming_entries);
        loop {
            let before = pending.len();
            // Take everything whose predecessors and signer are known, then let the state
            // catch up (admissions open the way for the newcomers' own entries).
            loop {
                let round = pending.len();
                let mut waiting = Vec::new();
                for (s, e) in pending {
                    match self.insert(s.clone(), e.clone()) {
                        Ok(true) => new += 1,
                        Ok(false) => {}
                        Err(CouncilError::UnknownSigner(_) | CouncilError::MissingPrev(_)) => waiting.push((s, e)),
                        Err(err) => refused.push(err),
                    }
                }
                pending = waiting;
                if pending.is_empty() || pending.len() == round {
                    break;
                }
            }
            if self.stale {
                self.recompute();
            }
            if pending.is_empty() || pending.len() == before {
                break;
            }
        }
        refused.extend(pending.into_iter().map(|(_, e)| {
            if self.state.ever.contains(&e.by) {
                CouncilError::MissingPrev(e.prev.iter().find(|p| !self.entries.contains_key(*p)).cloned().unwrap_or_default())
            } else {
                CouncilError::UnknownSigner(e.by)
            }
        }));
        (new, refused)
    }

    /// Signs a new entry by `key` that follows every head of this log, and adds it. Errors as
    /// [`Membership::add`] (for one, [`CouncilError::NoCouncil`] outside a council).
    pub fn sign(&mut self, key: &SecretKey, act: Act, at: i64) -> Result<SignedEntry, CouncilError> {
        let council = self.id.clone().ok_or(CouncilError::NoCouncil)?;
        let mut prev = self.heads();
        prev.truncate(MAX_PREV);
        let v = if matches!(act, Act::Accuse { .. }) { FORMAT_EVIDENCE } else { FORMAT };
        let signed = SignedEntry::sign(&Entry { v, council, prev, by: key.public().to_string(), at, act }, key);
        self.add(signed.clone())?;
        Ok(signed)
    }

    /// The current members by endpoint ID (see the module documentation for the rule).
    pub fn members(&self) -> BTreeMap<String, MemberInfo> {
        self.state.members.clone()
    }

    /// Whether `endpoint` is a current member.
    pub fn is_member(&self, endpoint: &str) -> bool {
        self.state.members.contains_key(endpoint)
    }

    /// Whether the council cut `endpoint` off (as opposed to it never having joined).
    pub fn was_cut_off(&self, endpoint: &str) -> bool {
        self.state.removed.contains(endpoint)
    }

    /// Spokes the council cut off.
    pub fn removed(&self) -> BTreeSet<String> {
        self.state.removed.clone()
    }

    /// Proposals waiting for approvals, oldest hash order.
    pub fn pending_joins(&self) -> Vec<PendingJoin> {
        let n = self.state.members.len();
        self.state
            .proposals
            .iter()
            .map(|(h, (m, a))| {
                let approvals: BTreeSet<String> = a.iter().filter(|x| self.state.members.contains_key(*x)).cloned().collect();
                PendingJoin { join: h.clone(), member: m.clone(), needed: approvals_needed(n).saturating_sub(approvals.len()), approvals }
            })
            .collect()
    }

    /// The proposal naming `endpoint`, if one waits.
    pub fn pending_join_of(&self, endpoint: &str) -> Option<PendingJoin> {
        self.pending_joins().into_iter().find(|p| p.member.endpoint == endpoint)
    }

    /// The `accuse` entries by current members against current members, in application order.
    pub fn accusations(&self) -> Vec<Accusation> {
        self.order()
            .into_iter()
            .filter_map(|h| match self.entries.get(&h) {
                Some((_, Entry { by, act: Act::Accuse { member, reason, evidence }, .. })) if self.state.members.contains_key(member) && self.state.members.contains_key(by) => {
                    Some(Accusation { entry: h.clone(), by: by.clone(), member: member.clone(), reason: reason.clone(), evidence: (**evidence).clone() })
                }
                _ => None,
            })
            .collect()
    }

    /// Whether `voter` has voted (a `remove` or an `accuse`) to cut `member` off.
    pub fn voted_against(&self, voter: &str, member: &str) -> bool {
        self.state.votes.get(member).is_some_and(|v| v.contains(voter))
    }

    /// Members with votes to cut them off that have no majority yet, with the voters (current
    /// members only).
    pub fn pending_removals(&self) -> BTreeMap<String, BTreeSet<String>> {
        self.state
            .votes
            .iter()
            .filter(|(w, _)| self.state.members.contains_key(*w))
            .map(|(w, v)| (w.clone(), v.iter().filter(|x| self.state.members.contains_key(*x)).cloned().collect::<BTreeSet<_>>()))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use super::super::evidence::Evidence;

    fn spoke(n: u8) -> (SecretKey, MemberInfo) {
        let key = SecretKey::from_bytes(&[n; 32]);
        let info = MemberInfo { endpoint: key.public().to_string(), addrs: vec![format!("127.0.0.1:{}", 7000 + n as u16)], web: format!("http://127.0.0.1:{}", 8000 + n as u16), name: format!("spoke {n}"), relay: None };
        (key, info)
    }

    #[test]
    fn an_accusation_is_a_vote_only_with_evidence_that_proves_it() {
        let s: Vec<(SecretKey, MemberInfo)> = (1..=3).map(spoke).collect();
        let mut m = Membership::found(&s[0].0, s[0].1.clone(), 1);
        for x in &s[1..] {
            let h = propose(&mut m, &s[0].0, x);
            for y in &s[1..] {
                if m.is_member(&y.1.endpoint) {
                    m.sign(&y.0, Act::Approve { join: h.clone() }, 2).unwrap();
                }
            }
        }
        assert_eq!(m.members().len(), 3);
        let id = m.id().unwrap().to_owned();
        let accused = s[2].1.endpoint.clone();
        let accuse = |evidence: Evidence| Act::Accuse { member: accused.clone(), reason: "rolled a blog back".into(), evidence: Box::new(evidence) };
        // Evidence that does not prove it: a rise in rev; a seal by someone else.
        let rise = super::super::evidence::rollback_evidence(&s[2].0, &id, 3, 5);
        assert!(matches!(m.sign(&s[0].0, accuse(rise), 3), Err(CouncilError::Malformed(_))));
        let framed = super::super::evidence::rollback_evidence(&s[1].0, &id, 5, 3);
        assert!(matches!(m.sign(&s[0].0, accuse(framed), 3), Err(CouncilError::Malformed(_))));
        let other_council = super::super::evidence::rollback_evidence(&s[2].0, "another", 5, 3);
        assert!(matches!(m.sign(&s[0].0, accuse(other_council), 3), Err(CouncilError::Malformed(_))));
        assert!(m.accusations().is_empty());
        // Evidence that proves it: an entry of format 3, listed, counted as a vote.
        let proof = super::super::evidence::rollback_evidence(&s[2].0, &id, 5, 3);
        let signed = m.sign(&s[0].0, accuse(proof.clone()), 3).unwrap();
        assert_eq!(signed.format(), Some(FORMAT_EVIDENCE));
        let listed = m.accusations();
        assert_eq!((listed.len(), listed[0].by.as_str(), listed[0].member.as_str()), (1, s[0].1.endpoint.as_str(), accused.as_str()));
        assert!(m.voted_against(&s[0].1.endpoint, &accused));
        assert!(m.is_member(&accused), "one vote of two others");
        // Another holder takes it from the log as it is.
        let mut copy = Membership::new();
        assert_eq!(copy.merge(m.entries()), (m.len(), vec![]));
        assert_eq!(copy.accusations(), listed);
        // The other member's vote cuts it off.
        m.sign(&s[1].0, Act::Remove { member: accused.clone(), reason: "checked the evidence".into() }, 4).unwrap();
        assert!(m.was_cut_off(&accused));
        assert!(m.accusations().is_empty(), "only against current members");
        // Formats: an accusation written as format 2, another act written as format 3, format 4.
        let entry = |v: u32, act: Act| SignedEntry::sign(&Entry { v, council: id.clone(), prev: m.heads(), by: s[0].1.endpoint.clone(), at: 5, act }, &s[0].0);
        assert!(matches!(entry(FORMAT, Act::Accuse { member: s[1].1.endpoint.clone(), reason: "x".into(), evidence: Box::new(proof.clone()) }).verify(), Err(CouncilError::Malformed(_))));
        assert!(matches!(entry(FORMAT_EVIDENCE, Act::Remove { member: s[1].1.endpoint.clone(), reason: "x".into() }).verify(), Err(CouncilError::Malformed(_))));
        assert!(matches!(entry(4, Act::Remove { member: s[1].1.endpoint.clone(), reason: "x".into() }).verify(), Err(CouncilError::NewerFormat(4))));
        // Nobody accuses itself.
        let own = super::super::evidence::rollback_evidence(&s[0].0, &id, 5, 3);
        assert!(matches!(entry(FORMAT_EVIDENCE, Act::Accuse { member: s[0].1.endpoint.clone(), reason: "x".into(), evidence: Box::new(own) }).verify(), Err(CouncilError::Malformed(_))));
    }

    fn propose(m: &mut Membership, by: &SecretKey, newcomer: &(SecretKey, MemberInfo)) -> String {
        let id = m.id().unwrap().to_owned();
        m.sign(by, Act::Join { consent: consent(&newcomer.0, &id, &newcomer.1), member: newcomer.1.clone() }, 1).unwrap().hash()
    }

    fn approve(m: &mut Membership, by: &SecretKey, join: &str) {
        m.sign(by, Act::Approve { join: join.to_owned() }, 2).unwrap();
    }

    fn remove(m: &mut Membership, by: &SecretKey, who: &MemberInfo) {
        m.sign(by, Act::Remove { member: who.endpoint.clone(), reason: "served altered posts".into() }, 3).unwrap();
    }

    /// A council of `n` built by majority: each newcomer proposed by the founder and approved
    /// by every other member.
    fn council(n: u8) -> (Vec<(SecretKey, MemberInfo)>, Membership) {
        let s: Vec<_> = (1..=n).map(spoke).collect();
        let mut m = Membership::found(&s[0].0, s[0].1.clone(), 0);
        for i in 1..n as usize {
            let j = propose(&mut m, &s[0].0, &s[i]);
            for k in &s[1..i] {
                approve(&mut m, &k.0, &j);
            }
            assert!(m.is_member(&s[i].1.endpoint), "{i}");
        }
        (s, m)
    }

    #[test]
    fn a_newcomer_needs_a_majority_and_the_log_is_order_free() {
        let s: Vec<_> = (1..=5).map(spoke).collect();
        let mut a = Membership::found(&s[0].0, s[0].1.clone(), 0);
        // Alone, the founder is the majority.
        propose(&mut a, &s[0].0, &s[1]);
        assert_eq!(a.members().len(), 2);
        // With two members, one approval is half: not enough.
        let j = propose(&mut a, &s[0].0, &s[2]);
        assert!(!a.is_member(&s[2].1.endpoint));
        let p = a.pending_join_of(&s[2].1.endpoint).unwrap();
        assert_eq!((p.join.as_str(), p.needed, p.approvals.len()), (j.as_str(), 1, 1));
        approve(&mut a, &s[1].0, &j);
        assert!(a.is_member(&s[2].1.endpoint));
        assert!(a.pending_joins().is_empty());
        // Another spoke learns the entries in reverse order and comes to the same log.
        let mut b = Membership::new();
        let mut entries = a.entries();
        entries.reverse();
        let (new, refused) = b.merge(entries.clone());
        assert_eq!((new, refused.len()), (4, 0));
        assert_eq!(b.members(), a.members());
        assert_eq!((b.id(), b.heads()), (a.id(), a.heads()));
        assert_eq!(b.entries(), a.entries());
        // Replaying changes nothing.
        assert_eq!(b.merge(entries.clone()).0, 0);
        // In hash order (as the store reads them), too.
        entries.sort_by_key(SignedEntry::hash);
        let mut c = Membership::new();
        assert_eq!(c.merge(entries), (4, vec![]));
        assert_eq!(c.heads(), a.heads());
        // The log is a chain: every entry but the root names what came before it.
        let order = a.entries();
        assert_eq!(order[0].hash(), a.id().unwrap());
        for (i, e) in order.iter().enumerate().skip(1) {
            assert_eq!(e.verify().unwrap().prev, vec![order[i - 1].hash()]);
        }
    }

    /// The state kept entry by entry is the state computed from the whole log, however the
    /// entries arrived (appended, concurrent branches, in hash order).
    #[test]
    fn the_state_kept_as_entries_arrive_is_the_whole_logs() {
        let same = |m: &Membership| {
            let mut again = m.clone();
            again.recompute();
            assert_eq!(m.members(), again.members());
            assert_eq!(m.pending_joins(), again.pending_joins());
            assert_eq!(m.removed(), again.removed());
            assert_eq!(m.pending_removals(), again.pending_removals());
        };
        let (s, mut a) = council(5);
        same(&a);
        // Two members sign concurrently from the same heads; each learns the other's.
        let mut b = a.clone();
        let x = spoke(9);
        let j = propose(&mut a, &s[1].0, &x);
        remove(&mut b, &s[2].0, &s[4].1);
        remove(&mut b, &s[3].0, &s[4].1);
        same(&a);
        same(&b);
        a.merge(b.entries());
        b.merge(a.entries());
        same(&a);
        same(&b);
        assert_eq!(a.members(), b.members());
        approve(&mut a, &s[0].0, &j);
        approve(&mut a, &s[2].0, &j);
        remove(&mut a, &s[0].0, &s[4].1);
        same(&a);
        assert!(a.is_member(&x.1.endpoint) && !a.is_member(&s[4].1.endpoint));
        let mut c = Membership::new();
        let mut entries = a.entries();
        entries.sort_by_key(SignedEntry::hash);
        c.merge(entries);
        same(&c);
        assert_eq!((c.members(), c.removed()), (a.members(), a.removed()));
    }

    #[test]
    fn a_holder_is_sent_only_the_entries_it_lacks() {
        let (s, mut m) = council(3);
        let old_heads = m.heads();
        let before = m.len();
        remove(&mut m, &s[1].0, &s[2].1);
        m.sign(&s[2].0, Act::Address { member: s[2].1.clone() }, 4).unwrap();
        let since = m.entries_since(&old_heads);
        assert_eq!(since.len(), 2);
        assert_eq!(since, m.entries()[before..].to_vec());
        // Taken by a holder of the old log, they give the same log.
        let mut other = Membership::new();
        other.merge(m.entries()[..before].to_vec());
        assert_eq!(other.merge(since), (2, vec![]));
        assert_eq!(other.heads(), m.heads());
        // Nothing is missing for a holder of the heads; unknown heads count for nothing.
        assert!(m.entries_since(&m.heads()).is_empty());
        assert_eq!(m.entries_since(&["f".repeat(64)]).len(), m.len());
    }

    #[test]
    fn an_entry_whose_predecessors_are_missing_waits_and_is_refused_alone() {
        let (s, m) = council(3);
        let entries = m.entries();
        // The last entry without the one before it.
        let mut partial = Membership::new();
        let (_, refused) = partial.merge(vec![entries[0].clone(), entries[1].clone(), entries[3].clone()]);
        assert!(matches!(&refused[..], [CouncilError::MissingPrev(_)]), "{refused:?}");
        assert_eq!(partial.len(), 2);
        // Given later, both are taken.
        assert_eq!(partial.merge(entries.clone()).0, 2);
        assert_eq!(partial.members(), m.members());
        // A predecessor that is not a hash is malformed.
        let mut e = entries[3].verify().unwrap();
        e.prev = vec!["x".into()];
        assert!(matches!(SignedEntry::sign(&e, &s[1].0).verify(), Err(CouncilError::Malformed(_))));
    }

    #[test]
    fn forged_entries_are_refused() {
        let (s, mut m) = council(2);
        let x = spoke(3);
        let id = m.id().unwrap().to_owned();
        let heads = m.heads();
        let base = |act: Act, by: &MemberInfo| Entry { v: FORMAT, council: id.clone(), prev: heads.clone(), by: by.endpoint.clone(), at: 1, act };
        // Signed by someone other than `by`.
        let e = base(Act::Join { consent: consent(&x.0, &id, &x.1), member: x.1.clone() }, &s[0].1);
        assert!(matches!(m.clone().add(SignedEntry::sign(&e, &s[1].0)), Err(CouncilError::BadSignature(_))));
        // Consent forged: the newcomer did not sign.
        let e = base(Act::Join { consent: consent(&s[1].0, &id, &x.1), member: x.1.clone() }, &s[0].1);
        assert!(matches!(m.clone().add(SignedEntry::sign(&e, &s[0].0)), Err(CouncilError::BadSignature(_))));
        // Altered text after signing.
        let mut good = SignedEntry::sign(&base(Act::Remove { member: s[1].1.endpoint.clone(), reason: "x".into() }, &s[0].1), &s[0].0);
        good.entry = good.entry.replace("\"x\"", "\"y\"");
        assert!(matches!(m.clone().add(good), Err(CouncilError::BadSignature(_))));
        // Someone else's address.
        let e = base(Act::Address { member: s[1].1.clone() }, &s[0].1);
        assert!(matches!(m.clone().add(SignedEntry::sign(&e, &s[0].0)), Err(CouncilError::Malformed(_))));
        // Another council's entry, a second founding, a version-1 entry, a later format, garbage.
        let mut other = Membership::found(&s[1].0, s[1].1.clone(), 5);
        let foreign = other.sign(&s[1].0, Act::Remove { member: s[0].1.endpoint.clone(), reason: "x".into() }, 6).unwrap();
        assert_eq!(m.add(foreign), Err(CouncilError::OtherCouncil));
        assert_eq!(m.add(other.entries()[0].clone()), Err(CouncilError::OtherCouncil));
        let v1 = SignedEntry { entry: format!(r#"{{"kind":"remove","council":"{id}","member":"m","by":"b","reason":"","at":1}}"#), signature: "00".into() };
        assert!(matches!(m.add(v1), Err(CouncilError::Malformed(_))));
        let later = SignedEntry { entry: r#"{"v":4,"council":"","prev":[],"by":"","at":0,"act":{"kind":"vote"}}"#.into(), signature: "00".into() };
        assert_eq!(m.add(later), Err(CouncilError::NewerFormat(4)));
        assert!(matches!(m.add(SignedEntry { entry: "{\"kind\":\"nope\"}".into(), signature: "00".into() }), Err(CouncilError::Malformed(_))));
        assert_eq!((m.members().len(), m.len()), (2, 2));
    }

    /// The Sybil attack of the council issue: a dishonest member of a council of five
    /// proposes ten spokes of its own making, which approve each other and vote an honest
    /// member out. None joins, nothing they sign is kept, and the honest member stays.
    #[test]
    fn a_member_inviting_ten_friends_admits_none_and_they_cannot_remove_anyone() {
        let (s, mut m) = council(5);
        let dishonest = &s[4];
        let friends: Vec<_> = (0..10).map(|_| {
            let key = SecretKey::generate();
            let info = MemberInfo { endpoint: key.public().to_string(), addrs: vec!["127.0.0.9:7000".into()], web: "https://friend.example".into(), name: "friend".into(), relay: None };
            (key, info)
        }).collect();
        let joins: Vec<String> = friends.iter().map(|f| propose(&mut m, &dishonest.0, f)).collect();
        let id = m.id().unwrap().to_owned();
        // The friends approve each other's proposals and vote the founder out.
        let mut flood = Vec::new();
        for f in &friends {
            for j in &joins {
                flood.push(SignedEntry::sign(&Entry { v: FORMAT, council: id.clone(), prev: m.heads(), by: f.1.endpoint.clone(), at: 9, act: Act::Approve { join: j.clone() } }, &f.0));
            }
            flood.push(SignedEntry::sign(&Entry { v: FORMAT, council: id.clone(), prev: m.heads(), by: f.1.endpoint.clone(), at: 9, act: Act::Remove { member: s[0].1.endpoint.clone(), reason: "outvoted".into() } }, &f.0));
        }
        let (new, refused) = m.merge(flood);
        assert_eq!(new, 0);
        assert_eq!(refused.len(), 110);
        assert!(refused.iter().all(|e| matches!(e, CouncilError::UnknownSigner(_))));
        assert_eq!(m.members().len(), 5);
        assert!(friends.iter().all(|f| !m.is_member(&f.1.endpoint)));
        assert!(m.pending_joins().iter().all(|p| p.needed == 2 && p.approvals.len() == 1));
        // The dishonest member votes the founder out too: one vote of four.
        remove(&mut m, &dishonest.0, &s[0].1);
        assert!(m.is_member(&s[0].1.endpoint));
        // One honest member approving a friend is still not a majority of five (2 of 5).
        approve(&mut m, &s[1].0, &joins[0]);
        assert!(!m.is_member(&friends[0].1.endpoint));
        // A third approval is.
        approve(&mut m, &s[2].0, &joins[0]);
        assert!(m.is_member(&friends[0].1.endpoint));
    }

    #[test]
    fn a_majority_of_the_others_cuts_a_member_off_and_its_votes_stop_counting() {
        let (s, mut m) = council(5);
        remove(&mut m, &s[0].0, &s[4].1);
        remove(&mut m, &s[1].0, &s[4].1);
        assert!(m.is_member(&s[4].1.endpoint));
        assert_eq!(m.pending_removals()[&s[4].1.endpoint].len(), 2);
        remove(&mut m, &s[2].0, &s[4].1);
        assert!(!m.is_member(&s[4].1.endpoint));
        assert!(m.was_cut_off(&s[4].1.endpoint));
        assert!(!m.was_cut_off("a-stranger"));
        assert_eq!(m.members().len(), 4);
        // Its own entries are still kept (it was a member), but count for nothing.
        remove(&mut m, &s[4].0, &s[0].1);
        remove(&mut m, &s[3].0, &s[0].1);
        assert!(m.is_member(&s[0].1.endpoint));
        // It cannot be proposed again.
        let x = s[4].clone();
        propose(&mut m, &s[0].0, &x);
        assert!(m.pending_join_of(&x.1.endpoint).is_none());
        assert!(!m.is_member(&x.1.endpoint));
    }

    #[test]
    fn a_member_announces_a_new_address() {
        let (s, mut m) = council(3);
        let moved = MemberInfo { addrs: vec!["10.0.0.7:7001".into()], ..s[1].1.clone() };
        m.sign(&s[1].0, Act::Address { member: moved.clone() }, 5).unwrap();
        assert_eq!(m.members()[&s[1].1.endpoint], moved);
        let mut other = Membership::new();
        other.merge(m.entries());
        assert_eq!(other.members()[&s[1].1.endpoint], moved);
    }

    /// A member's relay travels in its address entry; an entry without one (as every member
    /// before relays wrote it) reads as no relay and is the same text again; a relay that is not
    /// an `https` address is refused.
    #[test]
    fn a_member_names_its_relay_and_older_entries_read_without_one() {
        let (s, mut m) = council(3);
        let relay = "https://spoke-abcdef012345.spokes.example:8443/";
        let moved = MemberInfo { relay: Some(relay.into()), ..s[1].1.clone() };
        m.sign(&s[1].0, Act::Address { member: moved.clone() }, 5).unwrap();
        let mut other = Membership::new();
        other.merge(m.entries());
        assert_eq!(other.members()[&s[1].1.endpoint].relay.as_deref(), Some(relay));
        assert_eq!(other.members()[&s[1].1.endpoint].spoke_addr().relay.as_deref(), Some(relay), "dialed through it");
        let old = r#"{"endpoint":"e","addrs":["127.0.0.1:7000"],"web":"http://127.0.0.1:8000","name":"old"}"#;
        let read: MemberInfo = serde_json::from_str(old).unwrap();
        assert_eq!(read.relay, None);
        assert_eq!(serde_json::to_string(&read).unwrap(), old, "an older member's entry is the same text again");
        for bad in ["http://spoke.example/", "spoke.example", "https://", &format!("https://{}.example/", "a".repeat(300))] {
            let info = MemberInfo { relay: Some(bad.to_owned()), ..s[1].1.clone() };
            assert!(matches!(info.check(), Err(CouncilError::Malformed(_))), "{bad}");
        }
        assert!(moved.check().is_ok());
    }

    /// Attack 8 of the hostile-peers issue, against the log: a member signing entries without
    /// end adds at most its share, and entries of strangers are not kept.
    #[test]
    fn a_flood_of_entries_adds_at_most_a_signers_share() {
        let (s, mut m) = council(2);
        let mut extra = Vec::new();
        let mut n = m.clone();
        for i in 0..MAX_ENTRIES_PER_SIGNER + 20 {
            match n.sign(&s[1].0, Act::Remove { member: s[0].1.endpoint.clone(), reason: format!("{i}") }, i as i64) {
                Ok(e) => extra.push(e),
                Err(e) => assert_eq!(e, CouncilError::TooLarge),
            }
        }
        assert_eq!(extra.len(), MAX_ENTRIES_PER_SIGNER);
        let before = m.len();
        // Another holder takes the same share, and nothing past it.
        let (new, _) = m.merge(extra);
        assert_eq!(new, MAX_ENTRIES_PER_SIGNER);
        assert_eq!(m.len(), before + MAX_ENTRIES_PER_SIGNER);
        let over = SignedEntry::sign(&Entry { v: FORMAT, council: m.id().unwrap().to_owned(), prev: m.heads(), by: s[1].1.endpoint.clone(), at: 0, act: Act::Approve { join: "0".repeat(64) } }, &s[1].0);
        assert_eq!(m.add(over), Err(CouncilError::TooLarge));
    }
}
