//! # shardis
//!
//! An in-process Redis/Valkey router: what an Envoy `redis_proxy` sidecar or twemproxy does
//! next to an application, done inside it. Keys are placed exactly where Envoy's RING_HASH /
//! MAGLEV or twemproxy's ketama put them, multi-key commands are split per node and merged,
//! whole-keyspace commands visit every node, and connections persist for the life of the
//! process (and survive `fork()`).
//!
//! The data path (ARCHITECTURE §1): a [`Cmd`] is looked up in the generated command table
//! (`command`), its keys are hashed (`hash`) to nodes of the `topology`, the `router` makes a
//! plan, `exec` drives the calling thread's own blocking I/O on pooled connections (`conn`),
//! and `reply::merge` combines per-node replies into one [`Value`].
//!
//! Layers, each importing only those below it (checked by `core/tests/module_layers.rs`):
//! `client`/`registry`/`fuzzing` → `exec` → `core` → `conn` → `stats` → `router` →
//! `topology` → `command`/`hash`/`config`/`reply` → `error`; `process` stands apart.
//!
//! ```no_run
//! use shardis::{Client, Config};
//! let config = Config::from_toml_str(r#"
//!     mode = "ring_hash"
//!     nodes = ["127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"]
//!     hash_tags = true
//! "#)?;
//! let client = Client::shared(config)?;
//! client.query(["SET", "user:{42}:name", "Ada"])?;
//! let v = client.query(["MGET", "user:{42}:name", "other"])?;
//! # Ok::<(), shardis::Error>(())
//! ```

#[doc(hidden)]
pub mod bench_support;
mod client;
pub mod command;
pub mod config;
mod conn;
mod core;
mod error;
mod exec;
#[doc(hidden)]
pub mod fuzzing;
pub mod hash;
mod process;
pub mod registry;
pub mod reply;
mod router;
mod stats;
mod topology;

pub use client::Client;
pub use command::Cmd;
pub use config::{Config, ConfigBuilder, HashFunction, Mode, ReadFrom};
pub use error::{Error, ErrorKind, RedirectTarget, Result, ServerCode};
pub use exec::transaction::Transaction;
pub use reply::Value;
pub use stats::{
    ClusterStats, CommandStats, FaultStats, LatencyStats, MirrorStats, NodeStats, RoutingStats,
    StatsSnapshot, TlsStats,
};

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
