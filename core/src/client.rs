//! [`Client`]: the public handle, a cheap clone of an `Arc` of the shared runtime state
//! ([`Core`]); its methods hand the work to execution (`exec`).

use std::sync::Arc;
use std::time::Duration;

use crate::command::Cmd;
use crate::config::Config;
use crate::core::Core;
use crate::error::Result;
use crate::exec;
use crate::exec::transaction::Transaction;
use crate::reply::Value;
use crate::stats::{RefreshReason, StatsSnapshot};

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
            core: Core::new(config)?,
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
        exec::command::execute_one(&self.core, cmd)
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
        exec::pipeline::execute_all(&self.core, cmds)
    }

    /// Start a MULTI/EXEC transaction (pinned to one node; one slot in cluster mode).
    pub fn transaction(&self) -> Transaction {
        Transaction::new(self.core.clone())
    }

    /// The node (`host:port`) that holds `key` — in cluster mode the primary of its slot
    /// (the topology is loaded first if needed).
    pub fn node_for(&self, key: &[u8]) -> Result<String> {
        exec::keyspace::primary_addr(&self.core, key)
    }

    /// The known nodes (`host:port`): the configured nodes, or in cluster mode the nodes of
    /// the current topology (plus the seeds; nodes a refresh no longer names are dropped).
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
        self.core.stats_snapshot()
    }

    /// Do both handles share one core (connections, topology, stats)?
    pub fn same_core(&self, other: &Client) -> bool {
        Arc::ptr_eq(&self.core, &other.core)
    }

    /// The call deadline.
    pub fn timeout(&self) -> Duration {
        self.core.config.timeout
    }

    /// Cluster mode: refresh the topology now (rate limits apply); true if a new snapshot was
    /// stored.
    pub fn refresh_topology(&self) -> Result<bool> {
        let deadline = self.core.deadline();
        exec::refresh::now(&self.core, RefreshReason::Topology, None, deadline)
    }
}
