//! Hostile peers against real spoke processes (the hostile-peers issue). Each test performs
//! an attack through `spokes_e2e::hostile` (a stranger's real iroh endpoint speaking the real
//! protocol) against the `spoke` program operators run, then checks the defence: a typed
//! refusal, bounded memory, a recorded refusal, and the author still publishing.

use spokes_core::problem::Code;
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
    // Version 1 sessions: the writer stays a version 1 blog document.
    hold_version_1(tmp.path());
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
    // Version 1 sessions: the writer stays a version 1 blog document.
    hold_version_1(tmp.path());
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
    assert_eq!(codes[1].map(Code::as_str), Some("malformed"), "{codes:?}");
    assert!(codes[8..].iter().all(|c| c.map(Code::as_str) == Some("rate-limited")), "{codes:?}");
    assert_eq!(written(&s, &blog), before, "sessions that brought nothing wrote nothing");
    // The author, on another endpoint, publishes as often as its own allowance lets it (a
    // publish takes two sessions: one to take in revisions, one to send them).
    for i in 0..3 {
        author_still_publishes(&s, &w, &blog, &format!("During the flood {i}"));
    }
    assert_ne!(written(&s, &blog).0, before.0);
}

/// A running open spoke (it takes any blog), an author who has not published yet and a
/// stranger, Mallory: (spoke, its ticket, author's profile, author's blog ID, Mallory's profile).
fn open_spoke_author_and_mallory(tmp: &Path) -> (SpokeProc, String, PathBuf, String, PathBuf) {
    let mut s = SpokeProc::init(&tmp.join("open"), "Open spoke");
    s.configure(|c| c.admission.mode = spoke::config::AdmissionMode::Open);
    s.start();
    let ticket = s.invite();
    let w = tmp.join("author");
    spokes_ok(&w, PASS, &["init", "--name", "Author", "--title", "The real blog"]);
    let blog = spokes_writer::Profile::open(&w).unwrap().blog_id().to_string();
    let m = tmp.join("mallory");
    spokes_ok(&m, PASS, &["init", "--name", "Mallory", "--title", "Squatter"]);
    (s, ticket, w, blog, m)
}

/// Attack 5: on an open spoke, one session with an empty document and a stranger's
/// certificate bound a blog ID the spoke did not hold yet to the stranger, and the real author
/// was refused for good. Now a blog is taken only with signed revisions, which bind its ID.
#[test]
fn an_empty_session_cannot_squat_a_blog_id() {
    let tmp = tempfile::tempdir().unwrap();
    let (s, ticket, w, blog, m) = open_spoke_author_and_mallory(tmp.path());
    let (mallory_cert, _) = public_parts(&m);
    let answers = HostilePeer::new().session(&ticket, empty_session(&blog, mallory_cert));
    assert_eq!(answers.refusal().map(|r| r.code.as_str()), Some("not-hosted"), "{answers:?}");
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
    // Version 1 sessions: the writer stays a version 1 blog document.
    hold_version_1(tmp.path());
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
    // Version 1 sessions: the writer stays a version 1 blog document.
    hold_version_1(tmp.path());
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
    // Version 1 sessions: the writer stays a version 1 blog document.
    hold_version_1(tmp.path());
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
        assert_eq!(answers.refusal().map(|r| r.code.as_str()), Some(code), "{verb}: {answers:?}");
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

/// Attack 12b: a crowd asking for a blog's verification bundle, which holds every post's
/// document. The spoke makes it once per state of the blog (counted in `/metrics`) and
/// serves the same bytes to all, in version 1 and as a set of documents; a publish makes a
/// new one, and a post taken back leaves the bundle (and the spoke's memory of it) at once.
#[test]
fn a_crowd_asking_for_a_bundle_has_it_made_once() {
    let tmp = tempfile::tempdir().unwrap();
    hold_version_1(tmp.path());
    let (s, w, blog, _) = published(tmp.path());
    let id = spokes_ok(&w, PASS, &["new", "--title", "Regrettable", "--body", "Words to take back."]).trim().to_owned();
    spokes_ok(&w, PASS, &["publish"]);
    let builds = || -> u64 {
        let metrics = s.metrics().1;
        metrics.lines().find(|l| l.starts_with("spoke_bundle_builds_total")).and_then(|l| l.rsplit(' ').next()).and_then(|n| n.parse().ok()).expect("the spoke counts bundles made")
    };
    let path = format!("/b/{blog}/bundle.json");
    let crowd = || -> Vec<String> {
        let url = format!("http://{}{path}", s.http);
        let readers: Vec<_> = (0..24).map(|_| {
            let url = url.clone();
            std::thread::spawn(move || http_get(&url))
        }).collect();
        let answers: Vec<(u16, String)> = readers.into_iter().map(|r| r.join().unwrap()).collect();
        assert!(answers.iter().all(|(status, body)| *status == 200 && *body == answers[0].1), "the crowd was not served one bundle");
        answers.into_iter().map(|(_, body)| body).collect()
    };
    let before = builds();
    let v1 = crowd();
    assert_eq!(builds(), before + 1, "a version 1 bundle was made more than once for one state of the blog");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&v1[0]).unwrap()["version"], 1);

    // The writer's app moves the blog to a set of documents: a new state, one new bundle.
    release_version_1(tmp.path());
    assert!(spokes_ok(&w, PASS, &["upgrade"]).contains("Published to 1 of 1 spoke"));
    let set = crowd();
    assert_eq!(builds(), before + 2);
    let bundle: serde_json::Value = serde_json::from_str(&set[0]).unwrap();
    assert_eq!(bundle["version"], 2);
    assert!(bundle["posts"].as_object().unwrap().contains_key(&id));
    crowd();
    assert_eq!(builds(), before + 2, "an unchanged set blog's bundle was made again");

    // Taken back: the next bundle is made without it.
    spokes_ok(&w, PASS, &["unpublish", &id]);
    let after: serde_json::Value = serde_json::from_str(&crowd()[0]).unwrap();
    assert_eq!(builds(), before + 3);
    assert!(!after["posts"].as_object().unwrap().contains_key(&id), "the bundle still holds the post taken back");
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

/// The address of the spoke behind `ticket`.
/// How long council log entries may take to spread between two running spokes.
const SPREAD: std::time::Duration = std::time::Duration::from_secs(30);

fn addr_of(ticket: &str) -> iroh::EndpointAddr {
    spokes_sync::Ticket::decode(ticket).unwrap().endpoint_addr().unwrap()
}

