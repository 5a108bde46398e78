//! Configuration: one schema for every binding (ARCHITECTURE §7). Accepted as TOML or JSON
//! text or file, a URL, a JSON value (Python dict / PHP array), or built in Rust with
//! [`ConfigBuilder`]. Invalid configurations fail here, at construction, with an error that
//! names the key and the problem.

mod builder;
mod duration;
pub mod envoy;
mod insecure;
mod routes_spec;
pub mod routing;
mod spec;
mod spec_toml;
mod tls;
mod url;
pub(crate) mod validate;

use std::fmt;
use std::hash::BuildHasher;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

pub use builder::ConfigBuilder;
pub use duration::DurationSpec;
pub use routes_spec::{FaultKind, FaultSpec, MirrorSpec, Percent, RouteSpec};
pub use routing::Routing;
pub use spec::{
    AuthSpec, ConfigSpec, HashFunction, HashTagsSpec, KeyHashSpec, MaglevSpec, Mode, NodeSpec,
    ReadFrom, RefreshSpec, RingHashSpec, TlsSpec,
};
pub use tls::{ClientIdentity, TlsConfig, TrustRoots};
pub(crate) use tls::{client_config as tls_client_config, probe_client_config as tls_probe_config};

use crate::error::{Error, Result};

/// Default per-connection connect timeout (redis-py and phpredis use a few seconds; a
/// sidecar on loopback answers in microseconds, so one second fails fast but not falsely).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Default deadline of one call, retries included (Envoy's `op_timeout` is user-set; 1s is
/// what redis-py users typically configure as `socket_timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
/// Default TCP keepalive idle time (Redis' own server-side default is 300s; 60s finds dead
/// peers behind NAT/conntrack sooner).
pub const DEFAULT_TCP_KEEPALIVE: Duration = Duration::from_secs(60);
/// Default topology refresh interval in cluster mode.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// Default idle connections kept per node.
pub const DEFAULT_MAX_IDLE_CONNECTIONS: usize = 16;
/// Envoy's `minimum_ring_size` default.
pub const DEFAULT_MIN_RING_SIZE: u64 = 1024;
/// Envoy's `maximum_ring_size` default.
pub const DEFAULT_MAX_RING_SIZE: u64 = 8 * 1024 * 1024;
/// Envoy's Maglev `table_size` default (the paper's recommended prime).
pub const DEFAULT_MAGLEV_TABLE_SIZE: u64 = 65537;

/// One configured node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeConfig {
    /// `host:port` as configured.
    pub addr: String,
    /// Host part (brackets removed for IPv6).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Relative weight, ≥ 1.
    pub weight: u32,
    /// Hash identity override (Envoy `hash_key`, twemproxy server name).
    pub name: Option<String>,
}

/// A password that never appears in Debug/Display output.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// The secret itself (for the AUTH command only).
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Checked ACL credentials.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Auth {
    /// ACL user (None: the `default` user, `AUTH <password>`).
    pub username: Option<String>,
    /// The password.
    pub password: Secret,
}

/// Checked ring_hash settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RingHashConfig {
    /// Minimum ring entries.
    pub min_ring_size: u64,
    /// Maximum ring entries.
    pub max_ring_size: u64,
    /// Host hash (`xx_hash` or `murmur_hash_2`).
    pub hash_function: HashFunction,
}

/// Checked cluster refresh settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefreshConfig {
    /// Refresh when older than this; None = never by age.
    pub interval: Option<Duration>,
    /// Redirects before a refresh.
    pub on_redirects: u32,
    /// Connection failures before a refresh.
    pub on_failures: u32,
}

/// A validated configuration. Build one with [`Config::from_toml_str`],
/// [`Config::from_json_str`], [`Config::from_file`], [`Config::from_url`] or
/// [`Config::builder`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Config {
    pub(crate) mode: Mode,
    pub(crate) nodes: Vec<NodeConfig>,
    pub(crate) hash_tags: Option<[u8; 2]>,
    pub(crate) read_from: ReadFrom,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) tcp_keepalive: Option<Duration>,
    pub(crate) db: i64,
    pub(crate) persistent_id: Option<String>,
    pub(crate) max_idle_connections: usize,
    pub(crate) retry_writes: bool,
    pub(crate) ring_hash: RingHashConfig,
    pub(crate) maglev_table_size: u64,
    pub(crate) key_hash: HashFunction,
    pub(crate) refresh: RefreshConfig,
    pub(crate) auth: Option<Auth>,
    pub(crate) tls: Option<TlsConfig>,
    /// Backends, routes and faults; `None` for one shard set (the round-1 config).
    pub(crate) routing: Option<std::sync::Arc<Routing>>,
}

impl Config {
    /// Start a [`ConfigBuilder`].
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Validate a [`ConfigSpec`].
    pub fn from_spec(spec: ConfigSpec) -> Result<Config> {
        if spec.has_routing() {
            routing::validate_routed(spec)
        } else {
            validate::validate(spec)
        }
    }

    /// Parse TOML text.
    pub fn from_toml_str(text: &str) -> Result<Config> {
        let de = toml::Deserializer::parse(text)
            .map_err(|e| Error::config("", format!("TOML: {}", e.message())))?;
        let spec: ConfigSpec = serde_path_to_error::deserialize(de).map_err(|e| {
            // toml's Display quotes the offending source line, which may hold a password:
            // use the bare message.
            let path = e.path().to_string();
            let message = e.into_inner().message().to_owned();
            keyed_error(path, message)
        })?;
        Config::from_spec(spec)
    }

