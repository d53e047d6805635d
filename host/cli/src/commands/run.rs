//! `weir run` and `weir validate`.

use crate::commands::components;
use crate::commands::plugin::read_events;
use crate::config::{SinkConfig, WeirConfig};
use crate::plugins;
use crate::progress;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use weir_core::{Pipeline, PipelineStats, ShutdownSignal};

/// Arguments of `weir run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The pipeline's config file.
    #[arg(long, short, default_value = "weir.toml", env = "WEIR_CONFIG")]
    config: PathBuf,
    /// Override a config key, e.g. `--set pipeline.batch_size=64` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Stop once the Kafka source has read every partition up to where it ended when the
    /// partition was assigned, instead of waiting for new events (`source.stop_at_end`).
    #[arg(long)]
    until_drained: bool,
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
    /// Sample input events (JSONL): they are run through the chain, and the fields of the
    /// outputs are checked against the Cassandra table. Without it, a chain ending in the
    /// built-in enricher is checked with the enricher's output fields.
    #[arg(long, value_name = "FILE")]
    sample: Option<PathBuf>,
}

/// Runs the pipeline until its input ends or a signal arrives, then prints a summary.
pub async fn run(args: RunArgs) -> Result<ExitCode> {
    let mut config = WeirConfig::load(&args.config, &args.overrides)?;
    if args.until_drained {
        config.stop_at_end();
    }
    let engine = plugins::engine(config.cache_dir())?;
    let chain = tokio::task::block_in_place(|| plugins::load_chain(&engine, &config.plugins))?;
    let parts = components::build(&config).await?;
    let running = crate::reload::versions(&chain);
    let (chain, updates) = crate::reload::ReloadableChain::new(chain);
    if config.runtime.hot_reload {
        tokio::spawn(crate::reload::watch(
            engine,
            config.plugins.clone(),
            running,
            updates,
        ));
    }

    let options = config.pipeline.options();
    let pipeline = Pipeline::new(parts.source, chain, parts.sink, parts.dead_letters, options);
    let stats = pipeline.stats();
    let kafka_stats = parts.kafka_stats.clone();
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
    let status = tokio::spawn(progress::status_line(
        std::sync::Arc::clone(&stats),
        kafka_stats,
    ));

    let started = Instant::now();
    tracing::info!(config = %args.config.display(), "Pipeline started");
    let result = components::run_on_worker(pipeline.run(shutdown)).await;
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

/// Loads and checks everything `run` would, without reading any event; with a reachable
/// Cassandra sink, also the table's real schema against what the chain writes.
pub async fn validate(args: ValidateArgs) -> Result<ExitCode> {
    let config = WeirConfig::load(&args.config, &args.overrides)?;
    let engine = plugins::engine(config.cache_dir())?;
    let mut chain = tokio::task::block_in_place(|| plugins::load_chain(&engine, &config.plugins))?;
    for plugin in chain.plugins() {
        let info = plugin.info();
        println!("plugin {} ({}): ok", info.name, info.version);
    }
    let mut ok = true;
    if let SinkConfig::Cassandra(sink) = &config.sink {
        let fields = match &args.sample {
            Some(path) => Some(sample_fields(&mut chain, path)?),
            None => config
                .plugins
                .last()
                .filter(|p| p.path == "builtin:enricher")
                .map(|_| weir_cassandra::enricher_fields()),
        };
        ok = check_table(sink, fields.as_deref()).await;
    }
    if ok {
        println!("{}: ok", args.config.display());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{}: problems found (above)", args.config.display());
        Ok(ExitCode::FAILURE)
    }
}

/// Reads the sink table's schema and reports what would not fit; `false` on a problem.
/// An unreachable cluster is reported, not a failure: validation must work offline too.
async fn check_table(
    sink: &weir_cassandra::CassandraSinkConfig,
    fields: Option<&[weir_cassandra::ExpectedField]>,
) -> bool {
    let table = format!("{}.{}", sink.keyspace, sink.table);
    let session = match tokio::time::timeout(
        std::time::Duration::from_secs(10),
        weir_cassandra::connect_session(sink),
    )
    .await
    {
        Ok(Ok(session)) => session,
        Ok(Err(e)) => {
            println!(
                "sink: {} not reachable ({e}); table {table} not checked",
                sink.nodes.join(",")
            );
            return true;
        }
        Err(_) => {
            println!(
                "sink: {} did not answer within 10s; table {table} not checked",
                sink.nodes.join(",")
            );
            return true;
        }
    };
    let Some(fields) = fields else {
        let target = match sink.validate("sink") {
            Ok(target) => target,
            Err(e) => {
                println!("sink: {e}");
                return false;
            }
        };
        return match weir_cassandra::read_table_schema(&session, &target).await {
            Ok(_) => {
                println!(
                    "sink table {table}: exists (pass --sample FILE to check the fields the chain writes)"
                );
                true
            }
            Err(e) => table_missing(sink, &table, &e),
        };
    };
    match weir_cassandra::validate_against_table(&session, sink, fields).await {
        Ok(problems) if problems.is_empty() => {
            println!("sink table {table}: ok ({} fields checked)", fields.len());
            true
        }
        Ok(problems) => {
            for problem in problems {
                println!(
                    "sink table {table}, column `{}`: {}",
                    problem.column, problem.message
                );
            }
            false
        }
        Err(e) => table_missing(sink, &table, &e),
    }
}

/// A missing keyspace or table is fine when `create_schema` will create it.
fn table_missing(
    sink: &weir_cassandra::CassandraSinkConfig,
    table: &str,
    error: &weir_cassandra::CassandraError,
) -> bool {
    let missing = matches!(
        error,
        weir_cassandra::CassandraError::NoKeyspace(_)
            | weir_cassandra::CassandraError::NoTable { .. }
    );
    if missing && sink.create_schema {
        println!("sink table {table}: does not exist yet; `create_schema = true` creates it");
        true
    } else if missing {
        println!("sink table {table}: {error}; create it, or set sink.create_schema = true");
        false
    } else {
        println!("sink table {table}: cannot read its schema: {error}");
        false
    }
}

/// Runs the sample events through the chain and collects the top-level fields of every
/// output, with their JSON shape (the first one seen per field).
fn sample_fields(
    chain: &mut weir_runtime::PluginChain,
    path: &std::path::Path,
) -> Result<Vec<weir_cassandra::ExpectedField>> {
    use weir_cassandra::{ExpectedField, FieldKind};
    use weir_core::Transform;
    let results = tokio::task::block_in_place(|| {
        let events = read_events(path, weir_file::InputTimestamp::Now)
            .with_context(|| format!("--sample {}", path.display()))?;
        anyhow::Ok(chain.transform(&events))
    })?;
    let mut fields: Vec<ExpectedField> = Vec::new();
    for output in results.into_iter().flatten().flatten() {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(&output.value) else {
            continue;
        };
        for (name, value) in map {
            if fields.iter().any(|f| f.name == name) {
                continue;
            }
            let kind = match value {
                serde_json::Value::String(_) | serde_json::Value::Null => FieldKind::String,
                serde_json::Value::Number(n) if n.is_f64() => FieldKind::Float,
                serde_json::Value::Number(_) => FieldKind::Integer,
                serde_json::Value::Bool(_) => FieldKind::Bool,
                serde_json::Value::Array(_) => FieldKind::Array,
                serde_json::Value::Object(_) => FieldKind::Object,
            };
            fields.push(ExpectedField { name, kind });
        }
    }
    if fields.is_empty() {
        anyhow::bail!(
            "--sample {}: no event came out of the chain as a JSON object, so there is nothing to check",
            path.display()
        );
    }
    Ok(fields)
}
