//! Names for blogs and failover by DNS, for a spoke with `[dns]` ([`crate::dns`]).
//!
//! - **Claims** (`spokes/name/1`, [`spokes_sync::names`]): a writer whose blog this spoke hosts
//!   asks for a name with a binding its author signed; the spoke registers it with an update
//!   whose prerequisite is that the name is not in use, so the first claim in the council wins.
//! - **Keeping names true** ([`Naming::reconcile`], every `check_interval_secs`): for each
//!   hosted blog whose signed settings carry a name in this zone, this spoke puts its addresses
//!   under the name, on the prerequisite that the name's TXT record is that blog's binding. A
//!   blog whose writer released its name (the settings no longer carry it) has the name
//!   removed; a blog no longer hosted here has this spoke's addresses taken out of its name.
//! - **Failover** ([`Naming::check_health`]): every member checks every other member at the
//!   zone's apex itself (`GET http://ADDRESS:reader_port/health`). A member that failed every
//!   check for `fail_after_secs` has its address taken out of the apex and every name this
//!   spoke knows (the blogs it hosts and its council copies); when it answers again, the
//!   members that took it out put it back. A spoke that starts puts itself back in the apex
//!   and its blogs' names. Updates are idempotent, so several members doing the same is
//!   harmless (docs/operators.md, "Failover").
//! - **Writers' own domains**: a blog whose signed settings carry a domain
//!   ([`spokes_core::names::DomainBinding`]) is served under it once the domain's owner put the
//!   same signed binding in a TXT record at `_spokes.DOMAIN` (looked up at every reconcile
//!   through `[dns] resolver`, else the system's resolver); the domain's CNAME points at the
//!   blog's name, so readers reach the spokes that hold it.
//! - **Serving by name**: [`Naming::blog_for_host`] maps a request's `Host` to the blog.
//! - **Kept across restarts**: the names this spoke put its addresses under are written to
//!   `names-joined.json` in the data folder ([`JOINED_FILE`]), so a blog that left while the
//!   spoke was stopped still has the spoke's addresses taken out of its name at the next start.

use crate::dns::{DnsError, Update, Zone};
use crate::Inner;
use spokes_core::BlogId;
use spokes_core::names::{DomainBinding, NameBinding, alternatives};
use spokes_core::problem::Code;
use spokes_sync::names::{MAX_ALTERNATIVES, NAME_PROTOCOL, NameAnswer, NameOp, NameOutcome, NameRequest};
use spokes_sync::session::RemoteError;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// The file, in the data folder, of the names this spoke put its addresses under: JSON
/// `{"version": 1, "joined": {"LABEL": ["TXT string", …]}}`, replaced whole at every change.
/// An unreadable file is logged and started again empty; one of a later version is logged and
/// left alone (not written over).
pub const JOINED_FILE: &str = "names-joined.json";

/// [`JOINED_FILE`], version 1.
#[derive(serde::Serialize, serde::Deserialize)]
struct JoinedFile {
    version: u32,
    joined: HashMap<String, Vec<String>>,
}

/// The joined names stored at `path`, and whether the file may be written (not one of a later
/// version).
fn load_joined(path: &Path) -> (HashMap<String, Vec<String>>, bool) {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (HashMap::new(), true),
        Err(e) => {
            tracing::warn!("{}: {e}; the names this spoke is under are learnt again", path.display());
            return (HashMap::new(), true);
        }
    };
    let version = serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| v.get("version")?.as_u64());
    match (version, serde_json::from_slice::<JoinedFile>(&bytes)) {
        (Some(1), Ok(f)) => (f.joined, true),
        (Some(v), _) if v > 1 => {
            tracing::warn!("{}: written by a later spoke (version {v}); not used, and left as it is", path.display());
            (HashMap::new(), false)
        }
        _ => {
            tracing::warn!("{}: not a names file this spoke can read; the names this spoke is under are learnt again", path.display());
            (HashMap::new(), true)
        }
    }
}

/// Longest a health check of a member may take.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);
/// Most name requests (claims and releases) one peer may make in an hour.
pub const MAX_CLAIMS_PER_HOUR: usize = 20;

/// A name a member's address was under: its label and the TXT strings it was bound by.
type NameUnder = (String, Vec<String>);

