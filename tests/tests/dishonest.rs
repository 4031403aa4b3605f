//! A dishonest spoke in a council: the real spoke built with test-only tampering
//! (`spoke-dishonest`, `SPOKE_DISHONEST=…`), switched on after it served honestly for a while.
//! Each kind of tampering is detected, its data refused by every honest spoke and by the
//! writer's app, and an operator sees the refusals; a spoke that really lost revisions gets
//! them back from the writer's app.

use spokes_e2e::*;
use std::path::Path;
use std::time::Duration;

/// How long honest spokes may take to notice. A pull that was under way with the dishonest
/// spoke when it restarted waits for QUIC's idle timeout (15 to 30 s) first.
const WAIT: Duration = Duration::from_secs(60);

fn refused(s: &SpokeProc, code: &str, peer: &str) -> bool {
    s.refusals().iter().any(|(c, p)| c == code && p == peer)
}

fn body_on(s: &SpokeProc, blog: &str) -> String {
    let v = s.json(&format!("/api/v1/blogs/{blog}/posts/genuine"));
    v["post"]["html"].as_str().unwrap_or_default().to_owned()
}

fn titles_on(s: &SpokeProc, blog: &str) -> Vec<String> {
    s.json(&format!("/api/v1/blogs/{blog}"))["posts"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_owned()).collect()
}

/// Restarts `d` as the dishonest build with `tamper` (or honest, with `None`).
fn restart(d: &mut SpokeProc, tamper: Option<&str>) {
    d.stop();
    match tamper {
        Some(t) => d.start_as("spoke-dishonest", &[("SPOKE_DISHONEST", t)]),
        None => d.start(),
    }
}

/// Replaces `d`'s stored document with the blog as it was before its last two revisions, as
/// a restored old backup would (the spoke must be stopped).
fn roll_back_storage(d: &SpokeProc) {
    let db = rusqlite::Connection::open(d.data.join("spoke.db")).unwrap();
    let bytes = d.stored_document();
    let mut doc = automerge::AutoCommit::load(&bytes).unwrap();
    let mut heads = doc.get_heads();
    for _ in 0..2 {
        let c = doc.get_change_by_hash(&heads[0]).unwrap();
        heads = c.deps().to_vec();
    }
    let old = doc.fork_at(&heads).unwrap().save();
    db.execute("UPDATE blogs SET document = ?1", [&old]).unwrap();
    db.execute("DELETE FROM document_increments", []).unwrap();
    db.execute("DELETE FROM sync_states", []).unwrap();
}

/// The writer's app syncs and refuses what the dishonest spoke serves, saying so.
fn writer_refuses(w: &Path) {
    let out = spokes(w, PASS, &["sync", "--published-only"]);
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("Published to 1 of 2") && said.contains("your blog may have been altered there"), "the writer's app should report the refusal: {said}");
}

fn publish_edit(w: &Path, id: &str, body: &str) {
    spokes_ok(w, PASS, &["edit", id, "--body", body]);
    spokes_ok(w, PASS, &["publish"]);
}

