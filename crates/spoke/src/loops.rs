//! The spoke's background work: pulling from council upstreams, replicating blogs to the
//! spokes their authors list, and following the operator's moderation.

use super::*;
use http::SpokeView as _;
use spokes_core::SignedStatement;

/// Pulls from the council upstreams every `every`. Each upstream is pulled by a task of its
/// own, started again once the previous pull from it ended, so an upstream that vanished in
/// the middle of a pull (its sessions wait for QUIC's idle timeout) never delays the others.
pub(crate) async fn council_loop(inner: Arc<Inner>, endpoint: Endpoint, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pulling: HashMap<String, tokio::task::JoinHandle<()>> = HashMap::new();
    let mut composing: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        tick.tick().await;
        pulling.retain(|_, t| !t.is_finished());
        let Ok(m) = inner.membership() else { continue };
        let members = m.members();
        inner.metrics.council_members.set(members.len() as i64);
        // Accusations others made, with evidence this spoke checks itself.
        if !m.accusations().is_empty() {
            vote_on_evidence(&inner);
        }
        if m.id().is_none() {
            // A council formed before the log: its founder's charter is fetched from the old
            // members (nothing else is taken from them).
            if let Ok((_, Some(legacy))) = admin::stored_council(&inner.store)
                && pulling.is_empty()
            {
                let (inner, endpoint) = (inner.clone(), endpoint.clone());
                pulling.insert(String::new(), tokio::spawn(async move { fetch_charter(&inner, &endpoint, &legacy).await }));
            }
            continue;
        }
        // A spoke proposed but not yet admitted asks the members for the log, to learn of its
        // admission (their answer refuses the catalog until then).
        if !members.contains_key(&inner.endpoint_id) && m.pending_join_of(&inner.endpoint_id).is_none() {
            continue;
        }
        let ups = council::choose_upstreams(&members, &inner.config.council.upstreams, &inner.endpoint_id);
        // The digest of newest posts offered downstream: from what the last pulls brought
        // and this spoke's own blogs (one compose at a time, off the async workers).
        let chosen: HashSet<String> = ups.iter().map(|u| u.endpoint.clone()).collect();
        inner.drop_digests_except(&chosen);
        if composing.as_ref().is_none_or(|t| t.is_finished()) {
            let inner = inner.clone();
            composing = Some(tokio::task::spawn_blocking(move || inner.compose_digest()));
        }
        for up in ups {
            if pulling.contains_key(&up.endpoint) || inner.store.is_blocked(&up.endpoint).unwrap_or(false) {
                continue;
            }
            let (inner, endpoint, key) = (inner.clone(), endpoint.clone(), up.endpoint.clone());
            pulling.insert(
                key,
                tokio::spawn(async move {
                    match pull_from(&inner, &endpoint, &up).await {
                        Ok(n) => {
                            inner.metrics.council_pull("ok");
                            if n > 0 {
                                tracing::info!(upstream = up.name, blogs = n, "pulled from the council");
                            }
                        }
                        Err(e) => {
                            inner.metrics.council_pull("failed");
                            tracing::debug!(upstream = up.name, "council pull failed: {e}");
                        }
                    }
                }),
            );
        }
    }
}

/// Asks the members of the version-1 council `legacy` for the council log its founder
/// carried it over to, and stores it if it is that founder's and lists none but its old
/// members ([`council::Membership::charter_matches`]).
async fn fetch_charter(inner: &Arc<Inner>, endpoint: &Endpoint, legacy: &council::legacy::LegacyCouncil) {
    let old = legacy.members();
    // The founder first: it is the one that signs the charter.
    let mut order: Vec<&council::MemberInfo> = old.values().filter(|m| m.endpoint != inner.endpoint_id).collect();
    order.sort_by_key(|m| Some(m.endpoint.as_str()) != legacy.founder());
    let hello = council::CouncilHello { protocol: council::COUNCIL_PROTOCOL, council: legacy.id().map(str::to_owned), member: inner.me.clone(), entries: vec![], have: vec![], token: None, consent: None, ready: None, digest: None };
    for up in order.into_iter().take(council::DEFAULT_FANOUT) {
        let Ok(x) = council::exchange_entries(endpoint, up, &hello).await else { continue };
        let mut log = council::Membership::new();
        log.merge(x.entries);
        if log.id().is_none() {
            continue;
        }
        if !log.charter_matches(legacy) {
            council::CouncilHost::refused(inner.as_ref(), &up.endpoint, Code::BadCouncilEntry, "its council log is not the charter of this spoke's council");
            continue;
        }
        match inner.store.put_council_entries(&log.entries()) {
            Ok(()) => tracing::info!(members = log.members().len(), "took the council over to the council log from its founder's charter"),
            Err(e) => tracing::error!("cannot store the council log: {e}"),
        }
        inner.count_council_entries();
        return;
    }
}

