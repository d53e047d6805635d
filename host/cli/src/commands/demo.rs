//! `weir demo`: the whole tutorial pipeline on this machine, with one command and without
//! Docker. Starts Apache Kafka and Apache Cassandra on loopback (the peers harness), produces
//! synthetic users like `weir ingest --synthetic`, runs the pipeline of
//! `examples/local.toml` (Kafka → enricher → Cassandra, dead letters to a Kafka topic) until
//! the topic is drained, reads a few rows back, reports, and stops what it started.

mod peers;
mod produce;
mod report;

use crate::commands::components;
use crate::config::WeirConfig;
use crate::plugins;
use anyhow::{Context, Result, bail};
use peers::DemoPeers;
use produce::produce;
use report::{Report, read_back};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use weir_core::{Pipeline, PipelineStats, ShutdownSignal};
use weir_kafka::{Brokers, Properties, create_topics};

/// The pipeline the demo runs: the example users read for the local peers.
const PIPELINE: &str = include_str!("../../../../examples/local.toml");
/// The demo's consumer group: a later run against kept peers reads only what is new.
const GROUP: &str = "weir-demo";
/// The table `examples/local.toml` writes.
const TABLE: &str = "users";
/// How often the consuming progress line is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// The long description of `weir demo --help`.
pub const LONG_ABOUT: &str = "\
The whole tutorial pipeline on this machine with one command, no Docker needed.

1. Starts Apache Kafka (KRaft, single node) and Apache Cassandra 5.0 on free loopback ports, \
from the jars pinned in host/peers/maven and resolved from Maven Central on the first run. \
Needs a JDK 17 `java` and, for that first run, Maven; both are checked before anything starts.
2. Creates the topic and its dead-letter topic, and produces --users synthetic users \
(like `weir ingest --synthetic --seed S`) plus --invalid events the enricher must refuse.
3. Runs the pipeline of examples/local.toml: Kafka → enricher plugin (WebAssembly) → \
Cassandra, dead letters to `<TOPIC>.dlq`, until every partition is drained (the source's \
`stop_at_end`, as `weir run --until-drained`).
4. Prints events produced and consumed, rows written, dead-lettered events, throughput, \
and a few enriched rows read back from the table with SELECT.
5. Stops the servers it started, by their recorded pids; also on failure or Ctrl-C (a second \
Ctrl-C stops them at once). --keep-peers leaves them running and prints how to connect and \
how to stop them; a later `weir demo` reuses them.

With --kafka and --cassandra (or WEIR_DEMO_KAFKA / WEIR_DEMO_CASSANDRA) it uses servers \
that are already running and starts nothing.";

/// Examples shown after `weir demo --help`.
pub const EXAMPLES: &str = "\
Examples:
  cargo run --release -p weir -- demo                     # 10,000 users, then stop everything
  cargo run --release -p weir -- demo --users 1000 --keep-peers
  weir demo --kafka 127.0.0.1:9092 --cassandra 127.0.0.1:9042";

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Synthetic users to produce.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    users: u64,
    /// Seed of the synthetic users: one seed, one set of users.
    #[arg(long, value_name = "S", default_value_t = 42)]
    seed: u64,
    /// Extra events the enricher must refuse (no or an impossible date of birth), to show
    /// the dead-letter topic at work.
    #[arg(long, value_name = "N", default_value_t = 5)]
    invalid: u64,
    /// Leave Kafka and Cassandra running afterwards, and print how to connect to them and how
    /// to stop them. A later `weir demo` reuses them.
    #[arg(long)]
    keep_peers: bool,
    /// Use this running Kafka instead of starting one (needs --cassandra too).
    #[arg(
        long,
        value_name = "HOST:PORT",
        env = "WEIR_DEMO_KAFKA",
        requires = "cassandra"
    )]
    kafka: Option<String>,
    /// Use this running Cassandra instead of starting one (needs --kafka too).
    #[arg(
        long,
        value_name = "HOST:PORT",
        env = "WEIR_DEMO_CASSANDRA",
        requires = "kafka"
    )]
    cassandra: Option<String>,
    /// Topic the users are produced to; dead letters go to `<TOPIC>.dlq`.
    #[arg(long, default_value = "user.created.v1")]
    topic: String,
    /// Partitions of the topic, if the demo creates it.
    #[arg(long, value_name = "N", default_value_t = 3)]
    partitions: i32,
    /// Keyspace of the `users` table (created if missing).
    #[arg(long, default_value = "weir")]
    keyspace: String,
    /// Enriched rows to read back and show.
    #[arg(long, value_name = "N", default_value_t = 5)]
    show: u32,
    /// Directory of the demo's own Kafka and Cassandra: config, data, logs and recorded pids
    /// [default: <checkout>/target/demo-peers].
    #[arg(long, value_name = "DIR", env = "WEIR_DEMO_PEERS_DIR")]
    peers_dir: Option<PathBuf>,
    /// The JDK 17 `java` that runs Kafka and Cassandra (Cassandra 5.0 does not run on 24+).
    #[arg(long, value_name = "PATH", env = "WEIR_PEERS_JAVA", default_value = weir_peers::DEFAULT_JAVA)]
    java: PathBuf,
    /// The Maven command that resolves the jars on the first run.
    #[arg(
        long,
        value_name = "PATH",
        env = "WEIR_PEERS_MVN",
        default_value = "mvn"
    )]
    mvn: PathBuf,
    /// Where resolved classpaths are cached [default: <checkout>/target/peers-libs]; the jars
    /// themselves stay in Maven's local repository (~/.m2).
    #[arg(long, value_name = "DIR", env = "WEIR_PEERS_JAR_CACHE")]
    jar_cache: Option<PathBuf>,
    /// Seconds each server gets to answer its first request.
    #[arg(long, value_name = "SECONDS", default_value_t = 180)]
    peers_timeout: u64,
}

