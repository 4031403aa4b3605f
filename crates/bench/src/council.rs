//! The council benchmarks: council-wide search over 100 blogs on 10 spokes, and one spoke
//! under 1,000 concurrent readers while 50 writers sync.

use crate::Opts;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use spokes_core::doc::{BlogSettings, Post};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Initialises a spoke in `data` on fixed free ports (so its tickets and council entry name
/// them), pulling from the council every `council_secs`.
fn init_spoke(data: &Path, name: &str, council_secs: u64) -> Result<()> {
    let c = spoke::config::Config { name: name.into(), http: spokes_e2e::free_addr(), p2p: spokes_e2e::free_addr(), council: spoke::config::CouncilConfig { upstreams: vec![], interval_secs: council_secs, ..Default::default() }, ..Default::default() };
    spoke::init(data, &c)?;
    Ok(())
}

/// A new writer profile in `dir` (passphrase `bench`) that chose the spoke of `ticket`, with
/// `posts` published locally (not sent yet), and its unlocked key.
pub(crate) fn published_locally(dir: &Path, title: &str, ticket: &str, posts: &[Post]) -> Result<(spokes_writer::Profile, spokes_core::SigningKey)> {
    let mut profile = spokes_writer::Profile::create(dir, "Bench Writer", "bench", &BlogSettings { title: title.into(), ..Default::default() })?;
    let mut key = profile.unlock("bench")?;
    profile.add_spoke(ticket)?;
    for p in posts {
        profile.new_post(&p.title, &p.body, &p.tags)?;
    }
    profile.publish_local(&mut key, None)?;
    Ok((profile, key))
}

/// A writer profile with `posts` posts published to the spoke of `ticket`.
fn writer(rt: &tokio::runtime::Runtime, dir: &Path, title: &str, ticket: &str, posts: &[Post]) -> Result<spokes_writer::Profile> {
    let (profile, _) = published_locally(dir, title, ticket, posts)?;
    let summary = rt.block_on(profile.sync_with(&profile.targets()))?;
    if summary.up_to_date != 1 {
        bail!("{title} did not reach its spoke: {}", summary.sentence);
    }
    Ok(profile)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(10))).build().into()
}

/// A metric's value from a spoke's `/metrics` (on its operator's listener, `base`).
fn metric(agent: &ureq::Agent, base: &str, name: &str) -> Option<f64> {
    let text = agent.get(&format!("{base}/metrics")).call().ok()?.body_mut().read_to_string().ok()?;
    text.lines().find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

/// Words for queries: the corpus's words of 5 to 12 letters that occur in several posts, in a
/// fixed order.
fn query_words(posts: &[Post], n: usize) -> Vec<String> {
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for p in posts {
        let words: std::collections::BTreeSet<String> = p.body.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| (5..=12).contains(&w.len())).map(|w| w.to_ascii_lowercase()).collect();
        for w in words {
            *counts.entry(w).or_default() += 1;
        }
    }
    let mut words: Vec<(usize, String)> = counts.into_iter().filter(|(_, c)| *c >= 3).map(|(w, c)| (c, w)).collect();
    words.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    // Common and rare words alike: every k-th.
    let step = (words.len() / n.max(1)).max(1);
    words.into_iter().step_by(step).take(n).map(|(_, w)| w).collect()
}

