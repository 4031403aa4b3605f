//! Posts from the export file of a hosted blog: WordPress (WXR, the XML file of Tools → Export,
//! versions 1.0 to 1.2) and Ghost (the JSON file of Settings → Migration → Export, Ghost 1 to 5).
//!
//! Each post becomes a draft ([`Imported`]) as [`spokes_core::import`] makes them from Markdown:
//! - Body: the post's HTML as Markdown (`htmd`, a port of turndown.js): headings, emphasis,
//!   links, lists, quotes, code blocks, tables and pictures. WordPress's classic editor stores
//!   paragraphs as blank lines rather than `<p>`; those are made paragraphs first, as WordPress
//!   does when it shows the post (`wpautop`). `[caption]` shortcodes are unwrapped; other
//!   shortcodes (`[gallery]`, `[embed]`…) stay as text, with a warning. Scripts and styles are
//!   dropped. A post nested deeper than [`MAX_NESTING`] elements, or longer than
//!   [`MAX_POST_HTML`] bytes, comes in as its text only, with a warning.
//! - Title, slug, tags and categories, date (WordPress: `post_date_gmt`, else `post_date` read
//!   as UTC, else `pubDate`; Ghost: `published_at`, else `created_at`), updated time.
//! - Pictures: an export holds links, not files. A picture under the old site's
//!   `wp-content/uploads/` (WordPress) or `content/images/` (Ghost) is looked for beside the
//!   export file, in a copied `wp-content/uploads` or `uploads` folder (WordPress) or
//!   `content/images` or `images` folder (Ghost); one found is kept with the blog by the caller,
//!   one not found stays linked to its old address, with a warning.
//!
//! Not posts, and listed as skipped ([`Skipped`]): pages, attachments, menus and other entries
//! of the site, and what is in the old blog's trash.
//!
//! Bounds: an export file larger than [`MAX_EXPORT_BYTES`] is refused; XML with a document
//! type declaration is refused (so no entity expansion).

use crate::import::{SkipReason, Skipped};
use chrono::{DateTime, FixedOffset, Utc};
use spokes_core::doc::{Post, PostState, slugify};
use spokes_core::import::{ImportError, ImportNote, Imported, all_picture_links, parse_date};
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

/// The largest export file read, in bytes (512 MiB; a ten-year blog's WordPress export is tens
/// of megabytes).
pub const MAX_EXPORT_BYTES: u64 = 512 << 20;

/// The longest post HTML converted to Markdown, in bytes (8 MiB); a longer one comes in as
/// its text only.
pub const MAX_POST_HTML: usize = 8 << 20;

/// The deepest element nesting converted to Markdown (the converter walks the tree
/// recursively); a deeper post comes in as its text only.
pub const MAX_NESTING: usize = 1_000;

/// The hosted blog an export file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// A WordPress export (`.xml`, WXR).
    WordPress,
    /// A Ghost export (`.json`).
    Ghost,
}

impl Platform {
    /// The platform `path` is an export of, by its extension (`.xml`: WordPress, `.json`:
    /// Ghost), or `None` for any other file.
    pub fn of(path: &Path) -> Option<Platform> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("xml") => Some(Platform::WordPress),
            Some("json") => Some(Platform::Ghost),
            _ => None,
        }
    }

    fn article(self) -> &'static str {
        match self {
            Platform::WordPress => "a WordPress",
            Platform::Ghost => "a Ghost",
        }
    }
}

/// The posts of one export file and what in it is not a post.
#[derive(Debug, Clone, Default)]
pub struct Exported {
    /// The posts, as drafts, in the export's order, with the pictures found beside the export
    /// in [`Imported::pictures`].
    pub posts: Vec<Imported>,
    /// The entries that are not posts.
    pub skipped: Vec<Skipped>,
}

