//! Where a blog's council copies live: rendezvous hashing (highest random weight, Thaler and
//! Ravishankar 1998) over the council's members.
//!
//! Every member ranks every other for a blog by the same score, so all of them agree, without
//! a message, on which members hold the blog's council copies: the first `copies` of the
//! ranking. A member that joins takes the blogs it ranks first for (about `copies / n` of
//! them) and nothing else moves; a member that leaves, or is found unreachable, hands its
//! place to the next one in each of its blogs' rankings. Popular blogs get more copies
//! ([`copies_for`]): the next ranks down.
//!
//! The score is the first 8 bytes (big-endian) of BLAKE3 over
//! `spokes placement v1\n{blog ID}\n{member endpoint ID}`: a version in the input, so a later
//! rule can be told from this one.

use spokes_core::BlogId;

/// Council copies of each blog, besides the spokes its writer chose, when the config names
/// no other number.
pub const DEFAULT_COPIES: usize = 3;

/// Reads a day from which a blog counts as popular: one more copy at this many, another at
/// ten times as many, and so on ([`copies_for`]).
pub const DEFAULT_POPULAR_READS: u64 = 1_000;

/// A member's score for a blog: higher ranks first.
pub fn score(blog: &BlogId, member: &str) -> u64 {
    const PREFIX: &[u8] = b"spokes placement v1\n";
    let (b, m) = (blog.as_str().as_bytes(), member.as_bytes());
    let n = PREFIX.len() + b.len() + 1 + m.len();
    // One contiguous input (an endpoint ID is 64 bytes): hashed in one call, no allocation.
    let mut buf = [0u8; 160];
    let h = if n <= buf.len() {
        buf[..PREFIX.len()].copy_from_slice(PREFIX);
        buf[PREFIX.len()..PREFIX.len() + b.len()].copy_from_slice(b);
        buf[PREFIX.len() + b.len()] = b'\n';
        buf[PREFIX.len() + b.len() + 1..n].copy_from_slice(m);
        blake3::hash(&buf[..n])
    } else {
        let mut hasher = blake3::Hasher::new();
        hasher.update(PREFIX).update(b).update(b"\n").update(m);
        hasher.finalize()
    };
    let mut first = [0u8; 8];
    first.copy_from_slice(&h.as_bytes()[..8]);
    u64::from_be_bytes(first)
}

/// `members` ranked for `blog`, best first (ties, which need a 64-bit collision, broken by
/// endpoint ID).
pub fn ranked<'a>(blog: &BlogId, members: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(u64, &str)> = members.into_iter().map(|m| (score(blog, m), m)).collect();
    scored.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().map(|(_, m)| m).collect()
}

/// The first `k` of [`ranked`] (best first) and their scores, in O(n) hashes and O(n·k)
/// comparisons, without sorting all `members`: what a member needs to place a blog among
/// thousands.
pub fn top<'a>(blog: &BlogId, members: impl IntoIterator<Item = &'a str>, k: usize) -> Vec<(&'a str, u64)> {
    let mut best: Vec<(&str, u64)> = Vec::with_capacity(k + 1);
    if k == 0 {
        return best;
    }
    for m in members {
        let s = score(blog, m);
        let better = |x: &(&str, u64)| s > x.1 || (s == x.1 && m < x.0);
        if best.len() == k && !best.last().is_some_and(better) {
            continue;
        }
        let at = best.iter().position(better).unwrap_or(best.len());
        best.insert(at, (m, s));
        best.truncate(k);
    }
    best
}

/// Where `member` ranks for `blog` among `members` (0 is first); `None` if it is not one.
/// O(n), without sorting.
pub fn rank_of<'a>(blog: &BlogId, members: impl IntoIterator<Item = &'a str>, member: &str) -> Option<usize> {
    let mine = score(blog, member);
    let mut found = false;
    let mut ahead = 0;
    for m in members {
        if m == member {
            found = true;
            continue;
        }
        let s = score(blog, m);
        if s > mine || (s == mine && m < member) {
            ahead += 1;
        }
    }
    found.then_some(ahead)
}

/// How many council copies a blog read `reads` times a day gets: `base`, plus one at
/// `popular` reads, one more at each tenfold of that, at most `base` more. `popular == 0`
/// turns the extra copies off.
pub fn copies_for(base: usize, reads: u64, popular: u64) -> usize {
    if popular == 0 || reads < popular {
        return base;
    }
    let tenfolds = (reads / popular).ilog10() as usize + 1;
    base + tenfolds.min(base)
}

