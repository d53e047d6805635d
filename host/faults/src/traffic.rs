//! The events of a fault: realistic users with fresh ids, optionally every third one made
//! invalid, produced at a steady rate (or at once) and remembered by id.

use bytes::Bytes;
use serde_json::Value;
use std::time::{Duration, Instant};
use weir_kafka::{Brokers, KafkaProducer, ProducerRecord, Properties};

/// Event timestamp of every user: the enricher computes ages at this instant, so a row's
/// expected content does not depend on when the matrix runs.
pub const TIMESTAMP_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

const SAMPLES: &str = include_str!("../../../examples/users.jsonl");
const CHUNK: usize = 100;

/// What was produced.
#[derive(Debug, Default)]
pub struct Sent {
    /// Valid users by id, as produced.
    pub valid: Vec<(String, String)>,
    /// Keys of the events made invalid on purpose.
    pub invalid: Vec<String>,
}

/// The events of one fault: `count` users, every `invalid_every`-th made invalid.
pub fn events(tag: &str, count: usize, invalid_every: Option<usize>) -> Vec<(String, Bytes, bool)> {
    let samples: Vec<Value> = SAMPLES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (0..count)
        .map(|i| {
            let mut user = samples[i % samples.len()].clone();
            let id = format!("{tag}-4000-8000-{i:012x}");
            if invalid_every.is_some_and(|n| i % n == n - 1) {
                let key = format!("invalid-{i}");
                let value = match (i / 3) % 4 {
                    0 => Bytes::from_static(b"{\"id\": not json"),
                    1 => {
                        user.as_object_mut().map(|u| u.remove("id"));
                        Bytes::from(user.to_string())
                    }
                    2 => {
                        user["id"] = Value::String(id);
                        user["dob"] = Value::String("the day before yesterday".into());
                        Bytes::from(user.to_string())
                    }
                    _ => {
                        user["id"] = Value::String(id);
                        user["first_name"] = Value::from(42);
                        Bytes::from(user.to_string())
                    }
                };
                (key, value, false)
            } else {
                user["id"] = Value::String(id.clone());
                (id, Bytes::from(user.to_string()), true)
            }
        })
        .collect()
}

/// Produces `events` to `topic`, `rate` per second (all at once when `None`), keyed by id.
/// A chunk the broker does not acknowledge (it may be down) is sent again until it is: at
/// least once, as any producer would.
pub async fn produce(
    kafka: String,
    topic: String,
    events: Vec<(String, Bytes, bool)>,
    rate: Option<u32>,
) -> anyhow::Result<Sent> {
    let producer = KafkaProducer::new(&Brokers::parse(&kafka), &Properties::default())?;
    let started = Instant::now();
    let mut sent = Sent::default();
    for (n, chunk) in events.chunks(CHUNK).enumerate() {
        if let Some(rate) = rate {
            let due = Duration::from_secs_f64((n * CHUNK) as f64 / f64::from(rate));
            tokio::time::sleep_until((started + due).into()).await;
        }
        let records: Vec<ProducerRecord> = chunk
            .iter()
            .map(|(key, value, _)| ProducerRecord {
                topic: topic.clone(),
                key: Some(Bytes::from(key.clone())),
                value: value.clone(),
                headers: Vec::new(),
                timestamp_ms: Some(TIMESTAMP_MS),
            })
            .collect();
        let mut attempts = 0;
        while let Err(error) = producer.send_batch(&records).await {
            attempts += 1;
            if attempts == 60 {
                anyhow::bail!("Kafka did not take a chunk of events after 60 attempts: {error}");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        for (key, value, valid) in chunk {
            if *valid {
                sent.valid
                    .push((key.clone(), String::from_utf8_lossy(value).into_owned()));
            } else {
                sent.invalid.push(key.clone());
            }
        }
    }
    Ok(sent)
}
