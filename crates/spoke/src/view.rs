//! What readers see of a blog: its published posts rendered and sanitised, plus the result
//! of verifying every change against the author's signatures. Rebuilt whenever the stored
//! blog changes.

use crate::store::StoredBlog;
use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use spokes_core::render::{excerpt, markdown_to_html};
use spokes_core::statement::Statement;
use spokes_core::{BlogDoc, BlogId, BlogSettings, PostState, SignedStatement, SpokeRef};
use spokes_sync::session::{Replica, verify_replica};

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
    /// Sanitised HTML body.
    pub html: String,
    /// Plain-text excerpt.
    pub excerpt: String,
    /// BLAKE3 hash of the Markdown body the HTML was rendered from.
    #[serde(skip)]
    pub body_hash: [u8; 32],
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
    /// Published posts, newest first.
    pub posts: Vec<PostView>,
    /// Verification result.
    pub verification: Verification,
    /// Spokes the author lists.
    pub spokes: Vec<SpokeRef>,
}

impl BlogView {
    /// Builds the view from a stored replica. A blog that fails verification shows no posts.
    pub fn build(replica: &mut Replica) -> BlogView {
        Self::rebuild(replica, None)
    }

    /// Like [`BlogView::build`], reusing the rendered HTML of `previous` for every post whose
    /// Markdown body is unchanged, so a publish renders only the posts it changed.
    pub fn rebuild(replica: &mut Replica, previous: Option<&BlogView>) -> BlogView {
        let fingerprint = replica.certificate.as_ref().map(|c| c.fingerprint()).unwrap_or_default();
        let author = replica.certificate.as_ref().and_then(|c| c.user_id()).unwrap_or_default();
        let verification = match verify_replica(replica) {
            Ok(changes) => Verification::Verified { changes, statements: replica.statements.len(), checked_at: chrono::Utc::now().to_rfc3339() },
            Err(e) => Verification::Failed { reason: e.to_string() },
        };
        let mut view = BlogView { blog_id: replica.blog_id.clone(), settings: BlogSettings::default(), fingerprint, author, posts: vec![], verification, spokes: vec![] };
        if replica.doc.get_heads().is_empty() {
            return view;
        }
        let Ok(doc) = BlogDoc::from_automerge(replica.doc.fork()) else {
            view.verification = Verification::Failed { reason: "the document does not follow the Spokes schema".into() };
            return view;
        };
        view.settings = doc.settings();
        view.spokes = doc.spokes();
        if matches!(view.verification, Verification::Verified { .. }) {
            let rendered: std::collections::HashMap<(&str, [u8; 32]), &PostView> = previous.map(|v| v.posts.iter().map(|p| ((p.id.as_str(), p.body_hash), p)).collect()).unwrap_or_default();
            view.posts = doc
                .posts()
                .into_iter()
                .filter(|p| p.state == PostState::Published)
                .map(|p| {
                    let body_hash = blake3::hash(p.body.as_bytes()).into();
                    let (html, excerpt) = match rendered.get(&(p.id.as_str(), body_hash)) {
                        Some(o) => (o.html.clone(), o.excerpt.clone()),
                        None => (markdown_to_html(&p.body), excerpt(&p.body, 280)),
                    };
                    PostView { html, excerpt, body_hash, id: p.id, title: p.title, slug: p.slug, date: p.date, updated: p.updated, tags: p.tags }
                })
                .collect();
        }
        view
    }

    /// The post with this slug.
    pub fn post(&self, slug: &str) -> Option<&PostView> {
        self.posts.iter().find(|p| p.slug == slug)
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
    /// Builds a bundle from stored data.
    pub fn new(b: &StoredBlog, statements: Vec<SignedStatement>) -> Bundle {
        Bundle {
            version: 1,
            blog_id: b.blog_id.to_string(),
            fingerprint: b.fingerprint.clone(),
            certificate: String::from_utf8_lossy(&b.certificate.to_armored()).into_owned(),
            statements: statements
                .iter()
                .map(|s| BundleStatement {
                    statement: s.statement.clone(),
                    signature: s.armored_signature().map(|a| String::from_utf8_lossy(&a).into_owned()).unwrap_or_default(),
                    heads: Statement::parse(s.statement.as_bytes()).map(|st| st.heads.iter().map(|h| h.to_string()).collect()).unwrap_or_default(),
                })
                .collect(),
            document: hex::encode(&b.document),
        }
    }
}
