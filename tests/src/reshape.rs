//! Reshaping a running cluster and measuring what callers see meanwhile (issue 10): join a new
//! node (a new process on a new port) as a replica, retire an old one (`CLUSTER FORGET` on
//! every other node, then stop it), count this process's TCP sockets, and a load of worker
//! threads that records every call's latency with the phase it started in. The isolation
//! scenario (baseline, kill -9, DEBUG SLEEP, CLIENT PAUSE) is here too, so the cluster test
//! and `bench-isolation` run the same phases.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use shardis::{Client, ClusterStats, Config, ReadFrom};

use crate::cluster::Cluster;
use crate::process::wait_until;
use crate::server::{RedisServer, ServerOptions};

// ---------------------------------------------------------------------------------------
// Clients and keys

/// A cluster client over `seeds` with `read_from`, `timeout`, `connect_timeout` and, when
/// given, `refresh.interval` (otherwise the default).
pub fn cluster_client(
    seeds: &[String],
    read_from: ReadFrom,
    timeout: Duration,
    connect_timeout: Duration,
    refresh_interval: Option<Duration>,
) -> Client {
    let policy = match read_from {
        ReadFrom::Primary => "primary",
        ReadFrom::PreferPrimary => "prefer_primary",
        ReadFrom::Replica => "replica",
        ReadFrom::PreferReplica => "prefer_replica",
        _ => "any",
    };
    let nodes: Vec<String> = seeds.iter().map(|s| format!("\"{s}\"")).collect();
    let mut toml = format!(
        "mode = \"cluster\"\nnodes = [{}]\nread_from = \"{policy}\"\ntimeout = {}\nconnect_timeout = {}\n",
        nodes.join(", "),
        timeout.as_millis(),
        connect_timeout.as_millis()
    );
    if let Some(interval) = refresh_interval {
        let _ = write!(toml, "[refresh]\ninterval = {}\n", interval.as_millis());
    }
    let config = Config::from_toml_str(&toml).unwrap_or_else(|e| panic!("config {toml}: {e}"));
    Client::new(config).unwrap_or_else(|e| panic!("client: {e}"))
}

/// The shards of a cluster as created: shard `i` is the slot range that starts at `firsts[i]`
/// (its owner changes with failovers, the range does not), with keys known to live there.
#[derive(Debug, Clone)]
pub struct Shards {
    /// First slot of each shard's range, ascending.
    pub firsts: Vec<u16>,
    /// Keys on each shard.
    pub keys: Vec<Vec<String>>,
}

impl Shards {
    /// Map `cluster`'s slot ranges and find `per_shard` keys named `{prefix}{n}` on each (asked
    /// from `client`, whose topology must be current).
    pub fn find(cluster: &Cluster, client: &Client, prefix: &str, per_shard: usize) -> Shards {
        let mut firsts: Vec<u16> = cluster
            .topology()
            .iter()
            .filter_map(|l| l.slots.iter().map(|s| s.0).min())
            .collect();
        firsts.sort_unstable();
        let primaries: Vec<String> = firsts.iter().map(|&s| cluster.primary_of_slot(s)).collect();
        let mut keys = vec![Vec::new(); firsts.len()];
        for n in 0..100_000 {
            if keys.iter().all(|k: &Vec<String>| k.len() >= per_shard) {
                break;
            }
            let key = format!("{prefix}{n}");
            let owner = client
                .node_for(key.as_bytes())
                .unwrap_or_else(|e| panic!("node_for {key}: {e}"));
            if let Some(i) = primaries.iter().position(|p| *p == owner)
                && keys[i].len() < per_shard
            {
                keys[i].push(key);
            }
        }
        assert!(
            keys.iter().all(|k| k.len() == per_shard),
            "keys per shard: {:?}",
            keys.iter().map(Vec::len).collect::<Vec<_>>()
        );
        Shards { firsts, keys }
    }

    /// Number of shards.
    pub fn len(&self) -> usize {
        self.firsts.len()
    }

    /// True when there are no shards.
    pub fn is_empty(&self) -> bool {
        self.firsts.is_empty()
    }

    /// The current primary of shard `i`.
    pub fn primary(&self, cluster: &Cluster, i: usize) -> String {
        cluster.primary_of_slot(self.firsts[i])
    }

