//! Identity in real life (issue 5), end to end with real `spoke` processes, the `spokes` CLI
//! and stock GnuPG: a GnuPG key as the identity, `gpg --verify` of exported statements, a
//! second computer removed, restore from the recovery file, and the export archive.

use spokes_e2e::hostile::{self, HostilePeer};
use spokes_e2e::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `gpg` in its own home folder, non-interactively.
fn gpg(home: &Path, args: &[&str]) -> Output {
    Command::new("gpg").arg("--homedir").arg(home).args(["--batch", "--pinentry-mode", "loopback"]).args(args).output().expect("gpg is installed (apt-get install gnupg)")
}

/// A fresh GnuPG home; its agent is stopped when the value is dropped.
struct GnupgHome(PathBuf);

impl GnupgHome {
    fn new(dir: &Path) -> GnupgHome {
        std::fs::create_dir_all(dir).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        GnupgHome(dir.into())
    }
}

impl Drop for GnupgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").arg("--homedir").arg(&self.0).args(["--kill", "all"]).output();
    }
}

/// Unpacks an export archive with the system's `tar`.
fn unpack(archive: &Path, into: &Path) -> PathBuf {
    std::fs::create_dir_all(into).unwrap();
    let out = Command::new("tar").arg("-xzf").arg(archive).arg("-C").arg(into).output().unwrap();
    assert!(out.status.success(), "tar: {}", String::from_utf8_lossy(&out.stderr));
    into.join("spokes-archive")
}