/// The names state of a spoke with a council domain.
pub(crate) struct Naming {
    pub(crate) zone: Zone,
    /// Name (label) → blog, for every blog shown here whose binding verified.
    hosts: RwLock<HashMap<String, BlogId>>,
    /// Writers' own domains → blog, for every blog shown here whose domain's proof was found
    /// and verified.
    domains: RwLock<HashMap<String, BlogId>>,
    /// Looks up writers' own domains' proofs; `None` when the system has no resolver.
    resolver: Option<hickory_resolver::TokioResolver>,
    /// The names this spoke put its addresses under, with the TXT strings it did it on.
    joined: Mutex<HashMap<String, Vec<String>>>,
    /// Where `joined` is kept ([`JOINED_FILE`]); `None`: in memory only.
    joined_file: Option<PathBuf>,
    /// Bindings checked against their blog's certificate: (blog, signature) → whether it verified.
    verified: Mutex<HashMap<(BlogId, String), bool>>,
    /// Members failing their health checks, since when.
    failing: Mutex<HashMap<IpAddr, Instant>>,
    /// Members this spoke took out, with the names (and their TXT strings) they were under.
    removed: Mutex<HashMap<IpAddr, Vec<NameUnder>>>,
    /// Name requests per peer in the last hour.
    requests: Mutex<HashMap<String, Vec<Instant>>>,
    /// Bindings their writers released here (blog, signature): not joined or claimed again
    /// from settings that still carry them until the writer's next publish arrives.
    given_up: Mutex<std::collections::HashSet<(BlogId, String)>>,
}

fn dns_failed(e: DnsError) -> RemoteError {
    RemoteError::new(Code::DnsFailed, format!("{e}; try again in a few minutes"))
}

impl Naming {
    /// The names state of `zone`, keeping the joined names in `data_dir` ([`JOINED_FILE`]) when
    /// given.
    pub(crate) fn new(zone: Zone, data_dir: Option<&Path>) -> Naming {
        let resolver = zone.resolver().map_err(|e| tracing::warn!("writers' own domains cannot be looked up: {e}")).ok();
        let (joined, joined_file) = match data_dir.map(|d| d.join(JOINED_FILE)) {
            Some(path) => {
                let (joined, writable) = load_joined(&path);
                (joined, writable.then_some(path))
            }
            None => (HashMap::new(), None),
        };
        Naming { zone, hosts: RwLock::default(), domains: RwLock::default(), resolver, joined: Mutex::new(joined), joined_file, verified: Mutex::default(), failing: Mutex::default(), removed: Mutex::default(), requests: Mutex::default(), given_up: Mutex::default() }
    }

    /// The blog served at `host` (a `Host` header: `name.zone`, with or without a port), if
    /// its name is bound here.
    pub(crate) fn blog_for_host(&self, host: &str) -> Option<BlogId> {
        let host = host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Some(b) = self.domains.read().unwrap_or_else(|p| p.into_inner()).get(&host) {
            return Some(b.clone());
        }
        let label = host.strip_suffix(self.zone.name())?.strip_suffix('.')?;
        self.hosts.read().unwrap_or_else(|p| p.into_inner()).get(label).cloned()
    }

    /// The name a blog is served under here: its own domain once proven, else `name.zone`.
    pub(crate) fn name_of(&self, blog: &BlogId) -> Option<String> {
        if let Some((d, _)) = self.domains.read().unwrap_or_else(|p| p.into_inner()).iter().find(|(_, b)| *b == blog) {
            return Some(d.clone());
        }
        let hosts = self.hosts.read().unwrap_or_else(|p| p.into_inner());
        hosts.iter().find(|(_, b)| *b == blog).map(|(n, _)| format!("{n}.{}", self.zone.name()))
    }

