//! End-to-end latency of events, from the source's record timestamp to the sink's
//! acknowledgement: a fixed-bucket histogram of atomics, so recording costs no lock and
//! rendering it (Prometheus) needs no registry.

use crate::event::Event;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Upper bounds in milliseconds of the histogram's buckets, in order; a last, unbounded
/// bucket (`+Inf`) follows. Roughly 1-2-3-5 per decade, so a percentile read from the
/// buckets is within a bucket's width of the truth from 1 ms to a minute.
pub const LATENCY_BUCKETS_MS: [u64; 26] = [
    1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1_000, 1_500, 2_000,
    3_000, 5_000, 10_000, 20_000, 30_000, 60_000,
];

/// Counts of events by end-to-end latency (see [`LATENCY_BUCKETS_MS`]).
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    /// Per bucket, not cumulative; the last one is `+Inf`.
    buckets: [AtomicU64; LATENCY_BUCKETS_MS.len() + 1],
    /// Sum of the recorded latencies, in milliseconds.
    sum_ms: AtomicU64,
}

/// A consistent-enough copy of a [`LatencyHistogram`] (each counter read once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencySnapshot {
    /// Per bucket, not cumulative; the last one is `+Inf`.
    pub buckets: Vec<u64>,
    /// Sum of the recorded latencies, in milliseconds.
    pub sum_ms: u64,
}

impl LatencyHistogram {
    /// Records, for every event with a timestamp, the time from that timestamp to now.
    /// Events without one (timestamp 0 or before) are not counted; clocks that disagree
    /// (a timestamp in the future) count as 0 ms.
    pub fn record_acknowledged(&self, events: &[Event]) {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        // Counted locally first: one atomic add per touched bucket per batch, not per event.
        let mut counts = [0u64; LATENCY_BUCKETS_MS.len() + 1];
        let mut sum_ms = 0u64;
        for event in events.iter().filter(|e| e.timestamp_ms > 0) {
            let latency = u64::try_from(now_ms.saturating_sub(event.timestamp_ms)).unwrap_or(0);
            counts[LATENCY_BUCKETS_MS.partition_point(|&bound| bound < latency)] += 1;
            sum_ms = sum_ms.saturating_add(latency);
        }
        for (bucket, n) in self.buckets.iter().zip(counts) {
            if n > 0 {
                bucket.fetch_add(n, Ordering::Relaxed);
            }
        }
        self.sum_ms.fetch_add(sum_ms, Ordering::Relaxed);
    }

    /// The counters as they are now.
    pub fn snapshot(&self) -> LatencySnapshot {
        LatencySnapshot {
            buckets: self
                .buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
            sum_ms: self.sum_ms.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Position;
    use bytes::Bytes;

    fn event_at(timestamp_ms: i64) -> Event {
        Event {
            key: None,
            value: Bytes::from_static(b"{}"),
            headers: Vec::new(),
            timestamp_ms,
            position: Position {
                topic: "t".into(),
                partition: 0,
                offset: 0,
            },
        }
    }

    #[test]
    fn each_timestamped_event_lands_in_the_bucket_of_its_age_and_untimed_ones_are_skipped() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .expect("clock after 1970");
        let histogram = LatencyHistogram::default();
        histogram.record_acknowledged(&[
            event_at(now - 40_000),
            event_at(now - 120_000),
            event_at(0),
        ]);
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.buckets.iter().sum::<u64>(), 2);
        assert_eq!(
            snapshot.buckets[LATENCY_BUCKETS_MS.len() - 1],
            1,
            "40 s: <= 60 s"
        );
        assert_eq!(snapshot.buckets[LATENCY_BUCKETS_MS.len()], 1, "120 s: +Inf");
        assert!(snapshot.sum_ms >= 160_000);
    }
}
