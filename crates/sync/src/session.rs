//! One sync session of `spokes/sync/1` between two replicas of a blog.
//!
//! The initiator opens one bidirectional QUIC stream. Each step is a swap: the initiator
//! sends its frame, the responder reads it and answers with its own.
//!
//! 1. `Hello` → `Hello` (or `Error`): protocol version, blog ID, optional invite token, and
//!    the sender's heads (peers that take the changes step announce them).
//! 2. `Certificate` ↔ `Certificate`: the author's certificate; copies are merged only if
//!    their fingerprints match.
//! 3. `Statements` ↔ `Statements`: every signed statement each side holds; each received
//!    statement is verified against the certificate.
//! 4. When both hellos carried heads, `Changes` ↔ `Changes` parts: each side sends what the
//!    other lacks when it can tell (the whole saved document, or the change chunks after the
//!    other's heads), into a fork of the document.
//! 5. `SyncMessage` ↔ `SyncMessage` rounds: Automerge's sync protocol, received into the
//!    fork, until a round in which neither side has anything to send.
//! 6. The new changes in the fork are checked against the coverage rule (and the document's
//!    blog ID and owner); only then is the fork taken. The caller persists the result.
//! 7. `Done` ↔ `Done`, or `Error`: a side that refuses anything sends `Error` in place of its
//!    next frame and the session ends. The initiator, the last receiver, closes.
//!
//! Nothing a peer sends can panic this code: every frame is size-capped, every payload is
//! parsed fallibly, and the number of rounds is bounded.

use spokes_core::problem::{Code, Problem};
use crate::frame::{Frame, FrameError, FrameType, read_frame, write_frame};
use crate::PROTOCOL_VERSION;
use automerge::sync::{Message, State, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use serde::{Deserialize, Serialize};
use spokes_core::expansion::{ExpansionBudget, ExpansionError};
use spokes_core::statement::{self, Statement, check_coverage};
use spokes_core::{BlogId, Certificate, SignedStatement};
use std::collections::{HashMap, HashSet};
use tokio::io::{AsyncRead, AsyncWrite};

/// Most sync rounds in one session before it is abandoned.
pub const MAX_ROUNDS: usize = 64;

/// The hello frame's payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Protocol version; 1.
    pub protocol: u32,
    /// The blog to sync.
    pub blog_id: BlogId,
    /// Invite token from a ticket, when a writer asks to be admitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The sender's heads (hex change hashes), sent by peers that take the changes step
    /// (see the module docs); a peer whose hello lacks them is synced with Automerge's sync
    /// messages alone. At most [`MAX_HELLO_HEADS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heads: Option<Vec<String>>,
    /// `spokes/sync/2` only: the SHA-256 (lowercase hex) of the sender's ASCII-armored
    /// certificate, when it has one. A side whose own certificate hashes the same sends an
    /// empty certificate frame in step 2 instead of the certificate again. Absent from peers
    /// that predate it (they are sent the certificate, as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
}

/// Most heads a hello may carry (a document has a handful; more is refused as malformed).
pub const MAX_HELLO_HEADS: usize = 1024;

impl Hello {
    /// A version 1 hello.
    pub fn new(blog_id: BlogId, token: Option<String>) -> Hello {
        Hello { protocol: PROTOCOL_VERSION, blog_id, token, heads: None, certificate: None }
    }

    /// This hello, announcing `heads` (which turns on the changes step).
    pub fn with_heads(mut self, heads: &[ChangeHash]) -> Hello {
        let mut hex: Vec<String> = heads.iter().map(|h| h.to_string()).collect();
        hex.sort();
        self.heads = Some(hex);
        self
    }

    /// The heads announced, parsed; `Ok(None)` if none were. Error: a head that is not a
    /// change hash, or more than [`MAX_HELLO_HEADS`].
    pub fn parsed_heads(&self) -> Result<Option<Vec<ChangeHash>>, RemoteError> {
        let Some(hex) = &self.heads else { return Ok(None) };
        if hex.len() > MAX_HELLO_HEADS {
            return Err(RemoteError::new(Code::Malformed, format!("a hello with {} heads (at most {MAX_HELLO_HEADS})", hex.len())));
        }
        let mut heads = hex.iter().map(|h| h.parse::<ChangeHash>().map_err(|_| RemoteError::new(Code::Malformed, format!("`{h}` is not a change hash")))).collect::<Result<Vec<_>, _>>()?;
        heads.sort();
        Ok(Some(heads))
    }
}

/// The saved form of a replica's document, made at most once, and only when a peer that has
/// nothing needs it (sessions with several peers share one). A spoke fills it with the bytes
/// it stored, so they are sent as they are.
#[derive(Clone, Debug, Default)]
pub struct SavedDoc(std::sync::Arc<std::sync::OnceLock<std::sync::Arc<Vec<u8>>>>);

impl SavedDoc {
    /// Bytes already at hand (shared, not copied) that load to exactly the replica's document.
    pub fn known(bytes: impl Into<std::sync::Arc<Vec<u8>>>) -> SavedDoc {
        let cell = std::sync::OnceLock::new();
        let _ = cell.set(bytes.into());
        SavedDoc(std::sync::Arc::new(cell))
    }

    fn get_or_save(&self, doc: &mut AutoCommit) -> &[u8] {
        self.0.get_or_init(|| std::sync::Arc::new(doc.save()))
    }
}

/// A typed refusal, sent in an `Error` frame: a stable [`Code`] (one for which
/// [`Code::is_refusal`] holds; docs/formats.md lists them) and a sentence for people, as JSON
/// `{"code": "...", "message": "..."}`.
pub type RemoteError = Problem;

/// Longest refusal message kept from a peer, in characters; the rest is cut off.
pub const MAX_PEER_MESSAGE_CHARS: usize = 300;

/// The refusal a peer sent in an `Error` frame, made safe to log, store, show and count:
/// a code that is not a refusal code becomes [`Code::Unknown`], the message loses control
/// characters and is cut to [`MAX_PEER_MESSAGE_CHARS`]. An unreadable payload is a
/// [`Code::Malformed`] refusal.
pub fn refusal_from_peer(frame: &Frame) -> RemoteError {
    let Ok(e) = frame.parse_json::<RemoteError>() else { return RemoteError::new(Code::Malformed, "the peer sent an unreadable refusal") };
    let code = if e.code.is_refusal() { e.code } else { Code::Unknown };
    let mut message: String = e.message.chars().map(|c| if c.is_control() { ' ' } else { c }).take(MAX_PEER_MESSAGE_CHARS + 1).collect();
    if message.chars().count() > MAX_PEER_MESSAGE_CHARS {
        message = message.chars().take(MAX_PEER_MESSAGE_CHARS).collect::<String>() + "…";
    }
    // The peer's words, cleaned; a detail it sent is not taken (peers send none).
    RemoteError { code, message, detail: None }
}

/// Errors of a session.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Framing or transport failure.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The peer refused, with its reason.
    #[error("the other side refused: {0}")]
    Remote(RemoteError),
    /// We refused what the peer sent (and told it so).
    #[error("refused: {0}")]
    Refused(RemoteError),
    /// Could not connect or open a stream.
    #[error("could not reach the spoke: {0}")]
    Connect(String),
    /// The session took too long.
    #[error("the spoke did not answer in time")]
    Timeout,
}

