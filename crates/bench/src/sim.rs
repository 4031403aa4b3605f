//! `council-sim`: a council of 5,000 spokes and 500,000 blogs, in process, with the real
//! placement ([`spokes_sync::council::placement`]), the real choice of upstreams
//! ([`spokes_sync::council::choose_upstreams`]) and the real admission rule
//! ([`spokes_sync::council::approvals_needed`], signed entries made by the real log).
//!
//! What it measures: copies per blog (the writer's 1-3 spokes plus the council copies, more for
//! popular blogs), council copies per spoke, what a member joining or dying moves, and how long
//! something offered by one spoke takes to reach all 5,000 through the tiers (each spoke pulls
//! from 3 upstreams every interval, at its own phase). No network: the times are intervals
//! and a per-hop cost, stated in the result.
//!
//! The council's newest posts are then passed through those same upstreams with the real
//! digest code ([`spokes_sync::council::digest`]: real signed items, checked, composed by
//! every one of the 5,000 spokes each round): rounds until the digests are full, until a new
//! post is in every spoke's digest, until it has left every digest once unpublished, and what
//! a digest weighs.

use anyhow::{Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use spokes_core::BlogId;
use spokes_sync::council::{self, MemberInfo, digest, placement};
use std::collections::{BTreeMap, BinaryHeap};
use std::time::Instant;

const SPOKES: usize = 5_000;
const BLOGS: usize = 500_000;
/// `[council] interval_secs`'s default.
const INTERVAL_S: f64 = 30.0;
/// One pull of one blog over the network: a sync session and a search commit (the council
/// end-to-end test's figure on loopback, rounded up).
const HOP_S: f64 = 0.5;
/// Origins of the propagation runs.
const ORIGINS: usize = 20;

fn pct(v: &mut [f64], p: usize) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() * p).div_ceil(100)).saturating_sub(1).min(v.len() - 1)]
}

fn summary(v: &[f64]) -> Value {
    let mut v = v.to_vec();
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    json!({"min": pct(&mut v, 0), "p50": pct(&mut v, 50), "mean": mean, "p99": pct(&mut v, 99), "max": pct(&mut v, 100)})
}

/// Reads a day of the blog at popularity rank `r` (0 is the most read): Zipf's law with
/// exponent 1, the top blog read 200,000 times a day.
fn reads(r: usize) -> u64 {
    200_000 / (r as u64 + 1)
}

