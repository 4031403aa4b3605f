//! Commands of the writing screen: posts, autosave, preview, pictures, publishing, history.

use super::*;

/// The page says the writing screen is ready and drawn (the newest post in the editor, the
/// writer can type), with its own timings: milliseconds since the page began loading, per step (`script`,
/// `overview`, `screen`, `post-open`, `list-shown`, ...). Logged at debug level. When the
/// environment variable `SPOKES_START_REPORT` names a file, the first report is written there
/// as JSON, `{"version": 1, "ready_unix_ms": <wall clock when Rust heard it>, "page_steps_ms":
/// {...}}`: the benchmark's way to time a start as the writer starts the app, with no
/// WebDriver in between. Errors writing the report are logged, never returned.
/// The built-in spoke starts now ([`crate::ScreenUp`]).
#[tauri::command]
pub fn screen_ready(up: tauri::State<'_, crate::ScreenUp>, steps: std::collections::BTreeMap<String, f64>) {
    up.0.notify_one();
    static REPORTED: std::sync::Once = std::sync::Once::new();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
    tracing::debug!(?steps, "writing screen ready");
    if let Some(path) = std::env::var_os("SPOKES_START_REPORT") {
        REPORTED.call_once(|| {
            let report = serde_json::json!({"version": 1, "ready_unix_ms": now, "page_steps_ms": steps});
            if let Err(e) = std::fs::write(&path, report.to_string()) {
                tracing::warn!("could not write the start report: {e}");
            }
        });
    }
}

/// All posts, newest first, without their bodies (the list shows titles and states; a post's
/// text comes with `get_post`).
#[tauri::command]
pub async fn list_posts(state: tauri::State<'_, AppState>) -> Result<Vec<PostSummary>, UiError> {
    let app = state.0.lock().await;
    // The drafts index holds no text.
    Ok(profile(&app)?.posts()?)
}

/// The newest post with its text (`None` when there is none): what the writing screen opens
/// on. Reads the drafts index and that post's document.
#[tauri::command]
pub async fn newest_post(state: tauri::State<'_, AppState>) -> Result<Option<Post>, UiError> {
    let app = state.0.lock().await;
    Ok(profile(&app)?.newest_draft()?)
}

/// A new, empty draft.
#[tauri::command]
pub async fn new_post(state: tauri::State<'_, AppState>) -> Result<Post, UiError> {
    let app = state.0.lock().await;
    Ok(profile(&app)?.new_post(&crate::i18n::text("untitled", &[]), "", &[])?)
}

/// One draft.
#[tauri::command]
pub async fn get_post(state: tauri::State<'_, AppState>, id: String) -> Result<Post, UiError> {
    let app = state.0.lock().await;
    profile(&app)?.draft(&id)?.ok_or_else(|| ui_err(Code::NoSuchPost, "That post no longer exists."))
}

/// Autosave from the editor: the splices typed since the last save (UTF-16 code units, in
/// order), the title, and the editor's body length as a check. On `edit-mismatch` the editor
/// sends its whole text with `save_post` instead.
#[tauri::command]
pub async fn save_edits(state: tauri::State<'_, AppState>, id: String, title: String, splices: Vec<spokes_core::edit::Splice>, body_len: usize) -> Result<(), UiError> {
    let (p, durability) = {
        let app = state.0.lock().await;
        (profile(&app)?.clone(), app.durability.clone())
    };
    // Off the async workers: the first save after start waits for the drafts to finish loading.
    let saved = p.clone();
    tokio::task::spawn_blocking(move || p.edit_post(&id, Some(&title), &splices, Some(body_len)).map(|_| ()))
        .await
        .map_err(|e| ui_err(Code::Internal, e.to_string()))??;
    durability.saved(saved);
    Ok(())
}

/// Autosave: writes a draft's title and body (the slug follows the title: `Profile::save_text`).
#[tauri::command]
pub async fn save_post(state: tauri::State<'_, AppState>, id: String, title: String, body: String) -> Result<(), UiError> {
    let app = state.0.lock().await;
    let p = profile(&app)?;
    if p.save_text(&id, &title, &body).map_err(|e| match e {
        ProfileError::NoSuchPost(_) => ui_err(Code::NoSuchPost, "That post no longer exists."),
        e => e.into(),
    })? {
        app.durability.saved(p.clone());
    }
    Ok(())
}

