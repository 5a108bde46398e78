//! One node's runtime state: its connection pool (renewed in a forked child), health
//! (outlier ejection) and counters. Only this layer and `conn::connection` touch sockets.

use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;

use super::connection::{Conn, ConnSettings};
use super::health::Health;
use super::pool::NodePool;
use crate::error::Result;
use crate::process;
use crate::stats::{NodeCounters, NodeStats};
use crate::topology::target::NodeId;

/// A pool belonging to one process generation (see `process`).
struct GenPool {
    generation: u64,
    pool: NodePool,
}

/// One node.
pub(crate) struct Node {
    /// Its id in the table (index and generation).
    pub id: NodeId,
    /// `host:port`, normalised.
    pub addr: String,
    pub host: String,
    pub port: u16,
    pub counters: NodeCounters,
    pub health: Health,
    pool: ArcSwap<GenPool>,
    max_idle: usize,
}

impl Node {
    pub(crate) fn new(id: NodeId, addr: String, host: String, port: u16, max_idle: usize) -> Node {
        Node {
            id,
            addr,
            host,
            port,
            counters: NodeCounters::default(),
            health: Health::default(),
            pool: ArcSwap::from_pointee(GenPool {
                generation: process::generation(),
                pool: NodePool::new(max_idle),
            }),
            max_idle,
        }
    }

    /// This process's pool; in a forked child, a fresh one (the inherited connections are
    /// abandoned without touching locks a parent thread may hold).
    #[inline]
    pub(crate) fn pool(&self) -> PoolRef {
        PoolRef(self.pool_guard())
    }

    #[inline]
    fn pool_guard(&self) -> arc_swap::Guard<Arc<GenPool>> {
        let current = self.pool.load();
        let generation = process::generation();
        if current.generation == generation {
            return current;
        }
        drop(current);
        self.renew(generation);
        self.pool.load()
    }

    #[cold]
    fn renew(&self, generation: u64) {
        let old = self.pool.load_full();
        if old.generation == generation {
            return;
        }
        let fresh = Arc::new(GenPool {
            generation,
            pool: NodePool::new(self.max_idle),
        });
        let previous = self.pool.compare_and_swap(&old, fresh);
        if Arc::ptr_eq(&previous, &old) {
            old.pool.abandon_in_child();
        }
    }

    /// A pooled connection or a new one; `true` when reused.
    pub(crate) fn checkout(
        &self,
        settings: &ConnSettings,
        deadline: Instant,
    ) -> Result<(Conn, bool)> {
        self.checkout_from(&self.pool(), settings, deadline, Instant::now())
    }

    /// [`Node::checkout`] from an already loaded pool; `now` is a recent clock reading.
    #[inline]
    pub(crate) fn checkout_from(
        &self,
        pool: &PoolRef,
        settings: &ConnSettings,
        deadline: Instant,
        now: Instant,
    ) -> Result<(Conn, bool)> {
        if let Some(c) = pool.0.pool.take(now) {
            return Ok((c, true));
        }
        let result = Conn::connect(&self.addr, &self.host, self.port, settings, deadline);
        self.counters.connect(result.is_ok());
        if let Some(resumed) = result.as_ref().ok().and_then(Conn::tls_resumed) {
            self.counters.tls_handshake(resumed);
        }
        result.map(|c| (c, false))
    }

    /// Give a healthy connection back.
    #[inline]
    pub(crate) fn checkin(&self, conn: Conn) {
        self.pool().checkin(conn, Instant::now());
    }

    /// Idle pooled connections.
    pub(crate) fn idle_count(&self) -> usize {
        self.pool_guard().pool.idle_count()
    }

    /// A request to this node completed (its round trip took `elapsed`).
    #[inline]
    pub(crate) fn succeeded(&self, requests: usize, elapsed: std::time::Duration) {
        self.counters.round_trip(requests, elapsed);
        self.health.success();
    }

    /// A connection-level failure `e` (connect, I/O, timeout, protocol) on this node; a
    /// timeout means the node stalled (ejected at once).
    pub(crate) fn failed_with(&self, e: &crate::error::Error) {
        self.counters.error();
        if e.kind() == crate::error::ErrorKind::Timeout {
            self.health.stalled();
        } else {
            self.health.failure();
        }
    }

    /// This node's stats.
    pub(crate) fn stats(&self) -> NodeStats {
        self.counters.snapshot(
            self.idle_count(),
            self.health.ejections_total(),
            self.health.is_ejected(),
        )
    }
}

/// This process's pool of one node, loaded once for a checkout and the checkin after it (one
/// atomic load instead of two per request).
pub(crate) struct PoolRef(arc_swap::Guard<Arc<GenPool>>);

impl PoolRef {
    /// Give a healthy connection back; `now` is when it was last used.
    #[inline]
    pub(crate) fn checkin(&self, conn: Conn, now: Instant) {
        self.0.pool.put(conn, now);
    }
}
