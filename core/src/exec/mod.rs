//! Execution: the calling thread drives I/O (ARCHITECTURE §4). [`command`] is the
//! single-command hot path, [`pipeline`] plans and merges several commands (and split or
//! fanned-out ones), [`keyspace`] walks the keyspace's primaries; all hand jobs to the
//! [`engine`], which runs them in rounds and applies the one failure decision
//! ([`decide`]). [`transaction`] pins MULTI/EXEC to one node and asks the same decision;
//! [`refresh`] is the socket I/O of cluster topology refreshes.

pub(crate) mod command;
pub(crate) mod decide;
pub(crate) mod engine;
pub(crate) mod keyspace;
pub(crate) mod pipeline;
pub(crate) mod refresh;
pub(crate) mod routed;
pub mod transaction;
