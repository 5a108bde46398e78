//! The plan of one command: where it goes and how replies merge, decided from the command
//! table row alone. The unit of placement is the node (standalone modes) or the slot
//! (cluster mode: multi-key commands must stay in one slot). Cross-unit and argument
//! errors are found here, before anything is sent.

use crate::command::Cmd;
use crate::command::keys::{check_arity, for_each_key, key_positions};
use crate::command::table::{self, CommandSpec, Merge, Route};
use crate::error::{Error, ErrorKind, Result};
use crate::topology::cluster::snapshot::Snapshot;
use crate::topology::model::Topology;
use crate::topology::target::{NodeNames, Target};

use super::scan_cursor;

/// Where a command goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The whole command to one target.
    Single(Target),
    /// Split per unit. `groups`: target → ordinals of the keys it gets; `positions[k]` is the
    /// argument index of key `k`; `step` arguments per key.
    Split {
        merge: Merge,
        step: usize,
        positions: Vec<usize>,
        groups: Vec<(Target, Vec<usize>)>,
    },
    /// The whole command to each target (labelled by node address for per-node replies).
    Fanout {
        merge: Merge,
        targets: Vec<(Target, String)>,
    },
    /// SCAN of the `index`-th of `count` keyspace targets, at its own cursor.
    Scan {
        target: Target,
        index: usize,
        count: usize,
        node_cursor: u64,
    },
    /// RANDOMKEY over the keyspace targets.
    RandomKey,
}

/// What the planner needs to know about the topology.
pub(crate) struct Layout<'a> {
    pub topology: &'a Topology,
    /// Node addresses (error messages, per-node reply labels).
    pub names: &'a dyn NodeNames,
    pub hash_tags: Option<[u8; 2]>,
    /// The cluster snapshot (cluster mode).
    pub snapshot: Option<&'a Snapshot>,
}

impl Layout<'_> {
    #[inline]
    fn unit_of(&self, key: &[u8]) -> Target {
        self.topology.unit_of(key, self.hash_tags)
    }

    fn describe(&self, t: Target) -> String {
        match t {
            Target::Node(id) => self.names.addr(id),
            Target::Slot(s) | Target::PrimaryOf(s) => format!("slot {s}"),
            Target::Any => "any node".into(),
        }
    }

    /// The primaries that make up the keyspace, in a stable order.
    pub(crate) fn primaries(&self) -> Vec<(Target, String)> {
        match self.snapshot {
            Some(s) => s
                .shards
                .iter()
                .map(|sh| {
                    (
                        Target::PrimaryOf(sh.first_slot),
                        self.names.addr(sh.primary),
                    )
                })
                .collect(),
            None => self
                .topology
                .static_nodes()
                .iter()
                .map(|&id| (Target::Node(id), self.names.addr(id)))
                .collect(),
        }
    }

    /// Every node (cluster: replicas too).
    fn every_node(&self) -> Vec<(Target, String)> {
        let mut all = self.primaries();
        if let Some(s) = self.snapshot {
            for sh in &s.shards {
                for &r in &sh.replicas {
                    all.push((Target::Node(r), self.names.addr(r)));
                }
            }
        }
        all
    }
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

/// The single unit of every key of `cmd` (`None` if it has no keys), or a cross-shard /
/// cross-slot error naming two keys.
pub(crate) fn single_unit(
    spec: &CommandSpec,
    cmd: &Cmd,
    layout: &Layout<'_>,
) -> Result<Option<Target>> {
    let mut first: Option<(usize, Target)> = None;
    let mut conflict: Option<(usize, Target)> = None;
    for_each_key(spec, cmd, |pos| {
        if conflict.is_some() {
            return;
        }
        let unit = layout.unit_of(cmd.get(pos).unwrap_or_default());
        match first {
            None => first = Some((pos, unit)),
            Some((_, u)) if u != unit => conflict = Some((pos, unit)),
            Some(_) => {}
        }
    })?;
    if let (Some(a), Some(b)) = (first, conflict) {
        let key = |i: usize| String::from_utf8_lossy(cmd.get(i).unwrap_or_default()).into_owned();
        let (what, hint) = match layout.topology.cluster() {
            Some(_) => ("slots", "give them a common {hash tag}"),
            None if layout.hash_tags.is_some() => ("nodes", "give them a common {hash tag}"),
            None => (
                "nodes",
                "turn on hash_tags and give them a common {hash tag}",
            ),
        };
        return Err(Error::new(
            ErrorKind::CrossShard,
            format!(
                "keys of '{}' are in different {what} ('{}' on {}, '{}' on {}); nothing was sent; {hint}",
                spec.name,
                key(a.0),
                layout.describe(a.1),
                key(b.0),
                layout.describe(b.1)
            ),
        ));
    }
    Ok(first.map(|(_, u)| u))
}

