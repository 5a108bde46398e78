//! Per-node pools of idle connections. A connection belongs to one caller at a time: it is
//! taken out for a call and put back afterwards (or dropped if the call poisoned it).

use std::time::Instant;

use parking_lot::Mutex;

use super::connection::Conn;

/// Idle connections of one node, most recently used last (LIFO keeps few sockets warm).
pub(crate) struct NodePool {
    idle: Mutex<Vec<Conn>>,
    max_idle: usize,
}

impl NodePool {
    pub(crate) fn new(max_idle: usize) -> NodePool {
        NodePool {
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    /// Take a reusable idle connection, dropping dead ones found on the way; `now` is a
    /// recent clock reading (it decides which idle connections are probed first).
    pub(crate) fn take(&self, now: Instant) -> Option<Conn> {
        loop {
            let mut conn = self.idle.lock().pop()?;
            if conn.is_reusable(now) {
                return Some(conn);
            }
            // Dead (closed by the server, or unexpected bytes): drop and look further.
        }
    }

    /// Return a healthy connection, last used at `now`.
    pub(crate) fn put(&self, mut conn: Conn, now: Instant) {
        conn.mark_used(now);
        let mut idle = self.idle.lock();
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }

    /// Number of idle connections.
    pub(crate) fn idle_count(&self) -> usize {
        self.idle.lock().len()
    }

    /// In a forked child: close what can be closed without waiting for a lock a parent
    /// thread may have held at fork time. Closing an inherited descriptor in the child does
    /// not affect the parent's socket (no shutdown, no QUIT is sent).
    pub(crate) fn abandon_in_child(&self) {
        if let Some(mut idle) = self.idle.try_lock() {
            idle.clear();
        }
    }
}
