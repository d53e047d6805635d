//! Filling the demo's topic: synthetic users as `weir ingest --synthetic` produces them, and a
//! few events the enricher must refuse.

use super::{DemoArgs, Interrupt, Interrupted, say};
use anyhow::{Context, Result};
use std::time::Duration;
use weir_kafka::{Brokers, KafkaProducer, Properties};

/// Produces the synthetic users (as `weir ingest --synthetic` does) and the invalid events;
/// returns how many events the topic received.
pub(super) async fn produce(
    args: &DemoArgs,
    brokers: &Brokers,
    mut interrupt: Interrupt,
) -> Result<u64> {
    say(&format!(
        "producing {} users to `{}` at {}",
        args.users,
        args.topic,
        brokers.bootstrap_servers()
    ));
    let ingest = weir_ingest::IngestArgs {
        url: weir_ingest::DEFAULT_URL.into(),
        batch: 1000,
        count: Some(args.users),
        rate: None,
        for_duration: None,
        every: None,
        cron: None,
        brokers: brokers.bootstrap_servers(),
        kafka_properties: Vec::new(),
        topic: args.topic.clone(),
        synthetic: true,
        seed: Some(args.seed),
        timeout: Duration::from_secs(10),
        retry_budget: "5,2m".into(),
        create_topic: false,
        partitions: args.partitions,
    }
    .validate()?;
    let mut stop = interrupt.clone();
    let summary = weir_ingest::ingest(&ingest, async move { stop.fired().await })
        .await
        .with_context(|| format!("producing users to `{}`", args.topic))?;
    if interrupt.is_set() {
        return Err(Interrupted.into());
    }
    say(&format!("ingest: {summary}"));
    let invalid = invalid_events(args)?;
    let producer = KafkaProducer::new(brokers, &Properties::default())?;
    tokio::select! {
        sent = producer.send_batch(&invalid) => sent.with_context(|| format!("producing the invalid events to `{}`", args.topic))?,
        () = interrupt.fired() => return Err(Interrupted.into()),
    }
    if args.invalid > 0 {
        say(&format!(
            "produced {} invalid events (no or an impossible date of birth)",
            args.invalid
        ));
    }
    Ok(summary.produced + args.invalid)
}

/// Users the enricher refuses: half without `dob`, half born on 30 February.
fn invalid_events(args: &DemoArgs) -> Result<Vec<weir_kafka::ProducerRecord>> {
    let count = usize::try_from(args.invalid).context("--invalid is too large")?;
    let users = weir_ingest::SyntheticUsers::new(args.seed ^ 0x5eed_bad0).take_users(count);
    users
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let mut record = weir_ingest::user_record(&args.topic, user)?;
            let mut value = serde_json::to_value(user)?;
            if let Some(fields) = value.as_object_mut() {
                if i % 2 == 0 {
                    fields.remove("dob");
                } else {
                    fields.insert("dob".into(), "1990-02-30T00:00:00.000Z".into());
                }
            }
            record.value = serde_json::to_vec(&value)?.into();
            Ok(record)
        })
        .collect()
}
