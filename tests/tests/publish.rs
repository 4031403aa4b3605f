//! The walking skeleton end to end: two real spoke processes and the `spokes` CLI on loopback.

use spokes_writer::import::import_file;
use spokes_core::render::markdown_to_html;
use spokes_e2e::*;
use std::time::Duration;


#[test]
fn imported_corpus_is_published_to_two_spokes_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let (spokes, w, blog) = network(tmp.path(), 2);
    let out = spokes_ok(&w, PASS, &["import", corpus("jekyll-posts").to_str().unwrap()]);
    assert!(out.contains("Imported 102 posts"), "{out}");
    let out = spokes_ok(&w, PASS, &["publish"]);
    assert!(out.contains("Published to 2 of 2 spokes"), "{out}");
    let status: serde_json::Value = serde_json::from_str(&spokes_ok(&w, PASS, &["status", "--json"])).unwrap();
    assert_eq!(status["publish"]["up_to_date"], 2);
    assert_eq!(status["posts"]["published"], 102);
    let fingerprint = status["fingerprint"].as_str().unwrap().to_owned();

    let files = spokes_writer::import::collect_files(&[corpus("jekyll-posts")]).unwrap();
    assert_eq!(files.len(), 102);
    for spoke in &spokes {
        let (code, body) = spoke.get(&format!("/api/v1/blogs/{blog}"));
        assert_eq!(code, 200, "{body}");
        let api: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(api["verification"]["status"], "verified", "{}", api["verification"]);
        assert_eq!(api["fingerprint"], fingerprint.as_str());
        let posts = api["posts"].as_array().unwrap();
        assert_eq!(posts.len(), 102);
        for f in &files {
            let src = import_file(f).unwrap().post;
            let p = posts.iter().find(|p| p["title"] == src.title.as_str()).unwrap_or_else(|| panic!("{} missing on {}", src.title, spoke.http));
            let date = chrono::DateTime::parse_from_rfc3339(p["date"].as_str().unwrap()).unwrap();
            assert_eq!(date, src.date, "date of {}", src.title);
            let (code, page) = spoke.get(p["url"].as_str().unwrap());
            assert_eq!(code, 200);
            assert!(page.contains(&markdown_to_html(&src.body)), "rendered body of {} differs", src.title);
            assert!(page.contains("Signatures verified"), "{}", src.title);
            assert!(page.contains(&fingerprint[..4]));
        }
        for feed_path in [format!("/b/{blog}/feed.atom"), "/feed.atom".to_owned()] {
            let (code, xml) = spoke.get(&feed_path);
            assert_eq!(code, 200);
            let feed = feed_rs::parser::parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{feed_path} does not parse: {e}"));
            // Both feeds hold the newest 50 posts (a blog's feed is not the whole blog).
            let expected = 50;
            assert_eq!(feed.entries.len(), expected, "{feed_path}");
            for e in &feed.entries {
                let t = e.title.as_ref().unwrap().content.clone();
                assert!(posts.iter().any(|p| p["title"] == t.as_str()), "feed entry {t} is not a post");
            }
        }
        let (code, front) = spoke.get("/");
        assert_eq!(code, 200);
        assert!(front.contains("Jekyll News"));
    }
    let out = spokes_ok(&w, PASS, &["verify"]);
    assert!(out.starts_with("Verified"), "{out}");
}

