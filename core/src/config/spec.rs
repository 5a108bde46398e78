//! The configuration as written by users (TOML, JSON, a Python dict, a PHP array, a URL):
//! serde types whose field names are the public contract of ARCHITECTURE §7. Everything is
//! optional here; `validate` turns a [`ConfigSpec`] into a checked [`crate::Config`].

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use std::collections::BTreeMap;

use super::duration::DurationSpec;
use super::routes_spec::{FaultSpec, RouteSpec};

/// Topology and placement algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Mode {
    /// Redis Cluster / Valkey cluster (slots learned from the servers).
    Cluster,
    /// Envoy's RING_HASH over standalone nodes.
    RingHash,
    /// Envoy's MAGLEV over standalone nodes.
    Maglev,
    /// twemproxy's ketama continuum over standalone nodes.
    Ketama,
    /// twemproxy's modula distribution (hash modulo the weighted node count).
    Modula,
    /// Jump consistent hash (Lamping & Veach) over equally weighted nodes.
    Jump,
}

impl Mode {
    /// The config spelling (`"ring_hash"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Cluster => "cluster",
            Mode::RingHash => "ring_hash",
            Mode::Maglev => "maglev",
            Mode::Ketama => "ketama",
            Mode::Modula => "modula",
            Mode::Jump => "jump",
        }
    }
}

/// Where read-only commands go (cluster mode; standalone nodes have no replicas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReadFrom {
    /// Always the primary.
    #[default]
    Primary,
    /// The primary, a replica when the primary is unavailable.
    PreferPrimary,
    /// Only replicas.
    Replica,
    /// Replicas, the primary when no replica is available.
    PreferReplica,
    /// Any node of the shard.
    Any,
}

/// Key hash functions. Envoy's (`murmur_hash_2`, `xx_hash`) and twemproxy's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HashFunction {
    /// Envoy's 64-bit MurmurHash2 (libstdc++ `_Hash_bytes`, seed 0xc70f6907).
    #[serde(rename = "murmur_hash_2")]
    MurmurHash2,
    /// XXH64, seed 0.
    XxHash,
    /// twemproxy `one_at_a_time` (Jenkins one-at-a-time).
    OneAtATime,
    /// twemproxy `md5` (first 4 digest bytes, little-endian).
    Md5,
    /// twemproxy `crc16`.
    Crc16,
    /// twemproxy `crc32` (libmemcached's 15-bit variant).
    Crc32,
    /// twemproxy `crc32a` (standard CRC-32).
    Crc32a,
    /// twemproxy `fnv1_64` (truncated to 32 bits).
    #[serde(rename = "fnv1_64")]
    Fnv164,
    /// twemproxy `fnv1a_64` (32-bit arithmetic on the 64-bit constants).
    #[serde(rename = "fnv1a_64")]
    Fnv1a64,
    /// twemproxy `fnv1_32`.
    #[serde(rename = "fnv1_32")]
    Fnv132,
    /// twemproxy `fnv1a_32`.
    #[serde(rename = "fnv1a_32")]
    Fnv1a32,
    /// twemproxy `hsieh` (Paul Hsieh's SuperFastHash).
    Hsieh,
    /// twemproxy `murmur` (32-bit MurmurHash2 as libmemcached seeds it).
    Murmur,
    /// twemproxy `jenkins` (lookup3 hashlittle, initval 13).
    Jenkins,
}

impl HashFunction {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            HashFunction::MurmurHash2 => "murmur_hash_2",
            HashFunction::XxHash => "xx_hash",
            HashFunction::OneAtATime => "one_at_a_time",
            HashFunction::Md5 => "md5",
            HashFunction::Crc16 => "crc16",
            HashFunction::Crc32 => "crc32",
            HashFunction::Crc32a => "crc32a",
            HashFunction::Fnv164 => "fnv1_64",
            HashFunction::Fnv1a64 => "fnv1a_64",
            HashFunction::Fnv132 => "fnv1_32",
            HashFunction::Fnv1a32 => "fnv1a_32",
            HashFunction::Hsieh => "hsieh",
            HashFunction::Murmur => "murmur",
            HashFunction::Jenkins => "jenkins",
        }
    }

    /// True for twemproxy's 32-bit functions (valid for `ketama` and `modula`).
    pub fn is_twemproxy(self) -> bool {
        !matches!(self, HashFunction::MurmurHash2 | HashFunction::XxHash)
    }
}

/// `hash_tags`: `true`/`false`, or two delimiter characters as in twemproxy (`"{}"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HashTagsSpec {
    /// On (`{…}`) or off.
    Enabled(bool),
    /// Custom delimiters, exactly two bytes.
    Delimiters(String),
}

/// One entry of `nodes`: `"host:port"` or `{ addr, weight, name }`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct NodeSpec {
    /// `host:port`.
    pub addr: String,
    /// Relative weight (≥ 1), default 1.
    pub weight: Option<u32>,
    /// Identity used for hashing instead of `addr` (Envoy `hash_key`, twemproxy server name).
    pub name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeTable {
    addr: String,
    weight: Option<u32>,
    name: Option<String>,
}

