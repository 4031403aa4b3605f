//! A set blog's post as its reader view lists it, stored beside the post's document
//! (`set_posts.listing`), so that a spoke starting up builds its views from the manifests and
//! these listings instead of loading and rendering every post document.
//!
//! A listing is derived data: it is written when the document it was rendered from was
//! checked (in a session, or at a start that rendered it), dropped whenever that document is
//! replaced, and used only while the merged manifest lists the same document heads and it was
//! made by this build of the spoke. One that is damaged, foreign or stale is ignored and the
//! post is rendered from its document again, so a broken disk costs time, never a wrong page:
//! the body itself is always read from the document and checked against the listing's body
//! hash ([`spokes_site::view::PostView::markdown_of`]).
//!
//! Stored form, version 1: the BLAKE3 hash of the JSON text (32 bytes), then the JSON text of
//! [`Listing`], at most [`MAX_LISTING_BYTES`] in all.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use spokes_core::image::ImageName;
use spokes_site::view::PostView;
use std::sync::Arc;

/// Version of the stored form.
const LISTING_VERSION: u32 = 1;

/// Largest stored listing read back, in bytes (a listing holds a title, a slug, tags and an
/// excerpt of 280 characters: a few kilobytes at most).
pub(crate) const MAX_LISTING_BYTES: usize = 256 * 1024;

/// Why a stored listing was not used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ListingError {
    /// Too short or too long to be a listing.
    #[error("a stored listing has {0} bytes")]
    Size(usize),
    /// The hash does not match the text: the disk changed it.
    #[error("a stored listing does not match its hash")]
    Hash,
    /// The text does not parse, or holds a hash or head that does not parse.
    #[error("a stored listing does not parse: {0}")]
    Parse(String),
    /// Another version of the stored form, or another build of the spoke made it (whose
    /// excerpts or picture lists may differ): rendered again.
    #[error("a stored listing was made by another version ({0})")]
    Other(String),
}

/// The JSON of a stored listing (version 1): every field of [`PostView`] but its body.
#[derive(Serialize, Deserialize)]
struct Listing {
    version: u32,
    /// The spoke build that rendered it (`CARGO_PKG_VERSION`).
    made_by: String,
    id: String,
    title: String,
    slug: String,
    date: DateTime<FixedOffset>,
    updated: DateTime<FixedOffset>,
    tags: Vec<String>,
    excerpt: String,
    images: Vec<ImageName>,
    /// BLAKE3 of the Markdown body, lowercase hex.
    body_hash: String,
    /// The document heads the manifest listed, lowercase hex.
    heads: Vec<String>,
    /// Changes of the document checked when it arrived.
    changes: usize,
}

/// The stored form of `post` (`None` when it would exceed [`MAX_LISTING_BYTES`]).
pub(crate) fn encode(post: &PostView) -> Option<Vec<u8>> {
    let listing = Listing {
        version: LISTING_VERSION,
        made_by: env!("CARGO_PKG_VERSION").to_owned(),
        id: post.id.clone(),
        title: post.title.clone(),
        slug: post.slug.clone(),
        date: post.date,
        updated: post.updated,
        tags: post.tags.clone(),
        excerpt: post.excerpt.clone(),
        images: post.images.clone(),
        body_hash: hex::encode(post.body_hash),
        heads: post.heads.iter().map(ToString::to_string).collect(),
        changes: post.changes,
    };
    let json = serde_json::to_vec(&listing).ok()?;
    let mut out = Vec::with_capacity(32 + json.len());
    out.extend_from_slice(blake3::hash(&json).as_bytes());
    out.extend_from_slice(&json);
    (out.len() <= MAX_LISTING_BYTES).then_some(out)
}

/// The post a stored listing holds, with no body.
pub(crate) fn decode(bytes: &[u8]) -> Result<Arc<PostView>, ListingError> {
    if bytes.len() <= 32 || bytes.len() > MAX_LISTING_BYTES {
        return Err(ListingError::Size(bytes.len()));
    }
    let (hash, json) = bytes.split_at(32);
    if blake3::hash(json).as_bytes() != hash {
        return Err(ListingError::Hash);
    }
    let l: Listing = serde_json::from_slice(json).map_err(|e| ListingError::Parse(e.to_string()))?;
    if l.version != LISTING_VERSION || l.made_by != env!("CARGO_PKG_VERSION") {
        return Err(ListingError::Other(format!("version {}, spoke {}", l.version, l.made_by)));
    }
    let mut body_hash = [0u8; 32];
    hex::decode_to_slice(&l.body_hash, &mut body_hash).map_err(|e| ListingError::Parse(e.to_string()))?;
    let heads = l.heads.iter().map(|h| h.parse::<automerge::ChangeHash>().map_err(|e| ListingError::Parse(e.to_string()))).collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(PostView {
        id: l.id,
        title: l.title,
        slug: l.slug,
        date: l.date,
        updated: l.updated,
        tags: l.tags,
        excerpt: l.excerpt,
        images: l.images,
        body_hash,
        body: None,
        heads,
        changes: l.changes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post() -> PostView {
        let date = chrono::DateTime::parse_from_rfc3339("2024-05-01T10:00:00+02:00").unwrap();
        PostView {
            id: "p-1".into(),
            title: "Spring \"notes\"".into(),
            slug: "spring-notes".into(),
            date,
            updated: date,
            tags: vec!["garden".into()],
            excerpt: "The first tulips".into(),
            images: vec![format!("{}.png", "a".repeat(64)).parse().unwrap()],
            body_hash: [7; 32],
            body: None,
            heads: vec![automerge::ChangeHash([3; 32])],
            changes: 12,
        }
    }

    #[test]
    fn a_listing_reads_back_as_it_was_written() {
        let p = post();
        let back = decode(&encode(&p).unwrap()).unwrap();
        assert_eq!((&back.id, &back.title, &back.slug, back.date, &back.tags, &back.excerpt), (&p.id, &p.title, &p.slug, p.date, &p.tags, &p.excerpt));
        assert_eq!((&back.images, back.body_hash, &back.heads, back.changes), (&p.images, p.body_hash, &p.heads, p.changes));
        assert!(back.body.is_none());
    }

    #[test]
    fn a_damaged_or_foreign_listing_is_refused() {
        let good = encode(&post()).unwrap();
        // Every single flipped byte is caught: in the hash or in the text.
        for i in [0, 31, 32, good.len() / 2, good.len() - 1] {
            let mut bad = good.clone();
            bad[i] ^= 0x20;
            assert!(matches!(decode(&bad), Err(ListingError::Hash)), "byte {i}");
        }
        assert!(matches!(decode(&good[..32]), Err(ListingError::Size(32))));
        assert!(matches!(decode(&vec![0; MAX_LISTING_BYTES + 1]), Err(ListingError::Size(_))));
        // Well hashed but not a listing, or one from another build.
        let with_hash = |json: &str| [blake3::hash(json.as_bytes()).as_bytes().as_slice(), json.as_bytes()].concat();
        assert!(matches!(decode(&with_hash("{\"version\":1}")), Err(ListingError::Parse(_))));
        let text = String::from_utf8(good[32..].to_vec()).unwrap();
        let other = text.replace(&format!("\"made_by\":\"{}\"", env!("CARGO_PKG_VERSION")), "\"made_by\":\"0.0.1-old\"");
        assert!(matches!(decode(&with_hash(&other)), Err(ListingError::Other(_))));
        let bad_head = text.replace(&"03".repeat(32), "zz");
        assert!(matches!(decode(&with_hash(&bad_head)), Err(ListingError::Parse(_))));
    }
}
