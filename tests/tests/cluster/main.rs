//! Cluster mode against real 3-primary + 3-replica clusters (cluster-node-timeout 1 s),
//! with the fault scenarios of RELIABILITY.md. Tests run one at a time (a static lock):
//! failover timing on a 2-core machine must not compete with another cluster.

mod basics;
mod faults;
mod isolation;
mod lifecycle;
mod restarts;
mod tls;
mod wire;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use shardis::{Client, Config, Mode, ReadFrom};
use shardis_tests::Cluster;

static SERIAL: Mutex<()> = Mutex::new(());

/// Hold for the whole test.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A cluster client seeded with the first node only (the rest is discovered).
pub fn client(cluster: &Cluster, read_from: ReadFrom, timeout: Duration) -> Client {
    client_with(cluster, read_from, timeout, None)
}

/// [`client`], with `[tls]` settings when given.
pub fn client_with(
    cluster: &Cluster,
    read_from: ReadFrom,
    timeout: Duration,
    tls: Option<shardis::config::TlsSpec>,
) -> Client {
    let mut builder = Config::builder()
        .mode(Mode::Cluster)
        .node(&cluster.nodes[0].addr())
        .read_from(read_from)
        .timeout(timeout)
        .connect_timeout(Duration::from_millis(300));
    if let Some(tls) = tls {
        builder = builder.tls(tls);
    }
    Client::new(builder.build().unwrap()).unwrap()
}

/// `CLUSTER KEYSLOT key` as the server computes it.
pub fn keyslot(cluster: &Cluster, key: &str) -> u16 {
    match cluster.nodes[0].cmd(&["CLUSTER", "KEYSLOT", key]) {
        redis::Value::Int(i) => i as u16,
        other => panic!("{other:?}"),
    }
}

/// A counter from `INFO commandstats` (`cmdstat_get` → calls).
pub fn command_calls(server: &shardis_tests::RedisServer, command: &str) -> u64 {
    let info = match server.cmd(&["INFO", "commandstats"]) {
        redis::Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
        redis::Value::VerbatimString { text, .. } => text,
        other => panic!("{other:?}"),
    };
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{command}:calls=")))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
