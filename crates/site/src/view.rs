//! What readers see of a blog: its published posts rendered and sanitised, plus the result
//! of verifying every change against the author's signatures. Rebuilt whenever the stored
//! blog changes.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use spokes_core::image::{ImageName, referenced_images};
use spokes_core::render::{excerpt, markdown_to_html_with, plain_text};
use std::collections::BTreeSet;
use spokes_core::statement::Statement;
use spokes_core::{BlogDoc, BlogId, BlogSettings, PostState, SignedStatement, SpokeRef};
use spokes_sync::session::{Replica, Unverified, VerifiedReplica};
use spokes_sync::set::VerifiedSet;

/// Outcome of verifying a whole blog.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Verification {
    /// Every change is covered by a valid signed statement.
    Verified {
        /// Changes checked.
        changes: usize,
        /// Statements checked.
        statements: usize,
        /// When the check ran (RFC 3339).
        checked_at: String,
    },
    /// Something did not verify.
    Failed {
        /// Why.
        reason: String,
    },
}

/// A published post, rendered.
///
/// Its body (the HTML and plain text, by far its largest part) is in [`PostView::body`]: a
/// view of a blog kept as one document holds every body; a view of a set of documents holds
/// none ([`BlogView::of_set`]), and whoever serves it renders a body when a page needs it
/// ([`PostView::markdown_of`]), so a spoke's memory grows with its posts' titles and excerpts, not
/// with their words.
#[derive(Debug, Clone, Serialize)]
pub struct PostView {
    /// Post ID.
    pub id: String,
    /// Title.
    pub title: String,
    /// Slug (permalink: `/b/{blog}/posts/{slug}`).
    pub slug: String,
    /// Publication date.
    pub date: DateTime<FixedOffset>,
    /// Last change.
    pub updated: DateTime<FixedOffset>,
    /// Tags.
    pub tags: Vec<String>,
    /// Plain-text excerpt.
    pub excerpt: String,
    /// Images stored with the blog that the body links to (`images/<name>`).
    #[serde(skip)]
    pub images: Vec<ImageName>,
    /// BLAKE3 hash of the Markdown body the HTML was rendered from.
    #[serde(skip)]
    pub body_hash: [u8; 32],
    /// The rendered body, when the view holds it (see above); shared between the views of
    /// successive states while the Markdown is the same.
    #[serde(skip)]
    pub body: Option<std::sync::Arc<PostBody>>,
    /// For a post of a set of documents: the heads of its document the manifest lists (the
    /// state the body shows). Empty for a blog kept as one document.
    #[serde(skip)]
    pub heads: Vec<automerge::ChangeHash>,
    /// For a post of a set of documents: how many changes of its document were checked
    /// against the manifests when it arrived (0 for a blog kept as one document).
    #[serde(skip)]
    pub changes: usize,
}

/// A post's body rendered for readers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostBody {
    /// Sanitised HTML ([`markdown_to_html_with`]; pictures under the blog's image base).
    pub html: String,
    /// Plain text (for the search index).
    pub text: String,
}

impl PostBody {
    /// Renders Markdown `body`, pictures linked under `image_base` (`/b/{blog}/images/`).
    pub fn render(body: &str, image_base: &str) -> PostBody {
        PostBody { html: markdown_to_html_with(body, Some(image_base)), text: plain_text(body) }
    }

    /// Bytes this body holds (for caches that count them).
    pub fn size(&self) -> usize {
        self.html.len() + self.text.len()
    }
}

impl PostView {
    /// This post's Markdown read from `doc`, its document (a set blog's post, stored
    /// verified), as of the heads this view lists. `None` when it is not the body this view
    /// was built from (the document changed since: a newer view is on its way).
    pub fn markdown_of(&self, doc: &spokes_core::postdoc::PostDoc) -> Option<String> {
        let body = doc.content_as_listed(&self.heads).body;
        (<[u8; 32]>::from(blake3::hash(body.as_bytes())) == self.body_hash).then_some(body)
    }
}

