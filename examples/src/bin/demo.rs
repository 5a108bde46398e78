//! The README's main job: start a local playground (5 standalone redis-servers and a 3+3
//! Redis Cluster on loopback, stopped at the end), then run scenario S2's data generator
//! through the `shardis` CLI for ring_hash, maglev and cluster mode, with and without a hash
//! tag, and show a few more commands; then scenarios S5 (prefix routes from an Envoy YAML)
//! and S4 (a migration between two clusters with mirrored writes).

use std::path::{Path, PathBuf};
use std::process::Command;

use shardis_tests::process::TempDir;

#[path = "../routes_demo.rs"]
mod routes_demo;
use shardis_tests::{Cluster, StandaloneSet};

const KEYS: &str = "60000";

fn cli() -> PathBuf {
    // The CLI is built next to this binary (target/<profile>/shardis).
    let me = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    me.with_file_name("shardis")
}

fn run(args: &[&str]) -> String {
    println!("$ shardis {}", args.join(" "));
    let out = Command::new(cli()).args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run {}: {e} (build it: cargo build --release -p shardis-cli)",
            cli().display()
        )
    });
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{text}");
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        eprintln!("demo: command failed ({})", out.status);
        std::process::exit(1);
    }
    println!();
    text
}

/// Write 10 000 hashes tagged `{avgo}` with `shardis dist`; true when one node got them all.
fn tagged_keys_on_one_node(config: &str) -> bool {
    let tagged = run(&[
        "dist", "--config", config, "--keys", "10000", "--tag", "avgo",
    ]);
    let nodes_with_all = tagged
        .lines()
        .filter(|l| l.contains("127.0.0.1") && l.split_whitespace().nth(1) == Some("10000"))
        .count();
    nodes_with_all == 1
}

fn python_example(python: &str, args: &[&str]) {
    println!("$ python {}", args.join(" "));
    let status = Command::new(python)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    if !status.success() {
        eprintln!("demo: Python example failed ({status})");
        std::process::exit(1);
    }
    println!();
}

