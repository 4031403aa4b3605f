//! One document per post under a signed manifest (`spokes upgrade`, docs/formats.md "Signed
//! manifest"), with real spoke processes and the `spokes` CLI: a post the writer unpublishes
//! or deletes leaves every spoke (pages, feeds, search, bundle, sync replies and every stored
//! file), as do the words the blog's single document kept from before the upgrade; a
//! scheduled post's words are nowhere until its date and everywhere after; the writer keeps
//! the history on their own computer.

use spokes_e2e::*;
use spokes_sync::set::{SetReplica, initiate_set};
use std::path::Path;
use std::time::Duration;

/// Every reader-facing page of `blog` on a spoke.
fn pages(blog: &str) -> Vec<String> {
    vec!["/".to_owned(), format!("/b/{blog}/"), format!("/b/{blog}/feed.atom"), "/feed.atom".into(), format!("/api/v1/blogs/{blog}"), format!("/b/{blog}/bundle.json"), "/api/v1/newest".into()]
}

/// Asserts that no page of `spoke` holds any of `gone`, that searching for each finds
/// nothing, and that its pages and search hold `kept`.
fn served_without(spoke: &SpokeProc, blog: &str, gone: &[&str], kept: &str) {
    let mut seen_kept = false;
    for path in pages(blog) {
        let (code, body) = spoke.get(&path);
        assert!(code == 200, "{path}: {code}");
        for w in gone {
            assert!(!body.contains(w), "{w} is served at {path}");
        }
        seen_kept |= body.contains(kept);
    }
    assert!(seen_kept, "{kept} is served nowhere: the check would see nothing");
    let hits = |w: &str| spoke.json(&format!("/api/v1/search?q={w}"))["results"].as_array().map_or(0, Vec::len);
    // The index is updated in the background, within a second or so.
    assert!(wait_until(Duration::from_secs(10), || hits(kept) == 1 && gone.iter().all(|w| hits(w) == 0)), "search: {kept} {} hits; {:?}", hits(kept), gone.iter().map(|w| (w, hits(w))).collect::<Vec<_>>());
}

/// Asserts that no file in `dir` (the database, its log, the search index) holds any of
/// `gone`, and that one holds `kept` (so the scan sees words at all).
fn stored_without(dir: &Path, gone: &[&str], kept: &str) {
    let mut folders = vec![dir.to_path_buf()];
    let mut seen_kept = false;
    while let Some(d) = folders.pop() {
        for f in std::fs::read_dir(&d).unwrap() {
            let path = f.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            for w in gone {
                assert!(!bytes.windows(w.len()).any(|x| x == w.as_bytes()), "{w} is still in {}", path.display());
            }
            seen_kept |= bytes.windows(kept.len()).any(|x| x == kept.as_bytes());
        }
    }
    assert!(seen_kept, "{kept} is in no file: the scan would see nothing");
}

/// What a peer that asks `spoke` for the whole blog over `spokes/sync/2` receives: the
/// manifests' leaves and settings, and every post document, as text.
fn sync_reply(spoke: &SpokeProc, blog: &str) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let endpoint = spokes_sync::net::bind_endpoint(iroh::SecretKey::generate(), "127.0.0.1:0".parse().unwrap(), vec![]).await.unwrap();
        let addr = spokes_sync::net::dial_addr(&spokes_core::SpokeAddr { endpoint: spoke.endpoint_id(), addrs: vec![spoke.p2p], web: None, name: None, relay: None }).unwrap();
        let mut replica = SetReplica::new(blog.parse().unwrap(), None);
        let r = initiate_set(&endpoint, addr, None, &mut replica, &mut |_: &str| None, |_, _| Ok(())).await;
        endpoint.close().await;
        r.unwrap_or_else(|e| panic!("a reader's sync with the spoke: {e}"));
        let mut text = String::new();
        for m in &replica.frontier {
            text.push_str(&m.signed.statement);
            text.push_str(&String::from_utf8_lossy(&m.manifest.settings));
            for l in m.manifest.leaves() {
                text.push_str(&String::from_utf8_lossy(&l));
            }
        }
        for d in replica.posts.values_mut() {
            text.push_str(&String::from_utf8_lossy(&d.save()));
        }
        text
    })
}

