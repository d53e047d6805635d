//! Shared setup of the end-to-end tests: real Kafka and Cassandra from the test support,
//! user events, a `weir run` process, and read-backs from the table and the DLQ topic.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use bytes::Bytes;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use weir_core::{Event, Source};
use weir_kafka::{
    Brokers, KafkaProducer, KafkaSource, KafkaSourceConfig, ProducerRecord, Properties,
};

/// Event timestamp of every produced user: ages are computed at this instant.
pub const TIMESTAMP_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
/// How long a test waits for the pipeline to catch up.
pub const DEADLINE: Duration = Duration::from_secs(120);

/// One isolated pipeline: its own topics, group, keyspace and work dir.
pub struct Setup {
    pub kafka: String,
    pub cassandra: String,
    pub topic: String,
    pub dlq: String,
    pub group: String,
    pub keyspace: String,
    pub dir: tempfile::TempDir,
    /// How the test's own clients (producer, DLQ reader, CQL session) log in.
    pub login: Login,
    /// Extra Kafka properties written into weir's config (source and dead letters), as TOML
    /// key = value pairs.
    pub kafka_config: Vec<(String, String)>,
    /// Extra lines of weir's `[sink]` table.
    pub sink_config: String,
}

/// The credentials of the test's own clients; none for the shared peers.
#[derive(Default, Clone)]
pub struct Login {
    /// librdkafka properties of the test's producer and dead-letter reader.
    pub kafka: Properties,
    /// User and password of the test's CQL session.
    pub cassandra: Option<(String, String)>,
    /// TLS of the test's CQL session, for a node that requires it.
    pub cassandra_tls: Option<weir_cassandra::TlsConfig>,
}

impl Setup {
    pub async fn new(name: &str, partitions: i32) -> Setup {
        let peers = weir_test_support::peers();
        Setup::on(
            name,
            partitions,
            &peers.kafka,
            &peers.cassandra,
            Login::default(),
        )
        .await
    }

    /// A setup on given servers, its own clients logging in with `login`.
    pub async fn on(
        name: &str,
        partitions: i32,
        kafka: &str,
        cassandra: &str,
        login: Login,
    ) -> Setup {
        let topic = weir_test_support::unique_topic(&format!("e2e-{name}"));
        let dlq = format!("{topic}.dlq");
        weir_kafka::create_topics(
            &Brokers::parse(kafka),
            &login.kafka,
            &[(topic.as_str(), partitions), (dlq.as_str(), 1)],
        )
        .await
        .expect("topics");
        Setup {
            kafka: kafka.to_owned(),
            cassandra: cassandra.to_owned(),
            group: format!("{topic}-group"),
            keyspace: weir_test_support::unique_keyspace(name),
            topic,
            dlq,
            dir: tempfile::tempdir().expect("tempdir"),
            login,
            kafka_config: Vec::new(),
            sink_config: String::new(),
        }
    }

    /// The extra Kafka properties as the inside of a TOML inline table (with a leading comma).
    fn kafka_config_toml(&self) -> String {
        self.kafka_config
            .iter()
            .map(|(k, v)| format!(", {k:?} = {v:?}"))
            .collect()
    }

    /// Writes `weir.toml` for this setup; `extra` is appended (more plugins, overrides).
    pub fn config(&self, cassandra: &str, extra: &str) -> PathBuf {
        self.config_named("weir.toml", cassandra, extra)
    }

