//! The Tauri commands the UI calls (through `ui/src/api.ts`). Each is thin: it locks the
//! [`AppState`], calls [`spokes_writer`], and maps errors to [`UiError`]. They live in their own
//! module because `#[tauri::command]` defines macros that clash with crate-root items.

use spokes_core::problem::Code;
use super::*;

/// The page says the writing screen is ready and drawn (the newest post in the editor, the
/// writer can type), with its own timings: milliseconds since the page began loading, per step (`script`,
/// `overview`, `screen`, `post-open`, `list-shown`, ...). Logged at debug level. When the
/// environment variable `SPOKES_START_REPORT` names a file, the first report is written there
/// as JSON, `{"version": 1, "ready_unix_ms": <wall clock when Rust heard it>, "page_steps_ms":
/// {...}}`: the benchmark's way to time a start as the writer starts the app, with no
/// WebDriver in between. Errors writing the report are logged, never returned.
#[tauri::command]
pub fn screen_ready(steps: std::collections::BTreeMap<String, f64>) {
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

/// Which screen to show.
#[tauri::command]
pub async fn get_overview(state: tauri::State<'_, AppState>) -> Result<Overview, UiError> {
    Ok(overview(&*state.0.lock().await))
}

/// Creates the identity and blog, and unlocks the key for this session.
#[tauri::command]
pub async fn create_identity(state: tauri::State<'_, AppState>, name: String, blog_title: String, passphrase: String) -> Result<Overview, UiError> {
    if name.trim().is_empty() || blog_title.trim().is_empty() {
        return Err(ui_err(Code::MissingField, "Please give your name and your blog's title."));
    }
    spokes_writer::check_new_passphrase(&passphrase)?;
    let mut app = state.0.lock().await;
    let dir = app.dir.clone();
    let (p, keys) = tokio::task::spawn_blocking(move || -> Result<_, ProfileError> {
        let p = Profile::create(&dir, name.trim(), &passphrase, &BlogSettings { title: blog_title.trim().into(), language: "en".into(), ..Default::default() })?;
        let keys = session_keys(&p, &passphrase)?;
        Ok((p, keys))
    })
    .await
    .map_err(|e| ui_err(Code::Internal, e.to_string()))??;
    app.profile = Some(p);
    (app.key, app.opening) = (Some(keys.0), keys.1);
    Ok(overview(&app))
}

/// Unlocks the signing key with the passphrase.
#[tauri::command]
pub async fn unlock(state: tauri::State<'_, AppState>, passphrase: String) -> Result<Overview, UiError> {
    let mut app = state.0.lock().await;
    let (key, opening) = session_keys(profile(&app)?, &passphrase)?;
    (app.key, app.opening) = (Some(key), opening);
    Ok(overview(&app))
}

/// All posts, newest first, without their bodies (the list shows titles and states; a post's
/// text comes with `get_post`).
#[tauri::command]
pub async fn list_posts(state: tauri::State<'_, AppState>) -> Result<Vec<PostSummary>, UiError> {
    let app = state.0.lock().await;
    let mut posts = profile(&app)?.posts_quick()?.0;
    for s in &mut posts {
        s.post.body = String::new();
    }
    Ok(posts)
}

/// The newest post with its text (`None` when there is none), from the post-list snapshot
/// while the documents load: what the writing screen opens on.
#[tauri::command]
pub async fn newest_post(state: tauri::State<'_, AppState>) -> Result<Option<Post>, UiError> {
    let app = state.0.lock().await;
    Ok(profile(&app)?.posts_quick()?.0.into_iter().next().map(|s| s.post))
}

/// A new, empty draft.
#[tauri::command]
pub async fn new_post(state: tauri::State<'_, AppState>) -> Result<Post, UiError> {
    let app = state.0.lock().await;
    Ok(profile(&app)?.new_post("Untitled", "", &[])?)
}

/// One draft.
#[tauri::command]
pub async fn get_post(state: tauri::State<'_, AppState>, id: String) -> Result<Post, UiError> {
    let app = state.0.lock().await;
    profile(&app)?.post_quick(&id)?.ok_or_else(|| ui_err(Code::NoSuchPost, "That post no longer exists."))
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

/// Opens `url` in the writer's web browser (the desktop's default, through `xdg-open` and
/// the like). Only `http:` and `https:` addresses are opened.
#[tauri::command]
pub fn open_in_browser(url: String) -> Result<(), UiError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(crate::ui_err(Code::BadAddress, "Only web addresses (http or https) can be opened."));
    }
    open::that_detached(&url).map_err(|e| crate::ui_err(Code::NoBrowser, format!("Your web browser could not be opened ({e}). The address is {url}")))
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

/// Signs and publishes one post (or every changed draft), then sends the blog to the spokes
/// (`WriterSession::publish`); the spokes that missed it are tried again in the background.
#[tauri::command]
pub async fn publish(state: tauri::State<'_, AppState>, id: Option<String>) -> Result<PublishSummary, UiError> {
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
        retry_in_background(w, retrying);
    }
    Ok(summary)
}

