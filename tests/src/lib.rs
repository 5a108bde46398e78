//! Test harness shared by every suite: starts real `redis-server` (plaintext or TLS, with a
//! throw-away PKI), Envoy and nutcracker processes on free loopback ports, stops them even
//! when a test fails (and, through `PR_SET_PDEATHSIG`, when the test process dies), and
//! generates the command table.

pub mod cluster;
pub mod command_table;
pub mod envoy;
pub mod fake;
pub mod nutcracker;
pub mod ports;
pub mod process;
pub mod proxy;
pub mod reshape;
pub mod server;
pub mod tls;

pub use cluster::Cluster;
pub use server::{RedisServer, ServerCert, ServerOptions, StandaloneSet, TlsServer};
pub use tls::{TlsClient, TlsFiles};

use shardis::{Client, Config, ConfigBuilder, Mode};

/// A config builder over every server of `set`.
pub fn builder(set: &StandaloneSet, mode: Mode, hash_tags: bool) -> ConfigBuilder {
    let mut b = Config::builder().mode(mode).hash_tags(hash_tags);
    for addr in set.addrs() {
        b = b.node(&addr);
    }
    b
}

/// A fresh (unshared) client over every server of `set`.
pub fn client(set: &StandaloneSet, mode: Mode, hash_tags: bool) -> Client {
    Client::new(
        builder(set, mode, hash_tags)
            .build()
            .unwrap_or_else(|e| panic!("config: {e}")),
    )
    .unwrap_or_else(|e| panic!("client: {e}"))
}

/// Two keys with `prefix` that the client places on different nodes.
pub fn keys_on_two_nodes(client: &Client, prefix: &str) -> (String, String) {
    let first = format!("{prefix}0");
    let node = client.node_for(first.as_bytes()).unwrap().to_owned();
    for i in 1..10_000 {
        let k = format!("{prefix}{i}");
        if client.node_for(k.as_bytes()).unwrap() != node {
            return (first, k);
        }
    }
    panic!("all keys on one node");
}

/// The workspace root (one level above this crate).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| std::path::PathBuf::from(".."))
}

/// A `redis` crate connection to a loopback port (no password, no CLIENT SETINFO).
pub fn plain_connection(port: u16, what: &str) -> redis::Connection {
    redis::Client::open(connection_info(port))
        .and_then(|c| c.get_connection_with_timeout(std::time::Duration::from_secs(5)))
        .unwrap_or_else(|e| panic!("connect to {what} on port {port}: {e}"))
}

/// Connection info for a loopback port (no CLIENT SETINFO: proxies reject it).
pub fn connection_info(port: u16) -> redis::ConnectionInfo {
    use redis::IntoConnectionInfo;
    let info = redis::RedisConnectionInfo::default().set_skip_set_lib_name();
    redis::ConnectionAddr::Tcp("127.0.0.1".to_string(), port)
        .into_connection_info()
        .unwrap_or_else(|e| panic!("connection info: {e}"))
        .set_redis_settings(info)
}
