//! The council's newest posts through the tiers (`spokes_sync::council::digest`): the digest
//! this spoke offers its downstream members, composed from the blogs it holds and the
//! digests its upstreams offered, and the views of the blogs it shows from them without
//! holding them (front page, `/api/v1/newest`, the council feed and search).
//!
//! Everything here lives in memory and is bounded by the upstreams' number times
//! [`digest::MAX_ITEMS`]: a restart starts empty and fills again with the next pulls.

use super::*;
use spokes_sync::council::digest::{self, CheckedHeader, CheckedItem, Checked, Digest};

/// What this spoke offers and shows, as last composed.
#[derive(Default)]
pub(crate) struct Composed {
    /// The digest's name ([`Digest::name_of`]) and JSON; `None` before the first compose.
    pub(crate) offered: Option<(String, Arc<Vec<u8>>)>,
    /// Views of the blogs in the digest this spoke does not hold, by blog.
    pub(crate) views: HashMap<BlogId, Arc<BlogView>>,
}

/// What this spoke took of one upstream's digest.
struct Taken {
    /// The digest's name.
    name: String,
    /// Its items that checked out.
    items: Vec<Arc<CheckedItem>>,
    /// Its headers alone that checked out.
    headers: Vec<Arc<CheckedHeader>>,
}

/// The digests taken from upstreams and what was checked of them.
#[derive(Default)]
pub(crate) struct Aggregate {
    /// Per upstream (endpoint ID): the digest it sent last.
    upstreams: HashMap<String, Taken>,
    /// Every item checked and still in use, by key: an item offered again is not checked
    /// again.
    checked: Checked,
}

impl Inner {
    /// The name of the digest this spoke holds from `upstream` ("" for none): what its hello
    /// asks with.
    pub(crate) fn digest_held_from(&self, upstream: &str) -> String {
        self.aggregate.lock().unwrap_or_else(|p| p.into_inner()).upstreams.get(upstream).map(|t| t.name.clone()).unwrap_or_default()
    }

    /// The certificate this spoke stores for a blog whose author has `fingerprint`, merged
    /// into what a digest carries so that revocations known here count.
    fn known_certificate(&self, fingerprint: &str) -> Option<spokes_core::Certificate> {
        let blog = self.views.read().unwrap_or_else(|p| p.into_inner()).values().find(|v| v.fingerprint == fingerprint).map(|v| v.blog_id.clone())?;
        self.store.blog(&blog).ok().flatten().map(|b| b.certificate)
    }

    /// Takes `upstream`'s digest: checks each item alone (refusals recorded for the operator,
    /// under the upstream's name) and keeps what checked out in place of what it sent before.
    /// Returns whether anything changed. A digest refused whole (unknown format, too many
    /// items) leaves nothing of that upstream's.
    pub(crate) fn take_digest(&self, upstream: &str, d: Digest) -> bool {
        if d.same {
            return false;
        }
        let json = serde_json::to_vec(&d).unwrap_or_default();
        let name = Digest::name_of(&json);
        let checked = self.aggregate.lock().unwrap_or_else(|p| p.into_inner()).checked.clone();
        let now = chrono::Utc::now().timestamp();
        let received = match digest::check_digest(d, &|f| self.known_certificate(f), &checked, now) {
            Ok(r) => r,
            Err(e) => {
                self.record_digest_refusal(upstream, None, &e);
                self.aggregate.lock().unwrap_or_else(|p| p.into_inner()).upstreams.remove(upstream);
                return true;
            }
        };
        for (blog, e) in &received.refused {
            self.record_digest_refusal(upstream, blog.as_ref(), e);
        }
        self.metrics.digest_items_refused.inc_by(received.refused.len() as u64);
        let mut a = self.aggregate.lock().unwrap_or_else(|p| p.into_inner());
        for c in &received.items {
            a.checked.insert(c.key(), c.clone());
        }
        a.upstreams.insert(upstream.to_owned(), Taken { name, items: received.items, headers: received.headers });
        true
    }