/// Text deflate cannot shrink much: `n` printable characters from a xorshift generator.
fn noise(n: usize, seed: u64) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (b'!' + (x % 94) as u8) as char
        })
        .collect()
}

/// Attack 6 against spoke processes: a blog larger than a frame (16 MiB) once stored must
/// reach any peer that lacks it. The writer's CLI publishes a 24 MB blog of text deflate
/// cannot shrink to a fresh spoke; then a stranger that holds nothing asks that spoke for it
/// and receives the whole saved document in parts, which loads to the spoke's heads.
#[test]
fn a_blog_over_a_frame_reaches_a_fresh_spoke_and_a_stranger_that_lacks_it() {
    let tmp = tempfile::tempdir().unwrap();
    // Version 1 sessions: the writer stays a version 1 blog document.
    hold_version_1(tmp.path());
    let (spokes_, w, blog) = network(tmp.path(), 1);
    let spoke = &spokes_[0];
    let p = spokes_writer::Profile::open(&w).unwrap();
    for i in 0..12 {
        p.new_post(&format!("Noise {i}"), &noise(2_000_000, i), &[]).unwrap();
    }
    let out = spokes_ok(&w, PASS, &["publish"]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");
    assert_eq!(spoke.json(&format!("/api/v1/blogs/{blog}"))["post_count"], 12);
    let stored = spoke.stored_document();
    assert!(stored.len() > spokes_sync::MAX_FRAME_LEN as usize, "{} bytes stored: not more than a frame", stored.len());

    // A stranger with nothing: hello with no heads, no certificate, no statements, then
    // empty changes parts while the spoke sends its own.
    let mut frames = vec![hostile::hello(&blog, Some(&[])), hostile::certificate(vec![]), hostile::statements(&[])];
    frames.extend((0..8).map(|_| hostile::changes(&[])));
    let answers = HostilePeer::new().session(&spoke.invite(), frames);
    let parts: Vec<&spokes_sync::Frame> = answers.frames.iter().filter(|f| f.typ == spokes_sync::FrameType::Changes).collect();
    assert!(parts.len() >= 2, "{answers:?}");
    assert!(parts[0].payload[0] & 2 != 0, "the first part says it is a whole document");
    let bytes: Vec<u8> = parts.iter().flat_map(|f| f.payload[1..].iter().copied()).collect();
    assert!(bytes.len() > spokes_sync::MAX_FRAME_LEN as usize, "{} bytes received", bytes.len());
    let mut got = spokes_core::doc::load_automerge(&bytes).expect("the parts load as one document");
    let mut theirs = spokes_core::doc::load_automerge(&stored).unwrap();
    let (mut a, mut b) = (got.get_heads(), theirs.get_heads());
    a.sort();
    b.sort();
    assert_eq!(a, b, "the stranger holds what the spoke holds");
}

/// Attack 16 against a spoke process: a `want` list naming one picture a thousand times,
/// and a picture only an unpublished post shows. The spoke reads and sends the shown picture
/// once and the other not at all.
#[test]
fn the_images_protocol_sends_a_repeated_want_once_and_no_picture_of_a_post_taken_down() {
    use spokes_core::image::ImageName;
    use spokes_sync::images::{IMAGES_ALPN, IMAGES_PROTOCOL, ImageList, ImagesHello};
    let tmp = tempfile::tempdir().unwrap();
    // Version 1 sessions: the writer stays a version 1 blog document.
    hold_version_1(tmp.path());
    let (spokes_, w, blog) = network(tmp.path(), 1);
    let spoke = &spokes_[0];
    let mut taken = PNG.to_vec();
    taken.extend_from_slice(b"a picture of a post taken down");
    let (shown_file, taken_file) = (tmp.path().join("shown.png"), tmp.path().join("taken.png"));
    std::fs::write(&shown_file, PNG).unwrap();
    std::fs::write(&taken_file, &taken).unwrap();
    let shown_link = spokes_ok(&w, PASS, &["image", shown_file.to_str().unwrap(), "--alt", "Shown"]);
    let taken_link = spokes_ok(&w, PASS, &["image", taken_file.to_str().unwrap(), "--alt", "Taken down"]);
    spokes_ok(&w, PASS, &["new", "--title", "Shown", "--body", shown_link.trim()]);
    spokes_ok(&w, PASS, &["new", "--title", "Taken down", "--body", taken_link.trim()]);
    assert!(spokes_ok(&w, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    let id = spokes_writer::Profile::open(&w).unwrap().posts().unwrap().into_iter().find(|s| s.post.title == "Taken down").unwrap().post.id;
    spokes_ok(&w, PASS, &["unpublish", &id]);
    let (shown, hidden) = (ImageName::for_bytes(PNG).unwrap(), ImageName::for_bytes(&taken).unwrap());
    let held: i64 = rusqlite::Connection::open(spoke.data.join("spoke.db")).unwrap().query_row("SELECT count(*) FROM images", [], |r| r.get(0)).unwrap();
    assert_eq!(held, 2, "the spoke still holds the picture of the post taken down");

    let mut want = vec![shown.clone(); 1000];
    want.push(hidden);
    let hello = spokes_sync::Frame::json(spokes_sync::FrameType::Hello, &ImagesHello { protocol: IMAGES_PROTOCOL, blog_id: blog.parse().unwrap(), have: vec![], want });
    let nothing = spokes_sync::Frame { typ: spokes_sync::FrameType::Image, payload: vec![] };
    let answers = HostilePeer::new().session_on(addr_of(&spoke.invite()), IMAGES_ALPN, vec![hello, nothing]);
    let list: ImageList = answers.frames.first().expect("an answer").parse_json().unwrap();
    assert_eq!(list.have, vec![shown.clone()], "{answers:?}");
    let sent: Vec<&Vec<u8>> = answers.frames.iter().filter(|f| f.typ == spokes_sync::FrameType::Image && !f.payload.is_empty()).map(|f| &f.payload).collect();
    let mut expected = format!("{shown}\n").into_bytes();
    expected.extend_from_slice(PNG);
    assert_eq!(sent, vec![&expected], "the shown picture once (its name, a newline, its bytes), nothing else");
}

/// Attack 8 against spoke processes, and the Sybil test of the council issue. A stranger
/// floods a council member with log entries signed by fresh keys (votes against a member,
/// approvals of each other): nothing is stored. Then a dishonest spoke joins a council of two
/// honest spokes (proposed by the founder, approved by the second: it needs both), proposes
/// ten friends of its own making, which approve each other and vote the second spoke out, and
/// votes it out too. None of the friends joins, the second stays, the friends' entries are
/// refused and not stored, and every member's public log (`/council`) shows it all, checkable
/// by anyone.
#[test]
fn a_dishonest_member_inviting_ten_friends_admits_none_and_they_cannot_remove_anyone() {
    use spoke::council::{Act, COUNCIL_ALPN, COUNCIL_PROTOCOL, CouncilHello, CouncilTicket, Entry, FORMAT, MemberInfo, Membership, SignedEntry, consent};
    let tmp = tempfile::tempdir().unwrap();
    let mut founder = SpokeProc::init(&tmp.path().join("founder"), "Founder");
    let mut second = SpokeProc::init(&tmp.path().join("second"), "Second");
    founder.start();
    second.start();
    form_council(&[&founder, &second]);
    let addr = addr_of(&founder.invite());
    let members = |s: &SpokeProc| s.json("/api/v1/council")["members"].as_array().map_or(0, Vec::len);
    // The public log, taken as any reader could and checked entry by entry.
    let log = |s: &SpokeProc| {
        let v = s.json("/council");
        let entries: Vec<SignedEntry> = v["entries"].as_array().unwrap().iter().map(|e| SignedEntry { entry: e["entry"].as_str().unwrap().into(), signature: e["signature"].as_str().unwrap().into() }).collect();
        let mut m = Membership::new();
        let (_, refused) = m.merge(entries);
        assert!(refused.is_empty(), "{refused:?}");
        assert_eq!(m.heads(), serde_json::from_value::<Vec<String>>(v["heads"].clone()).unwrap());
        m
    };
    let public = log(&founder);
    let id = public.id().unwrap().to_owned();
    let fresh = |i: usize| {
        let key = iroh::SecretKey::generate();
        let info = MemberInfo { endpoint: key.public().to_string(), addrs: vec![], web: "https://friend.example".into(), name: format!("friend {i}"), relay: None };
        (key, info)
    };
    let hello = |me: &MemberInfo, entries: Vec<SignedEntry>, token: Option<(String, String)>| {
        let (token, consent) = token.unzip();
        spokes_sync::Frame::json(spokes_sync::FrameType::Membership, &CouncilHello { protocol: COUNCIL_PROTOCOL, council: Some(id.clone()), member: me.clone(), entries, have: vec![], token, consent, ready: None, digest: None })
    };
    let signed_by = |key: &iroh::SecretKey, heads: Vec<String>, act: Act| SignedEntry::sign(&Entry { v: FORMAT, council: id.clone(), prev: heads, by: key.public().to_string(), at: 1, act }, key);

    // A stranger's flood: votes against the second spoke, proposals among strangers.
    let strangers: Vec<_> = (0..300).map(fresh).collect();
    let (flood_key, flood_me) = fresh(999);
    let mut flood: Vec<SignedEntry> = strangers.iter().map(|k| signed_by(&k.0, public.heads(), Act::Remove { member: second.endpoint_id(), reason: "flood".into() })).collect();
    flood.extend(strangers.windows(2).map(|w| signed_by(&w[0].0, public.heads(), Act::Join { consent: consent(&w[1].0, &id, &w[1].1), member: w[1].1.clone() })));
    let answers = HostilePeer::with_key(flood_key).session_on(addr.clone(), COUNCIL_ALPN, vec![hello(&flood_me, flood, None)]);
    assert_eq!(answers.refusal().map(|r| r.code.as_str()), Some("not-a-member"), "{answers:?}");
    assert_eq!(log(&founder).len(), public.len(), "nothing of a stranger's is stored");
    assert_eq!(members(&founder), 2);

    // The dishonest spoke joins with a real invite: the founder's proposal is not enough.
    let ticket = CouncilTicket::decode(founder.admin(&["council", "invite"]).trim()).unwrap();
    let (evil_key, evil_me) = fresh(1000);
    let evil = HostilePeer::with_key(evil_key.clone());
    let joined = evil.session_on(addr.clone(), COUNCIL_ALPN, vec![hello(&evil_me, vec![], Some((ticket.token.clone(), consent(&evil_key, &id, &evil_me))))]);
    let waiting = joined.refusal().expect("not admitted yet");
    assert_eq!(waiting.code.as_str(), "not-a-member");
    assert!(waiting.message.contains("approval"), "{}", waiting.message);
    assert_eq!(members(&founder), 2);
    assert!(second.admin(&["council", "approve", &evil_me.endpoint]).contains("is admitted"));
    assert!(wait_until(SPREAD, || members(&founder) == 3 && members(&second) == 3), "the approval did not spread");

    // Ten friends: proposed by the dishonest member; they approve each other and vote the
    // second spoke out, as does the dishonest member.
    let mut evil_log = log(&founder);
    let friends: Vec<_> = (0..10).map(fresh).collect();
    let mut sent = Vec::new();
    for f in &friends {
        sent.push(evil_log.sign(&evil_key, Act::Join { consent: consent(&f.0, &id, &f.1), member: f.1.clone() }, 2).unwrap());
    }
    sent.push(evil_log.sign(&evil_key, Act::Remove { member: second.endpoint_id(), reason: "outvoted".into() }, 2).unwrap());
    let joins: Vec<String> = sent[..10].iter().map(SignedEntry::hash).collect();
    for f in &friends {
        for j in &joins {
            sent.push(signed_by(&f.0, evil_log.heads(), Act::Approve { join: j.clone() }));
        }
        sent.push(signed_by(&f.0, evil_log.heads(), Act::Remove { member: second.endpoint_id(), reason: "outvoted".into() }));
    }
    let answers = evil.session_on(addr.clone(), COUNCIL_ALPN, vec![hello(&evil_me, sent, None)]);
    assert!(answers.refusal().is_none(), "{:?}", answers.refusal());
    // Each friend presenting itself is told it waits: none is a member.
    for f in &friends[..2] {
        let a = HostilePeer::with_key(f.0.clone()).session_on(addr.clone(), COUNCIL_ALPN, vec![hello(&f.1, vec![], None)]);
        assert_eq!(a.refusal().map(|r| r.code.as_str().to_owned()), Some("not-a-member".to_owned()));
    }
    // The dishonest member's own entries spread; the friends' were refused and are nowhere.
    assert!(wait_until(SPREAD, || log(&second).len() == public.len() + 2 + 11), "the dishonest member's entries did not reach the second spoke");
    for s in [&founder, &second] {
        let m = log(s);
        assert_eq!(m.members().len(), 3);
        assert!(m.is_member(&second.endpoint_id()), "an honest member was voted out");
        assert!(friends.iter().all(|f| !m.is_member(&f.1.endpoint)));
        assert_eq!(m.pending_joins().len(), 10);
        assert!(m.pending_joins().iter().all(|p| p.needed == 1 && p.approvals.len() == 1));
        let text = s.get("/council").1;
        assert!(friends.iter().all(|f| !text.contains(&format!("\"by\":\"{}\"", f.1.endpoint))), "a friend's entry is stored");
    }
    assert!(founder.refusals().iter().any(|(c, _)| c == "bad-council-entry"), "{:?}", founder.refusals());
    let listed = founder.admin(&["council", "members"]);
    assert_eq!(listed.matches("Waiting to join: friend").count(), 10, "{listed}");
}

/// Attack 10 against the writer's library: a hostile spoke answers the writer's `spokes
/// publish` with an invented refusal code and a 14 MiB message with control characters. The
/// writer records the code as `unknown` and at most 300 characters of the message, none of
/// them control characters.
#[test]
fn a_hostile_spokes_refusal_reaches_the_writer_bounded() {
    // 14 MiB: the frame holds it JSON-escaped (control characters take six bytes there).
    let message = format!("\u{1b}[2J\u{7}{}", "deleted your blog\r\n".repeat(14 * 1024 * 1024 / 19));
    let evil = spokes_sync::Frame::json(spokes_sync::FrameType::Error, &serde_json::json!({"code": "evil\u{1b}[31m-code", "message": message}));
    let (ticket, _spoke) = hostile::hostile_spoke(vec![evil]);
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("w");
    spokes_ok(&w, PASS, &["init", "--name", "Ada", "--title", "Notes"]);
    spokes_ok(&w, PASS, &["spoke", "add", &ticket]);
    spokes_ok(&w, PASS, &["new", "--title", "Hello", "--body", "Words."]);
    let out = spokes_exit(&w, PASS, &["publish"], 4);
    assert!(out.contains("Not published yet") && out.contains("refused: unknown: ") && !out.contains('\u{1b}'), "{out}");
    assert!(out.len() < 2048, "the writer is shown a bounded message: {} bytes", out.len());
    let status = std::fs::read_to_string(w.join("status.json")).unwrap();
    assert!(status.len() < 4096, "the status file holds a bounded message: {} bytes", status.len());
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    let endpoint = spokes_sync::Ticket::decode(&ticket).unwrap().endpoint;
    let problem = &status[endpoint.as_str()]["last_error"];
    assert_eq!(problem["code"], "unknown", "{problem}");
    let message = problem["message"].as_str().unwrap();
    assert!(!message.chars().any(char::is_control), "{message:?}");
    assert!(message.contains("deleted your blog"), "{message:?}");
}

/// Attack 1 against the writer's library: a hostile spoke answers the writer's publish with a
/// compressed change that inflates to 1 GiB. The CLI refuses it before Automerge inflates
/// it, says so in plain words, and its blog is as it was.
#[test]
fn a_hostile_spokes_decompression_bomb_is_refused_by_the_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("w");
    spokes_ok(&w, PASS, &["init", "--name", "Ada", "--title", "Notes"]);
    spokes_ok(&w, PASS, &["new", "--title", "Hello", "--body", "Words."]);
    spokes_ok(&w, PASS, &["publish", "--offline"]);
    let blog = spokes_writer::Profile::open(&w).unwrap().blog_id().to_string();
    let bomb = spokes_core::expansion::compressed_change_bomb(1 << 30);
    let empty = spokes_sync::Frame { typ: spokes_sync::FrameType::Certificate, payload: vec![] };
    let script = vec![hostile::hello(&blog, Some(&[])), empty, hostile::statements(&[]), hostile::changes(&bomb)];
    let (ticket, _spoke) = hostile::hostile_spoke(script);
    let before = std::fs::read(w.join("blog.automerge")).unwrap();
    spokes_ok(&w, PASS, &["spoke", "add", &ticket]);
    let started = std::time::Instant::now();
    let out = spokes_exit(&w, PASS, &["sync", "--published-only"], 4);
    assert!(out.contains("sent far more data than your blog holds"), "{out}");
    // Inflating 1 GiB three times over (as Automerge would) takes far longer than the refusal.
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "{:?}", started.elapsed());
    assert_eq!(std::fs::read(w.join("blog.automerge")).unwrap(), before, "the blog is as it was");
}

/// Attack 10 against a spoke process: a peer ends a session with an invented refusal code and
/// a 14 MiB message full of control characters. Nothing of it becomes a metric label, and
/// what the spoke keeps of it is bounded.
#[test]
fn a_peers_refusal_reaches_a_spoke_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    // Version 1 sessions: the writer stays a version 1 blog document.
    hold_version_1(tmp.path());
    let (s, _w, blog, ticket) = published(tmp.path());
    let message = format!("\u{1b}[2J\u{7}{}", "deleted your blog\r\n".repeat(14 * 1024 * 1024 / 19));
    let evil = spokes_sync::Frame::json(spokes_sync::FrameType::Error, &serde_json::json!({"code": "evil\u{1b}[31m-code", "message": message}));
    for _ in 0..3 {
        HostilePeer::new().session(&ticket, vec![hostile::hello(&blog, None), evil.clone()]);
    }
    let (code, metrics) = s.metrics();
    assert_eq!(code, 200);
    assert!(!metrics.contains("evil") && !metrics.contains("deleted your blog"), "peer text became a metric label");
    let refusals = s.admin(&["refusals", "--limit", "1000"]);
    assert!(refusals.len() < 16 * 1024, "the refusals table holds {} bytes", refusals.len());
    assert!(!refusals.contains('\u{1b}') && !refusals.contains("evil\u{1b}"), "{refusals}");
    assert!(refusals.contains("deleted your blog"), "the peer's refusal is recorded, bounded: {refusals}");
    let db = rusqlite::Connection::open(s.data.join("spoke.db")).unwrap();
    let longest: i64 = db.query_row("SELECT coalesce(max(length(reason)), 0) FROM refusals", [], |r| r.get(0)).unwrap();
    assert!(longest <= 1024, "a stored reason of {longest} bytes");
}

