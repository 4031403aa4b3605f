//! Pictures in posts: kept in the profile's `images/` folder under their content hash
//! (`spokes_core::image`), linked from the Markdown as `images/<name>`, and moved to and from
//! the spokes on `spokes/images/1` after each sync of the blog.
//!
//! The signed blog holds only the links, so the signatures cover each picture's hash; the
//! bytes are checked against it wherever they arrive.

use spokes_core::problem::Code;
use crate::fsutil::write_atomic;
use crate::publish::{Problem, SpokeTarget};
use crate::{Profile, ProfileError};
use spokes_core::image::{ImageName, referenced_images};
use spokes_core::{BlogId, PostState};
use spokes_sync::RemoteError;
use spokes_sync::images::{ImageStore, ImagesOutcome};
use spokes_sync::peer::ConnectionPool;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The pictures each published post shows, as of `heads` of the blog.
#[derive(Debug, Default)]
pub(crate) struct PublishedImages {
    heads: Vec<automerge::ChangeHash>,
    per_post: std::collections::HashMap<String, Vec<ImageName>>,
}

/// What [`Profile::published_images`] keeps between calls: for a blog kept as one document,
/// the pictures per post as of some heads of it; for a set, [`SetImages`].
#[derive(Debug, Default)]
pub(crate) struct ImageIndex {
    blog: Option<PublishedImages>,
    set: Option<SetImages>,
    /// Per spoke (endpoint ID), the BLAKE3 hash of the published pictures' names (sorted,
    /// one per line) that an exchange with it in this process ended well with: the spoke
    /// holds them all. Kept in memory only, so each new process asks every spoke once.
    confirmed: BTreeMap<String, blake3::Hash>,
}

/// The hash [`ImageIndex::confirmed`] keeps for the published pictures `names`.
fn names_hash(names: &BTreeSet<ImageName>) -> blake3::Hash {
    let mut h = blake3::Hasher::new();
    for n in names {
        h.update(n.as_str().as_bytes());
        h.update(b"\n");
    }
    h.finalize()
}

/// The file that keeps [`SetImages`] between runs (a cache: unreadable or of another version,
/// it is built again from the post documents).
const SET_IMAGES: &str = "set/images.json";

/// The version of [`SET_IMAGES`]' format.
const SET_IMAGES_VERSION: u32 = 1;

/// Posts whose heads moved without their pictures changing that [`SET_IMAGES`] may lag
/// behind: such an update (most publishes) is written with the next change of pictures or
/// once this many have gathered, not at every publish; a new process reads at most this many
/// posts' documents again.
const SET_IMAGES_STALE: usize = 32;

/// The pictures each post of a set links to at the heads a manifest lists for it: a post is
/// read again only when its listed heads change, so a publish reads what it published, and a
/// new process (the CLI) reads none of the blog. Stored as `set/images.json`:
/// `{"version": 1, "posts": {post ID: {"heads": [hex], "images": [name]}}}`.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct SetImages {
    version: u32,
    posts: BTreeMap<String, SetPostImages>,
    /// Pictures changed since read or written.
    #[serde(skip)]
    dirty: bool,
    /// Posts whose heads alone changed since read or written.
    #[serde(skip)]
    stale: usize,
}

impl SetImages {
    /// Notes that post `id` lists `images` at `heads`.
    fn note(&mut self, id: &str, heads: Vec<automerge::ChangeHash>, images: Vec<ImageName>) {
        if self.posts.get(id).is_some_and(|old| old.images == images) {
            self.stale += 1;
        } else {
            self.dirty = true;
        }
        self.posts.insert(id.to_owned(), SetPostImages { heads, images });
    }

