//! Signed revision statements and the coverage rule.
//!
//! # Statement bytes (version 1)
//!
//! A statement is UTF-8 text, lines ending in `\n`, exactly:
//!
//! ```text
//! spokes revision v1
//! blog: <blog ID, 32 lowercase hex>
//! head: <change hash, 64 lowercase hex>      one line per head, sorted ascending
//! ```
//!
//! The signature is a detached OpenPGP signature (RFC 4880 §5.2, type 0x00 "binary document")
//! over exactly those bytes, made by a signing-capable key of the author's certificate. So
//! `gpg --verify statement.sig statement.txt` checks it with stock GnuPG.
//!
//! Automerge change hashes chain through their dependencies, so signing the heads signs all
//! history behind them, as a signed git commit does.
//!
//! # Coverage rule
//!
//! A change is accepted only if it is an ancestor of, or equal to, a head named in a
//! statement whose signature is valid and whose signing key was valid for the certificate
//! at the signature's creation time ([`check_coverage`]).

use crate::doc::BlogId;
use crate::identity::{Certificate, SigningKey, policy};
use automerge::{AutoCommit, ChangeHash};
use sequoia_openpgp as openpgp;
use openpgp::packet::Signature;
use openpgp::packet::signature::SignatureBuilder;
use openpgp::parse::Parse;
use openpgp::serialize::SerializeInto;
use openpgp::types::SignatureType;
use openpgp::Packet;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

/// The domain-separation tag: the first line of every version 1 statement.
pub const STATEMENT_TAG: &str = "spokes revision v1";

/// Errors of statements and coverage.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    /// The statement bytes do not follow the version 1 format.
    #[error("malformed statement: {0}")]
    Malformed(String),
    /// The statement names another tag or version.
    #[error("unknown statement version (first line `{0}`)")]
    UnknownVersion(String),
    /// The signature is not a parseable detached OpenPGP signature.
    #[error("the signature is not a readable OpenPGP signature: {0}")]
    BadSignaturePacket(String),
    /// No key of the certificate made this signature, or it was not valid then.
    #[error("the signature was not made by a valid signing key of certificate {fingerprint}")]
    UnknownSigner {
        /// The certificate checked against.
        fingerprint: String,
    },
    /// The cryptographic check failed: the statement or signature was altered.
    #[error("the signature does not match the statement (altered or forged)")]
    Invalid,
    /// The statement is for another blog.
    #[error("the statement is for blog {found}, not {expected}")]
    WrongBlog {
        /// Blog ID expected.
        expected: String,
        /// Blog ID in the statement.
        found: String,
    },
    /// Signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

/// Errors of the coverage rule.
#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    /// Changes that no valid statement covers.
    #[error("{count} change(s) are not covered by any valid signed statement (first: {first})")]
    Uncovered {
        /// How many changes are uncovered.
        count: usize,
        /// Hash of one uncovered change.
        first: String,
    },
}

/// An unsigned statement: a blog ID and its sorted heads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The blog the heads belong to.
    pub blog_id: BlogId,
    /// Heads after the commit, sorted ascending.
    pub heads: Vec<ChangeHash>,
}

impl Statement {
    /// A statement over `heads` (sorted and deduplicated here).
    pub fn new(blog_id: BlogId, heads: &[ChangeHash]) -> Statement {
        let mut heads = heads.to_vec();
        heads.sort();
        heads.dedup();
        Statement { blog_id, heads }
    }

