//! The blog document and the drafts document.
//!
//! Both are Automerge documents with the same post layout; the root of each carries
//! `schema` (currently [`SCHEMA_VERSION`]) and `kind` (`"blog"` or `"drafts"`) from the first
//! change. Text fields (post titles and bodies) are Automerge `Text` indexed in UTF-16 code
//! units, the unit the editor in the webview counts in.
//!
//! Root layout (schema 1):
//!
//! ```text
//! schema: u64 = 1
//! kind: "blog" | "drafts"
//! blog_id: str            32 lowercase hex characters
//! owner: str              fingerprint of the author's certificate, uppercase hex
//! settings: { title, description, language, handle }   (strings)
//! spokes: [ { endpoint: str, addrs: [str] } ]          spokes chosen by the author
//! posts: { <post id>: { title: Text, body: Text, slug: str, tags: [str],
//!                        date: str (RFC 3339), updated: str (RFC 3339),
//!                        state: "draft" | "published" | "unpublished" } }
//! ```

use std::collections::BTreeMap;
use automerge::{
    AutoCommit, ChangeHash, LoadOptions, ObjId, ObjType, ReadDoc, ROOT, ScalarValue, TextEncoding,
    Value, transaction::Transactable,
};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The schema version written into every new document's root as `schema`.
pub const SCHEMA_VERSION: u64 = 1;

/// Errors of the document layer.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// The bytes are not an Automerge document (truncated, corrupt, or another format).
    #[error("the document file is damaged or not a Spokes document: {0}")]
    Corrupt(String),
    /// The document was written by a newer Spokes with a schema this version does not know.
    #[error("the document uses schema version {found}, this version of Spokes reads up to {SCHEMA_VERSION}")]
    UnknownSchema {
        /// Schema version found in the document.
        found: u64,
    },
    /// An edit does not fit the text it was made for: the editor and the document disagree.
    #[error("the edit does not fit the post's text ({0}); reload the post")]
    EditMismatch(String),
    /// A required field is missing or has the wrong type.
    #[error("the document is missing `{0}` or it has the wrong type")]
    Missing(&'static str),
    /// No post with this ID.
    #[error("no post with ID {0}")]
    NoSuchPost(String),
    /// A blog ID that is not 32 lowercase hex characters.
    #[error("`{0}` is not a blog ID (32 hex characters)")]
    BadBlogId(String),
    /// The document names another blog, or none.
    #[error("the document is not blog {0}")]
    NotThisBlog(BlogId),
    /// The document names another owner, or none.
    #[error("the document is not owned by certificate {0}")]
    NotOwnedBy(String),
    /// The blog ID was not derived from the owner's certificate ([`BlogId::is_bound_to`]):
    /// someone else's document under a blog's ID.
    #[error("blog ID {blog_id} was not made for certificate {fingerprint}")]
    UnboundId {
        /// The blog ID.
        blog_id: BlogId,
        /// The certificate it was checked against.
        fingerprint: String,
    },
    /// An error reported by Automerge.
    #[error("document operation failed: {0}")]
    Automerge(#[from] automerge::AutomergeError),
}

/// The fixed identifier of one blog: 16 random bytes, written as 32 lowercase hex characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BlogId(String);

/// Domain-separation tag hashed into a bound blog ID ([`BlogId::bound_to`]).
pub const BLOG_ID_TAG: &str = "spokes blog-id v1";

impl BlogId {
    /// A new random blog ID, bound to no certificate: for tests of other layers. A blog that
    /// travels gets its ID from [`BlogId::bound_to`].
    #[expect(clippy::disallowed_methods, reason = "draws randomness; the layout issue passes it in")]
    pub fn generate() -> Self {
        let bytes: [u8; 16] = rand::random();
        BlogId(hex::encode(bytes))
    }

    /// A new blog ID bound to its owner's certificate: the first 16 bytes of
    /// BLAKE3(`spokes blog-id v1`, 0x00, fingerprint, 0x00, salt), where `fingerprint` is the
    /// owner's certificate fingerprint as [`BlogDoc::owner`] stores it (uppercase hex) and
    /// `salt` is 16 random bytes written as 32 lowercase hex characters. Returns the ID and the
    /// salt, which the blog document keeps as `blog_id_salt` so that anyone can check the
    /// binding ([`BlogId::is_bound_to`]). Without it, whoever reached a spoke first with a
    /// blog's (public) ID could host a document of their own under it there.
    #[expect(clippy::disallowed_methods, reason = "draws randomness; the layout issue passes it in")]
    pub fn bound_to(fingerprint: &str) -> (BlogId, String) {
        let salt = hex::encode(rand::random::<[u8; 16]>());
        (Self::derive(fingerprint, &salt), salt)
    }

    /// The blog ID bound to `fingerprint` with `salt` (32 lowercase hex characters that the
    /// caller drew at random), as [`BlogId::bound_to`] makes it.
    pub fn bound_with(fingerprint: &str, salt: &str) -> BlogId {
        Self::derive(fingerprint, salt)
    }

    fn derive(fingerprint: &str, salt: &str) -> BlogId {
        let mut h = blake3::Hasher::new();
        h.update(BLOG_ID_TAG.as_bytes());
        h.update(&[0]);
        h.update(fingerprint.as_bytes());
        h.update(&[0]);
        h.update(salt.as_bytes());
        BlogId(hex::encode(&h.finalize().as_bytes()[..16]))
    }

    /// Whether this ID was made for the certificate `fingerprint` with `salt`, as
    /// [`BlogId::bound_to`] makes one. Finding another certificate and salt that give the same
    /// ID is a second preimage of a 128-bit hash.
    pub fn is_bound_to(&self, fingerprint: &str, salt: &str) -> bool {
        salt.len() == 32 && salt.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) && Self::derive(fingerprint, salt) == *self
    }
    /// The 32-character lowercase hex form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for BlogId {
    type Err = DocError;
    fn from_str(s: &str) -> Result<Self, DocError> {
        if s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(BlogId(s.to_owned()))
        } else {
            Err(DocError::BadBlogId(s.chars().take(80).collect()))
        }
    }
}
impl TryFrom<String> for BlogId {
    type Error = DocError;
    fn try_from(s: String) -> Result<Self, DocError> {
        s.parse()
    }
}
impl From<BlogId> for String {
    fn from(b: BlogId) -> String {
        b.0
    }
}
impl fmt::Display for BlogId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which of the two documents this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    /// What is published; signed and sent to spokes.
    Blog,
    /// Unpublished posts and edits; never leaves the machine.
    Drafts,
}
impl DocKind {
    fn as_str(self) -> &'static str {
        match self {
            DocKind::Blog => "blog",
            DocKind::Drafts => "drafts",
        }
    }
}

/// Blog-wide settings shown to readers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlogSettings {
    /// The blog's name.
    pub title: String,
    /// One or two sentences under the title.
    pub description: String,
    /// BCP 47 language tag, for example `en`.
    pub language: String,
    /// Short name readers may know the author by.
    pub handle: String,
    /// The blog's name in its council's DNS zone, bound to the blog and signed by its author
    /// ([`crate::names`]); absent until the writer claims one. Stored as its JSON text under
    /// `settings.name_binding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<crate::names::NameBinding>,
    /// A domain the writer owns that spokes serve the blog under once it is proven
    /// ([`crate::names::DomainBinding`]); stored as JSON text under `settings.domain_binding`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<crate::names::DomainBinding>,
}

/// Publication state of a post.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostState {
    /// Only in the drafts document.
    Draft,
    /// Visible to readers.
    Published,
    /// Was published, withdrawn by the author (history keeps it).
    Unpublished,
}
impl PostState {
    /// The stored form: `draft`, `published`, `unpublished`.
    pub fn as_str(self) -> &'static str {
        match self {
            PostState::Draft => "draft",
            PostState::Published => "published",
            PostState::Unpublished => "unpublished",
        }
    }
    fn parse(s: &str) -> PostState {
        match s {
            "published" => PostState::Published,
            "unpublished" => PostState::Unpublished,
            _ => PostState::Draft,
        }
    }
}

/// Where a spoke is: the one address type of Spokes. Listed in the blog document (as
/// [`SpokeRef`]), kept in the writer's recovery file, carried in tickets (with an invite token),
/// in the writer's chosen spokes (with the token and when it was added) and in council
/// membership (where name and site are required). JSON: `{"endpoint", "addrs": ["ip:port"],
/// "web"?, "name"?, "relay"?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpokeAddr {
    /// The spoke's iroh endpoint ID (z-base-32 or hex, as iroh prints it).
    pub endpoint: String,
    /// Socket addresses (`ip:port`) where the spoke listens for sync.
    pub addrs: Vec<std::net::SocketAddr>,
    /// The spoke's reader site (`http://…` or `https://…`, from its ticket), so that every
    /// spoke's pages can send readers to the others; absent in blogs written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
    /// The operator's name for the spoke, from its ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The spoke's relay (`https://…/`, from its ticket), through which it is dialed when no
    /// direct path works (a network that blocks UDP); absent for spokes without HTTPS and in
    /// blogs written before it. Peer data: the dialer uses it only if it is an `https` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
}