    /// Whether the file should be written now.
    fn due(&self) -> bool {
        self.dirty || self.stale >= SET_IMAGES_STALE
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct SetPostImages {
    heads: Vec<automerge::ChangeHash>,
    images: Vec<ImageName>,
}

impl Profile {
    fn image_path(&self, name: &ImageName) -> PathBuf {
        self.path("images").join(name.as_str())
    }

    /// Keeps a picture with the blog and returns its name; link it from a post with
    /// [`spokes_core::image::markdown_link`]. Adding the same picture twice stores it once.
    /// Errors: [`ProfileError::Image`] (not PNG, JPEG, GIF, WebP or AVIF, or over 15 MiB),
    /// [`ProfileError::Io`].
    pub fn add_image(&self, bytes: &[u8]) -> Result<ImageName, ProfileError> {
        let name = ImageName::for_bytes(bytes)?;
        let path = self.image_path(&name);
        if !path.is_file() {
            let io = |e| ProfileError::Io { path: path.clone(), source: e };
            std::fs::create_dir_all(self.path("images")).map_err(io)?;
            write_atomic(&path, bytes).map_err(io)?;
        }
        Ok(name)
    }

    /// The bytes of a stored picture, if this computer has it and they match its name (a
    /// damaged file counts as missing, so it is fetched again).
    pub fn image(&self, name: &ImageName) -> Option<Vec<u8>> {
        std::fs::read(self.image_path(name)).ok().filter(|b| name.verify(b))
    }

    /// The pictures the published posts link to. Only the posts changed since the last call
    /// are read again (a publish of one post in a long blog reads that post), found with
    /// Automerge's diff; the first call reads every post.
    pub fn published_images(&self) -> Result<BTreeSet<ImageName>, ProfileError> {
        if self.is_set() {
            return self.set_published_images();
        }
        let mut index = self.images.lock().unwrap_or_else(|p| p.into_inner());
        let cache = &mut index.blog;
        self.with_blog(|b| {
            let heads = b.heads();
            let changed = match cache.as_ref() {
                Some(c) if c.heads == heads => None,
                Some(c) => b.changed_post_ids(&c.heads).ok(),
                None => None,
            };
            let fresh = match (cache.take(), changed) {
                (Some(c), None) if c.heads == heads => c,
                (Some(mut c), Some(ids)) => {
                    for id in ids {
                        match b.post(&id).filter(|p| p.state == PostState::Published) {
                            Some(p) => c.per_post.insert(id, referenced_images(&p.body)),
                            None => c.per_post.remove(&id),
                        };
                    }
                    c.heads = heads;
                    c
                }
                _ => PublishedImages { per_post: b.posts().into_iter().filter(|p| p.state == PostState::Published).map(|p| (p.id.clone(), referenced_images(&p.body))).collect(), heads },
            };
            let all = fresh.per_post.values().flatten().cloned().collect();
            *cache = Some(fresh);
            Ok(all)
        })
    }

    /// [`Profile::published_images`] of a set: the pictures of the posts its manifests list,
    /// at the heads they list (a scheduled post's pictures wait with its words). Posts whose
    /// listed heads differ from the index's are read from their documents; the index is
    /// written back when it changed.
    fn set_published_images(&self) -> Result<BTreeSet<ImageName>, ProfileError> {
        let replica = self.load_set()?;
        let Some(merged) = replica.merged() else { return Ok(BTreeSet::new()) };
        let mut index = self.images.lock().unwrap_or_else(|p| p.into_inner());
        let set = self.set_images(&mut index);
        for (id, listing) in merged.posts() {
            if set.posts.get(id).is_some_and(|p| p.heads == listing.heads) {
                continue;
            }
            let Some(doc) = self.load_set_post(id) else { continue };
            set.note(id, listing.heads.clone(), referenced_images(&doc.post(id, listing).body));
        }
        let before = set.posts.len();
        set.posts.retain(|id, _| matches!(merged.entries().get(id), Some(spokes_core::manifest::Entry::Post(_))));
        set.dirty |= set.posts.len() != before;
        if set.due() {
            // A cache, built again from the documents if lost or torn: replaced whole, not flushed.
            let path = self.path(SET_IMAGES);
            crate::fsutil::replace_unflushed(&path, &serde_json::to_vec(&*set).unwrap_or_default()).map_err(|source| ProfileError::Io { path, source })?;
            (set.dirty, set.stale) = (false, 0);
        }
        Ok(set.posts.values().flat_map(|p| p.images.iter().cloned()).collect())
    }

    /// Notes the pictures of posts a signing just listed (post ID, the heads listed, its
    /// body), so the next [`Profile::published_images`] does not read their documents again.
    pub(crate) fn note_set_images(&self, listed: &[(String, Vec<automerge::ChangeHash>, String)]) {
        let mut index = self.images.lock().unwrap_or_else(|p| p.into_inner());
        let set = self.set_images(&mut index);
        for (id, heads, body) in listed {
            set.note(id, heads.clone(), referenced_images(body));
        }
    }

    /// The set's picture index: held, else read from its file, else empty.
    fn set_images<'a>(&self, index: &'a mut ImageIndex) -> &'a mut SetImages {
        index.set.get_or_insert_with(|| {
            self.read(SET_IMAGES)
                .ok()
                .and_then(|b| serde_json::from_slice::<SetImages>(&b).ok())
                .filter(|s| s.version == SET_IMAGES_VERSION)
                .unwrap_or(SetImages { version: SET_IMAGES_VERSION, ..Default::default() })
        })
    }

