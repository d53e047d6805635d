//! The destination topic: each user produced keyed by its id, so one user's events stay in
//! one partition, with the idempotent, `acks=all` producer of `weir-kafka`.

use crate::run::IngestError;
use crate::user::UserEvent;
use bytes::Bytes;
use weir_kafka::{Brokers, KafkaProducer, ProducerRecord, Properties};

/// The destination topic: each user keyed by its id, idempotent, `acks=all`.
#[derive(Clone)]
pub struct UserTopic {
    producer: KafkaProducer,
    topic: String,
}

impl UserTopic {
    /// A producer for `topic`; `properties` add SASL, TLS or tuning.
    pub fn new(
        brokers: &Brokers,
        properties: &Properties,
        topic: &str,
    ) -> Result<Self, IngestError> {
        let producer =
            KafkaProducer::new(brokers, properties).map_err(|source| IngestError::Kafka {
                topic: topic.to_owned(),
                source: Box::new(source),
            })?;
        Ok(Self {
            producer,
            topic: topic.to_owned(),
        })
    }

    /// The topic's name.
    pub fn name(&self) -> &str {
        &self.topic
    }

    /// Produces `users` and returns once every one is acknowledged by all in-sync replicas.
    pub async fn send(&self, users: &[UserEvent]) -> Result<(), IngestError> {
        let records = users
            .iter()
            .map(|user| user_record(&self.topic, user))
            .collect::<Result<Vec<_>, _>>()?;
        self.producer
            .send_batch(&records)
            .await
            .map_err(|source| IngestError::Kafka {
                topic: self.topic.clone(),
                source: Box::new(source),
            })
    }
}

/// The record of one user: key = its id, value = the flat JSON event.
pub fn user_record(topic: &str, user: &UserEvent) -> Result<ProducerRecord, IngestError> {
    let value = serde_json::to_vec(user).map_err(|source| IngestError::Encode {
        id: user.id.clone(),
        source,
    })?;
    Ok(ProducerRecord {
        topic: topic.to_owned(),
        key: Some(Bytes::copy_from_slice(user.id.as_bytes())),
        value: Bytes::from(value),
        headers: Vec::new(),
        timestamp_ms: None,
    })
}
