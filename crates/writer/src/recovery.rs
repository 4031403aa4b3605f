//! The recovery file, and restoring a blog on a new computer.
//!
//! # Recovery file (version 1)
//!
//! JSON, written once at set-up and kept by the writer somewhere safe:
//!
//! ```text
//! {"format": "spokes-recovery", "version": 1, "blog_id": "<32 hex>", "fingerprint": "<40 hex>",
//!  "name": "<author>", "title": "<blog title>", "created_at": "<RFC 3339>",
//!  "spokes": [{"endpoint": "<iroh endpoint ID>", "addrs": ["ip:port"], "name": "…"?}],
//!  "key": "<ASCII-armored OpenPGP secret key>"}
//! ```
//!
//! `key` holds the primary key and the encryption subkey, their secrets protected by the
//! writer's passphrase (OpenPGP S2K); no device's signing secret is in it, so a restored
//! computer makes its own. With the passphrase and any one spoke that hosts the blog it
//! restores everything published ([`Profile::restore_from_spoke`]); with an export archive
//! it restores drafts too ([`Profile::restore_from_archive`]). A bare armored secret key
//! (`-----BEGIN PGP PRIVATE KEY BLOCK-----`) is accepted wherever a recovery file is.

use crate::archive::read_archive;
use spokes_core::archive::Archive;
use crate::devices::this_device_name;
use crate::profile::{DraftsFrom, Profile, ProfileError};
use crate::publish::SpokeTarget;
use crate::SpokeEntry;
use serde::{Deserialize, Serialize};
use spokes_core::{BlogDoc, BlogId, DocKind, Identity, SignedStatement};
use spokes_core::problem::Code;
use spokes_sync::SyncError;
use spokes_sync::session::{Hello, Replica};
use spokes_sync::set::{SetReplica, VerifiedSet};
use std::path::Path;

/// The `format` value of a recovery file.
pub const RECOVERY_FORMAT: &str = "spokes-recovery";
/// The recovery file version this code writes and reads.
pub const RECOVERY_VERSION: u32 = 1;

/// A spoke the recovery file names: where to fetch the blog from.
pub type RecoverySpoke = spokes_core::SpokeAddr;

/// A parsed recovery file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecoveryFile {
    /// Always [`RECOVERY_FORMAT`].
    pub format: String,
    /// [`RECOVERY_VERSION`].
    pub version: u32,
    /// The blog's ID (`None` for a bare secret key).
    pub blog_id: Option<BlogId>,
    /// The author's fingerprint.
    pub fingerprint: String,
    /// The author's name.
    #[serde(default)]
    pub name: String,
    /// The blog's title when the file was made.
    #[serde(default)]
    pub title: String,
    /// When the file was made (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// The spokes chosen when the file was made.
    #[serde(default)]
    pub spokes: Vec<RecoverySpoke>,
    /// The armored secret key.
    pub key: String,
}

impl RecoveryFile {
    /// Reads a recovery file, or a bare armored secret key.
    ///
    /// Errors: `Damaged` (not JSON of this format), `NewerVersion`, `Identity` (no secret key).
    pub fn parse(bytes: &[u8]) -> Result<RecoveryFile, ProfileError> {
        let damaged = |m: String| ProfileError::Damaged { path: "recovery file".into(), message: m };
        if bytes.trim_ascii_start().starts_with(b"{") {
            let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| damaged(e.to_string()))?;
            if v.get("format").and_then(|f| f.as_str()) != Some(RECOVERY_FORMAT) {
                return Err(damaged("this is not a Spokes recovery file".into()));
            }
            let version = v.get("version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
            if version > RECOVERY_VERSION {
                return Err(ProfileError::NewerVersion(version));
            }
            let r: RecoveryFile = serde_json::from_value(v).map_err(|e| damaged(e.to_string()))?;
            r.identity()?;
            return Ok(r);
        }
        let id = Identity::from_bytes(bytes)?;
        Ok(RecoveryFile {
            format: RECOVERY_FORMAT.into(),
            version: RECOVERY_VERSION,
            blog_id: None,
            fingerprint: id.fingerprint(),
            name: id.certificate().user_id().unwrap_or_default(),
            title: String::new(),
            created_at: String::new(),
            spokes: vec![],
            key: String::from_utf8_lossy(&id.to_armored()).into_owned(),
        })
    }