/// Ctrl-C (or SIGTERM) was pressed: the demo stopped early, after cleaning up.
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// Fires once on the first SIGINT/SIGTERM; every step of the demo watches it.
#[derive(Clone)]
pub struct Interrupt(watch::Receiver<bool>);

impl Interrupt {
    fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once interrupted (at once if already).
    async fn fired(&mut self) {
        if self.0.wait_for(|set| *set).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// One progress line on standard error.
fn say(line: &str) {
    eprintln!("weir demo: {line}");
}

/// Runs the demo; exit status 130 when interrupted.
pub async fn run(args: DemoArgs) -> Result<ExitCode> {
    match demo(args).await {
        Err(e) if e.downcast_ref::<Interrupted>().is_some() => {
            say("interrupted; what the demo started is stopped");
            Ok(ExitCode::from(130))
        }
        other => other,
    }
}

async fn demo(args: DemoArgs) -> Result<ExitCode> {
    let started = Instant::now();
    check_args(&args)?;
    let (fire, receiver) = watch::channel(false);
    let mut interrupt = Interrupt(receiver);
    let owned_dir: Arc<Mutex<Option<PathBuf>>> = Arc::default();
    // Polled once here, so the handlers are installed before anything is started.
    let mut first_signal = Box::pin(weir_core::termination_signal());
    std::future::poll_fn(|cx| {
        let _ = first_signal.as_mut().poll(cx);
        std::task::Poll::Ready(())
    })
    .await;
    tokio::spawn(watch_signals(first_signal, fire, Arc::clone(&owned_dir)));
    say(&format!(
        "{} synthetic users (seed {}) and {} invalid events → Kafka `{}` → enricher → Cassandra `{}.{TABLE}`",
        args.users, args.seed, args.invalid, args.topic, args.keyspace
    ));
    let peers = match (&args.kafka, &args.cassandra) {
        (Some(kafka), Some(cassandra)) => DemoPeers::external(kafka.clone(), cassandra.clone()),
        _ => {
            let opts = peers_options(&args);
            set_owned(&owned_dir, Some(opts.state_dir.clone()));
            DemoPeers::start(&opts, &mut interrupt).await?
        }
    };
    set_owned(&owned_dir, peers.started_state_dir().map(PathBuf::from));
    let outcome = pipeline_run(&args, &peers, interrupt).await;
    if let Ok(report) = &outcome {
        report.print(&args, started.elapsed());
    }
    let finished = peers
        .finish(args.keep_peers, &format!("{}.{TABLE}", args.keyspace))
        .await;
    set_owned(&owned_dir, None);
    match (outcome, finished) {
        (Ok(_), Ok(())) => Ok(ExitCode::SUCCESS),
        (Ok(_), Err(e)) => Err(e.context("stopping Kafka and Cassandra")),
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(stop)) => {
            say(&format!(
                "stopping Kafka and Cassandra failed too: {stop:#}"
            ));
            Err(e)
        }
    }
}

fn check_args(args: &DemoArgs) -> Result<()> {
    if args.users == 0 {
        bail!("--users 0: give at least 1");
    }
    if args.partitions < 1 {
        bail!("--partitions {}: give 1 or more", args.partitions);
    }
    Ok(())
}

fn set_owned(owned: &Mutex<Option<PathBuf>>, dir: Option<PathBuf>) {
    *owned.lock().unwrap_or_else(PoisonError::into_inner) = dir;
}

/// First signal: every step finishes or abandons its work and the servers are stopped in
/// order. Second signal: the servers this run started are stopped at once, by their
/// recorded pids, and weir exits.
async fn watch_signals(
    first_signal: Pin<Box<impl Future<Output = ()>>>,
    fire: watch::Sender<bool>,
    owned: Arc<Mutex<Option<PathBuf>>>,
) {
    first_signal.await;
    say("interrupted: finishing what is in flight, then stopping (again to stop at once)");
    fire.send_replace(true);
    weir_core::termination_signal().await;
    let dir = owned.lock().unwrap_or_else(PoisonError::into_inner).clone();
    if let Some(dir) = dir {
        say("second signal: stopping Kafka and Cassandra by their recorded pids");
        let _ = tokio::task::spawn_blocking(move || weir_peers::state::stop_recorded(&dir)).await;
    }
    std::process::exit(130);
}

fn peers_options(args: &DemoArgs) -> weir_peers::PeersOptions {
    let defaults = weir_peers::PeersOptions::default();
    weir_peers::PeersOptions {
        state_dir: args.peers_dir.clone().unwrap_or_else(|| {
            weir_peers::workspace_dir()
                .join("target")
                .join("demo-peers")
        }),
        jars: weir_peers::JarSource {
            cache_dir: args
                .jar_cache
                .clone()
                .unwrap_or_else(|| defaults.jars.cache_dir.clone()),
            mvn: args.mvn.clone(),
            ..defaults.jars.clone()
        },
        java: args.java.clone(),
        ready_timeout: Duration::from_secs(args.peers_timeout),
        ..defaults
    }
}

/// Topics, producing, the pipeline until drained, and reading back.
async fn pipeline_run(args: &DemoArgs, peers: &DemoPeers, interrupt: Interrupt) -> Result<Report> {
    let brokers = Brokers::parse(&peers.kafka);
    let dead_letter_topic = format!("{}.dlq", args.topic);
    create_topics(
        &brokers,
        &Properties::default(),
        &[(&args.topic, args.partitions), (&dead_letter_topic, 1)],
    )
    .await
    .with_context(|| format!("creating topics `{}` and `{dead_letter_topic}`", args.topic))?;

    let produce_started = Instant::now();
    let produced = produce(args, &brokers, interrupt.clone()).await?;
    let produce_time = produce_started.elapsed();

    let config = pipeline_config(args, peers, &dead_letter_topic)?;
    let consume_started = Instant::now();
    let stats = consume(&config, produced, interrupt).await?;
    let consume_time = consume_started.elapsed();
    let consumed = PipelineStats::get(&stats.events_in);
    if consumed < produced {
        bail!(
            "the pipeline ended after {consumed} of the {produced} events produced; its log above says why"
        );
    }

    let (rows_in_table, sample) = read_back(args, peers).await?;
    Ok(Report {
        produced,
        produce_time,
        consumed,
        consume_time,
        written: PipelineStats::get(&stats.events_out),
        dead_lettered: PipelineStats::get(&stats.dead_lettered),
        failures: stats.failures(),
        rows_in_table,
        sample,
        dead_letter_topic,
    })
}

/// `examples/local.toml` pointed at the demo's servers, topic and keyspace, ending once the
/// topic is drained.
fn pipeline_config(
    args: &DemoArgs,
    peers: &DemoPeers,
    dead_letter_topic: &str,
) -> Result<WeirConfig> {
    let overrides = [
        format!("source.brokers=\"{}\"", peers.kafka),
        format!("source.group_id=\"{GROUP}\""),
        format!("source.topics=[\"{}\"]", args.topic),
        "source.stop_at_end=true".to_owned(),
        format!("sink.nodes=[\"{}\"]", peers.cassandra),
        format!("sink.keyspace=\"{}\"", args.keyspace),
        format!("sink.table=\"{TABLE}\""),
        format!("dead_letter.topic=\"{dead_letter_topic}\""),
        "metrics.enabled=false".to_owned(),
    ];
    WeirConfig::parse(PIPELINE, &overrides).context("the demo pipeline (examples/local.toml)")
}

/// Runs the pipeline until every partition is drained (or Ctrl-C), printing progress.
async fn consume(
    config: &WeirConfig,
    expected: u64,
    interrupt: Interrupt,
) -> Result<Arc<PipelineStats>> {
    say("consuming: Kafka → enricher (WebAssembly) → Cassandra, until the topic is drained");
    let engine = plugins::engine(config.cache_dir())?;
    let chain = tokio::task::block_in_place(|| plugins::load_chain(&engine, &config.plugins))?;
    let parts = components::build(config).await?;
    let options = config.pipeline.options();
    let pipeline = Pipeline::new(parts.source, chain, parts.sink, parts.dead_letters, options);
    let stats = pipeline.stats();
    let (stop, shutdown) = ShutdownSignal::new();
    let mut watcher = interrupt.clone();
    let stopper = tokio::spawn(async move {
        watcher.fired().await;
        stop();
    });
    let progress = tokio::spawn(consuming(Arc::clone(&stats), expected));
    let result = crate::commands::components::run_on_worker(pipeline.run(shutdown)).await;
    progress.abort();
    stopper.abort();
    result.context("the pipeline stopped")?;
    if interrupt.is_set() {
        return Err(Interrupted.into());
    }
    let done = PipelineStats::get(&stats.acknowledged);
    say(&format!("consumed {done}/{expected}: the topic is drained"));
    Ok(stats)
}

async fn consuming(stats: Arc<PipelineStats>, expected: u64) {
    let started = Instant::now();
    let mut ticker = tokio::time::interval(PROGRESS_EVERY);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let done = PipelineStats::get(&stats.acknowledged);
        say(&format!(
            "consuming {done}/{expected} (written {}, dead-lettered {}, {:.0} events/s)",
            PipelineStats::get(&stats.events_out),
            PipelineStats::get(&stats.dead_lettered),
            done as f64 / started.elapsed().as_secs_f64().max(1e-9)
        ));
    }
}
