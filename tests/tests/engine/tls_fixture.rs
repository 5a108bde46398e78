//! The TLS fixtures themselves (no shardis client yet): TLS-only standalone nodes, a mutual-TLS
//! node, nodes presenting bad certificates, the limited ACL user, and a 3+3 cluster whose
//! nodes speak and announce TLS.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use redis::Value;
use shardis_tests::cluster::key_slot;
use shardis_tests::process::wait_until;
use shardis_tests::{
    Cluster, RedisServer, ServerCert, ServerOptions, StandaloneSet, TlsClient, TlsFiles, TlsServer,
};

/// The limited user of `scripts/with-fixtures.sh`.
fn limited_user() -> (String, String, String) {
    (
        "limited".into(),
        "limited-secret-9f3".into(),
        "~lim:* &* +@read +@write +@connection +cluster|slots +cluster|shards +cluster|nodes \
         +cluster|myid +info +readonly +ping"
            .into(),
    )
}

fn options(tls: TlsServer) -> ServerOptions {
    ServerOptions {
        tls: Some(tls),
        limited_user: Some(limited_user()),
        ..Default::default()
    }
}

/// PING through `client` on `port`: the reply, or the error of the handshake or the read.
fn ping(client: &TlsClient, port: u16) -> Result<String, String> {
    let mut con = client
        .connect(port, Duration::from_secs(2))
        .map_err(|e| e.to_string())?;
    con.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    redis::cmd("PING")
        .query(&mut con)
        .map_err(|e| e.to_string())
}

fn limited_connection(client: &TlsClient, port: u16) -> redis::Connection {
    let (user, pass, _) = limited_user();
    let settings = redis::RedisConnectionInfo::default()
        .set_skip_set_lib_name()
        .set_username(user)
        .set_password(pass);
    client
        .client(port, settings)
        .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(2)))
        .unwrap_or_else(|e| panic!("limited user on {port}: {e}"))
}

fn assert_noperm(con: &mut redis::Connection, args: &[&str]) {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    let e = c
        .query::<Value>(con)
        .expect_err("the limited user was allowed");
    assert_eq!(e.code(), Some("NOPERM"), "{args:?}: {e}");
}

#[test]
fn tls_files_are_what_the_names_say() {
    let files = TlsFiles::shared();
    for f in files.all() {
        assert!(f.is_file(), "{} missing", f.display());
    }
    let listing: HashSet<String> = std::fs::read_dir(files.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(listing.len(), files.all().len(), "{listing:?}");
    let text = |p: std::path::PathBuf| std::fs::read_to_string(p).unwrap();
    assert!(text(files.mismatched_key()).starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_ne!(text(files.mismatched_key()), text(files.client_key()));
}

#[test]
fn tls_standalone_answers_over_tls_only_and_limits_the_limited_user() {
    let files = TlsFiles::shared();
    let mut set = StandaloneSet::start_with(2, options(TlsServer::new(files.clone())));
    let server = &set.servers[0];
    let port = server.port();
    assert_eq!(server.addr(), format!("127.0.0.1:{port}"));
    // The harness's own connection is TLS.
    assert_eq!(server.cmd(&["PING"]), Value::SimpleString("PONG".into()));
    let client = TlsClient::trusting(&files.ca());
    assert_eq!(ping(&client, port).unwrap(), "PONG");
    // A client trusting another CA refuses the server.
    assert!(ping(&TlsClient::trusting(&files.other_ca()), port).is_err());
    // Plaintext on the TLS port gets nowhere.
    let plain = redis::Client::open(shardis_tests::connection_info(port))
        .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(2)))
        .and_then(|mut con| {
            con.set_read_timeout(Some(Duration::from_secs(2)))?;
            redis::cmd("PING").query::<String>(&mut con)
        });
    assert!(plain.is_err(), "{plain:?}");
    // The limited user: its keys and commands work, others are NOPERM.
    let mut lim = limited_connection(&client, port);
    let ok: String = redis::cmd("SET")
        .arg("lim:x")
        .arg("1")
        .query(&mut lim)
        .unwrap();
    assert_eq!(ok, "OK");
    assert_noperm(&mut lim, &["SET", "other:x", "1"]);
    assert_noperm(&mut lim, &["CONFIG", "GET", "port"]);
    // A restart keeps TLS on the same port, and the limited user.
    set.servers[1].kill();
    set.servers[1].restart();
    let port = set.servers[1].port();
    assert_eq!(ping(&client, port).unwrap(), "PONG");
    assert_noperm(
        &mut limited_connection(&client, port),
        &["SET", "other:x", "1"],
    );
}