/// Three council members, "Honest 0", "Dishonest" and "Honest 2": both honest spokes pull from
/// the dishonest one, which pulls from honest 0. A writer's blog lives on honest 0 and on the
/// (for now honest) dishonest spoke, with one published post, "Genuine". Returns the spokes,
/// the dishonest one's endpoint ID, the writer's profile folder and the blog ID. The spokes
/// act on evidence (accuse and vote on their own) only with `act_on_evidence`: the tests of
/// each kind of tampering turn it off, so the dishonest member stays to try the next kind.
fn council_and_writer_acting(tmp: &Path, act_on_evidence: bool) -> (Vec<SpokeProc>, String, std::path::PathBuf, String) {
    let names = ["Honest 0", "Dishonest", "Honest 2"];
    let mut s: Vec<SpokeProc> = names.iter().enumerate().map(|(i, n)| SpokeProc::init(&tmp.join(format!("spoke{i}")), n)).collect();
    let ids: Vec<String> = s.iter().map(SpokeProc::endpoint_id).collect();
    let up = [1, 0, 1];
    for (i, x) in s.iter().enumerate() {
        x.configure(|c| {
            c.council.upstreams = vec![ids[up[i]].clone()];
            c.council.act_on_evidence = act_on_evidence;
        });
    }
    let tickets: Vec<String> = s[..2].iter().map(SpokeProc::invite).collect();
    for x in &mut s {
        x.start();
    }
    form_council(&s);
    let w = tmp.join("writer");
    spokes_ok(&w, PASS, &["init", "--name", "Ada", "--title", "Ada's Notes"]);
    for t in &tickets {
        spokes_ok(&w, PASS, &["spoke", "add", t]);
    }
    let blog = spokes_writer::Profile::open(&w).unwrap().blog_id().to_string();
    spokes_ok(&w, PASS, &["new", "--title", "Genuine", "--body", "First words."]);
    spokes_ok(&w, PASS, &["publish"]);
    (s, ids[1].clone(), w, blog)
}

fn council_and_writer(tmp: &Path) -> (Vec<SpokeProc>, String, std::path::PathBuf, String) {
    council_and_writer_acting(tmp, false)
}

fn is_member(on: &SpokeProc, who: &str) -> bool {
    on.json("/api/v1/council")["members"].as_array().unwrap().iter().any(|m| m["endpoint"] == who)
}

/// The acts of `on`'s public council log (`/council`), parsed: (by, act).
fn log_acts(on: &SpokeProc) -> Vec<(String, serde_json::Value)> {
    let log = on.json("/council");
    log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let entry: serde_json::Value = serde_json::from_str(e["entry"].as_str().unwrap()).unwrap();
            (entry["by"].as_str().unwrap().to_owned(), entry["act"].clone())
        })
        .collect()
}

/// Waits until both honest members cut `d_id` off on their own: one accused it with the
/// evidence `kind`, the other checked that evidence and voted. Returns the accusation's reason.
fn cut_off_on_evidence(s: &[SpokeProc], d_id: &str, kind: &str) -> String {
    assert!(
        wait_until(WAIT * 2, || [0, 2].iter().all(|&h| !is_member(&s[h], d_id))),
        "the dishonest member was not cut off: honest 0's log {:?}; refusals {:?}",
        log_acts(&s[0]).iter().map(|(_, a)| a["kind"].clone()).collect::<Vec<_>>(),
        s[0].refusals()
    );
    let acts = log_acts(&s[2]);
    let accusations: Vec<&(String, serde_json::Value)> = acts.iter().filter(|(_, a)| a["kind"] == "accuse").collect();
    assert!(!accusations.is_empty(), "no accusation in the log: {acts:?}");
    let (accuser, act) = accusations[0];
    assert_eq!(act["member"], d_id);
    assert_eq!(act["evidence"]["misdeed"]["kind"], kind, "{act}");
    let honest: Vec<String> = [0, 2].iter().map(|&h| s[h].endpoint_id()).collect();
    assert!(honest.contains(accuser), "accused by {accuser}");
    // Each honest member voted against it: one by the accusation, the other by a plain vote
    // (or an accusation of its own) naming what it checked.
    for h in &honest {
        assert!(acts.iter().any(|(by, a)| by == h && a["member"] == d_id && (a["kind"] == "accuse" || (a["kind"] == "remove" && a["reason"].as_str().unwrap().starts_with("checked the evidence")))), "{h} did not vote: {acts:?}");
    }
    assert!(s[2].json("/council")["removed"].as_array().unwrap().iter().any(|r| r == d_id));
    // An operator reads it in the CLI too.
    let members = s[0].admin(&["council", "members"]);
    assert!(members.contains(&format!("Cut off: {d_id}")), "{members}");
    act["reason"].as_str().unwrap().to_owned()
}

