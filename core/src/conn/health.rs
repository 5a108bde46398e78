//! Outlier ejection: consecutive connection-level failures take a node out of selection for
//! a base time that doubles on each repeat (capped); when the time is up the node is tried
//! again, and that request is the probe: success clears the record, failure ejects it again
//! at once for twice as long. Ejected nodes are still used when nothing else is left.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Consecutive failures that eject a node (Envoy's outlier detection defaults to 5
/// consecutive gateway errors; a refused or reset connection is a stronger signal, and the
/// cost of a wrong ejection is only a less preferred order).
pub(crate) const EJECT_AFTER_FAILURES: u32 = 3;
/// First ejection time; doubles per repeat (Envoy's `base_ejection_time` is 30 s for
/// whole-cluster traffic; a restart-and-return cycle of a cache node takes seconds).
pub(crate) const BASE_EJECTION: Duration = Duration::from_millis(500);
/// Longest ejection.
pub(crate) const MAX_EJECTION: Duration = Duration::from_secs(30);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64
}

/// Health record of one node.
#[derive(Default)]
pub(crate) struct Health {
    consecutive_failures: AtomicU32,
    /// Ejections in a row without a successful probe in between.
    streak: AtomicU32,
    ejected_until_ms: AtomicU64,
    total_ejections: AtomicU64,
}

impl Health {
    /// A request to this node succeeded.
    #[inline]
    pub(crate) fn success(&self) {
        if self.consecutive_failures.load(Ordering::Relaxed) != 0 {
            self.consecutive_failures.store(0, Ordering::Relaxed);
        }
        if self.streak.load(Ordering::Relaxed) != 0 && !self.is_ejected() {
            self.streak.store(0, Ordering::Relaxed);
        }
    }

    /// A connection-level failure; returns true when this ejected the node.
    pub(crate) fn failure(&self) -> bool {
        self.failure_at(now_ms(), false)
    }

    /// The node let a request wait out its whole time budget (stalled: `DEBUG SLEEP`,
    /// `CLIENT PAUSE`, SIGSTOP): ejected at once, since every further request sent there
    /// would wait as long. Returns true when this ejected the node.
    pub(crate) fn stalled(&self) -> bool {
        self.failure_at(now_ms(), true)
    }

    /// Ejected now, or ejected before and not yet cleared by a success: a request sent
    /// there is a probe and should not spend much of its caller's time.
    #[inline]
    pub(crate) fn is_suspect(&self) -> bool {
        self.streak.load(Ordering::Relaxed) != 0
    }

    fn failure_at(&self, now: u64, at_once: bool) -> bool {
        let streak = self.streak.load(Ordering::Relaxed);
        let failures = self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
        // A failed probe (right after an ejection ended) or a stall ejects at once.
        let threshold = if streak > 0 || at_once {
            1
        } else {
            EJECT_AFTER_FAILURES
        };
        if failures < threshold || self.ejected_until_ms.load(Ordering::Relaxed) > now {
            return false;
        }
        let factor = 1u64 << streak.min(10);
        let ms = (BASE_EJECTION.as_millis() as u64)
            .saturating_mul(factor)
            .min(MAX_EJECTION.as_millis() as u64);
        self.ejected_until_ms.store(now + ms, Ordering::Relaxed);
        self.streak.store(streak + 1, Ordering::Relaxed);
        self.consecutive_failures.store(0, Ordering::Relaxed);
        self.total_ejections.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Out of selection right now?
    #[inline]
    pub(crate) fn is_ejected(&self) -> bool {
        // Never ejected (the common case): no clock read.
        let until = self.ejected_until_ms.load(Ordering::Relaxed);
        until != 0 && until > now_ms()
    }

    /// How many times it was ejected.
    pub(crate) fn ejections_total(&self) -> u64 {
        self.total_ejections.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    fn ejected_at(&self, now: u64) -> bool {
        self.ejected_until_ms.load(Ordering::Relaxed) > now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_failures_eject_and_the_time_doubles_on_repeat() {
        let h = Health::default();
        assert!(!h.failure_at(1000, false));
        assert!(!h.failure_at(1000, false));
        assert!(
            h.failure_at(1000, false),
            "third consecutive failure ejects"
        );
        assert!(h.ejected_at(1000 + 499));
        assert!(!h.ejected_at(1000 + 500));
        // The probe after the ejection fails: ejected again at once, for twice as long.
        assert!(h.failure_at(1600, false));
        assert!(h.ejected_at(1600 + 999));
        assert!(!h.ejected_at(1600 + 1000));
        assert_eq!(h.ejections_total(), 2);
    }

    #[test]
    fn success_resets_the_record() {
        let h = Health::default();
        h.failure_at(0, false);
        h.failure_at(0, false);
        h.success();
        assert!(!h.failure_at(0, false), "the count restarted");
        assert!(!h.failure_at(0, false));
        assert!(h.failure_at(0, false));
    }

    #[test]
    fn a_stall_ejects_at_once_and_leaves_the_node_suspect_until_a_success() {
        let h = Health::default();
        assert!(!h.is_suspect());
        assert!(h.failure_at(0, true), "one stall ejects");
        assert!(h.ejected_at(499));
        assert!(h.is_suspect());
        h.success();
        assert!(
            h.is_suspect(),
            "a success while still ejected does not clear it"
        );
        assert!(!h.ejected_at(500));
        h.streak.store(0, Ordering::Relaxed);
        assert!(!h.is_suspect());
    }

    #[test]
    fn ejection_time_is_capped() {
        let h = Health::default();
        let mut now = 0;
        for _ in 0..3 {
            h.failure_at(now, false);
        }
        for _ in 0..20 {
            now += MAX_EJECTION.as_millis() as u64 + 1;
            assert!(h.failure_at(now, false));
        }
        assert!(!h.ejected_at(now + MAX_EJECTION.as_millis() as u64));
    }
}