    fn record_digest_refusal(&self, upstream: &str, blog: Option<&BlogId>, e: &digest::DigestError) {
        tracing::warn!(upstream, blog = ?blog.map(BlogId::as_str), "refused an item of a council digest: {e}");
        let _ = self.store.record_refusal(upstream, blog, e.code(), &format!("its digest of newest posts: {e}"));
    }

    /// Forgets the digest of a spoke that is no longer an upstream (cut off, or the
    /// membership changed the choice).
    pub(crate) fn drop_digests_except(&self, upstreams: &HashSet<String>) -> bool {
        let mut a = self.aggregate.lock().unwrap_or_else(|p| p.into_inner());
        let before = a.upstreams.len();
        a.upstreams.retain(|k, _| upstreams.contains(k));
        a.upstreams.len() != before
    }

    /// This spoke's own items: the newest visible posts of the verified blogs it holds as
    /// sets of documents, each proved by a frontier manifest that lists it with the heads
    /// the view shows (a post two computers edited at once, listed by two manifests, waits
    /// until one manifest covers both).
    fn own_items(&self, checked: &Checked, now: i64) -> Vec<Arc<CheckedItem>> {
        let views: Vec<Arc<BlogView>> = self.views.read().unwrap_or_else(|p| p.into_inner()).values().filter(|v| v.verified() && !v.manifests.is_empty()).cloned().collect();
        // A view lists its posts newest first: no blog gives more than the digest holds.
        let mut newest: Vec<(&Arc<BlogView>, &view::PostView)> = views.iter().flat_map(|b| b.visible().into_iter().take(digest::MAX_ITEMS).map(move |p| (b, p))).collect();
        newest.sort_by(|a, b| b.1.date.cmp(&a.1.date).then_with(|| a.1.id.cmp(&b.1.id)));
        let mut out = Vec::new();
        for (b, p) in newest {
            if out.len() == digest::MAX_ITEMS {
                break;
            }
            let Ok(Some(replica)) = self.load_set(&b.blog_id) else { continue };
            let Some(cert) = replica.certificate.clone() else { continue };
            let listed = |m: &&spokes_sync::set::SignedManifest| matches!(m.manifest.entries().get(&p.id), Some(spokes_core::manifest::Entry::Post(l)) if l.heads == p.heads);
            let Some(m) = replica.frontier.iter().filter(listed).max_by_key(|m| m.manifest.rev) else { continue };
            let Ok(Some(document)) = self.store.set_post(&b.blog_id, &p.id) else { continue };
            if document.len() > digest::MAX_DOCUMENT_BYTES {
                continue;
            }
            let Some(item) = digest::own_item(m, &p.id, &document) else { continue };
            match digest::check_own(item, &cert, checked, now) {
                Ok(c) => out.push(c),
                // The blog's view verified: this is a fault here, not a peer's.
                Err(e) => tracing::error!(blog = %b.blog_id, post = p.id, "this spoke's own post does not check as a digest item: {e}"),
            }
        }
        out
    }

