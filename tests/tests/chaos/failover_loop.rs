//! Scenario 1, failover loop: 5 cycles of `kill -9` a primary → its replica is promoted
//! (node timeout 1 s) → the killed node restarts on its port and rejoins as a replica, under
//! mixed load from several threads (SET then GET of tagged values, INCR, RPUSH of unique
//! tokens, GET of fixed values).
//!
//! Assertions (the ledger against the servers afterwards):
//! - no reply to the wrong caller: a GET of K returns only values tagged for K, by K's
//!   writer, that were sent; every reply has its command's type;
//! - no write that the client reported as *definitely* failed ran (the token is not in its
//!   list, the value is never read nor left on the server, a counter never moves more than
//!   its acknowledged + indeterminate calls);
//! - no write ran twice (no token twice in a list; INCR final ≤ acknowledged +
//!   indeterminate);
//! - every acknowledged write is there, unless the failover itself lost it: an
//!   acknowledgement within [`LOSS_WINDOW`] of the kill of its shard's primary may be lost
//!   to asynchronous replication (before: not yet streamed; after: the dead primary's last
//!   replies — no replica can be promoted within the window, the node timeout alone is as
//!   long). Such losses are counted and printed; anything else missing is a client fault
//!   and must be 0.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use shardis::{Client, ErrorKind, ReadFrom, Value};
use shardis_tests::Cluster;
use shardis_tests::cluster::key_slot;
use shardis_tests::process::wait_until;

use crate::{
    ErrorTally, Fate, Monotone, Runtime, Servers, StopOnDrop, assert_none, client, fate_of, first,
    parse_tagged, parse_token, serial, spread_keys, tagged,
};

const CYCLES: usize = 5;
const THREADS: usize = 4;
const TIMEOUT: Duration = Duration::from_secs(1);
/// Acknowledgements this close to the kill of their shard's primary may be lost by the
/// failover (asynchronous replication). The node timeout (1 s) plus an election bounds the
/// side after the kill.
const LOSS_WINDOW: Duration = Duration::from_secs(1);
/// A slot in each of the three initial shards: the primary serving it is the victim.
const TARGET_SLOTS: [u16; 3] = [100, 6000, 12000];

/// One kill: when, whom, and which slots it served then.
struct Kill {
    at: Instant,
    addr: String,
    owned: Vec<bool>,
}

/// Is an acknowledgement of a write to `key` at `at` within the loss window of a kill of
/// the primary that served `key`?
fn in_loss_window(kills: &[Kill], key: &str, at: Instant) -> bool {
    let slot = key_slot(key.as_bytes()) as usize;
    kills
        .iter()
        .any(|k| k.owned[slot] && at + LOSS_WINDOW >= k.at && at <= k.at + LOSS_WINDOW)
}

/// One SET, as the writer saw it end.
struct SetRecord {
    seq: u64,
    fate: Fate,
    kind: Option<ErrorKind>,
    at: Instant,
}

/// One RPUSH, as the writer saw it end.
struct PushRecord {
    seq: u64,
    fate: Fate,
    kind: Option<ErrorKind>,
    at: Instant,
}

/// A read that returned an older value than an acknowledged SET before it.
struct StaleRead {
    key: String,
    /// Acknowledgement times of the SETs the read missed.
    missed: Vec<Instant>,
    what: String,
}

#[derive(Default)]
struct Ledger {
    writer: usize,
    sets: HashMap<String, Vec<SetRecord>>,
    counters: HashMap<String, Monotone>,
    lists: HashMap<String, (Monotone, Vec<PushRecord>)>,
    stale_reads: Vec<StaleRead>,
    violations: Vec<String>,
    errors: ErrorTally,
    calls: u64,
    fixed_reads: u64,
}

