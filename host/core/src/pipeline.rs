//! Source → transform → sink, with dead letters, and acknowledgement only after the write.
//!
//! Three stages run concurrently, joined by bounded channels, so at most
//! `max_batches_in_flight` batches exist between the source and the acknowledgement: when the
//! sink slows down, the source is simply not asked for more. Batches stay in source order
//! through every stage, so acknowledgements arrive in order within each partition.

use crate::dead_letter::DeadLetter;
use crate::event::{ErrorClass, Event, Failure, Stage};
use crate::latency::LatencyHistogram;
use crate::traits::{Acker, BoxError, DeadLetterSink, EventResult, Sink, Source, Transform};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::sync::{mpsc, watch};

/// Tuning knobs of the pipeline loop.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// Most events asked of the source at once; also the plugin batch size.
    pub batch_size: usize,
    /// Most batches between the source and the acknowledgement at any time.
    pub max_batches_in_flight: usize,
    /// Largest event (key, value and headers, see [`Event::size`]) given to the transform;
    /// a larger one is dead-lettered as `too-large` without running any plugin.
    pub max_event_bytes: usize,
}

/// The default of [`PipelineOptions::max_event_bytes`]: 1 MiB, Kafka's default record limit.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 1 << 20;

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            batch_size: 512,
            max_batches_in_flight: 4,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        }
    }
}

/// Live counters of a running pipeline; shared with metrics and the status line.
#[derive(Debug, Default)]
pub struct PipelineStats {
    /// Events read from the source.
    pub events_in: AtomicU64,
    /// Events written to the sink (outputs of the transform).
    pub events_out: AtomicU64,
    /// Source events sent to the dead-letter destination.
    pub dead_lettered: AtomicU64,
    /// Source events acknowledged (written or dead-lettered).
    pub acknowledged: AtomicU64,
    /// Batches completed.
    pub batches: AtomicU64,
    /// Nanoseconds spent in the transform stage.
    pub transform_nanos: AtomicU64,
    /// Nanoseconds spent waiting for the sink.
    pub sink_nanos: AtomicU64,
    /// Source events by time from their record timestamp to the sink's acknowledgement.
    pub event_latency: LatencyHistogram,
    /// Dead-lettered events by (stage, error class).
    failures: std::sync::Mutex<std::collections::BTreeMap<(String, &'static str), u64>>,
}

impl PipelineStats {
    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn count_failures(&self, letters: &[DeadLetter]) {
        if let Ok(mut map) = self.failures.lock() {
            for letter in letters {
                let key = (
                    letter.failure.stage.to_string(),
                    letter.failure.class.as_str(),
                );
                *map.entry(key).or_default() += 1;
            }
        }
    }

