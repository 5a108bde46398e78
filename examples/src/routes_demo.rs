//! The demo's scenarios S5 (several backends behind one client, from the Envoy YAML a team
//! ran as a sidecar) and S4 (a migration from one Redis Cluster to another: writes
//! mirrored to the new cluster, then reads moved over).

use std::path::Path;
use std::process::Command;

use shardis_tests::{Cluster, StandaloneSet};

/// S5: render `examples/envoy/s5-prefix-routes.yaml` over the playground's five nodes, show
/// its TOML equivalent and where keys go, write and read through the routes. Returns the
/// summary lines.
pub fn s5(
    dir: &Path,
    set: &StandaloneSet,
    run: &dyn Fn(&[&str]) -> String,
    python: Option<&str>,
) -> Vec<String> {
    println!(
        "== scenario S5: prefix routes from an Envoy redis_proxy YAML (examples/envoy/s5-prefix-routes.yaml) ==\n"
    );
    let template = shardis_tests::workspace_root().join("examples/envoy/s5-prefix-routes.yaml");
    let mut yaml = std::fs::read_to_string(&template)
        .unwrap_or_else(|e| panic!("read {}: {e}", template.display()));
    for (i, s) in set.servers.iter().enumerate() {
        yaml = yaml.replace(&format!("{{{{node{i}}}}}"), &s.port().to_string());
    }
    let path = dir.join("envoy-s5.yaml");
    std::fs::write(&path, &yaml).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    let file = path.display().to_string();
    for s in &set.servers {
        s.cmd(&["FLUSHALL"]);
    }
    run(&["config", "from-envoy", &file]);
    let routed = run(&[
        "route",
        "--envoy",
        &file,
        "sess:42",
        "cache:home",
        "counter",
    ]);
    run(&[
        "cmd",
        "--envoy",
        &file,
        "MSET",
        "sess:42",
        "alice",
        "cache:home",
        "<html>",
        "counter",
        "1",
    ]);
    run(&[
        "cmd",
        "--envoy",
        &file,
        "MGET",
        "sess:42",
        "cache:home",
        "counter",
    ]);
    let nodes = set.addrs();
    let line_of = |key: &str| {
        routed
            .lines()
            .find(|l| l.starts_with(&format!("{key}\t")))
            .unwrap_or("")
            .to_owned()
    };
    let cache = line_of("cache:home");
    let stored_on_cache = set.servers[2].keys() == [b"home".to_vec()];
    let sessions_ok = nodes[..2]
        .iter()
        .any(|n| line_of("sess:42").contains(n.as_str()));
    let main_ok = nodes[3..]
        .iter()
        .any(|n| line_of("counter").contains(n.as_str()));
    let mut verdicts = vec![format!(
        "S5 (Envoy YAML): sess: on the sessions pair, cache: stored as `home` on the cache node ({cache}), the rest on the catch-all: {}",
        if sessions_ok && main_ok && stored_on_cache && cache.ends_with("\thome") {
            "yes"
        } else {
            "NO"
        }
    )];
    if let Some(python) = python {
        for s in &set.servers {
            s.cmd(&["FLUSHALL"]);
        }
        let script = shardis_tests::workspace_root().join("examples/python/s5_prefix_routes.py");
        println!("$ python {} --envoy {file}", script.display());
        let ok = Command::new(python)
            .arg(&script)
            .args(["--envoy", &file])
            .status()
            .is_ok_and(|s| s.success());
        println!();
        verdicts.push(format!(
            "S5 from Python (Client.from_envoy): {}",
            if ok { "ok" } else { "FAILED" }
        ));
    }
    verdicts
}

/// S4: a second cluster next to `old`, and the Python example that mirrors writes to it,
/// then moves reads over.
pub fn s4(old: &Cluster, python: Option<&str>) -> Vec<String> {
    let Some(python) = python else {
        println!("(set SHARDIS_PYTHON to run scenario S4 too; scripts/demo.sh does)\n");
        return Vec::new();
    };
    println!(
        "== scenario S4: migrating to a new Redis Cluster (writes mirrored, then reads moved) ==\n"
    );
    let new = Cluster::start(3, 0);
    println!(
        "new cluster: {} (stopped when the demo ends)\n",
        new.addrs().join(", ")
    );
    let script = shardis_tests::workspace_root().join("examples/python/s4_migration.py");
    let (o, n) = (old.nodes[0].addr(), new.nodes[0].addr());
    println!(
        "$ python {} --old {o} --new {n} --keys 5000",
        script.display()
    );
    let ok = Command::new(python)
        .arg(&script)
        .args(["--old", &o, "--new", &n, "--keys", "5000"])
        .status()
        .is_ok_and(|s| s.success());
    println!();
    vec![format!(
        "S4 (mirror writes to a new cluster, then read from it): {}",
        if ok { "ok" } else { "FAILED" }
    )]
}
