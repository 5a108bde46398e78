//! Differential tests against the real Envoy 1.40: for each bootstrap YAML under
//! `tests/envoy/` (prefix routes, `remove_prefix`, `key_formatter`, `case_insensitive`, a
//! catch-all, hash tags, weighted RING_HASH and MAGLEV backends, a Redis Cluster backend,
//! request mirroring, a read backend, an ERROR fault) the same commands go through Envoy
//! and through shardis configured from the same YAML (`Config::from_envoy_yaml`), against
//! the same servers (flushed in between). Every server must then hold the same keys under
//! the same names with the same values, types and TTL presence, and every reply must be
//! the same.
//!
//! Servers are snapshotted with `KEYS`, `TYPE`, `DUMP` and `PTTL` only, commands no script
//! sends, so that `INFO commandstats` still shows exactly what the proxies sent.

// Tests: a failed call is the report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod case_insensitive;
mod cluster;
mod mirror;
mod prefixes;
mod script;
mod shortfalls;

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use shardis::{Client, Config};
use shardis_tests::envoy::Envoy;
use shardis_tests::{Cluster, RedisServer, StandaloneSet};

use script::Command;

/// One server set a YAML names: standalone servers, or a Redis Cluster (its seed is
/// `{{NAME.0}}`).
pub enum Servers {
    /// Standalone servers.
    Standalone(StandaloneSet),
    /// A Redis Cluster, started without replicas: every node is a primary.
    Cluster(Cluster),
}

impl Servers {
    fn all(&self) -> &[RedisServer] {
        match self {
            Servers::Standalone(s) => &s.servers,
            Servers::Cluster(c) => &c.nodes,
        }
    }
}

