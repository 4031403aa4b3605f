//! A test-only hostile peer: it speaks `spokes/sync/1` over a real iroh endpoint to a real
//! `spoke` process and sends whatever frames a test scripts, in the order an initiator
//! sends them. Nothing here is a fake of the spoke: the spoke under attack is the program
//! operators run.

use spokes_sync::frame::{Frame, FrameType, read_frame, write_frame};
use spokes_sync::session::{Hello, RemoteError};
use spokes_sync::ticket::Ticket;
use std::time::Duration;

/// A hostile peer with its own endpoint (a fresh key: a stranger).
pub struct HostilePeer {
    rt: tokio::runtime::Runtime,
    endpoint: iroh::Endpoint,
}

/// What the spoke answered in one session (`Debug` shows the frame types only).
#[derive(Default)]
pub struct Answers {
    /// Every frame the spoke sent, in order.
    pub frames: Vec<Frame>,
}

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.frames.iter().map(|fr| fr.typ)).finish()
    }
}

impl Answers {
    /// The refusal the spoke sent, if it sent one.
    pub fn refusal(&self) -> Option<RemoteError> {
        self.frames.iter().find(|f| f.typ == FrameType::Error).and_then(|f| f.parse_json().ok())
    }
}

impl Default for HostilePeer {
    fn default() -> Self {
        HostilePeer::new()
    }
}

impl HostilePeer {
    /// A stranger on 127.0.0.1.
    pub fn new() -> HostilePeer {
        HostilePeer::with_key(iroh::SecretKey::generate())
    }

    /// A peer whose endpoint has `key` (for a test that signs as that endpoint, as council
    /// entries are signed).
    pub fn with_key(key: iroh::SecretKey) -> HostilePeer {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let endpoint = rt.block_on(spokes_sync::net::bind_endpoint(key, "127.0.0.1:0".parse().expect("addr"), vec![])).expect("endpoint");
        HostilePeer { rt, endpoint }
    }

    /// This peer's endpoint ID (as the spoke records it).
    pub fn id(&self) -> String {
        self.endpoint.id().to_string()
    }

    /// One session with the spoke behind `ticket`: sends `frames` in order, reading the
    /// spoke's answer after each; stops at the spoke's first `Error` frame, then reads what
    /// is left until the stream ends (or 30 s pass).
    pub fn session(&self, ticket: &str, frames: Vec<Frame>) -> Answers {
        let addr = Ticket::decode(ticket).expect("ticket").endpoint_addr().expect("address");
        self.session_on(addr, spokes_sync::ALPN, frames)
    }

