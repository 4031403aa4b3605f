//! Evidence against a council member, made of what the member signed itself, so that every
//! holder of the council log can check it without trusting the accuser.
//!
//! **Sealed catalogs.** A member answering a council exchange signs its catalog: the
//! [`CatalogSeal`] carries the council, the signer (`by`, its endpoint ID), the time (`at`,
//! Unix seconds, the signer's clock), the number of blogs and the RFC 9162 Merkle tree hash
//! (SHA-256, [`spokes_core::merkle`]) over the catalog's entries in order, each leaf being
//! [`leaf_bytes`] of one entry. The signature is Ed25519 by the endpoint key over
//! [`CATALOG_TAG`] followed by [`CatalogSeal::signed_bytes`]. One signature per exchange, and
//! one catalog entry can later be shown alone: a [`SignedOffer`] is the seal, the entry, its
//! index and its audit path (about log2(blogs) hashes).
//!
//! **What counts as evidence** ([`Evidence::check`]), for a blog kept as a set of documents
//! (its entries carry a manifest `rev`):
//!
//! - `rolled-back`: two offers of the same blog sealed by the accused, the later one (by the
//!   accused's own `at`) with a lower `rev`. An honest spoke's offered `rev` only grows, but
//!   for one case: when the writer declares a computer lost, spokes drop what that computer
//!   signed and may fall back to an older manifest. So a rollback proves nothing about a blog
//!   whose certificate (the holder's copy merged with the copy the evidence carries) names a
//!   lost key.
//! - `forged-manifest`: an offer sealed by the accused naming a manifest (by the SHA-256 of
//!   its header) whose header, carried in the evidence, is for another blog or is signed by a
//!   key that is not in the blog's certificate at all. A signature by one of the writer's own
//!   keys is never taken as forgery (it may be a key since revoked, or checked against an
//!   older copy of the certificate).
//!
//! The evidence carries the blog's certificate as the accuser held it and the salt that binds
//! the blog ID to it ([`BlogId::is_bound_to`]), so a holder that keeps no copy of the blog can
//! check it too. Tampered post documents and tampered blogs of format 1 are refused by the
//! puller as before but are not evidence here: what a sync session sends is not signed by the
//! spoke.

use super::{Catalog, CatalogEntry};
use iroh::SecretKey;
use serde::{Deserialize, Serialize};
use spokes_core::identity::Certificate;
use spokes_core::manifest::Header;
use spokes_core::merkle::{self, Hash};
use spokes_core::statement::SignedStatement;
use spokes_core::BlogId;

/// Domain-separation tag of catalog seals.
pub const CATALOG_TAG: &[u8] = b"spokes catalog v1\n";
/// The format of [`CatalogSeal`].
pub const SEAL_FORMAT: u32 = 1;
/// Longest audit path accepted (a tree of 2^64 leaves needs 64).
pub const MAX_PROOF: usize = 64;

/// Errors of catalog seals and evidence.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EvidenceError {
    /// Not the shape this format has.
    #[error("malformed evidence: {0}")]
    Malformed(String),
    /// A seal's signature does not verify, is by someone else, or does not cover the entry.
    #[error("a catalog seal does not verify: {0}")]
    BadSeal(String),
    /// Well formed and signed, but it does not show wrongdoing.
    #[error("the evidence does not prove wrongdoing: {0}")]
    NotProven(String),
}

/// What a member signs over a catalog (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSeal {
    /// [`SEAL_FORMAT`].
    pub v: u32,
    /// The council ID.
    pub council: String,
    /// The signer's endpoint ID.
    pub by: String,
    /// Unix seconds, the signer's clock.
    pub at: i64,
    /// How many entries the catalog has (the tree's size).
    pub blogs: u64,
    /// The Merkle tree hash over the entries' [`leaf_bytes`], lowercase hex.
    pub root: String,
    /// Hex Ed25519 signature over [`CATALOG_TAG`] + [`CatalogSeal::signed_bytes`].
    pub signature: String,
}

impl CatalogSeal {
    /// `council \n by \n at \n blogs \n root`: what the signature covers after the tag.
    pub fn signed_bytes(&self) -> Vec<u8> {
        [CATALOG_TAG, format!("{}\n{}\n{}\n{}\n{}", self.council, self.by, self.at, self.blogs, self.root).as_bytes()].concat()
    }

