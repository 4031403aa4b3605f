//! Administering a spoke's data folder without running it: `spoke init`, invites and
//! tickets, the council's invites, joining and removals, reindexing, the self-test and
//! importing an export archive. The `spoke` CLI calls these; none needs the spoke running.

use super::*;

/// The spoke's database in its data folder (`store`'s SQLite file).
pub const STORE_FILE: &str = "spoke.db";

/// Opens the database of the spoke whose data folder is `data`, for the operator's commands
/// (blogs, moderation, refusals, peers). A running spoke follows changes within a second.
/// Errors: [`SpokeError::NotInitialised`] (no spoke there), [`SpokeError::Store`].
pub fn open_store(data: &Path) -> Result<Store, SpokeError> {
    load(data)?;
    Ok(Store::open(&data.join(STORE_FILE))?)
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SpokeError + '_ {
    move |source| SpokeError::Io { path: path.to_path_buf(), source }
}

/// Creates a data folder: `config.toml` (from `config`) and a new `endpoint.key`.
/// An existing folder keeps its key and only gets its config rewritten.
pub fn init(data: &Path, config: &Config) -> Result<iroh::EndpointId, SpokeError> {
    std::fs::create_dir_all(data).map_err(io_err(data))?;
    let key_path = data.join("endpoint.key");
    let key = match std::fs::read_to_string(&key_path) {
        Ok(s) => parse_key(&s)?,
        Err(_) => {
            let k = SecretKey::generate();
            write_private(&key_path, hex::encode(k.to_bytes()).as_bytes())?;
            k
        }
    };
    config.save(&data.join("config.toml"))?;
    Store::open(&data.join(STORE_FILE))?;
    Ok(key.public())
}

pub(crate) fn parse_key(s: &str) -> Result<SecretKey, SpokeError> {
    let bytes = hex::decode(s.trim()).map_err(|e| SpokeError::Config(format!("endpoint.key: {e}")))?;
    let arr: [u8; 32] = bytes.try_into().map_err(|_| SpokeError::Config("endpoint.key must hold 32 bytes".into()))?;
    Ok(SecretKey::from_bytes(&arr))
}

pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SpokeError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(io_err(path))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io_err(path))
}

/// Loads the endpoint key and config of an initialised data folder.
pub fn load(data: &Path) -> Result<(SecretKey, Config), SpokeError> {
    let key = std::fs::read_to_string(data.join("endpoint.key")).map_err(|_| SpokeError::NotInitialised(data.display().to_string()))?;
    let config = Config::load(&data.join("config.toml"))?;
    Ok((parse_key(&key)?, config))
}

/// Creates an invite ticket with `uses` uses for the spoke in `data`, valid until
/// `expires_at` (Unix seconds) if given.
pub fn invite(data: &Path, uses: u32, expires_at: Option<i64>) -> Result<Ticket, SpokeError> {
    load(data)?;
    let store = Store::open(&data.join(STORE_FILE))?;
    let token = store.create_invite(uses, None, expires_at)?;
    ticket(data, Some(token))
}

/// A ticket for the spoke in `data` carrying `token` (`None`: it only locates the spoke, which
/// is enough to publish to a spoke in open admission mode).
pub fn ticket(data: &Path, token: Option<String>) -> Result<Ticket, SpokeError> {
    let (key, config) = load(data)?;
    // A spoke whose network lets no UDP through binds no UDP socket: its tickets name its
    // relay alone, as its council entry does.
    let addrs = if spokes_sync::net::relay_only_from_env() { vec![] } else { config.ticket_addrs() };
    Ok(Ticket { v: 1, endpoint: key.public().to_string(), addrs, token, name: Some(config.name.clone()), web: Some(config.ticket_web(config.http)), relay: config.relay_url(&key.public().to_string()) })
}

/// An endpoint for an operator's command to dial members with (directly, and through the
/// relay a member names), reaching them as the environment says (`SPOKES_RELAY_ONLY`,
/// `SPOKES_DNS_SERVER`, `SPOKES_EXTRA_ROOTS`: [`spokes_sync::net::Reach::from_env`]).
async fn dialer(key: SecretKey) -> Result<iroh::Endpoint, SpokeError> {
    let reach = spokes_sync::net::Reach::from_env().map_err(|e| SpokeError::Config(e.to_string()))?;
    spokes_sync::net::bind_dialer(key, vec![], &reach).await.map_err(|e| SpokeError::Net(e.to_string()))
}

