//! How each fuzz target turns its input bytes into the arguments of its `shardis::fuzzing`
//! oracle. One function per target, named like it. Shared by the targets
//! (`fuzz/fuzz_targets/*.rs`) and by the regression test that replays the seeds and the
//! inputs that once crashed (`core/tests/fuzz_regressions.rs` includes this file with
//! `#[path]`), so an input means the same thing in both.

use shardis::fuzzing;

/// Runs one input of a target.
pub type Target = fn(&[u8]);

/// Every target by name (its folder under `fuzz/seeds/` and `fuzz/regressions/`), with the
/// function that runs one input.
pub const TARGETS: &[(&str, Target)] = &[
    ("resp", resp),
    ("cluster_shards", cluster_shards),
    ("cluster_slots", cluster_slots),
    ("redirect", redirect),
    ("config_text", config_text),
    ("command_keys", command_keys),
    ("prefix_routes", prefix_routes),
    ("envoy_yaml", envoy_yaml),
];

/// `resp`: the low 5 bits of the first byte say how many of the following bytes are chunk
/// lengths (`cuts`, at most 31); everything after them is the RESP stream.
pub fn resp(input: &[u8]) {
    let Some((&head, rest)) = input.split_first() else {
        return;
    };
    let (cuts, data) = rest.split_at(usize::from(head & 0x1f).min(rest.len()));
    fuzzing::resp(data, cuts);
}

/// `cluster_shards`: the input is a RESP reply to `CLUSTER SHARDS`.
pub fn cluster_shards(input: &[u8]) {
    fuzzing::cluster_topology(input, false);
}

/// `cluster_slots`: the input is a RESP reply to `CLUSTER SLOTS`.
pub fn cluster_slots(input: &[u8]) {
    fuzzing::cluster_topology(input, true);
}

/// What the first byte of a `redirect` input puts before the rest (by its value modulo 4:
/// the digits `0`–`3` pick them in order), so that most inputs reach the redirect grammar.
const REDIRECT_PREFIXES: [&str; 4] = ["MOVED ", "ASK ", "MOVED 3999 ", ""];

/// `redirect`: the first byte picks a prefix from [`REDIRECT_PREFIXES`]; the rest, as UTF-8
/// (invalid sequences replaced), follows it in the error message.
pub fn redirect(input: &[u8]) {
    let Some((&head, rest)) = input.split_first() else {
        return;
    };
    let prefix = REDIRECT_PREFIXES[usize::from(head) % REDIRECT_PREFIXES.len()];
    fuzzing::redirect(&format!("{prefix}{}", String::from_utf8_lossy(rest)));
}

/// `config_text`: the input as UTF-8 (invalid sequences replaced), parsed as TOML, JSON,
/// URL and "any of them".
pub fn config_text(input: &[u8]) {
    fuzzing::config(&String::from_utf8_lossy(input));
}

/// Commands a one-byte first argument of a `command_keys` input stands for (by its value
/// modulo the length; words become separate arguments): the key specs of the command table
/// — fixed positions, ranges, key counts, keywords, unknown (movable) keys — and its routes.
const COMMANDS: &[&str] = &[
    "GET",
    "SET",
    "MGET",
    "MSET",
    "MSETNX",
    "DEL",
    "EXISTS",
    "TOUCH",
    "UNLINK",
    "RENAME",
    "LMOVE",
    "SMOVE",
    "BITOP",
    "BLPOP",
    "EVAL",
    "EVALSHA",
    "EVAL_RO",
    "FCALL",
    "ZUNIONSTORE",
    "ZINTERSTORE",
    "ZDIFF",
    "ZDIFFSTORE",
    "ZINTERCARD",
    "SINTERCARD",
    "LMPOP",
    "BLMPOP",
    "ZMPOP",
    "BZMPOP",
    "XADD",
    "XREAD",
    "XREADGROUP",
    "SORT",
    "SORT_RO",
    "GEORADIUS",
    "GEORADIUSBYMEMBER",
    "MIGRATE",
    "OBJECT ENCODING",
    "MEMORY USAGE",
    "XINFO STREAM",
    "COMMAND GETKEYS",
    "CONFIG SET",
    "CLIENT KILL",
    "SCRIPT EXISTS",
    "FUNCTION LOAD",
    "SCAN",
    "KEYS",
    "RANDOMKEY",
    "DBSIZE",
    "PING",
    "INFO",
    "WATCH",
    "MULTI",
    "SUBSCRIBE",
    "PUBLISH",
    "SPUBLISH",
];

/// `command_keys`: the argv is the input split at `\n`; a first argument of exactly one byte
/// is replaced by the command [`COMMANDS`] lists at that byte (so `GET\nk` and `\0\nk` are
/// the same argv). An empty input is an empty argv.
pub fn command_keys(input: &[u8]) {
    let mut argv: Vec<Vec<u8>> = Vec::new();
    if !input.is_empty() {
        argv.extend(input.split(|&b| b == b'\n').map(<[u8]>::to_vec));
    }
    if let Some(&[pick]) = argv.first().map(Vec::as_slice) {
        let name = COMMANDS[usize::from(pick) % COMMANDS.len()];
        argv.splice(0..1, name.split(' ').map(|w| w.as_bytes().to_vec()));
    }
    fuzzing::command_keys(&argv);
}

/// `prefix_routes`: the first byte's low bit turns case-insensitive matching on; the rest,
/// split at `\n`, are lines: `P…` a route prefix (UTF-8, invalid sequences replaced), any
/// other line a key (raw bytes).
pub fn prefix_routes(input: &[u8]) {
    let Some((&head, rest)) = input.split_first() else {
        return;
    };
    let mut prefixes = Vec::new();
    let mut keys = Vec::new();
    for line in rest.split(|&b| b == b'\n') {
        match line.split_first() {
            Some((b'P', p)) => prefixes.push(String::from_utf8_lossy(p).into_owned()),
            _ => keys.push(line.to_vec()),
        }
    }
    fuzzing::prefix_routes(&prefixes, &keys, head & 1 == 1);
}

/// `envoy_yaml`: the input as UTF-8 (invalid sequences replaced), imported as an Envoy
/// bootstrap YAML.
pub fn envoy_yaml(input: &[u8]) {
    fuzzing::envoy_yaml(&String::from_utf8_lossy(input));
}
