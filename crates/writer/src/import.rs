//! Finding and reading the files of a writer's old blog (Jekyll, Hugo, Zola): the folder walk
//! and the file reads, over [`spokes_core::import`], which parses the text and says where a
//! post's pictures may be.
//!
//! What is a post ([`collect`]):
//! - A folder that is a Jekyll site (it has `_posts/`) gives the files under `_posts/` and
//!   `_drafts/`; a Hugo or Zola site (`content/` beside `config.toml`, `hugo.toml`, `zola.toml`,
//!   `config.yaml` or `hugo.yaml`) gives the files under `content/`; any other folder gives every
//!   Markdown file in it. A file named on its own is always taken.
//! - Skipped, and reported with the reason ([`Skipped`]): section and list pages (`_index.md`),
//!   a folder's `README.md`, and files in build output and theme folders (`_site`, `public`,
//!   `themes`, `node_modules`, `vendor`) and hidden folders.

use chrono::{DateTime, Utc};
use spokes_core::import::{ImportError, ImportNote, Imported, is_markdown, local_picture_links, parse, picture_candidates};
use std::path::{Path, PathBuf};

/// A Markdown file found by [`collect`] and the site it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The file.
    pub path: PathBuf,
    /// The root of its site (where `static/`, `assets/` and `content/` are looked for), or the
    /// folder the import was asked for.
    pub site_root: PathBuf,
}

/// Why a Markdown file was not imported as a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// A WordPress attachment, menu entry or other entry of an export that is not writing.
    NotWriting,
    /// In the old blog's trash.
    Trashed,
    /// `_index.md`: a Hugo or Zola section's list page.
    SectionIndex,
    /// `README.md`: notes about the folder.
    Readme,
    /// Under `_site`, `public`, `themes`, `node_modules` or `vendor`: built pages or a theme's.
    BuildOrTheme,
    /// In a Jekyll site but outside `_posts` and `_drafts`, or in a Hugo or Zola site outside
    /// `content`: a page of the site, not a post.
    SitePage,
}

impl SkipReason {
    /// A stable code for the reason (`section-index`, `readme`, `build-or-theme`, `site-page`,
    /// `not-writing`, `trashed`): the app words it in the writer's language.
    pub fn code(self) -> &'static str {
        match self {
            SkipReason::SectionIndex => "section-index",
            SkipReason::Readme => "readme",
            SkipReason::BuildOrTheme => "build-or-theme",
            SkipReason::SitePage => "site-page",
            SkipReason::NotWriting => "not-writing",
            SkipReason::Trashed => "trashed",
        }
    }

    /// A sentence for the writer.
    pub fn sentence(self) -> &'static str {
        match self {
            SkipReason::SectionIndex => "a section's index page, not a post",
            SkipReason::Readme => "a README, not a post",
            SkipReason::BuildOrTheme => "part of the built site or a theme, not a post",
            SkipReason::SitePage => "a page of the site outside its posts",
            SkipReason::NotWriting => "a picture, menu or other part of the old site, not a post",
            SkipReason::Trashed => "in the old blog's trash",
        }
    }
}

/// A file skipped by [`collect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// The entry of an export file skipped (its title), or `None` for a whole file.
    pub item: Option<String>,
    /// Why.
    pub reason: SkipReason,
}

/// What [`collect`] found: the posts' files, sorted, and what it skipped.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// Markdown files to import, sorted by path.
    pub files: Vec<SourceFile>,
    /// Markdown files that are not posts, sorted by path.
    pub skipped: Vec<Skipped>,
}

/// Folders that hold built pages, themes or dependencies, never posts.
const NOT_POSTS: &[&str] = &["_site", "public", "themes", "node_modules", "vendor"];

/// Files that mark the root of a Hugo or Zola site.
const SITE_CONFIGS: &[&str] = &["config.toml", "zola.toml", "hugo.toml", "config.yaml", "hugo.yaml", "hugo.json", "config.json"];

/// The kind of site a folder is the root of.
fn site_kind(dir: &Path) -> Option<&'static str> {
    if dir.join("_posts").is_dir() {
        Some("jekyll")
    } else if dir.join("content").is_dir() && SITE_CONFIGS.iter().any(|c| dir.join(c).is_file()) {
        Some("hugo-zola")
    } else {
        None
    }
}

/// The site root of `file`: the nearest ancestor that is a Jekyll, Hugo or Zola site, or `fallback`.
fn site_root_of(file: &Path, fallback: &Path) -> PathBuf {
    file.ancestors().skip(1).find(|a| site_kind(a).is_some()).map(Path::to_path_buf).unwrap_or_else(|| fallback.to_path_buf())
}

