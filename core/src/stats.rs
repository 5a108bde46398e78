//! Stats: per command and per node calls, errors and latency, cluster events (refreshes by
//! reason, redirects, retries, ejections), kept in lock-free atomic counters (safe to share
//! across threads and to inherit across `fork()`), read as a [`StatsSnapshot`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

use crate::command::table::{self, CommandSpec};
use crate::error::ErrorKind;

/// Latency buckets: bucket `i` counts latencies below `2^i` µs (the last is open-ended).
const BUCKETS: usize = 26;

/// A latency histogram. Recording costs two atomic additions (and a plain load for the
/// maximum): the count is the sum of the buckets, not a counter of its own.
#[derive(Default)]
pub(crate) struct Latency {
    total_us: AtomicU64,
    max_us: AtomicU64,
    buckets: [AtomicU64; BUCKETS],
}

impl Latency {
    #[inline]
    pub(crate) fn record(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.total_us.fetch_add(us, Ordering::Relaxed);
        if us > self.max_us.load(Ordering::Relaxed) {
            self.max_us.fetch_max(us, Ordering::Relaxed);
        }
        let bucket = (64 - us.leading_zeros() as usize).min(BUCKETS - 1);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
    }

    /// Recorded latencies.
    pub(crate) fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    pub(crate) fn snapshot(&self) -> LatencyStats {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let count: u64 = counts.iter().sum();
        let quantile = |q: f64| -> u64 {
            let target = ((count as f64) * q).ceil() as u64;
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= target.max(1) {
                    return 1u64 << i;
                }
            }
            0
        };
        let total = self.total_us.load(Ordering::Relaxed);
        LatencyStats {
            avg_us: total.checked_div(count).unwrap_or(0),
            p50_us: if count == 0 { 0 } else { quantile(0.5) },
            p99_us: if count == 0 { 0 } else { quantile(0.99) },
            max_us: self.max_us.load(Ordering::Relaxed),
        }
    }
}

/// Latency summary in microseconds; p50/p99 are upper bounds of power-of-two buckets.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct LatencyStats {
    /// Mean.
    pub avg_us: u64,
    /// Median (bucket upper bound).
    pub p50_us: u64,
    /// 99th percentile (bucket upper bound).
    pub p99_us: u64,
    /// Maximum.
    pub max_us: u64,
}

/// Per-command counters; the number of calls is the latency histogram's count.
#[derive(Default)]
struct CommandCounters {
    errors: AtomicU64,
    latency: Latency,
}

/// Per-node counters (owned by the node, so they follow it across topology changes).
#[derive(Default)]
pub(crate) struct NodeCounters {
    pub(crate) requests: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) connects: AtomicU64,
    pub(crate) connect_errors: AtomicU64,
    pub(crate) tls_handshakes: AtomicU64,
    pub(crate) tls_resumed: AtomicU64,
    pub(crate) latency: Latency,
}

impl NodeCounters {
    /// `requests` requests took `elapsed` (one round trip).
    pub(crate) fn round_trip(&self, requests: usize, elapsed: Duration) {
        self.requests.fetch_add(requests as u64, Ordering::Relaxed);
        self.latency.record(elapsed);
    }

    /// A connection-level failure.
    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters as [`NodeStats`], with the pool's and health's figures.
    pub(crate) fn snapshot(&self, idle: usize, ejections: u64, ejected: bool) -> NodeStats {
        NodeStats {
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            connects: self.connects.load(Ordering::Relaxed),
            connect_errors: self.connect_errors.load(Ordering::Relaxed),
            tls_handshakes: self.tls_handshakes.load(Ordering::Relaxed),
            tls_resumed: self.tls_resumed.load(Ordering::Relaxed),
            idle_connections: idle,
            ejections,
            ejected,
            latency: self.latency.snapshot(),
        }
    }

