//! `spokes/sync/2`: one sync session between two replicas of a blog kept as a set of
//! documents, a signed manifest over one Automerge document per post
//! (`spokes_core::manifest`, docs/formats.md "Signed manifest").
//!
//! Each step is a swap, as in `spokes/sync/1` ([`crate::session`]):
//!
//! 1. `Hello` → `Hello` (protocol 2; the caller swaps them and checks admission).
//! 2. `Certificate` ↔ `Certificate`, as in version 1.
//! 3. `ManifestHave` ↔ `ManifestHave`: the SHA-256 hashes of the signed headers each side
//!    holds (its frontier, and a few it held before).
//! 4. `Manifests` parts ↔ `Manifests` parts (framed as `Changes` parts): each side sends the
//!    frontier manifests the other lacks, each as its signed header and the leaves (and
//!    settings) that differ from a manifest the other named in step 3 (the *base*), or all
//!    of them when there is none. Every header is verified and every manifest rebuilt and
//!    checked against its root before anything else happens.
//! 5. `Wants` ↔ `Wants`: each side names the posts whose leaves changed for it in step 4 and
//!    whose documents it lacks some signed head of, with the heads it has.
//! 6. `PostChanges` parts ↔ `PostChanges` parts: each side answers the other's wants, per post
//!    the changes after the heads named (or the whole document when it cannot tell). Every
//!    post document received is checked (its identity, what it expands to, and the coverage
//!    rule against the heads verified manifests list for that post) before it is taken.
//! 7. The caller persists ([`SetOutcome`]), then `Done` ↔ `Done` ([`finish_set`]).
//!
//! Publishing one edited post thus moves one header, one leaf and that post's new changes.
//! Nothing a peer sends can panic this code or grow memory without bound: frames and parts
//! are capped, counts are bounded, Automerge bytes pass the expansion check first.

use crate::frame::{Frame, FrameType};
use crate::session::{RemoteError, SyncError, certificate_step, expansion_refusal, refuse, swap, swap_changes};
use automerge::ChangeHash;
use serde::{Deserialize, Serialize};
use spokes_core::expansion::ExpansionBudget;
use spokes_core::manifest::{self, Entry, Header, Manifest};
use spokes_core::merkle::{self, Hash};
use spokes_core::postdoc::PostDoc;
use spokes_core::problem::Code;
use spokes_core::statement::{StatementError, sign_detached};
use spokes_core::{BlogId, Certificate, SignedStatement, SigningKey};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use tokio::io::{AsyncRead, AsyncWrite};

/// The ALPN of `spokes/sync/2`.
pub const SET_ALPN: &[u8] = b"spokes/sync/2";

/// The protocol version carried in its hello frames.
pub const SET_PROTOCOL: u32 = 2;

/// Most manifests a replica keeps at once (computers that published without seeing each
/// other's manifests); a session that would leave more is refused (`too-large`).
pub const MAX_FRONTIER: usize = 16;

/// Most manifests kept after they were superseded, to serve as bases of differences (a
/// spoke that missed a publish or two still gets only what changed).
pub const MAX_RECENT: usize = 2;

/// Most header hashes a `ManifestHave` frame may list.
pub const MAX_HAVE: usize = MAX_FRONTIER + MAX_RECENT;

/// Most bytes of manifests, or of post documents, taken from a peer in one session (each).
pub const MAX_SET_BYTES: usize = 256 * 1024 * 1024;

/// Where a session finds the post documents not in the replica's cache. A closure
/// `FnMut(&str) -> Option<PostDoc>` is one: post ID to its document (loaded from disk or a
/// database), `None` when there is none.
pub trait PostSource: Send {
    /// Post `id`'s document, loaded and checked; `None` when there is none.
    fn load(&mut self, id: &str) -> Option<PostDoc>;
    /// Post `id`'s document as stored, in Automerge's saved form (one document chunk),
    /// without loading it: what a session sends whole to a peer that holds none of the post
    /// (a new spoke's first session takes every post so). `None` (the default) when the
    /// source keeps no such bytes; the session then loads the document and saves it. The peer
    /// checks what it receives against the signed heads as always.
    fn saved(&mut self, _id: &str) -> Option<Vec<u8>> {
        None
    }
}

impl<F: FnMut(&str) -> Option<PostDoc> + Send> PostSource for F {
    fn load(&mut self, id: &str) -> Option<PostDoc> {
        self(id)
    }
}

/// A session's [`PostSource`].
pub type Loader<'a> = dyn PostSource + 'a;

/// Loads post documents from their saved forms (post ID, bytes) on every core: a whole set
/// read at once (a spoke's start, an archive, a restore) is bound by loading one Automerge
/// document per post. Each is checked as [`PostDoc::load`] checks it.
///
/// Errors: the first post, in the order given, that does not load, with its error.
pub fn load_posts(blog_id: &BlogId, posts: &[(&str, &[u8])]) -> Result<BTreeMap<String, PostDoc>, (String, spokes_core::postdoc::PostDocError)> {
    load_posts_with(blog_id, posts, PostDoc::load)
}

/// [`load_posts`] for bytes that already passed an expansion check
/// ([`PostDoc::load_checked`]): a session's records charged to its budget, or a store's own
/// copies of bytes it checked before storing them.
pub fn load_checked_posts(blog_id: &BlogId, posts: &[(&str, &[u8])]) -> Result<BTreeMap<String, PostDoc>, (String, spokes_core::postdoc::PostDocError)> {
    load_posts_with(blog_id, posts, PostDoc::load_checked)
}

fn load_posts_with(blog_id: &BlogId, posts: &[(&str, &[u8])], load_one: fn(&[u8], &BlogId, &str) -> Result<PostDoc, spokes_core::postdoc::PostDocError>) -> Result<BTreeMap<String, PostDoc>, (String, spokes_core::postdoc::PostDocError)> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Threads only pay for themselves past a few dozen documents.
    let threads = cores.min(posts.len() / 32).max(1);
    let load = |chunk: &[(&str, &[u8])]| chunk.iter().map(|(id, bytes)| load_one(bytes, blog_id, id).map(|d| (id.to_string(), d)).map_err(|e| (id.to_string(), e))).collect::<Vec<_>>();
    let loaded: Vec<Result<(String, PostDoc), (String, spokes_core::postdoc::PostDocError)>> = if threads == 1 {
        load(posts)
    } else {
        let per = posts.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = posts.chunks(per).map(|chunk| (chunk, scope.spawn(move || load(chunk)))).collect();
            // A thread that panicked is an error for the first post it had: nothing is left
            // out unnoticed.
            handles
                .into_iter()
                .flat_map(|(chunk, h)| h.join().unwrap_or_else(|_| vec![Err((chunk.first().map_or_else(String::new, |(id, _)| id.to_string()), spokes_core::postdoc::PostDocError::Corrupt("loading it failed unexpectedly".into())))]))
                .collect()
        })
    };
    loaded.into_iter().collect()
}

/// A manifest and its signed header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedManifest {
    /// The header (the statement of version 2) and its detached signature.
    pub signed: SignedStatement,
    /// The manifest the header signs.
    pub manifest: Manifest,
}

impl SignedManifest {
    /// Signs `manifest` with `key`. Error: [`StatementError::Signing`].
    pub fn sign(manifest: Manifest, key: &mut SigningKey) -> Result<SignedManifest, StatementError> {
        let bytes = manifest.header().to_bytes();
        let signature = sign_detached(key, &bytes)?;
        Ok(SignedManifest { signed: SignedStatement { statement: String::from_utf8_lossy(&bytes).into_owned(), signature }, manifest })
    }

    /// The SHA-256 of the header bytes: how peers name a manifest.
    pub fn hash(&self) -> Hash {
        merkle::sha256(self.signed.statement.as_bytes())
    }

    /// How peers name a frontier: each manifest's [`SignedManifest::hash`] as lowercase hex,
    /// sorted (as in `Done` frames and council catalogs).
    pub fn names(frontier: &[SignedManifest]) -> Vec<String> {
        let mut names: Vec<String> = frontier.iter().map(|m| hex::encode(m.hash())).collect();
        names.sort();
        names
    }

    /// Checks the signature against `cert` and that the header signs exactly `manifest` (for
    /// manifests read back from disk). Errors as [`spokes_core::manifest::ManifestError`].
    pub fn verify(&self, cert: &Certificate) -> Result<(), manifest::ManifestError> {
        let v = self.signed.verify_header(cert, &self.manifest.blog_id)?;
        if v.header() != &self.manifest.header() {
            return Err(manifest::ManifestError::Mismatch("the manifest"));
        }
        Ok(())
    }
}

/// One side's copy of a blog kept as a set of documents.
#[derive(Debug)]
pub struct SetReplica {
    /// The blog.
    pub blog_id: BlogId,
    /// The author's certificate; `None` only before admission.
    pub certificate: Option<Certificate>,
    /// Verified manifests none of which supersedes another (at most [`MAX_FRONTIER`]).
    pub frontier: Vec<SignedManifest>,
    /// Manifests held before and superseded since, newest first (at most [`MAX_RECENT`]),
    /// kept so that a peer that still holds one receives only what changed.
    pub recent: Vec<SignedManifest>,
    /// Post documents loaded so far: a cache that a session fills through its loader.
    pub posts: BTreeMap<String, PostDoc>,
    /// The manifest header (with its signature, as the peer sent them) that a session refused
    /// last because it was for another blog or did not verify: what a council member shows
    /// others as evidence ([`crate::council::evidence`]). Sessions set it; nothing else reads it.
    pub rejected: Option<SignedStatement>,
}

impl SetReplica {
    /// An empty replica of `blog_id`.
    pub fn new(blog_id: BlogId, certificate: Option<Certificate>) -> SetReplica {
        SetReplica { blog_id, certificate, frontier: Vec::new(), recent: Vec::new(), posts: BTreeMap::new(), rejected: None }
    }

    /// The view readers get: the frontier merged leaf by leaf; `None` with no manifest.
    pub fn merged(&self) -> Option<Manifest> {
        manifest::merge(self.frontier.iter().map(|m| &m.manifest))
    }

    /// The heads that the frontier's manifests sign for post `id`, sorted and unique.
    pub fn signed_heads(&self, id: &str) -> Vec<ChangeHash> {
        signed_heads(self.frontier.iter(), id)
    }

