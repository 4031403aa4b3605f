//! `spokes/images/1`: the bytes of the images that signed posts link to by hash
//! (`spokes_core::image`). They travel beside the blog document, after a sync session, so
//! the document's sync messages stay small.
//!
//! One exchange per bidirectional stream, frames as in [`crate::frame`]:
//!
//! 1. writer (or replicating spoke) → spoke: `Hello`, JSON [`ImagesHello`]
//!    (`{"protocol":1,"blog_id":"…","have":[…],"want":[…]}`): the images it holds and those
//!    its blog links to but it lacks.
//! 2. spoke → writer: `ImageList`, JSON [`ImageList`]: of the offered, those it `want`s; of
//!    the wanted, those it `have`s. Or `Error` (`unsupported-version`, `not-hosted`,
//!    `malformed`, `internal`), and the exchange ends.
//! 3. writer → spoke: one `Image` frame per wanted image, then an empty `Image` frame.
//! 4. spoke → writer: one `Image` frame per image it has of those wanted, then `Done`
//!    (JSON `{"stored": n}`: how many of step 3 it kept).
//!
//! Each side keeps an image only if it asked for that name and the bytes hash to it
//! ([`ImageName::verify`]); anything else ends the exchange with `bad-image`. A side only asks
//! for images its own verified blog links to, so nobody can store unrelated files on a spoke.

use spokes_core::problem::Code;
use crate::frame::{Frame, FrameType, read_frame, write_frame};
use crate::session::{RemoteError, SyncError, refuse};
use iroh::endpoint::Connection;
use iroh::{Endpoint, EndpointAddr};
use serde::{Deserialize, Serialize};
use spokes_core::BlogId;
use spokes_core::image::ImageName;
use tokio::io::{AsyncRead, AsyncWrite};

/// The ALPN of the images exchange, version 1.
pub const IMAGES_ALPN: &[u8] = b"spokes/images/1";
/// The version carried in its hello.
pub const IMAGES_PROTOCOL: u32 = 1;
/// Most names in one list (a blog with more images exchanges them over several sessions).
pub const MAX_NAMES: usize = 10_000;

/// The first frame of an exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagesHello {
    /// [`IMAGES_PROTOCOL`].
    pub protocol: u32,
    /// The blog the images belong to.
    pub blog_id: BlogId,
    /// Images the sender holds (that its blog links to).
    pub have: Vec<ImageName>,
    /// Images its blog links to that it lacks.
    pub want: Vec<ImageName>,
}

/// The answer to [`ImagesHello`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageList {
    /// Of the offered images, those the answering side wants.
    pub want: Vec<ImageName>,
    /// Of the wanted images, those the answering side has and sends.
    pub have: Vec<ImageName>,
}

/// What the two sides of an exchange moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImagesOutcome {
    /// Images this side sent.
    pub sent: usize,
    /// Images this side received and stored.
    pub received: usize,
}

/// Where one side keeps a blog's images.
pub trait ImageStore: Send + Sync {
    /// Of `offered`, the images `blog` links to and this side lacks. Errors with a
    /// [`RemoteError`] the other side is told (for example `not-hosted`).
    fn wanted(&self, blog: &BlogId, offered: &[ImageName]) -> Result<Vec<ImageName>, RemoteError>;
    /// Of `wanted` (no name twice), those this side holds and may send, without reading
    /// them: for a spoke, only pictures a published post of `blog` shows.
    fn sendable(&self, blog: &BlogId, wanted: &[ImageName]) -> Vec<ImageName>;
    /// The bytes of an image, if held.
    fn get(&self, blog: &BlogId, name: &ImageName) -> Option<Vec<u8>>;
    /// Stores an image whose bytes were checked against its name.
    fn put(&self, blog: &BlogId, name: &ImageName, bytes: &[u8]) -> Result<(), RemoteError>;
}

