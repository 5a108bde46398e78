//! The command table: one row per Redis command and subcommand, generated from a live
//! server's `COMMAND` and `COMMAND DOCS` into `table_data.rs` by
//! `cargo run -p shardis-tests --bin gen-command-table`. Routing, splitting, merging and
//! read/write classification read only this table.

use super::table_data::COMMANDS;

/// Command flags, as `COMMAND` reports them.
pub mod flag {
    /// May modify data.
    pub const WRITE: u32 = 1 << 0;
    /// Never modifies data.
    pub const READONLY: u32 = 1 << 1;
    /// May grow memory use.
    pub const DENYOOM: u32 = 1 << 2;
    /// Administrative.
    pub const ADMIN: u32 = 1 << 3;
    /// Pub/sub related.
    pub const PUBSUB: u32 = 1 << 4;
    /// Not allowed in scripts.
    pub const NOSCRIPT: u32 = 1 << 5;
    /// May block the client.
    pub const BLOCKING: u32 = 1 << 6;
    /// Allowed while the server loads data.
    pub const LOADING: u32 = 1 << 7;
    /// Allowed on a stale replica.
    pub const STALE: u32 = 1 << 8;
    /// Not shown in MONITOR.
    pub const SKIP_MONITOR: u32 = 1 << 9;
    /// Not logged in SLOWLOG.
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    /// O(1) or O(log N).
    pub const FAST: u32 = 1 << 11;
    /// Allowed before AUTH.
    pub const NO_AUTH: u32 = 1 << 12;
    /// May replicate.
    pub const MAY_REPLICATE: u32 = 1 << 13;
    /// Keys are optional.
    pub const NO_MANDATORY_KEYS: u32 = 1 << 14;
    /// Key positions depend on arguments.
    pub const MOVABLEKEYS: u32 = 1 << 15;
    /// Not allowed in MULTI.
    pub const NO_MULTI: u32 = 1 << 16;
    /// Allowed while a script is busy.
    pub const ALLOW_BUSY: u32 = 1 << 17;
    /// Not allowed during async loading.
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;
    /// A module command.
    pub const MODULE: u32 = 1 << 19;
    /// Sentinel-only flags.
    pub const SENTINEL: u32 = 1 << 20;
    /// Only in sentinel mode.
    pub const ONLY_SENTINEL: u32 = 1 << 21;
    /// Allowed on an importing slot after ASKING.
    pub const ASKING: u32 = 1 << 22;

    /// All names with their bits, as the server spells them.
    pub const NAMES: &[(&str, u32)] = &[
        ("write", WRITE),
        ("readonly", READONLY),
        ("denyoom", DENYOOM),
        ("admin", ADMIN),
        ("pubsub", PUBSUB),
        ("noscript", NOSCRIPT),
        ("blocking", BLOCKING),
        ("loading", LOADING),
        ("stale", STALE),
        ("skip_monitor", SKIP_MONITOR),
        ("skip_slowlog", SKIP_SLOWLOG),
        ("fast", FAST),
        ("no_auth", NO_AUTH),
        ("may_replicate", MAY_REPLICATE),
        ("no_mandatory_keys", NO_MANDATORY_KEYS),
        ("movablekeys", MOVABLEKEYS),
        ("no_multi", NO_MULTI),
        ("allow_busy", ALLOW_BUSY),
        ("no_async_loading", NO_ASYNC_LOADING),
        ("module", MODULE),
        ("sentinel", SENTINEL),
        ("only_sentinel", ONLY_SENTINEL),
        ("asking", ASKING),
    ];
}

/// Key-spec flags (Redis 7 key specifications).
pub mod key_flag {
    /// Read-only access.
    pub const RO: u16 = 1 << 0;
    /// Read-write access.
    pub const RW: u16 = 1 << 1;
    /// Overwrite.
    pub const OW: u16 = 1 << 2;
    /// Remove.
    pub const RM: u16 = 1 << 3;
    /// Reads the value.
    pub const ACCESS: u16 = 1 << 4;
    /// Updates the value.
    pub const UPDATE: u16 = 1 << 5;
    /// Inserts.
    pub const INSERT: u16 = 1 << 6;
    /// Deletes.
    pub const DELETE: u16 = 1 << 7;
    /// Not a key (channel etc.).
    pub const NOT_KEY: u16 = 1 << 8;
    /// The spec may miss keys.
    pub const INCOMPLETE: u16 = 1 << 9;
    /// Flags depend on arguments.
    pub const VARIABLE_FLAGS: u16 = 1 << 10;

