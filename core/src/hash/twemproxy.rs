//! twemproxy's key hash functions (`hash:` in a nutcracker pool), bit-for-bit, including
//! its C quirks: keys are `const char *`, so where twemproxy widens a byte without a cast
//! to `unsigned char` a byte ≥ 0x80 is sign-extended (x86-64 `char` is signed). Verified
//! against the real nutcracker 0.5.0 binary by the placement tests in `tests/`.

use md5::{Digest, Md5};

use crate::config::HashFunction;

const FNV_64_INIT: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_64_PRIME: u64 = 0x0000_0100_0000_01b3;
const FNV_32_INIT: u32 = 2_166_136_261;
const FNV_32_PRIME: u32 = 16_777_619;

/// A C `char` (signed on x86-64) widened to `u32`, as `(uint32_t)key[i]` does.
#[inline]
fn sext32(b: u8) -> u32 {
    b as i8 as i32 as u32
}

/// A C `char` widened to `u64`, as `(uint64_t)key[i]` does.
#[inline]
fn sext64(b: u8) -> u64 {
    b as i8 as i64 as u64
}

/// Hash `key` with twemproxy's function `f` (32-bit result).
pub fn hash32(f: HashFunction, key: &[u8]) -> u32 {
    match f {
        HashFunction::OneAtATime => one_at_a_time(key),
        HashFunction::Md5 => md5_hash(key),
        HashFunction::Crc16 => crc16_twemproxy(key),
        HashFunction::Crc32 => (crc32fast::hash(key) >> 16) & 0x7fff,
        HashFunction::Crc32a => crc32fast::hash(key),
        HashFunction::Fnv164 => fnv1_64(key),
        HashFunction::Fnv1a64 => fnv1a_64(key),
        HashFunction::Fnv132 => fnv1_32(key),
        HashFunction::Fnv1a32 => fnv1a_32(key),
        HashFunction::Hsieh => hsieh(key),
        HashFunction::Murmur => murmur32(key),
        HashFunction::Jenkins => jenkins(key),
        // Not twemproxy functions; config validation keeps them out of ketama/modula.
        HashFunction::MurmurHash2 => super::murmur2::envoy_key_hash(key) as u32,
        HashFunction::XxHash => xxhash_rust::xxh64::xxh64(key, 0) as u32,
    }
}

/// The MD5 digest of `data` (ketama points and the `md5` key hash).
pub fn md5_digest(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

fn md5_hash(key: &[u8]) -> u32 {
    let d = md5_digest(key);
    u32::from_le_bytes([d[0], d[1], d[2], d[3]])
}

fn one_at_a_time(key: &[u8]) -> u32 {
    let mut v: u32 = 0;
    for &b in key {
        v = v.wrapping_add(sext32(b));
        v = v.wrapping_add(v << 10);
        v ^= v >> 6;
    }
    v = v.wrapping_add(v << 3);
    v ^= v >> 11;
    v.wrapping_add(v << 15)
}

fn fnv1_64(key: &[u8]) -> u32 {
    let mut h = FNV_64_INIT;
    for &b in key {
        h = h.wrapping_mul(FNV_64_PRIME);
        h ^= sext64(b);
    }
    h as u32
}

fn fnv1a_64(key: &[u8]) -> u32 {
    // twemproxy does this one in 32-bit arithmetic on the truncated 64-bit constants.
    let mut h = FNV_64_INIT as u32;
    for &b in key {
        h ^= sext32(b);
        h = h.wrapping_mul(FNV_64_PRIME as u32);
    }
    h
}

fn fnv1_32(key: &[u8]) -> u32 {
    let mut h = FNV_32_INIT;
    for &b in key {
        h = h.wrapping_mul(FNV_32_PRIME);
        h ^= sext32(b);
    }
    h
}

fn fnv1a_32(key: &[u8]) -> u32 {
    let mut h = FNV_32_INIT;
    for &b in key {
        h ^= sext32(b);
        h = h.wrapping_mul(FNV_32_PRIME);
    }
    h
}

/// The CRC-16/XMODEM table (polynomial 0x1021), as twemproxy 0.5.0's `crc16tab`.
const CRC16_XMODEM_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc & 0xffff;
        i += 1;
    }
    table
};

/// twemproxy 0.5.0's `crc16`: the XMODEM table update, but on a `uint32_t` that is never
/// masked to 16 bits, so long keys give values above 0xffff (later twemproxy versions
/// switched to CRC-16/ARC; Debian ships 0.5.0).
fn crc16_twemproxy(key: &[u8]) -> u32 {
    let mut crc: u32 = 0;
    for &b in key {
        crc = (crc << 8) ^ CRC16_XMODEM_TABLE[(((crc >> 8) ^ sext32(b)) & 0xff) as usize];
    }
    crc
}

/// libmemcached's 32-bit MurmurHash2 with seed `0xdeadbeef * len`.
fn murmur32(key: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    let len = key.len() as u32;
    let seed = 0xdead_beefu32.wrapping_mul(len);
    let mut h = seed ^ len;
    let mut chunks = key.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^ (h >> 15)
}

fn get16(k: &[u8]) -> u32 {
    u32::from(k[0]) | (u32::from(k[1]) << 8)
}