    /// Exchanges pictures with every target that just synced: sends the published ones it
    /// lacks, fetches those missing here (published from another computer, or after a
    /// restore). Returns a problem per spoke that failed. No-op for a blog without pictures.
    ///
    /// A spoke that an earlier exchange in this process left holding every picture published
    /// now is not asked again while none is missing here: a later publish that adds no
    /// picture opens no connection for pictures (it cost a connection and the whole list of
    /// names per spoke, about 9 ms of a 37 ms publish). A spoke that lost pictures behind the
    /// writer's back gets them at the next new picture or the next start of the app.
    pub(crate) async fn sync_images(&self, pool: &ConnectionPool, targets: &[SpokeTarget]) -> Result<BTreeMap<String, Problem>, ProfileError> {
        let linked = self.published_images()?;
        let mut failed = BTreeMap::new();
        if linked.is_empty() {
            return Ok(failed);
        }
        let hash = names_hash(&linked);
        let store = ProfileImages { profile: self.clone(), linked: linked.clone() };
        let (have, want): (Vec<ImageName>, Vec<ImageName>) = linked.into_iter().partition(|n| self.image(n).is_some());
        let targets: Vec<&SpokeTarget> = {
            let index = self.images.lock().unwrap_or_else(|p| p.into_inner());
            targets.iter().filter(|t| !want.is_empty() || index.confirmed.get(&t.endpoint) != Some(&hash)).collect()
        };
        let runs = targets.iter().map(|t| {
            let (store, have, want) = (&store, have.clone(), want.clone());
            async move {
                let r = match t.endpoint_addr() {
                    Ok(addr) => spokes_sync::images::exchange(pool.endpoint(), addr, self.blog_id(), store, have, want).await,
                    Err(e) => Err(spokes_sync::SyncError::Connect(e)),
                };
                (t.endpoint.clone(), r)
            }
        });
        for (endpoint, r) in futures_util::future::join_all(runs).await {
            let mut index = self.images.lock().unwrap_or_else(|p| p.into_inner());
            index.confirmed.remove(&endpoint);
            match r {
                Ok(ImagesOutcome { sent, received }) => {
                    tracing::debug!(spoke = endpoint, sent, received, "pictures exchanged");
                    // Nothing was missing here, and every name fitted in the offer.
                    if want.is_empty() && have.len() <= spokes_sync::images::MAX_NAMES {
                        index.confirmed.insert(endpoint, hash);
                    }
                }
                Err(e) => {
                    tracing::warn!(spoke = endpoint, "pictures not exchanged: {e}");
                    failed.insert(endpoint, Problem::new(Code::ImagesUndelivered, "The pictures could not be delivered to this spoke. Spokes will try again."));
                }
            }
        }
        Ok(failed)
    }
}

