//! Import of a writer's old blog: Markdown files with front matter, as Jekyll, Hugo and Zola
//! write them, and the pictures the posts show.
//!
//! Which files of a folder are posts, and reading them, is the writer's
//! (`spokes_writer::import`): this module is pure, and parses the text the caller read.
//!
//! Each post ([`parse`]):
//! - Front matter: YAML between `---` lines (Jekyll, Hugo), TOML between `+++` lines (Hugo, Zola).
//! - Title: `title`, else the first `# ` heading, else the file (or bundle folder) name.
//! - Date, the first that is present: front matter `date`; a `YYYY/MM/DD` or `YYYY-MM-DD` in
//!   Zola's `path` or Hugo's `url` (`path = "2019/05/14/some-title"`); a `YYYY-MM-DD-` or
//!   `YYYY-MM-DD_` prefix of the file name or of a bundle's folder name (Jekyll, Zola, Hugo);
//!   `updated`, `lastmod` or `last_modified_at`; else the file's modification time, with a
//!   warning. Forms read: RFC 3339, `YYYY-MM-DD HH:MM:SS ±ZZZZ`, `YYYY-MM-DD`, and the like;
//!   dates without a zone are UTC. A date that cannot be read is a warning, not an error.
//! - Updated: `updated`, `lastmod` or `last_modified_at` when present, else the date.
//! - Slug: `slug`; else the last segment of `path` or `url`; else the file (or bundle folder)
//!   name without its date prefix and extension.
//! - Tags: `tags`, `categories` and `category` (a list or a single string), then
//!   `taxonomies.tags` and `taxonomies.categories` (Zola).
//! - The body is kept byte for byte, but for the links of the pictures it shows; template tags
//!   such as `{% link %}` or `{{ site.x }}` stay as text.
//!
//! Pictures ([`Imported::pictures`]): every `![alt](src)` and HTML `<img src>` with a local
//! `src` ([`local_picture_links`]) is looked up ([`picture_candidates`]) beside the post (page bundles, relative links), then under the site's
//! `static/` folder (Hugo, Zola), its `content/` folder and its root (Jekyll's `assets/`). The
//! caller keeps each file found as a picture and rewrites the link with [`rewrite_links`]; a
//! picture not found is a warning and its link is left as it was.

use crate::doc::{Post, PostState, slugify};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};

/// Errors of import.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("could not read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("{path} is not UTF-8 text")]
    NotText {
        /// The file.
        path: PathBuf,
    },
    /// The file is not a WordPress or Ghost export, or its contents cannot be read as one.
    #[error("{path} cannot be read as {platform} export: {message}")]
    Export {
        /// The file.
        path: PathBuf,
        /// "a WordPress" or "a Ghost".
        platform: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The front matter is not valid YAML or TOML, or is not closed.
    #[error("{path}: the front matter cannot be read: {message}")]
    FrontMatter {
        /// The file.
        path: PathBuf,
        /// What is wrong, from the YAML or TOML parser.
        message: String,
    },
}

/// One imported post plus what could not be kept exactly.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The post, in state [`PostState::Draft`].
    pub post: Post,
    /// Where it came from.
    pub source: PathBuf,
    /// Things that were guessed (for example an unreadable date) or not found (a picture).
    pub warnings: Vec<ImportNote>,
    /// The local pictures the body shows: each link as written in the body (`src`) and the file
    /// it names. Filled by `spokes_writer::import::import_source`; [`parse`] alone leaves it empty.
    pub pictures: BTreeMap<String, PathBuf>,
}

