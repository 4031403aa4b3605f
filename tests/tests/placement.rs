//! Partial council copies end to end (`[council] copies`), with six real spoke processes on
//! loopback: a blog its writer put on one spoke is copied to exactly the members the
//! rendezvous ranking places it on and nowhere else; a reader asking another member is sent to
//! one that holds it; a placed member killed is replaced by the next in the ranking within a
//! minute, and when it comes back the stand-in releases its copy (the copy moved, nothing was
//! lost); a popular blog gets one more copy; a new post reaches the copies. And a member that
//! pushes copies beyond the ranks the others accept is refused by them.

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
    // The front page does not claim the whole council's posts.
    let (_, front) = spokes[asked].get("/");
    assert!(front.contains("the newest posts of the blogs this spoke keeps a copy of"), "{front}");
    assert!(front.contains("Search the blogs this spoke keeps"), "{front}");

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
