//! The reader site's pages, as a spoke serves them and as a static site freezes them: the
//! page layout with its `<head>` (language, description, canonical link, feed autodiscovery,
//! OpenGraph), post lists, dates, the verification sentence, Atom feeds (RFC 4287), JSON Feed
//! 1.1 (<https://jsonfeed.org/version/1.1>) and sitemaps (<https://www.sitemaps.org/protocol.html>).
//! HTML is built with maud, which escapes every value it is given.

use crate::view::{BlogView, PostBody, PostView, Verification};
use crate::words::Words;
use atom_syndication::{Category, Content, Entry, Feed, Link, Person, Text};
use maud::{DOCTYPE, Markup, html};

/// The reader style sheet (`assets/reader.css`).
pub const CSS: &str = include_str!("../../../assets/reader.css");

/// The site's icon (`assets/favicon.svg`), served as `/favicon.svg`.
pub const FAVICON: &str = include_str!("../../../assets/favicon.svg");

/// What a page's `<head>` says about it besides its title.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// BCP 47 language of the page (`<html lang>`); empty: `en`.
    pub lang: String,
    /// One or two sentences (`<meta name="description">`, `og:description`); empty: none.
    pub description: String,
    /// The page's one address (`<link rel="canonical">`, `og:url`), absolute; none when unknown.
    pub canonical: Option<String>,
    /// `og:type`: `website` for home and list pages, `article` for a post.
    pub og_type: &'static str,
    /// `og:site_name`: the blog's or the spoke's name.
    pub site_name: String,
    /// Feeds a reader can subscribe to from this page (`<link rel="alternate">`): title, media
    /// type (`application/atom+xml`, `application/feed+json`), address.
    pub feeds: Vec<(String, &'static str, String)>,
    /// The icon's address; none: no `<link rel="icon">`.
    pub icon: Option<String>,
}

/// The two feeds of one list of posts at `base` (`{base}/feed.atom`, `{base}/feed.json`), as
/// [`Meta::feeds`] lists them.
pub fn feeds_at(title: &str, base: &str) -> Vec<(String, &'static str, String)> {
    vec![(title.to_owned(), "application/atom+xml", format!("{base}/feed.atom")), (title.to_owned(), "application/feed+json", format!("{base}/feed.json"))]
}

/// `lang` if it looks like a BCP 47 tag (letters, digits and hyphens, up to 35 characters),
/// else `en`.
pub fn page_lang(lang: &str) -> &str {
    let l = lang.trim();
    if !l.is_empty() && l.len() <= 35 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') { l } else { "en" }
}

/// The page layout; `css` is the style sheet's address (relative in a static site).
pub fn page_with(title: &str, css: &str, body: Markup) -> Markup {
    page_meta(title, css, &Meta { og_type: "website", ..Default::default() }, body)
}

/// The page layout with its `<head>` as [`Meta`] says.
pub fn page_meta(title: &str, css: &str, meta: &Meta, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(page_lang(&meta.lang)) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                @if !meta.description.is_empty() { meta name="description" content=(meta.description); }
                @if let Some(c) = &meta.canonical { link rel="canonical" href=(c); }
                @for (t, kind, href) in &meta.feeds { link rel="alternate" type=(kind) title=(t) href=(href); }
                @if let Some(i) = &meta.icon { link rel="icon" type="image/svg+xml" href=(i); }
                link rel="stylesheet" href=(css);
                meta property="og:title" content=(title);
                meta property="og:type" content=(if meta.og_type.is_empty() { "website" } else { meta.og_type });
                @if !meta.site_name.is_empty() { meta property="og:site_name" content=(meta.site_name); }
                @if !meta.description.is_empty() { meta property="og:description" content=(meta.description); }
                @if let Some(c) = &meta.canonical { meta property="og:url" content=(c); }
                meta property="og:locale" content=(page_lang(&meta.lang).replace('-', "_"));
            }
            body { main { (body) } }
        }
    }
}

/// `d` in English, as a `<time>` element ("7 December 2026").
pub fn date(d: &chrono::DateTime<chrono::FixedOffset>) -> Markup {
    date_in(d, Words::for_language("en"))
}

/// `d` as a `<time>` element in the language of `words`.
pub fn date_in(d: &chrono::DateTime<chrono::FixedOffset>, words: &Words) -> Markup {
    html! { time datetime=(d.to_rfc3339()) { (words.date(d)) } }
}

/// The list of posts, each linking to `href(post)`, dated in the language of `words`.
pub fn post_list(href: &dyn Fn(&PostView) -> String, posts: &[&PostView], words: &Words) -> Markup {
    html! {
        ol.posts {
            @for p in posts {
                li {
                    a href=(href(p)) { (p.title) }
                    " " span.meta { (date_in(&p.date, words)) }
                    p.excerpt { (p.excerpt) }
                }
            }
        }
    }
}