impl SyncError {
    /// A stable code: the refusal's code, or [`Code::Connection`], [`Code::Timeout`],
    /// [`Code::Protocol`].
    pub fn code(&self) -> Code {
        match self {
            SyncError::Remote(e) | SyncError::Refused(e) => e.code,
            SyncError::Connect(_) => Code::Connection,
            SyncError::Timeout => Code::Timeout,
            SyncError::Frame(FrameError::Io(_) | FrameError::Closed | FrameError::Truncated) => Code::Connection,
            SyncError::Frame(_) => Code::Protocol,
        }
    }
}

/// One side's copy of a blog.
#[derive(Debug)]
pub struct Replica {
    /// The blog.
    pub blog_id: BlogId,
    /// The blog document (may be empty on a spoke admitting a new blog).
    pub doc: AutoCommit,
    /// The author's certificate; `None` only before admission.
    pub certificate: Option<Certificate>,
    /// All signed statements known for the blog.
    pub statements: Vec<SignedStatement>,
    /// The document saved, when at hand or once made: sent whole to a peer that has nothing.
    /// Must load to exactly `doc`; leave it `SavedDoc::default()` when unsure.
    pub saved: SavedDoc,
}

/// What a session changed on this side.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Changes received and merged.
    pub new_changes: usize,
    /// Statements received that were new to this side (all verified).
    pub new_statements: Vec<SignedStatement>,
    /// The certificate was learned or updated.
    pub certificate_changed: bool,
    /// Heads of this side after the session, sorted.
    pub heads: Vec<ChangeHash>,
    /// Heads the peer reported in its `Done`, sorted.
    pub peer_heads: Vec<ChangeHash>,
    /// The certificate this session brought declares a device lost or stolen, and this side
    /// dropped what only that key signed (statements, and changes nothing else covers): the
    /// caller stores the whole document again, not an increment.
    pub pruned: bool,
    /// What the changes step brought, when nothing else arrived after it: bytes that load
    /// to exactly this side's result, so a spoke stores them as they are instead of encoding
    /// (and compressing) the document again.
    pub received: Option<Received>,
}

/// Bytes received in the changes step ([`Outcome::received`]).
#[derive(Debug, Clone)]
pub struct Received {
    /// The peer's whole saved document (it contains this side's document as it was).
    pub whole: bool,
    /// The bytes: a saved document, or the change chunks after `base_heads`.
    pub bytes: Vec<u8>,
    /// This side's heads when the session began, which `bytes` follow when not `whole`.
    pub base_heads: Vec<ChangeHash>,
}

/// Most bytes the changes step takes from a peer in one session (256 MiB, a spoke's default
/// size quota per blog).
pub const MAX_CHANGES_BYTES: usize = 256 * 1024 * 1024;

/// The changes step sends at most this much per frame (4 MiB).
const CHANGES_PART: usize = 4 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct DonePayload {
    heads: Vec<String>,
}

/// Sends `mine` and receives the peer's frame, in initiator order.
pub(crate) async fn swap<S, R>(send: &mut S, recv: &mut R, initiator: bool, mine: Frame) -> Result<Frame, SyncError>
where
    S: AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    let theirs = if initiator {
        // If the peer refused, it may have stopped our stream already: the write then fails,
        // but its Error frame is waiting to be read, and it is the better explanation.
        let written = write_frame(send, &mine).await;
        match (written, read_frame(recv).await) {
            (_, Ok(f)) => f,
            (Err(e), Err(_)) | (Ok(()), Err(e)) => return Err(e.into()),
        }
    } else {
        let t = read_frame(recv).await?;
        if t.typ != FrameType::Error {
            write_frame(send, &mine).await?;
        }
        t
    };
    if theirs.typ == FrameType::Error {
        return Err(SyncError::Remote(refusal_from_peer(&theirs)));
    }
    if theirs.typ != mine.typ {
        return Err(FrameError::Unexpected { expected: mine.typ, got: theirs.typ }.into());
    }
    Ok(theirs)
}

/// Sends an error frame (best effort) and returns the matching [`SyncError::Refused`].
pub async fn refuse<S: AsyncWrite + Unpin>(send: &mut S, e: RemoteError) -> SyncError {
    let _ = write_frame(send, &Frame::json(FrameType::Error, &e)).await;
    SyncError::Refused(e)
}

/// Steps 2 to 6 of a session (see the module docs), without the changes step ([`exchange_with`]
/// takes it). On success the replica holds the merged
/// document, certificate and statements; the caller persists them and then calls [`finish`].
/// On error the replica is unchanged and `state` is reset.
pub async fn exchange<S, R>(send: &mut S, recv: &mut R, initiator: bool, replica: &mut Replica, state: &mut State) -> Result<Outcome, SyncError>
where
    S: AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    exchange_with(send, recv, initiator, replica, state, None).await
}

/// [`exchange`], with the changes step when both hellos carried heads: `peer_heads` are the
/// heads the peer's hello announced (this side's hello must have announced its own).
pub async fn exchange_with<S, R>(send: &mut S, recv: &mut R, initiator: bool, replica: &mut Replica, state: &mut State, peer_heads: Option<&[ChangeHash]>) -> Result<Outcome, SyncError>
where
    S: AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    let r = exchange_inner(send, recv, initiator, replica, state, peer_heads).await;
    if r.is_err() {
        *state = State::new();
    }
    r
}

/// Flag bit of a `Changes` frame: more parts follow.
const PART_MORE: u8 = 1;
/// Flag bit of a `Changes` frame: the bytes are a whole saved document, not change chunks.
const PART_WHOLE: u8 = 2;

/// Swaps `outgoing` (and whether it is a whole saved document) for the peer's bytes in
/// `Changes` frames of at most [`CHANGES_PART`] bytes, each prefixed with a flag byte
/// ([`PART_MORE`] while more parts follow, [`PART_WHOLE`] for a whole document).
/// Error: the peer sending more than [`MAX_CHANGES_BYTES`] (`too-large`).
pub(crate) async fn swap_changes<S, R>(send: &mut S, recv: &mut R, initiator: bool, typ: FrameType, outgoing: &[u8], whole: bool) -> Result<(Vec<u8>, bool), SyncError>
where
    S: AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    let mut parts = outgoing.chunks(CHANGES_PART);
    let mut incoming = Vec::new();
    let mut theirs_whole = false;
    let (mut sent_last, mut got_last) = (false, false);
    while !(sent_last && got_last) {
        let part = if sent_last { None } else { parts.next() };
        let more = part.is_some() && parts.len() > 0;
        let mut payload = Vec::with_capacity(1 + part.map_or(0, <[u8]>::len));
        payload.push(if more { PART_MORE } else { 0 } | if whole { PART_WHOLE } else { 0 });
        payload.extend_from_slice(part.unwrap_or_default());
        sent_last = !more;
        let theirs = swap(send, recv, initiator, Frame { typ, payload }).await?;
        let Some((&flag, bytes)) = theirs.payload.split_first() else {
            return Err(refuse(send, RemoteError::new(Code::Malformed, "an empty changes frame")).await);
        };
        if got_last && !bytes.is_empty() {
            return Err(refuse(send, RemoteError::new(Code::Malformed, "changes after the last part")).await);
        }
        if incoming.len() + bytes.len() > MAX_CHANGES_BYTES {
            return Err(refuse(send, RemoteError::new(Code::TooLarge, format!("more than {MAX_CHANGES_BYTES} bytes of changes in one session"))).await);
        }
        incoming.extend_from_slice(bytes);
        if !got_last {
            theirs_whole = flag & PART_WHOLE != 0;
        }
        got_last = got_last || flag & PART_MORE == 0;
    }
    Ok((incoming, theirs_whole))
}