    /// Writes a config file `name` for this setup; `extra` is appended.
    pub fn config_named(&self, name: &str, cassandra: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                r#"
[source]
type = "kafka"
brokers = "{kafka}"
group_id = "{group}"
topics = ["{topic}"]
commit_interval = "200ms"
# A killed process's partitions move after this, instead of Kafka's 45 s default.
properties = {{ "session.timeout.ms" = "6000", "heartbeat.interval.ms" = "1000", "statistics.interval.ms" = "500"{kafka_config} }}

[[plugins]]
path = "builtin:enricher"

[sink]
type = "cassandra"
nodes = ["{cassandra}"]
keyspace = "{keyspace}"
table = "users"
create_schema = true
consistency = "one"
retry = {{ max_attempts = 8, base_backoff = "50ms", max_backoff = "500ms" }}
{sink_config}

[dead_letter]
type = "kafka"
topic = "{dlq}"
properties = {{ {dlq_config} }}

[pipeline]
batch_size = 64

[metrics]
enabled = false
{extra}
"#,
                kafka = self.kafka,
                group = self.group,
                topic = self.topic,
                keyspace = self.keyspace,
                dlq = self.dlq,
                kafka_config = self.kafka_config_toml(),
                sink_config = self.sink_config,
                dlq_config = self.kafka_config_toml().trim_start_matches(", "),
            ),
        )
        .expect("config");
        path
    }

    /// Starts `weir run` with this setup's config; logs go to `log_name` in the work dir.
    pub fn start(&self, config: &Path, log_name: &str) -> Weir {
        self.start_with(config, log_name, &[])
    }

    /// Starts `weir run` with more arguments (e.g. `--set` overrides).
    pub fn start_with(&self, config: &Path, log_name: &str, extra: &[&str]) -> Weir {
        self.start_with_env(config, log_name, extra, &[])
    }

    /// Like [`start_with`](Self::start_with), with more environment variables.
    pub fn start_with_env(
        &self,
        config: &Path,
        log_name: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Weir {
        let log = self.dir.path().join(log_name);
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(["run", "--config"])
            .arg(config)
            .args(extra)
            .current_dir(self.dir.path())
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .env("WEIR_LOG", "info,librdkafka=warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("weir starts");
        Weir { child, log }
    }

    /// Runs `weir ARGS` to completion; returns whether it succeeded, its stdout and stderr.
    pub fn weir(&self, args: &[&str]) -> (bool, String, String) {
        self.weir_with_env(args, &[])
    }

    /// Like [`weir`](Self::weir), with more environment variables (later ones win).
    pub fn weir_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
        let output = Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(args)
            .current_dir(self.dir.path())
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .env("WEIR_LOG", "info,librdkafka=warn")
            .envs(env.iter().copied())
            .output()
            .expect("weir runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Produces values keyed by their `id` field (or `key-N` when they have none).
    pub async fn produce(&self, values: &[String]) {
        let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
        self.produce_bytes(&values).await;
    }

    /// Produces raw values (any bytes), keyed like [`produce`](Self::produce).
    pub async fn produce_bytes(&self, values: &[&[u8]]) {
        // Records up to what the harness broker accepts (the hostile inputs hold 10 MB).
        let mut properties = self.login.kafka.clone();
        properties.0.insert(
            "message.max.bytes".into(),
            weir_kafka::PropertyValue::Integer(weir_peers::MAX_MESSAGE_BYTES as i64),
        );
        let producer =
            KafkaProducer::new(&Brokers::parse(&self.kafka), &properties).expect("producer");
        let records: Vec<ProducerRecord> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let key = serde_json::from_slice::<Value>(v)
                    .ok()
                    .and_then(|j| j["id"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("key-{i}"));
                ProducerRecord {
                    topic: self.topic.clone(),
                    key: Some(Bytes::from(key)),
                    value: Bytes::copy_from_slice(v),
                    headers: vec![weir_core::Header::new("trace", format!("t{i}"))],
                    timestamp_ms: Some(TIMESTAMP_MS),
                }
            })
            .collect();
        for chunk in records.chunks(1000) {
            producer.send_batch(chunk).await.expect("produce");
        }
    }

    pub async fn session(&self) -> scylla::client::session::Session {
        let mut builder =
            scylla::client::session_builder::SessionBuilder::new().known_node(&self.cassandra);
        if let Some((user, password)) = &self.login.cassandra {
            builder = builder.user(user, password);
        }
        if let Some(tls) = &self.login.cassandra_tls {
            builder = builder.tls_context(Some(tls.context().expect("TLS context")));
        }
        builder.build().await.expect("cql session")
    }

    /// Rows in the table (0 while the table does not exist yet).
    pub async fn row_count(&self, session: &scylla::client::session::Session) -> i64 {
        let query = format!("SELECT COUNT(*) FROM \"{}\".users", self.keyspace);
        match session.query_unpaged(query, ()).await {
            Ok(result) => result
                .into_rows_result()
                .ok()
                .and_then(|r| r.first_row::<(i64,)>().ok())
                .map_or(0, |(n,)| n),
            Err(_) => 0,
        }
    }

    /// Waits until the table holds `n` rows.
    pub async fn wait_for_rows(&self, n: i64) {
        let session = self.session().await;
        let last = std::sync::atomic::AtomicI64::new(0);
        let reached =
            weir_test_support::wait_until(DEADLINE, "rows reach the expected count", || {
                let (session, last) = (&session, &last);
                async move {
                    let count = self.row_count(session).await;
                    last.store(count, std::sync::atomic::Ordering::Relaxed);
                    count >= n
                }
            })
            .await;
        if reached.is_err() {
            let last = last.load(std::sync::atomic::Ordering::Relaxed);
            panic!(
                "only {last} of {n} rows within {DEADLINE:?}\n{}",
                self.logs()
            );
        }
    }

    /// Every weir log of this setup, for a failure message.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        for entry in std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "log") {
                let log = std::fs::read_to_string(&path).unwrap_or_default();
                text += &format!("--- {}\n{log}\n", path.display());
            }
        }
        text
    }

    /// Every row as JSON, keyed by id.
    pub async fn rows(&self) -> std::collections::BTreeMap<String, Value> {
        let session = self.session().await;
        let query = format!("SELECT JSON * FROM \"{}\".users", self.keyspace);
        let result = session
            .query_unpaged(query, ())
            .await
            .expect("select")
            .into_rows_result()
            .expect("rows");
        result
            .rows::<(String,)>()
            .expect("json rows")
            .map(|r| {
                let (text,) = r.expect("row");
                let v: Value = serde_json::from_str(&text).expect("row json");
                (v["id"].as_str().expect("id").to_owned(), v)
            })
            .collect()
    }

    /// Reads `n` records of the dead-letter topic (with a fresh group).
    pub async fn dead_letters(&self, n: usize) -> Vec<Event> {
        let mut config = KafkaSourceConfig::new(
            Brokers::parse(&self.kafka),
            format!("{}-reader-{}", self.dlq, std::process::id()),
            vec![self.dlq.clone()],
        );
        config.properties = self.login.kafka.clone();
        let mut source = KafkaSource::start(&config).expect("dlq reader");
        let mut events = Vec::new();
        let read = tokio::time::timeout(DEADLINE, async {
            while events.len() < n {
                if let Ok(Some(batch)) = source.next_batch(100).await {
                    events.extend(batch);
                }
            }
        })
        .await;
        assert!(read.is_ok(), "only {} of {n} dead letters", events.len());
        events
    }
}

