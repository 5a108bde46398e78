//! [`ConfigSpec`] → [`Config`]: defaults, and every check that can fail, each naming its key.

use std::collections::HashSet;
use std::time::Duration;

use super::spec::{ConfigSpec, HashFunction, HashTagsSpec, Mode, NodeSpec, ReadFrom};
use super::{
    Auth, Config, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAGLEV_TABLE_SIZE, DEFAULT_MAX_IDLE_CONNECTIONS,
    DEFAULT_MAX_RING_SIZE, DEFAULT_MIN_RING_SIZE, DEFAULT_REFRESH_INTERVAL, DEFAULT_TCP_KEEPALIVE,
    DEFAULT_TIMEOUT, NodeConfig, RefreshConfig, RingHashConfig, Secret,
};
use crate::error::{Error, Result};

/// Envoy rejects rings larger than this (`maximum_ring_size` ≤ 8M).
const ENVOY_MAX_RING_SIZE: u64 = 8 * 1024 * 1024;
/// Upper bound for a Maglev table (memory: one u32 per entry).
const MAX_MAGLEV_TABLE_SIZE: u64 = 5_000_011;

/// Validate a spec of one shard set (no backends, routes or faults: `routing` checks those
/// and calls this for each backend).
pub(super) fn validate(spec: ConfigSpec) -> Result<Config> {
    let mode = spec.mode.ok_or_else(|| {
        Error::config(
            "mode",
            "missing (cluster | ring_hash | maglev | ketama | modula | jump)",
        )
    })?;
    let nodes = validate_nodes(mode, &spec.nodes)?;

    let hash_tags = match (&spec.hash_tags, mode) {
        (Some(HashTagsSpec::Enabled(false)), Mode::Cluster) => {
            return Err(Error::config(
                "hash_tags",
                "cannot be false in cluster mode (Redis Cluster always hashes {tags})",
            ));
        }
        (Some(HashTagsSpec::Delimiters(d)), Mode::Cluster) if d != "{}" => {
            return Err(Error::config(
                "hash_tags",
                "cluster mode uses the {} delimiters of Redis Cluster",
            ));
        }
        (None, Mode::Cluster) | (Some(HashTagsSpec::Enabled(true)), _) => Some(*b"{}"),
        (None, _) | (Some(HashTagsSpec::Enabled(false)), _) => None,
        (Some(HashTagsSpec::Delimiters(d)), _) => {
            let b = d.as_bytes();
            if b.len() != 2 {
                return Err(Error::config(
                    "hash_tags",
                    format!(
                        "{d:?} must be true, false or exactly two delimiter characters such as \"{{}}\""
                    ),
                ));
            }
            Some([b[0], b[1]])
        }
    };

    let read_from = spec.read_from.unwrap_or_default();
    if mode != Mode::Cluster && read_from == ReadFrom::Replica {
        return Err(Error::config(
            "read_from",
            format!(
                "\"replica\" needs replicas, which mode {} does not have (use cluster mode)",
                mode.as_str()
            ),
        ));
    }

    let connect_timeout = positive(
        &spec.connect_timeout,
        "connect_timeout",
        DEFAULT_CONNECT_TIMEOUT,
    )?;
    let timeout = positive(&spec.timeout, "timeout", DEFAULT_TIMEOUT)?;
    let tcp_keepalive = match &spec.tcp_keepalive {
        None => Some(DEFAULT_TCP_KEEPALIVE),
        Some(d) => d.resolve("tcp_keepalive", true)?,
    };
    if let Some(k) = tcp_keepalive
        && k < Duration::from_secs(1)
    {
        return Err(Error::config(
            "tcp_keepalive",
            "must be at least 1s (or false to disable)",
        ));
    }

    let db = spec.db.unwrap_or(0);
    if db < 0 {
        return Err(Error::config("db", format!("{db} is negative")));
    }
    if db != 0 && mode == Mode::Cluster {
        return Err(Error::config("db", "Redis Cluster only has database 0"));
    }

    if let Some(id) = &spec.persistent_id
        && (id.is_empty() || id.len() > 256 || id.chars().any(char::is_control))
    {
        return Err(Error::config(
            "persistent_id",
            "must be 1 to 256 printable characters",
        ));
    }

    let max_idle_connections = spec
        .max_idle_connections
        .unwrap_or(DEFAULT_MAX_IDLE_CONNECTIONS);
    if max_idle_connections > 4096 {
        return Err(Error::config(
            "max_idle_connections",
            format!("{max_idle_connections} is more than 4096"),
        ));
    }

    let ring_hash = validate_ring_hash(&spec)?;
    let maglev_table_size = validate_maglev(&spec)?;
    let key_hash = validate_key_hash(&spec, mode, &nodes)?;
    let refresh = validate_refresh(&spec)?;
    let auth = validate_auth(spec.auth.as_ref())?;
    let tls = super::tls::validate(spec.tls.as_ref())?;

    // Sections for another mode are very likely a mistake (a copy-pasted config).
    let stray = [
        ("ring_hash", spec.ring_hash.is_some(), Mode::RingHash),
        ("maglev", spec.maglev.is_some(), Mode::Maglev),
        ("ketama", spec.ketama.is_some(), Mode::Ketama),
        ("modula", spec.modula.is_some(), Mode::Modula),
        ("jump", spec.jump.is_some(), Mode::Jump),
        ("refresh", spec.refresh.is_some(), Mode::Cluster),
    ];
    for (key, present, owner) in stray {
        if present && owner != mode {
            return Err(Error::config(
                key,
                format!(
                    "section applies to mode {}, but mode is {}",
                    owner.as_str(),
                    mode.as_str()
                ),
            ));
        }
    }

    Ok(Config {
        mode,
        nodes,
        hash_tags,
        read_from,
        connect_timeout,
        timeout,
        tcp_keepalive,
        db,
        persistent_id: spec.persistent_id,
        max_idle_connections,
        retry_writes: spec.retry_writes.unwrap_or(false),
        ring_hash,
        maglev_table_size,
        key_hash,
        refresh,
        auth,
        tls,
        routing: None,
    })
}

