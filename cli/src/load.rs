//! `shardis load`: a GET/SET load from C threads for S seconds; prints a line per second
//! (so a failover can be watched live) and a summary: ops/s, p50/p99/max latency, errors by
//! kind.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use parking_lot::Mutex;
use shardis::Cmd;

/// Arguments of `shardis load`.
#[derive(Args)]
pub(crate) struct LoadArgs {
    #[command(flatten)]
    source: crate::Source,
    /// Duration in seconds
    #[arg(long)]
    seconds: f64,
    /// Concurrent client threads (sharing one shardis client)
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// Fraction of GETs (the rest are SETs)
    #[arg(long, default_value_t = 0.8)]
    read_ratio: f64,
    /// Number of distinct keys
    #[arg(long, default_value_t = 10_000)]
    keyspace: u64,
    /// SET value size in bytes
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    /// Print a progress line every second
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    progress: bool,
}

/// Latency samples are capped per thread (bounded memory).
const MAX_SAMPLES_PER_THREAD: usize = 5_000_000;

struct Shared {
    ops: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    stop: AtomicBool,
}

fn next(state: &mut u64) -> u64 {
    // splitmix64
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn run(args: &LoadArgs) -> Result<ExitCode, shardis::Error> {
    if !(0.0..=1.0).contains(&args.read_ratio)
        || args.seconds <= 0.0
        || args.clients == 0
        || args.keyspace == 0
    {
        return Err(shardis::Error::new(
            shardis::ErrorKind::InvalidArgument,
            "need --seconds > 0, --clients ≥ 1, --keyspace ≥ 1 and 0 ≤ --read-ratio ≤ 1",
        ));
    }
    let client = args.source.open()?;
    let shared = Arc::new(Shared {
        ops: AtomicU64::new(0),
        errors: Mutex::new(BTreeMap::new()),
        stop: AtomicBool::new(false),
    });
    let value = "x".repeat(args.value_size);
    let threshold = (args.read_ratio * u64::MAX as f64) as u64;
    println!(
        "load: {} client thread(s), {:.0}% GET / {:.0}% SET, {} keys, {} s, mode {}",
        args.clients,
        args.read_ratio * 100.0,
        (1.0 - args.read_ratio) * 100.0,
        args.keyspace,
        args.seconds,
        client.config().mode().as_str()
    );
    let start = Instant::now();
    let handles: Vec<_> = (0..args.clients)
        .map(|t| {
            let (client, shared, value) = (client.clone(), shared.clone(), value.clone());
            let keyspace = args.keyspace;
            std::thread::spawn(move || {
                let mut rng = 0x5eed_u64 ^ ((t as u64) << 40);
                let mut samples: Vec<u32> = Vec::with_capacity(1 << 16);
                while !shared.stop.load(Ordering::Relaxed) {
                    let key = format!("load:{}", next(&mut rng) % keyspace);
                    let cmd = if next(&mut rng) < threshold {
                        Cmd::new("GET").with(&key)
                    } else {
                        Cmd::new("SET").with(&key).with(&value)
                    };
                    let t0 = Instant::now();
                    let r = client.execute(&cmd);
                    let us = t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                    if samples.len() < MAX_SAMPLES_PER_THREAD {
                        samples.push(us);
                    }
                    shared.ops.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = r {
                        *shared
                            .errors
                            .lock()
                            .entry(e.kind().as_str().to_owned())
                            .or_default() += 1;
                    }
                }
                samples
            })
        })
        .collect();

    let total = Duration::from_secs_f64(args.seconds);
    let mut last_ops = 0;
    let mut tick = 1u64;
    while start.elapsed() < total {
        let next_tick = Duration::from_secs(tick).min(total);
        std::thread::sleep(next_tick.saturating_sub(start.elapsed()));
        if args.progress {
            let ops = shared.ops.load(Ordering::Relaxed);
            let errors = shared.errors.lock().clone();
            println!(
                "  t={:>5.1}s  ops/s {:>8}  errors {:?}",
                start.elapsed().as_secs_f64(),
                ops - last_ops,
                errors
            );
            last_ops = ops;
        }
        tick += 1;
    }
    shared.stop.store(true, Ordering::Relaxed);
    let mut samples: Vec<u32> = Vec::new();
    for h in handles {
        samples.extend(h.join().unwrap_or_default());
    }
    let elapsed = start.elapsed().as_secs_f64();
    samples.sort_unstable();
    let pct = |q: f64| {
        samples
            .get(((samples.len() as f64 * q) as usize).min(samples.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let ops = shared.ops.load(Ordering::Relaxed);
    let errors = shared.errors.lock().clone();
    let error_total: u64 = errors.values().sum();
    println!(
        "ops {ops}  ops/s {:.0}  p50 {} µs  p99 {} µs  max {} µs  errors {error_total} {errors:?}",
        ops as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        samples.last().copied().unwrap_or(0)
    );
    Ok(if error_total == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
