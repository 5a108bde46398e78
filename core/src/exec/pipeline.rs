//! Pipelines and multi-node commands: plan every command, put its (sub-)requests in the
//! per-node batches, run the batches once, then assemble each command's reply — merged
//! where it was split — in submission order (G5).

use std::time::Instant;

use crate::client::Core;
use crate::command::Cmd;
use crate::command::table::{CommandSpec, Merge};
use crate::error::{Error, ErrorKind, Result};
use crate::reply::Value;
use crate::reply::merge::{Part, merge};
use crate::router::plan::{self, Plan};
use crate::router::scan_cursor;

use super::batch::{self, Batch};

/// How one command's reply is put together after the batches ran.
enum Assembly {
    Ready(Result<Value>),
    Single {
        batch: usize,
        sub: usize,
    },
    Split {
        merge: Merge,
        key_count: usize,
        parts: Vec<(usize, usize, usize, Vec<usize>)>,
    },
    Fanout {
        merge: Merge,
        parts: Vec<(usize, usize, usize)>,
    },
    Scan {
        node: usize,
        batch: usize,
        sub: usize,
    },
    RandomKey,
}

struct Batches {
    by_node: Vec<Option<usize>>,
    list: Vec<Batch>,
}

impl Batches {
    fn new(nodes: usize) -> Batches {
        Batches {
            by_node: vec![None; nodes],
            list: Vec::new(),
        }
    }

    fn push(
        &mut self,
        node: usize,
        readonly: bool,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> (usize, usize) {
        let b = match self.by_node[node] {
            Some(b) => b,
            None => {
                self.list.push(Batch::new(node));
                self.by_node[node] = Some(self.list.len() - 1);
                self.list.len() - 1
            }
        };
        (b, self.list[b].push(readonly, write))
    }
}

impl Core {
    /// Run a pipeline of commands.
    pub(crate) fn pipeline(&self, cmds: &[Cmd]) -> Vec<Result<Value>> {
        let start = Instant::now();
        let deadline = start + self.config.timeout;
        let items: Vec<_> = cmds
            .iter()
            .map(|cmd| match plan::resolve(cmd) {
                Ok(spec) => (Some(spec), cmd, plan::plan(spec, cmd, &self.topology)),
                Err(e) => (None, cmd, Err(e)),
            })
            .collect();
        let specs: Vec<_> = items.iter().map(|(s, _, _)| *s).collect();
        let results = self.run_planned(items, deadline);
        for (spec, r) in specs.into_iter().zip(&results) {
            self.record(spec, start, r);
        }
        results
    }

    /// Execute planned commands together.
    pub(crate) fn run_planned(
        &self,
        items: Vec<(Option<&'static CommandSpec>, &Cmd, Result<Plan>)>,
        deadline: Instant,
    ) -> Vec<Result<Value>> {
        let mut batches = Batches::new(self.topology.nodes().len());
        let mut assembly = Vec::with_capacity(items.len());
        for (spec, cmd, planned) in &items {
            let readonly = spec.is_some_and(|s| s.is_readonly());
            let a = match planned {
                Err(e) => Assembly::Ready(Err(e.clone())),
                Ok(Plan::Single(node)) => {
                    let (batch, sub) = batches.push(*node, readonly, |b| cmd.write_resp(b));
                    Assembly::Single { batch, sub }
                }
                Ok(Plan::AnyNode) => {
                    let (batch, sub) = batches.push(0, readonly, |b| cmd.write_resp(b));
                    Assembly::Single { batch, sub }
                }
                Ok(Plan::Split {
                    merge,
                    step,
                    positions,
                    groups,
                }) => {
                    let parts = groups
                        .iter()
                        .map(|(node, ordinals)| {
                            let (batch, sub) = batches.push(*node, readonly, |b| {
                                plan::split_part(cmd, *step, positions, ordinals, b)
                            });
                            (*node, batch, sub, ordinals.clone())
                        })
                        .collect();
                    Assembly::Split {
                        merge: *merge,
                        key_count: positions.len(),
                        parts,
                    }
                }
                Ok(Plan::Fanout { merge, nodes }) => {
                    let parts = nodes
                        .iter()
                        .map(|&node| {
                            let (batch, sub) = batches.push(node, readonly, |b| cmd.write_resp(b));
                            (node, batch, sub)
                        })
                        .collect();
                    Assembly::Fanout {
                        merge: *merge,
                        parts,
                    }
                }
                Ok(Plan::Scan { node, node_cursor }) => {
                    let (batch, sub) =
                        batches.push(*node, true, |b| plan::scan_request(cmd, *node_cursor, b));
                    Assembly::Scan {
                        node: *node,
                        batch,
                        sub,
                    }
                }
                Ok(Plan::RandomKey) => Assembly::RandomKey,
            };
            assembly.push(a);
        }

        batch::run(self, &mut batches.list, deadline);

        let list = &mut batches.list;
        let nodes = self.topology.nodes();
        assembly
            .into_iter()
            .zip(&items)
            .map(|(a, (_, cmd, _))| match a {
                Assembly::Ready(r) => r,
                Assembly::Single { batch, sub } => list[batch].take(sub),
                Assembly::Split {
                    merge: rule,
                    key_count,
                    parts,
                } => {
                    let parts = parts
                        .into_iter()
                        .map(|(node, batch, sub, key_ordinals)| Part {
                            node: nodes[node].addr.clone(),
                            key_ordinals,
                            reply: list[batch].take(sub),
                        })
                        .collect();
                    merge(rule, key_count, parts)
                }
                Assembly::Fanout { merge: rule, parts } => {
                    let parts = parts
                        .into_iter()
                        .map(|(node, batch, sub)| Part {
                            node: nodes[node].addr.clone(),
                            key_ordinals: Vec::new(),
                            reply: list[batch].take(sub),
                        })
                        .collect();
                    merge(rule, 0, parts)
                }
                Assembly::Scan { node, batch, sub } => list[batch]
                    .take(sub)
                    .and_then(|reply| rewrite_scan_reply(reply, node, nodes.len())),
                Assembly::RandomKey => self.random_key(cmd, deadline),
            })
            .collect()
    }
}

/// Replace a node's `[next cursor, keys]` cursor with the combined cursor.
fn rewrite_scan_reply(reply: Value, node: usize, nodes: usize) -> Result<Value> {
    let bad = || Error::new(ErrorKind::Protocol, "SCAN reply is not [cursor, keys]");
    let mut items = reply.into_array().ok_or_else(bad)?;
    if items.len() != 2 {
        return Err(bad());
    }
    let next: u64 = items[0]
        .as_int()
        .and_then(|i| u64::try_from(i).ok())
        .or_else(|| {
            items[0]
                .as_bytes()
                .and_then(|b| std::str::from_utf8(b).ok()?.parse().ok())
        })
        .ok_or_else(bad)?;
    let combined = scan_cursor::encode(node, next, nodes)?;
    items[0] = Value::Bulk(combined.to_string().into_bytes());
    Ok(Value::Array(items))
}
