//! Process faults on a private pair (so the shared one stays undisturbed): data and committed
//! offsets survive restarts and kill -9; a frozen server times out and recovers on thaw.

mod clients;

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use clients::{create_keyspace, create_topic, group_consumer, once, produce_keyed, session};
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use scylla::client::session::Session;
use scylla::errors::ExecutionError;
use weir_peers::{Peers, PeersOptions};

const RECORDS: usize = 10_000;

/// A pair of this test's own, in `target/peers-restart-<pid>` (removed by the test).
fn private_pair() -> (Peers, PathBuf) {
    let state_dir = weir_peers::workspace_dir()
        .join("target")
        .join(format!("peers-restart-{}", std::process::id()));
    let opts = PeersOptions {
        state_dir: state_dir.clone(),
        ..PeersOptions::default()
    };
    let peers = Peers::start(&opts).unwrap_or_else(|e| panic!("private pair: {e}"));
    (peers, state_dir)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn data_committed_offsets_and_rows_survive_restarts_and_kill_9_and_a_frozen_node_times_out_until_thawed()
 {
    let rt = runtime();
    let (mut peers, state_dir) = private_pair();
    let kafka = peers.kafka_addr().to_string();
    let cql = peers.cassandra_addr().to_string();

    // Kafka: consume everything in a group, commit, restart, and find both data and offsets.
    let topic = weir_test_support::unique_topic("restart");
    let group = weir_test_support::unique_topic("restart-group");
    rt.block_on(async {
        create_topic(&kafka, &topic, 2).await;
        produce_keyed(&kafka, &topic, RECORDS).await;
        consume_all_and_commit(&kafka, &topic, &group).await;
    });
    peers
        .kafka()
        .restart()
        .unwrap_or_else(|e| panic!("kafka restart: {e}"));
    rt.block_on(async {
        let consumer = group_consumer(&kafka, &group);
        let mut partitions = TopicPartitionList::new();
        partitions.add_partition(&topic, 0);
        partitions.add_partition(&topic, 1);
        let committed = consumer
            .committed_offsets(partitions, Duration::from_secs(30))
            .expect("committed offsets after restart");
        let total: i64 = committed
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            })
            .sum();
        assert_eq!(
            total, RECORDS as i64,
            "committed offsets survive the restart"
        );
        let again = weir_test_support::unique_topic("restart-fresh-group");
        assert_eq!(
            consume_all_and_commit(&kafka, &topic, &again).await,
            RECORDS,
            "data survives"
        );
    });
    // kill -9: every partition gets its leader back (ELR on a single node) and data remains.
    peers.kafka().kill9().expect("kill -9 kafka");
    peers
        .kafka()
        .start()
        .unwrap_or_else(|e| panic!("kafka start after kill -9: {e}"));
    rt.block_on(async {
        let after_crash = weir_test_support::unique_topic("restart-after-kill");
        assert_eq!(
            consume_all_and_commit(&kafka, &topic, &after_crash).await,
            RECORDS,
            "data survives kill -9"
        );
    });

    // Cassandra: rows survive a clean restart and a kill -9.
    let ks = weir_test_support::unique_keyspace("restart");
    rt.block_on(async {
        let s = session(&cql).await;
        create_keyspace(&s, &ks, 1).await;
        s.query_unpaged(
            format!("CREATE TABLE {ks}.t (id int PRIMARY KEY, v text)"),
            &[],
        )
        .await
        .expect("create table");
        insert_rows(&s, &ks, 0..50).await;
    });
    peers
        .cassandra()
        .restart()
        .unwrap_or_else(|e| panic!("cassandra restart: {e}"));
    rt.block_on(async {
        let s = session(&cql).await;
        assert_eq!(count(&s, &ks).await, 50, "rows survive a clean restart");
        insert_rows(&s, &ks, 50..100).await;
    });
    peers.cassandra().kill9().expect("kill -9");
    peers
        .cassandra()
        .start()
        .unwrap_or_else(|e| panic!("cassandra start after kill -9: {e}"));
    rt.block_on(async {
        let s = session(&cql).await;
        assert_eq!(
            count(&s, &ks).await,
            100,
            "acknowledged rows survive kill -9"
        );
    });

    // Freeze: the driver times out; after thaw the same session works again.
    rt.block_on(async {
        let s = session(&cql).await;
        tokio::task::block_in_place(|| peers.cassandra().freeze()).expect("SIGSTOP");
        let mut read = once(format!("SELECT count(*) FROM {ks}.t"));
        read.set_request_timeout(Some(Duration::from_secs(1)));
        let frozen = s
            .query_unpaged(read.clone(), &[])
            .await
            .expect_err("frozen node answers nothing");
        assert!(
            matches!(frozen, ExecutionError::RequestTimeout(_)),
            "{frozen:?}"
        );
        tokio::task::block_in_place(|| peers.cassandra().thaw()).expect("SIGCONT");
        weir_test_support::wait_until(Duration::from_secs(30), "reads pass after thaw", || async {
            s.query_unpaged(read.clone(), &[]).await.is_ok()
        })
        .await
        .expect("thawed node answers");
    });
    peers.stop().expect("stop");
    // Best effort: only disk space is at stake.
    let _ = std::fs::remove_dir_all(state_dir);
}

async fn consume_all_and_commit(kafka: &str, topic: &str, group: &str) -> usize {
    let consumer = group_consumer(kafka, group);
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut keys = HashSet::new();
    let mut commit = TopicPartitionList::new();
    while keys.len() < RECORDS {
        let m = tokio::time::timeout(Duration::from_secs(60), consumer.recv())
            .await
            .expect("a record within 60 s")
            .expect("no consumer error");
        keys.insert(m.key().expect("keyed").to_vec());
        commit
            .add_partition_offset(topic, m.partition(), Offset::Offset(m.offset() + 1))
            .expect("offset");
    }
    consumer.commit(&commit, CommitMode::Sync).expect("commit");
    keys.len()
}

async fn insert_rows(s: &Session, ks: &str, ids: std::ops::Range<i32>) {
    let insert = s
        .prepare(format!("INSERT INTO {ks}.t (id, v) VALUES (?, ?)"))
        .await
        .expect("prepare");
    for id in ids {
        s.execute_unpaged(&insert, (id, format!("v{id}")))
            .await
            .expect("insert");
    }
}

async fn count(s: &Session, ks: &str) -> i64 {
    s.query_unpaged(format!("SELECT count(*) FROM {ks}.t"), &[])
        .await
        .expect("count")
        .into_rows_result()
        .expect("rows")
        .single_row::<(i64,)>()
        .expect("one row")
        .0
}