/// The SHA-256 (lowercase hex) of an ASCII-armored certificate, as a `spokes/sync/2` hello
/// names it ([`Hello::certificate`]).
pub fn certificate_hash(armored: &[u8]) -> String {
    hex::encode(spokes_core::merkle::sha256(armored))
}

/// Step 2 of a session (the same in `spokes/sync/2`): swaps certificates; a copy from the peer
/// is merged into `mine` only if the fingerprints match. Returns the certificate and whether
/// the peer's copy changed it. Errors (sent to the peer): `malformed`, `wrong-certificate`.
pub(crate) async fn certificate_step<S, R>(send: &mut S, recv: &mut R, initiator: bool, mine: Option<&Certificate>, peer_holds: Option<&str>) -> Result<(Certificate, bool), SyncError>
where
    S: AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    // Nothing to send when the peer said (in its hello) that it holds this very certificate.
    let payload = match mine.map(Certificate::to_armored) {
        Some(armored) if peer_holds.is_some_and(|h| h == certificate_hash(&armored)) => Vec::new(),
        Some(armored) => armored,
        None => Vec::new(),
    };
    let theirs = swap(send, recv, initiator, Frame { typ: FrameType::Certificate, payload }).await?;
    let mut cert = mine.cloned();
    let mut changed = false;
    if !theirs.payload.is_empty() {
        let got = match Certificate::from_bytes(&theirs.payload) {
            Ok(c) => c,
            Err(e) => return Err(refuse(send, RemoteError::new(Code::Malformed, format!("unreadable certificate: {e}"))).await),
        };
        match &mut cert {
            None => {
                cert = Some(got);
                changed = true;
            }
            Some(c) => {
                let before = c.clone();
                if !c.merge(&got) {
                    return Err(refuse(send, RemoteError::new(Code::WrongCertificate, format!("this blog belongs to certificate {}, not {}", c.fingerprint(), got.fingerprint()))).await);
                }
                changed = *c != before;
            }
        }
    }
    match cert {
        Some(c) => Ok((c, changed)),
        None => Err(refuse(send, RemoteError::new(Code::WrongCertificate, "neither side has the author's certificate")).await),
    }
}

