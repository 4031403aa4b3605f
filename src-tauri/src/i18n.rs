//! The words the Rust side shows itself: the menu bar, the About dialog and the desktop's
//! notifications. They come from the UI's Fluent catalogues (`ui/src/locales/*.ftl`, built
//! in), so each string has one home; the page tells this side its language with the
//! `set_language` command, and until it does the system's locale decides (`sys-locale`:
//! `LC_ALL`, `LC_MESSAGES`, `LANG` on Linux).
//!
//! Syntax and semantics: Project Fluent (<https://projectfluent.org/fluent/guide/>).

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::{LazyLock, RwLock};

/// A language the app speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// English (`en`), the catalogue every other falls back to.
    English,
    /// German (`de`).
    German,
}

impl Language {
    /// Every language, in the order the UI lists them.
    pub const ALL: [Language; 2] = [Language::English, Language::German];

    /// The BCP 47 primary language subtag (`en`, `de`).
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::German => "de",
        }
    }

    /// The language of a BCP 47 or POSIX locale tag (`de`, `de-AT`, `de_DE.UTF-8`), if the app
    /// speaks it.
    pub fn from_tag(tag: &str) -> Option<Language> {
        let primary = tag.split(['-', '_', '.', '@']).next()?.to_ascii_lowercase();
        Language::ALL.into_iter().find(|l| l.tag() == primary)
    }

    /// The system's language if the app speaks it, else English.
    pub fn of_system() -> Language {
        sys_locale::get_locales().find_map(|t| Language::from_tag(&t)).unwrap_or(Language::English)
    }

    fn source(self) -> &'static str {
        match self {
            Language::English => include_str!("../../ui/src/locales/en.ftl"),
            Language::German => include_str!("../../ui/src/locales/de.ftl"),
        }
    }
}

/// One catalogue, parsed.
struct Catalogue(FluentBundle<FluentResource>);

impl Catalogue {
    fn new(l: Language) -> Catalogue {
        // The catalogues are checked whole by the UI's tests (i18n.test.ts), and here by
        // `catalogues_parse_whole`; a message that did not parse falls back to English.
        let resource = FluentResource::try_new(l.source().to_owned()).unwrap_or_else(|(partial, _)| partial);
        let id = l.tag().parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        bundle.set_use_isolating(false);
        let _ = bundle.add_resource(resource);
        Catalogue(bundle)
    }

    fn text(&self, id: &str, args: Option<&FluentArgs>) -> Option<String> {
        let pattern = self.0.get_message(id)?.value()?;
        let mut errors = Vec::new();
        Some(self.0.format_pattern(pattern, args, &mut errors).into_owned())
    }
}

static ENGLISH: LazyLock<Catalogue> = LazyLock::new(|| Catalogue::new(Language::English));
static GERMAN: LazyLock<Catalogue> = LazyLock::new(|| Catalogue::new(Language::German));
static CURRENT: LazyLock<RwLock<Language>> = LazyLock::new(|| RwLock::new(Language::of_system()));

fn catalogue(l: Language) -> &'static Catalogue {
    match l {
        Language::English => &ENGLISH,
        Language::German => &GERMAN,
    }
}

/// The language the Rust side speaks now.
pub fn current() -> Language {
    *CURRENT.read().unwrap_or_else(|e| e.into_inner())
}

/// Speaks `l` from now on; returns whether that changed anything.
pub fn set(l: Language) -> bool {
    let mut c = CURRENT.write().unwrap_or_else(|e| e.into_inner());
    std::mem::replace(&mut *c, l) != l
}

/// Message `id` in the current language with `args` (name, value) filled in; English when the
/// current catalogue lacks it, and the ID itself when no catalogue has it.
pub fn text(id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    text_in(current(), id, args)
}

/// Message `id` in `l` (see [`text`]).
pub fn text_in(l: Language, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    let mut a = FluentArgs::new();
    for (k, v) in args {
        a.set(*k, v.clone());
    }
    let a = (!args.is_empty()).then_some(&a);
    catalogue(l).text(id, a).or_else(|| ENGLISH.text(id, a)).unwrap_or_else(|| id.to_owned())
}

