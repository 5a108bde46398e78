//! Isolation benchmark (issue 10): read latency per phase on a real 3 + 3 cluster, for the
//! shards a fault hit and for the others — the same phases as the isolation test
//! (`tests/tests/cluster/isolation.rs`, from `shardis_tests::reshape`), held longer and with
//! more readers: baseline; kill -9 of a primary through its failover; kill -9 of a replica
//! and then of another shard's primary; `DEBUG SLEEP` of a replica; `CLIENT PAUSE` of
//! another replica; quiet again. Every read's latency is recorded; the table gives exact
//! p50/p99/max. Readers use a `prefer_replica` client and, for comparison, a `primary` one.
//!
//! `cargo run --release -p shardis-bench --bin bench-isolation [-- --hold-ms 5000
//! --readers 2 --pause-us 200 --timeout-ms 2000 --connect-timeout-ms 300 --per-shard
//! --full-coverage]`

use std::time::Duration;

use shardis_bench::{arg, flag};
use shardis_tests::reshape::{IsolationOptions, run_isolation};

fn main() {
    if flag("--help") || flag("-h") {
        println!(
            "bench-isolation [--hold-ms N (5000)] [--readers N per shard and client (2)] [--pause-us N between reads (200)] [--timeout-ms N (2000)] [--connect-timeout-ms N (300)] [--sleep-ms N DEBUG SLEEP (2000)] [--client-pause-ms N (2000)] [--per-shard] [--full-coverage: the servers' default cluster-require-full-coverage yes]"
        );
        return;
    }
    let ms = |name: &str, default: u64| Duration::from_millis(arg(name, default));
    let options = IsolationOptions {
        hold: ms("--hold-ms", 5000),
        readers_per_shard: arg("--readers", 2),
        pause: Duration::from_micros(arg("--pause-us", 200)),
        timeout: ms("--timeout-ms", 2000),
        connect_timeout: ms("--connect-timeout-ms", 300),
        debug_sleep: ms("--sleep-ms", 2000),
        client_pause: ms("--client-pause-ms", 2000),
        with_primary_client: true,
        require_full_coverage: flag("--full-coverage"),
    };
    let run = run_isolation(&options);
    println!(
        "3 primaries + 3 replicas, cluster-node-timeout 1 s, cluster-require-full-coverage {}; {} reader(s) per shard and client, {:?} between reads; timeout {:?}, connect_timeout {:?}; each phase holds {:?} after recovery",
        if options.require_full_coverage {
            "yes"
        } else {
            "no"
        },
        options.readers_per_shard,
        options.pause,
        options.timeout,
        options.connect_timeout,
        options.hold
    );
    println!();
    println!("{}", run.table(flag("--per-shard")));
    println!("Reads slower than 250 ms, with the faults and what the cluster did:");
    print!("{}", run.timeline(Duration::from_millis(250)));
    for (label, stats) in &run.cluster_stats {
        println!("{label} client: {stats:?}");
    }
}
