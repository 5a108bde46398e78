//! Execution: the calling thread drives I/O (ARCHITECTURE §4). The [`engine`] runs jobs in
//! rounds — write every node's requests, then read every reply, each read bounded by the
//! call's one deadline — and applies [`retry::decide`], [`redirect::classify`] and
//! [`health`] (outlier ejection). [`pipeline`] turns planned commands into jobs and merges
//! the replies; [`transaction`] pins MULTI/EXEC to one node.

pub(crate) mod engine;
pub(crate) mod health;
pub(crate) mod pipeline;
pub(crate) mod redirect;
pub(crate) mod retry;
pub mod transaction;
