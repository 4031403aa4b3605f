//! The writer's profile on disk: identity, documents, statements, spokes.

use crate::fsutil::write_atomic;
use crate::store::{DocStore, StoreError, Which};
use serde::{Deserialize, Serialize};
use spokes_core::doc::{DocError, slugify};
use spokes_core::edit::Splice;
use spokes_core::identity::IdentityError;
use spokes_core::problem::{Code, Problem};
use spokes_core::import::{self, ImportError, ImportNote};
use spokes_core::statement::Statement;
use spokes_core::{BlogDoc, BlogId, BlogSettings, Certificate, DocKind, Identity, Post, PostState, SignedStatement, SigningKey};
use spokes_sync::ticket::{Ticket, TicketError};
use std::collections::BTreeMap;
use spokes_core::image::ImageName;
use std::sync::{Arc, Mutex};
use std::path::{Path, PathBuf};

/// Version of the profile folder layout. 2 added the documents' change logs
/// (`*.automerge.log`) and `posts.snapshot.json`; 3 added `statements.log` (statements signed
/// since `statements.json` was last written whole); 4 keeps the drafts as an index and one
/// document per post ([`crate::drafts`]) instead of `drafts.automerge`, and drops
/// `posts.snapshot.json` (the index is the list); 5 keeps the post list in
/// `drafts/list.sqlite` ([`crate::list`]) instead of the index. An older profile is upgraded
/// when opened (layout 3 and earlier: the drafts are split, [`Profile::split_drafts`];
/// layout 4: the list is built from the index), so an older Spokes refuses it.
pub const PROFILE_VERSION: u32 = 5;

/// Statements signed since `statements.json` was last written whole: one JSON
/// `SignedStatement` per line, each ended by a newline. A publish appends one line instead of
/// rewriting every statement of the blog's history (270 MB after 500,000 revisions).
const STATEMENTS_LOG: &str = "statements.log";

/// Where a profile made around an existing blog takes its drafts from.
pub(crate) enum DraftsFrom {
    /// A copy of each published post.
    Published,
    /// One whole drafts document (an export archive's `drafts.automerge`).
    Whole(Box<BlogDoc>),
    /// The writer's computers' drafts as opened from their seals (bundles or whole
    /// documents, [`Profile::take_drafts`]), then a copy of each published post they lack.
    Opened(Vec<Vec<u8>>),
}

/// Errors of the profile. Each has a stable [`ProfileError::code`] for the UI.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// A new passphrase shorter than `workflow::MIN_PASSPHRASE_CHARS` characters.
    #[error("choose a passphrase of at least 8 characters")]
    WeakPassphrase,
    /// No profile in this folder.
    #[error("there is no Spokes profile in {0} yet")]
    NotFound(PathBuf),
    /// A profile already exists.
    #[error("a Spokes profile already exists in {0}")]
    Exists(PathBuf),
    /// A file could not be read or written.
    #[error("could not use {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A saved file is damaged.
    #[error("{path} is damaged: {message}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Written by a newer Spokes.
    #[error("this profile was written by a newer version of Spokes (layout {0})")]
    NewerVersion(u32),
    /// Identity error (for example a wrong passphrase).
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Document error.
    #[error(transparent)]
    Doc(#[from] DocError),
    /// Import error.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// Ticket error.
    #[error(transparent)]
    Ticket(#[from] TicketError),
    /// Signing error.
    #[error("signing failed: {0}")]
    Signing(String),
    /// No such post.
    #[error("there is no post {0}")]
    NoSuchPost(String),
    /// An archive could not be read or written.
    #[error(transparent)]
    Archive(#[from] spokes_core::archive::ArchiveError),
    /// A published post cannot be deleted before it is unpublished.
    #[error("this post is published; unpublish it before deleting it")]
    StillPublished(String),
    /// Pairing with another computer failed.
    #[error("pairing failed: {0}")]
    Pairing(String),
    /// This computer's signing key was removed from the identity (by another of the writer's
    /// computers, learned from a spoke, or here): it signs nothing more. `at` is the removal's
    /// time (Unix seconds), `reason` the writer's own words for it.
    #[error("{}", removed_sentence(*at, reason.as_deref()))]
    DeviceRemoved {
        /// When it was removed (Unix seconds).
        at: i64,
        /// Why, in the words given when it was removed.
        reason: Option<String>,
    },
    /// This computer's own key cannot be removed from this computer (replace it instead).
    #[error("this is the computer you are using; to stop using its key, replace the key instead")]
    OwnDevice,
    /// The publish picked to keep, when a computer is declared lost, was not signed by that
    /// computer (or does not exist): `index` into the profile's statements.
    #[error("publish {0} was not made by the computer you are removing; pick one from its list")]
    NotThatDevice(usize),
    /// A picture that cannot go into a post (type or size).
    #[error(transparent)]
    Image(#[from] spokes_core::image::ImageError),
    /// The post list (`drafts/list.sqlite`) could not be used.
    #[error(transparent)]
    List(#[from] crate::list::ListError),
}

impl From<StoreError> for ProfileError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Io { path, source } => ProfileError::Io { path, source },
            StoreError::Damaged { path, message } => ProfileError::Damaged { path, message },
        }
    }
}

impl ProfileError {
    /// A stable code for the UI and scripts.
    pub fn code(&self) -> Code {
        match self {
            ProfileError::WeakPassphrase => Code::WeakPassphrase,
            ProfileError::NotFound(_) => Code::NoProfile,
            ProfileError::Exists(_) => Code::ProfileExists,
            ProfileError::Io { .. } => Code::Io,
            ProfileError::Damaged { .. } => Code::DamagedFile,
            ProfileError::NewerVersion(_) => Code::NewerVersion,
            ProfileError::Identity(IdentityError::WrongPassphrase) => Code::WrongPassphrase,
            ProfileError::Identity(IdentityError::NoSigningKey) | ProfileError::DeviceRemoved { .. } => Code::DeviceRemoved,
            ProfileError::OwnDevice => Code::OwnDevice,
            ProfileError::NotThatDevice(_) => Code::NotThatDevice,
            ProfileError::Archive(_) => Code::Archive,
            ProfileError::Pairing(_) => Code::Pairing,
            ProfileError::StillPublished(_) => Code::StillPublished,
            ProfileError::Identity(_) => Code::Identity,
            ProfileError::Doc(DocError::EditMismatch(_)) => Code::EditMismatch,
            ProfileError::Doc(_) => Code::Document,
            ProfileError::Import(_) => Code::Import,
            ProfileError::Ticket(_) => Code::BadTicket,
            ProfileError::Signing(_) => Code::Signing,
            ProfileError::NoSuchPost(_) => Code::NoSuchPost,
            ProfileError::Image(_) => Code::BadImage,
            ProfileError::List(crate::list::ListError::Newer { .. }) => Code::NewerVersion,
            ProfileError::List(_) => Code::Io,
        }
    }
}

impl From<ProfileError> for Problem {
    /// The error as the app shows it: its [`code`](ProfileError::code) and a sentence.
    fn from(e: ProfileError) -> Problem {
        let message = match &e {
            ProfileError::Identity(IdentityError::WrongPassphrase) => "That passphrase is not right. Try again.".to_owned(),
            ProfileError::WeakPassphrase => "Choose a passphrase of at least 8 characters.".to_owned(),
            ProfileError::Ticket(t) => format!("That invite does not work: {t}"),
            other => other.to_string(),
        };
        // What the sentence is about, for the app's other languages: the file, the lower
        // error's own words.
        let detail = match &e {
            ProfileError::NotFound(p) | ProfileError::Exists(p) => Some(p.display().to_string()),
            ProfileError::Io { path, source } => Some(format!("{}: {source}", path.display())),
            ProfileError::Damaged { path, message } => Some(format!("{}: {message}", path.display())),
            ProfileError::Ticket(t) => Some(t.to_string()),
            ProfileError::Signing(m) | ProfileError::Pairing(m) => Some(m.clone()),
            ProfileError::Doc(d) => Some(d.to_string()),
            ProfileError::Import(i) => Some(i.to_string()),
            ProfileError::Archive(a) => Some(a.to_string()),
            ProfileError::Image(i) => Some(i.to_string()),
            ProfileError::List(l) => Some(l.to_string()),
            _ => None,
        };
        let p = Problem::new(e.code(), message);
        match detail {
            Some(d) => p.with_detail(d),
            None => p,
        }
    }
}

/// What a removed computer is told: when, why (if a reason was given), and what to do.
fn removed_sentence(at: i64, reason: Option<&str>) -> String {
    let day = chrono::DateTime::from_timestamp(at, 0).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "an unknown date".into());
    let why = reason.map(|r| format!(" (reason given: {r})")).unwrap_or_default();
    format!("this computer was removed from your identity on {day}{why}, so it can no longer sign; pair it again from one of your other computers to publish from it")
}

