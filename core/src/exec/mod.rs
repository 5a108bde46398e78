//! Execution: the calling thread drives I/O (ARCHITECTURE §4). One node: write, read,
//! retry by [`retry::decide`]. Several nodes: write every node's requests, then read every
//! reply, each read bounded by the call's one deadline.

pub(crate) mod batch;
pub(crate) mod call;
pub(crate) mod pipeline;
pub(crate) mod retry;
pub mod transaction;
