//! The writer's workflows, written once: the `spokes` CLI and each of the app's commands call
//! these in a few lines instead of repeating their steps.
//!
//! - [`WriterSession::publish`]: take in what the writer's other computers published, exchange
//!   drafts with them, check that this computer may still sign, sign, send to the spokes.
//! - [`WriterSession::unpublish`], [`WriterSession::deliver`] (try the spokes that missed a
//!   publish again, backing off).
//! - [`Profile::save_text`]: an autosave of a draft's title and text, with the slug following
//!   the title while the writer has not chosen one.
//! - [`Durability`]: after autosaves, flush them to the disk and refresh the post-list snapshot
//!   once the writer pauses.
//! - [`check_new_passphrase`], [`default_profile_dir`].

use crate::drafts_sync::DraftsSummary;
use crate::publish::{Backoff, PublishSummary, SpokeTarget};
use crate::{ConnectionPool, Profile, ProfileError};
use spokes_core::SigningKey;
use spokes_core::doc::slugify;
use spokes_core::seal::OpeningKeys;
use spokes_sync::set::SetReplica;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The shortest passphrase a new identity may have, in characters.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// Whether `passphrase` may protect a new identity: at least [`MIN_PASSPHRASE_CHARS`]
/// characters. Errors: [`ProfileError::WeakPassphrase`].
pub fn check_new_passphrase(passphrase: &str) -> Result<(), ProfileError> {
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS { Err(ProfileError::WeakPassphrase) } else { Ok(()) }
}

/// The profile folder when none is given: `SPOKES_PROFILE`, else
/// `$XDG_DATA_HOME/spokes/default` (`~/.local/share/spokes/default`).
pub fn default_profile_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("SPOKES_PROFILE") {
        return PathBuf::from(p);
    }
    let base = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share"))).unwrap_or_else(|| PathBuf::from("."));
    base.join("spokes/default")
}

/// One writer at work on one profile with an unlocked key: what publishing and unpublishing
/// take. Cheap to make per command (the profile and the pool are shared handles).
pub struct WriterSession {
    profile: Profile,
    key: SigningKey,
    /// Opens the sealed drafts of the writer's other computers; `None` skips the exchange
    /// (an identity made before drafts were shared).
    opening: Option<OpeningKeys>,
    targets: Vec<SpokeTarget>,
    /// Connections kept open between publishes; `None` binds an endpoint per step.
    pool: Option<ConnectionPool>,
}

/// What [`WriterSession::publish`] did.
#[derive(Debug, Default)]
pub struct Published {
    /// Posts signed.
    pub signed: usize,
    /// Whether posts published on two computers at once were signed again with both edits
    /// (see [`Profile::publish_local`]).
    pub republished: bool,
    /// The drafts exchange with the writer's other computers; `Err` with the reason when it
    /// did not happen (the publish goes on without it).
    pub drafts: Option<Result<DraftsSummary, String>>,
    /// Where the blog is now; `None` when offline.
    pub summary: Option<PublishSummary>,
}

/// The environment variable that holds a profile at version 1 (see
/// [`WriterSession::upgrade_if_needed`]).
pub const HOLD_LAYOUT_ENV: &str = "SPOKES_WRITER_LAYOUT";

/// Whether [`HOLD_LAYOUT_ENV`] is `1`: version 1 profiles stay so.
pub fn layout_held() -> bool {
    std::env::var_os(HOLD_LAYOUT_ENV).is_some_and(|v| v == "1")
}

/// What [`WriterSession::upgrade_if_needed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutUpgrade {
    /// The profile kept its blog as a set already.
    Already,
    /// This computer made the set from its blog document: this many published posts moved.
    Made(usize),
    /// Another of the writer's computers had made the set; this one took it from a spoke
    /// (this many posts).
    Joined(usize),
    /// None of the chosen spokes answered: the profile stays at version 1 until it is online.
    Later,
    /// Held at version 1 by [`HOLD_LAYOUT_ENV`].
    Held,
}

