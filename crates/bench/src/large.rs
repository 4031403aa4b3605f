//! `large-blog`: the goals of the real-blog issue, measured on the path a writer takes, in the
//! build `./x app` and `./x test` make (the `spoke` and `spokes` programs from
//! `SPOKES_BIN_DIR`, by default `$CARGO_TARGET_DIR/debug`).
//!
//! A generated Zola blog (`--large-posts`, default 2,000 posts and `--large-bytes` 20 MB of
//! Markdown, sizes drawn like a real blog's: `spokes_e2e::genblog`) is imported with
//! `spokes import`, then published with `spokes publish` to three fresh `spoke` processes on
//! loopback; the clock stops when every post is readable on all three (their pages are polled).
//! The spokes' peak resident memory (Linux `VmHWM`) covers the whole publish; their idle
//! memory and CPU are read after it, once jemalloc has handed back what it freed (12 s).
//! Then one post is edited and published again, `--large-edits` times, through the library
//! (as the app does, warm connections): the time until every spoke has stored and verified it
//! (the sync's answers) and until it is readable on all three. The blog is kept as it is by
//! default: documents per post under a signed manifest since the first publish.

use crate::Opts;
use crate::phases::pct;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use spokes_e2e::SpokeProc;
use std::time::{Duration, Instant};

/// Resident memory figures of a process from `/proc/PID/status`, in bytes: (`VmRSS`, `VmHWM`).
pub(crate) fn memory(pid: u32) -> (u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| s.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()).unwrap_or(0) * 1024;
    (kib("VmRSS:"), kib("VmHWM:"))
}

/// CPU time (user + system) a process has used, in clock ticks (`/proc/PID/stat`).
fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    f.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0) + f.get(12).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
}

/// Polls `url` until it answers 200 with a body containing `needle`, or `limit` passes.
fn wait_for(agent: &ureq::Agent, url: &str, needle: &str, limit: Duration) -> Option<Instant> {
    crate::sets::wait(agent, url, limit, |status, body| status == 200 && body.contains(needle))
}

/// How the bench starts its spoke processes: warnings only.
pub(crate) const QUIET: [(&str, &str); 2] = [("SPOKE_LOG", "spokes_sync::set=debug,warn"), ("RUST_BACKTRACE", "0")];

/// Three fresh `spoke` processes in `dir`, run as an operator runs them (the default
/// replication and council intervals), and a writer profile (`dir/writer`, made with the
/// `spokes` CLI) that chose all three. Returns the spokes, the profile folder and the blog ID.
pub(crate) fn three_spokes_and_a_writer(dir: &std::path::Path) -> Result<(Vec<SpokeProc>, std::path::PathBuf, String)> {
    let mut spokes: Vec<SpokeProc> = (0..3).map(|i| SpokeProc::init(&dir.join(format!("spoke{i}")), &format!("Spoke {i}"))).collect();
    let tickets: Vec<String> = spokes.iter().map(SpokeProc::invite).collect();
    for s in &mut spokes {
        s.start_with("spoke", &[], &QUIET);
    }
    let w = dir.join("writer");
    spokes_e2e::spokes_ok(&w, spokes_e2e::PASS, &["init", "--name", "Bench Writer", "--title", "A real blog"]);
    for t in &tickets {
        spokes_e2e::spokes_ok(&w, spokes_e2e::PASS, &["spoke", "add", t]);
    }
    let blog = spokes_writer::Profile::open(&w)?.blog_id().as_str().to_owned();
    Ok((spokes, w, blog))
}


