//! Pushing the signed blog to spokes, and what each spoke has.

use spokes_core::problem::Code;
use crate::profile::{Profile, ProfileError};
use serde::{Deserialize, Serialize};
use spokes_core::BlogDoc;
use spokes_sync::peer::ConnectionPool;
use spokes_sync::session::{Hello, Replica};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// A spoke to push to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpokeTarget {
    /// Endpoint ID.
    pub endpoint: String,
    /// Addresses.
    pub addrs: Vec<SocketAddr>,
    /// Invite token (sent until the spoke hosts the blog; ignored after).
    pub token: Option<String>,
    /// Label.
    pub name: Option<String>,
    /// The spoke's relay (from its ticket), dialed when no direct path works.
    pub relay: Option<String>,
}

impl SpokeTarget {
    /// The iroh address to dial: the endpoint ID with every known socket address.
    ///
    /// Errors: a sentence saying the endpoint ID is not one.
    pub fn endpoint_addr(&self) -> Result<iroh::EndpointAddr, String> {
        spokes_sync::net::dial_addr(&self.spoke_addr())
    }

    /// The spoke's name, or the start of its endpoint ID.
    pub fn label(&self) -> String {
        self.spoke_addr().label()
    }

    /// Where the spoke is.
    pub fn spoke_addr(&self) -> spokes_core::SpokeAddr {
        spokes_core::SpokeAddr { endpoint: self.endpoint.clone(), addrs: self.addrs.clone(), name: self.name.clone(), web: None, relay: self.relay.clone() }
    }
}

impl From<&crate::SpokeEntry> for SpokeTarget {
    fn from(s: &crate::SpokeEntry) -> Self {
        SpokeTarget { endpoint: s.endpoint.clone(), addrs: s.addrs.clone(), token: s.token.clone(), name: s.name.clone(), relay: s.relay.clone() }
    }
}

pub use spokes_core::problem::Problem;

/// What we know of one spoke.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpokeStatus {
    /// Endpoint ID.
    pub endpoint: String,
    /// Label.
    #[serde(default)]
    pub name: Option<String>,
    /// Last attempt (RFC 3339).
    #[serde(default)]
    pub last_attempt: Option<String>,
    /// Last success (RFC 3339).
    #[serde(default)]
    pub last_success: Option<String>,
    /// Why the last attempt failed, if it did.
    #[serde(default)]
    pub last_error: Option<Problem>,
    /// The spoke's heads after the last success.
    #[serde(default)]
    pub heads: Vec<String>,
    /// Whether the spoke has everything published (computed when read).
    #[serde(default)]
    pub up_to_date: bool,
    /// Bytes this computer sent to the spoke in the last session, when known (blogs kept as
    /// a set of documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_bytes_sent: Option<u64>,
}

/// Publication status across spokes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishSummary {
    /// Spokes chosen.
    pub total: usize,
    /// Spokes that have the newest published revision.
    pub up_to_date: usize,
    /// Per spoke.
    pub spokes: Vec<SpokeStatus>,
    /// For example "Published to 2 of 3 spokes".
    pub sentence: String,
}

