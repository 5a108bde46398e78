//! Topology refresh: ask up to [`REFRESH_FANOUT`] nodes (known primaries first, then
//! replicas, then the seeds — a dead seed is skipped) for `CLUSTER SHARDS` (or `CLUSTER
//! SLOTS`) and `CLUSTER INFO` in one round trip each, and keep the view with the highest
//! `cluster_current_epoch`, the majority view among equals.

use std::sync::Arc;
use std::time::Instant;

use super::parse::{self, View};
use super::snapshot::Snapshot;
use super::{ClusterTopology, REFRESH_FANOUT};
use crate::client::Core;
use crate::command::write_command;
use crate::conn::Conn;
use crate::error::{Error, ErrorKind, Result};
use crate::stats::RefreshReason;
use crate::topology::nodes::NodeId;

fn candidates(
    core: &Core,
    cluster: &ClusterTopology,
    snapshot: &Snapshot,
    first: Option<NodeId>,
) -> Vec<NodeId> {
    let mut out: Vec<NodeId> = Vec::new();
    let mut push = |id: NodeId| {
        if !out.contains(&id) {
            out.push(id);
        }
    };
    if let Some(id) = first {
        push(id);
    }
    let shards = &snapshot.shards;
    let start = if shards.is_empty() {
        0
    } else {
        (core.next_random() % shards.len() as u64) as usize
    };
    for i in 0..shards.len() {
        push(shards[(start + i) % shards.len()].primary);
    }
    for s in shards {
        for &r in &s.replicas {
            push(r);
        }
    }
    // Seeds from a random one on, so a fleet of starting workers spreads its first
    // topology requests over the seeds.
    let seeds = &cluster.seeds;
    let first = (core.next_random() % seeds.len().max(1) as u64) as usize;
    for i in 0..seeds.len() {
        if let Ok(id) = core.nodes.intern(&seeds[(first + i) % seeds.len()]) {
            push(id);
        }
    }
    // Nodes that are ejected go last.
    out.sort_by_key(|&id| core.nodes.get(id).health.is_ejected());
    out
}

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
            parse::parse_shards(&v, host)
        }
        .map(|view| (epoch, view))
    }))
}

/// The best of several views: highest epoch, then the most common.
fn choose(answers: Vec<(u64, View)>) -> Option<(u64, View)> {
    let best_epoch = answers.iter().map(|(e, _)| *e).max()?;
    let top: Vec<&View> = answers
        .iter()
        .filter(|(e, _)| *e == best_epoch)
        .map(|(_, v)| v)
        .collect();
    let winner = top
        .iter()
        .max_by_key(|v| top.iter().filter(|w| **w == **v).count())
        .map(|v| (*v).clone())?;
    Some((best_epoch, winner))
}

impl Core {
    /// Refresh the cluster topology now unless another thread of this process is doing it
    /// or the rate limit says wait (`urgent` skips the rate limit); `ask_first` is a node
    /// known to have a newer view than the snapshot. `Ok(true)` when a new snapshot was stored.
    pub(crate) fn refresh_topology(
        &self,
        reason: RefreshReason,
        urgent: bool,
        ask_first: Option<NodeId>,
        deadline: Instant,
    ) -> Result<bool> {
        let Some(cluster) = self.topology.cluster() else {
            return Ok(false);
        };
        let Some(_guard) = cluster.begin_refresh(urgent) else {
            return Ok(false);
        };
        let current = cluster.current();
        let mut last_error = Error::new(ErrorKind::Connect, "no cluster node could be reached");
        let candidates = candidates(self, cluster, &current, ask_first);

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
            let (got, used) = self.ask_topology(
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
            self.stats
                .cluster
                .refresh_failures
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Err(last_error);
        };
        let snapshot = Snapshot::from_view(&view, epoch, &self.nodes)?;
        cluster.snapshot.store(Arc::new(snapshot));
        self.stats.cluster.refreshed(reason);
        Ok(true)
    }

