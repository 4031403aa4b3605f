//! The writer's identity: an OpenPGP certificate (RFC 4880, v4 keys) with an Ed25519
//! certification-only primary key and an Ed25519 signing subkey for this device.
//!
//! The secret key material is encrypted with the writer's passphrase (OpenPGP S2K, as
//! sequoia-openpgp's `CertBuilder::set_password` does) and stored as an ASCII-armored
//! transferable secret key. The certificate's fingerprint names the author.

use sequoia_openpgp as openpgp;
use openpgp::cert::prelude::*;
use openpgp::crypto::{KeyPair, Password};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::SerializeInto;
use openpgp::types::KeyFlags;

/// Errors of the identity layer.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The passphrase does not decrypt the secret key.
    #[error("the passphrase is not correct")]
    WrongPassphrase,
    /// The bytes are not an OpenPGP certificate or key.
    #[error("this is not a readable OpenPGP key or certificate: {0}")]
    Malformed(String),
    /// The key has no secret part (a certificate was given where a key was expected).
    #[error("this file holds only a public certificate, not the secret key")]
    NoSecret,
    /// No signing key that is valid now.
    #[error("the key has no valid signing key (expired or revoked)")]
    NoSigningKey,
    /// Key generation or another OpenPGP operation failed.
    #[error("OpenPGP operation failed: {0}")]
    OpenPgp(String),
}

fn pgp(e: anyhow_like::Error) -> IdentityError {
    IdentityError::OpenPgp(e.to_string())
}

mod anyhow_like {
    pub type Error = sequoia_openpgp::anyhow::Error;
}

/// The policy every check in Spokes uses: sequoia's standard policy.
pub fn policy() -> StandardPolicy<'static> {
    StandardPolicy::new()
}

/// A public certificate: what readers and spokes check signatures against.
#[derive(Clone, Debug, PartialEq)]
pub struct Certificate {
    cert: Cert,
}

impl Certificate {
    /// Parses a certificate (binary or ASCII-armored). Secret key material, if any, is stripped.
    pub fn from_bytes(bytes: &[u8]) -> Result<Certificate, IdentityError> {
        let cert = Cert::from_bytes(bytes).map_err(|e| IdentityError::Malformed(e.to_string()))?;
        Ok(Certificate { cert: cert.strip_secret_key_material() })
    }
    /// The fingerprint, uppercase hex without spaces (40 characters for v4).
    pub fn fingerprint(&self) -> String {
        self.cert.fingerprint().to_hex()
    }
    /// ASCII-armored (`-----BEGIN PGP PUBLIC KEY BLOCK-----`) certificate.
    pub fn to_armored(&self) -> Vec<u8> {
        self.cert.armored().to_vec().unwrap_or_default()
    }
    /// Binary OpenPGP certificate (RFC 4880 transferable public key).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.cert.to_vec().unwrap_or_default()
    }
    /// The first user ID's text, if any (for display only: never trusted for identity).
    pub fn user_id(&self) -> Option<String> {
        self.cert.userids().next().map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
    }
    /// Merges another copy of the same certificate (new subkeys, revocations, renewed expiry).
    /// Returns `false`, changing nothing, when `other` has a different fingerprint.
    pub fn merge(&mut self, other: &Certificate) -> bool {
        if other.cert.fingerprint() != self.cert.fingerprint() {
            return false;
        }
        match self.cert.clone().merge_public(other.cert.clone()) {
            Ok(c) => {
                self.cert = c;
                true
            }
            Err(_) => false,
        }
    }
    /// The underlying sequoia certificate.
    pub fn cert(&self) -> &Cert {
        &self.cert
    }
}

/// The writer's full key: certificate plus encrypted secret key material.
#[derive(Clone, Debug)]
pub struct Identity {
    tsk: Cert,
}

impl Identity {
    /// Generates a new identity for `name` (the user ID), encrypted with `passphrase`.
    pub fn generate(name: &str, passphrase: &str) -> Result<Identity, IdentityError> {
        let (tsk, _rev) = CertBuilder::new()
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_primary_key_flags(KeyFlags::empty().set_certification())
            .add_userid(name)
            .add_signing_subkey()
            .set_password(Some(Password::from(passphrase)))
            .generate()
            .map_err(pgp)?;
        Ok(Identity { tsk })
    }

