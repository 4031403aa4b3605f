//! Partial copies (`[council] copies = N`, N > 0): each blog is held by the spokes its writer
//! chose plus N council copies, on the members that rank first for it by rendezvous hashing
//! ([`council::placement`]), and more for a popular blog. With `copies = 0` (the default for
//! now) every member keeps a copy of every blog, as before.
//!
//! Each member, every council interval, for each blog it holds:
//!
//! 1. ranks the council's members for the blog, leaving out the spokes its writer chose (they
//!    hold it anyway) and members it found unreachable in the last [`DOWN_FOR`] intervals
//!    (their places go to the next ranks, so a member that dies is replaced within a few
//!    intervals; it gets its place back when it answers again);
//! 2. takes the first `copies` (plus the popular blog's extra) as the placed members and
//!    pushes the blog to each of them that is not in step with it (a sync session: a member
//!    receives a council copy pushed to it only when it ranks in [`accepts_push`]'s window);
//! 3. if it holds a council copy but is no longer placed (a member joined, or one it stood in
//!    for came back), it releases its copy once every placed member ended a session in step
//!    with it: a copy moves, it is never just lost.
//!
//! A spoke also counts the reads of each blog it shows ([`Reads`]) for the popular blogs'
//! extra copies. The numbers every member needs to agree on are the log's members and the
//! config's `copies`; `copies` should be the same on every member (a member with another
//! number only keeps more or fewer copies than the others expect).

use super::*;
use council::placement;
use http::SpokeView as _;
use std::time::Instant;

/// Intervals a member that did not answer a push is passed over for.
pub(crate) const DOWN_FOR: u32 = 3;

/// Intervals a council copy held beyond the placed ranks (a popular blog's extra copy, or a
/// stand-in for a member that was down) is kept after the last session a holder opened for
/// it: the holders that still want it there push to it at least every tenth interval.
pub(crate) const LEASE: u32 = 20;

/// Ranks beyond the accept window a pushed copy is still taken at: the writer's own spokes,
/// left out of the pusher's ranking, may rank above this spoke in the whole council's.
const LISTED_SLACK: usize = 8;

/// Reads of each shown blog today and yesterday (UTC days), in memory: what makes a blog
/// popular ([`placement::copies_for`]). One entry per blog shown, so bounded by the blogs held.
#[derive(Default)]
pub(crate) struct Reads {
    days: Mutex<HashMap<BlogId, (i64, u64, u64)>>,
}

impl Reads {
    /// Counts one read of `blog` on UTC day `day` (days since 1970-01-01).
    pub(crate) fn count(&self, blog: &BlogId, day: i64) {
        let mut days = self.days.lock().unwrap_or_else(|p| p.into_inner());
        let e = days.entry(blog.clone()).or_insert((day, 0, 0));
        if e.0 != day {
            *e = (day, 0, if day == e.0 + 1 { e.1 } else { 0 });
        }
        e.1 = e.1.saturating_add(1);
    }

    /// Reads a day of `blog` as of `day`: the larger of today's and yesterday's count.
    pub(crate) fn per_day(&self, blog: &BlogId, day: i64) -> u64 {
        let days = self.days.lock().unwrap_or_else(|p| p.into_inner());
        match days.get(blog) {
            Some(&(d, today, yesterday)) if d == day => today.max(yesterday),
            Some(&(d, today, _)) if d + 1 == day => today,
            _ => 0,
        }
    }

    /// Forgets blogs not read since before yesterday.
    pub(crate) fn prune(&self, day: i64) {
        self.days.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, e| e.0 + 1 >= day);
    }
}

/// Today as days since 1970-01-01, UTC.
pub(crate) fn today() -> i64 {
    chrono::Utc::now().timestamp().div_euclid(86_400)
}

impl Inner {
    /// Whether this spoke takes a council copy of `blog` pushed by `peer` without an invite:
    /// partial copies are on, both are council members, and this spoke ranks for the blog
    /// within [`placement::accept_window`] (plus [`LISTED_SLACK`]).
    pub(crate) fn accepts_push(&self, peer: &str, blog: &BlogId) -> bool {
        let copies = self.config.council.copies;
        if copies == 0 {
            return false;
        }
        self.with_membership(|m| {
            if !m.is_member(peer) || !m.is_member(&self.endpoint_id) {
                return false;
            }
            self.rank_here(blog, &m.members(), &HashSet::new()).is_some_and(|r| r < placement::accept_window(copies) + LISTED_SLACK)
        })
        .unwrap_or(false)
    }

    /// Whether this spoke may keep a council copy of `blog`, whose writer chose the spokes
    /// `listed`: always without partial copies, else when it ranks among the other members
    /// within [`placement::accept_window`]. The exact check, once a pushed blog's signed
    /// settings are known ([`Inner::accepts_push`] is the one made before).
    pub(crate) fn takes_copy(&self, blog: &BlogId, listed: &HashSet<String>) -> bool {
        let copies = self.config.council.copies;
        if copies == 0 {
            return true;
        }
        self.with_membership(|m| self.rank_here(blog, &m.members(), listed).is_some_and(|r| r < placement::accept_window(copies)))
        .unwrap_or(false)
    }

