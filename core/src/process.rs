//! Process identity and fork safety (ARCHITECTURE §5). A `pthread_atfork` child handler
//! bumps a generation counter; every call compares its connection state's generation with
//! it and, in a forked child, abandons the inherited state (never touching locks or
//! sockets the parent may be using) and starts afresh. Nothing is registered until the
//! first client is built. A lock that must not be inherited held (the registry's) is
//! handed in with [`hold_across_fork`], so this module depends on nothing above it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Once, OnceLock};

static GENERATION: AtomicU64 = AtomicU64::new(0);
static HANDLERS: Once = Once::new();
/// Take a lock, or release it.
type LockStep = fn();
/// The lock held across `fork()`: (take it, release it).
static FORK_LOCK: OnceLock<(LockStep, LockStep)> = OnceLock::new();

extern "C" fn before_fork() {
    if let Some((lock, _)) = FORK_LOCK.get() {
        lock();
    }
}

extern "C" fn after_fork_parent() {
    if let Some((_, unlock)) = FORK_LOCK.get() {
        unlock();
    }
}

extern "C" fn after_fork_child() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    if let Some((_, unlock)) = FORK_LOCK.get() {
        unlock();
    }
}

/// Register the fork handlers (once per process, on first use).
pub(crate) fn install_fork_handlers() {
    HANDLERS.call_once(|| {
        // SAFETY: the handlers are plain extern "C" functions that only touch atomics and a
        // lock owned by this crate; pthread_atfork has no other preconditions.
        unsafe {
            libc::pthread_atfork(
                Some(before_fork),
                Some(after_fork_parent),
                Some(after_fork_child),
            );
        }
    });
}

/// Hold a lock across every `fork()`: `lock` runs before it (on the forking thread),
/// `unlock` after it in the parent and the child, so the child never inherits the lock held
/// by a thread that does not exist there. One such lock per process (the first wins).
pub(crate) fn hold_across_fork(lock: fn(), unlock: fn()) {
    let _ = FORK_LOCK.set((lock, unlock));
}

/// How many forks separate this process from the one that registered the handlers.
#[inline]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}
