//! Drafts between the writer's own computers: each device leaves its drafts document with
//! the spokes, sealed (encrypted to the author's certificate, signed by the device:
//! `spokes_core::seal`), and merges the other devices' drafts it finds there. Spokes store
//! only ciphertext (`spokes_sync::drafts`).

use crate::profile::{Profile, ProfileError};
use crate::publish::SpokeTarget;
use spokes_core::seal::{OpeningKeys, open, seal};
use spokes_core::SigningKey;
use spokes_sync::drafts::ReceivedItem;
use spokes_sync::peer::ConnectionPool;
use crate::drafts::Bundle;
use std::collections::{BTreeMap, HashMap, HashSet};

/// What a drafts exchange did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DraftsSummary {
    /// Spokes that took this device's drafts.
    pub spokes_reached: usize,
    /// Other devices' drafts merged.
    pub devices_merged: usize,
    /// Draft items (the index, a post) this computer sealed and left (`spokes/drafts/2`), and
    /// their sealed bytes: what changed since the last exchange.
    pub items_left: usize,
    /// Sealed bytes of those items.
    pub bytes_left: u64,
    /// Other computers' items taken in.
    pub items_taken: usize,
    /// Spokes that do not hold the blog yet (its first publish there had not happened): the
    /// exchange is worth trying again once it has.
    pub not_hosted: usize,
    /// Why a spoke or a device's drafts failed, in plain words.
    pub problems: Vec<String>,
}

impl Profile {
    /// Leaves this device's drafts, sealed with `key`, with every target and merges the other
    /// devices' drafts found there (opened with `opening`). Unreachable spokes and unreadable
    /// drafts are reported in the summary, not as errors; nothing local is lost either way.
    ///
    /// The drafts travel as a bundle of the index and every post's document
    /// ([`crate::drafts`]); posts merge field by field and character by character. Drafts
    /// sent by a computer not yet at profile layout 4 (one whole document) are taken post by
    /// post: a post missing here is added, and one changed later there replaces the copy here.
    pub async fn sync_drafts(&self, key: &mut SigningKey, opening: &OpeningKeys, targets: &[SpokeTarget]) -> Result<DraftsSummary, ProfileError> {
        let pool = self.connection_pool().await?;
        let r = self.sync_drafts_with_pool(&pool, key, opening, targets).await;
        pool.close().await;
        r
    }

