//! The live cluster topology of one core: seeds, the current [`Snapshot`] (swapped
//! atomically), and refresh coordination — one refresh in flight per process, at most one
//! per [`MIN_REFRESH_INTERVAL`] with jitter, whatever asked for it. No I/O here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::snapshot::Snapshot;
use crate::config::{Config, RefreshConfig};
use crate::process;

/// Minimum time between two refreshes of one process (Envoy's `redirect_refresh_interval`
/// is 5 s; a failover settles in about a second, so refreshing more often than every 100 ms
/// only adds load — F11, refresh storms).
pub(crate) const MIN_REFRESH_INTERVAL: Duration = Duration::from_millis(100);
/// The cluster topology of one core.
pub(crate) struct ClusterTopology {
    pub seeds: Vec<String>,
    pub snapshot: ArcSwap<Snapshot>,
    pub settings: RefreshConfig,
    /// 0: free; otherwise `generation + 1` of the refreshing process (a forked child
    /// ignores a parent's in-flight refresh).
    in_flight: AtomicU64,
    /// Earliest next refresh, in µs since `started`.
    next_allowed_us: AtomicU64,
    started: Instant,
    pub moved_since_refresh: AtomicU32,
    pub failures_since_refresh: AtomicU32,
    /// The servers do not know `CLUSTER SHARDS` (Redis < 7): use `CLUSTER SLOTS`.
    pub use_slots: AtomicBool,
    /// Refreshes in a row whose view had a lower epoch than the snapshot (dropped as stale
    /// until [`LOWER_EPOCH_ACCEPTED_AFTER`] say so: the cluster was rebuilt).
    pub lower_epoch_views: AtomicU32,
}

/// Refreshes in a row that must see a lower epoch before it is believed (a cluster rebuilt
/// from scratch starts its epochs again; one stale node must not roll a view back).
pub(crate) const LOWER_EPOCH_ACCEPTED_AFTER: u32 = 3;

impl ClusterTopology {
    pub(crate) fn new(config: &Config) -> ClusterTopology {
        ClusterTopology {
            seeds: config.nodes().iter().map(|n| n.addr.clone()).collect(),
            snapshot: ArcSwap::from_pointee(Snapshot::empty()),
            settings: config.refresh,
            in_flight: AtomicU64::new(0),
            next_allowed_us: AtomicU64::new(0),
            started: Instant::now(),
            moved_since_refresh: AtomicU32::new(0),
            failures_since_refresh: AtomicU32::new(0),
            use_slots: AtomicBool::new(false),
            lower_epoch_views: AtomicU32::new(0),
        }
    }

    /// The current snapshot.
    #[inline]
    pub(crate) fn current(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    fn now_us(&self) -> u64 {
        self.started.elapsed().as_micros() as u64
    }

    /// Is a refresh allowed now (rate limit)?
    pub(crate) fn refresh_allowed(&self) -> bool {
        self.now_us() >= self.next_allowed_us.load(Ordering::Relaxed)
    }

    /// Try to become the one refresher: `None` while another thread of this process is
    /// refreshing, or while the rate limit says wait. Every refresh, urgent or not, obeys
    /// the limit (at most one per ~[`MIN_REFRESH_INTERVAL`]): a caller that needs the new
    /// view backs off and picks it up when it lands.
    pub(crate) fn begin_refresh(&self) -> Option<RefreshGuard<'_>> {
        if !self.refresh_allowed() {
            return None;
        }
        let me = process::generation() + 1;
        let current = self.in_flight.load(Ordering::Acquire);
        if current == me {
            return None;
        }
        // `current` is 0 (free) or a parent process's marker (stale after fork).
        self.in_flight
            .compare_exchange(current, me, Ordering::AcqRel, Ordering::Relaxed)
            .ok()?;
        let guard = RefreshGuard { topology: self };
        // Another refresh may have finished between the check and the claim: the limit
        // counts from its end.
        if !self.refresh_allowed() {
            guard.release_unused();
            return None;
        }
        Some(guard)
    }

    /// Is a refresh running in this process now?
    #[cfg(test)]
    pub(crate) fn refresh_in_flight(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == process::generation() + 1
    }

    /// Is the snapshot older than `refresh.interval` at `now`?
    #[inline]
    pub(crate) fn is_stale(&self, snapshot: &Snapshot, now: Instant) -> bool {
        match self.settings.interval {
            Some(interval) => now.saturating_duration_since(snapshot.taken_at) >= interval,
            None => false,
        }
    }

    fn finished(&self) {
        // Jitter ±20 % so many processes that saw the same event do not refresh in step.
        let base = MIN_REFRESH_INTERVAL.as_micros() as u64;
        let jitter = (self.now_us() ^ u64::from(std::process::id()).wrapping_mul(0x9E37_79B9))
            % (base * 2 / 5);
        self.next_allowed_us
            .store(self.now_us() + base * 4 / 5 + jitter, Ordering::Relaxed);
        self.moved_since_refresh.store(0, Ordering::Relaxed);
        self.failures_since_refresh.store(0, Ordering::Relaxed);
    }
}

/// Held while refreshing; releases the in-flight marker on drop.
pub(crate) struct RefreshGuard<'a> {
    topology: &'a ClusterTopology,
}

impl<'a> RefreshGuard<'a> {
    /// Give the claim back without counting a refresh (the rate limit is unchanged).
    fn release_unused(self) {
        self.topology.in_flight.store(0, Ordering::Release);
        std::mem::forget(self);
    }

    /// Hand the claim to a thread that holds `topology` by another path (the same
    /// topology, reached through an owned handle): it is released when that guard drops.
    pub(crate) fn hand_over(self) {
        std::mem::forget(self);
    }

    /// Take over a claim handed over with [`RefreshGuard::hand_over`].
    pub(crate) fn adopt(topology: &'a ClusterTopology) -> RefreshGuard<'a> {
        RefreshGuard { topology }
    }
}

impl Drop for RefreshGuard<'_> {
    fn drop(&mut self) {
        self.topology.finished();
        self.topology.in_flight.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topology() -> ClusterTopology {
        let config =
            Config::from_toml_str("mode = \"cluster\"\nnodes = [\"127.0.0.1:7000\"]").unwrap();
        ClusterTopology::new(&config)
    }

    #[test]
    fn one_refresh_in_flight_per_process() {
        let t = topology();
        let guard = t.begin_refresh().expect("the first refresh may start");
        assert!(t.refresh_in_flight());
        assert!(t.begin_refresh().is_none(), "a second one waits");
        drop(guard);
        assert!(!t.refresh_in_flight());
    }

    #[test]
    fn every_refresh_obeys_the_rate_limit() {
        let t = topology();
        drop(t.begin_refresh().expect("first"));
        // Right after a refresh, nothing may start again: not a MOVED-driven one, and not
        // an urgent one (READONLY, circular MOVED) either — they all use begin_refresh.
        assert!(!t.refresh_allowed());
        assert!(t.begin_refresh().is_none());
        std::thread::sleep(MIN_REFRESH_INTERVAL * 6 / 5 + Duration::from_millis(5));
        assert!(
            t.begin_refresh().is_some(),
            "allowed again after the interval"
        );
    }
}
