//! The node table of one core: per-node runtime state — the connection pool, health
//! (outlier ejection) and counters — keyed by [`NodeId`]. The table is an immutable,
//! atomically swapped list: lookups take no lock, and a forked child never meets a lock
//! held by a parent thread.
//!
//! Lifecycle: nodes are interned by normalised address as topology refreshes, redirects
//! and seeds name them, and [`Nodes::retain`] drops the ones a refresh no longer names
//! (their idle connections close when the last round using them ends). A slot freed that
//! way is reused with a new generation, so an id held by a call in progress never names
//! another node: it simply stops resolving ([`NodesView::get`] gives `None`).

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::node::Node;
use crate::error::{Error, ErrorKind, Result};
use crate::stats::NodeStats;
use crate::topology::addr::normalize;
use crate::topology::target::{NodeId, NodeNames};

/// Bits of an id that index the table (half of `usize`); the rest is the slot's
/// generation.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;

#[inline]
fn index_of(id: NodeId) -> usize {
    id & INDEX_MASK
}

/// An immutable list of nodes plus an address index.
struct NodeTable {
    slots: Vec<Option<Arc<Node>>>,
    /// The generation the next node put in each slot gets.
    generations: Vec<usize>,
    by_addr: HashMap<String, NodeId>,
}

impl NodeTable {
    #[inline]
    fn get(&self, id: NodeId) -> Option<&Arc<Node>> {
        self.slots
            .get(index_of(id))
            .and_then(Option::as_ref)
            .filter(|n| n.id == id)
    }
}

/// A consistent view of the node table for one round of a call: one atomic load, then plain
/// reads without reference counting. Ids interned before the view was taken are all in it
/// (the engine takes a view after the topology snapshot it routes with).
pub(crate) struct NodesView(arc_swap::Guard<Arc<NodeTable>>);

impl NodesView {
    /// The node with id `id`; `None` once it left the table.
    #[inline]
    pub(crate) fn get(&self, id: NodeId) -> Option<&Node> {
        self.0.get(id).map(|n| &**n)
    }

    /// Is node `id` ejected by outlier detection (or gone)?
    #[inline]
    pub(crate) fn is_ejected(&self, id: NodeId) -> bool {
        self.0.get(id).is_none_or(|n| n.health.is_ejected())
    }
}

/// All nodes of one core.
pub(crate) struct Nodes {
    table: ArcSwap<NodeTable>,
    max_idle: usize,
}

impl Nodes {
    pub(crate) fn new(max_idle: usize) -> Nodes {
        Nodes {
            table: ArcSwap::from_pointee(NodeTable {
                slots: Vec::new(),
                generations: Vec::new(),
                by_addr: HashMap::new(),
            }),
            max_idle,
        }
    }

    /// The node with id `id`, if it is still in the table.
    #[inline]
    pub(crate) fn get(&self, id: NodeId) -> Option<Arc<Node>> {
        self.table.load().get(id).cloned()
    }

    /// The id of `addr` if it is in the table.
    pub(crate) fn id_of(&self, addr: &str) -> Option<NodeId> {
        let (addr, _, _) = normalize(addr).ok()?;
        self.table.load().by_addr.get(&addr).copied()
    }

    /// A view of the table for one round of a call.
    #[inline]
    pub(crate) fn view(&self) -> NodesView {
        NodesView(self.table.load())
    }

    /// Every node in the table.
    pub(crate) fn all(&self) -> Vec<Arc<Node>> {
        self.table.load().slots.iter().flatten().cloned().collect()
    }