    /// Notes that a peer ended a session for `blog` here (what keeps an extra copy's lease).
    pub(crate) fn lease(&self, blog: &BlogId) {
        if self.config.council.copies > 0 {
            self.touched.lock().unwrap_or_else(|e| e.into_inner()).insert(blog.clone(), Instant::now());
        }
    }

    /// With partial copies, the reader site of the member that ranks first for `blog` in the
    /// whole council: it holds the blog, as one of the writer's spokes or as the first council
    /// copy. `None` without partial copies, outside a council, or when that member is this
    /// spoke (so two spokes that agree on the members never send a reader back and forth).
    pub(crate) fn placed_holder(&self, blog: &BlogId) -> Option<String> {
        if self.config.council.copies == 0 {
            return None;
        }
        self.with_membership(|m| {
            let members = m.members();
            let (first, _) = placement::top(blog, members.keys().map(String::as_str), 1).pop()?;
            (first != self.endpoint_id).then(|| members.get(first).map(|i| i.web.trim_end_matches('/').to_owned())).flatten()
        })
        .ok()
        .flatten()
        .filter(|w| !w.is_empty())
    }

    /// Whether this spoke pulls `blog`, which it does not hold, from a member's catalog: with
    /// partial copies only when it ranks among the first `copies` of the whole council.
    pub(crate) fn pulls_offered(&self, blog: &BlogId, members: &std::collections::BTreeMap<String, council::MemberInfo>) -> bool {
        let copies = self.config.council.copies;
        copies == 0 || self.rank_here(blog, members, &HashSet::new()).is_some_and(|r| r < copies)
    }

    /// Where this spoke ranks for `blog` among `members` other than `listed` (0 is first);
    /// `None` if it is not a member.
    pub(crate) fn rank_here(&self, blog: &BlogId, members: &std::collections::BTreeMap<String, council::MemberInfo>, listed: &HashSet<String>) -> Option<usize> {
        placement::rank_of(blog, members.keys().map(String::as_str).filter(|e| !listed.contains(*e)), &self.endpoint_id)
    }

    /// Counts a read of `blog`, with partial copies (the only use of the counts).
    pub(crate) fn count_read(&self, blog: &BlogId) {
        if self.config.council.copies > 0 {
            self.reads.count(blog, today());
        }
    }
}

/// One pass's view of a blog's placement.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Placed {
    /// The members that should hold a council copy, best first (may include this spoke).
    pub(crate) members: Vec<String>,
    /// Whether this spoke is one of them.
    pub(crate) here: bool,
    /// Whether as many members as wanted were found.
    pub(crate) complete: bool,
}

/// The placed members of `blog`: the first `copies` of `members` ranked for it, leaving out
/// the spokes the writer chose (`listed`) and members thought `down` (never `me`).
pub(crate) fn placed(blog: &BlogId, members: &[String], listed: &HashSet<String>, down: &dyn Fn(&str) -> bool, me: &str, copies: usize) -> Placed {
    // Ranking is per member, so leaving members out before ranking is skipping them after.
    let candidates = members.iter().map(String::as_str).filter(|m| !listed.contains(*m) && (*m == me || !down(m)));
    let out: Vec<String> = placement::top(blog, candidates, copies).into_iter().map(|(m, _)| m.to_owned()).collect();
    let here = out.iter().any(|m| m == me);
    let complete = out.len() == copies;
    Placed { members: out, here, complete }
}