    /// The current (first) replica of shard `i`.
    pub fn replica(&self, cluster: &Cluster, i: usize) -> String {
        cluster.replica_of(&self.primary(cluster, i))
    }
}

// ---------------------------------------------------------------------------------------
// Reshaping

/// Node ids in one node's `CLUSTER NODES`, or None when it does not answer.
fn known_ids(node: &RedisServer) -> Option<Vec<String>> {
    let v = node.try_cmd(&["CLUSTER", "NODES"]).ok()?;
    let text: String = redis::from_redis_value(v).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_string)
            .collect(),
    )
}

/// `INFO replication` of one node, empty when it does not answer.
fn replication(node: &RedisServer) -> String {
    node.try_cmd(&["INFO", "replication"])
        .ok()
        .and_then(|v| redis::from_redis_value::<String>(v).ok())
        .unwrap_or_default()
}

/// Run `args` on `node` until it succeeds, for at most 10 s; the last error otherwise.
fn retry(node: &RedisServer, args: &[&str]) -> Result<(), String> {
    let mut last = String::new();
    let done = wait_until(Duration::from_secs(10), || match node.try_cmd(args) {
        Ok(_) => true,
        Err(e) => {
            last = e;
            false
        }
    });
    if done { Ok(()) } else { Err(last) }
}

/// Start a new cluster node (a new process on new ports), introduce it with `CLUSTER MEET`
/// through the primary at `primary`, make it that primary's replica, and wait until it is in
/// sync and the whole cluster is healthy. Returns its index in `cluster.nodes` (it is owned by
/// the cluster from the start, so a failed step still stops it).
pub fn join_replica(cluster: &mut Cluster, primary: &str) -> usize {
    let node = RedisServer::start_cluster_node(ServerOptions::default());
    let (port, bus) = (node.port().to_string(), node.bus_port().to_string());
    let new_id = node.node_id();
    cluster.nodes.push(node);
    let index = cluster.nodes.len() - 1;
    let p = &cluster.nodes[cluster.index_of(primary)];
    let primary_id = p.node_id();
    p.cmd(&["CLUSTER", "MEET", "127.0.0.1", &port, &bus]);
    let total = cluster.nodes.len();
    let met = wait_until(Duration::from_secs(20), || {
        cluster
            .nodes
            .iter()
            .all(|n| known_ids(n).is_some_and(|ids| ids.len() == total && ids.contains(&new_id)))
    });
    assert!(
        met,
        "new node {port} not known everywhere: {}",
        cluster.describe()
    );
    let new = &cluster.nodes[index];
    let replicating = retry(new, &["CLUSTER", "REPLICATE", &primary_id]);
    assert!(
        replicating.is_ok(),
        "CLUSTER REPLICATE on {port}: {replicating:?}"
    );
    let synced = wait_until(Duration::from_secs(30), || {
        let r = replication(new);
        r.contains("master_link_status:up") && r.contains("master_sync_in_progress:0")
    });
    assert!(
        synced,
        "new replica {port} not in sync: {}",
        replication(new)
    );
    cluster.wait_healthy();
    index
}

/// Retire the node at `index`: `CLUSTER FORGET` it on every other node (retried while a node
/// still replicates from it, bounded), stop it (SIGKILL and reap, through its guard) and wait
/// until the rest is healthy. It must not own slots. Returns its address.
pub fn retire(cluster: &mut Cluster, index: usize) -> String {
    let id = cluster.nodes[index].node_id();
    // Out of the list first: the others are asked about, the guard stops it on any panic.
    let node = cluster.nodes.remove(index);
    let addr = node.addr();
    for n in &cluster.nodes {
        let forgot = retry(n, &["CLUSTER", "FORGET", &id]);
        assert!(
            forgot.is_ok(),
            "CLUSTER FORGET {addr} on {}: {forgot:?}",
            n.addr()
        );
    }
    drop(node);
    cluster.wait_healthy();
    addr
}

/// After a manual failover, wait until the node at `addr` is a replica in sync again and the
/// cluster is healthy.
pub fn wait_demoted(cluster: &Cluster, addr: &str) {
    let node = &cluster.nodes[cluster.index_of(addr)];
    let demoted = wait_until(Duration::from_secs(20), || {
        let r = replication(node);
        r.contains("role:slave") && r.contains("master_link_status:up")
    });
    assert!(demoted, "{addr} not a replica: {}", replication(node));
    cluster.wait_healthy();
}