impl Ledger {
    /// Check a value read for `key` (by GET through the client, or from the server).
    /// Returns the missed acknowledgements if it is stale.
    fn check_value(&mut self, key: &str, value: Option<&[u8]>, source: &str) -> Vec<Instant> {
        let records = self.sets.get(key).map(Vec::as_slice).unwrap_or(&[]);
        let seq = match value {
            None => None,
            Some(b) => match parse_tagged(b) {
                None => {
                    self.violations.push(format!(
                        "{source} {key}: unparseable {:?}",
                        String::from_utf8_lossy(b)
                    ));
                    return vec![];
                }
                Some((k, w, s)) => {
                    if k != key || w != self.writer {
                        self.violations.push(format!(
                            "{source} {key}: wrong caller's value {:?}",
                            String::from_utf8_lossy(b)
                        ));
                        return vec![];
                    }
                    match records.iter().find(|r| r.seq == s) {
                        None => {
                            self.violations
                                .push(format!("{source} {key}: value {s} was never sent"));
                            return vec![];
                        }
                        Some(r) if r.fate == Fate::Failed => {
                            self.violations.push(format!(
                                "{source} {key}: SET {s} reported as definitely failed ({:?}) ran",
                                r.kind
                            ));
                            return vec![];
                        }
                        Some(_) => Some(s),
                    }
                }
            },
        };
        records
            .iter()
            .filter(|r| r.fate == Fate::Acked && Some(r.seq) > seq)
            .map(|r| r.at)
            .collect()
    }
}

fn writer(t: usize, c: Client, fixed: Vec<String>, stop: Arc<AtomicBool>) -> JoinHandle<Ledger> {
    std::thread::spawn(move || {
        let sets: Vec<String> = (0..6).map(|j| format!("c1:set:{t}:{j}")).collect();
        let counters: Vec<String> = (0..3).map(|j| format!("c1:ctr:{t}:{j}")).collect();
        let lists: Vec<String> = (0..6).map(|j| format!("c1:list:{t}:{j}")).collect();
        let mut l = Ledger {
            writer: t,
            ..Ledger::default()
        };
        let mut seq: u64 = 0;
        while !stop.load(Ordering::Relaxed) {
            seq += 1;
            let round = (seq / 4) as usize;
            l.calls += 1;
            match seq % 4 {
                0 => {
                    let key = &sets[round % sets.len()];
                    let value = tagged(key, t, seq);
                    let r = c.query(["SET", key, &value]);
                    let at = Instant::now();
                    let (fate, kind) = match r {
                        Ok(Value::Okay) => (Fate::Acked, None),
                        Ok(other) => {
                            l.violations.push(format!("SET {key}: reply {other:?}"));
                            (Fate::Acked, None)
                        }
                        Err(e) => {
                            l.errors.add(&e);
                            (fate_of(&e), Some(e.kind()))
                        }
                    };
                    l.sets.entry(key.clone()).or_default().push(SetRecord {
                        seq,
                        fate,
                        kind,
                        at,
                    });
                    l.calls += 1;
                    match c.query(["GET", key]) {
                        Ok(Value::Bulk(b)) => {
                            let missed = l.check_value(key, Some(&b), "GET");
                            if !missed.is_empty() {
                                l.stale_reads.push(StaleRead {
                                    key: key.clone(),
                                    missed,
                                    what: format!(
                                        "GET {key} after SET {seq} ({fate:?}) returned {}",
                                        String::from_utf8_lossy(&b)
                                    ),
                                });
                            }
                        }
                        Ok(Value::Nil) => {
                            let missed = l.check_value(key, None, "GET");
                            if !missed.is_empty() {
                                l.stale_reads.push(StaleRead {
                                    key: key.clone(),
                                    missed,
                                    what: format!(
                                        "GET {key} after SET {seq} ({fate:?}) returned nil"
                                    ),
                                });
                            }
                        }
                        Ok(other) => l.violations.push(format!("GET {key}: reply {other:?}")),
                        Err(e) => l.errors.add(&e),
                    }
                }
                1 => {
                    let key = &counters[round % counters.len()];
                    let r = c.query(["INCR", key]);
                    let at = Instant::now();
                    let m = l.counters.entry(key.clone()).or_default();
                    match r {
                        Ok(Value::Int(v)) => {
                            if let Err(e) = m.ok(v, at) {
                                l.violations.push(format!("INCR {key}: {e}"));
                            }
                        }
                        Ok(other) => l.violations.push(format!("INCR {key}: reply {other:?}")),
                        Err(e) => {
                            m.err(fate_of(&e));
                            l.errors.add(&e);
                        }
                    }
                }
                2 => {
                    let key = &lists[round % lists.len()];
                    let r = c.query(["RPUSH", key, &format!("{t}:{seq}")]);
                    let at = Instant::now();
                    let (m, pushes) = l.lists.entry(key.clone()).or_default();
                    let (fate, kind) = match r {
                        Ok(Value::Int(n)) => {
                            if let Err(e) = m.ok(n, at) {
                                l.violations.push(format!("RPUSH {key}: {e}"));
                            }
                            (Fate::Acked, None)
                        }
                        Ok(other) => {
                            l.violations.push(format!("RPUSH {key}: reply {other:?}"));
                            (Fate::Acked, None)
                        }
                        Err(e) => {
                            let fate = fate_of(&e);
                            m.err(fate);
                            l.errors.add(&e);
                            (fate, Some(e.kind()))
                        }
                    };
                    pushes.push(PushRecord {
                        seq,
                        fate,
                        kind,
                        at,
                    });
                }
                _ => {
                    let key = &fixed[(round + t * 7) % fixed.len()];
                    match c.query(["GET", key]) {
                        Ok(Value::Bulk(b)) if b == format!("{key}|init").as_bytes() => {
                            l.fixed_reads += 1;
                        }
                        Ok(other) => l.violations.push(format!("GET {key}: {other:?}")),
                        Err(e) => l.errors.add(&e),
                    }
                }
            }
        }
        l
    })
}

