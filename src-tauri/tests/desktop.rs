//! Desktop conventions, on the real app under Xvfb: the menu bar reached from the keyboard
//! (F10, GTK's key for it) runs a menu item in the page; Ctrl+Q quits; the window comes back
//! at the size and place the writer left it. The AppImage that
//! `packaging/build-appimage.sh` packs: it opens the app in a window from its mounted image
//! and quits cleanly, and updates itself from a signed manifest on a local HTTP server. And the
//! .deb that `packaging/build-deb.sh` makes: lintian-clean, installed by dpkg into a throwaway
//! root, started from there, removed without a trace.
//!
//! Needs what the window test needs, plus xdotool, mksquashfs (squashfs-tools), libfuse2,
//! lintian, dpkg-dev and npx (the Tauri bundler); `./x test` installs them.

mod webdriver;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use webdriver::{Driver, Proc, dbus_session, free_port, start_driver, xvfb};

const APP: &str = env!("CARGO_BIN_EXE_spokes-app");

fn xdotool(display: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new("xdotool").env("DISPLAY", display).args(args).output().map_err(|e| format!("run xdotool (./x test installs it): {e}"))?;
    if !out.status.success() {
        return Err(format!("xdotool {args:?}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The X window of the app, once it is shown (waits up to `secs`).
fn app_window(display: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(ids) = xdotool(display, &["search", "--onlyvisible", "--name", "^Spokes$"])
            && let Some(id) = ids.lines().last()
        {
            return id.to_owned();
        }
        assert!(Instant::now() < deadline, "no Spokes window within {secs} s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Waits up to `secs` until no Spokes window is shown.
fn window_gone(display: &str, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if xdotool(display, &["search", "--onlyvisible", "--name", "^Spokes$"]).is_err() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// The window's place and size on the screen: (x, y, width, height) in pixels.
fn geometry(display: &str, win: &str) -> (i64, i64, i64, i64) {
    let out = xdotool(display, &["getwindowgeometry", "--shell", win]).unwrap_or_else(|e| panic!("{e}"));
    let field = |k: &str| out.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).and_then(|v| v.parse().ok()).unwrap_or(-1);
    (field("X"), field("Y"), field("WIDTH"), field("HEIGHT"))
}

/// Presses `keys` (xdotool key names) in the app's window, as the X server's keyboard.
fn press(display: &str, win: &str, keys: &[&str]) {
    xdotool(display, &["windowfocus", "--sync", win]).unwrap_or_else(|e| panic!("{e}"));
    let mut args = vec!["key", "--delay", "150"];
    args.extend_from_slice(keys);
    xdotool(display, &args).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn the_menu_bar_answers_the_keyboard_ctrl_q_quits_and_the_window_keeps_its_place() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let profile = tmp.path().join("profile");
    let settings = spokes_core::BlogSettings { title: "At the desk".into(), ..Default::default() };
    spokes_writer::Profile::create(&profile, "Ada", "a long passphrase", &settings).expect("a profile");
    let (_xvfb, display) = xvfb();
    let (_bus, bus) = dbus_session();
    let (port, native) = (free_port(), free_port());
    let _driver = start_driver(port, native, &display, &bus, &profile, tmp.path(), "");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots-desktop");
    let _ = std::fs::create_dir_all(&shots);

    let d = Driver::start(port, Path::new(APP), shots.clone());
    d.wait("#app[data-ready]", 60);
    let win = app_window(&display, 30);
    // The app keeps a log file where the desktop keeps programs' state.
    let logs = tmp.path().join("xdg-state/spokes/logs");
    let log = std::fs::read_dir(&logs).unwrap_or_else(|e| panic!("no log folder at {}: {e}", logs.display())).filter_map(Result::ok).find(|f| f.file_name().to_string_lossy().starts_with("spokes.")).expect("a log file");
    let text = std::fs::read_to_string(log.path()).expect("the log file");
    assert!(text.contains("Spokes started") && text.contains(&profile.display().to_string()), "{text}");
    // The writer moves and resizes the window.
    xdotool(&display, &["windowsize", &win, "900", "640"]).unwrap_or_else(|e| panic!("{e}"));
    xdotool(&display, &["windowmove", &win, "120", "90"]).unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while geometry(&display, &win) != (120, 90, 900, 640) {
        assert!(Instant::now() < deadline, "the window did not take its new place: {:?}", geometry(&display, &win));
        std::thread::sleep(Duration::from_millis(100));
    }

    // View → Change theme, from the keyboard: F10 opens the menu bar on File; three steps
    // right reach View; its second item is Change theme.
    let before = d.text("#theme");
    press(&display, &win, &["F10", "Right", "Right", "Right", "Down", "Down", "Return"]);
    let after = d.wait_text("#theme", 10, |t| t != before);
    let theme = d.script("return localStorage.getItem('theme');").as_str().unwrap_or_default().to_owned();
    assert!(!theme.is_empty(), "the menu's theme change was not kept");

    // Help → About Spokes (its second item, after the guide), from the keyboard: the
    // desktop's about dialog, closed with Escape.
    press(&display, &win, &["F10", "Right", "Right", "Right", "Right", "Down", "Down", "Return"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let about = loop {
        if let Ok(ids) = xdotool(&display, &["search", "--onlyvisible", "--name", "^About Spokes$"])
            && let Some(id) = ids.lines().last()
        {
            break id.to_owned();
        }
        assert!(Instant::now() < deadline, "Help → About Spokes showed no dialog");
        std::thread::sleep(Duration::from_millis(200));
    };
    press(&display, &about, &["Escape"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while xdotool(&display, &["search", "--onlyvisible", "--name", "^About Spokes$"]).is_ok_and(|ids| !ids.trim().is_empty()) {
        assert!(Instant::now() < deadline, "Escape did not close the about dialog");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Ctrl+Q (File → Quit) ends the app, which leaves its window's size and place behind.
    press(&display, &win, &["ctrl+q"]);
    assert!(window_gone(&display, 20), "Ctrl+Q did not close the app");
    drop(d);
    let state = tmp.path().join("xdg-config/org.spokes.desktop/.window-state.json");
    let saved = std::fs::read_to_string(&state).unwrap_or_else(|e| panic!("no window state at {}: {e}", state.display()));
    assert!(saved.contains("900") && saved.contains("640"), "{saved}");

    // Started again: the same size, the same place, the same theme.
    let d = Driver::start(port, Path::new(APP), shots);
    d.wait("#app[data-ready]", 60);
    let win = app_window(&display, 30);
    let deadline = Instant::now() + Duration::from_secs(10);
    while geometry(&display, &win) != (120, 90, 900, 640) {
        assert!(Instant::now() < deadline, "the window came back elsewhere: {:?}", geometry(&display, &win));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(d.text("#theme"), after);
    d.screenshot("window-restored");
}

#[test]
fn the_appimage_opens_the_app_in_a_window_from_its_mounted_image() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let packaging = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging");
    let desktop = Command::new("desktop-file-validate").arg(packaging.join("spokes.desktop")).output().expect("run desktop-file-validate (./x test installs it)");
    assert!(desktop.status.success() && desktop.stdout.is_empty(), "{}", String::from_utf8_lossy(&desktop.stdout));
    // Software centres read the AppStream metadata; it must validate (without the network).
    let metainfo = packaging.join("org.spokes.desktop.metainfo.xml");
    let appstream = Command::new("appstreamcli").args(["validate", "--no-net"]).arg(&metainfo).output().expect("run appstreamcli (./x test installs it)");
    assert!(appstream.status.success(), "{}", String::from_utf8_lossy(&appstream.stdout));

    let image = tmp.path().join("Spokes.AppImage");
    let built = Command::new(packaging.join("build-appimage.sh")).args(["--binary", APP, "--out"]).arg(&image).output().expect("run build-appimage.sh");
    assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
    // An ELF runtime, then the SquashFS image where the runtime says it starts.
    let bytes = std::fs::read(&image).expect("the AppImage");
    let offset = Command::new(&image).arg("--appimage-offset").output().expect("ask the AppImage its offset");
    let offset: usize = String::from_utf8_lossy(&offset.stdout).trim().parse().expect("an offset");
    assert_eq!(&bytes[..4], b"\x7fELF");
    assert_eq!(&bytes[offset..offset + 4], b"hsqs", "no SquashFS image at {offset}");
    // The image carries the launcher entry and the AppStream metadata where desktops look.
    let listed = Command::new("unsquashfs").args(["-o", &offset.to_string(), "-l"]).arg(&image).output().expect("list the AppImage's files");
    let listed = String::from_utf8_lossy(&listed.stdout);
    let icons = ["32x32", "64x64", "128x128", "256x256", "512x512"].map(|s| format!("usr/share/icons/hicolor/{s}/apps/spokes-app.png"));
    for f in ["usr/share/applications/Spokes.desktop", "usr/share/metainfo/org.spokes.desktop.metainfo.xml", "usr/bin/spokes-app"].iter().copied().chain(icons.iter().map(String::as_str)) {
        assert!(listed.lines().any(|l| l.ends_with(f)), "{f} is not in the AppImage: {listed}");
    }

    // The window belongs to the app inside the image, which the runtime mounted.
    opens_a_window_and_quits(&image, tmp.path(), &[], |exe| exe.to_string_lossy().contains("/.mount_") && exe.ends_with("usr/bin/spokes-app"));
}

/// Starts `program` (an installed or packed Spokes) under a fresh Xvfb and session bus with a
/// profile in `tmp`, waits for its window, checks with `is_packaged` that the window belongs to
/// the program the package carries (`/proc/PID/exe`), then quits it with Ctrl+Q and expects a
/// clean exit within 20 s.
fn opens_a_window_and_quits(program: &Path, tmp: &Path, env: &[(&str, &Path)], is_packaged: impl Fn(&Path) -> bool) {
    let (_xvfb, display) = xvfb();
    let (_bus, bus) = dbus_session();
    let mut command = Command::new(program);
    command
        .env("DISPLAY", &display)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .env("SPOKES_PROFILE", tmp.join("profile"))
        .env("XDG_CONFIG_HOME", tmp.join("xdg-config"))
        .env("XDG_DATA_HOME", tmp.join("xdg-data"))
        .env("XDG_CACHE_HOME", tmp.join("xdg-cache"))
        .env("GDK_BACKEND", "x11");
    for (k, v) in env {
        command.env(k, v);
    }
    let mut app = Proc(command.stdout(Stdio::null()).stderr(Stdio::inherit()).process_group(0).spawn().expect("start the packaged app"));
    let win = app_window(&display, 60);
    let pid = xdotool(&display, &["getwindowpid", &win]).unwrap_or_else(|e| panic!("{e}"));
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).expect("the app's program");
    assert!(is_packaged(&exe), "the window belongs to {}", exe.display());
    press(&display, &win, &["ctrl+q"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = app.0.try_wait().expect("the packaged app") {
            break s;
        }
        assert!(Instant::now() < deadline, "Ctrl+Q did not end {}", program.display());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
}

fn run(command: &mut Command) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("run {command:?} (./x test installs it): {e}"));
    assert!(out.status.success(), "{command:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The .deb as `packaging/build-deb.sh` makes it from the app this test suite built: lintian
/// finds no error or warning (the one override is explained in packaging/deb/); it installs
/// with `dpkg` into a throwaway root whose package database is a copy of this computer's (so
/// its dependencies are checked against what this computer has, for real, and nothing of the
/// computer itself is touched); what it installed validates as a desktop entry and AppStream
/// metadata together (the launcher the metadata names is the one installed); the app starts
/// from that root in a window and quits; and removing the package leaves no file behind.
#[test]
fn the_deb_passes_lintian_installs_into_a_throwaway_root_and_the_app_starts_from_it() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let packaging = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging");
    let deb = tmp.path().join("spokes.deb");
    run(Command::new(packaging.join("build-deb.sh")).args(["--binary", APP, "--out"]).arg(&deb));

    // lintian exits non-zero on any error or warning; its report is kept for the failure.
    let lint = Command::new("lintian").args(["--no-cfg", "--fail-on", "error,warning", "--display-info"]).arg(&deb).output().expect("run lintian (./x test installs it)");
    let report = String::from_utf8_lossy(&lint.stdout);
    assert!(lint.status.success(), "lintian: {report}");
    assert!(!report.lines().any(|l| l.starts_with("E:") || l.starts_with("W:")), "lintian: {report}");
    let fields = run(Command::new("dpkg-deb").args(["--field"]).arg(&deb).args(["Package", "Depends", "Maintainer", "Section"]));
    assert!(fields.contains("Package: spokes") && fields.contains("libc6 (>=") && fields.contains("libwebkit2gtk-4.1-0"), "{fields}");

    let root = tmp.path().join("root");
    let admin = root.join("var/lib/dpkg");
    for d in ["info", "updates", "triggers"] {
        std::fs::create_dir_all(admin.join(d)).expect("dpkg's folders");
    }
    // This computer's installed packages and the files each owns: dpkg then checks the
    // dependencies and that no file of the .deb belongs to another package, as on a writer's.
    std::fs::copy("/var/lib/dpkg/status", admin.join("status")).expect("this computer's package list");
    for e in std::fs::read_dir("/var/lib/dpkg/info").expect("dpkg's file lists").flatten() {
        if e.path().extension().is_some_and(|x| x == "list") {
            std::fs::copy(e.path(), admin.join("info").join(e.file_name())).expect("a file list");
        }
    }
    let root_arg = format!("--root={}", root.display());
    // No --force: a dependency this computer lacks fails the install, as it would for a writer.
    run(Command::new("dpkg").arg(&root_arg).args(["--install"]).arg(&deb));
    let listed = run(Command::new("dpkg").arg(&root_arg).args(["--listfiles", "spokes"]));
    for f in ["/usr/bin/spokes-app", "/usr/share/applications/Spokes.desktop", "/usr/share/metainfo/org.spokes.desktop.metainfo.xml", "/usr/share/man/man1/spokes-app.1.gz", "/usr/share/doc/spokes/copyright", "/usr/share/icons/hicolor/256x256/apps/spokes-app.png"] {
        assert!(listed.lines().any(|l| l == f), "{f} was not installed: {listed}");
        assert!(root.join(&f[1..]).is_file(), "{f} is not in the root");
    }
    run(Command::new("desktop-file-validate").arg(root.join("usr/share/applications/Spokes.desktop")));
    run(Command::new("appstreamcli").args(["validate-tree", "--no-net"]).arg(&root));

    let program = root.join("usr/bin/spokes-app");
    let share = root.join("usr/share");
    opens_a_window_and_quits(&program, tmp.path(), &[("XDG_DATA_DIRS", &share)], |exe| exe == program);

    run(Command::new("dpkg").arg(&root_arg).args(["--purge", "spokes"]));
    let left: Vec<_> = walk(&root.join("usr"));
    assert!(left.is_empty(), "removing the package left {left:?}");
}

/// Every file (not folder) under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.flatten().flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] }).collect()
}

/// A signing key made by the Tauri CLI (`signer generate`), as the release pipeline makes its
/// own: the private key file and the public key as the app takes it.
fn signing_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(name);
    run(Command::new("npx").args(["--yes", "@tauri-apps/cli@2.12.5", "signer", "generate", "--ci", "--password", "test", "--write-keys"]).arg(&key));
    let public = std::fs::read_to_string(dir.join(format!("{name}.pub"))).expect("the public key");
    (key, public.trim().to_owned())
}

/// The update manifest for `version` (as tauri-plugin-updater reads it): the AppImage at `url`,
/// with `file`'s detached signature made by `key` for `signed_for` (the CLI's `signer sign
/// --app-version`, which puts the version in the signature's trusted comment).
fn manifest(key: &Path, file: &Path, version: &str, signed_for: &str, url: &str) -> String {
    run(Command::new("npx").args(["--yes", "@tauri-apps/cli@2.12.5", "signer", "sign", "--password", "test", "--app-version", signed_for, "--private-key-path"]).arg(key).arg(file));
    let mut sig = file.as_os_str().to_owned();
    sig.push(".sig");
    let signature = std::fs::read_to_string(&sig).expect("the signature");
    serde_json::json!({
        "version": version,
        "notes": "Fixes and small improvements.",
        "pub_date": "2026-12-07T12:00:00Z",
        "platforms": { "linux-x86_64": { "url": url, "signature": signature.trim() } }
    })
    .to_string()
}

/// The AppImage updates itself, as a writer who downloaded it sees it: the app runs from an
/// AppImage (packed by `packaging/build-appimage.sh` from this build) and a real HTTP server on
/// 127.0.0.1 serves an update manifest and a newer AppImage. A little after the start the app
/// finds the new version and says so in the sidebar; the writer opens it in Settings and
/// installs. An AppImage signed with another key is refused, so is a genuine signature made for
/// another version than the manifest announces (an old release passed off as new), and the
/// AppImage is untouched both times; the one signed with the app's key for that version is put
/// in its place, and "Restart Spokes now" starts it.
#[test]
fn the_appimage_updates_itself_from_a_signed_manifest_and_refuses_a_forged_one() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let packaging = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging");
    let apps = tmp.path().join("Applications");
    let image = apps.join("Spokes.AppImage");
    run(Command::new(packaging.join("build-appimage.sh")).args(["--binary", APP, "--out"]).arg(&image));
    let installed = std::fs::read(&image).expect("the AppImage");

    // The update: an AppImage told apart from the installed one by bytes after its image.
    let www = tmp.path().join("www");
    std::fs::create_dir_all(&www).expect("the server's folder");
    let mut newer = installed.clone();
    newer.extend_from_slice(b"\nSpokes 0.1.1 (update test)\n");
    let update = www.join("Spokes_0.1.1_amd64.AppImage");
    std::fs::write(&update, &newer).expect("the update");
    let keys = tmp.path().join("keys");
    std::fs::create_dir_all(&keys).expect("a keys folder");
    let (ours, public) = signing_key(&keys, "ours.key");
    let (theirs, _) = signing_key(&keys, "theirs.key");
    let port = free_port();
    let _server = Proc(
        Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string()])
            .current_dir(&www)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("python3's HTTP server"),
    );
    let url = format!("http://127.0.0.1:{port}/Spokes_0.1.1_amd64.AppImage");
    let serve = |m: String| std::fs::write(www.join("latest.json"), m).expect("the manifest");
    serve(manifest(&theirs, &update, "0.1.1", "0.1.1", &url));

    let profile = tmp.path().join("profile");
    let settings = spokes_core::BlogSettings { title: "At the desk".into(), ..Default::default() };
    spokes_writer::Profile::create(&profile, "Ada", "a long passphrase", &settings).expect("a profile");
    let (_xvfb, display) = xvfb();
    let (_bus, bus) = dbus_session();
    let (dport, native) = (free_port(), free_port());
    let endpoint = format!("http://127.0.0.1:{port}/latest.json");
    // spokes_app::commands::updates::{ENDPOINT_ENV, PUBKEY_ENV}: read by debug builds only.
    let env = [("SPOKES_UPDATE_ENDPOINT", endpoint.as_str()), ("SPOKES_UPDATE_PUBKEY", public.as_str())];
    let _driver = webdriver::start_driver_env(dport, native, &display, &bus, &profile, tmp.path(), "", &env);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots-desktop");
    let d = Driver::start(dport, &image, shots);
    d.wait("#app[data-ready]", 60);

    // Found a little after the start, told in one line of the sidebar.
    let notice = d.wait_text("#update-notice", 30, |t| t.contains("0.1.1"));
    assert!(notice.contains("ready to install"), "{notice}");
    d.click("#update-notice");
    d.wait("#settings-dialog[open]", 10);
    assert!(d.text("#update-status").contains("0.1.1"), "{}", d.text("#update-status"));
    // Settings opens at the new version, its Install button focused (Enter installs).
    assert_eq!(d.script("return document.activeElement.id"), "install-update");
    d.shot("update-offered");
    d.click("#install-update");
    let refused = d.wait_text("#update-status", 60, |t| t.contains("not signed"));
    assert!(refused.contains("unchanged"), "{refused}");
    assert!(std::fs::read(&image).expect("the AppImage") == installed, "a forged update touched the AppImage");

    // A genuine signature, but made for 0.1.0: the manifest cannot pass it off as 0.1.1.
    serve(manifest(&ours, &update, "0.1.1", "0.1.0", &url));
    d.click("#check-update");
    d.wait_text("#update-status", 30, |t| t.contains("ready to install"));
    d.click("#install-update");
    d.wait_text("#update-status", 60, |t| t.contains("not signed"));
    assert!(std::fs::read(&image).expect("the AppImage") == installed, "an update signed for another version touched the AppImage");

    // Signed with the app's key for the version announced: installed in place.
    serve(manifest(&ours, &update, "0.1.1", "0.1.1", &url));
    d.click("#check-update");
    d.wait_text("#update-status", 30, |t| t.contains("ready to install"));
    assert_eq!(d.text("#update-notes"), "Fixes and small improvements.");
    d.click("#install-update");
    d.wait_text("#update-status", 60, |t| t.contains("installed"));
    d.wait("#restart-update:not([hidden])", 5);
    d.wait("#update-notice[hidden]", 5);
    d.shot("update-installed");
    assert!(std::fs::read(&image).expect("the AppImage") == newer, "the AppImage is not the update");
    let before = xdotool(&display, &["getwindowpid", &app_window(&display, 10)]).unwrap_or_else(|e| panic!("{e}"));

    // Restart: the app quits and starts again from the new AppImage (the click's answer may be
    // lost as the page goes away with the old app).
    let restart = d.find("#restart-update").expect("the restart button");
    let _ = d.post(&format!("/element/{restart}/click"), serde_json::json!({}));
    let deadline = Instant::now() + Duration::from_secs(60);
    let after = loop {
        if let Ok(ids) = xdotool(&display, &["search", "--onlyvisible", "--name", "^Spokes$"])
            && let Some(pid) = ids.lines().filter_map(|w| xdotool(&display, &["getwindowpid", w]).ok()).find(|p| *p != before)
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "Spokes did not start again after the update");
        std::thread::sleep(Duration::from_millis(300));
    };
    let exe = std::fs::read_link(format!("/proc/{after}/exe")).expect("the restarted app's program");
    assert!(exe.to_string_lossy().contains("/.mount_"), "the restarted app does not run from the AppImage: {}", exe.display());
    let environ = std::fs::read(format!("/proc/{after}/environ")).expect("the restarted app's environment");
    let appimage = format!("APPIMAGE={}", image.display());
    assert!(environ.split(|b| *b == 0).any(|v| v == appimage.as_bytes()), "the restarted app is not the updated AppImage");
    let _ = Command::new("kill").arg(&after).status();
}
