//! `nostr`: the same generated blog as Nostr long-form posts (NIP-23), sent to three
//! nostr-rs-relay processes on loopback by nostr-sdk (PyPI), for the report to show beside
//! `large-blog` what a writer could pick instead. `./x bench` installs both
//! (`cargo install nostr-rs-relay`, a Python venv with `nostr-sdk`); without them this
//! benchmark is skipped and says so. The client is `crates/bench/nostr_bench.py`.

use crate::Opts;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the relays when the benchmark ends, however it ends.
struct Relays(Vec<Child>);

impl Drop for Relays {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn found(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|f| f.is_file()))
}

pub fn nostr(work: &std::path::Path, o: &Opts) -> Result<Value> {
    let relay = o.nostr_relay.clone().or_else(|| found("nostr-rs-relay")).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/nostr-rs-relay")).filter(|p| p.is_file()));
    let Some(relay) = relay else {
        return Ok(json!({"skipped": "nostr-rs-relay is not installed (cargo install nostr-rs-relay)"}));
    };
    let python = o.nostr_python.clone().unwrap_or_else(|| PathBuf::from("python3"));
    if !Command::new(&python).args(["-c", "import nostr_sdk"]).status().is_ok_and(|s| s.success()) {
        return Ok(json!({"skipped": format!("{} cannot import nostr_sdk (pip install nostr-sdk)", python.display())}));
    }
    let tmp = tempfile::tempdir_in(work)?;
    let site = tmp.path().join("old-blog");
    spokes_e2e::genblog::write_zola_site(&site, &spokes_e2e::genblog::Options { posts: o.large_posts, markdown_bytes: o.large_bytes, ..Default::default() })?;
    let mut relays = Relays(Vec::new());
    let mut urls = Vec::new();
    for i in 0..3 {
        let dir = tmp.path().join(format!("relay{i}"));
        std::fs::create_dir_all(&dir)?;
        let port = spokes_e2e::free_addr().port();
        // Limits raised so that the longest post (150 kB) and a whole archive sent at once are
        // taken, as a relay that welcomes long-form writers would be set up.
        let config = format!(
            "[info]\nrelay_url = \"ws://127.0.0.1:{port}/\"\n[database]\ndata_directory = \"{}\"\n[network]\naddress = \"127.0.0.1\"\nport = {port}\n[limits]\nmax_event_bytes = 1048576\nmax_ws_message_bytes = 2097152\nmax_ws_frame_bytes = 2097152\nmessages_per_sec = 100000\nbroadcast_buffer = 65536\nevent_persist_buffer = 65536\n",
            dir.display()
        );
        std::fs::write(dir.join("config.toml"), config)?;
        let child = Command::new(&relay).arg("--config").arg(dir.join("config.toml")).arg("--db").arg(&dir).current_dir(&dir).env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(Stdio::null()).spawn().with_context(|| format!("start {}", relay.display()))?;
        relays.0.push(child);
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if t.elapsed() > Duration::from_secs(20) {
                bail!("nostr-rs-relay did not listen on port {port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        urls.push(format!("ws://127.0.0.1:{port}"));
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("nostr_bench.py");
    let out = Command::new(&python).arg(&script).arg(&site).arg(o.large_edits.to_string()).args(&urls).output().context("run nostr_bench.py")?;
    drop(relays);
    if !out.status.success() {
        bail!("nostr_bench.py failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut v: Value = serde_json::from_slice(&out.stdout).context("nostr_bench.py printed no JSON")?;
    v["relay"] = json!("nostr-rs-relay (crates.io), SQLite, loopback");
    v["client"] = json!("nostr-sdk (PyPI), one key, NIP-23 kind 30023 events");
    Ok(v)
}
