//! The execution engine: jobs (one request each, with a target) run in rounds on the
//! calling thread. Each round resolves every pending job to a node (read policy, health),
//! writes every node's requests, then reads every reply (ARCHITECTURE §4), and decides per
//! job: done, redirected (MOVED, ASK), retried after a backoff (TRYAGAIN, CLUSTERDOWN,
//! LOADING), retried elsewhere after a connection failure (reads), or failed — indeterminate
//! for writes that may have run. One deadline covers all rounds.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use smallvec::SmallVec;

use crate::client::Core;
use crate::command::Cmd;
use crate::conn::Conn;
use crate::error::{Error, ErrorKind, Result};
use crate::reply::Value;
use crate::router::read_from::{self, Candidates, NoCandidate};
use crate::stats::RefreshReason;
use crate::topology::Target;
use crate::topology::cluster::snapshot::Snapshot;
use crate::topology::nodes::{Node, NodeId, PoolRef};

use super::redirect::{Redirect, classify};
use super::retry::{self, Action, Stage};

/// Redirects followed per request before giving up (a healthy migration needs 1–2).
pub(crate) const MAX_REDIRECTS: u32 = 5;
/// First backoff after a "not executed, try again" reply; doubles up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(5);
/// Longest single backoff (a failover takes ~1 s; keep polling at a modest rate).
const MAX_BACKOFF: Duration = Duration::from_millis(100);
/// Connection retries per request in cluster mode (next replica, primary, the new primary
/// after a failover); the deadline bounds them too.
const CLUSTER_MAX_RETRIES: u32 = 16;

/// Indices of the jobs sent to one node in a round.
type Members = SmallVec<[usize; 4]>;

/// Requests written to one node, waiting for their replies.
struct Flight<'v> {
    node_id: NodeId,
    node: &'v Node,
    pool: PoolRef,
    conn: Conn,
    members: Members,
    sent_at: Instant,
    deadline: Instant,
}

/// What a caller hands the engine besides the jobs: a recent clock reading with nothing
/// blocking since (the first round uses it instead of reading the clock), and the cluster
/// snapshot it planned with (so it is not loaded twice).
#[derive(Default)]
pub(crate) struct Start {
    pub now: Option<Instant>,
    pub snapshot: Option<Arc<Snapshot>>,
}

/// One result per job, in order (inline for a single command).
pub(crate) type Replies = SmallVec<[Result<Value>; 1]>;

/// What a job sends.
pub(crate) enum Request<'a> {
    /// A whole command.
    Cmd(&'a Cmd),
    /// Pre-encoded RESP (SCAN with a node cursor).
    Bytes(Vec<u8>),
    /// One part of a split command: the name plus the arguments of some of its keys,
    /// encoded straight into the node's buffer.
    Part {
        cmd: &'a Cmd,
        step: usize,
        positions: &'a [usize],
        ordinals: &'a [usize],
    },
}

/// One request and where it goes.
pub(crate) struct Job<'a> {
    pub target: Target,
    pub readonly: bool,
    pub request: Request<'a>,
}

impl Job<'_> {
    fn write(&self, out: &mut Vec<u8>) {
        match &self.request {
            Request::Cmd(c) => c.write_resp(out),
            Request::Bytes(b) => out.extend_from_slice(b),
            Request::Part {
                cmd,
                step,
                positions,
                ordinals,
            } => crate::router::plan::write_split_part(cmd, *step, positions, ordinals, out),
        }
    }
}

#[derive(Default)]
struct State {
    node: Option<NodeId>,
    asking: bool,
    /// Nodes that failed this request (not chosen again while others remain).
    tried: SmallVec<[NodeId; 2]>,
    /// Another candidate exists besides `node` (reads may then use a shorter budget).
    has_alternative: bool,
    redirects: u32,
    conn_retries: u32,
    backoffs: u32,
    forced_refresh: bool,
    last_error: Option<Error>,
    done: Option<Result<Value>>,
}

impl State {
    /// Count one more redirect of this job; past [`MAX_REDIRECTS`] the job fails with the
    /// last redirect's message and this returns false.
    fn count_redirect(&mut self, err: &Error) -> bool {
        self.redirects += 1;
        if self.redirects > MAX_REDIRECTS {
            self.done = Some(Err(Error::new(
                ErrorKind::Server,
                format!("too many redirects; last: {}", err.message()),
            )));
            return false;
        }
        true
    }
}

const ASKING: &[u8] = b"*1\r\n$6\r\nASKING\r\n";

