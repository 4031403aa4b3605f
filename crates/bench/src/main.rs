//! `spokes-bench`: how fast and how big Spokes is, measured on the real code paths.
//!
//! `spokes-bench all` runs every benchmark, each in a fresh child process (`spokes-bench run
//! NAME`) so that its peak resident memory (Linux `VmHWM`) is its own, then writes
//! `results.json` and `README.md` into `--out` (default `docs/bench`). Each child prints one
//! JSON object on stdout. Run it with `./x bench` (a release build).
//!
//! Benchmarks and goals (issue "Benchmarks: how fast, how big, against what"):
//! - `editing`: the automerge-perf editing trace (259,778 edits) replayed through
//!   `Profile::edit_post` as the app's autosaves (splices folded, one change and one append to
//!   disk per save of 10 keystrokes). Goal: under 10 s.
//! - `docs-build` then `docs-open`: a blog of 1,000 posts and 100,000 signed revisions; open
//!   (load + post list) goal under 300 ms.
//! - `signing`: sign and verify distinct statements, beside raw Ed25519 (ed25519-dalek).
//! - `history`: whole-history verification of that blog (every signature, then the coverage
//!   rule). Goal: above 20,000 revisions per second.
//! - `publish`: publish to 3 spokes on loopback until the post is readable over HTTP on each.
//!   Goal: p50 under 50 ms.
//! - `large-blog`: the real-blog issue's goals on a generated 2,000-post blog, in the dev
//!   build's `spoke` and `spokes` programs (`SPOKES_BIN_DIR`): import under 5 s, first publish
//!   to 3 fresh spokes until readable under 5 s, a later one-post publish stored on all under
//!   3 ms and readable under 10 ms (p50), spoke memory under 300 MB, idle CPU under 1%
//!   (`large.rs`).
//! - `set-blog`: the same blog published as a version 1 document (the app held at version 1),
//!   then moved to documents per post (`spokes upgrade`): one edited post
//!   readable on 3 spokes (p50 under 10 ms) and the bytes sent per spoke (under 20 KB), and
//!   an unpublished post gone from all (`sets.rs`).
//! - `drafts-sync`: the drafts of that blog between two computers through a spoke, by item:
//!   the first exchange, one with nothing changed, one after an edit; a second computer
//!   restored, then taking one edit (`drafts.rs`).
//! - `spoke-memory`: one spoke holding 1,000 blogs of 100 posts as sets of documents, idle
//!   (goal under 500 MB) and after a restart (`memory.rs`).
//! - `nostr`: the same blog as NIP-23 events to three nostr-rs-relay processes (nostr-sdk),
//!   shown beside `large-blog` (`nostr.rs`).
//! - `reader`: wrk against a spoke's post page and front page, and against nginx serving the
//!   same pages as static files. Goal: the post page at half of nginx's throughput or more.
//! - `council-search`: 100 blogs of 10 posts on 10 spokes in two tiers; once every post
//!   reached every spoke's index, council-wide searches over HTTP from every spoke. Goal: p95
//!   under 50 ms.
//! - `load`: wrk keeps 1,000 reader connections on one spoke's post page while 50 writers
//!   publish and sync again and again (bounded by `--load-secs`). Goal: no errors.
//! - `under-attack`: hostile peers run attacks 1-6 of the hostile-peers issue in a loop
//!   against one spoke while 100 readers read it and the author publishes. Goal: every
//!   publish succeeds, no reader error, the spoke under 300 MB (`attack.rs`).
//! - `app`: the desktop app (`--app`) with the large blog under Xvfb: window start to
//!   editable (goal from the app issue: under 1 s) and idle memory.