/// One exchange with `up`, then a sync session for each blog it offers that differs here.
/// Returns how many blogs changed here.
pub(crate) async fn pull_from(inner: &Arc<Inner>, endpoint: &Endpoint, up: &council::MemberInfo) -> Result<usize, SyncError> {
    let m = inner.membership().map_err(SyncError::Refused)?;
    // Only what the upstream lacks as far as this spoke knows (everything the first time): the
    // exchange grows with the log's changes, not with the log.
    let known = inner.council_peer_heads.lock().unwrap_or_else(|p| p.into_inner()).get(&up.endpoint).cloned().unwrap_or_default();
    let digest = Some(inner.digest_held_from(&up.endpoint));
    let hello = council::CouncilHello { protocol: council::COUNCIL_PROTOCOL, council: m.id().map(str::to_owned), member: inner.me.clone(), entries: m.entries_since(&known), have: m.heads(), token: None, consent: None, ready: None, digest };
    let x = council::exchange_entries(endpoint, up, &hello).await?;
    inner.council_peer_heads.lock().unwrap_or_else(|p| p.into_inner()).insert(up.endpoint.clone(), x.heads);
    // Merged even with a refusal: a spoke the council cut off learns it from the votes.
    inner.merge_entries(&up.endpoint, x.entries);
    let catalog = x.catalog.map_err(SyncError::Remote)?;
    // The upstream's newest posts of the council, checked item by item; a change is passed
    // on at once (composed again), not at the next tick.
    if let Some(d) = x.digest {
        let (i, from) = (inner.clone(), up.endpoint.clone());
        let _ = tokio::task::spawn_blocking(move || {
            if i.take_digest(&from, d) {
                i.compose_digest();
            }
        })
        .await;
    }
    let council_id = m.id().unwrap_or_default().to_owned();
    // A catalog is taken only as its seal says (or unsealed, from a spoke built before seals).
    let sealed = match catalog.check_seal(&up.endpoint, &council_id) {
        Ok(s) => s,
        Err(e) => {
            let refusal = RemoteError::new(Code::BadSignature, format!("its catalog: {e}"));
            council::CouncilHost::refused(inner.as_ref(), &up.endpoint, refusal.code, &refusal.message);
            return Err(SyncError::Refused(refusal));
        }
    };
    let rolled = match &sealed {
        Some(s) => inner.keep_offers(&up.endpoint, &catalog, s),
        None => Vec::new(),
    };
    let addr = council::member_addr(up)?;
    let members = m.members();
    let mut changed = 0;
    for (index, offered) in catalog.blogs.iter().enumerate() {
        // With partial copies, a blog not held here is taken only where the placement puts
        // it (the members holding it push it there as well).
        if !inner.pulls_offered(&offered.blog_id, &members) && inner.store.kind(&offered.blog_id).ok().flatten().is_none() {
            continue;
        }
        let offering = sealed.as_ref().map(|sealed| Offering { sealed, catalog: &catalog, index });
        match pull_blog(inner, endpoint, up, addr.clone(), offered, offering).await {
            Ok(true) => changed += 1,
            Ok(false) => {}
            // The upstream is gone: the rest waits for the next pull.
            Err(e @ (SyncError::Connect(_) | SyncError::Timeout)) => return Err(e),
            Err(e) => tracing::debug!(upstream = up.name, blog = %offered.blog_id, "council pull of a blog failed: {e}"),
        }
    }
    for (earlier, later) in rolled {
        accuse(inner, endpoint, up, addr.clone(), council::Misdeed::RolledBack { earlier, later }).await;
    }
    Ok(changed)
}

