//! Connections: the only place that touches sockets. [`node::Conn`] is one blocking
//! connection; [`pool::NodePool`] keeps idle ones per node.

pub(crate) mod node;
pub(crate) mod pool;
pub(crate) mod resp;

pub(crate) use node::{Conn, ConnSettings};
pub(crate) use pool::NodePool;
