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
