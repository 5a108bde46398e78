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

use std::io::{Read, Write};

use shardis_tests::{Cluster, RedisServer, ServerOptions, StandaloneSet};

fn usage() -> ! {
    eprintln!("usage: shardis-fixture standalone [--count N] [--password P]");
    eprintln!("       shardis-fixture cluster [--primaries N] [--replicas R]");
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
    let number = |name: &str, default: usize| -> usize {
        value(name)
            .map(|v| v.parse().unwrap_or_else(|_| usage()))
            .unwrap_or(default)
    };
    let options = ServerOptions {
        password: value("--password"),
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
    let json = serde_json::json!({
        "kind": kind,
        "nodes": servers.iter().map(RedisServer::addr).collect::<Vec<_>>(),
        "pids": servers.iter().map(RedisServer::pid).collect::<Vec<_>>(),
    });
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{json}");
    let _ = out.flush();
    // Run until stdin closes: the parent test suite ends us by closing the pipe.
    let mut sink = [0u8; 256];
    let mut stdin = std::io::stdin();
    while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
    drop(servers);
}