async fn exchange_inner<S, R>(send: &mut S, recv: &mut R, initiator: bool, replica: &mut Replica, state: &mut State, peer_heads: Option<&[ChangeHash]>) -> Result<Outcome, SyncError>
where
    S: AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    let mut outcome = Outcome::default();

    // 2. Certificates.
    let (cert, changed) = certificate_step(send, recv, initiator, replica.certificate.as_ref(), None).await?;
    outcome.certificate_changed = changed;

    // 3. Statements.
    let outgoing = statements_for_peer(replica, state);
    let theirs = swap(send, recv, initiator, Frame::json(FrameType::Statements, &outgoing)).await?;
    let received: Vec<SignedStatement> = match theirs.parse_json() {
        Ok(v) => v,
        Err(e) => return Err(refuse(send, RemoteError::new(Code::Malformed, e.to_string())).await),
    };
    let known: HashSet<&SignedStatement> = replica.statements.iter().collect();
    let fresh: Vec<SignedStatement> = received.into_iter().filter(|s| !known.contains(s)).collect();
    // Statements are kept once per (statement, signing key), in canonical form: copies that
    // differ only in what the signature does not cover add nothing. Only stored statements
    // with the same text are parsed for their signer (not every stored one, every session).
    let mut by_text: HashMap<&str, Vec<&SignedStatement>> = HashMap::new();
    if !fresh.is_empty() {
        for s in &replica.statements {
            by_text.entry(s.statement.as_str()).or_default().push(s);
        }
    }
    let mut held: HashSet<(String, String)> = HashSet::new();
    let mut signed: Vec<ChangeHash> = Vec::new();
    for s in &replica.statements {
        if let Ok(st) = Statement::parse(s.statement.as_bytes()) {
            signed.extend(st.heads);
        }
    }
    let mut new_statements = Vec::new();
    // Keys the author declared lost or stolen: what they signed is dropped, not refused (a
    // peer that has not yet heard of the loss still holds and sends it).
    let lost: HashSet<String> = cert.lost_keys().into_iter().collect();
    for s in fresh {
        if !lost.is_empty() && s.issuer().is_some_and(|fp| lost.contains(&fp)) {
            continue;
        }
        match s.verify(&cert, &replica.blog_id).and_then(|v| Ok((s.canonical(v.signer())?, v))) {
            Ok((canonical, v)) => {
                let stored = by_text.get(canonical.statement.as_str()).is_some_and(|same| same.iter().any(|s| s.issuer().as_deref() == Some(v.signer())));
                if stored || !held.insert((canonical.statement.clone(), v.signer().to_owned())) {
                    continue;
                }
                signed.extend(v.heads().iter().copied());
                new_statements.push(canonical);
            }
            Err(e) => return Err(refuse(send, RemoteError::new(Code::BadSignature, format!("a signed statement did not verify: {e}"))).await),
        }
    }

    if replica.statements.len() + new_statements.len() > statement::MAX_STATEMENTS {
        return Err(refuse(send, RemoteError::new(Code::TooLarge, format!("more than {} signed statements for one blog", statement::MAX_STATEMENTS))).await);
    }

    // A certificate that newly declares a device lost or stolen: what only that key signed
    // leaves this replica before anything else is compared (the author's other statements,
    // including the ones just received that confirm part of it, still count).
    if outcome.certificate_changed && !lost.is_empty() && replica.statements.iter().any(|s| s.issuer().is_some_and(|fp| lost.contains(&fp))) {
        let all: Vec<SignedStatement> = replica.statements.iter().chain(new_statements.iter()).cloned().collect();
        let pruned = match statement::prune_lost(&mut replica.doc, &all, &cert, &replica.blog_id) {
            Ok(p) => p,
            Err(e) => return Err(refuse(send, RemoteError::new(Code::Internal, e.to_string())).await),
        };
        if let Some(doc) = pruned.doc {
            replica.doc = doc;
            replica.saved = SavedDoc::default();
            // The sync state may name changes that are gone now.
            *state = State::new();
        }
        tracing::info!(voided = pruned.voided.len(), dropped_changes = pruned.dropped_changes, "a device was declared lost: its statements are void");
        let voided: HashSet<&SignedStatement> = pruned.voided.iter().collect();
        replica.statements.retain(|s| !voided.contains(s));
        signed = statement::signed_heads_of(&replica.statements);
        signed.extend(new_statements.iter().filter_map(|s| Statement::parse(s.statement.as_bytes()).ok()).flat_map(|st| st.heads));
        outcome.pruned = true;
    }

    // 4. The changes step: each side sends what the other lacks, when it can tell (it knows
    // every head the other announced): its whole saved document to a side that has nothing,
    // else the changes after the other's heads. Automerge's sync messages then only confirm
    // (or carry what this step could not tell). A large first sync thus costs one save (or
    // none, when the bytes are at hand) and one load, not a re-encoding per message.
    let trusted_heads = replica.doc.get_heads();
    let mut fork = replica.doc.fork();
    // Everything the peer sends is checked against one expansion budget before Automerge
    // decodes it (spokes_core::expansion).
    let mut budget = ExpansionBudget::new();
    let mut received = None;
    if let Some(theirs) = peer_heads {
        let mut mine = trusted_heads.clone();
        mine.sort();
        let knows_all = theirs.iter().all(|h| fork.get_change_meta_by_hash(h).is_some());
        // A peer that lacks much of the document (more than a third of its operations) gets
        // the whole saved document, made once for all peers (or at hand); encoding the
        // changes it lacks one by one would cost more, for each peer.
        let lacks_much = |fork: &mut AutoCommit| {
            let lacking = spokes_core::doc::ops_after(fork, theirs);
            lacking > 0 && lacking * 3 > spokes_core::doc::ops_after(fork, &[])
        };
        let (outgoing, whole): (std::borrow::Cow<'_, [u8]>, bool) = if !knows_all || theirs == mine.as_slice() {
            (Default::default(), false)
        } else if theirs.is_empty() || lacks_much(&mut fork) {
            (replica.saved.get_or_save(&mut fork).into(), true)
        } else {
            (fork.save_after(theirs).into(), false)
        };
        let (incoming, theirs_whole) = swap_changes(send, recv, initiator, FrameType::Changes, &outgoing, whole).await?;
        if let Err(e) = budget.check(&incoming) {
            return Err(refuse(send, expansion_refusal(e)).await);
        }
        if !incoming.is_empty() && theirs_whole {
            // A whole document is loaded on its own (so it is known to stand alone) and must
            // contain this side's document; one that does not is merged, not taken.
            let mut whole = match spokes_core::doc::load_automerge(&incoming) {
                Ok(d) => d,
                Err(e) => return Err(refuse(send, RemoteError::new(Code::Malformed, format!("unreadable document: {e}"))).await),
            };
            if trusted_heads.iter().all(|h| whole.get_change_meta_by_hash(h).is_some()) {
                fork = whole;
                received = Some(Received { whole: true, bytes: incoming, base_heads: trusted_heads.clone() });
            } else if let Err(e) = fork.merge(&mut whole) {
                return Err(refuse(send, RemoteError::new(Code::Malformed, format!("unusable document: {e}"))).await);
            }
        } else if !incoming.is_empty() {
            if let Err(e) = fork.load_incremental(&incoming) {
                return Err(refuse(send, RemoteError::new(Code::Malformed, format!("unreadable changes: {e}"))).await);
            }
            received = Some(Received { whole: false, bytes: incoming, base_heads: trusted_heads.clone() });
        }
    }
    let heads_after_changes = fork.get_heads();

    // 5. Automerge sync rounds, into the fork.
    let mut rounds = 0;
    loop {
        let mine = fork.sync().generate_sync_message(state);
        let sent_something = mine.is_some();
        let payload = mine.map(Message::encode).unwrap_or_default();
        let theirs = swap(send, recv, initiator, Frame { typ: FrameType::SyncMessage, payload }).await?;
        let got_something = !theirs.payload.is_empty();
        if got_something {
            let msg = match Message::decode(&theirs.payload) {
                Ok(m) => m,
                Err(e) => return Err(refuse(send, RemoteError::new(Code::Malformed, format!("unreadable sync message: {e}"))).await),
            };
            if let Some(e) = msg.changes.iter().find_map(|chunk| budget.check(chunk).err()) {
                return Err(refuse(send, expansion_refusal(e)).await);
            }
            if let Err(e) = fork.sync().receive_sync_message(state, msg) {
                return Err(refuse(send, RemoteError::new(Code::Malformed, format!("sync message rejected: {e}"))).await);
            }
        }
        if !sent_something && !got_something {
            break;
        }
        rounds += 1;
        if rounds > MAX_ROUNDS {
            return Err(refuse(send, RemoteError::new(Code::TooManyRounds, "the sync did not converge")).await);
        }
    }

    // 6. Verify before merge.
    let new_changes = match check_coverage(&mut fork, &trusted_heads, &signed) {
        Ok(n) => n,
        Err(e) => return Err(refuse(send, RemoteError::new(Code::UncoveredChanges, e.to_string())).await),
    };
    if new_changes > 0 {
        if let Err(e) = spokes_core::doc::check_identity(&fork, &replica.blog_id, &cert.fingerprint()) {
            return Err(refuse(send, RemoteError::new(Code::WrongBlog, e.to_string())).await);
        }
        // The fork is the trusted document plus exactly the verified changes: take it as the
        // result. (Merging it back would apply every new change again, op by op: for a whole
        // blog reaching a fresh peer, the entire history a second time.) Changes still waiting
        // for their dependencies were not verified: then only the applied ones are merged.
        if fork.get_missing_deps(&[]).is_empty() {
            replica.doc = fork;
        } else if let Err(e) = replica.doc.merge(&mut fork) {
            return Err(refuse(send, RemoteError::new(Code::Internal, e.to_string())).await);
        }
        replica.saved = SavedDoc::default();
        if replica.doc.get_heads() == heads_after_changes {
            outcome.received = received;
        }
    }
    outcome.new_changes = new_changes;
    outcome.new_statements = new_statements.clone();
    replica.statements.extend(new_statements);
    replica.certificate = Some(cert);
    let mut heads = replica.doc.get_heads();
    heads.sort();
    outcome.heads = heads;
    Ok(outcome)
}

/// The refusal for bytes that failed the expansion check: `too-large` for a bomb,
/// `malformed` for what is not Automerge as Spokes sends it.
pub(crate) fn expansion_refusal(e: ExpansionError) -> RemoteError {
    match e {
        ExpansionError::TooLarge { .. } => RemoteError::new(Code::TooLarge, format!("what was sent expands too far: {e}")),
        ExpansionError::Malformed(_) => RemoteError::new(Code::Malformed, e.to_string()),
    }
}

/// The statements the peer may lack: every statement that names a change outside what
/// `state.shared_heads` says both sides have (from the previous session with this peer).
///
/// A peer holds valid statements covering every change it holds (it accepted none without
/// them), so statements naming only shared changes are redundant. Without shared heads, or
/// when one of them is unknown here, every statement is sent. This keeps a session's cost
/// proportional to what changed, not to the length of the history. A peer that lost data
/// since (restored from an older backup) still receives a statement naming the current heads,
/// which covers every change beneath them; it then lacks only the older statements, which a
/// session with a fresh state sends.
pub fn statements_for_peer<'a>(replica: &'a mut Replica, state: &State) -> Vec<&'a SignedStatement> {
    let shared = &state.shared_heads;
    if shared.is_empty() || shared.iter().any(|h| replica.doc.get_change_meta_by_hash(h).is_none()) {
        return replica.statements.iter().collect();
    }
    let unshared: HashSet<ChangeHash> = replica.doc.get_changes_meta(shared).iter().map(|c| c.hash).collect();
    replica
        .statements
        .iter()
        .filter(|s| match Statement::parse(s.statement.as_bytes()) {
            Ok(st) => st.heads.iter().any(|h| unshared.contains(h)),
            Err(_) => false,
        })
        .collect()
}

