//! Property-based fuzzing of the parsers at Spokes' boundaries (the hostile-peers issue).
//!
//! Each target (`tests/boundaries.rs`) takes bytes a peer, an archive or a person could hand
//! Spokes and runs them through the same functions the programs use. Inputs come from
//! [`input`]: random bytes, or a seed from the target's corpus (`corpus/<target>/`, committed,
//! plus seeds the test makes fresh) changed by a few [`Mutation`]s. proptest runs the cases
//! and, when one fails (a panic, or a property the target asserts), shrinks it to a minimal
//! input, which [`fuzz`] keeps in the corpus as `crash-<hash>` and reports.
//!
//! How long each target runs: `SPOKES_FUZZ_SECS` seconds of CPU time (default 2, what
//! `./x test` runs).
//! Longer runs: `SPOKES_FUZZ_SECS=600 cargo test --release -p spokes-fuzz -- --test-threads 1`.
//! `SPOKES_FUZZ_WRITE_CORPUS=1` writes the fresh seeds into the corpus folders.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One change to a seed. Offsets are taken modulo the seed's length.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Flip one bit.
    Flip(usize, u8),
    /// Overwrite one byte.
    Set(usize, u8),
    /// Insert bytes.
    Insert(usize, Vec<u8>),
    /// Remove up to `len` bytes.
    Delete(usize, usize),
    /// Cut the input short.
    Truncate(usize),
    /// Repeat a slice `times` times in place.
    Repeat(usize, usize, u8),
    /// Overwrite with a boundary value (0, max, sign bits), big-endian, 1 to 8 bytes wide.
    Boundary(usize, u64, u8),
}

/// `seed` with `mutations` applied in order.
pub fn apply(seed: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for m in mutations {
        let at = |i: usize, v: &Vec<u8>| if v.is_empty() { 0 } else { i % (v.len() + 1) };
        match m {
            Mutation::Flip(i, bit) if !v.is_empty() => {
                let i = i % v.len();
                v[i] ^= 1 << (bit % 8);
            }
            Mutation::Set(i, b) if !v.is_empty() => {
                let i = i % v.len();
                v[i] = *b;
            }
            Mutation::Insert(i, bytes) => {
                let i = at(*i, &v);
                v.splice(i..i, bytes.iter().copied());
            }
            Mutation::Delete(i, len) => {
                let i = at(*i, &v);
                let end = (i + len).min(v.len());
                v.drain(i..end);
            }
            Mutation::Truncate(i) => {
                let i = at(*i, &v);
                v.truncate(i);
            }
            Mutation::Repeat(i, len, times) => {
                let i = at(*i, &v);
                let end = (i + len % 64).min(v.len());
                let piece = v[i..end].to_vec();
                for _ in 0..*times % 16 {
                    v.splice(end..end, piece.iter().copied());
                }
            }
            Mutation::Boundary(i, value, width) => {
                let width = (*width as usize % 8) + 1;
                if v.len() >= width {
                    let i = i % (v.len() - width + 1);
                    v[i..i + width].copy_from_slice(&value.to_be_bytes()[8 - width..]);
                }
            }
            _ => {}
        }
    }
    v
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let boundary = prop_oneof![Just(0u64), Just(u64::MAX), Just(0x7f), Just(0x80), Just(0xff), Just(0x7fff_ffff), Just(0x8000_0000), Just(0xffff_ffff), Just(16 << 20), any::<u64>()];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..32)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>(), any::<u8>()).prop_map(|(i, n, t)| Mutation::Repeat(i, n, t)),
        (any::<usize>(), boundary, any::<u8>()).prop_map(|(i, v, w)| Mutation::Boundary(i, v, w)),
    ]
}

/// Inputs for a target: random bytes (one case in eight), else a seed with one to six
/// mutations. Shrinks towards fewer, smaller mutations of the first seed.
pub fn input(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    assert!(!seeds.is_empty(), "a target needs seeds");
    let n = seeds.len();
    let seeds = Arc::new(seeds);
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..512),
        7 => (0..n, proptest::collection::vec(mutation(), 0..6)).prop_map(move |(i, m)| apply(&seeds[i], &m)),
    ]
}