/// 100 blogs (10 posts each from the Jekyll corpus) on 10 spokes in two tiers; council-wide
/// search over HTTP from every spoke, once every post reached every spoke.
pub fn council_search(o: &Opts) -> Result<Value> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let tmp = tempfile::tempdir()?;
    let n_spokes = 10;
    let n_blogs = o.council_blogs;
    let posts_per_blog = 10;
    let corpus = crate::phases::corpus_posts(&o.corpus)?;
    let datas: Vec<PathBuf> = (0..n_spokes).map(|i| tmp.path().join(format!("spoke{i}"))).collect();
    for (i, d) in datas.iter().enumerate() {
        init_spoke(d, &format!("spoke {i}"), 1)?;
    }
    // Tiers: spokes 8 and 9 aggregate (8 from 0–3, 9 from 4–7 and 8); the outer spokes 0–7
    // pull from 9.
    let ids: Vec<String> = datas.iter().map(|d| spoke::load(d).map(|(k, _)| k.public().to_string())).collect::<Result<_, _>>()?;
    for (i, d) in datas.iter().enumerate() {
        let ups: Vec<usize> = match i {
            8 => vec![0, 1, 2, 3],
            9 => vec![4, 5, 6, 7, 8],
            _ => vec![9],
        };
        let path = d.join("config.toml");
        let mut c = spoke::config::Config::load(&path)?;
        c.council.upstreams = ups.iter().map(|u| ids[*u].clone()).collect();
        c.save(&path)?;
    }
    let spokes = rt.block_on(async {
        let mut v = Vec::new();
        for d in &datas {
            v.push(spoke::start(d, spoke::Overrides { admin: Some(([127, 0, 0, 1], 0).into()), replicate_interval_secs: Some(3600), ..Default::default() }).await?);
        }
        // Each newcomer is proposed by the founder and approved by the other members until
        // more than half approved.
        for i in 1..n_spokes {
            let t = spoke::council_invite(&datas[0], 1, None)?;
            if let spoke::Joined::Waiting { .. } = spoke::council_join(&datas[i], &t, None).await? {
                for d in &datas[1..i] {
                    match spoke::council_approve(d, &ids[i]).await? {
                        spoke::Approved::Signed { needed: 0, .. } | spoke::Approved::AlreadyMember => break,
                        spoke::Approved::Signed { .. } => {}
                    }
                }
            }
        }
        anyhow::Ok(v)
    })?;
    let bases: Vec<String> = spokes.iter().map(|s| format!("http://{}", s.http_addr)).collect();
    let admins: Vec<String> = spokes.iter().map(|s| s.admin_addr.map(|a| format!("http://{a}")).unwrap_or_default()).collect();
    let started = Instant::now();
    for b in 0..n_blogs {
        let posts: Vec<Post> = (0..posts_per_blog).map(|k| corpus[(b * posts_per_blog + k) % corpus.len()].clone()).collect();
        let ticket = spokes[b % n_spokes].invite(1)?.encode();
        writer(&rt, &tmp.path().join(format!("writer{b}")), &format!("Blog {b}"), &ticket, &posts)?;
    }
    let published_s = started.elapsed().as_secs_f64();
    let total = (n_blogs * posts_per_blog) as f64;
    let agent = agent();
    let spread_started = Instant::now();
    let deadline = spread_started + Duration::from_secs(600);
    while !admins.iter().all(|b| metric(&agent, b, "spoke_search_posts") == Some(total)) {
        if Instant::now() > deadline {
            let seen: Vec<Option<f64>> = admins.iter().map(|b| metric(&agent, b, "spoke_search_posts")).collect();
            bail!("the council did not index every post within 10 minutes: {seen:?}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let spread_s = spread_started.elapsed().as_secs_f64();
    let words = query_words(&corpus, 100);
    let mut latencies = Vec::new();
    let mut hits = 0usize;
    for round in 0..o.council_queries {
        let base = &bases[round % bases.len()];
        let q = if round % 4 == 3 { format!("{}+{}", words[round % words.len()], words[(round * 7 + 1) % words.len()]) } else { words[round % words.len()].clone() };
        let t = Instant::now();
        let mut r = agent.get(&format!("{base}/api/v1/search?q={q}&limit=20")).call().with_context(|| format!("search {q}"))?;
        let body = r.body_mut().read_to_string()?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        if r.status().as_u16() != 200 {
            bail!("search {q} answered {}: {body}", r.status());
        }
        let v: Value = serde_json::from_str(&body)?;
        hits += v["results"].as_array().map_or(0, |a| a.len());
    }
    latencies.sort_by(f64::total_cmp);
    let p95 = crate::phases::pct(&latencies, 95);
    drop(spokes);
    Ok(json!({
        "spokes": n_spokes,
        "blogs": n_blogs,
        "posts": total,
        "queries": latencies.len(),
        "mean_results": hits as f64 / latencies.len().max(1) as f64,
        "publish_all_s": published_s,
        "spread_to_every_index_s": spread_s,
        "search_p50_ms": crate::phases::pct(&latencies, 50),
        "search_p95_ms": p95,
        "search_p99_ms": crate::phases::pct(&latencies, 99),
        "search_max_ms": latencies.last().copied().unwrap_or(f64::NAN),
        "goal": {"what": "council-wide search over 100 blogs on 10 spokes, p95 under 50 ms (over HTTP, from every spoke)", "met": p95 < 50.0},
    }))
}

/// What wrk printed: requests per second, latency percentiles (ms), and its error counts.
struct WrkRun {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    non_2xx: u64,
    socket_errors: u64,
}

fn run_wrk(url: &str, connections: usize, secs: u64) -> Result<WrkRun> {
    let out = std::process::Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{secs}s"), "--timeout", "10s", "--latency", url])
        .output()
        .context("run wrk (Debian package wrk; ./x bench installs it)")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    }
    let line = |prefix: &str| text.lines().map(str::trim).find_map(|l| l.strip_prefix(prefix)).map(str::to_owned);
    let rps = line("Requests/sec:").and_then(|v| v.trim().parse().ok()).context("wrk printed no Requests/sec")?;
    let p50_ms = line("50%").and_then(|v| crate::phases::wrk_ms(&v)).context("no 50% latency")?;
    let p99_ms = line("99%").and_then(|v| crate::phases::wrk_ms(&v)).context("no 99% latency")?;
    let requests = text.lines().find_map(|l| l.trim().split_once(" requests in ").and_then(|(n, _)| n.trim().parse().ok())).context("no request count")?;
    let non_2xx = line("Non-2xx or 3xx responses:").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    // "Socket errors: connect 0, read 0, write 0, timeout 0"
    let socket_errors = line("Socket errors:").map(|v| v.split(',').filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok()).sum()).unwrap_or(0);
    Ok(WrkRun { rps, p50_ms, p99_ms, requests, non_2xx, socket_errors })
}

