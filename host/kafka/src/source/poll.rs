//! The poll thread and the rebalance callbacks that run on it: flow control (pause/resume),
//! conversion of records to events, and every commit.

use super::{Shared, SourceStats, lock};
use crate::config::AutoOffsetReset;
use crate::error::KafkaError;
use crate::watermarks::TopicPartition;
use bytes::Bytes;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};
use weir_core::{Event, Header, Position};

/// How long one `poll` waits; bounds the latency of pausing, resuming and stopping.
const POLL_TIMEOUT: Duration = Duration::from_millis(100);
/// How long `stop_at_end` waits for a partition's watermarks and committed offset.
const OFFSETS_TIMEOUT: Duration = Duration::from_secs(10);

impl Shared {
    /// With `stop_at_end`: takes each newly assigned partition's end offset (its high
    /// watermark now) and the offset the group starts from in it. If they cannot be read the
    /// source fails: it could otherwise never tell that it is done.
    fn record_ends(&self, consumer: &BaseConsumer<WeirContext>, tpl: &TopicPartitionList) {
        let Some(ends) = &self.ends else { return };
        let fail = |what: String, e: rdkafka::error::KafkaError| {
            self.fail(format!(
                "stop_at_end: cannot read {what} ({e}); without it the source cannot tell when it is done"
            ));
            self.stop.store(true, Ordering::Release);
        };
        let committed = match consumer.committed_offsets(tpl.clone(), OFFSETS_TIMEOUT) {
            Ok(committed) => committed,
            Err(e) => return fail("the committed offsets of the assigned partitions".into(), e),
        };
        for e in tpl.elements() {
            let (low, high) =
                match consumer.fetch_watermarks(e.topic(), e.partition(), OFFSETS_TIMEOUT) {
                    Ok(watermarks) => watermarks,
                    Err(err) => {
                        return fail(
                            format!("the end offset of {}[{}]", e.topic(), e.partition()),
                            err,
                        );
                    }
                };
            // A committed offset below the low watermark was deleted: the reset policy applies.
            let start = committed
                .find_partition(e.topic(), e.partition())
                .and_then(|c| match c.offset() {
                    Offset::Offset(o) if o >= low => Some(o),
                    _ => None,
                })
                .unwrap_or(match self.auto_offset_reset {
                    AutoOffsetReset::Earliest => low,
                    AutoOffsetReset::Latest => high,
                });
            tracing::debug!(partition = %TopicPartition::new(e.topic(), e.partition()), start, end = high, "End offset taken");
            lock(ends).assign(TopicPartition::new(e.topic(), e.partition()), high, start);
        }
        self.check_end();
    }