    /// A completed TLS handshake (`resumed`: an earlier session was resumed).
    pub(crate) fn tls_handshake(&self, resumed: bool) {
        self.tls_handshakes.fetch_add(1, Ordering::Relaxed);
        if resumed {
            self.tls_resumed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A connection attempt.
    pub(crate) fn connect(&self, ok: bool) {
        self.connects.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.connect_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Why the cluster topology was refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshReason {
    /// First use.
    Initial,
    /// Older than `refresh.interval`.
    Interval,
    /// After MOVED redirects.
    Moved,
    /// After connection failures.
    Failures,
    /// A slot without an owner.
    Uncovered,
    /// READONLY / CLUSTERDOWN / MASTERDOWN replies, or a circular MOVED.
    Topology,
}

impl RefreshReason {
    const ALL: [RefreshReason; 6] = [
        RefreshReason::Initial,
        RefreshReason::Interval,
        RefreshReason::Moved,
        RefreshReason::Failures,
        RefreshReason::Uncovered,
        RefreshReason::Topology,
    ];

    fn as_str(self) -> &'static str {
        match self {
            RefreshReason::Initial => "initial",
            RefreshReason::Interval => "interval",
            RefreshReason::Moved => "moved",
            RefreshReason::Failures => "failures",
            RefreshReason::Uncovered => "uncovered",
            RefreshReason::Topology => "topology",
        }
    }
}

/// Cluster-mode event counters.
#[derive(Default)]
pub(crate) struct ClusterCounters {
    refreshes: [AtomicU64; 6],
    pub(crate) refresh_failures: AtomicU64,
    pub(crate) moved: AtomicU64,
    pub(crate) ask: AtomicU64,
    pub(crate) retries: AtomicU64,
    pub(crate) transient: AtomicU64,
    pub(crate) nodes_removed: AtomicU64,
}

impl ClusterCounters {
    pub(crate) fn refreshed(&self, reason: RefreshReason) {
        let i = RefreshReason::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(0);
        self.refreshes[i].fetch_add(1, Ordering::Relaxed);
    }
}

/// Live counters of one core.
pub(crate) struct Stats {
    commands: Vec<CommandCounters>,
    errors_by_kind: [AtomicU64; 16],
    pub(crate) cluster: ClusterCounters,
}

impl Stats {
    pub(crate) fn new() -> Stats {
        Stats {
            commands: (0..=table::all().len())
                .map(|_| CommandCounters::default())
                .collect(),
            errors_by_kind: Default::default(),
            cluster: ClusterCounters::default(),
        }
    }

    fn command_slot(&self, spec: Option<&'static CommandSpec>) -> &CommandCounters {
        let i = spec.map(table::index_of).unwrap_or(table::all().len());
        &self.commands[i.min(self.commands.len() - 1)]
    }

    /// One call of `spec` finished after `elapsed`, failed with `error` if any.
    pub(crate) fn call(
        &self,
        spec: Option<&'static CommandSpec>,
        elapsed: Duration,
        error: Option<ErrorKind>,
    ) {
        let c = self.command_slot(spec);
        c.latency.record(elapsed);
        if let Some(kind) = error {
            c.errors.fetch_add(1, Ordering::Relaxed);
            self.errors_by_kind[kind_index(kind)].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A copy of the counters, with the per-node stats of the nodes in the table now.
    pub(crate) fn snapshot(&self, nodes: Vec<(String, NodeStats)>, tls: TlsMode) -> StatsSnapshot {
        let mut commands = BTreeMap::new();
        for (i, c) in self.commands.iter().enumerate() {
            let calls = c.latency.count();
            if calls == 0 {
                continue;
            }
            let name = table::all().get(i).map(|s| s.name).unwrap_or("(unknown)");
            commands.insert(
                name.to_owned(),
                CommandStats {
                    calls,
                    errors: c.errors.load(Ordering::Relaxed),
                    latency: c.latency.snapshot(),
                },
            );
        }
        let node_stats: BTreeMap<String, NodeStats> = nodes.into_iter().collect();
        let mut errors = BTreeMap::new();
        for kind in ALL_KINDS {
            let v = self.errors_by_kind[kind_index(kind)].load(Ordering::Relaxed);
            if v > 0 {
                errors.insert(kind.as_str().to_owned(), v);
            }
        }
        let cl = &self.cluster;
        let refreshes = RefreshReason::ALL
            .iter()
            .zip(&cl.refreshes)
            .filter(|(_, c)| c.load(Ordering::Relaxed) > 0)
            .map(|(r, c)| (r.as_str().to_owned(), c.load(Ordering::Relaxed)))
            .collect();
        let tls = TlsStats {
            enabled: tls != TlsMode::Off,
            insecure_skip_verify: tls == TlsMode::Insecure,
            handshakes: node_stats.values().map(|n| n.tls_handshakes).sum(),
            resumed: node_stats.values().map(|n| n.tls_resumed).sum(),
        };
        StatsSnapshot {
            tls,
            commands,
            nodes: node_stats,
            errors,
            cluster: ClusterStats {
                refreshes,
                refresh_failures: cl.refresh_failures.load(Ordering::Relaxed),
                moved: cl.moved.load(Ordering::Relaxed),
                ask: cl.ask.load(Ordering::Relaxed),
                retries: cl.retries.load(Ordering::Relaxed),
                transient: cl.transient.load(Ordering::Relaxed),
                nodes_removed: cl.nodes_removed.load(Ordering::Relaxed),
            },
            routing: None,
        }
    }
}

const ALL_KINDS: [ErrorKind; 11] = [
    ErrorKind::Config,
    ErrorKind::CrossShard,
    ErrorKind::Unsupported,
    ErrorKind::InvalidArgument,
    ErrorKind::Connect,
    ErrorKind::Auth,
    ErrorKind::Io,
    ErrorKind::Timeout,
    ErrorKind::Indeterminate,
    ErrorKind::Protocol,
    ErrorKind::Server,
];

fn kind_index(kind: ErrorKind) -> usize {
    ALL_KINDS.iter().position(|k| *k == kind).unwrap_or(15)
}

/// Per-command counters.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CommandStats {
    /// Calls.
    pub calls: u64,
    /// Calls that ended in an error (server error replies included).
    pub errors: u64,
    /// Call latency (retries included).
    pub latency: LatencyStats,
}

/// Per-node counters.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodeStats {
    /// Requests sent (pipelined requests count one each).
    pub requests: u64,
    /// Connection-level failures (I/O, timeouts, protocol).
    pub errors: u64,
    /// Connection attempts.
    pub connects: u64,
    /// Failed connection attempts.
    pub connect_errors: u64,
    /// TLS handshakes completed (one per new TLS connection).
    pub tls_handshakes: u64,
    /// Of those, the ones that resumed an earlier session (no certificate exchange).
    pub tls_resumed: u64,
    /// Idle pooled connections now.
    pub idle_connections: usize,
    /// Times this node was ejected by outlier detection.
    pub ejections: u64,
    /// Ejected right now.
    pub ejected: bool,
    /// Round-trip latency of one batch to this node.
    pub latency: LatencyStats,
}

/// A point-in-time copy of a core's stats.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// By command name.
    pub commands: BTreeMap<String, CommandStats>,
    /// By node `host:port`.
    pub nodes: BTreeMap<String, NodeStats>,
    /// Failed calls by error kind.
    pub errors: BTreeMap<String, u64>,
    /// Cluster-mode events (zero in other modes).
    pub cluster: ClusterStats,
    /// TLS: whether it is on, and how connections were set up.
    pub tls: TlsStats,
    /// Several backends: each backend's own stats, mirrors and faults. Absent for one
    /// shard set. With routing, the fields above count the client's calls (one per call,
    /// faults included) and every backend's nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing: Option<Box<RoutingStats>>,
}

/// Stats of a client with several backends.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RoutingStats {
    /// Each backend's own stats, by backend name.
    pub backends: BTreeMap<String, StatsSnapshot>,
    /// Mirror copies by mirror backend name.
    pub mirrors: BTreeMap<String, MirrorStats>,
    /// Injected faults.
    pub faults: FaultStats,
}

/// Mirror figures of one backend.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct MirrorStats {
    /// Copies put on the queue.
    pub queued: u64,
    /// Copies the backend answered (error replies included: the command reached it).
    pub sent: u64,
    /// Copies that did not reach the backend (connect, I/O, timeout, refused before
    /// sending).
    pub failed: u64,
    /// Copies dropped because the queue was full.
    pub dropped: u64,
}

