//! What the published set brought from the writer's other computers (`set/received.json`).
//!
//! On a blog kept as a set of documents, another computer's publishes arrive as manifests and
//! are folded into this computer's blog document under this computer's own signature
//! ([`Profile::fold_set`]). So that a computer declared lost can still have its work listed
//! and taken back ([`Profile::device_publishes`], [`Profile::device_lost`]), each fold records
//! here, per key whose manifests carried a change, the posts it changed and the blog
//! document's heads before and after the fold.
//!
//! `set/received.json`: `{"version": 1, "entries": [Received, ...]}`, oldest first, at most
//! [`MAX_RECEIVED`] entries (the oldest are dropped first). A missing file is an empty log; an
//! unreadable one is an error (the log is what a lost computer's work is found by).

use crate::profile::{Profile, ProfileError, commit_signed};
use automerge::ChangeHash;
use serde::{Deserialize, Serialize};

/// The file of the log.
const RECEIVED: &str = "set/received.json";

/// The version of `set/received.json` this build reads and writes.
const RECEIVED_VERSION: u32 = 1;

/// Most entries the log keeps.
pub const MAX_RECEIVED: usize = 10_000;

/// One fold's changes that one key's manifests carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// The signing key's fingerprint (uppercase hex).
    pub signer: String,
    /// The date its manifest's signature carries, seconds since the Unix epoch (written by
    /// the signer).
    pub signed_at: i64,
    /// The blog document's heads before the fold (lowercase hex).
    pub before: Vec<String>,
    /// The blog document's heads after the fold (lowercase hex).
    pub after: Vec<String>,
    /// The posts it changed (published, edited or taken down).
    pub posts: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct ReceivedFile {
    version: u32,
    entries: Vec<Received>,
}

/// Whether two versions of a post have the same words (title, body, tags, slug).
pub(crate) fn same_words(a: &spokes_core::Post, b: &spokes_core::Post) -> bool {
    a.title == b.title && a.body == b.body && a.tags == b.tags && a.slug == b.slug
}

fn heads(hex: &[String]) -> Vec<ChangeHash> {
    hex.iter().filter_map(|h| h.parse().ok()).collect()
}

/// The log entries of one fold (or replayed revision) that changed `changed` in the blog
/// document from heads `before` to `after`: per key whose manifest among `signers` carries a
/// changed post's leaf as `merged` lists it (and its signature's date), the posts it brought.
/// A post that `own`'s manifest (this computer's key, uppercase) also carries is left out:
/// this computer vouches for it itself.
pub(crate) fn entries_by_signer<'a>(changed: &[String], signers: impl Iterator<Item = &'a spokes_sync::set::SignedManifest> + Clone, merged: &spokes_core::manifest::Manifest, own: Option<&str>, before: &[ChangeHash], after: &[ChangeHash]) -> Vec<Received> {
    let hex = |hs: &[ChangeHash]| hs.iter().map(ToString::to_string).collect::<Vec<_>>();
    let mut by_signer: std::collections::BTreeMap<(String, i64), Vec<String>> = Default::default();
    for id in changed {
        let carriers: Vec<(String, i64)> = signers.clone().filter(|m| m.manifest.leaf(id) == merged.leaf(id)).filter_map(|m| Some((m.signed.issuer()?, spokes_core::statement::signature_time(&m.signed.signature).unwrap_or(0)))).collect();
        if carriers.iter().any(|(fp, _)| Some(fp.as_str()) == own) {
            continue;
        }
        for c in carriers {
            by_signer.entry(c).or_default().push(id.clone());
        }
    }
    by_signer.into_iter().map(|((signer, signed_at), posts)| Received { signer, signed_at, before: hex(before), after: hex(after), posts }).collect()
}

