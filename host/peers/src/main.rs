//! `weir-peers`: start, stop and inspect the real Kafka + Cassandra pair weir tests against.
//!
//! `eval "$(cargo run --release -p weir-peers -- up)"` starts both (detached), waits until
//! they answer, and sets `WEIR_TEST_KAFKA` and `WEIR_TEST_CASSANDRA` in the calling shell.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use weir_peers::{CommitlogSync, Error, Kind, Peers, PeersOptions, state};

/// Real Apache Kafka and Apache Cassandra on loopback for weir's tests, CI and demo.
///
/// Versions are pinned in host/peers/maven/*/pom.xml; jars come from Maven Central into ~/.m2
/// on first use. Progress goes to stderr; `up` prints only the two assignments on stdout.
#[derive(Debug, Parser)]
#[command(name = "weir-peers", version)]
struct Cli {
    /// Directory for the servers' config, data, logs and the pair record.
    #[arg(long, global = true, env = "WEIR_PEERS_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// The JDK 17 `java` binary (Cassandra 5.0 does not run on JDK 24+).
    #[arg(long, global = true, env = "WEIR_PEERS_JAVA", default_value = weir_peers::DEFAULT_JAVA)]
    java: PathBuf,
    /// The Maven command used to resolve the jars.
    #[arg(long, global = true, env = "WEIR_PEERS_MVN", default_value = "mvn")]
    mvn: PathBuf,
    /// Seconds each server gets to answer its first request.
    #[arg(long, global = true, default_value_t = 180)]
    timeout: u64,
    /// Cassandra's commit-log sync: `batch` keeps every acknowledged write over a kill -9;
    /// `periodic` (Cassandra's shipped default, 10 s) acknowledges from memory, as production
    /// clusters that rely on replicas do.
    #[arg(long, global = true, value_enum, default_value = "batch")]
    commitlog_sync: CommitlogSync,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Start both servers detached (or reuse a healthy recorded pair) and print
    /// `WEIR_TEST_KAFKA=…` and `WEIR_TEST_CASSANDRA=…` for `eval`.
    Up,
    /// Stop the recorded pair by its recorded pids.
    Down,
    /// Show the recorded pair, whether it answers, and each JVM's resident memory.
    Status,
    /// Only resolve (download on first use) the jars of both servers.
    Fetch,
    /// Start both servers and keep them while registered client processes live (used by
    /// weir-test-support); prints the same two lines as `up` once ready.
    Serve {
        /// Stop once no registered client process has been alive for this many seconds.
        #[arg(long, default_value_t = 15)]
        idle_exit: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let opts = options(&cli);
    let result = match cli.command {
        Cmd::Up => up(&opts),
        Cmd::Down => down(&opts),
        Cmd::Status => status(&opts),
        Cmd::Fetch => fetch(&opts),
        Cmd::Serve { idle_exit } => serve(&opts, Duration::from_secs(idle_exit)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("weir-peers: {e}");
            ExitCode::FAILURE
        }
    }
}

fn options(cli: &Cli) -> PeersOptions {
    let mut opts = PeersOptions::default();
    if let Some(dir) = &cli.state_dir {
        opts.state_dir = dir.clone();
    }
    opts.java = cli.java.clone();
    opts.jars.mvn = cli.mvn.clone();
    opts.ready_timeout = Duration::from_secs(cli.timeout);
    opts.commitlog_sync = cli.commitlog_sync;
    opts
}

fn up(opts: &PeersOptions) -> Result<ExitCode, Box<Error>> {
    let _lock = state::lock(&opts.state_dir)?;
    if let Some(record) = state::read(&opts.state_dir)? {
        match record.healthy_within(Duration::from_secs(20)) {
            Ok(()) => {
                eprintln!(
                    "weir-peers: reusing the running pair recorded in {}",
                    opts.state_dir.display()
                );
                print_env(&record);
                return Ok(ExitCode::SUCCESS);
            }
            Err(why) => {
                eprintln!("weir-peers: recorded pair is not healthy ({why}); starting a new one")
            }
        }
    }
    state::stop_recorded(&opts.state_dir)?;
    let _signals = stop_on_signal(opts.state_dir.clone(), None);
    let started = Instant::now();
    let peers = Peers::start(&PeersOptions {
        detached: true,
        ..opts.clone()
    })?;
    report_start(&peers, started);
    let record = peers.detach();
    report_memory(&record);
    state::write(&opts.state_dir, &record)?;
    print_env(&record);
    Ok(ExitCode::SUCCESS)
}

fn down(opts: &PeersOptions) -> Result<ExitCode, Box<Error>> {
    let _lock = state::lock(&opts.state_dir)?;
    if state::stop_recorded(&opts.state_dir)? {
        eprintln!(
            "weir-peers: stopped the pair recorded in {}",
            opts.state_dir.display()
        );
    } else {
        eprintln!(
            "weir-peers: nothing recorded in {}",
            opts.state_dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn status(opts: &PeersOptions) -> Result<ExitCode, Box<Error>> {
    let Some(record) = state::read(&opts.state_dir)? else {
        eprintln!("{}", Error::NotUp(opts.state_dir.clone()));
        return Ok(ExitCode::FAILURE);
    };
    print!("{}", record.env_lines());
    for (kind, server) in [
        (Kind::Kafka, &record.kafka),
        (Kind::Cassandra, &record.cassandra),
    ] {
        let rss = weir_peers::rss_kib(server.pid)
            .map(|kib| format!("{} MiB", kib / 1024))
            .unwrap_or_else(|| "not running".into());
        println!(
            "{kind}: pid {} rss {rss} log {}",
            server.pid,
            server.log.display()
        );
    }
    match record.healthy() {
        Ok(()) => {
            println!("healthy");
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            println!("unhealthy: {why}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn fetch(opts: &PeersOptions) -> Result<ExitCode, Box<Error>> {
    let started = Instant::now();
    let (kafka, cassandra) = weir_peers::fetch(&opts.jars)?;
    eprintln!(
        "weir-peers: {} Kafka jars and {} Cassandra jars resolved in {:.1?}",
        kafka.len(),
        cassandra.len(),
        started.elapsed()
    );
    Ok(ExitCode::SUCCESS)
}

fn serve(opts: &PeersOptions, idle: Duration) -> Result<ExitCode, Box<Error>> {
    let stop = Arc::new(AtomicBool::new(false));
    let signals = stop_on_signal(opts.state_dir.clone(), Some(stop.clone()));
    let started = Instant::now();
    let mut peers = Peers::start(&PeersOptions {
        detached: true,
        ..opts.clone()
    })?;
    signals.started.store(true, Ordering::SeqCst);
    report_start(&peers, started);
    let mut record = peers.record();
    record.supervisor_pid = i32::try_from(std::process::id()).ok();
    report_memory(&record);
    state::write(&opts.state_dir, &record)?;
    print_env(&record);
    state::wait_idle(&opts.state_dir, idle, || stop.load(Ordering::SeqCst));
    eprintln!("weir-peers: no client left (or asked to stop); stopping the pair");
    let stopped = peers.stop();
    let _ = std::fs::remove_file(state::pair_file(&opts.state_dir));
    stopped?;
    Ok(ExitCode::SUCCESS)
}

fn print_env(record: &state::PairRecord) {
    let mut out = std::io::stdout().lock();
    // If the reader went away there is nobody to tell.
    let _ = out.write_all(record.env_lines().as_bytes());
    let _ = out.flush();
}

fn report_start(peers: &Peers, started: Instant) {
    let (kafka, cassandra) = peers.ready_after();
    eprintln!(
        "weir-peers: both ready after {:.1?} (Kafka JVM answered after {:.1?}, Cassandra after {:.1?})",
        started.elapsed(),
        kafka.unwrap_or_default(),
        cassandra.unwrap_or_default()
    );
}

fn report_memory(record: &state::PairRecord) {
    for (kind, server) in [
        (Kind::Kafka, &record.kafka),
        (Kind::Cassandra, &record.cassandra),
    ] {
        if let Some(kib) = weir_peers::rss_kib(server.pid) {
            eprintln!(
                "weir-peers: {kind} pid {} rss {} MiB, log {}",
                server.pid,
                kib / 1024,
                server.log.display()
            );
        }
    }
}

struct SignalWatch {
    started: Arc<AtomicBool>,
}

/// On SIGINT/SIGTERM: before the pair is up, stop whatever JVMs were spawned (by their pid
/// files) and exit 130; afterwards, only raise `stop` so the owner shuts down in order.
fn stop_on_signal(state_dir: PathBuf, stop: Option<Arc<AtomicBool>>) -> SignalWatch {
    let started = Arc::new(AtomicBool::new(false));
    let watch = SignalWatch {
        started: started.clone(),
    };
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return;
            };
            loop {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                match &stop {
                    Some(stop) if started.load(Ordering::SeqCst) => {
                        stop.store(true, Ordering::SeqCst)
                    }
                    _ => {
                        eprintln!("weir-peers: interrupted; stopping what was started");
                        let _ = state::stop_recorded(&state_dir);
                        std::process::exit(130);
                    }
                }
            }
        });
    });
    watch
}
