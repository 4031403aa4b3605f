//! spokes-sync: the Spokes sync protocol, version 1, over iroh QUIC.
//!
//! - [`frame`]: typed, length-prefixed frames with a hard size cap.
//! - [`ticket`]: invite tickets (`spokes1…`) that tell a writer how to reach a spoke.
//! - [`session`]: one sync session between two replicas of a blog, verify-before-merge.
//! - [`set`]: `spokes/sync/2`, the blog as a signed manifest over one document per post: sync by difference.
//! - [`peer`]: dialing a spoke ([`peer::initiate`]) and answering ([`peer::respond`], [`peer::Host`]).
//! - [`drafts`]: `spokes/drafts/1`, sealed drafts passed between the author's devices via spokes.
//! - [`images`]: `spokes/images/1`, the bytes of images that signed posts link to by hash.
//! - [`council`]: `spokes/council/1`, council membership entries and catalogs between spokes.
//! - [`pairing`]: `spokes/pair/1`, the pairing code and the messages that pair a computer.
//! - [`net`]: iroh endpoints bound the Spokes way (no relay, no address lookup), and the
//!   address to dial a spoke at.
//!
//! Every protocol of Spokes is here, each in its own module with its ALPN constant beside its
//! messages: [`ALPN`] (`spokes/sync/1`, [`session`]), [`drafts::DRAFTS_ALPN`],
//! [`images::IMAGES_ALPN`], [`council::COUNCIL_ALPN`], [`pairing::PAIR_ALPN`]. A new
//! incompatible protocol gets a new ALPN. The refusal codes of every protocol are
//! `spokes_core::problem::Code`'s.

pub mod council;
pub mod drafts;
pub mod frame;
pub mod images;
pub mod names;
pub mod net;
pub mod pairing;
pub mod peer;
pub mod session;
pub mod set;
pub mod ticket;

/// The ALPN of protocol version 1.
pub const ALPN: &[u8] = b"spokes/sync/1";
/// The protocol version carried in hello frames.
pub const PROTOCOL_VERSION: u32 = 1;

pub use frame::{Frame, FrameError, FrameType, MAX_FRAME_LEN};
pub use session::{Hello, Outcome, Received, Replica, RemoteError, SavedDoc, SyncError, Unverified, VerifiedReplica, refusal_from_peer};
pub use ticket::Ticket;