/// Reads the export file `path` of `platform`. Errors: [`ImportError::Io`] (unreadable, or
/// larger than [`MAX_EXPORT_BYTES`]), [`ImportError::NotText`], [`ImportError::Export`] (not an
/// export of that platform).
pub fn read_export(path: &Path, platform: Platform) -> Result<Exported, ImportError> {
    let io = |source| ImportError::Io { path: path.into(), source };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_EXPORT_BYTES {
        return Err(io(std::io::Error::other(format!("the file is {} MB; exports of up to {} MB are read", size >> 20, MAX_EXPORT_BYTES >> 20))));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let text = String::from_utf8(bytes).map_err(|_| ImportError::NotText { path: path.into() })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    match platform {
        Platform::WordPress => wordpress(path, &text, dir),
        Platform::Ghost => ghost(path, &text, dir),
    }
}

fn export_error(path: &Path, platform: Platform, message: impl Into<String>) -> ImportError {
    ImportError::Export { path: path.into(), platform: platform.article(), message: message.into() }
}

fn skipped(path: &Path, item: &str, reason: SkipReason) -> Skipped {
    Skipped { path: path.into(), item: Some(item.to_owned()), reason }
}

/// Parses a WordPress export (WXR) read from `path`; pictures are looked for under `dir`.
pub fn wordpress(path: &Path, text: &str, dir: &Path) -> Result<Exported, ImportError> {
    let fail = |m: String| export_error(path, Platform::WordPress, m);
    let options = roxmltree::ParsingOptions { allow_dtd: false, ..Default::default() };
    let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| fail(e.to_string()))?;
    let wp = |n: &roxmltree::Node| n.tag_name().namespace().is_some_and(|ns| ns.starts_with("http://wordpress.org/export/"));
    let channel = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("channel"))
        .filter(|c| doc.root_element().has_tag_name("rss") && c.children().any(|n| wp(&n) && n.tag_name().name() == "wxr_version"))
        .ok_or_else(|| fail("it is not a WordPress export (an RSS file with a `wp:wxr_version`)".into()))?;
    let mut out = Exported::default();
    for item in channel.children().filter(|n| n.has_tag_name("item")) {
        let field = |name: &str| item.children().find(|n| wp(n) && n.tag_name().name() == name).and_then(|n| n.text()).unwrap_or_default().trim().to_owned();
        let plain = |name: &str| item.children().find(|n| n.tag_name().name() == name && n.tag_name().namespace().is_none()).and_then(|n| n.text()).unwrap_or_default().trim().to_owned();
        let title = plain("title");
        let label = if title.is_empty() { "(untitled)".to_owned() } else { title.clone() };
        let (kind, status) = (field("post_type"), field("status"));
        match (kind.as_str(), status.as_str()) {
            (_, "trash") => out.skipped.push(skipped(path, &label, SkipReason::Trashed)),
            ("page", _) => out.skipped.push(skipped(path, &label, SkipReason::SitePage)),
            ("post", "auto-draft" | "inherit") => out.skipped.push(skipped(path, &label, SkipReason::NotWriting)),
            ("post", _) => {}
            _ => out.skipped.push(skipped(path, &label, SkipReason::NotWriting)),
        }
        if kind != "post" || matches!(status.as_str(), "trash" | "auto-draft" | "inherit") {
            continue;
        }
        let html = item
            .children()
            .find(|n| n.tag_name().name() == "encoded" && n.tag_name().namespace() == Some("http://purl.org/rss/1.0/modules/content/"))
            .and_then(|n| n.text())
            .unwrap_or_default();
        let mut warnings = Vec::new();
        let block_editor = html.contains("<!-- wp:");
        let html = if block_editor { html.to_owned() } else { autop(html) };
        let html = shortcodes(&html, &mut warnings);
        let body = to_markdown(&html, &mut warnings);
        let gmt = |k: &str| Some(field(k)).filter(|d| !d.is_empty() && !d.starts_with("0000")).and_then(|d| parse_date(&d));
        let date = gmt("post_date_gmt")
            .or_else(|| gmt("post_date"))
            .or_else(|| DateTime::parse_from_rfc2822(&plain("pubDate")).ok())
            .unwrap_or_else(|| {
                warnings.push(ImportNote::DateFromImport);
                now()
            });
        let updated = gmt("post_modified_gmt").filter(|u| *u >= date).unwrap_or(date);
        let slug = percent_decoded(&field("post_name")).filter(|s| !s.is_empty()).map(|s| slugify(&s)).unwrap_or_else(|| slugify(&title));
        let mut tags: Vec<String> = Vec::new();
        for domain in ["post_tag", "category"] {
            for c in item.children().filter(|n| n.has_tag_name("category") && n.attribute("domain") == Some(domain)) {
                let name = c.text().unwrap_or_default().trim();
                if !name.is_empty() && c.attribute("nicename") != Some("uncategorized") && !tags.iter().any(|t| t == name) {
                    tags.push(name.to_owned());
                }
            }
        }
        if status == "private" {
            warnings.push(ImportNote::WasPrivate);
        }
        let mut post = Post::new(if title.is_empty() { "Untitled" } else { &title }, &body);
        (post.slug, post.tags, post.date, post.updated, post.state) = (slug, tags, date, updated, PostState::Draft);
        let mut i = Imported { post, source: path.into(), warnings, pictures: BTreeMap::new() };
        find_pictures(&mut i, dir, "/wp-content/uploads/", &["wp-content/uploads", "uploads"]);
        out.posts.push(i);
    }
    Ok(out)
}