/// A member that serves a manifest the writer did not sign is accused by the honest member
/// that pulled it, with the evidence (its sealed catalog naming the manifest, and the
/// manifest's header) in the public council log; the other honest member checks the evidence
/// itself and votes; the member is cut off without any operator typing a vote, and the honest
/// spokes keep showing the true blog.
#[test]
fn a_member_serving_a_forged_manifest_is_accused_with_evidence_and_cut_off() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, d_id, w, blog) = council_and_writer_acting(tmp.path(), true);
    assert!(spokes_ok(&w, PASS, &["upgrade"]).contains("Published to 2 of 2 spokes"));
    let is_set = |x: &SpokeProc| x.json(&format!("/b/{blog}/bundle.json"))["version"].as_u64() == Some(2);
    assert!(wait_until(WAIT, || s[2].get(&format!("/api/v1/blogs/{blog}/posts/genuine")).0 == 200 && is_set(&s[2])), "honest 2 never got the set blog");
    // The writer chose the member: honest 0's pages send readers there too, for now.
    let d_page = format!("http://{}/b/{blog}/", s[1].http);
    assert!(s[0].get(&format!("/b/{blog}/")).1.contains(&d_page), "honest 0 does not link to the writer's other spoke");
    restart(&mut s[1], Some("forge-post"));
    let reason = cut_off_on_evidence(&s, &d_id, "forged-manifest");
    assert!(reason.contains("which is not the writer's"), "{reason}");
    for h in [0, 2] {
        assert_eq!(titles_on(&s[h], &blog), vec!["Genuine"], "honest {h}");
        assert!(!s[h].get(&format!("/b/{blog}/")).1.contains(&d_page), "honest {h} still sends readers to the cut-off member");
    }
}

/// A member that offers a blog older than it offered before (here it replays the oldest
/// manifest it keeps, after serving the newest honestly) is accused with the two catalog
/// offers it sealed, and cut off by the honest members on their own.
#[test]
fn a_member_rolling_a_blog_back_is_accused_with_its_own_sealed_offers_and_cut_off() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, d_id, w, blog) = council_and_writer_acting(tmp.path(), true);
    assert!(spokes_ok(&w, PASS, &["upgrade"]).contains("Published to 2 of 2 spokes"));
    let id = spokes_writer::Profile::open(&w).unwrap().posts().unwrap()[0].post.id.clone();
    publish_edit(&w, &id, "Second words.");
    publish_edit(&w, &id, "Third words, the true ones.");
    // Both honest members hold the member's sealed offer of the newest manifest.
    let newest = |x: &SpokeProc| -> i64 {
        let db = rusqlite::Connection::open(x.data.join("spoke.db")).unwrap();
        db.query_row("SELECT coalesce(max(rev), 0) FROM set_manifests WHERE blog_id = ?1", [&blog], |r| r.get(0)).unwrap()
    };
    let offered = |x: &SpokeProc| -> i64 {
        let db = rusqlite::Connection::open(x.data.join("spoke.db")).unwrap();
        db.query_row("SELECT coalesce(max(rev), 0) FROM peer_offers WHERE peer = ?1 AND blog_id = ?2", [&d_id, &blog], |r| r.get(0)).unwrap()
    };
    let top = newest(&s[0]);
    assert!(top >= 3, "three revisions published: {top}");
    assert!(wait_until(WAIT, || [0, 2].iter().all(|&h| offered(&s[h]) == top)), "the honest members did not keep the member's newest offer: {} {}", offered(&s[0]), offered(&s[2]));
    restart(&mut s[1], Some("replay-old"));
    let reason = cut_off_on_evidence(&s, &d_id, "rolled-back");
    assert!(reason.contains(&format!("after offering it at rev {top}")), "{reason}");
    for h in [0, 2] {
        assert!(body_on(&s[h], &blog).contains("Third words, the true ones."), "honest {h}");
    }
}

