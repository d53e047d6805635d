//! The Kafka source: a consumer-group member whose poll loop runs on its own thread, hands
//! records to the pipeline through a bounded buffer, and commits only acknowledged offsets.
//!
//! Why a dedicated thread: librdkafka expels a member that does not poll within
//! `max.poll.interval.ms`, and rebalance callbacks run inside `poll`. Polling on a thread of
//! its own keeps the member alive and rebalances prompt however slow the sink is; when the
//! buffer is full the partitions are paused, so memory stays bounded while polling goes on.

mod end;
mod poll;

use crate::config::{AutoOffsetReset, KafkaSourceConfig};
use crate::error::KafkaError;
use crate::watermarks::{PartitionWatermarks, TopicPartition};
use end::EndOffsets;
use poll::{WeirContext, poll_loop};
use rdkafka::consumer::{BaseConsumer, Consumer};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::Notify;
use weir_core::{Acker, BoxError, Event, Position, Source};

/// Live counters of a Kafka source, for metrics and tests.
#[derive(Debug, Default)]
pub struct SourceStats {
    /// Records currently waiting in the buffer.
    pub buffered: AtomicU64,
    /// The most records the buffer has held at once.
    pub peak_buffered: AtomicU64,
    /// Records received from Kafka.
    pub received: AtomicU64,
    /// Times the partitions were paused because the buffer was full.
    pub pauses: AtomicU64,
    /// Times the partitions were resumed.
    pub resumes: AtomicU64,
    /// Partitions assigned to this member, summed over rebalances.
    pub partitions_assigned: AtomicU64,
    /// Partitions revoked from this member, summed over rebalances.
    pub partitions_revoked: AtomicU64,
    /// Successful commits.
    pub commits: AtomicU64,
    /// Failed commits (retried at the next interval; fatal only on close).
    pub commit_failures: AtomicU64,
    /// Revoked partitions whose in-flight events the rebalance is waiting for right now.
    pub draining_partitions: AtomicU64,
    /// Acknowledgements ignored because their partition is no longer owned.
    pub ignored_acks: AtomicU64,
    /// Consumer lag per assigned partition (`topic`, `partition`, records between the last
    /// commit and the partition's end), from librdkafka's periodic statistics.
    pub consumer_lag: Mutex<Vec<(String, i32, i64)>>,
}

impl SourceStats {
    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    fn bump(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The latest consumer lag per partition, sorted by topic and partition.
    pub fn lag(&self) -> Vec<(String, i32, i64)> {
        lock(&self.consumer_lag).clone()
    }

    /// Records behind the end, summed over this member's partitions (0 before the first
    /// statistics report).
    pub fn total_lag(&self) -> i64 {
        lock(&self.consumer_lag).iter().map(|(_, _, lag)| lag).sum()
    }

    /// Takes a statistics report: keeps the lag of the partitions this member consumes.
    fn record_lag(&self, statistics: &rdkafka::Statistics) {
        let mut lag: Vec<(String, i32, i64)> = statistics
            .topics
            .iter()
            .flat_map(|(topic, t)| {
                t.partitions
                    .values()
                    // Partition -1 is librdkafka's internal placeholder; a negative lag is
                    // "not known yet".
                    .filter(|p| p.partition >= 0 && p.desired && p.consumer_lag >= 0)
                    .map(move |p| (topic.clone(), p.partition, p.consumer_lag))
            })
            .collect();
        lag.sort();
        *lock(&self.consumer_lag) = lag;
    }
}

/// State shared by the source handle, the acker, the poll thread and the rebalance callbacks.
/// Lock order: `watermarks` before `buffer`.
struct Shared {
    buffer: Mutex<VecDeque<Event>>,
    capacity: usize,
    readable: Notify,
    watermarks: Mutex<PartitionWatermarks>,
    /// Signalled after every acknowledgement, for the drain on revocation.
    acked: Condvar,
    revoke_drain_timeout: Duration,
    paused: AtomicBool,
    /// The pipeline no longer reads: pause everything, keep the membership until close.
    reading_stopped: AtomicBool,
    /// An acker exists, so the membership must outlive the source handle.
    acker_created: AtomicBool,
    /// The acker is closed or gone: final commit, leave the group.
    stop: AtomicBool,
    /// The poll thread has ended.
    finished: AtomicBool,
    /// With `stop_at_end`: each assigned partition's end offset and whether it was reached.
    /// Only the poll thread locks it, never while holding another lock.
    ends: Option<Mutex<EndOffsets>>,
    /// With `stop_at_end`: every assigned partition reached its end, and every record before
    /// those ends is in the buffer; set after the last push.
    at_end: AtomicBool,
    /// Where the group starts in a partition without a committed offset.
    auto_offset_reset: AutoOffsetReset,
    failure: Mutex<Option<String>>,
    thread: Mutex<Option<JoinHandle<Result<(), KafkaError>>>>,
    stats: Arc<SourceStats>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn buffered(&self) -> usize {
        lock(&self.buffer).len()
    }

