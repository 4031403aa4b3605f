//! The writer's devices: each computer signs with its own subkey of the author's certificate
//! (see [`spokes_core::identity`]). Removing a lost computer revokes its subkey; the change
//! reaches the spokes with the certificate at the next sync, and from then on they refuse
//! what that key signs later. Replacing this computer's key, or renewing the certificate's
//! expiry, keeps the author's fingerprint and so the blog's identity.

use crate::profile::{Profile, ProfileError};
use crate::store::Which;
use spokes_core::Statement;
use spokes_core::identity::DeviceKey;
use spokes_core::{Certificate, Identity};
use std::time::SystemTime;

/// A name for this computer, shown beside the revisions it signs: the host name, or
/// "This computer" when there is none.
pub fn this_device_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "This computer".to_owned())
}

/// One publish a computer signed ([`Profile::device_publishes`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DevicePublish {
    /// Its place among the profile's statements, or, past them, among what the published set
    /// brought ([`crate::received`]): pass it to [`Profile::device_lost`].
    pub index: usize,
    /// The heads it signed (lowercase hex).
    pub heads: Vec<String>,
    /// The date its signature carries, seconds since the Unix epoch (written by the signer).
    pub signed_at: i64,
    /// Titles of the posts it added, changed or deleted.
    pub titles: Vec<String>,
}

/// What declaring a computer lost left out ([`Profile::device_lost`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LostReport {
    /// Publishes of the lost computer that no longer count.
    pub voided_publishes: usize,
    /// Changes left out of the blog because only the lost computer vouched for them.
    pub dropped_changes: usize,
}

impl Profile {
    /// Every signing key of the author's certificate as this profile knows it, oldest first.
    pub fn devices(&self) -> Result<Vec<DeviceKey>, ProfileError> {
        Ok(self.certificate()?.devices())
    }

    /// Checks that an unlocked key may still sign for the certificate as this profile now
    /// knows it (a sync may have brought news of this computer being removed).
    ///
    /// Errors: [`ProfileError::DeviceRemoved`] (when and why), else `Identity(NoSigningKey)`
    /// (an expired key); both with code `device-removed`.
    pub fn check_device(&self, key: &spokes_core::SigningKey) -> Result<(), ProfileError> {
        if self.certificate()?.can_sign_now(&key.key_fingerprint()) {
            Ok(())
        } else {
            Err(self.removal(&key.key_fingerprint()).unwrap_or(spokes_core::identity::IdentityError::NoSigningKey.into()))
        }
    }

    /// Writes a changed identity: the secret key file first, then the certificate.
    pub(crate) fn save_identity(&self, identity: &Identity) -> Result<(), ProfileError> {
        self.write("identity.asc", &identity.to_armored())?;
        self.write("certificate.asc", &identity.certificate().to_armored())
    }

    /// Removes another computer: revokes its signing key as of now, with `why` as the reason.
    /// What it signed before stays valid; spokes refuse what it signs afterwards once they
    /// have the new certificate (sent at the next sync).
    ///
    /// Errors: [`ProfileError::OwnDevice`] for this computer's key (use
    /// [`Profile::replace_device_key`]), `Identity(NoSuchDevice | WrongPassphrase |
    /// NoPrimarySecret)`.
    pub fn remove_device(&self, passphrase: &str, fingerprint: &str, why: &str) -> Result<(), ProfileError> {
        let wanted = fingerprint.replace(' ', "").to_uppercase();
        let identity = self.identity()?;
        let own = match self.device_key() {
            Some(k) => k.to_owned(),
            None => identity.unlock(passphrase)?.key_fingerprint(),
        };
        if wanted == own {
            return Err(ProfileError::OwnDevice);
        }
        let revoked = identity.revoke_device(passphrase, &wanted, why)?;
        self.save_identity(&revoked)
    }

