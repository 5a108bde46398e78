//! Scenario 5, `CLIENT PAUSE 2000 WRITE` on one primary while readers GET keys of every
//! shard and writers SET / INCR keys of the paused shard and of the others (call deadline
//! `timeout` = [`DEADLINE`]).
//!
//! Assertions (generous bounds only; durations are printed): reads of every shard, the
//! paused one included, complete during the pause, with 0 errors; writes to the other
//! shards: 0 errors; every write to the paused shard either succeeds (after the pause, if
//! sent during it) or ends as a typed Timeout / Indeterminate error, and no call ends later
//! than the deadline plus [`MARGIN`]; afterwards, from the servers, each key holds its last
//! acknowledged value or a later indeterminate one, and each counter is within
//! [acknowledged, acknowledged + indeterminate].

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use shardis::{Client, ErrorKind, ReadFrom, Value};
use shardis_tests::Cluster;

use crate::{
    ErrorTally, Fate, Runtime, Servers, StopOnDrop, client, fate_of, first, parse_tagged, serial,
    tagged,
};

const DEADLINE: Duration = Duration::from_secs(1);
/// Scheduling slack on a busy 2-core machine.
const MARGIN: Duration = Duration::from_millis(1500);
const PAUSE_MS: u64 = 2000;

/// One call as its thread saw it: started (since the test's epoch), took, outcome.
struct Call {
    start: Duration,
    took: Duration,
    write: bool,
    paused_shard: bool,
    error: Option<shardis::Error>,
    what: String,
}

#[derive(Default)]
struct Log {
    calls: Vec<Call>,
    /// SET key → (seq, fate) in order.
    sets: HashMap<String, Vec<(u64, Fate)>>,
    /// Counter → (acknowledged, indeterminate).
    incrs: HashMap<String, (i64, i64)>,
    wrong: Vec<String>,
}

/// A thread doing `op` on `keys` in turn: "GET", or "WRITE" (SET then INCR alternately).
fn worker(
    w: usize,
    c: Client,
    keys: Vec<String>,
    write: bool,
    paused_shard: bool,
    epoch: Instant,
    stop: Arc<AtomicBool>,
) -> JoinHandle<Log> {
    std::thread::spawn(move || {
        let mut log = Log::default();
        let mut seq: u64 = 0;
        while !stop.load(Ordering::Relaxed) {
            seq += 1;
            let key = &keys[seq as usize % keys.len()];
            let start = Instant::now();
            let (r, kind) = if !write {
                (c.query(["GET", key]), "GET")
            } else if seq.is_multiple_of(2) {
                (c.query(["SET", key, &tagged(key, w, seq)]), "SET")
            } else {
                (c.query(["INCR", &format!("{key}:ctr")]), "INCR")
            };
            let took = start.elapsed();
            let error = r.as_ref().err().cloned();
            let what = match &r {
                Ok(v) => format!("{kind} {key} → {v:?}"),
                Err(e) => format!("{kind} {key} → {e:?}"),
            };
            match (kind, &r) {
                ("GET", Ok(Value::Bulk(b))) => match parse_tagged(b) {
                    Some((k, _, _)) if k == *key => {}
                    _ => log
                        .wrong
                        .push(format!("GET {key}: {}", String::from_utf8_lossy(b))),
                },
                ("GET", Ok(Value::Nil)) => {}
                ("SET", Ok(Value::Okay)) => log
                    .sets
                    .entry(key.clone())
                    .or_default()
                    .push((seq, Fate::Acked)),
                ("SET", Err(e)) => log
                    .sets
                    .entry(key.clone())
                    .or_default()
                    .push((seq, fate_of(e))),
                ("INCR", Ok(Value::Int(_))) => {
                    log.incrs.entry(format!("{key}:ctr")).or_default().0 += 1
                }
                ("INCR", Err(e)) => {
                    if fate_of(e) == Fate::Maybe {
                        log.incrs.entry(format!("{key}:ctr")).or_default().1 += 1
                    }
                }
                (_, Err(_)) => {}
                (_, Ok(other)) => log.wrong.push(format!("{kind} {key}: {other:?}")),
            }
            log.calls.push(Call {
                start: start - epoch,
                took,
                write,
                paused_shard,
                error,
                what,
            });
        }
        log
    })
}

