//! Request mirroring, fire-and-forget: the caller puts a copy of its command on a bounded
//! queue (never waiting: a full queue drops the copy and counts it) and a background
//! thread sends the copies to the mirror backends, a batch at a time as pipelines. The
//! thread starts on the first mirrored command; after `fork()` the child starts its own.
//! A mirror that fails never reaches the caller; it shows in stats.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use crate::stats::MirrorStats;
use arc_swap::ArcSwapOption;

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

/// The live queue of this process: its fork generation, the sending end, and the flag the
/// thread raises when it has sent everything and ended.
struct Sender {
    generation: u64,
    tx: SyncSender<Job>,
    finished: Arc<Finished>,
}

/// Raised by the sending thread when it ends.
#[derive(Default)]
struct Finished {
    done: parking_lot::Mutex<bool>,
    cond: parking_lot::Condvar,
}

/// How long dropping the client waits for queued copies to be sent (a short-lived process,
/// such as the CLI or a PHP CLI script, would otherwise lose them at exit).
const DRAIN_ON_DROP: std::time::Duration = std::time::Duration::from_secs(2);

/// The queue and its sending thread.
pub(crate) struct MirrorQueue {
    cores: Vec<Arc<Core>>,
    counters: Arc<Vec<MirrorCounters>>,
    sender: ArcSwapOption<Sender>,
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
            sender: ArcSwapOption::empty(),
        }
    }

    /// Queue a copy of `cmd` for `backend`; never blocks, takes no lock (a lock held by
    /// another thread at `fork()` would stay locked forever in the child).
    pub(crate) fn send(&self, backend: usize, cmd: Cmd) {
        let c = &self.counters[backend];
        let generation = process::generation();
        let mut current = self.sender.load();
        if current.as_ref().is_none_or(|s| s.generation != generation) {
            let Some((tx, finished)) = self.spawn() else {
                c.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let fresh = Arc::new(Sender {
                generation,
                tx,
                finished,
            });
            let previous = self.sender.compare_and_swap(&*current, Some(fresh));
            let won = match (&*previous, &*current) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            // A racing thread installed its own first: ours is dropped and its thread ends.
            if won && let Some(inherited) = &*previous {
                // Inherited across fork(): its thread does not exist here, and dropping it
                // could touch a lock that thread held. Leak it. The copies still queued at
                // the fork are the parent's to send, not this process's.
                std::mem::forget(Arc::clone(inherited));
                for c in self.counters.iter() {
                    let done = c.sent.load(Ordering::Relaxed) + c.failed.load(Ordering::Relaxed);
                    let pending = c.queued.load(Ordering::Relaxed).saturating_sub(done);
                    c.queued.fetch_sub(pending, Ordering::Relaxed);
                }
            }
            current = self.sender.load();
        }
        let Some(sender) = &*current else { return };
        // Counted first, so `sent` never exceeds `queued` in a snapshot.
        c.queued.fetch_add(1, Ordering::Relaxed);
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
            sender.tx.try_send(Job { backend, cmd })
        {
            c.queued.fetch_sub(1, Ordering::Relaxed);
            c.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn spawn(&self) -> Option<(SyncSender<Job>, Arc<Finished>)> {
        let (tx, rx) = sync_channel(MIRROR_QUEUE_CAPACITY);
        let cores = self.cores.clone();
        let counters = self.counters.clone();
        let finished = Arc::new(Finished::default());
        let flag = finished.clone();
        std::thread::Builder::new()
            .name("shardis-mirror".into())
            .spawn(move || {
                run(&rx, &cores, &counters);
                *flag.done.lock() = true;
                flag.cond.notify_all();
            })
            .ok()?;
        Some((tx, finished))
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

impl Drop for MirrorQueue {
    /// Close the queue and give the thread a moment to send what is queued.
    fn drop(&mut self) {
        let Some(sender) = self.sender.swap(None) else {
            return;
        };
        if sender.generation != process::generation() {
            // Inherited across fork(): no thread here to wait for (see `send`).
            std::mem::forget(sender);
            return;
        }
        let finished = sender.finished.clone();
        drop(sender);
        let mut done = finished.done.lock();
        let deadline = std::time::Instant::now() + DRAIN_ON_DROP;
        while !*done {
            if finished.cond.wait_until(&mut done, deadline).timed_out() {
                break;
            }
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
