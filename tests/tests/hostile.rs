//! Hostile peers against real spoke processes (the hostile-peers issue). Each test performs
//! an attack through `spokes_e2e::hostile` (a stranger's real iroh endpoint speaking the real
//! protocol) against the `spoke` program operators run, then checks the defence: a typed
//! refusal, bounded memory, a recorded refusal, and the author still publishing.

use spokes_e2e::hostile::{self, HostilePeer, empty_session, malleated};
use spokes_e2e::*;
use std::path::{Path, PathBuf};

/// One running spoke with a published blog: (spoke, writer profile, blog ID, ticket).
fn published(tmp: &Path) -> (SpokeProc, PathBuf, String, String) {
    let (mut spokes, w, blog) = network(tmp, 1);
    spokes_ok(&w, PASS, &["new", "--title", "Before the attack", "--body", "Words."]);
    spokes_ok(&w, PASS, &["publish"]);
    let s = spokes.remove(0);
    let ticket = s.invite();
    (s, w, blog, ticket)
}

/// What a stranger can read from any reader site: the author's certificate and statements.
fn public_parts(w: &Path) -> (Vec<u8>, Vec<spokes_core::SignedStatement>) {
    let p = spokes_writer::Profile::open(w).unwrap();
    (p.certificate().unwrap().to_armored(), p.statements().unwrap())
}

/// The author publishes one more post, and readers see it.
fn author_still_publishes(s: &SpokeProc, w: &Path, blog: &str, title: &str) {
    spokes_ok(w, PASS, &["new", "--title", title, "--body", "Still here."]);
    let out = spokes_ok(w, PASS, &["publish"]);
    assert!(out.contains("1 of 1"), "{out}");
    let titles: Vec<String> = s.json(&format!("/api/v1/blogs/{blog}"))["posts"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_owned()).collect();
    assert!(titles.iter().any(|t| t == title), "{titles:?}");
}

/// Attack 1: a compressed change that inflates to 1 GiB (about 1 MiB on the wire), in the
/// changes step and in a sync message. Before the defence the spoke inflated it whole (and
/// Automerge held copies of it); now it is refused as `too-large` while the spoke stays small.
#[test]
fn a_decompression_bomb_is_refused_and_the_spoke_stays_small() {
    let tmp = tempfile::tempdir().unwrap();
    let (s, w, blog, ticket) = published(tmp.path());
    let (cert, stmts) = public_parts(&w);
    let bomb = spokes_core::expansion::compressed_change_bomb(1 << 30);
    assert!(bomb.len() < 2 << 20, "{} bytes on the wire", bomb.len());
    let peer = HostilePeer::new();
    for frames in [
        vec![hostile::hello(&blog, Some(&[])), hostile::certificate(cert.clone()), hostile::statements(&stmts), hostile::changes(&bomb)],
        vec![hostile::hello(&blog, None), hostile::certificate(cert.clone()), hostile::statements(&stmts), hostile::sync_message(vec![bomb.clone()])],
    ] {
        let answers = peer.session(&ticket, frames);
        let refusal = answers.refusal().unwrap_or_else(|| panic!("no refusal: {answers:?}"));
        assert_eq!(refusal.code, "too-large", "{refusal:?}");
    }
    let peak = s.peak_rss().unwrap();
    assert!(peak < 300 << 20, "the spoke grew to {} MiB", peak >> 20);
    // Recorded once (a repeat of the same refusal within a minute is not stored again).
    assert!(s.refusals().iter().any(|(c, p)| c == "too-large" && *p == peer.id()), "{:?}", s.refusals());
    author_still_publishes(&s, &w, &blog, "After the bomb");
}

/// What the spoke has written for `blog`: (the blog row's `updated_at`, sync states kept).
fn written(s: &SpokeProc, blog: &str) -> (String, i64) {
    let db = rusqlite::Connection::open(s.data.join("spoke.db")).unwrap();
    let updated = db.query_row("SELECT updated_at FROM blogs WHERE blog_id = ?1", [blog], |r| r.get(0)).unwrap();
    let states = db.query_row("SELECT count(*) FROM sync_states WHERE blog_id = ?1", [blog], |r| r.get(0)).unwrap();
    (updated, states)
}

