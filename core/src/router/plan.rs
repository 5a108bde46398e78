//! The plan of one command: where it goes and how replies merge, decided from the command
//! table row alone. Cross-shard and argument errors are found here, before anything is sent.

use crate::command::Cmd;
use crate::command::keys::{check_arity, for_each_key, key_positions};
use crate::command::table::{self, CommandSpec, Merge, Route};
use crate::error::{Error, ErrorKind, Result};
use crate::topology::Topology;

use super::scan_cursor;

/// Where a command goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The whole command to one node.
    Single(usize),
    /// Any one node (keyless): the first reachable.
    AnyNode,
    /// Split per node. `groups`: node → ordinals of the keys it gets; `positions[k]` is the
    /// argument index of key `k`; `step` arguments per key.
    Split {
        merge: Merge,
        step: usize,
        positions: Vec<usize>,
        groups: Vec<(usize, Vec<usize>)>,
    },
    /// The whole command to each of `nodes`.
    Fanout { merge: Merge, nodes: Vec<usize> },
    /// SCAN of one node's cursor.
    Scan { node: usize, node_cursor: u64 },
    /// RANDOMKEY over the nodes.
    RandomKey,
}

/// Look up a command (its subcommand for containers like `CONFIG GET`).
pub(crate) fn resolve(cmd: &Cmd) -> Result<&'static CommandSpec> {
    let name = cmd
        .get(0)
        .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "empty command"))?;
    let spec = table::lookup(name).ok_or_else(|| {
        Error::new(
            ErrorKind::Unsupported,
            format!(
                "unknown command '{}' (not in shardis' command table, so it cannot be routed)",
                String::from_utf8_lossy(name)
            ),
        )
    })?;
    if spec.subcommands
        && let Some(sub) = cmd.get(1)
        && let Some(s) = table::lookup_sub(spec.name, sub)
    {
        return Ok(s);
    }
    Ok(spec)
}

fn cross_shard(
    spec: &CommandSpec,
    cmd: &Cmd,
    a: (usize, usize),
    b: (usize, usize),
    topo: &Topology,
) -> Error {
    let key = |i: usize| String::from_utf8_lossy(cmd.get(i).unwrap_or_default()).into_owned();
    let hint = if topo.hash_tags() {
        "give them a common {hash tag}"
    } else {
        "turn on hash_tags and give them a common {hash tag}"
    };
    Error::new(
        ErrorKind::CrossShard,
        format!(
            "keys of '{}' are on different nodes ('{}' on {}, '{}' on {}); nothing was sent; {hint}",
            spec.name,
            key(a.0),
            topo.node(a.1).addr,
            key(b.0),
            topo.node(b.1).addr
        ),
    )
}

/// The single node of every key of `cmd`, `None` if it has no keys.
pub(crate) fn single_node(spec: &CommandSpec, cmd: &Cmd, topo: &Topology) -> Result<Option<usize>> {
    let mut first: Option<(usize, usize)> = None;
    let mut conflict: Option<(usize, usize)> = None;
    for_each_key(spec, cmd, |pos| {
        if conflict.is_some() {
            return;
        }
        let node = topo.node_for_key(cmd.get(pos).unwrap_or_default());
        match first {
            None => first = Some((pos, node)),
            Some((_, n)) if n != node => conflict = Some((pos, node)),
            Some(_) => {}
        }
    })?;
    if let (Some(a), Some(b)) = (first, conflict) {
        return Err(cross_shard(spec, cmd, a, b, topo));
    }
    Ok(first.map(|(_, n)| n))
}

/// Plan `cmd` (already resolved to `spec`).
pub(crate) fn plan(spec: &'static CommandSpec, cmd: &Cmd, topo: &Topology) -> Result<Plan> {
    check_arity(spec, cmd)?;
    let n = topo.nodes().len();
    match spec.route {
        Route::Keyed => Ok(match single_node(spec, cmd, topo)? {
            Some(node) => Plan::Single(node),
            None => Plan::AnyNode,
        }),
        Route::Split { step, merge } => {
            let positions = key_positions(spec, cmd)?;
            let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
            for (ordinal, &pos) in positions.iter().enumerate() {
                let node = topo.node_for_key(cmd.get(pos).unwrap_or_default());
                match groups.iter_mut().find(|(g, _)| *g == node) {
                    Some((_, ords)) => ords.push(ordinal),
                    None => groups.push((node, vec![ordinal])),
                }
            }
            if groups.len() == 1 {
                return Ok(Plan::Single(groups[0].0));
            }
            Ok(Plan::Split {
                merge,
                step: usize::from(step.max(1)),
                positions,
                groups,
            })
        }
        Route::AllShards(merge) | Route::AllNodes(merge) => Ok(if n == 1 {
            Plan::Single(0)
        } else {
            Plan::Fanout {
                merge,
                nodes: (0..n).collect(),
            }
        }),
        Route::AnyNode => Ok(Plan::AnyNode),
        Route::Scan => {
            let cursor = cmd.get(1).unwrap_or(b"0");
            let (node, node_cursor) = scan_cursor::decode(cursor, n)?;
            Ok(Plan::Scan { node, node_cursor })
        }
        Route::RandomKey => Ok(Plan::RandomKey),
        Route::Unsupported(why) => Err(Error::new(
            ErrorKind::Unsupported,
            format!("'{}' is not supported through shardis: {why}", spec.name),
        )),
    }
}