/// This spoke as the council lists it, from its configuration (for commands run beside a
/// running spoke or while it is stopped).
pub(crate) fn member_info(key: &SecretKey, config: &Config) -> council::MemberInfo {
    let endpoint = key.public().to_string();
    let relay = config.relay_url(&endpoint);
    // A spoke whose network lets no UDP through binds no UDP socket: it is reached through
    // its relay alone, and names no address.
    let addrs = if spokes_sync::net::relay_only_from_env() { vec![] } else { config.ticket_addrs().iter().map(|a| a.to_string()).collect() };
    council::MemberInfo { endpoint, addrs, web: config.ticket_web(config.http), name: config.name.clone(), relay }
}

/// The council log stored here, and the version-1 council stored beside it while this spoke
/// waits for its founder's charter (`None` once the log is founded).
pub(crate) fn stored_council(store: &Store) -> Result<(council::Membership, Option<council::legacy::LegacyCouncil>), SpokeError> {
    let (log, old): (Vec<_>, Vec<_>) = store.council_entries()?.into_iter().partition(|e| e.format().is_some());
    let mut m = council::Membership::new();
    let (_, refused) = m.merge(log);
    if let Some(e) = refused.first() {
        tracing::warn!("a stored council entry does not verify: {e}");
    }
    let legacy = (m.id().is_none() && !old.is_empty()).then(|| {
        let mut l = council::legacy::LegacyCouncil::new();
        l.merge(old);
        l
    });
    Ok((m, legacy.filter(|l| l.id().is_some())))
}

pub(crate) fn stored_membership(store: &Store) -> Result<council::Membership, SpokeError> {
    Ok(stored_council(store)?.0)
}

/// Carries a council formed before the council log over to it, when this spoke founded it:
/// signs a founding entry whose charter is the members the version-1 entries came to, naming
/// the version-1 ID. The other members take that charter from this spoke (and only from the
/// founder, only with their old fellow members: [`council::Membership::charter_matches`]).
/// Returns the log when it was made now.
pub(crate) fn carry_over(store: &Store, key: &SecretKey, me: &council::MemberInfo) -> Result<Option<council::Membership>, SpokeError> {
    let (_, Some(legacy)) = stored_council(store)? else { return Ok(None) };
    let members = legacy.members();
    if legacy.founder() != Some(me.endpoint.as_str()) || !members.contains_key(&me.endpoint) {
        return Ok(None);
    }
    let charter: Vec<council::MemberInfo> = members.into_values().filter(|m| m.endpoint != me.endpoint).collect();
    let n = charter.len() + 1;
    let m = council::Membership::found_with_charter(key, me.clone(), charter, legacy.id().map(str::to_owned), chrono::Utc::now().timestamp());
    store.put_council_entries(&m.entries())?;
    tracing::info!(members = n, "carried the council over to the council log (admission by majority from now on)");
    Ok(Some(m))
}

/// Announces `me` in the log when the log lists this member with other addresses, reader site
/// or name (an `address` entry the other members learn at the next exchanges).
pub(crate) fn announce_address(store: &Store, key: &SecretKey, me: &council::MemberInfo) -> Result<bool, SpokeError> {
    let mut m = stored_membership(store)?;
    match m.members().get(&me.endpoint) {
        Some(listed) if listed != me => {}
        _ => return Ok(false),
    }
    let signed = m.sign(key, council::Act::Address { member: me.clone() }, chrono::Utc::now().timestamp()).map_err(|e| SpokeError::Council(e.to_string()))?;
    store.put_council_entries(&[signed])?;
    tracing::info!(addrs = ?me.addrs, web = me.web, "announced this spoke's new address to the council");
    Ok(true)
}

