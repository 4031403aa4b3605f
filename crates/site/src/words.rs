//! The words of a blog's reader pages in the blog's language (`BlogSettings::language`, a
//! BCP 47 tag): English, and German for any `de` tag (`de`, `de-AT`, …); any other language
//! reads English, as the app's catalogues do (`ui/src/locales`). Only the pages of a blog
//! follow its language; a spoke's own pages (its home, search, invitations) are the
//! operator's, in English.
//!
//! Dates are written the way each language writes them in running text: "7 December 2026",
//! "7. Dezember 2026" (CLDR's long date pattern for `en-GB` and `de`).

/// What a blog's pages say around its writing.
#[derive(Debug)]
pub struct Words {
    /// The language these words are in (`en`, `de`).
    pub lang: &'static str,
    /// A blog with nothing published yet.
    pub no_posts: &'static str,
    /// Before the list of a blog's tags on its home page.
    pub topics: &'static str,
    /// The link to a blog's Atom feed.
    pub atom_feed: &'static str,
    /// The link to a blog's JSON Feed.
    pub json_feed: &'static str,
    /// Before the list of the other spokes that serve a blog.
    pub also_served: &'static str,
    /// Around a tag in a tag page's heading: before, after.
    pub posts_about: (&'static str, &'static str),
    /// A tag page's description: `{blog}` and `{tag}` filled in.
    pub posts_of_about: &'static str,
    /// The verification sentence up to the certificate's fingerprint: `{changes}` and
    /// `{statements}` filled in.
    pub verified: &'static str,
    /// What ends the verification sentence after the fingerprint (German puts its verb there).
    pub verified_end: &'static str,
    /// The link to the verification bundle.
    pub check_yourself: &'static str,
    /// Before the reason a blog failed verification.
    pub unverified: &'static str,
    /// The months, January first, as a date in running text names them.
    months: [&'static str; 12],
    /// The long date pattern: `{d}`, `{month}`, `{y}`.
    date: &'static str,
}

const ENGLISH: Words = Words {
    lang: "en",
    no_posts: "No posts yet.",
    topics: "Topics:",
    atom_feed: "Atom feed",
    json_feed: "JSON feed",
    also_served: "This blog is also served by the spokes its author chose: ",
    posts_about: ("Posts about “", "”"),
    posts_of_about: "Posts of {blog} about {tag}",
    verified: "✓ Signatures verified: all {changes} revisions of this blog are covered by {statements} signed statements from OpenPGP certificate ",
    verified_end: ".",
    check_yourself: "Check it yourself",
    unverified: "✗ This blog failed signature verification on this spoke: ",
    months: ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
    date: "{d} {month} {y}",
};

const GERMAN: Words = Words {
    lang: "de",
    no_posts: "Noch keine Beiträge.",
    topics: "Themen:",
    atom_feed: "Atom-Feed",
    json_feed: "JSON-Feed",
    also_served: "Dieses Blog liegt auch auf den Spokes, die seine Autorin oder sein Autor gewählt hat: ",
    posts_about: ("Beiträge über „", "“"),
    posts_of_about: "Beiträge von {blog} über {tag}",
    verified: "✓ Signaturen geprüft: Alle {changes} Revisionen dieses Blogs sind durch {statements} signierte Erklärungen des OpenPGP-Zertifikats ",
    verified_end: " gedeckt.",
    check_yourself: "Selbst prüfen",
    unverified: "✗ Die Signaturen dieses Blogs ließen sich auf diesem Spoke nicht bestätigen: ",
    months: ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
    date: "{d}. {month} {y}",
};

impl Words {
    /// The words for a blog whose language is `tag`: German for `de` and its regions, else
    /// English.
    pub fn for_language(tag: &str) -> &'static Words {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("de") { &GERMAN } else { &ENGLISH }
    }

    /// `d` as a date in running text ("7 December 2026", "7. Dezember 2026"), in the time
    /// zone it was written in.
    pub fn date(&self, d: &chrono::DateTime<chrono::FixedOffset>) -> String {
        use chrono::Datelike;
        let month = self.months[d.month0() as usize];
        self.date.replace("{d}", &d.day().to_string()).replace("{month}", month).replace("{y}", &d.year().to_string())
    }

    /// [`Words::verified`] with its counts filled in.
    pub fn verified(&self, changes: usize, statements: usize) -> String {
        self.verified.replace("{changes}", &changes.to_string()).replace("{statements}", &statements.to_string())
    }

    /// [`Words::posts_of_about`] with the blog's title and the tag filled in.
    pub fn posts_of_about(&self, blog: &str, tag: &str) -> String {
        self.posts_of_about.replace("{blog}", blog).replace("{tag}", tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blogs_language_picks_its_words_and_dates() {
        let d = chrono::DateTime::parse_from_rfc3339("2026-03-07T23:30:00-08:00").unwrap();
        assert_eq!(Words::for_language("de-AT").date(&d), "7. März 2026");
        assert_eq!(Words::for_language("DE").lang, "de");
        assert_eq!(Words::for_language("en").date(&d), "7 March 2026", "the day it was written where it was written");
        for other in ["", "fr", "deu", "x-de", "d"] {
            assert_eq!(Words::for_language(other).lang, "en", "{other:?}");
        }
        assert_eq!(Words::for_language("de").verified(3, 2), "✓ Signaturen geprüft: Alle 3 Revisionen dieses Blogs sind durch 2 signierte Erklärungen des OpenPGP-Zertifikats ");
        assert_eq!(Words::for_language("en").posts_of_about("Notes", "rust"), "Posts of Notes about rust");
    }
}