/// Tries the spokes that missed a publish again ([`WriterSession::deliver`]) until every spoke
/// has everything; one such task at a time. The UI reads the outcome with `publish_status`.
fn retry_in_background(w: WriterSession, retrying: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::Ordering;
    if retrying.swap(true, Ordering::SeqCst) {
        return;
    }
    tauri::async_runtime::spawn(async move {
        w.deliver(spokes_writer::publish::Backoff::default()).await;
        retrying.store(false, Ordering::SeqCst);
    });
}

/// Where the blog is published.
#[tauri::command]
pub async fn publish_status(state: tauri::State<'_, AppState>) -> Result<PublishSummary, UiError> {
    let (p, t) = {
        let app = state.0.lock().await;
        let _ = app.start_loading.send(());
        let p = profile(&app)?;
        (p.clone(), targets(&app, p))
    };
    // Off the app lock: right after start this waits for the blog to finish loading.
    tokio::task::spawn_blocking(move || p.status(&t)).await.map_err(|e| ui_err(Code::Internal, e.to_string()))?.map_err(UiError::from)
}

/// Runs `f` on a copy of the open profile off the async runtime (documents may still be
/// loading, and file work must not hold up other commands).
async fn on_profile<R: Send + 'static>(state: &tauri::State<'_, AppState>, f: impl FnOnce(Profile) -> Result<R, ProfileError> + Send + 'static) -> Result<R, UiError> {
    let p = profile(&*state.0.lock().await)?.clone();
    Ok(tokio::task::spawn_blocking(move || f(p)).await.map_err(|e| ui_err(Code::Internal, e.to_string()))??)
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

/// Saves the recovery file to `path` (a file the writer chose in the save dialog), or else
/// into the Documents folder under its usual name; returns where.
#[tauri::command]
pub async fn save_recovery_file(state: tauri::State<'_, AppState>, path: Option<String>) -> Result<String, UiError> {
    on_profile(&state, move |p| match path {
        Some(path) => p.save_recovery_file_as(Path::new(&path)).map(|()| path),
        None => p.save_recovery_file(&spokes_writer::recovery::default_recovery_folder()).map(|path| path.display().to_string()),
    })
    .await
}

/// Where the save dialogs start: the recovery file's and the export's usual paths in the
/// Documents folder (not yet taken).
#[tauri::command]
pub async fn suggested_paths(state: tauri::State<'_, AppState>) -> Result<SuggestedPaths, UiError> {
    on_profile(&state, move |p| {
        let folder = spokes_writer::recovery::default_recovery_folder();
        Ok(SuggestedPaths {
            recovery: p.suggested_recovery_path(&folder)?.display().to_string(),
            export: p.suggested_archive_path(&folder)?.display().to_string(),
        })
    })
    .await
}

/// Makes this computer's profile from a recovery file and its passphrase: the blog, with its
/// history and drafts, comes back from the first spoke the file names that answers. This
/// computer gets a signing key of its own, and the key is unlocked for this session.
#[tauri::command]
pub async fn restore_blog(state: tauri::State<'_, AppState>, recovery_path: String, passphrase: String) -> Result<Overview, UiError> {
    let bytes = std::fs::read(&recovery_path).map_err(|e| ui_err(Code::RecoveryUnreadable, format!("That file could not be read ({e}).")))?;
    let recovery = spokes_writer::recovery::RecoveryFile::parse(&bytes).map_err(|_| ui_err(Code::NotARecoveryFile, "That file is not a Spokes recovery file. It is the one named spokes-recovery-….json."))?;
    if recovery.spokes.is_empty() {
        return Err(ui_err(
            Code::RecoveryWithoutSpokes,
            "This recovery file was saved before your blog had spokes, so it does not say where to fetch it from. Save it again from Settings on your old computer, or restore from an export with the spokes command.",
        ));
    }
    let mut app = state.0.lock().await;
    if app.profile.is_some() {
        return Err(ui_err(Code::ProfileExists, "This computer already has a blog."));
    }
    let dir = app.dir.clone();
    let p = Profile::restore_from_spoke(&dir, &recovery, &passphrase, None).await?;
    let (p, (key, opening)) = tokio::task::spawn_blocking(move || -> Result<_, ProfileError> {
        let keys = session_keys(&p, &passphrase)?;
        Ok((p, keys))
    })
    .await
    .map_err(|e| ui_err(Code::Internal, e.to_string()))??;
    app.profile = Some(p);
    (app.key, app.opening) = (Some(key), opening);
    Ok(overview(&app))
}

/// The printable recovery sheet, a whole HTML page.
#[tauri::command]
pub async fn recovery_sheet(state: tauri::State<'_, AppState>) -> Result<String, UiError> {
    on_profile(&state, move |p| p.recovery_sheet()).await
}