/// Wait (bounded) until another node than `dead` (already killed) owns the slot range starting
/// at `first_slot`: its replica has been promoted.
pub fn wait_promoted(cluster: &Cluster, first_slot: u16, dead: &str) {
    let promoted = wait_until(Duration::from_secs(30), || {
        cluster
            .nodes
            .iter()
            .filter(|n| n.addr() != dead)
            .filter_map(|n| n.try_cmd(&["CLUSTER", "NODES"]).ok())
            .filter_map(|v| redis::from_redis_value::<String>(v).ok())
            .any(|t| {
                t.lines().any(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    f.len() > 8
                        && f[1].split('@').next() != Some(dead)
                        && f[2].contains("master")
                        && f[8..].iter().any(|s| {
                            s.split('-').next().and_then(|a| a.parse::<u16>().ok())
                                == Some(first_slot)
                        })
                })
            })
    });
    assert!(
        promoted,
        "no replica took over from {dead}: {}",
        cluster.describe()
    );
}

// ---------------------------------------------------------------------------------------
// Sockets

/// One TCP socket of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSocket {
    /// Local port.
    pub local_port: u16,
    /// Remote port (0 for listeners).
    pub remote_port: u16,
    /// Kernel state (`01` established, `08` close-wait, `0A` listen…).
    pub state: u8,
}

/// Inodes of this process's open sockets (every `socket:[…]` in `/proc/self/fd`).
fn socket_inodes() -> HashSet<u64> {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter_map(|l| {
                    l.to_str()?
                        .strip_prefix("socket:[")?
                        .strip_suffix(']')?
                        .parse()
                        .ok()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How many sockets this process has open, of any kind and state (a TCP socket reset by its
/// peer no longer shows in `/proc/net/tcp` but still holds its descriptor).
pub fn socket_fds() -> usize {
    socket_inodes().len()
}

/// This process's TCP sockets: the socket inodes of `/proc/self/fd` matched against
/// `/proc/self/net/tcp` and `tcp6`.
pub fn tcp_sockets() -> Vec<TcpSocket> {
    let inodes = socket_inodes();
    let port = |field: &str| {
        field
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok())
            .unwrap_or(0)
    };
    let mut out = Vec::new();
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || !f[9].parse().is_ok_and(|i: u64| inodes.contains(&i)) {
                continue;
            }
            out.push(TcpSocket {
                local_port: port(f[1]),
                remote_port: port(f[2]),
                state: u8::from_str_radix(f[3], 16).unwrap_or(0),
            });
        }
    }
    out
}

/// This process's TCP sockets whose remote port is one of `ports`.
pub fn sockets_to(ports: &HashSet<u16>) -> usize {
    tcp_sockets()
        .iter()
        .filter(|s| ports.contains(&s.remote_port))
        .count()
}

/// The port of `host:port`.
pub fn port_of(addr: &str) -> u16 {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {addr}"))
}

// ---------------------------------------------------------------------------------------
// Load with per-call latency recording

/// One timed call.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// The phase current when the call started.
    pub phase: u32,
    /// When it started, µs since the load started.
    pub start_us: u32,
    /// How long it took, µs.
    pub latency_us: u32,
    /// Did it fail?
    pub failed: bool,
}

impl Sample {
    /// When it ended, µs since the load started.
    pub fn end_us(&self) -> u64 {
        u64::from(self.start_us) + u64::from(self.latency_us)
    }
}

/// The call a worker repeats, given its iteration number.
pub type Op = Box<dyn FnMut(u64) -> Result<(), String> + Send>;

/// A worker thread of a [`Load`].
pub struct Worker {
    /// What it is (e.g. the read policy of its client).
    pub label: String,
    /// The shard its keys are on.
    pub shard: usize,
    /// The call.
    pub op: Op,
}

/// Everything one worker recorded.
#[derive(Debug, Clone)]
pub struct Series {
    /// The worker's label.
    pub label: String,
    /// The worker's shard.
    pub shard: usize,
    /// Every call, in order.
    pub samples: Vec<Sample>,
    /// Errors: (index in `samples`, message).
    pub errors: Vec<(usize, String)>,
}

