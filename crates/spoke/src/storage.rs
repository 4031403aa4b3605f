//! Taking in what a session brought: loading a stored replica, admission (invites, quotas,
//! rates, disk space), merging and storing the result, the document cache, and the readers'
//! views built from what is stored.

use super::*;

impl Inner {
    pub(crate) fn load_replica(&self, blog_id: &BlogId, peer: &str) -> Result<Option<(Replica, State)>, RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        let Some(b) = self.store.blog(blog_id).map_err(|e| internal(&e))? else { return Ok(None) };
        if b.status != BlogStatus::Active {
            return Err(RemoteError::new(Code::Suspended, "this blog is suspended on this spoke"));
        }
        if b.format == 2 {
            return Err(RemoteError::new(Code::UnsupportedVersion, "this blog is kept as a set of documents now (spokes/sync/2): update Spokes to publish to it"));
        }
        let doc = self.document(blog_id, &b.document).map_err(|e| internal(&e))?;
        let statements = self.store.statements(blog_id).map_err(|e| internal(&e))?;
        let state = self
            .store
            .sync_state(peer, blog_id)
            .map_err(|e| internal(&e))?
            .and_then(|s| State::decode(&s).ok())
            .unwrap_or_default();
        #[allow(unused_mut)]
        // The stored bytes load to exactly this document: a peer that has nothing gets them as
        // they are.
        let mut replica = Replica { blog_id: blog_id.clone(), doc, certificate: Some(b.certificate), statements, saved: spokes_sync::SavedDoc::known(b.document) };
        #[cfg(feature = "dishonest")]
        if let Some(t) = &self.tamper
            && !peer.is_empty()
        {
            t.apply(&mut replica);
            replica.saved = Default::default();
        }
        Ok(Some((replica, state)))
    }

    /// Whether a session `peer` opened for a blog not held here may go on: a valid invite
    /// token, open admission, or a council copy pushed to this spoke where the placement
    /// says ([`Inner::accepts_push`]), for a blog the operator has not dropped, and room on
    /// the disk. (The blog is admitted only when the session brings signed content:
    /// [`Inner::admit_new`].)
    pub(crate) fn check_new_blog(&self, peer: &str, hello: &Hello) -> Result<(), RemoteError> {
        match &hello.token {
            Some(t) if self.store.invite_valid(t).unwrap_or(false) => self.room_for_new_blog(),
            Some(_) => Err(RemoteError::new(Code::BadInvite, "this invite is unknown, used up or expired; ask the spoke's operator for a new one")),
            None if self.config.admission.mode == config::AdmissionMode::Open && !self.store.is_dropped(&hello.blog_id).unwrap_or(true) => self.room_for_new_blog(),
            None if self.accepts_push(peer, &hello.blog_id) && !self.store.is_dropped(&hello.blog_id).unwrap_or(true) => self.room_for_new_blog(),
            None => Err(RemoteError::new(Code::NotHosted, "this spoke does not host this blog")),
        }
    }

    /// Whether the data folder's disk has room for a new blog.
    pub(crate) fn room_for_new_blog(&self) -> Result<(), RemoteError> {
        let min = self.config.admission.min_free_bytes;
        match fs4::available_space(&self.data) {
            Ok(free) if free < min => Err(RemoteError::new(Code::LowDisk, "this spoke is low on disk space and takes no new blogs for now; try another spoke")),
            _ => Ok(()),
        }
    }

    /// How a session `peer` opened with `hello` may admit a blog not held here: as a council
    /// copy when it carries no invite and the placement puts a copy here
    /// ([`Inner::accepts_push`]), else as the writer's.
    pub(crate) fn admission_for<'h>(&self, peer: &str, hello: &'h Hello) -> Admission<'h> {
        // Without partial copies no session is a pushed copy: no lookup on this path.
        if hello.token.is_none() && self.config.council.copies > 0 && self.store.kind(&hello.blog_id).ok().flatten().is_none() && self.accepts_push(peer, &hello.blog_id) {
            return Admission::Mirror;
        }
        Admission::Writer(hello.token.as_deref())
    }

    /// Takes a blog not held yet, as `admission` allows.
    pub(crate) fn admit_new(&self, admission: Admission<'_>, blog_id: &BlogId, cert: &spokes_core::Certificate) -> Result<(), RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        let dropped = || RemoteError::new(Code::NotHosted, "this spoke's operator removed this blog");
        match admission {
            Admission::Writer(Some(token)) => {
                self.room_for_new_blog()?;
                if !self.store.admit(token, blog_id, cert).map_err(|e| internal(&e))? {
                    return Err(RemoteError::new(Code::BadInvite, "this invite is unknown, used up or expired; ask the spoke's operator for a new one"));
                }
            }
            Admission::Writer(None) if self.config.admission.mode == config::AdmissionMode::Open => {
                self.room_for_new_blog()?;
                if !self.store.admit_open(blog_id, cert).map_err(|e| internal(&e))? {
                    return Err(dropped());
                }
            }
            Admission::Mirror => {
                // Copies for the council keep to the same disk rules as blogs writers bring,
                // and to a number the operator chose: a member cannot fill this spoke.
                self.room_for_new_blog()?;
                let max = self.config.council.max_mirrored_blogs;
                if max > 0 && self.store.mirror_count().map_err(|e| internal(&e))? >= max {
                    return Err(RemoteError::new(Code::Quota, format!("this spoke keeps copies of at most {max} blogs of its council")));
                }
                if !self.store.add_mirror(blog_id, cert).map_err(|e| internal(&e))? {
                    return Err(dropped());
                }
            }
            Admission::Writer(None) | Admission::Replica => return Err(RemoteError::new(Code::NotHosted, "this spoke does not host this blog")),
        }
        Ok(())
    }

    /// Refuses a merged document (hosted, or a copy for the council) over the post or size quota. Posts count when
    /// published: an unpublished post stays in the document (for its history) but counts only
    /// in its size.
    pub(crate) fn check_quota(&self, doc: &automerge::AutoCommit, bytes: usize) -> Result<(), RemoteError> {
        let a = &self.config.admission;
        if a.max_bytes > 0 && bytes as u64 > a.max_bytes {
            return Err(RemoteError::new(Code::Quota, format!("this blog would take {bytes} bytes here; this spoke allows {} per blog", a.max_bytes)));
        }
        let published = spokes_core::doc::published_count(doc);
        if a.max_posts > 0 && published as u64 > a.max_posts {
            return Err(RemoteError::new(Code::Quota, format!("this blog would have {published} published posts here; this spoke allows {} per blog", a.max_posts)));
        }
        Ok(())
    }

    /// Whether `peer` is exempt from the rate quotas for `blog_id`: one of the blog's own
    /// spokes, or a council member (their sessions replicate; they are not publishing).
    /// Sessions of blogs not hosted here (council copies) are not counted either.
    pub(crate) fn rate_exempt(&self, peer: &str, blog_id: &BlogId) -> bool {
        let Some(view) = http::SpokeView::blog(self, blog_id) else { return true };
        !view.hosted || view.spokes.iter().any(|s| s.endpoint == peer) || self.membership().is_ok_and(|m| m.is_member(peer))
    }
    /// The council log, from the store. Entries are only ever added, so their count
    /// tells whether the cached membership is current (the `spoke council` commands write the
    /// database beside the running spoke).
    pub(crate) fn membership(&self) -> Result<council::Membership, RemoteError> {
        self.with_membership(council::Membership::clone)
    }

    /// `f` of the stored council log, read again only when the store holds another number of
    /// entries; without copying the log (a reader page asks for the members).
    pub(crate) fn with_membership<R>(&self, f: impl FnOnce(&council::Membership) -> R) -> Result<R, RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        let count = self.store.council_entry_count().map_err(|e| internal(&e))?;
        let mut cache = self.council.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((n, m)) = cache.as_ref()
            && *n == count
        {
            return Ok(f(m));
        }
        // Version-1 entries (a council formed before the log) are read by `admin::stored_council`.
        let entries: Vec<_> = self.store.council_entries().map_err(|e| internal(&e))?.into_iter().filter(|e| e.format().is_some()).collect();
        let mut m = cache.take().map(|(_, m)| m).unwrap_or_default();
        let (_, refused) = m.merge(entries);
        if let Some(e) = refused.first() {
            tracing::warn!("a stored council entry does not verify: {e}");
        }
        let r = f(&m);
        *cache = Some((count, m));
        Ok(r)
    }

    /// Merges and stores council log entries a peer sent (into a founded log only: a spoke in
    /// no council does not adopt one from whoever answers).
    pub(crate) fn merge_entries(&self, peer: &str, entries: Vec<council::SignedEntry>) {
        let Ok(mut m) = self.membership() else { return };
        if m.id().is_none() {
            return;
        }
        let (new, refused) = m.merge(entries);
        if let Some(e) = refused.iter().find(|e| !matches!(e, council::CouncilError::OtherCouncil)) {
            let _ = self.store.record_refusal(peer, None, Code::BadCouncilEntry, &e.to_string());
        }
        if new > 0
            && let Err(e) = self.store.put_council_entries(&m.entries())
        {
            tracing::error!("cannot store council entries: {e}");
        }
        self.count_council_entries();
    }

    /// Reads how many council entries the store holds (the operator's commands add some from
    /// another process: [`loops::watch_loop`] calls this every second).
    pub(crate) fn count_council_entries(&self) {
        if let Ok(n) = self.store.council_entry_count() {
            self.council_entries.store(n.max(0) as u64, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Merges a verified replica into the stored blog and records the sync state.
    pub(crate) fn persist(&self, peer: &str, admission: Admission<'_>, replica: &mut Replica, state: &State, outcome: &Outcome) -> Result<(), RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        // A dishonest spoke serves its tampering but keeps its storage as it was, so that a
        // test can switch kinds of tampering (or honesty) back on cleanly.
        #[cfg(feature = "dishonest")]
        if self.tamper.is_some() {
            return Ok(());
        }
        let _guard = self.commit_lock.lock().unwrap_or_else(|p| p.into_inner());
        let cert = replica.certificate.clone().ok_or_else(|| RemoteError::new(Code::WrongCertificate, "no certificate"))?;
        let stored = self.store.blog(&replica.blog_id).map_err(|e| internal(&e))?;
        let stored_heads = match &stored {
            Some(b) => self.stored_heads(&replica.blog_id, &b.document).map_err(|e| internal(&e))?,
            None => Vec::new(),
        };
        let hosted = match &stored {
            Some(b) => b.kind == BlogKind::Hosted,
            None => !matches!(admission, Admission::Mirror),
        };
        // A blog is taken only with content its author signed: the session then checked the
        // document's blog ID binding and owner against the certificate. (An empty session
        // with a stranger's certificate would otherwise bind the ID to the stranger.)
        if stored.is_none() && outcome.new_changes == 0 {
            return Err(RemoteError::new(Code::NotHosted, "this spoke takes a new blog only together with its signed revisions"));
        }
        // Nothing new: nothing is written (a session that brought nothing costs no disk).
        if stored.is_some() && outcome.new_changes == 0 && outcome.new_statements.is_empty() && !outcome.certificate_changed {
            return Ok(());
        }
        // The usual case: the session started from what is stored, so its result contains it
        // and is taken as it is (the session's document, not a copy: the session is over).
        // Otherwise (another session stored something meanwhile) the two are merged.
        let mut incoming = std::mem::replace(&mut replica.doc, empty_automerge());
        let mut current;
        let contains_stored = stored_heads.iter().all(|h| incoming.get_change_meta_by_hash(h).is_some());
        let stored_bytes = stored.as_ref().map_or(&[][..], |b| &b.document);
        let (increments, increment_bytes) = if stored.is_some() { self.store.increments(&replica.blog_id).map_err(|e| internal(&e))? } else { (0, 0) };
        // What to store: the bytes received when they complete the stored document exactly
        // (a blog arriving whole; or a few changes, appended), else the changes after what is
        // stored, or a full save. Appended chunks are folded into a full save once they
        // outweigh it or pass 256.
        let full_save_due = stored_heads.is_empty() || increments >= 256 || increment_bytes as usize > stored_bytes.len() / 2;
        let mut voided: Vec<spokes_core::SignedStatement> = Vec::new();
        let write = if outcome.pruned {
            // The certificate declares a device lost or stolen: what is stored and what the
            // session brought are merged, then everything only that key signed is left out
            // (the session pruned its copy; another session may have stored more meanwhile).
            // The whole document is written again: appending cannot remove changes.
            current = self.document(&replica.blog_id, stored_bytes).map_err(|e| internal(&e))?;
            current.merge(&mut incoming).map_err(|e| internal(&e))?;
            let mut all = self.store.statements(&replica.blog_id).map_err(|e| internal(&e))?;
            all.extend(outcome.new_statements.iter().cloned());
            let pruned = spokes_core::statement::prune_lost(&mut current, &all, &cert, &replica.blog_id).map_err(|e| internal(&e))?;
            if let Some(doc) = pruned.doc {
                current = doc;
            }
            voided = pruned.voided;
            store::DocumentWrite::Replace(current.save())
        } else if contains_stored {
            current = incoming;
            match &outcome.received {
                _ if outcome.new_changes == 0 => store::DocumentWrite::Keep,
                Some(r) if r.whole => store::DocumentWrite::Replace(r.bytes.clone()),
                Some(r) if !full_save_due && r.base_heads.len() == stored_heads.len() && r.base_heads.iter().all(|h| stored_heads.contains(h)) => store::DocumentWrite::Append(r.bytes.clone()),
                _ if full_save_due => store::DocumentWrite::Replace(current.save()),
                _ => store::DocumentWrite::Append(current.save_after(&stored_heads)),
            }
        } else {
            // The session began before another one stored more: what is stored, plus what
            // this session brought (if anything).
            current = self.document(&replica.blog_id, stored_bytes).map_err(|e| internal(&e))?;
            if outcome.new_changes == 0 {
                store::DocumentWrite::Keep
            } else {
                current.merge(&mut incoming).map_err(|e| internal(&e))?;
                if full_save_due { store::DocumentWrite::Replace(current.save()) } else { store::DocumentWrite::Append(current.save_after(&stored_heads)) }
            }
        };
        let size = write.len_after(stored_bytes.len());
        if outcome.new_changes > 0 {
            // Copies for the council keep to the per-blog quota too.
            self.check_quota(&current, size)?;
        }
        if hosted && outcome.new_changes > 0 && matches!(admission, Admission::Writer(_)) && !self.rate_exempt(peer, &replica.blog_id) {
            self.rates.publish(&replica.blog_id)?;
        }
        if stored.is_none() {
            self.admit_new(admission, &replica.blog_id, &cert)?;
        }
        self.store.save_session(&replica.blog_id, &write, &cert, store::StatementChanges { added: &outcome.new_statements, voided: &voided }, peer, &state.encode()).map_err(|e| internal(&e))?;
        if !voided.is_empty() {
            // Sealed drafts of a lost device are the thief's to write from now on.
            self.store.drop_sealed_drafts(&replica.blog_id, &cert.lost_keys()).map_err(|e| internal(&e))?;
        }
        self.touch();
        // The readers' view is rebuilt from the merged document under the commit lock, so views
        // of concurrent sessions are installed in commit order.
        if outcome.new_changes > 0 || outcome.certificate_changed || stored.is_none() {
            let statements = self.store.statements(&replica.blog_id).map_err(|e| internal(&e))?;
            let mut merged = Replica { blog_id: replica.blog_id.clone(), doc: current, certificate: Some(cert), statements, saved: Default::default() };
            self.install_view(&mut merged);
            current = merged.doc;
        }
        // Cached under the hash of the bytes now stored, as `document` computes it.
        self.cache_document(&replica.blog_id, write.hash_after(stored.as_ref().map_or(&[][..], |b| &b.document)), current);
        drop(_guard);
        if stored.is_none() {
            self.update_gauges();
        }
        if outcome.new_changes > 0 {
            let _ = self.replicate.send((replica.blog_id.clone(), Some(peer.to_owned())));
        }
        Ok(())
    }

    /// The heads of the document stored as `bytes`, from the cache when it holds exactly
    /// these bytes (no copy of the document), else from [`Inner::document`].
    pub(crate) fn stored_heads(&self, blog_id: &BlogId, bytes: &[u8]) -> Result<Vec<automerge::ChangeHash>, spokes_core::doc::DocError> {
        if bytes.is_empty() {
            return Ok(Vec::new());
        }
        let hash: [u8; 32] = blake3::hash(bytes).into();
        if let Some((h, doc)) = self.docs.lock().unwrap_or_else(|p| p.into_inner()).get_mut(blog_id)
            && *h == hash
        {
            return Ok(doc.get_heads());
        }
        Ok(self.document(blog_id, bytes)?.get_heads())
    }

    /// The document stored as `bytes`: from the cache when it holds exactly these bytes,
    /// else loaded (with head verification) and cached.
    pub(crate) fn document(&self, blog_id: &BlogId, bytes: &[u8]) -> Result<automerge::AutoCommit, spokes_core::doc::DocError> {
        if bytes.is_empty() {
            return Ok(empty_automerge());
        }
        let hash: [u8; 32] = blake3::hash(bytes).into();
        if let Some((h, doc)) = self.docs.lock().unwrap_or_else(|p| p.into_inner()).get(blog_id)
            && *h == hash
        {
            return Ok(doc.clone());
        }
        let doc = load_automerge(bytes)?;
        self.cache_document(blog_id, hash, doc.clone());
        Ok(doc)
    }

    /// Caches `doc`, loaded from (or saved as) bytes whose BLAKE3 hash is `hash`.
    pub(crate) fn cache_document(&self, blog_id: &BlogId, hash: [u8; 32], doc: automerge::AutoCommit) {
        let mut docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        if docs.len() >= DOC_CACHE_BLOGS
            && !docs.contains_key(blog_id)
            && let Some(k) = docs.keys().next().cloned()
        {
            docs.remove(&k);
        }
        docs.insert(blog_id.clone(), (hash, doc));
    }

    /// Rebuilds the rendered, verified view of a blog from the store.
    pub(crate) fn refresh_view(&self, blog_id: &BlogId) {
        if self.store.blog(blog_id).ok().flatten().is_some_and(|b| b.format == 2) {
            return self.refresh_set_view(blog_id);
        }
        match self.load_replica(blog_id, "") {
            Ok(Some((mut replica, _))) => self.install_view(&mut replica),
            Ok(None) => {}
            Err(e) => tracing::error!("cannot load blog {blog_id}: {e}"),
        }
    }

    /// Verifies `replica` and installs its view for readers, built from the current one (see
    /// [`BlogView::verify_and_build`]): the only place a spoke makes what it serves, and a
    /// view shows posts only when made from a `VerifiedReplica`.
    pub(crate) fn install_view(&self, replica: &mut Replica) {
        let previous = self.views.read().unwrap_or_else(|p| p.into_inner()).get(&replica.blog_id).cloned();
        let mut view = BlogView::rebuild(replica, previous.as_deref());
        view.hosted = self.store.kind(&replica.blog_id).ok().flatten().is_none_or(|k| k == BlogKind::Hosted);
        self.publish_view(&replica.blog_id, view);
    }

    /// Installs `view` for readers and tells the search index.
    pub(crate) fn publish_view(&self, blog_id: &BlogId, view: impl Into<Arc<BlogView>>) {
        let view: Arc<BlogView> = view.into();
        let previous = self.views.write().unwrap_or_else(|p| p.into_inner()).insert(blog_id.clone(), view.clone());
        // A blog's new state (not the views a start builds from what it stored) goes into the
        // council's digest as a header alone, so older items of the blog are dropped.
        if previous.as_ref().is_some_and(|p| p.rev != view.rev) || (previous.is_none() && self.started.load(std::sync::atomic::Ordering::Relaxed)) {
            self.recently_changed.lock().unwrap_or_else(|p| p.into_inner()).insert(blog_id.clone(), chrono::Utc::now().timestamp());
        }
        self.bundles.lock().unwrap_or_else(|p| p.into_inner()).pop(blog_id);
        self.touch();
        let _ = self.index_tx.send((blog_id.clone(), Some(view)));
    }

    /// Stops showing a blog (suspended or dropped).
    /// Marks what readers are shown as changed (responses made before are not reused).
    pub(crate) fn touch(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn remove_view(&self, blog_id: &BlogId) {
        self.touch();
        let removed = self.views.write().unwrap_or_else(|p| p.into_inner()).remove(blog_id);
        self.bundles.lock().unwrap_or_else(|p| p.into_inner()).pop(blog_id);
        if let Some(view) = removed {
            self.forget_cached(blog_id, view.posts.iter().map(|p| p.as_ref()));
            let _ = self.index_tx.send((blog_id.clone(), None));
        }
        self.docs.lock().unwrap_or_else(|p| p.into_inner()).remove(blog_id);
    }

    /// Refreshes the gauges that are not counted as they happen.
    pub(crate) fn update_gauges(&self) {
        if let Ok((hosted, mirror)) = self.store.blog_counts() {
            self.metrics.set_blogs(hosted, mirror);
        }
        if let Ok(free) = fs4::available_space(&self.data) {
            self.metrics.disk_free_bytes.set(free.min(i64::MAX as u64) as i64);
        }
        self.metrics.search_posts.set(self.search.len() as i64);
    }

    /// The catalog offered to council members: every blog shown here, with its heads (or, for
    /// a set of documents, its frontier's manifest names and rev).
    pub(crate) fn offered_catalog(&self) -> council::Catalog {
        let views: Vec<Arc<BlogView>> = self.views.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        let mut blogs: Vec<council::CatalogEntry> = views
            .iter()
            .filter(|v| !v.heads.is_empty() || !v.manifests.is_empty())
            .map(|v| council::CatalogEntry { blog_id: v.blog_id.clone(), heads: v.heads.iter().map(|h| h.to_string()).collect(), manifests: v.manifests.clone(), rev: v.rev })
            .collect();
        #[cfg(feature = "dishonest")]
        if let Some(t) = self.tamper {
            for b in &mut blogs {
                if !b.manifests.is_empty() {
                    if let Ok(Some(mut r)) = self.load_set(&b.blog_id) {
                        t.apply_set(&mut r);
                        b.manifests = spokes_sync::set::SignedManifest::names(&r.frontier);
                        b.rev = r.frontier.iter().map(|m| m.manifest.rev).max().unwrap_or(b.rev);
                    }
                    if t == dishonest::Tamper::MalformedCatalog {
                        b.manifests = vec!["not a manifest name".to_owned()];
                    }
                    continue;
                }
                if let Ok(Some((mut r, _))) = self.load_replica(&b.blog_id, "catalog") {
                    let mut heads = r.doc.get_heads();
                    heads.sort();
                    b.heads = heads.iter().map(|h| h.to_string()).collect();
                }
            }
        }
        blogs.sort_by(|a, b| a.blog_id.cmp(&b.blog_id));
        council::Catalog { blogs, seal: None }
    }
}
