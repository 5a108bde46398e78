//! Test harness shared by every suite: starts real `redis-server`, Envoy and nutcracker
//! processes on free loopback ports, stops them even when a test fails (and, through
//! `PR_SET_PDEATHSIG`, when the test process dies), and generates the command table.

pub mod command_table;
pub mod envoy;
pub mod nutcracker;
pub mod ports;
pub mod process;
pub mod server;

pub use server::{RedisServer, ServerOptions, StandaloneSet};

/// The workspace root (one level above this crate).
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| std::path::PathBuf::from(".."))
}

/// Connection info for a loopback port (no CLIENT SETINFO: proxies reject it).
pub fn connection_info(port: u16) -> redis::ConnectionInfo {
    use redis::IntoConnectionInfo;
    redis::ConnectionAddr::Tcp("127.0.0.1".to_string(), port)
        .into_connection_info()
        .unwrap_or_else(|e| panic!("connection info: {e}"))
}
