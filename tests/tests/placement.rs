//! Partial council copies end to end (`[council] copies`), with six real spoke processes on
//! loopback: a blog its writer put on one spoke is copied to exactly the members the
//! rendezvous ranking places it on and nowhere else; a reader asking another member is sent to
//! one that holds it; a placed member killed is replaced by the next in the ranking within a
//! minute, and when it comes back the stand-in releases its copy (the copy moved, nothing was
//! lost); a popular blog gets one more copy; a new post reaches the copies. And a member that
//! pushes copies beyond the ranks the others accept is refused by them. The council's newest
//! posts reach the members that hold none of a blog, member to member through the digests
//! (`spokes_sync::council::digest`), leave them when the writer unpublishes, and a member
//! that tampers with its digest has its items refused.

use spokes_e2e::*;
use spokes_sync::council::placement;
use std::time::{Duration, Instant};

const COPIES: usize = 2;
/// Reads a day that make a blog popular here (low, so the test can read it that often).
const POPULAR: u64 = 20;

/// Whether `s` holds `blog` (hosted or as a council copy), as its operator sees it.
fn holds(s: &SpokeProc, blog: &str) -> bool {
    let listed: serde_json::Value = serde_json::from_str(&s.admin(&["blogs", "--json"])).unwrap();
    listed.as_array().unwrap().iter().any(|b| b["blog_id"] == blog)
}

fn counter(s: &SpokeProc, name: &str) -> f64 {
    let (_, m) = s.metrics();
    m.lines().find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok())).unwrap_or(0.0)
}

#[test]
fn a_blog_is_copied_only_where_the_ranking_places_it_and_its_copies_move_when_a_member_dies_and_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let mut spokes: Vec<SpokeProc> = (0..6).map(|i| SpokeProc::init(&tmp.path().join(format!("spoke{i}")), &format!("Spoke {i}"))).collect();
    for s in &spokes {
        s.configure(|c| {
            c.council.copies = COPIES;
            c.council.popular_reads = POPULAR;
        });
    }
    for s in &mut spokes {
        s.start();
    }
    form_council(&spokes);
    let ids: Vec<String> = spokes.iter().map(SpokeProc::endpoint_id).collect();
    let index = |id: &str| ids.iter().position(|x| x == id).unwrap();

    // A writer on spoke 0 only.
    let w = tmp.path().join("w");
    spokes_ok(&w, PASS, &["init", "--name", "Writer", "--title", "Placed Notes"]);
    spokes_ok(&w, PASS, &["spoke", "add", &spokes[0].invite()]);
    spokes_ok(&w, PASS, &["new", "--title", "Where copies live", "--body", "Ranked by a hash, agreed without a word."]);
    spokes_ok(&w, PASS, &["publish"]);
    let blog = spokes_writer::Profile::open(&w).unwrap().blog_id().to_string();
    let blog_id: spokes_core::BlogId = blog.parse().unwrap();

    // The council copies go to the first two of the other members, ranked for this blog.
    let candidates: Vec<usize> = placement::ranked(&blog_id, ids[1..].iter().map(String::as_str)).into_iter().map(index).collect();
    let (first, second, third) = (candidates[0], candidates[1], candidates[2]);
    let started = Instant::now();
    assert!(
        wait_until(Duration::from_secs(60), || holds(&spokes[first], &blog) && holds(&spokes[second], &blog)),
        "the placed members {first} and {second} did not get copies: {:?}",
        (0..6).map(|i| holds(&spokes[i], &blog)).collect::<Vec<_>>()
    );
    eprintln!("the blog reached its two placed members in {:?}", started.elapsed());
    // A new post reaches the copies too (pushed by the writer's spoke within an interval;
    // asked through the API, which counts no reads).
    spokes_ok(&w, PASS, &["new", "--title", "A second post", "--body", "Moved along with the first."]);
    spokes_ok(&w, PASS, &["publish"]);
    assert!(
        wait_until(Duration::from_secs(30), || [first, second].iter().all(|&i| spokes[i].get(&format!("/api/v1/blogs/{blog}/posts/a-second-post")).0 == 200)),
        "the second post did not reach the placed copies"
    );
    // Some more pulls and pushes: still nobody else holds it.
    std::thread::sleep(Duration::from_secs(5));
    for &i in &candidates[2..] {
        assert!(!holds(&spokes[i], &blog), "spoke {i} is not placed for the blog but holds it");
    }

    // A reader asking a member without it is sent to the member ranked first in the whole
    // council, which holds it.
    let top = index(placement::ranked(&blog_id, ids.iter().map(String::as_str))[0]);
    let asked = candidates[2..].iter().copied().find(|&i| i != top).unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let r = agent.get(&format!("http://{}/b/{blog}/posts/where-copies-live", spokes[asked].http)).call().unwrap();
    assert_eq!(r.status().as_u16(), 307);
    let location = r.headers().get("location").unwrap().to_str().unwrap().to_owned();
    assert_eq!(location, format!("http://{}/b/{blog}/posts/where-copies-live", spokes[top].http));
    let (code, page) = http_get(&location);
    assert_eq!(code, 200);
    assert!(page.contains("Ranked by a hash"), "{page}");
    // The front page shows the council's newest posts (through the digests), and says
    // search covers what this spoke keeps and those newest posts.
    let (_, front) = spokes[asked].get("/");
    assert!(front.contains("the newest posts of all of them, passed on from spoke to spoke"), "{front}");
    assert!(front.contains("Search the blogs this spoke keeps and the council’s newest posts"), "{front}");

    // The first placed member dies: the next in the ranking stands in within a minute.
    spokes[first].stop();
    let died = Instant::now();
    assert!(wait_until(Duration::from_secs(60), || holds(&spokes[third], &blog)), "no member stood in for the dead one within a minute");
    eprintln!("a stand-in held the blog {:?} after a placed member died", died.elapsed());
    assert!(holds(&spokes[second], &blog));

    // It comes back: the stand-in hands the copy back and releases it (after its lease).
    spokes[first].start();
    let back = Instant::now();
    assert!(
        wait_until(Duration::from_secs(90), || !holds(&spokes[third], &blog)),
        "the stand-in kept its copy after the placed member came back"
    );
    eprintln!("the stand-in released its copy {:?} after the placed member came back", back.elapsed());
    assert!(holds(&spokes[first], &blog) && holds(&spokes[second], &blog), "a placed copy was lost");
    assert_eq!(counter(&spokes[third], "spoke_council_copies_released_total"), 1.0);

    // Readers make the blog popular on its writer's spoke: it gets a third copy.
    for _ in 0..POPULAR + 5 {
        assert_eq!(spokes[0].get(&format!("/b/{blog}/")).0, 200);
    }
    assert!(wait_until(Duration::from_secs(60), || holds(&spokes[third], &blog)), "the popular blog got no extra copy");
    for &i in &candidates[3..] {
        assert!(!holds(&spokes[i], &blog), "spoke {i} holds the popular blog beyond its extra copy");
    }
}

