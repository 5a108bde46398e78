//! Known answers for the hash functions (test-only).

/// `std::hash<std::string>` from libstdc++ (g++ 12, x86_64) — Envoy's `murmurHash2`.
pub const STD_HASH: &[(&str, u64)] = &[
    ("", 6142509188972423790),
    ("a", 4993892634952068459),
    ("foo", 9631199822919835226),
    ("foobar", 1006047371904342835),
    ("12345678", 10113836418918046885),
    ("123456789", 12315982496267331008),
    ("emp:0000000001", 6545952336479103453),
    ("{avgo}", 3628981877398844239),
    (
        "the quick brown fox jumps over the lazy dog",
        4385160446860836741,
    ),
];

/// `std::hash` of the binary string `b"key:\xff\x80 binary"`.
pub const STD_HASH_BINARY: (&[u8], u64) = (b"key:\xff\x80 binary", 15534657250697375174);
