//! The `weir` command line.

mod commands;
mod config;
mod metrics;
mod plugins;
mod progress;
mod reload;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// weir streams events through WebAssembly plugins you write: from a file or Kafka, through a
/// chain of sandboxed components, into stdout, a JSONL file or Cassandra. Events that fail go
/// to a dead-letter destination with their reason; nothing is lost.
#[derive(Parser)]
#[command(name = "weir", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Log format for standard error.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "WEIR_LOG_FORMAT"
    )]
    log_format: LogFormat,
    /// Log filter, e.g. `info`, `debug`, `weir_runtime=debug` [default: info; for `weir demo`,
    /// which prints its own progress: warn].
    #[arg(long, global = true, env = "WEIR_LOG")]
    log: Option<String>,
    /// Threads of the async runtime: network I/O and the pipeline's stages (plugins run on
    /// threads of their own). One keeps a Cassandra request and its response on the same
    /// thread, with fewer wake-ups and context switches than a thread per core.
    #[arg(
        long,
        global = true,
        default_value_t = 1,
        env = "WEIR_WORKER_THREADS",
        value_parser = clap::value_parser!(u16).range(1..=1024)
    )]
    worker_threads: u16,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run a pipeline described by a config file until its input ends or you press Ctrl-C.
    Run(commands::run::RunArgs),
    /// Check a config file without running it: every key, and every plugin loaded and
    /// initialised against the contract.
    Validate(commands::run::ValidateArgs),
    /// Poll a randomuser.me-style API (or generate users) and produce flat user events to
    /// Kafka, once or on a schedule.
    Ingest(weir_ingest::IngestArgs),
    /// The whole pipeline on this machine, one command, no Docker: starts Kafka and
    /// Cassandra on loopback, produces synthetic users, runs Kafka → enricher → Cassandra
    /// until the topic is drained, shows the result, and stops what it started.
    #[command(
        long_about = commands::demo::LONG_ABOUT,
        after_long_help = commands::demo::EXAMPLES
    )]
    Demo(commands::demo::DemoArgs),
    /// Write, test and inspect plugins.
    #[command(subcommand)]
    Plugin(commands::plugin::PluginCommand),
    /// Work with dead-lettered events: replay them through the current chain into the sink.
    #[command(subcommand)]
    Dlq(commands::dlq::DlqCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = cli.log.clone().unwrap_or_else(|| match cli.command {
        // The driver's COUNT(*) warning says nothing a demo user can act on.
        Command::Demo(_) => "warn,scylla=error".to_owned(),
        _ => "info".to_owned(),
    });
    init_logging(cli.log_format, &log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usize::from(cli.worker_threads))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => commands::run::run(args).await,
            Command::Validate(args) => commands::run::validate(args).await,
            Command::Plugin(command) => commands::plugin::execute(command).await,
            Command::Demo(args) => commands::demo::run(args).await,
            Command::Dlq(command) => commands::dlq::execute(command).await,
            Command::Ingest(args) => {
                let summary = weir_ingest::run(args).await?;
                eprintln!("weir ingest: {summary}");
                Ok(ExitCode::SUCCESS)
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
