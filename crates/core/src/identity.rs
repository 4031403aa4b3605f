//! The writer's identity: an OpenPGP certificate (RFC 4880, v4 keys) with an Ed25519
//! certification-only primary key, one Ed25519 signing subkey per device and a Cv25519
//! encryption subkey.
//!
//! The secret key material is encrypted with the writer's passphrase (OpenPGP S2K, as
//! sequoia-openpgp's `CertBuilder::set_password` does) and stored as an ASCII-armored
//! transferable secret key. The certificate's fingerprint names the author.
//!
//! # Devices
//!
//! Each computer signs with its own subkey, so a lost one is revoked without changing the
//! author's name. The subkey's binding signature (made by the primary key) carries the
//! device's name in the notation [`DEVICE_NOTATION`] (RFC 4880 §5.2.3.16, human-readable),
//! so every copy of the certificate, GnuPG's included, says which computer a key belongs to.
//! A device is revoked in one of two ways (RFC 4880 §5.2.3.23, reason for revocation):
//!
//! - *retired* ([`Identity::revoke_device`]): a soft revocation ("key retired") dated when it
//!   is made. Signatures the key made before stay valid, later ones are refused. Right for a
//!   computer the writer gave away or wiped, whose key nobody else holds.
//! - *lost or stolen* ([`Identity::revoke_device_lost`]): a hard revocation ("key
//!   compromised"). Signature creation times are written by the signer, so a thief holding a
//!   copy of the key could date a signature before a soft revocation; after a hard one
//!   sequoia refuses the key at every time, and nothing it ever signed counts. What the
//!   writer still vouches for is signed again by a current device (see
//!   `spokes_writer`'s `Profile::device_lost`).
//!
//! An existing GnuPG key (an armored `gpg --export-secret-keys` export) becomes an identity
//! with [`Identity::import_secret_key`]: its primary key stays the author's name and a device
//! subkey is added.

use sequoia_openpgp as openpgp;
use openpgp::cert::prelude::*;
use openpgp::crypto::{KeyPair, Password};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::SerializeInto;
use openpgp::packet::key::{Key4, SecretParts, SubordinateRole, PublicParts, PrimaryRole};
use openpgp::packet::signature::SignatureBuilder;
use openpgp::packet::signature::subpacket::NotationDataFlags;
use openpgp::packet::{Key, Packet};
use openpgp::types::{Curve, KeyFlags, ReasonForRevocation, RevocationStatus, SignatureType};
use std::time::{SystemTime, UNIX_EPOCH};

/// The notation on a device subkey's binding signature that names the device
/// (value: UTF-8 text, for example "Ada's laptop").
pub const DEVICE_NOTATION: &str = "device@spokes.blog";

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
    #[error("this computer has no valid signing key: it was removed from your identity, or the key expired")]
    NoSigningKey,
    /// The named device key is not part of this identity.
    #[error("no device key {0} in this identity")]
    NoSuchDevice(String),
    /// The primary key's secret is not here (a device that holds only its own subkey).
    #[error("this computer does not hold the main key, which is needed to add or remove devices")]
    NoPrimarySecret,
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

/// Largest certificate Spokes keeps once minimised, in bytes (binary form): room for about a
/// hundred device subkeys. Certificates from peers that are larger are refused.
pub const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;

/// The certificate as its author made it: the primary key with its own self-signatures and
/// revocations, the user IDs and subkeys it binds (with their bindings and revocations), and
/// nothing else. Dropped: user IDs and subkeys without a binding signature, user attributes
/// (photos), third-party certifications, signatures that do not verify, and every unhashed
/// subpacket except issuer, issuer fingerprint and embedded signature (RFC 4880 §5.2.3: the
/// unhashed area is not signed, so anyone could fill it). Errors:
/// [`IdentityError::OpenPgp`] if the result cannot be assembled.
pub fn minimise(cert: &Cert) -> Result<Cert, IdentityError> {
    use openpgp::packet::Signature;
    use openpgp::packet::signature::subpacket::SubpacketTag;
    fn clean(s: &Signature) -> Result<Packet, IdentityError> {
        let mut s = s.clone();
        let keep: Vec<_> = s.unhashed_area().iter().filter(|sp| matches!(sp.tag(), SubpacketTag::Issuer | SubpacketTag::IssuerFingerprint | SubpacketTag::EmbeddedSignature)).cloned().collect();
        let area = s.unhashed_area_mut();
        area.clear();
        for sp in keep {
            area.add(sp).map_err(pgp)?;
        }
        Ok(s.into())
    }
    let mut packets: Vec<Packet> = vec![cert.primary_key().key().clone().into()];
    let pk = cert.primary_key();
    for s in pk.self_signatures().chain(pk.self_revocations()) {
        packets.push(clean(s)?);
    }
    for u in cert.userids() {
        if u.self_signatures().next().is_none() {
            continue;
        }
        packets.push(u.userid().clone().into());
        for s in u.self_signatures().chain(u.self_revocations()) {
            packets.push(clean(s)?);
        }
    }
    for k in cert.keys().subkeys() {
        if k.self_signatures().next().is_none() {
            continue;
        }
        packets.push(k.key().clone().into());
        for s in k.self_signatures().chain(k.self_revocations()) {
            packets.push(clean(s)?);
        }
    }
    Cert::from_packets(packets.into_iter()).map_err(pgp)
}

