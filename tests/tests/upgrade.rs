//! Data written by an earlier version: the fixtures in `tests/fixtures/v1` (made by
//! `tests/fixtures/v1/make.sh` with the build before documents-per-post) open in today's
//! build: the writer's profile verifies and lists its posts, the export archive restores a
//! profile on a new computer, and the spoke's data folder serves the blog as it was.
//!
//! When a format changes, these tests are where its upgrade is shown: each opens a copy of a
//! fixture, never the fixture itself.

use spokes_e2e::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURE_PASS: &str = "fixture passphrase, not a secret";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/v1")
}

/// Copies the folder `from` into `to` (created), files and subfolders.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The fixture's posts by title: (title, a word only that post has).
fn words() -> Vec<(String, String)> {
    std::fs::read_to_string(fixtures().join("words.txt"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(t, w)| (t.to_owned(), w.to_owned())))
        .collect()
}

fn blog_id() -> String {
    let profile: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixtures().join("profile/profile.json")).unwrap()).unwrap();
    profile["blog_id"].as_str().unwrap().to_owned()
}

#[test]
fn a_version_1_profile_opens_verifies_and_lists_its_posts() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("profile");
    copy_dir(&fixtures().join("profile"), &w);
    // The first command says it moves the drafts (once), then does its work.
    let first = spokes(&w, FIXTURE_PASS, &["verify"]);
    let (out, said) = (String::from_utf8_lossy(&first.stdout).into_owned(), String::from_utf8_lossy(&first.stderr).into_owned());
    assert!(first.status.success() && out.starts_with("Verified"), "{out}{said}");
    assert!(said.contains("Getting your blog ready"), "{said}");
    let again = spokes(&w, FIXTURE_PASS, &["verify"]);
    assert!(!String::from_utf8_lossy(&again.stderr).contains("Getting your blog ready"));
    let list: serde_json::Value = serde_json::from_str(&spokes_ok(&w, FIXTURE_PASS, &["list", "--json"])).unwrap();
    let titles: Vec<&str> = list.as_array().unwrap().iter().filter_map(|p| p["post"]["title"].as_str()).collect();
    for (title, _) in words() {
        // "Binned" is in the bin, which `list` does not show.
        assert_eq!(titles.contains(&title.as_str()), title != "Binned", "{title}: {titles:?}");
    }
    // The wrong passphrase is refused and changes nothing.
    let before = std::fs::read(w.join("identity.asc")).unwrap();
    let out = spokes(&w, "not the passphrase", &["publish", "--offline"]);
    assert!(!out.status.success());
    assert_eq!(std::fs::read(w.join("identity.asc")).unwrap(), before);
}

#[test]
fn a_version_1_export_archive_restores_on_a_new_computer() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("restored");
    let (recovery, archive) = (fixtures().join("recovery.json"), fixtures().join("blog.spokes"));
    spokes_ok(&w, FIXTURE_PASS, &["restore", "--recovery", recovery.to_str().unwrap(), "--archive", archive.to_str().unwrap()]);
    let out = spokes_ok(&w, FIXTURE_PASS, &["verify"]);
    assert!(out.starts_with("Verified"), "{out}");
    let list = spokes_ok(&w, FIXTURE_PASS, &["list"]);
    assert!(list.contains("Kept") && list.contains("Unsent"), "drafts and posts came back: {list}");
}

#[test]
fn a_version_1_spoke_folder_serves_the_blog_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("spoke");
    copy_dir(&fixtures().join("spoke"), &data);
    // Fresh ports: the fixture's were free only on the machine that made it.
    let mut spoke = SpokeProc::adopt(&data);
    spoke.start();
    let blog = blog_id();
    let (code, page) = spoke.get(&format!("/b/{blog}/posts/kept"));
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("Marmalade"), "{page}");
    let (code, _) = spoke.get(&format!("/b/{blog}/posts/withdrawn"));
    assert_eq!(code, 404, "an unpublished post is not shown");
    let (_, index) = spoke.get(&format!("/b/{blog}/"));
    assert!(!index.contains("Zeppelin") && !index.contains("Xylophone"), "{index}");
    let api: serde_json::Value = spoke.json(&format!("/api/v1/blogs/{blog}"));
    assert_eq!(api["verification"]["status"], "verified", "{}", api["verification"]);
    let out = Command::new(bin("spoke")).arg("--data").arg(&data).arg("blogs").output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains(&blog), "{out:?}");
}

