//! One server JVM: spawned directly (no shell, so the recorded pid is the JVM), signalled only
//! by that pid, probed with a real protocol request until ready.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use crate::{Credentials, Error, Kind};

/// How often readiness probes and exit checks run.
const POLL: Duration = Duration::from_millis(200);
/// How long a SIGTERM gets before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(30);

/// What both servers' launch preparation needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setup<'a> {
    pub java: &'a Path,
    pub classpath: &'a str,
    pub maven_dir: &'a Path,
    pub dir: &'a Path,
    pub ready_timeout: Duration,
    pub detached: bool,
    pub auth: Option<&'a Credentials>,
    pub cassandra_tls: bool,
    pub commitlog_sync: crate::CommitlogSync,
}

/// Everything needed to (re)start one server on the same data directory and ports.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    pub kind: Kind,
    pub java: PathBuf,
    pub args: Vec<String>,
    /// Directory holding the server's config, data and logs.
    pub dir: PathBuf,
    /// The server's main log (what errors print the tail of).
    pub log: PathBuf,
    /// Where the JVM's own stdout/stderr go.
    pub console: PathBuf,
    pub addr: SocketAddr,
    pub ready_timeout: Duration,
    /// Start in a new process group, so a terminal's Ctrl-C reaches only the harness, which
    /// then stops the server itself.
    pub detached: bool,
    /// Credentials the readiness probe logs in with, when the server requires them.
    pub auth: Option<Credentials>,
    /// The CA file the readiness probe trusts, when the server requires TLS.
    pub tls_ca: Option<PathBuf>,
}

/// A running (or stopped) server started by this harness.
#[derive(Debug)]
pub struct Server {
    launch: Launch,
    child: Option<Child>,
    frozen: bool,
    ready_after: Option<Duration>,
}

impl Server {
    pub(crate) fn new(launch: Launch) -> Server {
        Server {
            launch,
            child: None,
            frozen: false,
            ready_after: None,
        }
    }

    /// Which server this is.
    pub fn kind(&self) -> Kind {
        self.launch.kind
    }

    /// The client address (Kafka bootstrap server or CQL contact point).
    pub fn addr(&self) -> SocketAddr {
        self.launch.addr
    }

