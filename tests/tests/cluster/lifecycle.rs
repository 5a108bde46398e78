//! Topology lifecycle (issue 10): one node of a 3 + 3 cluster is replaced by a new process on a
//! new port, 20 times, under reads and writes on every shard. Each cycle starts a new node,
//! `CLUSTER MEET`s it, makes it a replica of one shard and waits for the sync; then retires an
//! old node of that shard — on even cycles the old replica, on odd ones the old primary after
//! a `CLUSTER FAILOVER` to the new node — with `CLUSTER FORGET` on every remaining node, and
//! stops it. No call may fail (every shard always has a live node), the process's sockets stay
//! bounded, and the client's node table follows the cluster instead of only growing.

use std::collections::HashSet;
use std::time::Duration;

use shardis::ReadFrom;
use shardis_tests::Cluster;
use shardis_tests::process::wait_until;
use shardis_tests::reshape::{
    Load, Shards, Worker, cluster_client, join_replica, port_of, retire, socket_fds, sockets_to,
    wait_demoted,
};

use crate::serial;

const CYCLES: usize = 20;
/// Nodes the client may know beyond the live ones (a seed, one on its way out).
const SPARE_NODES: usize = 2;

/// What the client holds after one cycle.
#[derive(Debug, Clone, Copy)]
struct Figures {
    /// Live cluster nodes.
    live: usize,
    /// Open socket descriptors of this process (any state; the load's connections).
    fds: usize,
    /// TCP sockets (as listed by the kernel) to any node, live or retired.
    to_nodes: usize,
    /// TCP sockets to retired nodes.
    to_retired: usize,
    /// `client.nodes().len()`.
    nodes: usize,
    /// Nodes in `client.stats()`.
    stats_nodes: usize,
    /// Idle pooled connections to retired nodes (stats).
    idle_retired: usize,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "live {}, socket fds {}, TCP sockets to nodes {} ({} to retired ones), nodes() {}, stats nodes {}, idle connections to retired {}",
            self.live,
            self.fds,
            self.to_nodes,
            self.to_retired,
            self.nodes,
            self.stats_nodes,
            self.idle_retired
        )
    }
}

