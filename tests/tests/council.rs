//! The council end to end: five real spoke processes on 127.0.0.1 in two tiers form one
//! network. Membership spreads by itself, a post published to one spoke shows in the newest
//! posts and in search on every spoke within a stated bound, and a spoke killed again and again
//! while it replicates ends with nothing lost or duplicated. And on three spokes: a member cut
//! off while it was away learns it, and the votes spread though their casters' only upstream
//! was the member cut off; a member that moves announces its new address and is found again.
//! Every council here is formed by majority (`form_council`: proposed by the founder, approved
//! by the members until more than half did).

use spokes_e2e::*;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a post may take to reach every spoke. The longest path below is three pulls
/// (outer spoke → aggregator → aggregator → outer spoke); each waits at most one pull interval
/// (1 s) and then runs a sync session and a search commit (200 ms). Three hops take about
/// 4 s; the bound leaves room for a loaded two-core CI machine.
const SPREAD_BOUND: Duration = Duration::from_secs(20);

/// Five spokes: three outer ones (0, 1, 2) and two aggregators (3, 4). Pulls go
/// 3 ← {0, 1}, 4 ← {2, 3}, 0 ← 4, 1 ← 4, 2 ← 3: no spoke pulls from more than two, and
/// 3 ↔ 4 ↔ 0 form loops.
const UPSTREAMS: [&[usize]; 5] = [&[4], &[4], &[3], &[0, 1], &[2, 3]];

fn council(tmp: &Path) -> Vec<SpokeProc> {
    let names = ["Outer 0", "Outer 1", "Outer 2", "Aggregator 3", "Aggregator 4"];
    let mut spokes: Vec<SpokeProc> = names.iter().enumerate().map(|(i, n)| SpokeProc::init(&tmp.join(format!("spoke{i}")), n)).collect();
    let ids: Vec<String> = spokes.iter().map(SpokeProc::endpoint_id).collect();
    for (i, s) in spokes.iter().enumerate() {
        s.configure(|c| c.council.upstreams = UPSTREAMS[i].iter().map(|u| ids[*u].clone()).collect());
    }
    for s in &mut spokes {
        s.start();
    }
    // Spoke 0 founds the council and proposes each next spoke; the members approve each
    // newcomer until more than half did.
    form_council(&spokes);
    assert!(
        wait_until(SPREAD_BOUND, || spokes.iter().all(|s| s.json("/api/v1/council")["members"].as_array().map_or(0, |m| m.len()) == 5)),
        "the membership did not reach every spoke: {:?}",
        spokes.iter().map(|s| s.json("/api/v1/council")["members"].as_array().map_or(0, |m| m.len())).collect::<Vec<_>>()
    );
    spokes
}

/// A writer profile in `dir` whose blog is hosted on `spoke` only.
fn writer(dir: &Path, title: &str, spoke: &SpokeProc) -> (std::path::PathBuf, String) {
    spokes_ok(dir, PASS, &["init", "--name", "Writer", "--title", title]);
    spokes_ok(dir, PASS, &["spoke", "add", &spoke.invite()]);
    let blog = spokes_writer::Profile::open(dir).unwrap().blog_id().to_string();
    (dir.to_path_buf(), blog)
}

fn newest_titles(s: &SpokeProc) -> Vec<String> {
    s.json("/api/v1/newest").as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_owned()).collect()
}

fn search(s: &SpokeProc, q: &str) -> Vec<serde_json::Value> {
    let q = q.replace('%', "%25").replace(' ', "%20").replace('"', "%22").replace('&', "%26");
    s.json(&format!("/api/v1/search?q={q}&limit=50"))["results"].as_array().unwrap().clone()
}

