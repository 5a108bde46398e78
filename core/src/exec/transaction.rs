//! MULTI/EXEC/WATCH pinned to one node on one connection held for the transaction's life.
//! Every key (watched or queued) must live on that node — in one slot, in cluster mode,
//! where the primary of that slot runs it: otherwise a cross-shard error is
//! returned before anything is sent. Queued commands go out as one
//! `MULTI … EXEC` write.

use std::sync::Arc;
use std::time::Instant;

use crate::client::Core;
use crate::command::table::{CommandSpec, Route};
use crate::command::{Cmd, write_command};
use crate::conn::Conn;
use crate::error::{Error, ErrorKind, Result};
use crate::process;
use crate::reply::Value;
use crate::router::plan::{self, Layout};
use crate::topology::Target;
use crate::topology::nodes::NodeId;

/// A transaction in progress. Dropping it without [`Transaction::exec`] discards it (a
/// connection with an active WATCH is closed rather than reused).
pub struct Transaction {
    core: Arc<Core>,
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
    pub(crate) fn new(core: Arc<Core>) -> Transaction {
        Transaction {
            core,
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
        Layout {
            topology: &self.core.topology,
            nodes: &self.core.nodes,
            hash_tags: self.core.config.hash_tags(),
            snapshot: None,
        }
    }

    fn describe(&self, t: Target) -> String {
        match t {
            Target::Node(id) => self.core.nodes.get(id).addr.clone(),
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
            let node = self.core.primary_of(target, deadline)?;
            let (conn, _) = self
                .core
                .nodes
                .get(node)
                .checkout(&self.core.settings, deadline)?;
            self.node = Some(node);
            self.conn = Some(conn);
        }
        self.conn
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::Io, "no connection"))
    }

    /// Run `request` on the pinned connection; a broken connection is dropped.
    fn round_trip(
        &mut self,
        request: &[u8],
        replies: usize,
        deadline: Instant,
    ) -> Result<Vec<Result<Value>>> {
        let conn = self.conn(deadline)?;
        let mut out = Vec::with_capacity(replies);
        let result = conn.send(request, deadline).and_then(|()| {
            for _ in 0..replies {
                out.push(conn.recv(deadline)?);
            }
            Ok(())
        });
        if let Err(e) = result {
            self.conn = None;
            self.watch_lost |= self.watching;
            self.watching = false;
            return Err(e);
        }
        Ok(out)
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
        let unit = plan::single_unit(spec, &cmd, &self.layout())?;
        self.pin_unit(unit, spec.name)?;
        let mut buf = Vec::new();
        cmd.write_resp(&mut buf);
        let deadline = self.core.deadline();
        self.round_trip(&buf, 1, deadline)?
            .pop()
            .unwrap_or(Ok(Value::Nil))?;
        self.watching = true;
        Ok(())
    }

    /// Run a command now on the pinned connection (reads between WATCH and EXEC).
    pub fn query(&mut self, cmd: &Cmd) -> Result<Value> {
        self.check_fork()?;
        let spec = plan::resolve(cmd)?;
        self.pin(spec, cmd)?;
        let mut buf = Vec::new();
        cmd.write_resp(&mut buf);
        let deadline = self.core.deadline();
        self.round_trip(&buf, 1, deadline)?
            .pop()
            .unwrap_or(Ok(Value::Nil))
    }

    /// Queue a command for EXEC (checked now: unknown, unsupported or cross-shard commands
    /// are refused before anything is sent).
    pub fn queue(&mut self, cmd: Cmd) -> Result<&mut Transaction> {
        self.check_fork()?;
        let spec = plan::resolve(&cmd)?;
        self.pin(spec, &cmd)?;
        self.queued.push(cmd);
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
        self.core
            .primary_of(target, self.core.deadline())
            .ok()
            .map(|n| self.core.nodes.get(n).addr.clone())
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
        let result = match self.round_trip(&buf, n + 2, deadline) {
            Err(e) => {
                // EXEC may have run: the outcome of the queued writes is unknown.
                let readonly = self
                    .queued
                    .iter()
                    .all(|c| plan::resolve(c).is_ok_and(CommandSpec::is_readonly));
                let kind = e.kind();
                if !readonly
                    && matches!(
                        kind,
                        ErrorKind::Io | ErrorKind::Timeout | ErrorKind::Protocol
                    )
                {
                    Err(e.into_indeterminate())
                } else {
                    Err(e)
                }
            }
            Ok(mut replies) => {
                self.watching = false;
                // The last reply is EXEC's. A queueing error (before it, in place of
                // +QUEUED) makes EXEC fail with EXECABORT, the more useful error to return.
                replies.pop().unwrap_or(Ok(Value::Nil))
            }
        };
        let spec = crate::command::table::lookup(b"exec");
        self.core.record(spec, start, &result);
        if let (Some(node), Some(conn)) = (self.node, self.conn.take())
            && !self.watching
        {
            self.core.nodes.get(node).checkin(conn);
        }
        result
    }

    /// Discard the transaction (UNWATCH happens by closing a watched connection).
    pub fn discard(mut self) {
        self.release();
    }

    fn release(&mut self) {
        if let (Some(node), Some(conn)) = (self.node, self.conn.take())
            && !self.watching
            && self.generation == process::generation()
        {
            self.core.nodes.get(node).checkin(conn);
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.release();
    }
}
