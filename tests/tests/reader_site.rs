//! The reader site follows the web's conventions, on a real spoke process: `<html lang>` from
//! the blog's language, a `<head>` on every page kind (description, canonical link, feed
//! autodiscovery, OpenGraph, icon), Atom with absolute links, `xml:lang` and categories, JSON
//! Feed 1.1 (both read back with feed-rs), tag pages and feeds, a sitemap and robots.txt, and
//! conditional requests by `ETag` and `Last-Modified`.

use spokes_e2e::*;

/// The `<head>` of an HTML page.
fn head(page: &str) -> &str {
    let end = page.find("</head>").unwrap_or_else(|| panic!("no </head>: {page}"));
    &page[..end]
}

fn get_with(url: &str, header: (&str, &str)) -> (u16, Option<String>) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let r = agent.get(url).header(header.0, header.1).call().expect("GET");
    (r.status().as_u16(), r.headers().get("last-modified").and_then(|v| v.to_str().ok()).map(str::to_owned))
}

#[test]
fn every_page_kind_has_its_head_the_feeds_read_back_and_crawlers_find_the_sitemap() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut spoke = SpokeProc::init(&tmp.path().join("spoke"), "Harbour");
    let ticket = spoke.invite();
    spoke.start();
    let w = tmp.path().join("writer");
    spokes_ok(&w, PASS, &["init", "--name", "Grete", "--title", "Hafennotizen", "--description", "Notizen vom Hafen & vom Wetter", "--language", "de"]);
    spokes_ok(&w, PASS, &["spoke", "add", &ticket]);
    spokes_ok(&w, PASS, &["new", "--title", "Nebel am Morgen", "--body", "Der Nebel kam früh.", "--tag", "Wetter", "--tag", "Hafen & Schiffe"]);
    spokes_ok(&w, PASS, &["new", "--title", "Brot", "--body", "Heute Brot gebacken.", "--tag", "Küche"]);
    spokes_ok(&w, PASS, &["publish"]);
    let blog = spokes_writer::Profile::open(&w).expect("profile").blog_id().to_string();
    let site = format!("http://{}", spoke.http);
    let api = spoke.json(&format!("/api/v1/blogs/{blog}"));
    let slug = |title: &str| api["posts"].as_array().expect("posts").iter().find(|p| p["title"] == title).and_then(|p| p["slug"].as_str()).expect("slug").to_owned();
    let fog = slug("Nebel am Morgen");

    // Every page kind: the blog's home, a post, a tag page.
    let pages = [
        (format!("/b/{blog}/"), "website", "Notizen vom Hafen &amp; vom Wetter".to_owned(), format!("{site}/b/{blog}/")),
        (format!("/b/{blog}/posts/{fog}"), "article", "Der Nebel kam früh.".to_owned(), format!("{site}/b/{blog}/posts/{fog}")),
        (format!("/b/{blog}/tags/Hafen%20%26%20Schiffe"), "website", "Beiträge von Hafennotizen über Hafen &amp; Schiffe".to_owned(), format!("{site}/b/{blog}/tags/Hafen%20%26%20Schiffe")),
    ];
    for (path, og_type, description, canonical) in &pages {
        let (code, page) = spoke.get(path);
        assert_eq!(code, 200, "{path}: {page}");
        let h = head(&page);
        assert!(h.contains("<html lang=\"de\">"), "{path}: {h}");
        assert!(h.contains(&format!("<meta name=\"description\" content=\"{description}\">")), "{path}: {h}");
        assert!(h.contains(&format!("<link rel=\"canonical\" href=\"{canonical}\">")), "{path}: {h}");
        assert!(h.contains(&format!("<meta property=\"og:url\" content=\"{canonical}\">")), "{path}: {h}");
        assert!(h.contains(&format!("<meta property=\"og:type\" content=\"{og_type}\">")), "{path}: {h}");
        assert!(h.contains("<meta property=\"og:title\"") && h.contains("<meta property=\"og:site_name\" content=\"Hafennotizen\">") && h.contains("og:locale\" content=\"de\""), "{path}: {h}");
        assert!(h.contains("rel=\"alternate\" type=\"application/atom+xml\"") && h.contains("rel=\"alternate\" type=\"application/feed+json\""), "{path}: {h}");
        assert!(h.contains("<link rel=\"icon\" type=\"image/svg+xml\" href=\"/favicon.svg\">"), "{path}: {h}");
    }
    // The blog's pages speak its language around the writing: dates, the verification
    // sentence, feeds, topics, a tag page's heading (the spoke's own home stays English).
    let (_, home) = spoke.get(&format!("/b/{blog}/"));
    let today = chrono::Local::now().format("%Y").to_string();
    for words in ["Themen:", "Atom-Feed", "JSON-Feed", "✓ Signaturen geprüft: Alle ", "Selbst prüfen", &format!(" {today}</time>")] {
        assert!(home.contains(words), "{words}: {home}");
    }
    assert!(["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"].iter().any(|m| home.contains(&format!(". {m} {today}</time>"))), "a German date: {home}");
    for english in ["Topics:", "Signatures verified", "Atom feed", "Check it yourself"] {
        assert!(!home.contains(english), "{english}: {home}");
    }
    let (_, tag_page) = spoke.get(&format!("/b/{blog}/tags/Wetter"));
    assert!(tag_page.contains("<h1>Beiträge über „Wetter“</h1>"), "{tag_page}");
    // The post links its tags to their pages.
    let (_, post) = spoke.get(&format!("/b/{blog}/posts/{fog}"));
    assert!(post.contains("Signaturen geprüft") && !post.contains("Signatures verified"), "{post}");
    assert!(post.contains(&format!("<a class=\"tag\" href=\"/b/{blog}/tags/Hafen%20%26%20Schiffe\">Hafen &amp; Schiffe</a>")), "{post}");
    assert_eq!(spoke.get(&format!("/b/{blog}/tags/Nothing")).0, 404);
    // The spoke's own front page has one too.
    let (_, front) = spoke.get("/");
    assert!(head(&front).contains(&format!("<link rel=\"canonical\" href=\"{site}/\">")) && head(&front).contains("application/atom+xml"), "{front}");

    // Atom: absolute links, the blog's language, the tags as categories.
    let (code, atom) = spoke.get(&format!("/b/{blog}/feed.atom"));
    assert_eq!(code, 200);
    assert!(atom.contains("xml:lang=\"de\""), "{atom}");
    let feed = feed_rs::parser::parse(atom.as_bytes()).expect("Atom");
    assert_eq!(feed.language.as_deref(), Some("de"));
    assert_eq!(feed.entries.len(), 2);
    for e in &feed.entries {
        assert!(e.links.iter().all(|l| l.href.starts_with(&format!("{site}/b/{blog}/posts/"))), "{:?}", e.links);
    }
    let nebel = feed.entries.iter().find(|e| e.title.as_ref().is_some_and(|t| t.content == "Nebel am Morgen")).expect("entry");
    let mut terms: Vec<&str> = nebel.categories.iter().map(|c| c.term.as_str()).collect();
    terms.sort();
    assert_eq!(terms, vec!["Hafen & Schiffe", "Wetter"]);
    assert!(feed.links.iter().any(|l| l.rel.as_deref() == Some("self") && l.href == format!("{site}/b/{blog}/feed.atom")), "{:?}", feed.links);

    // JSON Feed 1.1, read by the same parser.
    let (code, json) = spoke.get(&format!("/b/{blog}/feed.json"));
    assert_eq!(code, 200);
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!((v["language"].as_str(), v["feed_url"].as_str()), (Some("de"), Some(format!("{site}/b/{blog}/feed.json").as_str())));
    let jf = feed_rs::parser::parse(json.as_bytes()).expect("JSON Feed");
    assert_eq!(jf.entries.len(), 2);
    assert!(jf.entries.iter().all(|e| e.links.iter().all(|l| l.href.starts_with("http://"))), "{json}");
    assert!(jf.entries.iter().any(|e| e.content.as_ref().and_then(|c| c.body.as_deref()).is_some_and(|b| b.contains("Nebel kam"))), "{json}");

    // A tag's own feeds hold only its posts.
    let (_, tag_atom) = spoke.get(&format!("/b/{blog}/tags/K%C3%BCche/feed.atom"));
    let tf = feed_rs::parser::parse(tag_atom.as_bytes()).expect("tag Atom");
    assert_eq!(tf.entries.iter().map(|e| e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default()).collect::<Vec<_>>(), vec!["Brot".to_owned()]);
    let (_, tag_json) = spoke.get(&format!("/b/{blog}/tags/K%C3%BCche/feed.json"));
    assert_eq!(feed_rs::parser::parse(tag_json.as_bytes()).expect("tag JSON Feed").entries.len(), 1);

    // Crawlers: robots.txt names the sitemap; the index names the blog's; that lists every page.
    let (_, robots) = spoke.get("/robots.txt");
    assert!(robots.contains(&format!("Sitemap: {site}/sitemap.xml")) && robots.contains("Disallow: /search"), "{robots}");
    let (_, index) = spoke.get("/sitemap.xml");
    assert!(index.contains(&format!("<sitemap><loc>{site}/b/{blog}/sitemap.xml</loc></sitemap>")), "{index}");
    let (code, map) = spoke.get(&format!("/b/{blog}/sitemap.xml"));
    assert_eq!(code, 200);
    for loc in [format!("{site}/b/{blog}/"), format!("{site}/b/{blog}/posts/{fog}"), format!("{site}/b/{blog}/tags/Hafen%20%26%20Schiffe"), format!("{site}/b/{blog}/tags/K%C3%BCche")] {
        assert!(map.contains(&format!("<loc>{loc}</loc>")), "{loc} in {map}");
    }

    // The icon.
    let (code, ctype, svg) = http_get_bytes(&format!("{site}/favicon.svg"));
    assert_eq!((code, ctype.as_str()), (200, "image/svg+xml"));
    assert!(svg.starts_with(b"<svg"));

    // Conditional requests: by ETag, and by Last-Modified for a reader that sends only the date.
    let url = format!("{site}/b/{blog}/feed.atom");
    let (_, last_modified) = get_with(&url, ("accept", "*/*"));
    let last_modified = last_modified.expect("a blog's feed says when it last changed");
    assert_eq!(get_with(&url, ("if-modified-since", &last_modified)).0, 304);
    assert_eq!(get_with(&url, ("if-modified-since", "Thu, 01 Jan 2015 00:00:00 GMT")).0, 200);
    assert_eq!(get_with(&url, ("if-modified-since", "not a date")).0, 200);
}