/// Worker threads repeating their call (with `pause` between calls) until finished, each
/// call timed and tagged with the phase current when it started.
pub struct Load {
    epoch: Instant,
    phase: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<Series>>,
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

impl Load {
    /// Start one thread per worker.
    pub fn start(workers: Vec<Worker>, pause: Duration) -> Load {
        let epoch = Instant::now();
        let phase = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = workers
            .into_iter()
            .map(|mut w| {
                let (phase, stop) = (phase.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut series = Series {
                        label: w.label,
                        shard: w.shard,
                        samples: Vec::new(),
                        errors: Vec::new(),
                    };
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let p = phase.load(Ordering::Relaxed) as u32;
                        let start = Instant::now();
                        let result = (w.op)(i);
                        let latency = start.elapsed();
                        let failed = result.is_err();
                        if let Err(e) = result {
                            series.errors.push((series.samples.len(), e));
                        }
                        series.samples.push(Sample {
                            phase: p,
                            start_us: micros(start - epoch),
                            latency_us: micros(latency),
                            failed,
                        });
                        i += 1;
                        if !pause.is_zero() {
                            std::thread::sleep(pause);
                        }
                    }
                    series
                })
            })
            .collect();
        Load {
            epoch,
            phase,
            stop,
            threads,
        }
    }

    /// Calls starting from now on belong to `phase`.
    pub fn set_phase(&self, phase: usize) {
        self.phase.store(phase, Ordering::Relaxed);
    }

    /// µs since the load started.
    pub fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Stop the workers (each finishes its call) and return what they recorded.
    pub fn finish(mut self) -> Vec<Series> {
        self.stop.store(true, Ordering::Relaxed);
        std::mem::take(&mut self.threads)
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| panic!("a load worker panicked"))
            })
            .collect()
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for h in self.threads.drain(..) {
            let _ = h.join();
        }
    }
}

/// Count, errors and exact latency quantiles of some calls.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    /// Calls.
    pub calls: usize,
    /// Failed calls.
    pub errors: usize,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Maximum.
    pub max: Duration,
}

