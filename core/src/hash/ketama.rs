//! twemproxy's ketama continuum (`ketama_update` / `ketama_dispatch`): each node gets
//! `floor(pct × 160 / 4 × live + 1e-10) × 4` points (in C `float` arithmetic), four per MD5
//! digest of `"<name>-<i>"`; a 32-bit key hash goes to the first point ≥ it, wrapping.

use super::twemproxy::md5_digest;

const POINTS_PER_SERVER: f32 = 160.0;
const POINTS_PER_HASH: u32 = 4;

/// A built continuum of `(point, node index)`.
#[derive(Debug, Clone)]
pub struct Ketama {
    points: Vec<(u32, u32)>,
}

impl Ketama {
    /// Build the continuum for nodes given as `(server name, weight)` in configuration order.
    pub fn new(nodes: &[(&str, u32)]) -> Self {
        let total_weight: u32 = nodes.iter().map(|&(_, w)| w).sum();
        let live = nodes.len() as f32;
        let mut points = Vec::new();
        for (index, &(name, weight)) in nodes.iter().enumerate() {
            let pct = weight as f32 / total_weight as f32;
            // C: floorf((float)(pct * 160 / 4 * (float)live + 0.0000000001)) * 4 — the
            // product is float, the addition promotes to double, the cast returns to float.
            let product = pct * POINTS_PER_SERVER / 4.0 * live;
            let sum = (f64::from(product) + 0.000_000_000_1) as f32;
            let per_server = (sum.floor() as u32) * 4;
            for i in 0..per_server / POINTS_PER_HASH {
                let digest = md5_digest(format!("{name}-{i}").as_bytes());
                for x in 0..4 {
                    let w = &digest[x * 4..x * 4 + 4];
                    points.push((u32::from_le_bytes([w[0], w[1], w[2], w[3]]), index as u32));
                }
            }
        }
        // qsort by value; ties between servers are vanishingly rare and unordered in C too.
        points.sort_by_key(|&(v, _)| v);
        Ketama { points }
    }

    /// Node index for a 32-bit key hash.
    #[inline]
    pub fn locate(&self, hash: u32) -> usize {
        let i = self.points.partition_point(|&(v, _)| v < hash);
        let i = if i == self.points.len() { 0 } else { i };
        self.points[i].1 as usize
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when empty (never, for a built one).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// twemproxy's server name for an unnamed server: `host:port`, or just `host` on port
/// 11211 (libmemcached compatibility).
pub fn default_server_name(host: &str, port: u16, addr: &str) -> String {
    if port == 11211 {
        host.to_owned()
    } else {
        addr.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_weights_give_160_points_each() {
        let k = Ketama::new(&[("a:1", 1), ("b:1", 1), ("c:1", 1)]);
        assert_eq!(k.len(), 480);
    }

    #[test]
    fn float_rounding_matches_c() {
        // Weights 1 and 2 over 2 servers: pct 1/3 → floor(26.666…) × 4 = 104; 2/3 → 212.
        let k = Ketama::new(&[("a:1", 1), ("b:1", 2)]);
        assert_eq!(k.len(), 104 + 212);
    }

    #[test]
    fn port_11211_drops_port_from_name() {
        assert_eq!(
            default_server_name("10.0.0.1", 11211, "10.0.0.1:11211"),
            "10.0.0.1"
        );
        assert_eq!(
            default_server_name("10.0.0.1", 6379, "10.0.0.1:6379"),
            "10.0.0.1:6379"
        );
    }
}