/// The servers of one YAML, by the set names its placeholders use.
pub struct Topology {
    sets: Vec<(&'static str, Servers)>,
}

impl Topology {
    /// Standalone sets of the given sizes, plus optionally a cluster.
    pub fn start(
        standalone: &[(&'static str, usize)],
        cluster: Option<(&'static str, usize)>,
    ) -> Topology {
        // In this thread: a server dies with the thread that spawned it (PDEATHSIG).
        let mut sets: Vec<(&'static str, Servers)> = standalone
            .iter()
            .map(|&(name, n)| (name, Servers::Standalone(StandaloneSet::start(n))))
            .collect();
        if let Some((name, n)) = cluster {
            sets.push((name, Servers::Cluster(Cluster::start(n, 0))));
        }
        sets.sort_by_key(|(name, _)| *name);
        Topology { sets }
    }

    /// Every server with its label (`users.1`), in a fixed order.
    pub fn servers(&self) -> Vec<(String, &RedisServer)> {
        self.sets
            .iter()
            .flat_map(|(name, s)| {
                s.all()
                    .iter()
                    .enumerate()
                    .map(move |(i, srv)| (format!("{name}.{i}"), srv))
            })
            .collect()
    }

    /// The YAML with every `{{SET.N}}` replaced by that server's port.
    pub fn render(&self, template: &str) -> String {
        let mut out = template.to_owned();
        for (label, srv) in self.servers() {
            out = out.replace(&format!("{{{{{label}}}}}"), &srv.port().to_string());
        }
        if let Some(line) = out
            .lines()
            .find(|l| !l.trim_start().starts_with('#') && l.contains("{{"))
        {
            panic!("unknown placeholder in {line:?}");
        }
        out
    }

    /// FLUSHALL and CONFIG RESETSTAT everywhere.
    pub fn reset(&self) {
        for (_, s) in self.servers() {
            s.cmd(&["FLUSHALL"]);
            s.cmd(&["CONFIG", "RESETSTAT"]);
        }
    }

    /// What every server holds.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot(
            self.servers()
                .into_iter()
                .map(|(label, s)| (label, holdings(s)))
                .collect(),
        )
    }

    /// The server labelled `label` (`reads.0`).
    pub fn server(&self, label: &str) -> &RedisServer {
        self.servers()
            .into_iter()
            .find_map(|(l, s)| (l == label).then_some(s))
            .unwrap_or_else(|| panic!("no server {label}"))
    }
}

/// One stored key: its type, `DUMP` payload and whether it has a TTL.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// `TYPE`.
    pub kind: String,
    /// `DUMP` (value and encoding; same server version on both sides).
    pub dump: Vec<u8>,
    /// `PTTL` > 0.
    pub ttl: bool,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A short string's DUMP is type 0, a 6-bit length, the bytes: show those.
        let value = match self.dump.as_slice() {
            [0, len, rest @ ..] if *len < 64 && rest.len() >= usize::from(*len) => {
                show(&rest[..usize::from(*len)])
            }
            [0, 0xc0, n, ..] => format!("int {n}"),
            other => show(other),
        };
        let ttl = if self.ttl { " (ttl)" } else { "" };
        write!(f, "{} {value}{ttl}", self.kind)
    }
}

/// Server label → key → entry.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Snapshot(pub BTreeMap<String, BTreeMap<Vec<u8>, Entry>>);

impl Snapshot {
    /// Every key (stored name) of the servers whose label starts with `set.`, with its entry.
    pub fn union_of(&self, set: &str) -> BTreeMap<Vec<u8>, Entry> {
        let mut out = BTreeMap::new();
        for (label, m) in &self.0 {
            if label.split('.').next() == Some(set) {
                out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        out
    }

    /// Every key of every server.
    pub fn total(&self) -> usize {
        self.0.values().map(BTreeMap::len).sum()
    }

    /// Differences with `other`, one line each (at most `limit`).
    pub fn diff(&self, other: &Snapshot, limit: usize) -> Vec<String> {
        let mut out = Vec::new();
        for (label, ours) in &self.0 {
            let empty = BTreeMap::new();
            let theirs = other.0.get(label).unwrap_or(&empty);
            for (k, e) in ours {
                match theirs.get(k) {
                    None => out.push(format!("{label}: {} only in the first: {e:?}", show(k))),
                    Some(t) if t != e => {
                        out.push(format!("{label}: {} differs: {e:?} vs {t:?}", show(k)))
                    }
                    Some(_) => {}
                }
            }
            for (k, t) in theirs {
                if !ours.contains_key(k) {
                    out.push(format!("{label}: {} only in the second: {t:?}", show(k)));
                }
            }
        }
        out.truncate(limit);
        out
    }
}

fn holdings(s: &RedisServer) -> BTreeMap<Vec<u8>, Entry> {
    let mut con = s.connection();
    let mut out = BTreeMap::new();
    for k in s.keys() {
        let kind: String = redis::cmd("TYPE").arg(&k).query(&mut con).unwrap();
        let dump: Option<Vec<u8>> = redis::cmd("DUMP").arg(&k).query(&mut con).unwrap();
        let pttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut con).unwrap();
        out.insert(
            k,
            Entry {
                kind,
                dump: dump.unwrap_or_default(),
                ttl: pttl > 0,
            },
        );
    }
    out
}

/// Commands this harness itself sends to servers (reset, seeds aside, snapshots, stats):
/// left out of [`Outcome::calls`].
const HARNESS_COMMANDS: &[&str] = &[
    "info",
    "config|resetstat",
    "flushall",
    "keys",
    "type",
    "dump",
    "pttl",
];

/// `INFO commandstats` calls per command, without the harness' own.
fn command_calls(s: &RedisServer) -> BTreeMap<String, u64> {
    let text = match s.cmd(&["INFO", "commandstats"]) {
        redis::Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
        redis::Value::VerbatimString { text, .. } => text,
        other => panic!("INFO: {other:?}"),
    };
    text.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(":calls=")?;
            Some((name.to_owned(), rest.split(',').next()?.parse().ok()?))
        })
        .filter(|(name, _)| !HARNESS_COMMANDS.contains(&name.as_str()))
        .collect()
}

/// A reply in one comparable form (RESP2; `+OK` is `Status("OK")`; an error is its whole
/// line without the `-`).
#[derive(Clone, PartialEq, Eq)]
pub enum Reply {
    /// Null.
    Nil,
    /// Integer.
    Int(i64),
    /// Bulk string.
    Bulk(Vec<u8>),
    /// Simple string.
    Status(String),
    /// Array.
    Array(Vec<Reply>),
    /// Error reply (top level or nested).
    Error(String),
    /// A shardis error that is not a server's reply: kind and message.
    Client(String),
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Nil => f.write_str("nil"),
            Reply::Int(i) => write!(f, "{i}"),
            Reply::Bulk(b) => write!(f, "{}", show(b)),
            Reply::Status(s) => write!(f, "+{s}"),
            Reply::Array(a) => f.debug_list().entries(a).finish(),
            Reply::Error(e) => write!(f, "-{e}"),
            Reply::Client(e) => write!(f, "shardis error: {e}"),
        }
    }
}

