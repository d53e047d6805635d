//! The demo's Kafka and Cassandra: servers the user names, a pair an earlier
//! `weir demo --keep-peers` left in the state dir, or a fresh pair started through the peers
//! harness. What the demo starts it records in the state dir at once and stops by those
//! recorded pids, also on Ctrl-C or failure; nothing is ever stopped by name.

use super::{Interrupt, Interrupted, say};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use weir_peers::{Kind, Peers, PeersOptions, state};

/// How often a long step says it is still working.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// Where the demo's servers are, and whether the demo owns them.
pub struct DemoPeers {
    /// Kafka bootstrap address, `host:port`.
    pub kafka: String,
    /// Cassandra contact point, `host:port`.
    pub cassandra: String,
    owner: Owner,
    /// The state dir's lock, held for the whole run: demos sharing a state dir (and so
    /// servers, topic and consumer group) run one after the other.
    _lock: Option<state::StateLock>,
}

enum Owner {
    /// Named with `--kafka` and `--cassandra`: someone else's.
    External,
    /// Left running by an earlier `--keep-peers` run: left running again.
    Kept { state_dir: PathBuf },
    /// Started by this run, recorded in `state_dir`.
    Started {
        peers: Box<Peers>,
        state_dir: PathBuf,
    },
}

impl DemoPeers {
    /// The servers at the given addresses; nothing is started or stopped.
    pub fn external(kafka: String, cassandra: String) -> Self {
        Self {
            kafka,
            cassandra,
            owner: Owner::External,
            _lock: None,
        }
    }

    /// Reuses the healthy pair recorded in `opts.state_dir`, or checks Java and Maven and
    /// starts a new pair there (clearing a dead record first).
    pub async fn start(opts: &PeersOptions, interrupt: &mut Interrupt) -> Result<Self> {
        let state_dir = opts.state_dir.clone();
        let lock_dir = state_dir.clone();
        let lock = blocking(move || state::lock(&lock_dir)).await??;
        let check_dir = state_dir.clone();
        let kept = blocking(move || -> Result<_, weir_peers::Error> {
            match state::read(&check_dir)? {
                Some(record) if record.healthy_within(Duration::from_secs(10)).is_ok() => {
                    Ok(Some(record))
                }
                Some(_) => {
                    state::stop_recorded(&check_dir)?;
                    Ok(None)
                }
                None => {
                    // A start interrupted before its record was written leaves pid files.
                    state::stop_recorded(&check_dir)?;
                    Ok(None)
                }
            }
        })
        .await??;
        if let Some(record) = kept {
            say(&format!(
                "reusing Kafka at {} and Cassandra at {}, kept running by an earlier `weir demo --keep-peers` ({})",
                record.kafka.addr,
                record.cassandra.addr,
                state_dir.display()
            ));
            return Ok(Self {
                kafka: record.kafka.addr.to_string(),
                cassandra: record.cassandra.addr.to_string(),
                owner: Owner::Kept { state_dir },
                _lock: Some(lock),
            });
        }
        preflight(opts)?;
        let started = Instant::now();
        if opts.jars.cached(Kind::Kafka)?.is_none() || opts.jars.cached(Kind::Cassandra)?.is_none()
        {
            say(
                "resolving the Apache Kafka and Apache Cassandra jars with Maven (first run only: \
                 about 140 MB from Maven Central into Maven's local repository, ~/.m2)",
            );
            let jars = opts.jars.clone();
            watched(
                "resolving jars",
                interrupt,
                move || weir_peers::fetch(&jars),
                || {},
            )
            .await??;
            say(&format!(
                "jars resolved in {:.1}s",
                started.elapsed().as_secs_f64()
            ));
        }
        say(&format!(
            "starting Apache Kafka and Apache Cassandra on loopback (state in {})",
            state_dir.display()
        ));
        let start_opts = PeersOptions {
            // Own process group: a terminal's Ctrl-C reaches only weir, which stops them.
            detached: true,
            ..opts.clone()
        };
        let kill_dir = state_dir.clone();
        let peers = watched(
            "starting Kafka and Cassandra",
            interrupt,
            move || Peers::start(&start_opts),
            // Whatever JVM the start has spawned so far has its pid file: stop it by that.
            move || {
                let _ = state::stop_recorded(&kill_dir);
            },
        )
        .await??;
        state::write(&state_dir, &peers.record())?;
        let record = peers.record();
        say(&format!(
            "Kafka ready at {} (pid {}), Cassandra ready at {} (pid {}), after {:.1}s",
            record.kafka.addr,
            record.kafka.pid,
            record.cassandra.addr,
            record.cassandra.pid,
            started.elapsed().as_secs_f64()
        ));
        Ok(Self {
            kafka: record.kafka.addr.to_string(),
            cassandra: record.cassandra.addr.to_string(),
            owner: Owner::Started {
                peers: Box::new(peers),
                state_dir,
            },
            _lock: Some(lock),
        })
    }

    /// The state dir of a pair this run started, for an emergency stop by recorded pids.
    pub fn started_state_dir(&self) -> Option<&Path> {
        match &self.owner {
            Owner::Started { state_dir, .. } => Some(state_dir),
            _ => None,
        }
    }

