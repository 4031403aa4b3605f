//! Writing the export archive (layout: [`spokes_core::archive`]) and the static site.

use crate::profile::{Profile, ProfileError};
use spokes_core::archive::{ARCHIVE_FORMAT, ARCHIVE_VERSION, Archive, ArchiveError, ArchiveWriter, Manifest};
use spokes_sync::Replica;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Reads and checks the archive at `path` ([`spokes_core::archive::read_archive_from`]).
///
/// Errors: [`ArchiveError::Io`] if the file cannot be opened, else as `read_archive_from`.
pub fn read_archive(path: &Path) -> Result<Archive, ArchiveError> {
    let file = std::fs::File::open(path).map_err(|source| ArchiveError::Io { path: path.into(), source })?;
    spokes_core::archive::read_archive_from(file)
}

/// An archive being written into a file beside its target (`<target>.partial`, 0600: it holds
/// the drafts), which replaces the target only once it is whole and on disk.
struct PartialArchive {
    writer: ArchiveWriter<std::io::BufWriter<std::fs::File>>,
    partial: PathBuf,
    target: PathBuf,
}

impl PartialArchive {
    fn create(target: &Path, mtime: u64) -> Result<PartialArchive, ArchiveError> {
        let partial = target.with_extension("partial");
        let mut open = std::fs::OpenOptions::new();
        open.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
        let file = open.open(&partial).map_err(|source| ArchiveError::Io { path: partial.clone(), source })?;
        Ok(PartialArchive { writer: ArchiveWriter::new(std::io::BufWriter::new(file), mtime), partial, target: target.into() })
    }

    /// Ends the archive, flushes it to disk and puts it in place (or removes it on failure).
    fn finish(self) -> Result<(), ArchiveError> {
        let PartialArchive { writer, partial, target } = self;
        let done = writer.finish().and_then(|mut w| {
            let io = |source| ArchiveError::Io { path: partial.clone(), source };
            w.flush().map_err(io)?;
            w.into_inner().map_err(|e| io(e.into_error()))?.sync_all().map_err(io)?;
            std::fs::rename(&partial, &target).map_err(io)
        });
        if done.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        done
    }

    /// Gives the archive up, removing the partial file.
    fn abandon(self) {
        let _ = std::fs::remove_file(&self.partial);
    }
}

impl Profile {
    /// The blog as a static site: (relative path, bytes), see `spokes_site::site`, with the
    /// pictures its posts show under `images/` (those this computer has).
    pub fn static_site(&self) -> Result<Vec<(String, Vec<u8>)>, ProfileError> {
        let doc = self.with_blog(|b| Ok(b.automerge().fork()))?;
        let mut replica = Replica { blog_id: self.blog_id().clone(), doc, certificate: Some(self.certificate()?), statements: self.statements()?, saved: Default::default() };
        let (mut files, images) = spokes_site::site::static_site(&mut replica);
        for name in images {
            if let Some(bytes) = self.image(&name) {
                files.push((format!("images/{name}"), bytes));
            }
        }
        Ok(files)
    }