/// `spokes/sync/2` (documents per post) against a real spoke holding an upgraded blog: a
/// manifest altered after signing, unreadable manifests, a have-list past its bound, a post
/// document nobody asked for, a version 1 hello on the new protocol, and a version 1 session
/// for the upgraded blog. Each is refused with its code and nothing is written; the author
/// still publishes.
#[test]
fn hostile_set_sessions_are_refused_and_change_nothing() {
    use spokes_sync::frame::{Frame, FrameType};
    let tmp = tempfile::tempdir().unwrap();
    let (s, w, blog, ticket) = published(tmp.path());
    assert!(spokes_ok(&w, PASS, &["upgrade"]).contains("1 of 1"));
    let addr = addr_of(&ticket);
    let (cert, _) = public_parts(&w);
    let bundle_before = s.get(&format!("/b/{blog}/bundle.json")).1;
    // The author signs a second manifest without sending it: a header the spoke lacks.
    spokes_ok(&w, PASS, &["new", "--title", "Not sent yet", "--body", "Offline words."]);
    spokes_ok(&w, PASS, &["publish", "--offline"]);
    let (frontier, recent) = stored_manifests(&w);
    let (unsent, manifest) = (frontier[0].clone(), recent[0].clone());
    let hello = hostile::set_hello(&blog);
    let parts = hostile::manifests;
    let opening = || vec![hello.clone(), hostile::certificate(cert.clone()), Frame::json(FrameType::ManifestHave, &Vec::<String>::new())];
    let peer = HostilePeer::new();
    let refused = |frames: Vec<Frame>| peer.session_on(addr.clone(), spokes_sync::set::SET_ALPN, frames).refusal().map(|r| r.code);

    // The author's unsent manifest with one leaf changed: it no longer gives the signed root.
    let mut forged = unsent.clone();
    let mut fields: Vec<String> = forged["leaves"][0].as_str().unwrap().split(' ').map(str::to_owned).collect();
    fields[5] = "forged".into();
    let leaf = fields.join(" ");
    forged["leaves"][0] = serde_json::Value::String(leaf);
    assert_eq!(refused([opening(), vec![parts(&serde_json::json!([forged]))]].concat()), Some(Code::Malformed));
    // Not JSON; a manifest signed by nobody.
    let mut garbage = vec![0u8];
    garbage.extend_from_slice(b"{not json");
    assert_eq!(refused([opening(), vec![Frame { typ: FrameType::Manifests, payload: garbage }]].concat()), Some(Code::Malformed));
    let mut unsigned = unsent.clone();
    unsigned["signature"] = serde_json::Value::String("00".into());
    assert!(matches!(refused([opening(), vec![parts(&serde_json::json!([unsigned]))]].concat()), Some(Code::Malformed | Code::BadSignature)));
    // A have-list past its bound.
    let many: Vec<String> = (0..1000).map(|i| format!("{i:064x}")).collect();
    assert_eq!(refused(vec![hello.clone(), hostile::certificate(cert.clone()), Frame::json(FrameType::ManifestHave, &many)]), Some(Code::Malformed));
    // The author's manifest replayed (the spoke holds it: nothing is wanted), then a post
    // document nobody asked for.
    let junk = hostile::post_changes(&[("00000000000000ff", true, b"junk")]);
    let frames = [opening(), vec![parts(&serde_json::json!([manifest])), Frame::json(FrameType::Wants, &serde_json::json!({})), junk]].concat();
    assert_eq!(refused(frames), Some(Code::Malformed));
    // A version 1 hello on the new protocol; a version 1 session for the upgraded blog.
    let old = Frame::json(FrameType::Hello, &serde_json::json!({"protocol": 1, "blog_id": blog}));
    assert_eq!(refused(vec![old]), Some(Code::UnsupportedVersion));
    assert_eq!(peer.session(&ticket, empty_session(&blog, cert.clone())).refusal().map(|r| r.code), Some(Code::UnsupportedVersion));

    assert_eq!(s.get(&format!("/b/{blog}/bundle.json")).1, bundle_before, "nothing was written");
    let refusals: Vec<String> = s.refusals().into_iter().map(|(code, _)| code).collect();
    assert!(refusals.iter().any(|c| c == "malformed") && refusals.iter().any(|c| c == "unsupported-version"), "{refusals:?}");
    author_still_publishes(&s, &w, &blog, "After the attack");
}

