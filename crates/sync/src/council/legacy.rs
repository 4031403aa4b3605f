//! Reading councils formed by Spokes before the council log (format `spokes-council/1`), so
//! that an upgraded spoke can carry its council over ([`super::membership`] explains the
//! charter). Nothing here signs or accepts new version-1 entries from peers: a version-1
//! council let any one member admit others alone, which the log replaced.
//!
//! What follows is the version-1 format as it was written.
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
//!   the newcomer's own signature over `consent_bytes`, so nobody is enrolled without
//!   holding its key.
//! - `remove`: `{"kind":"remove","council":ID,"member":ENDPOINT,"by":ENDPOINT,"reason":…,"at":…}`,
//!   signed by `by`. A member is cut off once more than half of the other members signed a
//!   `remove` for it.
//!
//! A signature is Ed25519 over `spokes council entry v1\n` followed by the entry's bytes
//! (domain separation, so no other Spokes signature can be replayed as an entry).
//!
//! **Members** (`LegacyCouncil::members`): start from the founder, add every `join` whose `by` is
//! a member (repeated until nothing changes), then cut off every member that a majority of
//! the other members removed, together with what only it admitted; repeat until stable.
//! `at` times (Unix seconds) are informative only: order never matters, so merging is
//! commutative and a replayed entry changes nothing.

use super::membership::{CouncilError, MemberInfo, SignedEntry, check_signature, MAX_ENTRIES, MAX_ENTRY_LEN};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Most entries one signer may have in a version-1 document.
const MAX_ENTRIES_PER_SIGNER: usize = 200;

/// Domain-separation tag of version-1 entry signatures.
const ENTRY_TAG: &[u8] = b"spokes council entry v1\n";
/// Domain-separation tag of a version-1 newcomer's consent.
const CONSENT_TAG: &[u8] = b"spokes council consent v1\n";

/// An entry's content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum Entry {
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
        /// The newcomer's signature (hex) over `consent_bytes`.
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

/// Parses and checks a version-1 entry: size, JSON, the signer's signature, and a `join`'s
/// consent.
fn verify(signed: &SignedEntry) -> Result<Entry, CouncilError> {
    if signed.entry.len() > MAX_ENTRY_LEN {
        return Err(CouncilError::Malformed(format!("{} bytes (at most {MAX_ENTRY_LEN})", signed.entry.len())));
    }
    let entry: Entry = serde_json::from_str(&signed.entry).map_err(|e| CouncilError::Malformed(e.to_string()))?;
    check_signature(entry.signer(), &[ENTRY_TAG, signed.entry.as_bytes()].concat(), &signed.signature)?;
    if let Entry::Found { member, .. } | Entry::Join { member, .. } = &entry {
        member.check()?;
    }
    if let Entry::Join { council, member, consent, .. } = &entry {
        check_signature(&member.endpoint, &consent_bytes(council, member), consent)?;
    }
    Ok(entry)
}

/// What a newcomer signs to consent to joining `council` as `member`:
/// [`CONSENT_TAG`] + council ID + `\n` + the member's JSON.
fn consent_bytes(council: &str, member: &MemberInfo) -> Vec<u8> {
    [CONSENT_TAG, council.as_bytes(), b"\n", serde_json::to_string(member).unwrap_or_default().as_bytes()].concat()
}

/// A version-1 council as a spoke stored it: its verified entries, keyed by hash.
#[derive(Clone, Debug, Default)]
pub struct LegacyCouncil {
    id: Option<String>,
    entries: BTreeMap<String, (SignedEntry, Entry)>,
    /// Entries held per signer; a signer is admitted (the founder, or named by a held
    /// `join`) exactly when it has a key here.
    signers: BTreeMap<String, usize>,
}

impl LegacyCouncil {
    /// An empty membership (no council).
    pub fn new() -> LegacyCouncil {
        LegacyCouncil::default()
    }

    /// The founder's endpoint ID, if founded: the one spoke whose charter carries this
    /// council over ([`super::membership`]).
    pub fn founder(&self) -> Option<&str> {
        self.entries.values().find_map(|(_, e)| match e {
            Entry::Found { member, .. } => Some(member.endpoint.as_str()),
            _ => None,
        })
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
        let entry = verify(&signed)?;
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
            match verify(&s) {
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
}