#[test]
fn a_member_pushing_copies_beyond_the_placed_ranks_is_refused_by_the_members_it_has_no_claim_on() {
    let tmp = tempfile::tempdir().unwrap();
    let mut spokes: Vec<SpokeProc> = (0..6).map(|i| SpokeProc::init(&tmp.path().join(format!("spoke{i}")), &format!("Spoke {i}"))).collect();
    // Spoke 0 pushes each blog to five members; the others keep one copy, and take a pushed
    // one only at the first three ranks (the placed, a popular blog's extra, a stand-in).
    for (i, s) in spokes.iter().enumerate() {
        s.configure(|c| c.council.copies = if i == 0 { 5 } else { 1 });
    }
    for s in &mut spokes {
        s.start();
    }
    form_council(&spokes);
    let ids: Vec<String> = spokes.iter().map(SpokeProc::endpoint_id).collect();
    let w = tmp.path().join("w");
    spokes_ok(&w, PASS, &["init", "--name", "Writer", "--title", "Pushed Around"]);
    spokes_ok(&w, PASS, &["spoke", "add", &spokes[0].invite()]);
    spokes_ok(&w, PASS, &["new", "--title", "Too many copies", "--body", "Only where the ranking says."]);
    spokes_ok(&w, PASS, &["publish"]);
    let blog = spokes_writer::Profile::open(&w).unwrap().blog_id().to_string();
    let blog_id: spokes_core::BlogId = blog.parse().unwrap();
    let candidates: Vec<usize> = placement::ranked(&blog_id, ids[1..].iter().map(String::as_str)).into_iter().map(|e| ids.iter().position(|x| x == e).unwrap()).collect();
    let refused_by = |i: usize| spokes[i].refusals().iter().any(|(code, peer)| code == "not-hosted" && *peer == ids[0]);
    assert!(wait_until(Duration::from_secs(60), || holds(&spokes[candidates[0]], &blog)), "the placed member got no copy");
    assert!(
        wait_until(Duration::from_secs(60), || refused_by(candidates[3]) && refused_by(candidates[4])),
        "the members beyond the window did not refuse the pushes: {:?} {:?}",
        spokes[candidates[3]].refusals(),
        spokes[candidates[4]].refusals()
    );
    for &i in &candidates[3..] {
        assert!(!holds(&spokes[i], &blog), "spoke {i} took a copy it has no place for");
    }
}

/// Whether `s`'s `/api/v1/newest` lists a post titled `title`.
fn newest_lists(s: &SpokeProc, title: &str) -> bool {
    s.json("/api/v1/newest").as_array().is_some_and(|l| l.iter().any(|p| p["title"] == title))
}

/// The titles `s`'s search finds for `q`.
fn found(s: &SpokeProc, q: &str) -> Vec<String> {
    s.json(&format!("/api/v1/search?q={q}"))["results"].as_array().map(|r| r.iter().map(|h| h["title"].as_str().unwrap_or_default().to_owned()).collect()).unwrap_or_default()
}

