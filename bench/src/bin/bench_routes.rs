//! Routes benchmark (Envoy parity issue): what prefix routes cost.
//! 1. Route lookup alone: nanoseconds per key with 50 prefix routes (goal ≤ 100 ns), keys
//!    that match a route and keys that fall to the catch-all.
//! 2. One client thread doing GET/SET of 100 bytes on one node, in the same run with rounds
//!    alternating: a plain one-backend client (the baseline), the same node behind 50
//!    routes (no key rewrite), behind a `remove_prefix` route, and with every write
//!    mirrored to a second node (the caller's cost of a mirror copy). Medians of rounds;
//!    ratios against the baseline, and the calling thread's own CPU time per SET (what a
//!    mirror copy costs the caller, apart from the mirror thread and servers sharing CPUs).
//!
//! `cargo run --release -p shardis-bench --bin bench-routes [-- --rounds 11 --ops 20000]`

use std::hint::black_box;
use std::time::Instant;

use shardis::bench_support::PrefixLookup;
use shardis::{Client, Cmd, Config};
use shardis_bench::{arg, flag, median, thread_cpu};
use shardis_tests::StandaloneSet;

/// 50 routes `svc00:` … `svc49:` over `backend`, then `extra` TOML.
fn fifty_routes(backend_nodes: &str, extra_route: &str) -> String {
    let mut t = format!("[backends.b]\nmode = \"ring_hash\"\nnodes = [{backend_nodes}]\n");
    for i in 0..50 {
        t.push_str(&format!(
            "[[routes]]\nprefix = \"svc{i:02}:\"\nbackend = \"b\"\n"
        ));
    }
    t.push_str(extra_route);
    t.push_str("[catch_all]\nbackend = \"b\"\n");
    t
}

fn lookup_ns(config: &Config, keys: &[Vec<u8>], reps: usize) -> f64 {
    let m = PrefixLookup::new(config).expect("routes");
    let start = Instant::now();
    let mut acc = 0usize;
    for _ in 0..reps {
        for k in keys {
            acc = acc.wrapping_add(m.lookup(black_box(k)));
        }
    }
    black_box(acc);
    start.elapsed().as_nanos() as f64 / (reps * keys.len()) as f64
}

fn main() {
    if flag("--help") || flag("-h") {
        println!("bench-routes [--rounds N (11)] [--ops N per round (20000)]");
        return;
    }
    let rounds = arg("--rounds", 11);
    let ops = arg("--ops", 20_000);

    // 1. Lookup alone.
    let config = Config::from_toml_str(&fifty_routes("\"127.0.0.1:1\"", "")).unwrap();
    let matching: Vec<Vec<u8>> = (0..1000)
        .map(|i| format!("svc{:02}:user:{i}:profile", i % 50).into_bytes())
        .collect();
    let unmatched: Vec<Vec<u8>> = (0..1000)
        .map(|i| format!("session:{i:08}:data").into_bytes())
        .collect();
    let mut m_ns = Vec::new();
    let mut u_ns = Vec::new();
    for _ in 0..rounds {
        m_ns.push(lookup_ns(&config, &matching, 200));
        u_ns.push(lookup_ns(&config, &unmatched, 200));
    }
    println!("## route lookup, 50 prefix routes (median of {rounds} rounds of 200k keys)\n");
    println!("| keys | ns per key | goal |");
    println!("|---|---:|---|");
    println!(
        "| matching a route (`svcNN:user:i:profile`) | {:.1} | ≤ 100 |",
        median(m_ns)
    );
    println!(
        "| falling to the catch-all (`session:…`) | {:.1} | ≤ 100 |",
        median(u_ns)
    );

    // 2. End to end on one node.
    let set = StandaloneSet::start(2);
    let node = format!("{:?}", set.servers[0].addr());
    let mirror_node = format!("{:?}", set.servers[1].addr());
    let plain = Client::new(
        Config::from_toml_str(&format!("mode = \"ring_hash\"\nnodes = [{node}]\n")).unwrap(),
    )
    .unwrap();
    let routed = Client::new(Config::from_toml_str(&fifty_routes(&node, "")).unwrap()).unwrap();
    let strip = Client::new(
        Config::from_toml_str(&fifty_routes(
            &node,
            "[[routes]]\nprefix = \"bench:\"\nremove_prefix = true\nbackend = \"b\"\n",
        ))
        .unwrap(),
    )
    .unwrap();
    let mirrored = Client::new(
        Config::from_toml_str(&format!(
            "[backends.b]\nmode = \"ring_hash\"\nnodes = [{node}]\n[backends.m]\nmode = \"ring_hash\"\nnodes = [{mirror_node}]\n[catch_all]\nbackend = \"b\"\nmirror = [{{ backend = \"m\", exclude_read_commands = true }}]\n"
        ))
        .unwrap(),
    )
    .unwrap();
    let variants: [(&str, &Client); 4] = [
        ("one backend, no routes (baseline)", &plain),
        ("50 prefix routes, catch-all, same node", &routed),
        ("remove_prefix route, same node", &strip),
        ("catch-all + mirror of writes to a 2nd node", &mirrored),
    ];
    let value = vec![b'v'; 100];
    let keys: Vec<String> = (0..1000).map(|i| format!("bench:{i}")).collect();
    let mut get_us: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut set_us: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut set_cpu: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for round in 0..rounds {
        for v in 0..variants.len() {
            let i = (v + round) % variants.len();
            let c = variants[i].1;
            let (t, cpu) = (Instant::now(), thread_cpu());
            for n in 0..ops {
                let mut cmd = Cmd::new("SET");
                cmd.arg(&keys[n % keys.len()]).arg(&value);
                c.execute(&cmd).unwrap();
            }
            set_us[i].push(t.elapsed().as_secs_f64() * 1e6 / ops as f64);
            set_cpu[i].push((thread_cpu() - cpu) * 1e6 / ops as f64);
            let t = Instant::now();
            for n in 0..ops {
                let mut cmd = Cmd::new("GET");
                cmd.arg(&keys[n % keys.len()]);
                c.execute(&cmd).unwrap();
            }
            get_us[i].push(t.elapsed().as_secs_f64() * 1e6 / ops as f64);
        }
    }
    let base_get = median(get_us[0].clone());
    let base_set = median(set_us[0].clone());
    println!(
        "\n## GET/SET of 100 bytes, one client thread, one node (median of {rounds} rounds × {ops} ops)\n"
    );
    let base_cpu = median(set_cpu[0].clone());
    println!(
        "| client | GET µs | ÷ baseline | SET µs | ÷ baseline | SET caller CPU µs | ÷ baseline |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (i, (name, _)) in variants.iter().enumerate() {
        let g = median(get_us[i].clone());
        let s = median(set_us[i].clone());
        let cpu = median(set_cpu[i].clone());
        println!(
            "| {name} | {g:.2} | {:.3} | {s:.2} | {:.3} | {cpu:.2} | {:.3} |",
            g / base_get,
            s / base_set,
            cpu / base_cpu
        );
    }
    println!(
        "\n(caller CPU: the calling thread's own user+sys time per SET, getrusage(RUSAGE_THREAD); the mirror thread and the servers are not in it)"
    );
    let st = mirrored.stats().routing.unwrap().mirrors["m"].clone();
    println!(
        "\nmirror copies: queued {}, sent {}, failed {}, dropped (queue full) {}",
        st.queued, st.sent, st.failed, st.dropped
    );
}
