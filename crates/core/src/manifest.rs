//! The blog as a set of documents: a signed manifest over one Automerge document per post
//! (`spokes revision v2`). The format is described, with a worked example, in
//! docs/formats.md ("Signed manifest").
//!
//! # Shape
//!
//! A manifest is the blog's settings (title, description, language, handle, chosen spokes:
//! JSON bytes) and an index with one *leaf* per post:
//!
//! ```text
//! post <post id> <rev> <date> <updated> <slug> <head> [<head> …]
//! gone <post id> <rev>
//! ```
//!
//! A `post` leaf lists a published post: its permalink name, its dates (RFC 3339) and the heads
//! of its post document ([`crate::postdoc`]). A `gone` leaf says that the post was unpublished
//! or deleted; it carries no words, and honest peers delete the post's document when they see
//! it. `rev` is a Lamport counter: a new manifest's `rev` is one more than the highest it
//! merged, and a leaf's `rev` is the manifest `rev` at which the leaf last changed.
//!
//! The signed bytes (the *header*, the statement of version 2) cover everything through two
//! hashes: the SHA-256 of the settings bytes and the RFC 9162 Merkle root ([`crate::merkle`])
//! over the leaves sorted by post ID. One post is checked alone with the header, its leaf
//! and an inclusion proof of about log2(posts) hashes ([`Header::proves`]).
//!
//! ```text
//! spokes revision v2
//! blog: <blog ID, 32 lowercase hex>
//! rev: <manifest rev, decimal>
//! settings: <settings rev, decimal> <SHA-256 of the settings bytes, 64 lowercase hex>
//! leaves: <number of leaves, decimal>
//! root: <Merkle root over the leaves, 64 lowercase hex>
//! ```
//!
//! # Concurrent manifests
//!
//! Two of the writer's computers may publish at once. Manifests then merge leaf by leaf
//! ([`merge`]): the higher `rev` wins; at equal `rev` a `gone` leaf wins; two `post` leaves of
//! equal `rev` keep both sets of heads (the post document holds both edits, merged by
//! Automerge). The settings with the higher settings rev win. Forgetting therefore wins over a
//! concurrent edit, and a computer that comes back after a year cannot bring a removed post
//! back by accident: its leaves are older.

use crate::doc::{BlogId, BlogSettings, SpokeRef, is_slug};
use crate::identity::Certificate;
use crate::merkle::{self, Hash};
use crate::statement::{SignedStatement, StatementError, verify_detached};
use automerge::ChangeHash;
use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::{Deserialize, Serialize};
use imbl::OrdMap;
use imbl::ordmap::DiffItem;
use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::Arc;

/// The first line of every version 2 statement (a manifest header).
pub const HEADER_TAG: &str = "spokes revision v2";

/// Most leaves one manifest may hold (posts, published or gone). A blog of 10,000 posts is a
/// tenth of it; the spoke's allowance is usually lower.
pub const MAX_LEAVES: usize = 100_000;

/// Most heads one post leaf may list (computers that edited the post at once).
pub const MAX_HEADS: usize = 64;

/// Most bytes of the settings JSON.
pub const MAX_SETTINGS_BYTES: usize = 64 * 1024;

/// Highest `rev` accepted: 2^53, so that a rev is exact in every JSON reader.
pub const MAX_REV: u64 = 1 << 53;

/// Errors of manifests and their headers.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The header, a leaf or the settings do not follow the format.
    #[error("malformed manifest: {0}")]
    Malformed(String),
    /// The header names another tag or version.
    #[error("unknown statement version (first line `{0}`)")]
    UnknownVersion(String),
    /// The leaves or the settings do not hash to what the header says.
    #[error("the manifest does not match its signed header: {0}")]
    Mismatch(&'static str),
    /// More leaves, heads or settings bytes than the limits allow.
    #[error("the manifest is too large: {0}")]
    TooLarge(String),
    /// The header is for another blog.
    #[error("the manifest is for blog {found}, not {expected}")]
    WrongBlog {
        /// Blog ID expected.
        expected: String,
        /// Blog ID in the header.
        found: String,
    },
    /// The signature check failed.
    #[error(transparent)]
    Signature(#[from] StatementError),
}

/// The settings a manifest covers, as JSON bytes: `{"title","description","language",
/// "handle","spokes":[…],"owner","blog_id_salt"}` (the [`BlogSettings`] fields, the chosen
/// spokes, and what binds the blog ID to its owner). The bytes are hashed as they are sent;
/// any JSON with these fields is accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteSettings {
    /// Title, description, language and handle.
    #[serde(flatten)]
    pub blog: BlogSettings,
    /// The spokes the writer chose.
    #[serde(default)]
    pub spokes: Vec<SpokeRef>,
    /// Fingerprint of the author's certificate (uppercase hex).
    #[serde(default)]
    pub owner: String,
    /// The salt that binds the blog ID to `owner` ([`crate::doc::BlogId::bound_to`]).
    #[serde(default)]
    pub blog_id_salt: String,
}

impl SiteSettings {
    /// Whether these settings name `fingerprint` as the owner and bind `blog_id` to it, as
    /// [`crate::doc::check_identity`] does for a schema 1 document: a manifest whose settings
    /// fail this is refused, so nobody can take another writer's blog ID.
    pub fn binds(&self, blog_id: &BlogId, fingerprint: &str) -> bool {
        self.owner == fingerprint && blog_id.is_bound_to(fingerprint, &self.blog_id_salt)
    }
}

/// A published post as the index lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// The manifest rev at which this listing last changed.
    pub rev: u64,
    /// Publication date shown to readers.
    pub date: DateTime<FixedOffset>,
    /// Last time the writer changed the post.
    pub updated: DateTime<FixedOffset>,
    /// The permalink name ([`is_slug`]).
    pub slug: String,
    /// Heads of the post's document, sorted and unique, 1 to [`MAX_HEADS`].
    pub heads: Vec<ChangeHash>,
}

/// One leaf of the index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A published post.
    Post(Listing),
    /// A post that was unpublished or deleted at `rev`: no words, only the ID.
    Gone {
        /// The manifest rev at which the post went.
        rev: u64,
    },
}