#[test]
fn tampering_of_every_kind_is_refused_by_honest_spokes_and_the_writer() {
    let tmp = tempfile::tempdir().unwrap();
    // Version 1 sessions: the writer stays a version 1 blog document.
    hold_version_1(tmp.path());
    let (mut s, d_id, w, blog) = council_and_writer(tmp.path());
    let id = spokes_writer::Profile::open(&w).unwrap().posts().unwrap()[0].post.id.clone();
    publish_edit(&w, &id, "Second words.");
    publish_edit(&w, &id, "Third words, the true ones.");
    // Honest 2 learns the blog only from the dishonest spoke, while it is still honest.
    assert!(wait_until(WAIT, || s[2].get(&format!("/api/v1/blogs/{blog}/posts/genuine")).0 == 200 && body_on(&s[2], &blog).contains("Third words")), "honest 2 never got the blog");
    std::thread::sleep(Duration::from_secs(2));

    // 1. Altered text: an unsigned change rewriting the post.
    restart(&mut s[1], Some("alter-text"));
    for h in [0, 2] {
        assert!(wait_until(WAIT, || refused(&s[h], "uncovered-changes", &d_id)), "honest {h} did not refuse the altered text: {:?}", s[h].refusals());
    }
    writer_refuses(&w);
    let local = spokes_writer::Profile::open(&w).unwrap().blog().unwrap().posts()[0].body.clone();
    assert_eq!(local, "Third words, the true ones.", "the writer's app took the altered text");

    // 2. A forged post, signed by a key that is not the author's.
    restart(&mut s[1], Some("forge-post"));
    for h in [0, 2] {
        assert!(wait_until(WAIT, || refused(&s[h], "bad-signature", &d_id)), "honest {h} did not refuse the forged post: {:?}", s[h].refusals());
    }
    writer_refuses(&w);
    assert_eq!(spokes_writer::Profile::open(&w).unwrap().blog().unwrap().posts().len(), 1, "the writer's app took the forged post");

    // 3. A dropped revision and 4. an old state replayed: rollbacks.
    restart(&mut s[1], Some("drop-revision"));
    for h in [0, 2] {
        assert!(wait_until(WAIT, || refused(&s[h], "rolled-back", &d_id)), "honest {h} did not notice the dropped revision: {:?}", s[h].refusals());
    }
    let before = s[2].refusals().iter().filter(|(c, _)| c == "rolled-back").count();
    restart(&mut s[1], Some("replay-old"));
    assert!(wait_until(WAIT, || s[2].refusals().iter().filter(|(c, _)| c == "rolled-back").count() > before), "honest 2 did not notice the replayed state");

    // Through all of it the honest spokes kept and served the true blog.
    for h in [0, 2] {
        let body = body_on(&s[h], &blog);
        assert!(body.contains("Third words, the true ones."), "honest {h}: {body}");
        assert!(!body.contains("dishonest"), "honest {h}: {body}");
        assert_eq!(titles_on(&s[h], &blog), vec!["Genuine"], "honest {h}");
        let (_, front) = s[h].get("/");
        assert!(!front.contains("A forged post"), "honest {h}'s front page");
    }

    // 5. A spoke that really lost revisions (its database restored from an old backup): the
    //    honest spokes notice, and the writer's app gives the revisions back.
    //    Honest 0, which hosts the blog too, is stopped first: it would give the revisions
    //    back itself within a second (as it should), before anyone noticed.
    s[0].stop();
    s[1].stop();
    roll_back_storage(&s[1]);
    // The state it now offers may be one the tampering above offered already (the blog as
    // created, say), and a spoke records a refusal repeated within 10 minutes once. The
    // earlier rollback reports are cleared, so that this detection shows on its own.
    let db = rusqlite::Connection::open(s[2].data.join("spoke.db")).unwrap();
    db.execute("DELETE FROM refusals WHERE code = 'rolled-back'", []).unwrap();
    drop(db);
    let before = s[2].refusals().iter().filter(|(c, _)| c == "rolled-back").count();
    assert_eq!(before, 0);
    s[1].start();
    assert!(!body_on(&s[1], &blog).contains("Third words"), "the rollback did not take");
    // A pull that was under way when the spoke stopped may first wait out its session.
    let noticed = wait_until(WAIT + WAIT / 2, || s[2].refusals().iter().filter(|(c, _)| c == "rolled-back").count() > before);
    if !noticed {
        let db = rusqlite::Connection::open(s[2].data.join("spoke.db")).unwrap();
        let ph: Vec<(String, String)> = db.prepare("SELECT peer, heads FROM peer_heads").unwrap().query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
        eprintln!("DEBUG peer_heads on honest 2: {ph:?}");
        eprintln!("DEBUG D blog: {}", s[1].get(&format!("/api/v1/blogs/{blog}")).1);
        eprintln!("DEBUG refusals: {}", s[2].admin(&["refusals", "--limit", "5"]));
    }
    assert!(noticed, "honest 2 did not notice the lost revisions");
    spokes_ok(&w, PASS, &["sync", "--published-only"]);
    assert!(body_on(&s[1], &blog).contains("Third words, the true ones."), "the writer's app did not restore the spoke");
    // 6. The honest members cut the dishonest one off the council (two of the two others):
    //    the votes spread, and every member, the cut-off one included, stops counting it.
    s[0].start();
    assert!(s[0].admin(&["council", "remove", &d_id, "--reason", "served altered posts"]).contains("Vote signed"));
    assert!(s[2].admin(&["council", "remove", &d_id, "--reason", "served altered posts"]).contains("Vote signed"));
    assert!(
        wait_until(WAIT, || [0, 2].iter().all(|&h| !s[h].json("/api/v1/council")["members"].as_array().unwrap().iter().any(|m| m["endpoint"] == d_id.as_str()))),
        "the dishonest spoke is still a member: {}",
        s[2].json("/api/v1/council")
    );
    // The votes reached the cut-off spoke too (it relayed them), so it knows, and stops
    // pulling; an exchange it still tried would be refused as `not-a-member`.
    assert!(wait_until(WAIT, || !s[1].json("/api/v1/council")["members"].as_array().unwrap().iter().any(|m| m["endpoint"] == d_id.as_str())), "the cut-off spoke does not know");

    // The operator of an honest spoke sees every kind in its report.
    let report = s[2].admin(&["refusals"]);
    for code in ["uncovered-changes", "bad-signature", "rolled-back"] {
        assert!(report.contains(code) && report.contains(&d_id), "{report}");
    }
}