/// One spoke on loopback: wrk keeps 1,000 connections of readers on a post page for
/// `--load-secs` while 50 writers each publish a new post and sync, again and again.
pub fn load(o: &Opts) -> Result<Value> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("spoke");
    init_spoke(&data, "load", 3600)?;
    let running = rt.block_on(spoke::start(&data, spoke::Overrides { no_admin: true, replicate_interval_secs: Some(3600), ..Default::default() }))?;
    let base = format!("http://{}", running.http_addr);
    let corpus = crate::phases::corpus_posts(&o.corpus)?;
    let writers_n = o.load_writers;
    let mut writers = Vec::new();
    for w in 0..writers_n {
        let ticket = running.invite(1)?.encode();
        writers.push(writer(&rt, &tmp.path().join(format!("writer{w}")), &format!("Writer {w}"), &ticket, &corpus[w % corpus.len()..w % corpus.len() + 1])?);
    }
    let blog = writers[0].blog_id().as_str().to_owned();
    let slug = writers[0].posts()?.first().context("no post")?.post.slug.clone();
    let url = format!("{base}/b/{blog}/posts/{slug}");
    let secs = o.load_secs;
    let stop = Instant::now() + Duration::from_secs(secs);
    // The writers, each in its own thread with its own runtime, as 50 separate apps would.
    let threads: Vec<std::thread::JoinHandle<(usize, usize, Vec<f64>)>> = writers
        .into_iter()
        .enumerate()
        .map(|(i, profile)| {
            std::thread::spawn(move || {
                let (mut ok, mut failed, mut times) = (0, 0, Vec::new());
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return (0, 1, times) };
                let Ok(mut key) = profile.unlock("bench") else { return (0, 1, times) };
                let mut n = 0;
                while Instant::now() < stop {
                    n += 1;
                    let t = Instant::now();
                    let r = (|| -> Result<bool> {
                        profile.new_post(&format!("Load post {i}.{n}"), "Written while a thousand readers read.", &[])?;
                        profile.publish_local(&mut key, None)?;
                        Ok(rt.block_on(profile.sync_with(&profile.targets()))?.up_to_date == 1)
                    })();
                    match r {
                        Ok(true) => {
                            ok += 1;
                            times.push(t.elapsed().as_secs_f64() * 1000.0);
                        }
                        _ => failed += 1,
                    }
                }
                (ok, failed, times)
            })
        })
        .collect();
    let readers = run_wrk(&url, o.load_readers, secs);
    let mut ok = 0;
    let mut failed = 0;
    let mut times = Vec::new();
    for t in threads {
        let (o, f, ts) = t.join().unwrap_or((0, 1, vec![]));
        ok += o;
        failed += f;
        times.extend(ts);
    }
    times.sort_by(f64::total_cmp);
    let readers = readers?;
    let errors = readers.non_2xx + readers.socket_errors + failed as u64;
    drop(running);
    Ok(json!({
        "readers": o.load_readers,
        "writers": writers_n,
        "seconds": secs,
        "reader_requests": readers.requests,
        "reader_rps": readers.rps,
        "reader_p50_ms": readers.p50_ms,
        "reader_p99_ms": readers.p99_ms,
        "reader_non_2xx": readers.non_2xx,
        "reader_socket_errors": readers.socket_errors,
        "writer_syncs_ok": ok,
        "writer_syncs_failed": failed,
        "writer_sync_p50_ms": crate::phases::pct(&times, 50),
        "writer_sync_p99_ms": crate::phases::pct(&times, 99),
        "goal": {"what": "1,000 concurrent readers while 50 writers sync, with no errors", "met": errors == 0 && ok > 0},
    }))
}