/// The upgrade to documents per post (`spokes upgrade`), from what today's build wrote before
/// it: the fixture profile, published to the fixture spoke (both copies), moves to a set; the
/// spoke keeps only what is published and due; the profile keeps its history and verifies.
#[test]
fn a_version_1_profile_and_spoke_move_to_documents_per_post() {
    let tmp = tempfile::tempdir().unwrap();
    let (w, spoke) = fixture_profile_and_spoke(tmp.path());
    let out = spokes_ok(&w, FIXTURE_PASS, &["upgrade"]);
    assert!(out.contains("1 published posts moved") && out.contains("Published to 1 of 1 spoke"), "{out}");
    served_as_a_set(&spoke);
    // The profile keeps every post and its history.
    assert!(spokes_ok(&w, FIXTURE_PASS, &["verify"]).starts_with("Verified"));
    assert!(spokes_ok(&w, FIXTURE_PASS, &["list"]).contains("Withdrawn"));
    // Upgrading again changes nothing.
    assert!(spokes_ok(&w, FIXTURE_PASS, &["upgrade", "--offline"]).contains("0 published posts moved"));
}

/// The same without `spokes upgrade`: the first publish of a writer who updated Spokes moves
/// the blog (the app does it when the writer unlocks), and the spoke then keeps only what is
/// published and due. Offline, or with no spoke answering, the profile waits.
#[test]
fn a_version_1_profile_moves_to_documents_per_post_at_its_first_publish() {
    let tmp = tempfile::tempdir().unwrap();
    let (w, mut spoke) = fixture_profile_and_spoke(tmp.path());
    let is_set = || spokes_writer::Profile::open(&w).unwrap().is_set();
    spokes_ok(&w, FIXTURE_PASS, &["new", "--title", "After the update", "--body", "Written with the new build."]);
    spokes_ok(&w, FIXTURE_PASS, &["publish", "--offline"]);
    assert!(!is_set(), "offline: the profile waits");
    spoke.stop();
    spokes_exit(&w, FIXTURE_PASS, &["publish"], 4);
    assert!(!is_set(), "no spoke answered: the profile waits");
    spoke.start();
    let out = spokes_ok(&w, FIXTURE_PASS, &["publish"]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");
    assert!(is_set());
    served_as_a_set(&spoke);
    let (code, page) = spoke.get(&format!("/b/{}/posts/after-the-update", blog_id()));
    assert!(code == 200 && page.contains("Written with the new build."), "{page}");
    assert!(spokes_ok(&w, FIXTURE_PASS, &["verify"]).starts_with("Verified"));
}

/// A copy of the fixture profile and of the fixture spoke (started), the profile pointed at
/// the spoke's new port; checks that the spoke's one document holds the withdrawn and the
/// scheduled post before any upgrade.
fn fixture_profile_and_spoke(tmp: &Path) -> (PathBuf, SpokeProc) {
    let w = tmp.join("profile");
    copy_dir(&fixtures().join("profile"), &w);
    let data = tmp.join("spoke");
    copy_dir(&fixtures().join("spoke"), &data);
    let mut spoke = SpokeProc::adopt(&data);
    // The copy of the profile reaches the copy of the spoke at its new port.
    let meta_path = w.join("profile.json");
    let mut meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta["spokes"][0]["addrs"] = serde_json::json!([spoke.p2p.to_string()]);
    std::fs::write(&meta_path, serde_json::to_vec_pretty(&meta).unwrap()).unwrap();
    spoke.start();
    let doc = spokes_core::BlogDoc::load(&spoke.stored_document()).unwrap();
    let bodies: String = doc.posts().into_iter().map(|p| p.body).collect();
    assert!(bodies.contains("Quicksilver") && bodies.contains("Zeppelin"), "{bodies}");
    (w, spoke)
}

/// The spoke serves the fixture blog as a set: the kept post, no word of the others in its
/// bundle, and no version 1 document left in its store.
fn served_as_a_set(spoke: &SpokeProc) {
    let blog = blog_id();
    let (code, page) = spoke.get(&format!("/b/{blog}/posts/kept"));
    assert!(code == 200 && page.contains("Marmalade"), "{page}");
    let bundle = spoke.json(&format!("/b/{blog}/bundle.json"));
    assert_eq!(bundle["version"], 2);
    let text = bundle.to_string();
    for (_, word) in words().iter().filter(|(t, _)| t != "Kept") {
        assert!(!text.contains(word.as_str()), "{word} is in the bundle");
    }
    assert!(spoke.stored_document().is_empty(), "the version 1 document is gone from the spoke");
}

/// A profile restored from a version 1 export archive moves too.
#[test]
fn a_profile_restored_from_a_version_1_archive_moves_to_documents_per_post() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("restored");
    let (recovery, archive) = (fixtures().join("recovery.json"), fixtures().join("blog.spokes"));
    spokes_ok(&w, FIXTURE_PASS, &["restore", "--recovery", recovery.to_str().unwrap(), "--archive", archive.to_str().unwrap()]);
    assert!(spokes_ok(&w, FIXTURE_PASS, &["upgrade", "--offline"]).contains("1 published posts moved"));
    let (frontier, _) = spokes_writer::Profile::open(&w).unwrap().stored_manifests().unwrap();
    let manifests = serde_json::to_string(&frontier).unwrap();
    assert!(manifests.contains(" kept ") && !manifests.contains("withdrawn") && !manifests.contains("tomorrow"), "{manifests}");
    assert!(spokes_ok(&w, FIXTURE_PASS, &["verify"]).starts_with("Verified"));
}

