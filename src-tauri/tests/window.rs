//! The real app window under Xvfb, driven over W3C WebDriver (tauri-driver in front of
//! WebKitWebDriver): create an identity, write a post, add two spokes by pasting their invite
//! tickets, publish, and read the post back over HTTP from both spokes.
//!
//! Needs `Xvfb`, `WebKitWebDriver` (Debian: xvfb, webkit2gtk-driver) and `tauri-driver`
//! (`cargo install tauri-driver --locked`); `./x test` installs all three. Screenshots of each
//! screen are written to `$CARGO_TARGET_TMPDIR/screenshots/`.

use data_encoding::BASE64;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (with its process group) when dropped.
struct Proc(Child);

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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

fn find_tool(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME").or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo").into_os_string())) {
        dirs.push(Path::new(&home).join("bin"));
    }
    dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()).unwrap_or_else(|| panic!("{name} is not installed; `./x test` installs it"))
}

/// Starts Xvfb on a free display and returns it with the display name (`:N`).
fn xvfb() -> (Proc, String) {
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
    (Proc(child), display)
}

/// A minimal W3C WebDriver client (https://www.w3.org/TR/webdriver2/) over ureq.
struct Driver {
    base: String,
    session: String,
    agent: ureq::Agent,
    shots: PathBuf,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Driver {
    fn call(agent: &ureq::Agent, method: &str, url: &str, body: Option<Value>) -> Result<Value, String> {
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

    fn start(port: u16, app: &Path, shots: PathBuf) -> Driver {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(60))).build().into();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Self::call(&agent, "GET", &format!("{base}/status"), None).is_err() {
            assert!(Instant::now() < deadline, "tauri-driver did not answer on {base}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": app}}}});
        let v = Self::call(&agent, "POST", &format!("{base}/session"), Some(caps)).expect("a WebDriver session with the app");
        let session = v["sessionId"].as_str().expect("sessionId").to_owned();
        std::fs::create_dir_all(&shots).expect("screenshot folder");
        Driver { base, session, agent, shots }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{}", self.base, self.session, path)
    }

    fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        Self::call(&self.agent, "POST", &self.url(path), Some(body))
    }

    fn find(&self, css: &str) -> Result<String, String> {
        let v = self.post("/element", json!({"using": "css selector", "value": css}))?;
        v[ELEMENT].as_str().map(str::to_owned).ok_or_else(|| format!("no element id for {css}: {v}"))
    }

    /// Waits up to `secs` for `css` to exist.
    fn wait(&self, css: &str, secs: u64) -> String {
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
    fn fail(&self, msg: &str) -> ! {
        let shot = self.screenshot("failure");
        panic!("{msg} (screenshot: {})", shot.display())
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.wait(css, 10);
        self.post(&format!("/element/{e}/value"), json!({"text": text})).unwrap_or_else(|err| self.fail(&format!("type into {css}: {err}")));
    }

    fn clear(&self, css: &str) {
        let e = self.wait(css, 10);
        self.post(&format!("/element/{e}/clear"), json!({})).unwrap_or_else(|err| self.fail(&format!("clear {css}: {err}")));
    }

    fn click(&self, css: &str) {
        let e = self.wait(css, 10);
        self.post(&format!("/element/{e}/click"), json!({})).unwrap_or_else(|err| self.fail(&format!("click {css}: {err}")));
    }

    fn script(&self, js: &str) -> Value {
        self.post("/execute/sync", json!({"script": js, "args": []})).unwrap_or_else(|err| panic!("script {js}: {err}"))
    }

    fn text(&self, css: &str) -> String {
        let sel = serde_json::to_string(css).expect("selector as JSON");
        self.script(&format!("const e = document.querySelector({sel}); return e ? e.textContent : null;")).as_str().unwrap_or_default().to_owned()
    }

    /// Waits up to `secs` until `f` holds for the text of `css`.
    fn wait_text(&self, css: &str, secs: u64, f: impl Fn(&str) -> bool) -> String {
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

    /// Saves a PNG of the window as `<shots>/<name>.png` and returns its path.
    fn screenshot(&self, name: &str) -> PathBuf {
        let path = self.shots.join(format!("{name}.png"));
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

struct TestSpoke {
    running: spoke::RunningSpoke,
    ticket: String,
}

async fn test_spoke(dir: &Path, name: &str) -> TestSpoke {
    let data = dir.join(name);
    let config = spoke::config::Config { name: name.into(), ..Default::default() };
    spoke::init(&data, &config).expect("init spoke");
    let any: Option<SocketAddr> = "127.0.0.1:0".parse().ok();
    let running = spoke::start(&data, spoke::Overrides { http: any, p2p: any, replicate_interval_secs: Some(3600) }).await.expect("start spoke");
    let ticket = running.invite(1).expect("invite").encode();
    TestSpoke { running, ticket }
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

#[test]
fn window_creates_identity_writes_and_publishes_to_two_spokes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let spokes = rt.block_on(async { [test_spoke(tmp.path(), "north").await, test_spoke(tmp.path(), "south").await] });

    let (_xvfb, display) = xvfb();
    let port = free_port();
    let native = free_port();
    let profile = tmp.path().join("profile");
    let driver_proc = Proc(
        Command::new(find_tool("tauri-driver"))
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("DISPLAY", &display)
            .env("SPOKES_PROFILE", &profile)
            .env("TAURI_WEBVIEW_AUTOMATION", "true")
            .env("XDG_DATA_HOME", tmp.path().join("xdg-data"))
            .env("XDG_CACHE_HOME", tmp.path().join("xdg-cache"))
            .env("XDG_CONFIG_HOME", tmp.path().join("xdg-config"))
            .env("GDK_BACKEND", "x11")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .expect("start tauri-driver"),
    );
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let d = Driver::start(port, Path::new(env!("CARGO_BIN_EXE_spokes-app")), shots);

    // Onboarding: a name, a title, a passphrase typed twice.
    d.wait("#name", 60);
    d.screenshot("onboarding");
    d.type_into("#name", "Ada Lovelace");
    d.type_into("#blog-title", "Notes from the engine room");
    d.type_into("#passphrase", "correct horse battery");
    d.type_into("#passphrase2", "correct horse battery");
    d.click("#create");

    // The writing screen opens on a new draft.
    d.wait("#app[data-ready]", 60);
    assert!(profile.join("identity.asc").is_file(), "the encrypted key is stored in the profile");

    // Paste both invites.
    for (i, s) in spokes.iter().enumerate() {
        d.clear("#ticket");
        d.type_into("#ticket", &s.ticket);
        d.click("#add-spoke");
        d.wait_text("#spoke-msg", 10, |t| t.starts_with("Spoke added"));
        d.wait_text("#blog-link", 10, |t| t == format!("Hosted by {} spoke{}.", i + 1, if i == 0 { "" } else { "s" }));
    }

    // Write, with the live preview following and autosave reaching "Saved".
    d.clear("#title");
    d.type_into("#title", "Hello from the window");
    // U+E007 is the WebDriver key code for Enter.
    d.type_into("#body", "This was written in a **real** window.\u{E007}\u{E007}A second paragraph, with <script>alert(1)</script> in it.");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let html = d.script("return document.getElementById('preview').innerHTML;").as_str().unwrap_or_default().to_owned();
        if html.contains("<strong>real</strong>") && html.contains("Hello from the window") {
            assert!(!html.contains("<script"), "preview must be sanitised: {html}");
            break;
        }
        assert!(Instant::now() < deadline, "preview never showed the text: {html}");
        std::thread::sleep(Duration::from_millis(100));
    }
    d.wait_text("#save-state", 10, |t| t == "Saved");
    d.wait_text(".post-list li.active .post-title", 10, |t| t == "Hello from the window");
    d.screenshot("writing");

    // Publish: both spokes confirm.
    d.click("#publish");
    d.wait_text("#status", 60, |t| t == "Published to 2 of 2 spokes");
    d.wait_text(".post-list li.active .badge", 10, |t| t == "Published");
    let shot = d.screenshot("published");
    assert!(std::fs::metadata(&shot).map(|m| m.len() > 1000).unwrap_or(false), "no screenshot at {}", shot.display());

    // Readers see it on both spokes, rendered, sanitised and verified.
    for s in &spokes {
        let base = format!("http://{}", s.running.http_addr);
        let blogs = http_json(&format!("{base}/api/v1/blogs"));
        let blog = &blogs[0];
        assert_eq!(blog["settings"]["title"], "Notes from the engine room", "{blogs}");
        assert_eq!(blog["verification"]["status"], "verified", "{blogs}");
        let url = blog["posts"][0]["url"].as_str().expect("post url");
        assert_eq!(blog["posts"][0]["slug"], "hello-from-the-window");
        let page = http_text(&format!("{base}{url}"));
        assert!(page.contains("Hello from the window"), "{page}");
        assert!(page.contains("<strong>real</strong> window.</p>"), "two paragraphs: {page}");
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(page.contains("Signatures verified"), "{page}");
    }
    drop(d);
    drop(driver_proc);
}
