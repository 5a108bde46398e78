//! The execution engine: jobs (one request each, with a target) run in rounds on the
//! calling thread. Each round resolves every pending job to a node (read policy, health),
//! writes every node's requests, then reads every reply (ARCHITECTURE §4). After a failure
//! the engine asks the one decision ([`decide`]) what follows and applies it: done,
//! redirected, retried (elsewhere, after a backoff), or failed — indeterminate for writes
//! that may have run. One deadline covers all rounds. A read that has a live node to go to
//! never waits for a topology refresh: refreshes it asks for run in the background.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use smallvec::SmallVec;

use super::decide::{self, Attempt, Failure, MAX_REDIRECTS, Next, Refresh, RetryTo, Stage};
use super::refresh;
use crate::command::Cmd;
use crate::conn::connection::Conn;
use crate::conn::node::{Node, PoolRef};
use crate::core::Core;
use crate::error::{Error, ErrorKind, Result, ServerCode};
use crate::reply::Value;
use crate::router::read_from::{self, Candidates, NoCandidate};
use crate::stats::RefreshReason;
use crate::topology::cluster::snapshot::Snapshot;
use crate::topology::target::{NodeId, NodeNames, Target};

/// First backoff after a "not executed, try again" reply; doubles up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(5);
/// Longest single backoff (a failover takes ~1 s; keep polling at a modest rate).
const MAX_BACKOFF: Duration = Duration::from_millis(100);

/// Indices of the jobs sent to one node in a round.
type Members = SmallVec<[usize; 4]>;

/// Requests written to one node, waiting for their replies.
struct Flight<'v> {
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
    /// A refresh ran for this request (it asks for an immediate one only once).
    forced_refresh: bool,
    /// This request asked for an immediate refresh in the current round.
    wants_refresh: bool,
    last_error: Option<Error>,
    done: Option<Result<Value>>,
}

const ASKING: &[u8] = b"*1\r\n$6\r\nASKING\r\n";

/// What the round asks for before the next one.
#[derive(Default)]
struct Between {
    /// A refresh some job needs before its next attempt: why, and the first node to ask.
    refresh_now: Option<(RefreshReason, Option<NodeId>)>,
    /// A refresh that can happen in the background.
    refresh_soon: Option<RefreshReason>,
    backoff: Option<Duration>,
}

