//! `under-attack`: the author still publishes while strangers attack the spoke (the
//! hostile-peers issue).
//!
//! One `spoke` process of the dev build (as operators run it: default intervals and
//! allowances) hosts a writer's blog of `--attack-posts` posts. Two hostile peers
//! (`spokes_e2e::hostile`, real iroh endpoints speaking the real protocol) run attacks 1-6 in
//! a loop against it: a decompression bomb in the changes step and in a sync message (1),
//! the author's certificate inflated with 2,000 unbound user IDs (2), 200 malleated copies of
//! the author's statements (3), a stream of empty sessions for the author's blog (4), empty
//! sessions with a stranger's certificate for a fresh blog ID (5), and the author's whole
//! document offered again in the changes step (6). Meanwhile 100 readers fetch the blog's
//! home page and posts in a loop, and the author writes and publishes `--attack-publishes`
//! posts with `spokes publish`. Recorded: the author's publish p50 and p99 (until the command
//! returns with the post stored), every reader error, the attack sessions run and how the
//! spoke answered them, and the spoke's peak resident memory.

use crate::Opts;
use crate::phases::pct;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use spokes_e2e::SpokeProc;
use spokes_e2e::hostile::{self, HostilePeer};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn under_attack(work: &std::path::Path, o: &Opts) -> Result<Value> {
    let tmp = tempfile::tempdir_in(work)?;
    let pass = spokes_e2e::PASS;
    let mut spoke = SpokeProc::init(&tmp.path().join("spoke"), "Attacked spoke");
    let ticket = spoke.invite();
    spoke.start_with("spoke", &[], &[("SPOKE_LOG", "warn"), ("RUST_BACKTRACE", "0")]);
    let pid = spoke.pid().context("spoke pid")?;
    let w = tmp.path().join("writer");
    spokes_e2e::spokes_ok(&w, pass, &["init", "--name", "Bench Writer", "--title", "Under attack"]);
    spokes_e2e::spokes_ok(&w, pass, &["spoke", "add", &ticket]);
    let site = tmp.path().join("site");
    spokes_e2e::genblog::write_zola_site(&site, &spokes_e2e::genblog::Options { posts: o.attack_posts, markdown_bytes: o.attack_posts * 5_000, picture_every: 0, seed: 11 })?;
    spokes_e2e::spokes_ok(&w, pass, &["import", site.to_str().context("utf8")?]);
    spokes_e2e::spokes_ok(&w, pass, &["publish"]);
    let profile = spokes_writer::Profile::open(&w)?;
    let blog = profile.blog_id().as_str().to_owned();
    let cert = profile.certificate()?;
    let statements = profile.statements()?;
    let document = profile.blog()?.save();
    let (cert_armored, cert_binary) = (cert.to_armored(), cert.to_bytes());
    let stranger_blog = spokes_core::BlogId::generate().to_string();
    let stranger_cert = spokes_core::Identity::generate("Stranger", "pw")?.certificate().to_armored();

    // The attacks, one list of sessions per round.
    let bomb = spokes_core::expansion::compressed_change_bomb(1 << 30);
    let copies: Vec<_> = (0..200u32).flat_map(|i| statements.iter().map(move |s| hostile::malleated(s, i))).collect();
    let inflated = hostile::inflated_certificate(&cert_binary, 2_000);
    let round: Vec<(&str, Vec<spokes_sync::Frame>)> = vec![
        ("1 bomb in the changes step", vec![hostile::hello(&blog, Some(&[])), hostile::certificate(cert_armored.clone()), hostile::statements(&statements), hostile::changes(&bomb)]),
        ("1 bomb in a sync message", vec![hostile::hello(&blog, None), hostile::certificate(cert_armored.clone()), hostile::statements(&statements), hostile::sync_message(vec![bomb.clone()])]),
        ("2 inflated certificate", hostile::empty_session(&blog, inflated)),
        ("3 malleated statements", {
            let mut f = hostile::empty_session(&blog, cert_armored.clone());
            f[2] = hostile::statements(&copies);
            f
        }),
        ("4 empty session", hostile::empty_session(&blog, cert_armored.clone())),
        ("5 squatting", hostile::empty_session(&stranger_blog, stranger_cert)),
        ("6 the whole blog again", vec![hostile::hello(&blog, Some(&[])), hostile::certificate(cert_armored.clone()), hostile::statements(&statements), hostile::changes(&document)]),
    ];
    let round = Arc::new(round);
    let stop = Arc::new(AtomicBool::new(false));
    let answered: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let attack_sessions = Arc::new(AtomicU64::new(0));
    let attackers: Vec<_> = (0..2)
        .map(|_| {
            let (round, stop, answered, sessions, ticket) = (round.clone(), stop.clone(), answered.clone(), attack_sessions.clone(), ticket.clone());
            std::thread::spawn(move || {
                let peer = HostilePeer::new();
                while !stop.load(Ordering::Relaxed) {
                    for (_, frames) in round.iter() {
                        let a = peer.session(&ticket, frames.clone());
                        let code = a.refusal().map_or_else(|| "answered".to_owned(), |r| r.code.to_string());
                        *answered.lock().unwrap_or_else(|p| p.into_inner()).entry(code).or_default() += 1;
                        sessions.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    // 100 readers.
    let http = spoke.http;
    let (requests, errors) = (Arc::new(AtomicU64::new(0)), Arc::new(Mutex::new(Vec::<String>::new())));
    let readers: Vec<_> = (0..100)
        .map(|i| {
            let (stop, requests, errors, blog) = (stop.clone(), requests.clone(), errors.clone(), blog.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into();
                let paths = [format!("/b/{blog}/"), format!("/b/{blog}/feed.atom"), "/".to_owned(), format!("/api/v1/blogs/{blog}?limit=20")];
                let mut n = i;
                while !stop.load(Ordering::Relaxed) {
                    let path = &paths[n % paths.len()];
                    n += 1;
                    let failure = match agent.get(&format!("http://{http}{path}")).call() {
                        Ok(mut r) if r.status() == 200 => r.body_mut().read_to_vec().err().map(|e| e.to_string()),
                        Ok(r) => Some(r.status().to_string()),
                        Err(e) => Some(e.to_string()),
                    };
                    if let Some(f) = failure {
                        errors.lock().unwrap_or_else(|p| p.into_inner()).push(format!("{path}: {f}"));
                    }
                    requests.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    // The author publishes.
    std::thread::sleep(Duration::from_secs(2));
    let mut times = Vec::new();
    let mut failed = Vec::new();
    for i in 0..o.attack_publishes {
        spokes_e2e::spokes_ok(&w, pass, &["new", "--title", &format!("Written under attack {i}"), "--body", "Still here."]);
        let t = Instant::now();
        let out = spokes_e2e::spokes(&w, pass, &["publish"]);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() && said.contains("1 of 1") {
            times.push(ms);
        } else {
            failed.push(format!("{said}{}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in attackers.into_iter().chain(readers) {
        let _ = t.join();
    }
    let peak = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()))
        .unwrap_or(0)
        * 1024;
    let served = spoke.json(&format!("/api/v1/blogs/{blog}?limit=1"))["post_count"].as_u64().unwrap_or(0) as usize;
    if served != o.attack_posts + times.len() {
        bail!("the spoke serves {served} posts; the author published {} and {} under attack", o.attack_posts, times.len());
    }
    times.sort_by(f64::total_cmp);
    let errors = errors.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let met = failed.is_empty() && errors.is_empty() && peak < 300 << 20;
    Ok(json!({
        "posts": o.attack_posts,
        "attack_sessions": attack_sessions.load(Ordering::Relaxed),
        "attack_answers": *answered.lock().unwrap_or_else(|p| p.into_inner()),
        "attacks": round.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
        "publishes": o.attack_publishes,
        "publishes_failed": failed,
        "publish_p50_ms": pct(&times, 50),
        "publish_p99_ms": pct(&times, 99),
        "readers": 100,
        "reader_requests": requests.load(Ordering::Relaxed),
        "reader_errors": errors.len(),
        "reader_error_examples": errors.iter().take(5).collect::<Vec<_>>(),
        "spoke_peak_rss_bytes": peak,
        "build": "the spoke and spokes programs of the dev build (./x app, ./x test)",
        "goal": {"what": "under attacks 1-6 in a loop, every publish of the author succeeds, 100 concurrent readers see no error, the spoke stays under 300 MB", "met": met},
    }))
}