/// A blog as readers see it.
#[derive(Debug, Clone)]
pub struct BlogView {
    /// Blog ID.
    pub blog_id: BlogId,
    /// Settings.
    pub settings: BlogSettings,
    /// Author's certificate fingerprint.
    pub fingerprint: String,
    /// Author's user ID, for display.
    pub author: String,
    /// Published posts, newest first (shared with the views built after this one, so a
    /// publish of one post copies no other post's text).
    pub posts: Vec<std::sync::Arc<PostView>>,
    /// Verification result.
    pub verification: Verification,
    /// Spokes the author lists.
    pub spokes: Vec<SpokeRef>,
    /// Heads of the document this view was built from (empty for an empty document, and for
    /// a blog kept as a set of documents).
    pub heads: Vec<automerge::ChangeHash>,
    /// For a blog kept as a set of documents: the frontier this view was built from, as
    /// [`spokes_sync::set::SignedManifest::names`] gives it (empty for format 1).
    pub manifests: Vec<String>,
    /// The highest manifest `rev` of that frontier (0 for format 1).
    pub rev: u64,
    /// Every image a published post links to: the only images of this blog the spoke takes
    /// and serves.
    pub images: BTreeSet<ImageName>,
    /// Whether this spoke hosts the blog (its operator admitted it); `false` for a council
    /// copy.
    pub hosted: bool,
}

impl BlogView {
    /// Verifies a stored replica and builds its view. A blog that fails verification shows
    /// no posts. The replica is left as it was.
    pub fn build(replica: &mut Replica) -> BlogView {
        Self::rebuild(replica, None)
    }

    /// [`BlogView::build`] reusing what `previous` rendered (see [`BlogView::of_verified`]).
    pub fn rebuild(replica: &mut Replica, previous: Option<&BlogView>) -> BlogView {
        let placeholder = Replica { blog_id: replica.blog_id.clone(), doc: spokes_core::doc::empty_automerge(), certificate: None, statements: Vec::new(), saved: Default::default() };
        let taken = std::mem::replace(replica, placeholder);
        let (view, back) = Self::verify_and_build(taken, previous);
        *replica = back;
        view
    }

    /// Verifies `replica` ([`VerifiedReplica::verify`]) and builds its view: the posts when
    /// it verifies, else [`BlogView::failed`]. Gives the replica back.
    pub fn verify_and_build(replica: Replica, previous: Option<&BlogView>) -> (BlogView, Replica) {
        match VerifiedReplica::verify(replica) {
            Ok(mut v) => (Self::of_verified(&mut v, previous), v.into_replica()),
            Err(u) => {
                let Unverified { mut replica, error } = *u;
                (Self::failed(&mut replica, &error.to_string(), previous), replica)
            }
        }
    }

    /// The view of a blog that failed verification: who it claims to be, its settings and
    /// heads for the operator, and no posts. The replica is left as it was.
    pub fn failed(replica: &mut Replica, reason: &str, previous: Option<&BlogView>) -> BlogView {
        let mut view = Self::empty(&replica.blog_id, replica.certificate.as_ref(), Verification::Failed { reason: reason.to_owned() }, previous);
        view.heads = replica.doc.get_heads();
        if view.heads.is_empty() {
            return view;
        }
        // Borrow the replica's document without copying it; it is put back below.
        let am = std::mem::replace(&mut replica.doc, spokes_core::doc::empty_automerge());
        replica.doc = match BlogDoc::try_from_automerge(am) {
            Ok(doc) => {
                view.settings = doc.settings();
                view.spokes = doc.spokes();
                doc.into_automerge()
            }
            Err(failed) => failed.1,
        };
        view
    }

    fn empty(blog_id: &BlogId, certificate: Option<&spokes_core::Certificate>, verification: Verification, previous: Option<&BlogView>) -> BlogView {
        let fingerprint = certificate.map(|c| c.fingerprint()).unwrap_or_default();
        let author = certificate.and_then(|c| c.user_id()).unwrap_or_default();
        BlogView { blog_id: blog_id.clone(), settings: BlogSettings::default(), fingerprint, author, posts: vec![], verification, spokes: vec![], heads: vec![], manifests: vec![], rev: 0, images: BTreeSet::new(), hosted: previous.is_none_or(|p| p.hosted) }
    }

