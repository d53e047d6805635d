//! What can go wrong when fetching, starting or stopping the peers; every message names the
//! file to read or the command that fixes it.

use std::path::PathBuf;

use crate::Kind;

/// Errors of the peers harness.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory of the harness could not be read or written.
    #[error("{what} {path}: {source}")]
    Io {
        /// What the harness was doing.
        what: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `mvn` could not be run at all.
    #[error(
        "cannot run `{mvn}` to resolve the {kind} jars: {source}; install Maven 3 (apt-get install maven) or pass the path of mvn"
    )]
    MavenMissing {
        /// The server whose jars were being resolved.
        kind: Kind,
        /// The Maven command tried.
        mvn: PathBuf,
        /// Why it could not be run.
        source: std::io::Error,
    },
    /// Maven ran but did not resolve the jars.
    #[error(
        "Maven could not resolve the {kind} jars of {pom} (exit {status}); its output is in {log}"
    )]
    Maven {
        /// The server whose jars were being resolved.
        kind: Kind,
        /// The POM that pins the version.
        pom: PathBuf,
        /// Maven's exit status.
        status: String,
        /// Maven's captured output.
        log: PathBuf,
    },
    /// The JDK 17 `java` binary is not where the options say.
    #[error(
        "no JDK 17 java at {0}: install openjdk-17-jre-headless or set WEIR_PEERS_JAVA to a JDK 17 `java` (Cassandra 5.0 does not run on JDK 24+)"
    )]
    JavaMissing(PathBuf),
    /// A JVM could not be spawned.
    #[error("cannot start {kind} with {java}: {source}")]
    Spawn {
        /// The server being started.
        kind: Kind,
        /// The java binary used.
        java: PathBuf,
        /// Why spawning failed.
        source: std::io::Error,
    },
    /// A preparatory step (Kafka's storage format) failed.
    #[error("{kind}: {step} failed ({status}); last lines of {log}:\n{tail}")]
    Step {
        /// The server being prepared.
        kind: Kind,
        /// The step that failed.
        step: &'static str,
        /// Its exit status.
        status: String,
        /// Its log file.
        log: PathBuf,
        /// The end of that log.
        tail: String,
    },
    /// The JVM exited before the server became ready.
    #[error("{kind} exited while starting ({status}); last lines of {log}:\n{tail}")]
    Exited {
        /// The server that exited.
        kind: Kind,
        /// Its exit status.
        status: String,
        /// Its log file.
        log: PathBuf,
        /// The end of that log.
        tail: String,
    },
    /// The server did not answer a protocol request before the deadline.
    #[error(
        "{kind} did not answer on {addr} within {waited_secs} s (last probe: {probe}); last lines of {log}:\n{tail}"
    )]
    NotReady {
        /// The server that was probed.
        kind: Kind,
        /// Its client address.
        addr: std::net::SocketAddr,
        /// How long the harness waited, in seconds.
        waited_secs: u64,
        /// What the last probe saw.
        probe: String,
        /// Its log file.
        log: PathBuf,
        /// The end of that log.
        tail: String,
    },
    /// A signal could not be delivered to a recorded pid.
    #[error("cannot send {signal} to {kind} (pid {pid}): {source}")]
    Signal {
        /// The server signalled.
        kind: Kind,
        /// Its pid.
        pid: i32,
        /// The signal name.
        signal: &'static str,
        /// Why it failed.
        source: std::io::Error,
    },
    /// An operation needs a running server and there is none.
    #[error("{0} is not running (start it first)")]
    NotRunning(Kind),
    /// The state file of a detached pair is unreadable.
    #[error(
        "state file {path} is unreadable ({reason}); run `weir-peers down` and `weir-peers up` again"
    )]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// No pair is recorded in the state directory.
    #[error(
        "no peers are recorded in {0}; start them with: eval \"$(cargo run --release -p weir-peers -- up)\""
    )]
    NotUp(PathBuf),
}

impl Error {
    pub(crate) fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { what, path, source }
    }
}
