//! The council's membership document, format `spokes-council/1`.
//!
//! A council is the set of spokes that aggregate and search each other. Who belongs is not
//! kept by any one of them: it is a grow-only set of **entries**, each signed with the
//! Ed25519 key of a spoke's iroh endpoint (its endpoint ID), replicated among the members on
//! every council exchange and merged by union. Anyone holding the entries computes the same
//! members, so a member cannot lie about who else belongs.
//!
//! Entry kinds (JSON, the exact UTF-8 bytes are what is signed):
//!
//! - `found`: `{"kind":"found","council":"","member":{…},"at":…}`, signed by the founding
//!   spoke. The council's ID is the BLAKE3 hash of this entry's bytes (64 hex digits).
//! - `join`: `{"kind":"join","council":ID,"member":{…},"by":ENDPOINT,"at":…,"consent":SIG}`,
//!   signed by `by`, a member who admitted the newcomer with a council invite. `consent` is
//!   the newcomer's own signature over [`consent_bytes`], so nobody is enrolled without
//!   holding its key.
//! - `remove`: `{"kind":"remove","council":ID,"member":ENDPOINT,"by":ENDPOINT,"reason":…,"at":…}`,
//!   signed by `by`. A member is cut off once more than half of the other members signed a
//!   `remove` for it.
//!
//! A signature is Ed25519 over `spokes council entry v1\n` followed by the entry's bytes
//! (domain separation, so no other Spokes signature can be replayed as an entry).
//!
//! **Members** ([`Membership::members`]): start from the founder, add every `join` whose `by` is
//! a member (repeated until nothing changes), then cut off every member that a majority of
//! the other members removed, together with what only it admitted; repeat until stable.
//! `at` times (Unix seconds) are informative only: order never matters, so merging is
//! commutative and a replayed entry changes nothing.

use iroh::{PublicKey, SecretKey, Signature};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Domain-separation tag of entry signatures.
pub const ENTRY_TAG: &[u8] = b"spokes council entry v1\n";
/// Domain-separation tag of a newcomer's consent.
pub const CONSENT_TAG: &[u8] = b"spokes council consent v1\n";
/// Largest entry accepted, in bytes.
pub const MAX_ENTRY_LEN: usize = 8 * 1024;
/// Most entries one membership document may hold.
pub const MAX_ENTRIES: usize = 10_000;
/// Most entries one signer may have in a membership document (its joins and votes).
pub const MAX_ENTRIES_PER_SIGNER: usize = 200;

/// Errors of membership entries.
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
    /// The document has no founding entry.
    #[error("this spoke belongs to no council yet")]
    NoCouncil,
    /// Too many entries, in all or from one signer.
    #[error("the membership document is too large")]
    TooLarge,
    /// Signed by a spoke no entry held admitted (not the founder, no `join` names it).
    #[error("signed by a spoke this council never admitted: {0}")]
    UnknownSigner(String),
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
}

impl MemberInfo {
    /// Where the member is (addresses that are not `ip:port` left out; [`MemberInfo::check`]
    /// refuses them).
    pub fn spoke_addr(&self) -> spokes_core::SpokeAddr {
        spokes_core::SpokeAddr { endpoint: self.endpoint.clone(), addrs: self.addrs.iter().filter_map(|a| a.parse().ok()).collect(), name: Some(self.name.clone()), web: Some(self.web.clone()) }
    }

    /// Checks what a peer says of a member: an endpoint ID, `ip:port` sync addresses, a
    /// reader site that is an `http(s)` URL ([`spokes_core::web::reader_url`]) and a name of at most 200
    /// bytes. Error: [`CouncilError::Malformed`].
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
        Ok(())
    }
}

/// An entry's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Entry {
    /// Founds a council.
    Found {
        /// Always empty (the council's ID is this entry's hash).
        council: String,
        /// The founder.
        member: MemberInfo,
        /// Unix seconds.
        at: i64,
    },
    /// Admits a spoke.
    Join {
        /// Council ID.
        council: String,
        /// The newcomer.
        member: MemberInfo,
        /// The admitting member's endpoint ID (the signer).
        by: String,
        /// Unix seconds.
        at: i64,
        /// The newcomer's signature (hex) over [`consent_bytes`].
        consent: String,
    },
    /// Votes to cut a member off.
    Remove {
        /// Council ID.
        council: String,
        /// The member to cut off.
        member: String,
        /// The voting member's endpoint ID (the signer).
        by: String,
        /// Why, for operators.
        reason: String,
        /// Unix seconds.
        at: i64,
    },
}