/// A council invite (`spokescouncil1…`) another spoke passes to `spoke council join`, with
/// `uses` uses, valid until `expires_at` (Unix seconds) if given. A spoke in no council
/// founds one first, with itself as its only member.
pub fn council_invite(data: &Path, uses: u32, expires_at: Option<i64>) -> Result<council::CouncilTicket, SpokeError> {
    let (key, config) = load(data)?;
    let store = Store::open(&data.join(STORE_FILE))?;
    let me = member_info(&key, &config);
    carry_over(&store, &key, &me)?;
    let (mut m, legacy) = stored_council(&store)?;
    if m.id().is_none() {
        if legacy.is_some() {
            return Err(SpokeError::Council(WAITING_FOR_CHARTER.into()));
        }
        m = council::Membership::found(&key, me.clone(), chrono::Utc::now().timestamp());
        store.put_council_entries(&m.entries())?;
    }
    let Some(id) = m.id().map(str::to_owned) else { return Err(SpokeError::Council("could not found a council".into())) };
    if !m.is_member(&me.endpoint) {
        return Err(SpokeError::Council("this spoke is not a member of its council (cut off, or waiting for approval) and cannot invite".into()));
    }
    let token = store.create_council_invite(uses, expires_at)?;
    Ok(council::CouncilTicket { v: 1, council: id, member: m.members().get(&me.endpoint).cloned().unwrap_or(me), token })
}

const WAITING_FOR_CHARTER: &str = "this spoke's council was formed by an earlier version of Spokes; it carries over once its founding spoke runs this version (until then this spoke serves its blogs outside the council)";

/// Where a join stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joined {
    /// Admitted: the members.
    Member(Vec<council::MemberInfo>),
    /// Proposed by the inviting spoke; `needed` more members must approve
    /// (`spoke council approve`). The spoke learns its admission at its next exchanges.
    Waiting {
        /// Approvals still missing.
        needed: usize,
    },
}

/// Joins the council of `ticket`: asks the inviting spoke (over `spokes/council/1`) to propose
/// this one (telling it what `ready`, this spoke's self-test, found), then stores the council
/// log it answers. In a council of one the founder's
/// proposal admits at once; otherwise more than half of the members must approve. Works while
/// the spoke runs (it picks the log up within a council interval) or is stopped.
///
/// Errors: [`SpokeError::Council`] (already in another council, refused, or not proposed),
/// [`SpokeError::Net`].
pub async fn council_join(data: &Path, ticket: &council::CouncilTicket, ready: Option<council::ReadyReport>) -> Result<Joined, SpokeError> {
    let (key, config) = load(data)?;
    let store = Store::open(&data.join(STORE_FILE))?;
    let mut m = stored_membership(&store)?;
    if let Some(id) = m.id()
        && id != ticket.council
    {
        return Err(SpokeError::Council("this spoke already belongs to another council".into()));
    }
    let me = member_info(&key, &config);
    let hello = council::CouncilHello {
        protocol: council::COUNCIL_PROTOCOL,
        council: Some(ticket.council.clone()),
        consent: Some(council::consent(&key, &ticket.council, &me)),
        member: me.clone(),
        entries: m.entries(),
        have: m.heads(),
        token: Some(ticket.token.clone()),
        ready,
        digest: None,
    };
    let endpoint = dialer(key.clone()).await?;
    let r = council::exchange_entries(&endpoint, &ticket.member, &hello).await;
    endpoint.close().await;
    let council::Exchanged { entries, catalog: answer, .. } = r.map_err(|e| SpokeError::Council(format!("the inviting spoke refused: {e}")))?;
    let (_, refused) = m.merge(entries);
    if let Some(e) = refused.iter().find(|e| !matches!(e, council::CouncilError::UnknownSigner(_))) {
        return Err(SpokeError::Council(format!("the inviting spoke sent a council log that does not verify: {e}")));
    }
    if m.id() != Some(ticket.council.as_str()) {
        return Err(SpokeError::Council("the inviting spoke answered with another council's log".into()));
    }
    if m.is_member(&me.endpoint) {
        store.put_council_entries(&m.entries())?;
        return Ok(Joined::Member(m.members().into_values().collect()));
    }
    match m.pending_join_of(&me.endpoint) {
        Some(p) => {
            store.put_council_entries(&m.entries())?;
            Ok(Joined::Waiting { needed: p.needed })
        }
        None => Err(SpokeError::Council(match answer {
            Err(e) => format!("the inviting spoke refused: {}", e.message),
            Ok(_) => "the inviting spoke answered, but this spoke is not proposed in its log".into(),
        })),
    }
}