    /// Checks the format, that `by` signed it for `council`, and returns the root.
    /// Errors: [`EvidenceError::Malformed`], [`EvidenceError::BadSeal`].
    pub fn check(&self, by: &str, council: &str) -> Result<Hash, EvidenceError> {
        if self.v != SEAL_FORMAT {
            return Err(EvidenceError::Malformed(format!("catalog seal format {} (this spoke knows {SEAL_FORMAT})", self.v)));
        }
        if self.by != by {
            return Err(EvidenceError::BadSeal(format!("sealed by {}, not {by}", self.by)));
        }
        if self.council != council {
            return Err(EvidenceError::BadSeal("sealed for another council".into()));
        }
        let root: Hash = hex::decode(&self.root).ok().and_then(|r| r.try_into().ok()).ok_or_else(|| EvidenceError::Malformed("the root is not a SHA-256 hash in hex".into()))?;
        super::check_signature(by, &self.signed_bytes(), &self.signature).map_err(|e| EvidenceError::BadSeal(e.to_string()))?;
        Ok(root)
    }
}

/// The leaf of one catalog entry: `blog \n rev \n heads (comma-separated) \n manifests
/// (comma-separated)`.
pub fn leaf_bytes(e: &CatalogEntry) -> Vec<u8> {
    format!("{}\n{}\n{}\n{}", e.blog_id, e.rev, e.heads.join(","), e.manifests.join(",")).into_bytes()
}

/// A catalog whose seal checked out: the seal and its entries' leaf hashes, from which offers
/// of single entries are cut.
#[derive(Clone, Debug)]
pub struct SealedCatalog {
    /// The seal.
    pub seal: CatalogSeal,
    /// Leaf hashes, in catalog order.
    pub leaves: Vec<Hash>,
}

impl SealedCatalog {
    /// The offers of the entries at `indices` (out-of-range ones left out), in one pass over
    /// the tree.
    pub fn offers(&self, catalog: &Catalog, indices: &[usize]) -> Vec<SignedOffer> {
        let (_, proofs) = merkle::inclusion_proofs(&self.leaves, indices);
        indices
            .iter()
            .zip(proofs)
            .filter_map(|(i, proof)| {
                let entry = catalog.blogs.get(*i)?.clone();
                Some(SignedOffer { seal: self.seal.clone(), entry, index: *i as u64, proof: proof.iter().map(hex::encode).collect() })
            })
            .collect()
    }
}

impl Catalog {
    /// The Merkle leaf hash of each entry, in order.
    fn leaf_hashes(&self) -> Vec<Hash> {
        self.blogs.iter().map(|e| merkle::leaf_hash(&leaf_bytes(e))).collect()
    }

    /// Seals the catalog as `key`'s for `council` at `at` (Unix seconds), replacing any seal.
    pub fn seal(&mut self, key: &SecretKey, council: &str, at: i64) {
        let leaves = self.leaf_hashes();
        let mut seal = CatalogSeal { v: SEAL_FORMAT, council: council.to_owned(), by: key.public().to_string(), at, blogs: leaves.len() as u64, root: hex::encode(merkle::root(&leaves)), signature: String::new() };
        seal.signature = hex::encode(key.sign(&seal.signed_bytes()).to_bytes());
        self.seal = Some(seal);
    }

    /// Checks the seal, if any, as `by`'s for `council` over exactly these entries. `Ok(None)`
    /// for a catalog without one (a spoke built before seals). Errors as
    /// [`CatalogSeal::check`], and [`EvidenceError::BadSeal`] when the entries are not what was
    /// sealed.
    pub fn check_seal(&self, by: &str, council: &str) -> Result<Option<SealedCatalog>, EvidenceError> {
        let Some(seal) = &self.seal else { return Ok(None) };
        let root = seal.check(by, council)?;
        let leaves = self.leaf_hashes();
        if seal.blogs != leaves.len() as u64 || merkle::root(&leaves) != root {
            return Err(EvidenceError::BadSeal("the catalog is not the one its seal covers".into()));
        }
        Ok(Some(SealedCatalog { seal: seal.clone(), leaves }))
    }
}

