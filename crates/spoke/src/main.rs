//! `spoke`: run and administer a Spokes spoke.

use anyhow::Context;
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
    },
    /// Run the spoke until interrupted.
    Run {
        /// Reader site address (overrides config.toml).
        #[arg(long)]
        http: Option<SocketAddr>,
        /// Sync address (overrides config.toml).
        #[arg(long)]
        p2p: Option<SocketAddr>,
        /// Seconds between replication rounds (overrides config.toml).
        #[arg(long)]
        replicate_interval: Option<u64>,
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
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("SPOKE_LOG").unwrap_or_else(|_| "spoke=info,warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Init { name, http, p2p, public_addrs, public_url } => {
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
        Cmd::Invite { uses } => {
            let t = spoke::invite(&cli.data, uses)?;
            println!("{}", t.encode());
        }
        Cmd::Run { http, p2p, replicate_interval } => {
            let running = spoke::start(&cli.data, spoke::Overrides { http, p2p, replicate_interval_secs: replicate_interval }).await?;
            println!("Reader site: http://{}/", running.http_addr);
            println!("Sync endpoint {} on {}", running.endpoint_id, running.p2p_addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "));
            use std::io::Write;
            let _ = std::io::stdout().flush();
            tokio::signal::ctrl_c().await?;
            eprintln!("Stopping…");
            running.shutdown().await;
        }
        Cmd::Import { archive } => {
            let (blog, new) = spoke::import_archive(&cli.data, &archive)?;
            println!("{} blog {blog}; readers find it at /b/{blog}/", if new { "Now hosting" } else { "Merged the archive into" });
        }
        Cmd::Refusals { limit } => {
            let store = spoke::store::Store::open(&cli.data.join("spoke.db"))?;
            for r in store.refusals(limit)? {
                println!("{}  {}  {}  {}  {}", r.at, r.code, r.blog_id.unwrap_or_else(|| "-".into()), r.peer, r.reason);
            }
        }
    }
    Ok(())
}