/// The council as this spoke knows it.
#[derive(Debug, Clone)]
pub struct CouncilStatus {
    /// The council ID; `None` outside a council.
    pub id: Option<String>,
    /// The members.
    pub members: Vec<council::MemberInfo>,
    /// Proposals waiting for approvals.
    pub pending_joins: Vec<council::PendingJoin>,
    /// Votes to cut members off that have no majority yet: member → voters.
    pub pending_removals: std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
    /// Spokes the council cut off.
    pub removed: std::collections::BTreeSet<String>,
    /// Accusations with evidence against current members.
    pub accusations: Vec<council::Accusation>,
    /// The log's heads and entry count.
    pub heads: Vec<String>,
    /// Entries in the log.
    pub entries: usize,
    /// A version-1 council waiting for its founder's charter: its ID.
    pub waiting_for_charter: Option<String>,
    /// What the spokes this one proposed reported of their self-test when they joined:
    /// endpoint → (report, Unix seconds).
    pub ready: std::collections::BTreeMap<String, (council::ReadyReport, i64)>,
}

/// A self-test's results ([`self_test`]) as the report a join carries.
pub fn ready_report(checks: &[(&str, Result<String, String>)]) -> council::ReadyReport {
    council::ReadyReport {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        checks: checks.iter().map(|(c, r)| council::ReadyCheck { check: (*c).to_owned(), ok: r.is_ok(), detail: r.clone().unwrap_or_else(|e| e) }).collect(),
    }
}

/// The council as stored here (a version-1 council this spoke founded is carried over first).
pub fn council_status(data: &Path) -> Result<CouncilStatus, SpokeError> {
    let (key, config) = load(data)?;
    let store = Store::open(&data.join(STORE_FILE))?;
    carry_over(&store, &key, &member_info(&key, &config))?;
    let (m, legacy) = stored_council(&store)?;
    Ok(CouncilStatus {
        id: m.id().map(str::to_owned),
        members: m.members().into_values().collect(),
        pending_joins: m.pending_joins(),
        pending_removals: m.pending_removals(),
        removed: m.removed(),
        accusations: m.accusations(),
        heads: m.heads(),
        entries: m.len(),
        waiting_for_charter: legacy.and_then(|l| l.id().map(str::to_owned)),
        ready: store.council_ready()?.into_iter().filter_map(|(e, r, at)| Some((e, (serde_json::from_str(&r).ok()?, at)))).collect(),
    })
}

/// Signs this spoke's vote to cut `endpoint` off the council; the vote spreads with the next
/// exchanges, and the member is cut off once more than half of the other members voted.
/// Returns whether the member is cut off already.
pub fn council_remove(data: &Path, endpoint: &str, reason: &str) -> Result<bool, SpokeError> {
    let (key, config) = load(data)?;
    let store = Store::open(&data.join(STORE_FILE))?;
    carry_over(&store, &key, &member_info(&key, &config))?;
    let mut m = stored_membership(&store)?;
    if m.id().is_none() {
        return Err(SpokeError::Council("this spoke belongs to no council".into()));
    }
    if !m.is_member(endpoint) {
        return Err(SpokeError::Council(format!("{endpoint} is not a member of this council")));
    }
    let signed = m.sign(&key, council::Act::Remove { member: endpoint.to_owned(), reason: reason.to_owned() }, chrono::Utc::now().timestamp()).map_err(|e| SpokeError::Council(e.to_string()))?;
    store.put_council_entries(&[signed])?;
    Ok(!m.is_member(endpoint))
}

/// What `spoke council approve` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approved {
    /// The spoke was a member already.
    AlreadyMember,
    /// Approval signed; `needed` more are missing (0: admitted).
    Signed {
        /// The newcomer's endpoint ID.
        endpoint: String,
        /// Approvals still missing.
        needed: usize,
    },
}

/// Members `spoke council approve` asks for a proposal it has not heard of yet.
const APPROVE_ASKS: usize = 16;

