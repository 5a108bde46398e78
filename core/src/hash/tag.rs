//! Hash tags: the part of a key that is hashed. Envoy (`enable_hashtagging`), twemproxy
//! (`hash_tag: "{}"`) and Redis Cluster agree: the bytes between the first opening
//! delimiter and the first closing delimiter after it; the whole key when either is
//! missing or the tag is empty.

/// The bytes of `key` to hash under `delimiters` (`None`: hash tags off).
#[inline]
pub fn hashed_part(key: &[u8], delimiters: Option<[u8; 2]>) -> &[u8] {
    let Some([open, close]) = delimiters else {
        return key;
    };
    let Some(start) = key.iter().position(|&b| b == open) else {
        return key;
    };
    match key[start + 1..].iter().position(|&b| b == close) {
        Some(0) | None => key,
        Some(len) => &key[start + 1..start + 1 + len],
    }
}

#[cfg(test)]
mod tests {
    use super::hashed_part;

    const CURLY: Option<[u8; 2]> = Some(*b"{}");

    #[test]
    fn follows_redis_cluster_rules() {
        assert_eq!(hashed_part(b"{user1000}.following", CURLY), b"user1000");
        assert_eq!(hashed_part(b"foo{}{bar}", CURLY), b"foo{}{bar}");
        assert_eq!(hashed_part(b"foo{{bar}}zap", CURLY), b"{bar");
        assert_eq!(hashed_part(b"foo{bar}{zap}", CURLY), b"bar");
        assert_eq!(hashed_part(b"no-tag", CURLY), b"no-tag");
        assert_eq!(hashed_part(b"open{only", CURLY), b"open{only");
        assert_eq!(hashed_part(b"{a}", None), b"{a}");
    }

    #[test]
    fn custom_delimiters() {
        assert_eq!(hashed_part(b"emp:[avgo]:1", Some(*b"[]")), b"avgo");
    }
}