    /// Send the topology request to up to `fanout` of `candidates` (skipping those that
    /// cannot be reached), then read every answer. Returns the answers and how many
    /// candidates were used up.
    fn ask_topology(
        &self,
        cluster: &ClusterTopology,
        candidates: &[NodeId],
        fanout: usize,
        deadline: Instant,
        last_error: &mut Error,
    ) -> (Vec<(u64, View)>, usize) {
        let use_slots = cluster.use_slots.load(std::sync::atomic::Ordering::Relaxed);
        let mut answers = Vec::new();
        let mut used = 0;
        // Connect to up to `fanout` nodes, write to all, then read all.
        let mut open: Vec<(NodeId, Conn, bool)> = Vec::new();
        for &id in candidates {
            if open.len() >= fanout {
                break;
            }
            used += 1;
            let node = self.nodes.get(id);
            let node_deadline = deadline.min(Instant::now() + self.config.connect_timeout);
            match node.checkout(&self.settings, node_deadline) {
                Ok((mut conn, _)) => match conn.send(&request(use_slots), deadline) {
                    Ok(()) => open.push((id, conn, use_slots)),
                    Err(e) => {
                        node.health.failure();
                        *last_error = e;
                    }
                },
                Err(e) => {
                    node.health.failure();
                    *last_error = e;
                }
            }
        }
        for (id, mut conn, sent_slots) in open {
            let node = self.nodes.get(id);
            let mut answer = read_answer(&mut conn, &node.host, sent_slots, deadline);
            if let Ok(Err(e)) = &answer
                && e.kind() == ErrorKind::Server
                && !sent_slots
            {
                // Redis < 7: no CLUSTER SHARDS. Ask this node again with CLUSTER SLOTS.
                cluster
                    .use_slots
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                answer = conn
                    .send(&request(true), deadline)
                    .and_then(|()| read_answer(&mut conn, &node.host, true, deadline));
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
                    node.health.failure();
                    *last_error = e;
                }
            }
        }
        (answers, used)
    }

    /// The current cluster snapshot: loaded on first use (waiting for another thread that
    /// is loading it), refreshed lazily when older than `refresh.interval`.
    pub(crate) fn cluster_snapshot(&self, deadline: Instant) -> Result<Arc<Snapshot>> {
        self.cluster_snapshot_at(None, deadline).map(|(s, _)| s)
    }

    /// [`Core::cluster_snapshot`] with a recent clock reading (`None`: read the clock);
    /// the flag says whether a refresh ran (the caller's clock reading is then stale).
    pub(crate) fn cluster_snapshot_at(
        &self,
        now: Option<Instant>,
        deadline: Instant,
    ) -> Result<(Arc<Snapshot>, bool)> {
        let Some(cluster) = self.topology.cluster() else {
            return Err(Error::new(ErrorKind::Protocol, "not in cluster mode"));
        };
        let snap = cluster.current();
        if !snap.is_empty() {
            let now = now.unwrap_or_else(Instant::now);
            if cluster.is_stale(&snap, now) && cluster.refresh_allowed() {
                // Best effort: the old snapshot still serves if this fails.
                let _ = self.refresh_topology(RefreshReason::Interval, false, None, deadline);
                return Ok((cluster.current(), true));
            }
            return Ok((snap, false));
        }
        self.first_snapshot(deadline).map(|s| (s, true))
    }

    /// No topology yet: load it (or wait for the thread loading it) within the deadline.
    fn first_snapshot(&self, deadline: Instant) -> Result<Arc<Snapshot>> {
        let Some(cluster) = self.topology.cluster() else {
            return Err(Error::new(ErrorKind::Protocol, "not in cluster mode"));
        };
        loop {
            // Another thread may have loaded it while this one waited.
            let snap = cluster.current();
            if !snap.is_empty() {
                return Ok(snap);
            }
            match self.refresh_topology(RefreshReason::Initial, true, None, deadline) {
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
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::ShardView;
    use super::*;

    fn view(primary: &str) -> View {
        View {
            shards: vec![ShardView {
                ranges: vec![(0, 16383)],
                primary: primary.into(),
                replicas: vec![],
            }],
        }
    }

    #[test]
    fn highest_epoch_wins_then_majority() {
        let answers = vec![(5, view("a:1")), (7, view("b:1")), (5, view("a:1"))];
        assert_eq!(choose(answers).unwrap().1, view("b:1"));
        let answers = vec![(7, view("a:1")), (7, view("b:1")), (7, view("b:1"))];
        assert_eq!(choose(answers).unwrap().1, view("b:1"));
        assert!(choose(vec![]).is_none());
    }
}