    /// Whether `check` holds for the certificate of `blog`, remembered by (blog, `signature`):
    /// the store is read and the signature checked once per signature, not at every reconcile.
    /// `None` when the store cannot be read now (asked again next time: only verdicts are kept).
    fn verdict(&self, inner: &Inner, blog: &BlogId, signature: &str, check: impl FnOnce(&spokes_core::Certificate) -> bool) -> Option<bool> {
        let key = (blog.clone(), signature.to_owned());
        if let Some(ok) = self.verified.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Some(*ok);
        }
        let ok = inner.store.blog(blog).ok()?.is_some_and(|s| check(&s.certificate));
        let mut v = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if v.len() > 100_000 {
            v.clear();
        }
        v.insert(key, ok);
        Some(ok)
    }

    /// The binding of `view`'s blog in this zone and its TXT strings, if its author signed one.
    fn binding_of(&self, inner: &Inner, view: &spokes_site::view::BlogView) -> Option<(NameBinding, Vec<String>)> {
        let b = view.settings.name.as_ref().filter(|b| b.zone == self.zone.name())?;
        let ok = self.verdict(inner, &view.blog_id, &b.signature, |c| b.verify(&view.blog_id, c).is_ok())?;
        ok.then(|| (b.clone(), b.txt(&view.blog_id, &view.fingerprint)))
    }

    /// The writers' own domains whose proof (`_spokes.DOMAIN`) is in DNS: bound to the blog and
    /// its author's fingerprint, signed by a key of its certificate for that domain.
    async fn proven_domains(&self, inner: &Inner, views: &[Arc<spokes_site::view::BlogView>]) -> HashMap<String, BlogId> {
        let mut out = HashMap::new();
        let Some(resolver) = &self.resolver else { return out };
        for v in views {
            let Some(d) = &v.settings.domain else { continue };
            let Ok(records) = resolver.txt_lookup(format!("{}.", d.proof_name())).await else { continue };
            let proven = records.iter().take(16).any(|r| {
                let strings: Vec<String> = r.txt_data().iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect();
                DomainBinding::from_txt(&d.domain, &strings).is_ok_and(|(b, blog, fpr)| blog == v.blog_id && fpr == v.fingerprint && self.verdict(inner, &v.blog_id, &b.signature, |c| b.verify(&v.blog_id, c).is_ok()) == Some(true))
            });
            if proven {
                out.insert(d.domain.clone(), v.blog_id.clone());
            }
        }
        out
    }

    /// Changes the joined names with `f`, and writes them to [`JOINED_FILE`] (a failure is
    /// logged: the names are then learnt again after a restart).
    fn change_joined(&self, f: impl FnOnce(&mut HashMap<String, Vec<String>>)) {
        let mut joined = self.joined.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut joined);
        let Some(path) = &self.joined_file else { return };
        let written = serde_json::to_vec(&JoinedFile { version: 1, joined: joined.clone() }).map_err(std::io::Error::other).and_then(|bytes| crate::fsutil::write_atomic(path, &bytes, false));
        if let Err(e) = written {
            tracing::warn!("{}: {e}", path.display());
        }
    }

    /// Records that this spoke's addresses are under `label` (bound by `txt`) and serves it.
    fn hold(&self, label: &str, blog: &BlogId, txt: Vec<String>) {
        self.change_joined(|j| {
            j.insert(label.to_owned(), txt);
        });
        self.hosts.write().unwrap_or_else(|p| p.into_inner()).insert(label.to_owned(), blog.clone());
    }

    /// Joins `label` bound by `txt`: on the TXT prerequisite; if the record holds another
    /// signature of the same blog and author, on that one; if the name is free, claims it.
    /// Returns whether this spoke's addresses are now under the name, and the TXT strings the
    /// name holds.
    async fn join(&self, label: &str, txt: &[String], blog: &BlogId, fingerprint: &str) -> Result<Option<Vec<String>>, DnsError> {
        let fqdn = self.zone.fqdn(label)?;
        let addrs = &self.zone.config.addresses;
        if self.zone.join(&fqdn, txt, addrs).await? == Update::Done {
            return Ok(Some(txt.to_vec()));
        }
        let records = self.zone.txt(&fqdn).await?;
        if records.is_empty() && self.zone.addresses(&fqdn).await?.is_empty() {
            return Ok((self.zone.claim(&fqdn, txt, addrs).await? == Update::Done).then(|| txt.to_vec()));
        }
        for r in records {
            if let Ok((_, b, f)) = NameBinding::from_txt(label, self.zone.name(), &r)
                && &b == blog
                && f == fingerprint
                && self.zone.join(&fqdn, &r, addrs).await? == Update::Done
            {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// Brings the zone in line with the blogs held here (see the module documentation).
    pub(crate) async fn reconcile(&self, inner: &Inner) {
        let views: Vec<Arc<spokes_site::view::BlogView>> = inner.views.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        let mut hosts = HashMap::new();
        let mut desired: HashMap<String, (Vec<String>, BlogId, String)> = HashMap::new();
        let mut released: std::collections::HashSet<BlogId> = std::collections::HashSet::new();
        let hosted: std::collections::HashSet<BlogId> = views.iter().filter(|v| v.hosted).map(|v| v.blog_id.clone()).collect();
        for v in &views {
            let given_up = v.settings.name.as_ref().is_some_and(|n| self.given_up.lock().unwrap_or_else(|p| p.into_inner()).contains(&(v.blog_id.clone(), n.signature.clone())));
            match self.binding_of(inner, v).filter(|_| !given_up) {
                Some((b, txt)) => {
                    hosts.insert(b.name.clone(), v.blog_id.clone());
                    if v.hosted && v.verified() {
                        desired.insert(b.name, (txt, v.blog_id.clone(), v.fingerprint.clone()));
                    }
                }
                // Released only when the writer's signed settings carry no name here: a binding
                // that fails its check (or cannot be checked now) never removes a name.
                None if v.hosted && v.verified() && v.settings.name.as_ref().is_none_or(|n| n.zone != self.zone.name()) => {
                    released.insert(v.blog_id.clone());
                }
                None => {}
            }
        }
        let before = std::mem::replace(&mut *self.hosts.write().unwrap_or_else(|p| p.into_inner()), hosts);
        let domains = self.proven_domains(inner, &views).await;
        *self.domains.write().unwrap_or_else(|p| p.into_inner()) = domains;
        let joined = self.joined.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for (label, (txt, blog, fpr)) in &desired {
            // Held already, on this binding or another signature of the same blog and author.
            if joined.get(label).is_some_and(|j| NameBinding::from_txt(label, self.zone.name(), j).is_ok_and(|(_, b, f)| &b == blog && &f == fpr)) {
                continue;
            }
            match self.join(label, txt, blog, fpr).await {
                Ok(Some(held)) => {
                    tracing::info!(name = %label, zone = self.zone.name(), "this spoke's addresses are under the blog's name");
                    self.change_joined(|j| {
                        j.insert(label.clone(), held);
                    });
                }
                Ok(None) => tracing::warn!(name = %label, blog = %blog, "the name is bound to another blog; not serving it under this name"),
                Err(e) => tracing::warn!(name = %label, "could not put this spoke under the blog's name: {e}"),
            }
        }
        for (label, txt) in joined {
            if desired.contains_key(&label) {
                continue;
            }
            let Ok(fqdn) = self.zone.fqdn(&label) else { continue };
            // The writer released the name (the blog is still here, signed without it): the
            // name goes. The blog left this spoke: only this spoke's addresses go. Still here
            // with a binding that could not be checked just now: nothing changes.
            let blog = before.get(&label);
            let writer_released = blog.is_some_and(|b| released.contains(b));
            if !writer_released && blog.is_some_and(|b| hosted.contains(b)) {
                continue;
            }
            let r = if writer_released {
                self.zone.release(&fqdn, &txt).await.map(|_| ())
            } else {
                let mut r = Ok(());
                for ip in &self.zone.config.addresses {
                    r = r.and(self.zone.remove_address(std::slice::from_ref(&fqdn), *ip).await);
                }
                r
            };
            match r {
                Ok(()) => {
                    self.change_joined(|j| {
                        j.remove(&label);
                    });
                }
                Err(e) => tracing::warn!(name = %label, "could not take this spoke out of the name: {e}"),
            }
        }
    }

    /// Puts this spoke's addresses in the apex's round robin, and makes its own name
    /// (`spoke-ID.ZONE`, [`crate::tls::own_name`], where its relay is) resolve to exactly them.
    pub(crate) async fn announce(&self, endpoint: &str) -> Result<(), DnsError> {
        let mine = &self.zone.config.addresses;
        for ip in mine {
            self.zone.add_address(&[self.zone.apex()], *ip).await?;
        }
        let own = self.zone.fqdn(&crate::tls::own_label(endpoint))?;
        for old in self.zone.addresses(&own).await? {
            if !mine.contains(&old) {
                self.zone.remove_address(std::slice::from_ref(&own), old).await?;
            }
        }
        for ip in mine {
            self.zone.add_address(std::slice::from_ref(&own), *ip).await?;
        }
        Ok(())
    }

    /// One round of health checks of the other members (see the module documentation).
    pub(crate) async fn check_health(&self) -> Result<(), DnsError> {
        let mine = &self.zone.config.addresses;
        let mut candidates = self.zone.addresses(&self.zone.apex()).await?;
        candidates.extend(self.removed.lock().unwrap_or_else(|p| p.into_inner()).keys().copied());
        candidates.sort();
        candidates.dedup();
        candidates.retain(|ip| !mine.contains(ip));
        let port = self.zone.config.reader_port;
        let probes = candidates.iter().map(|ip| probe(*ip, port));
        let results = futures_util::future::join_all(probes).await;
        let fail_after = Duration::from_secs(self.zone.config.fail_after_secs);
        for (ip, ok) in candidates.into_iter().zip(results) {
            if ok {
                self.failing.lock().unwrap_or_else(|p| p.into_inner()).remove(&ip);
                let back = self.removed.lock().unwrap_or_else(|p| p.into_inner()).remove(&ip);
                if let Some(names) = back {
                    tracing::info!(%ip, "a member answers again: its address goes back");
                    self.zone.add_address(&[self.zone.apex()], ip).await?;
                    for (label, txt) in names {
                        if let Ok(fqdn) = self.zone.fqdn(&label) {
                            self.zone.join(&fqdn, &txt, &[ip]).await?;
                        }
                    }
                }
                continue;
            }
            let since = *self.failing.lock().unwrap_or_else(|p| p.into_inner()).entry(ip).or_insert_with(Instant::now);
            if since.elapsed() < fail_after || self.removed.lock().unwrap_or_else(|p| p.into_inner()).contains_key(&ip) {
                continue;
            }
            tracing::warn!(%ip, "a member failed its health checks: its address leaves the council's records");
            let labels: Vec<String> = self.hosts.read().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect();
            let mut under = Vec::new();
            let mut names = vec![self.zone.apex()];
            for label in labels {
                let fqdn = self.zone.fqdn(&label)?;
                if self.zone.addresses(&fqdn).await?.contains(&ip) {
                    if let Some(txt) = self.zone.txt(&fqdn).await?.into_iter().next() {
                        under.push((label, txt));
                    }
                    names.push(fqdn);
                }
            }
            self.zone.remove_address(&names, ip).await?;
            self.removed.lock().unwrap_or_else(|p| p.into_inner()).insert(ip, under);
        }
        Ok(())
    }

    fn count_request(&self, peer: &str) -> bool {
        let mut r = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        if r.len() > 10_000 {
            r.retain(|_, v| v.iter().any(|t| t.elapsed() < Duration::from_secs(3600)));
        }
        let list = r.entry(peer.to_owned()).or_default();
        list.retain(|t| t.elapsed() < Duration::from_secs(3600));
        if list.len() >= MAX_CLAIMS_PER_HOUR {
            return false;
        }
        list.push(Instant::now());
        true
    }

    /// Answers a writer's request (`spokes/name/1`).
    pub(crate) async fn answer(&self, inner: &Inner, peer: &str, req: NameRequest) -> Result<NameAnswer, RemoteError> {
        let zone = self.zone.name().to_owned();
        let answer = |outcome, alternatives| NameAnswer { protocol: NAME_PROTOCOL, outcome, zone: zone.clone(), alternatives };
        if req.op == NameOp::Zone {
            return Ok(answer(NameOutcome::Zone, vec![]));
        }
        if !self.count_request(peer) {
            return Err(RemoteError::new(Code::RateLimited, format!("at most {MAX_CLAIMS_PER_HOUR} name requests an hour")));
        }
        let stored = inner.store.blog(&req.blog_id).map_err(|e| RemoteError::new(Code::Internal, e.to_string()))?;
        let Some(stored) = stored.filter(|b| b.kind == crate::store::BlogKind::Hosted) else {
            return Err(RemoteError::new(Code::NotHosted, "this spoke does not host that blog; publish to it first"));
        };
        let Some(binding) = req.binding else { return Err(RemoteError::new(Code::Malformed, "no binding")) };
        if binding.zone != self.zone.name() {
            return Err(RemoteError::new(Code::BadName, format!("this spoke registers names under {}", self.zone.name())));
        }
        binding.verify(&req.blog_id, &stored.certificate).map_err(|e| match e {
            spokes_core::names::NameError::Signature(m) => RemoteError::new(Code::BadSignature, m),
            other => RemoteError::new(Code::BadName, other.to_string()),
        })?;
        let fpr = stored.certificate.fingerprint();
        let txt = binding.txt(&req.blog_id, &fpr);
        let fqdn = self.zone.fqdn(&binding.name).map_err(|e| RemoteError::new(Code::BadName, e.to_string()))?;
        match req.op {
            NameOp::Zone => Ok(answer(NameOutcome::Zone, vec![])),
            NameOp::Release => {
                let records = self.zone.txt(&fqdn).await.map_err(dns_failed)?;
                for r in records {
                    if NameBinding::from_txt(&binding.name, &zone, &r).is_ok_and(|(_, b, f)| b == req.blog_id && f == fpr) {
                        self.zone.release(&fqdn, &r).await.map_err(dns_failed)?;
                        self.change_joined(|j| {
                            j.remove(&binding.name);
                        });
                        self.hosts.write().unwrap_or_else(|p| p.into_inner()).remove(&binding.name);
                        let mut given_up = self.given_up.lock().unwrap_or_else(|p| p.into_inner());
                        if given_up.len() >= 10_000 {
                            given_up.clear();
                        }
                        given_up.insert((req.blog_id.clone(), binding.signature.clone()));
                        return Ok(answer(NameOutcome::Released, vec![]));
                    }
                }
                if self.zone.addresses(&fqdn).await.map_err(dns_failed)?.is_empty() {
                    return Ok(answer(NameOutcome::Released, vec![]));
                }
                Err(RemoteError::new(Code::NameTaken, format!("{} belongs to another blog", binding.fqdn())))
            }
            NameOp::Claim => {
                // One name per blog: another name still bound to it must be released first.
                if let Some(view) = crate::http::SpokeView::blog(inner, &req.blog_id)
                    && let Some(old) = view.settings.name.as_ref().filter(|o| o.zone == zone && o.name != binding.name)
                    && let Ok(old_fqdn) = self.zone.fqdn(&old.name)
                    && self.zone.txt(&old_fqdn).await.map_err(dns_failed)?.iter().any(|r| NameBinding::from_txt(&old.name, &zone, r).is_ok_and(|(_, b, _)| b == req.blog_id))
                {
                    return Err(RemoteError::new(Code::BadName, format!("this blog already has the name {}; release it first", old.fqdn())));
                }
                if self.zone.claim(&fqdn, &txt, &self.zone.config.addresses).await.map_err(dns_failed)? == Update::Done {
                    self.hold(&binding.name, &req.blog_id, txt);
                    tracing::info!(name = %binding.fqdn(), blog = %req.blog_id, "name claimed");
                    return Ok(answer(NameOutcome::Claimed, vec![]));
                }
                match self.join(&binding.name, &txt, &req.blog_id, &fpr).await.map_err(dns_failed)? {
                    Some(held) => {
                        self.hold(&binding.name, &req.blog_id, held);
                        Ok(answer(NameOutcome::Yours, vec![]))
                    }
                    None => {
                        let mut free = Vec::new();
                        for alt in alternatives(&binding.name, MAX_ALTERNATIVES * 2) {
                            if free.len() == MAX_ALTERNATIVES {
                                break;
                            }
                            let Ok(n) = self.zone.fqdn(&alt) else { continue };
                            if self.zone.txt(&n).await.is_ok_and(|t| t.is_empty()) && self.zone.addresses(&n).await.is_ok_and(|a| a.is_empty()) {
                                free.push(alt);
                            }
                        }
                        Ok(answer(NameOutcome::Taken, free))
                    }
                }
            }
        }
    }
}

/// Whether the member at `ip` answers `GET /health` on `port` with 200 within
/// [`HEALTH_TIMEOUT`].
async fn probe(ip: IpAddr, port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let work = async {
        let mut s = tokio::net::TcpStream::connect((ip, port)).await.ok()?;
        s.write_all(format!("GET /health HTTP/1.1\r\nHost: {ip}\r\nConnection: close\r\n\r\n").as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        s.read_exact(&mut head).await.ok()?;
        Some(head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200"))
    };
    tokio::time::timeout(HEALTH_TIMEOUT, work).await.ok().flatten().unwrap_or(false)
}

/// Keeps the zone in line every `check_interval_secs`: announces this spoke, reconciles the
/// names and checks the other members.
pub(crate) async fn naming_loop(inner: Arc<Inner>, naming: Arc<Naming>) {
    let every = Duration::from_secs(naming.zone.config.check_interval_secs.max(1));
    let mut announced = false;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !announced {
            match naming.announce(&inner.endpoint_id).await {
                Ok(()) => announced = true,
                Err(e) => tracing::warn!("could not put this spoke in the council's domain: {e}"),
            }
        }
        naming.reconcile(&inner).await;
        if let Err(e) = naming.check_health().await {
            tracing::warn!("health checks of the council's members failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naming() -> Naming {
        Naming::new(Zone::new(crate::dns::tests::config("spokes.test", "127.0.0.2"), &std::env::temp_dir()).expect("zone"), None)
    }

    /// The joined names survive a restart; a broken file starts again empty, and one of a later
    /// version is neither used nor written over.
    #[test]
    fn joined_names_are_kept_in_the_data_folder() {
        let dir = tempfile::tempdir().expect("tmp");
        let zone = || Zone::new(crate::dns::tests::config("spokes.test", "127.0.0.2"), dir.path()).expect("zone");
        let blog: BlogId = "0123456789abcdef0123456789abcdef".parse().expect("blog");
        let n = Naming::new(zone(), Some(dir.path()));
        n.hold("maria", &blog, vec!["v=spokes-name1 blog=x".into()]);
        let again = Naming::new(zone(), Some(dir.path()));
        assert_eq!(again.joined.lock().expect("lock").get("maria"), Some(&vec!["v=spokes-name1 blog=x".to_owned()]));
        again.change_joined(|j| {
            j.remove("maria");
        });
        assert!(Naming::new(zone(), Some(dir.path())).joined.lock().expect("lock").is_empty());

        let path = dir.path().join(JOINED_FILE);
        std::fs::write(&path, b"{not json").expect("write");
        let broken = Naming::new(zone(), Some(dir.path()));
        assert!(broken.joined.lock().expect("lock").is_empty());
        broken.hold("maria", &blog, vec![]);
        assert!(std::fs::read_to_string(&path).expect("read").contains("maria"), "written again");

        std::fs::write(&path, br#"{"version": 2, "joined": {}, "more": true}"#).expect("write");
        let later = Naming::new(zone(), Some(dir.path()));
        later.hold("ana", &blog, vec![]);
        assert!(std::fs::read_to_string(&path).expect("read").contains("\"version\": 2"), "a later version's file is left alone");
    }

    #[test]
    fn a_host_header_finds_its_blog_only_under_the_zone() {
        let n = naming();
        let blog = BlogId::generate();
        n.hosts.write().expect("lock").insert("maria".into(), blog.clone());
        for host in ["maria.spokes.test", "Maria.Spokes.Test.", "maria.spokes.test:8080"] {
            assert_eq!(n.blog_for_host(host), Some(blog.clone()), "{host}");
        }
        for host in ["maria.other.test", "spokes.test", "xmaria.spokes.test", "maria.spokes.test.evil", "maria.spokes.test:80a", "", ":"] {
            assert_eq!(n.blog_for_host(host), None, "{host}");
        }
        assert_eq!(n.name_of(&blog).as_deref(), Some("maria.spokes.test"));
    }

    #[test]
    fn a_peer_makes_a_bounded_number_of_name_requests() {
        let n = naming();
        for _ in 0..MAX_CLAIMS_PER_HOUR {
            assert!(n.count_request("peer"));
        }
        assert!(!n.count_request("peer"));
        assert!(n.count_request("another"));
    }

    #[tokio::test]
    async fn a_member_that_does_not_answer_fails_its_check() {
        // Nothing listens on this port of 127.0.0.9.
        assert!(!probe("127.0.0.9".parse().expect("ip"), 9).await);
    }
}
