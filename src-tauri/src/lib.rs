//! The Spokes desktop app: thin Tauri commands over [`spokes_writer`].
//!
//! Every command returns `Result<T, UiError>`; a [`UiError`] carries a stable `code` and a
//! sentence a writer understands. With no spoke chosen, the app runs an embedded local spoke
//! (the default), so a new writer can publish and open the blog in a browser at once.

use serde::Serialize;
use spokes_core::problem::{Code, Problem};
use spokes_core::render::markdown_to_html_with;
use spokes_core::{BlogSettings, Post, SigningKey};
use spokes_writer::{PostSummary, Profile, ProfileError, PublishSummary, SpokeEntry, SpokeTarget, WriterSession};
use std::path::{Path, PathBuf};
use tokio::sync::Mutex;

pub mod commands;
pub mod i18n;
pub mod local_spoke;

pub use local_spoke::{LocalSpoke, start_local_spoke};

/// An error as the UI shows it: a stable [`Code`] and a sentence for the writer
/// (`ui/src/generated/Problem.ts` is its TypeScript type).
pub type UiError = Problem;

fn ui_err(code: Code, message: impl Into<String>) -> UiError {
    Problem::new(code, message)
}

/// The app's state.
pub struct App {
    dir: PathBuf,
    profile: Option<Profile>,
    key: Option<SigningKey>,
    /// Opens the sealed drafts of the writer's other computers (unlocked with the key).
    opening: Option<spokes_core::seal::OpeningKeys>,
    local: Option<LocalSpoke>,
    /// Connections to the spokes, kept open between publishes (bound on first publish).
    pool: Option<spokes_writer::ConnectionPool>,
    /// Whether a background task is trying the spokes that missed the last publish.
    retrying: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Flushes autosaves to the disk when the writer pauses.
    durability: spokes_writer::Durability,
    /// The profile being upgraded from an older layout, on a thread of its own: it arrives
    /// here when done (`None` if it failed; the failure is logged).
    upgrading: Option<std::sync::mpsc::Receiver<Option<Profile>>>,
    /// An invite the app was started with (a `spokes:` link), until the window takes it.
    invite: Option<String>,
    /// The pairing this computer is waiting on, to stop it when the writer closes the dialog.
    pairing: Option<tokio::task::AbortHandle>,
}

impl App {
    /// Takes the upgraded profile if its thread is done.
    fn settle(&mut self) {
        if let Some(rx) = &self.upgrading {
            match rx.try_recv() {
                Ok(p) => {
                    self.profile = p;
                    self.upgrading = None;
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
                Err(std::sync::mpsc::TryRecvError::Disconnected) => self.upgrading = None,
            }
        }
    }
}

/// Shared app state, behind an async mutex (commands await network work).
pub struct AppState(pub Mutex<App>);

impl AppState {
    /// State for the profile folder `dir`.
    pub fn new(dir: PathBuf) -> AppState {
        // Opening reads only `profile.json`; the writing screen then reads the drafts index and
        // the post it shows. A profile of an older layout is upgraded once, on a thread, while
        // the window says so (`Overview::preparing`).
        let (profile, upgrading) = if Profile::needs_upgrade(&dir) {
            let (tx, rx) = std::sync::mpsc::channel();
            let d = dir.clone();
            std::thread::spawn(move || {
                let p = Profile::open(&d).map_err(|e| tracing::error!("upgrading the profile failed: {e}")).ok();
                let _ = tx.send(p);
            });
            (None, Some(rx))
        } else {
            (Profile::open(&dir).ok(), None)
        };
        AppState(Mutex::new(App { dir, profile, key: None, opening: None, local: None, pool: None, retrying: Default::default(), durability: Default::default(), upgrading, invite: None, pairing: None }))
    }
}


/// Where the save dialogs start (full file paths in the Documents folder, not yet taken).
#[derive(Debug, Clone, Serialize)]
pub struct SuggestedPaths {
    /// For the recovery file: `spokes-recovery-{slug}.json`.
    pub recovery: String,
    /// For an export: `{slug}-{YYYY-MM-DD}.tar.gz`.
    pub export: String,
}

/// What the UI needs to choose a screen.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Overview {
    /// A profile exists.
    pub has_profile: bool,
    /// The key is unlocked for this session.
    pub unlocked: bool,
    /// Author name.
    pub name: String,
    /// Blog title.
    pub blog_title: String,
    /// Fingerprint, grouped in fours.
    pub fingerprint: String,
    /// Where readers can open the blog on the local spoke, when it runs.
    pub local_blog_url: Option<String>,
    /// Chosen spokes.
    pub spokes: Vec<SpokeEntry>,
    /// The blog's ID (32 hex digits; its pages are at `/b/{blog_id}/` on every spoke).
    pub blog_id: String,
    /// The blog is kept as one document per post (`spokes upgrade`): unpublishing a post
    /// deletes its words from the spokes. Otherwise they stay in the history the spokes keep.
    pub documents_per_post: bool,
    /// The profile is being upgraded from an older layout (once, seconds for a large blog):
    /// ask again shortly.
    #[serde(default)]
    pub preparing: bool,
}

