//! Fork safety (RELIABILITY K1, K2): a client used before `fork()` works in the child while
//! the parent keeps working — 20 fork cycles, unique tokens, 0 crossed replies — even while
//! another parent thread is mid-call at the moment of the fork; over plaintext and over TLS
//! (where a child touching the parent's TLS state — a `close_notify`, a read of its records —
//! would break the parent's connections).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use shardis::{Client, Mode, Value};
use shardis_tests::{ServerOptions, StandaloneSet, TlsFiles, TlsServer, builder};

const CYCLES: usize = 20;
const OPS_PER_CHILD: usize = 200;

/// Exit codes of a child.
const CHILD_OK: i32 = 0;
const CHILD_CROSSED: i32 = 3;
const CHILD_ERROR: i32 = 4;

fn round_trip(c: &Client, key: &str, token: &str) -> Result<bool, shardis::Error> {
    c.query(["SET", key, token])?;
    Ok(c.query(["GET", key])? == Value::Bulk(token.as_bytes().to_vec()))
}

fn child_body(config: shardis::Config, cycle: usize) -> i32 {
    // Both the inherited handle and a handle from the (inherited) registry must work.
    let Ok(c) = Client::shared(config) else {
        return CHILD_ERROR;
    };
    let pid = std::process::id();
    for i in 0..OPS_PER_CHILD {
        let key = format!("child:{cycle}:{}", i % 17);
        let token = format!("c{pid}-{cycle}-{i}");
        match round_trip(&c, &key, &token) {
            Ok(true) => {}
            Ok(false) => return CHILD_CROSSED,
            Err(_) => return CHILD_ERROR,
        }
    }
    let mut mget = vec!["MGET".to_string()];
    mget.extend((0..17).map(|i| format!("child:{cycle}:{i}")));
    match c.query(&mget) {
        Ok(Value::Array(v)) if v.len() == 17 => CHILD_OK,
        _ => CHILD_ERROR,
    }
}

fn wait_child(pid: libc::pid_t) -> i32 {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let mut status = 0;
        // SAFETY: waitpid on our own child with a valid status pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            };
        }
        if Instant::now() > end {
            // SAFETY: kill our own hung child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("child {pid} hung (deadlock after fork?)");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn client_works_in_forked_children_while_the_parent_keeps_working() {
    let set = StandaloneSet::start(3);
    let config = builder(&set, Mode::RingHash, false)
        .persistent_id("fork-test")
        .build()
        .unwrap();
    fork_cycles(config);
}

#[test]
fn tls_client_works_in_forked_children_while_the_parent_keeps_working() {
    let files = TlsFiles::shared();
    let set = StandaloneSet::start_with(
        3,
        ServerOptions {
            tls: Some(TlsServer::new(files.clone())),
            ..Default::default()
        },
    );
    let config = builder(&set, Mode::RingHash, false)
        .persistent_id("fork-test-tls")
        .timeout(Duration::from_secs(3))
        .tls(shardis::config::TlsSpec {
            ca_file: Some(files.ca().display().to_string()),
            ..Default::default()
        })
        .build()
        .unwrap();
    fork_cycles(config);
}