    /// The identity inside (secrets still protected).
    pub fn identity(&self) -> Result<Identity, ProfileError> {
        let id = Identity::from_bytes(self.key.as_bytes())?;
        if id.fingerprint() != self.fingerprint {
            return Err(ProfileError::Damaged { path: "recovery file".into(), message: "the key does not match the fingerprint it names".into() });
        }
        Ok(id)
    }
}

impl Profile {
    /// The recovery file for this profile (JSON bytes, see the module docs).
    pub fn recovery_file(&self) -> Result<Vec<u8>, ProfileError> {
        let identity = self.identity()?.for_device(self.fingerprint())?;
        let r = RecoveryFile {
            format: RECOVERY_FORMAT.into(),
            version: RECOVERY_VERSION,
            blog_id: Some(self.blog_id().clone()),
            fingerprint: self.fingerprint().into(),
            name: self.name().into(),
            title: self.settings()?.title,
            created_at: chrono::Utc::now().to_rfc3339(),
            spokes: self.spokes().iter().map(SpokeEntry::spoke_addr).collect(),
            key: String::from_utf8_lossy(&identity.to_armored()).into_owned(),
        };
        Ok(serde_json::to_vec_pretty(&r).unwrap_or_default())
    }

    /// Restores a blog into a new profile at `dir` from an export archive and the writer's
    /// recovery file (or secret key). This computer gets a signing key of its own; the
    /// archive's drafts, history and signatures are kept.
    ///
    /// Errors: `Archive` (unreadable or failing verification), `Identity(WrongPassphrase)`,
    /// `Signing` when the key is not the blog's author, `Exists`.
    pub fn restore_from_archive(dir: &Path, archive: &Path, recovery: &RecoveryFile, passphrase: &str) -> Result<Profile, ProfileError> {
        let Archive { mut blog, drafts, statements, images, set, certificate, .. } = read_archive(archive)?;
        // A blog kept as one document per post stays so: its set is checked before anything
        // is written.
        let set = set.map(|s| crate::sets::archived_set(s, &certificate, &blog.blog_id()?)).transpose()?;
        let spokes = recovery.spokes.iter().map(entry).collect();
        let (identity, device) = recovery.identity()?.add_device(passphrase, &this_device_name())?;
        let drafts = match drafts {
            Some(d) if d.kind() == Some(DocKind::Drafts) => DraftsFrom::Whole(Box::new(d)),
            _ => DraftsFrom::Published,
        };
        let p = Self::restore(dir, &recovery.name, identity, &device, passphrase, &mut blog, drafts, &statements, spokes)?;
        for (_, bytes) in &images {
            p.add_image(bytes)?;
        }
        if let Some(set) = set {
            p.merge_certificate(&certificate)?;
            p.keep_set(set)?;
        }
        Ok(p)
    }

    /// Restores a blog into a new profile at `dir` from the recovery file and the spokes that
    /// host it (`spoke`, or else every spoke the recovery file lists, merged: one that serves
    /// an old state takes nothing away).
    /// Everything published comes back with its history; the drafts come back from the sealed
    /// drafts the writer's computers left on the spoke, or else as the published posts.
    ///
    /// Errors: `Identity(WrongPassphrase)`, `Damaged` when the recovery file names no blog,
    /// `Io` when no spoke could be reached (with each spoke's reason), `Exists`.
    pub async fn restore_from_spoke(dir: &Path, recovery: &RecoveryFile, passphrase: &str, spoke: Option<SpokeTarget>) -> Result<Profile, ProfileError> {
        if Self::exists(dir) {
            return Err(ProfileError::Exists(dir.into()));
        }
        let identity = recovery.identity()?;
        // Check the passphrase before any network.
        identity.check_passphrase(passphrase)?;
        let blog_id = recovery.blog_id.clone().ok_or_else(|| ProfileError::Damaged { path: "recovery file".into(), message: "it names no blog; restore from an export archive instead".into() })?;
        let spokes: Vec<SpokeEntry> = recovery.spokes.iter().map(entry).collect();
        let targets: Vec<SpokeTarget> = match spoke {
            Some(t) => vec![t],
            None => spokes.iter().map(SpokeTarget::from).collect(),
        };
        let (identity, device) = identity.add_device(passphrase, &this_device_name())?;
        Self::restore_from_spokes(dir, &recovery.name, identity, &device, passphrase, &blog_id, &targets, spokes).await
    }

