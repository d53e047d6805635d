//! Builds the configured source, sink and dead-letter destination. Each is an enum over the
//! available implementations, so one pipeline type serves every combination. Every command
//! that runs a pipeline runs it through [`run_on_worker`].

use crate::config::{DeadLetterConfig, SinkConfig, SourceConfig, WeirConfig};
use anyhow::{Context, Result};
use std::sync::Arc;
use weir_core::{
    Acker, BoxError, DeadLetter, DeadLetterSink, Event, PipelineError, PipelineStats, Position,
    Sink, Source, WriteResults,
};
use weir_file::{FileSource, JsonlDeadLetters, JsonlSink, NullSink};

/// The configured source.
pub enum AnySource {
    /// JSONL file or stdin.
    File(FileSource),
    /// Kafka consumer group.
    Kafka(weir_kafka::KafkaSource),
}

/// The configured source's acknowledger.
pub enum AnyAcker {
    /// Files commit nothing.
    File(<FileSource as Source>::Acker),
    /// Commits Kafka offsets behind a per-partition watermark.
    Kafka(weir_kafka::KafkaAcker),
}

/// The configured sink.
#[allow(
    clippy::large_enum_variant,
    reason = "one sink per pipeline, built once and moved once into it"
)]
pub enum AnySink {
    /// Lines to stdout or a file.
    Jsonl(JsonlSink),
    /// Nothing.
    Null(NullSink),
    /// Cassandra or ScyllaDB.
    Cassandra(weir_cassandra::CassandraSink),
}

/// The configured dead-letter destination.
pub enum AnyDeadLetters {
    /// A JSONL file.
    Jsonl(JsonlDeadLetters),
    /// A Kafka topic.
    Kafka(weir_kafka::KafkaDeadLetters),
}

/// The opened components plus their live counters, for metrics.
pub struct Components {
    /// The source.
    pub source: AnySource,
    /// The sink.
    pub sink: AnySink,
    /// The dead-letter destination.
    pub dead_letters: AnyDeadLetters,
    /// Metrics of the parts that have them.
    pub kafka_stats: Option<std::sync::Arc<weir_kafka::SourceStats>>,
    /// Cassandra sink counters.
    pub cassandra_metrics: Option<std::sync::Arc<weir_cassandra::SinkMetrics>>,
}

/// Opens the source, sink and dead-letter destination of a config. The sink and dead
/// letters are opened first, so a wrong address fails before a consumer joins its group.
pub async fn build(config: &WeirConfig) -> Result<Components> {
    let sink = build_sink(&config.sink).await?;
    let dead_letters = build_dead_letters(config).await?;
    let source = match &config.source {
        SourceConfig::File(file) => AnySource::File(
            FileSource::open(file)
                .await
                .context("source (type = \"file\")")?,
        ),
        SourceConfig::Kafka(kafka) => AnySource::Kafka(
            weir_kafka::KafkaSource::start(kafka).context("source (type = \"kafka\")")?,
        ),
    };
    let kafka_stats = match &source {
        AnySource::Kafka(k) => Some(k.stats()),
        AnySource::File(_) => None,
    };
    let cassandra_metrics = match &sink {
        AnySink::Cassandra(c) => Some(c.metrics()),
        _ => None,
    };
    Ok(Components {
        source,
        sink,
        dead_letters,
        kafka_stats,
        cassandra_metrics,
    })
}

/// Opens the configured sink.
pub async fn build_sink(sink: &SinkConfig) -> Result<AnySink> {
    Ok(match sink {
        SinkConfig::Stdout {} => AnySink::Jsonl(JsonlSink::stdout()),
        SinkConfig::Jsonl { path } => AnySink::Jsonl(
            JsonlSink::create(path)
                .await
                .context("sink (type = \"jsonl\")")?,
        ),
        SinkConfig::Null {} => AnySink::Null(NullSink),
        SinkConfig::Cassandra(cassandra) => AnySink::Cassandra(
            weir_cassandra::CassandraSink::connect(cassandra.clone())
                .await
                .context("sink (type = \"cassandra\")")?,
        ),
    })
}

/// Opens the configured dead-letter destination.
pub async fn build_dead_letters(config: &WeirConfig) -> Result<AnyDeadLetters> {
    Ok(match &config.dead_letter {
        DeadLetterConfig::Jsonl { path } => AnyDeadLetters::Jsonl(
            JsonlDeadLetters::open(path)
                .await
                .context("dead_letter (type = \"jsonl\")")?,
        ),
        DeadLetterConfig::Kafka(dlq) => AnyDeadLetters::Kafka(
            weir_kafka::KafkaDeadLetters::new(dlq, &source_brokers(config))
                .context("dead_letter (type = \"kafka\")")?,
        ),
    })
}

/// The source's brokers, which a Kafka dead-letter topic uses unless it names its own.
pub fn source_brokers(config: &WeirConfig) -> weir_kafka::Brokers {
    match &config.source {
        SourceConfig::Kafka(k) => k.brokers.clone(),
        SourceConfig::File(_) => weir_kafka::Brokers(Vec::new()),
    }
}

impl Source for AnySource {
    type Acker = AnyAcker;

    fn acker(&self) -> AnyAcker {
        match self {
            AnySource::File(s) => AnyAcker::File(s.acker()),
            AnySource::Kafka(s) => AnyAcker::Kafka(s.acker()),
        }
    }

    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Event>>, BoxError> {
        match self {
            AnySource::File(s) => s.next_batch(max).await,
            AnySource::Kafka(s) => s.next_batch(max).await,
        }
    }
}

impl Acker for AnyAcker {
    async fn ack(&mut self, done: &[Position]) -> Result<(), BoxError> {
        match self {
            AnyAcker::File(a) => a.ack(done).await,
            AnyAcker::Kafka(a) => a.ack(done).await,
        }
    }

    async fn close(&mut self) -> Result<(), BoxError> {
        match self {
            AnyAcker::File(a) => a.close().await,
            AnyAcker::Kafka(a) => a.close().await,
        }
    }
}

impl Sink for AnySink {
    async fn write(&mut self, batch: Vec<Event>) -> Result<WriteResults, BoxError> {
        match self {
            AnySink::Jsonl(s) => s.write(batch).await,
            AnySink::Null(s) => s.write(batch).await,
            AnySink::Cassandra(s) => s.write(batch).await,
        }
    }

    async fn flush(&mut self) -> Result<(), BoxError> {
        match self {
            AnySink::Jsonl(s) => s.flush().await,
            AnySink::Null(s) => s.flush().await,
            AnySink::Cassandra(s) => s.flush().await,
        }
    }
}

impl DeadLetterSink for AnyDeadLetters {
    async fn send(&mut self, letters: Vec<DeadLetter>) -> Result<(), BoxError> {
        match self {
            AnyDeadLetters::Jsonl(d) => d.send(letters).await,
            AnyDeadLetters::Kafka(d) => d.send(letters).await,
        }
    }
}

/// Runs a pipeline (`pipeline.run(shutdown)`) as a task on a worker thread, beside the
/// Cassandra driver's connection tasks: a request and its response then wake tasks on the
/// same thread instead of crossing from `block_on`'s thread with a futex wake-up each.
pub async fn run_on_worker<F>(run: F) -> Result<Arc<PipelineStats>, PipelineError>
where
    F: Future<Output = Result<Arc<PipelineStats>, PipelineError>> + Send + 'static,
{
    match tokio::spawn(run).await {
        Ok(result) => result,
        Err(e) => Err(PipelineError::Transform(format!(
            "the pipeline task ended abnormally: {e}"
        ))),
    }
}