    /// The exact bytes that are signed (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = format!("{STATEMENT_TAG}\nblog: {}\n", self.blog_id);
        for h in &self.heads {
            s.push_str(&format!("head: {h}\n"));
        }
        s.into_bytes()
    }

    /// Parses statement bytes, strictly: any deviation from the format is an error, so that
    /// one statement has exactly one byte form.
    pub fn parse(bytes: &[u8]) -> Result<Statement, StatementError> {
        let text = std::str::from_utf8(bytes).map_err(|_| StatementError::Malformed("not UTF-8".into()))?;
        let body = text.strip_suffix('\n').ok_or_else(|| StatementError::Malformed("no final newline".into()))?;
        let mut lines = body.split('\n');
        let tag = lines.next().unwrap_or_default();
        if tag != STATEMENT_TAG {
            return Err(StatementError::UnknownVersion(tag.chars().take(60).collect()));
        }
        let blog = lines
            .next()
            .and_then(|l| l.strip_prefix("blog: "))
            .ok_or_else(|| StatementError::Malformed("missing `blog:` line".into()))?;
        let blog_id = BlogId::from_str(blog).map_err(|e| StatementError::Malformed(e.to_string()))?;
        let mut heads = Vec::new();
        for l in lines {
            let h = l.strip_prefix("head: ").ok_or_else(|| StatementError::Malformed(format!("unexpected line `{}`", l.chars().take(60).collect::<String>())))?;
            if h.len() != 64 || h.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(StatementError::Malformed("a head is not 64 lowercase hex characters".into()));
            }
            heads.push(ChangeHash::from_str(h).map_err(|_| StatementError::Malformed("bad head hash".into()))?);
        }
        let st = Statement::new(blog_id, &heads);
        if st.heads != heads {
            return Err(StatementError::Malformed("heads are not sorted and unique".into()));
        }
        Ok(st)
    }

    /// Signs the statement with a detached binary-document signature.
    pub fn sign(&self, key: &mut SigningKey) -> Result<SignedStatement, StatementError> {
        let signature = sign_detached(key, &self.to_bytes())?;
        Ok(SignedStatement { statement: String::from_utf8_lossy(&self.to_bytes()).into_owned(), signature })
    }

    /// Signs the statement with the signature creation time set to `at`, as any OpenPGP tool
    /// can (`gpg --faked-system-time`): the signer, not the verifier, writes the date. Honest
    /// code signs with [`Statement::sign`]; this exists to show, in tests, what a thief with a
    /// copy of a device key can do, and that a hard revocation stops it.
    pub fn sign_dated(&self, key: &mut SigningKey, at: std::time::SystemTime) -> Result<SignedStatement, StatementError> {
        let sig = SignatureBuilder::new(SignatureType::Binary)
            .set_signature_creation_time(at)
            .and_then(|b| b.sign_message(&mut key.keypair, self.to_bytes()))
            .map_err(|e| StatementError::Signing(e.to_string()))?;
        let signature = Packet::from(sig).to_vec().map_err(|e| StatementError::Signing(e.to_string()))?;
        Ok(SignedStatement { statement: String::from_utf8_lossy(&self.to_bytes()).into_owned(), signature })
    }
}

/// A statement with its detached signature, as stored and sent.
///
/// JSON form (used in sync frames and bundles):
/// `{"statement": "<statement text>", "signature": "<binary OpenPGP signature packet, lowercase hex>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SignedStatement {
    /// The statement text (the exact signed bytes, UTF-8).
    pub statement: String,
    /// The binary OpenPGP signature packet.
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}

/// Parses one binary OpenPGP signature packet (header and body).
fn parse_signature(bytes: &[u8]) -> Result<Signature, StatementError> {
    match Packet::from_bytes(bytes) {
        Ok(Packet::Signature(sig)) => Ok(sig),
        Ok(other) => Err(StatementError::BadSignaturePacket(format!("expected a signature packet, found {}", other.tag()))),
        Err(e) => Err(StatementError::BadSignaturePacket(e.to_string())),
    }
}

/// A statement whose signature checked out: only [`SignedStatement::verify`] makes one, so a
/// value of this type is proof that the check ran (typed trust, as automerge's verified
/// changes and radicle's `SignedRefs<Verified>`). Its parts are read through methods.
///
/// Code outside this module cannot build one:
///
/// ```compile_fail
/// use spokes_core::statement::{Statement, VerifiedStatement};
/// fn forge(statement: Statement) -> VerifiedStatement {
///     VerifiedStatement { statement, signer: "A".repeat(40), signed_at: 0 }
/// }
/// ```
///
/// The one way to get one (this compiles):
///
/// ```
/// use spokes_core::statement::{SignedStatement, VerifiedStatement};
/// use spokes_core::{BlogId, Certificate};
/// fn check(s: &SignedStatement, cert: &Certificate, blog: &BlogId) -> Option<VerifiedStatement> {
///     s.verify(cert, blog).ok()
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedStatement {
    statement: Statement,
    signer: String,
    signed_at: i64,
}

