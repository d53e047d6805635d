//! Producing to Kafka: an idempotent, `acks=all` producer that returns only once every
//! record of a batch is acknowledged, and the dead-letter sink built on it.

use crate::config::{Brokers, DeadLetterConfig, Properties, producer_config};
use crate::error::KafkaError;
use crate::logging::{TracingContext, login_refused};
use bytes::Bytes;
use rdkafka::message::{Header as KafkaHeader, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use tokio::sync::watch;
use weir_core::{BoxError, DeadLetter, DeadLetterSink, Header};

/// One record to produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerRecord {
    /// Destination topic.
    pub topic: String,
    /// Record key; records with one key land in one partition, in order.
    pub key: Option<Bytes>,
    /// Record value.
    pub value: Bytes,
    /// Record headers, in order.
    pub headers: Vec<Header>,
    /// Record timestamp (ms since the epoch); the producer's clock when `None`.
    pub timestamp_ms: Option<i64>,
}

/// A shared, idempotent producer (`enable.idempotence=true`, `acks=all`): retries inside
/// librdkafka never duplicate or reorder records of a partition. Cheap to clone.
#[derive(Clone)]
pub struct KafkaProducer {
    producer: FutureProducer<TracingContext>,
    /// Set by the producer's context when a broker refuses the login.
    refusals: watch::Receiver<Option<String>>,
}

impl KafkaProducer {
    /// Creates the producer; `properties` may add SASL/TLS and tuning (`env:NAME` values are
    /// read from the environment), but not weaken delivery.
    pub fn new(brokers: &Brokers, properties: &Properties) -> Result<Self, KafkaError> {
        let context = TracingContext::new();
        let refusals = context.refusals();
        let producer = producer_config(brokers, properties)?
            .create_with_context(context)
            .map_err(|e| KafkaError::client("producer", properties, &e))?;
        Ok(Self { producer, refusals })
    }

    /// Produces every record and waits until each is acknowledged by all in-sync replicas,
    /// or until a broker refuses the login (`KafkaError::LoginRefused`).
    /// `Err` names the first record that failed; others may have been written (the caller
    /// treats the batch as not done, and a retry is at-least-once).
    pub async fn send_batch(&self, records: &[ProducerRecord]) -> Result<(), KafkaError> {
        let headers: Vec<OwnedHeaders> = records.iter().map(|r| to_headers(&r.headers)).collect();
        let deliveries = records.iter().zip(headers).map(|(record, headers)| {
            let mut future = FutureRecord::<[u8], [u8]>::to(&record.topic)
                .payload(&record.value[..])
                .headers(headers);
            if let Some(key) = &record.key {
                future = future.key(&key[..]);
            }
            if let Some(ms) = record.timestamp_ms {
                future = future.timestamp(ms);
            }
            // Waiting for queue space is bounded by deliveries completing (message.timeout.ms).
            self.producer.send(future, Timeout::Never)
        });
        let results = tokio::select! {
            results = futures::future::join_all(deliveries) => results,
            reason = login_refused(self.refusals.clone()) => {
                return Err(KafkaError::LoginRefused {
                    topic: records.first().map(|r| r.topic.clone()).unwrap_or_default(),
                    reason,
                });
            }
        };
        for (record, result) in records.iter().zip(results) {
            result.map_err(|(source, _)| KafkaError::Delivery {
                topic: record.topic.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

fn to_headers(headers: &[Header]) -> OwnedHeaders {
    headers
        .iter()
        .fold(OwnedHeaders::new_with_capacity(headers.len()), |acc, h| {
            acc.insert(KafkaHeader {
                key: &h.name,
                value: Some(&h.value[..]),
            })
        })
}

/// Writes dead letters to a Kafka topic: the original key and value, the original headers
/// followed by weir's `weir.*` headers ([`DeadLetter::headers`]). The record's timestamp is
/// the time of dead-lettering (retention counts from then); the original one is in the
/// `weir.source.timestamp` header.
pub struct KafkaDeadLetters {
    producer: KafkaProducer,
    topic: String,
}

impl KafkaDeadLetters {
    /// Validates the config and creates the producer; `source_brokers` are used when the
    /// config names none.
    pub fn new(config: &DeadLetterConfig, source_brokers: &Brokers) -> Result<Self, KafkaError> {
        config.validate()?;
        let brokers = config.brokers.as_ref().unwrap_or(source_brokers);
        Ok(Self {
            producer: KafkaProducer::new(brokers, &config.properties)?,
            topic: config.topic.clone(),
        })
    }

    /// The dead-letter topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }
}

impl DeadLetterSink for KafkaDeadLetters {
    async fn send(&mut self, letters: Vec<DeadLetter>) -> Result<(), BoxError> {
        let records: Vec<ProducerRecord> = letters
            .iter()
            .map(|letter| ProducerRecord {
                topic: self.topic.clone(),
                key: letter.event.key.clone(),
                value: letter.event.value.clone(),
                headers: letter.headers(),
                timestamp_ms: None,
            })
            .collect();
        self.producer.send_batch(&records).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PropertyValue;

    #[test]
    fn tls_and_sasl_properties_are_accepted_by_the_client() {
        let mut properties = Properties::default();
        for (key, value) in [
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", "weir"),
            ("sasl.password", "secret"),
        ] {
            properties
                .0
                .insert(key.into(), PropertyValue::Text(value.into()));
        }
        let brokers = Brokers::parse("127.0.0.1:9");
        if let Err(e) = KafkaProducer::new(&brokers, &properties) {
            panic!("a SASL_SSL producer must be creatable: {e}");
        }
    }
}
