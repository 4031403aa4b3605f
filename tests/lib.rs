//! Helpers for the end-to-end tests: real `spoke` processes and the `spokes` CLI on 127.0.0.1.

pub mod acme;
pub mod dns;
pub mod genblog;
pub mod hostile;
pub mod wordpress;

use std::borrow::Borrow;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The folder holding the workspace's binaries: `SPOKES_BIN_DIR` when set (the benchmark runs
/// the build `./x app` makes), else next to the test executable's `deps/`.
pub fn bin(name: &str) -> PathBuf {
    let dir = match std::env::var_os("SPOKES_BIN_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            let exe = std::env::current_exe().expect("test executable path");
            exe.parent().and_then(|d| d.parent()).expect("target dir").to_path_buf()
        }
    };
    let p = dir.join(name);
    assert!(p.exists(), "{} is missing: build the binaries first (`cargo build --workspace --bins`)", p.display());
    p
}

/// A free port on 127.0.0.1 for both TCP and UDP (bound and released, then given to a
/// spoke by its config).
///
/// Picked below the kernel's ephemeral range (Linux: 32768-60999), which outgoing
/// connections and every socket bound to port 0 draw from: a port picked there and released
/// was at times taken by one of those before the spoke bound it ("Address already in use").
/// Each test process walks 20000-31999 from its own starting point (by process ID) and never
/// hands a port out twice.
pub fn free_addr() -> SocketAddr {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(997) % SPAN;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = u16::try_from(LOW + (start.wrapping_add(n)) % SPAN).expect("below 32000");
        let a = SocketAddr::from(([127, 0, 0, 1], port));
        if let Ok(t) = TcpListener::bind(a)
            && UdpSocket::bind(a).is_ok()
        {
            drop(t);
            return a;
        }
    }
}

/// The test corpus folder (`corpus/` in the repository).
pub fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus").join(name)
}

/// A spoke process.
pub struct SpokeProc {
    /// Its data folder.
    pub data: PathBuf,
    /// Reader site address.
    pub http: SocketAddr,
    /// Sync address.
    pub p2p: SocketAddr,
    /// The operator's listener (`/metrics`, `/health`, `/ready`).
    pub admin: SocketAddr,
    child: Option<Child>,
}

impl SpokeProc {
    /// `spoke init` in `data` with fresh ports.
    pub fn init(data: &Path, name: &str) -> SpokeProc {
        let (http, p2p, admin) = (free_addr(), free_addr(), free_addr());
        let out = Command::new(bin("spoke")).args(["--data"]).arg(data).args(["init", "--name", name, "--http", &http.to_string(), "--p2p", &p2p.to_string(), "--admin", &admin.to_string()]).output().expect("spoke init");
        assert!(out.status.success(), "spoke init: {}", String::from_utf8_lossy(&out.stderr));
        SpokeProc { data: data.into(), http, p2p, admin, child: None }
    }

    /// A spoke on an existing data folder (a fixture's copy, say), given fresh ports in its
    /// `config.toml`; not started.
    pub fn adopt(data: &Path) -> SpokeProc {
        let (http, p2p, admin) = (free_addr(), free_addr(), free_addr());
        let spoke = SpokeProc { data: data.into(), http, p2p, admin, child: None };
        spoke.configure(|c| {
            c.http = http;
            c.p2p = p2p;
            c.admin = admin;
        });
        spoke
    }

    /// A spoke on an existing data folder that keeps the addresses its `config.toml` names (a
    /// fixture whose council entries name them); the operator's listener gets a fresh port.
    /// Not started.
    pub fn adopt_in_place(data: &Path) -> SpokeProc {
        let c = spoke::config::Config::load(&data.join("config.toml")).expect("the fixture's config.toml");
        let admin = free_addr();
        let spoke = SpokeProc { data: data.into(), http: c.http, p2p: c.p2p, admin, child: None };
        spoke.configure(|c| c.admin = admin);
        spoke
    }