fn overview(app: &App) -> Overview {
    let Some(p) = &app.profile else {
        let preparing = app.upgrading.is_some();
        return Overview { has_profile: preparing, unlocked: false, name: String::new(), blog_title: String::new(), fingerprint: String::new(), local_blog_url: None, spokes: vec![], blog_id: String::new(), documents_per_post: false, preparing };
    };
    let fp = p.fingerprint().as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ");
    Overview {
        has_profile: true,
        unlocked: app.key.is_some(),
        name: p.name().to_owned(),
        blog_title: p.settings().map(|s| s.title).unwrap_or_default(),
        fingerprint: fp,
        local_blog_url: app.local.as_ref().map(|l| format!("{}/b/{}/", l.url, p.blog_id())),
        spokes: p.spokes().to_vec(),
        blog_id: p.blog_id().to_string(),
        documents_per_post: p.is_set(),
        preparing: false,
    }
}

/// The keys a session holds once the passphrase is given: the signing key, and the keys that
/// open the drafts of the writer's other computers (`None` for an identity without an
/// encryption key, made before drafts were shared: its drafts stay on this computer).
fn session_keys(p: &Profile, passphrase: &str) -> Result<(SigningKey, Option<spokes_core::seal::OpeningKeys>), ProfileError> {
    let key = p.unlock(passphrase)?;
    Ok((key, p.identity()?.opening_keys(passphrase).ok()))
}

fn profile(app: &App) -> Result<&Profile, UiError> {
    if app.upgrading.is_some() {
        return Err(ui_err(Code::NoProfile, "Your blog is being made ready for this version of Spokes. Please wait a moment."));
    }
    app.profile.as_ref().ok_or_else(|| ui_err(Code::NoProfile, "Create your identity first."))
}


fn targets(app: &App, p: &Profile) -> Vec<SpokeTarget> {
    let t = p.targets();
    if t.is_empty() { app.local.as_ref().map(|l| vec![l.target.clone()]).unwrap_or_default() } else { t }
}

/// Told when the writing screen is up and drawn (`screen_ready`): the built-in spoke starts
/// then, or [`ScreenUp::AT_MOST`] after the app started, so that it does not compete with the
/// window for the processor while the writer waits to write.
#[derive(Default)]
pub struct ScreenUp(pub std::sync::Arc<tokio::sync::Notify>);

impl ScreenUp {
    /// The longest the built-in spoke waits for the writing screen (on the welcome screen
    /// there is none).
    pub const AT_MOST: std::time::Duration = std::time::Duration::from_secs(2);
}