#[test]
fn a_stopped_spoke_catches_up_with_no_manual_step() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut spokes, w, blog) = network(tmp.path(), 2);
    let b = &mut spokes[1];
    let first = spokes_ok(&w, PASS, &["new", "--title", "First post", "--body", "The first words."]).trim().to_owned();
    let out = spokes_ok(&w, PASS, &["publish"]);
    assert!(out.contains("Published to 2 of 2 spokes"), "{out}");

    b.stop();
    spokes_ok(&w, PASS, &["edit", &first, "--body", "The first words, edited while B was down."]);
    spokes_ok(&w, PASS, &["new", "--title", "Second post", "--body", "Written while B was down."]);
    let out = spokes_exit(&w, PASS, &["publish"], 3);
    assert!(out.contains("Published to 1 of 2 spokes"), "{out}");

    b.start();
    let caught_up = wait_until(Duration::from_secs(30), || {
        let (code, body) = b.get(&format!("/api/v1/blogs/{blog}"));
        code == 200 && body.contains("Second post")
    });
    assert!(caught_up, "spoke B did not catch up from spoke A");
    let (_, page) = b.get(&format!("/b/{blog}/posts/first-post"));
    assert!(page.contains("edited while B was down"), "{page}");
    let api: serde_json::Value = serde_json::from_str(&b.get(&format!("/api/v1/blogs/{blog}")).1).unwrap();
    assert_eq!(api["posts"].as_array().unwrap().len(), 2, "nothing lost, nothing duplicated");
    assert_eq!(api["verification"]["status"], "verified");
    // The writer, syncing again, sees both spokes up to date.
    let out = spokes_ok(&w, PASS, &["sync"]);
    assert!(out.contains("Published to 2 of 2 spokes"), "{out}");
}

#[test]
fn a_picture_in_a_post_is_served_by_every_spoke_even_one_that_was_down() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut hosts, w, blog) = network(tmp.path(), 2);
    let file = tmp.path().join("dot.png");
    std::fs::write(&file, PNG).unwrap();
    let link = spokes_ok(&w, PASS, &["image", file.to_str().unwrap(), "--alt", "A dot"]).trim().to_owned();
    let name = link.trim_end_matches(')').rsplit_once("images/").unwrap().1.to_owned();
    assert_eq!(name, spokes_core::image::ImageName::for_bytes(PNG).unwrap().to_string());
    // Not an image: refused with a sentence, nothing stored.
    let txt = tmp.path().join("notes.txt");
    std::fs::write(&txt, "just words").unwrap();
    let out = spokes(&w, PASS, &["image", txt.to_str().unwrap()]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("not a picture"), "{out:?}");

    spokes_ok(&w, PASS, &["new", "--title", "Hello", "--body", "Both spokes take the blog."]);
    assert!(spokes_ok(&w, PASS, &["publish"]).contains("Published to 2 of 2 spokes"));
    hosts[1].stop();
    spokes_ok(&w, PASS, &["new", "--title", "A dot", "--body", &format!("Here it is:\n\n{link}\n")]);
    let out = spokes_exit(&w, PASS, &["publish"], 3);
    assert!(out.contains("Published to 1 of 2 spokes"), "{out}");
    let url = format!("/b/{blog}/images/{name}");
    let (code, ctype, bytes) = http_get_bytes(&format!("http://{}{url}", hosts[0].http));
    assert_eq!((code, ctype.as_str(), bytes.as_slice()), (200, "image/png", PNG));
    let (_, page) = hosts[0].get(&format!("/b/{blog}/posts/a-dot"));
    assert!(page.contains(&format!("<img src=\"{url}\" alt=\"A dot\"")), "{page}");

    // The spoke that was down gets the post and the picture from the other spoke, not the writer.
    hosts[1].start();
    let served = wait_until(Duration::from_secs(30), || http_get_bytes(&format!("http://{}{url}", hosts[1].http)).2 == PNG);
    assert!(served, "the second spoke did not get the picture from the first");
    // A picture no published post shows is not served.
    let other = format!("/b/{blog}/images/{}.png", "0".repeat(64));
    assert_eq!(hosts[0].get(&other).0, 404);
}

