//! `weir-faults`: runs the fault matrix against its own Kafka and Cassandra and prints the
//! table (optionally writing it into the README).

use clap::Parser;
use std::path::PathBuf;
use weir_faults::{Fault, MatrixOptions};

/// Breaks the real Kafka and Cassandra in every way weir must survive, while users stream
/// through `weir run`, and counts every event: rows, dead letters, lost (must be 0).
///
/// Starts its own Kafka and Cassandra (Java 17, jars from Maven Central as the tests use) and
/// stops them by pid at the end. Takes about 8 minutes on 2 cores.
#[derive(Debug, Parser)]
#[command(name = "weir-faults", version)]
struct Args {
    /// Only these faults (comma-separated), in this order.
    #[arg(long, value_enum, value_delimiter = ',')]
    faults: Vec<Fault>,
    /// Events produced per second while a fault runs.
    #[arg(long, default_value_t = 1_000)]
    rate: u32,
    /// The weir binary to test (default: the one built beside this program).
    #[arg(long)]
    weir: Option<PathBuf>,
    /// Peers' state, configs and weir logs.
    #[arg(long, default_value = "target/fault-matrix")]
    scratch: PathBuf,
    /// Also write the outcomes as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Render the outcomes saved in this JSON file (`--json`, or the test's
    /// `target/fault-matrix.json`) instead of running the matrix.
    #[arg(long, conflicts_with_all = ["faults", "json"])]
    render: Option<PathBuf>,
    /// Write the table into this README's fault-matrix section.
    #[arg(long, num_args = 0..=1, default_missing_value = "README.md")]
    update_readme: Option<PathBuf>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let weir = match args.weir {
        Some(path) => path,
        None => std::env::current_exe()?.with_file_name("weir"),
    };
    let mut options = MatrixOptions::new(weir, args.scratch);
    options.rate = args.rate;
    if !args.faults.is_empty() {
        options.faults = args.faults;
    }
    let outcomes: Vec<weir_faults::Outcome> = match &args.render {
        Some(path) => serde_json::from_str(&std::fs::read_to_string(path)?)?,
        None => weir_faults::run(&options, |line| eprintln!("weir-faults: {line}")).await?,
    };
    let table = weir_faults::markdown_table(&outcomes);
    println!("{table}");
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&outcomes)?)?;
    }
    if let Some(readme) = &args.update_readme {
        weir_faults::update_readme(readme, &table)?;
        eprintln!("weir-faults: table written into {}", readme.display());
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| !o.survived())
        .map(|o| o.fault.as_str())
        .collect();
    if !failed.is_empty() {
        anyhow::bail!("not survived: {}", failed.join(", "));
    }
    Ok(())
}
