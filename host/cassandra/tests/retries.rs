//! Retries, through the CQL fault proxy in front of the real Cassandra: genuine `Overloaded`
//! and `WriteTimeout` answers are retried until the write lands, a budget that runs out ends
//! as `sink-retries-exhausted`, and a cluster that cannot be reached at all is waited for
//! instead of dead-lettering everything, at start as while writing.

mod common;

use common::{config_at, event, user};
use std::net::SocketAddr;
use std::time::Duration;
use weir_cassandra::{CassandraSink, CassandraSinkConfig};
use weir_core::{ErrorClass, Sink};
use weir_test_support::{CqlError, CqlFault, FaultProxy, wait_until};

const A: &str = "44444444-4444-4444-8444-444444444444";
const B: &str = "55555555-5555-4555-8555-555555555555";

async fn proxied(prefix: &str) -> (FaultProxy, CassandraSinkConfig) {
    let upstream: SocketAddr = weir_test_support::peers()
        .cassandra
        .parse()
        .expect("WEIR_TEST_CASSANDRA / the peers give host:port");
    let proxy = FaultProxy::start_cql(upstream).await.expect("proxy starts");
    let config = config_at(&proxy.addr().to_string(), prefix);
    (proxy, config)
}

async fn row_count(sink: &CassandraSink, id: &str) -> usize {
    let query = format!(
        "SELECT id FROM \"{}\".users WHERE id = ?",
        sink.schema().keyspace
    );
    let id = uuid::Uuid::parse_str(id).expect("uuid");
    sink.session()
        .query_unpaged(query, (id,))
        .await
        .expect("select runs")
        .into_rows_result()
        .expect("rows")
        .rows_num()
}

#[tokio::test]
async fn overloaded_and_write_timeout_answers_are_retried_until_the_write_lands() {
    let (proxy, config) = proxied("retry_ok").await;
    let mut sink = CassandraSink::connect(config)
        .await
        .expect("sink connects through the proxy");

    for error in [CqlError::Overloaded, CqlError::WriteTimeout] {
        let before = proxy.injected();
        proxy.inject(Some(CqlFault::Next { count: 2, error }));
        let id = if error == CqlError::Overloaded { A } else { B };
        let results = sink
            .write(vec![event(user(id, "Retried"), 1)])
            .await
            .expect("sink keeps going");
        assert!(results[0].is_ok(), "{error:?}: {results:?}");
        assert_eq!(
            proxy.injected() - before,
            2,
            "{error:?} was answered twice by the proxy"
        );
        assert_eq!(row_count(&sink, id).await, 1, "{error:?}: the row landed");
    }
    let metrics = sink.metrics().snapshot();
    assert_eq!(
        (metrics.retries, metrics.writes, metrics.retries_exhausted),
        (4, 2, 0)
    );
}

#[tokio::test]
async fn a_write_that_keeps_failing_is_dead_lettered_after_the_budget_and_neighbours_land() {
    let (proxy, mut config) = proxied("retry_exhausted").await;
    config.retry.max_attempts = 3;
    config.concurrency = 1; // deterministic: the first event meets the faults
    let mut sink = CassandraSink::connect(config)
        .await
        .expect("sink connects through the proxy");

    proxy.inject(Some(CqlFault::Next {
        count: 3,
        error: CqlError::Unavailable,
    }));
    let results = sink
        .write(vec![
            event(user(A, "Unlucky"), 1),
            event(user(B, "Lucky"), 2),
        ])
        .await
        .expect("sink keeps going");
    let failure = results[0].clone().expect_err("budget exhausted");
    assert_eq!(failure.class, ErrorClass::SinkRetriesExhausted);
    assert_eq!(failure.attempts, 3);
    assert!(
        failure.message.contains("after 3 attempts"),
        "{}",
        failure.message
    );
    assert!(
        failure.message.to_lowercase().contains("unavailable"),
        "{}",
        failure.message
    );
    assert!(results[1].is_ok(), "{results:?}");
    assert_eq!(row_count(&sink, B).await, 1);
    assert_eq!(sink.metrics().snapshot().retries_exhausted, 1);
}