mod app;
mod attack;
mod council;
mod drafts;
mod large;
mod memory;
mod nostr;
mod phases;
mod sets;
mod sim;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[derive(Parser)]
#[command(name = "spokes-bench", version, about = "Spokes benchmarks: JSON results and a Markdown report")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Sizes and inputs shared by `all` and `run`.
#[derive(clap::Args, Clone, Debug)]
pub struct Opts {
    /// The test corpus (automerge-perf trace, Jekyll posts): `corpus/` in the repository.
    #[arg(long, default_value = "corpus")]
    pub corpus: PathBuf,
    /// Posts in the large blog.
    #[arg(long, default_value_t = 1000)]
    pub posts: usize,
    /// Signed revisions in the large blog (at least `--posts`).
    #[arg(long, default_value_t = 100_000)]
    pub revisions: usize,
    /// Publishes measured per spoke.
    #[arg(long, default_value_t = 60)]
    pub publishes: usize,
    /// Changes of the editing trace to replay (default: all of them).
    #[arg(long, default_value_t = usize::MAX)]
    pub trace_limit: usize,
    /// Seconds of load per page and server in `reader`.
    #[arg(long, default_value_t = 5)]
    pub reader_secs: u64,
    /// Statements signed and verified in `signing`.
    #[arg(long, default_value_t = 3000)]
    pub signatures: usize,
    /// Blogs in `council-search` (10 posts each, spread over 10 spokes).
    #[arg(long, default_value_t = 100)]
    pub council_blogs: usize,
    /// Searches measured in `council-search`.
    #[arg(long, default_value_t = 1000)]
    pub council_queries: usize,
    /// Seconds of load in `load`.
    #[arg(long, default_value_t = 20)]
    pub load_secs: u64,
    /// Concurrent reader connections in `load`.
    #[arg(long, default_value_t = 1000)]
    pub load_readers: usize,
    /// Writers syncing during `load`.
    #[arg(long, default_value_t = 50)]
    pub load_writers: usize,
    /// The desktop app binary for `app` (skipped without it).
    #[arg(long)]
    pub app: Option<PathBuf>,
    /// Posts in the generated blog of `large-blog`.
    #[arg(long, default_value_t = 2000)]
    pub large_posts: usize,
    /// Markdown bytes of that blog.
    #[arg(long, default_value_t = 20_000_000)]
    pub large_bytes: usize,
    /// Later publishes of one edited post measured in `large-blog` (and `nostr`).
    #[arg(long, default_value_t = 30)]
    pub large_edits: usize,
    /// Posts of the blog in `under-attack`.
    #[arg(long, default_value_t = 200)]
    pub attack_posts: usize,
    /// Publishes of the author measured in `under-attack`.
    #[arg(long, default_value_t = 20)]
    pub attack_publishes: usize,
    /// Blogs the spoke holds in `spoke-memory`.
    #[arg(long, default_value_t = 1000)]
    pub memory_blogs: usize,
    /// Posts of each of those blogs.
    #[arg(long, default_value_t = 100)]
    pub memory_posts: usize,
    /// nostr-rs-relay for `nostr` (default: on PATH or in ~/.cargo/bin; skipped without it).
    #[arg(long)]
    pub nostr_relay: Option<PathBuf>,
    /// A Python that imports nostr_sdk, for `nostr` (default: python3).
    #[arg(long)]
    pub nostr_python: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs every benchmark (each in its own process) and writes the results.
    All {
        /// Where results.json and README.md go.
        #[arg(long, default_value = "docs/bench")]
        out: PathBuf,
        /// Working folder for generated data (default: a temporary folder).
        #[arg(long)]
        work: Option<PathBuf>,
        #[command(flatten)]
        opts: Opts,
    },
    /// Writes README.md again beside an existing results.json.
    Report {
        /// The results.json of an earlier run.
        #[arg(default_value = "docs/bench/results.json")]
        results: PathBuf,
    },
    /// Writes a generated Zola blog (the large-blog test's and benchmark's input) into DIR.
    Genblog {
        /// Where the site goes.
        dir: PathBuf,
        /// Posts.
        #[arg(long, default_value_t = 2000)]
        posts: usize,
        /// Markdown bytes of all posts together.
        #[arg(long, default_value_t = 20_000_000)]
        bytes: usize,
    },
    /// Runs one benchmark and prints its JSON result.
    Run {
        /// editing, docs-build, docs-open, signing, history, publish, large-blog, set-blog,
        /// spoke-memory, nostr, reader, council-search, council-log, council-sim, load, under-attack or app.
        name: String,
        /// Working folder shared by the benchmarks of one run.
        #[arg(long)]
        work: PathBuf,
        #[command(flatten)]
        opts: Opts,
    },
}

const ORDER: [&str; 18] = ["editing", "docs-build", "docs-open", "signing", "history", "publish", "large-blog", "set-blog", "drafts-sync", "spoke-memory", "nostr", "reader", "council-search", "council-log", "council-sim", "load", "under-attack", "app"];

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Run { name, work, opts } => {
            let mut v = run_one(&name, &work, &opts)?;
            v["peak_rss_bytes"] = json!(peak_rss_bytes());
            println!("{v}");
            Ok(())
        }
        Cmd::All { out, work, opts } => all(&out, work, &opts),
        Cmd::Genblog { dir, posts, bytes } => {
            let posts = spokes_e2e::genblog::write_zola_site(&dir, &spokes_e2e::genblog::Options { posts, markdown_bytes: bytes, ..Default::default() })?;
            eprintln!("spokes-bench: wrote {} posts ({} bytes of Markdown) to {}", posts.len(), posts.iter().map(|p| p.bytes).sum::<usize>(), dir.display());
            Ok(())
        }
        Cmd::Report { results } => {
            let doc: Value = serde_json::from_slice(&std::fs::read(&results).with_context(|| format!("read {}", results.display()))?)?;
            let out = results.with_file_name("README.md");
            std::fs::write(&out, phases::report(&doc))?;
            eprintln!("spokes-bench: wrote {}", out.display());
            Ok(())
        }
    }
}

