//! A real spoke refuses what fails verification, with a typed error, and keeps its stored
//! blog unchanged; malformed frames never hurt it.

use spokes_core::statement::Statement;
use spokes_core::{Identity, Post};
use spokes_e2e::*;
use spokes_sync::frame::{Frame, FrameType, read_frame};
use spokes_sync::peer::initiate;
use spokes_sync::session::{Hello, Replica};
use spokes_sync::{ALPN, SyncError, Ticket};
use spokes_writer::Profile;

struct Setup {
    _tmp: tempfile::TempDir,
    spoke: SpokeProc,
    profile: Profile,
    ticket: Ticket,
}

/// A writer that stays a version 1 blog document (these are version 1 sessions; the set's
/// are in `hostile.rs`), with one post published to one spoke.
fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    hold_version_1(tmp.path());
    let (mut spokes, w, _) = network(tmp.path(), 1);
    let spoke = spokes.remove(0);
    let t = Profile::open(&w).unwrap().spokes()[0].clone();
    let ticket = Ticket { v: 1, endpoint: t.endpoint, addrs: t.addrs, token: None, name: None, web: None, relay: None };
    spokes_ok(&w, PASS, &["new", "--title", "Genuine", "--body", "The real text."]);
    let out = spokes_ok(&w, PASS, &["publish"]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");
    Setup { _tmp: tmp, spoke, profile: Profile::open(&w).unwrap(), ticket }
}

fn stored_document(s: &SpokeProc) -> Vec<u8> {
    s.stored_document()
}

