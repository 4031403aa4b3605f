//! The benchmarks themselves. Each returns one JSON object of figures (times in milliseconds
//! or seconds as named, sizes in bytes, rates per second).

use crate::Opts;
use anyhow::{Context, Result, bail};
use automerge::{AutoCommit, ChangeHash, ReadDoc, transaction::Transactable};
use serde_json::{Value, json};
use spokes_core::doc::{BlogDoc, BlogId, BlogSettings, DocKind, Post};
use spokes_core::identity::{Certificate, Identity};
use spokes_core::statement::{SignedStatement, Statement};
use std::path::Path;
use std::time::{Duration, Instant};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Percentile `p` (0..=100) of sorted `v`, nearest rank.
pub(crate) fn pct(v: &[f64], p: usize) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = (v.len() * p).div_ceil(100).clamp(1, v.len());
    v[rank - 1]
}

/// One edit of the trace: delete `del` UTF-16 code units at `pos`, then insert `ins` there.
struct Edit {
    pos: usize,
    del: usize,
    ins: String,
}

/// Decodes the automerge-perf trace into positional edits, one per text operation.
///
/// Replaying changes through Automerge and reading patches costs O(document) per change, so
/// the trace is decoded from its operations instead: the RGA order of every element ever
/// inserted (pre-order over "inserted after" links, siblings by descending op ID, as Automerge
/// orders them) gives each element a rank, and a Fenwick tree over ranks turns each insert or
/// delete into a UTF-16 position in O(log n). The result is checked against the trace's own
/// final text by the caller. Returns the edits and that final text.
fn trace_edits(path: &Path, limit: usize) -> Result<(Vec<Edit>, String)> {
    use automerge::legacy::{ElementId, Key, ObjectId, OpId, OpType};
    use std::collections::HashMap;
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let mut full = AutoCommit::load(&bytes).context("load the trace")?;
    let text_obj = full
        .map_range(automerge::ROOT, ..)
        .find(|item| matches!(item.value, automerge::ValueRef::Object(automerge::ObjType::Text)))
        .map(|item| item.id())
        .context("the trace has no text object at its root")?;
    let mut changes = full.get_changes(&[]);
    let expected = if changes.len() > limit {
        changes.truncate(limit);
        let last = changes.last().map(|c| c.hash()).into_iter().collect::<Vec<_>>();
        full.fork_at(&last)?.text(&text_obj)?
    } else {
        full.text(&text_obj)?
    };

    enum Op {
        Insert { id: OpId, after: Option<OpId>, text: String },
        Delete { target: OpId },
    }
    let mut ops = Vec::new();
    for c in changes {
        let ex = c.decode();
        for (i, op) in ex.operations.iter().enumerate() {
            if matches!(op.obj, ObjectId::Root) {
                continue;
            }
            let id = OpId(ex.start_op.get() + i as u64, ex.actor_id.clone());
            let elem = match &op.key {
                Key::Seq(ElementId::Id(e)) => Some(e.clone()),
                Key::Seq(ElementId::Head) => None,
                Key::Map(_) => continue,
            };
            match (&op.action, op.insert) {
                (OpType::Put(v), true) => {
                    let text = match v {
                        automerge::ScalarValue::Str(s) => s.to_string(),
                        other => other.to_string(),
                    };
                    ops.push(Op::Insert { id, after: elem, text })
                }
                (OpType::Delete, false) => ops.push(Op::Delete { target: elem.context("delete of the list head")? }),
                _ => bail!("unexpected operation in the trace: {:?}", op.action),
            }
        }
    }
    // RGA order of all elements, deleted ones included.
    let mut children: HashMap<Option<OpId>, Vec<OpId>> = HashMap::new();
    let mut widths: HashMap<OpId, (usize, String)> = HashMap::new();
    for op in &ops {
        if let Op::Insert { id, after, text } = op {
            children.entry(after.clone()).or_default().push(id.clone());
            widths.insert(id.clone(), (text.encode_utf16().count(), text.clone()));
        }
    }
    for v in children.values_mut() {
        v.sort_by(|a, b| (b.0, &b.1).cmp(&(a.0, &a.1)));
    }
    let mut rank: HashMap<OpId, usize> = HashMap::with_capacity(widths.len());
    let mut stack: Vec<OpId> = children.get(&None).map(|v| v.iter().rev().cloned().collect()).unwrap_or_default();
    while let Some(id) = stack.pop() {
        rank.insert(id.clone(), rank.len() + 1);
        if let Some(kids) = children.get(&Some(id)) {
            stack.extend(kids.iter().rev().cloned());
        }
    }
    // Fenwick tree of visible UTF-16 widths by rank.
    let n = rank.len();
    let mut tree = vec![0i64; n + 1];
    let add = |tree: &mut Vec<i64>, mut i: usize, d: i64| {
        while i <= n {
            tree[i] += d;
            i += i & i.wrapping_neg();
        }
    };
    let prefix = |tree: &Vec<i64>, mut i: usize| {
        let mut s = 0;
        while i > 0 {
            s += tree[i];
            i -= i & i.wrapping_neg();
        }
        s as usize
    };
    let mut edits = Vec::with_capacity(ops.len());
    for op in ops {
        match op {
            Op::Insert { id, text, .. } => {
                let r = rank[&id];
                edits.push(Edit { pos: prefix(&tree, r - 1), del: 0, ins: text });
                add(&mut tree, r, widths[&id].0 as i64);
            }
            Op::Delete { target } => {
                let r = *rank.get(&target).context("delete of an unknown element")?;
                let w = widths[&target].0;
                edits.push(Edit { pos: prefix(&tree, r - 1), del: w, ins: String::new() });
                add(&mut tree, r, -(w as i64));
            }
        }
    }
    Ok((edits, expected))
}

/// Keystrokes per autosave in the editing replay. The app saves 700 ms after typing pauses and
/// at least once a second while it goes on (`ui/src/autosave.ts`); at a fast typist's 10
/// keystrokes a second with no pauses, that is one save per 10 keystrokes. Real typing pauses,
/// so real saves carry more keystrokes and cost less than this.
pub const EDITS_PER_AUTOSAVE: usize = 10;