impl Summary {
    /// Summarize `samples`.
    pub fn of<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> Summary {
        let mut errors = 0;
        let mut lat: Vec<u32> = samples
            .into_iter()
            .map(|s| {
                errors += usize::from(s.failed);
                s.latency_us
            })
            .collect();
        lat.sort_unstable();
        let q = |q: f64| {
            let i = ((lat.len() as f64 * q).ceil() as usize).clamp(1, lat.len().max(1)) - 1;
            Duration::from_micros(lat.get(i).copied().map(u64::from).unwrap_or(0))
        };
        Summary {
            calls: lat.len(),
            errors,
            p50: q(0.5),
            p99: q(0.99),
            max: q(1.0),
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

// ---------------------------------------------------------------------------------------
// The isolation scenario

/// What was done to a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `kill -9` (restarted later in the phase, after the failover if it was a primary).
    Kill,
    /// `DEBUG SLEEP`.
    DebugSleep,
    /// `CLIENT PAUSE`.
    ClientPause,
}

/// One fault injected in a phase.
#[derive(Debug, Clone)]
pub struct Fault {
    /// The shard of the node.
    pub shard: usize,
    /// The node.
    pub node: String,
    /// Its role when hit.
    pub role: &'static str,
    /// What was done.
    pub kind: FaultKind,
    /// When, µs since the load started.
    pub at_us: u64,
}

/// One phase of the scenario.
#[derive(Debug, Clone)]
pub struct Phase {
    /// Its name.
    pub name: String,
    /// The faults injected (none in a quiet phase).
    pub faults: Vec<Fault>,
    /// What the scenario saw or did meanwhile (failover seen, node restarted, cluster
    /// healthy), µs since the load started.
    pub events: Vec<(String, u64)>,
}

impl Phase {
    /// The first fault on `shard`, if any.
    pub fn fault_on(&self, shard: usize) -> Option<&Fault> {
        self.faults.iter().find(|f| f.shard == shard)
    }
}

/// Settings of the isolation scenario.
#[derive(Debug, Clone)]
pub struct IsolationOptions {
    /// Quiet time: the baseline, before each fault, after each recovery.
    pub hold: Duration,
    /// Reader threads per shard and per client.
    pub readers_per_shard: usize,
    /// Pause between two reads of one thread.
    pub pause: Duration,
    /// The clients' call deadline.
    pub timeout: Duration,
    /// The clients' connect timeout.
    pub connect_timeout: Duration,
    /// `DEBUG SLEEP` length.
    pub debug_sleep: Duration,
    /// `CLIENT PAUSE` length.
    pub client_pause: Duration,
    /// Run a `read_from = "primary"` client's readers alongside, for comparison.
    pub with_primary_client: bool,
    /// Redis' default `cluster-require-full-coverage yes`: while a dead primary's slots are
    /// not yet taken over, every node answers CLUSTERDOWN, so every shard stalls until the
    /// failover whatever the client does. Off by default (`no`: the other shards keep being
    /// served), which is what isolation needs from the servers.
    pub require_full_coverage: bool,
}

impl Default for IsolationOptions {
    fn default() -> Self {
        IsolationOptions {
            hold: Duration::from_secs(1),
            readers_per_shard: 1,
            pause: Duration::from_millis(1),
            timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_millis(300),
            debug_sleep: Duration::from_secs(2),
            client_pause: Duration::from_millis(2000),
            with_primary_client: true,
            require_full_coverage: false,
        }
    }
}

/// Label of the `prefer_replica` client's readers.
pub const PREFER_REPLICA: &str = "prefer_replica";
/// Label of the `primary` client's readers.
pub const PRIMARY: &str = "primary";

/// What an isolation run recorded.
#[derive(Debug, Clone)]
pub struct IsolationRun {
    /// The settings.
    pub options: IsolationOptions,
    /// Number of shards.
    pub shards: usize,
    /// The phases, in order (a sample's `phase` indexes this).
    pub phases: Vec<Phase>,
    /// Every reader's calls.
    pub series: Vec<Series>,
    /// Each client's cluster stats at the end (label, stats).
    pub cluster_stats: Vec<(String, ClusterStats)>,
}

impl IsolationRun {
    /// Samples of `label` on the shards `shards` in phase `phase`.
    pub fn samples<'a: 'b, 'b>(
        &'a self,
        label: &'b str,
        shards: &'b [usize],
        phase: usize,
    ) -> impl Iterator<Item = &'a Sample> + 'b {
        self.series
            .iter()
            .filter(move |s| s.label == label && shards.contains(&s.shard))
            .flat_map(|s| s.samples.iter())
            .filter(move |s| s.phase as usize == phase)
    }

    /// Error messages of `label` on `shard` in `phase`.
    pub fn errors(&self, label: &str, shard: usize, phase: usize) -> Vec<String> {
        self.series
            .iter()
            .filter(|s| s.label == label && s.shard == shard)
            .flat_map(|s| {
                s.errors
                    .iter()
                    .filter(|(i, _)| s.samples[*i].phase as usize == phase)
                    .map(|(_, e)| e.clone())
            })
            .collect()
    }

    /// Calls of `phase` that took longer than `over`: (label, shard, start µs, latency µs,
    /// failed), by start time.
    pub fn slow(&self, phase: usize, over: Duration) -> Vec<(&str, usize, u32, u32, bool)> {
        let over = micros(over);
        let mut out: Vec<_> = self
            .series
            .iter()
            .flat_map(|s| {
                s.samples
                    .iter()
                    .filter(move |x| x.phase as usize == phase && x.latency_us > over)
                    .map(move |x| {
                        (
                            s.label.as_str(),
                            s.shard,
                            x.start_us,
                            x.latency_us,
                            x.failed,
                        )
                    })
            })
            .collect();
        out.sort_by_key(|x| x.2);
        out
    }

    /// A timeline of each phase's faults and events and of its calls slower than `over`
    /// (seconds since the load started).
    pub fn timeline(&self, over: Duration) -> String {
        let mut out = String::new();
        for (p, phase) in self.phases.iter().enumerate() {
            let mut lines: Vec<(u64, String)> = Vec::new();
            for f in &phase.faults {
                let what = format!("{:?} shard {}'s {} {}", f.kind, f.shard, f.role, f.node);
                lines.push((f.at_us, what));
            }
            for (what, at) in &phase.events {
                lines.push((*at, what.clone()));
            }
            for (label, shard, start, latency, failed) in self.slow(p, over) {
                let what = format!(
                    "  {label} read on shard {shard}: {:.1} ms{}",
                    f64::from(latency) / 1e3,
                    if failed { " (failed)" } else { "" }
                );
                lines.push((u64::from(start), what));
            }
            lines.sort_by_key(|l| l.0);
            let _ = writeln!(out, "{}:", phase.name);
            for (at, what) in lines {
                let _ = writeln!(out, "  {:8.3} s  {what}", at as f64 / 1e6);
            }
        }
        out
    }

    /// The client labels present.
    pub fn labels(&self) -> Vec<&'static str> {
        let mut labels = vec![PREFER_REPLICA];
        if self.options.with_primary_client {
            labels.push(PRIMARY);
        }
        labels
    }

