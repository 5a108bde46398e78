//! Scenario 3, `CLIENT KILL TYPE normal` on every node in the middle of a pipeline of 1000
//! commands across the 3 shards: GETs of fixed 32 KiB values, SETs of fresh keys (8 KiB
//! tagged values), INCRs of fresh counters and of six shared counters. The GET replies (≈4
//! MiB per node) overflow the socket buffers, so each server is still writing while the
//! client reads another node's replies. Another thread fires the kills at a fraction of the
//! pipeline's measured duration; runs repeat (bounded) until at least [`HITS`] runs were
//! hit while in flight.
//!
//! Assertions, entry by entry in submission order: a correct reply (the GET's exact value,
//! `OK`, the fresh counter's 1, a shared counter's increasing value within what was sent)
//! or a typed connection-level error — Io / Indeterminate / Connect / Timeout, or Protocol
//! for a reply the kill cut off in the middle (RELIABILITY.md: every request on a connection
//! that delivered a broken reply fails; a read is not retried on it) — never a wrong value.
//! Afterwards, from the servers: every acknowledged SET/INCR is there, every definitely
//! failed one is not, shared counters are within [acknowledged, acknowledged +
//! indeterminate].

use std::time::{Duration, Instant};

use shardis::{Cmd, ErrorKind, ReadFrom, Value};
use shardis_tests::Cluster;

use crate::{
    ErrorTally, Fate, Runtime, Servers, assert_none, client, fate_of, serial, spread_keys,
};

const PIPELINE: usize = 1000;
const FIXED: usize = 200;
const VALUE_SIZE: usize = 8192;
const FIXED_SIZE: usize = 32768;
const SHARED: usize = 6;
const MAX_RUNS: usize = 16;
/// Runs hit in flight before stopping.
const HITS: usize = 5;
/// Where in the pipeline's duration the kills fire, run after run.
const FRACTIONS: [f64; 8] = [0.5, 0.25, 0.75, 0.1, 0.4, 0.6, 0.9, 0.33];

fn padding() -> String {
    "x".repeat(VALUE_SIZE)
}

fn fixed_value(key: &str) -> String {
    format!("{key}|0:0|{}", "f".repeat(FIXED_SIZE))
}

/// What entry `i` of run `r` is.
enum Entry {
    Get { expected: String },
    Set { key: String, value: String },
    Fresh { key: String },
    Shared { key: String },
}

fn build(run: usize, fixed: &[String]) -> (Vec<Cmd>, Vec<Entry>) {
    let mut cmds = Vec::with_capacity(PIPELINE);
    let mut entries = Vec::with_capacity(PIPELINE);
    for i in 0..PIPELINE {
        match i % 10 {
            0..=3 => {
                let key = &fixed[(i * 7 + run) % fixed.len()];
                cmds.push(Cmd::from_args(["GET", key.as_str()]));
                entries.push(Entry::Get {
                    expected: fixed_value(key),
                });
            }
            4..=6 => {
                let key = format!("ck:w:{run}:{i}");
                let value = format!("{key}|0:{i}|{}", padding());
                cmds.push(Cmd::from_args(["SET", key.as_str(), value.as_str()]));
                entries.push(Entry::Set { key, value });
            }
            7 | 8 => {
                let key = format!("ck:c:{run}:{i}");
                cmds.push(Cmd::from_args(["INCR", key.as_str()]));
                entries.push(Entry::Fresh { key });
            }
            _ => {
                let key = format!("ck:cc:{run}:{}", (i / 10) % SHARED);
                cmds.push(Cmd::from_args(["INCR", key.as_str()]));
                entries.push(Entry::Shared { key });
            }
        }
    }
    (cmds, entries)
}

fn allowed(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Io
            | ErrorKind::Indeterminate
            | ErrorKind::Connect
            | ErrorKind::Timeout
            | ErrorKind::Protocol
    )
}

fn short(v: &Value) -> String {
    let s = format!("{v:?}");
    if s.len() > 80 {
        format!("{}…", &s[..80])
    } else {
        s
    }
}