/// Something an import of one post guessed or could not keep exactly.
///
/// Serialised for the app as an object whose `code` names the kind (`unreadable-date`,
/// `date-from-file`, `date-from-import`, `picture-missing`, `picture-not-beside`,
/// `picture-not-kept`, `picture-unreadable`, `was-private`, `plain-text-only`, `shortcodes`,
/// `formatting-too-large`, `formatting-unreadable`), beside the details named below, so the
/// app words it in the writer's language; [`fmt::Display`] gives the English sentence the
/// CLI prints. The codes are stable: the app's catalogues are keyed by them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum ImportNote {
    /// A date in the front matter (`field`: `date`, `updated`, …) held `value`, not a date.
    UnreadableDate {
        /// The front matter's key.
        field: String,
        /// What it held.
        value: String,
    },
    /// No date anywhere in the post: the file's modification time was used.
    DateFromFile,
    /// No date anywhere in the export's entry: the time of the import was used.
    DateFromImport,
    /// A picture the post shows (`src`, as written) was not found; its link stays as it was.
    PictureMissing {
        /// The link as written in the post.
        src: String,
    },
    /// A picture of an export was not in the folder beside it: it stays linked to its old address.
    PictureNotBeside {
        /// The picture's address in the export.
        src: String,
    },
    /// A picture was found but is not one the blog can keep (`reason`: why, in English).
    PictureNotKept {
        /// The link as written in the post.
        src: String,
        /// Why (the image check's sentence).
        reason: String,
    },
    /// A picture's file could not be read (`reason`: the system's words).
    PictureUnreadable {
        /// The link as written in the post.
        src: String,
        /// Why (the operating system's error).
        reason: String,
    },
    /// The post was private on WordPress (it comes in as a draft like every other).
    WasPrivate,
    /// The export held only the post's plain text (Ghost without its HTML or Markdown).
    PlainTextOnly,
    /// WordPress shortcodes (`list`: their names in brackets, comma-separated) stay as text.
    Shortcodes {
        /// The shortcodes found, for example `[gallery], [embed]`.
        list: String,
    },
    /// The post is too large or too deeply nested to keep its formatting: its text came in.
    FormattingTooLarge,
    /// The post's HTML could not be read: its text came in without formatting.
    FormattingUnreadable,
}

impl ImportNote {
    /// The stable code (see the type's documentation).
    pub fn code(&self) -> &'static str {
        match self {
            ImportNote::UnreadableDate { .. } => "unreadable-date",
            ImportNote::DateFromFile => "date-from-file",
            ImportNote::DateFromImport => "date-from-import",
            ImportNote::PictureMissing { .. } => "picture-missing",
            ImportNote::PictureNotBeside { .. } => "picture-not-beside",
            ImportNote::PictureNotKept { .. } => "picture-not-kept",
            ImportNote::PictureUnreadable { .. } => "picture-unreadable",
            ImportNote::WasPrivate => "was-private",
            ImportNote::PlainTextOnly => "plain-text-only",
            ImportNote::Shortcodes { .. } => "shortcodes",
            ImportNote::FormattingTooLarge => "formatting-too-large",
            ImportNote::FormattingUnreadable => "formatting-unreadable",
        }
    }
}

impl fmt::Display for ImportNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportNote::UnreadableDate { field, value } => write!(f, "the {field} `{value}` could not be read"),
            ImportNote::DateFromFile => f.write_str("no date was found in the post; used the file's modification time"),
            ImportNote::DateFromImport => f.write_str("no date was found in the post; used the time of the import"),
            ImportNote::PictureMissing { src } => write!(f, "the picture `{src}` was not found; its link is kept as it was"),
            ImportNote::PictureNotBeside { src } => write!(f, "the picture {src} was not found beside the export: it stays linked to its old address"),
            ImportNote::PictureNotKept { src, reason } => write!(f, "the picture `{src}` was not kept: {reason}"),
            ImportNote::PictureUnreadable { src, reason } => write!(f, "the picture `{src}` could not be read: {reason}"),
            ImportNote::WasPrivate => f.write_str("it was private on WordPress"),
            ImportNote::PlainTextOnly => f.write_str("the export holds only the post's plain text: its formatting did not come in"),
            ImportNote::Shortcodes { list } => write!(f, "WordPress shortcodes ({list}) are kept as text: edit the post to replace them"),
            ImportNote::FormattingTooLarge => f.write_str("the post is too large or too deeply nested to keep its formatting: its text came in without it"),
            ImportNote::FormattingUnreadable => f.write_str("the post's formatting could not be read: its text came in without it"),
        }
    }
}

