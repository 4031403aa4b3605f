//! Markdown to sanitised HTML.
//!
//! CommonMark plus tables, footnotes, strikethrough and task lists (pulldown-cmark), then
//! sanitised with ammonia using an explicit allow-list. Input from peers is never trusted:
//! `<script>`, event handlers, `style`, and `javascript:` or `data:` URLs never survive.

use ammonia::Builder;
use pulldown_cmark::{Event, Options, Parser, Tag, html};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

fn sanitizer() -> &'static Builder<'static> {
    static B: OnceLock<Builder<'static>> = OnceLock::new();
    B.get_or_init(|| {
        let tags: HashSet<&str> = [
            "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt", "em",
            "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "ins", "kbd", "li",
            "mark", "ol", "p", "pre", "q", "s", "samp", "section", "small", "span", "strong", "sub", "summary", "sup",
            "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
        ]
        .into_iter()
        .collect();
        let mut tag_attrs: HashMap<&str, HashSet<&str>> = HashMap::new();
        tag_attrs.insert("a", ["href", "title", "id"].into_iter().collect());
        tag_attrs.insert("img", ["src", "alt", "title", "width", "height"].into_iter().collect());
        tag_attrs.insert("input", ["type", "checked", "disabled"].into_iter().collect());
        tag_attrs.insert("td", ["align", "colspan", "rowspan"].into_iter().collect());
        tag_attrs.insert("th", ["align", "colspan", "rowspan"].into_iter().collect());
        tag_attrs.insert("ol", ["start"].into_iter().collect());
        tag_attrs.insert("li", ["id"].into_iter().collect());
        tag_attrs.insert("sup", ["id"].into_iter().collect());
        tag_attrs.insert("div", ["id"].into_iter().collect());
        for h in ["h1", "h2", "h3", "h4", "h5", "h6"] {
            tag_attrs.insert(h, ["id"].into_iter().collect());
        }
        let mut classes: HashMap<&str, HashSet<&str>> = HashMap::new();
        classes.insert("code", ["language-rust", "language-ruby", "language-sh", "language-bash", "language-html", "language-yaml", "language-js", "language-javascript", "language-json", "language-text", "language-toml", "language-css", "language-python", "language-go"].into_iter().collect());
        classes.insert("div", ["footnote-definition"].into_iter().collect());
        classes.insert("sup", ["footnote-reference"].into_iter().collect());
        let mut b = Builder::new();
        b.tags(tags)
            .tag_attributes(tag_attrs)
            .allowed_classes(classes)
            // `spokes-image:` is the desktop app's own scheme for the writer's stored images
            // (its preview); elsewhere it is a broken image, never a script.
            .url_schemes(["http", "https", "mailto", "spokes-image"].into_iter().collect())
            .link_rel(Some("noopener noreferrer nofollow ugc"))
            .id_prefix(Some("md-"));
        b
    })
}

/// Renders Markdown to HTML that is safe to embed in a page. Links to stored images
/// (`images/<name>`, see [`crate::image`]) stay relative.
pub fn markdown_to_html(markdown: &str) -> String {
    markdown_to_html_with(markdown, None)
}

/// Like [`markdown_to_html`], with image links `images/<name>` pointing at `image_base` +
/// `<name>` instead (for example `/b/<blog>/images/` on a spoke). Other links are untouched.
pub fn markdown_to_html_with(markdown: &str, image_base: Option<&str>) -> String {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_FOOTNOTES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    opts.insert(Options::ENABLE_HEADING_ATTRIBUTES);
    let parser = Parser::new_ext(markdown, opts).map(|ev| match (ev, image_base) {
        (Event::Start(Tag::Image { link_type, dest_url, title, id }), Some(base)) if dest_url.starts_with(crate::image::LINK_PREFIX) => {
            let name = &dest_url[crate::image::LINK_PREFIX.len()..];
            Event::Start(Tag::Image { link_type, dest_url: format!("{base}{name}").into(), title, id })
        }
        (ev, _) => ev,
    });
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, parser);
    sanitize_html(&raw)
}

/// Sanitises HTML with the allow-list above.
pub fn sanitize_html(html: &str) -> String {
    sanitizer().clean(html).to_string()
}

