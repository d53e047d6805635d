//! `weir-bench`: how fast weir's default plugin runs as a WebAssembly component compared
//! with the same Rust natively, what the host pipeline costs around it, and what loading a
//! plugin costs. One command prints everything; `--json` saves it for `weir-bench compare`.

mod compare;
mod data;
mod languages;
mod measure;
mod peer_paths;
mod peer_report;
mod peers;
mod report;
mod resources;
mod scrape;
mod stages;
mod weir_child;

use clap::{Args, Parser, Subcommand};
use measure::Repetitions;
use report::{Results, RunShape, Saved};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use weir_runtime::{EngineOptions, PluginEngine};

const LONG_ABOUT: &str = "\
Measures weir without external services, in one run:
  1. the plugin stage: events/s through enricher.wasm (a PluginChain, epoch time budget on)
     and through the same enrichment compiled natively (weir_enricher_core::enrich_into into
     one buffer per batch), at batch sizes 1, 64 and 512, and the ratio (issue #15 targets at
     batch 512: >= 60% of native, >= 1,000,000 events/s);
  2. the no-op plugin (echo): ns per event into WebAssembly and back at batch 512, bytes
     in and out included (target <= 100 ns);
  3. the host pipeline: file source -> enricher -> null sink through weir_core::Pipeline,
     events/s, CPU time per event and events/s per core (target >= 500,000);
  6. resources: peak RSS of a real `weir run` with a four-plugin chain (the `weir` binary
     beside this one; target < 150 MB), linear memory of one enricher instance, loading the
     enricher with and without the compiled cache, instantiating it (target < 50 us), and
     this process's peak RSS.
  4. with --with-peers (or --kafka/--cassandra): N synthetic users (`weir ingest
     --synthetic`) in a fresh 4-partition topic, then the real `weir run --until-drained`
     Kafka -> enricher -> null sink: events/s and weir's CPU time per event (/proc, user+sys),
     between the last metrics scrape before the first acknowledgement and the first that saw
     all of them;
  5. the same into Cassandra (fresh keyspace, consistency one; the pair --with-peers starts
     syncs its commit log periodically, as Cassandra ships), measured after one unmeasured
     warm-up run of the same events that JIT-compiles Cassandra's write path: events/s, CPU
     per event and its ratio to section 3 (target within 2x), which component bounds the throughput (CPU of
     weir, the Cassandra JVM and the machine, weir's wait on the sink); then a fresh topic fed
     at half that rate while weir runs: p50/p99 from the Kafka record timestamp to the sink's
     acknowledgement, from weir's `weir_event_latency_seconds` histogram.

Input: 20,480 user events generated deterministically from examples/users.jsonl and
tests/fixtures/users.jsonl (same bytes on every run). Every figure is the median of several
timed runs after warm-up, each on freshly built events. The plugin stage, the no-op plugin
and instantiation are timed in CPU time of the measuring thread (other processes on the
cores do not count against them); the pipeline and the loads are wall-clock. Input events
are built before and freed after each timed run (that is the source's cost); outputs are
freed inside it. Before timing, the component's outputs are checked byte for byte against
the native ones. Nothing is pinned to a core.

  cargo run --release -p weir-bench -- --json new.json
  cargo run --release -p weir-bench -- compare old.json new.json --tolerance 10%

Exit status: 0 on success; 1 when `compare` finds a regression; 2 on an error.";

#[derive(Debug, Parser)]
#[command(
    name = "weir-bench",
    version,
    about = "Benchmark weir: the enricher as WebAssembly vs native, the host pipeline, plugin load costs",
    long_about = LONG_ABOUT,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the benchmark (the default when no subcommand is given).
    Run(RunArgs),
    /// Compare two saved runs; exits with status 1 if any figure got worse beyond the
    /// tolerance.
    Compare(CompareArgs),
}

#[derive(Debug, Clone, Args)]
struct RunArgs {
    /// Also write every figure as JSON with stable keys to this file, for `compare`.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// 4,096 events and fewer repetitions: a smoke test in seconds, noisier figures.
    #[arg(long)]
    quick: bool,
    /// Run only sections 1 and 2 (the plugin stage and the no-op crossing): the
    /// WebAssembly boundary in seconds, without the pipeline, loads or other languages.
    #[arg(long, conflicts_with_all = ["json", "with_peers", "kafka"])]
    plugin_only: bool,
    /// Run only section 7 (plugin languages) and print it; `--json` is not written.
    #[arg(long, conflicts_with_all = ["json", "profile", "with_peers", "kafka"])]
    languages_only: bool,
    /// Also measure this component in section 7, unchecked (NAME=PATH, repeatable): e.g. a
    /// no-op plugin, to see what the layers under a plugin cost in its language.
    #[arg(long, value_name = "NAME=PATH", value_parser = parse_extra)]
    language_component: Vec<(String, PathBuf)>,
    /// Instead of measuring, run only this path at batch 512 for SECONDS (default 5), to
    /// be recorded by a profiler: `perf record -g -- weir-bench --profile echo`.
    #[arg(long, value_name = "PATH")]
    profile: Option<stages::ProfilePath>,
    /// Also run sections 4 and 5, starting a Kafka and a Cassandra for this run (through
    /// weir-peers, in the run's temp dir) and stopping them at the end.
    #[arg(long, conflicts_with = "kafka")]
    with_peers: bool,
    /// Run sections 4 and 5 against this running Kafka (`host:port`) instead.
    #[arg(long, value_name = "HOST:PORT", requires = "cassandra")]
    kafka: Option<String>,
    /// ...and this running Cassandra (`host:port`).
    #[arg(long, value_name = "HOST:PORT", requires = "kafka")]
    cassandra: Option<String>,
    /// The pid of that Cassandra's JVM, to report its CPU use in section 5.
    #[arg(long, value_name = "PID", requires = "cassandra")]
    cassandra_pid: Option<u32>,
    /// Run only sections 4 and 5, and section 3 that section 5's CPU per event is compared
    /// with: the full path alone, for iterating on it (not saved by --json).
    #[arg(long, conflicts_with_all = ["json", "profile"])]
    peers_only: bool,
    /// Events per Kafka run in sections 4 and 5 (default 100,000; 20,000 with --quick).
    #[arg(long, value_name = "N")]
    peer_events: Option<u64>,
    /// The batch size `--profile` runs at (1 shows what a call costs on its own).
    #[arg(
        long,
        value_name = "N",
        default_value_t = stages::LARGE_BATCH,
        requires = "profile"
    )]
    profile_batch: usize,
    /// How long `--profile` runs.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 5.0,
        requires = "profile"
    )]
    seconds: f64,
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// The baseline run (from `weir-bench --json`).
    old: PathBuf,
    /// The run to judge against it.
    new: PathBuf,
    /// Largest change in the bad direction that is not a regression, e.g. 10% or 2.5%.
    #[arg(long, default_value = "10%", value_parser = compare::Tolerance::parse)]
    tolerance: compare::Tolerance,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Compare(args)) => run_compare(&args),
        Some(Command::Run(args)) => run_bench(&args).map(|()| ExitCode::SUCCESS),
        None => run_bench(&cli.run).map(|()| ExitCode::SUCCESS),
    };
    outcome.unwrap_or_else(|message| {
        eprintln!("weir-bench: {message}");
        ExitCode::from(2)
    })
}