/// The verification sentence, in the blog's language; `bundle` is the verification bundle's
/// address.
pub fn verification_note_with(blog: &BlogView, bundle: &str) -> Markup {
    let fp = spaced(&blog.fingerprint);
    let w = Words::for_language(&blog.settings.language);
    html! {
        @match &blog.verification {
            Verification::Verified { changes, statements, .. } => {
                p.verified {
                    (w.verified(*changes, *statements))
                    code { (fp) } (w.verified_end)
                    " " a href=(bundle) { (w.check_yourself) }
                }
            }
            Verification::Failed { reason } => {
                p.unverified { (w.unverified) (reason) }
            }
        }
    }
}

/// Fingerprint in groups of four, as GnuPG shows it.
fn spaced(fp: &str) -> String {
    fp.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

/// An Atom feed document (RFC 4287); `related` are the same blog's addresses on its other
/// spokes (`rel="related"` links), so a reader can switch when this spoke goes away.
pub fn feed_xml(title: &str, id: &str, self_url: &str, entries: Vec<Entry>, related: &[String]) -> String {
    feed_xml_with(title, id, self_url, None, None, entries, related)
}

/// [`feed_xml`] with the feed's language (`xml:lang`) and the page it is the feed of
/// (`rel="alternate"`).
pub fn feed_xml_with(title: &str, id: &str, self_url: &str, lang: Option<&str>, home: Option<&str>, entries: Vec<Entry>, related: &[String]) -> String {
    let updated = entries.iter().map(|e| e.updated).max().unwrap_or_else(|| chrono::DateTime::UNIX_EPOCH.fixed_offset());
    let mut links = vec![Link { href: self_url.to_owned(), rel: "self".into(), mime_type: Some("application/atom+xml".into()), ..Default::default() }];
    links.extend(home.map(|h| Link { href: h.to_owned(), rel: "alternate".into(), mime_type: Some("text/html".into()), ..Default::default() }));
    links.extend(related.iter().map(|r| Link { href: r.clone(), rel: "related".into(), ..Default::default() }));
    let f = Feed {
        title: Text::plain(title),
        id: id.to_owned(),
        updated,
        links,
        entries,
        lang: lang.map(|l| page_lang(l).to_owned()),
        ..Default::default()
    };
    f.to_string()
}

/// A JSON Feed 1.1 document (<https://jsonfeed.org/version/1.1>) of `posts` of `blog`, each
/// linking to `href(post)` (absolute), with its rendered body when `body` gives one.
pub fn json_feed(blog: &BlogView, title: &str, home: &str, feed_url: &str, posts: &[&PostView], href: &dyn Fn(&PostView) -> String, body: &dyn Fn(&PostView) -> Option<std::sync::Arc<PostBody>>) -> serde_json::Value {
    let author = if blog.author.is_empty() { blog.title().to_owned() } else { blog.author.clone() };
    serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": home,
        "feed_url": feed_url,
        "description": blog.settings.description,
        "language": page_lang(&blog.settings.language),
        "authors": [{"name": author}],
        "items": posts.iter().map(|p| {
            let mut item = serde_json::json!({
                "id": format!("urn:spokes:{}:{}", blog.blog_id, p.id),
                "url": href(p),
                "title": p.title,
                "summary": p.excerpt,
                "date_published": p.date.to_rfc3339(),
                "date_modified": p.updated.max(p.date).to_rfc3339(),
                "tags": p.tags,
            });
            item["content_html"] = body(p).map(|b| serde_json::Value::from(b.html.clone())).unwrap_or_else(|| serde_json::Value::from(""));
            item
        }).collect::<Vec<_>>(),
    })
}

/// XML text with `&`, `<`, `>`, `"` and `'` escaped.
fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// A sitemap (`urlset`, sitemaps.org protocol 0.9) of absolute `urls`, each with its last
/// change.
pub fn sitemap_xml(urls: &[(String, chrono::DateTime<chrono::FixedOffset>)]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for (u, at) in urls {
        out.push_str(&format!("<url><loc>{}</loc><lastmod>{}</lastmod></url>\n", xml_escape(u), at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    }
    out.push_str("</urlset>\n");
    out
}

/// A sitemap index (sitemaps.org protocol 0.9) of absolute sitemap addresses.
pub fn sitemap_index_xml(sitemaps: &[String]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for u in sitemaps {
        out.push_str(&format!("<sitemap><loc>{}</loc></sitemap>\n", xml_escape(u)));
    }
    out.push_str("</sitemapindex>\n");
    out
}

/// A feed entry linking to `href`, with `body` as its content (none without it).
pub fn entry_with(blog: &BlogView, p: &PostView, body: Option<&PostBody>, href: &str) -> Entry {
    Entry {
        title: Text::plain(&p.title),
        id: format!("urn:spokes:{}:{}", blog.blog_id, p.id),
        updated: p.updated.max(p.date),
        published: Some(p.date),
        authors: vec![Person { name: if blog.author.is_empty() { blog.title().to_owned() } else { blog.author.clone() }, ..Default::default() }],
        links: vec![Link { href: href.to_owned(), rel: "alternate".into(), ..Default::default() }],
        categories: p.tags.iter().map(|t| Category { term: t.clone(), ..Default::default() }).collect(),
        content: body.map(|b| Content { value: Some(b.html.clone()), content_type: Some("html".into()), ..Default::default() }),
        ..Default::default()
    }
}

