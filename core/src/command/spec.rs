//! The shape of one command table row ([`CommandSpec`]): flags, key specs (Redis' own
//! `COMMAND INFO` begin-search / find-keys), and how the command is routed and its replies
//! merged. The rows themselves are generated into `table_data`; lookups live in `table`.

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