/// Markdown to the sanitised HTML readers will see. `image_base`: where the preview finds
/// the blog's stored pictures (the app's `spokes-image:` address, from the UI's
/// `convertFileSrc`).
#[tauri::command]
pub fn preview(markdown: String, image_base: Option<String>) -> String {
    markdown_to_html_with(&markdown, image_base.as_deref())
}

/// Changes a draft's slug, tags or publication date (a future date schedules it); returns
/// the post as saved.
#[tauri::command]
pub async fn set_post_details(state: tauri::State<'_, AppState>, id: String, details: spokes_writer::organise::PostDetails) -> Result<Post, UiError> {
    on_profile(&state, move |p| p.set_post_details(&id, &details)).await
}

/// [`preview`] for each of the editor's changed blocks (top-level Markdown blocks, see
/// `ui/src/blocks.ts`): one HTML string per block, in order.
#[tauri::command]
pub fn preview_blocks(blocks: Vec<String>, image_base: Option<String>) -> Vec<String> {
    blocks.iter().map(|b| markdown_to_html_with(b, image_base.as_deref())).collect()
}

/// Keeps a picture with the blog. The request body is the file's bytes; the `x-alt` header
/// (URL-encoded) the words that describe it. Returns the Markdown that shows it.
#[tauri::command]
pub async fn add_image(state: tauri::State<'_, AppState>, request: tauri::ipc::Request<'_>) -> Result<String, UiError> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(crate::ui_err(Code::BadImage, "The picture did not arrive. Try adding it again."));
    };
    let alt = request.headers().get("x-alt").and_then(|v| v.to_str().ok()).map(|a| percent_encoding::percent_decode_str(a).decode_utf8_lossy().into_owned()).unwrap_or_default();
    let bytes = bytes.clone();
    let name = on_profile(&state, move |p| p.add_image(&bytes)).await?;
    Ok(spokes_core::image::markdown_link(&name, &alt))
}


/// Signs and publishes one post (or every changed draft), then sends the blog to the spokes
/// (`WriterSession::publish`); the spokes that missed it are tried again in the background.
#[tauri::command]
pub async fn publish<R: tauri::Runtime>(app: tauri::AppHandle<R>, state: tauri::State<'_, AppState>, id: Option<String>) -> Result<PublishSummary, UiError> {
    // The app lock is held only to make the session: autosaves go on while spokes are slow.
    let w = writer_session(&state, "publish").await?;
    let ids = id.map(|i| vec![i]);
    let done = w.publish(ids.as_deref(), false).await?;
    match &done.drafts {
        Some(Ok(s)) => s.problems.iter().for_each(|e| tracing::warn!("drafts: {e}")),
        Some(Err(e)) => tracing::warn!("drafts were not exchanged: {e}"),
        None => {}
    }
    let summary = done.summary.ok_or_else(|| ui_err(Code::Internal, "the publish reported no spokes"))?;
    if summary.up_to_date < summary.total {
        let retrying = state.0.lock().await.retrying.clone();
        retry_in_background(app, w, retrying);
    }
    Ok(summary)
}

/// How long a publish may wait for its spokes before the writer is told it is still trying.
pub const KEEPS_FAILING: std::time::Duration = std::time::Duration::from_secs(10 * 60);
/// Seconds instead of [`KEEPS_FAILING`] (for tests).
pub const KEEPS_FAILING_ENV: &str = "SPOKES_KEEPS_FAILING_SECS";

/// Tries the spokes that missed a publish again ([`WriterSession::deliver_telling`]) until
/// every spoke has everything; one such task at a time. The UI reads the outcome with
/// `publish_status`; the desktop is told with a notification when it is done, and once if it
/// is still not done after [`KEEPS_FAILING`].
fn retry_in_background<R: tauri::Runtime>(app: tauri::AppHandle<R>, w: WriterSession, retrying: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::Ordering;
    if retrying.swap(true, Ordering::SeqCst) {
        return;
    }
    let keeps_failing = std::env::var(KEEPS_FAILING_ENV).ok().and_then(|s| s.parse().ok()).map_or(KEEPS_FAILING, std::time::Duration::from_secs);
    tauri::async_runtime::spawn(async move {
        w.deliver_telling(spokes_writer::publish::Backoff::default(), keeps_failing, |d| notify(&app, &d)).await;
        retrying.store(false, Ordering::SeqCst);
    });
}

