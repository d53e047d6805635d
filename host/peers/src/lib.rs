//! Real Apache Kafka (KRaft, single node) and Apache Cassandra on loopback, run from the jars
//! Maven Central publishes, for weir's tests, CI and demo.
//!
//! The versions are pinned in `host/peers/maven/{kafka,cassandra}/pom.xml`; the first start
//! resolves them into `~/.m2` (and caches the classpath), later starts are offline. Both
//! servers start concurrently on free loopback ports, each in its own directory under a state
//! dir, and are ready once a real protocol request succeeds.
//!
//! ```no_run
//! let mut peers = weir_peers::Peers::start(&weir_peers::PeersOptions::default())?;
//! println!("kafka at {}, cql at {}", peers.kafka_addr(), peers.cassandra_addr());
//! peers.kafka().restart()?; // same data dir, same port
//! # Ok::<(), weir_peers::Error>(())
//! ```

mod cassandra;
mod error;
mod jars;
mod kafka;
mod process;
pub mod state;
mod tls;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::Error;
pub use jars::JarSource;
pub use kafka::MAX_MESSAGE_BYTES;
pub use process::{Server, rss_kib, status_kib};

/// Which of the two servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Apache Kafka, single KRaft node.
    Kafka,
    /// Apache Cassandra, single node.
    Cassandra,
}

impl Kind {
    /// Lower-case name, also the folder name of its POM and its directory in the state dir.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Kafka => "kafka",
            Kind::Cassandra => "cassandra",
        }
    }

    /// The JVM main class, used to recognise a recorded pid as still being this server.
    pub fn main_class(self) -> &'static str {
        match self {
            Kind::Kafka => kafka::MAIN,
            Kind::Cassandra => cassandra::MAIN,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Kafka => "Kafka",
            Kind::Cassandra => "Cassandra",
        })
    }
}

/// Where things are and how long to wait; `Default` fits this checkout.
#[derive(Debug, Clone)]
pub struct PeersOptions {
    /// Holds `kafka/` and `cassandra/` (config, data, logs) and the pair's state file.
    pub state_dir: PathBuf,
    /// POMs and cache of resolved classpaths.
    pub jars: JarSource,
    /// The JDK 17 `java` binary (Cassandra 5.0 does not run on JDK 24+).
    pub java: PathBuf,
    /// How long each server gets to answer its first protocol request.
    pub ready_timeout: Duration,
    /// Start from empty data directories (the default); `false` keeps what a previous pair
    /// in the same state dir wrote.
    pub fresh: bool,
    /// Put the JVMs in their own process group so they outlive the starting command and a
    /// terminal's Ctrl-C reaches only the harness.
    pub detached: bool,
    /// Require password authentication on both servers (`None`, the default: none). Kafka's
    /// client listener then speaks SASL_PLAINTEXT with mechanism PLAIN, and Cassandra runs
    /// `PasswordAuthenticator` with this user created as a login role.
    pub auth: Option<Credentials>,
    /// Require TLS on Cassandra's CQL port (`false`, the default: plaintext). A fresh
    /// self-signed CA and a server certificate for `127.0.0.1`/`localhost` are generated at
    /// each start; clients trust the CA file [`Server::tls_ca`] names.
    pub cassandra_tls: bool,
    /// When Cassandra acknowledges a write relative to its commit-log sync
    /// ([`CommitlogSync::Batch`], the default, keeps every acknowledged write over a kill -9).
    pub commitlog_sync: CommitlogSync,
}

/// Cassandra's `commitlog_sync`: whether an acknowledged write is already on disk.
///
/// Cassandra replays a commit-log segment only up to its last sync marker, and the marker is
/// written by the sync itself: with `periodic`, a kill -9 loses the acknowledged writes since
/// the last sync (up to the period), even though their bytes are in the page cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum CommitlogSync {
    /// `batch`: a write is acknowledged after the sync that covers it (one fsync for all the
    /// writes that arrived meanwhile). A single node then loses nothing acknowledged on a
    /// kill -9, which the fault matrix and the tests check.
    #[default]
    Batch,
    /// `periodic` every 10 s: Cassandra's shipped default, acknowledging from memory. What a
    /// production cluster runs (its durability comes from replicas, RF 3), so the figure
    /// benchmarks measure; a single node's kill -9 loses up to 10 s of acknowledged writes.
    Periodic,
}

