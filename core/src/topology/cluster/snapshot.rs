//! An immutable cluster topology: slot → shard (primary + replicas), swapped atomically as a
//! whole. MOVED patches one slot into a new snapshot; a refresh replaces it.

use std::time::Instant;

use super::parse::View;
use crate::error::Result;
use crate::hash::slot::SLOT_COUNT;
use crate::topology::target::{NodeId, NodeNames};

const UNCOVERED: u16 = u16::MAX;

/// One shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shard {
    pub primary: NodeId,
    pub replicas: Vec<NodeId>,
    /// The lowest slot it serves (a stable handle for "the primary of this shard").
    pub first_slot: u16,
}

/// A cluster topology at one moment.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    slots: Vec<u16>,
    pub shards: Vec<Shard>,
    /// `cluster_current_epoch` of the view it came from.
    pub epoch: u64,
    pub taken_at: Instant,
}

impl Snapshot {
    /// No topology yet.
    pub(crate) fn empty() -> Snapshot {
        Snapshot {
            slots: vec![UNCOVERED; SLOT_COUNT as usize],
            shards: Vec::new(),
            epoch: 0,
            taken_at: Instant::now(),
        }
    }

    /// Build from a parsed view, interning every address.
    pub(crate) fn from_view(view: &View, epoch: u64, names: &dyn NodeNames) -> Result<Snapshot> {
        let mut snap = Snapshot::empty();
        snap.epoch = epoch;
        for s in &view.shards {
            let primary = names.intern(&s.primary)?;
            let replicas = s
                .replicas
                .iter()
                .map(|r| names.intern(r))
                .collect::<Result<Vec<_>>>()?;
            let first_slot = s.ranges.iter().map(|r| r.0).min().unwrap_or(0);
            let index = snap.shards.len() as u16;
            for &(a, b) in &s.ranges {
                for slot in a..=b.min(SLOT_COUNT - 1) {
                    snap.slots[slot as usize] = index;
                }
            }
            snap.shards.push(Shard {
                primary,
                replicas,
                first_slot,
            });
        }
        // Keep shards in slot order (SCAN walks them in this order).
        snap.reorder();
        Ok(snap)
    }

    fn reorder(&mut self) {
        let mut order: Vec<usize> = (0..self.shards.len()).collect();
        order.sort_by_key(|&i| self.shards[i].first_slot);
        let mut new_index = vec![0u16; self.shards.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new as u16;
        }
        for s in &mut self.slots {
            if *s != UNCOVERED {
                *s = new_index[*s as usize];
            }
        }
        self.shards = order.into_iter().map(|i| self.shards[i].clone()).collect();
    }

