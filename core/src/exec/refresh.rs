//! Topology refresh I/O (cluster mode): ask up to [`REFRESH_FANOUT`] nodes (known primaries
//! first, then replicas, then the seeds — ejected nodes last) for `CLUSTER SHARDS` (or
//! `CLUSTER SLOTS`) and `CLUSTER INFO` in one round trip each, keep the view with the
//! highest epoch (the majority among equals), store it, and drop from the node table the
//! nodes it no longer names. Each node gets at most the connect timeout, so a stalled node
//! cannot hold a refresh for a whole call deadline.
//!
//! Who waits: the first load (nothing to route with) and a request that cannot progress
//! without a new view run it on the calling thread ([`now`]); everything else — periodic
//! refreshes, and those that redirects or failures ask for — runs on a short-lived
//! background thread ([`in_background`]), so no read that has a live node waits for it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::command::write_command;
use crate::conn::connection::Conn;
use crate::core::Core;
use crate::error::{Error, ErrorKind, Result};
use crate::stats::RefreshReason;
use crate::topology::cluster::choose::{choose, refresh_order};
use crate::topology::cluster::parse::{self, View};
use crate::topology::cluster::snapshot::Snapshot;
use crate::topology::cluster::state::{ClusterTopology, LOWER_EPOCH_ACCEPTED_AFTER, RefreshGuard};
use crate::topology::target::{NodeId, NodeNames};

/// How many nodes a refresh asks (their views are compared).
pub(crate) const REFRESH_FANOUT: usize = 3;

fn request(use_slots: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    if use_slots {
        write_command(&mut buf, &[b"CLUSTER", b"SLOTS"]);
    } else {
        write_command(&mut buf, &[b"CLUSTER", b"SHARDS"]);
    }
    write_command(&mut buf, &[b"CLUSTER", b"INFO"]);
    buf
}

/// One node's answer: its view and epoch, or a connection-level error.
fn read_answer(
    conn: &mut Conn,
    host: &str,
    use_slots: bool,
    deadline: Instant,
) -> Result<std::result::Result<(u64, View), Error>> {
    let topo = conn.recv(deadline)?;
    let info = conn.recv(deadline)?;
    let epoch = info.as_ref().map(parse::current_epoch).unwrap_or(0);
    Ok(topo.and_then(|v| {
        if use_slots {
            parse::parse_slots(&v, host)
        } else {
            parse::parse_shards(&v, host, conn.is_tls())
        }
        .map(|view| (epoch, view))
    }))
}

/// Refresh the cluster topology on the calling thread, unless another thread of this
/// process is refreshing or the rate limit says wait; `ask_first` is a node known to have a
/// newer view than the snapshot. `Ok(true)` when a new snapshot was stored.
pub(crate) fn now(
    core: &Core,
    reason: RefreshReason,
    ask_first: Option<NodeId>,
    deadline: Instant,
) -> Result<bool> {
    let Some(cluster) = core.topology.cluster() else {
        return Ok(false);
    };
    let Some(guard) = cluster.begin_refresh() else {
        return Ok(false);
    };
    claimed(core, cluster, guard, reason, ask_first, deadline)
}

/// [`now`] once this thread holds the refresh claim.
fn claimed(
    core: &Core,
    cluster: &ClusterTopology,
    _guard: RefreshGuard<'_>,
    reason: RefreshReason,
    ask_first: Option<NodeId>,
    deadline: Instant,
) -> Result<bool> {
    let current = cluster.current();
    let mut last_error = Error::new(ErrorKind::Connect, "no cluster node could be reached");
    let seeds: Vec<NodeId> = cluster
        .seeds
        .iter()
        .filter_map(|s| core.nodes.intern(s).ok())
        .collect();
    let view = core.nodes.view();
    let candidates = refresh_order(
        &current,
        &seeds,
        ask_first,
        (core.next_random() % current.shards.len().max(1) as u64) as usize,
        (core.next_random() % seeds.len().max(1) as u64) as usize,
        |id| view.is_ejected(id),
    );
    drop(view);

    // First use asks one node (the first that answers), as every cluster client does:
    // a PHP-FPM fleet starts hundreds of workers at once, and a stale first view corrects
    // itself through MOVED, which refreshes with the full fan-out. Later refreshes ask
    // up to REFRESH_FANOUT nodes and keep the newest (majority) view.
    let fanout = if reason == RefreshReason::Initial {
        1
    } else {
        REFRESH_FANOUT
    };
    let mut answers = Vec::new();
    let mut tried = 0;
    for width in [fanout, REFRESH_FANOUT] {
        if !answers.is_empty() || tried >= candidates.len() {
            break;
        }
        let (got, used) = ask_topology(
            core,
            cluster,
            &candidates[tried..],
            width,
            deadline,
            &mut last_error,
        );
        answers = got;
        tried += used;
    }
    let Some((epoch, view)) = choose(answers) else {
        core.stats
            .cluster
            .refresh_failures
            .fetch_add(1, Ordering::Relaxed);
        return Err(last_error);
    };
    let snapshot = Snapshot::from_view(&view, epoch, &core.nodes)?;
    if store(cluster, &current, snapshot).is_none() {
        // Older than what the process already has (the nodes asked had not heard of a
        // failover yet): keep the newer one.
        return Ok(false);
    }
    // What to keep is read from the snapshot as it is when the table changes (a MOVED may
    // have patched a new node in since it was stored).
    let removed = core.nodes.retain(|| {
        let mut keep = cluster.current().node_ids();
        keep.extend_from_slice(&seeds);
        keep.sort_unstable();
        keep.dedup();
        keep
    });
    core.stats
        .cluster
        .nodes_removed
        .fetch_add(removed as u64, Ordering::Relaxed);
    core.stats.cluster.refreshed(reason);
    Ok(true)
}

