//! Shared by the window test and the app benchmark (`crates/bench`, through `#[path]`): Xvfb,
//! process groups, and a minimal W3C WebDriver client (https://www.w3.org/TR/webdriver2/) for
//! tauri-driver in front of WebKitWebDriver.
#![allow(dead_code)]

use data_encoding::BASE64;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (with its process group) when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let pid = self.0.id();
        // tauri-driver starts WebKitWebDriver, which starts the app: end the whole group.
        let _ = Command::new("kill").args(["-s", "TERM", "--", &format!("-{pid}")]).status();
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{pid}")]).stderr(Stdio::null()).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Descendants of process `root` as (pid, name, resident bytes), from /proc.
pub fn descendants(root: u32) -> Vec<(u32, String, u64)> {
    let mut procs = Vec::new();
    let mut parent = std::collections::HashMap::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(status) = std::fs::read_to_string(e.path().join("status")) else { continue };
        let field = |k: &str| status.lines().find(|l| l.starts_with(k)).and_then(|l| l.split_whitespace().nth(1)).map(str::to_owned);
        let (Some(name), Some(ppid)) = (field("Name:"), field("PPid:").and_then(|p| p.parse::<u32>().ok())) else { continue };
        let rss = field("VmRSS:").and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) * 1024;
        parent.insert(pid, ppid);
        procs.push((pid, name, rss));
    }
    let descends = |mut p: u32| {
        while let Some(&pp) = parent.get(&p) {
            if pp == root {
                return true;
            }
            if pp <= 1 {
                return false;
            }
            p = pp;
        }
        false
    };
    procs.into_iter().filter(|(pid, _, _)| descends(*pid)).collect()
}

/// Proportional set size of process `pid` in bytes (`Pss:` of `/proc/<pid>/smaps_rollup`):
/// its resident memory with each page shared with other processes (the WebKit libraries the
/// app and its web processes all map) counted once across them. 0 if unreadable.
pub fn pss_bytes(pid: u32) -> u64 {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    rollup.lines().find(|l| l.starts_with("Pss:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) * 1024
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

pub fn find_tool(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME").or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo").into_os_string())) {
        dirs.push(Path::new(&home).join("bin"));
    }
    dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()).unwrap_or_else(|| panic!("{name} is not installed; `./x test` installs it"))
}

/// Starts Xvfb on a free display and returns it with the display name (`:N`), once the
/// display's socket accepts a connection.
///
/// Tests of one binary run in parallel threads: two Xvfb asked at once to pick a free display
/// (`-displayfd`) can race for the same number, and the loser leaves an app that cannot open
/// its display ("Failed to initialize GTK"). Starts are therefore taken one at a time.
pub fn xvfb() -> (Proc, String) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut child = Command::new(find_tool("Xvfb"))
        .args(["-displayfd", "1", "-screen", "0", "1280x860x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start Xvfb");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("Xvfb stdout")).read_line(&mut line).expect("Xvfb prints its display");
    let display = format!(":{}", line.trim());
    assert!(display.len() > 1, "Xvfb gave no display number");
    let socket = format!("/tmp/.X11-unix/X{}", line.trim());
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "Xvfb does not answer on {socket}");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Proc(child), display)
}

/// tauri-driver on `port`, starting the app on `profile` with its desktop folders under
/// `root` (named with `suffix`, so a second computer gets folders of its own).
pub fn start_driver(port: u16, native: u16, display: &str, bus: &str, profile: &Path, root: &Path, suffix: &str) -> Proc {
    start_driver_env(port, native, display, bus, profile, root, suffix, &[])
}

