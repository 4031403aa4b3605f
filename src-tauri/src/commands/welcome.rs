//! Commands of the first screens: the overview, making an identity, unlocking the key,
//! restoring a blog from a recovery file, and the recovery file itself.

use super::*;

/// Which screen to show.
#[tauri::command]
pub async fn get_overview(state: tauri::State<'_, AppState>) -> Result<Overview, UiError> {
    let mut app = state.0.lock().await;
    app.settle();
    Ok(overview(&app))
}

/// Creates the identity and blog, and unlocks the key for this session. The blog is in the
/// app's language until the writer says otherwise (Settings).
#[tauri::command]
pub async fn create_identity(state: tauri::State<'_, AppState>, name: String, blog_title: String, passphrase: String) -> Result<Overview, UiError> {
    if name.trim().is_empty() || blog_title.trim().is_empty() {
        return Err(ui_err(Code::MissingField, "Please give your name and your blog's title."));
    }
    spokes_writer::check_new_passphrase(&passphrase)?;
    create_with(&state, passphrase, move |dir, passphrase, settings| Profile::create(dir, name.trim(), passphrase, &settings(&blog_title))).await
}

/// Makes a new profile with `make` (given the folder, the passphrase and how to word the new
/// blog's settings from its title: in the app's language) on a blocking thread, unlocks its
/// key for this session, starts its upgrade and returns the overview.
async fn create_with(
    state: &tauri::State<'_, AppState>,
    passphrase: String,
    make: impl FnOnce(&Path, &str, fn(&str) -> BlogSettings) -> Result<Profile, ProfileError> + Send + 'static,
) -> Result<Overview, UiError> {
    fn settings(title: &str) -> BlogSettings {
        BlogSettings { title: title.trim().into(), language: crate::i18n::current().tag().into(), ..Default::default() }
    }
    let mut app = state.0.lock().await;
    let dir = app.dir.clone();
    let (p, keys) = tokio::task::spawn_blocking(move || -> Result<_, ProfileError> {
        let p = make(&dir, &passphrase, settings)?;
        let keys = session_keys(&p, &passphrase)?;
        Ok((p, keys))
    })
    .await
    .map_err(|e| ui_err(Code::Internal, e.to_string()))??;
    app.profile = Some(p);
    (app.key, app.opening) = (Some(keys.0), keys.1);
    drop(app);
    upgrade_in_background(state).await?;
    let mut app = state.0.lock().await;
    app.settle();
    Ok(overview(&app))
}

/// Creates the identity from an existing OpenPGP secret key (a GnuPG export, `key_path`) and a
/// new blog, and unlocks the key for this session ([`Profile::create_from_secret_key`]: the
/// name is the key's user ID; `passphrase` opens the key, and protects it from now on).
#[tauri::command]
pub async fn create_from_key(state: tauri::State<'_, AppState>, key_path: String, blog_title: String, passphrase: String) -> Result<Overview, UiError> {
    if blog_title.trim().is_empty() {
        return Err(ui_err(Code::MissingField, "Please give your blog's title."));
    }
    let key = std::fs::read(&key_path).map_err(|e| ui_err(Code::Io, format!("The key file could not be read ({e}).")))?;
    create_with(&state, passphrase, move |dir, passphrase, settings| Profile::create_from_secret_key(dir, &key, passphrase, &settings(&blog_title))).await
}

/// Makes this computer one of the writer's computers from a pairing code shown on another
/// ([`Profile::pair_join`]: the blog and drafts come from its spokes), and unlocks the key for
/// this session.
#[tauri::command]
pub async fn pair_join(state: tauri::State<'_, AppState>, code: String, passphrase: String) -> Result<Overview, UiError> {
    let dir = state.0.lock().await.dir.clone();
    let p = Profile::pair_join(&dir, code.trim(), &passphrase, None).await?;
    let q = p.clone();
    let keys = tokio::task::spawn_blocking(move || session_keys(&q, &passphrase)).await.map_err(|e| ui_err(Code::Internal, e.to_string()))??;
    let mut app = state.0.lock().await;
    app.profile = Some(p);
    (app.key, app.opening) = (Some(keys.0), keys.1);
    drop(app);
    upgrade_in_background(&state).await?;
    let mut app = state.0.lock().await;
    app.settle();
    Ok(overview(&app))
}

/// Unlocks the signing key with the passphrase.
#[tauri::command]
pub async fn unlock(state: tauri::State<'_, AppState>, passphrase: String) -> Result<Overview, UiError> {
    let mut app = state.0.lock().await;
    let (key, opening) = session_keys(profile(&app)?, &passphrase)?;
    (app.key, app.opening) = (Some(key), opening);
    drop(app);
    upgrade_in_background(&state).await?;
    let mut app = state.0.lock().await;
    app.settle();
    Ok(overview(&app))
}

/// Once the key is unlocked: moves a version 1 blog to one document per post and sends it to
/// the spokes, off the writer's way: the window stays usable meanwhile, and a publish waits
/// for it ([`WriterSession::upgrade_if_needed`]). A failure is logged; the next sync tries
/// again. A new blog starts as one document per post.
async fn upgrade_in_background(state: &tauri::State<'_, AppState>) -> Result<(), UiError> {
    if profile(&*state.0.lock().await)?.is_set() {
        return Ok(());
    }
    let w = writer_session(state, "keep your blog").await?;
    tauri::async_runtime::spawn(async move {
        match w.upgrade_if_needed().await {
            Ok(spokes_writer::LayoutUpgrade::Made(_) | spokes_writer::LayoutUpgrade::Joined(_)) => {
                if let Err(e) = w.sync().await {
                    tracing::warn!("the blog moved to one document per post; sending it failed: {e}");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("the blog could not move to one document per post yet: {e}"),
        }
    });
    Ok(())
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
    drop(app);
    upgrade_in_background(&state).await?;
    let mut app = state.0.lock().await;
    app.settle();
    Ok(overview(&app))
}

/// The printable recovery sheet, a whole HTML page.
#[tauri::command]
pub async fn recovery_sheet(state: tauri::State<'_, AppState>) -> Result<String, UiError> {
    let words = crate::i18n::sheet_words(crate::i18n::current());
    on_profile(&state, move |p| p.recovery_sheet_in(&words)).await
}
