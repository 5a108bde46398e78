//! Choices a refresh makes, pure: which nodes to ask, in what order, and which of their
//! views to keep.

use super::parse::View;
use super::snapshot::Snapshot;
use crate::topology::target::NodeId;

/// The nodes a refresh asks, best first: `first` (a node known to have a newer view), the
/// snapshot's primaries from shard `start` on, their replicas, then the seeds from seed
/// `seed_start` on (a fleet of starting workers spreads its first requests over the
/// seeds); ejected nodes last.
pub(crate) fn refresh_order(
    snapshot: &Snapshot,
    seeds: &[NodeId],
    first: Option<NodeId>,
    start: usize,
    seed_start: usize,
    ejected: impl Fn(NodeId) -> bool,
) -> Vec<NodeId> {
    let mut out: Vec<NodeId> = Vec::new();
    let mut push = |id: NodeId| {
        if !out.contains(&id) {
            out.push(id);
        }
    };
    if let Some(id) = first {
        push(id);
    }
    let shards = &snapshot.shards;
    for i in 0..shards.len() {
        push(shards[(start + i) % shards.len()].primary);
    }
    for s in shards {
        for &r in &s.replicas {
            push(r);
        }
    }
    for i in 0..seeds.len() {
        push(seeds[(seed_start + i) % seeds.len()]);
    }
    out.sort_by_key(|&id| ejected(id));
    out
}

/// The best of several views: highest epoch, then the most common.
pub(crate) fn choose(answers: Vec<(u64, View)>) -> Option<(u64, View)> {
    let best_epoch = answers.iter().map(|(e, _)| *e).max()?;
    let top: Vec<&View> = answers
        .iter()
        .filter(|(e, _)| *e == best_epoch)
        .map(|(_, v)| v)
        .collect();
    let winner = top
        .iter()
        .max_by_key(|v| top.iter().filter(|w| **w == **v).count())
        .map(|v| (*v).clone())?;
    Some((best_epoch, winner))
}

#[cfg(test)]
mod tests {
    use super::super::parse::ShardView;
    use super::*;

    fn view(primary: &str) -> View {
        View {
            shards: vec![ShardView {
                ranges: vec![(0, 16383)],
                primary: primary.into(),
                replicas: vec![],
            }],
        }
    }

    #[test]
    fn refresh_asks_the_knowing_node_first_and_ejected_nodes_last() {
        use crate::topology::target::NodeNames;
        let names = crate::topology::addr::AddrList::default();
        let mut v = view("p:1");
        v.shards[0].replicas = vec!["r:1".into()];
        let snap = Snapshot::from_view(&v, 1, &names).unwrap();
        let (p, r) = (names.intern("p:1").unwrap(), names.intern("r:1").unwrap());
        let seed = names.intern("s:1").unwrap();
        assert_eq!(
            refresh_order(&snap, &[seed], Some(r), 0, 0, |_| false),
            vec![r, p, seed]
        );
        assert_eq!(
            refresh_order(&snap, &[seed, p], None, 0, 0, |id| id == p),
            vec![r, seed, p]
        );
    }

    #[test]
    fn highest_epoch_wins_then_majority() {
        let answers = vec![(5, view("a:1")), (7, view("b:1")), (5, view("a:1"))];
        assert_eq!(choose(answers).unwrap().1, view("b:1"));
        let answers = vec![(7, view("a:1")), (7, view("b:1")), (7, view("b:1"))];
        assert_eq!(choose(answers).unwrap().1, view("b:1"));
        assert!(choose(vec![]).is_none());
    }
}
