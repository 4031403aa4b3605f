//! One Automerge document per post (schema 2), listed by the signed manifest
//! ([`crate::manifest`]). Forgetting a post deletes its document; nothing else holds its words.
//!
//! Root layout:
//!
//! ```text
//! schema: u64 = 2
//! kind: "post"
//! blog_id: str          32 lowercase hex characters
//! post_id: str          the post's ID (16 to 64 lowercase hex)
//! title: str            one string per revision (as published posts are in schema 1)
//! body: str             Markdown, one string per revision
//! tags: [str]
//! ```
//!
//! The slug and the dates live in the manifest's leaf, not here, so that they have one
//! source. The first change (the *genesis*: schema, kind, blog and post IDs) is the same on
//! every computer: its actor is derived from the blog and post IDs and its time is 0, so two
//! computers that make the document for one post share its root and merge field by field.

use crate::doc::{BlogId, Post, PostState};
use crate::expansion::{ExpansionBudget, ExpansionError};
use crate::manifest::Listing;
use crate::statement::{CoverageError, check_coverage};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{AutoCommit, ChangeHash, ObjType, ROOT, ReadDoc, ScalarValue, Value};

/// The schema of post documents.
pub const POST_SCHEMA: u64 = 2;

/// How Automerge counts text in a post document held in memory (not stored: documents are
/// the same bytes under any encoding). A post's title and body are plain strings, not text
/// objects, so no position is ever counted in it; UTF-8 bytes cost nothing to count, where
/// UTF-16 units (the blog document's encoding, for the editor) are counted over every
/// string each time a document loads.
const POST_TEXT_ENCODING: automerge::TextEncoding = automerge::TextEncoding::Utf8CodeUnit;

/// Errors of post documents.
#[derive(Debug, thiserror::Error)]
pub enum PostDocError {
    /// The bytes are not a readable Automerge document.
    #[error("the post document is damaged: {0}")]
    Corrupt(String),
    /// The bytes would expand past what Spokes lets a peer's document grow to.
    #[error(transparent)]
    Expansion(#[from] ExpansionError),
    /// The document is not the post document of this blog and post, or not schema 2.
    #[error("this is not the document of post {post} of blog {blog}")]
    NotThisPost {
        /// The blog expected.
        blog: String,
        /// The post expected.
        post: String,
    },
    /// Writing to the document failed.
    #[error("the post document could not be changed: {0}")]
    Write(String),
}

/// What a post document holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostContent {
    /// Title (plain text).
    pub title: String,
    /// Body (Markdown).
    pub body: String,
    /// Tags, in the writer's order.
    pub tags: Vec<String>,
}

/// One post's document.
#[derive(Clone, Debug)]
pub struct PostDoc {
    doc: AutoCommit,
    /// The document's saved form while it has not changed since it was loaded or saved:
    /// [`PostDoc::save`] gives these bytes back instead of encoding and compressing the
    /// document again (a new spoke, a restore and every publish save documents they only
    /// loaded). Dropped by every change: [`PostDoc::write`], [`PostDoc::merge`] and
    /// [`PostDoc::automerge`].
    saved: Option<Vec<u8>>,
}

