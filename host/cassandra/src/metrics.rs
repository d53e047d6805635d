//! Counters the sink keeps so the binary can export them (Prometheus) without this crate
//! knowing about any exporter. Plain atomics: cheap on the write path, readable any time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the write-latency histogram buckets, in seconds (a final `+Inf` bucket
/// is implied).
pub const LATENCY_BUCKETS_SECONDS: [f64; 12] = [
    0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Live counters of one sink; share it with [`crate::CassandraSink::metrics`].
#[derive(Debug, Default)]
pub struct SinkMetrics {
    writes: AtomicU64,
    retries: AtomicU64,
    rejected: AtomicU64,
    retries_exhausted: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS_SECONDS.len() + 1],
    latency_sum_micros: AtomicU64,
}

/// A point-in-time copy of [`SinkMetrics`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkMetricsSnapshot {
    /// Rows acknowledged by the cluster.
    pub writes: u64,
    /// Attempts repeated after a retryable error or while the cluster was unreachable.
    pub retries: u64,
    /// Events refused for good (conversion, missing key, non-retryable server error).
    pub rejected: u64,
    /// Events that ran out of retry budget.
    pub retries_exhausted: u64,
    /// Successful writes per latency bucket (not cumulative); the last is `+Inf`.
    pub latency_buckets: Vec<u64>,
    /// Sum of successful write latencies, microseconds (with `writes`: the mean).
    pub latency_sum_micros: u64,
}

impl SinkMetrics {
    pub(crate) fn write_succeeded(&self, latency: Duration) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        let secs = latency.as_secs_f64();
        let bucket = LATENCY_BUCKETS_SECONDS
            .iter()
            .position(|bound| secs <= *bound)
            .unwrap_or(LATENCY_BUCKETS_SECONDS.len());
        if let Some(b) = self.latency_buckets.get(bucket) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency_sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    pub(crate) fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn rejected(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn exhausted(&self) {
        self.retries_exhausted.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> SinkMetricsSnapshot {
        SinkMetricsSnapshot {
            writes: self.writes.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            retries_exhausted: self.retries_exhausted.load(Ordering::Relaxed),
            latency_buckets: self
                .latency_buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect(),
            latency_sum_micros: self.latency_sum_micros.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_land_in_the_first_bucket_that_holds_them() {
        let m = SinkMetrics::default();
        m.write_succeeded(Duration::from_micros(500));
        m.write_succeeded(Duration::from_millis(30));
        m.write_succeeded(Duration::from_secs(60));
        let s = m.snapshot();
        assert_eq!(s.writes, 3);
        assert_eq!(s.latency_buckets[0], 1);
        assert_eq!(s.latency_buckets[5], 1);
        assert_eq!(s.latency_buckets[LATENCY_BUCKETS_SECONDS.len()], 1);
    }
}