/// One catalog entry as a member offered it: the seal over its catalog, the entry, its index
/// and its audit path (hex SHA-256 hashes, leaf to root).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedOffer {
    /// The seal of the catalog the entry came in.
    pub seal: CatalogSeal,
    /// The entry.
    pub entry: CatalogEntry,
    /// Its position in the catalog.
    pub index: u64,
    /// Its audit path (RFC 9162 §2.1.3).
    pub proof: Vec<String>,
}

impl SignedOffer {
    /// Checks that `by` sealed a catalog for `council` holding this entry at this index.
    /// Errors as [`CatalogSeal::check`], and [`EvidenceError::BadSeal`] for a proof that does
    /// not lead to the sealed root.
    pub fn check(&self, by: &str, council: &str) -> Result<(), EvidenceError> {
        let root = self.seal.check(by, council)?;
        if self.proof.len() > MAX_PROOF {
            return Err(EvidenceError::Malformed("an audit path too long".into()));
        }
        let proof: Vec<Hash> = self.proof.iter().map(|h| hex::decode(h).ok().and_then(|b| b.try_into().ok())).collect::<Option<_>>().ok_or_else(|| EvidenceError::Malformed("an audit path of hashes that are not SHA-256 in hex".into()))?;
        let (Ok(index), Ok(size)) = (usize::try_from(self.index), usize::try_from(self.seal.blogs)) else {
            return Err(EvidenceError::Malformed("an index past what this computer can count".into()));
        };
        if !merkle::verify_inclusion(&merkle::leaf_hash(&leaf_bytes(&self.entry)), index, size, &proof, &root) {
            return Err(EvidenceError::BadSeal("the entry is not in the sealed catalog".into()));
        }
        Ok(())
    }
}

/// What the accused signed that shows wrongdoing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Misdeed {
    /// It offered the blog at a lower manifest `rev` after offering a higher one.
    RolledBack {
        /// The earlier offer (higher `rev`).
        earlier: SignedOffer,
        /// The later offer (lower `rev`).
        later: SignedOffer,
    },
    /// It offered a manifest whose header is for another blog or signed by a key not in the
    /// blog's certificate.
    ForgedManifest {
        /// The offer naming the manifest.
        offer: SignedOffer,
        /// The manifest's header (the statement of version 2), as served.
        statement: String,
        /// Its detached signature, hex, as served.
        signature: String,
    },
}

/// Evidence against a member (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    /// The blog's OpenPGP certificate as the accuser held it, binary, base64 (RFC 4648 §4).
    pub certificate: String,
    /// The salt that binds the blog ID to that certificate (32 lowercase hex characters).
    pub salt: String,
    /// What the accused did.
    pub misdeed: Misdeed,
}

impl Evidence {
    /// Builds evidence for `misdeed` about a blog whose certificate is `cert` and salt `salt`.
    pub fn new(cert: &Certificate, salt: &str, misdeed: Misdeed) -> Evidence {
        Evidence { certificate: data_encoding::BASE64.encode(&cert.to_bytes()), salt: salt.to_owned(), misdeed }
    }

    /// The blog the evidence is about.
    pub fn blog(&self) -> &BlogId {
        match &self.misdeed {
            Misdeed::RolledBack { later, .. } => &later.entry.blog_id,
            Misdeed::ForgedManifest { offer, .. } => &offer.entry.blog_id,
        }
    }