    /// A Markdown table of calls, errors, p50, p99 and max per phase and client: one row per
    /// shard (`per_shard`), or one for the shards a phase hit and one for the others.
    pub fn table(&self, per_shard: bool) -> String {
        let mut out = String::from(
            "| phase | client | shards | calls | errors | p50 ms | p99 ms | max ms |\n|---|---|---|---:|---:|---:|---:|---:|\n",
        );
        for (p, phase) in self.phases.iter().enumerate() {
            for label in self.labels() {
                let affected: Vec<usize> = (0..self.shards)
                    .filter(|&s| phase.fault_on(s).is_some())
                    .collect();
                let others: Vec<usize> =
                    (0..self.shards).filter(|s| !affected.contains(s)).collect();
                let groups: Vec<(String, Vec<usize>)> = if per_shard {
                    (0..self.shards)
                        .map(|s| {
                            let tag = if affected.contains(&s) { " (hit)" } else { "" };
                            (format!("{s}{tag}"), vec![s])
                        })
                        .collect()
                } else {
                    [("affected", affected), ("other", others)]
                        .into_iter()
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(name, v)| (format!("{name} {v:?}"), v))
                        .collect()
                };
                for (name, shards) in groups {
                    let s = Summary::of(self.samples(label, &shards, p));
                    let _ = writeln!(
                        out,
                        "| {} | {label} | {name} | {} | {} | {} | {} | {} |",
                        phase.name,
                        s.calls,
                        s.errors,
                        ms(s.p50),
                        ms(s.p99),
                        ms(s.max)
                    );
                }
            }
        }
        out
    }
}

/// A fault to inject: (shard, on its primary rather than its replica, what).
type Plan = (usize, bool, FaultKind);

/// The isolation phases: name, then the faults in order, 300 ms apart.
const ISOLATION_PHASES: [(&str, &[Plan]); 6] = [
    ("baseline", &[]),
    ("kill -9 primary", &[(0, true, FaultKind::Kill)]),
    (
        "kill -9 replica, then primary",
        &[(1, false, FaultKind::Kill), (2, true, FaultKind::Kill)],
    ),
    ("DEBUG SLEEP replica", &[(0, false, FaultKind::DebugSleep)]),
    (
        "CLIENT PAUSE replica",
        &[(1, false, FaultKind::ClientPause)],
    ),
    ("after", &[]),
];

/// Hit the primary (or replica) of `shard` with `kind`; returns when a stall is over, at once
/// after a kill.
fn inject(
    cluster: &mut Cluster,
    shards: &Shards,
    shard: usize,
    primary: bool,
    kind: FaultKind,
    load: &Load,
    options: &IsolationOptions,
) -> Fault {
    let node = if primary {
        shards.primary(cluster, shard)
    } else {
        shards.replica(cluster, shard)
    };
    let i = cluster.index_of(&node);
    let at_us = load.now_us();
    match kind {
        FaultKind::Kill => cluster.nodes[i].kill(),
        FaultKind::DebugSleep => {
            let seconds = options.debug_sleep.as_secs_f64();
            let sleeper = cluster.nodes[i].debug_sleep_in_background(seconds);
            assert!(sleeper.join().is_ok(), "DEBUG SLEEP on {node} failed");
        }
        FaultKind::ClientPause => {
            let ms = options.client_pause.as_millis().to_string();
            cluster.nodes[i].cmd(&["CLIENT", "PAUSE", &ms]);
            std::thread::sleep(options.client_pause);
        }
    }
    Fault {
        shard,
        node,
        role: if primary { "primary" } else { "replica" },
        kind,
        at_us,
    }
}

