//! Request mirroring (fire-and-forget copies, a per-key fraction, reads excluded), a read
//! backend, and injected faults.

use std::time::{Duration, Instant};

use shardis::{Client, ErrorKind, Value};
use shardis_tests::StandaloneSet;

use crate::{calls_of, client, config, keys_of};

/// Wait (bounded) until every queued mirror copy to `backend` was sent or failed.
fn drain_mirror(c: &Client, backend: &str) -> shardis::MirrorStats {
    let mut last = None;
    for _ in 0..200 {
        let s = c.stats().routing.unwrap().mirrors[backend].clone();
        if s.sent + s.failed == s.queued {
            return s;
        }
        last = Some(s);
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("mirror to {backend} did not drain: {last:?}");
}

#[test]
fn writes_are_mirrored_and_reads_are_not_when_excluded() {
    let main = StandaloneSet::start(2);
    let next = StandaloneSet::start(1);
    let c = client(config(
        &[("main", "ring_hash", &main), ("next", "maglev", &next)],
        "[catch_all]\nbackend = \"main\"\nmirror = [{ backend = \"next\", exclude_read_commands = true }]\n",
    ));
    for i in 0..100 {
        c.query(["SET", format!("k{i}").as_str(), "v"]).unwrap();
        assert_eq!(
            c.query(["GET", format!("k{i}").as_str()]).unwrap(),
            Value::Bulk(b"v".to_vec())
        );
    }
    c.query(["MSET", "m1", "a", "m2", "b"]).unwrap();
    let s = drain_mirror(&c, "next");
    assert_eq!(s.queued, 101);
    assert_eq!((s.sent, s.failed, s.dropped), (101, 0, 0));
    assert_eq!(keys_of(&next).len(), 102);
    assert_eq!(keys_of(&main), keys_of(&next));
    assert_eq!(calls_of(&next, "get"), 0, "reads are not mirrored");
}

#[test]
fn a_mirror_fraction_picks_the_same_keys_every_time() {
    let main = StandaloneSet::start(1);
    let next = StandaloneSet::start(1);
    let c = client(config(
        &[("main", "jump", &main), ("next", "jump", &next)],
        "[[routes]]\nprefix = \"u:\"\nbackend = \"main\"\nmirror = [{ backend = \"next\", fraction = 50 }]\n",
    ));
    let keys: Vec<String> = (0..400).map(|i| format!("u:{i}")).collect();
    for k in &keys {
        c.query(["SET", k.as_str(), "1"]).unwrap();
    }
    drain_mirror(&c, "next");
    let first = keys_of(&next);
    assert!(
        (140..=260).contains(&first.len()),
        "about half of 400 keys mirrored, got {}",
        first.len()
    );
    // The same keys again (and as one split MSET): the same subset, with the new values.
    let mut mset = vec!["MSET".to_owned()];
    for k in &keys {
        mset.push(k.clone());
        mset.push("2".into());
    }
    c.query(&mset).unwrap();
    drain_mirror(&c, "next");
    assert_eq!(keys_of(&next), first);
    for k in &first {
        assert_eq!(
            next.servers[0].cmd(&["GET", k]),
            redis::Value::BulkString(b"2".to_vec())
        );
    }
}

#[test]
fn a_dead_mirror_never_fails_or_slows_the_caller_and_shows_in_stats() {
    let main = StandaloneSet::start(1);
    let mut dead = StandaloneSet::start(1);
    let c = client(config(
        &[("main", "jump", &main), ("dead", "jump", &dead)],
        "connect_timeout = \"200ms\"\n[catch_all]\nbackend = \"main\"\nmirror = [{ backend = \"dead\" }]\n",
    ));
    dead.servers[0].kill();
    for i in 0..20 {
        assert_eq!(
            c.query(["SET", format!("k{i}").as_str(), "v"]).unwrap(),
            Value::Okay
        );
    }
    let s = drain_mirror(&c, "dead");
    assert_eq!(s.queued, 20);
    assert_eq!(s.failed, 20, "{s:?}");
    assert_eq!(keys_of(&main).len(), 20);
}

#[test]
fn reads_go_to_the_read_backend_and_writes_to_the_route_backend() {
    let writes = StandaloneSet::start(1);
    let reads = StandaloneSet::start(1);
    let c = client(config(
        &[("w", "jump", &writes), ("r", "jump", &reads)],
        "[catch_all]\nbackend = \"w\"\nread_backend = \"r\"\n",
    ));
    reads.servers[0].cmd(&["SET", "k", "from-reads"]);
    assert_eq!(c.query(["SET", "k", "from-writes"]).unwrap(), Value::Okay);
    assert_eq!(
        c.query(["GET", "k"]).unwrap(),
        Value::Bulk(b"from-reads".to_vec())
    );
    assert_eq!(
        writes.servers[0].cmd(&["GET", "k"]),
        redis::Value::BulkString(b"from-writes".to_vec())
    );
    assert_eq!(calls_of(&writes, "get"), 1, "only this test's own GET");
}

#[test]
fn error_faults_answer_with_envoys_text_for_the_listed_commands_only() {
    let main = StandaloneSet::start(1);
    let c = client(config(
        &[("main", "jump", &main)],
        "[catch_all]\nbackend = \"main\"\n[[faults]]\ntype = \"error\"\nfraction = 100\ncommands = [\"GET\"]\n",
    ));
    assert_eq!(c.query(["SET", "k", "v"]).unwrap(), Value::Okay);
    let e = c.query(["GET", "k"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);
    assert_eq!(e.message(), "Fault Injected: Error");
    assert_eq!(calls_of(&main, "get"), 0, "a faulted command is not sent");
    let s = c.stats();
    assert_eq!(s.routing.as_ref().unwrap().faults.errors, 1);
    assert_eq!(s.commands["get"].errors, 1);
}

#[test]
fn a_fault_fraction_hits_about_that_share_and_delays_then_sends() {
    let main = StandaloneSet::start(1);
    let c = client(config(
        &[("main", "jump", &main)],
        "[catch_all]\nbackend = \"main\"\n[[faults]]\ntype = \"error\"\nfraction = 50\n[[faults]]\ntype = \"delay\"\nfraction = 50\ndelay = \"2ms\"\n",
    ));
    let mut errors = 0;
    for i in 0..400 {
        match c.query(["SET", format!("k{i}").as_str(), "v"]) {
            Ok(_) => {}
            Err(e) if e.message() == "Fault Injected: Error" => errors += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!((140..=260).contains(&errors), "about half errors: {errors}");
    let f = c.stats().routing.unwrap().faults;
    assert_eq!(
        f.errors + f.delays,
        400,
        "the two fractions add up to 100 %"
    );
    assert_eq!(
        keys_of(&main).len() as u64,
        f.delays,
        "delayed commands were sent"
    );
    let c = client(config(
        &[("main", "jump", &main)],
        "[catch_all]\nbackend = \"main\"\n[[faults]]\ntype = \"delay\"\nfraction = 100\ndelay = \"30ms\"\n",
    ));
    let start = Instant::now();
    assert_eq!(c.query(["SET", "held", "v"]).unwrap(), Value::Okay);
    assert!(
        start.elapsed() >= Duration::from_millis(30),
        "the reply was held"
    );
    // As Envoy, commands it answers itself are never faulted.
    assert_eq!(c.query(["PING"]).unwrap(), Value::Status("PONG".into()));
    assert_eq!(c.stats().routing.unwrap().faults.delays, 1);
}

#[test]
fn a_committed_transaction_mirrors_its_writes_and_an_aborted_one_does_not() {
    let main = StandaloneSet::start(1);
    let next = StandaloneSet::start(1);
    let c = client(config(
        &[("main", "jump", &main), ("next", "jump", &next)],
        "[[routes]]\nprefix = \"t:\"\nremove_prefix = true\nbackend = \"main\"\nmirror = [{ backend = \"next\", exclude_read_commands = true }]\n",
    ));
    let mut tx = c.transaction();
    tx.queue(shardis::Cmd::from_args(["SET", "t:a", "1"]))
        .unwrap();
    tx.queue(shardis::Cmd::from_args(["GET", "t:a"])).unwrap();
    tx.queue(shardis::Cmd::from_args(["INCR", "t:a"])).unwrap();
    tx.exec().unwrap();
    // WATCH, then a change from elsewhere: EXEC aborts and nothing is mirrored.
    let mut tx = c.transaction();
    tx.watch(&["t:b"]).unwrap();
    main.servers[0].cmd(&["SET", "b", "other"]);
    tx.queue(shardis::Cmd::from_args(["SET", "t:b", "x"]))
        .unwrap();
    assert_eq!(tx.exec().unwrap(), Value::Nil);
    let s = drain_mirror(&c, "next");
    assert_eq!(
        s.queued, 2,
        "SET and INCR of the committed transaction: {s:?}"
    );
    assert_eq!(keys_of(&next), ["a"]);
    assert_eq!(
        next.servers[0].cmd(&["GET", "a"]),
        redis::Value::BulkString(b"2".to_vec())
    );
    assert_eq!(calls_of(&next, "get"), 1, "only this test's own GET");
}

#[test]
fn dropping_the_client_sends_the_queued_copies_first() {
    let main = StandaloneSet::start(1);
    let next = StandaloneSet::start(1);
    let c = client(config(
        &[("main", "jump", &main), ("next", "jump", &next)],
        "[catch_all]\nbackend = \"main\"\nmirror = [{ backend = \"next\" }]\n",
    ));
    let mut mset = vec!["MSET".to_owned()];
    for i in 0..2000 {
        mset.push(format!("k{i}"));
        mset.push("v".into());
    }
    c.query(&mset).unwrap();
    for i in 0..300 {
        c.query(["SET", format!("s{i}").as_str(), "v"]).unwrap();
    }
    // A short-lived process (the CLI, a PHP CLI script) drops its client right away.
    drop(c);
    assert_eq!(
        keys_of(&next).len(),
        2300,
        "every copy sent before the drop returned"
    );
}

#[test]
fn blocking_commands_are_not_mirrored_and_scripts_reach_every_backend() {
    let main = StandaloneSet::start(1);
    let next = StandaloneSet::start(1);
    let reads = StandaloneSet::start(1);
    let c = client(config(
        &[
            ("main", "jump", &main),
            ("next", "jump", &next),
            ("reads", "jump", &reads),
        ],
        "[catch_all]\nbackend = \"main\"\nread_backend = \"reads\"\nmirror = [{ backend = \"next\" }]\n",
    ));
    c.query(["RPUSH", "q", "job"]).unwrap();
    assert_eq!(
        c.query(["BLPOP", "q", "1"]).unwrap(),
        Value::Array(vec![
            Value::Bulk(b"q".to_vec()),
            Value::Bulk(b"job".to_vec())
        ])
    );
    drain_mirror(&c, "next");
    assert_eq!(
        calls_of(&next, "blpop"),
        0,
        "a blocking command is not mirrored"
    );
    assert_eq!(calls_of(&next, "rpush"), 1);
    // SCRIPT LOAD goes everywhere EVALSHA may run: read backend and mirror included.
    let Value::Bulk(sha) = c
        .query(["SCRIPT", "LOAD", "return redis.call('GET', KEYS[1])"])
        .unwrap()
    else {
        panic!("SCRIPT LOAD")
    };
    reads.servers[0].cmd(&["SET", "k", "from-reads"]);
    assert_eq!(
        c.query([b"EVALSHA_RO".as_slice(), &sha, b"1", b"k"])
            .unwrap(),
        Value::Bulk(b"from-reads".to_vec()),
        "EVALSHA_RO on the read backend finds the script"
    );
    c.query([b"EVALSHA".as_slice(), &sha, b"1", b"k"]).unwrap();
    let s = drain_mirror(&c, "next");
    assert_eq!(s.failed, 0);
    assert_eq!(
        calls_of(&next, "evalsha"),
        1,
        "the mirror ran the script too"
    );
}

#[test]
fn a_pipeline_sends_a_write_before_a_later_read_on_its_read_backend() {
    let node = StandaloneSet::start(1);
    // Two backends over the same server; the read backend's name sorts first.
    let c = client(config(
        &[("a_reads", "ring_hash", &node), ("b_writes", "jump", &node)],
        "[catch_all]\nbackend = \"b_writes\"\nread_backend = \"a_reads\"\n",
    ));
    let r = c.pipeline(&[
        shardis::Cmd::from_args(["SET", "k", "v"]),
        shardis::Cmd::from_args(["GET", "k"]),
    ]);
    assert_eq!(r[1], Ok(Value::Bulk(b"v".to_vec())));
}
