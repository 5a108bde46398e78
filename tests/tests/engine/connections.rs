//! Connections: lazy, persistent, reconnecting; connect timeout; one deadline per call;
//! AUTH (ACL user) and SELECT on every (re)connect; keepalive; no stale replies.

use std::time::{Duration, Instant};

use shardis::{Client, ErrorKind, Mode, Value};
use shardis_tests::{ServerOptions, StandaloneSet, builder, client};

#[test]
fn connections_open_lazily_and_persist() {
    let set = StandaloneSet::start(3);
    let before: Vec<i64> = set
        .servers
        .iter()
        .map(|s| s.info_stat("total_connections_received"))
        .collect();
    let c = client(&set, Mode::RingHash, false);
    let after_new: Vec<i64> = set
        .servers
        .iter()
        .map(|s| s.info_stat("total_connections_received"))
        .collect();
    // Building a client opens nothing (the +1 is the INFO connection itself).
    for (b, a) in before.iter().zip(&after_new) {
        assert_eq!(a - b, 1);
    }
    for i in 0..500 {
        c.query(["SET", &format!("k{i}"), "v"]).unwrap();
    }
    let after_use: Vec<i64> = set
        .servers
        .iter()
        .map(|s| s.info_stat("total_connections_received"))
        .collect();
    for (b, a) in after_new.iter().zip(&after_use) {
        // One connection per node for 500 sequential calls (+1 for INFO).
        assert_eq!(a - b, 2, "connections were not reused");
    }
}

#[test]
fn reconnects_after_the_server_restarts() {
    let mut set = StandaloneSet::start(1);
    let c = client(&set, Mode::RingHash, false);
    c.query(["SET", "k", "1"]).unwrap();
    set.servers[0].restart();
    // The pooled connection is dead; the idle probe or a read retry replaces it.
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(c.query(["GET", "k"]).unwrap(), Value::Nil);
    assert!(c.query(["SET", "k", "2"]).unwrap().is_ok());
    // A connection refused is a typed error, not a hang.
    set.servers[0].kill();
    let e = c.query(["GET", "k"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect);
}

#[test]
fn a_timed_out_request_never_leaves_its_reply_for_the_next_one() {
    let set = StandaloneSet::start(1);
    let config = builder(&set, Mode::RingHash, false)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let c = Client::new(config).unwrap();
    c.query(["SET", "a", "value-a"]).unwrap();
    c.query(["SET", "b", "value-b"]).unwrap();
    // Make the server sleep for 0.6 s on another connection, then ask for `a`.
    let sleeper = set.servers[0].debug_sleep_in_background(0.6);
    std::thread::sleep(Duration::from_millis(50));
    let start = Instant::now();
    let e = c.query(["GET", "a"]).unwrap_err();
    let took = start.elapsed();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        // Waited for its deadline (not an instant failure), and not for the 0.6 s sleep
        // (that would have returned the value, not an error). Bounds are generous: the
        // machine may be busy.
        took >= Duration::from_millis(150) && took < Duration::from_secs(3),
        "{took:?}"
    );
    sleeper.join().unwrap();
    // The late reply to GET a must not answer GET b.
    for _ in 0..20 {
        assert_eq!(c.query(["GET", "b"]).unwrap(), "value-b".into());
    }
    // A write that timed out is reported as indeterminate.
    let sleeper = set.servers[0].debug_sleep_in_background(0.5);
    std::thread::sleep(Duration::from_millis(50));
    let e = c.query(["INCR", "counter"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Indeterminate, "{e}");
    assert!(e.is_timeout());
    sleeper.join().unwrap();
    // It did run once the server woke up; the next reply is the next INCR's own.
    assert_eq!(c.query(["INCR", "counter"]).unwrap(), Value::Int(2));
}

#[test]
fn one_deadline_covers_a_call_to_a_stopped_node() {
    let set = StandaloneSet::start(2);
    let config = builder(&set, Mode::RingHash, false)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let c = Client::new(config).unwrap();
    c.query(["PING"]).unwrap();
    set.servers[0].pause(true);
    let start = Instant::now();
    let mut keys = vec!["MGET".to_string()];
    keys.extend((0..20).map(|i| format!("k{i}")));
    let e = c.query(&keys).unwrap_err();
    let took = start.elapsed();
    set.servers[0].pause(false);
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        // The node stays stopped until after the call: without the deadline it would hang.
        took < Duration::from_secs(3),
        "deadline not honoured: {took:?}"
    );
}

#[test]
fn connect_timeout_bounds_a_connect_that_never_completes() {
    // A listener whose accept queue is full: further SYNs are dropped, connect() hangs.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(
        &"127.0.0.1:0"
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    sock.listen(0).unwrap();
    let addr = sock.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        let _ = s.connect_timeout(&addr.into(), Duration::from_millis(100));
        fillers.push(s);
    }
    let config = shardis::Config::builder()
        .mode(Mode::RingHash)
        .node(&addr.to_string())
        .connect_timeout(Duration::from_millis(150))
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let c = Client::new(config).unwrap();
    let start = Instant::now();
    let e = c.query(["GET", "k"]).unwrap_err();
    let took = start.elapsed();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    // Two attempts (one retry for connect failures), each bounded by connect_timeout.
    // Without connect_timeout the call would wait for its 20 s deadline.
    assert!(took < Duration::from_secs(6), "{took:?}");
    drop(fillers);
}