fn validate_auth(spec: Option<&super::AuthSpec>) -> Result<Option<Auth>> {
    let Some(a) = spec else {
        return Ok(None);
    };
    let password = match (&a.password, &a.password_file) {
        (Some(_), Some(_)) => {
            return Err(Error::config(
                "auth.password_file",
                "give auth.password or auth.password_file, not both",
            ));
        }
        (Some(p), None) => p.clone(),
        (None, Some(path)) => read_password_file(path)?,
        (None, None) => {
            return Err(Error::config(
                "auth.password",
                "missing (auth needs a password or a password_file)",
            ));
        }
    };
    if let Some(u) = &a.username
        && (u.is_empty() || u.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(Error::config(
            "auth.username",
            "must be non-empty without spaces",
        ));
    }
    Ok(Some(Auth {
        username: a.username.clone(),
        password: Secret(password),
    }))
}

/// A secret file as Docker/Kubernetes mount them: the password, maybe a final newline.
/// Its contents never appear in an error.
fn read_password_file(path: &str) -> Result<String> {
    let key = "auth.password_file";
    let bytes =
        std::fs::read(path).map_err(|e| Error::config(key, format!("cannot read {path}: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::config(key, format!("{path} is not UTF-8 text")))?;
    let password = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(&text);
    if password.is_empty() {
        return Err(Error::config(key, format!("{path} is empty")));
    }
    if password.contains(['\n', '\r']) {
        return Err(Error::config(
            key,
            format!("{path} holds more than one line (expected just the password)"),
        ));
    }
    Ok(password.to_owned())
}

fn positive(spec: &Option<super::DurationSpec>, key: &str, default: Duration) -> Result<Duration> {
    match spec {
        None => Ok(default),
        Some(d) => match d.resolve(key, false)? {
            Some(v) if !v.is_zero() => Ok(v),
            _ => Err(Error::config(key, "must be greater than 0")),
        },
    }
}

/// Split `host:port` (`[v6]:port` for IPv6).
pub(crate) fn split_addr(addr: &str) -> std::result::Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
        let (h, p) = rest
            .split_once("]:")
            .ok_or_else(|| format!("{addr:?} is not [ipv6]:port"))?;
        (h, p)
    } else {
        addr.rsplit_once(':')
            .ok_or_else(|| format!("{addr:?} is not host:port"))?
    };
    if host.is_empty()
        || host
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == ',')
    {
        return Err(format!("{addr:?} has no valid host"));
    }
    if !addr.starts_with('[') && host.contains(':') {
        return Err(format!("{addr:?}: write IPv6 addresses as [addr]:port"));
    }
    let port: u32 = port
        .parse()
        .map_err(|_| format!("{addr:?}: port {port:?} is not a number"))?;
    if port == 0 || port > 65535 {
        return Err(format!("{addr:?}: port {port} is out of range 1-65535"));
    }
    Ok((host.to_owned(), port as u16))
}

fn validate_nodes(mode: Mode, specs: &[NodeSpec]) -> Result<Vec<NodeConfig>> {
    if specs.is_empty() {
        return Err(Error::config("nodes", "at least one node is required"));
    }
    let mut seen_addr = HashSet::new();
    let mut seen_name = HashSet::new();
    let mut nodes = Vec::with_capacity(specs.len());
    for (i, n) in specs.iter().enumerate() {
        let (host, port) =
            split_addr(&n.addr).map_err(|p| Error::config(&format!("nodes[{i}].addr"), p))?;
        let weight = n.weight.unwrap_or(1);
        if weight == 0 {
            return Err(Error::config(
                &format!("nodes[{i}].weight"),
                "must be at least 1",
            ));
        }
        if weight > 1_000_000 {
            return Err(Error::config(
                &format!("nodes[{i}].weight"),
                format!("{weight} is more than 1000000"),
            ));
        }
        if mode == Mode::Cluster && (n.weight.is_some() || n.name.is_some()) {
            return Err(Error::config(
                &format!("nodes[{i}]"),
                "weight and name do not apply to cluster seeds (slots decide placement)",
            ));
        }
        if let Some(name) = &n.name {
            if name.is_empty()
                || name.len() > 200
                || name.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(Error::config(
                    &format!("nodes[{i}].name"),
                    "must be 1 to 200 characters without spaces",
                ));
            }
            if !seen_name.insert(name.clone()) {
                return Err(Error::config(
                    &format!("nodes[{i}].name"),
                    format!("{name:?} is used twice"),
                ));
            }
        }
        if !seen_addr.insert(n.addr.to_ascii_lowercase()) {
            return Err(Error::config(
                &format!("nodes[{i}].addr"),
                format!("{:?} is listed twice", n.addr),
            ));
        }
        nodes.push(NodeConfig {
            addr: n.addr.clone(),
            host,
            port,
            weight,
            name: n.name.clone(),
        });
    }
    Ok(nodes)
}

