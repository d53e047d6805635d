//! One pair per test run, shared across test processes through the state dir.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use weir_peers::state;

use crate::PeerAddrs;

/// Why the peers could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SupportError {
    /// Only one of the two variables is set.
    #[error("set both WEIR_TEST_KAFKA and WEIR_TEST_CASSANDRA (host:port), or neither")]
    HalfConfigured,
    /// The state dir could not be used.
    #[error(transparent)]
    Peers(Box<weir_peers::Error>),
    /// The `weir-peers` binary (the supervisor) was not found.
    #[error(
        "the weir-peers binary is not built (looked at {0:?}); run `cargo build --release -p weir-peers`, or set WEIR_PEERS_BIN"
    )]
    NoBinary(Vec<PathBuf>),
    /// The supervisor could not be started or exited before the pair was ready.
    #[error("`weir-peers serve` failed: {reason}; its log is {log}:\n{tail}")]
    Supervisor {
        /// What went wrong.
        reason: String,
        /// The supervisor's log.
        log: PathBuf,
        /// The end of that log.
        tail: String,
    },
}

impl From<weir_peers::Error> for SupportError {
    fn from(e: weir_peers::Error) -> Self {
        SupportError::Peers(Box::new(e))
    }
}

pub(crate) fn shared_pair(state_dir: &Path) -> Result<PeerAddrs, SupportError> {
    let _lock = state::lock(state_dir)?;
    state::register_client(state_dir, std::process::id())?;
    if let Some(record) = state::read(state_dir)?
        && state::owner_alive(&record)
        && record.healthy_within(Duration::from_secs(30)).is_ok()
    {
        return Ok(addrs(&record));
    }
    state::stop_recorded(state_dir)?;
    start_supervisor(state_dir)?;
    let record =
        state::read(state_dir)?.ok_or_else(|| weir_peers::Error::NotUp(state_dir.into()))?;
    Ok(addrs(&record))
}

fn addrs(record: &state::PairRecord) -> PeerAddrs {
    PeerAddrs {
        kafka: record.kafka.addr.to_string(),
        cassandra: record.cassandra.addr.to_string(),
    }
}

/// Starts `weir-peers serve` in its own process group (so it outlives this test process) and
/// waits until it prints the two addresses, i.e. the pair answers.
fn start_supervisor(state_dir: &Path) -> Result<(), SupportError> {
    let bin = find_binary()?;
    let log = state_dir.join("supervisor.log");
    let log_file =
        std::fs::File::create(&log).map_err(|e| supervisor_error(&log, e.to_string()))?;
    let mut command = Command::new(&bin);
    command
        .arg("--state-dir")
        .arg(state_dir)
        .args(["serve", "--idle-exit", "15"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file);
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| supervisor_error(&log, format!("cannot run {}: {e}", bin.display())))?;
    let Some(stdout) = child.stdout.take() else {
        return Err(supervisor_error(&log, "no stdout".into()));
    };
    let mut seen = 0;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if line.starts_with("WEIR_TEST_KAFKA=") || line.starts_with("WEIR_TEST_CASSANDRA=") {
            seen += 1;
            if seen == 2 {
                // The supervisor lives on, reparented once this process exits; it is reaped
                // by whoever inherits it.
                return Ok(());
            }
        }
    }
    let status = child
        .wait()
        .map(|s| s.to_string())
        .unwrap_or_else(|e| e.to_string());
    Err(supervisor_error(
        &log,
        format!("exited ({status}) before the pair was ready"),
    ))
}

fn supervisor_error(log: &Path, reason: String) -> SupportError {
    let tail = std::fs::read_to_string(log)
        .map(|t| {
            let lines: Vec<&str> = t.lines().collect();
            lines[lines.len().saturating_sub(40)..].join("\n")
        })
        .unwrap_or_default();
    SupportError::Supervisor {
        reason,
        log: log.to_path_buf(),
        tail,
    }
}

/// `WEIR_PEERS_BIN`, else `weir-peers` next to the test binary's `deps/` folder (where
/// `cargo test --workspace` puts it), else the workspace's release and debug target dirs.
fn find_binary() -> Result<PathBuf, SupportError> {
    if let Some(bin) = std::env::var_os("WEIR_PEERS_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe()
        && let Some(profile_dir) = exe.parent().and_then(Path::parent)
    {
        candidates.push(profile_dir.join("weir-peers"));
    }
    let target = weir_peers::workspace_dir().join("target");
    candidates.push(target.join("release").join("weir-peers"));
    candidates.push(target.join("debug").join("weir-peers"));
    candidates
        .iter()
        .find(|c| c.is_file())
        .cloned()
        .ok_or(SupportError::NoBinary(candidates))
}
