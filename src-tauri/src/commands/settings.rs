//! Commands of the Settings dialog: the blog's settings, the identity and its computers,
//! the spokes, and exporting.

use super::*;

/// Opens `url` in the writer's web browser (the desktop's default, through `xdg-open` and
/// the like). Only `http:` and `https:` addresses are opened.
#[tauri::command]
pub fn open_in_browser(url: String) -> Result<(), UiError> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(crate::ui_err(Code::BadAddress, "Only web addresses (http or https) can be opened."));
    }
    open::that_detached(&url).map_err(|e| crate::ui_err(Code::NoBrowser, format!("Your web browser could not be opened ({e}). The address is {url}")))
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

/// What claiming a name for the blog ended in.
#[derive(Debug, Clone, Serialize)]
pub struct NameResult {
    /// Whether the name is the blog's now.
    pub yours: bool,
    /// The full name, for example `maria.spokes.example`.
    pub fqdn: String,
    /// When another blog has it: free names like it.
    pub alternatives: Vec<String>,
}

fn naming_err(e: spokes_writer::naming::NamingError) -> UiError {
    use spokes_writer::naming::NamingError;
    let message = match &e {
        NamingError::NoNames => "None of your spokes can give your blog a name yet: their operators have not set up a council domain.".to_owned(),
        NamingError::Spoke { code: Code::DnsFailed, spoke, .. } => format!("{spoke} could not reach the council's name server. Try again in a few minutes."),
        other => format!("{other}."),
    };
    crate::ui_err(e.code(), message)
}

/// Claims `name` for the blog in the council's domain and publishes it (the first blog to
/// claim a name gets it).
#[tauri::command]
pub async fn claim_name(state: tauri::State<'_, AppState>, name: String) -> Result<NameResult, UiError> {
    let w = writer_session(&state, "give your blog a name").await?;
    match w.claim_name(&name).await.map_err(naming_err)? {
        spokes_writer::naming::NameClaim::Yours { fqdn } => Ok(NameResult { yours: true, fqdn, alternatives: vec![] }),
        spokes_writer::naming::NameClaim::Taken { fqdn, alternatives } => Ok(NameResult { yours: false, fqdn, alternatives }),
    }
}

/// Gives the blog's name up; returns the name that was released.
#[tauri::command]
pub async fn release_name(state: tauri::State<'_, AppState>) -> Result<String, UiError> {
    let w = writer_session(&state, "give the name up").await?;
    w.release_name().await.map_err(naming_err)
}

/// The records the blog's own domain needs, when it has a name and a domain.
#[tauri::command]
pub async fn get_domain(state: tauri::State<'_, AppState>) -> Result<Option<spokes_writer::naming::DomainSetup>, UiError> {
    on_profile(&state, move |p| p.domain_setup()).await
}

/// Binds a domain the writer owns to the blog (signed, published) and returns the two records
/// to add to its DNS.
#[tauri::command]
pub async fn set_domain(state: tauri::State<'_, AppState>, domain: String) -> Result<spokes_writer::naming::DomainSetup, UiError> {
    let w = writer_session(&state, "use your own domain").await?;
    w.set_domain(&domain).await.map_err(naming_err)
}

