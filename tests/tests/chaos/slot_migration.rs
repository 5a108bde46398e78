//! Scenario 2, slot migration under load: three ranges of slots move between the primaries
//! (`CLUSTER SETSLOT … IMPORTING/MIGRATING`, `MIGRATE … KEYS` a key or two at a time,
//! `SETSLOT … NODE`) and then back, while writers (SET, RPUSH, INCR and an MGET of their
//! own keys) and readers (GET) run on keys living in exactly those slots; twice.
//!
//! Assertions: 0 errors on any call; a writer's MGET of its own keys returns exactly what
//! it last wrote (read-your-writes through ASK/MOVED/TRYAGAIN); a reader never sees a
//! value of another key, nor an older value of a key after a newer one (the primary is the
//! only copy, so reads are linearizable); afterwards, from the servers, every key holds its
//! writer's last acknowledged value, every list is exactly the acknowledged tokens in
//! order, every counter equals its acknowledged INCRs, and each moved slot's keys live on
//! its new owner only.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use shardis::{Client, ReadFrom, Value};
use shardis_tests::Cluster;
use shardis_tests::cluster::key_slot;

use crate::{
    ErrorTally, Runtime, Servers, StopOnDrop, client, first, parse_tagged, serial, tagged,
};

const WRITERS: usize = 3;
const READERS: usize = 2;
/// Slots per moved range.
const RANGE: u16 = 30;
/// String keys per slot (one hash tag per slot), besides a list and a counter.
const KEYS_PER_SLOT: usize = 3;

/// A hash tag for every slot of `slots`.
fn tags_for(slots: &[u16]) -> HashMap<u16, String> {
    let mut tags = HashMap::new();
    let mut n: u64 = 0;
    while tags.len() < slots.len() {
        let tag = format!("m{n}");
        let slot = key_slot(tag.as_bytes());
        if slots.contains(&slot) {
            tags.entry(slot).or_insert(tag);
        }
        n += 1;
        assert!(n < 10_000_000, "no tag found for some slots");
    }
    tags
}

/// One slot's keys, owned by one writer.
#[derive(Clone)]
struct SlotKeys {
    strings: Vec<String>,
    list: String,
    counter: String,
}

#[derive(Default)]
struct WriterLog {
    last: HashMap<String, String>,
    tokens: HashMap<String, Vec<String>>,
    incrs: HashMap<String, i64>,
    errors: Vec<String>,
    tally: ErrorTally,
    mismatches: Vec<String>,
    calls: u64,
}

