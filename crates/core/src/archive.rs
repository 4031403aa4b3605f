//! The export archive: a whole blog in one file, to leave Spokes or to move to a new computer.
//!
//! # Layout (version 1)
//!
//! A gzip-compressed tar file (`.tar.gz`), every entry under `spokes-archive/`:
//!
//! | entry | holds |
//! |---|---|
//! | `manifest.json` | `{"format":"spokes-archive","version":1,"blog_id","fingerprint","title","exported_at","posts","statements","drafts"}` |
//! | `certificate.asc` | the author's OpenPGP certificate, ASCII-armored |
//! | `blog.automerge` | the published blog document (Automerge binary, all history) |
//! | `drafts.automerge` | the drafts document, when `drafts` is true |
//! | `statements.json` | every signed statement, JSON array of `{"statement","signature"}` (see `docs/formats.md`) |
//! | `statements/NNNN.txt`, `statements/NNNN.asc` | each statement's exact bytes and its armored detached signature: `gpg --verify statements/0001.asc statements/0001.txt` |
//! | `posts/{slug}.md` | each published post, Markdown with YAML front matter |
//! | `drafts/{slug}.md` | each post whose draft is unpublished or changed since publishing (`draft: true`) |
//! | `images/{name}` | every picture kept with the blog, named by the BLAKE3 hash of its bytes ([`crate::image`]) |
//! | `set/manifests.json`, `set/posts/{post ID}.automerge` | for a blog kept as one document per post: the signed manifests (the writer's `set/manifests.json`, version 1) and each live post's document; the reader of the archive verifies them (they need the sync layer's types) |
//! | `site/…` | the blog as a static site with its Atom feed and the pictures it shows (see the spoke's `site` module) |
//!
//! Readers take only what they need and check it: the manifest's format and version, the
//! document's owner and ID, and every statement and change against the certificate
//! ([`read_archive`]). Entries they do not know are ignored, so later versions may add some.

use crate::doc::{BlogDoc, BlogId};
use crate::identity::Certificate;
use crate::statement::{SignedStatement, check_coverage, signed_heads, verify_all};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::PathBuf;

/// The manifest's `format` value.
pub const ARCHIVE_FORMAT: &str = "spokes-archive";
/// The archive layout version this code writes and reads.
pub const ARCHIVE_VERSION: u32 = 1;
/// The folder every entry sits in.
const ROOT: &str = "spokes-archive/";
/// Largest entry read from an archive (a blog document with years of history fits easily).
const MAX_ENTRY: u64 = 1 << 30;

/// Errors of reading or writing an archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The file could not be read or written.
    #[error("could not use {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing the archive's bytes failed.
    #[error("could not write the archive: {0}")]
    Write(#[source] std::io::Error),
    /// Not a Spokes archive, or a damaged one.
    #[error("this is not a readable Spokes archive: {0}")]
    Malformed(String),
    /// Written by a newer Spokes.
    #[error("this archive was written by a newer version of Spokes (archive version {0})")]
    NewerVersion(u32),
    /// The contents fail the signature checks.
    #[error("the archive's blog does not verify against its author's signatures: {0}")]
    Verification(String),
}

/// What `manifest.json` says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`ARCHIVE_FORMAT`].
    pub format: String,
    /// Layout version, [`ARCHIVE_VERSION`].
    pub version: u32,
    /// The blog's ID.
    pub blog_id: BlogId,
    /// The author's certificate fingerprint.
    pub fingerprint: String,
    /// The blog's title.
    pub title: String,
    /// When the archive was written (RFC 3339).
    pub exported_at: String,
    /// Number of published posts.
    pub posts: usize,
    /// Number of signed statements.
    pub statements: usize,
    /// Whether `drafts.automerge` is included.
    pub drafts: bool,
}

/// A read and verified archive.
#[derive(Debug)]
pub struct Archive {
    /// The manifest.
    pub manifest: Manifest,
    /// The author's certificate.
    pub certificate: Certificate,
    /// The published blog document.
    pub blog: BlogDoc,
    /// The drafts document, if included.
    pub drafts: Option<BlogDoc>,
    /// Every signed statement.
    pub statements: Vec<SignedStatement>,
    /// The pictures under `images/`, each checked against its name.
    pub images: Vec<(crate::image::ImageName, Vec<u8>)>,
    /// The published set of a blog kept as one document per post, as stored: not verified
    /// here (the caller checks the manifests against [`Archive::certificate`] and the post
    /// documents against them). `None` for a blog kept as one document.
    pub set: Option<ArchiveSet>,
}