#[tokio::test]
async fn an_unreachable_cluster_is_waited_for_and_the_write_lands_when_it_returns() {
    let (proxy, mut config) = proxied("outage").await;
    config.outage_timeout = Duration::from_secs(120);
    let mut sink = CassandraSink::connect(config)
        .await
        .expect("sink connects through the proxy");
    let metrics = sink.metrics();

    proxy.refuse_new(true);
    proxy.drop_open();
    let write = tokio::spawn(async move {
        let results = sink.write(vec![event(user(A, "Patient"), 1)]).await;
        (sink, results)
    });
    wait_until(
        Duration::from_secs(30),
        "the sink retries during the outage",
        || {
            let metrics = metrics.clone();
            async move { metrics.snapshot().retries >= 3 }
        },
    )
    .await
    .expect("retries are counted");
    assert!(!write.is_finished(), "an outage does not fail the write");
    proxy.refuse_new(false);

    let (sink, results) = tokio::time::timeout(Duration::from_secs(90), write)
        .await
        .expect("the write finishes once the cluster is back")
        .expect("write task does not panic");
    let results = results.expect("the sink did not give up");
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(row_count(&sink, A).await, 1);
}

/// A loopback address nothing listens on: connections are refused, as while a node starts.
fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

#[tokio::test]
async fn a_cluster_not_listening_yet_at_start_is_waited_for_then_written_to() {
    let listen = free_port();
    let mut config = config_at(&listen.to_string(), "late_start");
    config.outage_timeout = Duration::from_secs(120);
    config.connect_timeout = Duration::from_secs(2);
    let connecting = tokio::spawn(CassandraSink::connect(config));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !connecting.is_finished(),
        "a refused connection at start is waited for, not an error"
    );

    let upstream: SocketAddr = weir_test_support::peers()
        .cassandra
        .parse()
        .expect("host:port");
    let _proxy = FaultProxy::start_cql_at(listen, upstream)
        .await
        .expect("the proxy takes the port");
    let mut sink = tokio::time::timeout(Duration::from_secs(90), connecting)
        .await
        .expect("the sink connects once the cluster listens")
        .expect("connect task does not panic")
        .expect("the sink starts");
    let results = sink
        .write(vec![event(user(A, "Late"), 1)])
        .await
        .expect("sink writes");
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(row_count(&sink, A).await, 1);
}

#[tokio::test]
async fn a_cluster_that_never_listens_stops_the_start_after_outage_timeout() {
    let listen = free_port();
    let mut config = config_at(&listen.to_string(), "never_starts");
    config.outage_timeout = Duration::from_secs(2);
    let err = tokio::time::timeout(Duration::from_secs(60), CassandraSink::connect(config))
        .await
        .expect("the start gives up after outage_timeout")
        .err()
        .expect("no cluster, no sink");
    let message = err.to_string();
    assert!(message.contains("no Cassandra node reachable"), "{message}");
    assert!(message.contains("sink.outage_timeout"), "{message}");
    assert!(message.contains(&listen.to_string()), "{message}");
}

#[tokio::test]
async fn an_outage_longer_than_outage_timeout_stops_the_sink_instead_of_dead_lettering() {
    let (proxy, mut config) = proxied("outage_timeout").await;
    config.outage_timeout = Duration::from_secs(2);
    let mut sink = CassandraSink::connect(config)
        .await
        .expect("sink connects through the proxy");
    proxy.refuse_new(true);
    proxy.drop_open();
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        sink.write(vec![event(user(A, "Never"), 1)]),
    )
    .await
    .expect("the sink gives up after outage_timeout")
    .expect_err("an outage is an error, not a dead letter");
    assert!(
        err.to_string().contains("no Cassandra node reachable"),
        "{err}"
    );
}

#[tokio::test]
async fn a_real_unavailable_from_the_cluster_ends_as_retries_exhausted() {
    // Three replicas wanted, one node alive: Cassandra itself answers QUORUM writes with
    // `Unavailable`, no proxy involved.
    let mut config = common::config("real_unavailable");
    config
        .replication
        .insert("replication_factor".into(), "3".into());
    config.consistency = weir_cassandra::ConsistencyLevel::parse("quorum").expect("known level");
    config.retry.max_attempts = 2;
    let mut sink = CassandraSink::connect(config)
        .await
        .expect("schema is created at RF 3");
    let results = sink
        .write(vec![event(user(A, "Nowhere"), 1)])
        .await
        .expect("sink keeps going");
    let failure = results[0].clone().expect_err("no quorum on one node");
    assert_eq!(
        (failure.class, failure.attempts),
        (ErrorClass::SinkRetriesExhausted, 2)
    );
    assert!(
        failure.message.contains("(unavailable)"),
        "{}",
        failure.message
    );
}
