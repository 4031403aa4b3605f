//! `set-blog`: documents per post (`spokes upgrade`, `spokes/sync/2`) on the path a writer
//! takes, in the build `./x test` makes. The generated blog of `large-blog` (`--large-posts`,
//! `--large-bytes`) is imported and published with the `spokes` CLI to three fresh `spoke`
//! processes on loopback as a version 1 blog document (the writer's app held at version 1,
//! `SPOKES_WRITER_LAYOUT=1`, as an app from before documents per post made it), then moved
//! with `spokes upgrade` by the updated program (the clock stops when the command is done and
//! every spoke serves version 2). Then one post is edited and published
//! `--large-edits` times through the library (as the app does): the time until every spoke has
//! stored and verified it, until it is readable on all three, and the bytes sent to each
//! spoke (UDP payload of the session's connection: QUIC, TLS and all). Then one post is
//! unpublished: the time until no spoke serves it. Then a fourth, new spoke is added and the
//! writer's first session sends it the whole blog (Markdown bytes per second of that session).
//! Last, the whole set is read from the writer's files and verified as a spoke does at start
//! (changes checked per second).

use crate::Opts;
use crate::phases::pct;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use spokes_e2e::SpokeProc;
use std::time::{Duration, Instant};

/// Polls `url` until `done` holds for (status, body), or `limit` passes.
pub(crate) fn wait(agent: &ureq::Agent, url: &str, limit: Duration, done: impl Fn(u16, &str) -> bool) -> Option<Instant> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if let Ok(mut r) = agent.get(url).call() {
            let status = r.status().as_u16();
            let body = r.body_mut().read_to_string().unwrap_or_default();
            if done(status, &body) {
                return Some(Instant::now());
            }
        }
        // Every 2 ms at first (a later publish is readable within milliseconds), then about
        // 1% of the time waited, up to 50 ms: pollers of a first publish that takes seconds
        // would otherwise load the spokes they measure (six of them asked 3,000 times a second).
        std::thread::sleep((t0.elapsed() / 100).clamp(Duration::from_millis(2), Duration::from_millis(50)));
    }
    None
}