/// A spoke the author chose to host the blog, as the blog document lists it.
pub type SpokeRef = SpokeAddr;

impl SpokeAddr {
    /// The spoke's name, or the start of its endpoint ID.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.endpoint.chars().take(12).collect())
    }
}

/// A post as plain data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// Stable post ID: 16 lowercase hex characters.
    pub id: String,
    /// Title (plain text).
    pub title: String,
    /// Body (Markdown).
    pub body: String,
    /// URL-safe name used in the permalink.
    pub slug: String,
    /// Tags, in the author's order.
    pub tags: Vec<String>,
    /// Publication date shown to readers.
    pub date: DateTime<FixedOffset>,
    /// Last time the author changed the post.
    pub updated: DateTime<FixedOffset>,
    /// Publication state.
    pub state: PostState,
}

impl Post {
    /// A new post with a fresh ID, dated now.
    #[expect(clippy::disallowed_methods, reason = "reads the clock; the layout issue passes the time in; draws randomness; the layout issue passes it in")]
    pub fn new(title: &str, body: &str) -> Post {
        let now = Utc::now().fixed_offset();
        let bytes: [u8; 8] = rand::random();
        Post {
            id: hex::encode(bytes),
            title: title.to_owned(),
            body: body.to_owned(),
            slug: slugify(title),
            tags: Vec::new(),
            date: now,
            updated: now,
            state: PostState::Draft,
        }
    }
}

/// Turns a title into a slug: lowercase letters and digits separated by single hyphens.
/// Returns `"post"` when nothing usable is left.
pub fn slugify(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').chars().take(80).collect::<String>();
    if out.is_empty() { "post".into() } else { out.trim_end_matches('-').to_owned() }
}

/// Whether `s` is a slug as [`slugify`] makes them: 1 to 80 lowercase letters, digits and
/// single inner hyphens; never `.`, `/`, `\\` or `..`, so a slug is safe as one path
/// component of a permalink, an exported file or an archive entry.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty() && slugify(s) == s
}

/// How a post's title and body are held in a document.
///
/// Automerge text keeps one operation per character, which lets edits made on two computers
/// merge character by character, but costs about a microsecond and tens of bytes per
/// character to create, load and sync. The published blog is written only by publishing
/// (drafts are where edits merge), so it holds each revision of a field as one string; a
/// blog of 20 MB of Markdown is then some thousands of operations, not twenty million.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextForm {
    /// Automerge text: the drafts document, where the editor's splices merge.
    Editable,
    /// One string per revision of the field: the blog document, and imported drafts until
    /// their first edit (which turns the body into text, [`BlogDoc::apply_splices`]).
    Snapshot,
}

impl TextForm {
    /// The form a document of `kind` writes: snapshots in the blog, text in drafts.
    pub fn for_kind(kind: Option<DocKind>) -> TextForm {
        match kind {
            Some(DocKind::Blog) => TextForm::Snapshot,
            _ => TextForm::Editable,
        }
    }
}

/// A blog or drafts document.
#[derive(Debug)]
pub struct BlogDoc {
    doc: AutoCommit,
    /// [`BlogDoc::conflicted_post_ids`] as of these heads.
    conflicts: Option<(Vec<ChangeHash>, Vec<String>)>,
}

fn load_options() -> LoadOptions<'static> {
    LoadOptions::new().text_encoding(TextEncoding::Utf16CodeUnit)
}

/// Loads raw Automerge bytes with UTF-16 text indexing, without checking the schema.
/// Used by sync code that must handle documents before their first change arrives.
pub fn load_automerge(bytes: &[u8]) -> Result<AutoCommit, DocError> {
    AutoCommit::load_with_options(bytes, load_options()).map_err(|e| DocError::Corrupt(e.to_string()))
}

/// Operations in the changes of `doc` after `heads` (all of them for no heads), from the
/// changes' metadata: no change is decoded.
pub fn ops_after(doc: &mut AutoCommit, heads: &[automerge::ChangeHash]) -> u64 {
    doc.get_changes_meta(heads).iter().map(|c| (c.max_op + 1).saturating_sub(c.start_op)).sum()
}

/// The changes of `doc` after `heads` (all of them for no heads), each as an Automerge change
/// chunk, deflate-compressed where that makes it smaller (Automerge's compressed change chunk,
/// which every Automerge loader reads; `save_after` writes them uncompressed). What a peer
/// lacks, in fewer bytes: a post's words compress to about a third.
pub fn changes_after(doc: &mut AutoCommit, heads: &[automerge::ChangeHash]) -> Vec<u8> {
    let mut out = Vec::new();
    for mut c in doc.get_changes(heads) {
        out.extend_from_slice(&c.bytes());
    }
    out
}

/// An empty Automerge document with UTF-16 text indexing.
pub fn empty_automerge() -> AutoCommit {
    AutoCommit::new_with_encoding(TextEncoding::Utf16CodeUnit)
}

/// The number of posts in `doc` whose `state` is `published` (what readers of the blog see;
/// unpublished posts stay in the document for its history). 0 for a document without posts.
pub fn published_count(doc: &AutoCommit) -> usize {
    let Ok(Some((_, posts))) = doc.get(ROOT, "posts") else { return 0 };
    doc.map_range(&posts, ..)
        .filter(|item| match &item.value {
            automerge::ValueRef::Object(ObjType::Map) => get_str(doc, &item.id(), "state").as_deref() == Some(PostState::Published.as_str()),
            _ => false,
        })
        .count()
}

/// Reads `obj[key]` now, or as of `at` (a set of heads) when given.
fn get_any(doc: &AutoCommit, obj: &ObjId, key: impl Into<automerge::Prop>, at: Option<&[ChangeHash]>) -> Option<(Value<'static>, ObjId)> {
    let r = match at {
        None => doc.get(obj, key),
        Some(h) => doc.get_at(obj, key, h),
    };
    r.ok()?.map(|(v, id)| (v.into_owned(), id))
}

fn get_str_at(doc: &AutoCommit, obj: &ObjId, key: &str, at: Option<&[ChangeHash]>) -> Option<String> {
    match get_any(doc, obj, key, at)? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        (Value::Object(ObjType::Text), id) => match at {
            None => doc.text(&id).ok(),
            Some(h) => doc.text_at(&id, h).ok(),
        },
        _ => None,
    }
}

/// Checks that the blog document `doc` names `blog_id` and the owner `fingerprint`, and that
/// the ID was made for that owner (its `blog_id_salt`, [`BlogId::is_bound_to`]). Spokes and
/// the app run it on every blog document they take in or serve.
///
/// Errors: [`DocError::NotThisBlog`], [`DocError::NotOwnedBy`], [`DocError::UnboundId`].
pub fn check_identity(doc: &AutoCommit, blog_id: &BlogId, fingerprint: &str) -> Result<(), DocError> {
    if get_str(doc, &ROOT, "blog_id").as_deref() != Some(blog_id.as_str()) {
        return Err(DocError::NotThisBlog(blog_id.clone()));
    }
    if get_str(doc, &ROOT, "owner").as_deref() != Some(fingerprint) {
        return Err(DocError::NotOwnedBy(fingerprint.to_owned()));
    }
    match get_str(doc, &ROOT, "blog_id_salt") {
        Some(salt) if blog_id.is_bound_to(fingerprint, &salt) => Ok(()),
        _ => Err(DocError::UnboundId { blog_id: blog_id.clone(), fingerprint: fingerprint.to_owned() }),
    }
}

fn get_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<String> {
    get_str_at(doc, obj, key, None)
}

fn get_obj_at(doc: &AutoCommit, obj: &ObjId, key: &str, at: Option<&[ChangeHash]>) -> Option<ObjId> {
    match get_any(doc, obj, key, at)? {
        (Value::Object(_), id) => Some(id),
        _ => None,
    }
}

fn get_obj(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<ObjId> {
    get_obj_at(doc, obj, key, None)
}

fn parse_date(s: Option<String>) -> DateTime<FixedOffset> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .unwrap_or_else(|| DateTime::UNIX_EPOCH.fixed_offset())
}

