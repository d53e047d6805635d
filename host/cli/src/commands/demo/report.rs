//! What `weir demo` prints at the end: its measurements and a few rows read back with SELECT.

use super::{DemoArgs, DemoPeers, TABLE};
use anyhow::{Context, Result};
use std::time::Duration;

/// What the demo measured and read back.
pub(super) struct Report {
    pub(super) produced: u64,
    pub(super) produce_time: Duration,
    pub(super) consumed: u64,
    pub(super) consume_time: Duration,
    pub(super) written: u64,
    pub(super) dead_lettered: u64,
    pub(super) failures: Vec<(String, &'static str, u64)>,
    pub(super) rows_in_table: i64,
    pub(super) sample: Vec<serde_json::Value>,
    pub(super) dead_letter_topic: String,
}

/// The table's row count and the first `--show` rows, as JSON objects.
pub(super) async fn read_back(
    args: &DemoArgs,
    peers: &DemoPeers,
) -> Result<(i64, Vec<serde_json::Value>)> {
    let mut config = weir_cassandra::CassandraSinkConfig::new(
        vec![peers.cassandra.clone()],
        &args.keyspace,
        TABLE,
    );
    config.request_timeout = Duration::from_secs(30);
    let target = config.validate("sink").context("reading the table back")?;
    let session = weir_cassandra::connect_session(&config).await?;
    let rows = weir_cassandra::count_rows(&session, &target).await?;
    let sample = weir_cassandra::sample_rows(&session, &target, args.show)
        .await?
        .iter()
        .map(|json| serde_json::from_str(json))
        .collect::<Result<Vec<serde_json::Value>, _>>()
        .context("Cassandra's SELECT JSON returned something that is not JSON")?;
    Ok((rows, sample))
}

/// The fields shown of each row read back: inputs, then the enricher's derived columns.
const SHOWN: [&str; 9] = [
    "id",
    "first_name",
    "last_name",
    "email",
    "dob",
    "full_name",
    "email_domain",
    "age",
    "age_group",
];

impl Report {
    /// Prints the report on standard output.
    pub(super) fn print(&self, args: &DemoArgs, total: Duration) {
        let rate = |n: u64, t: Duration| n as f64 / t.as_secs_f64().max(1e-9);
        let failures: Vec<String> = self
            .failures
            .iter()
            .map(|(stage, class, n)| format!("{n} {class} at {stage}"))
            .collect();
        let table = format!("{}.{TABLE}", args.keyspace);
        println!("weir demo: done in {:.1}s", total.as_secs_f64());
        println!(
            "  produced       {} events to `{}` in {:.1}s ({:.0} events/s)",
            self.produced,
            args.topic,
            self.produce_time.as_secs_f64(),
            rate(self.produced, self.produce_time)
        );
        println!(
            "  consumed       {} events in {:.1}s ({:.0} events/s, Kafka → enricher → Cassandra)",
            self.consumed,
            self.consume_time.as_secs_f64(),
            rate(self.consumed, self.consume_time)
        );
        println!("  rows written   {} to {table}", self.written);
        println!(
            "  dead-lettered  {} to `{}`{}",
            self.dead_lettered,
            self.dead_letter_topic,
            if failures.is_empty() {
                String::new()
            } else {
                format!(" ({})", failures.join(", "))
            }
        );
        println!("  table holds    {} rows", self.rows_in_table);
        println!(
            "  {} enriched rows read back (SELECT JSON * FROM {table} LIMIT {}):",
            self.sample.len(),
            args.show
        );
        for row in &self.sample {
            let shown: serde_json::Map<String, serde_json::Value> = SHOWN
                .iter()
                .filter_map(|k| row.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                .collect();
            println!("    {}", serde_json::Value::Object(shown));
        }
    }
}
