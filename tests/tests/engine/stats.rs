//! Stats snapshot: per command and per node calls, errors, latency.

use shardis::Mode;
use shardis_tests::{StandaloneSet, client};

#[test]
fn stats_count_calls_errors_and_latency_per_command_and_node() {
    let set = StandaloneSet::start(3);
    let c = client(&set, Mode::RingHash, false);
    for i in 0..100 {
        c.query(["SET", &format!("s{i}"), "v"]).unwrap();
        c.query(["GET", &format!("s{i}")]).unwrap();
    }
    for _ in 0..3 {
        assert!(c.query(["LPUSH", "s1", "x"]).is_err());
    }
    let _ = c.query(["NOSUCH"]);
    let s = c.stats();
    let set_stats = &s.commands["set"];
    assert_eq!(set_stats.calls, 100);
    assert_eq!(set_stats.errors, 0);
    assert!(set_stats.latency.avg_us > 0 && set_stats.latency.p99_us >= set_stats.latency.p50_us);
    assert_eq!(s.commands["get"].calls, 100);
    assert_eq!(s.commands["lpush"].errors, 3);
    assert_eq!(s.commands["(unknown)"].calls, 1);
    assert_eq!(s.errors["server"], 3);
    assert_eq!(s.errors["unsupported"], 1);
    assert_eq!(s.nodes.len(), 3);
    let requests: u64 = s.nodes.values().map(|n| n.requests).sum();
    assert_eq!(requests, 203);
    for (addr, n) in &s.nodes {
        assert_eq!(n.connects, 1, "{addr}");
        assert_eq!(n.idle_connections, 1, "{addr}");
        assert!(n.latency.max_us > 0);
    }
    // Serialisable for bindings and the CLI.
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["commands"]["set"]["calls"], 100);
}