fn writer(
    w: usize,
    c: Client,
    slots: Vec<SlotKeys>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<WriterLog> {
    std::thread::spawn(move || {
        let mut log = WriterLog::default();
        let mut seq: u64 = 0;
        while !stop.load(Ordering::Relaxed) {
            seq += 1;
            let round = seq as usize / 4;
            let sk = &slots[round % slots.len()];
            log.calls += 1;
            match seq % 4 {
                0 | 1 => {
                    // Every pass over the slots shifts to the next keys.
                    let pass = round / slots.len() + seq as usize % 4;
                    let key = &sk.strings[pass % sk.strings.len()];
                    let value = tagged(key, w, seq);
                    match c.query(["SET", key, &value]) {
                        Ok(Value::Okay) => {
                            log.last.insert(key.clone(), value);
                        }
                        Ok(other) => log.mismatches.push(format!("SET {key}: {other:?}")),
                        Err(e) => {
                            log.tally.add(&e);
                            log.errors.push(format!("SET {key}: {e:?}"));
                        }
                    }
                }
                2 => {
                    let token = format!("{w}:{seq}");
                    match c.query(["RPUSH", &sk.list, &token]) {
                        Ok(Value::Int(n)) => {
                            let acked = log.tokens.entry(sk.list.clone()).or_default();
                            acked.push(token);
                            if n != acked.len() as i64 {
                                log.mismatches.push(format!(
                                    "RPUSH {}: length {n}, {} acknowledged",
                                    sk.list,
                                    acked.len()
                                ));
                            }
                        }
                        Ok(other) => log.mismatches.push(format!("RPUSH {}: {other:?}", sk.list)),
                        Err(e) => {
                            log.tally.add(&e);
                            log.errors.push(format!("RPUSH {}: {e:?}", sk.list));
                        }
                    }
                }
                _ => {
                    match c.query(["INCR", &sk.counter]) {
                        Ok(Value::Int(n)) => {
                            let acked = log.incrs.entry(sk.counter.clone()).or_default();
                            *acked += 1;
                            if n != *acked {
                                log.mismatches.push(format!(
                                    "INCR {}: {n}, {acked} acknowledged",
                                    sk.counter
                                ));
                            }
                        }
                        Ok(other) => log
                            .mismatches
                            .push(format!("INCR {}: {other:?}", sk.counter)),
                        Err(e) => {
                            log.tally.add(&e);
                            log.errors.push(format!("INCR {}: {e:?}", sk.counter));
                        }
                    }
                    // Read-your-writes across the slot's keys (one slot: TRYAGAIN while
                    // they are split between source and target).
                    log.calls += 1;
                    let mut args = vec!["MGET"];
                    args.extend(sk.strings.iter().map(String::as_str));
                    match c.query(args) {
                        Ok(Value::Array(values)) if values.len() == sk.strings.len() => {
                            for (key, v) in sk.strings.iter().zip(&values) {
                                let expected = log.last.get(key);
                                let ok = match (v, expected) {
                                    (Value::Nil, None) => true,
                                    (Value::Bulk(b), Some(e)) => b == e.as_bytes(),
                                    _ => false,
                                };
                                if !ok {
                                    log.mismatches.push(format!(
                                        "MGET {key}: {v:?}, last written {expected:?}"
                                    ));
                                }
                            }
                        }
                        Ok(other) => log.mismatches.push(format!("MGET: {other:?}")),
                        Err(e) => {
                            log.tally.add(&e);
                            log.errors.push(format!("MGET {}: {e:?}", sk.strings[0]));
                        }
                    }
                }
            }
        }
        log
    })
}

#[derive(Default)]
struct ReaderLog {
    reads: u64,
    errors: Vec<String>,
    tally: ErrorTally,
    anomalies: Vec<String>,
}

fn reader(r: usize, c: Client, keys: Vec<String>, stop: Arc<AtomicBool>) -> JoinHandle<ReaderLog> {
    std::thread::spawn(move || {
        let mut log = ReaderLog::default();
        let mut seen: HashMap<&str, u64> = HashMap::new();
        let mut i = r * 13;
        while !stop.load(Ordering::Relaxed) {
            i += 7;
            let key = &keys[i % keys.len()];
            log.reads += 1;
            match c.query(["GET", key]) {
                Ok(Value::Nil) => {
                    if let Some(s) = seen.get(key.as_str()) {
                        log.anomalies.push(format!("GET {key}: nil after seq {s}"));
                    }
                }
                Ok(Value::Bulk(b)) => match parse_tagged(&b) {
                    Some((k, _, s)) if k == *key => {
                        let before = seen.insert(key, s).unwrap_or(0);
                        if s < before {
                            log.anomalies
                                .push(format!("GET {key}: seq {s} after seq {before}"));
                        }
                    }
                    _ => log.anomalies.push(format!(
                        "GET {key}: {:?} is not this key's",
                        String::from_utf8_lossy(&b)
                    )),
                },
                Ok(other) => log.anomalies.push(format!("GET {key}: {other:?}")),
                Err(e) => {
                    log.tally.add(&e);
                    log.errors.push(format!("GET {key}: {e:?}"));
                }
            }
        }
        log
    })
}

#[test]
fn slot_migration_under_load() {
    let _s = serial();
    let runtime = Runtime::start("slot_migration");
    let cluster = Cluster::start(3, 0);
    let primaries = cluster.primaries();
    let owners = cluster.slot_owners();
    // One range inside each primary's slots, each moving to the next primary.
    let mut moves: Vec<(std::ops::RangeInclusive<u16>, String, String)> = Vec::new();
    for (i, p) in primaries.iter().enumerate() {
        let start = owners.iter().position(|o| o == p).unwrap() as u16 + 1000;
        assert_eq!(owners[(start + RANGE) as usize], *p);
        let to = primaries[(i + 1) % primaries.len()].clone();
        moves.push((start..=start + RANGE - 1, p.clone(), to));
    }
    let slots: Vec<u16> = moves.iter().flat_map(|(r, _, _)| r.clone()).collect();
    let tags = tags_for(&slots);
    let mut per_writer: Vec<Vec<SlotKeys>> = vec![Vec::new(); WRITERS];
    let mut all_strings = Vec::new();
    for (n, slot) in slots.iter().enumerate() {
        let tag = &tags[slot];
        let sk = SlotKeys {
            strings: (0..KEYS_PER_SLOT)
                .map(|k| format!("{{{tag}}}:s{k}"))
                .collect(),
            list: format!("{{{tag}}}:list"),
            counter: format!("{{{tag}}}:ctr"),
        };
        all_strings.extend(sk.strings.iter().cloned());
        per_writer[n % WRITERS].push(sk);
    }
    let c = client(&cluster, ReadFrom::Primary, Duration::from_secs(3));
    let stop = StopOnDrop::default();
    let writers: Vec<_> = per_writer
        .iter()
        .enumerate()
        .map(|(w, sks)| writer(w, c.clone(), sks.clone(), stop.flag()))
        .collect();
    let readers: Vec<_> = (0..READERS)
        .map(|r| reader(r, c.clone(), all_strings.clone(), stop.flag()))
        .collect();
    std::thread::sleep(Duration::from_millis(500));

    let started = Instant::now();
    let mut moved_keys = 0;
    let mut lines = Vec::new();
    // Even rounds move each range on, odd rounds move it back.
    for (round, batch) in [(0, 1), (1, 2), (2, 1), (3, 3)] {
        for (range, from, to) in &moves {
            let (src, dst) = if round % 2 == 0 {
                (from, to)
            } else {
                (to, from)
            };
            let t = Instant::now();
            let n = cluster.migrate_slots(range.clone(), dst, batch, || {
                std::thread::sleep(Duration::from_millis(3))
            });
            moved_keys += n;
            let line = format!(
                "slots {}-{} {src} → {dst}: {n} keys in batches of {batch}, {:.1?}",
                range.start(),
                range.end(),
                t.elapsed()
            );
            eprintln!("chaos/slot_migration: {line}");
            lines.push(line);
            assert!(
                cluster.wait_healthy_except(&[], Duration::from_secs(30)),
                "{}",
                cluster.describe()
            );
        }
    }
    let migrating = started.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    stop.stop();
    let wlogs: Vec<WriterLog> = writers.into_iter().map(|h| h.join().unwrap()).collect();
    let rlogs: Vec<ReaderLog> = readers.into_iter().map(|h| h.join().unwrap()).collect();

    // From the servers.
    cluster.wait_healthy();
    let mut servers = Servers::new(&cluster);
    let mut wrong = Vec::new();
    let (mut keys_checked, mut tokens_checked, mut counters_checked) = (0, 0, 0);
    for log in &wlogs {
        for (key, value) in &log.last {
            keys_checked += 1;
            let got = servers.get(key);
            if got.as_deref() != Some(value.as_bytes()) {
                wrong.push(format!(
                    "{key} = {:?}, last acknowledged {value}",
                    got.map(|g| String::from_utf8_lossy(&g).into_owned())
                ));
            }
        }
        for (list, acked) in &log.tokens {
            tokens_checked += acked.len();
            let stored = servers.list(list);
            if stored != *acked {
                wrong.push(format!(
                    "{list}: {} stored, {} acknowledged (first difference at {:?})",
                    stored.len(),
                    acked.len(),
                    stored.iter().zip(acked).position(|(a, b)| a != b)
                ));
            }
        }
        for (counter, acked) in &log.incrs {
            counters_checked += 1;
            let v = servers.counter(counter);
            if v != *acked {
                wrong.push(format!("{counter} = {v}, {acked} acknowledged INCRs"));
            }
        }
    }
    // Each moved slot's keys live on its owner only.
    for slot in &slots {
        let owner = servers.owner(&format!("{{{}}}", tags[slot])).to_string();
        for p in &primaries {
            let n = match cluster
                .node(p)
                .cmd(&["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()])
            {
                redis::Value::Int(n) => n,
                other => panic!("{other:?}"),
            };
            if (*p == owner) != (n > 0) {
                wrong.push(format!("slot {slot}: {n} keys on {p}, owner {owner}"));
            }
        }
    }

    let mut errors = Vec::new();
    let mut anomalies = Vec::new();
    let mut tally = ErrorTally::default();
    let (mut calls, mut reads) = (0, 0);
    for l in &wlogs {
        errors.extend(l.errors.iter().cloned());
        anomalies.extend(l.mismatches.iter().cloned());
        tally.merge(&l.tally);
        calls += l.calls;
    }
    for l in &rlogs {
        errors.extend(l.errors.iter().cloned());
        anomalies.extend(l.anomalies.iter().cloned());
        tally.merge(&l.tally);
        reads += l.reads;
    }
    let s = c.stats();
    eprintln!(
        "chaos/slot_migration: SUMMARY {} slots moved and back twice ({moved_keys} keys migrated) in \
         {migrating:.1?}; {calls} writer calls, {reads} reads; errors {} {:?}; read anomalies / \
         read-your-writes misses {}; after: {keys_checked} keys, {tokens_checked} list tokens, \
         {counters_checked} counters checked on the servers, {} wrong; client cluster stats {:?}; \
         runtime {:.1?}",
        slots.len(),
        errors.len(),
        tally.0,
        anomalies.len(),
        wrong.len(),
        s.cluster,
        runtime.elapsed()
    );
    assert!(
        errors.is_empty(),
        "{} errors: {}",
        errors.len(),
        first(&errors, 10)
    );
    assert!(
        anomalies.is_empty(),
        "{} anomalies: {}",
        anomalies.len(),
        first(&anomalies, 10)
    );
    assert!(
        wrong.is_empty(),
        "{} wrong: {}",
        wrong.len(),
        first(&wrong, 10)
    );
    assert!(
        s.cluster.ask > 0,
        "the ASK path was not exercised: {:?}",
        s.cluster
    );
    assert!(
        s.cluster.moved > 0,
        "no MOVED after the moves: {:?}",
        s.cluster
    );
    assert!(
        keys_checked > 100 && tokens_checked > 100,
        "too little load"
    );
}