/// The committed corpus folder of `target`.
pub fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target)
}

/// The committed corpus of `target` plus `fresh` seeds (written into the corpus when
/// `SPOKES_FUZZ_WRITE_CORPUS` is set).
pub fn seeds(target: &str, fresh: Vec<(&str, Vec<u8>)>) -> Vec<Vec<u8>> {
    let dir = corpus_dir(target);
    if std::env::var_os("SPOKES_FUZZ_WRITE_CORPUS").is_some() {
        std::fs::create_dir_all(&dir).expect("corpus folder");
        for (name, bytes) in &fresh {
            std::fs::write(dir.join(name), bytes).expect("corpus file");
        }
    }
    let mut all: Vec<Vec<u8>> = fresh.into_iter().map(|(_, b)| b).collect();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut files: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        files.sort();
        all.extend(files.iter().filter_map(|f| std::fs::read(f).ok()));
    }
    all
}

/// What one run of a target did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The target.
    pub target: String,
    /// Cases run.
    pub cases: u64,
    /// Seconds of CPU time this thread spent.
    pub cpu_seconds: f64,
}

/// CPU seconds this thread has used (Linux `/proc/thread-self/stat`, at 100 ticks a second).
fn thread_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else { return 0.0 };
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields after the command: state is 0, utime 11, stime 12.
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs `check` on inputs from `seeds` for `SPOKES_FUZZ_SECS` seconds (default 2). A case
/// fails when `check` panics or returns an error; the minimal failing input is written to
/// the corpus as `crash-<hash>` and the test fails with it in hex.
pub fn fuzz(target: &str, seeds: Vec<Vec<u8>>, check: impl Fn(&[u8]) -> Result<(), TestCaseError>) -> Report {
    let secs: f64 = std::env::var("SPOKES_FUZZ_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    // Seconds of this thread's CPU time, so a busy machine does not shorten a run; wall time
    // bounds it too (four times as long), should the CPU clock be unreadable.
    let deadline = Instant::now() + Duration::from_secs_f64(secs * 4.0);
    let cpu0 = thread_cpu_seconds();
    let strategy = input(seeds);
    let mut cases = 0u64;
    while Instant::now() < deadline && thread_cpu_seconds() - cpu0 < secs {
        let batch = 64;
        let mut runner = TestRunner::new(Config { cases: batch, failure_persistence: None, max_shrink_iters: 4096, ..Config::default() });
        match runner.run(&strategy, |bytes| check(&bytes)) {
            Ok(()) => cases += u64::from(batch),
            Err(TestError::Fail(why, minimal)) => {
                let dir = corpus_dir(target);
                let _ = std::fs::create_dir_all(&dir);
                let hash = minimal.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
                let _ = std::fs::write(dir.join(format!("crash-{hash:016x}")), &minimal);
                panic!("{target}: {why}\nminimal input ({} bytes): {}", minimal.len(), minimal.iter().map(|b| format!("{b:02x}")).collect::<String>());
            }
            Err(TestError::Abort(why)) => panic!("{target}: aborted: {why}"),
        }
    }
    let report = Report { target: target.into(), cases, cpu_seconds: thread_cpu_seconds() - cpu0 };
    eprintln!("fuzz {}: {} cases, {:.1} s of CPU, no failure", report.target, report.cases, report.cpu_seconds);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_stay_in_bounds() {
        for m in [Mutation::Flip(99, 9), Mutation::Set(5, 1), Mutation::Insert(1000, vec![1, 2]), Mutation::Delete(3, 1000), Mutation::Truncate(2), Mutation::Repeat(1, 2, 3), Mutation::Boundary(0, u64::MAX, 3)] {
            let _ = apply(&[], std::slice::from_ref(&m));
            let out = apply(b"abcdef", &[m]);
            assert!(out.len() <= 6 + 2 * 15 + 2);
        }
        assert_eq!(apply(b"abcdef", &[Mutation::Truncate(2)]), b"ab");
        assert_eq!(apply(b"abc", &[Mutation::Boundary(0, 0xffff, 0)]), b"\xffbc");
    }
}
