//! The nodes a core talks to, each with its connection pool, counters and health. Nodes are
//! interned by normalised address and never removed, so a node keeps its pool and stats
//! across topology changes (a MOVED target and a `CLUSTER SHARDS` entry for the same node are
//! one node). The table is an immutable, atomically swapped list: lookups take no lock, and a
//! forked child never meets a lock held by a parent thread.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;

use crate::config::validate::split_addr;
use crate::conn::{Conn, ConnSettings, NodePool};
use crate::error::{Error, ErrorKind, Result};
use crate::exec::health::Health;
use crate::process;
use crate::stats::NodeCounters;

/// Index of a node in its core's table.
pub(crate) type NodeId = usize;

/// A pool belonging to one process generation (see `process`).
struct GenPool {
    generation: u64,
    pool: NodePool,
}

/// One node.
pub(crate) struct Node {
    /// `host:port`, normalised.
    pub addr: String,
    pub host: String,
    pub port: u16,
    pub counters: NodeCounters,
    pub health: Health,
    pool: ArcSwap<GenPool>,
    max_idle: usize,
}

impl Node {
    fn new(addr: String, host: String, port: u16, max_idle: usize) -> Node {
        Node {
            addr,
            host,
            port,
            counters: NodeCounters::default(),
            health: Health::default(),
            pool: ArcSwap::from_pointee(GenPool {
                generation: process::generation(),
                pool: NodePool::new(max_idle),
            }),
            max_idle,
        }
    }

    /// This process's pool; in a forked child, a fresh one (the inherited connections are
    /// abandoned without touching locks a parent thread may hold).
    #[inline]
    pub(crate) fn pool(&self) -> PoolRef {
        PoolRef(self.pool_guard())
    }

    #[inline]
    fn pool_guard(&self) -> arc_swap::Guard<Arc<GenPool>> {
        let current = self.pool.load();
        let generation = process::generation();
        if current.generation == generation {
            return current;
        }
        drop(current);
        self.renew(generation);
        self.pool.load()
    }

    #[cold]
    fn renew(&self, generation: u64) {
        let old = self.pool.load_full();
        if old.generation == generation {
            return;
        }
        let fresh = Arc::new(GenPool {
            generation,
            pool: NodePool::new(self.max_idle),
        });
        let previous = self.pool.compare_and_swap(&old, fresh);
        if Arc::ptr_eq(&previous, &old) {
            old.pool.abandon_in_child();
        }
    }

    /// A pooled connection or a new one; `true` when reused.
    pub(crate) fn checkout(
        &self,
        settings: &ConnSettings,
        deadline: Instant,
    ) -> Result<(Conn, bool)> {
        self.checkout_from(&self.pool(), settings, deadline, Instant::now())
    }

    /// [`Node::checkout`] from an already loaded pool; `now` is a recent clock reading.
    #[inline]
    pub(crate) fn checkout_from(
        &self,
        pool: &PoolRef,
        settings: &ConnSettings,
        deadline: Instant,
        now: Instant,
    ) -> Result<(Conn, bool)> {
        if let Some(c) = pool.0.pool.take(now) {
            return Ok((c, true));
        }
        let result = Conn::connect(&self.addr, &self.host, self.port, settings, deadline);
        self.counters.connect(result.is_ok());
        result.map(|c| (c, false))
    }

    /// Give a healthy connection back.
    #[inline]
    pub(crate) fn checkin(&self, conn: Conn) {
        self.pool().checkin(conn, Instant::now());
    }

    /// Idle pooled connections.
    pub(crate) fn idle_count(&self) -> usize {
        self.pool_guard().pool.idle_count()
    }
}

/// This process's pool of one node, loaded once for a checkout and the checkin after it (one
/// atomic load instead of two per request).
pub(crate) struct PoolRef(arc_swap::Guard<Arc<GenPool>>);

impl PoolRef {
    /// Give a healthy connection back; `now` is when it was last used.
    #[inline]
    pub(crate) fn checkin(&self, conn: Conn, now: Instant) {
        self.0.pool.put(conn, now);
    }
}