/// Adds the app state and every command to `base` (`tauri::Builder::new()`, or `tauri::test::mock_builder()` in tests).
pub fn builder<R: tauri::Runtime>(base: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    let images = state.0.try_lock().map(|a| a.dir.join("images")).unwrap_or_default();
    base.register_uri_scheme_protocol(IMAGE_SCHEME, move |_, request| image_response(&images, request.uri().path()))
        .manage(state)
        .manage(ScreenUp::default())
        .manage(commands::updates::PendingUpdate::default())
        .invoke_handler(tauri::generate_handler![
        commands::welcome::get_overview,
        commands::settings::take_invite,
        commands::writing::screen_ready,
        commands::welcome::create_from_key,
        commands::welcome::create_identity,
        commands::welcome::unlock,
        commands::writing::list_posts,
        commands::writing::new_post,
        commands::writing::newest_post,
        commands::writing::get_post,
        commands::writing::save_post,
        commands::writing::save_edits,
        commands::writing::preview,
        commands::writing::preview_blocks,
        commands::writing::add_image,
        commands::writing::set_post_details,
        commands::writing::publish,
        commands::writing::publish_status,
        commands::writing::unsigned_changes,
        commands::settings::add_spoke,
        commands::welcome::save_recovery_file,
        commands::welcome::suggested_paths,
        commands::welcome::restore_blog,
        commands::welcome::recovery_sheet,
        commands::writing::post_history,
        commands::writing::diff_text,
        commands::writing::restore_revision,
        commands::writing::unpublish,
        commands::writing::delete_post,
        commands::writing::undo_delete,
        commands::settings::get_settings,
        commands::settings::save_settings,
        commands::settings::claim_name,
        commands::settings::release_name,
        commands::settings::get_domain,
        commands::settings::set_domain,
        commands::settings::remove_domain,
        commands::settings::identity_details,
        commands::settings::device_publishes,
        commands::settings::remove_device,
        commands::settings::open_in_browser,
        commands::settings::remove_spoke,
        commands::settings::export_archive,
        commands::settings::import_preview,
        commands::settings::import_posts,
        commands::settings::pair_start,
        commands::settings::pair_cancel,
        commands::welcome::pair_join,
        commands::settings::export_site,
        commands::settings::set_language,
        commands::settings::set_spelling,
        commands::settings::system_locales,
        commands::settings::change_passphrase,
        commands::updates::check_for_update,
        commands::updates::install_update,
        commands::updates::restart_app
    ])
}

/// The scheme under which the preview shows the blog's stored pictures:
/// `spokes-image://localhost/<name>` (WebKitGTK's form of a custom scheme).
pub const IMAGE_SCHEME: &str = "spokes-image";

/// Answers `spokes-image://localhost/<name>` from the profile's `images/` folder, only for a
/// valid image name whose bytes still match it.
fn image_response(images: &Path, path: &str) -> tauri::http::Response<Vec<u8>> {
    use tauri::http::{Response, StatusCode, header};
    let found = path.trim_start_matches('/').parse::<spokes_core::image::ImageName>().ok().and_then(|n| {
        let bytes = std::fs::read(images.join(n.as_str())).ok().filter(|b| n.verify(b))?;
        Some((n, bytes))
    });
    let r = match found {
        Some((n, bytes)) => Response::builder().header(header::CONTENT_TYPE, n.mime_type()).header(header::CACHE_CONTROL, "max-age=31536000, immutable").body(bytes),
        None => Response::builder().status(StatusCode::NOT_FOUND).body(Vec::new()),
    };
    r.unwrap_or_default()
}

pub use spokes_writer::default_profile_dir;

/// The D-Bus name that keeps one app per profile folder:
/// `org.spokes.desktop.p<16 hex digits of a hash of the folder>`.
/// The invite in a `spokes:` link among `args` (what the desktop passes when the writer clicks
/// one: `spokes:spokes1…`, or `spokes://spokes1…`), if it is one; anything else is ignored.
pub fn invite_in(args: &[String]) -> Option<String> {
    args.iter().find_map(|a| {
        let rest = a.get(..7).filter(|s| s.eq_ignore_ascii_case("spokes:")).map(|_| &a[7..])?;
        let ticket = rest.trim_start_matches('/').trim();
        spokes_sync::Ticket::decode(ticket).ok().map(|_| ticket.to_owned())
    })
}

pub fn instance_id(profile: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    profile.hash(&mut h);
    format!("org.spokes.desktop.p{:016x}", h.finish())
}

