//! `weir ingest --synthetic` against the real Kafka: deterministic users, the rate and
//! duration limits, and the schedule.

mod common;

use common::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use weir_ingest::{SyntheticUsers, ingest};
use weir_kafka::{Brokers, Properties, create_topics};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_users_for_a_seed_reach_the_topic_at_the_asked_rate() {
    let topic = unique_topic("ingest-synthetic");
    let started = Instant::now();

    let summary = weir_ingest::run(args(
        &topic,
        &[
            "--synthetic",
            "--seed",
            "7",
            "--count",
            "30",
            "--batch",
            "10",
            "--rate",
            "60",
            "--partitions",
            "1",
        ],
    ))
    .await
    .expect("ingest succeeds");

    // 30 users at 60/s: the last 10 are due 20/60 s after the start.
    assert!(started.elapsed() >= Duration::from_millis(330), "{summary}");
    assert_eq!((summary.produced, summary.runs), (30, 1));
    assert_eq!(summary.failed_requests + summary.retries, 0);
    assert_topic_holds_exactly(&topic, &SyntheticUsers::new(7).take_users(30)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn for_bounds_a_run_in_time_and_the_topic_holds_what_was_reported() {
    let topic = unique_topic("ingest-for");
    let started = Instant::now();

    let summary = ingest(
        &config(
            &topic,
            &[
                "--synthetic",
                "--seed",
                "3",
                "--for",
                "1s",
                "--rate",
                "20",
                "--batch",
                "5",
            ],
        ),
        std::future::pending(),
    )
    .await
    .expect("ingest succeeds");

    let took = started.elapsed();
    // At 20/s for 1s: at most 20 users, in batches of 5 due every 250ms.
    assert!((5..=20).contains(&summary.produced), "{summary}");
    let last_batch_due = Duration::from_millis(50 * (summary.produced - 5));
    assert!(
        took >= last_batch_due && took < Duration::from_secs(20),
        "{took:?}"
    );
    let produced = usize::try_from(summary.produced).expect("small");
    assert_topic_holds_exactly(&topic, &SyntheticUsers::new(3).take_users(produced)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_starts_a_run_per_interval_until_stopped_continuing_the_sequence() {
    let topic = unique_topic("ingest-every");
    // The reader subscribes before the first run: the topic must exist by then.
    create_topics(
        &Brokers::parse(&kafka()),
        &Properties::default(),
        &[(topic.as_str(), 1)],
    )
    .await
    .expect("create topic");
    let stop = Arc::new(Notify::new());
    let reader = {
        let (topic, stop) = (topic.clone(), stop.clone());
        tokio::spawn(async move {
            let two_runs = read_topic(&topic, 8).await;
            stop.notify_one();
            two_runs
        })
    };
    let started = Instant::now();

    let config = config(
        &topic,
        &[
            "--synthetic",
            "--seed",
            "5",
            "--every",
            "1s",
            "--count",
            "4",
            "--batch",
            "4",
        ],
    );
    let scheduled = ingest(&config, async move { stop.notified().await });
    let summary = tokio::time::timeout(DEADLINE, scheduled)
        .await
        .expect("stopped once two runs were read back")
        .expect("stopping is not an error");

    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the second run waited for its tick"
    );
    assert!(summary.runs >= 2 && summary.failed_runs == 0, "{summary:?}");
    assert!(
        summary.produced >= 8 && summary.produced.is_multiple_of(4),
        "{summary:?}"
    );
    let two_runs = reader.await.expect("reader");
    let expected = SyntheticUsers::new(5).take_users(8);
    let got: Vec<_> = two_runs.into_iter().map(|p| p.user).collect();
    assert_eq!(
        got, expected,
        "the second run continues the first one's sequence"
    );
}