pub use spokes_sync::ticket::SpokeEntry;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    version: u32,
    blog_id: BlogId,
    fingerprint: String,
    name: String,
    #[serde(default)]
    spokes: Vec<SpokeEntry>,
    created_at: String,
    /// Fingerprint of this computer's signing subkey. Absent in profiles made before
    /// devices existed: they sign with the newest signing key they hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_key: Option<String>,
}

/// A post as the writer's list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostSummary {
    /// The post (draft copy).
    pub post: Post,
    /// Published at least once and currently published.
    pub published: bool,
    /// The draft differs from what is published.
    pub changed_since_published: bool,
}

/// The post list with the version of the list it was read at ([`crate::list::PostList::version`]).
type Listed = ((i64, u64), Arc<Vec<PostSummary>>);

/// An open profile. Its documents are read on first use and then held in memory (see
/// [`crate::store`]); clones share them.
#[derive(Debug, Clone)]
pub struct Profile {
    dir: PathBuf,
    meta: Meta,
    pub(crate) docs: DocStore,
    /// The pictures each published post shows ([`Profile::published_images`] brings it up
    /// to date by the posts changed since).
    pub(crate) images: Arc<Mutex<crate::images::ImageIndex>>,
    /// The set's manifests as last read and checked ([`crate::sets`]), with the BLAKE3 hash
    /// of the files they were read from: read again only when those files change.
    pub(crate) set_cache: Arc<Mutex<Option<crate::sets::OpenedSet>>>,
    /// The set's post documents last read or written ([`crate::sets::PostDocCache`]).
    pub(crate) set_posts: Arc<Mutex<crate::sets::PostDocCache>>,
    /// The post list as last read, with the list's version then: read again only when the
    /// list changed ([`Profile::posts`]).
    pub(crate) listed: Arc<Mutex<Option<Listed>>>,
    /// The post list's rows and the settings' copy (`drafts/list.sqlite`, [`crate::list`]).
    pub(crate) list: Arc<crate::list::PostList>,
    /// Held while the blog moves to a set of documents
    /// ([`crate::WriterSession::upgrade_if_needed`]), so two tasks never both make one.
    pub(crate) upgrading: Arc<tokio::sync::Mutex<()>>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ProfileError + '_ {
    move |source| ProfileError::Io { path: path.to_path_buf(), source }
}

impl Profile {
    /// Whether `dir` holds a profile.
    pub fn exists(dir: &Path) -> bool {
        dir.join("profile.json").exists()
    }

    /// Creates a profile: a new identity for `name` protected by `passphrase`, a new blog with
    /// `settings`, an empty drafts document, and a first signed statement.
    pub fn create(dir: &Path, name: &str, passphrase: &str, settings: &BlogSettings) -> Result<Profile, ProfileError> {
        if Self::exists(dir) {
            return Err(ProfileError::Exists(dir.into()));
        }
        let identity = Identity::generate_for_device(name, Some(&crate::devices::this_device_name()), passphrase)?;
        Self::create_with_identity(dir, name, identity, None, passphrase, settings)
    }

    /// Creates a profile around an existing secret key, such as a GnuPG export
    /// (`gpg --export-secret-keys --armor`): see [`Identity::import_secret_key`]. The author's
    /// name is the key's first user ID.
    ///
    /// Errors: [`ProfileError::Exists`], [`ProfileError::Identity`] (unreadable key, wrong
    /// passphrase, a key not valid under the standard policy).
    pub fn create_from_secret_key(dir: &Path, key: &[u8], passphrase: &str, settings: &BlogSettings) -> Result<Profile, ProfileError> {
        if Self::exists(dir) {
            return Err(ProfileError::Exists(dir.into()));
        }
        let (identity, device) = Identity::import_secret_key(key, passphrase, &crate::devices::this_device_name())?;
        let name = display_name(&identity.certificate().user_id().unwrap_or_default());
        Self::create_with_identity(dir, &name, identity, Some(device), passphrase, settings)
    }

    fn create_with_identity(dir: &Path, name: &str, identity: Identity, device: Option<String>, passphrase: &str, settings: &BlogSettings) -> Result<Profile, ProfileError> {
        crate::fsutil::private_dir(dir).and_then(|_| std::fs::create_dir_all(dir.join("sync"))).map_err(io(dir))?;
        let mut key = identity.unlock_device(passphrase, device.as_deref())?;
        let device_key = Some(key.key_fingerprint());
        let fp = identity.fingerprint();
        let (blog_id, mut blog) = BlogDoc::create_blog(&fp, settings);
        let mut drafts = BlogDoc::create(DocKind::Drafts, &blog_id, &fp, settings);
        let st = Statement::new(blog_id.clone(), &blog.heads()).sign(&mut key).map_err(|e| ProfileError::Signing(e.to_string()))?;
        let p = Profile { dir: dir.into(), docs: DocStore::new(dir), images: Arc::default(), set_cache: Arc::default(), set_posts: Arc::default(), listed: Arc::default(), list: Arc::new(crate::list::PostList::new(dir)), upgrading: Arc::default(), meta: Meta { version: PROFILE_VERSION, blog_id, fingerprint: fp, name: name.into(), spokes: vec![], created_at: chrono::Utc::now().to_rfc3339(), device_key } };
        p.write("identity.asc", &identity.to_armored())?;
        p.write("certificate.asc", &identity.certificate().to_armored())?;
        p.write("blog.automerge", &blog.save())?;
        p.split_drafts(&mut drafts, None)?;
        p.save_statements(&[st])?;
        p.write("endpoint.key", hex::encode(iroh::SecretKey::generate().to_bytes()).as_bytes())?;
        p.save_meta()?;
        Ok(p)
    }

    /// Creates a profile around an existing signed blog: `identity` (unlocked with
    /// `passphrase`) must own it, `statements` are its signed statements. The drafts document
    /// starts as a copy of the blog's posts. Used to restore a blog (and by the benchmarks).
    ///
    /// Errors: [`ProfileError::Exists`], [`ProfileError::Signing`] if the identity does not
    /// own the blog, document and I/O errors.
    pub fn create_from_blog(dir: &Path, name: &str, identity: &Identity, passphrase: &str, blog: &mut BlogDoc, statements: &[SignedStatement]) -> Result<Profile, ProfileError> {
        Self::create_from_blog_with(dir, name, identity, passphrase, blog, statements, DraftsFrom::Published)
    }

