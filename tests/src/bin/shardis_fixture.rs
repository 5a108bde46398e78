//! Starts redis-servers on free loopback ports for test suites in other languages, prints
//! their addresses as one JSON line, and stops them when stdin closes (or this process is
//! killed: the servers die with it through `PR_SET_PDEATHSIG`).
//!
//! ```text
//! shardis-fixture standalone --count 5 [--password P]
//! {"kind":"standalone","nodes":["127.0.0.1:40001", …],"pids":[…]}
//! shardis-fixture cluster --primaries 3 --replicas 1
//! {"kind":"cluster","nodes":[…primaries first…],"pids":[…]}
//! ```
//!
//! TLS: `--tls` serves TLS only (the ports are TLS ports; cluster nodes also use TLS for
//! the bus and replication), `--mtls` also requires client certificates from the test CA.
//! The PKI (see `shardis_tests::tls`) is `--tls-dir DIR` (implies `--tls`), made beforehand
//! with `shardis-fixture pki DIR` or by another fixture, or else a fresh one removed when
//! the fixture stops. The JSON
//! then adds `"tls":true`, `"mtls"`, `"tls_dir"`, `"ca_file"` and the client certificate a
//! client presents, `"cert_file"`/`"key_file"` (`client.pem`/`client.key`).
//!
//! `--limited-user NAME --limited-password P --limited-rules "RULES"` adds an ACL user
//! `on >P RULES` on every node.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use shardis_tests::{Cluster, RedisServer, ServerOptions, StandaloneSet, TlsFiles, TlsServer};

fn usage() -> ! {
    eprintln!("usage: shardis-fixture standalone [--count N] [--password P] [TLS] [ACL]");
    eprintln!("       shardis-fixture cluster [--primaries N] [--replicas R] [TLS] [ACL]");
    eprintln!("       shardis-fixture pki DIR");
    eprintln!("  TLS: --tls [--mtls] [--tls-dir DIR]");
    eprintln!("  ACL: --limited-user NAME --limited-password P --limited-rules RULES");
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let kind = args.first().map(String::as_str).unwrap_or_else(|| usage());
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let flag = |name: &str| args.iter().any(|a| a == name);
    let number = |name: &str, default: usize| -> usize {
        value(name)
            .map(|v| v.parse().unwrap_or_else(|_| usage()))
            .unwrap_or(default)
    };
    if kind == "pki" {
        let dir = args.get(1).unwrap_or_else(|| usage());
        let files = TlsFiles::generate_in(Path::new(dir));
        println!(
            "{}",
            serde_json::json!({"kind": "pki", "tls_dir": files.dir()})
        );
        return;
    }
    let mtls = flag("--mtls");
    let tls = (flag("--tls") || mtls || value("--tls-dir").is_some()).then(|| {
        let files = match value("--tls-dir") {
            Some(dir) => TlsFiles::open(Path::new(&dir)),
            None => TlsFiles::generate(),
        };
        let server = TlsServer::new(Arc::new(files));
        if mtls { server.mutual() } else { server }
    });
    let limited_user = match (
        value("--limited-user"),
        value("--limited-password"),
        value("--limited-rules"),
    ) {
        (Some(user), Some(pass), rules) => Some((user, pass, rules.unwrap_or_default())),
        (None, None, None) => None,
        _ => usage(),
    };
    let options = ServerOptions {
        password: value("--password"),
        tls: tls.clone(),
        limited_user,
        ..Default::default()
    };
    let servers: Vec<RedisServer> = match kind {
        "standalone" => {
            let count = number("--count", 3);
            if count == 0 || count > 64 {
                usage();
            }
            StandaloneSet::start_with(count, options).servers
        }
        "cluster" => {
            let (p, r) = (number("--primaries", 3), number("--replicas", 1));
            if p == 0 || p > 16 || r > 4 {
                usage();
            }
            Cluster::start_with(p, r, options).nodes
        }
        _ => usage(),
    };
    let mut json = serde_json::json!({
        "kind": kind,
        "nodes": servers.iter().map(RedisServer::addr).collect::<Vec<_>>(),
        "pids": servers.iter().map(RedisServer::pid).collect::<Vec<_>>(),
    });
    if let Some(tls) = &tls {
        let f = &tls.files;
        json["tls"] = true.into();
        json["mtls"] = tls.auth_clients.into();
        json["tls_dir"] = f.dir().to_string_lossy().into();
        json["ca_file"] = f.ca().to_string_lossy().into();
        json["cert_file"] = f.client_cert().to_string_lossy().into();
        json["key_file"] = f.client_key().to_string_lossy().into();
    }
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{json}");
    let _ = out.flush();
    // Run until stdin closes: the parent test suite ends us by closing the pipe.
    let mut sink = [0u8; 256];
    let mut stdin = std::io::stdin();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    // The servers stop before a PKI of our own is removed (the last Arc goes with `tls`).
    drop(servers);
    drop(tls);
}
