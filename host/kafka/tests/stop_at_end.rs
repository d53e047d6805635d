//! `stop_at_end` against a real broker: the source reads what each partition held when it
//! was assigned, then ends by itself; what was produced later is left for the next run.

mod common;

use common::*;
use weir_core::{Acker, Event, Source};
use weir_kafka::KafkaSource;

/// Reads until the source ends, failing at the deadline.
async fn read_to_end(source: &mut KafkaSource) -> Vec<Event> {
    let mut events = Vec::new();
    tokio::time::timeout(DEADLINE, async {
        while let Some(batch) = source.next_batch(8).await.expect("next batch") {
            events.extend(batch);
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "the source did not end within {DEADLINE:?} ({} events read)",
            events.len()
        )
    });
    events
}

/// One stop-at-end run of `group`: reads to the end, acknowledges everything, closes.
async fn drain_once(topic: &str, group: &str, mut during: impl AsyncFnMut()) -> Vec<Event> {
    let mut config = source_config(topic, group);
    config.stop_at_end = true;
    let mut source = KafkaSource::start(&config).expect("source");
    let mut acker = source.acker();
    let first = tokio::time::timeout(DEADLINE, source.next_batch(8))
        .await
        .expect("a first batch in time")
        .expect("next batch");
    // The partitions are assigned (their ends taken) once the first batch is here.
    during().await;
    let mut events = first.unwrap_or_default();
    if !events.is_empty() {
        events.extend(read_to_end(&mut source).await);
    }
    let positions: Vec<_> = events.iter().map(|e| e.position.clone()).collect();
    acker.ack(&positions).await.expect("ack");
    drop(source);
    acker.close().await.expect("close");
    events
}

fn values(events: &[Event]) -> Vec<u32> {
    let mut values: Vec<u32> = events
        .iter()
        .map(|e| {
            std::str::from_utf8(&e.value)
                .expect("utf8")
                .parse()
                .expect("number")
        })
        .collect();
    values.sort_unstable();
    values
}

fn records(topic: &str, range: std::ops::Range<u32>) -> Vec<weir_kafka::ProducerRecord> {
    range
        .map(|i| {
            record(
                topic,
                &format!("user-{i}"),
                &i.to_string(),
                1_700_000_000_000,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_at_end_source_reads_what_was_there_when_assigned_then_ends() {
    let topic = topic("stop-at-end", 3).await;
    produce(&records(&topic, 0..40)).await;
    let group = unique_topic("g");

    let later = records(&topic, 40..45);
    let first_run = drain_once(&topic, &group, async || produce(&later).await).await;
    assert_eq!(
        values(&first_run),
        (0..40).collect::<Vec<_>>(),
        "every record there at the start, once, and none produced after it"
    );

    let second_run = drain_once(&topic, &group, async || {}).await;
    assert_eq!(
        values(&second_run),
        (40..45).collect::<Vec<_>>(),
        "the next run of the group reads what came later, from the committed offsets"
    );

    let third_run = drain_once(&topic, &group, async || {}).await;
    assert!(
        third_run.is_empty(),
        "a group already at the end ends at once: {:?}",
        values(&third_run)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_at_end_source_on_an_empty_topic_ends_without_an_event() {
    let topic = topic("stop-at-end-empty", 2).await;
    let events = drain_once(&topic, &unique_topic("g"), async || {}).await;
    assert!(events.is_empty());
}