    /// [`Profile::create_from_blog`] with the drafts taken from `drafts` (they must be this blog's).
    pub(crate) fn create_from_blog_with(dir: &Path, name: &str, identity: &Identity, passphrase: &str, blog: &mut BlogDoc, statements: &[SignedStatement], drafts: DraftsFrom) -> Result<Profile, ProfileError> {
        if Self::exists(dir) {
            return Err(ProfileError::Exists(dir.into()));
        }
        identity.unlock(passphrase)?;
        let fp = identity.fingerprint();
        if blog.owner().as_deref() != Some(fp.as_str()) {
            return Err(ProfileError::Signing(format!("this blog belongs to {}, not to {fp}", blog.owner().unwrap_or_default())));
        }
        let blog_id = blog.blog_id()?;
        let settings = blog.settings();
        let (mut whole, opened) = match drafts {
            DraftsFrom::Whole(d) if d.blog_id().ok().as_ref() == Some(&blog_id) => (*d, Vec::new()),
            DraftsFrom::Whole(_) => return Err(ProfileError::Signing("the drafts belong to another blog".into())),
            DraftsFrom::Published => {
                let mut d = BlogDoc::create(DocKind::Drafts, &blog_id, &fp, &settings);
                for post in blog.posts() {
                    d.put_post_as(&post, spokes_core::TextForm::Snapshot)?;
                }
                d.commit("copy of the published posts");
                (d, Vec::new())
            }
            DraftsFrom::Opened(plain) => (BlogDoc::create(DocKind::Drafts, &blog_id, &fp, &settings), plain),
        };
        crate::fsutil::private_dir(dir).and_then(|_| std::fs::create_dir_all(dir.join("sync"))).map_err(io(dir))?;
        let p = Profile { dir: dir.into(), docs: DocStore::new(dir), images: Arc::default(), set_cache: Arc::default(), set_posts: Arc::default(), listed: Arc::default(), list: Arc::new(crate::list::PostList::new(dir)), upgrading: Arc::default(), meta: Meta { version: PROFILE_VERSION, blog_id, fingerprint: fp, name: name.into(), spokes: vec![], created_at: chrono::Utc::now().to_rfc3339(), device_key: None } };
        p.write("identity.asc", &identity.to_armored())?;
        p.write("certificate.asc", &identity.certificate().to_armored())?;
        p.write("blog.automerge", &blog.save())?;
        p.split_drafts(&mut whole, Some(blog))?;
        p.save_statements(statements)?;
        p.write("endpoint.key", hex::encode(iroh::SecretKey::generate().to_bytes()).as_bytes())?;
        p.save_meta()?;
        if !opened.is_empty() {
            // The writer's computers' drafts first, then a draft of each published post they
            // lack: a copy made here first would compete with their newer words.
            for plain in &opened {
                if let Err(e) = p.take_drafts(plain) {
                    tracing::warn!("a computer's drafts could not be taken in: {e}");
                }
            }
            for post in blog.posts() {
                if p.draft(&post.id)?.is_none() && spokes_core::manifest::is_post_id(&post.id) {
                    p.create_draft(&Post { state: PostState::Draft, ..post }, spokes_core::TextForm::Snapshot)?;
                }
            }
            p.refresh_published(None)?;
        }
        Ok(p)
    }

    /// Whether opening the profile in `dir` upgrades it from an older layout (reads only
    /// `profile.json`; `false` when there is none or it cannot be read). An upgrade from
    /// layout 3 or earlier splits the drafts: seconds for a large blog.
    pub fn needs_upgrade(dir: &Path) -> bool {
        let Ok(bytes) = std::fs::read(dir.join("profile.json")) else { return false };
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        v.get("version").and_then(|v| v.as_u64()).is_some_and(|v| v < u64::from(PROFILE_VERSION))
    }