/// Builds `blog` (a new blog document) from a set as a computer restoring it receives it: the
/// oldest manifest held (the recent ones, then the frontier's merge) as the starting point,
/// then each later one as one commit of the posts it changed, with their words as that
/// manifest lists them (the post documents keep their history). Returns the log entries of
/// those commits, so that a computer declared lost after the restore still has its last
/// publishes listed and can have them taken back (the starting point is not listed: what
/// came before it is not known here). Posts whose documents are not at hand (forgotten since)
/// are left out.
///
/// Errors: [`ProfileError`] from writing to the document.
pub(crate) fn replay_set(blog: &mut spokes_core::BlogDoc, replica: &spokes_sync::set::SetReplica) -> Result<Vec<Received>, ProfileError> {
    use spokes_core::manifest::{Entry, Manifest};
    use spokes_sync::set::SignedManifest;
    // Oldest first: the recent manifests by rev, then the frontier merged.
    let mut steps: Vec<(Manifest, Vec<&SignedManifest>)> = replica.recent.iter().map(|m| (m.manifest.clone(), vec![m])).collect();
    steps.sort_by_key(|(m, _)| m.rev);
    if let Some(merged) = replica.merged() {
        steps.retain(|(m, _)| m.rev < merged.rev);
        steps.push((merged, replica.frontier.iter().collect()));
    }
    let mut log = Vec::new();
    let mut prev: Option<Manifest> = None;
    for (m, signers) in steps {
        let ids: Vec<String> = match &prev {
            None => m.entries().keys().cloned().collect(),
            Some(p) => m.changed_since(p).into_iter().collect(),
        };
        let before = blog.heads();
        let mut changed = Vec::new();
        for id in &ids {
            match m.entries().get(id) {
                Some(Entry::Post(l)) => {
                    if let Some(d) = replica.posts.get(id) {
                        blog.put_post(&d.post(id, l))?;
                        changed.push(id.clone());
                    }
                }
                Some(Entry::Gone { .. }) => {
                    if let Some(mut p) = blog.post(id).filter(|p| p.state == spokes_core::PostState::Published) {
                        p.state = spokes_core::PostState::Unpublished;
                        blog.put_post(&p)?;
                        changed.push(id.clone());
                    }
                }
                None => {}
            }
        }
        if changed.is_empty() {
            prev = Some(m);
            continue;
        }
        blog.commit(&format!("restored: revision {} of the published set", m.rev));
        if prev.is_some() {
            log.extend(entries_by_signer(&changed, signers.into_iter(), &m, None, &before, &blog.heads()));
        }
        prev = Some(m);
    }
    Ok(log)
}

