//! Core benchmark (issue #2): routed GET and SET through shardis against the `redis` crate
//! talking directly to one node, one client thread, in the same run. Rounds alternate
//! between the variants so machine noise hits all alike; reported figures are medians over
//! rounds. Two measures per variant:
//! - wall time per op → ops/s and time ratios (shardis ÷ direct; goal ≤ 1.05);
//! - the client thread's CPU time per op (`getrusage(RUSAGE_THREAD)`): what the client
//!   library itself costs, without the loopback round trip and the scheduler noise.
//!
//! Two scheduling regimes give different pictures on a small VM, so both are worth running:
//! by default the client and the servers run wherever the scheduler puts them (usually on
//! different CPUs: every round trip pays a cross-CPU wake-up, which dominates); with
//! `--same-cpu` the process pins itself, and so the servers it starts, to CPU 0 (the wake-up
//! is cheap and the client library's own cost shows).
//!
//! `cargo run --release -p shardis-bench --bin bench-core [-- --rounds 15 --ops 20000 --same-cpu]`

use std::time::Instant;

use shardis::{Cmd, Mode};
use shardis_bench::{arg, flag, median, thread_cpu};
use shardis_tests::{StandaloneSet, builder};

/// Wall and CPU seconds of `f`.
fn measure(f: impl FnOnce()) -> (f64, f64) {
    let (t, c) = (Instant::now(), thread_cpu());
    f();
    (t.elapsed().as_secs_f64(), thread_cpu() - c)
}

#[derive(Default)]
struct Series {
    wall: Vec<f64>,
    cpu: Vec<f64>,
}

const VARIANTS: [&str; 4] = [
    "direct, 1 node",
    "shardis, same node",
    "direct, 3 nodes",
    "shardis ring_hash, 3 nodes",
];

/// Pin this process (and the servers it starts afterwards) to CPU 0.
fn pin_to_cpu0() {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET and sched_setaffinity only
    // touch that local set and this process.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            panic!("sched_setaffinity: {}", std::io::Error::last_os_error());
        }
    }
}

