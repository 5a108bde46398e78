//! The keyspace as execution sees it: the planner's [`Layout`] of a core, the primaries
//! that make up the keyspace, RANDOMKEY's walk over them, and the node that holds a key.

use std::time::Instant;

use super::engine::{Job, Request, Start, run_jobs};
use super::refresh;
use crate::command::Cmd;
use crate::core::Core;
use crate::error::Result;
use crate::reply::Value;
use crate::router::plan::Layout;
use crate::topology::cluster::snapshot::Snapshot;
use crate::topology::target::{NodeNames, Target};

/// What the planner needs, for this core and snapshot.
pub(crate) fn layout<'a>(core: &'a Core, snapshot: Option<&'a Snapshot>) -> Layout<'a> {
    Layout {
        topology: &core.topology,
        names: &core.nodes,
        hash_tags: core.config.hash_tags(),
        snapshot,
    }
}

/// The keyspace's primaries as targets.
pub(crate) fn targets(core: &Core, deadline: Instant) -> Vec<Target> {
    let snapshot = core
        .topology
        .cluster()
        .and_then(|_| refresh::snapshot(core, deadline).ok());
    layout(core, snapshot.as_deref())
        .primaries()
        .into_iter()
        .map(|(t, _)| t)
        .collect()
}

/// RANDOMKEY: a random primary first, then the others until one has a key.
pub(crate) fn random_key(
    core: &Core,
    cmd: &Cmd,
    targets: &[Target],
    deadline: Instant,
) -> Result<Value> {
    if targets.is_empty() {
        return Ok(Value::Nil);
    }
    let start = (core.next_random() % targets.len() as u64) as usize;
    let mut first_error = None;
    for i in 0..targets.len() {
        let job = Job {
            target: targets[(start + i) % targets.len()],
            readonly: true,
            request: Request::Cmd(cmd),
        };
        match run_jobs(core, std::slice::from_ref(&job), Start::default(), deadline).pop() {
            Some(Ok(Value::Nil)) | None => {}
            Some(Ok(v)) => return Ok(v),
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(Value::Nil), Err)
}

/// The address of the node holding `key` (the primary in cluster mode).
pub(crate) fn primary_addr(core: &Core, key: &[u8]) -> Result<String> {
    let target = core.topology.unit_of(key, core.config.hash_tags());
    let id = primary_of(core, target, core.deadline())?;
    Ok(core.nodes.addr(id))
}

/// The node a write to `target` goes to now.
pub(crate) fn primary_of(core: &Core, target: Target, deadline: Instant) -> Result<usize> {
    match target {
        Target::Node(id) => Ok(id),
        Target::Any => match core.topology.cluster() {
            None => Ok(core.topology.static_nodes().first().copied().unwrap_or(0)),
            Some(_) => refresh::snapshot(core, deadline)?
                .shards
                .first()
                .map(|s| s.primary)
                .ok_or_else(|| {
                    crate::Error::new(
                        crate::ErrorKind::Server,
                        "CLUSTERDOWN no shard in the topology",
                    )
                }),
        },
        Target::Slot(slot) | Target::PrimaryOf(slot) => {
            let snapshot = refresh::snapshot(core, deadline)?;
            snapshot.shard_of(slot).map(|s| s.primary).ok_or_else(|| {
                crate::Error::new(
                    crate::ErrorKind::Server,
                    format!("CLUSTERDOWN Hash slot {slot} not served"),
                )
            })
        }
    }
}
