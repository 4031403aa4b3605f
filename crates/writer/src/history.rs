//! A post's history: every published revision, as its signed statement names it, with when
//! and on which computer it was signed; a line diff between any two; and restoring one as the
//! current draft (publishing it then makes a new signed revision, so nothing is rewritten).

use crate::profile::{Profile, ProfileError};
use serde::Serialize;
use spokes_core::{Post, PostState};
use std::str::FromStr;

/// One published revision of a post.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    /// The heads its statement names (lowercase hex): they identify the revision.
    pub heads: Vec<String>,
    /// When it was signed, seconds since the Unix epoch.
    pub signed_at: i64,
    /// The signing key's fingerprint.
    pub device_key: String,
    /// The computer's name, from the certificate, if it has one.
    pub device: Option<String>,
    /// The post as it was then.
    pub post: Post,
}

/// One run of a line diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffPart {
    /// `same`, `added` or `removed`.
    pub kind: &'static str,
    /// The lines, each ending in `\n` except perhaps the last.
    pub text: String,
}

/// A line diff from `old` to `new` (Myers' algorithm, via the `similar` crate).
pub fn diff_lines(old: &str, new: &str) -> Vec<DiffPart> {
    // A last line without its newline would otherwise differ from the same line followed by
    // more text; both sides are compared as if they ended in one.
    let ended = |t: &str| if t.is_empty() || t.ends_with('\n') { t.to_owned() } else { format!("{t}\n") };
    let (old, new) = (ended(old), ended(new));
    let diff = similar::TextDiff::from_lines(&old, &new);
    let mut out: Vec<DiffPart> = Vec::new();
    for change in diff.iter_all_changes() {
        let kind = match change.tag() {
            similar::ChangeTag::Equal => "same",
            similar::ChangeTag::Insert => "added",
            similar::ChangeTag::Delete => "removed",
        };
        match out.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(change.value()),
            _ => out.push(DiffPart { kind, text: change.value().to_owned() }),
        }
    }
    out
}

impl Profile {
    /// Every published revision of post `id` in which it differs from the one before, newest
    /// first. Statements that fail verification are left out.
    pub fn post_history(&self, id: &str) -> Result<Vec<Revision>, ProfileError> {
        let cert = self.certificate()?;
        let names: std::collections::HashMap<String, Option<String>> = cert.devices().into_iter().map(|d| (d.fingerprint, d.name)).collect();
        let statements = self.statements()?;
        let mut verified: Vec<_> = statements.iter().filter_map(|s| s.verify(&cert, self.blog_id()).ok()).collect();
        verified.sort_by_key(|v| v.signed_at());
        self.with_blog(|blog| {
            let mut out: Vec<Revision> = Vec::new();
            for v in verified {
                let Some(post) = blog.post_at(id, v.heads()) else { continue };
                let same = out.last().is_some_and(|r| r.post.title == post.title && r.post.body == post.body && r.post.tags == post.tags && r.post.slug == post.slug);
                if same {
                    continue;
                }
                out.push(Revision {
                    heads: v.heads().iter().map(|h| h.to_string()).collect(),
                    signed_at: v.signed_at(),
                    device: names.get(v.signer()).cloned().flatten(),
                    device_key: v.signer().to_owned(),
                    post,
                });
            }
            out.reverse();
            Ok(out)
        })
    }

    /// Makes the revision of post `id` at `heads` the current draft (title, text, tags and
    /// slug; its date stays). Publish to sign it as a new revision.
    ///
    /// Errors: `NoSuchPost` if the post did not exist at those heads, `Damaged` for heads that
    /// are not change hashes.
    pub fn restore_revision(&self, id: &str, heads: &[String]) -> Result<Post, ProfileError> {
        let heads: Vec<automerge::ChangeHash> = heads
            .iter()
            .map(|h| automerge::ChangeHash::from_str(h).map_err(|_| ProfileError::Damaged { path: "revision".into(), message: format!("{h} is not a change hash") }))
            .collect::<Result<_, _>>()?;
        let old = self.with_blog(|b| Ok(b.post_at(id, &heads)))?.ok_or_else(|| ProfileError::NoSuchPost(id.into()))?;
        if self.draft(id)?.is_none() {
            // A post the drafts lost comes back as a draft of its own.
            self.create_draft(&Post { state: PostState::Draft, ..old.clone() }, spokes_core::TextForm::Editable)?;
        }
        self.with_draft(id, |d| {
            let mut p = d.post(id).unwrap_or_else(|| old.clone());
            p.title = old.title.clone();
            p.body = old.body.clone();
            p.tags = old.tags.clone();
            p.slug = old.slug.clone();
            p.updated = chrono::Utc::now().fixed_offset();
            d.put_post(&p)?;
            d.commit("restore a published revision");
            Ok(p)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::BlogSettings;

    #[test]
    fn revisions_are_listed_diffed_and_restored_as_a_new_signed_revision() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Profile::create(tmp.path(), "Ada", "pw", &BlogSettings::default()).unwrap();
        let mut key = p.unlock("pw").unwrap();
        let mut post = p.new_post("Draft one", "First words.\nSecond line.\n", &[]).unwrap();
        p.publish_local(&mut key, None).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        post.body = "First words, improved.\nSecond line.\n".into();
        p.update_post(&post).unwrap();
        p.publish_local(&mut key, None).unwrap();
        // A publish that does not touch the post adds no revision of it.
        p.new_post("Other", "x", &[]).unwrap();
        p.publish_local(&mut key, None).unwrap();

        let h = p.post_history(&post.id).unwrap();
        assert_eq!(h.len(), 2, "{h:#?}");
        assert!(h[0].post.body.contains("improved") && !h[1].post.body.contains("improved"), "newest first");
        assert!(h[0].signed_at >= h[1].signed_at);
        assert_eq!(Some(h[0].device_key.as_str()), p.device_key());
        assert_eq!(h[0].device, Some(crate::devices::this_device_name()));

        let d = diff_lines(&h[1].post.body, &h[0].post.body);
        assert_eq!(d, vec![
            DiffPart { kind: "removed", text: "First words.\n".into() },
            DiffPart { kind: "added", text: "First words, improved.\n".into() },
            DiffPart { kind: "same", text: "Second line.\n".into() },
        ]);

        assert_eq!(diff_lines("a\nb", "a\nb\nc"), vec![DiffPart { kind: "same", text: "a\nb\n".into() }, DiffPart { kind: "added", text: "c\n".into() }]);

        let restored = p.restore_revision(&post.id, &h[1].heads).unwrap();
        assert_eq!(restored.body, "First words.\nSecond line.\n");
        p.publish_local(&mut key, None).unwrap();
        let h = p.post_history(&post.id).unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].post.body, "First words.\nSecond line.\n", "the restore is a new revision on top");
        p.verify().unwrap();
        assert!(matches!(p.restore_revision(&post.id, &["zz".into()]), Err(ProfileError::Damaged { .. })));
        assert!(matches!(p.restore_revision("nope", &h[0].heads), Err(ProfileError::NoSuchPost(_))));
    }
}
