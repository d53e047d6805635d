//! `weir run` and `weir validate`.

use crate::commands::components;
use crate::config::WeirConfig;
use crate::plugins;
use crate::progress;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use weir_core::{Pipeline, PipelineOptions, PipelineStats, ShutdownSignal};

/// Arguments of `weir run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The pipeline's config file.
    #[arg(long, short, default_value = "weir.toml", env = "WEIR_CONFIG")]
    config: PathBuf,
    /// Override a config key, e.g. `--set pipeline.batch_size=64` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

/// Arguments of `weir validate`.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The pipeline's config file.
    #[arg(long, short, default_value = "weir.toml", env = "WEIR_CONFIG")]
    config: PathBuf,
    /// Override a config key, e.g. `--set pipeline.batch_size=64` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

/// Runs the pipeline until its input ends or a signal arrives, then prints a summary.
pub async fn run(args: RunArgs) -> Result<ExitCode> {
    let config = WeirConfig::load(&args.config, &args.overrides)?;
    let engine = plugins::engine(config.cache_dir())?;
    let chain = tokio::task::block_in_place(|| plugins::load_chain(&engine, &config.plugins))?;
    let parts = components::build(&config).await?;

    let options = PipelineOptions {
        batch_size: config.pipeline.batch_size,
        max_batches_in_flight: config.pipeline.max_batches_in_flight,
    };
    let pipeline = Pipeline::new(parts.source, chain, parts.sink, parts.dead_letters, options);
    let stats = pipeline.stats();
    tokio::spawn(crate::metrics::serve(
        config.metrics.clone(),
        crate::metrics::Sources {
            pipeline: std::sync::Arc::clone(&stats),
            cassandra: parts.cassandra_metrics,
            kafka: parts.kafka_stats,
        },
    ));
    let (stop, shutdown) = ShutdownSignal::new();
    tokio::spawn(progress::on_signals(stop));
    let status = tokio::spawn(progress::status_line(std::sync::Arc::clone(&stats)));

    let started = Instant::now();
    tracing::info!(config = %args.config.display(), "Pipeline started");
    let result = pipeline.run(shutdown).await;
    status.abort();
    progress::summary(&stats, started.elapsed());
    result.context("the pipeline stopped")?;
    if PipelineStats::get(&stats.dead_lettered) > 0 {
        tracing::warn!(
            failed = PipelineStats::get(&stats.dead_lettered),
            "Some events failed and were dead-lettered with their reason"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads and checks everything `run` would, without reading any event.
pub async fn validate(args: ValidateArgs) -> Result<ExitCode> {
    let config = WeirConfig::load(&args.config, &args.overrides)?;
    let engine = plugins::engine(config.cache_dir())?;
    let chain = tokio::task::block_in_place(|| plugins::load_chain(&engine, &config.plugins))?;
    for plugin in chain.plugins() {
        let info = plugin.info();
        println!("plugin {} ({}): ok", info.name, info.version);
    }
    println!("{}: ok", args.config.display());
    Ok(ExitCode::SUCCESS)
}