    /// The view of a verified replica: the only way to a view with posts. When `previous`
    /// verified and was built from an earlier state of this document, only the posts that
    /// Automerge's diff names as changed are read and rendered (a publish costs its own posts,
    /// not the blog's); otherwise every post is read and only those whose Markdown changed are
    /// rendered.
    pub fn of_verified(replica: &mut VerifiedReplica, previous: Option<&BlogView>) -> BlogView {
        let verification = Verification::Verified { changes: replica.changes(), statements: replica.statements().len(), checked_at: chrono::Utc::now().to_rfc3339() };
        let mut view = Self::empty(replica.blog_id(), Some(replica.certificate()), verification, previous);
        view.heads = replica.heads().to_vec();
        let changed = previous.filter(|v| v.verified() && !v.heads.is_empty()).and_then(|v| replica.changed_post_ids(&v.heads).ok().map(|ids| (v, ids)));
        let Some(doc) = replica.doc() else { return view };
        view.settings = doc.settings();
        view.spokes = doc.spokes();
        let image_base = format!("/b/{}/images/", view.blog_id);
        let render = |p: spokes_core::Post, old: Option<&PostView>| render_post(p, old, &image_base, true, Vec::new());
        view.posts = match changed {
            Some((prev, ids)) => {
                let mut posts: Vec<std::sync::Arc<PostView>> = prev.posts.iter().filter(|p| !ids.contains(&p.id)).cloned().collect();
                for id in &ids {
                    if let Some(p) = doc.post(id).filter(|p| p.state == PostState::Published) {
                        let old = prev.posts.iter().find(|o| &o.id == id).map(|o| o.as_ref());
                        posts.push(render(p, old));
                    }
                }
                posts.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
                posts
            }
            None => {
                let rendered: std::collections::HashMap<&str, &PostView> = previous.map(|v| v.posts.iter().map(|p| (p.id.as_str(), p.as_ref())).collect()).unwrap_or_default();
                doc.posts().into_iter().filter(|p| p.state == PostState::Published).map(|p| {
                    let old = rendered.get(p.id.as_str()).copied();
                    render(p, old)
                }).collect()
            }
        };
        view.images = view.posts.iter().flat_map(|p| p.images.iter().cloned()).collect();
        view
    }

    /// The view of a blog kept as a set of documents (`spokes/sync/2`), verified: its live
    /// posts with their excerpts and pictures (reusing what `previous` found of an unchanged
    /// body) and without their bodies ([`PostView::markdown_of`] reads one back). Posts whose
    /// leaves say `gone` are not in it: their words are nowhere in what is served. `heads`
    /// stays empty (the council's catalog offers only version 1 blogs for now).
    pub fn of_set(set: &VerifiedSet, previous: Option<&BlogView>) -> BlogView {
        let mut view = Self::set_without_posts(set, previous);
        let image_base = format!("/b/{}/images/", view.blog_id);
        let rendered: std::collections::HashMap<&str, &PostView> = previous.map(|v| v.posts.iter().map(|p| (p.id.as_str(), p.as_ref())).collect()).unwrap_or_default();
        let mut posts: Vec<std::sync::Arc<PostView>> = set.posts().into_iter().map(|p| {
            let old = rendered.get(p.id.as_str()).copied();
            render_set_post(set, p, old, &image_base)
        }).collect();
        posts.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
        view.set_posts(posts);
        view
    }

