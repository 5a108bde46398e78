//! Chaos suite (issue 10, point 5): Jepsen-style scenarios on real redis-server clusters
//! (cluster-node-timeout 1 s), one file per scenario. Every writer tags its values uniquely
//! (`"{key}|{writer}:{seq}"`, list tokens `"{writer}:{seq}"`), keeps a ledger of what was
//! acknowledged, what failed for sure and what is indeterminate, and each scenario checks
//! the ledger against what the servers hold afterwards (read over plain `redis` crate
//! connections, not through the client under test). Each scenario prints a summary line
//! with its counts and its runtime. Scenarios run one at a time (a static lock): failover
//! timing on a 2-core machine must not compete with another cluster.

mod client_kill;
mod client_pause;
mod failover_loop;
mod rolling_restart;
mod slot_migration;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use shardis::{Client, Config, Error, ErrorKind, Mode, ReadFrom};
use shardis_tests::Cluster;
use shardis_tests::cluster::key_slot;

static SERIAL: Mutex<()> = Mutex::new(());

/// Hold for the whole scenario.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A cluster client seeded with every node (any survivor can answer a refresh).
pub fn client(cluster: &Cluster, read_from: ReadFrom, timeout: Duration) -> Client {
    let mut b = Config::builder()
        .mode(Mode::Cluster)
        .read_from(read_from)
        .timeout(timeout)
        .connect_timeout(Duration::from_millis(300));
    for addr in cluster.addrs() {
        b = b.node(&addr);
    }
    Client::new(b.build().unwrap()).unwrap()
}

/// What a write's outcome says about its execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Acknowledged: it ran.
    Acked,
    /// Indeterminate (or a timeout): it may or may not have run.
    Maybe,
    /// Any other error: the client says it did not run.
    Failed,
}

/// The fate of a write that ended with `e`: an `Indeterminate` error or a timeout may have
/// run; anything else is a definite "not executed".
pub fn fate_of(e: &Error) -> Fate {
    if e.kind() == ErrorKind::Indeterminate || e.is_timeout() {
        Fate::Maybe
    } else {
        Fate::Failed
    }
}

/// Sets the flag when dropped: load threads stop even when the scenario panics.
#[derive(Default)]
pub struct StopOnDrop(pub Arc<AtomicBool>);

impl StopOnDrop {
    /// A handle for a load thread.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }

    /// Stop now.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Prints the scenario's runtime when it ends, passed or failed.
pub struct Runtime {
    name: &'static str,
    start: Instant,
}

impl Runtime {
    /// Start the clock for `name`.
    pub fn start(name: &'static str) -> Runtime {
        eprintln!("chaos/{name}: starting");
        Runtime {
            name,
            start: Instant::now(),
        }
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        eprintln!(
            "chaos/{}: runtime {:.1?}{}",
            self.name,
            self.start.elapsed(),
            if std::thread::panicking() {
                " (FAILED)"
            } else {
                ""
            }
        );
    }
}

/// A tagged string value: `"{key}|{writer}:{seq}"` (optionally followed by `|padding`).
pub fn tagged(key: &str, writer: usize, seq: u64) -> String {
    format!("{key}|{writer}:{seq}")
}

/// Parse a tagged value into (key, writer, seq).
pub fn parse_tagged(value: &[u8]) -> Option<(String, usize, u64)> {
    let text = std::str::from_utf8(value).ok()?;
    let mut parts = text.split('|');
    let key = parts.next()?;
    let (w, s) = parts.next()?.split_once(':')?;
    Some((key.to_string(), w.parse().ok()?, s.parse().ok()?))
}

/// Parse a list token `"{writer}:{seq}"`.
pub fn parse_token(token: &str) -> Option<(usize, u64)> {
    let (w, s) = token.split_once(':')?;
    Some((w.parse().ok()?, s.parse().ok()?))
}

/// Error counts by kind (`"indeterminate(timeout)"` for the timed-out kind).
#[derive(Debug, Default, Clone)]
pub struct ErrorTally(pub std::collections::BTreeMap<String, u64>);

impl ErrorTally {
    /// Count `e`.
    pub fn add(&mut self, e: &Error) {
        let name = match (e.kind(), e.cause()) {
            (ErrorKind::Indeterminate, Some(c)) => format!("indeterminate({c})"),
            (ErrorKind::Server, _) => format!("server({})", e.code().unwrap_or("?")),
            (k, _) => k.to_string(),
        };
        *self.0.entry(name).or_default() += 1;
    }

    /// Merge another tally.
    pub fn merge(&mut self, other: &ErrorTally) {
        for (k, v) in &other.0 {
            *self.0.entry(k.clone()).or_default() += v;
        }
    }

    /// Total.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

/// The servers' own view, read over plain connections to each slot's primary (the
/// observer, independent of the client under test). Build it on a healthy cluster.
pub struct Servers {
    owners: Vec<String>,
    cons: HashMap<String, redis::Connection>,
}

impl Servers {
    /// Connect to every primary.
    pub fn new(cluster: &Cluster) -> Servers {
        let owners = cluster.slot_owners();
        let cons = cluster
            .primaries()
            .into_iter()
            .map(|p| {
                let c = cluster.node(&p).connection();
                (p, c)
            })
            .collect();
        Servers { owners, cons }
    }

