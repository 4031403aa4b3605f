//! Hostile peers against real spoke processes (the hostile-peers issue). Each test performs
//! an attack through `spokes_e2e::hostile` (a stranger's real iroh endpoint speaking the real
//! protocol) against the `spoke` program operators run, then checks the defence: a typed
//! refusal, bounded memory, a recorded refusal, and the author still publishing.

use spokes_e2e::hostile::{self, HostilePeer};
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

/// A whole session that brings nothing: the blog's hello, `cert`, no statements, empty sync
/// messages (the spoke sends its one message in the first round; the second is empty on
/// both sides), then done.
fn empty_session(blog: &str, cert: Vec<u8>) -> Vec<spokes_sync::Frame> {
    let empty = spokes_sync::Frame { typ: spokes_sync::FrameType::SyncMessage, payload: vec![] };
    let done = spokes_sync::Frame::json(spokes_sync::FrameType::Done, &serde_json::json!({"heads": []}));
    vec![hostile::hello(blog, None), hostile::certificate(cert), hostile::statements(&[]), empty.clone(), empty, done]
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