#[test]
fn client_pause_write_on_a_primary() {
    let _s = serial();
    let runtime = Runtime::start("client_pause");
    let cluster = Cluster::start(3, 0);
    let c = client(&cluster, ReadFrom::Primary, DEADLINE);
    let primaries = cluster.primaries();
    let paused = primaries[0].clone();
    // 20 keys per shard, each written once before.
    let mut by_shard: HashMap<String, Vec<String>> = HashMap::new();
    {
        let servers = Servers::new(&cluster);
        let mut i = 0;
        while by_shard.values().map(Vec::len).sum::<usize>() < 20 * primaries.len() {
            // The counter `{key}:ctr` shares the key's slot (the hash tag).
            let key = format!("cp:{{{i}}}");
            i += 1;
            let owner = servers.owner(&key).to_string();
            let keys = by_shard.entry(owner).or_default();
            if keys.len() < 20 {
                c.query(["SET", &key, &tagged(&key, 9, 0)]).unwrap();
                keys.push(key);
            }
        }
    }
    let epoch = Instant::now();
    let stop = StopOnDrop::default();
    let mut workers = Vec::new();
    for (n, p) in primaries.iter().enumerate() {
        let keys = by_shard[p].clone();
        let is_paused = *p == paused;
        // A reader per shard; four writers on the paused shard, one on each other shard.
        workers.push(worker(
            n,
            c.clone(),
            keys.clone(),
            false,
            is_paused,
            epoch,
            stop.flag(),
        ));
        let writers = if is_paused { 4 } else { 1 };
        for w in 0..writers {
            // Writers own disjoint keys (their tags carry their number).
            let mine: Vec<String> = keys.iter().skip(w).step_by(writers).cloned().collect();
            workers.push(worker(
                10 + n * 4 + w,
                c.clone(),
                mine,
                true,
                is_paused,
                epoch,
                stop.flag(),
            ));
        }
    }
    std::thread::sleep(Duration::from_millis(400));
    // The pause starts between sending the command and its reply; it ends PAUSE_MS later.
    let mut admin = cluster.node(&paused).connection();
    let sent_at = epoch.elapsed();
    let ok: redis::Value = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(PAUSE_MS)
        .arg("WRITE")
        .query(&mut admin)
        .unwrap();
    let pause_at = epoch.elapsed();
    assert_eq!(ok, redis::Value::Okay);
    let pause_end = sent_at + Duration::from_millis(PAUSE_MS);
    std::thread::sleep(Duration::from_millis(PAUSE_MS) + DEADLINE + Duration::from_millis(500));
    stop.stop();
    let logs: Vec<Log> = workers.into_iter().map(|h| h.join().unwrap()).collect();

    let mut problems = Vec::new();
    let mut wrong = Vec::new();
    let mut tally = ErrorTally::default();
    // Per shard: reads completed inside the pause.
    let mut reads_in_pause: HashMap<bool, u64> = HashMap::new();
    let (mut read_longest, mut other_write_longest, mut paused_write_longest) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut during, mut succeeded_after, mut typed_timeouts, mut reads) = (0, 0, 0, 0);
    let mut longest_paused_write_start = Duration::ZERO;
    for l in &logs {
        wrong.extend(l.wrong.iter().cloned());
        for call in &l.calls {
            let end = call.start + call.took;
            if let Some(e) = &call.error {
                tally.add(e);
            }
            if call.took > DEADLINE + MARGIN {
                problems.push(format!(
                    "a {} call started at {:.3?} took {:.3?} > deadline {DEADLINE:?} + {MARGIN:?}",
                    if call.write { "write" } else { "read" },
                    call.start,
                    call.took
                ));
            }
            if !call.write {
                reads += 1;
                read_longest = read_longest.max(call.took);
                if let Some(e) = &call.error {
                    problems.push(format!("read error at {:.3?}: {e:?}", call.start));
                }
                if call.start > pause_at && end < pause_end {
                    *reads_in_pause.entry(call.paused_shard).or_default() += 1;
                }
                continue;
            }
            if !call.paused_shard {
                other_write_longest = other_write_longest.max(call.took);
                if let Some(e) = &call.error {
                    problems.push(format!("write to an unpaused shard failed: {e:?}"));
                }
                continue;
            }
            if call.took > paused_write_longest {
                paused_write_longest = call.took;
                longest_paused_write_start = call.start;
            }
            let sent_during = call.start >= pause_at && call.start < pause_end;
            during += u64::from(sent_during);
            match &call.error {
                None if sent_during => {
                    succeeded_after += 1;
                    // Generous: it cannot have been acknowledged long before the pause ended.
                    if end + Duration::from_millis(300) < pause_end {
                        problems.push(format!(
                            "a write sent at {:.3?} into the pause succeeded at {:.3?}, before \
                             it ended at {pause_end:.3?}: {}",
                            call.start, end, call.what
                        ));
                    }
                }
                None => {}
                Some(e) => {
                    if e.kind() == ErrorKind::Timeout || e.kind() == ErrorKind::Indeterminate {
                        typed_timeouts += 1;
                    } else {
                        problems.push(format!("write to the paused shard: {e:?}"));
                    }
                }
            }
        }
    }
    for shard_paused in [true, false] {
        if reads_in_pause.get(&shard_paused).copied().unwrap_or(0) == 0 {
            problems.push(format!(
                "no read of {} shard completed during the pause",
                if shard_paused {
                    "the paused"
                } else {
                    "another"
                }
            ));
        }
    }
    // From the servers.
    let mut servers = Servers::new(&cluster);
    let (mut keys_checked, mut maybe_incrs_ran) = (0, 0);
    for l in &logs {
        for (key, sets) in &l.sets {
            keys_checked += 1;
            let last_acked = sets.iter().rposition(|(_, f)| *f == Fate::Acked);
            let allowed: Vec<u64> = sets
                .iter()
                .enumerate()
                .filter(|(i, (_, f))| {
                    Some(*i) == last_acked || (*f == Fate::Maybe && Some(*i) > last_acked)
                })
                .map(|(_, (s, _))| *s)
                .collect();
            let got = servers.get(key);
            let ok = match got.as_deref().and_then(parse_tagged) {
                Some((k, _, s)) => {
                    k == *key && (allowed.contains(&s) || (last_acked.is_none() && s == 0))
                }
                None => false,
            };
            if !ok {
                wrong.push(format!(
                    "{key} = {:?}; allowed seqs {allowed:?}",
                    got.map(|g| String::from_utf8_lossy(&g).into_owned())
                ));
            }
        }
        for (key, (acked, maybe)) in &l.incrs {
            let v = servers.counter(key);
            if v < *acked || v > acked + maybe {
                wrong.push(format!(
                    "{key} = {v}, {acked} acknowledged, {maybe} indeterminate"
                ));
            }
            maybe_incrs_ran += v - acked;
        }
    }
    eprintln!(
        "chaos/client_pause: SUMMARY CLIENT PAUSE {PAUSE_MS} WRITE on {paused} at \
         {sent_at:.3?}–{pause_at:.3?}; \
         {reads} reads (during the pause: paused shard {}, others {}), longest read \
         {read_longest:.3?}; writes to the paused shard sent during the pause {during}: \
         succeeded after it {succeeded_after}, typed timeout/indeterminate {typed_timeouts}, \
         longest {paused_write_longest:.3?} (started at {longest_paused_write_start:.3?}); \
         longest write elsewhere {other_write_longest:.3?}; errors {:?}; indeterminate INCRs \
         that ran {maybe_incrs_ran}; {keys_checked} keys checked on the servers, {} wrong; \
         problems {}; runtime {:.1?}",
        reads_in_pause.get(&true).copied().unwrap_or(0),
        reads_in_pause.get(&false).copied().unwrap_or(0),
        tally.0,
        wrong.len(),
        problems.len(),
        runtime.elapsed()
    );
    assert!(
        problems.is_empty(),
        "{} problems: {}",
        problems.len(),
        first(&problems, 10)
    );
    assert!(
        wrong.is_empty(),
        "{} wrong: {}",
        wrong.len(),
        first(&wrong, 10)
    );
    assert!(during > 0, "no write was sent during the pause");
}