/// Parses a Ghost export read from `path`; pictures are looked for under `dir`.
pub fn ghost(path: &Path, text: &str, dir: &Path) -> Result<Exported, ImportError> {
    use serde_json::Value;
    let fail = |m: String| export_error(path, Platform::Ghost, m);
    let v: Value = serde_json::from_str(text).map_err(|e| fail(e.to_string()))?;
    // Ghost 1 to 5 write `{"db": [{"meta": …, "data": …}]}`; older ones the inner object alone.
    let data = v
        .get("db")
        .and_then(|d| d.get(0))
        .unwrap_or(&v)
        .get("data")
        .filter(|d| d.get("posts").is_some_and(Value::is_array))
        .ok_or_else(|| fail("it is not a Ghost export (a `db` with `data.posts`)".into()))?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    let tag_names: HashMap<String, String> = data.get("tags").and_then(Value::as_array).into_iter().flatten().map(|t| (s(t, "id"), s(t, "name"))).collect();
    let mut post_tags: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for pt in data.get("posts_tags").and_then(Value::as_array).into_iter().flatten() {
        if let Some(name) = tag_names.get(&s(pt, "tag_id")).filter(|n| !n.is_empty() && !n.starts_with('#')) {
            post_tags.entry(s(pt, "post_id")).or_default().push((pt.get("sort_order").and_then(Value::as_i64).unwrap_or(0), name.clone()));
        }
    }
    let mut out = Exported::default();
    for p in data.get("posts").and_then(Value::as_array).into_iter().flatten() {
        let title = s(p, "title");
        let label = if title.is_empty() { "(untitled)".to_owned() } else { title.clone() };
        match (s(p, "type").as_str(), p.get("page").and_then(Value::as_bool).unwrap_or(false)) {
            ("page", _) | (_, true) => {
                out.skipped.push(skipped(path, &label, SkipReason::SitePage));
                continue;
            }
            _ => {}
        }
        let mut warnings = Vec::new();
        let html = s(p, "html");
        let mut body = if !html.is_empty() {
            to_markdown(&html, &mut warnings)
        } else if let Some(md) = mobiledoc_markdown(p.get("mobiledoc")) {
            md
        } else {
            let text = s(p, "plaintext");
            if !text.is_empty() {
                warnings.push(ImportNote::PlainTextOnly);
            }
            text
        };
        let feature = s(p, "feature_image");
        if !feature.is_empty() {
            body = format!("![]({feature})\n\n{body}");
        }
        let date = ["published_at", "created_at"].iter().find_map(|k| parse_date(&s(p, k))).unwrap_or_else(|| {
            warnings.push(ImportNote::DateFromImport);
            now()
        });
        let updated = parse_date(&s(p, "updated_at")).filter(|u| *u >= date).unwrap_or(date);
        let mut tags = post_tags.remove(&s(p, "id")).unwrap_or_default();
        tags.sort();
        let mut post = Post::new(if title.is_empty() { "Untitled" } else { &title }, &body);
        post.slug = Some(s(p, "slug")).filter(|x| !x.is_empty()).map(|x| slugify(&x)).unwrap_or_else(|| slugify(&title));
        (post.tags, post.date, post.updated, post.state) = (tags.into_iter().map(|(_, n)| n).collect(), date, updated, PostState::Draft);
        let mut i = Imported { post, source: path.into(), warnings, pictures: BTreeMap::new() };
        find_pictures(&mut i, dir, "/content/images/", &["content/images", "images"]);
        out.posts.push(i);
    }
    Ok(out)
}

