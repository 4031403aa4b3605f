//! Images in posts, addressed by content hash.
//!
//! A post refers to an image by a relative link `images/<name>` in its Markdown, where the
//! name is `<BLAKE3 of the bytes, 64 lowercase hex>.<ext>` (for example
//! `images/9f86…a08.png`). The blog document lists every published image with its type and
//! size ([`crate::BlogDoc::images`]), so the signed statements cover the hash, and the hash
//! covers the bytes: an image can be fetched from anybody and checked with [`ImageName::verify`].
//!
//! The bytes travel beside the document (`spokes/images/1`), never inside it, so a blog's
//! sync messages stay small. Formats: PNG, JPEG, GIF, WebP and AVIF, recognised by their
//! magic bytes, not by a file name. SVG is refused (it can carry scripts).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The largest image accepted: 15 MiB (it must fit one 16 MiB frame with its name).
pub const MAX_IMAGE_BYTES: usize = 15 * 1024 * 1024;

/// The link prefix that marks an image stored with the blog.
pub const LINK_PREFIX: &str = "images/";

/// Why an image was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageError {
    /// Not PNG, JPEG, GIF, WebP or AVIF.
    #[error("this file is not a picture Spokes can publish (use PNG, JPEG, GIF, WebP or AVIF)")]
    UnsupportedType,
    /// Larger than [`MAX_IMAGE_BYTES`].
    #[error("this picture is {size} bytes; the most a picture may be is {MAX_IMAGE_BYTES} bytes (15 MiB)")]
    TooLarge {
        /// Its size in bytes.
        size: usize,
    },
    /// A name that is not `<64 hex>.<ext>` with a known extension.
    #[error("`{0}` is not an image name (64 hex characters, a dot and png, jpg, gif, webp or avif)")]
    BadName(String),
}

/// An image's name: the BLAKE3 hash of its bytes in lowercase hex, a dot, and its extension.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageName(String);

/// Extension and media type of each accepted format.
const FORMATS: [(&str, &str); 5] = [("png", "image/png"), ("jpg", "image/jpeg"), ("gif", "image/gif"), ("webp", "image/webp"), ("avif", "image/avif")];

impl ImageName {
    /// The name for `bytes`, and its media type. Errors: [`ImageError::UnsupportedType`],
    /// [`ImageError::TooLarge`].
    pub fn for_bytes(bytes: &[u8]) -> Result<ImageName, ImageError> {
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(ImageError::TooLarge { size: bytes.len() });
        }
        let mime = infer::get(bytes).map(|t| t.mime_type()).ok_or(ImageError::UnsupportedType)?;
        // `infer` takes any "GIF" start for a GIF; a real one says which version it is.
        if mime == "image/gif" && !(bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a")) {
            return Err(ImageError::UnsupportedType);
        }
        let (ext, _) = FORMATS.iter().find(|(_, m)| *m == mime).ok_or(ImageError::UnsupportedType)?;
        Ok(ImageName(format!("{}.{ext}", blake3::hash(bytes).to_hex())))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The media type its extension stands for, for example `image/png`.
    pub fn mime_type(&self) -> &'static str {
        let ext = self.0.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        FORMATS.iter().find(|(e, _)| *e == ext).map(|(_, m)| *m).unwrap_or("application/octet-stream")
    }

    /// Whether `bytes` are this image: their hash is the name's and their format its extension.
    pub fn verify(&self, bytes: &[u8]) -> bool {
        ImageName::for_bytes(bytes).is_ok_and(|n| &n == self)
    }
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ImageName {
    type Err = ImageError;
    fn from_str(s: &str) -> Result<ImageName, ImageError> {
        let bad = || ImageError::BadName(s.chars().take(100).collect());
        let (hash, ext) = s.split_once('.').ok_or_else(bad)?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) || !FORMATS.iter().any(|(e, _)| *e == ext) {
            return Err(bad());
        }
        Ok(ImageName(s.to_owned()))
    }
}

impl TryFrom<String> for ImageName {
    type Error = ImageError;
    fn try_from(s: String) -> Result<ImageName, ImageError> {
        s.parse()
    }
}

impl From<ImageName> for String {
    fn from(n: ImageName) -> String {
        n.0
    }
}

/// A valid 1×1 PNG (70 bytes), for examples, tests and self-checks.
pub const EXAMPLE_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// What the blog document records of an image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// Its name (hash and extension).
    pub name: ImageName,
    /// Size in bytes.
    pub size: u64,
}

/// The images a Markdown text links to as `images/<name>`, in order of first appearance,
/// each once. Other links are ignored.
pub fn referenced_images(markdown: &str) -> Vec<ImageName> {
    use pulldown_cmark::{Event, Parser, Tag};
    let mut out: Vec<ImageName> = Vec::new();
    for ev in Parser::new(markdown) {
        if let Event::Start(Tag::Image { dest_url, .. }) = ev
            && let Some(name) = dest_url.strip_prefix(LINK_PREFIX).and_then(|n| n.parse::<ImageName>().ok())
            && !out.contains(&name)
        {
            out.push(name);
        }
    }
    out
}

/// The Markdown that shows image `name` with the alternative text `alt` (brackets and
/// backslashes in `alt` are escaped).
pub fn markdown_link(name: &ImageName, alt: &str) -> String {
    let alt: String = alt.chars().flat_map(|c| if matches!(c, '[' | ']' | '\\') { vec!['\\', c] } else { vec![c] }).collect();
    format!("![{alt}]({LINK_PREFIX}{name})")
}

#[cfg(test)]
mod tests {
    use super::*;
    const PNG: &[u8] = EXAMPLE_PNG;

    #[test]
    fn a_png_is_named_by_its_hash_and_checked_against_it() {
        let n = ImageName::for_bytes(PNG).unwrap();
        assert_eq!(n.as_str(), format!("{}.png", blake3::hash(PNG).to_hex()));
        assert_eq!(n.mime_type(), "image/png");
        assert!(n.verify(PNG));
        let mut altered = PNG.to_vec();
        altered[60] ^= 1;
        assert!(!n.verify(&altered));
        assert_eq!(n.as_str().parse::<ImageName>().unwrap(), n);
    }

    #[test]
    fn svg_text_and_huge_files_are_refused() {
        assert_eq!(ImageName::for_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>"), Err(ImageError::UnsupportedType));
        assert_eq!(ImageName::for_bytes(b"hello"), Err(ImageError::UnsupportedType));
        assert_eq!(ImageName::for_bytes(b"GIF? no, text"), Err(ImageError::UnsupportedType));
        assert!(ImageName::for_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").is_ok());
        let mut big = PNG.to_vec();
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        assert!(matches!(ImageName::for_bytes(&big), Err(ImageError::TooLarge { .. })));
        for bad in ["x.png", "../etc/passwd", &format!("{}.svg", "a".repeat(64)), &format!("{}.png", "A".repeat(64)), &format!("{}/.png", "a".repeat(63))] {
            assert!(bad.parse::<ImageName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_links_to_stored_images_are_referenced() {
        let n = ImageName::for_bytes(PNG).unwrap();
        let link = markdown_link(&n, "a [dot]");
        assert_eq!(link, format!("![a \\[dot\\]](images/{n})"));
        let md = format!("Hi {link}\n\n![x](https://e.com/a.png) ![again]({LINK_PREFIX}{n}) [not an image]({LINK_PREFIX}{n}) ![bad](images/nothash.png)");
        assert_eq!(referenced_images(&md), vec![n]);
    }
}