/// The manifests an upgraded profile holds, each whole: (frontier, recent).
fn stored_manifests(w: &Path) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let (frontier, recent) = spokes_writer::Profile::open(w).unwrap().stored_manifests().unwrap();
    let json = |ms: Vec<spokes_sync::set::StoredManifest>| ms.into_iter().map(|m| serde_json::to_value(m).unwrap()).collect();
    (json(frontier), json(recent))
}

/// What a spoke holds of a set blog in its database: (manifests, post documents, bytes of
/// post documents).
fn set_rows(s: &SpokeProc, blog: &str) -> (i64, i64, i64) {
    let db = rusqlite::Connection::open(s.data.join("spoke.db")).unwrap();
    let manifests = db.query_row("SELECT count(*) FROM set_manifests WHERE blog_id = ?1", [blog], |r| r.get(0)).unwrap();
    let (posts, bytes) = db.query_row("SELECT count(*), coalesce(sum(length(document)), 0) FROM set_posts WHERE blog_id = ?1", [blog], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    (manifests, posts, bytes)
}

/// Attack 4 on `spokes/sync/2`: a stranger's set sessions for someone's upgraded blog, empty
/// or refused, spend the stranger's own hourly allowance, never the blog's, and write
/// nothing; the author keeps publishing through the flood.
#[test]
fn a_strangers_set_sessions_spend_only_its_own_allowance_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, w, blog, ticket) = published(tmp.path());
    assert!(spokes_ok(&w, PASS, &["upgrade"]).contains("1 of 1"));
    s.stop();
    s.configure(|c| c.admission.max_sessions_per_hour = 8);
    s.start();
    let (cert, _) = public_parts(&w);
    let before = (written(&s, &blog).0, set_rows(&s, &blog));
    let peer = HostilePeer::new();
    let addr = addr_of(&ticket);
    let mut codes = Vec::new();
    for i in 0..20 {
        let mut frames = hostile::empty_set_session(&blog, cert.clone());
        if i % 2 == 1 {
            // Manifests that are not JSON, in place of the empty list.
            frames.truncate(3);
            frames.push(spokes_sync::Frame { typ: spokes_sync::FrameType::Manifests, payload: b"\0[{garbage".to_vec() });
        }
        codes.push(peer.session_on(addr.clone(), spokes_sync::set::SET_ALPN, frames).refusal().map(|r| r.code));
    }
    assert_eq!(codes[0], None, "the empty session completes: {codes:?}");
    assert_eq!(codes[1], Some(Code::Malformed), "{codes:?}");
    assert!(codes[8..].iter().all(|c| *c == Some(Code::RateLimited)), "{codes:?}");
    assert_eq!((written(&s, &blog).0, set_rows(&s, &blog)), before, "sessions that brought nothing wrote nothing");
    for i in 0..3 {
        author_still_publishes(&s, &w, &blog, &format!("During the flood {i}"));
    }
    assert_ne!(set_rows(&s, &blog), before.1);
}