    /// Every picture kept with the blog (published or not) that is intact.
    pub fn all_images(&self) -> Vec<(spokes_core::image::ImageName, Vec<u8>)> {
        let Ok(dir) = std::fs::read_dir(self.path("images")) else { return vec![] };
        let mut out: Vec<_> = dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<spokes_core::image::ImageName>().ok()).filter_map(|n| Some((n.clone(), self.image(&n)?))).collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Writes the static site into the folder `dir` (created if needed). Returns the number
    /// of files written. Every file lands inside `dir`: a path that would leave it (`..`, an
    /// absolute path) is refused as [`ProfileError::Io`] before anything is written.
    pub fn export_site(&self, dir: &Path) -> Result<usize, ProfileError> {
        let files = self.static_site()?;
        if let Some((rel, _)) = files.iter().find(|(rel, _)| !Path::new(rel).components().all(|c| matches!(c, std::path::Component::Normal(_)))) {
            let source = std::io::Error::new(std::io::ErrorKind::InvalidInput, "a file name that leaves the export folder");
            return Err(ProfileError::Io { path: dir.join(rel), source });
        }
        for (rel, bytes) in &files {
            let p = dir.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).map_err(|source| ProfileError::Io { path: parent.into(), source })?;
            }
            std::fs::write(&p, bytes).map_err(|source| ProfileError::Io { path: p.clone(), source })?;
        }
        Ok(files.len())
    }

    /// Writes the archive into `folder` as `{slug of the title}-{YYYY-MM-DD}.tar.gz` (`-2`,
    /// `-3`… if taken) and returns its path.
    pub fn export_archive_into(&self, folder: &Path) -> Result<std::path::PathBuf, ProfileError> {
        std::fs::create_dir_all(folder).map_err(|source| ProfileError::Io { path: folder.into(), source })?;
        let path = self.suggested_archive_path(folder)?;
        self.export_archive(&path)?;
        Ok(path)
    }

    /// Where an export would go in `folder` unless the writer chooses:
    /// `{slug of the title}-{YYYY-MM-DD}.tar.gz` (`-2`, `-3`… if one is there already).
    pub fn suggested_archive_path(&self, folder: &Path) -> Result<std::path::PathBuf, ProfileError> {
        let title = self.settings()?.title;
        let base = format!("{}-{}", spokes_core::doc::slugify(if title.trim().is_empty() { "blog" } else { &title }), chrono::Utc::now().format("%Y-%m-%d"));
        Ok(crate::fsutil::unique_path(folder, &base, "tar.gz"))
    }

    /// Writes the whole blog to `out` as an archive (see the module docs). The file appears
    /// whole or not at all (written beside it, then renamed).
    pub fn export_archive(&self, out: &Path) -> Result<Manifest, ProfileError> {
        let (mut blog, mut drafts) = (self.blog()?, self.drafts_whole()?);
        let statements = self.statements()?;
        let summaries = self.posts()?;
        let published: Vec<_> = blog.posts();
        let now = chrono::Utc::now();
        let manifest = Manifest {
            format: ARCHIVE_FORMAT.into(),
            version: ARCHIVE_VERSION,
            blog_id: self.blog_id().clone(),
            fingerprint: self.fingerprint().into(),
            title: blog.settings().title,
            exported_at: now.to_rfc3339(),
            posts: published.len(),
            statements: statements.len(),
            drafts: true,
        };
        let mut archive = PartialArchive::create(out, now.timestamp().max(0) as u64)?;
        let w = &mut archive.writer;
        let site = self.static_site()?;
        let cert = self.certificate()?;
        let set = self.set_archive_entries()?;
        let result = (|| -> Result<(), ProfileError> {
            w.add("manifest.json", &serde_json::to_vec_pretty(&manifest).unwrap_or_default())?;
            w.add("certificate.asc", &cert.to_armored())?;
            w.add("blog.automerge", &blog.save())?;
            w.add("drafts.automerge", &drafts.save())?;
            w.add("statements.json", &serde_json::to_vec_pretty(&statements).unwrap_or_default())?;
            for (i, s) in statements.iter().enumerate() {
                w.add(&format!("statements/{:04}.txt", i + 1), s.statement.as_bytes())?;
                w.add(&format!("statements/{:04}.asc", i + 1), &s.armored_signature().map_err(|e| ProfileError::Signing(e.to_string()))?)?;
            }
            for p in &published {
                w.add(&format!("posts/{}.md", p.slug), spokes_core::import::to_markdown(p).as_bytes())?;
            }
            for s in summaries.iter().filter(|s| !s.published || s.changed_since_published) {
                let Some(mut p) = self.draft(&s.post.id)? else { continue };
                p.state = spokes_core::PostState::Draft;
                w.add(&format!("drafts/{}.md", p.slug), spokes_core::import::to_markdown(&p).as_bytes())?;
            }
            for (name, bytes) in self.all_images() {
                w.add(&format!("images/{name}"), &bytes)?;
            }
            for (rel, bytes) in &site {
                w.add(&format!("site/{rel}"), bytes)?;
            }
            for (rel, bytes) in &set {
                w.add(rel, bytes)?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => archive.finish()?,
            Err(e) => {
                archive.abandon();
                return Err(e);
            }
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::read::GzDecoder;
    use flate2::write::GzEncoder;
    use spokes_core::BlogSettings;
    use spokes_core::archive::ArchiveError;
    use std::io::Read;

    fn published_profile(dir: &Path) -> Profile {
        let p = Profile::create(dir, "Ada", "pw", &BlogSettings { title: "Notes".into(), ..Default::default() }).unwrap();
        p.new_post("First", "One *two*.", &["a".into()]).unwrap();
        let mut key = p.unlock("pw").unwrap();
        p.publish_local(&mut key, None).unwrap();
        p.new_post("Unpublished", "Still thinking.", &[]).unwrap();
        p
    }

    /// Attack 15 of the hostile-peers issue: a post whose slug points out of the folder
    /// (`../../escaped`), as a synced, restored or older document could carry it. It is
    /// cleaned where posts are read, so the site and the archive keep it inside.
    #[test]
    fn a_slug_that_points_out_of_the_folder_stays_inside() {
        let tmp = tempfile::tempdir().unwrap();
        let p = published_profile(&tmp.path().join("p"));
        let id = p.blog().unwrap().posts()[0].id.clone();
        // Written into the blog and signed, as the author's own older version could have.
        let heads = p
            .with_blog(|b| {
                b.set_post_field(&id, "slug", "../../escaped")?;
                b.commit("slug");
                Ok(b.heads())
            })
            .unwrap();
        let mut key = p.unlock("pw").unwrap();
        let mut statements = p.statements().unwrap();
        statements.push(spokes_core::Statement::new(p.blog_id().clone(), &heads).sign(&mut key).unwrap());
        p.save_statements(&statements).unwrap();
        p.with_draft(&id, |d| Ok(d.set_post_field(&id, "slug", "../../escaped")?)).unwrap();
        assert_eq!(p.blog().unwrap().post(&id).unwrap().slug, "escaped");
        assert_eq!(p.blog().unwrap().post_slug(&id).as_deref(), Some("escaped"));
        let site = tmp.path().join("a").join("b").join("site");
        p.export_site(&site).unwrap();
        assert!(site.join("posts/escaped/index.html").exists());
        assert!(!tmp.path().join("a").join("escaped").exists() && !tmp.path().join("escaped").exists(), "a file escaped the export folder");
        let out = p.export_archive_into(&tmp.path().join("docs")).unwrap();
        let mut tar = tar::Archive::new(GzDecoder::new(std::fs::File::open(&out).unwrap()));
        let names: Vec<String> = tar.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
        assert!(names.iter().any(|n| n == "spokes-archive/posts/escaped.md"), "{names:?}");
        assert!(names.iter().all(|n| !n.contains("..")), "{names:?}");
    }

    #[test]
    fn an_archive_holds_everything_and_reads_back_verified() {
        let tmp = tempfile::tempdir().unwrap();
        let p = published_profile(&tmp.path().join("p"));
        let out = p.export_archive_into(&tmp.path().join("docs")).unwrap();
        assert!(out.file_name().unwrap().to_string_lossy().starts_with("notes-"), "{}", out.display());
        assert!(p.export_archive_into(&tmp.path().join("docs")).unwrap().to_string_lossy().ends_with("-2.tar.gz"));
        let m = read_archive(&out).unwrap().manifest;
        assert_eq!((m.posts, m.statements), (1, 2));
        let a = read_archive(&out).unwrap();
        assert_eq!(a.manifest, m);
        assert_eq!(a.certificate.fingerprint(), p.fingerprint());
        assert_eq!(a.statements, p.statements().unwrap());
        assert_eq!(a.drafts.unwrap().posts().len(), 2);
        // The readable parts are there too.
        let mut names = Vec::new();
        let mut tar = tar::Archive::new(GzDecoder::new(std::fs::File::open(&out).unwrap()));
        for e in tar.entries().unwrap() {
            names.push(e.unwrap().path().unwrap().to_string_lossy().into_owned());
        }
        for n in ["spokes-archive/posts/first.md", "spokes-archive/drafts/unpublished.md", "spokes-archive/statements/0002.asc", "spokes-archive/site/index.html", "spokes-archive/site/posts/first/index.html", "spokes-archive/site/feed.atom"] {
            assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
        }
    }

    #[test]
    fn damaged_foreign_newer_and_tampered_archives_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let p = published_profile(&tmp.path().join("p"));
        let out = tmp.path().join("blog.tar.gz");
        p.export_archive(&out).unwrap();
        let bad = tmp.path().join("bad.tar.gz");
        std::fs::write(&bad, b"not gzip").unwrap();
        assert!(matches!(read_archive(&bad), Err(ArchiveError::Malformed(_))));
        assert!(matches!(read_archive(&tmp.path().join("missing")), Err(ArchiveError::Io { .. })));

        // Rewrites the archive with one entry replaced.
        let rewrite = |name: &str, f: &dyn Fn(Vec<u8>) -> Vec<u8>| {
            let mut tar = tar::Archive::new(GzDecoder::new(std::fs::File::open(&out).unwrap()));
            let mut b = tar::Builder::new(GzEncoder::new(std::fs::File::create(&bad).unwrap(), Compression::fast()));
            for e in tar.entries().unwrap() {
                let mut e = e.unwrap();
                let path = e.path().unwrap().to_string_lossy().into_owned();
                let mut bytes = Vec::new();
                e.read_to_end(&mut bytes).unwrap();
                let bytes = if path == format!("spokes-archive/{name}") { f(bytes) } else { bytes };
                let mut h = tar::Header::new_gnu();
                h.set_size(bytes.len() as u64);
                h.set_mode(0o644);
                b.append_data(&mut h, &path, bytes.as_slice()).unwrap();
            }
            b.into_inner().unwrap().finish().unwrap();
        };
        rewrite("manifest.json", &|b| String::from_utf8(b).unwrap().replace("\"version\": 1", "\"version\": 9").into_bytes());
        assert!(matches!(read_archive(&bad), Err(ArchiveError::NewerVersion(9))));
        rewrite("statements.json", &|_| b"[]".to_vec());
        assert!(matches!(read_archive(&bad), Err(ArchiveError::Verification(_))), "unsigned changes are refused");
        let other = Profile::create(&tmp.path().join("o"), "Mallory", "pw", &BlogSettings::default()).unwrap();
        let mallory = other.certificate().unwrap().to_armored();
        rewrite("certificate.asc", &|_| mallory.clone());
        assert!(matches!(read_archive(&bad), Err(ArchiveError::Malformed(_))));
        // A document that inflates to 1 GiB is refused before Automerge reads it.
        rewrite("blog.automerge", &|_| spokes_core::expansion::compressed_change_bomb(1 << 30));
        assert!(matches!(read_archive(&bad), Err(ArchiveError::Malformed(m)) if m.contains("expand past")));
        assert!(read_archive(&out).is_ok(), "the original is untouched");
    }

    #[test]
    fn hostile_set_entries_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let p = published_profile(&tmp.path().join("p"));
        let out = tmp.path().join("blog.tar.gz");
        p.export_archive(&out).unwrap();
        assert!(read_archive(&out).unwrap().set.is_none(), "a profile not upgraded exports no set");
        let bad = tmp.path().join("bad.tar.gz");
        // The archive with `extra` entries added.
        let with = |extra: &[(&str, Vec<u8>)]| {
            let mut tar = tar::Archive::new(GzDecoder::new(std::fs::File::open(&out).unwrap()));
            let mut b = tar::Builder::new(GzEncoder::new(std::fs::File::create(&bad).unwrap(), Compression::fast()));
            let entries = tar.entries().unwrap().map(|e| {
                let mut e = e.unwrap();
                let mut bytes = Vec::new();
                e.read_to_end(&mut bytes).unwrap();
                (e.path().unwrap().to_string_lossy().into_owned(), bytes)
            });
            let extra = extra.iter().map(|(n, b)| (format!("spokes-archive/{n}"), b.clone()));
            for (path, bytes) in entries.collect::<Vec<_>>().into_iter().chain(extra) {
                let mut h = tar::Header::new_gnu();
                h.set_size(bytes.len() as u64);
                h.set_mode(0o644);
                b.append_data(&mut h, &path, bytes.as_slice()).unwrap();
            }
            b.into_inner().unwrap().finish().unwrap();
            read_archive(&bad)
        };
        let doc: Vec<u8> = Vec::new();
        assert!(matches!(with(&[("set/posts/0123456789abcdef.automerge", doc.clone())]), Err(ArchiveError::Malformed(m)) if m.contains("manifests.json is missing")));
        assert!(matches!(with(&[("set/manifests.json", b"{}".to_vec()), ("set/posts/not-an-id.automerge", doc)]), Err(ArchiveError::Malformed(m)) if m.contains("post ID")));
        let bomb = spokes_core::expansion::compressed_change_bomb(1 << 30);
        assert!(matches!(with(&[("set/manifests.json", b"{}".to_vec()), ("set/posts/0123456789abcdef.automerge", bomb)]), Err(ArchiveError::Malformed(m)) if m.contains("expand past")));
        // Read, but not verified here: the writer checks the manifests before writing.
        let set = with(&[("set/manifests.json", b"{\"version\":1,\"frontier\":[]}".to_vec())]).unwrap().set.unwrap();
        let cert = p.certificate().unwrap();
        assert!(matches!(crate::sets::archived_set(set, &cert, p.blog_id()), Err(ProfileError::Damaged { .. })), "a set without a manifest is refused");
    }
}
