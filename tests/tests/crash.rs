//! Crash consistency (the hostile-peers issue): a spoke killed with SIGKILL in the middle of
//! sync sessions a hundred times, and the writer's CLI killed in the middle of saving and of
//! compacting a hundred times. Every store reopens, nothing published is lost and the blog
//! converges. Each test prints its counts (`crash counts: …`).

use spokes_e2e::*;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A small deterministic generator for kill delays.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn integrity_ok(db: &std::path::Path) -> bool {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0)).unwrap() == "ok"
}

/// The posts the writer has published, by title.
fn published_titles(w: &std::path::Path) -> std::collections::BTreeSet<String> {
    spokes_writer::Profile::open(w).unwrap().blog().unwrap().posts().into_iter().map(|p| p.title).collect()
}

/// `spokes --profile w ARGS` started, not waited for.
fn spawn_spokes(w: &std::path::Path, args: &[&str]) -> std::process::Child {
    Command::new(bin("spokes")).arg("--profile").arg(w).args(args).env("SPOKES_PASSPHRASE", PASS).env("RUST_BACKTRACE", "0").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
}

/// The title of post `k` of [`posts_folder`]: long, as some writers' are, so that the drafts
/// index (which holds titles) grows quickly enough to be compacted within the test.
fn part_title(title: &str, k: usize) -> String {
    format!("{title} part {k}: {}", "a title that goes on for a while ".repeat(8).trim_end())
}

/// A folder of `n` Markdown posts ([`part_title`], `bytes` of body each) for `spokes import`.
fn posts_folder(root: &std::path::Path, title: &str, n: usize, bytes: usize) -> String {
    let dir = root.join(title.replace(' ', "-"));
    std::fs::create_dir_all(&dir).unwrap();
    let body = "Words that take a while to send and to store. ".repeat(bytes / 47 + 1);
    for k in 0..n {
        std::fs::write(dir.join(format!("part-{k}.md")), format!("---\ntitle: \"{}\"\ndate: 2020-01-01T00:00:00Z\n---\n\n{body}\n", part_title(title, k))).unwrap();
    }
    dir.to_str().unwrap().to_owned()
}

/// A folder holding one Markdown post (`title`, `bytes` of body) for `spokes import`.
fn post_folder(root: &std::path::Path, title: &str, bytes: usize) -> String {
    let dir = root.join(title.replace(' ', "-"));
    std::fs::create_dir_all(&dir).unwrap();
    let body = "Words that take a while to send and to store. ".repeat(bytes / 47 + 1);
    std::fs::write(dir.join("post.md"), format!("---\ntitle: \"{title}\"\ndate: 2020-01-01T00:00:00Z\n---\n\n{body}\n")).unwrap();
    dir.to_str().unwrap().to_owned()
}

#[test]
fn a_spoke_killed_mid_sync_a_hundred_times_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut hosts, w, blog) = network(tmp.path(), 1);
    let s = &mut hosts[0];
    // Each publish brings a post of 300 kB, so a session lasts long enough to be cut.
    let new_post = |i: usize| spokes_ok(&w, PASS, &["import", &post_folder(tmp.path(), &format!("Written during crash {i}"), 300_000)]);
    new_post(0);
    let t = std::time::Instant::now();
    spokes_ok(&w, PASS, &["publish"]);
    let whole = t.elapsed().as_millis() as u64;
    let mut rng = Lcg(42);
    let (mut kills, mut mid_sync) = (0, 0);
    for i in 1..=100 {
        new_post(i);
        let mut publish = spawn_spokes(&w, &["publish"]);
        // Somewhere in the publish, most often in its session.
        std::thread::sleep(Duration::from_millis(rng.below(whole.max(50))));
        if publish.try_wait().unwrap().is_none() {
            mid_sync += 1;
        }
        s.stop(); // SIGKILL
        kills += 1;
        let _ = publish.kill();
        let _ = publish.wait();
        s.start(); // the store reopens, or this panics
        if i % 10 == 0 {
            assert!(integrity_ok(&s.data.join("spoke.db")), "the spoke's database is damaged after {kills} kills");
        }
    }
    assert!(integrity_ok(&s.data.join("spoke.db")), "the spoke's database is damaged");
    // The blog converges: one more publish, and the spoke shows everything published.
    let out = spokes_ok(&w, PASS, &["publish"]);
    assert!(out.contains("1 of 1"), "{out}");
    let mine = published_titles(&w);
    let served: std::collections::BTreeSet<String> = s.json(&format!("/api/v1/blogs/{blog}"))["posts"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_owned()).collect();
    assert_eq!(served, mine, "the spoke and the writer disagree after the crashes");
    assert_eq!(mine.len(), 101);
    eprintln!("crash counts: spoke killed {kills} times, {mid_sync} of them while a publish was running (a whole publish takes {whole} ms); {} posts converged", mine.len());
    assert!(mid_sync >= 50, "only {mid_sync} kills landed while a publish was running");
}

#[test]
fn the_writer_killed_mid_save_a_hundred_times_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (hosts, w, blog) = network(tmp.path(), 1);
    // Imports of 30 posts each: a save writes each post's document whole (atomically), then
    // their rows in the post list (one SQLite transaction). Kills land in loading, writing
    // documents and writing the list.
    let list = w.join("drafts/list.sqlite");
    let mut rng = Lcg(7);
    let mut saved = Vec::new();
    let (mut kills, mut completed) = (0, 0);
    let mut last = 100u64;
    for i in 0..400 {
        if kills == 100 {
            break;
        }
        let title = format!("Draft {i}");
        let folder = posts_folder(tmp.path(), &title, 30, 1_000);
        let t = std::time::Instant::now();
        let mut child = spawn_spokes(&w, &["import", &folder]);
        if i % 2 == 0 {
            // Every other save runs to its end: it says how long a save takes now.
            assert!(child.wait().unwrap().success(), "spokes import failed on its own");
            last = t.elapsed().as_millis() as u64;
            completed += 1;
            saved.extend((0..30).map(|k| part_title(&title, k)));
        } else {
            // The other is killed at a random point of such a save.
            std::thread::sleep(Duration::from_millis(rng.below(last.max(1))));
            match child.try_wait().unwrap() {
                Some(status) => {
                    assert!(status.success(), "spokes import failed on its own");
                    saved.extend((0..30).map(|k| part_title(&title, k)));
                }
                None => {
                    child.kill().unwrap(); // SIGKILL
                    kills += 1;
                    let _ = child.wait();
                }
            }
        }
        // The list is a sound database, the profile reopens and every draft whose save
        // finished is there.
        assert!(integrity_ok(&list), "the post list is damaged after {kills} kills");
        let p = spokes_writer::Profile::open(&w).unwrap();
        let titles: std::collections::BTreeSet<String> = p.posts().unwrap().into_iter().map(|s| s.post.title).collect();
        for t in &saved {
            assert!(titles.contains(t), "{t} was saved, then lost after a kill ({kills} kills so far)");
        }
    }
    // Then publish and converge.
    spokes_ok(&w, PASS, &["publish"]);
    let mine = published_titles(&w);
    for t in &saved {
        assert!(mine.contains(t), "{t} was not published");
    }
    let served = hosts[0].json(&format!("/api/v1/blogs/{blog}"))["post_count"].as_u64().unwrap() as usize;
    assert_eq!(served, mine.len());
    eprintln!("crash counts: writer killed {kills} times while saving; {completed} saves run to their end; {} posts published and served", mine.len());
    assert_eq!(kills, 100, "kills that landed while saving");
}