/// Attack 5 on `spokes/sync/2`: on an open spoke, a stranger tries to take a blog ID the
/// spoke does not hold yet with a set session: first with no manifest, then with a manifest
/// the stranger signed for that ID. Both are refused and nothing is taken; the real author's
/// first publish of the upgraded blog is taken.
#[test]
fn a_set_session_cannot_squat_a_blog_id() {
    let tmp = tempfile::tempdir().unwrap();
    let (s, ticket, w, blog, m) = open_spoke_author_and_mallory(tmp.path());
    let addr = addr_of(&ticket);
    let (mallory_cert, _) = public_parts(&m);
    let peer = HostilePeer::new();
    let answers = peer.session_on(addr.clone(), spokes_sync::set::SET_ALPN, hostile::empty_set_session(&blog, mallory_cert.clone()));
    assert_eq!(answers.refusal().map(|r| r.code), Some(Code::NotHosted), "{answers:?}");
    // A manifest Mallory signed, naming the author's blog ID (and her own settings).
    let mallory = spokes_writer::Profile::open(&m).unwrap();
    let mut key = mallory.unlock(PASS).unwrap();
    let settings = spokes_core::manifest::SiteSettings { blog: mallory.settings().unwrap(), owner: mallory.certificate().unwrap().fingerprint(), ..Default::default() };
    let forged = spokes_core::manifest::Manifest::new(blog.parse().unwrap(), &settings);
    let signed = spokes_sync::set::SignedManifest::sign(forged, &mut key).unwrap();
    let stored = serde_json::to_value(spokes_sync::set::StoredManifest::of(&signed)).unwrap();
    let mut frames = hostile::empty_set_session(&blog, mallory_cert);
    frames[3] = hostile::manifests(&serde_json::json!([stored]));
    let answers = peer.session_on(addr.clone(), spokes_sync::set::SET_ALPN, frames);
    let refused = answers.refusal().map(|r| r.code);
    assert!(matches!(refused, Some(Code::WrongBlog | Code::WrongCertificate)), "{refused:?} {answers:?}");
    assert_eq!(s.json("/api/v1/blogs").as_array().map_or(0, Vec::len), 0, "nothing was taken");
    // The author's first publish, then the upgrade, are taken.
    spokes_ok(&w, PASS, &["spoke", "add", &ticket]);
    author_still_publishes(&s, &w, &blog, "Mine");
    assert!(spokes_ok(&w, PASS, &["upgrade"]).contains("1 of 1"));
    author_still_publishes(&s, &w, &blog, "Still mine");
    let fingerprint = spokes_writer::Profile::open(&w).unwrap().certificate().unwrap().fingerprint();
    assert_eq!(s.json(&format!("/api/v1/blogs/{blog}"))["fingerprint"], fingerprint.as_str(), "the blog is the author's");
}

