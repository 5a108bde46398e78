//! MULTI/EXEC/WATCH pinned to one node on one connection held for the transaction's life.
//! Every key (watched or queued) must live on that node — in one slot, in cluster mode,
//! where the primary of that slot runs it: otherwise a cross-shard error is
//! returned before anything is sent. Queued commands go out as one
//! `MULTI … EXEC` write. A failure is settled by the same decision as every other call
//! (`exec::decide`): nothing sent → the error as it is; sent → indeterminate unless every
//! queued command is a read. Node health and counters are updated like every other call.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use super::decide::{self, Attempt, Failure, Next, Refresh, Stage};
use super::keyspace::{self, layout};
use super::refresh;
use super::routed::Routed;
use super::routed::rewrite;
use crate::command::table::{CommandSpec, Route};
use crate::command::{Cmd, write_command};
use crate::conn::connection::Conn;
use crate::core::Core;
use crate::error::{Error, ErrorKind, Result};
use crate::process;
use crate::reply::Value;
use crate::router::plan::{self, Layout};
use crate::router::prefix::RouteId;
use crate::stats::RefreshReason;
use crate::topology::target::{NodeId, NodeNames, Target};

/// First pause before reconnecting to a transaction's node (doubles per attempt).
const BACKOFF: std::time::Duration = std::time::Duration::from_millis(5);

/// A transaction in progress. Dropping it without [`Transaction::exec`] discards it (a
/// connection with an active WATCH is closed rather than reused).
pub struct Transaction {
    core: Arc<Core>,
    /// With routes: every key must take routes of one backend; `backend` is the pinned one.
    routed: Option<Arc<Routed>>,
    backend: Option<usize>,
    /// With routes: the route of each queued command (mirrored after a commit).
    queued_routes: Vec<Option<RouteId>>,
    /// The route of the command `route` placed last.
    last_route: Option<RouteId>,
    /// The unit (node or slot) every key must share.
    target: Option<Target>,
    /// The node the connection goes to (resolved when it opens).
    node: Option<NodeId>,
    conn: Option<Conn>,
    watching: bool,
    /// A connection failed while WATCH was active: EXEC must not run unwatched.
    watch_lost: bool,
    queued: Vec<Cmd>,
    generation: u64,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("node", &self.node())
            .field("watching", &self.watching)
            .field("queued", &self.queued.len())
            .finish()
    }
}

impl Transaction {
    pub(crate) fn new(core: Arc<Core>, routed: Option<Arc<Routed>>) -> Transaction {
        Transaction {
            core,
            routed,
            backend: None,
            queued_routes: Vec::new(),
            last_route: None,
            target: None,
            node: None,
            conn: None,
            watching: false,
            watch_lost: false,
            queued: Vec::new(),
            generation: process::generation(),
        }
    }