/// The Markdown of an old Ghost post stored as Mobiledoc with a Markdown card (Ghost 1).
fn mobiledoc_markdown(v: Option<&serde_json::Value>) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(v?.as_str()?).ok()?;
    let cards = doc.get("cards")?.as_array()?;
    let md: Vec<&str> = cards.iter().filter(|c| c.get(0).and_then(|n| n.as_str()) == Some("markdown")).filter_map(|c| c.get(1)?.get("markdown")?.as_str()).collect();
    (!md.is_empty()).then(|| md.join("\n\n"))
}

/// The last-resort date of a post whose export gives none: the time of the import.
fn now() -> DateTime<FixedOffset> {
    Utc::now().fixed_offset()
}

/// `%XX` escapes decoded (WordPress stores non-ASCII slugs so); `None` when not UTF-8.
fn percent_decoded(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Block-level tags: a chunk of classic-editor text that starts with one is left as it is.
const BLOCKS: &[&str] = &[
    "address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "iframe", "li", "ol", "p", "pre", "section", "table", "ul",
];

/// WordPress's `wpautop`, in short: text between blank lines is a paragraph (`<p>`), a line
/// break inside one is `<br>`, and chunks that start with a block tag are left alone. Blank
/// lines inside `<pre>` do not split it.
fn autop(html: &str) -> String {
    let html = html.replace("\r\n", "\n");
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut chunk = String::new();
    let mut in_pre = false;
    let flush = |chunk: &mut String, out: &mut String| {
        let c = chunk.trim();
        if !c.is_empty() {
            let lower = c.to_ascii_lowercase();
            let block = lower.strip_prefix('<').is_some_and(|rest| {
                let rest = rest.strip_prefix('/').unwrap_or(rest);
                BLOCKS.iter().any(|t| rest.starts_with(t) && rest[t.len()..].starts_with([' ', '>', '/', '\n', '\t']))
            });
            if block {
                out.push_str(c);
            } else {
                out.push_str("<p>");
                out.push_str(&c.replace('\n', "<br />"));
                out.push_str("</p>");
            }
            out.push_str("\n\n");
        }
        chunk.clear();
    };
    for line in html.split('\n') {
        let lower = line.to_ascii_lowercase();
        if !in_pre && line.trim().is_empty() {
            flush(&mut chunk, &mut out);
            continue;
        }
        chunk.push_str(line);
        chunk.push('\n');
        match (lower.rfind("<pre"), lower.rfind("</pre>")) {
            (Some(open), close) if close.is_none_or(|c| c < open) => in_pre = true,
            (_, Some(_)) => in_pre = false,
            _ => {}
        }
    }
    flush(&mut chunk, &mut out);
    out
}

/// Shortcodes WordPress expands when it shows a post; they are text anywhere else.
const SHORTCODES: &[&str] = &["gallery", "embed", "video", "audio", "playlist", "youtube", "soundcloud", "code", "sourcecode"];

/// `[caption …]…[/caption]` unwrapped (its picture and caption kept); a warning for any other
/// WordPress shortcode found, which stays as text.
fn shortcodes(html: &str, warnings: &mut Vec<ImportNote>) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find("[caption").or_else(|| rest.find("[/caption]")) {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(']').map_or(rest.len(), |e| i + e + 1);
        rest = &rest[end..];
    }
    out.push_str(rest);
    let lower = out.to_ascii_lowercase();
    let found: Vec<&str> = SHORTCODES.iter().copied().filter(|c| lower.contains(&format!("[{c} ")) || lower.contains(&format!("[{c}]"))).collect();
    if !found.is_empty() {
        let list = found.iter().map(|c| format!("[{c}]")).collect::<Vec<_>>().join(", ");
        warnings.push(ImportNote::Shortcodes { list });
    }
    out
}

