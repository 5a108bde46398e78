//! Whole-keyspace commands with several backends: every backend that holds keys is asked.

use std::collections::BTreeSet;

use shardis::Value;
use shardis_tests::StandaloneSet;

use crate::{client, config};

fn two_backends() -> (StandaloneSet, StandaloneSet, shardis::Client) {
    let a = StandaloneSet::start(2);
    let b = StandaloneSet::start(1);
    let c = client(config(
        &[("a", "ring_hash", &a), ("b", "maglev", &b)],
        "[[routes]]\nprefix = \"a:\"\nbackend = \"a\"\n[catch_all]\nbackend = \"b\"\n",
    ));
    (a, b, c)
}

#[test]
fn dbsize_keys_and_scan_cover_every_backend() {
    let (_a, _b, c) = two_backends();
    let mut expected = BTreeSet::new();
    for i in 0..150 {
        let k = if i % 3 == 0 {
            format!("a:{i}")
        } else {
            format!("k{i}")
        };
        c.query(["SET", k.as_str(), "v"]).unwrap();
        expected.insert(k);
    }
    assert_eq!(c.query(["DBSIZE"]).unwrap(), Value::Int(150));
    let Value::Array(keys) = c.query(["KEYS", "*"]).unwrap() else {
        panic!("KEYS")
    };
    let keys: BTreeSet<String> = keys
        .iter()
        .map(|k| String::from_utf8_lossy(k.as_bytes().unwrap()).into_owned())
        .collect();
    assert_eq!(keys, expected);
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_owned();
    for _ in 0..10_000 {
        let Value::Array(r) = c.query(["SCAN", cursor.as_str(), "COUNT", "7"]).unwrap() else {
            panic!("SCAN")
        };
        cursor = String::from_utf8_lossy(r[0].as_bytes().unwrap()).into_owned();
        if let Value::Array(ks) = &r[1] {
            for k in ks {
                seen.insert(String::from_utf8_lossy(k.as_bytes().unwrap()).into_owned());
            }
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(cursor, "0", "SCAN ended");
    assert_eq!(seen, expected);
    assert_eq!(c.query(["FLUSHALL"]).unwrap(), Value::Okay);
    assert_eq!(c.query(["DBSIZE"]).unwrap(), Value::Int(0));
}

#[test]
fn randomkey_finds_a_key_on_any_backend_and_ping_goes_to_one() {
    let (_a, _b, c) = two_backends();
    assert_eq!(c.query(["RANDOMKEY"]).unwrap(), Value::Nil);
    c.query(["SET", "a:only", "v"]).unwrap();
    for _ in 0..5 {
        assert_eq!(
            c.query(["RANDOMKEY"]).unwrap(),
            Value::Bulk(b"a:only".to_vec())
        );
    }
    assert_eq!(c.query(["PING"]).unwrap(), Value::Status("PONG".into()));
    assert_eq!(c.nodes().len(), 3);
}

#[test]
fn info_over_backends_of_one_node_is_one_map_of_every_node() {
    let a = StandaloneSet::start(1);
    let b = StandaloneSet::start(1);
    let c = client(config(
        &[("a", "jump", &a), ("b", "jump", &b)],
        "[[routes]]\nprefix = \"a:\"\nbackend = \"a\"\n[catch_all]\nbackend = \"b\"\n",
    ));
    let Value::Map(entries) = c.query(["INFO", "server"]).unwrap() else {
        panic!("INFO is a map")
    };
    let nodes: BTreeSet<String> = entries
        .iter()
        .map(|(k, _)| String::from_utf8_lossy(k.as_bytes().unwrap()).into_owned())
        .collect();
    let expected: BTreeSet<String> = a.addrs().into_iter().chain(b.addrs()).collect();
    assert_eq!(nodes, expected);
    assert!(entries.iter().all(|(_, v)| {
        v.as_bytes()
            .is_some_and(|t| String::from_utf8_lossy(t).contains("redis_version"))
    }));
}