/// The whole plain text of Markdown (headings, paragraphs, code; no markup), words separated
/// by single spaces, for search indexes.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for ev in Parser::new(markdown) {
        match ev {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A plain-text excerpt of about `max_chars` characters from Markdown, for lists and feeds.
pub fn excerpt(markdown: &str, max_chars: usize) -> String {
    use pulldown_cmark::TagEnd;
    let mut out = String::new();
    let mut skip = 0usize;
    for ev in Parser::new(markdown) {
        match ev {
            Event::Start(Tag::CodeBlock(_)) | Event::Start(Tag::Heading { .. }) => skip += 1,
            Event::End(TagEnd::CodeBlock) | Event::End(TagEnd::Heading(_)) => skip = skip.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if skip == 0 => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph) if skip == 0 => out.push(' '),
            _ => {}
        }
        if out.chars().count() > max_chars {
            break;
        }
    }
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.chars().count() > max_chars {
        let cut: String = out.chars().take(max_chars).collect();
        let cut = cut.rsplit_once(' ').map(|(a, _)| a.to_owned()).unwrap_or(cut);
        format!("{cut}…")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_image_links_point_at_the_given_base_and_others_stay() {
        let name = format!("{}.png", "ab".repeat(32));
        let md = format!("![dot](images/{name}) ![far](https://e.com/x.png) ![script](javascript:alert(1))");
        let on_spoke = markdown_to_html_with(&md, Some("/b/0123/images/"));
        assert!(on_spoke.contains(&format!("src=\"/b/0123/images/{name}\"")), "{on_spoke}");
        assert!(on_spoke.contains("src=\"https://e.com/x.png\""), "{on_spoke}");
        assert!(!on_spoke.contains("javascript"), "{on_spoke}");
        let in_app = markdown_to_html_with(&md, Some("spokes-image://localhost/"));
        assert!(in_app.contains(&format!("src=\"spokes-image://localhost/{name}\"")), "{in_app}");
        assert!(markdown_to_html(&md).contains(&format!("src=\"images/{name}\"")));
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_neutralised() {
        let md = "Hi <script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)> <a href=\"JaVaScRiPt:alert(1)\">y</a> <iframe src=\"https://e.com\"></iframe> <p style=\"color:red\">s</p>";
        let html = markdown_to_html(md);
        let lower = html.to_lowercase();
        assert!(!lower.contains("<script"), "{html}");
        assert!(!lower.contains("javascript:"), "{html}");
        assert!(!lower.contains("onerror"), "{html}");
        assert!(!lower.contains("<iframe"), "{html}");
        assert!(!lower.contains("style="), "{html}");
        assert!(html.contains("Hi"));
    }

    #[test]
    fn common_markdown_survives_sanitising() {
        let md = "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```ruby\nputs 1\n```\n\n- [x] done\n\n[link](https://jekyllrb.com) ~~old~~";
        let html = markdown_to_html(md);
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("class=\"language-ruby\""), "{html}");
        assert!(html.contains("<a href=\"https://jekyllrb.com\" rel=\"noopener noreferrer nofollow ugc\">link</a>"), "{html}");
        assert!(html.contains("<del>old</del>"), "{html}");
        assert!(html.contains("checked"), "{html}");
    }

    #[test]
    fn excerpts_are_plain_and_bounded() {
        let e = excerpt("# Head\n\nSome **bold** text and `code` here.\n\n```\nskipped\n```\nMore words follow", 30);
        assert!(!e.contains("Head") && !e.contains("skipped") && !e.contains("**"), "{e}");
        assert!(e.chars().count() <= 31, "{e}");
        assert!(e.starts_with("Some bold text and code"), "{e}");
    }

    /// The app's preview shows a letter typed in a plain paragraph before this renderer has
    /// seen it (`echoTyping` in `ui/src/blocks.ts`). Its rule, restated here, is checked
    /// against this renderer: whenever the rule echoes, the rendering is the plain paragraph.
    #[test]
    fn the_previews_typing_echo_agrees_with_the_renderer() {
        use rand::{Rng, SeedableRng};
        const TEXT: &[char] = &['a', 'b', 'Z', 'é', '1', '2', ' ', ' ', '.', ',', ';', ':', '!', '?', '\'', '"', '(', ')', '\n', '-'];
        const TYPED: &[char] = &['x', 'É', '0', '1', '7', 'ß'];
        let beside = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == ' ');
        // The text of a lone `<p>` holding exactly `src`, as the preview would find it.
        let plain = |src: &str| {
            let html = markdown_to_html(src);
            let inner = html.strip_prefix("<p>").and_then(|h| h.strip_suffix("</p>\n"))?;
            let text = inner.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
            (!inner.contains('<') && text == src).then_some(())
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let (mut echoed, mut tried) = (0, 0);
        while tried < 50_000 {
            let len = rng.random_range(1..12);
            let old: String = (0..len).map(|_| TEXT[rng.random_range(0..TEXT.len())]).collect();
            if plain(&old).is_none() {
                continue;
            }
            tried += 1;
            let chars: Vec<char> = old.chars().collect();
            let k = rng.random_range(0..=chars.len());
            let typed = TYPED[rng.random_range(0..TYPED.len())];
            let (prev, next) = (k.checked_sub(1).map(|i| chars[i]), chars.get(k).copied());
            let prev_ok = if prev.is_some_and(|c| c != '\n') { beside(prev) } else { typed.is_alphabetic() };
            let next_ok = if next.is_some_and(|c| c != '\n') { beside(next) } else { prev != Some(' ') };
            if !(prev_ok && next_ok) {
                continue;
            }
            let new: String = chars[..k].iter().chain([&typed]).chain(&chars[k..]).collect();
            assert!(plain(&new).is_some(), "echoing {typed:?} into {old:?} gives {new:?}, rendered {}", markdown_to_html(&new));
            echoed += 1;
        }
        assert!(echoed > 1_000, "only {echoed} echoes were checked");
    }
}