/// The council log (`spokes_sync::council::membership`) as councils grow, with the real
/// signing, verification and majority rule in one process (no network): councils of 50, 100
/// and 150 members formed by majority (the founder proposes each newcomer, members approve in
/// turn until more than half did). For each: the entries a join costs (signed messages), the
/// log's size, how long a newcomer (or a spoke starting) takes to verify and apply the whole
/// log given in hash order, how long the
/// members take to compute, and what an exchange sends once a member holds the log (the
/// entries after its heads) against the whole log, and what adding one entry costs. The log
/// holds at most
/// `MAX_ENTRIES` entries: the largest council it can hold is reported too.
pub fn council_log(_o: &Opts) -> Result<Value> {
    use spokes_sync::council::{Act, MAX_ENTRIES, MemberInfo, Membership, SignedEntry, consent};
    let bytes = |entries: &[SignedEntry]| entries.iter().map(|e| e.entry.len() + e.signature.len()).sum::<usize>();
    let mut sizes = Vec::new();
    for n in [50usize, 100, 150] {
        let keys: Vec<iroh::SecretKey> = (0..n).map(|_| iroh::SecretKey::generate()).collect();
        let info = |i: usize| MemberInfo { endpoint: keys[i].public().to_string(), addrs: vec![format!("10.0.{}.{}:7080", i / 250, i % 250 + 1)], web: format!("https://spoke{i}.example"), name: format!("Spoke {i}"), relay: None };
        let started = Instant::now();
        let mut m = Membership::found(&keys[0], info(0), 0);
        let mut join_costs = Vec::new();
        for i in 1..n {
            let id = m.id().context("founded")?.to_owned();
            let before = m.len();
            let join = m.sign(&keys[0], Act::Join { consent: consent(&keys[i], &id, &info(i)), member: info(i) }, i as i64)?.hash();
            let mut k = 1;
            while !m.is_member(&keys[i].public().to_string()) {
                m.sign(&keys[k], Act::Approve { join: join.clone() }, i as i64)?;
                k += 1;
            }
            join_costs.push(m.len() - before);
        }
        let build_s = started.elapsed().as_secs_f64();
        let entries = m.entries();
        // In hash order, as a spoke's database hands them over at a start.
        let mut by_hash = entries.clone();
        by_hash.sort_by_key(SignedEntry::hash);
        let started = Instant::now();
        let mut newcomer = Membership::new();
        let (taken, refused) = newcomer.merge(by_hash);
        let merge_s = started.elapsed().as_secs_f64();
        if taken != entries.len() || !refused.is_empty() || newcomer.members().len() != n {
            bail!("a newcomer took {taken} of {} entries ({} refused) and counts {} members", entries.len(), refused.len(), newcomer.members().len());
        }
        let started = Instant::now();
        let members = m.members().len();
        let members_ms = started.elapsed().as_secs_f64() * 1e3;
        // One more vote, as a member that held the log before it would be sent it.
        let heads = m.heads();
        let started = Instant::now();
        m.sign(&keys[1], Act::Remove { member: keys[2].public().to_string(), reason: "bench".into() }, 0)?;
        let add_entry_ms = started.elapsed().as_secs_f64() * 1e3;
        let delta = m.entries_since(&heads);
        let last = join_costs.last().copied().unwrap_or(0);
        sizes.push(json!({
            "members": members,
            "entries": entries.len(),
            "log_bytes": bytes(&entries),
            "entries_per_join_mean": join_costs.iter().sum::<usize>() as f64 / join_costs.len() as f64,
            "entries_last_join": last,
            "build_s": build_s,
            "newcomer_verify_and_apply_s": merge_s,
            "members_ms": members_ms,
            "add_entry_ms": add_entry_ms,
            "exchange_after_one_vote_bytes": bytes(&delta),
            "exchange_whole_log_bytes": bytes(&m.entries()),
        }));
    }
    // A council of n members formed this way holds n - 1 joins and, for the k-th newcomer,
    // floor(k / 2) approvals: about n²/4 entries.
    let mut largest = 1usize;
    let mut total = 1usize;
    while total + 1 + largest / 2 <= MAX_ENTRIES {
        total += 1 + largest / 2;
        largest += 1;
    }
    Ok(json!({ "sizes": sizes, "max_entries": MAX_ENTRIES, "largest_council_the_log_holds": largest, "seals": catalog_seals()? }))
}

