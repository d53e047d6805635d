//! `[sink] type = "cassandra"`: where to write, how hard to try, and what to do with fields
//! that have no column. Deserialized once, then [`CassandraSinkConfig::validate`] reports every
//! problem at once, each with its key and the fix.

use crate::ident::Ident;
use crate::tls::TlsConfig;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use weir_core::secret::SecretRef;

/// Configuration of the Cassandra (or ScyllaDB) sink.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CassandraSinkConfig {
    /// Contact points, `host:port` (e.g. `["127.0.0.1:9042"]`); the driver discovers the rest.
    pub nodes: Vec<String>,
    /// Keyspace of the target table.
    pub keyspace: String,
    /// Target table; its real schema is read from the cluster at start.
    pub table: String,
    /// Create the keyspace and the default enricher's table if they do not exist.
    #[serde(default)]
    pub create_schema: bool,
    /// Keyspace replication used by `create_schema`, e.g.
    /// `{ class = "NetworkTopologyStrategy", dc1 = 3 }`.
    #[serde(default = "default_replication", deserialize_with = "replication_map")]
    pub replication: BTreeMap<String, String>,
    /// Write consistency level, by name, case-insensitive (`one`, `local_quorum`, `all`, …).
    #[serde(default)]
    pub consistency: ConsistencyLevel,
    /// Most writes in flight at once; bounds the memory and the load put on the cluster.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// What to do with an event field that has no column: `ignore` it or reject the event.
    #[serde(default)]
    pub unknown_fields: UnknownFields,
    /// Which write timestamp rows get: the Kafka record's (`event`) or the server's clock.
    #[serde(default)]
    pub write_timestamp: WriteTimestamp,
    /// How retryable errors (timeouts, overload, unavailable replicas) are retried.
    #[serde(default)]
    pub retry: RetryConfig,
    /// User name for password authentication.
    #[serde(default)]
    pub username: Option<String>,
    /// Password, or `env:NAME` / `file:PATH` to read it from the environment variable `NAME`
    /// or the file `PATH`. Never logged.
    #[serde(default)]
    pub password: Option<Secret>,
    /// Encrypt every connection, e.g. `tls = { ca_file = "ca.pem" }` (see [`TlsConfig`]);
    /// absent (the default), connections are plaintext.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Client-side limit on one write attempt, e.g. `"12s"`.
    #[serde(default = "default_request_timeout", with = "humantime_duration")]
    pub request_timeout: Duration,
    /// Limit on opening a connection to a node, e.g. `"5s"`.
    #[serde(default = "default_connect_timeout", with = "humantime_duration")]
    pub connect_timeout: Duration,
    /// How long the sink waits for a cluster that cannot be reached, at start (not listening
    /// yet) and while writing (no node at all), before it gives up and stops the pipeline
    /// (nothing is dead-lettered for an outage).
    #[serde(default = "default_outage_timeout", with = "humantime_duration")]
    pub outage_timeout: Duration,
}

/// Retry policy for retryable write errors.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts per event, the first included, before it is dead-lettered as
    /// `sink-retries-exhausted`.
    #[serde(default = "RetryConfig::default_max_attempts")]
    pub max_attempts: u32,
    /// Wait before the first retry; doubles with each retry.
    #[serde(
        default = "RetryConfig::default_base_backoff",
        with = "humantime_duration"
    )]
    pub base_backoff: Duration,
    /// Longest wait between two attempts.
    #[serde(
        default = "RetryConfig::default_max_backoff",
        with = "humantime_duration"
    )]
    pub max_backoff: Duration,
    /// Fraction of each wait that is random (0 = none, 1 = "full jitter"), so that many
    /// writers do not retry in lockstep.
    #[serde(default = "RetryConfig::default_jitter")]
    pub jitter: f64,
}

impl RetryConfig {
    const fn default_max_attempts() -> u32 {
        5
    }
    const fn default_base_backoff() -> Duration {
        Duration::from_millis(100)
    }
    const fn default_max_backoff() -> Duration {
        Duration::from_secs(5)
    }
    const fn default_jitter() -> f64 {
        0.5
    }

    /// The wait before retry number `retry` (1-based), jitter applied.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(30);
        let full = self
            .base_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let jitter = self.jitter.clamp(0.0, 1.0);
        full.mul_f64(1.0 - jitter * fastrand::f64())
    }
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: Self::default_max_attempts(),
            base_backoff: Self::default_base_backoff(),
            max_backoff: Self::default_max_backoff(),
            jitter: Self::default_jitter(),
        }
    }
}

