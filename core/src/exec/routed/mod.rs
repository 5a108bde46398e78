//! Several backends behind one client (Envoy's prefix routes): each backend is a complete
//! [`Core`] of its own; this layer finds each key's route (`router::prefix`), rewrites keys
//! (`remove_prefix`, `key_formatter`), picks the route's backend (or its read backend for
//! read-only commands), splits multi-key commands whose keys take different routes and
//! merges their replies, queues mirror copies, and injects faults. [`command`] runs one
//! command, [`pipeline`] several; transactions ask [`Routed::transaction_place`].

pub(crate) mod command;
pub(crate) mod fault;
pub(crate) mod mirror;
pub(crate) mod pipeline;
pub(crate) mod rewrite;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::command::Cmd;
use crate::command::table::CommandSpec;
use crate::config::Config;
use crate::config::routing::{Route, Routing};
use crate::core::Core;
use crate::error::{Error, ErrorKind, Result};
use crate::router::prefix::{PrefixTable, RouteId};
use crate::stats::{RoutingStats, Stats, StatsSnapshot};

use fault::FaultCounters;
use mirror::MirrorQueue;

/// Where a transaction's command goes: its backend and route.
pub(crate) type TransactionPlace = (usize, RouteId);

/// What a client handle holds: the core of its one backend (with routes, the primary
/// backend's) and, with routes, the routing state.
pub(crate) type Parts = (Arc<Core>, Option<Arc<Routed>>);

/// Build a client's state for `config` (no sockets yet).
pub(crate) fn build(config: Config) -> Result<Parts> {
    match config.routing {
        None => Ok((Core::new(config)?, None)),
        Some(_) => {
            let routed = Routed::new(&config)?;
            Ok((routed.primary_core().clone(), Some(routed)))
        }
    }
}

/// The shared state of a client with several backends.
pub(crate) struct Routed {
    /// The whole configuration (routing and persistent id included).
    pub(crate) config: Config,
    pub(crate) routing: Arc<Routing>,
    table: PrefixTable,
    /// One core per backend, in `routing.backends` order.
    pub(crate) cores: Vec<Arc<Core>>,
    /// Backends that hold the keyspace (every route's and the catch-all's), distinct.
    keyspace: Vec<usize>,
    /// The backend of keyless commands: the catch-all's, else the first route's.
    pub(crate) primary: usize,
    mirrors: MirrorQueue,
    faults: FaultCounters,
    /// Calls as the application made them.
    stats: Stats,
}

impl Routed {
    /// Build the backends' cores (no sockets yet) and the prefix table.
    pub(crate) fn new(config: &Config) -> Result<Arc<Routed>> {
        let routing = config
            .routing
            .clone()
            .ok_or_else(|| Error::new(ErrorKind::Config, "no routing in this config"))?;
        let cores = routing
            .backends
            .iter()
            .map(|b| Core::new(b.config.clone()))
            .collect::<Result<Vec<_>>>()?;
        let mut keyspace = Vec::new();
        for r in routing.routes.iter().chain(routing.catch_all.as_ref()) {
            if !keyspace.contains(&r.backend) {
                keyspace.push(r.backend);
            }
        }
        let primary = routing
            .catch_all
            .as_ref()
            .or(routing.routes.first())
            .map_or(0, |r| r.backend);
        Ok(Arc::new(Routed {
            table: PrefixTable::new(&routing),
            mirrors: MirrorQueue::new(cores.clone()),
            faults: FaultCounters::default(),
            stats: Stats::new(),
            keyspace,
            primary,
            cores,
            routing,
            config: config.clone(),
        }))
    }

    /// The core of keyless commands.
    pub(crate) fn primary_core(&self) -> &Arc<Core> {
        &self.cores[self.primary]
    }

    /// The route of `key`, or an error naming it when no route takes it.
    #[inline]
    pub(crate) fn route_of(&self, key: &[u8]) -> Result<(RouteId, &Route)> {
        let id = self.table.lookup(key);
        match self.route(id) {
            Some(r) => Ok((id, r)),
            None => Err(no_route(key)),
        }
    }

    fn route(&self, id: RouteId) -> Option<&Route> {
        match id {
            RouteId::Prefix(i) => self.routing.routes.get(i as usize),
            RouteId::CatchAll => self.routing.catch_all.as_ref(),
            RouteId::None => None,
        }
    }

