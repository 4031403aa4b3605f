//! The council's newest posts, passed from tier to tier with what proves each one to its
//! author (`spokes-digest/1`).
//!
//! With partial copies ([`super::placement`]) no member holds every blog, so a member's own
//! copies cannot give the newest posts of the whole council. Every member therefore offers,
//! after its catalog, a **digest**: the newest posts it knows of, at most [`MAX_ITEMS`], each
//! carrying what lets any member check it alone, without the rest of its blog:
//!
//! - the writer's certificate (once per digest, by fingerprint);
//! - the signed manifest header (the statement of version 2, [`spokes_core::manifest`]) and the
//!   settings bytes it hashes, which bind the blog ID to that certificate;
//! - the post's leaf and its inclusion proof ([`PostProof`], RFC 9162 audit path);
//! - the post document, whose heads must be exactly the heads the leaf lists (so the text
//!   shown is the text the writer signed, no more and no less).
//!
//! A member composes its digest ([`compose`]) from the posts of the blogs it holds (0 hops)
//! and the digests its upstreams offered ([`super::choose_upstreams`], 3 by default), each
//! item one hop further than its upstream had it. A member's work and memory are bounded by
//! its upstreams times [`MAX_ITEMS`], whatever the council's size, and a post reaches every
//! member in about as many pull intervals as the tiers are deep (the council simulation in
//! the benchmark report measures it at 5,000 members).
//!
//! # Rules when composing
//!
//! - Items that do not check are left out (the spoke records each refusal for its operator).
//! - For each blog only the items proved by the newest header anyone offered (highest `rev`,
//!   a member's own copy counting as offered) are kept: a post its writer unpublished is not
//!   in the header that followed, and an item proved only by an older header may be such a
//!   post. The writer's spokes hold the blog and prove its newest posts by its newest header.
//! - So that the newer header travels even when the blog has no post left among the newest
//!   (its only new post was unpublished), a digest also carries **headers** alone: a holder
//!   offers the newest signed header of each blog that changed on it in the last
//!   [`HEADER_SECS`], and members pass on the newest they were offered (at most
//!   [`MAX_ITEMS`], each checked like an item's, dropped once signed more than
//!   [`HEADER_SECS`] ago). An unpublished post thus leaves every member's newest posts as fast
//!   as a new post reaches them.
//! - An item or header travels at most [`MAX_HOPS`] hops: members echo each other's digests
//!   (the tiers have loops), so an item nobody offers any more, and no newer header
//!   supersedes, leaves every digest after at most that many pull intervals.
//! - A post dated more than [`MAX_AHEAD_SECS`] ahead of the clock is left out.
//! - The newest [`MAX_ITEMS`] by date win, within [`MAX_DIGEST_BYTES`]; a post whose document
//!   is over [`MAX_DOCUMENT_BYTES`] is shown only by the members that hold its blog.
//!
//! # Wire form
//!
//! JSON, in a `Digest` frame of `spokes/council/1` (see [`super`]):
//!
//! ```text
//! {"format": 1,
//!  "certificates": {"<fingerprint>": "<binary certificate, base64>", …},
//!  "items": [{"blog_id": "<32 hex>", "owner": "<fingerprint>",
//!             "settings": "<settings bytes, base64>",
//!             "header": {"statement": "spokes revision v2\n…", "signature": "<hex>"},
//!             "proof": {"index": 3, "leaf": "post …", "proof": ["<64 hex>", …]},
//!             "document": "<post document, base64>", "hops": 0}, …],
//!  "headers": [{"blog_id", "owner", "settings", "header", "hops"}, …]}
//! ```
//!
//! or `{"format": 1, "same": true}` when the digest is the one the asking member named as
//! the one it holds from this member.

use data_encoding::BASE64;
use serde::{Deserialize, Serialize};
use spokes_core::manifest::{self, Entry, ManifestError, PostProof, SiteSettings};
use spokes_core::postdoc::{PostDoc, PostDocError};
use spokes_core::problem::Code;
use spokes_core::{BlogId, Certificate, Post, SignedStatement};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The digest format this spoke speaks.
pub const DIGEST_FORMAT: u32 = 1;
/// Most items (posts) one digest carries, and most certificates.
pub const MAX_ITEMS: usize = 48;
/// Most hops an item travels from the member that holds its blog. The council simulation
/// finds paths of up to 22 pulls at 5,000 members with three upstreams each.
pub const MAX_HOPS: u32 = 32;
/// How long a header alone travels, in seconds since it was signed (a day).
pub const HEADER_SECS: i64 = 24 * 3600;
/// Largest post document an item carries, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Largest digest a member composes, in bytes of JSON (the frame limit is 16 MiB).
pub const MAX_DIGEST_BYTES: usize = 12 * 1024 * 1024;
/// How far ahead of the clock a post's date may be, in seconds (clocks differ a little).
pub const MAX_AHEAD_SECS: i64 = 300;
/// Longest audit path accepted: a tree of [`manifest::MAX_LEAVES`] leaves needs 17.
const MAX_PROOF_LEN: usize = 64;

