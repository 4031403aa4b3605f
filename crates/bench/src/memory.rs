//! `spoke-memory`: one `spoke` process (the dev build's, `SPOKES_BIN_DIR`) holding
//! `--memory-blogs` blogs (default 1,000) of `--memory-posts` posts (default 100, bodies from
//! the Jekyll corpus) kept as sets of documents, the goal of the documents-per-post issue:
//! idle under 500 MB.
//!
//! Each blog is its own writer (its own key and profile, made through the library in this
//! process as the app makes them), upgraded to a set before its first publish, so the spoke
//! only ever receives version 2 sessions. Writers publish a few at a time. Then the spoke is
//! left alone until jemalloc has handed back what it freed (12 s) and its resident memory is
//! read (`VmRSS`, and apart its heap and the file pages it maps; `VmHWM` for the peak while
//! receiving), along with its data folder's size.
//! Last, the spoke is restarted (it verifies every stored set and builds its reader views
//! before it listens): the time until it answers, and its idle memory after that start.

use crate::Opts;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use spokes_core::doc::Post;
use spokes_e2e::SpokeProc;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Resident memory of a process by kind, bytes: (`RssAnon`: its heap and stacks, `RssFile`:
/// pages of files it maps, such as the search index, which the kernel can take back).
fn rss_by_kind(pid: u32) -> (u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| s.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()).unwrap_or(0) * 1024;
    (kib("RssAnon:"), kib("RssFile:"))
}

/// Bytes in the files under `dir`, recursively.
pub(crate) fn folder_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => folder_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Every blog ID `/api/v1/blogs` lists, page by page.
fn blog_ids(s: &SpokeProc) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    loop {
        let page = s.json(&format!("/api/v1/blogs?offset={}&limit=200", ids.len()));
        let page = page.as_array().context("blogs")?;
        if page.is_empty() {
            return Ok(ids);
        }
        for b in page {
            ids.push(b["blog_id"].as_str().context("blog id")?.to_owned());
        }
    }
}

/// One writer: a new profile in `dir` with `posts` published as a set of documents to the
/// spoke of `ticket`. The profile's folder is removed afterwards (only the spoke is measured).
fn writer(rt: &tokio::runtime::Runtime, dir: &Path, title: &str, ticket: &str, posts: &[Post]) -> Result<()> {
    let (profile, mut key) = crate::council::published_locally(dir, title, ticket, posts)?;
    let moved = profile.upgrade_to_set(&mut key, chrono::Utc::now().fixed_offset())?;
    if moved != posts.len() {
        bail!("{title}: {moved} of {} posts moved to the set", posts.len());
    }
    let summary = rt.block_on(profile.sync_with(&profile.targets()))?;
    if summary.up_to_date != 1 {
        bail!("{title} did not reach the spoke: {}", summary.sentence);
    }
    drop(profile);
    std::fs::remove_dir_all(dir)?;
    Ok(())
}

pub fn spoke_memory(work: &Path, o: &Opts) -> Result<Value> {
    let tmp = tempfile::tempdir_in(work)?;
    let corpus = crate::phases::corpus_posts(&o.corpus)?;
    let (blogs, per_blog) = (o.memory_blogs, o.memory_posts);
    let mut s = SpokeProc::init(&tmp.path().join("spoke"), "Memory spoke");
    let ticket = spoke::invite(&s.data, u32::try_from(blogs).unwrap_or(u32::MAX), None)?.encode();
    s.start_with("spoke", &[], &crate::large::QUIET);
    let pid = s.pid().context("spoke pid")?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;

    // Writers publish three at a time (two cores here: the spoke has work too).
    let t0 = Instant::now();
    let next = AtomicUsize::new(0);
    let markdown = AtomicUsize::new(0);
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| -> Result<()> {
                    loop {
                        let b = next.fetch_add(1, Ordering::Relaxed);
                        if b >= blogs {
                            return Ok(());
                        }
                        let posts: Vec<Post> = (0..per_blog).map(|k| corpus[(b + k) % corpus.len()].clone()).collect();
                        markdown.fetch_add(posts.iter().map(|p| p.body.len()).sum::<usize>(), Ordering::Relaxed);
                        writer(&rt, &tmp.path().join(format!("writer{b}")), &format!("Blog {b}"), &ticket, &posts).with_context(|| format!("blog {b}"))?;
                        if b % 100 == 99 {
                            eprintln!("spoke-memory: {} blogs published ({:.0} s)", b + 1, t0.elapsed().as_secs_f64());
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| anyhow::anyhow!("a writer thread panicked"))??;
        }
        Ok(())
    })?;
    let publish_s = t0.elapsed().as_secs_f64();
    let held = blog_ids(&s)?.len();
    if held != blogs {
        bail!("the spoke holds {held} blogs of {blogs}");
    }
    std::thread::sleep(Duration::from_secs(12));
    let (idle, peak) = crate::large::memory(pid);
    let (idle_anon, idle_file) = rss_by_kind(pid);
    let disk = folder_bytes(&s.data);

    // A restart: every set verified and its view built before the spoke listens.
    s.stop();
    let t1 = Instant::now();
    s.start_with("spoke", &[], &crate::large::QUIET);
    let restart_s = t1.elapsed().as_secs_f64();
    let pid = s.pid().context("spoke pid")?;
    let (_, restart_peak) = crate::large::memory(pid);
    // Every blog is served whole again: a sample of them, each with all its posts.
    for id in blog_ids(&s)?.iter().step_by((blogs / 10).max(1)) {
        let n = s.json(&format!("/api/v1/blogs/{id}"))["posts"].as_array().map_or(0, Vec::len);
        if n != per_blog {
            bail!("after the restart, blog {id} shows {n} posts of {per_blog}");
        }
    }
    std::thread::sleep(Duration::from_secs(12));
    let (restart_idle, _) = crate::large::memory(pid);
    let (restart_anon, restart_file) = rss_by_kind(pid);
    let limit = 500_000_000u64;
    let goals = json!({
        "idle": {"what": "spoke memory holding 1,000 blogs of 100 posts, idle: under 500 MB", "met": idle < limit},
        "idle_after_restart": {"what": "the same after a restart: under 500 MB", "met": restart_idle < limit},
    });
    let all_met = goals.as_object().is_some_and(|g| g.values().all(|v| v["met"] == true));
    Ok(json!({
        "blogs": blogs,
        "posts_per_blog": per_blog,
        "markdown_bytes": markdown.load(Ordering::Relaxed),
        "build": "the spoke program of the dev build; writers through the library in this process, three at a time",
        "publish_all_s": publish_s,
        "spoke_idle_rss_bytes": idle,
        "spoke_idle_anon_bytes": idle_anon,
        "spoke_idle_file_bytes": idle_file,
        "spoke_peak_rss_bytes": peak,
        "spoke_data_bytes": disk,
        "restart_s": restart_s,
        "restart_peak_rss_bytes": restart_peak,
        "restart_idle_rss_bytes": restart_idle,
        "restart_idle_anon_bytes": restart_anon,
        "restart_idle_file_bytes": restart_file,
        "goals": goals,
        "goal": {"what": "spoke memory holding 1,000 blogs of 100 posts, idle, under 500 MB", "met": all_met},
    }))
}
