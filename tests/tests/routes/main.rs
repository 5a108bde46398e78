//! Several backends behind one client, against real redis-servers: prefix routes with
//! `remove_prefix` / `key_formatter` and a catch-all, multi-key commands split per route,
//! cross-route transactions and scripts refused before sending, whole-keyspace commands
//! over every backend, a read backend, request mirroring and fault injection.

// Tests: a failed call is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod basics;
mod keyspace;
mod mirror_faults;

use shardis::{Client, Config};
use shardis_tests::StandaloneSet;

/// `backends.NAME` tables over sets of standalone servers, plus `extra` TOML (its lines
/// before the first table go to the top level).
pub fn config(backends: &[(&str, &str, &StandaloneSet)], extra: &str) -> Config {
    let split = extra
        .find("\n[")
        .map(|i| i + 1)
        .unwrap_or(if extra.starts_with('[') {
            0
        } else {
            extra.len()
        });
    let (top, extra) = extra.split_at(split);
    let mut toml = top.to_owned();
    for (name, mode, set) in backends {
        let nodes: Vec<String> = set.addrs().iter().map(|a| format!("{a:?}")).collect();
        toml.push_str(&format!(
            "[backends.{name}]\nmode = \"{mode}\"\nnodes = [{}]\n",
            nodes.join(", ")
        ));
    }
    toml.push_str(extra);
    Config::from_toml_str(&toml).unwrap_or_else(|e| panic!("config: {e}\n{toml}"))
}

/// A fresh client.
pub fn client(config: Config) -> Client {
    Client::new(config).unwrap_or_else(|e| panic!("client: {e}"))
}

/// Every key of every server of `set`, sorted, as strings.
pub fn keys_of(set: &StandaloneSet) -> Vec<String> {
    let mut all: Vec<String> = set
        .servers
        .iter()
        .flat_map(|s| s.keys())
        .map(|k| String::from_utf8_lossy(&k).into_owned())
        .collect();
    all.sort();
    all
}

/// `cmdstat_<name>` calls on every server of `set` (0 when never called).
pub fn calls_of(set: &StandaloneSet, name: &str) -> u64 {
    set.servers
        .iter()
        .map(|s| {
            let text = match s.cmd(&["INFO", "commandstats"]) {
                redis::Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
                redis::Value::VerbatimString { text, .. } => text,
                other => panic!("INFO: {other:?}"),
            };
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("cmdstat_{name}:calls=")))
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        })
        .sum()
}