/// Errors of digests and their items.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    /// A format this spoke does not know.
    #[error("digest format {0} is not supported; this spoke reads format {DIGEST_FORMAT}")]
    Format(u32),
    /// More items or certificates than a digest may carry.
    #[error("a digest with {0} {1}; at most {MAX_ITEMS}")]
    TooMany(usize, &'static str),
    /// A field that is not what its name says (bad base64, bad hex).
    #[error("malformed digest item: {0}")]
    Malformed(String),
    /// A certificate that does not parse or is listed under another fingerprint.
    #[error("a certificate in the digest: {0}")]
    Certificate(String),
    /// An item whose owner's certificate the digest lacks.
    #[error("the digest lacks the certificate of the post's author")]
    NoCertificate,
    /// The header does not verify (signature, format, blog).
    #[error("the signed header: {0}")]
    Header(#[from] ManifestError),
    /// The header was signed by a key the writer declared lost or stolen.
    #[error("the header was signed by a key its writer declared lost")]
    LostKey,
    /// The settings are not those the header hashes, or do not bind the blog to the author.
    #[error("the settings {0}")]
    Settings(&'static str),
    /// The leaf is not in the signed index.
    #[error("the post's leaf is not proved by the signed header")]
    Proof,
    /// The leaf says the post is gone.
    #[error("the leaf says the post was unpublished")]
    Gone,
    /// The post document does not load or is not this post.
    #[error("the post document: {0}")]
    Document(#[from] PostDocError),
    /// The document holds more or less than the leaf lists.
    #[error("the post document is not at the heads its leaf lists")]
    Heads,
    /// Over [`MAX_DOCUMENT_BYTES`].
    #[error("a post document of {0} bytes; at most {MAX_DOCUMENT_BYTES}")]
    TooLarge(usize),
    /// Dated (or signed) more than [`MAX_AHEAD_SECS`] ahead.
    #[error("dated in the future")]
    Future,
    /// A header alone signed more than [`HEADER_SECS`] ago.
    #[error("a header signed more than a day ago travels with its posts only")]
    Stale,
}

impl DigestError {
    /// The stable code a refusal of this error is recorded under.
    pub fn code(&self) -> Code {
        match self {
            DigestError::Format(_) => Code::UnsupportedVersion,
            DigestError::Header(_) | DigestError::LostKey | DigestError::Proof => Code::BadSignature,
            DigestError::Settings(_) | DigestError::NoCertificate | DigestError::Certificate(_) => Code::WrongCertificate,
            DigestError::Heads => Code::UncoveredChanges,
            DigestError::TooLarge(_) | DigestError::TooMany(..) => Code::TooLarge,
            _ => Code::Malformed,
        }
    }
}

/// A digest as sent (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// [`DIGEST_FORMAT`].
    pub format: u32,
    /// The digest is the one the asking member named: nothing else is sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub same: bool,
    /// Authors' certificates (binary, base64) by fingerprint (uppercase hex).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub certificates: BTreeMap<String, String>,
    /// The posts, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<DigestItem>,
    /// Newest signed headers of blogs that changed lately, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<DigestHeader>,
}

/// A blog's newest signed header alone: it says which items of the blog are out of date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestHeader {
    /// The blog.
    pub blog_id: BlogId,
    /// The author's fingerprint: the key of their certificate in the digest.
    pub owner: String,
    /// The settings bytes the header hashes, base64 (they bind the blog to the author).
    pub settings: String,
    /// The signed manifest header.
    pub header: SignedStatement,
    /// Hops from the member that holds the blog (0 there).
    pub hops: u32,
}

/// A header that checked out: only [`check_digest`] and [`check_own_header`] make one.
#[derive(Debug)]
pub struct CheckedHeader {
    /// The header as received (its `hops` as the sender had it).
    pub head: DigestHeader,
    /// The author's certificate it was checked with.
    pub certificate: Certificate,
    /// Its manifest `rev`.
    pub rev: u64,
    /// When it was signed (seconds since the Unix epoch).
    pub signed_at: i64,
}

/// One post of a digest, with what proves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestItem {
    /// The blog.
    pub blog_id: BlogId,
    /// The author's fingerprint: the key of their certificate in the digest.
    pub owner: String,
    /// The settings bytes the header hashes, base64.
    pub settings: String,
    /// The signed manifest header.
    pub header: SignedStatement,
    /// The post's leaf and its audit path.
    pub proof: PostProof,
    /// The post document (Automerge saved form), base64.
    pub document: String,
    /// Hops from the member that holds the blog (0 there).
    pub hops: u32,
}

/// A digest item that checked out: only [`check_digest`] and [`own_item`] make one.
#[derive(Debug)]
pub struct CheckedItem {
    /// The item as received (its `hops` as the sender had it).
    pub item: DigestItem,
    /// The author's certificate the item was checked with.
    pub certificate: Certificate,
    /// The header's manifest `rev`.
    pub rev: u64,
    /// The post as the leaf and document give it.
    pub post: Post,
    /// The blog's settings as the header signs them.
    pub settings: SiteSettings,
    key: [u8; 32],
}

impl CheckedItem {
    /// What names this check: the item (without `hops`) and the certificate it was checked
    /// with. The same key means the same result.
    pub fn key(&self) -> [u8; 32] {
        self.key
    }
}