fn write_config(dir: &Path, name: &str, mode: &str, nodes: &[String], extra: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    let list: Vec<String> = nodes.iter().map(|n| format!("{n:?}")).collect();
    let text = format!(
        "mode = \"{mode}\"\nnodes = [{}]\nhash_tags = true\n{extra}",
        list.join(", ")
    );
    std::fs::write(&path, &text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    println!("# {}\n{text}", path.display());
    path.display().to_string()
}

/// The largest deviation from the mean in a `dist` table, in percent.
fn spread(output: &str) -> f64 {
    output
        .lines()
        .find_map(|l| l.split("largest deviation from the mean ").nth(1))
        .and_then(|rest| rest.split('%').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn main() {
    println!("== shardis demo: 5 standalone redis-servers on 127.0.0.1 ==\n");
    let set = StandaloneSet::start(5);
    let nodes = set.addrs();
    println!(
        "started {} (stopped when the demo ends)\n",
        nodes.join(", ")
    );
    let dir = TempDir::new("demo");

    // Envoy's defaults, and a larger ring (set the same `minimum_ring_size` in Envoy to keep
    // placement identical): ring_hash's spread depends on entries per node.
    let runs = [
        (
            "ring_hash",
            "ring_hash",
            "",
            "Envoy defaults: min_ring_size 1024",
        ),
        (
            "ring_hash_16k",
            "ring_hash",
            "[ring_hash]\nmin_ring_size = 16384\n",
            "min_ring_size 16384",
        ),
        ("maglev", "maglev", "", "Envoy defaults: table_size 65537"),
    ];
    let mut verdicts = Vec::new();
    let mut last_config = String::new();
    for (name, mode, extra, note) in runs {
        println!("== scenario S2 through shardis: {mode} ({note}) ==\n");
        let config = write_config(dir.path(), name, mode, &nodes, extra);
        let plain = run(&["dist", "--config", &config, "--keys", KEYS, "--flush"]);
        verdicts.push(format!(
            "{mode} ({note}): {KEYS} keys, largest deviation from the mean {:.1}%",
            spread(&plain)
        ));
        verdicts.push(format!(
            "{mode} ({note}): 10000 keys tagged {{avgo}} all on one node: {}",
            tagged_keys_on_one_node(&config)
        ));
        last_config = config;
    }

    println!("== the same client for everything else (maglev data from above) ==\n");
    let config = last_config;
    run(&[
        "route",
        "--config",
        &config,
        "emp:0000000001",
        "emp:{avgo}:0000000001",
        "emp:{avgo}:0000000002",
    ]);
    run(&["cmd", "--config", &config, "DBSIZE"]);
    run(&[
        "cmd",
        "--config",
        &config,
        "HGETALL",
        "emp:{avgo}:0000000001",
    ]);
    run(&[
        "cmd",
        "--config",
        &config,
        "EXISTS",
        "emp:0000000001",
        "emp:{avgo}:0000000001",
        "emp:0000000002",
        "nope",
    ]);
    run(&["cmd", "--config", &config, "KEYS", "emp:000000000*"]);
    run(&[
        "load",
        "--config",
        &config,
        "--seconds",
        "2",
        "--clients",
        "2",
    ]);

    let python = std::env::var("SHARDIS_PYTHON").ok();
    verdicts.extend(routes_demo::s5(
        dir.path(),
        &set,
        &|args| run(args),
        python.as_deref(),
    ));

    println!("== Redis Cluster: 3 primaries + 3 replicas on 127.0.0.1 ==\n");
    let cluster = Cluster::start(3, 1);
    println!(
        "started {} (stopped when the demo ends)\n",
        cluster.addrs().join(", ")
    );
    let path = dir.path().join("cluster.toml");
    let text = format!(
        "mode = \"cluster\"\nnodes = [{:?}]          # one seed: the rest is discovered\nread_from = \"prefer_replica\"\n",
        cluster.nodes[0].addr()
    );
    std::fs::write(&path, &text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    println!("# {}\n{text}", path.display());
    let config = path.display().to_string();
    let plain = run(&["dist", "--config", &config, "--keys", KEYS, "--flush"]);
    verdicts.push(format!(
        "cluster: {KEYS} keys over 3 primaries, largest deviation from the mean {:.1}%",
        spread(&plain)
    ));
    verdicts.push(format!(
        "cluster: 10000 keys tagged {{avgo}} all in one slot: {}",
        tagged_keys_on_one_node(&config)
    ));
    run(&["cmd", "--config", &config, "DBSIZE"]);
    run(&[
        "load",
        "--config",
        &config,
        "--seconds",
        "2",
        "--clients",
        "2",
    ]);

    verdicts.extend(routes_demo::s4(&cluster, python.as_deref()));

    // The same scenarios from Python (the wheel installed by scripts/demo.sh).
    match std::env::var("SHARDIS_PYTHON") {
        Ok(python) => {
            let script = |name: &str| {
                shardis_tests::workspace_root()
                    .join("examples/python")
                    .join(name)
                    .display()
                    .to_string()
            };
            let ring = dir.path().join("ring_hash_16k.toml").display().to_string();
            let maglev = dir.path().join("maglev.toml").display().to_string();
            println!(
                "== Python: scenario S2 (examples/python/data_generator.py), ring_hash over 5 nodes, min_ring_size 16384 ==\n"
            );
            python_example(
                &python,
                &[
                    &script("data_generator.py"),
                    "--config",
                    &ring,
                    "--keys",
                    KEYS,
                ],
            );
            println!("== Python: scenario S2, Redis Cluster ==\n");
            python_example(
                &python,
                &[
                    &script("data_generator.py"),
                    "--config",
                    &config,
                    "--keys",
                    KEYS,
                ],
            );
            println!("== Python: scenario S1 (examples/python/location_worker.py), maglev ==\n");
            python_example(
                &python,
                &[
                    &script("location_worker.py"),
                    "--config",
                    &maglev,
                    "--seconds",
                    "2",
                ],
            );
        }
        Err(_) => println!(
            "(set SHARDIS_PYTHON to a Python with the shardis wheel to run the Python examples too; scripts/demo.sh does)\n"
        ),
    }
    // Scenario S2 from C (examples/c/data_generator.c, linked with libshardis).
    match std::env::var("SHARDIS_C_EXAMPLE") {
        Ok(binary) => {
            let maglev = dir.path().join("maglev.toml").display().to_string();
            let runs: [(&str, &[&str]); 3] = [
                ("maglev over 5 nodes", &[&maglev, "20000"]),
                ("Redis Cluster", &[&config, "20000"]),
                ("Redis Cluster, tag {avgo}", &[&config, "5000", "avgo"]),
            ];
            let mut ok = true;
            for (what, args) in runs {
                println!("== C: scenario S2 (examples/c/data_generator.c), {what} ==\n");
                println!("$ data_generator {}", args.join(" "));
                let status = Command::new(&binary)
                    .args(args)
                    .status()
                    .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"));
                ok &= status.success();
                println!();
            }
            verdicts.push(format!(
                "C: the data generator wrote every hash without an error: {}",
                if ok { "yes" } else { "NO" }
            ));
        }
        Err(_) => println!(
            "(set SHARDIS_C_EXAMPLE to the built C example to run it too; scripts/demo.sh does)\n"
        ),
    }

    // Scenario S3 from PHP-FPM (the extension built by scripts/demo.sh).
    match std::env::var("SHARDIS_PHP_EXT") {
        Ok(ext) => {
            println!(
                "== PHP: scenario S3 (examples/php/s3_app.php) under php-fpm, Redis Cluster ==\n"
            );
            let script = shardis_tests::workspace_root().join("examples/php/fpm_demo.php");
            let nodes: Vec<String> = cluster.addrs().iter().map(|a| format!("{a:?}")).collect();
            println!("$ php {}", script.display());
            let status = Command::new("php")
                .arg("-d")
                .arg(format!("extension={ext}"))
                .arg(&script)
                .env("SHARDIS_PHP_EXT", &ext)
                .env(
                    "SHARDIS_CLUSTER",
                    format!("{{\"nodes\":[{}]}}", nodes.join(",")),
                )
                .status()
                .unwrap_or_else(|e| panic!("cannot run php: {e}"));
            verdicts.push(format!(
                "PHP-FPM: 100 requests reuse the workers' connections and topology: {}",
                if status.success() { "yes" } else { "NO" }
            ));
            println!();
        }
        Err(_) => println!(
            "(set SHARDIS_PHP_EXT to the built extension to run the PHP-FPM example too; scripts/demo.sh does)\n"
        ),
    }
    drop(cluster);

    println!("== summary ==");
    for v in &verdicts {
        println!("  {v}");
    }
    drop(set);
    println!("\nplayground stopped.");
}