    /// Hands a record to the pipeline, recording its offset for the watermark.
    fn push(&self, event: Event) {
        let tp = TopicPartition::new(Arc::clone(&event.position.topic), event.position.partition);
        let offset = event.position.offset;
        if let Some(ends) = &self.ends
            && !lock(ends).admits(&tp, offset)
        {
            // Past the end taken at assignment (or the source is done): never handed out, so
            // never committed; the next run reads it.
            return;
        }
        let mut watermarks = lock(&self.watermarks);
        if !watermarks.hand_out(&tp, event.position.offset) {
            // Not owned any more (revoked while in librdkafka's queue) or a repeat: the
            // partition's owner reads it from the committed offset.
            tracing::debug!(position = %event.position, "Dropping a record of a partition not owned");
            return;
        }
        let mut buffer = lock(&self.buffer);
        buffer.push_back(event);
        let len = buffer.len() as u64;
        drop(buffer);
        drop(watermarks);
        self.stats.buffered.store(len, Ordering::Relaxed);
        self.stats.peak_buffered.fetch_max(len, Ordering::Relaxed);
        SourceStats::bump(&self.stats.received, 1);
        if let Some(ends) = &self.ends {
            lock(ends).handed_out(&tp, offset);
        }
        self.check_end();
        self.readable.notify_one();
    }

    /// With `stop_at_end`, marks the source done once every assigned partition is at its
    /// end. Called after every push, assignment and end-of-partition report.
    fn check_end(&self) {
        let Some(ends) = &self.ends else { return };
        let mut ends = lock(ends);
        if ends.done() && !self.at_end.swap(true, Ordering::AcqRel) {
            tracing::info!(
                partitions = ends.assigned(),
                "Every assigned partition reached the end offset it had when assigned; the source ends"
            );
            drop(ends);
            self.readable.notify_one();
        }
    }

    /// Takes up to `max` buffered records, in arrival order (so in order per partition).
    fn take(&self, max: usize) -> Vec<Event> {
        let mut buffer = lock(&self.buffer);
        let n = buffer.len().min(max);
        let batch: Vec<Event> = buffer.drain(..n).collect();
        self.stats
            .buffered
            .store(buffer.len() as u64, Ordering::Relaxed);
        batch
    }

    fn fail(&self, reason: String) {
        lock(&self.failure).get_or_insert(reason);
    }
}

/// Reads a consumer group's topics; see the module documentation.
pub struct KafkaSource {
    shared: Arc<Shared>,
}

impl KafkaSource {
    /// Validates the config, joins the group and starts the poll thread.
    pub fn start(config: &KafkaSourceConfig) -> Result<Self, KafkaError> {
        config.validate()?;
        let shared = Arc::new(Shared {
            buffer: Mutex::new(VecDeque::new()),
            capacity: config.max_buffered_events,
            readable: Notify::new(),
            watermarks: Mutex::new(PartitionWatermarks::new()),
            acked: Condvar::new(),
            revoke_drain_timeout: config.revoke_drain_timeout,
            paused: AtomicBool::new(false),
            reading_stopped: AtomicBool::new(false),
            acker_created: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            ends: config
                .stop_at_end
                .then(|| Mutex::new(EndOffsets::default())),
            at_end: AtomicBool::new(false),
            auto_offset_reset: config.auto_offset_reset,
            failure: Mutex::new(None),
            thread: Mutex::new(None),
            stats: Arc::default(),
        });
        let consumer: BaseConsumer<WeirContext> = config
            .client_config()?
            .create_with_context(WeirContext {
                shared: Arc::clone(&shared),
            })
            .map_err(|e| KafkaError::client("consumer", &config.properties, &e))?;
        let topics: Vec<&str> = config.topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(|source| KafkaError::Subscribe {
                topics: config.topics.clone(),
                source,
            })?;
        let thread_shared = Arc::clone(&shared);
        let interval = config.commit_interval;
        let handle = std::thread::Builder::new()
            .name("weir-kafka-poll".into())
            .spawn(move || poll_loop(consumer, thread_shared, interval))
            .map_err(|e| KafkaError::Thread(e.to_string()))?;
        *lock(&shared.thread) = Some(handle);
        tracing::info!(group = %config.group_id, topics = ?config.topics, "Kafka source started");
        Ok(Self { shared })
    }

