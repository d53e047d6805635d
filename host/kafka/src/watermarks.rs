//! Which offset of each partition may be committed, given acknowledgements that can arrive
//! out of order.
//!
//! Kafka offsets are not contiguous (compaction, transaction markers), so the watermark is
//! not "every offset below N": it is "every offset this consumer handed out, up to N, is
//! done". The state per partition is bounded by what is in flight.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;

/// A topic and partition: the unit of ordering and of commits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: i32,
}

impl TopicPartition {
    /// Builds a topic-partition.
    pub fn new(topic: impl Into<Arc<str>>, partition: i32) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.topic, self.partition)
    }
}

#[derive(Debug, Default)]
struct PartitionState {
    /// Offsets handed out and not yet part of the done prefix, in increasing order.
    in_flight: VecDeque<i64>,
    /// Acknowledged offsets still waiting behind an unacknowledged one.
    done: BTreeSet<i64>,
    /// The highest offset such that it and everything handed out before it is done.
    watermark: Option<i64>,
    /// The last offset committed (the next offset to read, Kafka's convention).
    committed: Option<i64>,
}

impl PartitionState {
    fn advance(&mut self) {
        while let Some(&front) = self.in_flight.front() {
            if !self.done.remove(&front) {
                break;
            }
            self.in_flight.pop_front();
            self.watermark = Some(front);
        }
    }

    /// The offset to commit (watermark + 1) if it is ahead of what was committed.
    fn committable(&self) -> Option<i64> {
        let next = self.watermark? + 1;
        (self.committed.is_none_or(|c| next > c)).then_some(next)
    }
}

/// Per-partition commit watermarks of the partitions this consumer owns.
///
/// Guarantees: the committable offset of a partition only ever covers a contiguous prefix of
/// the offsets handed out; acknowledgements for partitions not owned (revoked) or for
/// offsets never handed out are ignored.
#[derive(Debug, Default)]
pub struct PartitionWatermarks {
    partitions: HashMap<TopicPartition, PartitionState>,
}

impl PartitionWatermarks {
    /// No partitions owned.
    pub fn new() -> Self {
        Self::default()
    }

    /// The partition was assigned to this consumer; starts with an empty state.
    pub fn assign(&mut self, tp: TopicPartition) {
        self.partitions.entry(tp).or_default();
    }

    /// Whether this consumer owns the partition.
    pub fn owns(&self, tp: &TopicPartition) -> bool {
        self.partitions.contains_key(tp)
    }

    /// The partition was revoked: forgets it and returns the offset still to commit for it,
    /// if what is done is ahead of what was committed.
    pub fn revoke(&mut self, tp: &TopicPartition) -> Option<i64> {
        self.partitions.remove(tp)?.committable()
    }

    /// An event at `offset` was handed to the pipeline. Offsets of a partition must be
    /// handed out in increasing order; returns `false` (and records nothing) when the
    /// partition is not owned or the offset does not increase.
    pub fn hand_out(&mut self, tp: &TopicPartition, offset: i64) -> bool {
        let Some(state) = self.partitions.get_mut(tp) else {
            return false;
        };
        let newest = state.in_flight.back().copied().or(state.watermark);
        if newest.is_some_and(|n| offset <= n) {
            return false;
        }
        state.in_flight.push_back(offset);
        true
    }

    /// The event at `offset` is done (written or dead-lettered). Returns `false` when the
    /// acknowledgement was ignored: partition not owned, or offset not in flight.
    pub fn ack(&mut self, tp: &TopicPartition, offset: i64) -> bool {
        let Some(state) = self.partitions.get_mut(tp) else {
            return false;
        };
        if state.in_flight.binary_search(&offset).is_err() {
            return false;
        }
        state.done.insert(offset);
        state.advance();
        true
    }

    /// An offset handed out will never be acknowledged because its event was taken back
    /// before anyone saw it (dropped from the buffer on revocation). Returns `false` when
    /// it was not in flight.
    pub fn withdraw(&mut self, tp: &TopicPartition, offset: i64) -> bool {
        let Some(state) = self.partitions.get_mut(tp) else {
            return false;
        };
        let Ok(index) = state.in_flight.binary_search(&offset) else {
            return false;
        };
        state.in_flight.remove(index);
        state.done.remove(&offset);
        state.advance();
        true
    }

    /// Events of the partition handed out and not yet covered by the watermark.
    pub fn in_flight(&self, tp: &TopicPartition) -> usize {
        self.partitions.get(tp).map_or(0, |s| s.in_flight.len())
    }

    /// The highest offset of the partition that is done along with everything before it.
    pub fn watermark(&self, tp: &TopicPartition) -> Option<i64> {
        self.partitions.get(tp).and_then(|s| s.watermark)
    }

    /// Offsets to commit now: `watermark + 1` for each owned partition whose watermark moved
    /// past its last commit. Sorted, for stable logs and tests.
    pub fn committable(&self) -> Vec<(TopicPartition, i64)> {
        let mut out: Vec<_> = self
            .partitions
            .iter()
            .filter_map(|(tp, s)| s.committable().map(|o| (tp.clone(), o)))
            .collect();
        out.sort();
        out
    }