/// Checked items by [`CheckedItem::key`]: the results a spoke keeps between pulls, so an
/// item offered again is not checked again.
pub type Checked = HashMap<[u8; 32], Arc<CheckedItem>>;

fn item_key(item: &DigestItem, cert: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(b"spokes digest item v1\n");
    for part in [item.blog_id.as_str().as_bytes(), cert, item.settings.as_bytes(), item.header.statement.as_bytes(), &item.header.signature, item.proof.leaf.as_bytes(), item.proof.index.to_string().as_bytes(), item.proof.proof.join(",").as_bytes(), item.document.as_bytes()] {
        h.update(&(part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().into()
}

fn b64(field: &str, text: &str) -> Result<Vec<u8>, DigestError> {
    BASE64.decode(text.as_bytes()).map_err(|e| DigestError::Malformed(format!("{field}: {e}")))
}

/// What an item's and a header's checks share: `header` verifies with `cert` for `blog_id`
/// (a version 2 statement), was signed by a key not declared lost, and `settings` (base64)
/// are the bytes it hashes and bind the blog to `cert`. Returns the header, the settings and
/// the signing time.
fn check_signed(blog_id: &BlogId, header: &SignedStatement, settings: &str, cert: &Certificate) -> Result<(manifest::Header, SiteSettings, i64), DigestError> {
    let verified = header.verify_header(cert, blog_id)?;
    if cert.lost_keys().iter().any(|k| k == verified.signer()) {
        return Err(DigestError::LostKey);
    }
    let h = verified.header().clone();
    let settings_bytes = b64("settings", settings)?;
    if settings_bytes.len() > manifest::MAX_SETTINGS_BYTES || spokes_core::merkle::sha256(&settings_bytes) != h.settings_hash {
        return Err(DigestError::Settings("are not those the header signs"));
    }
    let parsed: SiteSettings = serde_json::from_slice(&settings_bytes).map_err(|_| DigestError::Settings("do not parse"))?;
    if !parsed.binds(blog_id, &cert.fingerprint()) {
        return Err(DigestError::Settings("do not bind the blog to its author"));
    }
    Ok((h, parsed, verified.signed_at()))
}

/// Checks one item against `cert` (the author's certificate): [`check_signed`], the leaf's
/// inclusion proof, a post leaf, the document (loaded within an expansion budget) at exactly
/// the listed heads, the date not ahead of `now` (seconds since the Unix epoch) by more than
/// [`MAX_AHEAD_SECS`].
fn check_item(item: DigestItem, cert: &Certificate, cert_bytes: &[u8], now: i64) -> Result<CheckedItem, DigestError> {
    let key = item_key(&item, cert_bytes);
    if item.document.len() > MAX_DOCUMENT_BYTES.div_ceil(3) * 4 {
        return Err(DigestError::TooLarge(item.document.len() / 4 * 3));
    }
    let (header, settings, _) = check_signed(&item.blog_id, &item.header, &item.settings, cert)?;
    if item.proof.proof.len() > MAX_PROOF_LEN {
        return Err(DigestError::Proof);
    }
    let path = item.proof.proof.iter().map(|h| {
        let bytes = hex::decode(h).ok().filter(|b| b.len() == 32).ok_or_else(|| DigestError::Malformed("a hash of the audit path".into()))?;
        let mut a = [0u8; 32];
        a.copy_from_slice(&bytes);
        Ok(a)
    }).collect::<Result<Vec<_>, DigestError>>()?;
    if !header.proves(item.proof.leaf.as_bytes(), item.proof.index, &path) {
        return Err(DigestError::Proof);
    }
    let (post_id, entry) = manifest::parse_leaf(item.proof.leaf.as_bytes())?;
    let Entry::Post(listing) = entry else { return Err(DigestError::Gone) };
    if listing.date.timestamp() > now + MAX_AHEAD_SECS {
        return Err(DigestError::Future);
    }
    let bytes = b64("document", &item.document)?;
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(DigestError::TooLarge(bytes.len()));
    }
    let mut doc = PostDoc::load(&bytes, &item.blog_id, &post_id)?;
    let mut listed = listing.heads.clone();
    listed.sort();
    if doc.heads() != listed {
        return Err(DigestError::Heads);
    }
    let post = doc.post(&post_id, &listing);
    Ok(CheckedItem { item, certificate: cert.clone(), rev: header.rev, post, settings, key })
}

/// Checks a header alone against `cert`: [`check_signed`], and signed neither more than
/// [`MAX_AHEAD_SECS`] ahead of `now` nor more than [`HEADER_SECS`] before it.
fn check_header(head: DigestHeader, cert: &Certificate, now: i64) -> Result<CheckedHeader, DigestError> {
    let (header, _, signed_at) = check_signed(&head.blog_id, &head.header, &head.settings, cert)?;
    if signed_at > now + MAX_AHEAD_SECS {
        return Err(DigestError::Future);
    }
    if signed_at < now - HEADER_SECS {
        return Err(DigestError::Stale);
    }
    Ok(CheckedHeader { head, certificate: cert.clone(), rev: header.rev, signed_at })
}

/// The header alone of a blog this spoke holds: `signed`, its newest verified manifest.
/// `None` when its settings lack an owner.
pub fn own_header(signed: &crate::set::SignedManifest) -> Option<DigestHeader> {
    let m = &signed.manifest;
    let owner = m.site_settings().ok()?.owner;
    Some(DigestHeader { blog_id: m.blog_id.clone(), owner, settings: BASE64.encode(m.settings_bytes()), header: signed.signed.clone(), hops: 0 })
}

/// Checks this spoke's own header (made by [`own_header`]) with its stored certificate.
/// Errors as a received header's: one signed more than [`HEADER_SECS`] ago is
/// [`DigestError::Stale`].
pub fn check_own_header(head: DigestHeader, cert: &Certificate, now: i64) -> Result<Arc<CheckedHeader>, DigestError> {
    check_header(head, cert, now).map(Arc::new)
}

/// The item that offers post `post_id` of a blog this spoke holds, proved by `signed` (a
/// verified manifest of its frontier that lists the post) with the post's `document`; `None`
/// when the manifest does not list the post, or its settings lack an owner.
pub fn own_item(signed: &crate::set::SignedManifest, post_id: &str, document: &[u8]) -> Option<DigestItem> {
    let m = &signed.manifest;
    if !matches!(m.entries().get(post_id), Some(Entry::Post(_))) {
        return None;
    }
    let owner = m.site_settings().ok()?.owner;
    Some(DigestItem {
        blog_id: m.blog_id.clone(),
        owner,
        settings: BASE64.encode(m.settings_bytes()),
        header: signed.signed.clone(),
        proof: m.proof(post_id)?,
        document: BASE64.encode(document),
        hops: 0,
    })
}

/// What checking a received digest found.
#[derive(Debug, Default)]
pub struct Received {
    /// The items that checked out (from `checked` when checked before).
    pub items: Vec<Arc<CheckedItem>>,
    /// The headers alone that checked out.
    pub headers: Vec<Arc<CheckedHeader>>,
    /// Each item or certificate refused: its blog, if known, and why.
    pub refused: Vec<(Option<BlogId>, DigestError)>,
}

/// Checks a received digest: its format and size, each certificate (it must parse and have
/// the fingerprint it is listed under; `known` gives this spoke's own copy, which is merged in
/// so that revocations it knows of count), then each item alone ([`CheckedItem`]). Items in
/// `checked` with the same key are taken as they are. Errors: the whole digest refused
/// ([`DigestError::Format`], [`DigestError::TooMany`]); a bad item is only left out.
pub fn check_digest(digest: Digest, known: &dyn Fn(&str) -> Option<Certificate>, checked: &Checked, now: i64) -> Result<Received, DigestError> {
    if digest.format != DIGEST_FORMAT {
        return Err(DigestError::Format(digest.format));
    }
    if digest.items.len() > MAX_ITEMS {
        return Err(DigestError::TooMany(digest.items.len(), "items"));
    }
    if digest.headers.len() > MAX_ITEMS {
        return Err(DigestError::TooMany(digest.headers.len(), "headers"));
    }
    if digest.certificates.len() > MAX_ITEMS {
        return Err(DigestError::TooMany(digest.certificates.len(), "certificates"));
    }
    let mut out = Received::default();
    let mut certs: HashMap<String, (Certificate, Vec<u8>)> = HashMap::new();
    for (fingerprint, text) in &digest.certificates {
        let parsed = b64("certificate", text).and_then(|b| Certificate::from_bytes(&b).map_err(|e| DigestError::Certificate(e.to_string())));
        match parsed {
            Ok(mut c) if c.fingerprint() == *fingerprint => {
                if let Some(mine) = known(fingerprint) {
                    c.merge(&mine);
                }
                let bytes = c.to_bytes();
                certs.insert(fingerprint.clone(), (c, bytes));
            }
            Ok(_) => out.refused.push((None, DigestError::Certificate(format!("listed under {fingerprint}, which is not its fingerprint")))),
            Err(e) => out.refused.push((None, e)),
        }
    }
    for item in digest.items {
        let blog = item.blog_id.clone();
        let Some((cert, bytes)) = certs.get(&item.owner) else {
            out.refused.push((Some(blog), DigestError::NoCertificate));
            continue;
        };
        if let Some(c) = checked.get(&item_key(&item, bytes)) {
            out.items.push(Arc::new(CheckedItem { item, certificate: c.certificate.clone(), rev: c.rev, post: c.post.clone(), settings: c.settings.clone(), key: c.key }));
            continue;
        }
        match check_item(item, cert, bytes, now) {
            Ok(c) => out.items.push(Arc::new(c)),
            Err(e) => out.refused.push((Some(blog), e)),
        }
    }
    for head in digest.headers {
        let blog = head.blog_id.clone();
        let Some((cert, _)) = certs.get(&head.owner) else {
            out.refused.push((Some(blog), DigestError::NoCertificate));
            continue;
        };
        match check_header(head, cert, now) {
            Ok(c) => out.headers.push(Arc::new(c)),
            // An old header is no offence: it left the window on its way here.
            Err(DigestError::Stale) => {}
            Err(e) => out.refused.push((Some(blog), e)),
        }
    }
    Ok(out)
}

/// Checks this spoke's own item (made by [`own_item`] from a blog it holds and verified) with
/// its stored certificate, through `checked` like a received one.
pub fn check_own(item: DigestItem, cert: &Certificate, checked: &Checked, now: i64) -> Result<Arc<CheckedItem>, DigestError> {
    let bytes = cert.to_bytes();
    if let Some(c) = checked.get(&item_key(&item, &bytes)) {
        return Ok(c.clone());
    }
    check_item(item, cert, &bytes, now).map(Arc::new)
}

/// One candidate for a composed digest: a checked item and the hops it would be sent with.
pub type Candidate = (Arc<CheckedItem>, u32);
/// One candidate header alone, and the hops it would be sent with.
pub type HeaderCandidate = (Arc<CheckedHeader>, u32);

/// What [`compose`] chose.
#[derive(Debug, Default)]
pub struct Composed {
    /// The items, newest first, each with its hops.
    pub items: Vec<Candidate>,
    /// The headers alone, newest first.
    pub headers: Vec<HeaderCandidate>,
}

impl Composed {
    /// The digest to send: the chosen items and headers with their hops, and the authors'
    /// certificates (each merged from every copy the items were checked with).
    pub fn digest(&self) -> Digest {
        let mut certs: BTreeMap<&str, Certificate> = BTreeMap::new();
        let owners = self.headers.iter().map(|(h, _)| (h.head.owner.as_str(), &h.certificate)).chain(self.items.iter().map(|(c, _)| (c.item.owner.as_str(), &c.certificate)));
        for (owner, cert) in owners {
            match certs.get_mut(owner) {
                Some(have) => {
                    have.merge(cert);
                }
                None => {
                    certs.insert(owner, cert.clone());
                }
            }
        }
        Digest {
            format: DIGEST_FORMAT,
            same: false,
            certificates: certs.into_iter().map(|(f, c)| (f.to_owned(), BASE64.encode(&c.to_bytes()))).collect(),
            items: self.items.iter().map(|(c, hops)| DigestItem { hops: *hops, ..c.item.clone() }).collect(),
            headers: self.headers.iter().map(|(h, hops)| DigestHeader { hops: *hops, ..h.head.clone() }).collect(),
        }
    }
}

/// About how many bytes of JSON a certificate adds to a digest.
fn cert_cost(c: &Certificate) -> usize {
    c.to_bytes().len().div_ceil(3) * 4 + 50
}

/// Composes a digest from `candidates` (this spoke's own items at 0 hops, its upstreams'
/// at one more than they had) and `headers` (likewise) by the rules in the module docs.
/// `held` gives, for the blogs this spoke holds, the `rev` of its newest verified manifest.
/// [`Composed::digest`] makes the digest to send.
pub fn compose(candidates: Vec<Candidate>, headers: Vec<HeaderCandidate>, held: &HashMap<BlogId, u64>, now: i64) -> Composed {
    let candidates: Vec<Candidate> = candidates.into_iter().filter(|(c, hops)| *hops <= MAX_HOPS && c.post.date.timestamp() <= now + MAX_AHEAD_SECS).collect();
    let headers: Vec<HeaderCandidate> = headers.into_iter().filter(|(h, hops)| *hops <= MAX_HOPS && h.signed_at >= now - HEADER_SECS && h.signed_at <= now + MAX_AHEAD_SECS).collect();
    let mut newest: HashMap<&BlogId, u64> = held.iter().map(|(b, r)| (b, *r)).collect();
    for rev in candidates.iter().map(|(c, _)| (&c.item.blog_id, c.rev)).chain(headers.iter().map(|(h, _)| (&h.head.blog_id, h.rev))) {
        let r = newest.entry(rev.0).or_insert(0);
        *r = (*r).max(rev.1);
    }
    // One header per blog: the newest, then the fewest hops.
    let mut best_header: HashMap<&BlogId, &HeaderCandidate> = HashMap::new();
    for cand in &headers {
        let slot = best_header.entry(&cand.0.head.blog_id).or_insert(cand);
        if (std::cmp::Reverse(cand.0.rev), cand.1, cand.0.signed_at) < (std::cmp::Reverse(slot.0.rev), slot.1, slot.0.signed_at) {
            *slot = cand;
        }
    }
    let mut heads: Vec<HeaderCandidate> = best_header.into_values().cloned().collect();
    heads.sort_by(|a, b| b.0.signed_at.cmp(&a.0.signed_at).then_with(|| a.0.head.blog_id.as_str().cmp(b.0.head.blog_id.as_str())));
    heads.truncate(MAX_ITEMS);
    // One item per post: the fewest hops (then the smaller key, so every member picks the same).
    let mut best: HashMap<(&BlogId, &str), &Candidate> = HashMap::new();
    for cand in &candidates {
        let (c, hops) = cand;
        if newest.get(&c.item.blog_id).is_some_and(|r| c.rev < *r) {
            continue;
        }
        let slot = best.entry((&c.item.blog_id, c.post.id.as_str())).or_insert(cand);
        if (*hops, c.key) < (slot.1, slot.0.key) {
            *slot = cand;
        }
    }
    let mut chosen: Vec<Candidate> = best.into_values().cloned().collect();
    chosen.sort_by(|a, b| b.0.post.date.cmp(&a.0.post.date).then_with(|| a.0.item.blog_id.as_str().cmp(b.0.item.blog_id.as_str())).then_with(|| a.0.post.id.cmp(&b.0.post.id)));
    // Within MAX_DIGEST_BYTES: each certificate counted once.
    let mut owners: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut size = 64usize;
    for (h, _) in &heads {
        size += h.head.settings.len() + h.head.header.statement.len() + h.head.header.signature.len() * 2 + 128;
        if owners.insert(&h.head.owner) {
            size += cert_cost(&h.certificate);
        }
    }
    let mut kept = Vec::new();
    for (c, hops) in &chosen {
        if kept.len() == MAX_ITEMS {
            break;
        }
        let i = &c.item;
        let cost = i.document.len() + i.settings.len() + i.header.statement.len() + i.header.signature.len() * 2 + i.proof.leaf.len() + i.proof.proof.len() * 67 + 256;
        let cert = if owners.contains(i.owner.as_str()) { 0 } else { cert_cost(&c.certificate) };
        if size + cost + cert > MAX_DIGEST_BYTES {
            continue;
        }
        size += cost + cert;
        owners.insert(&i.owner);
        kept.push((c.clone(), *hops));
    }
    Composed { items: kept, headers: heads }
}

impl Digest {
    /// The digest's name: BLAKE3 of its JSON, lowercase hex (what a member asks with to get
    /// `same` instead of a digest it already holds).
    pub fn name_of(json: &[u8]) -> String {
        blake3::hash(json).to_hex().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::set::SignedManifest;
    use spokes_core::manifest::Manifest;
    use spokes_core::{BlogSettings, Identity};

    struct Blog {
        id: Identity,
        blog: BlogId,
        manifest: Manifest,
        docs: BTreeMap<String, Vec<u8>>,
        /// The signing key to sign with (the newest when `None`).
        device: Option<String>,
    }

    fn date(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
        chrono::DateTime::parse_from_rfc3339(s).unwrap()
    }

    impl Blog {
        fn new(name: &str) -> Blog {
            let id = Identity::generate(name, "pw").unwrap();
            let (blog, salt) = BlogId::bound_to(&id.fingerprint());
            let settings = SiteSettings { blog: BlogSettings { title: format!("{name}'s notes"), ..Default::default() }, spokes: vec![], owner: id.fingerprint(), blog_id_salt: salt };
            let manifest = Manifest::new(blog.clone(), &settings);
            Blog { id, blog, manifest, docs: BTreeMap::new(), device: None }
        }

        /// Publishes (or edits) post `n` and signs a new manifest.
        fn publish(&mut self, n: u32, title: &str, body: &str, when: &str) -> SignedManifest {
            let pid = format!("{n:016x}");
            let mut doc = match self.docs.get(&pid) {
                Some(b) => PostDoc::load(b, &self.blog, &pid).unwrap(),
                None => PostDoc::create(&self.blog, &pid, automerge::ActorId::random()),
            };
            doc.write(&spokes_core::postdoc::PostContent { title: title.into(), body: body.into(), tags: vec![] }, 1).unwrap();
            let heads = doc.heads();
            self.docs.insert(pid.clone(), doc.save());
            let mut m = self.manifest.next_revision();
            m.put_post(&pid, &format!("post-{n}"), date(when), date(when), &heads);
            self.manifest = m;
            self.sign()
        }

        fn sign(&self) -> SignedManifest {
            SignedManifest::sign(self.manifest.clone(), &mut self.id.unlock_device("pw", self.device.as_deref()).unwrap()).unwrap()
        }

        fn item(&self, signed: &SignedManifest, n: u32) -> DigestItem {
            let pid = format!("{n:016x}");
            own_item(signed, &pid, &self.docs[&pid]).unwrap()
        }

        fn digest(&self, items: Vec<DigestItem>) -> Digest {
            Digest { format: 1, same: false, certificates: [(self.id.fingerprint(), BASE64.encode(&self.id.certificate().to_bytes()))].into(), items, headers: vec![] }
        }
    }

    const NOW: i64 = 1_900_000_000;

    fn check(d: Digest) -> Received {
        check_digest(d, &|_| None, &Checked::new(), NOW).unwrap()
    }

    #[test]
    fn an_item_is_checked_alone_and_every_tampered_part_is_refused() {
        let mut b = Blog::new("Ada");
        b.publish(1, "Tide tables", "The spring tide comes twice a month.", "2026-03-01T10:00:00Z");
        let signed = b.publish(2, "Gulls", "Herring gulls nest on the roofs.", "2026-03-02T10:00:00Z");
        let good = b.item(&signed, 1);
        let r = check(b.digest(vec![good.clone(), b.item(&signed, 2)]));
        assert!(r.refused.is_empty(), "{:?}", r.refused);
        assert_eq!(r.items.len(), 2);
        assert_eq!(r.items[0].post.title, "Tide tables");
        assert_eq!(r.items[0].post.body, "The spring tide comes twice a month.");
        assert_eq!(r.items[0].post.slug, "post-1");
        assert_eq!(r.items[0].rev, signed.manifest.rev);
        assert_eq!(r.items[0].settings.blog.title, "Ada's notes");

        // Each part changed by a hostile member: refused with its reason, nothing else lost.
        let other = Blog::new("Mallory");
        let mut tampered: Vec<(&str, DigestItem)> = Vec::new();
        let mut i = good.clone();
        i.document = b.item(&signed, 2).document;
        tampered.push(("another post's document", i));
        let mut i = good.clone();
        i.proof.leaf = i.proof.leaf.replace("post-1", "post-9");
        tampered.push(("a changed leaf", i));
        let mut i = good.clone();
        i.proof.index += 1;
        tampered.push(("another index", i));
        let mut i = good.clone();
        i.header.signature[20] ^= 1;
        tampered.push(("a broken signature", i));
        let mut i = good.clone();
        i.settings = BASE64.encode(br#"{"title":"Mallory's","owner":"X"}"#);
        tampered.push(("other settings", i));
        let mut i = good.clone();
        i.owner = other.id.fingerprint();
        tampered.push(("an owner the digest lacks", i));
        let mut i = good.clone();
        i.document = "***".into();
        tampered.push(("bad base64", i));
        let mut i = good.clone();
        i.proof.proof = vec!["00".repeat(32); 65];
        tampered.push(("an endless audit path", i));
        let mut i = good.clone();
        i.document = BASE64.encode(&vec![0u8; MAX_DOCUMENT_BYTES + 1]);
        tampered.push(("a document over the limit", i));
        // The document with an edit the writer never signed.
        let pid = format!("{:016x}", 1);
        let mut d = PostDoc::load(&b.docs[&pid], &b.blog, &pid).unwrap();
        d.write(&spokes_core::postdoc::PostContent { title: "Tide tables".into(), body: "Send coins to Mallory.".into(), tags: vec![] }, 2).unwrap();
        let mut i = good.clone();
        i.document = BASE64.encode(&d.save());
        tampered.push(("an unsigned edit", i));
        for (what, item) in tampered {
            let r = check(b.digest(vec![item, b.item(&signed, 2)]));
            assert_eq!(r.items.len(), 1, "{what}: taken");
            assert_eq!(r.items[0].post.title, "Gulls", "{what}");
            assert_eq!(r.refused.len(), 1, "{what}: {:?}", r.refused);
            eprintln!("{what}: {}", r.refused[0].1);
        }

        // A certificate listed under another fingerprint proves nothing.
        let mut d = b.digest(vec![good.clone()]);
        d.certificates = [(b.id.fingerprint(), BASE64.encode(&other.id.certificate().to_bytes()))].into();
        let r = check(d);
        assert!(r.items.is_empty());
        assert_eq!(r.refused.len(), 2);

        // A post dated ahead of the clock waits.
        let mut later = Blog::new("Bea");
        let s = later.publish(1, "Tomorrow", "Not yet.", "2031-01-01T00:00:00Z");
        let r = check(later.digest(vec![later.item(&s, 1)]));
        assert!(matches!(r.refused[0].1, DigestError::Future));

        // The whole digest: an unknown format, or too many items.
        assert!(matches!(check_digest(Digest { format: 2, ..Default::default() }, &|_| None, &Checked::new(), NOW), Err(DigestError::Format(2))));
        let many = b.digest(vec![good.clone(); MAX_ITEMS + 1]);
        assert!(matches!(check_digest(many, &|_| None, &Checked::new(), NOW), Err(DigestError::TooMany(..))));
    }

    #[test]
    fn a_header_signed_by_a_key_declared_lost_proves_nothing_once_the_revocation_is_known() {
        let b = Blog::new("Ada");
        let (laptop, fpr) = b.id.add_device("pw", "laptop").unwrap();
        let mut b = Blog { id: laptop.clone(), device: Some(fpr.clone()), ..b };
        let signed = b.publish(1, "From the laptop", "Written on the train.", "2026-03-01T10:00:00Z");
        let item = b.item(&signed, 1);
        assert_eq!(check(b.digest(vec![item.clone()])).items.len(), 1);
        spokes_core::identity::wait_until_after(chrono::Utc::now().timestamp());
        // The writer declares the laptop lost; a member that knows it refuses the item even
        // when the digest carries the older certificate.
        let revoked = laptop.revoke_device_lost("pw", &fpr, "stolen").unwrap().certificate();
        let r = check_digest(b.digest(vec![item]), &|_| Some(revoked.clone()), &Checked::new(), NOW).unwrap();
        assert!(r.items.is_empty());
        assert!(r.refused.iter().any(|(_, e)| matches!(e, DigestError::LostKey | DigestError::Header(_))), "{:?}", r.refused);
    }

    #[test]
    fn composing_keeps_the_newest_posts_proved_by_each_blogs_newest_header_and_stops_echoes() {
        let none = || HashMap::new();
        let mut b = Blog::new("Ada");
        let s1 = b.publish(1, "First", "One.", "2026-03-01T10:00:00Z");
        let old_first = check(b.digest(vec![b.item(&s1, 1)])).items.remove(0);
        // Post 2 is published, then post 1 unpublished.
        b.publish(2, "Second", "Two.", "2026-03-02T10:00:00Z");
        let mut m = b.manifest.next_revision();
        m.forget(&format!("{:016x}", 1));
        b.manifest = m;
        let s3 = b.sign();
        let second = check(b.digest(vec![b.item(&s3, 2)])).items.remove(0);
        assert!(own_item(&s3, &format!("{:016x}", 1), &[]).is_none(), "a gone post has no proof of a post leaf");

        // From two upstreams: the old header's first post, and the new header's second post.
        // The first post is not proved by the blog's newest header: it is left out.
        let c = compose(vec![(old_first.clone(), 1), (second.clone(), 2)], vec![], &none(), NOW);
        assert_eq!(c.items.len(), 1);
        assert_eq!(c.items[0].0.post.title, "Second");
        assert_eq!(c.digest().items[0].hops, 2);
        assert_eq!(c.digest().certificates.len(), 1);
        // A member holding the blog at the newest rev drops the old item even alone.
        let held: HashMap<BlogId, u64> = [(b.blog.clone(), s3.manifest.rev)].into();
        assert!(compose(vec![(old_first.clone(), 1)], vec![], &held, NOW).items.is_empty());
        // So does one that was offered only the newest header, alone (signed just now): and it
        // passes the header on, one hop further.
        let now = chrono::Utc::now().timestamp();
        let head = check_own_header(own_header(&s3).unwrap(), &b.id.certificate(), now).unwrap();
        let c = compose(vec![(old_first.clone(), 1)], vec![(head.clone(), 1)], &none(), now);
        assert!(c.items.is_empty());
        assert_eq!(c.digest().headers.len(), 1);
        assert_eq!(c.digest().headers[0].hops, 1);
        let again = check_digest(serde_json::from_slice(&serde_json::to_vec(&c.digest()).unwrap()).unwrap(), &|_| None, &Checked::new(), now).unwrap();
        assert_eq!((again.headers.len(), again.refused.len()), (1, 0));
        assert_eq!(again.headers[0].rev, s3.manifest.rev);
        // A day later the header alone no longer travels.
        assert!(matches!(check_own_header(own_header(&s3).unwrap(), &b.id.certificate(), now + HEADER_SECS + 10), Err(DigestError::Stale)));
        assert!(compose(vec![], vec![(head.clone(), 1)], &none(), now + HEADER_SECS + 10).headers.is_empty());
        // A header signed by another key for this blog proves nothing (it could silence the
        // blog's posts everywhere).
        let mallory = Blog::new("Mallory");
        let forged = SignedManifest::sign(b.manifest.next_revision(), &mut mallory.id.unlock("pw").unwrap()).unwrap();
        let d = Digest { format: 1, same: false, certificates: [(mallory.id.fingerprint(), BASE64.encode(&mallory.id.certificate().to_bytes()))].into(), items: vec![], headers: vec![DigestHeader { owner: mallory.id.fingerprint(), ..own_header(&forged).unwrap() }] };
        let r = check_digest(d, &|_| None, &Checked::new(), now).unwrap();
        assert!(r.headers.is_empty() && r.refused.len() == 1, "{:?}", r.refused);
        // Without a newer header anywhere, the old item travels, but not beyond MAX_HOPS.
        assert_eq!(compose(vec![(old_first.clone(), MAX_HOPS)], vec![], &none(), NOW).items.len(), 1);
        assert!(compose(vec![(old_first.clone(), MAX_HOPS + 1)], vec![], &none(), NOW).items.is_empty());

        // The same post from two upstreams: once, with the fewer hops; the newest first; at
        // most MAX_ITEMS.
        let mut many = Blog::new("Bea");
        let mut cands = vec![(second.clone(), 3), (second.clone(), 1)];
        let mut last = None;
        for n in 0..(MAX_ITEMS as u32 + 5) {
            last = Some(many.publish(n, &format!("Note {n}"), "Short.", &format!("2026-04-{:02}T{:02}:00:00Z", 1 + n / 24, n % 24)));
        }
        // Each proved by the blog's newest header, as its holder offers them.
        let s = last.unwrap();
        for n in 0..(MAX_ITEMS as u32 + 5) {
            cands.push((check(many.digest(vec![many.item(&s, n)])).items.remove(0), 0));
        }

        let c = compose(cands, vec![], &none(), NOW);
        assert_eq!(c.items.len(), MAX_ITEMS);
        assert_eq!(c.items[0].0.post.title, format!("Note {}", MAX_ITEMS + 4));
        assert!(c.items.windows(2).all(|w| w[0].0.post.date >= w[1].0.post.date));
        assert!(!c.items.iter().any(|(c, _)| c.post.title == "Second"), "older than every note");
        // What was composed checks out at the next member, certificates included.
        let json = serde_json::to_vec(&c.digest()).unwrap();
        let again = check(serde_json::from_slice(&json).unwrap());
        assert!(again.refused.is_empty(), "{:?}", again.refused);
        assert_eq!(again.items.len(), MAX_ITEMS);
        let d1 = compose(vec![(second.clone(), 1)], vec![], &none(), NOW).digest();
        let d2 = compose(vec![(second, 1)], vec![], &none(), NOW).digest();
        assert_eq!(Digest::name_of(&serde_json::to_vec(&d1).unwrap()), Digest::name_of(&serde_json::to_vec(&d2).unwrap()), "a name stays while the digest does");
    }
}