    /// [`BlogView::of_set`] with posts already rendered: each post of `listed` that `set`'s
    /// merged manifest lists as live with the same document heads is taken as it is (a
    /// listing the spoke stored when the document arrived and was checked); every other live
    /// post is rendered from its document in `set`'s cache (a post whose document is not
    /// there is left out, as in [`BlogView::of_set`]). `listed` posts that are no longer live,
    /// or list other heads, are dropped.
    pub fn of_set_listed(set: &VerifiedSet, listed: Vec<std::sync::Arc<PostView>>) -> BlogView {
        let mut view = Self::set_without_posts(set, None);
        let image_base = format!("/b/{}/images/", view.blog_id);
        let mut posts: Vec<std::sync::Arc<PostView>> = listed.into_iter().filter(|p| !p.heads.is_empty() && listed_heads(set, &p.id) == p.heads).collect();
        let taken: BTreeSet<String> = posts.iter().map(|p| p.id.clone()).collect();
        posts.extend(set.posts().into_iter().filter(|p| !taken.contains(&p.id)).map(|p| render_set_post(set, p, None, &image_base)));
        posts.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
        view.set_posts(posts);
        view
    }

    /// [`BlogView::of_set`] after a session: `previous` (the view before it) with the posts in
    /// `changed` read from `set` and rendered again (their leaf or document changed), and
    /// every post that is no longer live left out. Other posts are shared with `previous`,
    /// their documents not even loaded. Without a verified `previous`, a full build of every
    /// post `set` holds in its cache: `set` must then be verified whole
    /// ([`VerifiedSet::verify`], which loads every live document), not after a session only.
    pub fn of_set_changes(set: &mut VerifiedSet, previous: Option<&BlogView>, changed: &BTreeSet<String>, load: &mut spokes_sync::set::Loader<'_>) -> BlogView {
        let Some(prev) = previous.filter(|p| p.verified()) else {
            return Self::of_set(set, previous);
        };
        let mut view = Self::set_without_posts(set, previous);
        // A post whose leaf did not change is live as it was; only the changed are looked up.
        let merged = set.merged().cloned();
        let live = |id: &str| merged.as_ref().is_some_and(|m| matches!(m.entries().get(id), Some(spokes_core::manifest::Entry::Post(_))));
        let image_base = format!("/b/{}/images/", view.blog_id);
        let mut posts: Vec<std::sync::Arc<PostView>> = prev.posts.iter().filter(|p| !changed.contains(&p.id)).cloned().collect();
        for id in changed.iter().filter(|id| live(id)) {
            if let Some(p) = set.post(id, load) {
                let old = prev.posts.iter().find(|o| &o.id == id).map(|o| o.as_ref());
                posts.push(render_set_post(set, p, old, &image_base));
            }
        }
        posts.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
        view.set_posts(posts);
        view
    }

    /// Takes `posts` (newest first) as a set blog's posts: its pictures are theirs, and the
    /// changes its verification counts are those of every post's document, whichever check
    /// (this one or the one when it arrived) counted them.
    fn set_posts(&mut self, posts: Vec<std::sync::Arc<PostView>>) {
        self.posts = posts;
        self.images = self.posts.iter().flat_map(|p| p.images.iter().cloned()).collect();
        if let Verification::Verified { changes, .. } = &mut self.verification {
            *changes = self.posts.iter().map(|p| p.changes).sum();
        }
    }

    /// The view of verified `set` as far as its manifests say (who, settings, spokes, the
    /// frontier's names and rev), with no posts yet.
    fn set_without_posts(set: &VerifiedSet, previous: Option<&BlogView>) -> BlogView {
        let verification = Verification::Verified { changes: set.changes(), statements: set.frontier().len(), checked_at: chrono::Utc::now().to_rfc3339() };
        let mut view = Self::empty(set.blog_id(), set.certificate(), verification, previous);
        view.manifests = spokes_sync::set::SignedManifest::names(set.frontier());
        view.rev = set.frontier().iter().map(|m| m.manifest.rev).max().unwrap_or(0);
        if let Some(settings) = set.merged().and_then(|m| m.site_settings().ok()) {
            view.settings = settings.blog;
            view.spokes = settings.spokes;
        }
        view
    }