    /// Makes a profile at `dir` for `identity` (which already holds this computer's signing
    /// key `device`) from every one of `targets` that hosts `blog_id`, merged: the blog with
    /// its history (only what the author's signatures cover), and the drafts the writer's
    /// computers left there sealed (or else the published posts). `spokes` become the
    /// profile's spokes. Fails only when no target gives the blog back.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn restore_from_spokes(dir: &Path, name: &str, identity: Identity, device: &str, passphrase: &str, blog_id: &BlogId, targets: &[SpokeTarget], spokes: Vec<SpokeEntry>) -> Result<Profile, ProfileError> {
        let io = |e: spokes_sync::net::NetError| ProfileError::Io { path: dir.into(), source: std::io::Error::other(e.to_string()) };
        let reach = spokes_sync::net::Reach::from_env().map_err(io)?;
        let endpoint = spokes_sync::net::bind_dialer(iroh::SecretKey::generate(), vec![], &reach).await.map_err(io)?;
        let pool = spokes_sync::peer::ConnectionPool::new(endpoint);
        let mut failures = Vec::new();
        // Every spoke is asked, into one replica: each session merges only what the author's
        // signatures cover, so a spoke that lost revisions or serves an old state (validly
        // signed, but stale) takes nothing away, and the newest state any spoke holds comes
        // back. A spoke that lacks some of it gets it in the same session.
        let mut replica = Replica { blog_id: blog_id.clone(), doc: spokes_core::doc::empty_automerge(), certificate: Some(identity.certificate()), statements: vec![], saved: Default::default() };
        // A spoke that keeps the blog as a set of documents (the writer upgraded) refuses
        // version 1 sessions: it is asked over `spokes/sync/2`, into this one.
        let mut set = SetReplica::new(blog_id.clone(), Some(identity.certificate()));
        let mut sealed = Vec::new();
        let mut answered = Vec::new();
        for t in targets {
            let mut state = automerge::sync::State::new();
            let addr = match t.endpoint_addr() {
                Ok(a) => a,
                Err(e) => {
                    failures.push(format!("{}: {e}", t.label()));
                    continue;
                }
            };
            match pool.session(addr.clone(), Hello::new(blog_id.clone(), None), &mut replica, &mut state, |_, _, _| Ok(())).await {
                Ok(o) if !o.peer_heads.is_empty() => {
                    // The drafts the writer's computers left there, sealed; none is fine.
                    sealed.extend(crate::drafts_sync::fetch_drafts(pool.endpoint(), addr, blog_id).await);
                    answered.push(t.clone());
                }
                Ok(_) => failures.push(format!("{}: it holds nothing of this blog", t.label())),
                Err(SyncError::Remote(e)) if e.code == Code::UnsupportedVersion => match pool.set_session(addr.clone(), None, &mut set, &mut |_: &str| None, |_, _| Ok(())).await {
                    Ok(_) if !set.frontier.is_empty() => {
                        sealed.extend(crate::drafts_sync::fetch_drafts(pool.endpoint(), addr, blog_id).await);
                        answered.push(t.clone());
                    }
                    Ok(_) => failures.push(format!("{}: it holds nothing of this blog", t.label())),
                    Err(e) => failures.push(format!("{}: {e}", t.label())),
                },
                Err(e) => failures.push(format!("{}: {e}", t.label())),
            }
        }
        // The writer upgraded when any spoke keeps the blog as a set: that is the blog.
        let from_set = !set.frontier.is_empty();
        if answered.is_empty() || (!from_set && replica.doc.get_heads().is_empty()) {
            pool.close().await;
            return Err(ProfileError::Io { path: dir.into(), source: std::io::Error::other(format!("no spoke could give the blog back: {}", failures.join("; "))) });
        }
        if !failures.is_empty() {
            tracing::warn!("restored from {} spoke(s); not from: {}", answered.len(), failures.join("; "));
        }
        // Spokes hold the same sealed drafts: each is opened once (`opened_bundles`).
        let restored = if from_set {
            Self::restore_set(dir, name, identity, device, passphrase, set, sealed, spokes)?
        } else {
            let mut blog = BlogDoc::from_automerge(replica.doc)?;
            let cert = replica.certificate.clone().unwrap_or_else(|| identity.certificate());
            let (drafts, taken) = open_drafts(&identity, passphrase, &cert, blog_id, sealed);
            let restored = Self::restore(dir, name, identity, device, passphrase, &mut blog, drafts, &replica.statements, spokes)?;
            // The next drafts exchange takes only what changed since.
            restored.note_restored_items(&taken)?;
            // What the spoke knew of the certificate (devices removed elsewhere) is kept.
            if let Some(c) = &replica.certificate {
                restored.merge_certificate(c)?;
            }
            restored
        };
        // The published posts' pictures, from the spokes that answered; any that do not come
        // now come at the next publish.
        match restored.sync_images(&pool, &answered).await {
            Ok(failed) if failed.is_empty() => {}
            Ok(failed) => tracing::warn!("pictures not fetched yet: {failed:?}"),
            Err(e) => tracing::warn!("pictures not fetched yet: {e}"),
        }
        pool.close().await;
        Ok(restored)
    }

    /// [`Profile::restore_from_spokes`] for a blog the spokes keep as a set of documents:
    /// the set is verified whole, a blog document is made from its posts (a new history on
    /// this computer; the old one stays on the writer's other computers and in their export
    /// archives), signed by this computer's key, and the set is kept as this profile's, so the
    /// next publish goes over `spokes/sync/2` with nothing to send.
    #[allow(clippy::too_many_arguments)]
    fn restore_set(dir: &Path, name: &str, identity: Identity, device: &str, passphrase: &str, set: SetReplica, sealed: Vec<spokes_sync::drafts::ReceivedItem>, spokes: Vec<SpokeEntry>) -> Result<Profile, ProfileError> {
        let blog_id = set.blog_id.clone();
        let damaged = |m: String| ProfileError::Damaged { path: "the spokes' copy of the blog".into(), message: m };
        let verified = VerifiedSet::verify(set, &mut |_: &str| None).map_err(|b| damaged(b.1.message))?;
        let settings = verified.merged().map(|m| m.site_settings()).transpose().map_err(|e| damaged(e.to_string()))?.unwrap_or_default();
        let cert = verified.certificate().cloned().unwrap_or_else(|| identity.certificate());
        let replica = verified.into_replica();
        let mut blog = BlogDoc::create_bound(&blog_id, &settings.blog_id_salt, &settings.owner, &settings.blog);
        // Revision by revision, as far back as the spokes keep manifests: the last publishes
        // of each computer stay listed here, for "lost or stolen".
        let received = crate::received::replay_set(&mut blog, &replica)?;
        let (drafts, taken) = open_drafts(&identity, passphrase, &cert, &blog_id, sealed);
        let restored = Self::restore(dir, name, identity, device, passphrase, &mut blog, drafts, &[], spokes)?;
        restored.note_restored_items(&taken)?;
        restored.merge_certificate(&cert)?;
        restored.adopt_set(replica, passphrase)?;
        restored.append_received(received)?;
        Ok(restored)
    }

    #[allow(clippy::too_many_arguments)]
    fn restore(dir: &Path, name: &str, identity: Identity, device: &str, passphrase: &str, blog: &mut BlogDoc, drafts: DraftsFrom, statements: &[SignedStatement], spokes: Vec<SpokeEntry>) -> Result<Profile, ProfileError> {
        let name = if name.is_empty() { identity.certificate().user_id().unwrap_or_default() } else { name.to_owned() };
        let mut p = Self::create_from_blog_with(dir, &name, &identity, passphrase, blog, statements, drafts)?;
        p.set_device_key(device)?;
        for s in spokes {
            p.add_spoke_entry(s)?;
        }
        Ok(p)
    }
}