impl Profile {
    /// The log, oldest first. Errors: `Damaged` when the file is unreadable, `NewerVersion`.
    pub fn received(&self) -> Result<Vec<Received>, ProfileError> {
        let path = self.path(RECEIVED);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(ProfileError::Io { path, source }),
        };
        let file: ReceivedFile = serde_json::from_slice(&bytes).map_err(|e| ProfileError::Damaged { path: path.clone(), message: e.to_string() })?;
        if file.version > RECEIVED_VERSION {
            return Err(ProfileError::NewerVersion(file.version));
        }
        Ok(file.entries)
    }

    /// Appends `entries` to the log (dropping the oldest past [`MAX_RECEIVED`]).
    pub(crate) fn append_received(&self, entries: Vec<Received>) -> Result<(), ProfileError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut all = self.received()?;
        all.extend(entries);
        let drop = all.len().saturating_sub(MAX_RECEIVED);
        all.drain(..drop);
        self.write(RECEIVED, &serde_json::to_vec(&ReceivedFile { version: RECEIVED_VERSION, entries: all }).unwrap_or_default())
    }

    /// Takes back what the key `fingerprint` brought through the set after its `keep`-th
    /// entry in the log (counted among that key's entries; `None`: all of it), newest first:
    /// each post it changed goes back to what it was before, unless this or another trusted
    /// computer changed it since (their change vouches for it now). A post that did not exist
    /// before is deleted. One revision signed with `key`. Returns (entries taken back, posts
    /// changed). No network: the next publish sends the result.
    pub(crate) fn take_back_received(&self, fingerprint: &str, keep: Option<usize>, key: &mut spokes_core::SigningKey) -> Result<(usize, usize), ProfileError> {
        let theirs: Vec<Received> = self.received()?.into_iter().filter(|r| r.signer == fingerprint).collect();
        let from = keep.map_or(0, |k| k + 1);
        let taken: Vec<&Received> = theirs.iter().skip(from).collect();
        if taken.is_empty() {
            return Ok((0, 0));
        }
        let blog_id = self.blog_id().clone();
        let mut drafts_back = Vec::new();
        let (n, statement) = self.with_blog(|blog| {
            let mut n = 0;
            for r in taken.iter().rev() {
                let (before, after) = (heads(&r.before), heads(&r.after));
                for id in &r.posts {
                    let now = blog.post(id);
                    let wrote = blog.post_at(id, &after);
                    // Changed since by someone else: left as it is.
                    let same = match (&now, &wrote) {
                        (Some(p), Some(w)) => same_words(p, w) && p.state == w.state && p.date == w.date,
                        (None, None) => true,
                        _ => false,
                    };
                    if !same {
                        continue;
                    }
                    let old = blog.post_at(id, &before);
                    match &old {
                        Some(old) => blog.put_post(old)?,
                        None if now.is_some() => blog.delete_post(id)?,
                        None => continue,
                    }
                    if let Some(w) = wrote {
                        drafts_back.push((id.clone(), old, w));
                    }
                    n += 1;
                }
            }
            let st = if n > 0 { commit_signed(&blog_id, blog, key, &format!("take back {n} posts a lost computer published"))? } else { None };
            Ok((n, st))
        })?;
        // The draft the set brought with it goes back too (else the next publish of every
        // changed draft would send it again).
        for (id, old, wrote) in &drafts_back {
            if self.draft(id)?.is_some_and(|d| same_words(&d, wrote)) {
                self.with_draft(id, |drafts| {
                    match old {
                        Some(old) => {
                            let state = drafts.post(id).map(|d| d.state).unwrap_or(old.state);
                            drafts.put_post(&spokes_core::Post { state, ..old.clone() })?
                        }
                        None => drafts.delete_post(id)?,
                    }
                    drafts.commit("take back a post a lost computer published");
                    Ok(())
                })?;
            }
        }
        let ids: Vec<String> = drafts_back.iter().map(|(id, _, _)| id.clone()).collect();
        self.refresh_published(Some(&ids))?;
        if let Some(st) = statement {
            self.append_statement(st)?;
        }
        Ok((taken.len(), n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::BlogSettings;

    /// The log keeps the newest entries up to its bound, and a damaged or newer file is an
    /// error, never an empty log (it is how a lost computer's work is found).
    #[test]
    fn the_log_is_bounded_and_refuses_what_it_cannot_read() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Profile::create(tmp.path(), "Ada", "pw", &BlogSettings { title: "Notes".into(), ..Default::default() }).unwrap();
        assert!(p.received().unwrap().is_empty());
        std::fs::create_dir_all(p.path("set")).unwrap();
        let entry = |i: usize| Received { signer: "AB".into(), signed_at: i as i64, before: vec![], after: vec![], posts: vec![format!("{i:016x}")] };
        p.append_received((0..MAX_RECEIVED + 5).map(entry).collect()).unwrap();
        let log = p.received().unwrap();
        assert_eq!(log.len(), MAX_RECEIVED);
        assert_eq!(log[0].signed_at, 5, "the oldest are dropped first");
        std::fs::write(p.path(RECEIVED), b"{\"version\": 1, \"entries\": [").unwrap();
        assert!(matches!(p.received(), Err(ProfileError::Damaged { .. })));
        std::fs::write(p.path(RECEIVED), b"{\"version\": 2, \"entries\": []}").unwrap();
        assert!(matches!(p.received(), Err(ProfileError::NewerVersion(2))));
    }
}