/// The menu bar. Quit (Ctrl+Q) ends the app, saving the window's size and place on the way
/// out; Help → About Spokes is the desktop's about dialog (the version, the licence, where the
/// log is). Items other than Quit, About and the clipboard's reach the page as a `menu` event
/// whose payload is the item's ID (`new-post`, `export`, `recovery`, `publish`, `details`,
/// `history`, `picture`, `focus`, `theme`, `settings`); the page's own shortcuts stay the
/// keyboard's way in, so no key is handled twice.
pub(crate) fn app_menu<R: tauri::Runtime>(h: &tauri::AppHandle<R>) -> tauri::Result<tauri::menu::Menu<R>> {
    use tauri::menu::{Menu, MenuItem, PredefinedMenuItem, Submenu};
    // Every label from the catalogue, in the page's language (`set_language`).
    let w = |id: &str| i18n::text(&format!("menu-{id}"), &[]);
    let item = |id: &str| MenuItem::with_id(h, id, w(id), true, None::<&str>);
    let file = Submenu::with_items(h, w("file"), true, &[
        &item("new-post")?,
        &PredefinedMenuItem::separator(h)?,
        &item("import")?,
        &item("export")?,
        &item("recovery")?,
        &PredefinedMenuItem::separator(h)?,
        // Ctrl+Q, the desktop's way to quit; the page has no shortcut of its own for it.
        &MenuItem::with_id(h, "quit", w("quit"), true, Some("CmdOrCtrl+Q"))?,
    ])?;
    let edit = Submenu::with_items(h, w("edit"), true, &[
        &PredefinedMenuItem::cut(h, Some(&w("cut")))?,
        &PredefinedMenuItem::copy(h, Some(&w("copy")))?,
        &PredefinedMenuItem::paste(h, Some(&w("paste")))?,
        &PredefinedMenuItem::select_all(h, Some(&w("select-all")))?,
        &PredefinedMenuItem::separator(h)?,
        // Ctrl+F is the editor's own (the page handles the key); the menu shows where it is.
        &item("find")?,
    ])?;
    let post = Submenu::with_items(h, w("post"), true, &[&item("publish")?, &item("details")?, &item("history")?, &item("picture")?])?;
    let view = Submenu::with_items(h, w("view"), true, &[&item("focus")?, &item("theme")?, &item("preview")?, &PredefinedMenuItem::separator(h)?, &item("settings")?])?;
    // About: the desktop's own dialog, with what a writer may need to tell someone helping them
    // (the version, and where the log is).
    let about = tauri::menu::AboutMetadata {
        name: Some("Spokes".into()),
        version: Some(env!("CARGO_PKG_VERSION").into()),
        comments: Some(i18n::text("about-comments", &[("log", log_dir().display().to_string().into())])),
        license: Some("GNU Affero General Public License, version 3 or later".into()),
        authors: Some(vec!["The Spokes developers".into()]),
        icon: h.default_window_icon().cloned(),
        ..Default::default()
    };
    let help = Submenu::with_items(h, w("help"), true, &[&MenuItem::with_id(h, "guide", w("guide"), true, Some("F1"))?, &PredefinedMenuItem::about(h, Some(&w("about")), Some(about))?])?;
    Menu::with_items(h, &[&file, &edit, &post, &view, &help])
}

/// Whether the machine has a GPU the window can draw with: a DRM render node
/// (`/dev/dri/renderD*`, Linux's device for GPU work without a display).
#[cfg(target_os = "linux")]
fn has_render_node() -> bool {
    std::fs::read_dir("/dev/dri")
        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false)
}

/// The web view's drawing mode. Without a GPU, WebKitGTK composites the page through a
/// software OpenGL (Mesa's llvmpipe), which makes every frame cost tens of milliseconds on a
/// small machine; painting straight on the CPU is quicker there (docs/benchmarks.md: typing
/// and starting both measured faster on the two-core benchmark machine, and the web view
/// uses about 100 MiB less). WebKit reads its switch, `WEBKIT_DISABLE_COMPOSITING_MODE`, from
/// the environment when it starts. With a GPU, or when the writer set the switch themselves,
/// WebKit's own choice stands.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn choose_drawing_mode() {
    const KEY: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if std::env::var_os(KEY).is_none() && !has_render_node() {
        // SAFETY: `set_var` is unsound only while another thread reads the environment; this
        // runs first thing in `run`, called first thing in `main`, before any thread exists.
        unsafe { std::env::set_var(KEY, "1") };
    }
}

