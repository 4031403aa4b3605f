//! The reader site's pages, as a spoke serves them and as a static site freezes them: the
//! page layout, post lists, dates, the verification sentence and Atom feeds (RFC 4287).
//! HTML is built with maud, which escapes every value it is given.

use crate::view::{BlogView, PostBody, PostView, Verification};
use atom_syndication::{Content, Entry, Feed, Link, Person, Text};
use maud::{DOCTYPE, Markup, html};

/// The reader style sheet (`assets/reader.css`).
pub const CSS: &str = include_str!("../../../assets/reader.css");

/// The page layout; `css` is the style sheet's address (relative in a static site).
pub fn page_with(title: &str, css: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href=(css);
            }
            body { main { (body) } }
        }
    }
}

pub fn date(d: &chrono::DateTime<chrono::FixedOffset>) -> Markup {
    html! { time datetime=(d.to_rfc3339()) { (d.format("%-d %B %Y")) } }
}

/// The list of posts, each linking to `href(post)`.
pub fn post_list(href: &dyn Fn(&PostView) -> String, posts: &[&PostView]) -> Markup {
    html! {
        ol.posts {
            @for p in posts {
                li {
                    a href=(href(p)) { (p.title) }
                    " " span.meta { (date(&p.date)) }
                    p.excerpt { (p.excerpt) }
                }
            }
        }
    }
}

/// The verification sentence; `bundle` is the verification bundle's address.
pub fn verification_note_with(blog: &BlogView, bundle: &str) -> Markup {
    let fp = spaced(&blog.fingerprint);
    html! {
        @match &blog.verification {
            Verification::Verified { changes, statements, .. } => {
                p.verified {
                    "✓ Signatures verified: all " (changes) " revisions of this blog are covered by "
                    (statements) " signed statements from OpenPGP certificate "
                    code { (fp) } "."
                    " " a href=(bundle) { "Check it yourself" }
                }
            }
            Verification::Failed { reason } => {
                p.unverified { "✗ This blog failed signature verification on this spoke: " (reason) }
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
    let updated = entries.iter().map(|e| e.updated).max().unwrap_or_else(|| chrono::DateTime::UNIX_EPOCH.fixed_offset());
    let mut links = vec![Link { href: self_url.to_owned(), rel: "self".into(), ..Default::default() }];
    links.extend(related.iter().map(|r| Link { href: r.clone(), rel: "related".into(), ..Default::default() }));
    let f = Feed {
        title: Text::plain(title),
        id: id.to_owned(),
        updated,
        links,
        entries,
        ..Default::default()
    };
    f.to_string()
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
        content: body.map(|b| Content { value: Some(b.html.clone()), content_type: Some("html".into()), ..Default::default() }),
        ..Default::default()
    }
}