/// The words of a desktop notification about a publish that waited: (title, body), in the
/// app's language ([`crate::i18n`]).
pub fn delivery_words(d: &spokes_writer::workflow::Delivery) -> (String, String) {
    use crate::i18n::text;
    use spokes_writer::workflow::Delivery;
    match d {
        Delivery::Reached { spokes } => (text("notify-published", &[]), text("notify-published-body", &[("total", (*spokes).into())])),
        Delivery::KeepsFailing { missing } if missing.is_empty() => (text("notify-still-sending", &[]), text("notify-still-sending-all-body", &[])),
        Delivery::KeepsFailing { missing } => (text("notify-still-sending", &[]), text("notify-still-sending-body", &[("missing", missing.join(", ").into())])),
    }
}

fn notify<R: tauri::Runtime>(app: &tauri::AppHandle<R>, d: &spokes_writer::workflow::Delivery) {
    use tauri::Manager;
    let (title, body) = delivery_words(d);
    // The plugin is there in the app; not on the test runtime of the commands' tests.
    let Some(n) = app.try_state::<tauri_plugin_notification::Notification<R>>() else { return };
    if let Err(e) = n.builder().title(title).body(body).show() {
        tracing::info!("no desktop notification: {e}");
    }
}

/// Whether publishing has more to send than the open post's changes: the blog's settings or
/// spokes changed, a post published or withdrawn, a scheduled post due
/// ([`Profile::unsigned_blog_changes`]). The page offers Publish for an unchanged post only then.
#[tauri::command]
pub async fn unsigned_changes(state: tauri::State<'_, AppState>) -> Result<bool, UiError> {
    on_profile(&state, |p| p.unsigned_blog_changes()).await
}

/// Where the blog is published.
#[tauri::command]
pub async fn publish_status(state: tauri::State<'_, AppState>) -> Result<PublishSummary, UiError> {
    let (p, t) = {
        let app = state.0.lock().await;
        let p = profile(&app)?;
        (p.clone(), targets(&app, p))
    };
    // Off the app lock: right after start this waits for the blog to finish loading.
    tokio::task::spawn_blocking(move || p.status(&t)).await.map_err(|e| ui_err(Code::Internal, e.to_string()))?.map_err(UiError::from)
}

/// Withdraws a post from readers with a signed revision, then tells the spokes.
#[tauri::command]
pub async fn unpublish(state: tauri::State<'_, AppState>, id: String) -> Result<PublishSummary, UiError> {
    let w = writer_session(&state, "unpublish").await?;
    w.unpublish(&id, false).await?.1.ok_or_else(|| ui_err(Code::Internal, "the unpublish reported no spokes"))
}

/// Puts a draft in the bin (undo with `undo_delete`).
#[tauri::command]
pub async fn delete_post(state: tauri::State<'_, AppState>, id: String) -> Result<(), UiError> {
    on_profile(&state, move |p| p.delete_post(&id)).await
}

/// Takes a draft back out of the bin.
#[tauri::command]
pub async fn undo_delete(state: tauri::State<'_, AppState>, id: String) -> Result<(), UiError> {
    on_profile(&state, move |p| p.undo_delete(&id)).await
}

/// Every published revision of a post, newest first, with when and on which computer it was signed.
#[tauri::command]
pub async fn post_history(state: tauri::State<'_, AppState>, id: String) -> Result<Vec<spokes_writer::history::Revision>, UiError> {
    on_profile(&state, move |p| p.post_history(&id)).await
}

/// A line diff from `old` to `new`.
#[tauri::command]
pub fn diff_text(old: String, new: String) -> Vec<spokes_writer::history::DiffPart> {
    spokes_writer::history::diff_lines(&old, &new)
}

/// Makes a published revision the current draft again; publishing signs it anew.
#[tauri::command]
pub async fn restore_revision(state: tauri::State<'_, AppState>, id: String, heads: Vec<String>) -> Result<Post, UiError> {
    on_profile(&state, move |p| p.restore_revision(&id, &heads)).await
}