/// The deepest element nesting in `html`, counted from its tags (void elements and
/// self-closed tags excluded): an upper bound on the depth of the tree a browser builds from
/// well-formed HTML.
fn nesting(html: &str) -> usize {
    const VOID: &[&str] = &["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"];
    let (mut depth, mut deepest) = (0usize, 0usize);
    let b = html.as_bytes();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        let at = i + off;
        let end = html[at..].find('>').map_or(html.len(), |e| at + e);
        let tag = &html[at + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            if name.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                depth = depth.saturating_sub(1);
            }
        } else if b.get(at + 1).is_some_and(u8::is_ascii_alphabetic) {
            let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
            if !VOID.contains(&name.as_str()) && !tag.ends_with('/') {
                depth += 1;
                deepest = deepest.max(depth);
            }
        }
        i = (end + 1).min(html.len());
        if end >= html.len() {
            break;
        }
    }
    deepest
}

/// The stack the converter runs on: it recurses once per level of nesting, and
/// [`MAX_NESTING`] levels fit in far less.
const CONVERTER_STACK: usize = 64 << 20;

/// `html` as Markdown (see the module docs); its text only, with a warning, when it is too
/// long or too deeply nested to convert, or the converter fails.
fn to_markdown(html: &str, warnings: &mut Vec<ImportNote>) -> String {
    let html = code_in_pre(html);
    if html.len() > MAX_POST_HTML || nesting(&html) > MAX_NESTING {
        warnings.push(ImportNote::FormattingTooLarge);
        return text_of(&html);
    }
    let job = {
        let html = html.clone();
        move || {
            let options = htmd::options::Options {
                bullet_list_marker: htmd::options::BulletListMarker::Dash,
                ul_bullet_spacing: 1,
                ol_number_spacing: 1,
                hr_style: htmd::options::HrStyle::Dashes,
                br_style: htmd::options::BrStyle::Backslash,
                ..Default::default()
            };
            htmd::HtmlToMarkdown::builder().options(options).skip_tags(vec!["script", "style", "noscript", "template"]).build().convert(&html)
        }
    };
    match std::thread::Builder::new().name("html-to-markdown".into()).stack_size(CONVERTER_STACK).spawn(job).map(|h| h.join()) {
        Ok(Ok(Ok(md))) => {
            let md = md.trim().to_owned();
            if md.is_empty() { md } else { md + "\n" }
        }
        _ => {
            warnings.push(ImportNote::FormattingUnreadable);
            text_of(&html)
        }
    }
}

/// `<pre>` without a `<code>` inside given one, so the converter makes it a code block
/// rather than text that loses its line breaks.
fn code_in_pre(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    if !lower.contains("<pre") {
        return html.to_owned();
    }
    let mut out = String::with_capacity(html.len() + 64);
    let mut at = 0;
    while let Some(off) = lower[at..].find("<pre") {
        let start = at + off;
        let Some(open_end) = lower[start..].find('>').map(|e| start + e + 1) else { break };
        let is_pre = lower[start + 4..].starts_with(['>', ' ', '\t', '\n']);
        let close = lower[open_end..].find("</pre>").map(|c| open_end + c);
        out.push_str(&html[at..open_end]);
        at = open_end;
        if let (true, Some(close)) = (is_pre, close)
            && !lower[open_end..close].trim_start().starts_with("<code")
        {
            out.push_str("<code>");
            out.push_str(&html[open_end..close]);
            out.push_str("</code>");
            at = close;
        }
    }
    out.push_str(&html[at..]);
    out
}