/// What to do with an event field that has no column in the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownFields {
    /// Drop the field and write the rest.
    #[default]
    Ignore,
    /// Reject the event (it is dead-lettered naming the field).
    Error,
}

/// Where the write timestamp of each row comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteTimestamp {
    /// The event's (Kafka record's) timestamp, in microseconds, via `USING TIMESTAMP`: a
    /// replay rewrites identical cells and never overwrites a newer write.
    #[default]
    Event,
    /// The coordinator's clock at write time.
    Server,
}

/// A write consistency level, parsed case-insensitively from its CQL name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsistencyLevel(pub scylla::statement::Consistency);

impl ConsistencyLevel {
    const NAMES: [(&'static str, scylla::statement::Consistency); 9] = {
        use scylla::statement::Consistency as C;
        [
            ("any", C::Any),
            ("one", C::One),
            ("two", C::Two),
            ("three", C::Three),
            ("quorum", C::Quorum),
            ("all", C::All),
            ("local_quorum", C::LocalQuorum),
            ("each_quorum", C::EachQuorum),
            ("local_one", C::LocalOne),
        ]
    };

    /// Parses `local_quorum`, `LOCAL_QUORUM`, `Local-Quorum`, …
    pub fn parse(name: &str) -> Result<Self, String> {
        let wanted = name.trim().to_ascii_lowercase().replace('-', "_");
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == wanted)
            .map(|(_, c)| Self(*c))
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMES.iter().map(|(n, _)| *n).collect();
                format!(
                    "`{name}` is not a write consistency level; use one of {}",
                    names.join(", ")
                )
            })
    }
}

impl<'de> Deserialize<'de> for ConsistencyLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// A secret from the config: a literal, `env:NAME` or `file:PATH` (see
/// [`weir_core::secret`]). Its `Debug` never shows the value.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a literal secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret's value, read from the environment for `env:NAME`, from the file for
    /// `file:PATH`.
    pub fn resolve(&self) -> Result<String, String> {
        SecretRef::parse(&self.0)
            .resolve()
            .map_err(|e| e.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if SecretRef::parse(&self.0).is_reference() {
            write!(f, "Secret({})", self.0)
        } else {
            f.write_str("Secret(<redacted>)")
        }
    }
}

/// One problem in the sink configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Key path, e.g. `sink.retry.max_attempts`.
    pub key: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Every problem [`CassandraSinkConfig::validate`] found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Cassandra sink configuration:{}", list(.0))]
pub struct ConfigError(pub Vec<ConfigProblem>);

fn list(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("\n  - `{}`: {}", p.key, p.message))
        .collect()
}

/// Validated names, ready to splice into CQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The keyspace.
    pub keyspace: Ident,
    /// The table.
    pub table: Ident,
}

impl CassandraSinkConfig {
    /// A config with defaults for everything but the address and the names.
    pub fn new(nodes: Vec<String>, keyspace: &str, table: &str) -> Self {
        Self {
            nodes,
            keyspace: keyspace.into(),
            table: table.into(),
            create_schema: false,
            replication: default_replication(),
            consistency: ConsistencyLevel::default(),
            concurrency: default_concurrency(),
            unknown_fields: UnknownFields::default(),
            write_timestamp: WriteTimestamp::default(),
            retry: RetryConfig::default(),
            username: None,
            password: None,
            tls: None,
            request_timeout: default_request_timeout(),
            connect_timeout: default_connect_timeout(),
            outage_timeout: default_outage_timeout(),
        }
    }

