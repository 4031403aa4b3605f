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