/// The export archive of an upgraded profile carries the set, and a profile restored from it
/// keeps the blog as a set (nothing to sign again); an archive whose set was altered is
/// refused before any profile is written.
#[test]
fn an_upgraded_profile_exports_its_set_and_restores_from_the_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("profile");
    copy_dir(&fixtures().join("profile"), &w);
    spokes_ok(&w, FIXTURE_PASS, &["upgrade", "--offline"]);
    let archive = tmp.path().join("blog.spokes");
    spokes_ok(&w, FIXTURE_PASS, &["export", archive.to_str().unwrap()]);
    let recovery = fixtures().join("recovery.json");

    let restored = tmp.path().join("restored");
    spokes_ok(&restored, FIXTURE_PASS, &["restore", "--recovery", recovery.to_str().unwrap(), "--archive", archive.to_str().unwrap()]);
    assert!(spokes_writer::Profile::open(&restored).unwrap().is_set(), "the restored profile keeps the set");
    assert_eq!(std::fs::read(restored.join("set/manifests.json")).unwrap(), std::fs::read(w.join("set/manifests.json")).unwrap());
    assert!(spokes_ok(&restored, FIXTURE_PASS, &["verify"]).starts_with("Verified"));
    assert!(spokes_ok(&restored, FIXTURE_PASS, &["upgrade", "--offline"]).contains("0 published posts moved"));

    // The same archive with one word of the kept post's document changed in place.
    let altered = tmp.path().join("altered.spokes");
    let mut out = tar::Builder::new(flate2::write::GzEncoder::new(std::fs::File::create(&altered).unwrap(), flate2::Compression::default()));
    let mut input = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(&archive).unwrap()));
    let mut touched = false;
    for e in input.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
        if path.to_string_lossy().contains("set/posts/")
            && let Some(i) = bytes.windows(9).position(|x| x == b"Marmalade")
        {
            bytes[i..i + 9].copy_from_slice(b"Marmalady");
            touched = true;
        }
        let mut h = e.header().clone();
        h.set_size(bytes.len() as u64);
        h.set_cksum();
        out.append(&h, bytes.as_slice()).unwrap();
    }
    out.into_inner().unwrap().finish().unwrap();
    assert!(touched, "the kept post's document holds its words as text");
    let refused = tmp.path().join("refused");
    let out = spokes(&refused, FIXTURE_PASS, &["restore", "--recovery", recovery.to_str().unwrap(), "--archive", altered.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("does not verify"), "{err}");
    assert!(!refused.join("profile.json").exists(), "nothing was written");
}