    /// The view of a blog this spoke does not hold, made from items of the council's digest
    /// that checked out alone (`spokes_sync::council::digest`), all of one blog and proved by
    /// one header: the settings that header signs and only those posts, with their bodies
    /// (for feeds and search). Not hosted here; its `manifests` stay empty (nothing of it is
    /// offered to peers). `None` for no items.
    pub fn of_digest(items: &[&spokes_sync::council::digest::CheckedItem]) -> Option<BlogView> {
        let first = items.first()?;
        let verification = Verification::Verified { changes: 0, statements: 1, checked_at: chrono::Utc::now().to_rfc3339() };
        let mut view = Self::empty(&first.item.blog_id, Some(&first.certificate), verification, None);
        view.hosted = false;
        view.rev = first.rev;
        view.settings = first.settings.blog.clone();
        view.spokes = first.settings.spokes.clone();
        let image_base = format!("/b/{}/images/", view.blog_id);
        let mut posts: Vec<std::sync::Arc<PostView>> = items.iter().map(|c| render_post(c.post.clone(), None, &image_base, true, Vec::new())).collect();
        posts.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
        view.set_posts(posts);
        Some(view)
    }

    /// The view of a set blog that failed verification: who it claims to be, and no posts.
    pub fn failed_set(blog_id: &BlogId, certificate: Option<&spokes_core::Certificate>, reason: &str) -> BlogView {
        Self::empty(blog_id, certificate, Verification::Failed { reason: reason.to_owned() }, None)
    }

    /// The state this view was built from as peers name it: the document's heads as hex
    /// (format 1) or the frontier's manifest names (a set of documents). Empty when there is
    /// nothing to offer.
    pub fn state(&self) -> Vec<String> {
        if self.manifests.is_empty() { self.heads.iter().map(ToString::to_string).collect() } else { self.manifests.clone() }
    }

    /// The post with this slug, if readers may see it yet.
    pub fn post(&self, slug: &str) -> Option<&PostView> {
        let now = chrono::Utc::now();
        self.posts.iter().map(|p| p.as_ref()).find(|p| p.slug == slug && p.date <= now)
    }

    /// The posts readers see now, newest first: a post dated in the future is scheduled, and
    /// stays hidden until its date (it is signed and replicated already, so it appears on
    /// every spoke at that time even if the writer's computer is off).
    pub fn visible(&self) -> Vec<&PostView> {
        let now = chrono::Utc::now();
        self.posts.iter().map(|p| p.as_ref()).filter(|p| p.date <= now).collect()
    }

    /// The title to show: the blog's title, or its ID.
    pub fn title(&self) -> &str {
        if self.settings.title.is_empty() { self.blog_id.as_str() } else { &self.settings.title }
    }

    /// Whether every change verified.
    pub fn verified(&self) -> bool {
        matches!(self.verification, Verification::Verified { .. })
    }
}

/// `p` rendered for readers (Markdown to sanitised HTML, excerpt, pictures, plain text),
/// reusing `old`'s rendering when the body is the same. With `hold` false the body is
/// rendered for its excerpt and pictures, then left out of the view ([`PostView::body`]);
/// `heads` are the document heads a set's manifest lists for it (empty for format 1).
fn render_post(p: spokes_core::Post, old: Option<&PostView>, image_base: &str, hold: bool, heads: Vec<automerge::ChangeHash>) -> std::sync::Arc<PostView> {
    let body_hash: [u8; 32] = blake3::hash(p.body.as_bytes()).into();
    let old = old.filter(|o| o.body_hash == body_hash);
    let (excerpt, images) = match old {
        Some(o) => (o.excerpt.clone(), o.images.clone()),
        None => (excerpt(&p.body, 280), referenced_images(&p.body)),
    };
    let body = hold.then(|| old.and_then(|o| o.body.clone()).unwrap_or_else(|| std::sync::Arc::new(PostBody::render(&p.body, image_base))));
    std::sync::Arc::new(PostView { excerpt, images, body_hash, body, heads, changes: 0, id: p.id, title: p.title, slug: p.slug, date: p.date, updated: p.updated, tags: p.tags })
}

