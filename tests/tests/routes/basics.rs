//! Placement by prefix, stored key names, splitting across routes, and what must fail
//! before anything is sent.

use shardis::{Cmd, ErrorKind, Value};
use shardis_tests::StandaloneSet;

use crate::{client, config, keys_of};

const ROUTES: &str = r#"
[[routes]]
prefix = "sess:"
backend = "sessions"
[[routes]]
prefix = "cache:"
remove_prefix = true
backend = "cache"
[[routes]]
prefix = "cache:tagged:"
remove_prefix = true
key_formatter = "{%KEY%}"
backend = "cache"
[catch_all]
backend = "main"
"#;

struct Sets {
    sessions: StandaloneSet,
    cache: StandaloneSet,
    main: StandaloneSet,
}

fn sets() -> Sets {
    Sets {
        sessions: StandaloneSet::start(2),
        cache: StandaloneSet::start(1),
        main: StandaloneSet::start(2),
    }
}

fn routed_client(s: &Sets) -> shardis::Client {
    client(config(
        &[
            ("sessions", "ring_hash", &s.sessions),
            ("cache", "maglev", &s.cache),
            ("main", "ketama", &s.main),
        ],
        ROUTES,
    ))
}

#[test]
fn longest_prefix_routes_keys_and_stores_them_rewritten() {
    let s = sets();
    let c = routed_client(&s);
    for k in [
        "sess:1",
        "sess:2",
        "cache:a",
        "cache:tagged:b",
        "other",
        "cachex",
    ] {
        assert_eq!(c.query(["SET", k, "v"]).unwrap(), Value::Okay, "{k}");
    }
    assert_eq!(keys_of(&s.sessions), ["sess:1", "sess:2"]);
    assert_eq!(keys_of(&s.cache), ["a", "{b}"]);
    assert_eq!(keys_of(&s.main), ["cachex", "other"]);
    // Reads find them under the application's names.
    for k in ["sess:1", "cache:a", "cache:tagged:b", "other"] {
        assert_eq!(
            c.query(["GET", k]).unwrap(),
            Value::Bulk(b"v".to_vec()),
            "{k}"
        );
    }
    let (node, stored) = c.route_for(b"cache:tagged:b").unwrap();
    assert_eq!(node, s.cache.addrs()[0]);
    assert_eq!(stored, b"{b}");
    assert_eq!(c.backend_for(b"sess:9").unwrap(), "sessions");
    assert_eq!(c.backend_for(b"zzz").unwrap(), "main");
}

#[test]
fn multi_key_commands_split_per_route_and_merge_in_key_order() {
    let s = sets();
    let c = routed_client(&s);
    let r = c
        .query([
            "MSET", "sess:1", "a", "cache:x", "b", "plain", "c", "sess:2", "d",
        ])
        .unwrap();
    assert_eq!(r, Value::Okay);
    assert_eq!(keys_of(&s.cache), ["x"]);
    let got = c
        .query(["MGET", "cache:x", "sess:2", "missing", "plain", "sess:1"])
        .unwrap();
    let bulk = |v: &str| Value::Bulk(v.as_bytes().to_vec());
    assert_eq!(
        got,
        Value::Array(vec![bulk("b"), bulk("d"), Value::Nil, bulk("c"), bulk("a")])
    );
    assert_eq!(
        c.query(["EXISTS", "sess:1", "cache:x", "nope", "plain"])
            .unwrap(),
        Value::Int(3)
    );
    assert_eq!(
        c.query(["DEL", "sess:1", "cache:x", "plain"]).unwrap(),
        Value::Int(3)
    );
    assert_eq!(keys_of(&s.sessions), ["sess:2"]);
    assert!(keys_of(&s.cache).is_empty());
}

