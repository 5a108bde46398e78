//! Topology: which nodes exist and where each key lives. Standalone shard sets are a fixed
//! list with a placement table built once; Redis Cluster (a later issue) will be an
//! immutable slot-map snapshot behind the same two questions: "which node holds this key"
//! and "which nodes make up the keyspace".

use crate::config::{Config, Mode};
use crate::error::{Error, Result};
use crate::hash::Placement;
use crate::hash::tag::hashed_part;

/// One node shardis talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeInfo {
    /// `host:port` (identity in stats, errors and `node_for`).
    pub addr: String,
    pub host: String,
    pub port: u16,
}

/// A fixed shard set with its placement.
#[derive(Debug)]
pub(crate) struct Topology {
    nodes: Vec<NodeInfo>,
    placement: Placement,
    hash_tags: Option<[u8; 2]>,
}

impl Topology {
    pub(crate) fn from_config(config: &Config) -> Result<Topology> {
        let placement = Placement::build(config).ok_or_else(|| {
            Error::config(
                "mode",
                format!(
                    "{:?} is not available in this version of shardis (standalone modes: ring_hash, maglev, ketama, modula, jump)",
                    Mode::Cluster.as_str()
                ),
            )
        })?;
        if config.nodes().len() > usize::from(u16::MAX) {
            return Err(Error::config("nodes", "more than 65535 nodes"));
        }
        let nodes = config
            .nodes()
            .iter()
            .map(|n| NodeInfo {
                addr: n.addr.clone(),
                host: n.host.clone(),
                port: n.port,
            })
            .collect();
        Ok(Topology {
            nodes,
            placement,
            hash_tags: config.hash_tags(),
        })
    }

    /// The node index holding `key`.
    #[inline]
    pub(crate) fn node_for_key(&self, key: &[u8]) -> usize {
        self.placement.locate(hashed_part(key, self.hash_tags))
    }

    /// All nodes (the primaries making up the keyspace).
    pub(crate) fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    /// Node by index.
    pub(crate) fn node(&self, i: usize) -> &NodeInfo {
        &self.nodes[i]
    }

    /// Are hash tags on?
    pub(crate) fn hash_tags(&self) -> bool {
        self.hash_tags.is_some()
    }
}