    /// Live counters (buffer depth, pauses, rebalances, commits).
    pub fn stats(&self) -> Arc<SourceStats> {
        Arc::clone(&self.shared.stats)
    }
}

impl Drop for KafkaSource {
    fn drop(&mut self) {
        // The pipeline stopped reading: pause, but keep the membership so in-flight events
        // can still be committed by the acker. Without an acker nobody will commit: stop.
        self.shared.reading_stopped.store(true, Ordering::Release);
        if !self.shared.acker_created.load(Ordering::Acquire) {
            self.shared.stop.store(true, Ordering::Release);
        }
    }
}

impl Source for KafkaSource {
    type Acker = KafkaAcker;

    fn acker(&self) -> KafkaAcker {
        self.shared.acker_created.store(true, Ordering::Release);
        KafkaAcker {
            shared: Arc::clone(&self.shared),
            closed: false,
        }
    }

    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Event>>, BoxError> {
        loop {
            // Registered before looking, so a push between the look and the wait is not lost.
            let readable = self.shared.readable.notified();
            // Read before taking: every record before the ends was pushed before `at_end`.
            let at_end = self.shared.at_end.load(Ordering::Acquire);
            let batch = self.shared.take(max.max(1));
            if !batch.is_empty() {
                return Ok(Some(batch));
            }
            if at_end {
                return Ok(None);
            }
            if self.shared.finished.load(Ordering::Acquire) {
                return match lock(&self.shared.failure).clone() {
                    Some(reason) => Err(Box::new(KafkaError::Consumer(reason))),
                    None => Ok(None),
                };
            }
            readable.await;
        }
    }
}

/// Acknowledges events of a [`KafkaSource`]: advances the per-partition watermarks that the
/// poll thread commits on the interval, on revocation and on close.
pub struct KafkaAcker {
    shared: Arc<Shared>,
    closed: bool,
}

impl Acker for KafkaAcker {
    async fn ack(&mut self, done: &[Position]) -> Result<(), BoxError> {
        let mut ignored = 0;
        {
            let mut watermarks = lock(&self.shared.watermarks);
            for position in done {
                let tp = TopicPartition::new(Arc::clone(&position.topic), position.partition);
                if !watermarks.ack(&tp, position.offset) {
                    ignored += 1;
                }
            }
        }
        self.shared.acked.notify_all();
        if ignored > 0 {
            SourceStats::bump(&self.shared.stats.ignored_acks, ignored);
            tracing::debug!(ignored, "Acknowledgements for partitions no longer owned");
        }
        if let Some(reason) = lock(&self.shared.failure).clone() {
            return Err(Box::new(KafkaError::Consumer(reason)));
        }
        Ok(())
    }

    async fn close(&mut self) -> Result<(), BoxError> {
        self.closed = true;
        self.shared.stop.store(true, Ordering::Release);
        let Some(handle) = lock(&self.shared.thread).take() else {
            return Ok(());
        };
        let joined = tokio::task::spawn_blocking(move || handle.join())
            .await
            .map_err(|e| KafkaError::Thread(e.to_string()))?;
        match joined {
            Ok(result) => Ok(result?),
            Err(_) => Err(Box::new(KafkaError::Thread(
                "the poll thread panicked".into(),
            ))),
        }
    }
}

impl Drop for KafkaAcker {
    fn drop(&mut self) {
        if !self.closed {
            // The poll thread still commits what was acknowledged, then leaves the group.
            self.shared.stop.store(true, Ordering::Release);
        }
    }
}