/// Opens the sealed drafts of the writer's devices ([`DraftsFrom::Opened`]);
/// [`DraftsFrom::Published`] if none opens (the restored computer then starts its drafts from
/// the published posts). Drafts of another blog are refused when they are taken in.
fn open_drafts(identity: &Identity, passphrase: &str, cert: &spokes_core::Certificate, _blog_id: &BlogId, sealed: Vec<spokes_sync::drafts::ReceivedItem>) -> (DraftsFrom, Vec<crate::drafts_sync::Taken>) {
    let Ok(keys) = identity.opening_keys(passphrase) else { return (DraftsFrom::Published, Vec::new()) };
    let (opened, taken) = crate::drafts_sync::opened_bundles(sealed, cert, &keys);
    if opened.is_empty() { (DraftsFrom::Published, taken) } else { (DraftsFrom::Opened(opened), taken) }
}

/// Where the recovery file (and an export) goes unless the writer chooses: the desktop's
/// Documents folder as the desktop defines it (on Linux `XDG_DOCUMENTS_DIR` in
/// `$XDG_CONFIG_HOME/user-dirs.dirs`, through the `dirs` crate), else `~/Documents` if it
/// exists, else the home folder.
pub fn default_recovery_folder() -> std::path::PathBuf {
    recovery_folder(dirs::document_dir(), dirs::home_dir())
}

