//! Non-transactional pipelines: split per node, replies in submission order, one failed
//! command does not fail the others; MULTI/EXEC/WATCH pinned to one node.

use shardis::{Cmd, ErrorKind, Mode, Value};
use shardis_tests::{StandaloneSet, client, keys_on_two_nodes};

#[test]
fn pipeline_replies_come_back_in_submission_order() {
    let set = StandaloneSet::start(3);
    let c = client(&set, Mode::Maglev, false);
    let mut cmds = Vec::new();
    for i in 0..200 {
        cmds.push(Cmd::from_args(["SET", &format!("p:{i}"), &format!("v{i}")]));
        cmds.push(Cmd::from_args(["GET", &format!("p:{i}")]));
        cmds.push(Cmd::from_args(["INCR", &format!("n:{i}")]));
    }
    // A failing command in the middle, a split command and a fan-out command.
    cmds.insert(31, Cmd::from_args(["HGET", "p:3", "field"]));
    cmds.insert(7, Cmd::from_args(["MGET", "p:0", "p:1", "p:2", "absent"]));
    cmds.push(Cmd::from_args(["DBSIZE"]));
    let replies = c.pipeline(&cmds);
    assert_eq!(replies.len(), cmds.len());
    for (cmd, reply) in cmds.iter().zip(&replies) {
        let args: Vec<String> = cmd
            .args()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        match args[0].as_str() {
            "SET" => assert!(reply.as_ref().unwrap().is_ok()),
            "GET" => assert_eq!(
                reply.as_ref().unwrap(),
                &Value::Bulk(format!("v{}", &args[1][2..]).into_bytes())
            ),
            "INCR" => assert_eq!(reply.as_ref().unwrap(), &Value::Int(1)),
            "HGET" => assert_eq!(reply.as_ref().unwrap_err().code(), Some("WRONGTYPE")),
            "MGET" => assert_eq!(
                reply.as_ref().unwrap(),
                &Value::Array(vec!["v0".into(), "v1".into(), "v2".into(), Value::Nil])
            ),
            "DBSIZE" => assert_eq!(reply.as_ref().unwrap(), &Value::Int(400)),
            other => panic!("{other}"),
        }
    }
    // One batch per node, not one round trip per command.
    let requests: u64 = c.stats().nodes.values().map(|n| n.requests).sum();
    assert!(requests <= cmds.len() as u64 + 6, "{requests}");
}

#[test]
fn a_dead_node_fails_only_its_own_commands() {
    let mut set = StandaloneSet::start(3);
    let c = client(&set, Mode::RingHash, false);
    let dead = set.servers[1].addr();
    set.servers[1].kill();
    let keys: Vec<String> = (0..60).map(|i| format!("d:{i}")).collect();
    let cmds: Vec<Cmd> = keys
        .iter()
        .map(|k| Cmd::from_args(["SET", k, "1"]))
        .collect();
    let replies = c.pipeline(&cmds);
    let mut failed = 0;
    for (k, r) in keys.iter().zip(&replies) {
        if c.node_for(k.as_bytes()).unwrap() == dead {
            let e = r.as_ref().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
            assert_eq!(e.node(), Some(dead.as_str()));
            failed += 1;
        } else {
            assert!(r.as_ref().unwrap().is_ok());
        }
    }
    assert!(failed > 0 && failed < keys.len());
}

#[test]
fn transaction_runs_on_the_node_of_its_keys() {
    let set = StandaloneSet::start(3);
    let c = client(&set, Mode::RingHash, true);
    let mut tx = c.transaction();
    tx.queue(Cmd::from_args(["SET", "{acct}:a", "10"])).unwrap();
    tx.queue(Cmd::from_args(["INCRBY", "{acct}:a", "5"]))
        .unwrap();
    tx.queue(Cmd::from_args(["MGET", "{acct}:a", "{acct}:b"]))
        .unwrap();
    tx.queue(Cmd::from_args(["LPUSH", "{acct}:a", "x"]))
        .unwrap();
    let node = tx.node().unwrap().to_owned();
    assert_eq!(node, c.node_for(b"{acct}:a").unwrap());
    let result = tx.exec().unwrap().into_array().unwrap();
    assert_eq!(result[0], Value::Okay);
    assert_eq!(result[1], Value::Int(15));
    assert_eq!(result[2], Value::Array(vec!["15".into(), Value::Nil]));
    assert!(matches!(&result[3], Value::Error(e) if e.starts_with("WRONGTYPE")));
    let holder = set.servers.iter().find(|s| s.addr() == node).unwrap();
    assert_eq!(holder.keys(), vec![b"{acct}:a".to_vec()]);
}

#[test]
fn transaction_with_keys_on_two_nodes_fails_before_sending() {
    let set = StandaloneSet::start(3);
    let c = client(&set, Mode::RingHash, false);
    let (a, b) = keys_on_two_nodes(&c, "t:");
    let mut tx = c.transaction();
    tx.queue(Cmd::from_args(["SET", &a, "1"])).unwrap();
    let e = tx.queue(Cmd::from_args(["SET", &b, "1"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CrossShard);
    let e = tx
        .queue(Cmd::from_args(["MSET", &a, "1", &b, "2"]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CrossShard);
    assert_eq!(
        tx.queue(Cmd::from_args(["DBSIZE"])).unwrap_err().kind(),
        ErrorKind::Unsupported
    );
    drop(tx);
    for s in &set.servers {
        assert!(s.keys().is_empty());
    }
    let mut tx = c.transaction();
    assert_eq!(
        tx.watch(&[a.as_str(), b.as_str()]).unwrap_err().kind(),
        ErrorKind::CrossShard
    );
}

#[test]
fn watch_aborts_exec_when_the_key_changes() {
    let set = StandaloneSet::start(2);
    let c = client(&set, Mode::RingHash, true);
    c.query(["SET", "{w}:k", "1"]).unwrap();
    let mut tx = c.transaction();
    tx.watch(&["{w}:k"]).unwrap();
    assert_eq!(
        tx.query(&Cmd::from_args(["GET", "{w}:k"])).unwrap(),
        "1".into()
    );
    // Another client changes the key between WATCH and EXEC.
    c.query(["SET", "{w}:k", "2"]).unwrap();
    tx.queue(Cmd::from_args(["SET", "{w}:k", "3"])).unwrap();
    assert_eq!(tx.exec().unwrap(), Value::Nil);
    assert_eq!(c.query(["GET", "{w}:k"]).unwrap(), "2".into());

    let mut tx = c.transaction();
    tx.watch(&["{w}:k"]).unwrap();
    tx.queue(Cmd::from_args(["SET", "{w}:k", "4"])).unwrap();
    assert_eq!(tx.exec().unwrap(), Value::Array(vec![Value::Okay]));
    assert_eq!(c.query(["GET", "{w}:k"]).unwrap(), "4".into());
}
