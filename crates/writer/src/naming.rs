//! The blog's name in its council's domain (`maria.spokes.example`): claimed through one of the
//! writer's spokes over `spokes/name/1` ([`spokes_sync::names`]), kept in the blog's signed
//! settings ([`spokes_core::names::NameBinding`]) so that every spoke holding the blog puts
//! itself under the name, and released the same way.

use crate::workflow::WriterSession;
use crate::{ProfileError, SpokeTarget};
use spokes_core::names::{DomainBinding, NameBinding, NameError, normalize};
use spokes_core::problem::Code;
use spokes_sync::SyncError;
use spokes_sync::names::{NAME_PROTOCOL, NameAnswer, NameOp, NameOutcome, NameRequest};

/// Errors of claiming or releasing a name; each has a [`NamingError::code`] and a sentence a
/// writer understands.
#[derive(Debug, thiserror::Error)]
pub enum NamingError {
    /// The name breaks the rules ([`spokes_core::names::normalize`]).
    #[error("{0}")]
    BadName(#[from] NameError),
    /// The blog has no spokes yet.
    #[error("add a spoke first: a name points readers at your spokes")]
    NoSpokes,
    /// None of the writer's spokes belongs to a council with a domain.
    #[error("none of your spokes can give your blog a name (they have no council domain)")]
    NoNames,
    /// The blog has no name to release.
    #[error("your blog has no name yet: claim one first")]
    NoName,
    /// A spoke refused or could not be reached.
    #[error("{spoke}: {message}")]
    Spoke {
        /// The spoke's label.
        spoke: String,
        /// What it said, or why it could not be asked.
        message: String,
        /// The code.
        code: Code,
    },
    /// The profile failed.
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

impl NamingError {
    /// The stable code shown with the error.
    pub fn code(&self) -> Code {
        match self {
            NamingError::BadName(_) => Code::BadName,
            NamingError::NoSpokes => Code::NoSuchSpoke,
            NamingError::NoNames | NamingError::NoName => Code::NoNames,
            NamingError::Spoke { code, .. } => *code,
            NamingError::Profile(p) => p.code(),
        }
    }
}

/// What a claim ended in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameClaim {
    /// The name is the blog's now (or already was): `maria.spokes.example`.
    Yours {
        /// The full name.
        fqdn: String,
    },
    /// Another blog has it.
    Taken {
        /// The full name asked for.
        fqdn: String,
        /// Free names like it.
        alternatives: Vec<String>,
    },
}

/// What the writer adds where their domain's DNS is kept, for [`WriterSession::set_domain`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DomainSetup {
    /// The domain, for example `blog.maria.example`.
    pub domain: String,
    /// Where its CNAME record points: the blog's name (`maria.spokes.example`).
    pub cname: String,
    /// Where the proof goes: `_spokes.blog.maria.example`.
    pub proof_name: String,
    /// The proof's TXT character-strings.
    pub proof: Vec<String>,
}

fn label(t: &SpokeTarget) -> String {
    t.name.clone().unwrap_or_else(|| t.endpoint.chars().take(12).collect())
}

impl WriterSession {
    async fn ask(&self, endpoint: &iroh::Endpoint, t: &SpokeTarget, request: &NameRequest) -> Result<NameAnswer, NamingError> {
        let spoke_err = |code, message: String| NamingError::Spoke { spoke: label(t), message, code };
        let addr = t.endpoint_addr().map_err(|m| spoke_err(Code::BadTicket, m))?;
        spokes_sync::names::request(endpoint, addr, request).await.map_err(|e| match e {
            SyncError::Remote(r) | SyncError::Refused(r) => spoke_err(r.code, r.message),
            SyncError::Timeout => spoke_err(Code::Timeout, "did not answer in time".into()),
            other => spoke_err(Code::Connection, format!("could not be reached ({other})")),
        })
    }

    /// Claims `name` for the blog through the first of its spokes that has a council domain:
    /// signs the binding for that zone, asks the spoke to register it, and on success keeps it
    /// in the settings and publishes them so every spoke of the blog serves the name. A blog
    /// the spoke does not host yet is published first. Errors: [`NamingError`].
    pub async fn claim_name(&self, name: &str) -> Result<NameClaim, NamingError> {
        let name = normalize(name)?;
        let targets = self.profile().targets();
        if targets.is_empty() {
            return Err(NamingError::NoSpokes);
        }
        match self.with_pool(async |pool| self.claim_through(pool.endpoint(), &targets, &name).await).await?? {
            Ok(binding) => {
                let fqdn = binding.fqdn();
                self.profile().set_name(Some(binding))?;
                self.publish(None, false).await?;
                Ok(NameClaim::Yours { fqdn })
            }
            Err(taken) => Ok(taken),
        }
    }