#[test]
fn a_wordpress_export_comes_in_as_drafts_with_its_pictures_and_publishes() {
    let tmp = tempfile::tempdir().unwrap();
    let (hosts, w, blog) = network(tmp.path(), 1);
    let old = tmp.path().join("old-site");
    std::fs::create_dir_all(&old).unwrap();
    let export = spokes_e2e::wordpress::write_export(&old, 6);
    let out = spokes(&w, PASS, &["import", export.path.to_str().unwrap()]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(&format!("Imported {} posts as drafts and 1 picture; skipped {} entries that are not posts", export.post_titles.len(), export.not_posts)), "{stdout}");
    assert!(stderr.contains("About: skipped, a page of the site outside its posts") && stderr.contains("An old test post: skipped, in the old blog's trash"), "{stderr}");
    let listed = spokes_ok(&w, PASS, &["list"]);
    for t in &export.post_titles {
        assert!(listed.contains(t.as_str()), "{t} is not listed: {listed}");
    }
    // Imports are drafts: nothing reaches the spoke until the writer publishes.
    let published = spokes_ok(&w, PASS, &["publish"]);
    assert!(published.contains("Published to 1 of 1 spoke"), "{published}");
    let name = spokes_core::image::ImageName::for_bytes(&export.picture).unwrap();
    let (code, _, bytes) = http_get_bytes(&format!("http://{}/b/{blog}/images/{name}", hosts[0].http));
    assert_eq!((code, bytes.as_slice()), (200, export.picture.as_slice()), "the picture copied beside the export is served by the spoke");
    let (_, index) = hosts[0].get(&format!("/b/{blog}/"));
    assert!(index.contains(&export.picture_post), "{index}");
    // A file that is not an export is refused with a sentence, and nothing comes in.
    let bad = tmp.path().join("notes.xml");
    std::fs::write(&bad, "<notes><note>milk</note></notes>").unwrap();
    let out = spokes(&w, PASS, &["import", bad.to_str().unwrap()]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("cannot be read as a WordPress export"), "{out:?}");
    assert_eq!(spokes_ok(&w, PASS, &["list"]).lines().count(), listed.lines().count());
}

#[test]
fn drafts_never_reach_a_spoke() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut spokes, w, blog) = network(tmp.path(), 1);
    let a = &mut spokes[0];
    let public = spokes_ok(&w, PASS, &["new", "--title", "Public words", "--body", "Everyone may read this."]).trim().to_owned();
    spokes_ok(&w, PASS, &["new", "--title", "Zanzibar-draft-title", "--body", "Quetzalcoatl secret draft text Xylophonic"]);
    spokes_ok(&w, PASS, &["publish", &public]);
    let out = spokes_ok(&w, PASS, &["status"]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");

    let secrets = ["Zanzibar", "Quetzalcoatl", "Xylophonic"]; // none is hex, so no hash can hold one by chance
    // Every byte the spoke stored, including the WAL and the search index.
    a.stop();
    let mut folders = vec![a.data.clone()];
    while let Some(dir) = folders.pop() {
        for f in std::fs::read_dir(&dir).unwrap() {
            let path = f.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            for s in secrets {
                assert!(!bytes.windows(s.len()).any(|w| w == s.as_bytes()), "{s} found in {}", path.display());
            }
        }
    }
    // The stored post documents, decompressed, hold only the public post; no blog document
    // is kept beside them.
    let blog_id: spokes_core::BlogId = blog.parse().unwrap();
    let docs = a.stored_post_documents();
    let titles: Vec<String> = docs.iter().map(|(id, bytes)| spokes_core::postdoc::PostDoc::load(bytes, &blog_id, id).unwrap().content().title).collect();
    assert_eq!(titles, vec!["Public words".to_owned()]);
    assert!(a.stored_document().is_empty());
    a.start();
    for path in ["/".to_owned(), format!("/b/{blog}/"), format!("/b/{blog}/feed.atom"), format!("/api/v1/blogs/{blog}"), format!("/b/{blog}/bundle.json"), "/feed.atom".into()] {
        let (code, body) = a.get(&path);
        assert_eq!(code, 200, "{path}");
        for s in secrets {
            assert!(!body.contains(s), "{s} found in {path}");
        }
    }
}

