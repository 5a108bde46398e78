//! F10 (error classes, against scripted fake nodes) and G2 (an indeterminate write, with a
//! proxy that cuts the connection after the node executed INCR).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shardis::{Client, Config, ErrorKind, Mode, Value};
use shardis_tests::fake::{FakeServer, Script, slots_reply};
use shardis_tests::proxy::CutProxy;
use shardis_tests::{Cluster, process::wait_until};

use crate::serial;

fn bulk(s: &str) -> Vec<u8> {
    format!("${}\r\n{s}\r\n", s.len()).into_bytes()
}

/// Node A (on `port`): owns every slot; answers by key with scripted errors before
/// succeeding, and redirects some keys to node B (`b`).
fn node_a(port: u16, b: u16) -> Script {
    let seen: Arc<Mutex<HashMap<Vec<u8>, usize>>> = Arc::default();
    Arc::new(move |cmd: &[Vec<u8>]| {
        let name = String::from_utf8_lossy(&cmd[0]).to_ascii_uppercase();
        let sub = cmd
            .get(1)
            .map(|s| String::from_utf8_lossy(s).to_ascii_uppercase())
            .unwrap_or_default();
        let me = b;
        match (name.as_str(), sub.as_str()) {
            // Redis < 7 has no CLUSTER SHARDS: shardis must fall back to CLUSTER SLOTS.
            ("CLUSTER", "SHARDS") => b"-ERR unknown subcommand 'SHARDS'\r\n".to_vec(),
            ("CLUSTER", "SLOTS") => slots_reply(port),
            ("CLUSTER", "INFO") => bulk("cluster_state:ok\r\ncluster_current_epoch:1\r\n"),
            ("READONLY", _) | ("ASKING", _) => b"+OK\r\n".to_vec(),
            _ => {
                let key = cmd.get(1).cloned().unwrap_or_default();
                let n = {
                    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                    let n = seen.entry(key.clone()).or_default();
                    *n += 1;
                    *n
                };
                let k = String::from_utf8_lossy(&key).into_owned();
                let fail_twice = |err: &str| {
                    if n <= 2 {
                        format!("-{err}\r\n").into_bytes()
                    } else {
                        bulk("ok")
                    }
                };
                match k.as_str() {
                    "k-tryagain" => {
                        fail_twice("TRYAGAIN Multiple keys request during rehashing of slot")
                    }
                    "k-clusterdown" => fail_twice("CLUSTERDOWN The cluster is down"),
                    "k-loading" => fail_twice("LOADING Redis is loading the dataset in memory"),
                    "k-masterdown" => fail_twice(
                        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
                    ),
                    "k-readonly" if n == 1 => {
                        b"-READONLY You can't write against a read only replica.\r\n".to_vec()
                    }
                    "k-readonly" => b"+OK\r\n".to_vec(),
                    "k-err" => b"-ERR plain error\r\n".to_vec(),
                    "k-always" => b"-TRYAGAIN forever\r\n".to_vec(),
                    "k-moved" => format!("-MOVED 1 127.0.0.1:{me}\r\n").into_bytes(),
                    "k-ask" => format!("-ASK 2 127.0.0.1:{me}\r\n").into_bytes(),
                    "k-circ" => format!("-MOVED 3 127.0.0.1:{me}\r\n").into_bytes(),
                    "k-badmoved" => b"-MOVED 1 127.0.0.1:100000\r\n".to_vec(),
                    "k-badmoved2" => b"-MOVED 1111\r\n".to_vec(),
                    // RELIABILITY.md's example: `127.0` is no IP address and no DNS name.
                    "k-badmoved3" => b"-MOVED 1 127.0:3333\r\n".to_vec(),
                    _ => bulk("ok"),
                }
            }
        }
    })
}