/// Plan `cmd` (already resolved to `spec`).
pub(crate) fn plan(spec: &'static CommandSpec, cmd: &Cmd, layout: &Layout<'_>) -> Result<Plan> {
    check_arity(spec, cmd)?;
    match spec.route {
        Route::Keyed => Ok(Plan::Single(
            single_unit(spec, cmd, layout)?.unwrap_or(Target::Any),
        )),
        Route::Split { step, merge } => {
            let positions = key_positions(spec, cmd)?;
            let mut groups: Vec<(Target, Vec<usize>)> = Vec::new();
            for (ordinal, &pos) in positions.iter().enumerate() {
                let unit = layout.unit_of(cmd.get(pos).unwrap_or_default());
                match groups.iter_mut().find(|(g, _)| *g == unit) {
                    Some((_, ords)) => ords.push(ordinal),
                    None => groups.push((unit, vec![ordinal])),
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
        Route::AllShards(merge) | Route::AllNodes(merge) => {
            let targets = if matches!(spec.route, Route::AllNodes(_)) {
                layout.every_node()
            } else {
                layout.primaries()
            };
            Ok(match targets.as_slice() {
                [(only, _)] => Plan::Single(*only),
                _ => Plan::Fanout { merge, targets },
            })
        }
        Route::AnyNode => Ok(Plan::Single(Target::Any)),
        Route::Scan => {
            let primaries = layout.primaries();
            let cursor = cmd.get(1).unwrap_or(b"0");
            let (index, node_cursor) = scan_cursor::decode(cursor, primaries.len().max(1))?;
            let target = primaries
                .get(index)
                .map(|(t, _)| *t)
                .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "invalid cursor"))?;
            Ok(Plan::Scan {
                target,
                index,
                count: primaries.len(),
                node_cursor,
            })
        }
        Route::RandomKey => Ok(Plan::RandomKey),
        Route::Unsupported(why) => Err(Error::new(
            ErrorKind::Unsupported,
            format!("'{}' is not supported through shardis: {why}", spec.name),
        )),
    }
}

/// Append the request of one split part: the command name plus the arguments of its keys.
pub(crate) fn write_split_part(
    cmd: &Cmd,
    step: usize,
    positions: &[usize],
    ordinals: &[usize],
    out: &mut Vec<u8>,
) {
    cmd.write_resp_parts(positions, ordinals, step, out);
}

/// SCAN with the node's own cursor in place of the client's.
pub(crate) fn scan_request(cmd: &Cmd, node_cursor: u64) -> Vec<u8> {
    let cursor = node_cursor.to_string();
    let args: Vec<&[u8]> = cmd
        .args()
        .enumerate()
        .map(|(i, a)| if i == 1 { cursor.as_bytes() } else { a })
        .collect();
    let mut out = Vec::new();
    crate::command::write_command(&mut out, &args);
    out
}

/// The topologies the fuzz oracle plans against: a ring of three nodes and a cluster of
/// three shards.
struct FuzzFixture {
    nodes: crate::topology::addr::AddrList,
    ring: Topology,
    cluster: Topology,
    snapshot: Snapshot,
}

fn fuzz_fixture() -> Option<&'static FuzzFixture> {
    static FIXTURE: std::sync::OnceLock<Option<FuzzFixture>> = std::sync::OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let ring = crate::Config::from_toml_str(
                "mode = \"ring_hash\"\nnodes = [\"10.0.0.1:1\", \"10.0.0.2:1\", \"10.0.0.3:1\"]\nhash_tags = true",
            )
            .ok()?;
            let cluster = crate::Config::from_toml_str(
                "mode = \"cluster\"\nnodes = [\"10.0.0.1:1\"]",
            )
            .ok()?;
            let nodes = crate::topology::addr::AddrList::default();
            let view = crate::topology::cluster::parse::View {
                shards: (0..3u16)
                    .map(|i| crate::topology::cluster::parse::ShardView {
                        ranges: vec![(i * 5461, if i == 2 { 16383 } else { i * 5461 + 5460 })],
                        primary: format!("10.0.1.{i}:1"),
                        replicas: vec![format!("10.0.2.{i}:1")],
                    })
                    .collect(),
            };
            let snapshot = Snapshot::from_view(&view, 1, &nodes).ok()?;
            Some(FuzzFixture {
                ring: Topology::from_config(&ring, &nodes).ok()?,
                cluster: Topology::from_config(&cluster, &nodes).ok()?,
                snapshot,
                nodes,
            })
        })
        .as_ref()
}