/// Fault injection figures.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct FaultStats {
    /// Commands answered with the injected error.
    pub errors: u64,
    /// Commands delayed.
    pub delays: u64,
}

impl ClusterStats {
    /// Add `other`'s counts to these.
    pub(crate) fn absorb(&mut self, other: &ClusterStats) {
        for (k, v) in &other.refreshes {
            *self.refreshes.entry(k.clone()).or_default() += v;
        }
        self.refresh_failures += other.refresh_failures;
        self.moved += other.moved;
        self.ask += other.ask;
        self.retries += other.retries;
        self.transient += other.transient;
        self.nodes_removed += other.nodes_removed;
    }
}

/// How a core's connections use TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsMode {
    /// Plaintext.
    Off,
    /// TLS with certificate and name verification.
    Verified,
    /// TLS with `insecure_skip_verify = true`.
    Insecure,
}

/// TLS figures of one core.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct TlsStats {
    /// Connections use TLS.
    pub enabled: bool,
    /// Certificates and names are NOT verified (`tls.insecure_skip_verify = true`).
    pub insecure_skip_verify: bool,
    /// TLS handshakes completed, all nodes.
    pub handshakes: u64,
    /// Of those, resumed sessions.
    pub resumed: u64,
}

/// Cluster-mode events.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ClusterStats {
    /// Topology refreshes by reason (`initial`, `interval`, `moved`, `failures`,
    /// `uncovered`, `topology`).
    pub refreshes: BTreeMap<String, u64>,
    /// Refresh attempts where no node answered.
    pub refresh_failures: u64,
    /// MOVED redirects followed.
    pub moved: u64,
    /// ASK redirects followed.
    pub ask: u64,
    /// Requests retried on another node or connection.
    pub retries: u64,
    /// TRYAGAIN / CLUSTERDOWN / LOADING / MASTERDOWN replies retried after a backoff.
    pub transient: u64,
    /// Nodes dropped from the node table (with their idle connections) because a refresh
    /// no longer named them.
    pub nodes_removed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_buckets() {
        let l = Latency::default();
        for us in [10u64, 20, 30, 40, 5000] {
            l.record(Duration::from_micros(us));
        }
        let s = l.snapshot();
        assert_eq!(s.max_us, 5000);
        assert_eq!(s.p50_us, 32);
        assert_eq!(s.p99_us, 8192);
        assert_eq!(s.avg_us, 1020);
    }
}