    /// The publishes another computer signed, as this profile holds them, oldest first: what
    /// the writer picks from when declaring it lost ([`Profile::device_lost`]). Each names the
    /// posts it added, changed or deleted. The dates are the ones its signatures carry, which
    /// whoever holds the key writes; the order is the order this computer received them in.
    ///
    /// On a blog kept as a set, that computer's publishes since the upgrade came as manifests
    /// and were folded in here: they follow, from the log of what the set brought, with
    /// indexes past the statements'.
    pub fn device_publishes(&self, fingerprint: &str) -> Result<Vec<DevicePublish>, ProfileError> {
        let wanted = fingerprint.replace(' ', "").to_uppercase();
        let statements = self.statements()?;
        let received: Vec<crate::received::Received> = self.received()?.into_iter().filter(|r| r.signer == wanted).collect();
        self.with_blog(|blog| {
            let titles = |blog: &mut spokes_core::BlogDoc, ids: &std::collections::BTreeSet<String>, at: &[automerge::ChangeHash], before: &[automerge::ChangeHash]| -> Vec<String> {
                ids.iter().filter_map(|id| blog.post_at(id, at).or_else(|| blog.post_at(id, before)).map(|p| p.title)).collect()
            };
            let mut out = Vec::new();
            let mut before: Vec<automerge::ChangeHash> = Vec::new();
            for (index, s) in statements.iter().enumerate() {
                let Ok(st) = Statement::parse(s.statement.as_bytes()) else { continue };
                let known = st.heads.iter().all(|h| blog.automerge().get_change_meta_by_hash(h).is_some());
                if known && s.issuer().as_deref() == Some(wanted.as_str()) {
                    let ids = blog.changed_post_ids_between(&before, &st.heads).unwrap_or_default();
                    let signed_at = spokes_core::statement::signature_time(&s.signature).unwrap_or(0);
                    out.push(DevicePublish { index, heads: st.heads.iter().map(|h| h.to_string()).collect(), signed_at, titles: titles(blog, &ids, &st.heads, &before) });
                }
                if known {
                    before = st.heads;
                }
            }
            for (i, r) in received.iter().enumerate() {
                let hs = |hex: &[String]| hex.iter().filter_map(|h| h.parse().ok()).collect::<Vec<automerge::ChangeHash>>();
                let (at, before) = (hs(&r.after), hs(&r.before));
                let ids: std::collections::BTreeSet<String> = r.posts.iter().cloned().collect();
                out.push(DevicePublish { index: statements.len() + i, heads: r.after.clone(), signed_at: r.signed_at, titles: titles(blog, &ids, &at, &before) });
            }
            Ok(out)
        })
    }

    /// Declares another computer lost or stolen: its key is revoked for good (a hard
    /// revocation, [`spokes_core::Identity::revoke_device_lost`]), so nothing it signed counts
    /// any more, whatever date a thief writes on a signature. What the writer still vouches
    /// for is the publish `keep` (an index from [`Profile::device_publishes`]) and everything
    /// before it: this computer signs those heads again. Changes only the lost computer
    /// vouched for are then left out of the blog here, and on each spoke when it receives the
    /// certificate (at the next publish, which the caller starts). On a blog kept as a set,
    /// what the set brought from that computer after `keep` is taken back too, and a new
    /// manifest is signed here.
    ///
    /// Errors: [`ProfileError::OwnDevice`], [`ProfileError::NotThatDevice`] for a `keep` the
    /// lost computer did not sign, `Identity(NoSuchDevice | WrongPassphrase |
    /// NoPrimarySecret)`; on error nothing is changed.
    pub fn device_lost(&self, passphrase: &str, fingerprint: &str, keep: Option<usize>, why: &str) -> Result<LostReport, ProfileError> {
        let wanted = fingerprint.replace(' ', "").to_uppercase();
        let identity = self.identity()?;
        let mut key = identity.unlock_device(passphrase, self.device_key())?;
        if wanted == key.key_fingerprint() {
            return Err(ProfileError::OwnDevice);
        }
        let mut statements = self.statements()?;
        // A `keep` past the statements is among what the set brought from that computer: its
        // statements all stay confirmed (its last one is signed again), and what the set
        // brought after `keep` is taken back.
        let theirs = self.received()?.into_iter().filter(|r| r.signer == wanted).count();
        let (keep, keep_received) = match keep {
            Some(i) if i >= statements.len() => {
                let k = i - statements.len();
                if k >= theirs {
                    return Err(ProfileError::NotThatDevice(i));
                }
                (statements.iter().rposition(|s| s.issuer().as_deref() == Some(wanted.as_str())), Some(k))
            }
            k => (k, None),
        };
        let confirmed = match keep {
            None => None,
            Some(i) => {
                let s = statements.get(i).filter(|s| s.issuer().as_deref() == Some(wanted.as_str())).ok_or(ProfileError::NotThatDevice(i))?;
                let st = Statement::parse(s.statement.as_bytes()).map_err(|_| ProfileError::NotThatDevice(i))?;
                Some(Statement::new(self.blog_id().clone(), &st.heads).sign(&mut key).map_err(|e| ProfileError::Signing(e.to_string()))?)
            }
        };
        let revoked = identity.revoke_device_lost(passphrase, &wanted, why)?;
        self.save_identity(&revoked)?;
        if let Some(c) = confirmed {
            statements.push(c);
            self.save_statements(&statements)?;
        }
        let mut report = self.apply_lost_devices()?;
        let (entries, posts) = self.take_back_received(&wanted, keep_received, &mut key)?;
        report.voided_publishes += entries;
        report.dropped_changes += posts;
        // A blog kept as a set: the lost key's manifests no longer count, so this computer
        // signs the set again from its blog document (what it took back left out), for the
        // next sync to send.
        if self.is_set() {
            self.sign_set(&mut key, chrono::Utc::now().fixed_offset())?;
        }
        Ok(report)
    }