/// The post list as `spokes list --json` prints it: (title, published, changed since
/// published, state, tags), by title.
fn listed(json: &str) -> std::collections::BTreeMap<String, (bool, bool, String, Vec<String>)> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let p = &s["post"];
            let tags = p["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
            (p["title"].as_str().unwrap().to_owned(), (s["published"].as_bool().unwrap(), s["changed_since_published"].as_bool().unwrap(), p["state"].as_str().unwrap().to_owned(), tags))
        })
        .collect()
}

#[test]
fn a_layout_4_profile_moves_its_post_list_out_of_the_drafts_index() {
    // Made by tests/fixtures/layout4/make.sh with the build before the list moved.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/layout4");
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("profile");
    copy_dir(&fixture.join("profile"), &w);
    let before = listed(&std::fs::read_to_string(fixture.join("list.json")).unwrap());
    assert_eq!(before.len(), 4, "the fixture lists four posts (one more is in the bin)");
    // The first command builds the list from the index: the same posts, marks and tags.
    let now = listed(&spokes_ok(&w, FIXTURE_PASS, &["list", "--json"]));
    assert_eq!(now, before);
    assert!(w.join("drafts/list.sqlite").is_file());
    let meta = std::fs::read_to_string(w.join("profile.json")).unwrap();
    assert!(meta.contains(&format!("\"version\": {}", spokes_writer::profile::PROFILE_VERSION)), "{meta}");
    // An edit shows as a change, and the binned post comes back from the bin.
    let p = spokes_writer::Profile::open(&w).unwrap();
    let id = |title: &str| p.posts().unwrap().into_iter().find(|s| s.post.title == title).unwrap().post.id;
    let kept = id("Kept");
    spokes_ok(&w, FIXTURE_PASS, &["edit", &kept, "--body", "Marmalade, and more."]);
    // The binned post: the one post document the list does not show.
    let shown: Vec<String> = p.posts().unwrap().into_iter().map(|s| s.post.id).collect();
    let binned = std::fs::read_dir(w.join("drafts/posts")).unwrap().filter_map(|e| e.unwrap().file_name().to_str()?.strip_suffix(".automerge").map(str::to_owned)).find(|id| !shown.contains(id)).unwrap();
    spokes_ok(&w, FIXTURE_PASS, &["undelete", &binned]);
    let after = listed(&spokes_ok(&w, FIXTURE_PASS, &["list", "--json"]));
    assert!(after["Kept"].0 && after["Kept"].1, "Kept: published, changed since: {:?}", after["Kept"]);
    assert!(after.contains_key("Binned"));
    // The list is this computer's own and can be lost: it is made again from the post
    // documents and the published blog, with the same marks.
    std::fs::remove_file(w.join("drafts/list.sqlite")).unwrap();
    let _ = std::fs::remove_file(w.join("drafts/list.sqlite-wal"));
    let _ = std::fs::remove_file(w.join("drafts/list.sqlite-shm"));
    assert_eq!(listed(&spokes_ok(&w, FIXTURE_PASS, &["list", "--json"])), after);
    // A list that is not a database is put aside and made again.
    std::fs::write(w.join("drafts/list.sqlite"), b"this is not a database, only a broken disk's idea of one").unwrap();
    let _ = std::fs::remove_file(w.join("drafts/list.sqlite-wal"));
    let _ = std::fs::remove_file(w.join("drafts/list.sqlite-shm"));
    assert_eq!(listed(&spokes_ok(&w, FIXTURE_PASS, &["list", "--json"])), after);
    assert!(w.join("drafts/list.sqlite.damaged").is_file());
}