/// The `set/` entries of an archive, bytes as read (bounded, not verified).
#[derive(Debug, Default)]
pub struct ArchiveSet {
    /// `set/manifests.json`.
    pub manifests: Vec<u8>,
    /// Each `set/posts/{post ID}.automerge`, by post ID (IDs checked to be post IDs, each
    /// document checked against [`crate::expansion`]'s budget).
    pub posts: std::collections::BTreeMap<String, Vec<u8>>,
}

fn malformed(e: impl std::fmt::Display) -> ArchiveError {
    ArchiveError::Malformed(e.to_string())
}

/// Reads an archive (a `.tar.gz` stream, as [`ArchiveWriter`] writes it) from `reader` and
/// checks it: format and version, the document's ID and owner, and every statement and change
/// against the certificate (the same audit as `spokes verify`). The caller opens the file.
///
/// Errors: [`ArchiveError::Malformed`] (not gzip or tar, a missing or unreadable entry, a
/// document that expands past [`crate::expansion`]'s budget, pictures over 1 GiB in all, a
/// document for another blog), [`ArchiveError::NewerVersion`], [`ArchiveError::Verification`].
pub fn read_archive_from(reader: impl Read) -> Result<Archive, ArchiveError> {
    let mut tar = tar::Archive::new(GzDecoder::new(std::io::BufReader::new(reader)));
    let wanted = ["manifest.json", "certificate.asc", "blog.automerge", "drafts.automerge", "statements.json"];
    let mut found: std::collections::HashMap<&str, Vec<u8>> = std::collections::HashMap::new();
    let mut images = Vec::new();
    let mut image_bytes = 0u64;
    let mut set: Option<ArchiveSet> = None;
    let mut set_bytes = 0u64;
    for entry in tar.entries().map_err(malformed)? {
        let mut entry = entry.map_err(malformed)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(malformed)?.to_string_lossy().into_owned();
        if let Some(image) = name.strip_prefix(ROOT).and_then(|n| n.strip_prefix("images/")) {
            let image: crate::image::ImageName = image.parse().map_err(|e| malformed(format!("{name}: {e}")))?;
            if entry.size() > crate::image::MAX_IMAGE_BYTES as u64 {
                return Err(ArchiveError::Malformed(format!("{name} is larger than a picture may be")));
            }
            image_bytes += entry.size();
            if image_bytes > MAX_ENTRY {
                return Err(ArchiveError::Malformed("the pictures add up to more than 1 GiB".into()));
            }
            let mut bytes = Vec::with_capacity(entry.size() as usize);
            entry.by_ref().take(crate::image::MAX_IMAGE_BYTES as u64).read_to_end(&mut bytes).map_err(malformed)?;
            if !image.verify(&bytes) {
                return Err(ArchiveError::Verification(format!("{name} does not match its hash")));
            }
            images.push((image, bytes));
            continue;
        }
        if let Some(rest) = name.strip_prefix(ROOT).and_then(|n| n.strip_prefix("set/")) {
            // `None` for the manifests, the post ID for a post document; other entries under
            // `set/` are ignored, as unknown entries are.
            let post = match rest.strip_prefix("posts/").and_then(|f| f.strip_suffix(".automerge")) {
                Some(id) if crate::manifest::is_post_id(id) => Some(id.to_owned()),
                Some(_) => return Err(ArchiveError::Malformed(format!("{name} is not named by a post ID"))),
                None if rest == "manifests.json" => None,
                None => continue,
            };
            set_bytes += entry.size();
            if entry.size() > MAX_ENTRY || set_bytes > MAX_ENTRY {
                return Err(ArchiveError::Malformed("the set's documents add up to more than 1 GiB".into()));
            }
            let mut bytes = Vec::with_capacity(entry.size() as usize);
            entry.by_ref().take(MAX_ENTRY).read_to_end(&mut bytes).map_err(malformed)?;
            let set = set.get_or_insert_with(ArchiveSet::default);
            match post {
                None => set.manifests = bytes,
                Some(id) => {
                    crate::expansion::ExpansionBudget::new().check(&bytes).map_err(|e| malformed(format!("{name}: {e}")))?;
                    set.posts.insert(id, bytes);
                }
            }
            continue;
        }
        let Some(key) = name.strip_prefix(ROOT).and_then(|n| wanted.iter().find(|w| **w == n)) else { continue };
        if entry.size() > MAX_ENTRY {
            return Err(ArchiveError::Malformed(format!("{name} is larger than 1 GiB")));
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.by_ref().take(MAX_ENTRY).read_to_end(&mut bytes).map_err(malformed)?;
        found.insert(key, bytes);
    }
    let take = |found: &mut std::collections::HashMap<&str, Vec<u8>>, k: &str| found.remove(k).ok_or_else(|| ArchiveError::Malformed(format!("{k} is missing")));
    let manifest: serde_json::Value = serde_json::from_slice(&take(&mut found, "manifest.json")?).map_err(|e| malformed(format!("manifest.json: {e}")))?;
    if manifest.get("format").and_then(|f| f.as_str()) != Some(ARCHIVE_FORMAT) {
        return Err(malformed("manifest.json does not name the spokes-archive format"));
    }
    let version = manifest.get("version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
    if version > ARCHIVE_VERSION {
        return Err(ArchiveError::NewerVersion(version));
    }
    let manifest: Manifest = serde_json::from_value(manifest).map_err(|e| malformed(format!("manifest.json: {e}")))?;
    let certificate = Certificate::from_bytes(&take(&mut found, "certificate.asc")?).map_err(|e| malformed(format!("certificate.asc: {e}")))?;
    // Documents from a file anyone could have made are bounded before Automerge reads them.
    let load = |name: &str, bytes: &[u8]| {
        crate::expansion::ExpansionBudget::new().check(bytes).map_err(|e| malformed(format!("{name}: {e}")))?;
        BlogDoc::load(bytes).map_err(|e| malformed(format!("{name}: {e}")))
    };
    let mut blog = load("blog.automerge", &take(&mut found, "blog.automerge")?)?;
    let drafts = match found.remove("drafts.automerge") {
        Some(b) => Some(load("drafts.automerge", &b)?),
        None => None,
    };
    let statements: Vec<SignedStatement> = serde_json::from_slice(&take(&mut found, "statements.json")?).map_err(|e| malformed(format!("statements.json: {e}")))?;
    let blog_id = blog.blog_id().map_err(malformed)?;
    if blog_id != manifest.blog_id || certificate.fingerprint() != manifest.fingerprint || blog.owner().as_deref() != Some(manifest.fingerprint.as_str()) {
        return Err(malformed("the manifest, the document and the certificate name different blogs or authors"));
    }
    crate::doc::check_identity(blog.automerge(), &blog_id, &manifest.fingerprint).map_err(malformed)?;
    if let Some(d) = &drafts
        && d.blog_id().ok().as_ref() != Some(&blog_id)
    {
        return Err(malformed("drafts.automerge belongs to another blog"));
    }
    let (ok, bad) = verify_all(&statements, &certificate, &blog_id);
    if let Some((i, e)) = bad.first() {
        return Err(ArchiveError::Verification(format!("statement {}: {e}", i + 1)));
    }
    check_coverage(blog.automerge(), &[], &signed_heads(&ok)).map_err(|e| ArchiveError::Verification(e.to_string()))?;
    if set.as_ref().is_some_and(|s| s.manifests.is_empty()) {
        return Err(malformed("set/manifests.json is missing beside the set's posts"));
    }
    Ok(Archive { manifest, certificate, blog, drafts, statements, images, set })
}

/// Writes an archive into `out` (a `.tar.gz` stream): entries are added one by one under
/// `spokes-archive/`. Where the bytes go (a file written beside its target and renamed into
/// place, say) is the caller's business.
pub struct ArchiveWriter<W: Write> {
    tar: tar::Builder<GzEncoder<W>>,
    mtime: u64,
}

impl<W: Write> ArchiveWriter<W> {
    /// Starts an archive in `out`; entries are dated `mtime` (seconds since the Unix epoch).
    pub fn new(out: W, mtime: u64) -> ArchiveWriter<W> {
        ArchiveWriter { tar: tar::Builder::new(GzEncoder::new(out, Compression::default())), mtime }
    }

    /// Adds one file (mode 0644) at `spokes-archive/{path}`.
    pub fn add(&mut self, path: &str, bytes: &[u8]) -> Result<(), ArchiveError> {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(self.mtime);
        h.set_entry_type(tar::EntryType::Regular);
        self.tar.append_data(&mut h, format!("{ROOT}{path}"), bytes).map_err(ArchiveError::Write)
    }

    /// Ends the tar stream and the gzip member, and gives back `out` (for the caller to flush
    /// and put in place).
    ///
    /// Error: [`ArchiveError::Write`].
    pub fn finish(self) -> Result<W, ArchiveError> {
        self.tar.into_inner().and_then(|gz| gz.finish()).map_err(ArchiveError::Write)
    }
}
