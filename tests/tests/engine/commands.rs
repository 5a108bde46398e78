//! Single-key routing, split/merge of multi-key commands, cross-shard errors, scripts.

use shardis::{Cmd, ErrorKind, Mode, Value};
use shardis_tests::{StandaloneSet, client, keys_on_two_nodes};

fn bulk(s: &str) -> Value {
    Value::Bulk(s.as_bytes().to_vec())
}

#[test]
fn single_key_commands_land_on_the_routed_node() {
    let set = StandaloneSet::start(3);
    let c = client(&set, Mode::Maglev, false);
    for i in 0..300 {
        let k = format!("item:{i}");
        assert!(c.query(["SET", &k, &i.to_string()]).unwrap().is_ok());
        assert_eq!(
            c.query(["INCRBY", &format!("ctr:{i}"), "2"]).unwrap(),
            Value::Int(2)
        );
        c.query(["HSET", &format!("h:{i}"), "f", "v"]).unwrap();
    }
    for s in &set.servers {
        for k in s.keys() {
            assert_eq!(
                c.node_for(&k).unwrap(),
                s.addr(),
                "{}",
                String::from_utf8_lossy(&k)
            );
        }
    }
    assert_eq!(c.query(["GET", "item:7"]).unwrap(), bulk("7"));
    assert_eq!(c.query(["GET", "missing"]).unwrap(), Value::Nil);
    assert_eq!(c.query(["HGET", "h:3", "f"]).unwrap(), bulk("v"));
    // Binary keys and values with NUL bytes survive.
    let key = b"bin\0key\xff".to_vec();
    c.execute(&Cmd::new("SET").with(&key).with(b"\0\x01\x02"))
        .unwrap();
    assert_eq!(
        c.execute(&Cmd::new("GET").with(&key)).unwrap(),
        Value::Bulk(vec![0, 1, 2])
    );
    // A server error is a typed error with its code, and the connection stays usable.
    let e = c.query(["LPUSH", "item:7", "x"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);
    assert_eq!(e.code(), Some("WRONGTYPE"));
    assert_eq!(c.query(["GET", "item:7"]).unwrap(), bulk("7"));
}

#[test]
fn split_commands_are_merged_in_request_order() {
    let set = StandaloneSet::start(3);
    let c = client(&set, Mode::RingHash, false);
    let keys: Vec<String> = (0..50).map(|i| format!("k{i}")).collect();
    let mut mset = vec!["MSET".to_string()];
    for (i, k) in keys.iter().enumerate() {
        mset.push(k.clone());
        mset.push(format!("v{i}"));
    }
    assert!(c.query(&mset).unwrap().is_ok());
    // Really spread over every node.
    for s in &set.servers {
        assert!(!s.keys().is_empty(), "{} got no keys", s.addr());
    }
    let mut mget = vec!["MGET".to_string()];
    mget.extend(keys.iter().cloned());
    mget.insert(10, "absent".into());
    let got = c.query(&mget).unwrap().into_array().unwrap();
    assert_eq!(got.len(), 51);
    for (i, v) in got.iter().enumerate() {
        let expected = match i {
            9 => Value::Nil,
            i if i < 9 => bulk(&format!("v{i}")),
            i => bulk(&format!("v{}", i - 1)),
        };
        assert_eq!(*v, expected, "position {i}");
    }
    let mut exists = vec!["EXISTS".to_string()];
    exists.extend(keys.iter().take(20).cloned());
    exists.push("absent".into());
    exists.push("k0".into());
    assert_eq!(c.query(&exists).unwrap(), Value::Int(21));
    let mut touch = vec!["TOUCH".to_string()];
    touch.extend(keys.iter().take(5).cloned());
    assert_eq!(c.query(&touch).unwrap(), Value::Int(5));
    let mut del = vec!["DEL".to_string()];
    del.extend(keys.iter().take(30).cloned());
    assert_eq!(c.query(&del).unwrap(), Value::Int(30));
    let mut unlink = vec!["UNLINK".to_string()];
    unlink.extend(keys.iter().cloned());
    assert_eq!(c.query(&unlink).unwrap(), Value::Int(20));
    assert_eq!(c.query(["DBSIZE"]).unwrap(), Value::Int(0));
}

#[test]
fn split_requests_are_one_round_trip_per_node() {
    let set = StandaloneSet::start(3);
    let c = client(&set, Mode::RingHash, false);
    let mut mget = vec!["MGET".to_string()];
    mget.extend((0..90).map(|i| format!("k{i}")));
    c.query(&mget).unwrap();
    let stats = c.stats();
    let total: u64 = stats.nodes.values().map(|n| n.requests).sum();
    // One MGET sub-request per node, not one per key (Envoy sends one per key).
    assert_eq!(total, 3, "{:?}", stats.nodes);
}

#[test]
fn multi_key_commands_on_one_node_work_and_cross_shard_fails_before_sending() {
    let set = StandaloneSet::start(3);
    let c = client(&set, Mode::RingHash, true);
    c.query(["SET", "{u1}:a", "1"]).unwrap();
    assert!(c.query(["RENAME", "{u1}:a", "{u1}:b"]).unwrap().is_ok());
    assert_eq!(c.query(["GET", "{u1}:b"]).unwrap(), bulk("1"));
    c.query(["SADD", "{u1}:s1", "x", "y"]).unwrap();
    c.query(["SADD", "{u1}:s2", "y", "z"]).unwrap();
    assert_eq!(
        c.query(["SINTER", "{u1}:s1", "{u1}:s2"]).unwrap(),
        Value::Array(vec![bulk("y")])
    );
    assert_eq!(
        c.query(["MSETNX", "{u1}:n1", "1", "{u1}:n2", "2"]).unwrap(),
        Value::Int(1)
    );

    let (a, b) = keys_on_two_nodes(&c, "x:");
    c.query(["SET", &a, "1"]).unwrap();
    let before: Vec<i64> = set
        .servers
        .iter()
        .map(|s| s.info_stat("total_commands_processed"))
        .collect();
    for args in [
        vec!["RENAME", a.as_str(), b.as_str()],
        vec!["SINTER", a.as_str(), b.as_str()],
        vec!["MSETNX", a.as_str(), "1", b.as_str(), "2"],
        vec!["EVAL", "return 1", "2", a.as_str(), b.as_str()],
    ] {
        let e = c.query(&args).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CrossShard, "{args:?}: {e}");
        assert!(e.message().contains("nothing was sent"), "{e}");
    }
    // INFO itself is one command per server; nothing else reached them.
    let after: Vec<i64> = set
        .servers
        .iter()
        .map(|s| s.info_stat("total_commands_processed"))
        .collect();
    for (x, y) in before.iter().zip(&after) {
        assert_eq!(y - x, 1, "a cross-shard command reached a server");
    }
    assert_eq!(c.query(["GET", &b]).unwrap(), Value::Nil);
}