/// Moves council copies where the placement says, every `every` (see the module's doc).
pub(crate) async fn placement_loop(inner: Arc<Inner>, endpoint: Endpoint, every: Duration) {
    let copies = inner.config.council.copies;
    if copies == 0 {
        return;
    }
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let down_for = every * DOWN_FOR;
    let mut down: HashMap<String, Instant> = HashMap::new();
    // Pushes a member refused (it does not count itself placed, or is full): not sent again
    // for a lease's time.
    let mut refused: HashMap<(String, BlogId), Instant> = HashMap::new();
    let mut passes: u64 = 0;
    loop {
        tick.tick().await;
        passes += 1;
        let Ok(m) = inner.membership() else { continue };
        if !m.is_member(&inner.endpoint_id) {
            continue;
        }
        let infos = m.members();
        let members: Vec<String> = infos.keys().cloned().collect();
        let day = today();
        inner.reads.prune(day);
        down.retain(|_, at| at.elapsed() < down_for);
        refused.retain(|_, at| at.elapsed() < every * LEASE);
        let Ok(statuses) = inner.store.statuses() else { continue };
        let held: HashSet<&BlogId> = statuses.iter().map(|(b, _, _)| b).collect();
        inner.touched.lock().unwrap_or_else(|e| e.into_inner()).retain(|b, _| held.contains(b));
        for (blog, kind, status) in statuses {
            if status != BlogStatus::Active {
                continue;
            }
            let Some(view) = inner.blog(&blog) else { continue };
            let listed: HashSet<String> = view.spokes.iter().map(|s| s.endpoint.clone()).collect();
            let want = placement::copies_for(copies, inner.reads.per_day(&blog, day), inner.config.council.popular_reads);
            let p = placed(&blog, &members, &listed, &|e| down.contains_key(e), &inner.endpoint_id, want);
            let mut all_in_step = p.complete;
            for target in p.members.iter().filter(|t| **t != inner.endpoint_id) {
                let key = (target.clone(), blog.clone());
                let state = view.state();
                let known_in_step = inner.in_step.lock().unwrap_or_else(|e| e.into_inner()).get(&key) == Some(&state);
                if (known_in_step && !passes.is_multiple_of(10)) || refused.contains_key(&key) {
                    all_in_step &= known_in_step;
                    continue;
                }
                let Some(info) = infos.get(target) else { continue };
                let addr = match council::member_addr(info) {
                    Ok(a) => a,
                    Err(_) => {
                        all_in_step = false;
                        continue;
                    }
                };
                let r = sync_with(&inner, &endpoint, &blog, target, addr, Admission::Replica).await;
                let mut in_step = inner.in_step.lock().unwrap_or_else(|e| e.into_inner());
                match r {
                    Ok(Synced { in_step: Some(s), .. }) => {
                        in_step.insert(key, s);
                    }
                    Ok(_) => {
                        in_step.remove(&key);
                        all_in_step = false;
                    }
                    Err(e) => {
                        in_step.remove(&key);
                        all_in_step = false;
                        if matches!(e, SyncError::Connect(_) | SyncError::Timeout) {
                            tracing::info!(member = info.name, "a council member did not answer: its copies go to the next members for now");
                            down.insert(target.clone(), Instant::now());
                        } else if matches!(e, SyncError::Refused(_)) {
                            tracing::info!(member = info.name, %blog, "a council member refused a copy: {e}");
                            refused.insert(key, Instant::now());
                        } else {
                            tracing::debug!(member = info.name, %blog, "pushing a council copy failed: {e}");
                        }
                    }
                }
            }
            // A copy at the ranks of a popular blog's extra copies stays while a holder (which may
            // count more reads) keeps pushing to it.
            let extra_rank = inner.rank_here(&blog, &infos, &listed).is_some_and(|r| r < placement::copies_for(copies, u64::MAX, inner.config.council.popular_reads));
            let leased = extra_rank && inner.touched.lock().unwrap_or_else(|e| e.into_inner()).get(&blog).is_some_and(|at| at.elapsed() < every * LEASE);
            if kind == BlogKind::Mirror && !p.here && all_in_step && !leased {
                match inner.store.release_mirror(&blog) {
                    Ok(true) => {
                        tracing::info!(%blog, "the council copy moved to the members placed for it: released here");
                        inner.remove_view(&blog);
                        inner.touched.lock().unwrap_or_else(|e| e.into_inner()).remove(&blog);
                        inner.metrics.copies_released.inc();
                    }
                    Ok(false) => {}
                    Err(e) => tracing::error!("cannot release a council copy: {e}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_count_today_and_yesterday_and_forget_older_days() {
        let r = Reads::default();
        let b = BlogId::generate();
        for _ in 0..5 {
            r.count(&b, 100);
        }
        assert_eq!(r.per_day(&b, 100), 5);
        assert_eq!(r.per_day(&b, 101), 5, "yesterday's reads still count");
        assert_eq!(r.per_day(&b, 102), 0);
        r.count(&b, 101);
        assert_eq!(r.per_day(&b, 101), 5, "the larger of today and yesterday");
        r.prune(103);
        assert_eq!(r.per_day(&b, 101), 0, "pruned");
    }

    #[test]
    fn placement_skips_the_writers_spokes_and_unreachable_members_but_never_this_spoke() {
        let members: Vec<String> = (0..10).map(|i| format!("{:064x}", i + 1)).collect();
        let blog = BlogId::generate();
        let order: Vec<String> = placement::ranked(&blog, members.iter().map(String::as_str)).into_iter().map(str::to_owned).collect();
        let none = HashSet::new();
        let p = placed(&blog, &members, &none, &|_| false, "me", 3);
        assert_eq!(p.members, order[..3].to_vec());
        assert!(p.complete && !p.here);
        // The writer chose the first; the second is down: the next two stand in.
        let listed: HashSet<String> = [order[0].clone()].into();
        let second = order[1].clone();
        let p = placed(&blog, &members, &listed, &|m| m == second, "me", 3);
        assert_eq!(p.members, vec![order[2].clone(), order[3].clone(), order[4].clone()]);
        // This spoke is never passed over as down.
        let me = order[0].clone();
        let p = placed(&blog, &members, &none, &|_| true, &me, 3);
        assert_eq!(p.members, vec![me.clone()]);
        assert!(p.here && !p.complete);
    }
}
