//! The process-wide registry (ARCHITECTURE §5): the same persistent id, or the same
//! configuration, yields the same core, so request N+1 of a PHP-FPM worker reuses request
//! N's connections. A different configuration under an existing persistent id replaces the
//! entry (a deploy changed the settings; the old core lives on only while still in use).

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::config::Config;
use crate::error::Result;
use crate::exec::routed::{self, Parts};

struct Entry {
    fingerprint: u64,
    parts: Parts,
}

static REGISTRY: Mutex<Option<HashMap<String, Entry>>> = Mutex::new(None);

/// The shared client state for `config`, created on first use.
pub(crate) fn shared(config: Config) -> Result<Parts> {
    crate::process::hold_across_fork(lock_for_fork, unlock_after_fork);
    let key = config.registry_key();
    let fingerprint = config.fingerprint();
    let mut guard = REGISTRY.lock();
    let map = guard.get_or_insert_with(HashMap::new);
    if let Some(e) = map.get(&key)
        && e.fingerprint == fingerprint
    {
        return Ok(e.parts.clone());
    }
    let parts = routed::build(config)?;
    let replaced = map.insert(
        key,
        Entry {
            fingerprint,
            parts: parts.clone(),
        },
    );
    // Dropping the last handle of a replaced entry may wait for its mirror copies: not
    // while every other caller (and fork()) waits for this lock.
    drop(guard);
    drop(replaced);
    Ok(parts)
}

/// Registry keys and how many handles share each core (for phpinfo/diagnostics).
pub fn entries() -> Vec<(String, usize)> {
    let guard = REGISTRY.lock();
    let mut v: Vec<(String, usize)> = guard
        .as_ref()
        .map(|m| {
            m.iter()
                .map(|(k, e)| (k.clone(), handles(&e.parts) - 1))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Handles sharing one entry's state (the entry itself included).
fn handles(parts: &Parts) -> usize {
    match &parts.1 {
        None => std::sync::Arc::strong_count(&parts.0),
        Some(r) => std::sync::Arc::strong_count(r),
    }
}

/// Remove an entry; its connections close when the last handle is dropped.
pub fn remove(key: &str) -> bool {
    let removed = REGISTRY.lock().as_mut().and_then(|m| m.remove(key));
    // Dropped after the lock is released (see `shared`).
    removed.is_some()
}

/// `pthread_atfork` prepare: hold the lock across `fork()` so the child never inherits it
/// locked by a thread that does not exist there.
fn lock_for_fork() {
    std::mem::forget(REGISTRY.lock());
}

/// `pthread_atfork` parent/child: release the lock taken in [`lock_for_fork`].
fn unlock_after_fork() {
    // SAFETY: called only after `lock_for_fork` locked it on this same thread and leaked
    // the guard.
    unsafe { REGISTRY.force_unlock() };
}