fn entry_at(e: &Entry) -> i64 {
    match e {
        Entry::Found { at, .. } | Entry::Join { at, .. } | Entry::Remove { at, .. } => *at,
    }
}

impl Entry {
    fn council(&self) -> &str {
        match self {
            Entry::Found { council, .. } | Entry::Join { council, .. } | Entry::Remove { council, .. } => council,
        }
    }
    fn signer(&self) -> &str {
        match self {
            Entry::Found { member, .. } => &member.endpoint,
            Entry::Join { by, .. } | Entry::Remove { by, .. } => by,
        }
    }
}

/// A signed entry as stored and exchanged: the entry's exact JSON text, the signer's
/// endpoint ID and the hex Ed25519 signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedEntry {
    /// The entry's JSON text.
    pub entry: String,
    /// Hex Ed25519 signature over [`ENTRY_TAG`] + `entry`.
    pub signature: String,
}

impl SignedEntry {
    /// Signs `entry` with `key`, which must be the entry's signer.
    pub fn sign(entry: &Entry, key: &SecretKey) -> SignedEntry {
        let text = serde_json::to_string(entry).unwrap_or_default();
        let sig = key.sign(&[ENTRY_TAG, text.as_bytes()].concat());
        SignedEntry { entry: text, signature: hex::encode(sig.to_bytes()) }
    }

    /// BLAKE3 of the entry's bytes, hex: its identity (the council ID for `found`).
    pub fn hash(&self) -> String {
        blake3::hash(self.entry.as_bytes()).to_hex().to_string()
    }

