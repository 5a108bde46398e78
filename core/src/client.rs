//! [`Client`]: the public handle. A cheap clone of an `Arc<Core>`; the core holds the
//! configuration, the nodes (each with its connection pool, counters and health), the
//! topology, and the stats.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::command::Cmd;
use crate::command::table::CommandSpec;
use crate::config::Config;
use crate::conn::ConnSettings;
use crate::error::Result;
use crate::exec::transaction::Transaction;
use crate::process;
use crate::reply::Value;
use crate::stats::{Stats, StatsSnapshot};
use crate::topology::Topology;
use crate::topology::nodes::Nodes;

/// Everything one configuration needs, shared by all handles and threads.
pub(crate) struct Core {
    pub(crate) config: Config,
    pub(crate) nodes: Nodes,
    pub(crate) topology: Topology,
    pub(crate) settings: ConnSettings,
    pub(crate) stats: Stats,
    random: AtomicU64,
}

impl Core {
    /// Build a core. No sockets, threads or runtimes are created here: connections open
    /// (and a cluster's topology is learned) lazily on first use.
    pub(crate) fn new(config: Config) -> Result<Core> {
        let nodes = Nodes::new(config.max_idle_connections);
        let topology = Topology::from_config(&config, &nodes)?;
        process::install_fork_handlers();
        Ok(Core {
            settings: ConnSettings::from_config(&config),
            stats: Stats::new(),
            random: AtomicU64::new(seed()),
            nodes,
            topology,
            config,
        })
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

    pub(crate) fn deadline(&self) -> Instant {
        Instant::now() + self.config.timeout
    }

    pub(crate) fn record(
        &self,
        spec: Option<&'static CommandSpec>,
        start: Instant,
        result: &Result<Value>,
    ) {
        let kind = result.as_ref().err().map(crate::Error::kind);
        self.stats.call(spec, start.elapsed(), kind);
    }
}

fn seed() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (u64::from(std::process::id()) << 32)
}

/// A shardis client: routes commands over the configured nodes or cluster. Cheap to clone;
/// all clones share connections. `Send + Sync`: one client can serve many threads (each
/// call uses its own pooled connection).
#[derive(Clone)]
pub struct Client {
    pub(crate) core: Arc<Core>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("mode", &self.core.config.mode())
            .field("nodes", &self.nodes())
            .finish()
    }
}

impl Client {
    /// A client with its own connections.
    pub fn new(config: Config) -> Result<Client> {
        Ok(Client {
            core: Arc::new(Core::new(config)?),
        })
    }

    /// The process-shared client for this configuration (same persistent id or same
    /// config → same connections and topology).
    pub fn shared(config: Config) -> Result<Client> {
        Ok(Client {
            core: crate::registry::shared(config)?,
        })
    }

    /// `Client::new(Config::from_url(url)?)`.
    pub fn from_url(url: &str) -> Result<Client> {
        Client::new(Config::from_url(url)?)
    }

    /// Run one command.
    pub fn execute(&self, cmd: &Cmd) -> Result<Value> {
        self.core.execute_one(cmd)
    }

    /// Run one command given as an argv (`client.query(["SET", "k", "v"])`).
    pub fn query<I, A>(&self, args: I) -> Result<Value>
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        self.execute(&Cmd::from_args(args))
    }

    /// Run a non-transactional pipeline: commands are split per node (per slot in cluster
    /// mode), sent together, and the replies come back in submission order. One command
    /// failing does not fail the others; one deadline covers the whole pipeline.
    pub fn pipeline(&self, cmds: &[Cmd]) -> Vec<Result<Value>> {
        self.core.execute_all(cmds)
    }

    /// Start a MULTI/EXEC transaction (pinned to one node; one slot in cluster mode).
    pub fn transaction(&self) -> Transaction {
        Transaction::new(self.core.clone())
    }

    /// The node (`host:port`) that holds `key` — in cluster mode the primary of its slot
    /// (the topology is loaded first if needed).
    pub fn node_for(&self, key: &[u8]) -> Result<String> {
        self.core.primary_addr(key)
    }

    /// The known nodes (`host:port`): configured nodes, or the cluster's nodes seen so far.
    pub fn nodes(&self) -> Vec<String> {
        self.core
            .nodes
            .all()
            .iter()
            .map(|n| n.addr.clone())
            .collect()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.core.config
    }

    /// A snapshot of the stats.
    pub fn stats(&self) -> StatsSnapshot {
        self.core.stats.snapshot(&self.core.nodes.all())
    }

    /// Do both handles share one core (connections, topology, stats)?
    pub fn same_core(&self, other: &Client) -> bool {
        Arc::ptr_eq(&self.core, &other.core)
    }

    /// The call deadline.
    pub fn timeout(&self) -> Duration {
        self.core.config.timeout
    }

    /// Cluster mode: refresh the topology now (rate limits apply); true if it changed.
    pub fn refresh_topology(&self) -> Result<bool> {
        let deadline = self.core.deadline();
        self.core
            .refresh_topology(crate::stats::RefreshReason::Topology, true, None, deadline)
    }
}

impl Core {
    /// The address of the node holding `key` (the primary in cluster mode).
    pub(crate) fn primary_addr(&self, key: &[u8]) -> Result<String> {
        let target = self.topology.unit_of(key, self.config.hash_tags());
        let id = self.primary_of(target, self.deadline())?;
        Ok(self.nodes.get(id).addr.clone())
    }

    /// The node a write to `target` goes to now.
    pub(crate) fn primary_of(
        &self,
        target: crate::topology::Target,
        deadline: Instant,
    ) -> Result<usize> {
        use crate::topology::Target;
        match target {
            Target::Node(id) => Ok(id),
            Target::Any => match self.topology.cluster() {
                None => Ok(self.topology.static_nodes().first().copied().unwrap_or(0)),
                Some(_) => self
                    .cluster_snapshot(deadline)?
                    .shards
                    .first()
                    .map(|s| s.primary)
                    .ok_or_else(|| {
                        crate::Error::new(
                            crate::ErrorKind::Server,
                            "CLUSTERDOWN no shard in the topology",
                        )
                    }),
            },
            Target::Slot(slot) | Target::PrimaryOf(slot) => {
                let snapshot = self.cluster_snapshot(deadline)?;
                snapshot.shard_of(slot).map(|s| s.primary).ok_or_else(|| {
                    crate::Error::new(
                        crate::ErrorKind::Server,
                        format!("CLUSTERDOWN Hash slot {slot} not served"),
                    )
                })
            }
        }
    }
}