/// A public certificate: what readers and spokes check signatures against.
#[derive(Clone, Debug, PartialEq)]
pub struct Certificate {
    cert: Cert,
}

impl Certificate {
    /// Parses a certificate (binary or ASCII-armored) and keeps only what its own primary key
    /// certifies ([`minimise`]); secret key material, if any, is stripped. Errors:
    /// [`IdentityError::Malformed`] for bytes that are not a certificate, or a certificate
    /// over [`MAX_CERTIFICATE_BYTES`] once minimised.
    pub fn from_bytes(bytes: &[u8]) -> Result<Certificate, IdentityError> {
        let cert = Cert::from_bytes(bytes).map_err(|e| IdentityError::Malformed(e.to_string()))?;
        let c = Certificate { cert: minimise(&cert.strip_secret_key_material())? };
        if c.to_bytes().len() > MAX_CERTIFICATE_BYTES {
            return Err(IdentityError::Malformed(format!("a certificate larger than {MAX_CERTIFICATE_BYTES} bytes")));
        }
        Ok(c)
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
    ///
    /// Both copies are minimised ([`minimise`]); a merge whose result would pass
    /// [`MAX_CERTIFICATE_BYTES`] also returns `false`.
    pub fn merge(&mut self, other: &Certificate) -> bool {
        if other.cert.fingerprint() != self.cert.fingerprint() {
            return false;
        }
        match self.cert.clone().merge_public(other.cert.clone()).and_then(|c| minimise(&c).map_err(Into::into)) {
            Ok(c) if c.to_vec().map_or(usize::MAX, |v| v.len()) <= MAX_CERTIFICATE_BYTES => {
                self.cert = c;
                true
            }
            _ => false,
        }
    }
    /// Whether `fingerprint` (hex, any case) names the primary key or a subkey of this
    /// certificate, revoked or not: whether a signature by it was made by one of the
    /// certificate holder's keys at all.
    pub fn has_key(&self, fingerprint: &str) -> bool {
        let wanted = fingerprint.to_uppercase();
        self.cert.keys().any(|k| k.key().fingerprint().to_hex() == wanted)
    }
    /// The underlying sequoia certificate.
    pub fn cert(&self) -> &Cert {
        &self.cert
    }
}

/// One key of a certificate that can sign statements: a device's subkey (or, for an imported
/// GnuPG key, a signing-capable primary key).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeviceKey {
    /// The key's fingerprint, uppercase hex.
    pub fingerprint: String,
    /// The device's name from [`DEVICE_NOTATION`], if the binding signature carries one.
    pub name: Option<String>,
    /// When the key was created, seconds since the Unix epoch.
    pub created_at: i64,
    /// When the key was revoked (its signatures from then on are refused), if it was.
    pub revoked_at: Option<i64>,
    /// The revocation's reason text, if revoked.
    pub revocation_reason: Option<String>,
    /// Whether this is the primary key rather than a subkey.
    pub primary: bool,
    /// Whether the key was declared lost or stolen (a hard revocation): nothing it ever
    /// signed counts, whatever date the signature carries.
    pub lost: bool,
}

/// Whether a revocation is hard (RFC 4880 §5.2.3.23: every reason but "superseded",
/// "retired" and "user ID no longer valid", and a missing reason, means the key may be
/// compromised and is revoked at every time; sequoia follows this).
fn is_hard(sig: &openpgp::packet::Signature) -> bool {
    sig.reason_for_revocation().is_none_or(|(r, _)| r.revocation_type() == openpgp::types::RevocationType::Hard)
}

fn secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

impl Certificate {
    /// Every key that can (or could, before revocation) sign statements, oldest first.
    pub fn devices(&self) -> Vec<DeviceKey> {
        let policy = policy();
        let mut out = Vec::new();
        let revocation = |status: RevocationStatus| match status {
            RevocationStatus::Revoked(sigs) => {
                // A hard revocation, if there is one, says the most.
                let sig = sigs.iter().find(|s| is_hard(s)).or(sigs.first());
                (
                    sig.and_then(|s| s.signature_creation_time()).map(secs),
                    sig.and_then(|s| s.reason_for_revocation()).map(|(_, text)| String::from_utf8_lossy(text).into_owned()),
                    sigs.iter().any(|s| is_hard(s)),
                )
            }
            _ => (None, None, false),
        };
        // An imported GnuPG key may sign with its primary key.
        let primary_signs = self
            .cert
            .with_policy(&policy, None)
            .ok()
            .and_then(|v| v.primary_key().key_flags())
            .is_some_and(|f| f.for_signing());
        if primary_signs {
            let (revoked_at, revocation_reason, lost) = revocation(self.cert.revocation_status(&policy, None));
            let key = self.cert.primary_key().key();
            out.push(DeviceKey { fingerprint: key.fingerprint().to_hex(), name: None, created_at: secs(key.creation_time()), revoked_at, revocation_reason, primary: true, lost });
        }
        for ka in self.cert.keys().subkeys() {
            // The newest binding signature, whether or not the key is still alive.
            let Some(binding) = ka.self_signatures().next() else { continue };
            if !binding.key_flags().is_some_and(|f| f.for_signing()) {
                continue;
            }
            let name = binding.notation(DEVICE_NOTATION).next().map(|v| String::from_utf8_lossy(v).into_owned());
            let (revoked_at, revocation_reason, lost) = revocation(ka.revocation_status(&policy, None));
            out.push(DeviceKey {
                fingerprint: ka.key().fingerprint().to_hex(),
                name,
                created_at: secs(ka.key().creation_time()),
                revoked_at,
                revocation_reason,
                primary: false,
                lost,
            });
        }
        out.sort_by_key(|d| d.created_at);
        out
    }