/// [`start_driver`], the app started with `env` besides (for example a desktop in German:
/// `LANG=de_DE.UTF-8`, `LANGUAGE=de`).
#[allow(clippy::too_many_arguments)]
pub fn start_driver_env(port: u16, native: u16, display: &str, bus: &str, profile: &Path, root: &Path, suffix: &str, env: &[(&str, &str)]) -> Proc {
    // The Documents folder as a desktop names it: in the user's `user-dirs.dirs`.
    let config = root.join(format!("xdg-config{suffix}"));
    std::fs::create_dir_all(&config).expect("an XDG config folder");
    std::fs::write(config.join("user-dirs.dirs"), format!("XDG_DOCUMENTS_DIR=\"{}\"\n", root.join(format!("documents{suffix}")).display())).expect("user-dirs.dirs");
    Proc(
        Command::new(find_tool("tauri-driver"))
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("DISPLAY", display)
            .env("SPOKES_PROFILE", profile)
            .env("TAURI_WEBVIEW_AUTOMATION", "true")
            .env("XDG_DATA_HOME", root.join(format!("xdg-data{suffix}")))
            .env("XDG_CACHE_HOME", root.join(format!("xdg-cache{suffix}")))
            .env("XDG_STATE_HOME", root.join(format!("xdg-state{suffix}")))
            .env("XDG_CONFIG_HOME", root.join(format!("xdg-config{suffix}")))
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            // A publish that waits for its spokes is said to be still trying after 3 s, not 10 min.
            .env("SPOKES_KEEPS_FAILING_SECS", "3") // spokes_app::commands::writing::KEEPS_FAILING_ENV
            .env("GDK_BACKEND", "x11")
            // WebKit's GL compositing, as with a GPU: the app picks CPU drawing without one,
            // where WebKitWebDriver's screenshots stall for a minute at a time.
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "0")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .expect("start tauri-driver"),
    )
}

/// Starts a private D-Bus session bus and returns it with its address (for
/// `DBUS_SESSION_BUS_ADDRESS`): the app's single-instance check runs over it.
pub fn dbus_session() -> (Proc, String) {
    let mut child = Command::new(find_tool("dbus-daemon"))
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start dbus-daemon");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("dbus-daemon stdout")).read_line(&mut line).expect("dbus-daemon prints its address");
    assert!(line.starts_with("unix:"), "dbus-daemon gave no address: {line}");
    (Proc(child), line.trim().to_owned())
}

/// A minimal W3C WebDriver client (https://www.w3.org/TR/webdriver2/) over ureq.
pub struct Driver {
    base: String,
    session: String,
    agent: ureq::Agent,
    shots: PathBuf,
    /// Serious and critical accessibility violations axe-core found, one line each, by screen.
    violations: std::cell::RefCell<Vec<String>>,
    /// Whether axe-core was seen to find a violation planted for it.
    axe_checked: std::cell::Cell<bool>,
}

/// axe-core (Deque's accessibility engine, npm `axe-core`, installed by `npm ci` in ui/).
const AXE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/node_modules/axe-core/axe.min.js");

pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Driver {
    pub fn call(agent: &ureq::Agent, method: &str, url: &str, body: Option<Value>) -> Result<Value, String> {
        let resp = match (method, body) {
            ("GET", _) => agent.get(url).call(),
            ("DELETE", _) => agent.delete(url).call(),
            (_, b) => agent.post(url).content_type("application/json").send(b.unwrap_or(json!({})).to_string()),
        };
        let mut resp = resp.map_err(|e| format!("{method} {url}: {e}"))?;
        let status = resp.status().as_u16();
        let text = resp.body_mut().with_config().limit(64 << 20).read_to_string().map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("{method} {url}: not JSON ({e}): {text}"))?;
        if status >= 400 {
            return Err(format!("{method} {url}: {status} {}", v["value"]));
        }
        Ok(v["value"].clone())
    }

    /// The HTTP client: a request may wait as long as the longest script a caller allows
    /// (the benchmark waits up to 120 s for a start that loads a 10,000-post blog whole).
    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(180))).build().into()
    }

    /// Waits up to 30 s for tauri-driver to answer on `port`.
    pub fn wait_ready(port: u16) {
        let agent = Self::agent();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Self::call(&agent, "GET", &format!("{base}/status"), None).is_err() {
            assert!(Instant::now() < deadline, "tauri-driver did not answer on {base}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Opens a session, which starts the app at `app`; screenshots go to `shots`.
    pub fn start(port: u16, app: &Path, shots: PathBuf) -> Driver {
        Self::start_with_args(port, app, shots, &[])
    }

    /// [`Driver::start`], the app started with `args` (as the desktop passes a clicked link).
    pub fn start_with_args(port: u16, app: &Path, shots: PathBuf, args: &[String]) -> Driver {
        Self::wait_ready(port);
        let agent = Self::agent();
        let base = format!("http://127.0.0.1:{port}");
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": app, "args": args}}}});
        // Once in CI the app started for a new session could not open its display ("Failed to
        // initialize GTK", cause not found) and the session timed out: asked once more, said.
        let v = Self::call(&agent, "POST", &format!("{base}/session"), Some(caps.clone())).or_else(|e| {
            eprintln!("no WebDriver session with the app ({e}); asking once more");
            Self::call(&agent, "POST", &format!("{base}/session"), Some(caps))
        });
        let v = v.expect("a WebDriver session with the app");
        let session = v["sessionId"].as_str().expect("sessionId").to_owned();
        std::fs::create_dir_all(&shots).expect("screenshot folder");
        Driver { base, session, agent, shots, violations: Default::default(), axe_checked: Default::default() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/session/{}{}", self.base, self.session, path)
    }

    pub fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        Self::call(&self.agent, "POST", &self.url(path), Some(body))
    }

    pub fn find(&self, css: &str) -> Result<String, String> {
        let v = self.post("/element", json!({"using": "css selector", "value": css}))?;
        v[ELEMENT].as_str().map(str::to_owned).ok_or_else(|| format!("no element id for {css}: {v}"))
    }

    /// Waits up to `secs` for `css` to exist.
    pub fn wait(&self, css: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            match self.find(css) {
                Ok(e) => return e,
                Err(err) if Instant::now() > deadline => {
                    self.screenshot("failure");
                    panic!("{css} did not appear within {secs} s: {err}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Saves `failure.png` and fails the test with `msg`.
    pub fn fail(&self, msg: &str) -> ! {
        let shot = self.screenshot("failure");
        panic!("{msg} (screenshot: {})", shot.display())
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.wait(css, 10);
        self.post(&format!("/element/{e}/value"), json!({"text": text})).unwrap_or_else(|err| self.fail(&format!("type into {css}: {err}")));
    }

    pub fn clear(&self, css: &str) {
        let e = self.wait(css, 10);
        self.post(&format!("/element/{e}/clear"), json!({})).unwrap_or_else(|err| self.fail(&format!("clear {css}: {err}")));
    }

    /// Clicks `css` as a pointer would, after scrolling it to the middle of its scrolling box
    /// (WebKitWebDriver scrolls it only to an edge, where a dialog's sticky heading can cover it).
    pub fn click(&self, css: &str) {
        let e = self.wait(css, 10);
        let sel = serde_json::to_string(css).expect("selector as JSON");
        self.script(&format!("const e = document.querySelector({sel}); if (e) e.scrollIntoView({{block: 'center', inline: 'nearest'}});"));
        // A dialog still laying out (its list just filled) can leave the element "not
        // interactable" for a moment (seen in CI): asked again for up to 5 s.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.post(&format!("/element/{e}/click"), json!({})) {
                Ok(_) => return,
                Err(err) if err.contains("element not interactable") && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200));
                    self.script(&format!("const e = document.querySelector({sel}); if (e) e.scrollIntoView({{block: 'center', inline: 'nearest'}});"));
                }
                Err(err) => self.fail(&format!("click {css}: {err}")),
            }
        }
    }

    pub fn script(&self, js: &str) -> Value {
        self.post("/execute/sync", json!({"script": js, "args": []})).unwrap_or_else(|err| panic!("script {js}: {err}"))
    }

    pub fn text(&self, css: &str) -> String {
        let sel = serde_json::to_string(css).expect("selector as JSON");
        self.script(&format!("const e = document.querySelector({sel}); return e ? e.textContent : null;")).as_str().unwrap_or_default().to_owned()
    }

    /// Waits up to `secs` until `f` holds for the text of `css`.
    pub fn wait_text(&self, css: &str, secs: u64, f: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let t = self.text(css);
            if f(&t) {
                return t;
            }
            if Instant::now() > deadline {
                self.screenshot("failure");
                let error = self.text("#error");
                panic!("{css} reads {t:?} after {secs} s (error line: {error:?})");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// [`Driver::screenshot`], then axe-core on the screen as it is (WCAG 2 A and AA rules and
    /// axe's best practices): its serious and critical violations are kept for
    /// [`Driver::violations`]. A screen that follows the system's theme (light under Xvfb) is
    /// photographed and audited in the dark theme too, as `<name>-dark.png`, then put back.
    pub fn shot(&self, name: &str) -> PathBuf {
        let path = self.screenshot(name);
        self.audit(name);
        if self.script("return document.documentElement.dataset.theme === undefined;") == json!(true) {
            self.script("document.documentElement.dataset.theme = 'dark';");
            let deadline = Instant::now() + Duration::from_secs(5);
            while self.script("return getComputedStyle(document.body).backgroundColor;") != json!("rgb(27, 27, 29)") && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let dark = format!("{name}-dark");
            self.screenshot(&dark);
            self.audit(&dark);
            self.script("delete document.documentElement.dataset.theme;");
        }
        path
    }

    /// axe-core on the screen as it is; see [`Driver::shot`].
    fn audit(&self, name: &str) {
        if self.script("return typeof window.axe === 'object';") != json!(true) {
            let axe = std::fs::read_to_string(AXE).unwrap_or_else(|e| panic!("{AXE}: {e} (run `npm ci` in ui/)"));
            self.script(&format!("{axe}\n;return true;"));
        }
        // Once, on the first screen (a later one may hold a modal dialog, which makes anything
        // put beside it inert, hidden to axe).
        if !self.axe_checked.replace(true) {
            // The audit can fail: a button without a name (critical), put on top of the screen
            // (the app fills the window, so anything after it is clipped away, hidden to axe),
            // is found.
            let canary = || {
                self.post(
                    "/execute/async",
                    json!({"script": "const done = arguments[arguments.length - 1];
                        const c = document.createElement('div'); c.style.cssText = 'position: fixed; top: 0; left: 0; z-index: 2147483647';
                        c.innerHTML = '<button style=\"width: 3em; height: 2em\"></button>';
                        (document.querySelector('dialog[open]') || document.body).append(c);
                        const info = {modal: !!document.querySelector('dialog[open]'), rect: c.firstChild.getBoundingClientRect().toJSON(), state: document.visibilityState};
                        axe.run(c, {resultTypes: ['violations']}).then(r => { c.remove(); done(JSON.stringify({ids: r.violations.map(v => v.id), info})); }, e => { c.remove(); done(JSON.stringify({ids: ['failed: ' + e], info})); });", "args": []}),
                )
                .ok()
                .and_then(|v| serde_json::from_str::<Value>(v.as_str()?).ok())
                .unwrap_or_default()
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut found = canary();
            while found["ids"] != json!(["button-name"]) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(250));
                found = canary();
            }
            assert_eq!(found["ids"], json!(["button-name"]), "axe-core finds a button without a name: {found}");
        }
        let found = self
            .post(
                "/execute/async",
                json!({"script": "const done = arguments[arguments.length - 1];
                    axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r.violations
                        .filter(v => v.impact === 'serious' || v.impact === 'critical')
                        .map(v => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(', ')})`)
                        .concat(r.passes.length ? [] : ['axe found nothing to check on this screen']))),
                        e => done(JSON.stringify(['axe failed: ' + e])));", "args": []}),
            )
            // A JSON string: arrays built by axe come back empty through WebKitWebDriver.
            .and_then(|v| serde_json::from_str::<Value>(v.as_str().unwrap_or_default()).map_err(|e| e.to_string()))
            .unwrap_or_else(|e| vec![Value::String(format!("axe could not run: {e}"))].into());
        for v in found.as_array().into_iter().flatten() {
            self.violations.borrow_mut().push(format!("{name}: {}", v.as_str().unwrap_or_default()));
        }
    }

    /// Every serious or critical violation [`Driver::shot`] found so far.
    pub fn violations(&self) -> Vec<String> {
        self.violations.borrow().clone()
    }

    /// Saves a PNG of the window as `<shots>/<name>.png` and returns its path, after two
    /// animation frames: without them WebKitWebDriver can return the frame from before the last
    /// click (a dark-theme shot came out light).
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let path = self.shots.join(format!("{name}.png"));
        let _ = self.post("/execute/async", json!({"script": "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));", "args": []}));
        if let Ok(v) = Self::call(&self.agent, "GET", &self.url("/screenshot"), None)
            && let Some(png) = v.as_str().and_then(|b| BASE64.decode(b.as_bytes()).ok())
        {
            let _ = std::fs::write(&path, png);
        }
        path
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Self::call(&self.agent, "DELETE", &format!("{}/session/{}", self.base, self.session), None);
    }
}