#[test]
fn error_classes_are_retried_bounded_and_plain_errors_sent_once() {
    let _s = serial();
    // Node B answers redirected requests; for the circular case it sends them back to A.
    let a_port = Arc::new(Mutex::new(0u16));
    let a_for_b = a_port.clone();
    let b = FakeServer::start(|_| {
        Arc::new(move |cmd: &[Vec<u8>]| {
            let name = String::from_utf8_lossy(&cmd[0]).to_ascii_uppercase();
            let key = cmd
                .get(1)
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .unwrap_or_default();
            let a = *a_for_b.lock().unwrap_or_else(|e| e.into_inner());
            match name.as_str() {
                "ASKING" | "READONLY" => b"+OK\r\n".to_vec(),
                "CLUSTER" if key.eq_ignore_ascii_case("INFO") => bulk("cluster_current_epoch:1"),
                "CLUSTER" => slots_reply(a),
                _ if key == "k-circ" => format!("-MOVED 3 127.0.0.1:{a}\r\n").into_bytes(),
                _ => bulk("fromB"),
            }
        })
    });
    let a = FakeServer::start(|port| node_a(port, b.port()));
    *a_port.lock().unwrap() = a.port();

    let config = Config::builder()
        .mode(Mode::Cluster)
        .node(&a.addr())
        .timeout(Duration::from_millis(600))
        .build()
        .unwrap();
    let c = Client::new(config).unwrap();
    let ok = Value::Bulk(b"ok".to_vec());

    // Not executed → retried after a backoff, then succeeds.
    for key in ["k-tryagain", "k-clusterdown", "k-loading", "k-masterdown"] {
        assert_eq!(c.query(["GET", key]).unwrap(), ok, "{key}");
    }
    assert!(c.stats().cluster.transient >= 8, "{:?}", c.stats().cluster);
    // The first load sends SHARDS + INFO, is refused, and asks again with SLOTS + INFO; each
    // later refresh (only CLUSTERDOWN/MASTERDOWN ask for one here, in the background and
    // rate-limited) sends SLOTS + INFO to A, the only node. Let a refresh in flight land.
    let refreshes = |c: &Client| c.stats().cluster.refreshes.values().sum::<u64>();
    let waited = Instant::now();
    while a.count("CLUSTER") as u64 != 2 + 2 * refreshes(&c)
        && waited.elapsed() < Duration::from_secs(2)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        a.count("CLUSTER") as u64,
        2 + 2 * refreshes(&c),
        "{:?}",
        c.stats().cluster
    );
    assert!(
        c.stats().cluster.refreshes.get("initial") == Some(&1)
            && c.stats()
                .cluster
                .refreshes
                .keys()
                .all(|r| r == "initial" || r == "topology"),
        "only the first load and CLUSTERDOWN/MASTERDOWN refresh: {:?}",
        c.stats().cluster
    );

    // READONLY: exactly one topology refresh, then the retry succeeds.
    let topology_refreshes = |c: &Client| {
        c.stats()
            .cluster
            .refreshes
            .get("topology")
            .copied()
            .unwrap_or(0)
    };
    // Every refresh obeys the rate limit (one per ~100 ms), urgent ones too: let the
    // refreshes the CLUSTERDOWN/MASTERDOWN replies above started age out first.
    std::thread::sleep(Duration::from_millis(150));
    let before = topology_refreshes(&c);
    assert!(c.query(["SET", "k-readonly", "v"]).unwrap().is_ok());
    assert_eq!(topology_refreshes(&c) - before, 1);

    // A plain error is the answer: sent exactly once.
    let e = c.query(["GET", "k-err"]).unwrap_err();
    assert_eq!(e.code(), Some("ERR"));
    let sent = a
        .requests()
        .iter()
        .filter(|r| r.get(1).is_some_and(|k| k == b"k-err"))
        .count();
    assert_eq!(sent, 1);

    // Bounded: TRYAGAIN forever ends at the deadline with the server's error.
    let start = Instant::now();
    let e = c.query(["GET", "k-always"]).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(e.message().starts_with("TRYAGAIN"), "{e}");
    let tries = a
        .requests()
        .iter()
        .filter(|r| r.get(1).is_some_and(|k| k == b"k-always"))
        .count();
    assert!((2..100).contains(&tries), "{tries}");

    // MOVED is followed; ASK goes to the target after ASKING, without a refresh.
    assert_eq!(
        c.query(["GET", "k-moved"]).unwrap(),
        Value::Bulk(b"fromB".to_vec())
    );
    // The MOVED started a refresh in the background: let it land before counting.
    let waited = Instant::now();
    while !c.stats().cluster.refreshes.contains_key("moved")
        && waited.elapsed() < Duration::from_secs(2)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(20));
    let refreshes_before_ask: u64 = c.stats().cluster.refreshes.values().sum();
    assert_eq!(
        c.query(["GET", "k-ask"]).unwrap(),
        Value::Bulk(b"fromB".to_vec())
    );
    let reqs = b.requests();
    let pos = reqs
        .iter()
        .position(|r| r.get(1).is_some_and(|k| k == b"k-ask"))
        .unwrap();
    assert!(
        reqs[pos - 1][0].eq_ignore_ascii_case(b"ASKING"),
        "ASKING before the command"
    );
    assert_eq!(
        c.stats().cluster.refreshes.values().sum::<u64>(),
        refreshes_before_ask,
        "no refresh for ASK"
    );
    assert!(c.stats().cluster.ask >= 1);

    // A circular MOVED: one refresh (the first MOVED starts it in the background, the
    // second would ask for it at once; the rate limit lets only one run), then a bounded
    // error, not a loop.
    std::thread::sleep(Duration::from_millis(150));
    let all_refreshes = |c: &Client| c.stats().cluster.refreshes.values().sum::<u64>();
    let before = all_refreshes(&c);
    let started = Instant::now();
    let e = c.query(["GET", "k-circ"]).unwrap_err();
    let took = started.elapsed();
    assert!(e.message().contains("too many redirects"), "{e}");
    let waited = Instant::now();
    while all_refreshes(&c) == before && waited.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(5));
    }
    // At least one, and no more than the rate limit (one per ≥ 80 ms) allows while the
    // bounded circle lasted: a circle never turns into a refresh storm.
    let allowed = 1 + (took.as_millis() / 80) as u64;
    let refreshed = all_refreshes(&c) - before;
    assert!(
        (1..=allowed).contains(&refreshed),
        "{refreshed} refreshes in {took:?}: {:?}",
        c.stats().cluster
    );

    // Malformed redirects are errors, not followed.
    for key in ["k-badmoved", "k-badmoved2", "k-badmoved3"] {
        let e = c.query(["GET", key]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{key}: {e}");
        assert_eq!(e.node(), Some(a.addr().as_str()), "names the node: {e:?}");
    }
}