/// The text of `html`, tags removed and paragraphs kept as blank lines; entities stay as
/// written. Used only when the HTML cannot be converted.
fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match (c, in_tag) {
            ('<', _) => in_tag = true,
            ('>', true) => in_tag = false,
            (c, false) => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned() + "\n"
}

/// Finds the pictures of `i` that were under `marker` (`/wp-content/uploads/`) on the old site
/// beside the export, in one of `folders` under `dir`, and records them in
/// [`Imported::pictures`]; a warning for each one not found.
fn find_pictures(i: &mut Imported, dir: &Path, marker: &str, folders: &[&str]) {
    for src in all_picture_links(&i.post.body) {
        if src.starts_with(spokes_core::image::LINK_PREFIX) {
            continue;
        }
        let rest = src.split(['?', '#']).next().unwrap_or_default();
        let found = rest.find(marker).map(|at| &rest[at + marker.len()..]).and_then(percent_decoded).and_then(|rel| {
            let rel = Path::new(&rel);
            // Only plain names: a link that climbs out with `..` or is absolute names nothing here.
            if rel.components().all(|c| matches!(c, Component::Normal(_))) {
                folders.iter().map(|f| dir.join(f).join(rel)).find(|p| p.is_file())
            } else {
                None
            }
        });
        match found {
            Some(file) => {
                i.pictures.insert(src, file);
            }
            None => i.warnings.push(ImportNote::PictureNotBeside { src }),
        }
    }
}