    /// Opens an existing profile.
    pub fn open(dir: &Path) -> Result<Profile, ProfileError> {
        let path = dir.join("profile.json");
        let bytes = std::fs::read(&path).map_err(|e| if e.kind() == std::io::ErrorKind::NotFound { ProfileError::NotFound(dir.into()) } else { ProfileError::Io { path: path.clone(), source: e } })?;
        let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| ProfileError::Damaged { path: path.clone(), message: e.to_string() })?;
        let version = v.get("version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        if version > PROFILE_VERSION {
            return Err(ProfileError::NewerVersion(version));
        }
        let mut meta: Meta = serde_json::from_value(v).map_err(|e| ProfileError::Damaged { path, message: e.to_string() })?;
        let upgrade = meta.version < PROFILE_VERSION;
        meta.version = PROFILE_VERSION;
        // Profiles made before drafts were kept private were 0755; other local users must
        // not read the drafts.
        crate::fsutil::private_dir(dir).map_err(io(dir))?;
        let p = Profile { dir: dir.into(), docs: DocStore::new(dir), images: Arc::default(), set_cache: Arc::default(), set_posts: Arc::default(), listed: Arc::default(), list: Arc::new(crate::list::PostList::new(dir)), upgrading: Arc::default(), meta };
        if upgrade {
            p.upgrade_drafts()?;
            p.save_meta()?;
        }
        Ok(p)
    }

    /// The profile folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// The blog's ID.
    pub fn blog_id(&self) -> &BlogId {
        &self.meta.blog_id
    }
    /// The author's fingerprint.
    pub fn fingerprint(&self) -> &str {
        &self.meta.fingerprint
    }
    /// The author's name.
    pub fn name(&self) -> &str {
        &self.meta.name
    }
    /// The chosen spokes.
    pub fn spokes(&self) -> &[SpokeEntry] {
        &self.meta.spokes
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> Result<(), ProfileError> {
        let p = self.path(name);
        write_atomic(&p, bytes).map_err(io(&p))
    }

    pub(crate) fn read(&self, name: &str) -> Result<Vec<u8>, ProfileError> {
        let p = self.path(name);
        std::fs::read(&p).map_err(io(&p))
    }

    /// Fingerprint of this computer's signing subkey (`None` in profiles from before devices,
    /// which sign with the newest signing key they hold).
    pub fn device_key(&self) -> Option<&str> {
        self.meta.device_key.as_deref()
    }

    pub(crate) fn set_device_key(&mut self, fingerprint: &str) -> Result<(), ProfileError> {
        self.meta.device_key = Some(fingerprint.to_owned());
        self.save_meta()
    }

    pub(crate) fn save_meta(&self) -> Result<(), ProfileError> {
        self.write("profile.json", &serde_json::to_vec_pretty(&self.meta).unwrap_or_default())
    }

    /// The identity (secret still encrypted).
    pub fn identity(&self) -> Result<Identity, ProfileError> {
        Ok(Identity::from_bytes(&self.read("identity.asc")?)?)
    }

    /// Decrypts the signing key.
    pub fn unlock(&self, passphrase: &str) -> Result<SigningKey, ProfileError> {
        match self.identity()?.unlock_device(passphrase, self.meta.device_key.as_deref()) {
            Err(IdentityError::NoSigningKey) => Err(self.meta.device_key.as_deref().and_then(|d| self.removal(d)).unwrap_or(IdentityError::NoSigningKey.into())),
            r => Ok(r?),
        }
    }

    /// Protects this computer's keys with `new` instead of `old` ([`Identity::change_passphrase`]),
    /// written in one step: a crash leaves the old passphrase or the new one working, never
    /// neither. Recovery files saved before still open with the old passphrase only (save one
    /// again). Errors: [`ProfileError::WeakPassphrase`], [`ProfileError::Identity`] (a wrong
    /// `old`), [`ProfileError::Io`].
    pub fn change_passphrase(&self, old: &str, new: &str) -> Result<(), ProfileError> {
        crate::check_new_passphrase(new)?;
        let changed = self.identity()?.change_passphrase(old, new)?;
        // Checked before it replaces the old key: the new passphrase opens this computer's key.
        changed.unlock_device(new, self.meta.device_key.as_deref())?;
        self.write("identity.asc", &changed.to_armored())
    }

    /// [`ProfileError::DeviceRemoved`] when the certificate as this profile knows it revokes the
    /// device key `fingerprint` (uppercase hex).
    pub(crate) fn removal(&self, fingerprint: &str) -> Option<ProfileError> {
        let d = self.certificate().ok()?.devices().into_iter().find(|d| d.fingerprint.eq_ignore_ascii_case(fingerprint))?;
        Some(ProfileError::DeviceRemoved { at: d.revoked_at?, reason: d.revocation_reason.filter(|r| !r.trim().is_empty()) })
    }

    /// The public certificate.
    pub fn certificate(&self) -> Result<Certificate, ProfileError> {
        Ok(Certificate::from_bytes(&self.read("certificate.asc")?)?)
    }

    /// Runs `f` on the published blog document and writes what it changed. Do not use the
    /// drafts inside `f` (lock order: drafts, then the blog).
    pub fn with_blog<R>(&self, f: impl FnOnce(&mut BlogDoc) -> Result<R, ProfileError>) -> Result<R, ProfileError> {
        self.docs.with(Which::Blog, f)
    }

    /// [`Profile::with_blog`], also giving `f` the blog's full save when it is at hand (see
    /// `DocStore::with_full_save`).
    pub(crate) fn with_blog_saved<R>(&self, f: impl FnOnce(&mut BlogDoc, Option<Arc<Vec<u8>>>) -> Result<R, ProfileError>) -> Result<R, ProfileError> {
        self.docs.with_full_save(Which::Blog, f)
    }

    /// A copy of the published blog document under a new actor (changes to it are not saved; see
    /// [`Profile::save_blog`]).
    pub fn blog(&self) -> Result<BlogDoc, ProfileError> {
        self.with_blog(|b| Ok(BlogDoc::from_automerge(b.automerge().fork())?))
    }
    /// Merges `doc` into the blog document and saves it.
    pub fn save_blog(&self, doc: &mut BlogDoc) -> Result<(), ProfileError> {
        self.with_blog(|b| Ok(b.automerge().merge(doc.automerge()).map(|_| ()).map_err(DocError::from)?))
    }
    /// Opens the post list (building it if it is not): what the writing screen needs first.
    /// The drafts index and the published blog document are read when a change needs them.
    pub fn preload(&self) -> Result<(), ProfileError> {
        self.list().map(|_| ())
    }

    /// Moves the drafts of a profile of layout 3 or earlier to one document per post
    /// ([`Profile::split_drafts`]), keeping the old document beside as
    /// `drafts.automerge.before-layout-4`. Runs once, under the old drafts' lock, when such a
    /// profile is opened; a crash before it ends leaves the old document in place, and the
    /// next open splits it again.
    fn upgrade_drafts(&self) -> Result<(), ProfileError> {
        let old = self.path(Which::Drafts.file());
        // One process splits; another opening the profile meanwhile (the CLI beside the app)
        // waits here and then finds the old document moved.
        let lock_path = self.path("drafts-upgrade.lock");
        let lock = crate::fsutil::open_private_append(&lock_path).map_err(io(&lock_path))?;
        lock.lock().map_err(io(&lock_path))?;
        if !old.is_file() {
            // Layout 4: the post list is built from the index's entries.
            if !self.list.is_built()? {
                let n = self.build_list_from_index()?;
                tracing::info!(posts = n, "the post list is now kept apart from the drafts index");
            }
            return Ok(());
        }
        let mut legacy = self.docs.with(Which::Drafts, |d| Ok::<_, ProfileError>(BlogDoc::from_automerge(d.automerge().fork())?))?;
        self.docs.unload(Which::Drafts);
        let n = self.with_blog(|b| self.split_drafts(&mut legacy, Some(b)))?;
        // Neither is needed to write: the writing screen reads the index and one post.
        self.docs.unload(Which::Blog);
        // The layout is recorded before the old document moves: a crash between leaves it
        // in place (an older Spokes refuses the profile by its version either way).
        self.save_meta()?;
        let kept = self.path("drafts.automerge.before-layout-4");
        std::fs::rename(&old, &kept).map_err(io(&old))?;
        let _ = std::fs::remove_file(self.path(Which::Drafts.log_file()));
        tracing::info!(posts = n, "the drafts are now kept one document per post");
        Ok(())
    }

    /// Flushes the documents' unsynced autosaves to the disk ([`DocStore::sync_logs`]).
    /// Returns how many logs it flushed.
    pub fn sync_logs(&self) -> Result<usize, ProfileError> {
        Ok(self.docs.sync_logs()?)
    }

    /// Writes the documents held in memory whole and removes their logs (for example when
    /// the app quits).
    pub fn compact(&self) -> Result<(), ProfileError> {
        self.docs.compact(Which::Index)?;
        self.docs.compact_posts()?;
        self.docs.compact(Which::Blog)?;
        Ok(())
    }

    /// All signed statements, in the order they were stored: `statements.json`, then the
    /// lines of `statements.log` it does not hold yet. A last line without its newline (an
    /// append cut short by a crash) is skipped; the next publish signs its heads again.
    ///
    /// Errors: [`ProfileError::Io`], [`ProfileError::Damaged`] for a file that is not JSON
    /// statements (a complete line of the log included).
    pub fn statements(&self) -> Result<Vec<SignedStatement>, ProfileError> {
        let p = self.path("statements.json");
        let bytes = self.read("statements.json")?;
        let mut all: Vec<SignedStatement> = serde_json::from_slice(&bytes).map_err(|e| ProfileError::Damaged { path: p, message: e.to_string() })?;
        let log = self.path(STATEMENTS_LOG);
        let bytes = match std::fs::read(&log) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(all),
            Err(e) => return Err(ProfileError::Io { path: log, source: e }),
        };
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(&[][..], |end| &bytes[..end]);
        // A crash after `save_statements` wrote the whole list but before it removed the log
        // leaves lines that the list already holds.
        let mut held: std::collections::HashSet<SignedStatement> = std::collections::HashSet::new();
        for (i, line) in complete.split(|&b| b == b'\n').enumerate().filter(|(_, l)| !l.is_empty()) {
            let st: SignedStatement = serde_json::from_slice(line).map_err(|e| ProfileError::Damaged { path: log.clone(), message: format!("line {}: {e}", i + 1) })?;
            if held.is_empty() {
                held = all.iter().cloned().collect();
            }
            if held.insert(st.clone()) {
                all.push(st);
            }
        }
        Ok(all)
    }
    /// Replaces every statement: writes `statements.json` whole, then removes
    /// `statements.log`.
    pub fn save_statements(&self, st: &[SignedStatement]) -> Result<(), ProfileError> {
        self.write("statements.json", &serde_json::to_vec(st).unwrap_or_default())?;
        let log = self.path(STATEMENTS_LOG);
        match std::fs::remove_file(&log) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ProfileError::Io { path: log, source: e }),
            _ => Ok(()),
        }
    }

    /// This device's iroh secret key.
    pub fn endpoint_key(&self) -> Result<iroh::SecretKey, ProfileError> {
        let p = self.path("endpoint.key");
        let s = String::from_utf8_lossy(&self.read("endpoint.key")?).into_owned();
        let b: [u8; 32] = hex::decode(s.trim()).ok().and_then(|b| b.try_into().ok()).ok_or(ProfileError::Damaged { path: p, message: "not a 32-byte hex key".into() })?;
        Ok(iroh::SecretKey::from_bytes(&b))
    }

    /// Creates a draft (its document and index entry). Returns the post.
    pub fn new_post(&self, title: &str, body: &str, tags: &[String]) -> Result<Post, ProfileError> {
        let mut post = Post::new(title, body);
        post.tags = tags.to_vec();
        post.slug = self.free_slug(&post.slug, &post.id)?;
        self.create_draft(&post, spokes_core::TextForm::Editable)?;
        Ok(post)
    }

    /// Writes a changed draft (title, body, tags, slug) and saves.
    pub fn update_post(&self, post: &Post) -> Result<(), ProfileError> {
        let old = self.draft(&post.id)?.ok_or_else(|| ProfileError::NoSuchPost(post.id.clone()))?;
        let mut p = post.clone();
        let wanted = slugify(&p.slug);
        // A post keeping its own address is not checked against every other post's.
        p.slug = if wanted == old.slug { wanted } else { self.free_slug(&wanted, &p.id)? };
        p.state = old.state;
        p.updated = chrono::Utc::now().fixed_offset();
        self.with_draft(&post.id, |drafts| {
            drafts.put_post(&p)?;
            drafts.commit("edit");
            Ok(())
        })
    }

    /// The editor's autosave: applies `splices` (UTF-16 code units, in the order typed) to a
    /// draft's body as one change, sets its title if `title` is given (and the slug with it,
    /// while the slug still follows the title), and appends the change to disk.
    ///
    /// `body_len` is the editor's body length in UTF-16 code units after the splices; if the
    /// document disagrees, nothing is changed and [`DocError::EditMismatch`] is returned, and
    /// the editor should send its whole text with [`Profile::update_post`]. Returns the number
    /// of splices applied after folding adjacent ones ([`spokes_core::edit::coalesce`]).
    pub fn edit_post(&self, id: &str, title: Option<&str>, splices: &[Splice], body_len: Option<usize>) -> Result<usize, ProfileError> {
        let (applied, follow) = self.with_draft(id, |drafts| {
            let (applied, old_title) = drafts.edit_post(id, title, splices, body_len, chrono::Utc::now().fixed_offset())?;
            let follow = match (old_title, title) {
                (Some(old), Some(_)) => drafts.post_slug(id).is_some_and(|s| s == slugify(&old)),
                _ => false,
            };
            drafts.commit("edit");
            Ok((applied, follow))
        })?;
        // The slug follows a new title while it still followed the old one.
        if follow && let Some(title) = title {
            let slug = self.free_slug(&slugify(title), id)?;
            self.with_draft(id, |drafts| {
                if drafts.post_slug(id).as_deref() != Some(slug.as_str()) {
                    drafts.set_post_field(id, "slug", &slug)?;
                    drafts.commit("edit");
                }
                Ok(())
            })?;
        }
        Ok(applied)
    }

    /// Imports a writer's old blog (Markdown files or folders, as Jekyll, Hugo and Zola lay
    /// them out: see [`spokes_core::import`]; or a WordPress or Ghost export file: see
    /// [`crate::platforms`]) as drafts, with the pictures the posts show:
    /// each picture found is kept with the blog ([`Profile::add_image`]) and its links are
    /// rewritten to the kept copy. Every file is read before anything is written, so one bad
    /// file imports nothing. Errors: [`ProfileError::Import`] (a file that cannot be read, or
    /// broken front matter), [`ProfileError::Io`].
    pub fn import(&self, paths: &[PathBuf]) -> Result<ImportReport, ProfileError> {
        let crate::import::Read { posts: mut parsed, skipped } = crate::import::read(paths)?;
        let mut kept: BTreeMap<PathBuf, Option<ImageName>> = BTreeMap::new();
        let mut pictures = 0;
        for i in &mut parsed {
            let mut links = BTreeMap::new();
            for (src, file) in std::mem::take(&mut i.pictures) {
                let name = match kept.get(&file) {
                    Some(n) => n.clone(),
                    None => {
                        let n = match std::fs::read(&file) {
                            Ok(bytes) => match self.add_image(&bytes) {
                                Ok(n) => Some(n),
                                Err(ProfileError::Image(e)) => {
                                    i.warnings.push(ImportNote::PictureNotKept { src: src.clone(), reason: e.to_string() });
                                    None
                                }
                                Err(e) => return Err(e),
                            },
                            Err(e) => {
                                i.warnings.push(ImportNote::PictureUnreadable { src: src.clone(), reason: e.to_string() });
                                None
                            }
                        };
                        pictures += usize::from(n.is_some());
                        kept.insert(file.clone(), n.clone());
                        n
                    }
                };
                if let Some(n) = name {
                    links.insert(src.clone(), format!("{}{n}", spokes_core::image::LINK_PREFIX));
                    i.pictures.insert(src, file);
                }
            }
            i.post.body = import::rewrite_links(&i.post.body, &links);
        }
        // The slugs taken, read once: checking each imported post against every other
        // post, one by one, made a large import quadratic.
        let mut taken = self.list()?.slugs_except("")?;
        for i in &mut parsed {
            i.post.slug = next_free_slug(&taken, &i.post.slug);
            taken.insert(i.post.slug.clone());
        }
        // As one string each until the writer first edits them: a whole old blog as
        // Automerge text would cost a microsecond and tens of bytes per character.
        let posts: Vec<Post> = parsed.iter().map(|i| i.post.clone()).collect();
        self.create_drafts(&posts, spokes_core::TextForm::Snapshot)?;
        Ok(ImportReport { posts: parsed, skipped, pictures })
    }

    /// All posts with their publication status, newest first (from the drafts index).
    pub fn posts(&self) -> Result<Vec<PostSummary>, ProfileError> {
        Ok(self.listed_posts()?.as_ref().clone())
    }

    /// [`Profile::posts`], shared: read from the list once per state of it.
    pub(crate) fn listed_posts(&self) -> Result<Arc<Vec<PostSummary>>, ProfileError> {
        let list = self.list()?;
        let at = list.version()?;
        let mut memo = self.listed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, listed)) = memo.as_ref()
            && *seen == at
        {
            return Ok(listed.clone());
        }
        let listed = Arc::new(list.summaries()?);
        *memo = Some((at, listed.clone()));
        Ok(listed)
    }

    /// The newest post not in the bin, with its text (`None` when there is none): what the
    /// writing screen opens on. Reads the index and that post's document.
    pub fn newest_draft(&self) -> Result<Option<Post>, ProfileError> {
        match self.listed_posts()?.first() {
            Some(s) => self.draft(&s.post.id),
            None => Ok(None),
        }
    }

    /// Copies posts from drafts into the blog document, lists the chosen spokes there, and, if
    /// anything changed, commits one revision and signs it. `ids`: the posts to publish;
    /// `None` publishes every draft that is new or changed. Posts published at once from two
    /// computers ([`BlogDoc::conflicted_post_ids`]) are published again from the merged
    /// drafts in any case, so both edits reach readers. Returns the number of posts published
    /// and whether a new revision was made. No network.
    pub fn publish_local(&self, key: &mut SigningKey, ids: Option<&[String]>) -> Result<(usize, bool), ProfileError> {
        let blog_id = self.meta.blog_id.clone();
        let spokes = self.meta.spokes.clone();
        // Posts of a set written on two computers at once are settled the same way.
        let set_conflicts = self.set_conflicts();
        // Named posts are read one by one: publishing one post costs the same in a long blog.
        let mut ids: Vec<String> = match ids {
            Some(ids) => ids.to_vec(),
            // Every new or changed draft; an unpublished post stays so until it is published by name.
            None => self.posts()?.into_iter().filter(|s| (s.changed_since_published || !s.published) && s.post.state != PostState::Unpublished).map(|s| s.post.id).collect(),
        };
        let named = ids.len();
        for id in self.with_blog(|b| Ok(b.conflicted_post_ids()))?.into_iter().chain(set_conflicts) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let mut chosen = Vec::with_capacity(ids.len());
        for (k, id) in ids.iter().enumerate() {
            let post = match self.draft(id)? {
                Some(p) => p,
                None if k < named => return Err(ProfileError::NoSuchPost(id.clone())),
                None => continue,
            };
            if k >= named && post.state == PostState::Unpublished {
                continue;
            }
            if post.state == PostState::Unpublished {
                // Published again by name: the draft no longer says "unpublished".
                self.with_draft(id, |d| {
                    d.set_post_field(id, "state", PostState::Draft.as_str())?;
                    d.commit("publish again");
                    Ok(())
                })?;
            }
            chosen.push(post);
        }
        let settings = self.settings()?;
        let (n, statement) = self.with_blog(|blog| {
            let mut n = 0;
            for post in &chosen {
                let mut p = post.clone();
                p.state = PostState::Published;
                blog.put_post(&p)?;
                n += 1;
            }
            for s in &spokes {
                blog.add_spoke(&s.spoke_addr())?;
            }
            if settings != blog.settings() {
                blog.set_settings(&settings)?;
            }
            let statement = commit_signed(&blog_id, blog, key, &format!("publish {n} posts"))?;
            Ok((n, statement))
        })?;
        // The list shows each post published as it was read here: an edit made meanwhile
        // shows as a change.
        let marks: Vec<(String, Option<String>)> = chosen.iter().map(|p| (p.id.clone(), Some(crate::list::stamp(p)))).collect();
        self.mark_published(&marks)?;
        let committed = statement.is_some();
        if let Some(st) = statement {
            self.append_statement(st)?;
        }
        Ok((n, committed))
    }

    /// Adds a statement: one line appended to `statements.log` and flushed to the disk, so a
    /// publish costs the same after ten years of them. The blog is written first: if this
    /// write is lost, the next publish signs the heads again. Two processes (the app and the
    /// CLI) append one after the other: the log is locked (`flock`, exclusive) meanwhile.
    pub(crate) fn append_statement(&self, st: SignedStatement) -> Result<(), ProfileError> {
        use std::io::{Read, Seek, Write};
        let path = self.path(STATEMENTS_LOG);
        let mut line = serde_json::to_vec(&st).unwrap_or_default();
        line.push(b'\n');
        let new = !path.exists();
        let mut f = crate::fsutil::open_private_append(&path).map_err(io(&path))?;
        f.lock().map_err(io(&path))?;
        // A line cut short by a crash (no newline at the end) goes before this one is added:
        // the file is cut back to its last newline. A statement line is under 1 KiB; a
        // longer tail with no newline is damage, not a torn append.
        const TAIL: u64 = 64 * 1024;
        let len = f.metadata().map_err(io(&path))?.len();
        let tail = |from: u64| -> std::io::Result<Vec<u8>> {
            let mut r = std::fs::File::open(&path)?;
            r.seek(std::io::SeekFrom::Start(from))?;
            let mut b = Vec::new();
            r.take(len - from).read_to_end(&mut b)?;
            Ok(b)
        };
        if len > 0 && tail(len - 1).map_err(io(&path))? != b"\n" {
            let from = len.saturating_sub(TAIL);
            let keep = match tail(from).map_err(io(&path))?.iter().rposition(|&b| b == b'\n') {
                Some(i) => from + i as u64 + 1,
                None if from == 0 => 0,
                None => return Err(ProfileError::Damaged { path, message: format!("the last {TAIL} bytes hold no line end") }),
            };
            f.set_len(keep).map_err(io(&path))?;
        }
        f.write_all(&line).and_then(|_| f.sync_data()).map_err(io(&path))?;
        if new && let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Blog settings (kept in the drafts index until published; read from the list's copy of
    /// them, see [`crate::list`]).
    pub fn settings(&self) -> Result<BlogSettings, ProfileError> {
        if let Some(s) = self.list()?.settings()? {
            return Ok(s);
        }
        let s = self.with_index(|d| Ok(d.settings()))?;
        self.list.set_settings(&s)?;
        Ok(s)
    }

    /// Changes blog settings (published on the next publish). The blog's name and domain stay
    /// as they are: only [`Profile::set_name`] and [`Profile::set_domain`] change them.
    pub fn set_settings(&self, settings: &BlogSettings) -> Result<(), ProfileError> {
        self.edit_settings("settings", |s| *s = BlogSettings { name: s.name.take(), domain: s.domain.take(), ..settings.clone() })
    }

    /// Sets or clears the blog's custom domain binding ([`spokes_core::names::DomainBinding`]),
    /// published on the next publish.
    pub fn set_domain(&self, domain: Option<spokes_core::names::DomainBinding>) -> Result<(), ProfileError> {
        self.edit_settings("domain", |s| s.domain = domain)
    }

    /// Sets or clears the blog's name binding ([`spokes_core::names`]), published on the next
    /// publish.
    pub fn set_name(&self, name: Option<spokes_core::names::NameBinding>) -> Result<(), ProfileError> {
        self.edit_settings("name", |s| s.name = name)
    }

    /// Changes the settings in the drafts index with `edit` and commits with `message`.
    fn edit_settings(&self, message: &str, edit: impl FnOnce(&mut BlogSettings)) -> Result<(), ProfileError> {
        self.with_index(|d| {
            let mut settings = d.settings();
            edit(&mut settings);
            d.set_settings(&settings)?;
            d.commit(message);
            Ok(())
        })
    }

    /// Adds a spoke from an invite ticket (or updates its addresses). The blog document lists
    /// it from the next publish on.
    pub fn add_spoke(&mut self, ticket: &str) -> Result<SpokeEntry, ProfileError> {
        let t = Ticket::decode(ticket_in(ticket))?;
        let entry = SpokeEntry::new(t.spoke_addr(), t.token.clone());
        self.add_spoke_entry(entry.clone())?;
        Ok(entry)
    }

    pub(crate) fn add_spoke_entry(&mut self, entry: SpokeEntry) -> Result<(), ProfileError> {
        self.meta.spokes.retain(|s| s.endpoint != entry.endpoint);
        self.meta.spokes.push(entry);
        self.save_meta()
    }

    /// Removes a spoke by endpoint ID; `false` if it was not there.
    pub fn remove_spoke(&mut self, endpoint: &str) -> Result<bool, ProfileError> {
        let before = self.meta.spokes.len();
        self.meta.spokes.retain(|s| s.endpoint != endpoint);
        self.save_meta()?;
        Ok(self.meta.spokes.len() != before)
    }

    /// Verifies the local blog: every statement against the certificate, every change
    /// against the coverage rule. Returns (changes, statements).
    pub fn verify(&self) -> Result<(usize, usize), ProfileError> {
        let doc = self.with_blog(|b| Ok(b.automerge().fork()))?;
        let statements = self.statements()?;
        let mut replica = spokes_sync::Replica { blog_id: self.meta.blog_id.clone(), doc, certificate: Some(self.certificate()?), statements, saved: Default::default() };
        let n = spokes_sync::session::audit_replica(&mut replica).map_err(|e| ProfileError::Signing(e.to_string()))?;
        Ok((n, replica.statements.len()))
    }
}

/// The ticket in pasted text: the text itself, or the `spokes1…` run inside a link or a
/// sentence (an invite shared as `https://spoke.example/invite#spokes1…`).
fn ticket_in(text: &str) -> &str {
    let text = text.trim();
    match text.find(spokes_sync::ticket::TICKET_PREFIX) {
        Some(i) if i > 0 => {
            let rest = &text[i..];
            let end = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
            &rest[..end]
        }
        _ => text,
    }
}

/// `wanted` (or `post` if empty), else the first of `wanted-2`, `wanted-3`, … not in `taken`.
pub(crate) fn next_free_slug(taken: &std::collections::HashSet<String>, wanted: &str) -> String {
    let base = if wanted.is_empty() { slugify("post") } else { wanted.to_owned() };
    let mut s = base.clone();
    let mut n = 2;
    while taken.contains(&s) {
        s = format!("{base}-{n}");
        n += 1;
    }
    s
}

/// The name readers see for a key's user ID (`Grace Hopper (work) <grace@example.org>`, RFC
/// 9580 §5.11's usual form): the part before the comment and the email address, which stays
/// private; the email's local part when that is all there is; else "Writer".
fn display_name(user_id: &str) -> String {
    let before_email = user_id.split('<').next().unwrap_or_default();
    let name = before_email.split('(').next().unwrap_or_default().trim();
    if !name.is_empty() {
        return name.to_owned();
    }
    let email = user_id.split('<').nth(1).unwrap_or(user_id);
    match email.split('@').next().map(str::trim).filter(|l| !l.is_empty() && email.contains('@')) {
        Some(local) => local.to_owned(),
        None => "Writer".to_owned(),
    }
}

/// What [`Profile::import`] did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// The posts imported as drafts, each with its source file, its warnings and the pictures
    /// kept for it (link as written in the old blog, file it came from).
    pub posts: Vec<import::Imported>,
    /// Markdown files that were not posts, with the reason.
    pub skipped: Vec<crate::import::Skipped>,
    /// Distinct pictures kept with the blog.
    pub pictures: usize,
}