/// Signs this spoke's approval of the proposal naming `who` (an endpoint ID, or the name of a
/// proposed spoke). A proposal this spoke has not heard of yet is fetched first from the
/// members (at most 16 asked, one after another); the approval is then handed to three of
/// them, and spreads from there with the next exchanges.
///
/// Errors: [`SpokeError::Council`] (no council, not a member, no such proposal, a name that
/// fits more than one), [`SpokeError::Net`].
pub async fn council_approve(data: &Path, who: &str) -> Result<Approved, SpokeError> {
    let (key, config) = load(data)?;
    let store = Store::open(&data.join(STORE_FILE))?;
    let me = member_info(&key, &config);
    carry_over(&store, &key, &me)?;
    let mut m = stored_membership(&store)?;
    if m.id().is_none() {
        return Err(SpokeError::Council("this spoke belongs to no council".into()));
    }
    let find = |m: &council::Membership| -> Result<Option<council::PendingJoin>, SpokeError> {
        let fits: Vec<council::PendingJoin> = m.pending_joins().into_iter().filter(|p| p.member.endpoint == who || p.member.name == who).collect();
        match fits.len() {
            0 | 1 => Ok(fits.into_iter().next()),
            n => Err(SpokeError::Council(format!("{n} proposed spokes are called {who:?}; give the endpoint ID"))),
        }
    };
    if m.is_member(who) {
        return Ok(Approved::AlreadyMember);
    }
    // This spoke's own admission, the proposal or others' approvals may not have reached it
    // yet: it asks the members first, and tells a few of them after signing, so that its
    // answer counts what the council holds and the approval spreads at once.
    let endpoint = dialer(key.clone()).await?;
    let r = async {
        gossip(&endpoint, &me, &mut m, APPROVE_ASKS, |m| m.is_member(&me.endpoint) && (m.is_member(who) || find(m).is_ok_and(|p| p.is_some()))).await;
        if !m.is_member(&me.endpoint) {
            return Err(SpokeError::Council("this spoke is not a member of its council and cannot approve".into()));
        }
        if m.is_member(who) {
            return Ok(Approved::AlreadyMember);
        }
        let Some(p) = find(&m)? else {
            return Err(SpokeError::Council(format!("no spoke called {who:?} waits for the council's approval")));
        };
        m.sign(&key, council::Act::Approve { join: p.join.clone() }, chrono::Utc::now().timestamp()).map_err(|e| SpokeError::Council(e.to_string()))?;
        gossip(&endpoint, &me, &mut m, council::DEFAULT_FANOUT, |_| false).await;
        let needed = if m.is_member(&p.member.endpoint) { 0 } else { m.pending_join_of(&p.member.endpoint).map_or(0, |p| p.needed) };
        Ok(Approved::Signed { endpoint: p.member.endpoint, needed })
    }
    .await;
    endpoint.close().await;
    store.put_council_entries(&m.entries())?;
    r
}

/// Exchanges the council log `m` with the other members it lists, one after another (at most
/// `limit`), merging what they answer, until `enough`.
async fn gossip(endpoint: &iroh::Endpoint, me: &council::MemberInfo, m: &mut council::Membership, limit: usize, enough: impl Fn(&council::Membership) -> bool) {
    let others: Vec<council::MemberInfo> = m.members().into_values().filter(|x| x.endpoint != me.endpoint).collect();
    for up in others.iter().take(limit) {
        if enough(m) {
            return;
        }
        let hello = council::CouncilHello { protocol: council::COUNCIL_PROTOCOL, council: m.id().map(str::to_owned), member: me.clone(), entries: m.entries(), have: m.heads(), token: None, consent: None, ready: None, digest: None };
        if let Ok(x) = council::exchange_entries(endpoint, up, &hello).await {
            m.merge(x.entries);
        }
    }
}

/// Deletes the search index; the next start rebuilds it from the stored blogs.
pub fn reindex(data: &Path) -> Result<(), SpokeError> {
    load(data)?;
    let dir = data.join(search::INDEX_DIR);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SpokeError::Io { path: dir, source: e }),
    }
}

