//! Transactions settle failures with the same decision as every other call: nothing sent
//! (connection refused, handshake timed out) → the error as it is, never indeterminate; the
//! connection broken after MULTI … EXEC was sent → indeterminate for writes. And they count
//! against (or for) their node like every other call.

use std::net::TcpListener;
use std::time::Duration;

use shardis::{Client, Cmd, Config, ErrorKind, Mode};
use shardis_tests::StandaloneSet;
use shardis_tests::fake::{Answer, FakeServer};

fn client_for(addr: &str, password: Option<&str>) -> Client {
    let mut b = Config::builder()
        .mode(Mode::RingHash)
        .node(addr)
        .timeout(Duration::from_millis(400))
        .connect_timeout(Duration::from_millis(200));
    if let Some(p) = password {
        b = b.auth(None, p);
    }
    Client::new(b.build().unwrap()).unwrap()
}

fn node_errors(c: &Client, addr: &str) -> u64 {
    c.stats().nodes.get(addr).map_or(0, |n| n.errors)
}

fn set_in_transaction(c: &Client) -> shardis::Result<shardis::Value> {
    let mut t = c.transaction();
    t.queue(Cmd::from_args(["SET", "tx:k", "v"]))?;
    t.exec()
}

#[test]
fn a_transaction_whose_handshake_times_out_is_not_indeterminate() {
    // Accepts connections and never answers: the AUTH of the handshake times out before
    // MULTI … EXEC is sent.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for s in silent.incoming().take(4).flatten() {
            open.push(s);
        }
        std::thread::sleep(Duration::from_secs(2));
    });
    let c = client_for(&addr, Some("secret"));
    let e = set_in_transaction(&c).unwrap_err();
    assert_ne!(e.kind(), ErrorKind::Indeterminate, "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e:?}");
    assert!(
        node_errors(&c, &addr) >= 1,
        "the failure counts against the node: {:?}",
        c.stats().nodes
    );
    drop(held);
}

#[test]
fn a_transaction_to_a_refused_node_fails_as_not_sent_and_counts_against_it() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let c = client_for(&addr, None);
    let e = set_in_transaction(&c).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e:?}");
    assert!(e.kind().nothing_sent());
    let stats = c.stats();
    let node = &stats.nodes[&addr];
    assert!(node.errors >= 1, "{node:?}");
    assert_eq!(
        node.connect_errors, 2,
        "one retry of a connection that was never made (nothing was sent): {node:?}"
    );
}

#[test]
fn a_transaction_cut_after_exec_was_sent_is_indeterminate() {
    let fake = FakeServer::start_answering(|_| {
        std::sync::Arc::new(|cmd: &[Vec<u8>]| {
            match String::from_utf8_lossy(&cmd[0])
                .to_ascii_uppercase()
                .as_str()
            {
                "MULTI" => Answer::Reply(b"+OK\r\n".to_vec()),
                "EXEC" => Answer::ReplyAndClose(Vec::new()),
                _ => Answer::Reply(b"+QUEUED\r\n".to_vec()),
            }
        })
    });
    let c = client_for(&fake.addr(), None);
    let e = set_in_transaction(&c).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Indeterminate, "{e:?}");
    assert_eq!(fake.count("EXEC"), 1, "never sent twice");
    assert!(node_errors(&c, &fake.addr()) >= 1);
}

#[test]
fn a_successful_transaction_counts_as_requests_on_its_node() {
    let set = StandaloneSet::start(1);
    let addr = set.addrs()[0].clone();
    let c = client_for(&addr, None);
    assert!(set_in_transaction(&c).is_ok());
    let stats = c.stats();
    let node = &stats.nodes[&addr];
    assert!(node.requests >= 3, "MULTI, SET, EXEC: {node:?}");
    assert_eq!(node.errors, 0);
}
