//! The real app window under Xvfb, driven over W3C WebDriver (tauri-driver in front of
//! WebKitWebDriver): create an identity (the recovery file saved, its printable sheet shown), write a post, add two spokes by pasting their invite
//! tickets, publish, and read the post back over HTTP from both spokes; then write more,
//! `kill -9` the app, restart it, find the text intact, and publish again (the passphrase is
//! asked at that first publish); then publish while one spoke is down and see the app deliver
//! the post by itself once the spoke is back; restore the first published version from the
//! post's history and publish it again; organise, format, unpublish, change settings; and
//! finally add a picture to a post and fetch it from the spoke it was published to.
//!
//! Every screen it photographs is also audited with axe-core (WCAG 2 A and AA rules, axe's best
//! practices, `ui/node_modules/axe-core`): no serious or critical violation may remain, and the
//! audit is first seen to catch one planted for it.
//!
//! Needs `Xvfb`, `WebKitWebDriver` (Debian: xvfb, webkit2gtk-driver) and `tauri-driver`
//! (`cargo install tauri-driver --locked`); `./x test` installs all three. Screenshots of each
//! screen are written to `$CARGO_TARGET_TMPDIR/screenshots/`.

mod webdriver;

use serde_json::Value;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use webdriver::{Driver, Proc, dbus_session, descendants, find_tool, free_port, start_driver, start_driver_env, xvfb};

/// A real picture (the app's icon, 256 × 256), so the screenshot shows one.
const PNG: &[u8] = include_bytes!("../icons/128x128@2x.png");

struct TestSpoke {
    running: spoke::RunningSpoke,
    ticket: String,
}

async fn test_spoke(dir: &Path, name: &str, dns: Option<spoke::dns::DnsConfig>) -> TestSpoke {
    let data = dir.join(name);
    let config = spoke::config::Config { name: name.into(), dns, ..Default::default() };
    spoke::init(&data, &config).expect("init spoke");
    let any: Option<SocketAddr> = "127.0.0.1:0".parse().ok();
    let running = spoke::start(&data, spoke::Overrides { http: any, p2p: any, no_admin: true, replicate_interval_secs: Some(3600), ..Default::default() }).await.expect("start spoke");
    let ticket = running.invite(1).expect("invite").encode();
    TestSpoke { running, ticket }
}

/// Which of the desktop's file dialogs is open.
#[derive(Clone, Copy)]
enum FileDialog {
    Save,
    Open,
}

/// Answers the desktop's file dialog titled `title` (GTK's file chooser, opened by the app
/// through the dialog plugin) with `path`, as a writer would: the path typed into the name
/// field (save) or the location field (open, Ctrl+L), then Enter. WebDriver reaches only the
/// web page, so the keys go through the X server (xdotool's XTEST).
fn answer_file_dialog(display: &str, title: &str, kind: FileDialog, path: &Path) {
    let xdotool = |args: &[&str]| {
        let out = Command::new("xdotool").env("DISPLAY", display).args(args).output().expect("run xdotool (./x test installs it)");
        (out.status.success(), String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let window = loop {
        let (_, found) = xdotool(&["search", "--onlyvisible", "--name", &format!("^{title}$")]);
        if let Some(id) = found.lines().next() {
            break id.to_owned();
        }
        assert!(Instant::now() < deadline, "the {title:?} dialog never opened");
        std::thread::sleep(Duration::from_millis(200));
    };
    std::thread::sleep(Duration::from_millis(500)); // the chooser fills in its folder
    assert!(xdotool(&["windowfocus", "--sync", &window]).0, "focus the {title:?} dialog");
    let path = path.to_str().expect("a UTF-8 path");
    let keys: &[&[&str]] = match kind {
        FileDialog::Save => &[&["key", "--clearmodifiers", "ctrl+a"], &["type", "--delay", "20", path], &["key", "Return"]],
        FileDialog::Open => &[&["key", "--clearmodifiers", "ctrl+l"], &["type", "--delay", "20", path], &["key", "Return"]],
    };
    for k in keys {
        assert!(xdotool(k).0, "xdotool {k:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn http_json(url: &str) -> Value {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(20))).build().into();
    let text = agent.get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}")).body_mut().read_to_string().expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {url}: {e}: {text}"))
}

fn http_text(url: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(20))).build().into();
    agent.get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}")).body_mut().read_to_string().expect("body")
}

/// Clicks New post and waits until the new draft is open: the editor is held ("Opening…")
/// from the click on, so keys typed after this go to the new draft's title, never the old's.
fn open_new_post(d: &Driver) {
    d.click("#new-post");
    d.wait_text("#save-state", 10, |t| t == "Saved");
    assert_eq!(d.script("return document.getElementById('title').value;").as_str(), Some("Untitled"), "the new draft is open");
    d.wait_text(".post-list li.active .post-title", 10, |t| t == "Untitled");
}

