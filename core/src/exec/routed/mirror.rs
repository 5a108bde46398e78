//! Request mirroring, fire-and-forget: the caller puts a copy of its command on a bounded
//! queue (never waiting: a full queue drops the copy and counts it) and a background
//! thread sends the copies to the mirror backends, a batch at a time as pipelines. The
//! thread starts on the first mirrored command; after `fork()` the child starts its own.
//! A mirror that fails never reaches the caller; it shows in stats.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use crate::stats::MirrorStats;
use parking_lot::Mutex;

use crate::command::Cmd;
use crate::core::Core;
use crate::process;

/// Copies waiting to be sent, all mirror backends together; more are dropped.
pub(crate) const MIRROR_QUEUE_CAPACITY: usize = 16_384;
/// Copies sent to one backend in one pipeline.
const BATCH: usize = 256;
/// After sending a batch, the thread lets copies gather this long before it looks again:
/// while it sleeps, callers queue without waking it (no futex call on their path), and
/// the next batch is bigger. An idle thread blocks on the queue and costs nothing.
const LINGER: std::time::Duration = std::time::Duration::from_micros(500);

/// Counters of one mirror backend.
#[derive(Debug, Default)]
pub(crate) struct MirrorCounters {
    queued: AtomicU64,
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

struct Job {
    backend: usize,
    cmd: Cmd,
}

/// The queue and its sending thread.
pub(crate) struct MirrorQueue {
    cores: Vec<Arc<Core>>,
    counters: Arc<Vec<MirrorCounters>>,
    sender: Mutex<Option<(u64, SyncSender<Job>)>>,
}

impl MirrorQueue {
    /// A queue over `cores` (indexed by backend); no thread until the first copy.
    pub(crate) fn new(cores: Vec<Arc<Core>>) -> MirrorQueue {
        let counters = Arc::new(
            (0..cores.len())
                .map(|_| MirrorCounters::default())
                .collect(),
        );
        MirrorQueue {
            cores,
            counters,
            sender: Mutex::new(None),
        }
    }

    /// Queue a copy of `cmd` for `backend`; never blocks.
    pub(crate) fn send(&self, backend: usize, cmd: Cmd) {
        let c = &self.counters[backend];
        let tx = {
            let mut guard = self.sender.lock();
            let generation = process::generation();
            let live = guard.as_ref().is_some_and(|(g, _)| *g == generation);
            if !live {
                // A sender inherited across fork() belongs to a thread that does not exist
                // here; dropping it could touch a lock that thread held. Leak it.
                if let Some(old) = guard.take() {
                    std::mem::forget(old);
                    // Copies still queued at the fork are the parent's to send: they do
                    // not count as this process's.
                    for c in self.counters.iter() {
                        let done =
                            c.sent.load(Ordering::Relaxed) + c.failed.load(Ordering::Relaxed);
                        let pending = c.queued.load(Ordering::Relaxed).saturating_sub(done);
                        c.queued.fetch_sub(pending, Ordering::Relaxed);
                    }
                }
                match self.spawn() {
                    Some(tx) => *guard = Some((generation, tx)),
                    None => {
                        c.dropped.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
            guard.as_ref().map(|(_, tx)| tx.clone())
        };
        let Some(tx) = tx else { return };
        match tx.try_send(Job { backend, cmd }) {
            Ok(()) => {
                c.queued.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                c.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn spawn(&self) -> Option<SyncSender<Job>> {
        let (tx, rx) = sync_channel(MIRROR_QUEUE_CAPACITY);
        let cores = self.cores.clone();
        let counters = self.counters.clone();
        std::thread::Builder::new()
            .name("shardis-mirror".into())
            .spawn(move || run(&rx, &cores, &counters))
            .ok()?;
        Some(tx)
    }

    /// Figures of `backend`.
    pub(crate) fn stats(&self, backend: usize) -> MirrorStats {
        let c = &self.counters[backend];
        MirrorStats {
            queued: c.queued.load(Ordering::Relaxed),
            sent: c.sent.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
        }
    }
}

/// The sending thread: wait for a copy, take what else is queued (up to a batch per
/// backend), send each backend's copies as one pipeline, linger. Ends when the client is
/// gone.
fn run(rx: &Receiver<Job>, cores: &[Arc<Core>], counters: &[MirrorCounters]) {
    let mut batches: Vec<Vec<Cmd>> = vec![Vec::new(); cores.len()];
    while let Ok(first) = rx.recv() {
        batches[first.backend].push(first.cmd);
        let mut taken = 1;
        while taken < BATCH * cores.len() {
            match rx.try_recv() {
                Ok(job) => {
                    batches[job.backend].push(job.cmd);
                    taken += 1;
                }
                Err(_) => break,
            }
        }
        for (backend, batch) in batches.iter_mut().enumerate() {
            if batch.is_empty() {
                continue;
            }
            let replies = super::super::pipeline::execute_all(&cores[backend], batch);
            let failed = replies
                .iter()
                .filter(|r| {
                    r.as_ref()
                        .is_err_and(|e| e.kind() != crate::ErrorKind::Server)
                })
                .count() as u64;
            let c = &counters[backend];
            c.failed.fetch_add(failed, Ordering::Relaxed);
            c.sent
                .fetch_add(replies.len() as u64 - failed, Ordering::Relaxed);
            batch.clear();
        }
        std::thread::sleep(LINGER);
    }
}