#[test]
fn a_restore_asks_every_spoke_so_one_serving_an_old_state_takes_nothing_away() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, w, blog) = network(tmp.path(), 2);
    spokes_ok(&w, PASS, &["new", "--title", "First", "--body", "One."]);
    spokes_ok(&w, PASS, &["new", "--title", "Second", "--body", "Two."]);
    assert!(spokes_ok(&w, PASS, &["publish"]).contains("Published to 2 of 2 spokes"));
    let recovery = tmp.path().join("recovery.json");
    spokes_ok(&w, PASS, &["recovery-file", recovery.to_str().unwrap()]);
    // The spoke the recovery file lists first now serves the blog as it was when it began:
    // validly signed, but without either post.
    restart(&mut s[0], Some("replay-old"));
    // The restore itself (the library call the app and the CLI make, before any later sync)
    // brings back the newest state a spoke holds.
    let file = spokes_writer::recovery::RecoveryFile::parse(&std::fs::read(&recovery).unwrap()).unwrap();
    let laptop = tmp.path().join("laptop");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let restored = rt.block_on(spokes_writer::Profile::restore_from_spoke(&laptop, &file, PASS, None)).expect("restored");
    let mut titles: Vec<String> = restored.with_blog(|b| Ok(b.posts())).unwrap().into_iter().map(|p| p.title).collect();
    titles.sort();
    assert_eq!(titles, ["First", "Second"], "the honest spoke's newer state came back too");
    assert!(spokes_ok(&laptop, PASS, &["verify"]).starts_with("Verified"));
    assert_eq!(titles_on(&s[1], &blog).len(), 2);
}