/// The ranks, counted from 0, at which a member takes a council copy pushed to it: the
/// `base` placed ones, the `base` extra ones of a popular blog, and as many again for
/// holders that stand in for members found unreachable.
pub fn accept_window(base: usize) -> usize {
    base * 3
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The score of blog `…01` for member `abab…ab`, as version 1 of the rule computes it.
    const KNOWN: u64 = 4_484_968_621_412_806_370;

    fn blog(i: usize) -> BlogId {
        format!("{i:032x}").parse().unwrap()
    }

    fn members(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{:064x}", i * 7919 + 1)).collect()
    }

    #[test]
    fn every_member_computes_the_same_ranking_whatever_order_it_lists_members_in() {
        let m = members(40);
        let mut reversed = m.clone();
        reversed.reverse();
        for i in 0..50 {
            let a = ranked(&blog(i), m.iter().map(String::as_str));
            let b = ranked(&blog(i), reversed.iter().map(String::as_str));
            assert_eq!(a, b);
            for (r, member) in a.iter().enumerate() {
                assert_eq!(rank_of(&blog(i), m.iter().map(String::as_str), member), Some(r));
            }
            for k in [0, 1, 3, 40, 50] {
                let t: Vec<&str> = top(&blog(i), reversed.iter().map(String::as_str), k).into_iter().map(|(m, _)| m).collect();
                assert_eq!(t, a[..k.min(a.len())].to_vec());
            }
        }
        assert_eq!(rank_of(&blog(0), m.iter().map(String::as_str), "stranger"), None);
    }

    #[test]
    fn a_member_joining_moves_only_the_copies_it_takes_and_spreads_load_evenly() {
        let m = members(100);
        let blogs: Vec<BlogId> = (0..20_000).map(blog).collect();
        let placed = |ms: &[String], b: &BlogId| -> Vec<String> { ranked(b, ms.iter().map(String::as_str)).into_iter().take(3).map(str::to_owned).collect() };
        let before: Vec<Vec<String>> = blogs.iter().map(|b| placed(&m, b)).collect();
        let mut load = std::collections::HashMap::<&str, usize>::new();
        for p in &before {
            for x in p {
                *load.entry(m.iter().find(|y| *y == x).unwrap().as_str()).or_default() += 1;
            }
        }
        // 60,000 copies over 100 members: 600 each on average, none far off.
        assert!(load.values().all(|&l| (450..=750).contains(&l)), "{:?}", load.values().min().zip(load.values().max()));
        let mut grown = m.clone();
        let newcomer = format!("{:064x}", 999_999_999u64);
        grown.push(newcomer.clone());
        let mut moved = 0;
        for (b, old) in blogs.iter().zip(&before) {
            let new = placed(&grown, b);
            let gone: Vec<&String> = old.iter().filter(|x| !new.contains(x)).collect();
            // Only the newcomer takes a place, and only one member gives one up per blog.
            assert!(new.iter().all(|x| old.contains(x) || *x == newcomer));
            assert!(gone.len() <= 1);
            moved += gone.len();
        }
        // About copies / (n + 1) of all blogs: 20,000 × 3 / 101 ≈ 594.
        assert!((450..=750).contains(&moved), "{moved}");
    }

    #[test]
    fn the_score_is_the_documented_hash_so_every_version_of_every_member_agrees() {
        let b = blog(1);
        let member = "ab".repeat(32);
        let h = blake3::hash(format!("spokes placement v1\n{b}\n{member}").as_bytes());
        assert_eq!(score(&b, &member), u64::from_be_bytes(h.as_bytes()[..8].try_into().unwrap()));
        assert_eq!(score(&b, &member), KNOWN);
        // A member name too long for the one-call path hashes the same input.
        let long = "x".repeat(500);
        let h = blake3::hash(format!("spokes placement v1\n{b}\n{long}").as_bytes());
        assert_eq!(score(&b, &long), u64::from_be_bytes(h.as_bytes()[..8].try_into().unwrap()));
    }

    #[test]
    fn popular_blogs_get_more_copies_up_to_twice_the_base() {
        assert_eq!(copies_for(3, 0, 1000), 3);
        assert_eq!(copies_for(3, 999, 1000), 3);
        assert_eq!(copies_for(3, 1000, 1000), 4);
        assert_eq!(copies_for(3, 9_999, 1000), 4);
        assert_eq!(copies_for(3, 10_000, 1000), 5);
        assert_eq!(copies_for(3, 100_000, 1000), 6);
        assert_eq!(copies_for(3, u64::MAX, 1000), 6);
        assert_eq!(copies_for(3, u64::MAX, 0), 3);
        assert!(copies_for(3, u64::MAX, 1) <= accept_window(3));
    }
}