/// [`default_recovery_folder`] from the desktop's Documents folder and home folder, if known.
fn recovery_folder(documents: Option<std::path::PathBuf>, home: Option<std::path::PathBuf>) -> std::path::PathBuf {
    if let Some(d) = documents {
        return d;
    }
    let home = home.unwrap_or_else(|| ".".into());
    let docs = home.join("Documents");
    if docs.is_dir() { docs } else { home }
}

impl Profile {
    /// Records the draft items a restore took in (`taken`), so that the next drafts exchange
    /// takes only what changed since; a post that came from one computer's item alone is
    /// exactly that item here, which stands for this computer's until the post changes.
    fn note_restored_items(&self, taken: &[crate::drafts_sync::Taken]) -> Result<(), ProfileError> {
        let list = self.list()?;
        list.set_drafts_taken(taken)?;
        let mut sources: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (_, item, _) in taken {
            *sources.entry(item.as_str()).or_default() += 1;
        }
        let (known, mut fresh) = (std::collections::HashMap::new(), Vec::new());
        let mut single = Vec::new();
        for (item, _) in sources.into_iter().filter(|(item, n)| *n == 1 && spokes_core::manifest::is_post_id(item) && self.docs.post_exists(item)) {
            single.push((item.to_owned(), self.draft_item_heads(item, &known, &mut fresh)?));
        }
        list.set_item_heads(&fresh)?;
        list.set_drafts_sent(&crate::drafts_sync::covered_items(&single, taken))?;
        Ok(())
    }

    /// Where the recovery file would go in `folder` unless the writer chooses:
    /// `spokes-recovery-{slug of the title}.json` (`-2`, `-3`… if one is there already).
    pub fn suggested_recovery_path(&self, folder: &Path) -> Result<std::path::PathBuf, ProfileError> {
        let title = self.settings()?.title;
        let base = format!("spokes-recovery-{}", spokes_core::doc::slugify(if title.trim().is_empty() { "blog" } else { &title }));
        Ok(crate::fsutil::unique_path(folder, &base, "json"))
    }

    /// Writes the recovery file into `folder` under [`Self::suggested_recovery_path`]'s name
    /// and returns its path.
    pub fn save_recovery_file(&self, folder: &Path) -> Result<std::path::PathBuf, ProfileError> {
        std::fs::create_dir_all(folder).map_err(|source| ProfileError::Io { path: folder.into(), source })?;
        let path = self.suggested_recovery_path(folder)?;
        self.save_recovery_file_as(&path)?;
        Ok(path)
    }

    /// Writes the recovery file to `path` (replacing what is there, whole or not at all;
    /// readable by the owner only).
    pub fn save_recovery_file_as(&self, path: &Path) -> Result<(), ProfileError> {
        let bytes = self.recovery_file()?;
        crate::fsutil::write_atomic(path, &bytes).map_err(|source| ProfileError::Io { path: path.into(), source })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(())
    }

    /// A printable recovery sheet (a whole HTML page) in English: see
    /// [`Profile::recovery_sheet_in`].
    pub fn recovery_sheet(&self) -> Result<String, ProfileError> {
        self.recovery_sheet_in(&SheetWords::default())
    }