/// Whether `path` holds pictures copied from a WordPress or Ghost site (for the preview).
pub fn picture_folders(dir: &Path) -> Vec<PathBuf> {
    ["wp-content/uploads", "uploads", "content/images", "images"].iter().map(|f| dir.join(f)).filter(|p| p.is_dir()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wxr(items: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Old blog</title><link>https://old.example</link><wp:wxr_version>1.2</wp:wxr_version>
{items}
</channel></rss>"#
        )
    }

    fn item(title: &str, kind: &str, status: &str, slug: &str, content: &str, extra: &str) -> String {
        format!(
            r#"<item><title><![CDATA[{title}]]></title><pubDate>Tue, 14 May 2019 10:00:00 +0000</pubDate><dc:creator><![CDATA[ada]]></dc:creator>
<content:encoded><![CDATA[{content}]]></content:encoded><wp:post_id>7</wp:post_id>
<wp:post_date><![CDATA[2019-05-14 12:00:00]]></wp:post_date><wp:post_date_gmt><![CDATA[2019-05-14 10:00:00]]></wp:post_date_gmt>
<wp:post_modified_gmt><![CDATA[2019-06-01 08:30:00]]></wp:post_modified_gmt>
<wp:post_name><![CDATA[{slug}]]></wp:post_name><wp:status><![CDATA[{status}]]></wp:status><wp:post_type><![CDATA[{kind}]]></wp:post_type>{extra}</item>"#
        )
    }

    #[test]
    fn a_wordpress_export_gives_its_posts_as_drafts_and_lists_the_rest() {
        let classic = "First paragraph with <em>emphasis</em>\nand a second line.\n\nSecond <a href=\"https://example.org/x\">paragraph</a>.\n\n<pre>line one\n\nline three</pre>\n\n[gallery ids=\"1,2\"]";
        let tags = r#"<category domain="category" nicename="uncategorized"><![CDATA[Uncategorized]]></category><category domain="post_tag" nicename="engines"><![CDATA[Engines]]></category><category domain="category" nicename="notes"><![CDATA[Notes]]></category>"#;
        let items = [
            item("Engine room notes", "post", "publish", "engine-room-%c3%a9t%c3%a9", classic, tags),
            item("A draft in blocks", "post", "draft", "", "<!-- wp:heading -->\n<h2>Heading</h2>\n<!-- /wp:heading -->\n\n<!-- wp:paragraph -->\n<p>Block text.</p>\n<!-- /wp:paragraph -->", ""),
            item("About", "page", "publish", "about", "<p>Me.</p>", ""),
            item("photo.jpg", "attachment", "inherit", "photo", "", ""),
            item("Gone", "post", "trash", "gone", "<p>x</p>", ""),
            item("Home", "nav_menu_item", "publish", "home", "", ""),
        ];
        let out = wordpress(Path::new("old.xml"), &wxr(&items.concat()), Path::new("/nonexistent")).unwrap();
        assert_eq!(out.posts.len(), 2);
        let p = &out.posts[0].post;
        assert_eq!(p.title, "Engine room notes");
        assert_eq!(p.slug, slugify("engine-room-été"));
        assert_eq!(p.tags, vec!["Engines", "Notes"]);
        assert_eq!(p.date.to_rfc3339(), "2019-05-14T10:00:00+00:00");
        assert_eq!(p.updated.to_rfc3339(), "2019-06-01T08:30:00+00:00");
        assert_eq!(p.state, PostState::Draft);
        assert!(p.body.starts_with("First paragraph with *emphasis*\\\nand a second line.\n\nSecond [paragraph](https://example.org/x).\n\n```\nline one\n\nline three\n```"), "{}", p.body);
        assert!(out.posts[0].warnings.iter().any(|w| w.to_string().contains("[gallery]")), "{:?}", out.posts[0].warnings);
        let b = &out.posts[1].post;
        assert_eq!((b.body.as_str(), b.slug.as_str()), ("## Heading\n\nBlock text.\n", "a-draft-in-blocks"));
        let why: Vec<(Option<&str>, SkipReason)> = out.skipped.iter().map(|s| (s.item.as_deref(), s.reason)).collect();
        assert_eq!(
            why,
            vec![(Some("About"), SkipReason::SitePage), (Some("photo.jpg"), SkipReason::NotWriting), (Some("Gone"), SkipReason::Trashed), (Some("Home"), SkipReason::NotWriting)]
        );
    }

    #[test]
    fn files_that_are_not_exports_are_refused_with_a_reason() {
        let p = Path::new("x.xml");
        for bad in [
            "not xml at all",
            "<rss><channel><item/></channel></rss>",
            "<!DOCTYPE rss [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><rss><channel>&b;</channel></rss>",
        ] {
            assert!(matches!(wordpress(p, bad, Path::new(".")), Err(ImportError::Export { platform: "a WordPress", .. })), "{bad}");
        }
        for bad in ["{}", "[1,2]", "{\"db\":[{\"data\":{\"posts\":3}}]}", "not json", "{\"spokes_recovery\": 1}"] {
            assert!(matches!(ghost(Path::new("x.json"), bad, Path::new(".")), Err(ImportError::Export { platform: "a Ghost", .. })), "{bad}");
        }
    }

    #[test]
    fn deep_or_huge_html_comes_in_as_text_without_exhausting_the_stack() {
        let deep = "<div>".repeat(300_000) + "deep words" + &"</div>".repeat(300_000);
        let mut w = Vec::new();
        assert_eq!(to_markdown(&deep, &mut w), "deep words\n");
        assert_eq!(w.len(), 1);
        let mut w = Vec::new();
        let just = "<div>".repeat(MAX_NESTING) + "fine" + &"</div>".repeat(MAX_NESTING);
        assert_eq!(to_markdown(&just, &mut w), "fine\n");
        assert!(w.is_empty(), "{w:?}");
        // Unclosed tags count towards the bound, unknown and void ones do not.
        assert_eq!(nesting("<p>a<br>b<img src=x><hr/><x-y>c</x-y></p><li>"), 2);
    }

    #[test]
    fn pictures_are_found_beside_the_export_and_never_outside_it() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = dir.path().join("wp-content/uploads/2019/05");
        std::fs::create_dir_all(&uploads).unwrap();
        std::fs::write(uploads.join("engine.png"), b"png").unwrap();
        std::fs::write(dir.path().join("secret.png"), b"no").unwrap();
        let html = r#"<p><img src="https://old.example/wp-content/uploads/2019/05/engine.png?w=300" alt="Engine"></p>
<p><img src="https://old.example/wp-content/uploads/2019/05/missing.png"></p>
<p><img src="https://old.example/wp-content/uploads/../../secret.png"></p>"#;
        let out = wordpress(Path::new("old.xml"), &wxr(&item("Pictures", "post", "publish", "pictures", html, "")), dir.path()).unwrap();
        let i = &out.posts[0];
        assert_eq!(i.pictures.len(), 1, "{:?}", i.pictures);
        assert_eq!(i.pictures.get("https://old.example/wp-content/uploads/2019/05/engine.png?w=300"), Some(&uploads.join("engine.png")));
        assert_eq!(i.warnings.iter().filter(|w| w.to_string().contains("stays linked")).count(), 2, "{:?}", i.warnings);
    }

    #[test]
    fn a_ghost_export_gives_its_posts_with_tags_in_order_and_skips_pages() {
        let mobiledoc = serde_json::json!({"version": "0.3.1", "cards": [["markdown", {"markdown": "Old *markdown* card."}]]}).to_string();
        let export = serde_json::json!({"db": [{"meta": {"version": "5.80.0"}, "data": {
            "posts": [
                {"id": "p1", "title": "Lexical post", "slug": "lexical-post", "type": "post", "status": "published",
                 "html": "<p>Hello <strong>world</strong>.</p><figure class=\"kg-card kg-image-card\"><img src=\"__GHOST_URL__/content/images/2023/01/cat.jpg\" alt=\"Cat\"></figure>",
                 "feature_image": null, "published_at": "2023-01-02T03:04:05.000Z", "created_at": "2023-01-01T00:00:00.000Z", "updated_at": "2023-02-01T00:00:00.000Z"},
                {"id": "p2", "title": "Old one", "slug": "old-one", "page": false, "status": "draft", "html": null, "mobiledoc": mobiledoc,
                 "published_at": null, "created_at": "2015-06-01 10:00:00", "updated_at": "2015-06-01 10:00:00"},
                {"id": "p3", "title": "About", "slug": "about", "type": "page", "status": "published", "html": "<p>Me</p>"}
            ],
            "tags": [{"id": "t1", "name": "Cats"}, {"id": "t2", "name": "Life"}, {"id": "t3", "name": "#internal"}],
            "posts_tags": [{"post_id": "p1", "tag_id": "t2", "sort_order": 1}, {"post_id": "p1", "tag_id": "t1", "sort_order": 0}, {"post_id": "p1", "tag_id": "t3", "sort_order": 2}]
        }}]});
        let out = ghost(Path::new("ghost.json"), &export.to_string(), Path::new("/nonexistent")).unwrap();
        assert_eq!(out.posts.len(), 2);
        let p = &out.posts[0].post;
        assert_eq!((p.title.as_str(), p.slug.as_str()), ("Lexical post", "lexical-post"));
        assert_eq!(p.body, "Hello **world**.\n\n![Cat](__GHOST_URL__/content/images/2023/01/cat.jpg)\n");
        assert_eq!(p.tags, vec!["Cats", "Life"]);
        assert_eq!(p.date.to_rfc3339(), "2023-01-02T03:04:05+00:00");
        assert!(out.posts[0].warnings.iter().any(|w| w.to_string().contains("cat.jpg")));
        let o = &out.posts[1].post;
        assert_eq!((o.body.as_str(), o.date.to_rfc3339()), ("Old *markdown* card.", "2015-06-01T10:00:00+00:00".to_owned()));
        assert_eq!(out.skipped.len(), 1);
        assert_eq!(out.skipped[0].reason, SkipReason::SitePage);
    }
}
