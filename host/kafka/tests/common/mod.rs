//! Setup shared by the Kafka tests: the real broker, unique names, producing and reading back.
#![allow(
    dead_code,
    unused_imports,
    reason = "each test binary uses a different subset"
)]

use bytes::Bytes;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use std::time::Duration;
use weir_core::{Acker, Event, Header, Source};
use weir_kafka::{
    Brokers, KafkaProducer, KafkaSource, KafkaSourceConfig, ProducerRecord, Properties,
    create_topics,
};

pub use weir_test_support::{unique_topic, wait_until};

/// Generous: the first join of a group waits for the broker's initial rebalance delay.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The real Kafka: `WEIR_TEST_KAFKA` when set, else the shared test peers (started on
/// first use). A missing broker fails the test with the command to start one.
pub fn brokers() -> Brokers {
    match std::env::var("WEIR_TEST_KAFKA") {
        Ok(addr) if !addr.is_empty() => Brokers::parse(&addr),
        _ => Brokers::parse(&weir_test_support::peers().kafka),
    }
}

/// A fresh topic with `partitions` partitions.
pub async fn topic(prefix: &str, partitions: i32) -> String {
    let name = unique_topic(prefix);
    create_topics(
        &brokers(),
        &Properties::default(),
        &[(name.as_str(), partitions)],
    )
    .await
    .expect("create topic");
    name
}

/// A source config for a fresh group on `topic`, with short timeouts for tests.
pub fn source_config(topic: &str, group: &str) -> KafkaSourceConfig {
    let mut config = KafkaSourceConfig::new(brokers(), group, vec![topic.to_owned()]);
    config.commit_interval = Duration::from_millis(200);
    config
}

/// Produces `records` and waits for every acknowledgement.
pub async fn produce(records: &[ProducerRecord]) {
    let producer = KafkaProducer::new(&brokers(), &Properties::default()).expect("producer");
    producer.send_batch(records).await.expect("produce");
}

/// A record with a key, a value and one header.
pub fn record(topic: &str, key: &str, value: &str, timestamp_ms: i64) -> ProducerRecord {
    ProducerRecord {
        topic: topic.to_owned(),
        key: Some(Bytes::copy_from_slice(key.as_bytes())),
        value: Bytes::copy_from_slice(value.as_bytes()),
        headers: vec![Header::new("trace", format!("t-{value}"))],
        timestamp_ms: Some(timestamp_ms),
    }
}

/// Reads batches from the source until `n` events have arrived (or the deadline passes).
pub async fn read_events(source: &mut KafkaSource, n: usize, batch: usize) -> Vec<Event> {
    let mut events = Vec::new();
    tokio::time::timeout(DEADLINE, async {
        while events.len() < n {
            let next = source.next_batch(batch).await.expect("next batch");
            events.extend(next.expect("the Kafka source never ends by itself"));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {} of {n} events within {DEADLINE:?}", events.len()));
    events
}

/// Starts a source in `group`, reads its first event, then closes without acking anything.
pub async fn first_offset_for_group(topic: &str, group: &str) -> i64 {
    let mut source = KafkaSource::start(&source_config(topic, group)).expect("source");
    let mut acker = source.acker();
    let first = read_events(&mut source, 1, 1).await.remove(0);
    acker.close().await.expect("close");
    first.position.offset
}

/// One record read back with a plain consumer.
#[derive(Debug)]
pub struct ReadBack {
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl ReadBack {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// Reads the first `n` records of `topic` with an independent consumer, failing at the
/// deadline.
pub async fn read_topic(topic: &str, n: usize) -> Vec<ReadBack> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers().bootstrap_servers())
        .set("group.id", unique_topic("reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("reader");
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut out = Vec::new();
    tokio::time::timeout(DEADLINE, async {
        while out.len() < n {
            let message = consumer.recv().await.expect("read");
            out.push(ReadBack {
                key: message.key().map(<[u8]>::to_vec),
                value: message.payload().unwrap_or_default().to_vec(),
                headers: message
                    .headers()
                    .map(|hs| {
                        hs.iter()
                            .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "only {} of {n} records of `{topic}` within {DEADLINE:?}",
            out.len()
        )
    });
    out
}
