//! twemproxy's modula distribution: one slot per unit of weight, servers in twemproxy's
//! order; a 32-bit key hash goes to slot `hash mod slots`.

/// Weighted slots of node indices.
#[derive(Debug, Clone)]
pub struct Modula {
    slots: Vec<u32>,
}

impl Modula {
    /// Build from `(node index, weight)` in slot order.
    pub fn new(nodes: &[(usize, u32)]) -> Self {
        let slots = nodes
            .iter()
            .flat_map(|&(i, w)| std::iter::repeat_n(i as u32, w as usize))
            .collect();
        Modula { slots }
    }

    /// Node index for a 32-bit key hash.
    #[inline]
    pub fn locate(&self, hash: u32) -> usize {
        self.slots[(hash as usize) % self.slots.len()] as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_repeat_slots() {
        let m = Modula::new(&[(0, 1), (1, 2)]);
        assert_eq!(
            (0..3).map(|h| m.locate(h)).collect::<Vec<_>>(),
            vec![0, 1, 1]
        );
    }
}
