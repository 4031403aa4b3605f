//! The rate quotas of `[admission] max_sessions_per_hour`, kept so that nobody can spend
//! another writer's allowance (governor's GCRA limiters: a burst of the whole hourly
//! allowance, then one more every hour / allowance).
//!
//! - **Per peer and blog, counted when a session opens** (before anything is verified): a
//!   stranger who opens sessions for someone's blog spends only its own allowance.
//! - **Per blog, counted when a session brings changes the author signed**: the author's
//!   publishing rate, which only the author's devices can spend.
//!
//! Sessions with a blog's own spokes and council members are not counted (the caller
//! decides). Keys are kept in memory only: at most [`MAX_TRACKED`] before the ones back at
//! a full allowance are forgotten.

use spokes_core::problem::Code;
use governor::{DefaultKeyedRateLimiter, Quota};
use spokes_core::BlogId;
use spokes_sync::RemoteError;
use std::num::NonZeroU32;

/// Keys tracked before those with a full allowance again are forgotten.
pub const MAX_TRACKED: usize = 100_000;

/// The two quotas; `None` when the operator set no limit (0).
pub struct Rates {
    max: u32,
    peers: Option<DefaultKeyedRateLimiter<(String, BlogId)>>,
    blogs: Option<DefaultKeyedRateLimiter<BlogId>>,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(max: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(max).map(|n| governor::RateLimiter::keyed(Quota::per_hour(n)))
}

fn check<K: std::hash::Hash + Eq + Clone>(l: &DefaultKeyedRateLimiter<K>, key: &K) -> bool {
    let ok = l.check_key(key).is_ok();
    if l.len() > MAX_TRACKED {
        l.retain_recent();
    }
    ok
}

impl Rates {
    /// Quotas of `max` sessions an hour (0: no limit).
    pub fn new(max: u32) -> Rates {
        Rates { max, peers: limiter(max), blogs: limiter(max) }
    }

    /// Counts a session `peer` opens for `blog`. Error: `rate-limited`, naming this computer.
    pub fn open_session(&self, peer: &str, blog: &BlogId) -> Result<(), RemoteError> {
        match &self.peers {
            Some(l) if !check(l, &(peer.to_owned(), blog.clone())) => Err(RemoteError::new(Code::RateLimited, format!("this computer synced this blog {} times with this spoke in the last hour; it will take more later", self.max))),
            _ => Ok(()),
        }
    }

    /// Counts a session that brought the author's signed changes to `blog`. Error:
    /// `rate-limited`, naming the blog.
    pub fn publish(&self, blog: &BlogId) -> Result<(), RemoteError> {
        match &self.blogs {
            Some(l) if !check(l, blog) => Err(RemoteError::new(Code::RateLimited, format!("this blog published {} times to this spoke in the last hour; it will take more later", self.max))),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_peer_spends_only_its_own_allowance_and_the_blog_allowance_is_separate() {
        let r = Rates::new(3);
        let blog = BlogId::generate();
        for _ in 0..3 {
            r.open_session("stranger", &blog).unwrap();
        }
        assert_eq!(r.open_session("stranger", &blog).unwrap_err().code, "rate-limited");
        r.open_session("author", &blog).unwrap();
        for _ in 0..3 {
            r.publish(&blog).unwrap();
        }
        assert!(r.publish(&blog).unwrap_err().message.contains("published 3 times"));
        r.publish(&BlogId::generate()).unwrap();
        let unlimited = Rates::new(0);
        for _ in 0..1000 {
            unlimited.open_session("a", &blog).unwrap();
            unlimited.publish(&blog).unwrap();
        }
    }

    #[test]
    fn a_flood_of_fresh_peers_is_forgotten_once_their_allowance_is_full_again() {
        // At a million an hour a spent session comes back within 4 ms.
        let r = Rates::new(1_000_000);
        let blog = BlogId::generate();
        for i in 0..MAX_TRACKED {
            r.open_session(&format!("peer-{i}"), &blog).unwrap();
        }
        assert_eq!(r.peers.as_ref().unwrap().len(), MAX_TRACKED);
        std::thread::sleep(std::time::Duration::from_millis(50));
        r.open_session("one more", &blog).unwrap();
        assert!(r.peers.as_ref().unwrap().len() < 10, "{}", r.peers.as_ref().unwrap().len());
    }
}