impl<'de> Deserialize<'de> for NodeSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = NodeSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"host:port\" or a table { addr, weight, name }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NodeSpec, E> {
                Ok(NodeSpec {
                    addr: v.to_owned(),
                    weight: None,
                    name: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<NodeSpec, A::Error> {
                let t = NodeTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(NodeSpec {
                    addr: t.addr,
                    weight: t.weight,
                    name: t.name,
                })
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

impl From<&str> for NodeSpec {
    fn from(addr: &str) -> Self {
        NodeSpec {
            addr: addr.to_owned(),
            weight: None,
            name: None,
        }
    }
}

/// `[ring_hash]`: Envoy's `RingHashLbConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RingHashSpec {
    /// Envoy `minimum_ring_size` (default 1024).
    pub min_ring_size: Option<u64>,
    /// Envoy `maximum_ring_size` (default 8388608).
    pub max_ring_size: Option<u64>,
    /// Host hash: `xx_hash` (default) or `murmur_hash_2`.
    pub hash_function: Option<HashFunction>,
}

/// `[maglev]`: Envoy's `MaglevLbConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaglevSpec {
    /// Lookup table size, a prime (default 65537).
    pub table_size: Option<u64>,
}

/// `[ketama]`, `[modula]`, `[jump]`: the key hash function.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyHashSpec {
    /// The key hash (twemproxy's names; `jump` also takes `murmur_hash_2`, `xx_hash`).
    pub hash: Option<HashFunction>,
}

/// `[refresh]`: cluster topology refresh.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshSpec {
    /// Refresh lazily when the topology is older than this (default 60s; 0 = never).
    pub interval: Option<DurationSpec>,
    /// Refresh after this many redirects (default 1).
    pub on_redirects: Option<u32>,
    /// Refresh after this many connection failures (default 1).
    pub on_failures: Option<u32>,
}

/// `[auth]`: ACL user and password, sent on every (re)connect.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// ACL user name (Redis 6+); absent means the `default` user.
    pub username: Option<String>,
    /// The password. Never printed.
    pub password: Option<String>,
    /// A file holding the password (read once, at construction; one trailing newline is
    /// dropped). An alternative to `password`.
    pub password_file: Option<String>,
}

impl fmt::Debug for AuthSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSpec")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("password_file", &self.password_file)
            .finish()
    }
}

/// `[tls]`: TLS to every node (also implied by `rediss://` and `valkeys://` URLs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    /// TLS on or off; default on when the `[tls]` table is present.
    pub enabled: Option<bool>,
    /// PEM file of the certificate authorities to trust, instead of the platform's roots.
    pub ca_file: Option<String>,
    /// PEM certificate chain presented to the servers (mutual TLS; needs `key_file`).
    pub cert_file: Option<String>,
    /// PEM private key of `cert_file`.
    pub key_file: Option<String>,
    /// The name every node's certificate is verified against (and sent as SNI), instead of
    /// each node's own host.
    pub server_name: Option<String>,
    /// Accept any certificate and name. Dangerous: for test set-ups only; shows in stats.
    pub insecure_skip_verify: Option<bool>,
}

/// The whole configuration as written. Unknown keys are errors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    /// `cluster | ring_hash | maglev | ketama | modula | jump`.
    pub mode: Option<Mode>,
    /// Seed nodes (cluster) or the shard list (other modes).
    #[serde(default)]
    pub nodes: Vec<NodeSpec>,
    /// Hash tags: on by default in cluster mode, off elsewhere (as Envoy and twemproxy).
    pub hash_tags: Option<HashTagsSpec>,
    /// Read policy (cluster mode).
    pub read_from: Option<ReadFrom>,
    /// Connect timeout per connection attempt (default 1s).
    pub connect_timeout: Option<DurationSpec>,
    /// One deadline per call, retries included (default 1s).
    pub timeout: Option<DurationSpec>,
    /// TCP keepalive idle time (default 60s); `false` or 0 disables it.
    pub tcp_keepalive: Option<DurationSpec>,
    /// Database number selected on every connection (default 0).
    pub db: Option<i64>,
    /// Registry key; default: a fingerprint of the configuration.
    pub persistent_id: Option<String>,
    /// Idle connections kept per node (default 16).
    pub max_idle_connections: Option<usize>,
    /// Retry writes whose outcome is unknown (default false: report indeterminate).
    pub retry_writes: Option<bool>,
    /// `[ring_hash]` settings.
    pub ring_hash: Option<RingHashSpec>,
    /// `[maglev]` settings.
    pub maglev: Option<MaglevSpec>,
    /// `[ketama]` settings.
    pub ketama: Option<KeyHashSpec>,
    /// `[modula]` settings.
    pub modula: Option<KeyHashSpec>,
    /// `[jump]` settings.
    pub jump: Option<KeyHashSpec>,
    /// `[refresh]` settings.
    pub refresh: Option<RefreshSpec>,
    /// `[auth]` settings.
    pub auth: Option<AuthSpec>,
    /// `[tls]` settings.
    pub tls: Option<TlsSpec>,
    /// Named backends (`[backends.NAME]`), each a complete shard set written like the
    /// top level. The top-level nodes, if any, are the backend named `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backends: Option<BTreeMap<String, ConfigSpec>>,
    /// Prefix routes (`[[routes]]`); the longest matching prefix wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteSpec>,
    /// The route of keys no prefix matches (default: the `default` backend, if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catch_all: Option<RouteSpec>,
    /// Match route prefixes ignoring ASCII case (Envoy's `case_insensitive`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routes_case_insensitive: Option<bool>,
    /// Injected faults (`[[faults]]`), off unless listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultSpec>,
}

impl ConfigSpec {
    /// True when the spec uses backends, routes or faults (anything beyond one shard set).
    pub fn has_routing(&self) -> bool {
        self.backends.is_some()
            || !self.routes.is_empty()
            || self.catch_all.is_some()
            || self.routes_case_insensitive.is_some()
            || !self.faults.is_empty()
    }
}