impl BlogDoc {
    /// Creates a new document with its schema, kind, blog ID, owner and settings in the first change.
    ///
    /// A drafts document starts with a *genesis* change that is the same on every device of
    /// the blog (fixed actor derived from the blog ID, time 0, settings left empty), so that
    /// the drafts of two devices share their root objects and merge field by field; the
    /// settings follow in a second change by this device's own actor.
    pub fn create(kind: DocKind, blog_id: &BlogId, owner: &str, settings: &BlogSettings) -> BlogDoc {
        Self::create_with_salt(kind, blog_id, owner, settings, None)
    }

    /// Creates a new blog (published) document under a new blog ID bound to `owner`
    /// ([`BlogId::bound_to`]); the salt is kept as `blog_id_salt` in the first change. The
    /// drafts document of the blog is then made with [`BlogDoc::create`] and this ID.
    pub fn create_blog(owner: &str, settings: &BlogSettings) -> (BlogId, BlogDoc) {
        let (blog_id, salt) = BlogId::bound_to(owner);
        let doc = Self::create_bound(&blog_id, &salt, owner, settings);
        (blog_id, doc)
    }

    /// Creates a blog (published) document under `blog_id`, made for `owner` with `salt` by
    /// [`BlogId::bound_to`]: as [`BlogDoc::create_blog`], for a caller that keeps the ID and
    /// salt itself. A wrong salt makes a document every spoke refuses
    /// ([`check_identity`]).
    pub fn create_bound(blog_id: &BlogId, salt: &str, owner: &str, settings: &BlogSettings) -> BlogDoc {
        Self::create_with_salt(DocKind::Blog, blog_id, owner, settings, Some(salt))
    }

    fn create_with_salt(kind: DocKind, blog_id: &BlogId, owner: &str, settings: &BlogSettings, salt: Option<&str>) -> BlogDoc {
        let mut doc = empty_automerge();
        let shared = kind == DocKind::Drafts;
        if shared {
            let seed = blake3::hash(format!("spokes drafts genesis v1 {blog_id}").as_bytes());
            doc.set_actor(automerge::ActorId::from(&seed.as_bytes()[..16]));
        }
        let first = if shared { BlogSettings::default() } else { settings.clone() };
        // Writes into a fresh document cannot fail.
        let _ = (|| -> Result<(), automerge::AutomergeError> {
            doc.put(ROOT, "schema", SCHEMA_VERSION)?;
            doc.put(ROOT, "kind", kind.as_str())?;
            doc.put(ROOT, "blog_id", blog_id.as_str())?;
            doc.put(ROOT, "owner", owner)?;
            if let Some(salt) = salt {
                doc.put(ROOT, "blog_id_salt", salt)?;
            }
            let s = doc.put_object(ROOT, "settings", ObjType::Map)?;
            doc.put(&s, "title", first.title.as_str())?;
            doc.put(&s, "description", first.description.as_str())?;
            doc.put(&s, "language", first.language.as_str())?;
            doc.put(&s, "handle", first.handle.as_str())?;
            doc.put_object(ROOT, "spokes", ObjType::List)?;
            doc.put_object(ROOT, "posts", ObjType::Map)?;
            Ok(())
        })();
        let mut d = BlogDoc { doc, conflicts: None };
        if shared {
            d.doc.commit_with(automerge::transaction::CommitOptions::default().with_message("create".to_owned()).with_time(0));
            d.doc.set_actor(automerge::ActorId::random());
            if *settings != BlogSettings::default() {
                let _ = d.set_settings(settings);
                d.commit("settings");
            }
        } else {
            d.commit("create");
        }
        d
    }

    /// Creates the drafts document of one post (profile layout 4, one document per draft):
    /// the blog's drafts genesis ([`BlogDoc::create`]), then a change that makes the post's
    /// empty map, by a fixed actor derived from the blog ID and post ID at time 0. Both changes
    /// are the same on every computer, so two computers that each made the document of post
    /// `id` (moving their drafts to one document per post) merge it field by field instead of
    /// one post object hiding the other. The post's fields are written afterwards, by this
    /// computer's own actor ([`BlogDoc::put_post_as`]).
    pub fn create_post_draft(blog_id: &BlogId, owner: &str, id: &str) -> BlogDoc {
        let mut d = Self::create(DocKind::Drafts, blog_id, owner, &BlogSettings::default());
        let seed = blake3::hash(format!("spokes draft post v1 {blog_id} {id}").as_bytes());
        d.doc.set_actor(automerge::ActorId::from(&seed.as_bytes()[..16]));
        if let Ok(posts) = d.posts_obj() {
            let _ = d.doc.put_object(&posts, id, ObjType::Map);
        }
        d.doc.commit_with(automerge::transaction::CommitOptions::default().with_message("post".to_owned()).with_time(0));
        d.doc.set_actor(automerge::ActorId::random());
        d
    }

    /// One string field of a post as stored (`updated`, `deleted_at`, or a field only the
    /// drafts index keeps); `None` if the post or the field is missing or not a string.
    pub fn post_field(&self, id: &str, field: &str) -> Option<String> {
        get_str(&self.doc, &self.post_obj(id).ok()?, field)
    }

    /// Whether `other` grew from the same first change (so the two merge post by post rather
    /// than one replacing the other's root objects).
    pub fn same_origin(&self, other: &BlogDoc) -> bool {
        matches!((self.posts_obj(), other.posts_obj()), (Ok(a), Ok(b)) if a == b)
    }

    /// Loads a saved document and checks its schema version.
    ///
    /// Errors: [`DocError::Corrupt`] for bytes that are not a complete Automerge document,
    /// [`DocError::UnknownSchema`] for a newer schema, [`DocError::Missing`] for a document
    /// that lacks the root fields.
    pub fn load(bytes: &[u8]) -> Result<BlogDoc, DocError> {
        let doc = load_automerge(bytes)?;
        Self::from_automerge(doc)
    }

    /// Wraps an Automerge document after checking its schema.
    pub fn from_automerge(doc: AutoCommit) -> Result<BlogDoc, DocError> {
        Self::try_from_automerge(doc).map_err(|b| b.0)
    }