    /// Checks every key; keys are reported under `prefix` (e.g. `sink`).
    pub fn validate(&self, prefix: &str) -> Result<Target, ConfigError> {
        let mut problems = Vec::new();
        let mut bad = |key: &str, message: String| {
            problems.push(ConfigProblem {
                key: format!("{prefix}.{key}"),
                message,
            })
        };
        if self.nodes.is_empty() {
            bad(
                "nodes",
                "is empty; list at least one contact point, e.g. [\"127.0.0.1:9042\"]".into(),
            );
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if let Err(why) = check_node(node) {
                bad(&format!("nodes[{i}]"), why);
            }
        }
        let keyspace = Ident::parse(&self.keyspace)
            .map_err(|why| bad("keyspace", format!("`{}` {why}", self.keyspace)))
            .ok();
        let table = Ident::parse(&self.table)
            .map_err(|why| bad("table", format!("`{}` {why}", self.table)))
            .ok();
        check_replication(&self.replication, &mut |k, m| {
            bad(&format!("replication.{k}"), m)
        });
        if self.concurrency == 0 {
            bad(
                "concurrency",
                "is 0; allow at least 1 write in flight (default 64)".into(),
            );
        }
        if self.retry.max_attempts == 0 {
            bad(
                "retry.max_attempts",
                "is 0; at least 1 attempt is needed (default 5)".into(),
            );
        }
        if self.retry.base_backoff > self.retry.max_backoff {
            bad(
                "retry.base_backoff",
                format!(
                    "{:?} exceeds retry.max_backoff {:?}; lower it or raise max_backoff",
                    self.retry.base_backoff, self.retry.max_backoff
                ),
            );
        }
        if !(0.0..=1.0).contains(&self.retry.jitter) {
            bad(
                "retry.jitter",
                format!("is {}; use a fraction from 0 to 1", self.retry.jitter),
            );
        }
        for (key, value) in [
            ("request_timeout", self.request_timeout),
            ("connect_timeout", self.connect_timeout),
            ("outage_timeout", self.outage_timeout),
        ] {
            if value.is_zero() {
                bad(key, "is 0; give a positive duration such as \"10s\"".into());
            }
        }
        match (&self.username, &self.password) {
            (Some(_), None) => bad(
                "password",
                "is missing while `username` is set; add it (`env:NAME` or `file:PATH` reads it from a variable or a file)".into(),
            ),
            (None, Some(_)) => bad(
                "username",
                "is missing while `password` is set; add it or remove the password".into(),
            ),
            (Some(_), Some(secret)) => {
                if let Err(why) = secret.resolve() {
                    bad("password", why);
                }
            }
            (None, None) => {}
        }
        if let Some(tls) = &self.tls {
            for (key, why) in tls.check() {
                bad(&format!("tls.{key}"), why);
            }
        }
        match (keyspace, table, problems.is_empty()) {
            (Some(keyspace), Some(table), true) => Ok(Target { keyspace, table }),
            _ => Err(ConfigError(problems)),
        }
    }

    /// The `{'class': …, …}` literal of `replication`, for `CREATE KEYSPACE`. Only meaningful
    /// after [`validate`](Self::validate), which restricts keys and values to safe characters.
    pub fn replication_literal(&self) -> String {
        let entries: Vec<String> = self
            .replication
            .iter()
            .map(|(k, v)| format!("'{k}': '{v}'"))
            .collect();
        format!("{{{}}}", entries.join(", "))
    }
}

fn check_node(node: &str) -> Result<(), String> {
    let Some((host, port)) = node.rsplit_once(':') else {
        return Err(format!(
            "`{node}` has no port; write host:port, e.g. \"127.0.0.1:9042\""
        ));
    };
    if host.is_empty() {
        return Err(format!("`{node}` has no host; write host:port"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(format!("`{port}` in `{node}` is not a port; use 1-65535")),
    }
}

fn check_replication(map: &BTreeMap<String, String>, bad: &mut impl FnMut(&str, String)) {
    let safe = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    };
    if !map.contains_key("class") {
        bad(
            "class",
            "is missing; set e.g. class = \"SimpleStrategy\", replication_factor = 1".into(),
        );
    }
    for (k, v) in map {
        if !safe(k) || !safe(v) {
            bad(
                k,
                format!("`{k} = {v}` may only use letters, digits, `_`, `.` and `-`"),
            );
        }
    }
}

fn default_replication() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("class".to_owned(), "SimpleStrategy".to_owned()),
        ("replication_factor".to_owned(), "1".to_owned()),
    ])
}

const fn default_concurrency() -> usize {
    64
}
const fn default_request_timeout() -> Duration {
    Duration::from_secs(12)
}
const fn default_connect_timeout() -> Duration {
    Duration::from_secs(5)
}
const fn default_outage_timeout() -> Duration {
    Duration::from_secs(600)
}

/// Replication values may be written as numbers (`replication_factor = 3`) or strings.
fn replication_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Int(u64),
        Text(String),
    }
    let raw = BTreeMap::<String, Scalar>::deserialize(d)?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| match v {
            Scalar::Int(n) => (k, n.to_string()),
            Scalar::Text(s) => (k, s),
        })
        .collect())
}

/// Durations as humantime strings (`"500ms"`, `"2s"`).
mod humantime_duration {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not a duration ({e}); write e.g. \"500ms\" or \"2s\""
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<CassandraSinkConfig, serde_json::Error> {
        serde_json::from_value(json)
    }