#[test]
fn window_creates_identity_writes_and_publishes_to_two_spokes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    // North belongs to a council with a domain, in a real name server (BIND 9) started here.
    let dns = spokes_e2e::dns::DnsServer::start(&tmp.path().join("dns"), &["spokes.test"]);
    let north_dns = dns.spoke_config("spokes.test", "127.0.0.1".parse().expect("ip"), 80, 3600);
    let spokes = rt.block_on(async { [test_spoke(tmp.path(), "north", Some(north_dns)).await, test_spoke(tmp.path(), "south", None).await] });

    let (_xvfb, display) = xvfb();
    let (_bus, bus) = dbus_session();
    let port = free_port();
    let native = free_port();
    let profile = tmp.path().join("profile");
    let driver_proc = start_driver(port, native, &display, &bus, &profile, tmp.path(), "");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    // The app is first started by a clicked invite link (`spokes:TICKET`): the first spoke's.
    let d = Driver::start_with_args(port, Path::new(env!("CARGO_BIN_EXE_spokes-app")), shots, &[format!("spokes:{}", spokes[0].ticket)]);

    // Onboarding: a name, a title, a passphrase typed twice.
    d.wait("#name", 60);
    d.type_into("#name", "Ada Lovelace");
    d.type_into("#blog-title", "Notes from the engine room");
    d.type_into("#passphrase", "correct horse battery");
    d.type_into("#passphrase2", "correct horse battery");
    d.shot("onboarding");
    d.click("#create");

    // The recovery file is saved at once, in the Documents folder; the sheet can be printed.
    let saved = d.wait_text("#recovery-path", 60, |t| t.ends_with(".json"));
    let saved = PathBuf::from(saved);
    assert!(saved.starts_with(tmp.path().join("documents")), "{}", saved.display());
    let recovery = spokes_writer::recovery::RecoveryFile::parse(&std::fs::read(&saved).expect("recovery file")).expect("a recovery file");
    let fingerprint = spokes_writer::Profile::open(&profile).expect("profile").fingerprint().to_owned();
    assert_eq!(recovery.fingerprint, fingerprint);
    assert!(recovery.identity().is_ok(), "it holds the (passphrase-protected) key");
    d.shot("recovery");
    // A copy goes where the writer chooses (a USB stick, say), in the desktop's save dialog.
    let stick = tmp.path().join("usb-stick");
    std::fs::create_dir_all(&stick).expect("a folder for the copy");
    let copy = stick.join("spokes-recovery.json");
    d.click("#recovery-copy");
    answer_file_dialog(&display, "Save your recovery file", FileDialog::Save, &copy);
    d.wait_text("#recovery-copied", 30, |t| t == format!("Also saved to {}", copy.display()));
    let copied = spokes_writer::recovery::RecoveryFile::parse(&std::fs::read(&copy).expect("the copy")).expect("a recovery file");
    assert_eq!(copied.fingerprint, fingerprint, "the copy is the same identity's");
    d.click("#recovery-print");
    d.wait("#recovery-sheet", 10);
    let sheet = d.script("return document.getElementById('recovery-sheet').srcdoc;").as_str().unwrap_or_default().to_owned();
    assert!(sheet.contains(&fingerprint[..4]) && sheet.contains("BEGIN PGP PRIVATE KEY BLOCK"), "{sheet}");
    // The file as QR codes too, and the way back through the app, not a terminal.
    assert!(sheet.contains("<svg") && sheet.contains("Part 1 of ") && !sheet.contains("spokes restore"), "{sheet}");
    d.shot("recovery-sheet");
    d.click("#sheet-close");
    d.click("#recovery-done");

    // Where the blog will live: the invite of the link the app was started by waits in the
    // field. The writer pastes over it instead: a wrong invite is explained, then the first
    // spoke's, shared as a web address, is taken.
    d.wait_text("#onboard-ticket", 1, |_| true);
    assert_eq!(d.script("return document.getElementById('onboard-ticket').value;"), Value::String(spokes[0].ticket.clone()), "the invite of the link is offered");
    d.clear("#onboard-ticket");
    d.type_into("#onboard-ticket", "spokes1notaticket");
    d.click("#onboard-add");
    d.wait_text("#error", 10, |t| t.contains("invite"));
    d.clear("#onboard-ticket");
    d.type_into("#onboard-ticket", &format!("https://north.example/invite#{}", spokes[0].ticket));
    d.click("#onboard-add");
    d.wait_text("#onboard-spokes", 10, |t| t.contains("north: added"));
    d.shot("onboarding-spokes");
    d.click("#onboard-done");

    // The writing screen opens on a new draft.
    d.wait("#app[data-ready]", 60);
    assert!(profile.join("identity.asc").is_file(), "the encrypted key is stored in the profile");
    d.wait_text("#blog-link", 10, |t| t == "Hosted by 1 spoke.");

    // The second invite is pasted in Settings, which "Add a spoke…" in the sidebar opens at the
    // field for it (the sidebar holds no operator's plumbing).
    assert!(d.find(".sidebar #ticket").is_err(), "no invitation field in the sidebar");
    d.click("#add-spoke-open");
    d.wait("#settings-dialog[open]", 10);
    assert_eq!(d.script("return document.activeElement.id"), "ticket");
    d.type_into("#ticket", &spokes[1].ticket);
    d.click("#add-spoke");
    d.wait_text("#add-spoke-msg", 10, |t| t.starts_with("Spoke added"));
    d.wait_text("#spoke-list", 10, |t| t.matches("Remove").count() == 2);
    d.click("#settings-close");
    d.wait_text("#spoke-msg", 10, |t| t.starts_with("Spoke added"));
    d.wait_text("#blog-link", 10, |t| t == "Hosted by 2 spokes.");

    // Write, with the live preview following and autosave reaching "Saved".
    d.clear("#title");
    d.type_into("#title", "Jekyll Meet & Greet at GitHub HQ");
    // U+E007 is the WebDriver key code for Enter.
    // Real writing (from the corpus's Jekyll blog), typed as a writer types it: a paragraph
    // with a date in bold and a link, then a short one.
    d.type_into("#body", "Hey! Our friends at GitHub have agreed to host a Jekyll meet & greet on **February 5, 2015 at 7pm**. The event will be hosted at [GitHub's Headquarters](https://goo.gl/maps/Bmy7i) here in San Francisco, CA.\u{E007}\u{E007}We look forward to meeting all you fine folks. Cheers!");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let html = d.script("return document.getElementById('preview').innerHTML;").as_str().unwrap_or_default().to_owned();
        if html.contains("<strong>February 5, 2015 at 7pm</strong>") && html.contains("Jekyll Meet &amp; Greet at GitHub HQ") && html.contains("Cheers!") {
            assert!(html.contains("<a href=\"https://goo.gl/maps/Bmy7i\""), "the link: {html}");
            break;
        }
        assert!(Instant::now() < deadline, "preview never showed the text: {html}");
        std::thread::sleep(Duration::from_millis(100));
    }
    d.wait_text("#save-state", 10, |t| t == "Saved");
    d.wait_text(".post-list li.active .post-title", 10, |t| t == "Jekyll Meet & Greet at GitHub HQ");
    // The word count follows the text a quarter second after typing stops (40 words, as the
    // webview's word segmentation counts them: the link's address is not counted).
    d.wait_text("#word-count", 5, |t| t == "40 words · 1 min read");
    d.shot("writing");
    // The theme: like the system (light under Xvfb), then light, then dark, then back.
    d.click("#theme");
    d.wait_text("#theme", 5, |t| t == "Theme: light");
    let light = d.shot("writing-light");
    d.click("#theme");
    d.wait_text("#theme", 5, |t| t == "Theme: dark");
    let dark_bg = d.script("return getComputedStyle(document.body).backgroundColor;").as_str().unwrap_or_default().to_owned();
    assert_eq!(dark_bg, "rgb(27, 27, 29)", "the dark theme is applied");
    // WebKit may hand over the frame before the new colours are painted: asked again briefly.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut dark = d.shot("writing-dark");
    while std::fs::read(&dark).ok() == std::fs::read(&light).ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        dark = d.shot("writing-dark");
    }
    assert_ne!(std::fs::read(&dark).ok(), std::fs::read(&light).ok(), "the dark theme's screenshot shows the light theme");
    d.click("#theme");
    d.wait_text("#theme", 5, |t| t == "Theme: like the system");

    // Publish: both spokes confirm.
    d.click("#publish");
    d.wait_text("#status", 60, |t| t == "Published to 2 of 2 spokes");
    d.wait_text(".post-list li.active .badge", 10, |t| t == "Published");
    // The open post says where it stands, beside its title.
    d.wait_text("#post-status", 10, |t| t == "Published · on all 2 of your spokes");
    // Nothing new to send: Publish rests, and says so, until something changes.
    d.wait_text("#publish", 10, |t| t == "Published");
    assert_eq!(d.script("return document.getElementById('publish').disabled;"), Value::Bool(true), "Publish with nothing new");
    let shot = d.shot("published");
    assert!(std::fs::metadata(&shot).map(|m| m.len() > 1000).unwrap_or(false), "no screenshot at {}", shot.display());

    // Readers see it on both spokes, rendered, sanitised and verified.
    for s in &spokes {
        let base = format!("http://{}", s.running.http_addr);
        let blogs = http_json(&format!("{base}/api/v1/blogs"));
        let blog = &blogs[0];
        assert_eq!(blog["settings"]["title"], "Notes from the engine room", "{blogs}");
        assert_eq!(blog["verification"]["status"], "verified", "{blogs}");
        let url = blog["posts"][0]["url"].as_str().expect("post url");
        assert_eq!(blog["posts"][0]["slug"], "jekyll-meet-greet-at-github-hq");
        let page = http_text(&format!("{base}{url}"));
        assert!(page.contains("Jekyll Meet &amp; Greet at GitHub HQ"), "{page}");
        assert!(page.contains("<strong>February 5, 2015 at 7pm</strong>") && page.contains("href=\"https://goo.gl/maps/Bmy7i\""), "{page}");
        assert!(page.contains("<p>We look forward to meeting all you fine folks. Cheers!</p>"), "two paragraphs: {page}");
        assert!(page.contains("Signatures verified"), "{page}");
    }

    // More text, autosaved; then the app is killed outright (no chance to save on exit).
    d.type_into("#body", "\u{E007}\u{E007}Pizza & beer will be available for those interested — and there will be much time to sit and chat about all things Jekyll.");
    typed_in(&d, "all things Jekyll.");
    d.wait_text("#save-state", 10, |t| t == "Saved");
    // The post changed: Publish is offered again.
    d.wait_text("#publish", 5, |t| t == "Publish");
    assert_eq!(d.script("return document.getElementById('publish').disabled;"), Value::Bool(false));
    // The autosave is on disk for another process at once: the post's own document has it.
    let on_disk = spokes_writer::Profile::open(&profile).expect("profile");
    let id = on_disk.posts().expect("posts").into_iter().find(|s| s.post.title == "Jekyll Meet & Greet at GitHub HQ").expect("the post").post.id;
    let body = on_disk.draft(&id).expect("draft").expect("the post").body;
    assert!(body.ends_with("interested — and there will be much time to sit and chat about all things Jekyll."), "{body:?}");
    let apps: Vec<u32> = descendants(driver_proc.0.id()).into_iter().filter(|(_, n, _)| n.starts_with("spokes-app")).map(|(pid, _, _)| pid).collect();
    assert_eq!(apps.len(), 1, "one app process under tauri-driver");
    let killed = Command::new("kill").args(["-9", &apps[0].to_string()]).status().expect("kill");
    assert!(killed.success());
    drop(d);

    // Restarted, the app opens straight on the writing screen (no passphrase to write) with
    // the text intact.
    let d = Driver::start(port, Path::new(env!("CARGO_BIN_EXE_spokes-app")), PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    d.wait("#app[data-ready]", 60);
    let body = d.script("return window.spokesEditor.value;").as_str().unwrap_or_default().to_owned();
    assert!(body.ends_with("Pizza & beer will be available for those interested — and there will be much time to sit and chat about all things Jekyll."), "text after restart: {body:?}");
    assert!(body.starts_with("Hey! Our friends at GitHub"), "{body:?}");
    d.wait_text(".post-list li.active .badge", 10, |t| t == "Changed");

    // Starting Spokes again on the same profile brings this window forward instead of
    // opening a second one: the second start hands over and ends at once. It is started as
    // the desktop starts it for a clicked invite link (`spokes:TICKET`, the scheme the
    // .desktop file registers): the window offers the invite, and adds it when asked.
    let mut second = Command::new(env!("CARGO_BIN_EXE_spokes-app"))
        .arg(format!("spokes:{}", spokes[1].ticket))
        .env("DISPLAY", &display)
        .env("SPOKES_PROFILE", &profile)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .env("XDG_CONFIG_HOME", tmp.path().join("xdg-config"))
        .env("XDG_DATA_HOME", tmp.path().join("xdg-data"))
        .env("GDK_BACKEND", "x11")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start a second app");
    let deadline = Instant::now() + Duration::from_secs(20);
    let ended = loop {
        if let Some(status) = second.try_wait().expect("second app") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = second.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(ended.is_some_and(|s| s.success()), "a second start on the same profile should hand over and end: {ended:?}");
    assert_eq!(d.text(".post-list li.active .badge"), "Changed", "the first window carries on");
    // The invitation is offered in a dialog of its own, added only when the writer says so.
    d.wait_text("#invite-dialog[open] h2", 10, |t| t == "An invitation to publish");
    assert_eq!(d.script("return document.activeElement.id"), "invite-add");
    d.shot("invite");
    d.click("#invite-add");
    d.wait_text("#spoke-msg", 10, |t| t.starts_with("Spoke added"));
    assert!(d.find("#invite-dialog").is_err(), "the invitation dialog closes once the spoke is added");
    d.wait_text("#blog-link", 10, |t| t == "Hosted by 2 spokes.");

    // Publishing asks for the passphrase once; a wrong one is explained.
    d.click("#publish");
    d.type_into("#unlock-pass", "not my passphrase");
    d.click("#unlock");
    d.wait_text("#unlock-dialog .error", 10, |t| t.contains("not right"));
    d.shot("passphrase");
    d.clear("#unlock-pass");
    d.type_into("#unlock-pass", "correct horse battery");
    d.click("#unlock");
    // The status line already read "Published to 2 of 2 spokes" (for the last publish); the
    // badge turns from "Changed" to "Published" only once this publish is done.
    d.wait_text(".post-list li.active .badge", 60, |t| t == "Published");
    d.wait_text("#status", 10, |t| t == "Published to 2 of 2 spokes");
    d.wait_text("#spoke-msg", 10, |t| t.is_empty()); // "Spoke added. Publish to…" is done with
    for s in &spokes {
        let base = format!("http://{}", s.running.http_addr);
        let blogs = http_json(&format!("{base}/api/v1/blogs"));
        let url = blogs[0]["posts"][0]["url"].as_str().expect("post url").to_owned();
        let page = http_text(&format!("{base}{url}"));
        assert!(page.contains("Pizza &amp; beer will be available for those interested — and"), "{page}");
    }

    // Both spokes go down: the publish is signed and kept, the app says it is offline and keeps
    // trying in the background; when the spokes come back they get the post with no click.
    // The desktop is told (notifications on the session bus, read by dbus-monitor: no
    // notification server runs here, the calls are what counts), once that it is still trying
    // and once that it is done.
    let heard = tmp.path().join("notifications.txt");
    let _monitor = Proc(
        Command::new(find_tool("dbus-monitor"))
            .args(["--address", &bus, "interface='org.freedesktop.Notifications',member='Notify'"])
            .stdout(std::fs::File::create(&heard).expect("notifications file"))
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("dbus-monitor (Debian: dbus-bin)"),
    );
    std::thread::sleep(Duration::from_millis(300));
    let [north, south] = spokes;
    let (north_http, north_p2p, north_ticket) = (north.running.http_addr, north.running.p2p_addrs[0], north.ticket.clone());
    let (south_http, south_p2p) = (south.running.http_addr, south.running.p2p_addrs[0]);
    rt.block_on(north.running.shutdown());
    rt.block_on(south.running.shutdown());
    // After the restart the caret is at the start: Ctrl+End (U+E009, U+E010) moves it to the
    // end, as a writer adding a paragraph would. Ctrl is let go when that call ends.
    d.type_into("#body", "\u{E009}\u{E010}");
    d.type_into("#body", "\u{E007}\u{E007}A special thanks to @gjtorikian for making this all possible! You rock.");
    typed_in(&d, "You rock.");
    d.wait_text("#save-state", 10, |t| t == "Saved");
    d.click("#publish");
    d.wait_text("#status", 60, |t| t.starts_with("Published to 0 of 2 spokes") && t.contains("will send when a spoke can be reached"));
    assert_eq!(d.script("return document.getElementById('offline').hidden;"), Value::Bool(false), "the offline sign shows");
    assert_eq!(d.text("#error"), "", "offline is said by the sign, not as an error");
    d.shot("offline");
    let restart = |name: &str, http: SocketAddr, p2p: SocketAddr| {
        rt.block_on(spoke::start(&tmp.path().join(name), spoke::Overrides { http: Some(http), p2p: Some(p2p), no_admin: true, replicate_interval_secs: Some(3600), ..Default::default() })).expect("restart a spoke")
    };
    let north = TestSpoke { running: restart("north", north_http, north_p2p), ticket: north_ticket };
    d.wait_text("#status", 90, |t| t.starts_with("Published to 1 of 2 spokes"));
    assert_eq!(d.script("return document.getElementById('offline').hidden;"), Value::Bool(true), "one spoke answers: not offline");
    d.shot("one-spoke-down");
    let south = restart("south", south_http, south_p2p);
    d.wait_text("#status", 90, |t| t == "Published to 2 of 2 spokes");
    assert_eq!(d.text("#error"), "", "the reason for the miss goes once it is mended");
    let told = |what: &str| std::fs::read_to_string(&heard).unwrap_or_default().contains(what);
    assert!(told("string \"Still sending\""), "told it is still trying: {}", std::fs::read_to_string(&heard).unwrap_or_default());
    assert!(told("has not reached south") || told("has not reached north, south"), "named the spoke it waits for");
    assert!(spokes_e2e::wait_until(Duration::from_secs(10), || told("string \"Everything you published has reached all 2 of your spokes.\"")), "told it is done");
    // The spokes' pages follow a moment after they confirm (under the load of four window
    // tests at once, once after the status line said so): asked until they do.
    for base in [format!("http://{}", north.running.http_addr), format!("http://{}", south.http_addr)] {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let blogs = http_json(&format!("{base}/api/v1/blogs"));
            let url = blogs[0]["posts"][0]["url"].as_str().expect("post url").to_owned();
            let page = http_text(&format!("{base}{url}"));
            if page.contains("for making this all possible! You rock.") {
                break;
            }
            assert!(Instant::now() < deadline, "{base}: {page}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    // History: three published versions, newest first; the first one is restored and
    // published again as a new signed revision.
    d.click("#history");
    d.wait("#history-dialog", 10);
    let count = d.script("return document.querySelectorAll('#revisions button').length;").as_u64().unwrap_or(0);
    assert_eq!(count, 3, "three published versions");
    d.click("#revisions li:last-child button");
    d.wait_text("#diff", 10, |t| t.contains("Pizza & beer"));
    let added = d.script("return Array.from(document.querySelectorAll('#diff .added')).map(e => e.textContent).join('');").as_str().unwrap_or_default().to_owned();
    assert!(added.contains("for making this all possible! You rock."), "what was added since: {added:?}");
    d.shot("history");
    d.click("#restore");
    d.wait_text("#status", 10, |t| t.starts_with("Restored the version of"));
    let restored = d.script("return window.spokesEditor.value;").as_str().unwrap_or_default().to_owned();
    assert!(restored.starts_with("Hey! Our friends at GitHub") && !restored.contains("Pizza"), "{restored:?}");
    d.click("#publish");
    d.wait_text("#status", 60, |t| t == "Published to 2 of 2 spokes");
    for base in [format!("http://{}", north.running.http_addr), format!("http://{}", south.http_addr)] {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let blogs = http_json(&format!("{base}/api/v1/blogs"));
            let url = blogs[0]["posts"][0]["url"].as_str().expect("post url").to_owned();
            let page = http_text(&format!("{base}{url}"));
            if !page.contains("Pizza") && page.contains("<strong>February 5, 2015 at 7pm</strong>") && page.contains("Signatures verified") {
                break;
            }
            assert!(Instant::now() < deadline, "{base} still serves the later text: {page}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    // Organise: a second draft, found by searching; deleted, undone, deleted again.
    open_new_post(&d);
    d.type_into("#title", "Join the Discussion at Jekyll Talk");
    d.type_into("#body", "We're excited to announce the launch of Jekyll Talk, a forum for anything related to Jekyll.");
    d.wait_text("#save-state", 10, |t| t == "Saved");
    d.wait_text("#post-status", 10, |t| t == "Draft · only on this computer until you publish it");
    // Formatting from the toolbar, the word count, and focus mode.
    d.script("const e = window.spokesEditor; e.focus(); e.setSelectionRange(40, 51);");
    d.click("#fmt-bold");
    let formatted = d.script("return window.spokesEditor.value;").as_str().unwrap_or_default().to_owned();
    assert_eq!(formatted, "We're excited to announce the launch of **Jekyll Talk**, a forum for anything related to Jekyll.");
    d.wait_text("#word-count", 10, |t| t == "16 words · 1 min read");
    d.wait_text("#save-state", 10, |t| t == "Saved");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !d.script("return document.getElementById('preview').innerHTML;").as_str().unwrap_or_default().contains("<strong>Jekyll Talk</strong>") {
        assert!(Instant::now() < deadline, "the preview never showed the bold word");
        std::thread::sleep(Duration::from_millis(100));
    }
    d.click("#focus");
    assert_eq!(d.script("return getComputedStyle(document.querySelector('.sidebar')).display;").as_str(), Some("none"), "focus mode hides the list");
    d.shot("focus");
    // Help: F1 opens the guide for writers, its screenshots bundled with the app.
    d.type_into("#body", "\u{E031}");
    d.wait_text("#guide-body", 10, |t| t.contains("Writing with Spokes") && t.contains("Moving from another blog"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.script("const i = Array.from(document.querySelectorAll('#guide-body img')); return i.length >= 4 && i.every((x) => x.complete && x.naturalWidth > 0);") != Value::Bool(true) {
        assert!(Instant::now() < deadline, "the guide's screenshots did not load");
        std::thread::sleep(Duration::from_millis(100));
    }
    d.shot("guide");
    d.click("#guide-close");
    d.click("#focus");
    assert_ne!(d.script("return getComputedStyle(document.querySelector('.sidebar')).display;").as_str(), Some("none"));
    // Find and replace: Ctrl+F in the text opens the bar; Replace all changes every match,
    // saved like typing; Escape closes the bar and leaves the text in focus.
    d.type_into("#body", "\u{E009}f");
    d.wait(".cm-search input[name=search]", 10);
    d.clear(".cm-search input[name=search]");
    d.type_into(".cm-search input[name=search]", "forum");
    d.type_into(".cm-search input[name=replace]", "Discourse forum");
    d.shot("find-replace");
    d.click(".cm-search button[name=replaceAll]");
    let replaced = d.script("return window.spokesEditor.value;").as_str().unwrap_or_default().to_owned();
    assert_eq!(replaced, "We're excited to announce the launch of **Jekyll Talk**, a Discourse forum for anything related to Jekyll.", "one match, replaced once (not again inside its own replacement)");
    d.wait_text("#save-state", 10, |t| t == "Saved");
    d.type_into(".cm-search input[name=search]", "\u{E00C}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.script("return !!document.querySelector('.cm-search') || document.activeElement.id !== 'body';") != Value::Bool(false) {
        assert!(Instant::now() < deadline, "Escape did not close the find bar and return to the text");
        std::thread::sleep(Duration::from_millis(100));
    }
    let on_disk = spokes_writer::Profile::open(&profile).expect("profile");
    let id = on_disk.posts().expect("posts").into_iter().find(|p| p.post.title == "Join the Discussion at Jekyll Talk").expect("the draft").post.id;
    assert_eq!(on_disk.draft(&id).expect("read").expect("the draft").body, "We're excited to announce the launch of **Jekyll Talk**, a Discourse forum for anything related to Jekyll.", "the replacement is saved");
    // What the writer types is never run: the page beside the text drops a script.
    d.type_into("#body", "\u{E009}\u{E010}");
    d.type_into("#body", "\u{E007}\u{E007}<script>alert(1)</script> Come join the fun!");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let html = d.script("return document.getElementById('preview').innerHTML;").as_str().unwrap_or_default().to_owned();
        if html.contains("Come join the fun!") {
            assert!(!html.contains("<script") && !html.contains("alert(1)"), "the preview must be sanitised: {html}");
            break;
        }
        assert!(Instant::now() < deadline, "the preview never showed the text: {html}");
        std::thread::sleep(Duration::from_millis(100));
    }
    d.wait_text("#save-state", 10, |t| t == "Saved");
    d.wait_text(".post-list li.active .post-title", 10, |t| t == "Join the Discussion at Jekyll Talk");
    d.type_into("#search", "Talk");
    d.wait_text("#post-list", 10, |t| t.contains("Join the Discussion at Jekyll Talk") && !t.contains("Jekyll Meet & Greet at GitHub HQ"));
    d.clear("#search");
    d.script("const f = document.getElementById('filter'); f.value = 'published'; f.dispatchEvent(new Event('change'));");
    d.wait_text("#post-list", 10, |t| t.contains("Jekyll Meet & Greet at GitHub HQ") && !t.contains("Jekyll Talk"));
    d.script("const f = document.getElementById('filter'); f.value = 'all'; f.dispatchEvent(new Event('change'));");
    d.click(".post-list li[data-id] .post-title");
    d.wait_text(".post-list li.active .post-title", 10, |t| t == "Join the Discussion at Jekyll Talk");
    // The arrow keys move through the list (newest first) and leave the focus in it.
    d.type_into("#post-list", "\u{E015}");
    d.wait_text(".post-list li.active .post-title", 10, |t| t == "Jekyll Meet & Greet at GitHub HQ");
    d.type_into("#post-list", "\u{E013}");
    d.wait_text(".post-list li.active .post-title", 10, |t| t == "Join the Discussion at Jekyll Talk");
    assert_eq!(d.script("return document.activeElement.id;").as_str(), Some("post-list"), "the focus stays in the list");
    // A listbox to assistive technology: the open post is its selected option; Enter goes on to the text.
    let active = d.script("const l = document.getElementById('post-list'); const o = document.getElementById(l.getAttribute('aria-activedescendant')); return [l.getAttribute('role'), o && o.getAttribute('role'), o && o.getAttribute('aria-selected'), o && o.textContent];");
    assert_eq!(active, serde_json::json!(["listbox", "option", "true", "Join the Discussion at Jekyll TalkDraft"]));
    d.type_into("#post-list", "\u{E007}");
    assert_eq!(d.script("return document.activeElement.id;").as_str(), Some("body"), "Enter moves on to the text");
    d.click("#delete");
    d.wait_text("#notice", 10, |t| t.starts_with("Moved “Join the Discussion at Jekyll Talk” to the bin."));
    d.wait_text("#post-list", 10, |t| !t.contains("Jekyll Talk"));
    d.click("#undo-delete");
    d.wait_text("#post-list", 10, |t| t.contains("Join the Discussion at Jekyll Talk"));
    d.wait_text(".post-list li.active .post-title", 10, |t| t == "Join the Discussion at Jekyll Talk");
    d.click("#delete");
    d.wait_text("#post-list", 10, |t| !t.contains("Jekyll Talk"));

    // Unpublish: a signed revision takes the post off both spokes, which delete its words (the
    // blog is one document per post: a new blog starts so).
    d.wait_text(".post-list li.active .post-title", 10, |t| t == "Jekyll Meet & Greet at GitHub HQ");
    d.click("#unpublish");
    d.wait_text("#notice", 60, |t| t.contains("is off your blog") && t.contains("Your spokes delete its words now"));
    assert!(spokes_writer::Profile::open(&profile).expect("profile").is_set(), "the blog is kept as one document per post");
    d.wait_text(".post-list li.active .badge", 10, |t| t == "Unpublished");
    for base in [format!("http://{}", north.running.http_addr), format!("http://{}", south.http_addr)] {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let blogs = http_json(&format!("{base}/api/v1/blogs"));
            if blogs[0]["posts"].as_array().is_some_and(|p| p.is_empty()) && blogs[0]["verification"]["status"] == "verified" {
                break;
            }
            assert!(Instant::now() < deadline, "{base} still lists the post: {blogs}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    d.shot("unpublished");

    // Settings: the blog's description, this computer among the signing keys, an export, and
    // a spoke removed.
    d.click("#settings");
    d.wait("#settings-dialog", 10);
    d.wait_text("#devices", 10, |t| t.contains("(this computer)"));
    // The fingerprint waits under "Advanced" (closed: not shown until asked for).
    assert_eq!(d.script("return document.querySelector('details.advanced').open;"), Value::Bool(false), "hidden until Advanced is opened");
    d.click("details.advanced summary");
    assert_eq!(d.script("return document.querySelector('details.advanced').open;"), Value::Bool(true));
    assert!(d.text("#settings-fingerprint").replace(' ', "").eq_ignore_ascii_case(&fingerprint), "the identity's fingerprint");
    d.clear("#set-description");
    d.type_into("#set-description", "Field notes, signed.");
    d.click("#settings-save");
    d.wait_text("#settings-msg", 10, |t| t.starts_with("Saved."));
    // The export asks where, in the desktop's save dialog.
    let kept = tmp.path().join("kept");
    std::fs::create_dir_all(&kept).expect("a folder for the export");
    d.click("#export");
    let chosen = kept.join("engine-room.tar.gz");
    answer_file_dialog(&display, "Export your blog", FileDialog::Save, &chosen);
    let exported = d.wait_text("#keep-msg", 60, |t| t.starts_with("Exported your blog"));
    assert_eq!(exported.rsplit(" to ").next(), Some(chosen.to_str().unwrap_or_default()), "{exported}");
    let archive = spokes_writer::archive::read_archive(&chosen).expect("the export reads back and verifies");
    assert_eq!(archive.manifest.fingerprint, fingerprint);
    // A website of what is published, into a new folder named in the desktop's save dialog.
    let site = kept.join("website");
    d.click("#export-site");
    answer_file_dialog(&display, "Export a website", FileDialog::Save, &site);
    d.wait_text("#keep-msg", 60, |t| t.starts_with("Wrote your website (") && t.contains(site.to_str().unwrap_or_default()));
    let index = std::fs::read_to_string(site.join("index.html")).expect("the website's index.html");
    assert!(index.contains("Notes from the engine room"), "{index}");
    assert!(std::fs::read_to_string(site.join("feed.atom")).expect("the website's feed").contains("<feed"), "the website has its Atom feed");
    // Each spoke can be opened in the browser at the blog's address there.
    let north_endpoint = north.running.endpoint_id.to_string();
    let open_url = d.script(&format!("return document.querySelector(\".open-spoke[data-endpoint='{north_endpoint}']\").dataset.url;"));
    let blog_id = spokes_writer::Profile::open(&profile).expect("profile").blog_id().to_string();
    assert_eq!(open_url.as_str(), Some(format!("http://{}/b/{blog_id}/", north.running.http_addr).as_str()));
    assert!(http_text(open_url.as_str().unwrap_or_default()).contains("Notes from the engine room"));
    // A name readers can keep: claimed through north, the one spoke with a council domain.
    // Typed, then Enter (WebDriver's key U+E007): the keyboard path.
    d.type_into("#name-input", "Engine Room\u{E007}");
    d.wait_text("#name-fqdn", 60, |t| t == "engine-room.spokes.test");
    // (Asked again for a few seconds: one lookup that timed out on a busy machine read empty.)
    let here = vec![std::net::IpAddr::from([127, 0, 0, 1])];
    spokes_e2e::wait_until(Duration::from_secs(10), || dns.addresses("engine-room.spokes.test") == here);
    assert_eq!(dns.addresses("engine-room.spokes.test"), here, "the name is in the council's zone");
    assert_eq!(spokes_writer::Profile::open(&profile).expect("profile").settings().expect("settings").name.map(|n| n.name).as_deref(), Some("engine-room"));
    // The writer's own domain: the two records to add are shown, the proof signed.
    d.type_into("#domain-input", "Blog.Engine.Example\u{E007}");
    d.wait_text("#domain-records", 60, |t| t.contains("CNAME"));
    let cells = d.script("return [...document.querySelectorAll('#domain-records td')].map((c) => c.textContent);");
    let cells: Vec<&str> = cells.as_array().map(|a| a.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
    assert_eq!(cells[..5], ["CNAME", "blog.engine.example", "engine-room.spokes.test.", "TXT", "_spokes.blog.engine.example"], "{cells:?}");
    assert!(cells[5].starts_with("\"v=spokes-domain1 blog="), "{cells:?}");
    d.shot("settings");
    d.click("#domain-remove");
    d.wait("#domain-input", 60);
    assert!(spokes_writer::Profile::open(&profile).expect("profile").settings().expect("settings").domain.is_none(), "the domain left the settings");
    // Given up again (asked first, on the page): gone from the zone, and the blog's /b/
    // addresses on north no longer send readers to it.
    d.click("#name-release");
    d.click("#name-release-confirm");
    d.wait("#name-input", 60);
    d.wait_text("#name-msg", 10, |t| t == "engine-room.spokes.test is no longer your blog's name.");
    assert!(dns.addresses("engine-room.spokes.test").is_empty(), "the name left the council's zone");
    let south_endpoint = south.endpoint_id.to_string();
    d.click(&format!(".remove-spoke[data-endpoint='{south_endpoint}']"));
    d.wait_text("#blog-link", 10, |t| t == "Hosted by 1 spoke.");
    // The recovery file saved again, where the writer chooses: it now names the spoke.
    let recovery_again = kept.join("recovery.json");
    d.click("#save-recovery");
    answer_file_dialog(&display, "Save your recovery file", FileDialog::Save, &recovery_again);
    d.wait_text("#keep-msg", 30, |t| t == format!("Saved the recovery file to {}", recovery_again.display()));
    let again = spokes_writer::recovery::RecoveryFile::parse(&std::fs::read(&recovery_again).expect("recovery file")).expect("a recovery file");
    assert_eq!(again.spokes.len(), 1, "the recovery file names the blog's one spoke");
    d.click("#settings-close");
    let settings = spokes_writer::Profile::open(&profile).expect("profile").settings().expect("settings");
    assert_eq!(settings.description, "Field notes, signed.");

    // A picture: picked with the Image button's file chooser, shown in the preview from the
    // blog's own store, published, and served by the spoke byte for byte.
    open_new_post(&d);
    d.type_into("#title", "Pick Up your $1 Jekyll Sticker");
    d.type_into("#body", "You may have heard that the excellent Jekyll logo has been made into a sticker:");
    let png_path = tmp.path().join("jekyll-sticker.png");
    std::fs::write(&png_path, PNG).expect("write the picture");
    let input = d.wait("#image-file", 10);
    d.post(&format!("/element/{input}/value"), serde_json::json!({"text": png_path.to_string_lossy()})).unwrap_or_else(|e| d.fail(&format!("choose the picture: {e}")));
    let name = spokes_core::image::ImageName::for_bytes(PNG).expect("a PNG");
    let deadline = Instant::now() + Duration::from_secs(20);
    let expected = format!("You may have heard that the excellent Jekyll logo has been made into a sticker:\n\n![jekyll sticker](images/{name})\n");
    while d.script("return window.spokesEditor.value;").as_str() != Some(expected.as_str()) {
        assert!(Instant::now() < deadline, "the picture's Markdown never arrived in the text");
        std::thread::sleep(Duration::from_millis(100));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while d.script("const i = document.querySelector('#preview img'); return !!(i && i.complete && i.naturalWidth === 256);") != Value::Bool(true) {
        assert!(Instant::now() < deadline, "the preview never showed the picture");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The text shows it too, as a picture under its line (not only as its link).
    let deadline = Instant::now() + Duration::from_secs(20);
    while d.script("const i = document.querySelector('.cm-content img.cm-picture'); return !!(i && i.complete && i.naturalWidth === 256 && i.alt === 'jekyll sticker');") != Value::Bool(true) {
        assert!(Instant::now() < deadline, "the editor never showed the picture");
        std::thread::sleep(Duration::from_millis(100));
    }
    d.shot("picture-in-text");
    d.wait_text("#save-state", 10, |t| t == "Saved");
    // One column by default; the page as readers see it beside the text is a choice.
    let preview_shown = || d.script("return getComputedStyle(document.getElementById('preview')).display !== 'none';");
    assert_eq!(preview_shown(), Value::Bool(false), "the text alone, by default");
    d.click("#toggle-preview");
    assert_eq!(preview_shown(), Value::Bool(true), "the preview beside the text, once asked for");
    d.shot("picture");
    d.click("#toggle-preview");
    assert_eq!(preview_shown(), Value::Bool(false));
    d.click("#publish");
    // The status line already reads "Published to 1 of 1 spoke" (for the last publish): the
    // draft's badge turns only once this publish is done.
    d.wait_text(".post-list li.active .badge", 60, |t| t == "Published");
    d.wait_text("#status", 60, |t| t == "Published to 1 of 1 spoke");
    let base = format!("http://{}", north.running.http_addr);
    let blog_id = spokes_writer::Profile::open(&profile).expect("profile").blog_id().to_string();
    let page = http_text(&format!("{base}/b/{blog_id}/posts/pick-up-your-1-jekyll-sticker"));
    let src = format!("/b/{blog_id}/images/{name}");
    assert!(page.contains(&format!("<img src=\"{src}\" alt=\"jekyll sticker\"")), "{page}");
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(20))).build().into();
    let mut r = agent.get(&format!("{base}{src}")).call().expect("GET the picture");
    assert_eq!(r.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("image/png"));
    assert_eq!(r.body_mut().read_to_vec().expect("picture bytes"), PNG, "the spoke serves the picture byte for byte");

    // Details: a web address of the writer's own and tags, then republished there.
    d.click("#details");
    d.wait("#details-dialog", 10);
    d.clear("#slug");
    d.type_into("#slug", "Jekyll stickers, $1");
    // The preview shows the address on the writer's spoke, as readers will open it.
    let permalink = format!("http://{}/b/{blog_id}/posts/jekyll-stickers-1", north.running.http_addr);
    d.wait_text("#permalink", 5, |t| t == permalink);
    d.clear("#tags");
    d.type_into("#tags", "stickers, partners, Stickers");
    d.shot("details");
    d.click("#details-save");
    d.wait_text("#details-msg", 10, |t| t.starts_with("Saved."));
    d.click("#details-close");
    d.click("#publish");
    d.wait_text("#status", 60, |t| t == "Published to 1 of 1 spoke");
    // The status line read the same before this publish: the spoke is asked until it has it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let api = http_json(&format!("{base}/api/v1/blogs/{blog_id}"));
        let moved = api["posts"].as_array().expect("posts").iter().find(|p| p["title"] == "Pick Up your $1 Jekyll Sticker").cloned().expect("the picture post");
        if (moved["slug"].as_str(), moved["tags"].clone()) == (Some("jekyll-stickers-1"), serde_json::json!(["stickers", "partners"])) {
            break;
        }
        assert!(Instant::now() < deadline, "the spoke never took the new web address and tags: {api}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Scheduled: a post dated tomorrow is signed and sent now, and the spoke keeps it hidden.
    open_new_post(&d);
    d.type_into("#title", "Jekyll 3.8.5 Released");
    d.type_into("#body", "This release fixes a bug where multiple Liquid tags were not supported in excerpts.");
    d.wait_text("#save-state", 10, |t| t == "Saved");
    d.click("#details");
    d.wait("#details-dialog", 10);
    let tomorrow = (chrono::Local::now() + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M").to_string();
    d.script(&format!("document.getElementById('post-date').value = '{tomorrow}';"));
    d.click("#details-save");
    d.wait_text("#details-msg", 10, |t| t.starts_with("Saved. Scheduled for"));
    d.click("#details-close");
    d.wait_text("#publish", 5, |t| t == "Schedule");
    d.click("#publish");
    // The list says so in plain words once this publish is done.
    d.wait_text(".post-list li.active .badge", 60, |t| t == "Scheduled");
    d.wait_text("#status", 60, |t| t == "Published to 1 of 1 spoke");
    d.wait_text("#post-status", 10, |t| t.starts_with("Scheduled · readers see it from ") && t.ends_with(" · on your spoke"));
    let stored = spokes_writer::Profile::open(&profile).expect("profile").with_blog(|b| Ok(b.posts())).expect("blog");
    assert!(stored.iter().any(|p| p.title == "Jekyll 3.8.5 Released" && p.date > chrono::Utc::now()), "signed with tomorrow's date");
    let api = http_json(&format!("{base}/api/v1/blogs/{blog_id}"));
    assert!(!api.to_string().contains("Jekyll 3.8.5 Released"), "a scheduled post stays hidden: {api}");
    drop(d);
    drop(driver_proc);
    // Later, this computer publishes once more; then it is stolen (that last publish stands
    // for what a thief would publish with it).
    let old_computer = spokes_writer::Profile::open(&profile).expect("profile");
    let old_key = old_computer.device_key().expect("a device key").to_owned();
    let k = old_computer.unlock("correct horse battery").expect("key");
    let thiefs = old_computer.new_post("Free coins for every reader", "Send one coin, get two back. Today only!", &[]).expect("post");
    let w = spokes_writer::WriterSession::new(old_computer.clone(), k, None, old_computer.targets(), None);
    rt.block_on(w.publish(Some(std::slice::from_ref(&thiefs.id)), false)).expect("publish");
    assert!(http_json(&format!("{base}/api/v1/blogs/{blog_id}")).to_string().contains("Free coins for every reader"));

    // A new computer: the recovery file, picked in the desktop's open dialog, and its
    // passphrase bring the blog back from its spoke, pictures and all.
    let restored = tmp.path().join("restored-profile");
    let driver_proc = start_driver(port, native, &display, &bus, &restored, tmp.path(), "-2");
    let d = Driver::start(port, Path::new(env!("CARGO_BIN_EXE_spokes-app")), PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    d.click("#restore-start");
    d.click("#restore-pick");
    answer_file_dialog(&display, "Choose your recovery file", FileDialog::Open, &recovery_again);
    d.wait_text("#restore-file", 20, |t| t == recovery_again.to_str().unwrap_or_default());
    d.type_into("#restore-pass", "not my passphrase");
    d.click("#restore-go");
    d.wait_text("#error", 60, |t| t.contains("passphrase is not right"));
    d.clear("#restore-pass");
    d.type_into("#restore-pass", "correct horse battery");
    d.shot("restore");
    d.click("#restore-go");
    d.wait("#app[data-ready]", 120);
    let titles = d.script("return Array.from(document.querySelectorAll('#post-list .post-title')).map((e) => e.textContent);");
    assert!(titles.as_array().is_some_and(|t| t.iter().any(|x| x == "Pick Up your $1 Jekyll Sticker")), "the restored blog lists its posts: {titles}");
    let back = spokes_writer::Profile::open(&restored).expect("the restored profile");
    assert_eq!(back.fingerprint(), fingerprint, "the same identity");
    assert_eq!(back.image(&name).as_deref(), Some(PNG), "the picture came back");

    // The old computer was stolen: from the new one, the writer removes it for good, keeping
    // what they published on it up to the post before the thief's.
    d.click("#settings");
    d.wait("#settings-dialog", 10);
    d.click(&format!("#devices li[data-fingerprint='{old_key}'] .lost-device"));
    d.wait("#keep-choice", 30);
    let choices = d.script("return Array.from(document.querySelectorAll('#keep-choice label.choice')).map((e) => e.textContent);");
    let choices: Vec<String> = choices.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default();
    // The blog is one document per post: the list holds the old computer's last publishes
    // that the spoke still keeps manifests of (the scheduled post is not among them: it waits
    // on the computer that wrote it until its date).
    assert!(choices.first().is_some_and(|c| c.starts_with("Free coins for every reader")), "newest first: {choices:?}");
    assert!(choices.len() >= 3 && !choices.iter().any(|c| c.starts_with("Jekyll 3.8.5 Released")), "{choices:?}");
    assert_eq!(choices.last().map(String::as_str), Some("None of these"));
    // Nothing is chosen yet: the dialog says what is missing.
    d.type_into("#remove-device-pass", "correct horse battery");
    d.click("#remove-device-confirm");
    d.wait_text("#remove-device-dialog .error", 10, |t| t.contains("Choose the last thing you published"));
    d.click("#keep-choice label.choice:nth-of-type(2) input");
    d.shot("lost-computer");
    d.click("#remove-device-confirm");
    d.wait_text(&format!("#devices li[data-fingerprint='{old_key}']"), 60, |t| t.contains("lost or stolen, removed"));
    let api = http_json(&format!("{base}/api/v1/blogs/{blog_id}"));
    assert!(!api.to_string().contains("Free coins for every reader"), "the spoke left the thief's post out: {api}");
    assert!(api.to_string().contains("Pick Up your $1 Jekyll Sticker"), "what the writer kept stays: {api}");
    assert_eq!(api["verification"]["status"], "verified", "{}", api["verification"]);
    // The removal reached the spoke, and the list of spokes says so.
    d.wait_text("#spoke-list", 30, |t| t.contains("has everything you published"));
    d.shot("lost-computer-removed");

    // Moving from WordPress: the export file, picked in the desktop's open dialog with its
    // uploads folder beside it, previewed (posts with their dates, what stays out and why),
    // then brought in as drafts, the picture kept with the blog.
    let old_site = tmp.path().join("old-site");
    std::fs::create_dir_all(&old_site).expect("old site folder");
    let export = spokes_e2e::wordpress::write_export(&old_site, 6);
    d.click("#import");
    d.wait("#import-dialog", 10);
    d.click("#import-file");
    answer_file_dialog(&display, "Choose your blog's export file", FileDialog::Open, &export.path);
    d.wait_text("#import-summary", 60, |t| t.starts_with(&format!("{} posts to bring in as drafts, with 1 picture.", export.post_titles.len())));
    let listed = d.script("return Array.from(document.querySelectorAll('#import-posts .import-title')).map((e) => e.textContent);");
    assert_eq!(listed, serde_json::json!(export.post_titles), "the preview lists the posts in the export's order");
    assert!(d.text("#import-skipped summary").contains(&format!("{} entries that are not posts", export.not_posts)));
    d.shot("import-preview");
    d.click("#import-go");
    d.wait_text("#status", 60, |t| t == format!("Brought in {} posts as drafts.", export.post_titles.len()));
    let titles = d.script("return Array.from(document.querySelectorAll('#post-list .post-title')).map((e) => e.textContent);");
    for t in &export.post_titles {
        assert!(titles.as_array().is_some_and(|a| a.iter().any(|x| x == t)), "{t} is in the post list: {titles}");
    }
    let picture = spokes_core::image::ImageName::for_bytes(&export.picture).expect("a PNG");
    assert_eq!(spokes_writer::Profile::open(&restored).expect("profile").image(&picture).as_deref(), Some(export.picture.as_slice()), "the picture came in with the posts");

    // A new passphrase: the current one is checked, the new one typed twice; the app then asks
    // for the new one at the next publish, and the old one no longer opens the key.
    d.click("#settings");
    d.wait("#settings-dialog", 10);
    d.click("#change-pass");
    d.type_into("#old-pass", "not my passphrase");
    d.type_into("#new-pass", "a longer new passphrase");
    d.type_into("#new-pass2", "a longer new passphrase");
    d.click("#change-pass-go");
    d.wait_text("#change-pass-dialog .error", 20, |t| t.contains("not right"));
    d.clear("#old-pass");
    d.type_into("#old-pass", "correct horse battery");
    d.clear("#new-pass2");
    d.type_into("#new-pass2", "a longer new passphrase, mistyped");
    d.click("#change-pass-go");
    d.wait_text("#change-pass-dialog .error", 10, |t| t == "The two new passphrases are not the same.");
    d.clear("#new-pass2");
    d.type_into("#new-pass2", "a longer new passphrase");
    d.shot("change-passphrase");
    d.click("#change-pass-go");
    d.wait_text("#change-pass-msg", 30, |t| t.starts_with("Your passphrase is changed."));
    d.click("#change-pass-done");
    d.click("#settings-close");
    open_new_post(&d);
    d.type_into("#title", "Alfred Xing has joined the Jekyll core team");
    d.type_into("#body", "We're excited to announce that Alfred Xing has joined the Jekyll core team!");
    d.wait_text("#save-state", 10, |t| t == "Saved");
    d.click("#publish");
    d.type_into("#unlock-pass", "correct horse battery");
    d.click("#unlock");
    d.wait_text("#unlock-dialog .error", 20, |t| t.contains("not right"));
    d.clear("#unlock-pass");
    d.type_into("#unlock-pass", "a longer new passphrase");
    d.click("#unlock");
    d.wait_text(".post-list li.active .badge", 60, |t| t == "Published");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http_json(&format!("{base}/api/v1/blogs/{blog_id}")).to_string().contains("Alfred Xing has joined the Jekyll core team") {
        assert!(Instant::now() < deadline, "the post signed after the new passphrase never reached the spoke");
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(http_json(&format!("{base}/api/v1/blogs/{blog_id}"))["verification"]["status"], "verified");

    // Another computer: Settings shows a pairing code (and its QR code); a second profile
    // joins with it from the command line, and the window says so and lists it. Then it is
    // lost: removed for good (it published nothing).
    d.click("#settings");
    d.wait("#settings-dialog", 10);
    d.click("#pair-computer");
    d.type_into("#pair-pass", "a longer new passphrase");
    d.click("#pair-go");
    d.wait("#pair-qr", 30);
    let code = d.script("return document.getElementById('pair-code').value;").as_str().unwrap_or_default().to_owned();
    assert!(code.starts_with("spokespair1"), "{code}");
    assert_eq!(d.script("const i = document.getElementById('pair-qr'); return i.complete && i.naturalWidth >= 200;"), Value::Bool(true), "the QR code is drawn");
    d.shot("pair-computer");
    let second = tmp.path().join("kitchen-laptop");
    let joining = {
        let (second, code) = (second.clone(), code.clone());
        std::thread::spawn(move || {
            Command::new(spokes_e2e::bin("spokes")).arg("--profile").arg(&second).args(["device", "join", &code, "--name", "Kitchen laptop"]).env("SPOKES_PASSPHRASE", "a longer new passphrase").stdin(Stdio::null()).output().expect("spokes device join")
        })
    };
    d.wait_text("#pair-result", 120, |t| t == "Kitchen laptop now writes for you, with a key of its own.");
    let joined = joining.join().expect("join thread");
    assert!(joined.status.success(), "spokes device join: {}", String::from_utf8_lossy(&joined.stderr));
    let kitchen = spokes_writer::Profile::open(&second).expect("the joined profile");
    assert_eq!(kitchen.fingerprint(), back.fingerprint(), "the same identity");
    let kitchen_key = kitchen.device_key().expect("a key of its own").to_owned();
    d.click("#pair-done");
    d.wait_text("#devices", 10, |t| t.contains("Kitchen laptop"));
    d.click(&format!("#devices li[data-fingerprint='{kitchen_key}'] .lost-device"));
    d.wait("#keep-choice", 30);
    d.click("#keep-choice label.choice input");
    d.type_into("#remove-device-pass", "a longer new passphrase");
    d.click("#remove-device-confirm");
    d.wait_text(&format!("#devices li[data-fingerprint='{kitchen_key}']"), 60, |t| t.contains("lost or stolen, removed"));
    d.click("#settings-close");
    // axe-core ran on every screen above: nothing serious or critical (issue 22, "Accessible").
    let violations = d.violations();
    assert!(violations.is_empty(), "accessibility violations (axe-core):\n{}", violations.join("\n"));
    drop(d);
    drop(driver_proc);
}

/// A writer who already has a GnuPG key starts with it: the key exported by `gpg` (a real
/// GnuPG, in its own home), picked in the desktop's open dialog, opened with its passphrase
/// (a wrong one is explained); the blog is then signed by that key, under its fingerprint,
/// with the name from the key and not its email address.
#[test]
fn window_starts_a_blog_from_a_gnupg_key() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let home = tmp.path().join("gnupg");
    std::fs::create_dir_all(&home).expect("gnupg home");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).expect("gnupg home mode");
    }
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg").arg("--homedir").arg(&home).args(["--batch", "--pinentry-mode", "loopback"]).args(args).output().expect("gpg is installed (./x installs gnupg)");
        assert!(out.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    gpg(&["--passphrase", "grace's own passphrase", "--quick-gen-key", "Grace Hopper <grace@example.org>", "ed25519"]);
    let key = tmp.path().join("grace.asc");
    std::fs::write(&key, gpg(&["--passphrase", "grace's own passphrase", "--armor", "--export-secret-keys", "grace@example.org"])).expect("write the key");
    let listed = String::from_utf8(gpg(&["--with-colons", "--list-keys", "grace@example.org"])).expect("gpg output");
    let fpr = listed.lines().find(|l| l.starts_with("fpr:")).and_then(|l| l.split(':').nth(9)).expect("a fingerprint").to_owned();
    let _ = Command::new("gpgconf").arg("--homedir").arg(&home).args(["--kill", "all"]).output();

    let (_xvfb, display) = xvfb();
    let (_bus, bus) = dbus_session();
    let (port, native) = (free_port(), free_port());
    let profile = tmp.path().join("profile");
    let _driver = start_driver(port, native, &display, &bus, &profile, tmp.path(), "");
    let d = Driver::start(port, Path::new(env!("CARGO_BIN_EXE_spokes-app")), PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    d.click("#key-start");
    d.click("#key-pick");
    answer_file_dialog(&display, "Choose your secret key file", FileDialog::Open, &key);
    d.wait_text("#key-file", 20, |t| t == "grace.asc");
    d.type_into("#key-blog-title", "Grace's notes");
    d.type_into("#key-pass", "not the passphrase");
    d.click("#key-go");
    d.wait_text("#error", 60, |t| t.contains("passphrase is not right"));
    assert!(!profile.join("identity.asc").exists(), "a wrong passphrase makes nothing");
    d.clear("#key-pass");
    d.type_into("#key-pass", "grace's own passphrase");
    d.shot("start-from-key");
    d.click("#key-go");
    d.wait_text("#recovery-path", 60, |t| t.ends_with(".json"));
    d.click("#recovery-done");
    d.click("#onboard-done");
    d.wait("#app[data-ready]", 60);
    let p = spokes_writer::Profile::open(&profile).expect("profile");
    assert_eq!(p.fingerprint(), fpr, "the blog's identity is the GnuPG key");
    let signed = d.text("#signed-as");
    assert_eq!(signed, "Signed as Grace Hopper", "the name from the key, not its email address");
    assert!(p.unlock("grace's own passphrase").is_ok(), "the key's own passphrase opens it here too");
    // A blog in a language this computer has no dictionary for (Finnish: ./x installs English
    // and German ones): Settings says spelling is not checked, and stops saying so for English.
    d.click("#settings");
    d.wait("#settings-dialog[open]", 10);
    assert_eq!(d.text("#spelling-note"), "", "English has a dictionary here");
    // The blog's language is chosen by name, not typed as a code.
    let choose = |tag: &str| d.script(&format!("const s = document.getElementById('set-language'); s.value = '{tag}'; s.dispatchEvent(new Event('change'));"));
    assert_eq!(d.script("return document.getElementById('set-language').selectedOptions[0].textContent;"), "English");
    assert_eq!(d.script("return document.querySelector('#set-language option[value=fi]').textContent;"), "Finnish");
    choose("fi");
    d.click("#settings-save");
    d.wait_text("#spelling-note", 10, |t| t == "This computer has no spelling dictionary for Finnish: spelling is not checked.");
    d.shot("no-dictionary");
    choose("en");
    d.click("#settings-save");
    d.wait_text("#spelling-note", 10, |t| t.is_empty());
    d.click("#settings-close");
    let violations = d.violations();
    assert!(violations.is_empty(), "accessibility violations (axe-core):\n{}", violations.join("\n"));
}

/// A second computer joins from the window: the writer's first computer (the command line,
/// `spokes device pair`) shows a pairing code; typed into the welcome screen with the
/// passphrase, it brings the blog from its spoke, with a key of this computer's own.
#[test]
fn window_joins_a_blog_with_a_pairing_code() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().expect("temp dir");
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let spoke = rt.block_on(test_spoke(tmp.path(), "harbour", None));
    let first = tmp.path().join("first-computer");
    let cli = |args: &[&str]| {
        let out = Command::new(spokes_e2e::bin("spokes")).arg("--profile").arg(&first).args(args).env("SPOKES_PASSPHRASE", "correct horse battery").stdin(Stdio::null()).output().expect("spokes");
        assert!(out.status.success(), "spokes {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    cli(&["init", "--name", "Ada Lovelace", "--title", "Notes from the engine room"]);
    cli(&["spoke", "add", &spoke.ticket]);
    cli(&["new", "--title", "Jekyll 4.3.4 Released", "--body", "Hello Jekyllers! Publishing a small bug-fix release."]);
    cli(&["publish"]);
    let mut pairing = Command::new(spokes_e2e::bin("spokes"))
        .arg("--profile")
        .arg(&first)
        .args(["device", "pair", "--wait-minutes", "3"])
        .env("SPOKES_PASSPHRASE", "correct horse battery")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spokes device pair");
    let mut lines = std::io::BufReader::new(pairing.stdout.take().expect("stdout")).lines();
    let code = lines.by_ref().map_while(Result::ok).find_map(|l| l.strip_prefix("Pairing code: ").map(str::to_owned)).expect("a pairing code");

    let (_xvfb, display) = xvfb();
    let (_bus, bus) = dbus_session();
    let (port, native) = (free_port(), free_port());
    let profile = tmp.path().join("profile");
    let _driver = start_driver(port, native, &display, &bus, &profile, tmp.path(), "");
    let d = Driver::start(port, Path::new(env!("CARGO_BIN_EXE_spokes-app")), PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    d.click("#join-start");
    d.type_into("#join-code", &code);
    d.type_into("#join-pass", "correct horse battery");
    d.shot("join-computer");
    d.click("#join-go");
    d.wait("#app[data-ready]", 120);
    d.wait_text("#post-list", 30, |t| t.contains("Jekyll 4.3.4 Released"));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.starts_with("Paired with ")), "the first computer says it paired: {rest:?}");
    assert!(pairing.wait().expect("pair exit").success());
    let joined = spokes_writer::Profile::open(&profile).expect("the joined profile");
    let first = spokes_writer::Profile::open(&first).expect("the first profile");
    assert_eq!(joined.fingerprint(), first.fingerprint(), "one identity");
    assert_ne!(joined.device_key(), first.device_key(), "this computer signs with a key of its own");
    let violations = d.violations();
    assert!(violations.is_empty(), "accessibility violations (axe-core):\n{}", violations.join("\n"));
}

/// A writer whose desktop speaks German sees Spokes in German on every screen, from the
/// welcome to the dialogs, with German numbers and dates and errors in German, its text
/// spell-checked in German; brings in a WordPress export of real posts (the corpus's) through
/// the German import dialog; and switches the app to English in Settings, which draws the
/// window again in English.
#[test]
fn window_speaks_the_writers_language() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // A writer's old blog: a WordPress export of six real posts (the corpus's), with a picture.
    let old_site = tmp.path().join("alter-blog");
    std::fs::create_dir_all(&old_site).expect("old site folder");
    let export = spokes_e2e::wordpress::write_export(&old_site, 6);

    let (_xvfb, display) = xvfb();
    let (_bus, bus) = dbus_session();
    let (port, native) = (free_port(), free_port());
    let profile = tmp.path().join("profile");
    let _driver = start_driver_env(port, native, &display, &bus, &profile, tmp.path(), "", &[("LANG", "de_DE.UTF-8"), ("LANGUAGE", "de")]);
    let d = Driver::start(port, Path::new(env!("CARGO_BIN_EXE_spokes-app")), PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    let heading = |want: &str| d.wait_text("h1", 20, |t| t == want);

    // The first screens, each in German.
    heading("Willkommen bei Spokes");
    assert_eq!(d.script("return document.documentElement.lang;").as_str(), Some("de"), "the page says its language");
    d.shot("de-welcome");
    d.click("#restore-start");
    heading("Ihr Blog zurückholen");
    d.shot("de-restore");
    d.click("#restore-back");
    d.click("#key-start");
    heading("Mit Ihrem eigenen Schlüssel beginnen");
    d.click("#key-back");
    d.click("#join-start");
    heading("Diesen Computer hinzufügen");
    d.click("#join-back");
    d.type_into("#name", "Lena Schmidt");
    d.type_into("#blog-title", "Notizen aus der Werkstatt");
    d.type_into("#passphrase", "Kaffee und Kuchen 42");
    d.type_into("#passphrase2", "Kaffee und Kuchen 43");
    d.click("#create");
    d.wait_text("#error", 10, |t| t == "Die beiden Passphrasen sind verschieden.");
    d.clear("#passphrase2");
    d.type_into("#passphrase2", "Kaffee und Kuchen 42");
    d.click("#create");
    d.wait_text("#recovery-path", 60, |t| t.ends_with(".json"));
    heading("Ein Weg zurück");
    d.shot("de-recovery");
    // The printable sheet, in German too.
    d.click("#recovery-print");
    d.wait("#recovery-sheet", 10);
    let sheet = d.script("return document.getElementById('recovery-sheet').srcdoc;").as_str().unwrap_or_default().to_owned();
    assert!(sheet.contains("<html lang=\"de\">") && sheet.contains("Wiederherstellungsblatt") && sheet.contains("Teil 1 von "), "{sheet}");
    assert!(sheet.contains("Ich habe schon ein Blog"), "the sheet names the welcome screen's choice: {sheet}");
    d.click("#sheet-close");
    d.click("#recovery-done");
    heading("Wo Ihr Blog leben wird");
    d.shot("de-spokes");
    d.click("#onboard-done");
    d.wait("#app[data-ready]", 60);
    d.wait_text("#publish", 10, |t| t == "Veröffentlichen");
    d.wait_text("#post-status", 10, |t| t == "Entwurf · nur auf diesem Computer, bis Sie ihn veröffentlichen");
    d.wait_text("#signed-as", 10, |t| t == "Signiert als Lena Schmidt");
    // The blog is in German too, and its text is spell-checked with the German dictionary
    // (hunspell-de-de, through WebKitGTK's enchant).
    let deadline = Instant::now() + Duration::from_secs(20);
    while d.script("return document.body.dataset.spelling;").as_str() != Some("de_DE") {
        assert!(Instant::now() < deadline, "no German spell checking: {}", d.script("return document.body.dataset.spelling;"));
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(d.script("return document.getElementById('body').lang;").as_str(), Some("de"));

    // Settings, then the writer's old blog brought in through the German import dialog.
    d.click("#settings");
    d.wait_text("#settings-dialog h2", 10, |t| t == "Einstellungen");
    d.shot("de-settings");
    d.click("#import");
    d.wait_text("#import-dialog h2", 10, |t| t == "Beiträge aus einem anderen Blog übernehmen");
    d.click("#import-file");
    answer_file_dialog(&display, "Die Exportdatei Ihres Blogs wählen", FileDialog::Open, &export.path);
    d.wait_text("#import-summary", 60, |t| t.starts_with("6 Beiträge werden als Entwürfe übernommen, mit 1 Bild."));
    d.wait_text("#import-go", 5, |t| t == "6 Beiträge übernehmen");
    // What stays out, and why, in German too (the reasons by their codes).
    let left_out = d.text("#import-skipped summary");
    assert_eq!(left_out, format!("Ausgelassen: {} Einträge, die keine Beiträge sind", export.not_posts));
    let reasons = d.script("return document.querySelector('#import-skipped ul').textContent;");
    assert!(reasons.as_str().is_some_and(|r| r.contains("kein Beitrag") && !r.contains("not a post")), "{reasons}");
    d.shot("de-import");
    d.click("#import-go");
    d.wait_text("#status", 60, |t| t == "6 Beiträge als Entwürfe übernommen.");
    // An imported post, in the list and the editor; its words counted in German.
    d.script("Array.from(document.querySelectorAll('.post-list li')).find((li) => li.title && li.title !== 'Ohne Titel').click();");
    d.wait_text("#word-count", 10, |t| t.contains(" Wörter · ") && t.ends_with(" Min. Lesezeit"));
    d.wait_text(".post-list li.active .badge", 10, |t| t == "Entwurf");
    d.shot("de-writing");

    // The post's dialogs: details, history; then publishing (the key is open since the blog
    // was made here).
    d.click("#details");
    d.wait_text("#details-dialog label", 10, |t| t == "Webadresse");
    d.shot("de-details");
    d.click("#details-close");
    d.click("#history");
    d.wait_text("#history-dialog h2", 10, |t| t.starts_with("Verlauf von „"));
    d.click("#history-close");
    d.click("#publish");
    d.wait_text(".post-list li.active .badge", 60, |t| t == "Veröffentlicht");
    // Only the spoke built into the app: it says readers cannot see it yet.
    d.wait_text("#post-status", 10, |t| t == "Veröffentlicht · nur auf diesem Computer, bis Sie einen Spoke für Leser hinzufügen");
    d.click("#theme");
    d.wait_text("#theme", 5, |t| t == "Farben: hell");
    d.click("#theme");
    d.wait_text("#theme", 5, |t| t == "Farben: dunkel");
    d.shot("de-writing-dark");
    d.click("#theme");
    d.wait_text("#theme", 5, |t| t == "Farben: wie das System");

    // A wrong passphrase, told in German (the sentence for its error code).
    d.click("#settings");
    d.wait("#settings-dialog[open]", 10);
    d.script("document.getElementById('change-pass').scrollIntoView({ block: 'center' });");
    d.click("#change-pass");
    d.wait_text("#change-pass-dialog h2", 10, |t| t == "Passphrase ändern");
    d.type_into("#old-pass", "Tee und Kuchen 42");
    d.type_into("#new-pass", "Kaffee und Kuchen 43");
    d.type_into("#new-pass2", "Kaffee und Kuchen 43");
    d.click("#change-pass-go");
    d.wait_text("#change-pass-dialog #error", 60, |t| t == "Die Passphrase stimmt nicht.");
    d.shot("de-change-passphrase");
    d.click("#change-pass-cancel");
    d.click("#settings-close");

    // The guide for writers (F1), in German with German pictures.
    d.type_into("#body", "\u{E031}");
    d.wait_text("#guide-body", 10, |t| t.contains("Schreiben mit Spokes") && t.contains("Umziehen von einem anderen Blog"));
    d.shot("de-guide");
    d.click("#guide-close");
    d.click("#settings");

    // English from Settings: the window is drawn again in it, and stays so.
    d.wait("#app-language", 10);
    d.script("const s = document.getElementById('app-language'); s.value = 'en'; s.dispatchEvent(new Event('change'));");
    d.wait_text("#publish", 30, |t| t == "Publish");
    d.wait("#app[data-ready]", 30);
    assert_eq!(d.script("return document.documentElement.lang;").as_str(), Some("en"));
    d.wait_text("#post-list", 10, |t| t.contains("Published") && t.contains("Draft"));
    let violations = d.violations();
    assert!(violations.is_empty(), "accessibility violations (axe-core):\n{}", violations.join("\n"));
}

/// Waits until the editor's text ends with `end`: the editor reads what was typed a frame
/// after WebDriver's keys, so a "Saved" read before that is the state from before the typing.
fn typed_in(d: &Driver, end: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !d.script("return window.spokesEditor.value;").as_str().is_some_and(|v| v.ends_with(end)) {
        assert!(Instant::now() < deadline, "what was typed never reached the editor (it should end with {end:?})");
        std::thread::sleep(Duration::from_millis(50));
    }
}