/// One entry of a sealed catalog, from which its signed offer is cut when it is needed as
/// evidence.
#[derive(Clone, Copy)]
pub(crate) struct Offering<'a> {
    sealed: &'a council::SealedCatalog,
    catalog: &'a council::Catalog,
    index: usize,
}

impl Offering<'_> {
    fn offer(&self) -> Option<council::SignedOffer> {
        self.sealed.offers(self.catalog, &[self.index]).pop()
    }
}

/// Accuses `up` of `misdeed` (unless this spoke's operator turned that off, this spoke or
/// `up` is no member, or this spoke voted against `up` already): builds the evidence with the
/// blog's certificate and salt as this spoke holds them, checks it as every member will, and
/// signs an `accuse` entry, which spreads with the next exchanges. For a rollback, one more
/// session with `up` first brings its copy of the certificate: a writer who declared a
/// computer lost makes honest spokes fall back to older manifests, and the evidence then
/// proves nothing.
async fn accuse(inner: &Arc<Inner>, endpoint: &Endpoint, up: &council::MemberInfo, addr: EndpointAddr, misdeed: council::Misdeed) {
    if !inner.config.council.act_on_evidence {
        return;
    }
    let Ok(m) = inner.membership() else { return };
    if !m.is_member(&inner.endpoint_id) || !m.is_member(&up.endpoint) || m.voted_against(&inner.endpoint_id, &up.endpoint) {
        return;
    }
    let blog = match &misdeed {
        council::Misdeed::RolledBack { later, .. } => later.entry.blog_id.clone(),
        council::Misdeed::ForgedManifest { offer, .. } => offer.entry.blog_id.clone(),
    };
    if matches!(misdeed, council::Misdeed::RolledBack { .. }) {
        let _ = sync_set_with(inner, endpoint, &blog, &up.endpoint, addr, Admission::Mirror).await;
    }
    let Ok(Some(replica)) = inner.load_set(&blog) else { return };
    let (Some(cert), Some(settings)) = (replica.certificate.clone(), replica.merged().and_then(|m| m.site_settings().ok())) else { return };
    let evidence = council::Evidence::new(&cert, &settings.blog_id_salt, misdeed);
    let Ok(mut m) = inner.membership() else { return };
    let Some(id) = m.id().map(str::to_owned) else { return };
    let reason = match evidence.check(&up.endpoint, &id, Some(&cert)) {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(peer = up.endpoint, %blog, "no accusation: {e}");
            return;
        }
    };
    match m.sign(&inner.key, council::Act::Accuse { member: up.endpoint.clone(), reason: reason.clone(), evidence: Box::new(evidence) }, chrono::Utc::now().timestamp()) {
        Ok(signed) => match inner.store.put_council_entries(&[signed]) {
            Ok(()) => {
                inner.count_council_entries();
                tracing::warn!(peer = up.endpoint, name = up.name, "accused a council member, with the evidence: it {reason}");
            }
            Err(e) => tracing::error!("cannot store an accusation: {e}"),
        },
        Err(e) => tracing::error!("cannot sign an accusation: {e}"),
    }
}

/// Votes to cut off each member another member accused with evidence this spoke checked
/// itself (with its own copy of the blog's certificate, when it holds the blog), unless its
/// operator turned that off or it voted already. Returns how many votes it signed.
pub(crate) fn vote_on_evidence(inner: &Inner) -> usize {
    if !inner.config.council.act_on_evidence {
        return 0;
    }
    let Ok(mut m) = inner.membership() else { return 0 };
    let Some(id) = m.id().map(str::to_owned) else { return 0 };
    if !m.is_member(&inner.endpoint_id) {
        return 0;
    }
    let mut voted = 0;
    for council::Accusation { entry, by, member: accused, evidence, .. } in m.accusations() {
        if accused == inner.endpoint_id || m.voted_against(&inner.endpoint_id, &accused) || !m.is_member(&accused) {
            continue;
        }
        let own = inner.load_set(evidence.blog()).ok().flatten().and_then(|r| r.certificate);
        let reason = match evidence.check(&accused, &id, own.as_ref()) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(accused, accuser = by, "no vote on an accusation: {e}");
                continue;
            }
        };
        let reason = format!("checked the evidence of entry {}: it {reason}", &entry[..16.min(entry.len())]);
        match m.sign(&inner.key, council::Act::Remove { member: accused.clone(), reason }, chrono::Utc::now().timestamp()) {
            Ok(signed) => {
                if let Err(e) = inner.store.put_council_entries(&[signed]) {
                    tracing::error!("cannot store a vote: {e}");
                    return voted;
                }
                voted += 1;
                tracing::warn!(accused, accuser = by, "voted to cut off a council member another accused, having checked the evidence");
            }
            Err(e) => tracing::error!("cannot sign a vote: {e}"),
        }
    }
    if voted > 0 {
        inner.count_council_entries();
    }
    voted
}

