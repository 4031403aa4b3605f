//! `spokes`: the writer's command-line tool. Drives the same library as the desktop app.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use spokes_core::BlogSettings;
use spokes_writer::{Profile, WriterSession};
use std::path::{Path, PathBuf};

/// Write, sign and publish a blog that no single server can take down or quietly alter.
///
/// The passphrase that protects your key is read from --passphrase-file, from the
/// SPOKES_PASSPHRASE environment variable, or asked for at the prompt.
#[derive(Parser)]
#[command(name = "spokes", version, about)]
struct Cli {
    /// The profile folder (your identity, blog and drafts).
    #[arg(long, global = true, env = "SPOKES_PROFILE")]
    profile: Option<PathBuf>,
    /// Read the passphrase from this file (first line).
    #[arg(long, global = true)]
    passphrase_file: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum NameCmd {
    /// Claim a name: the first blog to claim it gets it.
    Claim {
        /// The name, for example `maria` (letters, digits and inner hyphens).
        name: String,
    },
    /// Give the name up: readers no longer reach the blog under it.
    Release,
    /// Show the blog's name.
    Show,
    /// Serve the blog under a domain you own too (for example `blog.maria.example`): prints
    /// the two records to add to that domain's DNS.
    Domain {
        /// The domain.
        #[arg(required_unless_present = "remove")]
        domain: Option<String>,
        /// Stop serving the blog under its domain.
        #[arg(long, conflicts_with = "domain")]
        remove: bool,
    },
}

#[derive(Subcommand)]
enum Cmd {
    /// Create your identity (an OpenPGP key) and your blog.
    Init {
        /// Your name, as readers see it.
        #[arg(long, required_unless_present = "key")]
        name: Option<String>,
        /// Use an existing OpenPGP key instead of making one: an armored secret-key export
        /// (`gpg --export-secret-keys --armor KEYID > key.asc`). Its passphrase becomes your
        /// Spokes passphrase; your name is the key's user ID.
        #[arg(long, conflicts_with = "name")]
        key: Option<PathBuf>,
        /// The blog's title.
        #[arg(long)]
        title: String,
        /// A sentence about the blog.
        #[arg(long, default_value = "")]
        description: String,
        /// Language tag, for example `en`.
        #[arg(long, default_value = "en")]
        language: String,
        /// Short handle.
        #[arg(long, default_value = "")]
        handle: String,
    },
    /// Import a blog as drafts: Markdown files or folders (Jekyll, Hugo, Zola), or a WordPress
    /// (`.xml`) or Ghost (`.json`) export file (pictures: its `uploads` or `images` folder beside it).
    Import {
        /// Files, folders or export files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Write a new draft.
    New {
        /// Title.
        #[arg(long)]
        title: String,
        /// Body text (Markdown).
        #[arg(long, conflicts_with = "body_file")]
        body: Option<String>,
        /// Read the body from a file.
        #[arg(long)]
        body_file: Option<PathBuf>,
        /// Tags (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// Change a draft.
    Edit {
        /// Post ID (see `spokes list`).
        id: String,
        /// New title.
        #[arg(long)]
        title: Option<String>,
        /// New body text.
        #[arg(long, conflicts_with = "body_file")]
        body: Option<String>,
        /// Read the new body from a file.
        #[arg(long)]
        body_file: Option<PathBuf>,
        /// New slug.
        #[arg(long)]
        slug: Option<String>,
    },
    /// List posts.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Sign and publish drafts, then send them to your spokes.
    ///
    /// Exit status: 0 when every spoke has what you published (or with --offline), 3 when
    /// some spokes do and others did not take it, 4 when none did; the lines printed say why.
    Publish {
        /// Post IDs to publish; by default every new or changed draft.
        ids: Vec<String>,
        /// Sign locally but do not contact spokes.
        #[arg(long)]
        offline: bool,
    },
    /// Take a post off your spokes (a signed revision; its history keeps it).
    ///
    /// Exit status as for `publish`.
    Unpublish {
        /// Post ID.
        id: String,
        /// Sign locally but do not contact spokes.
        #[arg(long)]
        offline: bool,
    },
    /// Move a draft to the bin (a published post must be unpublished first).
    Delete {
        /// Post ID.
        id: String,
    },
    /// Take a draft back out of the bin.
    Undelete {
        /// Post ID.
        id: String,
    },
    /// Keep a picture (PNG, JPEG, GIF, WebP or AVIF, up to 15 MiB) with the blog and print
    /// the Markdown that shows it; put that line in a post.
    Image {
        /// The picture file.
        file: PathBuf,
        /// Words that describe the picture, for readers who cannot see it.
        #[arg(long, default_value = "")]
        alt: String,
    },
    /// Send what is published to your spokes and fetch what your other computers published;
    /// then exchange drafts with your other computers (sealed: spokes cannot read them).
    ///
    /// Exit status as for `publish`.
    Sync {
        /// Only the published blog: skip the drafts, which need your passphrase.
        #[arg(long)]
        published_only: bool,
    },
    /// Keep your published blog as one document per post, so that a post you unpublish or
    /// delete is removed, words and all, from your spokes (they keep only what is published).
    /// Your computer keeps the whole history. Signs the new form and sends it to your spokes.
    Upgrade {
        /// Sign locally but do not contact spokes.
        #[arg(long)]
        offline: bool,
    },
    /// Manage the spokes that host your blog.
    Spoke {
        #[command(subcommand)]
        cmd: SpokeCmd,
    },
    /// Your blog's name in your council's domain (`maria.spokes.example`), where readers find
    /// it on whichever of your spokes is up.
    Name {
        #[command(subcommand)]
        cmd: NameCmd,
    },
    /// Where your blog is published.
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Check every revision of your blog against your signatures.
    Verify,
    /// Write the whole blog to one archive file (posts as Markdown, history, certificate,
    /// signed statements, and a static site), to keep or to move elsewhere.
    Export {
        /// The archive to write (`.tar.gz`).
        file: PathBuf,
    },
    /// Write the blog as a static website (pages, Atom feed) that any web host can serve.
    ExportSite {
        /// The folder to write into.
        dir: PathBuf,
    },
    /// Write your recovery file: with your passphrase and any one spoke (or an export
    /// archive) it restores your identity and blog on a new computer. Keep it somewhere safe.
    RecoveryFile {
        /// Where to write it.
        file: PathBuf,
    },
    /// Restore your identity and blog into a new profile on this computer.
    Restore {
        /// Your recovery file (or an armored secret key).
        #[arg(long)]
        recovery: PathBuf,
        /// Restore from this export archive (with drafts) instead of from a spoke.
        #[arg(long, conflicts_with = "spoke")]
        archive: Option<PathBuf>,
        /// Fetch from this spoke (a ticket) instead of the spokes the recovery file lists.
        #[arg(long)]
        spoke: Option<String>,
    },
    /// The computers that sign for you.
    Device {
        #[command(subcommand)]
        cmd: DeviceCmd,
    },
    /// Your key: replace this computer's signing key, or change when the key expires.
    Key {
        #[command(subcommand)]
        cmd: KeyCmd,
    },
}

#[derive(Subcommand)]
enum DeviceCmd {
    /// List the computers whose keys sign your blog.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Add another computer: shows a pairing code to enter there with `spokes device join`,
    /// and waits for it.
    Pair {
        /// How long to wait, in minutes.
        #[arg(long, default_value_t = 10)]
        wait_minutes: u64,
    },
    /// Set up this computer from a pairing code shown on your other computer
    /// (`spokes device pair`). Asks for your passphrase.
    Join {
        /// The pairing code (`spokespair1…`).
        code: String,
        /// This computer's name, shown beside what it signs (default: its host name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Retire a computer you no longer use and nobody else has (given away after wiping it,
    /// broken): what it signed before stays valid, spokes refuse what it signs from now on.
    /// For a lost or stolen computer use `spokes device lost`. Sends the change to your spokes.
    Remove {
        /// The computer's key fingerprint (see `spokes device list`).
        fingerprint: String,
        /// Why, kept with the removal.
        #[arg(long, default_value = "removed by the author")]
        reason: String,
    },
    /// A computer was lost or stolen: nothing it ever signed counts any more, even what
    /// whoever has it dates in the past. Without `--keep` or `--keep-none` this only lists
    /// what it published. Sends the change to your spokes.
    Lost {
        /// The computer's key fingerprint (see `spokes device list`).
        fingerprint: String,
        /// Keep what it published up to and including its publish number N (from the list):
        /// the last one you made yourself. This computer signs it again.
        #[arg(long, conflicts_with = "keep_none")]
        keep: Option<usize>,
        /// Keep nothing it published.
        #[arg(long)]
        keep_none: bool,
        /// Why, kept with the removal.
        #[arg(long, default_value = "lost or stolen")]
        reason: String,
    },
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Retire this computer's signing key and make a new one. Your fingerprint stays.
    Replace,
    /// Set when your key expires (renew it by setting a later date). Your fingerprint stays.
    Expiry {
        /// Expire this many days from now.
        #[arg(long, conflicts_with = "never", required_unless_present = "never")]
        days: Option<u64>,
        /// Never expire.
        #[arg(long)]
        never: bool,
    },
}

#[derive(Subcommand)]
enum SpokeCmd {
    /// Add a spoke from the invite ticket its operator gave you.
    Add {
        /// The ticket (`spokes1…`).
        ticket: String,
    },
    /// List your spokes.
    List,
    /// Remove a spoke (by endpoint ID).
    Remove {
        /// Endpoint ID.
        endpoint: String,
    },
}

fn passphrase(cli: &Cli, confirm: bool) -> anyhow::Result<String> {
    if let Some(f) = &cli.passphrase_file {
        let s = std::fs::read_to_string(f).with_context(|| format!("could not read {}", f.display()))?;
        return Ok(s.lines().next().unwrap_or_default().to_owned());
    }
    if let Ok(p) = std::env::var("SPOKES_PASSPHRASE") {
        return Ok(p);
    }
    let p = rpassword::prompt_password("Passphrase: ").context("no passphrase: give --passphrase-file, set SPOKES_PASSPHRASE, or run in a terminal")?;
    if confirm && rpassword::prompt_password("Repeat passphrase: ")? != p {
        bail!("the two passphrases differ");
    }
    Ok(p)
}

fn read_body(body: Option<String>, file: Option<PathBuf>) -> anyhow::Result<Option<String>> {
    Ok(match (body, file) {
        (Some(b), _) => Some(b),
        (None, Some(f)) => Some(std::fs::read_to_string(&f).with_context(|| format!("could not read {}", f.display()))?),
        _ => None,
    })
}

/// Exit status of `publish`, `unpublish` and `sync` when not every chosen spoke has the newest
/// published revision but at least one does (the status lines say why).
const EXIT_SOME_SPOKES: u8 = 3;
/// Exit status of `publish`, `unpublish` and `sync` when no chosen spoke has it.
const EXIT_NO_SPOKE: u8 = 4;
/// Exit status of `name claim` when another blog has the name.
const EXIT_NAME_TAKEN: u8 = 5;

/// The exit status for a summary: success when every chosen spoke (or none was chosen) has
/// the newest revision, else [`EXIT_SOME_SPOKES`] or [`EXIT_NO_SPOKE`].
fn delivery_exit(s: &spokes_writer::PublishSummary) -> std::process::ExitCode {
    if s.up_to_date == s.total {
        std::process::ExitCode::SUCCESS
    } else if s.up_to_date > 0 {
        EXIT_SOME_SPOKES.into()
    } else {
        EXIT_NO_SPOKE.into()
    }
}

fn print_status(p: &Profile, json: bool) -> anyhow::Result<spokes_writer::PublishSummary> {
    let s = p.status(&p.targets())?;
    if json {
        let posts = p.posts()?;
        let v = serde_json::json!({
            "blog_id": p.blog_id(), "fingerprint": p.fingerprint(),
            "name": p.settings()?.name.map(|b| b.fqdn()),
            "posts": {"total": posts.len(), "published": posts.iter().filter(|x| x.published).count(), "drafts": posts.iter().filter(|x| !x.published).count()},
            "publish": s,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("{}", s.sentence);
        for sp in &s.spokes {
            let label = sp.name.clone().unwrap_or_else(|| sp.endpoint[..12.min(sp.endpoint.len())].to_owned());
            let state = if sp.up_to_date { "up to date".to_owned() } else if let Some(e) = &sp.last_error { format!("not yet: {}", e.message) } else { "not yet".to_owned() };
            println!("  {label}: {state}{}", sp.last_success.as_ref().map(|t| format!(" (last success {t})")).unwrap_or_default());
        }
    }
    Ok(s)
}

/// The keys that open the writer's other computers' drafts; `None` (said on stderr) for an
/// identity without an encryption key (made before drafts were shared).
fn opening_keys(p: &Profile, pass: &str) -> anyhow::Result<Option<spokes_core::seal::OpeningKeys>> {
    match p.identity()?.opening_keys(pass) {
        Ok(o) => Ok(Some(o)),
        Err(spokes_core::identity::IdentityError::OpenPgp(e)) => {
            eprintln!("Drafts stay on this computer: {e}");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Reports a drafts exchange (one that failed does not stop a publish: the app's rule too).
fn report_drafts(drafts: Option<Result<spokes_writer::drafts_sync::DraftsSummary, String>>) {
    match drafts {
        Some(Ok(s)) => {
            for problem in &s.problems {
                eprintln!("Drafts: {problem}");
            }
            if s.devices_merged > 0 {
                println!("Took in the drafts of {} other computer(s)", s.devices_merged);
            }
        }
        Some(Err(e)) => eprintln!("Drafts were not exchanged: {e}"),
        None => {}
    }
}

/// A writer session over the profile in `dir`, unlocked with the passphrase; with the keys
/// for drafts when `drafts`.
fn session(cli: &Cli, dir: &Path, drafts: bool) -> anyhow::Result<WriterSession> {
    let p = Profile::open(dir)?;
    let pass = passphrase(cli, false)?;
    let key = p.unlock(&pass)?;
    let opening = if drafts && !p.spokes().is_empty() { opening_keys(&p, &pass)? } else { None };
    let targets = p.targets();
    Ok(WriterSession::new(p, key, opening, targets, None))
}

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::try_from_env("SPOKES_LOG").unwrap_or_else(|_| "error,automerge=off".into())).with_writer(std::io::stderr).init();
    let cli = Cli::parse();
    let dir = cli.profile.clone().unwrap_or_else(spokes_writer::default_profile_dir);
    if Profile::needs_upgrade(&dir) {
        // The first open after an update moves the drafts to one document per post.
        eprintln!("Getting your blog ready for this version of Spokes (once; a minute for a blog of thousands of posts)…");
    }
    let mut exit = std::process::ExitCode::SUCCESS;
    match &cli.cmd {
        Cmd::Init { name, key, title, description, language, handle } => {
            let settings = BlogSettings { title: title.clone(), description: description.clone(), language: language.clone(), handle: handle.clone(), name: None, domain: None };
            let p = match (key, name) {
                (Some(key), _) => {
                    let bytes = std::fs::read(key).with_context(|| format!("could not read {}", key.display()))?;
                    let pass = passphrase(&cli, false)?;
                    Profile::create_from_secret_key(&dir, &bytes, &pass, &settings)?
                }
                (None, name) => {
                    let pass = passphrase(&cli, true)?;
                    spokes_writer::check_new_passphrase(&pass)?;
                    Profile::create(&dir, name.as_deref().unwrap_or_default(), &pass, &settings)?
                }
            };
            println!("Created your identity and blog in {}", dir.display());
            println!("Fingerprint: {}", p.fingerprint());
            println!("Blog ID:     {}", p.blog_id());
        }
        Cmd::Import { paths } => {
            let p = Profile::open(&dir)?;
            let report = p.import(paths)?;
            for i in &report.posts {
                for w in &i.warnings {
                    eprintln!("{}: {w}", i.source.display());
                }
            }
            for s in &report.skipped {
                match &s.item {
                    Some(item) => eprintln!("{}: {item}: skipped, {}", s.path.display(), s.reason.sentence()),
                    None => eprintln!("{}: skipped, {}", s.path.display(), s.reason.sentence()),
                }
            }
            let pictures = match report.pictures {
                0 => String::new(),
                1 => " and 1 picture".to_owned(),
                n => format!(" and {n} pictures"),
            };
            let skipped = match report.skipped.len() {
                0 => String::new(),
                n if report.skipped.iter().any(|s| s.item.is_some()) => format!("; skipped {n} entries that are not posts"),
                n => format!("; skipped {n} files that are not posts"),
            };
            println!("Imported {} posts as drafts{pictures}{skipped}", report.posts.len());
        }
        Cmd::New { title, body, body_file, tags } => {
            let p = Profile::open(&dir)?;
            let body = read_body(body.clone(), body_file.clone())?.unwrap_or_default();
            let post = p.new_post(title, &body, tags)?;
            println!("{}", post.id);
        }
        Cmd::Edit { id, title, body, body_file, slug } => {
            let p = Profile::open(&dir)?;
            let mut post = p.draft(id)?.with_context(|| format!("there is no post {id}"))?;
            if let Some(t) = title {
                post.title = t.clone();
            }
            if let Some(b) = read_body(body.clone(), body_file.clone())? {
                post.body = b;
            }
            if let Some(s) = slug {
                post.slug = spokes_core::doc::slugify(s);
            }
            p.update_post(&post)?;
            println!("Saved");
        }
        Cmd::List { json } => {
            let p = Profile::open(&dir)?;
            let posts = match p.posts() {
                Ok(posts) => posts,
                Err(e) => return Err(e.into()),
            };
            if *json {
                println!("{}", serde_json::to_string_pretty(&posts)?);
            } else {
                for s in posts {
                    let state = if !s.published { "draft" } else if s.changed_since_published { "changed" } else { "published" };
                    println!("{}  {:9}  {}  {}", s.post.id, state, s.post.date.format("%Y-%m-%d"), s.post.title);
                }
            }
        }
        Cmd::Publish { ids, offline } => {
            let w = session(&cli, &dir, !offline)?;
            let ids = if ids.is_empty() { None } else { Some(ids.as_slice()) };
            let done = w.publish(ids, *offline).await?;
            report_drafts(done.drafts);
            println!("Signed {} posts", done.signed);
            let summary = print_status(w.profile(), false)?;
            if !offline {
                exit = delivery_exit(&summary);
            }
        }
        Cmd::Unpublish { id, offline } => {
            let w = session(&cli, &dir, false)?;
            if !w.unpublish(id, *offline).await?.0 {
                println!("It was not published.");
            }
            let summary = print_status(w.profile(), false)?;
            if !offline {
                exit = delivery_exit(&summary);
            }
        }
        Cmd::Delete { id } => {
            Profile::open(&dir)?.delete_post(id)?;
            println!("Moved to the bin. `spokes undelete {id}` takes it back.");
        }
        Cmd::Undelete { id } => {
            Profile::open(&dir)?.undo_delete(id)?;
            println!("Taken back out of the bin.");
        }
        Cmd::Image { file, alt } => {
            let bytes = std::fs::read(file).with_context(|| format!("could not read {}", file.display()))?;
            let name = Profile::open(&dir)?.add_image(&bytes)?;
            println!("{}", spokes_core::image::markdown_link(&name, alt));
        }
        Cmd::Sync { published_only } => {
            let p = Profile::open(&dir)?;
            if p.is_set() || !spokes_writer::workflow::layout_held() {
                // Taking in other computers' publishes and publishing scheduled posts whose
                // date came both sign, and so does moving a version 1 blog to a set: the
                // passphrase is needed.
                session(&cli, &dir, true)?.sync().await?;
            } else {
                p.sync_with(&p.targets()).await?;
            }
            if !published_only {
                let w = session(&cli, &dir, true)?;
                report_drafts(w.exchange_drafts().await);
                // Posts published at once on two computers: the merged drafts settle them.
                let done = w.publish(Some(&[]), true).await?;
                if done.republished {
                    println!("Published {} posts again with the edits of both computers", done.signed);
                    w.sync().await?;
                }
            }
            exit = delivery_exit(&print_status(&p, false)?);
        }
        Cmd::Upgrade { offline } => {
            let w = session(&cli, &dir, !offline)?;
            let moved = w.upgrade(*offline).await?;
            println!("Your blog is kept as one document per post now ({moved} published posts moved).");
            let summary = print_status(w.profile(), false)?;
            if !offline {
                exit = delivery_exit(&summary);
            }
        }
        Cmd::Spoke { cmd } => {
            let mut p = Profile::open(&dir)?;
            match cmd {
                SpokeCmd::Add { ticket } => {
                    let e = p.add_spoke(ticket)?;
                    println!("Added spoke {} ({}). Run `spokes publish` to publish to it.", e.name.unwrap_or_default(), e.endpoint);
                }
                SpokeCmd::List => {
                    for s in p.spokes() {
                        println!("{}  {}  {}", s.endpoint, s.addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(","), s.name.clone().unwrap_or_default());
                    }
                }
                SpokeCmd::Remove { endpoint } => {
                    if !p.remove_spoke(endpoint)? {
                        bail!("no spoke {endpoint}");
                    }
                    println!("Removed");
                }
            }
        }
        Cmd::Name { cmd } => match cmd {
            NameCmd::Show => match Profile::open(&dir)?.settings()?.name {
                Some(b) => println!("{}", b.fqdn()),
                None => println!("Your blog has no name yet: `spokes name claim NAME` gives it one."),
            },
            NameCmd::Claim { name } => {
                let w = session(&cli, &dir, false)?;
                match w.claim_name(name).await {
                    Ok(spokes_writer::naming::NameClaim::Yours { fqdn }) => println!("Your blog's name is {fqdn}: readers find it there on whichever of your spokes is up."),
                    Ok(spokes_writer::naming::NameClaim::Taken { fqdn, alternatives }) => {
                        eprintln!("{fqdn} is already another blog's name.");
                        if !alternatives.is_empty() {
                            eprintln!("These are free: {}", alternatives.join(", "));
                        }
                        exit = EXIT_NAME_TAKEN.into();
                    }
                    Err(e) => bail!("[{}] {e}", e.code()),
                }
            }
            NameCmd::Domain { domain, remove } => {
                let w = session(&cli, &dir, false)?;
                if *remove {
                    match w.remove_domain().await {
                        Ok(Some(d)) => println!("Your spokes no longer serve your blog at {d}. You may remove its records."),
                        Ok(None) => println!("Your blog has no domain of its own."),
                        Err(e) => bail!("[{}] {e}", e.code()),
                    }
                } else {
                    let d = w.set_domain(domain.as_deref().unwrap_or_default()).await.map_err(|e| anyhow::anyhow!("[{}] {e}", e.code()))?;
                    let proof: Vec<String> = d.proof.iter().map(|s| format!("\"{s}\"")).collect();
                    println!("To serve your blog at {}, add these two records where that domain's DNS is kept:", d.domain);
                    println!("  {}.  CNAME  {}.", d.domain, d.cname);
                    println!("  {}.  TXT  {}", d.proof_name, proof.join(" "));
                    println!("Your spokes serve it there as soon as they find the second record.");
                }
            }
            NameCmd::Release => {
                let w = session(&cli, &dir, false)?;
                match w.release_name().await {
                    Ok(fqdn) => println!("{fqdn} is no longer your blog's name."),
                    Err(e) => bail!("[{}] {e}", e.code()),
                }
            }
        },
        Cmd::Status { json } => {
            let p = Profile::open(&dir)?;
            print_status(&p, *json)?;
        }
        Cmd::Verify => {
            let p = Profile::open(&dir)?;
            let (changes, statements) = p.verify()?;
            println!("Verified: all {changes} revisions are covered by {statements} valid signed statements from {}", p.fingerprint());
        }
        Cmd::Export { file } => {
            let p = Profile::open(&dir)?;
            let m = p.export_archive(file)?;
            println!("Wrote {} ({} published posts, {} signed statements)", file.display(), m.posts, m.statements);
        }
        Cmd::ExportSite { dir: out } => {
            let p = Profile::open(&dir)?;
            let n = p.export_site(out)?;
            println!("Wrote {n} files to {}; open index.html or upload the folder to any web host", out.display());
        }
        Cmd::RecoveryFile { file } => {
            let p = Profile::open(&dir)?;
            let bytes = p.recovery_file()?;
            spokes_writer::fsutil::write_atomic(file, &bytes).with_context(|| format!("could not write {}", file.display()))?;
            println!("Wrote your recovery file to {}. Keep it somewhere safe, away from this computer.", file.display());
        }
        Cmd::Restore { recovery, archive, spoke } => {
            let bytes = std::fs::read(recovery).with_context(|| format!("could not read {}", recovery.display()))?;
            let r = spokes_writer::recovery::RecoveryFile::parse(&bytes)?;
            let pass = passphrase(&cli, false)?;
            let p = match archive {
                Some(a) => Profile::restore_from_archive(&dir, a, &r, &pass)?,
                None => {
                    let target = match spoke {
                        Some(t) => {
                            let t = spokes_sync::Ticket::decode(t)?;
                            Some(spokes_writer::SpokeTarget { endpoint: t.endpoint, addrs: t.addrs, token: None, name: t.name, relay: t.relay })
                        }
                        None => None,
                    };
                    Profile::restore_from_spoke(&dir, &r, &pass, target).await?
                }
            };
            let posts = p.posts()?;
            println!("Restored {} ({} posts) into {}. This computer signs with a new key of its own.", p.blog_id(), posts.len(), dir.display());
            if !p.spokes().is_empty() {
                p.sync_with(&p.targets()).await?;
                print_status(&p, false)?;
            }
        }
        Cmd::Device { cmd: DeviceCmd::Join { code, name } } => {
            let pass = passphrase(&cli, false)?;
            let p = Profile::pair_join(&dir, code, &pass, name.as_deref()).await?;
            println!("This computer now writes for {} ({} posts). It signs with a key of its own.", p.name(), p.posts()?.len());
        }
        Cmd::Device { cmd } => {
            let p = Profile::open(&dir)?;
            match cmd {
                DeviceCmd::Join { .. } => {} // handled above, before a profile exists
                DeviceCmd::Pair { wait_minutes } => {
                    let pass = passphrase(&cli, false)?;
                    let listener = p.pair_listen(&pass).await?;
                    println!("Pairing code: {}", listener.code());
                    if let Some(qr) = listener.qr_text() {
                        println!("{qr}");
                    }
                    println!("On the other computer run: spokes device join <code>   (waiting {wait_minutes} minutes)");
                    use std::io::Write;
                    let _ = std::io::stdout().flush();
                    let (name, key) = p.pair_wait(listener, &pass, std::time::Duration::from_secs(wait_minutes * 60)).await?;
                    println!("Paired with {name}; it signs with {key}.");
                }
                DeviceCmd::List { json } => {
                    let devices = p.devices()?;
                    if *json {
                        println!("{}", serde_json::to_string_pretty(&devices)?);
                    } else {
                        for d in devices {
                            let when = |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default();
                            let mut line = format!("{}  {}  added {}", d.fingerprint, d.name.clone().unwrap_or_else(|| if d.primary { "main key".into() } else { "unnamed".into() }), when(d.created_at));
                            if Some(d.fingerprint.as_str()) == p.device_key() {
                                line.push_str("  (this computer)");
                            }
                            if let Some(t) = d.revoked_at {
                                let how = if d.lost { "lost or stolen, removed" } else { "removed" };
                                line.push_str(&format!("  {how} {} ({})", when(t), d.revocation_reason.unwrap_or_default()));
                            }
                            println!("{line}");
                        }
                    }
                }
                DeviceCmd::Lost { fingerprint, keep, keep_none, reason } => {
                    let publishes = p.device_publishes(fingerprint)?;
                    if keep.is_none() && !keep_none {
                        let when = |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default();
                        if publishes.is_empty() {
                            println!("That computer published nothing this computer knows of.");
                        } else {
                            println!("What that computer published, in the order this computer received it (dates as the computer wrote them):");
                        }
                        for (n, d) in publishes.iter().enumerate() {
                            println!("  {:>3}  {}  {}", n + 1, when(d.signed_at), if d.titles.is_empty() { "(settings)".to_owned() } else { d.titles.join(", ") });
                        }
                        println!("Run again with --keep N (the last publish you made yourself) or --keep-none.");
                        return Ok(std::process::ExitCode::SUCCESS);
                    }
                    let index = match keep {
                        None => None,
                        Some(n) => Some(publishes.get(n.wrapping_sub(1)).map(|d| d.index).ok_or_else(|| anyhow::anyhow!("there is no publish number {n}: that computer made {} (see the list without --keep)", publishes.len()))?),
                    };
                    let pass = passphrase(&cli, false)?;
                    let report = p.device_lost(&pass, fingerprint, index, reason)?;
                    println!(
                        "Removed for good: nothing that computer signed counts any more{}. {} of its publishes no longer count; {} changes left your blog.",
                        if index.is_some() { ", except what you kept, which this computer signed again" } else { "" },
                        report.voided_publishes,
                        report.dropped_changes
                    );
                    p.sync_with(&p.targets()).await?;
                    print_status(&p, false)?;
                }
                DeviceCmd::Remove { fingerprint, reason } => {
                    let pass = passphrase(&cli, false)?;
                    p.remove_device(&pass, fingerprint, reason)?;
                    println!("Removed. Revisions it signed before stay valid; spokes refuse what it signs from now on.");
                    p.sync_with(&p.targets()).await?;
                    print_status(&p, false)?;
                }
            }
        }
        Cmd::Key { cmd } => {
            let mut p = Profile::open(&dir)?;
            let pass = passphrase(&cli, false)?;
            match cmd {
                KeyCmd::Replace => {
                    let new = p.replace_device_key(&pass)?;
                    println!("This computer now signs with {new}. Your fingerprint stays {}.", p.fingerprint());
                }
                KeyCmd::Expiry { days, never } => {
                    let when = if *never { None } else { days.map(|d| std::time::SystemTime::now() + std::time::Duration::from_secs(d * 86400)) };
                    p.set_expiry(&pass, when)?;
                    match p.certificate()?.expires_at().and_then(|t| chrono::DateTime::from_timestamp(t, 0)) {
                        Some(t) => println!("Your key now expires on {}.", t.format("%Y-%m-%d")),
                        None => println!("Your key now never expires."),
                    }
                }
            }
            p.sync_with(&p.targets()).await?;
        }
    }
    Ok(exit)
}