/// File extensions treated as Markdown posts.
pub const MARKDOWN_EXTENSIONS: &[&str] = &["md", "markdown", "mdown", "mkd", "mkdn"];

/// Whether `p` names a Markdown file ([`MARKDOWN_EXTENSIONS`], any case).
pub fn is_markdown(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| MARKDOWN_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The `src` of every picture `markdown` shows that names a local file: Markdown images and
/// HTML `<img src>`, without `http:`, `https:`, `data:` or `//` addresses and without pictures
/// already kept with the blog (`images/<hash>.<ext>`). In order of first appearance, once each.
pub fn local_picture_links(markdown: &str) -> Vec<String> {
    picture_links(markdown, |src| {
        let lower = src.to_ascii_lowercase();
        let remote = lower.starts_with("//") || lower.split_once(':').is_some_and(|(scheme, _)| !scheme.contains('/') && scheme.len() > 1);
        let kept = src.strip_prefix(crate::image::LINK_PREFIX).is_some_and(|n| n.parse::<crate::image::ImageName>().is_ok());
        !remote && !kept
    })
}

/// The `src` of every picture `markdown` shows (Markdown images and HTML `<img src>`), local
/// or not, trimmed, in order of first appearance, once each.
pub fn all_picture_links(markdown: &str) -> Vec<String> {
    picture_links(markdown, |_| true)
}

fn picture_links(markdown: &str, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    use pulldown_cmark::{Event, Parser, Tag};
    let markdown = &without_liquid_base(markdown);
    let mut out: Vec<String> = Vec::new();
    let mut push = |src: &str| {
        let src = src.trim();
        if !src.is_empty() && wanted(src) && !out.iter().any(|s| s == src) {
            out.push(src.to_owned());
        }
    };
    for ev in Parser::new(markdown) {
        match ev {
            Event::Start(Tag::Image { dest_url, .. }) => push(&dest_url),
            Event::Html(h) | Event::InlineHtml(h) => html_img_srcs(&h).iter().for_each(|s| push(s)),
            _ => {}
        }
    }
    out
}

/// Jekyll's `{{ site.baseurl }}` (and `{{ site.url }}`) before a link's `/`, removed: Jekyll
/// replaces them before it reads the Markdown, and a link with them in is no link to a
/// Markdown reader. Only where a link or `src` starts (after `(`, `"` or `'`).
fn without_liquid_base(markdown: &str) -> std::borrow::Cow<'_, str> {
    const TAGS: [&str; 4] = ["{{ site.baseurl }}/", "{{site.baseurl}}/", "{{ site.url }}/", "{{site.url}}/"];
    if !TAGS.iter().any(|t| markdown.contains(t)) {
        return std::borrow::Cow::Borrowed(markdown);
    }
    let mut out = markdown.to_owned();
    for t in TAGS {
        for open in ['(', '"', '\'', '<'] {
            out = out.replace(&format!("{open}{t}"), &format!("{open}/"));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The `src` values of `<img>` tags in an HTML fragment (quoted with `"` or `'`).
fn html_img_srcs(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find("<img") {
        let tag_start = at + i;
        let tag_end = lower[tag_start..].find('>').map_or(lower.len(), |e| tag_start + e);
        let tag = &lower[tag_start..tag_end];
        if let Some(s) = tag.find(" src=").or_else(|| tag.find("\tsrc=")).or_else(|| tag.find("\nsrc=")) {
            let v = tag_start + s + 5;
            if let Some(q) = html[v..].chars().next().filter(|c| *c == '"' || *c == '\'')
                && let Some(len) = html[v + 1..tag_end.max(v + 1)].find(q)
            {
                out.push(html[v + 1..v + 1 + len].to_owned());
            }
        }
        at = tag_end.max(tag_start + 4);
    }
    out
}

/// Where the picture `src` of a post in `dir` may be, on a site whose root is `site_root`, in
/// the order to look: beside the post for a relative `src`, then under `static/`, `content/`,
/// `assets/` and the root. Jekyll's `{{ site.baseurl }}` and `{{ site.url }}` prefixes are
/// dropped; `?query` and `#fragment` too; `%XX` escapes are decoded. Paths that climb out of
/// the site with `..` are left out; empty when `src` does not decode to UTF-8. The caller
/// takes the first that is a file.
pub fn picture_candidates(src: &str, dir: &Path, site_root: &Path) -> Vec<PathBuf> {
    let mut s = src.trim();
    for prefix in ["{{ site.baseurl }}", "{{site.baseurl}}", "{{ site.url }}", "{{site.url}}", "{{ base_url }}", "{{ config.base_url }}"] {
        s = s.strip_prefix(prefix).unwrap_or(s);
    }
    let s = s.split(['?', '#']).next().unwrap_or_default();
    let Some(decoded) = percent_decode(s) else { return Vec::new() };
    let rel = Path::new(&decoded);
    let relative = !decoded.starts_with('/');
    let rel_clean: PathBuf = rel.components().filter(|c| matches!(c, Component::Normal(_) | Component::ParentDir)).collect();
    let mut candidates = Vec::new();
    if relative {
        candidates.push(dir.join(&rel_clean));
    }
    for base in ["static", "content", "assets", ""] {
        candidates.push(site_root.join(base).join(&rel_clean));
    }
    let root = normalise(site_root);
    candidates.into_iter().map(|c| normalise(&c)).filter(|c| c.starts_with(&root)).collect()
}

/// `path` with `.` and `..` folded away lexically.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Decodes `%XX` escapes; `None` if the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Rewrites the picture links of `markdown`: each Markdown image or HTML `<img src>` whose
/// `src` is a key of `links` gets the value instead. Text outside the links is kept byte for
/// byte, but for Jekyll's `{{ site.baseurl }}` before a link (see `without_liquid_base`).
pub fn rewrite_links(markdown: &str, links: &BTreeMap<String, String>) -> String {
    use pulldown_cmark::{Event, Parser, Tag};
    if links.is_empty() {
        return markdown.to_owned();
    }
    let markdown = &without_liquid_base(markdown);
    // (range in `markdown`, replacement), non-overlapping, in order.
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for (ev, range) in Parser::new(markdown).into_offset_iter() {
        let srcs: Vec<String> = match &ev {
            Event::Start(Tag::Image { dest_url, .. }) => vec![dest_url.trim().to_owned()],
            Event::Html(h) | Event::InlineHtml(h) => html_img_srcs(h),
            _ => continue,
        };
        for src in srcs {
            let Some(new) = links.get(&src) else { continue };
            let text = &markdown[range.clone()];
            // For a Markdown image, the destination follows `](`; for HTML, it is quoted.
            let from = if matches!(ev, Event::Start(_)) { text.rfind("](").map_or(0, |i| i + 2) } else { 0 };
            if let Some(i) = text[from..].find(src.as_str()) {
                let start = range.start + from + i;
                let r = start..start + src.len();
                if edits.last().is_none_or(|(last, _)| last.end <= r.start) {
                    edits.push((r, new.clone()));
                }
            }
        }
    }
    let mut out = String::with_capacity(markdown.len());
    let mut at = 0;
    for (r, new) in edits {
        out.push_str(&markdown[at..r.start]);
        out.push_str(&new);
        at = r.end;
    }
    out.push_str(&markdown[at..]);
    out
}

/// Front matter as a loose tree, from either syntax.
type Tree = serde_json::Value;

fn split_front_matter(text: &str) -> Option<(char, &str, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (delim, kind) in [("---", 'y'), ("+++", 't')] {
        let Some(rest) = text.strip_prefix(delim) else { continue };
        let Some(rest) = rest.strip_prefix("\r\n").or_else(|| rest.strip_prefix('\n')) else { continue };
        // The closing delimiter is a line of its own.
        let mut offset = 0;
        for line in rest.split_inclusive('\n') {
            if line.trim_end() == delim {
                let fm = &rest[..offset];
                let body = &rest[offset + line.len()..];
                return Some((kind, fm, body));
            }
            offset += line.len();
        }
        return Some((kind, rest, "\u{0}unterminated"));
    }
    None
}

/// Parses file text. `path` gives the file-name fallbacks; `mtime` the last-resort date (the
/// file's modification time, or when the caller has none, the time of the import).
/// Errors: [`ImportError::FrontMatter`].
pub fn parse(path: &Path, text: &str, mtime: DateTime<FixedOffset>) -> Result<Imported, ImportError> {
    let fm_err = |message: String| ImportError::FrontMatter { path: path.into(), message };
    let (tree, body): (Tree, &str) = match split_front_matter(text) {
        None => (Tree::Null, text),
        Some((_, _, "\u{0}unterminated")) => return Err(fm_err("the closing delimiter line is missing".into())),
        Some(('y', fm, body)) => {
            let v: Tree = if fm.trim().is_empty() { Tree::Null } else { serde_yaml_ng::from_str(fm).map_err(|e| fm_err(e.to_string()))? };
            (v, body)
        }
        Some((_, fm, body)) => {
            let v: toml::Table = toml::from_str(fm).map_err(|e| fm_err(e.to_string()))?;
            (toml_to_tree(toml::Value::Table(v)), body)
        }
    };
    if !(tree.is_object() || tree.is_null()) {
        return Err(fm_err("the front matter is not a set of `key: value` lines".into()));
    }
    let get = |k: &str| tree.get(k);
    let as_string = |v: &Tree| match v {
        Tree::String(s) => Some(s.clone()),
        Tree::Number(n) => Some(n.to_string()),
        Tree::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let mut warnings = Vec::new();
    // A page bundle (`2019-05-14-title/index.md`) is named by its folder.
    let file_stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("post");
    let stem = match (file_stem.eq_ignore_ascii_case("index"), path.parent().and_then(Path::file_name).and_then(|n| n.to_str())) {
        (true, Some(folder)) => folder,
        _ => file_stem,
    };
    let (name_date, name_rest) = split_dated_name(stem);
    // Zola's `path` and Hugo's `url` (and Jekyll's `permalink`) give the address, often with the date.
    let address = ["path", "url", "permalink"].iter().find_map(|k| get(k).and_then(as_string)).filter(|a| !a.trim().is_empty());

    let body = body.strip_prefix('\n').unwrap_or(body).to_owned();
    let title = get("title")
        .and_then(as_string)
        .filter(|t| !t.trim().is_empty())
        .or_else(|| body.lines().find_map(|l| l.strip_prefix("# ").map(|t| t.trim().to_owned())))
        .unwrap_or_else(|| name_rest.replace(['-', '_'], " "));

    let mut read_date = |key: &str| -> Option<DateTime<FixedOffset>> {
        let s = get(key).and_then(as_string)?;
        let d = parse_date(&s);
        if d.is_none() {
            warnings.push(ImportNote::UnreadableDate { field: key.to_owned(), value: s.clone() });
        }
        d
    };
    let front_date = read_date("date");
    let updated = read_date("updated").or_else(|| read_date("lastmod")).or_else(|| read_date("last_modified_at"));
    let date = match front_date.or_else(|| address.as_deref().and_then(date_in_address)).or(name_date).or(updated) {
        Some(d) => d,
        None => {
            warnings.push(ImportNote::DateFromFile);
            mtime
        }
    };

    let slug = get("slug")
        .and_then(as_string)
        .map(|s| slugify(&s))
        .or_else(|| address.as_deref().and_then(|a| a.split(['/', '\\']).rfind(|s| !s.is_empty() && *s != "index.html")).map(|s| slugify(s.trim_end_matches(".html"))))
        .unwrap_or_else(|| slugify(&name_rest));

    let mut tags: Vec<String> = Vec::new();
    let mut add = |v: Option<&Tree>| match v {
        Some(Tree::Array(a)) => tags.extend(a.iter().filter_map(as_string)),
        Some(Tree::String(s)) => tags.extend(s.split_whitespace().map(str::to_owned)),
        _ => {}
    };
    add(get("tags"));
    add(get("categories"));
    add(get("category"));
    if let Some(t) = get("taxonomies") {
        add(t.get("tags"));
        add(t.get("categories"));
    }
    let mut seen = std::collections::HashSet::new();
    tags.retain(|t| seen.insert(t.clone()));

    let mut post = Post::new(&title, &body);
    post.slug = slug;
    post.tags = tags;
    post.date = date;
    post.updated = updated.filter(|u| *u >= date).unwrap_or(date);
    post.state = PostState::Draft;
    Ok(Imported { post, source: path.into(), warnings, pictures: BTreeMap::new() })
}

/// The date in an address such as `2019/05/14/some-title` or `/blog/2019-05-14-title/`: the
/// first `YYYY/MM/DD` (or `YYYY-MM-DD`) run of segments, read as midnight UTC.
fn date_in_address(address: &str) -> Option<DateTime<FixedOffset>> {
    let segments: Vec<&str> = address.split(['/', '\\']).filter(|s| !s.is_empty()).collect();
    let midnight = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default()).fixed_offset();
    for w in segments.windows(3) {
        if w[0].len() == 4
            && w[1].len() == 2
            && w[2].len() == 2
            && let Ok(d) = NaiveDate::parse_from_str(&format!("{}-{}-{}", w[0], w[1], w[2]), "%Y-%m-%d")
        {
            return Some(midnight(d));
        }
    }
    segments.iter().find_map(|s| split_dated_name(s).0)
}

fn toml_to_tree(v: toml::Value) -> Tree {
    match v {
        toml::Value::String(s) => Tree::String(s),
        toml::Value::Integer(i) => Tree::from(i),
        toml::Value::Float(f) => Tree::from(f),
        toml::Value::Boolean(b) => Tree::Bool(b),
        toml::Value::Datetime(d) => Tree::String(d.to_string()),
        toml::Value::Array(a) => Tree::Array(a.into_iter().map(toml_to_tree).collect()),
        toml::Value::Table(t) => Tree::Object(t.into_iter().map(|(k, v)| (k, toml_to_tree(v))).collect()),
    }
}

fn split_dated_name(stem: &str) -> (Option<DateTime<FixedOffset>>, String) {
    if stem.len() > 11
        && matches!(stem.as_bytes()[10], b'-' | b'_')
        && stem.is_char_boundary(10)
        && let Ok(d) = NaiveDate::parse_from_str(&stem[..10], "%Y-%m-%d")
    {
        let dt = Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default()).fixed_offset();
        return (Some(dt), stem[11..].to_owned());
    }
    (None, stem.to_owned())
}

/// Parses the date forms static site generators write. Dates without a zone are read as UTC.
pub fn parse_date(s: &str) -> Option<DateTime<FixedOffset>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d);
    }
    for f in ["%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M:%S%.f %z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d);
        }
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Some(Utc.from_utc_datetime(&d).fixed_offset());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Utc.from_utc_datetime(&d).fixed_offset())
}