/// The recovery sheet's words in `l` (messages `sheet-*`), with the placeholders
/// [`spokes_writer::recovery::SheetWords`] fills in; the choice it names is the welcome
/// screen's own words for it (`welcome-restore`).
pub fn sheet_words(l: Language) -> spokes_writer::recovery::SheetWords {
    let keep = |name: &'static str| (name, FluentValue::from(format!("{{{name}}}")));
    let m = |id: &str| text_in(l, id, &[keep("title"), keep("name"), keep("date"), keep("choice"), keep("file"), keep("i"), keep("n")]);
    spokes_writer::recovery::SheetWords {
        lang: l.tag().to_owned(),
        title: m("sheet-title"),
        heading: m("sheet-heading"),
        blog: m("sheet-blog"),
        fingerprint: m("sheet-fingerprint"),
        blog_id: m("sheet-blog-id"),
        made_on: m("sheet-made-on"),
        if_lost: m("sheet-if-lost"),
        step_install: m("sheet-step-install"),
        step_choose: m("sheet-step-choose"),
        choice: m("welcome-restore"),
        step_scan: m("sheet-step-scan"),
        key_locked: m("sheet-key-locked"),
        your_spokes: m("sheet-your-spokes"),
        as_codes: m("sheet-as-codes"),
        too_long: m("sheet-too-long"),
        part: m("sheet-part"),
        file: m("sheet-file"),
    }
}