    /// Checks that the evidence proves `accused` misbehaved in `council`, with the holder's
    /// own copy of the blog's certificate (`own`, merged with the evidence's; `None` for a
    /// holder without the blog). Returns one line saying what it proves, for the log's readers.
    ///
    /// Errors: [`EvidenceError::Malformed`], [`EvidenceError::BadSeal`] (the accused did not
    /// sign what the evidence says), [`EvidenceError::NotProven`] (it did, but that is no
    /// wrongdoing, or not one this holder can be sure of).
    pub fn check(&self, accused: &str, council: &str, own: Option<&Certificate>) -> Result<String, EvidenceError> {
        let bytes = data_encoding::BASE64.decode(self.certificate.as_bytes()).map_err(|e| EvidenceError::Malformed(format!("the certificate is not base64: {e}")))?;
        let mut cert = Certificate::from_bytes(&bytes).map_err(|e| EvidenceError::Malformed(format!("the certificate: {e}")))?;
        let blog = self.blog().clone();
        if !blog.is_bound_to(&cert.fingerprint(), &self.salt) {
            return Err(EvidenceError::Malformed(format!("the certificate and salt are not those of blog {blog}")));
        }
        if let Some(own) = own {
            cert.merge(own);
        }
        match &self.misdeed {
            Misdeed::RolledBack { earlier, later } => {
                earlier.check(accused, council)?;
                later.check(accused, council)?;
                if earlier.entry.blog_id != later.entry.blog_id {
                    return Err(EvidenceError::NotProven("the two offers are of different blogs".into()));
                }
                if later.seal.at <= earlier.seal.at || later.entry.rev >= earlier.entry.rev {
                    return Err(EvidenceError::NotProven("the later offer is not of an older state".into()));
                }
                if !cert.lost_keys().is_empty() {
                    return Err(EvidenceError::NotProven("the writer declared a computer lost, after which an honest spoke may offer an older state".into()));
                }
                Ok(format!("offered blog {blog} at manifest rev {} after offering it at rev {}", later.entry.rev, earlier.entry.rev))
            }
            Misdeed::ForgedManifest { offer, statement, signature } => {
                offer.check(accused, council)?;
                let name = hex::encode(merkle::sha256(statement.as_bytes()));
                if !offer.entry.manifests.contains(&name) {
                    return Err(EvidenceError::NotProven("the offer does not name this manifest".into()));
                }
                let header = Header::parse(statement.as_bytes()).map_err(|e| EvidenceError::NotProven(format!("a header this spoke cannot read: {e}")))?;
                if header.blog_id != blog {
                    return Ok(format!("offered a manifest of blog {} as blog {blog}'s", header.blog_id));
                }
                let signature = hex::decode(signature).map_err(|_| EvidenceError::Malformed("the signature is not hex".into()))?;
                let signed = SignedStatement { statement: statement.clone(), signature };
                match signed.issuer() {
                    Some(k) if cert.has_key(&k) => Err(EvidenceError::NotProven("the manifest is signed by one of the writer's own keys".into())),
                    Some(k) => Ok(format!("offered a manifest of blog {blog} signed by key {k}, which is not the writer's")),
                    None => Ok(format!("offered a manifest of blog {blog} with no usable signature")),
                }
            }
        }
    }
}