/// Step 7: swap `Done` frames (or send `Error` if `result` is one). Returns the peer's heads.
pub async fn finish<S, R>(send: &mut S, recv: &mut R, initiator: bool, result: Result<Vec<ChangeHash>, RemoteError>) -> Result<Vec<ChangeHash>, SyncError>
where
    S: AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    let heads = match result {
        Ok(h) => h,
        Err(e) => return Err(refuse(send, e).await),
    };
    let payload = DonePayload { heads: heads.iter().map(|h| h.to_string()).collect() };
    let theirs = swap(send, recv, initiator, Frame::json(FrameType::Done, &payload)).await?;
    let p: DonePayload = theirs.parse_json()?;
    let mut out: Vec<ChangeHash> = p.heads.iter().filter_map(|h| h.parse().ok()).collect();
    out.sort();
    Ok(out)
}

/// A replica that holds changes must be this blog's document, owned by its certificate, under an ID
/// bound to it (`spokes_core::doc::check_identity`). Error: `wrong-blog`.
fn check_replica_identity(replica: &mut Replica) -> Result<(), RemoteError> {
    let fingerprint = replica.certificate.as_ref().ok_or_else(|| RemoteError::new(Code::WrongCertificate, "no certificate"))?.fingerprint();
    if replica.doc.get_heads().is_empty() {
        return Ok(());
    }
    spokes_core::doc::check_identity(&replica.doc, &replica.blog_id, &fingerprint).map_err(|e| RemoteError::new(Code::WrongBlog, e.to_string()))
}

/// Verifies a whole stored replica the fast way, as a spoke does before serving it.
///
/// Change hashes chain every change to its ancestors, and every change of a document lies
/// beneath one of its heads; so the whole document is covered exactly when each of its heads
/// is named by a valid statement. This checks one valid statement per head (newest first),
/// O(heads) signature checks whatever the history's length. Older statements were checked
/// when they arrived; [`audit_replica`] checks every one of them.
///
/// The document must have been loaded with Automerge's head verification (the default of
/// `spokes_core::doc::load_automerge`), so that its heads are the true hashes of its content.
/// Returns the number of changes. Errors: `wrong-certificate`, `wrong-blog` (another blog's or
/// owner's document, or an ID not bound to the owner), `bad-signature` (a head is named only by
/// statements that fail), `uncovered-changes` (a head no statement names).
pub fn verify_replica(replica: &mut Replica) -> Result<usize, RemoteError> {
    check_replica_identity(replica)?;
    let cert = replica.certificate.as_ref().ok_or_else(|| RemoteError::new(Code::WrongCertificate, "no certificate"))?;
    let mut checked: HashMap<usize, bool> = HashMap::new();
    // The heads each statement claims to name, read without checking its signature, newest
    // first and only as far as needed (the newest statement names the heads, as a rule): the
    // candidates for a head, which are then verified.
    let mut claims: Vec<Option<Vec<ChangeHash>>> = vec![None; replica.statements.len()];
    for head in replica.doc.get_heads() {
        let hex = head.to_string();
        let mut failure = None;
        let mut covered = false;
        for (i, s) in replica.statements.iter().enumerate().rev() {
            let claimed = claims[i].get_or_insert_with(|| Statement::parse(s.statement.as_bytes()).map(|st| st.heads).unwrap_or_default());
            if !claimed.contains(&head) {
                continue;
            }
            let ok = *checked.entry(i).or_insert_with(|| match s.verify(cert, &replica.blog_id) {
                Ok(v) => v.heads().contains(&head),
                Err(e) => {
                    failure = Some(e);
                    false
                }
            });
            if ok {
                covered = true;
                break;
            }
        }
        if !covered {
            return Err(match failure {
                Some(e) => RemoteError::new(Code::BadSignature, format!("the statement naming head {hex} does not verify: {e}")),
                None => RemoteError::new(Code::UncoveredChanges, format!("head {hex} is not named by any signed statement")),
            });
        }
    }
    Ok(replica.doc.get_changes_meta(&[]).len())
}

/// A replica whose every change is covered by a valid signed statement of the author named
/// by its certificate, with the blog ID bound to that author: what a spoke serves and what the
/// reader site renders.
///
/// Only [`VerifiedReplica::verify`] (the checks of [`verify_replica`]) makes one, and nothing
/// can change its document afterwards (it is read through `&self` accessors and
/// [`VerifiedReplica::changed_post_ids`]), so holding one is the proof that the check ran on
/// exactly this content; [`VerifiedReplica::into_replica`] gives the parts back and drops the
/// proof.
///
/// ```compile_fail
/// # use spokes_sync::session::{Replica, VerifiedReplica};
/// fn forge(replica: Replica) -> VerifiedReplica {
///     let Replica { blog_id, certificate, statements, saved, .. } = replica;
///     // Private fields: does not build.
///     VerifiedReplica { blog_id, certificate: certificate.unwrap(), statements, doc: None, heads: vec![], changes: 0, saved }
/// }
/// ```
pub struct VerifiedReplica {
    blog_id: BlogId,
    certificate: Certificate,
    statements: Vec<SignedStatement>,
    /// `None` for an empty document.
    doc: Option<spokes_core::BlogDoc>,
    heads: Vec<ChangeHash>,
    changes: usize,
    saved: SavedDoc,
}

impl std::fmt::Debug for VerifiedReplica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedReplica").field("blog_id", &self.blog_id).field("heads", &self.heads).field("changes", &self.changes).finish_non_exhaustive()
    }
}

/// A replica that failed [`VerifiedReplica::verify`], given back with the reason.
#[derive(Debug)]
pub struct Unverified {
    /// The replica, unchanged.
    pub replica: Replica,
    /// Why it did not verify (see [`verify_replica`] for the codes; also `malformed`, a
    /// document that does not follow the blog schema).
    pub error: RemoteError,
}

impl VerifiedReplica {
    /// Verifies `replica` the fast way ([`verify_replica`]: one valid statement per head) and
    /// checks that its document follows the blog schema.
    /// Errors: the replica back with the refusal, as [`Unverified`].
    pub fn verify(mut replica: Replica) -> Result<VerifiedReplica, Box<Unverified>> {
        let changes = match verify_replica(&mut replica) {
            Ok(n) => n,
            Err(error) => return Err(Box::new(Unverified { replica, error })),
        };
        let Replica { blog_id, doc, certificate, statements, saved } = replica;
        let Some(certificate) = certificate else {
            // verify_replica refuses a replica without a certificate; kept as an error all the same.
            let replica = Replica { blog_id, doc, certificate: None, statements, saved };
            return Err(Box::new(Unverified { replica, error: RemoteError::new(Code::WrongCertificate, "no certificate") }));
        };
        let mut doc = doc;
        let heads = doc.get_heads();
        let doc = if heads.is_empty() {
            None
        } else {
            match spokes_core::BlogDoc::try_from_automerge(doc) {
                Ok(d) => Some(d),
                Err(failed) => {
                    let (e, doc) = *failed;
                    let replica = Replica { blog_id, doc, certificate: Some(certificate), statements, saved };
                    return Err(Box::new(Unverified { replica, error: RemoteError::new(Code::Malformed, format!("the document does not follow the Spokes schema: {e}")) }));
                }
            }
        };
        Ok(VerifiedReplica { blog_id, certificate, statements, doc, heads, changes, saved })
    }

    /// The blog.
    pub fn blog_id(&self) -> &BlogId {
        &self.blog_id
    }

    /// The author's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The signed statements (those covering the heads were checked now; older ones were
    /// checked when they arrived).
    pub fn statements(&self) -> &[SignedStatement] {
        &self.statements
    }

