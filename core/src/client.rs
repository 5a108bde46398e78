//! [`Client`]: the public handle. A cheap clone of an `Arc<Core>`; the core holds the
//! topology, the per-node connection pools (rebuilt after `fork()`), and the stats.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::command::Cmd;
use crate::command::table::CommandSpec;
use crate::config::Config;
use crate::conn::{Conn, ConnSettings, NodePool};
use crate::error::Result;
use crate::exec::transaction::Transaction;
use crate::process;
use crate::reply::Value;
use crate::router::plan::{self, Plan};
use crate::stats::{Stats, StatsSnapshot};
use crate::topology::Topology;

/// Connection pools of one process generation (see `process`).
pub(crate) struct ConnState {
    generation: u64,
    pub(crate) pools: Vec<NodePool>,
}

impl ConnState {
    fn new(generation: u64, nodes: usize, max_idle: usize) -> ConnState {
        ConnState {
            generation,
            pools: (0..nodes).map(|_| NodePool::new(max_idle)).collect(),
        }
    }
}

/// Everything one configuration needs, shared by all handles and threads.
pub(crate) struct Core {
    pub(crate) config: Config,
    pub(crate) topology: Topology,
    pub(crate) settings: ConnSettings,
    pub(crate) stats: Stats,
    conns: ArcSwap<ConnState>,
    random: AtomicU64,
}

impl Core {
    /// Build a core. No sockets, threads or runtimes are created here: connections open
    /// lazily on first use.
    pub(crate) fn new(config: Config) -> Result<Core> {
        let topology = Topology::from_config(&config)?;
        process::install_fork_handlers();
        let n = topology.nodes().len();
        let names = topology.nodes().iter().map(|n| n.addr.clone()).collect();
        Ok(Core {
            settings: ConnSettings::from_config(&config),
            stats: Stats::new(names),
            conns: ArcSwap::from_pointee(ConnState::new(
                process::generation(),
                n,
                config.max_idle_connections,
            )),
            random: AtomicU64::new(seed()),
            topology,
            config,
        })
    }

    /// This process's connection state; in a forked child, a fresh one.
    #[inline]
    pub(crate) fn conns(&self) -> arc_swap::Guard<Arc<ConnState>> {
        let state = self.conns.load();
        let generation = process::generation();
        if state.generation == generation {
            return state;
        }
        drop(state);
        self.renew_after_fork(generation);
        self.conns.load()
    }

    #[cold]
    fn renew_after_fork(&self, generation: u64) {
        let fresh = Arc::new(ConnState::new(
            generation,
            self.topology.nodes().len(),
            self.config.max_idle_connections,
        ));
        let current = self.conns.load_full();
        if current.generation == generation {
            return;
        }
        let previous = self.conns.compare_and_swap(&current, fresh);
        if Arc::ptr_eq(&previous, &current) {
            for pool in &current.pools {
                pool.abandon_in_child();
            }
        }
    }

    /// A connection to `node`: an idle pooled one, or a new one. `true` if reused.
    pub(crate) fn checkout(&self, node: usize, deadline: Instant) -> Result<(Conn, bool)> {
        if let Some(c) = self.conns().pools[node].take() {
            return Ok((c, true));
        }
        let n = self.topology.node(node);
        let result = Conn::connect(&n.addr, &n.host, n.port, &self.settings, deadline);
        self.stats.node_connect(node, result.is_ok());
        result.map(|c| (c, false))
    }

    /// Give a healthy connection back.
    #[inline]
    pub(crate) fn checkin(&self, node: usize, conn: Conn) {
        self.conns().pools[node].put(conn);
    }

    /// A pseudo-random number (RANDOMKEY's node choice).
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

/// A shardis client: routes commands over the configured nodes. Cheap to clone; all clones
/// share connections. `Send + Sync`: one client can serve many threads (each call uses its
/// own pooled connection).
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
        let start = Instant::now();
        let core = &*self.core;
        let spec = match plan::resolve(cmd) {
            Ok(s) => s,
            Err(e) => {
                let r = Err(e);
                core.record(None, start, &r);
                return r;
            }
        };
        let result = plan::plan(spec, cmd, &core.topology).and_then(|p| {
            let deadline = start + core.config.timeout;
            match p {
                Plan::Single(node) => core.call_node(node, cmd, spec.is_readonly(), deadline),
                Plan::AnyNode => core.call_any(cmd, spec.is_readonly(), deadline),
                Plan::RandomKey => core.random_key(cmd, deadline),
                other => core
                    .run_planned(vec![(Some(spec), cmd, Ok(other))], deadline)
                    .pop()
                    .unwrap_or(Ok(Value::Nil)),
            }
        });
        core.record(Some(spec), start, &result);
        result
    }

    /// Run one command given as an argv (`client.query(["SET", "k", "v"])`).
    pub fn query<I, A>(&self, args: I) -> Result<Value>
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        self.execute(&Cmd::from_args(args))
    }

    /// Run a non-transactional pipeline: commands are split per node, sent together, and
    /// the replies come back in submission order. One command failing does not fail the
    /// others; one deadline covers the whole pipeline.
    pub fn pipeline(&self, cmds: &[Cmd]) -> Vec<Result<Value>> {
        self.core.pipeline(cmds)
    }

    /// Start a MULTI/EXEC transaction (pinned to one node).
    pub fn transaction(&self) -> Transaction {
        Transaction::new(self.core.clone())
    }

    /// The node (`host:port`) that holds `key`.
    pub fn node_for(&self, key: &[u8]) -> &str {
        let i = self.core.topology.node_for_key(key);
        &self.core.topology.node(i).addr
    }

    /// The configured nodes (`host:port`).
    pub fn nodes(&self) -> Vec<String> {
        self.core
            .topology
            .nodes()
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
        let conns = self.core.conns();
        let idle: Vec<usize> = conns.pools.iter().map(NodePool::idle_count).collect();
        self.core.stats.snapshot(&idle)
    }

    /// Do both handles share one core (connections, topology, stats)?
    pub fn same_core(&self, other: &Client) -> bool {
        Arc::ptr_eq(&self.core, &other.core)
    }

    /// The call deadline.
    pub fn timeout(&self) -> Duration {
        self.core.config.timeout
    }
}