    /// Post `id`'s document, from the cache or `load`.
    pub fn post(&mut self, id: &str, load: &mut Loader<'_>) -> Option<&mut PostDoc> {
        if !self.posts.contains_key(id) {
            let d = load.load(id)?;
            self.posts.insert(id.to_owned(), d);
        }
        self.posts.get_mut(id)
    }

    /// Takes `m` (already verified) into the frontier: manifests it supersedes move to
    /// `recent`; it is dropped if one in the frontier supersedes it. Returns whether it stayed.
    pub fn add(&mut self, m: SignedManifest, load: &mut Loader<'_>) -> bool {
        if self.frontier.iter().any(|f| f.hash() == m.hash()) {
            return true;
        }
        let mut frontier = std::mem::take(&mut self.frontier);
        let supersedes = |a: &Manifest, b: &Manifest, me: &mut SetReplica, load: &mut Loader<'_>| {
            a.supersedes(b, |id, newer, older| me.post(id, load).is_some_and(|d| d.contains(newer, older)))
        };
        if frontier.iter().any(|f| supersedes(&f.manifest, &m.manifest, self, load)) {
            self.frontier = frontier;
            return false;
        }
        let (gone, kept): (Vec<SignedManifest>, Vec<SignedManifest>) = frontier.drain(..).partition(|f| supersedes(&m.manifest, &f.manifest, self, load));
        self.frontier = kept;
        self.frontier.push(m);
        for g in gone.into_iter().rev() {
            self.recent.insert(0, g);
        }
        self.recent.truncate(MAX_RECENT);
        true
    }

    /// A copy of the certificate and manifests, without the cached post documents.
    pub fn clone_manifests(&self) -> SetReplica {
        SetReplica { blog_id: self.blog_id.clone(), certificate: self.certificate.clone(), frontier: self.frontier.clone(), recent: self.recent.clone(), posts: BTreeMap::new(), rejected: None }
    }

    /// Drops the manifests (frontier and recent) that a key in `lost` (fingerprints, uppercase
    /// hex) signed; when the frontier lost one, the recent manifests it had superseded come
    /// back ([`SetReplica::reseat_from_recent`]), so the blog stands where the other keys left
    /// it. Returns whether the frontier changed.
    pub fn drop_signed_by(&mut self, lost: &HashSet<String>, load: &mut Loader<'_>) -> bool {
        if lost.is_empty() {
            return false;
        }
        let by_lost = |m: &SignedManifest| m.signed.issuer().is_some_and(|fp| lost.contains(&fp));
        let n = self.frontier.len();
        self.frontier.retain(|m| !by_lost(m));
        self.recent.retain(|m| !by_lost(m));
        let changed = self.frontier.len() != n;
        if changed {
            self.reseat_from_recent(load);
        }
        changed
    }

    /// Takes the recent manifests back into the frontier, newest first, each kept unless one
    /// there supersedes it (see [`SetReplica::add`]); those that do not stay stay in recent.
    pub fn reseat_from_recent(&mut self, load: &mut Loader<'_>) {
        for m in std::mem::take(&mut self.recent) {
            let kept = m.clone();
            if !self.add(m, load) && !self.recent.iter().any(|r| r.hash() == kept.hash()) {
                self.recent.push(kept);
            }
        }
        self.recent.truncate(MAX_RECENT);
    }

    fn known(&self) -> impl Iterator<Item = &SignedManifest> {
        self.frontier.iter().chain(&self.recent)
    }
}

/// Checks a post document a peer brought: it belongs to this blog and post, and every change
/// in it is covered by the heads `manifests` list for it. The refusal to send otherwise.
fn check_taken(doc: &mut PostDoc, blog_id: &BlogId, id: &str, manifests: &[SignedManifest]) -> Result<(), RemoteError> {
    doc.check_identity(blog_id, id).map_err(|e| RemoteError::new(Code::WrongBlog, e.to_string()))?;
    let signed = signed_heads(manifests.iter(), id);
    doc.check_covered(&signed).map(|_| ()).map_err(|e| RemoteError::new(Code::UncoveredChanges, format!("post {id}: {e}")))
}

fn signed_heads<'a>(manifests: impl Iterator<Item = &'a SignedManifest>, id: &str) -> Vec<ChangeHash> {
    let mut heads: BTreeSet<ChangeHash> = BTreeSet::new();
    for m in manifests {
        if let Some(Entry::Post(l)) = m.manifest.entries().get(id) {
            heads.extend(l.heads.iter().copied());
        }
    }
    heads.into_iter().collect()
}

/// What a session changed on this side; the caller persists it, then calls [`finish_set`].
#[derive(Debug, Default, Clone)]
pub struct SetOutcome {
    /// Manifests received, verified and taken into the frontier.
    pub new_manifests: usize,
    /// The frontier changed (the caller stores it, and `recent`).
    pub frontier_changed: bool,
    /// Posts whose documents changed here (the caller stores them from the replica's cache).
    pub changed_posts: BTreeSet<String>,
    /// Posts whose leaf in the merged view changed here (listed, relisted or gone): with
    /// `changed_posts`, what a reader's view must render again.
    pub changed_leaves: BTreeSet<String>,
    /// Posts the merged view now says are gone, and whose documents this side must delete
    /// (with their search entries and the pictures only they showed).
    pub forgotten: BTreeSet<String>,
    /// The certificate was learned or updated.
    pub certificate_changed: bool,
    /// Bytes this side sent in the session, in UDP datagrams (QUIC and TLS included); set by
    /// the initiator ([`initiate_set`], which dials a connection per session, and
    /// [`crate::peer::ConnectionPool::set_session`], which counts from after the hello).
    pub bytes_sent: u64,
    /// The peer's frontier once the session ended (header hashes, lowercase hex, sorted), as
    /// its `Done` frame named it; set by the initiator. Equal to this side's frontier when
    /// both sides hold the same manifests.
    pub peer_frontier: Vec<String>,
}

/// One manifest in a `Manifests` frame.
#[derive(Serialize, Deserialize)]
struct ManifestWire {
    /// The header text (the signed bytes).
    statement: String,
    /// The detached signature, binary OpenPGP packet, lowercase hex.
    signature: String,
    /// The hash (hex) of the manifest the leaves differ from, one the receiver named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base: Option<String>,
    /// The settings JSON text, when it differs from the base's (or with no base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    settings: Option<String>,
    /// The leaves that differ from the base's (all of them with no base).
    leaves: Vec<String>,
    /// A manifest the sender holds as superseded (one of its recent ones), sent whole to a
    /// peer that holds none of the blog's manifests, so that a computer restoring the blog
    /// knows its last revisions ("lost or stolen" lists them). Omitted when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    recent: bool,
}