    /// The pid of the JVM, while it runs.
    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().and_then(|c| i32::try_from(c.id()).ok())
    }

    /// The server's main log file.
    pub fn log_path(&self) -> &Path {
        &self.launch.log
    }

    /// How long the last start took from spawning the JVM to the first answered request.
    pub fn ready_after(&self) -> Option<Duration> {
        self.ready_after
    }

    /// The directory holding this server's config, data and logs.
    pub fn dir(&self) -> &Path {
        &self.launch.dir
    }

    /// One protocol exchange (the readiness probe), logged in as `auth` when given, over TLS
    /// when the server requires it: `Ok` when the server answers and accepts the login.
    pub fn probe_as(&self, auth: Option<&Credentials>) -> Result<(), String> {
        probe(self.kind(), self.launch.addr, auth, self.tls_ca())
    }

    /// Like [`probe_as`](Self::probe_as), over TLS trusting only the CA in `tls` when given,
    /// in plaintext otherwise (whatever the server requires).
    pub fn probe_with(&self, auth: Option<&Credentials>, tls: Option<&Path>) -> Result<(), String> {
        probe(self.kind(), self.launch.addr, auth, tls)
    }

    /// The PEM file of the CA that signed the server's certificate, when it requires TLS
    /// (Cassandra started with [`PeersOptions::cassandra_tls`](crate::PeersOptions)).
    pub fn tls_ca(&self) -> Option<&Path> {
        self.launch.tls_ca.as_deref()
    }

    /// Starts the JVM on the existing data directory and waits until a protocol request
    /// succeeds; fails at once with the log's tail if the JVM exits first.
    pub fn start(&mut self) -> Result<(), Error> {
        if self.child.is_some() {
            return Ok(());
        }
        let started = Instant::now();
        self.spawn()?;
        self.wait_ready()?;
        self.ready_after = Some(started.elapsed());
        Ok(())
    }

    /// Stops (SIGTERM, then SIGKILL after 30 s) and starts again on the same data and ports.
    pub fn restart(&mut self) -> Result<(), Error> {
        self.stop()?;
        self.start()
    }

    /// SIGKILLs the JVM (no shutdown hook runs) and reaps it; `start` recovers from the data.
    pub fn kill9(&mut self) -> Result<(), Error> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        self.frozen = false;
        // An already exited child is fine: reaping below clears it.
        let _ = child.kill();
        let _ = child.wait();
        remove_pid_file(&self.launch);
        Ok(())
    }

    /// Freezes the JVM with SIGSTOP: its sockets stay open and nothing answers.
    pub fn freeze(&mut self) -> Result<(), Error> {
        let pid = self.pid().ok_or(Error::NotRunning(self.kind()))?;
        send(self.kind(), pid, Signal::STOP, "SIGSTOP")?;
        self.frozen = true;
        Ok(())
    }

    /// Resumes a frozen JVM with SIGCONT.
    pub fn thaw(&mut self) -> Result<(), Error> {
        let pid = self.pid().ok_or(Error::NotRunning(self.kind()))?;
        send(self.kind(), pid, Signal::CONT, "SIGCONT")?;
        self.frozen = false;
        Ok(())
    }

    /// Stops the JVM: SIGTERM (its shutdown hook flushes), wait up to 30 s, then SIGKILL.
    pub fn stop(&mut self) -> Result<(), Error> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
        if self.frozen {
            // A stopped process would not run its shutdown hook.
            let _ = send(self.kind(), pid, Signal::CONT, "SIGCONT");
            self.frozen = false;
        }
        let _ = send(self.kind(), pid, Signal::TERM, "SIGTERM");
        let deadline = Instant::now() + TERM_GRACE;
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(POLL),
            }
        }
        remove_pid_file(&self.launch);
        Ok(())
    }

    /// Gives up ownership without stopping: the JVM outlives this process (used by `up`).
    pub(crate) fn detach(&mut self) -> Option<i32> {
        let pid = self.pid();
        self.child = None;
        pid
    }

    fn spawn(&mut self) -> Result<(), Error> {
        let l = &self.launch;
        let console = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&l.console)
            .map_err(Error::io("cannot open the console log", &l.console))?;
        let console_err = console
            .try_clone()
            .map_err(Error::io("cannot open the console log", &l.console))?;
        let mut command = Command::new(&l.java);
        command
            .args(&l.args)
            .current_dir(&l.dir)
            .stdin(Stdio::null())
            .stdout(console)
            .stderr(console_err);
        if l.detached {
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
        }
        let child = command.spawn().map_err(|source| Error::Spawn {
            kind: l.kind,
            java: l.java.clone(),
            source,
        })?;
        let pid_file = l.dir.join("pid");
        std::fs::write(&pid_file, child.id().to_string())
            .map_err(Error::io("cannot record the pid in", &pid_file))?;
        self.child = Some(child);
        Ok(())
    }

    fn wait_ready(&mut self) -> Result<(), Error> {
        let started = Instant::now();
        let deadline = started + self.launch.ready_timeout;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                remove_pid_file(&self.launch);
                return Err(Error::Exited {
                    kind: self.kind(),
                    status: status.to_string(),
                    log: self.launch.log.clone(),
                    tail: tail(&self.launch.log, &self.launch.console),
                });
            }
            let last = match ready(
                self.kind(),
                self.launch.addr,
                self.launch.auth.as_ref(),
                self.tls_ca(),
            ) {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                return Err(Error::NotReady {
                    kind: self.kind(),
                    addr: self.launch.addr,
                    waited_secs: started.elapsed().as_secs(),
                    probe: last,
                    log: self.launch.log.clone(),
                    tail: tail(&self.launch.log, &self.launch.console),
                });
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Whether the server is ready: [`probe`], after the server's first-start setup that needs
/// a running server (Cassandra with `auth`: creating the login role).
fn ready(
    kind: Kind,
    addr: SocketAddr,
    auth: Option<&Credentials>,
    tls: Option<&Path>,
) -> Result<(), String> {
    match kind {
        Kind::Kafka => crate::kafka::probe(addr, auth),
        Kind::Cassandra => crate::cassandra::ready(addr, auth, tls),
    }
}

/// One real protocol exchange with the server, logged in with `auth` when given, over TLS
/// trusting the CA file `tls` when given (Cassandra only).
pub(crate) fn probe(
    kind: Kind,
    addr: SocketAddr,
    auth: Option<&Credentials>,
    tls: Option<&Path>,
) -> Result<(), String> {
    match kind {
        Kind::Kafka => crate::kafka::probe(addr, auth),
        Kind::Cassandra => crate::cassandra::probe(addr, auth, tls),
    }
}

fn send(kind: Kind, pid: i32, signal: Signal, name: &'static str) -> Result<(), Error> {
    let target = Pid::from_raw(pid).ok_or(Error::NotRunning(kind))?;
    rustix::process::kill_process(target, signal).map_err(|e| Error::Signal {
        kind,
        pid,
        signal: name,
        source: e.into(),
    })
}

fn remove_pid_file(launch: &Launch) {
    let _ = std::fs::remove_file(launch.dir.join("pid"));
}

/// The last lines of the server log, or of the JVM console when the log is empty (a JVM that
/// dies before its logging starts only writes there).
pub(crate) fn tail(log: &Path, console: &Path) -> String {
    let from_log = last_lines(log, 30);
    let from_console = last_lines(console, 15);
    match (from_log.is_empty(), from_console.is_empty()) {
        (false, true) => from_log,
        (true, _) => from_console,
        (false, false) => format!("{from_log}\n--- {} ---\n{from_console}", console.display()),
    }
}

fn last_lines(path: &Path, n: usize) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return String::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// True when `pid` is a live process whose command line contains `needle` (guards against a
/// recorded pid that has since been reused by another program).
pub(crate) fn pid_runs(pid: i32, needle: &str) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            // Field 3 (after the parenthesised name) is the state; Z is a zombie.
            stat.rsplit_once(')')
                .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
                .unwrap_or(false)
        })
        .unwrap_or(false);
    alive && String::from_utf8_lossy(&cmdline).contains(needle)
}