/// Pulls one offered blog unless it is the same here, dropped or suspended here, or the
/// upstream rolled it back. Returns whether anything new arrived.
pub(crate) async fn pull_blog(inner: &Arc<Inner>, endpoint: &Endpoint, up: &council::MemberInfo, addr: EndpointAddr, offered: &council::CatalogEntry, offering: Option<Offering<'_>>) -> Result<bool, SyncError> {
    let internal = |e: &dyn std::fmt::Display| SyncError::Refused(RemoteError::new(Code::Internal, e.to_string()));
    let blog = &offered.blog_id;
    if !offered.manifests.is_empty() {
        return pull_set_blog(inner, endpoint, up, addr, offered, offering).await;
    }
    let Some(mut theirs) = council::parse_heads(&offered.heads) else {
        inner.refused_blog(&up.endpoint, blog, Code::Malformed, "its catalog names heads that are not change hashes");
        return Ok(false);
    };
    theirs.sort();
    let view = inner.blog(blog);
    match &view {
        Some(v) if v.heads == theirs => {
            inner.store.set_peer_heads(&up.endpoint, blog, &offered.heads).map_err(|e| internal(&e))?;
            return Ok(false);
        }
        // Held but not shown (suspended), or dropped: nothing is taken.
        None if inner.store.kind(blog).map_err(|e| internal(&e))?.is_some() => return Ok(false),
        None if inner.store.is_dropped(blog).map_err(|e| internal(&e))? => return Ok(false),
        _ => {}
    }
    let before = inner.store.peer_heads(&up.endpoint, blog).map_err(|e| internal(&e))?.and_then(|h| council::parse_heads(&h));
    if let Some(before) = &before
        && inner.check_rollback(&up.endpoint, blog, before, &theirs, &offered.heads) == Some(true)
    {
        return Ok(false);
    }
    let key = (up.endpoint.clone(), blog.clone());
    if inner.refused_offers.lock().unwrap_or_else(|p| p.into_inner()).get(&key) == Some(&offered.heads) {
        return Ok(false);
    }
    let outcome = match sync_with(inner, endpoint, blog, &up.endpoint, addr, Admission::Mirror).await {
        Ok(o) => o,
        Err(e) => {
            if matches!(e, SyncError::Refused(_)) {
                inner.refused_offers.lock().unwrap_or_else(|p| p.into_inner()).insert(key, offered.heads.clone());
            }
            return Err(e);
        }
    };
    // Heads this spoke did not hold could only be checked now.
    if let Some(before) = &before
        && inner.check_rollback(&up.endpoint, blog, before, &theirs, &offered.heads) == Some(true)
    {
        return Ok(outcome.new > 0);
    }
    inner.store.set_peer_heads(&up.endpoint, blog, &offered.heads).map_err(|e| internal(&e))?;
    Ok(outcome.new > 0)
}

