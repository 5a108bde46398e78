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
            "user:1\t{}\tuser:1\n{{t}}x\t{}\t{{t}}x\n",
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
            "a\t{}\ta\nb\t{}\tb\n",
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
    assert_eq!(
        out,
        format!("foo\t{owner}\tfoo\n{{foo}}bar\t{owner}\t{{foo}}bar\n")
    );
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
        (
            0,
            format!("foo\t{}\tfoo\n", client.node_for(b"foo").unwrap())
        )
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

/// The Envoy configs of the core's import tests.
fn envoy_testdata() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/config/envoy/testdata")
}

/// Run `shardis` with `args` and `stdin`: (exit code, stdout, stderr).
fn run_full(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = shardis()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A bootstrap over `set`: `ab:` (remove_prefix, `{%KEY%}`) and `m:` to a MAGLEV cluster of
/// nodes 2 and 3, everything else to a weighted RING_HASH of nodes 0–2 with a hash_key.
fn envoy_bootstrap(set: &StandaloneSet) -> String {
    let a = set.addrs();
    let endpoint = |addr: &str, extra: &str| {
        let (host, port) = addr.rsplit_once(':').unwrap();
        format!(
            "        - endpoint: {{ address: {{ socket_address: {{ address: {host}, port_value: {port} }} }} }}\n{extra}"
        )
    };
    format!(
        r#"admin:
  address: {{ socket_address: {{ address: 127.0.0.1, port_value: 0 }} }}
static_resources:
  listeners:
  - name: redis
    address: {{ socket_address: {{ address: 127.0.0.1, port_value: 0 }} }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.redis_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
          stat_prefix: cli
          settings: {{ op_timeout: 5s, enable_hashtagging: true }}
          prefix_routes:
            routes:
            - prefix: "ab:"
              remove_prefix: true
              key_formatter: "{{%KEY%}}"
              cluster: sessions
            - prefix: "m:"
              cluster: sessions
            catch_all_route: {{ cluster: users }}
  clusters:
  - name: users
    connect_timeout: 1s
    lb_policy: RING_HASH
    load_assignment:
      cluster_name: users
      endpoints:
      - lb_endpoints:
{}{}{}  - name: sessions
    connect_timeout: 1s
    lb_policy: MAGLEV
    load_assignment:
      cluster_name: sessions
      endpoints:
      - lb_endpoints:
{}{}"#,
        endpoint(&a[0], "          load_balancing_weight: 2\n"),
        endpoint(
            &a[1],
            "          metadata: { filter_metadata: { envoy.lb: { hash_key: second } } }\n"
        ),
        endpoint(&a[2], ""),
        endpoint(&a[2], ""),
        endpoint(&a[3], ""),
    )
}

#[test]
fn envoy_config_routes_keys_where_envoy_stores_them() {
    let set = StandaloneSet::start(4);
    let dir = shardis_tests::process::TempDir::new("cli-envoy");
    let yaml = envoy_bootstrap(&set);
    let file = dir.path().join("envoy.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let file = file.display().to_string();

    // The real Envoy stores the keys.
    let envoy = shardis_tests::envoy::Envoy::start_yaml(&yaml);
    let mut conn = envoy.connection();
    let keys: Vec<String> = (0..60)
        .flat_map(|i| [format!("user:{i}"), format!("ab:{i}"), format!("m:{i}")])
        .collect();
    for k in &keys {
        let _: () = redis::cmd("SET").arg(k).arg("v").query(&mut conn).unwrap();
    }
    envoy.stop();

    // `route --envoy`: each key on the node Envoy chose, under the name Envoy stored.
    let stdin = keys.join("\n") + "\n";
    let (code, routed, stderr) = run_full(&["route", "--envoy", &file], stdin.as_bytes());
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("config from-envoy"), "{stderr}");
    let lines: Vec<&str> = routed.lines().collect();
    assert_eq!(lines.len(), keys.len(), "{routed}");
    for (line, key) in lines.iter().zip(&keys) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "{line}");
        assert_eq!(cols[0], key);
        if let Some(rest) = key.strip_prefix("ab:") {
            assert_eq!(cols[2], format!("{{{rest}}}"), "{line}");
        } else {
            assert_eq!(cols[2], key, "{line}");
        }
        let server = set.servers.iter().find(|s| s.addr() == cols[1]).unwrap();
        assert!(
            server.keys().contains(&cols[2].as_bytes().to_vec()),
            "{line}: Envoy did not store it there"
        );
    }

    // `config from-envoy`: TOML on stdout, warnings on stderr; the same routes through it.
    let (code, toml_text, warnings) = run_full(&["config", "from-envoy", &file], b"");
    assert_eq!(code, 0, "{warnings}");
    assert!(!warnings.is_empty());
    assert!(
        warnings.lines().all(|l| l.starts_with("warning: ")),
        "{warnings}"
    );
    assert!(
        warnings.contains("warning: admin (line 1): ignored"),
        "{warnings}"
    );
    assert_eq!(
        shardis::Config::from_toml_str(&toml_text).unwrap(),
        shardis::Config::from_envoy_file(&file, None).unwrap(),
        "{toml_text}"
    );
    let toml_file = dir.path().join("from-envoy.toml");
    std::fs::write(&toml_file, &toml_text).unwrap();
    let toml_file = toml_file.display().to_string();
    let (code, again, _) = run_full(&["route", "--config", &toml_file], stdin.as_bytes());
    assert_eq!((code, again), (0, routed));

    // cmd, dist and load take --envoy too.
    assert_eq!(
        run(shardis().args(["cmd", "--envoy", &file, "GET", "ab:7"])),
        (0, "\"v\"\n".into())
    );
    let (code, out) = run(shardis().args(["dist", "--envoy", &file, "--keys", "300"]));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("total") && l.contains("300")),
        "{out}"
    );
    let (code, out) = run(shardis().args(["load", "--envoy", &file, "--seconds", "1"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().last().unwrap().contains("errors 0"), "{out}");
}

#[test]
fn import_test_configs_are_valid_envoy_and_convert_to_toml() {
    let dir = shardis_tests::process::TempDir::new("cli-envoy-data");
    // The TLS and password files routes.yaml names, as real files.
    let files = shardis_tests::TlsFiles::shared();
    for (name, from) in [
        ("ca.pem", files.ca()),
        ("client.pem", files.client_cert()),
        ("client.key", files.client_key()),
    ] {
        std::fs::copy(from, dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("password"), "pw\n").unwrap();
    let tls_dir = dir.path().display().to_string();
    let cases: &[(&str, Option<&str>)] = &[
        ("envoy-ring.yaml", None),
        ("envoy-maglev.yaml", None),
        ("envoy-cluster.yaml", None),
        ("routes.yaml", None),
        ("listeners.yaml", Some("west")),
    ];
    for (name, listener) in cases {
        let text = std::fs::read_to_string(envoy_testdata().join(name))
            .unwrap()
            .replace("@TLS@", &tls_dir);
        let path = dir.path().join(name);
        std::fs::write(&path, &text).unwrap();
        let path = path.display().to_string();

        let out = Command::new(shardis_tests::envoy::envoy_binary())
            .args(["--mode", "validate", "-c", &path])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&format!("configuration '{path}' OK")),
            "{name} is not a valid Envoy config:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );

        let mut args = vec!["config", "from-envoy", path.as_str()];
        args.extend(listener.iter().flat_map(|l| ["--listener", l]));
        let (code, toml_text, warnings) = run_full(&args, b"");
        assert_eq!(code, 0, "{name}: {warnings}");
        assert!(
            warnings.lines().all(|l| l.starts_with("warning: ")),
            "{name}: {warnings}"
        );
        assert_eq!(
            shardis::Config::from_toml_str(&toml_text).unwrap(),
            shardis::Config::from_envoy_file(&path, *listener).unwrap(),
            "{name}:\n{toml_text}"
        );
    }

    // Several redis listeners: name one.
    let listeners = dir.path().join("listeners.yaml").display().to_string();
    let (code, _, err) = run_full(&["config", "from-envoy", &listeners], b"");
    assert_eq!(code, 2);
    assert!(
        err.contains("--listener") && err.contains("\"east\""),
        "{err}"
    );
    let (code, _, err) = run_full(&["route", "--envoy", &listeners, "k"], b"");
    assert_eq!(code, 2);
    assert!(err.contains("--listener"), "{err}");
    // Files the config names are checked, unless --no-check.
    let missing = envoy_testdata().join("routes.yaml").display().to_string();
    let (code, _, err) = run_full(&["config", "from-envoy", &missing], b"");
    assert_eq!(code, 2);
    assert!(err.contains("static_resources.clusters["), "{err}");
    let (code, out, _) = run_full(&["config", "from-envoy", "--no-check", &missing], b"");
    assert_eq!(code, 0);
    assert!(out.contains("ca_file = \"@TLS@/ca.pem\""), "{out}");
}
