//! Blogs kept as a set of documents (`spokes/sync/2`, docs/formats.md "Signed manifest"):
//! loading what is stored, admission, storing what a session brought, forgetting (a post
//! whose leaf says `gone` loses its document, its search entries and the pictures only it
//! showed, in the same commit), and the readers' view.
//!
//! A blog stored in format 1 moves to format 2 when its first manifest arrives: its version 1
//! document and statements are deleted then (they would keep the words of every post ever
//! published). Version 1 sessions for a blog in format 2 are refused with
//! `unsupported-version`, so an old app cannot bring those words back.

use super::*;
use spokes_core::postdoc::PostDoc;
use std::collections::BTreeSet;
use spokes_core::Certificate;
use spokes_sync::set::{SetOutcome, SetReplica, SignedManifest, VerifiedSet};

/// A set blog's verified manifests as stored.
#[derive(Debug)]
pub(crate) struct HeldManifests {
    frontier: Vec<SignedManifest>,
    recent: Vec<SignedManifest>,
    /// The manifest the others are stored against.
    anchor: Option<SignedManifest>,
}

/// [`HeldManifests`] shared between sessions.
pub(crate) type CachedManifests = std::sync::Arc<HeldManifests>;

/// Opens a set blog's stored manifests against `cert`: the anchor first, then the others
/// (rebuilt on it when stored as differences). A frontier manifest a key since declared lost
/// signed is left out (it no longer counts); a superseded one that no longer verifies is only
/// a base for differences and is left out too. Errors as `ManifestError`, for the anchor or a
/// frontier manifest.
fn open_stored(stored: store::StoredManifests, cert: &Certificate, blog_id: &BlogId) -> Result<HeldManifests, spokes_core::manifest::ManifestError> {
    // The anchor is the one stored whole that the differences name.
    let named: Option<String> = stored.frontier.iter().chain(&stored.recent).find_map(|m| m.base.clone());
    let anchor = match (&named, &stored.anchor) {
        (None, _) => None,
        (Some(_), Some(a)) => Some(a.open_as_base(blog_id)?),
        (Some(h), None) => {
            let whole = stored.frontier.iter().chain(&stored.recent).filter(|m| m.base.is_none());
            let mut found = None;
            for m in whole {
                let opened = m.open_as_base(blog_id)?;
                if hex::encode(opened.hash()) == *h {
                    found = Some(opened);
                    break;
                }
            }
            Some(found.ok_or_else(|| spokes_core::manifest::ManifestError::Malformed(format!("stored as differences from manifest {h}, which is not stored")))?)
        }
    };
    let frontier = stored.frontier.iter().filter_map(|m| m.open_on_unless_lost(cert, blog_id, anchor.as_ref()).transpose()).collect::<Result<Vec<SignedManifest>, _>>()?;
    let recent: Vec<SignedManifest> = stored.recent.iter().filter_map(|m| m.open_on(cert, blog_id, anchor.as_ref()).ok()).collect();
    Ok(HeldManifests { frontier, recent, anchor })
}

impl Inner {
    fn cache_manifests(&self, blog_id: &BlogId, frontier: &[SignedManifest], recent: &[SignedManifest], anchor: Option<SignedManifest>) {
        let mut cache = self.manifests.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= DOC_CACHE_BLOGS
            && !cache.contains_key(blog_id)
            && let Some(k) = cache.keys().next().cloned()
        {
            cache.remove(&k);
        }
        cache.insert(blog_id.clone(), std::sync::Arc::new(HeldManifests { frontier: frontier.to_vec(), recent: recent.to_vec(), anchor }));
    }

