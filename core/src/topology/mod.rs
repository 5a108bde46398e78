//! Topology (pure: no sockets, no pools): which nodes exist and where each key lives.
//! [`model::Topology`] is a fixed shard set or a Redis Cluster; `cluster` parses topology
//! replies into immutable snapshots, chooses among several nodes' views and coordinates
//! refreshes; [`target`] is the vocabulary (node ids, targets) the router and the engine
//! share. The socket I/O of a refresh lives with execution (`exec::refresh`).

pub(crate) mod addr;
pub(crate) mod cluster;
pub(crate) mod model;
pub(crate) mod target;