/// What the chosen spokes said about the blog's layout.
enum Fetched {
    /// A set (verified later, by `Profile::join_set`).
    Set(Box<SetReplica>),
    /// At least one answered, and none keeps a set.
    NoSet,
    /// None answered.
    NoAnswer,
}

impl WriterSession {
    /// A session over `profile` signing with `key`, publishing to `targets`.
    pub fn new(profile: Profile, key: SigningKey, opening: Option<OpeningKeys>, targets: Vec<SpokeTarget>, pool: Option<ConnectionPool>) -> WriterSession {
        WriterSession { profile, key, opening, targets, pool }
    }

    /// Runs `f` on the session's connection pool, or on one of its own closed afterwards.
    pub(crate) async fn with_pool<R>(&self, f: impl AsyncFnOnce(&ConnectionPool) -> R) -> Result<R, ProfileError> {
        if let Some(pool) = &self.pool {
            return Ok(f(pool).await);
        }
        let own = self.profile.connection_pool().await?;
        let r = f(&own).await;
        own.close().await;
        Ok(r)
    }

    /// The key this session signs with.
    pub(crate) fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Sends the blog to every target (per-spoke failures are in the summary). A profile kept
    /// as a set of documents ([`crate::sets`]) then takes in what the spokes brought (the
    /// writer's other computers' publishes) and, when that or the clock (a scheduled post
    /// whose date came) changed what is published, signs a new manifest and sends it.
    ///
    /// A profile still at version 1 moves to a set first ([`WriterSession::upgrade_if_needed`]).
    pub async fn sync(&self) -> Result<PublishSummary, ProfileError> {
        self.upgrade_if_needed().await?;
        let summary = self.sync_published().await?;
        if !self.profile.is_set() {
            return Ok(summary);
        }
        // The sync may have brought news of this computer's removal: then it signs nothing.
        self.profile.check_device(&self.key)?;
        let mut key = self.key.clone();
        self.profile.fold_set(&mut key)?;
        if self.profile.sign_set(&mut key, chrono::Utc::now().fixed_offset())? {
            return self.sync_published().await;
        }
        Ok(summary)
    }

    async fn sync_published(&self) -> Result<PublishSummary, ProfileError> {
        match &self.pool {
            Some(pool) => self.profile.sync_with_pool(pool, &self.targets).await,
            None => self.profile.sync_with(&self.targets).await,
        }
    }

    /// Moves the published blog to a set of documents, one per post, under a signed manifest
    /// (docs/formats.md "Signed manifest"), and unless `offline` sends it to the targets, which
    /// then delete the words of every post that is not published any more. Online, a blog
    /// another of the writer's computers moved already is taken from the spokes instead
    /// (`Profile::join_set`). Returns how many posts moved (0 when the profile had moved
    /// before).
    pub async fn upgrade(&self, offline: bool) -> Result<usize, ProfileError> {
        let n = match self.move_to_set(!offline).await? {
            LayoutUpgrade::Made(n) | LayoutUpgrade::Joined(n) => n,
            _ => 0,
        };
        if !offline && !self.targets.is_empty() {
            self.sync().await?;
        }
        Ok(n)
    }