fn api(spoke: &SpokeProc, blog: &str) -> serde_json::Value {
    let (code, body) = spoke.get(&format!("/api/v1/blogs/{blog}"));
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn titles(api: &serde_json::Value) -> Vec<String> {
    let mut t: Vec<String> = api["posts"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_owned()).collect();
    t.sort();
    t
}

#[test]
fn a_gnupg_key_signs_the_blog_and_gnupg_verifies_the_exported_statements() {
    let tmp = tempfile::tempdir().unwrap();
    let home = GnupgHome::new(&tmp.path().join("gnupg"));
    let out = gpg(&home.0, &["--passphrase", PASS, "--quick-gen-key", "Grace Hopper <grace@example.org>", "ed25519"]);
    assert!(out.status.success(), "gpg --quick-gen-key: {}", String::from_utf8_lossy(&out.stderr));
    let out = gpg(&home.0, &["--passphrase", PASS, "--armor", "--export-secret-keys", "grace@example.org"]);
    assert!(out.status.success() && out.stdout.starts_with(b"-----BEGIN PGP PRIVATE KEY BLOCK-----"), "{}", String::from_utf8_lossy(&out.stderr));
    let key = tmp.path().join("key.asc");
    std::fs::write(&key, &out.stdout).unwrap();
    let gpg_fpr = String::from_utf8(gpg(&home.0, &["--with-colons", "--list-keys", "grace@example.org"]).stdout).unwrap();
    let gpg_fpr = gpg_fpr.lines().find(|l| l.starts_with("fpr:")).unwrap().split(':').nth(9).unwrap().to_owned();

    // The GnuPG key becomes the identity: same fingerprint, its passphrase is asked.
    let mut spoke = SpokeProc::init(&tmp.path().join("spoke"), "Spoke");
    let ticket = spoke.invite();
    spoke.start();
    let w = tmp.path().join("writer");
    let out = spokes(&w, "not the passphrase", &["init", "--key", key.to_str().unwrap(), "--title", "Grace's notes"]);
    assert!(!out.status.success(), "a wrong passphrase must not import the key");
    let out = spokes_ok(&w, PASS, &["init", "--key", key.to_str().unwrap(), "--title", "Grace's notes"]);
    assert!(out.contains(&gpg_fpr), "{out}");
    spokes_ok(&w, PASS, &["spoke", "add", &ticket]);
    spokes_ok(&w, PASS, &["new", "--title", "Signed by my GnuPG key", "--body", "Hello."]);
    let out = spokes_ok(&w, PASS, &["publish"]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");
    let blog = spokes_writer::Profile::open(&w).unwrap().blog_id().to_string();
    let a = api(&spoke, &blog);
    assert_eq!(a["verification"]["status"], "verified", "{}", a["verification"]);
    assert_eq!(a["fingerprint"], gpg_fpr.as_str());
    assert_eq!(titles(&a), vec!["Signed by my GnuPG key".to_owned()]);

    // Stock GnuPG, knowing only the exported certificate, verifies every exported statement.
    let archive = tmp.path().join("blog.tar.gz");
    spokes_ok(&w, PASS, &["export", archive.to_str().unwrap()]);
    let x = unpack(&archive, &tmp.path().join("x"));
    let verifier = GnupgHome::new(&tmp.path().join("verifier"));
    let out = gpg(&verifier.0, &["--import", x.join("certificate.asc").to_str().unwrap()]);
    assert!(out.status.success(), "gpg --import: {}", String::from_utf8_lossy(&out.stderr));
    let mut checked = 0;
    for n in 1..=2 {
        let (sig, txt) = (x.join(format!("statements/{n:04}.asc")), x.join(format!("statements/{n:04}.txt")));
        let out = gpg(&verifier.0, &["--verify", sig.to_str().unwrap(), txt.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && err.contains("Good signature"), "gpg --verify statement {n}: {err}");
        checked += 1;
    }
    assert_eq!(checked, 2);
    // An altered statement fails.
    let txt = x.join("statements/0002.txt");
    let altered = std::fs::read_to_string(&txt).unwrap().replace("head: ", "head: 0");
    std::fs::write(&txt, altered).unwrap();
    let out = gpg(&verifier.0, &["--verify", x.join("statements/0002.asc").to_str().unwrap(), txt.to_str().unwrap()]);
    assert!(!out.status.success(), "gpg accepted an altered statement");
}

/// One spoke and a desk that published "From the desk" and saved its recovery file (the
/// path returned), for a second computer to be restored from.
fn desk_with_a_post(tmp: &Path) -> (Vec<SpokeProc>, PathBuf, String, PathBuf) {
    let (spokes_, desk, blog) = network(tmp, 1);
    spokes_ok(&desk, PASS, &["new", "--title", "From the desk", "--body", "Written at home."]);
    assert!(spokes_ok(&desk, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    let recovery = tmp.join("recovery.json");
    spokes_ok(&desk, PASS, &["recovery-file", recovery.to_str().unwrap()]);
    (spokes_, desk, blog, recovery)
}

#[test]
fn a_removed_computer_is_refused_and_a_restored_one_carries_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (spokes_, desk, blog, recovery) = desk_with_a_post(tmp.path());
    let spoke = &spokes_[0];
    // A second computer, restored from the recovery file and the spoke it lists.
    let laptop = tmp.path().join("laptop");
    let out = spokes(&laptop, "wrong passphrase", &["restore", "--recovery", recovery.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(!laptop.join("profile.json").exists(), "a failed restore leaves no profile");
    let out = spokes_ok(&laptop, PASS, &["restore", "--recovery", recovery.to_str().unwrap()]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");
    let lp = spokes_writer::Profile::open(&laptop).unwrap();
    assert_eq!(lp.blog_id().to_string(), blog);
    let laptop_key = lp.device_key().unwrap().to_owned();
    assert!(spokes_ok(&laptop, PASS, &["list"]).contains("From the desk"));
    assert!(spokes_ok(&laptop, PASS, &["verify"]).starts_with("Verified"));
    spokes_ok(&laptop, PASS, &["new", "--title", "From the laptop", "--body", "Written on a train."]);
    assert!(spokes_ok(&laptop, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    assert_eq!(titles(&api(spoke, &blog)), vec!["From the desk".to_owned(), "From the laptop".to_owned()]);
    // The desk learns of the laptop from the spoke.
    spokes_ok(&desk, PASS, &["sync"]);
    let devices: serde_json::Value = serde_json::from_str(&spokes_ok(&desk, PASS, &["device", "list", "--json"])).unwrap();
    assert!(devices.as_array().unwrap().iter().any(|d| d["fingerprint"] == laptop_key.as_str()), "{devices}");

    // The laptop is stolen: the thief has a copy of it. The desk removes it. Signature times
    // have one-second resolution.
    let thief = tmp.path().join("thief");
    assert!(Command::new("cp").arg("-r").arg(&laptop).arg(&thief).status().unwrap().success());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = spokes_ok(&desk, PASS, &["device", "remove", &laptop_key, "--reason", "lost on a train"]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");
    // The laptop, found again, learns it at its next publish and signs nothing.
    spokes_ok(&laptop, PASS, &["new", "--title", "After removal", "--body", "Too late."]);
    let out = spokes(&laptop, PASS, &["publish"]);
    let err = String::from_utf8_lossy(&out.stderr);
    // It is told when and why, in the words the desk gave.
    assert!(!out.status.success() && err.contains("removed from your identity on ") && err.contains("(reason given: lost on a train)") && err.contains("pair it again"), "{err}");
    // The thief's copy does not know and signs anyway: the spoke refuses it.
    spokes_ok(&thief, PASS, &["new", "--title", "Written by a thief", "--body", "Forged."]);
    spokes_ok(&thief, PASS, &["publish", "--offline"]);
    let out = spokes_exit(&thief, PASS, &["sync", "--published-only"], 4);
    assert!(out.contains("Published to 0 of 1 spoke"), "{out}");
    let a = api(spoke, &blog);
    assert_eq!(a["verification"]["status"], "verified", "{}", a["verification"]);
    assert_eq!(titles(&a), vec!["From the desk".to_owned(), "From the laptop".to_owned()], "what the laptop signed before stays; after, nothing");
    let refusals = String::from_utf8(Command::new(bin("spoke")).arg("--data").arg(&spoke.data).arg("refusals").output().unwrap().stdout).unwrap();
    assert!(refusals.contains("bad-signature"), "{refusals}");
    assert!(spokes_ok(&desk, PASS, &["verify"]).starts_with("Verified"));
}

/// The thief's tool: a post written into the copied profile's blog and a statement over it
/// signed with the stolen key, dated `at` (Unix seconds), as any OpenPGP tool can date it.
/// The real `spokes` CLI of the thief's copy then sends it.
/// The key comes from `stash`, a copy of the stolen profile the thief never syncs (the one
/// that syncs learns of the removal, and the honest code would refuse to sign).
fn backdated_post(thief: &Path, stash: &Path, title: &str, at: i64) {
    let mut key = spokes_writer::Profile::open(stash).unwrap().unlock(PASS).unwrap();
    let p = spokes_writer::Profile::open(thief).unwrap();
    let heads = p
        .with_blog(|b| {
            let mut post = spokes_core::Post::new(title, "Dated before the removal.");
            post.state = spokes_core::PostState::Published;
            b.put_post(&post)?;
            b.commit(title);
            Ok(b.heads())
        })
        .unwrap();
    let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(at as u64);
    let signed = spokes_core::Statement::new(p.blog_id().clone(), &heads).sign_dated(&mut key, when).unwrap();
    let mut all = p.statements().unwrap();
    all.push(signed);
    p.save_statements(&all).unwrap();
}

/// The titles in a profile's published blog, sorted.
fn published_titles(profile: &Path) -> Vec<String> {
    let p = spokes_writer::Profile::open(profile).unwrap();
    let mut t: Vec<String> = p.with_blog(|b| Ok(b.posts())).unwrap().into_iter().map(|p| p.title).collect();
    t.sort();
    t
}

/// Attack 7 of the hostile-peers issue, end to end: a thief with a copy of a laptop dates
/// statements before the laptop's removal. "Retired" (a soft revocation) lets them through;
/// "lost or stolen" voids everything the laptop signed, keeps what the writer confirms, and
/// the spoke leaves the thief's post out and refuses the next one.
#[test]
fn a_stolen_computer_can_not_backdate_past_lost_or_stolen() {
    let tmp = tempfile::tempdir().unwrap();
    // Version 1 statements and sessions: the writer stays a version 1 blog document
    // (`forget::a_lost_computers_manifests_stop_counting_on_an_upgraded_blog` is the set's).
    hold_version_1(tmp.path());
    let (spokes_, desk, blog, recovery) = desk_with_a_post(tmp.path());
    let spoke = &spokes_[0];
    let laptop = tmp.path().join("laptop");
    spokes_ok(&laptop, PASS, &["restore", "--recovery", recovery.to_str().unwrap()]);
    let laptop_key = spokes_writer::Profile::open(&laptop).unwrap().device_key().unwrap().to_owned();
    spokes_ok(&laptop, PASS, &["new", "--title", "From the laptop", "--body", "Written on a train."]);
    assert!(spokes_ok(&laptop, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    spokes_ok(&desk, PASS, &["sync"]);

    // The laptop is stolen; the desk first only retires it.
    let (thief, stash) = (tmp.path().join("thief"), tmp.path().join("stash"));
    for copy in [&thief, &stash] {
        assert!(Command::new("cp").arg("-r").arg(&laptop).arg(copy).status().unwrap().success());
    }
    std::thread::sleep(std::time::Duration::from_millis(2100));
    spokes_ok(&desk, PASS, &["device", "remove", &laptop_key, "--reason", "left on a train"]);
    let devices: serde_json::Value = serde_json::from_str(&spokes_ok(&desk, PASS, &["device", "list", "--json"])).unwrap();
    let removed_at = devices.as_array().unwrap().iter().find(|d| d["fingerprint"] == laptop_key.as_str()).unwrap()["revoked_at"].as_i64().unwrap();
    // The thief dates a post one second before the removal: a retired key lets it through.
    backdated_post(&thief, &stash, "Backdated by a thief", removed_at - 1);
    spokes_ok(&thief, PASS, &["sync", "--published-only"]);
    let with_thief = vec!["Backdated by a thief".to_owned(), "From the desk".to_owned(), "From the laptop".to_owned()];
    assert_eq!(titles(&api(spoke, &blog)), with_thief, "a soft revocation trusts the date a thief writes");
    spokes_ok(&desk, PASS, &["sync"]);
    assert!(published_titles(&desk).contains(&"Backdated by a thief".to_owned()));

    // The writer says it was stolen: first the list of what it published, in plain words.
    let list = spokes_ok(&desk, PASS, &["device", "lost", &laptop_key]);
    let lines: Vec<&str> = list.lines().filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit())).collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines[0].contains("From the laptop") && lines[1].contains("Backdated by a thief"), "{list}");
    assert!(list.contains("--keep N") && list.contains("--keep-none"), "{list}");
    assert_eq!(titles(&api(spoke, &blog)), with_thief, "listing changes nothing");
    let out = spokes(&desk, PASS, &["device", "lost", &laptop_key, "--keep", "3"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no publish number 3"));
    // It keeps the laptop's own publish (number 1) and nothing after.
    let out = spokes_ok(&desk, PASS, &["device", "lost", &laptop_key, "--keep", "1", "--reason", "stolen from the car"]);
    assert!(out.contains("Removed for good") && out.contains("Published to 1 of 1 spoke"), "{out}");
    let honest = vec!["From the desk".to_owned(), "From the laptop".to_owned()];
    let a = api(spoke, &blog);
    assert_eq!(a["verification"]["status"], "verified", "{}", a["verification"]);
    assert_eq!(titles(&a), honest, "the spoke left the thief's post out");
    assert_eq!(published_titles(&desk), honest, "the desk left it out too");
    assert!(spokes_ok(&desk, PASS, &["verify"]).starts_with("Verified"));
    let listed = spokes_ok(&desk, PASS, &["device", "list"]);
    assert!(listed.contains("lost or stolen, removed") && listed.contains("stolen from the car"), "{listed}");

    // The thief tries again, dated before both removals. Through the honest program, its
    // copy learns of the loss at the sync and leaves the post out itself.
    backdated_post(&thief, &stash, "Backdated again", removed_at - 1);
    spokes_ok(&thief, PASS, &["sync", "--published-only"]);
    assert_eq!(titles(&api(spoke, &blog)), honest);
    assert_eq!(published_titles(&thief), honest, "the thief's own copy dropped it");
    // Through its own tool, speaking the protocol with the certificate as it was before the
    // loss: the spoke drops the stolen key's statements and refuses the changes.
    backdated_post(&stash, &stash, "Backdated a third time", removed_at - 1);
    let st = spokes_writer::Profile::open(&stash).unwrap();
    let (doc, heads) = st.with_blog(|b| Ok((b.save(), b.heads()))).unwrap();
    let empty = spokes_sync::Frame { typ: spokes_sync::FrameType::SyncMessage, payload: vec![] };
    let frames = vec![
        hostile::hello(&blog, Some(&heads)),
        hostile::certificate(st.certificate().unwrap().to_armored()),
        hostile::statements(&st.statements().unwrap()),
        hostile::changes(&doc),
        empty.clone(),
        empty,
    ];
    let refusal = HostilePeer::new().session(&spoke.invite(), frames).refusal().expect("the spoke refuses");
    assert_eq!(refusal.code, "uncovered-changes", "{refusal:?}");
    assert_eq!(titles(&api(spoke, &blog)), honest);
    // The laptop, found again by its owner, learns it was declared lost and signs nothing.
    spokes_ok(&laptop, PASS, &["new", "--title", "Found again", "--body", "Too late."]);
    let out = spokes(&laptop, PASS, &["publish"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("removed from your identity on "));
    // The desk writes on: its next publish still verifies.
    spokes_ok(&desk, PASS, &["new", "--title", "After the theft", "--body", "Carrying on."]);
    assert!(spokes_ok(&desk, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    let a = api(spoke, &blog);
    assert_eq!(a["verification"]["status"], "verified", "{}", a["verification"]);
    assert_eq!(titles(&a).len(), 3);
    // What the spoke stored was rewritten, not patched: a restart shows the same blog.
    let mut spoke = spokes_.into_iter().next().unwrap();
    spoke.stop();
    spoke.start();
    let a = api(&spoke, &blog);
    assert_eq!(a["verification"]["status"], "verified", "{}", a["verification"]);
    assert!(!titles(&a).iter().any(|t| t.contains("Backdated")), "{:?}", titles(&a));
}

#[test]
fn the_export_archive_moves_a_blog_to_a_new_spoke_and_a_new_computer() {
    let tmp = tempfile::tempdir().unwrap();
    let (spokes_, w, blog) = network(tmp.path(), 1);
    spokes_ok(&w, PASS, &["import", corpus("jekyll-posts").to_str().unwrap()]);
    let png = tmp.path().join("dot.png");
    std::fs::write(&png, PNG).unwrap();
    let link = spokes_ok(&w, PASS, &["image", png.to_str().unwrap()]).trim().to_owned();
    spokes_ok(&w, PASS, &["new", "--title", "With a picture", "--body", &link]);
    assert!(spokes_ok(&w, PASS, &["publish"]).contains("Published to 1 of 1 spoke"));
    let draft = spokes_ok(&w, PASS, &["new", "--title", "Not yet published", "--body", "Draft words."]).trim().to_owned();
    let original = api(&spokes_[0], &blog);
    let image = spokes_core::image::ImageName::for_bytes(PNG).unwrap();

    let archive = tmp.path().join("blog.tar.gz");
    let out = spokes_ok(&w, PASS, &["export", archive.to_str().unwrap()]);
    assert!(out.contains("103 published posts"), "{out}");
    let x = unpack(&archive, &tmp.path().join("x"));
    assert_eq!(std::fs::read_dir(x.join("posts")).unwrap().count(), 103);
    // The picture is in the archive, and beside the static site that shows it.
    assert_eq!(std::fs::read(x.join(format!("images/{image}"))).unwrap(), PNG);
    assert_eq!(std::fs::read(x.join(format!("site/images/{image}"))).unwrap(), PNG);
    let page = std::fs::read_to_string(x.join("site/posts/with-a-picture/index.html")).unwrap();
    assert!(page.contains(&format!("src=\"../../images/{image}\"")), "{page}");
    assert!(x.join("site/index.html").exists() && x.join("site/feed.atom").exists());
    let site_feed = feed_rs::parser::parse(std::fs::read(x.join("site/feed.atom")).unwrap().as_slice()).unwrap();
    assert_eq!(site_feed.entries.len(), 103);

    // A spoke that never saw the blog hosts it from the archive, verified, same posts.
    let mut fresh = SpokeProc::init(&tmp.path().join("fresh"), "Fresh spoke");
    let out = Command::new(bin("spoke")).arg("--data").arg(&fresh.data).arg("import").arg(&archive).output().unwrap();
    assert!(out.status.success(), "spoke import: {}", String::from_utf8_lossy(&out.stderr));
    fresh.start();
    let moved = api(&fresh, &blog);
    assert_eq!(moved["verification"]["status"], "verified", "{}", moved["verification"]);
    assert_eq!(moved["posts"], original["posts"]);
    assert_eq!(http_get_bytes(&format!("http://{}/b/{blog}/images/{image}", fresh.http)).2, PNG, "the picture came with the archive");
    // A tampered archive is refused by the spoke.
    let bad = tmp.path().join("bad.tar.gz");
    std::fs::write(&bad, b"\x1f\x8b not really").unwrap();
    let out = Command::new(bin("spoke")).arg("--data").arg(tmp.path().join("fresh")).arg("import").arg(&bad).output().unwrap();
    assert!(!out.status.success());

    // A new computer restores from the archive and the recovery file, drafts included.
    let recovery = tmp.path().join("recovery.json");
    spokes_ok(&w, PASS, &["recovery-file", recovery.to_str().unwrap()]);
    let moved_w = tmp.path().join("moved");
    spokes_ok(&moved_w, PASS, &["restore", "--recovery", recovery.to_str().unwrap(), "--archive", archive.to_str().unwrap()]);
    let list = spokes_ok(&moved_w, PASS, &["list"]);
    assert!(list.contains(&draft) && list.contains("Not yet published"), "{list}");
    let out = spokes_ok(&moved_w, PASS, &["verify"]);
    assert!(out.starts_with("Verified"), "{out}");
    assert_eq!(std::fs::read(moved_w.join(format!("images/{image}"))).unwrap(), PNG);
}

/// A post's body as one profile's drafts hold it.
fn draft_body(profile: &Path, id: &str) -> String {
    spokes_writer::Profile::open(profile).unwrap().draft(id).unwrap().unwrap().body
}

#[test]
fn two_computers_edit_one_post_offline_and_both_edits_survive() {
    let tmp = tempfile::tempdir().unwrap();
    let (spokes_, desk, blog) = network(tmp.path(), 1);
    let spoke = &spokes_[0];
    let id = spokes_ok(&desk, PASS, &["new", "--title", "Shared", "--body", "First paragraph.\n\nSecond paragraph.\n"]).trim().to_owned();
    spokes_ok(&desk, PASS, &["new", "--title", "Only a draft", "--body", "Unpublished thoughts."]);
    spokes_ok(&desk, PASS, &["publish", &id]);

    // The laptop is set up from the recovery file and the spoke: the published blog and the
    // desk's sealed drafts (the spoke stores them but cannot read them).
    let recovery = tmp.path().join("recovery.json");
    spokes_ok(&desk, PASS, &["recovery-file", recovery.to_str().unwrap()]);
    let db = rusqlite::Connection::open(spoke.data.join("spoke.db")).unwrap();
    let sealed: Vec<Vec<u8>> = db.prepare("SELECT sealed FROM draft_items").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(sealed.len(), 3, "the index and the two posts, sealed apart");
    assert!(sealed.iter().all(|s| !s.windows(10).any(|w| w == b"Unpublishe")), "the spoke holds only ciphertext");
    let laptop = tmp.path().join("laptop");
    spokes_ok(&laptop, PASS, &["restore", "--recovery", recovery.to_str().unwrap()]);
    let list = spokes_ok(&laptop, PASS, &["list"]);
    assert!(list.contains("Only a draft"), "the desk's drafts came along: {list}");

    // Both edit the same post while offline, and publish offline.
    spokes_ok(&desk, PASS, &["edit", &id, "--body", "First paragraph, edited at the desk.\n\nSecond paragraph.\n"]);
    spokes_ok(&laptop, PASS, &["edit", &id, "--body", "First paragraph.\n\nSecond paragraph, edited on the laptop.\n"]);
    spokes_ok(&desk, PASS, &["publish", "--offline"]);
    spokes_ok(&laptop, PASS, &["publish", "--offline"]);

    // Online again: each syncs through the spoke.
    for p in [&desk, &laptop, &desk] {
        spokes_ok(p, PASS, &["sync"]);
    }
    let both = "First paragraph, edited at the desk.\n\nSecond paragraph, edited on the laptop.\n";
    assert_eq!(draft_body(&desk, &id), both);
    assert_eq!(draft_body(&laptop, &id), both);
    let post = |spoke: &SpokeProc| {
        let a = api(spoke, &blog);
        assert_eq!(a["verification"]["status"], "verified", "{}", a["verification"]);
        let slug = a["posts"].as_array().unwrap().iter().find(|p| p["title"].as_str().unwrap().starts_with("Shared")).unwrap_or_else(|| panic!("{}", a["posts"]))["slug"].as_str().unwrap().to_owned();
        let (_, body) = spoke.get(&format!("/api/v1/blogs/{blog}/posts/{slug}"));
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    let html = post(spoke)["post"]["html"].as_str().unwrap().to_owned();
    assert!(html.contains("edited at the desk") && html.contains("edited on the laptop"), "{html}");
    assert_eq!(html.matches("edited").count(), 2, "each edit once: {html}");

    // A later publish from either computer keeps both.
    spokes_ok(&desk, PASS, &["edit", &id, "--title", "Shared, retitled"]);
    spokes_ok(&desk, PASS, &["publish"]);
    let html = post(spoke)["post"]["html"].as_str().unwrap().to_owned();
    assert!(html.contains("edited at the desk") && html.contains("edited on the laptop"), "{html}");
}

#[test]
fn a_second_computer_pairs_with_a_code_and_publishes_with_its_own_key() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().unwrap();
    let (spokes_, desk, blog) = network(tmp.path(), 1);
    spokes_ok(&desk, PASS, &["new", "--title", "From the desk", "--body", "Home."]);
    spokes_ok(&desk, PASS, &["publish"]);
    spokes_ok(&desk, PASS, &["new", "--title", "A draft", "--body", "Not yet."]);

    let mut pair = Command::new(bin("spokes"))
        .arg("--profile")
        .arg(&desk)
        .args(["device", "pair", "--wait-minutes", "2"])
        .env("SPOKES_PASSPHRASE", PASS)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(pair.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let code = first.strip_prefix("Pairing code: ").unwrap_or_else(|| panic!("{first}")).to_owned();

    // A mistyped code is refused and does not end the pairing.
    let laptop = tmp.path().join("laptop");
    let mut wrong = spokes_writer::pairing::PairingCode::decode(&code).unwrap();
    wrong.secret = "00".repeat(16);
    let out = spokes(&laptop, PASS, &["device", "join", &wrong.encode()]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not the one shown"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!laptop.join("profile.json").exists());
    let out = spokes_ok(&laptop, PASS, &["device", "join", &code, "--name", "Laptop"]);
    assert!(out.contains("This computer now writes for"), "{out}");
    assert!(pair.wait().unwrap().success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.starts_with("Paired with Laptop")), "{rest:?}");

    let lp = spokes_writer::Profile::open(&laptop).unwrap();
    let key = lp.device_key().unwrap().to_owned();
    let devices: serde_json::Value = serde_json::from_str(&spokes_ok(&desk, PASS, &["device", "list", "--json"])).unwrap();
    assert!(devices.as_array().unwrap().iter().any(|d| d["fingerprint"] == key.as_str() && d["name"] == "Laptop"), "certified by the desk: {devices}");
    assert!(spokes_ok(&laptop, PASS, &["list"]).contains("A draft"), "the desk's drafts came along");
    spokes_ok(&laptop, PASS, &["new", "--title", "From the laptop", "--body", "Away."]);
    let out = spokes_ok(&laptop, PASS, &["publish"]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");
    let a = api(&spokes_[0], &blog);
    assert_eq!(a["verification"]["status"], "verified");
    assert!(titles(&a).contains(&"From the laptop".to_owned()));
}

/// The worked example of the signed manifest (`spokes revision v2`) in docs/formats.md: stock
/// GnuPG, knowing only its certificate, verifies its header, and refuses it altered.
#[test]
fn stock_gnupg_verifies_the_version_2_worked_example() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/examples/manifest-v2");
    let home = GnupgHome::new(&tmp.path().join("gnupg"));
    let out = gpg(&home.0, &["--import", dir.join("certificate.asc").to_str().unwrap()]);
    assert!(out.status.success(), "gpg --import: {}", String::from_utf8_lossy(&out.stderr));
    let out = gpg(&home.0, &["--verify", dir.join("header.asc").to_str().unwrap(), dir.join("header.txt").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.contains("Good signature"), "gpg --verify: {err}");
    let altered = tmp.path().join("header.txt");
    std::fs::write(&altered, std::fs::read_to_string(dir.join("header.txt")).unwrap().replace("leaves: 3", "leaves: 2")).unwrap();
    let out = gpg(&home.0, &["--verify", dir.join("header.asc").to_str().unwrap(), altered.to_str().unwrap()]);
    assert!(!out.status.success(), "gpg accepted an altered header");
}

/// The sealed draft items a spoke holds: (device, item) → BLAKE3 of the sealed bytes.
fn draft_items(spoke: &SpokeProc) -> std::collections::BTreeMap<(String, String), Vec<u8>> {
    let db = rusqlite::Connection::open(spoke.data.join("spoke.db")).unwrap();
    let mut st = db.prepare("SELECT device, item, hash FROM draft_items").unwrap();
    st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

/// What a profile took from its other computers: (device, item) → hash (its post list).
fn taken_items(profile: &Path) -> std::collections::BTreeMap<(String, String), String> {
    let db = rusqlite::Connection::open(profile.join("drafts/list.sqlite")).unwrap();
    let mut st = db.prepare("SELECT device, item, hash FROM drafts_taken").unwrap();
    st.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

/// Draft `n` of a batch: a title and a body with a word only it has.
fn numbered_draft(desk: &Path, n: usize) -> String {
    spokes_ok(desk, PASS, &["new", "--title", &format!("Draft number {n}"), "--body", &format!("Words of draft {n}: quokka{n}.")]).trim().to_owned()
}

#[test]
fn drafts_travel_by_item_and_a_sync_moves_only_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let (spokes_, desk, _) = network(tmp.path(), 1);
    let spoke = &spokes_[0];
    let ids: Vec<String> = (0..12).map(|n| numbered_draft(&desk, n)).collect();
    spokes_ok(&desk, PASS, &["sync"]);
    let first = draft_items(spoke);
    assert_eq!(first.len(), 13, "the index and twelve posts: {:?}", first.keys());
    assert!(ids.iter().all(|id| first.keys().any(|(_, item)| item == id)));
    // Nothing changed: the next sync leaves nothing new (the same seals stay).
    spokes_ok(&desk, PASS, &["sync"]);
    assert_eq!(draft_items(spoke), first, "an unchanged draft was sealed and sent again");

    // A second computer set up from the recovery file takes every item.
    let recovery = tmp.path().join("recovery.json");
    spokes_ok(&desk, PASS, &["recovery-file", recovery.to_str().unwrap()]);
    let laptop = tmp.path().join("laptop");
    spokes_ok(&laptop, PASS, &["restore", "--recovery", recovery.to_str().unwrap()]);
    let list = spokes_ok(&laptop, PASS, &["list"]);
    assert!((0..12).all(|n| list.contains(&format!("Draft number {n}"))), "{list}");
    let taken = taken_items(&laptop);
    assert_eq!(taken.len(), 13, "{taken:?}");

    // One draft edited at the desk: one item changes at the spoke, and the laptop takes
    // that one alone.
    spokes_ok(&desk, PASS, &["edit", &ids[5], "--body", "Words of draft 5, edited: wombat."]);
    spokes_ok(&desk, PASS, &["sync"]);
    let second = draft_items(spoke);
    let changed: Vec<&(String, String)> = second.keys().filter(|k| first.get(*k) != second.get(*k)).collect();
    assert_eq!(changed.iter().map(|(_, item)| item.as_str()).collect::<Vec<_>>(), [ids[5].as_str()], "only the edited post was left again");
    spokes_ok(&laptop, PASS, &["sync"]);
    assert_eq!(draft_body(&laptop, &ids[5]), "Words of draft 5, edited: wombat.");
    let retaken = taken_items(&laptop);
    let moved: Vec<&(String, String)> = retaken.keys().filter(|k| taken.get(*k) != retaken.get(*k)).collect();
    assert_eq!(moved.iter().map(|(_, item)| item.as_str()).collect::<Vec<_>>(), [ids[5].as_str()], "only the edited post was taken again");
    // The laptop's own items are there too now, and the desk takes its new draft.
    let from_laptop = numbered_draft(&laptop, 99);
    spokes_ok(&laptop, PASS, &["sync"]);
    spokes_ok(&desk, PASS, &["sync"]);
    assert_eq!(draft_body(&desk, &from_laptop), "Words of draft 99: quokka99.");
    // The posts the laptop took stand as the desk left them: it left only its index and
    // its new draft.
    let desk_device = &first.keys().next().unwrap().0;
    let laptop_items: Vec<String> = draft_items(spoke).into_keys().filter(|(d, _)| d != desk_device).map(|(_, item)| item).collect();
    assert_eq!(laptop_items.len(), 2, "{laptop_items:?} ids {ids:?}");
    assert!(laptop_items.contains(&"index".to_owned()) && laptop_items.contains(&from_laptop), "{laptop_items:?}");
    // Every item is ciphertext to the spoke.
    let db = rusqlite::Connection::open(spoke.data.join("spoke.db")).unwrap();
    let sealed: Vec<Vec<u8>> = db.prepare("SELECT sealed FROM draft_items").unwrap().query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert!(sealed.len() > 13 && sealed.iter().all(|s| !s.windows(6).any(|w| w == b"quokka" || w == b"wombat")), "the spoke holds only ciphertext");
}

#[test]
fn a_spoke_that_speaks_only_the_first_drafts_protocol_still_carries_the_whole_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut spokes_, desk, _) = network(tmp.path(), 1);
    // The same spoke, answering drafts exchanges as a spoke before `spokes/drafts/2` did.
    spokes_[0].stop();
    spokes_[0].start_as("spoke-dishonest", &[("SPOKE_DISHONEST", "old-drafts")]);
    let id = numbered_draft(&desk, 1);
    let out = spokes(&desk, PASS, &["sync"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !said.contains("Drafts:"), "{said}");
    let db = rusqlite::Connection::open(spokes_[0].data.join("spoke.db")).unwrap();
    let bundles: i64 = db.query_row("SELECT count(*) FROM sealed_drafts", [], |r| r.get(0)).unwrap();
    let items: i64 = db.query_row("SELECT count(*) FROM draft_items", [], |r| r.get(0)).unwrap();
    assert_eq!((bundles, items), (1, 0), "one whole bundle, no items");
    let recovery = tmp.path().join("recovery.json");
    spokes_ok(&desk, PASS, &["recovery-file", recovery.to_str().unwrap()]);
    let laptop = tmp.path().join("laptop");
    spokes_ok(&laptop, PASS, &["restore", "--recovery", recovery.to_str().unwrap()]);
    assert_eq!(draft_body(&laptop, &id), "Words of draft 1: quokka1.");
    // Back to a spoke that speaks both: a computer updated first still takes the bundle the
    // other left, once, and then both exchange items.
    spokes_[0].stop();
    spokes_[0].start();
    spokes_ok(&desk, PASS, &["edit", &id, "--body", "Edited at the desk."]);
    spokes_ok(&desk, PASS, &["sync"]);
    let bundles: i64 = db.query_row("SELECT count(*) FROM sealed_drafts", [], |r| r.get(0)).unwrap();
    assert_eq!(bundles, 0, "the desk's old bundle went when it left items");
    spokes_ok(&laptop, PASS, &["sync"]);
    assert_eq!(draft_body(&laptop, &id), "Edited at the desk.");
}

#[test]
fn a_blogs_first_publish_to_a_spoke_leaves_its_drafts_there_too() {
    let tmp = tempfile::tempdir().unwrap();
    let (spokes_, desk, _) = network(tmp.path(), 1);
    let shown = numbered_draft(&desk, 1);
    numbered_draft(&desk, 2);
    // Before the spoke holds the blog, it has nowhere to keep drafts: they are left once the
    // publish made it hold the blog, with nothing said.
    let out = spokes(&desk, PASS, &["publish", &shown]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !said.contains("Drafts:"), "{said}");
    assert_eq!(draft_items(&spokes_[0]).len(), 3, "the index and both posts");
}