/// What sealing catalogs costs (`council::evidence`): per exchange the responder seals its
/// catalog and the puller checks the seal; on a first exchange the puller cuts a signed offer
/// for every set blog. Catalogs of set blogs with one manifest each, as real ones list them.
fn catalog_seals() -> Result<Vec<Value>> {
    use spokes_sync::council::{Catalog, CatalogEntry};
    let key = iroh::SecretKey::generate();
    let by = key.public().to_string();
    let mut out = Vec::new();
    for n in [1_000usize, 10_000, 100_000] {
        let blogs: Vec<CatalogEntry> = (0..n)
            .map(|i| CatalogEntry { blog_id: format!("{i:032x}").parse().unwrap_or_else(|_| spokes_core::BlogId::generate()), heads: vec![], manifests: vec![data_encoding::HEXLOWER.encode(&spokes_core::merkle::sha256(&i.to_le_bytes()))], rev: 1 + (i % 50) as u64 })
            .collect();
        let mut catalog = Catalog { blogs, seal: None };
        let unsealed = serde_json::to_vec(&catalog)?.len();
        let started = Instant::now();
        catalog.seal(&key, "council", 1);
        let seal_ms = started.elapsed().as_secs_f64() * 1e3;
        let started = Instant::now();
        let sealed = catalog.check_seal(&by, "council")?.context("sealed")?;
        let check_ms = started.elapsed().as_secs_f64() * 1e3;
        let all: Vec<usize> = (0..n).collect();
        let started = Instant::now();
        let offers = sealed.offers(&catalog, &all);
        let offers_ms = started.elapsed().as_secs_f64() * 1e3;
        let offer_bytes = offers.iter().map(|o| serde_json::to_vec(o).map(|v| v.len()).unwrap_or(0)).max().unwrap_or(0);
        out.push(json!({
            "blogs": n,
            "seal_ms": seal_ms,
            "check_ms": check_ms,
            "offers_for_every_blog_ms": offers_ms,
            "offer_bytes": offer_bytes,
            "seal_bytes": serde_json::to_vec(&catalog)?.len() - unsealed,
        }));
    }
    Ok(out)
}