impl Reply {
    /// From the `redis` crate (as it came from Envoy).
    pub fn from_redis(v: redis::Value) -> Reply {
        match v {
            redis::Value::Nil => Reply::Nil,
            redis::Value::Int(i) => Reply::Int(i),
            redis::Value::BulkString(b) => Reply::Bulk(b),
            redis::Value::SimpleString(s) => Reply::Status(s),
            redis::Value::Okay => Reply::Status("OK".into()),
            redis::Value::Array(a) => Reply::Array(a.into_iter().map(Reply::from_redis).collect()),
            redis::Value::ServerError(e) => Reply::Error(match e.details() {
                Some(d) => format!("{} {d}", e.code()),
                None => e.code().to_owned(),
            }),
            other => panic!("unexpected RESP2 reply from Envoy: {other:?}"),
        }
    }

    /// From shardis.
    pub fn from_shardis(r: shardis::Result<shardis::Value>) -> Reply {
        use shardis::Value;
        fn value(v: Value) -> Reply {
            match v {
                Value::Nil => Reply::Nil,
                Value::Int(i) => Reply::Int(i),
                Value::Bulk(b) => Reply::Bulk(b),
                Value::Okay => Reply::Status("OK".into()),
                Value::Status(s) => Reply::Status(s),
                Value::Array(a) => Reply::Array(a.into_iter().map(value).collect()),
                Value::Error(e) => Reply::Error(e),
                other => panic!("unexpected reply from shardis: {other:?}"),
            }
        }
        match r {
            Ok(v) => value(v),
            Err(e) if e.kind() == shardis::ErrorKind::Server => {
                Reply::Error(e.message().to_owned())
            }
            Err(e) => Reply::Client(format!("{}: {}", e.kind(), e.message())),
        }
    }
}

/// Bytes as text: UTF-8 as is, anything else escaped.
pub fn show(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if !s.chars().any(char::is_control) => format!("{s:?}"),
        _ => format!("b\"{}\"", b.escape_ascii()),
    }
}

/// A command shown.
pub fn show_command(c: &Command) -> String {
    c.iter().map(|a| show(a)).collect::<Vec<_>>().join(" ")
}

