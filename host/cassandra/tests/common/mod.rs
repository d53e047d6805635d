//! Setup shared by this crate's integration tests: a sink config pointing at the real
//! Cassandra (or a fault proxy in front of it) in a keyspace of the test's own, and events.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::sync::Arc;
use weir_cassandra::CassandraSinkConfig;
use weir_core::{Event, Position};

/// A config for a fresh keyspace of this test on `node` (the real peer by default), with
/// `create_schema` on and quick retries so budget tests stay short.
pub fn config_at(node: &str, prefix: &str) -> CassandraSinkConfig {
    let keyspace = weir_test_support::unique_keyspace(prefix);
    let mut config = CassandraSinkConfig::new(vec![node.to_owned()], &keyspace, "users");
    config.create_schema = true;
    config.retry.base_backoff = std::time::Duration::from_millis(20);
    config.retry.max_backoff = std::time::Duration::from_millis(200);
    config
}

/// [`config_at`] the real Cassandra of this test run.
pub fn config(prefix: &str) -> CassandraSinkConfig {
    config_at(&weir_test_support::peers().cassandra, prefix)
}

/// An event with this JSON value and Kafka timestamp.
pub fn event(value: impl Into<String>, timestamp_ms: i64) -> Event {
    Event {
        key: None,
        value: value.into().into_bytes().into(),
        headers: vec![],
        timestamp_ms,
        position: Position {
            topic: Arc::from("users"),
            partition: 0,
            offset: timestamp_ms,
        },
    }
}

/// The enricher outputs of the golden fixture, with their record timestamps.
pub fn golden_outputs() -> Vec<(serde_json::Value, i64)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/enricher-golden.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("golden fixture is readable");
    text.lines()
        .filter_map(|line| {
            let record: serde_json::Value =
                serde_json::from_str(line).expect("fixture line is JSON");
            let output = record.get("output")?.as_str()?;
            let ts = record.get("timestamp_ms")?.as_i64()?;
            Some((serde_json::from_str(output).expect("output is JSON"), ts))
        })
        .collect()
}

/// A valid enricher-shaped user with this id and first name.
pub fn user(id: &str, first_name: &str) -> String {
    serde_json::json!({
        "id": id,
        "first_name": first_name,
        "last_name": "Smith",
        "dob": "1990-02-28T10:11:12.123Z",
        "registered_date": "2015-06-01T00:00:00Z",
        "age": 34,
        "age_group": "25-34",
    })
    .to_string()
}
