//! The vocabulary the router and the engine share: node ids, where a request goes
//! ([`Target`]), and the table that turns addresses into ids ([`NodeNames`]).

use crate::error::Result;

/// A node's id in its core's node table. Ids are never reused for another node while a
/// call may still hold them (the table tags each slot with a generation).
pub(crate) type NodeId = usize;

/// Where a request goes, resolved to a node at execution time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    /// A fixed node.
    Node(NodeId),
    /// The shard serving a slot (primary or replica per the read policy).
    Slot(u16),
    /// The primary of the shard serving a slot (fan-outs to every primary).
    PrimaryOf(u16),
    /// Any node (keyless commands).
    Any,
}

/// Node ids and addresses as the node table hands them out: implemented by the connection
/// layer's table, and by [`AddrList`](super::addr::AddrList) where no connections exist
/// (unit tests, fuzzing).
pub(crate) trait NodeNames {
    /// The id of `addr` (`host:port`), adding the node if it is new.
    fn intern(&self, addr: &str) -> Result<NodeId>;
    /// The `host:port` of node `id` (`"(gone)"` for an id no longer in the table).
    fn addr(&self, id: NodeId) -> String;
}
