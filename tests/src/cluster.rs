//! A real Redis Cluster on loopback: N primaries with R replicas each, built by hand with
//! `CLUSTER MEET` / `ADDSLOTSRANGE` / `REPLICATE` (bus ports set explicitly with
//! `--cluster-port`), with the operations the fault tests need: failover, kill, restart,
//! add a node, move a slot.

use std::collections::HashMap;
use std::time::Duration;

use redis::Value;

use crate::process::wait_until;
use crate::server::{RedisServer, ServerOptions};

/// Cluster node timeout used by tests (RELIABILITY.md: low, 1000–2000 ms).
pub const NODE_TIMEOUT_MS: u64 = 1000;

/// A running cluster.
#[derive(Debug)]
pub struct Cluster {
    /// Every node, primaries first (as created; roles change with failovers).
    pub nodes: Vec<RedisServer>,
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::VerbatimString { text, .. } => text.clone(),
        Value::Okay => "OK".into(),
        Value::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    }
}

/// One line of `CLUSTER NODES`.
#[derive(Debug, Clone)]
pub struct NodeLine {
    /// Node id.
    pub id: String,
    /// `ip:port`.
    pub addr: String,
    /// Flags (`master`, `slave`, `myself`, `fail`…).
    pub flags: Vec<String>,
    /// Primary's id for replicas.
    pub primary: Option<String>,
    /// Slot ranges served (primaries).
    pub slots: Vec<(u16, u16)>,
}

fn parse_nodes(text: &str) -> Vec<NodeLine> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let addr = f[1].split('@').next().unwrap_or("").to_string();
            let slots = f[8..]
                .iter()
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => s.parse().ok().map(|x| (x, x)),
                })
                .collect();
            NodeLine {
                id: f[0].to_string(),
                addr,
                flags: f[2].split(',').map(str::to_string).collect(),
                primary: (f[3] != "-").then(|| f[3].to_string()),
                slots,
            }
        })
        .collect()
}

impl Cluster {
    /// Start `primaries` primaries with `replicas` replicas each and wait until the cluster
    /// is fully up (state ok on every node, every replica in sync).
    pub fn start(primaries: usize, replicas: usize) -> Cluster {
        Cluster::start_with(primaries, replicas, ServerOptions::default())
    }

    /// As [`Cluster::start`] with extra server options.
    pub fn start_with(primaries: usize, replicas: usize, options: ServerOptions) -> Cluster {
        let total = primaries * (1 + replicas);
        let nodes: Vec<RedisServer> = (0..total)
            .map(|_| RedisServer::start_cluster_node(options.clone()))
            .collect();
        let cluster = Cluster { nodes };
        // Meet everyone through node 0.
        for n in &cluster.nodes[1..] {
            cluster.nodes[0].cmd(&[
                "CLUSTER",
                "MEET",
                "127.0.0.1",
                &n.port().to_string(),
                &n.bus_port().to_string(),
            ]);
        }
        // Slots split evenly over the primaries.
        let per = 16384 / primaries;
        for (i, p) in cluster.nodes[..primaries].iter().enumerate() {
            let start = i * per;
            let end = if i + 1 == primaries {
                16383
            } else {
                (i + 1) * per - 1
            };
            p.cmd(&[
                "CLUSTER",
                "ADDSLOTSRANGE",
                &start.to_string(),
                &end.to_string(),
            ]);
        }
        let ok = wait_until(Duration::from_secs(20), || {
            cluster
                .nodes
                .iter()
                .all(|n| parse_nodes(&text(&n.cmd(&["CLUSTER", "NODES"]))).len() == total)
        });
        assert!(ok, "nodes did not all meet");
        for r in 0..replicas {
            for p in 0..primaries {
                let replica = &cluster.nodes[primaries + r * primaries + p];
                let id = cluster.nodes[p].node_id();
                let ok = wait_until(Duration::from_secs(10), || {
                    replica.try_cmd(&["CLUSTER", "REPLICATE", &id]).is_ok()
                });
                assert!(ok, "CLUSTER REPLICATE failed");
            }
        }
        cluster.wait_healthy();
        cluster
    }

    /// Wait until every running node says `cluster_state:ok`, agrees on the slot owners, and
    /// every replica's link to its primary is up.
    pub fn wait_healthy(&self) {
        let ok = wait_until(Duration::from_secs(30), || self.is_healthy());
        assert!(ok, "cluster did not become healthy: {}", self.describe());
    }

    fn is_healthy(&self) -> bool {
        let mut views = Vec::new();
        for n in &self.nodes {
            let Ok(info) = n.try_cmd(&["CLUSTER", "INFO"]) else {
                return false;
            };
            if !text(&info).contains("cluster_state:ok") {
                return false;
            }
            let Ok(nodes) = n.try_cmd(&["CLUSTER", "NODES"]) else {
                return false;
            };
            let lines = parse_nodes(&text(&nodes));
            if lines.iter().any(|l| {
                l.flags
                    .iter()
                    .any(|f| f.contains("fail") || f == "handshake" || f == "noaddr")
            }) {
                return false;
            }
            let mut owners: Vec<(u16, String)> = lines
                .iter()
                .flat_map(|l| l.slots.iter().map(|s| (s.0, l.addr.clone())))
                .collect();
            owners.sort();
            views.push(owners);
            let Ok(repl) = n.try_cmd(&["INFO", "replication"]) else {
                return false;
            };
            let repl = text(&repl);
            if repl.contains("role:slave") && !repl.contains("master_link_status:up") {
                return false;
            }
        }
        views.windows(2).all(|w| w[0] == w[1])
    }