/// What the round asks for before the next one.
#[derive(Default)]
struct Between {
    refresh: Option<(RefreshReason, bool)>,
    /// A node whose reply says the snapshot is stale (it answered READONLY, or MOVED in a
    /// circle): it knows the current view, so the refresh asks it first.
    ask_first: Option<NodeId>,
    backoff: Option<Duration>,
}

impl Between {
    fn refresh(&mut self, reason: RefreshReason, urgent: bool) {
        match self.refresh {
            Some((_, true)) => {}
            _ => self.refresh = Some((reason, urgent)),
        }
    }

    fn backoff(&mut self, attempt: u32) {
        let d = BASE_BACKOFF
            .saturating_mul(1 << attempt.min(5))
            .min(MAX_BACKOFF);
        self.backoff = Some(self.backoff.map_or(d, |b| b.min(d)));
    }
}

fn timeout_error() -> Error {
    Error::new(ErrorKind::Timeout, "call deadline passed")
}

/// Out of time: every pending job ends with the last error it saw (or a timeout).
fn finish_pending(states: &mut [State]) {
    for st in states.iter_mut().filter(|s| s.done.is_none()) {
        st.done = Some(Err(st.last_error.take().unwrap_or_else(timeout_error)));
    }
}

impl Core {
    /// Run `jobs`; one result per job, in order.
    pub(crate) fn run_jobs(&self, jobs: &[Job<'_>], start: Start, deadline: Instant) -> Replies {
        let mut states: SmallVec<[State; 1]> = (0..jobs.len()).map(|_| State::default()).collect();
        let cluster = self.topology.cluster();
        let Start {
            now: mut round_clock,
            mut snapshot,
        } = start;
        if cluster.is_some() && snapshot.is_none() {
            match self.cluster_snapshot_at(round_clock, deadline) {
                Ok((s, refreshed)) => {
                    snapshot = Some(s);
                    if refreshed {
                        round_clock = None;
                    }
                }
                Err(e) => return jobs.iter().map(|_| Err(e.clone())).collect(),
            }
        }
        let mut candidates = Candidates::new();
        // One rotation per call spreads calls over replicas; jobs of one call share it.
        let rotate = if cluster.is_some() {
            self.next_random() as usize
        } else {
            0
        };
        loop {
            let mut between = Between::default();
            // The node table for this round, read after the snapshot routed with.
            let view = self.nodes.view();
            // 1. Resolve pending jobs to nodes.
            let mut by_node: SmallVec<[(NodeId, Members); 4]> = SmallVec::new();
            for (i, (job, st)) in jobs.iter().zip(states.iter_mut()).enumerate() {
                if st.done.is_some() {
                    continue;
                }
                if st.node.is_none() {
                    let chosen = read_from::candidates(
                        job.target,
                        job.readonly,
                        self.config.read_from,
                        snapshot.as_deref(),
                        self.topology.static_nodes(),
                        rotate,
                        |id| view.is_ejected(id),
                        &mut candidates,
                    );
                    match chosen {
                        Ok(()) => {
                            let untried =
                                candidates.iter().copied().find(|c| !st.tried.contains(c));
                            st.node = Some(untried.unwrap_or(candidates[0]));
                            st.has_alternative =
                                candidates.iter().filter(|c| !st.tried.contains(c)).count() > 1;
                        }
                        Err(NoCandidate::Uncovered) => {
                            between.refresh(RefreshReason::Uncovered, false);
                            between.backoff(st.backoffs);
                            st.backoffs += 1;
                            st.last_error.get_or_insert_with(|| {
                                Error::new(
                                    ErrorKind::Server,
                                    "CLUSTERDOWN Hash slot not served (no owner in the topology)",
                                )
                            });
                            continue;
                        }
                        Err(NoCandidate::NoReplica) => {
                            st.done = Some(Err(Error::new(
                                ErrorKind::Connect,
                                "read_from = \"replica\" and the shard has no available replica",
                            )));
                            continue;
                        }
                    }
                }
                let node = st.node.unwrap_or_default();
                match by_node.iter_mut().find(|(n, _)| *n == node) {
                    Some((_, v)) => v.push(i),
                    None => by_node.push((node, smallvec::smallvec![i])),
                }
            }

            // 2. Connect and write every node's requests.
            let mut flights: SmallVec<[Flight<'_>; 4]> = SmallVec::new();
            for (node_id, members) in by_node {
                let node = view.get(node_id);
                // The first node of the first round reuses the caller's clock reading;
                // after anything that may have blocked, read the clock.
                let now = round_clock.take().unwrap_or_else(Instant::now);
                let remaining = deadline.saturating_duration_since(now);
                // A read that has somewhere else to go does not spend the whole deadline on a
                // stalled node.
                let short = members
                    .iter()
                    .all(|&i| jobs[i].readonly && states[i].has_alternative);
                let node_deadline = if short { now + remaining / 2 } else { deadline };
                let pool = node.pool();
                match node.checkout_from(&pool, &self.settings, node_deadline, now) {
                    Err(e) => {
                        for &i in &members {
                            self.conn_failure(
                                &jobs[i],
                                &mut states[i],
                                node_id,
                                &e,
                                Stage::Connect,
                                &mut between,
                            );
                        }
                    }
                    Ok((mut conn, reused)) => {
                        if reused {
                            conn.use_clock(now);
                        }
                        let build = |buf: &mut Vec<u8>| {
                            for &i in &members {
                                if states[i].asking {
                                    buf.extend_from_slice(ASKING);
                                }
                                jobs[i].write(buf);
                            }
                        };
                        match conn.send_built(build, node_deadline) {
                            Ok(()) => flights.push(Flight {
                                node_id,
                                node,
                                pool,
                                conn,
                                members,
                                sent_at: now,
                                deadline: node_deadline,
                            }),
                            Err(e) => {
                                for &i in &members {
                                    self.conn_failure(
                                        &jobs[i],
                                        &mut states[i],
                                        node_id,
                                        &e,
                                        Stage::Sent,
                                        &mut between,
                                    );
                                }
                            }
                        }
                    }
                }
            }

            // 3. Read every reply, node by node, in order.
            for Flight {
                node_id,
                node,
                pool,
                mut conn,
                members,
                sent_at,
                deadline: node_deadline,
            } in flights
            {
                let mut broken: Option<(usize, Error)> = None;
                for (k, &i) in members.iter().enumerate() {
                    let reply = if states[i].asking {
                        conn.recv(node_deadline).and_then(|asking| match asking {
                            Ok(_) => conn.recv(node_deadline),
                            Err(e) => conn.recv(node_deadline).map(|_| Err(e)),
                        })
                    } else {
                        conn.recv(node_deadline)
                    };
                    match reply {
                        Ok(r) => self.handle_reply(
                            &jobs[i],
                            &mut states[i],
                            node_id,
                            &node.host,
                            r,
                            &mut between,
                        ),
                        Err(e) => {
                            broken = Some((k, e));
                            break;
                        }
                    }
                }
                match broken {
                    None => {
                        let now = Instant::now();
                        node.counters.round_trip(members.len(), now - sent_at);
                        node.health.success();
                        pool.checkin(conn, now);
                    }
                    Some((k, e)) => {
                        drop(conn);
                        for &i in &members[k..] {
                            self.conn_failure(
                                &jobs[i],
                                &mut states[i],
                                node_id,
                                &e,
                                Stage::Sent,
                                &mut between,
                            );
                        }
                    }
                }
            }

            // 4. Done, out of time, or another round.
            if states.iter().all(|s| s.done.is_some()) {
                break;
            }
            if Instant::now() >= deadline {
                finish_pending(&mut states);
                break;
            }
            if let Some((reason, urgent)) = between.refresh {
                let _ = self.refresh_topology(reason, urgent, between.ask_first, deadline);
            }
            if let Some(c) = cluster {
                snapshot = Some(c.current());
            }
            if let Some(pause) = between.backoff {
                let remaining = deadline.saturating_duration_since(Instant::now());
                if pause >= remaining {
                    // No time for another attempt: report what the last attempt saw.
                    finish_pending(&mut states);
                    break;
                }
                std::thread::sleep(pause);
            }
        }
        states
            .into_iter()
            .map(|s| s.done.unwrap_or_else(|| Err(timeout_error())))
            .collect()
    }

    /// A reply arrived for job `st` from `node`.
    fn handle_reply(
        &self,
        job: &Job<'_>,
        st: &mut State,
        node: NodeId,
        host: &str,
        reply: Result<Value>,
        between: &mut Between,
    ) {
        st.asking = false;
        let err = match reply {
            Ok(v) => {
                st.done = Some(Ok(v));
                return;
            }
            Err(e) => e,
        };
        let cluster = self.topology.cluster();
        let redirect = classify(&err, host);
        let counters = &self.stats.cluster;
        match (redirect, cluster) {
            (Redirect::None, _) => st.done = Some(Err(err)),
            (Redirect::Moved { slot, addr }, Some(c)) => {
                counters.moved.fetch_add(1, Ordering::Relaxed);
                if !st.count_redirect(&err) {
                    return;
                }
                let Ok(target) = self.nodes.intern(&addr) else {
                    st.done = Some(Err(err));
                    return;
                };
                c.snapshot.rcu(|s| s.with_slot_owner(slot, target));
                let moved = c.moved_since_refresh.fetch_add(1, Ordering::Relaxed) + 1;
                if target == node || st.redirects >= 2 {
                    // Circular or repeated MOVED: the patch did not settle it; ask the
                    // cluster once, not in a loop.
                    if !st.forced_refresh {
                        st.forced_refresh = true;
                        between.refresh(RefreshReason::Topology, true);
                        between.ask_first = Some(node);
                    }
                } else if moved >= c.settings.on_redirects.max(1) {
                    between.refresh(RefreshReason::Moved, false);
                }
                st.node = Some(target);
            }
            (Redirect::Ask { addr, .. }, Some(_)) => {
                counters.ask.fetch_add(1, Ordering::Relaxed);
                if !st.count_redirect(&err) {
                    return;
                }
                match self.nodes.intern(&addr) {
                    Ok(target) => {
                        st.node = Some(target);
                        st.asking = true;
                    }
                    Err(_) => st.done = Some(Err(err)),
                }
            }
            (Redirect::Malformed(why), _) => {
                st.done = Some(Err(Error::new(
                    ErrorKind::Protocol,
                    format!("cannot follow redirect: {why}"),
                )
                .with_node(&self.nodes.get(node).addr)));
            }
            (Redirect::TryAgain, _) => {
                counters.transient.fetch_add(1, Ordering::Relaxed);
                between.backoff(st.backoffs);
                st.backoffs += 1;
                st.last_error = Some(err);
            }
            (Redirect::Loading, _) => {
                counters.transient.fetch_add(1, Ordering::Relaxed);
                if job.readonly && !st.tried.contains(&node) {
                    // Another replica or the primary can answer now.
                    st.tried.push(node);
                    st.node = None;
                }
                between.backoff(st.backoffs);
                st.backoffs += 1;
                st.last_error = Some(err);
            }
            (Redirect::ClusterDown, Some(_)) => {
                counters.transient.fetch_add(1, Ordering::Relaxed);
                between.refresh(RefreshReason::Topology, false);
                between.backoff(st.backoffs);
                st.backoffs += 1;
                st.node = None;
                if job.readonly && !st.tried.contains(&node) {
                    st.tried.push(node);
                }
                st.last_error = Some(err);
            }
            (Redirect::ReadOnly, Some(_)) => {
                counters.transient.fetch_add(1, Ordering::Relaxed);
                if !st.forced_refresh {
                    st.forced_refresh = true;
                    between.refresh(RefreshReason::Topology, true);
                    // A demoted primary knows who replaced it.
                    between.ask_first = Some(node);
                } else {
                    between.backoff(st.backoffs);
                    st.backoffs += 1;
                }
                st.node = None;
                st.last_error = Some(err);
            }
            // Standalone nodes do not redirect: the reply is the answer.
            (
                Redirect::Moved { .. }
                | Redirect::Ask { .. }
                | Redirect::ClusterDown
                | Redirect::ReadOnly,
                None,
            ) => {
                st.done = Some(Err(err));
            }
        }
    }

    /// The connection to `node` failed for job `st` at `stage`.
    fn conn_failure(
        &self,
        job: &Job<'_>,
        st: &mut State,
        node: NodeId,
        e: &Error,
        stage: Stage,
        between: &mut Between,
    ) {
        let n = self.nodes.get(node);
        n.counters.error();
        n.health.failure();
        st.asking = false;
        let cluster = self.topology.cluster();
        if let Some(c) = cluster {
            let failures = c.failures_since_refresh.fetch_add(1, Ordering::Relaxed) + 1;
            if failures >= c.settings.on_failures.max(1) {
                between.refresh(RefreshReason::Failures, false);
            }
        }
        let max = if cluster.is_some() {
            CLUSTER_MAX_RETRIES
        } else {
            retry::MAX_RETRIES
        };
        match retry::decide(
            e.kind(),
            stage,
            job.readonly,
            self.config.retry_writes,
            st.conn_retries,
            max,
        ) {
            Action::Retry => {
                st.conn_retries += 1;
                self.stats.cluster.retries.fetch_add(1, Ordering::Relaxed);
                if !st.tried.contains(&node) {
                    st.tried.push(node);
                }
                st.node = None;
                st.last_error = Some(e.clone());
                if cluster.is_some() && !st.has_alternative {
                    // The only candidate (a primary) is down: wait for a failover.
                    between.backoff(st.backoffs);
                    st.backoffs += 1;
                }
            }
            Action::Fail => st.done = Some(Err(e.clone())),
            Action::FailIndeterminate => st.done = Some(Err(e.clone().into_indeterminate())),
        }
    }
}