#[test]
fn replacing_nodes_twenty_times_keeps_calls_and_tables_bounded() {
    let _s = serial();
    let mut cluster = Cluster::start(3, 1);
    let timeout = Duration::from_secs(3);
    let client = cluster_client(
        &[cluster.nodes[0].addr()],
        ReadFrom::PreferReplica,
        timeout,
        Duration::from_millis(300),
        Some(Duration::from_millis(200)),
    );
    let shards = Shards::find(&cluster, &client, "life:", 40);
    for k in shards.keys.iter().flatten() {
        client.query(["SET", k, "0"]).unwrap();
    }
    // Reads and writes on every shard: SET then GET of the shard's keys in turn.
    let workers: Vec<Worker> = shards
        .keys
        .iter()
        .enumerate()
        .map(|(shard, keys)| {
            let (c, keys) = (client.clone(), keys.clone());
            Worker {
                label: "set/get".into(),
                shard,
                op: Box::new(move |i| {
                    let key = &keys[(i as usize / 2) % keys.len()];
                    let r = if i % 2 == 0 {
                        c.query(["SET", key, &i.to_string()])
                    } else {
                        c.query(["GET", key])
                    };
                    r.map(|_| ()).map_err(|e| {
                        format!("{} {key}: {e}", if i % 2 == 0 { "SET" } else { "GET" })
                    })
                }),
            }
        })
        .collect();
    let threads = workers.len();
    let load = Load::start(workers, Duration::from_millis(2));
    let mut retired: Vec<String> = Vec::new();
    let mut figures: Vec<Figures> = Vec::new();
    let measure = |cluster: &Cluster, retired: &[String]| -> Figures {
        let live: HashSet<u16> = cluster.nodes.iter().map(|n| n.port()).collect();
        let gone: HashSet<u16> = retired.iter().map(|a| port_of(a)).collect();
        let all: HashSet<u16> = live.union(&gone).copied().collect();
        let stats = client.stats();
        Figures {
            live: live.len(),
            fds: socket_fds(),
            to_nodes: sockets_to(&all),
            to_retired: sockets_to(&gone),
            nodes: client.nodes().len(),
            stats_nodes: stats.nodes.len(),
            idle_retired: stats
                .nodes
                .iter()
                .filter(|(a, _)| retired.contains(a))
                .map(|(_, n)| n.idle_connections)
                .sum(),
        }
    };
    // (cycle, what, µs since the load started), for the failure messages.
    let mut events: Vec<(usize, &str, u64)> = Vec::new();
    for cycle in 0..CYCLES {
        load.set_phase(cycle);
        let shard = cycle % shards.len();
        let primary = shards.primary(&cluster, shard);
        let old_replica = shards.replica(&cluster, shard);
        let new = join_replica(&mut cluster, &primary);
        let new_addr = cluster.nodes[new].addr();
        events.push((cycle, "new replica in sync", load.now_us()));
        let old = if cycle % 2 == 0 {
            old_replica
        } else {
            cluster.failover(&new_addr);
            events.push((cycle, "failed over", load.now_us()));
            wait_demoted(&cluster, &primary);
            events.push((cycle, "old primary demoted", load.now_us()));
            // Writes must not be sent into the old primary as it stops: wait (bounded) until
            // the client routes the shard's writes to the new one, as an operator would.
            let key = shards.keys[shard][0].as_bytes();
            let routed = wait_until(Duration::from_secs(10), || {
                let _ = client.refresh_topology();
                client.node_for(key).is_ok_and(|a| a == new_addr)
            });
            assert!(
                routed,
                "cycle {cycle}: the client never routed to {new_addr}"
            );
            events.push((cycle, "client routes to the new primary", load.now_us()));
            primary
        };
        let index = cluster.index_of(&old);
        let gone = retire(&mut cluster, index);
        events.push((cycle, "old node forgotten and stopped", load.now_us()));
        retired.push(gone);
        let f = measure(&cluster, &retired);
        eprintln!(
            "cycle {cycle:2}: shard {shard}, {} retired ({}); {f}",
            retired[cycle],
            if cycle % 2 == 0 {
                "replica"
            } else {
                "primary after failover"
            },
        );
        figures.push(f);
    }
    load.set_phase(CYCLES);
    // Let the client see the final topology (refresh.interval is 200 ms; calls keep coming).
    std::thread::sleep(Duration::from_millis(500));
    let _ = client.refresh_topology();
    std::thread::sleep(Duration::from_millis(300));
    let series = load.finish();
    let last = measure(&cluster, &retired);
    let calls: usize = series.iter().map(|s| s.samples.len()).sum();
    // (cycle, start s, latency ms, error)
    let errors: Vec<(u32, f64, f64, &String)> = series
        .iter()
        .flat_map(|s| {
            s.errors.iter().map(|(i, e)| {
                let x = &s.samples[*i];
                let start = f64::from(x.start_us) / 1e6;
                (x.phase, start, f64::from(x.latency_us) / 1e3, e)
            })
        })
        .collect();
    let error_cycles: Vec<String> = errors
        .iter()
        .map(|e| e.0 as usize)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|c| {
            let at: Vec<String> = events
                .iter()
                .filter(|e| e.0 == c)
                .map(|e| format!("{:.3} s {}", e.2 as f64 / 1e6, e.1))
                .collect();
            format!("cycle {c}: {}", at.join(", "))
        })
        .collect();
    let slowest = series
        .iter()
        .flat_map(|s| s.samples.iter())
        .max_by_key(|s| s.latency_us)
        .map(|s| (s.phase, f64::from(s.latency_us) / 1e3));
    eprintln!(
        "LIFECYCLE: {CYCLES} replacements, {calls} calls, {} errors, slowest (cycle, ms) {slowest:?}; at the end: {last}; {:?}",
        errors.len(),
        client.stats().cluster
    );

    let mut failures = Vec::new();
    if !errors.is_empty() {
        failures.push(format!(
            "{} of {calls} calls failed although every shard had a live node; first (cycle, start s, ms, error): {:?}; {}",
            errors.len(),
            &errors[..errors.len().min(5)],
            error_cycles.join("; ")
        ));
    }
    // Each live node: at most one connection per worker thread plus two (refreshes, the
    // pool's spare); a node in transition counts as live.
    let socket_bound = (last.live + 1) * (threads + 2);
    let most = figures
        .iter()
        .chain([&last])
        .map(|f| f.fds.max(f.to_nodes))
        .max();
    if most.unwrap_or(0) > socket_bound {
        failures.push(format!(
            "open sockets grew to {most:?} (bound {socket_bound} for {} live nodes); socket fds per cycle: {:?}",
            last.live,
            figures.iter().map(|f| f.fds).collect::<Vec<_>>()
        ));
    }
    if last.to_retired > SPARE_NODES || last.idle_retired > SPARE_NODES {
        failures.push(format!(
            "{} TCP sockets and {} idle pooled connections still held for {} retired nodes at the end (bound {SPARE_NODES}); sockets per cycle: {:?}",
            last.to_retired,
            last.idle_retired,
            retired.len(),
            figures.iter().map(|f| f.to_retired).collect::<Vec<_>>()
        ));
    }
    let table_bound = last.live + SPARE_NODES;
    if last.nodes > table_bound || last.stats_nodes > table_bound {
        failures.push(format!(
            "node table: client.nodes() has {} entries and stats() {} nodes for {} live nodes (bound {table_bound}); nodes() per cycle: {:?}",
            last.nodes,
            last.stats_nodes,
            last.live,
            figures.iter().map(|f| f.nodes).collect::<Vec<_>>()
        ));
    }
    assert!(
        failures.is_empty(),
        "{} lifecycle failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
