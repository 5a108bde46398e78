//! The `shardis` command-line tool.
fn main() {}
