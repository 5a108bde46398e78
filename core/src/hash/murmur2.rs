//! Envoy's `MurmurHash::murmurHash2`: the 64-bit MurmurHash2 of libstdc++'s `_Hash_bytes`
//! (what `std::hash<std::string>` uses), with seed `0xc70f6907`. Envoy's redis_proxy hashes
//! every key (or its hash tag) with it on RING_HASH/MAGLEV upstreams, and `ring_hash`
//! can use it for host hashes (`hash_function: MURMUR_HASH_2`).

/// libstdc++'s `std::hash` seed, Envoy's `MurmurHash::STD_HASH_SEED`.
pub const STD_HASH_SEED: u64 = 0xc70f_6907;

const MUL: u64 = 0xc6a4_a793_5bd1_e995;

#[inline]
fn shift_mix(v: u64) -> u64 {
    v ^ (v >> 47)
}

/// 64-bit MurmurHash2 as in libstdc++ (`_Hash_bytes`).
#[inline]
pub fn murmur_hash2_64(data: &[u8], seed: u64) -> u64 {
    let len = data.len();
    let aligned = len & !7;
    let mut hash = seed ^ (len as u64).wrapping_mul(MUL);
    for chunk in data[..aligned].chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let data = shift_mix(u64::from_le_bytes(word).wrapping_mul(MUL)).wrapping_mul(MUL);
        hash ^= data;
        hash = hash.wrapping_mul(MUL);
    }
    if len & 7 != 0 {
        let tail = data[aligned..]
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        hash ^= tail;
        hash = hash.wrapping_mul(MUL);
    }
    hash = shift_mix(hash).wrapping_mul(MUL);
    shift_mix(hash)
}

/// Envoy's key hash: `murmurHash2(key, STD_HASH_SEED)`.
#[inline]
pub fn envoy_key_hash(data: &[u8]) -> u64 {
    murmur_hash2_64(data, STD_HASH_SEED)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values printed by `std::hash<std::string>{}(s)` from g++ 12 / libstdc++ on x86_64.
    #[test]
    fn matches_libstdcxx_std_hash() {
        for (input, expected) in crate::hash::vectors::STD_HASH {
            assert_eq!(envoy_key_hash(input.as_bytes()), *expected, "{input:?}");
        }
    }
}
