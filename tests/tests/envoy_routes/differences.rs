//! Where shardis and Envoy 1.40 disagree: one minimal differential test each, ignored so
//! that the suite passes; `cargo test -p shardis-tests --test envoy_routes -- --ignored`
//! shows each difference (Envoy's reply/placement first, shardis' second). A test that
//! starts passing means shardis now does what Envoy does: drop its `ignore`.
//!
//! Envoy decides "read" as "not in its write-command list" (`SupportedCommands::
//! writeCommands`): GETSET and the stream writes (XADD, …) are missing from that list, and
//! TOUCH is in it. shardis takes Redis' own `readonly` flag. This decides both where a
//! route with `read_command_policy` sends a command and whether `exclude_read_commands`
//! mirrors it.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::script::{Command, cmd};
use crate::{Outcome, Snapshot, Topology, differential, fixture};

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
    differential(&t, &fixture("mirror.yaml"), script, &[], &stable())
}

#[test]
#[ignore = "difference: Envoy sends GETSET on a read_command_policy route to the read backend"]
fn getset_on_a_route_with_a_read_backend_goes_to_the_read_backend_in_envoy() {
    // Envoy: nil, and the read backend then holds "a" = "2"; shardis: the route's backend.
    run_mirror_yaml(&[cmd([b"GETSET", b"ro:a", b"2"])]);
}

#[test]
#[ignore = "difference: Envoy sends XADD on a read_command_policy route to the read backend"]
fn xadd_on_a_route_with_a_read_backend_goes_to_the_read_backend_in_envoy() {
    run_mirror_yaml(&[cmd([b"XADD", b"ro:s", b"1-1", b"f", b"v"])]);
}

#[test]
#[ignore = "difference: Envoy does not mirror GETSET when exclude_read_commands is set"]
fn getset_is_not_mirrored_by_envoy_when_reads_are_excluded() {
    // Envoy: the mirror keeps "a"; shardis: the mirror gets "b" too.
    run_mirror_yaml(&[
        cmd([b"SET", b"mi:g", b"a"]),
        cmd([b"GETSET", b"mi:g", b"b"]),
    ]);
}

#[test]
#[ignore = "difference: Envoy treats TOUCH as a write (route backend, mirrored)"]
fn touch_on_a_route_with_a_read_backend_counts_the_route_backend_in_envoy() {
    // Envoy: 1 (the key is on the route's backend); shardis: 0 (asked the read backend).
    run_mirror_yaml(&[cmd([b"SET", b"ro:a", b"1"]), cmd([b"TOUCH", b"ro:a"])]);
}

#[test]
#[ignore = "difference: Envoy mirrors TOUCH when exclude_read_commands is set"]
fn touch_is_mirrored_by_envoy_when_reads_are_excluded() {
    let (envoy, ours) = run_mirror_yaml(&[cmd([b"SET", b"mi:t", b"1"]), cmd([b"TOUCH", b"mi:t"])]);
    assert_eq!(
        envoy.calls_on("mirror", "touch"),
        ours.calls_on("mirror", "touch"),
        "TOUCH calls on the mirror: Envoy vs shardis"
    );
}

#[test]
#[ignore = "difference: Envoy rewrites only the first key of EVAL (remove_prefix)"]
fn eval_with_two_keys_has_only_its_first_key_rewritten_by_envoy() {
    // Envoy: ["{t}x", "ro:{t}y"]; shardis: ["{t}x", "{t}y"].
    run_mirror_yaml(&[cmd([
        b"EVAL",
        b"return {KEYS[1], KEYS[2]}",
        b"2",
        b"ro:{t}x",
        b"ro:{t}y",
    ])]);
}

#[test]
#[ignore = "difference: Envoy routes EVAL with numkeys 0 on its first ARGV, and rewrites it"]
fn eval_without_keys_is_routed_and_rewritten_on_its_first_argument_by_envoy() {
    // Envoy: "x"; shardis: "ro:x".
    run_mirror_yaml(&[cmd([b"EVAL", b"return ARGV[1]", b"0", b"ro:x"])]);
}

#[test]
#[ignore = "difference: Envoy's MGET is one GET per key, so a wrong-type key is an error element"]
fn mget_over_a_key_of_another_type_has_an_error_element_in_envoy() {
    // Envoy: [-WRONGTYPE …, "v"]; shardis: [nil, "v"] (as Redis' own MGET).
    run_mirror_yaml(&[
        cmd([b"HSET", b"h", b"f", b"v"]),
        cmd([b"SET", b"k", b"v"]),
        cmd([b"MGET", b"h", b"k"]),
    ]);
}

const NO_CATCH_ALL: &str = r#"
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
static_resources:
  listeners:
  - name: redis_listener
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.redis_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
          stat_prefix: egress_redis
          settings: { op_timeout: 5s }
          prefix_routes:
            routes:
            - { prefix: "a:", cluster: only }
  clusters:
  - name: only
    type: STATIC
    connect_timeout: 1s
    lb_policy: RING_HASH
    load_assignment:
      cluster_name: only
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: {{only.0}} } } }
"#;

#[test]
#[ignore = "difference: a key no route takes is Envoy's error reply 'no upstream host'"]
fn a_key_no_route_takes_answers_envoys_error_text() {
    let t = Topology::start(&[("only", 1)], None);
    differential(
        &t,
        NO_CATCH_ALL,
        &[
            cmd([b"SET", b"a:1", b"v"]),
            cmd([b"GET", b"b:1"]),
            cmd([b"MGET", b"a:1", b"b:1"]),
        ],
        &[],
        &stable(),
    );
}