    /// [`Profile::sync_drafts`] dialling from `pool`'s endpoint (the app keeps one open).
    ///
    /// With a spoke that speaks `spokes/drafts/2`, the drafts travel by item: the index and
    /// each post's document sealed apart; this computer leaves only the items whose document
    /// changed since it last left them (or that the spoke lacks), and takes only the other
    /// computers' items it has not taken as they are. What it left and took is remembered in
    /// the post list ([`crate::list`]). An older spoke gets the whole bundle
    /// (`spokes/drafts/1`), as before.
    pub async fn sync_drafts_with_pool(&self, pool: &ConnectionPool, key: &mut SigningKey, opening: &OpeningKeys, targets: &[SpokeTarget]) -> Result<DraftsSummary, ProfileError> {
        let cert = self.certificate()?;
        let me = key.key_fingerprint();
        let mut summary = DraftsSummary::default();
        // Every spoke at once: one slow spoke does not hold up the others.
        let opened = futures_util::future::join_all(targets.iter().map(|t| async move {
            let r = match t.endpoint_addr() {
                Ok(addr) => spokes_sync::drafts::open_items(pool.endpoint(), addr, self.blog_id()).await,
                Err(e) => Err(spokes_sync::SyncError::Connect(e.to_string())),
            };
            (t, r)
        }))
        .await;
        let (mut open, mut older) = (Vec::new(), Vec::new());
        for (t, r) in opened {
            match r {
                Ok(x) => open.push((t, x)),
                Err(e) if speaks_only_v1(&e) => older.push(t.clone()),
                Err(e) => {
                    if matches!(&e, spokes_sync::SyncError::Remote(r) if r.code == spokes_core::problem::Code::NotHosted) {
                        summary.not_hosted += 1;
                    }
                    summary.problems.push(format!("{}: {e}", t.label()));
                }
            }
        }
        let mut found = Vec::new();
        if !open.is_empty() {
            let list = self.list()?;
            let sent = list.drafts_sent()?;
            let taken = list.drafts_taken()?;
            let known = list.item_heads()?;
            let mut fresh = Vec::new();
            let mine = |d: &str| d.eq_ignore_ascii_case(&me);
            // Each spoke's inventory by item name, so that looking an item up costs the same
            // in a blog of any size.
            let by_item: Vec<HashMap<&str, Vec<&spokes_sync::drafts::ItemRef>>> = open
                .iter()
                .map(|(_, (_, inv))| {
                    let mut m: HashMap<&str, Vec<&spokes_sync::drafts::ItemRef>> = HashMap::with_capacity(inv.len());
                    for r in inv {
                        m.entry(r.item.as_str()).or_default().push(r);
                    }
                    m
                })
                .collect();
            // What to leave: an item whose document changed since it was last left, or that a
            // spoke does not hold as it was left.
            let mut to_seal = Vec::new();
            for name in self.draft_item_names()? {
                // The heads before the bytes: an edit between them is left at the next sync.
                let heads = self.draft_item_heads(&name, &known, &mut fresh)?;
                let last = sent.get(&name);
                // Left by this computer (held as left), or (`=device:hash`) taken from another
                // whose item stands for this one's: held while the spoke holds that
                // computer's item, as taken or later (a document only grows, so its later
                // seals hold all of what was taken).
                let holds = |r: &spokes_sync::drafts::ItemRef, h: &str| match h.strip_prefix('=').and_then(|c| c.split_once(':')) {
                    Some((device, _)) => r.device.eq_ignore_ascii_case(device),
                    None => mine(&r.device) && r.hash == h,
                };
                let held_everywhere = last.is_some_and(|(s, h)| *s == heads && by_item.iter().all(|m| m.get(name.as_str()).is_some_and(|rs| rs.iter().any(|r| holds(r, h)))));
                if held_everywhere {
                    continue;
                }
                to_seal.push((name, heads));
            }
            drop(by_item);
            let (puts, newly_sent) = self.seal_items(to_seal, &cert, key)?;
            // What to take: each other computer's item in a form not taken yet, from the
            // first spoke that lists it.
            let mut wanted: HashSet<(String, String, String)> = HashSet::new();
            let mut wants_per: Vec<Vec<(String, String)>> = Vec::new();
            for (_, (_, inv)) in &open {
                let mut wants = Vec::new();
                for r in inv {
                    if mine(&r.device) || !(spokes_sync::drafts::is_item_name(&r.item) || r.item == spokes_sync::drafts::BUNDLE_ITEM) {
                        continue;
                    }
                    if taken.get(&(r.device.clone(), r.item.clone())) == Some(&r.hash) {
                        continue;
                    }
                    if wanted.insert((r.device.clone(), r.item.clone(), r.hash.clone())) {
                        wants.push((r.device.clone(), r.item.clone()));
                    }
                }
                wants_per.push(wants);
            }
            let runs = open.into_iter().zip(wants_per).map(|((t, (ex, _)), wants)| {
                let puts = &puts;
                async move { (t.label(), ex.finish(puts, &wants).await) }
            });
            let mut left_somewhere = false;
            for (label, r) in futures_util::future::join_all(runs).await {
                match r {
                    Ok(items) => {
                        summary.spokes_reached += 1;
                        left_somewhere = true;
                        found.extend(items);
                    }
                    Err(e) => summary.problems.push(format!("{label}: {e}")),
                }
            }
            list.set_item_heads(&fresh)?;
            if left_somewhere && !newly_sent.is_empty() {
                list.set_drafts_sent(&newly_sent)?;
                summary.items_left = puts.len();
                summary.bytes_left = puts.iter().map(|(_, s)| s.len() as u64).sum();
            }
        }
        self.take_items(found, &cert, opening, &mut summary)?;
        if !older.is_empty() {
            self.sync_whole_drafts(pool, key, opening, &older, &cert, &mut summary).await?;
        }
        Ok(summary)
    }