#[test]
fn what_the_writer_takes_back_leaves_every_spoke_and_a_scheduled_post_waits_for_its_date() {
    let tmp = tempfile::tempdir().unwrap();
    // Version 1 sessions: the writer stays a version 1 blog document.
    hold_version_1(tmp.path());
    let (mut spokes, w, blog) = network(tmp.path(), 2);
    let png = tmp.path().join("dot.png");
    std::fs::write(&png, PNG).unwrap();
    let link = spokes_ok(&w, PASS, &["image", png.to_str().unwrap(), "--alt", "A dot"]).trim().to_owned();
    let image = spokes_core::image::ImageName::for_bytes(PNG).unwrap();
    spokes_ok(&w, PASS, &["new", "--title", "Kept", "--body", "Marmalade stays published."]);
    let withdrawn = spokes_ok(&w, PASS, &["new", "--title", "Withdrawn", "--body", "Quicksilver was a mistake."]).trim().to_owned();
    let binned = spokes_ok(&w, PASS, &["new", "--title", "Binned", "--body", &format!("Pumpernickel goes to the bin.\n\n{link}\n")]).trim().to_owned();
    assert!(spokes_ok(&w, PASS, &["publish"]).contains("Published to 2 of 2 spokes"));
    // Taken back while the blog was one document: the words stay in its history.
    spokes_ok(&w, PASS, &["unpublish", &withdrawn]);
    // Scheduled a minute ahead: version 1 sends it to the spokes, to show at its date.
    let date = chrono::Utc::now() + chrono::Duration::seconds(40);
    let md = tmp.path().join("tomorrow.md");
    std::fs::write(&md, format!("---\ntitle: Tomorrow\ndate: {}\n---\nZeppelin news, not before its date.\n", date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))).unwrap();
    spokes_ok(&w, PASS, &["import", md.to_str().unwrap()]);
    spokes_ok(&w, PASS, &["publish"]);
    let before = spokes_core::BlogDoc::load(&spokes[0].stored_document()).unwrap();
    let held: Vec<String> = before.posts().into_iter().map(|p| p.body).collect();
    assert!(held.iter().any(|b| b.contains("Quicksilver")) && held.iter().any(|b| b.contains("Zeppelin")), "before the upgrade the spokes hold both: {held:?}");

    // The upgrade: the spokes keep only what is published and due.
    let out = spokes_ok(&w, PASS, &["upgrade"]);
    assert!(out.contains("2 published posts moved") && out.contains("Published to 2 of 2 spokes"), "{out}");
    for s in &spokes {
        served_without(s, &blog, &["Quicksilver", "Zeppelin"], "Marmalade");
        // A set's view holds no bodies: the page, the feed and the API read the post's
        // stored document.
        let (_, page) = s.get(&format!("/b/{blog}/posts/kept"));
        assert!(page.contains("<p>Marmalade stays published.</p>"), "{page}");
        let (_, feed) = s.get(&format!("/b/{blog}/feed.atom"));
        assert!(feed.contains("<content type=\"html\">&lt;p&gt;Marmalade stays published.&lt;/p&gt;"), "{feed}");
        let api = s.json(&format!("/api/v1/blogs/{blog}/posts/kept"));
        assert_eq!(api["post"]["html"].as_str().map(str::trim), Some("<p>Marmalade stays published.</p>"), "{api}");
        let reply = sync_reply(s, &blog);
        assert!(reply.contains("Marmalade") && !reply.contains("Quicksilver") && !reply.contains("Zeppelin"), "the sync reply: {reply}");
    }
    let (code, _) = spokes[0].get(&format!("/b/{blog}/posts/withdrawn"));
    assert_eq!(code, 404);

    // Unpublished and deleted after the upgrade: the words and the picture only it showed go.
    let (code, _, bytes) = http_get_bytes(&format!("http://{}/b/{blog}/images/{image}", spokes[1].http));
    assert_eq!((code, bytes.as_slice()), (200, PNG), "the picture is served while its post is");
    spokes_ok(&w, PASS, &["unpublish", &binned]);
    spokes_ok(&w, PASS, &["delete", &binned]);
    let gone = ["Quicksilver", "Zeppelin", "Pumpernickel"];
    for s in &spokes {
        served_without(s, &blog, &gone, "Marmalade");
        assert_eq!(s.get(&format!("/b/{blog}/images/{image}")).0, 404, "the picture only the removed post showed");
        let reply = sync_reply(s, &blog);
        assert!(!gone.iter().any(|g| reply.contains(g)), "the sync reply: {reply}");
    }
    for s in &mut spokes {
        s.stop();
        stored_without(&s.data, &gone, "Marmalade");
        let db = rusqlite::Connection::open(s.data.join("spoke.db")).unwrap();
        let images: i64 = db.query_row("SELECT COUNT(*) FROM images", [], |r| r.get(0)).unwrap();
        assert_eq!(images, 0, "the picture's bytes left the database");
        s.start();
    }

    // The writer keeps the history: the withdrawn post is still theirs, and verifies.
    let list = spokes_ok(&w, PASS, &["list"]);
    assert!(list.contains("Withdrawn"), "{list}");
    assert!(spokes_ok(&w, PASS, &["verify"]).starts_with("Verified"));

    // The scheduled post's date comes: the next sync publishes it, everywhere.
    let wait = (date - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(1);
    std::thread::sleep(wait);
    spokes_ok(&w, PASS, &["sync"]);
    for s in &spokes {
        let (code, page) = s.get(&format!("/b/{blog}/posts/tomorrow"));
        assert_eq!(code, 200, "{page}");
        assert!(page.contains("Zeppelin"), "{page}");
    }
}