    /// [`HostilePeer::session`] with the endpoint at `addr`, on the protocol `alpn` (the
    /// images or council protocol, say).
    pub fn session_on(&self, addr: iroh::EndpointAddr, alpn: &[u8], frames: Vec<Frame>) -> Answers {
        self.rt.block_on(async {
            let mut answers = Answers::default();
            let Ok(conn) = self.endpoint.connect(addr, alpn).await else { return answers };
            let Ok((mut send, mut recv)) = conn.open_bi().await else { return answers };
            let run = async {
                for f in frames {
                    if write_frame(&mut send, &f).await.is_err() {
                        break;
                    }
                    match read_frame(&mut recv).await {
                        Ok(a) => {
                            let refused = a.typ == FrameType::Error;
                            answers.frames.push(a);
                            if refused {
                                return;
                            }
                        }
                        Err(_) => return,
                    }
                }
                while let Ok(a) = read_frame(&mut recv).await {
                    let refused = a.typ == FrameType::Error;
                    answers.frames.push(a);
                    if refused {
                        return;
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(30), run).await;
            conn.close(0u32.into(), b"done");
            answers
        })
    }
}

/// A hello for `blog` (no invite token), with `heads` when the changes step is wanted.
pub fn hello(blog: &str, heads: Option<&[automerge::ChangeHash]>) -> Frame {
    let mut h = Hello::new(blog.parse().expect("blog ID"), None);
    if let Some(heads) = heads {
        h = h.with_heads(heads);
    }
    Frame::json(FrameType::Hello, &h)
}

/// The certificate frame: `armored` as given.
pub fn certificate(armored: Vec<u8>) -> Frame {
    Frame { typ: FrameType::Certificate, payload: armored }
}

/// A statements frame holding `statements` (JSON, as the protocol sends them).
pub fn statements(statements: &[spokes_core::SignedStatement]) -> Frame {
    Frame::json(FrameType::Statements, &statements)
}

/// The last (and only) part of the changes step, carrying `bytes` as change chunks.
pub fn changes(bytes: &[u8]) -> Frame {
    let mut payload = vec![0u8];
    payload.extend_from_slice(bytes);
    Frame { typ: FrameType::Changes, payload }
}

/// A sync message (version 1) carrying `chunks` as its changes.
pub fn sync_message(chunks: Vec<Vec<u8>>) -> Frame {
    let m = automerge::sync::Message { heads: vec![], need: vec![], have: vec![], changes: chunks.into(), flags: None, version: automerge::sync::MessageVersion::V1 };
    Frame { typ: FrameType::SyncMessage, payload: m.encode() }
}

/// A whole session that brings nothing: the blog's hello, `cert`, no statements, empty sync
/// messages (the spoke sends its one message in the first round; the second is empty on
/// both sides), then done.
pub fn empty_session(blog: &str, cert: Vec<u8>) -> Vec<spokes_sync::Frame> {
    let empty = spokes_sync::Frame { typ: spokes_sync::FrameType::SyncMessage, payload: vec![] };
    let done = spokes_sync::Frame::json(spokes_sync::FrameType::Done, &serde_json::json!({"heads": []}));
    vec![hello(blog, None), certificate(cert), statements(&[]), empty.clone(), empty, done]
}

/// A `spokes/sync/2` hello for `blog` (protocol 2, no invite token).
pub fn set_hello(blog: &str) -> Frame {
    Frame::json(FrameType::Hello, &serde_json::json!({"protocol": 2, "blog_id": blog}))
}

/// The last (and only) part of the manifests step of `spokes/sync/2`, carrying `manifests`
/// (a JSON array of manifests as `set/manifests.json` stores them, or anything else a test
/// sends).
pub fn manifests(manifests: &serde_json::Value) -> Frame {
    let mut payload = vec![0u8];
    payload.extend(serde_json::to_vec(manifests).expect("JSON"));
    Frame { typ: FrameType::Manifests, payload }
}

/// The last (and only) part of the post documents step of `spokes/sync/2`: one record per
/// (post ID, whole document or changes, Automerge bytes), framed as the protocol frames them
/// (ID length, ID, whole flag, big-endian u32 length, bytes).
pub fn post_changes(records: &[(&str, bool, &[u8])]) -> Frame {
    let mut payload = vec![0u8];
    for (id, whole, bytes) in records {
        payload.push(id.len() as u8);
        payload.extend_from_slice(id.as_bytes());
        payload.push(u8::from(*whole));
        payload.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        payload.extend_from_slice(bytes);
    }
    Frame { typ: FrameType::PostChanges, payload }
}

/// A whole `spokes/sync/2` session that brings nothing: the blog's hello, `cert`, no
/// manifests named or sent, no wants, no post documents, then done.
pub fn empty_set_session(blog: &str, cert: Vec<u8>) -> Vec<Frame> {
    vec![
        set_hello(blog),
        certificate(cert),
        Frame::json(FrameType::ManifestHave, &Vec::<String>::new()),
        manifests(&serde_json::json!([])),
        Frame::json(FrameType::Wants, &serde_json::json!({})),
        post_changes(&[]),
        Frame::json(FrameType::Done, &serde_json::json!({"manifests": []})),
    ]
}

/// `s` with a notation `i` added to its signature's unhashed area, which the signature does
/// not cover: a copy that still verifies.
pub fn malleated(s: &spokes_core::SignedStatement, i: u32) -> spokes_core::SignedStatement {
    use sequoia_openpgp::packet::signature::subpacket::{NotationData, NotationDataFlags, Subpacket, SubpacketValue};
    use sequoia_openpgp::packet::Packet;
    use sequoia_openpgp::parse::Parse;
    use sequoia_openpgp::serialize::SerializeInto;
    let mut sig = match Packet::from_bytes(&s.signature).expect("a signature packet") {
        Packet::Signature(sig) => sig,
        p => panic!("not a signature: {p:?}"),
    };
    let n = NotationData::new("copy@example.org", i.to_be_bytes(), NotationDataFlags::empty());
    sig.unhashed_area_mut().add(Subpacket::new(SubpacketValue::NotationData(n), false).expect("subpacket")).expect("room in the area");
    spokes_core::SignedStatement { statement: s.statement.clone(), signature: Packet::from(sig).to_vec().expect("serialise") }
}

/// The author's certificate `honest` (binary) with `n` user IDs it never bound appended, the
/// first a forged author name: what a stranger can make of a public certificate.
pub fn inflated_certificate(honest: &[u8], n: usize) -> Vec<u8> {
    use sequoia_openpgp::packet::{Packet, UserID};
    use sequoia_openpgp::serialize::SerializeInto;
    let mut inflated = honest.to_vec();
    inflated.extend(Packet::from(UserID::from("A Forger <forged@example.org>")).to_vec().expect("serialise"));
    for i in 0..n {
        inflated.extend(Packet::from(UserID::from(format!("{i:0400}"))).to_vec().expect("serialise"));
    }
    inflated
}

/// A test-only hostile spoke: a real iroh endpoint on 127.0.0.1 speaking `spokes/sync/1` to
/// the writer's real CLI. On every stream the writer opens it reads a frame and answers with
/// the next of `script`, until the script or the stream ends. Returns the ticket to add it
/// with `spokes spoke add`; the spoke runs until the returned runtime is dropped.
pub fn hostile_spoke(script: Vec<Frame>) -> (String, tokio::runtime::Runtime) {
    hostile_spoke_on(spokes_sync::ALPN, script)
}

/// [`hostile_spoke`] speaking the protocol `alpn` (`spokes/sync/2`, say) instead.
pub fn hostile_spoke_on(alpn: &[u8], script: Vec<Frame>) -> (String, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let key = iroh::SecretKey::generate();
    let ep = rt.block_on(spokes_sync::net::bind_endpoint(key.clone(), "127.0.0.1:0".parse().expect("addr"), vec![alpn.to_vec()])).expect("endpoint");
    let addrs = ep.bound_sockets().into_iter().filter(|a| a.is_ipv4()).collect();
    let ticket = Ticket { v: 1, endpoint: key.public().to_string(), addrs, token: None, name: Some("Hostile".into()), web: None, relay: None }.encode();
    rt.spawn(async move {
        while let Some(incoming) = ep.accept().await {
            let script = script.clone();
            tokio::spawn(async move {
                let Ok(conn) = incoming.await else { return };
                while let Ok((mut send, mut recv)) = conn.accept_bi().await {
                    for answer in &script {
                        if read_frame(&mut recv).await.is_err() || write_frame(&mut send, answer).await.is_err() {
                            break;
                        }
                    }
                    let _ = send.finish();
                }
            });
        }
    });
    (ticket, rt)
}
