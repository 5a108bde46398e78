//! A real Redis Cluster on loopback: N primaries with R replicas each, built by hand with
//! `CLUSTER MEET` / `ADDSLOTSRANGE` / `REPLICATE` (bus ports set explicitly with
//! `--cluster-port`), with the operations the fault tests need: failover, kill, restart,
//! add a node, move a slot. With TLS options the nodes speak TLS to clients, to each other
//! (`tls-cluster yes`: they meet on and announce their TLS ports) and for replication.

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
        self.is_healthy_except(&[])
    }

    /// As [`Cluster::wait_healthy`], ignoring the nodes at `down` (stopped on purpose): every
    /// other node says `cluster_state:ok`, no other node is flagged failing, the views agree,
    /// no slot is served by a node in `down` (a killed primary's replica has taken over), and
    /// every running replica's link is up. False after `timeout`.
    pub fn wait_healthy_except(&self, down: &[&str], timeout: Duration) -> bool {
        wait_until(timeout, || self.is_healthy_except(down))
    }

    fn is_healthy_except(&self, down: &[&str]) -> bool {
        let mut views = Vec::new();
        for n in self
            .nodes
            .iter()
            .filter(|n| !down.contains(&n.addr().as_str()))
        {
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
                !down.contains(&l.addr.as_str())
                    && l.flags
                        .iter()
                        .any(|f| f.contains("fail") || f == "handshake" || f == "noaddr")
            }) {
                return false;
            }
            let mut owners: Vec<(u16, String)> = lines
                .iter()
                .flat_map(|l| l.slots.iter().map(|s| (s.0, l.addr.clone())))
                .collect();
            if owners.iter().any(|(_, a)| down.contains(&a.as_str())) {
                return false;
            }
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

    /// The node at `addr`.
    pub fn node(&self, addr: &str) -> &RedisServer {
        &self.nodes[self.index_of(addr)]
    }

    /// The owner (`ip:port`) of every slot, indexed by slot, as the first reachable node
    /// sees it (`""` for an uncovered slot). Call it on a healthy cluster.
    pub fn slot_owners(&self) -> Vec<String> {
        let mut owners = vec![String::new(); 16384];
        for l in self.topology() {
            for &(a, b) in &l.slots {
                for slot in a..=b.min(16383) {
                    owners[slot as usize] = l.addr.clone();
                }
            }
        }
        owners
    }

    /// Addresses of the primaries that serve slots, sorted.
    pub fn primaries(&self) -> Vec<String> {
        let mut p: Vec<String> = self.shards().into_keys().collect();
        p.sort();
        p
    }

    /// Wait until every replica has applied everything its primary had when polled (the
    /// primaries' `master_repl_offset` first, then each replica's `slave_repl_offset`).
    /// False after `timeout` (or while a node does not answer).
    pub fn wait_replicated(&self, timeout: Duration) -> bool {
        wait_until(timeout, || self.is_replicated())
    }

    fn is_replicated(&self) -> bool {
        let field = |info: &str, name: &str| -> Option<String> {
            info.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}:")))
                .map(|v| v.trim().to_string())
        };
        let mut infos = Vec::new();
        for n in &self.nodes {
            match n.try_info("replication") {
                Ok(i) => infos.push((n.port(), i)),
                Err(_) => return false,
            }
        }
        let mut primaries: HashMap<String, i64> = HashMap::new();
        for (port, info) in &infos {
            if field(info, "role").as_deref() == Some("master") {
                let Some(off) = field(info, "master_repl_offset").and_then(|v| v.parse().ok())
                else {
                    return false;
                };
                primaries.insert(port.to_string(), off);
            }
        }
        // Replicas read after their primaries: a caught-up replica is at least there.
        for n in &self.nodes {
            let Ok(info) = n.try_info("replication") else {
                return false;
            };
            if field(&info, "role").as_deref() != Some("slave") {
                continue;
            }
            if field(&info, "master_link_status").as_deref() != Some("up") {
                return false;
            }
            let Some(primary) =
                field(&info, "master_port").and_then(|p| primaries.get(&p).copied())
            else {
                return false;
            };
            let Some(off) = field(&info, "slave_repl_offset").and_then(|v| v.parse::<i64>().ok())
            else {
                return false;
            };
            if off < primary {
                return false;
            }
        }
        true
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

    /// Start a new empty primary and introduce it to the cluster; returns its index. It
    /// shares the first node's TLS settings and limited ACL user, if any.
    pub fn add_node(&mut self) -> usize {
        let first = self.nodes[0].options();
        let node = RedisServer::start_cluster_node(ServerOptions {
            tls: first.tls.clone(),
            limited_user: first.limited_user.clone(),
            ..Default::default()
        });
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

/// Run `args` on `con`, panicking with `what` and the error.
fn run_on(con: &mut redis::Connection, what: &str, args: &[&str]) -> Value {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("{args:?} on {what}: {e}"))
}

