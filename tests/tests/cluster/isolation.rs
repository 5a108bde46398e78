//! Isolation (issue 10): under a read load on every shard, one shard's trouble (kill -9 of a
//! primary through its failover; kill -9 of a replica and then of another shard's primary;
//! `DEBUG SLEEP` and `CLIENT PAUSE` of a replica) must not slow the other shards, and a
//! `prefer_replica` read on a shard that still has a live node must neither fail nor wait for
//! a refresh, a redirect storm or another caller's trouble. Every call's latency is recorded;
//! the bounds are generous (far above a normal read, far below the faults' lengths).
//!
//! The servers run with `cluster-require-full-coverage no`: with Redis' default (`yes`) every
//! node answers CLUSTERDOWN for every slot between a dead primary's FAIL flag and its
//! replica's promotion, so all shards stall ~1 s whatever the client does
//! (`bench-isolation --full-coverage` shows it).

use std::time::Duration;

use shardis_tests::reshape::{
    Fault, FaultKind, IsolationOptions, IsolationRun, PREFER_REPLICA, Sample, Summary,
    run_isolation,
};

use crate::serial;

/// Longest read allowed on a shard no fault touched (a normal read takes well under 1 ms; the
/// stalls last 2 s).
const OTHER_SHARDS_MAX: Duration = Duration::from_millis(250);
/// Scheduling slack on a busy 2-core machine.
const MARGIN: Duration = Duration::from_millis(500);

/// µs at which the `prefer_replica` readers on `shard` know of the fault `f`: a killed node
/// refuses at once, so the end of the first read that started after the kill; a stalled node
/// is met by the first read that waits on it (one slower than [`OTHER_SHARDS_MAX`]: the
/// `DEBUG SLEEP` or `CLIENT PAUSE` takes effect a moment after it is sent), so its end.
fn known_dead_at(run: &IsolationRun, phase: usize, shard: usize, f: &Fault) -> u64 {
    let slow = micros_of(OTHER_SHARDS_MAX);
    run.samples(PREFER_REPLICA, &[shard], phase)
        .filter(|s| u64::from(s.start_us) >= f.at_us)
        .filter(|s| f.kind == FaultKind::Kill || s.latency_us > slow)
        .map(|s| s.end_us())
        .min()
        .unwrap_or(u64::MAX)
}

fn micros_of(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

fn check(run: &IsolationRun) -> Vec<String> {
    let o = &run.options;
    let mut failures = Vec::new();
    for (p, phase) in run.phases.iter().enumerate() {
        for shard in 0..run.shards {
            let fault = phase.fault_on(shard);
            for label in run.labels() {
                let s = Summary::of(run.samples(label, &[shard], p));
                let errors = run.errors(label, shard, p);
                let first = errors.iter().take(3).collect::<Vec<_>>();
                match fault {
                    // Another shard's trouble: normal latency, no errors, whatever the policy.
                    None => {
                        if s.max > OTHER_SHARDS_MAX || s.errors > 0 {
                            failures.push(format!(
                                "{}: shard {shard} (not hit), {label}: max {:?} (bound {OTHER_SHARDS_MAX:?}), p99 {:?}, {} errors of {} {first:?}",
                                phase.name, s.max, s.p99, s.errors, s.calls
                            ));
                        }
                    }
                    // The hit shard still has a live node: prefer_replica reads never fail and
                    // end by their deadline.
                    Some(_) if label == PREFER_REPLICA => {
                        if s.errors > 0 {
                            failures.push(format!(
                                "{}: shard {shard} (hit, a live node left), {label}: {} errors of {} {first:?}",
                                phase.name, s.errors, s.calls
                            ));
                        }
                        if s.max > o.timeout + MARGIN {
                            failures.push(format!(
                                "{}: shard {shard} (hit), {label}: max {:?} beyond the deadline {:?}",
                                phase.name, s.max, o.timeout
                            ));
                        }
                    }
                    Some(_) => {}
                }
            }
            // A node known dead or stalled (a read has met it) costs later reads at most a
            // connect attempt.
            if let Some(f) = fault {
                let known = known_dead_at(run, p, shard, f);
                let later: Vec<&Sample> = run
                    .samples(PREFER_REPLICA, &[shard], p)
                    .filter(|s| u64::from(s.start_us) >= known)
                    .collect();
                let summary = Summary::of(later.iter().copied());
                let bound = o.connect_timeout + MARGIN;
                if summary.max > bound {
                    let worst = later
                        .iter()
                        .max_by_key(|s| s.latency_us)
                        .map(|s| u64::from(s.start_us).saturating_sub(f.at_us) as f64 / 1e3);
                    failures.push(format!(
                        "{}: shard {shard}, {PREFER_REPLICA}: a read after the {:?} {} {} was known dead took {:?} (bound: connect timeout {:?} + {MARGIN:?}), started {worst:?} ms after the fault; p99 {:?} over {} reads",
                        phase.name, f.kind, f.role, f.node, summary.max, o.connect_timeout, summary.p99, summary.calls
                    ));
                }
            }
        }
    }
    failures
}

#[test]
fn one_shards_trouble_does_not_reach_the_others() {
    let _s = serial();
    let run = run_isolation(&IsolationOptions::default());
    eprintln!("{}", run.table(true));
    eprintln!("{}", run.timeline(OTHER_SHARDS_MAX));
    for (label, stats) in &run.cluster_stats {
        eprintln!("{label}: {stats:?}");
    }
    let failures = check(&run);
    assert!(
        failures.is_empty(),
        "{} isolation failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