    /// Revocation, before librdkafka hands the partitions to another member: takes back
    /// their buffered records, gives the pipeline up to `revoke_drain_timeout` to finish the
    /// ones it holds, then commits what is done, synchronously, and forgets the partitions.
    fn revoke(&self, consumer: &BaseConsumer<WeirContext>, tpl: &TopicPartitionList) {
        let revoked: Vec<TopicPartition> = tpl
            .elements()
            .iter()
            .map(|e| TopicPartition::new(e.topic(), e.partition()))
            .collect();
        let mut watermarks = lock(&self.watermarks);
        {
            let mut buffer = lock(&self.buffer);
            buffer.retain(|e| {
                let tp = TopicPartition::new(Arc::clone(&e.position.topic), e.position.partition);
                if revoked.contains(&tp) {
                    watermarks.withdraw(&tp, e.position.offset);
                    return false;
                }
                true
            });
            self.stats
                .buffered
                .store(buffer.len() as u64, Ordering::Relaxed);
        }
        // On stop nobody will acknowledge more; otherwise wait, bounded, for the pipeline.
        let deadline = Instant::now() + self.revoke_drain_timeout;
        loop {
            let draining = revoked
                .iter()
                .filter(|tp| watermarks.in_flight(tp) > 0)
                .count();
            self.stats
                .draining_partitions
                .store(draining as u64, Ordering::Relaxed);
            if draining == 0 || self.stop.load(Ordering::Acquire) {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(
                    timeout = ?self.revoke_drain_timeout,
                    "Revoked partitions still have events in flight; their next owner re-reads them"
                );
                break;
            }
            watermarks = self
                .acked
                .wait_timeout(watermarks, left.min(POLL_TIMEOUT))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        self.stats.draining_partitions.store(0, Ordering::Relaxed);
        let offsets: Vec<(TopicPartition, i64)> = revoked
            .iter()
            .filter_map(|tp| watermarks.revoke(tp).map(|o| (tp.clone(), o)))
            .collect();
        drop(watermarks);
        if let Some(ends) = &self.ends {
            let mut ends = lock(ends);
            revoked.iter().for_each(|tp| ends.revoke(tp));
            drop(ends);
            self.check_end();
        }
        SourceStats::bump(&self.stats.partitions_revoked, revoked.len() as u64);
        tracing::info!(partitions = ?revoked.iter().map(ToString::to_string).collect::<Vec<_>>(), "Partitions revoked");
        if let Err(e) = commit(consumer, &offsets) {
            SourceStats::bump(&self.stats.commit_failures, 1);
            tracing::warn!(error = %e, "Commit on revocation failed; the next owner re-reads from the last commit");
        } else if !offsets.is_empty() {
            SourceStats::bump(&self.stats.commits, 1);
        }
    }
}

/// Rebalance callbacks: they run on the poll thread, inside `poll`.
pub(super) struct WeirContext {
    pub(super) shared: Arc<Shared>,
}

impl ClientContext for WeirContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, facility: &str, message: &str) {
        crate::logging::forward(level, facility, message);
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        crate::logging::client_error(&error, reason);
        // librdkafka would retry a refused login forever; a wrong password does not heal.
        if crate::logging::is_login_refused(&error) {
            self.shared.fail(format!(
                "Kafka refused the login ({reason}); check `sasl.mechanism`, `sasl.username` \
                 and `sasl.password` in `source.properties`"
            ));
        }
    }

    fn stats(&self, statistics: rdkafka::Statistics) {
        self.shared.stats.record_lag(&statistics);
    }
}

impl ConsumerContext for WeirContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let mut watermarks = lock(&self.shared.watermarks);
                for e in tpl.elements() {
                    watermarks.assign(TopicPartition::new(e.topic(), e.partition()));
                }
                drop(watermarks);
                SourceStats::bump(&self.shared.stats.partitions_assigned, tpl.count() as u64);
                tracing::info!(partitions = tpl.count(), "Partitions assigned");
                self.shared.record_ends(consumer, tpl);
            }
            Rebalance::Revoke(tpl) => self.shared.revoke(consumer, tpl),
            Rebalance::Error(e) => tracing::warn!(error = %e, "Rebalance failed"),
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        // Newly assigned partitions start unpaused; keep the bound while the buffer is full.
        if let Rebalance::Assign(tpl) = rebalance
            && self.shared.paused.load(Ordering::Relaxed)
            && let Err(e) = consumer.pause(tpl)
        {
            tracing::warn!(error = %e, "Pausing newly assigned partitions failed");
        }
    }
}