/// Paul Hsieh's SuperFastHash as twemproxy has it (one sign-extended byte in the 3-byte tail).
fn hsieh(key: &[u8]) -> u32 {
    if key.is_empty() {
        return 0;
    }
    let mut hash: u32 = 0;
    let mut chunks = key.chunks_exact(4);
    for c in &mut chunks {
        hash = hash.wrapping_add(get16(c));
        let tmp = (get16(&c[2..]) << 11) ^ hash;
        hash = (hash << 16) ^ tmp;
        hash = hash.wrapping_add(hash >> 11);
    }
    let rest = chunks.remainder();
    match rest.len() {
        3 => {
            hash = hash.wrapping_add(get16(rest));
            hash ^= hash << 16;
            hash ^= sext32(rest[2]) << 18;
            hash = hash.wrapping_add(hash >> 11);
        }
        2 => {
            hash = hash.wrapping_add(get16(rest));
            hash ^= hash << 11;
            hash = hash.wrapping_add(hash >> 17);
        }
        1 => {
            hash = hash.wrapping_add(u32::from(rest[0]));
            hash ^= hash << 10;
            hash = hash.wrapping_add(hash >> 1);
        }
        _ => {}
    }
    hash ^= hash << 3;
    hash = hash.wrapping_add(hash >> 5);
    hash ^= hash << 4;
    hash = hash.wrapping_add(hash >> 17);
    hash ^= hash << 25;
    hash.wrapping_add(hash >> 6)
}

/// Bob Jenkins' lookup3 `hashlittle` with initval 13 (little-endian byte reads).
fn jenkins(key: &[u8]) -> u32 {
    let init = 0xdead_beefu32
        .wrapping_add(key.len() as u32)
        .wrapping_add(13);
    let (mut a, mut b, mut c) = (init, init, init);
    let word = |k: &[u8]| -> u32 {
        let mut w = [0u8; 4];
        w[..k.len()].copy_from_slice(k);
        u32::from_le_bytes(w)
    };
    let mut rest = key;
    while rest.len() > 12 {
        a = a.wrapping_add(word(&rest[0..4]));
        b = b.wrapping_add(word(&rest[4..8]));
        c = c.wrapping_add(word(&rest[8..12]));
        // mix(a, b, c)
        a = a.wrapping_sub(c);
        a ^= c.rotate_left(4);
        c = c.wrapping_add(b);
        b = b.wrapping_sub(a);
        b ^= a.rotate_left(6);
        a = a.wrapping_add(c);
        c = c.wrapping_sub(b);
        c ^= b.rotate_left(8);
        b = b.wrapping_add(a);
        a = a.wrapping_sub(c);
        a ^= c.rotate_left(16);
        c = c.wrapping_add(b);
        b = b.wrapping_sub(a);
        b ^= a.rotate_left(19);
        a = a.wrapping_add(c);
        c = c.wrapping_sub(b);
        c ^= b.rotate_left(4);
        b = b.wrapping_add(a);
        rest = &rest[12..];
    }
    if rest.is_empty() {
        return c;
    }
    a = a.wrapping_add(word(&rest[..rest.len().min(4)]));
    if rest.len() > 4 {
        b = b.wrapping_add(word(&rest[4..rest.len().min(8)]));
    }
    if rest.len() > 8 {
        c = c.wrapping_add(word(&rest[8..]));
    }
    // final(a, b, c)
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(14));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(11));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(25));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(16));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(4));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(14));
    c ^= b;
    c.wrapping_sub(b.rotate_left(24))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_vectors() {
        // FNV reference values (Fowler/Noll/Vo test suite).
        assert_eq!(fnv1a_32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1_32(b"a"), 0x050c_5d7e);
        assert_eq!(fnv1a_32(b"foobar"), 0xbf9c_f968);
        // fnv1a_64 in 32-bit arithmetic: the low half of the 64-bit offset basis for "".
        assert_eq!(fnv1a_64(b""), 0x8422_2325);
        // CRC-32 check value; the unmasked CRC-16/XMODEM keeps the standard value in its
        // low 16 bits (check value 0x31c3) and carries the shifted-out bits above them.
        assert_eq!(hash32(HashFunction::Crc32a, b"123456789"), 0xcbf4_3926);
        assert_eq!(crc16_twemproxy(b"1"), 0x2672);
        assert_eq!(crc16_twemproxy(b"123456789") & 0xffff, 0x31c3);
        assert!(crc16_twemproxy(b"123456789") > 0xffff);
        // Jenkins one-at-a-time reference value.
        assert_eq!(one_at_a_time(b"a"), 0xca2e_9442);
        // lookup3: zero-length input returns the initial value untouched.
        assert_eq!(jenkins(b""), 0xdead_beef + 13);
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e → first word little-endian.
        assert_eq!(md5_hash(b""), 0xd98c_1dd4);
    }

    #[test]
    fn signed_char_quirk_changes_high_bytes_only() {
        // For ASCII the sign extension is invisible; for 0x80.. it is not.
        assert_eq!(sext32(b'a'), 0x61);
        assert_eq!(sext32(0x80), 0xffff_ff80);
        assert_ne!(fnv1a_32(&[0x80]), {
            let mut h = FNV_32_INIT;
            h ^= 0x80;
            h.wrapping_mul(FNV_32_PRIME)
        });
    }

    #[test]
    fn jenkins_tail_lengths_are_consistent() {
        // Every tail length 0..=12 plus a multi-block key hashes without panicking and
        // differs from its neighbours.
        let data = b"abcdefghijklmnopqrstuvwxyz";
        let mut seen = std::collections::HashSet::new();
        for n in 0..=data.len() {
            assert!(seen.insert(jenkins(&data[..n])), "collision at {n}");
            assert!(seen.len() == n + 1);
        }
        let _ = hsieh(data);
        let _ = murmur32(data);
    }
}
