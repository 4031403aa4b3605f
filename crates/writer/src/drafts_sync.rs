//! Drafts between the writer's own computers: each device leaves its drafts document with
//! the spokes, sealed (encrypted to the author's certificate, signed by the device:
//! `spokes_core::seal`), and merges the other devices' drafts it finds there. Spokes store
//! only ciphertext (`spokes_sync::drafts`).

use crate::profile::{Profile, ProfileError};
use crate::publish::SpokeTarget;
use spokes_core::seal::{OpeningKeys, open, seal};
use spokes_core::SigningKey;
use spokes_sync::peer::ConnectionPool;
use std::collections::HashSet;

/// What a drafts exchange did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DraftsSummary {
    /// Spokes that took this device's drafts.
    pub spokes_reached: usize,
    /// Other devices' drafts merged.
    pub devices_merged: usize,
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
    pub async fn sync_drafts_with_pool(&self, pool: &ConnectionPool, key: &mut SigningKey, opening: &OpeningKeys, targets: &[SpokeTarget]) -> Result<DraftsSummary, ProfileError> {
        let cert = self.certificate()?;
        let plain = self.drafts_bundle()?;
        let sealed = seal(&plain, &cert, key).map_err(|e| ProfileError::Signing(e.to_string()))?;
        let mut summary = DraftsSummary::default();
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        // Every spoke at once: one slow spoke does not hold up the others.
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
            let plain = match open(&blob, &cert, opening) {
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
        Ok(summary)
    }
}