/// Lists the posts' Markdown files under `paths` (files as given, folders as the module docs
/// say), sorted, and the Markdown files skipped with the reason. Errors: [`ImportError::Io`].
pub fn collect(paths: &[PathBuf]) -> Result<Collected, ImportError> {
    let mut out = Collected::default();
    fn walk(dir: &Path, root: &Path, out: &mut Collected) -> Result<(), ImportError> {
        let rd = std::fs::read_dir(dir).map_err(|source| ImportError::Io { path: dir.into(), source })?;
        for e in rd {
            let e = e.map_err(|source| ImportError::Io { path: dir.into(), source })?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let child = e.path();
            if child.is_dir() {
                if NOT_POSTS.contains(&name.as_str()) {
                    skip_all(&child, SkipReason::BuildOrTheme, out)?;
                } else {
                    walk(&child, root, out)?;
                }
            } else if is_markdown(&child) {
                let stem = child.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_ascii_lowercase();
                match stem.as_str() {
                    "_index" => out.skipped.push(Skipped { path: child, item: None, reason: SkipReason::SectionIndex }),
                    "readme" => out.skipped.push(Skipped { path: child, item: None, reason: SkipReason::Readme }),
                    _ => out.files.push(SourceFile { site_root: site_root_of(&child, root), path: child }),
                }
            }
        }
        Ok(())
    }
    fn skip_all(dir: &Path, reason: SkipReason, out: &mut Collected) -> Result<(), ImportError> {
        let mut found = Collected::default();
        walk(dir, dir, &mut found)?;
        out.skipped.extend(found.files.into_iter().map(|f| Skipped { path: f.path, item: None, reason }));
        out.skipped.extend(found.skipped.into_iter().map(|s| Skipped { path: s.path, item: None, reason }));
        Ok(())
    }
    for p in paths {
        let md = std::fs::metadata(p).map_err(|source| ImportError::Io { path: p.clone(), source })?;
        if !md.is_dir() {
            out.files.push(SourceFile { path: p.clone(), site_root: site_root_of(p, p.parent().unwrap_or(Path::new("."))) });
            continue;
        }
        let posts_dirs: Vec<PathBuf> = match site_kind(p) {
            Some("jekyll") => vec![p.join("_posts"), p.join("_drafts")],
            Some(_) => vec![p.join("content")],
            None => {
                walk(p, p, &mut out)?;
                continue;
            }
        };
        let mut site = Collected::default();
        walk(p, p, &mut site)?;
        for f in site.files {
            if posts_dirs.iter().any(|d| f.path.starts_with(d)) {
                out.files.push(f);
            } else {
                out.skipped.push(Skipped { path: f.path, item: None, reason: SkipReason::SitePage });
            }
        }
        out.skipped.extend(site.skipped);
    }
    out.files.sort_by(|a, b| a.path.cmp(&b.path));
    out.files.dedup();
    out.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Lists the posts' Markdown files under `paths`, sorted (see [`collect`]).
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ImportError> {
    Ok(collect(paths)?.files.into_iter().map(|f| f.path).collect())
}

/// Everything an import of some paths brings in, read and parsed, nothing written yet.
#[derive(Debug, Clone, Default)]
pub struct Read {
    /// The posts, as drafts: the Markdown files' in path order, then each export's in its order.
    pub posts: Vec<Imported>,
    /// What was found and is not a post, with the reason.
    pub skipped: Vec<Skipped>,
}

/// Reads everything `paths` name: a WordPress (`.xml`) or Ghost (`.json`) export file named on
/// its own is read as one ([`crate::platforms`]); anything else is collected ([`collect`]) and
/// each Markdown file read ([`import_source`]). Errors: the first [`ImportError`].
pub fn read(paths: &[PathBuf]) -> Result<Read, ImportError> {
    let (mut exports, mut rest) = (Vec::new(), Vec::new());
    for p in paths {
        match crate::platforms::Platform::of(p).filter(|_| p.is_file()) {
            Some(platform) => exports.push((p, platform)),
            None => rest.push(p.clone()),
        }
    }
    let collected = if rest.is_empty() { Collected::default() } else { collect(&rest)? };
    let mut out = Read { posts: collected.files.iter().map(import_source).collect::<Result<Vec<_>, _>>()?, skipped: collected.skipped };
    for (path, platform) in exports {
        let e = crate::platforms::read_export(path, platform)?;
        out.posts.extend(e.posts);
        out.skipped.extend(e.skipped);
    }
    Ok(out)
}

/// Reads and parses one file found by [`collect`], and finds the pictures it shows (see the
/// module docs). Errors: [`ImportError`].
pub fn import_source(source: &SourceFile) -> Result<Imported, ImportError> {
    let mut i = import_file(&source.path)?;
    let dir = source.path.parent().unwrap_or(Path::new("."));
    for src in local_picture_links(&i.post.body) {
        match picture_candidates(&src, dir, &source.site_root).into_iter().find(|c| c.is_file()) {
            Some(file) => {
                i.pictures.insert(src, file);
            }
            None => i.warnings.push(ImportNote::PictureMissing { src }),
        }
    }
    Ok(i)
}

/// Reads and parses one file ([`spokes_core::import::parse`]; the file's modification time
/// dates a post that says nothing of its date, and `now` one whose time cannot be read).
pub fn import_file(path: &Path) -> Result<Imported, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io { path: path.into(), source })?;
    let text = String::from_utf8(bytes).map_err(|_| ImportError::NotText { path: path.into() })?;
    let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok().map(|t| DateTime::<Utc>::from(t).fixed_offset());
    parse(path, &text, mtime.unwrap_or_else(|| Utc::now().fixed_offset()))
}