impl CommitlogSync {
    /// The `cassandra.yaml` lines of this mode.
    fn yaml(self) -> &'static str {
        match self {
            CommitlogSync::Batch => "commitlog_sync: batch",
            CommitlogSync::Periodic => "commitlog_sync: periodic\ncommitlog_sync_period: 10000ms",
        }
    }
}

/// A user name and password both servers accept when started with [`PeersOptions::auth`].
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name (a Kafka SASL/PLAIN user, a Cassandra login role).
    pub user: String,
    /// Its password; `Debug` never shows it.
    pub password: String,
}

impl Credentials {
    /// Credentials from a user name and a password.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            user: user.into(),
            password: password.into(),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The JDK 17 that Debian's openjdk-17 package installs.
pub const DEFAULT_JAVA: &str = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";

/// Root of the Cargo workspace this crate was built in.
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The default state dir: `<workspace>/target/peers`.
pub fn default_state_dir() -> PathBuf {
    workspace_dir().join("target").join("peers")
}

impl Default for PeersOptions {
    fn default() -> Self {
        let target = workspace_dir().join("target");
        PeersOptions {
            state_dir: target.join("peers"),
            jars: JarSource {
                maven_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("maven"),
                cache_dir: target.join("peers-libs"),
                mvn: PathBuf::from("mvn"),
            },
            java: PathBuf::from(DEFAULT_JAVA),
            ready_timeout: Duration::from_secs(180),
            fresh: true,
            detached: false,
            auth: None,
            cassandra_tls: false,
            commitlog_sync: CommitlogSync::Batch,
        }
    }
}

/// Resolves (downloading on first use) the jars of both servers.
pub fn fetch(jars: &JarSource) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Error> {
    Ok((
        jars.classpath(Kind::Kafka)?,
        jars.classpath(Kind::Cassandra)?,
    ))
}

/// A running Kafka and Cassandra; dropping it stops both (unless detached with
/// [`Peers::detach`]).
#[derive(Debug)]
pub struct Peers {
    kafka: Server,
    cassandra: Server,
}

impl Peers {
    /// Resolves the jars, then starts both servers concurrently and returns once both answer
    /// a protocol request. If either fails, the other is stopped too.
    pub fn start(opts: &PeersOptions) -> Result<Peers, Error> {
        if !opts.java.is_file() {
            return Err(Error::JavaMissing(opts.java.clone()));
        }
        let (kafka_cp, cassandra_cp) = fetch(&opts.jars)?;
        let kafka_dir = server_dir(opts, Kind::Kafka)?;
        let cassandra_dir = server_dir(opts, Kind::Cassandra)?;
        let [kafka_port, controller_port, native_port, storage_port] = free_ports()?;
        let (kafka_cp, cassandra_cp) = (jars::join(&kafka_cp), jars::join(&cassandra_cp));
        let setup = |classpath, dir| process::Setup {
            java: &opts.java,
            classpath,
            maven_dir: &opts.jars.maven_dir,
            dir,
            ready_timeout: opts.ready_timeout,
            detached: opts.detached,
            auth: opts.auth.as_ref(),
            cassandra_tls: opts.cassandra_tls,
            commitlog_sync: opts.commitlog_sync,
        };
        // Each thread prepares (Kafka: formats its storage) and starts its server, so the
        // slower Cassandra start overlaps everything Kafka does.
        let (kafka, cassandra) = std::thread::scope(|s| {
            let kafka = s.spawn(|| {
                let launch =
                    kafka::prepare(&setup(&kafka_cp, &kafka_dir), kafka_port, controller_port)?;
                started(Server::new(launch))
            });
            let cassandra = s.spawn(|| {
                let launch = cassandra::prepare(
                    &setup(&cassandra_cp, &cassandra_dir),
                    native_port,
                    storage_port,
                )?;
                started(Server::new(launch))
            });
            (join(kafka), join(cassandra))
        });
        // On error, dropping the other server stops it if it did start.
        let (kafka, cassandra) = (kafka?, cassandra?);
        Ok(Peers { kafka, cassandra })
    }

