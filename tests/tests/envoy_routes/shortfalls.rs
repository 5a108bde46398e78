//! Where shardis deliberately differs from Envoy 1.40 (README "Where shardis does better
//! than Envoy"): each test runs the same commands through the real Envoy and through
//! shardis on the same servers and asserts each side's own result, so a change on either
//! side shows up.
//!
//! Envoy decides "read" as "not in its write-command list" (`SupportedCommands::
//! writeCommands`): GETSET and the stream writes (XADD, …) are missing from that list, and
//! TOUCH is in it. shardis takes Redis' own `readonly` flag. This decides both where a
//! route with `read_command_policy` sends a command and whether `exclude_read_commands`
//! mirrors it.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::script::{Command, cmd};
use crate::{Outcome, Reply, Snapshot, Topology, both, fixture};

/// The `mirror.yaml` servers: "mi:" mirrored (reads excluded) to `mirror`, "ro:"
/// (remove_prefix) reading from `reads`.
fn mirror_topology() -> Topology {
    Topology::start(
        &[("main", 2), ("mirror", 2), ("never", 1), ("reads", 1)],
        None,
    )
}

/// Passes once two polls in a row of the same run saw the same holdings and command
/// counts (Envoy's fire-and-forget mirror copies have landed).
fn stable() -> impl Fn(&Outcome) -> Result<(), String> {
    type Seen = (
        &'static str,
        Snapshot,
        BTreeMap<String, BTreeMap<String, u64>>,
    );
    let last: RefCell<Option<Seen>> = RefCell::new(None);
    move |o: &Outcome| {
        let now = (o.who, o.snapshot.clone(), o.calls.clone());
        let same = last.borrow().as_ref() == Some(&now);
        *last.borrow_mut() = Some(now);
        if same {
            Ok(())
        } else {
            Err(format!("{}: servers still changing", o.who))
        }
    }
}

fn run_mirror_yaml(script: &[Command]) -> (Outcome, Outcome) {
    let t = mirror_topology();
    both(&t, &fixture("mirror.yaml"), script, &stable())
}

/// Does any server of `set` hold `key` (as stored)?
fn holds(o: &Outcome, set: &str, key: &[u8]) -> bool {
    o.snapshot.union_of(set).contains_key(key)
}

fn bulk(b: &[u8]) -> Reply {
    Reply::Bulk(b.to_vec())
}

#[test]
fn getset_and_xadd_on_a_read_backend_route_are_writes_for_shardis_and_reads_for_envoy() {
    let (envoy, ours) = run_mirror_yaml(&[
        cmd([b"GETSET", b"ro:a", b"2"]),
        cmd([b"XADD", b"ro:s", b"1-1", b"f", b"v"]),
    ]);
    // Envoy writes them on the read backend (a replica in a real deployment: READONLY).
    assert!(
        holds(&envoy, "reads", b"a") && holds(&envoy, "reads", b"s"),
        "{:?}",
        envoy.snapshot
    );
    assert!(!holds(&envoy, "main", b"a"));
    // shardis writes them where the route's writes go.
    assert!(
        holds(&ours, "main", b"a") && holds(&ours, "main", b"s"),
        "{:?}",
        ours.snapshot
    );
    assert!(!holds(&ours, "reads", b"a") && !holds(&ours, "reads", b"s"));
}

#[test]
fn getset_is_mirrored_by_shardis_and_not_by_envoy_when_reads_are_excluded() {
    let (envoy, ours) = run_mirror_yaml(&[
        cmd([b"SET", b"mi:g", b"a"]),
        cmd([b"GETSET", b"mi:g", b"b"]),
    ]);
    assert_eq!(
        envoy.calls_on("mirror", "getset"),
        0,
        "Envoy drops the write from the mirror"
    );
    assert_eq!(ours.calls_on("mirror", "getset"), 1, "shardis mirrors it");
    assert_eq!(envoy.replies, ours.replies);
}