#[test]
fn a_write_cut_after_execution_is_indeterminate_and_not_repeated() {
    let _s = serial();
    let cluster = Cluster::start(3, 1);
    // Route one primary through the proxy: it announces the proxy's port to the cluster.
    let primary = &cluster.nodes[0];
    let proxy = CutProxy::start(primary.port());
    primary.cmd(&[
        "CONFIG",
        "SET",
        "cluster-announce-port",
        &proxy.port().to_string(),
    ]);
    let proxied = format!("127.0.0.1:{}", proxy.port());
    let gossiped = wait_until(Duration::from_secs(10), || {
        cluster.nodes.iter().all(|n| {
            n.try_cmd(&["CLUSTER", "NODES"])
                .map(|v| format!("{v:?}").contains(&proxied))
                .unwrap_or(false)
        })
    });
    assert!(gossiped, "announce port did not spread");
    let c = crate::client(&cluster, shardis::ReadFrom::Primary, Duration::from_secs(2));
    // A key served by the proxied primary.
    let key = (0..10_000)
        .map(|i| format!("counter:{i}"))
        .find(|k| c.node_for(k.as_bytes()).unwrap() == proxied)
        .expect("a key on the proxied primary");
    assert_eq!(c.query(["SET", &key, "0"]).unwrap(), Value::Okay);

    proxy.cut_next_reply();
    let e = c.query(["INCR", &key]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Indeterminate, "{e}");
    assert_eq!(e.cause(), Some(ErrorKind::Io));
    // Executed exactly once: the client did not retry it.
    match primary.cmd(&["GET", &key]) {
        redis::Value::BulkString(b) => assert_eq!(b, b"1"),
        other => panic!("{other:?}"),
    }
    // The same client keeps working (on a new connection).
    assert_eq!(c.query(["INCR", &key]).unwrap(), Value::Int(2));
}
