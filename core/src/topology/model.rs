//! The topology of one core: a fixed shard set with its placement table (ring_hash,
//! maglev, ketama, modula, jump), or a Redis Cluster whose slot map is refreshed as the
//! cluster changes. Both answer the router's two questions — which unit (node or slot)
//! holds a key, and which targets make up the keyspace.

use super::cluster::state::ClusterTopology;
use super::target::{NodeId, NodeNames, Target};
use crate::config::{Config, Mode};
use crate::error::{Error, Result};
use crate::hash::Placement;
use crate::hash::slot::Slot;
use crate::hash::tag::hashed_part;

/// A fixed shard set with its placement.
pub(crate) struct StaticTopology {
    placement: Placement,
    /// Node id of each configured node, in configuration order.
    ids: Vec<NodeId>,
}

/// The topology of one core.
pub(crate) enum Topology {
    /// ring_hash, maglev, ketama, modula, jump.
    Static(StaticTopology),
    /// Redis Cluster.
    Cluster(ClusterTopology),
}

impl Topology {
    pub(crate) fn from_config(config: &Config, names: &dyn NodeNames) -> Result<Topology> {
        if config.mode() == Mode::Cluster {
            return Ok(Topology::Cluster(ClusterTopology::new(config)));
        }
        let placement =
            Placement::build(config).ok_or_else(|| Error::config("mode", "no placement"))?;
        if config.nodes().len() > usize::from(u16::MAX) {
            return Err(Error::config("nodes", "more than 65535 nodes"));
        }
        let mut ids = Vec::with_capacity(config.nodes().len());
        for (i, n) in config.nodes().iter().enumerate() {
            let id = names
                .intern(&n.addr)
                .map_err(|e| Error::config(&format!("nodes[{i}].addr"), e.message()))?;
            if ids.contains(&id) {
                return Err(Error::config(
                    &format!("nodes[{i}].addr"),
                    "the same node as an earlier entry",
                ));
            }
            ids.push(id);
        }
        Ok(Topology::Static(StaticTopology { placement, ids }))
    }

    /// The cluster topology, in cluster mode.
    #[inline]
    pub(crate) fn cluster(&self) -> Option<&ClusterTopology> {
        match self {
            Topology::Cluster(c) => Some(c),
            Topology::Static(_) => None,
        }
    }

    /// The unit (node in standalone modes, slot in cluster mode) of a key.
    #[inline]
    pub(crate) fn unit_of(&self, key: &[u8], hash_tags: Option<[u8; 2]>) -> Target {
        match self {
            // One node: every placement maps every key to it, no hashing needed.
            Topology::Static(s) if s.ids.len() == 1 => Target::Node(s.ids[0]),
            Topology::Static(s) => {
                Target::Node(s.ids[s.placement.locate(hashed_part(key, hash_tags))])
            }
            Topology::Cluster(_) => Target::Slot(Slot::of(hashed_part(key, Some(*b"{}"))).get()),
        }
    }

    /// Configured node ids (standalone modes).
    pub(crate) fn static_nodes(&self) -> &[NodeId] {
        match self {
            Topology::Static(s) => &s.ids,
            Topology::Cluster(_) => &[],
        }
    }
}
