//! The shared Kafka broker behaves as weir's source and dead-letter producer need it to.

mod clients;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use clients::{create_topic, group_consumer, produce_keyed};
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use weir_test_support::{peers, unique_topic};

const RECORDS: usize = 10_000;
const PARTITIONS: i32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_created_topic_carries_10000_idempotent_keyed_records_to_a_group_with_manual_commits()
{
    let bootstrap = &peers().kafka;
    let topic = unique_topic("keyed");
    create_topic(bootstrap, &topic, PARTITIONS).await;

    produce_keyed(bootstrap, &topic, RECORDS).await;

    let group = unique_topic("group");
    let consumer = group_consumer(bootstrap, &group);
    consumer.subscribe(&[&topic]).expect("subscribe");
    let mut seen = HashSet::new();
    let mut next_offsets: BTreeMap<i32, i64> = BTreeMap::new();
    while seen.len() < RECORDS {
        let message = tokio::time::timeout(Duration::from_secs(60), consumer.recv())
            .await
            .expect("a record within 60 s")
            .expect("no consumer error");
        let key = String::from_utf8(message.key().expect("keyed").to_vec()).expect("utf-8 key");
        let payload = message.payload().expect("payload");
        assert_eq!(payload, format!("value-of-{key}").as_bytes());
        seen.insert(key);
        next_offsets.insert(message.partition(), message.offset() + 1);
    }
    let mut commit = TopicPartitionList::new();
    for (partition, offset) in &next_offsets {
        commit
            .add_partition_offset(&topic, *partition, Offset::Offset(*offset))
            .expect("offset");
    }
    consumer.commit(&commit, CommitMode::Sync).expect("commit");

    let committed = consumer
        .committed(Duration::from_secs(10))
        .expect("committed offsets");
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
        "every record is committed exactly once"
    );
}