    /// [`BlogDoc::from_automerge`] that gives the document back when its schema is wrong.
    pub fn try_from_automerge(doc: AutoCommit) -> Result<BlogDoc, Box<(DocError, AutoCommit)>> {
        let schema = match doc.get(ROOT, "schema") {
            Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                ScalarValue::Uint(n) => *n,
                ScalarValue::Int(n) if *n >= 0 => *n as u64,
                _ => return Err(Box::new((DocError::Missing("schema"), doc))),
            },
            Ok(_) => return Err(Box::new((DocError::Missing("schema"), doc))),
            Err(e) => return Err(Box::new((e.into(), doc))),
        };
        if schema > SCHEMA_VERSION {
            return Err(Box::new((DocError::UnknownSchema { found: schema }, doc)));
        }
        let d = BlogDoc { doc, conflicts: None };
        match d.posts_obj() {
            Ok(_) => Ok(d),
            Err(e) => Err(Box::new((e, d.doc))),
        }
    }

    /// The underlying Automerge document.
    pub fn automerge(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    /// Consumes the wrapper.
    pub fn into_automerge(self) -> AutoCommit {
        self.doc
    }

    /// Saves the whole document (Automerge binary format, compressed columns).
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// Current heads, sorted.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        let mut h = self.doc.get_heads();
        h.sort();
        h
    }

    /// Commits pending operations as one change with `message`; `None` if nothing was pending.
    #[expect(clippy::disallowed_methods, reason = "reads the clock; the layout issue passes the time in")]
    pub fn commit(&mut self, message: &str) -> Option<ChangeHash> {
        self.doc.commit_with(
            automerge::transaction::CommitOptions::default()
                .with_message(message.to_owned())
                .with_time(Utc::now().timestamp()),
        )
    }

    /// Document kind.
    pub fn kind(&self) -> Option<DocKind> {
        match get_str(&self.doc, &ROOT, "kind")?.as_str() {
            "blog" => Some(DocKind::Blog),
            "drafts" => Some(DocKind::Drafts),
            _ => None,
        }
    }

    /// The blog ID stored in the document.
    pub fn blog_id(&self) -> Result<BlogId, DocError> {
        get_str(&self.doc, &ROOT, "blog_id").ok_or(DocError::Missing("blog_id"))?.parse()
    }

    /// The owner's certificate fingerprint (uppercase hex).
    pub fn owner(&self) -> Option<String> {
        get_str(&self.doc, &ROOT, "owner")
    }

    /// The salt that binds the blog ID to the owner (`blog_id_salt`, 32 hex characters), if
    /// the document has one ([`BlogId::bound_to`]).
    pub fn id_salt(&self) -> Option<String> {
        get_str(&self.doc, &ROOT, "blog_id_salt")
    }

    /// Blog settings; missing fields read as empty strings.
    pub fn settings(&self) -> BlogSettings {
        let Some(s) = get_obj(&self.doc, &ROOT, "settings") else {
            return BlogSettings::default();
        };
        BlogSettings {
            title: get_str(&self.doc, &s, "title").unwrap_or_default(),
            description: get_str(&self.doc, &s, "description").unwrap_or_default(),
            language: get_str(&self.doc, &s, "language").unwrap_or_default(),
            handle: get_str(&self.doc, &s, "handle").unwrap_or_default(),
            name: get_str(&self.doc, &s, "name_binding").and_then(|j| serde_json::from_str(&j).ok()),
            domain: get_str(&self.doc, &s, "domain_binding").and_then(|j| serde_json::from_str(&j).ok()),
        }
    }

    /// Replaces the settings (only fields that changed are written).
    pub fn set_settings(&mut self, settings: &BlogSettings) -> Result<(), DocError> {
        let s = match get_obj(&self.doc, &ROOT, "settings") {
            Some(s) => s,
            None => self.doc.put_object(ROOT, "settings", ObjType::Map)?,
        };
        let old = self.settings();
        for (k, new, old) in [
            ("title", &settings.title, &old.title),
            ("description", &settings.description, &old.description),
            ("language", &settings.language, &old.language),
            ("handle", &settings.handle, &old.handle),
        ] {
            if new != old {
                self.doc.put(&s, k, new.as_str())?;
            }
        }
        if settings.name != old.name {
            match &settings.name {
                Some(n) => self.doc.put(&s, "name_binding", serde_json::to_string(n).unwrap_or_default())?,
                None => self.doc.delete(&s, "name_binding")?,
            }
        }
        if settings.domain != old.domain {
            match &settings.domain {
                Some(d) => self.doc.put(&s, "domain_binding", serde_json::to_string(d).unwrap_or_default())?,
                None => self.doc.delete(&s, "domain_binding")?,
            }
        }
        Ok(())
    }

    /// The spokes the author lists for this blog.
    pub fn spokes(&self) -> Vec<SpokeRef> {
        let Some(list) = get_obj(&self.doc, &ROOT, "spokes") else { return Vec::new() };
        let mut out = Vec::new();
        for i in 0..self.doc.length(&list) {
            let Ok(Some((Value::Object(ObjType::Map), m))) = self.doc.get(&list, i) else { continue };
            let Some(endpoint) = get_str(&self.doc, &m, "endpoint") else { continue };
            let mut addrs = Vec::new();
            if let Some(a) = get_obj(&self.doc, &m, "addrs") {
                for j in 0..self.doc.length(&a) {
                    if let Ok(Some((Value::Scalar(s), _))) = self.doc.get(&a, j)
                        && let ScalarValue::Str(s) = s.as_ref()
                        && let Ok(addr) = s.parse()
                    {
                        // An address that is not `ip:port` is left out.
                        addrs.push(addr);
                    }
                }
            }
            let web = get_str(&self.doc, &m, "web");
            let name = get_str(&self.doc, &m, "name");
            let relay = get_str(&self.doc, &m, "relay");
            out.push(SpokeRef { endpoint, addrs, web, name, relay });
        }
        out
    }

    /// Adds a spoke to the list, or replaces the addresses of one with the same endpoint.
    pub fn add_spoke(&mut self, spoke: &SpokeRef) -> Result<(), DocError> {
        let list = match get_obj(&self.doc, &ROOT, "spokes") {
            Some(l) => l,
            None => self.doc.put_object(ROOT, "spokes", ObjType::List)?,
        };
        let existing = self.spokes();
        if existing.contains(spoke) {
            return Ok(());
        }
        if let Some(i) = existing.iter().position(|s| s.endpoint == spoke.endpoint) {
            self.doc.delete(&list, i)?;
        }
        let len = self.doc.length(&list);
        let m = self.doc.insert_object(&list, len, ObjType::Map)?;
        self.doc.put(&m, "endpoint", spoke.endpoint.as_str())?;
        let a = self.doc.put_object(&m, "addrs", ObjType::List)?;
        for (j, addr) in spoke.addrs.iter().enumerate() {
            self.doc.insert(&a, j, addr.to_string())?;
        }
        if let Some(w) = &spoke.web {
            self.doc.put(&m, "web", w.as_str())?;
        }
        if let Some(n) = &spoke.name {
            self.doc.put(&m, "name", n.as_str())?;
        }
        if let Some(r) = &spoke.relay {
            self.doc.put(&m, "relay", r.as_str())?;
        }
        Ok(())
    }

    /// Removes the spoke with this endpoint ID from the list; `false` if it was not listed.
    pub fn remove_spoke(&mut self, endpoint: &str) -> Result<bool, DocError> {
        let Some(list) = get_obj(&self.doc, &ROOT, "spokes") else { return Ok(false) };
        match self.spokes().iter().position(|s| s.endpoint == endpoint) {
            Some(i) => {
                self.doc.delete(&list, i)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn posts_obj(&self) -> Result<ObjId, DocError> {
        get_obj(&self.doc, &ROOT, "posts").ok_or(DocError::Missing("posts"))
    }

    fn post_obj(&self, id: &str) -> Result<ObjId, DocError> {
        let posts = self.posts_obj()?;
        get_obj(&self.doc, &posts, id).ok_or_else(|| DocError::NoSuchPost(id.to_owned()))
    }

    /// IDs of all posts, in key order.
    pub fn post_ids(&self) -> Vec<String> {
        match self.posts_obj() {
            Ok(p) => self.doc.keys(&p).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// One post, or `None` if there is no post with this ID.
    pub fn post(&self, id: &str) -> Option<Post> {
        self.read_post(id, None)
    }

    /// The post as it was at `heads` (for example the heads a signed statement names);
    /// `None` if it did not exist then. Reads history in place, without copying the document.
    pub fn post_at(&self, id: &str, heads: &[ChangeHash]) -> Option<Post> {
        self.read_post(id, Some(heads))
    }

    fn read_post(&self, id: &str, at: Option<&[ChangeHash]>) -> Option<Post> {
        let posts = get_obj_at(&self.doc, &ROOT, "posts", at)?;
        let o = get_obj_at(&self.doc, &posts, id, at)?;
        let tags = get_obj_at(&self.doc, &o, "tags", at)
            .map(|t| {
                let len = match at {
                    None => self.doc.length(&t),
                    Some(h) => self.doc.length_at(&t, h),
                };
                (0..len)
                    .filter_map(|i| match get_any(&self.doc, &t, i, at)? {
                        (Value::Scalar(s), _) => match s.as_ref() {
                            ScalarValue::Str(s) => Some(s.to_string()),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let field = |k: &str| get_str_at(&self.doc, &o, k, at);
        Some(Post {
            id: id.to_owned(),
            title: field("title").unwrap_or_default(),
            body: field("body").unwrap_or_default(),
            // A slug from a document (synced, restored, imported or written by an older
            // version) is checked here, where every reader of posts passes: one that is not
            // a slug (`../../x`) is cleaned to one.
            slug: field("slug").map(|s| if is_slug(&s) { s } else { slugify(&s) }).unwrap_or_else(|| slugify(id)),
            tags,
            date: parse_date(field("date")),
            updated: parse_date(field("updated")),
            state: PostState::parse(&field("state").unwrap_or_default()),
        })
    }

    /// All posts, newest `date` first.
    pub fn posts(&self) -> Vec<Post> {
        let mut v: Vec<Post> = self.post_ids().iter().filter_map(|id| self.post(id)).collect();
        v.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.id.cmp(&b.id)));
        v
    }

    /// Every post with its other string fields (those a [`Post`] lacks, such as `deleted_at`
    /// or fields only a drafts index keeps), newest `date` first, read in one pass over the
    /// `posts` map (Automerge's `hydrate`): for 10,000 posts, a few times faster than reading
    /// each field with [`BlogDoc::post`] and [`BlogDoc::post_field`]. Values as those read.
    pub fn posts_with_fields(&self) -> Vec<(Post, BTreeMap<String, String>)> {
        use automerge::hydrate::Value as H;
        let Ok(posts) = self.posts_obj() else { return Vec::new() };
        let Ok(H::Map(all)) = self.doc.hydrate(&posts, None) else { return Vec::new() };
        let text = |v: &H| match v {
            H::Scalar(ScalarValue::Str(s)) => Some(s.to_string()),
            H::Text(t) => Some(t.to_string()),
            _ => None,
        };
        let mut out: Vec<(Post, BTreeMap<String, String>)> = all
            .iter()
            .filter_map(|(id, v)| {
                let H::Map(m) = &v.value else { return None };
                let mut fields: BTreeMap<String, String> = m.iter().filter_map(|(k, v)| Some((k.clone(), text(&v.value)?))).collect();
                let tags = match m.get("tags") {
                    Some(H::List(l)) => l.iter().filter_map(|t| match &t.value {
                        H::Scalar(ScalarValue::Str(s)) => Some(s.to_string()),
                        _ => None,
                    }).collect(),
                    _ => Vec::new(),
                };
                let updated = parse_date(fields.get("updated").cloned());
                let mut take = |k: &str| fields.remove(k);
                let post = Post {
                    id: id.clone(),
                    title: take("title").unwrap_or_default(),
                    body: take("body").unwrap_or_default(),
                    slug: take("slug").map(|s| if is_slug(&s) { s } else { slugify(&s) }).unwrap_or_else(|| slugify(id)),
                    tags,
                    date: parse_date(take("date")),
                    updated,
                    state: PostState::parse(&take("state").unwrap_or_default()),
                };
                Some((post, fields))
            })
            .collect();
        out.sort_by(|a, b| b.0.date.cmp(&a.0.date).then_with(|| a.0.id.cmp(&b.0.id)));
        out
    }

    /// Writes `post` into the document, its title and body in the document's own
    /// [`TextForm`] ([`TextForm::for_kind`]); other fields are written only when they changed.
    pub fn put_post(&mut self, post: &Post) -> Result<(), DocError> {
        let form = TextForm::for_kind(self.kind());
        self.put_post_as(post, form)
    }

    /// Writes `post` with its title and body in `form`. As [`TextForm::Editable`], text fields
    /// are Automerge text updated with a minimal diff (`update_text`), so concurrent edits
    /// elsewhere in the text merge. As [`TextForm::Snapshot`], a changed field is written
    /// whole as one string. Other fields are written only when they changed.
    pub fn put_post_as(&mut self, post: &Post, form: TextForm) -> Result<(), DocError> {
        let posts = self.posts_obj()?;
        let (o, old) = match get_obj(&self.doc, &posts, &post.id) {
            Some(o) => (o, self.post(&post.id)),
            None => (self.doc.put_object(&posts, post.id.as_str(), ObjType::Map)?, None),
        };
        for (key, value) in [("title", &post.title), ("body", &post.body)] {
            match form {
                TextForm::Editable => {
                    let t = self.text_obj(&o, key)?;
                    if self.doc.text(&t)? != *value {
                        self.doc.update_text(&t, value.as_str())?;
                    }
                }
                TextForm::Snapshot => {
                    // Written when it differs, or to settle values two computers wrote at once.
                    if old.is_none() || get_str(&self.doc, &o, key).as_deref() != Some(value.as_str()) || self.doc.get_all(&o, key)?.len() > 1 {
                        self.doc.put(&o, key, value.as_str())?;
                    }
                }
            }
        }
        let changed = |f: &dyn Fn(&Post) -> bool| old.as_ref().is_none_or(|o| !f(o));
        if changed(&|o| o.slug == post.slug) {
            self.doc.put(&o, "slug", post.slug.as_str())?;
        }
        if changed(&|o| o.date == post.date) {
            self.doc.put(&o, "date", post.date.to_rfc3339().as_str())?;
        }
        if changed(&|o| o.updated == post.updated) {
            self.doc.put(&o, "updated", post.updated.to_rfc3339().as_str())?;
        }
        if changed(&|o| o.state == post.state) {
            self.doc.put(&o, "state", post.state.as_str())?;
        }
        if changed(&|o| o.tags == post.tags) {
            let t = self.doc.put_object(&o, "tags", ObjType::List)?;
            for (i, tag) in post.tags.iter().enumerate() {
                self.doc.insert(&t, i, tag.as_str())?;
            }
        }
        Ok(())
    }

    /// Splices the body text of a post: deletes `delete` UTF-16 code units at `pos` and inserts
    /// `insert` there. This is the editor's path: character-level edits that merge.
    pub fn splice_body(&mut self, id: &str, pos: usize, delete: isize, insert: &str) -> Result<(), DocError> {
        let o = self.post_obj(id)?;
        let t = self.body_text(&o)?;
        self.doc.splice_text(&t, pos, delete, insert)?;
        Ok(())
    }

    /// Applies the editor's splices to a post's body, in order, after folding adjacent ones
    /// ([`crate::edit::coalesce`]). Nothing is applied unless every splice fits: each must lie
    /// within the text as the previous ones left it, and if `expected_len` is given the result
    /// must be that many UTF-16 code units long (the editor's own length, a cheap check that
    /// both sides hold the same text). Returns the number of splices applied.
    ///
    /// Errors: [`DocError::NoSuchPost`], [`DocError::EditMismatch`] (nothing was changed).
    pub fn apply_splices(&mut self, id: &str, splices: &[crate::edit::Splice], expected_len: Option<usize>) -> Result<usize, DocError> {
        let o = self.post_obj(id)?;
        self.splice_obj(&o, splices, expected_len)
    }

    /// The text object at `key` of post object `o`, created empty if missing or not text.
    fn text_obj(&mut self, o: &ObjId, key: &str) -> Result<ObjId, DocError> {
        match self.doc.get(o, key)? {
            Some((Value::Object(ObjType::Text), t)) => Ok(t),
            _ => Ok(self.doc.put_object(o, key, ObjType::Text)?),
        }
    }

    /// The body text object of post object `o`; a body held as a snapshot (an imported post)
    /// becomes editable text here, at its first edit.
    fn body_text(&mut self, o: &ObjId) -> Result<ObjId, DocError> {
        match self.doc.get(o, "body")? {
            Some((Value::Object(ObjType::Text), t)) => Ok(t),
            Some((Value::Scalar(v), _)) if matches!(v.as_ref(), ScalarValue::Str(_)) => {
                let current = get_str(&self.doc, o, "body").unwrap_or_default();
                let t = self.doc.put_object(o, "body", ObjType::Text)?;
                self.doc.splice_text(&t, 0, 0, &current)?;
                Ok(t)
            }
            _ => Err(DocError::Missing("body")),
        }
    }

    fn splice_obj(&mut self, o: &ObjId, splices: &[crate::edit::Splice], expected_len: Option<usize>) -> Result<usize, DocError> {
        let t = self.body_text(o)?;
        let folded = crate::edit::coalesce(splices);
        let mut len = self.doc.length(&t);
        for (i, s) in folded.iter().enumerate() {
            if s.pos.checked_add(s.delete).is_none_or(|end| end > len) {
                return Err(DocError::EditMismatch(format!("edit {i} reaches unit {} of {len}", s.pos.saturating_add(s.delete))));
            }
            len = len - s.delete + crate::edit::utf16_len(&s.insert);
        }
        if let Some(want) = expected_len
            && want != len
        {
            return Err(DocError::EditMismatch(format!("the text would be {len} units long, the editor has {want}")));
        }
        for s in &folded {
            self.doc.splice_text(&t, s.pos, s.delete as isize, &s.insert)?;
        }
        Ok(folded.len())
    }

    /// One autosave of the editor: [`BlogDoc::apply_splices`] to the body, the title set to
    /// `title` if given and different (minimal diff), and `updated` set to `now` if anything
    /// changed and the stored time is older than a minute (so a writing session does not add
    /// a timestamp to every save). Does not commit. Returns the splices applied and the old
    /// title if the title changed.
    ///
    /// Errors: as [`BlogDoc::apply_splices`]; nothing is changed on error.
    pub fn edit_post(&mut self, id: &str, title: Option<&str>, splices: &[crate::edit::Splice], expected_len: Option<usize>, now: DateTime<FixedOffset>) -> Result<(usize, Option<String>), DocError> {
        let o = self.post_obj(id)?;
        let applied = self.splice_obj(&o, splices, expected_len)?;
        let mut old_title = None;
        if let Some(title) = title {
            let old = get_str(&self.doc, &o, "title").unwrap_or_default();
            if old != title {
                let t = self.text_obj(&o, "title")?;
                self.doc.update_text(&t, title)?;
                old_title = Some(old);
            }
        }
        if self.doc.pending_ops() > 0 {
            let stored = parse_date(get_str(&self.doc, &o, "updated"));
            if now.signed_duration_since(stored) >= chrono::Duration::minutes(1) {
                self.doc.put(&o, "updated", now.to_rfc3339().as_str())?;
            }
        }
        Ok((applied, old_title))
    }

    /// IDs of the posts added, changed or deleted between `before` (heads of an earlier state
    /// of this document) and now, found with Automerge's diff of the `posts` map, so the cost
    /// follows the changes, not the number of posts.
    ///
    /// Errors: [`DocError::Missing`] without a `posts` map; [`DocError::Automerge`] if the
    /// diff fails (for example `before` names changes this document lacks).
    pub fn changed_post_ids(&mut self, before: &[ChangeHash]) -> Result<std::collections::BTreeSet<String>, DocError> {
        let after = self.doc.get_heads();
        self.changed_post_ids_between(before, &after)
    }

    /// [`BlogDoc::changed_post_ids`] between two earlier states: `before` and `after` (heads
    /// of this document, in any order of history).
    ///
    /// Cost: Automerge's diff scans every operation of the document, unless `before` is
    /// where [`BlogDoc::record_changes_from_here`] was last called on this copy and `after`
    /// is now: then only what was recorded since is read.
    ///
    /// Errors: as [`BlogDoc::changed_post_ids`], also for `after` heads this document lacks.
    pub fn changed_post_ids_between(&mut self, before: &[ChangeHash], after: &[ChangeHash]) -> Result<std::collections::BTreeSet<String>, DocError> {
        let posts = self.posts_obj()?;
        if before.iter().chain(after).any(|h| self.doc.get_change_meta_by_hash(h).is_none()) {
            return Err(DocError::Missing("the earlier heads"));
        }
        let mut ids = std::collections::BTreeSet::new();
        for patch in self.doc.diff_obj(&posts, before, after, true)? {
            if patch.obj == posts {
                match patch.action {
                    automerge::PatchAction::PutMap { key, .. } | automerge::PatchAction::DeleteMap { key } => {
                        ids.insert(key);
                    }
                    _ => {}
                }
            } else if let Some((_, automerge::Prop::Map(id))) = patch.path.iter().find(|(parent, _)| *parent == posts) {
                ids.insert(id.clone());
            }
        }
        Ok(ids)
    }

    /// Records, from the current heads on, what every later change of this copy does (an
    /// Automerge diff cursor), so that [`BlogDoc::changed_post_ids_between`] from these heads
    /// to the heads of the moment reads the record instead of the whole document. Each call
    /// drops the earlier record and starts a new one; the record lives in memory only (a
    /// copy loaded from disk scans once).
    pub fn record_changes_from_here(&mut self) {
        self.doc.update_diff_cursor();
    }

    /// IDs of the posts whose title or body holds values written at once on two computers
    /// (in the blog, where they are snapshots: two publishes of the same post, made offline).
    /// Automerge keeps both and shows one; publishing the post again (from drafts, where the
    /// two edits merged) settles it.
    ///
    /// Cost: the first call reads two fields of every post (no text). Later calls reuse that
    /// answer when every change since was made here: a change made on this computer replaces
    /// every value it writes over, so it can settle a conflict but never start one; only the
    /// posts found conflicted before are read again. A change from elsewhere reads all again.
    pub fn conflicted_post_ids(&mut self) -> Vec<String> {
        let Ok(posts) = self.posts_obj() else { return Vec::new() };
        let conflicted = |doc: &AutoCommit, id: &String| get_obj(doc, &posts, id).is_some_and(|o| ["title", "body"].iter().any(|k| doc.get_all(&o, *k).is_ok_and(|v| v.len() > 1)));
        let heads = self.doc.get_heads();
        let known = match self.conflicts.take() {
            Some((at, ids)) if at == heads => Some(ids),
            Some((at, ids)) => {
                let actor = self.doc.get_actor().clone();
                let only_here = self.doc.document().get_changes_meta(&at).iter().all(|c| *c.actor == actor);
                only_here.then_some(ids)
            }
            None => None,
        };
        let ids: Vec<String> = match known {
            Some(ids) => ids.into_iter().filter(|id| conflicted(&self.doc, id)).collect(),
            None => self.post_ids().into_iter().filter(|id| conflicted(&self.doc, id)).collect(),
        };
        self.conflicts = Some((heads, ids.clone()));
        ids
    }

    /// A post's slug, without reading its body; `None` if there is no such post.
    pub fn post_slug(&self, id: &str) -> Option<String> {
        get_str(&self.doc, &self.post_obj(id).ok()?, "slug").map(|s| if is_slug(&s) { s } else { slugify(&s) })
    }

    /// Sets one of a post's string fields (`slug`, `date`, `updated`, `state`) as given.
    pub fn set_post_field(&mut self, id: &str, field: &'static str, value: &str) -> Result<(), DocError> {
        let o = self.post_obj(id)?;
        self.doc.put(&o, field, value)?;
        Ok(())
    }

    /// Whether post `id` is in the bin (deleted, but kept so the deletion can be undone).
    pub fn is_deleted(&self, id: &str) -> bool {
        self.post_obj(id).ok().and_then(|o| get_str(&self.doc, &o, "deleted_at")).is_some_and(|s| !s.is_empty())
    }

    /// Puts post `id` in the bin (`at`: RFC 3339 time) or, with `None`, takes it out again.
    pub fn set_deleted(&mut self, id: &str, at: Option<&str>) -> Result<(), DocError> {
        self.set_post_field(id, "deleted_at", at.unwrap_or(""))
    }

    /// Deletes a post from the current state (history keeps it).
    pub fn delete_post(&mut self, id: &str) -> Result<(), DocError> {
        let posts = self.posts_obj()?;
        if get_obj(&self.doc, &posts, id).is_none() {
            return Err(DocError::NoSuchPost(id.to_owned()));
        }
        self.doc.delete(&posts, id)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_after_are_compressed_and_load_like_save_after() {
        use automerge::transaction::Transactable;
        let mut doc = empty_automerge();
        doc.put(automerge::ROOT, "title", "Start").unwrap();
        doc.commit();
        let base = doc.get_heads();
        let body: String = (0..300).map(|i| format!("The walk on day {i} went along the river and back. ")).collect();
        doc.put(automerge::ROOT, "body", body.as_str()).unwrap();
        doc.commit();
        let plain = doc.save_after(&base);
        let packed = changes_after(&mut doc, &base);
        assert!(packed.len() * 3 < plain.len(), "{} compressed vs {} plain", packed.len(), plain.len());
        crate::expansion::ExpansionBudget::new().check(&packed).unwrap();
        // A copy at `base` takes the compressed changes to the same heads.
        let mut behind = empty_automerge();
        behind.load_incremental(&changes_after(&mut doc, &[])[..]).unwrap();
        let mut at_base = behind.fork_at(&base).unwrap();
        at_base.load_incremental(&packed).unwrap();
        assert_eq!((at_base.get_heads(), behind.get_heads()), (doc.get_heads(), doc.get_heads()));
    }

    #[test]
    fn a_blog_id_is_bound_to_its_owner_and_no_one_else() {
        let (id, mut doc) = BlogDoc::create_blog("ABCD", &BlogSettings::default());
        let salt = doc.id_salt().expect("the salt is in the document");
        assert!(id.is_bound_to("ABCD", &salt));
        assert_eq!(doc.blog_id().unwrap(), id);
        check_identity(doc.automerge(), &id, "ABCD").unwrap();
        // Another certificate, another salt, or a random ID do not pass.
        assert!(!id.is_bound_to("ABCE", &salt));
        assert!(!id.is_bound_to("ABCD", &BlogId::bound_to("ABCD").1));
        assert!(!id.is_bound_to("ABCD", &salt.to_uppercase()), "the salt is lowercase hex");
        assert!(matches!(check_identity(doc.automerge(), &id, "ABCE"), Err(DocError::NotOwnedBy(_))));
        assert!(matches!(check_identity(doc.automerge(), &BlogId::generate(), "ABCD"), Err(DocError::NotThisBlog(_))));
        // A squatter's document: the same ID and its own owner, with or without a salt.
        let mut squat = BlogDoc::create(DocKind::Blog, &id, "EEEE", &BlogSettings::default());
        assert!(matches!(check_identity(squat.automerge(), &id, "EEEE"), Err(DocError::UnboundId { .. })));
        squat.automerge().put(ROOT, "blog_id_salt", salt.as_str()).unwrap();
        assert!(matches!(check_identity(squat.automerge(), &id, "EEEE"), Err(DocError::UnboundId { .. })));
        // The derivation is fixed: a known vector (docs/formats.md; checked with Python's
        // blake3 package).
        let known = BlogId::derive("0123456789ABCDEF0123456789ABCDEF01234567", "000102030405060708090a0b0c0d0e0f");
        assert_eq!(known.as_str(), "408f069d764ab391f4cc7ba0dabf897b");
    }

    fn blog() -> BlogDoc {
        BlogDoc::create(DocKind::Blog, &BlogId::generate(), "ABCD", &BlogSettings {
            title: "T".into(),
            ..Default::default()
        })
    }

    #[test]
    fn post_round_trips_through_save_and_load() {
        let mut d = blog();
        let mut p = Post::new("Hello, World!", "Some *text* 😀 here");
        p.tags = vec!["a".into(), "b".into()];
        d.put_post(&p).unwrap();
        d.commit("post");
        let bytes = d.save();
        let d2 = BlogDoc::load(&bytes).unwrap();
        let got = d2.post(&p.id).unwrap();
        assert_eq!(got.title, p.title);
        assert_eq!(got.body, p.body);
        assert_eq!(got.tags, p.tags);
        assert_eq!(got.slug, "hello-world");
        assert_eq!(got.date.timestamp(), p.date.timestamp());
    }

    #[test]
    fn conflicts_come_from_other_computers_and_go_with_a_local_write() {
        let mut here = blog();
        let (a, b) = (Post::new("A", "a"), Post::new("B", "b"));
        here.put_post(&a).unwrap();
        here.put_post(&b).unwrap();
        here.commit("posts");
        let mut there = BlogDoc::load(&here.save()).unwrap();
        there.automerge().set_actor(automerge::ActorId::random());
        assert!(here.conflicted_post_ids().is_empty());
        // Both computers publish post A offline; the other computer's change arrives here.
        here.put_post(&Post { title: "A here".into(), ..a.clone() }).unwrap();
        here.commit("edit");
        there.put_post(&Post { title: "A there".into(), ..a.clone() }).unwrap();
        there.commit("edit");
        assert!(here.conflicted_post_ids().is_empty(), "answered before the merge, and kept");
        here.automerge().merge(there.automerge()).unwrap();
        assert_eq!(here.conflicted_post_ids(), std::slice::from_ref(&a.id), "a change from elsewhere is read");
        // A change made here to another post keeps the answer without reading every post.
        here.put_post(&Post { title: "B again".into(), ..b.clone() }).unwrap();
        here.commit("edit");
        assert_eq!(here.conflicted_post_ids(), std::slice::from_ref(&a.id));
        // Writing post A here settles it.
        here.put_post(&Post { title: "A merged".into(), ..a.clone() }).unwrap();
        here.commit("settle");
        assert!(here.conflicted_post_ids().is_empty());
        // A conflict from elsewhere on a post not conflicted before is found again.
        let mut later = BlogDoc::load(&there.save()).unwrap();
        later.automerge().set_actor(automerge::ActorId::random());
        later.put_post(&Post { title: "B there".into(), ..b.clone() }).unwrap();
        later.commit("edit");
        here.automerge().merge(later.automerge()).unwrap();
        assert_eq!(here.conflicted_post_ids(), std::slice::from_ref(&b.id));
    }

    #[test]
    fn published_posts_are_counted_without_the_unpublished_or_drafts() {
        let mut d = blog();
        assert_eq!(published_count(d.automerge()), 0);
        for (title, state) in [("a", PostState::Published), ("b", PostState::Published), ("c", PostState::Unpublished), ("d", PostState::Draft)] {
            let mut p = Post::new(title, "words");
            p.state = state;
            d.put_post(&p).unwrap();
        }
        d.commit("posts");
        assert_eq!(published_count(d.automerge()), 2);
        assert_eq!(published_count(&empty_automerge()), 0);
    }

    #[test]
    fn splice_counts_utf16_code_units() {
        let mut d = blog();
        let p = Post::new("t", "a😀b");
        d.put_post(&p).unwrap();
        // 'a' is 1 unit, the emoji is 2 UTF-16 units: insert after the emoji at index 3.
        d.splice_body(&p.id, 3, 0, "X").unwrap();
        assert_eq!(d.post(&p.id).unwrap().body, "a😀Xb");
        d.commit("c");
        let mut d2 = BlogDoc::load(&d.save()).unwrap();
        d2.splice_body(&p.id, 1, 2, "").unwrap();
        assert_eq!(d2.post(&p.id).unwrap().body, "aXb");
    }

    #[test]
    fn a_post_is_read_as_it_was_at_older_heads() {
        let mut d = blog();
        let mut p = Post::new("First title", "one");
        p.tags = vec!["a".into()];
        d.put_post(&p).unwrap();
        d.commit("1");
        let h1 = d.heads();
        p.title = "Second title".into();
        p.body = "one two".into();
        p.tags = vec!["a".into(), "b".into()];
        d.put_post(&p).unwrap();
        d.commit("2");
        let old = d.post_at(&p.id, &h1).unwrap();
        assert_eq!((old.title.as_str(), old.body.as_str(), old.tags.len()), ("First title", "one", 1));
        assert_eq!(d.post(&p.id).unwrap().body, "one two");
        assert!(d.post_at("nope", &h1).is_none());
        assert!(d.post_at(&p.id, &[]).is_none(), "before anything, no post");
    }

    #[test]
    fn drafts_of_two_devices_share_their_origin_and_merge() {
        let blog = BlogId::generate();
        let settings = BlogSettings { title: "Notes".into(), ..Default::default() };
        let mut a = BlogDoc::create(DocKind::Drafts, &blog, "AB", &settings);
        let mut b = BlogDoc::create(DocKind::Drafts, &blog, "AB", &settings);
        assert!(a.same_origin(&b));
        assert_eq!(a.settings(), settings);
        let pa = Post::new("From A", "a");
        let pb = Post::new("From B", "b");
        a.put_post(&pa).unwrap();
        a.commit("a");
        b.put_post(&pb).unwrap();
        b.commit("b");
        a.automerge().merge(b.automerge()).unwrap();
        assert_eq!(a.posts().len(), 2, "neither device's post replaces the other's");
        assert_ne!(a.automerge().get_actor(), b.automerge().get_actor(), "devices write with their own actors");
        let other_blog = BlogDoc::create(DocKind::Drafts, &BlogId::generate(), "AB", &settings);
        assert!(!a.same_origin(&other_blog));
        assert!(!a.same_origin(&BlogDoc::create(DocKind::Blog, &blog, "AB", &settings)));
    }

    fn drafts() -> BlogDoc {
        BlogDoc::create(DocKind::Drafts, &BlogId::generate(), "ABCD", &BlogSettings::default())
    }

    #[test]
    fn posts_read_in_one_pass_are_the_posts_read_one_by_one() {
        let mut d = BlogDoc::create(DocKind::Drafts, &BlogId::generate(), "AB", &BlogSettings::default());
        let mut a = Post::new("Text title", "text body");
        a.tags = vec!["one".into(), "two".into()];
        d.put_post(&a).unwrap();
        let mut b = Post::new("Snapshot", "snapshot body");
        b.date = DateTime::parse_from_rfc3339("2001-02-03T04:05:06+01:00").unwrap();
        d.put_post_as(&b, TextForm::Snapshot).unwrap();
        d.set_deleted(&b.id, Some("2020-01-01T00:00:00Z")).unwrap();
        d.set_post_field(&a.id, "slug", "../../not a slug").unwrap();
        d.commit("posts");
        let one_pass = d.posts_with_fields();
        let posts: Vec<Post> = one_pass.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(posts, d.posts());
        let b_fields = &one_pass.iter().find(|(p, _)| p.id == b.id).unwrap().1;
        assert_eq!(b_fields.get("deleted_at").map(String::as_str), Some("2020-01-01T00:00:00Z"));
        assert_eq!(b_fields.get("updated"), d.post_field(&b.id, "updated").as_ref());
        assert!(!b_fields.contains_key("title") && !b_fields.contains_key("slug"));
    }

    #[test]
    fn the_blog_keeps_snapshots_and_drafts_keep_text_that_merges() {
        // A 10,000-character body is one operation in the blog, 10,000 in drafts.
        let body = "word ".repeat(2000);
        let p = Post::new("Long", &body);
        let mut b = blog();
        let before = b.automerge().get_changes_meta(&[]).len();
        b.put_post(&p).unwrap();
        b.commit("publish");
        let mut d = drafts();
        d.put_post(&p).unwrap();
        d.commit("draft");
        let ops = |doc: &mut BlogDoc| doc.automerge().get_changes_meta(&[]).iter().map(|c| c.max_op - c.start_op + 1).sum::<u64>();
        assert!(ops(&mut b) < 20, "{} ops in the blog", ops(&mut b));
        assert!(ops(&mut d) > 10_000, "{} ops in drafts", ops(&mut d));
        assert_eq!(b.automerge().get_changes_meta(&[]).len(), before + 1);
        assert_eq!(BlogDoc::load(&b.save()).unwrap().post(&p.id).unwrap().body, body);
        // An imported draft is a snapshot until its first edit, then text that merges.
        let mut a = drafts();
        let imported = Post::new("Imported", "hello world");
        a.put_post_as(&imported, TextForm::Snapshot).unwrap();
        a.commit("import");
        let mut other = BlogDoc::load(&a.save()).unwrap();
        other.automerge().set_actor(automerge::ActorId::random());
        a.splice_body(&imported.id, 11, 0, "!").unwrap();
        a.commit("edit");
        let mut o2 = BlogDoc::load(&a.save()).unwrap();
        o2.automerge().set_actor(automerge::ActorId::random());
        a.splice_body(&imported.id, 0, 0, "A: ").unwrap();
        a.commit("a");
        o2.splice_body(&imported.id, 12, 0, " B").unwrap();
        o2.commit("b");
        a.automerge().merge(o2.automerge()).unwrap();
        assert_eq!(a.post(&imported.id).unwrap().body, "A: hello world! B");
        assert_eq!(other.post(&imported.id).unwrap().body, "hello world");
    }

    #[test]
    fn concurrent_edits_to_one_body_both_survive() {
        let mut a = drafts();
        let p = Post::new("t", "hello world");
        a.put_post(&p).unwrap();
        a.commit("c");
        let mut b = BlogDoc::load(&a.save()).unwrap();
        b.automerge().set_actor(automerge::ActorId::random());
        a.splice_body(&p.id, 0, 0, "A: ").unwrap();
        a.commit("a");
        let mut q = b.post(&p.id).unwrap();
        q.body = "hello world!".into();
        b.put_post(&q).unwrap();
        b.commit("b");
        a.automerge().merge(b.automerge()).unwrap();
        assert_eq!(a.post(&p.id).unwrap().body, "A: hello world!");
    }

    #[test]
    fn corrupt_and_truncated_files_are_errors() {
        let mut d = blog();
        let bytes = d.save();
        assert!(matches!(BlogDoc::load(&bytes[..bytes.len() / 2]), Err(DocError::Corrupt(_))));
        assert!(matches!(BlogDoc::load(b"not a document"), Err(DocError::Corrupt(_))));
        let mut flipped = bytes.clone();
        let n = flipped.len();
        flipped[n - 3] ^= 0xff;
        assert!(BlogDoc::load(&flipped).is_err());
    }

    #[test]
    fn newer_schema_is_refused() {
        let mut doc = empty_automerge();
        doc.put(ROOT, "schema", 99u64).unwrap();
        doc.put_object(ROOT, "posts", ObjType::Map).unwrap();
        doc.commit();
        assert!(matches!(BlogDoc::load(&doc.save()), Err(DocError::UnknownSchema { found: 99 })));
    }

    #[test]
    fn spokes_list_adds_replaces_and_removes() {
        let mut d = blog();
        let s = SpokeRef { endpoint: "e1".into(), addrs: vec!["127.0.0.1:1".parse().unwrap()], web: Some("https://one.example".into()), name: Some("One".into()), relay: Some("https://spoke-e1.one.example/".into()) };
        d.add_spoke(&s).unwrap();
        d.add_spoke(&s).unwrap();
        assert_eq!(d.spokes(), vec![s.clone()]);
        let s2 = SpokeRef { endpoint: "e1".into(), addrs: vec!["127.0.0.1:2".parse().unwrap()], web: None, name: None, relay: None };
        d.add_spoke(&s2).unwrap();
        assert_eq!(d.spokes(), vec![s2]);
        assert!(d.remove_spoke("e1").unwrap());
        assert!(d.spokes().is_empty());
    }

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slugify("Jekyll 3.0.2 Released"), "jekyll-3-0-2-released");
        assert_eq!(slugify("  ¿Qué?  "), "qué");
        assert_eq!(slugify("!!!"), "post");
    }

    #[test]
    fn splices_apply_in_utf16_units_or_not_at_all() {
        use crate::edit::Splice;
        let sp = |pos, delete, insert: &str| Splice { pos, delete, insert: insert.into() };
        let mut d = blog();
        let p = Post::new("T", "a😀b");
        d.put_post(&p).unwrap();
        d.commit("post");
        // After the emoji (two units), type "cd", then replace "b" with "e".
        let n = d.apply_splices(&p.id, &[sp(3, 0, "c"), sp(4, 0, "d"), sp(5, 1, "e")], Some(6)).unwrap();
        assert_eq!(n, 1);
        assert_eq!(d.post(&p.id).unwrap().body, "a😀cde");
        // An edit past the end, or a length the editor disagrees with, changes nothing.
        let before = d.heads();
        assert!(matches!(d.apply_splices(&p.id, &[sp(0, 0, "x"), sp(9, 1, "")], None), Err(DocError::EditMismatch(_))));
        assert!(matches!(d.apply_splices(&p.id, &[sp(0, 0, "x")], Some(6)), Err(DocError::EditMismatch(_))));
        assert!(d.commit("nothing").is_none());
        assert_eq!(d.heads(), before);
        assert_eq!(d.post(&p.id).unwrap().body, "a😀cde");
        assert!(matches!(d.apply_splices("nope", &[], None), Err(DocError::NoSuchPost(_))));
    }

    #[test]
    fn changed_posts_are_found_from_the_diff() {
        use crate::edit::Splice;
        let mut d = blog();
        let (a, b, c) = (Post::new("A", "a"), Post::new("B", "b"), Post::new("C", "c"));
        for p in [&a, &b, &c] {
            d.put_post(p).unwrap();
        }
        d.commit("three");
        let before = d.heads();
        assert!(d.changed_post_ids(&before).unwrap().is_empty());
        d.apply_splices(&a.id, &[Splice { pos: 1, delete: 0, insert: "!".into() }], None).unwrap();
        d.delete_post(&b.id).unwrap();
        let e = Post::new("E", "e");
        d.put_post(&e).unwrap();
        d.set_settings(&BlogSettings { title: "New".into(), ..Default::default() }).unwrap();
        d.commit("edits");
        let changed: Vec<String> = d.changed_post_ids(&before).unwrap().into_iter().collect();
        let mut want = vec![a.id.clone(), b.id.clone(), e.id.clone()];
        want.sort();
        assert_eq!(changed, want);
        assert!(!changed.contains(&c.id));
        // Heads this document never had are an error, not an empty answer.
        let mut other = blog();
        assert!(d.changed_post_ids(&other.heads()).is_err());
    }

    /// With a record started at `before`, the changed posts come from the record, and are the
    /// ones a scan of a fresh copy finds: local edits, a post deleted, and a change merged
    /// from another copy of the document.
    #[test]
    fn changed_posts_from_the_record_match_a_whole_scan() {
        use crate::edit::Splice;
        let mut d = blog();
        let (a, b, c, e) = (Post::new("A", "a"), Post::new("B", "b"), Post::new("C", "c"), Post::new("E", "e"));
        for p in [&a, &b, &c, &e] {
            d.put_post(p).unwrap();
        }
        d.commit("four");
        let before = d.heads();
        d.record_changes_from_here();
        let mut elsewhere = BlogDoc::from_automerge(d.automerge().fork()).unwrap();
        elsewhere.apply_splices(&b.id, &[Splice { pos: 0, delete: 1, insert: "B".into() }], None).unwrap();
        elsewhere.commit("on another computer");
        d.apply_splices(&a.id, &[Splice { pos: 1, delete: 0, insert: "!".into() }], None).unwrap();
        d.delete_post(&c.id).unwrap();
        d.commit("here");
        d.automerge().merge(elsewhere.automerge()).unwrap();
        let recorded = d.changed_post_ids(&before).unwrap();
        let mut fresh = BlogDoc::load(&d.automerge().save()).unwrap();
        assert_eq!(recorded, fresh.changed_post_ids(&before).unwrap());
        assert_eq!(recorded, [a.id.clone(), b.id.clone(), c.id.clone()].into_iter().collect());
        // A new record starts empty.
        d.record_changes_from_here();
        let now = d.heads();
        assert!(d.changed_post_ids(&now).unwrap().is_empty());
    }

    #[test]
    fn an_autosave_stamps_updated_at_most_once_a_minute() {
        use crate::edit::Splice;
        let mut d = blog();
        let p = Post::new("T", "x");
        d.put_post(&p).unwrap();
        d.commit("post");
        let typed = [Splice { pos: 1, delete: 0, insert: "y".into() }];
        let (n, old) = d.edit_post(&p.id, Some("T"), &typed, Some(2), p.updated + chrono::Duration::seconds(20)).unwrap();
        assert_eq!((n, old), (1, None));
        assert_eq!(d.post(&p.id).unwrap().updated, p.updated);
        let later = p.updated + chrono::Duration::minutes(2);
        let (_, old) = d.edit_post(&p.id, Some("New"), &typed, None, later).unwrap();
        assert_eq!(old.as_deref(), Some("T"));
        let now = d.post(&p.id).unwrap();
        assert_eq!((now.title.as_str(), now.body.as_str(), now.updated), ("New", "xyy", later));
    }
}