impl VerifiedStatement {
    /// The parsed statement.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }
    /// The heads it names (sorted).
    pub fn heads(&self) -> &[ChangeHash] {
        &self.statement.heads
    }
    /// Fingerprint of the subkey that signed it (uppercase hex).
    pub fn signer(&self) -> &str {
        &self.signer
    }
    /// Signature creation time, seconds since the Unix epoch (as the signer wrote it).
    pub fn signed_at(&self) -> i64 {
        self.signed_at
    }
}

/// Most statements one blog may carry (a publish a minute for ten years is about five
/// million; a writer publishes far less). More are refused.
pub const MAX_STATEMENTS: usize = 1_000_000;

impl SignedStatement {
    /// This statement with its signature in canonical form: the unhashed subpacket area, which
    /// the signature does not cover (RFC 4880 §5.2.3) and anyone could change to mint copies,
    /// holds only the issuer fingerprint `signer` (the verified signing key), and only when
    /// the hashed area names no issuer. Two copies of one signature have one canonical form.
    /// Error: [`StatementError::BadSignaturePacket`].
    pub fn canonical(&self, signer: &str) -> Result<SignedStatement, StatementError> {
        use openpgp::packet::signature::subpacket::{Subpacket, SubpacketTag, SubpacketValue};
        let bad = |e: &dyn std::fmt::Display| StatementError::BadSignaturePacket(e.to_string());
        let mut sig = parse_signature(&self.signature)?;
        let named = sig.hashed_area().iter().any(|sp| matches!(sp.tag(), SubpacketTag::Issuer | SubpacketTag::IssuerFingerprint));
        let area = sig.unhashed_area_mut();
        area.clear();
        if !named {
            let fpr = openpgp::Fingerprint::from_str(signer).map_err(|e| bad(&e))?;
            area.add(Subpacket::new(SubpacketValue::IssuerFingerprint(fpr), false).map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
        }
        Ok(SignedStatement { statement: self.statement.clone(), signature: Packet::from(sig).to_vec().map_err(|e| bad(&e))? })
    }

    /// The fingerprint of the key the signature names as its issuer (uppercase hex), if it
    /// names one by fingerprint; for deduplicating by (statement, signing key).
    pub fn issuer(&self) -> Option<String> {
        parse_signature(&self.signature).ok()?.issuer_fingerprints().next().map(|f| f.to_hex())
    }

    /// The signature, ASCII-armored (`-----BEGIN PGP SIGNATURE-----`), for `gpg --verify`.
    pub fn armored_signature(&self) -> Result<Vec<u8>, StatementError> {
        use std::io::Write;
        let bad = |e: &dyn std::fmt::Display| StatementError::BadSignaturePacket(e.to_string());
        // Parse first, so that only a real signature packet is ever armored.
        parse_signature(&self.signature)?;
        let mut w = openpgp::armor::Writer::new(Vec::new(), openpgp::armor::Kind::Signature).map_err(|e| bad(&e))?;
        w.write_all(&self.signature).map_err(|e| bad(&e))?;
        w.finalize().map_err(|e| bad(&e))
    }

    /// Checks the signature against `cert` and that the statement is for `blog_id`.
    ///
    /// The signing key must be a signing-capable key of `cert`, alive and not revoked at the
    /// signature's creation time, under sequoia's standard policy.
    pub fn verify(&self, cert: &Certificate, blog_id: &BlogId) -> Result<VerifiedStatement, StatementError> {
        let statement = Statement::parse(self.statement.as_bytes())?;
        if &statement.blog_id != blog_id {
            return Err(StatementError::WrongBlog { expected: blog_id.to_string(), found: statement.blog_id.to_string() });
        }
        let (signer, signed_at) = verify_detached(cert, &self.signature, self.statement.as_bytes())?;
        Ok(VerifiedStatement { statement, signer, signed_at })
    }
}

/// Checks a detached signature (one binary signature packet) over `data`: it must be made
/// by a signing-capable key of `cert`, alive and not revoked at the signature's creation time,
/// under sequoia's standard policy. Returns the signing key's fingerprint and the creation
/// time (seconds since the Unix epoch).
pub fn verify_detached(cert: &Certificate, signature: &[u8], data: &[u8]) -> Result<(String, i64), StatementError> {
    let sig = parse_signature(signature)?;
    let when = sig.signature_creation_time().ok_or_else(|| StatementError::BadSignaturePacket("no creation time".into()))?;
    let issuers = sig.get_issuers();
    if issuers.is_empty() {
        return Err(StatementError::BadSignaturePacket("no issuer".into()));
    }
    let policy = policy();
    let unknown = || StatementError::UnknownSigner { fingerprint: cert.fingerprint() };
    let ka = cert
        .cert()
        .keys()
        .with_policy(&policy, Some(when))
        .alive()
        .revoked(false)
        .for_signing()
        .key_handles(issuers.iter())
        .next()
        .ok_or_else(unknown)?;
    sig.verify_message(ka.key(), data).map_err(|_| StatementError::Invalid)?;
    let signed_at = when.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    Ok((ka.key().fingerprint().to_hex(), signed_at))
}

/// The creation time a detached signature carries (seconds since the Unix epoch), without
/// checking it: the signer wrote it. `None` for bytes that are not a signature packet.
pub fn signature_time(signature: &[u8]) -> Option<i64> {
    let t = parse_signature(signature).ok()?.signature_creation_time()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0))
}