#[test]
fn auth_with_acl_user_and_select_on_every_connection() {
    let options = ServerOptions {
        password: Some("default-secret".into()),
        acl_user: Some(("app".into(), "MARKER-PW-77".into())),
        ..Default::default()
    };
    let mut set = StandaloneSet::start_with(2, options);
    let config = builder(&set, Mode::RingHash, false)
        .auth(Some("app"), "MARKER-PW-77")
        .db(3)
        .build()
        .unwrap();
    let c = Client::new(config).unwrap();
    for i in 0..50 {
        c.query(["SET", &format!("k{i}"), "v"]).unwrap();
    }
    // Keys went to db 3, and the connections are the ACL user's.
    for s in &set.servers {
        let mut con = s.connection();
        let n: i64 = redis::cmd("SELECT")
            .arg(3)
            .query::<()>(&mut con)
            .and_then(|_| redis::cmd("DBSIZE").query(&mut con))
            .unwrap();
        assert!(n > 0);
        let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut con).unwrap();
        assert!(
            list.lines()
                .any(|l| l.contains("user=app") && l.contains("db=3")),
            "{list}"
        );
    }
    // After a restart the new connection authenticates and selects again.
    set.servers[0].restart();
    std::thread::sleep(Duration::from_millis(20));
    for i in 0..50 {
        c.query(["SET", &format!("r{i}"), "v"]).unwrap();
    }
    // A wrong password: fast typed error without the password in it.
    let bad = builder(&set, Mode::RingHash, false)
        .auth(Some("app"), "WRONG-MARKER")
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let c = Client::new(bad).unwrap();
    let start = Instant::now();
    let e = c.query(["GET", "x"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    // Not retried until the 20 s deadline: an auth failure is final.
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(!e.to_string().contains("WRONG-MARKER") && !format!("{e:?}").contains("WRONG-MARKER"));
    assert!(!format!("{:?}", c.config()).contains("WRONG-MARKER"));
    assert!(
        !serde_json::to_string(&c.stats())
            .unwrap()
            .contains("WRONG-MARKER")
    );
}

#[test]
fn tcp_keepalive_is_set_on_node_connections() {
    let set = StandaloneSet::start(1);
    let config = builder(&set, Mode::RingHash, false)
        .tcp_keepalive(Some(Duration::from_secs(42)))
        .build()
        .unwrap();
    let c = Client::new(config).unwrap();
    c.query(["PING"]).unwrap();
    // `ss -o` shows the keepalive timer of our (idle, pooled) socket to the server.
    let port = set.servers[0].port();
    let out = std::process::Command::new("ss")
        .args([
            "-tnoH",
            "state",
            "established",
            &format!("( dport = :{port} )"),
        ])
        .output()
        .expect("ss (iproute2) is needed for this test");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("keepalive"),
        "no keepalive timer on our socket: {text}"
    );
}

extern "C" fn ignore_signal(_: libc::c_int) {}

#[test]
fn an_interrupted_request_never_leaves_its_reply_for_the_next_one() {
    let set = StandaloneSet::start(1);
    let config = builder(&set, Mode::RingHash, false)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let c = Client::new(config).unwrap();
    c.query(["SET", "a", "value-a"]).unwrap();
    c.query(["SET", "b", "value-b"]).unwrap();
    // SIGUSR2 with a handler installed without SA_RESTART: a blocked read returns EINTR.
    // SAFETY: installing a no-op handler; the signal is sent to this thread only.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = ignore_signal as *const () as usize;
        action.sa_flags = 0;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR2, &action, std::ptr::null_mut()),
            0
        );
    }
    // SAFETY: pthread_self has no preconditions.
    let me = unsafe { libc::pthread_self() } as usize;
    let sleeper = set.servers[0].debug_sleep_in_background(0.5);
    let helper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        // SAFETY: the test thread is alive (it waits for this helper's join below).
        unsafe { libc::pthread_kill(me as libc::pthread_t, libc::SIGUSR2) };
    });
    std::thread::sleep(Duration::from_millis(50));
    // Blocked behind DEBUG SLEEP, interrupted by the signal: an error or, if the read was
    // resumed, the right value — never a reply meant for another request.
    match c.query(["GET", "a"]) {
        Ok(v) => assert_eq!(v, "value-a".into()),
        Err(e) => assert!(
            matches!(e.kind(), ErrorKind::Io | ErrorKind::Timeout),
            "{e}"
        ),
    }
    helper.join().unwrap();
    sleeper.join().unwrap();
    for _ in 0..20 {
        assert_eq!(c.query(["GET", "b"]).unwrap(), "value-b".into());
    }
}