    #[test]
    fn defaults_fill_everything_but_nodes_and_names() {
        let c =
            parse(serde_json::json!({"nodes": ["127.0.0.1:9042"], "keyspace": "ks", "table": "t"}))
                .expect("minimal config parses");
        assert_eq!(c.consistency.0, scylla::statement::Consistency::LocalQuorum);
        assert_eq!(c.concurrency, 64);
        assert_eq!(c.write_timestamp, WriteTimestamp::Event);
        assert_eq!(c.unknown_fields, UnknownFields::Ignore);
        assert_eq!(
            c.replication_literal(),
            "{'class': 'SimpleStrategy', 'replication_factor': '1'}"
        );
        assert!(c.validate("sink").is_ok());
    }

    #[test]
    fn consistency_names_are_case_insensitive_and_errors_list_the_choices() {
        assert_eq!(
            ConsistencyLevel::parse("LOCAL_QUORUM").map(|c| c.0),
            Ok(scylla::statement::Consistency::LocalQuorum)
        );
        assert_eq!(
            ConsistencyLevel::parse("One").map(|c| c.0),
            Ok(scylla::statement::Consistency::One)
        );
        let err = parse(serde_json::json!({"nodes": ["a:1"], "keyspace": "k", "table": "t", "consistency": "most"}))
            .expect_err("unknown level");
        assert!(
            err.to_string()
                .contains("`most` is not a write consistency level; use one of any, one"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err =
            parse(serde_json::json!({"nodes": [], "keyspace": "k", "table": "t", "tabel": "x"}))
                .expect_err("typo");
        assert!(err.to_string().contains("tabel"), "{err}");
    }

    #[test]
    fn validate_reports_every_problem_with_its_key() {
        let mut c =
            CassandraSinkConfig::new(vec!["nohost".into(), "h:99999".into()], "bad-name", "");
        c.concurrency = 0;
        c.retry.max_attempts = 0;
        c.retry.jitter = 2.0;
        c.username = Some("u".into());
        c.replication.insert("dc1".into(), "3'; drop".into());
        let err = c.validate("sink").expect_err("invalid");
        let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "sink.nodes[0]",
                "sink.nodes[1]",
                "sink.keyspace",
                "sink.table",
                "sink.replication.dc1",
                "sink.concurrency",
                "sink.retry.max_attempts",
                "sink.retry.jitter",
                "sink.password",
            ]
        );
        assert!(
            err.to_string().contains("only letters, digits and `_`"),
            "{err}"
        );
    }

    #[test]
    fn tls_files_are_checked_by_validate_under_sink_tls() {
        let mut c = CassandraSinkConfig::new(vec!["127.0.0.1:9042".into()], "ks", "t");
        c.tls = Some(TlsConfig {
            ca_file: Some("/nonexistent/weir-ca.pem".into()),
            ..TlsConfig::default()
        });
        let err = c.validate("sink").expect_err("missing CA file");
        assert_eq!(err.0[0].key, "sink.tls.ca_file");
        assert!(
            err.0[0].message.contains("/nonexistent/weir-ca.pem"),
            "{err}"
        );
        let parsed =
            parse(serde_json::json!({"nodes": ["a:1"], "keyspace": "k", "table": "t", "tls": {}}))
                .expect("tls = {} parses");
        assert_eq!(parsed.tls, Some(TlsConfig::default()));
        assert!(parsed.tls.is_some_and(|t| t.verify_hostname));
        let typo = parse(serde_json::json!({"nodes": ["a:1"], "keyspace": "k", "table": "t", "tls": {"ca": "x"}}))
            .expect_err("unknown tls key");
        assert!(typo.to_string().contains("ca"), "{typo}");
    }

    #[test]
    fn passwords_never_show_in_debug_output_and_env_references_resolve() {
        let secret = Secret::new("hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
        let missing = Secret::new("env:WEIR_TEST_SURELY_UNSET_VARIABLE");
        assert!(
            missing
                .resolve()
                .expect_err("must fail")
                .contains("WEIR_TEST_SURELY_UNSET_VARIABLE")
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_only_shortens() {
        let r = RetryConfig {
            jitter: 0.0,
            ..RetryConfig::default()
        };
        assert_eq!(r.backoff(1), Duration::from_millis(100));
        assert_eq!(r.backoff(3), Duration::from_millis(400));
        assert_eq!(r.backoff(40), Duration::from_secs(5));
        let j = RetryConfig {
            jitter: 1.0,
            ..RetryConfig::default()
        };
        assert!(j.backoff(2) <= Duration::from_millis(200));
    }
}
