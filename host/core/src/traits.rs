//! The seams of a pipeline. Each implementation lives in its own crate (file and Kafka
//! sources, the WebAssembly plugin chain, JSONL and Cassandra sinks) and brings its own
//! typed errors; the pipeline only needs to know whether a call failed.

use crate::dead_letter::DeadLetter;
use crate::event::{Event, Failure, Position};
use std::future::Future;

/// Any error a component reports to the pipeline.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The outputs of one input event. Nearly every event has exactly one, which is stored
/// inline: a `Vec` here would cost an allocation and a free per event, a large share of the
/// whole per-event budget of a fast plugin.
pub type Outputs = smallvec::SmallVec<[Event; 1]>;

/// What a transform made of one input event: its outputs (zero, one or many), or the failure
/// that sends it to the dead-letter destination.
pub type EventResult = Result<Outputs, Failure>;

/// One result per event written: `Ok` once the sink acknowledged it, `Err` for an event the
/// sink refused for good (it goes to the dead-letter destination).
pub type WriteResults = Vec<Result<(), Failure>>;

/// Where events come from.
pub trait Source: Send + 'static {
    /// Acknowledges progress; handed to the stage that finishes events, so reading and
    /// acknowledging never wait on each other.
    type Acker: Acker;

    /// The acknowledger for this source. Called once, before the first batch.
    fn acker(&self) -> Self::Acker;

    /// The next batch of at most `max` events, in source order within each partition.
    /// `Ok(None)` means the source has ended (end of file) and the pipeline should drain.
    fn next_batch(
        &mut self,
        max: usize,
    ) -> impl Future<Output = Result<Option<Vec<Event>>, BoxError>> + Send;
}

/// Records that events are done (written or dead-lettered), so the source may commit them.
pub trait Acker: Send + 'static {
    /// Every event at these positions has been written to the sink or to the dead-letter
    /// destination, and that write was acknowledged. Positions of one partition arrive in
    /// increasing order.
    fn ack(&mut self, done: &[Position]) -> impl Future<Output = Result<(), BoxError>> + Send;

    /// Final commit of everything acknowledged, on shutdown.
    fn close(&mut self) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// A synchronous, CPU-bound stage: the plugin chain. The pipeline runs it off the I/O runtime.
pub trait Transform: Send + 'static {
    /// Transforms a batch. Returns exactly one result per input event, in input order.
    fn transform(&mut self, batch: &[Event]) -> Vec<EventResult>;
}

/// The identity transform: a pipeline without plugins.
impl Transform for () {
    fn transform(&mut self, batch: &[Event]) -> Vec<EventResult> {
        batch
            .iter()
            .map(|event| Ok(std::iter::once(event.clone()).collect()))
            .collect()
    }
}

/// Where transformed events go.
pub trait Sink: Send + 'static {
    /// Writes a batch and waits for acknowledgement. Returns one result per event, in order.
    /// Retryable trouble is the sink's to retry within its budget; `Err` means the sink cannot
    /// go on at all, and the pipeline stops without acknowledging the batch.
    fn write(
        &mut self,
        batch: Vec<Event>,
    ) -> impl Future<Output = Result<WriteResults, BoxError>> + Send;

    /// Flushes anything buffered; called once when the pipeline drains.
    fn flush(&mut self) -> impl Future<Output = Result<(), BoxError>> + Send {
        async { Ok(()) }
    }
}

/// Where failed events go, with their reason.
pub trait DeadLetterSink: Send + 'static {
    /// Writes the dead letters and waits for acknowledgement. `Err` stops the pipeline: an
    /// event is never acknowledged unless it is either written or dead-lettered.
    fn send(
        &mut self,
        letters: Vec<DeadLetter>,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;
}
