//! Node choice: the candidate nodes of a target, best first. Writes go to the primary;
//! read-only commands follow `read_from` (cluster mode). Replicas are rotated for balance,
//! and nodes ejected by outlier detection move to the end — still used when nothing else
//! is left. Pure, unit-tested without a server.

use smallvec::SmallVec;

use crate::config::ReadFrom;
use crate::topology::cluster::snapshot::{Shard, Snapshot};
use crate::topology::target::{NodeId, Target};

/// Candidate nodes, best first (inline: a shard rarely has more than a few nodes).
pub(crate) type Candidates = SmallVec<[NodeId; 8]>;

/// Candidates within one shard.
pub(crate) fn shard_order(
    shard: &Shard,
    readonly: bool,
    policy: ReadFrom,
    rotate: usize,
    out: &mut Candidates,
) {
    let replicas = shard.replicas.len();
    let rotated = |out: &mut Candidates| {
        for i in 0..replicas {
            out.push(shard.replicas[(rotate + i) % replicas]);
        }
    };
    if !readonly {
        out.push(shard.primary);
        return;
    }
    match policy {
        ReadFrom::Primary => out.push(shard.primary),
        ReadFrom::PreferPrimary => {
            out.push(shard.primary);
            rotated(out);
        }
        ReadFrom::Replica => rotated(out),
        ReadFrom::PreferReplica => {
            rotated(out);
            out.push(shard.primary);
        }
        ReadFrom::Any => {
            // The primary takes its turn among the replicas.
            let all = replicas + 1;
            for i in 0..all {
                match (rotate + i) % all {
                    0 => out.push(shard.primary),
                    r => out.push(shard.replicas[r - 1]),
                }
            }
        }
    }
}

/// Why there is no candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoCandidate {
    /// The slot has no owner in the snapshot (refresh).
    Uncovered,
    /// `read_from = "replica"` and the shard has no usable replica.
    NoReplica,
}

/// Candidates for `target`, best first, ejected nodes last.
#[allow(clippy::too_many_arguments)]
pub(crate) fn candidates(
    target: Target,
    readonly: bool,
    policy: ReadFrom,
    snapshot: Option<&Snapshot>,
    static_nodes: &[NodeId],
    rotate: usize,
    ejected: impl Fn(NodeId) -> bool,
    out: &mut Candidates,
) -> Result<(), NoCandidate> {
    out.clear();
    match (target, snapshot) {
        (Target::Node(id), _) => out.push(id),
        (Target::Any, None) => out.extend_from_slice(static_nodes),
        (Target::Any, Some(s)) => {
            if s.shards.is_empty() {
                return Err(NoCandidate::Uncovered);
            }
            let n = s.shards.len();
            for i in 0..n {
                let shard = &s.shards[(rotate + i) % n];
                shard_order(shard, readonly, policy, rotate, out);
            }
        }
        (Target::Slot(slot), Some(s)) => {
            let shard = s.shard_of(slot).ok_or(NoCandidate::Uncovered)?;
            shard_order(shard, readonly, policy, rotate, out);
        }
        (Target::PrimaryOf(slot), Some(s)) => {
            out.push(s.shard_of(slot).ok_or(NoCandidate::Uncovered)?.primary)
        }
        (Target::Slot(_) | Target::PrimaryOf(_), None) => return Err(NoCandidate::Uncovered),
    }
    if out.is_empty() {
        return Err(NoCandidate::NoReplica);
    }
    // Stable: keep the policy order among healthy nodes, ejected ones last.
    out.sort_by_key(|&id| ejected(id));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard() -> Shard {
        Shard {
            primary: 1,
            replicas: vec![2, 3],
            first_slot: 0,
        }
    }

    fn order(readonly: bool, policy: ReadFrom, rotate: usize) -> Vec<NodeId> {
        let mut out = Candidates::new();
        shard_order(&shard(), readonly, policy, rotate, &mut out);
        out.to_vec()
    }

    #[test]
    fn writes_always_go_to_the_primary() {
        for p in [
            ReadFrom::Primary,
            ReadFrom::PreferPrimary,
            ReadFrom::Replica,
            ReadFrom::PreferReplica,
            ReadFrom::Any,
        ] {
            assert_eq!(order(false, p, 1), vec![1]);
        }
    }

    #[test]
    fn read_policies_order_the_shard() {
        assert_eq!(order(true, ReadFrom::Primary, 0), vec![1]);
        assert_eq!(order(true, ReadFrom::PreferPrimary, 0), vec![1, 2, 3]);
        assert_eq!(order(true, ReadFrom::Replica, 1), vec![3, 2]);
        assert_eq!(order(true, ReadFrom::PreferReplica, 0), vec![2, 3, 1]);
        assert_eq!(order(true, ReadFrom::PreferReplica, 1), vec![3, 2, 1]);
        assert_eq!(order(true, ReadFrom::Any, 1), vec![2, 3, 1]);
    }

    #[test]
    fn ejected_nodes_go_last_and_replica_only_can_be_empty() {
        let mut out = Candidates::new();
        let snap = {
            let nodes = crate::topology::addr::AddrList::default();
            let view = crate::topology::cluster::parse::View {
                shards: vec![crate::topology::cluster::parse::ShardView {
                    ranges: vec![(0, 16383)],
                    primary: "p:1".into(),
                    replicas: vec!["r:1".into(), "r:2".into()],
                }],
            };
            Snapshot::from_view(&view, 1, &nodes).unwrap()
        };
        candidates(
            Target::Slot(5),
            true,
            ReadFrom::PreferReplica,
            Some(&snap),
            &[],
            0,
            |id| id == 1,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out.to_vec(),
            vec![2, 0, 1],
            "ejected replica 1 moved behind the primary"
        );
        let no_replicas = Snapshot::empty().with_slot_owner(5, 7);
        assert_eq!(
            candidates(
                Target::Slot(5),
                true,
                ReadFrom::Replica,
                Some(&no_replicas),
                &[],
                0,
                |_| false,
                &mut out
            ),
            Err(NoCandidate::NoReplica)
        );
        assert_eq!(
            candidates(
                Target::Slot(6),
                true,
                ReadFrom::Primary,
                Some(&no_replicas),
                &[],
                0,
                |_| false,
                &mut out
            ),
            Err(NoCandidate::Uncovered)
        );
    }
}