#[test]
fn eval_and_evalsha_route_by_their_keys() {
    let set = StandaloneSet::start(3);
    let c = client(&set, Mode::RingHash, false);
    let script = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])";
    for i in 0..30 {
        let k = format!("ev:{i}");
        assert_eq!(
            c.query(["EVAL", script, "1", &k, "val"]).unwrap(),
            bulk("val")
        );
    }
    for s in &set.servers {
        for k in s.keys() {
            assert_eq!(c.node_for(&k).unwrap(), s.addr());
        }
    }
    // SCRIPT LOAD goes to every node, so EVALSHA works wherever its key lives.
    let sha = c
        .query(["SCRIPT", "LOAD", "return KEYS[1]"])
        .unwrap()
        .to_text()
        .unwrap();
    for i in 0..20 {
        let k = format!("sha:{i}");
        assert_eq!(c.query(["EVALSHA", &sha, "1", &k]).unwrap(), bulk(&k));
    }
    assert_eq!(c.query(["EVAL", "return 7", "0"]).unwrap(), Value::Int(7));
    let e = c.query(["EVAL", "return 1", "notanumber"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn unsupported_and_unknown_commands_are_typed_errors() {
    let set = StandaloneSet::start(2);
    let c = client(&set, Mode::RingHash, false);
    for args in [
        vec!["SELECT", "1"],
        vec!["MULTI"],
        vec!["SUBSCRIBE", "ch"],
        vec!["AUTH", "x"],
    ] {
        assert_eq!(
            c.query(&args).unwrap_err().kind(),
            ErrorKind::Unsupported,
            "{args:?}"
        );
    }
    assert_eq!(
        c.query(["NOSUCHCOMMAND", "x"]).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(
        c.query(["GET"]).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let empty: [&str; 0] = [];
    assert_eq!(
        c.query(empty).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}