/// Stops a process this harness started in an earlier command, by its recorded pid: SIGCONT
/// (in case it is frozen), SIGTERM, wait up to 30 s, then SIGKILL. Does nothing when the pid
/// no longer runs `needle`.
pub(crate) fn stop_pid(kind: Kind, pid: i32, needle: &str) -> Result<(), Error> {
    if !pid_runs(pid, needle) {
        return Ok(());
    }
    let _ = send(kind, pid, Signal::CONT, "SIGCONT");
    send(kind, pid, Signal::TERM, "SIGTERM")?;
    let deadline = Instant::now() + TERM_GRACE;
    while pid_runs(pid, needle) {
        if Instant::now() >= deadline {
            send(kind, pid, Signal::KILL, "SIGKILL")?;
            let kill_deadline = Instant::now() + Duration::from_secs(5);
            while pid_runs(pid, needle) && Instant::now() < kill_deadline {
                std::thread::sleep(POLL);
            }
            break;
        }
        std::thread::sleep(POLL);
    }
    Ok(())
}

/// Resident memory of a process in KiB, from /proc.
pub fn rss_kib(pid: i32) -> Option<u64> {
    status_kib(Some(u32::try_from(pid).ok()?), "VmRSS")
}

/// A memory figure in KiB from a process's `/proc/PID/status` (`None`: this process), e.g.
/// `VmRSS` (resident now) or `VmHWM` (peak resident).
pub fn status_kib(pid: Option<u32>, field: &str) -> Option<u64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::status_kib;

    #[test]
    fn memory_figures_are_read_by_field_name_from_proc() {
        let rss = status_kib(None, "VmRSS").expect("VmRSS of this process");
        let peak = status_kib(None, "VmHWM").expect("VmHWM of this process");
        assert!(rss > 0 && peak >= rss, "rss {rss} KiB, peak {peak} KiB");
        let pid = std::process::id();
        assert!(status_kib(Some(pid), "VmRSS").is_some());
        // `Vm` alone is a prefix of every field, not a field.
        assert_eq!(status_kib(None, "Vm"), None);
    }
}