#[test]
fn the_councils_newest_posts_reach_members_without_the_blog_member_to_member_and_a_tampered_digest_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut spokes: Vec<SpokeProc> = (0..4).map(|i| SpokeProc::init(&tmp.path().join(format!("spoke{i}")), &format!("Spoke {i}"))).collect();
    let ids: Vec<String> = spokes.iter().map(SpokeProc::endpoint_id).collect();
    // A ring: each member pulls only from the one before it, so what one member offers
    // reaches the farthest in three pulls, each through the digest of the one between.
    for (i, s) in spokes.iter().enumerate() {
        s.configure(|c| {
            c.council.copies = 1;
            c.council.upstreams = vec![ids[(i + 3) % 4].clone()];
            c.council.act_on_evidence = false;
        });
    }
    for s in &mut spokes {
        s.start();
    }
    form_council(&spokes);
    let w = tmp.path().join("w");
    spokes_ok(&w, PASS, &["init", "--name", "Writer", "--title", "Tidal Notes"]);
    spokes_ok(&w, PASS, &["spoke", "add", &spokes[0].invite()]);
    let tides = spokes_ok(&w, PASS, &["new", "--title", "Tide tables", "--body", "The spring tide comes twice a month, with the new and the full moon."]).trim().to_owned();
    spokes_ok(&w, PASS, &["publish"]);
    let blog = spokes_writer::Profile::open(&w).unwrap().blog_id().to_string();

    let started = Instant::now();
    assert!(
        wait_until(Duration::from_secs(60), || spokes.iter().all(|s| newest_lists(s, "Tide tables"))),
        "the post did not reach every member's newest posts: {:?}",
        spokes.iter().map(|s| newest_lists(s, "Tide tables")).collect::<Vec<_>>()
    );
    eprintln!("the post reached the newest posts of all four members in {:?}", started.elapsed());
    // Two members hold the blog (the writer's spoke and one placed copy): the others show it
    // from the digests, checked, linked to the writer's spoke, and find it in search.
    let without: Vec<usize> = (1..4).filter(|&i| !holds(&spokes[i], &blog)).collect();
    assert_eq!(without.len(), 2, "copies = 1 places one copy");
    for &i in &without {
        let listed = spokes[i].json("/api/v1/newest");
        let item = listed.as_array().unwrap().iter().find(|p| p["title"] == "Tide tables").unwrap().clone();
        assert_eq!(item["verified"], true);
        assert_eq!(item["hosted_here"], false);
        assert_eq!(item["blog_id"], blog.as_str());
        assert_eq!(item["url"], format!("http://{}/b/{blog}/posts/tide-tables", spokes[0].http), "linked to the writer's spoke");
        let (_, front) = spokes[i].get("/");
        assert!(front.contains("Tide tables") && front.contains("Tidal Notes"), "{front}");
        assert!(wait_until(Duration::from_secs(10), || found(&spokes[i], "spring") == ["Tide tables"]), "spoke {i}'s search: {:?}", found(&spokes[i], "spring"));
        let (_, feed) = spokes[i].get("/feed.atom");
        assert!(feed.contains("The spring tide comes twice a month"), "{feed}");
    }

    // Unpublished: it leaves every member's newest posts and search (the members that
    // echoed it to each other let it go after a bounded number of hops).
    spokes_ok(&w, PASS, &["unpublish", &tides]);
    let started = Instant::now();
    assert!(
        wait_until(Duration::from_secs(60), || spokes.iter().all(|s| !newest_lists(s, "Tide tables") && found(s, "spring").is_empty())),
        "the unpublished post stayed: {:?}",
        spokes.iter().map(|s| (newest_lists(s, "Tide tables"), found(s, "spring"))).collect::<Vec<_>>()
    );
    eprintln!("the unpublished post left every member in {:?}", started.elapsed());

    // The member before one without the blog turns dishonest: every post of its digest is
    // rewritten by a change the writer never signed. The member after it refuses each item,
    // records why under its name, and shows none of it; honest again, the post comes through.
    let k = *without.iter().max().unwrap();
    let d = k - 1;
    assert_ne!(d, 0, "the writer's spoke stays honest");
    spokes[d].stop();
    spokes[d].start_as("spoke-dishonest", &[("SPOKE_DISHONEST", "alter-text")]);
    spokes_ok(&w, PASS, &["new", "--title", "Gulls", "--body", "Herring gulls nest on the roofs by the harbour."]);
    spokes_ok(&w, PASS, &["publish"]);
    let refused = |s: &SpokeProc| s.refusals().iter().any(|(c, p)| c == "uncovered-changes" && *p == ids[d]);
    assert!(wait_until(Duration::from_secs(60), || refused(&spokes[k])), "spoke {k} did not refuse the tampered digest: {:?}", spokes[k].refusals());
    assert!(spokes[k].admin(&["refusals"]).contains("its digest of newest posts"), "{}", spokes[k].admin(&["refusals"]));
    assert!(!newest_lists(&spokes[k], "Gulls"), "a tampered item was shown");
    assert!(found(&spokes[k], "dishonest").is_empty());
    assert!(!spokes[k].get("/feed.atom").1.contains("altered by a dishonest spoke"));
    spokes[d].stop();
    spokes[d].start();
    assert!(wait_until(Duration::from_secs(60), || newest_lists(&spokes[k], "Gulls")), "the honest digest did not bring the post");
}
