//! Cluster benchmark (issue #3/#4): MGET of 100 keys spread over 3 shards and a pipeline of
//! 100 SETs over 3 shards through shardis (Redis Cluster, 3 primaries), against the `redis`
//! crate doing a single-node MGET of 100 / pipeline of 100 on one standalone server, one
//! client thread, same run. In cluster mode the 100 keys are in 100 slots, and Redis Cluster
//! only accepts a multi-key command within one slot: shardis sends 100 one-key sub-requests,
//! grouped per node and written together. The third row compares the same shardis MGET with
//! the work Redis Cluster forces on the servers: 100 pipelined GETs on one node. The last
//! columns are the servers' CPU time per call (`INFO cpu` of every server involved, before and
//! after), which shows how much of the gap is the servers' work rather than the client's.
//!
//! `cargo run --release -p shardis-bench --bin bench-cluster [-- --rounds 9 --ops 2000]`

use std::time::Instant;

use shardis::{Cmd, Config, Mode};
use shardis_bench::{arg, flag, median, thread_cpu};
use shardis_tests::{Cluster, RedisServer};

/// CPU seconds (user + sys) the server behind `conn` has used so far.
fn server_cpu(conn: &mut redis::Connection) -> f64 {
    let info: String = redis::cmd("INFO").arg("cpu").query(conn).unwrap();
    info.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(k, _)| *k == "used_cpu_user" || *k == "used_cpu_sys")
        .map(|(_, v)| v.trim().parse::<f64>().unwrap_or(0.0))
        .sum()
}

fn total_cpu(conns: &mut [redis::Connection]) -> f64 {
    conns.iter_mut().map(server_cpu).sum()
}

fn main() {
    if flag("--help") || flag("-h") {
        println!("bench-cluster [--rounds N (9)] [--ops N per round (2000)]");
        return;
    }
    let rounds = arg("--rounds", 9);
    let ops = arg("--ops", 2000);
    let cluster = Cluster::start(3, 0);
    let single = RedisServer::start();
    let client = shardis::Client::new(
        Config::builder()
            .mode(Mode::Cluster)
            .node(&cluster.nodes[0].addr())
            .build()
            .unwrap(),
    )
    .unwrap();
    let mut direct = single.connection();
    let mut single_info = [single.connection()];
    let mut cluster_info: Vec<redis::Connection> =
        cluster.nodes.iter().map(|n| n.connection()).collect();
    let value = vec![b'v'; 100];
    let keys: Vec<String> = (0..100).map(|i| format!("bench:{i}")).collect();
    let mut mset = Cmd::new("MSET");
    for k in &keys {
        mset.arg(k).arg(&value);
        let _: () = redis::cmd("SET")
            .arg(k)
            .arg(&value)
            .query(&mut direct)
            .unwrap();
    }
    client.execute(&mset).unwrap();
    let mget = Cmd::from_args(std::iter::once("MGET".to_string()).chain(keys.iter().cloned()));
    let sets: Vec<Cmd> = keys
        .iter()
        .map(|k| Cmd::new("SET").with(k).with(&value))
        .collect();

    // (name, direct calls/s, shardis calls/s, direct server CPU s/call, shardis server CPU
    // s/call, direct client CPU s/call, shardis client CPU s/call)
    type Row = (
        &'static str,
        Vec<f64>,
        Vec<f64>,
        Vec<f64>,
        Vec<f64>,
        Vec<f64>,
        Vec<f64>,
    );
    let mut rows: Vec<Row> = [
        "MGET of 100",
        "pipeline of 100 SETs",
        "MGET of 100 vs 100 pipelined GETs on 1 node",
    ]
    .into_iter()
    .map(|name| (name, vec![], vec![], vec![], vec![], vec![], vec![]))
    .collect();
    let ops_f = ops as f64;
    // Time `ops` calls of `f`: calls/s, and the CPU per call of the servers behind `conns`
    // and of this (the client) thread.
    let timed = |conns: &mut [redis::Connection], f: &mut dyn FnMut()| -> (f64, f64, f64) {
        let cpu = total_cpu(conns);
        let own = thread_cpu();
        let t = Instant::now();
        for _ in 0..ops {
            f();
        }
        let rate = ops_f / t.elapsed().as_secs_f64();
        let own = (thread_cpu() - own) / ops_f;
        (rate, (total_cpu(conns) - cpu) / ops_f, own)
    };
    for _ in 0..rounds {
        let (rate, cpu, client_cpu) = timed(&mut single_info, &mut || {
            let v: redis::Value = redis::cmd("MGET").arg(&keys).query(&mut direct).unwrap();
            std::hint::black_box(v);
        });
        rows[0].1.push(rate);
        rows[0].3.push(cpu);
        rows[0].5.push(client_cpu);
        let (rate, cpu, client_cpu) = timed(&mut cluster_info, &mut || {
            std::hint::black_box(client.execute(&mget).unwrap());
        });
        for row in [0, 2] {
            rows[row].2.push(rate);
            rows[row].4.push(cpu);
            rows[row].6.push(client_cpu);
        }
        let (rate, cpu, client_cpu) = timed(&mut single_info, &mut || {
            let mut p = redis::pipe();
            for k in &keys {
                p.cmd("GET").arg(k);
            }
            let v: redis::Value = p.query(&mut direct).unwrap();
            std::hint::black_box(v);
        });
        rows[2].1.push(rate);
        rows[2].3.push(cpu);
        rows[2].5.push(client_cpu);
        let (rate, cpu, client_cpu) = timed(&mut single_info, &mut || {
            let mut p = redis::pipe();
            for k in &keys {
                p.cmd("SET").arg(k).arg(&value);
            }
            let v: redis::Value = p.query(&mut direct).unwrap();
            std::hint::black_box(v);
        });
        rows[1].1.push(rate);
        rows[1].3.push(cpu);
        rows[1].5.push(client_cpu);
        let (rate, cpu, client_cpu) = timed(&mut cluster_info, &mut || {
            for r in client.pipeline(&sets) {
                r.unwrap();
            }
        });
        rows[1].2.push(rate);
        rows[1].4.push(cpu);
        rows[1].6.push(client_cpu);
    }
    println!(
        "| workload | redis crate, 1 node | shardis, cluster of 3 primaries | ratio | server CPU µs/call: 1 node, cluster | client CPU µs/call: redis crate, shardis |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, direct, ours, direct_cpu, ours_cpu, direct_client, ours_client) in rows {
        let (d, o) = (median(direct), median(ours));
        println!(
            "| {name} | {d:.0}/s | {o:.0}/s | {:.2}× | {:.1}, {:.1} | {:.1}, {:.1} |",
            o / d,
            median(direct_cpu) * 1e6,
            median(ours_cpu) * 1e6,
            median(direct_client) * 1e6,
            median(ours_client) * 1e6
        );
    }
}