/// [`pull_blog`] for a blog the upstream keeps as a set of documents (its catalog entry names
/// manifests): pulled over `spokes/sync/2` unless this spoke shows the same frontier. The
/// upstream's offered `rev` is remembered (as `rev:N` in `peer_heads`); a later offer with a
/// lower one is reported as a rollback, once, and nothing is taken from it.
async fn pull_set_blog(inner: &Arc<Inner>, endpoint: &Endpoint, up: &council::MemberInfo, addr: EndpointAddr, offered: &council::CatalogEntry, offering: Option<Offering<'_>>) -> Result<bool, SyncError> {
    let internal = |e: &dyn std::fmt::Display| SyncError::Refused(RemoteError::new(Code::Internal, e.to_string()));
    let blog = &offered.blog_id;
    let well_formed = offered.manifests.len() <= spokes_sync::set::MAX_HAVE && offered.manifests.iter().all(|m| m.len() == 64 && m.bytes().all(|b| b.is_ascii_hexdigit()));
    if !well_formed || !offered.heads.is_empty() {
        inner.refused_blog(&up.endpoint, blog, Code::Malformed, "its catalog names manifests that are not SHA-256 hashes, or too many, or heads as well");
        return Ok(false);
    }
    let record: Vec<String> = std::iter::once(format!("rev:{}", offered.rev)).chain(offered.manifests.iter().cloned()).collect();
    match inner.blog(blog) {
        Some(v) if v.manifests == offered.manifests => {
            inner.store.set_peer_heads(&up.endpoint, blog, &record).map_err(|e| internal(&e))?;
            return Ok(false);
        }
        None if inner.store.kind(blog).map_err(|e| internal(&e))?.is_some() => return Ok(false),
        None if inner.store.is_dropped(blog).map_err(|e| internal(&e))? => return Ok(false),
        _ => {}
    }
    let before = inner.store.peer_heads(&up.endpoint, blog).map_err(|e| internal(&e))?;
    let before_rev = before.as_ref().and_then(|b| b.first()).and_then(|r| r.strip_prefix("rev:")).and_then(|r| r.parse::<u64>().ok());
    if let Some(before_rev) = before_rev
        && offered.rev < before_rev
    {
        if inner.rollbacks.lock().unwrap_or_else(|p| p.into_inner()).insert((up.endpoint.clone(), blog.clone(), record.clone())) {
            let reason = format!("it offered an older state of this blog (manifest rev {}) than it offered before (rev {before_rev}); nothing was taken from it", offered.rev);
            inner.refused_blog(&up.endpoint, blog, Code::RolledBack, &reason);
        }
        return Ok(false);
    }
    let key = (up.endpoint.clone(), blog.clone());
    if inner.refused_offers.lock().unwrap_or_else(|p| p.into_inner()).get(&key) == Some(&record) {
        return Ok(false);
    }
    let (synced, rejected) = sync_set_rejecting(inner, endpoint, blog, &up.endpoint, addr.clone(), Admission::Mirror).await;
    let synced = match synced {
        Ok(o) => o,
        Err(e) => {
            if matches!(e, SyncError::Refused(_)) {
                inner.refused_offers.lock().unwrap_or_else(|p| p.into_inner()).insert(key, record);
            }
            // A manifest the upstream named in its sealed catalog and that is not the writer's:
            // evidence.
            if let (Some(rejected), Some(offer)) = (rejected, offering.and_then(|o| o.offer()))
                && offered.manifests.contains(&hex::encode(spokes_core::merkle::sha256(rejected.statement.as_bytes())))
            {
                let misdeed = council::Misdeed::ForgedManifest { offer, statement: rejected.statement, signature: hex::encode(&rejected.signature) };
                accuse(inner, endpoint, up, addr, misdeed).await;
            }
            return Err(e);
        }
    };
    // The session may have brought a newer state than the catalog offered (the writer
    // published in between): when both sides ended in step, the upstream holds what this
    // spoke now shows, and that is the state a later offer is measured against. Recording
    // the catalog's older rev would let a restore to it pass unnoticed.
    let record = match (&synced.in_step, inner.blog(blog)) {
        (Some(state), Some(v)) if v.rev > offered.rev => std::iter::once(format!("rev:{}", v.rev)).chain(state.iter().cloned()).collect(),
        _ => record,
    };
    inner.store.set_peer_heads(&up.endpoint, blog, &record).map_err(|e| internal(&e))?;
    Ok(synced.new > 0)
}