impl Entry {
    /// The rev at which this leaf last changed.
    pub fn rev(&self) -> u64 {
        match self {
            Entry::Post(l) => l.rev,
            Entry::Gone { rev } => *rev,
        }
    }
}

/// Whether `id` is a post ID: 16 to 64 lowercase hex characters (new posts have 16).
pub fn is_post_id(id: &str) -> bool {
    (16..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn date_text(d: &DateTime<FixedOffset>) -> String {
    d.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn parse_date(s: &str) -> Result<DateTime<FixedOffset>, ManifestError> {
    let d = DateTime::parse_from_rfc3339(s).map_err(|e| ManifestError::Malformed(format!("date `{}`: {e}", s.chars().take(40).collect::<String>())))?;
    if date_text(&d) != s {
        return Err(ManifestError::Malformed("a date is not in its one written form".into()));
    }
    Ok(d)
}

fn parse_rev(s: &str) -> Result<u64, ManifestError> {
    let rev: u64 = s.parse().map_err(|_| ManifestError::Malformed("a rev is not a decimal number".into()))?;
    if rev.to_string() != s || rev > MAX_REV {
        return Err(ManifestError::Malformed("a rev is not in its one written form or too high".into()));
    }
    Ok(rev)
}

fn parse_hash(s: &str) -> Result<ChangeHash, ManifestError> {
    if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(ManifestError::Malformed("a hash is not 64 lowercase hex characters".into()));
    }
    ChangeHash::from_str(s).map_err(|_| ManifestError::Malformed("bad hash".into()))
}

fn parse_sha(s: &str) -> Result<Hash, ManifestError> {
    Ok(parse_hash(s)?.0)
}

/// The bytes of the leaf for post `id` (see the module docs).
pub fn leaf_bytes(id: &str, entry: &Entry) -> Vec<u8> {
    match entry {
        Entry::Post(l) => {
            let mut s = format!("post {id} {} {} {} {}", l.rev, date_text(&l.date), date_text(&l.updated), l.slug);
            for h in &l.heads {
                s.push(' ');
                s.push_str(&h.to_string());
            }
            s.into_bytes()
        }
        Entry::Gone { rev } => format!("gone {id} {rev}").into_bytes(),
    }
}

/// Parses one leaf, strictly: one leaf has one byte form.
pub fn parse_leaf(bytes: &[u8]) -> Result<(String, Entry), ManifestError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ManifestError::Malformed("a leaf is not UTF-8".into()))?;
    let f: Vec<&str> = text.split(' ').collect();
    let id = *f.get(1).ok_or_else(|| ManifestError::Malformed("a leaf without a post ID".into()))?;
    if !is_post_id(id) {
        return Err(ManifestError::Malformed("a leaf's post ID is not 16 to 64 lowercase hex characters".into()));
    }
    let entry = match (f[0], f.len()) {
        ("gone", 3) => Entry::Gone { rev: parse_rev(f[2])? },
        ("post", n) if n >= 7 => {
            if n - 6 > MAX_HEADS {
                return Err(ManifestError::TooLarge(format!("a post lists {} heads; at most {MAX_HEADS}", n - 6)));
            }
            if !is_slug(f[5]) {
                return Err(ManifestError::Malformed("a leaf's slug is not a slug".into()));
            }
            let heads = f[6..].iter().map(|h| parse_hash(h)).collect::<Result<Vec<_>, _>>()?;
            if heads.windows(2).any(|w| w[0] >= w[1]) {
                return Err(ManifestError::Malformed("a leaf's heads are not sorted and unique".into()));
            }
            Entry::Post(Listing { rev: parse_rev(f[2])?, date: parse_date(f[3])?, updated: parse_date(f[4])?, slug: f[5].to_owned(), heads })
        }
        _ => return Err(ManifestError::Malformed(format!("unknown leaf `{}`", text.chars().take(60).collect::<String>()))),
    };
    Ok((id.to_owned(), entry))
}

/// The signed part of a manifest: the statement of version 2 (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The blog.
    pub blog_id: BlogId,
    /// The manifest's rev.
    pub rev: u64,
    /// The rev at which the settings last changed.
    pub settings_rev: u64,
    /// SHA-256 of the settings bytes.
    pub settings_hash: Hash,
    /// How many leaves the index has.
    pub leaves: usize,
    /// The Merkle root over the leaves, sorted by post ID.
    pub root: Hash,
}

impl Header {
    /// The exact bytes that are signed.
    pub fn to_bytes(&self) -> Vec<u8> {
        format!(
            "{HEADER_TAG}\nblog: {}\nrev: {}\nsettings: {} {}\nleaves: {}\nroot: {}\n",
            self.blog_id,
            self.rev,
            self.settings_rev,
            hex::encode(self.settings_hash),
            self.leaves,
            hex::encode(self.root)
        )
        .into_bytes()
    }

    /// Parses header bytes, strictly.
    pub fn parse(bytes: &[u8]) -> Result<Header, ManifestError> {
        let text = std::str::from_utf8(bytes).map_err(|_| ManifestError::Malformed("not UTF-8".into()))?;
        let body = text.strip_suffix('\n').ok_or_else(|| ManifestError::Malformed("no final newline".into()))?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.first() != Some(&HEADER_TAG) {
            return Err(ManifestError::UnknownVersion(lines.first().unwrap_or(&"").chars().take(60).collect()));
        }
        if lines.len() != 6 {
            return Err(ManifestError::Malformed(format!("{} lines; a header has 6", lines.len())));
        }
        let field = |i: usize, key: &str| lines[i].strip_prefix(key).ok_or_else(|| ManifestError::Malformed(format!("line {} is not `{}…`", i + 1, key.trim_end())));
        let blog_id = BlogId::from_str(field(1, "blog: ")?).map_err(|e| ManifestError::Malformed(e.to_string()))?;
        let rev = parse_rev(field(2, "rev: ")?)?;
        let (srev, shash) = field(3, "settings: ")?.split_once(' ').ok_or_else(|| ManifestError::Malformed("`settings:` needs a rev and a hash".into()))?;
        let leaves_text = field(4, "leaves: ")?;
        let leaves: usize = leaves_text.parse().map_err(|_| ManifestError::Malformed("`leaves:` is not a number".into()))?;
        if leaves.to_string() != leaves_text {
            return Err(ManifestError::Malformed("`leaves:` is not in its one written form".into()));
        }
        if leaves > MAX_LEAVES {
            return Err(ManifestError::TooLarge(format!("{leaves} leaves; at most {MAX_LEAVES}")));
        }
        let header = Header { blog_id, rev, settings_rev: parse_rev(srev)?, settings_hash: parse_sha(shash)?, leaves, root: parse_sha(field(5, "root: ")?)? };
        if header.settings_rev > header.rev {
            return Err(ManifestError::Malformed("the settings are newer than the manifest".into()));
        }
        Ok(header)
    }

