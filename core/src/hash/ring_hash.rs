//! Envoy's RING_HASH load balancer (`RingHashLoadBalancer::Ring`), entry for entry: a node
//! gets `scale × normalised weight` ring entries named `"<host key>_<i>"`, hashed with XXH64
//! (seed 0) or, with `hash_function: MURMUR_HASH_2`, Envoy's murmurHash2. A key goes to the
//! first entry whose hash is ≥ the key's hash, wrapping around.

use crate::config::HashFunction;

use super::murmur2::{STD_HASH_SEED, murmur_hash2_64};

/// A built ring: sorted `(hash, node index)` entries.
#[derive(Debug, Clone)]
pub struct RingHash {
    entries: Vec<(u64, u32)>,
}

impl RingHash {
    /// Build the ring for nodes given as `(host key, weight)` in configuration order.
    pub fn new(
        nodes: &[(&str, u32)],
        min_ring_size: u64,
        max_ring_size: u64,
        hash: HashFunction,
    ) -> Self {
        let total: f64 = nodes.iter().map(|&(_, w)| f64::from(w)).sum();
        let normalised: Vec<f64> = nodes.iter().map(|&(_, w)| f64::from(w) / total).collect();
        let min_w = normalised.iter().copied().fold(f64::INFINITY, f64::min);
        let scale = ((min_w * min_ring_size as f64).ceil() / min_w).min(max_ring_size as f64);
        let mut entries = Vec::with_capacity(scale.ceil() as usize + nodes.len());
        let mut current = 0.0f64;
        let mut target = 0.0f64;
        let mut name = Vec::with_capacity(64);
        for (index, (&(key, _), &w)) in nodes.iter().zip(&normalised).enumerate() {
            target += scale * w;
            let mut i: u64 = 0;
            while current < target {
                name.clear();
                name.extend_from_slice(key.as_bytes());
                name.push(b'_');
                name.extend_from_slice(i.to_string().as_bytes());
                let h = match hash {
                    HashFunction::MurmurHash2 => murmur_hash2_64(&name, STD_HASH_SEED),
                    _ => xxhash_rust::xxh64::xxh64(&name, 0),
                };
                entries.push((h, index as u32));
                i += 1;
                current += 1.0;
            }
        }
        // Envoy sorts by hash only; equal 64-bit hashes do not occur in practice, and the
        // stable sort keeps configuration order if they ever do.
        entries.sort_by_key(|&(h, _)| h);
        RingHash { entries }
    }

    /// Node index for a key hash.
    #[inline]
    pub fn locate(&self, hash: u64) -> usize {
        let i = self.entries.partition_point(|&(h, _)| h < hash);
        let i = if i == self.entries.len() { 0 } else { i };
        self.entries[i].1 as usize
    }

    /// Ring size.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty (never, for a built one).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries per node index.
    pub fn entries_per_node(&self, nodes: usize) -> Vec<usize> {
        let mut counts = vec![0; nodes];
        for &(_, n) in &self.entries {
            counts[n as usize] += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_equal_hosts_make_1026_entries() {
        // ENVOY.md: "Three equal hosts give a ring of 1026 entries."
        let nodes = [
            ("127.0.0.1:7001", 1),
            ("127.0.0.1:7002", 1),
            ("127.0.0.1:7003", 1),
        ];
        let ring = RingHash::new(&nodes, 1024, 8 << 20, HashFunction::XxHash);
        assert_eq!(ring.len(), 1026);
        assert_eq!(ring.entries_per_node(3), vec![342, 342, 342]);
    }

    #[test]
    fn weights_scale_entries() {
        let nodes = [("a:1", 1), ("b:1", 3)];
        let ring = RingHash::new(&nodes, 1024, 8 << 20, HashFunction::XxHash);
        let counts = ring.entries_per_node(2);
        // scale = ceil(0.25 × 1024) / 0.25 = 1024 entries in all, split 1:3.
        assert_eq!(counts, vec![256, 768]);
    }

    #[test]
    fn lookup_wraps_to_first_entry() {
        let ring = RingHash::new(&[("a:1", 1), ("b:1", 1)], 4, 8 << 20, HashFunction::XxHash);
        let first = ring.entries[0].1 as usize;
        assert_eq!(ring.locate(u64::MAX), first);
        assert_eq!(ring.locate(0), first);
    }
}
