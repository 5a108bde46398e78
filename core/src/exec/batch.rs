//! Scatter-gather: requests grouped per node; every node's requests are written first, then
//! every reply is read, so N nodes cost about one round trip, not N (ARCHITECTURE §4).
//! A failing node fails only its own requests; unanswered reads are retried once on a
//! fresh connection, unanswered writes become indeterminate.

use std::time::Instant;

use crate::client::Core;
use crate::conn::Conn;
use crate::error::{Error, Result};
use crate::reply::Value;

use super::retry::{self, Action, Stage};

/// One request inside a node batch.
struct Sub {
    start: usize,
    end: usize,
    readonly: bool,
    reply: Option<Result<Value>>,
}

/// The requests for one node.
pub(crate) struct Batch {
    pub(crate) node: usize,
    buf: Vec<u8>,
    subs: Vec<Sub>,
}

impl Batch {
    pub(crate) fn new(node: usize) -> Batch {
        Batch {
            node,
            buf: Vec::with_capacity(256),
            subs: Vec::new(),
        }
    }

    /// Append a request written by `write`; returns its index in this batch.
    pub(crate) fn push(&mut self, readonly: bool, write: impl FnOnce(&mut Vec<u8>)) -> usize {
        let start = self.buf.len();
        write(&mut self.buf);
        self.subs.push(Sub {
            start,
            end: self.buf.len(),
            readonly,
            reply: None,
        });
        self.subs.len() - 1
    }

    /// Take the reply of request `i` (after [`run`]).
    pub(crate) fn take(&mut self, i: usize) -> Result<Value> {
        self.subs
            .get_mut(i)
            .and_then(|s| s.reply.take())
            .unwrap_or_else(|| Err(Error::new(crate::ErrorKind::Protocol, "missing reply")))
    }

    fn pending(&self) -> impl Iterator<Item = usize> + '_ {
        self.subs
            .iter()
            .enumerate()
            .filter(|(_, s)| s.reply.is_none())
            .map(|(i, _)| i)
    }

    /// The bytes of the still-unanswered requests.
    fn pending_bytes(&self) -> (Vec<usize>, std::borrow::Cow<'_, [u8]>) {
        let idx: Vec<usize> = self.pending().collect();
        if idx.len() == self.subs.len() {
            return (idx, std::borrow::Cow::Borrowed(&self.buf));
        }
        let mut out = Vec::new();
        for &i in &idx {
            out.extend_from_slice(&self.buf[self.subs[i].start..self.subs[i].end]);
        }
        (idx, std::borrow::Cow::Owned(out))
    }
}

/// Run every batch: write all, then read all; retry what the retry rules allow.
pub(crate) fn run(core: &Core, batches: &mut [Batch], deadline: Instant) {
    let retry_writes = core.config.retry_writes;
    let mut attempt = 0;
    loop {
        // Phase 1: connect and write.
        let mut in_flight: Vec<(usize, Conn, Vec<usize>, Instant)> = Vec::new();
        for (b, batch) in batches.iter_mut().enumerate() {
            let (idx, bytes) = batch.pending_bytes();
            if idx.is_empty() {
                continue;
            }
            match core.checkout(batch.node, deadline) {
                Ok((mut conn, _)) => {
                    let sent_at = Instant::now();
                    match conn.send(&bytes, deadline) {
                        Ok(()) => {
                            drop(bytes);
                            in_flight.push((b, conn, idx, sent_at));
                        }
                        Err(e) => {
                            drop(bytes);
                            core.stats.node_error(batch.node);
                            fail(batch, &idx, &e, Stage::Sent, retry_writes, attempt);
                        }
                    }
                }
                Err(e) => {
                    drop(bytes);
                    fail(batch, &idx, &e, Stage::Connect, retry_writes, attempt);
                }
            }
        }
        // Phase 2: read every reply, node by node, in order.
        for (b, mut conn, idx, sent_at) in in_flight {
            let batch = &mut batches[b];
            let mut broken = None;
            for (n, &i) in idx.iter().enumerate() {
                match conn.recv(deadline) {
                    Ok(reply) => batch.subs[i].reply = Some(reply),
                    Err(e) => {
                        broken = Some((n, e));
                        break;
                    }
                }
            }
            match broken {
                None => {
                    core.stats
                        .node_round_trip(batch.node, idx.len(), sent_at.elapsed());
                    core.checkin(batch.node, conn);
                }
                Some((n, e)) => {
                    drop(conn);
                    core.stats.node_error(batch.node);
                    fail(batch, &idx[n..], &e, Stage::Sent, retry_writes, attempt);
                }
            }
        }
        let again = batches.iter().any(|b| b.pending().next().is_some());
        if !again {
            return;
        }
        attempt += 1;
    }
}

/// Record the outcome of `failed` requests of `batch`: leave retryable ones pending (for the
/// next round), settle the rest.
fn fail(
    batch: &mut Batch,
    failed: &[usize],
    e: &Error,
    stage: Stage,
    retry_writes: bool,
    attempt: u32,
) {
    for &i in failed {
        let sub = &mut batch.subs[i];
        sub.reply = match retry::decide(e.kind(), stage, sub.readonly, retry_writes, attempt) {
            Action::Retry => None,
            Action::Fail => Some(Err(e.clone())),
            Action::FailIndeterminate => Some(Err(e.clone().into_indeterminate())),
        };
    }
}