/// Attack 4: a stranger's sessions for someone's blog, refused or empty, used to spend the
/// blog's hourly allowance (the author was locked out as `rate-limited`), and every empty
/// session wrote to disk. Now each peer spends its own allowance, the author's publishes spend
/// the blog's, and a session that brings nothing writes nothing.
#[test]
fn a_strangers_sessions_spend_only_its_own_allowance_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, w, blog, ticket) = published(tmp.path());
    s.stop();
    s.configure(|c| c.admission.max_sessions_per_hour = 8);
    s.start();
    let (cert, _) = public_parts(&w);
    let before = written(&s, &blog);
    let peer = HostilePeer::new();
    let mut codes = Vec::new();
    for i in 0..20 {
        let frames = if i % 2 == 0 {
            empty_session(&blog, cert.clone())
        } else {
            vec![hostile::hello(&blog, None), hostile::certificate(cert.clone()), hostile::statements(&[]), hostile::sync_message(vec![b"garbage".to_vec()])]
        };
        codes.push(peer.session(&ticket, frames).refusal().map(|r| r.code));
    }
    // The first eight sessions are answered (the empty ones completed, the garbage refused as
    // such); from then on this peer is out of allowance.
    assert_eq!(codes[0], None, "{codes:?}");
    assert_eq!(codes[1].as_deref(), Some("malformed"), "{codes:?}");
    assert!(codes[8..].iter().all(|c| c.as_deref() == Some("rate-limited")), "{codes:?}");
    assert_eq!(written(&s, &blog), before, "sessions that brought nothing wrote nothing");
    // The author, on another endpoint, publishes as often as its own allowance lets it (a
    // publish takes two sessions: one to take in revisions, one to send them).
    for i in 0..3 {
        author_still_publishes(&s, &w, &blog, &format!("During the flood {i}"));
    }
    assert_ne!(written(&s, &blog).0, before.0);
}

/// Attack 5: on an open spoke, one session with an empty document and a stranger's
/// certificate bound a blog ID the spoke did not hold yet to the stranger, and the real author
/// was refused for good. Now a blog is taken only with signed revisions, which bind its ID.
#[test]
fn an_empty_session_cannot_squat_a_blog_id() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = SpokeProc::init(&tmp.path().join("open"), "Open spoke");
    s.configure(|c| c.admission.mode = spoke::config::AdmissionMode::Open);
    s.start();
    let ticket = s.invite();
    let w = tmp.path().join("author");
    spokes_ok(&w, PASS, &["init", "--name", "Author", "--title", "The real blog"]);
    let blog = spokes_writer::Profile::open(&w).unwrap().blog_id().to_string();
    let m = tmp.path().join("mallory");
    spokes_ok(&m, PASS, &["init", "--name", "Mallory", "--title", "Squatter"]);
    let (mallory_cert, _) = public_parts(&m);
    let answers = HostilePeer::new().session(&ticket, empty_session(&blog, mallory_cert));
    assert_eq!(answers.refusal().map(|r| r.code).as_deref(), Some("not-hosted"), "{answers:?}");
    assert_eq!(s.json("/api/v1/blogs").as_array().map_or(0, Vec::len), 0, "nothing was taken");
    // The author's first publish (with the open spoke's ticket) is taken.
    spokes_ok(&w, PASS, &["spoke", "add", &ticket]);
    author_still_publishes(&s, &w, &blog, "Mine");
}

/// Attack 2: the author's certificate, as anyone can download it, inflated with 2,000 user
/// IDs it never bound (one a forged author name). The spoke used to merge and store all of
/// it (outside the quota; past 16 MiB every session of the blog failed) and could show the
/// forged name. Now it keeps only what the author's primary key certifies.
#[test]
fn an_inflated_certificate_is_kept_as_the_author_made_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (s, w, blog, ticket) = published(tmp.path());
    let feed_author = |s: &SpokeProc| {
        let (_, feed) = s.get(&format!("/b/{blog}/feed.atom"));
        feed.split("<author><name>").nth(1).and_then(|r| r.split("</name>").next()).unwrap_or_default().to_owned()
    };
    assert_eq!(feed_author(&s), "Jekyll Team");
    let honest = spokes_writer::Profile::open(&w).unwrap().certificate().unwrap().to_bytes();
    let inflated = hostile::inflated_certificate(&honest, 2_000);
    assert!(inflated.len() > 800_000);
    let answers = HostilePeer::new().session(&ticket, empty_session(&blog, inflated));
    assert!(answers.refusal().is_none(), "{answers:?}");
    author_still_publishes(&s, &w, &blog, "After the inflation");
    let db = rusqlite::Connection::open(s.data.join("spoke.db")).unwrap();
    let stored: Vec<u8> = db.query_row("SELECT certificate FROM blogs WHERE blog_id = ?1", [&blog], |r| r.get(0)).unwrap();
    assert!(stored.len() < 2 * honest.len() + 2_000, "stored {} bytes for a certificate of {}", stored.len(), honest.len());
    assert_eq!(feed_author(&s), "Jekyll Team", "the feed names the author their certificate binds");
    assert!(!String::from_utf8_lossy(&stored).contains("Forger"));
}

