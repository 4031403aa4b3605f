//! Crash-safe file replacement, and files only the writer can read.

use std::io::Write;
use std::path::Path;

/// Replaces `path` with `bytes` atomically: temporary file in the same folder, fsync, rename,
/// fsync of the folder. Readers see the old or the new content, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Replaces `path` with `bytes` whole (a temporary file renamed over it) without flushing
/// either to the disk: for caches that are built again when lost, where a crash may leave the
/// old file, the new one, or (on some file systems) an empty one, but never a mix.
pub fn replace_unflushed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(path.parent().unwrap_or(Path::new(".")))?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// How many files [`write_atomic_many`] flushes at once: enough for the file system to
/// commit many flushes together (ext4 and APFS join concurrent fsyncs into one journal
/// commit), few enough to stay a handful of threads.
const FLUSHERS: usize = 8;

/// Replaces each `(path, bytes)` of `files` as [`write_atomic`] does, for many files in one
/// folder at once (a whole blog's post documents): every temporary file is written and
/// flushed (several flushes at a time), then all are renamed, then the folder is flushed
/// once. Each file is whole, old or new, at any moment; after a crash some may be new and
/// others old, as with one [`write_atomic`] after another. On an error no file has been
/// renamed yet unless the error is a rename's, and the temporary files are removed.
pub fn write_atomic_many(dir: &Path, files: Vec<(std::path::PathBuf, Vec<u8>)>) -> std::io::Result<()> {
    let write = |bytes: &[u8]| -> std::io::Result<tempfile::NamedTempFile> {
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        Ok(tmp)
    };
    let chunk = files.len().div_ceil(FLUSHERS).max(1);
    let written: Vec<std::io::Result<Vec<tempfile::NamedTempFile>>> = std::thread::scope(|s| {
        let workers: Vec<_> = files.chunks(chunk).map(|part| s.spawn(move || part.iter().map(|(_, bytes)| write(bytes)).collect::<std::io::Result<Vec<_>>>())).collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|_| Err(std::io::Error::other("a writer thread failed")))).collect()
    });
    let mut temps = Vec::with_capacity(files.len());
    for part in written {
        temps.extend(part?);
    }
    for (tmp, (path, _)) in temps.into_iter().zip(&files) {
        tmp.persist(path).map_err(|e| e.error)?;
    }
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// `folder/{base}.{ext}`, or `{base}-2`, `{base}-3`… if that name is taken.
pub fn unique_path(folder: &Path, base: &str, ext: &str) -> std::path::PathBuf {
    let mut path = folder.join(format!("{base}.{ext}"));
    let mut n = 2;
    while path.exists() {
        path = folder.join(format!("{base}-{n}.{ext}"));
        n += 1;
    }
    path
}

/// Creates `dir` (and its parents) if needed and makes it readable by its owner only (mode
/// 0700 on Unix): a profile holds drafts and the secret key, which other local users must
/// not read. Tightens a folder made earlier with looser permissions.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Opens `path` for appending, creating it readable and writable by its owner only (mode
/// 0600 on Unix).
pub fn open_private_append(path: &Path) -> std::io::Result<std::fs::File> {
    let mut open = std::fs::OpenOptions::new();
    open.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    open.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_files_are_replaced_whole_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("0.automerge"), b"old").unwrap();
        let files: Vec<(std::path::PathBuf, Vec<u8>)> = (0..50).map(|i| (dir.path().join(format!("{i}.automerge")), format!("post {i}").repeat(i + 1).into_bytes())).collect();
        write_atomic_many(dir.path(), files.clone()).unwrap();
        for (path, bytes) in &files {
            assert_eq!(&std::fs::read(path).unwrap(), bytes, "{}", path.display());
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 50, "temporary files left behind");
        // Nothing to write is no error.
        write_atomic_many(dir.path(), Vec::new()).unwrap();
    }

    #[test]
    fn a_folder_that_cannot_be_written_is_an_error_and_no_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let files = vec![(gone.join("a.automerge"), b"a".to_vec()), (gone.join("b.automerge"), b"b".to_vec())];
        assert!(write_atomic_many(&gone, files).is_err());
        assert!(!gone.exists());
        // A file in the way of a rename: the error is reported, the other files are written.
        std::fs::create_dir(dir.path().join("b.automerge")).unwrap();
        std::fs::create_dir(dir.path().join("b.automerge").join("inside")).unwrap();
        let files = vec![(dir.path().join("a.automerge"), b"a".to_vec()), (dir.path().join("b.automerge"), b"b".to_vec())];
        assert!(write_atomic_many(dir.path(), files).is_err());
        assert_eq!(std::fs::read(dir.path().join("a.automerge")).unwrap(), b"a");
        assert!(dir.path().join("b.automerge").join("inside").exists(), "a folder in the way was replaced");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "temporary files left behind");
    }
}
