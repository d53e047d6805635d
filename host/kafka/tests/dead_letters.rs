//! Dead letters and topic creation against a real broker.

mod common;

use bytes::Bytes;
use common::*;
use std::sync::Arc;
use weir_core::{
    DeadLetter, DeadLetterHeaders, DeadLetterSink, ErrorClass, Event, Failure, Header, Position,
    Stage,
};
use weir_kafka::{DeadLetterConfig, KafkaDeadLetters, Properties, create_topics};

fn letter(offset: i64, key: Option<&str>, value: &str) -> DeadLetter {
    DeadLetter {
        event: Event {
            key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
            value: Bytes::copy_from_slice(value.as_bytes()),
            headers: vec![Header::new("origin", "test")],
            timestamp_ms: 1_700_000_000_123,
            position: Position {
                topic: Arc::from("users"),
                partition: 2,
                offset,
            },
        },
        failure: Failure::new(
            Stage::Plugin {
                name: "enricher".into(),
                version: "abc123".into(),
            },
            ErrorClass::MissingField,
            "no `id`",
        )
        .with_field("id"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_land_in_the_topic_with_original_key_value_and_weir_headers() {
    let dlq = topic("dlq", 1).await;
    let config: DeadLetterConfig = toml::from_str(&format!("topic = \"{dlq}\"")).expect("config");
    let mut sink = KafkaDeadLetters::new(&config, &brokers()).expect("dead letters");
    sink.send(vec![
        letter(41, Some("user-1"), "{\"name\":1}"),
        letter(42, None, "not json"),
    ])
    .await
    .expect("every dead letter acknowledged");

    let records = read_topic(&dlq, 2).await;
    assert_eq!(records[0].key.as_deref(), Some(&b"user-1"[..]));
    assert_eq!(records[0].value, b"{\"name\":1}");
    assert_eq!(records[1].key, None);
    assert_eq!(records[1].value, b"not json");
    let r = &records[0];
    assert_eq!(
        r.headers[0],
        ("origin".to_owned(), b"test".to_vec()),
        "original headers first"
    );
    assert_eq!(r.header(DeadLetterHeaders::CLASS), Some("missing-field"));
    assert_eq!(r.header(DeadLetterHeaders::MESSAGE), Some("no `id`"));
    assert_eq!(r.header(DeadLetterHeaders::FIELD), Some("id"));
    assert_eq!(
        r.header(DeadLetterHeaders::STAGE),
        Some("plugin:enricher@abc123")
    );
    assert_eq!(r.header(DeadLetterHeaders::TOPIC), Some("users"));
    assert_eq!(r.header(DeadLetterHeaders::PARTITION), Some("2"));
    assert_eq!(r.header(DeadLetterHeaders::OFFSET), Some("41"));
    assert_eq!(r.header(DeadLetterHeaders::ATTEMPTS), Some("1"));
    assert_eq!(
        r.header(DeadLetterHeaders::TIMESTAMP),
        Some("1700000000123")
    );
    assert_eq!(records[1].header(DeadLetterHeaders::OFFSET), Some("42"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_topic_twice_is_fine() {
    let name = unique_topic("twice");
    for _ in 0..2 {
        create_topics(&brokers(), &Properties::default(), &[(name.as_str(), 2)])
            .await
            .expect("idempotent create");
    }
}
