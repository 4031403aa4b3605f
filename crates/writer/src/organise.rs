//! Organising posts: a post's address, tags and publication date (a date in the future
//! schedules it), unpublishing (a signed revision that withdraws a post from readers while
//! history keeps it), and a bin from which a deleted draft can be taken back.

use crate::profile::{Profile, ProfileError, commit_signed};
use chrono::{DateTime, FixedOffset};
use spokes_core::doc::slugify;
use spokes_core::{Post, PostState, SigningKey};

/// What [`Profile::set_post_details`] changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PostDetails {
    /// The slug (the last part of the permalink `/b/{blog}/posts/{slug}`); it is cleaned
    /// ([`slugify`]) and made unique among the blog's posts (`-2`, `-3`…). Once set by hand it
    /// no longer follows the title.
    pub slug: Option<String>,
    /// Tags, in order; blank ones and repeats are dropped, each is trimmed.
    pub tags: Option<Vec<String>>,
    /// The publication date readers see (RFC 3339). A date in the future schedules the post:
    /// it is signed and sent at the next publish, and spokes show it from that date on.
    pub date: Option<DateTime<FixedOffset>>,
}

impl Profile {
    /// Changes a draft's slug, tags or publication date, and returns the post as saved (the
    /// slug as cleaned and made unique). The published copy changes at the next publish.
    ///
    /// Errors: `NoSuchPost`.
    pub fn set_post_details(&self, id: &str, details: &PostDetails) -> Result<Post, ProfileError> {
        let slug = match &details.slug {
            Some(slug) => Some(self.free_slug(&slugify(slug), id)?),
            None => None,
        };
        self.with_draft(id, |d| {
            let mut p = d.post(id).ok_or_else(|| ProfileError::NoSuchPost(id.into()))?;
            if let Some(slug) = slug {
                p.slug = slug;
            }
            if let Some(tags) = &details.tags {
                let mut clean: Vec<String> = Vec::new();
                for t in tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
                    if !clean.iter().any(|c| c.eq_ignore_ascii_case(t)) {
                        clean.push(t.to_owned());
                    }
                }
                p.tags = clean;
            }
            if let Some(date) = details.date {
                p.date = date;
            }
            p.updated = chrono::Utc::now().fixed_offset();
            d.put_post(&p)?;
            d.commit("details");
            Ok(p)
        })
    }

    /// Withdraws post `id` from readers: a signed revision marks it unpublished, and the draft
    /// stays (marked unpublished, so publishing everything does not bring it back; publishing
    /// it by name does). Returns whether a revision was made (`false`: it was not published).
    ///
    /// Errors: `NoSuchPost`, signing errors.
    pub fn unpublish(&self, key: &mut SigningKey, id: &str) -> Result<bool, ProfileError> {
        let blog_id = self.blog_id().clone();
        self.with_draft(id, |drafts| {
            if drafts.post(id).is_none() {
                return Err(ProfileError::NoSuchPost(id.into()));
            }
            drafts.set_post_field(id, "state", PostState::Unpublished.as_str())?;
            drafts.commit("unpublish");
            Ok(())
        })?;
        let statement = self.with_blog(|blog| {
            if blog.post(id).is_none_or(|p| p.state != PostState::Published) {
                return Ok(None);
            }
            blog.set_post_field(id, "state", PostState::Unpublished.as_str())?;
            commit_signed(&blog_id, blog, key, "unpublish 1 post")
        })?;
        self.mark_published(&[(id.to_owned(), None)])?;
        let made = statement.is_some();
        if let Some(st) = statement {
            self.append_statement(st)?;
        }
        Ok(made)
    }

    /// Puts draft `id` in the bin: it leaves the post list but can be taken back with
    /// [`Profile::undo_delete`]. A published post must be unpublished first (so that deleting
    /// never changes what readers see without a signature).
    ///
    /// Errors: `NoSuchPost`, `StillPublished`.
    pub fn delete_post(&self, id: &str) -> Result<(), ProfileError> {
        let published = self.with_blog(|b| Ok(b.post(id).is_some_and(|p| p.state == PostState::Published)))?;
        if published {
            return Err(ProfileError::StillPublished(id.into()));
        }
        self.with_draft(id, |d| {
            if d.post(id).is_none() {
                return Err(ProfileError::NoSuchPost(id.into()));
            }
            d.set_deleted(id, Some(&chrono::Utc::now().to_rfc3339()))?;
            d.commit("delete");
            Ok(())
        })
    }

    /// Takes post `id` back out of the bin.
    pub fn undo_delete(&self, id: &str) -> Result<(), ProfileError> {
        self.with_draft(id, |d| {
            if d.post(id).is_none() {
                return Err(ProfileError::NoSuchPost(id.into()));
            }
            d.set_deleted(id, None)?;
            d.commit("undo delete");
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::BlogSettings;

    #[test]
    fn details_clean_the_slug_and_tags_and_a_future_date_schedules_the_post() {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::create(dir.path(), "Ada", "a long passphrase", &BlogSettings { title: "Notes".into(), ..Default::default() }).unwrap();
        let first = p.new_post("Engines", "Steam.", &[]).unwrap();
        let second = p.new_post("Other", "Words.", &[]).unwrap();
        let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).fixed_offset();
        let d = PostDetails { slug: Some("Engines!".into()), tags: Some(vec![" steam ".into(), "".into(), "Steam".into(), "history".into()]), date: Some(tomorrow) };
        let saved = p.set_post_details(&second.id, &d).unwrap();
        assert_eq!(saved.slug, "engines-2", "cleaned, and not the first post's");
        assert_eq!(saved.tags, vec!["steam", "history"]);
        assert_eq!(saved.date, tomorrow);
        assert_eq!(p.draft(&first.id).unwrap().unwrap().slug, "engines");
        // A hand-set slug no longer follows the title.
        p.edit_post(&second.id, Some("Renamed"), &[], None).unwrap();
        assert_eq!(p.draft(&second.id).unwrap().unwrap().slug, "engines-2");
        // Published as scheduled: the signed copy carries the date.
        let mut key = p.unlock("a long passphrase").unwrap();
        p.publish_local(&mut key, Some(std::slice::from_ref(&second.id))).unwrap();
        let published = p.with_blog(|b| Ok(b.post(&second.id))).unwrap().unwrap();
        assert_eq!((published.date, published.state), (tomorrow, PostState::Published));
        assert!(matches!(p.set_post_details("nope", &PostDetails::default()), Err(ProfileError::NoSuchPost(_))));
    }

    #[test]
    fn unpublish_withdraws_a_post_with_a_signature_and_publish_all_leaves_it_out() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Profile::create(tmp.path(), "Ada", "pw", &BlogSettings::default()).unwrap();
        let mut key = p.unlock("pw").unwrap();
        let post = p.new_post("Out there", "Words.", &[]).unwrap();
        p.publish_local(&mut key, None).unwrap();
        let statements = p.statements().unwrap().len();
        assert!(p.unpublish(&mut key, &post.id).unwrap());
        assert_eq!(p.statements().unwrap().len(), statements + 1, "a signed revision");
        assert_eq!(p.blog().unwrap().post(&post.id).unwrap().state, PostState::Unpublished);
        let s = p.posts().unwrap().into_iter().find(|s| s.post.id == post.id).unwrap();
        assert!(!s.published);
        assert_eq!(s.post.state, PostState::Unpublished);
        assert_eq!(p.publish_local(&mut key, None).unwrap(), (0, false), "publishing everything leaves it out");
        assert!(!p.unpublish(&mut key, &post.id).unwrap(), "nothing to withdraw twice");
        p.publish_local(&mut key, Some(std::slice::from_ref(&post.id))).unwrap();
        assert_eq!(p.blog().unwrap().post(&post.id).unwrap().state, PostState::Published, "by name it comes back");
        assert_ne!(p.posts().unwrap().into_iter().find(|s| s.post.id == post.id).unwrap().post.state, PostState::Unpublished);
        p.verify().unwrap();
    }

    #[test]
    fn a_deleted_draft_leaves_the_list_and_comes_back_with_undo() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Profile::create(tmp.path(), "Ada", "pw", &BlogSettings::default()).unwrap();
        let mut key = p.unlock("pw").unwrap();
        let draft = p.new_post("Draft", "x", &[]).unwrap();
        let live = p.new_post("Live", "y", &[]).unwrap();
        p.publish_local(&mut key, Some(std::slice::from_ref(&live.id))).unwrap();
        assert!(matches!(p.delete_post(&live.id), Err(ProfileError::StillPublished(_))));
        p.delete_post(&draft.id).unwrap();
        let ids: Vec<String> = p.posts().unwrap().into_iter().map(|s| s.post.id).collect();
        assert_eq!(ids, vec![live.id.clone()]);
        assert_eq!(p.publish_local(&mut key, None).unwrap().0, 0, "a deleted draft is not published");
        p.undo_delete(&draft.id).unwrap();
        assert_eq!(p.posts().unwrap().len(), 2);
        assert!(matches!(p.delete_post("nope"), Err(ProfileError::NoSuchPost(_))));
    }
}
