//! The `shardis` command-line tool against real servers.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};

use shardis_tests::StandaloneSet;

fn shardis() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shardis"))
}

fn config_file(set: &StandaloneSet, mode: &str, dir: &std::path::Path) -> String {
    let path = dir.join(format!("{mode}.toml"));
    let nodes: Vec<String> = set.addrs().iter().map(|a| format!("{a:?}")).collect();
    std::fs::write(
        &path,
        format!(
            "mode = \"{mode}\"\nnodes = [{}]\nhash_tags = true\n",
            nodes.join(", ")
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `dist --flush` of `keys` keys (checked per primary), then a 1 s `load` without errors.
fn dist_and_load_on_cluster(cluster: &shardis_tests::Cluster, config: &str, keys: usize) {
    let n = keys.to_string();
    let (code, out) = run(shardis().args(["dist", "--config", config, "--keys", &n, "--flush"]));
    assert_eq!(code, 0, "{out}");
    assert_dist_per_primary(cluster, &out, keys);
    let (code, out) = run(shardis().args([
        "load",
        "--config",
        config,
        "--seconds",
        "1",
        "--clients",
        "2",
    ]));
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().last().unwrap().contains("errors 0"), "{out}");
}

/// `dist` output on a cluster: one line per primary whose routed count equals the server's,
/// adding up to `keys`.
fn assert_dist_per_primary(cluster: &shardis_tests::Cluster, out: &str, keys: usize) {
    let mut total = 0;
    for p in cluster.shards().keys() {
        let line = out
            .lines()
            .find(|l| l.starts_with(p.as_str()))
            .unwrap_or_else(|| panic!("{p} missing: {out}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols[1], cols[3], "routed = on server: {line}");
        total += cols[1].parse::<usize>().unwrap();
    }
    assert_eq!(total, keys, "{out}");
}

#[test]
fn route_cmd_dist_and_load() {
    let set = StandaloneSet::start(3);
    let dir = shardis_tests::process::TempDir::new("cli");
    let config = config_file(&set, "ring_hash", dir.path());
    let client = shardis::Client::new(shardis::Config::from_file(&config).unwrap()).unwrap();

    // route: arguments and stdin.
    let (code, out) = run(shardis().args(["route", "--config", &config, "user:1", "{t}x"]));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!(
            "user:1\t{}\n{{t}}x\t{}\n",
            client.node_for(b"user:1").unwrap(),
            client.node_for(b"{t}x").unwrap()
        )
    );
    let mut child = shardis()
        .args(["route", "--config", &config])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a\nb\r\n").unwrap();
    let out = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    assert_eq!(
        out,
        format!(
            "a\t{}\nb\t{}\n",
            client.node_for(b"a").unwrap(),
            client.node_for(b"b").unwrap()
        )
    );

    // cmd: redis-cli style replies, exit code 1 on an error reply.
    assert_eq!(
        run(shardis().args(["cmd", "--config", &config, "SET", "k", "v"])),
        (0, "OK\n".into())
    );
    assert_eq!(
        run(shardis().args(["cmd", "--config", &config, "MGET", "k", "nope"])),
        (0, "1) \"v\"\n2) (nil)\n".into())
    );
    assert_eq!(
        run(shardis().args(["cmd", "--config", &config, "DBSIZE"])),
        (0, "(integer) 1\n".into())
    );
    let (code, out) = run(shardis().args(["cmd", "--config", &config, "LPUSH", "k", "x"]));
    assert_eq!(code, 1);
    assert!(out.starts_with("(error) WRONGTYPE"), "{out}");
    // A URL works as well as a file; a bad config is a clear error (exit 2).
    let url = format!("redis://{}?mode=maglev", set.addrs().join(","));
    assert_eq!(run(shardis().args(["cmd", "--config", &url, "PING"])).0, 0);
    let out = shardis()
        .args(["cmd", "--config", "redis://h:1?mode=nope", "PING"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mode"));

    // dist: counts per node as routed and as the servers report.
    let (code, out) =
        run(shardis().args(["dist", "--config", &config, "--keys", "3000", "--flush"]));
    assert_eq!(code, 0, "{out}");
    let mut total = 0;
    for s in &set.servers {
        let line = out
            .lines()
            .find(|l| l.starts_with(&s.addr()))
            .unwrap_or_else(|| panic!("{out}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        let written: usize = cols[1].parse().unwrap();
        assert_eq!(written, s.keys().len(), "{line}");
        assert_eq!(cols[3], written.to_string(), "server column: {line}");
        assert!(written > 500, "{line}");
        total += written;
    }
    assert_eq!(total, 3000);
    let (code, out) = run(shardis().args([
        "dist", "--config", &config, "--keys", "500", "--tag", "avgo",
    ]));
    assert_eq!(code, 0);
    let node = client.node_for(b"avgo").unwrap();
    assert!(
        out.lines()
            .any(|l| l.starts_with(&node) && l.split_whitespace().nth(1) == Some("500")),
        "{out}"
    );

    // load: ops/s, percentiles, errors by kind.
    let (code, out) = run(shardis().args([
        "load",
        "--config",
        &config,
        "--seconds",
        "1",
        "--clients",
        "2",
        "--read-ratio",
        "0.5",
    ]));
    assert_eq!(code, 0, "{out}");
    let summary = out.lines().last().unwrap();
    assert!(
        summary.contains("ops/s") && summary.contains("p99") && summary.contains("errors 0"),
        "{summary}"
    );
}

#[test]
fn cluster_mode_route_cmd_dist_and_load() {
    let cluster = shardis_tests::Cluster::start(3, 1);
    let dir = shardis_tests::process::TempDir::new("cli-cluster");
    let path = dir.path().join("cluster.toml");
    std::fs::write(
        &path,
        format!(
            "mode = \"cluster\"\nnodes = [{:?}]\nread_from = \"prefer_replica\"\n",
            cluster.nodes[0].addr()
        ),
    )
    .unwrap();
    let config = path.display().to_string();
    let client = shardis::Client::new(shardis::Config::from_file(&config).unwrap()).unwrap();

    let (code, out) = run(shardis().args(["route", "--config", &config, "foo", "{foo}bar"]));
    assert_eq!(code, 0);
    let owner = client.node_for(b"foo").unwrap();
    assert_eq!(out, format!("foo\t{owner}\n{{foo}}bar\t{owner}\n"));
    assert_eq!(
        run(shardis().args(["cmd", "--config", &config, "SET", "foo", "1"])),
        (0, "OK\n".into())
    );
    assert_eq!(
        run(shardis().args(["cmd", "--config", &config, "DBSIZE"])),
        (0, "(integer) 1\n".into())
    );

    dist_and_load_on_cluster(&cluster, &config, 3000);
}

#[test]
fn tls_cluster_route_cmd_dist_and_load() {
    let files = shardis_tests::TlsFiles::shared();
    let cluster = shardis_tests::Cluster::start_with(
        3,
        1,
        shardis_tests::ServerOptions {
            tls: Some(shardis_tests::TlsServer::new(files.clone())),
            ..Default::default()
        },
    );
    let dir = shardis_tests::process::TempDir::new("cli-tls");
    let path = dir.path().join("tls.toml");
    std::fs::write(
        &path,
        format!(
            "mode = \"cluster\"\nnodes = [{:?}]\n[tls]\nca_file = {:?}\n",
            cluster.nodes[0].addr(),
            files.ca().display().to_string()
        ),
    )
    .unwrap();
    let config = path.display().to_string();
    let client = shardis::Client::new(shardis::Config::from_file(&config).unwrap()).unwrap();

    let (code, out) = run(shardis().args(["route", "--config", &config, "foo"]));
    assert_eq!(
        (code, out),
        (0, format!("foo\t{}\n", client.node_for(b"foo").unwrap()))
    );
    assert_eq!(
        run(shardis().args(["cmd", "--config", &config, "SET", "foo", "tls"])),
        (0, "OK\n".into())
    );
    assert_eq!(
        run(shardis().args(["cmd", "--config", &config, "GET", "foo"])),
        (0, "\"tls\"\n".into())
    );
    // The same through a rediss:// URL; without the CA the failure says why (exit 1).
    let url = format!(
        "rediss+cluster://{}?tls.ca_file={}",
        cluster.nodes[0].addr(),
        files.ca().display()
    );
    assert_eq!(
        run(shardis().args(["cmd", "--config", &url, "GET", "foo"])),
        (0, "\"tls\"\n".into())
    );
    dist_and_load_on_cluster(&cluster, &config, 1000);

    let untrusted = format!("rediss+cluster://{}", cluster.nodes[0].addr());
    let out = shardis()
        .args(["cmd", "--config", &untrusted, "GET", "foo"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("unknown CA"), "{text}");
}
