//! `drafts-sync`: the writer's drafts between two computers through a spoke, by item
//! (`spokes/drafts/2`), on the generated blog of `large-blog` (`--large-posts`,
//! `--large-bytes`). The blog is imported and published with the `spokes` CLI to one fresh
//! `spoke` process; then, through the library as the app does: the first drafts exchange
//! (every post's document sealed and left), one with nothing changed, and one after one post
//! was edited (one item). A second computer is restored from the recovery file with the
//! CLI (it takes every item), then takes the edit of one more post (one item). Reported beside:
//! the drafts' files, which the earlier protocol sent whole in one frame of at most 16 MiB.

use crate::Opts;
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use spokes_core::edit::Splice;
use spokes_e2e::{PASS, SpokeProc, spokes_ok};
use std::time::Instant;

pub fn drafts_sync(work: &std::path::Path, o: &Opts) -> Result<Value> {
    let tmp = tempfile::tempdir_in(work)?;
    let site = tmp.path().join("old-blog");
    let generated = spokes_e2e::genblog::write_zola_site(&site, &spokes_e2e::genblog::Options { posts: o.large_posts, markdown_bytes: o.large_bytes, ..Default::default() })?;
    let mut spoke = SpokeProc::init(&tmp.path().join("spoke"), "Drafts spoke");
    let ticket = spoke.invite();
    spoke.start_with("spoke", &[], &crate::large::QUIET);
    let desk = tmp.path().join("desk");
    spokes_ok(&desk, PASS, &["init", "--name", "Bench Writer", "--title", "A real blog"]);
    spokes_ok(&desk, PASS, &["spoke", "add", &ticket]);
    spokes_ok(&desk, PASS, &["import", site.to_str().context("utf8")?]);
    // Signed, then sent without the drafts (which the timed exchanges below leave).
    spokes_ok(&desk, PASS, &["publish", "--offline"]);
    spokes_ok(&desk, PASS, &["sync", "--published-only"]);
    let drafts_files = crate::memory::folder_bytes(&desk.join("drafts"));

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let profile = spokes_writer::Profile::open(&desk)?;
    let mut key = profile.unlock(PASS)?;
    let opening = profile.identity()?.opening_keys(PASS)?;
    let targets = profile.targets();
    let exchange = |p: &spokes_writer::Profile, key: &mut spokes_core::SigningKey| -> Result<(f64, spokes_writer::drafts_sync::DraftsSummary)> {
        let t = Instant::now();
        let s = rt.block_on(p.sync_drafts(key, &opening, &targets))?;
        if !s.problems.is_empty() {
            bail!("the drafts exchange had problems: {:?}", s.problems);
        }
        Ok((t.elapsed().as_secs_f64() * 1000.0, s))
    };
    let (first_ms, first) = exchange(&profile, &mut key)?;
    if first.items_left != generated.len() + 1 {
        bail!("the first exchange left {} items for {} posts", first.items_left, generated.len());
    }
    let (unchanged_ms, unchanged) = exchange(&profile, &mut key)?;
    if unchanged.items_left != 0 {
        bail!("an exchange with nothing changed left {} items", unchanged.items_left);
    }
    let posts = profile.posts()?;
    let edited = &posts[posts.len() / 2].post.id;
    profile.edit_post(edited, None, &[Splice { pos: 0, delete: 0, insert: "An edit at the desk. ".into() }], None)?;
    let (edit_ms, edit) = exchange(&profile, &mut key)?;
    if edit.items_left != 1 {
        bail!("one edited post left {} items", edit.items_left);
    }

    // A second computer: restored from the recovery file, it takes every item.
    let recovery = tmp.path().join("recovery.json");
    spokes_ok(&desk, PASS, &["recovery-file", recovery.to_str().context("utf8")?]);
    let laptop_dir = tmp.path().join("laptop");
    let t = Instant::now();
    spokes_ok(&laptop_dir, PASS, &["restore", "--recovery", recovery.to_str().context("utf8")?]);
    let restore_s = t.elapsed().as_secs_f64();
    let laptop = spokes_writer::Profile::open(&laptop_dir)?;
    if laptop.posts()?.len() != posts.len() {
        bail!("the restored computer lists {} drafts of {}", laptop.posts()?.len(), posts.len());
    }
    if !laptop.draft(edited)?.is_some_and(|p| p.body.starts_with("An edit at the desk. ")) {
        bail!("the restored computer lacks the desk's edit");
    }
    // One more edit at the desk reaches the laptop as one item.
    let other = &posts[posts.len() / 3].post.id;
    profile.edit_post(other, None, &[Splice { pos: 0, delete: 0, insert: "Another edit. ".into() }], None)?;
    exchange(&profile, &mut key)?;
    let mut laptop_key = laptop.unlock(PASS)?;
    let (take_ms, take) = exchange(&laptop, &mut laptop_key)?;
    if take.items_taken != 1 || !laptop.draft(other)?.is_some_and(|p| p.body.starts_with("Another edit. ")) {
        bail!("the laptop took {} items for one edit", take.items_taken);
    }
    let db = rusqlite::Connection::open(spoke.data.join("spoke.db"))?;
    let (items, sealed): (i64, i64) = db.query_row("SELECT count(*), coalesce(sum(length(sealed)), 0) FROM draft_items", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    spoke.stop();
    Ok(json!({
        "posts": generated.len(),
        "markdown_bytes": generated.iter().map(|p| p.bytes).sum::<usize>(),
        "build": "the spoke and spokes programs of the dev build; exchanges through the library in this process",
        "drafts_files_bytes": drafts_files,
        "frame_limit_bytes": spokes_sync::frame::MAX_FRAME_LEN,
        "first_exchange_ms": first_ms,
        "first_items_left": first.items_left,
        "first_bytes_left": first.bytes_left,
        "unchanged_exchange_ms": unchanged_ms,
        "one_edit_exchange_ms": edit_ms,
        "one_edit_bytes_left": edit.bytes_left,
        "restore_second_computer_s": restore_s,
        "second_computer_takes_one_edit_ms": take_ms,
        "spoke_items": items,
        "spoke_sealed_bytes": sealed,
        "goal": {"what": "drafts of the whole blog reach a second computer, and one edited post moves as one item", "met": true},
    }))
}