/// Steps 2 to 6 (see the module docs). On success the replica holds the new frontier and,
/// in its cache, every post document that changed; on error it is unchanged in what the
/// caller persists (the cache may hold documents loaded, not changed).
pub async fn exchange_set<S, R>(send: &mut S, recv: &mut R, initiator: bool, replica: &mut SetReplica, load: &mut Loader<'_>, peer_certificate: Option<&str>) -> Result<SetOutcome, SyncError>
where
    S: AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    let mut outcome = SetOutcome::default();

    // 2. Certificates.
    let (cert, changed) = certificate_step(send, recv, initiator, replica.certificate.as_ref(), peer_certificate).await?;
    outcome.certificate_changed = changed;
    let lost: HashSet<String> = cert.lost_keys().into_iter().collect();
    // What a key declared lost signed no longer counts (docs/formats.md, "Signed manifest"):
    // such manifests leave this side's frontier; posts only they listed are forgotten below.
    let prior = if lost.is_empty() { None } else { replica.merged() };
    let prior = if replica.drop_signed_by(&lost, load) {
        outcome.frontier_changed = true;
        prior
    } else {
        None
    };

    // 3. What each side holds.
    let have: Vec<String> = replica.known().map(|m| hex::encode(m.hash())).collect();
    let held_none = have.is_empty();
    let theirs = swap(send, recv, initiator, Frame::json(FrameType::ManifestHave, &have)).await?;
    let their_have: Vec<String> = match theirs.parse_json::<Vec<String>>() {
        Ok(v) if v.len() <= MAX_HAVE => v,
        Ok(v) => return Err(refuse(send, RemoteError::new(Code::Malformed, format!("{} manifests named; at most {MAX_HAVE}", v.len()))).await),
        Err(e) => return Err(refuse(send, RemoteError::new(Code::Malformed, e.to_string())).await),
    };
    let their_have: HashSet<String> = their_have.into_iter().collect();

    // 4. The manifests each lacks, as differences from one it holds.
    let mut outgoing: Vec<ManifestWire> = replica.frontier.iter().filter(|m| !their_have.contains(&hex::encode(m.hash()))).map(|m| wire(m, replica.known().filter(|k| their_have.contains(&hex::encode(k.hash()))))).collect();
    // A peer that holds nothing of the blog also gets the recent manifests, whole, within the
    // bound on manifests per session.
    if their_have.is_empty() {
        let room = MAX_FRONTIER.saturating_sub(outgoing.len());
        outgoing.extend(replica.recent.iter().take(room).map(|m| ManifestWire { recent: true, ..wire(m, std::iter::empty()) }));
    }
    let bytes = serde_json::to_vec(&outgoing).unwrap_or_default();
    let (incoming, _) = swap_changes(send, recv, initiator, FrameType::Manifests, &bytes, false).await?;
    let received: Vec<ManifestWire> = match serde_json::from_slice(&incoming) {
        Ok(v) => v,
        Err(e) => return Err(refuse(send, RemoteError::new(Code::Malformed, format!("unreadable manifests: {e}"))).await),
    };
    if received.len() > MAX_FRONTIER {
        return Err(refuse(send, RemoteError::new(Code::TooLarge, format!("{} manifests at once; at most {MAX_FRONTIER}", received.len()))).await);
    }
    let before = replica.merged();
    let (mut fresh, mut superseded) = (Vec::new(), Vec::new());
    for w in received {
        // Recent manifests count only on a side that held none (they are checked as any
        // other): elsewhere they would only bring back what was superseded.
        if w.recent && !held_none {
            continue;
        }
        let recent = w.recent;
        let served = (w.statement.clone(), w.signature.clone());
        match unwire(w, replica, &cert, &lost) {
            Ok(Some(m)) if recent => superseded.push(m),
            Ok(Some(m)) => fresh.push(m),
            Ok(None) => {}
            Err(e) => {
                if matches!(e.code, Code::BadSignature | Code::WrongBlog) {
                    replica.rejected = Some(SignedStatement { statement: served.0, signature: hex::decode(&served.1).unwrap_or_default() });
                }
                return Err(refuse(send, e).await);
            }
        }
    }

    // 5. Wants: posts whose leaves changed for this side, and whose documents lack a signed head.
    let all: Vec<SignedManifest> = replica.frontier.iter().cloned().chain(fresh.iter().cloned()).collect();
    let after = manifest::merge(all.iter().map(|m| &m.manifest));
    let mut wants: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(after) = &after {
        // Only the leaves that differ from before can be new here (a related manifest shares
        // the rest of its index, and the comparison skips it).
        let changed: Vec<String> = match &before {
            Some(b) => after.added_or_changed_since(b),
            None => after.entries().keys().cloned().collect(),
        };
        for id in changed.iter().filter(|id| matches!(after.entries().get(*id), Some(Entry::Post(_)))) {
            let signed = signed_heads(all.iter(), id);
            let mine = replica.post(id, load).map(|d| d.heads()).unwrap_or_default();
            let lacks = match replica.posts.get_mut(id) {
                Some(d) => !d.holds(&signed),
                None => true,
            };
            if lacks {
                wants.insert(id.clone(), mine.iter().map(ChangeHash::to_string).collect());
            }
        }
    }
    let theirs = swap(send, recv, initiator, Frame::json(FrameType::Wants, &wants)).await?;
    let their_wants: BTreeMap<String, Vec<String>> = match theirs.parse_json() {
        Ok(v) => v,
        Err(e) => return Err(refuse(send, RemoteError::new(Code::Malformed, e.to_string())).await),
    };
    if their_wants.len() > manifest::MAX_LEAVES {
        return Err(refuse(send, RemoteError::new(Code::TooLarge, "more posts wanted than a blog may hold")).await);
    }

    // 6. Post documents: answer their wants, take in the answers to ours.
    let mut answer = Vec::new();
    for (id, heads) in &their_wants {
        let heads: Vec<ChangeHash> = heads.iter().filter_map(|h| h.parse().ok()).collect();
        // A peer that holds none of the post gets it as stored, not loaded first.
        if heads.is_empty()
            && !replica.posts.contains_key(id)
            && let Some(bytes) = load.saved(id)
        {
            put_record(&mut answer, id, true, &bytes);
            continue;
        }
        let Some(d) = replica.post(id, load) else { continue };
        let knows_all = d.holds(&heads);
        let mine = d.heads();
        let (bytes, whole) = if heads.is_empty() || !knows_all {
            (d.save(), true)
        } else if mine.iter().all(|h| heads.contains(h)) {
            continue;
        } else {
            (d.changes_after(&heads), false)
        };
        put_record(&mut answer, id, whole, &bytes);
    }
    let (incoming, _) = swap_changes(send, recv, initiator, FrameType::PostChanges, &answer, false).await?;
    if incoming.len() > MAX_SET_BYTES {
        return Err(refuse(send, RemoteError::new(Code::TooLarge, "too many bytes of post documents")).await);
    }
    let mut budget = ExpansionBudget::new();
    let mut rest = incoming.as_slice();
    let mut taken: BTreeMap<String, PostDoc> = BTreeMap::new();
    // Whole documents of posts this replica lacks (a new spoke's first session brings every
    // post so): loaded together below, on every core.
    let mut new_docs: Vec<(String, &[u8])> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    while !rest.is_empty() {
        let (id, whole, bytes, tail) = match take_record(rest) {
            Some(r) => r,
            None => return Err(refuse(send, RemoteError::new(Code::Malformed, "an unreadable post record")).await),
        };
        rest = tail;
        if !wants.contains_key(&id) || !seen.insert(id.clone()) {
            return Err(refuse(send, RemoteError::new(Code::Malformed, format!("post {id} was not asked for, or sent twice"))).await);
        }
        if let Err(e) = budget.check(bytes) {
            return Err(refuse(send, expansion_refusal(e)).await);
        }
        // A copy: a refusal below leaves the replica's own document as it was.
        let mut doc = match (replica.post(&id, load).cloned(), whole) {
            (Some(mut d), _) => {
                let r = if whole {
                    PostDoc::load_checked(bytes, &replica.blog_id, &id).map_err(|e| e.to_string()).and_then(|mut w| d.merge(&mut w).map_err(|e| e.to_string()))
                } else {
                    d.automerge().load_incremental(bytes).map(|_| ()).map_err(|e| e.to_string())
                };
                if let Err(e) = r {
                    return Err(refuse(send, RemoteError::new(Code::Malformed, format!("post {id}: {e}"))).await);
                }
                d
            }
            (None, true) => {
                new_docs.push((id, bytes));
                continue;
            }
            (None, false) => return Err(refuse(send, RemoteError::new(Code::Malformed, format!("post {id}: changes without the document"))).await),
        };
        if let Err(e) = check_taken(&mut doc, &replica.blog_id, &id, &all) {
            return Err(refuse(send, e).await);
        }
        taken.insert(id, doc);
    }
    let pairs: Vec<(&str, &[u8])> = new_docs.iter().map(|(id, b)| (id.as_str(), *b)).collect();
    // Each record was charged to the session's budget above.
    match load_checked_posts(&replica.blog_id, &pairs) {
        Ok(docs) => {
            for (id, mut doc) in docs {
                if let Err(e) = check_taken(&mut doc, &replica.blog_id, &id, &all) {
                    return Err(refuse(send, e).await);
                }
                taken.insert(id, doc);
            }
        }
        Err((id, e)) => return Err(refuse(send, RemoteError::new(Code::WrongBlog, format!("post {id}: {e}"))).await),
    }

    // Take everything in: the documents, then the manifests (whose supersedes rule reads them).
    for (id, doc) in taken {
        replica.posts.insert(id.clone(), doc);
        outcome.changed_posts.insert(id);
    }
    for m in fresh {
        if replica.add(m, load) {
            outcome.new_manifests += 1;
            outcome.frontier_changed = true;
        }
    }
    // Older than the frontier they came with: kept as recent, newest first.
    let newest = replica.frontier.iter().map(|m| m.manifest.rev).max().unwrap_or(0);
    for m in superseded.into_iter().filter(|m| m.manifest.rev < newest) {
        if !replica.known().any(|k| k.hash() == m.hash()) {
            replica.recent.push(m);
        }
    }
    replica.recent.sort_by_key(|m| std::cmp::Reverse(m.manifest.rev));
    replica.recent.truncate(MAX_RECENT);
    if replica.frontier.len() > MAX_FRONTIER {
        return Err(refuse(send, RemoteError::new(Code::TooLarge, format!("more than {MAX_FRONTIER} manifests published at once"))).await);
    }
    if let Some(now) = replica.merged() {
        // Gone now, and live before or held here: only the leaves that changed can have gone.
        let mut candidates: BTreeSet<String> = replica.posts.keys().cloned().collect();
        if let Some(b) = &before {
            candidates.extend(now.changed_since(b));
        }
        for id in candidates {
            let was_live = before.as_ref().is_some_and(|b| matches!(b.entries().get(&id), Some(Entry::Post(_))));
            if matches!(now.entries().get(&id), Some(Entry::Gone { .. })) && (was_live || replica.posts.contains_key(&id)) {
                outcome.forgotten.insert(id);
            }
        }
    }
    // Posts that only manifests by a lost key listed.
    if let Some(prior) = &prior {
        let now = replica.merged();
        for (id, _) in prior.posts() {
            if now.as_ref().is_none_or(|n| !n.entries().contains_key(id)) {
                outcome.forgotten.insert(id.clone());
            }
        }
    }
    let before = prior.or(before);
    for id in &outcome.forgotten {
        replica.posts.remove(id);
        outcome.changed_posts.remove(id);
    }
    if let Some(now) = replica.merged() {
        outcome.changed_leaves = match &before {
            Some(b) => now.changed_since(b),
            None => now.entries().keys().cloned().collect(),
        };
    }
    replica.certificate = Some(cert);
    Ok(outcome)
}

/// The wire form of `m` as a difference from the newest of `bases` whose posts `m` all lists
/// (all leaves with none). A difference only adds or replaces leaves, so a base with a post
/// `m` does not know (a concurrent manifest from another computer) cannot be one.
fn wire<'a>(m: &SignedManifest, bases: impl Iterator<Item = &'a SignedManifest>) -> ManifestWire {
    let base = bases.filter(|b| m.manifest.lists_all_of(&b.manifest)).max_by_key(|b| b.manifest.rev);
    let leaves = leaf_texts_since(&m.manifest, base.map(|b| &b.manifest));
    let settings = (base.is_none_or(|b| b.manifest.settings != m.manifest.settings)).then(|| String::from_utf8_lossy(&m.manifest.settings).into_owned());
    ManifestWire { statement: m.signed.statement.clone(), signature: hex::encode(&m.signed.signature), base: base.map(|b| hex::encode(b.hash())), settings, leaves, recent: false }
}

