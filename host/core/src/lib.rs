//! The core of weir: events, outcomes and the three seams every pipeline is built from
//! ([`Source`], [`Transform`], [`Sink`]), plus the [`Pipeline`] loop that ties them together
//! and only acknowledges what has been written.
//!
//! Nothing here knows about Kafka, Cassandra or WebAssembly; those live in their own crates
//! and implement these traits.

mod dead_letter;
mod event;
mod latency;
mod pipeline;
pub mod secret;
mod traits;

pub use dead_letter::TRUNCATED_VALUE_BYTES;
pub use dead_letter::{DeadLetter, DeadLetterHeaders};
pub use event::{ErrorClass, Event, Failure, Header, Position, Stage};
pub use latency::{LATENCY_BUCKETS_MS, LatencyHistogram, LatencySnapshot};
pub use pipeline::{
    DEFAULT_MAX_EVENT_BYTES, Pipeline, PipelineError, PipelineOptions, PipelineStats,
    ShutdownSignal, termination_signal,
};
pub use traits::{
    Acker, BoxError, DeadLetterSink, EventResult, Outputs, Sink, Source, Transform, WriteResults,
};