/// Store a refreshed snapshot that was asked for when `before` was current. A view with a
/// lower epoch than the current snapshot's is dropped (`None`) unless several refreshes in a
/// row saw one (the cluster was rebuilt); MOVED patches made while the refresh was in flight
/// are kept on top of it.
fn store(
    cluster: &ClusterTopology,
    before: &Arc<Snapshot>,
    refreshed: Snapshot,
) -> Option<Arc<Snapshot>> {
    let latest = cluster.snapshot.load_full();
    if !latest.is_empty() {
        // A view that serves nothing (a node reset, or every shard without slots) never
        // replaces one that does.
        if refreshed.is_empty() {
            return None;
        }
        // Decided once per refresh, not per compare-and-swap attempt.
        if refreshed.epoch < latest.epoch {
            let seen = cluster.lower_epoch_views.fetch_add(1, Ordering::Relaxed) + 1;
            if seen < LOWER_EPOCH_ACCEPTED_AFTER {
                return None;
            }
        }
    }
    let mut latest = latest;
    loop {
        let next = Arc::new(if Arc::ptr_eq(&latest, before) {
            refreshed.clone()
        } else {
            refreshed.keeping_patches(before, &latest)
        });
        let previous = cluster.snapshot.compare_and_swap(&latest, next.clone());
        if Arc::ptr_eq(&previous, &latest) {
            cluster.lower_epoch_views.store(0, Ordering::Relaxed);
            return Some(next);
        }
        latest = cluster.snapshot.load_full();
    }
}

/// Refresh on a short-lived background thread, if the rate limit allows one now and none
/// is running; nobody waits for it (calls pick the new snapshot up when it lands).
pub(crate) fn in_background(core: &Core, reason: RefreshReason) {
    let Some(cluster) = core.topology.cluster() else {
        return;
    };
    // Claimed here, before a thread exists, so a burst of callers starts one thread.
    let Some(guard) = cluster.begin_refresh() else {
        return;
    };
    let Some(handle) = core.handle() else { return };
    guard.hand_over();
    let spawned = std::thread::Builder::new()
        .name("shardis-refresh".into())
        .spawn(move || {
            if let Some(cluster) = handle.topology.cluster() {
                let guard = RefreshGuard::adopt(cluster);
                let deadline = Instant::now() + handle.config.timeout;
                let _ = claimed(&handle, cluster, guard, reason, None, deadline);
            }
        });
    if spawned.is_err() {
        // No thread to be had (resource limits): refresh on this thread instead, so the
        // refresh is not lost.
        let guard = RefreshGuard::adopt(cluster);
        let _ = claimed(core, cluster, guard, reason, None, core.deadline());
    }
}

/// Send the topology request to up to `fanout` of `candidates` (skipping those that
/// cannot be reached), then read every answer, each node within the connect timeout.
/// Returns the answers and how many candidates were used up.
fn ask_topology(
    core: &Core,
    cluster: &ClusterTopology,
    candidates: &[NodeId],
    fanout: usize,
    deadline: Instant,
    last_error: &mut Error,
) -> (Vec<(u64, View)>, usize) {
    let use_slots = cluster.use_slots.load(Ordering::Relaxed);
    let mut answers = Vec::new();
    let mut used = 0;
    // Connect to up to `fanout` nodes, write to all, then read all.
    let mut open = Vec::new();
    for &id in candidates {
        if open.len() >= fanout {
            break;
        }
        used += 1;
        let Some(node) = core.nodes.get(id) else {
            continue;
        };
        let node_deadline = deadline.min(Instant::now() + core.config.connect_timeout);
        let sent = node
            .checkout(&core.settings, node_deadline)
            .and_then(|(mut conn, _)| conn.send(&request(use_slots), node_deadline).map(|()| conn));
        match sent {
            Ok(conn) => open.push((node, conn, node_deadline)),
            Err(e) => {
                node.failed_with(&e);
                *last_error = e;
            }
        }
    }
    for (node, mut conn, node_deadline) in open {
        let mut answer = read_answer(&mut conn, &node.host, use_slots, node_deadline);
        if let Ok(Err(e)) = &answer
            && e.kind() == ErrorKind::Server
            && !use_slots
        {
            // Redis < 7: no CLUSTER SHARDS. Ask this node again with CLUSTER SLOTS.
            cluster.use_slots.store(true, Ordering::Relaxed);
            answer = conn
                .send(&request(true), node_deadline)
                .and_then(|()| read_answer(&mut conn, &node.host, true, node_deadline));
        }
        match answer {
            Ok(Ok(a)) => {
                node.health.success();
                node.checkin(conn);
                answers.push(a);
            }
            Ok(Err(e)) => {
                node.checkin(conn);
                *last_error = e;
            }
            Err(e) => {
                node.failed_with(&e);
                *last_error = e;
            }
        }
    }
    (answers, used)
}