    /// The document's heads, as verified (empty for an empty document).
    pub fn heads(&self) -> &[ChangeHash] {
        &self.heads
    }

    /// The number of changes in the document.
    pub fn changes(&self) -> usize {
        self.changes
    }

    /// The blog document, to read; `None` when it is empty.
    pub fn doc(&self) -> Option<&spokes_core::BlogDoc> {
        self.doc.as_ref()
    }

    /// The IDs of the posts that changed between `before` and the verified heads
    /// (`spokes_core::BlogDoc::changed_post_ids_between`). Errors: heads this document lacks.
    pub fn changed_post_ids(&mut self, before: &[ChangeHash]) -> Result<std::collections::BTreeSet<String>, spokes_core::doc::DocError> {
        match &mut self.doc {
            Some(d) => d.changed_post_ids_between(before, &self.heads),
            None => Ok(Default::default()),
        }
    }

    /// Gives the parts back (the proof is dropped with the wrapper).
    pub fn into_replica(self) -> Replica {
        let doc = self.doc.map(spokes_core::BlogDoc::into_automerge).unwrap_or_else(spokes_core::doc::empty_automerge);
        Replica { blog_id: self.blog_id, doc, certificate: Some(self.certificate), statements: self.statements, saved: self.saved }
    }
}

/// Audits a whole stored replica: every statement against the certificate and every change
/// against the coverage rule. Slower than [`verify_replica`] (one signature check per
/// statement, a walk over all changes); for the writer's `spokes verify`. Returns the number
/// of changes checked.
pub fn audit_replica(replica: &mut Replica) -> Result<usize, RemoteError> {
    check_replica_identity(replica)?;
    let cert = replica.certificate.as_ref().ok_or_else(|| RemoteError::new(Code::WrongCertificate, "no certificate"))?;
    let (ok, bad) = statement::verify_all(&replica.statements, cert, &replica.blog_id);
    if let Some((_, e)) = bad.first() {
        return Err(RemoteError::new(Code::BadSignature, e.to_string()));
    }
    let heads = statement::signed_heads(&ok);
    check_coverage(&mut replica.doc, &[], &heads).map_err(|e| RemoteError::new(Code::UncoveredChanges, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::{BlogDoc, BlogSettings, Identity, Post};

    /// Attack 10 of the hostile-peers issue: a peer's refusal with an invented code (which
    /// became a metric label) and a 15 MiB message (which was stored and logged whole).
    #[test]
    fn a_peers_refusal_is_bounded_and_its_code_known() {
        let huge = "x\u{1b}[31m".repeat(3 << 20);
        let e = refusal_from_peer(&Frame::json(FrameType::Error, &serde_json::json!({"code": "evil\nlabel{a=\"b\"}", "message": huge})));
        assert_eq!(e.code, Code::Unknown);
        // A code Spokes knows but never sends in a frame is no refusal either.
        let app_code = refusal_from_peer(&Frame::json(FrameType::Error, &RemoteError::new(Code::WrongPassphrase, "m")));
        assert_eq!(app_code.code, Code::Unknown);
        assert!(e.message.chars().count() <= MAX_PEER_MESSAGE_CHARS + 1, "{} characters", e.message.chars().count());
        assert!(!e.message.chars().any(char::is_control));
        let known = refusal_from_peer(&Frame::json(FrameType::Error, &RemoteError::new(Code::Quota, "this blog is too large here")));
        assert_eq!(known, RemoteError::new(Code::Quota, "this blog is too large here"));
        assert_eq!(refusal_from_peer(&Frame { typ: FrameType::Error, payload: b"not json".to_vec() }).code, "malformed");
    }

    struct Author {
        id: Identity,
        key: spokes_core::SigningKey,
        doc: BlogDoc,
        blog: BlogId,
        statements: Vec<SignedStatement>,
    }

    fn author() -> Author {
        let id = Identity::generate("Ada", "pw").unwrap();
        let key = id.unlock("pw").unwrap();
        let (blog, doc) = BlogDoc::create_blog(&id.fingerprint(), &BlogSettings::default());
        let mut a = Author { id, key, doc, blog, statements: vec![] };
        a.sign();
        a
    }

    impl Author {
        fn sign(&mut self) {
            let st = Statement::new(self.blog.clone(), &self.doc.heads()).sign(&mut self.key).unwrap();
            self.statements.push(st);
        }
        fn replica(&mut self) -> Replica {
            Replica { blog_id: self.blog.clone(), doc: self.doc.automerge().fork(), certificate: Some(self.id.certificate()), statements: self.statements.clone(), saved: SavedDoc::default() }
        }
    }

    fn empty_spoke(blog: &BlogId) -> Replica {
        Replica { blog_id: blog.clone(), doc: spokes_core::doc::empty_automerge(), certificate: None, statements: vec![], saved: SavedDoc::default() }
    }

    async fn run(a: &mut Replica, b: &mut Replica) -> (Result<Outcome, SyncError>, Result<Outcome, SyncError>) {
        run_with(a, b, &mut State::new(), &mut State::new()).await
    }

    async fn run_with(a: &mut Replica, b: &mut Replica, sa: &mut State, sb: &mut State) -> (Result<Outcome, SyncError>, Result<Outcome, SyncError>) {
        let (x, y) = tokio::io::duplex(1 << 20);
        let (mut xr, mut xw) = tokio::io::split(x);
        let (mut yr, mut yw) = tokio::io::split(y);
        let (ra, rb) = tokio::join!(
            async {
                let o = exchange(&mut xw, &mut xr, true, a, sa).await?;
                let h = o.heads.clone();
                finish(&mut xw, &mut xr, true, Ok(h)).await.map(|_| o)
            },
            async {
                let o = exchange(&mut yw, &mut yr, false, b, sb).await?;
                let h = o.heads.clone();
                finish(&mut yw, &mut yr, false, Ok(h)).await.map(|_| o)
            }
        );
        (ra, rb)
    }

    /// Both sides announce their heads, so the changes step runs.
    async fn run_with_heads(a: &mut Replica, b: &mut Replica) -> (Result<Outcome, SyncError>, Result<Outcome, SyncError>) {
        let (x, y) = tokio::io::duplex(1 << 20);
        let (mut xr, mut xw) = tokio::io::split(x);
        let (mut yr, mut yw) = tokio::io::split(y);
        let (ha, hb) = (a.doc.get_heads(), b.doc.get_heads());
        let (mut sa, mut sb) = (State::new(), State::new());
        tokio::join!(
            async {
                let o = exchange_with(&mut xw, &mut xr, true, a, &mut sa, Some(&sorted(hb))).await?;
                let h = o.heads.clone();
                finish(&mut xw, &mut xr, true, Ok(h)).await.map(|_| o)
            },
            async {
                let o = exchange_with(&mut yw, &mut yr, false, b, &mut sb, Some(&sorted(ha))).await?;
                let h = o.heads.clone();
                finish(&mut yw, &mut yr, false, Ok(h)).await.map(|_| o)
            }
        )
    }

    fn sorted(mut h: Vec<ChangeHash>) -> Vec<ChangeHash> {
        h.sort();
        h
    }

    /// Text that hardly compresses: `n` printable ASCII characters from a fixed-seed generator.
    fn noise(n: usize, seed: u64) -> String {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (b'!' + (x % 94) as u8) as char
            })
            .collect()
    }

    #[tokio::test]
    async fn a_blog_larger_than_a_frame_reaches_an_empty_peer_whole_and_later_changes_as_increments() {
        let mut a = author();
        // 24 MB of Markdown that deflate cannot shrink below the 16 MiB frame limit.
        for i in 0..12 {
            a.doc.put_post(&Post::new(&format!("Post {i}"), &noise(2_000_000, i))).unwrap();
        }
        a.doc.commit("import");
        a.sign();
        let mut spoke = empty_spoke(&a.blog);
        let mut w = a.replica();
        let (ra, rb) = run_with_heads(&mut w, &mut spoke).await;
        ra.unwrap();
        let got = rb.unwrap();
        let received = got.received.expect("the changes step brought the blog");
        assert!(received.whole && received.base_heads.is_empty());
        assert!(received.bytes.len() > crate::MAX_FRAME_LEN as usize, "{} bytes: more than one frame", received.bytes.len());
        // The bytes as received load to exactly what the spoke now holds.
        let mut stored = spokes_core::doc::load_automerge(&received.bytes).unwrap();
        assert_eq!(sorted(stored.get_heads()), sorted(spoke.doc.get_heads()));
        assert_eq!(verify_replica(&mut spoke).unwrap(), 2);
        // One more post: only the change after the spoke's heads travels.
        let before = sorted(spoke.doc.get_heads());
        a.doc.put_post(&Post::new("Later", "a few words")).unwrap();
        a.doc.commit("later");
        a.sign();
        let mut w = a.replica();
        let (ra, rb) = run_with_heads(&mut w, &mut spoke).await;
        ra.unwrap();
        let later = rb.unwrap().received.expect("the change");
        assert!(!later.whole && sorted(later.base_heads.clone()) == before);
        assert!(later.bytes.len() < 10_000, "{} bytes for one short post", later.bytes.len());
        stored.load_incremental(&later.bytes).unwrap();
        assert_eq!(sorted(stored.get_heads()), sorted(spoke.doc.get_heads()), "stored save plus appended change = the spoke's document");
        assert_eq!(BlogDoc::from_automerge(spoke.doc.fork()).unwrap().posts().len(), 13);
    }

    /// A peer that opens honestly (certificate, statements) and then sends `frames`, one per
    /// swap, against a responder holding nothing; returns the responder's replica and result.
    async fn hostile_peer(frames: Vec<Frame>, changes_step: bool) -> (Replica, Result<Outcome, SyncError>) {
        let (x, y) = tokio::io::duplex(1 << 16);
        let (mut xr, mut xw) = tokio::io::split(x);
        let (mut yr, mut yw) = tokio::io::split(y);
        let a = author();
        let mut s = empty_spoke(&a.blog);
        let (stmts, cert) = (a.statements.clone(), a.id.certificate().to_armored());
        let mut st = State::new();
        let (_, rb) = tokio::join!(
            async {
                write_frame(&mut xw, &Frame { typ: FrameType::Certificate, payload: cert }).await.unwrap();
                read_frame(&mut xr).await.unwrap();
                write_frame(&mut xw, &Frame::json(FrameType::Statements, &stmts)).await.unwrap();
                read_frame(&mut xr).await.unwrap();
                for f in frames {
                    if write_frame(&mut xw, &f).await.is_err() || read_frame(&mut xr).await.is_err() {
                        break;
                    }
                }
            },
            exchange_with(&mut yw, &mut yr, false, &mut s, &mut st, changes_step.then_some(&[][..]))
        );
        (s, rb)
    }

    #[tokio::test]
    async fn a_malformed_changes_step_is_a_typed_refusal_and_nothing_merges() {
        for (name, frames, code) in [
            ("an empty changes frame", vec![vec![]], "malformed"),
            // Both sides have sent their last part: the step is over and a sync message is due.
            ("a part after the last", vec![vec![0u8], vec![0u8, 1, 2, 3]], "protocol"),
            ("bytes that are not Automerge", vec![vec![0u8, 9, 9, 9, 9]], "malformed"),
            ("a whole document that is not one", vec![vec![super::PART_WHOLE, 1, 2, 3]], "malformed"),
        ] {
            let frames = frames.into_iter().map(|payload| Frame { typ: FrameType::Changes, payload }).collect();
            let (mut s, rb) = hostile_peer(frames, true).await;
            assert_eq!(rb.unwrap_err().code(), code, "{name}");
            assert!(s.doc.get_heads().is_empty(), "{name}: nothing merged");
        }
    }

    #[tokio::test]
    async fn later_sessions_send_only_the_statements_the_peer_lacks() {
        let mut a = author();
        for i in 0..3 {
            a.doc.put_post(&Post::new(&format!("Post {i}"), "words")).unwrap();
            a.doc.commit("post");
            a.sign();
        }
        let (mut sa, mut sb) = (State::new(), State::new());
        let mut spoke = empty_spoke(&a.blog);
        let mut mine = a.replica();
        // Without shared heads, everything is sent.
        assert_eq!(statements_for_peer(&mut mine, &sa).len(), 4);
        let (ra, rb) = run_with(&mut mine, &mut spoke, &mut sa, &mut sb).await;
        ra.unwrap();
        assert_eq!(rb.unwrap().new_statements.len(), 4);
        // One new revision: only its statement is needed, and only it travels.
        a.doc.put_post(&Post::new("Post 3", "more words")).unwrap();
        a.doc.commit("post");
        a.sign();
        let mut mine = a.replica();
        let sent = statements_for_peer(&mut mine, &sa);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0], a.statements.last().unwrap());
        let (ra, rb) = run_with(&mut mine, &mut spoke, &mut sa, &mut sb).await;
        ra.unwrap();
        let ob = rb.unwrap();
        assert_eq!((ob.new_changes, ob.new_statements.len()), (1, 1));
        assert_eq!(spoke.statements.len(), 5);
        assert_eq!(verify_replica(&mut spoke).unwrap(), 5);
        // A peer that lost its data (restored from an empty backup) while the writer kept its
        // state: the newest statement names the head, and change hashes chain the whole history
        // beneath it, so the restored peer verifies everything it receives.
        a.doc.put_post(&Post::new("Post 4", "even more")).unwrap();
        a.doc.commit("post");
        a.sign();
        let mut mine = a.replica();
        let mut restored = empty_spoke(&a.blog);
        let (ra, rb) = run_with(&mut mine, &mut restored, &mut sa, &mut State::new()).await;
        ra.unwrap();
        assert_eq!(rb.unwrap().new_statements.len(), 1);
        assert_eq!(restored.doc.get_heads(), a.doc.heads());
        assert_eq!(verify_replica(&mut restored).unwrap(), 6);
        assert_eq!(audit_replica(&mut restored).unwrap(), 6);
    }

    #[test]
    fn fast_verification_checks_the_heads_and_the_audit_checks_everything() {
        let mut a = author();
        for i in 0..3 {
            a.doc.put_post(&Post::new(&format!("Post {i}"), "words")).unwrap();
            a.doc.commit("post");
            a.sign();
        }
        let mut r = a.replica();
        assert_eq!(verify_replica(&mut r).unwrap(), 4);
        assert_eq!(audit_replica(&mut r).unwrap(), 4);

        // The statement over the current heads is damaged: refused.
        let flip = |st: &mut SignedStatement| {
            let n = st.signature.len();
            st.signature[n - 3] ^= 0x40;
        };
        let mut bad_newest = a.replica();
        flip(bad_newest.statements.last_mut().unwrap());
        assert_eq!(verify_replica(&mut bad_newest).unwrap_err().code, "bad-signature");

        // A damaged older statement does not weaken the newest one, which covers everything
        // beneath it; the audit still finds it.
        let mut bad_old = a.replica();
        flip(&mut bad_old.statements[1]);
        assert_eq!(verify_replica(&mut bad_old).unwrap(), 4);
        assert_eq!(audit_replica(&mut bad_old).unwrap_err().code, "bad-signature");

        // A change that no statement names is refused by both.
        a.doc.put_post(&Post::new("Unsigned", "sneaky")).unwrap();
        a.doc.commit("no statement");
        let mut unsigned = a.replica();
        assert_eq!(verify_replica(&mut unsigned).unwrap_err().code, "uncovered-changes");
        assert_eq!(audit_replica(&mut unsigned).unwrap_err().code, "uncovered-changes");

        // Without the newest statement, the newest change is not covered.
        let mut dropped = a.replica();
        dropped.statements.pop();
        dropped.doc = spokes_core::doc::load_automerge(&a.doc.save()).unwrap();
        assert_eq!(verify_replica(&mut dropped).unwrap_err().code, "uncovered-changes");
    }

    #[tokio::test]
    async fn signed_history_reaches_an_empty_spoke() {
        let mut a = author();
        a.doc.put_post(&Post::new("Hello", "world")).unwrap();
        a.doc.commit("post");
        a.sign();
        let mut w = a.replica();
        let mut s = empty_spoke(&a.blog);
        let (ra, rb) = run(&mut w, &mut s).await;
        ra.unwrap();
        let out = rb.unwrap();
        assert_eq!(out.new_changes, 2);
        assert!(out.certificate_changed);
        let loaded = BlogDoc::from_automerge(s.doc.fork()).unwrap();
        assert_eq!(loaded.posts()[0].title, "Hello");
        assert_eq!(verify_replica(&mut s).unwrap(), 2);
    }

    #[tokio::test]
    async fn unsigned_change_is_refused_and_nothing_merges() {
        let mut a = author();
        let mut s = empty_spoke(&a.blog);
        let mut w = a.replica();
        run(&mut w, &mut s).await.1.unwrap();
        let before = s.doc.get_heads();
        a.doc.put_post(&Post::new("Sneaky", "unsigned")).unwrap();
        a.doc.commit("no statement");
        let mut w = a.replica();
        let (ra, rb) = run(&mut w, &mut s).await;
        assert_eq!(rb.unwrap_err().code(), "uncovered-changes");
        assert_eq!(ra.unwrap_err().code(), "uncovered-changes");
        assert_eq!(s.doc.get_heads(), before);
    }

    #[tokio::test]
    async fn statement_by_another_key_is_refused() {
        let mut a = author();
        let mut s = empty_spoke(&a.blog);
        let mut w = a.replica();
        run(&mut w, &mut s).await.1.unwrap();
        let before = s.doc.get_heads();
        let mallory = Identity::generate("Mallory", "pw").unwrap();
        let mut mkey = mallory.unlock("pw").unwrap();
        a.doc.put_post(&Post::new("Forged", "x")).unwrap();
        a.doc.commit("forged");
        let forged = Statement::new(a.blog.clone(), &a.doc.heads()).sign(&mut mkey).unwrap();
        let mut w = a.replica();
        w.statements.push(forged);
        let (_, rb) = run(&mut w, &mut s).await;
        assert_eq!(rb.unwrap_err().code(), "bad-signature");
        assert_eq!(s.doc.get_heads(), before);
    }

    #[tokio::test]
    async fn a_different_certificate_is_refused() {
        let mut a = author();
        let mut s = empty_spoke(&a.blog);
        let mut w = a.replica();
        run(&mut w, &mut s).await.1.unwrap();
        let mut w = a.replica();
        w.certificate = Some(Identity::generate("Mallory", "pw").unwrap().certificate());
        let (_, rb) = run(&mut w, &mut s).await;
        assert_eq!(rb.unwrap_err().code(), "wrong-certificate");
    }

    #[tokio::test]
    async fn a_squatter_cannot_take_a_blog_id_to_a_spoke_first() {
        // Mallory copies Ada's public blog ID (and even its salt) into a document of her own,
        // signs it with her own key, and offers it to a spoke that does not hold Ada's blog yet.
        let ada = author();
        let salt = ada.doc.id_salt().expect("a bound blog");
        let mallory = Identity::generate("Mallory", "pw").unwrap();
        let mut mkey = mallory.unlock("pw").unwrap();
        let mut doc = BlogDoc::create_bound(&ada.blog, &salt, &mallory.fingerprint(), &BlogSettings::default());
        doc.put_post(&Post::new("Ada says", "words Ada never wrote")).unwrap();
        doc.commit("squat");
        let statements = vec![Statement::new(ada.blog.clone(), &doc.heads()).sign(&mut mkey).unwrap()];
        let mut w = Replica { blog_id: ada.blog.clone(), doc: doc.automerge().fork(), certificate: Some(mallory.certificate()), statements, saved: SavedDoc::default() };
        let mut s = empty_spoke(&ada.blog);
        let (_, rb) = run(&mut w, &mut s).await;
        let e = rb.unwrap_err();
        assert_eq!(e.code(), "wrong-blog", "{e}");
        assert!(s.doc.get_heads().is_empty(), "nothing of Mallory's was merged");
        // A stored copy of it fails verification too, as a spoke checks before serving.
        assert_eq!(verify_replica(&mut w).unwrap_err().code, "wrong-blog");
        // Ada's own document still reaches the same spoke.
        let mut ada = ada;
        let mut w = ada.replica();
        run(&mut w, &mut s).await.1.unwrap();
        assert!(verify_replica(&mut s).is_ok());
    }

    #[tokio::test]
    async fn garbage_sync_message_is_a_typed_refusal() {
        let (_, rb) = hostile_peer(vec![Frame { typ: FrameType::SyncMessage, payload: vec![0x42, 1, 2, 3] }], false).await;
        assert_eq!(rb.unwrap_err().code(), "malformed");
    }

    /// Attack 1 of the hostile-peers issue at the session: a compressed change that inflates to
    /// 1 GiB, in the changes step and in a sync message, is refused as `too-large` before
    /// Automerge inflates it, and nothing merges.
    #[tokio::test]
    async fn a_decompression_bomb_is_refused_before_automerge_inflates_it() {
        let bomb = spokes_core::expansion::compressed_change_bomb(1 << 30);
        assert!(bomb.len() < crate::MAX_FRAME_LEN as usize);
        let mut part = vec![0u8];
        part.extend(&bomb);
        let message = Message {
            heads: vec![],
            need: vec![],
            have: vec![],
            changes: vec![bomb].into(),
            flags: None,
            version: automerge::sync::MessageVersion::V1,
        };
        for (frames, changes_step) in [(vec![Frame { typ: FrameType::Changes, payload: part }], true), (vec![Frame { typ: FrameType::SyncMessage, payload: message.encode() }], false)] {
            let (mut s, rb) = hostile_peer(frames, changes_step).await;
            let e = rb.unwrap_err();
            assert_eq!(e.code(), "too-large", "{e}");
            assert!(e.to_string().contains("expands too far"), "{e}");
            assert!(s.doc.get_heads().is_empty());
        }
    }
}