    /// Every node the snapshot names (primaries and replicas), sorted.
    pub(crate) fn node_ids(&self) -> Vec<NodeId> {
        let mut ids: Vec<NodeId> = self
            .shards
            .iter()
            .flat_map(|s| std::iter::once(s.primary).chain(s.replicas.iter().copied()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// True before the first successful refresh.
    pub(crate) fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// The shard serving `slot`.
    #[inline]
    pub(crate) fn shard_of(&self, slot: u16) -> Option<&Shard> {
        match self.slots.get(slot as usize) {
            Some(&i) if i != UNCOVERED => self.shards.get(i as usize),
            _ => None,
        }
    }

    /// A copy in which `slot` belongs to the shard whose primary is `node` (a new shard
    /// without replicas if `node` is not a primary yet) — what MOVED tells. A MOVED to a
    /// replica of the slot's own shard is a failover: that replica becomes the shard's
    /// primary, for all its slots.
    pub(crate) fn with_slot_owner(&self, slot: u16, node: NodeId) -> Snapshot {
        self.with_slot_owners(&[(slot, node)])
    }

    /// A copy with every `(slot, primary)` of `changes` applied as [`Snapshot::with_slot_owner`]
    /// does, in one pass.
    pub(crate) fn with_slot_owners(&self, changes: &[(u16, NodeId)]) -> Snapshot {
        let mut next = self.clone();
        for &(slot, node) in changes {
            // The slot's own shard names `node` as a replica: a failover promoted it (a
            // migration only ever moves slots to another primary), so the whole shard —
            // every slot of it — is served by `node` now, and the old primary is at best a
            // replica.
            if let Some(&cur) = next.slots.get(slot as usize)
                && let Some(shard) = next.shards.get_mut(cur as usize)
                && let Some(pos) = shard.replicas.iter().position(|&r| r == node)
            {
                shard.replicas[pos] = shard.primary;
                shard.primary = node;
                continue;
            }
            let index = match next.shards.iter().position(|s| s.primary == node) {
                Some(i) => i,
                None => {
                    next.shards.push(Shard {
                        primary: node,
                        replicas: Vec::new(),
                        first_slot: slot,
                    });
                    next.shards.len() - 1
                }
            };
            if let Some(s) = next.slots.get_mut(slot as usize) {
                *s = index as u16;
            }
        }
        // A shard that no longer serves any slot disappears; first slots are recomputed.
        let mut first = vec![u16::MAX; next.shards.len()];
        for (slot, &i) in next.slots.iter().enumerate() {
            if i != UNCOVERED && first[i as usize] == u16::MAX {
                first[i as usize] = slot as u16;
            }
        }
        for (i, s) in next.shards.iter_mut().enumerate() {
            s.first_slot = first[i];
        }
        let keep: Vec<bool> = first.iter().map(|&f| f != u16::MAX).collect();
        if keep.iter().any(|k| !k) {
            let mut remap = vec![UNCOVERED; next.shards.len()];
            let mut shards = Vec::new();
            for (i, s) in next.shards.iter().enumerate() {
                if keep[i] {
                    remap[i] = shards.len() as u16;
                    shards.push(s.clone());
                }
            }
            for s in &mut next.slots {
                if *s != UNCOVERED {
                    *s = remap[*s as usize];
                }
            }
            next.shards = shards;
        }
        next.reorder();
        next
    }

    /// A refreshed view that started from `before` while `after` replaced it (MOVED
    /// patches made during the refresh): the slots whose owner changed from `before` to
    /// `after` keep their new owner — a redirect is newer news than the start of the
    /// refresh.
    pub(crate) fn keeping_patches(&self, before: &Snapshot, after: &Snapshot) -> Snapshot {
        let changes: Vec<(u16, NodeId)> = (0..SLOT_COUNT)
            .filter_map(|slot| {
                let now = after.shard_of(slot)?.primary;
                let then = before.shard_of(slot).map(|s| s.primary);
                (then != Some(now)).then_some((slot, now))
            })
            .collect();
        if changes.is_empty() {
            return self.clone();
        }
        self.with_slot_owners(&changes)
    }

    /// Is every slot served?
    #[cfg(test)]
    pub(crate) fn fully_covered(&self) -> bool {
        !self.slots.contains(&UNCOVERED)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::ShardView;
    use super::*;
    use crate::topology::target::NodeNames;

    fn view() -> View {
        View {
            shards: vec![
                ShardView {
                    ranges: vec![(0, 8191)],
                    primary: "h:1".into(),
                    replicas: vec!["h:3".into()],
                },
                ShardView {
                    ranges: vec![(8192, 16383)],
                    primary: "h:2".into(),
                    replicas: vec![],
                },
            ],
        }
    }

    #[test]
    fn slots_map_to_shards() {
        let nodes = crate::topology::addr::AddrList::default();
        let s = Snapshot::from_view(&view(), 3, &nodes).unwrap();
        assert!(s.fully_covered());
        let a = s.shard_of(100).unwrap();
        assert_eq!(nodes.addr(a.primary), "h:1");
        assert_eq!(nodes.addr(a.replicas[0]), "h:3");
        assert_eq!(nodes.addr(s.shard_of(16383).unwrap().primary), "h:2");
        assert_eq!(s.epoch, 3);
    }

    #[test]
    fn moved_patches_one_slot() {
        let nodes = crate::topology::addr::AddrList::default();
        let s = Snapshot::from_view(&view(), 1, &nodes).unwrap();
        let h2 = nodes.intern("h:2").unwrap();
        let p = s.with_slot_owner(5, h2);
        assert_eq!(p.shard_of(5).unwrap().primary, h2);
        assert_eq!(nodes.addr(p.shard_of(4).unwrap().primary), "h:1");
        // A new node from MOVED becomes its own shard.
        let h9 = nodes.intern("h:9").unwrap();
        let q = p.with_slot_owner(7, h9);
        assert_eq!(q.shard_of(7).unwrap().primary, h9);
        assert_eq!(q.shards.len(), 3);
        assert_eq!(q.shards[0].first_slot, 0);
    }

    #[test]
    fn moved_to_the_shards_own_replica_promotes_it_for_every_slot() {
        let nodes = crate::topology::addr::AddrList::default();
        let s = Snapshot::from_view(&view(), 1, &nodes).unwrap();
        let (h1, h3) = (nodes.intern("h:1").unwrap(), nodes.intern("h:3").unwrap());
        let p = s.with_slot_owner(5, h3);
        for slot in [0, 5, 8191] {
            assert_eq!(p.shard_of(slot).unwrap().primary, h3, "slot {slot}");
        }
        assert_eq!(p.shard_of(0).unwrap().replicas, vec![h1]);
        assert_eq!(p.shards.len(), 2);
        assert_eq!(nodes.addr(p.shard_of(9000).unwrap().primary), "h:2");
    }

    #[test]
    fn a_refresh_that_raced_a_moved_keeps_the_moved_slot() {
        let nodes = crate::topology::addr::AddrList::default();
        let before = Snapshot::from_view(&view(), 1, &nodes).unwrap();
        let h2 = nodes.intern("h:2").unwrap();
        // MOVED while the refresh was in flight: slot 5 went to h:2.
        let after = before.with_slot_owner(5, h2);
        // The refresh's own view is as old as `before`.
        let refreshed = Snapshot::from_view(&view(), 1, &nodes).unwrap();
        let kept = refreshed.keeping_patches(&before, &after);
        assert_eq!(kept.shard_of(5).unwrap().primary, h2);
        assert_eq!(nodes.addr(kept.shard_of(6).unwrap().primary), "h:1");
        assert!(kept.fully_covered());
    }

    #[test]
    fn empty_snapshot_covers_nothing() {
        let s = Snapshot::empty();
        assert!(s.is_empty());
        assert!(s.shard_of(0).is_none());
        assert!(!s.fully_covered());
    }
}