fn refusal_codes(s: &SpokeProc) -> Vec<String> {
    let db = rusqlite::Connection::open(s.data.join("spoke.db")).unwrap();
    let mut st = db.prepare("SELECT code FROM refusals ORDER BY id").unwrap();
    st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

async fn push(s: &Setup, mut replica: Replica) -> Result<(), SyncError> {
    let ep = spokes_sync::net::bind_endpoint(iroh::SecretKey::generate(), "127.0.0.1:0".parse().unwrap(), vec![]).await.unwrap();
    let mut state = automerge::sync::State::new();
    let r = initiate(&ep, s.ticket.endpoint_addr().unwrap(), Hello::new(s.profile.blog_id().clone(), None), &mut replica, &mut state, |_, _, _| Ok(())).await;
    ep.close().await;
    r.map(|_| ())
}

fn replica(s: &Setup, doc: automerge::AutoCommit, statements: Vec<spokes_core::SignedStatement>) -> Replica {
    Replica { blog_id: s.profile.blog_id().clone(), doc, certificate: Some(s.profile.certificate().unwrap()), statements, saved: Default::default() }
}

fn code(r: Result<(), SyncError>) -> String {
    match r {
        Err(SyncError::Remote(e)) => e.code.to_string(),
        other => panic!("expected a typed refusal from the spoke, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_altered_and_forged_revisions_are_refused_and_nothing_changes() {
    let s = setup();
    let before = stored_document(&s.spoke);
    let mut blog = s.profile.blog().unwrap();
    let statements = s.profile.statements().unwrap();

    // 1. A change covered by no signed statement.
    let mut doc = blog.automerge().fork();
    let mut d = spokes_core::BlogDoc::from_automerge(doc.fork()).unwrap();
    d.put_post(&Post::new("Injected", "not signed")).unwrap();
    d.commit("unsigned");
    doc = d.into_automerge();
    assert_eq!(code(push(&s, replica(&s, doc, statements.clone())).await), "uncovered-changes");

    // 2. An altered change: the author signs heads naming change C; what is delivered is C',
    //    a change by the same actor at the same place with different text.
    let mut key = s.profile.unlock(PASS).unwrap();
    let parent = blog.heads();
    let mut honest = spokes_core::BlogDoc::from_automerge(blog.automerge().fork()).unwrap();
    let mut p = honest.posts()[0].clone();
    p.body = "The real text, carefully revised.".into();
    honest.put_post(&p).unwrap();
    honest.commit("revise");
    let signed = Statement::new(s.profile.blog_id().clone(), &honest.heads()).sign(&mut key).unwrap();
    let actor = honest.automerge().get_actor().clone();
    let mut altered = blog.automerge().fork_at(&parent).unwrap().with_actor(actor);
    let mut altered_blog = spokes_core::BlogDoc::from_automerge(altered.fork().with_actor(altered.get_actor().clone())).unwrap();
    p.body = "The text, rewritten by a dishonest spoke.".into();
    altered_blog.put_post(&p).unwrap();
    altered_blog.commit("revise");
    altered = altered_blog.into_automerge();
    assert_ne!(altered.get_heads(), honest.heads());
    let mut with_sig = statements.clone();
    with_sig.push(signed.clone());
    assert_eq!(code(push(&s, replica(&s, altered, with_sig)).await), "uncovered-changes");

    // 3. A statement signed by a key that is not the blog's.
    let mallory = Identity::generate("Mallory", "pw").unwrap();
    let mut mkey = mallory.unlock("pw").unwrap();
    let mut forged_doc = spokes_core::BlogDoc::from_automerge(blog.automerge().fork()).unwrap();
    forged_doc.put_post(&Post::new("Forged", "by mallory")).unwrap();
    forged_doc.commit("forged");
    let forged = Statement::new(s.profile.blog_id().clone(), &forged_doc.heads()).sign(&mut mkey).unwrap();
    let mut st = statements.clone();
    st.push(forged);
    assert_eq!(code(push(&s, replica(&s, forged_doc.into_automerge(), st)).await), "bad-signature");

    // The stored blog is unchanged and every refusal was recorded with its code.
    assert_eq!(stored_document(&s.spoke), before);
    let codes = refusal_codes(&s.spoke);
    assert_eq!(codes, vec!["uncovered-changes", "uncovered-changes", "bad-signature"]);
    let page = s.spoke.get(&format!("/api/v1/blogs/{}", s.profile.blog_id())).1;
    assert!(page.contains("Genuine") && !page.contains("Injected") && !page.contains("Forged") && !page.contains("dishonest"), "{page}");

    // The honest revision, with its statement, is accepted.
    let mut st = statements;
    st.push(signed);
    push(&s, replica(&s, honest.into_automerge(), st)).await.unwrap();
    let doc = spokes_core::BlogDoc::load(&stored_document(&s.spoke)).unwrap();
    assert_eq!(doc.posts()[0].body, "The real text, carefully revised.");
}


async fn raw(s: &Setup, bytes: &[u8]) -> Option<Frame> {
    let ep = spokes_sync::net::bind_endpoint(iroh::SecretKey::generate(), "127.0.0.1:0".parse().unwrap(), vec![]).await.unwrap();
    let conn = ep.connect(s.ticket.endpoint_addr().unwrap(), ALPN).await.unwrap();
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(bytes).await.unwrap();
    let _ = send.finish();
    let f = tokio::time::timeout(std::time::Duration::from_secs(10), read_frame(&mut recv)).await.ok().and_then(|r| r.ok());
    conn.close(0u32.into(), b"bye");
    ep.close().await;
    f
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_oversized_and_unknown_version_frames_get_errors_and_the_spoke_lives_on() {
    let s = setup();
    let before = stored_document(&s.spoke);
    let blog = s.profile.blog_id().to_string();

    let hello_v2 = Frame { typ: FrameType::Hello, payload: format!("{{\"protocol\":2,\"blog_id\":\"{blog}\"}}").into_bytes() };
    let f = raw(&s, &hello_v2.encode()).await.expect("an error frame");
    assert_eq!(f.typ, FrameType::Error);
    let e: spokes_sync::RemoteError = f.parse_json().unwrap();
    assert_eq!(e.code, "unsupported-version");

    // Oversized: a length over the cap is refused before any payload is read.
    assert!(raw(&s, &[FrameType::SyncMessage as u8, 0xff, 0xff, 0xff, 0xff]).await.is_none());
    // Unknown frame type, garbage JSON, and a sync message before hello.
    assert!(raw(&s, &[0x99, 0, 0, 0, 1, 0]).await.is_none());
    let f = raw(&s, &Frame { typ: FrameType::Hello, payload: b"{not json".to_vec() }.encode()).await.expect("error frame");
    assert_eq!(f.parse_json::<spokes_sync::RemoteError>().unwrap().code, "malformed");
    let f = raw(&s, &Frame { typ: FrameType::SyncMessage, payload: vec![1, 2, 3] }.encode()).await.expect("error frame");
    assert_eq!(f.parse_json::<spokes_sync::RemoteError>().unwrap().code, "malformed");
    // A hello for a blog this spoke does not host, without an invite.
    let other = Frame::json(FrameType::Hello, &Hello::new(spokes_core::BlogId::generate(), None));
    let f = raw(&s, &other.encode()).await.expect("error frame");
    assert_eq!(f.parse_json::<spokes_sync::RemoteError>().unwrap().code, "not-hosted");

    let (code, health) = s.spoke.get("/health");
    assert_eq!(code, 200, "{health}");
    assert_eq!(stored_document(&s.spoke), before);
    let codes = refusal_codes(&s.spoke);
    for c in ["unsupported-version", "protocol", "malformed", "not-hosted"] {
        assert!(codes.iter().any(|x| x == c), "{c} not recorded in {codes:?}");
    }
    // And the writer still syncs fine afterwards.
    let out = spokes_ok(s.profile.dir(), PASS, &["sync"]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");
}
