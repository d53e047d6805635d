//! weir's fault matrix: the real Kafka and Cassandra (a pair of their own, so nothing else
//! feels the faults) broken in each way the pipeline must survive while users stream in,
//! then every event counted by id.
//!
//! Each fault gets a fresh topic (4 partitions), dead-letter topic and keyspace, and a real
//! `weir run` reading through the enricher into Cassandra, which it reaches through the CQL
//! fault proxy. Events are produced at a steady rate while the fault is injected; once the
//! group's committed offsets reach the end of the topic, weir is stopped and the matrix
//! reads back every row and every dead letter:
//!
//! - **lost** = produced events that are neither a row nor a dead letter (must be 0);
//! - **wrong rows** = rows that differ from what the enricher makes of their event;
//! - **rewrites** = writes that reached Cassandra beyond one per row: redeliveries after a
//!   crash or a retry, harmless because a row is keyed by its event's id and rewritten equal.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let options = weir_faults::MatrixOptions::new("target/release/weir".into(), "target/faults".into());
//! let outcomes = weir_faults::run(&options, |line| eprintln!("{line}")).await?;
//! println!("{}", weir_faults::markdown_table(&outcomes));
//! # Ok(()) }
//! ```

mod lab;
mod scenarios;
mod tally;
mod traffic;

use std::path::{Path, PathBuf};

pub use scenarios::Fault;

/// What to run, and where.
#[derive(Debug, Clone)]
pub struct MatrixOptions {
    /// The `weir` binary under test.
    pub weir: PathBuf,
    /// Peers' state, configs and logs; cleared of a previous run's peers.
    pub scratch: PathBuf,
    /// Events produced per second while a fault runs.
    pub rate: u32,
    /// Which faults, in order.
    pub faults: Vec<Fault>,
}

impl MatrixOptions {
    /// Every fault at 1,000 events/s.
    pub fn new(weir: PathBuf, scratch: PathBuf) -> Self {
        Self {
            weir,
            scratch,
            rate: 1_000,
            faults: Fault::ALL.to_vec(),
        }
    }
}

/// What one fault did to the stream.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// Short name of the fault.
    pub fault: String,
    /// What was done, for the table.
    pub what: String,
    /// Distinct events produced.
    pub produced: usize,
    /// Of those, events made invalid on purpose (they belong in the dead-letter topic).
    pub invalid: usize,
    /// Rows in the table afterwards.
    pub rows: usize,
    /// Distinct events in the dead-letter topic.
    pub dead_lettered: usize,
    /// Produced events that are neither a row nor a dead letter.
    pub lost: usize,
    /// Rows that differ from the enricher's output for their event.
    pub wrong_rows: usize,
    /// Valid events that were dead-lettered (a retry budget ran out).
    pub valid_dead_lettered: usize,
    /// Writes that reached Cassandra beyond one per row (idempotent overwrites).
    pub rewrites: u64,
    /// Highest peak RSS of the weir processes of this fault.
    pub peak_rss_bytes: u64,
    /// Whether the group's committed offsets reached the end of the topic.
    pub drained: bool,
    /// Wall time from the first event produced to the last read back.
    pub seconds: f64,
}

impl Outcome {
    /// Nothing lost, every row right, only the invalid events dead-lettered, and finished.
    pub fn survived(&self) -> bool {
        self.lost == 0
            && self.wrong_rows == 0
            && self.valid_dead_lettered == 0
            && self.dead_lettered == self.invalid
            && self.rows + self.invalid == self.produced
            && self.drained
    }
}

