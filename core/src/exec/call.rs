//! One command to one node — the hot path: take a pooled connection, write, read, give it
//! back. Failures go through [`retry::decide`]; a broken connection is always dropped.

use std::time::Instant;

use crate::client::Core;
use crate::command::Cmd;
use crate::error::{Error, ErrorKind, Result};
use crate::reply::Value;

use super::retry::{self, Action, Stage};

impl Core {
    /// Send `cmd` to `node` and return its reply, retrying per the retry rules.
    pub(crate) fn call_node(
        &self,
        node: usize,
        cmd: &Cmd,
        readonly: bool,
        deadline: Instant,
    ) -> Result<Value> {
        let retry_writes = self.config.retry_writes;
        let mut attempt = 0;
        loop {
            let mut conn = match self.checkout(node, deadline) {
                Ok((conn, _reused)) => conn,
                Err(e) => {
                    match retry::decide(e.kind(), Stage::Connect, readonly, retry_writes, attempt) {
                        Action::Retry => {
                            attempt += 1;
                            continue;
                        }
                        _ => return Err(e),
                    }
                }
            };
            let sent_at = Instant::now();
            match conn.request_cmd(cmd, deadline) {
                Ok(reply) => {
                    self.stats.node_round_trip(node, 1, sent_at.elapsed());
                    self.checkin(node, conn);
                    return reply;
                }
                Err(e) => {
                    drop(conn);
                    self.stats.node_error(node);
                    match retry::decide(e.kind(), Stage::Sent, readonly, retry_writes, attempt) {
                        Action::Retry => attempt += 1,
                        Action::Fail => return Err(e),
                        Action::FailIndeterminate => return Err(e.into_indeterminate()),
                    }
                }
            }
        }
    }

    /// A keyless command: the first node that can be reached (a node that refuses
    /// connections is skipped; nothing was sent to it).
    pub(crate) fn call_any(&self, cmd: &Cmd, readonly: bool, deadline: Instant) -> Result<Value> {
        let n = self.topology.nodes().len();
        let mut last = None;
        for node in 0..n {
            match self.call_node(node, cmd, readonly, deadline) {
                Err(e) if e.kind() == ErrorKind::Connect => last = Some(e),
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| Error::new(ErrorKind::Connect, "no node configured")))
    }

    /// RANDOMKEY: a random node first, then the others until one has a key.
    pub(crate) fn random_key(&self, cmd: &Cmd, deadline: Instant) -> Result<Value> {
        let n = self.topology.nodes().len();
        let start = (self.next_random() % n as u64) as usize;
        let mut first_error = None;
        for i in 0..n {
            let node = (start + i) % n;
            match self.call_node(node, cmd, true, deadline) {
                Ok(Value::Nil) => {}
                Ok(v) => return Ok(v),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(Value::Nil),
        }
    }
}