impl Between {
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

/// Run `jobs`; one result per job, in order.
pub(crate) fn run_jobs(core: &Core, jobs: &[Job<'_>], start: Start, deadline: Instant) -> Replies {
    let mut states: SmallVec<[State; 1]> = (0..jobs.len()).map(|_| State::default()).collect();
    let cluster = core.topology.cluster();
    let Start {
        now: mut round_clock,
        mut snapshot,
    } = start;
    if cluster.is_some() && snapshot.is_none() {
        match refresh::snapshot_at(core, round_clock, deadline) {
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
        core.next_random() as usize
    } else {
        0
    };
    loop {
        let mut between = Between::default();
        // The node table for this round, read after the snapshot routed with.
        let view = core.nodes.view();
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
                    core.config.read_from,
                    snapshot.as_deref(),
                    core.topology.static_nodes(),
                    rotate,
                    |id| view.is_ejected(id),
                    &mut candidates,
                );
                match chosen {
                    Ok(()) => {
                        let untried = candidates.iter().copied().find(|c| !st.tried.contains(c));
                        st.node = Some(untried.unwrap_or(candidates[0]));
                        st.has_alternative =
                            candidates.iter().filter(|c| !st.tried.contains(c)).count() > 1;
                    }
                    Err(NoCandidate::Uncovered) => {
                        between
                            .refresh_now
                            .get_or_insert((RefreshReason::Uncovered, None));
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
            let Some(node) = view.get(node_id) else {
                // The node left the topology since this job was routed: nothing was
                // sent; route it again from the current snapshot (which still naming it
                // is stale: refresh, and back off a little).
                between.refresh_soon = Some(RefreshReason::Topology);
                for &i in &members {
                    let st = &mut states[i];
                    st.node = None;
                    st.tried.push(node_id);
                    st.conn_retries += 1;
                    between.backoff(st.backoffs);
                    st.backoffs += 1;
                    if st.conn_retries > decide::CLUSTER_MAX_RETRIES {
                        st.done = Some(Err(node_gone()));
                    }
                }
                continue;
            };
            // The first node of the first round reuses the caller's clock reading;
            // after anything that may have blocked, read the clock.
            let now = round_clock.take().unwrap_or_else(Instant::now);
            let remaining = deadline.saturating_duration_since(now);
            // A read that has somewhere else to go does not spend the whole deadline on a
            // stalled node: half of what is left, and on a node that failed or stalled
            // recently (a probe) no more than the connect timeout.
            let short = members
                .iter()
                .all(|&i| jobs[i].readonly && states[i].has_alternative);
            let node_deadline = match (short, node.health.is_suspect()) {
                (false, _) => deadline,
                (true, false) => now + remaining / 2,
                (true, true) => now + (remaining / 2).min(core.config.connect_timeout),
            };
            let pool = node.pool();
            match node.checkout_from(&pool, &core.settings, node_deadline, now) {
                Err(e) => {
                    let failed = NodeFailure {
                        node,
                        error: &e,
                        stage: Stage::Connect,
                        deadline,
                        blame: now < node_deadline,
                    };
                    failed.apply_to(core, jobs, &mut states, &members, &mut between);
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
                            node,
                            pool,
                            conn,
                            members,
                            sent_at: now,
                            deadline: node_deadline,
                        }),
                        Err(e) => {
                            let failed = NodeFailure {
                                node,
                                error: &e,
                                stage: Stage::Sent,
                                deadline,
                                blame: now < node_deadline,
                            };
                            failed.apply_to(core, jobs, &mut states, &members, &mut between);
                        }
                    }
                }
            }
        }

        // 3. Read every reply, node by node, in order.
        for Flight {
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
                    Ok(Ok(v)) => {
                        states[i].asking = false;
                        states[i].done = Some(Ok(v));
                    }
                    Ok(Err(e)) => reply_error(
                        core,
                        &jobs[i],
                        &mut states[i],
                        node,
                        e,
                        deadline,
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
                    node.succeeded(members.len(), now - sent_at);
                    pool.checkin(conn, now);
                }
                Some((k, e)) => {
                    drop(conn);
                    let failed = NodeFailure {
                        node,
                        error: &e,
                        stage: Stage::Sent,
                        deadline,
                        // Its replies were waited for, or taken from the socket without
                        // waiting once out of time (Conn::fill): not there is its fault.
                        blame: true,
                    };
                    failed.apply_to(core, jobs, &mut states, &members[k..], &mut between);
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
        if let Some(reason) = between.refresh_soon {
            refresh::in_background(core, reason);
        }
        if let Some((reason, ask_first)) = between.refresh_now {
            // Rate-limited like every refresh: when it cannot run now, the jobs that
            // wanted it back off and ask again (or use the view another thread's refresh
            // brings).
            let ran = matches!(refresh::now(core, reason, ask_first, deadline), Ok(true));
            for st in states.iter_mut().filter(|s| s.wants_refresh) {
                st.wants_refresh = false;
                st.forced_refresh |= ran;
            }
            if !ran {
                between.backoff(0);
            }
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

/// A connection-level failure of one node, at one stage, for the jobs sent (or to be sent)
/// there.
struct NodeFailure<'n, 'e> {
    node: &'n Node,
    error: &'e Error,
    stage: Stage,
    deadline: Instant,
    /// The node had time of its own when the wait began: the failure is its fault (a node
    /// whose turn came after another one used up the deadline is not blamed).
    blame: bool,
}

impl NodeFailure<'_, '_> {
    /// Count it against the node once, then let the decision settle each job.
    fn apply_to(
        &self,
        core: &Core,
        jobs: &[Job<'_>],
        states: &mut [State],
        members: &[usize],
        between: &mut Between,
    ) {
        if self.blame {
            self.node.failed_with(self.error);
        }
        let failure = Failure::Connection {
            kind: self.error.kind(),
            stage: self.stage,
        };
        for &i in members {
            apply(
                core,
                &jobs[i],
                &mut states[i],
                self.node,
                self.error.clone(),
                failure,
                self.deadline,
                between,
            );
        }
    }
}

fn node_gone() -> Error {
    Error::new(
        ErrorKind::Connect,
        "the node left the cluster topology before the request was sent",
    )
}

/// An error reply arrived for job `st` from `node`.
fn reply_error(
    core: &Core,
    job: &Job<'_>,
    st: &mut State,
    node: &Node,
    err: Error,
    deadline: Instant,
    between: &mut Between,
) {
    match err.server_code().cloned() {
        Some(code) => apply(
            core,
            job,
            st,
            node,
            err,
            Failure::Reply(&code),
            deadline,
            between,
        ),
        // A redirect that cannot be followed, already a protocol error naming the node.
        None => {
            st.asking = false;
            st.done = Some(Err(err));
        }
    }
}

/// Ask the one decision what follows `failure` of job `st` on `node`, and apply it.
#[allow(clippy::too_many_arguments)]
fn apply(
    core: &Core,
    job: &Job<'_>,
    st: &mut State,
    node: &Node,
    err: Error,
    failure: Failure<'_>,
    deadline: Instant,
    between: &mut Between,
) {
    st.asking = false;
    let cluster = core.topology.cluster();
    let moved_to_self =
        matches!(err.server_code(), Some(ServerCode::Moved(t)) if t.addr == node.addr);
    let attempt = Attempt {
        readonly: job.readonly,
        retry_writes: core.config.retry_writes,
        cluster: cluster.is_some(),
        conn_retries: st.conn_retries,
        redirects: st.redirects,
        has_alternative: st.has_alternative,
        refreshed: st.forced_refresh,
        moved_to_self,
        time_left: Instant::now() < deadline,
    };
    let decision = decide::decide(failure, &attempt);
    let counters = &core.stats.cluster;
    match failure {
        Failure::Reply(ServerCode::Moved(_)) => counters.moved.fetch_add(1, Ordering::Relaxed),
        Failure::Reply(ServerCode::Ask(_)) => counters.ask.fetch_add(1, Ordering::Relaxed),
        Failure::Reply(code) if code.not_executed() && decision.next != Next::Done => {
            counters.transient.fetch_add(1, Ordering::Relaxed)
        }
        _ => 0,
    };
    match decision.refresh {
        Refresh::No => {}
        Refresh::Counted(reason) => {
            if let Some(c) = cluster {
                let (seen, threshold) = match reason {
                    RefreshReason::Moved => (&c.moved_since_refresh, c.settings.on_redirects),
                    _ => (&c.failures_since_refresh, c.settings.on_failures),
                };
                if seen.fetch_add(1, Ordering::Relaxed) + 1 >= threshold.max(1) {
                    between.refresh_soon = Some(reason);
                }
            }
        }
        Refresh::Soon(reason) => between.refresh_soon = Some(reason),
        Refresh::Now { ask_first } => {
            st.wants_refresh = true;
            if ask_first || between.refresh_now.is_none() {
                between.refresh_now = Some((RefreshReason::Topology, ask_first.then_some(node.id)));
            }
        }
    }
    match decision.next {
        Next::Done | Next::Fail => st.done = Some(Err(err)),
        Next::FailIndeterminate => st.done = Some(Err(err.into_indeterminate())),
        Next::TooManyRedirects => {
            st.done = Some(Err(err.with_context(&format!(
                "gave up: too many redirects ({MAX_REDIRECTS})"
            ))))
        }
        Next::Redirect { asking } => {
            st.redirects += 1;
            let target = match err.server_code() {
                Some(ServerCode::Moved(t) | ServerCode::Ask(t)) => t,
                _ => {
                    st.done = Some(Err(err));
                    return;
                }
            };
            match follow(core, &target.addr, &node.addr) {
                Ok(mut id) => {
                    if let (false, Some(c)) = (asking, cluster) {
                        c.snapshot.rcu(|s| s.with_slot_owner(target.slot, id));
                        // A refresh that does not know the node yet may have dropped it
                        // from the table in between: add it again and patch that id in.
                        if core.nodes.get(id).is_none()
                            && let Ok(again) = follow(core, &target.addr, &node.addr)
                        {
                            c.snapshot.rcu(|s| s.with_slot_owner(target.slot, again));
                            id = again;
                        }
                    }
                    st.node = Some(id);
                    st.asking = asking;
                    st.last_error = Some(err);
                }
                Err(e) => st.done = Some(Err(e)),
            }
        }
        Next::Retry { to, backoff } => {
            if let Failure::Connection { .. } = failure {
                st.conn_retries += 1;
                counters.retries.fetch_add(1, Ordering::Relaxed);
            }
            match to {
                RetryTo::SameNode => {}
                RetryTo::Reroute => st.node = None,
                RetryTo::Elsewhere => {
                    if !st.tried.contains(&node.id) {
                        st.tried.push(node.id);
                    }
                    st.node = None;
                }
            }
            if backoff {
                between.backoff(st.backoffs);
                st.backoffs += 1;
            }
            st.last_error = Some(err);
        }
    }
}

/// The node a redirect names, added to the table if new. A host name that does not resolve
/// is a protocol error naming the node that sent the redirect: it is never followed.
fn follow(core: &Core, addr: &str, from: &str) -> Result<NodeId> {
    if core.nodes.id_of(addr).is_none()
        && let Some((host, port)) = addr.rsplit_once(':')
        && host.parse::<std::net::IpAddr>().is_err()
        && !host.starts_with('[')
    {
        use std::net::ToSocketAddrs;
        let resolves = port
            .parse::<u16>()
            .ok()
            .and_then(|p| (host, p).to_socket_addrs().ok())
            .is_some_and(|mut a| a.next().is_some());
        if !resolves {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!("cannot follow redirect: {host:?} does not resolve"),
            )
            .with_node(from));
        }
    }
    core.nodes
        .intern(addr)
        .map_err(|e| Error::new(ErrorKind::Protocol, e.message().to_owned()).with_node(from))
}