/// [`render_post`] for post `p` of `set`: with the heads its manifest lists and the changes
/// the verification of `set` checked in its document (or `old`'s count, when `set` did not
/// check it again).
fn render_set_post(set: &VerifiedSet, p: spokes_core::Post, old: Option<&PostView>, image_base: &str) -> std::sync::Arc<PostView> {
    let heads = listed_heads(set, &p.id);
    let changes = set.changes_of(&p.id).or_else(|| old.map(|o| o.changes)).unwrap_or(0);
    let mut view = render_post(p, old, image_base, false, heads);
    if let Some(v) = std::sync::Arc::get_mut(&mut view) {
        v.changes = changes;
    }
    view
}

/// The heads `set`'s merged manifest lists for post `id` (empty when it lists none).
fn listed_heads(set: &VerifiedSet, id: &str) -> Vec<automerge::ChangeHash> {
    match set.merged().and_then(|m| m.entries().get(id)) {
        Some(spokes_core::manifest::Entry::Post(l)) => l.heads.clone(),
        _ => Vec::new(),
    }
}

/// The verification bundle of a blog (JSON, version 1): everything a reader needs to check
/// every post independently.
#[derive(Debug, Clone, Serialize)]
pub struct Bundle {
    /// Format version (1).
    pub version: u32,
    /// Blog ID.
    pub blog_id: String,
    /// Owner's fingerprint.
    pub fingerprint: String,
    /// ASCII-armored certificate.
    pub certificate: String,
    /// Signed statements.
    pub statements: Vec<BundleStatement>,
    /// The saved Automerge document, lowercase hex.
    pub document: String,
}

/// One statement in a bundle.
#[derive(Debug, Clone, Serialize)]
pub struct BundleStatement {
    /// The statement text (the signed bytes).
    pub statement: String,
    /// ASCII-armored detached signature.
    pub signature: String,
    /// Heads it names.
    pub heads: Vec<String>,
}

impl Bundle {
    /// Builds a bundle from a replica (the writer's static site carries one).
    pub fn from_replica(r: &mut Replica) -> Bundle {
        let document = r.doc.save();
        match &r.certificate {
            Some(c) => Self::from_parts(&r.blog_id, c, &document, &r.statements),
            None => Bundle { version: 1, blog_id: r.blog_id.to_string(), fingerprint: String::new(), certificate: String::new(), statements: vec![], document: hex::encode(&document) },
        }
    }

    /// Builds a bundle from a blog's stored parts: its ID, the author's certificate, the
    /// saved Automerge document and the signed statements.
    pub fn from_parts(blog_id: &BlogId, certificate: &spokes_core::Certificate, document: &[u8], statements: &[SignedStatement]) -> Bundle {
        Bundle {
            version: 1,
            blog_id: blog_id.to_string(),
            fingerprint: certificate.fingerprint(),
            certificate: String::from_utf8_lossy(&certificate.to_armored()).into_owned(),
            statements: statements
                .iter()
                .map(|s| BundleStatement {
                    statement: s.statement.clone(),
                    signature: s.armored_signature().map(|a| String::from_utf8_lossy(&a).into_owned()).unwrap_or_default(),
                    heads: Statement::parse(s.statement.as_bytes()).map(|st| st.heads.iter().map(|h| h.to_string()).collect()).unwrap_or_default(),
                })
                .collect(),
            document: hex::encode(document),
        }
    }
}

/// The verification bundle of a blog kept as a set of documents (JSON, version 2): the
/// signed manifests (header, signature, settings, leaves) and the live posts' documents. A
/// post that is gone is not in it.
#[derive(Debug, Clone, Serialize)]
pub struct SetBundle {
    /// Format version (2).
    pub version: u32,
    /// Blog ID.
    pub blog_id: String,
    /// Owner's fingerprint.
    pub fingerprint: String,
    /// ASCII-armored certificate.
    pub certificate: String,
    /// The manifests of the frontier.
    pub manifests: Vec<spokes_sync::set::StoredManifest>,
    /// Each live post's saved Automerge document, lowercase hex, by post ID.
    pub posts: std::collections::BTreeMap<String, String>,
}

