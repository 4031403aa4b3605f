//! Desktop conventions, on the real app under Xvfb: the menu bar reached from the keyboard
//! (F10, GTK's key for it) runs a menu item in the page; Ctrl+Q quits; the window comes back
//! at the size and place the writer left it. And the AppImage that
//! `packaging/build-appimage.sh` packs: it opens the app in a window from its mounted image
//! and quits cleanly.
//!
//! Needs what the window test needs, plus xdotool, mksquashfs (squashfs-tools) and libfuse2;
//! `./x test` installs them.

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
    for f in ["usr/share/applications/spokes-app.desktop", "usr/share/metainfo/org.spokes.desktop.metainfo.xml", "usr/bin/spokes-app"].iter().copied().chain(icons.iter().map(String::as_str)) {
        assert!(listed.lines().any(|l| l.ends_with(f)), "{f} is not in the AppImage: {listed}");
    }

    let (_xvfb, display) = xvfb();
    let (_bus, bus) = dbus_session();
    let mut app = Proc(
        Command::new(&image)
            .env("DISPLAY", &display)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus)
            .env("SPOKES_PROFILE", tmp.path().join("profile"))
            .env("XDG_CONFIG_HOME", tmp.path().join("xdg-config"))
            .env("XDG_DATA_HOME", tmp.path().join("xdg-data"))
            .env("XDG_CACHE_HOME", tmp.path().join("xdg-cache"))
            .env("GDK_BACKEND", "x11")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .expect("start the AppImage"),
    );
    let win = app_window(&display, 60);
    // The window belongs to the app inside the image, which the runtime mounted.
    let pid = xdotool(&display, &["getwindowpid", &win]).unwrap_or_else(|e| panic!("{e}"));
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).expect("the app's program");
    assert!(exe.to_string_lossy().contains("/.mount_") && exe.ends_with("usr/bin/spokes-app"), "{}", exe.display());
    press(&display, &win, &["ctrl+q"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = app.0.try_wait().expect("the AppImage") {
            break s;
        }
        assert!(Instant::now() < deadline, "Ctrl+Q did not end the AppImage");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
}
