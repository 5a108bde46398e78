//! Longest-prefix lookup of a key among the configured route prefixes: a byte trie built
//! once per client, walked once per key (no allocation; ASCII case folded on the fly when
//! routes are case-insensitive). Pure.

use crate::config::routing::Routing;

/// Which route a key takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RouteId {
    /// `routes[i]`.
    Prefix(u32),
    /// The catch-all route.
    CatchAll,
    /// No prefix matched and there is no catch-all route.
    None,
}

#[derive(Debug, Default)]
struct TrieNode {
    /// (byte, child index), sorted by byte.
    children: Vec<(u8, u32)>,
    /// The route whose prefix ends here.
    route: Option<u32>,
}

/// The prefix trie of one routing config.
#[derive(Debug)]
pub(crate) struct PrefixTable {
    nodes: Vec<TrieNode>,
    case_insensitive: bool,
    has_catch_all: bool,
}

impl PrefixTable {
    /// Build the trie of `routing`'s prefixes (validation has rejected duplicates).
    pub(crate) fn new(routing: &Routing) -> PrefixTable {
        let mut t = PrefixTable {
            nodes: vec![TrieNode::default()],
            case_insensitive: routing.case_insensitive,
            has_catch_all: routing.catch_all.is_some(),
        };
        for (i, r) in routing.routes.iter().enumerate() {
            let mut at = 0usize;
            for &b in &r.prefix {
                let b = t.fold(b);
                at = match t.nodes[at].children.binary_search_by_key(&b, |c| c.0) {
                    Ok(j) => t.nodes[at].children[j].1 as usize,
                    Err(j) => {
                        let child = t.nodes.len();
                        t.nodes.push(TrieNode::default());
                        t.nodes[at].children.insert(j, (b, child as u32));
                        child
                    }
                };
            }
            t.nodes[at].route = Some(i as u32);
        }
        t
    }

    #[inline]
    fn fold(&self, b: u8) -> u8 {
        if self.case_insensitive {
            b.to_ascii_lowercase()
        } else {
            b
        }
    }

    /// The route of `key`: the longest matching prefix, else the catch-all.
    #[inline]
    pub(crate) fn lookup(&self, key: &[u8]) -> RouteId {
        let mut at = 0usize;
        let mut best = None;
        for &b in key {
            let b = self.fold(b);
            let children = &self.nodes[at].children;
            let next = if children.len() <= 8 {
                children.iter().find(|c| c.0 == b).map(|c| c.1)
            } else {
                children
                    .binary_search_by_key(&b, |c| c.0)
                    .ok()
                    .map(|j| children[j].1)
            };
            match next {
                Some(n) => {
                    at = n as usize;
                    if let Some(r) = self.nodes[at].route {
                        best = Some(r);
                    }
                }
                None => break,
            }
        }
        match best {
            Some(r) => RouteId::Prefix(r),
            None if self.has_catch_all => RouteId::CatchAll,
            None => RouteId::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn table(case_insensitive: bool, catch_all: bool) -> PrefixTable {
        let toml = format!(
            r#"
            routes_case_insensitive = {case_insensitive}
            [backends.a]
            mode = "ring_hash"
            nodes = ["127.0.0.1:1"]
            [[routes]]
            prefix = "ab"
            backend = "a"
            [[routes]]
            prefix = "abc:"
            backend = "a"
            [[routes]]
            prefix = "x"
            backend = "a"
            {}
            "#,
            if catch_all {
                "[catch_all]\nbackend = \"a\""
            } else {
                ""
            }
        );
        let c = Config::from_toml_str(&toml).unwrap();
        PrefixTable::new(c.routing().unwrap())
    }

    #[test]
    fn longest_prefix_wins_then_catch_all() {
        let t = table(false, true);
        assert_eq!(t.lookup(b"abc:1"), RouteId::Prefix(1));
        assert_eq!(t.lookup(b"abc"), RouteId::Prefix(0));
        assert_eq!(t.lookup(b"ab"), RouteId::Prefix(0));
        assert_eq!(t.lookup(b"a"), RouteId::CatchAll);
        assert_eq!(t.lookup(b"xyz"), RouteId::Prefix(2));
        assert_eq!(t.lookup(b""), RouteId::CatchAll);
        assert_eq!(t.lookup(b"ABC:1"), RouteId::CatchAll);
        let t = table(false, false);
        assert_eq!(t.lookup(b"zz"), RouteId::None);
    }

    #[test]
    fn case_insensitive_folds_ascii_only() {
        let t = table(true, false);
        assert_eq!(t.lookup(b"ABC:1"), RouteId::Prefix(1));
        assert_eq!(t.lookup(b"Xy"), RouteId::Prefix(2));
        assert_eq!(t.lookup("É".as_bytes()), RouteId::None);
    }

    #[test]
    fn many_prefixes_sharing_a_first_byte_use_the_sorted_children() {
        let mut toml = String::from("[backends.a]\nmode = \"jump\"\nnodes = [\"127.0.0.1:1\"]\n");
        for i in 0..50 {
            toml.push_str(&format!(
                "[[routes]]\nprefix = \"p{i}:\"\nbackend = \"a\"\n"
            ));
        }
        let c = Config::from_toml_str(&toml).unwrap();
        let t = PrefixTable::new(c.routing().unwrap());
        for i in 0..50u32 {
            assert_eq!(t.lookup(format!("p{i}:key").as_bytes()), RouteId::Prefix(i));
        }
        assert_eq!(t.lookup(b"p50:key"), RouteId::None);
    }
}