/// Fuzz oracle for key extraction and planning (see `crate::fuzzing::command_keys`).
pub(crate) fn fuzz_check(cmd: &Cmd) -> usize {
    let Ok(spec) = resolve(cmd) else { return 0 };
    let Ok(positions) = key_positions(spec, cmd) else {
        return 0;
    };
    assert!(
        positions.iter().all(|&p| p > 0 && p < cmd.len()),
        "key position outside the argv: {positions:?} of {}",
        cmd.len()
    );
    let Some(f) = fuzz_fixture() else { return 0 };
    for (topology, snapshot) in [(&f.ring, None), (&f.cluster, Some(&f.snapshot))] {
        let layout = Layout {
            topology,
            names: &f.nodes,
            hash_tags: Some(*b"{}"),
            snapshot,
        };
        if let Ok(Plan::Split {
            positions: split,
            groups,
            ..
        }) = plan(spec, cmd, &layout)
        {
            let mut seen: Vec<usize> = groups.iter().flat_map(|(_, o)| o.clone()).collect();
            seen.sort_unstable();
            assert_eq!(
                seen,
                (0..split.len()).collect::<Vec<_>>(),
                "split lost or repeated a key"
            );
        }
    }
    positions.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Mode};

    struct Fixture {
        topology: Topology,
        nodes: crate::topology::addr::AddrList,
        tags: Option<[u8; 2]>,
    }

    impl Fixture {
        fn standalone(n: usize, tags: bool) -> Fixture {
            let mut b = Config::builder().mode(Mode::RingHash).hash_tags(tags);
            for i in 0..n {
                b = b.node(&format!("127.0.0.1:{}", 7001 + i));
            }
            let config = b.build().unwrap();
            let nodes = crate::topology::addr::AddrList::default();
            let topology = Topology::from_config(&config, &nodes).unwrap();
            Fixture {
                topology,
                nodes,
                tags: config.hash_tags(),
            }
        }

        fn cluster() -> Fixture {
            let config = Config::builder()
                .mode(Mode::Cluster)
                .node("127.0.0.1:7000")
                .build()
                .unwrap();
            let nodes = crate::topology::addr::AddrList::default();
            let topology = Topology::from_config(&config, &nodes).unwrap();
            Fixture {
                topology,
                nodes,
                tags: config.hash_tags(),
            }
        }

        fn layout(&self) -> Layout<'_> {
            Layout {
                topology: &self.topology,
                names: &self.nodes,
                hash_tags: self.tags,
                snapshot: None,
            }
        }

        fn plan(&self, args: &[&str]) -> Result<Plan> {
            let cmd = Cmd::from_args(args);
            plan(resolve(&cmd)?, &cmd, &self.layout())
        }
    }

    #[test]
    fn keyed_commands_go_to_their_unit() {
        let f = Fixture::standalone(3, false);
        let unit = f.layout().unit_of(b"user:1");
        assert_eq!(f.plan(&["GET", "user:1"]).unwrap(), Plan::Single(unit));
        assert_eq!(
            f.plan(&["EVAL", "return 1", "0"]).unwrap(),
            Plan::Single(Target::Any)
        );
        let c = Fixture::cluster();
        assert_eq!(
            c.plan(&["GET", "foo"]).unwrap(),
            Plan::Single(Target::Slot(12182))
        );
    }

    #[test]
    fn mget_splits_and_single_unit_mget_does_not() {
        let f = Fixture::standalone(3, true);
        match f.plan(&["MGET", "a", "b", "c", "d", "e", "f"]).unwrap() {
            Plan::Split {
                groups, positions, ..
            } => {
                assert!(groups.len() > 1);
                assert_eq!(positions, vec![1, 2, 3, 4, 5, 6]);
                assert_eq!(groups.iter().map(|(_, g)| g.len()).sum::<usize>(), 6);
            }
            other => panic!("{other:?}"),
        }
        let unit = f.layout().unit_of(b"t");
        assert_eq!(
            f.plan(&["MGET", "{t}a", "{t}b"]).unwrap(),
            Plan::Single(unit)
        );
    }

    #[test]
    fn cluster_splits_by_slot_not_by_node() {
        let c = Fixture::cluster();
        match c.plan(&["MGET", "{a}1", "{a}2", "{b}1"]).unwrap() {
            Plan::Split { groups, .. } => {
                assert_eq!(groups.len(), 2);
                assert_eq!(groups[0].1, vec![0, 1]);
            }
            other => panic!("{other:?}"),
        }
        let e = c.plan(&["RENAME", "a", "b"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CrossShard);
        assert!(
            e.message().contains("different slots") && e.message().contains("slot 15495"),
            "{e}"
        );
    }

    #[test]
    fn cross_shard_is_an_error_naming_keys_and_nodes() {
        let f = Fixture::standalone(3, false);
        let (a, b) = (0..100)
            .map(|i| format!("k{i}"))
            .find_map(|k| {
                let l = f.layout();
                let other = (0..100)
                    .map(|j| format!("o{j}"))
                    .find(|o| l.unit_of(o.as_bytes()) != l.unit_of(k.as_bytes()))?;
                Some((k, other))
            })
            .unwrap();
        let e = f.plan(&["RENAME", &a, &b]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CrossShard);
        assert!(
            e.message().contains(&a) && e.message().contains("hash_tags"),
            "{e}"
        );
        assert_eq!(
            f.plan(&["MSETNX", &a, "1", &b, "2"]).unwrap_err().kind(),
            ErrorKind::CrossShard
        );
    }

    #[test]
    fn whole_keyspace_and_unsupported() {
        let f = Fixture::standalone(3, false);
        match f.plan(&["DBSIZE"]).unwrap() {
            Plan::Fanout { merge, targets } => {
                assert_eq!(merge, Merge::Sum);
                assert_eq!(targets.len(), 3);
                assert_eq!(targets[1].1, "127.0.0.1:7002");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            f.plan(&["SCAN", "4"]).unwrap(),
            Plan::Scan {
                target: Target::Node(1),
                index: 1,
                count: 3,
                node_cursor: 1
            }
        );
        assert_eq!(
            f.plan(&["MULTI"]).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        assert_eq!(
            f.plan(&["NOSUCH"]).unwrap_err().kind(),
            ErrorKind::Unsupported
        );
        assert_eq!(
            f.plan(&["GET"]).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }

    #[test]
    fn split_part_keeps_values_with_keys() {
        let cmd = Cmd::from_args(["MSET", "a", "1", "b", "2", "c", "3"]);
        let mut out = Vec::new();
        write_split_part(&cmd, 2, &[1, 3, 5], &[0, 2], &mut out);
        assert_eq!(
            out,
            b"*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\n3\r\n"
        );
    }
}
