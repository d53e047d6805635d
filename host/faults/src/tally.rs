//! Reading back what a fault left: the group's progress, every row, every dead letter.

use anyhow::Context;
use futures::StreamExt;
use rdkafka::TopicPartitionList;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use weir_core::Source;
use weir_kafka::{Brokers, KafkaSource, KafkaSourceConfig};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Records of `topic` that `group` has not committed yet (every partition's end offset minus
/// its committed offset; a partition without a commit counts in full).
pub async fn uncommitted(kafka: &str, group: &str, topic: &str) -> anyhow::Result<i64> {
    let (kafka, group, topic) = (kafka.to_owned(), group.to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &kafka)
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .set("log_level", "3")
            .create()?;
        let metadata = consumer.fetch_metadata(Some(&topic), TIMEOUT)?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        let mut list = TopicPartitionList::new();
        for &p in &partitions {
            list.add_partition(&topic, p);
        }
        let committed = consumer.committed_offsets(list, TIMEOUT)?;
        let mut behind = 0;
        for &p in &partitions {
            let (_, high) = consumer.fetch_watermarks(&topic, p, TIMEOUT)?;
            let done = committed
                .find_partition(&topic, p)
                .and_then(|e| e.offset().to_raw())
                .filter(|o| *o >= 0)
                .unwrap_or(0);
            behind += (high - done).max(0);
        }
        Ok(behind)
    })
    .await?
}

/// The derived columns of every row, by id, as the JSON Cassandra renders.
pub async fn rows(cassandra: &str, keyspace: &str) -> anyhow::Result<HashMap<String, Value>> {
    let session = scylla::client::session_builder::SessionBuilder::new()
        .known_node(cassandra)
        .build()
        .await
        .context("cannot connect to Cassandra to read the rows back")?;
    let query = format!(
        "SELECT JSON id, full_name, email_domain, age, age_group FROM \"{keyspace}\".users"
    );
    let mut stream = session
        .query_iter(query, ())
        .await
        .context("cannot read the rows back")?
        .rows_stream::<(String,)>()?;
    let mut rows = HashMap::new();
    while let Some(row) = stream.next().await {
        let (text,) = row?;
        let value: Value = serde_json::from_str(&text)?;
        let id = value["id"].as_str().unwrap_or_default().to_owned();
        rows.insert(id, value);
    }
    Ok(rows)
}

/// What the row of `user` must hold: the enricher's output, natively.
pub fn expected_row(user: &str) -> Option<Value> {
    let bytes = weir_enricher_core::enrich(user.as_bytes(), crate::traffic::TIMESTAMP_MS).ok()?;
    let full: Value = serde_json::from_slice(&bytes).ok()?;
    Some(serde_json::json!({
        "id": full["id"],
        "full_name": full["full_name"],
        "email_domain": full["email_domain"],
        "age": full["age"],
        "age_group": full["age_group"],
    }))
}

/// The keys of every record in the dead-letter topic.
pub async fn dead_letter_keys(kafka: &str, dlq: &str) -> anyhow::Result<HashSet<String>> {
    let mut config = KafkaSourceConfig::new(
        Brokers::parse(kafka),
        format!("{dlq}-reader-{}", fastrand::u32(..)),
        vec![dlq.to_owned()],
    );
    config.stop_at_end = true;
    let mut source = KafkaSource::start(&config)?;
    let mut keys = HashSet::new();
    let read = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(batch) = source.next_batch(500).await.map_err(anyhow::Error::msg)? {
            for event in batch {
                let key = event.key.as_deref().unwrap_or_default();
                keys.insert(String::from_utf8_lossy(key).into_owned());
            }
        }
        anyhow::Ok(())
    })
    .await;
    match read {
        Ok(result) => result.map(|()| keys),
        Err(_) => anyhow::bail!("reading the dead-letter topic {dlq} did not finish in 120 s"),
    }
}