/// The profile as one side of an images exchange: it takes only pictures its published
/// posts link to.
struct ProfileImages {
    profile: Profile,
    linked: BTreeSet<ImageName>,
}

impl ImageStore for ProfileImages {
    fn wanted(&self, _: &BlogId, offered: &[ImageName]) -> Result<Vec<ImageName>, RemoteError> {
        Ok(offered.iter().filter(|n| self.linked.contains(*n) && self.profile.image(n).is_none()).cloned().collect())
    }
    fn sendable(&self, _: &BlogId, wanted: &[ImageName]) -> Vec<ImageName> {
        wanted.iter().filter(|n| self.linked.contains(*n) && self.profile.image(n).is_some()).cloned().collect()
    }
    fn get(&self, _: &BlogId, name: &ImageName) -> Option<Vec<u8>> {
        self.profile.image(name)
    }
    fn put(&self, _: &BlogId, name: &ImageName, bytes: &[u8]) -> Result<(), RemoteError> {
        self.profile.add_image(bytes).map(|_| ()).map_err(|e| RemoteError::new(Code::Internal, format!("could not keep picture {name}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::BlogSettings;

    const PNG: &[u8] = spokes_core::image::EXAMPLE_PNG;

    #[test]
    fn a_picture_is_kept_once_by_hash_and_a_damaged_copy_counts_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::create(dir.path(), "Ada", "a long passphrase", &BlogSettings { title: "Notes".into(), ..Default::default() }).unwrap();
        let name = p.add_image(PNG).unwrap();
        assert_eq!(p.add_image(PNG).unwrap(), name);
        assert_eq!(p.image(&name).unwrap(), PNG);
        assert_eq!(std::fs::read_dir(dir.path().join("images")).unwrap().count(), 1);
        let e = p.add_image(b"<svg/>").unwrap_err();
        assert_eq!(e.code(), "bad-image");

        // Only published posts count.
        let post = p.new_post("With a dot", &format!("Look: {}", spokes_core::image::markdown_link(&name, "a dot")), &[]).unwrap();
        assert!(p.published_images().unwrap().is_empty());
        let mut key = p.unlock("a long passphrase").unwrap();
        p.publish_local(&mut key, Some(&[post.id])).unwrap();
        assert_eq!(p.published_images().unwrap().into_iter().collect::<Vec<_>>(), vec![name.clone()]);

        std::fs::write(dir.path().join("images").join(name.as_str()), b"\x89PNG damaged").unwrap();
        assert!(p.image(&name).is_none());
    }

    #[test]
    fn a_set_lists_the_pictures_of_its_listed_posts_and_keeps_the_index_between_runs() {
        let dir = tempfile::tempdir().unwrap();
        let pass = "a long passphrase";
        let p = Profile::create(dir.path(), "Ada", pass, &BlogSettings { title: "Notes".into(), ..Default::default() }).unwrap();
        let name = p.add_image(PNG).unwrap();
        let other = p.add_image(&[PNG, b"another picture"].concat()).unwrap();
        let now = || chrono::Utc::now().fixed_offset();
        let mut key = p.unlock(pass).unwrap();
        let first = p.new_post("With a dot", &format!("Look: {}", spokes_core::image::markdown_link(&name, "a dot")), &[]).unwrap();
        p.publish_local(&mut key, None).unwrap();
        p.upgrade_to_set(&mut key, now()).unwrap();
        // Built from the post documents after the upgrade, and written down.
        assert_eq!(p.published_images().unwrap().into_iter().collect::<Vec<_>>(), vec![name.clone()]);
        assert!(dir.path().join(SET_IMAGES).is_file());

        // A post signed into the set is noted by the signing: its document is not read again.
        let second = p.new_post("With a photo", &format!("See {}", spokes_core::image::markdown_link(&other, "a photo")), &[]).unwrap();
        p.publish_local(&mut key, Some(std::slice::from_ref(&second.id))).unwrap();
        assert!(p.sign_set(&mut key, now()).unwrap());
        let doc = dir.path().join(format!("set/posts/{}.automerge", second.id));
        let bytes = std::fs::read(&doc).unwrap();
        std::fs::remove_file(&doc).unwrap();
        assert_eq!(p.published_images().unwrap(), BTreeSet::from([name.clone(), other.clone()]));
        // Another run (the CLI) reads the index, not the documents.
        let again = Profile::open(dir.path()).unwrap();
        assert_eq!(again.published_images().unwrap(), BTreeSet::from([name.clone(), other.clone()]));
        std::fs::write(&doc, bytes).unwrap();

        // A damaged index is built again from the documents.
        std::fs::write(dir.path().join(SET_IMAGES), b"{\"version\": 1, \"posts\": [").unwrap();
        let again = Profile::open(dir.path()).unwrap();
        assert_eq!(again.published_images().unwrap(), BTreeSet::from([name.clone(), other.clone()]));

        // A post taken back takes its pictures with it.
        p.unpublish(&mut key, &first.id).unwrap();
        p.sign_set(&mut key, now()).unwrap();
        assert_eq!(p.published_images().unwrap().into_iter().collect::<Vec<_>>(), vec![other]);
    }

    /// A publish that changes words but no picture does not rewrite the index each time (a
    /// long blog's index is rewritten only when pictures change, or once every
    /// [`SET_IMAGES_STALE`] such publishes); another run still lists the right pictures.
    #[test]
    fn the_picture_index_is_written_when_pictures_change_not_at_every_publish() {
        let dir = tempfile::tempdir().unwrap();
        let pass = "a long passphrase";
        let p = Profile::create(dir.path(), "Ada", pass, &BlogSettings { title: "Notes".into(), ..Default::default() }).unwrap();
        let name = p.add_image(PNG).unwrap();
        let now = || chrono::Utc::now().fixed_offset();
        let mut key = p.unlock(pass).unwrap();
        let link = spokes_core::image::markdown_link(&name, "a dot");
        let post = p.new_post("With a dot", &format!("Look: {link}"), &[]).unwrap();
        p.publish_local(&mut key, None).unwrap();
        p.upgrade_to_set(&mut key, now()).unwrap();
        assert_eq!(p.published_images().unwrap(), BTreeSet::from([name.clone()]));
        let index = || std::fs::read(dir.path().join(SET_IMAGES)).unwrap();
        let written = index();
        let republish = |body: &str| {
            let mut edited = p.draft(&post.id).unwrap().unwrap();
            edited.body = body.to_owned();
            p.update_post(&edited).unwrap();
            p.publish_local(&mut key.clone(), Some(std::slice::from_ref(&post.id))).unwrap();
            assert!(p.sign_set(&mut key.clone(), now()).unwrap());
            p.published_images().unwrap()
        };
        for i in 0..3 {
            assert_eq!(republish(&format!("Look again ({i}): {link}")), BTreeSet::from([name.clone()]));
            assert_eq!(index(), written, "a publish that changed no picture rewrote the index");
        }
        // Another run reads the post whose heads moved, and lists the same pictures.
        assert_eq!(Profile::open(dir.path()).unwrap().published_images().unwrap(), BTreeSet::from([name.clone()]));
        // A picture removed is written down at once.
        assert!(republish("No pictures now.").is_empty());
        assert_ne!(index(), written);
        assert!(Profile::open(dir.path()).unwrap().published_images().unwrap().is_empty());
        // Enough publishes of words alone are written down too.
        let before = index();
        for i in 0..SET_IMAGES_STALE {
            republish(&format!("Words, take {i}."));
        }
        assert_ne!(index(), before, "the index never caught up with the heads");
    }
}
