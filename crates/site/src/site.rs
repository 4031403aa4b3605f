//! A blog as a static site: the pages a spoke serves, frozen into files with relative links,
//! so the site can be hosted by any web server or opened from a folder.
//!
//! | file | what |
//! |---|---|
//! | `index.html` | the blog's home page, newest posts first |
//! | `posts/{slug}/index.html` | each post (permalink `posts/{slug}/`) |
//! | `feed.atom` | Atom feed (RFC 4287) of every post, links relative to the feed |
//! | `reader.css` | the reader style sheet |
//! | `bundle.json` | the verification bundle (see `docs/formats.md`) |
//! | `images/{name}` | not written here: the posts link to them, and [`static_site`] names them for the caller to add |
//!
//! The posts are checked against the author's signatures first, as on a spoke: a blog that
//! fails verification gives a site that says so and shows no posts.

use crate::pages::{CSS, Meta, date_in, entry_with, feed_xml_with, page_meta, post_list, verification_note_with};
use crate::words::Words;
use crate::view::{BlogView, Bundle};
use maud::{PreEscaped, html};
use spokes_sync::session::Replica;

/// Renders `replica` as a static site: (relative path, bytes) pairs, paths with `/`, and the
/// pictures its posts show (for the caller to write under `images/`).
pub fn static_site(replica: &mut Replica) -> (Vec<(String, Vec<u8>)>, Vec<spokes_core::image::ImageName>) {
    let blog = BlogView::build(replica);
    let bundle = Bundle::from_replica(replica);
    let mut files = Vec::with_capacity(blog.posts.len() + 4);
    // Pages in the blog's language, with its description; the feed found from the home page.
    let meta = |description: &str, og_type: &'static str, feed: &str| Meta {
        lang: blog.settings.language.clone(),
        description: description.chars().take(300).collect(),
        og_type,
        site_name: blog.title().to_owned(),
        feeds: vec![(blog.title().to_owned(), "application/atom+xml", feed.to_owned())],
        ..Default::default()
    };
    let w = Words::for_language(&blog.settings.language);
    let home = page_meta(blog.title(), "reader.css", &meta(&blog.settings.description, "website", "feed.atom"), html! {
        header {
            h1 { (blog.title()) }
            @if !blog.settings.description.is_empty() { p { (blog.settings.description) } }
        }
        (verification_note_with(&blog, "bundle.json"))
        @if blog.visible().is_empty() { p { (w.no_posts) } }
        (post_list(&|p| format!("posts/{}/", p.slug), &blog.visible(), w))
        footer { a href="feed.atom" { (w.atom_feed) } }
    });
    files.push(("index.html".to_owned(), home.into_string().into_bytes()));
    // Posts are rendered for a spoke; their stored images sit two folders up here.
    let spoke_images = format!("src=\"/b/{}/images/", blog.blog_id);
    for p in blog.visible() {
        let page = page_meta(&format!("{} · {}", p.title, blog.title()), "../../reader.css", &meta(&p.excerpt, "article", "../../feed.atom"), html! {
            nav { a href="../../" { "← " (blog.title()) } }
            article {
                h1 { (p.title) }
                p.meta { (date_in(&p.date, w)) @for t in &p.tags { " " span.tag { (t) } } }
                div.body { (PreEscaped(p.body.as_ref().map(|b| b.html.replace(&spoke_images, "src=\"../../images/")).unwrap_or_default())) }
            }
            (verification_note_with(&blog, "../../bundle.json"))
        });
        files.push((format!("posts/{}/index.html", p.slug), page.into_string().into_bytes()));
    }
    let entries = blog.visible().into_iter().map(|p| entry_with(&blog, p, p.body.as_deref(), &format!("posts/{}/", p.slug))).collect();
    files.push(("feed.atom".to_owned(), feed_xml_with(blog.title(), &format!("urn:spokes:{}", blog.blog_id), "feed.atom", Some(&blog.settings.language), None, entries, &[]).into_bytes()));
    files.push(("reader.css".to_owned(), CSS.as_bytes().to_vec()));
    files.push(("bundle.json".to_owned(), serde_json::to_vec_pretty(&bundle).unwrap_or_default()));
    (files, blog.images.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::{BlogDoc, BlogSettings, Identity, Post, PostState, Statement};

    #[test]
    fn a_signed_blog_becomes_pages_a_feed_and_a_bundle() {
        let id = Identity::generate("Ada", "pw").unwrap();
        let mut key = id.unlock("pw").unwrap();
        let (blog_id, mut doc) = BlogDoc::create_blog(&id.fingerprint(), &BlogSettings { title: "Notes".into(), ..Default::default() });
        let mut post = Post::new("Hello <world>", "Some *words*.");
        post.state = PostState::Published;
        doc.put_post(&post).unwrap();
        // Scheduled for tomorrow: signed and shipped, but not shown yet.
        let mut later = Post::new("Tomorrow's news", "Not yet.");
        later.state = PostState::Published;
        later.date = (chrono::Utc::now() + chrono::Duration::days(1)).fixed_offset();
        doc.put_post(&later).unwrap();
        doc.commit("publish");
        let st = Statement::new(blog_id.clone(), &doc.heads()).sign(&mut key).unwrap();
        let mut r = Replica { blog_id, doc: doc.into_automerge(), certificate: Some(id.certificate()), statements: vec![st], saved: Default::default() };
        let files: std::collections::BTreeMap<String, Vec<u8>> = static_site(&mut r).0.into_iter().collect();
        let text = |p: &str| String::from_utf8(files[p].clone()).unwrap();
        let slug = &post.slug;
        assert!(text("index.html").contains(&format!("href=\"posts/{slug}/\"")));
        assert!(!text("index.html").contains("Tomorrow") && !files.contains_key("posts/tomorrow-s-news/index.html"), "a scheduled post stays hidden");
        let view = BlogView::build(&mut r);
        assert_eq!((view.posts.len(), view.visible().len()), (2, 1));
        assert!(view.post("tomorrow-s-news").is_none() && view.post(slug).is_some());
        let page = text(&format!("posts/{slug}/index.html"));
        assert!(page.contains("<em>words</em>"), "{page}");
        assert!(page.contains("Hello &lt;world&gt;"));
        assert!(page.contains("Signatures verified"));
        assert!(page.contains("href=\"../../reader.css\""));
        let feed = atom_syndication::Feed::read_from(files["feed.atom"].as_slice()).unwrap();
        assert_eq!(feed.entries().len(), 1);
        assert_eq!(feed.entries()[0].links()[0].href(), format!("posts/{slug}/"));
        let bundle: serde_json::Value = serde_json::from_slice(&files["bundle.json"]).unwrap();
        assert_eq!(bundle["fingerprint"], id.fingerprint());
        assert_eq!(bundle["statements"].as_array().unwrap().len(), 1);
    }
}