/// Attack 3 on `spokes/sync/2`: copies of the author's signed manifests that differ only in
/// the signature's unsigned area all verify; a stranger sends the spoke sixteen of them, of
/// the manifest it holds and of the one it held before. The spoke keeps each manifest once
/// (by the hash of its signed header), so its rows, and the blog's quota, do not grow.
#[test]
fn copies_of_a_signed_manifest_are_kept_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (s, w, blog, ticket) = published(tmp.path());
    assert!(spokes_ok(&w, PASS, &["upgrade"]).contains("1 of 1"));
    author_still_publishes(&s, &w, &blog, "A second manifest");
    let (cert, _) = public_parts(&w);
    let (frontier, recent) = stored_manifests(&w);
    let held = set_rows(&s, &blog);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let unhex = |t: &str| (0..t.len()).step_by(2).map(|i| u8::from_str_radix(&t[i..i + 2], 16).unwrap()).collect::<Vec<u8>>();
    let copies: Vec<serde_json::Value> = (0..8u32)
        .flat_map(|i| [&frontier[0], &recent[0]].map(|m| (i, m.clone())))
        .map(|(i, mut m)| {
            let st = spokes_core::SignedStatement { statement: m["statement"].as_str().unwrap().to_owned(), signature: unhex(m["signature"].as_str().unwrap()) };
            let copy = malleated(&st, i);
            assert_ne!(copy.signature, st.signature);
            m["signature"] = serde_json::Value::String(hex(&copy.signature));
            m
        })
        .collect();
    let mut frames = hostile::empty_set_session(&blog, cert);
    frames[3] = hostile::manifests(&serde_json::Value::Array(copies));
    let answers = HostilePeer::new().session_on(addr_of(&ticket), spokes_sync::set::SET_ALPN, frames);
    assert!(answers.refusal().is_none(), "{answers:?}");
    assert_eq!(set_rows(&s, &blog), held, "no copy was kept");
    author_still_publishes(&s, &w, &blog, "After the copies");
}

