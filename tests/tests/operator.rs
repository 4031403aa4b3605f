//! What a spoke operator does, on real spoke processes: admit writers by expiring invites or
//! in open mode within quotas, refuse new writers when disk runs low, suspend and drop blogs,
//! block a spoke, list blogs with their sizes, scrape metrics and run the self-test.

use spokes_e2e::*;
use std::time::Duration;

fn said(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn invites_expire_open_mode_admits_within_quotas_and_low_disk_refuses_newcomers() {
    let tmp = tempfile::tempdir().unwrap();
    let mut spoke = SpokeProc::init(&tmp.path().join("spoke"), "Quota Spoke");
    spoke.configure(|c| {
        c.admission.mode = spoke::config::AdmissionMode::Open;
        c.admission.max_posts = 2;
    });
    spoke.start();

    // An invite that expired is refused, with a sentence the writer understands.
    let expired = spoke.admin(&["invite", "--days", "0"]);
    let w0 = tmp.path().join("w0");
    spokes_ok(&w0, PASS, &["init", "--name", "Late", "--title", "Late"]);
    spokes_ok(&w0, PASS, &["spoke", "add", expired.trim()]);
    let out = spokes(&w0, PASS, &["publish"]);
    assert!(said(&out).contains("did not accept the invite"), "{}", said(&out));

    // Open mode: a ticket without an invite is enough.
    let ticket = spoke.admin(&["ticket"]);
    assert_eq!(spokes_sync::Ticket::decode(ticket.trim()).unwrap().token, None);
    let w = tmp.path().join("w");
    spokes_ok(&w, PASS, &["init", "--name", "Open", "--title", "Open Door"]);
    spokes_ok(&w, PASS, &["spoke", "add", ticket.trim()]);
    spokes_ok(&w, PASS, &["new", "--title", "One", "--body", "1"]);
    spokes_ok(&w, PASS, &["new", "--title", "Two", "--body", "2"]);
    let out = spokes_ok(&w, PASS, &["publish"]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");
    let blog = spokes_writer::Profile::open(&w).unwrap().blog_id().to_string();
    // The quota: two posts per blog.
    spokes_ok(&w, PASS, &["new", "--title", "Three", "--body", "3"]);
    let out = spokes_exit(&w, PASS, &["publish"], 4);
    assert!(out.contains("grown past what this spoke allows"), "{out}");
    assert_eq!(spoke.json(&format!("/api/v1/blogs/{blog}"))["posts"].as_array().unwrap().len(), 2);
    assert!(spoke.admin(&["refusals"]).contains("quota"));

    // A refusal at the end of a session leaves nothing behind that would spoil the next one:
    // asked again, the spoke gives the same reason (not a failed signature check).
    let out = spokes_exit(&w, PASS, &["sync", "--published-only"], 4);
    assert!(out.contains("grown past what this spoke allows"), "{out}");
    // Taking the third post down again brings the blog back within the quota: posts count
    // while published (the unpublished one stays in the signed history).
    let third = spokes_writer::Profile::open(&w).unwrap().posts().unwrap().into_iter().find(|s| s.post.title == "Three").unwrap().post.id;
    let out = spokes_ok(&w, PASS, &["unpublish", &third]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");
    let posts = spoke.json(&format!("/api/v1/blogs/{blog}"))["posts"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>();
    assert!(posts.len() == 2 && !posts.contains(&"Three".to_owned()), "{posts:?}");

    // Low on disk: no new writer, but the blogs already here go on; and at most three syncs
    // an hour per blog (the rate quota).
    spoke.stop();
    spoke.configure(|c| {
        c.admission.min_free_bytes = u64::MAX;
        c.admission.max_sessions_per_hour = 3;
    });
    spoke.start();
    let w2 = tmp.path().join("w2");
    spokes_ok(&w2, PASS, &["init", "--name", "New", "--title", "Newcomer"]);
    spokes_ok(&w2, PASS, &["spoke", "add", spoke.invite().trim()]);
    let out = spokes(&w2, PASS, &["publish"]);
    assert!(said(&out).contains("short of disk space"), "{}", said(&out));
    assert_eq!(out.status.code(), Some(4), "no spoke took the blog: the exit status says so");
    for _ in 0..3 {
        let out = spokes_ok(&w, PASS, &["sync", "--published-only"]);
        assert!(out.contains("Published to 1 of 1 spoke") && !out.contains("short of disk space"), "{out}");
    }
    let first = spokes_writer::Profile::open(&w).unwrap().posts().unwrap().into_iter().find(|s| s.post.title == "One").unwrap().post.id;
    spokes_ok(&w, PASS, &["edit", &first, "--body", "One, revised."]);
    let out = spokes_exit(&w, PASS, &["publish"], 4);
    assert!(out.contains("it will take the rest later"), "a publish after three syncs in an hour: {out}");
    assert!(spoke.admin(&["refusals"]).contains("rate-limited"));
    // The self-test says what is wrong, and fails.
    let out = std::process::Command::new(bin("spoke")).arg("--data").arg(&spoke.data).arg("self-test").output().unwrap();
    let test = said(&out);
    assert!(!out.status.success(), "{test}");
    assert!(test.contains("✗ disk") && test.contains("✓ reader site") && test.contains("✓ sync endpoint") && test.contains("✓ council endpoint"), "{test}");
}

#[test]
fn suspend_drop_and_block_with_sizes_metrics_and_a_self_test() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut spokes, w, blog) = network(tmp.path(), 2);
    spokes_ok(&w, PASS, &["new", "--title", "Moderated", "--body", "Words to keep or to drop."]);
    spokes_ok(&w, PASS, &["publish"]);
    let a = &spokes[0];
    let path = format!("/b/{blog}/posts/moderated");
    assert_eq!(a.get(&path).0, 200);

    // Readers of either spoke are told where else the blog lives (the author's signed list),
    // in the post page and in the feed.
    let other = format!("http://{}/b/{blog}/posts/moderated", spokes[1].http);
    assert!(a.get(&path).1.contains(&other), "the post page does not list the other spoke");
    let feed = a.get(&format!("/b/{blog}/feed.atom")).1;
    assert!(feed.contains(&format!("href=\"http://{}/b/{blog}/feed.atom\" rel=\"related\"", spokes[1].http)) || feed.contains(&format!("rel=\"related\" href=\"http://{}/b/{blog}/feed.atom\"", spokes[1].http)), "{feed}");

    // The search index is a cache: deleted, it is rebuilt at the next start.
    assert!(wait_until(Duration::from_secs(5), || a.json("/api/v1/search?q=drop")["results"].as_array().unwrap().len() == 1), "not searchable");
    spokes[0].stop();
    spokes[0].admin(&["reindex"]);
    assert!(!spokes[0].data.join("search-v1").exists());
    spokes[0].start();
    let a = &spokes[0];
    assert!(wait_until(Duration::from_secs(10), || a.json("/api/v1/search?q=drop")["results"].as_array().unwrap().len() == 1), "the index was not rebuilt");

    // Sizes, largest first.
    let listed = a.admin(&["blogs"]);
    assert!(listed.contains(&blog) && listed.contains("hosted") && listed.contains("1 blogs"), "{listed}");
    // The same for scripts and monitoring, as JSON.
    let listed: serde_json::Value = serde_json::from_str(&a.admin(&["blogs", "--json"])).expect("blogs --json is JSON");
    assert_eq!((listed[0]["blog_id"].as_str(), listed[0]["kind"].as_str(), listed[0]["status"].as_str()), (Some(blog.as_str()), Some("hosted"), Some("active")), "{listed}");
    assert!(listed[0]["bytes"].as_i64().is_some_and(|b| b > 0), "{listed}");
    let council: serde_json::Value = serde_json::from_str(&a.admin(&["council", "members", "--json"])).expect("council members --json is JSON");
    assert_eq!(council["council"], serde_json::Value::Null, "{council}");
    // Ready: the database answers and there is no council to belong to.
    let (code, ready) = a.get("/ready");
    assert_eq!(code, 200, "{ready}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&ready).expect("JSON")["database"], "ok");

    // Suspend: gone from readers and refused to writers within a second or two; resume.
    let bundle = format!("/b/{blog}/bundle.json");
    assert_eq!(a.get(&bundle).0, 200);
    a.admin(&["blog", "suspend", &blog]);
    assert!(wait_until(Duration::from_secs(5), || a.get(&path).0 == 404), "still served after suspending");
    // Attack 13 of the hostile-peers issue: nor downloadable whole through the bundle.
    assert_eq!(a.get(&bundle).0, 404, "a suspended blog's bundle was served");
    let out = spokes_exit(&w, PASS, &["sync", "--published-only"], 3);
    assert!(out.contains("suspended this blog"), "{out}");
    let refusals: serde_json::Value = serde_json::from_str(&a.admin(&["refusals", "--json"])).expect("refusals --json is JSON");
    assert!(refusals.as_array().expect("an array").iter().any(|r| r["code"] == "suspended" && r["blog_id"] == blog.as_str()), "{refusals}");
    a.admin(&["blog", "resume", &blog]);
    assert!(wait_until(Duration::from_secs(5), || a.get(&path).0 == 200), "not served after resuming");

    // Block the other spoke: its sessions are no longer answered.
    let b_id = spokes[1].endpoint_id();
    a.admin(&["peer", "block", &b_id, "--reason", "testing"]);
    assert!(a.admin(&["peer", "list"]).contains(&b_id));
    let peers: serde_json::Value = serde_json::from_str(&a.admin(&["peer", "list", "--json"])).expect("peer list --json is JSON");
    assert_eq!((peers[0]["endpoint"].as_str(), peers[0]["reason"].as_str()), (Some(b_id.as_str()), Some("testing")), "{peers}");
    spokes_ok(&w, PASS, &["edit", &spokes_writer::Profile::open(&w).unwrap().posts().unwrap()[0].post.id, "--body", "Edited only on the second spoke."]);
    spokes_ok(&w, PASS, &["publish", "--offline"]);
    // Only spoke 1 gets it from the writer (spoke 0 is removed from the writer's list) and
    // spoke 1 cannot replicate it to the blocked-off spoke 0.
    spokes_ok(&w, PASS, &["spoke", "remove", &a.endpoint_id()]);
    spokes_ok(&w, PASS, &["sync", "--published-only"]);
    std::thread::sleep(Duration::from_secs(3));
    assert!(!a.get(&path).1.contains("Edited only"), "a blocked spoke's replication was taken");
    a.admin(&["peer", "unblock", &b_id]);
    assert!(wait_until(Duration::from_secs(10), || a.get(&path).1.contains("Edited only")), "replication did not resume after unblocking");

    // Drop: deleted, never taken again (the other spoke's replication is refused).
    a.admin(&["blog", "drop", &blog, "--reason", "spam"]);
    assert!(wait_until(Duration::from_secs(5), || a.get(&path).0 == 404));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(a.get(&path).0, 404, "a dropped blog came back");
    assert_eq!(a.get(&bundle).0, 404, "a dropped blog's bundle was served");
    assert!(!a.admin(&["blogs"]).contains(&blog));

    // Metrics count what happened.
    let (code, metrics) = a.metrics();
    assert_eq!(code, 200);
    for line in ["spoke_http_requests_total{code=\"404\"}", "spoke_http_request_duration_seconds_count", "spoke_build_info{version=", "spoke_sync_sessions_total{result=\"ok\"}", "spoke_blogs{kind=\"hosted\"} 0", "spoke_disk_free_bytes"] {
        assert!(metrics.contains(line), "{line} missing: {metrics}");
    }
    // On the operator's listener only: readers cannot see them.
    assert_eq!(a.get("/metrics").0, 404, "metrics on the reader site");
    let test = a.admin(&["self-test"]);
    assert!(test.contains("✓ database") && test.contains("✓ sync endpoint"), "{test}");
    spokes[1].stop();

    // SIGTERM, as systemd and containers stop a service: a clean exit, within seconds, and a
    // spoke that starts again as it was.
    let status = spokes[0].terminate(Duration::from_secs(15)).expect("the spoke stops within 15 s of SIGTERM");
    assert!(status.success(), "{status:?}");
    spokes[0].start();
    assert_eq!(spokes[0].get("/ready").0, 200);
    assert_eq!(spokes[0].get(&bundle).0, 404, "still dropped after the restart");
}

#[test]
fn a_ticket_that_reaches_this_machine_only_says_so_and_public_addrs_fix_it() {
    let tmp = tempfile::tempdir().unwrap();
    let spoke = SpokeProc::init(&tmp.path().join("spoke"), "Home Spoke");
    let ticket = |args: &[&str]| {
        let out = std::process::Command::new(bin("spoke")).arg("--data").arg(&spoke.data).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8_lossy(&out.stdout).trim().to_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    for args in [&["ticket"][..], &["invite"], &["council", "invite"]] {
        let (printed, note) = ticket(args);
        assert!(!printed.contains(' ') && !printed.is_empty(), "only the ticket on standard output: {printed}");
        assert!(note.contains("reaches this machine only") && note.contains("public_addrs"), "spoke {args:?}: {note:?}");
    }
    spoke.configure(|c| c.public_addrs = vec!["203.0.113.5:7080".parse().unwrap()]);
    let (printed, note) = ticket(&["ticket"]);
    assert_eq!(spokes_sync::Ticket::decode(&printed).unwrap().addrs, vec!["203.0.113.5:7080".parse::<std::net::SocketAddr>().unwrap()]);
    assert!(!note.contains("reaches this machine only"), "{note}");
}

/// An invite as a link (`spoke invite --link`, issue 22 "getting online without a ticket in
/// sight"): its page on the reader site has the button that opens the app (`spokes:TICKET`) and
/// the invitation to copy, is never cached or indexed and sends no referrer; the link's ticket
/// admits the writer. Links that hold no invite of this spoke (another spoke's, garbage, markup)
/// get no page and are not echoed.
#[test]
fn an_invite_link_opens_a_page_with_the_button_and_only_for_this_spokes_invites() {
    let tmp = tempfile::tempdir().unwrap();
    let mut spoke = SpokeProc::init(&tmp.path().join("spoke"), "Harbour");
    let other = SpokeProc::init(&tmp.path().join("other"), "Elsewhere");
    spoke.start();
    let link = spoke.admin(&["invite", "--link"]).trim().to_owned();
    let web = format!("http://{}", spoke.http);
    let ticket = link.strip_prefix(&format!("{web}/join?t=")).unwrap_or_else(|| panic!("a link on the reader site: {link}"));
    assert!(ticket.starts_with("spokes1"), "{link}");

    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut r = agent.get(&link).call().expect("GET the invite page");
    assert_eq!(r.status().as_u16(), 200);
    for (name, want) in [("cache-control", "no-store"), ("referrer-policy", "no-referrer"), ("x-robots-tag", "noindex")] {
        assert_eq!(r.headers().get(name).and_then(|v| v.to_str().ok()), Some(want), "{name}");
    }
    let page = r.body_mut().read_to_string().expect("page");
    assert!(page.contains(&format!("href=\"spokes:{ticket}\"")), "the button opens the app with the invite: {page}");
    assert!(page.contains("Open in Spokes") && page.contains("Harbour"), "{page}");
    assert!(page.contains(&format!(">{ticket}</textarea>")), "the invitation to copy: {page}");

    let theirs = other.invite();
    for bad in [format!("{web}/join"), format!("{web}/join?t={theirs}"), format!("{web}/join?t=spokes1zzzz"), format!("{web}/join?t=%3Cscript%3Ealert(1)%3C/script%3E")] {
        let (code, body) = http_get(&bad);
        assert_eq!(code, 404, "{bad}: {body}");
        assert!(!body.contains("<script") && !body.contains(&theirs), "nothing of the link is echoed: {body}");
    }

    // The ticket of the link admits the writer.
    let w = tmp.path().join("w");
    spokes_ok(&w, PASS, &["init", "--name", "Linked", "--title", "Linked"]);
    spokes_ok(&w, PASS, &["spoke", "add", ticket]);
    spokes_ok(&w, PASS, &["new", "--title", "By link", "--body", "Came in through the page."]);
    spokes_ok(&w, PASS, &["publish"]);
}