/// What one run produced.
pub struct Outcome {
    /// Which proxy.
    pub who: &'static str,
    /// One reply per command.
    pub replies: Vec<Reply>,
    /// Every server afterwards.
    pub snapshot: Snapshot,
    /// `INFO commandstats` calls of every server afterwards (label → command → calls),
    /// the harness' own commands left out.
    pub calls: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Outcome {
    /// Calls of `command` on every server of `set`.
    pub fn calls_on(&self, set: &str, command: &str) -> u64 {
        self.calls
            .iter()
            .filter(|(l, _)| l.split('.').next() == Some(set))
            .map(|(_, m)| m.get(command).copied().unwrap_or(0))
            .sum()
    }
}

/// A check of one run's outcome; polled until it passes (mirrors are fire-and-forget),
/// then required.
pub type Check<'a> = &'a dyn Fn(&Outcome) -> Result<(), String>;

/// How long fire-and-forget copies may take to land.
const SETTLE: Duration = Duration::from_secs(5);

fn settle(topology: &Topology, who: &'static str, replies: Vec<Reply>, check: Check) -> Outcome {
    let start = Instant::now();
    loop {
        let outcome = Outcome {
            who,
            replies: replies.clone(),
            snapshot: topology.snapshot(),
            calls: topology
                .servers()
                .into_iter()
                .map(|(l, s)| (l, command_calls(s)))
                .collect(),
        };
        match check(&outcome) {
            Ok(()) => return outcome,
            Err(why) if start.elapsed() > SETTLE => {
                panic!("{who}: {why}\nservers: {:#?}", outcome.snapshot)
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Seed data written straight to servers before each run: (set label `reads.0`, key, value).
pub type Seed<'a> = &'a [(&'a str, &'a str, &'a str)];

fn seed(topology: &Topology, seed: Seed) {
    for (label, k, v) in seed {
        topology.server(label).cmd(&["SET", k, v]);
    }
}

/// Run `script` through Envoy started from `yaml`.
pub fn through_envoy(
    topology: &Topology,
    yaml: &str,
    script: &[Command],
    seeds: Seed,
    check: Check,
) -> Outcome {
    topology.reset();
    seed(topology, seeds);
    let envoy = Envoy::start_yaml(yaml);
    let mut con = envoy.connection();
    con.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let replies = script
        .iter()
        .map(|c| {
            let mut cmd = redis::cmd(std::str::from_utf8(&c[0]).unwrap());
            for a in &c[1..] {
                cmd.arg(a.as_slice());
            }
            let v = redis::ConnectionLike::req_command(&mut con, &cmd)
                .unwrap_or_else(|e| panic!("Envoy: {}: {e}", show_command(c)));
            Reply::from_redis(v)
        })
        .collect();
    let outcome = settle(topology, "Envoy", replies, check);
    envoy.stop();
    outcome
}

/// The shardis config of a bootstrap YAML.
pub fn shardis_config(yaml: &str) -> Config {
    Config::from_envoy_yaml(yaml, None).unwrap_or_else(|e| panic!("from_envoy_yaml: {e}\n{yaml}"))
}

/// Run `script` through a shardis client configured from `yaml`.
pub fn through_shardis(
    topology: &Topology,
    yaml: &str,
    script: &[Command],
    seeds: Seed,
    check: Check,
) -> Outcome {
    topology.reset();
    seed(topology, seeds);
    let client = Client::new(shardis_config(yaml)).unwrap_or_else(|e| panic!("client: {e}"));
    let replies = script
        .iter()
        .map(|c| Reply::from_shardis(client.query(c)))
        .collect();
    drain_mirrors(&client);
    let outcome = settle(topology, "shardis", replies, check);
    drop(client);
    outcome
}

/// Wait (bounded) until every mirror copy shardis queued was sent or failed.
fn drain_mirrors(client: &Client) {
    let start = Instant::now();
    loop {
        let Some(routing) = client.stats().routing else {
            return;
        };
        let pending: Vec<_> = routing
            .mirrors
            .iter()
            .filter(|(_, m)| m.sent + m.failed + m.dropped < m.queued)
            .collect();
        if pending.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < SETTLE,
            "shardis' mirror copies did not drain: {pending:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Both runs must agree on every reply and every server's holdings.
pub fn assert_same(script: &[Command], envoy: &Outcome, ours: &Outcome) {
    let mut bad = Vec::new();
    for (i, c) in script.iter().enumerate() {
        if envoy.replies[i] != ours.replies[i] {
            bad.push(format!(
                "#{i} {}: Envoy {:?}, shardis {:?}",
                show_command(c),
                envoy.replies[i],
                ours.replies[i]
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} replies differ:\n{}",
        bad.len(),
        script.len(),
        bad.join("\n")
    );
    let diff = envoy.snapshot.diff(&ours.snapshot, 30);
    assert!(
        diff.is_empty(),
        "servers hold different keys after Envoy (first) and shardis (second):\n{}",
        diff.join("\n")
    );
}

/// The whole procedure for one YAML: through Envoy, then through shardis, same servers.
/// Returns both outcomes for extra checks.
pub fn differential(
    topology: &Topology,
    template: &str,
    script: &[Command],
    seeds: Seed,
    check: Check,
) -> (Outcome, Outcome) {
    let yaml = topology.render(template);
    let envoy = through_envoy(topology, &yaml, script, seeds, check);
    let ours = through_shardis(topology, &yaml, script, seeds, check);
    assert_same(script, &envoy, &ours);
    (envoy, ours)
}

/// The same script through Envoy and through shardis, without requiring they agree (for
/// the documented differences, where each side's result is asserted on its own).
pub fn both(
    topology: &Topology,
    template: &str,
    script: &[Command],
    check: Check,
) -> (Outcome, Outcome) {
    let yaml = topology.render(template);
    let envoy = through_envoy(topology, &yaml, script, &[], check);
    let ours = through_shardis(topology, &yaml, script, &[], check);
    (envoy, ours)
}

/// A fixture under `tests/envoy/`.
pub fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("envoy")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every server of every set in `sets` holds at least one key (the run is not vacuous).
pub fn every_server_used(o: &Outcome, sets: &[&str]) -> Result<(), String> {
    for (label, m) in &o.snapshot.0 {
        if sets.contains(&label.split('.').next().unwrap_or("")) && m.is_empty() {
            return Err(format!("{}: server {label} holds no key", o.who));
        }
    }
    Ok(())
}