    /// How many nodes the table holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.load().slots.iter().flatten().count()
    }

    /// Per-node stats of every node in the table.
    pub(crate) fn stats(&self) -> Vec<(String, NodeStats)> {
        self.all()
            .iter()
            .map(|n| (n.addr.clone(), n.stats()))
            .collect()
    }

    /// Keep only the nodes that `keep` lists (sorted; asked anew on every attempt to swap
    /// the table); returns how many left. Their pooled connections close when the last call
    /// holding the old table lets go of it.
    pub(crate) fn retain(&self, keep: impl Fn() -> Vec<NodeId>) -> usize {
        loop {
            let current = self.table.load_full();
            let keep = keep();
            let leaving: Vec<NodeId> = current
                .slots
                .iter()
                .flatten()
                .map(|n| n.id)
                .filter(|id| keep.binary_search(id).is_err())
                .collect();
            if leaving.is_empty() {
                return 0;
            }
            let mut slots = current.slots.clone();
            let mut by_addr = current.by_addr.clone();
            for &id in &leaving {
                if let Some(node) = slots[index_of(id)].take() {
                    by_addr.remove(&node.addr);
                }
            }
            let next = Arc::new(NodeTable {
                slots,
                generations: current.generations.clone(),
                by_addr,
            });
            let previous = self.table.compare_and_swap(&current, next);
            if Arc::ptr_eq(&previous, &current) {
                return leaving.len();
            }
        }
    }
}

impl NodeNames for Nodes {
    /// The id of `addr`, adding the node if it is new (in a free slot, with that slot's
    /// next generation).
    fn intern(&self, addr: &str) -> Result<NodeId> {
        let (addr, host, port) = normalize(addr)
            .map_err(|e| Error::new(ErrorKind::Protocol, format!("bad node address: {e}")))?;
        if let Some(&id) = self.table.load().by_addr.get(&addr) {
            return Ok(id);
        }
        loop {
            let current = self.table.load_full();
            if let Some(&id) = current.by_addr.get(&addr) {
                return Ok(id);
            }
            let mut slots = current.slots.clone();
            let mut generations = current.generations.clone();
            let index = match slots.iter().position(Option::is_none) {
                Some(free) => free,
                None => {
                    slots.push(None);
                    generations.push(0);
                    slots.len() - 1
                }
            };
            let id = ((generations[index] << INDEX_BITS) | index) & usize::MAX;
            // Wraps after 2^(bits/2) reuses of one slot: far beyond any call's lifetime.
            generations[index] = (generations[index] + 1) & (usize::MAX >> INDEX_BITS);
            slots[index] = Some(Arc::new(Node::new(
                id,
                addr.clone(),
                host.clone(),
                port,
                self.max_idle,
            )));
            let mut by_addr = current.by_addr.clone();
            by_addr.insert(addr.clone(), id);
            let next = Arc::new(NodeTable {
                slots,
                generations,
                by_addr,
            });
            let previous = self.table.compare_and_swap(&current, next);
            if Arc::ptr_eq(&previous, &current) {
                return Ok(id);
            }
        }
    }

    fn addr(&self, id: NodeId) -> String {
        self.get(id)
            .map_or_else(|| "(gone)".to_owned(), |n| n.addr.clone())
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
        assert_eq!(nodes.addr(b), "localhost:7001");
        let v6 = nodes.intern("[0:0::1]:7002").unwrap();
        assert_eq!(nodes.addr(v6), "[::1]:7002");
        assert!(nodes.intern("nonsense").is_err());
        assert_eq!(nodes.len(), 3);
    }

    #[test]
    fn retired_ids_stop_resolving_and_are_never_reused_for_another_node() {
        let nodes = Nodes::new(4);
        let a = nodes.intern("10.0.0.1:1").unwrap();
        let b = nodes.intern("10.0.0.2:1").unwrap();
        let view = nodes.view();
        assert_eq!(nodes.retain(|| vec![b]), 1);
        assert!(nodes.get(a).is_none(), "gone from the table");
        assert!(view.get(a).is_some(), "a round in progress still sees it");
        let c = nodes.intern("10.0.0.3:1").unwrap();
        assert_ne!(c, a, "the slot is reused with a new generation");
        assert_eq!(index_of(c), index_of(a));
        assert!(
            nodes.get(a).is_none(),
            "the old id does not name the new node"
        );
        assert_eq!(nodes.addr(c), "10.0.0.3:1");
        assert_eq!(nodes.len(), 2);
        // Churn: the table stays as large as the live set.
        for i in 0..100 {
            let id = nodes.intern(&format!("10.0.1.{i}:1")).unwrap();
            let mut keep = vec![b, c, id];
            keep.sort_unstable();
            nodes.retain(|| keep.clone());
        }
        assert_eq!(nodes.len(), 3);
        assert!(nodes.table.load().slots.len() <= 4);
    }
}
