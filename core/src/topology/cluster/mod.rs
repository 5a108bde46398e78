//! Redis Cluster topology, pure: [`parse`] turns `CLUSTER SHARDS`/`SLOTS` replies into
//! views, [`choose`] picks among several nodes' views and orders the nodes a refresh asks,
//! [`snapshot`] is the immutable slot map, and [`state`] holds the live snapshot and the
//! refresh coordination.

pub(crate) mod choose;
pub(crate) mod parse;
pub(crate) mod snapshot;
pub(crate) mod state;

/// Fuzz oracle for topology parsing (see `crate::fuzzing::cluster_topology`).
pub(crate) fn fuzz_check_view(reply: &crate::reply::Value, slots: bool, host: &str) -> usize {
    let view = if slots {
        parse::parse_slots(reply, host)
    } else {
        parse::parse_shards(reply, host, false)
    };
    let Ok(view) = view else { return 0 };
    for shard in &view.shards {
        assert!(!shard.ranges.is_empty(), "shard without slots");
        for &(a, b) in &shard.ranges {
            assert!(a < 16384 && b < 16384, "slot range {a}-{b}");
        }
        for addr in std::iter::once(&shard.primary).chain(&shard.replicas) {
            assert!(
                crate::topology::addr::normalize(addr).is_ok(),
                "unusable address {addr:?}"
            );
        }
    }
    view.shards.len()
}