impl Inner {
    /// Keeps, per set blog of `peer`'s sealed catalog that this spoke shows and whose `rev`
    /// differs from the kept one, the new offer when it is higher (proofs cut in one pass over
    /// the tree), and returns the (kept, new) pairs where the new offer is lower: rollbacks to
    /// accuse `peer` of. Only blogs held here: evidence needs the blog's certificate, and what
    /// is kept stays within the blogs this spoke holds (about 1.2-1.7 KB an offer).
    pub(crate) fn keep_offers(&self, peer: &str, catalog: &council::Catalog, sealed: &council::SealedCatalog) -> Vec<(council::SignedOffer, council::SignedOffer)> {
        let Ok(kept) = self.store.offered_revs(peer) else { return Vec::new() };
        let changed: Vec<usize> = catalog.blogs.iter().enumerate().filter(|(_, e)| e.rev > 0 && e.heads.is_empty() && kept.get(&e.blog_id) != Some(&e.rev) && self.blog(&e.blog_id).is_some()).map(|(i, _)| i).collect();
        let mut higher = Vec::new();
        let mut rolled = Vec::new();
        for offer in sealed.offers(catalog, &changed) {
            let blog = offer.entry.blog_id.clone();
            match kept.get(&blog) {
                Some(rev) if offer.entry.rev < *rev => {
                    if let Ok(Some(text)) = self.store.offer(peer, &blog)
                        && let Ok(earlier) = serde_json::from_str::<council::SignedOffer>(&text)
                    {
                        rolled.push((earlier, offer));
                    }
                }
                _ => higher.push((blog, offer.entry.rev, serde_json::to_string(&offer).unwrap_or_default())),
            }
        }
        if let Err(e) = self.store.put_offers(peer, &higher) {
            tracing::error!("cannot keep a council member's offers: {e}");
        }
        rolled
    }

    /// Records a refusal about one blog from a peer.
    pub(crate) fn refused_blog(&self, peer: &str, blog: &BlogId, code: Code, reason: &str) {
        self.metrics.refusal(code);
        let _ = self.store.record_refusal(peer, Some(blog), code, reason);
        tracing::warn!(peer, %blog, code = code.as_str(), "refused: {reason}");
    }

    /// Whether `peer`, which offered `before` for `blog`, now offers `now` that drops some of
    /// it; reported once per offered state. `None` when this spoke lacks some of `now`.
    pub(crate) fn check_rollback(&self, peer: &str, blog: &BlogId, before: &[automerge::ChangeHash], now: &[automerge::ChangeHash], now_hex: &[String]) -> Option<bool> {
        let stored = self.store.blog(blog).ok()??;
        let mut doc = self.document(blog, &stored.document).ok()?;
        let r = council::rolled_back(&mut doc, before, now);
        if r == Some(true) && self.rollbacks.lock().unwrap_or_else(|p| p.into_inner()).insert((peer.to_owned(), blog.clone(), now_hex.to_vec())) {
            self.refused_blog(
                peer,
                blog,
                Code::RolledBack,
                &format!(
                    "it offered an older state of this blog than it offered before (it dropped revisions, or replays an old state); nothing was taken from it. Offered heads {}, earlier {}",
                    short_heads(now),
                    short_heads(before)
                ),
            );
        }
        r
    }
}

