//! A real-sized blog, the path a writer takes: a generated Zola site of 2,000 posts (20 MB of
//! Markdown, sizes drawn like a real blog's, pictures in page bundles) is imported with
//! `spokes import`, published with `spokes publish` to two fresh spoke processes, and read back
//! title by title from both reader sites; a third spoke added later receives it; a council
//! member that does not host it pulls a council copy; a new computer restores it from the
//! recovery file. Everything runs in the binaries `./x test` builds.

use spokes_e2e::genblog::{self, Options};
use spokes_e2e::*;
use std::collections::HashMap;
use std::time::Instant;

/// Every generated post must be on `spoke` with its title, date and permalink.
fn assert_serves_every_post(spoke: &SpokeProc, blog: &str, posts: &[genblog::GenPost]) {
    let api = spoke.json(&format!("/api/v1/blogs/{blog}"));
    assert_eq!(api["verification"]["status"], "verified", "{}", api["verification"]);
    let served: HashMap<&str, &serde_json::Value> = api["posts"].as_array().expect("posts").iter().map(|p| (p["title"].as_str().unwrap_or_default(), p)).collect();
    assert_eq!(served.len(), posts.len(), "posts on {}", spoke.http);
    for p in posts {
        let s = served.get(p.title.as_str()).unwrap_or_else(|| panic!("{} is missing on {}", p.title, spoke.http));
        assert_eq!(&s["date"].as_str().unwrap_or_default()[..10], p.date, "date of {}", p.title);
        assert_eq!(s["slug"], p.slug.as_str(), "slug of {}", p.title);
    }
    // Every 50th post page, read as a reader does, with its picture where it has one.
    for p in posts.iter().step_by(50).chain(posts.iter().filter(|p| p.picture).take(3)) {
        let (code, page) = spoke.get(&format!("/b/{blog}/posts/{}", p.slug));
        assert_eq!(code, 200, "{}", p.slug);
        assert!(page.contains(&html_escape(&p.title)), "title of {} on its page", p.slug);
        if p.picture {
            let src = page.split(&format!("/b/{blog}/images/")).nth(1).and_then(|r| r.split('"').next()).unwrap_or_else(|| panic!("no picture on {}", p.slug));
            let (code, ctype, _) = http_get_bytes(&format!("http://{}/b/{blog}/images/{src}", spoke.http));
            assert_eq!((code, ctype.as_str()), (200, "image/png"), "picture of {}", p.slug);
        }
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[test]
fn a_blog_of_two_thousand_posts_reaches_fresh_spokes_a_later_spoke_a_council_copy_and_a_new_computer() {
    let tmp = tempfile::tempdir().expect("tmp");
    let site = tmp.path().join("old-blog");
    let posts = genblog::write_zola_site(&site, &Options::default()).expect("generate");
    assert_eq!(posts.len(), 2000);
    let (mut hosts, w, blog) = network(tmp.path(), 2);

    let t = Instant::now();
    let out = spokes(&w, PASS, &["import", site.to_str().expect("utf8")]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("Imported 2000 posts as drafts and 50 pictures; skipped 2 files that are not posts"), "{stdout}");
    assert!(stderr.contains("_index.md: skipped, a section's index page, not a post"), "{stderr}");
    eprintln!("import: {:?}", t.elapsed());

    let t = Instant::now();
    let out = spokes_ok(&w, PASS, &["publish"]);
    assert!(out.contains("Published to 2 of 2 spokes"), "{out}");
    eprintln!("first publish to two fresh spokes: {:?}", t.elapsed());
    for s in &hosts {
        assert_serves_every_post(s, &blog, &posts);
    }

    // A third spoke, added later, gets the whole blog at the next publish.
    let mut third = SpokeProc::init(&tmp.path().join("spoke2"), "Spoke 2");
    let ticket = third.invite();
    third.start();
    spokes_ok(&w, PASS, &["spoke", "add", &ticket]);
    let t = Instant::now();
    let out = spokes_ok(&w, PASS, &["sync"]);
    assert!(out.contains("Published to 3 of 3 spokes"), "{out}");
    eprintln!("sync with a third, fresh spoke: {:?}", t.elapsed());
    assert_serves_every_post(&third, &blog, &posts);
    hosts.push(third);

    // A council member that does not host the blog pulls a council copy of it whole, from a
    // spoke that does, and shows it verified.
    let mut member = SpokeProc::init(&tmp.path().join("member"), "Member");
    member.start();
    let invite = hosts[0].admin(&["council", "invite"]);
    member.admin(&["council", "join", invite.trim()]);
    let t = Instant::now();
    let copied = wait_until(std::time::Duration::from_secs(120), || {
        let (code, body) = member.get(&format!("/api/v1/blogs/{blog}"));
        code == 200 && serde_json::from_str::<serde_json::Value>(&body).is_ok_and(|v| v["posts"].as_array().is_some_and(|p| p.len() == posts.len()))
    });
    assert!(copied, "the council member never held the whole blog: {:?}", member.admin(&["refusals"]));
    eprintln!("council copy: {:?}", t.elapsed());
    assert_serves_every_post(&member, &blog, &posts);
    hosts.push(member);

    // A new computer, from the recovery file alone.
    let recovery = tmp.path().join("recovery.json");
    spokes_ok(&w, PASS, &["recovery-file", recovery.to_str().expect("utf8")]);
    let laptop = tmp.path().join("laptop");
    let t = Instant::now();
    spokes_ok(&laptop, PASS, &["restore", "--recovery", recovery.to_str().expect("utf8")]);
    eprintln!("restore: {:?}", t.elapsed());
    let status: serde_json::Value = serde_json::from_str(&spokes_ok(&laptop, PASS, &["status", "--json"])).expect("status json");
    assert_eq!(status["posts"]["published"], 2000, "{status}");
    let list = spokes_ok(&laptop, PASS, &["list"]);
    for p in posts.iter().step_by(97) {
        assert!(list.contains(&p.title), "{} missing after restore", p.title);
    }
}
