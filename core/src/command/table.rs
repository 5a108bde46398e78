//! The command table: one row per Redis command and subcommand, generated from a live
//! server's `COMMAND` and `COMMAND DOCS` into `table_data.rs` by
//! `cargo run -p shardis-tests --bin gen-command-table`. Routing, splitting, merging and
//! read/write classification read only this table.

pub use super::spec::{BeginSearch, CommandSpec, FindKeys, KeySpec, Merge, Route, flag, key_flag};
use super::table_data::COMMANDS;

/// All rows, sorted by name.
pub fn all() -> &'static [CommandSpec] {
    COMMANDS
}

/// Position of a row in [`all`] (rows are `&'static` references into it).
pub fn index_of(spec: &'static CommandSpec) -> usize {
    let base = COMMANDS.as_ptr() as usize;
    let at = spec as *const CommandSpec as usize;
    at.saturating_sub(base) / std::mem::size_of::<CommandSpec>()
}

/// Slots of the name index: a power of two, over four times the number of rows, so a lookup
/// usually probes one slot.
const INDEX_SLOTS: usize = 2048;
const EMPTY: u16 = u16::MAX;

/// FNV-1a over the ASCII-lower-cased name.
const fn name_hash(name: &[u8]) -> usize {
    let mut h: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < name.len() {
        h ^= name[i].to_ascii_lowercase() as u32;
        h = h.wrapping_mul(0x0100_0193);
        i += 1;
    }
    h as usize
}

/// Open-addressing index from name to row, built at compile time: a lookup touches one or
/// two slots and one row instead of a binary search's nine rows and names (which matters
/// on the hot path, where the caches are cold after every wait for the server).
static INDEX: [u16; INDEX_SLOTS] = {
    let mut slots = [EMPTY; INDEX_SLOTS];
    assert!(COMMANDS.len() * 4 < INDEX_SLOTS && COMMANDS.len() < EMPTY as usize);
    let mut i = 0;
    while i < COMMANDS.len() {
        let mut h = name_hash(COMMANDS[i].name.as_bytes()) & (INDEX_SLOTS - 1);
        while slots[h] != EMPTY {
            h = (h + 1) & (INDEX_SLOTS - 1);
        }
        slots[h] = i as u16;
        i += 1;
    }
    slots
};

/// Find a command by name (any case).
#[inline]
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut h = name_hash(name) & (INDEX_SLOTS - 1);
    loop {
        let row = INDEX[h];
        if row == EMPTY {
            return None;
        }
        let spec = &COMMANDS[row as usize];
        if spec.name.as_bytes().eq_ignore_ascii_case(name) {
            return Some(spec);
        }
        h = (h + 1) & (INDEX_SLOTS - 1);
    }
}

/// Find `parent|sub` (any case).
pub fn lookup_sub(parent: &str, sub: &[u8]) -> Option<&'static CommandSpec> {
    let mut full = Vec::with_capacity(parent.len() + 1 + sub.len());
    full.extend_from_slice(parent.as_bytes());
    full.push(b'|');
    full.extend_from_slice(sub);
    lookup(&full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in COMMANDS.windows(2) {
            assert!(w[0].name < w[1].name, "{} !< {}", w[0].name, w[1].name);
        }
        assert!(COMMANDS.len() > 200);
    }

    #[test]
    fn index_finds_every_row_in_any_case() {
        for (i, row) in COMMANDS.iter().enumerate() {
            assert_eq!(lookup(row.name.as_bytes()).map(index_of), Some(i));
            let upper = row.name.to_ascii_uppercase();
            assert_eq!(lookup(upper.as_bytes()).map(index_of), Some(i));
        }
        for absent in [&b""[..], b"ge", b"gett", b"get ", b"\xff\xfe"] {
            assert!(lookup(absent).is_none(), "{absent:?}");
        }
    }

    #[test]
    fn lookups_are_case_insensitive() {
        assert_eq!(lookup(b"GeT").map(|c| c.name), Some("get"));
        assert_eq!(
            lookup_sub("config", b"GET").map(|c| c.name),
            Some("config|get")
        );
        assert!(lookup(b"nosuchcommand").is_none());
    }

    #[test]
    fn routes_of_the_split_and_whole_keyspace_commands() {
        let route = |n: &[u8]| lookup(n).map(|c| c.route);
        assert_eq!(
            route(b"mget"),
            Some(Route::Split {
                step: 1,
                merge: Merge::Ordered
            })
        );
        assert_eq!(
            route(b"mset"),
            Some(Route::Split {
                step: 2,
                merge: Merge::AllSucceeded
            })
        );
        assert_eq!(
            route(b"del"),
            Some(Route::Split {
                step: 1,
                merge: Merge::Sum
            })
        );
        assert_eq!(route(b"dbsize"), Some(Route::AllShards(Merge::Sum)));
        assert_eq!(route(b"keys"), Some(Route::AllShards(Merge::Concat)));
        assert_eq!(route(b"scan"), Some(Route::Scan));
        assert_eq!(route(b"randomkey"), Some(Route::RandomKey));
        assert_eq!(route(b"info"), Some(Route::AllShards(Merge::PerNode)));
        assert_eq!(route(b"msetnx"), Some(Route::Keyed));
        assert!(matches!(route(b"multi"), Some(Route::Unsupported(_))));
        assert_eq!(
            lookup_sub("script", b"load").map(|c| c.route),
            Some(Route::AllNodes(Merge::AllSucceeded))
        );
    }
}