/// A sync failure in words a writer understands, with its stable code.
pub(crate) fn plain(e: &spokes_sync::SyncError) -> Problem {
    let code = e.code();
    let message = match code {
        Code::Connection => "The spoke could not be reached. Spokes will try again.".to_owned(),
        Code::Timeout => "The spoke stopped answering before it had taken everything (it took too long). Spokes will try again.".to_owned(),
        Code::BadInvite => "The spoke did not accept the invite. Ask its operator for a new one.".to_owned(),
        Code::NotHosted => "The spoke does not host this blog. Add it again with a new invite.".to_owned(),
        Code::Suspended => "The spoke's operator has suspended this blog there.".to_owned(),
        Code::Quota => "The blog has grown past what this spoke allows per blog (posts or size). Ask its operator, or publish to another spoke.".to_owned(),
        Code::RateLimited => "You published to this spoke very often in the last hour; it will take the rest later. Spokes will try again.".to_owned(),
        Code::LowDisk => "This spoke is short of disk space and takes no new blogs for now. Try another spoke.".to_owned(),
        // This computer refused what the spoke sent (it would have grown far past its size).
        Code::TooLarge if matches!(e, spokes_sync::SyncError::Refused(_)) => "This spoke sent far more data than your blog holds, and it was refused so that your computer stays safe. Your own copy is fine; tell the spoke's operator.".to_owned(),
        Code::TooLarge => "The blog is larger than a spoke takes in one session (256 MiB). Ask the spoke's operator, or publish to another spoke.".to_owned(),
        c if c.is_tampering() => match e {
            spokes_sync::SyncError::Refused(_) => "This spoke sent changes your signatures do not cover, and they were refused: your blog may have been altered there. Your own copy is safe; tell the spoke's operator.".to_owned(),
            _ => format!("The spoke refused what was sent as failing signature checks: {e}"),
        },
        // This computer refused what the spoke sent: bytes it could not read, or out of turn.
        Code::Malformed | Code::Protocol | Code::TooManyRounds if !matches!(e, spokes_sync::SyncError::Remote(_)) => "This spoke sent something Spokes could not read, and it was refused. Your own copy is fine; if it keeps happening, tell the spoke's operator.".to_owned(),
        Code::Malformed | Code::TooManyRounds => "The spoke could not read what this computer sent. Your own copy is fine; check that Spokes is up to date.".to_owned(),
        Code::UnsupportedVersion => "This spoke and this computer run versions of Spokes that cannot talk to each other. Update Spokes, or ask the spoke's operator to update theirs.".to_owned(),
        Code::Internal => "The spoke had a problem of its own (its storage, say). Spokes will try again.".to_owned(),
        _ => format!("Something went wrong: {e}"),
    };
    // The lower error's own words, for the app's other languages, where the sentence holds them.
    let lower = e.to_string();
    let detail = message.ends_with(&lower).then_some(lower);
    Problem { code, message, detail }
}

/// When to try unreachable spokes again: 2 s after the first failure, doubling up to once a
/// minute, each delay varied by up to ±20 % so that many writers do not retry in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub first: std::time::Duration,
    /// The longest delay.
    pub max: std::time::Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { first: std::time::Duration::from_secs(2), max: std::time::Duration::from_secs(60) }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (0 for the first retry).
    pub fn delay(&self, attempt: u32) -> std::time::Duration {
        let base = self.first.saturating_mul(1u32 << attempt.min(16)).min(self.max);
        let jitter: f64 = rand::random_range(0.8..1.2);
        base.mul_f64(jitter)
    }
}

fn sentence(up: usize, total: usize, ever: bool) -> String {
    match total {
        0 => "Not published to any spoke yet: add a spoke to publish.".into(),
        _ if !ever => "Not published yet".into(),
        1 => if up == 1 { "Published to 1 of 1 spoke".into() } else { "Published to 0 of 1 spoke".into() },
        _ => format!("Published to {up} of {total} spokes"),
    }
}