/// One self-test check: its name, and what it found or why it failed.
pub type Check = (&'static str, Result<String, String>);

/// Checks the spoke of `data` as it runs: its database, free disk, reader site (`/health`),
/// sync endpoint (`spokes/sync/1` must answer a hello for a made-up blog with a typed
/// refusal) and council endpoint (`spokes/council/1` must answer a stranger with
/// a typed refusal). Errors only when the data folder cannot be read.
pub async fn self_test(data: &Path) -> Result<Vec<Check>, SpokeError> {
    let (key, config) = load(data)?;
    let mut checks: Vec<Check> = Vec::new();
    let store = Store::open(&data.join(STORE_FILE))?;
    checks.push(("database", store.quick_check().map(|n| format!("spoke.db is sound, {n} blogs")).map_err(|e| e.to_string())));
    checks.push(("disk", match fs4::available_space(data) {
        Ok(free) if free < config.admission.min_free_bytes => Err(format!("{} MiB free, below the {} MiB needed to take new blogs", free >> 20, config.admission.min_free_bytes >> 20)),
        Ok(free) => Ok(format!("{} MiB free", free >> 20)),
        Err(e) => Err(e.to_string()),
    }));
    let mut http = config.http;
    if http.ip().is_unspecified() {
        http.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{http}/health");
    let health = tokio::task::spawn_blocking(move || -> Result<String, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(5))).build().into();
        let body = agent.get(&url).call().map_err(|e| format!("{url}: {e}"))?.body_mut().read_to_string().map_err(|e| e.to_string())?;
        let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("{url} did not answer JSON: {e}"))?;
        if v["status"] == "ok" { Ok(format!("{url} answers, {} blogs shown", v["blogs"])) } else { Err(format!("{url} answered {body}")) }
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    checks.push(("reader site", health));
    let me = member_info(&key, &config);
    let endpoint = dialer(SecretKey::generate()).await?;
    let target = council::member_addr(&me).map_err(|e| SpokeError::Net(e.to_string()))?;
    let mut replica = Replica { blog_id: BlogId::generate(), doc: empty_automerge(), certificate: None, statements: vec![], saved: Default::default() };
    let sync = initiate(&endpoint, target, Hello::new(replica.blog_id.clone(), None), &mut replica, &mut State::new(), |_, _, _| Ok(())).await;
    checks.push(("sync endpoint", match sync {
        // Any typed refusal of a made-up blog shows the protocol works (`not-hosted`; in open
        // mode `wrong-certificate`, or `low-disk`).
        Err(SyncError::Remote(e)) => Ok(format!("{} answers spokes/sync/1 (a made-up blog: {})", me.addrs.join(", "), e.code)),
        Err(e) => Err(format!("{}: {e}", me.addrs.join(", "))),
        Ok(_) => Err("it accepted a blog it cannot hold".into()),
    }));
    let stranger = council::MemberInfo { endpoint: endpoint.id().to_string(), addrs: vec![], web: String::new(), name: "self-test".into(), relay: None };
    let hello = council::CouncilHello { protocol: council::COUNCIL_PROTOCOL, council: None, member: stranger, entries: vec![], have: vec![], token: None, consent: None, ready: None, digest: None };
    checks.push(("council endpoint", match council::exchange(&endpoint, &me, &hello).await {
        Err(SyncError::Remote(e)) if matches!(e.code, Code::NotAMember | Code::NoCouncil) => Ok(format!("answers spokes/council/1, protocol 2 ({})", if e.code == Code::NoCouncil { "in no council yet" } else { "in a council" })),
        Err(e) => Err(e.to_string()),
        Ok(_) => Err("it admitted a stranger".into()),
    }));
    endpoint.close().await;
    Ok(checks)
}

/// Hosts the blog of an export archive (`spokes-archive`, see `spokes_core::archive`), with
/// its whole history and signatures, after checking them. A blog already hosted here (same
/// author) is merged with it. Run it while the spoke is stopped, or restart the spoke after.
/// Returns the blog ID and whether it is new here.
///
/// Errors: [`SpokeError::Archive`] (unreadable, or failing verification), [`SpokeError::Store`]
/// (another author's blog under that ID).
pub fn import_archive(data: &Path, archive: &Path) -> Result<(BlogId, bool), SpokeError> {
    load(data)?;
    let file = std::fs::File::open(archive).map_err(|source| spokes_core::archive::ArchiveError::Io { path: archive.into(), source })?;
    let a = spokes_core::archive::read_archive_from(file)?;
    let store = Store::open(&data.join(STORE_FILE))?;
    let blog_id = a.manifest.blog_id.clone();
    let mut doc = a.blog.into_automerge();
    let mut cert = a.certificate;
    // Merged with what is hosted here already; another author's blog is refused by the store.
    if let Some(stored) = store.blog(&blog_id)?.filter(|s| s.fingerprint == cert.fingerprint()) {
        if !stored.document.is_empty() {
            let mut old = load_automerge(&stored.document).map_err(|e| store::StoreError::Damaged(e.to_string()))?;
            doc.merge(&mut old).map_err(|e| store::StoreError::Damaged(e.to_string()))?;
        }
        cert.merge(&stored.certificate);
    }
    let is_new = store.import_blog(&blog_id, &cert, &doc.save(), &a.statements)?;
    // The archive checked each picture against its name; the site serves those a post shows.
    for (name, bytes) in &a.images {
        store.put_image(&blog_id, name, bytes)?;
    }
    Ok((blog_id, is_new))
}