/// Statements the spoke holds for `blog`.
fn statements_held(s: &SpokeProc, blog: &str) -> i64 {
    let db = rusqlite::Connection::open(s.data.join("spoke.db")).unwrap();
    db.query_row("SELECT count(*) FROM statements WHERE blog_id = ?1", [blog], |r| r.get(0)).unwrap()
}

/// Attack 3: copies of the author's signed statements that differ only in the signature's
/// unsigned area all verify. The spoke kept each as new (unique per signature bytes), so a
/// stranger could grow a blog's statements without bound and spend its quota. Now statements
/// are kept once per (statement, signing key), in canonical form.
#[test]
fn copies_of_a_signed_statement_are_kept_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (s, w, blog, ticket) = published(tmp.path());
    let (cert, stmts) = public_parts(&w);
    let before = statements_held(&s, &blog);
    assert!(before >= 1);
    let copies: Vec<_> = (0..200).flat_map(|i| stmts.iter().map(move |st| malleated(st, i))).collect();
    let mut frames = empty_session(&blog, cert);
    frames[2] = hostile::statements(&copies);
    let answers = HostilePeer::new().session(&ticket, frames);
    assert!(answers.refusal().is_none(), "{answers:?}");
    assert_eq!(statements_held(&s, &blog), before, "no copy was kept");
    author_still_publishes(&s, &w, &blog, "After the copies");
}

/// Attack 13: a blog its operator suspended or dropped is not handed out whole to anyone,
/// through sync (a stranger asking for everything) or the verification bundle.
#[test]
fn a_suspended_or_dropped_blog_is_not_handed_out() {
    let tmp = tempfile::tempdir().unwrap();
    let (s, w, blog, ticket) = published(tmp.path());
    let (cert, _) = public_parts(&w);
    // A stranger with nothing asks for the blog: the spoke would send it whole.
    let ask_for_all = || HostilePeer::new().session(&ticket, vec![hostile::hello(&blog, Some(&[])), hostile::certificate(cert.clone()), hostile::statements(&[]), hostile::changes(&[])]);
    let answers = ask_for_all();
    assert!(answers.frames.iter().any(|f| f.typ == spokes_sync::FrameType::Changes), "a stranger may read a published blog: {answers:?} {:?}", answers.refusal());
    for (verb, code) in [("suspend", "suspended"), ("drop", "not-hosted")] {
        let mut args = vec!["blog", verb, blog.as_str()];
        if verb == "drop" {
            args.extend(["--reason", "spam"]);
        }
        s.admin(&args);
        let answers = ask_for_all();
        assert_eq!(answers.refusal().map(|r| r.code).as_deref(), Some(code), "{verb}: {answers:?}");
        assert!(!answers.frames.iter().any(|f| f.typ == spokes_sync::FrameType::Changes), "{verb}: the blog was sent");
        assert_eq!(s.get(&format!("/b/{blog}/bundle.json")).0, 404, "{verb}: the bundle was served");
    }
}

