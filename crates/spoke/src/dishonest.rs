//! Test-only dishonesty: compiled only with the cargo feature `dishonest` (the
//! `spoke-dishonest` binary), never into `spoke`. The real spoke, with what it serves to peers
//! (sync sessions and council catalogs) tampered as `SPOKE_DISHONEST` says:
//!
//! | value | what peers receive |
//! |---|---|
//! | `alter-text` | the newest post's body rewritten by a new change no statement covers; every post of its digest of the council's newest posts likewise |
//! | `forge-post` | an extra post, with a statement signed by a key that is not the author's |
//! | `drop-revision` | the document without its newest change |
//! | `replay-old` | the document as the first signed statement it received names it (the new blog) |
//! | `malformed-catalog` | council catalogs naming manifests that are not SHA-256 hashes |
//! | `old-drafts` | nothing tampered: the spoke answers only `spokes/drafts/1`, as a spoke built before `spokes/drafts/2` does |
//!
//! A blog kept as a set of documents (`spokes/sync/2`) is tampered with the same way where
//! the kind applies to it: `alter-text` serves the newest post document with an unsigned
//! change, `forge-post` adds a manifest listing an extra post, signed by a key that is not
//! the author's, `replay-old` offers the oldest manifest it keeps (its catalog says so), and
//! `malformed-catalog` names its manifests with garbage; `drop-revision` leaves sets alone.
//!
//! Its own stored data stays as received, so turning the variable off makes it honest again.

use spokes_core::postdoc::{PostContent, PostDoc};
use spokes_core::statement::Statement;
use spokes_core::{BlogDoc, Identity, Post};
use spokes_sync::session::Replica;
use spokes_sync::set::{SetReplica, SignedManifest};

/// The forged manifest made for each (blog, frontier), so that every catalog and session
/// serves the same one.
static FORGERIES: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, SignedManifest>>> = std::sync::OnceLock::new();

/// The kind of tampering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// Rewrite the newest post with an unsigned change.
    AlterText,
    /// Add a post signed by someone else.
    ForgePost,
    /// Leave out the newest change.
    DropRevision,
    /// Serve the oldest signed state.
    ReplayOld,
    /// Name manifests with garbage in council catalogs.
    MalformedCatalog,
    /// Answer drafts exchanges only as a spoke before `spokes/drafts/2` did.
    OldDrafts,
}

impl Tamper {
    /// From `SPOKE_DISHONEST`; `None` when unset or unknown.
    pub fn from_env() -> Option<Tamper> {
        let t = match std::env::var("SPOKE_DISHONEST").ok()?.as_str() {
            "alter-text" => Tamper::AlterText,
            "forge-post" => Tamper::ForgePost,
            "drop-revision" => Tamper::DropRevision,
            "replay-old" => Tamper::ReplayOld,
            "malformed-catalog" => Tamper::MalformedCatalog,
            "old-drafts" => Tamper::OldDrafts,
            other => {
                tracing::error!("SPOKE_DISHONEST={other} is not a kind of tampering; staying honest");
                return None;
            }
        };
        tracing::warn!("this spoke is DISHONEST for tests: {t:?}");
        Some(t)
    }

    /// Tampers with a replica about to be served. Best effort: a replica it cannot change is
    /// served as it is.
    pub fn apply(&self, replica: &mut Replica) {
        if replica.doc.get_heads().is_empty() {
            return;
        }
        match self {
            Tamper::AlterText => {
                let Ok(mut doc) = BlogDoc::from_automerge(replica.doc.fork()) else { return };
                let Some(mut p) = doc.posts().into_iter().max_by_key(|p| p.updated) else { return };
                p.body = format!("{}\n\nThis text was altered by a dishonest spoke.", p.body);
                if doc.put_post(&p).is_ok() {
                    doc.commit("altered");
                    replica.doc = doc.into_automerge();
                }
            }
            Tamper::ForgePost => {
                let Ok(mut doc) = BlogDoc::from_automerge(replica.doc.fork()) else { return };
                let Ok(mallory) = Identity::generate("Mallory", "pw") else { return };
                let Ok(mut key) = mallory.unlock("pw") else { return };
                if doc.put_post(&Post::new("A forged post", "Written by a dishonest spoke.")).is_err() {
                    return;
                }
                doc.commit("forged");
                if let Ok(s) = Statement::new(replica.blog_id.clone(), &doc.heads()).sign(&mut key) {
                    replica.statements.push(s);
                }
                replica.doc = doc.into_automerge();
            }
            Tamper::DropRevision => {
                let heads = replica.doc.get_heads();
                let Some(newest) = heads.iter().filter_map(|h| replica.doc.get_change_by_hash(h)).max_by_key(|c| c.timestamp()) else { return };
                let mut keep: Vec<_> = heads.iter().filter(|h| **h != newest.hash()).cloned().collect();
                keep.extend(newest.deps().iter().cloned());
                if let Ok(d) = replica.doc.fork_at(&keep) {
                    replica.doc = d;
                }
            }
            Tamper::MalformedCatalog | Tamper::OldDrafts => {}
            Tamper::ReplayOld => {
                // The first statement the spoke received: the blog as it was created.
                let Some(first) = replica.statements.first().and_then(|s| Statement::parse(s.statement.as_bytes()).ok()) else { return };
                if let Ok(d) = replica.doc.fork_at(&first.heads) {
                    replica.doc = d;
                }
            }
        }
    }