/// Attack 1 on `spokes/sync/2`: a stranger replays the author's newest signed manifest (one
/// the spoke lacks, naming a new post), and answers the spoke's want for that post with a
/// compressed change that inflates to 1 GiB as its document. The spoke refuses it as
/// `too-large` before Automerge inflates it, stays small, and takes nothing of the session:
/// not the manifest, not the post.
#[test]
fn a_decompression_bomb_as_a_post_document_is_refused_and_the_spoke_stays_small() {
    use spokes_sync::frame::{Frame, FrameType};
    let tmp = tempfile::tempdir().unwrap();
    let (s, w, blog, ticket) = published(tmp.path());
    assert!(spokes_ok(&w, PASS, &["upgrade"]).contains("1 of 1"));
    // A manifest the spoke lacks: the author publishes a new post offline.
    spokes_ok(&w, PASS, &["new", "--title", "Not sent yet", "--body", "Offline words."]);
    spokes_ok(&w, PASS, &["publish", "--offline"]);
    let (frontier, _) = stored_manifests(&w);
    let posts = spokes_writer::Profile::open(&w).unwrap().posts().unwrap();
    let id = posts.iter().find(|p| p.post.title == "Not sent yet").map(|p| p.post.id.clone()).unwrap();
    let (cert, _) = public_parts(&w);
    let held = set_rows(&s, &blog);
    let bundle_before = s.get(&format!("/b/{blog}/bundle.json")).1;
    let bomb = spokes_core::expansion::compressed_change_bomb(1 << 30);
    let peer = HostilePeer::new();
    // As the whole document, and as changes to it.
    for whole in [true, false] {
        let frames = vec![
            hostile::set_hello(&blog),
            hostile::certificate(cert.clone()),
            Frame::json(FrameType::ManifestHave, &Vec::<String>::new()),
            hostile::manifests(&serde_json::Value::Array(frontier.clone())),
            Frame::json(FrameType::Wants, &serde_json::json!({})),
            hostile::post_changes(&[(id.as_str(), whole, &bomb)]),
        ];
        let answers = peer.session_on(addr_of(&ticket), spokes_sync::set::SET_ALPN, frames);
        // The spoke asked for the new post (the replayed manifest lists it) before refusing.
        let wants = answers.frames.iter().find(|f| f.typ == FrameType::Wants).map(|f| f.parse_json::<serde_json::Value>().unwrap());
        assert!(wants.as_ref().is_some_and(|w| w.get(id.as_str()).is_some()), "{wants:?}");
        let refusal = answers.refusal().unwrap_or_else(|| panic!("no refusal: {answers:?}"));
        assert_eq!(refusal.code, Code::TooLarge, "{refusal:?}");
    }
    let peak = s.peak_rss().unwrap();
    assert!(peak < 300 << 20, "the spoke grew to {} MiB", peak >> 20);
    assert_eq!(set_rows(&s, &blog), held, "nothing of the sessions was kept");
    assert_eq!(s.get(&format!("/b/{blog}/bundle.json")).1, bundle_before);
    // The author's own publish brings the post.
    let out = spokes_ok(&w, PASS, &["publish"]);
    assert!(out.contains("1 of 1"), "{out}");
    assert!(s.get(&format!("/api/v1/blogs/{blog}")).1.contains("Not sent yet"));
}

/// Attack 8 against the writer on `spokes/sync/2`: a hostile spoke answers an upgraded
/// profile's sync with manifests that are not JSON. The writer refuses them, says so in plain
/// words (no protocol terms), and its blog and manifests are as they were.
#[test]
fn a_hostile_spokes_unreadable_manifests_are_refused_by_the_writer() {
    use spokes_sync::frame::{Frame, FrameType};
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("w");
    spokes_ok(&w, PASS, &["init", "--name", "Ada", "--title", "Notes"]);
    spokes_ok(&w, PASS, &["new", "--title", "Hello", "--body", "Words."]);
    spokes_ok(&w, PASS, &["publish", "--offline"]);
    assert!(spokes_ok(&w, PASS, &["upgrade", "--offline"]).contains("1 published posts moved"));
    let blog = spokes_writer::Profile::open(&w).unwrap().blog_id().to_string();
    let empty = Frame { typ: FrameType::Certificate, payload: vec![] };
    let garbage = Frame { typ: FrameType::Manifests, payload: b"\0[{\"statement\": 7".to_vec() };
    let script = vec![hostile::set_hello(&blog), empty, Frame::json(FrameType::ManifestHave, &Vec::<String>::new()), garbage];
    let (ticket, _spoke) = hostile::hostile_spoke_on(spokes_sync::set::SET_ALPN, script);
    spokes_ok(&w, PASS, &["spoke", "add", &ticket]);
    // The spoke list is part of the signed settings: sign it before comparing.
    spokes_ok(&w, PASS, &["publish", "--offline"]);
    let before = (std::fs::read(w.join("blog.automerge")).unwrap(), std::fs::read(w.join("set/manifests.json")).unwrap());
    let out = spokes_exit(&w, PASS, &["sync", "--published-only"], 4);
    assert!(out.contains("sent something Spokes could not read"), "{out}");
    assert!(!out.contains("malformed") && !out.contains("manifest"), "no protocol terms: {out}");
    let after = (std::fs::read(w.join("blog.automerge")).unwrap(), std::fs::read(w.join("set/manifests.json")).unwrap());
    assert!(after.0 == before.0, "the blog is as it was");
    assert!(after.1 == before.1, "the manifests are as they were: {}", String::from_utf8_lossy(&after.1));
}

/// Attack 6 on `spokes/sync/2`: a set blog whose post documents together pass a frame
/// (16 MiB) reaches a fresh spoke from the writer's CLI, and a stranger that holds nothing
/// and asks that spoke for every post receives each whole document, in parts, loading to
/// the heads the spoke stores.
#[test]
fn a_set_blog_over_a_frame_reaches_a_fresh_spoke_and_a_stranger_that_lacks_it() {
    use spokes_sync::frame::{Frame, FrameType};
    let tmp = tempfile::tempdir().unwrap();
    let (spokes_, w, blog) = network(tmp.path(), 1);
    let spoke = &spokes_[0];
    assert!(spokes_ok(&w, PASS, &["upgrade", "--offline"]).contains("0 published posts moved"));
    // Imported, as a writer brings a large blog (posts made one by one in the app would each
    // be a change of two million operations, which Automerge loads far more slowly).
    let md = tmp.path().join("md");
    std::fs::create_dir(&md).unwrap();
    for i in 0..12 {
        std::fs::write(md.join(format!("noise-{i}.md")), format!("---\ntitle: Noise {i}\n---\n{}\n", noise(2_000_000, i))).unwrap();
    }
    assert!(spokes_ok(&w, PASS, &["import", md.to_str().unwrap()]).contains("Imported 12 posts"));
    let ids: Vec<String> = spokes_writer::Profile::open(&w).unwrap().posts().unwrap().into_iter().map(|s| s.post.id).collect();
    let out = spokes_ok(&w, PASS, &["publish"]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");
    assert_eq!(spoke.json(&format!("/api/v1/blogs/{blog}"))["post_count"], 12);
    let (_, posts, bytes) = set_rows(spoke, &blog);
    assert_eq!(posts, 12);
    assert!(bytes > i64::from(spokes_sync::MAX_FRAME_LEN), "{bytes} bytes stored: not more than a frame");

    // A stranger with nothing wants every post the author listed.
    let (cert, _) = public_parts(&w);
    let wants: serde_json::Map<String, serde_json::Value> = ids.iter().map(|id| (id.clone(), serde_json::json!([]))).collect();
    let mut frames = vec![
        hostile::set_hello(&blog),
        hostile::certificate(cert),
        Frame::json(FrameType::ManifestHave, &Vec::<String>::new()),
        hostile::manifests(&serde_json::json!([])),
        Frame::json(FrameType::Wants, &wants),
    ];
    frames.extend((0..16).map(|_| hostile::post_changes(&[])));
    let answers = HostilePeer::new().session_on(addr_of(&spoke.invite()), spokes_sync::set::SET_ALPN, frames);
    assert!(answers.refusal().is_none(), "{answers:?}");
    let parts: Vec<&Frame> = answers.frames.iter().filter(|f| f.typ == FrameType::PostChanges).collect();
    assert!(parts.len() >= 2, "{answers:?}");
    let bytes: Vec<u8> = parts.iter().flat_map(|f| f.payload[1..].iter().copied()).collect();
    assert!(bytes.len() > spokes_sync::MAX_FRAME_LEN as usize, "{} bytes received", bytes.len());
    let db = rusqlite::Connection::open(spoke.data.join("spoke.db")).unwrap();
    let mut rest = bytes.as_slice();
    let mut got = Vec::new();
    while let Some((&n, tail)) = rest.split_first() {
        let (id, tail) = tail.split_at(usize::from(n));
        let id = std::str::from_utf8(id).unwrap().to_owned();
        assert_eq!(tail[0], 1, "post {id} is sent whole");
        let len = u32::from_be_bytes(tail[1..5].try_into().unwrap()) as usize;
        let mut doc = spokes_core::postdoc::PostDoc::load(&tail[5..5 + len], &blog.parse().unwrap(), &id).expect("a whole post document");
        let stored: Vec<u8> = db.query_row("SELECT document FROM set_posts WHERE blog_id = ?1 AND post_id = ?2", [&blog, &id], |r| r.get(0)).unwrap();
        let mut stored = spokes_core::postdoc::PostDoc::load(&stored, &blog.parse().unwrap(), &id).unwrap();
        let sorted = |mut h: Vec<automerge::ChangeHash>| {
            h.sort();
            h
        };
        assert_eq!(sorted(doc.heads()), sorted(stored.heads()), "post {id}: the stranger holds what the spoke holds");
        got.push(id);
        rest = &tail[5 + len..];
    }
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want);
}

