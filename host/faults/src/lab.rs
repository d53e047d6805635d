//! The matrix's bench: its own Kafka and Cassandra, the CQL fault proxy in front of
//! Cassandra, one topic/keyspace per fault, and the `weir run` processes under test.

use crate::MatrixOptions;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use weir_kafka::{Brokers, Properties};
use weir_peers::{Peers, PeersOptions};
use weir_test_support::FaultProxy;

/// Partitions of each fault's topic: enough for two processes to share.
pub const PARTITIONS: i32 = 4;

pub struct Lab {
    pub peers: Peers,
    pub proxy: FaultProxy,
    pub kafka: String,
    pub cassandra: String,
    pub weir: PathBuf,
    pub dir: PathBuf,
    pub rate: u32,
    /// Distinguishes this run's topics and ids from an earlier run's.
    pub run: u32,
}

impl Lab {
    pub async fn start(options: &MatrixOptions) -> anyhow::Result<Lab> {
        std::fs::create_dir_all(&options.scratch)
            .with_context(|| format!("cannot create {}", options.scratch.display()))?;
        let dir = options.scratch.canonicalize()?;
        let peer_options = PeersOptions {
            state_dir: dir.join("peers"),
            ..PeersOptions::default()
        };
        let peers = tokio::task::spawn_blocking(move || Peers::start(&peer_options))
            .await?
            .context("cannot start Kafka and Cassandra")?;
        let proxy = FaultProxy::start_cql(peers.cassandra_addr())
            .await
            .context("cannot start the CQL fault proxy")?;
        Ok(Lab {
            kafka: peers.kafka_addr().to_string(),
            cassandra: peers.cassandra_addr().to_string(),
            peers,
            proxy,
            weir: options.weir.clone(),
            dir,
            rate: options.rate.max(1),
            run: std::process::id(),
        })
    }

    /// Stops both servers (by their pids).
    pub fn stop(mut self) {
        let _ = tokio::task::block_in_place(|| self.peers.stop());
    }

    /// A fresh topic, dead-letter topic, group, keyspace and `weir.toml` for `name`.
    pub async fn stream(&self, name: &str) -> anyhow::Result<Stream> {
        let topic = format!("faults-{name}-{}", self.run);
        let dlq = format!("{topic}.dlq");
        weir_kafka::create_topics(
            &Brokers::parse(&self.kafka),
            &Properties::default(),
            &[(topic.as_str(), PARTITIONS), (dlq.as_str(), 1)],
        )
        .await
        .with_context(|| format!("cannot create topic {topic}"))?;
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir)?;
        let stream = Stream {
            group: format!("{topic}-weir"),
            keyspace: format!("faults_{}_{}", name.replace('-', "_"), self.run),
            config: dir.join("weir.toml"),
            topic,
            dlq,
            dir,
        };
        std::fs::write(&stream.config, stream.config_text(self))?;
        Ok(stream)
    }

    /// Starts `weir run` on `stream`, stderr to `<name>.log` in the stream's dir.
    pub fn start_weir(&self, stream: &Stream, name: &str) -> anyhow::Result<WeirProcess> {
        let log = stream.dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log)?;
        let child = Command::new(&self.weir)
            .args(["run", "--config"])
            .arg(&stream.config)
            .current_dir(&stream.dir)
            .env("XDG_CACHE_HOME", self.dir.join("cache"))
            .env("WEIR_LOG", "info,librdkafka=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .with_context(|| format!("cannot start {}", self.weir.display()))?;
        Ok(WeirProcess {
            child: Some(child),
            log,
            peak_kib: 0,
        })
    }
}

/// One fault's names and config.
pub struct Stream {
    pub topic: String,
    pub dlq: String,
    pub group: String,
    pub keyspace: String,
    pub config: PathBuf,
    pub dir: PathBuf,
}

impl Stream {
    /// weir's defaults, except: a killed process's partitions move after 6 s instead of 45 s,
    /// and a write is retried up to 20 times, so a fault that fails a third of all writes
    /// for seconds does not exhaust one event's budget (the defaults would dead-letter a
    /// few: `sink-retries-exhausted`, which is not loss, but not what this matrix measures).
    fn config_text(&self, lab: &Lab) -> String {
        format!(
            r#"[source]
type = "kafka"
brokers = "{kafka}"
group_id = "{group}"
topics = ["{topic}"]
properties = {{ "session.timeout.ms" = "6000", "heartbeat.interval.ms" = "1000" }}

[[plugins]]
path = "builtin:enricher"

[sink]
type = "cassandra"
nodes = ["{proxy}"]
keyspace = "{keyspace}"
table = "users"
create_schema = true
retry = {{ max_attempts = 20, base_backoff = "50ms", max_backoff = "1s" }}

[dead_letter]
type = "kafka"
topic = "{dlq}"

[metrics]
enabled = false
"#,
            kafka = lab.kafka,
            group = self.group,
            topic = self.topic,
            proxy = lab.proxy.addr(),
            keyspace = self.keyspace,
            dlq = self.dlq,
        )
    }
}

/// A `weir run` process; killed if dropped while running.
pub struct WeirProcess {
    child: Option<Child>,
    log: PathBuf,
    peak_kib: u64,
}

impl WeirProcess {
    /// Its peak RSS so far, in bytes (from the kernel's `VmHWM`, kept across samples).
    pub fn peak_bytes(&mut self) -> u64 {
        if let Some(child) = &self.child
            && let Some(kib) = weir_peers::status_kib(Some(child.id()), "VmHWM")
        {
            self.peak_kib = self.peak_kib.max(kib);
        }
        self.peak_kib * 1024
    }

    /// SIGKILL: no draining, no final commit. Returns the peak RSS.
    pub fn kill9(&mut self) -> u64 {
        let peak = self.peak_bytes();
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        peak
    }

    /// SIGTERM and wait: a graceful stop drains, commits and exits 0. Returns the peak RSS.
    pub fn stop(&mut self) -> anyhow::Result<u64> {
        let peak = self.peak_bytes();
        let Some(mut child) = self.child.take() else {
            return Ok(peak);
        };
        let pid = rustix::process::Pid::from_child(&child);
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let status = tokio::task::block_in_place(|| child.wait())?;
        if !status.success() {
            anyhow::bail!(
                "weir did not stop cleanly ({status}); last lines of {}:\n{}",
                self.log.display(),
                tail(&self.log, 30)
            );
        }
        Ok(peak)
    }

    /// Waits until weir logs that its pipeline runs (source, chain and sink are up), so a
    /// fault meets a running pipeline rather than its start-up.
    pub async fn started(&mut self) -> anyhow::Result<()> {
        self.logged("Pipeline started").await
    }

    /// Waits until the group has given weir its partitions: from then on it processes.
    pub async fn assigned(&mut self) -> anyhow::Result<()> {
        self.logged("Partitions assigned").await
    }

    async fn logged(&mut self, line: &str) -> anyhow::Result<()> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            if let Some(crash) = self.crashed() {
                anyhow::bail!(crash);
            }
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.contains(line) {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                anyhow::bail!(
                    "weir did not log `{line}` within 120 s:\n{}",
                    tail(&self.log, 30)
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Whether it exited on its own (a crash), with the log's tail.
    pub fn crashed(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => Some(format!(
                "weir exited by itself ({status}); last lines of {}:\n{}",
                self.log.display(),
                tail(&self.log, 30)
            )),
            _ => None,
        }
    }
}

impl Drop for WeirProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The last `n` lines of a log.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