pub fn set_blog(work: &std::path::Path, o: &Opts) -> Result<Value> {
    let tmp = tempfile::tempdir_in(work)?;
    let site = tmp.path().join("old-blog");
    let generated = spokes_e2e::genblog::write_zola_site(&site, &spokes_e2e::genblog::Options { posts: o.large_posts, markdown_bytes: o.large_bytes, ..Default::default() })?;
    let (spokes, w, blog) = crate::large::three_spokes_and_a_writer(tmp.path())?;
    let pass = spokes_e2e::PASS;
    // Made and published as a writer's app from before documents per post would.
    spokes_e2e::hold_version_1(tmp.path());
    spokes_e2e::spokes_ok(&w, pass, &["import", site.to_str().context("utf8")?]);
    spokes_e2e::spokes_ok(&w, pass, &["publish"]);
    if spokes_writer::Profile::open(&w)?.is_set() {
        bail!("the blog was not published as a version 1 document");
    }
    spokes_e2e::release_version_1(tmp.path());

    // The upgrade: the command, then every spoke serving version 2.
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(30))).build().into();
    let t0 = Instant::now();
    let out = spokes_e2e::spokes_ok(&w, pass, &["upgrade"]);
    let upgrade_command_s = t0.elapsed().as_secs_f64();
    if !out.contains("Published to 3 of 3 spokes") {
        bail!("the upgrade did not reach every spoke: {out}");
    }
    let blog_id: spokes_core::BlogId = blog.parse()?;
    for s in &spokes {
        let store = spoke::store::Store::open(&s.data.join("spoke.db"))?;
        if store.blog(&blog_id)?.is_none_or(|b| b.format != 2) {
            bail!("{} does not hold the blog as a set of documents", s.http);
        }
        let n = s.json(&format!("/api/v1/blogs/{blog}"))["posts"].as_array().map_or(0, Vec::len);
        if n != generated.len() {
            bail!("{} serves {n} posts of {}", s.http, generated.len());
        }
    }
    let upgrade_s = t0.elapsed().as_secs_f64();

    // One post edited and published again, through the library.
    let profile = spokes_writer::Profile::open(&w)?;
    let mut key = profile.unlock(pass)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let pool = rt.block_on(profile.connection_pool())?;
    let targets = profile.targets();
    let first = generated.first().context("posts")?;
    let post = profile.posts()?.into_iter().find(|s| s.post.title == first.title).context("the first post")?.post;
    let original = post.body.clone();
    let (mut stored, mut visible, mut bytes, mut steps) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..o.large_edits {
        let marker = format!("Edited for the {i}th time.");
        let mut p = post.clone();
        p.body = format!("{marker}\n\n{original}");
        profile.update_post(&p)?;
        let t0 = Instant::now();
        profile.publish_local(&mut key, Some(std::slice::from_ref(&p.id)))?;
        let t_local = t0.elapsed();
        profile.sign_set(&mut key, chrono::Utc::now().fixed_offset())?;
        let t_signed = t0.elapsed();
        let summary = rt.block_on(profile.sync_with_pool(&pool, &targets))?;
        let t_stored = t0.elapsed();
        steps.push([t_local, t_signed - t_local, t_stored - t_signed].map(|d| d.as_secs_f64() * 1000.0));
        if summary.up_to_date != spokes.len() {
            bail!("edit {i} reached {} of {} spokes: {}", summary.up_to_date, spokes.len(), summary.sentence);
        }
        let ready: Vec<Option<Instant>> = spokes.iter().map(|s| wait(&agent, &format!("http://{}/b/{blog}/posts/{}", s.http, p.slug), Duration::from_secs(10), |c, b| c == 200 && b.contains(&marker))).collect();
        let Some(all) = ready.iter().copied().collect::<Option<Vec<Instant>>>() else { bail!("edit {i} never became readable on every spoke") };
        stored.push(t_stored.as_secs_f64() * 1000.0);
        visible.push(all.iter().max().map(|r| r.duration_since(t0).as_secs_f64() * 1000.0).unwrap_or(f64::MAX));
        bytes.extend(summary.spokes.iter().filter_map(|s| s.last_bytes_sent).map(|b| b as f64));
    }

    // One post taken back: until no spoke serves it.
    let last = generated.last().context("posts")?;
    let gone = profile.posts()?.into_iter().find(|s| s.post.title == last.title).context("the last post")?.post;
    let t0 = Instant::now();
    profile.unpublish(&mut key, &gone.id)?;
    profile.sign_set(&mut key, chrono::Utc::now().fixed_offset())?;
    rt.block_on(profile.sync_with_pool(&pool, &targets))?;
    let removed: Vec<Option<Instant>> = spokes.iter().map(|s| wait(&agent, &format!("http://{}/b/{blog}/posts/{}", s.http, gone.slug), Duration::from_secs(10), |c, _| c == 404)).collect();
    let Some(removed) = removed.iter().copied().collect::<Option<Vec<Instant>>>() else { bail!("the unpublished post is still served") };
    let forget_ms = removed.iter().max().map(|r| r.duration_since(t0).as_secs_f64() * 1000.0).unwrap_or(f64::MAX);

    // A fourth, new spoke takes the whole blog: the writer's first session with it.
    let mut fresh = SpokeProc::init(&tmp.path().join("spoke-new"), "New spoke");
    let ticket = fresh.invite();
    fresh.start_with("spoke", &[], &crate::large::QUIET);
    let mut adding = spokes_writer::Profile::open(&w)?;
    let entry = adding.add_spoke(&ticket)?;
    let target = adding.targets().into_iter().find(|t| t.endpoint == entry.endpoint).context("the new spoke")?;
    let t0 = Instant::now();
    let first = rt.block_on(adding.sync_with_pool(&pool, std::slice::from_ref(&target)))?;
    let new_spoke_s = t0.elapsed().as_secs_f64();
    if first.up_to_date != 1 {
        bail!("the new spoke did not take the blog: {}", first.sentence);
    }
    let served = fresh.json(&format!("/api/v1/blogs/{blog}"))["posts"].as_array().map_or(0, Vec::len);
    if served + 1 != generated.len() {
        bail!("the new spoke serves {served} posts of {}", generated.len() - 1);
    }
    let new_spoke_bytes = first.spokes.iter().find_map(|s| s.last_bytes_sent).unwrap_or(0);
    rt.block_on(pool.close());
    drop(fresh);
    drop(spokes);

    // Whole-set verification, as a spoke does when it holds no verified view of a blog: every
    // manifest of the frontier and every live post document against the certificate, the
    // documents read from the writer's files (the bytes a spoke stores) and loaded on every
    // core as a spoke loads the documents it stored (`load_checked_posts`: their expansion
    // was checked when they arrived).
    let t0 = Instant::now();
    let cert = profile.certificate()?;
    let file: Value = serde_json::from_slice(&std::fs::read(w.join("set/manifests.json"))?)?;
    // The manifests are kept as differences from an anchor, which is read and checked first.
    let anchor = match file["anchor"].as_str() {
        Some(h) => Some(serde_json::from_slice::<spokes_sync::set::StoredManifest>(&std::fs::read(w.join(format!("set/anchor-{h}.json")))?)?.open(&cert, &blog_id)?),
        None => None,
    };
    let frontier = file["frontier"].as_array().context("frontier")?.iter().map(|m| Ok(serde_json::from_value::<spokes_sync::set::StoredManifest>(m.clone())?.open_on(&cert, &blog_id, anchor.as_ref())?)).collect::<Result<Vec<_>>>()?;
    let mut replica = spokes_sync::set::SetReplica { blog_id: blog_id.clone(), certificate: Some(cert), frontier, recent: vec![], posts: Default::default(), rejected: None };
    let mut files = Vec::new();
    for f in std::fs::read_dir(w.join("set/posts"))? {
        let path = f?.path();
        let id = path.file_stem().and_then(|s| s.to_str()).context("post file")?.to_owned();
        files.push((id, std::fs::read(&path)?));
    }
    let saved: Vec<(&str, &[u8])> = files.iter().map(|(id, b)| (id.as_str(), b.as_slice())).collect();
    replica.posts = spokes_sync::set::load_checked_posts(&blog_id, &saved).map_err(|(id, e)| anyhow::anyhow!("post {id}: {e}"))?;
    let loaded_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let verified = spokes_sync::set::VerifiedSet::verify(replica, &mut |_: &str| None).map_err(|b| anyhow::anyhow!("the set does not verify: {}", b.1.message))?;
    let verify_s = t1.elapsed().as_secs_f64();
    let changes = verified.changes();
    let step = |i: usize| {
        let mut v: Vec<f64> = steps.iter().map(|s: &[f64; 3]| s[i]).collect();
        v.sort_by(f64::total_cmp);
        pct(&v, 50)
    };
    let (local_p50, sign_p50, sync_p50) = (step(0), step(1), step(2));
    for v in [&mut stored, &mut visible, &mut bytes] {
        v.sort_by(f64::total_cmp);
    }
    let (visible_p50, bytes_p50) = (pct(&visible, 50), pct(&bytes, 50));
    let markdown: usize = generated.iter().map(|p| p.bytes).sum();
    let new_spoke_mb_s = markdown as f64 / new_spoke_s / 1e6;
    let verify_per_s = changes as f64 / (loaded_s + verify_s);
    let goals = json!({
        "later_readable": {"what": "publish one edited post to 3 spokes, p50 until readable on all: under 10 ms", "met": visible_p50 < 10.0},
        "later_bytes": {"what": "bytes sent per spoke for one edited post: under 20 KB", "met": bytes_p50 < 20_000.0},
        "new_spoke": {"what": "a new spoke receives the whole blog on loopback: at least 20 MB/s (of Markdown)", "met": new_spoke_mb_s >= 20.0},
        "verification": {"what": "whole-set verification (read and check): above 20,000 revisions/s", "met": verify_per_s > 20_000.0},
    });
    let all_met = goals.as_object().is_some_and(|g| g.values().all(|v| v["met"] == true));
    Ok(json!({
        "posts": generated.len(),
        "markdown_bytes": markdown,
        "build": "the spoke and spokes programs of the dev build; later publishes through the library in this process (its connection pool: one connection per spoke, kept between publishes; the first publish dials)",
        "upgrade_command_s": upgrade_command_s,
        "upgrade_s": upgrade_s,
        "later_publishes": stored.len(),
        "later_stored_p50_ms": pct(&stored, 50),
        "later_stored_p99_ms": pct(&stored, 99),
        "later_publish_local_p50_ms": local_p50,
        "later_sign_p50_ms": sign_p50,
        "later_sync_p50_ms": sync_p50,
        "later_readable_p50_ms": visible_p50,
        "later_readable_p99_ms": pct(&visible, 99),
        "later_bytes_per_spoke_p50": bytes_p50,
        "later_bytes_per_spoke_max": bytes.last().copied().unwrap_or(0.0),
        "unpublish_gone_everywhere_ms": forget_ms,
        "new_spoke_s": new_spoke_s,
        "new_spoke_bytes_sent": new_spoke_bytes,
        "new_spoke_markdown_mb_per_s": new_spoke_mb_s,
        "verify_changes": changes,
        "verify_read_s": loaded_s,
        "verify_check_s": verify_s,
        "verify_changes_per_s": verify_per_s,
        "goals": goals,
        "goal": {"what": "the sync-by-difference goals of the documents-per-post issue", "met": all_met},
    }))
}