impl Profile {
    pub(crate) fn load_status(&self) -> BTreeMap<String, SpokeStatus> {
        std::fs::read(self.path("status.json")).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Publication status for `targets`, compared with the current blog heads.
    pub fn status(&self, targets: &[SpokeTarget]) -> Result<PublishSummary, ProfileError> {
        // A profile kept as a set is up to date on a spoke that holds its manifests.
        let heads: Vec<String> = if self.is_set() { self.set_heads()? } else { self.with_blog(|b| Ok(b.heads()))?.iter().map(|h| h.to_string()).collect() };
        let stored = self.load_status();
        let spokes: Vec<SpokeStatus> = targets
            .iter()
            .map(|t| {
                let mut s = stored.get(&t.endpoint).cloned().unwrap_or_else(|| SpokeStatus { endpoint: t.endpoint.clone(), ..Default::default() });
                s.name = t.name.clone();
                // A spoke that last refused (suspended the blog, dropped it) or whose last answer
                // failed the signature checks is not counted, even if it holds every revision:
                // readers cannot get the blog there, or cannot trust it. One that was merely
                // unreachable or busy still is.
                s.up_to_date = heads.iter().all(|h| s.heads.contains(h)) && s.last_success.is_some() && s.last_error.as_ref().is_none_or(|e| e.code.is_transient());
                s
            })
            .collect();
        let up = spokes.iter().filter(|s| s.up_to_date).count();
        Ok(PublishSummary { total: targets.len(), up_to_date: up, sentence: sentence(up, targets.len(), spokes.iter().any(|s| s.last_success.is_some())), spokes })
    }

    /// Targets from the profile's chosen spokes.
    pub fn targets(&self) -> Vec<SpokeTarget> {
        self.spokes().iter().map(SpokeTarget::from).collect()
    }

    /// Binds this device's endpoint for publishing: direct, and through a spoke's relay when
    /// no direct path works (how, from the environment: [`spokes_sync::net::Reach::from_env`]).
    /// Keep the pool and pass it to [`Profile::sync_with_pool`] so later publishes reuse open
    /// connections (warm).
    pub async fn connection_pool(&self) -> Result<ConnectionPool, ProfileError> {
        let io = |e: spokes_sync::net::NetError| ProfileError::Io { path: self.dir().into(), source: std::io::Error::other(e.to_string()) };
        let reach = spokes_sync::net::Reach::from_env().map_err(io)?;
        let endpoint = spokes_sync::net::bind_dialer(self.endpoint_key()?, vec![], &reach).await.map_err(io)?;
        Ok(ConnectionPool::new(endpoint))
    }

    /// [`Profile::sync_with_pool`] on a pool of its own, closed afterwards (cold connections).
    pub async fn sync_with(&self, targets: &[SpokeTarget]) -> Result<PublishSummary, ProfileError> {
        let pool = self.connection_pool().await?;
        let r = self.sync_with_pool(&pool, targets).await;
        pool.close().await;
        r
    }

    /// Syncs the signed blog with every target at once (push, and pull of what other devices
    /// published), verifying everything received before merging it. Failures are recorded per
    /// spoke, never returned as an error: one unreachable spoke does not stop the others.
    pub async fn sync_with_pool(&self, pool: &ConnectionPool, targets: &[SpokeTarget]) -> Result<PublishSummary, ProfileError> {
        if self.is_set() {
            return self.sync_set_with_pool(pool, targets).await;
        }
        let (mut base, before, full) = self.with_blog_saved(|b, full| Ok((b.automerge().fork(), b.heads(), full)))?;
        let cert = self.certificate()?;
        let statements = self.statements()?;
        // The merged document, every statement, and the certificate as the spokes know it.
        let shared = Arc::new(Mutex::new((base.fork(), statements.clone(), cert.clone())));
        let mut tasks = Vec::new();
        // Saved at most once (or as it is on disk), for the spokes that lack most of the blog
        // (a first publish).
        let saved = full.map(spokes_sync::SavedDoc::known).unwrap_or_default();
        for t in targets {
            let (t, pool, shared, cert, saved) = (t.clone(), pool.clone(), shared.clone(), cert.clone(), saved.clone());
            let blog_id = self.blog_id().clone();
            // One copy per spoke: each session works on its own.
            let doc = base.fork();
            let statements = statements.clone();
            let state_path = self.path(&format!("sync/{}.state", t.endpoint));
            tasks.push(tokio::spawn(async move {
                let mut replica = Replica { blog_id: blog_id.clone(), doc, certificate: Some(cert), statements, saved };
                let mut state = std::fs::read(&state_path).ok().and_then(|b| automerge::sync::State::decode(&b).ok()).unwrap_or_default();
                let r = match t.endpoint_addr() {
                    Err(e) => Err(spokes_sync::SyncError::Connect(e)),
                    Ok(addr) => {
                        pool.session(addr, Hello::new(blog_id, t.token.clone()), &mut replica, &mut state, |rep, _, out| {
                            let fail = |e: &dyn std::fmt::Display| spokes_sync::RemoteError::new(Code::Internal, e.to_string());
                            let mut g = shared.lock().unwrap_or_else(|p| p.into_inner());
                            if out.new_changes > 0 {
                                let mut incoming = rep.doc.clone();
                                g.0.merge(&mut incoming).map_err(|e| fail(&e))?;
                            }
                            g.1.extend(out.new_statements.iter().cloned());
                            if out.certificate_changed
                                && let Some(c) = &rep.certificate
                            {
                                g.2.merge(c);
                            }
                            Ok(())
                        })
                        .await
                    }
                };
                // The sync state is kept only after a whole session the spoke accepted: a spoke
                // that refused at the end (over its quota, say) does not hold what the state
                // would claim, and the next session would leave out the statements covering it.
                let kept = match &r {
                    Ok(_) => state_path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|_| crate::fsutil::write_atomic(&state_path, &state.encode())),
                    Err(_) => match std::fs::remove_file(&state_path) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                        _ => Ok(()),
                    },
                };
                if let Err(e) = kept {
                    tracing::warn!(spoke = t.endpoint, "cannot keep the sync state: {e}");
                }
                (t, r)
            }));
        }
        let mut status = self.load_status();
        let now = chrono::Utc::now().to_rfc3339();
        for task in tasks {
            let Ok((t, r)) = task.await else { continue };
            let s = status.entry(t.endpoint.clone()).or_insert_with(|| SpokeStatus { endpoint: t.endpoint.clone(), ..Default::default() });
            s.last_attempt = Some(now.clone());
            match r {
                Ok(out) => {
                    s.last_success = Some(now.clone());
                    s.last_error = None;
                    s.heads = out.peer_heads.iter().map(|h| h.to_string()).collect();
                }
                Err(e) => {
                    tracing::warn!(spoke = t.endpoint, "sync failed: {e}");
                    s.last_error = Some(plain(&e));
                }
            }
        }
        // Save what was pulled (other devices' revisions), then the status.
        let (doc, statements, learned) = {
            let mut g = shared.lock().unwrap_or_else(|p| p.into_inner());
            (std::mem::replace(&mut g.0, spokes_core::doc::empty_automerge()), std::mem::take(&mut g.1), g.2.clone())
        };
        // Devices added or removed on the writer's other computers.
        if learned != cert && self.merge_certificate(&learned)? {
            tracing::info!("learned a newer copy of the author's certificate");
        }
        let mut merged = BlogDoc::from_automerge(doc)?;
        if merged.heads() != before {
            self.save_blog(&mut merged)?;
            // The list shows what the other computers published.
            let ids: Vec<String> = merged.changed_post_ids(&before).map(|ids| ids.into_iter().collect()).unwrap_or_default();
            self.refresh_published(Some(&ids))?;
        }
        // The pictures the posts link to, with the spokes that took the blog. A spoke that
        // did not get them is not up to date, so it is tried again.
        let synced: Vec<SpokeTarget> = targets.iter().filter(|t| status.get(&t.endpoint).is_some_and(|s| s.last_error.is_none())).cloned().collect();
        for (endpoint, problem) in self.sync_images(pool, &synced).await? {
            if let Some(s) = status.get_mut(&endpoint) {
                s.last_error = Some(problem);
                s.heads.clear();
            }
        }
        if statements.len() != self.statements()?.len() {
            let mut seen = std::collections::HashSet::new();
            let uniq: Vec<_> = statements.into_iter().filter(|s| seen.insert(s.clone())).collect();
            self.save_statements(&uniq)?;
        }
        // A computer declared lost (here or, as the certificate just learned says, on another
        // of the writer's computers): what only it signed leaves this profile too.
        self.apply_lost_devices()?;
        self.write("status.json", &serde_json::to_vec_pretty(&status).unwrap_or_default())?;
        self.status(targets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retries_back_off_to_once_a_minute_with_jitter() {
        let b = Backoff::default();
        let first = b.delay(0);
        assert!(first >= Duration::from_millis(1600) && first <= Duration::from_millis(2400), "{first:?}");
        let fourth = b.delay(3);
        assert!(fourth >= Duration::from_millis(12800) && fourth <= Duration::from_millis(19200), "{fourth:?}");
        for attempt in [6, 10, 40, u32::MAX] {
            let d = b.delay(attempt);
            assert!(d >= Duration::from_secs(48) && d <= Duration::from_secs(72), "{attempt}: {d:?}");
        }
    }
}