impl SetBundle {
    /// The bundle of a verified set, with `documents` the saved documents of its live posts.
    pub fn of(set: &VerifiedSet, documents: &std::collections::BTreeMap<String, Vec<u8>>) -> SetBundle {
        let cert = set.certificate();
        SetBundle {
            version: 2,
            blog_id: set.blog_id().to_string(),
            fingerprint: cert.map(|c| c.fingerprint()).unwrap_or_default(),
            certificate: cert.map(|c| String::from_utf8_lossy(&c.to_armored()).into_owned()).unwrap_or_default(),
            manifests: set.frontier().iter().map(spokes_sync::set::StoredManifest::of).collect(),
            posts: documents.iter().filter(|(id, _)| set.merged().is_some_and(|m| m.posts().any(|(p, _)| p == *id))).map(|(id, d)| (id.clone(), hex::encode(d))).collect(),
        }
    }
}

/// A bundle of either version, as `/b/{blog}/bundle.json` serves it.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum AnyBundle {
    /// A blog kept as one document.
    V1(Bundle),
    /// A blog kept as a set of documents.
    V2(SetBundle),
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::{Identity, Post};

    fn signed(doc: &mut BlogDoc, key: &mut spokes_core::SigningKey, blog_id: &BlogId, statements: &mut Vec<SignedStatement>) -> Replica {
        statements.push(Statement::new(blog_id.clone(), &doc.heads()).sign(key).unwrap());
        Replica { blog_id: blog_id.clone(), doc: doc.automerge().fork(), certificate: None, statements: statements.clone(), saved: Default::default() }
    }

    /// The diff-based rebuild gives exactly what a full build gives.
    #[test]
    fn a_rebuild_from_the_previous_view_equals_a_full_build() {
        let id = Identity::generate("Ada", "pw").unwrap();
        let mut key = id.unlock("pw").unwrap();
        let cert = id.certificate();
        let (blog_id, mut doc) = BlogDoc::create_blog(&cert.fingerprint(), &BlogSettings { title: "T".into(), ..Default::default() });
        let mut posts: Vec<Post> = (0..4).map(|i| Post::new(&format!("Post {i}"), &format!("Body *{i}*"))).collect();
        for p in &mut posts {
            p.state = PostState::Published;
            doc.put_post(p).unwrap();
        }
        doc.commit("four");
        let mut statements = Vec::new();
        let mut r1 = signed(&mut doc, &mut key, &blog_id, &mut statements);
        r1.certificate = Some(cert.clone());
        let v1 = BlogView::build(&mut r1);
        assert!(v1.verified(), "{:?}", v1.verification);
        assert_eq!(v1.posts.len(), 4);

        // Change one body and one title, unpublish one, delete one, add one.
        doc.splice_body(&posts[0].id, 0, 0, "New ").unwrap();
        posts[1].title = "Renamed".into();
        doc.put_post(&posts[1]).unwrap();
        posts[2].state = PostState::Unpublished;
        doc.put_post(&posts[2]).unwrap();
        doc.delete_post(&posts[3].id).unwrap();
        let mut extra = Post::new("Extra", "more");
        extra.state = PostState::Published;
        doc.put_post(&extra).unwrap();
        doc.commit("changes");
        let mut r2 = signed(&mut doc, &mut key, &blog_id, &mut statements);
        r2.certificate = Some(cert.clone());
        let mut r3 = Replica { blog_id: blog_id.clone(), doc: r2.doc.fork(), certificate: Some(cert), statements: r2.statements.clone(), saved: Default::default() };
        let incremental = BlogView::rebuild(&mut r2, Some(&v1));
        let full = BlogView::build(&mut r3);
        let key_of = |v: &BlogView| v.posts.iter().map(|p| (p.id.clone(), p.title.clone(), p.slug.clone(), p.body.as_ref().map(|b| b.html.clone()), p.date)).collect::<Vec<_>>();
        assert_eq!(key_of(&incremental), key_of(&full));
        assert_eq!(incremental.posts.len(), 3);
        assert!(incremental.posts.iter().any(|p| p.body.as_ref().is_some_and(|b| b.html.contains("New Body"))));
        // The replica's document is given back intact.
        assert_eq!(r2.doc.get_heads(), r3.doc.get_heads());
    }
}
