//! Crash-safe file replacement.

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
