//! The shared Cassandra node behaves as weir's sink needs it to.

mod clients;

use std::time::Duration;

use clients::{create_keyspace, db_error, once, session};
use scylla::errors::DbError;
use scylla::statement::Consistency;
use weir_test_support::{peers, unique_keyspace};

#[tokio::test]
async fn prepared_typed_inserts_with_using_timestamp_read_back_equal_and_the_table_is_in_driver_metadata()
 {
    let session = session(&peers().cassandra).await;
    let ks = unique_keyspace("typed");
    create_keyspace(&session, &ks, 1).await;
    session
        .query_unpaged(
            format!("CREATE TABLE {ks}.events (id bigint PRIMARY KEY, name text, amount double, ok boolean, tags list<text>)"),
            &[],
        )
        .await
        .expect("create table");
    session
        .await_schema_agreement()
        .await
        .expect("schema agreement after DDL");

    let insert = session
        .prepare(format!(
            "INSERT INTO {ks}.events (id, name, amount, ok, tags) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?"
        ))
        .await
        .expect("prepare");
    let rows: Vec<(i64, String, f64, bool, Vec<String>)> = (0..20)
        .map(|i| {
            (
                i,
                format!("name-{i}"),
                i as f64 * 1.5,
                i % 2 == 0,
                vec![format!("t{i}"), "x".into()],
            )
        })
        .collect();
    for (i, row) in rows.iter().enumerate() {
        let timestamp = 1_700_000_000_000_000i64 + i as i64;
        session
            .execute_unpaged(&insert, (&row.0, &row.1, &row.2, &row.3, &row.4, timestamp))
            .await
            .expect("insert");
    }

    let result = session
        .query_unpaged(
            format!("SELECT id, name, amount, ok, tags, writetime(name) FROM {ks}.events"),
            &[],
        )
        .await
        .expect("select");
    let mut read: Vec<(i64, String, f64, bool, Vec<String>, i64)> = result
        .into_rows_result()
        .expect("rows")
        .rows::<(i64, String, f64, bool, Vec<String>, i64)>()
        .expect("typed rows")
        .collect::<Result<_, _>>()
        .expect("deserialize");
    read.sort_by_key(|r| r.0);
    assert_eq!(read.len(), rows.len());
    for (i, (got, want)) in read.iter().zip(&rows).enumerate() {
        assert_eq!(
            (&got.0, &got.1, &got.2, &got.3, &got.4),
            (&want.0, &want.1, &want.2, &want.3, &want.4)
        );
        assert_eq!(
            got.5,
            1_700_000_000_000_000i64 + i as i64,
            "USING TIMESTAMP is the write time"
        );
    }

    session.refresh_metadata().await.expect("refresh metadata");
    let state = session.get_cluster_state();
    let keyspace = state
        .get_keyspace(&ks)
        .expect("keyspace in driver metadata");
    let table = keyspace
        .tables
        .get("events")
        .expect("table in driver metadata");
    assert!(table.columns.contains_key("amount"));
}

#[tokio::test]
async fn quorum_write_to_a_replication_factor_3_keyspace_gets_a_real_unavailable() {
    let session = session(&peers().cassandra).await;
    let ks = unique_keyspace("rf3");
    create_keyspace(&session, &ks, 3).await;
    session
        .query_unpaged(
            format!("CREATE TABLE {ks}.t (id int PRIMARY KEY, v text)"),
            &[],
        )
        .await
        .expect("create table");
    let mut write = once(format!("INSERT INTO {ks}.t (id, v) VALUES (1, 'a')"));
    write.set_consistency(Consistency::Quorum);
    write.set_request_timeout(Some(Duration::from_secs(10)));
    let error = session
        .query_unpaged(write, &[])
        .await
        .expect_err("one node cannot make a quorum of 3");
    assert!(
        matches!(
            db_error(&error),
            Some(DbError::Unavailable {
                required: 2,
                alive: 1,
                ..
            })
        ),
        "expected Unavailable(required 2, alive 1), got {error:?}"
    );
}