    /// Whether `leaf` (its bytes) is leaf number `index` of the index this header signs, by
    /// the inclusion proof `proof`: one post checked without the others.
    pub fn proves(&self, leaf: &[u8], index: usize, proof: &[Hash]) -> bool {
        merkle::verify_inclusion(&merkle::leaf_hash(leaf), index, self.leaves, proof, &self.root)
    }
}

/// A header whose signature checked out: only [`SignedStatement::verify_header`] makes one.
///
/// ```compile_fail
/// use spokes_core::manifest::{Header, VerifiedHeader};
/// fn forge(header: Header) -> VerifiedHeader {
///     VerifiedHeader { header, signer: "A".repeat(40), signed_at: 0 }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedHeader {
    header: Header,
    signer: String,
    signed_at: i64,
}

impl VerifiedHeader {
    /// The parsed header.
    pub fn header(&self) -> &Header {
        &self.header
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

impl SignedStatement {
    /// Checks a version 2 statement (a manifest header): parses it strictly, checks that it is
    /// for `blog_id`, and checks the signature against `cert` as [`SignedStatement::verify`]
    /// does for version 1.
    pub fn verify_header(&self, cert: &Certificate, blog_id: &BlogId) -> Result<VerifiedHeader, ManifestError> {
        let header = Header::parse(self.statement.as_bytes())?;
        if &header.blog_id != blog_id {
            return Err(ManifestError::WrongBlog { expected: blog_id.to_string(), found: header.blog_id.to_string() });
        }
        let (signer, signed_at) = verify_detached(cert, &self.signature, self.statement.as_bytes())?;
        Ok(VerifiedHeader { header, signer, signed_at })
    }
}

/// A manifest: settings and the index (see the module docs).
///
/// The index is read with [`Manifest::entries`] and changed only through the methods here, so
/// that each leaf's bytes and hash are made once, when the leaf changes: a manifest of
/// thousands of posts is hashed, stored and sent again after one edit without writing
/// thousands of leaves out again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The blog.
    pub blog_id: BlogId,
    /// This manifest's rev.
    pub rev: u64,
    /// The rev at which the settings last changed.
    pub settings_rev: u64,
    /// The settings JSON, as signed.
    pub settings: Vec<u8>,
    /// The index: post ID to leaf. A persistent B-tree (`imbl`): a copy shares every node
    /// with the original until one changes, so the next manifest after one edit costs one
    /// path of the tree, and comparing two related manifests visits only what differs.
    entries: OrdMap<String, Entry>,
    /// Each entry's leaf bytes and leaf hash; the same keys as `entries`.
    leaves: OrdMap<String, Leaf>,
    /// The Merkle root over the leaves, once computed or checked; emptied whenever a leaf
    /// changes ([`Manifest::put_leaf`]).
    root: RootCache,
}

/// A computed Merkle root, kept with its manifest. Two manifests compare equal whatever their
/// caches hold.
#[derive(Clone, Debug, Default)]
struct RootCache(std::sync::OnceLock<Hash>);

impl PartialEq for RootCache {
    fn eq(&self, _: &RootCache) -> bool {
        true
    }
}

impl Eq for RootCache {}

/// One leaf's bytes ([`leaf_bytes`]) and its RFC 9162 leaf hash; shared between copies.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Leaf {
    bytes: Arc<[u8]>,
    hash: Hash,
}

impl Leaf {
    fn of(bytes: Vec<u8>) -> Leaf {
        let hash = merkle::leaf_hash(&bytes);
        Leaf { bytes: bytes.into(), hash }
    }
}

/// What an inclusion proof of one post carries (JSON `{"index","leaf","proof":[hex…]}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostProof {
    /// The leaf's place in the sorted index.
    pub index: usize,
    /// The leaf's bytes (UTF-8 text).
    pub leaf: String,
    /// The audit path, leaf to root, each hash as 64 lowercase hex.
    pub proof: Vec<String>,
}

impl Manifest {
    /// An empty manifest at rev 0 with `settings`.
    pub fn new(blog_id: BlogId, settings: &SiteSettings) -> Manifest {
        Manifest { blog_id, rev: 0, settings_rev: 0, settings: settings_bytes(settings), entries: OrdMap::new(), leaves: OrdMap::new(), root: RootCache::default() }
    }

    /// The index: post ID to leaf, sorted by post ID.
    pub fn entries(&self) -> &OrdMap<String, Entry> {
        &self.entries
    }

    /// Sets post `id`'s leaf as given (its own rev included). For tests and tools that build
    /// a manifest leaf by leaf; a writer uses [`Manifest::put_post`] and [`Manifest::forget`].
    pub fn insert(&mut self, id: &str, entry: Entry) {
        self.put_leaf(id.to_owned(), Leaf::of(leaf_bytes(id, &entry)));
        self.entries.insert(id.to_owned(), entry);
    }

    /// The next manifest to sign after this one: the same content at `rev + 1`. Leaves and
    /// settings changed on it take that rev ([`Manifest::put_post`], [`Manifest::forget`],
    /// [`Manifest::set_settings`]).
    pub fn next_revision(&self) -> Manifest {
        Manifest { rev: self.rev + 1, ..self.clone() }
    }

