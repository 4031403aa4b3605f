//! Updates of the app itself, for the copy that runs from an AppImage: tauri-plugin-updater
//! fetches the update manifest (JSON: `version`, `notes`, `platforms."linux-x86_64"` with `url`
//! and `signature`; <https://v2.tauri.app/plugin/updater/>), downloads the new AppImage,
//! checks its minisign signature against the public key built into the app, and that the
//! signature was made for the version the manifest announces (`requireSignedVersion`, so an
//! old genuine release cannot be passed off as a new one), and only then puts it in place of
//! the AppImage. A copy installed from the `.deb` is updated by the system's package manager,
//! and a copy built from source by its builder: neither is touched here.
//!
//! Where updates come from is set when a release is built, not in the repository: the
//! `plugins.updater` settings of `src-tauri/tauri.conf.json` (`pubkey`, `endpoints`) are empty
//! there, and `packaging/build-desktop.sh` fills them from `SPOKES_UPDATE_PUBKEY` and
//! `SPOKES_UPDATE_ENDPOINT`. A build without them offers no updates. Debug builds (the tests')
//! also take both from the environment at run time ([`ENDPOINT_ENV`], [`PUBKEY_ENV`]), so a
//! test can serve its own signed manifest; release builds ignore the environment.

use super::*;
use serde::Serialize;
use tauri_plugin_updater::{Error as UpdaterError, Update, UpdaterExt};

/// Debug builds only: the update manifest's address (`http://` allowed, for a test server).
pub const ENDPOINT_ENV: &str = "SPOKES_UPDATE_ENDPOINT";
/// Debug builds only: the minisign public key updates must be signed with (as the Tauri CLI's
/// `signer generate` writes it: base64 of the `.pub` file).
pub const PUBKEY_ENV: &str = "SPOKES_UPDATE_PUBKEY";

/// The most an update may weigh, in bytes (an AppImage of Spokes is about 80 MiB): the download
/// is held in memory until its signature is checked, so a server that sends more is cut off.
pub const MAX_UPDATE_BYTES: u64 = 512 << 20;

/// Where this copy of the app stands with updates (`state` tells which; `version` is this
/// copy's own version).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum UpdateCheck {
    /// Not from an AppImage: the package manager (or whoever built it) updates this copy.
    Elsewhere { version: String },
    /// This build names no update server or no key to check updates with.
    NotSetUp { version: String },
    /// This copy updates itself; the update server was not asked (`look` was false).
    Unchecked { version: String },
    /// The update server has nothing newer.
    UpToDate { version: String },
    /// A newer version is offered; `notes` are its release notes, as the manifest gives them.
    Available { version: String, new_version: String, notes: Option<String> },
}

/// The update the last check found, kept for [`install_update`].
#[derive(Default)]
pub struct PendingUpdate(tokio::sync::Mutex<Option<Update>>);

/// How far the download of an update is, sent while [`install_update`] runs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct UpdateProgress {
    /// Bytes received so far.
    pub received: u64,
    /// The update's size in bytes, when the server said it.
    pub total: Option<u64>,
}

/// The manifest's addresses and the signing key: the environment's in debug builds when both
/// are set, else the built-in settings; `None` when either is missing.
fn source<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> Option<(Vec<tauri::Url>, String)> {
    if cfg!(debug_assertions)
        && let (Ok(endpoint), Ok(key)) = (std::env::var(ENDPOINT_ENV), std::env::var(PUBKEY_ENV))
    {
        return Some((vec![endpoint.parse().ok()?], key));
    }
    let settings = app.config().plugins.0.get("updater")?;
    let key = settings.get("pubkey")?.as_str()?.trim().to_owned();
    let endpoints: Vec<tauri::Url> = settings.get("endpoints")?.as_array()?.iter().filter_map(|e| e.as_str()?.parse().ok()).collect();
    (!key.is_empty() && !endpoints.is_empty()).then_some((endpoints, key))
}

/// A failed check or install as the writer reads it: the server could not be reached
/// ([`Code::Connection`]), the update is not signed with the app's key or not for the version
/// announced ([`Code::BadSignature`]), the download is not an AppImage or the manifest not
/// readable ([`Code::Malformed`]), the AppImage could not be replaced ([`Code::Io`]); a download
/// past [`MAX_UPDATE_BYTES`] is [`Code::TooLarge`] (in [`install_update`]).
fn update_error(e: UpdaterError) -> UiError {
    use UpdaterError as E;
    tracing::warn!("update: {e}");
    match e {
        E::Minisign(_) | E::Base64(_) | E::SignatureUtf8(_) | E::MissingSignedVersion | E::SignedVersionMismatch { .. } => {
            ui_err(Code::BadSignature, "This update is not signed by the makers of Spokes, so it was not installed. Your copy of Spokes is unchanged.")
        }
        E::InvalidUpdaterFormat | E::BinaryNotFoundInArchive | E::Serialization(_) | E::Semver(_) | E::TargetNotFound(_) | E::TargetsNotFound(..) => {
            ui_err(Code::Malformed, "The update server sent something that is not an update of Spokes. Nothing was installed.")
        }
        E::PreviousAppNotRestored(path) => ui_err(
            Code::Io,
            format!("The new version could not be put in place, and this one could not be put back at {}. Download Spokes again; your blog is not affected.", path.display()),
        ),
        E::Io(_) | E::TempDirNotOnSameMountPoint | E::TempDirNotFound => ui_err(Code::Io, "The new version could not be put in place of this one. Your copy of Spokes is unchanged."),
        _ => ui_err(Code::Connection, "The update server could not be reached. Try again when you are online."),
    }
}