/// Commits the blog's pending changes as one revision and signs its heads; `None` if
/// nothing was pending.
pub(crate) fn commit_signed(blog_id: &BlogId, blog: &mut BlogDoc, key: &mut SigningKey, message: &str) -> Result<Option<SignedStatement>, ProfileError> {
    match blog.commit(message) {
        Some(_) => Ok(Some(Statement::new(blog_id.clone(), &blog.heads()).sign(key).map_err(|e| ProfileError::Signing(e.to_string()))?)),
        None => Ok(None),
    }
}

/// Each draft with whether it is published and whether it changed since.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_is_found_in_a_link_or_a_sentence() {
        assert_eq!(ticket_in("  spokes1abc  "), "spokes1abc");
        assert_eq!(ticket_in("https://spoke.example/invite#spokes1abc"), "spokes1abc");
        assert_eq!(ticket_in("Here is your invite: spokes1abc2. Welcome!"), "spokes1abc2");
        assert_eq!(ticket_in("not one"), "not one");
    }

    fn profile(dir: &Path) -> Profile {
        Profile::create(dir, "Ada", "pw", &BlogSettings { title: "Ada's".into(), ..Default::default() }).unwrap()
    }

    #[test]
    fn publish_signs_and_keeps_drafts_local() {
        let d = tempfile::tempdir().unwrap();
        let p = profile(d.path());
        let a = p.new_post("Public", "hello", &[]).unwrap();
        let b = p.new_post("Secret", "draft text", &[]).unwrap();
        let mut key = p.unlock("pw").unwrap();
        assert_eq!(p.publish_local(&mut key, Some(std::slice::from_ref(&a.id))).unwrap(), (1, true));
        let blog = p.blog().unwrap();
        assert!(blog.post(&a.id).is_some());
        assert!(blog.post(&b.id).is_none());
        assert_eq!(p.verify().unwrap().1, 2);
        // Nothing new: no revision.
        assert_eq!(p.publish_local(&mut key, Some(std::slice::from_ref(&a.id))).unwrap(), (1, false));
    }

    #[test]
    fn a_keys_user_id_gives_a_name_without_its_email() {
        assert_eq!(display_name("Grace Hopper <grace@example.org>"), "Grace Hopper");
        assert_eq!(display_name("Grace Hopper (work) <grace@example.org>"), "Grace Hopper");
        assert_eq!(display_name("<grace@example.org>"), "grace");
        assert_eq!(display_name("Just A Name"), "Just A Name");
        assert_eq!(display_name(""), "Writer");
    }

    #[test]
    fn a_changed_passphrase_unlocks_and_the_old_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::create(dir.path(), "Ada", "old passphrase", &BlogSettings::default()).unwrap();
        assert_eq!(p.change_passphrase("old passphrase", "short").unwrap_err().code(), "weak-passphrase");
        assert_eq!(p.change_passphrase("wrong one", "new passphrase").unwrap_err().code(), "wrong-passphrase");
        p.unlock("old passphrase").unwrap();
        p.change_passphrase("old passphrase", "new passphrase").unwrap();
        let p = Profile::open(dir.path()).unwrap();
        assert_eq!(p.unlock("old passphrase").unwrap_err().code(), "wrong-passphrase");
        let key = p.unlock("new passphrase").unwrap();
        assert_eq!(key.cert_fingerprint(), p.fingerprint());
    }

    #[test]
    fn wrong_passphrase_and_damaged_files_are_clear_errors() {
        let d = tempfile::tempdir().unwrap();
        let p = profile(d.path());
        assert_eq!(p.unlock("nope").unwrap_err().code(), "wrong-passphrase");
        let blog = std::fs::read(d.path().join("blog.automerge")).unwrap();
        std::fs::write(d.path().join("blog.automerge"), &blog[..blog.len() / 2]).unwrap();
        let e = p.blog().unwrap_err();
        assert_eq!(e.code(), "damaged-file");
        // The drafts are untouched by the damage.
        assert!(p.posts().is_ok());
        // A version-1 profile is upgraded in place; a newer one is refused.
        let meta = std::fs::read_to_string(d.path().join("profile.json")).unwrap();
        std::fs::write(d.path().join("profile.json"), meta.replace("\"version\": 5", "\"version\": 1")).unwrap();
        Profile::open(d.path()).unwrap();
        assert!(std::fs::read_to_string(d.path().join("profile.json")).unwrap().contains("\"version\": 5"));
        std::fs::write(d.path().join("profile.json"), b"{\"version\": 7}").unwrap();
        assert!(matches!(Profile::open(d.path()), Err(ProfileError::NewerVersion(7))));
    }

    /// A publish appends its statement to `statements.log` and leaves `statements.json` as it
    /// was; a torn last line (a crash mid-append) is skipped and the next append starts a
    /// line of its own; a damaged complete line is an error; rewriting all takes the log in.
    #[test]
    fn a_statement_is_appended_without_rewriting_the_others() {
        let d = tempfile::tempdir().unwrap();
        let p = profile(d.path());
        let mut key = p.unlock("pw").unwrap();
        let first = p.statements().unwrap();
        let base = std::fs::read(d.path().join("statements.json")).unwrap();
        let post = p.new_post("One", "Words.", &[]).unwrap();
        p.publish_local(&mut key, Some(std::slice::from_ref(&post.id))).unwrap();
        assert_eq!(std::fs::read(d.path().join("statements.json")).unwrap(), base, "the stored statements are not rewritten");
        let after = p.statements().unwrap();
        assert_eq!(after.len(), first.len() + 1);
        assert_eq!(after[..first.len()], first[..]);
        let log = d.path().join("statements.log");
        let one = std::fs::read(&log).unwrap();
        assert_eq!(one.iter().filter(|&&b| b == b'\n').count(), 1, "one line per statement");

        // A crash in the middle of the next append: half a line, no newline.
        std::fs::write(&log, [&one[..], &one[..one.len() / 2]].concat()).unwrap();
        assert_eq!(p.statements().unwrap(), after, "the torn line is skipped");
        p.update_post(&Post { body: "Other words.".into(), ..post.clone() }).unwrap();
        p.publish_local(&mut key, Some(std::slice::from_ref(&post.id))).unwrap();
        let again = p.statements().unwrap();
        assert_eq!(again.len(), after.len() + 1, "the next statement is read whole after the torn line");
        assert_eq!(again[..after.len()], after[..]);

        // A broken disk: a complete line that is not a statement.
        let kept = std::fs::read(&log).unwrap();
        std::fs::write(&log, [&b"{not json}\n"[..], &kept[..]].concat()).unwrap();
        assert_eq!(p.statements().unwrap_err().code(), "damaged-file");
        std::fs::write(&log, &kept).unwrap();

        // Rewriting all: the log's statements move into statements.json; a log left behind
        // by a crash before its removal adds nothing twice.
        p.save_statements(&again).unwrap();
        assert!(!log.exists());
        assert_eq!(p.statements().unwrap(), again);
        std::fs::write(&log, &kept).unwrap();
        assert_eq!(p.statements().unwrap(), again, "no statement twice");
    }

    /// Attack 14 of the hostile-peers issue: another user of the computer reads the drafts.
    /// The profile folder is 0700 (tightened when an older 0755 one is opened), the drafts'
    /// append log and the export archive (also while being written) are 0600.
    #[cfg(unix)]
    #[test]
    fn drafts_are_readable_by_the_writer_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("profile");
        let p = profile(&dir);
        assert_eq!(mode(&dir), 0o700);
        let post = p.new_post("Secret", "a first sentence", &[]).unwrap();
        p.edit_post(&post.id, None, &[Splice { pos: 0, delete: 0, insert: "More. ".into() }], None).unwrap();
        let log = dir.join(format!("drafts/posts/{}.automerge.log", post.id));
        assert!(log.exists(), "the edit went to the append log");
        for f in walk(&dir) {
            assert_eq!(mode(&f), 0o600, "{}", f.display());
            assert_eq!(mode(f.parent().unwrap()), 0o700, "{}", f.display());
        }
        let archive = p.export_archive_into(d.path()).unwrap();
        assert_eq!(mode(&archive), 0o600);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Profile::open(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700, "an older profile is tightened when opened");
    }

    #[test]
    fn slugs_stay_unique() {
        let d = tempfile::tempdir().unwrap();
        let p = profile(d.path());
        let a = p.new_post("Same", "", &[]).unwrap();
        let b = p.new_post("Same", "", &[]).unwrap();
        assert_eq!(a.slug, "same");
        assert_eq!(b.slug, "same-2");
    }

    #[test]
    fn autosave_applies_splices_and_refuses_a_disagreeing_editor() {
        let d = tempfile::tempdir().unwrap();
        let p = profile(d.path());
        let post = p.new_post("Draft", "Hi", &[]).unwrap();
        let sp = |pos, delete, insert: &str| Splice { pos, delete, insert: insert.into() };
        // " 😀 there" typed after "Hi", one splice per key as the editor reports them.
        let typed: Vec<Splice> = " 😀 there".chars().scan(2, |at, c| {
            let s = sp(*at, 0, &c.to_string());
            *at += c.len_utf16();
            Some(s)
        }).collect();
        assert_eq!(p.edit_post(&post.id, Some("Greeting"), &typed, Some(11)).unwrap(), 1);
        let saved = p.draft(&post.id).unwrap().unwrap();
        assert_eq!(saved.body, "Hi 😀 there");
        assert_eq!((saved.title.as_str(), saved.slug.as_str()), ("Greeting", "greeting"));
        // Stamped at most once a minute while writing (see `BlogDoc::edit_post`).
        assert_eq!(saved.updated, post.updated);
        // The editor thinks the text is longer than it is: refused, nothing changed.
        let e = p.edit_post(&post.id, None, &[sp(0, 0, "x")], Some(99)).unwrap_err();
        assert_eq!(e.code(), "edit-mismatch");
        assert!(e.to_string().contains("does not fit"), "{e}");
        assert_eq!(p.draft(&post.id).unwrap().unwrap().body, "Hi 😀 there");
        // Another process reading the profile sees the autosaved text.
        let other = Profile::open(d.path()).unwrap();
        assert_eq!(other.draft(&post.id).unwrap().unwrap().body, "Hi 😀 there");
    }

    #[test]
    fn the_list_comes_from_the_index_and_shows_what_changed_since_publishing() {
        let d = tempfile::tempdir().unwrap();
        let p = profile(d.path());
        let a = p.new_post("One", "first", &[]).unwrap();
        let b = p.new_post("Two", "second", &[]).unwrap();
        let fresh = Profile::open(d.path()).unwrap();
        let listed = fresh.posts().unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(|s| s.post.body.is_empty() && !s.published && s.changed_since_published));
        // The list read no post's document, and not the blog.
        assert_eq!(fresh.docs.posts_held(), 0);
        assert!(!fresh.docs.is_loaded(Which::Blog));
        assert_eq!(fresh.draft(&a.id).unwrap().map(|p| p.body).as_deref(), Some("first"));
        assert_eq!(fresh.docs.posts_held(), 1);
        // Published: not changed; an edit a moment later (same minute) shows as a change,
        // in this process and in another one.
        let mut key = p.unlock("pw").unwrap();
        p.publish_local(&mut key, Some(std::slice::from_ref(&a.id))).unwrap();
        let st = |p: &Profile, id: &str| p.posts().unwrap().into_iter().find(|s| s.post.id == id).map(|s| (s.published, s.changed_since_published)).unwrap();
        assert_eq!(st(&p, &a.id), (true, false));
        assert_eq!(st(&p, &b.id), (false, true));
        p.edit_post(&a.id, None, &[Splice { pos: 5, delete: 0, insert: "!".into() }], None).unwrap();
        assert_eq!(st(&p, &a.id), (true, true));
        assert_eq!(st(&Profile::open(d.path()).unwrap(), &a.id), (true, true));
        // Publishing everything changed takes it and the never-published one.
        assert_eq!(p.publish_local(&mut key, None).unwrap(), (2, true));
        assert_eq!((st(&p, &a.id), st(&p, &b.id)), ((true, false), (true, false)));
        assert_eq!(p.blog().unwrap().post(&a.id).unwrap().body, "first!");
        p.unpublish(&mut key, &b.id).unwrap();
        assert!(!st(&p, &b.id).0);
    }

    /// A profile of layout 3 (one drafts document) as this build's predecessor left it:
    /// drafts with a deleted one, a published one, one changed since publishing.
    fn layout_3(dir: &Path) -> (Post, Post, Post) {
        let p = profile(dir);
        let a = p.new_post("Kept", "text of a", &["x".into()]).unwrap();
        let b = p.new_post("Binned", "text of b", &[]).unwrap();
        let c = p.new_post("Published", "text of c", &[]).unwrap();
        let mut key = p.unlock("pw").unwrap();
        p.publish_local(&mut key, Some(std::slice::from_ref(&c.id))).unwrap();
        p.delete_post(&b.id).unwrap();
        let whole = p.drafts_whole().unwrap();
        let mut whole = whole;
        std::fs::write(dir.join("drafts.automerge"), whole.save()).unwrap();
        std::fs::remove_dir_all(dir.join("drafts")).unwrap();
        let meta = std::fs::read_to_string(dir.join("profile.json")).unwrap();
        std::fs::write(dir.join("profile.json"), meta.replace("\"version\": 5", "\"version\": 3")).unwrap();
        (a, b, c)
    }

    #[test]
    fn a_layout_3_profile_is_split_into_an_index_and_one_document_per_post() {
        let d = tempfile::tempdir().unwrap();
        let (a, b, c) = layout_3(d.path());
        let p = Profile::open(d.path()).unwrap();
        assert!(std::fs::read_to_string(d.path().join("profile.json")).unwrap().contains("\"version\": 5"));
        assert!(!d.path().join("drafts.automerge").exists());
        assert!(d.path().join("drafts.automerge.before-layout-4").is_file());
        for post in [&a, &b, &c] {
            assert!(d.path().join(format!("drafts/posts/{}.automerge", post.id)).is_file());
            assert_eq!(p.draft(&post.id).unwrap().unwrap().body, post.body);
        }
        let listed = p.posts().unwrap();
        assert_eq!(listed.len(), 2, "the binned post stays in the bin");
        let c_listed = listed.iter().find(|s| s.post.id == c.id).unwrap();
        assert!(c_listed.published && !c_listed.changed_since_published);
        assert_eq!(listed.iter().find(|s| s.post.id == a.id).unwrap().post.tags, vec!["x".to_string()]);
        // Editing works on the split drafts, and the bin still gives the post back.
        p.edit_post(&a.id, None, &[Splice { pos: 0, delete: 0, insert: "The ".into() }], None).unwrap();
        assert_eq!(p.draft(&a.id).unwrap().unwrap().body, "The text of a");
        p.undo_delete(&b.id).unwrap();
        assert_eq!(p.posts().unwrap().len(), 3);
        // Opening again does not split again.
        let again = Profile::open(d.path()).unwrap();
        assert_eq!(again.draft(&a.id).unwrap().unwrap().body, "The text of a");
    }

    #[test]
    fn two_processes_opening_a_layout_3_profile_at_once_both_open_it() {
        let d = tempfile::tempdir().unwrap();
        let (a, _, _) = layout_3(d.path());
        let dir = d.path().to_path_buf();
        let opens: Vec<_> = (0..4).map(|_| {
            let (dir, id) = (dir.clone(), a.id.clone());
            std::thread::spawn(move || Profile::open(&dir).map(|p| p.draft(&id).map(|d| d.map(|d| d.body))))
        }).collect();
        for o in opens {
            assert_eq!(o.join().unwrap().unwrap().unwrap().as_deref(), Some("text of a"));
        }
        assert!(d.path().join("drafts.automerge.before-layout-4").is_file());
    }

    #[test]
    fn two_computers_that_split_the_same_drafts_merge_without_doubling_the_text() {
        let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, _, _) = layout_3(d1.path());
        // The same profile copied to a second computer before either upgraded.
        for e in walk(d1.path()) {
            let to = d2.path().join(e.strip_prefix(d1.path()).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&e, &to).unwrap();
        }
        let (one, two) = (Profile::open(d1.path()).unwrap(), Profile::open(d2.path()).unwrap());
        one.edit_post(&a.id, None, &[Splice { pos: 0, delete: 0, insert: "One: ".into() }], None).unwrap();
        two.edit_post(&a.id, None, &[Splice { pos: 9, delete: 0, insert: " and two".into() }], None).unwrap();
        let bundle = two.drafts_bundle().unwrap();
        assert_eq!(one.take_drafts(&bundle).unwrap(), 1, "only the post both edited changed");
        assert_eq!(one.draft(&a.id).unwrap().unwrap().body, "One: text of a and two");
        assert_eq!(one.posts().unwrap().len(), 2);
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
        }
        out
    }
}
