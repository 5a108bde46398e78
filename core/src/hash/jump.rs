//! Jump consistent hash (Lamping & Veach, 2014): a 64-bit key hash to one of `n` buckets,
//! moving only `1/n` of the keys when a bucket is added at the end.

/// Bucket in `0..buckets` for `key`.
#[inline]
pub fn jump_hash(mut key: u64, buckets: usize) -> usize {
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < buckets as i64 {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values() {
        // Printed by the paper's C reference implementation (gcc 12, x86-64).
        assert_eq!(jump_hash(0, 100), 0);
        assert_eq!(jump_hash(1, 10), 6);
        assert_eq!(jump_hash(1, 100), 55);
        assert_eq!(jump_hash(1, 1000), 549);
        assert_eq!(jump_hash(10863919174838991, 1000), 830);
        assert_eq!(jump_hash(10863919174838991, 11), 6);
        assert_eq!(jump_hash(2016238256797177309, 11), 3);
        assert_eq!(jump_hash(1673758223894951030, 11), 5);
    }

    #[test]
    fn adding_a_bucket_moves_about_one_nth() {
        let moved = (0..10_000u64)
            .map(|k| k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .filter(|&k| jump_hash(k, 10) != jump_hash(k, 11))
            .count();
        assert!((700..1100).contains(&moved), "{moved}");
    }
}
