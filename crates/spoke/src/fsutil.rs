//! Replacing a file whole, so that a crash or a power cut leaves the old file or the new one,
//! never a mix or an empty file.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` whole: into `path` + `.tmp` (created with mode 0600 when
/// `secret`, on Unix), flushed to the disk, renamed over `path`, and the folder flushed so the
/// rename itself survives a power cut. Errors: the first I/O error, with the temporary file
/// possibly left behind (the next write replaces it).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], secret: bool) -> std::io::Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut f = options.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_and_a_secret_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        write_atomic(&path, b"first", false).unwrap();
        write_atomic(&path, b"second, longer", true).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
        assert!(!dir.path().join("config.toml.tmp").exists(), "the temporary file is renamed, not left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = dir.path().join("key.pem");
            write_atomic(&key, b"secret", true).unwrap();
            assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // A folder that is not there: an error, nothing written.
        assert!(write_atomic(&dir.path().join("missing/x"), b"x", false).is_err());
    }
}
