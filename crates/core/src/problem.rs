//! The one error-code enum of Spokes and the `{code, message}` value that carries it.
//!
//! A [`Code`] crosses every boundary as the same stable kebab-case string: in the `Error`
//! frames of every protocol (the refusals, [`Code::is_refusal`]; docs/formats.md lists them),
//! in the writer's stored spoke status, in the CLI's output and in the app's errors, whose
//! TypeScript types (`ui/src/generated/`) are generated from these with ts-rs (`UPDATE_BINDINGS=1
//! cargo test -p spokes-core generated_typescript` rewrites them; the test fails when they drift).
//!
//! A code this version does not know (a newer peer's, or an older stored file's) reads as
//! [`Code::Unknown`], never as an error: the message still says what happened.

use serde::{Deserialize, Serialize};

/// A stable error code. Serialised as its kebab-case name (`Code::NotHosted` is `"not-hosted"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ts_rs::TS, strum::EnumIter, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum Code {
    // Refusals: sent in `Error` frames (docs/formats.md, "Refusal codes").
    /// The protocol or format version is not one this side speaks.
    UnsupportedVersion,
    /// This spoke does not host the blog.
    NotHosted,
    /// The invite token is unknown, used up or expired.
    BadInvite,
    /// The certificate is not the blog's author's, or there is none.
    WrongCertificate,
    /// A signed statement or council entry does not verify.
    BadSignature,
    /// Changes no valid signed statement covers.
    UncoveredChanges,
    /// The document's blog ID binding or owner does not match.
    WrongBlog,
    /// Bytes that are not what the protocol sends.
    Malformed,
    /// The Automerge sync did not converge.
    TooManyRounds,
    /// More than a frame, a session, the statements cap, or what compressed data may expand to.
    TooLarge,
    /// The operator suspended the blog on this spoke.
    Suspended,
    /// This side failed (storage, say); try again later.
    Internal,
    /// Too many sessions from this peer, or publishes of this blog, in the last hour.
    RateLimited,
    /// Past the spoke's per-blog limit of posts or bytes, or of council copies.
    Quota,
    /// The spoke is short of disk space and takes no new blogs.
    LowDisk,
    /// The operator blocked this peer.
    Blocked,
    /// A picture that was not asked for, is not a picture, or does not hash to its name.
    BadImage,
    /// A wrong pairing code.
    BadCode,
    /// The spoke belongs to no council.
    NoCouncil,
    /// The peer is not (or no longer) a member of the council.
    NotAMember,
    /// The spoke belongs to another council.
    OtherCouncil,
    /// The blog name is already someone else's (`spokes/name/1`).
    NameTaken,
    /// The blog name breaks the rules for names (`spokes_core::names`).
    BadName,
    /// The spoke has no council domain to register names in.
    NoNames,
    /// The council's name server could not be reached or refused the update.
    DnsFailed,

    // This side's failures to reach a peer (never sent).
    /// The peer could not be reached, or the connection broke.
    Connection,
    /// The peer stopped answering in time.
    Timeout,
    /// The peer sent frames out of protocol.
    Protocol,
    /// The pictures could not be delivered to a spoke.
    ImagesUndelivered,
    /// A spoke's record: an upstream's council entry did not verify.
    BadCouncilEntry,
    /// A spoke's record: an upstream offered an older state of a blog than it offered before.
    RolledBack,

    // The writer's profile (`spokes_writer::ProfileError::code`).
    /// No profile in this folder.
    NoProfile,
    /// A profile already exists in this folder.
    ProfileExists,
    /// A file could not be read or written.
    Io,
    /// A stored file is damaged.
    DamagedFile,
    /// A stored file was written by a newer version of Spokes.
    NewerVersion,
    /// The passphrase does not open the key.
    WrongPassphrase,
    /// This computer was removed from the writer's identity.
    DeviceRemoved,
    /// The writer asked to remove the computer they are using.
    OwnDevice,
    /// No such computer in the identity.
    NotThatDevice,
    /// An export archive could not be read or written.
    Archive,
    /// Pairing another computer failed.
    Pairing,
    /// The post is still published.
    StillPublished,
    /// The identity (certificate, keys) could not be used.
    Identity,
    /// An edit was made against text that changed meanwhile.
    EditMismatch,
    /// The blog document could not be read or changed.
    Document,
    /// Files could not be imported.
    Import,
    /// A spoke's invite (ticket) could not be read.
    BadTicket,
    /// A revision could not be signed.
    Signing,
    /// No post with that ID.
    NoSuchPost,

    // The app's own (src-tauri).
    /// The text is not a web address.
    BadAddress,
    /// The built-in spoke could not start.
    LocalSpoke,
    /// The key is locked: the passphrase is needed first.
    Locked,
    /// A required field is empty.
    MissingField,
    /// No web browser could be opened.
    NoBrowser,
    /// No such spoke among the writer's.
    NoSuchSpoke,
    /// A post needs a title.
    NoTitle,
    /// The file is not a recovery file.
    NotARecoveryFile,
    /// The recovery file could not be read.
    RecoveryUnreadable,
    /// The recovery file names no spokes to fetch the blog from.
    RecoveryWithoutSpokes,
    /// The passphrase is too weak.
    WeakPassphrase,

    /// A code this version does not know: a newer peer's, or an older stored file's (kept last:
    /// every unknown name reads as this one).
    Unknown,
}