/// Verifies and rebuilds one received manifest. `Ok(None)` for one this side holds already
/// or that a lost key signed (dropped, not refused: a peer may not have heard of the loss).
fn unwire(w: ManifestWire, replica: &SetReplica, cert: &Certificate, lost: &HashSet<String>) -> Result<Option<SignedManifest>, RemoteError> {
    let malformed = |m: String| RemoteError::new(Code::Malformed, m);
    let signature = hex::decode(&w.signature).map_err(|_| malformed("a manifest signature is not hex".into()))?;
    let signed = SignedStatement { statement: w.statement, signature };
    let hash = merkle::sha256(signed.statement.as_bytes());
    if replica.known().any(|k| k.hash() == hash) {
        return Ok(None);
    }
    if !lost.is_empty() && signed.issuer().is_some_and(|fp| lost.contains(&fp)) {
        return Ok(None);
    }
    let header: Header = match signed.verify_header(cert, &replica.blog_id) {
        Ok(v) => v.header().clone(),
        Err(manifest::ManifestError::WrongBlog { expected, found }) => return Err(RemoteError::new(Code::WrongBlog, format!("a manifest of blog {found}, not {expected}"))),
        Err(e @ (manifest::ManifestError::Malformed(_) | manifest::ManifestError::UnknownVersion(_) | manifest::ManifestError::TooLarge(_) | manifest::ManifestError::Mismatch(_))) => return Err(malformed(e.to_string())),
        Err(e) => return Err(RemoteError::new(Code::BadSignature, format!("a manifest did not verify: {e}"))),
    };
    let base = match &w.base {
        None => None,
        Some(b) => Some(replica.known().find(|k| hex::encode(k.hash()) == *b).ok_or_else(|| malformed("a manifest differs from one this side does not hold".into()))?),
    };
    if w.leaves.len() > header.leaves {
        return Err(malformed("more leaves than the header counts".into()));
    }
    let settings = match (w.settings, base) {
        (Some(s), _) => s.into_bytes(),
        (None, Some(b)) => b.manifest.settings.clone(),
        (None, None) => return Err(malformed("a manifest without settings".into())),
    };
    let leaves: Vec<Vec<u8>> = w.leaves.into_iter().map(String::into_bytes).collect();
    let built = match base {
        Some(b) => Manifest::from_base(&header, settings, &b.manifest, &leaves),
        None => Manifest::from_parts(&header, settings, &leaves),
    };
    let manifest = built.map_err(|e| match e {
        manifest::ManifestError::TooLarge(_) => RemoteError::new(Code::TooLarge, e.to_string()),
        _ => malformed(e.to_string()),
    })?;
    let binds = manifest.site_settings().is_ok_and(|s| s.binds(&replica.blog_id, &cert.fingerprint()));
    if !binds {
        return Err(RemoteError::new(Code::WrongBlog, format!("the manifest's settings do not bind blog {} to certificate {}", replica.blog_id, cert.fingerprint())));
    }
    Ok(Some(SignedManifest { signed, manifest }))
}

/// Appends one post record: ID length (u8), ID, flag (1: a whole document), length (u32
/// big-endian), bytes.
fn put_record(out: &mut Vec<u8>, id: &str, whole: bool, bytes: &[u8]) {
    out.push(id.len() as u8);
    out.extend_from_slice(id.as_bytes());
    out.push(u8::from(whole));
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Reads one post record: (ID, whole, bytes, the rest); `None` when malformed.
fn take_record(b: &[u8]) -> Option<(String, bool, &[u8], &[u8])> {
    let (&n, b) = b.split_first()?;
    let (id, b) = b.split_at_checked(usize::from(n))?;
    let id = std::str::from_utf8(id).ok().filter(|id| manifest::is_post_id(id))?;
    let (&flag, b) = b.split_first()?;
    if flag > 1 {
        return None;
    }
    let (len, b) = b.split_at_checked(4)?;
    let len = u32::from_be_bytes(len.try_into().ok()?) as usize;
    let (bytes, rest) = b.split_at_checked(len)?;
    Some((id.to_owned(), flag == 1, bytes, rest))
}

#[derive(Serialize, Deserialize)]
struct SetDone {
    manifests: Vec<String>,
}

/// Step 7: swap `Done` frames carrying each side's frontier (header hashes, hex), or send
/// `Error` if `result` is one. Returns the peer's frontier.
pub async fn finish_set<S, R>(send: &mut S, recv: &mut R, initiator: bool, result: Result<Vec<Hash>, RemoteError>) -> Result<Vec<String>, SyncError>
where
    S: AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    let mine = match result {
        Ok(h) => h,
        Err(e) => return Err(refuse(send, e).await),
    };
    let payload = SetDone { manifests: mine.iter().map(hex::encode).collect() };
    let theirs = swap(send, recv, initiator, Frame::json(FrameType::Done, &payload)).await?;
    let p: SetDone = theirs.parse_json()?;
    Ok(p.manifests.into_iter().take(MAX_HAVE).collect())
}

/// What a spoke (or any responder) provides to answer `spokes/sync/2` sessions.
pub trait SetHost: Send + Sync + 'static {
    /// Admission and loading: the replica (frontier and recent manifests, no post documents
    /// yet) for the peer's hello, or a refusal sent to the peer.
    fn open_set(&self, peer: &str, hello: &crate::Hello) -> Result<SetReplica, RemoteError>;
    /// Post `id`'s stored document, if any.
    fn load_post(&self, blog: &BlogId, id: &str) -> Option<PostDoc>;
    /// Persists a successful session's result before `Done` is sent.
    fn commit_set(&self, peer: &str, hello: &crate::Hello, replica: &mut SetReplica, outcome: &SetOutcome) -> Result<(), RemoteError>;
    /// Records a failed session for the operator.
    fn record_set_failure(&self, peer: &str, blog: Option<&BlogId>, error: &SyncError);
}

/// Answers one incoming `spokes/sync/2` connection: each bidirectional stream is one session
/// (see the module docs). Returns when the peer closes the connection, with the outcome of
/// the last session.
pub async fn respond_set<H: SetHost + ?Sized>(host: &H, conn: iroh::endpoint::Connection) -> Result<SetOutcome, SyncError> {
    let peer = conn.remote_id().to_string();
    let mut last = Err(SyncError::Connect("the peer opened no session".into()));
    loop {
        let streams = tokio::select! {
            s = conn.accept_bi() => s,
            _ = conn.closed() => break,
        };
        let Ok((mut send, mut recv)) = streams else { break };
        let mut blog = None;
        let r = crate::peer::while_moving(&conn, crate::peer::SESSION_IDLE_TIMEOUT, respond_set_on(host, &mut send, &mut recv, &peer, &mut blog)).await;
        if let Err(e) = &r {
            host.record_set_failure(&peer, blog.as_ref(), e);
        }
        let failed = r.is_err();
        last = r;
        if failed {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn.closed()).await;
            break;
        }
    }
    last
}

async fn respond_set_on<H: SetHost + ?Sized>(host: &H, send: &mut iroh::endpoint::SendStream, recv: &mut iroh::endpoint::RecvStream, peer: &str, blog: &mut Option<BlogId>) -> Result<SetOutcome, SyncError> {
    let first = crate::frame::read_frame(recv).await?;
    if first.typ != FrameType::Hello {
        return Err(refuse(send, RemoteError::new(Code::Malformed, "the session must start with hello")).await);
    }
    let hello: crate::Hello = match first.parse_json::<serde_json::Value>() {
        Ok(v) if v.get("protocol").and_then(serde_json::Value::as_u64) == Some(u64::from(SET_PROTOCOL)) => match serde_json::from_value(v) {
            Ok(h) => h,
            Err(e) => return Err(refuse(send, RemoteError::new(Code::Malformed, e.to_string())).await),
        },
        Ok(v) => {
            let version = v.get("protocol").and_then(serde_json::Value::as_u64).unwrap_or(0);
            return Err(refuse(send, RemoteError::new(Code::UnsupportedVersion, format!("protocol version {version} on spokes/sync/2; this spoke speaks version {SET_PROTOCOL} there"))).await);
        }
        Err(e) => return Err(refuse(send, RemoteError::new(Code::Malformed, e.to_string())).await),
    };
    *blog = Some(hello.blog_id.clone());
    let started = std::time::Instant::now();
    let mut replica = match host.open_set(peer, &hello) {
        Ok(r) => r,
        Err(e) => return Err(refuse(send, e).await),
    };
    let opened = started.elapsed();
    let answer = crate::Hello { protocol: SET_PROTOCOL, blog_id: hello.blog_id.clone(), token: None, heads: None, certificate: certificate_name(&replica) };
    crate::frame::write_frame(send, &Frame::json(FrameType::Hello, &answer)).await?;
    let blog_id = hello.blog_id.clone();
    let outcome = exchange_set(send, recv, false, &mut replica, &mut |id: &str| host.load_post(&blog_id, id), hello.certificate.as_deref()).await?;
    let exchanged = started.elapsed();
    let persisted = host.commit_set(peer, &hello, &mut replica, &outcome).map(|_| replica.frontier.iter().map(SignedManifest::hash).collect());
    tracing::debug!(open_ms = opened.as_secs_f64() * 1e3, exchange_ms = (exchanged - opened).as_secs_f64() * 1e3, commit_ms = (started.elapsed() - exchanged).as_secs_f64() * 1e3, "set session timings");
    finish_set(send, recv, false, persisted).await?;
    let _ = send.finish();
    Ok(outcome)
}