    fn check_fork(&self) -> Result<()> {
        if self.generation != process::generation() {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "this transaction was started before fork(); start a new one in this process",
            ));
        }
        Ok(())
    }

    /// With routes: `cmd` with its keys rewritten for its route, after pinning the route's
    /// backend (or checking it is the pinned one). Without routes, `cmd` itself.
    fn route<'c>(&mut self, spec: &'static CommandSpec, cmd: &'c Cmd) -> Result<Cow<'c, Cmd>> {
        let Some(r) = self.routed.clone() else {
            return Ok(Cow::Borrowed(cmd));
        };
        let (place, sent) = r.transaction_place(spec, cmd)?;
        self.last_route = place.map(|(_, id)| id);
        match (place.map(|(b, _)| b), self.backend) {
            (None, _) => {}
            (Some(b), Some(pinned)) if b != pinned => {
                return Err(rewrite::cross_backend(&r, pinned, b, spec.name));
            }
            (Some(_), Some(_)) => {}
            (Some(b), None) => {
                if self.conn.is_some() && !Arc::ptr_eq(&self.core, &r.cores[b]) {
                    return Err(rewrite::cross_backend(&r, r.primary, b, spec.name));
                }
                self.backend = Some(b);
                self.core = r.cores[b].clone();
            }
        }
        Ok(sent)
    }

    /// [`Transaction::route`], then [`Transaction::pin`]; a command refused by `pin` leaves
    /// no backend pinned by it.
    fn route_and_pin<'c>(
        &mut self,
        spec: &'static CommandSpec,
        cmd: &'c Cmd,
    ) -> Result<Cow<'c, Cmd>> {
        let before = (self.backend, self.core.clone());
        let sent = self.route(spec, cmd)?;
        if let Err(e) = self.pin(spec, &sent) {
            (self.backend, self.core) = before;
            return Err(e);
        }
        Ok(sent)
    }

    /// Pin the node of `cmd`'s keys (or check it matches the pinned node).
    fn pin(&mut self, spec: &'static CommandSpec, cmd: &Cmd) -> Result<()> {
        if let Route::Unsupported(why) = spec.route {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("'{}' cannot be used here: {why}", spec.name),
            ));
        }
        crate::command::keys::check_arity(spec, cmd)?;
        let unit = match spec.route {
            // In a transaction every key must be in one unit, split commands included.
            Route::Keyed | Route::Split { .. } => plan::single_unit(spec, cmd, &self.layout())?,
            Route::AnyNode => None,
            _ => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "'{}' spans every node and cannot run inside a transaction",
                        spec.name
                    ),
                ));
            }
        };
        self.pin_unit(unit, spec.name)
    }

    fn layout(&self) -> Layout<'_> {
        layout(&self.core, None)
    }

    fn describe(&self, t: Target) -> String {
        match t {
            Target::Node(id) => self.core.nodes.addr(id),
            Target::Slot(s) | Target::PrimaryOf(s) => format!("slot {s}"),
            Target::Any => "any node".into(),
        }
    }

    /// Pin `node` (None: keyless, no constraint), or check it is the pinned one.
    fn pin_unit(&mut self, unit: Option<Target>, name: &str) -> Result<()> {
        let Some(unit) = unit else { return Ok(()) };
        match self.target {
            Some(pinned) if pinned != unit => Err(Error::new(
                ErrorKind::CrossShard,
                format!(
                    "transaction is pinned to {} but '{name}' has keys on {}; nothing was sent; use a common {{hash tag}}",
                    self.describe(pinned),
                    self.describe(unit)
                ),
            )),
            _ => {
                self.target = Some(unit);
                Ok(())
            }
        }
    }

    fn conn(&mut self, deadline: Instant) -> Result<&mut Conn> {
        if self.conn.is_none() {
            let target = *self.target.get_or_insert(Target::Any);
            let id = keyspace::primary_of(&self.core, target, deadline)?;
            let node = self.core.nodes.get(id).ok_or_else(|| {
                Error::new(
                    ErrorKind::Connect,
                    "the node left the cluster topology before the transaction started",
                )
            })?;
            let (conn, _) = node
                .checkout(&self.core.settings, deadline)
                .inspect_err(|e| node.failed_with(e))?;
            self.node = Some(id);
            self.conn = Some(conn);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Io, "no connection"))
    }

    /// Run `request` on the pinned connection. A failure is settled by the one decision: a
    /// connection that could not be made is retried once (nothing was sent, unless a WATCH
    /// would be lost); a broken connection is dropped, and a write that may have run is
    /// reported as indeterminate.
    fn round_trip(
        &mut self,
        request: &[u8],
        replies: usize,
        readonly: bool,
        deadline: Instant,
    ) -> Result<Vec<Result<Value>>> {
        let mut attempt = Attempt {
            readonly,
            retry_writes: false,
            cluster: self.core.topology.cluster().is_some(),
            ..Attempt::default()
        };
        loop {
            let started = Instant::now();
            let (stage, error) = match self.conn(deadline) {
                Err(e) => (Stage::Connect, e),
                Ok(conn) => {
                    let mut out = Vec::with_capacity(replies);
                    let result = conn.send(request, deadline).and_then(|()| {
                        for _ in 0..replies {
                            out.push(conn.recv(deadline)?);
                        }
                        Ok(())
                    });
                    match result {
                        Ok(()) => {
                            if let Some(node) = self.node.and_then(|id| self.core.nodes.get(id)) {
                                node.succeeded(replies, started.elapsed());
                            }
                            // Error replies are the caller's answer (a transaction is not
                            // re-routed behind its back), but what they say about the
                            // topology (MOVED, READONLY, CLUSTERDOWN…) is acted on.
                            for code in out.iter().filter_map(|r| r.as_ref().err()?.server_code()) {
                                let refresh =
                                    decide::decide(Failure::Reply(code), &attempt).refresh;
                                self.refresh(refresh);
                            }
                            return Ok(out);
                        }
                        Err(e) => {
                            self.conn = None;
                            if let Some(node) = self.node.and_then(|id| self.core.nodes.get(id)) {
                                node.failed_with(&e);
                            }
                            (Stage::Sent, e)
                        }
                    }
                }
            };
            let failure = Failure::Connection {
                kind: error.kind(),
                stage,
            };
            // A transaction's retry stays on its pinned slot's primary (resolved anew from
            // the current snapshot), only when nothing was sent, never with a WATCH lost.
            let decision = decide::decide(failure, &attempt);
            self.refresh(decision.refresh);
            match decision.next {
                Next::Retry { backoff, .. } if !self.watching && stage == Stage::Connect => {
                    attempt.conn_retries += 1;
                    self.core
                        .stats
                        .cluster
                        .retries
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if backoff {
                        let pause = BACKOFF
                            .saturating_mul(1 << attempt.conn_retries.min(5))
                            .min(deadline.saturating_duration_since(Instant::now()));
                        std::thread::sleep(pause);
                    }
                }
                Next::FailIndeterminate => return Err(self.lost(error.into_indeterminate())),
                _ => return Err(self.lost(error)),
            }
        }
    }

    /// Ask for the refresh a decision wants; a transaction never waits for one (its caller
    /// decides what to retry), so it runs in the background.
    fn refresh(&self, refresh: Refresh) {
        let reason = match refresh {
            Refresh::No => return,
            Refresh::Counted(reason) | Refresh::Soon(reason) => reason,
            Refresh::Now { .. } => RefreshReason::Topology,
        };
        refresh::in_background(&self.core, reason);
    }

    /// The connection failed: a WATCH on it is gone.
    fn lost(&mut self, e: Error) -> Error {
        self.watch_lost |= self.watching;
        self.watching = false;
        e
    }

    /// `WATCH keys…` on the transaction's node.
    pub fn watch<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Result<()> {
        self.check_fork()?;
        let mut cmd = Cmd::new("WATCH");
        for k in keys {
            cmd.arg(k);
        }
        // WATCH's route is "unsupported" as a plain command; its keys still pin the node.
        let spec = plan::resolve(&cmd)?;
        let before = (self.backend, self.core.clone());
        let cmd = self.route(spec, &cmd)?.into_owned();
        let pinned = plan::single_unit(spec, &cmd, &self.layout())
            .and_then(|unit| self.pin_unit(unit, spec.name));
        if let Err(e) = pinned {
            (self.backend, self.core) = before;
            return Err(e);
        }
        let mut buf = Vec::new();
        cmd.write_resp(&mut buf);
        let deadline = self.core.deadline();
        self.round_trip(&buf, 1, true, deadline)?
            .pop()
            .unwrap_or(Ok(Value::Nil))?;
        self.watching = true;
        Ok(())
    }

    /// Run a command now on the pinned connection (reads between WATCH and EXEC).
    pub fn query(&mut self, cmd: &Cmd) -> Result<Value> {
        self.check_fork()?;
        let spec = plan::resolve(cmd)?;
        let routed = self.route_and_pin(spec, cmd)?;
        let cmd: &Cmd = &routed;
        let mut buf = Vec::new();
        cmd.write_resp(&mut buf);
        let deadline = self.core.deadline();
        self.round_trip(&buf, 1, spec.is_readonly(), deadline)?
            .pop()
            .unwrap_or(Ok(Value::Nil))
    }

    /// Queue a command for EXEC (checked now: unknown, unsupported or cross-shard commands
    /// are refused before anything is sent).
    pub fn queue(&mut self, cmd: Cmd) -> Result<&mut Transaction> {
        self.check_fork()?;
        let spec = plan::resolve(&cmd)?;
        let cmd = match self.route_and_pin(spec, &cmd)? {
            Cow::Borrowed(_) => cmd,
            Cow::Owned(rewritten) => rewritten,
        };
        self.queued.push(cmd);
        self.queued_routes.push(self.last_route.take());
        Ok(self)
    }

    /// Number of queued commands.
    pub fn len(&self) -> usize {
        self.queued.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queued.is_empty()
    }

    /// The pinned node, if any.
    pub fn node(&self) -> Option<String> {
        let target = self.target?;
        keyspace::primary_of(&self.core, target, self.core.deadline())
            .ok()
            .map(|n| self.core.nodes.addr(n))
    }

    /// Send `MULTI`, the queued commands and `EXEC` in one write. Returns the EXEC reply:
    /// an array (command errors inside it as [`Value::Error`]), or [`Value::Nil`] when a
    /// watched key changed.
    pub fn exec(mut self) -> Result<Value> {
        self.check_fork()?;
        if self.watch_lost {
            return Err(Error::new(
                ErrorKind::Io,
                "the connection holding WATCH failed; the transaction was not executed (retry it)",
            ));
        }
        let start = Instant::now();
        let deadline = self.core.deadline();
        let mut buf = Vec::new();
        write_command(&mut buf, &[b"MULTI"]);
        for c in &self.queued {
            c.write_resp(&mut buf);
        }
        write_command(&mut buf, &[b"EXEC"]);
        let n = self.queued.len();
        let readonly = self
            .queued
            .iter()
            .all(|c| plan::resolve(c).is_ok_and(CommandSpec::is_readonly));
        let result = self
            .round_trip(&buf, n + 2, readonly, deadline)
            .map(|mut replies| {
                self.watching = false;
                // The last reply is EXEC's. A queueing error (before it, in place of +QUEUED)
                // makes EXEC fail with EXECABORT, the more useful error to return.
                replies.pop().unwrap_or(Ok(Value::Nil))
            });
        let result = result.and_then(|r| r);
        let spec = crate::command::table::lookup(b"exec");
        self.core.record(spec, start, &result);
        // Committed (EXEC ran, no watched key changed): mirror its writes.
        if let (Some(r), Ok(Value::Array(_))) = (&self.routed, &result) {
            let queued: Vec<(Option<RouteId>, &Cmd)> = self
                .queued_routes
                .iter()
                .copied()
                .zip(self.queued.iter())
                .collect();
            r.mirror_committed(&queued);
        }
        self.release();
        result
    }

    /// Discard the transaction (UNWATCH happens by closing a watched connection).
    pub fn discard(mut self) {
        self.release();
    }

    fn release(&mut self) {
        if let (Some(id), Some(conn)) = (self.node, self.conn.take())
            && !self.watching
            && self.generation == process::generation()
            && let Some(node) = self.core.nodes.get(id)
        {
            node.checkin(conn);
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.release();
    }
}