/// Writes a post as Markdown with YAML front matter, the form [`parse`] reads back (and
/// Jekyll and Hugo read): `title`, `date` (RFC 3339), `updated`, `slug`, `tags`, `id`, and
/// `draft: true` for a post that is not published.
pub fn to_markdown(post: &Post) -> String {
    let mut fm = serde_json::Map::new();
    fm.insert("title".into(), post.title.clone().into());
    fm.insert("date".into(), post.date.to_rfc3339().into());
    fm.insert("updated".into(), post.updated.to_rfc3339().into());
    fm.insert("slug".into(), post.slug.clone().into());
    fm.insert("tags".into(), post.tags.clone().into());
    fm.insert("id".into(), post.id.clone().into());
    if post.state != PostState::Published {
        fm.insert("draft".into(), true.into());
    }
    let yaml = serde_yaml_ng::to_string(&Tree::Object(fm)).unwrap_or_default();
    format!("---\n{yaml}---\n{}", post.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The time of a test import.
    fn at() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2020-02-02T02:02:02Z").unwrap()
    }

    fn p(name: &str, text: &str) -> Result<Imported, ImportError> {
        parse(Path::new(name), text, at())
    }

    #[test]
    fn exported_markdown_reads_back_as_the_same_post() {
        let mut post = Post::new("Quotes: \"yes\" — and # signs", "# Heading\n\nBody with --- inside.\n");
        post.tags = vec!["one".into(), "two words".into()];
        let text = to_markdown(&post);
        let back = parse(Path::new("x.md"), &text, at()).unwrap().post;
        assert_eq!((back.title, back.body, back.slug, back.tags, back.date), (post.title, post.body, post.slug, post.tags, post.date));
        assert!(text.contains("draft: true"));
    }

    #[test]
    fn jekyll_yaml_front_matter() {
        let i = p("2016-01-20-jekyll-3-0-2-released.markdown", "---\ntitle: 'Jekyll 3.0.2 Released'\ndate: 2016-01-20 14:08:18 -0800\ncategory: release\n---\n\nBody {% link _docs/x.md %} {{ site.repository }}\n").unwrap();
        assert_eq!(i.post.title, "Jekyll 3.0.2 Released");
        assert_eq!(i.post.date.to_rfc3339(), "2016-01-20T14:08:18-08:00");
        assert_eq!(i.post.slug, "jekyll-3-0-2-released");
        assert_eq!(i.post.tags, vec!["release"]);
        assert_eq!(i.post.body, "Body {% link _docs/x.md %} {{ site.repository }}\n");
    }

    #[test]
    fn hugo_and_zola_toml_front_matter() {
        let i = p("hello.md", "+++\ntitle = \"Hello\"\ndate = 2024-03-01T10:00:00+01:00\nslug = \"hi-there\"\n[taxonomies]\ntags = [\"a\", \"b\"]\n+++\nText\n").unwrap();
        assert_eq!(i.post.title, "Hello");
        assert_eq!(i.post.slug, "hi-there");
        assert_eq!(i.post.tags, vec!["a", "b"]);
        assert_eq!(i.post.date.to_rfc3339(), "2024-03-01T10:00:00+01:00");
    }

    #[test]
    fn unreadable_date_falls_back_to_the_file_name_with_a_warning() {
        let i = p("2023-01-29-x.md", "---\ntitle: X\ndate: 2023-01-29 18:30:22 2023 -0800\n---\nb").unwrap();
        assert_eq!(i.post.date.date_naive().to_string(), "2023-01-29");
        assert_eq!(i.warnings, [ImportNote::UnreadableDate { field: "date".into(), value: "2023-01-29 18:30:22 2023 -0800".into() }]);
        // For the app: the code and the details, as the catalogue's message takes them.
        assert_eq!(serde_json::to_value(&i.warnings[0]).unwrap(), serde_json::json!({"code": "unreadable-date", "field": "date", "value": "2023-01-29 18:30:22 2023 -0800"}));
        assert_eq!(i.warnings[0].code(), "unreadable-date");
    }

    #[test]
    fn broken_front_matter_is_a_clear_error() {
        for bad in ["---\ntitle: [unclosed\n---\nbody", "---\ntitle: x\nno end", "+++\ntitle = \n+++\n", "---\n- a list\n---\n"] {
            let e = p("x.md", bad).unwrap_err();
            assert!(matches!(e, ImportError::FrontMatter { .. }), "{bad}: {e}");
            assert!(e.to_string().contains("x.md"));
        }
    }

    #[test]
    fn no_front_matter_uses_heading_and_name() {
        let i = p("notes.md", "# A Heading\n\ntext").unwrap();
        assert_eq!(i.post.title, "A Heading");
        assert_eq!(i.post.slug, "notes");
    }

    #[test]
    fn zola_path_gives_the_date_and_slug() {
        let i = p("content/blog/some-title.md", "+++\ntitle = \"T\"\npath = \"2019/05/14/some-title\"\n+++\nx").unwrap();
        assert_eq!(i.post.date.to_rfc3339(), "2019-05-14T00:00:00+00:00");
        assert_eq!(i.post.slug, "some-title");
        assert!(i.warnings.is_empty(), "{:?}", i.warnings);
        // Hugo's `url`, with a trailing slash and the date as one segment.
        let i = p("x.md", "---\ntitle: T\nurl: /blog/2011-02-03-other/\n---\nx").unwrap();
        assert_eq!((i.post.date.to_rfc3339().as_str(), i.post.slug.as_str()), ("2011-02-03T00:00:00+00:00", "2011-02-03-other"));
        // The front matter's own date wins over the address.
        let i = p("x.md", "+++\ndate = 2020-01-02\npath = \"2019/05/14/t\"\n+++\n").unwrap();
        assert_eq!(i.post.date.date_naive().to_string(), "2020-01-02");
    }

    #[test]
    fn file_and_bundle_names_give_the_date() {
        let i = p("_posts/2014-12-12-title.md", "---\ntitle: T\n---\nx").unwrap();
        assert_eq!((i.post.date.to_rfc3339().as_str(), i.post.slug.as_str()), ("2014-12-12T00:00:00+00:00", "title"));
        // Zola's underscore form, and a page bundle named by its folder.
        let i = p("content/2015-06-07_holiday/index.md", "+++\ntitle = \"Holiday\"\n+++\nx").unwrap();
        assert_eq!((i.post.date.to_rfc3339().as_str(), i.post.slug.as_str()), ("2015-06-07T00:00:00+00:00", "holiday"));
        let i = p("content/posts/undated-bundle/index.md", "no front matter").unwrap();
        assert_eq!((i.post.slug.as_str(), i.post.title.as_str()), ("undated-bundle", "undated bundle"));
    }

    #[test]
    fn updated_is_kept_and_dates_a_post_that_has_nothing_else() {
        let i = p("x.md", "---\ndate: 2020-01-01\nupdated: 2021-02-02T10:00:00Z\n---\n").unwrap();
        assert_eq!(i.post.date.date_naive().to_string(), "2020-01-01");
        assert_eq!(i.post.updated.to_rfc3339(), "2021-02-02T10:00:00+00:00");
        let i = p("x.md", "+++\nlastmod = 2018-03-04\n+++\n").unwrap();
        assert_eq!((i.post.date.date_naive().to_string(), i.post.updated.date_naive().to_string()), ("2018-03-04".into(), "2018-03-04".into()));
        // Nothing at all: the file's time, said as a warning.
        let mtime = DateTime::parse_from_rfc3339("2017-07-07T07:07:07Z").unwrap();
        let i = parse(Path::new("x.md"), "text", mtime).unwrap();
        assert_eq!(i.post.date, mtime);
        assert_eq!(i.warnings, [ImportNote::DateFromFile]);
        assert!(i.warnings[0].to_string().contains("modification time"));
    }

    #[test]
    fn picture_links_are_rewritten_and_nothing_else_changes() {
        let md = "Text with boats.png in it.\n\n![Boats](boats.png \"title\")\n\n<p><img alt=\"n\" src='./n.png'></p>\n\n`![code](boats.png)`\n";
        let links: BTreeMap<String, String> = [("boats.png".to_owned(), "images/aa.png".to_owned()), ("./n.png".to_owned(), "images/bb.png".to_owned())].into();
        assert_eq!(local_picture_links(md), ["boats.png", "./n.png"]);
        let out = rewrite_links(md, &links);
        assert_eq!(out, "Text with boats.png in it.\n\n![Boats](images/aa.png \"title\")\n\n<p><img alt=\"n\" src='images/bb.png'></p>\n\n`![code](boats.png)`\n");
        assert!(local_picture_links("![x](https://e.org/a.png) ![y](data:image/png;base64,AA) ![z](//cdn/a.png)").is_empty());
    }
}