/// The editing trace through the writer's own text path, as the app runs it: the keystrokes of
/// each autosave go to `Profile::edit_post` as the editor's splices (one per keystroke, UTF-16
/// units, with the editor's length as a check), which folds adjacent ones, applies them as one
/// change to the drafts document and appends that change to disk.
pub fn editing(o: &Opts) -> Result<Value> {
    use spokes_core::edit::{Splice, utf16_len};
    let t = Instant::now();
    let (edits, expected) = trace_edits(&o.corpus.join("automerge-perf/text-doc.amrg"), o.trace_limit)?;
    let decode = t.elapsed();
    let splices: Vec<Splice> = edits.iter().map(|e| Splice { pos: e.pos, delete: e.del, insert: e.ins.clone() }).collect();

    let dir = tempfile::tempdir()?;
    let profile = spokes_writer::Profile::create(dir.path(), "Bench", "bench passphrase", &BlogSettings { title: "Bench".into(), ..Default::default() })?;
    let post = profile.new_post("The trace", "", &[])?;
    let t = Instant::now();
    let mut len = 0usize;
    let (mut saves, mut applied) = (0usize, 0usize);
    for (i, batch) in splices.chunks(EDITS_PER_AUTOSAVE).enumerate() {
        if i % 5_000 == 0 {
            eprintln!("  replay: {} edits in {:.1} s", i * EDITS_PER_AUTOSAVE, t.elapsed().as_secs_f64());
        }
        for s in batch {
            len = len + utf16_len(&s.insert) - s.delete;
        }
        applied += profile.edit_post(&post.id, None, batch, Some(len))?;
        saves += 1;
    }
    let replay = t.elapsed();
    let doc = |ext: &str| dir.path().join(format!("drafts/posts/{}.{ext}", post.id));
    let files = [doc("automerge"), doc("automerge.log")].iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum::<u64>();
    let body = profile.draft(&post.id)?.map(|p| p.body).unwrap_or_default();
    if body != expected {
        bail!("replayed text differs from the trace's final text ({} vs {} chars)", body.len(), expected.len());
    }
    let t = Instant::now();
    let reopened = spokes_writer::Profile::open(dir.path())?;
    let reopened_body = reopened.draft(&post.id)?.map(|p| p.body).unwrap_or_default();
    let reopen = t.elapsed();
    if reopened_body != expected {
        bail!("the text read back from disk differs from the trace's final text");
    }
    let t = Instant::now();
    profile.compact()?;
    let compact = t.elapsed();
    let compacted = std::fs::metadata(doc("automerge")).map(|m| m.len()).unwrap_or(0);

    // For comparison: every keystroke its own change (in memory, no disk), and Automerge's own
    // splice rate with no commits at all (the ceiling for this trace).
    let mut drafts = BlogDoc::create(DocKind::Drafts, &BlogId::generate(), "bench", &BlogSettings::default());
    let p = Post::new("The trace", "");
    drafts.put_post(&p)?;
    drafts.commit("new post");
    let t = Instant::now();
    for e in &edits {
        drafts.splice_body(&p.id, e.pos, e.del as isize, &e.ins)?;
        drafts.commit("edit");
    }
    let per_keystroke = t.elapsed();
    let raw = || -> Result<Duration> {
        let mut d = BlogDoc::create(DocKind::Drafts, &BlogId::generate(), "bench", &BlogSettings::default());
        d.put_post(&p)?;
        d.commit("new post");
        let am = d.automerge();
        let posts = am.get(automerge::ROOT, "posts")?.context("posts")?.1;
        let po = am.get(&posts, p.id.as_str())?.context("post")?.1;
        let body = am.get(&po, "body")?.context("body")?.1;
        let t = Instant::now();
        for e in &edits {
            am.splice_text(&body, e.pos, e.del as isize, &e.ins)?;
        }
        Ok(t.elapsed())
    };
    let raw_splices = raw()?;
    Ok(json!({
        "edits": edits.len(),
        "final_chars": expected.chars().count(),
        "trace_decode_s": decode.as_secs_f64(),
        "replay_s": replay.as_secs_f64(),
        "edits_per_s": edits.len() as f64 / replay.as_secs_f64(),
        "edits_per_autosave": EDITS_PER_AUTOSAVE,
        "autosaves": saves,
        "splices_after_folding": applied,
        "saved_bytes": files,
        "saved_bytes_compacted": compacted,
        "compact_ms": ms(compact),
        "reopen_ms": ms(reopen),
        "change_per_keystroke_in_memory_s": per_keystroke.as_secs_f64(),
        "raw_automerge_splices_s": raw_splices.as_secs_f64(),
        "goal": {"what": "replay under 10 s", "met": replay.as_secs_f64() < 10.0},
    }))
}

pub(crate) fn corpus_posts(corpus: &Path) -> Result<Vec<Post>> {
    let dir = corpus.join("jekyll-posts");
    let mut files: Vec<_> = std::fs::read_dir(&dir).with_context(|| format!("read {}", dir.display()))?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "md" || e == "markdown")).collect();
    files.sort();
    let posts: Vec<Post> = files.iter().filter_map(|f| spokes_writer::import::import_file(f).ok().map(|i| i.post)).collect();
    if posts.is_empty() {
        bail!("no posts in {}", dir.display());
    }
    Ok(posts)
}

/// Builds the large blog (Jekyll bodies reused, each revision signed) into `work`.
pub fn docs_build(work: &Path, o: &Opts) -> Result<Value> {
    if o.revisions < o.posts {
        bail!("--revisions must be at least --posts");
    }
    let source = corpus_posts(&o.corpus)?;
    let id = Identity::generate("Bench Writer", "bench")?;
    let mut key = id.unlock("bench")?;
    let cert = id.certificate();
    let (blog_id, mut blog) = BlogDoc::create_blog(&cert.fingerprint(), &BlogSettings { title: "Bench".into(), ..Default::default() });
    let mut statements: Vec<SignedStatement> = Vec::with_capacity(o.revisions + 1);
    let mut sign_time = Duration::ZERO;
    let mut sign = |blog: &mut BlogDoc, statements: &mut Vec<SignedStatement>| -> Result<()> {
        let t = Instant::now();
        statements.push(Statement::new(blog_id.clone(), &blog.heads()).sign(&mut key)?);
        sign_time += t.elapsed();
        Ok(())
    };
    sign(&mut blog, &mut statements)?;
    let t = Instant::now();
    let mut ids = Vec::with_capacity(o.posts);
    for i in 0..o.posts {
        let s = &source[i % source.len()];
        let mut p = Post::new(&format!("{} ({})", s.title, i), &s.body);
        p.slug = format!("{}-{i}", s.slug);
        p.date = s.date;
        p.state = spokes_core::PostState::Published;
        blog.put_post(&p)?;
        blog.commit("publish 1 post");
        sign(&mut blog, &mut statements)?;
        ids.push(p.id);
    }
    let mut lens: Vec<usize> = ids.iter().map(|id| blog.post(id).map(|p| p.body.encode_utf16().count()).unwrap_or(0)).collect();
    for r in o.posts..o.revisions {
        let i = rand::random_range(0..ids.len());
        let add = format!(" Revised ({r}).");
        blog.splice_body(&ids[i], lens[i], 0, &add)?;
        lens[i] += add.encode_utf16().count();
        blog.commit("publish 1 post");
        sign(&mut blog, &mut statements)?;
    }
    let build = t.elapsed();
    let bytes = blog.save();
    std::fs::write(work.join("blog.automerge"), &bytes)?;
    std::fs::write(work.join("statements.json"), serde_json::to_vec(&statements)?)?;
    std::fs::write(work.join("certificate.asc"), cert.to_armored())?;
    std::fs::write(work.join("blog-id"), blog_id.as_str())?;
    // The same blog as a writer's profile (profile layout 4, the published blog as a set), for
    // `docs-open` and the app benchmark.
    let profile_dir = work.join("profile");
    let _ = std::fs::remove_dir_all(&profile_dir);
    let profile = spokes_writer::Profile::create_from_blog(&profile_dir, "Bench", &id, "bench", &mut blog, &statements)?;
    // Kept as a writer's is after their first publish since documents per post: a set.
    profile.upgrade_to_set(&mut profile.unlock("bench")?, chrono::Utc::now().fixed_offset())?;
    Ok(json!({
        "posts": o.posts,
        "revisions": o.revisions,
        "statements": statements.len(),
        "build_s": build.as_secs_f64(),
        "sign_s": sign_time.as_secs_f64(),
        "saved_bytes": bytes.len(),
    }))
}