/// Attack 11: every reader page forbids scripts, remote pictures and framing.
#[test]
fn reader_pages_forbid_scripts_remote_pictures_and_framing() {
    let tmp = tempfile::tempdir().unwrap();
    let (s, _w, blog, _) = published(tmp.path());
    for path in ["/".to_owned(), format!("/b/{blog}/"), format!("/b/{blog}/posts/before-the-attack"), "/search?q=words".into(), "/no-such-page".into()] {
        let r = ureq::get(&format!("http://{}{path}", s.http)).config().http_status_as_error(false).build().call().unwrap();
        let csp = r.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        for part in ["default-src 'none'", "img-src 'self'", "frame-ancestors 'none'"] {
            assert!(csp.contains(part), "{path}: {csp:?}");
        }
        assert!(!csp.contains("script-src"), "{path}: {csp:?}");
        assert_eq!(r.headers().get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"), "{path}");
    }
}

/// Attack 9: a council member offers more blogs than this spoke's operator keeps copies of.
/// Copies used to skip every limit; now they keep to `max_mirrored_blogs`, the per-blog
/// quota and the low-disk refusal, and the member's offers beyond them are refused.
#[test]
fn copies_for_the_council_keep_to_the_spokes_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = SpokeProc::init(&tmp.path().join("a"), "Offering member");
    let mut b = SpokeProc::init(&tmp.path().join("b"), "Copying member");
    let a_id = a.endpoint_id();
    b.configure(|c| {
        c.council.upstreams = vec![a_id.clone()];
        c.council.max_mirrored_blogs = 1;
    });
    a.start();
    b.start();
    let out = b.admin(&["council", "join", a.admin(&["council", "invite"]).trim()]);
    assert!(out.contains("(2 members)"), "{out}");
    for i in 0..3 {
        let w = tmp.path().join(format!("w{i}"));
        spokes_ok(&w, PASS, &["init", "--name", "Writer", "--title", &format!("Blog {i}")]);
        spokes_ok(&w, PASS, &["spoke", "add", &a.invite()]);
        spokes_ok(&w, PASS, &["new", "--title", &format!("Post {i}"), "--body", "Words."]);
        spokes_ok(&w, PASS, &["publish"]);
    }
    let mirrors = |s: &SpokeProc| -> i64 {
        let db = rusqlite::Connection::open(s.data.join("spoke.db")).unwrap();
        db.query_row("SELECT count(*) FROM blogs WHERE kind = 'mirror'", [], |r| r.get(0)).unwrap()
    };
    assert!(wait_until(std::time::Duration::from_secs(30), || b.refusals().iter().any(|(c, _)| c == "quota")), "no copy was refused: {:?}", b.refusals());
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(mirrors(&b), 1, "copies beyond the operator's limit were taken");
}

/// Attack 12: small requests for large responses. Responses carry an entity tag and a
/// request that names it is answered `304 Not Modified` with no body; the API pages; a
/// publish changes the tag; 200 readers at once are all answered.
#[test]
fn large_responses_are_answered_conditionally_and_in_pages() {
    let tmp = tempfile::tempdir().unwrap();
    let (s, w, blog, _) = published(tmp.path());
    spokes_ok(&w, PASS, &["new", "--title", "Second", "--body", "More words."]);
    spokes_ok(&w, PASS, &["publish"]);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let get = |path: &str, tag: Option<&str>| {
        let mut req = agent.get(&format!("http://{}{path}", s.http));
        if let Some(t) = tag {
            req = req.header("If-None-Match", t);
        }
        let mut r = req.call().unwrap();
        let etag = r.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
        (r.status().as_u16(), etag, r.body_mut().read_to_string().unwrap_or_default())
    };
    for path in [format!("/b/{blog}/bundle.json"), format!("/b/{blog}/feed.atom"), format!("/b/{blog}/"), "/api/v1/blogs".into()] {
        let (status, tag, body) = get(&path, None);
        assert_eq!(status, 200, "{path}");
        let tag = tag.unwrap_or_else(|| panic!("{path}: no ETag"));
        assert!(!body.is_empty());
        let (status, again, body) = get(&path, Some(&tag));
        assert_eq!((status, body.as_str()), (304, ""), "{path}");
        assert_eq!(again.as_deref(), Some(tag.as_str()));
    }
    // Pages of the API.
    let one: serde_json::Value = serde_json::from_str(&get(&format!("/api/v1/blogs/{blog}?limit=1"), None).2).unwrap();
    assert_eq!((one["posts"].as_array().unwrap().len(), one["post_count"].as_u64()), (1, Some(2)));
    let second: serde_json::Value = serde_json::from_str(&get(&format!("/api/v1/blogs/{blog}?offset=1&limit=1"), None).2).unwrap();
    assert_ne!(one["posts"][0]["id"], second["posts"][0]["id"]);
    // A publish changes what is served, and its tag.
    let (_, before, _) = get(&format!("/b/{blog}/bundle.json"), None);
    author_still_publishes(&s, &w, &blog, "Third");
    let (status, after, _) = get(&format!("/b/{blog}/bundle.json"), before.as_deref());
    assert_eq!(status, 200, "a changed bundle was answered as not modified");
    assert_ne!(after, before);
    // Many readers at once.
    let base = format!("http://{}/b/{blog}/", s.http);
    let readers: Vec<_> = (0..200).map(|_| {
        let base = base.clone();
        std::thread::spawn(move || http_get(&base).0)
    }).collect();
    let statuses: Vec<u16> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}