fn fork_cycles(config: shardis::Config) {
    let client = Client::shared(config.clone()).unwrap();
    // Used before the first fork: pooled connections exist in the parent.
    for i in 0..50 {
        assert!(round_trip(&client, &format!("parent:warm:{i}"), "w").unwrap());
    }

    // A parent thread keeps calling during every fork.
    let stop = Arc::new(AtomicBool::new(false));
    let parent_ops = Arc::new(AtomicU64::new(0));
    let background = {
        let (client, stop, ops) = (client.clone(), stop.clone(), parent_ops.clone());
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let token = format!("p-{i}");
                let ok = round_trip(&client, &format!("parent:bg:{}", i % 23), &token)
                    .unwrap_or_else(|e| panic!("parent call failed: {e}"));
                assert!(ok, "parent got a crossed reply");
                ops.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        })
    };

    let mut codes = Vec::new();
    for cycle in 0..CYCLES {
        // SAFETY: the child only uses shardis and then `_exit`s: no destructors, no stdio.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let code = std::panic::catch_unwind(|| child_body(config.clone(), cycle))
                .unwrap_or(CHILD_ERROR);
            // SAFETY: immediate exit of the child without running the parent's atexit work.
            unsafe { libc::_exit(code) };
        }
        // The parent works on its own while the child runs.
        for i in 0..20 {
            assert!(
                round_trip(
                    &client,
                    &format!("parent:{cycle}:{i}"),
                    &format!("p{cycle}-{i}")
                )
                .unwrap()
            );
        }
        codes.push(wait_child(pid));
    }
    stop.store(true, Ordering::Relaxed);
    background.join().unwrap();

    let crossed = codes.iter().filter(|&&c| c == CHILD_CROSSED).count();
    let errors = codes
        .iter()
        .filter(|&&c| c != CHILD_OK && c != CHILD_CROSSED)
        .count();
    assert_eq!(crossed, 0, "crossed replies in children: {codes:?}");
    assert_eq!(errors, 0, "children failed: {codes:?}");
    assert!(parent_ops.load(Ordering::Relaxed) > 0);
    // Children wrote what they said they wrote.
    for cycle in 0..CYCLES {
        let v = client
            .query(["EXISTS", &format!("child:{cycle}:0")])
            .unwrap();
        assert_eq!(v, Value::Int(1));
    }
    // The parent's pooled connections were never used by a child: still healthy, and the
    // parent did not need to reconnect more than its threads' worth.
    let stats = client.stats();
    for (node, n) in &stats.nodes {
        assert!(n.errors == 0, "{node}: {n:?}");
        // Two parent threads: at most two connections (TLS handshakes) per node, ever.
        assert!(n.connects <= 2, "{node}: {n:?}");
        assert_eq!(
            n.tls_handshakes,
            if stats.tls.enabled { n.connects } else { 0 }
        );
    }
}

/// Mirroring across fork (the mirror thread does not exist in a child): a parent mirrors
/// writes, forks while its mirror thread is busy, and each child's writes reach the mirror
/// through the child's own thread; the parent's mirror keeps working too.
#[test]
fn mirrored_writes_of_forked_children_reach_the_mirror() {
    let main = StandaloneSet::start(1);
    let mirror = StandaloneSet::start(1);
    let config = shardis::Config::from_toml_str(&format!(
        "persistent_id = \"fork-mirror\"\n[backends.main]\nmode = \"jump\"\nnodes = [{:?}]\n[backends.m]\nmode = \"jump\"\nnodes = [{:?}]\n[catch_all]\nbackend = \"main\"\nmirror = [{{ backend = \"m\" }}]\n",
        main.servers[0].addr(),
        mirror.servers[0].addr()
    ))
    .unwrap();
    let client = Client::shared(config.clone()).unwrap();
    let on_mirror = |key: &str| -> bool {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if mirror.servers[0].cmd(&["EXISTS", key]) == redis::Value::Int(1) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    };
    for cycle in 0..5 {
        // The parent's thread is running (and maybe mid-batch) at the fork.
        for i in 0..200 {
            client
                .query(["SET", format!("parent:{cycle}:{i}").as_str(), "p"])
                .unwrap();
        }
        // SAFETY: the child only uses shardis and then `_exit`s.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let code = std::panic::catch_unwind(|| {
                let c = Client::shared(config.clone()).unwrap();
                for i in 0..50 {
                    if c.query(["SET", format!("child:{cycle}:{i}").as_str(), "c"])
                        .is_err()
                    {
                        return CHILD_ERROR;
                    }
                }
                // The child's copies are sent by its own mirror thread before it exits.
                let end = Instant::now() + Duration::from_secs(10);
                while Instant::now() < end {
                    let s = c.stats().routing.unwrap().mirrors["m"].clone();
                    if s.sent + s.failed >= s.queued {
                        return if s.failed == 0 { CHILD_OK } else { CHILD_ERROR };
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                CHILD_ERROR
            })
            .unwrap_or(CHILD_ERROR);
            // SAFETY: immediate exit of the child.
            unsafe { libc::_exit(code) };
        }
        assert_eq!(wait_child(pid), CHILD_OK, "child of cycle {cycle}");
        assert!(
            on_mirror(&format!("child:{cycle}:49")),
            "child {cycle}'s writes mirrored"
        );
        assert!(
            on_mirror(&format!("parent:{cycle}:199")),
            "parent's writes mirrored"
        );
    }
    client.query(["SET", "parent:last", "p"]).unwrap();
    assert!(on_mirror("parent:last"), "the parent's mirror still works");
}
