//! `weir ingest --synthetic` then `weir run --until-drained`, as a user types them, on the real
//! Kafka: the run ends by itself once the topic is drained, with every event written.

use std::path::Path;
use std::process::{Command, Output};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

fn weir(args: &[&str], dir: &Path) -> Output {
    Command::new(WEIR)
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("WEIR_LOG", "warn")
        .output()
        .expect("weir runs")
}

fn repo_file(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
        .display()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_until_drained_reads_what_ingest_produced_and_ends_by_itself() {
    let peers = weir_test_support::peers();
    let dir = tempfile::tempdir().expect("tempdir");
    let topic = weir_test_support::unique_topic("until-drained");
    let ingest = weir(
        &[
            "ingest",
            "--synthetic",
            "--seed",
            "3",
            "--count",
            "120",
            "--batch",
            "50",
            "--brokers",
            &peers.kafka,
            "--topic",
            &topic,
            "--create-topic",
            "--partitions",
            "2",
        ],
        dir.path(),
    );
    assert!(ingest.status.success(), "{ingest:?}");

    let config = repo_file("examples/local.toml");
    let group = format!(
        "source.group_id=\"{}\"",
        weir_test_support::unique_topic("g")
    );
    let run = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::task::spawn_blocking({
            let dir = dir.path().to_path_buf();
            let (kafka, topic) = (peers.kafka.clone(), topic.clone());
            move || {
                weir(
                    &[
                        "run",
                        "--config",
                        &config,
                        "--until-drained",
                        "--set",
                        &format!("source.brokers=\"{kafka}\""),
                        "--set",
                        &format!("source.topics=[\"{topic}\"]"),
                        "--set",
                        &group,
                        "--set",
                        "sink={type=\"jsonl\", path=\"out.jsonl\"}",
                        "--set",
                        "dead_letter={type=\"jsonl\", path=\"dead.jsonl\"}",
                        "--set",
                        "metrics.enabled=false",
                    ],
                    &dir,
                )
            }
        }),
    )
    .await
    .expect("weir run --until-drained ends by itself")
    .expect("weir run");

    assert!(run.status.success(), "{run:?}");
    let written = std::fs::read_to_string(dir.path().join("out.jsonl")).expect("output");
    let rows: Vec<serde_json::Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(rows.len(), 120, "every produced user, once");
    assert!(rows.iter().all(|r| r["full_name"].is_string()), "enriched");
}