pub fn large_blog(work: &std::path::Path, o: &Opts) -> Result<Value> {
    let tmp = tempfile::tempdir_in(work)?;
    let site = tmp.path().join("old-blog");
    let generated = spokes_e2e::genblog::write_zola_site(&site, &spokes_e2e::genblog::Options { posts: o.large_posts, markdown_bytes: o.large_bytes, ..Default::default() })?;
    let markdown: usize = generated.iter().map(|p| p.bytes).sum();
    let (spokes, w, blog) = three_spokes_and_a_writer(tmp.path())?;
    let pids: Vec<u32> = spokes.iter().map(|s| s.pid().context("spoke pid")).collect::<Result<_>>()?;
    let pass = spokes_e2e::PASS;

    let t = Instant::now();
    let out = spokes_e2e::spokes(&w, pass, &["import", site.to_str().context("utf8")?]);
    let import_s = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("import failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    // The first publish, until the oldest and the newest post are readable on every spoke
    // (a spoke shows a blog's posts all at once, when it has verified the whole blog).
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(10))).build().into();
    let (first, last) = (generated.first().context("posts")?, generated.last().context("posts")?);
    let t0 = Instant::now();
    let publish = std::process::Command::new(spokes_e2e::bin("spokes"))
        .arg("--profile")
        .arg(&w)
        .arg("publish")
        .env("SPOKES_PASSPHRASE", pass)
        .env("RUST_BACKTRACE", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let pollers: Vec<_> = spokes
        .iter()
        .flat_map(|s| [first, last].map(|p| (format!("http://{}/b/{blog}/posts/{}", s.http, p.slug), html_escape(&p.title))))
        .map(|(url, title)| {
            let agent = agent.clone();
            std::thread::spawn(move || wait_for(&agent, &url, &title, Duration::from_secs(300)))
        })
        .collect();
    let readable: Vec<Option<Instant>> = pollers.into_iter().map(|h| h.join().ok().flatten()).collect();
    let out = publish.wait_with_output()?;
    let command_s = t0.elapsed().as_secs_f64();
    if !out.status.success() || readable.iter().any(Option::is_none) {
        bail!("the first publish did not reach every spoke: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    let first_publish_s = readable.iter().flatten().max().map(|r| r.duration_since(t0).as_secs_f64()).unwrap_or(f64::MAX);
    for s in &spokes {
        let n = s.json(&format!("/api/v1/blogs/{blog}"))["posts"].as_array().map_or(0, Vec::len);
        if n != generated.len() {
            bail!("{} serves {n} posts of {}", s.http, generated.len());
        }
    }
    let peak_rss = pids.iter().map(|p| memory(*p).1).max().unwrap_or(0);

    // Idle: what the spokes hold and spend once nothing happens.
    std::thread::sleep(Duration::from_secs(12));
    let ticks: Vec<u64> = pids.iter().map(|p| cpu_ticks(*p)).collect();
    let idle_window = Duration::from_secs(10);
    std::thread::sleep(idle_window);
    let hz = 100.0; // USER_HZ on Linux
    let idle_cpu_pct = pids.iter().zip(&ticks).map(|(p, t0)| (cpu_ticks(*p) - t0) as f64 / hz / idle_window.as_secs_f64() * 100.0).fold(0.0, f64::max);
    let idle_rss = pids.iter().map(|p| memory(*p).0).max().unwrap_or(0);

    // Later publishes of one edited post, through the library with warm connections.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let profile = spokes_writer::Profile::open(&w)?;
    let mut key = profile.unlock(pass)?;
    let pool = rt.block_on(profile.connection_pool())?;
    let targets = profile.targets();
    rt.block_on(profile.sync_with_pool(&pool, &targets))?;
    let post = profile.posts()?.into_iter().find(|s| s.post.title == first.title).context("the first post")?.post;
    let (mut stored, mut visible) = (Vec::new(), Vec::new());
    // Where a later publish's time goes: signing here (the blog document and its statement),
    // signing the manifest, and the sessions with the spokes (with the pictures' exchange).
    let mut steps: [Vec<f64>; 3] = Default::default();
    let original = post.body.clone();
    for i in 0..o.large_edits {
        let marker = format!("Edited for the {i}th time.");
        let mut p = post.clone();
        p.body = format!("{marker}\n\n{original}");
        profile.update_post(&p)?;
        let t0 = Instant::now();
        profile.publish_local(&mut key, Some(std::slice::from_ref(&p.id)))?;
        let t_local = t0.elapsed();
        // A blog kept as documents per post (the default) signs its next manifest, as the
        // app's publish does.
        if profile.is_set() {
            profile.sign_set(&mut key, chrono::Utc::now().fixed_offset())?;
        }
        let t_manifest = t0.elapsed();
        let summary = rt.block_on(profile.sync_with_pool(&pool, &targets))?;
        let t_stored = t0.elapsed();
        for (v, d) in steps.iter_mut().zip([t_local, t_manifest - t_local, t_stored - t_manifest]) {
            v.push(d.as_secs_f64() * 1000.0);
        }
        if summary.up_to_date != spokes.len() {
            bail!("edit {i} reached {} of {} spokes: {}", summary.up_to_date, spokes.len(), summary.sentence);
        }
        let ready: Vec<Option<Instant>> = spokes.iter().map(|s| wait_for(&agent, &format!("http://{}/b/{blog}/posts/{}", s.http, p.slug), &marker, Duration::from_secs(10))).collect();
        let Some(all) = ready.iter().copied().collect::<Option<Vec<Instant>>>() else { bail!("edit {i} never became readable on every spoke") };
        stored.push(t_stored.as_secs_f64() * 1000.0);
        visible.push(all.iter().max().map(|r| r.duration_since(t0).as_secs_f64() * 1000.0).unwrap_or(f64::MAX));
    }
    rt.block_on(pool.close());
    for v in [&mut stored, &mut visible].into_iter().chain(steps.iter_mut()) {
        v.sort_by(f64::total_cmp);
    }
    drop(spokes);
    let (stored_p50, visible_p50) = (pct(&stored, 50), pct(&visible, 50));
    let goals = json!({
        "first_publish": {"what": "first publish of the whole blog to 3 fresh spokes, until every post is readable on all: under 5 s", "met": first_publish_s < 5.0},
        "later_stored": {"what": "a later publish of one edited post, stored and verified on all 3 spokes, p50 under 3 ms", "met": stored_p50 < 3.0},
        "later_readable": {"what": "a later publish of one edited post, readable on all 3 spokes, p50 under 10 ms", "met": visible_p50 < 10.0},
        "spoke_memory": {"what": "spoke resident memory under 300 MB while receiving the blog and idle after", "met": peak_rss < 300_000_000 && idle_rss < 300_000_000},
        "idle_cpu": {"what": "an idle spoke under 1% CPU", "met": idle_cpu_pct < 1.0},
        "import": {"what": "import of the blog under 5 s", "met": import_s < 5.0},
    });
    let all_met = goals.as_object().is_some_and(|g| g.values().all(|v| v["met"] == true));
    Ok(json!({
        "posts": generated.len(),
        "markdown_bytes": markdown,
        "pictures": generated.iter().filter(|p| p.picture).count(),
        "build": "the spoke and spokes programs of the dev build (./x app, ./x test); later publishes through the library in this process",
        "import_s": import_s,
        "first_publish_s": first_publish_s,
        "first_publish_command_s": command_s,
        "spoke_peak_rss_bytes": peak_rss,
        "spoke_idle_rss_bytes": idle_rss,
        "spoke_idle_cpu_percent": idle_cpu_pct,
        "later_publishes": stored.len(),
        "later_stored_p50_ms": stored_p50,
        "later_stored_p99_ms": pct(&stored, 99),
        "later_readable_p50_ms": visible_p50,
        "later_readable_p99_ms": pct(&visible, 99),
        "later_steps_p50_ms": {"sign_blog_document": pct(&steps[0], 50), "sign_manifest": pct(&steps[1], 50), "sessions": pct(&steps[2], 50)},
        "goals": goals,
        "goal": {"what": "every goal of the real-blog issue", "met": all_met},
    }))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}