    /// This spoke's own headers alone: the newest verified manifest of each blog it holds
    /// that changed here in the last [`digest::HEADER_SECS`] (the newest [`digest::MAX_ITEMS`]).
    fn own_headers(&self, now: i64) -> Vec<Arc<CheckedHeader>> {
        let mut recent: Vec<(BlogId, i64)> = {
            let mut r = self.recently_changed.lock().unwrap_or_else(|p| p.into_inner());
            r.retain(|_, at| *at >= now - digest::HEADER_SECS);
            r.iter().map(|(b, at)| (b.clone(), *at)).collect()
        };
        recent.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_str().cmp(b.0.as_str())));
        let mut out = Vec::new();
        for (blog, _) in recent.into_iter().take(digest::MAX_ITEMS) {
            let Ok(Some(replica)) = self.load_set(&blog) else { continue };
            let Some(cert) = replica.certificate.clone() else { continue };
            let Some(m) = replica.frontier.iter().max_by_key(|m| m.manifest.rev) else { continue };
            let Some(head) = digest::own_header(m) else { continue };
            match digest::check_own_header(head, &cert, now) {
                Ok(h) => out.push(h),
                Err(digest::DigestError::Stale) => {}
                Err(e) => tracing::error!(blog = %blog, "this spoke's own manifest does not check as a digest header: {e}"),
            }
        }
        out
    }

    /// Composes the digest to offer and the views of the blogs shown from it (see
    /// [`digest::compose`]), and installs them. Blocking (reads the store, checks this
    /// spoke's new items): run off the async workers.
    pub(crate) fn compose_digest(&self) {
        let now = chrono::Utc::now().timestamp();
        let _one = self.composing.lock().unwrap_or_else(|p| p.into_inner());
        let checked = self.aggregate.lock().unwrap_or_else(|p| p.into_inner()).checked.clone();
        let own = self.own_items(&checked, now);
        let held: HashMap<BlogId, u64> = self.views.read().unwrap_or_else(|p| p.into_inner()).iter().filter(|(_, v)| v.verified()).map(|(b, v)| (b.clone(), v.rev)).collect();
        let mut candidates: Vec<digest::Candidate> = own.iter().map(|c| (c.clone(), 0)).collect();
        let mut headers: Vec<digest::HeaderCandidate> = self.own_headers(now).into_iter().map(|h| (h, 0)).collect();
        {
            let a = self.aggregate.lock().unwrap_or_else(|p| p.into_inner());
            for t in a.upstreams.values() {
                candidates.extend(t.items.iter().map(|c| (c.clone(), c.item.hops.saturating_add(1))));
                headers.extend(t.headers.iter().map(|h| (h.clone(), h.head.hops.saturating_add(1))));
            }
        }
        let composed = digest::compose(candidates, headers, &held, now);
        let (kept, d) = (&composed.items, composed.digest());
        let json = Arc::new(serde_json::to_vec(&d).unwrap_or_default());
        let name = Digest::name_of(&json);
        // Views of the blogs not held here, from the items shown.
        let mut by_blog: HashMap<&BlogId, Vec<&CheckedItem>> = HashMap::new();
        for (c, _) in kept {
            if !held.contains_key(&c.item.blog_id) {
                by_blog.entry(&c.item.blog_id).or_default().push(c.as_ref());
            }
        }
        let views: HashMap<BlogId, Arc<BlogView>> = by_blog.into_iter().filter_map(|(b, items)| view::BlogView::of_digest(&items).map(|v| (b.clone(), Arc::new(v)))).collect();
        // Keep only the checks still in use.
        {
            let mut a = self.aggregate.lock().unwrap_or_else(|p| p.into_inner());
            let in_use: HashSet<[u8; 32]> = own.iter().map(|c| c.key()).chain(a.upstreams.values().flat_map(|t| t.items.iter().map(|c| c.key()))).collect();
            a.checked.retain(|k, _| in_use.contains(k));
            for c in &own {
                a.checked.insert(c.key(), c.clone());
            }
        }
        let mut shown = self.composed.write().unwrap_or_else(|p| p.into_inner());
        // The same digest can show other blogs: one held here since is shown as held.
        if shown.offered.as_ref().is_some_and(|(n, _)| *n == name) && shown.views.len() == views.len() && views.keys().all(|b| shown.views.contains_key(b)) {
            return;
        }
        let mut touched: HashSet<BlogId> = shown.views.keys().cloned().collect();
        touched.extend(views.keys().cloned());
        self.metrics.digest_items.set(kept.len() as i64);
        *shown = Composed { offered: Some((name, json)), views };
        drop(shown);
        self.generation.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The search index follows: blogs shown from the digest in, those gone out.
        for b in touched {
            let _ = self.index_tx.send((b, None));
        }
    }

    /// The view of a blog shown from the council's digest (one this spoke does not hold).
    pub(crate) fn digest_view(&self, blog: &BlogId) -> Option<Arc<BlogView>> {
        self.composed.read().unwrap_or_else(|p| p.into_inner()).views.get(blog).cloned()
    }
}