fn parse_extra(text: &str) -> Result<(String, PathBuf), String> {
    text.split_once('=')
        .filter(|(name, path)| !name.is_empty() && !path.is_empty())
        .map(|(name, path)| (name.to_owned(), PathBuf::from(path)))
        .ok_or_else(|| format!("expected NAME=PATH, got {text:?}"))
}

fn run_bench(args: &RunArgs) -> Result<(), String> {
    let (events_count, reps, instantiations) = if args.quick {
        (
            4_096,
            Repetitions {
                warmup: 1,
                timed: 3,
            },
            50,
        )
    } else {
        (
            20_480,
            Repetitions {
                warmup: 2,
                timed: 9,
            },
            500,
        )
    };
    let values = data::user_values(events_count);
    let events = data::events(&values);
    let shape = RunShape {
        events: events.len(),
        average_value_bytes: values.iter().map(String::len).sum::<usize>() / values.len().max(1),
        warmup: reps.warmup,
        timed: reps.timed,
        quick: args.quick,
    };
    let scratch = tempfile::tempdir().map_err(|e| format!("cannot create a temp dir: {e}"))?;
    if args.languages_only {
        eprintln!("weir-bench: plugin languages ...");
        println!(
            "{}",
            languages::stage(&values, reps, scratch.path(), &args.language_component)?
        );
        return Ok(());
    }

    let engine = PluginEngine::new(EngineOptions { cache_dir: None })
        .map_err(|e| format!("cannot create the plugin engine: {e}"))?;
    let enricher = stages::load_enricher(&engine)?;
    let echo = stages::load_echo(&engine)?;
    stages::check_equivalence(&enricher, &events)?;
    if let Some(path) = args.profile {
        let plugin = match path {
            stages::ProfilePath::Echo => &echo,
            _ => &enricher,
        };
        let rounds = stages::profile(path, plugin, &values, args.profile_batch, args.seconds);
        eprintln!(
            "weir-bench: ran {path:?} over {rounds} rounds of {} events",
            events.len()
        );
        return Ok(());
    }

    if args.peers_only {
        if !args.with_peers && args.kafka.is_none() {
            return Err("--peers-only needs --with-peers, or --kafka and --cassandra".into());
        }
        let pipeline = host_pipeline(args, &enricher, &values, events.len(), scratch.path())?;
        let peer_paths = peer_sections(args, scratch.path())?;
        println!(
            "{}",
            report::PeerOnlyResults {
                pipeline,
                peer_paths
            }
        );
        return Ok(());
    }

    eprintln!("weir-bench: plugin stage ...");
    let plugin = stages::plugin_stage(&enricher, &values, reps);
    eprintln!("weir-bench: no-op crossing ...");
    let echo = stages::echo_stage(&echo, &values, reps);
    if args.plugin_only {
        let sections = report::PluginSections {
            shape: &shape,
            plugin: &plugin,
            echo: &echo,
        };
        println!("{sections}");
        return Ok(());
    }
    let pipeline = host_pipeline(args, &enricher, &values, events.len(), scratch.path())?;
    let input = scratch.path().join("users.jsonl");
    eprintln!("weir-bench: load costs ...");
    let load_reps = Repetitions {
        warmup: 1,
        timed: if args.quick { 2 } else { 5 },
    };
    let load = stages::load_costs(
        &scratch.path().join("cache"),
        &enricher,
        load_reps,
        instantiations,
    )?;
    let instance_memory_bytes = resources::instance_memory(&enricher, &values);
    eprintln!("weir-bench: weir run with four plugins ...");
    let weir_run = match resources::weir_binary() {
        Some(weir) => resources::weir_run(&weir, &input, scratch.path()),
        None => Err(
            "no `weir` binary beside weir-bench; build it with `cargo build --release -p weir`"
                .into(),
        ),
    };

    let peer_paths = peer_sections(args, scratch.path())?;

    eprintln!("weir-bench: plugin languages ...");
    let languages = languages::stage(&values, reps, scratch.path(), &args.language_component)?;

    let results = Results {
        shape,
        plugin,
        echo,
        pipeline,
        load,
        instance_memory_bytes,
        weir_run,
        peer_paths,
        peak_rss_bytes: measure::peak_rss_bytes(),
    };
    println!("{results}");
    println!("{languages}");
    if let Some(path) = &args.json {
        write_saved(path, &results.saved())?;
        println!("saved to {}", path.display());
    }
    Ok(())
}