#[test]
fn scripts_and_javascript_links_are_neutralised_on_the_reader_site() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut spokes, w, blog) = network(tmp.path(), 1);
    let a = &mut spokes[0];
    spokes_ok(&w, PASS, &["new", "--title", "<script>alert('t')</script>Hostile", "--body", "Hi <script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"]);
    spokes_ok(&w, PASS, &["publish"]);
    let api: serde_json::Value = serde_json::from_str(&a.get(&format!("/api/v1/blogs/{blog}")).1).unwrap();
    let url = api["posts"][0]["url"].as_str().unwrap().to_owned();
    for path in [url, format!("/b/{blog}/"), "/".into()] {
        let (_, page) = a.get(&path);
        let lower = page.to_lowercase();
        assert!(!lower.contains("<script"), "{path}: {page}");
        assert!(!lower.contains("javascript:"), "{path}");
        assert!(!lower.contains("onerror"), "{path}");
    }
}

#[test]
fn writer_side_bad_input_is_explained_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("writer");
    spokes_ok(&w, PASS, &["init", "--name", "Ada", "--title", "Notes"]);
    let id = spokes_ok(&w, PASS, &["new", "--title", "Keep me", "--body", "precious"]).trim().to_owned();

    // Wrong passphrase: refused, nothing signed.
    let before = std::fs::read(w.join("blog.automerge")).unwrap();
    let out = spokes(&w, "not the passphrase", &["publish", "--offline"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("passphrase is not correct"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(w.join("blog.automerge")).unwrap(), before);

    // Broken front matter: a clear error naming the file, and nothing imported.
    let src = tmp.path().join("posts");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("2020-01-01-good.md"), "---\ntitle: Good\n---\nfine").unwrap();
    std::fs::write(src.join("2020-01-02-bad.md"), "---\ntitle: [broken\n---\nbody").unwrap();
    let out = spokes(&w, PASS, &["import", src.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2020-01-02-bad.md") && err.contains("front matter"), "{err}");
    let list = spokes_ok(&w, PASS, &["list"]);
    assert!(!list.contains("Good"), "{list}");

    // A truncated document file: a clear error, and the drafts are untouched.
    std::fs::write(w.join("blog.automerge"), &before[..before.len() / 3]).unwrap();
    let out = spokes(&w, PASS, &["verify"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("damaged"), "{}", String::from_utf8_lossy(&out.stderr));
    let list = spokes_ok(&w, PASS, &["list"]);
    assert!(list.contains(&id) || list.contains("Keep me"), "{list}");
    std::fs::write(w.join("blog.automerge"), &before).unwrap();
    spokes_ok(&w, PASS, &["verify"]);
}

#[test]
fn warm_connections_are_reused_and_survive_a_spoke_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut spokes, w, blog) = network(tmp.path(), 1);
    let spoke = &mut spokes[0];
    let mut profile = spokes_writer::Profile::open(&w).unwrap();
    let mut key = profile.unlock(PASS).unwrap();
    let targets = profile.targets();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pool = rt.block_on(profile.connection_pool()).unwrap();
    let mut publish = |profile: &mut spokes_writer::Profile, title: &str| {
        let post = profile.new_post(title, "Words.", &[]).unwrap();
        profile.publish_local(&mut key, Some(std::slice::from_ref(&post.id))).unwrap();
        let summary = rt.block_on(profile.sync_with_pool(&pool, &targets)).unwrap();
        (summary, post.slug)
    };
    for i in 0..3 {
        let (summary, slug) = publish(&mut profile, &format!("Warm {i}"));
        assert_eq!(summary.sentence, "Published to 1 of 1 spoke", "{summary:?}");
        assert_eq!(spoke.get(&format!("/b/{blog}/posts/{slug}")).0, 200);
    }
    assert_eq!(pool.dialled(), 1, "three publishes, one connection");
    // The spoke is killed and comes back: the pooled connection is dead, and the next
    // publish notices, dials again, and succeeds without the writer doing anything.
    spoke.stop();
    spoke.start();
    let t = std::time::Instant::now();
    let (summary, slug) = publish(&mut profile, "After the restart");
    // Not QUIC's 30 s idle timeout: the pool gives a dead connection a short while only.
    assert!(t.elapsed() < Duration::from_secs(15), "publish after the restart took {:?}", t.elapsed());
    assert_eq!(summary.sentence, "Published to 1 of 1 spoke", "{summary:?}");
    assert_eq!(spoke.get(&format!("/b/{blog}/posts/{slug}")).0, 200);
    assert_eq!(pool.dialled(), 2);
    let api: serde_json::Value = serde_json::from_str(&spoke.get(&format!("/api/v1/blogs/{blog}")).1).unwrap();
    assert_eq!(api["posts"].as_array().unwrap().len(), 4);
    assert_eq!(api["verification"]["status"], "verified");
    rt.block_on(pool.close());
}

/// A later publish that shows no new picture opens no picture exchange: the spoke confirmed
/// every published picture earlier in this process. One that adds a picture exchanges again,
/// and the spoke serves the new picture.
#[test]
fn later_publishes_exchange_pictures_only_when_the_pictures_change() {
    let tmp = tempfile::tempdir().unwrap();
    let (spokes, w, blog) = network(tmp.path(), 1);
    let spoke = &spokes[0];
    let profile = spokes_writer::Profile::open(&w).unwrap();
    let mut key = profile.unlock(PASS).unwrap();
    let targets = profile.targets();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let pool = rt.block_on(profile.connection_pool()).unwrap();
    // The spoke counts an exchange once its side has ended, a moment after the writer's:
    // the count is read until it reaches `n`, and a while longer to see that it stays there.
    let exchanges = |n: u64| -> u64 {
        let count = || -> u64 {
            let metrics = spoke.metrics().1;
            metrics.lines().find(|l| l.starts_with("spoke_image_exchanges_total{result=\"ok\"}")).and_then(|l| l.rsplit(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(0)
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while count() < n && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(500));
        count()
    };
    let mut publish = |post: &spokes_core::Post| {
        profile.update_post(post).unwrap();
        profile.publish_local(&mut key, Some(std::slice::from_ref(&post.id))).unwrap();
        if profile.is_set() {
            profile.sign_set(&mut key, chrono::Utc::now().fixed_offset()).unwrap();
        }
        let summary = rt.block_on(profile.sync_with_pool(&pool, &targets)).unwrap();
        assert_eq!(summary.sentence, "Published to 1 of 1 spoke", "{summary:?}");
    };
    let harbour = profile.add_image(&spokes_e2e::genblog::picture(1)).unwrap();
    let mut post = profile.new_post("A harbour", &format!("![The harbour](images/{harbour})\n\nWords."), &[]).unwrap();
    publish(&post);
    assert_eq!(exchanges(1), 1, "the first publish brings the picture");
    assert_eq!(spoke.get(&format!("/b/{blog}/images/{harbour}")).0, 200);
    for i in 0..3 {
        post.body = format!("![The harbour](images/{harbour})\n\nWords, edited {i} times.");
        publish(&post);
    }
    assert_eq!(exchanges(1), 1, "edits that show no new picture exchange none");
    let boat = profile.add_image(&spokes_e2e::genblog::picture(2)).unwrap();
    post.body = format!("![The harbour](images/{harbour})\n\n![A boat](images/{boat})");
    publish(&post);
    assert_eq!(exchanges(2), 2, "a new picture is exchanged");
    assert_eq!(spoke.get(&format!("/b/{blog}/images/{boat}")).0, 200);
    rt.block_on(pool.close());
}