fn image_frame(name: &ImageName, bytes: &[u8]) -> Frame {
    let mut payload = Vec::with_capacity(name.as_str().len() + 1 + bytes.len());
    payload.extend_from_slice(name.as_str().as_bytes());
    payload.push(b'\n');
    payload.extend_from_slice(bytes);
    Frame { typ: FrameType::Image, payload }
}

/// Splits an `Image` payload into its name and bytes. `None`: malformed.
fn parse_image(payload: &[u8]) -> Option<(ImageName, &[u8])> {
    let nl = payload.iter().take(200).position(|b| *b == b'\n')?;
    let name = std::str::from_utf8(&payload[..nl]).ok()?.parse().ok()?;
    Some((name, &payload[nl + 1..]))
}

async fn send_images<S: AsyncWrite + Unpin>(send: &mut S, store: &dyn ImageStore, blog: &BlogId, names: &[ImageName]) -> Result<usize, SyncError> {
    let mut n = 0;
    for name in names {
        if let Some(bytes) = store.get(blog, name) {
            write_frame(send, &image_frame(name, &bytes)).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// Reads `Image` frames until `end` (an empty `Image`, or `Done`), storing those asked for.
async fn receive_images<R: AsyncRead + Unpin>(recv: &mut R, store: &dyn ImageStore, blog: &BlogId, asked: &[ImageName], end: FrameType) -> Result<usize, RemoteError> {
    let mut stored = 0;
    let mut taken = std::collections::HashSet::new();
    loop {
        let f = read_frame(recv).await.map_err(|e| RemoteError::new(Code::Malformed, e.to_string()))?;
        match f.typ {
            FrameType::Image if f.payload.is_empty() && end == FrameType::Image => return Ok(stored),
            FrameType::Done if end == FrameType::Done => return Ok(stored),
            FrameType::Image => {
                let (name, bytes) = parse_image(&f.payload).ok_or_else(|| RemoteError::new(Code::Malformed, "an image frame without a valid name"))?;
                if !asked.contains(&name) {
                    return Err(RemoteError::new(Code::BadImage, format!("image {name} was not asked for")));
                }
                if !taken.insert(name.clone()) {
                    return Err(RemoteError::new(Code::BadImage, format!("image {name} was sent twice")));
                }
                if !name.verify(bytes) {
                    return Err(RemoteError::new(Code::BadImage, format!("the bytes sent as {name} do not match its hash")));
                }
                store.put(blog, &name, bytes)?;
                stored += 1;
            }
            FrameType::Error => return Err(crate::session::refusal_from_peer(&f)),
            other => return Err(RemoteError::new(Code::Malformed, format!("unexpected {other:?} frame"))),
        }
    }
}

/// Exchanges images of `blog_id` with the spoke at `addr`: sends those it wants of `have`,
/// receives those it has of `want` into `store`. Errors: [`SyncError`] (unreachable,
/// timeout, refusal with its code, an image that does not match its name).
pub async fn exchange(endpoint: &Endpoint, addr: EndpointAddr, blog_id: &BlogId, store: &dyn ImageStore, have: Vec<ImageName>, want: Vec<ImageName>) -> Result<ImagesOutcome, SyncError> {
    let conn = crate::peer::dial(endpoint, addr, IMAGES_ALPN).await?;
    let r = crate::peer::while_moving(&conn, crate::peer::SESSION_IDLE_TIMEOUT, async {
        let (mut send, mut recv) = conn.open_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
        let hello = ImagesHello { protocol: IMAGES_PROTOCOL, blog_id: blog_id.clone(), have: distinct(&have).into_iter().take(MAX_NAMES).collect(), want: distinct(&want).into_iter().take(MAX_NAMES).collect() };
        write_frame(&mut send, &Frame::json(FrameType::Hello, &hello)).await?;
        let f = read_frame(&mut recv).await?;
        let list: ImageList = match f.typ {
            FrameType::ImageList => f.parse_json()?,
            FrameType::Error => return Err(SyncError::Remote(crate::session::refusal_from_peer(&f))),
            other => return Err(crate::FrameError::Unexpected { expected: FrameType::ImageList, got: other }.into()),
        };
        // Only what was offered is sent, only what was wanted is taken.
        let to_send: Vec<ImageName> = distinct(&list.want).into_iter().filter(|n| hello.have.contains(n)).collect();
        let sent = send_images(&mut send, store, blog_id, &to_send).await?;
        write_frame(&mut send, &Frame { typ: FrameType::Image, payload: vec![] }).await?;
        let asked: Vec<ImageName> = list.have.into_iter().filter(|n| hello.want.contains(n)).collect();
        let received = receive_images(&mut recv, store, blog_id, &asked, FrameType::Done).await.map_err(SyncError::Remote)?;
        let _ = send.finish();
        Ok(ImagesOutcome { sent, received })
    })
    .await;
    conn.close(0u32.into(), b"done");
    r
}

/// `names` without repeats, in their first order.
fn distinct(names: &[ImageName]) -> Vec<ImageName> {
    let mut seen = std::collections::HashSet::new();
    names.iter().filter(|n| seen.insert(*n)).cloned().collect()
}

/// Answers one incoming images connection (one exchange).
pub async fn respond(store: &dyn ImageStore, conn: Connection) -> Result<ImagesOutcome, SyncError> {
    let (mut send, mut recv) = conn.accept_bi().await.map_err(|e| SyncError::Connect(e.to_string()))?;
    let r = crate::peer::while_moving(&conn, crate::peer::SESSION_IDLE_TIMEOUT, async {
        let first = read_frame(&mut recv).await?;
        if first.typ != FrameType::Hello {
            return Err(refuse(&mut send, RemoteError::new(Code::Malformed, "the exchange must start with hello")).await);
        }
        let hello: ImagesHello = match first.parse_json() {
            Ok(h) => h,
            Err(e) => return Err(refuse(&mut send, RemoteError::new(Code::Malformed, e.to_string())).await),
        };
        if hello.protocol != IMAGES_PROTOCOL {
            return Err(refuse(&mut send, RemoteError::new(Code::UnsupportedVersion, format!("images protocol {} is not supported; this spoke speaks {IMAGES_PROTOCOL}", hello.protocol))).await);
        }
        if hello.have.len() > MAX_NAMES || hello.want.len() > MAX_NAMES {
            return Err(refuse(&mut send, RemoteError::new(Code::Malformed, format!("at most {MAX_NAMES} names per list"))).await);
        }
        // A name listed twice is answered once: a list of one name repeated must not make
        // this side read and send one picture thousands of times.
        let (offered, wanted) = (distinct(&hello.have), distinct(&hello.want));
        let want = match store.wanted(&hello.blog_id, &offered) {
            Ok(w) => w,
            Err(e) => return Err(refuse(&mut send, e).await),
        };
        let have = store.sendable(&hello.blog_id, &wanted);
        write_frame(&mut send, &Frame::json(FrameType::ImageList, &ImageList { want: want.clone(), have: have.clone() })).await?;
        let received = match receive_images(&mut recv, store, &hello.blog_id, &want, FrameType::Image).await {
            Ok(n) => n,
            Err(e) => return Err(refuse(&mut send, e).await),
        };
        let sent = send_images(&mut send, store, &hello.blog_id, &have).await?;
        write_frame(&mut send, &Frame::json(FrameType::Done, &serde_json::json!({ "stored": received }))).await?;
        let _ = send.finish();
        Ok(ImagesOutcome { sent, received })
    })
    .await;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn.closed()).await;
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    const PNG: &[u8] = spokes_core::image::EXAMPLE_PNG;

    /// An in-memory store that links to `linked` (what its blog's posts show).
    #[derive(Default)]
    struct Mem {
        linked: Vec<ImageName>,
        held: Mutex<HashMap<ImageName, Vec<u8>>>,
        lie: bool,
        reads: std::sync::atomic::AtomicUsize,
    }
    impl ImageStore for Mem {
        fn wanted(&self, _: &BlogId, offered: &[ImageName]) -> Result<Vec<ImageName>, RemoteError> {
            let held = self.held.lock().unwrap();
            Ok(offered.iter().filter(|n| self.linked.contains(n) && !held.contains_key(n)).cloned().collect())
        }
        fn sendable(&self, _: &BlogId, wanted: &[ImageName]) -> Vec<ImageName> {
            let held = self.held.lock().unwrap();
            wanted.iter().filter(|n| self.linked.contains(n) && held.contains_key(n)).cloned().collect()
        }
        fn get(&self, _: &BlogId, name: &ImageName) -> Option<Vec<u8>> {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut b = self.held.lock().unwrap().get(name).cloned()?;
            if self.lie {
                b[60] ^= 1;
            }
            Some(b)
        }
        fn put(&self, _: &BlogId, name: &ImageName, bytes: &[u8]) -> Result<(), RemoteError> {
            self.held.lock().unwrap().insert(name.clone(), bytes.to_vec());
            Ok(())
        }
    }

    async fn pair() -> (Endpoint, Endpoint) {
        let a = crate::net::bind_endpoint(iroh::SecretKey::generate(), "127.0.0.1:0".parse().unwrap(), vec![]).await.unwrap();
        let b = crate::net::bind_endpoint(iroh::SecretKey::generate(), "127.0.0.1:0".parse().unwrap(), vec![IMAGES_ALPN.to_vec()]).await.unwrap();
        (a, b)
    }

    async fn run(client: &Mem, spoke: std::sync::Arc<Mem>, have: Vec<ImageName>, want: Vec<ImageName>) -> (Result<ImagesOutcome, SyncError>, Result<ImagesOutcome, SyncError>) {
        let (a, b) = pair().await;
        let addr = b.addr();
        let server = tokio::spawn(async move {
            let conn = b.accept().await.unwrap().await.unwrap();
            respond(spoke.as_ref(), conn).await
        });
        let blog: BlogId = "0123456789abcdef0123456789abcdef".parse().unwrap();
        let c = exchange(&a, addr, &blog, client, have, want).await;
        (c, server.await.unwrap())
    }

    #[tokio::test]
    async fn a_linked_image_goes_up_and_a_missing_one_comes_down() {
        let png = ImageName::for_bytes(PNG).unwrap();
        let mut other = PNG.to_vec();
        other.extend_from_slice(b"trailing bytes make another file");
        let other_name = ImageName::for_bytes(&other).unwrap();
        let writer = Mem { linked: vec![png.clone(), other_name.clone()], ..Default::default() };
        writer.held.lock().unwrap().insert(png.clone(), PNG.to_vec());
        let spoke = std::sync::Arc::new(Mem { linked: vec![png.clone(), other_name.clone()], ..Default::default() });
        spoke.held.lock().unwrap().insert(other_name.clone(), other.clone());
        let (c, s) = run(&writer, spoke.clone(), vec![png.clone()], vec![other_name.clone()]).await;
        assert_eq!(c.unwrap(), ImagesOutcome { sent: 1, received: 1 });
        assert_eq!(s.unwrap(), ImagesOutcome { sent: 1, received: 1 });
        assert_eq!(spoke.held.lock().unwrap().get(&png).unwrap(), PNG);
        assert_eq!(writer.held.lock().unwrap().get(&other_name).unwrap(), &other);
    }

    #[tokio::test]
    async fn an_unlinked_image_is_not_taken_and_altered_bytes_are_refused() {
        let png = ImageName::for_bytes(PNG).unwrap();
        // The spoke's blog does not link to it: nothing moves.
        let writer = Mem::default();
        writer.held.lock().unwrap().insert(png.clone(), PNG.to_vec());
        let spoke = std::sync::Arc::new(Mem::default());
        let (c, _) = run(&writer, spoke.clone(), vec![png.clone()], vec![]).await;
        assert_eq!(c.unwrap(), ImagesOutcome { sent: 0, received: 0 });
        assert!(spoke.held.lock().unwrap().is_empty());
        // A writer whose bytes do not match the name is refused, and nothing is stored.
        let liar = Mem { lie: true, ..Default::default() };
        liar.held.lock().unwrap().insert(png.clone(), PNG.to_vec());
        let spoke = std::sync::Arc::new(Mem { linked: vec![png.clone()], ..Default::default() });
        let (c, s) = run(&liar, spoke.clone(), vec![png.clone()], vec![]).await;
        assert_eq!(c.unwrap_err().code(), "bad-image");
        assert_eq!(s.unwrap_err().code(), "bad-image");
        assert!(spoke.held.lock().unwrap().is_empty());
    }

    /// Attack 16 of the hostile-peers issue: a want list of one name repeated a thousand
    /// times is answered with one picture read once, and a picture no published post shows
    /// is not sent.
    #[tokio::test]
    async fn a_repeated_want_is_answered_once_and_an_unshown_picture_is_not_sent() {
        let png = ImageName::for_bytes(PNG).unwrap();
        let mut hidden = PNG.to_vec();
        hidden.extend_from_slice(b"a picture of a post taken down");
        let hidden_name = ImageName::for_bytes(&hidden).unwrap();
        let spoke = std::sync::Arc::new(Mem { linked: vec![png.clone()], ..Default::default() });
        spoke.held.lock().unwrap().insert(png.clone(), PNG.to_vec());
        spoke.held.lock().unwrap().insert(hidden_name.clone(), hidden.clone());
        // The client side deduplicates what it sends; a hostile one would not, so the
        // respond side is checked with a hand-made hello below as well.
        let mut want = vec![png.clone(); 1000];
        want.push(hidden_name.clone());
        let writer = Mem::default();
        let (c, s) = run(&writer, spoke.clone(), vec![], want.clone()).await;
        assert_eq!(c.unwrap(), ImagesOutcome { sent: 0, received: 1 });
        assert_eq!(s.unwrap(), ImagesOutcome { sent: 1, received: 0 });
        assert!(!writer.held.lock().unwrap().contains_key(&hidden_name), "an unshown picture was sent");
        assert_eq!(spoke.reads.load(std::sync::atomic::Ordering::Relaxed), 1);
        // A hostile hello with the repeats left in.
        let (a, b) = pair().await;
        let addr = b.addr();
        let spoke2 = spoke.clone();
        let server = tokio::spawn(async move { respond(spoke2.as_ref(), b.accept().await.unwrap().await.unwrap()).await });
        let conn = a.connect(addr, IMAGES_ALPN).await.unwrap();
        let (mut send, mut recv) = conn.open_bi().await.unwrap();
        let blog: BlogId = "0123456789abcdef0123456789abcdef".parse().unwrap();
        write_frame(&mut send, &Frame::json(FrameType::Hello, &ImagesHello { protocol: IMAGES_PROTOCOL, blog_id: blog, have: vec![], want })).await.unwrap();
        let list: ImageList = read_frame(&mut recv).await.unwrap().parse_json().unwrap();
        assert_eq!(list.have, vec![png.clone()]);
        write_frame(&mut send, &Frame { typ: FrameType::Image, payload: vec![] }).await.unwrap();
        let mut images = 0;
        loop {
            let f = read_frame(&mut recv).await.unwrap();
            match f.typ {
                FrameType::Image => images += 1,
                _ => break,
            }
        }
        assert_eq!(images, 1);
        assert_eq!(server.await.unwrap().unwrap().sent, 1);
        conn.close(0u32.into(), b"done");
    }
}