#[test]
fn a_post_published_to_one_spoke_reaches_newest_and_search_on_all_five() {
    let tmp = tempfile::tempdir().unwrap();
    let spokes = council(tmp.path());
    let (w1, blog1) = writer(&tmp.path().join("w1"), "Harbour Notes", &spokes[0]);
    let (w2, blog2) = writer(&tmp.path().join("w2"), "Upland Diary", &spokes[2]);

    spokes_ok(&w1, PASS, &["new", "--title", "The lighthouse keepers", "--body", "They kept a jar of quokkamarmalade by the lamp, for the long nights."]);
    let published = Instant::now();
    let out = spokes_ok(&w1, PASS, &["publish"]);
    assert!(out.contains("Published to 1 of 1 spoke"), "{out}");
    let everywhere = |title: &str, word: &str| {
        spokes.iter().all(|s| newest_titles(s).iter().any(|t| t == title) && search(s, word).iter().any(|h| h["title"] == title))
    };
    assert!(wait_until(SPREAD_BOUND, || everywhere("The lighthouse keepers", "quokkamarmalade")), "the post did not reach every spoke within {SPREAD_BOUND:?}");
    eprintln!("a post reached the newest posts and search of all five spokes in {:?}", published.elapsed());

    spokes_ok(&w2, PASS, &["new", "--title", "Snow on the moor", "--body", "The sheep found the lee of the wall before we did."]);
    let published = Instant::now();
    spokes_ok(&w2, PASS, &["publish"]);
    assert!(wait_until(SPREAD_BOUND, || everywhere("Snow on the moor", "sheep")), "the second post did not reach every spoke within {SPREAD_BOUND:?}");
    eprintln!("a post from another tier reached all five spokes in {:?}", published.elapsed());

    // On spoke 1, which hosts neither blog, each post links to the spoke that hosts it, and
    // the search result carries a snippet with the matched word marked.
    let newest = spokes[1].json("/api/v1/newest");
    let item = newest.as_array().unwrap().iter().find(|p| p["title"] == "The lighthouse keepers").unwrap().clone();
    assert_eq!(item["blog_id"], blog1.as_str());
    assert_eq!(item["hosted_here"], false);
    assert_eq!(item["verified"], true);
    let url = item["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("http://{}/b/{blog1}/posts/", spokes[0].http)), "{url}");
    let (code, page) = http_get(url);
    assert_eq!(code, 200);
    assert!(page.contains("quokkamarmalade") && page.contains("Signatures verified"), "{page}");
    let hit = search(&spokes[1], "quokkamarmalade").remove(0);
    assert!(hit["snippet_html"].as_str().unwrap().contains("<b>quokkamarmalade</b>"), "{hit}");
    assert_eq!(hit["blog_id"], blog1.as_str());
    let item2 = newest.as_array().unwrap().iter().find(|p| p["title"] == "Snow on the moor").unwrap().clone();
    assert!(item2["url"].as_str().unwrap().starts_with(&format!("http://{}/b/{blog2}/", spokes[2].http)), "{item2}");

    // Every front page shows both, and its search page finds them; the blogs hosted here are
    // only the spoke's own.
    for (i, s) in spokes.iter().enumerate() {
        let (_, front) = s.get("/");
        assert!(front.contains("The lighthouse keepers") && front.contains("Snow on the moor"), "front page of spoke {i}");
        assert!(front.contains("One of 5 spokes of a council"), "front page of spoke {i}");
        let own = front.split("Blogs hosted here").nth(1).unwrap();
        assert_eq!(own.contains("Harbour Notes"), i == 0, "spoke {i}'s own blogs: {own}");
        let (_, results) = s.get("/search?q=lee+wall");
        assert!(results.contains("Snow on the moor") && results.contains("<b>lee</b>"), "search page of spoke {i}: {results}");
        let (code, metrics) = s.metrics();
        assert_eq!(code, 200);
        assert!(metrics.contains("spoke_council_members 5"), "{metrics}");
    }
    // An aggregator holds both blogs as council copies, and says so to its operator.
    let listed = spokes[4].admin(&["blogs"]);
    assert!(listed.contains(&blog1) && listed.contains(&blog2) && listed.contains("mirror"), "{listed}");
}

#[test]
fn a_spoke_killed_while_it_replicates_ends_with_nothing_lost_or_duplicated() {
    let tmp = tempfile::tempdir().unwrap();
    let mut spokes = council(tmp.path());
    let (w, blog) = writer(&tmp.path().join("w"), "Jekyll News", &spokes[0]);
    let out = spokes_ok(&w, PASS, &["import", corpus("jekyll-posts").to_str().unwrap()]);
    assert!(out.contains("Imported 102 posts"), "{out}");
    spokes_ok(&w, PASS, &["publish"]);
    // Aggregator 3 pulls the 102 posts from spoke 0; kill it (SIGKILL) three times while it
    // does, restarting it each time.
    for pause in [300, 500, 700] {
        std::thread::sleep(Duration::from_millis(pause));
        spokes[3].stop();
        std::thread::sleep(Duration::from_millis(100));
        spokes[3].start();
    }
    let expected = spokes[0].json(&format!("/api/v1/blogs/{blog}"));
    let changes = expected["verification"]["changes"].as_u64().unwrap();
    assert!(changes > 0);
    let complete = |s: &SpokeProc| {
        let (code, body) = s.get(&format!("/api/v1/blogs/{blog}"));
        if code != 200 {
            return false;
        }
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["verification"]["changes"].as_u64() == Some(changes) && v["posts"].as_array().map_or(0, |p| p.len()) == 102
    };
    assert!(wait_until(Duration::from_secs(60), || spokes.iter().all(complete)), "not every spoke ended with the whole blog");
    for (i, s) in spokes.iter().enumerate() {
        let v = s.json(&format!("/api/v1/blogs/{blog}"));
        let ids: std::collections::BTreeSet<&str> = v["posts"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 102, "spoke {i} holds a post twice");
        assert_eq!(v["verification"]["status"], "verified", "spoke {i}");
        let newest = s.json("/api/v1/newest");
        let keys: std::collections::BTreeSet<String> = newest.as_array().unwrap().iter().map(|p| format!("{}{}", p["blog_id"], p["post_id"])).collect();
        assert_eq!((newest.as_array().unwrap().len(), keys.len()), (20, 20), "spoke {i}: newest posts are 20 distinct posts");
    }
    // Search finds each post once on the aggregator that was killed (its index was written
    // while it was killed, too).
    let title = "Jekyll 3.7.0 Released";
    assert!(wait_until(Duration::from_secs(10), || search(&spokes[3], "\"Jekyll 3.7.0 Released\"").iter().filter(|h| h["title"] == title).count() == 1), "{:?}", search(&spokes[3], "\"Jekyll 3.7.0 Released\""));
    let all = search(&spokes[3], "jekyll");
    let keys: std::collections::BTreeSet<String> = all.iter().map(|h| format!("{}{}", h["blog_id"], h["post_id"])).collect();
    assert_eq!(keys.len(), all.len(), "a search result appears twice");
}

/// A member cut off while it was away learns it when it comes back: the members it pulls from
/// refuse it, but send the votes first. And the members that pulled only from it (their
/// configured upstream) turn to the others, so their own votes still spread.
#[test]
fn a_member_cut_off_while_away_learns_it_and_its_pullers_turn_to_the_others() {
    let tmp = tempfile::tempdir().unwrap();
    let names = ["Founder", "Second", "Away"];
    let mut s: Vec<SpokeProc> = names.iter().enumerate().map(|(i, n)| SpokeProc::init(&tmp.path().join(format!("spoke{i}")), n)).collect();
    let ids: Vec<String> = s.iter().map(SpokeProc::endpoint_id).collect();
    // The first two pull only from the third, which pulls from both.
    s[0].configure(|c| c.council.upstreams = vec![ids[2].clone()]);
    s[1].configure(|c| c.council.upstreams = vec![ids[2].clone()]);
    for x in &mut s {
        x.start();
    }
    form_council(&s);
    let members = |x: &SpokeProc| x.json("/api/v1/council")["members"].as_array().map_or(0, Vec::len);
    assert!(wait_until(SPREAD_BOUND, || s.iter().all(|x| members(x) == 3)), "the membership did not spread");
    // Every member is ready, and says of which council.
    for x in &s {
        let (code, body) = x.get("/ready");
        let ready: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!((code, ready["council"]["member"].as_bool(), ready["council"]["members"].as_u64()), (200, Some(true), Some(3)), "{body}");
    }

    // One vote reaches the second spoke through the third, which relays it; then the third
    // goes away and the second vote is cast without it. That vote completes the cut in its
    // caster's view, whose only upstream is then gone: it turns to the founder, and its pulls
    // carry its vote there.
    assert!(s[0].admin(&["council", "remove", &ids[2], "--reason", "left without a word"]).contains("Vote signed"));
    assert!(wait_until(SPREAD_BOUND, || s[1].admin(&["council", "members"]).contains("Votes to cut off")), "the first vote was not relayed");
    s[2].stop();
    assert!(s[1].admin(&["council", "remove", &ids[2], "--reason", "left without a word"]).contains("Cut off"));
    assert!(
        wait_until(SPREAD_BOUND, || members(&s[0]) == 2 && members(&s[1]) == 2),
        "the second vote did not reach the founder: {} and {} members",
        members(&s[0]),
        members(&s[1])
    );

    // Back, the cut-off spoke is refused, and learns why from the votes it is sent.
    s[2].start();
    assert!(
        wait_until(SPREAD_BOUND, || !s[2].json("/api/v1/council")["members"].as_array().unwrap().iter().any(|m| m["endpoint"] == ids[2].as_str())),
        "the cut-off spoke does not know: {}",
        s[2].json("/api/v1/council")
    );
    // It is no longer ready (an orchestrator or load balancer takes it out), and says why.
    let (code, body) = s[2].get("/ready");
    assert_eq!(code, 503, "{body}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).expect("JSON")["council"]["member"], false, "{body}");
}

/// A member whose address changes (here: it restarts on another sync port and reader site)
/// announces the new one in a signed `address` entry of the council log, and is found again:
/// the others list it there, and a post published to it afterwards reaches their newest posts.
#[test]
fn a_member_that_moves_announces_its_new_address_and_is_found_again() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s: Vec<SpokeProc> = ["First", "Second", "Moving"].iter().enumerate().map(|(i, n)| SpokeProc::init(&tmp.path().join(format!("spoke{i}")), n)).collect();
    for x in &mut s {
        x.start();
    }
    form_council(&s);
    let moving = s[2].endpoint_id();
    s[2].stop();
    let (http, p2p) = (free_addr(), free_addr());
    s[2].http = http;
    s[2].p2p = p2p;
    s[2].configure(|c| {
        c.http = http;
        c.p2p = p2p;
    });
    s[2].start();
    let listed = |x: &SpokeProc| -> Option<serde_json::Value> { x.json("/council")["members"].as_array()?.iter().find(|m| m["endpoint"] == moving.as_str()).cloned() };
    assert!(
        wait_until(SPREAD_BOUND, || s[..2].iter().all(|x| listed(x).is_some_and(|m| m["addrs"][0] == p2p.to_string().as_str() && m["web"] == format!("http://{http}").as_str()))),
        "the new address did not reach the others: {:?}",
        s[..2].iter().map(listed).collect::<Vec<_>>()
    );
    let log = s[0].json("/council");
    assert!(
        log["entries"].as_array().unwrap().iter().any(|e| e["entry"].as_str().unwrap().contains("\"kind\":\"address\"")),
        "no address entry in {log}"
    );
    let (w, _) = writer(&tmp.path().join("w"), "Moved Notes", &s[2]);
    spokes_ok(&w, PASS, &["new", "--title", "Written after the move", "--body", "Found again."]);
    spokes_ok(&w, PASS, &["publish"]);
    assert!(
        wait_until(SPREAD_BOUND, || s[..2].iter().all(|x| newest_titles(x).iter().any(|t| t == "Written after the move"))),
        "the moved member's post did not reach the others"
    );
}