    /// All names with their bits, as the server spells them.
    pub const NAMES: &[(&str, u16)] = &[
        ("RO", RO),
        ("RW", RW),
        ("OW", OW),
        ("RM", RM),
        ("access", ACCESS),
        ("update", UPDATE),
        ("insert", INSERT),
        ("delete", DELETE),
        ("not_key", NOT_KEY),
        ("incomplete", INCOMPLETE),
        ("variable_flags", VARIABLE_FLAGS),
    ];
}

/// Where the search for keys begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At a fixed argument index.
    Index(i32),
    /// After a keyword; `start_from` negative searches backwards from the end.
    Keyword {
        /// The keyword (upper case).
        keyword: &'static str,
        /// Where the search starts.
        start_from: i32,
    },
    /// Not describable; `command::keys` handles the known cases.
    Unknown,
}

/// How keys are found from the beginning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// A range: `last_key` relative to the first (negative counts from the end).
    Range {
        /// Last key offset.
        last_key: i32,
        /// Step between keys.
        key_step: i32,
        /// Divisor of the remaining arguments when `last_key` is negative.
        limit: i32,
    },
    /// A key count argument followed by keys.
    Keynum {
        /// Index of the count, relative to the beginning.
        keynum_idx: i32,
        /// Index of the first key, relative to the beginning.
        first_key: i32,
        /// Step between keys.
        key_step: i32,
    },
    /// Not describable.
    Unknown,
}

/// One Redis 7 key specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// Begin search.
    pub begin: BeginSearch,
    /// Find keys.
    pub find: FindKeys,
    /// `key_flag` bits.
    pub flags: u16,
}

/// How the replies of a command sent to several nodes are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Replies reassembled in the order of the request's keys (MGET).
    Ordered,
    /// Integer sum (DEL, EXISTS, DBSIZE).
    Sum,
    /// Integer minimum.
    Min,
    /// Integer maximum.
    Max,
    /// All must succeed; the first reply is returned (MSET, FLUSHALL, SCRIPT LOAD).
    AllSucceeded,
    /// One success is enough (SCRIPT KILL).
    OneSucceeded,
    /// Element-wise AND of integer arrays (SCRIPT EXISTS).
    LogicalAnd,
    /// Element-wise OR of integer arrays.
    LogicalOr,
    /// Arrays concatenated (KEYS).
    Concat,
    /// One reply per node, as a map `node → reply` (INFO).
    PerNode,
}

/// How a command is routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// By its keys: all keys must be on one node (otherwise a cross-shard error); without
    /// keys (e.g. `EVAL … 0`), to any node.
    Keyed,
    /// Split per node by keys (`step` 1: key…, 2: key value…), merged with `merge`.
    Split {
        /// Arguments per key.
        step: u8,
        /// Merge rule.
        merge: Merge,
    },
    /// To every primary.
    AllShards(Merge),
    /// To every node (replicas too in cluster mode).
    AllNodes(Merge),
    /// Keyless: any one node.
    AnyNode,
    /// SCAN: one cursor that walks every primary.
    Scan,
    /// RANDOMKEY: a random non-empty primary.
    RandomKey,
    /// Not routable by shardis, with the reason.
    Unsupported(&'static str),
}

/// One row of the command table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    /// Lower-case name; `parent|sub` for subcommands.
    pub name: &'static str,
    /// Redis arity (negative: at least that many).
    pub arity: i32,
    /// `flag` bits.
    pub flags: u32,
    /// Command group from `COMMAND DOCS` (`string`, `hash`, …).
    pub group: &'static str,
    /// Route derived from flags, key specs and the server's request/response policy tips.
    pub route: Route,
    /// True for container commands (`CONFIG`, `SCRIPT`) looked up with their subcommand.
    pub subcommands: bool,
    /// Key specifications.
    pub key_specs: &'static [KeySpec],
}

impl CommandSpec {
    /// Read-only (safe to retry after an I/O error, may go to replicas).
    pub fn is_readonly(&self) -> bool {
        self.flags & flag::READONLY != 0
    }

    /// Has the `flag` bit.
    pub fn has(&self, bit: u32) -> bool {
        self.flags & bit != 0
    }

    /// Does `argc` (arguments including the name) satisfy the arity?
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = i64::from(self.arity);
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }
}

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