/// Stops serving the blog under its own domain.
#[tauri::command]
pub async fn remove_domain(state: tauri::State<'_, AppState>) -> Result<(), UiError> {
    let w = writer_session(&state, "stop using your domain").await?;
    w.remove_domain().await.map(|_| ()).map_err(naming_err)
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

/// The invite the app was started with (a clicked `spokes:` link), once; `None` after.
#[tauri::command]
pub async fn take_invite(state: tauri::State<'_, AppState>) -> Result<Option<String>, UiError> {
    Ok(state.0.lock().await.invite.take())
}

/// Adds a spoke from an invite ticket.
#[tauri::command]
pub async fn add_spoke(state: tauri::State<'_, AppState>, ticket: String) -> Result<Overview, UiError> {
    let mut app = state.0.lock().await;
    app.profile.as_mut().ok_or_else(|| ui_err(Code::NoProfile, "Create your identity first."))?.add_spoke(&ticket)?;
    Ok(overview(&app))
}

/// One post an import would bring in, for the preview.
#[derive(serde::Serialize)]
pub struct PreviewPost {
    /// Its title.
    pub title: String,
    /// Its date, RFC 3339.
    pub date: String,
    /// What was guessed or not found: each a stable `code` and its details, worded by the UI
    /// in the writer's language ([`spokes_core::import::ImportNote`]).
    pub notes: Vec<spokes_core::import::ImportNote>,
}

/// Something found that is not a post, for the preview.
#[derive(serde::Serialize)]
pub struct PreviewSkip {
    /// The entry's title, or the file's name.
    pub what: String,
    /// Why it stays out, a sentence for the writer (English).
    pub why: String,
    /// Why, as a stable code the UI words in its language (`SkipReason::code`).
    pub reason: &'static str,
}

/// What an import of some paths would bring in (nothing is written).
#[derive(serde::Serialize)]
pub struct ImportPreview {
    /// The posts, as they will come in.
    pub posts: Vec<PreviewPost>,
    /// What stays out.
    pub skipped: Vec<PreviewSkip>,
    /// Distinct pictures that will be kept with the blog.
    pub pictures: usize,
}

/// What an import brought in.
#[derive(serde::Serialize)]
pub struct ImportDone {
    /// Posts brought in as drafts.
    pub posts: usize,
    /// Pictures kept with the blog.
    pub pictures: usize,
    /// Entries or files left out.
    pub skipped: usize,
}

/// Reads what importing `paths` (an export file of WordPress or Ghost, or a Jekyll, Hugo or
/// Zola folder: [`spokes_writer::import::read`]) would bring in, writing nothing.
#[tauri::command]
pub async fn import_preview(paths: Vec<String>) -> Result<ImportPreview, UiError> {
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    let read = tokio::task::spawn_blocking(move || spokes_writer::import::read(&paths)).await.map_err(|e| ui_err(Code::Internal, e.to_string()))?;
    let read = read.map_err(|e| UiError::from(ProfileError::from(e)))?;
    let pictures: std::collections::BTreeSet<&PathBuf> = read.posts.iter().flat_map(|i| i.pictures.values()).collect();
    Ok(ImportPreview {
        pictures: pictures.len(),
        posts: read.posts.iter().map(|i| PreviewPost { title: i.post.title.clone(), date: i.post.date.to_rfc3339(), notes: i.warnings.clone() }).collect(),
        skipped: read
            .skipped
            .iter()
            .map(|s| PreviewSkip {
                what: s.item.clone().unwrap_or_else(|| s.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()),
                why: s.reason.sentence().to_owned(),
                reason: s.reason.code(),
            })
            .collect(),
    })
}

/// Imports `paths` as drafts ([`Profile::import`]), pictures and all.
#[tauri::command]
pub async fn import_posts(state: tauri::State<'_, AppState>, paths: Vec<String>) -> Result<ImportDone, UiError> {
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    let r = on_profile(&state, move |p| p.import(&paths)).await?;
    Ok(ImportDone { posts: r.posts.len(), pictures: r.pictures, skipped: r.skipped.len() })
}

/// Changes the passphrase that protects this computer's keys ([`Profile::change_passphrase`]).
/// The app forgets the unlocked key, so the next publish asks for the new passphrase.
#[tauri::command]
pub async fn change_passphrase(state: tauri::State<'_, AppState>, old: String, new: String) -> Result<(), UiError> {
    on_profile(&state, move |p| p.change_passphrase(&old, &new)).await?;
    state.0.lock().await.key = None;
    Ok(())
}

/// A pairing code to show, as text and as a QR code.
#[derive(serde::Serialize)]
pub struct PairingShown {
    /// The code (`spokespair1…`), to type or paste on the other computer.
    pub code: String,
    /// The code as an SVG QR code, when it fits one.
    pub qr_svg: Option<String>,
}

/// How long a pairing code waits for the other computer.
const PAIRING_WAIT: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Starts pairing another computer ([`Profile::pair_listen`], checking `passphrase`), and waits
/// for it in the background ([`Profile::pair_wait`], up to ten minutes); the window hears the
/// end as a `paired` event: `{ "name": … }` when the other computer was added, `{ "error":
/// Problem }` when not. A pairing already waiting is stopped first.
#[tauri::command]
pub async fn pair_start<R: tauri::Runtime>(app: tauri::AppHandle<R>, state: tauri::State<'_, AppState>, passphrase: String) -> Result<PairingShown, UiError> {
    use tauri::Emitter;
    let p = profile(&*state.0.lock().await)?.clone();
    let listener = p.pair_listen(&passphrase).await?;
    let shown = PairingShown { code: listener.code(), qr_svg: listener.qr_svg() };
    let task = tokio::spawn(async move {
        let event = match p.pair_wait(listener, &passphrase, PAIRING_WAIT).await {
            Ok((name, _key)) => serde_json::json!({ "name": name }),
            Err(e) => serde_json::json!({ "error": UiError::from(e) }),
        };
        let _ = app.emit("paired", event);
    });
    if let Some(old) = state.0.lock().await.pairing.replace(task.abort_handle()) {
        old.abort();
    }
    Ok(shown)
}

/// Stops waiting for the other computer (the writer closed the pairing dialog).
#[tauri::command]
pub async fn pair_cancel(state: tauri::State<'_, AppState>) -> Result<(), UiError> {
    if let Some(task) = state.0.lock().await.pairing.take() {
        task.abort();
    }
    Ok(())
}

/// Writes the blog as a static website (pages and Atom feed, what is published) into the
/// folder `path` ([`Profile::export_site`]); returns how many files it wrote.
#[tauri::command]
pub async fn export_site(state: tauri::State<'_, AppState>, path: String) -> Result<usize, UiError> {
    on_profile(&state, move |p| p.export_site(Path::new(&path))).await
}

/// The page's language (`en`, `de`; see `ui/src/i18n.ts`): the menu bar is drawn again in it
/// and notifications speak it. A language the app does not speak is refused
/// (`missing-field`) and changes nothing.
#[tauri::command]
pub fn set_language<R: tauri::Runtime>(app: tauri::AppHandle<R>, language: String) -> Result<(), UiError> {
    let l = crate::i18n::Language::from_tag(&language).ok_or_else(|| crate::ui_err(Code::MissingField, format!("Spokes does not speak “{language}”.")))?;
    if crate::i18n::set(l) {
        // Only a window with a menu bar has one to redraw (not the commands' test runtime).
        if app.menu().is_some() {
            let menu = crate::app_menu(&app).map_err(|e| crate::ui_err(Code::Internal, e.to_string()))?;
            app.set_menu(menu).map_err(|e| crate::ui_err(Code::Internal, e.to_string()))?;
        }
    }
    Ok(())
}

/// Spell checking in the editor for writing in `language` (the blog's, a BCP 47 tag): turns
/// WebKitGTK's spell checker on with that language's dictionary ([`crate::i18n::dictionary_for`],
/// through enchant, from the dictionaries installed on the computer) and returns the
/// dictionaries it took: empty when none for that language is installed (then nothing is
/// underlined). Not a language tag: refused with `missing-field`.
#[tauri::command]
pub async fn set_spelling<R: tauri::Runtime>(window: tauri::WebviewWindow<R>, language: String) -> Result<Vec<String>, UiError> {
    let wanted = crate::i18n::dictionary_for(&language, sys_locale::get_locales()).ok_or_else(|| ui_err(Code::MissingField, format!("“{language}” is not a language code such as en or de.")))?;
    let (tx, rx) = tokio::sync::oneshot::channel::<Vec<String>>();
    window
        .with_webview(move |wv| {
            #[cfg(target_os = "linux")]
            {
                use webkit2gtk::{WebContextExt, WebViewExt};
                let taken = wv.inner().context().map(|ctx| {
                    ctx.set_spell_checking_enabled(true);
                    ctx.set_spell_checking_languages(&[wanted.as_str()]);
                    ctx.spell_checking_languages().iter().map(|l| l.to_string()).collect()
                });
                let _ = tx.send(taken.unwrap_or_default());
            }
            #[cfg(not(target_os = "linux"))]
            let _ = (wv, wanted, tx); // the system's own spell checker, in its languages
        })
        .map_err(|e| ui_err(Code::Internal, e.to_string()))?;
    Ok(rx.await.unwrap_or_default())
}

/// The desktop's locales, most wanted first, as BCP 47 tags (`de-DE`; `sys-locale`: on Linux
/// `LC_ALL`, `LC_MESSAGES`, `LANG`). The page picks its language and its date and number
/// formats from them: the web view's `navigator.languages` says `en-US` whenever the
/// desktop's locale is not installed system-wide, although the desktop asks for another.
#[tauri::command]
pub fn system_locales() -> Vec<String> {
    sys_locale::get_locales().collect()
}
