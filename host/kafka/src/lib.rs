//! Kafka for weir: the consumer-group [`KafkaSource`] that commits only what the pipeline
//! acknowledged (per-partition [`PartitionWatermarks`]), the [`KafkaDeadLetters`] topic, the
//! idempotent [`KafkaProducer`] that `weir ingest` uses, and [`create_topics`].
//!
//! librdkafka is confined to this crate.

mod admin;
mod config;
mod error;
mod logging;
mod producer;
mod source;
mod watermarks;

pub use admin::create_topics;
pub use config::{
    AutoOffsetReset, Brokers, ConfigProblem, ConfigProblems, DeadLetterConfig, KafkaSourceConfig,
    Properties, PropertyValue, is_secret_key,
};
pub use error::KafkaError;
pub use producer::{KafkaDeadLetters, KafkaProducer, ProducerRecord};
pub use source::{KafkaAcker, KafkaSource, SourceStats};
pub use watermarks::{PartitionWatermarks, TopicPartition};