    /// Reads and seals the draft items `names` (with the heads read before them) on every
    /// core. Returns the items to leave (name, seal) and what to record once left (name,
    /// heads, BLAKE3 hex of the seal).
    #[allow(clippy::type_complexity)]
    fn seal_items(&self, names: Vec<(String, String)>, cert: &spokes_core::Certificate, key: &SigningKey) -> Result<(Vec<(String, Vec<u8>)>, Vec<Taken>), ProfileError> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let per = names.len().div_ceil(cores).max(1);
        let sealed: Vec<Result<Vec<(String, String, Vec<u8>)>, ProfileError>> = std::thread::scope(|s| {
            let workers: Vec<_> = names
                .chunks(per)
                .map(|part| {
                    let mut key = key.clone();
                    s.spawn(move || {
                        part.iter()
                            .map(|(name, heads)| {
                                let sealed = seal(&self.draft_item(name)?, cert, &mut key).map_err(|e| ProfileError::Signing(e.to_string()))?;
                                Ok((name.clone(), heads.clone(), sealed))
                            })
                            .collect::<Result<Vec<_>, ProfileError>>()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap_or_else(|_| Err(ProfileError::Signing("a sealing thread stopped".into())))).collect()
        });
        let (mut puts, mut sent) = (Vec::with_capacity(names.len()), Vec::with_capacity(names.len()));
        for part in sealed {
            for (name, heads, seal) in part? {
                sent.push((name.clone(), heads, blake3::hash(&seal).to_hex().to_string()));
                puts.push((name, seal));
            }
        }
        Ok((puts, sent))
    }

    /// Opens and takes in the items received from the spokes, one bundle per device, and
    /// records what was taken. An item that does not open, or that a spoke filed under another
    /// device than the one that sealed it, is reported and skipped.
    fn take_items(&self, found: Vec<ReceivedItem>, cert: &spokes_core::Certificate, opening: &OpeningKeys, summary: &mut DraftsSummary) -> Result<(), ProfileError> {
        let Opened { per_device, wholes } = open_received(found, cert, opening, &mut summary.problems);
        let list = self.list()?;
        for (_, (bundle, records)) in per_device {
            match self.take_bundle_covering(&bundle) {
                Ok((_, covered)) => {
                    summary.devices_merged += 1;
                    summary.items_taken += records.len();
                    list.set_drafts_taken(&records)?;
                    // A post now exactly as that computer left it is not left again from here.
                    list.set_drafts_sent(&covered_items(&covered, &records))?;
                }
                Err(e @ ProfileError::Damaged { .. }) => summary.problems.push(format!("a device's drafts could not be read: {e}")),
                Err(e) => return Err(e),
            }
        }
        for (plain, record) in wholes {
            match self.take_drafts(&plain) {
                Ok(_) => {
                    summary.devices_merged += 1;
                    list.set_drafts_taken(&[record])?;
                }
                Err(e @ ProfileError::Damaged { .. }) => summary.problems.push(format!("a device's drafts could not be read: {e}")),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The whole-bundle exchange (`spokes/drafts/1`) with spokes that speak nothing newer.
    async fn sync_whole_drafts(&self, pool: &ConnectionPool, key: &mut SigningKey, opening: &OpeningKeys, targets: &[SpokeTarget], cert: &spokes_core::Certificate, summary: &mut DraftsSummary) -> Result<(), ProfileError> {
        let plain = self.drafts_bundle()?;
        let sealed = seal(&plain, cert, key).map_err(|e| ProfileError::Signing(e.to_string()))?;
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        let runs = targets.iter().map(|t| {
            let sealed = sealed.clone();
            async move {
                let r = match t.endpoint_addr() {
                    Ok(addr) => spokes_sync::drafts::exchange(pool.endpoint(), addr, self.blog_id(), Some(sealed)).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                (t.label(), r)
            }
        });
        for (label, r) in futures_util::future::join_all(runs).await {
            match r {
                Ok(blobs) => {
                    summary.spokes_reached += 1;
                    for b in blobs {
                        if seen.insert(blake3::hash(&b)) {
                            found.push(b);
                        }
                    }
                }
                Err(e) => summary.problems.push(format!("{label}: {e}")),
            }
        }
        for blob in found {
            let plain = match open(&blob, cert, opening) {
                Ok((plain, _)) => plain,
                Err(e) => {
                    summary.problems.push(format!("a device's drafts could not be read: {e}"));
                    continue;
                }
            };
            match self.take_drafts(&plain) {
                Ok(_) => summary.devices_merged += 1,
                Err(e @ ProfileError::Damaged { .. }) => summary.problems.push(format!("a device's drafts could not be read: {e}")),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Whether a failed `spokes/drafts/2` connection means the spoke speaks only version 1 (its
/// TLS handshake refused the ALPN: "the cryptographic handshake failed: error 120: peer
/// doesn't support any known protocol"), not that it is unreachable.
fn speaks_only_v1(e: &spokes_sync::SyncError) -> bool {
    let m = e.to_string().to_ascii_lowercase();
    // TLS alert 120, no_application_protocol (RFC 8446 §6.2, RFC 7301 §3.2), as quinn words it.
    matches!(e, spokes_sync::SyncError::Connect(_)) && (m.contains("error 120") || m.contains("support any known protocol") || m.contains("no_application_protocol"))
}

/// What was taken, as recorded: (device, item, BLAKE3 hex of the sealed bytes).
pub(crate) type Taken = (String, String, String);

/// Received items opened: each device's items as one bundle, and whole bundles
/// (`spokes/drafts/1`) as their plaintexts; each with what to record as taken.
#[derive(Default)]
struct Opened {
    per_device: BTreeMap<String, (Bundle, Vec<Taken>)>,
    wholes: Vec<(Vec<u8>, Taken)>,
}

/// Opens `found` (each distinct seal once). An item that does not open, that a spoke filed
/// under another device than the one that sealed it, or whose bundle holds other documents
/// than its name says, is left out and said in `problems`.
fn open_received(found: Vec<ReceivedItem>, cert: &spokes_core::Certificate, opening: &OpeningKeys, problems: &mut Vec<String>) -> Opened {
    let mut seen = HashSet::new();
    let mut out = Opened::default();
    for it in found {
        let hash = blake3::hash(&it.sealed).to_hex().to_string();
        if !seen.insert(hash.clone()) {
            continue;
        }
        let (plain, signer) = match open(&it.sealed, cert, opening) {
            Ok(x) => x,
            Err(e) => {
                problems.push(format!("a device's drafts could not be read: {e}"));
                continue;
            }
        };
        // A bundle from a spoke of `spokes/drafts/1` comes without a device.
        if !it.device.is_empty() && !signer.eq_ignore_ascii_case(&it.device) {
            problems.push(format!("a spoke filed drafts sealed by {signer} under another computer ({}); they were not taken", it.device));
            continue;
        }
        if it.item == spokes_sync::drafts::BUNDLE_ITEM {
            out.wholes.push((plain, (signer, it.item, hash)));
            continue;
        }
        let part = match Bundle::from_item(&plain, &it.item) {
            Ok(b) => b,
            Err(e) => {
                problems.push(format!("a device's drafts could not be read: {e}"));
                continue;
            }
        };
        let (b, records) = out.per_device.entry(signer.clone()).or_default();
        if !part.index.0.is_empty() {
            b.index = part.index;
        }
        b.posts.extend(part.posts);
        records.push((signer, it.item, hash));
    }
    out
}

/// Every sealed draft a spoke holds for `blog_id`, to restore from: the items of
/// `spokes/drafts/2` (with the bundles it lists), or from a spoke that speaks only
/// `spokes/drafts/1` its bundles (as items named [`spokes_sync::drafts::BUNDLE_ITEM`]). None when the spoke
/// cannot be asked.
pub(crate) async fn fetch_drafts(endpoint: &iroh::Endpoint, addr: iroh::EndpointAddr, blog_id: &spokes_core::BlogId) -> Vec<ReceivedItem> {
    match spokes_sync::drafts::open_items(endpoint, addr.clone(), blog_id).await {
        Ok((ex, inventory)) => {
            let wants: Vec<(String, String)> = inventory.into_iter().filter(|r| spokes_sync::drafts::is_item_name(&r.item) || r.item == spokes_sync::drafts::BUNDLE_ITEM).map(|r| (r.device, r.item)).collect();
            ex.finish(&[], &wants).await.unwrap_or_default()
        }
        Err(e) if speaks_only_v1(&e) => spokes_sync::drafts::exchange(endpoint, addr, blog_id, None)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|sealed| ReceivedItem { device: String::new(), item: spokes_sync::drafts::BUNDLE_ITEM.to_owned(), sealed })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Opens `found` into drafts plaintexts a new profile takes in ([`crate::profile::DraftsFrom::Opened`]):
/// one bundle per device, and each whole bundle as it is; with what to record as taken
/// (`PostList::set_drafts_taken`) once the profile exists.
pub(crate) fn opened_bundles(found: Vec<ReceivedItem>, cert: &spokes_core::Certificate, opening: &OpeningKeys) -> (Vec<Vec<u8>>, Vec<Taken>) {
    let mut problems = Vec::new();
    let Opened { per_device, wholes } = open_received(found, cert, opening, &mut problems);
    for p in problems {
        tracing::warn!("{p}");
    }
    let mut taken = Vec::new();
    let mut bundles = Vec::new();
    for (_, (b, records)) in per_device {
        bundles.push(b.to_bytes());
        taken.extend(records);
    }
    for (plain, record) in wholes {
        bundles.push(plain);
        taken.push(record);
    }
    (bundles, taken)
}

/// For each post in `covered` (its document here exactly another computer's item, with
/// those heads), the record that that item stands for this computer's: (item, heads,
/// `=device:hash`).
pub(crate) fn covered_items(covered: &[(String, String)], records: &[Taken]) -> Vec<(String, String, String)> {
    let by_item: HashMap<&str, (&str, &str)> = records.iter().map(|(device, item, hash)| (item.as_str(), (device.as_str(), hash.as_str()))).collect();
    covered
        .iter()
        .filter_map(|(item, heads)| {
            let (device, hash) = by_item.get(item.as_str())?;
            Some((item.clone(), heads.clone(), format!("={device}:{hash}")))
        })
        .collect()
}
