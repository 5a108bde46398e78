//! Faults under traffic (RELIABILITY F1, F2, F4, F5, F6, F8).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use shardis::{ErrorKind, ReadFrom, Value};
use shardis_tests::Cluster;

use crate::{client, keyslot, serial};

/// Run `op(i)` in a loop on a thread until `stop`.
fn spawn_loop<T: Send + 'static>(
    stop: &Arc<AtomicBool>,
    mut op: impl FnMut(u64) -> Option<T> + Send + 'static,
) -> JoinHandle<Vec<T>> {
    let stop = stop.clone();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut i = 0;
        while !stop.load(Ordering::Relaxed) {
            if let Some(t) = op(i) {
                out.push(t);
            }
            i += 1;
        }
        out
    })
}

#[test]
fn f1_manual_failover_loses_nothing_acknowledged() {
    let _s = serial();
    let cluster = Cluster::start(3, 1);
    let c = client(&cluster, ReadFrom::Primary, Duration::from_secs(3));
    let stop = Arc::new(AtomicBool::new(false));

    // SET then GET of the same key: a GET after an acknowledged SET must see it.
    let kv = {
        let c = c.clone();
        spawn_loop(&stop, move |i| {
            let key = format!("f1:{}", i % 50);
            let value = i.to_string();
            match c.query(["SET", &key, &value]) {
                Ok(_) => match c.query(["GET", &key]) {
                    Ok(v) if v == Value::Bulk(value.clone().into_bytes()) => None,
                    Ok(v) => Some(format!("GET {key} after SET {value} returned {v:?}")),
                    // A typed error (the failover window) is allowed; a wrong value is not.
                    Err(_) => None,
                },
                Err(_) => None,
            }
        })
    };
    // RPUSH logs: per list, the acknowledged values and the indeterminate ones.
    let pushers: Vec<_> = (0..3)
        .map(|t| {
            let c = c.clone();
            let list = format!("f1:list:{{{t}}}");
            spawn_loop(&stop, move |i| {
                match c.query(["RPUSH", &list, &i.to_string()]) {
                    Ok(_) => Some((list.clone(), i, true)),
                    Err(e) if e.kind() == ErrorKind::Indeterminate => {
                        Some((list.clone(), i, false))
                    }
                    Err(_) => None,
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(300));
    let target = cluster.primary_of_slot(keyslot(&cluster, "f1:list:{0}"));
    let replica = cluster.replica_of(&target);
    cluster.failover(&replica);
    // A second shard fails over too.
    let other = cluster.primary_of_slot(keyslot(&cluster, "f1:list:{1}"));
    if other != replica {
        cluster.failover(&cluster.replica_of(&other));
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);

    let wrong = kv.join().unwrap();
    assert!(wrong.is_empty(), "{wrong:?}");
    let mut log: HashMap<String, (Vec<u64>, HashSet<u64>)> = HashMap::new();
    for p in pushers {
        for (list, i, acked) in p.join().unwrap() {
            let entry = log.entry(list).or_default();
            if acked {
                entry.0.push(i);
            } else {
                entry.1.insert(i);
            }
        }
    }
    for (list, (acked, maybe)) in &log {
        let stored: Vec<u64> = c
            .query(["LRANGE", list, "0", "-1"])
            .unwrap()
            .into_array()
            .unwrap()
            .iter()
            .map(|v| v.as_int().unwrap() as u64)
            .collect();
        let unique: HashSet<&u64> = stored.iter().collect();
        assert_eq!(unique.len(), stored.len(), "{list}: duplicated entries");
        for v in &stored {
            assert!(
                acked.contains(v) || maybe.contains(v),
                "{list}: {v} was never sent"
            );
        }
        // Acknowledged entries: all present, in order.
        let kept: Vec<u64> = stored
            .iter()
            .copied()
            .filter(|v| acked.contains(v))
            .collect();
        assert_eq!(
            &kept, acked,
            "{list}: acknowledged writes lost or reordered"
        );
        assert!(!acked.is_empty());
    }
    let s = c.stats();
    eprintln!(
        "F1: lists {:?}; cluster stats {:?}; errors {:?}",
        log.iter()
            .map(|(k, v)| (k, v.0.len(), v.1.len()))
            .collect::<Vec<_>>(),
        s.cluster,
        s.errors
    );
}

#[test]
fn f2_killed_primary_no_read_errors_and_writes_recover() {
    let _s = serial();
    f2_scenario(Cluster::start(3, 1), client);
}

/// F2 on `cluster` with clients made by `client` (plaintext here, TLS in `tls.rs`): a primary
/// killed under traffic; reads through replicas see no error, writes recover after the
/// promotion, every call ends by its deadline.
pub fn f2_scenario(
    mut cluster: Cluster,
    client: impl Fn(&Cluster, ReadFrom, Duration) -> shardis::Client,
) {
    let timeout = Duration::from_secs(2);
    let writer = client(&cluster, ReadFrom::Primary, timeout);
    let reader = client(&cluster, ReadFrom::PreferReplica, timeout);
    let keys: Vec<String> = (0..300).map(|i| format!("f2:{i}")).collect();
    for k in &keys {
        writer.query(["SET", k, "v"]).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let victim_addr = cluster.primary_of_slot(keyslot(&cluster, "f2:0"));
    let victim_keys: Vec<String> = keys
        .iter()
        .filter(|k| cluster.primary_of_slot(keyslot(&cluster, k)) == victim_addr)
        .cloned()
        .collect();

    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|t| {
            let (r, keys) = (reader.clone(), keys.clone());
            spawn_loop(&stop, move |i| {
                let key = &keys[((i * 7 + t) % keys.len() as u64) as usize];
                let start = Instant::now();
                let result = r.query(["GET", key]);
                Some((result.err().map(|e| e.to_string()), start.elapsed()))
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let killed_at = Instant::now();
    let victim = cluster.index_of(&victim_addr);
    cluster.nodes[victim].kill();

    // Writes to the dead primary's keys fail until the replica is promoted, then recover.
    let mut recovered = None;
    let mut write_errors = 0;
    let mut longest_write = Duration::ZERO;
    while killed_at.elapsed() < Duration::from_secs(20) {
        let key = &victim_keys[write_errors % victim_keys.len()];
        let start = Instant::now();
        let r = writer.query(["SET", key, "w"]);
        longest_write = longest_write.max(start.elapsed());
        match r {
            Ok(_) => {
                recovered = Some(killed_at.elapsed());
                break;
            }
            Err(_) => write_errors += 1,
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let mut reads = 0;
    let mut read_errors = Vec::new();
    let mut longest_read = Duration::ZERO;
    for h in readers {
        for (err, took) in h.join().unwrap() {
            reads += 1;
            longest_read = longest_read.max(took);
            if let Some(e) = err {
                read_errors.push(e);
            }
        }
    }
    let recovered = recovered.expect("writes never recovered");
    eprintln!(
        "F2: writes recovered {recovered:?} after kill -9 ({write_errors} failed calls, longest {longest_write:?}); {reads} reads, {} errors, longest {longest_read:?}; {:?}",
        read_errors.len(),
        reader.stats().cluster
    );
    assert!(
        read_errors.is_empty(),
        "read errors with prefer_replica: {:?}",
        &read_errors[..read_errors.len().min(5)]
    );
    // node-timeout (1 s) + election + refresh, with a generous margin for a busy machine.
    assert!(recovered < Duration::from_secs(10), "{recovered:?}");
    // Every call ended by its deadline (plus scheduling slack).
    assert!(
        longest_write < timeout + Duration::from_millis(500),
        "{longest_write:?}"
    );
    assert!(
        longest_read < timeout + Duration::from_millis(500),
        "{longest_read:?}"
    );
}

#[test]
fn f4_readonly_from_a_demoted_primary_refreshes_once() {
    let _s = serial();
    let cluster = Cluster::start(3, 1);
    let c = client(&cluster, ReadFrom::Primary, Duration::from_secs(3));
    c.query(["SET", "f4", "x"]).unwrap();
    let topology_refreshes = || {
        c.stats()
            .cluster
            .refreshes
            .get("topology")
            .copied()
            .unwrap_or(0)
    };
    let before = topology_refreshes();
    // The client's snapshot still names the old primary; a keyless write fanned out to the
    // primaries reaches it and gets -READONLY.
    let old = cluster.primary_of_slot(keyslot(&cluster, "f4"));
    cluster.failover(&cluster.replica_of(&old));
    assert!(c.query(["FLUSHALL"]).unwrap().is_ok());
    assert_eq!(topology_refreshes() - before, 1, "{:?}", c.stats().cluster);
    assert_eq!(c.query(["DBSIZE"]).unwrap(), Value::Int(0));
    // The retry reached the new owner: writes work without further redirects.
    let moved = c.stats().cluster.moved;
    c.query(["SET", "f4", "y"]).unwrap();
    assert_eq!(c.stats().cluster.moved, moved);
}

#[test]
fn f5_slot_migration_under_traffic_surfaces_no_errors() {
    let _s = serial();
    let cluster = Cluster::start(3, 1);
    let c = client(&cluster, ReadFrom::Primary, Duration::from_secs(3));
    let keys: Vec<String> = (0..200).map(|i| format!("{{mig}}:{i}")).collect();
    for k in &keys {
        c.query(["SET", k, "0"]).unwrap();
    }
    let slot = keyslot(&cluster, "{mig}:0");
    let from = cluster.primary_of_slot(slot);
    let to = cluster
        .shards()
        .keys()
        .find(|p| **p != from)
        .cloned()
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let (c, keys) = (c.clone(), keys.clone());
        spawn_loop(&stop, move |i| {
            let k = &keys[(i % keys.len() as u64) as usize];
            let k2 = &keys[((i + 1) % keys.len() as u64) as usize];
            let r = match i % 3 {
                0 => c.query(["INCR", k]).map(|_| ()),
                1 => c.query(["GET", k]).map(|_| ()),
                _ => c.query(["MGET", k, k2]).map(|_| ()),
            };
            r.err().map(|e| e.to_string())
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    cluster.migrate_slot(slot, &to, || std::thread::sleep(Duration::from_millis(30)));
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let errors = traffic.join().unwrap();
    let s = c.stats();
    eprintln!("F5: cluster stats {:?}", s.cluster);
    assert!(
        errors.is_empty(),
        "{} errors, e.g. {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert!(
        s.cluster.ask > 0,
        "the ASK path was not exercised: {:?}",
        s.cluster
    );
    assert!(s.cluster.moved > 0, "MOVED after the move: {:?}", s.cluster);
    assert_eq!(cluster.primary_of_slot(slot), to);
    assert_eq!(c.node_for(keys[0].as_bytes()).unwrap(), to);
}

#[test]
fn f6_a_new_node_is_found_with_one_refresh() {
    let _s = serial();
    let mut cluster = Cluster::start(3, 1);
    let c = client(&cluster, ReadFrom::Primary, Duration::from_secs(3));
    let keys: Vec<String> = (0..50).map(|i| format!("{{new}}:{i}")).collect();
    for k in &keys {
        c.query(["SET", k, "v"]).unwrap();
    }
    let new = cluster.add_node();
    let new_addr = cluster.nodes[new].addr();
    let slot = keyslot(&cluster, "{new}:0");
    cluster.migrate_slot(slot, &new_addr, || {});
    let before = c
        .stats()
        .cluster
        .refreshes
        .get("moved")
        .copied()
        .unwrap_or(0);
    for k in &keys {
        assert_eq!(c.query(["GET", k]).unwrap(), Value::Bulk(b"v".to_vec()));
    }
    let s = c.stats();
    assert_eq!(
        s.cluster.refreshes.get("moved").copied().unwrap_or(0) - before,
        1,
        "{:?}",
        s.cluster
    );
    assert_eq!(s.cluster.moved, 1, "{:?}", s.cluster);
    assert_eq!(
        s.nodes[&new_addr].requests,
        50,
        "{:?}",
        s.nodes.get(&new_addr)
    );
}

#[test]
fn f8_a_sleeping_node_does_not_stall_other_shards() {
    let _s = serial();
    let cluster = Cluster::start(3, 1);
    let c = client(&cluster, ReadFrom::Primary, Duration::from_secs(1));
    let slow = cluster.primary_of_slot(keyslot(&cluster, "slow"));
    let others: Vec<String> = (0..1000)
        .map(|i| format!("o:{i}"))
        .filter(|k| cluster.primary_of_slot(keyslot(&cluster, k)) != slow)
        .take(50)
        .collect();
    for k in &others {
        c.query(["SET", k, "v"]).unwrap();
    }
    let sleeper = cluster.nodes[cluster.index_of(&slow)].debug_sleep_in_background(2.0);
    std::thread::sleep(Duration::from_millis(100));
    let stalled = {
        let c = c.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            let r = c.query(["GET", "slow"]);
            (r, start.elapsed())
        })
    };
    let mut longest = Duration::ZERO;
    for k in &others {
        let start = Instant::now();
        assert_eq!(c.query(["GET", k]).unwrap(), Value::Bulk(b"v".to_vec()));
        longest = longest.max(start.elapsed());
    }
    let (r, took) = stalled.join().unwrap();
    sleeper.join().unwrap();
    eprintln!(
        "F8: other shards' longest call {longest:?}; the sleeping shard's call {took:?} → {r:?}"
    );
    assert!(
        longest < Duration::from_millis(500),
        "other shards stalled: {longest:?}"
    );
    assert_eq!(r.unwrap_err().kind(), ErrorKind::Timeout);
    assert!(
        took < Duration::from_millis(1500),
        "the call overran its 1 s deadline: {took:?}"
    );
}
