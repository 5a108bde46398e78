//! Whole-keyspace commands, which Envoy gets wrong on hashed backends: DBSIZE, KEYS, SCAN,
//! FLUSHDB/FLUSHALL, SCRIPT LOAD/EXISTS/FLUSH, PING, RANDOMKEY, INFO.

use std::collections::HashSet;

use shardis::{Cmd, Mode, Value};
use shardis_tests::{StandaloneSet, client};

fn fill(c: &shardis::Client, n: usize, prefix: &str) -> HashSet<Vec<u8>> {
    let cmds: Vec<Cmd> = (0..n)
        .map(|i| Cmd::from_args(["SET", &format!("{prefix}{i}"), "x"]))
        .collect();
    for r in c.pipeline(&cmds) {
        r.unwrap();
    }
    (0..n)
        .map(|i| format!("{prefix}{i}").into_bytes())
        .collect()
}

#[test]
fn dbsize_sums_and_keys_lists_every_node() {
    let set = StandaloneSet::start(3);
    let c = client(&set, Mode::Maglev, false);
    let written = fill(&c, 3000, "key:");
    assert_eq!(c.query(["DBSIZE"]).unwrap(), Value::Int(3000));
    let per_node: i64 = set.servers.iter().map(|s| s.keys().len() as i64).sum();
    assert_eq!(per_node, 3000);
    let keys = c.query(["KEYS", "key:1*"]).unwrap().into_array().unwrap();
    let got: HashSet<Vec<u8>> = keys
        .iter()
        .map(|v| v.as_bytes().unwrap().to_vec())
        .collect();
    let expected: HashSet<Vec<u8>> = written
        .iter()
        .filter(|k| k.starts_with(b"key:1"))
        .cloned()
        .collect();
    assert_eq!(keys.len(), expected.len(), "no duplicates");
    assert_eq!(got, expected);
}

#[test]
fn scan_walks_every_node_without_missing_or_repeating_keys() {
    let set = StandaloneSet::start(4);
    let c = client(&set, Mode::RingHash, false);
    let written = fill(&c, 3000, "scan:");
    fill(&c, 200, "other:");
    let mut seen = Vec::new();
    let mut cursor = "0".to_string();
    let mut rounds = 0;
    loop {
        let reply = c
            .query(["SCAN", &cursor, "MATCH", "scan:*", "COUNT", "100"])
            .unwrap()
            .into_array()
            .unwrap();
        cursor = reply[0].to_text().unwrap();
        for k in reply[1].as_array().unwrap() {
            seen.push(k.as_bytes().unwrap().to_vec());
        }
        rounds += 1;
        assert!(rounds < 10_000, "SCAN did not terminate");
        if cursor == "0" {
            break;
        }
    }
    let unique: HashSet<Vec<u8>> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "SCAN repeated keys");
    assert_eq!(unique, written, "SCAN missed keys");
    // A garbage cursor is a typed error.
    assert!(c.query(["SCAN", "nope"]).is_err());
}

#[test]
fn flush_script_ping_randomkey_info_reach_every_node() {
    let set = StandaloneSet::start(3);
    let c = client(&set, Mode::RingHash, false);
    fill(&c, 300, "f:");
    assert_eq!(c.query(["PING"]).unwrap(), Value::Status("PONG".into()));

    // RANDOMKEY finds a key even when most nodes are empty.
    let only = "only-key";
    c.query(["FLUSHALL"]).unwrap();
    c.query(["SET", only, "1"]).unwrap();
    for _ in 0..10 {
        assert_eq!(
            c.query(["RANDOMKEY"]).unwrap(),
            Value::Bulk(only.as_bytes().to_vec())
        );
    }
    assert!(c.query(["FLUSHDB"]).unwrap().is_ok());
    assert_eq!(c.query(["RANDOMKEY"]).unwrap(), Value::Nil);
    for s in &set.servers {
        assert!(s.keys().is_empty());
    }

    let sha = c
        .query(["SCRIPT", "LOAD", "return 1"])
        .unwrap()
        .to_text()
        .unwrap();
    for s in &set.servers {
        let exists = s.cmd(&["SCRIPT", "EXISTS", &sha]);
        assert_eq!(
            exists,
            redis::Value::Array(vec![redis::Value::Int(1)]),
            "not loaded on {}",
            s.addr()
        );
    }
    assert_eq!(
        c.query(["SCRIPT", "EXISTS", &sha, "0000"]).unwrap(),
        Value::Array(vec![Value::Int(1), Value::Int(0)])
    );
    // Loaded on one node only → EXISTS is false overall (logical AND).
    set.servers[1].cmd(&["SCRIPT", "FLUSH"]);
    assert_eq!(
        c.query(["SCRIPT", "EXISTS", &sha]).unwrap(),
        Value::Array(vec![Value::Int(0)])
    );
    assert!(c.query(["SCRIPT", "FLUSH"]).unwrap().is_ok());
    for s in &set.servers {
        assert_eq!(
            s.cmd(&["SCRIPT", "EXISTS", &sha]),
            redis::Value::Array(vec![redis::Value::Int(0)])
        );
    }

    // INFO: one section per node.
    match c.query(["INFO", "server"]).unwrap() {
        Value::Map(entries) => {
            let nodes: HashSet<String> =
                entries.iter().map(|(k, _)| k.to_text().unwrap()).collect();
            assert_eq!(nodes, set.addrs().into_iter().collect());
            for (_, v) in entries {
                assert!(v.to_text().unwrap().contains("redis_version"));
            }
        }
        other => panic!("INFO: {other:?}"),
    }
}