/// The spelling dictionary for writing in `language` (the blog's, a BCP 47 tag such as `de` or
/// `pt-BR`) as enchant names them (`de_DE`): the region a system locale of that language has
/// (a writer in Austria gets `de_AT`), else the language's usual one, else the language alone.
/// `None` for a tag that is not a language tag (letters, then optional letters or digits
/// after `-` or `_`; at most 16 characters).
pub fn dictionary_for(language: &str, system: impl IntoIterator<Item = String>) -> Option<String> {
    let mut parts = language.split(['-', '_']);
    let primary = parts.next()?.to_ascii_lowercase();
    let valid = language.len() <= 16 && (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
    if !valid || !language.split(['-', '_']).skip(1).all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric())) {
        return None;
    }
    let region = |tag: &str| tag.split(['.', '@']).next().and_then(|t| t.split(['-', '_']).nth(1)).filter(|r| r.len() == 2).map(str::to_ascii_uppercase);
    if let Some(r) = region(language) {
        return Some(format!("{primary}_{r}"));
    }
    let mine = system.into_iter().find(|t| t.split(['-', '_', '.']).next().is_some_and(|p| p.eq_ignore_ascii_case(&primary)));
    if let Some(r) = mine.as_deref().and_then(region) {
        return Some(format!("{primary}_{r}"));
    }
    let usual = match primary.as_str() {
        "en" => "US",
        "pt" => "PT",
        "sv" => "SE",
        "da" => "DK",
        "el" => "GR",
        "cs" => "CZ",
        "uk" => "UA",
        "ja" => "JP",
        "nb" | "nn" => "NO",
        p if ["de", "fr", "es", "it", "nl", "pl", "ru", "fi", "hu", "tr", "ro"].contains(&p) => return Some(format!("{p}_{}", p.to_ascii_uppercase())),
        _ => return Some(primary),
    };
    Some(format!("{primary}_{usual}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_parse_whole() {
        for l in Language::ALL {
            if let Err((_, errors)) = FluentResource::try_new(l.source().to_owned()) {
                panic!("{} does not parse: {errors:?}", l.tag());
            }
        }
    }

    /// The recovery sheet in each language: every message there (none falls back to its ID or
    /// to English in German), the placeholders where the sheet fills them in, and English as the
    /// writer crate's own words.
    #[test]
    fn recovery_sheet_words_in_both_languages() {
        let en = sheet_words(Language::English);
        assert_eq!(en, spokes_writer::recovery::SheetWords::default());
        let de = sheet_words(Language::German);
        assert_eq!(de.lang, "de");
        assert_eq!(de.heading, "Wiederherstellungsblatt");
        assert!(de.step_choose.contains("{choice}") && de.step_scan.contains("{file}") && de.part.contains("{i}") && de.part.contains("{n}"));
        assert!(de.blog.contains("{title}") && de.blog.contains("{name}") && de.made_on.contains("{date}") && de.title.contains("{title}"));
        assert_eq!(de.choice, text_in(Language::German, "welcome-restore", &[]));
        let (en_fields, de_fields) = (format!("{en:?}"), format!("{de:?}"));
        assert!(!de_fields.contains("sheet-"), "a message missing: {de_fields}");
        assert!(en_fields.split(", ").zip(de_fields.split(", ")).skip(1).all(|(a, b)| a != b), "German words equal to English: {de_fields}");
    }

    #[test]
    fn menu_and_notification_words_in_both_languages() {
        assert_eq!(text_in(Language::English, "menu-file", &[]), "File");
        assert_eq!(text_in(Language::German, "menu-file", &[]), "Datei");
        assert_eq!(text_in(Language::English, "notify-published-body", &[("total", 1.into())]), "Everything you published has reached your spoke.");
        assert_eq!(text_in(Language::German, "notify-published-body", &[("total", 3.into())]), "Alles, was Sie veröffentlicht haben, ist auf allen 3 Ihrer Spokes angekommen.");
        assert_eq!(text_in(Language::German, "no-such-message", &[]), "no-such-message");
    }

    /// Every note an import can add is worded in both catalogues by its code, with its details
    /// (the UI words them: `ui/src/dialogs/import.ts`).
    #[test]
    fn import_notes_are_worded_by_their_codes_in_both_languages() {
        use spokes_core::import::ImportNote;
        let (src, reason, list) = (String::from("img/cat.png"), String::from("reason"), String::from("[gallery]"));
        let all = [
            ImportNote::UnreadableDate { field: "date".into(), value: "someday".into() },
            ImportNote::DateFromFile,
            ImportNote::DateFromImport,
            ImportNote::PictureMissing { src: src.clone() },
            ImportNote::PictureNotBeside { src: src.clone() },
            ImportNote::PictureNotKept { src: src.clone(), reason: reason.clone() },
            ImportNote::PictureUnreadable { src: src.clone(), reason },
            ImportNote::WasPrivate,
            ImportNote::PlainTextOnly,
            ImportNote::Shortcodes { list },
            ImportNote::FormattingTooLarge,
            ImportNote::FormattingUnreadable,
        ];
        for note in &all {
            let fields = serde_json::to_value(note).expect("a note as JSON");
            let args: Vec<(&str, fluent_bundle::FluentValue)> =
                fields.as_object().into_iter().flatten().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default().to_owned().into())).collect();
            for l in Language::ALL {
                let id = format!("note-{}", note.code());
                let text = text_in(l, &id, &args);
                assert_ne!(text, id, "{} has no {id}", l.tag());
                for v in fields.as_object().into_iter().flatten().filter(|(k, _)| *k != "code") {
                    assert!(text.contains(v.1.as_str().unwrap_or_default()), "{} {id} leaves out {}: {text}", l.tag(), v.0);
                }
            }
        }
        assert_ne!(text_in(Language::German, "note-was-private", &[]), text_in(Language::English, "note-was-private", &[]));
    }

    #[test]
    fn spelling_dictionaries_for_blog_languages() {
        let none = Vec::<String>::new;
        assert_eq!(dictionary_for("de", none()).as_deref(), Some("de_DE"));
        assert_eq!(dictionary_for("de", vec!["de-AT".to_owned()]).as_deref(), Some("de_AT"), "the writer's own region");
        assert_eq!(dictionary_for("en", vec!["de-DE".to_owned(), "en-GB".to_owned()]).as_deref(), Some("en_GB"));
        assert_eq!(dictionary_for("en", none()).as_deref(), Some("en_US"));
        assert_eq!(dictionary_for("pt-BR", vec!["pt-PT".to_owned()]).as_deref(), Some("pt_BR"), "the blog's own region first");
        assert_eq!(dictionary_for("eo", none()).as_deref(), Some("eo"));
        for bad in ["", "d", "deutsch", "../../etc", "de-", "de DE", "x1", "de-AT-x-very-long-tag"] {
            assert_eq!(dictionary_for(bad, none()), None, "{bad:?}");
        }
    }

    #[test]
    fn languages_from_locale_tags() {
        assert_eq!(Language::from_tag("de_DE.UTF-8"), Some(Language::German));
        assert_eq!(Language::from_tag("de-AT"), Some(Language::German));
        assert_eq!(Language::from_tag("en"), Some(Language::English));
        assert_eq!(Language::from_tag("fr_FR"), None);
        assert_eq!(Language::from_tag("C"), None);
    }
}