/// Where this copy stands with updates; with `look`, asks the update server for a newer
/// version (only a copy running from an AppImage that names an update server does; without
/// `look` nothing leaves the computer).
#[tauri::command]
pub async fn check_for_update<R: tauri::Runtime>(app: tauri::AppHandle<R>, pending: tauri::State<'_, PendingUpdate>, look: bool) -> Result<UpdateCheck, UiError> {
    let version = app.package_info().version.to_string();
    use tauri::Manager;
    if app.env().appimage.is_none() {
        return Ok(UpdateCheck::Elsewhere { version });
    }
    let Some((endpoints, key)) = source(&app) else {
        return Ok(UpdateCheck::NotSetUp { version });
    };
    if !look {
        return Ok(UpdateCheck::Unchecked { version });
    }
    let updater = app
        .updater_builder()
        .endpoints(endpoints)
        .and_then(|b| b.pubkey(key).timeout(std::time::Duration::from_secs(30)).build())
        .map_err(update_error)?;
    let found = updater.check().await.map_err(update_error)?;
    let check = match &found {
        Some(u) => UpdateCheck::Available { version, new_version: u.version.clone(), notes: u.body.clone() },
        None => UpdateCheck::UpToDate { version },
    };
    *pending.0.lock().await = found;
    Ok(check)
}

/// Downloads the update the last check found, verifies it and puts it in place of the AppImage,
/// telling `progress` as bytes arrive. The new version runs from the next start
/// ([`restart_app`]). Errors as [`update_error`] says; [`Code::MissingField`] without a check
/// that found one.
#[tauri::command]
pub async fn install_update(pending: tauri::State<'_, PendingUpdate>, progress: tauri::ipc::Channel<UpdateProgress>) -> Result<(), UiError> {
    let Some(update) = pending.0.lock().await.take() else {
        return Err(ui_err(Code::MissingField, "Look for a new version first."));
    };
    let (counter, limit) = (std::sync::atomic::AtomicU64::new(0), tokio::sync::Notify::new());
    let download = update.download_and_install(
        |chunk, total| {
            let received = counter.fetch_add(chunk as u64, std::sync::atomic::Ordering::Relaxed) + chunk as u64;
            if received > MAX_UPDATE_BYTES || total.is_some_and(|t| t > MAX_UPDATE_BYTES) {
                limit.notify_one();
            }
            let _ = progress.send(UpdateProgress { received, total });
        },
        || {},
    );
    let Some(result) = within_limit(download, &limit).await else {
        tracing::warn!(version = %update.version, "update refused: larger than {MAX_UPDATE_BYTES} bytes");
        return Err(ui_err(Code::TooLarge, "The update is far larger than Spokes could be, so it was not installed. Your copy of Spokes is unchanged."));
    };
    match result {
        Ok(()) => {
            tracing::info!(version = %update.version, "update installed; it runs from the next start");
            Ok(())
        }
        Err(e) => Err(update_error(e)),
    }
}

/// Runs `work` until it ends, or until `limit` is notified: then drops it (which ends a
/// download, before anything was installed) and returns `None`.
async fn within_limit<T>(work: impl std::future::Future<Output = T>, limit: &tokio::sync::Notify) -> Option<T> {
    tokio::select! {
        done = work => Some(done),
        () = limit.notified() => None,
    }
}

/// Starts the app again (the new version, after [`install_update`]): the app exits as when
/// quit (the window's place kept, the documents compacted), then starts from the AppImage. The
/// page saves the open text before it asks.
#[tauri::command]
pub fn restart_app<R: tauri::Runtime>(app: tauri::AppHandle<R>) {
    app.request_restart();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_says_which_state_in_kebab_case() {
        let json = serde_json::to_value(UpdateCheck::Available { version: "0.1.0".into(), new_version: "0.1.1".into(), notes: None }).unwrap();
        assert_eq!(json["state"], "available");
        assert_eq!(json["new_version"], "0.1.1");
        let json = serde_json::to_value(UpdateCheck::NotSetUp { version: "0.1.0".into() }).unwrap();
        assert_eq!(json["state"], "not-set-up");
    }

    #[tokio::test]
    async fn a_download_past_the_limit_is_dropped_before_it_ends() {
        let limit = tokio::sync::Notify::new();
        let ended = std::sync::atomic::AtomicBool::new(false);
        let endless = async {
            limit.notify_one(); // as the progress callback does past MAX_UPDATE_BYTES
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            ended.store(true, std::sync::atomic::Ordering::Relaxed);
        };
        let cut = tokio::time::timeout(std::time::Duration::from_secs(5), within_limit(endless, &limit)).await;
        assert_eq!(cut, Ok(None), "the download was not cut off at the limit");
        assert!(!ended.load(std::sync::atomic::Ordering::Relaxed));
        assert_eq!(within_limit(async { 7 }, &limit).await, Some(7));
    }

    #[test]
    fn signature_failures_are_refusals_and_the_rest_say_what_failed() {
        assert_eq!(update_error(UpdaterError::MissingSignedVersion).code, Code::BadSignature);
        assert_eq!(update_error(UpdaterError::SignedVersionMismatch { signed: "0.1.0".into(), announced: "0.2.0".into() }).code, Code::BadSignature);
        assert_eq!(update_error(UpdaterError::InvalidUpdaterFormat).code, Code::Malformed);
        assert_eq!(update_error(UpdaterError::Io(std::io::Error::other("disk full"))).code, Code::Io);
        assert_eq!(update_error(UpdaterError::EmptyEndpoints).code, Code::Connection);
    }
}
