//! The Tauri commands the UI calls (through `ui/src/api.ts`), grouped by the screen that calls
//! them: [`welcome`], [`writing`], [`settings`], and [`updates`] of the app itself. Each is thin: it locks the
//! [`AppState`], calls [`spokes_writer`], and maps errors to [`UiError`]. They live in their own
//! module because `#[tauri::command]` defines macros that clash with crate-root items.

use spokes_core::problem::Code;
use super::*;

pub mod settings;
pub mod updates;
pub mod welcome;
pub mod writing;

/// A writer session for a command: the open profile, the unlocked key, the targets and the
/// kept connections (bound on first use). `what` finishes "Unlock with your passphrase to …".
async fn writer_session(state: &tauri::State<'_, AppState>, what: &str) -> Result<WriterSession, UiError> {
    let mut guard = state.0.lock().await;
    let app = &mut *guard;
    let p = app.profile.clone().ok_or_else(|| ui_err(Code::NoProfile, "Create your identity first."))?;
    let key = app.key.clone().ok_or_else(|| ui_err(Code::Locked, format!("Unlock with your passphrase to {what}.")))?;
    let t = targets(app, &p);
    if app.pool.is_none() {
        app.pool = Some(p.connection_pool().await?);
    }
    Ok(WriterSession::new(p, key, app.opening.clone(), t, app.pool.clone()))
}

/// Runs `f` on a copy of the open profile off the async runtime (documents may still be
/// loading, and file work must not hold up other commands).
async fn on_profile<R: Send + 'static>(state: &tauri::State<'_, AppState>, f: impl FnOnce(Profile) -> Result<R, ProfileError> + Send + 'static) -> Result<R, UiError> {
    let p = profile(&*state.0.lock().await)?.clone();
    Ok(tokio::task::spawn_blocking(move || f(p)).await.map_err(|e| ui_err(Code::Internal, e.to_string()))??)
}
