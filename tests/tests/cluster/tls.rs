//! TLS and ACL authentication against real TLS-only redis-servers (`--port 0 --tls-port`,
//! `--tls-cluster yes`, `--tls-replication yes`): ring_hash and a 3+3 cluster over TLS,
//! session resumption, mutual TLS, every handshake failure as a typed error that says which,
//! an ACL user's limits, secrets that never show, and the F2 failover over TLS.

use std::time::{Duration, Instant};

use shardis::{Client, Config, ErrorKind};
use shardis_tests::{
    Cluster, RedisServer, ServerCert, ServerOptions, StandaloneSet, TlsFiles, TlsServer,
};

use crate::serial;

const LIMITED: (&str, &str, &str) = (
    "limited",
    "limited-secret-9f3",
    "~lim:* &* +@read +@write +@connection +cluster|slots +cluster|shards +cluster|nodes \
     +cluster|myid +info +readonly +ping",
);

fn tls_options(tls: TlsServer) -> ServerOptions {
    ServerOptions {
        tls: Some(tls),
        limited_user: Some((LIMITED.0.into(), LIMITED.1.into(), LIMITED.2.into())),
        ..Default::default()
    }
}

fn path(p: std::path::PathBuf) -> String {
    p.display().to_string()
}

/// A `[tls]` table trusting the test CA, plus `extra` lines.
fn tls_table(files: &TlsFiles, extra: &str) -> String {
    format!("[tls]\nca_file = {:?}\n{extra}", path(files.ca()))
}

