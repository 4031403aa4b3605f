//! Import of Markdown files with front matter, as Jekyll, Hugo and Zola write them.
//!
//! - YAML front matter between `---` lines (Jekyll, Hugo), TOML between `+++` lines (Hugo, Zola).
//! - Title: `title`, else the first `# ` heading, else the file name.
//! - Date: `date` in the common forms (RFC 3339, `YYYY-MM-DD HH:MM:SS ±ZZZZ`, `YYYY-MM-DD`), else
//!   the `YYYY-MM-DD-` prefix of a Jekyll file name, else the file's modification time. A date
//!   that cannot be read is reported as a warning, not an error.
//! - Slug: `slug`, else the file name without the date prefix and extension.
//! - Tags: `tags`, `categories` and `category` (a list or a single string), then
//!   `taxonomies.tags` and `taxonomies.categories` (Zola).
//! - The body is kept byte for byte; template tags such as `{% link %}` or `{{ site.x }}` stay
//!   as text.

use crate::doc::{Post, PostState, slugify};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::path::{Path, PathBuf};

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
    /// Things that were guessed (for example an unreadable date).
    pub warnings: Vec<String>,
}

/// File extensions treated as Markdown posts.
pub const MARKDOWN_EXTENSIONS: &[&str] = &["md", "markdown", "mdown", "mkd", "mkdn"];

/// Lists Markdown files under `paths` (files as given, folders recursively), sorted.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ImportError> {
    let mut out = Vec::new();
    fn walk(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), ImportError> {
        let md = std::fs::metadata(p).map_err(|source| ImportError::Io { path: p.into(), source })?;
        if md.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|source| ImportError::Io { path: p.into(), source })?;
            for e in rd {
                let e = e.map_err(|source| ImportError::Io { path: p.into(), source })?;
                let name = e.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                let child = e.path();
                if child.is_dir() {
                    walk(&child, out)?;
                } else if is_markdown(&child) {
                    out.push(child);
                }
            }
        } else {
            out.push(p.to_path_buf());
        }
        Ok(())
    }
    for p in paths {
        walk(p, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn is_markdown(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| MARKDOWN_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Reads and parses one file.
pub fn import_file(path: &Path) -> Result<Imported, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io { path: path.into(), source })?;
    let text = String::from_utf8(bytes).map_err(|_| ImportError::NotText { path: path.into() })?;
    let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok().map(|t| DateTime::<Utc>::from(t).fixed_offset());
    parse(path, &text, mtime)
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

/// Parses file text. `path` gives the file-name fallbacks; `mtime` the last-resort date.
pub fn parse(path: &Path, text: &str, mtime: Option<DateTime<FixedOffset>>) -> Result<Imported, ImportError> {
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
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("post").to_owned();
    let (name_date, name_rest) = split_dated_name(&stem);

    let body = body.strip_prefix('\n').unwrap_or(body).to_owned();
    let title = get("title")
        .and_then(as_string)
        .filter(|t| !t.trim().is_empty())
        .or_else(|| body.lines().find_map(|l| l.strip_prefix("# ").map(|t| t.trim().to_owned())))
        .unwrap_or_else(|| name_rest.replace(['-', '_'], " "));

    let date = match get("date").and_then(as_string) {
        Some(s) => match parse_date(&s) {
            Some(d) => Some(d),
            None => {
                warnings.push(format!("the date `{s}` could not be read; used the file name or file time instead"));
                None
            }
        },
        None => None,
    };
    let date = date
        .or(name_date)
        .or(mtime)
        .unwrap_or_else(|| Utc::now().fixed_offset());

    let slug = get("slug").and_then(as_string).map(|s| slugify(&s)).unwrap_or_else(|| slugify(&name_rest));

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
    post.updated = date;
    post.state = PostState::Draft;
    Ok(Imported { post, source: path.into(), warnings })
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
    if stem.len() > 11 && stem.as_bytes()[10] == b'-'
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

    fn p(name: &str, text: &str) -> Result<Imported, ImportError> {
        parse(Path::new(name), text, None)
    }

    #[test]
    fn exported_markdown_reads_back_as_the_same_post() {
        let mut post = Post::new("Quotes: \"yes\" — and # signs", "# Heading\n\nBody with --- inside.\n");
        post.tags = vec!["one".into(), "two words".into()];
        let text = to_markdown(&post);
        let back = parse(Path::new("x.md"), &text, None).unwrap().post;
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
        assert_eq!(i.warnings.len(), 1);
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
}