    /// Leaves out of this profile what only devices declared lost signed (their statements,
    /// and changes nothing else covers): after [`Profile::device_lost`], and after a sync
    /// brought news of a loss declared on another computer. Cheap when nothing is lost.
    pub fn apply_lost_devices(&self) -> Result<LostReport, ProfileError> {
        let cert = self.certificate()?;
        if cert.lost_keys().is_empty() {
            return Ok(LostReport::default());
        }
        let statements = self.statements()?;
        let blog_id = self.blog_id().clone();
        let pruned = self.docs.rewrite(Which::Blog, |blog| -> Result<_, ProfileError> {
            let p = spokes_core::statement::prune_lost(blog.automerge(), &statements, &cert, &blog_id).map_err(|e| ProfileError::Signing(e.to_string()))?;
            let doc = p.doc.map(spokes_core::BlogDoc::from_automerge).transpose()?;
            Ok((doc, (p.kept, p.voided.len(), p.dropped_changes)))
        })?;
        let (kept, voided, dropped_changes) = pruned;
        if voided > 0 {
            self.save_statements(&kept)?;
            tracing::info!(voided, dropped_changes, "left out what a lost computer signed");
        }
        Ok(LostReport { voided_publishes: voided, dropped_changes })
    }

    /// Retires this computer's signing key and makes a new one with the same device name
    /// (for example after the old one may have been copied). Returns the new key's
    /// fingerprint.
    pub fn replace_device_key(&mut self, passphrase: &str) -> Result<String, ProfileError> {
        let identity = self.identity()?;
        let old = identity.unlock_device(passphrase, self.device_key())?.key_fingerprint();
        let name = identity
            .certificate()
            .devices()
            .into_iter()
            .find(|d| d.fingerprint == old)
            .and_then(|d| d.name)
            .unwrap_or_else(this_device_name);
        // What this key signed last must stay before its revocation.
        if let Some(last) = self.statements()?.last()
            && let Ok(v) = last.verify(&identity.certificate(), self.blog_id())
        {
            spokes_core::identity::wait_until_after(v.signed_at());
        }
        let (added, new) = identity.add_device(passphrase, &name)?;
        let retired = if old == identity.fingerprint() { added } else { added.revoke_device(passphrase, &old, "replaced by a new key")? };
        self.save_identity(&retired)?;
        self.set_device_key(&new)?;
        Ok(new)
    }

    /// Sets when the certificate expires (`None`: never). Renewing is setting a later time;
    /// the fingerprint stays.
    pub fn set_expiry(&self, passphrase: &str, expires: Option<SystemTime>) -> Result<(), ProfileError> {
        let renewed = self.identity()?.set_expiry(passphrase, expires)?;
        self.save_identity(&renewed)
    }