#[test]
fn touch_is_a_read_for_shardis_and_a_write_for_envoy() {
    let (envoy, ours) = run_mirror_yaml(&[
        cmd([b"SET", b"ro:a", b"1"]),
        cmd([b"TOUCH", b"ro:a"]),
        cmd([b"SET", b"mi:t", b"1"]),
        cmd([b"TOUCH", b"mi:t"]),
    ]);
    // Redis flags TOUCH read-only (it only updates the access time): shardis asks the read
    // backend, which does not hold the key, and does not mirror it; Envoy does the opposite.
    assert_eq!(envoy.replies[1], Reply::Int(1));
    assert_eq!(ours.replies[1], Reply::Int(0));
    assert_eq!(envoy.calls_on("mirror", "touch"), 1);
    assert_eq!(ours.calls_on("mirror", "touch"), 0);
}

#[test]
fn eval_keys_are_all_rewritten_by_shardis_and_only_the_first_by_envoy() {
    let (envoy, ours) = run_mirror_yaml(&[
        cmd([
            b"EVAL",
            b"return {KEYS[1], KEYS[2]}",
            b"2",
            b"ro:{t}x",
            b"ro:{t}y",
        ]),
        cmd([b"EVAL", b"return ARGV[1]", b"0", b"ro:x"]),
    ]);
    assert_eq!(
        envoy.replies[0],
        Reply::Array(vec![bulk(b"{t}x"), bulk(b"ro:{t}y")])
    );
    assert_eq!(
        ours.replies[0],
        Reply::Array(vec![bulk(b"{t}x"), bulk(b"{t}y")])
    );
    // numkeys 0: Envoy takes ARGV[1] for a key (routes and rewrites it); shardis leaves
    // arguments alone.
    assert_eq!(envoy.replies[1], bulk(b"x"));
    assert_eq!(ours.replies[1], bulk(b"ro:x"));
}

#[test]
fn mget_over_a_key_of_another_type_is_nil_as_in_redis_not_an_error_element() {
    let (envoy, ours) = run_mirror_yaml(&[
        cmd([b"HSET", b"h", b"f", b"v"]),
        cmd([b"SET", b"k", b"v"]),
        cmd([b"MGET", b"h", b"k"]),
    ]);
    // Envoy sends one GET per key, so the hash is a WRONGTYPE element; Redis' own MGET (and
    // shardis, which sends MGET) gives nil.
    assert!(
        matches!(&envoy.replies[2], Reply::Array(a) if matches!(&a[0], Reply::Error(e) if e.starts_with("WRONGTYPE")) && a[1] == bulk(b"v")),
        "{:?}",
        envoy.replies[2]
    );
    assert_eq!(ours.replies[2], Reply::Array(vec![Reply::Nil, bulk(b"v")]));
}

