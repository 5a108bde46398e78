//! SCAN across nodes with one cursor: `cursor = node_cursor × node_count + node_index`.
//! Cursor 0 starts at node 0; when a node's own cursor returns to 0 the walk moves to the
//! next node, and 0 is returned after the last one, so every key is seen exactly as a
//! single-node SCAN would guarantee, node by node.

use crate::error::{Error, ErrorKind, Result};

/// Split a client cursor into `(node index, node cursor)`.
pub(crate) fn decode(cursor: &[u8], nodes: usize) -> Result<(usize, u64)> {
    let c: u64 = std::str::from_utf8(cursor)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "invalid cursor"))?;
    let n = nodes as u64;
    Ok(((c % n) as usize, c / n))
}

/// The client cursor after node `index` answered `next` (its own next cursor).
pub(crate) fn encode(index: usize, next: u64, nodes: usize) -> Result<u64> {
    let n = nodes as u64;
    let (index, next) = if next == 0 {
        if index + 1 >= nodes {
            return Ok(0);
        }
        (index as u64 + 1, 0)
    } else {
        (index as u64, next)
    };
    next.checked_mul(n)
        .and_then(|v| v.checked_add(index))
        .ok_or_else(|| Error::new(ErrorKind::Protocol, "node cursor too large to combine"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_every_node_and_ends_at_zero() {
        assert_eq!(decode(b"0", 3).unwrap(), (0, 0));
        // node 0 continues at its cursor 17
        let c = encode(0, 17, 3).unwrap();
        assert_eq!(decode(c.to_string().as_bytes(), 3).unwrap(), (0, 17));
        // node 0 done → node 1 from 0
        let c = encode(0, 0, 3).unwrap();
        assert_eq!(decode(c.to_string().as_bytes(), 3).unwrap(), (1, 0));
        // last node done → 0
        assert_eq!(encode(2, 0, 3).unwrap(), 0);
        assert!(decode(b"abc", 3).is_err());
    }
}