pub fn council_sim() -> Result<Value> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(5_000);
    let members: Vec<String> = (0..SPOKES).map(|_| iroh::SecretKey::generate().public().to_string()).collect();
    let index: std::collections::HashMap<&str, u32> = members.iter().enumerate().map(|(i, m)| (m.as_str(), i as u32)).collect();
    let blogs: Vec<BlogId> = (0..BLOGS).map(|_| BlogId::generate()).collect();
    // The writer's spokes: one to three, by the writer's choice (random here).
    let homes: Vec<Vec<u32>> = (0..BLOGS).map(|_| (0..rng.random_range(1..=3usize)).map(|_| rng.random_range(0..SPOKES as u32)).collect()).collect();
    let base = placement::DEFAULT_COPIES;
    let max_copies = placement::copies_for(base, u64::MAX, placement::DEFAULT_POPULAR_READS);

    // Placement of every blog: the first `max_copies` members ranked for it, leaving out its
    // writer's spokes, with their scores (for joins).
    let placing = Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = BLOGS.div_ceil(threads);
    let placed: Vec<Vec<(u32, u64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (blogs, homes, members, index) = (&blogs, &homes, &members, &index);
                s.spawn(move || {
                    let range = t * chunk..((t + 1) * chunk).min(BLOGS);
                    range
                        .map(|b| {
                            let home = &homes[b];
                            let candidates = members.iter().enumerate().filter(|(i, _)| !home.contains(&(*i as u32))).map(|(_, m)| m.as_str());
                            placement::top(&blogs[b], candidates, max_copies).into_iter().map(|(m, s)| (index[m], s)).collect::<Vec<_>>()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    let placing_s = placing.elapsed().as_secs_f64();
    let per_blog_ms = placing_s * 1e3 * threads as f64 / BLOGS as f64;
    if placed.len() != BLOGS {
        anyhow::bail!("placement ended with {} blogs of {BLOGS}", placed.len());
    }

    // Copies: each blog's council copies by its reads.
    let want: Vec<usize> = (0..BLOGS).map(|b| placement::copies_for(base, reads(b), placement::DEFAULT_POPULAR_READS)).collect();
    let mut copies_per_blog = Vec::with_capacity(BLOGS);
    let mut council_copies = vec![0f64; SPOKES];
    let mut hosted = vec![0f64; SPOKES];
    for b in 0..BLOGS {
        let mut home = homes[b].clone();
        home.sort_unstable();
        home.dedup();
        for h in &home {
            hosted[*h as usize] += 1.0;
        }
        for (m, _) in &placed[b][..want[b]] {
            council_copies[*m as usize] += 1.0;
        }
        copies_per_blog.push((home.len() + want[b]) as f64);
    }
    let popular = want.iter().filter(|w| **w > base).count();
    let held: Vec<f64> = (0..SPOKES).map(|i| hosted[i] + council_copies[i]).collect();

    // A member joins: the blogs whose placed copies it enters, each pushed to it once by every
    // holder, and the member it displaces releases its copy after one session with each
    // placed member.
    let newcomer = iroh::SecretKey::generate().public().to_string();
    let mut moved = 0usize;
    let mut join_sessions = 0usize;
    for b in 0..BLOGS {
        let s = placement::score(&blogs[b], &newcomer);
        let last = placed[b][want[b] - 1];
        if s > last.1 || (s == last.1 && newcomer.as_str() < members[last.0 as usize].as_str()) {
            moved += 1;
            join_sessions += homes[b].len() + want[b] + want[b];
        }
    }
    // Admission: the proposer's join and approvals from more than half of the members, each a
    // signed log entry every member receives once.
    let (join_bytes, approve_bytes) = entry_sizes()?;
    let approvals = council::approvals_needed(SPOKES);
    let log_entries = approvals;
    let log_bytes = join_bytes + (approvals - 1) * approve_bytes;

    // A member dies: each blog it held as a council copy gets one at the next rank, pushed
    // by every remaining holder.
    let dead = rng.random_range(0..SPOKES as u32);
    let mut rebuilt = 0usize;
    let mut death_sessions = 0usize;
    for b in 0..BLOGS {
        if placed[b][..want[b]].iter().any(|(m, _)| *m == dead) {
            rebuilt += 1;
            death_sessions += homes[b].len() + want[b] - 1;
        }
    }

    // Tiers: each spoke pulls from the upstreams `choose_upstreams` picks, every interval at
    // its own phase; one pull that finds something new costs a hop.
    let tiering = Instant::now();
    let infos: BTreeMap<String, MemberInfo> = members.iter().map(|m| (m.clone(), MemberInfo { endpoint: m.clone(), addrs: vec!["10.0.0.1:7080".into()], web: String::new(), name: String::new(), relay: None })).collect();
    let chunk = SPOKES.div_ceil(threads);
    let ups: Vec<Vec<u32>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (infos, members, index) = (&infos, &members, &index);
                s.spawn(move || ((t * chunk)..((t + 1) * chunk).min(SPOKES)).map(|i| council::choose_upstreams(infos, &[], &members[i]).iter().map(|u| index[u.endpoint.as_str()]).collect::<Vec<u32>>()).collect::<Vec<_>>())
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    let upstreams_s = tiering.elapsed().as_secs_f64();
    if ups.len() != SPOKES {
        anyhow::bail!("upstreams chosen for {} spokes of {SPOKES}", ups.len());
    }
    let mut downstream: Vec<Vec<u32>> = vec![Vec::new(); SPOKES];
    for (s, us) in ups.iter().enumerate() {
        for u in us {
            downstream[*u as usize].push(s as u32);
        }
    }
    let pullers: Vec<f64> = downstream.iter().map(|d| d.len() as f64).collect();
    let phase: Vec<f64> = (0..SPOKES).map(|_| rng.random_range(0.0..INTERVAL_S)).collect();
    let mut all_reached = Vec::new();
    let mut half_reached = Vec::new();
    let mut hops_max = Vec::new();
    let mut unreached = 0usize;
    for _ in 0..ORIGINS {
        let origin = rng.random_range(0..SPOKES);
        let (at, hops) = spread(origin, &downstream, &phase);
        unreached += at.iter().filter(|t| t.is_infinite()).count();
        let mut reached: Vec<f64> = at.iter().copied().filter(|t| t.is_finite()).collect();
        all_reached.push(pct(&mut reached, 100));
        half_reached.push(pct(&mut reached, 50));
        hops_max.push(hops.iter().copied().filter(|h| *h != u32::MAX).max().unwrap_or(0) as f64);
    }

    Ok(json!({
        "spokes": SPOKES,
        "blogs": BLOGS,
        "base_copies": base,
        "popular_reads": placement::DEFAULT_POPULAR_READS,
        "copies_per_blog": summary(&copies_per_blog),
        "popular_blogs": popular,
        "council_copies_per_spoke": summary(&council_copies),
        "blogs_held_per_spoke": summary(&held),
        "placement_ms_per_blog": per_blog_ms,
        "placement_all_blogs_s": placing_s,
        "join": {
            "blogs_moved": moved,
            "sync_sessions": join_sessions,
            "log_entries": log_entries,
            "log_bytes_to_each_member": log_bytes,
            "log_bytes_all_members": log_bytes as u64 * SPOKES as u64,
        },
        "member_dies": {"copies_rebuilt": rebuilt, "sync_sessions": death_sessions},
        "tiers": {
            "fanout": council::DEFAULT_FANOUT,
            "pullers_per_spoke": summary(&pullers),
            "interval_s": INTERVAL_S,
            "hop_s": HOP_S,
            "origins": ORIGINS,
            "unreached": unreached,
            "hops_max": summary(&hops_max),
            "half_reached_s": summary(&half_reached),
            "all_reached_s": summary(&all_reached),
            "choose_upstreams_all_s": upstreams_s,
        },
        "digest": digest_rounds(&ups, &mut rng)?,
        "sim_s": started.elapsed().as_secs_f64(),
    }))
}

/// One blog for the digest rounds: its identity, manifest and post documents.
struct SimBlog {
    id: spokes_core::Identity,
    manifest: spokes_core::manifest::Manifest,
    docs: BTreeMap<String, Vec<u8>>,
}

impl SimBlog {
    fn new(name: &str) -> Result<SimBlog> {
        let id = spokes_core::Identity::generate(name, "pw")?;
        let (blog, salt) = BlogId::bound_to(&id.fingerprint());
        let settings = spokes_core::manifest::SiteSettings { blog: spokes_core::BlogSettings { title: name.into(), ..Default::default() }, spokes: vec![], owner: id.fingerprint(), blog_id_salt: salt };
        Ok(SimBlog { id, manifest: spokes_core::manifest::Manifest::new(blog, &settings), docs: BTreeMap::new() })
    }

    /// Publishes post `n` dated `date`; returns the signed manifest.
    fn publish(&mut self, n: usize, date: &str) -> Result<spokes_sync::set::SignedManifest> {
        let pid = format!("{n:016x}");
        let blog = self.manifest.blog_id.clone();
        let mut doc = spokes_core::postdoc::PostDoc::create(&blog, &pid, automerge::ActorId::random());
        doc.write(&spokes_core::postdoc::PostContent { title: format!("Post {n}"), body: "A paragraph of a few words, as a short post has.".repeat(8), tags: vec![] }, 1)?;
        let date = chrono::DateTime::parse_from_rfc3339(date)?;
        let mut m = self.manifest.next_revision();
        m.put_post(&pid, &format!("post-{n}"), date, date, &doc.heads());
        self.docs.insert(pid, doc.save());
        self.manifest = m;
        self.sign()
    }

    fn sign(&self) -> Result<spokes_sync::set::SignedManifest> {
        Ok(spokes_sync::set::SignedManifest::sign(self.manifest.clone(), &mut self.id.unlock("pw")?)?)
    }

    fn item(&self, signed: &spokes_sync::set::SignedManifest, n: usize) -> Result<std::sync::Arc<digest::CheckedItem>> {
        let pid = format!("{n:016x}");
        let item = digest::own_item(signed, &pid, &self.docs[&pid]).context("item")?;
        Ok(digest::check_own(item, &self.id.certificate(), &digest::Checked::new(), chrono::Utc::now().timestamp())?)
    }
}

/// The digest rounds (see the module docs). Each round every spoke composes its digest from
/// its own items and what its upstreams composed the round before: one round is one pull
/// interval at most.
fn digest_rounds(ups: &[Vec<u32>], rng: &mut StdRng) -> Result<Value> {
    use std::collections::HashMap;
    let n = ups.len();
    let now = chrono::Utc::now().timestamp();
    // Background: four blogs of 20 posts each on four spokes, older than what comes later.
    let mut own: Vec<Vec<digest::Candidate>> = vec![Vec::new(); n];
    for b in 0..4 {
        let mut blog = SimBlog::new(&format!("Background {b}"))?;
        let mut last = None;
        for p in 0..20 {
            last = Some(blog.publish(p, &format!("2026-0{}-{:02}T10:00:00Z", b + 1, p + 1))?);
        }
        let signed = last.context("posts")?;
        let holder = rng.random_range(0..n);
        for p in 0..20 {
            own[holder].push((blog.item(&signed, p)?, 0));
        }
    }
    let round = |state: &[digest::Composed], own: &[Vec<digest::Candidate>], own_headers: &[Vec<digest::HeaderCandidate>], held: &[HashMap<BlogId, u64>]| -> Vec<digest::Composed> {
        (0..n)
            .map(|s| {
                let mut c = own[s].clone();
                let mut h = own_headers[s].clone();
                for &u in &ups[s] {
                    c.extend(state[u as usize].items.iter().map(|(i, hops)| (i.clone(), hops + 1)));
                    h.extend(state[u as usize].headers.iter().map(|(i, hops)| (i.clone(), hops + 1)));
                }
                digest::compose(c, h, &held[s], now)
            })
            .collect()
    };
    let mut state: Vec<digest::Composed> = (0..n).map(|_| digest::Composed::default()).collect();
    let no_headers: Vec<Vec<digest::HeaderCandidate>> = vec![Vec::new(); n];
    let mut held: Vec<HashMap<BlogId, u64>> = vec![HashMap::new(); n];
    let composing = Instant::now();
    let mut rounds_full = None;
    let mut composes = 0usize;
    for r in 1..=64 {
        state = round(&state, &own, &no_headers, &held);
        composes += n;
        if state.iter().all(|c| c.items.len() == 80.min(digest::MAX_ITEMS)) {
            rounds_full = Some(r);
            break;
        }
    }
    // A new post on one spoke, newer than everything.
    let mut news = SimBlog::new("News")?;
    let signed = news.publish(0, "2026-11-01T10:00:00Z")?;
    let item = news.item(&signed, 0)?;
    let origin = rng.random_range(0..n);
    let blog = news.manifest.blog_id.clone();
    own[origin].push((item.clone(), 0));
    held[origin].insert(blog.clone(), signed.manifest.rev);
    let has = |c: &digest::Composed| c.items.iter().any(|(i, _)| i.item.blog_id == blog);
    let mut rounds_new = None;
    let mut reached_per_round = Vec::new();
    for r in 1..=64 {
        state = round(&state, &own, &no_headers, &held);
        composes += n;
        let reached = state.iter().filter(|c| has(c)).count();
        reached_per_round.push(reached);
        if reached == n {
            rounds_new = Some(r);
            break;
        }
    }
    let hops: Vec<f64> = state.iter().filter_map(|c| c.items.iter().find(|(i, _)| i.item.blog_id == blog).map(|(_, h)| *h as f64)).collect();
    let sizes: Vec<f64> = state.iter().step_by(50).map(|c| serde_json::to_vec(&c.digest()).map_or(0.0, |j| j.len() as f64)).collect();
    // Unpublished: the origin's newer header travels alone and the item leaves every digest.
    own[origin].retain(|(i, _)| i.item.blog_id != blog);
    news.manifest = news.manifest.next_revision();
    news.manifest.forget(&format!("{:016x}", 0));
    let gone = news.sign()?;
    held[origin].insert(blog.clone(), gone.manifest.rev);
    let head = digest::check_own_header(digest::own_header(&gone).context("header")?, &news.id.certificate(), now)?;
    let mut own_headers = no_headers.clone();
    own_headers[origin].push((head, 0));
    let mut rounds_gone = None;
    let mut left_per_round = Vec::new();
    for r in 1..=64 {
        state = round(&state, &own, &own_headers, &held);
        composes += n;
        let left = state.iter().filter(|c| has(c)).count();
        left_per_round.push(left);
        if left == 0 {
            rounds_gone = Some(r);
            break;
        }
    }
    let compose_us = composing.elapsed().as_secs_f64() * 1e6 / composes as f64;
    Ok(json!({
        "items_per_digest": digest::MAX_ITEMS,
        "background_posts": 80,
        "rounds_until_full": rounds_full,
        "new_post": {"rounds_until_every_spoke": rounds_new, "spokes_reached_per_round": reached_per_round, "hops": summary(&hops)},
        "unpublished": {"rounds_until_gone_everywhere": rounds_gone, "spokes_still_showing_per_round": left_per_round},
        "digest_bytes": summary(&sizes),
        "compose_us_per_spoke": compose_us,
        "interval_s": INTERVAL_S,
        "note": "synchronous rounds: every spoke pulls once per round from what its upstreams composed the round before, so a round is at most one pull interval"
    }))
}

/// When something one spoke (`origin`) holds from time 0 reaches each spoke, and in how many
/// pulls: spoke `s` takes it at the first pull (at `phase[s] + k·INTERVAL_S`) after one of its
/// upstreams holds it, [`HOP_S`] later. Dijkstra's algorithm: arrival times only grow along a
/// path.
fn spread(origin: usize, downstream: &[Vec<u32>], phase: &[f64]) -> (Vec<f64>, Vec<u32>) {
    #[derive(PartialEq)]
    struct At(f64, u32);
    impl Eq for At {}
    impl PartialOrd for At {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for At {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
        }
    }
    let n = downstream.len();
    let mut at = vec![f64::INFINITY; n];
    let mut hops = vec![u32::MAX; n];
    at[origin] = 0.0;
    hops[origin] = 0;
    let mut heap = BinaryHeap::from([At(0.0, origin as u32)]);
    while let Some(At(t, u)) = heap.pop() {
        let u = u as usize;
        if t > at[u] {
            continue;
        }
        for &s in &downstream[u] {
            let s = s as usize;
            let k = ((t - phase[s]) / INTERVAL_S).ceil().max(0.0);
            let arrive = phase[s] + k * INTERVAL_S + HOP_S;
            if arrive < at[s] {
                at[s] = arrive;
                hops[s] = hops[u] + 1;
                heap.push(At(arrive, s as u32));
            }
        }
    }
    (at, hops)
}

/// Bytes of a signed `join` and a signed `approve` entry, made by the real council log.
fn entry_sizes() -> Result<(usize, usize)> {
    use council::{Act, Membership, consent};
    let keys: Vec<iroh::SecretKey> = (0..3).map(|_| iroh::SecretKey::generate()).collect();
    let info = |i: usize| MemberInfo { endpoint: keys[i].public().to_string(), addrs: vec![format!("203.0.113.{}:7080", i + 1)], web: format!("https://spoke{i}.example"), name: format!("Spoke {i}"), relay: None };
    let mut m = Membership::found(&keys[0], info(0), 0);
    let id = m.id().context("founded")?.to_owned();
    m.sign(&keys[0], Act::Join { consent: consent(&keys[1], &id, &info(1)), member: info(1) }, 1)?;
    let join = m.sign(&keys[1], Act::Join { consent: consent(&keys[2], &id, &info(2)), member: info(2) }, 2)?;
    let approve = m.sign(&keys[0], Act::Approve { join: join.hash() }, 3)?;
    let size = |e: &council::SignedEntry| e.entry.len() + e.signature.len();
    Ok((size(&join), size(&approve)))
}