    /// Asks `targets` in turn until one with a council domain answers: the binding it
    /// registered (or found already the blog's), or [`NameClaim::Taken`].
    async fn claim_through(&self, endpoint: &iroh::Endpoint, targets: &[SpokeTarget], name: &str) -> Result<Result<NameBinding, NameClaim>, NamingError> {
        let blog_id = self.profile().blog_id().clone();
        let fingerprint = self.profile().fingerprint().to_owned();
        let mut last = NamingError::NoNames;
        let mut published = false;
        for t in targets {
            let zone_req = NameRequest { protocol: NAME_PROTOCOL, op: NameOp::Zone, blog_id: blog_id.clone(), binding: None };
            let zone = match self.ask(endpoint, t, &zone_req).await {
                Ok(a) => a.zone,
                Err(e) => {
                    if !matches!(e, NamingError::Spoke { code: Code::NoNames, .. }) {
                        last = e;
                    }
                    continue;
                }
            };
            let mut key = self.key().clone();
            let binding = NameBinding::sign(name, &zone, &blog_id, &fingerprint, &mut key)?;
            let req = NameRequest { protocol: NAME_PROTOCOL, op: NameOp::Claim, blog_id: blog_id.clone(), binding: Some(binding.clone()) };
            let mut answer = self.ask(endpoint, t, &req).await;
            if matches!(answer, Err(NamingError::Spoke { code: Code::NotHosted, .. })) && !published {
                self.publish(None, false).await?;
                published = true;
                answer = self.ask(endpoint, t, &req).await;
            }
            match answer {
                Ok(a) if a.outcome == NameOutcome::Taken => {
                    // What the spoke offers is shown to the writer: only valid names, a few.
                    let alternatives = a.alternatives.into_iter().filter(|n| normalize(n).as_deref() == Ok(n.as_str())).take(spokes_sync::names::MAX_ALTERNATIVES).collect();
                    return Ok(Err(NameClaim::Taken { fqdn: binding.fqdn(), alternatives }));
                }
                Ok(a) if matches!(a.outcome, NameOutcome::Claimed | NameOutcome::Yours) => return Ok(Ok(binding)),
                Ok(a) => last = NamingError::Spoke { spoke: label(t), message: format!("answered {:?}", a.outcome), code: Code::Protocol },
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Releases the blog's name: asks its spokes to remove it from the council's domain,
    /// clears it from the settings and publishes them. Returns the name that was released.
    /// Errors: [`NamingError::NoName`], and the spokes' when none could remove it.
    pub async fn release_name(&self) -> Result<String, NamingError> {
        let Some(binding) = self.profile().settings()?.name else { return Err(NamingError::NoName) };
        let req = NameRequest { protocol: NAME_PROTOCOL, op: NameOp::Release, blog_id: self.profile().blog_id().clone(), binding: Some(binding.clone()) };
        let targets = self.profile().targets();
        self.with_pool(async |pool| {
            let mut last = NamingError::NoNames;
            for t in &targets {
                match self.ask(pool.endpoint(), t, &req).await {
                    Ok(_) => return Ok(()),
                    Err(e) => last = e,
                }
            }
            Err(last)
        })
        .await??;
        self.profile().set_name(None)?;
        self.publish(None, false).await?;
        Ok(binding.fqdn())
    }
}

impl crate::Profile {
    /// The records the writer's own domain needs (a CNAME to the blog's name and the signed
    /// proof), when the blog has a name and a domain.
    pub fn domain_setup(&self) -> Result<Option<DomainSetup>, ProfileError> {
        let s = self.settings()?;
        let (Some(name), Some(d)) = (s.name, s.domain) else { return Ok(None) };
        Ok(Some(DomainSetup { domain: d.domain.clone(), cname: name.fqdn(), proof_name: d.proof_name(), proof: d.txt(self.blog_id(), self.fingerprint()) }))
    }
}

impl WriterSession {
    /// Binds `domain` (a domain the writer owns, for example `blog.maria.example`) to the blog,
    /// signed, keeps it in the settings and publishes them; returns the two records the writer
    /// adds to the domain's DNS (a CNAME to the blog's name, and the signed proof). Spokes serve
    /// the blog under the domain once they find the proof. Errors: [`NamingError::BadName`],
    /// [`NamingError::NoName`] (the CNAME needs the blog's council name first).
    pub async fn set_domain(&self, domain: &str) -> Result<DomainSetup, NamingError> {
        if self.profile().settings()?.name.is_none() {
            return Err(NamingError::NoName);
        }
        let mut key = self.key().clone();
        let blog = self.profile().blog_id().clone();
        let fingerprint = self.profile().fingerprint().to_owned();
        let binding = DomainBinding::sign(domain, &blog, &fingerprint, &mut key)?;
        self.profile().set_domain(Some(binding))?;
        self.publish(None, false).await?;
        self.profile().domain_setup()?.ok_or(NamingError::NoName)
    }

    /// Stops serving the blog under its custom domain (the writer removes the records).
    /// Returns the domain it had.
    pub async fn remove_domain(&self) -> Result<Option<String>, NamingError> {
        let Some(d) = self.profile().settings()?.domain else { return Ok(None) };
        self.profile().set_domain(None)?;
        self.publish(None, false).await?;
        Ok(Some(d.domain))
    }
}