    /// Dead-lettered events so far, by stage (`plugin:NAME@VERSION`, `sink`…) and class.
    pub fn failures(&self) -> Vec<(String, &'static str, u64)> {
        self.failures
            .lock()
            .map(|m| m.iter().map(|((s, c), n)| (s.clone(), *c, *n)).collect())
            .unwrap_or_default()
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Tells a running pipeline to stop reading, drain what is in flight and commit.
#[derive(Debug, Clone)]
pub struct ShutdownSignal(watch::Receiver<bool>);

impl ShutdownSignal {
    /// A signal and the function that fires it.
    pub fn new() -> (impl Fn() + Send + Sync + Clone + 'static, ShutdownSignal) {
        let (tx, rx) = watch::channel(false);
        let tx = Arc::new(tx);
        (
            move || {
                tx.send_replace(true);
            },
            ShutdownSignal(rx),
        )
    }

    /// A signal that never fires, for runs that end with their input.
    pub fn never() -> ShutdownSignal {
        let (tx, rx) = watch::channel(false);
        std::mem::forget(tx);
        ShutdownSignal(rx)
    }

    fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    async fn fired(&mut self) {
        if self.0.wait_for(|set| *set).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Why a pipeline stopped before draining.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The source failed.
    #[error("source failed: {0}")]
    Source(#[source] BoxError),
    /// The sink could not go on.
    #[error("sink failed: {0}")]
    Sink(#[source] BoxError),
    /// Dead letters could not be written, so the events they cover were not acknowledged.
    #[error("dead-letter destination failed: {0}")]
    DeadLetter(#[source] BoxError),
    /// Progress could not be committed.
    #[error("acknowledging progress failed: {0}")]
    Ack(#[source] BoxError),
    /// The transform stage panicked (a host bug; plugin faults never get here).
    #[error("transform stage stopped unexpectedly: {0}")]
    Transform(String),
}

/// A pipeline: one source, one transform (usually the plugin chain), one sink and one
/// dead-letter destination.
pub struct Pipeline<S, T, K, D> {
    source: S,
    transform: T,
    sink: K,
    dead_letters: D,
    options: PipelineOptions,
    stats: Arc<PipelineStats>,
}

struct Transformed {
    batch: Vec<Event>,
    results: Vec<EventResult>,
}

impl<S, T, K, D> Pipeline<S, T, K, D>
where
    S: Source,
    T: Transform,
    K: Sink,
    D: DeadLetterSink,
{
    /// Assembles a pipeline.
    pub fn new(
        source: S,
        transform: T,
        sink: K,
        dead_letters: D,
        options: PipelineOptions,
    ) -> Self {
        Self {
            source,
            transform,
            sink,
            dead_letters,
            options,
            stats: Arc::default(),
        }
    }

    /// The live counters, for metrics and progress output.
    pub fn stats(&self) -> Arc<PipelineStats> {
        Arc::clone(&self.stats)
    }

    /// Runs until the source ends or `shutdown` fires, then drains and commits.
    pub async fn run(self, shutdown: ShutdownSignal) -> Result<Arc<PipelineStats>, PipelineError> {
        let Pipeline {
            source,
            transform,
            sink,
            dead_letters,
            options,
            stats,
        } = self;
        let acker = source.acker();
        let depth = options.max_batches_in_flight.max(1);
        let (to_transform, from_source) = mpsc::channel(depth);
        let (to_sink, from_transform) = mpsc::channel(depth);

        tokio::try_join!(
            read(
                source,
                options.batch_size.max(1),
                to_transform,
                shutdown,
                &stats
            ),
            transform_stage(
                transform,
                options.max_event_bytes,
                from_source,
                to_sink,
                &stats
            ),
            write(sink, dead_letters, acker, from_transform, &stats),
        )?;
        Ok(stats)
    }
}

async fn read<S: Source>(
    mut source: S,
    batch_size: usize,
    out: mpsc::Sender<Vec<Event>>,
    mut shutdown: ShutdownSignal,
    stats: &PipelineStats,
) -> Result<(), PipelineError> {
    loop {
        if shutdown.is_set() {
            tracing::info!("Shutdown requested: no more reading; draining what is in flight");
            return Ok(());
        }
        // Waiting for capacity first means a slow sink stops the reading, not a buffer.
        let Ok(permit) = out.reserve().await else {
            return Ok(());
        };
        let batch = tokio::select! {
            batch = source.next_batch(batch_size) => batch.map_err(PipelineError::Source)?,
            () = shutdown.fired() => continue,
        };
        let Some(batch) = batch else {
            return Ok(());
        };
        if batch.is_empty() {
            continue;
        }
        PipelineStats::add(&stats.events_in, batch.len());
        permit.send(batch);
    }
}

async fn transform_stage<T: Transform>(
    mut transform: T,
    max_event_bytes: usize,
    mut input: mpsc::Receiver<Vec<Event>>,
    out: mpsc::Sender<Transformed>,
    stats: &PipelineStats,
) -> Result<(), PipelineError> {
    while let Some(batch) = input.recv().await {
        let started = Instant::now();
        // Plugins are CPU-bound: run them off the I/O threads.
        let (t, batch, results) = tokio::task::spawn_blocking(move || {
            let results = transform_within(&mut transform, &batch, max_event_bytes);
            (transform, batch, results)
        })
        .await
        .map_err(|e| PipelineError::Transform(e.to_string()))?;
        transform = t;
        stats
            .transform_nanos
            .fetch_add(elapsed_nanos(started), Ordering::Relaxed);
        if results.len() != batch.len() {
            return Err(PipelineError::Transform(format!(
                "the transform returned {} results for {} events",
                results.len(),
                batch.len()
            )));
        }
        if out.send(Transformed { batch, results }).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Runs the transform on the events of `batch` within `max_event_bytes`; the others fail as
/// `too-large`. Results stay in batch order.
fn transform_within<T: Transform>(
    transform: &mut T,
    batch: &[Event],
    max_event_bytes: usize,
) -> Vec<EventResult> {
    if batch.iter().all(|e| e.size() <= max_event_bytes) {
        return transform.transform(batch);
    }
    let fitting: Vec<Event> = batch
        .iter()
        .filter(|e| e.size() <= max_event_bytes)
        .cloned()
        .collect();
    let mut transformed = transform.transform(&fitting).into_iter();
    batch
        .iter()
        .map(|event| {
            if event.size() > max_event_bytes {
                Err(too_large(event, max_event_bytes))
            } else {
                // The transform returns one result per event (checked by the caller, whose
                // length check then fails if it did not).
                transformed.next().unwrap_or_else(|| {
                    Err(Failure::new(
                        Stage::Source,
                        ErrorClass::PluginContract,
                        "the transform returned fewer results than events",
                    ))
                })
            }
        })
        .collect()
}

fn too_large(event: &Event, max_event_bytes: usize) -> Failure {
    let key = event.key.as_deref().map_or_else(
        || "no key".to_owned(),
        |k| {
            let shown: String = String::from_utf8_lossy(k).chars().take(64).collect();
            format!("key `{shown}`")
        },
    );
    Failure::new(
        Stage::Source,
        ErrorClass::TooLarge,
        format!(
            "event of {} bytes ({key}, value {} bytes) exceeds pipeline.max_event_bytes = {max_event_bytes}; \
             no plugin ran. Raise the limit if such events are legitimate",
            event.size(),
            event.value.len()
        ),
    )
}

async fn write<K: Sink, D: DeadLetterSink, A: Acker>(
    mut sink: K,
    mut dead_letters: D,
    mut acker: A,
    mut input: mpsc::Receiver<Transformed>,
    stats: &PipelineStats,
) -> Result<(), PipelineError> {
    while let Some(Transformed { batch, results }) = input.recv().await {
        // Flatten the outputs, remembering which source event each came from.
        let mut outputs = Vec::with_capacity(batch.len());
        let mut owners = Vec::with_capacity(batch.len());
        let mut failures: Vec<Option<Failure>> = vec![None; batch.len()];
        for (index, result) in results.into_iter().enumerate() {
            match result {
                Ok(events) => {
                    owners.extend(std::iter::repeat_n(index, events.len()));
                    outputs.extend(events);
                }
                Err(failure) => failures[index] = Some(failure),
            }
        }

        let written = outputs.len();
        let started = Instant::now();
        let write_results = if outputs.is_empty() {
            Vec::new()
        } else {
            sink.write(outputs).await.map_err(PipelineError::Sink)?
        };
        stats
            .sink_nanos
            .fetch_add(elapsed_nanos(started), Ordering::Relaxed);
        stats.event_latency.record_acknowledged(&batch);
        let mut refused = 0;
        for (owner, result) in owners.into_iter().zip(write_results) {
            if let Err(failure) = result {
                refused += 1;
                // The first failure of a source event decides its dead letter.
                failures[owner].get_or_insert(failure);
            }
        }

        let letters: Vec<DeadLetter> = batch
            .iter()
            .zip(failures)
            .filter_map(|(event, failure)| {
                failure.map(|failure| DeadLetter::new(event.clone(), failure))
            })
            .collect();
        let dead = letters.len();
        if !letters.is_empty() {
            stats.count_failures(&letters);
            for letter in &letters {
                tracing::debug!(position = %letter.event.position, failure = %letter.failure, "Dead-lettering event");
            }
            dead_letters
                .send(letters)
                .await
                .map_err(PipelineError::DeadLetter)?;
        }

        let positions: Vec<_> = batch.iter().map(|e| e.position.clone()).collect();
        acker.ack(&positions).await.map_err(PipelineError::Ack)?;
        PipelineStats::add(&stats.events_out, written - refused);
        PipelineStats::add(&stats.dead_lettered, dead);
        PipelineStats::add(&stats.acknowledged, batch.len());
        PipelineStats::add(&stats.batches, 1);
    }
    sink.flush().await.map_err(PipelineError::Sink)?;
    acker.close().await.map_err(PipelineError::Ack)?;
    Ok(())
}

fn elapsed_nanos(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Completes on the first SIGINT or SIGTERM; never when no handler can be installed.
/// Shared by every command that stops gracefully.
pub async fn termination_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {},
                    _ = term.recv() => {},
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Position;
    use bytes::Bytes;

    /// Echoes every event it is given and remembers their offsets.
    struct Echo(Vec<i64>);

    impl Transform for Echo {
        fn transform(&mut self, batch: &[Event]) -> Vec<EventResult> {
            self.0.extend(batch.iter().map(|e| e.position.offset));
            batch.iter().map(|e| Ok(vec![e.clone()].into())).collect()
        }
    }

    fn event(offset: i64, value_len: usize) -> Event {
        Event {
            key: Some(Bytes::from(format!("k{offset}"))),
            value: Bytes::from(vec![b'x'; value_len]),
            headers: Vec::new(),
            timestamp_ms: 0,
            position: Position {
                topic: "t".into(),
                partition: 0,
                offset,
            },
        }
    }

    #[test]
    fn an_event_over_max_event_bytes_fails_as_too_large_and_no_plugin_sees_it() {
        let batch = [event(0, 10), event(1, 1000), event(2, 10)];
        let mut echo = Echo(Vec::new());
        let results = transform_within(&mut echo, &batch, 100);
        assert_eq!(
            echo.0,
            [0, 2],
            "the plugin saw only the events within the limit"
        );
        assert_eq!(results.len(), 3);
        assert!(results[0].is_ok() && results[2].is_ok());
        let failure = results[1].as_ref().expect_err("too large");
        assert_eq!(failure.class, ErrorClass::TooLarge);
        assert_eq!(failure.stage, Stage::Source);
        assert!(
            failure
                .message
                .contains("event of 1002 bytes (key `k1`, value 1000 bytes)")
                && failure.message.contains("pipeline.max_event_bytes = 100"),
            "{}",
            failure.message
        );
        let letter = DeadLetter::new(batch[1].clone(), failure.clone());
        assert_eq!(
            letter.event.value.len(),
            1000,
            "short values are kept whole"
        );
    }
}