    /// The backend a command of `spec` on `route` goes to.
    #[inline]
    fn backend_for(route: &Route, spec: &CommandSpec) -> usize {
        match route.read_backend {
            Some(b) if spec.is_readonly() => b,
            _ => route.backend,
        }
    }

    /// Where `key` lives: its backend and the key as stored there.
    pub(crate) fn place_key(&self, key: &[u8]) -> Result<(usize, Vec<u8>)> {
        let (_, route) = self.route_of(key)?;
        let mut stored = Vec::with_capacity(key.len() + 8);
        route.stored_key(key, &mut stored);
        Ok((route.backend, stored))
    }

    /// For a transaction: the route and backend of `cmd`'s keys (None when it has none)
    /// and the command with its keys rewritten; a cross-route error when its keys take
    /// different routes.
    pub(crate) fn transaction_place<'c>(
        &self,
        spec: &'static CommandSpec,
        cmd: &'c Cmd,
    ) -> Result<(Option<TransactionPlace>, Cow<'c, Cmd>)> {
        match rewrite::placement(self, spec, cmd)? {
            rewrite::Placement::Keyless => Ok((None, Cow::Borrowed(cmd))),
            rewrite::Placement::One(id, route) => Ok((
                Some((route.backend, id)),
                rewrite::rewrite(spec, cmd, route)?,
            )),
            rewrite::Placement::Many(a, b) => {
                Err(rewrite::cross_route(self, spec, cmd, a, b, "a transaction"))
            }
        }
    }

    /// Mirror the writes of a committed transaction: each queued command (as sent) with
    /// the route it took.
    pub(crate) fn mirror_committed(&self, queued: &[(Option<RouteId>, &Cmd)]) {
        for (id, cmd) in queued {
            let Some(route) = id.and_then(|id| self.route(id)) else {
                continue;
            };
            if route.mirrors.is_empty() {
                continue;
            }
            if let Ok(spec) = crate::router::plan::resolve(cmd)
                && !spec.is_readonly()
            {
                // A failed key lookup cannot happen here: the command was planned before.
                let _ = command::mirror(self, spec, cmd, route);
            }
        }
    }

    /// A backend's name.
    pub(crate) fn backend_name(&self, backend: usize) -> &str {
        &self.routing.backends[backend].name
    }

    /// A pseudo-random number (fault draws, RANDOMKEY): the primary core's, with the
    /// process id mixed in so forked workers do not draw the same sequence.
    fn next_random(&self) -> u64 {
        self.primary_core().next_random()
            ^ u64::from(std::process::id()).wrapping_mul(0xD1B5_4A32_D192_ED03)
    }

    /// Every backend's nodes, each once, in backend order.
    pub(crate) fn nodes(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for c in &self.cores {
            for n in c.nodes.all() {
                if !all.contains(&n.addr) {
                    all.push(n.addr.clone());
                }
            }
        }
        all
    }

    /// The client's calls, every backend's nodes and cluster events, and per backend its
    /// own stats, mirrors and faults.
    pub(crate) fn stats_snapshot(&self) -> StatsSnapshot {
        let mut backends = BTreeMap::new();
        let mut nodes = Vec::new();
        let mut cluster = crate::stats::ClusterStats::default();
        for (i, core) in self.cores.iter().enumerate() {
            let s = core.stats_snapshot();
            nodes.extend(s.nodes.iter().map(|(k, v)| (k.clone(), v.clone())));
            cluster.absorb(&s.cluster);
            backends.insert(self.backend_name(i).to_owned(), s);
        }
        let mut snap = self.stats.snapshot(nodes, self.primary_core().tls_mode());
        snap.cluster = cluster;
        let mut mirrors = BTreeMap::new();
        for r in self
            .routing
            .routes
            .iter()
            .chain(self.routing.catch_all.as_ref())
        {
            for m in &r.mirrors {
                mirrors.insert(
                    self.backend_name(m.backend).to_owned(),
                    self.mirrors.stats(m.backend),
                );
            }
        }
        snap.routing = Some(Box::new(RoutingStats {
            backends,
            mirrors,
            faults: self.faults.stats(),
        }));
        snap
    }
}

fn no_route(key: &[u8]) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "no route for key '{}': no prefix matches and there is no catch_all route; nothing was sent",
            String::from_utf8_lossy(key)
        ),
    )
}