impl Code {
    /// The stable kebab-case name, as serialised.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The code named `name`; [`Code::Unknown`] for a name this version does not know.
    pub fn parse(name: &str) -> Code {
        name.parse().unwrap_or(Code::Unknown)
    }

    /// Every code, in declaration order.
    pub fn all() -> impl Iterator<Item = Code> {
        <Code as strum::IntoEnumIterator>::iter()
    }

    /// Whether the code may be sent in an `Error` frame (docs/formats.md, "Refusal codes").
    /// A peer's code that is not one of these reads as [`Code::Unknown`].
    pub fn is_refusal(self) -> bool {
        self <= Code::DnsFailed
    }

    /// Whether a spoke's refusal with this code says a signature check failed: tampering, by
    /// the spoke or on the way.
    pub fn is_tampering(self) -> bool {
        matches!(self, Code::UncoveredChanges | Code::BadSignature | Code::WrongCertificate | Code::WrongBlog)
    }

    /// Whether the failure says nothing about what a spoke serves: it was unreachable or busy.
    pub fn is_transient(self) -> bool {
        matches!(self, Code::Connection | Code::Timeout | Code::RateLimited | Code::Protocol)
    }
}

impl<'de> Deserialize<'de> for Code {
    /// Reads a name as [`Code::parse`] does: an unknown one is [`Code::Unknown`], a value that
    /// is not a string is an error.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Code, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Code::parse(&name))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A failure as it crosses a boundary: a [`Code`] and a sentence. A peer's refusal in an
/// `Error` frame (JSON `{"code": "...", "message": "..."}`), a spoke's status in the writer's
/// profile, an error the app shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Problem {
    /// The stable code.
    pub code: Code,
    /// What happened, in a sentence (a writer's, where it reaches the app).
    pub message: String,
    /// What the problem is about, in no particular language, where there is such a thing: a
    /// file's path, an invite as it was typed, a lower error's own text. The message holds it
    /// too; the app shows it after the sentence of `code` when it speaks another language
    /// than the message's (English). Never sent to peers; absent from older stored statuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub detail: Option<String>,
}

impl Problem {
    /// A problem with `code` and `message`, and no detail.
    pub fn new(code: Code, message: impl Into<String>) -> Problem {
        Problem { code, message: message.into(), detail: None }
    }

    /// This problem with `detail` (see [`Problem::detail`]).
    pub fn with_detail(mut self, detail: impl Into<String>) -> Problem {
        self.detail = Some(detail.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ts_rs::TS;

    #[test]
    fn codes_are_kebab_case_both_ways_and_unknown_names_read_as_unknown() {
        for code in Code::all() {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<Code>(&json).unwrap(), code);
            assert_eq!(Code::parse(code.as_str()), code);
        }
        assert_eq!(Code::NotAMember.as_str(), "not-a-member");
        assert_eq!(Code::parse("images-connection"), Code::Unknown);
        assert_eq!(serde_json::from_str::<Problem>(r#"{"code":"from-the-future","message":"m"}"#).unwrap().code, Code::Unknown);
        assert!(serde_json::from_str::<Problem>(r#"{"code":7,"message":"m"}"#).is_err());
        // A detail is kept when there is one and written only then: a refusal in an `Error`
        // frame stays `{code, message}`.
        assert_eq!(serde_json::to_string(&Problem::new(Code::Io, "m")).unwrap(), r#"{"code":"io","message":"m"}"#);
        let p = Problem::new(Code::Io, "Could not use /tmp/x: gone").with_detail("/tmp/x");
        assert_eq!(serde_json::from_str::<Problem>(&serde_json::to_string(&p).unwrap()).unwrap(), p);
        let refusals: Vec<&str> = Code::all().filter(|c| c.is_refusal()).map(Code::as_str).collect();
        assert_eq!(refusals.len(), 25);
        assert!(!Code::Unknown.is_refusal() && !Code::Connection.is_refusal() && Code::OtherCouncil.is_refusal() && Code::DnsFailed.is_refusal());
    }

    /// The UI's TypeScript types are these, generated; `UPDATE_BINDINGS=1` rewrites them.
    #[test]
    fn generated_typescript() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/generated");
        let cfg = ts_rs::Config::default();
        for (name, text) in [("Code.ts", Code::export_to_string(&cfg).unwrap()), ("Problem.ts", Problem::export_to_string(&cfg).unwrap())] {
            let path = dir.join(name);
            if std::env::var_os("UPDATE_BINDINGS").is_some() {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
            }
            let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
            assert_eq!(on_disk, text, "ui/src/generated/{name} differs from the Rust types; run UPDATE_BINDINGS=1 cargo test -p spokes-core generated_typescript");
        }
    }
}
