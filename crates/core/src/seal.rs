//! Sealed drafts: the drafts document as it travels between the writer's own computers
//! through spokes, which can check who sealed it but cannot read it.
//!
//! # Sealed drafts bytes (version 1)
//!
//! ```text
//! +-----------+---------+-----------------+-------------------+--------------------------+
//! | "SPKD"    | version | signature length| signature         | ciphertext               |
//! | 4 bytes   | 1 (u8)  | u32 big-endian  | that many bytes   | the rest                 |
//! +-----------+---------+-----------------+-------------------+--------------------------+
//! ```
//!
//! - `ciphertext` is an OpenPGP message (RFC 4880 §11.3, binary) encrypted to every valid
//!   storage-encryption subkey of the author's certificate, holding one literal data packet:
//!   the saved Automerge drafts document.
//! - `signature` is a detached binary-document signature (one binary packet) over
//!   `ciphertext`, by a device's signing subkey. A spoke checks it against the blog's
//!   certificate before storing anything, so only the author's devices can store drafts there;
//!   the receiving device checks it again before decrypting.

use crate::identity::{Certificate, Identity, IdentityError, SigningKey, policy};
use crate::statement::{StatementError, sign_detached, verify_detached};
use sequoia_openpgp as openpgp;
use openpgp::crypto::{KeyPair, Password, SessionKey};
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::Parse;
use openpgp::parse::stream::{DecryptionHelper, DecryptorBuilder, MessageStructure, VerificationHelper};
use openpgp::serialize::stream::{Encryptor, LiteralWriter, Message};
use openpgp::types::SymmetricAlgorithm;
use std::io::Write;

/// The first four bytes of sealed drafts.
pub const SEAL_MAGIC: &[u8; 4] = b"SPKD";
/// The sealed-drafts version this code writes and reads.
pub const SEAL_VERSION: u8 = 1;

/// Errors of sealing and opening drafts.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The bytes are not sealed drafts of a known version.
    #[error("not readable sealed drafts: {0}")]
    Malformed(String),
    /// A newer version.
    #[error("sealed drafts of version {0}, newer than this Spokes reads")]
    NewerVersion(u8),
    /// The outer signature does not check out against the author's certificate.
    #[error("the sealed drafts are not signed by one of the author's computers: {0}")]
    BadSignature(#[from] StatementError),
    /// The certificate has no key to encrypt to.
    #[error("the certificate has no encryption key (add one by setting up the identity again)")]
    NoEncryptionKey,
    /// None of our keys opens the message, or it is damaged.
    #[error("the sealed drafts cannot be opened with this identity: {0}")]
    CannotOpen(String),
    /// An identity error (wrong passphrase).
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// The decrypted encryption secrets of an identity, for opening sealed drafts. Memory only.
#[derive(Clone)]
pub struct OpeningKeys {
    keys: Vec<KeyPair>,
}

impl std::fmt::Debug for OpeningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpeningKeys").field("keys", &self.keys.len()).finish()
    }
}

impl Identity {
    /// Decrypts every encryption subkey secret held here with `passphrase`.
    ///
    /// Errors: [`IdentityError::WrongPassphrase`], [`IdentityError::OpenPgp`] if none is held.
    pub fn opening_keys(&self, passphrase: &str) -> Result<OpeningKeys, IdentityError> {
        let policy = policy();
        let password = Password::from(passphrase);
        let mut keys = Vec::new();
        for ka in self.tsk().keys().with_policy(&policy, None).supported().secret().for_storage_encryption() {
            let key = ka.key().clone();
            let key = if key.has_unencrypted_secret() { key } else { key.decrypt_secret(&password).map_err(|_| IdentityError::WrongPassphrase)? };
            keys.push(key.into_keypair().map_err(|e| IdentityError::OpenPgp(e.to_string()))?);
        }
        if keys.is_empty() {
            return Err(IdentityError::OpenPgp("this identity holds no encryption key".into()));
        }
        Ok(OpeningKeys { keys })
    }
}