    /// Takes in a copy of the author's certificate learned elsewhere (from a spoke: devices
    /// added or removed on other computers). Returns whether anything was new; another
    /// author's certificate changes nothing.
    pub fn merge_certificate(&self, cert: &Certificate) -> Result<bool, ProfileError> {
        let mut identity = self.identity()?;
        if !identity.merge_certificate(cert) {
            return Ok(false);
        }
        self.save_identity(&identity)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spokes_core::BlogSettings;
    use spokes_core::identity::IdentityError;

    #[test]
    fn a_profile_signs_with_its_own_named_device_key_and_can_replace_it() {
        let tmp = tempfile::tempdir().unwrap();
        let mut p = Profile::create(tmp.path(), "Ada", "pw", &BlogSettings::default()).unwrap();
        let devices = p.devices().unwrap();
        assert_eq!(devices.len(), 1);
        assert_eq!(devices[0].name.as_deref(), Some(this_device_name().as_str()));
        assert_eq!(p.device_key(), Some(devices[0].fingerprint.as_str()));
        assert_eq!(p.unlock("pw").unwrap().key_fingerprint(), devices[0].fingerprint);
        assert!(matches!(p.remove_device("pw", &devices[0].fingerprint, "x"), Err(ProfileError::OwnDevice)));

        let new = p.replace_device_key("pw").unwrap();
        let p = Profile::open(tmp.path()).unwrap();
        assert_eq!(p.device_key(), Some(new.as_str()));
        assert_eq!(p.unlock("pw").unwrap().key_fingerprint(), new);
        let devices = p.devices().unwrap();
        assert_eq!(devices.len(), 2);
        assert!(devices[0].revoked_at.is_some(), "the old key is retired");
        assert_eq!(devices[1].name, devices[0].name);
        // Publishing still works and verifies under the same fingerprint.
        let p = p;
        let mut key = p.unlock("pw").unwrap();
        p.new_post("Hello", "Words", &[]).unwrap();
        p.publish_local(&mut key, None).unwrap();
        p.verify().unwrap();
    }

    #[test]
    fn removing_another_device_revokes_it_and_reaches_other_copies() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Profile::create(tmp.path(), "Ada", "pw", &BlogSettings::default()).unwrap();
        let (with_laptop, laptop) = p.identity().unwrap().add_device("pw", "Laptop").unwrap();
        p.save_identity(&with_laptop).unwrap();
        assert!(matches!(p.remove_device("wrong", &laptop, "lost"), Err(ProfileError::Identity(IdentityError::WrongPassphrase))));
        p.remove_device("pw", &laptop, "lost").unwrap();
        let revoked = p.certificate().unwrap();
        assert!(revoked.devices().iter().any(|d| d.fingerprint == laptop && d.revoked_at.is_some()));

        // A copy that has not heard of it learns it from the certificate.
        let tmp2 = tempfile::tempdir().unwrap();
        let other = Profile::create(tmp2.path(), "Ada", "pw", &BlogSettings::default()).unwrap();
        assert!(!other.merge_certificate(&revoked).unwrap(), "another author's certificate changes nothing");
        p.save_identity(&with_laptop).unwrap();
        assert!(p.merge_certificate(&revoked).unwrap());
        assert!(p.certificate().unwrap().devices().iter().any(|d| d.fingerprint == laptop && d.revoked_at.is_some()));
    }

    #[test]
    fn expiry_is_renewed_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Profile::create(tmp.path(), "Ada", "pw", &BlogSettings::default()).unwrap();
        let fp = p.fingerprint().to_owned();
        let later = SystemTime::now() + std::time::Duration::from_secs(2 * 365 * 86400);
        p.set_expiry("pw", Some(later)).unwrap();
        let cert = p.certificate().unwrap();
        assert_eq!(cert.fingerprint(), fp);
        assert!(cert.expires_at().is_some());
        p.set_expiry("pw", None).unwrap();
        assert_eq!(p.certificate().unwrap().expires_at(), None);
    }
}