/// Makes a detached binary-document signature (one binary signature packet) over `data`.
pub fn sign_detached(key: &mut SigningKey, data: &[u8]) -> Result<Vec<u8>, StatementError> {
    let sig = SignatureBuilder::new(SignatureType::Binary).sign_message(&mut key.keypair, data).map_err(|e| StatementError::Signing(e.to_string()))?;
    Packet::from(sig).to_vec().map_err(|e| StatementError::Signing(e.to_string()))
}

/// Checks the coverage rule for the changes of `doc` that are not ancestors of `trusted_heads`.
///
/// `signed_heads` are the heads of statements already verified. With `trusted_heads` empty,
/// this checks the whole document. Cost: linear in the number of new changes.
pub fn check_coverage(doc: &mut AutoCommit, trusted_heads: &[ChangeHash], signed_heads: &[ChangeHash]) -> Result<usize, CoverageError> {
    // Only the hashes and dependencies are needed: the metadata, not whole changes, which
    // Automerge would rebuild op by op from its columns (for a large first sync, every op).
    let new: Vec<(ChangeHash, Vec<ChangeHash>)> = doc.get_changes_meta(trusted_heads).into_iter().map(|c| (c.hash, c.deps)).collect();
    if new.is_empty() {
        return Ok(0);
    }
    let deps: HashMap<ChangeHash, Vec<ChangeHash>> = new.iter().cloned().collect();
    let mut covered: HashSet<ChangeHash> = HashSet::with_capacity(deps.len());
    let mut stack: Vec<ChangeHash> = signed_heads.iter().filter(|h| deps.contains_key(h)).copied().collect();
    while let Some(h) = stack.pop() {
        if !covered.insert(h) {
            continue;
        }
        if let Some(ds) = deps.get(&h) {
            stack.extend(ds.iter().filter(|d| deps.contains_key(d) && !covered.contains(d)));
        }
    }
    let uncovered: Vec<_> = new.iter().map(|(h, _)| *h).filter(|h| !covered.contains(h)).collect();
    match uncovered.first() {
        None => Ok(new.len()),
        Some(first) => Err(CoverageError::Uncovered { count: uncovered.len(), first: first.to_string() }),
    }
}

/// Verifies `statements` against `cert` for `blog_id`, returning the valid ones and the
/// errors of the others (index into `statements`, error).
pub fn verify_all(statements: &[SignedStatement], cert: &Certificate, blog_id: &BlogId) -> (Vec<VerifiedStatement>, Vec<(usize, StatementError)>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        match s.verify(cert, blog_id) {
            Ok(v) => ok.push(v),
            Err(e) => bad.push((i, e)),
        }
    }
    (ok, bad)
}