    /// A printable recovery sheet (a whole HTML page) in the words `w` give: what the recovery
    /// file holds, in words, as QR codes and in full, with how to use it. The key on it is
    /// still protected by the passphrase, which is not on the sheet.
    pub fn recovery_sheet_in(&self, w: &SheetWords) -> Result<String, ProfileError> {
        let bytes = self.recovery_file()?;
        let r = RecoveryFile::parse(&bytes)?;
        let fp: Vec<String> = r.fingerprint.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        let json = String::from_utf8_lossy(&bytes).into_owned();
        let parts = sheet_parts(&json);
        let codes: Vec<Option<String>> = parts.iter().map(|p| part_qr_svg(p)).collect();
        let (choose_before, choose_after) = around(&w.step_choose, "{choice}");
        let (scan_before, scan_after) = around(&w.step_scan, "{file}");
        let (blog_before, blog_rest) = around(&w.blog, "{title}");
        let by = blog_rest.replace("{name}", &r.name);
        let made = w.made_on.replace("{date}", r.created_at.get(..10).unwrap_or_default());
        let page = maud::html! {
            (maud::DOCTYPE)
            html lang=(w.lang) {
                head {
                    meta charset="utf-8";
                    title { (w.title.replace("{title}", &r.title)) }
                    style { "body{font:11pt/1.45 Georgia,serif;max-width:42em;margin:2em auto;color:#111}pre{font:8pt/1.2 monospace;white-space:pre-wrap;word-break:break-all;border:1px solid #999;padding:.6em}code{font-size:110%}.codes{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0;break-inside:avoid;text-align:center}figure svg{width:15em;height:15em}" }
                }
                body {
                    h1 { (w.heading) }
                    p { (blog_before) strong { (r.title) } (by) }
                    p { (w.fingerprint) " " code #sheet-fingerprint { (fp.join(" ")) } }
                    p { (w.blog_id) " " code { (r.blog_id.as_ref().map(|b| b.to_string()).unwrap_or_default()) } }
                    p { (made) }
                    h2 { (w.if_lost) }
                    ol {
                        li { (w.step_install) }
                        li { (choose_before) strong { "“" (w.choice) "”" } (choose_after) }
                        li { (scan_before) code { "recovery.json" } (scan_after) }
                    }
                    p { (w.key_locked) }
                    @if !r.spokes.is_empty() {
                        h2 { (w.your_spokes) }
                        ul { @for s in &r.spokes { li { (s.name.clone().unwrap_or_default()) " " code { (s.endpoint) } } } }
                    }
                    h2 { (w.as_codes) }
                    div .codes #sheet-codes {
                        @for (i, code) in codes.iter().enumerate() {
                            figure {
                                @if let Some(svg) = code { (maud::PreEscaped(svg)) } @else { p { (w.too_long) } }
                                figcaption { (w.part.replace("{i}", &(i + 1).to_string()).replace("{n}", &codes.len().to_string())) }
                            }
                        }
                    }
                    h2 { (w.file) }
                    pre #sheet-file { (json) }
                }
            }
        };
        Ok(page.into_string())
    }
}

/// `text` split around the first `placeholder` (all of it before, when it is missing).
fn around<'a>(text: &'a str, placeholder: &str) -> (&'a str, &'a str) {
    text.split_once(placeholder).unwrap_or((text, ""))
}

/// The words of the printable recovery sheet, in the writer's language: the app fills them
/// from its catalogues; [`SheetWords::default`] is English. Placeholders, replaced when the
/// sheet is made: `{title}` (the blog's title), `{name}` (the writer's), `{date}` (the day the
/// file was made, `YYYY-MM-DD`), `{choice}` (where [`SheetWords::choice`] goes, in bold),
/// `{file}` (the name `recovery.json`), `{i}` and `{n}` (a code's place and how many).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SheetWords {
    /// The page's language, a BCP 47 tag (`<html lang>`).
    pub lang: String,
    /// The page's title, with `{title}`.
    pub title: String,
    pub heading: String,
    /// "Blog: {title} by {name}".
    pub blog: String,
    /// Before the fingerprint.
    pub fingerprint: String,
    /// Before the blog ID.
    pub blog_id: String,
    /// "Made on {date}."
    pub made_on: String,
    pub if_lost: String,
    pub step_install: String,
    /// The second step, with `{choice}`.
    pub step_choose: String,
    /// The app's choice that brings a blog back, as its welcome screen words it.
    pub choice: String,
    /// The third step, with `{file}`.
    pub step_scan: String,
    pub key_locked: String,
    pub your_spokes: String,
    pub as_codes: String,
    /// In place of a code for a part too long for one.
    pub too_long: String,
    /// Under each code, with `{i}` and `{n}`.
    pub part: String,
    /// Above the recovery file in full.
    pub file: String,
}

