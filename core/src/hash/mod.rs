//! Key → position: hash tags, the key hash, and each placement algorithm. Pure functions
//! and immutable tables, no I/O; unit-tested without a server and checked against the
//! real Envoy and nutcracker binaries by the integration tests.

pub mod jump;
pub mod ketama;
pub mod maglev;
pub mod modula;
pub mod murmur2;
pub mod ring_hash;
pub mod slot;
pub mod tag;
pub mod twemproxy;
#[cfg(test)]
mod vectors;

use crate::config::{Config, HashFunction, Mode};

/// Where keys go on a fixed list of standalone nodes.
#[derive(Debug, Clone)]
pub enum Placement {
    /// Envoy RING_HASH.
    RingHash(ring_hash::RingHash),
    /// Envoy MAGLEV.
    Maglev(maglev::Maglev),
    /// twemproxy ketama with its key hash.
    Ketama(ketama::Ketama, HashFunction),
    /// twemproxy modula with its key hash.
    Modula(modula::Modula, HashFunction),
    /// Jump consistent hash over `n` nodes with a key hash.
    Jump(usize, HashFunction),
}

impl Placement {
    /// Build the placement for a standalone mode (`None` for cluster mode).
    pub fn build(config: &Config) -> Option<Placement> {
        let nodes = config.nodes();
        let envoy_keys: Vec<(&str, u32)> = nodes
            .iter()
            .map(|n| (n.name.as_deref().unwrap_or(&n.addr), n.weight))
            .collect();
        Some(match config.mode() {
            Mode::Cluster => return None,
            Mode::RingHash => {
                let r = config.ring_hash;
                Placement::RingHash(ring_hash::RingHash::new(
                    &envoy_keys,
                    r.min_ring_size,
                    r.max_ring_size,
                    r.hash_function,
                ))
            }
            Mode::Maglev => {
                Placement::Maglev(maglev::Maglev::new(&envoy_keys, config.maglev_table_size))
            }
            Mode::Ketama => {
                let names = twemproxy_names(config);
                let servers: Vec<(&str, u32)> = names
                    .iter()
                    .zip(nodes)
                    .map(|(name, n)| (name.as_str(), n.weight))
                    .collect();
                Placement::Ketama(ketama::Ketama::new(&servers), config.key_hash)
            }
            Mode::Modula => {
                // twemproxy sorts its servers by name (length first, then bytes) while
                // checking for duplicates; modula slots follow that order.
                let mut order: Vec<(String, usize)> = twemproxy_names(config)
                    .into_iter()
                    .enumerate()
                    .map(|(i, n)| (n, i))
                    .collect();
                order.sort_by(|(a, _), (b, _)| {
                    a.len()
                        .cmp(&b.len())
                        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
                });
                let slots: Vec<(usize, u32)> =
                    order.iter().map(|&(_, i)| (i, nodes[i].weight)).collect();
                Placement::Modula(modula::Modula::new(&slots), config.key_hash)
            }
            Mode::Jump => Placement::Jump(nodes.len(), config.key_hash),
        })
    }

    /// Node index for the hashed part of a key (tag already extracted).
    #[inline]
    pub fn locate(&self, hashed: &[u8]) -> usize {
        match self {
            Placement::RingHash(r) => r.locate(murmur2::envoy_key_hash(hashed)),
            Placement::Maglev(m) => m.locate(murmur2::envoy_key_hash(hashed)),
            Placement::Ketama(k, f) => k.locate(twemproxy::hash32(*f, hashed)),
            Placement::Modula(m, f) => m.locate(twemproxy::hash32(*f, hashed)),
            Placement::Jump(n, f) => jump::jump_hash(key_hash64(*f, hashed), *n),
        }
    }
}

/// twemproxy's name of each node: its configured name, else `host:port`.
fn twemproxy_names(config: &Config) -> Vec<String> {
    config
        .nodes()
        .iter()
        .map(|n| match &n.name {
            Some(name) => name.clone(),
            None => ketama::default_server_name(&n.host, n.port, &n.addr),
        })
        .collect()
}

/// A 64-bit key hash for `jump` (32-bit functions are widened).
fn key_hash64(f: HashFunction, data: &[u8]) -> u64 {
    match f {
        HashFunction::MurmurHash2 => murmur2::envoy_key_hash(data),
        HashFunction::XxHash => xxhash_rust::xxh64::xxh64(data, 0),
        other => u64::from(twemproxy::hash32(other, data)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_key_hashes_like_libstdcxx() {
        let (input, expected) = vectors::STD_HASH_BINARY;
        assert_eq!(murmur2::envoy_key_hash(input), expected);
    }
}
