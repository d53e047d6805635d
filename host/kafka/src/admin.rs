//! Topic administration for the CLI and tests.

use crate::config::{Brokers, Properties, producer_config};
use crate::error::KafkaError;
use crate::logging::TracingContext;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::error::RDKafkaErrorCode;

/// Creates each `(name, partitions)` topic with the brokers' default replication factor.
/// Idempotent: a topic that already exists is fine (its partition count is left as is).
pub async fn create_topics(
    brokers: &Brokers,
    properties: &Properties,
    topics: &[(&str, i32)],
) -> Result<(), KafkaError> {
    let admin: AdminClient<TracingContext> = producer_config(brokers, properties)?
        .create_with_context(TracingContext::new())
        .map_err(|e| KafkaError::client("admin client", properties, &e))?;
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        // -1: the broker's `default.replication.factor`.
        .map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(-1)))
        .collect();
    let results = admin
        .create_topics(&new_topics, &AdminOptions::new())
        .await
        .map_err(|e| KafkaError::CreateTopic {
            topic: topics
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
            reason: e.to_string(),
        })?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(KafkaError::CreateTopic {
                    topic,
                    reason: code.to_string(),
                });
            }
        }
    }
    Ok(())
}