/// The published posts of a profile's blog document: title → body.
fn published(profile: &Path) -> std::collections::BTreeMap<String, String> {
    let p = spokes_writer::Profile::open(profile).unwrap();
    p.blog().unwrap().posts().into_iter().filter(|x| x.state == spokes_core::PostState::Published).map(|x| (x.title, x.body)).collect()
}

/// The posts a spoke serves for `blog`: title → the post's page.
fn served(spoke: &SpokeProc, blog: &str) -> std::collections::BTreeMap<String, String> {
    let api = spoke.json(&format!("/api/v1/blogs/{blog}"));
    api["posts"].as_array().unwrap().iter().map(|p| (p["title"].as_str().unwrap().to_owned(), spoke.get(&format!("/b/{blog}/posts/{}", p["slug"].as_str().unwrap())).1)).collect()
}

#[test]
fn two_computers_editing_offline_converge_through_a_spoke() {
    let tmp = tempfile::tempdir().unwrap();
    let (spokes_, desk, blog) = network(tmp.path(), 1);
    let spoke = &spokes_[0];
    let shared = spokes_ok(&desk, PASS, &["new", "--title", "Shared", "--body", "First words."]).trim().to_owned();
    let solo = spokes_ok(&desk, PASS, &["new", "--title", "Solo", "--body", "Only the start."]).trim().to_owned();
    assert!(spokes_ok(&desk, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    let recovery = tmp.path().join("recovery.json");
    spokes_ok(&desk, PASS, &["recovery-file", recovery.to_str().unwrap()]);
    let laptop = tmp.path().join("laptop");
    spokes_ok(&laptop, PASS, &["restore", "--recovery", recovery.to_str().unwrap()]);
    // Both computers move to documents per post.
    assert!(spokes_ok(&desk, PASS, &["upgrade"]).contains("Published to 1 of 1 spoke"));
    assert!(spokes_ok(&laptop, PASS, &["upgrade"]).contains("Published to 1 of 1 spoke"));

    // Offline: the desk edits one post, the laptop another and writes a third.
    spokes_ok(&desk, PASS, &["edit", &shared, "--body", "Edited on the desk."]);
    spokes_ok(&desk, PASS, &["publish", "--offline"]);
    spokes_ok(&laptop, PASS, &["edit", &solo, "--body", "Edited on the laptop."]);
    spokes_ok(&laptop, PASS, &["new", "--title", "Laptop only", "--body", "Written on a train."]);
    spokes_ok(&laptop, PASS, &["publish", "--offline"]);
    for w in [&desk, &laptop, &desk] {
        spokes_ok(w, PASS, &["sync"]);
    }
    let want: std::collections::BTreeMap<String, String> = [("Shared", "Edited on the desk."), ("Solo", "Edited on the laptop."), ("Laptop only", "Written on a train.")].iter().map(|(t, b)| ((*t).to_owned(), (*b).to_owned())).collect();
    assert_eq!(published(&desk), want);
    assert_eq!(published(&laptop), want);
    let on_spoke = served(spoke, &blog);
    for (t, b) in &want {
        assert!(on_spoke.get(t).is_some_and(|h| h.contains(b.as_str())), "{t}: {on_spoke:?}");
    }

    // Both edit the same post offline: every copy ends with the same words.
    spokes_ok(&desk, PASS, &["edit", &shared, "--body", "The desk's version."]);
    spokes_ok(&desk, PASS, &["publish", "--offline"]);
    spokes_ok(&laptop, PASS, &["edit", &shared, "--body", "The laptop's version."]);
    spokes_ok(&laptop, PASS, &["publish", "--offline"]);
    for w in [&desk, &laptop, &desk] {
        spokes_ok(w, PASS, &["sync"]);
    }
    let (d, l) = (published(&desk), published(&laptop));
    assert_eq!(d, l, "the two computers agree");
    // Both rewrote the whole text: the post is published again with the drafts' merge of
    // the two edits (Automerge's merge of text, as for version 1 blogs), the same everywhere.
    assert!(d["Shared"].ends_with("version.") && d["Shared"] != "Edited on the desk.", "{d:?}");
    assert!(served(spoke, &blog)["Shared"].contains(d["Shared"].as_str()));
    for w in [&desk, &laptop] {
        assert!(spokes_ok(w, PASS, &["verify"]).starts_with("Verified"));
    }
}

/// Two computers on a version 1 blog when Spokes is updated: the desk moves the blog to a set
/// first. The laptop, which published an edit and a new post offline meanwhile, does not make
/// a second set from its own words (post documents made twice from differing words would
/// clash): while no spoke answers it waits, then it takes the desk's set, and its edit and its
/// new post are published on top of it, from its drafts.
#[test]
fn a_second_computer_takes_the_set_the_first_made_and_keeps_its_offline_work() {
    let tmp = tempfile::tempdir().unwrap();
    hold_version_1(tmp.path());
    let (mut spokes_, desk, blog) = network(tmp.path(), 1);
    let shared = spokes_ok(&desk, PASS, &["new", "--title", "Shared", "--body", "First paragraph.\n\nSecond paragraph.\n"]).trim().to_owned();
    assert!(spokes_ok(&desk, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    let recovery = tmp.path().join("recovery.json");
    spokes_ok(&desk, PASS, &["recovery-file", recovery.to_str().unwrap()]);
    let laptop = tmp.path().join("laptop");
    spokes_ok(&laptop, PASS, &["restore", "--recovery", recovery.to_str().unwrap()]);
    spokes_ok(&laptop, PASS, &["edit", &shared, "--body", "First paragraph.\n\nSecond paragraph, edited on the laptop.\n"]);
    spokes_ok(&laptop, PASS, &["new", "--title", "Laptop only", "--body", "Written on a train."]);
    spokes_ok(&laptop, PASS, &["publish", "--offline"]);
    let is_set = |p: &Path| spokes_writer::Profile::open(p).unwrap().is_set();
    assert!(!is_set(&desk) && !is_set(&laptop));

    // Spokes is updated on both. The desk edits the other paragraph and publishes first.
    std::fs::remove_file(tmp.path().join("hold-version-1")).unwrap();
    spokes_ok(&desk, PASS, &["edit", &shared, "--body", "First paragraph, edited at the desk.\n\nSecond paragraph.\n"]);
    assert!(spokes_ok(&desk, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    assert!(is_set(&desk));
    // The laptop with its spoke down: it waits at version 1.
    spokes_[0].stop();
    spokes_exit(&laptop, PASS, &["publish"], 4);
    assert!(!is_set(&laptop), "no spoke answered: the laptop made no set of its own");
    spokes_[0].start();
    spokes_ok(&laptop, PASS, &["sync"]);
    assert!(is_set(&laptop), "the laptop took the desk's set");
    spokes_ok(&desk, PASS, &["sync"]);

    let want: std::collections::BTreeMap<String, String> = [("Shared", "First paragraph, edited at the desk.\n\nSecond paragraph, edited on the laptop.\n"), ("Laptop only", "Written on a train.")].iter().map(|(t, b)| ((*t).to_owned(), (*b).to_owned())).collect();
    assert_eq!(published(&laptop), want);
    assert_eq!(published(&desk), want);
    let on_spoke = served(&spokes_[0], &blog);
    assert!(on_spoke["Shared"].contains("edited at the desk") && on_spoke["Shared"].contains("edited on the laptop"), "{on_spoke:?}");
    assert!(on_spoke["Laptop only"].contains("Written on a train."), "{on_spoke:?}");
    for w in [&desk, &laptop] {
        assert!(spokes_ok(w, PASS, &["verify"]).starts_with("Verified"));
    }
}

/// Promise 4 for a blog kept as a set: a spoke that was down while the writer published gets
/// the revision from the other spoke, with the writer's computer no longer taking part.
#[test]
fn a_spoke_that_was_down_catches_up_from_another_spoke() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut spokes_, w, blog) = network(tmp.path(), 2);
    let id = spokes_ok(&w, PASS, &["new", "--title", "Notes", "--body", "First words."]).trim().to_owned();
    spokes_ok(&w, PASS, &["publish"]);
    assert!(spokes_ok(&w, PASS, &["upgrade"]).contains("Published to 2 of 2 spokes"));
    spokes_[1].stop();
    spokes_ok(&w, PASS, &["edit", &id, "--body", "Written while one spoke was down."]);
    assert!(spokes_exit(&w, PASS, &["publish"], 3).contains("Published to 1 of 2 spokes"));
    spokes_[1].start();
    let caught_up = wait_until(Duration::from_secs(30), || spokes_[1].get(&format!("/b/{blog}/posts/notes")).1.contains("Written while one spoke was down."));
    assert!(caught_up, "the spoke that was down did not get the revision from the other");
}

/// A council copy forgets too: a member that copies the blog from the spoke hosting it (in
/// format 1 first, then as a set once the writer upgrades) drops the version 1 document, and
/// a post the writer unpublishes leaves its pages, search and files within its next pulls.
#[test]
fn a_council_copy_forgets_what_the_writer_takes_back() {
    let tmp = tempfile::tempdir().unwrap();
    let mut host = SpokeProc::init(&tmp.path().join("host"), "Host");
    let mut member = SpokeProc::init(&tmp.path().join("member"), "Member");
    let host_id = host.endpoint_id();
    member.configure(|c| c.council.upstreams = vec![host_id.clone()]);
    host.start();
    member.start();
    let ticket = host.admin(&["council", "invite"]);
    assert!(member.admin(&["council", "join", ticket.trim()]).contains("(2 members)"));
    let w = tmp.path().join("writer");
    spokes_ok(&w, PASS, &["init", "--name", "Writer", "--title", "Copied Notes"]);
    spokes_ok(&w, PASS, &["spoke", "add", &host.invite()]);
    let blog = spokes_writer::Profile::open(&w).unwrap().blog_id().to_string();
    spokes_ok(&w, PASS, &["new", "--title", "Kept", "--body", "Marmalade stays published."]);
    let withdrawn = spokes_ok(&w, PASS, &["new", "--title", "Withdrawn", "--body", "Quicksilver was a mistake."]).trim().to_owned();
    let binned = spokes_ok(&w, PASS, &["new", "--title", "Binned", "--body", "Pumpernickel goes to the bin."]).trim().to_owned();
    spokes_ok(&w, PASS, &["publish"]);
    let copied = |word: &str| member.get(&format!("/b/{blog}/")).1.contains(word);
    assert!(wait_until(Duration::from_secs(30), || copied("Withdrawn")), "the member did not copy the blog");
    assert!(member.admin(&["blogs"]).contains("mirror"));
    // Taken back in format 1: the copy's document keeps the words in its history.
    spokes_ok(&w, PASS, &["unpublish", &withdrawn]);
    assert!(wait_until(Duration::from_secs(30), || !copied("Withdrawn")));

    // The upgrade reaches the copy through the council: the old document goes.
    assert!(spokes_ok(&w, PASS, &["upgrade"]).contains("Published to 1 of 1 spoke"));
    let bundle_version = || member.json(&format!("/b/{blog}/bundle.json"))["version"].as_u64();
    assert!(wait_until(Duration::from_secs(30), || bundle_version() == Some(2)), "the member did not take the set: bundle version {:?}", bundle_version());
    served_without(&member, &blog, &["Quicksilver"], "Marmalade");
    spokes_ok(&w, PASS, &["unpublish", &binned]);
    assert!(wait_until(Duration::from_secs(30), || !copied("Binned")), "the copy still shows the unpublished post");
    let gone = ["Quicksilver", "Pumpernickel"];
    served_without(&member, &blog, &gone, "Marmalade");
    let reply = sync_reply(&member, &blog);
    assert!(reply.contains("Marmalade") && !gone.iter().any(|g| reply.contains(g)), "the copy's sync reply: {reply}");
    assert!(member.admin(&["blogs"]).contains("mirror"), "still a copy, not a hosted blog");
    member.stop();
    stored_without(&member.data, &gone, "Marmalade");
}

/// A writer who upgraded restores their blog on a new computer from the recovery file: the
/// spoke (which now refuses version 1 sessions for it) gives back the published set, the new
/// computer lists and edits the posts, and its next publish reaches the spoke. What the writer
/// took back before is not on the spoke, so it does not come back either.
#[test]
fn an_upgraded_blog_restores_on_a_new_computer_from_its_spokes() {
    let tmp = tempfile::tempdir().unwrap();
    let (spokes_, desk, blog) = network(tmp.path(), 2);
    let notes = spokes_ok(&desk, PASS, &["new", "--title", "Notes", "--body", "Marmalade stays published."]).trim().to_owned();
    let withdrawn = spokes_ok(&desk, PASS, &["new", "--title", "Withdrawn", "--body", "Quicksilver was a mistake."]).trim().to_owned();
    spokes_ok(&desk, PASS, &["publish"]);
    spokes_ok(&desk, PASS, &["unpublish", &withdrawn]);
    assert!(spokes_ok(&desk, PASS, &["upgrade"]).contains("Published to 2 of 2 spokes"));
    let recovery = tmp.path().join("recovery.json");
    spokes_ok(&desk, PASS, &["recovery-file", recovery.to_str().unwrap()]);

    let laptop = tmp.path().join("laptop");
    spokes_ok(&laptop, PASS, &["restore", "--recovery", recovery.to_str().unwrap()]);
    assert!(spokes_writer::Profile::open(&laptop).unwrap().is_set(), "the restored profile keeps the blog as a set");
    let list = spokes_ok(&laptop, PASS, &["list"]);
    // The withdrawn post is a draft again: the writer's drafts come back sealed from the
    // spokes, which cannot read them.
    let state = |title: &str| list.lines().find(|l| l.ends_with(title)).map(|l| l.split_whitespace().nth(1).unwrap_or_default().to_owned());
    assert_eq!((state("Notes").as_deref(), state("Withdrawn").as_deref()), (Some("published"), Some("draft")), "{list}");
    assert!(spokes_ok(&laptop, PASS, &["verify"]).starts_with("Verified"));
    spokes_ok(&laptop, PASS, &["edit", &notes, "--body", "Edited on the restored laptop."]);
    assert!(spokes_ok(&laptop, PASS, &["publish"]).contains("Published to 2 of 2 spokes"));
    for s in &spokes_ {
        let (code, page) = s.get(&format!("/b/{blog}/posts/notes"));
        assert!(code == 200 && page.contains("Edited on the restored laptop."), "{code} {page}");
    }
    // And the desk takes the laptop's edit.
    spokes_ok(&desk, PASS, &["sync"]);
    assert_eq!(published(&desk).get("Notes").map(String::as_str), Some("Edited on the restored laptop."));
}

/// One spoke; a desk that published "From the desk" and upgraded to a set; a laptop restored
/// from its recovery file, whose key the desk knows (both synced). Returns (spokes, desk,
/// blog ID, laptop, the laptop's key fingerprint).
fn desk_and_laptop_on_a_set(dir: &Path) -> (Vec<SpokeProc>, std::path::PathBuf, String, std::path::PathBuf, String) {
    let (spokes_, desk, blog) = network(dir, 1);
    spokes_ok(&desk, PASS, &["new", "--title", "From the desk", "--body", "Marmalade stays published."]);
    spokes_ok(&desk, PASS, &["publish"]);
    assert!(spokes_ok(&desk, PASS, &["upgrade"]).contains("Published to 1 of 1 spoke"));
    let recovery = dir.join("recovery.json");
    spokes_ok(&desk, PASS, &["recovery-file", recovery.to_str().unwrap()]);
    let laptop = dir.join("laptop");
    spokes_ok(&laptop, PASS, &["restore", "--recovery", recovery.to_str().unwrap()]);
    let laptop_key = spokes_writer::Profile::open(&laptop).unwrap().device_key().unwrap().to_owned();
    spokes_ok(&laptop, PASS, &["sync"]);
    spokes_ok(&desk, PASS, &["sync"]);
    (spokes_, desk, blog, laptop, laptop_key)
}

/// A computer declared lost or stolen, on a blog kept as a set: the manifest it published
/// last stops counting on the spoke in the session that brings the news (its post leaves the
/// pages and the spoke's files), the writer's next manifest takes its place, and a publish
/// from the stolen computer afterwards is left out.
#[test]
fn a_lost_computers_manifests_stop_counting_on_an_upgraded_blog() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut spokes_, desk, blog, laptop, laptop_key) = desk_and_laptop_on_a_set(tmp.path());
    // The laptop publishes (the desk does not sync).
    spokes_ok(&laptop, PASS, &["new", "--title", "From the laptop", "--body", "Quicksilver on a train."]);
    assert!(spokes_ok(&laptop, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    let spoke = &spokes_[0];
    let titles = || served(spoke, &blog).into_keys().collect::<Vec<_>>();
    assert_eq!(titles(), ["From the desk", "From the laptop"]);

    let out = spokes_ok(&desk, PASS, &["device", "lost", &laptop_key, "--keep-none", "--reason", "stolen"]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");
    assert_eq!(titles(), ["From the desk"], "the lost computer's manifest no longer counts");
    assert_eq!(spoke.json(&format!("/api/v1/blogs/{blog}"))["verification"]["status"], "verified");
    let reply = sync_reply(spoke, &blog);
    assert!(reply.contains("Marmalade") && !reply.contains("Quicksilver"), "{reply}");
    // The desk goes on publishing.
    spokes_ok(&desk, PASS, &["new", "--title", "After the theft", "--body", "Still here."]);
    assert!(spokes_ok(&desk, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    assert_eq!(titles(), ["After the theft", "From the desk"]);
    assert!(spokes_ok(&desk, PASS, &["verify"]).starts_with("Verified"));

    // The thief publishes from the laptop: its manifest is left out.
    spokes_ok(&laptop, PASS, &["new", "--title", "Thief", "--body", "Zeppelin lies."]);
    let _ = spokes(&laptop, PASS, &["publish"]);
    assert_eq!(titles(), ["After the theft", "From the desk"]);
    spokes_[0].stop();
    stored_without(&spokes_[0].data, &["Quicksilver", "Zeppelin"], "Marmalade");
}

/// A computer declared lost after this computer took in what it published through the set:
/// its publishes are listed by title (they came as manifests, folded in under this
/// computer's signature), and declaring it lost takes them back here too: its new post is
/// deleted and the post it edited has its words back, on this computer and on the spoke, and
/// a later publish from this computer does not bring them back under its own signature.
#[test]
fn a_lost_computers_publishes_folded_in_here_are_listed_and_taken_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (spokes_, desk, blog, laptop, laptop_key) = desk_and_laptop_on_a_set(tmp.path());
    // The laptop publishes a post and edits the desk's; the desk takes both in.
    spokes_ok(&laptop, PASS, &["new", "--title", "From the laptop", "--body", "Quicksilver on a train."]);
    let desk_post = spokes_writer::Profile::open(&laptop).unwrap().posts().unwrap().into_iter().find(|s| s.post.title == "From the desk").unwrap().post;
    spokes_ok(&laptop, PASS, &["edit", &desk_post.id, "--body", "Words a thief wrote."]);
    assert!(spokes_ok(&laptop, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    spokes_ok(&desk, PASS, &["sync"]);
    let mine = published(&desk);
    assert_eq!(mine.get("From the laptop").map(String::as_str), Some("Quicksilver on a train."));
    assert_eq!(mine.get("From the desk").map(String::as_str), Some("Words a thief wrote."));
    let spoke = &spokes_[0];

    // Listed by title, though no statement of the laptop's is on this computer.
    let list = spokes_ok(&desk, PASS, &["device", "lost", &laptop_key]);
    let lines: Vec<&str> = list.lines().filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit())).collect();
    assert_eq!(lines.len(), 1, "{list}");
    assert!(lines[0].contains("From the laptop") && lines[0].contains("From the desk"), "{list}");
    let out = spokes_ok(&desk, PASS, &["device", "lost", &laptop_key, "--keep-none", "--reason", "stolen"]);
    assert!(out.contains("changes left your blog") && out.contains("Published to 1 of 1 spoke"), "{out}");
    let mine = published(&desk);
    assert!(!mine.contains_key("From the laptop"), "{mine:?}");
    assert_eq!(mine.get("From the desk").map(String::as_str), Some("Marmalade stays published."));
    let titles = || served(spoke, &blog);
    assert_eq!(titles().into_keys().collect::<Vec<_>>(), ["From the desk"]);
    assert!(titles()["From the desk"].contains("Marmalade"), "the spoke serves the desk's words again");
    // The desk's next publish signs its own blog: the laptop's words do not come back.
    spokes_ok(&desk, PASS, &["new", "--title", "After the theft", "--body", "Still here."]);
    assert!(spokes_ok(&desk, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    let served_now = titles();
    assert_eq!(served_now.keys().cloned().collect::<Vec<_>>(), ["After the theft", "From the desk"]);
    assert!(served_now.values().all(|page| !page.contains("Quicksilver") && !page.contains("thief wrote")), "{served_now:?}");
    assert!(spokes_ok(&desk, PASS, &["verify"]).starts_with("Verified"));
}

/// A council member that offers an older state of a set blog than it offered before (its
/// database restored from an old backup) is reported as `rolled-back`, and nothing is taken
/// from it: the copy keeps the newer revision.
#[test]
fn a_member_that_rolls_a_set_blog_back_is_reported_and_nothing_is_taken() {
    let tmp = tempfile::tempdir().unwrap();
    let mut host = SpokeProc::init(&tmp.path().join("host"), "Host");
    let mut member = SpokeProc::init(&tmp.path().join("member"), "Member");
    // The host pulls only from a third member, which then leaves the network: otherwise the
    // host would take the newer revision back from the member within a second of its restore
    // (as it should), before anyone noticed.
    let mut away = SpokeProc::init(&tmp.path().join("away"), "Away");
    let (host_id, away_id) = (host.endpoint_id(), away.endpoint_id());
    member.configure(|c| c.council.upstreams = vec![host_id.clone()]);
    host.configure(|c| c.council.upstreams = vec![away_id.clone()]);
    host.start();
    // The member pulls every second but does not sync the blog with the writer's spokes on
    // its own (every hour): its periodic pass would otherwise give the restored host the newer
    // revision back (as it should) before its next pull noticed the older offer, which made
    // this test pass or fail by timing.
    member.start_with("spoke", &["--replicate-interval", "3600", "--council-interval", "1"], &[]);
    away.start();
    form_council(&[&host, &member, &away]);
    away.stop();
    let w = tmp.path().join("writer");
    spokes_ok(&w, PASS, &["init", "--name", "Writer", "--title", "Rolled Notes"]);
    spokes_ok(&w, PASS, &["spoke", "add", &host.invite()]);
    let blog = spokes_writer::Profile::open(&w).unwrap().blog_id().to_string();
    let id = spokes_ok(&w, PASS, &["new", "--title", "Notes", "--body", "Old words."]).trim().to_owned();
    spokes_ok(&w, PASS, &["publish"]);
    spokes_ok(&w, PASS, &["upgrade"]);
    let copied = |word: &str| member.get(&format!("/b/{blog}/posts/notes")).1.contains(word);
    assert!(wait_until(Duration::from_secs(30), || copied("Old words.")), "the member did not copy the set");

    // A backup of the host's database at this revision.
    host.stop();
    let backup = tmp.path().join("backup");
    std::fs::create_dir_all(&backup).unwrap();
    let db_files: Vec<std::path::PathBuf> = std::fs::read_dir(&host.data).unwrap().map(|f| f.unwrap().path()).filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("spoke.db"))).collect();
    for f in &db_files {
        std::fs::copy(f, backup.join(f.file_name().unwrap())).unwrap();
    }
    host.start();
    spokes_ok(&w, PASS, &["edit", &id, "--body", "New words."]);
    spokes_ok(&w, PASS, &["publish"]);
    // A pull that was under way when the host was stopped for the backup holds up the
    // member's pulls from it until QUIC gives that connection up (30 s without an answer).
    assert!(wait_until(Duration::from_secs(100), || copied("New words.")), "the member did not take the new revision");

    // The host comes back from the old backup and offers the older manifest.
    host.stop();
    for f in &db_files {
        let _ = std::fs::remove_file(f);
    }
    for f in std::fs::read_dir(&backup).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, host.data.join(f.file_name().unwrap())).unwrap();
    }
    host.start();
    assert!(host.get(&format!("/b/{blog}/posts/notes")).1.contains("Old words."), "the restore did not take");
    // A pull that was under way when the host stopped may first wait out its session (60 s).
    assert!(wait_until(Duration::from_secs(100), || member.refusals().iter().any(|(code, _)| code == "rolled-back")), "the member did not notice: {:?}", member.refusals());
    assert!(copied("New words."), "the member keeps the newer revision");
}

/// The stored listings of `blog`'s posts on a stopped spoke: post ID → listing (NULL as None).
fn listings(spoke: &SpokeProc) -> std::collections::BTreeMap<String, Option<Vec<u8>>> {
    let db = rusqlite::Connection::open(spoke.data.join("spoke.db")).unwrap();
    let mut st = db.prepare("SELECT post_id, listing FROM set_posts").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

/// A spoke starts a set blog from the listings it stored beside the posts' documents (not by
/// loading every document): after a restart it serves the same posts with the same count of
/// checked revisions; a listing the disk damaged, or one missing (a store from before
/// listings), is rendered again from its document and stored anew. The count of checked
/// revisions stays the whole blog's after a publish of one post.
#[test]
fn a_restarted_spoke_lists_a_set_blog_from_its_listings_and_renders_a_damaged_one_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut spokes_, w, blog) = network(tmp.path(), 1);
    let spoke = &mut spokes_[0];
    let first = spokes_ok(&w, PASS, &["new", "--title", "Apricot jam", "--body", "Boil the apricots."]).trim().to_owned();
    spokes_ok(&w, PASS, &["new", "--title", "Bramble jelly", "--body", "Strain the brambles overnight."]);
    spokes_ok(&w, PASS, &["publish"]);
    assert!(spokes_ok(&w, PASS, &["upgrade"]).contains("Published to 1 of 1 spoke"));
    let changes = |s: &SpokeProc| s.json(&format!("/api/v1/blogs/{blog}"))["verification"]["changes"].as_u64().unwrap();
    let before = changes(spoke);
    assert!(before >= 2, "each post's document has at least one change: {before}");
    spokes_ok(&w, PASS, &["edit", &first, "--body", "Boil the apricots with a vanilla pod."]);
    assert!(spokes_ok(&w, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    let after_edit = changes(spoke);
    assert!(after_edit > before, "the count covers the whole blog, not only the edited post: {before} then {after_edit}");
    let served_before = served(spoke, &blog);
    assert_eq!(served_before.len(), 2);

    spoke.stop();
    let stored = listings(spoke);
    assert_eq!(stored.len(), 2);
    assert!(stored.values().all(Option::is_some), "each post has its listing: {stored:?}");
    // A clean restart serves from the listings as stored.
    spoke.start();
    assert_eq!(served(spoke, &blog), served_before);
    assert_eq!(changes(spoke), after_edit);
    spoke.stop();
    assert_eq!(listings(spoke), stored, "a start that used the listings writes none");

    // One listing damaged by the disk (its title changed, its hash not), one missing.
    let (damaged, dropped): (String, String) = {
        let mut ids = stored.keys().cloned();
        (ids.next().unwrap(), ids.next().unwrap())
    };
    let mut bad = stored[&damaged].clone().unwrap();
    let at = bad.windows(3).position(|x| x == b"jam" || x == b"jel").expect("the title is in the listing");
    bad[at] = b'X';
    let db = rusqlite::Connection::open(spoke.data.join("spoke.db")).unwrap();
    db.execute("UPDATE set_posts SET listing = ?1 WHERE post_id = ?2", rusqlite::params![bad, damaged]).unwrap();
    db.execute("UPDATE set_posts SET listing = NULL WHERE post_id = ?1", [&dropped]).unwrap();
    drop(db);
    spoke.start();
    assert_eq!(served(spoke, &blog), served_before, "both posts are rendered from their documents, as before");
    assert_eq!(changes(spoke), after_edit);
    spoke.stop();
    assert_eq!(listings(spoke), stored, "both listings are stored again as they were");
}
