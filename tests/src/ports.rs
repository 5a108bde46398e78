//! Free loopback ports.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::Mutex;

static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A port that was free a moment ago and has not been handed out by this process before.
/// Avoids the kernel's ephemeral range reuse races by remembering what it gave.
pub fn free_port() -> u16 {
    for _ in 0..1000 {
        let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(addr) = listener.local_addr() else {
            continue;
        };
        let port = addr.port();
        // Leave room for `port + 10000` style defaults not to matter: every service here
        // gets its ports explicitly.
        let mut guard = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
        let set = guard.get_or_insert_with(HashSet::new);
        if set.insert(port) {
            return port;
        }
    }
    panic!("no free port found on 127.0.0.1");
}