/// What [`prune_lost`] did to a document and its statements.
#[derive(Debug, Default)]
pub struct Pruned {
    /// The statements that still count, in their order.
    pub kept: Vec<SignedStatement>,
    /// The statements dropped: signed by a key declared lost or stolen.
    pub voided: Vec<SignedStatement>,
    /// The document rebuilt from only the changes the kept statements cover, when some
    /// changes were covered by nothing else; `None` when the document stays as it is.
    pub doc: Option<AutoCommit>,
    /// How many changes the rebuilt document left out.
    pub dropped_changes: usize,
}

/// Applies a certificate's hard revocations ("lost or stolen" devices,
/// [`Certificate::lost_keys`]) to a document and its statements: statements signed by a lost
/// key are voided, and changes no remaining statement covers are left out by rebuilding the
/// document at the remaining statements' heads (Automerge `fork_at`; the document's actor is
/// kept). The coverage rule then holds again for the result, under `cert`.
///
/// Statements are matched to keys by their issuer fingerprint (canonical statements always
/// name it); a statement naming no issuer is kept only if it still verifies. Cost: one pass
/// over the statements, a walk over the change graph, and, when changes are dropped, a
/// replay of the kept history (seconds for a blog of tens of MB); it runs once per loss.
///
/// Errors: [`CoverageError::Uncovered`] never; an Automerge failure to rebuild is reported as
/// [`StatementError::Malformed`].
pub fn prune_lost(doc: &mut AutoCommit, statements: &[SignedStatement], cert: &Certificate, blog_id: &BlogId) -> Result<Pruned, StatementError> {
    let lost: HashSet<String> = cert.lost_keys().into_iter().collect();
    let mut out = Pruned::default();
    for s in statements {
        let void = match s.issuer() {
            Some(fp) => lost.contains(&fp),
            None => s.verify(cert, blog_id).is_err(),
        };
        if void { out.voided.push(s.clone()) } else { out.kept.push(s.clone()) }
    }
    if out.voided.is_empty() {
        return Ok(out);
    }
    let heads: Vec<ChangeHash> = out
        .kept
        .iter()
        .filter_map(|s| Statement::parse(s.statement.as_bytes()).ok())
        .flat_map(|st| st.heads)
        .filter(|h| doc.get_change_meta_by_hash(h).is_some())
        .collect();
    let total = doc.get_changes_meta(&[]).len();
    if check_coverage(doc, &[], &heads).is_ok() {
        return Ok(out);
    }
    let actor = doc.get_actor().clone();
    let mut rebuilt = doc.fork_at(&heads).map_err(|e| StatementError::Malformed(format!("cannot rebuild the document: {e}")))?;
    rebuilt.set_actor(actor);
    out.dropped_changes = total.saturating_sub(rebuilt.get_changes_meta(&[]).len());
    out.doc = Some(rebuilt);
    Ok(out)
}

/// All heads named by `statements` (parsed, not verified: for statements verified when
/// they were stored). Statements that do not parse name none.
pub fn signed_heads_of(statements: &[SignedStatement]) -> Vec<ChangeHash> {
    statements.iter().filter_map(|s| Statement::parse(s.statement.as_bytes()).ok()).flat_map(|st| st.heads).collect()
}

