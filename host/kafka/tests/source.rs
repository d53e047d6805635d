//! The Kafka source against a real broker: what it reads, what it commits, how it holds back.

mod common;

use common::*;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use weir_core::{Acker, Position, Source};
use weir_kafka::{KafkaSource, SourceStats};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_reads_every_record_of_a_three_partition_topic_in_partition_order() {
    let topic = topic("source-reads", 3).await;
    let records: Vec<_> = (0..60)
        .map(|i| {
            record(
                &topic,
                &format!("user-{i}"),
                &format!("{i}"),
                1_700_000_000_000 + i,
            )
        })
        .collect();
    produce(&records).await;

    let mut source =
        KafkaSource::start(&source_config(&topic, &unique_topic("g"))).expect("source");
    let _acker = source.acker();
    let events = read_events(&mut source, 60, 7).await;

    assert_eq!(events.len(), 60, "no duplicates within one member");
    let mut last_offset: HashMap<i32, i64> = HashMap::new();
    for event in &events {
        assert_eq!(&*event.position.topic, topic);
        let previous = last_offset.insert(event.position.partition, event.position.offset);
        assert!(
            previous.is_none_or(|p| p < event.position.offset),
            "order within partition {} broken at {}",
            event.position.partition,
            event.position.offset
        );
        let i: i64 = std::str::from_utf8(&event.value)
            .expect("utf8")
            .parse()
            .expect("number");
        assert_eq!(event.key.as_deref(), Some(format!("user-{i}").as_bytes()));
        assert_eq!(event.timestamp_ms, 1_700_000_000_000 + i, "CreateTime kept");
        assert_eq!(event.headers.len(), 1);
        assert_eq!(event.headers[0].name, "trace");
        assert_eq!(&event.headers[0].value[..], format!("t-{i}").as_bytes());
    }
    assert_eq!(
        last_offset.len(),
        3,
        "records spread over all three partitions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_acknowledged_offsets_are_committed_and_the_group_resumes_right_after_them() {
    let topic = topic("source-commit", 1).await;
    let records: Vec<_> = (0..10)
        .map(|i| record(&topic, "k", &i.to_string(), i))
        .collect();
    produce(&records).await;
    let group = unique_topic("g");

    let mut source = KafkaSource::start(&source_config(&topic, &group)).expect("source");
    let mut acker = source.acker();
    let events = read_events(&mut source, 10, 10).await;
    let first_half: Vec<Position> = events[..5].iter().map(|e| e.position.clone()).collect();
    acker.ack(&first_half).await.expect("ack");
    acker.close().await.expect("close commits");
    drop(source);

    assert_eq!(
        first_offset_for_group(&topic, &group).await,
        5,
        "a new member starts right after the acknowledged watermark"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_acknowledgements_commit_nothing_past_a_gap() {
    let topic = topic("source-gap", 1).await;
    let records: Vec<_> = (0..6)
        .map(|i| record(&topic, "k", &i.to_string(), i))
        .collect();
    produce(&records).await;
    let group = unique_topic("g");

    let mut source = KafkaSource::start(&source_config(&topic, &group)).expect("source");
    let mut acker = source.acker();
    let events = read_events(&mut source, 6, 6).await;
    // Offset 2 is still in flight: 3, 4 and 5 done does not make them committable.
    for i in [1, 0, 5, 3, 4] {
        acker
            .ack(std::slice::from_ref(&events[i].position))
            .await
            .expect("ack");
    }
    acker.close().await.expect("close");
    drop(source);

    assert_eq!(first_offset_for_group(&topic, &group).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_buffer_pauses_the_partitions_and_the_member_outlives_max_poll_interval() {
    const BOUND: usize = 20;
    const RECORDS: usize = 400;
    let topic = topic("source-pause", 3).await;
    let records: Vec<_> = (0..RECORDS)
        .map(|i| record(&topic, &format!("user-{i}"), &i.to_string(), 0))
        .collect();
    produce(&records).await;

    let max_poll_interval = Duration::from_secs(7);
    let mut config = source_config(&topic, &unique_topic("g"));
    config.max_buffered_events = BOUND;
    for (key, value) in [
        ("session.timeout.ms", 6000),
        ("max.poll.interval.ms", max_poll_interval.as_millis() as i64),
    ] {
        config
            .properties
            .0
            .insert(key.into(), weir_kafka::PropertyValue::Integer(value));
    }
    let mut source = KafkaSource::start(&config).expect("source");
    let mut acker = source.acker();
    let stats = source.stats();

    wait_until(
        DEADLINE,
        "the buffer fills and the partitions pause",
        || {
            let stats = stats.clone();
            async move { SourceStats::get(&stats.pauses) >= 1 }
        },
    )
    .await
    .expect("pause");
    // The pipeline is stalled for longer than max.poll.interval.ms: the member must stay.
    let stalled = Instant::now();
    wait_until(
        max_poll_interval * 2,
        "the stall outlasts max.poll.interval.ms",
        || async { stalled.elapsed() > max_poll_interval + Duration::from_secs(1) },
    )
    .await
    .expect("stall");
    assert!(SourceStats::get(&stats.buffered) as usize <= BOUND);

    let mut events = Vec::new();
    while events.len() < RECORDS {
        let batch = read_events(&mut source, 1, 8).await;
        let positions: Vec<Position> = batch.iter().map(|e| e.position.clone()).collect();
        acker.ack(&positions).await.expect("ack");
        events.extend(batch);
    }
    // Checked before close: leaving the group on close revokes the partitions.
    assert_eq!(
        SourceStats::get(&stats.partitions_revoked),
        0,
        "the member was never expelled from the group while paused"
    );
    acker.close().await.expect("close");

    assert_eq!(events.len(), RECORDS, "every record, none twice");
    assert!(
        SourceStats::get(&stats.peak_buffered) as usize <= BOUND,
        "buffer peaked at {} over its bound {BOUND}",
        SourceStats::get(&stats.peak_buffered)
    );
    assert!(SourceStats::get(&stats.resumes) >= 1);
    assert_eq!(
        SourceStats::get(&stats.partitions_assigned),
        3,
        "one assignment, kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebalance_commits_what_is_done_before_the_partitions_move() {
    let topic = topic("source-rebalance", 2).await;
    let first: Vec<_> = (0..10)
        .map(|i| record(&topic, &format!("user-{i}"), &format!("old-{i}"), 0))
        .collect();
    produce(&first).await;
    let group = unique_topic("g");
    // No periodic commit: whatever the second member skips was committed by the revocation.
    let mut config = source_config(&topic, &group);
    config.commit_interval = Duration::from_secs(3600);

    let mut a = KafkaSource::start(&config).expect("member a");
    let mut a_acker = a.acker();
    let events = read_events(&mut a, 10, 10).await;
    let positions: Vec<Position> = events.iter().map(|e| e.position.clone()).collect();
    a_acker.ack(&positions).await.expect("ack");

    let mut b = KafkaSource::start(&config).expect("member b");
    let mut b_acker = b.acker();
    let (a_stats, b_stats) = (a.stats(), b.stats());
    wait_until(DEADLINE, "the second member gets a partition", || {
        let (a_stats, b_stats) = (a_stats.clone(), b_stats.clone());
        async move {
            SourceStats::get(&a_stats.partitions_revoked) >= 1
                && SourceStats::get(&b_stats.partitions_assigned) >= 1
        }
    })
    .await
    .expect("rebalance");

    let second: Vec<_> = (0..20)
        .map(|i| record(&topic, &format!("user-{i}"), &format!("new-{i}"), 0))
        .collect();
    produce(&second).await;
    let mut values = Vec::new();
    let deadline = Instant::now() + DEADLINE;
    while values.len() < 20 && Instant::now() < deadline {
        for source in [&mut a, &mut b] {
            let batch =
                tokio::time::timeout(Duration::from_millis(200), source.next_batch(50)).await;
            if let Ok(batch) = batch {
                let batch = batch.expect("next batch").expect("never ends");
                values.extend(
                    batch
                        .iter()
                        .map(|e| String::from_utf8_lossy(&e.value).into_owned()),
                );
            }
        }
    }
    a_acker.close().await.expect("close a");
    b_acker.close().await.expect("close b");

    values.sort();
    let mut expected: Vec<_> = (0..20).map(|i| format!("new-{i}")).collect();
    expected.sort();
    assert_eq!(
        values, expected,
        "old records were committed on revocation, not re-read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebalance_waits_for_events_in_flight_and_commits_them_once_acknowledged() {
    let topic = topic("source-drain", 1).await;
    let first: Vec<_> = (0..5)
        .map(|i| record(&topic, "k", &format!("old-{i}"), 0))
        .collect();
    produce(&first).await;
    let group = unique_topic("g");
    let mut config = source_config(&topic, &group);
    config.commit_interval = Duration::from_secs(3600);
    config.revoke_drain_timeout = Duration::from_secs(30);

    let mut a = KafkaSource::start(&config).expect("member a");
    let mut a_acker = a.acker();
    let events = read_events(&mut a, 5, 5).await;
    let positions: Vec<Position> = events.iter().map(|e| e.position.clone()).collect();
    a_acker.ack(&positions[..4]).await.expect("ack four");

    // A second member joins: the revocation waits for the fifth event.
    let mut b = KafkaSource::start(&config).expect("member b");
    let mut b_acker = b.acker();
    let a_stats = a.stats();
    wait_until(
        DEADLINE,
        "the revocation waits for the event in flight",
        || {
            let a_stats = a_stats.clone();
            async move { SourceStats::get(&a_stats.draining_partitions) == 1 }
        },
    )
    .await
    .expect("draining");
    a_acker.ack(&positions[4..]).await.expect("ack the fifth");

    produce(&[record(&topic, "k", "new-0", 0)]).await;
    // Whoever owns the partition now starts after the fifth event.
    let next = tokio::time::timeout(DEADLINE, async {
        loop {
            for source in [&mut a, &mut b] {
                if let Ok(batch) =
                    tokio::time::timeout(Duration::from_millis(200), source.next_batch(10)).await
                {
                    return batch.expect("next batch").expect("never ends");
                }
            }
        }
    })
    .await
    .expect("the new record arrives");
    assert_eq!(
        &next[0].value[..],
        b"new-0",
        "nothing acknowledged during the drain is re-read"
    );
    assert_eq!(next[0].position.offset, 5);
    a_acker.close().await.expect("close a");
    b_acker.close().await.expect("close b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_entry_starting_with_a_caret_subscribes_by_pattern() {
    let topic = topic("source-pattern", 1).await;
    produce(&[record(&topic, "k", "v", 0)]).await;
    let mut config = source_config(&topic, &unique_topic("g"));
    config.topics = vec![format!("^{}$", topic.replace('.', "\\."))];

    let mut source = KafkaSource::start(&config).expect("source");
    let _acker = source.acker();
    let events = read_events(&mut source, 1, 1).await;
    assert_eq!(&*events[0].position.topic, topic);
}