/// Dials `addr` on `spokes/sync/2`, runs a session for `replica` as initiator (its post
/// documents loaded through `load`), calls `persist` before telling the peer it is done, and
/// returns the outcome. `token` is the invite token of a spoke not yet holding the blog.
pub async fn initiate_set<F>(endpoint: &iroh::Endpoint, addr: iroh::EndpointAddr, token: Option<String>, replica: &mut SetReplica, load: &mut Loader<'_>, persist: F) -> Result<SetOutcome, SyncError>
where
    F: FnOnce(&mut SetReplica, &SetOutcome) -> Result<(), RemoteError>,
{
    let conn = crate::peer::dial(endpoint, addr, SET_ALPN).await?;
    let hello = set_hello(replica, token);
    let session = async {
        let (mut send, mut recv) = conn.open_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
        crate::frame::write_frame(&mut send, &hello).await?;
        let answer = crate::frame::read_frame(&mut recv).await?;
        run_set_initiated(&mut send, &mut recv, answer, replica, load, persist).await
    };
    let r = crate::peer::while_moving(&conn, crate::peer::SESSION_IDLE_TIMEOUT, session).await;
    let sent = conn.stats().udp_tx.bytes;
    conn.close(0u32.into(), b"done");
    r.map(|o| SetOutcome { bytes_sent: sent, ..o })
}

impl crate::peer::ConnectionPool {
    /// [`initiate_set`] on the pool's connection to `addr` on `spokes/sync/2` (dialled if
    /// there is none, kept for the next session). `bytes_sent` counts this session's
    /// datagrams only.
    pub async fn set_session<F>(&self, addr: iroh::EndpointAddr, token: Option<String>, replica: &mut SetReplica, load: &mut Loader<'_>, persist: F) -> Result<SetOutcome, SyncError>
    where
        F: FnOnce(&mut SetReplica, &SetOutcome) -> Result<(), RemoteError>,
    {
        let hello = set_hello(replica, token);
        let (conn, (mut send, mut recv, answer)) = tokio::time::timeout(crate::peer::SESSION_IDLE_TIMEOUT, self.open(&addr, SET_ALPN, &hello)).await.map_err(|_| SyncError::Timeout)??;
        // The hello went before this count starts: its datagram is not counted.
        let before = conn.stats().udp_tx.bytes;
        let r = crate::peer::while_moving(&conn, crate::peer::SESSION_IDLE_TIMEOUT, run_set_initiated(&mut send, &mut recv, answer, replica, load, persist)).await;
        let sent = conn.stats().udp_tx.bytes.saturating_sub(before);
        r.map(|o| SetOutcome { bytes_sent: sent, ..o })
    }
}

fn set_hello(replica: &SetReplica, token: Option<String>) -> Frame {
    Frame::json(FrameType::Hello, &crate::Hello { protocol: SET_PROTOCOL, blog_id: replica.blog_id.clone(), token, heads: None, certificate: certificate_name(replica) })
}

/// How a hello names `replica`'s certificate ([`crate::Hello::certificate`]).
fn certificate_name(replica: &SetReplica) -> Option<String> {
    replica.certificate.as_ref().map(|c| crate::session::certificate_hash(&c.to_armored()))
}

/// The initiator's session after its hello: checks the `answer`, runs steps 2 to 7.
async fn run_set_initiated<F>(send: &mut iroh::endpoint::SendStream, recv: &mut iroh::endpoint::RecvStream, answer: Frame, replica: &mut SetReplica, load: &mut Loader<'_>, persist: F) -> Result<SetOutcome, SyncError>
where
    F: FnOnce(&mut SetReplica, &SetOutcome) -> Result<(), RemoteError>,
{
    let peer_certificate = match answer.typ {
        FrameType::Hello => {
            let h: crate::Hello = answer.parse_json()?;
            if h.protocol != SET_PROTOCOL || h.blog_id != replica.blog_id {
                return Err(refuse(send, RemoteError::new(Code::UnsupportedVersion, "the spoke answered for another protocol or blog")).await);
            }
            h.certificate
        }
        FrameType::Error => return Err(SyncError::Remote(crate::session::refusal_from_peer(&answer))),
        other => return Err(crate::FrameError::Unexpected { expected: FrameType::Hello, got: other }.into()),
    };
    let outcome = exchange_set(send, recv, true, replica, load, peer_certificate.as_deref()).await?;
    let persisted = persist(replica, &outcome).map(|_| replica.frontier.iter().map(SignedManifest::hash).collect());
    let mut peer_frontier = finish_set(send, recv, true, persisted).await?;
    peer_frontier.sort();
    let _ = send.finish();
    Ok(SetOutcome { peer_frontier, ..outcome })
}

/// A replica whose manifests and live post documents all checked out: only
/// [`VerifiedSet::verify`] makes one, so the reader site cannot show what did not verify.
///
/// ```compile_fail
/// use spokes_sync::set::{SetReplica, VerifiedSet};
/// fn forge(replica: SetReplica) -> VerifiedSet {
///     VerifiedSet { replica, merged: None, changes: 0 }
/// }
/// ```
#[derive(Debug)]
pub struct VerifiedSet {
    replica: SetReplica,
    merged: Option<Manifest>,
    changes: usize,
    /// Changes checked per post document, for the posts this verification checked.
    checked: BTreeMap<String, usize>,
}

impl VerifiedSet {
    /// Checks `replica` as it is read back from storage: every frontier manifest against the
    /// certificate (signature, the header over exactly its leaves, the binding of the blog
    /// ID), and every live post's document (identity and coverage), loading the documents not
    /// in the cache through `load`. A post whose document is missing is left out of the view.
    /// On failure the replica comes back with the refusal.
    pub fn verify(replica: SetReplica, load: &mut Loader<'_>) -> Result<VerifiedSet, Box<(SetReplica, RemoteError)>> {
        Self::verify_posts(replica, None, load)
    }

    /// [`VerifiedSet::verify`] after a session ([`exchange_set`]) that checked what it brought:
    /// the frontier's manifests again, and the documents of `posts` only (those the session
    /// changed, from the cache). Every other stored document was checked when it arrived, and
    /// stays covered: a manifest supersedes another only when its heads hold the other's.
    /// A publish then costs its own posts, not the blog's.
    pub fn verify_after_session(replica: SetReplica, posts: &BTreeSet<String>, load: &mut Loader<'_>) -> Result<VerifiedSet, Box<(SetReplica, RemoteError)>> {
        Self::verify_posts(replica, Some(posts), load)
    }

    fn verify_posts(mut replica: SetReplica, only: Option<&BTreeSet<String>>, load: &mut Loader<'_>) -> Result<VerifiedSet, Box<(SetReplica, RemoteError)>> {
        let Some(cert) = replica.certificate.clone() else {
            return Err(Box::new((replica, RemoteError::new(Code::WrongCertificate, "no certificate"))));
        };
        for m in &replica.frontier {
            let checked = m.verify(&cert).map_err(|e| RemoteError::new(Code::BadSignature, e.to_string())).and_then(|_| {
                let binds = m.manifest.site_settings().is_ok_and(|s| s.binds(&replica.blog_id, &cert.fingerprint()));
                if binds { Ok(()) } else { Err(RemoteError::new(Code::WrongBlog, "a manifest does not bind the blog ID to its certificate")) }
            });
            if let Err(e) = checked {
                return Err(Box::new((replica, e)));
            }
        }
        let merged = replica.merged();
        let mut changes = 0;
        let mut checked = BTreeMap::new();
        if let Some(m) = &merged {
            for (id, _) in m.posts().filter(|(id, _)| only.is_none_or(|o| o.contains(*id))) {
                let signed = replica.signed_heads(id);
                let blog = replica.blog_id.clone();
                let Some(d) = replica.post(id, load) else { continue };
                let r = d.check_identity(&blog, id).map_err(|e| RemoteError::new(Code::WrongBlog, e.to_string())).and_then(|_| d.check_covered(&signed).map_err(|e| RemoteError::new(Code::UncoveredChanges, format!("post {id}: {e}"))));
                match r {
                    Ok(n) => {
                        changes += n;
                        checked.insert(id.clone(), n);
                    }
                    Err(e) => return Err(Box::new((replica, e))),
                }
            }
        }
        Ok(VerifiedSet { replica, merged, changes, checked })
    }

    /// The blog.
    pub fn blog_id(&self) -> &BlogId {
        &self.replica.blog_id
    }
    /// The author's certificate.
    pub fn certificate(&self) -> Option<&Certificate> {
        self.replica.certificate.as_ref()
    }
    /// The merged manifest (`None` before the first).
    pub fn merged(&self) -> Option<&Manifest> {
        self.merged.as_ref()
    }
    /// The manifests of the frontier.
    pub fn frontier(&self) -> &[SignedManifest] {
        &self.replica.frontier
    }
    /// How many post document changes were checked.
    pub fn changes(&self) -> usize {
        self.changes
    }

    /// How many changes of post `id`'s document were checked (`None` when this verification
    /// did not check that document: not live, missing, or left to an earlier check by
    /// [`VerifiedSet::verify_after_session`]).
    pub fn changes_of(&self, id: &str) -> Option<usize> {
        self.checked.get(id).copied()
    }
    /// The published posts, as readers see them: each live leaf with its document's content
    /// as of the leaf's heads (or all of it, when a head is missing from the document).
    pub fn posts(&self) -> Vec<spokes_core::Post> {
        let Some(m) = &self.merged else { return Vec::new() };
        m.posts().filter_map(|(id, l)| self.replica.posts.get(id).map(|d| d.post(id, l))).collect()
    }
    /// The published post `id` as readers see it, if it is live and its document is at hand
    /// (in the cache, or loaded through `load`).
    pub fn post(&mut self, id: &str, load: &mut Loader<'_>) -> Option<spokes_core::Post> {
        let listing = match self.merged.as_ref()?.entries().get(id)? {
            Entry::Post(l) => l.clone(),
            Entry::Gone { .. } => return None,
        };
        Some(self.replica.post(id, load)?.post(id, &listing))
    }

    /// The replica back.
    pub fn into_replica(self) -> SetReplica {
        self.replica
    }
}

/// Whether `anchor` still serves as the base that `newest` and the manifests before it are
/// stored against ([`StoredManifest::difference`]): `newest` lists every post `anchor` does,
/// and differs from it in at most an eighth of its leaves (at least 256). Past that, storing
/// `newest` whole as the new anchor costs less than the differences would.
pub fn serves_as_anchor(anchor: &SignedManifest, newest: &SignedManifest) -> bool {
    let limit = (newest.manifest.entries().len() / 8).max(256);
    anchor.manifest.rev <= newest.manifest.rev && newest.manifest.lists_all_of(&anchor.manifest) && newest.manifest.added_or_changed_since(&anchor.manifest).len() <= limit
}

/// The anchor to store `frontier`'s and the recent manifests against: `held` (the one in use)
/// while `keep` allows it and it [serves](serves_as_anchor) the newest manifest, else the
/// newest (`None` for an empty frontier).
pub fn choose_anchor(held: Option<SignedManifest>, frontier: &[SignedManifest], keep: bool) -> Option<SignedManifest> {
    let newest = frontier.iter().max_by_key(|m| m.manifest.rev)?;
    match held {
        Some(a) if keep && serves_as_anchor(&a, newest) => Some(a),
        _ => Some(newest.clone()),
    }
}

/// The leaves (as text) that `m` adds or changes over `base`, or all of them without one.
fn leaf_texts_since(m: &Manifest, base: Option<&Manifest>) -> Vec<String> {
    let ids: Vec<String> = match base {
        Some(b) => m.added_or_changed_since(b),
        None => m.entries().keys().cloned().collect(),
    };
    ids.iter().filter_map(|id| m.leaf(id)).map(|l| String::from_utf8_lossy(l).into_owned()).collect()
}

/// A stored manifest (JSON, as the writer's profile and exports keep it): the signed header
/// and the settings and leaves it signs.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredManifest {
    /// The header text.
    pub statement: String,
    /// The detached signature, lowercase hex.
    pub signature: String,
    /// The settings JSON text.
    pub settings: String,
    /// The leaves, sorted by post ID: all of them, or with `base`, only those added or
    /// changed since that manifest.
    pub leaves: Vec<String>,
    /// When stored as a difference: the header hash (64 lowercase hex) of the manifest whose
    /// leaves the others are ([`StoredManifest::difference`]). Absent in the whole form,
    /// which is what bundles, archives and spokes keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
}

impl StoredManifest {
    /// The stored form of `m`.
    pub fn of(m: &SignedManifest) -> StoredManifest {
        StoredManifest {
            statement: m.signed.statement.clone(),
            signature: hex::encode(&m.signed.signature),
            settings: String::from_utf8_lossy(&m.manifest.settings).into_owned(),
            leaves: m.manifest.leaf_texts(),
            base: None,
        }
    }

    /// `m` stored as its difference from `base` (its settings, and the leaves added or changed
    /// since `base`), or `None` when `base` lists a post `m` does not. Costs what differs when
    /// one was made from the other (they share their index). `base` may be newer than `m`
    /// (a recent manifest on a newer anchor): reading it back then checks every leaf's rev.
    pub fn difference(m: &SignedManifest, base: &SignedManifest) -> Option<StoredManifest> {
        if !m.manifest.lists_all_of(&base.manifest) {
            return None;
        }
        let leaves = leaf_texts_since(&m.manifest, Some(&base.manifest));
        Some(StoredManifest {
            statement: m.signed.statement.clone(),
            signature: hex::encode(&m.signed.signature),
            settings: String::from_utf8_lossy(&m.manifest.settings).into_owned(),
            leaves,
            base: Some(hex::encode(base.hash())),
        })
    }

    /// [`StoredManifest::open`], or `None` when a key `cert` declares lost signed it (what a
    /// lost key signed no longer counts; the caller leaves it out).
    pub fn open_unless_lost(&self, cert: &Certificate, blog_id: &BlogId) -> Result<Option<SignedManifest>, manifest::ManifestError> {
        self.open_on_unless_lost(cert, blog_id, None)
    }

    /// Whether a key `cert` declares lost made its signature (read from the signature's
    /// issuer; nothing is verified).
    fn signed_by_lost_key(&self, cert: &Certificate) -> bool {
        let lost = cert.lost_keys();
        if lost.is_empty() {
            return false;
        }
        let signature = hex::decode(&self.signature).unwrap_or_default();
        SignedStatement { statement: String::new(), signature }.issuer().is_some_and(|fp| lost.contains(&fp))
    }

    /// [`StoredManifest::open_unless_lost`] for a manifest that may be stored as a difference
    /// from `base`.
    pub fn open_on_unless_lost(&self, cert: &Certificate, blog_id: &BlogId, base: Option<&SignedManifest>) -> Result<Option<SignedManifest>, manifest::ManifestError> {
        if self.signed_by_lost_key(cert) {
            return Ok(None);
        }
        self.open_on(cert, blog_id, base).map(Some)
    }

    /// Reads it back, checking the signature against `cert` and the leaves against the
    /// header. Errors as [`spokes_core::manifest::ManifestError`]; `Malformed` for one
    /// stored as a difference.
    pub fn open(&self, cert: &Certificate, blog_id: &BlogId) -> Result<SignedManifest, manifest::ManifestError> {
        self.open_on(cert, blog_id, None)
    }

    /// Reads back an anchor: a manifest stored whole as the base others are stored as
    /// differences from. Its signature is not checked, since its signer may have been
    /// declared lost since and an anchor does not count by itself: its leaves are checked
    /// against its header, and every manifest rebuilt on it is checked against its own
    /// signed header ([`StoredManifest::open_on`]). Errors as [`StoredManifest::open`].
    pub fn open_as_base(&self, blog_id: &BlogId) -> Result<SignedManifest, manifest::ManifestError> {
        let signature = hex::decode(&self.signature).map_err(|_| manifest::ManifestError::Malformed("the signature is not hex".into()))?;
        let header = Header::parse(self.statement.as_bytes())?;
        if header.blog_id != *blog_id {
            return Err(manifest::ManifestError::WrongBlog { expected: blog_id.to_string(), found: header.blog_id.to_string() });
        }
        if self.base.is_some() {
            return Err(manifest::ManifestError::Malformed("an anchor stored as a difference".into()));
        }
        let leaves: Vec<Vec<u8>> = self.leaves.iter().map(|l| l.as_bytes().to_vec()).collect();
        let manifest = Manifest::from_parts(&header, self.settings.as_bytes().to_vec(), &leaves)?;
        Ok(SignedManifest { signed: SignedStatement { statement: self.statement.clone(), signature }, manifest })
    }

    /// [`StoredManifest::open`] for a manifest that may be stored as a difference from
    /// `base` (which must then be the manifest it names). The rebuilt manifest is checked
    /// whole against its header, as any other.
    pub fn open_on(&self, cert: &Certificate, blog_id: &BlogId, base: Option<&SignedManifest>) -> Result<SignedManifest, manifest::ManifestError> {
        let signature = hex::decode(&self.signature).map_err(|_| manifest::ManifestError::Malformed("the signature is not hex".into()))?;
        // `base` itself, stored whole beside its differences: the copy already checked (the
        // header commits to the settings and leaves, so the same signed header is the same
        // manifest; the differences share its index).
        if let Some(b) = base
            && self.statement == b.signed.statement
            && signature == b.signed.signature
        {
            return Ok(b.clone());
        }
        let signed = SignedStatement { statement: self.statement.clone(), signature };
        let header = signed.verify_header(cert, blog_id)?.header().clone();
        let leaves: Vec<Vec<u8>> = self.leaves.iter().map(|l| l.as_bytes().to_vec()).collect();
        let settings = self.settings.as_bytes().to_vec();
        let manifest = match (&self.base, base) {
            (None, _) => Manifest::from_parts(&header, settings, &leaves)?,
            (Some(named), Some(b)) if *named == hex::encode(b.hash()) => Manifest::from_base(&header, settings, &b.manifest, &leaves)?,
            (Some(named), _) => return Err(manifest::ManifestError::Malformed(format!("stored as a difference from manifest {named}, which is not at hand"))),
        };
        Ok(SignedManifest { signed, manifest })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::manifest::SiteSettings;
    use spokes_core::postdoc::PostContent;
    use spokes_core::{BlogSettings, Identity};

    #[test]
    fn post_documents_load_on_every_core_and_a_bad_one_is_named() {
        let blog = BlogId::generate();
        let ids: Vec<String> = (0..200).map(|i| format!("{i:016x}")).collect();
        let saved: Vec<Vec<u8>> = ids
            .iter()
            .map(|id| {
                let mut d = PostDoc::create(&blog, id, automerge::ActorId::random());
                d.write(&PostContent { title: format!("Post {id}"), body: "Words.".into(), tags: vec![] }, 1).unwrap();
                d.save()
            })
            .collect();
        let pairs: Vec<(&str, &[u8])> = ids.iter().map(String::as_str).zip(saved.iter().map(Vec::as_slice)).collect();
        let loaded = load_posts(&blog, &pairs).unwrap();
        assert_eq!(loaded.len(), 200);
        assert!(ids.iter().all(|id| loaded[id].content().title == format!("Post {id}")), "each document under its own ID");
        // A document stored under another post's ID, and bytes that are not a document.
        let mut swapped = pairs.clone();
        swapped[150].1 = saved[3].as_slice();
        assert_eq!(load_posts(&blog, &swapped).unwrap_err().0, ids[150]);
        let mut broken = pairs.clone();
        broken[10].1 = b"not automerge";
        assert_eq!(load_posts(&blog, &broken).unwrap_err().0, ids[10]);
        assert!(load_posts(&blog, &[]).unwrap().is_empty());
    }

    /// A writer's computer: its key and its replica (all post documents in the cache).
    struct Computer {
        key: SigningKey,
        replica: SetReplica,
    }

    fn none(_: &str) -> Option<PostDoc> {
        None
    }

    fn at(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
        chrono::DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn writer() -> (Identity, Computer) {
        let id = Identity::generate("Ada", "pw").unwrap();
        let key = id.unlock("pw").unwrap();
        let (blog, salt) = BlogId::bound_to(&id.fingerprint());
        let mut replica = SetReplica::new(blog.clone(), Some(id.certificate()));
        let settings = SiteSettings { blog: BlogSettings { title: "Notes".into(), ..Default::default() }, spokes: vec![], owner: id.fingerprint(), blog_id_salt: salt };
        let mut m = Manifest::new(blog, &settings).next_revision();
        m.settings_rev = m.rev;
        let mut c = Computer { key, replica: SetReplica { frontier: vec![], ..std::mem::replace(&mut replica, SetReplica::new(m.blog_id.clone(), None)) } };
        let signed = SignedManifest::sign(m, &mut c.key).unwrap();
        c.replica.frontier.push(signed);
        (id, c)
    }

    impl Computer {
        /// Another computer of the same writer: a copy of the replica, its own actor.
        fn second(&self, id: &Identity) -> Computer {
            let mut posts = self.replica.posts.clone();
            for d in posts.values_mut() {
                d.automerge().set_actor(automerge::ActorId::random());
            }
            Computer { key: id.unlock("pw").unwrap(), replica: SetReplica { blog_id: self.replica.blog_id.clone(), certificate: self.replica.certificate.clone(), frontier: self.replica.frontier.clone(), recent: vec![], posts, rejected: None } }
        }

        /// Writes posts (id, title, body) and forgets `gone`, then signs a manifest over the
        /// merged frontier.
        fn publish(&mut self, posts: &[(&str, &str, &str)], gone: &[&str]) {
            let mut m = self.replica.merged().unwrap().next_revision();
            for (id, title, body) in posts {
                let blog = self.replica.blog_id.clone();
                let d = self.replica.posts.entry((*id).to_owned()).or_insert_with(|| PostDoc::create(&blog, id, automerge::ActorId::random()));
                d.write(&PostContent { title: (*title).into(), body: (*body).into(), tags: vec![] }, 1_000).unwrap();
                let heads = d.heads();
                m.put_post(id, &spokes_core::doc::slugify(title), at("2026-01-01T00:00:00Z"), at("2026-01-01T00:00:00Z"), &heads);
            }
            for id in gone {
                m.forget(id);
                self.replica.posts.remove(*id);
            }
            let signed = SignedManifest::sign(m, &mut self.key).unwrap();
            let old = std::mem::take(&mut self.replica.frontier);
            self.replica.frontier.push(signed);
            self.replica.recent = old.into_iter().chain(std::mem::take(&mut self.replica.recent)).take(MAX_RECENT).collect();
        }

        /// Publishes `n` posts (ID, "Post {i}", a sentence repeated `repeat` times) and returns them.
        fn publish_numbered(&mut self, n: usize, repeat: usize) -> Vec<(String, String, String)> {
            let posts: Vec<(String, String, String)> = (0..n).map(|i| (format!("{i:016x}"), format!("Post {i}"), format!("Words of post {i}. ").repeat(repeat))).collect();
            let refs: Vec<(&str, &str, &str)> = posts.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
            self.publish(&refs, &[]);
            posts
        }

        fn body(&self, id: &str) -> Option<String> {
            let m = self.replica.merged()?;
            let Some(Entry::Post(l)) = m.entries().get(id) else { return None };
            Some(self.replica.posts.get(id)?.post(id, l).body)
        }
    }

    /// A session between `a` (initiator) and `b`, each told the other's certificate hash as
    /// the hellos carry it; returns both outcomes and the bytes `a` sent.
    async fn run(a: &mut SetReplica, b: &mut SetReplica) -> (Result<SetOutcome, SyncError>, Result<SetOutcome, SyncError>, usize) {
        run_from(a, &mut none, b).await
    }

    /// [`run`] with `a`'s post documents read through `load_a`.
    async fn run_from(a: &mut SetReplica, load_a: &mut Loader<'_>, b: &mut SetReplica) -> (Result<SetOutcome, SyncError>, Result<SetOutcome, SyncError>, usize) {
        let (name_a, name_b) = (certificate_name(a), certificate_name(b));
        let (x, y) = tokio::io::duplex(1 << 20);
        let (mut xr, xw) = tokio::io::split(x);
        let (mut yr, mut yw) = tokio::io::split(y);
        let mut xw = Counted(xw, 0);
        let (ra, rb) = tokio::join!(
            async {
                let o = exchange_set(&mut xw, &mut xr, true, a, load_a, name_b.as_deref()).await?;
                finish_set(&mut xw, &mut xr, true, Ok(a.frontier.iter().map(SignedManifest::hash).collect())).await.map(|_| o)
            },
            async {
                let o = exchange_set(&mut yw, &mut yr, false, b, &mut none, name_a.as_deref()).await?;
                finish_set(&mut yw, &mut yr, false, Ok(b.frontier.iter().map(SignedManifest::hash).collect())).await.map(|_| o)
            }
        );
        (ra, rb, xw.1)
    }

    /// A writer that counts the bytes through it.
    struct Counted<W>(W, usize);
    impl<W: AsyncWrite + Unpin> AsyncWrite for Counted<W> {
        fn poll_write(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>, buf: &[u8]) -> std::task::Poll<std::io::Result<usize>> {
            let r = std::pin::Pin::new(&mut self.0).poll_write(cx, buf);
            if let std::task::Poll::Ready(Ok(n)) = &r {
                self.1 += n;
            }
            r
        }
        fn poll_flush(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
            std::pin::Pin::new(&mut self.0).poll_flush(cx)
        }
        fn poll_shutdown(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
            std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
        }
    }

    fn spoke(c: &Computer) -> SetReplica {
        SetReplica::new(c.replica.blog_id.clone(), None)
    }

    const P1: &str = "00000000000000a1";
    const P2: &str = "00000000000000b2";

    /// Post documents as a writer's disk keeps them: saved forms, loaded on demand.
    struct Disk {
        blog: BlogId,
        files: BTreeMap<String, Vec<u8>>,
        loads: usize,
    }

    impl PostSource for Disk {
        fn load(&mut self, id: &str) -> Option<PostDoc> {
            self.loads += 1;
            PostDoc::load(self.files.get(id)?, &self.blog, id).ok()
        }
        fn saved(&mut self, id: &str) -> Option<Vec<u8>> {
            self.files.get(id).cloned()
        }
    }

    #[tokio::test]
    async fn a_spoke_that_holds_nothing_gets_the_stored_documents_unloaded_and_checks_them() {
        let (_, mut w) = writer();
        let posts = w.publish_numbered(50, 20);
        let mut disk = Disk { blog: w.replica.blog_id.clone(), files: std::mem::take(&mut w.replica.posts).into_iter().map(|(id, mut d)| (id, d.save())).collect(), loads: 0 };

        // A new spoke: every post goes as stored, none is loaded on the sending side.
        let mut s = spoke(&w);
        let (a, b, _) = run_from(&mut w.replica, &mut disk, &mut s).await;
        a.unwrap();
        assert_eq!(b.unwrap().changed_posts.len(), 50);
        assert_eq!(disk.loads, 0, "documents were loaded to be sent whole");
        assert_eq!(s.merged(), w.replica.merged());
        assert_eq!(s.posts["0000000000000007"].content().body, posts[7].2);

        // A spoke that holds an earlier state of a post gets only the changes: that post is loaded.
        let mut edited = PostDoc::load(&disk.files["0000000000000007"], &disk.blog, "0000000000000007").unwrap();
        edited.write(&PostContent { title: "Post 7".into(), body: "Rewritten.".into(), tags: vec![] }, 2_000).unwrap();
        let mut m = w.replica.merged().unwrap().next_revision();
        m.put_post("0000000000000007", "post-7", at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"), &edited.heads());
        disk.files.insert("0000000000000007".into(), edited.save());
        let old = std::mem::replace(&mut w.replica.frontier, vec![SignedManifest::sign(m, &mut w.key).unwrap()]);
        w.replica.recent = old;
        let (_, b, edit) = run_from(&mut w.replica, &mut disk, &mut s).await;
        assert_eq!(b.unwrap().changed_posts.into_iter().collect::<Vec<_>>(), vec!["0000000000000007".to_owned()]);
        assert_eq!(disk.loads, 1);
        assert!(edit < 4_000, "an edit of one post sent {edit} bytes");

        // A damaged file (another post's document under this post's name) reaches a new spoke
        // unloaded: the spoke refuses it and keeps nothing.
        let other = disk.files["0000000000000001"].clone();
        disk.files.insert("0000000000000002".into(), other);
        let mut fresh = spoke(&w);
        let (a, b, _) = run_from(&mut w.replica, &mut disk, &mut fresh).await;
        assert!(a.is_err() && b.is_err(), "a post document under another post's name was taken");
        assert!(fresh.frontier.is_empty() && fresh.posts.is_empty());
    }

    #[tokio::test]
    async fn a_new_spoke_gets_the_blog_and_an_edit_moves_only_that_post() {
        let (_, mut w) = writer();
        w.publish_numbered(200, 50);
        let mut s = spoke(&w);
        let (a, b, first) = run(&mut w.replica, &mut s).await;
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!((a.new_manifests, b.new_manifests, b.changed_posts.len()), (0, 1, 200));
        assert_eq!(s.merged(), w.replica.merged());
        assert!(first > 50_000, "the whole blog went: {first} bytes");

        // One post edited: one header, one leaf, that post's change.
        w.publish(&[("0000000000000007", "Post 7", "Rewritten.")], &[]);
        let (_, b, edit) = run(&mut w.replica, &mut s).await;
        let b = b.unwrap();
        assert_eq!(b.changed_posts.into_iter().collect::<Vec<_>>(), vec!["0000000000000007".to_owned()]);
        assert!(edit < 4_000, "an edit of one post sent {edit} bytes");
        assert_eq!(s.frontier.len(), 1, "the new manifest supersedes the old");
        let l = match s.merged().unwrap().entries().get("0000000000000007") {
            Some(Entry::Post(l)) => l.clone(),
            _ => panic!("not listed"),
        };
        assert_eq!(s.posts["0000000000000007"].post("0000000000000007", &l).body, "Rewritten.");
        // Nothing new: nothing moves but the have-lists and the frontier (the certificate,
        // about 1.5 KB armored, is not sent to a side whose hello names the same one).
        let (_, b, idle) = run(&mut w.replica, &mut s).await;
        assert!(b.unwrap().changed_posts.is_empty() && idle < 1_000, "{idle}");
    }

    /// An anchor read back from disk rests on its header: its leaves must give the header's
    /// root and the header must name this blog; its signature is not checked (its key may
    /// have been declared lost since), while a manifest read with `open` still needs one.
    #[test]
    fn an_anchor_is_read_back_by_its_header_not_its_signature() {
        let (_, mut w) = writer();
        w.publish(&[(P1, "Kept", "Marmalade."), (P2, "Other", "Two.")], &[]);
        let m = w.replica.frontier[0].clone();
        let (blog, cert) = (w.replica.blog_id.clone(), w.replica.certificate.clone().unwrap());
        let stored = StoredManifest::of(&m);
        assert_eq!(stored.open_as_base(&blog).unwrap().hash(), m.hash());
        let unsigned = StoredManifest { signature: "00".into(), ..stored.clone() };
        assert_eq!(unsigned.open_as_base(&blog).unwrap().manifest, m.manifest);
        assert!(unsigned.open(&cert, &blog).is_err(), "a manifest read to count is still verified");
        let mut altered = stored.clone();
        altered.leaves[0] = altered.leaves[0].replacen("kept", "kepT", 1);
        assert_ne!(altered.leaves[0], stored.leaves[0]);
        assert!(altered.open_as_base(&blog).is_err(), "a leaf changed on disk");
        let other = "00000000000000000000000000000000".parse::<BlogId>().unwrap();
        assert!(matches!(stored.open_as_base(&other), Err(manifest::ManifestError::WrongBlog { .. })));
        let as_difference = StoredManifest { base: Some("ab".repeat(32)), ..stored };
        assert!(matches!(as_difference.open_as_base(&blog), Err(manifest::ManifestError::Malformed(_))));
    }

    /// A side that holds none of the blog's manifests (a new spoke, a computer restoring the
    /// blog) also gets the recent ones, so that "lost or stolen" can list the last revisions;
    /// a side that holds the blog already takes none that way.
    #[tokio::test]
    async fn a_side_that_holds_nothing_gets_the_recent_manifests_too() {
        let (_, mut w) = writer();
        w.publish(&[(P1, "First", "One.")], &[]);
        let mut early = spoke(&w);
        run(&mut w.replica, &mut early).await.1.unwrap();
        w.publish(&[(P2, "Second", "Two.")], &[]);
        w.publish(&[(P1, "First", "One, edited.")], &[]);
        let revs = |r: &SetReplica| r.recent.iter().map(|m| m.manifest.rev).collect::<Vec<_>>();
        assert_eq!(revs(&w.replica).len(), 2);
        let mut s = spoke(&w);
        run(&mut w.replica, &mut s).await.1.unwrap();
        assert_eq!((s.frontier.len(), revs(&s)), (1, revs(&w.replica)));
        // A computer restoring the blog, from the spoke.
        let mut restoring = spoke(&w);
        run(&mut restoring, &mut s).await.0.unwrap();
        assert_eq!(revs(&restoring), revs(&w.replica));
        assert_eq!(restoring.merged(), w.replica.merged());
        // The spoke that held an earlier revision (and got the one before it, then holding
        // nothing): the revision its frontier gave way to stays; the writer's newer recent
        // one does not come.
        let held = revs(&early);
        assert_eq!(held.len(), 1);
        run(&mut w.replica, &mut early).await.1.unwrap();
        assert_eq!(revs(&early), vec![held[0] + 1, held[0]], "the writer's recent {:?} stayed with it", revs(&w.replica));
    }

    #[tokio::test]
    async fn a_removed_post_is_forgotten_by_the_spoke() {
        let (_, mut w) = writer();
        w.publish(&[(P1, "Kept", "Marmalade."), (P2, "Mistake", "Quicksilver.")], &[]);
        let mut s = spoke(&w);
        let (_, b, _) = run(&mut w.replica, &mut s).await;
        b.unwrap();
        assert!(s.posts.contains_key(P2));
        w.publish(&[], &[P2]);
        let (_, b, _) = run(&mut w.replica, &mut s).await;
        let b = b.unwrap();
        assert_eq!(b.forgotten.into_iter().collect::<Vec<_>>(), vec![P2.to_owned()]);
        assert!(!s.posts.contains_key(P2));
        assert_eq!(s.merged().unwrap().entries()[P2], Entry::Gone { rev: 3 });
        // Nothing the spoke holds names the post's words or slug any more.
        let held = format!("{:?}{:?}", s.frontier.iter().map(|m| m.manifest.leaves()).collect::<Vec<_>>(), s.frontier.iter().map(|m| &m.signed.statement).collect::<Vec<_>>());
        assert!(!held.contains("mistake") && !String::from_utf8_lossy(&s.posts[P1].clone().save()).contains("Quicksilver"));
    }

    #[tokio::test]
    async fn two_computers_editing_offline_converge_through_a_spoke() {
        let (id, mut a) = writer();
        a.publish(&[(P1, "Shared", "Both edit this."), (P2, "Other", "Untouched.")], &[]);
        let mut s = spoke(&a);
        run(&mut a.replica, &mut s).await.1.unwrap();
        let mut b = a.second(&id);
        // Offline: A edits P1, B edits P1 and adds P3.
        a.publish(&[(P1, "Shared", "Edited on A.")], &[]);
        b.publish(&[(P1, "Shared", "Edited on B."), ("00000000000000c3", "New on B", "Fresh.")], &[]);
        run(&mut a.replica, &mut s).await.1.unwrap();
        let (rb, rs, _) = run(&mut b.replica, &mut s).await;
        rb.unwrap();
        rs.unwrap();
        assert_eq!(s.frontier.len(), 2, "two concurrent manifests are kept");
        run(&mut a.replica, &mut s).await.1.unwrap();
        // Every replica shows the same blog; both edits of P1 are in its document.
        assert_eq!(a.replica.merged(), s.merged());
        assert_eq!(b.replica.merged(), s.merged());
        assert_eq!(a.body("00000000000000c3").as_deref(), Some("Fresh."));
        assert_eq!(a.body(P1), s.body_of(P1));
        // A publishes on top of both: one manifest again everywhere.
        a.publish(&[(P1, "Shared", "Settled.")], &[]);
        run(&mut a.replica, &mut s).await.1.unwrap();
        run(&mut b.replica, &mut s).await.1.unwrap();
        assert_eq!(s.frontier.len(), 1);
        assert_eq!(b.body(P1).as_deref(), Some("Settled."));
    }

    /// A peer holding two concurrent manifests sends one to a computer that holds the other:
    /// the difference is never taken from a base with a post the manifest does not list.
    #[tokio::test]
    async fn a_concurrent_manifest_is_not_sent_as_a_difference_from_the_other() {
        let (id, mut a) = writer();
        a.publish(&[(P1, "Shared", "Both edit this.")], &[]);
        let mut s = spoke(&a);
        run(&mut a.replica, &mut s).await.1.unwrap();
        let mut b = a.second(&id);
        a.publish(&[("00000000000000d4", "Only on A", "From A.")], &[]);
        b.publish(&[("00000000000000c3", "Only on B", "From B.")], &[]);
        // The spoke takes A's, then B's; A's is the newest manifest both it and A hold.
        run(&mut a.replica, &mut s).await.1.unwrap();
        run(&mut b.replica, &mut s).await.1.unwrap();
        let (ra, rs, _) = run(&mut a.replica, &mut s).await;
        assert_eq!(ra.unwrap().new_manifests, 1);
        rs.unwrap();
        assert_eq!(a.replica.merged(), s.merged());
        assert_eq!(a.body("00000000000000c3").as_deref(), Some("From B."));
    }

    impl SetReplica {
        fn body_of(&self, id: &str) -> Option<String> {
            let m = self.merged()?;
            let Some(Entry::Post(l)) = m.entries().get(id) else { return None };
            Some(self.posts.get(id)?.post(id, l).body)
        }
    }

    #[tokio::test]
    async fn hostile_manifests_and_documents_are_refused_and_change_nothing() {
        let (_, mut w) = writer();
        w.publish(&[(P1, "Kept", "Marmalade.")], &[]);
        let mut s = spoke(&w);
        run(&mut w.replica, &mut s).await.1.unwrap();
        let before = (s.frontier.clone(), s.posts.keys().cloned().collect::<Vec<_>>());
        let refused = |r: Result<SetOutcome, SyncError>| match r {
            Err(SyncError::Refused(e)) => e.code,
            other => panic!("not refused: {other:?}"),
        };

        // A leaf altered after signing: the rebuilt manifest does not match its root.
        let mut forged = w.second(&Identity::generate("x", "pw").unwrap());
        forged.key = w.key.clone();
        forged.publish(&[(P1, "Kept", "Changed words.")], &[]);
        let m = &mut forged.replica.frontier[0].manifest;
        if let Some(Entry::Post(l)) = m.entries().get(P1).cloned() {
            m.insert(P1, Entry::Post(spokes_core::manifest::Listing { slug: "forged".into(), ..l }));
        }
        let (_, r, _) = run(&mut forged.replica, &mut s).await;
        assert_eq!(refused(r), Code::Malformed);

        // Signed by another writer's key.
        let (_, mut mallory) = writer();
        let mut other = w.second(&Identity::generate("y", "pw").unwrap());
        other.key = std::mem::replace(&mut mallory.key, w.key.clone());
        other.publish(&[(P1, "Kept", "Mallory's words.")], &[]);
        let (_, r, _) = run(&mut other.replica, &mut s).await;
        assert_eq!(refused(r), Code::BadSignature);

        // A post document with a change no manifest signs.
        let mut sneaky = w.second(&Identity::generate("z", "pw").unwrap());
        sneaky.key = w.key.clone();
        sneaky.publish(&[(P1, "Kept", "Signed edit.")], &[]);
        sneaky.replica.posts.get_mut(P1).unwrap().write(&PostContent { title: "Kept".into(), body: "Unsigned edit.".into(), tags: vec![] }, 2_000).unwrap();
        let (_, r, _) = run(&mut sneaky.replica, &mut s).await;
        assert_eq!(refused(r), Code::UncoveredChanges);

        // New posts' documents are loaded together, on every core, and checked the same: one
        // with a change no manifest signs, and one that belongs to another blog.
        let mut fresh = w.second(&Identity::generate("v", "pw").unwrap());
        fresh.key = w.key.clone();
        fresh.publish(&[(P2, "New", "Signed words.")], &[]);
        fresh.replica.posts.get_mut(P2).unwrap().write(&PostContent { title: "New".into(), body: "Unsigned words.".into(), tags: vec![] }, 2_000).unwrap();
        let (_, r, _) = run(&mut fresh.replica, &mut s).await;
        assert_eq!(refused(r), Code::UncoveredChanges);
        let mut swapped = w.second(&Identity::generate("u", "pw").unwrap());
        swapped.key = w.key.clone();
        swapped.publish(&[(P2, "New", "Signed words.")], &[]);
        let elsewhere = BlogId::bound_to(&Identity::generate("t", "pw").unwrap().fingerprint()).0;
        let mut foreign = PostDoc::create(&elsewhere, P2, automerge::ActorId::random());
        foreign.write(&PostContent { title: "New".into(), body: "Another blog's words.".into(), tags: vec![] }, 1_000).unwrap();
        swapped.replica.posts.insert(P2.into(), foreign);
        let (_, r, _) = run(&mut swapped.replica, &mut s).await;
        assert_eq!(refused(r), Code::WrongBlog);

        assert_eq!((s.frontier.clone(), s.posts.keys().cloned().collect::<Vec<_>>()), before, "nothing was taken");
        assert_eq!(s.body_of(P1).as_deref(), Some("Marmalade."));
    }

    #[test]
    fn post_records_are_read_strictly() {
        let mut b = Vec::new();
        put_record(&mut b, P1, true, b"abc");
        let (id, whole, bytes, rest) = take_record(&b).unwrap();
        assert_eq!((id.as_str(), whole, bytes, rest.len()), (P1, true, &b"abc"[..], 0));
        assert!(take_record(&b[..b.len() - 1]).is_none(), "truncated");
        let mut bad = b.clone();
        bad[1 + P1.len()] = 7;
        assert!(take_record(&bad).is_none(), "unknown flag");
        let mut evil = vec![3u8];
        evil.extend_from_slice(b"../");
        evil.extend_from_slice(&[0, 0, 0, 0, 0]);
        assert!(take_record(&evil).is_none(), "not a post ID");
        let mut huge = Vec::new();
        put_record(&mut huge, P1, false, b"");
        let n = huge.len();
        huge[n - 4..].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(take_record(&huge).is_none(), "a length beyond the bytes");
    }
}