fn run_one(name: &str, work: &Path, o: &Opts) -> Result<Value> {
    match name {
        "editing" => phases::editing(o),
        "docs-build" => phases::docs_build(work, o),
        "docs-open" => phases::docs_open(work),
        "signing" => phases::signing(o),
        "history" => phases::history(work),
        "publish" => phases::publish(o),
        "large-blog" => large::large_blog(work, o),
        "set-blog" => sets::set_blog(work, o),
        "drafts-sync" => drafts::drafts_sync(work, o),
        "spoke-memory" => memory::spoke_memory(work, o),
        "nostr" => nostr::nostr(work, o),
        "reader" => phases::reader(o),
        "council-search" => council::council_search(o),
        "council-log" => council::council_log(o),
        "council-sim" => sim::council_sim(),
        "load" => council::load(o),
        "under-attack" => attack::under_attack(work, o),
        "app" => app::app(work, o),
        other => bail!("unknown benchmark {other:?}; known: {}", ORDER.join(", ")),
    }
}

/// Peak resident set size of this process in bytes (`VmHWM` in /proc/self/status), or 0.
fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .map(|kib| kib * 1024)
        .unwrap_or(0)
}

fn all(out: &Path, work: Option<PathBuf>, o: &Opts) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let work = work.unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&work)?;
    std::fs::create_dir_all(out)?;
    let exe = std::env::current_exe()?;
    let mut results = serde_json::Map::new();
    let started = Instant::now();
    for name in ORDER {
        eprintln!("spokes-bench: {name}…");
        let t = Instant::now();
        let output = Command::new(&exe)
            .args(["run", name, "--work"])
            .arg(&work)
            .arg("--corpus")
            .arg(&o.corpus)
            .args(["--posts", &o.posts.to_string(), "--revisions", &o.revisions.to_string()])
            .args(["--publishes", &o.publishes.to_string(), "--signatures", &o.signatures.to_string(), "--trace-limit", &o.trace_limit.to_string(), "--reader-secs", &o.reader_secs.to_string()])
            .args(["--council-blogs", &o.council_blogs.to_string(), "--council-queries", &o.council_queries.to_string()])
            .args(["--load-secs", &o.load_secs.to_string(), "--load-readers", &o.load_readers.to_string(), "--load-writers", &o.load_writers.to_string()])
            .args(["--large-posts", &o.large_posts.to_string(), "--large-bytes", &o.large_bytes.to_string(), "--large-edits", &o.large_edits.to_string()])
            .args(["--attack-posts", &o.attack_posts.to_string(), "--attack-publishes", &o.attack_publishes.to_string()])
            .args(["--memory-blogs", &o.memory_blogs.to_string(), "--memory-posts", &o.memory_posts.to_string()])
            .args(o.app.iter().flat_map(|a| [std::ffi::OsStr::new("--app"), a.as_os_str()]))
            .args(o.nostr_relay.iter().flat_map(|a| [std::ffi::OsStr::new("--nostr-relay"), a.as_os_str()]))
            .args(o.nostr_python.iter().flat_map(|a| [std::ffi::OsStr::new("--nostr-python"), a.as_os_str()]))
            .stderr(std::process::Stdio::inherit())
            .output()
            .with_context(|| format!("run {name}"))?;
        if !output.status.success() {
            bail!("benchmark {name} failed ({})", output.status);
        }
        let mut v: Value = serde_json::from_slice(&output.stdout).with_context(|| format!("{name} printed no JSON"))?;
        v["wall_s"] = json!(t.elapsed().as_secs_f64());
        eprintln!("spokes-bench: {name}: {v}");
        results.insert(name.to_owned(), v);
    }
    let doc = json!({
        "format": "spokes-bench/1",
        "date": chrono::Utc::now().to_rfc3339(),
        "machine": machine(),
        "options": {"posts": o.posts, "revisions": o.revisions, "publishes": o.publishes, "signatures": o.signatures},
        "total_s": started.elapsed().as_secs_f64(),
        "results": results,
    });
    std::fs::write(out.join("results.json"), serde_json::to_string_pretty(&doc)? + "\n")?;
    std::fs::write(out.join("README.md"), phases::report(&doc))?;
    eprintln!("spokes-bench: wrote {} and {}", out.join("results.json").display(), out.join("README.md").display());
    Ok(())
}

fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|s| s.trim().to_owned()).unwrap_or_default();
    let mem = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib = mem.lines().find(|l| l.starts_with("MemTotal:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()).unwrap_or(0);
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "cpu_model": model,
        "memory_bytes": mem_kib * 1024,
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
    })
}