    /// Lists post `id` (published) with this manifest's rev; leaves it as it is when the
    /// listing is already the same.
    pub fn put_post(&mut self, id: &str, slug: &str, date: DateTime<FixedOffset>, updated: DateTime<FixedOffset>, heads: &[ChangeHash]) {
        let mut heads = heads.to_vec();
        heads.sort();
        heads.dedup();
        if let Some(Entry::Post(l)) = self.entries.get(id)
            && l.slug == slug
            && l.date == date
            && l.updated == updated
            && l.heads == heads
        {
            return;
        }
        self.insert(id, Entry::Post(Listing { rev: self.rev, date, updated, slug: slug.to_owned(), heads }));
    }

    /// Marks post `id` gone (unpublished or deleted) at this manifest's rev, if it was listed.
    pub fn forget(&mut self, id: &str) {
        if matches!(self.entries.get(id), Some(Entry::Post(_))) {
            self.insert(id, Entry::Gone { rev: self.rev });
        }
    }

    /// Replaces the settings, at this manifest's rev, when they differ.
    pub fn set_settings(&mut self, settings: &SiteSettings) {
        let bytes = settings_bytes(settings);
        if bytes != self.settings {
            self.settings = bytes;
            self.settings_rev = self.rev;
        }
    }

    /// The settings as the header hashes them (JSON bytes, at most [`MAX_SETTINGS_BYTES`]).
    pub fn settings_bytes(&self) -> &[u8] {
        &self.settings
    }

    /// The settings, parsed. Error: [`ManifestError::Malformed`].
    pub fn site_settings(&self) -> Result<SiteSettings, ManifestError> {
        serde_json::from_slice(&self.settings).map_err(|e| ManifestError::Malformed(format!("settings: {e}")))
    }

    /// The published posts' listings, by post ID.
    pub fn posts(&self) -> impl Iterator<Item = (&String, &Listing)> {
        self.entries.iter().filter_map(|(id, e)| match e {
            Entry::Post(l) => Some((id, l)),
            Entry::Gone { .. } => None,
        })
    }

    /// The leaves' bytes, sorted by post ID.
    pub fn leaves(&self) -> Vec<Vec<u8>> {
        self.leaves.values().map(|l| l.bytes.to_vec()).collect()
    }

    /// Post `id`'s leaf bytes, if the index has it.
    pub fn leaf(&self, id: &str) -> Option<&[u8]> {
        self.leaves.get(id).map(|l| &*l.bytes)
    }

    /// The leaves' bytes as text, sorted by post ID (leaves are ASCII but for slugs, which
    /// are UTF-8): their stored and wire form.
    pub fn leaf_texts(&self) -> Vec<String> {
        self.leaves.values().map(|l| String::from_utf8_lossy(&l.bytes).into_owned()).collect()
    }

    fn leaf_hashes(&self) -> Vec<Hash> {
        self.leaves.values().map(|l| l.hash).collect()
    }

    /// Sets post `id`'s leaf; the root is computed again when next asked for.
    fn put_leaf(&mut self, id: String, leaf: Leaf) {
        self.leaves.insert(id, leaf);
        self.root = RootCache::default();
    }

    /// The Merkle root over the leaves (computed once per set of leaves).
    fn root(&self) -> Hash {
        *self.root.0.get_or_init(|| merkle::root(&self.leaf_hashes()))
    }

    /// The header to sign for this manifest.
    pub fn header(&self) -> Header {
        Header { blog_id: self.blog_id.clone(), rev: self.rev, settings_rev: self.settings_rev, settings_hash: merkle::sha256(&self.settings), leaves: self.leaves.len(), root: self.root() }
    }

    /// The inclusion proof of post `id`'s leaf, if the index has it.
    pub fn proof(&self, id: &str) -> Option<PostProof> {
        let index = self.entries.keys().position(|k| k == id)?;
        let leaf = String::from_utf8(self.leaf(id)?.to_vec()).ok()?;
        Some(PostProof { index, leaf, proof: merkle::inclusion_proof(&self.leaf_hashes(), index).iter().map(hex::encode).collect() })
    }

    /// Rebuilds the manifest that `header` signs from its settings bytes and leaves (in any
    /// order), checking the count, the order, the settings hash and the root.
    ///
    /// Errors: [`ManifestError::Malformed`] (a bad leaf, the same post twice),
    /// [`ManifestError::TooLarge`], [`ManifestError::Mismatch`].
    pub fn from_parts(header: &Header, settings: Vec<u8>, leaves: &[Vec<u8>]) -> Result<Manifest, ManifestError> {
        if leaves.len() != header.leaves {
            return Err(ManifestError::Mismatch("the number of leaves"));
        }
        let mut m = Manifest { blog_id: header.blog_id.clone(), rev: header.rev, settings_rev: header.settings_rev, settings: Vec::new(), entries: OrdMap::new(), leaves: OrdMap::new(), root: RootCache::default() };
        for leaf in leaves {
            if m.take_leaf(header, leaf)? {
                return Err(ManifestError::Malformed("the same post has two leaves".into()));
            }
        }
        m.finish(header, settings)
    }

    /// [`Manifest::from_parts`] for a manifest sent as a difference from `base`: `base`'s
    /// leaves with `changed` (in any order) added or put in their place. Only the changed
    /// leaves are parsed and hashed. Errors as [`Manifest::from_parts`].
    pub fn from_base(header: &Header, settings: Vec<u8>, base: &Manifest, changed: &[Vec<u8>]) -> Result<Manifest, ManifestError> {
        if changed.len() > header.leaves {
            return Err(ManifestError::Mismatch("the number of leaves"));
        }
        let mut m = Manifest { blog_id: header.blog_id.clone(), rev: header.rev, settings_rev: header.settings_rev, settings: Vec::new(), entries: base.entries.clone(), leaves: base.leaves.clone(), root: RootCache::default() };
        for leaf in changed {
            m.take_leaf(header, leaf)?;
        }
        if m.entries.len() != header.leaves {
            return Err(ManifestError::Mismatch("the number of leaves"));
        }
        // Each changed leaf was checked against `header` as it was taken, and every leaf of
        // `base` is at most its rev (it was checked so): only a base newer than the header
        // can have left a newer leaf in place.
        if base.rev > header.rev && m.entries.values().any(|e| e.rev() > header.rev) {
            return Err(ManifestError::Malformed("a leaf is newer than its manifest".into()));
        }
        m.finish(header, settings)
    }

