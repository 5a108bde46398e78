//! Everything from standalone mode, in cluster mode: slot routing, split/merge by slot,
//! cross-slot errors, whole-keyspace commands over the primaries, SCAN across the cluster,
//! pipelines across slots, MULTI/EXEC on one slot, read policies.

use std::collections::HashSet;
use std::time::Duration;

use shardis::{Cmd, ErrorKind, ReadFrom, Value};
use shardis_tests::Cluster;

use crate::{client, command_calls, keyslot, serial};

#[test]
fn cluster_mode_routes_splits_merges_and_walks_the_keyspace() {
    let _s = serial();
    let cluster = Cluster::start(3, 1);
    let c = client(&cluster, ReadFrom::Primary, Duration::from_secs(2));

    // Keys land on the primary that owns their slot (asked from the server itself).
    let cmds: Vec<Cmd> = (0..600)
        .map(|i| Cmd::from_args(["SET", &format!("k:{i}"), &format!("v{i}")]))
        .collect();
    for r in c.pipeline(&cmds) {
        assert!(r.unwrap().is_ok());
    }
    for i in (0..600).step_by(37) {
        let key = format!("k:{i}");
        let owner = cluster.primary_of_slot(keyslot(&cluster, &key));
        assert_eq!(c.node_for(key.as_bytes()).unwrap(), owner, "{key}");
        let holder = &cluster.nodes[cluster.index_of(&owner)];
        assert_eq!(holder.cmd(&["EXISTS", &key]), redis::Value::Int(1));
    }

    // Split by slot, merged in order.
    let mut mget = vec!["MGET".to_string()];
    mget.extend((0..100).map(|i| format!("k:{i}")));
    mget.push("missing".into());
    let got = c.query(&mget).unwrap().into_array().unwrap();
    assert_eq!(got.len(), 101);
    assert_eq!(got[42], Value::Bulk(b"v42".to_vec()));
    assert_eq!(got[100], Value::Nil);
    let mut del = vec!["DEL".to_string()];
    del.extend((500..600).map(|i| format!("k:{i}")));
    assert_eq!(c.query(&del).unwrap(), Value::Int(100));
    let mut exists = vec!["EXISTS".to_string()];
    exists.extend((0..600).map(|i| format!("k:{i}")));
    assert_eq!(c.query(&exists).unwrap(), Value::Int(500));

    // Multi-key commands in one slot work; across slots they fail before sending.
    c.query(["SET", "{u}a", "1"]).unwrap();
    assert!(c.query(["RENAME", "{u}a", "{u}b"]).unwrap().is_ok());
    let e = c.query(["RENAME", "k:1", "k:2"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CrossShard, "{e}");
    assert!(e.message().contains("slots"), "{e}");

    // Whole keyspace: over the primaries only.
    assert_eq!(c.query(["DBSIZE"]).unwrap(), Value::Int(501));
    let keys = c.query(["KEYS", "k:*"]).unwrap().into_array().unwrap();
    assert_eq!(keys.len(), 500);
    let mut seen = Vec::new();
    let mut cursor = "0".to_string();
    for _ in 0..10_000 {
        let r = c
            .query(["SCAN", &cursor, "MATCH", "k:*", "COUNT", "50"])
            .unwrap()
            .into_array()
            .unwrap();
        cursor = r[0].to_text().unwrap();
        seen.extend(
            r[1].as_array()
                .unwrap()
                .iter()
                .map(|k| k.to_text().unwrap()),
        );
        if cursor == "0" {
            break;
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "SCAN repeated keys");
    assert_eq!(unique.len(), 500, "SCAN missed keys");
    match c.query(["INFO", "server"]).unwrap() {
        Value::Map(m) => assert_eq!(m.len(), 3, "INFO per primary"),
        other => panic!("{other:?}"),
    }

    // Transactions on one slot.
    let mut tx = c.transaction();
    tx.queue(Cmd::from_args(["INCR", "{acct}x"])).unwrap();
    tx.queue(Cmd::from_args(["INCR", "{acct}y"])).unwrap();
    assert_eq!(
        tx.exec().unwrap(),
        Value::Array(vec![Value::Int(1), Value::Int(1)])
    );
    let mut tx = c.transaction();
    tx.queue(Cmd::from_args(["INCR", "a"])).unwrap();
    assert_eq!(
        tx.queue(Cmd::from_args(["INCR", "b"])).unwrap_err().kind(),
        ErrorKind::CrossShard
    );

    let s = c.stats();
    assert_eq!(
        s.cluster.refreshes.get("initial"),
        Some(&1),
        "{:?}",
        s.cluster
    );
    assert_eq!(s.cluster.moved, 0);
}

#[test]
fn read_policies_send_reads_to_replicas_and_writes_to_primaries() {
    let _s = serial();
    let cluster = Cluster::start(3, 1);
    let c = client(&cluster, ReadFrom::Replica, Duration::from_secs(2));
    for i in 0..300 {
        c.query(["SET", &format!("r:{i}"), "v"]).unwrap();
    }
    // Let replication catch up, then read.
    std::thread::sleep(Duration::from_millis(200));
    let shards = cluster.shards();
    let replicas: Vec<&String> = shards.values().flatten().collect();
    let before: u64 = replicas
        .iter()
        .map(|r| command_calls(&cluster.nodes[cluster.index_of(r)], "get"))
        .sum();
    for i in 0..300 {
        assert_eq!(
            c.query(["GET", &format!("r:{i}")]).unwrap(),
            Value::Bulk(b"v".to_vec())
        );
    }
    let after: u64 = replicas
        .iter()
        .map(|r| command_calls(&cluster.nodes[cluster.index_of(r)], "get"))
        .sum();
    assert_eq!(after - before, 300, "every GET went to a replica");
    for p in shards.keys() {
        assert_eq!(
            command_calls(&cluster.nodes[cluster.index_of(p)], "get"),
            0,
            "primary {p} served reads"
        );
        assert!(command_calls(&cluster.nodes[cluster.index_of(p)], "set") > 0);
    }
    // Replica connections said READONLY.
    for r in &replicas {
        assert!(command_calls(&cluster.nodes[cluster.index_of(r)], "readonly") > 0);
    }
}

#[test]
fn a_dead_seed_does_not_block_and_old_topologies_are_refreshed_lazily() {
    let _s = serial();
    let cluster = Cluster::start(3, 1);
    // The first seed refuses connections; the second answers.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let config = shardis::Config::from_toml_str(&format!(
        "mode = \"cluster\"\nnodes = [{dead:?}, {:?}]\ntimeout = \"2s\"\n[refresh]\ninterval = \"300ms\"\n",
        cluster.nodes[1].addr()
    ))
    .unwrap();
    let c = shardis::Client::new(config).unwrap();
    assert!(c.query(["SET", "seeded", "1"]).unwrap().is_ok());
    assert_eq!(c.stats().cluster.refreshes.get("initial"), Some(&1));
    // Older than refresh.interval: the next call starts a refresh (lazily: no timer; on a
    // background thread, so the call itself does not wait for it).
    std::thread::sleep(Duration::from_millis(400));
    assert!(!c.stats().cluster.refreshes.contains_key("interval"));
    c.query(["GET", "seeded"]).unwrap();
    let waited = std::time::Instant::now();
    while !c.stats().cluster.refreshes.contains_key("interval")
        && waited.elapsed() < Duration::from_secs(2)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(c.stats().cluster.refreshes.get("interval"), Some(&1));
    // A failover with no keyed traffic is seen by the next call (F3).
    let owner = cluster.primary_of_slot(keyslot(&cluster, "seeded"));
    cluster.failover(&cluster.replica_of(&owner));
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        c.query(["GET", "seeded"]).unwrap(),
        Value::Bulk(b"1".to_vec())
    );
    assert_eq!(
        c.node_for(b"seeded").unwrap(),
        cluster.primary_of_slot(keyslot(&cluster, "seeded"))
    );
}

#[test]
fn wait_counts_the_replicas_of_the_writing_connection() {
    let _s = serial();
    let cluster = Cluster::start(3, 1);
    let c = client(&cluster, ReadFrom::Primary, Duration::from_secs(2));
    let mut tx = c.transaction();
    assert!(
        tx.query(&Cmd::from_args(["SET", "{w}k", "1"]))
            .unwrap()
            .is_ok()
    );
    // On the same (pinned) connection: the write reached the shard's one replica.
    assert_eq!(
        tx.query(&Cmd::from_args(["WAIT", "1", "1000"])).unwrap(),
        Value::Int(1)
    );
    tx.discard();
}