    /// Parses and checks the entry: size, JSON, the signer's signature, and a `join`'s consent.
    pub fn verify(&self) -> Result<Entry, CouncilError> {
        if self.entry.len() > MAX_ENTRY_LEN {
            return Err(CouncilError::Malformed(format!("{} bytes (at most {MAX_ENTRY_LEN})", self.entry.len())));
        }
        let entry: Entry = serde_json::from_str(&self.entry).map_err(|e| CouncilError::Malformed(e.to_string()))?;
        check_signature(entry.signer(), &[ENTRY_TAG, self.entry.as_bytes()].concat(), &self.signature)?;
        if let Entry::Found { member, .. } | Entry::Join { member, .. } = &entry {
            member.check()?;
        }
        if let Entry::Join { council, member, consent, .. } = &entry {
            check_signature(&member.endpoint, &consent_bytes(council, member), consent)?;
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

/// A council's membership: its verified entries, keyed by hash.
#[derive(Clone, Debug, Default)]
pub struct Membership {
    id: Option<String>,
    entries: BTreeMap<String, (SignedEntry, Entry)>,
    /// Entries held per signer; a signer is admitted (the founder, or named by a held
    /// `join`) exactly when it has a key here.
    signers: BTreeMap<String, usize>,
}

impl Membership {
    /// An empty membership (no council).
    pub fn new() -> Membership {
        Membership::default()
    }

    /// Founds a council with `me` as its only member.
    pub fn found(key: &SecretKey, me: MemberInfo, at: i64) -> Membership {
        let signed = SignedEntry::sign(&Entry::Found { council: String::new(), member: me, at }, key);
        let mut m = Membership::new();
        let _ = m.add(signed);
        m
    }

    /// The council ID (the founding entry's hash), if founded.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Every signed entry, in hash order.
    pub fn entries(&self) -> Vec<SignedEntry> {
        self.entries.values().map(|(s, _)| s.clone()).collect()
    }

    /// Adds one entry after verifying it. Returns whether it was new. Its signer must be
    /// admitted already (the founder, or a spoke a held `join` names), so strangers' keys
    /// add nothing; each signer may have at most [`MAX_ENTRIES_PER_SIGNER`] entries.
    ///
    /// Errors: [`CouncilError::Malformed`], [`CouncilError::BadSignature`],
    /// [`CouncilError::OtherCouncil`] (also a second `found`), [`CouncilError::TooLarge`],
    /// [`CouncilError::UnknownSigner`].
    pub fn add(&mut self, signed: SignedEntry) -> Result<bool, CouncilError> {
        if self.entries.contains_key(&signed.hash()) {
            return Ok(false);
        }
        let entry = signed.verify()?;
        self.add_verified(signed, entry)
    }

    fn add_verified(&mut self, signed: SignedEntry, entry: Entry) -> Result<bool, CouncilError> {
        let hash = signed.hash();
        if self.entries.contains_key(&hash) {
            return Ok(false);
        }
        if self.entries.len() >= MAX_ENTRIES {
            return Err(CouncilError::TooLarge);
        }
        match (&entry, &self.id) {
            (Entry::Found { council, .. }, None) if council.is_empty() => {}
            (Entry::Found { .. }, _) => return Err(CouncilError::OtherCouncil),
            (_, Some(id)) if entry.council() == id => match self.signers.get(entry.signer()) {
                None => return Err(CouncilError::UnknownSigner(entry.signer().to_owned())),
                Some(n) if *n >= MAX_ENTRIES_PER_SIGNER => return Err(CouncilError::TooLarge),
                Some(_) => {}
            },
            (_, None) => return Err(CouncilError::NoCouncil),
            _ => return Err(CouncilError::OtherCouncil),
        }
        if matches!(entry, Entry::Found { .. }) {
            self.id = Some(hash.clone());
        }
        *self.signers.entry(entry.signer().to_owned()).or_default() += 1;
        if let Entry::Join { member, .. } = &entry {
            self.signers.entry(member.endpoint.clone()).or_default();
        }
        self.entries.insert(hash, (signed, entry));
        Ok(true)
    }

    /// Merges `incoming` entries in any order: a founding entry first (when this side has
    /// none), then each entry once its signer is admitted (rounds until nothing more can be
    /// added). Returns how many were new and the entries refused, with why.
    pub fn merge(&mut self, incoming: Vec<SignedEntry>) -> (usize, Vec<CouncilError>) {
        let mut new = 0;
        let mut refused = Vec::new();
        let mut pending: Vec<(SignedEntry, Entry)> = Vec::new();
        for s in incoming {
            if self.entries.contains_key(&s.hash()) {
                continue;
            }
            match s.verify() {
                Ok(e) => pending.push((s, e)),
                Err(e) => refused.push(e),
            }
        }
        // Founding first, then by time: an honest history is then taken in one round.
        pending.sort_by_key(|(_, e)| (!matches!(e, Entry::Found { .. }), entry_at(e)));
        loop {
            let before = pending.len();
            let mut waiting = Vec::new();
            for (s, e) in pending {
                match self.add_verified(s.clone(), e.clone()) {
                    Ok(true) => new += 1,
                    Ok(false) => {}
                    Err(CouncilError::UnknownSigner(_)) => waiting.push((s, e)),
                    Err(err) => refused.push(err),
                }
            }
            pending = waiting;
            if pending.is_empty() || pending.len() == before {
                break;
            }
        }
        refused.extend(pending.into_iter().map(|(_, e)| CouncilError::UnknownSigner(e.signer().to_owned())));
        (new, refused)
    }

    /// The current members by endpoint ID (see the module documentation for the rule).
    pub fn members(&self) -> BTreeMap<String, MemberInfo> {
        let Some(founder) = self.entries.values().find_map(|(_, e)| match e {
            Entry::Found { member, .. } => Some(member.clone()),
            _ => None,
        }) else {
            return BTreeMap::new();
        };
        let mut removed: BTreeSet<String> = BTreeSet::new();
        // Each round either cuts someone off or ends, so this ends within |entries| rounds.
        for _ in 0..=self.entries.len() {
            let mut members: BTreeMap<String, MemberInfo> = BTreeMap::new();
            if !removed.contains(&founder.endpoint) {
                members.insert(founder.endpoint.clone(), founder.clone());
            }
            loop {
                let mut grew = false;
                for (_, e) in self.entries.values() {
                    if let Entry::Join { member, by, .. } = e
                        && members.contains_key(by)
                        && !removed.contains(&member.endpoint)
                        && !members.contains_key(&member.endpoint)
                    {
                        members.insert(member.endpoint.clone(), member.clone());
                        grew = true;
                    }
                }
                if !grew {
                    break;
                }
            }
            let others = members.len().saturating_sub(1);
            let cut: Vec<String> = members
                .keys()
                .filter(|x| {
                    let votes: BTreeSet<&str> = self
                        .entries
                        .values()
                        .filter_map(|(_, e)| match e {
                            Entry::Remove { member, by, .. } if member == *x && by != *x && members.contains_key(by) => Some(by.as_str()),
                            _ => None,
                        })
                        .collect();
                    others > 0 && votes.len() * 2 > others
                })
                .cloned()
                .collect();
            if cut.is_empty() {
                return members;
            }
            removed.extend(cut);
        }
        BTreeMap::new()
    }

    /// Whether `endpoint` is a current member.
    pub fn is_member(&self, endpoint: &str) -> bool {
        self.members().contains_key(endpoint)
    }

    /// Whether `endpoint` is not a member and some `remove` vote names it: a spoke the council
    /// cut off (as opposed to one that never joined).
    pub fn was_cut_off(&self, endpoint: &str) -> bool {
        !self.is_member(endpoint) && self.entries.values().any(|(_, e)| matches!(e, Entry::Remove { member, .. } if member == endpoint))
    }

    /// Endpoints with `remove` votes that are not (yet) cut off, with the voters, for operators.
    pub fn pending_removals(&self) -> BTreeMap<String, BTreeSet<String>> {
        let members = self.members();
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (_, e) in self.entries.values() {
            if let Entry::Remove { member, by, .. } = e
                && members.contains_key(member)
            {
                out.entry(member.clone()).or_default().insert(by.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spoke(n: u8) -> (SecretKey, MemberInfo) {
        let key = SecretKey::from_bytes(&[n; 32]);
        let info = MemberInfo { endpoint: key.public().to_string(), addrs: vec![format!("127.0.0.1:{}", 7000 + n as u16)], web: format!("http://127.0.0.1:{}", 8000 + n as u16), name: format!("spoke {n}") };
        (key, info)
    }

    fn join(m: &mut Membership, by: &SecretKey, newcomer: &(SecretKey, MemberInfo)) {
        let id = m.id().unwrap().to_owned();
        let e = Entry::Join { consent: consent(&newcomer.0, &id, &newcomer.1), council: id, member: newcomer.1.clone(), by: by.public().to_string(), at: 1 };
        assert_eq!(m.add(SignedEntry::sign(&e, by)), Ok(true));
    }

    fn remove(m: &mut Membership, by: &SecretKey, who: &MemberInfo) {
        let e = Entry::Remove { council: m.id().unwrap().to_owned(), member: who.endpoint.clone(), by: by.public().to_string(), reason: "served altered posts".into(), at: 2 };
        assert_eq!(m.add(SignedEntry::sign(&e, by)), Ok(true));
    }

    #[test]
    fn joins_by_members_count_and_merging_is_order_free() {
        let s: Vec<_> = (1..=4).map(spoke).collect();
        let mut a = Membership::found(&s[0].0, s[0].1.clone(), 0);
        join(&mut a, &s[0].0, &s[1]);
        join(&mut a, &s[1].0, &s[2]);
        assert_eq!(a.members().len(), 3);
        // Another spoke learns the entries in reverse order and computes the same members.
        let mut b = Membership::new();
        let mut entries = a.entries();
        entries.reverse();
        let (new, refused) = b.merge(entries.clone());
        assert_eq!((new, refused.len()), (3, 0));
        assert_eq!(b.members(), a.members());
        assert_eq!(b.id(), a.id());
        // Replaying changes nothing.
        assert_eq!(b.merge(entries).0, 0);
        // A join signed by a spoke never admitted is not even kept.
        let outsider = spoke(9);
        let id = b.id().unwrap().to_owned();
        let e = Entry::Join { consent: consent(&s[3].0, &id, &s[3].1), council: id, member: s[3].1.clone(), by: outsider.1.endpoint.clone(), at: 1 };
        assert!(matches!(b.add(SignedEntry::sign(&e, &outsider.0)), Err(CouncilError::UnknownSigner(_))));
        assert!(!b.is_member(&s[3].1.endpoint));
        assert_eq!(b.entries().len(), 3);
    }

    #[test]
    fn forged_entries_are_refused() {
        let s: Vec<_> = (1..=3).map(spoke).collect();
        let mut m = Membership::found(&s[0].0, s[0].1.clone(), 0);
        let id = m.id().unwrap().to_owned();
        // Signed by someone other than `by`.
        let e = Entry::Join { consent: consent(&s[1].0, &id, &s[1].1), council: id.clone(), member: s[1].1.clone(), by: s[0].1.endpoint.clone(), at: 1 };
        assert!(matches!(m.add(SignedEntry::sign(&e, &s[2].0)), Err(CouncilError::BadSignature(_))));
        // Consent forged: the newcomer did not sign.
        let e = Entry::Join { consent: consent(&s[2].0, &id, &s[1].1), council: id.clone(), member: s[1].1.clone(), by: s[0].1.endpoint.clone(), at: 1 };
        assert!(matches!(m.add(SignedEntry::sign(&e, &s[0].0)), Err(CouncilError::BadSignature(_))));
        // Altered text after signing.
        let mut good = SignedEntry::sign(&Entry::Remove { council: id.clone(), member: s[1].1.endpoint.clone(), by: s[0].1.endpoint.clone(), reason: "x".into(), at: 1 }, &s[0].0);
        good.entry = good.entry.replace("\"x\"", "\"y\"");
        assert!(matches!(m.add(good), Err(CouncilError::BadSignature(_))));
        // Another council's entry, garbage, and a second founding.
        let other = Membership::found(&s[1].0, s[1].1.clone(), 5);
        let mut j = Membership::new();
        j.merge(other.entries());
        join(&mut j, &s[1].0, &s[2]);
        let foreign = j.entries().into_iter().find(|e| e.entry.contains("join")).unwrap();
        assert_eq!(m.add(foreign), Err(CouncilError::OtherCouncil));
        assert_eq!(m.add(other.entries()[0].clone()), Err(CouncilError::OtherCouncil));
        assert!(matches!(m.add(SignedEntry { entry: "{\"kind\":\"nope\"}".into(), signature: "00".into() }), Err(CouncilError::Malformed(_))));
        assert_eq!(m.members().len(), 1);
    }

    /// Attack 8 of the hostile-peers issue: thousands of entries signed by fresh keys, and a
    /// member admitting spokes without end. Entries of spokes never admitted are not kept;
    /// one signer adds at most MAX_ENTRIES_PER_SIGNER.
    #[test]
    fn a_flood_of_entries_adds_at_most_a_signers_share() {
        let s: Vec<_> = (1..=2).map(spoke).collect();
        let mut m = Membership::found(&s[0].0, s[0].1.clone(), 0);
        join(&mut m, &s[0].0, &s[1]);
        let id = m.id().unwrap().to_owned();
        let fresh = |i: u32| {
            let key = SecretKey::generate();
            let info = MemberInfo { endpoint: key.public().to_string(), addrs: vec![], web: "https://x.example".into(), name: format!("flood {i}") };
            (key, info)
        };
        // Strangers vote a member out and admit each other.
        let strangers: Vec<_> = (0..300).map(fresh).collect();
        let mut flood: Vec<SignedEntry> = strangers.iter().map(|k| SignedEntry::sign(&Entry::Remove { council: id.clone(), member: s[1].1.endpoint.clone(), by: k.1.endpoint.clone(), reason: "x".into(), at: 3 }, &k.0)).collect();
        flood.extend(strangers.windows(2).map(|w| SignedEntry::sign(&Entry::Join { consent: consent(&w[1].0, &id, &w[1].1), council: id.clone(), member: w[1].1.clone(), by: w[0].1.endpoint.clone(), at: 3 }, &w[0].0)));
        let (new, refused) = m.merge(flood);
        assert_eq!(new, 0);
        assert!(refused.iter().all(|e| matches!(e, CouncilError::UnknownSigner(_))), "{refused:?}");
        assert_eq!((m.entries().len(), m.members().len()), (2, 2));
        // A member admits 300 spokes of its own making: only its share is kept.
        let joins: Vec<SignedEntry> = strangers.iter().map(|k| SignedEntry::sign(&Entry::Join { consent: consent(&k.0, &id, &k.1), council: id.clone(), member: k.1.clone(), by: s[1].1.endpoint.clone(), at: 4 }, &s[1].0)).collect();
        let (new, refused) = m.merge(joins);
        assert_eq!(new, MAX_ENTRIES_PER_SIGNER);
        assert_eq!(refused.len(), 300 - MAX_ENTRIES_PER_SIGNER);
        assert!(refused.iter().all(|e| *e == CouncilError::TooLarge));
    }

    /// Attack 11 of the hostile-peers issue: a member admits a spoke whose reader site is a
    /// `javascript:` address, properly signed and consented. Honest spokes linked readers to
    /// it; now the entry is refused where it arrives.
    #[test]
    fn a_member_whose_reader_site_is_not_a_web_address_is_refused() {
        let s: Vec<_> = (1..=2).map(spoke).collect();
        let mut m = Membership::found(&s[0].0, s[0].1.clone(), 0);
        let id = m.id().unwrap().to_owned();
        for (web, addrs) in [("javascript:alert(document.cookie)", vec!["127.0.0.1:7002".to_owned()]), ("data:text/html,hi", vec![]), ("https://ok.example", vec!["not an address".to_owned()])] {
            let member = MemberInfo { web: web.into(), addrs, ..s[1].1.clone() };
            let e = Entry::Join { consent: consent(&s[1].0, &id, &member), council: id.clone(), member, by: s[0].1.endpoint.clone(), at: 1 };
            assert!(matches!(m.add(SignedEntry::sign(&e, &s[0].0)), Err(CouncilError::Malformed(_))), "{web}");
        }
        assert_eq!(m.members().len(), 1);
    }

    #[test]
    fn a_majority_of_the_others_cuts_a_member_off_with_what_only_it_admitted() {
        let s: Vec<_> = (1..=6).map(spoke).collect();
        let mut m = Membership::found(&s[0].0, s[0].1.clone(), 0);
        for i in 1..5 {
            join(&mut m, &s[0].0, &s[i]);
        }
        // s[4] admits s[5] (a sybil, say).
        join(&mut m, &s[4].0, &s[5]);
        assert_eq!(m.members().len(), 6);
        // Two of the five others vote: not enough.
        remove(&mut m, &s[0].0, &s[4].1);
        remove(&mut m, &s[1].0, &s[4].1);
        assert!(m.is_member(&s[4].1.endpoint));
        assert!(!m.was_cut_off(&s[4].1.endpoint));
        assert_eq!(m.pending_removals()[&s[4].1.endpoint].len(), 2);
        // The member's own admitted spoke cannot vote for it; a third honest vote cuts it off,
        // and the spoke only it admitted goes with it.
        remove(&mut m, &s[2].0, &s[4].1);
        let members = m.members();
        assert!(!members.contains_key(&s[4].1.endpoint));
        assert!(!members.contains_key(&s[5].1.endpoint));
        assert_eq!(members.len(), 4);
        // Told apart from a stranger: only the voted-on spoke was cut off.
        assert!(m.was_cut_off(&s[4].1.endpoint));
        assert!(!m.was_cut_off(&s[5].1.endpoint));
        assert!(!m.was_cut_off("a-stranger"));
        // A cut-off member's votes no longer count.
        let mut n = m.clone();
        remove(&mut n, &s[4].0, &s[0].1);
        remove(&mut n, &s[5].0, &s[0].1);
        assert!(n.is_member(&s[0].1.endpoint));
    }
}