    /// `CLUSTER NODES` as seen by the first reachable node.
    pub fn topology(&self) -> Vec<NodeLine> {
        for n in &self.nodes {
            if let Ok(v) = n.try_cmd(&["CLUSTER", "NODES"]) {
                return parse_nodes(&text(&v));
            }
        }
        panic!("no node answers CLUSTER NODES");
    }

    /// A human-readable summary (for failure messages).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for n in &self.nodes {
            match n.try_cmd(&["CLUSTER", "NODES"]) {
                Ok(v) => out.push_str(&format!("--- {}\n{}\n", n.addr(), text(&v))),
                Err(e) => out.push_str(&format!("--- {}: {e}\n", n.addr())),
            }
        }
        out
    }

    /// Addresses of all nodes.
    pub fn addrs(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::addr).collect()
    }

    /// Index (in `nodes`) of the node at `addr`.
    pub fn index_of(&self, addr: &str) -> usize {
        self.nodes
            .iter()
            .position(|n| n.addr() == addr)
            .unwrap_or_else(|| panic!("no node {addr}"))
    }

    /// Current primary addresses → their replicas' addresses.
    pub fn shards(&self) -> HashMap<String, Vec<String>> {
        let lines = self.topology();
        let by_id: HashMap<&str, &NodeLine> = lines.iter().map(|l| (l.id.as_str(), l)).collect();
        let mut shards: HashMap<String, Vec<String>> = HashMap::new();
        for l in &lines {
            if l.flags.iter().any(|f| f == "master") && !l.slots.is_empty() {
                shards.entry(l.addr.clone()).or_default();
            }
        }
        for l in &lines {
            if let Some(p) = &l.primary
                && let Some(primary) = by_id.get(p.as_str())
            {
                shards
                    .entry(primary.addr.clone())
                    .or_default()
                    .push(l.addr.clone());
            }
        }
        shards
    }

    /// The primary serving `slot`.
    pub fn primary_of_slot(&self, slot: u16) -> String {
        self.topology()
            .into_iter()
            .find(|l| l.slots.iter().any(|&(a, b)| a <= slot && slot <= b))
            .map(|l| l.addr)
            .unwrap_or_else(|| panic!("slot {slot} uncovered"))
    }

    /// Start a new empty primary and introduce it to the cluster; returns its index.
    pub fn add_node(&mut self) -> usize {
        let node = RedisServer::start_cluster_node(ServerOptions::default());
        self.nodes[0].cmd(&[
            "CLUSTER",
            "MEET",
            "127.0.0.1",
            &node.port().to_string(),
            &node.bus_port().to_string(),
        ]);
        self.nodes.push(node);
        let total = self.nodes.len();
        let ok = wait_until(Duration::from_secs(20), || {
            self.nodes.iter().all(|n| {
                n.try_cmd(&["CLUSTER", "NODES"])
                    .map(|v| parse_nodes(&text(&v)).len() == total)
                    .unwrap_or(false)
            })
        });
        assert!(ok, "new node not known everywhere: {}", self.describe());
        self.wait_healthy();
        total - 1
    }

    /// The first replica of the primary at `primary`.
    pub fn replica_of(&self, primary: &str) -> String {
        self.shards()
            .get(primary)
            .and_then(|r| r.first().cloned())
            .unwrap_or_else(|| panic!("{primary} has no replica: {}", self.describe()))
    }

    /// Manual failover: the replica at `replica_addr` takes over (graceful, no data loss).
    pub fn failover(&self, replica_addr: &str) {
        let r = &self.nodes[self.index_of(replica_addr)];
        r.cmd(&["CLUSTER", "FAILOVER"]);
        let ok = wait_until(Duration::from_secs(15), || {
            r.try_cmd(&["ROLE"])
                .map(|v| format!("{v:?}").contains("master"))
                .unwrap_or(false)
        });
        assert!(ok, "failover to {replica_addr} did not happen");
    }

    /// Move `slot` from its primary to the primary at `to`, key by key with MIGRATE, the
    /// way `redis-cli --cluster reshard` does. `between` runs after each key batch.
    pub fn migrate_slot(&self, slot: u16, to: &str, mut between: impl FnMut()) {
        let from = self.primary_of_slot(slot);
        let src = &self.nodes[self.index_of(&from)];
        let dst = &self.nodes[self.index_of(to)];
        let (src_id, dst_id) = (src.node_id(), dst.node_id());
        let s = slot.to_string();
        dst.cmd(&["CLUSTER", "SETSLOT", &s, "IMPORTING", &src_id]);
        src.cmd(&["CLUSTER", "SETSLOT", &s, "MIGRATING", &dst_id]);
        loop {
            let keys = src.cmd(&["CLUSTER", "GETKEYSINSLOT", &s, "10"]);
            let keys: Vec<String> = match keys {
                Value::Array(a) => a.iter().map(text).collect(),
                _ => vec![],
            };
            if keys.is_empty() {
                break;
            }
            let mut args = vec!["MIGRATE", "127.0.0.1"];
            let port = dst.port().to_string();
            args.push(&port);
            args.extend(["", "0", "5000", "KEYS"]);
            args.extend(keys.iter().map(String::as_str));
            src.cmd(&args);
            between();
        }
        for n in &self.nodes {
            let _ = n.try_cmd(&["CLUSTER", "SETSLOT", &s, "NODE", &dst_id]);
        }
    }
}

impl RedisServer {
    /// This node's cluster id (`CLUSTER MYID`).
    pub fn node_id(&self) -> String {
        text(&self.cmd(&["CLUSTER", "MYID"]))
    }
}