fn get_str(doc: &AutoCommit, key: &str, at: Option<&[ChangeHash]>) -> Option<String> {
    let got = match at {
        None => doc.get(ROOT, key),
        Some(h) => doc.get_at(ROOT, key, h),
    };
    match got.ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `bytes` are exactly one Automerge document chunk: the magic bytes, a 4-byte
/// checksum, chunk type 0 and a uLEB128 length that ends the bytes (Automerge binary format,
/// "Chunk container").
fn one_document_chunk(bytes: &[u8]) -> bool {
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    if bytes.len() < 10 || bytes[..4] != MAGIC || bytes[8] != 0 {
        return false;
    }
    let (mut len, mut shift, mut at) = (0u64, 0u32, 9usize);
    loop {
        let Some(&b) = bytes.get(at) else { return false };
        if shift > 56 {
            return false;
        }
        len |= u64::from(b & 0x7f) << shift;
        at += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (at as u64).checked_add(len) == Some(bytes.len() as u64)
}

fn actor_for(purpose: &str, blog_id: &BlogId, post_id: &str) -> automerge::ActorId {
    let seed = blake3::hash(format!("spokes post {purpose} v2 {blog_id} {post_id}").as_bytes());
    automerge::ActorId::from(&seed.as_bytes()[..16])
}

impl PostDoc {
    /// The document of a new post: the genesis change only (see the module docs). The
    /// actor for later changes is `actor` (the computer's own, random in Automerge's sense).
    pub fn create(blog_id: &BlogId, post_id: &str, actor: automerge::ActorId) -> PostDoc {
        let mut doc = AutoCommit::new_with_encoding(POST_TEXT_ENCODING);
        doc.set_actor(actor_for("genesis", blog_id, post_id));
        // Writes into a fresh document cannot fail.
        let _ = (|| -> Result<(), automerge::AutomergeError> {
            doc.put(ROOT, "schema", POST_SCHEMA)?;
            doc.put(ROOT, "kind", "post")?;
            doc.put(ROOT, "blog_id", blog_id.as_str())?;
            doc.put(ROOT, "post_id", post_id)?;
            Ok(())
        })();
        doc.commit_with(CommitOptions::default().with_message("genesis".to_owned()).with_time(0));
        doc.set_actor(actor);
        PostDoc { doc, saved: None }
    }

    /// The document of a post taken over from a schema 1 blog document: the genesis, then
    /// the post's title, body and tags in one change whose actor is also derived from the
    /// IDs and whose time is 0, so that every computer that upgrades the same blog makes the
    /// same document, byte for byte, and they merge as one.
    pub fn upgraded(blog_id: &BlogId, post: &Post) -> Result<PostDoc, PostDocError> {
        let mut d = PostDoc::create(blog_id, &post.id, actor_for("upgrade", blog_id, &post.id));
        d.write(&PostContent { title: post.title.clone(), body: post.body.clone(), tags: post.tags.clone() }, 0)?;
        Ok(d)
    }

    /// Loads a post document from bytes that came from disk or a peer, bounding what they
    /// expand to, and checks that it is post `post_id` of `blog_id`, schema 2.
    ///
    /// Errors: [`PostDocError::Expansion`], [`PostDocError::Corrupt`],
    /// [`PostDocError::NotThisPost`].
    pub fn load(bytes: &[u8], blog_id: &BlogId, post_id: &str) -> Result<PostDoc, PostDocError> {
        ExpansionBudget::new().check(bytes)?;
        PostDoc::load_checked(bytes, blog_id, post_id)
    }

    /// [`PostDoc::load`] without the expansion check, for bytes that already passed one: a
    /// session's records, charged to its [`ExpansionBudget`] as they arrived, or a store's
    /// own copy of bytes it checked before storing them. The check inflates every compressed
    /// column, as Automerge does again when it loads: skipping a second check halves the cost
    /// of loading a post.
    ///
    /// Errors: [`PostDocError::Corrupt`], [`PostDocError::NotThisPost`].
    pub fn load_checked(bytes: &[u8], blog_id: &BlogId, post_id: &str) -> Result<PostDoc, PostDocError> {
        let doc = AutoCommit::load_with_options(bytes, automerge::LoadOptions::new().text_encoding(POST_TEXT_ENCODING)).map_err(|e| PostDocError::Corrupt(e.to_string()))?;
        // Bytes that are one document chunk are kept as the saved form; anything else (a
        // save followed by change chunks, as a peer may send) is saved anew when asked, so
        // repeated or redundant chunks are never stored or passed on.
        let d = PostDoc { doc, saved: one_document_chunk(bytes).then(|| bytes.to_vec()) };
        d.check_identity(blog_id, post_id)?;
        Ok(d)
    }

    /// Checks that this is post `post_id` of `blog_id`, schema 2.
    pub fn check_identity(&self, blog_id: &BlogId, post_id: &str) -> Result<(), PostDocError> {
        let schema = match self.doc.get(ROOT, "schema") {
            Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                ScalarValue::Uint(n) => Some(*n),
                ScalarValue::Int(n) => u64::try_from(*n).ok(),
                _ => None,
            },
            _ => None,
        };
        let ok = schema == Some(POST_SCHEMA)
            && get_str(&self.doc, "kind", None).as_deref() == Some("post")
            && get_str(&self.doc, "blog_id", None).as_deref() == Some(blog_id.as_str())
            && get_str(&self.doc, "post_id", None).as_deref() == Some(post_id);
        if ok { Ok(()) } else { Err(PostDocError::NotThisPost { blog: blog_id.to_string(), post: post_id.to_owned() }) }
    }

    /// Writes `content` (only the fields that differ, and fields two computers wrote at once)
    /// and commits it as one change at `at` (seconds since the Unix epoch). `None` when
    /// nothing changed.
    pub fn write(&mut self, content: &PostContent, at: i64) -> Result<Option<ChangeHash>, PostDocError> {
        self.saved = None;
        let w = |e: automerge::AutomergeError| PostDocError::Write(e.to_string());
        for (key, value) in [("title", &content.title), ("body", &content.body)] {
            if get_str(&self.doc, key, None).as_deref() != Some(value.as_str()) || self.doc.get_all(ROOT, key).map_err(w)?.len() > 1 {
                self.doc.put(ROOT, key, value.as_str()).map_err(w)?;
            }
        }
        if self.content_at(None).tags != content.tags || self.doc.get_all(ROOT, "tags").map_err(w)?.len() > 1 {
            let t = self.doc.put_object(ROOT, "tags", ObjType::List).map_err(w)?;
            for (i, tag) in content.tags.iter().enumerate() {
                self.doc.insert(&t, i, tag.as_str()).map_err(w)?;
            }
        }
        Ok(self.doc.commit_with(CommitOptions::default().with_message("write".to_owned()).with_time(at)))
    }

    /// Whether two computers wrote this post at once and their words both stand: the title,
    /// body or tags hold more than one value (Automerge's conflict; readers see the one it
    /// picks). A writer's computer then publishes the post again from its drafts, where both
    /// edits merged, and that write settles it.
    pub fn has_conflicts(&self) -> bool {
        ["title", "body", "tags"].iter().any(|k| self.doc.get_all(ROOT, *k).is_ok_and(|v| v.len() > 1))
    }

    /// The content now.
    pub fn content(&self) -> PostContent {
        self.content_at(None)
    }

    /// The content as of `heads` (all of it when `None`).
    pub fn content_at(&self, heads: Option<&[ChangeHash]>) -> PostContent {
        let tags = match heads {
            None => self.doc.get(ROOT, "tags"),
            Some(h) => self.doc.get_at(ROOT, "tags", h),
        };
        let tags = match tags {
            Ok(Some((Value::Object(ObjType::List), id))) => {
                let n = match heads {
                    None => self.doc.length(&id),
                    Some(h) => self.doc.length_at(&id, h),
                };
                (0..n)
                    .filter_map(|i| {
                        let v = match heads {
                            None => self.doc.get(&id, i),
                            Some(h) => self.doc.get_at(&id, i, h),
                        };
                        match v.ok()?? {
                            (Value::Scalar(s), _) => s.as_str().map(str::to_owned),
                            _ => None,
                        }
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        PostContent { title: get_str(&self.doc, "title", heads).unwrap_or_default(), body: get_str(&self.doc, "body", heads).unwrap_or_default(), tags }
    }

    /// The content as a manifest lists it: as of `heads` when this document holds them, else
    /// all that it holds (see [`PostDoc::post`]).
    pub fn content_as_listed(&self, heads: &[ChangeHash]) -> PostContent {
        // `kind` is in the first change: at heads the document holds, it is there.
        let complete = matches!(self.doc.get_at(ROOT, "kind", heads), Ok(Some(_)));
        self.content_at(complete.then_some(heads))
    }

    /// The post as readers see it: this document's content as of the listing's heads, with
    /// the listing's slug and dates.
    ///
    /// When the document lacks one of the listing's heads (a computer's changes that have not
    /// reached this copy yet), it shows all that it holds.
    pub fn post(&self, id: &str, listing: &Listing) -> Post {
        let c = self.content_as_listed(&listing.heads);
        Post { id: id.to_owned(), title: c.title, body: c.body, slug: listing.slug.clone(), tags: c.tags, date: listing.date, updated: listing.updated, state: PostState::Published }
    }

    /// The document's heads, sorted.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        let mut h = self.doc.get_heads();
        h.sort();
        h
    }

    /// The whole document in Automerge's saved form: the bytes it was loaded from or last
    /// saved to when it has not changed since, else a new save.
    pub fn save(&mut self) -> Vec<u8> {
        match &self.saved {
            Some(b) => b.clone(),
            None => {
                let b = self.doc.save();
                self.saved = Some(b.clone());
                b
            }
        }
    }

    /// The Automerge document, for sync. The caller may change it, so the saved form kept
    /// for [`PostDoc::save`] is dropped; reads go through [`PostDoc::holds`],
    /// [`PostDoc::heads`] and [`PostDoc::changes_after`].
    pub fn automerge(&mut self) -> &mut AutoCommit {
        self.saved = None;
        &mut self.doc
    }

    /// Makes `actor` the author of this computer's next changes (not part of the saved form).
    pub fn set_actor(&mut self, actor: automerge::ActorId) {
        self.doc.set_actor(actor);
    }

    /// Whether the document holds every change of `heads`.
    pub fn holds(&mut self, heads: &[ChangeHash]) -> bool {
        heads.iter().all(|h| self.doc.get_change_meta_by_hash(h).is_some())
    }

    /// The changes after `heads` (which the document holds), in Automerge's saved form.
    pub fn changes_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        crate::doc::changes_after(&mut self.doc, heads)
    }

    /// Merges `other` (the same post's document from another computer or peer).
    pub fn merge(&mut self, other: &mut PostDoc) -> Result<(), PostDocError> {
        self.saved = None;
        self.doc.merge(&mut other.doc).map(|_| ()).map_err(|e| PostDocError::Write(e.to_string()))
    }

    /// The coverage rule for one post: every change of the document is, or is an ancestor
    /// of, one of `signed_heads` (the heads a verified manifest lists for it). Returns how
    /// many changes were checked.
    pub fn check_covered(&mut self, signed_heads: &[ChangeHash]) -> Result<usize, CoverageError> {
        check_coverage(&mut self.doc, &[], signed_heads)
    }

    /// Whether the history behind `newer` holds every change of `older` (both sets of heads
    /// of this document); false when the document lacks any of them. For
    /// [`crate::manifest::Manifest::supersedes`].
    pub fn contains(&mut self, newer: &[ChangeHash], older: &[ChangeHash]) -> bool {
        if newer.iter().chain(older).any(|h| self.doc.get_change_by_hash(h).is_none()) {
            return false;
        }
        // The changes after `newer` are those not behind it; `older` must not be among them.
        let after: std::collections::HashSet<ChangeHash> = self.doc.get_changes_meta(newer).into_iter().map(|c| c.hash).collect();
        older.iter().all(|h| !after.contains(h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn blog() -> BlogId {
        BlogId::from_str("408f069d764ab391f4cc7ba0dabf897b").unwrap()
    }

    fn content(title: &str, body: &str) -> PostContent {
        PostContent { title: title.into(), body: body.into(), tags: vec!["notes".into()] }
    }

    #[test]
    fn saving_an_unchanged_document_gives_back_its_bytes_and_every_change_saves_anew() {
        let fresh = |d: &mut PostDoc| d.doc.save();
        let mut a = PostDoc::create(&blog(), "0123456789abcdef", automerge::ActorId::random());
        a.write(&content("Spring", "First words."), 100).unwrap();
        let bytes = a.save();
        let mut b = PostDoc::load(&bytes, &blog(), "0123456789abcdef").unwrap();
        b.set_actor(automerge::ActorId::random());
        assert!(b.holds(&a.heads()));
        assert_eq!(b.save(), bytes, "loaded and not changed: the same bytes");
        assert!(one_document_chunk(&bytes));
        // A save followed by a change chunk loads, but is saved anew as one chunk.
        let mut longer = bytes.clone();
        longer.extend(a.changes_after(&[]));
        let mut e = PostDoc::load(&longer, &blog(), "0123456789abcdef").unwrap();
        assert!(!one_document_chunk(&longer));
        assert_eq!(e.save(), fresh(&mut e));
        assert!(one_document_chunk(&e.save()) && e.save().len() < longer.len());
        // Each kind of change makes the next save describe the document as it is now.
        b.write(&content("Spring", "Edited."), 200).unwrap();
        assert_eq!(b.save(), fresh(&mut b));
        let mut c = PostDoc::load(&bytes, &blog(), "0123456789abcdef").unwrap();
        c.merge(&mut b).unwrap();
        assert_eq!(PostDoc::load(&c.save(), &blog(), "0123456789abcdef").unwrap().content().body, "Edited.");
        let mut d = PostDoc::load(&bytes, &blog(), "0123456789abcdef").unwrap();
        let after = b.changes_after(&a.heads());
        d.automerge().load_incremental(&after).unwrap();
        assert_eq!(PostDoc::load(&d.save(), &blog(), "0123456789abcdef").unwrap().content().body, "Edited.");
    }

    #[test]
    fn a_post_document_holds_one_post_and_merges_edits_from_two_computers() {
        let mut a = PostDoc::create(&blog(), "0123456789abcdef", automerge::ActorId::random());
        a.write(&content("Spring", "First words."), 100).unwrap();
        let first = a.heads();
        let bytes = a.save();
        let mut b = PostDoc::load(&bytes, &blog(), "0123456789abcdef").unwrap();
        b.automerge().set_actor(automerge::ActorId::random());
        a.write(&content("Spring", "Edited on A."), 200).unwrap();
        b.write(&PostContent { tags: vec!["notes".into(), "b".into()], ..content("Spring!", "First words.") }, 200).unwrap();
        let (ha, hb) = (a.heads(), b.heads());
        a.merge(&mut b).unwrap();
        let merged = a.content();
        assert_eq!((merged.title.as_str(), merged.body.as_str()), ("Spring!", "Edited on A."));
        assert_eq!(a.content_at(Some(&first)).body, "First words.");
        // Coverage: both computers' heads together cover the merged document; one alone does not.
        let both: Vec<ChangeHash> = ha.iter().chain(&hb).copied().collect();
        assert_eq!(a.check_covered(&both).unwrap(), 4);
        assert!(a.check_covered(&ha).is_err());
        let now = a.heads();
        assert!(a.contains(&now, &first) && a.contains(&both, &ha) && !a.contains(&ha, &hb));
        // Read at heads the document does not hold: all that it holds.
        let listing = Listing { rev: 1, date: chrono::DateTime::UNIX_EPOCH.fixed_offset(), updated: chrono::DateTime::UNIX_EPOCH.fixed_offset(), slug: "spring".into(), heads: vec![ChangeHash([9; 32])] };
        assert_eq!(a.post("0123456789abcdef", &listing).body, "Edited on A.");
        let at_first = Listing { heads: first.clone(), ..listing };
        assert_eq!(a.post("0123456789abcdef", &at_first).body, "First words.");
        // Nothing changed, nothing committed.
        assert_eq!(a.write(&a.content(), 300).unwrap(), None);
        // Each field one computer changed merged; none was written on both.
        assert!(!a.has_conflicts());
        // Both write the body at once: both values stand until one computer writes it again.
        let mut c = PostDoc::load(&a.save(), &blog(), "0123456789abcdef").unwrap();
        c.set_actor(automerge::ActorId::random());
        a.write(&content("Spring!", "A's words."), 400).unwrap();
        c.write(&content("Spring!", "C's words."), 400).unwrap();
        a.merge(&mut c).unwrap();
        assert!(a.has_conflicts());
        a.write(&content("Spring!", "A's words. C's words."), 500).unwrap();
        assert!(!a.has_conflicts(), "a write after the merge settles it");
    }

    #[test]
    fn two_computers_upgrading_one_post_make_the_same_document() {
        let mut post = Post::new("Old post", "Words from schema 1.");
        post.tags = vec!["x".into()];
        let mut a = PostDoc::upgraded(&blog(), &post).unwrap();
        let mut b = PostDoc::upgraded(&blog(), &post).unwrap();
        assert_eq!(a.save(), b.save());
        assert_eq!(a.content(), PostContent { title: "Old post".into(), body: "Words from schema 1.".into(), tags: vec!["x".into()] });
    }

    #[test]
    fn a_hostile_or_foreign_document_is_refused() {
        let mut other = PostDoc::create(&blog(), "fedcba9876543210", automerge::ActorId::random());
        let bytes = other.save();
        assert!(matches!(PostDoc::load(&bytes, &blog(), "0123456789abcdef"), Err(PostDocError::NotThisPost { .. })));
        let mut schema1 = crate::doc::BlogDoc::create(crate::doc::DocKind::Blog, &blog(), "A", &Default::default());
        assert!(matches!(PostDoc::load(&schema1.save(), &blog(), "0123456789abcdef"), Err(PostDocError::NotThisPost { .. })));
        assert!(PostDoc::load(b"not automerge", &blog(), "0123456789abcdef").is_err());
        let bomb = crate::expansion::compressed_change_bomb(128 * 1024 * 1024);
        assert!(matches!(PostDoc::load(&bomb, &blog(), "0123456789abcdef"), Err(PostDocError::Expansion(_))));
    }
}