    /// The primary serving `key`.
    pub fn owner(&self, key: &str) -> &str {
        &self.owners[key_slot(key.as_bytes()) as usize]
    }

    /// Run a command about `key` on its primary.
    pub fn query(&mut self, key: &str, args: &[&str]) -> redis::Value {
        let owner = self.owner(key).to_string();
        let con = self
            .cons
            .get_mut(&owner)
            .unwrap_or_else(|| panic!("no connection to {owner} for {key}"));
        let mut c = redis::cmd(args[0]);
        for a in &args[1..] {
            c.arg(*a);
        }
        c.query(con)
            .unwrap_or_else(|e| panic!("{args:?} on {owner}: {e}"))
    }

    /// `GET key` (None for a missing key).
    pub fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        match self.query(key, &["GET", key]) {
            redis::Value::Nil => None,
            redis::Value::BulkString(b) => Some(b),
            other => panic!("GET {key}: {other:?}"),
        }
    }

    /// `LRANGE key 0 -1` as strings.
    pub fn list(&mut self, key: &str) -> Vec<String> {
        match self.query(key, &["LRANGE", key, "0", "-1"]) {
            redis::Value::Array(a) => a
                .into_iter()
                .map(|v| match v {
                    redis::Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
                    other => panic!("LRANGE {key}: element {other:?}"),
                })
                .collect(),
            other => panic!("LRANGE {key}: {other:?}"),
        }
    }

    /// An integer key (`GET`, 0 when missing).
    pub fn counter(&mut self, key: &str) -> i64 {
        self.get(key)
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .parse()
                    .unwrap_or_else(|e| panic!("{key}: {e}"))
            })
            .unwrap_or(0)
    }
}

/// Fail with the first few of `items` when there are any.
pub fn assert_none(what: &str, items: &[String]) {
    assert!(
        items.is_empty(),
        "{} {what}: {}",
        items.len(),
        first(items, 10)
    );
}

/// The first `n` of `items`, for a failure message.
pub fn first<T: std::fmt::Debug>(items: &[T], n: usize) -> String {
    format!("{:?}", &items[..items.len().min(n)])
}

/// Keys with `prefix` whose slots cover every primary of `cluster` (asserted), `n` of them.
pub fn spread_keys(cluster: &Cluster, prefix: &str, n: usize) -> Vec<String> {
    let owners = cluster.slot_owners();
    let keys: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    let mut covered: Vec<&str> = keys
        .iter()
        .map(|k| owners[key_slot(k.as_bytes()) as usize].as_str())
        .collect();
    covered.sort();
    covered.dedup();
    assert_eq!(
        covered.len(),
        cluster.primaries().len(),
        "{prefix}*: keys do not cover every primary"
    );
    keys
}

#[test]
fn key_slot_matches_the_server() {
    let _s = serial();
    let cluster = Cluster::start(1, 0);
    for key in [
        "",
        "a",
        "foo",
        "{user1000}.following",
        "foo{}{bar}",
        "{}",
        "x{y}z{w}",
    ] {
        let server = match cluster.nodes[0].cmd(&["CLUSTER", "KEYSLOT", key]) {
            redis::Value::Int(i) => i as u16,
            other => panic!("{other:?}"),
        };
        assert_eq!(key_slot(key.as_bytes()), server, "{key}");
    }
}

/// The replies of one writer's counter-like calls on one key (`INCR` values, `RPUSH`
/// lengths). Each acknowledged reply may exceed the previous acknowledged one by at most
/// 1 + the indeterminate calls in between: more means a call reported as failed ran
/// anyway, or one call ran twice. A smaller reply (a regression) means acknowledged
/// increments were lost — a failover's asynchronous replication can do that.
#[derive(Debug, Default)]
pub struct Monotone {
    last: i64,
    maybe_since: i64,
    /// Acknowledged calls.
    pub acked: u64,
    /// Indeterminate calls.
    pub maybe: u64,
    /// Calls that failed for sure.
    pub failed: u64,
    /// Every acknowledged reply with when it arrived.
    pub history: Vec<(i64, Instant)>,
    /// Regressions: (previous acknowledged reply, this reply, when).
    pub regressions: Vec<(i64, i64, Instant)>,
}

impl Monotone {
    /// An acknowledged reply `v`; an error message when it jumps too far.
    pub fn ok(&mut self, v: i64, at: Instant) -> Result<(), String> {
        let allowed = 1 + self.maybe_since;
        let jump = v - self.last;
        let result = if jump > allowed {
            Err(format!(
                "reply {v} after {}: +{jump} with only {} indeterminate call(s) in between",
                self.last, self.maybe_since
            ))
        } else {
            Ok(())
        };
        if jump < 1 {
            self.regressions.push((self.last, v, at));
        }
        self.last = v;
        self.maybe_since = 0;
        self.acked += 1;
        self.history.push((v, at));
        result
    }

    /// A failed call.
    pub fn err(&mut self, fate: Fate) {
        match fate {
            Fate::Maybe => {
                self.maybe += 1;
                self.maybe_since += 1;
            }
            _ => self.failed += 1,
        }
    }
}