    /// The Kafka broker.
    pub fn kafka(&mut self) -> &mut Server {
        &mut self.kafka
    }

    /// The Cassandra node.
    pub fn cassandra(&mut self) -> &mut Server {
        &mut self.cassandra
    }

    /// Kafka's bootstrap address.
    pub fn kafka_addr(&self) -> SocketAddr {
        self.kafka.addr()
    }

    /// Cassandra's CQL address.
    pub fn cassandra_addr(&self) -> SocketAddr {
        self.cassandra.addr()
    }

    /// Stops both servers (SIGTERM, then SIGKILL after 30 s), concurrently.
    pub fn stop(&mut self) -> Result<(), Error> {
        let (kafka, cassandra) = (&mut self.kafka, &mut self.cassandra);
        let (k, c) = std::thread::scope(|s| {
            let k = s.spawn(|| kafka.stop());
            let c = s.spawn(|| cassandra.stop());
            (join(k), join(c))
        });
        k.and(c)
    }

    /// How long each server took to answer its first request at the last start.
    pub fn ready_after(&self) -> (Option<Duration>, Option<Duration>) {
        (self.kafka.ready_after(), self.cassandra.ready_after())
    }

    /// A record of this pair (addresses, pids, logs) for the state file.
    pub fn record(&self) -> state::PairRecord {
        state::PairRecord {
            kafka: state::ServerRecord::of(&self.kafka),
            cassandra: state::ServerRecord::of(&self.cassandra),
            supervisor_pid: None,
        }
    }

    /// Lets both JVMs outlive this value (and this process); they are then stopped by their
    /// recorded pids (`weir-peers down`).
    pub fn detach(mut self) -> state::PairRecord {
        let record = self.record();
        self.kafka.detach();
        self.cassandra.detach();
        record
    }
}

fn started(mut server: Server) -> Result<Server, Error> {
    server.start()?;
    Ok(server)
}

fn join<T>(handle: std::thread::ScopedJoinHandle<'_, Result<T, Error>>) -> Result<T, Error> {
    handle.join().unwrap_or_else(|_| {
        Err(Error::State {
            path: PathBuf::from("<start thread>"),
            reason: "a start thread panicked".into(),
        })
    })
}

fn server_dir(opts: &PeersOptions, kind: Kind) -> Result<PathBuf, Error> {
    let dir = opts.state_dir.join(kind.name());
    if opts.fresh && dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(Error::io("cannot clear", &dir))?;
    }
    std::fs::create_dir_all(&dir).map_err(Error::io("cannot create", &dir))?;
    // `canonicalize` so configs never carry relative paths the JVM would resolve elsewhere.
    dir.canonicalize()
        .map_err(Error::io("cannot resolve", &dir))
}

/// Four distinct free loopback ports (all bound at once, so they differ, then released).
fn free_ports() -> Result<[u16; 4], Error> {
    let bind = || {
        TcpListener::bind(("127.0.0.1", 0))
            .map_err(Error::io("cannot bind a free port on", "127.0.0.1"))
    };
    let listeners = [bind()?, bind()?, bind()?, bind()?];
    let mut ports = [0u16; 4];
    for (port, l) in ports.iter_mut().zip(&listeners) {
        *port = l
            .local_addr()
            .map_err(Error::io("cannot read a bound port on", "127.0.0.1"))?
            .port();
    }
    Ok(ports)
}
