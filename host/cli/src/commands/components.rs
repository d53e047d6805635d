//! Builds the configured source, sink and dead-letter destination. Each is an enum over the
//! available implementations, so one pipeline type serves every combination.

use crate::config::{DeadLetterConfig, SinkConfig, SourceConfig, WeirConfig};
use anyhow::{Context, Result};
use weir_core::{
    Acker, BoxError, DeadLetter, DeadLetterSink, Event, Position, Sink, Source, WriteResults,
};
use weir_file::{FileSource, JsonlDeadLetters, JsonlSink, NullSink};

/// The configured source.
pub enum AnySource {
    /// JSONL file or stdin.
    File(FileSource),
}

/// The configured source's acknowledger.
pub enum AnyAcker {
    /// Files commit nothing.
    File(<FileSource as Source>::Acker),
}

/// The configured sink.
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
}

/// Opens the source, sink and dead-letter destination of a config.
pub async fn build(config: &WeirConfig) -> Result<(AnySource, AnySink, AnyDeadLetters)> {
    let source = match &config.source {
        SourceConfig::File(file) => AnySource::File(
            FileSource::open(file)
                .await
                .context("source (type = \"file\")")?,
        ),
    };
    let sink = match &config.sink {
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
    };
    let dead_letters = match &config.dead_letter {
        DeadLetterConfig::Jsonl { path } => AnyDeadLetters::Jsonl(
            JsonlDeadLetters::open(path)
                .await
                .context("dead_letter (type = \"jsonl\")")?,
        ),
    };
    Ok((source, sink, dead_letters))
}

impl Source for AnySource {
    type Acker = AnyAcker;

    fn acker(&self) -> AnyAcker {
        match self {
            AnySource::File(s) => AnyAcker::File(s.acker()),
        }
    }

    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Event>>, BoxError> {
        match self {
            AnySource::File(s) => s.next_batch(max).await,
        }
    }
}

impl Acker for AnyAcker {
    async fn ack(&mut self, done: &[Position]) -> Result<(), BoxError> {
        match self {
            AnyAcker::File(a) => a.ack(done).await,
        }
    }

    async fn close(&mut self) -> Result<(), BoxError> {
        match self {
            AnyAcker::File(a) => a.close().await,
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
        }
    }
}