#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::import::rewrite_links;
    use std::collections::BTreeMap;

    fn write(root: &Path, rel: &str, bytes: &[u8]) {
        let f = root.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, bytes).unwrap();
    }

    #[test]
    fn a_zola_site_gives_its_posts_and_their_pictures_and_skips_section_pages() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        write(root, "config.toml", b"base_url = 'x'");
        write(root, "content/_index.md", b"+++\ntitle = 'Home'\n+++\n");
        write(root, "content/blog/_index.md", b"+++\nsort_by = 'date'\n+++\n");
        write(root, "content/blog/2019-05-14-harbour/index.md", b"+++\ntitle = 'Harbour'\n+++\n![The harbour](boats.png)\n\n<img src=\"./night%20sky.png\" alt=x>\n\n![gone](missing.png) ![remote](https://example.org/a.png)\n");
        write(root, "content/blog/2019-05-14-harbour/boats.png", spokes_core::image::EXAMPLE_PNG);
        write(root, "content/blog/2019-05-14-harbour/night sky.png", spokes_core::image::EXAMPLE_PNG);
        write(root, "content/blog/plain.md", b"+++\ntitle = 'Plain'\npath = '2020/01/02/plain'\n+++\n![logo](/images/logo.png)\n![up](../../../outside.png)");
        write(root, "static/images/logo.png", spokes_core::image::EXAMPLE_PNG);
        write(root, "outside.png", spokes_core::image::EXAMPLE_PNG);
        write(root, "themes/t/content/demo.md", b"theme demo");
        write(root, "README.md", b"about the repo");
        let c = collect(&[root.to_path_buf()]).unwrap();
        let names: Vec<String> = c.files.iter().map(|f| f.path.strip_prefix(root).unwrap().display().to_string()).collect();
        assert_eq!(names, ["content/blog/2019-05-14-harbour/index.md", "content/blog/plain.md"]);
        let skipped: Vec<(String, SkipReason)> = c.skipped.iter().map(|s| (s.path.strip_prefix(root).unwrap().display().to_string(), s.reason)).collect();
        assert_eq!(
            skipped,
            [
                ("README.md".into(), SkipReason::Readme),
                ("content/_index.md".into(), SkipReason::SectionIndex),
                ("content/blog/_index.md".into(), SkipReason::SectionIndex),
                ("themes/t/content/demo.md".into(), SkipReason::BuildOrTheme),
            ]
        );
        let harbour = import_source(&c.files[0]).unwrap();
        assert_eq!(harbour.post.date.date_naive().to_string(), "2019-05-14");
        let found: Vec<(&str, PathBuf)> = harbour.pictures.iter().map(|(k, v)| (k.as_str(), v.strip_prefix(root).unwrap().to_path_buf())).collect();
        assert_eq!(found, [("./night%20sky.png", "content/blog/2019-05-14-harbour/night sky.png".into()), ("boats.png", "content/blog/2019-05-14-harbour/boats.png".into())]);
        assert!(harbour.warnings.iter().any(|w| w.to_string().contains("missing.png")), "{:?}", harbour.warnings);
        let plain = import_source(&c.files[1]).unwrap();
        assert_eq!(plain.pictures.get("/images/logo.png").map(|f| f.strip_prefix(root).unwrap().to_path_buf()), Some("static/images/logo.png".into()));
        // `../../../outside.png` climbs above the site root: not followed.
        assert!(!plain.pictures.contains_key("../../../outside.png"));
    }

    #[test]
    fn a_jekyll_site_gives_its_posts_and_its_assets() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        write(root, "_config.yml", b"title: x");
        write(root, "_posts/2014-12-12-title.md", b"---\ntitle: T\n---\n![a]({{ site.baseurl }}/assets/img/a.png)\n");
        write(root, "_drafts/idea.md", b"---\ntitle: Idea\n---\n");
        write(root, "about.md", b"---\ntitle: About\n---\n");
        write(root, "_site/2014/12/12/title.md", b"built");
        write(root, "assets/img/a.png", spokes_core::image::EXAMPLE_PNG);
        let c = collect(&[root.to_path_buf()]).unwrap();
        assert_eq!(c.files.len(), 2);
        assert_eq!(c.skipped.iter().map(|s| s.reason).collect::<Vec<_>>(), [SkipReason::BuildOrTheme, SkipReason::SitePage]);
        let post = c.files.iter().find(|f| f.path.starts_with(root.join("_posts"))).unwrap();
        let i = import_source(post).unwrap();
        assert_eq!(i.pictures.get("/assets/img/a.png"), Some(&root.join("assets/img/a.png")), "{:?}", i.warnings);
        let kept: BTreeMap<String, String> = [("/assets/img/a.png".to_owned(), "images/aa.png".to_owned())].into();
        assert_eq!(rewrite_links(&i.post.body, &kept), "![a](images/aa.png)\n");
    }
}