#[test]
fn failover_loop_under_mixed_load() {
    let _s = serial();
    let runtime = Runtime::start("failover_loop");
    let mut cluster = Cluster::start(3, 1);
    let c = client(&cluster, ReadFrom::Primary, TIMEOUT);
    let fixed = spread_keys(&cluster, "c1:fixed:", 30);
    for k in &fixed {
        c.query(["SET", k, &format!("{k}|init")]).unwrap();
    }
    assert!(
        cluster.wait_replicated(Duration::from_secs(20)),
        "replicas did not catch up: {}",
        cluster.describe()
    );
    let stop = StopOnDrop::default();
    let writers: Vec<_> = (0..THREADS)
        .map(|t| writer(t, c.clone(), fixed.clone(), stop.flag()))
        .collect();
    std::thread::sleep(Duration::from_millis(1000));

    let mut kills: Vec<Kill> = Vec::new();
    let mut cycle_lines = Vec::new();
    for cycle in 0..CYCLES {
        let slot = TARGET_SLOTS[cycle % TARGET_SLOTS.len()];
        let victim = cluster.primary_of_slot(slot);
        let owned: Vec<bool> = cluster.slot_owners().iter().map(|o| *o == victim).collect();
        let idx = cluster.index_of(&victim);
        let at = Instant::now();
        cluster.nodes[idx].kill();
        kills.push(Kill {
            at,
            addr: victim.clone(),
            owned,
        });
        let promoted = cluster.wait_healthy_except(&[&victim], Duration::from_secs(30));
        assert!(
            promoted,
            "cycle {cycle}: {victim}'s replica was not promoted: {}",
            cluster.describe()
        );
        let failover = at.elapsed();
        let new_primary = cluster.primary_of_slot(slot);
        // Load on the new primary while the old one is still down.
        std::thread::sleep(Duration::from_millis(500));
        cluster.nodes[idx].restart();
        let restarted = at.elapsed();
        let rejoined = wait_until(Duration::from_secs(30), || {
            cluster.nodes[idx]
                .info_field("replication", "role")
                .as_deref()
                == Some("slave")
                && cluster.wait_healthy_except(&[], Duration::ZERO)
        });
        assert!(
            rejoined,
            "cycle {cycle}: {victim} did not rejoin as a replica: {}",
            cluster.describe()
        );
        let line = format!(
            "cycle {cycle}: kill -9 {victim}; {new_primary} promoted after {failover:.1?}; \
             restarted at {restarted:.1?}, a replica again after {:.1?}",
            at.elapsed()
        );
        eprintln!("chaos/failover_loop: {line}");
        cycle_lines.push(line);
        std::thread::sleep(Duration::from_millis(700));
    }
    stop.stop();
    let ledgers: Vec<Ledger> = writers.into_iter().map(|h| h.join().unwrap()).collect();
    cluster.wait_healthy();
    let mut servers = Servers::new(&cluster);

    // The ledgers against the servers.
    let mut violations: Vec<String> = Vec::new();
    let mut client_faults: Vec<String> = Vec::new();
    let mut errors = ErrorTally::default();
    let (mut calls, mut fixed_reads) = (0, 0);
    let (mut failover_lost_tokens, mut failover_stale, mut failover_counter_loss) = (0, 0, 0);
    let (mut acked_tokens, mut maybe_tokens, mut failed_tokens, mut maybe_ran) = (0, 0, 0, 0);
    let mut timeout_kind_ran = 0;
    let (mut incr_acked, mut incr_maybe, mut incr_failed, mut incr_deficit) = (0, 0, 0, 0);
    let (mut set_acked, mut set_maybe, mut set_failed) = (0, 0, 0);
    for mut l in ledgers {
        calls += l.calls;
        fixed_reads += l.fixed_reads;
        errors.merge(&l.errors);
        violations.append(&mut l.violations);
        // Stale reads during the run.
        for s in std::mem::take(&mut l.stale_reads) {
            if s.missed
                .iter()
                .all(|&at| in_loss_window(&kills, &s.key, at))
            {
                failover_stale += 1;
            } else {
                client_faults.push(format!("stale read: {}", s.what));
            }
        }
        // SET keys: the final value.
        let keys: Vec<String> = l.sets.keys().cloned().collect();
        for key in keys {
            let recs = &l.sets[&key];
            set_acked += recs.iter().filter(|r| r.fate == Fate::Acked).count();
            set_maybe += recs.iter().filter(|r| r.fate == Fate::Maybe).count();
            set_failed += recs.iter().filter(|r| r.fate == Fate::Failed).count();
            let value = servers.get(&key);
            let missed = l.check_value(&key, value.as_deref(), "final");
            if missed.iter().all(|&at| in_loss_window(&kills, &key, at)) {
                failover_stale += usize::from(!missed.is_empty());
            } else {
                client_faults.push(format!(
                    "final {key} = {:?} misses {} acknowledged SET(s) outside any loss window",
                    value.map(|v| String::from_utf8_lossy(&v).into_owned()),
                    missed.len()
                ));
            }
        }
        violations.append(&mut l.violations);
        // Counters.
        for (key, m) in &l.counters {
            let v = servers.counter(key);
            incr_acked += m.acked;
            incr_maybe += m.maybe;
            incr_failed += m.failed;
            if v > (m.acked + m.maybe) as i64 {
                violations.push(format!(
                    "{key} = {v} > {} acknowledged + {} indeterminate INCRs",
                    m.acked, m.maybe
                ));
            }
            if v < m.acked as i64 {
                incr_deficit += m.acked as i64 - v;
            }
            for &(prev, now, _) in &m.regressions {
                // The first acknowledgement the regression undid must be a failover loss.
                let first_lost = m.history.iter().find(|(x, _)| *x >= now).map(|p| p.1);
                match first_lost {
                    Some(at) if in_loss_window(&kills, key, at) => failover_counter_loss += 1,
                    _ => client_faults.push(format!(
                        "INCR {key}: reply {now} after {prev} outside any loss window"
                    )),
                }
            }
        }
        // Lists.
        for (key, (_, pushes)) in &l.lists {
            let stored = servers.list(key);
            let by_seq: HashMap<u64, &PushRecord> = pushes.iter().map(|p| (p.seq, p)).collect();
            let mut seen = HashSet::new();
            let mut last = 0;
            for token in &stored {
                let Some((w, seq)) = parse_token(token) else {
                    violations.push(format!("{key}: unparseable token {token:?}"));
                    continue;
                };
                if w != l.writer {
                    violations.push(format!("{key}: token {token} of another writer"));
                    continue;
                }
                if !seen.insert(seq) {
                    violations.push(format!("{key}: token {token} twice (a write ran twice)"));
                }
                if seq <= last {
                    violations.push(format!("{key}: token {token} after {last} (reordered)"));
                }
                last = seq;
                match by_seq.get(&seq) {
                    None => violations.push(format!("{key}: token {token} was never sent")),
                    Some(p) if p.fate == Fate::Failed => violations.push(format!(
                        "{key}: RPUSH {token} reported as definitely failed ({:?}) ran",
                        p.kind
                    )),
                    Some(p) if p.fate == Fate::Maybe => {
                        maybe_ran += 1;
                        if p.kind == Some(ErrorKind::Timeout) {
                            timeout_kind_ran += 1;
                        }
                    }
                    Some(_) => {}
                }
            }
            for p in pushes {
                match p.fate {
                    Fate::Acked => acked_tokens += 1,
                    Fate::Maybe => maybe_tokens += 1,
                    Fate::Failed => failed_tokens += 1,
                }
                if p.fate == Fate::Acked && !seen.contains(&p.seq) {
                    if in_loss_window(&kills, key, p.at) {
                        failover_lost_tokens += 1;
                    } else {
                        let since_kill: Vec<String> = kills
                            .iter()
                            .map(|k| {
                                if p.at >= k.at {
                                    format!("+{:.3?} after killing {}", p.at - k.at, k.addr)
                                } else {
                                    format!("-{:.3?} before killing {}", k.at - p.at, k.addr)
                                }
                            })
                            .collect();
                        client_faults.push(format!(
                            "{key}: acknowledged token {}:{} missing ({})",
                            l.writer,
                            p.seq,
                            since_kill.join(", ")
                        ));
                    }
                }
            }
        }
    }
    let s = c.stats();
    eprintln!(
        "chaos/failover_loop: SUMMARY {CYCLES} kill -9 cycles, {calls} calls by {THREADS} threads \
         ({fixed_reads} fixed reads ok); errors {:?}; \
         RPUSH tokens acked {acked_tokens} / indeterminate {maybe_tokens} (ran {maybe_ran}, of \
         which plain-timeout {timeout_kind_ran}) / failed {failed_tokens}; SET acked {set_acked} / \
         indeterminate {set_maybe} / failed {set_failed}; INCR acked {incr_acked} / indeterminate \
         {incr_maybe} / failed {incr_failed} (acked increments missing {incr_deficit}); \
         wrong-caller/definite-failure-ran/duplicate violations {}; acknowledged writes lost by \
         the failover (within {LOSS_WINDOW:?} of a kill): tokens {failover_lost_tokens}, stale \
         values {failover_stale}, counter regressions {failover_counter_loss}; client faults {}; \
         client cluster stats {:?}; runtime {:.1?}",
        errors.0,
        violations.len(),
        client_faults.len(),
        s.cluster,
        runtime.elapsed()
    );
    assert_none("violations", &violations);
    assert!(
        client_faults.is_empty(),
        "{} client faults (acknowledged writes missing outside any failover's loss window): {}",
        client_faults.len(),
        first(&client_faults, 10)
    );
    assert!(
        acked_tokens > 1000,
        "too little load: {acked_tokens} tokens"
    );
    assert_eq!(cycle_lines.len(), CYCLES);
}