/// Commits `offsets` (next offset to read, per partition) synchronously.
fn commit(
    consumer: &BaseConsumer<WeirContext>,
    offsets: &[(TopicPartition, i64)],
) -> Result<(), KafkaError> {
    if offsets.is_empty() {
        return Ok(());
    }
    let describe = || {
        offsets
            .iter()
            .map(|(tp, o)| format!("{tp}@{o}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut tpl = TopicPartitionList::new();
    for (tp, offset) in offsets {
        tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*offset))
            .map_err(|source| KafkaError::Commit {
                offsets: describe(),
                source,
            })?;
    }
    consumer
        .commit(&tpl, CommitMode::Sync)
        .map_err(|source| KafkaError::Commit {
            offsets: describe(),
            source,
        })
}

/// Commits whatever the watermarks allow and records it.
fn commit_done(consumer: &BaseConsumer<WeirContext>, shared: &Shared) -> Result<(), KafkaError> {
    let offsets = lock(&shared.watermarks).committable();
    if offsets.is_empty() {
        return Ok(());
    }
    match commit(consumer, &offsets) {
        Ok(()) => {
            lock(&shared.watermarks).committed(&offsets);
            SourceStats::bump(&shared.stats.commits, 1);
            tracing::debug!(partitions = offsets.len(), "Committed acknowledged offsets");
            Ok(())
        }
        Err(e) => {
            SourceStats::bump(&shared.stats.commit_failures, 1);
            Err(e)
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Interns topic names so every event of a topic shares one `Arc<str>`.
#[derive(Default)]
struct TopicNames(HashMap<String, Arc<str>>);

impl TopicNames {
    fn get(&mut self, topic: &str) -> Arc<str> {
        if let Some(name) = self.0.get(topic) {
            return Arc::clone(name);
        }
        let name: Arc<str> = Arc::from(topic);
        self.0.insert(topic.to_owned(), Arc::clone(&name));
        name
    }
}

fn to_event(message: &BorrowedMessage<'_>, topics: &mut TopicNames) -> Event {
    let headers = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|h| Header::new(h.key, Bytes::copy_from_slice(h.value.unwrap_or_default())))
                .collect()
        })
        .unwrap_or_default();
    Event {
        key: message.key().map(Bytes::copy_from_slice),
        value: message
            .payload()
            .map(Bytes::copy_from_slice)
            .unwrap_or_default(),
        headers,
        timestamp_ms: message.timestamp().to_millis().unwrap_or_else(now_ms),
        position: Position {
            topic: topics.get(message.topic()),
            partition: message.partition(),
            offset: message.offset(),
        },
    }
}

fn set_paused(consumer: &BaseConsumer<WeirContext>, shared: &Shared, pause: bool) {
    let assignment = match consumer.assignment() {
        Ok(assignment) => assignment,
        Err(e) => {
            tracing::warn!(error = %e, "Reading the assignment failed; will retry");
            return;
        }
    };
    let result = if pause {
        consumer.pause(&assignment)
    } else {
        consumer.resume(&assignment)
    };
    match result {
        Ok(()) => {
            shared.paused.store(pause, Ordering::Relaxed);
            let counter = if pause {
                &shared.stats.pauses
            } else {
                &shared.stats.resumes
            };
            SourceStats::bump(counter, 1);
            tracing::debug!(pause, partitions = assignment.count(), "Flow control");
        }
        Err(e) => {
            tracing::warn!(error = %e, pause, "Pausing or resuming partitions failed; will retry")
        }
    }
}

/// The poll thread: polls, applies flow control, commits on the interval, and on stop makes
/// a final synchronous commit before leaving the group.
pub(super) fn poll_loop(
    consumer: BaseConsumer<WeirContext>,
    shared: Arc<Shared>,
    commit_interval: Duration,
) -> Result<(), KafkaError> {
    let mut topics = TopicNames::default();
    let mut last_commit = Instant::now();
    let result = loop {
        if shared.stop.load(Ordering::Acquire) {
            break Ok(());
        }
        if let Some(reason) = lock(&shared.failure).clone() {
            break Err(KafkaError::Consumer(reason));
        }
        let reading = !shared.reading_stopped.load(Ordering::Acquire);
        let buffered = shared.buffered();
        let paused = shared.paused.load(Ordering::Relaxed);
        if !paused && (!reading || buffered >= shared.capacity) {
            set_paused(&consumer, &shared, true);
        } else if paused && reading && buffered <= shared.capacity / 2 {
            set_paused(&consumer, &shared, false);
        }
        match consumer.poll(POLL_TIMEOUT) {
            Some(Ok(message)) => shared.push(to_event(&message, &mut topics)),
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(partition))) => {
                if let Some(ends) = &shared.ends {
                    lock(ends).partition_eof(partition);
                }
                shared.check_end();
            }
            Some(Err(e)) if e.rdkafka_error_code() == Some(RDKafkaErrorCode::Fatal) => {
                let reason = e.to_string();
                shared.fail(reason.clone());
                break Err(KafkaError::Consumer(reason));
            }
            Some(Err(e)) => tracing::warn!(error = %e, "Kafka consumer error; librdkafka retries"),
            None => {}
        }
        if last_commit.elapsed() >= commit_interval {
            last_commit = Instant::now();
            if let Err(e) = commit_done(&consumer, &shared) {
                tracing::warn!(error = %e, "Periodic commit failed; retrying at the next interval");
            }
        }
    };
    let last = commit_done(&consumer, &shared);
    // Dropping the consumer leaves the group; its revocation commits nothing new.
    drop(consumer);
    shared.finished.store(true, Ordering::Release);
    shared.readable.notify_one();
    result.and(last)
}
