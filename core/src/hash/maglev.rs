//! Envoy's MAGLEV load balancer (`MaglevTable`, the paper's listing 1 with Envoy's weights):
//! nodes sorted by host key; each takes positions `(offset + skip × next) mod M` of its
//! permutation in turn, weighted by `target += max_weight` rounds. A key goes to
//! `table[hash mod M]`.

/// A built Maglev lookup table of node indices.
#[derive(Debug, Clone)]
pub struct Maglev {
    table: Vec<u16>,
}

impl Maglev {
    /// Build the table for nodes given as `(host key, weight)` in configuration order.
    /// `table_size` must be prime (checked by config validation); at most 65535 nodes.
    pub fn new(nodes: &[(&str, u32)], table_size: u64) -> Self {
        let total: f64 = nodes.iter().map(|&(_, w)| f64::from(w)).sum();
        struct Entry {
            node: u16,
            offset: u64,
            skip: u64,
            weight: f64,
            target: f64,
            next: u64,
        }
        let mut order: Vec<usize> = (0..nodes.len()).collect();
        order.sort_by(|&a, &b| nodes[a].0.as_bytes().cmp(nodes[b].0.as_bytes()));
        let mut entries: Vec<Entry> = order
            .iter()
            .map(|&i| {
                let key = nodes[i].0.as_bytes();
                Entry {
                    node: i as u16,
                    offset: xxhash_rust::xxh64::xxh64(key, 0) % table_size,
                    skip: xxhash_rust::xxh64::xxh64(key, 1) % (table_size - 1) + 1,
                    weight: f64::from(nodes[i].1) / total,
                    target: 0.0,
                    next: 0,
                }
            })
            .collect();
        let max_weight = entries.iter().map(|e| e.weight).fold(0.0, f64::max);

        const EMPTY: u16 = u16::MAX;
        let size = table_size as usize;
        let mut table = vec![EMPTY; size];
        let mut filled = 0usize;
        let mut iteration: u32 = 1;
        while filled < size {
            for e in entries.iter_mut() {
                if filled >= size {
                    break;
                }
                if f64::from(iteration) * e.weight < e.target {
                    continue;
                }
                e.target += max_weight;
                let mut c = (e.offset + e.skip * e.next) % table_size;
                while table[c as usize] != EMPTY {
                    e.next += 1;
                    c = (e.offset + e.skip * e.next) % table_size;
                }
                table[c as usize] = e.node;
                e.next += 1;
                filled += 1;
            }
            iteration += 1;
        }
        Maglev { table }
    }

    /// Node index for a key hash.
    #[inline]
    pub fn locate(&self, hash: u64) -> usize {
        self.table[(hash % self.table.len() as u64) as usize] as usize
    }

    /// Table entries per node index.
    pub fn entries_per_node(&self, nodes: usize) -> Vec<usize> {
        let mut counts = vec![0; nodes];
        for &n in &self.table {
            counts[n as usize] += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_equal_hosts_split_the_table() {
        // ENVOY.md / SCENARIOS S1: 21846/21846/21845 of 65537 for three equal hosts.
        let nodes = [
            ("127.0.0.1:7001", 1),
            ("127.0.0.1:7002", 1),
            ("127.0.0.1:7003", 1),
        ];
        let m = Maglev::new(&nodes, 65537);
        let mut counts = m.entries_per_node(3);
        counts.sort_unstable();
        assert_eq!(counts, vec![21845, 21846, 21846]);
    }

    #[test]
    fn weights_are_proportional() {
        let m = Maglev::new(&[("a:1", 1), ("b:1", 2)], 65537);
        let c = m.entries_per_node(2);
        assert!((c[1] as f64 / c[0] as f64 - 2.0).abs() < 0.01, "{c:?}");
    }
}