impl Cluster {
    /// Move every slot of `slots` that another primary serves to the primary at `to`, the
    /// way `redis-cli --cluster reshard` does: `SETSLOT IMPORTING` on the target,
    /// `MIGRATING` on the source, `MIGRATE … KEYS` in batches of `batch` keys (calling
    /// `between` after each batch, so traffic meets half-moved slots), then
    /// `SETSLOT … NODE` on the target, the source and every other primary. Returns the
    /// number of keys moved.
    pub fn migrate_slots(
        &self,
        slots: std::ops::RangeInclusive<u16>,
        to: &str,
        batch: usize,
        mut between: impl FnMut(),
    ) -> usize {
        let owners = self.slot_owners();
        let primaries = self.primaries();
        assert!(primaries.iter().any(|p| p == to), "{to} is not a primary");
        let mut cons: HashMap<String, redis::Connection> = primaries
            .iter()
            .map(|p| (p.clone(), self.node(p).connection()))
            .collect();
        let ids: HashMap<String, String> = primaries
            .iter()
            .map(|p| (p.clone(), self.node(p).node_id()))
            .collect();
        let port = self.node(to).port().to_string();
        let batch = batch.max(1).to_string();
        let mut moved = 0;
        for slot in slots {
            let from = owners[slot as usize].clone();
            if from == to || from.is_empty() {
                continue;
            }
            let s = slot.to_string();
            let con = |cons: &mut HashMap<String, redis::Connection>, addr: &str| {
                cons.remove(addr)
                    .unwrap_or_else(|| panic!("{addr} is not a primary"))
            };
            let mut dst = con(&mut cons, to);
            let mut src = con(&mut cons, &from);
            run_on(
                &mut dst,
                to,
                &["CLUSTER", "SETSLOT", &s, "IMPORTING", &ids[&from]],
            );
            run_on(
                &mut src,
                &from,
                &["CLUSTER", "SETSLOT", &s, "MIGRATING", &ids[to]],
            );
            loop {
                let keys: Vec<String> =
                    match run_on(&mut src, &from, &["CLUSTER", "GETKEYSINSLOT", &s, &batch]) {
                        Value::Array(a) => a.iter().map(text).collect(),
                        _ => vec![],
                    };
                if keys.is_empty() {
                    break;
                }
                let mut args = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
                args.extend(keys.iter().map(String::as_str));
                run_on(&mut src, &from, &args);
                moved += keys.len();
                between();
            }
            run_on(&mut dst, to, &["CLUSTER", "SETSLOT", &s, "NODE", &ids[to]]);
            run_on(
                &mut src,
                &from,
                &["CLUSTER", "SETSLOT", &s, "NODE", &ids[to]],
            );
            cons.insert(to.to_string(), dst);
            cons.insert(from.clone(), src);
            for (addr, c) in cons.iter_mut() {
                if *addr != to && *addr != from {
                    run_on(c, addr, &["CLUSTER", "SETSLOT", &s, "NODE", &ids[to]]);
                }
            }
        }
        moved
    }
}

/// The cluster slot of `key` (CRC16/XMODEM of the key or of its non-empty `{hash tag}`,
/// modulo 16384), as the server computes it.
pub fn key_slot(key: &[u8]) -> u16 {
    let mut k = key;
    if let Some(open) = key.iter().position(|&b| b == b'{')
        && let Some(len) = key[open + 1..].iter().position(|&b| b == b'}')
        && len > 0
    {
        k = &key[open + 1..open + 1 + len];
    }
    let mut crc: u16 = 0;
    for &b in k {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc & 0x3fff
}

impl RedisServer {
    /// This node's cluster id (`CLUSTER MYID`).
    pub fn node_id(&self) -> String {
        text(&self.cmd(&["CLUSTER", "MYID"]))
    }
}