impl Default for SheetWords {
    fn default() -> Self {
        let s = |t: &str| t.to_owned();
        SheetWords {
            lang: s("en"),
            title: s("Spokes recovery sheet: {title}"),
            heading: s("Recovery sheet"),
            blog: s("Blog: {title} by {name}"),
            fingerprint: s("Identity fingerprint:"),
            blog_id: s("Blog ID:"),
            made_on: s("Made on {date}."),
            if_lost: s("If this computer is lost"),
            step_install: s("Install Spokes on another computer and open it."),
            step_choose: s("Choose {choice}, pick the recovery file you saved, and enter your passphrase. Your blog and drafts come back from any of your spokes."),
            choice: s("I already have a blog: bring it back with my recovery file"),
            step_scan: s("No copy of the file? Scan the codes below with a phone, in order, and put their text one after the other into a plain text file named {file} (or type the text printed at the end of this sheet). Then pick that file."),
            key_locked: s("The key below is locked with your passphrase, which is not written here. Keep this sheet away from where you write your passphrase down."),
            your_spokes: s("Your spokes"),
            as_codes: s("The recovery file as codes"),
            too_long: s("(too long for a code: type this part)"),
            part: s("Part {i} of {n}"),
            file: s("Recovery file"),
        }
    }
}

fn entry(s: &RecoverySpoke) -> SpokeEntry {
    SpokeEntry::new(s.clone(), None)
}

/// Characters of the recovery file each QR code on the sheet carries, at most (UTF-8 bytes):
/// with error correction level M a code stays small enough (version 25 or less, about 5 cm
/// across at print size) for a phone to read off paper.
pub const SHEET_PART_BYTES: usize = 700;

/// The recovery file cut into the parts the sheet's QR codes carry, in order: each at most
/// [`SHEET_PART_BYTES`] bytes, cut between characters; joined, they are the file again.
pub fn sheet_parts(file: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = file;
    while !rest.is_empty() {
        let mut end = rest.len().min(SHEET_PART_BYTES);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        parts.push(rest[..end].to_owned());
        rest = &rest[end..];
    }
    parts
}