#[test]
fn transactions_and_scripts_across_routes_fail_before_anything_is_sent() {
    let s = sets();
    let c = routed_client(&s);
    let before: i64 = [&s.sessions, &s.cache]
        .iter()
        .flat_map(|set| set.servers.iter())
        .map(|srv| srv.info_stat("total_commands_processed"))
        .sum();
    let mut tx = c.transaction();
    tx.queue(Cmd::from_args(["SET", "sess:1", "x"])).unwrap();
    let e = tx
        .queue(Cmd::from_args(["SET", "cache:1", "y"]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CrossShard, "{e}");
    assert!(e.to_string().contains("backend 'cache'"), "{e}");
    drop(tx);
    let e = c
        .query(["EVAL", "return 1", "2", "sess:1", "cache:1"])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CrossShard, "{e}");
    assert!(e.to_string().contains("different routes"), "{e}");
    let e = c.query(["RENAME", "sess:1", "plain"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CrossShard, "{e}");
    // INFO itself is one command per server.
    let after: i64 = [&s.sessions, &s.cache]
        .iter()
        .flat_map(|set| set.servers.iter())
        .map(|srv| srv.info_stat("total_commands_processed"))
        .sum();
    assert_eq!(
        after - before,
        3,
        "only the INFO calls of this test reached the servers"
    );
}

#[test]
fn a_transaction_on_one_route_runs_on_its_backend_with_rewritten_keys() {
    let s = sets();
    let c = routed_client(&s);
    let mut tx = c.transaction();
    tx.watch(&["cache:w"]).unwrap();
    tx.queue(Cmd::from_args(["SET", "cache:w", "1"])).unwrap();
    tx.queue(Cmd::from_args(["INCR", "cache:w"])).unwrap();
    tx.queue(Cmd::from_args(["GET", "cache:w"])).unwrap();
    let r = tx.exec().unwrap();
    assert_eq!(
        r,
        Value::Array(vec![Value::Okay, Value::Int(2), Value::Bulk(b"2".to_vec())])
    );
    assert_eq!(keys_of(&s.cache), ["w"]);
    assert!(keys_of(&s.main).is_empty());
}

#[test]
fn a_key_no_route_takes_is_an_error_naming_it() {
    let s = sets();
    let c = client(config(
        &[("sessions", "ring_hash", &s.sessions)],
        "[[routes]]\nprefix = \"sess:\"\nbackend = \"sessions\"\n",
    ));
    let e = c.query(["SET", "other:1", "v"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.to_string().contains("no route for key 'other:1'"), "{e}");
    assert_eq!(c.query(["SET", "sess:1", "v"]).unwrap(), Value::Okay);
}

#[test]
fn case_insensitive_routes_match_any_ascii_case() {
    let s = sets();
    let c = client(config(
        &[
            ("sessions", "ring_hash", &s.sessions),
            ("main", "jump", &s.main),
        ],
        "routes_case_insensitive = true\n[[routes]]\nprefix = \"Sess:\"\nbackend = \"sessions\"\nremove_prefix = true\n[catch_all]\nbackend = \"main\"\n",
    ));
    for k in ["SESS:a", "sess:b", "sEsS:c", "ses:d"] {
        c.query(["SET", k, "v"]).unwrap();
    }
    assert_eq!(keys_of(&s.sessions), ["a", "b", "c"]);
    assert_eq!(keys_of(&s.main), ["ses:d"]);
}

#[test]
fn a_pipeline_across_routes_keeps_the_order_of_commands_on_the_same_keys() {
    let s = sets();
    let c = routed_client(&s);
    let cmds: Vec<Cmd> = vec![
        Cmd::from_args(["SET", "sess:1", "one"]),
        Cmd::from_args(["MGET", "sess:1", "cache:1"]),
        Cmd::from_args(["SET", "cache:1", "two"]),
        Cmd::from_args(["SET", "sess:1", "three"]),
        Cmd::from_args(["MGET", "sess:1", "cache:1"]),
        Cmd::from_args(["GET", "plain"]),
        Cmd::from_args(["SET", "nope"]),
    ];
    let r = c.pipeline(&cmds);
    let bulk = |v: &str| Value::Bulk(v.as_bytes().to_vec());
    assert_eq!(r[0], Ok(Value::Okay));
    assert_eq!(r[1], Ok(Value::Array(vec![bulk("one"), Value::Nil])));
    assert_eq!(r[3], Ok(Value::Okay));
    assert_eq!(r[4], Ok(Value::Array(vec![bulk("three"), bulk("two")])));
    assert_eq!(r[5], Ok(Value::Nil));
    assert_eq!(
        r[6].as_ref().unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn one_backend_and_no_routes_is_the_single_shard_set_client() {
    let s = sets();
    let toml = format!(
        "mode = \"ring_hash\"\nnodes = [{:?}, {:?}]\n",
        s.main.addrs()[0],
        s.main.addrs()[1]
    );
    let c = client(shardis::Config::from_toml_str(&toml).unwrap());
    assert!(c.config().routing().is_none());
    c.query(["SET", "k", "v"]).unwrap();
    assert!(c.stats().routing.is_none());
    assert_eq!(c.backend_for(b"k").unwrap(), "default");
}

#[test]
fn top_level_nodes_are_the_default_backend_and_the_implicit_catch_all() {
    let s = sets();
    let toml = format!(
        "mode = \"jump\"\nnodes = [{:?}]\n[backends.sessions]\nmode = \"ring_hash\"\nnodes = [{:?}]\n[[routes]]\nprefix = \"sess:\"\nbackend = \"sessions\"\n",
        s.main.addrs()[0],
        s.sessions.addrs()[0]
    );
    let c = client(shardis::Config::from_toml_str(&toml).unwrap());
    c.query(["SET", "sess:1", "v"]).unwrap();
    c.query(["SET", "x", "v"]).unwrap();
    assert_eq!(s.sessions.servers[0].keys(), [b"sess:1".to_vec()]);
    assert_eq!(s.main.servers[0].keys(), [b"x".to_vec()]);
    assert_eq!(c.backend_for(b"x").unwrap(), "default");
}

#[test]
fn a_split_command_with_a_missing_value_is_refused_before_sending() {
    let s = sets();
    let c = routed_client(&s);
    let e = c
        .query(["MSET", "sess:1", "a", "cache:1", "b", "plain"])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(keys_of(&s.sessions).is_empty() && keys_of(&s.cache).is_empty());
    let r = c.pipeline(&[Cmd::from_args(["MSET", "sess:1", "a", "sess:2"])]);
    assert_eq!(
        r[0].as_ref().unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert!(keys_of(&s.sessions).is_empty());
}

#[test]
fn the_client_config_is_the_whole_routed_config() {
    let s = sets();
    let mut toml = String::from("persistent_id = \"routed-config\"\n");
    toml.push_str(&format!(
        "[backends.sessions]\nmode = \"ring_hash\"\nnodes = [{:?}]\n[catch_all]\nbackend = \"sessions\"\n",
        s.sessions.addrs()[0]
    ));
    let config = shardis::Config::from_toml_str(&toml).unwrap();
    let c = shardis::Client::shared(config.clone()).unwrap();
    assert_eq!(c.config(), &config);
    assert!(c.config().routing().is_some());
    assert_eq!(c.config().registry_key(), "routed-config");
    let again = shardis::Client::shared(c.config().clone()).unwrap();
    assert!(
        again.same_core(&c),
        "the config it reports gives back the same client"
    );
    assert!(shardis::registry::remove("routed-config"));
}

#[test]
fn a_command_refused_inside_a_transaction_does_not_pin_its_backend() {
    let s = sets();
    let c = routed_client(&s);
    // Two sess: keys on the two nodes of the sessions ring (no hash tags): MSET of both is
    // a cross-node command inside the sessions backend.
    let first = "sess:0";
    let node = c.node_for(first.as_bytes()).unwrap();
    let other = (1..1000)
        .map(|i| format!("sess:{i}"))
        .find(|k| c.node_for(k.as_bytes()).unwrap() != node)
        .unwrap();
    let mut tx = c.transaction();
    let e = tx
        .queue(Cmd::from_args(["MSET", first, "1", other.as_str(), "2"]))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CrossShard);
    tx.queue(Cmd::from_args(["SET", "plain", "x"])).unwrap();
    assert_eq!(tx.exec().unwrap(), Value::Array(vec![Value::Okay]));
    assert_eq!(keys_of(&s.main), ["plain"]);
}
