// `spoke`: run and administer a Spokes spoke. (A plain comment, not `//!`: the test-only
// `spoke-dishonest` binary includes this file.)

use anyhow::Context;

/// jemalloc, which hands memory freed after a large sync back to the system within seconds;
/// with the system allocator a spoke stayed at its peak long after (a spoke's memory should
/// follow what it serves, not what it once received).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
use clap::{Parser, Subcommand};
use spoke::config::Config;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Run a Spokes spoke: a server that hosts signed blogs, serves them to readers over HTTP
/// and replicates them with other spokes.
#[derive(Parser)]
#[command(name = "spoke", version, about)]
struct Cli {
    /// The spoke's data folder.
    #[arg(long, global = true, env = "SPOKE_DATA", default_value = "./spoke-data")]
    data: PathBuf,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a data folder: configuration and the spoke's network key.
    Init {
        /// Name shown to readers.
        #[arg(long)]
        name: Option<String>,
        /// Reader site address.
        #[arg(long)]
        http: Option<SocketAddr>,
        /// Sync address (UDP).
        #[arg(long)]
        p2p: Option<SocketAddr>,
        /// The operator's listener (`/metrics`, `/health`, `/ready`); default 127.0.0.1:9464.
        #[arg(long)]
        admin: Option<SocketAddr>,
        /// Address to put in invite tickets (repeatable), for spokes behind NAT or on 0.0.0.0.
        #[arg(long = "public-addr")]
        public_addrs: Vec<SocketAddr>,
        /// The reader site's public address for invite tickets, for example
        /// `https://notes.example` (behind a proxy or on 0.0.0.0).
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Print an invite ticket that admits one writer.
    Invite {
        /// How many writers the ticket may admit.
        #[arg(long, default_value_t = 1)]
        uses: u32,
        /// Days until the ticket expires (default: never).
        #[arg(long)]
        days: Option<u32>,
        /// Print an invite link instead (`READER_SITE/join?t=TICKET`): a page with an "Open in
        /// Spokes" button, for writers who should never see a ticket.
        #[arg(long)]
        link: bool,
    },
    /// Print a ticket that only tells writers where this spoke is (no invite): enough to publish
    /// here when `[admission] mode = "open"`.
    Ticket,
    /// Run the spoke until interrupted.
    Run {
        /// Reader site address (overrides config.toml).
        #[arg(long)]
        http: Option<SocketAddr>,
        /// Sync address (overrides config.toml).
        #[arg(long)]
        p2p: Option<SocketAddr>,
        /// The operator's listener (overrides config.toml).
        #[arg(long)]
        admin: Option<SocketAddr>,
        /// Seconds between replication rounds (overrides config.toml).
        #[arg(long)]
        replicate_interval: Option<u64>,
        /// Seconds between council pulls (overrides config.toml).
        #[arg(long)]
        council_interval: Option<u64>,
    },
    /// Host a blog from its author's export archive (`spokes export`), history and
    /// signatures checked. Run it while the spoke is stopped, or restart the spoke after.
    Import {
        /// The archive (`.tar.gz`).
        archive: PathBuf,
    },
    /// List refused sessions, newest first.
    Refusals {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// One JSON array (of `at`, `code`, `blog_id`, `peer`, `reason`) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// List the blogs held here (hosted, and council copies) with their sizes, largest first.
    Blogs {
        /// One JSON array (of `blog_id`, `kind`, `status`, `bytes`, `statements`, `images`,
        /// `updated_at`) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Moderate one blog.
    Blog {
        #[command(subcommand)]
        cmd: BlogCmd,
    },
    /// Block or unblock another spoke, or list the blocked ones.
    Peer {
        #[command(subcommand)]
        cmd: PeerCmd,
    },
    /// The council: invite a spoke, join one, approve a newcomer, list members, cut a member off.
    Council {
        #[command(subcommand)]
        cmd: CouncilCmd,
    },
    /// Delete the search index; the next start rebuilds it from the stored blogs.
    Reindex,
    /// Check a running spoke: its database, reader site, sync endpoint and council endpoint.
    SelfTest,
}

#[derive(Subcommand)]
enum BlogCmd {
    /// Stop serving and syncing a blog (kept on disk).
    Suspend {
        /// Blog ID.
        blog: String,
    },
    /// Serve a suspended blog again.
    Resume {
        /// Blog ID.
        blog: String,
    },
    /// Delete a blog and never take it again (hosted or as a council copy).
    Drop {
        /// Blog ID.
        blog: String,
        /// Why, for the record.
        #[arg(long, default_value = "dropped by the operator")]
        reason: String,
    },
}

#[derive(Subcommand)]
enum PeerCmd {
    /// Refuse every session and council exchange with a spoke.
    Block {
        /// Its endpoint ID.
        endpoint: String,
        /// Why, for the record.
        #[arg(long, default_value = "blocked by the operator")]
        reason: String,
    },
    /// Talk to a blocked spoke again.
    Unblock {
        /// Its endpoint ID.
        endpoint: String,
    },
    /// List blocked spokes.
    List {
        /// One JSON array (of `endpoint`, `since`, `reason`) instead of lines.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CouncilCmd {
    /// Print a council invite for another spoke (founds a council if this spoke has none).
    Invite {
        /// How many spokes the invite may admit.
        #[arg(long, default_value_t = 1)]
        uses: u32,
        /// Days until the invite expires.
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// Join the council of an invite printed by one of its members.
    Join {
        /// The invite (`spokescouncil1…`).
        ticket: String,
    },
    /// Approve a spoke waiting to join (admitted once more than half of the members approved).
    Approve {
        /// The waiting spoke's endpoint ID or name (`spoke council members` lists them).
        spoke: String,
    },
    /// List the members, spokes waiting to join, and pending votes.
    Members {
        /// One JSON object (`council`: the ID or null; `members`: endpoint, addrs, web, name;
        /// `pending_joins`: join, member, approvals, needed; `accusations`: entry, by, member,
        /// reason (accusations with evidence); `pending_removals`: member →
        /// voters; `removed`; `heads`; `entries`: the log's length; `waiting_for_charter`: the
        /// version-1 council ID while its founder has not carried it over) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Vote to cut a member off (it is cut off once most other members voted).
    Remove {
        /// The member's endpoint ID.
        endpoint: String,
        /// Why, shown to the other operators.
        #[arg(long)]
        reason: String,
    },
}

fn expiry(days: Option<u32>) -> Option<i64> {
    days.map(|d| chrono::Utc::now().timestamp() + i64::from(d) * 86_400)
}

fn blog_id(s: &str) -> anyhow::Result<spokes_core::BlogId> {
    s.parse().map_err(|e| anyhow::anyhow!("{s} is not a blog ID: {e}"))
}

fn size(bytes: i64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Structured logs on stderr: `SPOKE_LOG` filters (tracing's env-filter syntax), and
    // `SPOKE_LOG_FORMAT=json` writes one JSON object per event (for journald or a collector).
    let filter = tracing_subscriber::EnvFilter::try_from_env("SPOKE_LOG").unwrap_or_else(|_| "spoke=info,warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("SPOKE_LOG_FORMAT").is_ok_and(|f| f == "json") {
        logs.json().init();
    } else {
        logs.init();
    }
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Init { name, http, p2p, admin, public_addrs, public_url } => {
            let mut c = Config::default();
            if let Some(n) = name {
                c.name = n;
            }
            if let Some(h) = http {
                c.http = h;
            }
            if let Some(p) = p2p {
                c.p2p = p;
            }
            if let Some(a) = admin {
                c.admin = a;
            }
            c.public_addrs = public_addrs;
            if let Some(u) = public_url {
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    anyhow::bail!("--public-url must start with http:// or https://");
                }
                c.public_url = Some(u);
            }
            let id = spoke::init(&cli.data, &c).context("could not create the spoke")?;
            println!("Spoke created in {}", cli.data.display());
            println!("Endpoint ID: {id}");
            println!("Next: `spoke --data {} invite` to admit a writer, then `spoke --data {} run`.", cli.data.display(), cli.data.display());
        }
        Cmd::Invite { uses, days, link } => {
            let t = spoke::invite(&cli.data, uses, expiry(days))?;
            match (link, &t.web) {
                (true, Some(web)) => println!("{web}/join?t={}", t.encode()),
                _ => println!("{}", t.encode()),
            }
            warn_if_this_machine_only(&t.addrs);
        }
        Cmd::Ticket => {
            let t = spoke::ticket(&cli.data, None)?;
            println!("{}", t.encode());
            warn_if_this_machine_only(&t.addrs);
        }
        Cmd::Run { http, p2p, admin, replicate_interval, council_interval } => {
            let running = spoke::start(&cli.data, spoke::Overrides { http, p2p, admin, no_admin: false, replicate_interval_secs: replicate_interval, council_interval_secs: council_interval }).await?;
            println!("Reader site: http://{}/", running.http_addr);
            if let Some(a) = running.https_addr {
                println!("Reader site over HTTPS: https://{a}/ (once the certificate is there)");
            }
            if let Some(a) = running.admin_addr {
                println!("Operator listener: http://{a}/metrics, /health, /ready");
            }
            println!("Sync endpoint {} on {}", running.endpoint_id, running.p2p_addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "));
            use std::io::Write;
            let _ = std::io::stdout().flush();
            // Ctrl+C, or SIGTERM as systemd and container runtimes send it.
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r?,
                _ = term.recv() => {}
            }
            eprintln!("Stopping…");
            running.shutdown().await;
            eprintln!("Stopped.");
        }
        Cmd::Import { archive } => {
            let (blog, new) = spoke::import_archive(&cli.data, &archive)?;
            println!("{} blog {blog}; readers find it at /b/{blog}/", if new { "Now hosting" } else { "Merged the archive into" });
        }
        Cmd::Refusals { limit, json } => {
            let store = spoke::open_store(&cli.data)?;
            let refusals = store.refusals(limit)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&refusals)?);
                return Ok(());
            }
            for r in refusals {
                println!("{}  {}  {}  {}  {}", r.at, r.code, r.blog_id.unwrap_or_else(|| "-".into()), r.peer, r.reason);
            }
        }
        Cmd::Blogs { json } => {
            let store = spoke::open_store(&cli.data)?;
            let blogs = store.blog_sizes()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&blogs)?);
                return Ok(());
            }
            println!("{:<32}  {:<6}  {:<9}  {:>10}  {:>10}  {:>6}  updated", "blog", "kind", "status", "size", "statements", "images");
            for b in &blogs {
                println!("{:<32}  {:<6}  {:<9}  {:>10}  {:>10}  {:>6}  {}", b.blog_id, b.kind, b.status, size(b.bytes), b.statements, b.images, b.updated_at);
            }
            println!("{} blogs, {} in all", blogs.len(), size(blogs.iter().map(|b| b.bytes).sum()));
        }
        Cmd::Blog { cmd } => {
            let store = spoke::open_store(&cli.data)?;
            match cmd {
                BlogCmd::Suspend { blog } => {
                    anyhow::ensure!(store.set_status(&blog_id(&blog)?, spoke::store::BlogStatus::Suspended)?, "this spoke holds no blog {blog}");
                    println!("Suspended {blog}: no longer served or synced (a running spoke follows within a second).");
                }
                BlogCmd::Resume { blog } => {
                    anyhow::ensure!(store.set_status(&blog_id(&blog)?, spoke::store::BlogStatus::Active)?, "this spoke holds no blog {blog}");
                    println!("Serving {blog} again.");
                }
                BlogCmd::Drop { blog, reason } => {
                    let held = store.drop_blog(&blog_id(&blog)?, &reason)?;
                    println!("{} {blog}; it will not be taken again.", if held { "Dropped" } else { "Not held here; refusing from now on" });
                }
            }
        }
        Cmd::Peer { cmd } => {
            let store = spoke::open_store(&cli.data)?;
            match cmd {
                PeerCmd::Block { endpoint, reason } => {
                    endpoint.parse::<iroh::EndpointId>().map_err(|e| anyhow::anyhow!("{endpoint} is not an endpoint ID: {e}"))?;
                    store.block_peer(&endpoint, &reason)?;
                    println!("Blocked {endpoint}.");
                }
                PeerCmd::Unblock { endpoint } => {
                    let was = store.unblock_peer(&endpoint)?;
                    println!("{}", if was { format!("Unblocked {endpoint}.") } else { format!("{endpoint} was not blocked.") });
                }
                PeerCmd::List { json } => {
                    let peers = store.blocked_peers()?;
                    if json {
                        let list: Vec<serde_json::Value> = peers.iter().map(|(e, reason, at)| serde_json::json!({"endpoint": e, "since": at, "reason": reason})).collect();
                        println!("{}", serde_json::to_string_pretty(&list)?);
                        return Ok(());
                    }
                    for (e, reason, at) in peers {
                        println!("{e}  since {at}  {reason}");
                    }
                }
            }
        }
        Cmd::Council { cmd } => match cmd {
            CouncilCmd::Invite { uses, days } => {
                let t = spoke::council_invite(&cli.data, uses, expiry(Some(days)))?;
                println!("{}", t.encode());
                warn_if_this_machine_only(&t.member.addrs.iter().filter_map(|a| a.parse().ok()).collect::<Vec<SocketAddr>>());
            }
            CouncilCmd::Join { ticket } => {
                let t = spoke::council::CouncilTicket::decode(&ticket)?;
                // The inviting spoke keeps what this spoke's self-test found, for its operator.
                let checks = spoke::self_test(&cli.data).await?;
                let report = spoke::ready_report(&checks);
                if !report.ready() {
                    eprintln!("This spoke's self-test failed (`spoke self-test` says what); the inviting spoke is told so.");
                }
                match spoke::council_join(&cli.data, &t, Some(report)).await? {
                    spoke::Joined::Member(members) => println!("Joined the council {} ({} members).", &t.council[..16], members.len()),
                    spoke::Joined::Waiting { needed } => println!(
                        "Proposed to the council {} by {}. Waiting for {needed} more of its members to approve (`spoke council approve {}` on their spokes); this spoke learns it is admitted on its own.",
                        &t.council[..16],
                        t.member.name,
                        spoke::load(&cli.data)?.0.public()
                    ),
                }
            }
            CouncilCmd::Approve { spoke: who } => match spoke::council_approve(&cli.data, &who).await? {
                spoke::Approved::AlreadyMember => println!("{who} is a member already."),
                spoke::Approved::Signed { endpoint, needed: 0 } => println!("Approved: {endpoint} is admitted."),
                spoke::Approved::Signed { endpoint, needed } => println!("Approved {endpoint}; {needed} more approvals admit it. Your approval spreads with the next exchanges."),
            },
            CouncilCmd::Members { json } => {
                let s = spoke::council_status(&cli.data)?;
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&serde_json::json!({
                            "council": s.id, "members": s.members, "pending_joins": s.pending_joins, "pending_removals": s.pending_removals,
                            "accusations": s.accusations.iter().map(|a| serde_json::json!({"entry": a.entry, "by": a.by, "member": a.member, "reason": a.reason})).collect::<Vec<_>>(),
                            "removed": s.removed, "heads": s.heads, "entries": s.entries, "waiting_for_charter": s.waiting_for_charter,
                            "ready": s.ready.iter().map(|(e, (r, at))| (e.clone(), serde_json::json!({"ready": r.ready(), "version": r.version, "checks": r.checks, "at": at}))).collect::<serde_json::Map<_, _>>(),
                        }))?
                    );
                    return Ok(());
                }
                match (&s.id, &s.waiting_for_charter) {
                    (None, Some(_)) => println!("This spoke's council was formed by an earlier version of Spokes. It carries over once its founding spoke runs this version; until then this spoke serves its own blogs only."),
                    (None, None) => println!("This spoke belongs to no council. `spoke council invite` founds one."),
                    (Some(id), _) => {
                        println!("Council {id}, {} members:", s.members.len());
                        for m in &s.members {
                            println!("  {}  {}  {}", m.endpoint, m.web, m.name);
                        }
                        let said = |e: &str| match s.ready.get(e) {
                            Some((r, _)) if r.ready() => format!("; its self-test passed when it joined (version {})", r.version),
                            Some(_) => "; its self-test FAILED when it joined".to_owned(),
                            None => String::new(),
                        };
                        for p in &s.pending_joins {
                            println!("Waiting to join: {} ({}), approved by {}, {} more needed{}: `spoke council approve {}`", p.member.name, p.member.endpoint, p.approvals.len(), p.needed, said(&p.member.endpoint), p.member.endpoint);
                        }
                        for a in &s.accusations {
                            println!("Accused with evidence: {} by {}: it {}", a.member, a.by, a.reason);
                        }
                        for (who, voters) in &s.pending_removals {
                            println!("Votes to cut off {who}: {} of the other members", voters.len());
                        }
                        for who in &s.removed {
                            println!("Cut off: {who}");
                        }
                        println!("The council's log: {} entries, public at /council on every member's reader site.", s.entries);
                    }
                }
            }
            CouncilCmd::Remove { endpoint, reason } => {
                let cut = spoke::council_remove(&cli.data, &endpoint, &reason)?;
                println!("{}", if cut { "Cut off: the other members stop pulling from it." } else { "Vote signed; it spreads with the next exchanges. The member is cut off once most other members voted." });
            }
        },
        Cmd::Reindex => {
            spoke::reindex(&cli.data)?;
            println!("The search index will be rebuilt when the spoke next starts.");
        }
        Cmd::SelfTest => {
            let failures = spoke::self_test(&cli.data).await?;
            for (check, r) in &failures {
                match r {
                    Ok(detail) => println!("✓ {check}: {detail}"),
                    Err(e) => println!("✗ {check}: {e}"),
                }
            }
            anyhow::ensure!(failures.iter().all(|(_, r)| r.is_ok()), "the self-test failed");
        }
    }
    Ok(())
}

/// Says on standard error (the ticket itself stays alone on standard output) when a ticket's
/// addresses reach only this machine: without `public_addrs`, a spoke listening on every
/// interface puts 127.0.0.1 in its tickets.
fn warn_if_this_machine_only(addrs: &[SocketAddr]) {
    if !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()) {
        let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        eprintln!(
            "Note: this ticket reaches this machine only ({}). For other machines, set public_addrs in spoke.toml (for example public_addrs = [\"203.0.113.5:7080\"]) to the address they reach this spoke at, and print the ticket again.",
            list.join(", ")
        );
    }
}
