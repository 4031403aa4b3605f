//! From one blog document (schema 1) to the set of documents (a manifest over one document
//! per post, [`crate::manifest`] and [`crate::postdoc`]).
//!
//! The published posts become post documents made alike on every computer
//! ([`PostDoc::upgraded`]), listed by a manifest at rev 1. Unpublished and deleted posts are
//! left out: the new set never held them, so nothing a reader or peer fetches from it holds
//! their words. Posts scheduled after `now` are held back: they join the manifest when their
//! date comes. The schema 1 document itself stays with the writer, who keeps its history.

use crate::doc::{BlogDoc, DocError, PostState};
use crate::manifest::{Manifest, SiteSettings};
use crate::postdoc::{PostDoc, PostDocError};
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;

/// Errors of the upgrade.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    /// The schema 1 document could not be read.
    #[error(transparent)]
    Doc(#[from] DocError),
    /// A post document could not be written.
    #[error(transparent)]
    Post(#[from] PostDocError),
}

/// A blog as a set of documents, made from a schema 1 document.
#[derive(Debug)]
pub struct Upgraded {
    /// The manifest to sign (rev 1).
    pub manifest: Manifest,
    /// The published posts' documents, by post ID.
    pub posts: BTreeMap<String, PostDoc>,
    /// Posts published with a date after `now`, held back until then.
    pub held_back: Vec<String>,
    /// How many posts were left out because they were unpublished or deleted.
    pub left_out: usize,
}

/// The settings a manifest signs for the schema 1 blog document `doc`: its blog settings,
/// chosen spokes, owner and the salt that binds its ID.
pub fn site_settings(doc: &BlogDoc) -> SiteSettings {
    SiteSettings { blog: doc.settings(), spokes: doc.spokes(), owner: doc.owner().unwrap_or_default(), blog_id_salt: doc.id_salt().unwrap_or_default() }
}

/// Splits the schema 1 blog document `doc` into a manifest and post documents, as of `now`
/// (see the module docs). Deterministic: every computer that upgrades the same document at a
/// time when the same posts are due makes the same manifest and documents, byte for byte.
pub fn split_blog(doc: &BlogDoc, now: DateTime<FixedOffset>) -> Result<Upgraded, UpgradeError> {
    let blog_id = doc.blog_id()?;
    let settings = site_settings(doc);
    let mut manifest = Manifest::new(blog_id.clone(), &settings).next_revision();
    manifest.settings_rev = manifest.rev;
    let (mut posts, mut held_back, mut left_out) = (BTreeMap::new(), Vec::new(), 0);
    for post in doc.posts() {
        if post.state != PostState::Published || doc.is_deleted(&post.id) || !crate::manifest::is_post_id(&post.id) || !crate::doc::is_slug(&post.slug) {
            left_out += 1;
            continue;
        }
        if post.date > now {
            held_back.push(post.id.clone());
            continue;
        }
        let mut d = PostDoc::upgraded(&blog_id, &post)?;
        manifest.put_post(&post.id, &post.slug, post.date, post.updated, &d.heads());
        posts.insert(post.id.clone(), d);
    }
    Ok(Upgraded { manifest, posts, held_back, left_out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{BlogSettings, DocKind, Post};
    use crate::manifest::Entry;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn published_posts_move_and_withdrawn_ones_are_left_behind() {
        let settings = BlogSettings { title: "Old blog".into(), language: "en".into(), ..Default::default() };
        let (_, mut doc) = BlogDoc::create_blog("F0C89C910AD7EEA7CE6417F707AD7EB22E3B007F", &settings);
        let mut add = |title: &str, body: &str, date: &str, state: PostState| {
            let mut p = Post::new(title, body);
            p.date = at(date);
            p.state = state;
            doc.put_post(&p).unwrap();
            p.id
        };
        let kept = add("Kept", "Marmalade stays.", "2026-01-01T00:00:00Z", PostState::Published);
        let withdrawn = add("Withdrawn", "Quicksilver was a mistake.", "2026-01-02T00:00:00Z", PostState::Unpublished);
        let binned = add("Binned", "Pumpernickel.", "2026-01-03T00:00:00Z", PostState::Published);
        let tomorrow = add("Tomorrow", "Zeppelin news.", "2027-01-01T00:00:00Z", PostState::Published);
        doc.set_deleted(&binned, Some("2026-02-01T00:00:00Z")).unwrap();
        doc.commit("posts");

        let now = at("2026-06-01T00:00:00Z");
        let up = split_blog(&doc, now).unwrap();
        assert_eq!(up.posts.keys().collect::<Vec<_>>(), vec![&kept]);
        assert_eq!(up.held_back, vec![tomorrow.clone()]);
        assert_eq!(up.left_out, 2);
        assert!(!up.manifest.entries().contains_key(&withdrawn) && !up.manifest.entries().contains_key(&binned));
        let Some(Entry::Post(listing)) = up.manifest.entries().get(&kept) else { panic!("Kept is not listed") };
        assert_eq!(listing.slug, "kept");
        assert_eq!(up.posts[&kept].post(&kept, listing).body, "Marmalade stays.");
        let moved = up.manifest.site_settings().unwrap();
        assert_eq!(moved.blog.title, "Old blog");
        assert!(moved.binds(&doc.blog_id().unwrap(), "F0C89C910AD7EEA7CE6417F707AD7EB22E3B007F"), "the binding of the ID moves too");
        // Nothing that moved holds the words of what stayed behind.
        let mut bytes: Vec<u8> = up.manifest.settings.clone();
        for leaf in up.manifest.leaves() {
            bytes.extend(leaf);
        }
        for mut d in up.posts.into_values() {
            bytes.extend(d.save());
        }
        assert!(String::from_utf8_lossy(&bytes).contains("Marmalade"), "the scan sees words that moved");
        for word in ["Quicksilver", "Pumpernickel", "Zeppelin", "withdrawn", "binned", "tomorrow"] {
            assert!(!String::from_utf8_lossy(&bytes).contains(word), "{word} moved");
        }
        // Another computer upgrading the same blog makes the same manifest.
        let again = split_blog(&doc, now).unwrap();
        assert_eq!(again.manifest, up.manifest);
        // After the date, the scheduled post is due and moves too.
        assert_eq!(split_blog(&doc, at("2027-06-01T00:00:00Z")).unwrap().posts.len(), 2);
        // Drafts documents are not blogs.
        let drafts = BlogDoc::create(DocKind::Drafts, &doc.blog_id().unwrap(), "F0C89C910AD7EEA7CE6417F707AD7EB22E3B007F", &settings);
        assert!(split_blog(&drafts, now).unwrap().posts.is_empty());
    }
}