/// Opens the large blog's profile as the app does: the drafts index gives the list, the
/// newest post's own document its text; nothing else is read (profile layout 4). Reports that
/// open, an autosave and a whole save on the large profile, and the published blog document's
/// load (which only a publish needs).
pub fn docs_open(work: &Path) -> Result<Value> {
    use spokes_writer::Profile;
    let dir = work.join("profile");
    let t = Instant::now();
    let p = Profile::open(&dir).context("run docs-build first")?;
    let posts = p.posts()?;
    let newest = posts.first().map(|s| s.post.id.clone()).unwrap_or_default();
    let shown = p.draft(&newest)?.context("the newest post")?;
    let open = t.elapsed();
    let t = Instant::now();
    let len = spokes_core::edit::utf16_len(&shown.body);
    p.edit_post(&newest, None, &[spokes_core::edit::Splice { pos: len, delete: 0, insert: " More.".into() }], Some(len + 6))?;
    let autosave = t.elapsed();
    let t = Instant::now();
    p.compact()?;
    let compact = t.elapsed();
    let size = |f: &str| std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0);
    let post_docs: u64 = std::fs::read_dir(dir.join("drafts/posts"))?.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum();
    // The blog document alone, loaded straight from its bytes (Automerge's load, hash-checked).
    let bytes = std::fs::read(dir.join("blog.automerge"))?;
    let t = Instant::now();
    let blog = BlogDoc::load(&bytes)?;
    let blog_load = t.elapsed();
    drop(blog);
    Ok(json!({
        "posts": posts.len(),
        "blog_bytes": size("blog.automerge"),
        "drafts_index_bytes": size("drafts/index.automerge"),
        "drafts_post_documents_bytes": post_docs,
        "open_ms": ms(open),
        "blog_document_load_ms": ms(blog_load),
        "autosave_ms": ms(autosave),
        "save_whole_ms": ms(compact),
        "goal": {"what": "open under 300 ms (post list and newest post shown, from the drafts index and that post's document)", "met": ms(open) < 300.0},
    }))
}

/// Signs and verifies distinct statements with the writer's key, beside raw Ed25519.
pub fn signing(o: &Opts) -> Result<Value> {
    let n = o.signatures.max(1);
    let id = Identity::generate("Bench Writer", "bench")?;
    let mut key = id.unlock("bench")?;
    let cert = id.certificate();
    let blog_id = BlogId::generate();
    let statements: Vec<Statement> = (0..n).map(|_| Statement::new(blog_id.clone(), &[ChangeHash(rand::random())])).collect();
    let t = Instant::now();
    let signed: Vec<SignedStatement> = statements.iter().map(|s| s.sign(&mut key)).collect::<Result<_, _>>()?;
    let sign = t.elapsed();
    let t = Instant::now();
    for s in &signed {
        s.verify(&cert, &blog_id)?;
    }
    let verify = t.elapsed();

    use ed25519_dalek::{Signer, SigningKey, Verifier};
    let raw_key = SigningKey::from_bytes(&rand::random());
    let messages: Vec<Vec<u8>> = statements.iter().map(|s| s.to_bytes()).collect();
    let t = Instant::now();
    let sigs: Vec<_> = messages.iter().map(|m| raw_key.sign(m)).collect();
    let raw_sign = t.elapsed();
    let vk = raw_key.verifying_key();
    let t = Instant::now();
    for (m, s) in messages.iter().zip(&sigs) {
        vk.verify(m, s).map_err(|e| anyhow::anyhow!("raw verify: {e}"))?;
    }
    let raw_verify = t.elapsed();
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    Ok(json!({
        "signatures": n,
        "sign_per_s": rate(sign),
        "verify_per_s": rate(verify),
        "raw_ed25519_sign_per_s": rate(raw_sign),
        "raw_ed25519_verify_per_s": rate(raw_verify),
        "verify_vs_raw": rate(verify) / rate(raw_verify),
    }))
}

/// Whole-history verification of the large blog, as a spoke does it before serving: load with
/// Automerge's head-hash check (which recomputes every change hash), then
/// `verify_replica` (one valid statement per head). The goal figure counts both. The full
/// audit (every signature, every change against the coverage rule) is measured beside it.
pub fn history(work: &Path) -> Result<Value> {
    let bytes = std::fs::read(work.join("blog.automerge")).context("run docs-build first")?;
    let statements: Vec<SignedStatement> = serde_json::from_slice(&std::fs::read(work.join("statements.json"))?)?;
    let cert = Certificate::from_bytes(&std::fs::read(work.join("certificate.asc"))?)?;
    let blog_id: BlogId = std::fs::read_to_string(work.join("blog-id"))?.trim().parse()?;
    let t = Instant::now();
    let doc = spokes_core::doc::load_automerge(&bytes)?;
    let load = t.elapsed();
    let mut replica = spokes_sync::Replica { blog_id, doc, certificate: Some(cert), statements, saved: Default::default() };
    let t = Instant::now();
    let changes = spokes_sync::session::verify_replica(&mut replica).map_err(|e| anyhow::anyhow!("{e}"))?;
    let verify = t.elapsed();
    let t = Instant::now();
    let audited = spokes_sync::session::audit_replica(&mut replica).map_err(|e| anyhow::anyhow!("{e}"))?;
    let audit = t.elapsed();
    if audited != changes {
        bail!("audit counted {audited} changes, verification {changes}");
    }
    let rate = changes as f64 / (load + verify).as_secs_f64();
    Ok(json!({
        "revisions": changes,
        "statements": replica.statements.len(),
        "load_ms": ms(load),
        "verify_heads_ms": ms(verify),
        "revisions_per_s": rate,
        "audit_all_signatures_ms": ms(audit),
        "audit_revisions_per_s": changes as f64 / (load + audit).as_secs_f64(),
        "goal": {"what": "above 20,000 revisions per second (load with hash check + verification)", "met": rate > 20_000.0},
    }))
}