    /// The process's peak resident memory in bytes (Linux `VmHWM`), if it runs.
    pub fn peak_rss(&self) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        let kib: u64 = s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// `spoke refusals` (the newest 1,000), as (code, peer) pairs.
    pub fn refusals(&self) -> Vec<(String, String)> {
        self.admin(&["refusals", "--limit", "1000"])
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split("  ").collect();
                (f.len() >= 4).then(|| (f[1].to_owned(), f[3].to_owned()))
            })
            .collect()
    }

    /// `spoke invite`.
    pub fn invite(&self) -> String {
        let out = Command::new(bin("spoke")).arg("--data").arg(&self.data).arg("invite").output().expect("spoke invite");
        assert!(out.status.success(), "spoke invite: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf8").trim().to_owned()
    }

    /// `spoke run`, waiting until it prints where it listens.
    pub fn start(&mut self) {
        self.start_as("spoke", &[]);
    }

    /// Runs `binary` (`spoke`, or the test-only `spoke-dishonest`) on this data folder with
    /// extra environment variables, replicating and pulling from the council every second.
    pub fn start_as(&mut self, binary: &str, env: &[(&str, &str)]) {
        self.start_with(binary, &["--replicate-interval", "1", "--council-interval", "1"], env);
    }

    /// Runs `binary` on this data folder with `spoke run`'s extra `args` (none: the operator's
    /// defaults, as the benchmark runs it) and extra environment variables.
    pub fn start_with(&mut self, binary: &str, args: &[&str], env: &[(&str, &str)]) {
        let mut child = Command::new(bin(binary))
            .arg("--data")
            .arg(&self.data)
            .arg("run")
            .args(args)
            .env("SPOKE_LOG", "spoke=debug,spokes_sync=debug,warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(match std::env::var_os("SPOKES_TEST_LOG_DIR") {
                // For debugging: each spoke's log in its own file.
                Some(dir) => Stdio::from(std::fs::OpenOptions::new().create(true).append(true).open(Path::new(&dir).join(format!("{}.log", self.data.file_name().and_then(|n| n.to_str()).unwrap_or("spoke")))).expect("log file")),
                None => Stdio::inherit(),
            })
            .spawn()
            .expect("spoke run");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = lines.next().expect("spoke printed nothing").expect("read");
        assert!(line.starts_with("Reader site: http://"), "unexpected first line: {line}");
        std::thread::spawn(move || for _ in lines {});
        self.child = Some(child);
    }

    /// Runs `spoke --data … ARGS` to completion and asserts it succeeded; returns stdout.
    pub fn admin(&self, args: &[&str]) -> String {
        self.admin_env(args, &[])
    }

    /// [`SpokeProc::admin`] with `env` set for the command (for example how it reaches the
    /// council's members: `SPOKES_RELAY_ONLY`).
    pub fn admin_env(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = Command::new(bin("spoke")).arg("--data").arg(&self.data).args(args).envs(env.iter().copied()).output().expect("spoke");
        assert!(out.status.success(), "spoke {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The blog document as stored in `spoke.db` (the only blog there): the full save followed
    /// by the change chunks appended since, read directly from the database file.
    pub fn stored_document(&self) -> Vec<u8> {
        let db = rusqlite::Connection::open(self.data.join("spoke.db")).expect("spoke.db");
        let mut bytes: Vec<u8> = db.query_row("SELECT document FROM blogs", [], |r| r.get(0)).expect("one blog");
        let mut st = db.prepare("SELECT bytes FROM document_increments ORDER BY seq").expect("increments");
        for b in st.query_map([], |r| r.get::<_, Vec<u8>>(0)).expect("increments") {
            bytes.extend_from_slice(&b.expect("increment"));
        }
        bytes
    }

    /// The post documents of set blogs as stored in `spoke.db`: (post ID, saved bytes).
    pub fn stored_post_documents(&self) -> Vec<(String, Vec<u8>)> {
        let db = rusqlite::Connection::open(self.data.join("spoke.db")).expect("spoke.db");
        let mut st = db.prepare("SELECT post_id, document FROM set_posts ORDER BY post_id").expect("set_posts");
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("set_posts").map(|r| r.expect("a post document")).collect()
    }

    /// The spoke's endpoint ID.
    pub fn endpoint_id(&self) -> String {
        spoke::load(&self.data).expect("spoke data").0.public().to_string()
    }

    /// Rewrites `config.toml` with `f` (takes effect at the next start).
    pub fn configure(&self, f: impl FnOnce(&mut spoke::config::Config)) {
        let path = self.data.join("config.toml");
        let mut c = spoke::config::Config::load(&path).expect("config");
        f(&mut c);
        c.save(&path).expect("save config");
    }

    /// GET a path and parse the JSON body.
    pub fn json(&self, path: &str) -> serde_json::Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
    }

    /// The process ID while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Whether the process is running.
    pub fn running(&self) -> bool {
        self.child.is_some()
    }

    /// Kills the process.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM (what systemd and container runtimes send) and waits up to `limit` for
    /// the process to end: its exit status and what it wrote on standard output afterwards,
    /// or `None` if it did not end in time (it is then killed).
    pub fn terminate(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take()?;
        let sent = Command::new("kill").args(["-TERM", &c.id().to_string()]).status().expect("kill");
        assert!(sent.success(), "kill -TERM");
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = c.try_wait().expect("wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    /// GET `/metrics` from the operator's listener; returns (status, body).
    pub fn metrics(&self) -> (u16, String) {
        http_get(&format!("http://{}/metrics", self.admin))
    }

    /// GET a path; returns (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        http_get(&format!("http://{}{}", self.http, path))
    }
}

impl Drop for SpokeProc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// GET a URL; returns (status, body). Non-2xx statuses are returned, not errors.
pub fn http_get(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(20))).build().into();
    let mut r = agent.get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status().as_u16();
    let body = r.body_mut().with_config().limit(64 << 20).read_to_string().unwrap_or_default();
    (status, body)
}

/// GET a URL; returns (status, content type, body bytes).
pub fn http_get_bytes(url: &str) -> (u16, String, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(20))).build().into();
    let mut r = agent.get(url).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = r.status().as_u16();
    let ctype = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body = r.body_mut().with_config().limit(64 << 20).read_to_vec().unwrap_or_default();
    (status, ctype, body)
}