/// Heads as short hex prefixes, for people.
pub(crate) fn short_heads(heads: &[automerge::ChangeHash]) -> String {
    heads.iter().map(|h| h.to_string().chars().take(12).collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// Follows the operator's moderation (suspend, drop: `spoke blog …` edits the database) and
/// refreshes the gauges, every second.
pub(crate) async fn watch_loop(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        inner.count_council_entries();
        let Ok(statuses) = inner.store.statuses() else { continue };
        let held: HashMap<BlogId, (BlogKind, BlogStatus)> = statuses.into_iter().map(|(b, k, s)| (b, (k, s))).collect();
        let shown: Vec<(BlogId, bool)> = inner.views.read().unwrap_or_else(|p| p.into_inner()).iter().map(|(b, v)| (b.clone(), v.hosted)).collect();
        for (b, hosted) in &shown {
            match held.get(b) {
                None => inner.remove_view(b),
                Some((_, status)) if *status != BlogStatus::Active => inner.remove_view(b),
                Some((kind, _)) if (*kind == BlogKind::Hosted) != *hosted => inner.refresh_view(b),
                _ => {}
            }
        }
        for (b, (_, status)) in &held {
            if *status == BlogStatus::Active && !shown.iter().any(|(s, _)| s == b) {
                inner.refresh_view(b);
            }
        }
        inner.update_gauges();
    }
}

pub(crate) async fn replication_loop(inner: Arc<Inner>, endpoint: Endpoint, mut rx: mpsc::UnboundedReceiver<(BlogId, Option<String>)>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    // Blogs with new changes, when to replicate them, and the peer they came from (not sent
    // back to it; `None` once changes came from two peers).
    let mut due: HashMap<BlogId, (tokio::time::Instant, Option<String>)> = HashMap::new();
    let mut passes: u64 = 0;
    loop {
        let next = due.values().map(|(at, _)| *at).min();
        let (blogs, skip, periodic): (Vec<BlogId>, Option<String>, bool) = tokio::select! {
            _ = tick.tick() => {
                passes += 1;
                (inner.store.blog_ids().unwrap_or_default(), None, true)
            }
            m = rx.recv() => match m {
                Some((b, from)) => {
                    // The first change sets the time; later ones do not push it back.
                    match due.get_mut(&b) {
                        Some(entry) if entry.1 != from => entry.1 = None,
                        Some(_) => {}
                        None => {
                            due.insert(b, (tokio::time::Instant::now() + REPLICATION_DELAY, from));
                        }
                    }
                    continue;
                }
                None => return,
            },
            _ = async { match next { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {
                let now = tokio::time::Instant::now();
                let ready: Vec<BlogId> = due.iter().filter(|(_, (at, _))| *at <= now).map(|(b, _)| b.clone()).collect();
                let Some(b) = ready.into_iter().next() else { continue };
                let skip = due.remove(&b).and_then(|(_, s)| s);
                (vec![b], skip, false)
            }
        };
        // A periodic pass (not one for new changes) skips peers known to be in step, but
        // every tenth pass asks them all, should one have lost data meanwhile.
        for blog in blogs {
            let Some(view) = inner.blog(&blog) else { continue };
            let mut tasks = Vec::new();
            for p in view.spokes.clone() {
                if p.endpoint == inner.endpoint_id || Some(&p.endpoint) == skip.as_ref() {
                    continue;
                }
                if periodic && !passes.is_multiple_of(10) && inner.in_step.lock().unwrap_or_else(|e| e.into_inner()).get(&(p.endpoint.clone(), blog.clone())) == Some(&view.state()) {
                    continue;
                }
                let (inner, endpoint, blog) = (inner.clone(), endpoint.clone(), blog.clone());
                tasks.push(tokio::spawn(async move {
                    if let Err(e) = replicate_once(&inner, &endpoint, &blog, &p).await {
                        tracing::debug!(peer = p.endpoint, "replication failed: {e}");
                    }
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
        }
    }
}


pub(crate) async fn replicate_once(inner: &Arc<Inner>, endpoint: &Endpoint, blog: &BlogId, peer: &spokes_core::SpokeRef) -> Result<Synced, SyncError> {
    if inner.store.is_blocked(&peer.endpoint).unwrap_or(false) {
        return Err(SyncError::Connect("this spoke's operator blocked that spoke".into()));
    }
    let addr = spokes_sync::net::dial_addr(peer).map_err(SyncError::Connect)?;
    let r = sync_with(inner, endpoint, blog, &peer.endpoint, addr, Admission::Replica).await;
    let key = (peer.endpoint.clone(), blog.clone());
    let mut in_step = inner.in_step.lock().unwrap_or_else(|e| e.into_inner());
    match &r {
        Ok(Synced { in_step: Some(state), .. }) => {
            in_step.insert(key, state.clone());
        }
        _ => {
            in_step.remove(&key);
        }
    }
    drop(in_step);
    r
}

/// What a spoke's own session for one blog brought, in either protocol version.
#[derive(Debug, Default)]
pub(crate) struct Synced {
    /// Changes (version 1), or manifests and post documents (version 2), new here.
    pub(crate) new: usize,
    /// Both sides ended holding the same: the state as [`BlogView::state`] names it.
    pub(crate) in_step: Option<Vec<String>>,
}

/// A sync session for `blog` with `peer` at `addr`, then the exchange of the pictures the
/// blog links to. With [`Admission::Mirror`], a blog not held yet is pulled as a council copy.
pub(crate) async fn sync_with(inner: &Arc<Inner>, endpoint: &Endpoint, blog: &BlogId, peer: &str, addr: EndpointAddr, admission: Admission<'_>) -> Result<Synced, SyncError> {
    if inner.store.blog(blog).ok().flatten().is_some_and(|b| b.format == 2) {
        return sync_set_with(inner, endpoint, blog, peer, addr, admission).await;
    }
    let loaded = inner.load_replica(blog, peer).map_err(SyncError::Refused)?;
    let (mut replica, mut state) = match (loaded, admission) {
        (Some(x), _) => x,
        (None, Admission::Mirror) => (Replica { blog_id: blog.clone(), doc: empty_automerge(), certificate: None, statements: vec![], saved: Default::default() }, State::new()),
        (None, _) => return Err(SyncError::Connect("blog no longer hosted".into())),
    };
    let peer_id = peer.to_owned();
    let r = initiate(endpoint, addr.clone(), Hello::new(blog.clone(), None), &mut replica, &mut state, |rep, st, out| inner.persist(&peer_id, admission, rep, st, out)).await;
    // Then the images the blog links to, both ways.
    if r.is_ok() {
        exchange_images(inner, endpoint, blog, peer, addr).await;
    }
    if let Err(e) = &r {
        if matches!(e, SyncError::Refused(_)) {
            inner.record_failure(peer, Some(blog), e);
        } else if let Err(e) = inner.store.forget_sync_state(peer, blog) {
            tracing::error!("cannot reset a sync state: {e}");
        }
    }
    r.map(|o| Synced { new: o.new_changes, in_step: (o.heads == o.peer_heads && !o.heads.is_empty()).then(|| o.heads.iter().map(ToString::to_string).collect()) })
}

/// [`sync_with`] for a blog kept as a set of documents (`spokes/sync/2`), then its pictures.
/// With [`Admission::Mirror`], a blog not held yet starts from an empty replica.
async fn sync_set_with(inner: &Arc<Inner>, endpoint: &Endpoint, blog: &BlogId, peer: &str, addr: EndpointAddr, admission: Admission<'_>) -> Result<Synced, SyncError> {
    sync_set_rejecting(inner, endpoint, blog, peer, addr, admission).await.0
}

/// [`sync_set_with`], also returning the manifest header the session refused as not the
/// writer's, if it did.
async fn sync_set_rejecting(inner: &Arc<Inner>, endpoint: &Endpoint, blog: &BlogId, peer: &str, addr: EndpointAddr, admission: Admission<'_>) -> (Result<Synced, SyncError>, Option<SignedStatement>) {
    let mut replica = match inner.load_set(blog).map_err(SyncError::Refused) {
        Ok(Some(r)) => r,
        Ok(None) if matches!(admission, Admission::Mirror) => spokes_sync::set::SetReplica::new(blog.clone(), None),
        Ok(None) => return (Err(SyncError::Connect("blog no longer hosted".into())), None),
        Err(e) => return (Err(e), None),
    };
    let peer_id = peer.to_owned();
    let r = spokes_sync::set::initiate_set(endpoint, addr.clone(), None, &mut replica, &mut |id: &str| inner.load_post_doc(blog, id), |rep, out| inner.persist_set(&peer_id, admission, rep, out)).await;
    if r.is_ok() {
        exchange_images(inner, endpoint, blog, peer, addr).await;
    }
    if let Err(e @ SyncError::Refused(_)) = &r {
        inner.record_failure(peer, Some(blog), e);
    }
    let synced = r.map(|o| {
        let mine = inner.blog(blog).map(|v| v.manifests.clone()).unwrap_or_default();
        let in_step = (!mine.is_empty() && mine == o.peer_frontier).then_some(mine);
        Synced { new: o.new_manifests + o.changed_posts.len(), in_step }
    });
    (synced, replica.rejected.take())
}

/// After a sync with `peer`: the pictures `blog`'s published posts link to, both ways.
async fn exchange_images(inner: &Arc<Inner>, endpoint: &Endpoint, blog: &BlogId, peer: &str, addr: EndpointAddr) {
    let Some(view) = inner.blog(blog).filter(|v| !v.images.is_empty()) else { return };
    let linked: Vec<ImageName> = view.images.iter().cloned().collect();
    let held = inner.store.has_images(blog, &linked).unwrap_or_default();
    let (have, want): (Vec<ImageName>, Vec<ImageName>) = linked.into_iter().partition(|n| held.contains(n));
    if let Err(e) = spokes_sync::images::exchange(endpoint, addr, blog, inner.as_ref(), have, want).await {
        tracing::debug!(peer, "image replication failed: {e}");
    }
}
