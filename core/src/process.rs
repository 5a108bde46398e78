//! Process identity and fork safety (ARCHITECTURE §5). A `pthread_atfork` child handler
//! bumps a generation counter; every call compares its connection state's generation with
//! it and, in a forked child, abandons the inherited state (never touching locks or
//! sockets the parent may be using) and starts afresh. Nothing is registered until the
//! first client is built.

use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

static GENERATION: AtomicU64 = AtomicU64::new(0);
static HANDLERS: Once = Once::new();

extern "C" fn before_fork() {
    crate::registry::lock_for_fork();
}

extern "C" fn after_fork_parent() {
    crate::registry::unlock_after_fork();
}

extern "C" fn after_fork_child() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
    crate::registry::unlock_after_fork();
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

/// How many forks separate this process from the one that registered the handlers.
#[inline]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}