    /// Records a successful commit, so the same offsets are not committed again. Offsets of
    /// partitions no longer owned are ignored.
    pub fn committed(&mut self, offsets: &[(TopicPartition, i64)]) {
        for (tp, offset) in offsets {
            if let Some(state) = self.partitions.get_mut(tp) {
                state.committed = Some(state.committed.map_or(*offset, |c| c.max(*offset)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(p: i32) -> TopicPartition {
        TopicPartition::new("t", p)
    }

    fn handed_out(offsets: &[i64]) -> PartitionWatermarks {
        let mut w = PartitionWatermarks::new();
        w.assign(tp(0));
        for &o in offsets {
            assert!(w.hand_out(&tp(0), o));
        }
        w
    }

    #[test]
    fn nothing_is_committable_until_the_first_handed_out_offset_is_done() {
        let mut w = handed_out(&[10, 11, 12]);
        assert!(w.committable().is_empty());
        w.ack(&tp(0), 11);
        assert!(w.committable().is_empty());
        w.ack(&tp(0), 10);
        assert_eq!(w.committable(), vec![(tp(0), 12)]);
    }

    #[test]
    fn out_of_order_acks_do_not_advance_past_a_gap() {
        let mut w = handed_out(&[0, 1, 2, 3, 4]);
        for o in [0, 2, 3, 4] {
            assert!(w.ack(&tp(0), o));
        }
        assert_eq!(w.watermark(&tp(0)), Some(0));
        assert_eq!(w.committable(), vec![(tp(0), 1)]);
        assert_eq!(w.in_flight(&tp(0)), 4);
        w.ack(&tp(0), 1);
        assert_eq!(w.watermark(&tp(0)), Some(4));
        assert_eq!(w.committable(), vec![(tp(0), 5)]);
        assert_eq!(w.in_flight(&tp(0)), 0);
    }

    #[test]
    fn offsets_with_holes_advance_over_what_was_handed_out() {
        // Compacted topic: offsets 3 and 4 do not exist.
        let mut w = handed_out(&[1, 2, 5, 6]);
        for o in [6, 5, 2, 1] {
            w.ack(&tp(0), o);
        }
        assert_eq!(w.committable(), vec![(tp(0), 7)]);
    }

    #[test]
    fn acks_for_offsets_never_handed_out_are_ignored() {
        let mut w = handed_out(&[5, 6]);
        assert!(!w.ack(&tp(0), 4));
        assert!(!w.ack(&tp(0), 7));
        assert!(w.committable().is_empty());
    }

    #[test]
    fn a_commit_is_not_repeated_until_the_watermark_moves() {
        let mut w = handed_out(&[0, 1]);
        w.ack(&tp(0), 0);
        let offsets = w.committable();
        w.committed(&offsets);
        assert!(w.committable().is_empty());
        w.ack(&tp(0), 1);
        assert_eq!(w.committable(), vec![(tp(0), 2)]);
    }

    #[test]
    fn revoking_returns_what_is_done_and_forgets_the_partition() {
        let mut w = handed_out(&[0, 1, 2]);
        w.ack(&tp(0), 0);
        w.ack(&tp(0), 2);
        assert_eq!(w.revoke(&tp(0)), Some(1));
        assert!(!w.owns(&tp(0)));
        assert!(!w.ack(&tp(0), 1), "acks after revocation are ignored");
        assert!(!w.hand_out(&tp(0), 3));
        assert!(w.committable().is_empty());
    }

    #[test]
    fn withdrawn_offsets_no_longer_hold_the_watermark_back() {
        let mut w = handed_out(&[0, 1, 2, 3]);
        w.ack(&tp(0), 0);
        w.ack(&tp(0), 2);
        assert!(w.withdraw(&tp(0), 3));
        assert!(
            w.withdraw(&tp(0), 1),
            "a gap withdrawn lets the done ones through"
        );
        assert_eq!(w.in_flight(&tp(0)), 0);
        assert_eq!(w.committable(), vec![(tp(0), 3)]);
        assert!(!w.withdraw(&tp(0), 3));
    }

    #[test]
    fn partitions_are_independent() {
        let mut w = PartitionWatermarks::new();
        w.assign(tp(0));
        w.assign(tp(1));
        w.hand_out(&tp(0), 0);
        w.hand_out(&tp(1), 100);
        w.hand_out(&tp(1), 101);
        w.ack(&tp(1), 101);
        w.ack(&tp(0), 0);
        assert_eq!(w.committable(), vec![(tp(0), 1)]);
    }

    #[test]
    fn offsets_must_increase_within_a_partition() {
        let mut w = handed_out(&[5]);
        assert!(!w.hand_out(&tp(0), 5));
        assert!(!w.hand_out(&tp(0), 4));
        w.ack(&tp(0), 5);
        assert!(!w.hand_out(&tp(0), 5), "below the watermark too");
        assert!(w.hand_out(&tp(0), 6));
    }
}