/// All heads named by `verified` statements.
pub fn signed_heads(verified: &[VerifiedStatement]) -> Vec<ChangeHash> {
    verified.iter().flat_map(|v| v.heads().iter().copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{BlogDoc, BlogSettings, DocKind, Post};
    use crate::identity::Identity;

    fn setup() -> (Identity, SigningKey, BlogDoc, BlogId) {
        let id = Identity::generate("Ada", "pw").unwrap();
        let key = id.unlock("pw").unwrap();
        let blog_id = BlogId::generate();
        let doc = BlogDoc::create(DocKind::Blog, &blog_id, &id.fingerprint(), &BlogSettings::default());
        (id, key, doc, blog_id)
    }

    /// Attack 7: once a device is declared lost, its statements are voided and what only
    /// they covered leaves the document; what the writer confirms, signed again by another
    /// device, stays.
    #[test]
    fn pruning_a_lost_device_drops_what_only_it_signed_and_keeps_what_is_confirmed() {
        let id = Identity::generate_for_device("Ada", Some("Desk"), "pw").unwrap();
        let desk_fp = id.certificate().devices()[0].fingerprint.clone();
        let (id, laptop) = id.add_device("pw", "Laptop").unwrap();
        let mut desk = id.unlock_device("pw", Some(&desk_fp)).unwrap();
        let mut lap = id.unlock_device("pw", Some(&laptop)).unwrap();
        let blog_id = BlogId::generate();
        let mut doc = BlogDoc::create(DocKind::Blog, &blog_id, &id.fingerprint(), &BlogSettings::default());
        let publish = |doc: &mut BlogDoc, title: &str, key: &mut SigningKey| {
            doc.put_post(&Post::new(title, "text")).unwrap();
            doc.commit(title);
            Statement::new(blog_id.clone(), &doc.heads()).sign(key).unwrap()
        };
        let s_desk = publish(&mut doc, "From the desk", &mut desk);
        let s_lap = publish(&mut doc, "From the laptop", &mut lap);
        let confirmed_heads = doc.heads();
        let s_thief = publish(&mut doc, "From the thief", &mut lap);
        let all = vec![s_desk.clone(), s_lap.clone(), s_thief.clone()];
        let actor = doc.automerge().get_actor().clone();

        // Before the loss, nothing is pruned.
        let p = prune_lost(doc.automerge(), &all, &id.certificate(), &blog_id).unwrap();
        assert!(p.voided.is_empty() && p.doc.is_none() && p.kept == all);

        let cert = id.revoke_device_lost("pw", &laptop, "stolen").unwrap().certificate();
        let p = prune_lost(doc.automerge(), &all, &cert, &blog_id).unwrap();
        assert_eq!(p.kept, vec![s_desk.clone()]);
        assert_eq!(p.voided, vec![s_lap.clone(), s_thief.clone()]);
        assert_eq!(p.dropped_changes, 2);
        let mut only_desk = BlogDoc::from_automerge(p.doc.unwrap()).unwrap();
        let titles = |d: &BlogDoc| d.posts().into_iter().map(|p| p.title).collect::<Vec<_>>();
        assert_eq!(titles(&only_desk), vec!["From the desk"]);
        assert_eq!(only_desk.automerge().get_actor(), &actor, "the actor is kept, so new changes continue its sequence");
        check_coverage(only_desk.automerge(), &[], &signed_heads(&verify_all(&p.kept, &cert, &blog_id).0)).unwrap();

        // The writer confirms the laptop's genuine publish: the desk signs its heads again.
        let confirm = Statement::new(blog_id.clone(), &confirmed_heads).sign(&mut desk).unwrap();
        let with = [all.clone(), vec![confirm.clone()]].concat();
        let p = prune_lost(doc.automerge(), &with, &cert, &blog_id).unwrap();
        assert_eq!(p.kept, vec![s_desk, confirm]);
        assert_eq!(p.dropped_changes, 1);
        let mut kept = BlogDoc::from_automerge(p.doc.unwrap()).unwrap();
        let mut t = titles(&kept);
        t.sort();
        assert_eq!(t, vec!["From the desk", "From the laptop"]);
        let mut h = kept.heads();
        h.sort();
        assert_eq!(h, confirmed_heads);
        // A pruned document pruned again is left as it is.
        let again = prune_lost(kept.automerge(), &p.kept, &cert, &blog_id).unwrap();
        assert!(again.voided.is_empty() && again.doc.is_none());
    }

    #[test]
    fn statement_bytes_round_trip_strictly() {
        let (_, _, mut doc, blog_id) = setup();
        let st = Statement::new(blog_id, &doc.heads());
        let bytes = st.to_bytes();
        assert!(bytes.starts_with(b"spokes revision v1\nblog: "));
        assert_eq!(Statement::parse(&bytes).unwrap(), st);
        let upper = String::from_utf8(bytes.clone()).unwrap().to_uppercase();
        assert!(Statement::parse(upper.as_bytes()).is_err());
        let v2 = String::from_utf8(bytes).unwrap().replace("v1", "v2");
        assert!(matches!(Statement::parse(v2.as_bytes()), Err(StatementError::UnknownVersion(_))));
    }

    /// `s` with a notation `i` added to the signature's unhashed area: still valid.
    pub(crate) fn malleated(s: &SignedStatement, i: u32) -> SignedStatement {
        use openpgp::packet::signature::subpacket::{NotationData, NotationDataFlags, Subpacket, SubpacketValue};
        let mut sig = parse_signature(&s.signature).unwrap();
        let n = NotationData::new("copy@example.org", i.to_be_bytes(), NotationDataFlags::empty());
        sig.unhashed_area_mut().add(Subpacket::new(SubpacketValue::NotationData(n), false).unwrap()).unwrap();
        SignedStatement { statement: s.statement.clone(), signature: Packet::from(sig).to_vec().unwrap() }
    }

    /// Attack 3 of the hostile-peers issue: copies that differ only in the unsigned area all
    /// verify, and all have the statement's one canonical form.
    #[test]
    fn malleated_copies_verify_and_share_one_canonical_form() {
        let (id, mut key, mut doc, blog_id) = setup();
        let signed = Statement::new(blog_id.clone(), &doc.heads()).sign(&mut key).unwrap();
        let v = signed.verify(&id.certificate(), &blog_id).unwrap();
        assert_eq!(signed.canonical(&v.signer).unwrap(), signed, "Spokes' own signatures are canonical already");
        assert_eq!(signed.issuer().as_deref(), Some(v.signer.as_str()));
        for i in 0..5 {
            let copy = malleated(&signed, i);
            assert_ne!(copy, signed);
            let cv = copy.verify(&id.certificate(), &blog_id).unwrap();
            assert_eq!(copy.canonical(&cv.signer).unwrap(), signed);
        }
    }

    #[test]
    fn signed_statement_verifies_and_tampering_is_caught() {
        let (id, mut key, mut doc, blog_id) = setup();
        let signed = Statement::new(blog_id.clone(), &doc.heads()).sign(&mut key).unwrap();
        let cert = id.certificate();
        let v = signed.verify(&cert, &blog_id).unwrap();
        assert_eq!(v.signer, key.key_fingerprint());

        let mut altered = signed.clone();
        altered.statement = altered.statement.replace(&doc.heads()[0].to_string(), &"0".repeat(64));
        assert!(matches!(altered.verify(&cert, &blog_id), Err(StatementError::Invalid)));

        let other = Identity::generate("Mallory", "pw").unwrap();
        assert!(matches!(signed.verify(&other.certificate(), &blog_id), Err(StatementError::UnknownSigner { .. })));
        assert!(matches!(signed.verify(&cert, &BlogId::generate()), Err(StatementError::WrongBlog { .. })));

        let mut garbage = signed.clone();
        garbage.signature = vec![1, 2, 3];
        assert!(matches!(garbage.verify(&cert, &blog_id), Err(StatementError::BadSignaturePacket(_))));
    }

    #[test]
    fn coverage_accepts_signed_history_and_refuses_unsigned_changes() {
        let (_, mut key, mut doc, blog_id) = setup();
        doc.put_post(&Post::new("a", "one")).unwrap();
        doc.commit("1");
        let signed = Statement::new(blog_id.clone(), &doc.heads()).sign(&mut key).unwrap();
        let heads = Statement::parse(signed.statement.as_bytes()).unwrap().heads;
        assert_eq!(check_coverage(doc.automerge(), &[], &heads).unwrap(), 2);

        doc.put_post(&Post::new("b", "two")).unwrap();
        doc.commit("unsigned");
        let err = check_coverage(doc.automerge(), &[], &heads).unwrap_err();
        assert!(matches!(err, CoverageError::Uncovered { count: 1, .. }));
        // Checking only what is new since the signed heads finds the same single change.
        assert!(check_coverage(doc.automerge(), &heads, &heads).is_err());
        let now = doc.heads();
        assert_eq!(check_coverage(doc.automerge(), &heads, &now).unwrap(), 1);
    }
}
