//! `stop_at_end`: when a source that reads "what is there now" is done.
//!
//! Each partition's end offset (its high watermark) is taken once, when the partition is
//! first assigned, so records produced while the source runs do not keep it going. A
//! partition has reached its end when the consumer starts at or past that offset (an empty
//! partition, or one the group already consumed), when the record just before it has been
//! handed out, or when librdkafka reports the partition's end (which also covers trailing
//! offsets that never arrive as records, such as transaction markers). The source ends once
//! every partition assigned to it has reached its end; the decision is latched.

use crate::watermarks::TopicPartition;
use std::collections::HashMap;

/// End offsets of the assigned partitions and whether each has been reached.
#[derive(Debug, Default)]
pub(super) struct EndOffsets {
    /// The end offset of every partition ever assigned, taken at its first assignment.
    ends: HashMap<TopicPartition, i64>,
    /// The partitions assigned now, each with whether it has reached its end.
    assigned: HashMap<TopicPartition, bool>,
    /// Every assigned partition reached its end once: the source is done for good.
    done: bool,
}

impl EndOffsets {
    /// `tp` was assigned; `end` is its high watermark now and `start` the offset the
    /// consumer will read first. An end taken at an earlier assignment is kept.
    pub(super) fn assign(&mut self, tp: TopicPartition, end: i64, start: i64) {
        let end = *self.ends.entry(tp.clone()).or_insert(end);
        self.assigned.insert(tp, start >= end);
    }

    /// `tp` was revoked: it no longer counts towards the end.
    pub(super) fn revoke(&mut self, tp: &TopicPartition) {
        self.assigned.remove(tp);
    }

    /// Whether a record at `offset` of `tp` is still to be read: before the partition's end,
    /// and the source is not done.
    pub(super) fn admits(&self, tp: &TopicPartition, offset: i64) -> bool {
        !self.done && self.ends.get(tp).is_none_or(|end| offset < *end)
    }

    /// The record at `offset` of `tp` was handed to the pipeline.
    pub(super) fn handed_out(&mut self, tp: &TopicPartition, offset: i64) {
        if let (Some(end), Some(reached)) = (self.ends.get(tp), self.assigned.get_mut(tp))
            && offset + 1 >= *end
        {
            *reached = true;
        }
    }

    /// librdkafka reached the end of partition number `partition`. Its report names no
    /// topic, so it counts only when exactly one assigned topic has that partition.
    pub(super) fn partition_eof(&mut self, partition: i32) {
        let mut matching = self
            .assigned
            .iter_mut()
            .filter(|(tp, _)| tp.partition == partition);
        if let (Some((_, reached)), None) = (matching.next(), matching.next()) {
            *reached = true;
        }
    }

    /// Whether the source is done: latched once at least one partition is assigned and every
    /// assigned partition has reached its end.
    pub(super) fn done(&mut self) -> bool {
        if !self.done && !self.assigned.is_empty() && self.assigned.values().all(|r| *r) {
            self.done = true;
        }
        self.done
    }

    /// How many partitions are assigned now.
    pub(super) fn assigned(&self) -> usize {
        self.assigned.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(topic: &str, partition: i32) -> TopicPartition {
        TopicPartition::new(topic, partition)
    }

    #[test]
    fn nothing_assigned_is_never_done() {
        assert!(!EndOffsets::default().done());
    }

    #[test]
    fn done_once_the_record_before_each_end_is_handed_out() {
        let mut ends = EndOffsets::default();
        ends.assign(tp("t", 0), 3, 0);
        ends.assign(tp("t", 1), 2, 0);
        ends.handed_out(&tp("t", 0), 2);
        assert!(!ends.done(), "partition 1 still has records");
        ends.handed_out(&tp("t", 1), 0);
        assert!(!ends.done());
        ends.handed_out(&tp("t", 1), 1);
        assert!(ends.done());
    }

    #[test]
    fn a_partition_starting_at_its_end_is_reached_at_once() {
        let mut ends = EndOffsets::default();
        ends.assign(tp("t", 0), 0, 0); // empty
        ends.assign(tp("t", 1), 5, 5); // consumed by the group before
        assert!(ends.done());
    }

    #[test]
    fn records_past_the_end_taken_at_assignment_are_not_admitted() {
        let mut ends = EndOffsets::default();
        ends.assign(tp("t", 0), 10, 0);
        assert!(ends.admits(&tp("t", 0), 9));
        assert!(!ends.admits(&tp("t", 0), 10), "produced after the start");
        assert!(ends.admits(&tp("u", 0), 99), "no end known: admitted");
    }

    #[test]
    fn a_reassigned_partition_keeps_its_first_end() {
        let mut ends = EndOffsets::default();
        ends.assign(tp("t", 0), 4, 0);
        ends.revoke(&tp("t", 0));
        ends.assign(tp("t", 0), 100, 4);
        assert!(ends.done(), "started at the first end, 4");
    }

    #[test]
    fn a_revoked_partition_no_longer_holds_the_source_open() {
        let mut ends = EndOffsets::default();
        ends.assign(tp("t", 0), 4, 0);
        ends.assign(tp("t", 1), 4, 4);
        assert!(!ends.done());
        ends.revoke(&tp("t", 0));
        assert!(ends.done());
        assert_eq!(ends.assigned(), 1);
    }

    #[test]
    fn partition_eof_counts_only_when_the_partition_number_is_unambiguous() {
        let mut ends = EndOffsets::default();
        ends.assign(tp("a", 0), 4, 0);
        ends.assign(tp("b", 0), 4, 0);
        ends.assign(tp("b", 1), 4, 0);
        ends.partition_eof(0);
        ends.partition_eof(1);
        ends.handed_out(&tp("a", 0), 3);
        assert!(!ends.done(), "b[0] is not known to be reached");
        ends.handed_out(&tp("b", 0), 3);
        assert!(ends.done(), "b[1] was reached by its EOF");
    }

    #[test]
    fn done_is_latched_and_then_admits_nothing() {
        let mut ends = EndOffsets::default();
        ends.assign(tp("t", 0), 1, 1);
        assert!(ends.done());
        ends.assign(tp("t", 1), 9, 0);
        assert!(ends.done(), "a later assignment does not reopen the source");
        assert!(!ends.admits(&tp("t", 1), 0));
    }
}
