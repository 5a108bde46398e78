//! Whole-cluster restarts (F7) and a rolling restart under read load (F12).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use shardis::{ErrorKind, ReadFrom};
use shardis_tests::Cluster;

use crate::{client, serial};

#[test]
fn f7_all_nodes_restarted_on_the_same_ports() {
    let _s = serial();
    let mut cluster = Cluster::start(3, 1);
    let timeout = Duration::from_millis(800);
    let c = client(&cluster, ReadFrom::Primary, timeout);
    for i in 0..100 {
        c.query(["SET", &format!("f7:{i}"), "v"]).unwrap();
    }
    for n in &mut cluster.nodes {
        n.kill();
    }
    // Meanwhile: typed errors, each call within its deadline — no panic, no hang.
    for i in 0..10 {
        let start = Instant::now();
        let e = c.query(["GET", &format!("f7:{i}")]).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Io
            ),
            "{e}"
        );
        assert!(
            start.elapsed() < timeout + Duration::from_millis(500),
            "{:?}",
            start.elapsed()
        );
    }
    for n in &mut cluster.nodes {
        n.restart();
    }
    cluster.wait_healthy();
    // The same client works again (data did not persist: `--save ''`).
    let start = Instant::now();
    let mut last = None;
    while start.elapsed() < Duration::from_secs(20) {
        match c.query(["SET", "f7:again", "1"]) {
            Ok(_) => {
                last = None;
                break;
            }
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(last.is_none(), "client did not recover: {last:?}");
    for i in 0..30 {
        c.query(["SET", &format!("f7:{i}"), "w"]).unwrap();
    }
    eprintln!(
        "F7: recovered {:?} after the restart; {:?}",
        start.elapsed(),
        c.stats().cluster
    );
}

#[test]
fn f12_rolling_restart_under_read_load_has_no_read_errors() {
    let _s = serial();
    let mut cluster = Cluster::start(3, 1);
    let writer = client(&cluster, ReadFrom::Primary, Duration::from_secs(2));
    let keys: Vec<String> = (0..300).map(|i| format!("f12:{i}")).collect();
    for k in &keys {
        writer.query(["SET", k, "v"]).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let reader = client(&cluster, ReadFrom::PreferReplica, Duration::from_secs(1));
    // The topology is known before the first node goes down (its only seed is node 0).
    reader.query(["GET", &keys[0]]).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|t| {
            let (r, keys, stop) = (reader.clone(), keys.clone(), stop.clone());
            std::thread::spawn(move || {
                let (mut reads, mut errors) = (0u64, Vec::new());
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    if let Err(e) = r.query(["GET", &keys[i % keys.len()]]) {
                        errors.push(e.to_string());
                    }
                    reads += 1;
                    i += 7;
                }
                (reads, errors)
            })
        })
        .collect();
    let start = Instant::now();
    for i in 0..cluster.nodes.len() {
        cluster.nodes[i].kill();
        std::thread::sleep(Duration::from_millis(200));
        cluster.nodes[i].restart();
        cluster.wait_healthy();
    }
    stop.store(true, Ordering::Relaxed);
    let (mut reads, mut errors) = (0, Vec::new());
    for h in readers {
        let (r, e) = h.join().unwrap();
        reads += r;
        errors.extend(e);
    }
    eprintln!(
        "F12: {} nodes restarted one by one in {:?}; {reads} reads, {} errors; {:?}; ejections {:?}",
        cluster.nodes.len(),
        start.elapsed(),
        errors.len(),
        reader.stats().cluster,
        reader
            .stats()
            .nodes
            .iter()
            .map(|(k, n)| (k.clone(), n.ejections))
            .collect::<Vec<_>>()
    );
    assert!(reads > 1000);
    // Refused connections to the restarting nodes got them ejected (outlier detection).
    let ejections: u64 = reader.stats().nodes.values().map(|n| n.ejections).sum();
    assert!(ejections > 0, "{:?}", reader.stats().nodes);
    assert!(
        errors.is_empty(),
        "read errors: {:?}",
        &errors[..errors.len().min(5)]
    );
}