/// Evidence for tests of the council log.
#[cfg(test)]
pub(crate) fn rollback_evidence(accused: &SecretKey, council: &str, earlier_rev: u64, later_rev: u64) -> Evidence {
    let id = spokes_core::identity::Identity::generate("Writer", "pw").unwrap_or_else(|e| panic!("{e}"));
    let (blog, salt) = BlogId::bound_to(&id.fingerprint());
    let offer = |rev: u64, at: i64| {
        let mut c = Catalog { blogs: vec![CatalogEntry { blog_id: blog.clone(), heads: vec![], manifests: vec!["ab".repeat(32)], rev }], seal: None };
        c.seal(accused, council, at);
        let sealed = c.check_seal(&accused.public().to_string(), council).ok().flatten().unwrap_or_else(|| panic!("sealed"));
        sealed.offers(&c, &[0]).remove(0)
    };
    Evidence::new(&id.certificate(), &salt, Misdeed::RolledBack { earlier: offer(earlier_rev, 100), later: offer(later_rev, 200) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::identity::Identity;
    use spokes_core::BlogSettings;
    use spokes_core::manifest::{Manifest, SiteSettings};

    fn blog_id(n: u8) -> BlogId {
        format!("{n:02x}").repeat(16).parse().unwrap()
    }

    fn entry(blog: &BlogId, rev: u64, manifest: &str) -> CatalogEntry {
        CatalogEntry { blog_id: blog.clone(), heads: vec![], manifests: vec![manifest.to_owned()], rev }
    }

    fn catalog(blogs: Vec<CatalogEntry>) -> Catalog {
        Catalog { blogs, seal: None }
    }

    /// A writer, its blog and a signed manifest header at `rev`.
    struct Blog {
        cert: Certificate,
        salt: String,
        blog: BlogId,
        settings: SiteSettings,
        key: spokes_core::identity::SigningKey,
    }

    fn blog() -> Blog {
        let id = Identity::generate("Writer", "pw").unwrap();
        let cert = id.certificate();
        let (blog, salt) = BlogId::bound_to(&cert.fingerprint());
        let settings = SiteSettings { blog: BlogSettings { title: "Notes".into(), ..Default::default() }, spokes: vec![], owner: cert.fingerprint(), blog_id_salt: salt.clone() };
        Blog { key: id.unlock("pw").unwrap(), cert, salt, blog, settings }
    }

    fn header(b: &Blog, key: &mut spokes_core::identity::SigningKey, rev: u64) -> (String, String) {
        let mut m = Manifest::new(b.blog.clone(), &b.settings);
        for _ in 1..rev {
            m = m.next_revision();
        }
        let signed = crate::set::SignedManifest::sign(m, key).unwrap();
        (signed.signed.statement.clone(), hex::encode(&signed.signed.signature))
    }

    #[test]
    fn a_sealed_catalog_shows_each_entry_alone_and_nothing_else() {
        let key = SecretKey::from_bytes(&[5; 32]);
        let me = key.public().to_string();
        let blogs: Vec<CatalogEntry> = (0..13u8).map(|i| entry(&blog_id(i), i as u64, &"ab".repeat(32))).collect();
        let mut c = catalog(blogs);
        assert_eq!(c.check_seal(&me, "council").unwrap().map(|s| s.leaves.len()), None, "no seal, nothing to check");
        c.seal(&key, "council", 100);
        let sealed = c.check_seal(&me, "council").unwrap().unwrap();
        let offers = sealed.offers(&c, &[12, 0, 7, 99]);
        assert_eq!(offers.len(), 3, "an index past the end is left out");
        for o in &offers {
            o.check(&me, "council").unwrap();
        }
        // Another signer, another council, an altered entry, a moved index, a cut proof.
        let other = SecretKey::from_bytes(&[6; 32]).public().to_string();
        assert!(matches!(offers[0].check(&other, "council"), Err(EvidenceError::BadSeal(_))));
        assert!(matches!(offers[0].check(&me, "another"), Err(EvidenceError::BadSeal(_))));
        let mut altered = offers[0].clone();
        altered.entry.rev += 1;
        assert!(matches!(altered.check(&me, "council"), Err(EvidenceError::BadSeal(_))));
        let mut moved = offers[1].clone();
        moved.index = 1;
        assert!(matches!(moved.check(&me, "council"), Err(EvidenceError::BadSeal(_))));
        let mut cut = offers[2].clone();
        cut.proof.pop();
        assert!(matches!(cut.check(&me, "council"), Err(EvidenceError::BadSeal(_))));
        let mut resealed = offers[2].clone();
        resealed.seal.at += 1;
        assert!(matches!(resealed.check(&me, "council"), Err(EvidenceError::BadSeal(_))));
        // A catalog changed after sealing does not pass for the sealed one.
        c.blogs.pop();
        assert!(matches!(c.check_seal(&me, "council"), Err(EvidenceError::BadSeal(_))));
    }

    #[test]
    fn a_rollback_is_proven_by_two_offers_the_accused_sealed() {
        let b = blog();
        let key = SecretKey::from_bytes(&[5; 32]);
        let me = key.public().to_string();
        let offer = |rev: u64, at: i64| {
            let mut c = catalog(vec![entry(&blog_id(200), 1, &"cd".repeat(32)), entry(&b.blog, rev, &"ab".repeat(32))]);
            c.seal(&key, "council", at);
            c.check_seal(&me, "council").unwrap().unwrap().offers(&c, &[1]).remove(0)
        };
        let proof = |earlier: SignedOffer, later: SignedOffer| Evidence::new(&b.cert, &b.salt, Misdeed::RolledBack { earlier, later });
        let e = proof(offer(5, 100), offer(3, 200));
        let said = e.check(&me, "council", None).unwrap();
        assert!(said.contains("rev 3 after offering it at rev 5"), "{said}");
        // Survives the trip through JSON, as it travels in a council entry.
        let back: Evidence = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back.check(&me, "council", Some(&b.cert)).unwrap(), said);
        // Moving forward, standing still, or "later" by an older seal: no wrongdoing.
        for (a, z) in [(offer(3, 100), offer(5, 200)), (offer(5, 100), offer(5, 200)), (offer(5, 200), offer(3, 100))] {
            assert!(matches!(proof(a, z).check(&me, "council", None), Err(EvidenceError::NotProven(_))));
        }
        // Someone else's seal, or a certificate not the blog's.
        let stranger = SecretKey::from_bytes(&[7; 32]).public().to_string();
        assert!(matches!(e.check(&stranger, "council", None), Err(EvidenceError::BadSeal(_))));
        let other = blog();
        let wrong = Evidence { certificate: Evidence::new(&other.cert, &b.salt, e.misdeed.clone()).certificate, ..e.clone() };
        assert!(matches!(wrong.check(&me, "council", None), Err(EvidenceError::Malformed(_))));
        let garbage = Evidence { certificate: "not base64!".into(), ..e.clone() };
        assert!(matches!(garbage.check(&me, "council", None), Err(EvidenceError::Malformed(_))));
    }

    #[test]
    fn a_rollback_after_the_writer_declared_a_computer_lost_proves_nothing() {
        let key = SecretKey::from_bytes(&[5; 32]);
        let me = key.public().to_string();
        let id = Identity::generate("Writer", "pw").unwrap();
        let (with_laptop, laptop) = id.add_device("pw", "laptop").unwrap();
        let lost = with_laptop.revoke_device_lost("pw", &laptop, "stolen").unwrap();
        let (blog_of, salt) = BlogId::bound_to(&id.fingerprint());
        let salt = salt.as_str();
        let offer_of = |rev: u64, at: i64| {
            let mut c = catalog(vec![entry(&blog_of, rev, &"ab".repeat(32))]);
            c.seal(&key, "council", at);
            c.check_seal(&me, "council").unwrap().unwrap().offers(&c, &[0]).remove(0)
        };
        let before = Evidence::new(&with_laptop.certificate(), salt, Misdeed::RolledBack { earlier: offer_of(5, 100), later: offer_of(3, 200) });
        assert!(before.check(&me, "council", None).is_ok(), "no computer lost yet");
        // The holder's own copy knows of the loss: it does not take the evidence.
        assert!(matches!(before.check(&me, "council", Some(&lost.certificate())), Err(EvidenceError::NotProven(_))));
        let after = Evidence::new(&lost.certificate(), salt, Misdeed::RolledBack { earlier: offer_of(5, 100), later: offer_of(3, 200) });
        assert!(matches!(after.check(&me, "council", None), Err(EvidenceError::NotProven(_))));
    }

    #[test]
    fn a_forged_manifest_is_proven_by_its_header_and_the_sealed_offer_naming_it() {
        let mut b = blog();
        let key = SecretKey::from_bytes(&[5; 32]);
        let me = key.public().to_string();
        let offer = |name: &str| {
            let mut c = catalog(vec![entry(&b.blog, 2, name)]);
            c.seal(&key, "council", 100);
            c.check_seal(&me, "council").unwrap().unwrap().offers(&c, &[0]).remove(0)
        };
        let mallory = Identity::generate("Mallory", "pw").unwrap();
        let (statement, signature) = header(&b, &mut mallory.unlock("pw").unwrap(), 2);
        let name = hex::encode(merkle::sha256(statement.as_bytes()));
        let forged = Evidence::new(&b.cert, &b.salt, Misdeed::ForgedManifest { offer: offer(&name), statement: statement.clone(), signature: signature.clone() });
        let said = forged.check(&me, "council", None).unwrap();
        assert!(said.contains("which is not the writer's"), "{said}");
        // The offer must name that very header.
        let elsewhere = Evidence::new(&b.cert, &b.salt, Misdeed::ForgedManifest { offer: offer(&"ab".repeat(32)), statement, signature });
        assert!(matches!(elsewhere.check(&me, "council", None), Err(EvidenceError::NotProven(_))));
        // The writer's own signature is never forgery.
        let mut own = std::mem::replace(&mut b.key, Identity::generate("x", "pw").unwrap().unlock("pw").unwrap());
        let (statement, signature) = header(&b, &mut own, 2);
        let name = hex::encode(merkle::sha256(statement.as_bytes()));
        let honest = Evidence::new(&b.cert, &b.salt, Misdeed::ForgedManifest { offer: offer(&name), statement, signature });
        assert!(matches!(honest.check(&me, "council", None), Err(EvidenceError::NotProven(_))));
    }
}