/// A running `weir run` process; killed on drop if still running.
pub struct Weir {
    pub child: Child,
    pub log: PathBuf,
}

impl Weir {
    /// SIGTERM, then waits: a graceful stop drains and commits and exits 0.
    pub fn stop(mut self) -> String {
        let pid = i32::try_from(self.child.id()).expect("pid");
        unsafe_kill(pid, libc::SIGTERM);
        let status = self.child.wait().expect("wait");
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        assert!(
            status.success(),
            "weir did not stop cleanly ({status}); log:\n{log}"
        );
        log
    }

    /// SIGKILL: no draining, no final commit.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `fragment`; fails the test with the log if it never does.
    pub async fn wait_for_log(&self, fragment: &str) {
        let logged = weir_test_support::wait_until(DEADLINE, fragment, || async {
            self.log().contains(fragment)
        })
        .await;
        assert!(
            logged.is_ok(),
            "`{fragment}` not logged within {DEADLINE:?}; log:\n{}",
            self.log()
        );
    }
}

impl Drop for Weir {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[allow(unsafe_code, reason = "sending a signal to our own child process")]
fn unsafe_kill(pid: i32, signal: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// `n` distinct realistic users: the sample users with fresh deterministic ids.
pub fn users(n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/users.jsonl"
    ))
    .expect("examples/users.jsonl");
    let samples: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("sample user"))
        .collect();
    let run = std::process::id();
    (0..n)
        .map(|i| {
            let mut user = samples[i % samples.len()].clone();
            user["id"] = Value::String(format!("{:08x}-0000-4000-8000-{:012x}", run, i));
            user.to_string()
        })
        .collect()
}

/// What the enricher makes of a user, computed natively by the same code.
pub fn expected(user: &str) -> Value {
    let bytes = weir_enricher_core::enrich(user.as_bytes(), TIMESTAMP_MS).expect("enrichable");
    serde_json::from_slice(&bytes).expect("json")
}

/// Cassandra renders timestamps as `2003-05-26 07:05:35.434Z`; this compares one with the
/// ISO-8601 text the event carried.
pub fn same_instant(cql: &Value, iso: &Value) -> bool {
    let parse = |s: &str, fmt: &str| chrono::NaiveDateTime::parse_from_str(s, fmt).ok();
    let a = cql.as_str().and_then(|s| parse(s, "%Y-%m-%d %H:%M:%S%.fZ"));
    let b = iso.as_str().and_then(|s| parse(s, "%Y-%m-%dT%H:%M:%S%.fZ"));
    a.is_some() && a == b
}

/// A free loopback port (bound, then released) for a metrics endpoint.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// GET `/metrics` from `127.0.0.1:port`; empty while nothing answers.
pub async fn scrape(port: u16) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return String::new();
    };
    let request = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let mut body = String::new();
    if stream.write_all(request.as_bytes()).await.is_ok() {
        let _ = stream.read_to_string(&mut body).await;
    }
    body
}

/// A header's value as text ("" when the event has no such header).
pub fn header(event: &Event, name: &str) -> String {
    event
        .headers
        .iter()
        .find(|h| h.name == name)
        .map(|h| String::from_utf8_lossy(&h.value).into_owned())
        .unwrap_or_default()
}