/// Starts the matrix's own Kafka and Cassandra, runs each fault in turn, and stops them.
/// `progress` receives one line per step.
pub async fn run(options: &MatrixOptions, progress: impl Fn(&str)) -> anyhow::Result<Vec<Outcome>> {
    if !options.weir.is_file() {
        anyhow::bail!(
            "no weir binary at {}; build it with `cargo build --release -p weir`",
            options.weir.display()
        );
    }
    progress("starting Apache Kafka and Apache Cassandra for the matrix");
    let mut lab = lab::Lab::start(options).await?;
    progress(&format!(
        "peers up: kafka={} cassandra={} (weir reaches it through the fault proxy at {})",
        lab.kafka,
        lab.cassandra,
        lab.proxy.addr()
    ));
    let mut outcomes = Vec::new();
    for &fault in &options.faults {
        progress(&format!("{}: {}", fault.name(), fault.what()));
        let outcome = scenarios::run(&mut lab, fault, &progress).await?;
        progress(&format!(
            "{}: {} produced, {} rows, {} dead-lettered, {} lost, {} rewrites, peak RSS {:.1} MiB{}",
            outcome.fault,
            outcome.produced,
            outcome.rows,
            outcome.dead_lettered,
            outcome.lost,
            outcome.rewrites,
            mib(outcome.peak_rss_bytes),
            if outcome.survived() {
                ""
            } else {
                "  <-- NOT SURVIVED"
            }
        ));
        outcomes.push(outcome);
    }
    lab.stop();
    Ok(outcomes)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The outcomes as the README's table.
pub fn markdown_table(outcomes: &[Outcome]) -> String {
    let mut table = String::from(
        "| Fault | Events in | Rows out | Dead-lettered | Lost | Rewrites (idempotent) | Wrong rows | weir peak RSS |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for o in outcomes {
        table += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} MiB |\n",
            o.what,
            o.produced,
            o.rows,
            o.dead_lettered,
            o.lost,
            o.rewrites,
            o.wrong_rows,
            mib(o.peak_rss_bytes)
        );
    }
    table
}

/// First line of the README's generated table section.
pub const BEGIN_MARKER: &str =
    "<!-- fault-matrix:begin (generated by weir-faults --update-readme) -->";
/// Last line of that section.
pub const END_MARKER: &str = "<!-- fault-matrix:end -->";

/// Replaces what lies between the two markers in `readme` with `table`.
pub fn update_readme(readme: &Path, table: &str) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(readme)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", readme.display()))?;
    let (Some(begin), Some(end)) = (text.find(BEGIN_MARKER), text.find(END_MARKER)) else {
        anyhow::bail!(
            "{} has no fault-matrix section; add the lines\n{BEGIN_MARKER}\n{END_MARKER}",
            readme.display()
        );
    };
    let body_start = begin + BEGIN_MARKER.len();
    if end < body_start {
        anyhow::bail!(
            "{}: the fault-matrix end marker comes before its begin marker",
            readme.display()
        );
    }
    let updated = format!("{}\n{table}{}", &text[..body_start], &text[end..]);
    std::fs::write(readme, updated)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", readme.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_section_is_replaced_between_its_markers_only() {
        let dir = std::env::temp_dir().join(format!("weir-faults-readme-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let readme = dir.join("README.md");
        std::fs::write(
            &readme,
            format!("intro\n{BEGIN_MARKER}\nold table\n{END_MARKER}\nrest\n"),
        )
        .expect("write");
        update_readme(&readme, "| new |\n").expect("update");
        let text = std::fs::read_to_string(&readme).expect("read");
        assert_eq!(
            text,
            format!("intro\n{BEGIN_MARKER}\n| new |\n{END_MARKER}\nrest\n")
        );
        std::fs::write(&readme, "no markers\n").expect("write");
        let error = update_readme(&readme, "x")
            .expect_err("markers missing")
            .to_string();
        assert!(error.contains(BEGIN_MARKER), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_outcome_survives_only_with_nothing_lost_and_only_invalid_events_dead_lettered() {
        let good = Outcome {
            fault: "f".into(),
            what: "f".into(),
            produced: 10,
            invalid: 2,
            rows: 8,
            dead_lettered: 2,
            lost: 0,
            wrong_rows: 0,
            valid_dead_lettered: 0,
            rewrites: 3,
            peak_rss_bytes: 1,
            drained: true,
            seconds: 1.0,
        };
        assert!(good.survived());
        assert!(
            !Outcome {
                lost: 1,
                rows: 7,
                ..good.clone()
            }
            .survived()
        );
        assert!(
            !Outcome {
                valid_dead_lettered: 1,
                rows: 7,
                dead_lettered: 3,
                ..good.clone()
            }
            .survived()
        );
        assert!(
            !Outcome {
                drained: false,
                ..good.clone()
            }
            .survived()
        );
        assert!(
            !Outcome {
                wrong_rows: 1,
                ..good
            }
            .survived()
        );
    }
}