/// A consistent view of the node table for one round of a call: one atomic load, then plain
/// reads without reference counting. Ids interned before the view was taken are all in it
/// (the engine takes a view after the topology snapshot it routes with).
pub(crate) struct NodesView(arc_swap::Guard<Arc<NodeTable>>);

impl NodesView {
    /// The node with id `id`.
    #[inline]
    pub(crate) fn get(&self, id: NodeId) -> &Node {
        &self.0.nodes[id]
    }

    /// Is node `id` ejected by outlier detection?
    #[inline]
    pub(crate) fn is_ejected(&self, id: NodeId) -> bool {
        self.0.nodes.get(id).is_some_and(|n| n.health.is_ejected())
    }
}

/// An immutable list of nodes plus an address index.
struct NodeTable {
    nodes: Vec<Arc<Node>>,
    by_addr: HashMap<String, NodeId>,
}

/// All nodes of one core.
pub(crate) struct Nodes {
    table: ArcSwap<NodeTable>,
    max_idle: usize,
}

/// Normalise `host:port`: lower-case host, canonical IP text, IPv6 in brackets.
pub(crate) fn normalize(addr: &str) -> std::result::Result<(String, String, u16), String> {
    let (host, port) = split_addr(addr)?;
    let host = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => host.to_ascii_lowercase(),
    };
    let addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok((addr, host, port))
}

impl Nodes {
    pub(crate) fn new(max_idle: usize) -> Nodes {
        Nodes {
            table: ArcSwap::from_pointee(NodeTable {
                nodes: Vec::new(),
                by_addr: HashMap::new(),
            }),
            max_idle,
        }
    }

    /// The node with id `id`.
    #[inline]
    pub(crate) fn get(&self, id: NodeId) -> Arc<Node> {
        self.table.load().nodes[id].clone()
    }

    /// A view of the table for one round of a call.
    #[inline]
    pub(crate) fn view(&self) -> NodesView {
        NodesView(self.table.load())
    }

    /// Every node ever seen.
    pub(crate) fn all(&self) -> Vec<Arc<Node>> {
        self.table.load().nodes.clone()
    }

    /// The id of `addr`, adding the node if it is new.
    pub(crate) fn intern(&self, addr: &str) -> Result<NodeId> {
        let (addr, host, port) = normalize(addr)
            .map_err(|e| Error::new(ErrorKind::Protocol, format!("bad node address: {e}")))?;
        if let Some(&id) = self.table.load().by_addr.get(&addr) {
            return Ok(id);
        }
        let node = Arc::new(Node::new(addr.clone(), host, port, self.max_idle));
        loop {
            let current = self.table.load_full();
            if let Some(&id) = current.by_addr.get(&addr) {
                return Ok(id);
            }
            let mut nodes = current.nodes.clone();
            let mut by_addr = current.by_addr.clone();
            let id = nodes.len();
            nodes.push(node.clone());
            by_addr.insert(addr.clone(), id);
            let next = Arc::new(NodeTable { nodes, by_addr });
            let previous = self.table.compare_and_swap(&current, next);
            if Arc::ptr_eq(&previous, &current) {
                return Ok(id);
            }
        }
    }

    /// The id of `addr` if known.
    #[cfg(test)]
    pub(crate) fn find(&self, addr: &str) -> Option<NodeId> {
        let (addr, _, _) = normalize(addr).ok()?;
        self.table.load().by_addr.get(&addr).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_normalises_and_is_stable() {
        let nodes = Nodes::new(4);
        let a = nodes.intern("127.0.0.1:7000").unwrap();
        let b = nodes.intern("LocalHost:7001").unwrap();
        assert_eq!(nodes.intern("127.0.0.1:7000").unwrap(), a);
        assert_eq!(nodes.intern("localhost:7001").unwrap(), b);
        assert_eq!(nodes.get(b).addr, "localhost:7001");
        let v6 = nodes.intern("[0:0::1]:7002").unwrap();
        assert_eq!(nodes.get(v6).addr, "[::1]:7002");
        assert_eq!(nodes.find("[::1]:7002"), Some(v6));
        assert!(nodes.intern("nonsense").is_err());
        assert_eq!(nodes.all().len(), 3);
    }
}