#[test]
fn client_kill_in_the_middle_of_a_pipeline() {
    let _s = serial();
    let runtime = Runtime::start("client_kill");
    let cluster = Cluster::start(3, 0);
    let c = client(&cluster, ReadFrom::Primary, Duration::from_secs(5));
    let fixed = spread_keys(&cluster, "ck:fixed:", FIXED);
    let load: Vec<Cmd> = fixed
        .iter()
        .map(|k| Cmd::from_args(["SET", k.as_str(), fixed_value(k).as_str()]))
        .collect();
    for r in c.pipeline(&load) {
        assert!(r.unwrap().is_ok());
    }
    let primaries = cluster.primaries();
    let mut killers: Vec<(String, redis::Connection)> = primaries
        .iter()
        .map(|p| (p.clone(), cluster.node(p).connection()))
        .collect();

    let mut violations: Vec<String> = Vec::new();
    let mut tally = ErrorTally::default();
    let (mut hits, mut runs, mut entries_checked) = (0, 0, 0);
    let mut baseline = Duration::ZERO;
    let mut run_lines = Vec::new();
    for run in 0..MAX_RUNS {
        if hits >= HITS {
            break;
        }
        runs += 1;
        let (cmds, entries) = build(run, &fixed);
        let before = c.stats();
        // Run 0 measures the pipeline undisturbed; later runs kill at a fraction of that.
        let delay = (run > 0).then(|| baseline.mul_f64(FRACTIONS[run % FRACTIONS.len()]));
        let start = Instant::now();
        let killer = delay.map(|d| {
            let mut cons = std::mem::take(&mut killers);
            std::thread::spawn(move || {
                std::thread::sleep(d);
                let fired = start.elapsed();
                let killed: Vec<i64> = cons
                    .iter_mut()
                    .map(|(addr, con)| {
                        redis::cmd("CLIENT")
                            .arg("KILL")
                            .arg("TYPE")
                            .arg("normal")
                            .query(con)
                            .unwrap_or_else(|e| panic!("CLIENT KILL on {addr}: {e}"))
                    })
                    .collect();
                (cons, fired, killed)
            })
        });
        let replies = c.pipeline(&cmds);
        let took = start.elapsed();
        let (fired, killed) = match killer {
            Some(h) => {
                let (cons, fired, killed) = h.join().unwrap();
                killers = cons;
                (Some(fired), killed)
            }
            None => {
                baseline = took;
                (None, vec![])
            }
        };
        let after = c.stats();
        let node_errors: u64 = after.nodes.values().map(|n| n.errors).sum::<u64>()
            - before.nodes.values().map(|n| n.errors).sum::<u64>();
        let connects: u64 = after.nodes.values().map(|n| n.connects).sum::<u64>()
            - before.nodes.values().map(|n| n.connects).sum::<u64>();

        // Entry by entry, in order.
        assert_eq!(replies.len(), PIPELINE);
        let mut servers = Servers::new(&cluster);
        let mut run_tally = ErrorTally::default();
        let mut shared: std::collections::HashMap<&str, (i64, u64, u64, u64)> =
            std::collections::HashMap::new();
        for (i, (entry, reply)) in entries.iter().zip(&replies).enumerate() {
            entries_checked += 1;
            if let Err(e) = reply {
                run_tally.add(e);
                if !allowed(e.kind()) {
                    violations.push(format!(
                        "run {run} entry {i} ({}): error kind {} is not Io / Indeterminate / \
                         Connect / Timeout / Protocol: {e:?}",
                        String::from_utf8_lossy(cmds[i].get(0).unwrap_or_default()),
                        e.kind()
                    ));
                }
            }
            match entry {
                Entry::Get { expected } => match reply {
                    Ok(Value::Bulk(b)) if b == expected.as_bytes() => {}
                    Ok(other) => violations.push(format!(
                        "run {run} entry {i}: GET returned {} instead of its value",
                        short(other)
                    )),
                    Err(_) => {}
                },
                Entry::Set { key, value } => {
                    let fate = match reply {
                        Ok(Value::Okay) => Fate::Acked,
                        Ok(other) => {
                            violations.push(format!("run {run} entry {i}: SET → {}", short(other)));
                            Fate::Acked
                        }
                        Err(e) => fate_of(e),
                    };
                    let stored = servers.get(key);
                    let ok = match (fate, stored.as_deref()) {
                        (Fate::Acked, Some(s)) => s == value.as_bytes(),
                        (Fate::Acked, None) => false,
                        (Fate::Failed, s) => s.is_none(),
                        (Fate::Maybe, s) => s.is_none_or(|s| s == value.as_bytes()),
                    };
                    if !ok {
                        violations.push(format!(
                            "run {run} entry {i}: SET {key} {fate:?}, server holds {:?}",
                            stored.map(
                                |s| String::from_utf8_lossy(&s[..s.len().min(40)]).into_owned()
                            )
                        ));
                    }
                }
                Entry::Fresh { key } => {
                    let fate = match reply {
                        Ok(Value::Int(1)) => Fate::Acked,
                        Ok(other) => {
                            violations.push(format!(
                                "run {run} entry {i}: INCR of a fresh key → {}",
                                short(other)
                            ));
                            Fate::Acked
                        }
                        Err(e) => fate_of(e),
                    };
                    let v = servers.counter(key);
                    let ok = match fate {
                        Fate::Acked => v == 1,
                        Fate::Failed => v == 0,
                        Fate::Maybe => v == 0 || v == 1,
                    };
                    if !ok {
                        violations.push(format!(
                            "run {run} entry {i}: INCR {key} {fate:?}, server holds {v}"
                        ));
                    }
                }
                Entry::Shared { key } => {
                    // (last acknowledged reply, sent, acknowledged, indeterminate)
                    let st = shared.entry(key.as_str()).or_insert((0, 0, 0, 0));
                    st.1 += 1;
                    match reply {
                        Ok(Value::Int(v)) => {
                            // Increasing, and no more than the INCRs sent so far.
                            if *v <= st.0 || *v as u64 > st.1 {
                                violations.push(format!(
                                    "run {run} entry {i}: INCR {key} → {v} after {} with {} sent",
                                    st.0, st.1
                                ));
                            }
                            st.0 = *v;
                            st.2 += 1;
                        }
                        Ok(other) => violations.push(format!(
                            "run {run} entry {i}: INCR {key} → {}",
                            short(other)
                        )),
                        Err(e) => {
                            if fate_of(e) == Fate::Maybe {
                                st.3 += 1;
                            }
                        }
                    }
                }
            }
        }
        for (key, (last, _, acked, maybe)) in &shared {
            let v = servers.counter(key);
            if v < (*acked as i64).max(*last) || v > (acked + maybe) as i64 {
                violations.push(format!(
                    "run {run}: {key} = {v}, {acked} acknowledged (last reply {last}), {maybe} \
                     indeterminate"
                ));
            }
        }
        let failed = run_tally.total();
        let inside = fired.is_some_and(|f| f < took);
        let hit = inside && (failed > 0 || node_errors > 0);
        hits += usize::from(hit);
        let line = format!(
            "run {run}: pipeline {took:.1?}, kills {} (clients killed per node {killed:?}), \
             {failed} failed entries {:?}, node errors +{node_errors}, connects +{connects}{}",
            fired.map_or("none".to_string(), |f| format!("at {f:.1?}")),
            run_tally.0,
            if hit { ", HIT in flight" } else { "" }
        );
        eprintln!("chaos/client_kill: {line}");
        run_lines.push(line);
        tally.merge(&run_tally);
    }
    eprintln!(
        "chaos/client_kill: SUMMARY {runs} runs of {PIPELINE}-command pipelines over {} shards, \
         {hits} hit in flight; {entries_checked} entries checked; errors {:?}; violations {}; \
         client cluster stats {:?}; runtime {:.1?}",
        primaries.len(),
        tally.0,
        violations.len(),
        c.stats().cluster,
        runtime.elapsed()
    );
    assert_none("violations", &violations);
    assert!(
        hits >= 1,
        "no run was hit while its pipeline was in flight: {run_lines:#?}"
    );
}