/// The request of one split part: the command name plus the arguments of its keys.
pub(crate) fn split_part(
    cmd: &Cmd,
    step: usize,
    positions: &[usize],
    ordinals: &[usize],
    out: &mut Vec<u8>,
) {
    let mut indices = Vec::with_capacity(ordinals.len() * step);
    for &k in ordinals {
        let p = positions[k];
        indices.extend(p..p + step);
    }
    cmd.write_resp_subset(cmd.get(0).unwrap_or_default(), &indices, out);
}

/// SCAN with the node's own cursor in place of the client's.
pub(crate) fn scan_request(cmd: &Cmd, node_cursor: u64, out: &mut Vec<u8>) {
    let cursor = node_cursor.to_string();
    let args: Vec<&[u8]> = cmd
        .args()
        .enumerate()
        .map(|(i, a)| if i == 1 { cursor.as_bytes() } else { a })
        .collect();
    crate::command::write_command(out, &args);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Mode};

    fn topo(n: usize, tags: bool) -> Topology {
        let mut b = Config::builder().mode(Mode::RingHash).hash_tags(tags);
        for i in 0..n {
            b = b.node(&format!("127.0.0.1:{}", 7001 + i));
        }
        Topology::from_config(&b.build().unwrap()).unwrap()
    }

    fn plan_of(t: &Topology, args: &[&str]) -> Result<Plan> {
        let cmd = Cmd::from_args(args);
        plan(resolve(&cmd)?, &cmd, t)
    }

    #[test]
    fn keyed_commands_go_to_their_node() {
        let t = topo(3, false);
        let node = t.node_for_key(b"user:1");
        assert_eq!(plan_of(&t, &["GET", "user:1"]).unwrap(), Plan::Single(node));
        assert_eq!(
            plan_of(&t, &["EVAL", "return 1", "0"]).unwrap(),
            Plan::AnyNode
        );
    }

    #[test]
    fn mget_splits_and_single_node_mget_does_not() {
        let t = topo(3, true);
        match plan_of(&t, &["MGET", "a", "b", "c", "d", "e", "f"]).unwrap() {
            Plan::Split {
                groups, positions, ..
            } => {
                assert!(groups.len() > 1);
                assert_eq!(positions, vec![1, 2, 3, 4, 5, 6]);
                let total: usize = groups.iter().map(|(_, g)| g.len()).sum();
                assert_eq!(total, 6);
            }
            other => panic!("{other:?}"),
        }
        let node = t.node_for_key(b"t");
        assert_eq!(
            plan_of(&t, &["MGET", "{t}a", "{t}b"]).unwrap(),
            Plan::Single(node)
        );
    }

    #[test]
    fn cross_shard_is_an_error_naming_keys_and_nodes() {
        let t = topo(3, false);
        // Find two keys on different nodes.
        let (a, b) = (0..100)
            .map(|i| format!("k{i}"))
            .find_map(|k| {
                let other = (0..100)
                    .map(|j| format!("o{j}"))
                    .find(|o| t.node_for_key(o.as_bytes()) != t.node_for_key(k.as_bytes()))?;
                Some((k, other))
            })
            .unwrap();
        let e = plan_of(&t, &["RENAME", &a, &b]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CrossShard);
        assert!(
            e.message().contains(&a) && e.message().contains("hash_tags"),
            "{e}"
        );
        let e = plan_of(&t, &["MSETNX", &a, "1", &b, "2"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CrossShard);
    }

    #[test]
    fn whole_keyspace_and_unsupported() {
        let t = topo(3, false);
        assert_eq!(
            plan_of(&t, &["DBSIZE"]).unwrap(),
            Plan::Fanout {
                merge: Merge::Sum,
                nodes: vec![0, 1, 2]
            }
        );
        assert_eq!(
            plan_of(&t, &["SCAN", "4"]).unwrap(),
            Plan::Scan {
                node: 1,
                node_cursor: 1
            }
        );
        assert_eq!(
            plan_of(&t, &["MULTI"]).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        assert_eq!(
            plan_of(&t, &["NOSUCH"]).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        assert_eq!(
            plan_of(&t, &["GET"]).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn split_part_keeps_values_with_keys() {
        let cmd = Cmd::from_args(["MSET", "a", "1", "b", "2", "c", "3"]);
        let mut out = Vec::new();
        split_part(&cmd, 2, &[1, 3, 5], &[0, 2], &mut out);
        assert_eq!(
            out,
            b"*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n"
        );
    }
}