/// Where the app's log files go: `$XDG_STATE_HOME/spokes/logs` (`~/.local/state/spokes/logs`).
pub fn log_dir() -> std::path::PathBuf {
    dirs::state_dir().unwrap_or_else(std::env::temp_dir).join("spokes").join("logs")
}

/// Logs to standard error (warnings, or `SPOKES_LOG`) and to a file a writer can send when
/// something goes wrong: `spokes.YYYY-MM-DD.log` in [`log_dir`], one a day, the last 7 kept,
/// with the app's own steps (`info`). Without a writable folder, standard error only. Returns
/// the folder.
fn init_logging() -> std::path::PathBuf {
    use tracing_subscriber::{EnvFilter, Layer, fmt, prelude::*};
    let chosen = std::env::var("SPOKES_LOG").ok();
    let filter = |default: &str| EnvFilter::try_new(chosen.as_deref().unwrap_or(default)).unwrap_or_else(|_| EnvFilter::new(default));
    let dir = log_dir();
    let file = std::fs::create_dir_all(&dir).ok().and_then(|_| {
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("spokes")
            .filename_suffix("log")
            .max_log_files(7)
            .build(&dir)
            .ok()
    });
    let file_layer = file.map(|w| fmt::layer().with_ansi(false).with_writer(w).with_filter(filter("info,automerge=off,iroh=warn,noq=warn,tao=warn,wry=warn")));
    tracing_subscriber::registry().with(fmt::layer().with_writer(std::io::stderr).with_filter(filter("warn,automerge=off"))).with(file_layer).init();
    dir
}