    /// The automatic upgrade, run before every sync (so at the first publish, sync or
    /// delivery after this build opens a version 1 profile, and by the app right after the
    /// writer unlocks): moves the blog to a set of documents as [`WriterSession::upgrade`]
    /// does, but only when it is safe to make the set here. A profile with chosen spokes
    /// asks them first whether another of the writer's computers moved the blog already; it
    /// then takes that set. When none of them answers the profile waits at version 1 until
    /// this computer is online (two computers splitting differing words would make clashing
    /// post documents). `SPOKES_WRITER_LAYOUT=1` in the environment holds a profile at
    /// version 1, as a writer's app from before documents per post would: for tests of how
    /// spokes treat such writers.
    ///
    /// Errors: [`ProfileError::DeviceRemoved`], storage and signing errors; a spoke that does
    /// not answer is not an error.
    pub async fn upgrade_if_needed(&self) -> Result<LayoutUpgrade, ProfileError> {
        if self.profile.is_set() {
            return Ok(LayoutUpgrade::Already);
        }
        if layout_held() {
            return Ok(LayoutUpgrade::Held);
        }
        let up = self.move_to_set(true).await?;
        match up {
            LayoutUpgrade::Made(n) => tracing::info!("the blog is kept as one document per post now ({n} published posts moved)"),
            LayoutUpgrade::Joined(n) => tracing::info!("the blog is kept as one document per post now, as on the writer's other computer ({n} posts)"),
            _ => {}
        }
        Ok(up)
    }

    /// [`WriterSession::upgrade`] without the sync: with `probe`, the chosen spokes are asked
    /// for a set first (none answering gives [`LayoutUpgrade::Later`]).
    async fn move_to_set(&self, probe: bool) -> Result<LayoutUpgrade, ProfileError> {
        let _moving = self.profile.upgrading.lock().await;
        if self.profile.is_set() {
            return Ok(LayoutUpgrade::Already);
        }
        self.profile.check_device(&self.key)?;
        let mut key = self.key.clone();
        let chosen = self.profile.targets();
        if probe && !chosen.is_empty() {
            match self.fetch_set(&chosen).await? {
                Fetched::Set(replica) => return Ok(LayoutUpgrade::Joined(self.profile.join_set(*replica, &mut key)?)),
                Fetched::NoAnswer => return Ok(LayoutUpgrade::Later),
                Fetched::NoSet => {}
            }
        }
        Ok(LayoutUpgrade::Made(self.profile.upgrade_to_set(&mut key, chrono::Utc::now().fixed_offset())?))
    }

    /// Asks each of `targets` over `spokes/sync/2` for the set it keeps of this blog (sending
    /// nothing: the request carries no manifest), into one replica.
    async fn fetch_set(&self, targets: &[SpokeTarget]) -> Result<Fetched, ProfileError> {
        let own;
        let pool = match &self.pool {
            Some(p) => p,
            None => {
                own = self.profile.connection_pool().await?;
                &own
            }
        };
        let mut set = SetReplica::new(self.profile.blog_id().clone(), Some(self.profile.certificate()?));
        let mut answered = false;
        for t in targets {
            let Ok(addr) = t.endpoint_addr() else { continue };
            match pool.set_session(addr, None, &mut set, &mut |_: &str| None, |_, _| Ok(())).await {
                // A spoke that keeps the blog at version 1, or not at all, refuses to take an
                // empty set: an answer all the same.
                Ok(_) | Err(spokes_sync::SyncError::Remote(_)) => answered = true,
                Err(e) => tracing::debug!(spoke = t.endpoint, "no answer about the blog's layout: {e}"),
            }
        }
        if self.pool.is_none() {
            pool.close().await;
        }
        Ok(if !set.frontier.is_empty() {
            Fetched::Set(Box::new(set))
        } else if answered {
            Fetched::NoSet
        } else {
            Fetched::NoAnswer
        })
    }

    /// Exchanges drafts with the writer's other computers through the targets. `None` without
    /// opening keys.
    pub async fn exchange_drafts(&self) -> Option<Result<DraftsSummary, String>> {
        let opening = self.opening.as_ref()?;
        let mut key = self.key.clone();
        let r = match &self.pool {
            Some(pool) => self.profile.sync_drafts_with_pool(pool, &mut key, opening, &self.targets).await,
            None => self.profile.sync_drafts(&mut key, opening, &self.targets).await,
        };
        Some(r.map_err(|e| e.to_string()))
    }

