//! [`Core`]: the shared runtime state of one configuration — config, node table (pools,
//! health, counters), topology, connection settings and stats — shared by every handle and
//! thread. Execution (`exec`) works on it; the public [`Client`](crate::Client) holds one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

use crate::command::table::CommandSpec;
use crate::config::Config;
use crate::conn::connection::ConnSettings;
use crate::conn::nodes::Nodes;
use crate::error::Result;
use crate::process;
use crate::reply::Value;
use crate::stats::{Stats, StatsSnapshot, TlsMode};
use crate::topology::model::Topology;

/// Everything one configuration needs, shared by all handles and threads.
pub(crate) struct Core {
    pub(crate) config: Config,
    pub(crate) nodes: Nodes,
    pub(crate) topology: Topology,
    pub(crate) settings: ConnSettings,
    pub(crate) stats: Stats,
    random: AtomicU64,
    /// This core itself, for work handed to a background thread (a topology refresh that
    /// no caller waits for).
    me: Weak<Core>,
}

impl Core {
    /// Build a core. No sockets, threads or runtimes are created here: connections open
    /// (and a cluster's topology is learned) lazily on first use.
    pub(crate) fn new(config: Config) -> Result<Arc<Core>> {
        let nodes = Nodes::new(config.max_idle_connections);
        let topology = Topology::from_config(&config, &nodes)?;
        let settings = ConnSettings::from_config(&config)?;
        process::install_fork_handlers();
        Ok(Arc::new_cyclic(|me| Core {
            settings,
            stats: Stats::new(),
            random: AtomicU64::new(seed()),
            nodes,
            topology,
            config,
            me: me.clone(),
        }))
    }

    /// A handle on this core that can outlive the caller's borrow.
    pub(crate) fn handle(&self) -> Option<Arc<Core>> {
        self.me.upgrade()
    }

    /// A pseudo-random number (replica rotation, RANDOMKEY's first node).
    pub(crate) fn next_random(&self) -> u64 {
        // splitmix64 over an atomic counter.
        let mut z = self
            .random
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The deadline of a call starting now.
    pub(crate) fn deadline(&self) -> Instant {
        Instant::now() + self.config.timeout
    }

    /// Record one finished call of `spec` that started at `start`.
    pub(crate) fn record(
        &self,
        spec: Option<&'static CommandSpec>,
        start: Instant,
        result: &Result<Value>,
    ) {
        let kind = result.as_ref().err().map(crate::Error::kind);
        self.stats.call(spec, start.elapsed(), kind);
    }

    /// A snapshot of the stats, with the nodes in the table now.
    pub(crate) fn stats_snapshot(&self) -> StatsSnapshot {
        self.stats.snapshot(self.nodes.stats(), self.tls_mode())
    }

    /// How this core's connections use TLS.
    pub(crate) fn tls_mode(&self) -> TlsMode {
        match self.config.tls() {
            None => TlsMode::Off,
            Some(t) if t.insecure_skip_verify => TlsMode::Insecure,
            Some(_) => TlsMode::Verified,
        }
    }
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (u64::from(std::process::id()) << 32)
}