/// Seals `plaintext` (a saved drafts document) for the author's own devices: encrypted to
/// `cert`'s encryption subkeys, signed by `key`.
pub fn seal(plaintext: &[u8], cert: &Certificate, key: &mut SigningKey) -> Result<Vec<u8>, SealError> {
    let policy = policy();
    let recipients: Vec<_> = cert.cert().keys().with_policy(&policy, None).supported().alive().revoked(false).for_storage_encryption().collect();
    if recipients.is_empty() {
        return Err(SealError::NoEncryptionKey);
    }
    let mut ciphertext = Vec::with_capacity(plaintext.len() + 512);
    let fail = |e: &dyn std::fmt::Display| SealError::Malformed(format!("encryption failed: {e}"));
    {
        let message = Message::new(&mut ciphertext);
        let message = Encryptor::for_recipients(message, recipients).build().map_err(|e| fail(&e))?;
        let mut w = LiteralWriter::new(message).build().map_err(|e| fail(&e))?;
        w.write_all(plaintext).map_err(|e| fail(&e))?;
        w.finalize().map_err(|e| fail(&e))?;
    }
    let signature = sign_detached(key, &ciphertext)?;
    let mut out = Vec::with_capacity(9 + signature.len() + ciphertext.len());
    out.extend_from_slice(SEAL_MAGIC);
    out.push(SEAL_VERSION);
    out.extend_from_slice(&(signature.len() as u32).to_be_bytes());
    out.extend_from_slice(&signature);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// The parts of sealed drafts: (signature, ciphertext).
fn split(sealed: &[u8]) -> Result<(&[u8], &[u8]), SealError> {
    if sealed.len() < 9 || &sealed[..4] != SEAL_MAGIC {
        return Err(SealError::Malformed("no SPKD header".into()));
    }
    if sealed[4] != SEAL_VERSION {
        return if sealed[4] > SEAL_VERSION { Err(SealError::NewerVersion(sealed[4])) } else { Err(SealError::Malformed(format!("version {}", sealed[4]))) };
    }
    let len = u32::from_be_bytes([sealed[5], sealed[6], sealed[7], sealed[8]]) as usize;
    let rest = &sealed[9..];
    if len > rest.len() {
        return Err(SealError::Malformed("the signature length runs past the end".into()));
    }
    Ok(rest.split_at(len))
}

/// Checks who sealed the drafts, without opening them (what a spoke does). Returns the
/// signing key's fingerprint and the signature time (seconds since the Unix epoch).
pub fn check_sealer(sealed: &[u8], cert: &Certificate) -> Result<(String, i64), SealError> {
    let (signature, ciphertext) = split(sealed)?;
    Ok(verify_detached(cert, signature, ciphertext)?)
}

/// Checks the seal against `cert` and opens it with `keys`. Returns the plaintext and the
/// fingerprint of the device key that sealed it.
pub fn open(sealed: &[u8], cert: &Certificate, keys: &OpeningKeys) -> Result<(Vec<u8>, String), SealError> {
    let (signer, _) = check_sealer(sealed, cert)?;
    let (_, ciphertext) = split(sealed)?;
    let policy = policy();
    let helper = Helper { keys: &keys.keys };
    let mut d = DecryptorBuilder::from_bytes(ciphertext)
        .map_err(|e| SealError::CannotOpen(e.to_string()))?
        .with_policy(&policy, None, helper)
        .map_err(|e| SealError::CannotOpen(e.to_string()))?;
    let mut out = Vec::new();
    std::io::copy(&mut d, &mut out).map_err(|e| SealError::CannotOpen(e.to_string()))?;
    Ok((out, signer))
}

struct Helper<'a> {
    keys: &'a [KeyPair],
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _: &[openpgp::KeyHandle]) -> openpgp::Result<Vec<openpgp::Cert>> {
        Ok(Vec::new())
    }
    fn check(&mut self, _: MessageStructure) -> openpgp::Result<()> {
        // Authenticity is the outer detached signature's job, checked before decrypting.
        Ok(())
    }
}

impl DecryptionHelper for Helper<'_> {
    fn decrypt(&mut self, pkesks: &[PKESK], _: &[SKESK], sym_algo: Option<SymmetricAlgorithm>, decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool) -> openpgp::Result<Option<openpgp::Cert>> {
        for pkesk in pkesks {
            for kp in self.keys {
                let mut kp = kp.clone();
                if let Some((algo, sk)) = pkesk.decrypt(&mut kp, sym_algo)
                    && decrypt(algo, &sk)
                {
                    return Ok(None);
                }
            }
        }
        Err(openpgp::anyhow::anyhow!("no key of this identity opens the message"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_drafts_open_on_another_device_and_nowhere_else() {
        let id = Identity::generate("Ada", "pw").unwrap();
        let (id, laptop) = id.add_device("pw", "Laptop").unwrap();
        let mut desk_key = id.unlock("pw").unwrap();
        let _ = laptop;
        let cert = id.certificate();
        let sealed = seal(b"the drafts document", &cert, &mut desk_key).unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"drafts"), "the plaintext is not visible");
        // A spoke checks the sealer without opening.
        assert_eq!(check_sealer(&sealed, &cert).unwrap().0, desk_key.key_fingerprint());
        let keys = id.opening_keys("pw").unwrap();
        let (plain, signer) = open(&sealed, &cert, &keys).unwrap();
        assert_eq!(plain, b"the drafts document");
        assert_eq!(signer, desk_key.key_fingerprint());
        assert!(matches!(id.opening_keys("wrong"), Err(IdentityError::WrongPassphrase)));

        // Another author can neither open it nor pass off their own as the author's.
        let mallory = Identity::generate("Mallory", "pw").unwrap();
        let mkeys = mallory.opening_keys("pw").unwrap();
        assert!(matches!(open(&sealed, &cert, &mkeys), Err(SealError::CannotOpen(_))));
        let forged = seal(b"garbage", &cert, &mut mallory.unlock("pw").unwrap()).unwrap();
        assert!(matches!(check_sealer(&forged, &cert), Err(SealError::BadSignature(_))));
        // Tampering with the ciphertext breaks the signature.
        let mut bad = sealed.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(open(&bad, &cert, &keys), Err(SealError::BadSignature(_))));
        let mut newer = sealed.clone();
        newer[4] = 9;
        assert!(matches!(check_sealer(&newer, &cert), Err(SealError::NewerVersion(9))));
        assert!(matches!(check_sealer(b"SPKD\x01\xff\xff\xff\xff", &cert), Err(SealError::Malformed(_))));
        assert!(matches!(check_sealer(b"", &cert), Err(SealError::Malformed(_))));
    }
}