/// The same council with the writer's blog kept as a set of documents (`spokes upgrade`,
/// `spokes/sync/2`): the dishonest member serves a post document with an unsigned change, a
/// manifest signed by a key that is not the author's, and a catalog naming garbage. The
/// honest members refuse each with its code and keep showing the true blog; the writer's app
/// refuses the forged manifest and says so; once honest again, the member's true revision
/// reaches the others.
#[test]
fn tampering_with_a_set_blog_is_refused_by_honest_spokes_and_the_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut s, d_id, w, blog) = council_and_writer(tmp.path());
    assert!(spokes_ok(&w, PASS, &["upgrade"]).contains("Published to 2 of 2 spokes"));
    let id = spokes_writer::Profile::open(&w).unwrap().posts().unwrap()[0].post.id.clone();
    // Honest 2 learns the set only from the (for now honest) member.
    let is_set = |x: &SpokeProc| x.json(&format!("/b/{blog}/bundle.json"))["version"].as_u64() == Some(2);
    assert!(wait_until(WAIT, || s[2].get(&format!("/api/v1/blogs/{blog}/posts/genuine")).0 == 200 && is_set(&s[2])), "honest 2 never got the set blog");

    // 1. Altered text. Honest 2's operator blocks the member while the writer publishes an
    //    edit (a pull under way ends first), so that once unblocked honest 2 must take the
    //    post's document from the member, which now alters it.
    s[2].admin(&["peer", "block", &d_id]);
    std::thread::sleep(Duration::from_secs(2));
    publish_edit(&w, &id, "Second words, the true ones.");
    restart(&mut s[1], Some("alter-text"));
    assert!(!body_on(&s[2], &blog).contains("Second words"), "honest 2 took the edit while it blocked the member");
    s[2].admin(&["peer", "unblock", &d_id]);
    assert!(
        wait_until(WAIT, || refused(&s[2], "uncovered-changes", &d_id)),
        "honest 2 did not refuse the altered post document: {:?}; it shows {}; its council: {}",
        s[2].refusals(),
        body_on(&s[2], &blog),
        s[2].json("/api/v1/council")
    );
    assert!(!body_on(&s[2], &blog).contains("dishonest"), "honest 2 shows the altered text");

    // 2. A forged manifest listing a post the author never wrote.
    restart(&mut s[1], Some("forge-post"));
    for h in [0, 2] {
        assert!(wait_until(WAIT, || refused(&s[h], "bad-signature", &d_id)), "honest {h} did not refuse the forged manifest: {:?}", s[h].refusals());
    }
    writer_refuses(&w);
    assert_eq!(spokes_writer::Profile::open(&w).unwrap().posts().unwrap().len(), 1, "the writer's app took the forged post");

    // 3. A catalog that names garbage instead of manifests.
    restart(&mut s[1], Some("malformed-catalog"));
    for h in [0, 2] {
        assert!(wait_until(WAIT, || refused(&s[h], "malformed", &d_id)), "honest {h} did not refuse the malformed catalog: {:?}", s[h].refusals());
    }

    // Honest again: the true revision it kept reaches honest 2, and no one shows a forgery.
    restart(&mut s[1], None);
    assert!(wait_until(WAIT, || body_on(&s[2], &blog).contains("Second words, the true ones.")), "honest 2 never got the true revision: {}", body_on(&s[2], &blog));
    for h in [0, 2] {
        assert_eq!(titles_on(&s[h], &blog), vec!["Genuine"], "honest {h}");
        assert!(!body_on(&s[h], &blog).contains("dishonest"), "honest {h}");
        let (_, front) = s[h].get("/");
        assert!(!front.contains("A forged post"), "honest {h}'s front page");
    }
}