    /// Stops what this run started (by its pids, SIGTERM then SIGKILL after 30 s), or with
    /// `keep` leaves it running and says how to use and stop it.
    /// `table` (`keyspace.table`) is named in the hints.
    pub async fn finish(self, keep: bool, table: &str) -> Result<()> {
        match self.owner {
            Owner::External => Ok(()),
            Owner::Kept { state_dir } => {
                explain_kept(&self.kafka, &self.cassandra, &state_dir, table);
                Ok(())
            }
            Owner::Started { peers, state_dir } if keep => {
                let record = peers.detach();
                state::write(&state_dir, &record)?;
                explain_kept(&self.kafka, &self.cassandra, &state_dir, table);
                Ok(())
            }
            Owner::Started {
                mut peers,
                state_dir,
            } => {
                let record = peers.record();
                say(&format!(
                    "stopping Kafka (pid {}) and Cassandra (pid {})",
                    record.kafka.pid, record.cassandra.pid
                ));
                blocking(move || peers.stop()).await??;
                let _ = std::fs::remove_file(state::pair_file(&state_dir));
                say(&format!(
                    "stopped Kafka (pid {}) and Cassandra (pid {})",
                    record.kafka.pid, record.cassandra.pid
                ));
                Ok(())
            }
        }
    }
}

fn explain_kept(kafka: &str, cassandra: &str, state_dir: &Path, table: &str) {
    let (host, port) = cassandra.rsplit_once(':').unwrap_or((cassandra, "9042"));
    let dir = state_dir.display();
    println!(
        "\nKafka and Cassandra keep running (recorded in {dir}):\n\
         \x20 Kafka      {kafka}\n\
         \x20 Cassandra  {cassandra}\n\
         Look at the rows:   cqlsh {host} {port} -e 'SELECT * FROM {table} LIMIT 10'   (pip install cqlsh)\n\
         Run a pipeline:     cargo run --release -p weir -- run --config examples/local.toml \
         --set source.brokers={kafka} --set 'sink.nodes=[\"{cassandra}\"]'\n\
         Use them in tests:  export WEIR_TEST_KAFKA={kafka} WEIR_TEST_CASSANDRA={cassandra}\n\
         `weir demo` reuses them; stop them with:\n\
         \x20 cargo run --release -p weir-peers -- --state-dir {dir} down"
    );
}

/// Checks, before anything starts, that the JDK 17 `java` is there and that Maven is there
/// when the jars still have to be resolved; otherwise says how to install them.
fn preflight(opts: &PeersOptions) -> Result<()> {
    let alternatives = "Already running Kafka and Cassandra elsewhere? Pass --kafka HOST:PORT \
                        --cassandra HOST:PORT; with Docker, `docker compose up` runs the whole \
                        pipeline instead.";
    let java_hint = format!(
        "install a JDK 17: `sudo apt-get install openjdk-17-jre-headless` (Debian/Ubuntu), \
         `sudo dnf install java-17-openjdk-headless` (Fedora), `brew install openjdk@17` (macOS); \
         then pass its java with --java PATH or WEIR_PEERS_JAVA if it is not {}. \
         Cassandra 5.0 runs on JDK 17, not on JDK 24 or later.\n{alternatives}",
        weir_peers::DEFAULT_JAVA
    );
    if !opts.java.is_file() {
        bail!(
            "weir demo runs Apache Kafka and Apache Cassandra on a JDK 17 `java`, and there is none at {}.\n{java_hint}",
            opts.java.display()
        );
    }
    let version = Command::new(&opts.java)
        .arg("-version")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {} -version.\n{java_hint}", opts.java.display()))?;
    let banner = String::from_utf8_lossy(&version.stderr);
    if !banner.contains("version \"17") {
        bail!(
            "{} is not a JDK 17 ({}).\n{java_hint}",
            opts.java.display(),
            banner.lines().next().unwrap_or("no version printed")
        );
    }
    let cached =
        opts.jars.cached(Kind::Kafka)?.is_some() && opts.jars.cached(Kind::Cassandra)?.is_some();
    if cached {
        return Ok(());
    }
    let maven = Command::new(&opts.jars.mvn)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !maven.is_ok_and(|s| s.success()) {
        bail!(
            "weir demo resolves the pinned Kafka and Cassandra jars from Maven Central once, with \
             Maven, and `{}` does not run.\ninstall Maven 3: `sudo apt-get install maven` \
             (Debian/Ubuntu), `sudo dnf install maven` (Fedora), `brew install maven` (macOS); or \
             pass its path with --mvn PATH or WEIR_PEERS_MVN.\n{alternatives}",
            opts.jars.mvn.display()
        );
    }
    Ok(())
}

/// Runs blocking work off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .context("a demo step stopped unexpectedly")
}

/// Runs a long blocking step, saying every [`HEARTBEAT`] that it is still at it. On Ctrl-C
/// calls `on_interrupt` (again every 200 ms) until the step returns, drops its result (which
/// stops what it started) and fails with [`Interrupted`].
async fn watched<T: Send + 'static>(
    what: &str,
    interrupt: &mut Interrupt,
    work: impl FnOnce() -> T + Send + 'static,
    on_interrupt: impl Fn(),
) -> Result<T> {
    let started = Instant::now();
    let mut handle = tokio::task::spawn_blocking(work);
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            done = &mut handle => return done.context("a demo step stopped unexpectedly"),
            _ = heartbeat.tick() => say(&format!("… still {what} ({}s)", started.elapsed().as_secs())),
            () = interrupt.fired() => break,
        }
    }
    say(&format!(
        "interrupted while {what}; stopping what was started"
    ));
    while !handle.is_finished() {
        on_interrupt();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    on_interrupt();
    drop(handle.await);
    Err(Interrupted.into())
}