    /// Reads an ASCII-armored or binary transferable secret key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Identity, IdentityError> {
        let tsk = Cert::from_bytes(bytes).map_err(|e| IdentityError::Malformed(e.to_string()))?;
        if !tsk.is_tsk() {
            return Err(IdentityError::NoSecret);
        }
        Ok(Identity { tsk })
    }

    /// The ASCII-armored secret key (`-----BEGIN PGP PRIVATE KEY BLOCK-----`), secrets still encrypted.
    pub fn to_armored(&self) -> Vec<u8> {
        self.tsk.as_tsk().armored().to_vec().unwrap_or_default()
    }

    /// The public certificate.
    pub fn certificate(&self) -> Certificate {
        Certificate { cert: self.tsk.clone().strip_secret_key_material() }
    }

    /// Fingerprint of the certificate (uppercase hex).
    pub fn fingerprint(&self) -> String {
        self.tsk.fingerprint().to_hex()
    }

    /// Decrypts the newest valid signing subkey with `passphrase`.
    ///
    /// Errors: [`IdentityError::WrongPassphrase`], [`IdentityError::NoSigningKey`].
    pub fn unlock(&self, passphrase: &str) -> Result<SigningKey, IdentityError> {
        let policy = policy();
        let password = Password::from(passphrase);
        let mut candidates: Vec<_> = self
            .tsk
            .keys()
            .with_policy(&policy, None)
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .secret()
            .collect();
        candidates.sort_by_key(|k| std::cmp::Reverse(k.key().creation_time()));
        let ka = candidates.into_iter().next().ok_or(IdentityError::NoSigningKey)?;
        let key = ka.key().clone();
        let key = if key.has_unencrypted_secret() {
            key
        } else {
            key.decrypt_secret(&password).map_err(|_| IdentityError::WrongPassphrase)?
        };
        let keypair = key.into_keypair().map_err(pgp)?;
        Ok(SigningKey { keypair, cert_fingerprint: self.fingerprint() })
    }
}

/// A decrypted signing key, ready to sign statements. Lives in memory only.
pub struct SigningKey {
    pub(crate) keypair: KeyPair,
    cert_fingerprint: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("cert", &self.cert_fingerprint).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Fingerprint of the certificate this key belongs to.
    pub fn cert_fingerprint(&self) -> &str {
        &self.cert_fingerprint
    }
    /// Fingerprint of the signing subkey itself.
    pub fn key_fingerprint(&self) -> String {
        self.keypair.public().fingerprint().to_hex()
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identity_unlocks_only_with_its_passphrase() {
        let id = Identity::generate("Ada <ada@example.org>", "correct horse").unwrap();
        assert!(matches!(id.unlock("wrong"), Err(IdentityError::WrongPassphrase)));
        let key = id.unlock("correct horse").unwrap();
        assert_eq!(key.cert_fingerprint(), id.fingerprint());
        assert_ne!(key.key_fingerprint(), id.fingerprint(), "signs with a subkey, not the primary");
    }

    #[test]
    fn armored_secret_round_trips_and_stays_encrypted() {
        let id = Identity::generate("Ada", "pw").unwrap();
        let armored = id.to_armored();
        assert!(String::from_utf8_lossy(&armored).starts_with("-----BEGIN PGP PRIVATE KEY BLOCK-----"));
        let back = Identity::from_bytes(&armored).unwrap();
        assert_eq!(back.fingerprint(), id.fingerprint());
        assert!(matches!(back.unlock("nope"), Err(IdentityError::WrongPassphrase)));
        back.unlock("pw").unwrap();
    }

    #[test]
    fn public_certificate_is_not_a_key() {
        let id = Identity::generate("Ada", "pw").unwrap();
        let cert = id.certificate().to_armored();
        assert!(matches!(Identity::from_bytes(&cert), Err(IdentityError::NoSecret)));
        assert!(matches!(Identity::from_bytes(b"garbage"), Err(IdentityError::Malformed(_))));
        assert_eq!(Certificate::from_bytes(&cert).unwrap().fingerprint(), id.fingerprint());
    }
}