/// One part as a QR code (ISO/IEC 18004, byte mode, error correction M) drawn as SVG;
/// `None` if it does not fit one (it always does at [`SHEET_PART_BYTES`]).
fn part_qr_svg(part: &str) -> Option<String> {
    let qr = qrcode::QrCode::with_error_correction_level(part.as_bytes(), qrcode::EcLevel::M).ok()?;
    let svg = qr.render::<qrcode::render::svg::Color>().dark_color(qrcode::render::svg::Color("#000000")).light_color(qrcode::render::svg::Color("#ffffff")).build();
    // Without its XML declaration: it goes inside the page.
    Some(svg.find("<svg").map_or(svg.clone(), |at| svg[at..].to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::BlogSettings;

    #[test]
    fn the_recovery_file_goes_to_the_desktops_documents_folder_else_home() {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let desktop = tmp.path().join("Dokumente");
        assert_eq!(recovery_folder(Some(desktop.clone()), Some(home.clone())), desktop);
        assert_eq!(recovery_folder(None, Some(home.clone())), home, "no Documents folder: home");
        std::fs::create_dir_all(home.join("Documents")).unwrap();
        assert_eq!(recovery_folder(None, Some(home.clone())), home.join("Documents"));
    }

    #[test]
    fn an_archive_and_the_recovery_file_restore_the_blog_on_a_new_computer() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Profile::create(&tmp.path().join("old"), "Ada", "pw", &BlogSettings { title: "Notes".into(), ..Default::default() }).unwrap();
        p.new_post("Published", "Out there.", &[]).unwrap();
        let mut key = p.unlock("pw").unwrap();
        p.publish_local(&mut key, None).unwrap();
        let draft = p.new_post("Draft", "Only on my computer.", &[]).unwrap();
        let archive = tmp.path().join("blog.tar.gz");
        p.export_archive(&archive).unwrap();
        let recovery = RecoveryFile::parse(&p.recovery_file().unwrap()).unwrap();
        assert_eq!(recovery.blog_id.as_ref(), Some(p.blog_id()));
        // The recovery file carries no device's signing secret.
        assert!(matches!(recovery.identity().unwrap().unlock("pw"), Err(spokes_core::identity::IdentityError::NoSigningKey)));

        let new_dir = tmp.path().join("new");
        assert!(matches!(Profile::restore_from_archive(&new_dir, &archive, &recovery, "wrong"), Err(ProfileError::Identity(spokes_core::identity::IdentityError::WrongPassphrase))));
        let r = Profile::restore_from_archive(&new_dir, &archive, &recovery, "pw").unwrap();
        assert_eq!(r.fingerprint(), p.fingerprint());
        assert_eq!(r.blog_id(), p.blog_id());
        assert_eq!(r.draft(&draft.id).unwrap().unwrap().body, "Only on my computer.");
        r.verify().unwrap();
        // The new computer signs with a key of its own, under the same fingerprint.
        let mut key = r.unlock("pw").unwrap();
        assert_ne!(Some(key.key_fingerprint().as_str()), p.device_key());
        r.publish_local(&mut key, None).unwrap();
        let (changes, statements) = r.verify().unwrap();
        assert!(changes > 0 && statements == 3, "{changes} {statements}");

        // A bare armored key works as well; another author's key does not.
        let bare = RecoveryFile::parse(&p.identity().unwrap().to_armored()).unwrap();
        assert!(bare.blog_id.is_none());
        let other = Profile::create(&tmp.path().join("other"), "Mallory", "pw", &BlogSettings::default()).unwrap();
        let mallory = RecoveryFile::parse(&other.recovery_file().unwrap()).unwrap();
        assert!(matches!(Profile::restore_from_archive(&tmp.path().join("m"), &archive, &mallory, "pw"), Err(ProfileError::Signing(_))));
        assert!(matches!(RecoveryFile::parse(b"{\"format\":\"spokes-recovery\",\"version\":7}"), Err(ProfileError::NewerVersion(7))));
        assert!(RecoveryFile::parse(b"{}").is_err());
    }

    #[test]
    fn the_recovery_file_is_saved_without_overwriting_and_the_sheet_holds_it() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Profile::create(&tmp.path().join("p"), "Ada <ada@example.org>", "pw", &BlogSettings { title: "Notes & <Things>".into(), ..Default::default() }).unwrap();
        let folder = tmp.path().join("docs");
        let first = p.save_recovery_file(&folder).unwrap();
        assert_eq!(first.file_name().unwrap(), "spokes-recovery-notes-things.json");
        let second = p.save_recovery_file(&folder).unwrap();
        assert_eq!(second.file_name().unwrap(), "spokes-recovery-notes-things-2.json");
        let r = RecoveryFile::parse(&std::fs::read(&first).unwrap()).unwrap();
        assert_eq!(r.fingerprint, p.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&first).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let sheet = p.recovery_sheet().unwrap();
        assert!(sheet.contains("Notes &amp; &lt;Things&gt;"), "escaped");
        assert!(sheet.contains(&p.fingerprint()[..4]));
        assert!(sheet.contains("BEGIN PGP PRIVATE KEY BLOCK"));
        assert!(sheet.contains("Ada &lt;ada@example.org&gt;"));
        // A person restores from the app, never a terminal; the file is on the sheet as codes.
        assert!(!sheet.contains("spokes restore"), "no command line on the sheet");
        assert!(sheet.contains("bring it back with my recovery file"));
        let file = String::from_utf8(std::fs::read(&first).unwrap()).unwrap();
        let parts = sheet_parts(&file);
        assert!(parts.len() >= 2, "a recovery file of {} bytes in {} parts", file.len(), parts.len());
        assert_eq!(sheet.matches("<svg").count(), parts.len(), "one code per part");
        assert!(sheet.contains(&format!("Part {} of {}", parts.len(), parts.len())));
        // In the writer's language: the words given, every placeholder filled.
        let words = SheetWords { lang: "de".into(), heading: "Wiederherstellungsblatt".into(), part: "Teil {i} von {n}".into(), blog: "Blog: {title} von {name}".into(), ..SheetWords::default() };
        let de = p.recovery_sheet_in(&words).unwrap();
        assert!(de.contains("<html lang=\"de\">") && de.contains("<h1>Wiederherstellungsblatt</h1>"), "{de}");
        assert!(de.contains(&format!("Teil 1 von {}", parts.len())) && de.contains(" von Ada &lt;ada@example.org&gt;"));
        for placeholder in ["{title}", "{name}", "{date}", "{choice}", "{file}", "{i}", "{n}"] {
            assert!(!de.contains(placeholder) && !sheet.contains(placeholder), "{placeholder} left on the sheet");
        }
    }

    #[test]
    fn sheet_parts_join_back_into_the_file_and_fit_a_code() {
        let file = format!("{{\"name\": \"Zoë 😀\", \"key\": \"{}\"}}", "é".repeat(1000));
        let parts = sheet_parts(&file);
        assert_eq!(parts.concat(), file);
        assert!(parts.iter().all(|p| !p.is_empty() && p.len() <= SHEET_PART_BYTES));
        assert!(parts.iter().all(|p| part_qr_svg(p).is_some()), "every part fits a code");
        assert!(sheet_parts("").is_empty());
    }
}
