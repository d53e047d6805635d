//! The fault matrix as a test: weir on its own real Kafka and Cassandra, broken in each way
//! of the README's table while users stream in. Nothing may be lost, every row must equal
//! the enricher's output, only the invalid events may be dead-lettered, and weir's memory
//! stays bounded through every outage.

/// weir's resident set stays below this through every fault (it buffers at most
/// `source.max_buffered_events` events, whatever the sink does).
const MEMORY_BOUND: u64 = 256 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_survives_every_fault_of_the_matrix() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let options = weir_faults::MatrixOptions::new(
        env!("CARGO_BIN_EXE_weir").into(),
        scratch.path().to_path_buf(),
    );
    let outcomes = weir_faults::run(&options, |line| eprintln!("{line}"))
        .await
        .expect("the matrix runs");
    let table = weir_faults::markdown_table(&outcomes);
    // For the README: `weir-faults --render target/fault-matrix.json --update-readme`.
    let json = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/fault-matrix.json"
    );
    std::fs::write(json, serde_json::to_string_pretty(&outcomes).expect("json")).expect("write");
    assert_eq!(outcomes.len(), weir_faults::Fault::ALL.len(), "{table}");
    for outcome in &outcomes {
        assert!(
            outcome.survived(),
            "{} was not survived:\n{outcome:#?}\n{table}",
            outcome.fault
        );
        assert!(
            outcome.peak_rss_bytes > 0 && outcome.peak_rss_bytes < MEMORY_BOUND,
            "{}: weir's peak RSS {} is out of bounds\n{table}",
            outcome.fault,
            outcome.peak_rss_bytes
        );
    }
    let poison = outcomes
        .iter()
        .find(|o| o.fault == "poison-heavy")
        .expect("poison row");
    assert!(
        poison.invalid * 3 >= poison.produced - 2,
        "a third invalid: {poison:#?}"
    );
    eprintln!("{table}");
}
