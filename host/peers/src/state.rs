//! The state dir's record of a running pair, shared by commands and processes: `pair.json`
//! (addresses, pids, logs), `lock` (an exclusive file lock around starting and stopping), and
//! `clients/<pid>` (test processes using a supervised pair).

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::process::{pid_runs, probe, stop_pid};
use crate::{Error, Kind, Server};

/// One server of a recorded pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerRecord {
    /// Client address.
    pub addr: SocketAddr,
    /// The JVM's pid.
    pub pid: i32,
    /// Its main log.
    pub log: PathBuf,
}

impl ServerRecord {
    pub(crate) fn of(server: &Server) -> ServerRecord {
        ServerRecord {
            addr: server.addr(),
            pid: server.pid().unwrap_or(0),
            log: server.log_path().to_path_buf(),
        }
    }
}

/// A pair recorded in `pair.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairRecord {
    /// The Kafka broker.
    pub kafka: ServerRecord,
    /// The Cassandra node.
    pub cassandra: ServerRecord,
    /// The `weir-peers serve` process owning the pair, if one does.
    pub supervisor_pid: Option<i32>,
}

impl PairRecord {
    /// The two lines `up` prints, for `eval`.
    pub fn env_lines(&self) -> String {
        format!(
            "WEIR_TEST_KAFKA={}\nWEIR_TEST_CASSANDRA={}\n",
            self.kafka.addr, self.cassandra.addr
        )
    }

    fn server(&self, kind: Kind) -> &ServerRecord {
        match kind {
            Kind::Kafka => &self.kafka,
            Kind::Cassandra => &self.cassandra,
        }
    }

    /// Like [`PairRecord::healthy`], but a server whose JVM runs and does not answer yet gets
    /// until `within` (a busy machine can miss one probe; stopping a pair other processes
    /// use because of it would be worse).
    pub fn healthy_within(&self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            match self.healthy() {
                Ok(()) => return Ok(()),
                Err(why) if !self.jvms_run() || Instant::now() >= deadline => return Err(why),
                Err(_) => std::thread::sleep(Duration::from_millis(500)),
            }
        }
    }

    fn jvms_run(&self) -> bool {
        [Kind::Kafka, Kind::Cassandra]
            .into_iter()
            .all(|kind| pid_runs(self.server(kind).pid, kind.main_class()))
    }

    /// Both JVMs run under their recorded pids and answer a protocol request.
    pub fn healthy(&self) -> Result<(), String> {
        for kind in [Kind::Kafka, Kind::Cassandra] {
            let server = self.server(kind);
            if !pid_runs(server.pid, kind.main_class()) {
                return Err(format!("{kind} (pid {}) is not running", server.pid));
            }
            probe(kind, server.addr, None, None)
                .map_err(|e| format!("{kind} at {}: {e}", server.addr))?;
        }
        Ok(())
    }
}

/// The pair file of a state dir.
pub fn pair_file(state_dir: &Path) -> PathBuf {
    state_dir.join("pair.json")
}

/// Reads the recorded pair, `None` when there is none.
pub fn read(state_dir: &Path) -> Result<Option<PairRecord>, Error> {
    let path = pair_file(state_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("cannot read", &path)(e)),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::State {
            path,
            reason: e.to_string(),
        })
}

/// Records the pair (written to a temporary file and renamed, so readers never see half).
pub fn write(state_dir: &Path, record: &PairRecord) -> Result<(), Error> {
    let path = pair_file(state_dir);
    let tmp = state_dir.join("pair.json.tmp");
    let text = serde_json::to_string_pretty(record).map_err(|e| Error::State {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    std::fs::write(&tmp, text).map_err(Error::io("cannot write", &tmp))?;
    std::fs::rename(&tmp, &path).map_err(Error::io("cannot write", &path))
}

/// Holds the state dir's exclusive lock until dropped.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

/// Takes the state dir's exclusive lock, waiting for other processes that hold it.
pub fn lock(state_dir: &Path) -> Result<StateLock, Error> {
    std::fs::create_dir_all(state_dir).map_err(Error::io("cannot create", state_dir))?;
    let path = state_dir.join("lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io("cannot open", &path))?;
    file.lock().map_err(Error::io("cannot lock", &path))?;
    Ok(StateLock { _file: file })
}

/// Stops the recorded pair (its supervisor first, if any) by recorded pids, and also any JVM
/// whose pid file a start interrupted before the pair was recorded. Returns whether anything
/// was recorded.
pub fn stop_recorded(state_dir: &Path) -> Result<bool, Error> {
    let record = read(state_dir)?;
    if let Some(pid) = record.as_ref().and_then(|r| r.supervisor_pid) {
        stop_pid(Kind::Kafka, pid, "weir-peers")?;
    }
    let mut found = record.is_some();
    for kind in [Kind::Kafka, Kind::Cassandra] {
        if let Some(r) = &record {
            stop_pid(kind, r.server(kind).pid, kind.main_class())?;
        }
        let pid_file = state_dir.join(kind.name()).join("pid");
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        {
            found = true;
            stop_pid(kind, pid, kind.main_class())?;
            let _ = std::fs::remove_file(&pid_file);
        }
    }
    let _ = std::fs::remove_file(pair_file(state_dir));
    Ok(found)
}

/// The directory where processes using a supervised pair register.
pub fn clients_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("clients")
}

/// Registers `pid` as a user of the supervised pair: the supervisor keeps the pair while any
/// registered process is alive. The file holds the process's start time, so a pid reused by
/// another program later does not count.
pub fn register_client(state_dir: &Path, pid: u32) -> Result<(), Error> {
    let dir = clients_dir(state_dir);
    std::fs::create_dir_all(&dir).map_err(Error::io("cannot create", &dir))?;
    let path = dir.join(pid.to_string());
    let started = i32::try_from(pid)
        .ok()
        .and_then(start_time)
        .unwrap_or_default();
    std::fs::write(&path, started.to_string()).map_err(Error::io("cannot write", &path))
}

/// Number of registered processes still alive; forgets the dead ones.
pub fn live_clients(state_dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(clients_dir(state_dir)) else {
        return 0;
    };
    let mut live = 0;
    for entry in entries.flatten() {
        let recorded: Option<u64> = std::fs::read_to_string(entry.path())
            .ok()
            .and_then(|s| s.trim().parse().ok());
        let alive = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
            .is_some_and(|pid| pid_runs(pid, "") && start_time(pid) == recorded);
        if alive {
            live += 1;
        } else {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    live
}

/// The process's start time (clock ticks since boot, field 22 of /proc/<pid>/stat).
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    // `rest` starts at field 3, so field 22 is the 20th here.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the pair's owner is still there: a supervised pair whose supervisor died has
/// nobody left to stop it, so it must not be reused.
pub fn owner_alive(record: &PairRecord) -> bool {
    record
        .supervisor_pid
        .is_none_or(|pid| pid_runs(pid, "weir-peers"))
}

/// Waits until no registered client has been alive for `idle` (or `stop` says so), checking
/// twice a second. Used by `weir-peers serve --idle-exit`.
pub fn wait_idle(state_dir: &Path, idle: Duration, stop: impl Fn() -> bool) {
    let mut idle_since: Option<Instant> = None;
    loop {
        if stop() {
            return;
        }
        if live_clients(state_dir) > 0 {
            idle_since = None;
        } else {
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= idle {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