/// Start a 3 + 3 cluster (`cluster-require-full-coverage` as asked), run readers on every shard (a `prefer_replica` client, and a
/// `primary` one if asked), and go through the phases: baseline; kill -9 of one shard's
/// primary (through the failover, then restarted); kill -9 of a replica and then of another
/// shard's primary; `DEBUG SLEEP` of a replica; `CLIENT PAUSE` of another replica; quiet
/// again. Each fault phase waits until the cluster is healthy and then holds for
/// `options.hold`.
pub fn run_isolation(options: &IsolationOptions) -> IsolationRun {
    let coverage = if options.require_full_coverage {
        "yes"
    } else {
        "no"
    };
    let server = ServerOptions {
        extra: vec![("cluster-require-full-coverage".into(), coverage.into())],
        ..ServerOptions::default()
    };
    let mut cluster = Cluster::start_with(3, 1, server);
    let seeds = cluster.addrs();
    let client = |read_from| {
        cluster_client(
            &seeds,
            read_from,
            options.timeout,
            options.connect_timeout,
            None,
        )
    };
    let writer = client(ReadFrom::Primary);
    let shards = Shards::find(&cluster, &writer, "iso:", 50);
    for k in shards.keys.iter().flatten() {
        writer
            .query(["SET", k, "v"])
            .unwrap_or_else(|e| panic!("SET {k}: {e}"));
    }
    let mut clients = vec![(PREFER_REPLICA, client(ReadFrom::PreferReplica))];
    if options.with_primary_client {
        clients.push((PRIMARY, writer.clone()));
    }
    // Topology and one connection per node known before the load starts.
    for (_, c) in &clients {
        for k in &shards.keys {
            c.query(["GET", &k[0]])
                .unwrap_or_else(|e| panic!("warm-up GET: {e}"));
        }
    }
    let mut workers = Vec::new();
    for (label, c) in &clients {
        for (shard, keys) in shards.keys.iter().enumerate() {
            for t in 0..options.readers_per_shard {
                let (c, keys) = (c.clone(), keys.clone());
                workers.push(Worker {
                    label: (*label).to_string(),
                    shard,
                    op: Box::new(move |i| {
                        let key = &keys[((i as usize) * 7 + t) % keys.len()];
                        c.query(["GET", key]).map(|_| ()).map_err(|e| e.to_string())
                    }),
                });
            }
        }
    }
    let load = Load::start(workers, options.pause);
    let mut phases: Vec<Phase> = Vec::new();
    for (name, faults) in ISOLATION_PHASES {
        load.set_phase(phases.len());
        let mut phase = Phase {
            name: name.to_string(),
            faults: Vec::new(),
            events: Vec::new(),
        };
        let mut event = |what: String| phase.events.push((what, load.now_us()));
        let mut killed = Vec::new();
        let mut hit = Vec::new();
        for (k, &(shard, primary, kind)) in faults.iter().enumerate() {
            if k > 0 {
                std::thread::sleep(Duration::from_millis(300));
            }
            let fault = inject(&mut cluster, &shards, shard, primary, kind, &load, options);
            if kind == FaultKind::Kill {
                killed.push((shard, primary, fault.node.clone()));
            } else {
                event(format!("{kind:?} over"));
            }
            hit.push(fault);
        }
        for (shard, primary, node) in &killed {
            if *primary {
                wait_promoted(&cluster, shards.firsts[*shard], node);
                event(format!("shard {shard} failed over from {node}"));
            }
        }
        for (_, _, node) in &killed {
            let i = cluster.index_of(node);
            cluster.nodes[i].restart();
            event(format!("{node} restarted"));
        }
        if !hit.is_empty() {
            cluster.wait_healthy();
            event("cluster healthy".into());
        }
        phase.faults = hit;
        phases.push(phase);
        std::thread::sleep(options.hold);
    }
    let series = load.finish();
    IsolationRun {
        options: options.clone(),
        shards: shards.len(),
        phases,
        series,
        cluster_stats: clients
            .iter()
            .map(|(l, c)| ((*l).to_string(), c.stats().cluster))
            .collect(),
    }
}