    /// Parse JSON text.
    pub fn from_json_str(text: &str) -> Result<Config> {
        let mut de = serde_json::Deserializer::from_str(text);
        let spec: ConfigSpec = serde_path_to_error::deserialize(&mut de).map_err(path_error)?;
        de.end()
            .map_err(|e| Error::config("", format!("JSON: {e}")))?;
        Config::from_spec(spec)
    }

    /// Take a JSON value (what bindings build from a Python dict or PHP array).
    pub fn from_json_value(value: serde_json::Value) -> Result<Config> {
        let spec: ConfigSpec = serde_path_to_error::deserialize(value).map_err(path_error)?;
        Config::from_spec(spec)
    }

    /// Read a `.toml` or `.json` file (by extension; other names are tried as TOML).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(
                "",
                format!("cannot read config file {}: {e}", path.display()),
            )
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json {
            Config::from_json_str(&text)
        } else {
            Config::from_toml_str(&text)
        }
    }

    /// Import the `redis_proxy` listener of an Envoy bootstrap YAML ([`envoy::import`]);
    /// `listener` names it when several listeners have one. Errors name the YAML path.
    /// The import's warnings (fields ignored as irrelevant in-process) are dropped here:
    /// call [`envoy::import`] to see them.
    pub fn from_envoy_yaml(text: &str, listener: Option<&str>) -> Result<Config> {
        envoy::import(text, listener)?.to_config()
    }

    /// Read an Envoy bootstrap YAML file: [`Config::from_envoy_yaml`].
    pub fn from_envoy_file(path: impl AsRef<Path>, listener: Option<&str>) -> Result<Config> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(
                "",
                format!("cannot read Envoy config {}: {e}", path.display()),
            )
        })?;
        Config::from_envoy_yaml(&text, listener)
    }

    /// Parse a URL: `redis://[user:pass@]h:p[,h2:p2…][/db][?mode=ring_hash&timeout=…]`,
    /// `redis+cluster://…`. Query keys are the config's top-level keys and
    /// `section.key` for sections (`ring_hash.hash_function=murmur_hash_2`).
    pub fn from_url(url: &str) -> Result<Config> {
        Config::from_spec(url::parse(url)?)
    }

    /// Parse a URL, TOML or JSON text, or a file path: whichever `text` is.
    pub fn parse_any(text: &str) -> Result<Config> {
        let t = text.trim_start();
        if t.starts_with('{') {
            Config::from_json_str(text)
        } else if url::looks_like_url(t) {
            Config::from_url(t)
        } else if !t.contains('\n') && !t.contains('=') && Path::new(t).exists() {
            Config::from_file(t)
        } else {
            Config::from_toml_str(text)
        }
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The configured nodes, in configuration order.
    pub fn nodes(&self) -> &[NodeConfig] {
        &self.nodes
    }

    /// Hash tag delimiters, if hash tags are on.
    pub fn hash_tags(&self) -> Option<[u8; 2]> {
        self.hash_tags
    }

    /// The deadline of one call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The database selected on every connection.
    pub fn db(&self) -> i64 {
        self.db
    }

    /// The read policy.
    pub fn read_from(&self) -> ReadFrom {
        self.read_from
    }

    /// The TLS settings, if connections use TLS.
    pub fn tls(&self) -> Option<&TlsConfig> {
        self.tls.as_ref()
    }

    /// Backends, routes and faults, when the config has more than one shard set (or
    /// faults). Without them, this config is its one backend.
    pub fn routing(&self) -> Option<&Routing> {
        self.routing.as_deref()
    }

    /// The explicit persistent id, if any.
    pub fn persistent_id(&self) -> Option<&str> {
        self.persistent_id.as_deref()
    }

    /// The registry key: the persistent id, or `cfg-<fingerprint>`.
    pub fn registry_key(&self) -> String {
        match &self.persistent_id {
            Some(id) => id.clone(),
            None => format!("cfg-{:016x}", self.fingerprint()),
        }
    }

    /// A fingerprint of everything in the configuration (passwords included, hashed with a
    /// per-process random key so it reveals nothing outside this process).
    pub fn fingerprint(&self) -> u64 {
        static KEYS: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
        KEYS.get_or_init(Default::default).hash_one(self)
    }
}

fn path_error<E: fmt::Display>(e: serde_path_to_error::Error<E>) -> Error {
    let path = e.path().to_string();
    let message = e.into_inner().to_string();
    keyed_error(path, message)
}

/// serde's own wording ("unknown variant `x`, expected one of …") is clear; keep it, except
/// under `auth`, where a type error would quote the value (a password).
pub(crate) fn keyed_error(path: String, message: String) -> Error {
    let key = if path == "." { String::new() } else { path };
    // `auth`, or a backend's `backends.NAME.auth`.
    let under_auth = key
        .split('.')
        .any(|segment| segment == "auth" || segment.starts_with("auth["));
    if under_auth && !message.starts_with("unknown field") && !message.starts_with("missing field")
    {
        return Error::config(
            &key,
            "invalid value (not shown: it may be a secret); expected a string",
        );
    }
    Error::config(&key, message)
}

#[cfg(test)]
mod tests;