/// A small PNG picture (1×1), for posts with images.
pub const PNG: &[u8] = spokes_core::image::EXAMPLE_PNG;

/// Runs `spokes` with a profile and passphrase.
pub fn spokes(profile: &Path, pass: &str, args: &[&str]) -> Output {
    spokes_env(profile, pass, args, &[])
}

/// [`spokes`] with more environment variables (`(name, value)`).
pub fn spokes_env(profile: &Path, pass: &str, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
    let mut cmd = Command::new(bin("spokes"));
    cmd.arg("--profile").arg(profile).args(args).env("SPOKES_PASSPHRASE", pass).stdin(Stdio::null());
    if profile.parent().is_some_and(|d| d.join(HOLD_VERSION_1).exists()) {
        cmd.env(spokes_writer::workflow::HOLD_LAYOUT_ENV, "1");
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("spokes")
}

/// The marker file [`hold_version_1`] leaves.
const HOLD_VERSION_1: &str = "hold-version-1";

/// Every writer profile directly in `dir` (a test's temporary folder) stays a version 1 blog
/// document, as the app of a writer who has not updated keeps it (`SPOKES_WRITER_LAYOUT=1`):
/// for the tests of how spokes treat version 1 sessions, which stay in the protocol until
/// every writer has moved.
pub fn hold_version_1(dir: &Path) {
    std::fs::write(dir.join(HOLD_VERSION_1), b"").expect("marker");
}

/// Lets the writer profiles in `dir` move again (undoes [`hold_version_1`]): their next sync
/// moves them to a set of documents, as an updated app does.
pub fn release_version_1(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(HOLD_VERSION_1));
}

/// Runs `spokes` and asserts success; returns stdout.
pub fn spokes_ok(profile: &Path, pass: &str, args: &[&str]) -> String {
    let out = spokes(profile, pass, args);
    assert!(out.status.success(), "spokes {args:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `spokes`, asserts it exited with `code` (3: some spokes did not take what was
/// published, 4: none did), and returns stdout.
pub fn spokes_exit(profile: &Path, pass: &str, args: &[&str], code: i32) -> String {
    let out = spokes(profile, pass, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(code), "spokes {args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// Polls `f` every 100 ms until it returns true or `limit` passes.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

/// Forms a council of running `spokes` the way operators do: the first founds it
/// (`spoke council invite`) and proposes each next one (`spoke council join` on the
/// newcomer), and the other members approve it (`spoke council approve`) until more than half
/// did. Returns once every spoke lists all of them as members.
pub fn form_council<S: std::borrow::Borrow<SpokeProc>>(spokes: &[S]) {
    let spokes: Vec<&SpokeProc> = spokes.iter().map(Borrow::borrow).collect();
    for i in 1..spokes.len() {
        let ticket = spokes[0].admin(&["council", "invite"]);
        let out = spokes[i].admin(&["council", "join", ticket.trim()]);
        if out.contains("Joined") {
            continue;
        }
        assert!(out.contains("Waiting for"), "{out}");
        let id = spokes[i].endpoint_id();
        for m in &spokes[1..i] {
            let said = m.admin(&["council", "approve", &id]);
            if said.contains("is admitted") || said.contains("member already") {
                break;
            }
        }
        let listed = |s: &SpokeProc| s.json("/api/v1/council")["members"].as_array().is_some_and(|m| m.iter().any(|m| m["endpoint"] == id.as_str()));
        assert!(wait_until(Duration::from_secs(60), || listed(spokes[0])), "spoke {i} was not admitted by the members' approvals");
    }
    let n = spokes.len();
    let members = |s: &SpokeProc| s.json("/api/v1/council")["members"].as_array().map_or(0, Vec::len);
    assert!(
        wait_until(Duration::from_secs(60), || spokes.iter().all(|s| members(s) == n)),
        "the council did not reach every spoke: {:?}",
        spokes.iter().map(|s| members(s)).collect::<Vec<_>>()
    );
}

/// The passphrase every test writer uses.
pub const PASS: &str = "correct horse battery";

/// A small network: `n` running spokes and a writer profile (in `tmp/writer`) that has
/// every spoke added. Returns the spokes, the profile folder and the blog ID.
pub fn network(tmp: &Path, n: usize) -> (Vec<SpokeProc>, PathBuf, String) {
    let mut spokes: Vec<SpokeProc> = (0..n).map(|i| SpokeProc::init(&tmp.join(format!("spoke{i}")), &format!("Spoke {i}"))).collect();
    let tickets: Vec<String> = spokes.iter().map(SpokeProc::invite).collect();
    for s in &mut spokes {
        s.start();
    }
    let w = tmp.join("writer");
    spokes_ok(&w, PASS, &["init", "--name", "Jekyll Team", "--title", "Jekyll News"]);
    for t in &tickets {
        spokes_ok(&w, PASS, &["spoke", "add", t]);
    }
    let profile = spokes_writer::Profile::open(&w).expect("profile");
    (spokes, w, profile.blog_id().to_string())
}
