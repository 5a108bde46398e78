//! The Rust builder: the same keys as the file format, checked by the same validation.

use std::time::Duration;

use super::spec::{
    AuthSpec, ConfigSpec, HashFunction, HashTagsSpec, KeyHashSpec, MaglevSpec, Mode, NodeSpec,
    ReadFrom, RingHashSpec, TlsSpec,
};
use super::{Config, DurationSpec};
use crate::error::Result;

/// Builds a [`Config`]; [`ConfigBuilder::build`] validates it.
///
/// ```
/// use shardis::{Config, Mode};
/// let config = Config::builder()
///     .mode(Mode::RingHash)
///     .node("127.0.0.1:7001")
///     .weighted_node("127.0.0.1:7002", 2, Some("s2"))
///     .hash_tags(true)
///     .build()
///     .unwrap();
/// assert_eq!(config.nodes().len(), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConfigBuilder {
    spec: ConfigSpec,
}

impl ConfigBuilder {
    /// Set `mode`.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.spec.mode = Some(mode);
        self
    }

    /// Add a node with weight 1.
    pub fn node(mut self, addr: &str) -> Self {
        self.spec.nodes.push(NodeSpec::from(addr));
        self
    }

    /// Add a node with a weight and an optional hash name.
    pub fn weighted_node(mut self, addr: &str, weight: u32, name: Option<&str>) -> Self {
        self.spec.nodes.push(NodeSpec {
            addr: addr.to_owned(),
            weight: Some(weight),
            name: name.map(str::to_owned),
        });
        self
    }

    /// Turn `{…}` hash tags on or off.
    pub fn hash_tags(mut self, on: bool) -> Self {
        self.spec.hash_tags = Some(HashTagsSpec::Enabled(on));
        self
    }

    /// Use custom two-character hash tag delimiters (twemproxy's `hash_tag`).
    pub fn hash_tag_delimiters(mut self, delimiters: &str) -> Self {
        self.spec.hash_tags = Some(HashTagsSpec::Delimiters(delimiters.to_owned()));
        self
    }

    /// Set `read_from`.
    pub fn read_from(mut self, read_from: ReadFrom) -> Self {
        self.spec.read_from = Some(read_from);
        self
    }

    /// Set `connect_timeout`.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.spec.connect_timeout = Some(DurationSpec::from(d));
        self
    }

    /// Set `timeout` (one deadline per call).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.spec.timeout = Some(DurationSpec::from(d));
        self
    }

    /// Set `tcp_keepalive` (None disables keepalive).
    pub fn tcp_keepalive(mut self, d: Option<Duration>) -> Self {
        self.spec.tcp_keepalive = Some(match d {
            Some(d) => DurationSpec::from(d),
            None => DurationSpec::Switch(false),
        });
        self
    }

    /// Set `db`.
    pub fn db(mut self, db: i64) -> Self {
        self.spec.db = Some(db);
        self
    }

    /// Set `persistent_id`.
    pub fn persistent_id(mut self, id: &str) -> Self {
        self.spec.persistent_id = Some(id.to_owned());
        self
    }

    /// Set `max_idle_connections` per node.
    pub fn max_idle_connections(mut self, n: usize) -> Self {
        self.spec.max_idle_connections = Some(n);
        self
    }

    /// Set `retry_writes`.
    pub fn retry_writes(mut self, on: bool) -> Self {
        self.spec.retry_writes = Some(on);
        self
    }

    /// Set `[auth]`.
    pub fn auth(mut self, username: Option<&str>, password: &str) -> Self {
        self.spec.auth = Some(AuthSpec {
            username: username.map(str::to_owned),
            password: Some(password.to_owned()),
            password_file: None,
        });
        self
    }

    /// Set `[auth]` with the password read from a file (at `build`).
    pub fn auth_password_file(mut self, username: Option<&str>, path: &str) -> Self {
        self.spec.auth = Some(AuthSpec {
            username: username.map(str::to_owned),
            password: None,
            password_file: Some(path.to_owned()),
        });
        self
    }

    /// Set `[tls]` (files are read and checked at `build`).
    pub fn tls(mut self, tls: TlsSpec) -> Self {
        self.spec.tls = Some(tls);
        self
    }

    /// Set `[ring_hash]`.
    pub fn ring_hash(mut self, min_ring_size: u64, max_ring_size: u64, hash: HashFunction) -> Self {
        self.spec.ring_hash = Some(RingHashSpec {
            min_ring_size: Some(min_ring_size),
            max_ring_size: Some(max_ring_size),
            hash_function: Some(hash),
        });
        self
    }

    /// Set `maglev.table_size`.
    pub fn maglev_table_size(mut self, size: u64) -> Self {
        self.spec.maglev = Some(MaglevSpec {
            table_size: Some(size),
        });
        self
    }

    /// Set the key hash of the current mode (`ketama.hash`, `modula.hash` or `jump.hash`).
    pub fn key_hash(mut self, hash: HashFunction) -> Self {
        let section = Some(KeyHashSpec { hash: Some(hash) });
        match self.spec.mode {
            Some(Mode::Modula) => self.spec.modula = section,
            Some(Mode::Jump) => self.spec.jump = section,
            _ => self.spec.ketama = section,
        }
        self
    }

    /// The spec built so far.
    pub fn spec(&self) -> &ConfigSpec {
        &self.spec
    }

    /// Validate and build.
    pub fn build(self) -> Result<Config> {
        Config::from_spec(self.spec)
    }
}