/// Starts the desktop app on the profile in `SPOKES_PROFILE` (or the default one) and runs
/// until its window closes. Call it first thing in `main`, before any other thread starts: it
/// may set an environment variable for WebKit ([`choose_drawing_mode`]).
pub fn run() {
    #[cfg(target_os = "linux")]
    choose_drawing_mode();
    let logs = init_logging();
    let dir = default_profile_dir();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), profile = %dir.display(), logs = %logs.display(), "Spokes started");
    let state = AppState::new(dir.clone());
    // Started by a clicked invite link (the app was not open): the window offers it.
    if let Ok(mut app) = state.0.try_lock() {
        app.invite = invite_in(&std::env::args().collect::<Vec<_>>());
    }
    // One window per profile: starting Spokes again brings the open window forward (the
    // single-instance plugin, over the session D-Bus; without one, it starts normally).
    let single = tauri_plugin_single_instance::Builder::new()
        .dbus_id(instance_id(&dir))
        .callback(|app, args, _cwd| {
            use tauri::{Emitter, Manager};
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.show();
                let _ = w.set_focus();
            }
            // A clicked invite link: the window offers it (the writer still chooses to add it).
            if let Some(t) = invite_in(&args) {
                let _ = app.emit("invite", t);
            }
        })
        .build();
    let app = builder(tauri::Builder::<tauri::Wry>::new().plugin(single), state)
        // The window's size and place, as the writer left them.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        // Native open and save dialogs (GTK's file chooser on Linux).
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        // Updates of an AppImage copy, from a signed manifest (commands::updates).
        .plugin(tauri_plugin_updater::Builder::new().build())
        .menu(app_menu)
        .on_menu_event(|app, event| {
            use tauri::Emitter;
            match event.id().as_ref() {
                "quit" => app.exit(0),
                id => {
                    let _ = app.emit("menu", id);
                }
            }
        })
        .setup(move |app| {
            use tauri::Manager;
            let handle = app.handle().clone();
            let up = app.state::<ScreenUp>().0.clone();
            tauri::async_runtime::spawn(async move {
                let _ = tokio::time::timeout(ScreenUp::AT_MOST, up.notified()).await;
                match start_local_spoke(&dir).await {
                    Ok(l) => {
                        let st = handle.state::<AppState>();
                        st.0.lock().await.local = Some(l);
                    }
                    Err(e) => tracing::error!("{e}"),
                }
            });
            Ok(())
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|handle, event| {
            if let tauri::RunEvent::Exit = event {
                use tauri::Manager;
                // Leave compact files for a fast next start.
                if let Ok(app) = handle.state::<AppState>().0.try_lock()
                    && let Some(p) = &app.profile
                    && let Err(e) = p.compact()
                {
                    tracing::warn!("could not compact the documents: {e}");
                }
            }
        }),
        Err(e) => {
            eprintln!("Spokes could not start: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::webview::InvokeRequest;

    fn call<T: serde::de::DeserializeOwned>(w: &tauri::WebviewWindow<tauri::test::MockRuntime>, cmd: &str, args: serde_json::Value) -> Result<T, UiError> {
        let req = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        match get_ipc_response(w, req) {
            Ok(b) => Ok(b.deserialize::<T>().unwrap()),
            // The UI reads errors as `Problem` (ui/src/generated/Problem.ts): so does this test.
            Err(v) => Err(serde_json::from_value::<UiError>(v.clone()).unwrap_or_else(|e| panic!("{v} is not a Problem: {e}"))),
        }
    }

    #[test]
    fn an_invite_link_is_read_from_the_arguments_and_anything_else_is_not() {
        let t = spokes_sync::Ticket { v: 1, endpoint: iroh_id(), addrs: vec!["127.0.0.1:7001".parse().unwrap()], token: Some("ab".into()), name: Some("North".into()), web: None, relay: None }.encode();
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(invite_in(&args(&["spokes-app", &format!("spokes:{t}")])), Some(t.clone()));
        assert_eq!(invite_in(&args(&["spokes-app", &format!("SPOKES://{t}")])), Some(t.clone()), "the scheme in any case, with slashes");
        for bad in ["spokes-app", "spokes:", "spokes:spokes1zzzz", "https://example.org/", "spokes:javascript:alert(1)", "spökes:x"] {
            assert_eq!(invite_in(&args(&["spokes-app", bad])), None, "{bad}");
        }
    }

    fn iroh_id() -> String {
        iroh::SecretKey::generate().public().to_string()
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.path().is_dir() { copy_dir(&e.path(), &to.join(e.file_name())) } else { std::fs::copy(e.path(), to.join(e.file_name())).map(|_| ()).unwrap() }
        }
    }

    #[test]
    fn a_profile_of_an_older_layout_is_upgraded_while_the_window_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile");
        // A profile written by version 1 (layout 1, one drafts document).
        copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/v1/profile"), &profile);
        assert!(Profile::needs_upgrade(&profile));
        let state = AppState::new(profile.clone());
        let app = builder(mock_builder(), state).build(tauri::generate_context!()).unwrap();
        let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut seen_preparing = false;
        let o = loop {
            let o: Overview = call(&w, "get_overview", serde_json::json!({})).unwrap();
            if !o.preparing {
                break o;
            }
            seen_preparing = true;
            // Meanwhile other commands say why they wait, in words.
            let e = call::<Vec<PostSummary>>(&w, "list_posts", serde_json::json!({})).unwrap_err();
            assert!(e.message.contains("being made ready"), "{}", e.message);
            assert!(std::time::Instant::now() < deadline, "the upgrade did not end");
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert!(o.has_profile && !o.blog_title.is_empty(), "{o:?}");
        let posts: Vec<PostSummary> = call(&w, "list_posts", serde_json::json!({})).unwrap();
        assert!(!posts.is_empty());
        assert!(profile.join("drafts/index.automerge").is_file() && !Profile::needs_upgrade(&profile));
        // The fixture is small: the upgrade may end before the first question.
        eprintln!("the window saw the upgrade in progress: {seen_preparing}");
    }

    #[test]
    fn commands_create_write_preview_and_publish_to_the_local_spoke() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let local = rt.block_on(start_local_spoke(dir.path())).unwrap();
        let url = local.url.clone();
        let state = AppState::new(dir.path().to_path_buf());
        state.0.try_lock().unwrap().local = Some(local);
        let app = builder(mock_builder(), state).build(tauri::generate_context!()).unwrap();
        let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();

        let o: Overview = call(&w, "get_overview", serde_json::json!({})).unwrap();
        assert!(!o.has_profile);
        let e = call::<Overview>(&w, "create_identity", serde_json::json!({"name": "Ada", "blogTitle": "Notes", "passphrase": "short"})).unwrap_err();
        assert_eq!(e.code, "weak-passphrase");
        let o: Overview = call(&w, "create_identity", serde_json::json!({"name": "Ada", "blogTitle": "Notes", "passphrase": "long enough pass"})).unwrap();
        assert!(o.has_profile && o.unlocked);
        let blog_url = o.local_blog_url.clone().unwrap();
        assert!(blog_url.starts_with(&url));

        let e = call::<Overview>(&w, "unlock", serde_json::json!({"passphrase": "wrong"})).unwrap_err();
        assert_eq!(e.code, "wrong-passphrase");

        let post: Post = call(&w, "new_post", serde_json::json!({})).unwrap();
        call::<()>(&w, "save_post", serde_json::json!({"id": post.id, "title": "Hello there", "body": "Some *words* 😀"})).unwrap();
        let html: String = call(&w, "preview", serde_json::json!({"markdown": "Some *words* <script>x</script>"})).unwrap();
        assert!(html.contains("<em>words</em>") && !html.contains("<script"));
        let got: Post = call(&w, "get_post", serde_json::json!({"id": post.id})).unwrap();
        assert_eq!(got.slug, "hello-there");
        // The editor's autosave: splices in UTF-16 units ("😀" is two), one change.
        let splices = serde_json::json!([{"pos": 15, "delete": 0, "insert": "!"}, {"pos": 16, "insert": "!"}, {"pos": 0, "delete": 4, "insert": "Many"}]);
        call::<()>(&w, "save_edits", serde_json::json!({"id": post.id, "title": "Hello there", "splices": splices, "bodyLen": 17})).unwrap();
        let got: Post = call(&w, "get_post", serde_json::json!({"id": post.id})).unwrap();
        assert_eq!(got.body, "Many *words* 😀!!");
        let e = call::<()>(&w, "save_edits", serde_json::json!({"id": post.id, "title": "Hello there", "splices": [{"pos": 40, "delete": 1}], "bodyLen": 16})).unwrap_err();
        assert_eq!(e.code, "edit-mismatch");

        let s: PublishSummary = call(&w, "publish", serde_json::json!({"id": post.id})).unwrap();
        assert_eq!(s.sentence, "Published to 1 of 1 spoke");
        let body = rt.block_on(async {
            let mut stream = tokio::net::TcpStream::connect(url.trim_start_matches("http://")).await.unwrap();
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let path = blog_url.trim_start_matches(&url);
            stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
            let mut s = String::new();
            stream.read_to_string(&mut s).await.unwrap();
            s
        });
        assert!(body.contains("Hello there"), "{body}");
        // A picture: the raw bytes go up, the Markdown comes back, the preview shows it from
        // the app's own scheme, and the scheme serves the bytes.
        const PNG: &[u8] = spokes_core::image::EXAMPLE_PNG;
        let raw = |bytes: &[u8]| {
            let mut headers = tauri::http::HeaderMap::new();
            headers.insert("x-alt", "a%20red%20dot".parse().unwrap());
            let req = InvokeRequest { cmd: "add_image".into(), callback: CallbackFn(0), error: CallbackFn(1), url: "tauri://localhost".parse().unwrap(), body: InvokeBody::Raw(bytes.to_vec()), headers, invoke_key: INVOKE_KEY.to_string() };
            get_ipc_response(&w, req)
        };
        let link: String = raw(PNG).unwrap().deserialize().unwrap();
        let name = spokes_core::image::ImageName::for_bytes(PNG).unwrap();
        assert_eq!(link, format!("![a red dot](images/{name})"));
        assert_eq!(raw(b"GIF? no, text").unwrap_err()["code"], "bad-image");
        let html: String = call(&w, "preview", serde_json::json!({"markdown": link, "imageBase": "spokes-image://localhost/"})).unwrap();
        assert!(html.contains(&format!("src=\"spokes-image://localhost/{name}\"")), "{html}");
        let served = image_response(&dir.path().join("images"), &format!("/{name}"));
        assert_eq!((served.status().as_u16(), served.body().as_slice()), (200, PNG));
        assert_eq!(image_response(&dir.path().join("images"), "/../profile.json").status().as_u16(), 404);

        let e = call::<Overview>(&w, "add_spoke", serde_json::json!({"ticket": "not a ticket"})).unwrap_err();
        assert_eq!(e.code, "bad-ticket");
    }
}