    /// Fingerprints (uppercase hex) of the signing keys declared lost or stolen (hard
    /// revocations): statements they signed no longer count, whatever their date.
    pub fn lost_keys(&self) -> Vec<String> {
        self.devices().into_iter().filter(|d| d.lost).map(|d| d.fingerprint).collect()
    }

    /// Whether the key `fingerprint` may sign now: a signing-capable key of this certificate,
    /// alive and not revoked, under the standard policy.
    pub fn can_sign_now(&self, fingerprint: &str) -> bool {
        let policy = policy();
        let wanted = fingerprint.to_uppercase();
        self.cert.keys().with_policy(&policy, None).alive().revoked(false).for_signing().any(|k| k.key().fingerprint().to_hex() == wanted)
    }

    /// When the certificate expires, seconds since the Unix epoch; `None` if it never does
    /// (or is not valid under the policy now).
    pub fn expires_at(&self) -> Option<i64> {
        let policy = policy();
        let valid = self.cert.with_policy(&policy, None).ok()?;
        valid.primary_key().key_expiration_time().map(secs)
    }
}

/// The writer's full key: certificate plus encrypted secret key material.
#[derive(Clone, Debug)]
pub struct Identity {
    tsk: Cert,
}

impl Identity {
    /// Generates a new identity for `name` (the user ID), encrypted with `passphrase`. The
    /// first device subkey carries no device name; see [`Identity::generate_for_device`].
    pub fn generate(name: &str, passphrase: &str) -> Result<Identity, IdentityError> {
        Self::generate_for_device(name, None, passphrase)
    }