/// A bootstrap with one redis_proxy listener, `prefix_routes` given as YAML lines, and one
/// single-server RING_HASH cluster per name (port placeholder `{{NAME.0}}`).
fn bootstrap(prefix_routes: &str, clusters: &[&str]) -> String {
    let mut yaml = format!(
        r#"
admin:
  address: {{ socket_address: {{ address: 127.0.0.1, port_value: 0 }} }}
static_resources:
  listeners:
  - name: redis_listener
    address: {{ socket_address: {{ address: 127.0.0.1, port_value: 0 }} }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.redis_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
          stat_prefix: egress_redis
          settings: {{ op_timeout: 5s }}
          prefix_routes:
{prefix_routes}
  clusters:
"#
    );
    for name in clusters {
        yaml.push_str(&format!(
            r#"  - name: {name}
    type: STATIC
    connect_timeout: 1s
    lb_policy: RING_HASH
    load_assignment:
      cluster_name: {name}
      endpoints:
      - lb_endpoints:
        - endpoint: {{ address: {{ socket_address: {{ address: 127.0.0.1, port_value: {{{{{name}.0}}}} }} }} }}
"#
        ));
    }
    yaml
}

/// One route `a:`, no catch-all.
fn no_catch_all() -> String {
    bootstrap(
        "            routes:\n            - { prefix: \"a:\", cluster: only }",
        &["only"],
    )
}

#[test]
fn a_key_no_route_takes_fails_the_whole_command_before_sending_in_shardis() {
    let t = Topology::start(&[("only", 1)], None);
    let (envoy, ours) = both(
        &t,
        &no_catch_all(),
        &[
            cmd([b"SET", b"a:1", b"v"]),
            cmd([b"GET", b"b:1"]),
            cmd([b"MGET", b"a:1", b"b:1"]),
        ],
        &stable(),
    );
    assert_eq!(envoy.replies[1], Reply::Error("no upstream host".into()));
    assert_eq!(
        envoy.replies[2],
        Reply::Array(vec![bulk(b"v"), Reply::Error("no upstream host".into())])
    );
    // shardis: a typed error naming the key, for the whole command, nothing sent.
    for r in &ours.replies[1..] {
        assert!(
            matches!(r, Reply::Client(e) if e.contains("no route for key 'b:1'")),
            "{r:?}"
        );
    }
    assert_eq!(ours.calls_on("only", "mget"), 0);
}

/// Route `a:` to cluster a, the catch-all to b.
fn two_routes() -> String {
    bootstrap(
        "            routes:\n            - { prefix: \"a:\", cluster: a }\n            catch_all_route: { cluster: b }",
        &["a", "b"],
    )
}

fn sorted_keys(v: redis::Value) -> Vec<Vec<u8>> {
    let redis::Value::Array(items) = v else {
        panic!("KEYS: {v:?}")
    };
    let mut keys: Vec<Vec<u8>> = items
        .into_iter()
        .map(|k| match k {
            redis::Value::BulkString(b) => b,
            other => panic!("key {other:?}"),
        })
        .collect();
    keys.sort();
    keys
}

#[test]
fn keyspace_commands_reach_every_backend_in_shardis_and_only_the_catch_all_in_envoy() {
    let t = Topology::start(&[("a", 1), ("b", 1)], None);
    let yaml = t.render(&two_routes());
    t.server("a.0").cmd(&["SET", "a:1", "x"]);
    t.server("b.0").cmd(&["SET", "b:1", "y"]);
    let envoy = shardis_tests::envoy::Envoy::start_yaml(&yaml);
    let mut con = envoy.connection();
    let keys: redis::Value = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
    assert_eq!(
        sorted_keys(keys),
        [b"b:1".to_vec()],
        "Envoy asks only the catch-all"
    );
    let dbsize: redis::RedisResult<i64> = redis::cmd("DBSIZE").query(&mut con);
    assert!(dbsize.is_err(), "Envoy has no DBSIZE: {dbsize:?}");
    envoy.stop();
    let ours = shardis::Client::new(crate::shardis_config(&yaml)).unwrap();
    let shardis::Value::Array(keys) = ours.query(["KEYS", "*"]).unwrap() else {
        panic!("KEYS")
    };
    let mut keys: Vec<Vec<u8>> = keys
        .iter()
        .map(|k| k.as_bytes().unwrap().to_vec())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [b"a:1".to_vec(), b"b:1".to_vec()],
        "shardis asks every backend"
    );
    assert_eq!(ours.query(["DBSIZE"]).unwrap(), shardis::Value::Int(2));
}

#[test]
fn a_transaction_across_routes_is_refused_by_shardis_and_misplaced_by_envoy() {
    let t = Topology::start(&[("a", 1), ("b", 1)], None);
    let yaml = t.render(&two_routes());
    let envoy = shardis_tests::envoy::Envoy::start_yaml(&yaml);
    let mut con = envoy.connection();
    let replies: Vec<String> = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("a:1")
        .arg("x")
        .cmd("SET")
        .arg("other")
        .arg("y")
        .query(&mut con)
        .unwrap();
    assert_eq!(replies, ["OK", "OK"]);
    envoy.stop();
    // Envoy sent the whole transaction to the first key's route: "other" is on a, which
    // the catch-all's keys never reach.
    assert_eq!(t.server("a.0").keys(), [b"a:1".to_vec(), b"other".to_vec()]);
    assert!(t.server("b.0").keys().is_empty());
    t.reset();
    let ours = shardis::Client::new(crate::shardis_config(&yaml)).unwrap();
    let mut tx = ours.transaction();
    tx.queue(shardis::Cmd::from_args(["SET", "a:1", "x"]))
        .unwrap();
    let e = tx
        .queue(shardis::Cmd::from_args(["SET", "other", "y"]))
        .unwrap_err();
    assert_eq!(e.kind(), shardis::ErrorKind::CrossShard, "{e}");
    drop(tx);
    assert!(t.server("a.0").keys().is_empty() && t.server("b.0").keys().is_empty());
}