    /// Publishes the posts `ids` (`None`: every changed draft; `Some(&[])`: only the posts
    /// published on two computers at once): unless `offline` or without targets, first takes
    /// in what the writer's other computers published and exchanges drafts with them, so this
    /// publish builds on their work instead of undoing it; then checks that this computer
    /// may still sign (the sync may have brought news of its removal), signs, and unless
    /// `offline` sends the blog to the targets.
    ///
    /// Errors: [`ProfileError::DeviceRemoved`], signing and storage errors; a spoke that fails
    /// is reported in the summary, not as an error.
    pub async fn publish(&self, ids: Option<&[String]>, offline: bool) -> Result<Published, ProfileError> {
        let online = !offline && !self.targets.is_empty();
        let mut out = Published::default();
        let started = std::time::Instant::now();
        if online {
            self.sync().await?;
        }
        tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "publish: pulled");
        // Before drafts are sealed with a key the sync may have just revoked.
        self.profile.check_device(&self.key)?;
        if online {
            out.drafts = self.exchange_drafts().await;
        }
        tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "publish: drafts exchanged");
        let mut key = self.key.clone();
        (out.signed, out.republished) = self.profile.publish_local(&mut key, ids)?;
        tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "publish: published here");
        if self.profile.is_set() {
            self.profile.sign_set(&mut key, chrono::Utc::now().fixed_offset())?;
        }
        tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "publish: manifest signed");
        if !offline {
            out.summary = Some(self.sync().await?);
        }
        tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "publish: sent");
        // A blog's first publish to a spoke: its drafts could not be left there before it
        // held the blog.
        if matches!(&out.drafts, Some(Ok(d)) if d.not_hosted > 0) {
            out.drafts = self.exchange_drafts().await;
        }
        Ok(out)
    }

    /// Withdraws post `id` from readers with a signed revision and, unless `offline`, tells
    /// the targets. Returns whether it was published, and where the blog is now.
    pub async fn unpublish(&self, id: &str, offline: bool) -> Result<(bool, Option<PublishSummary>), ProfileError> {
        self.profile.check_device(&self.key)?;
        let mut key = self.key.clone();
        let was = self.profile.unpublish(&mut key, id)?;
        if self.profile.is_set() {
            self.profile.sign_set(&mut key, chrono::Utc::now().fixed_offset())?;
        }
        let summary = if offline { None } else { Some(self.sync().await?) };
        Ok((was, summary))
    }

    /// Tries the targets again after `backoff`'s delays until every one has everything
    /// published. Runs until then; failures are logged.
    pub async fn deliver(&self, backoff: Backoff) {
        self.deliver_telling(backoff, Duration::MAX, |_| {}).await
    }

    /// [`WriterSession::deliver`], telling `tell` what a writer would want to hear: once, when
    /// the spokes have still not all taken what was published after `keeps_failing`
    /// ([`Delivery::KeepsFailing`]), and at the end ([`Delivery::Reached`]).
    pub async fn deliver_telling(&self, backoff: Backoff, keeps_failing: Duration, mut tell: impl FnMut(Delivery)) {
        let start = std::time::Instant::now();
        let mut told = false;
        for attempt in 0u32.. {
            tokio::time::sleep(backoff.delay(attempt)).await;
            let missing = match self.sync().await {
                Ok(s) if s.up_to_date == s.total => {
                    tell(Delivery::Reached { spokes: s.total });
                    break;
                }
                Ok(s) => {
                    tracing::debug!("retry {attempt}: {}", s.sentence);
                    s.spokes.iter().filter(|x| !x.up_to_date).map(|x| x.name.clone().unwrap_or_else(|| x.endpoint.chars().take(12).collect())).collect()
                }
                Err(e) => {
                    tracing::warn!("retry {attempt} failed: {e}");
                    Vec::new()
                }
            };
            if !told && start.elapsed() >= keeps_failing {
                told = true;
                tell(Delivery::KeepsFailing { missing });
            }
        }
    }
}

