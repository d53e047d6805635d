//! `weir ingest`: the producer side of the pipeline, replacing the tutorial's Airflow DAG
//! that polled randomuser.me and produced each user to Kafka.
//!
//! Users come from a randomuser.me-compatible API ([`ApiClient`], with bounded retries) or
//! from the deterministic [`SyntheticUsers`] generator; each is mapped to the flat
//! [`UserEvent`] the enricher plugin expects ([`map_response`]: a result that does not fit is
//! skipped and reported by its field, never produced half-filled) and produced keyed by its
//! id with an idempotent, `acks=all` producer ([`UserTopic`]). [`ingest`] runs once or on a
//! schedule; [`run`] is the CLI edge.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use clap::Parser;
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     ingest: weir_ingest::IngestArgs,
//! }
//! let cli = Cli::parse_from(["weir-ingest", "--synthetic", "--seed", "7", "--count", "1000"]);
//! let summary = weir_ingest::run(cli.ingest).await?;
//! eprintln!("weir ingest: {summary}");
//! # Ok(())
//! # }
//! ```

mod api;
mod args;
mod progress;
mod run;
mod synthetic;
mod topic;
mod user;

pub use api::{ApiClient, AttemptFailure, FetchError, RequestTally, RetryPolicy};
pub use args::{
    ArgProblem, ArgProblems, DEFAULT_URL, IngestArgs, IngestConfig, MAX_BATCH, RunLimits, Schedule,
    UserSourceConfig,
};
pub use run::{IngestError, IngestSummary, ingest};
pub use synthetic::SyntheticUsers;
pub use topic::{UserTopic, user_record};
pub use user::{
    FieldProblem, MappedResponse, ResponseProblem, UserEvent, map_response, map_result,
};

use anyhow::Context;

/// Validates `args` and ingests until done, or until SIGINT/SIGTERM (then the summary of
/// what was produced so far is returned). The caller prints the summary.
pub async fn run(args: IngestArgs) -> anyhow::Result<IngestSummary> {
    let config = args.validate()?;
    ingest(&config, weir_core::termination_signal())
        .await
        .with_context(|| format!("weir ingest to topic `{}`", config.topic))
}
