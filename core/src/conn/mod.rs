//! Connections and per-node runtime state: the only layer that touches sockets.
//! [`connection::Conn`] is one blocking connection, [`pool::NodePool`] keeps idle ones,
//! [`node::Node`] is one node's pool, health and counters, and [`nodes::Nodes`] is the
//! table of a core's nodes with their lifecycle. [`resp`] parses replies.

pub(crate) mod connection;
pub(crate) mod health;
pub(crate) mod node;
pub(crate) mod nodes;
pub(crate) mod pool;
pub(crate) mod resp;
pub(crate) mod stream;
pub(crate) mod tls;