    /// Parses one received leaf into the index; whether it replaced one.
    fn take_leaf(&mut self, header: &Header, leaf: &[u8]) -> Result<bool, ManifestError> {
        let (id, entry) = parse_leaf(leaf)?;
        if entry.rev() > header.rev {
            return Err(ManifestError::Malformed("a leaf is newer than its manifest".into()));
        }
        // The parse is strict (one leaf has one byte form), so these are its bytes.
        self.put_leaf(id.clone(), Leaf::of(leaf.to_vec()));
        Ok(self.entries.insert(id, entry).is_some())
    }

    /// Checks the settings and the root against `header`.
    fn finish(mut self, header: &Header, settings: Vec<u8>) -> Result<Manifest, ManifestError> {
        if settings.len() > MAX_SETTINGS_BYTES {
            return Err(ManifestError::TooLarge(format!("settings of {} bytes; at most {MAX_SETTINGS_BYTES}", settings.len())));
        }
        if merkle::sha256(&settings) != header.settings_hash {
            return Err(ManifestError::Mismatch("the settings"));
        }
        self.settings = settings;
        if self.root() != header.root {
            return Err(ManifestError::Mismatch("the Merkle root"));
        }
        Ok(self)
    }

    /// The post IDs whose leaves differ between `self` and `other` (added, changed or gone).
    /// Visits only the parts of the two indexes that are not shared (a manifest and the one
    /// made from it cost what changed between them).
    pub fn changed_since(&self, other: &Manifest) -> BTreeSet<String> {
        other.entries.diff(&self.entries).map(|d| diff_key(&d).clone()).collect()
    }

    /// The post IDs that `self` lists and `base` does not, or lists with another leaf (the
    /// leaves a difference from `base` carries). Visits only what the two do not share.
    pub fn added_or_changed_since(&self, base: &Manifest) -> Vec<String> {
        base.entries.diff(&self.entries).filter_map(|d| match d {
            DiffItem::Add(id, _) | DiffItem::Update { new: (id, _), .. } => Some(id.clone()),
            DiffItem::Remove(..) => None,
        }).collect()
    }

    /// Whether every post `other` lists is listed here too (at any leaf).
    pub fn lists_all_of(&self, other: &Manifest) -> bool {
        !other.entries.diff(&self.entries).any(|d| matches!(d, DiffItem::Remove(..)))
    }

    /// Whether this manifest makes `other` redundant: its settings are at least as new and,
    /// for every leaf of `other`, it has that post gone at a rev at least as high, or listed at
    /// a rev at least as high with heads whose history holds `other`'s heads.
    /// `contains(post ID, newer, older)` answers the last question from the post's document.
    pub fn supersedes(&self, other: &Manifest, mut contains: impl FnMut(&str, &[ChangeHash], &[ChangeHash]) -> bool) -> bool {
        if self.settings_rev < other.settings_rev || (self.settings_rev == other.settings_rev && self.settings != other.settings) {
            return false;
        }
        // A leaf both list the same way is covered; only the others are looked at.
        other.entries.diff(&self.entries).all(|d| match d {
            DiffItem::Add(..) => true,
            DiffItem::Remove(..) => false,
            DiffItem::Update { old: (id, theirs), new: (_, mine) } => match (mine, theirs) {
                (Entry::Gone { rev }, t) => *rev >= t.rev(),
                (Entry::Post(_), Entry::Gone { .. }) => false,
                (Entry::Post(mine), Entry::Post(t)) => mine.rev >= t.rev && (mine.heads == t.heads || contains(id, &mine.heads, &t.heads)),
            },
        })
    }
}

/// The post ID a difference between two indexes is about.
fn diff_key<'a>(d: &DiffItem<'a, 'a, String, Entry>) -> &'a String {
    match d {
        DiffItem::Add(id, _) | DiffItem::Remove(id, _) | DiffItem::Update { new: (id, _), .. } => id,
    }
}

/// The settings bytes of `settings`.
pub fn settings_bytes(settings: &SiteSettings) -> Vec<u8> {
    serde_json::to_vec(settings).unwrap_or_default()
}