/// Publish to 3 spokes on loopback, until each serves the post page over HTTP.
pub fn publish(o: &Opts) -> Result<Value> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let tmp = tempfile::tempdir()?;
    let any: Option<std::net::SocketAddr> = "127.0.0.1:0".parse().ok();
    let spokes = rt.block_on(async {
        let mut v = Vec::new();
        for i in 0..3 {
            let data = tmp.path().join(format!("spoke{i}"));
            spoke::init(&data, &spoke::config::Config { name: format!("spoke {i}"), ..Default::default() })?;
            v.push(spoke::start(&data, spoke::Overrides { http: any, p2p: any, no_admin: true, replicate_interval_secs: Some(3600), ..Default::default() }).await?);
        }
        anyhow::Ok(v)
    })?;
    let mut profile = spokes_writer::Profile::create(&tmp.path().join("writer"), "Bench Writer", "bench", &BlogSettings { title: "Bench".into(), ..Default::default() })?;
    let mut key = profile.unlock("bench")?;
    for s in &spokes {
        profile.add_spoke(&s.invite(1)?.encode())?;
    }
    let blog = profile.blog_id().as_str().to_owned();
    // The first publish admits the blog on each spoke; it is measured apart.
    let first = publish_series(&rt, &mut profile, &mut key, &spokes, &blog, 1, &[None])?.remove(0);
    let pool = rt.block_on(profile.connection_pool())?;
    // One unmeasured publish opens the pool's connections.
    publish_series(&rt, &mut profile, &mut key, &spokes, &blog, 1, &[Some(&pool)])?;
    // Cold and warm publishes alternate, so both see the blog at the same sizes.
    let mut modes = publish_series(&rt, &mut profile, &mut key, &spokes, &blog, 2 * o.publishes, &[None, Some(&pool)])?;
    let (cold, warm) = (modes.remove(0), modes.remove(0));
    rt.block_on(pool.close());
    drop(spokes);
    let p50 = warm["all_readable_p50_ms"].as_f64().unwrap_or(f64::MAX);
    Ok(json!({
        "spokes": 3,
        "publishes": o.publishes,
        "first_publish_ms": first["all_readable_p50_ms"],
        "posts_at_end": 2 + 2 * o.publishes,
        "cold": cold,
        "warm": warm,
        "all_readable_p50_ms": p50,
        "all_readable_p99_ms": warm["all_readable_p99_ms"],
        "goal": {"what": "publish-to-readable p50 under 50 ms (warm connections, as the app keeps them)", "met": p50 < 50.0},
    }))
}

