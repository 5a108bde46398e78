//! Pipelines (and commands that split or fan out): plan every command, turn each plan into
//! engine jobs (one per target), run them together, then assemble each command's reply —
//! merged where it was split or fanned out — in submission order (G5).

use std::time::Instant;

use crate::command::table::{CommandSpec, Merge};
use crate::command::{Cmd, blocking};
use crate::error::{Error, ErrorKind, Result};
use crate::reply::Value;
use crate::reply::merge::{Part, merge};
use crate::router::plan::{self, Plan};
use crate::router::scan_cursor;
use crate::topology::target::Target;

use super::engine::{Job, Request, Start, run_jobs};
use super::keyspace::{self, layout};
use super::refresh;
use crate::core::Core;

/// How one command's reply is put together after the jobs ran. Indices are into the jobs;
/// plans are borrowed (the key ordinals of split parts, the node labels of fan-outs).
enum Assembly<'p> {
    Ready(Result<Value>),
    Single(usize),
    Split {
        merge: Merge,
        key_count: usize,
        parts: Vec<(usize, &'p [usize])>,
    },
    Fanout {
        merge: Merge,
        parts: Vec<(usize, &'p str)>,
    },
    Scan {
        job: usize,
        index: usize,
        count: usize,
    },
    RandomKey(Vec<Target>),
}

/// A command with its table row (if known) and its plan.
type Planned<'c> = (Option<&'static CommandSpec>, &'c Cmd, Result<Plan>);

/// Plan `cmds` against the current topology; also returns what the engine may reuse
/// (the snapshot, and `started` unless a topology refresh blocked meanwhile).
fn plan_all<'c>(
    core: &Core,
    cmds: &'c [Cmd],
    started: Instant,
    deadline: Instant,
) -> (Vec<Planned<'c>>, Start) {
    let (snapshot, now) = match core.topology.cluster() {
        Some(_) => match refresh::snapshot_at(core, Some(started), deadline) {
            Ok((s, refreshed)) => (Some(s), if refreshed { None } else { Some(started) }),
            Err(e) => {
                let planned = cmds
                    .iter()
                    .map(|c| (plan::resolve(c).ok(), c, Err(e.clone())))
                    .collect();
                return (planned, Start::default());
            }
        },
        None => (None, Some(started)),
    };
    let layout = layout(core, snapshot.as_deref());
    let planned = cmds
        .iter()
        .map(|cmd| match plan::resolve(cmd) {
            Ok(spec) => (Some(spec), cmd, plan::plan(spec, cmd, &layout)),
            Err(e) => (None, cmd, Err(e)),
        })
        .collect();
    (planned, Start { now, snapshot })
}

/// Run commands (a pipeline, or a single command) and record their stats.
pub(crate) fn execute_all(core: &Core, cmds: &[Cmd]) -> Vec<Result<Value>> {
    let start = Instant::now();
    let deadline = start + core.config.timeout;
    let (planned, mut run_start) = plan_all(core, cmds, start, deadline);
    // A blocking command in the batch may wait on its server that much longer.
    let deadline = deadline
        + planned
            .iter()
            .filter_map(|(spec, cmd, _)| spec.map(|s| blocking::server_wait(s, cmd)))
            .max()
            .unwrap_or_default();
    let mut jobs: Vec<Job<'_>> = Vec::with_capacity(cmds.len());
    let mut assembly = Vec::with_capacity(cmds.len());
    for (spec, cmd, p) in &planned {
        let readonly = spec.is_some_and(|s| s.is_readonly());
        let cmd: &Cmd = cmd;
        let mut push = |target: Target, request| {
            jobs.push(Job {
                target,
                readonly,
                request,
            });
            jobs.len() - 1
        };
        let a = match p {
            Err(e) => Assembly::Ready(Err(e.clone())),
            Ok(Plan::Single(target)) => Assembly::Single(push(*target, Request::Cmd(cmd))),
            Ok(Plan::Split {
                merge,
                step,
                positions,
                groups,
            }) => {
                let parts = groups
                    .iter()
                    .map(|(target, ordinals)| {
                        let request = Request::Part {
                            cmd,
                            step: *step,
                            positions,
                            ordinals,
                        };
                        (push(*target, request), ordinals.as_slice())
                    })
                    .collect();
                Assembly::Split {
                    merge: *merge,
                    key_count: positions.len(),
                    parts,
                }
            }
            Ok(Plan::Fanout { merge, targets }) => {
                let parts = targets
                    .iter()
                    .map(|(target, label)| (push(*target, Request::Cmd(cmd)), label.as_str()))
                    .collect();
                Assembly::Fanout {
                    merge: *merge,
                    parts,
                }
            }
            Ok(Plan::Scan {
                target,
                index,
                count,
                node_cursor,
            }) => {
                let job = push(
                    *target,
                    Request::Bytes(plan::scan_request(cmd, *node_cursor)),
                );
                Assembly::Scan {
                    job,
                    index: *index,
                    count: *count,
                }
            }
            Ok(Plan::RandomKey) => {
                // May have refreshed the topology: the clock reading is stale.
                run_start.now = None;
                Assembly::RandomKey(keyspace::targets(core, deadline))
            }
        };
        assembly.push(a);
    }

    let mut replies = run_jobs(core, &jobs, run_start, deadline);
    let mut take = |i: usize| {
        replies
            .get_mut(i)
            .map(|r| std::mem::replace(r, Ok(Value::Nil)))
            .unwrap_or_else(|| Err(Error::new(ErrorKind::Protocol, "missing reply")))
    };

    let results: Vec<Result<Value>> = assembly
        .into_iter()
        .zip(&planned)
        .map(|(a, (_, cmd, _))| match a {
            Assembly::Ready(r) => r,
            Assembly::Single(j) => take(j),
            Assembly::Split {
                merge: rule,
                key_count,
                parts,
            } => {
                let parts = parts
                    .into_iter()
                    .map(|(j, key_ordinals)| Part {
                        node: "",
                        key_ordinals,
                        reply: take(j),
                    })
                    .collect();
                merge(rule, key_count, parts)
            }
            Assembly::Fanout { merge: rule, parts } => {
                let parts = parts
                    .into_iter()
                    .map(|(j, node)| Part {
                        node,
                        key_ordinals: &[],
                        reply: take(j),
                    })
                    .collect();
                merge(rule, 0, parts)
            }
            Assembly::Scan { job, index, count } => {
                take(job).and_then(|r| rewrite_scan_reply(r, index, count))
            }
            Assembly::RandomKey(targets) => keyspace::random_key(core, cmd, &targets, deadline),
        })
        .collect();
    for ((spec, _, _), r) in planned.iter().zip(&results) {
        core.record(*spec, start, r);
    }
    results
}

/// Replace a node's `[next cursor, keys]` cursor with the combined cursor.
fn rewrite_scan_reply(reply: Value, index: usize, count: usize) -> Result<Value> {
    let bad = || Error::new(ErrorKind::Protocol, "SCAN reply is not [cursor, keys]");
    let mut items = reply.into_array().ok_or_else(bad)?;
    if items.len() != 2 {
        return Err(bad());
    }
    let next: u64 = items[0]
        .as_int()
        .and_then(|i| u64::try_from(i).ok())
        .ok_or_else(bad)?;
    let combined = scan_cursor::encode(index, next, count)?;
    items[0] = Value::Bulk(combined.to_string().into_bytes());
    Ok(Value::Array(items))
}
