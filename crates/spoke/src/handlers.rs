//! The spoke's answers to its peers: one iroh protocol handler per ALPN (sync, drafts,
//! images, council), and the ports of `spokes-sync` it implements over its state
//! (`Host`, `ImageStore`, `DraftsHost`, `CouncilHost`).

use super::*;

/// An iroh protocol handler over the spoke's shared state (its `accept` is written out).
macro_rules! protocol_handler {
    ($name:ident) => {
        #[derive(Clone)]
        pub(crate) struct $name {
            pub(crate) inner: Arc<Inner>,
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

// Answers `spokes/sync/1`.
protocol_handler!(SyncHandler);

impl ProtocolHandler for SyncHandler {
    async fn accept(&self, connection: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        let peer = connection.remote_id().to_string();
        if self.inner.store.is_blocked(&peer).unwrap_or(false) {
            connection.close(1u32.into(), b"blocked");
            return Ok(());
        }
        match respond(self.inner.as_ref(), connection).await {
            Ok(o) => {
                self.inner.metrics.sync("ok");
                tracing::info!(new_changes = o.new_changes, "sync session done")
            }
            Err(e) => {
                self.inner.metrics.sync(if matches!(e, SyncError::Refused(_)) { "refused" } else { "failed" });
                tracing::warn!("sync session failed: {e}")
            }
        }
        Ok(())
    }
}

// Answers `spokes/sync/2`.
protocol_handler!(SetHandler);

impl ProtocolHandler for SetHandler {
    async fn accept(&self, connection: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        let peer = connection.remote_id().to_string();
        if self.inner.store.is_blocked(&peer).unwrap_or(false) {
            connection.close(1u32.into(), b"blocked");
            return Ok(());
        }
        match spokes_sync::set::respond_set(self.inner.as_ref(), connection).await {
            Ok(o) => {
                self.inner.metrics.sync("ok");
                tracing::info!(manifests = o.new_manifests, posts = o.changed_posts.len(), forgotten = o.forgotten.len(), "set sync session done")
            }
            Err(e) => {
                self.inner.metrics.sync(if matches!(e, SyncError::Refused(_)) { "refused" } else { "failed" });
                tracing::warn!("set sync session failed: {e}")
            }
        }
        Ok(())
    }
}

impl spokes_sync::set::SetHost for Inner {
    fn open_set(&self, peer: &str, hello: &Hello) -> Result<spokes_sync::set::SetReplica, RemoteError> {
        #[allow(unused_mut)]
        if let Some(mut r) = self.load_set(&hello.blog_id)? {
            if !self.rate_exempt(peer, &hello.blog_id) {
                self.rates.open_session(peer, &hello.blog_id)?;
            }
            #[cfg(feature = "dishonest")]
            if let Some(t) = &self.tamper {
                t.apply_set(&mut r);
            }
            return Ok(r);
        }
        self.check_new_blog(peer, hello)?;
        Ok(spokes_sync::set::SetReplica::new(hello.blog_id.clone(), None))
    }

    fn load_post(&self, blog: &BlogId, id: &str) -> Option<spokes_core::postdoc::PostDoc> {
        #[allow(unused_mut)]
        let mut doc = self.load_post_doc(blog, id);
        #[cfg(feature = "dishonest")]
        if let (Some(t), Some(d)) = (&self.tamper, doc.as_mut()) {
            t.apply_post(d);
        }
        doc
    }

    fn commit_set(&self, peer: &str, hello: &Hello, replica: &mut spokes_sync::set::SetReplica, outcome: &spokes_sync::set::SetOutcome) -> Result<(), RemoteError> {
        self.lease(&hello.blog_id);
        self.persist_set(peer, self.admission_for(peer, hello), replica, outcome)
    }

    fn record_set_failure(&self, peer: &str, blog: Option<&BlogId>, error: &SyncError) {
        self.record_failure(peer, blog, error);
    }
}

// Answers `spokes/drafts/1`.
protocol_handler!(DraftsHandler);

impl ProtocolHandler for DraftsHandler {
    async fn accept(&self, connection: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        match spokes_sync::drafts::respond(self.inner.as_ref(), connection).await {
            Ok(n) => tracing::info!(returned = n, "drafts exchange done"),
            Err(e) => tracing::warn!("drafts exchange failed: {e}"),
        }
        Ok(())
    }
}

// Answers `spokes/drafts/2`.
protocol_handler!(DraftItemsHandler);

impl ProtocolHandler for DraftItemsHandler {
    async fn accept(&self, connection: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        match spokes_sync::drafts::respond_items(self.inner.as_ref(), connection).await {
            Ok((stored, sent)) => tracing::info!(stored, sent, "drafts items exchange done"),
            Err(e) => tracing::warn!("drafts items exchange failed: {e}"),
        }
        Ok(())
    }
}

// Answers `spokes/images/1`.
protocol_handler!(ImagesHandler);

impl ProtocolHandler for ImagesHandler {
    async fn accept(&self, connection: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        let peer = connection.remote_id().to_string();
        match spokes_sync::images::respond(self.inner.as_ref(), connection).await {
            Ok(o) => {
                self.inner.metrics.image_exchange("ok");
                tracing::info!(sent = o.sent, received = o.received, "images exchange done");
            }
            Err(e) => {
                self.inner.metrics.image_exchange("failed");
                if matches!(e, SyncError::Refused(_)) {
                    self.inner.record_failure(&peer, None, &e);
                }
                tracing::warn!("images exchange failed: {e}");
            }
        }
        Ok(())
    }
}

impl spokes_sync::images::ImageStore for Inner {
    fn wanted(&self, blog: &BlogId, offered: &[ImageName]) -> Result<Vec<ImageName>, RemoteError> {
        let Some(view) = http::SpokeView::blog(self, blog) else {
            return Err(RemoteError::new(Code::NotHosted, "this spoke does not host that blog"));
        };
        let linked: Vec<ImageName> = offered.iter().filter(|n| view.images.contains(*n)).cloned().collect();
        let held = self.store.has_images(blog, &linked).map_err(|e| RemoteError::new(Code::Internal, e.to_string()))?;
        Ok(linked.into_iter().filter(|n| !held.contains(n)).collect())
    }
    fn sendable(&self, blog: &BlogId, wanted: &[ImageName]) -> Vec<ImageName> {
        // Readers' rule: only pictures a published post of a shown blog shows.
        let Some(view) = http::SpokeView::blog(self, blog) else { return vec![] };
        let shown: Vec<ImageName> = wanted.iter().filter(|n| view.images.contains(*n)).cloned().collect();
        let held = self.store.has_images(blog, &shown).unwrap_or_default();
        shown.into_iter().filter(|n| held.contains(n)).collect()
    }
    fn get(&self, blog: &BlogId, name: &ImageName) -> Option<Vec<u8>> {
        self.store.image(blog, name).ok().flatten()
    }
    fn put(&self, blog: &BlogId, name: &ImageName, bytes: &[u8]) -> Result<(), RemoteError> {
        self.store.put_image(blog, name, bytes).map_err(|e| RemoteError::new(Code::Internal, e.to_string()))
    }
}

impl spokes_sync::drafts::DraftsHost for Inner {
    fn exchange(&self, peer: &str, blog: &BlogId, sealed: Option<&[u8]>) -> Result<Vec<Vec<u8>>, RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        let Some(b) = self.store.blog(blog).map_err(|e| internal(&e))? else {
            return Err(RemoteError::new(Code::NotHosted, "this spoke does not host that blog"));
        };
        if b.status != BlogStatus::Active {
            return Err(RemoteError::new(Code::Suspended, "this blog is suspended on this spoke"));
        }
        let mut device = None;
        if let Some(sealed) = sealed {
            match spokes_core::seal::check_sealer(sealed, &b.certificate) {
                Ok((signer, at)) => {
                    self.store.put_sealed_drafts(blog, &signer, sealed, at).map_err(|e| internal(&e))?;
                    device = Some(signer);
                }
                Err(e) => {
                    let _ = self.store.record_refusal(peer, Some(blog), Code::BadSignature, &e.to_string());
                    return Err(RemoteError::new(Code::BadSignature, e.to_string()));
                }
            }
        }
        self.store.sealed_drafts(blog, device.as_deref(), spokes_sync::drafts::MAX_DEVICES).map_err(|e| internal(&e))
    }
}

impl spokes_sync::drafts::DraftItemsHost for Inner {
    fn inventory(&self, _peer: &str, blog: &BlogId) -> Result<Vec<spokes_sync::drafts::ItemRef>, RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        let Some(b) = self.store.blog(blog).map_err(|e| internal(&e))? else {
            return Err(RemoteError::new(Code::NotHosted, "this spoke does not host that blog"));
        };
        if b.status != BlogStatus::Active {
            return Err(RemoteError::new(Code::Suspended, "this blog is suspended on this spoke"));
        }
        let v = self.store.draft_inventory(blog, spokes_sync::drafts::MAX_ITEMS).map_err(|e| internal(&e))?;
        Ok(v.into_iter().map(|(device, item, hash)| spokes_sync::drafts::ItemRef { device, item, hash }).collect())
    }

    fn put_items(&self, peer: &str, blog: &BlogId, items: &[(String, Vec<u8>)]) -> Result<(), RemoteError> {
        let internal = |e: &dyn std::fmt::Display| RemoteError::new(Code::Internal, e.to_string());
        // The inventory was sent only for a hosted, active blog: the certificate is there.
        let Some(b) = self.store.blog(blog).map_err(|e| internal(&e))? else {
            return Err(RemoteError::new(Code::NotHosted, "this spoke does not host that blog"));
        };
        let mut signed = Vec::with_capacity(items.len());
        for (item, sealed) in items {
            match spokes_core::seal::check_sealer(sealed, &b.certificate) {
                Ok((device, at)) => signed.push((device, item, sealed, at)),
                Err(e) => {
                    let _ = self.store.record_refusal(peer, Some(blog), Code::BadSignature, &e.to_string());
                    return Err(RemoteError::new(Code::BadSignature, e.to_string()));
                }
            }
        }
        let rows: Vec<crate::store::DraftItemRow> = signed.iter().map(|(device, item, sealed, at)| crate::store::DraftItemRow { device, item, sealed, signed_at: *at }).collect();
        let limits = crate::store::DraftLimits { max_bytes: self.config.admission.max_bytes, max_items: spokes_sync::drafts::MAX_ITEMS };
        match self.store.put_draft_items(blog, &rows, limits) {
            Ok(_) => Ok(()),
            Err(crate::store::StoreError::Quota(m)) => {
                let _ = self.store.record_refusal(peer, Some(blog), Code::Quota, &m);
                Err(RemoteError::new(Code::Quota, m))
            }
            Err(e) => Err(internal(&e)),
        }
    }

    fn item(&self, blog: &BlogId, device: &str, item: &str) -> Result<Option<Vec<u8>>, RemoteError> {
        self.store.draft_item(blog, device, item).map_err(|e| RemoteError::new(Code::Internal, e.to_string()))
    }
}

impl Host for Inner {
    fn open(&self, peer: &str, hello: &Hello) -> Result<(Replica, State), RemoteError> {
        if let Some(x) = self.load_replica(&hello.blog_id, peer)? {
            // Counted per peer before anything is verified: a stranger's sessions spend only
            // its own allowance.
            if !self.rate_exempt(peer, &hello.blog_id) {
                self.rates.open_session(peer, &hello.blog_id)?;
            }
            return Ok(x);
        }
        self.check_new_blog(peer, hello)?;
        Ok((Replica { blog_id: hello.blog_id.clone(), doc: empty_automerge(), certificate: None, statements: vec![], saved: Default::default() }, State::new()))
    }

    fn commit(&self, peer: &str, hello: &Hello, replica: &mut Replica, state: &State, outcome: &Outcome) -> Result<(), RemoteError> {
        self.lease(&hello.blog_id);
        self.persist(peer, self.admission_for(peer, hello), replica, state, outcome)
    }

    fn record_failure(&self, peer: &str, blog: Option<&BlogId>, error: &SyncError) {
        if let Some(b) = blog
            && let Err(e) = self.store.forget_sync_state(peer, b)
        {
            tracing::error!("cannot reset a sync state: {e}");
        }
        self.metrics.refusal(error.code());
        let reason = error.to_string();
        if let Err(e) = self.store.record_refusal(peer, blog, error.code(), &reason) {
            tracing::error!("cannot record refusal: {e}");
        }
        tracing::warn!(peer, code = error.code().as_str(), "refused: {reason}");
    }
}

// Answers `spokes/council/1`.
protocol_handler!(CouncilHandler);

impl ProtocolHandler for CouncilHandler {
    async fn accept(&self, connection: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        if let Err(e) = council::respond(self.inner.as_ref(), connection).await {
            tracing::debug!("council exchange failed: {e}");
        }
        Ok(())
    }
}

impl council::CouncilHost for Inner {
    fn key(&self) -> &SecretKey {
        &self.key
    }
    fn membership(&self) -> Result<council::Membership, RemoteError> {
        Inner::membership(self)
    }
    fn store_entries(&self, entries: &[council::SignedEntry]) -> Result<(), RemoteError> {
        self.store.put_council_entries(entries).map_err(|e| RemoteError::new(Code::Internal, e.to_string()))?;
        self.count_council_entries();
        Ok(())
    }
    fn take_invite(&self, token: &str) -> Result<bool, RemoteError> {
        self.store.take_council_invite(token).map_err(|e| RemoteError::new(Code::Internal, e.to_string()))
    }
    fn blocked(&self, peer: &str) -> bool {
        self.store.is_blocked(peer).unwrap_or(false)
    }
    fn catalog(&self) -> council::Catalog {
        self.offered_catalog()
    }
    fn refused(&self, peer: &str, code: Code, reason: &str) {
        self.metrics.refusal(code);
        let _ = self.store.record_refusal(peer, None, code, reason);
        tracing::warn!(peer, code = code.as_str(), "council exchange refused: {reason}");
    }
    fn digest(&self) -> Option<(String, Arc<Vec<u8>>)> {
        let offered = self.composed.read().unwrap_or_else(|p| p.into_inner()).offered.clone();
        #[cfg(feature = "dishonest")]
        if let (Some(t), Some((_, json))) = (&self.tamper, &offered) {
            let tampered = Arc::new(t.apply_digest(json));
            return Some((spokes_sync::council::digest::Digest::name_of(&tampered), tampered));
        }
        offered
    }
    fn newcomer_ready(&self, peer: &str, report: &council::ReadyReport) {
        let r = serde_json::to_string(report).map_err(|e| e.to_string()).and_then(|t| self.store.put_council_ready(peer, &t).map_err(|e| e.to_string()));
        match r {
            Ok(()) => tracing::info!(peer, ready = report.ready(), version = report.version, "a joining spoke reported its self-test"),
            Err(e) => tracing::error!("cannot keep a joining spoke's report: {e}"),
        }
    }
}

// Answers `spokes/name/1`.
protocol_handler!(NameHandler);

impl ProtocolHandler for NameHandler {
    async fn accept(&self, connection: iroh::endpoint::Connection) -> Result<(), AcceptError> {
        let peer = connection.remote_id().to_string();
        if self.inner.store.is_blocked(&peer).unwrap_or(false) {
            connection.close(1u32.into(), b"blocked");
            return Ok(());
        }
        if let Err(e) = spokes_sync::names::respond(self, connection).await {
            tracing::info!("name request failed: {e}");
        }
        Ok(())
    }
}

impl spokes_sync::names::NameHost for NameHandler {
    async fn answer(&self, peer: &str, request: spokes_sync::names::NameRequest) -> Result<spokes_sync::names::NameAnswer, RemoteError> {
        match &self.inner.naming {
            Some(n) => n.answer(&self.inner, peer, request).await,
            None => Err(RemoteError::new(Code::NoNames, "this spoke has no council domain to give blogs names in")),
        }
    }
}