    /// Tampers with a set blog's manifests about to be served (and named in catalogs).
    pub fn apply_set(&self, replica: &mut SetReplica) {
        match self {
            Tamper::ForgePost => {
                // One forgery per state of the blog, so that the catalog names the manifest its
                // sessions then serve, as a forger's would.
                let key_of_state = format!("{}:{}", replica.blog_id, SignedManifest::names(&replica.frontier).join(","));
                let forgeries = FORGERIES.get_or_init(Default::default);
                if let Some(m) = forgeries.lock().unwrap_or_else(|p| p.into_inner()).get(&key_of_state) {
                    replica.frontier = vec![m.clone()];
                    return;
                }
                let Some(mut forged) = replica.merged().map(|m| m.next_revision()) else { return };
                let Ok(mallory) = Identity::generate("Mallory", "pw") else { return };
                let Ok(mut key) = mallory.unlock("pw") else { return };
                let post = Post::new("A forged post", "Written by a dishonest spoke.");
                let mut doc = PostDoc::create(&replica.blog_id, &post.id, automerge::ActorId::random());
                let content = PostContent { title: post.title.clone(), body: post.body.clone(), tags: Vec::new() };
                if doc.write(&content, post.date.timestamp()).is_err() {
                    return;
                }
                forged.put_post(&post.id, "a-forged-post", post.date, post.updated, &doc.heads());
                if let Ok(m) = SignedManifest::sign(forged, &mut key) {
                    forgeries.lock().unwrap_or_else(|p| p.into_inner()).insert(key_of_state, m.clone());
                    replica.frontier = vec![m];
                }
            }
            Tamper::ReplayOld => {
                if let Some(oldest) = replica.recent.iter().chain(&replica.frontier).min_by_key(|m| m.manifest.rev).cloned() {
                    replica.frontier = vec![oldest];
                }
            }
            Tamper::AlterText | Tamper::DropRevision | Tamper::MalformedCatalog | Tamper::OldDrafts => {}
        }
    }

    /// Tampers with a set blog's post document about to be served.
    pub fn apply_post(&self, doc: &mut PostDoc) {
        if *self == Tamper::AlterText {
            let mut content = doc.content();
            content.body = format!("{}\n\nThis text was altered by a dishonest spoke.", content.body);
            let _ = doc.write(&content, chrono::Utc::now().timestamp());
        }
    }

    /// Tampers with the digest of newest posts about to be offered (JSON as composed):
    /// `alter-text` rewrites every item's post document with an unsigned change. Other kinds,
    /// and bytes it cannot read, leave it as it is.
    pub fn apply_digest(&self, json: &[u8]) -> Vec<u8> {
        use data_encoding::BASE64;
        let Ok(mut d) = serde_json::from_slice::<spokes_sync::council::digest::Digest>(json) else { return json.to_vec() };
        if *self != Tamper::AlterText {
            return json.to_vec();
        }
        for item in &mut d.items {
            let Ok((post_id, _)) = spokes_core::manifest::parse_leaf(item.proof.leaf.as_bytes()) else { continue };
            let Some(mut doc) = BASE64.decode(item.document.as_bytes()).ok().and_then(|b| PostDoc::load(&b, &item.blog_id, &post_id).ok()) else { continue };
            self.apply_post(&mut doc);
            item.document = BASE64.encode(&doc.save());
        }
        serde_json::to_vec(&d).unwrap_or_else(|_| json.to_vec())
    }
}