    /// Generates a new identity whose first signing subkey is named `device`.
    pub fn generate_for_device(name: &str, device: Option<&str>, passphrase: &str) -> Result<Identity, IdentityError> {
        let mut template = SignatureBuilder::new(SignatureType::SubkeyBinding);
        if let Some(d) = device {
            template = device_notation(template, d)?;
        }
        let (tsk, _rev) = CertBuilder::new()
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_primary_key_flags(KeyFlags::empty().set_certification())
            .add_userid(name)
            .add_subkey_with(KeyFlags::empty().set_signing(), None, None, template)
            .map_err(pgp)?
            .add_subkey(KeyFlags::empty().set_storage_encryption().set_transport_encryption(), None, None)
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

    /// Makes an identity of an existing secret key, such as GnuPG's
    /// `gpg --export-secret-keys --armor` output (for example of a key made by
    /// `gpg --quick-gen-key NAME ed25519`).
    ///
    /// `passphrase` must open the key's primary secret if it is protected; afterwards every
    /// secret is protected by it (an unprotected export becomes protected). A signing subkey
    /// named `device` is added, and an encryption subkey if the key has none. Returns the
    /// identity and the new device key's fingerprint.
    ///
    /// Errors: [`IdentityError::Malformed`], [`IdentityError::NoSecret`],
    /// [`IdentityError::NoPrimarySecret`], [`IdentityError::WrongPassphrase`], and
    /// [`IdentityError::OpenPgp`] when the key is not valid under the standard policy (for
    /// example SHA-1 self-signatures or an expired or revoked primary key).
    pub fn import_secret_key(bytes: &[u8], passphrase: &str, device: &str) -> Result<(Identity, String), IdentityError> {
        let mut id = Self::from_bytes(bytes)?;
        let policy = policy();
        id.tsk.with_policy(&policy, None).and_then(|v| v.alive()).map_err(|e| IdentityError::OpenPgp(format!("the key is not usable: {e}")))?;
        let password = Password::from(passphrase);
        // Protect every secret that came unprotected.
        let mut protected = Vec::new();
        for ka in id.tsk.keys().secret() {
            let key = ka.key().clone();
            if key.has_unencrypted_secret() {
                protected.push(if ka.primary() {
                    Packet::from(key.role_into_primary().encrypt_secret(&password).map_err(pgp)?)
                } else {
                    Packet::from(key.role_into_subordinate().encrypt_secret(&password).map_err(pgp)?)
                });
            }
        }
        if !protected.is_empty() {
            id.tsk = id.tsk.insert_packets(protected).map_err(pgp)?.0;
        }
        let has_encryption = id
            .tsk
            .keys()
            .with_policy(&policy, None)
            .alive()
            .revoked(false)
            .for_storage_encryption()
            .next()
            .is_some();
        let (mut id, fp) = id.add_device(passphrase, device)?;
        if !has_encryption {
            id = id.add_encryption_subkey(passphrase)?;
        }
        Ok((id, fp))
    }

    /// Checks that `passphrase` opens the primary key (needed to add or remove devices).
    ///
    /// Errors: [`IdentityError::WrongPassphrase`], [`IdentityError::NoPrimarySecret`].
    pub fn check_passphrase(&self, passphrase: &str) -> Result<(), IdentityError> {
        self.primary_signer(passphrase).map(|_| ())
    }

    /// The primary key, decrypted, as a signer for binding and revocation signatures.
    fn primary_signer(&self, passphrase: &str) -> Result<KeyPair, IdentityError> {
        let key = self.tsk.primary_key().key().clone();
        let key = key.parts_into_secret().map_err(|_| IdentityError::NoPrimarySecret)?;
        let key = if key.has_unencrypted_secret() {
            key
        } else {
            key.decrypt_secret(&Password::from(passphrase)).map_err(|_| IdentityError::WrongPassphrase)?
        };
        key.into_keypair().map_err(|_| IdentityError::NoPrimarySecret)
    }

    /// Adds a new signing subkey for the device `name`, bound by the primary key (with the
    /// subkey's own back-signature, RFC 4880 §5.2.1 0x19) and its secret protected by
    /// `passphrase`. Returns the new identity and the subkey's fingerprint.
    ///
    /// Errors: [`IdentityError::WrongPassphrase`], [`IdentityError::NoPrimarySecret`].
    pub fn add_device(&self, passphrase: &str, name: &str) -> Result<(Identity, String), IdentityError> {
        let mut primary = self.primary_signer(passphrase)?;
        let subkey: Key<SecretParts, SubordinateRole> = Key4::generate_ecc(true, Curve::Ed25519).map_err(pgp)?.into();
        let mut sub_signer = subkey.clone().into_keypair().map_err(pgp)?;
        let primary_pub: Key<PublicParts, PrimaryRole> = self.tsk.primary_key().key().clone();
        let backsig = SignatureBuilder::new(SignatureType::PrimaryKeyBinding)
            .sign_primary_key_binding(&mut sub_signer, &primary_pub, &subkey)
            .map_err(pgp)?;
        let binding = device_notation(SignatureBuilder::new(SignatureType::SubkeyBinding), name)?
            .set_key_flags(KeyFlags::empty().set_signing())
            .map_err(pgp)?
            .set_embedded_signature(backsig)
            .map_err(pgp)?
            .sign_subkey_binding(&mut primary, None, &subkey)
            .map_err(pgp)?;
        let fp = subkey.fingerprint().to_hex();
        let subkey = subkey.encrypt_secret(&Password::from(passphrase)).map_err(pgp)?;
        let tsk = self.tsk.clone().insert_packets(vec![Packet::SecretSubkey(subkey), binding.into()]).map_err(pgp)?.0;
        Ok((Identity { tsk }, fp))
    }

    /// Adds a Cv25519 encryption subkey (storage and transport), protected by `passphrase`.
    fn add_encryption_subkey(&self, passphrase: &str) -> Result<Identity, IdentityError> {
        let mut primary = self.primary_signer(passphrase)?;
        let subkey: Key<SecretParts, SubordinateRole> = Key4::generate_ecc(false, Curve::Cv25519).map_err(pgp)?.into();
        let binding = SignatureBuilder::new(SignatureType::SubkeyBinding)
            .set_key_flags(KeyFlags::empty().set_storage_encryption().set_transport_encryption())
            .map_err(pgp)?
            .sign_subkey_binding(&mut primary, None, &subkey)
            .map_err(pgp)?;
        let subkey = subkey.encrypt_secret(&Password::from(passphrase)).map_err(pgp)?;
        let tsk = self.tsk.clone().insert_packets(vec![Packet::SecretSubkey(subkey), binding.into()]).map_err(pgp)?.0;
        Ok(Identity { tsk })
    }

    /// Revokes the device key `fingerprint` as of now ("key retired", a soft revocation):
    /// statements it signed before stay valid, later ones are refused. `why` is kept in the
    /// revocation as its reason text.
    ///
    /// Errors: [`IdentityError::NoSuchDevice`] (also for the primary key, which is the
    /// author's name and cannot be revoked this way), [`IdentityError::WrongPassphrase`],
    /// [`IdentityError::NoPrimarySecret`].
    pub fn revoke_device(&self, passphrase: &str, fingerprint: &str, why: &str) -> Result<Identity, IdentityError> {
        self.revoke_subkey(passphrase, fingerprint, ReasonForRevocation::KeyRetired, why)
    }

    /// Revokes the device key `fingerprint` as lost or stolen ("key compromised", a hard
    /// revocation): every signature it made, whatever date it carries, is refused from now
    /// on, so a thief cannot backdate statements before the removal. `why` is kept as the
    /// reason text. What the writer still vouches for must be signed again by another device.
    ///
    /// Errors: as [`Identity::revoke_device`].
    pub fn revoke_device_lost(&self, passphrase: &str, fingerprint: &str, why: &str) -> Result<Identity, IdentityError> {
        self.revoke_subkey(passphrase, fingerprint, ReasonForRevocation::KeyCompromised, why)
    }

    fn revoke_subkey(&self, passphrase: &str, fingerprint: &str, reason: ReasonForRevocation, why: &str) -> Result<Identity, IdentityError> {
        let wanted = fingerprint.replace(' ', "").to_uppercase();
        let sub = self
            .tsk
            .keys()
            .subkeys()
            .find(|k| k.key().fingerprint().to_hex() == wanted)
            .ok_or_else(|| IdentityError::NoSuchDevice(wanted.clone()))?;
        let mut primary = self.primary_signer(passphrase)?;
        let sig = SubkeyRevocationBuilder::new()
            .set_reason_for_revocation(reason, why.as_bytes())
            .map_err(pgp)?
            .build(&mut primary, &self.tsk, sub.key(), None)
            .map_err(pgp)?;
        let tsk = self.tsk.clone().insert_packets(sig).map_err(pgp)?.0;
        Ok(Identity { tsk })
    }

    /// Sets when the whole certificate expires (`None`: never), keeping its fingerprint.
    /// Statements signed before an expiry stay valid; renewing is setting a later time.
    ///
    /// Errors: [`IdentityError::WrongPassphrase`], [`IdentityError::NoPrimarySecret`].
    #[expect(clippy::disallowed_methods, reason = "reads the clock; the layout issue passes the time in")]
    pub fn set_expiry(&self, passphrase: &str, expires: Option<SystemTime>) -> Result<Identity, IdentityError> {
        let mut primary = self.primary_signer(passphrase)?;
        let policy = policy();
        // The newest self-signature wins; with one-second timestamps a second change within
        // the same second would tie with the first, so wait for the next second.
        let newest = self
            .tsk
            .primary_key()
            .self_signatures()
            .chain(self.tsk.userids().flat_map(|u| u.self_signatures()))
            .filter_map(|s| s.signature_creation_time())
            .max();
        if let Some(t) = newest {
            wait_until_after(secs(t));
        }
        // Re-validate at a time the certificate was alive, so an expired one can be renewed.
        let at = self.tsk.primary_key().key().creation_time() + std::time::Duration::from_secs(1);
        let at = if self.tsk.with_policy(&policy, None).and_then(|v| v.alive()).is_ok() { SystemTime::now() } else { at };
        let sigs = self.tsk.set_expiration_time(&policy, at, &mut primary, expires).map_err(pgp)?;
        let tsk = self.tsk.clone().insert_packets(sigs).map_err(pgp)?.0;
        Ok(Identity { tsk })
    }

    /// Takes in what another copy of the certificate knows (devices added or revoked
    /// elsewhere). Returns `true` if anything was new; `false`, changing nothing, for another
    /// author's certificate.
    pub fn merge_certificate(&mut self, cert: &Certificate) -> bool {
        if cert.cert.fingerprint() != self.tsk.fingerprint() {
            return false;
        }
        let before = self.certificate();
        match self.tsk.clone().merge_public(cert.cert.clone()) {
            Ok(merged) => {
                self.tsk = merged;
                self.certificate() != before
            }
            Err(_) => false,
        }
    }

    /// The same identity with the secrets of every *other* device's signing subkey removed
    /// (the primary and encryption secrets stay): what a new device receives.
    pub fn for_device(&self, fingerprint: &str) -> Result<Identity, IdentityError> {
        let wanted = fingerprint.to_uppercase();
        if !self.tsk.keys().any(|k| k.key().fingerprint().to_hex() == wanted) {
            return Err(IdentityError::NoSuchDevice(wanted));
        }
        let signing_subkeys: std::collections::HashSet<String> = self
            .tsk
            .keys()
            .subkeys()
            .filter(|k| k.self_signatures().next().and_then(|s| s.key_flags()).map(|f| f.for_signing()).unwrap_or(false))
            .map(|k| k.key().fingerprint().to_hex())
            .collect();
        let packets: Vec<Packet> = self
            .tsk
            .clone()
            .into_tsk()
            .into_packets()
            .map(|p| match p {
                Packet::SecretSubkey(k) if signing_subkeys.contains(&k.fingerprint().to_hex()) && k.fingerprint().to_hex() != wanted => {
                    Packet::PublicSubkey(k.take_secret().0)
                }
                other => other,
            })
            .collect();
        let tsk = Cert::from_packets(packets.into_iter()).map_err(pgp)?;
        Ok(Identity { tsk })
    }

    /// The underlying sequoia key (secrets still encrypted).
    pub(crate) fn tsk(&self) -> &Cert {
        &self.tsk
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

    /// The same identity with every secret held here protected by `new` instead of `old`
    /// (each secret key packet decrypted and encrypted again, RFC 9580 §5.5.3 key material
    /// protection, as sequoia makes it). The public certificate, and so every signature made,
    /// is unchanged.
    ///
    /// Errors: [`IdentityError::WrongPassphrase`] when `old` does not open every protected
    /// secret; [`IdentityError::NoSecret`] when no secret is held here.
    pub fn change_passphrase(&self, old: &str, new: &str) -> Result<Identity, IdentityError> {
        let (old, new) = (Password::from(old), Password::from(new));
        let mut packets = Vec::new();
        for ka in self.tsk.keys().secret() {
            let key = ka.key().clone();
            let plain = if key.has_unencrypted_secret() { key } else { key.decrypt_secret(&old).map_err(|_| IdentityError::WrongPassphrase)? };
            packets.push(if ka.primary() {
                Packet::from(plain.role_into_primary().encrypt_secret(&new).map_err(pgp)?)
            } else {
                Packet::from(plain.role_into_subordinate().encrypt_secret(&new).map_err(pgp)?)
            });
        }
        if packets.is_empty() {
            return Err(IdentityError::NoSecret);
        }
        Ok(Identity { tsk: self.tsk.clone().insert_packets(packets).map_err(pgp)?.0 })
    }

    /// Decrypts the newest valid signing key with `passphrase`.
    ///
    /// Errors: [`IdentityError::WrongPassphrase`], [`IdentityError::NoSigningKey`].
    pub fn unlock(&self, passphrase: &str) -> Result<SigningKey, IdentityError> {
        self.unlock_device(passphrase, None)
    }

    /// Decrypts the signing key `device` (a fingerprint), or with `None` the newest valid
    /// signing key whose secret is here.
    ///
    /// Errors: [`IdentityError::WrongPassphrase`], [`IdentityError::NoSigningKey`] (also when
    /// `device` is revoked, expired or not held here).
    pub fn unlock_device(&self, passphrase: &str, device: Option<&str>) -> Result<SigningKey, IdentityError> {
        let policy = policy();
        let password = Password::from(passphrase);
        let wanted = device.map(|d| d.to_uppercase());
        let mut candidates: Vec<_> = self
            .tsk
            .keys()
            .with_policy(&policy, None)
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .secret()
            .filter(|k| wanted.as_ref().is_none_or(|w| &k.key().fingerprint().to_hex() == w))
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

/// Sleeps until the clock is past second `t` (seconds since the Unix epoch). OpenPGP
/// timestamps have one-second resolution, so a revocation or a new self-signature made in
/// the same second as an earlier signature would tie with it.
#[expect(clippy::disallowed_methods, reason = "reads the clock; the layout issue passes the time in")]
pub fn wait_until_after(t: i64) {
    loop {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        if (now.as_secs() as i64) > t {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1000 - u64::from(now.subsec_millis()) + 5));
    }
}

/// Adds the device-name notation to a binding signature template.
fn device_notation(template: SignatureBuilder, name: &str) -> Result<SignatureBuilder, IdentityError> {
    template
        .add_notation(DEVICE_NOTATION, name.as_bytes(), NotationDataFlags::empty().set_human_readable(), false)
        .map_err(pgp)
}

/// A decrypted signing key, ready to sign statements. Lives in memory only.
#[derive(Clone)]
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
    fn a_changed_passphrase_opens_the_same_keys_and_the_old_one_no_longer_does() {
        let id = Identity::generate("Ada", "old passphrase").unwrap();
        let (id, _) = id.add_device("old passphrase", "laptop").unwrap();
        assert!(matches!(id.change_passphrase("not it", "new passphrase"), Err(IdentityError::WrongPassphrase)));
        let changed = id.change_passphrase("old passphrase", "new passphrase").unwrap();
        let changed = Identity::from_bytes(&changed.to_armored()).unwrap();
        assert_eq!(changed.fingerprint(), id.fingerprint());
        assert_eq!(changed.certificate().to_bytes(), id.certificate().to_bytes(), "the public certificate is unchanged");
        assert!(matches!(changed.unlock("old passphrase"), Err(IdentityError::WrongPassphrase)));
        assert!(matches!(changed.check_passphrase("old passphrase"), Err(IdentityError::WrongPassphrase)));
        let key = changed.unlock("new passphrase").unwrap();
        assert_eq!(key.key_fingerprint(), id.unlock("old passphrase").unwrap().key_fingerprint());
        changed.check_passphrase("new passphrase").unwrap();
    }

    /// Attack 2 of the hostile-peers issue: a stranger inflates the author's certificate with
    /// an unbound user ID (a forged author name), a photo, a third-party certification and a
    /// megabyte of unhashed subpackets. What a spoke keeps is the author's certificate as made.
    #[test]
    fn an_inflated_certificate_is_minimised_and_keeps_the_authors_name() {
        use openpgp::packet::signature::subpacket::{NotationData, Subpacket, SubpacketValue};
        use openpgp::packet::{UserID, prelude::UserAttribute};
        let id = Identity::generate("Ada <ada@example.org>", "pw").unwrap();
        let honest = id.certificate();
        let mallory = Identity::generate("Mallory", "pw").unwrap();
        let mut signer = mallory.primary_signer("pw").unwrap();
        let cert = honest.cert().clone();
        let ada = cert.userids().next().unwrap();
        let ada_uid = ada.userid().clone();
        let third_party = ada.userid().certify(&mut signer, &cert, SignatureType::GenericCertification, None, None).unwrap();
        // Copies of the binding signature, each with 60 kB of its own in the unhashed area.
        let padded: Vec<Packet> = (0..16u8)
            .map(|i| {
                let mut s = ada.self_signatures().next().unwrap().clone();
                let junk = NotationData::new("junk@example.org", vec![i; 60_000], NotationDataFlags::empty());
                s.unhashed_area_mut().add(Subpacket::new(SubpacketValue::NotationData(junk), false).unwrap()).unwrap();
                s.into()
            })
            .collect();
        let inflated = cert
            .clone()
            .insert_packets(vec![
                Packet::from(UserID::from("Mallory <forged@example.org>")),
                Packet::from(ada_uid.clone()),
                third_party.into(),
                UserAttribute::new(&[]).unwrap().into(),
            ])
            .unwrap()
            .0;
        let mut bytes = inflated.to_vec().unwrap();
        // The padded copies, appended after Ada's user ID packet.
        bytes.extend(Packet::from(ada_uid).to_vec().unwrap());
        for p in padded {
            bytes.extend(p.to_vec().unwrap());
        }
        assert!(bytes.len() > 900_000, "{}", bytes.len());
        let kept = Certificate::from_bytes(&bytes).unwrap();
        assert_eq!(kept.fingerprint(), honest.fingerprint());
        assert_eq!(kept.user_id().as_deref(), Some("Ada <ada@example.org>"));
        assert_eq!(kept.cert().userids().count(), 1, "only the bound user ID");
        assert_eq!(kept.cert().user_attributes().count(), 0);
        assert_eq!(kept.cert().userids().next().unwrap().certifications().count(), 0);
        assert!(kept.to_bytes().len() < 4_000, "{} bytes kept", kept.to_bytes().len());
        // What it still certifies works: the device key signs statements that verify.
        assert_eq!(kept.devices().len(), honest.devices().len());
        let mut merged = honest.clone();
        assert!(merged.merge(&Certificate { cert: inflated }));
        assert_eq!(merged.cert().userids().count(), 1, "a merge keeps only what the author certified");
    }

    #[test]
    fn a_certificate_over_the_limit_is_refused() {
        // Three self-signatures the author's primary key really made, 30 kB each.
        let id = Identity::generate("Ada", "pw").unwrap();
        let mut signer = id.primary_signer("pw").unwrap();
        let cert = id.certificate().cert().clone();
        let sigs: Vec<Packet> = (0..3u8)
            .map(|i| SignatureBuilder::new(SignatureType::DirectKey).add_notation("big@example.org", vec![i; 30_000], NotationDataFlags::empty(), false).unwrap().sign_direct_key(&mut signer, None).unwrap().into())
            .collect();
        let big = cert.insert_packets(sigs).unwrap().0;
        let r = Certificate::from_bytes(&big.to_vec().unwrap());
        assert!(matches!(&r, Err(IdentityError::Malformed(m)) if m.contains("larger than")), "{r:?}");
    }

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

    fn statement(id: &Identity) -> crate::statement::Statement {
        let blog = crate::doc::BlogId::generate();
        let mut doc = crate::doc::BlogDoc::create(crate::doc::DocKind::Blog, &blog, &id.fingerprint(), &crate::doc::BlogSettings::default());
        crate::statement::Statement::new(blog, &doc.heads())
    }

    #[test]
    fn devices_are_added_named_and_sign_with_their_own_subkey() {
        let id = Identity::generate_for_device("Ada", Some("Desk"), "pw").unwrap();
        let first = id.unlock("pw").unwrap().key_fingerprint();
        assert!(matches!(id.add_device("wrong", "Laptop"), Err(IdentityError::WrongPassphrase)));
        let (id2, laptop) = id.add_device("pw", "Laptop").unwrap();
        assert_eq!(id2.fingerprint(), id.fingerprint(), "a device does not change the author's name");
        let devices = id2.certificate().devices();
        let names: Vec<_> = devices.iter().map(|d| (d.fingerprint.clone(), d.name.clone())).collect();
        assert_eq!(names, vec![(first.clone(), Some("Desk".into())), (laptop.clone(), Some("Laptop".into()))]);
        let mut key = id2.unlock_device("pw", Some(&laptop)).unwrap();
        assert_eq!(key.key_fingerprint(), laptop);
        let st = statement(&id2);
        let signed = st.sign(&mut key).unwrap();
        let v = signed.verify(&id2.certificate(), &st.blog_id).unwrap();
        assert_eq!(v.signer(), laptop);
        // The old certificate does not know the new device.
        assert!(matches!(signed.verify(&id.certificate(), &st.blog_id), Err(crate::statement::StatementError::UnknownSigner { .. })));
        // A device receives only its own signing secret.
        let for_laptop = id2.for_device(&laptop).unwrap();
        assert!(matches!(for_laptop.unlock_device("pw", Some(&first)), Err(IdentityError::NoSigningKey)));
        for_laptop.unlock_device("pw", Some(&laptop)).unwrap();
        assert!(matches!(id2.for_device("00"), Err(IdentityError::NoSuchDevice(_))));
    }

    #[test]
    fn a_revoked_device_keeps_its_past_signatures_and_loses_its_future_ones() {
        let id = Identity::generate_for_device("Ada", Some("Desk"), "pw").unwrap();
        let (id, laptop) = id.add_device("pw", "Laptop").unwrap();
        let mut key = id.unlock_device("pw", Some(&laptop)).unwrap();
        let st = statement(&id);
        let before = st.sign(&mut key).unwrap();
        // Signature times have one-second resolution; the revocation must be later.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let revoked = id.revoke_device("pw", &laptop, "lost on a train").unwrap();
        assert!(matches!(id.revoke_device("pw", &id.fingerprint(), "x"), Err(IdentityError::NoSuchDevice(_))), "the primary is not a device");
        let after = st.sign(&mut key).unwrap();
        let cert = revoked.certificate();
        before.verify(&cert, &st.blog_id).unwrap();
        assert!(matches!(after.verify(&cert, &st.blog_id), Err(crate::statement::StatementError::UnknownSigner { .. })));
        let d = cert.devices().into_iter().find(|d| d.fingerprint == laptop).unwrap();
        assert!(d.revoked_at.is_some());
        assert_eq!(d.revocation_reason.as_deref(), Some("lost on a train"));
        assert!(matches!(revoked.unlock_device("pw", Some(&laptop)), Err(IdentityError::NoSigningKey)));
        // Another copy of the identity learns the revocation from the certificate.
        let mut other = id.clone();
        assert!(other.merge_certificate(&cert));
        assert!(!other.merge_certificate(&cert), "nothing new the second time");
        assert!(!other.merge_certificate(&Identity::generate("Mallory", "pw").unwrap().certificate()));
        assert!(matches!(other.unlock_device("pw", Some(&laptop)), Err(IdentityError::NoSigningKey)));
    }

    /// Attack 7 of the hostile-peers issue: a thief with a copy of a device key dates a
    /// statement before the device's removal. A soft revocation ("retired") lets it through,
    /// which is why it is only for computers nobody else holds; a hard one ("lost or
    /// stolen") refuses everything the key signed, whatever its date.
    #[test]
    fn a_lost_device_can_not_backdate_statements_past_a_hard_revocation() {
        let id = Identity::generate_for_device("Ada", Some("Desk"), "pw").unwrap();
        let (id, laptop) = id.add_device("pw", "Laptop").unwrap();
        let thief_copy = id.clone();
        let mut key = thief_copy.unlock_device("pw", Some(&laptop)).unwrap();
        let st = statement(&id);
        let genuine = st.sign(&mut key).unwrap();
        // Signature times have one-second resolution: the thief's date must fall after the
        // key's creation and before its removal.
        std::thread::sleep(std::time::Duration::from_millis(2100));
        let retired = id.revoke_device("pw", &laptop, "gave it away").unwrap();
        let stolen = id.revoke_device_lost("pw", &laptop, "stolen from the car").unwrap();
        // After the removal the thief signs, dated an hour before it.
        let soft = retired.certificate();
        let removed_at = soft.devices().into_iter().find(|d| d.fingerprint == laptop).and_then(|d| d.revoked_at).unwrap();
        let backdated = st.sign_dated(&mut key, UNIX_EPOCH + std::time::Duration::from_secs(removed_at as u64 - 1)).unwrap();
        backdated.verify(&soft, &st.blog_id).expect("a soft revocation trusts the date the signer wrote");
        genuine.verify(&soft, &st.blog_id).unwrap();
        let hard = stolen.certificate();
        for s in [&backdated, &genuine] {
            assert!(matches!(s.verify(&hard, &st.blog_id), Err(crate::statement::StatementError::UnknownSigner { .. })));
        }
        let d = hard.devices().into_iter().find(|d| d.fingerprint == laptop).unwrap();
        assert!(d.lost && d.revoked_at.is_some());
        assert_eq!(d.revocation_reason.as_deref(), Some("stolen from the car"));
        assert_eq!(hard.lost_keys(), vec![laptop.clone()]);
        assert!(soft.lost_keys().is_empty() && !soft.devices().iter().any(|d| d.lost));
        // The hard revocation travels with the certificate: a copy that had only the soft
        // one learns it, and from then on refuses the backdated statement too.
        let mut other = retired.clone();
        assert!(other.merge_certificate(&hard));
        assert_eq!(other.certificate().lost_keys(), vec![laptop.clone()]);
        assert!(backdated.verify(&other.certificate(), &st.blog_id).is_err());
        // The other devices keep signing.
        let desk = hard.devices()[0].fingerprint.clone();
        let mut desk = stolen.unlock_device("pw", Some(&desk)).unwrap();
        st.sign(&mut desk).unwrap().verify(&hard, &st.blog_id).unwrap();
    }

    #[test]
    fn expiry_is_set_and_renewed_without_changing_the_fingerprint() {
        let id = Identity::generate("Ada", "pw").unwrap();
        assert_eq!(id.certificate().expires_at(), None);
        let in_a_year = SystemTime::now() + std::time::Duration::from_secs(365 * 86400);
        let renewed = id.set_expiry("pw", Some(in_a_year)).unwrap();
        assert_eq!(renewed.fingerprint(), id.fingerprint());
        assert_eq!(renewed.certificate().expires_at(), Some(secs(in_a_year)));
        assert!(matches!(id.set_expiry("nope", None), Err(IdentityError::WrongPassphrase)));
        renewed.unlock("pw").unwrap();
    }

    #[test]
    fn an_unprotected_signing_primary_key_is_imported_and_protected() {
        // What `gpg --quick-gen-key NAME ed25519 --passphrase ''` makes: a signing primary, no subkeys.
        let (tsk, _) = CertBuilder::new()
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_primary_key_flags(KeyFlags::empty().set_certification().set_signing())
            .add_userid("Grace")
            .generate()
            .unwrap();
        let armored = tsk.as_tsk().armored().to_vec().unwrap();
        let (id, device) = Identity::import_secret_key(&armored, "new pass", "Desk").unwrap();
        assert_eq!(id.fingerprint(), tsk.fingerprint().to_hex());
        assert!(matches!(id.unlock_device("wrong", Some(&device)), Err(IdentityError::WrongPassphrase)));
        assert!(matches!(id.unlock_device("wrong", Some(&id.fingerprint())), Err(IdentityError::WrongPassphrase)), "the primary secret is protected now");
        id.unlock_device("new pass", Some(&device)).unwrap();
        let devices = id.certificate().devices();
        assert_eq!(devices.len(), 2);
        assert!(devices[0].primary);
        assert_eq!(devices[1].name.as_deref(), Some("Desk"));
        let policy = policy();
        assert_eq!(id.tsk.keys().with_policy(&policy, None).for_storage_encryption().count(), 1);
        // A protected key needs its passphrase.
        let protected = id.to_armored();
        assert!(matches!(Identity::import_secret_key(&protected, "wrong", "Laptop"), Err(IdentityError::WrongPassphrase)));
        assert!(matches!(Identity::import_secret_key(&id.certificate().to_armored(), "x", "Laptop"), Err(IdentityError::NoSecret)));
    }
}
