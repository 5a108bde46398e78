//! Scenario 4, rolling restart with persistence: every node (`appendonly yes`) is stopped
//! gracefully (SIGTERM), one at a time, and stays down longer than the node timeout — a
//! primary until its replica has been promoted, a replica until the others flag it failing
//! — then restarts on its port, reloads its AOF and rejoins (a former primary as a
//! replica). Readers with `read_from = "prefer_replica"` GET fixed values all along.
//!
//! Assertions: 0 read errors; every read returns exactly the value written before (not
//! only "no error"); every restart reloaded its AOF; afterwards every node — primaries and
//! replicas, read over plain connections (`READONLY` on replicas) — holds every value of its
//! shard.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use shardis::{Client, Cmd, ReadFrom, Value};
use shardis_tests::cluster::{NODE_TIMEOUT_MS, key_slot};
use shardis_tests::process::wait_until;
use shardis_tests::{Cluster, ServerOptions};

use crate::{ErrorTally, Runtime, StopOnDrop, client, first, serial, spread_keys, tagged};

const KEYS: usize = 600;
const READERS: usize = 3;
/// The readers' call deadline. Between a primary's FAIL and its replica's promotion every
/// node answers CLUSTERDOWN (cluster-allow-reads-when-down is off); the client retries
/// those within the deadline.
const READ_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Default)]
struct ReaderLog {
    reads: u64,
    errors: Vec<String>,
    tally: ErrorTally,
    wrong: Vec<String>,
    longest: Duration,
}

fn reader(t: usize, c: Client, keys: Vec<String>, stop: Arc<AtomicBool>) -> JoinHandle<ReaderLog> {
    std::thread::spawn(move || {
        let mut log = ReaderLog::default();
        let mut i = t * 31;
        while !stop.load(Ordering::Relaxed) {
            i += 7;
            let key = &keys[i % keys.len()];
            let start = Instant::now();
            let r = c.query(["GET", key]);
            log.longest = log.longest.max(start.elapsed());
            log.reads += 1;
            match r {
                Ok(Value::Bulk(b)) if b == tagged(key, 0, 1).as_bytes() => {}
                Ok(other) => log.wrong.push(format!("GET {key}: {other:?}")),
                Err(e) => {
                    log.tally.add(&e);
                    log.errors
                        .push(format!("GET {key}: {e:?} after {:?}", start.elapsed()));
                }
            }
        }
        log
    })
}