fn main() {
    if flag("--help") || flag("-h") {
        println!("bench-core [--rounds N (15)] [--ops N per round (20000)] [--same-cpu]");
        return;
    }
    let rounds = arg("--rounds", 15);
    let ops = arg("--ops", 20_000);
    let same_cpu = flag("--same-cpu");
    if same_cpu {
        pin_to_cpu0();
    }
    let set = StandaloneSet::start(3);
    let value = vec![b'v'; 100];
    let keys: Vec<String> = (0..1000).map(|i| format!("bench:{i}")).collect();

    // Direct: the redis crate's synchronous connection to node 0 (its defaults), and one
    // connection per node with the routing precomputed (a hand-written client's floor).
    let mut direct = set.servers[0].connection();
    let mut direct3: Vec<redis::Connection> = set.servers.iter().map(|s| s.connection()).collect();
    let routed =
        shardis::Client::new(builder(&set, Mode::RingHash, false).build().unwrap()).unwrap();
    let single = shardis::Client::new(
        shardis::Config::builder()
            .mode(Mode::RingHash)
            .node(&set.servers[0].addr())
            .build()
            .unwrap(),
    )
    .unwrap();
    let addrs = set.addrs();
    let node_of: Vec<usize> = keys
        .iter()
        .map(|k| {
            addrs
                .iter()
                .position(|a| *a == routed.node_for(k.as_bytes()).unwrap())
                .unwrap()
        })
        .collect();
    for k in &keys {
        let _: () = redis::cmd("SET")
            .arg(k)
            .arg(&value)
            .query(&mut direct)
            .unwrap();
        routed
            .execute(&Cmd::new("SET").with(k).with(&value))
            .unwrap();
    }

    let mut table = Vec::new();
    for op in ["GET", "SET"] {
        let make = |i: usize| {
            let k = &keys[i % keys.len()];
            if op == "GET" {
                Cmd::new("GET").with(k)
            } else {
                Cmd::new("SET").with(k).with(&value)
            }
        };
        let raw = |i: usize| {
            let mut c = redis::cmd(op);
            c.arg(&keys[i % keys.len()]);
            if op == "SET" {
                c.arg(&value);
            }
            c
        };
        let mut series: [Series; 4] = Default::default();
        // Warm-up.
        for i in 0..2000 {
            routed.execute(&make(i)).unwrap();
            single.execute(&make(i)).unwrap();
            let _: redis::Value = raw(i).query(&mut direct).unwrap();
        }
        for _ in 0..rounds {
            let runs: [(f64, f64); 4] = [
                measure(|| {
                    for i in 0..ops {
                        let v: redis::Value = raw(i).query(&mut direct).unwrap();
                        std::hint::black_box(v);
                    }
                }),
                measure(|| {
                    for i in 0..ops {
                        std::hint::black_box(single.execute(&make(i)).unwrap());
                    }
                }),
                measure(|| {
                    for i in 0..ops {
                        let v: redis::Value =
                            raw(i).query(&mut direct3[node_of[i % keys.len()]]).unwrap();
                        std::hint::black_box(v);
                    }
                }),
                measure(|| {
                    for i in 0..ops {
                        std::hint::black_box(routed.execute(&make(i)).unwrap());
                    }
                }),
            ];
            for (s, (wall, cpu)) in series.iter_mut().zip(runs) {
                s.wall.push(wall);
                s.cpu.push(cpu);
            }
        }
        // Per-round ratios, then the median.
        let ratio = |a: usize, b: usize, cpu: bool| {
            let pick = |s: &Series| if cpu { s.cpu.clone() } else { s.wall.clone() };
            median(
                pick(&series[a])
                    .iter()
                    .zip(pick(&series[b]))
                    .map(|(x, y)| x / y)
                    .collect(),
            )
        };
        let wall_ratio_1 = ratio(1, 0, false);
        let wall_ratio_3 = ratio(3, 2, false);
        let cpu_ratio_1 = ratio(1, 0, true);
        let cpu_ratio_3 = ratio(3, 2, true);
        let per_op_us = |s: &Series, cpu: bool| {
            median(if cpu { s.cpu.clone() } else { s.wall.clone() }) / ops as f64 * 1e6
        };
        table.push((
            op,
            series
                .iter()
                .map(|s| (ops as f64 / median(s.wall.clone()), per_op_us(s, true)))
                .collect::<Vec<_>>(),
            wall_ratio_1,
            wall_ratio_3,
            cpu_ratio_1,
            cpu_ratio_3,
        ));
    }

    let placement = if same_cpu {
        "client and servers pinned to CPU 0"
    } else {
        "scheduler's CPU placement"
    };
    println!(
        "shardis core benchmark: 1 client thread, 100-byte values, {rounds} rounds × {ops} ops, loopback, {placement}"
    );
    println!(
        "direct = redis crate 1.8 sync Connection (its defaults); ratios: shardis ÷ direct (< 1 = shardis cheaper)"
    );
    println!();
    println!("| op | variant | ops/s | client CPU µs/op |");
    println!("|----|---------|------:|-----------------:|");
    for (op, figures, ..) in &table {
        for (name, (ops_s, cpu_us)) in VARIANTS.iter().zip(figures) {
            println!("| {op} | {name} | {ops_s:.0} | {cpu_us:.2} |");
        }
    }
    println!();
    println!(
        "| op | time ratio, same node | time ratio, 3 nodes | CPU ratio, same node | CPU ratio, 3 nodes |"
    );
    println!(
        "|----|----------------------:|--------------------:|---------------------:|-------------------:|"
    );
    for (op, _, w1, w3, c1, c3) in &table {
        println!("| {op} | {w1:.3} | {w3:.3} | {c1:.3} | {c3:.3} |");
    }
    println!();
    println!("goal: time ratio ≤ 1.05");
}
