//! A `weir` child process of the benchmark: started, watched for its exit (its CPU time
//! read before it is reaped), asked to stop by its pid, and never left behind.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::scrape;

/// A `weir run` child; dropping it kills and reaps it if it still runs.
pub struct RunningWeir {
    /// The process.
    pub child: Child,
    /// Its stderr.
    pub log: PathBuf,
    done: bool,
}

impl RunningWeir {
    /// Starts `weir run --config CONFIG` (`--until-drained` if asked), stderr to `log`.
    pub fn start(
        weir: &Path,
        config: &Path,
        until_drained: bool,
        log: &Path,
    ) -> Result<Self, String> {
        let mut command = Command::new(weir);
        command.arg("run").arg("--config").arg(config);
        if until_drained {
            command.arg("--until-drained");
        }
        let child = command
            .env("WEIR_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(create(log)?)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", weir.display()))?;
        Ok(Self {
            child,
            log: log.to_path_buf(),
            done: false,
        })
    }

    /// `Some(user + system CPU time)` once weir has exited successfully (read from the
    /// zombie before reaping it); an error if it failed.
    pub fn exited(&mut self) -> Result<Option<Duration>, String> {
        use rustix::process::{Pid, WaitId, WaitIdOptions, waitid};
        let pid = Pid::from_raw(self.child.id() as i32).ok_or("weir has no pid")?;
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        match waitid(WaitId::Pid(pid), options) {
            Ok(None) => return Ok(None),
            Ok(Some(_)) => {}
            Err(e) => return Err(format!("waiting for weir: {e}")),
        }
        let cpu = scrape::process_cpu(self.child.id()).unwrap_or_default();
        let status = self
            .child
            .wait()
            .map_err(|e| format!("waiting for weir: {e}"))?;
        self.done = true;
        if status.success() {
            Ok(Some(cpu))
        } else {
            Err(format!("`weir run` failed ({status}): {}", tail(&self.log)))
        }
    }

    /// Asks weir to drain and stop (SIGTERM, by its pid) and waits for it.
    pub fn terminate(&mut self) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let _ = self.child.wait();
        self.done = true;
    }
}

impl Drop for RunningWeir {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A loopback address nothing listens on right now.
pub fn free_port() -> Result<SocketAddr, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free loopback port for weir's metrics: {e}"))
}

/// Creates (truncates) a log file.
pub fn create(path: &Path) -> Result<std::fs::File, String> {
    std::fs::File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

/// The last lines of a log, for error messages.
pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}