/// `spokes/drafts/2` against a spoke process: items sealed by a stranger's key, misnamed
/// items, items past the blog's limit and wants for items that do not exist. Each bad item is
/// refused with its code (and recorded), nothing of it is stored, and the writer's own
/// drafts exchange still works.
#[test]
fn draft_items_from_a_stranger_or_past_the_limit_are_refused_and_store_nothing() {
    use spokes_sync::drafts::{open_items, MAX_ITEMS};
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, w, blog, ticket) = published(tmp.path());
    // A small limit per blog, so that the test can pass it.
    s.stop();
    s.configure(|c| c.admission.max_bytes = 256 * 1024);
    s.start();
    let out = spokes(&w, PASS, &["sync"]);
    assert!(out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("Drafts:"), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = |s: &SpokeProc| -> Vec<(String, String, Vec<u8>)> {
        let db = rusqlite::Connection::open(s.data.join("spoke.db")).unwrap();
        let mut st = db.prepare("SELECT device, item, hash FROM draft_items ORDER BY device, item").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
    };
    let before = rows(&s);
    assert_eq!(before.len(), 2, "the writer's index and post");

    let author = spokes_writer::Profile::open(&w).unwrap();
    let cert = author.certificate().unwrap();
    let mut key = author.unlock(PASS).unwrap();
    // Mallory, a writer of her own blog: her key seals for the author's certificate.
    let mallory = tmp.path().join("mallory");
    spokes_ok(&mallory, PASS, &["init", "--name", "Mallory", "--title", "Not yours"]);
    let mut mkey = spokes_writer::Profile::open(&mallory).unwrap().unlock(PASS).unwrap();
    let blog_id: spokes_core::BlogId = blog.parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let endpoint = rt.block_on(spokes_sync::net::bind_endpoint(iroh::SecretKey::generate(), "127.0.0.1:0".parse().unwrap(), vec![])).unwrap();
    let exchange = |puts: Vec<(String, Vec<u8>)>, wants: Vec<(String, String)>| {
        rt.block_on(async {
            let (ex, inventory) = open_items(&endpoint, addr_of(&ticket), &blog_id).await?;
            ex.finish(&puts, &wants).await.map(|got| (inventory, got))
        })
    };
    let refused = |r: Result<_, spokes_sync::SyncError>| match r {
        Err(spokes_sync::SyncError::Remote(e)) => e.code,
        Err(e) => panic!("not a refusal: {e}"),
        Ok(_) => panic!("accepted"),
    };
    let post_id = "ab".repeat(8);
    // Sealed by a key that is not the author's.
    let forged = spokes_core::seal::seal(b"spokes drafts bundle v1\n", &cert, &mut mkey).unwrap();
    assert_eq!(refused(exchange(vec![(post_id.clone(), forged)], vec![])), Code::BadSignature);
    // A name that is not an item's.
    let good = spokes_core::seal::seal(b"spokes drafts bundle v1\n", &cert, &mut key).unwrap();
    assert_eq!(refused(exchange(vec![("../../spoke.db".into(), good.clone())], vec![])), Code::Malformed);
    // The author's own key, past the blog's limit: 300 KB of noise sealed.
    let big = spokes_core::seal::seal(noise(300_000, 7).as_bytes(), &cert, &mut key).unwrap();
    assert_eq!(refused(exchange(vec![(post_id.clone(), big)], vec![])), Code::Quota);
    // Wants for items that are not there, and a flood of them: nothing comes back, and more
    // wants than a blog may have items are refused.
    let (inventory, got) = exchange(vec![], vec![("NOBODY".into(), "index".into()); 100]).unwrap();
    assert_eq!((inventory.len(), got.len()), (2, 0));
    let too_many = vec![("NOBODY".to_owned(), "index".to_owned()); MAX_ITEMS + 1];
    assert_eq!(refused(exchange(vec![], too_many)), Code::Malformed);
    // Few wants but long names: three frames of 15 MB, past what the spoke reads of wants.
    let too_long = vec![("N".repeat(1500), "index".to_owned()); 30_000];
    assert_eq!(refused(exchange(vec![], too_long)), Code::Malformed);
    // Nothing of it was stored; the refusals were recorded; the writer still exchanges.
    assert_eq!(rows(&s), before);
    let codes: Vec<String> = s.refusals().into_iter().map(|(c, _)| c).collect();
    assert!(codes.iter().any(|c| c == "bad-signature") && codes.iter().any(|c| c == "quota"), "{codes:?}");
    spokes_ok(&w, PASS, &["new", "--title", "After the attack", "--body", "Still writing."]);
    let out = spokes(&w, PASS, &["sync"]);
    assert!(out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("Drafts:"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(rows(&s).len(), 3);
}