fn ring_hash_config(addrs: &[String], tail: &str) -> Config {
    let nodes: Vec<String> = addrs.iter().map(|a| format!("{a:?}")).collect();
    let text = format!(
        "mode = \"ring_hash\"\nnodes = [{}]\nconnect_timeout = \"500ms\"\ntimeout = \"2s\"\n{tail}",
        nodes.join(", ")
    );
    Config::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn round_trips(client: &Client, prefix: &str, n: usize) {
    for i in 0..n {
        let key = format!("{prefix}{i}");
        client.query(["SET", &key, &format!("v{i}")]).unwrap();
    }
    for i in 0..n {
        let key = format!("{prefix}{i}");
        let got = client.query(["GET", &key]).unwrap();
        assert_eq!(got, shardis::Value::from(format!("v{i}").as_str()), "{key}");
    }
}

#[test]
fn ring_hash_over_tls_round_trips_and_resumes_sessions() {
    let files = TlsFiles::shared();
    let set = StandaloneSet::start_with(3, tls_options(TlsServer::new(files.clone())));
    let client = Client::new(ring_hash_config(&set.addrs(), &tls_table(&files, ""))).unwrap();
    round_trips(&client, "lim:rh:", 60);
    let stats = client.stats();
    assert!(
        stats.tls.enabled && !stats.tls.insecure_skip_verify,
        "{:?}",
        stats.tls
    );
    assert!(
        stats.tls.handshakes >= 3,
        "one handshake per node at least: {:?}",
        stats.tls
    );
    let first = stats.tls.handshakes;

    // The servers drop every client connection: the next calls reconnect and resume.
    for server in &set.servers {
        server.cmd(&["CLIENT", "KILL", "TYPE", "normal"]);
    }
    std::thread::sleep(Duration::from_millis(50));
    round_trips(&client, "lim:rh:", 60);
    let stats = client.stats();
    assert!(stats.tls.handshakes > first, "reconnected: {:?}", stats.tls);
    assert!(
        stats.tls.resumed >= 1,
        "a reconnect resumed its TLS session: {:?}",
        stats.tls
    );
}

#[test]
fn cluster_over_tls_reaches_learned_nodes_with_tls() {
    let _s = serial();
    let files = TlsFiles::shared();
    let cluster = Cluster::start_with(3, 1, tls_options(TlsServer::new(files.clone())));
    let config = |read_from: &str| {
        Config::from_toml_str(&format!(
            "mode = \"cluster\"\nnodes = [{:?}]\nread_from = \"{read_from}\"\n{}",
            cluster.nodes[0].addr(),
            tls_table(&files, "")
        ))
        .unwrap()
    };
    let writer = Client::new(config("primary")).unwrap();
    round_trips(&writer, "lim:cl:", 100);
    // Replicas, learned from CLUSTER SHARDS, are reached over TLS too: their copies arrive
    // asynchronously, so read until every value is there (bounded).
    let client = Client::new(config("prefer_replica")).unwrap();
    let keys: Vec<String> = (0..100).map(|i| format!("lim:cl:{i}")).collect();
    let mut mget = vec!["MGET".to_owned()];
    mget.extend(keys.iter().cloned());
    let want: Vec<shardis::Value> = (0..100)
        .map(|i| shardis::Value::from(format!("v{i}").as_str()))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let shardis::Value::Array(values) = client.query(&mget).unwrap() else {
            panic!("MGET is an array");
        };
        if values == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "replicas never caught up: {values:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Every node (seeded or learned from CLUSTER SHARDS) was reached over TLS: the primaries
    // took the writes, the replicas the reads.
    let (writes, reads) = (writer.stats(), client.stats());
    let reached = |s: &shardis::StatsSnapshot| {
        s.nodes
            .iter()
            .filter(|(_, n)| n.requests > 0)
            .map(|(a, _)| a.clone())
            .collect::<std::collections::BTreeSet<String>>()
    };
    let all: std::collections::BTreeSet<String> =
        reached(&writes).union(&reached(&reads)).cloned().collect();
    assert_eq!(all.len(), 6, "{all:?}");
    for (addr, node) in writes.nodes.iter().chain(&reads.nodes) {
        assert_eq!(
            node.tls_handshakes, node.connects,
            "{addr}: every connection is TLS"
        );
    }
}

#[test]
fn f2_over_tls_killed_primary_no_read_errors_and_writes_recover() {
    let _s = serial();
    let files = TlsFiles::shared();
    let cluster = Cluster::start_with(3, 1, tls_options(TlsServer::new(files.clone())));
    crate::faults::f2_scenario(cluster, move |cluster, read_from, timeout| {
        let tls = shardis::config::TlsSpec {
            ca_file: Some(path(files.ca())),
            ..Default::default()
        };
        crate::client_with(cluster, read_from, timeout, Some(tls))
    });
}

/// One call on a fresh client; its error, how long it took.
fn fails(config: Config) -> (shardis::Error, Duration) {
    let client = Client::new(config).unwrap();
    let start = Instant::now();
    let e = client.query(["GET", "lim:x"]).unwrap_err();
    (e, start.elapsed())
}

fn assert_failure(config: Config, kind: ErrorKind, words: &str, node: &str) {
    let (e, took) = fails(config);
    let text = e.to_string();
    assert_eq!(e.kind(), kind, "{text}");
    assert!(text.contains(words), "says {words:?}: {text}");
    assert!(text.contains(node), "names the node {node}: {text}");
    // Bounded by connect_timeout (500 ms) per attempt and the 2 s deadline: never a hang.
    assert!(took < Duration::from_secs(4), "{took:?}: {text}");
}

#[test]
fn handshake_failures_are_typed_and_say_which() {
    let files = TlsFiles::shared();
    let start = |cert: ServerCert| {
        RedisServer::start_with(tls_options(TlsServer::new(files.clone()).presenting(cert)))
    };
    let other_ca = start(ServerCert::OtherCa);
    let expired = start(ServerCert::Expired);
    let wrong_name = start(ServerCert::WrongName);
    let good = start(ServerCert::Valid);
    let plain = RedisServer::start();
    let table = tls_table(&files, "");

    let cases = [
        (&other_ca, table.clone(), ErrorKind::Connect, "unknown CA"),
        (
            &expired,
            table.clone(),
            ErrorKind::Connect,
            "expired certificate",
        ),
        (
            &wrong_name,
            table.clone(),
            ErrorKind::Connect,
            "name mismatch",
        ),
        (
            &good,
            tls_table(&files, "server_name = \"wrong.example\"\n"),
            ErrorKind::Connect,
            "name mismatch",
        ),
        (
            &plain,
            table.clone(),
            ErrorKind::Connect,
            "plaintext server on a TLS port",
        ),
        // A TLS-only port with a plaintext config: the server resets the connection, and a
        // TLS probe of the node tells why.
        (&good, String::new(), ErrorKind::Connect, "expects TLS"),
    ];
    for (server, tail, kind, words) in cases {
        let config = ring_hash_config(&[server.addr()], &tail);
        assert_failure(config, kind, words, &server.addr());
    }
    // A write to it was certainly not run: a connect error, not indeterminate.
    let plain_to_tls = Client::new(ring_hash_config(&[good.addr()], "")).unwrap();
    let e = plain_to_tls.query(["SET", "lim:w", "1"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    // Verified against the name the certificate holds, wrong.example works.
    let client = Client::new(ring_hash_config(
        &[wrong_name.addr()],
        &tls_table(&files, "server_name = \"wrong.example\"\n"),
    ))
    .unwrap();
    client.query(["SET", "lim:n", "1"]).unwrap();
    // insecure_skip_verify accepts the unknown CA, and says so in stats.
    let client = Client::new(ring_hash_config(
        &[other_ca.addr()],
        "[tls]\ninsecure_skip_verify = true\n",
    ))
    .unwrap();
    client.query(["SET", "lim:n", "1"]).unwrap();
    assert!(client.stats().tls.insecure_skip_verify);
}

#[test]
fn mutual_tls_needs_the_client_certificate() {
    let files = TlsFiles::shared();
    let server = RedisServer::start_with(tls_options(TlsServer::new(files.clone()).mutual()));
    let with_cert = tls_table(
        &files,
        &format!(
            "cert_file = {:?}\nkey_file = {:?}\n",
            path(files.client_cert()),
            path(files.client_key())
        ),
    );
    let client = Client::new(ring_hash_config(&[server.addr()], &with_cert)).unwrap();
    round_trips(&client, "lim:mtls:", 10);

    let none = ring_hash_config(&[server.addr()], &tls_table(&files, ""));
    assert_failure(
        none,
        ErrorKind::Connect,
        "client certificate",
        &server.addr(),
    );
    let foreign = tls_table(
        &files,
        &format!(
            "cert_file = {:?}\nkey_file = {:?}\n",
            path(files.client_other_cert()),
            path(files.client_other_key())
        ),
    );
    let foreign = ring_hash_config(&[server.addr()], &foreign);
    assert_failure(
        foreign,
        ErrorKind::Connect,
        "client certificate",
        &server.addr(),
    );

    // A key that is not the certificate's fails at construction, naming the key.
    let mismatched = Config::from_toml_str(&format!(
        "mode = \"ring_hash\"\nnodes = [{:?}]\n{}",
        server.addr(),
        tls_table(
            &files,
            &format!(
                "cert_file = {:?}\nkey_file = {:?}\n",
                path(files.client_cert()),
                path(files.mismatched_key())
            )
        )
    ))
    .unwrap_err();
    assert_eq!(mismatched.kind(), ErrorKind::Config);
    assert!(
        mismatched.to_string().contains("tls.key_file"),
        "{mismatched}"
    );
    let key_text = std::fs::read_to_string(files.client_key()).unwrap();
    let body = key_text.lines().nth(1).unwrap();
    assert!(!mismatched.to_string().contains(body));
    let config = ring_hash_config(&[server.addr()], &with_cert);
    assert!(
        !format!("{config:?}").contains(body),
        "no key material in Debug"
    );
}

#[test]
fn acl_user_limits_are_typed_and_secrets_never_show() {
    let files = TlsFiles::shared();
    let server = RedisServer::start_with(tls_options(TlsServer::new(files.clone())));
    let dir = shardis_tests::process::TempDir::new("pwfile");
    let pw_file = dir.path().join("password");
    std::fs::write(&pw_file, format!("{}\n", LIMITED.1)).unwrap();
    let auth = format!(
        "{}\n[auth]\nusername = \"limited\"\npassword_file = {:?}\n",
        tls_table(&files, ""),
        pw_file.display().to_string()
    );
    let client = Client::new(ring_hash_config(&[server.addr()], &auth)).unwrap();
    client.query(["SET", "lim:a", "1"]).unwrap();
    for denied in [
        &["SET", "other:x", "1"][..],
        &["CONFIG", "GET", "maxmemory"][..],
    ] {
        let e = client.query(denied).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Server, "{e}");
        assert!(e.to_string().contains("NOPERM"), "{e}");
    }
    client.query(["GET", "lim:a"]).unwrap();

    let marker = "MARKER-TLS-PASSWORD-5521";
    let wrong = format!(
        "{}\n[auth]\nusername = \"limited\"\npassword = \"{marker}\"\n",
        tls_table(&files, "")
    );
    let config = ring_hash_config(&[server.addr()], &wrong);
    assert!(!format!("{config:?}").contains(marker));
    let client = Client::new(config).unwrap();
    let e = client.query(["GET", "lim:a"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    for shown in [
        e.to_string(),
        format!("{e:?}"),
        format!("{:?}", client.stats()),
        format!("{client:?}"),
    ] {
        assert!(!shown.contains(marker), "{shown}");
        assert!(!shown.contains(LIMITED.1), "{shown}");
    }
}

/// Accept one TLS connection on `listener` with the fixture's server certificate and return
/// the SNI name the client sent (None: no SNI).
fn sni_of_one_client(listener: std::net::TcpListener, files: &TlsFiles) -> Option<String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(files.server_cert())
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(files.server_key()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    // Bounded: a client that never comes fails the test instead of hanging it.
    listener.set_nonblocking(true).unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    let mut sock = loop {
        match listener.accept() {
            Ok((sock, _)) => break sock,
            Err(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("no client connected: {e}"),
        }
    };
    sock.set_nonblocking(false).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut conn = rustls::ServerConnection::new(std::sync::Arc::new(config)).unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).unwrap();
    }
    conn.server_name().map(str::to_owned)
}

#[test]
fn sni_is_sent_for_host_names_and_not_for_ip_addresses() {
    let files = TlsFiles::shared();
    for (host, want) in [("localhost", Some("localhost")), ("127.0.0.1", None)] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = {
            let files = files.clone();
            std::thread::spawn(move || sni_of_one_client(listener, &files))
        };
        let config = Config::from_toml_str(&format!(
            "mode = \"ring_hash\"\nnodes = [\"{host}:{port}\"]\ntimeout = \"300ms\"\n{}",
            tls_table(&files, "")
        ))
        .unwrap();
        // The server never answers the PING that ends the set-up: the call times out; what
        // matters is the name the handshake carried.
        let _ = Client::new(config).unwrap().query(["GET", "lim:x"]);
        assert_eq!(server.join().unwrap().as_deref(), want, "{host}");
    }
}

#[test]
fn moved_and_ask_over_tls_reach_their_targets_with_tls() {
    let _s = serial();
    let files = TlsFiles::shared();
    let cluster = Cluster::start_with(3, 1, tls_options(TlsServer::new(files.clone())));
    let tls = shardis::config::TlsSpec {
        ca_file: Some(path(files.ca())),
        ..Default::default()
    };
    let client = crate::client_with(
        &cluster,
        shardis::ReadFrom::Primary,
        Duration::from_secs(2),
        Some(tls),
    );
    let keys: Vec<String> = (0..40).map(|i| format!("lim:{{mv}}{i}")).collect();
    for k in &keys {
        client.query(["SET", k, k]).unwrap();
    }
    let slot = crate::keyslot(&cluster, &keys[0]);
    let from = cluster.primary_of_slot(slot);
    let to = cluster
        .primaries()
        .into_iter()
        .find(|p| *p != from)
        .unwrap();
    // Reads between MIGRATE batches meet a half-moved slot (ASK); after it, MOVED.
    cluster.migrate_slot(slot, &to, || {
        for k in &keys {
            assert_eq!(
                client.query(["GET", k]).unwrap(),
                shardis::Value::from(k.as_str())
            );
        }
    });
    for k in &keys {
        assert_eq!(
            client.query(["GET", k]).unwrap(),
            shardis::Value::from(k.as_str())
        );
    }
    let stats = client.stats();
    assert!(
        stats.cluster.ask + stats.cluster.moved >= 1,
        "{:?}",
        stats.cluster
    );
    let target = &stats.nodes[&to];
    assert!(target.requests > 0 && target.tls_handshakes == target.connects);
}

/// Backends with their own TLS and auth: a TLS backend (the test CA, the ACL user whose keys
/// are `lim:*`) behind a prefix route next to a plaintext catch-all; each backend's stats
/// say how it connects.
#[test]
fn a_tls_backend_and_a_plaintext_backend_behind_routes() {
    let files = TlsFiles::shared();
    let secure = StandaloneSet::start_with(2, tls_options(TlsServer::new(files.clone())));
    let plain = StandaloneSet::start(1);
    let list = |set: &StandaloneSet| {
        set.addrs()
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let config = Config::from_toml_str(&format!(
        "[backends.secure]\nmode = \"ring_hash\"\nnodes = [{}]\n[backends.secure.tls]\nca_file = {:?}\n[backends.secure.auth]\nusername = {:?}\npassword = {:?}\n[backends.plain]\nmode = \"jump\"\nnodes = [{}]\n[[routes]]\nprefix = \"lim:\"\nbackend = \"secure\"\n[catch_all]\nbackend = \"plain\"\n",
        list(&secure),
        path(files.ca()),
        LIMITED.0,
        LIMITED.1,
        list(&plain)
    ))
    .unwrap();
    let client = Client::new(config).unwrap();
    round_trips(&client, "lim:routed:", 40);
    client.query(["SET", "open:1", "v"]).unwrap();
    assert_eq!(plain.servers[0].keys(), [b"open:1".to_vec()]);
    let routing = client.stats().routing.unwrap();
    let tls = &routing.backends["secure"].tls;
    assert!(tls.enabled && tls.handshakes >= 2, "{tls:?}");
    assert!(!routing.backends["plain"].tls.enabled);
}
