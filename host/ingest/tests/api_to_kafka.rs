//! `weir ingest` against a scripted randomuser.me stand-in and the real Kafka: every failure
//! the API can show either succeeds after retries or is reported, and the topic holds exactly
//! the users expected, keyed by id, every field in place.

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};
use weir_ingest::{FetchError, IngestError, ingest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_from_the_api_reach_the_topic_keyed_by_id_with_every_field() {
    let (first, mut expected) = api_users(0..5);
    let (mut second, rest) = api_users(5..10);
    // The API sometimes sends `postcode` as a number; the event always has text.
    second[1]["location"]["postcode"] = json!(69006);
    expected.extend(rest);
    let fixture = Fixture::start(vec![Reply::Users(first), Reply::Users(second)]).await;
    let topic = unique_topic("ingest-api");

    let summary = ingest(
        &config(
            &topic,
            &["--url", fixture.url(), "--batch", "5", "--count", "10"],
        ),
        std::future::pending(),
    )
    .await
    .expect("ingest succeeds");

    assert_eq!(
        (
            summary.produced,
            summary.skipped,
            summary.failed_requests,
            summary.retries
        ),
        (10, 0, 0, 0)
    );
    assert_eq!(fixture.requests(), ["/api/?results=5", "/api/?results=5"]);
    assert_topic_holds_exactly(&topic, &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_throttling_are_retried_honouring_retry_after_and_counted() {
    let (users, expected) = api_users(0..3);
    let fixture = Fixture::start(vec![
        Reply::Status(500),
        Reply::Status(503),
        Reply::TooMany(1),
        Reply::Users(users),
    ])
    .await;
    let topic = unique_topic("ingest-retry");
    let started = Instant::now();

    let summary = ingest(
        &config(&topic, &["--url", fixture.url(), "--batch", "3"]),
        std::future::pending(),
    )
    .await
    .expect("succeeds after retries");

    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured"
    );
    assert_eq!((summary.failed_requests, summary.retries), (3, 3));
    assert_eq!(
        (summary.requests.server_errors, summary.requests.throttled),
        (2, 1)
    );
    assert_eq!(summary.produced, 3);
    assert_eq!(fixture.requests().len(), 4);
    assert_topic_holds_exactly(&topic, &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_slower_than_the_timeout_is_abandoned_and_retried() {
    let (late, _) = api_users(0..2);
    let (users, expected) = api_users(2..4);
    let fixture = Fixture::start(vec![
        Reply::Slow(Duration::from_secs(10), late),
        Reply::Users(users),
    ])
    .await;
    let topic = unique_topic("ingest-slow");

    let summary = ingest(
        &config(
            &topic,
            &["--url", fixture.url(), "--batch", "2", "--timeout", "1s"],
        ),
        std::future::pending(),
    )
    .await
    .expect("succeeds after the retry");

    assert_eq!((summary.requests.timeouts, summary.retries), (1, 1));
    assert_topic_holds_exactly(&topic, &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_retried_and_none_of_it_is_produced() {
    let (users, expected) = api_users(0..2);
    let fixture = Fixture::start(vec![
        Reply::Raw("{\"results\": [{\"gender\": \"female\", \"name\""),
        Reply::Raw("{\"error\": \"Uh oh, something has gone wrong.\"}"),
        Reply::Users(users),
    ])
    .await;
    let topic = unique_topic("ingest-malformed");

    let summary = ingest(
        &config(&topic, &["--url", fixture.url(), "--batch", "2"]),
        std::future::pending(),
    )
    .await
    .expect("succeeds after retries");

    assert_eq!((summary.requests.malformed, summary.retries), (2, 2));
    assert_topic_holds_exactly(&topic, &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_missing_a_field_is_skipped_by_its_path_and_its_neighbours_are_produced() {
    let (mut users, expected) = api_users(0..3);
    users[1]["dob"]
        .as_object_mut()
        .expect("dob is an object")
        .remove("date");
    let fixture = Fixture::start(vec![Reply::Users(users)]).await;
    let topic = unique_topic("ingest-skip");

    let summary = ingest(
        &config(&topic, &["--url", fixture.url(), "--batch", "3"]),
        std::future::pending(),
    )
    .await
    .expect("a skipped result is not a failure");

    assert_eq!((summary.produced, summary.skipped), (2, 1));
    assert_eq!(summary.skip_samples, ["results[1].dob.date: missing"]);
    assert_topic_holds_exactly(&topic, &[expected[0].clone(), expected[2].clone()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_that_keeps_failing_exhausts_the_retry_budget_with_a_clear_error() {
    let fixture = Fixture::start(vec![Reply::Status(500); 3]).await;
    let topic = unique_topic("ingest-give-up");

    let error = ingest(
        &config(
            &topic,
            &[
                "--url",
                fixture.url(),
                "--batch",
                "2",
                "--retry-budget",
                "3,30s",
            ],
        ),
        std::future::pending(),
    )
    .await
    .expect_err("the budget runs out");

    assert!(
        matches!(
            &error,
            IngestError::Fetch { produced: 0, source }
                if matches!(**source, FetchError::GaveUp { attempts: 3, .. })
        ),
        "expected giving up after 3 attempts, got {error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("after 3 attempt(s)")
            && message.contains("500")
            && message.contains("--retry-budget"),
        "{message}"
    );
    assert_eq!(fixture.requests().len(), 3, "no attempt beyond the budget");
    assert_eq!(records_in(&topic), 0, "nothing was produced");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_error_is_not_retried() {
    let fixture = Fixture::start(vec![Reply::Status(404)]).await;
    let topic = unique_topic("ingest-404");

    let error = ingest(
        &config(&topic, &["--url", fixture.url()]),
        std::future::pending(),
    )
    .await
    .expect_err("404 is final");

    assert!(
        matches!(
            &error,
            IngestError::Fetch { source, .. } if matches!(**source, FetchError::Refused { .. })
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("check --url"), "{error}");
    assert_eq!(fixture.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_without_a_usable_user_end_the_run_instead_of_looping() {
    let (mut broken, _) = api_users(0..1);
    broken[0]["login"]["uuid"] = serde_json::json!("not-a-uuid");
    let mut script = vec![Reply::Users(Vec::new()); 4];
    script.push(Reply::Users(broken));
    let fixture = Fixture::start(script).await;
    let topic = unique_topic("ingest-unusable");

    let error = ingest(
        &config(&topic, &["--url", fixture.url(), "--count", "2"]),
        std::future::pending(),
    )
    .await
    .expect_err("no usable user ever comes");

    assert!(
        matches!(error, IngestError::NoUsableUsers { responses: 5, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("results[0].login.uuid"),
        "{error}"
    );
    assert_eq!(fixture.requests().len(), 5);
    assert_eq!(records_in(&topic), 0);
}