#[test]
fn mutual_tls_node_refuses_clients_without_a_test_ca_certificate() {
    let files = TlsFiles::shared();
    let tls = TlsServer::new(files.clone()).mutual();
    let server = RedisServer::start_with(options(tls.clone()));
    let port = server.port();
    assert_eq!(ping(&tls.client(), port).unwrap(), "PONG");
    let without = TlsClient::trusting(&files.ca());
    assert!(ping(&without, port).is_err());
    let other = TlsClient::trusting(&files.ca())
        .with_identity(&files.client_other_cert(), &files.client_other_key());
    assert!(ping(&other, port).is_err());
    let mut lim = limited_connection(&tls.client(), port);
    assert_noperm(&mut lim, &["SET", "other:x", "1"]);
}

#[test]
fn nodes_with_bad_certificates_start_and_fail_verification() {
    let files = TlsFiles::shared();
    let ca = TlsClient::trusting(&files.ca());
    for (cert, why) in [
        (ServerCert::Expired, "certificate expired"),
        (ServerCert::WrongName, "not valid for name"),
        (ServerCert::OtherCa, "UnknownIssuer"),
    ] {
        let server =
            RedisServer::start_with(options(TlsServer::new(files.clone()).presenting(cert)));
        // The harness still reaches it (its admin connection does not verify these).
        assert_eq!(server.cmd(&["PING"]), Value::SimpleString("PONG".into()));
        let e = ping(&ca, server.port()).expect_err("verified a bad certificate");
        assert!(e.contains(why), "{cert:?}: {e}");
    }
    // The other CA's server is fine for a client that trusts the other CA.
    let other = RedisServer::start_with(options(
        TlsServer::new(files.clone()).presenting(ServerCert::OtherCa),
    ));
    let trusting_other = TlsClient::trusting(&files.other_ca());
    assert_eq!(ping(&trusting_other, other.port()).unwrap(), "PONG");
}

#[test]
fn tls_cluster_is_healthy_and_announces_its_tls_ports() {
    let files = TlsFiles::shared();
    let start = Instant::now();
    let cluster = Cluster::start_with(3, 1, options(TlsServer::new(files.clone())));
    eprintln!("3+3 TLS cluster up in {:?}", start.elapsed());
    let ports: HashSet<u16> = cluster.nodes.iter().map(RedisServer::port).collect();
    assert_eq!(ports.len(), 6);
    // Every replica replicates over TLS. CLUSTER SLOTS leaves out a replica until the others
    // learn it has a replication offset: write to every primary first.
    assert_eq!(cluster.shards().values().map(Vec::len).sum::<usize>(), 3);
    let owners = cluster.slot_owners();
    let mut written = HashSet::new();
    for i in 0..1000 {
        let key = format!("lim:{i}");
        let owner = &owners[usize::from(key_slot(key.as_bytes()))];
        if written.insert(owner.clone()) {
            cluster.node(owner).cmd(&["SET", &key, "1"]);
        }
    }
    assert_eq!(written.len(), 3);
    assert!(cluster.wait_replicated(Duration::from_secs(10)));
    let client = TlsClient::trusting(&files.ca());
    let mut con = client
        .connect(cluster.nodes[0].port(), Duration::from_secs(2))
        .unwrap();
    let mut slots = Vec::new();
    let mut seen = HashSet::new();
    let listed_all = wait_until(Duration::from_secs(10), || {
        slots = redis::cmd("CLUSTER").arg("SLOTS").query(&mut con).unwrap();
        seen = slot_ports(&slots);
        seen == ports
    });
    assert!(listed_all, "CLUSTER SLOTS: {slots:?}, nodes: {ports:?}");
    assert_eq!(slots.len(), 3, "{slots:?}");
    // A slot moves between primaries (MIGRATE over TLS, node to node).
    let key = "lim:0";
    let slot = key_slot(key.as_bytes());
    let from = cluster.primary_of_slot(slot);
    let to = cluster
        .primaries()
        .into_iter()
        .find(|p| *p != from)
        .unwrap();
    cluster.node(&from).cmd(&["SET", key, "moved"]);
    cluster.migrate_slot(slot, &to, || {});
    assert_eq!(cluster.primary_of_slot(slot), to);
    assert_eq!(
        cluster.node(&to).cmd(&["GET", key]),
        Value::BulkString(b"moved".to_vec())
    );
    // The limited user exists on every node.
    for n in &cluster.nodes {
        let mut lim = limited_connection(&client, n.port());
        let _: Value = redis::cmd("CLUSTER").arg("SLOTS").query(&mut lim).unwrap();
        assert_noperm(&mut lim, &["SET", "other:x", "1"]);
    }
}

/// Every port CLUSTER SLOTS lists (primaries and replicas).
fn slot_ports(slots: &[Value]) -> HashSet<u16> {
    let mut seen = HashSet::new();
    for range in slots {
        let Value::Array(items) = range else {
            panic!("{range:?}")
        };
        for node in &items[2..] {
            let Value::Array(fields) = node else {
                panic!("{node:?}")
            };
            let Value::Int(port) = fields[1] else {
                panic!("{node:?}")
            };
            seen.insert(u16::try_from(port).unwrap());
        }
    }
    seen
}