/// Merges manifests leaf by leaf (see the module docs): the view a spoke serves when it holds
/// more than one, and what a computer publishes on top of. The result's rev is the highest
/// rev; `None` when `manifests` is empty.
pub fn merge<'a>(manifests: impl IntoIterator<Item = &'a Manifest>) -> Option<Manifest> {
    let mut it = manifests.into_iter();
    let mut out = it.next()?.clone();
    for m in it {
        out.rev = out.rev.max(m.rev);
        if (m.settings_rev, &m.settings) > (out.settings_rev, &out.settings) {
            out.settings_rev = m.settings_rev;
            out.settings = m.settings.clone();
        }
        // Only where the two differ (a post only `out` lists stays as it is).
        let differing: Vec<(String, Entry)> = out.entries.diff(&m.entries).filter_map(|d| match d {
            DiffItem::Add(id, e) | DiffItem::Update { new: (id, e), .. } => Some((id.clone(), e.clone())),
            DiffItem::Remove(..) => None,
        }).collect();
        for (id, theirs) in &differing {
            let mine = out.entries.get(id);
            let merged = match (mine, theirs) {
                (None, _) => None,
                (Some(mine), t) if t.rev() != mine.rev() => (t.rev() < mine.rev()).then(|| mine.clone()),
                (Some(Entry::Gone { rev }), _) | (Some(_), Entry::Gone { rev }) => Some(Entry::Gone { rev: *rev }),
                (Some(Entry::Post(mine)), Entry::Post(t)) => {
                    // The same rev on two computers: both edits stay; slug and dates from the
                    // greater leaf, so that every merger picks the same.
                    let (first, second) = if m.leaves[id].bytes > out.leaves[id].bytes { (t, mine) } else { (mine, t) };
                    let heads: BTreeSet<ChangeHash> = first.heads.iter().chain(&second.heads).copied().collect();
                    Some(Entry::Post(Listing { heads: heads.into_iter().take(MAX_HEADS).collect(), ..first.clone() }))
                }
            };
            match merged {
                // Theirs as it is: its leaf is made already.
                None => {
                    out.entries.insert(id.clone(), theirs.clone());
                    out.put_leaf(id.clone(), m.leaves[id].clone());
                }
                Some(e) if out.entries.get(id) == Some(&e) => {}
                Some(e) => out.insert(id, e),
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;

    fn date(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn h(n: u8) -> ChangeHash {
        ChangeHash([n; 32])
    }

    fn blog() -> BlogId {
        BlogId::from_str("408f069d764ab391f4cc7ba0dabf897b").unwrap()
    }

    fn sample() -> Manifest {
        let settings = SiteSettings { blog: BlogSettings { title: "Field notes".into(), language: "en".into(), ..Default::default() }, ..Default::default() };
        let mut m = Manifest::new(blog(), &settings).next_revision();
        m.set_settings(&settings);
        m.put_post("0123456789abcdef", "first-light", date("2026-03-01T08:00:00Z"), date("2026-03-02T09:30:00+01:00"), &[h(1)]);
        m.put_post("fedcba9876543210", "second", date("2026-04-01T08:00:00Z"), date("2026-04-01T08:00:00Z"), &[h(3), h(2)]);
        m
    }

    #[test]
    fn a_manifest_round_trips_through_its_header_and_leaves() {
        let m = sample();
        let header = m.header();
        assert_eq!(Header::parse(&header.to_bytes()).unwrap(), header);
        let back = Manifest::from_parts(&header, m.settings.clone(), &m.leaves()).unwrap();
        assert_eq!(back, m);
        // Leaves in another order are the same manifest.
        let mut leaves = m.leaves();
        leaves.reverse();
        assert_eq!(Manifest::from_parts(&header, m.settings.clone(), &leaves).unwrap(), m);
        assert_eq!(String::from_utf8(m.leaves()[0].clone()).unwrap(), format!("post 0123456789abcdef 1 2026-03-01T08:00:00Z 2026-03-02T09:30:00+01:00 first-light {}", h(1)));
    }

    #[test]
    fn one_post_is_checked_alone_with_its_proof() {
        let mut m = sample();
        for i in 0..40u8 {
            m.put_post(&format!("{i:02x}00000000000000"), &format!("p{i}"), date("2026-01-01T00:00:00Z"), date("2026-01-01T00:00:00Z"), &[h(i)]);
        }
        let header = m.header();
        let p = m.proof("fedcba9876543210").unwrap();
        let path: Vec<Hash> = p.proof.iter().map(|x| hex::decode(x).unwrap().try_into().unwrap()).collect();
        assert!(path.len() <= 6);
        assert!(header.proves(p.leaf.as_bytes(), p.index, &path));
        // An altered leaf (another head) does not pass.
        let forged = p.leaf.replace(&h(3).to_string(), &h(9).to_string());
        assert!(!header.proves(forged.as_bytes(), p.index, &path));
    }

    #[test]
    fn altered_or_hostile_manifests_are_refused_with_a_reason() {
        let m = sample();
        let header = m.header();
        let leaves = m.leaves();
        let refused = |settings: Vec<u8>, leaves: &[Vec<u8>]| Manifest::from_parts(&header, settings, leaves).unwrap_err().to_string();
        assert!(refused(m.settings.clone(), &leaves[..1]).contains("number of leaves"));
        assert!(refused(b"{}".to_vec(), &leaves).contains("settings"));
        let mut other = leaves.clone();
        other[1] = leaf_bytes("fedcba9876543210", &Entry::Gone { rev: 1 });
        assert!(refused(m.settings.clone(), &other).contains("Merkle root"));
        let twice = vec![leaves[0].clone(), leaves[0].clone()];
        assert!(refused(m.settings.clone(), &twice).contains("two leaves"));
        assert!(refused(vec![b' '; MAX_SETTINGS_BYTES + 1], &leaves).contains("too large"));
        // Leaves that break the one-form rule.
        for bad in [
            "post 0123456789abcdef 1 2026-03-01T08:00:00Z 2026-03-01T08:00:00Z ../etc",
            "post 0123456789ABCDEF 1 2026-03-01T08:00:00Z 2026-03-01T08:00:00Z a",
            "post 0123456789abcdef 01 2026-03-01T08:00:00Z 2026-03-01T08:00:00Z a 0101010101010101010101010101010101010101010101010101010101010101",
            "post 0123456789abcdef 1 2026-03-01T08:00:00+00:00 2026-03-01T08:00:00Z a 0101010101010101010101010101010101010101010101010101010101010101",
            "post 0123456789abcdef 1 2026-03-01T08:00:00Z 2026-03-01T08:00:00Z a 0202020202020202020202020202020202020202020202020202020202020202 0101010101010101010101010101010101010101010101010101010101010101",
            "post 0123456789abcdef 1 2026-03-01T08:00:00Z 2026-03-01T08:00:00Z ../x 0101010101010101010101010101010101010101010101010101010101010101",
            "gone 0123456789abcdef 1 extra",
            "gone 0123 1",
            "kept 0123456789abcdef 1",
            "\u{0}",
        ] {
            assert!(parse_leaf(bad.as_bytes()).is_err(), "accepted {bad}");
        }
        let many = format!("post 0123456789abcdef 1 2026-03-01T08:00:00Z 2026-03-01T08:00:00Z a{}", format!(" {}", h(1)).repeat(MAX_HEADS + 1));
        assert!(matches!(parse_leaf(many.as_bytes()), Err(ManifestError::TooLarge(_))));
        // Headers: another version, extra lines, a leaf count beyond the limit, settings newer
        // than the manifest, numbers with leading zeros.
        let text = String::from_utf8(header.to_bytes()).unwrap();
        assert!(matches!(Header::parse(b"spokes revision v3\n"), Err(ManifestError::UnknownVersion(_))));
        assert!(matches!(Header::parse(text.replace("spokes revision v2", "spokes revision v1").as_bytes()), Err(ManifestError::UnknownVersion(_))));
        for bad in [format!("{text}extra: 1\n"), text.replace("leaves: 2", &format!("leaves: {}", MAX_LEAVES + 1)), text.replace("settings: 0", "settings: 2"), text.replace("rev: 1", "rev: 01"), text.trim_end().to_owned()] {
            assert_ne!(bad, text, "the test changed nothing");
            assert!(Header::parse(bad.as_bytes()).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn concurrent_manifests_merge_the_same_way_everywhere_and_forgetting_wins() {
        let base = sample();
        // Computer A edits the first post; computer B, at the same time, removes it and edits
        // the second.
        let mut a = base.next_revision();
        a.put_post("0123456789abcdef", "first-light", date("2026-03-01T08:00:00Z"), date("2026-05-01T00:00:00Z"), &[h(7)]);
        let mut b = base.next_revision();
        b.forget("0123456789abcdef");
        b.put_post("fedcba9876543210", "second", date("2026-04-01T08:00:00Z"), date("2026-05-01T00:00:00Z"), &[h(8)]);
        let ab = merge([&a, &b]).unwrap();
        assert_eq!(ab, merge([&b, &a]).unwrap(), "the order of merging does not matter");
        assert_eq!(ab.entries()["0123456789abcdef"], Entry::Gone { rev: 2 });
        assert!(matches!(&ab.entries()["fedcba9876543210"], Entry::Post(l) if l.heads == vec![h(8)]));
        // Both edit the second post at the same rev: both heads stay.
        let mut a2 = base.next_revision();
        a2.put_post("fedcba9876543210", "second", date("2026-04-01T08:00:00Z"), date("2026-05-01T00:00:00Z"), &[h(9)]);
        let both = merge([&a2, &b]).unwrap();
        assert!(matches!(&both.entries()["fedcba9876543210"], Entry::Post(l) if l.heads == vec![h(8), h(9)]));
        // An old manifest cannot bring the removed post back.
        let later = merge([&ab.next_revision(), &base]).unwrap();
        assert_eq!(later.entries()["0123456789abcdef"], Entry::Gone { rev: 2 });
        // The leaves each merge kept or made are the ones its entries write out.
        for m in [&ab, &both, &later] {
            assert_eq!(m.leaves(), m.entries().iter().map(|(id, e)| leaf_bytes(id, e)).collect::<Vec<_>>());
        }

        // What supersedes what: the merge published on top of both makes each redundant; a
        // manifest does not make a concurrent one redundant.
        let mut top = ab.next_revision();
        top.put_post("fedcba9876543210", "second", date("2026-04-01T08:00:00Z"), date("2026-05-02T00:00:00Z"), &[h(10)]);
        let history = |_: &str, newer: &[ChangeHash], older: &[ChangeHash]| newer == [h(10)] && older.iter().all(|o| [h(2), h(3), h(7), h(8)].contains(o));
        assert!(top.supersedes(&a, history) && top.supersedes(&b, history) && top.supersedes(&base, history));
        assert!(!a.supersedes(&b, history) && !b.supersedes(&a, history));
        assert_eq!(ab.changed_since(&base), ["0123456789abcdef".to_owned(), "fedcba9876543210".to_owned()].into());
    }

    #[test]
    fn a_manifest_sent_as_a_difference_is_rebuilt_from_its_base_and_checked() {
        let base = sample();
        let mut next = base.next_revision();
        next.put_post("0123456789abcdef", "first-light", date("2026-03-01T08:00:00Z"), date("2026-05-01T00:00:00Z"), &[h(7)]);
        next.put_post("00000000000000aa", "third", date("2026-05-01T08:00:00Z"), date("2026-05-01T08:00:00Z"), &[h(9)]);
        let changed: Vec<Vec<u8>> = next.changed_since(&base).iter().map(|id| next.leaf(id).unwrap().to_vec()).collect();
        assert_eq!(changed.len(), 2);
        let header = next.header();
        let rebuilt = Manifest::from_base(&header, next.settings.clone(), &base, &changed).unwrap();
        assert_eq!(rebuilt, next);
        assert_eq!(rebuilt, Manifest::from_parts(&header, next.settings.clone(), &next.leaves()).unwrap());
        // A leaf left out, a leaf altered, a leaf newer than the manifest, a count that does
        // not match: refused.
        let refused = |leaves: &[Vec<u8>], header: &Header| Manifest::from_base(header, next.settings.clone(), &base, leaves).is_err();
        assert!(refused(&changed[..1], &header));
        let altered: Vec<Vec<u8>> = changed.iter().map(|l| String::from_utf8(l.clone()).unwrap().replace("first-light", "first-dark").into_bytes()).collect();
        assert_ne!(altered, changed);
        assert!(refused(&altered, &header));
        assert!(refused(&changed, &Header { rev: 1, ..header.clone() }));
        assert!(refused(&changed, &Header { leaves: 4, ..header.clone() }));
        // A base newer than the manifest, whose newer leaves the difference replaces, is fine.
        let mut newer = next.next_revision();
        newer.put_post("0123456789abcdef", "first-light", date("2026-03-01T08:00:00Z"), date("2026-06-01T00:00:00Z"), &[h(11)]);
        let back: Vec<Vec<u8>> = next.changed_since(&newer).iter().map(|id| next.leaf(id).unwrap().to_vec()).collect();
        assert_eq!(Manifest::from_base(&header, next.settings.clone(), &newer, &back).unwrap(), next);
    }

    /// The salt of the worked example's blog ID.
    const EXAMPLE_SALT: &str = "5a175a175a175a175a175a175a175a17";

    /// The worked example of docs/formats.md, for the author `fingerprint`: two posts made
    /// as an upgrade makes them (so their heads are the same on every run) and one gone.
    fn worked_example(fingerprint: &str) -> Manifest {
        let blog = BlogId::bound_with(fingerprint, EXAMPLE_SALT);
        let settings = SiteSettings {
            blog: BlogSettings { title: "Field notes".into(), description: "Walks and weather.".into(), language: "en".into(), handle: "ada".into(), name: None, domain: None },
            spokes: vec![],
            owner: fingerprint.into(),
            blog_id_salt: EXAMPLE_SALT.into(),
        };
        let mut m = Manifest::new(blog.clone(), &settings).next_revision();
        m.settings_rev = 1;
        for (id, title, body, when) in [("0123456789abcdef", "First light", "The lake froze overnight.", "2026-03-01T08:00:00Z"), ("89abcdef01234567", "Thaw", "Water again by noon.", "2026-03-04T12:30:00+01:00")] {
            let when = date(when);
            let post = crate::doc::Post { id: id.into(), title: title.into(), body: body.into(), slug: crate::doc::slugify(title), tags: vec![], date: when, updated: when, state: crate::doc::PostState::Published };
            let mut d = crate::postdoc::PostDoc::upgraded(&blog, &post).unwrap();
            m.put_post(id, &post.slug, post.date, post.updated, &d.heads());
        }
        let mut next = m.next_revision();
        next.put_post("fedcba9876543210", "mistake", date("2026-03-05T00:00:00Z"), date("2026-03-05T00:00:00Z"), &[h(5)]);
        let mut last = next.next_revision();
        last.forget("fedcba9876543210");
        last
    }

    #[test]
    fn the_worked_example_in_the_docs_is_what_the_code_makes_and_verifies() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/manifest-v2");
        let update = std::env::var_os("UPDATE_EXAMPLES").is_some();
        let mut key = None;
        if update {
            // Signs with a new throwaway key; only its certificate is kept.
            let id = Identity::generate("Ada Example <ada@example.org>", "pw").unwrap();
            key = Some(id.unlock("pw").unwrap());
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("certificate.asc"), id.certificate().to_armored()).unwrap();
        }
        let read = |f: &str| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e} (UPDATE_EXAMPLES=1 writes it)"));
        let cert = crate::identity::Certificate::from_bytes(&read("certificate.asc")).unwrap();
        let m = worked_example(&cert.fingerprint());
        let header = m.header().to_bytes();
        let leaves = m.leaves().iter().map(|l| format!("{}\n", String::from_utf8_lossy(l))).collect::<String>();
        if let Some(key) = &mut key {
            let signed = crate::statement::SignedStatement { statement: String::from_utf8(header.clone()).unwrap(), signature: crate::statement::sign_detached(key, &header).unwrap() };
            std::fs::write(dir.join("header.asc"), signed.armored_signature().unwrap()).unwrap();
            std::fs::write(dir.join("header.txt"), &header).unwrap();
            std::fs::write(dir.join("leaves.txt"), &leaves).unwrap();
            std::fs::write(dir.join("settings.json"), &m.settings).unwrap();
            std::fs::write(dir.join("proof-thaw.json"), serde_json::to_string_pretty(&m.proof("89abcdef01234567")).unwrap() + "\n").unwrap();
        }
        assert_eq!(String::from_utf8(read("header.txt")).unwrap(), String::from_utf8(header.clone()).unwrap());
        assert_eq!(String::from_utf8(read("leaves.txt")).unwrap(), leaves);
        assert_eq!(read("settings.json"), m.settings);
        assert!(m.site_settings().unwrap().binds(&m.blog_id, &cert.fingerprint()));
        let packet = openpgp_dearmor(&read("header.asc"));
        let signed = crate::statement::SignedStatement { statement: String::from_utf8(header).unwrap(), signature: packet };
        assert_eq!(signed.verify_header(&cert, &m.blog_id).unwrap().header(), &m.header());
        // The leaves and settings as written rebuild the manifest the header signs.
        let leaf_list: Vec<Vec<u8>> = leaves.lines().map(|l| l.as_bytes().to_vec()).collect();
        assert_eq!(Manifest::from_parts(&m.header(), m.settings.clone(), &leaf_list).unwrap(), m);
        // The proof of one post, checked against the header alone.
        let proof: PostProof = serde_json::from_slice(&read("proof-thaw.json")).unwrap();
        assert_eq!(Some(&proof), m.proof("89abcdef01234567").as_ref());
        let path: Vec<Hash> = proof.proof.iter().map(|x| hex::decode(x).unwrap().try_into().unwrap()).collect();
        assert!(m.header().proves(proof.leaf.as_bytes(), proof.index, &path));
        // docs/formats.md shows these exact bytes.
        let doc = std::fs::read_to_string(dir.join("../../formats.md")).unwrap();
        for part in [String::from_utf8(read("header.txt")).unwrap(), leaves, String::from_utf8(m.settings.clone()).unwrap(), String::from_utf8(read("proof-thaw.json")).unwrap()] {
            assert!(doc.contains(part.trim_end()), "docs/formats.md does not show:\n{part}");
        }
    }

    fn openpgp_dearmor(armored: &[u8]) -> Vec<u8> {
        use std::io::Read;
        let mut r = sequoia_openpgp::armor::Reader::from_bytes(armored, sequoia_openpgp::armor::ReaderMode::Tolerant(Some(sequoia_openpgp::armor::Kind::Signature)));
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn a_header_is_signed_checked_and_bound_to_its_blog() {
        let id = Identity::generate("Ada", "pw").unwrap();
        let (cert, mut key) = (id.certificate(), id.unlock("pw").unwrap());
        let header = sample().header();
        let signed = crate::statement::SignedStatement { statement: String::from_utf8(header.to_bytes()).unwrap(), signature: crate::statement::sign_detached(&mut key, &header.to_bytes()).unwrap() };
        let v = signed.verify_header(&cert, &blog()).unwrap();
        assert_eq!(v.header(), &header);
        assert!(matches!(signed.verify_header(&cert, &BlogId::from_str("00000000000000000000000000000000").unwrap()), Err(ManifestError::WrongBlog { .. })));
        let mut altered = signed.clone();
        altered.statement = altered.statement.replace("rev: 1", "rev: 2");
        assert!(matches!(altered.verify_header(&cert, &blog()), Err(ManifestError::Signature(StatementError::Invalid))));
        // A version 1 reader refuses a version 2 statement by its version, not as garbage.
        assert!(matches!(signed.verify(&cert, &blog()), Err(StatementError::UnknownVersion(_))));
    }
}