impl Profile {
    /// An autosave of draft `id`: its title and whole text. The slug follows the title while
    /// it is the title's (the writer has not chosen another). Returns whether anything changed.
    /// Errors: [`ProfileError::NoSuchPost`], storage errors.
    pub fn save_text(&self, id: &str, title: &str, body: &str) -> Result<bool, ProfileError> {
        let mut post = self.draft(id)?.ok_or_else(|| ProfileError::NoSuchPost(id.to_owned()))?;
        if post.title == title && post.body == body {
            return Ok(false);
        }
        if post.title != title && post.slug == slugify(&post.title) {
            post.slug = slugify(title);
        }
        post.title = title.to_owned();
        post.body = body.to_owned();
        self.update_post(&post)?;
        Ok(true)
    }
}

/// What [`WriterSession::deliver_telling`] tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Every spoke has everything published (`spokes` of them).
    Reached {
        /// How many spokes.
        spokes: usize,
    },
    /// Some spokes have still not taken it; Spokes keeps trying.
    KeepsFailing {
        /// The names of those spokes (empty when the attempt failed before asking any).
        missing: Vec<String>,
    },
}

/// After autosaves: once the writer has paused for [`Durability::PAUSE`] (no later save), the
/// autosaves' appends are flushed to the disk ([`Profile::sync_logs`]; a power cut then loses
/// nothing typed before the pause). Failures are logged. One per profile; cheap to clone.
#[derive(Clone, Default)]
pub struct Durability {
    latest: Arc<AtomicU64>,
}

impl Durability {
    /// How long the writer pauses before the flush.
    pub const PAUSE: std::time::Duration = std::time::Duration::from_secs(3);

    /// Schedules the flush of `profile`'s autosaves after the pause, replacing any
    /// scheduled before. Needs a Tokio runtime.
    pub fn saved(&self, profile: Profile) {
        let mine = self.latest.fetch_add(1, Ordering::SeqCst) + 1;
        let latest = self.latest.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Self::PAUSE).await;
            if latest.load(Ordering::SeqCst) != mine {
                return; // a later save schedules its own
            }
            let done = tokio::task::spawn_blocking(move || profile.sync_logs()).await;
            match done {
                Ok(Err(e)) => tracing::warn!("could not flush the autosaves to the disk: {e}"),
                Err(e) => tracing::warn!("could not flush the autosaves to the disk: {e}"),
                Ok(Ok(_)) => {}
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::BlogSettings;

    #[test]
    fn the_slug_follows_the_title_until_the_writer_chooses_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::create(dir.path(), "Ada", "pw", &BlogSettings::default()).unwrap();
        let post = p.new_post("First try", "", &[]).unwrap();
        assert!(p.save_text(&post.id, "Field notes", "text").unwrap());
        assert!(!p.save_text(&post.id, "Field notes", "text").unwrap(), "nothing changed");
        assert_eq!(p.draft(&post.id).unwrap().unwrap().slug, "field-notes");
        let mut chosen = p.draft(&post.id).unwrap().unwrap();
        chosen.slug = "notes".into();
        p.update_post(&chosen).unwrap();
        p.save_text(&post.id, "Field notes, revised", "text").unwrap();
        assert_eq!(p.draft(&post.id).unwrap().unwrap().slug, "notes");
        assert!(matches!(p.save_text("nope", "t", "b"), Err(ProfileError::NoSuchPost(_))));
    }

    #[test]
    fn a_new_passphrase_has_eight_characters() {
        assert!(matches!(check_new_passphrase("seven77"), Err(ProfileError::WeakPassphrase)));
        assert!(check_new_passphrase("éééééééé").is_ok(), "characters, not bytes");
        assert_eq!(ProfileError::WeakPassphrase.code(), spokes_core::problem::Code::WeakPassphrase);
    }
}