/// Section 3, over `values` written to `scratch/users.jsonl`.
fn host_pipeline(
    args: &RunArgs,
    enricher: &std::sync::Arc<weir_runtime::Plugin>,
    values: &[String],
    events: usize,
    scratch: &Path,
) -> Result<report::PipelineRun, String> {
    eprintln!("weir-bench: host pipeline ...");
    let input = scratch.join("users.jsonl");
    stages::write_jsonl(&input, values)?;
    let reps = Repetitions {
        warmup: 1,
        timed: if args.quick { 3 } else { 5 },
    };
    stages::pipeline_stage(
        enricher,
        &input,
        &scratch.join("dead-letters.jsonl"),
        events,
        reps,
    )
}

/// Sections 4 and 5 when asked for: `None` when not, `Some(Err)` when they could not run.
fn peer_sections(
    args: &RunArgs,
    scratch: &Path,
) -> Result<Option<Result<peer_paths::PeerResults, String>>, String> {
    let peers = match (&args.kafka, &args.cassandra) {
        (Some(kafka), Some(cassandra)) => {
            peers::PeerSet::given(kafka.clone(), cassandra.clone(), args.cassandra_pid)
        }
        _ if args.with_peers => {
            eprintln!("weir-bench: starting Kafka and Cassandra ...");
            peers::PeerSet::start(scratch)?
        }
        _ => return Ok(None),
    };
    let Some(weir) = resources::weir_binary() else {
        return Ok(Some(Err(
            "no `weir` binary beside weir-bench; build it with `cargo build --release -p weir`"
                .into(),
        )));
    };
    let shape = peer_paths::Shape {
        events: args
            .peer_events
            .unwrap_or(if args.quick { 20_000 } else { 100_000 }),
        latency_for: std::time::Duration::from_secs(if args.quick { 5 } else { 10 }),
    };
    // The cache section 6 filled: weir starts as a restart would, without compiling.
    let cache = scratch.join("weir-run-cache");
    let outcome = peer_paths::run(&weir, &peers, shape, &cache, scratch);
    drop(peers);
    Ok(Some(outcome))
}

fn write_saved(path: &Path, saved: &Saved) -> Result<(), String> {
    let mut text = serde_json::to_string_pretty(saved)
        .map_err(|e| format!("cannot encode the results: {e}"))?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn read_saved(path: &Path) -> Result<Saved, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let saved: Saved = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not a weir-bench result ({e}); write one with `weir-bench --json FILE`",
            path.display()
        )
    })?;
    if saved.format != report::FORMAT {
        return Err(format!(
            "{} has format `{}`, this weir-bench reads `{}`",
            path.display(),
            saved.format,
            report::FORMAT
        ));
    }
    Ok(saved)
}

fn run_compare(args: &CompareArgs) -> Result<ExitCode, String> {
    let old = read_saved(&args.old)?;
    let new = read_saved(&args.new)?;
    if old.quick != new.quick || old.events != new.events {
        eprintln!(
            "weir-bench: note: the runs differ in shape ({} events{} vs {} events{}); figures are less comparable",
            old.events,
            if old.quick { ", quick" } else { "" },
            new.events,
            if new.quick { ", quick" } else { "" }
        );
    }
    let comparison = compare::compare(&old, &new, args.tolerance);
    print!("{comparison}");
    Ok(if comparison.regressions() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
