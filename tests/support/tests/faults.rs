//! Faults injected between the driver and the real Cassandra reach the driver as they would
//! in production.

mod clients;

use std::net::SocketAddr;
use std::time::Duration;

use clients::{create_keyspace, db_error, once, session};
use scylla::client::session::Session;
use scylla::errors::{DbError, ExecutionError};
use weir_test_support::{CqlError, CqlFault, FaultProxy, peers, unique_keyspace, wait_until};

async fn proxied() -> (FaultProxy, Session, String) {
    let upstream: SocketAddr = peers()
        .cassandra
        .parse()
        .expect("WEIR_TEST_CASSANDRA is ip:port");
    let proxy = FaultProxy::start_cql(upstream).await.expect("proxy");
    let session = session(&proxy.addr().to_string()).await;
    let ks = unique_keyspace("faults");
    create_keyspace(&session, &ks, 1).await;
    session
        .query_unpaged(
            format!("CREATE TABLE {ks}.t (id int PRIMARY KEY, v text)"),
            &[],
        )
        .await
        .expect("create table through the proxy");
    (proxy, session, ks)
}

#[tokio::test]
async fn each_injected_cql_error_reaches_the_driver_as_that_server_error_and_reads_pass() {
    let (proxy, session, ks) = proxied().await;
    let cases = [
        (CqlError::Overloaded, "Overloaded"),
        (CqlError::Unavailable, "Unavailable"),
        (CqlError::WriteTimeout, "WriteTimeout"),
        (CqlError::ReadTimeout, "ReadTimeout"),
    ];
    for (error, name) in cases {
        proxy.inject(Some(CqlFault::Next { count: 1, error }));
        // A read passes through untouched while the fault is armed.
        session
            .query_unpaged(format!("SELECT * FROM {ks}.t"), &[])
            .await
            .expect("reads are not failed");
        let failed = session
            .query_unpaged(
                once(format!("INSERT INTO {ks}.t (id, v) VALUES (1, 'x')")),
                &[],
            )
            .await
            .expect_err("the armed write fails");
        let matches = matches!(
            (error, db_error(&failed)),
            (CqlError::Overloaded, Some(DbError::Overloaded))
                | (CqlError::Unavailable, Some(DbError::Unavailable { .. }))
                | (CqlError::WriteTimeout, Some(DbError::WriteTimeout { .. }))
                | (CqlError::ReadTimeout, Some(DbError::ReadTimeout { .. }))
        );
        assert!(matches, "injected {name}, driver saw {failed:?}");
        session
            .query_unpaged(
                once(format!("INSERT INTO {ks}.t (id, v) VALUES (1, 'x')")),
                &[],
            )
            .await
            .expect("the next write passes");
    }
    assert_eq!(proxy.injected(), 4);
}

#[tokio::test]
async fn prepared_writes_get_the_injected_overloaded_but_prepared_reads_do_not() {
    let (proxy, session, ks) = proxied().await;
    let mut insert = session
        .prepare(format!("INSERT INTO {ks}.t (id, v) VALUES (?, ?)"))
        .await
        .expect("prepare insert");
    insert.set_retry_policy(Some(std::sync::Arc::new(
        scylla::policies::retry::FallthroughRetryPolicy,
    )));
    let select = session
        .prepare(format!("SELECT v FROM {ks}.t WHERE id = ?"))
        .await
        .expect("prepare select");
    proxy.inject(Some(CqlFault::Fraction {
        fraction: 1.0,
        error: CqlError::Overloaded,
    }));
    session
        .execute_unpaged(&select, (1,))
        .await
        .expect("prepared read passes");
    let failed = session
        .execute_unpaged(&insert, (1, "x"))
        .await
        .expect_err("prepared write is answered Overloaded");
    assert!(
        matches!(db_error(&failed), Some(DbError::Overloaded)),
        "{failed:?}"
    );
    proxy.inject(None);
    session
        .execute_unpaged(&insert, (1, "x"))
        .await
        .expect("write passes once cleared");
}

#[tokio::test]
async fn dropped_connections_are_reestablished_by_the_driver() {
    let (proxy, session, ks) = proxied().await;
    let before = proxy.accepted();
    proxy.drop_open();
    wait_until(
        Duration::from_secs(30),
        "a write succeeds over a new connection",
        || async {
            session
                .query_unpaged(format!("INSERT INTO {ks}.t (id, v) VALUES (2, 'y')"), &[])
                .await
                .is_ok()
                && proxy.accepted() > before
        },
    )
    .await
    .expect("driver reconnects");
}

#[tokio::test]
async fn a_stalled_connection_times_out_on_the_client_and_recovers_when_released() {
    let (proxy, session, ks) = proxied().await;
    proxy.stall(true);
    let mut write = once(format!("INSERT INTO {ks}.t (id, v) VALUES (3, 'z')"));
    write.set_request_timeout(Some(Duration::from_millis(500)));
    let failed = session
        .query_unpaged(write.clone(), &[])
        .await
        .expect_err("stalled");
    assert!(
        matches!(failed, ExecutionError::RequestTimeout(_)),
        "{failed:?}"
    );
    proxy.stall(false);
    wait_until(Duration::from_secs(30), "writes pass again", || async {
        session.query_unpaged(write.clone(), &[]).await.is_ok()
    })
    .await
    .expect("recovers");
}

#[tokio::test]
async fn refused_connections_fail_a_new_session_until_allowed_again() {
    let upstream: SocketAddr = peers()
        .cassandra
        .parse()
        .expect("WEIR_TEST_CASSANDRA is ip:port");
    let proxy = FaultProxy::start_cql(upstream).await.expect("proxy");
    proxy.refuse_new(true);
    let refused = scylla::client::session_builder::SessionBuilder::new()
        .known_node(proxy.addr().to_string())
        .connection_timeout(Duration::from_secs(2))
        .build()
        .await;
    assert!(refused.is_err(), "no session through a refusing proxy");
    proxy.refuse_new(false);
    let _session = session(&proxy.addr().to_string()).await;
}