#[test]
fn rolling_restart_with_persistence_and_replica_reads() {
    let _s = serial();
    let runtime = Runtime::start("rolling_restart");
    let options = ServerOptions {
        extra: vec![("appendonly".into(), "yes".into())],
        ..ServerOptions::default()
    };
    let mut cluster = Cluster::start_with(3, 1, options);
    for n in &cluster.nodes {
        assert_eq!(
            n.info_field("persistence", "aof_enabled").as_deref(),
            Some("1"),
            "{}",
            n.addr()
        );
    }
    let writer = client(&cluster, ReadFrom::Primary, Duration::from_secs(3));
    let keys = spread_keys(&cluster, "rr:", KEYS);
    let load: Vec<Cmd> = keys
        .iter()
        .map(|k| Cmd::from_args(["SET", k.as_str(), tagged(k, 0, 1).as_str()]))
        .collect();
    for r in writer.pipeline(&load) {
        assert!(r.unwrap().is_ok());
    }
    assert!(
        cluster.wait_replicated(Duration::from_secs(20)),
        "replicas did not catch up: {}",
        cluster.describe()
    );
    let reader_client = client(&cluster, ReadFrom::PreferReplica, READ_TIMEOUT);
    reader_client.query(["GET", &keys[0]]).unwrap();
    let stop = StopOnDrop::default();
    let readers: Vec<_> = (0..READERS)
        .map(|t| reader(t, reader_client.clone(), keys.clone(), stop.flag()))
        .collect();
    std::thread::sleep(Duration::from_millis(300));

    let node_timeout = Duration::from_millis(NODE_TIMEOUT_MS);
    let mut lines = Vec::new();
    let mut failovers = 0;
    let rolling = Instant::now();
    for i in 0..cluster.nodes.len() {
        let addr = cluster.nodes[i].addr();
        let role = cluster.nodes[i]
            .info_field("replication", "role")
            .unwrap_or_default();
        let loads_before = cluster.nodes[i]
            .log()
            .matches("DB loaded from append only file")
            .count();
        let start = Instant::now();
        cluster.nodes[i].shutdown(Duration::from_secs(15));
        let stopped = start.elapsed();
        let gone = if role == "master" {
            // Down until its replica has taken over.
            let promoted = cluster.wait_healthy_except(&[&addr], Duration::from_secs(30));
            assert!(
                promoted,
                "{addr}'s replica was not promoted: {}",
                cluster.describe()
            );
            failovers += 1;
            "replica promoted"
        } else {
            let flagged = wait_until(Duration::from_secs(20), || {
                cluster
                    .topology()
                    .iter()
                    .any(|l| l.addr == addr && l.flags.iter().any(|f| f == "fail"))
            });
            assert!(
                flagged,
                "{addr} was never flagged failing: {}",
                cluster.describe()
            );
            "flagged failing"
        };
        let noticed = start.elapsed();
        // Down for at least twice the node timeout in any case.
        if let Some(rest) = (node_timeout * 2).checked_sub(start.elapsed()) {
            std::thread::sleep(rest);
        }
        cluster.nodes[i].restart();
        let down = start.elapsed();
        let back = wait_until(Duration::from_secs(40), || {
            cluster.wait_healthy_except(&[], Duration::ZERO)
                && cluster.wait_replicated(Duration::ZERO)
        });
        assert!(back, "{addr} did not rejoin: {}", cluster.describe());
        let loads_after = cluster.nodes[i]
            .log()
            .matches("DB loaded from append only file")
            .count();
        assert!(
            loads_after > loads_before,
            "{addr} did not reload its AOF: {}",
            cluster.nodes[i].log_tail()
        );
        let now_role = cluster.nodes[i]
            .info_field("replication", "role")
            .unwrap_or_default();
        let line = format!(
            "node {i} {addr} ({role}): stopped in {stopped:.1?}, {gone} after {noticed:.1?}, \
             down {down:.1?}, AOF reloaded, back as {now_role} and in sync after {:.1?}",
            start.elapsed()
        );
        eprintln!("chaos/rolling_restart: {line}");
        lines.push(line);
    }
    let rolling = rolling.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    stop.stop();
    let logs: Vec<ReaderLog> = readers.into_iter().map(|h| h.join().unwrap()).collect();

    // Every node holds every value of its shard.
    let owners = cluster.slot_owners();
    let shards = cluster.shards();
    let mut server_wrong = Vec::new();
    let mut checked = 0;
    for (primary, replicas) in &shards {
        let mine: Vec<&String> = keys
            .iter()
            .filter(|k| owners[key_slot(k.as_bytes()) as usize] == *primary)
            .collect();
        for node in std::iter::once(primary).chain(replicas) {
            let mut con = cluster.node(node).connection();
            let _: () = redis::cmd("READONLY").query(&mut con).unwrap();
            for k in &mine {
                checked += 1;
                let v: Option<String> = redis::cmd("GET").arg(k.as_str()).query(&mut con).unwrap();
                if v.as_deref() != Some(tagged(k, 0, 1).as_str()) {
                    server_wrong.push(format!("{k} on {node}: {v:?}"));
                }
            }
        }
    }

    let (mut reads, mut errors, mut wrong, mut tally, mut longest) = (
        0,
        Vec::new(),
        Vec::new(),
        ErrorTally::default(),
        Duration::ZERO,
    );
    for l in logs {
        reads += l.reads;
        errors.extend(l.errors);
        wrong.extend(l.wrong);
        tally.merge(&l.tally);
        longest = longest.max(l.longest);
    }
    let s = reader_client.stats();
    let ejections: u64 = s.nodes.values().map(|n| n.ejections).sum();
    eprintln!(
        "chaos/rolling_restart: SUMMARY {} nodes restarted one by one in {rolling:.1?} \
         ({failovers} failovers), {reads} prefer_replica reads by {READERS} threads: {} errors \
         {:?}, {} wrong values, longest read {longest:.1?} (deadline {READ_TIMEOUT:?}); \
         {checked} values checked on every node afterwards, {} wrong; ejections {ejections}; \
         reader cluster stats {:?}; runtime {:.1?}",
        cluster.nodes.len(),
        errors.len(),
        tally.0,
        wrong.len(),
        server_wrong.len(),
        s.cluster,
        runtime.elapsed()
    );
    assert!(
        errors.is_empty(),
        "{} read errors: {}",
        errors.len(),
        first(&errors, 10)
    );
    assert!(
        wrong.is_empty(),
        "{} wrong reads: {}",
        wrong.len(),
        first(&wrong, 10)
    );
    assert!(
        server_wrong.is_empty(),
        "{} values wrong on the servers: {}",
        server_wrong.len(),
        first(&server_wrong, 10)
    );
    assert!(failovers >= 3, "only {failovers} failovers");
    assert!(reads > 1000, "too few reads: {reads}");
}
