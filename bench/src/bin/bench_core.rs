//! Core benchmark (issue #2): routed GET and SET through shardis (ring_hash over 3 local
//! redis-servers) against the `redis` crate talking directly to one node, one client,
//! one thread, in the same run. Rounds alternate between the two so machine noise hits
//! both alike; the reported ratio is the median of per-round time ratios
//! (shardis time per op ÷ direct time per op; goal ≤ 1.05).
//!
//! `cargo run --release -p shardis-bench --bin bench-core [-- --rounds 15 --ops 20000]`

use std::time::Instant;

use shardis::{Cmd, Mode};
use shardis_tests::{StandaloneSet, builder};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[derive(Default)]
struct Row {
    op: &'static str,
    direct_ops: Vec<f64>,
    shardis_ops: Vec<f64>,
    single_ops: Vec<f64>,
    direct3_ops: Vec<f64>,
    ratios: Vec<f64>,
    single_ratios: Vec<f64>,
    routed_vs_direct3: Vec<f64>,
}

fn main() {
    let rounds = arg("--rounds", 15);
    let ops = arg("--ops", 20_000);
    let set = StandaloneSet::start(3);
    let value = vec![b'v'; 100];
    let keys: Vec<String> = (0..1000).map(|i| format!("bench:{i}")).collect();

    // Direct: the redis crate's synchronous connection to node 0 (its defaults).
    let mut direct = set.servers[0].connection();
    // shardis: ring_hash over all three nodes (every call routed), and over node 0 only.
    let routed = shardis::Client::new(
        builder(&set, Mode::RingHash, false)
            .build()
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let single = shardis::Client::new(
        shardis::Config::builder()
            .mode(Mode::RingHash)
            .node(&set.servers[0].addr())
            .build()
            .unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // Direct to all three nodes, routing precomputed (a hand-written client's cost floor).
    let mut direct3: Vec<redis::Connection> = set.servers.iter().map(|s| s.connection()).collect();
    let node_of: Vec<usize> = keys
        .iter()
        .map(|k| {
            set.addrs()
                .iter()
                .position(|a| *a == routed.node_for(k.as_bytes()).unwrap())
                .unwrap_or(0)
        })
        .collect();
    for k in &keys {
        let _: () = redis::cmd("SET")
            .arg(k)
            .arg(&value)
            .query(&mut direct)
            .unwrap_or_else(|e| panic!("{e}"));
        routed
            .execute(&Cmd::new("SET").with(k).with(&value))
            .unwrap_or_else(|e| panic!("{e}"));
    }

    let mut rows = Vec::new();
    for op in ["GET", "SET"] {
        let mut row = Row {
            op,
            ..Row::default()
        };
        let make = |i: usize| {
            let k = &keys[i % keys.len()];
            if op == "GET" {
                Cmd::new("GET").with(k)
            } else {
                Cmd::new("SET").with(k).with(&value)
            }
        };
        // Warm-up.
        for i in 0..2000 {
            routed.execute(&make(i)).unwrap_or_else(|e| panic!("{e}"));
            single.execute(&make(i)).unwrap_or_else(|e| panic!("{e}"));
            let mut c = redis::cmd(op);
            c.arg(&keys[i % keys.len()]);
            if op == "SET" {
                c.arg(&value);
            }
            let _: redis::Value = c.query(&mut direct).unwrap_or_else(|e| panic!("{e}"));
        }
        for _ in 0..rounds {
            let t = Instant::now();
            for i in 0..ops {
                let k = &keys[i % keys.len()];
                let v: redis::Value = if op == "GET" {
                    redis::cmd("GET").arg(k).query(&mut direct)
                } else {
                    redis::cmd("SET").arg(k).arg(&value).query(&mut direct)
                }
                .unwrap_or_else(|e| panic!("{e}"));
                std::hint::black_box(v);
            }
            let direct_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            for i in 0..ops {
                std::hint::black_box(routed.execute(&make(i)).unwrap_or_else(|e| panic!("{e}")));
            }
            let routed_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            for i in 0..ops {
                std::hint::black_box(single.execute(&make(i)).unwrap_or_else(|e| panic!("{e}")));
            }
            let single_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            for i in 0..ops {
                let k = &keys[i % keys.len()];
                let con = &mut direct3[node_of[i % keys.len()]];
                let v: redis::Value = if op == "GET" {
                    redis::cmd("GET").arg(k).query(con)
                } else {
                    redis::cmd("SET").arg(k).arg(&value).query(con)
                }
                .unwrap_or_else(|e| panic!("{e}"));
                std::hint::black_box(v);
            }
            let direct3_s = t.elapsed().as_secs_f64();
            row.direct3_ops.push(ops as f64 / direct3_s);
            row.routed_vs_direct3.push(routed_s / direct3_s);
            row.direct_ops.push(ops as f64 / direct_s);
            row.shardis_ops.push(ops as f64 / routed_s);
            row.single_ops.push(ops as f64 / single_s);
            row.ratios.push(routed_s / direct_s);
            row.single_ratios.push(single_s / direct_s);
        }
        rows.push(row);
    }

    // In-process routing cost alone: key → node.
    let t = Instant::now();
    let n = 1_000_000;
    for i in 0..n {
        std::hint::black_box(routed.node_for(keys[i % keys.len()].as_bytes()).ok());
    }
    let route_ns = t.elapsed().as_nanos() as f64 / n as f64;

    println!(
        "shardis core benchmark: 1 client thread, 100-byte values, {rounds} rounds × {ops} ops, loopback"
    );
    println!(
        "direct = redis crate 1.8 sync Connection (its defaults); ratios are time per op, shardis ÷ baseline (< 1 = shardis faster)"
    );
    println!();
    println!(
        "| op | direct, 1 node | shardis, same node | ratio | direct, 3 nodes (routing precomputed) | shardis ring_hash, 3 nodes | ratio | ratio vs direct 1 node |"
    );
    println!(
        "|----|---------------:|-------------------:|------:|--------------------------------------:|---------------------------:|------:|-----------------------:|"
    );
    for r in rows {
        println!(
            "| {} | {:.0}/s | {:.0}/s | {:.3} | {:.0}/s | {:.0}/s | {:.3} | {:.3} |",
            r.op,
            median(r.direct_ops),
            median(r.single_ops),
            median(r.single_ratios),
            median(r.direct3_ops),
            median(r.shardis_ops),
            median(r.routed_vs_direct3),
            median(r.ratios)
        );
    }
    println!();
    println!(
        "node_for (hash tag + murmur2 + ring lookup + address copy): {route_ns:.0} ns per key"
    );
    println!("goal: time ratio ≤ 1.05");
}