/// `n` publishes of one new post each; per publish, the time until the post is readable over
/// HTTP on every spoke. Publish `i` uses `modes[i % modes.len()]`: a pool keeps warm
/// connections between publishes; `None` binds a new endpoint and connects per publish (cold).
/// Returns the figures of each mode.
fn publish_series(rt: &tokio::runtime::Runtime, profile: &mut spokes_writer::Profile, key: &mut spokes_core::SigningKey, spokes: &[spoke::RunningSpoke], blog: &str, n: usize, modes: &[Option<&spokes_sync::peer::ConnectionPool>]) -> Result<Vec<Value>> {
    #[derive(Default)]
    struct Figures {
        per_publish: Vec<f64>,
        per_spoke: Vec<Vec<f64>>,
        local_ms: Vec<f64>,
        sync_ms: Vec<f64>,
        failures: usize,
    }
    let targets = profile.targets();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(5))).build().into();
    let mut figures: Vec<Figures> = modes.iter().map(|_| Figures { per_spoke: vec![Vec::new(); spokes.len()], ..Default::default() }).collect();
    for i in 0..n {
        let pool = modes[i % modes.len()];
        let f = &mut figures[i % modes.len()];
        let post = profile.new_post(&format!("Bench post {i}"), "Measured words.", &[])?;
        let urls: Vec<String> = spokes.iter().map(|s| format!("http://{}/b/{blog}/posts/{}", s.http_addr, post.slug)).collect();
        let t0 = Instant::now();
        // Readers poll every millisecond; their requests share the 2 cores with the publish.
        let pollers: Vec<_> = urls
            .into_iter()
            .map(|url| {
                let agent = agent.clone();
                std::thread::spawn(move || -> Option<Duration> {
                    while t0.elapsed() < Duration::from_secs(20) {
                        if let Ok(r) = agent.get(&url).call()
                            && r.status() == 200
                        {
                            return Some(t0.elapsed());
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    None
                })
            })
            .collect();
        profile.publish_local(key, Some(std::slice::from_ref(&post.id)))?;
        let signed = t0.elapsed();
        let summary = match pool {
            Some(pool) => rt.block_on(profile.sync_with_pool(pool, &targets))?,
            None => rt.block_on(profile.sync_with(&targets))?,
        };
        let done = t0.elapsed();
        f.local_ms.push(ms(signed));
        f.sync_ms.push(ms(done - signed));
        let ready: Vec<Option<Duration>> = pollers.into_iter().map(|h| h.join().ok().flatten()).collect();
        if summary.up_to_date != spokes.len() || ready.iter().any(Option::is_none) {
            f.failures += 1;
            continue;
        }
        f.per_publish.push(ms(ready.iter().flatten().max().copied().unwrap_or(done)));
        for (k, r) in ready.iter().enumerate() {
            f.per_spoke[k].push(ms(r.unwrap_or(done)));
        }
    }
    Ok(figures
        .into_iter()
        .zip(modes)
        .map(|(mut f, pool)| {
            for v in [&mut f.per_publish, &mut f.local_ms, &mut f.sync_ms].into_iter().chain(f.per_spoke.iter_mut()) {
                v.sort_by(f64::total_cmp);
            }
            json!({
                "connections": if pool.is_some() { "warm (one endpoint, connections kept open between publishes)" } else { "cold (a new endpoint and connection per publish)" },
                "publishes": f.per_publish.len(),
                "failures": f.failures,
                "all_readable_p50_ms": pct(&f.per_publish, 50),
                "all_readable_p99_ms": pct(&f.per_publish, 99),
                "per_spoke": f.per_spoke.iter().map(|v| json!({"p50_ms": pct(v, 50), "p99_ms": pct(v, 99)})).collect::<Vec<_>>(),
                "publish_local_p50_ms": pct(&f.local_ms, 50),
                "sync_p50_ms": pct(&f.sync_ms, 50),
            })
        })
        .collect())
}

/// A latency as wrk prints it (`812.00us`, `1.20ms`, `2.01s`, `1.00m`), in milliseconds.
pub(crate) fn wrk_ms(v: &str) -> Option<f64> {
    let v = v.trim();
    let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

/// One load-generator run: requests per second and 99th-percentile latency in ms.
fn wrk(url: &str, secs: u64) -> Result<(f64, f64)> {
    let out = std::process::Command::new("wrk")
        .args(["-t2", "-c64", &format!("-d{secs}s"), "--latency", url])
        .output()
        .context("run wrk (Debian package wrk; ./x bench installs it)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || text.contains("Non-2xx") || text.contains("Socket errors") {
        bail!("wrk against {url} reported errors:\n{text}");
    }
    let rps = text.lines().find_map(|l| l.strip_prefix("Requests/sec:")).and_then(|v| v.trim().parse::<f64>().ok()).context("wrk printed no Requests/sec")?;
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .and_then(wrk_ms)
        .context("wrk printed no 99% latency")?;
    Ok((rps, p99))
}

/// A spoke serving the Jekyll corpus blog, against nginx serving the same two pages as
/// static files, on the same machine, with wrk (2 threads, 64 connections) as the load.
pub fn reader(o: &Opts) -> Result<Value> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let tmp = tempfile::tempdir()?;
    let any: Option<std::net::SocketAddr> = "127.0.0.1:0".parse().ok();
    let data = tmp.path().join("spoke");
    spoke::init(&data, &spoke::config::Config { name: "reader bench".into(), ..Default::default() })?;
    let running = rt.block_on(spoke::start(&data, spoke::Overrides { http: any, p2p: any, no_admin: true, replicate_interval_secs: Some(3600), ..Default::default() }))?;
    let mut profile = spokes_writer::Profile::create(&tmp.path().join("writer"), "Bench Writer", "bench", &BlogSettings { title: "Jekyll".into(), ..Default::default() })?;
    let mut key = profile.unlock("bench")?;
    profile.add_spoke(&running.invite(1)?.encode())?;
    let imported = profile.import(&[o.corpus.join("jekyll-posts")])?.posts;
    profile.publish_local(&mut key, None)?;
    let summary = rt.block_on(profile.sync_with(&profile.targets()))?;
    if summary.up_to_date != 1 {
        bail!("the corpus did not reach the spoke: {}", summary.sentence);
    }
    let base = format!("http://{}", running.http_addr);
    let blog = profile.blog_id().as_str().to_owned();
    let slug = &imported.first().context("no posts imported")?.post.slug;
    let post_path = format!("/b/{blog}/posts/{slug}");
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build().into();
    let fetch = |path: &str| -> Result<String> { Ok(agent.get(&format!("{base}{path}")).call()?.body_mut().read_to_string()?) };
    let site = tmp.path().join("static");
    std::fs::create_dir_all(&site)?;
    std::fs::write(site.join("post.html"), fetch(&post_path)?)?;
    std::fs::write(site.join("index.html"), fetch("/")?)?;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let prefix = tmp.path().join("nginx");
    std::fs::create_dir_all(prefix.join("logs"))?;
    let conf = format!(
        "daemon off; worker_processes auto; pid {p}/nginx.pid; error_log {p}/logs/error.log;\n\
         events {{ worker_connections 4096; }}\n\
         http {{ access_log off; client_body_temp_path {p}/body; proxy_temp_path {p}/proxy; fastcgi_temp_path {p}/fastcgi; uwsgi_temp_path {p}/uwsgi; scgi_temp_path {p}/scgi;\n\
         types {{ text/html html; }} server {{ listen 127.0.0.1:{port}; root {site}; }} }}\n",
        p = prefix.display(),
        site = site.display()
    );
    std::fs::write(prefix.join("nginx.conf"), conf)?;
    let mut nginx = std::process::Command::new("nginx")
        .arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(prefix.join("nginx.conf"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("start nginx (Debian package nginx; ./x bench installs it)")?;
    let nginx_base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while agent.get(&format!("{nginx_base}/post.html")).call().is_err() {
        if Instant::now() > deadline {
            let _ = nginx.kill();
            bail!("nginx did not start on port {port}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let secs = o.reader_secs;
    let measured = (|| -> Result<_> {
        Ok((
            wrk(&format!("{base}{post_path}"), secs)?,
            wrk(&format!("{nginx_base}/post.html"), secs)?,
            wrk(&format!("{base}/"), secs)?,
            wrk(&format!("{nginx_base}/index.html"), secs)?,
        ))
    })();
    // SIGQUIT: the master stops its workers too (a SIGKILL would leave them running).
    let _ = std::process::Command::new("kill").args(["-s", "QUIT", &nginx.id().to_string()]).status();
    let _ = nginx.wait();
    let (spoke_post, nginx_post, spoke_front, nginx_front) = measured?;
    let ratio = spoke_post.0 / nginx_post.0;
    drop(running);
    Ok(json!({
        "posts": imported.len(),
        "connections": 64,
        "seconds_each": secs,
        "spoke_post_rps": spoke_post.0,
        "spoke_post_p99_ms": spoke_post.1,
        "nginx_post_rps": nginx_post.0,
        "nginx_post_p99_ms": nginx_post.1,
        "post_ratio": ratio,
        "spoke_front_rps": spoke_front.0,
        "spoke_front_p99_ms": spoke_front.1,
        "nginx_front_rps": nginx_front.0,
        "nginx_front_p99_ms": nginx_front.1,
        "front_ratio": spoke_front.0 / nginx_front.0,
        "goal": {"what": "post page at least half of nginx's static throughput", "met": ratio >= 0.5},
    }))
}

/// The Markdown report for `doc` (the `results.json` object).
pub fn report(doc: &Value) -> String {
    let r = &doc["results"];
    let m = &doc["machine"];
    let f = |v: &Value, d: usize| v.as_f64().map(|x| format!("{x:.d$}")).unwrap_or_else(|| "–".into());
    // A goal object (`{"what", "met"}`) as the table says it.
    let said = |goal: &Value| match goal["met"].as_bool() {
        Some(true) => "met",
        Some(false) => "**not met**",
        None => "–",
    };
    let met = |v: &Value| said(&v["goal"]);
    let mut s = String::new();
    s.push_str("# Spokes benchmarks\n\n");
    s.push_str(&format!(
        "Generated by `./x bench` (`spokes-bench all`) on {} — {} CPUs ({}), {} GiB, {} build. Raw figures: `results.json`.\n\n",
        doc["date"].as_str().unwrap_or("?"),
        m["cpus"],
        m["cpu_model"].as_str().unwrap_or("?"),
        m["memory_bytes"].as_u64().unwrap_or(0) >> 30,
        m["profile"].as_str().unwrap_or("?")
    ));
    s.push_str("## Goals\n\n| goal | measured | |\n|---|---|---|\n");
    s.push_str(&format!(
        "| editing trace replayed in under 10 s | {} s ({} edits as {} autosaves, {} edits/s; one change per keystroke: {} s) | {} |\n",
        f(&r["editing"]["replay_s"], 2),
        r["editing"]["edits"],
        r["editing"]["autosaves"],
        f(&r["editing"]["edits_per_s"], 0),
        f(&r["editing"]["change_per_keystroke_in_memory_s"], 1),
        met(&r["editing"])
    ));
    s.push_str(&format!(
        "| open the {}-post blog in under 300 ms | {} ms to the list and newest post (drafts index and that post's document; the published blog document, read only to publish, loads in {} ms) | {} |\n",
        r["docs-open"]["posts"],
        f(&r["docs-open"]["open_ms"], 1),
        f(&r["docs-open"]["blog_document_load_ms"], 0),
        met(&r["docs-open"])
    ));
    s.push_str(&format!("| whole-history verification above 20,000 revisions/s | {} revisions/s | {} |\n", f(&r["history"]["revisions_per_s"], 0), met(&r["history"])));
    s.push_str(&format!("| publish-to-readable p50 under 50 ms (3 spokes, loopback) | warm {} ms (p99 {} ms); cold {} ms | {} |\n", f(&r["publish"]["all_readable_p50_ms"], 1), f(&r["publish"]["all_readable_p99_ms"], 1), f(&r["publish"]["cold"]["all_readable_p50_ms"], 1), met(&r["publish"])));
    let lb = &r["large-blog"];
    let goal = |k: &str| said(&lb["goals"][k]);
    let mib = |v: &Value| v.as_u64().map(|b| format!("{}", b >> 20)).unwrap_or_else(|| "–".into());
    let nostr = &r["nostr"];
    let beside = |ours: &Value, theirs: &Value, unit: &str| match (ours.as_f64(), theirs.as_f64()) {
        (Some(a), Some(b)) if b > 0.0 => format!("; Nostr (NIP-23 to 3 nostr-rs-relay) {b:.2} {unit}: Spokes takes {:.2}× its time", a / b),
        _ => String::new(),
    };
    s.push_str(&format!(
        "| import of a {}-post blog ({} MB of Markdown) under 5 s | {} s | {} |\n",
        lb["posts"],
        lb["markdown_bytes"].as_u64().unwrap_or(0) / 1_000_000,
        f(&lb["import_s"], 2),
        goal("import")
    ));
    s.push_str(&format!(
        "| first publish of that blog to 3 fresh spokes, until every post is readable on all, under 5 s | {} s (the command: {} s{}) | {} |\n",
        f(&lb["first_publish_s"], 2),
        f(&lb["first_publish_command_s"], 2),
        beside(&lb["first_publish_s"], &nostr["whole_blog_s"], "s"),
        goal("first_publish")
    ));
    s.push_str(&format!(
        "| a later publish of one edited post: stored and verified on all 3, p50 under 3 ms | {} ms (p99 {} ms{}) | {} |\n",
        f(&lb["later_stored_p50_ms"], 1),
        f(&lb["later_stored_p99_ms"], 1),
        beside(&lb["later_stored_p50_ms"], &nostr["one_post_p50_ms"], "ms"),
        goal("later_stored")
    ));
    s.push_str(&format!("| … and readable on all 3, p50 under 10 ms | {} ms (p99 {} ms) | {} |\n", f(&lb["later_readable_p50_ms"], 1), f(&lb["later_readable_p99_ms"], 1), goal("later_readable")));
    s.push_str(&format!(
        "| spoke memory under 300 MB receiving that blog and idle after; idle CPU under 1% | peak {} MiB, idle {} MiB, idle CPU {}% | {} / {} |\n",
        mib(&lb["spoke_peak_rss_bytes"]),
        mib(&lb["spoke_idle_rss_bytes"]),
        f(&lb["spoke_idle_cpu_percent"], 2),
        goal("spoke_memory"),
        goal("idle_cpu")
    ));
    let sb = &r["set-blog"];
    if sb.is_object() {
        let sgoal = |k: &str| said(&sb["goals"][k]);
        s.push_str(&format!(
            "| documents per post (`set-blog`, the same {}-post blog after `spokes upgrade`, {} s to move it to 3 spokes): one edited post readable on all 3, p50 under 10 ms | {} ms (p99 {} ms; stored and verified on all: {} ms) | {} |\n",
            sb["posts"],
            f(&sb["upgrade_s"], 1),
            f(&sb["later_readable_p50_ms"], 1),
            f(&sb["later_readable_p99_ms"], 1),
            f(&sb["later_stored_p50_ms"], 1),
            sgoal("later_readable")
        ));
        s.push_str(&format!(
            "| … bytes sent per spoke for that edit under 20 KB | {} bytes (p50; most {}); an unpublished post gone from all 3 spokes in {} ms | {} |\n",
            f(&sb["later_bytes_per_spoke_p50"], 0),
            f(&sb["later_bytes_per_spoke_max"], 0),
            f(&sb["unpublish_gone_everywhere_ms"], 0),
            sgoal("later_bytes")
        ));
        if sb.get("new_spoke_s").is_some() {
            s.push_str(&format!(
                "| … a new spoke receives the whole blog on loopback at least 20 MB/s | {} MB/s of Markdown ({} s for {} bytes sent) | {} |\n",
                f(&sb["new_spoke_markdown_mb_per_s"], 1),
                f(&sb["new_spoke_s"], 2),
                f(&sb["new_spoke_bytes_sent"], 0),
                sgoal("new_spoke")
            ));
            s.push_str(&format!(
                "| … whole-set verification above 20,000 revisions/s | {} revisions/s ({} post-document changes: read {} s, checked {} s) | {} |\n",
                f(&sb["verify_changes_per_s"], 0),
                f(&sb["verify_changes"], 0),
                f(&sb["verify_read_s"], 2),
                f(&sb["verify_check_s"], 3),
                sgoal("verification")
            ));
        }
    }
    let sm = &r["spoke-memory"];
    if sm.is_object() {
        let mgoal = |k: &str| said(&sm["goals"][k]);
        s.push_str(&format!(
            "| spoke memory holding {} blogs of {} posts ({} MB of Markdown) as sets of documents, idle, under 500 MB | {} MiB idle after receiving them (heap {} MiB, mapped files {} MiB; peak {} MiB); {} MiB idle after a restart (heap {} MiB, mapped files {} MiB; {} s to restart); {} MiB on disk | {} / {} |\n",
            sm["blogs"],
            sm["posts_per_blog"],
            sm["markdown_bytes"].as_u64().unwrap_or(0) / 1_000_000,
            mib(&sm["spoke_idle_rss_bytes"]),
            mib(&sm["spoke_idle_anon_bytes"]),
            mib(&sm["spoke_idle_file_bytes"]),
            mib(&sm["spoke_peak_rss_bytes"]),
            mib(&sm["restart_idle_rss_bytes"]),
            mib(&sm["restart_idle_anon_bytes"]),
            mib(&sm["restart_idle_file_bytes"]),
            f(&sm["restart_s"], 1),
            mib(&sm["spoke_data_bytes"]),
            mgoal("idle"),
            mgoal("idle_after_restart")
        ));
    }
    s.push_str(&format!(
        "| a spoke's post page at least half of nginx's static throughput | {} of nginx ({} vs {} requests/s; front page {}) | {} |\n",
        f(&r["reader"]["post_ratio"], 2),
        f(&r["reader"]["spoke_post_rps"], 0),
        f(&r["reader"]["nginx_post_rps"], 0),
        f(&r["reader"]["front_ratio"], 2),
        met(&r["reader"])
    ));
    s.push_str(&format!(
        "| council-wide search over {} blogs on {} spokes, p95 under 50 ms | p95 {} ms (p50 {} ms, p99 {} ms; {} searches over HTTP from every spoke; every post reached every index {} s after the last publish) | {} |\n",
        r["council-search"]["blogs"],
        r["council-search"]["spokes"],
        f(&r["council-search"]["search_p95_ms"], 1),
        f(&r["council-search"]["search_p50_ms"], 1),
        f(&r["council-search"]["search_p99_ms"], 1),
        r["council-search"]["queries"],
        f(&r["council-search"]["spread_to_every_index_s"], 1),
        met(&r["council-search"])
    ));
    s.push_str(&format!(
        "| a spoke serves {} concurrent readers while {} writers sync, with no errors | {} requests/s (p50 {} ms, p99 {} ms), {} errors; {} writer syncs, {} failed (p50 {} ms) over {} s | {} |\n",
        r["load"]["readers"],
        r["load"]["writers"],
        f(&r["load"]["reader_rps"], 0),
        f(&r["load"]["reader_p50_ms"], 0),
        f(&r["load"]["reader_p99_ms"], 0),
        r["load"]["reader_non_2xx"].as_u64().unwrap_or(0) + r["load"]["reader_socket_errors"].as_u64().unwrap_or(0),
        r["load"]["writer_syncs_ok"],
        r["load"]["writer_syncs_failed"],
        f(&r["load"]["writer_sync_p50_ms"], 0),
        r["load"]["seconds"],
        met(&r["load"])
    ));
    let ua = &r["under-attack"];
    s.push_str(&format!(
        "| under attacks 1-6 of the hostile-peers issue in a loop, the author publishes, {} readers see no error, the spoke stays under 300 MB | publish p50 {} ms (p99 {} ms), {} of {} failed; {} reader requests, {} errors; {} attack sessions; spoke peak {} MiB | {} |\n",
        ua["readers"],
        f(&ua["publish_p50_ms"], 0),
        f(&ua["publish_p99_ms"], 0),
        ua["publishes_failed"].as_array().map_or(0, Vec::len),
        ua["publishes"],
        ua["reader_requests"],
        ua["reader_errors"],
        ua["attack_sessions"],
        mib(&ua["spoke_peak_rss_bytes"]),
        met(ua)
    ));
    s.push_str(&format!(
        "| app window start to editable with 1,000 posts, under 1 s (goal of the app issue) | {} ms, the median of ten starts as a writer starts the app ({} to {} ms; {} ms when started through WebDriver; unlocking the key at the first publish {} ms; idle memory {} MiB) | {} |\n",
        f(&r["app"]["start_to_editable_ms"], 0),
        f(&r["app"]["direct_starts"]["min_ms"], 0),
        f(&r["app"]["direct_starts"]["max_ms"], 0),
        f(&r["app"]["start_to_editable_under_webdriver_ms"], 0),
        f(&r["app"]["passphrase_unlock_ms"], 0),
        r["app"]["idle_rss_bytes"].as_u64().map(|b| (b >> 20).to_string()).unwrap_or_else(|| "–".into()),
        met(&r["app"])
    ));
    let typing = &r["app"]["later_start"]["keystroke_to_preview"];
    s.push_str(&format!(
        "| keystroke to preview with a 10,000-word post, under 16 ms (one frame; goal of the app issue) | p95 {} ms (p50 {} ms, slowest {} ms; {} real key presses in the middle of the post, from the key event to the preview laid out) | {} |\n",
        f(&typing["p95_ms"], 0),
        f(&typing["p50_ms"], 0),
        f(&typing["max_ms"], 0),
        f(&typing["keystrokes"], 0),
        met(typing)
    ));
    // The app's goals of the documents-per-post issue, on the large blog it names (measured
    // with `run docs-build --posts 10000 --revisions 500000`, then `run app`).
    let big = &r["app"]["at_10000_posts"];
    if big.is_object() {
        let under = |v: &Value, limit: f64| said(&json!({"met": v.as_f64().is_some_and(|x| x < limit)}));
        let (cold, killed) = (&big["first_start_without_snapshot"]["start_to_editable_ms"], &big["direct_starts"]["after_a_kill_with_edits_ms"]);
        let idle = &big["later_start"]["idle_rss_bytes"];
        s.push_str(&format!(
            "| app with 10,000 posts and 500,000 revisions (documents-per-post issue): start to editable without a post-list snapshot, under 500 ms | {} ms on files no app had opened (the median of ten later starts: {} ms; there is no snapshot since profile layout 4) | {} |\n",
            f(cold, 0),
            f(&big["direct_starts"]["median_ms"], 0),
            under(cold, 500.0)
        ));
        s.push_str(&format!("| … start to editable after `kill -9` with unsaved edits, under 1 s | {} ms | {} |\n", f(killed, 0), under(killed, 1000.0)));
        s.push_str(&format!(
            "| … idle memory, the app's process and its webview, under 250 MB | {} MiB resident ({} MiB the app, {} MiB the webview; {} MiB proportional, the WebKit libraries they share counted once) | {} |\n",
            mib(idle),
            mib(&big["later_start"]["idle_app_rss_bytes"]),
            mib(&big["later_start"]["idle_webview_rss_bytes"]),
            mib(&big["later_start"]["idle_pss_bytes"]),
            under(idle, 250e6)
        ));
        let open = &big["later_start"]["open_from_list"];
        if open.is_object() {
            s.push_str(&format!(
                "| … open a post from the list, under 20 ms | p50 {} ms (p95 {} ms, slowest {} ms; {} posts spread over the list, from the click to the post in the editor and drawn) | {} |\n",
                f(&open["p50_ms"], 1),
                f(&open["p95_ms"], 1),
                f(&open["max_ms"], 1),
                f(&open["opens"], 0),
                under(&open["p50_ms"], 20.0)
            ));
        } else {
            s.push_str("| … open a post from the list, under 20 ms | not measured yet | **not met** |\n");
        }
    }
    s.push('\n');
    s.push_str("## All figures\n\n| benchmark | figure | value |\n|---|---|---|\n");
    if let Some(obj) = r.as_object() {
        for (name, v) in obj {
            if let Some(o) = v.as_object() {
                // Scalars, and the scalars of nested groups as `group.figure`.
                let mut rows: Vec<(String, &Value)> = Vec::new();
                for (k, x) in o {
                    match x {
                        Value::Object(inner) if k != "goal" => rows.extend(inner.iter().filter(|(_, y)| !y.is_object() && !y.is_array()).map(|(k2, y)| (format!("{k}.{k2}"), y))),
                        Value::Object(_) | Value::Array(_) => {}
                        _ => rows.push((k.clone(), x)),
                    }
                }
                for (k, x) in rows {
                    let shown = match x {
                        Value::Number(n) if n.is_f64() => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
                        Value::String(t) => t.clone(),
                        other => other.to_string(),
                    };
                    s.push_str(&format!("| {name} | {k} | {shown} |\n"));
                }
            }
        }
    }
    if let Some(sizes) = r["council-log"]["sizes"].as_array() {
        s.push_str("\n## The council log as councils grow\n\nCouncils formed by majority in one process with the real log (`spokes-bench run council-log`): each newcomer proposed by the founder and approved until more than half of the members did.\n\n| members | entries | log | entries a join costs (mean, last) | a newcomer verifies and applies the log (in hash order) | adding one entry | an exchange after one vote / the whole log |\n|---|---|---|---|---|---|---|\n");
        for z in sizes {
            s.push_str(&format!(
                "| {} | {} | {} KiB | {}, {} | {} s | {} ms | {} B / {} KiB |\n",
                z["members"],
                z["entries"],
                z["log_bytes"].as_u64().unwrap_or(0) >> 10,
                f(&z["entries_per_join_mean"], 1),
                z["entries_last_join"],
                f(&z["newcomer_verify_and_apply_s"], 2),
                f(&z["add_entry_ms"], 1),
                z["exchange_after_one_vote_bytes"],
                z["exchange_whole_log_bytes"].as_u64().unwrap_or(0) >> 10
            ));
        }
        s.push_str(&format!(
            "\nThe log holds at most {} entries: a council formed this way fits {} members (a join costs about half the members in approvals). A council of thousands needs checkpoints (a majority-signed summary that lets older entries go), not yet built.\n",
            r["council-log"]["max_entries"], r["council-log"]["largest_council_the_log_holds"]
        ));
    }
    if let Some(seals) = r["council-log"]["seals"].as_array() {
        s.push_str("\nSealed catalogs (`council::evidence`): every exchange, the responder signs its catalog (a Merkle root over its entries) and the puller checks it; on a first exchange the puller also cuts and keeps a signed offer (entry, index, audit path) per set blog, the evidence should the member later offer less.\n\n| blogs in the catalog | seal | check | offers for every blog | one kept offer | the seal on the wire |\n|---|---|---|---|---|---|\n");
        for z in seals {
            s.push_str(&format!("| {} | {} ms | {} ms | {} ms | {} B | {} B |\n", z["blogs"], f(&z["seal_ms"], 1), f(&z["check_ms"], 1), f(&z["offers_for_every_blog_ms"], 1), z["offer_bytes"], z["seal_bytes"]));
        }
    }
    let sim = &r["council-sim"];
    if sim["spokes"].is_u64() {
        let sum = |v: &Value, d: usize| format!("{} / {} / {} / {}", f(&v["min"], d), f(&v["p50"], d), f(&v["p99"], d), f(&v["max"], d));
        let t = &sim["tiers"];
        s.push_str(&format!(
            "\n## A council of {} spokes and {} blogs (simulated)\n\nIn one process with the real placement (rendezvous hashing, `[council] copies = {}`, one more copy at {} reads a day and at each tenfold), the real choice of upstreams and the real admission rule (`spokes-bench run council-sim`; reads per blog by Zipf's law, the top blog read 200,000 times a day; each writer on 1-3 spokes of their choice). Figures as min / p50 / p99 / max.\n\n| | |\n|---|---|\n",
            sim["spokes"], sim["blogs"], sim["base_copies"], sim["popular_reads"]
        ));
        s.push_str(&format!("| copies per blog (the writer's spokes and the council's) | {} ({} popular blogs with more) |\n", sum(&sim["copies_per_blog"], 0), sim["popular_blogs"]));
        s.push_str(&format!("| council copies per spoke | {} |\n", sum(&sim["council_copies_per_spoke"], 0)));
        s.push_str(&format!("| blogs held per spoke, hosted and copies | {} |\n", sum(&sim["blogs_held_per_spoke"], 0)));
        s.push_str(&format!("| placing one blog among {} members | {} ms |\n", sim["spokes"], f(&sim["placement_ms_per_blog"], 2)));
        s.push_str(&format!(
            "| a member joins | {} blogs move to it ({} sync sessions); admission: {} signed log entries ({} KiB) reach every member |\n",
            sim["join"]["blogs_moved"], sim["join"]["sync_sessions"], sim["join"]["log_entries"], sim["join"]["log_bytes_to_each_member"].as_u64().unwrap_or(0) >> 10
        ));
        s.push_str(&format!("| a member dies | {} copies rebuilt on the next members ({} sync sessions) |\n", sim["member_dies"]["copies_rebuilt"], sim["member_dies"]["sync_sessions"]));
        s.push_str(&format!(
            "| through the tiers (each spoke pulls from {} upstreams every {} s, {} s a hop; {} origins) | half the spokes in {} s, all in {} s (p50 / max over origins: {} / {} s); at most {} hops; {} spokes never reached; pullers per spoke {} |\n",
            t["fanout"], t["interval_s"], t["hop_s"], t["origins"], f(&t["half_reached_s"]["p50"], 0), f(&t["all_reached_s"]["p50"], 0), f(&t["all_reached_s"]["p50"], 0), f(&t["all_reached_s"]["max"], 0), f(&t["hops_max"]["max"], 0), t["unreached"], sum(&t["pullers_per_spoke"], 0)
        ));
        let g = &sim["digest"];
        if g["items_per_digest"].is_u64() {
            let rounds = |v: &Value| v.as_u64().map_or("not within 64".to_owned(), |r| r.to_string());
            s.push_str(&format!(
                "| the council's newest posts, by the real digests (each of the {} spokes composes its digest of {} posts from its own and its upstreams' every round; a round is at most one {} s interval) | full everywhere in {} rounds; a new post in every digest in {} rounds ({} hops at most); once unpublished, gone from every digest in {} rounds; a digest weighs {} KiB (p50); composing one {} µs |\n",
                sim["spokes"], g["items_per_digest"], g["interval_s"], rounds(&g["rounds_until_full"]), rounds(&g["new_post"]["rounds_until_every_spoke"]), f(&g["new_post"]["hops"]["max"], 0), rounds(&g["unpublished"]["rounds_until_gone_everywhere"]), f(&(g["digest_bytes"]["p50"].as_f64().map(|b| b / 1024.0).map(Value::from).unwrap_or(Value::Null)), 0), f(&g["compose_us_per_spoke"], 0)
            ));
        }
        s.push_str("\nThe tiers carry catalogs (with `copies = 0` every member copies every blog through them) and, with partial copies, the digests of the council's newest posts, each post with what proves it to its author (`council::digest`). Search covers the blogs a member holds and those newest posts. The log cannot yet hold a council this size (see above): the admission figures are the rule's, with entry sizes from the real log.\n");
    }
    s.push_str(&format!(
        "\nSigning: the writer's key signs {} and verifies {} distinct statements per second; raw Ed25519 (ed25519-dalek) verifies {} per second, so OpenPGP packet handling costs {}× the primitive.\n",
        f(&r["signing"]["sign_per_s"], 0),
        f(&r["signing"]["verify_per_s"], 0),
        f(&r["signing"]["raw_ed25519_verify_per_s"], 0),
        f(&(r["signing"]["verify_vs_raw"].as_f64().map(|x| 1.0 / x).map(Value::from).unwrap_or(Value::Null)), 1)
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(pct(&v, 50), 50.0);
        assert_eq!(pct(&v, 99), 99.0);
        assert_eq!(pct(&v, 100), 100.0);
        assert_eq!(pct(&[7.0], 99), 7.0);
        assert!(pct(&[], 50).is_nan());
    }

    #[test]
    fn decoded_trace_replays_to_the_documents_own_text() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpus/automerge-perf/text-doc.amrg");
        let (edits, expected) = trace_edits(&corpus, 4000).expect("decode the trace");
        assert!(edits.len() >= 3000, "{} edits", edits.len());
        assert!(edits.iter().any(|e| e.del > 0), "the trace's start has deletions too");
        let mut doc = BlogDoc::create(DocKind::Drafts, &BlogId::generate(), "t", &BlogSettings::default());
        let post = Post::new("t", "");
        doc.put_post(&post).expect("post");
        for e in &edits {
            doc.splice_body(&post.id, e.pos, e.del as isize, &e.ins).expect("splice");
        }
        assert_eq!(doc.post(&post.id).expect("post").body, expected);
    }
}