/// The blog's settings (as they will be published).
#[tauri::command]
pub async fn get_settings(state: tauri::State<'_, AppState>) -> Result<BlogSettings, UiError> {
    on_profile(&state, move |p| p.settings()).await
}

/// Changes the blog's settings; readers see them after the next publish.
#[tauri::command]
pub async fn save_settings(state: tauri::State<'_, AppState>, settings: BlogSettings) -> Result<Overview, UiError> {
    if settings.title.trim().is_empty() {
        return Err(ui_err(Code::NoTitle, "Give the blog a title."));
    }
    on_profile(&state, move |p| p.set_settings(&settings)).await?;
    Ok(overview(&*state.0.lock().await))
}

/// The author's identity: fingerprint and the computers that sign for it.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityDetails {
    /// The author's name.
    pub name: String,
    /// Fingerprint in groups of four.
    pub fingerprint: String,
    /// This computer's signing key, if known.
    pub this_device: Option<String>,
    /// Every signing key, oldest first.
    pub devices: Vec<spokes_core::identity::DeviceKey>,
}

/// The author's identity details.
#[tauri::command]
pub async fn identity_details(state: tauri::State<'_, AppState>) -> Result<IdentityDetails, UiError> {
    let app = state.0.lock().await;
    let p = profile(&app)?;
    let o = overview(&app);
    Ok(IdentityDetails { name: o.name, fingerprint: o.fingerprint, this_device: p.device_key().map(str::to_owned), devices: p.devices()? })
}

/// What another computer published, oldest first, for the writer to pick the last publish
/// they made themselves when that computer was lost or stolen.
#[tauri::command]
pub async fn device_publishes(state: tauri::State<'_, AppState>, fingerprint: String) -> Result<Vec<spokes_writer::devices::DevicePublish>, UiError> {
    on_profile(&state, move |p| p.device_publishes(&fingerprint)).await
}

/// Removes another computer, then sends the change to the spokes. `lost` false: retired
/// (what it signed stays valid); `lost` true: lost or stolen (nothing it signed counts,
/// except its publishes up to `keep`, an index from [`device_publishes`], which this computer
/// signs again). Needs the passphrase (the main key signs the removal). Returns the identity
/// as it is now.
#[tauri::command]
pub async fn remove_device(state: tauri::State<'_, AppState>, fingerprint: String, passphrase: String, lost: bool, keep: Option<usize>) -> Result<IdentityDetails, UiError> {
    let (p, t, pool) = {
        let mut guard = state.0.lock().await;
        let app = &mut *guard;
        let p = app.profile.clone().ok_or_else(|| ui_err(Code::NoProfile, "Create your identity first."))?;
        let t = targets(app, &p);
        if app.pool.is_none() && !t.is_empty() {
            app.pool = Some(p.connection_pool().await?);
        }
        (p, t, app.pool.clone())
    };
    let q = p.clone();
    tokio::task::spawn_blocking(move || if lost { q.device_lost(&passphrase, &fingerprint, keep, "lost or stolen").map(|_| ()) } else { q.remove_device(&passphrase, &fingerprint, "retired") })
        .await
        .map_err(|e| ui_err(Code::Internal, e.to_string()))??;
    if !t.is_empty() {
        match &pool {
            Some(pool) => p.sync_with_pool(pool, &t).await?,
            None => p.sync_with(&t).await?,
        };
    }
    identity_details(state).await
}

/// Removes a spoke (by endpoint ID); the blog is no longer sent there.
#[tauri::command]
pub async fn remove_spoke(state: tauri::State<'_, AppState>, endpoint: String) -> Result<Overview, UiError> {
    let mut app = state.0.lock().await;
    let removed = app.profile.as_mut().ok_or_else(|| ui_err(Code::NoProfile, "Create your identity first."))?.remove_spoke(&endpoint)?;
    if !removed {
        return Err(ui_err(Code::NoSuchSpoke, "That spoke was not on your list."));
    }
    Ok(overview(&app))
}

/// Writes the whole blog to an export archive at `path` (a file the writer chose in the save
/// dialog), or else into the Documents folder under its usual name; returns where.
#[tauri::command]
pub async fn export_archive(state: tauri::State<'_, AppState>, path: Option<String>) -> Result<String, UiError> {
    on_profile(&state, move |p| match path {
        Some(path) => p.export_archive(Path::new(&path)).map(|_| path),
        None => p.export_archive_into(&spokes_writer::recovery::default_recovery_folder()).map(|path| path.display().to_string()),
    })
    .await
}

/// Adds a spoke from an invite ticket.
#[tauri::command]
pub async fn add_spoke(state: tauri::State<'_, AppState>, ticket: String) -> Result<Overview, UiError> {
    let mut app = state.0.lock().await;
    app.profile.as_mut().ok_or_else(|| ui_err(Code::NoProfile, "Create your identity first."))?.add_spoke(&ticket)?;
    Ok(overview(&app))
}
