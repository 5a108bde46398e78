//! Replies: shardis' [`Value`] and the merge rules that combine per-node replies.

pub mod merge;
mod value;

pub use value::Value;