    /// The stored set replica of `blog_id` (its manifests; post documents are loaded on
    /// demand), `None` when the blog is not held here. A blog still in format 1 gives an empty
    /// replica with its certificate: its first manifest upgrades it.
    pub(crate) fn load_set(&self, blog_id: &BlogId) -> Result<Option<SetReplica>, RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        let Some(b) = self.store.blog(blog_id).map_err(|e| internal(&e))? else { return Ok(None) };
        if b.status != BlogStatus::Active {
            return Err(RemoteError::new(Code::Suspended, "this blog is suspended on this spoke"));
        }
        let cached = self.manifests.lock().unwrap_or_else(|p| p.into_inner()).get(blog_id).cloned();
        if let Some(c) = cached.filter(|_| b.format == 2) {
            return Ok(Some(SetReplica { blog_id: blog_id.clone(), certificate: Some(b.certificate), frontier: c.frontier.clone(), recent: c.recent.clone(), posts: Default::default(), rejected: None }));
        }
        let stored = self.store.set_manifests(blog_id).map_err(|e| internal(&e))?;
        let HeldManifests { frontier, recent, anchor } = open_stored(stored, &b.certificate, blog_id).map_err(|e| internal(&format!("a stored manifest does not verify: {e}")))?;
        if b.format == 2 {
            self.cache_manifests(blog_id, &frontier, &recent, anchor);
        }
        Ok(Some(SetReplica { blog_id: blog_id.clone(), certificate: Some(b.certificate), frontier, recent, posts: Default::default(), rejected: None }))
    }

    /// Post `id`'s stored document of a set blog (from the document cache while the store
    /// holds the bytes it was kept for).
    pub(crate) fn load_post_doc(&self, blog_id: &BlogId, id: &str) -> Option<PostDoc> {
        let bytes = self.store.set_post(blog_id, id).ok()??;
        let hash: [u8; 32] = blake3::hash(&bytes).into();
        let key = (blog_id.clone(), id.to_owned());
        if let Some((_, d)) = self.post_docs.lock().unwrap_or_else(|p| p.into_inner()).get(&key).filter(|(h, _)| *h == hash) {
            return Some(d.clone());
        }
        // Bytes a session charged to its expansion budget before they were stored.
        match PostDoc::load_checked(&bytes, blog_id, id) {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::error!(blog = %blog_id, post = id, "a stored post document is unreadable: {e}");
                None
            }
        }
    }

    /// Stores a verified session's result (see the module docs) and installs the new view.
    pub(crate) fn persist_set(&self, peer: &str, admission: Admission<'_>, replica: &mut SetReplica, outcome: &SetOutcome) -> Result<(), RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        #[cfg(feature = "dishonest")]
        if self.tamper.is_some() {
            return Ok(());
        }
        let _guard = self.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
        let cert = replica.certificate.clone().ok_or_else(|| RemoteError::new(Code::WrongCertificate, "no certificate"))?;
        let stored = self.store.blog(&replica.blog_id).map_err(|e| internal(&e))?;
        if replica.frontier.is_empty() {
            return Err(RemoteError::new(Code::NotHosted, "this spoke takes a blog only together with its signed manifest"));
        }
        let nothing_new = !outcome.frontier_changed && outcome.changed_posts.is_empty() && outcome.forgotten.is_empty() && !outcome.certificate_changed;
        if stored.as_ref().is_some_and(|b| b.format == 2) && nothing_new {
            return Ok(());
        }
        let hosted = match &stored {
            Some(b) => b.kind == BlogKind::Hosted,
            None => !matches!(admission, Admission::Mirror),
        };
        let merged = replica.merged();
        let live = merged.as_ref().map_or(0, |m| m.posts().count());
        let a = &self.config.admission;
        if a.max_posts > 0 && live as u64 > a.max_posts {
            return Err(RemoteError::new(Code::Quota, format!("this blog would have {live} published posts here; this spoke allows {} per blog", a.max_posts)));
        }
        let changed: Vec<(String, Vec<u8>)> = outcome.changed_posts.iter().filter_map(|id| replica.posts.get_mut(id).map(|d| (id.clone(), d.save()))).collect();
        let replaced: Vec<&str> = changed.iter().map(|(id, _)| id.as_str()).collect();
        let held = self.store.set_bytes(&replica.blog_id, &replaced).map_err(|e| internal(&e))?.max(0) as u64;
        let bytes = held + changed.iter().map(|(_, b)| b.len() as u64).sum::<u64>();
        if a.max_bytes > 0 && bytes > a.max_bytes {
            return Err(RemoteError::new(Code::Quota, format!("this blog would take {bytes} bytes here; this spoke allows {} per blog", a.max_bytes)));
        }
        if hosted && outcome.new_manifests > 0 && matches!(admission, Admission::Writer(_)) && !self.rate_exempt(peer, &replica.blog_id) {
            self.rates.publish(&replica.blog_id)?;
        }
        if stored.is_none() {
            // A council copy is kept only where the placement puts it, now that the writer's
            // signed settings say which spokes the writer chose.
            if matches!(admission, Admission::Mirror) {
                let listed: HashSet<String> = merged.as_ref().and_then(|m| serde_json::from_slice::<spokes_core::manifest::SiteSettings>(&m.settings).ok()).map(|s| s.spokes.into_iter().map(|r| r.endpoint).collect()).unwrap_or_default();
                if !self.takes_copy(&replica.blog_id, &listed) {
                    return Err(RemoteError::new(Code::NotHosted, "this spoke is not one of the council members placed to hold a copy of this blog"));
                }
            }
            self.admit_new(admission, &replica.blog_id, &cert)?;
        }
        // The view is built (and verified) before anything is written: the pictures it shows
        // are the ones kept.
        let blog_id = replica.blog_id.clone();
        let taken = std::mem::replace(replica, SetReplica::new(blog_id.clone(), None));
        let changed_views: std::collections::BTreeSet<String> = outcome.changed_posts.union(&outcome.changed_leaves).cloned().collect();
        let previous = self.views.read().unwrap_or_else(|p| p.into_inner()).get(&blog_id).cloned();
        // A blog that was in format 1 has a view of its old document, and one that did not
        // verify at the last start has none: built whole instead, every document checked.
        let previous = previous.filter(|p| p.verified() && stored.as_ref().is_some_and(|b| b.format == 2));
        let checked = match &previous {
            Some(_) => VerifiedSet::verify_after_session(taken, &outcome.changed_posts, &mut |id: &str| self.load_post_doc(&blog_id, id)),
            None => VerifiedSet::verify(taken, &mut |id: &str| self.load_post_doc(&blog_id, id)),
        };
        let mut verified = match checked {
            Ok(v) => v,
            Err(failed) => {
                let (back, e) = *failed;
                *replica = back;
                return Err(e);
            }
        };
        let mut view = BlogView::of_set_changes(&mut verified, previous.as_deref(), &changed_views, &mut |id: &str| self.load_post_doc(&blog_id, id));
        view.hosted = hosted;
        *replica = verified.into_replica();
        let forgotten: Vec<String> = outcome.forgotten.iter().cloned().collect();
        // The listings of the posts this view rendered (all of them when it was built whole),
        // for the next start.
        let listings: Vec<(String, Vec<u8>)> = view.posts.iter().filter(|p| previous.is_none() || changed_views.contains(&p.id)).filter_map(|p| Some((p.id.clone(), listing::encode(p)?))).collect();
        // The anchor the manifests are stored against: the one in use while it serves the
        // newest manifest and no post was forgotten (an old anchor would keep a forgotten
        // post's leaf), else the newest, stored whole.
        let held_anchor = self.manifests.lock().unwrap_or_else(|p| p.into_inner()).get(&blog_id).and_then(|c| c.anchor.clone());
        let keep = forgotten.is_empty() && stored.as_ref().is_some_and(|b| b.format == 2);
        let anchor = spokes_sync::set::choose_anchor(held_anchor, &replica.frontier, keep);
        let write = store::SetWrite { frontier: &replica.frontier, recent: &replica.recent, anchor: anchor.as_ref(), changed: &changed, forgotten: &forgotten, keep_images: Some(&view.images), listings: &listings };
        let saved = self.store.save_set(&blog_id, &cert, write);
        if saved.is_ok() {
            self.cache_manifests(&blog_id, &replica.frontier, &replica.recent, anchor);
        } else {
            self.manifests.lock().unwrap_or_else(|p| p.into_inner()).remove(&blog_id);
        }
        saved.map_err(|e| internal(&e))?;
        // The posts a publish changed are the ones readers ask for next, and the index reads
        // them within the second: their bodies are rendered now, while their documents are
        // at hand (not for a whole blog arriving at once).
        if outcome.changed_posts.len() <= serving::WARM_BODIES {
            for p in view.posts.iter().filter(|p| outcome.changed_posts.contains(&p.id)) {
                if let Some(markdown) = replica.posts.get(&p.id).and_then(|d| p.markdown_of(d)) {
                    self.keep_body(&blog_id, p, &markdown);
                }
            }
            // And the next publish of those posts finds their documents loaded.
            let mut docs = self.post_docs.lock().unwrap_or_else(|p| p.into_inner());
            for (id, bytes) in &changed {
                if let Some(d) = replica.posts.get(id) {
                    docs.put((blog_id.clone(), id.clone()), (blake3::hash(bytes).into(), d.clone()), bytes.len());
                }
            }
        }
        if let Some(prev) = previous.as_deref().filter(|_| !outcome.forgotten.is_empty()) {
            self.forget_cached(&blog_id, prev.posts.iter().filter(|p| outcome.forgotten.contains(&p.id)).map(|p| p.as_ref()));
        }
        // The version 1 document, if this was the upgrade, is gone from the cache too.
        self.docs.lock().unwrap_or_else(|p| p.into_inner()).remove(&blog_id);
        // A blog new here has no words to purge: the indexer takes it in the background.
        let upgraded = stored.as_ref().is_some_and(|b| b.format != 2);
        self.publish_view(&blog_id, view);
        if upgraded || !outcome.forgotten.is_empty() {
            // Forgetting happens within the session: the search index lets go of the words now
            // (its commit purges them from the disk), not at the indexer's next pass. The view
            // is read back from what readers are shown, under the index's lock, so a pass of
            // the indexer that was waiting cannot index the old view after this.
            let purged = self.search.refresh(&blog_id, self).and_then(|_| self.search.commit());
            if let Err(e) = purged {
                tracing::error!(blog = %blog_id, "cannot purge removed posts from the search index: {e}");
            }
        }
        drop(_guard);
        if stored.is_none() {
            self.update_gauges();
        }
        if outcome.new_manifests > 0 || !outcome.changed_posts.is_empty() {
            // To the blog's other spokes, as version 1 does (promise 4).
            let _ = self.replicate.send((blog_id, Some(peer.to_owned())));
        }
        Ok(())
    }

    /// Rebuilds the view of a set blog from the store (at start, and when its kind changes):
    /// the frontier's manifests are checked again; each live post is taken from its stored
    /// listing when the listing is sound and lists the heads the manifests list (its document
    /// was checked when it arrived), and every other one is loaded, checked and rendered from
    /// its document (on every core), and its listing stored for the next start.
    pub(crate) fn refresh_set_view(&self, blog_id: &BlogId) {
        let mut replica = match self.load_set(blog_id) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                tracing::error!("cannot load blog {blog_id}: {e}");
                return;
            }
        };
        let hosted = self.store.kind(blog_id).ok().flatten().is_none_or(|k| k == BlogKind::Hosted);
        let live: std::collections::BTreeMap<String, Vec<automerge::ChangeHash>> =
            replica.merged().map(|m| m.posts().map(|(id, l)| (id.clone(), l.heads.clone())).collect()).unwrap_or_default();
        let mut listed = Vec::new();
        for (id, bytes) in self.store.set_listings(blog_id).unwrap_or_default() {
            match listing::decode(&bytes) {
                Ok(p) if p.id == id && live.get(&id) == Some(&p.heads) => listed.push(p),
                Ok(_) => {}
                Err(e) => tracing::warn!(blog = %blog_id, post = id, "rendering the post again: {e}"),
            }
        }
        let have: BTreeSet<&str> = listed.iter().map(|p| p.id.as_str()).collect();
        let missing: BTreeSet<String> = live.keys().filter(|id| !have.contains(id.as_str())).cloned().collect();
        // The documents to render, at once on every core; one that does not load is left to
        // the loader below, which says which.
        if !missing.is_empty() {
            let stored: Vec<(String, Vec<u8>)> = missing.iter().filter_map(|id| Some((id.clone(), self.store.set_post(blog_id, id).ok()??))).collect();
            let saved: Vec<(&str, &[u8])> = stored.iter().map(|(id, b)| (id.as_str(), b.as_slice())).collect();
            if let Ok(posts) = spokes_sync::set::load_checked_posts(blog_id, &saved) {
                replica.posts.extend(posts);
            }
        }
        let mut view = match VerifiedSet::verify_after_session(replica, &missing, &mut |id: &str| self.load_post_doc(blog_id, id)) {
            Ok(v) => {
                let view = BlogView::of_set_listed(&v, listed);
                let listings: Vec<(String, Vec<u8>)> = view.posts.iter().filter(|p| missing.contains(&p.id)).filter_map(|p| Some((p.id.clone(), listing::encode(p)?))).collect();
                if let Err(e) = self.store.put_set_listings(blog_id, &listings) {
                    tracing::warn!(blog = %blog_id, "cannot store the posts' listings: {e}");
                }
                view
            }
            Err(failed) => {
                let (r, e) = *failed;
                tracing::error!("blog {blog_id} does not verify: {e}");
                BlogView::failed_set(blog_id, r.certificate.as_ref(), &e.to_string())
            }
        };
        view.hosted = hosted;
        self.publish_view(blog_id, view);
    }

    /// The verification bundle of a set blog (version 2).
    pub(crate) fn set_bundle(&self, blog_id: &BlogId) -> Option<view::SetBundle> {
        let replica = self.load_set(blog_id).ok()??;
        let v = VerifiedSet::verify(replica, &mut |id: &str| self.load_post_doc(blog_id, id)).ok()?;
        let mut documents = std::collections::BTreeMap::new();
        if let Some(m) = v.merged() {
            for (id, _) in m.posts() {
                if let Ok(Some(bytes)) = self.store.set_post(blog_id, id) {
                    documents.insert(id.clone(), bytes);
                }
            }
        }
        Some(view::SetBundle::of(&v, &documents))
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::manifest::{Manifest, SiteSettings};
    use spokes_core::{BlogSettings, Identity};

    fn date(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
        chrono::DateTime::parse_from_rfc3339(s).unwrap()
    }

    /// A publish of one post stores one leaf per manifest: the manifests are rows of
    /// differences from an anchor stored whole, read back to the same verified manifests.
    /// The anchor is replaced by the newest once it has moved far from it, and whenever a post
    /// is forgotten, so that no old anchor keeps a forgotten post's leaf.
    #[test]
    fn manifests_are_stored_as_differences_from_an_anchor_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::Store::open(&dir.path().join("spoke.db")).unwrap();
        let id = Identity::generate("Ada", "pw").unwrap();
        let mut key = id.unlock("pw").unwrap();
        let cert = id.certificate();
        let (blog, salt) = BlogId::bound_to(&id.fingerprint());
        assert!(store.admit_open(&blog, &cert).unwrap());
        let settings = SiteSettings { blog: BlogSettings { title: "Notes".into(), ..Default::default() }, spokes: vec![], owner: id.fingerprint(), blog_id_salt: salt };
        let mut m = Manifest::new(blog.clone(), &settings).next_revision();
        m.settings_rev = m.rev;
        let heads = |n: u8| vec![automerge::ChangeHash([n; 32])];
        for i in 0..400u32 {
            m.put_post(&format!("{i:016x}"), &format!("post-{i}"), date("2026-01-01T00:00:00Z"), date("2026-01-01T00:00:00Z"), &heads(1));
        }
        let first = SignedManifest::sign(m, &mut key).unwrap();
        let write = |frontier: &[SignedManifest], recent: &[SignedManifest], anchor: &SignedManifest, forgotten: &[String]| {
            store.save_set(&blog, &cert, store::SetWrite { frontier, recent, anchor: Some(anchor), changed: &[], forgotten, keep_images: None, listings: &[] }).unwrap();
        };
        let rows = || {
            let db = rusqlite::Connection::open(dir.path().join("spoke.db")).unwrap();
            let mut st = db.prepare("SELECT recent, length(manifest), base IS NOT NULL FROM set_manifests ORDER BY rev").unwrap();
            st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, bool>(2)?))).unwrap().collect::<Result<Vec<_>, _>>().unwrap()
        };
        let read = || open_stored(store.set_manifests(&blog).unwrap(), &cert, &blog).unwrap();
        write(std::slice::from_ref(&first), &[], &first, &[]);
        // One edit: the new manifest is a difference of one leaf from the first, now recent.
        let mut next = first.manifest.next_revision();
        next.put_post("0000000000000000", "post-0", date("2026-01-01T00:00:00Z"), date("2026-02-01T00:00:00Z"), &heads(2));
        let second = SignedManifest::sign(next, &mut key).unwrap();
        write(std::slice::from_ref(&second), std::slice::from_ref(&first), &first, &[]);
        let r = rows();
        assert_eq!(r.len(), 2);
        assert!(!r[0].2 && r[0].0 == 1, "the first is recent and whole: {r:?}");
        assert!(r[1].2 && r[1].0 == 0 && r[1].1 < r[0].1 / 20, "the second is a small difference: {r:?}");
        let held = read();
        assert_eq!((held.frontier, held.recent), (vec![second.clone()], vec![first.clone()]));
        assert_eq!(held.anchor.map(|a| a.hash()), Some(first.hash()));
        // A third, once the first is no longer recent: the anchor is kept in its own role.
        let mut next = second.manifest.next_revision();
        next.put_post("0000000000000001", "post-1", date("2026-01-01T00:00:00Z"), date("2026-03-01T00:00:00Z"), &heads(3));
        let third = SignedManifest::sign(next, &mut key).unwrap();
        write(std::slice::from_ref(&third), std::slice::from_ref(&second), &first, &[]);
        assert_eq!(rows().iter().map(|r| r.0).collect::<Vec<_>>(), vec![2, 1, 0]);
        let held = read();
        assert_eq!((held.frontier, held.recent), (vec![third.clone()], vec![second.clone()]));
        // A post forgotten: the newest becomes the anchor and the old one is deleted; the
        // differences are written again on it.
        let mut next = third.manifest.next_revision();
        next.forget("0000000000000002");
        let fourth = SignedManifest::sign(next, &mut key).unwrap();
        write(std::slice::from_ref(&fourth), std::slice::from_ref(&third), &fourth, &["0000000000000002".to_owned()]);
        let r = rows();
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[0].2 && r[0].0 == 1 && !r[1].2 && r[1].0 == 0, "{r:?}");
        let held = read();
        assert_eq!((held.frontier, held.recent), (vec![fourth.clone()], vec![third]));
        assert_eq!(held.anchor.map(|a| a.hash()), Some(fourth.hash()));
        // A difference whose anchor is missing is an error, not a smaller blog.
        let db = rusqlite::Connection::open(dir.path().join("spoke.db")).unwrap();
        db.execute("DELETE FROM set_manifests WHERE base IS NULL", []).unwrap();
        assert!(open_stored(store.set_manifests(&blog).unwrap(), &cert, &blog).is_err());
    }
}
