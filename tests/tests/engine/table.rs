//! The committed command table equals what the generator renders from the running server.

use shardis_tests::RedisServer;
use shardis_tests::command_table::{fetch_and_render, table_path};

#[test]
fn command_table_matches_server() {
    let server = RedisServer::start();
    let mut con = server.connection();
    let rendered = fetch_and_render(&mut con).unwrap_or_else(|e| panic!("render: {e}"));
    let committed = std::fs::read_to_string(table_path()).unwrap();
    if rendered != committed {
        let diff: Vec<String> = rendered
            .lines()
            .zip(committed.lines())
            .filter(|(a, b)| a != b)
            .take(5)
            .map(|(a, b)| format!("server:    {a}\ncommitted: {b}"))
            .collect();
        panic!(
            "core/src/command/table_data.rs is out of date with this redis-server; run \
             `cargo run -p shardis-tests --bin gen-command-table`.\n{}",
            diff.join("\n")
        );
    }
    // Every table row is a real command of this server (and vice versa, by equality above).
    assert!(shardis::command::table::all().len() > 300);
}