/// A council formed by the build before the council log (`tests/fixtures/council1`, made by
/// its `make.sh`: the founder admitted the second spoke, the second the third, each alone).
/// Upgraded, the members that start before their founder say they wait for it and take
/// nothing from the council; the founder's first start carries the council over to the log
/// (a charter of its three members, naming the old ID), and the others take it over from it.
/// The old entries are never sent again, and the log admits nobody by one member's word.
#[test]
fn a_council_formed_before_the_council_log_is_carried_over_by_its_founder() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/council1");
    let old_id = std::fs::read_to_string(fixture.join("council.txt")).unwrap().trim().to_owned();
    let mut spokes: Vec<SpokeProc> = ["founder", "second", "third"]
        .iter()
        .map(|n| {
            copy_dir(&fixture.join(n), &tmp.path().join(n));
            SpokeProc::adopt_in_place(&tmp.path().join(n))
        })
        .collect();
    let status = |s: &SpokeProc| -> serde_json::Value { serde_json::from_str(&s.admin(&["council", "members", "--json"])).unwrap() };
    // The two members first: no council log yet, they say why.
    for s in &mut spokes[1..] {
        s.start();
    }
    for s in &spokes[1..] {
        let v = status(s);
        assert_eq!((v["council"].as_str(), v["waiting_for_charter"].as_str()), (None, Some(old_id.as_str())), "{v}");
        assert!(s.admin(&["council", "members"]).contains("earlier version of Spokes"));
        assert_eq!(s.get("/council").0, 404);
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert!(spokes[1..].iter().all(|s| status(s)["council"].is_null()), "a member took a council from another member");
    // The founder starts: it signs the charter, and the members take it over.
    spokes[0].start();
    let members = |s: &SpokeProc| s.json("/api/v1/council")["members"].as_array().map_or(0, Vec::len);
    assert!(wait_until(std::time::Duration::from_secs(60), || spokes.iter().all(|s| members(s) == 3)), "the council was not carried over: {:?}", spokes.iter().map(members).collect::<Vec<_>>());
    let log = spokes[2].json("/council");
    let new_id = log["council"].as_str().unwrap().to_owned();
    assert_ne!(new_id, old_id);
    let entries = log["entries"].as_array().unwrap();
    let founding: serde_json::Value = serde_json::from_str(entries[0]["entry"].as_str().unwrap()).unwrap();
    assert_eq!((founding["v"].as_u64(), founding["act"]["kind"].as_str(), founding["act"]["upgrades"].as_str()), (Some(2), Some("found"), Some(old_id.as_str())), "{founding}");
    assert_eq!(founding["act"]["charter"].as_array().map(Vec::len), Some(2));
    assert_eq!(founding["by"].as_str(), Some(spokes[0].endpoint_id().as_str()));
    assert!(entries.iter().all(|e| e["entry"].as_str().unwrap().starts_with("{\"v\":2")), "{log}");
    for s in &spokes {
        assert_eq!(status(s)["council"].as_str(), Some(new_id.as_str()));
        assert_eq!(s.json("/ready")["council"]["member"], true);
    }
    // From now on a newcomer needs a majority: the founder's invite alone does not admit it.
    let mut fourth = SpokeProc::init(&tmp.path().join("fourth"), "Fourth");
    fourth.start();
    let out = fourth.admin(&["council", "join", spokes[0].admin(&["council", "invite"]).trim()]);
    assert!(out.contains("Waiting for 1 more"), "{out}");
    assert!(spokes[2].admin(&["council", "approve", "Fourth"]).contains("is admitted"));
    assert!(wait_until(std::time::Duration::from_secs(60), || members(&fourth) == 4), "the fourth spoke never learned it was admitted");
}