/// The current cluster snapshot: loaded on first use (waiting for another thread that is
/// loading it); when older than `refresh.interval`, a background refresh is started and
/// the current one still serves.
pub(crate) fn snapshot(core: &Core, deadline: Instant) -> Result<Arc<Snapshot>> {
    snapshot_at(core, None, deadline).map(|(s, _)| s)
}

/// [`snapshot`] with a recent clock reading (`None`: read the clock); the flag says whether
/// this thread loaded it (the caller's clock reading is then stale).
pub(crate) fn snapshot_at(
    core: &Core,
    now: Option<Instant>,
    deadline: Instant,
) -> Result<(Arc<Snapshot>, bool)> {
    let Some(cluster) = core.topology.cluster() else {
        return Err(Error::new(ErrorKind::Protocol, "not in cluster mode"));
    };
    let snap = cluster.current();
    if !snap.is_empty() {
        let now = now.unwrap_or_else(Instant::now);
        if cluster.is_stale(&snap, now) {
            in_background(core, RefreshReason::Interval);
        }
        return Ok((snap, false));
    }
    first_snapshot(core, cluster, deadline).map(|s| (s, true))
}

/// No topology yet: load it (or wait for the thread loading it) within the deadline.
fn first_snapshot(
    core: &Core,
    cluster: &ClusterTopology,
    deadline: Instant,
) -> Result<Arc<Snapshot>> {
    loop {
        // Another thread may have loaded it while this one waited.
        let snap = cluster.current();
        if !snap.is_empty() {
            return Ok(snap);
        }
        match now(core, RefreshReason::Initial, None, deadline) {
            Ok(true) => return Ok(cluster.current()),
            Ok(false) => {
                let snap = cluster.current();
                if !snap.is_empty() {
                    return Ok(snap);
                }
                if Instant::now() >= deadline {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        "timed out waiting for the cluster topology",
                    ));
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::topology::addr::AddrList;
    use crate::topology::cluster::parse::{ShardView, View};

    fn cluster() -> ClusterTopology {
        let config = Config::from_toml_str("mode = \"cluster\"\nnodes = [\"10.0.0.1:1\"]").unwrap();
        ClusterTopology::new(&config)
    }

    fn snapshot(names: &AddrList, primary: &str, epoch: u64) -> Snapshot {
        let view = View {
            shards: vec![ShardView {
                ranges: vec![(0, 16383)],
                primary: primary.into(),
                replicas: vec![],
            }],
        };
        Snapshot::from_view(&view, epoch, names).unwrap()
    }

    #[test]
    fn an_older_view_is_dropped_until_refreshes_keep_seeing_it() {
        let names = AddrList::default();
        let c = cluster();
        let current = Arc::new(snapshot(&names, "10.0.0.1:1", 7));
        c.snapshot.store(current.clone());
        for _ in 1..LOWER_EPOCH_ACCEPTED_AFTER {
            assert!(store(&c, &current, snapshot(&names, "10.0.0.2:1", 6)).is_none());
        }
        // The cluster really was rebuilt: the third refresh in a row is believed.
        assert!(store(&c, &current, snapshot(&names, "10.0.0.2:1", 1)).is_some());
        assert_eq!(c.current().epoch, 1);
    }

    #[test]
    fn a_view_that_serves_nothing_never_replaces_one_that_does() {
        let names = AddrList::default();
        let c = cluster();
        let current = Arc::new(snapshot(&names, "10.0.0.1:1", 7));
        c.snapshot.store(current.clone());
        let mut empty = Snapshot::empty();
        empty.epoch = 9;
        assert!(store(&c, &current, empty).is_none());
        assert!(!c.current().is_empty());
    }

    #[test]
    fn a_moved_patch_made_during_the_refresh_survives_it() {
        let names = AddrList::default();
        let c = cluster();
        let before = Arc::new(snapshot(&names, "10.0.0.1:1", 7));
        c.snapshot.store(before.clone());
        let moved_to = names.intern("10.0.0.9:1").unwrap();
        c.snapshot.rcu(|s| s.with_slot_owner(42, moved_to));
        let stored = store(&c, &before, snapshot(&names, "10.0.0.1:1", 7)).unwrap();
        assert_eq!(stored.shard_of(42).unwrap().primary, moved_to);
        assert_eq!(c.current().shard_of(42).unwrap().primary, moved_to);
        assert_eq!(
            names.addr(c.current().shard_of(43).unwrap().primary),
            "10.0.0.1:1"
        );
    }
}