fn validate_ring_hash(spec: &ConfigSpec) -> Result<RingHashConfig> {
    let r = spec.ring_hash.clone().unwrap_or_default();
    let min = r.min_ring_size.unwrap_or(DEFAULT_MIN_RING_SIZE);
    let max = r.max_ring_size.unwrap_or(DEFAULT_MAX_RING_SIZE);
    if min == 0 {
        return Err(Error::config(
            "ring_hash.min_ring_size",
            "must be at least 1",
        ));
    }
    if max > ENVOY_MAX_RING_SIZE {
        return Err(Error::config(
            "ring_hash.max_ring_size",
            format!("{max} exceeds Envoy's limit of 8388608"),
        ));
    }
    if min > max {
        return Err(Error::config(
            "ring_hash.min_ring_size",
            format!("{min} is larger than max_ring_size {max}"),
        ));
    }
    let hash_function = r.hash_function.unwrap_or(HashFunction::XxHash);
    if !matches!(
        hash_function,
        HashFunction::XxHash | HashFunction::MurmurHash2
    ) {
        return Err(Error::config(
            "ring_hash.hash_function",
            format!(
                "{:?} is not one of Envoy's: xx_hash, murmur_hash_2",
                hash_function.as_str()
            ),
        ));
    }
    Ok(RingHashConfig {
        min_ring_size: min,
        max_ring_size: max,
        hash_function,
    })
}

fn validate_maglev(spec: &ConfigSpec) -> Result<u64> {
    let size = spec
        .maglev
        .as_ref()
        .and_then(|m| m.table_size)
        .unwrap_or(DEFAULT_MAGLEV_TABLE_SIZE);
    if size > MAX_MAGLEV_TABLE_SIZE {
        return Err(Error::config(
            "maglev.table_size",
            format!("{size} is larger than {MAX_MAGLEV_TABLE_SIZE}"),
        ));
    }
    if !is_prime(size) {
        return Err(Error::config(
            "maglev.table_size",
            format!("{size} is not a prime number"),
        ));
    }
    Ok(size)
}

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 1;
    }
    true
}

fn validate_key_hash(spec: &ConfigSpec, mode: Mode, nodes: &[NodeConfig]) -> Result<HashFunction> {
    let (key, configured, default) = match mode {
        Mode::Ketama => (
            "ketama.hash",
            spec.ketama.as_ref().and_then(|k| k.hash),
            HashFunction::Fnv1a64,
        ),
        Mode::Modula => (
            "modula.hash",
            spec.modula.as_ref().and_then(|k| k.hash),
            HashFunction::Fnv1a64,
        ),
        Mode::Jump => (
            "jump.hash",
            spec.jump.as_ref().and_then(|k| k.hash),
            HashFunction::MurmurHash2,
        ),
        // Envoy hashes keys with murmur_hash_2; cluster mode uses CRC16 slots.
        _ => return Ok(HashFunction::MurmurHash2),
    };
    let hash = configured.unwrap_or(default);
    if mode != Mode::Jump && !hash.is_twemproxy() {
        return Err(Error::config(
            key,
            format!(
                "{:?} is not a twemproxy hash (one_at_a_time, md5, crc16, crc32, crc32a, fnv1_64, fnv1a_64, fnv1_32, fnv1a_32, hsieh, murmur, jenkins)",
                hash.as_str()
            ),
        ));
    }
    if mode == Mode::Jump
        && let Some(i) = nodes.iter().position(|n| n.weight != 1)
    {
        return Err(Error::config(
            &format!("nodes[{i}].weight"),
            "mode jump places keys on equally weighted nodes; remove the weight or use ring_hash/maglev/ketama",
        ));
    }
    Ok(hash)
}

fn validate_refresh(spec: &ConfigSpec) -> Result<RefreshConfig> {
    let r = spec.refresh.clone().unwrap_or_default();
    let interval = match &r.interval {
        None => Some(DEFAULT_REFRESH_INTERVAL),
        Some(d) => d.resolve("refresh.interval", true)?,
    };
    Ok(RefreshConfig {
        interval,
        on_redirects: r.on_redirects.unwrap_or(1),
        on_failures: r.on_failures.unwrap_or(1),
    })
}
