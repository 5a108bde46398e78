//! `shardis dist`: scenario S2's data generator. Writes N hashes `emp:0000000001` …
//! (`emp:{TAG}:0000000001` with `--tag`) in pipelined batches, then prints how many keys
//! each node got — as routed, and as the servers themselves report (`INFO keyspace`).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use shardis::{Cmd, Value};

/// Arguments of `shardis dist`.
#[derive(Args)]
pub(crate) struct DistArgs {
    #[command(flatten)]
    source: crate::Source,
    /// Number of hashes to write
    #[arg(long)]
    keys: u64,
    /// Hash tag: keys become `emp:{TAG}:0000000001`, all on one node
    #[arg(long)]
    tag: Option<String>,
    /// Commands per pipeline
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// FLUSHDB on every node first, so server counts equal this run's keys
    #[arg(long)]
    flush: bool,
}

fn key_name(tag: Option<&str>, i: u64) -> String {
    match tag {
        Some(t) => format!("emp:{{{t}}}:{i:010}"),
        None => format!("emp:{i:010}"),
    }
}

/// Keys per node from `INFO keyspace` of every node (`db0:keys=N,…`).
fn server_counts(client: &shardis::Client) -> BTreeMap<String, u64> {
    let db = format!("db{}:keys=", client.config().db());
    let mut counts = BTreeMap::new();
    let reply = client.query(["INFO", "keyspace"]);
    let entries = match reply {
        Ok(Value::Map(entries)) => entries,
        Ok(single) => vec![(Value::Bulk(client.nodes()[0].clone().into_bytes()), single)],
        Err(_) => return counts,
    };
    for (node, text) in entries {
        let text = text.to_text().unwrap_or_default();
        let n = text
            .lines()
            .find_map(|l| l.strip_prefix(&db))
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        counts.insert(node.to_text().unwrap_or_default(), n);
    }
    counts
}

pub(crate) fn run(args: &DistArgs) -> Result<ExitCode, shardis::Error> {
    let client = args.source.open()?;
    if args.flush {
        client.query(["FLUSHDB"])?;
    }
    let tag = args.tag.as_deref();
    let mode = client.config().mode().as_str();
    let before = server_counts(&client);
    println!(
        "mode {mode}, {} nodes: writing {} hashes {:?} … in pipelines of {}",
        before.len(),
        args.keys,
        key_name(tag, 1),
        args.batch
    );
    let start = Instant::now();
    let mut written: BTreeMap<String, u64> = before.keys().map(|n| (n.clone(), 0)).collect();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut i = 1;
    while i <= args.keys {
        let end = (i + args.batch.max(1) as u64).min(args.keys + 1);
        let names: Vec<String> = (i..end).map(|n| key_name(tag, n)).collect();
        let cmds: Vec<Cmd> = names
            .iter()
            .zip(i..end)
            .map(|(k, n)| {
                Cmd::from_args([
                    "HSET",
                    k,
                    "name",
                    &format!("Employee {n}"),
                    "salary",
                    &(30_000 + (n * 7919) % 90_000).to_string(),
                    "dept",
                    ["eng", "ops", "sales", "hr"][(n % 4) as usize],
                ])
            })
            .collect();
        for (k, r) in names.iter().zip(client.pipeline(&cmds)) {
            match r {
                Ok(_) => {
                    *written
                        .entry(
                            client
                                .node_for(k.as_bytes())
                                .unwrap_or_else(|e| format!("({})", e.kind())),
                        )
                        .or_default() += 1
                }
                Err(e) => *errors.entry(e.kind().as_str().to_owned()).or_default() += 1,
            }
        }
        i = end;
    }
    let took = start.elapsed();
    let on_server = server_counts(&client);
    for node in on_server.keys() {
        written.entry(node.clone()).or_insert(0);
    }
    let total: u64 = written.values().sum();
    println!(
        "{:<24} {:>10} {:>8} {:>12}",
        "node", "written", "share", "on server"
    );
    for (node, n) in &written {
        let share = if total == 0 {
            0.0
        } else {
            *n as f64 * 100.0 / total as f64
        };
        let server = on_server
            .get(node)
            .map(|v| v.to_string())
            .unwrap_or_else(|| "?".into());
        println!("{node:<24} {n:>10} {share:>7.1}% {server:>12}");
    }
    println!("{:<24} {total:>10}", "total");
    let (min, max) = (
        written.values().min().copied().unwrap_or(0),
        written.values().max().copied().unwrap_or(0),
    );
    let mean = total as f64 / written.len().max(1) as f64;
    let deviation = written
        .values()
        .map(|&n| ((n as f64 - mean) / mean).abs() * 100.0)
        .fold(0.0, f64::max);
    println!(
        "spread: min {min}, max {max}, largest deviation from the mean {deviation:.1}%; {:.0} hashes/s",
        total as f64 / took.as_secs_f64().max(1e-9)
    );
    if !errors.is_empty() {
        println!("errors: {errors:?}");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
