//! [`Client`]: the public handle, a cheap clone of an `Arc` of the shared runtime state
//! ([`Core`]); its methods hand the work to execution (`exec`).

use std::sync::Arc;
use std::time::Duration;

use crate::command::Cmd;
use crate::config::Config;
use crate::core::Core;
use crate::error::Result;
use crate::exec;
use crate::exec::routed::Routed;
use crate::exec::transaction::Transaction;
use crate::reply::Value;
use crate::stats::{RefreshReason, StatsSnapshot};

/// A shardis client: routes commands over the configured nodes or cluster. Cheap to clone;
/// all clones share connections. `Send + Sync`: one client can serve many threads (each
/// call uses its own pooled connection).
#[derive(Clone)]
pub struct Client {
    /// The one backend; with several backends, the primary one (keyless commands).
    pub(crate) core: Arc<Core>,
    /// Several backends (routes, mirrors, faults); `None` for one shard set.
    pub(crate) routed: Option<Arc<Routed>>,
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
        Client::build(config)
    }

    /// A client with its own connections (and, with several backends, its own cores).
    fn build(config: Config) -> Result<Client> {
        let (core, routed) = exec::routed::build(config)?;
        Ok(Client { core, routed })
    }

    /// The process-shared client for this configuration (same persistent id or same
    /// config → same connections and topology).
    pub fn shared(config: Config) -> Result<Client> {
        let (core, routed) = crate::registry::shared(config)?;
        Ok(Client { core, routed })
    }

    /// `Client::new(Config::from_url(url)?)`.
    pub fn from_url(url: &str) -> Result<Client> {
        Client::new(Config::from_url(url)?)
    }

    /// Run one command.
    pub fn execute(&self, cmd: &Cmd) -> Result<Value> {
        match &self.routed {
            None => exec::command::execute_one(&self.core, cmd),
            Some(r) => exec::routed::command::execute(r, cmd),
        }
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
        match &self.routed {
            None => exec::pipeline::execute_all(&self.core, cmds),
            Some(r) => exec::routed::pipeline::execute_all_routed(r, cmds),
        }
    }

    /// Start a MULTI/EXEC transaction (pinned to one node; one slot in cluster mode; with
    /// routes, one backend).
    pub fn transaction(&self) -> Transaction {
        Transaction::new(self.core.clone(), self.routed.clone())
    }

    /// The node (`host:port`) that holds `key` — in cluster mode the primary of its slot
    /// (the topology is loaded first if needed); with routes, on the key's backend.
    pub fn node_for(&self, key: &[u8]) -> Result<String> {
        self.route_for(key).map(|(node, _)| node)
    }

    /// Where `key` lives: the node (`host:port`) of its primary and the key as that server
    /// stores it (after a route's `remove_prefix` and `key_formatter`).
    pub fn route_for(&self, key: &[u8]) -> Result<(String, Vec<u8>)> {
        match &self.routed {
            None => exec::keyspace::primary_addr(&self.core, key).map(|n| (n, key.to_vec())),
            Some(r) => {
                let (backend, stored) = r.place_key(key)?;
                let node = exec::keyspace::primary_addr(&r.cores[backend], &stored)?;
                Ok((node, stored))
            }
        }
    }

    /// With routes: the backend (name) that holds `key`; `default` for one shard set.
    pub fn backend_for(&self, key: &[u8]) -> Result<String> {
        match &self.routed {
            None => Ok(crate::config::routing::DEFAULT_BACKEND.to_owned()),
            Some(r) => Ok(r.backend_name(r.place_key(key)?.0).to_owned()),
        }
    }

    /// The known nodes (`host:port`): the configured nodes, or in cluster mode the nodes of
    /// the current topology (plus the seeds; nodes a refresh no longer names are dropped).
    pub fn nodes(&self) -> Vec<String> {
        if let Some(r) = &self.routed {
            return r.nodes();
        }
        self.core
            .nodes
            .all()
            .iter()
            .map(|n| n.addr.clone())
            .collect()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        match &self.routed {
            None => &self.core.config,
            Some(r) => &r.config,
        }
    }

    /// A snapshot of the stats.
    pub fn stats(&self) -> StatsSnapshot {
        match &self.routed {
            None => self.core.stats_snapshot(),
            Some(r) => r.stats_snapshot(),
        }
    }

    /// Do both handles share one core (connections, topology, stats)?
    pub fn same_core(&self, other: &Client) -> bool {
        match (&self.routed, &other.routed) {
            (None, None) => Arc::ptr_eq(&self.core, &other.core),
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// The call deadline.
    pub fn timeout(&self) -> Duration {
        self.core.config.timeout
    }

    /// Cluster mode: refresh the topology now (rate limits apply); true if a new snapshot was
    /// stored.
    pub fn refresh_topology(&self) -> Result<bool> {
        let cores = match &self.routed {
            None => std::slice::from_ref(&self.core),
            Some(r) => r.cores.as_slice(),
        };
        let mut refreshed = false;
        for core in cores.iter().filter(|c| c.topology.cluster().is_some()) {
            let deadline = core.deadline();
            refreshed |= exec::refresh::now(core, RefreshReason::Topology, None, deadline)?;
        }
        Ok(refreshed)
    }
}
