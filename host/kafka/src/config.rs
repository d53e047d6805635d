//! Configuration of the Kafka source and the dead-letter topic: serde structs with defaults
//! in one place, checked once by `validate()`, each problem naming its key and the fix.

use rdkafka::ClientConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;
use weir_core::secret::{SecretError, SecretRef};

/// librdkafka properties weir sets itself; a `properties` entry may not override them,
/// because the at-least-once guarantee depends on their values.
const RESERVED_SOURCE: [(&str, &str); 5] = [
    ("bootstrap.servers", "set `brokers` instead"),
    ("group.id", "set `group_id` instead"),
    ("auto.offset.reset", "set `auto_offset_reset` instead"),
    (
        "enable.auto.commit",
        "remove it: weir commits only what the sink acknowledged",
    ),
    (
        "enable.auto.offset.store",
        "remove it: weir never stores offsets on poll",
    ),
];

/// Properties the producer relies on for no-loss, no-duplicate delivery of dead letters.
const RESERVED_PRODUCER: [(&str, &str); 3] = [
    ("bootstrap.servers", "set `brokers` instead"),
    (
        "enable.idempotence",
        "remove it: dead letters are always produced idempotently",
    ),
    (
        "acks",
        "remove it: dead letters always wait for all in-sync replicas",
    ),
];

/// One problem in a configuration: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}`: {problem}; {fix}")]
pub struct ConfigProblem {
    /// Key path, relative to the component's table (for example `properties."sasl.password"`).
    pub key: String,
    /// What is wrong.
    pub problem: String,
    /// What to do about it.
    pub fix: String,
}

impl ConfigProblem {
    fn new(key: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// The same problem with its key under `prefix` (such as `source`), for the CLI.
    pub fn under(mut self, prefix: &str) -> Self {
        self.key = format!("{prefix}.{}", self.key);
        self
    }
}

/// Every problem found in one configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ConfigProblems(pub Vec<ConfigProblem>);

impl ConfigProblems {
    fn into_result(self) -> Result<(), ConfigProblems> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// Bootstrap brokers, `host:port` each. Accepts a list or one comma-separated string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Brokers(pub Vec<String>);

impl Brokers {
    /// Parses `host:port[,host:port...]`, ignoring blanks around commas.
    pub fn parse(text: &str) -> Self {
        Self(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// The comma-separated form librdkafka's `bootstrap.servers` takes.
    pub fn bootstrap_servers(&self) -> String {
        self.0.join(",")
    }

    fn problems(&self, key: &str) -> Vec<ConfigProblem> {
        if self.0.is_empty() {
            return vec![ConfigProblem::new(
                key,
                "no broker given",
                "give at least one `host:port`, e.g. \"127.0.0.1:9092\"",
            )];
        }
        self.0
            .iter()
            .enumerate()
            .filter(|(_, b)| {
                let port = b
                    .rsplit_once(':')
                    .map(|(host, port)| (host, port.parse::<u16>()));
                !matches!(port, Some((host, Ok(_))) if !host.is_empty())
            })
            .map(|(i, b)| {
                ConfigProblem::new(
                    format!("{key}[{i}]"),
                    format!("`{b}` is not `host:port`"),
                    "write it as e.g. \"kafka-1:9092\"",
                )
            })
            .collect()
    }
}

impl<'de> Deserialize<'de> for Brokers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            One(String),
            Many(Vec<String>),
        }
        Ok(match Form::deserialize(deserializer)? {
            Form::One(text) => Brokers::parse(&text),
            Form::Many(list) => Brokers(list.iter().flat_map(|s| Brokers::parse(s).0).collect()),
        })
    }
}

/// Where a consumer group with no committed offset starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AutoOffsetReset {
    /// From the oldest record still in the partition (no event is skipped).
    #[default]
    Earliest,
    /// Only records produced after the group first joined.
    Latest,
}

impl AutoOffsetReset {
    fn as_str(self) -> &'static str {
        match self {
            Self::Earliest => "earliest",
            Self::Latest => "latest",
        }
    }
}

/// One librdkafka property value. Numbers and booleans are accepted for convenience and
/// passed on as text; `env:NAME` is read from the environment variable `NAME` and
/// `file:PATH` from a file when the client is built, so secrets stay out of config files.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum PropertyValue {
    /// Text, `env:NAME` or `file:PATH`.
    Text(String),
    /// An integer, e.g. `session.timeout.ms = 10000`.
    Integer(i64),
    /// A boolean, e.g. `enable.ssl.certificate.verification = false`.
    Bool(bool),
}

impl PropertyValue {
    /// The value as written (without resolving `env:` or `file:`).
    fn literal(&self) -> String {
        match self {
            Self::Text(s) => s.clone(),
            Self::Integer(i) => i.to_string(),
            Self::Bool(b) => b.to_string(),
        }
    }

    /// Where the value comes from: a literal, a variable or a file.
    fn secret_ref(&self) -> Option<SecretRef<'_>> {
        match self {
            Self::Text(s) => Some(SecretRef::parse(s)).filter(|r| r.is_reference()),
            _ => None,
        }
    }

    /// The value, read from its variable or file for `env:` and `file:`.
    fn resolve(&self) -> Result<String, SecretError> {
        match self.secret_ref() {
            Some(reference) => reference.resolve(),
            None => Ok(self.literal()),
        }
    }
}

/// Extra librdkafka properties (SASL, TLS, timeouts…), passed through as given.
///
/// Values of keys containing `password`, `secret` or `sasl` are never printed: `Debug`
/// shows them as `<redacted>` (an `env:NAME` or `file:PATH` reference is shown, since it is
/// not a secret).
#[derive(Clone, PartialEq, Default, Deserialize)]
pub struct Properties(pub BTreeMap<String, PropertyValue>);

/// Whether a property's value must never appear in logs or errors.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "secret", "sasl"]
        .iter()
        .any(|word| key.contains(word))
}

impl fmt::Debug for Properties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, value) in &self.0 {
            if value.secret_ref().is_some() || !is_secret_key(key) {
                map.entry(key, &value.literal());
            } else {
                map.entry(key, &"<redacted>");
            }
        }
        map.finish()
    }
}

impl Properties {
    fn problems(&self, reserved: &[(&str, &str)]) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        for (key, value) in &self.0 {
            let path = format!("properties.\"{key}\"");
            if let Some((_, fix)) = reserved.iter().find(|(r, _)| r == key) {
                problems.push(ConfigProblem::new(
                    &path,
                    "weir sets this property itself",
                    *fix,
                ));
            }
            if let Some(Err(why)) = value.secret_ref().map(SecretRef::resolve) {
                problems.push(ConfigProblem::new(&path, why.problem, why.fix));
            }
        }
        problems
    }

    /// `text` with every secret property's value (resolved from `env:` and `file:` too)
    /// replaced by `<redacted>`: librdkafka quotes values in its errors.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (key, value) in &self.0 {
            if !is_secret_key(key) {
                continue;
            }
            if let Some(secret) = value.resolve().ok().filter(|v| !v.is_empty()) {
                out = out.replace(&secret, "<redacted>");
            }
        }
        out
    }

    /// Applies every property to `config`, reading `env:` and `file:` values.
    fn apply(&self, config: &mut ClientConfig) -> Result<(), ConfigProblem> {
        for (key, value) in &self.0 {
            let resolved = value.resolve().map_err(|why| {
                ConfigProblem::new(format!("properties.\"{key}\""), why.problem, why.fix)
            })?;
            config.set(key, resolved);
        }
        Ok(())
    }

    /// Checks the properties of a producer (`weir ingest`'s): `env:`/`file:` references
    /// resolve, and none overrides what keeps delivery idempotent.
    pub fn validate_for_producer(&self) -> Result<(), ConfigProblems> {
        ConfigProblems(self.problems(&RESERVED_PRODUCER)).into_result()
    }
}

/// Settings of the Kafka source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSourceConfig {
    /// Bootstrap brokers: a list of `host:port`, or one comma-separated string.
    pub brokers: Brokers,
    /// Consumer group id; processes sharing it share the partitions.
    pub group_id: String,
    /// Topics to consume. An entry starting with `^` is a regular expression (librdkafka
    /// syntax) matched against every topic, including ones created later.
    pub topics: Vec<String>,
    /// Where a group without a committed offset starts: `earliest` (default) or `latest`.
    #[serde(default)]
    pub auto_offset_reset: AutoOffsetReset,
    /// Any other librdkafka consumer property (SASL, TLS, timeouts). A value `env:NAME` is
    /// read from environment variable `NAME`. Properties that weir sets itself are refused.
    #[serde(default)]
    pub properties: Properties,
    /// How often acknowledged progress is committed, as a duration (`"1s"`, `"500ms"`).
    #[serde(default = "default_commit_interval", with = "duration")]
    pub commit_interval: Duration,
    /// On a rebalance, how long revoked partitions wait for the pipeline to finish the
    /// events it holds before committing what is done (`"0s"`: commit at once). Keep it well
    /// below `max.poll.interval.ms`: the consumer does not poll while it waits.
    #[serde(default = "default_revoke_drain_timeout", with = "duration")]
    pub revoke_drain_timeout: Duration,
    /// Most records held between the consumer and the pipeline; when reached, the consumer
    /// pauses its partitions (staying in the group) until half of them are taken.
    #[serde(default = "default_max_buffered_events")]
    pub max_buffered_events: usize,
    /// End the source once every partition assigned to it has reached the end offset it had
    /// when first assigned ("drain what is there now, then stop"), instead of waiting for
    /// new records forever. Records produced later are left for the next run.
    #[serde(default)]
    pub stop_at_end: bool,
}

fn default_commit_interval() -> Duration {
    Duration::from_secs(1)
}

fn default_revoke_drain_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_max_buffered_events() -> usize {
    10_000
}

impl KafkaSourceConfig {
    /// A config with the defaults, for programs and tests that build one in code.
    pub fn new(brokers: Brokers, group_id: impl Into<String>, topics: Vec<String>) -> Self {
        Self {
            brokers,
            group_id: group_id.into(),
            topics,
            auto_offset_reset: AutoOffsetReset::default(),
            properties: Properties::default(),
            commit_interval: default_commit_interval(),
            revoke_drain_timeout: default_revoke_drain_timeout(),
            max_buffered_events: default_max_buffered_events(),
            stop_at_end: false,
        }
    }

    /// Checks what the types cannot; returns every problem, each with its key and the fix.
    pub fn validate(&self) -> Result<(), ConfigProblems> {
        let mut problems = self.brokers.problems("brokers");
        if self.group_id.trim().is_empty() {
            problems.push(ConfigProblem::new(
                "group_id",
                "is empty",
                "name the consumer group, e.g. \"weir-users\"",
            ));
        }
        if self.topics.is_empty() {
            problems.push(ConfigProblem::new(
                "topics",
                "no topic given",
                "list at least one topic, or a pattern starting with `^`",
            ));
        }
        for (i, topic) in self.topics.iter().enumerate() {
            if topic.trim().is_empty() || topic == "^" {
                problems.push(ConfigProblem::new(
                    format!("topics[{i}]"),
                    "is empty",
                    "give a topic name or a pattern such as \"^users-.*\"",
                ));
            } else if !topic.starts_with('^') && topic.chars().any(char::is_whitespace) {
                problems.push(ConfigProblem::new(
                    format!("topics[{i}]"),
                    format!("`{topic}` contains whitespace"),
                    "topic names are letters, digits, `.`, `_` and `-`",
                ));
            }
        }
        if self.commit_interval.is_zero() {
            problems.push(ConfigProblem::new(
                "commit_interval",
                "is 0",
                "give an interval such as \"1s\"",
            ));
        }
        if self.max_buffered_events == 0 {
            problems.push(ConfigProblem::new(
                "max_buffered_events",
                "is 0",
                "give a bound such as 10000 (at least the pipeline's batch size)",
            ));
        }
        problems.extend(self.properties.problems(&RESERVED_SOURCE));
        ConfigProblems(problems).into_result()
    }

    /// The librdkafka consumer configuration. Never log it: it holds resolved secrets.
    pub(crate) fn client_config(&self) -> Result<ClientConfig, ConfigProblem> {
        let mut config = ClientConfig::new();
        // Statistics carry the consumer lag per partition for metrics; a property may change
        // the interval ("0" turns them off).
        config.set("statistics.interval.ms", "5000");
        self.properties.apply(&mut config)?;
        config
            .set("bootstrap.servers", self.brokers.bootstrap_servers())
            .set("group.id", &self.group_id)
            .set("auto.offset.reset", self.auto_offset_reset.as_str())
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // With `stop_at_end`, the end-of-partition reports help decide when to stop.
            .set("enable.partition.eof", self.stop_at_end.to_string());
        Ok(config)
    }
}

/// Settings of the dead-letter topic.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterConfig {
    /// Topic the dead letters are written to.
    pub topic: String,
    /// Brokers of the dead-letter topic; the source's brokers when absent.
    #[serde(default)]
    pub brokers: Option<Brokers>,
    /// Any other librdkafka producer property (SASL, TLS…); `env:NAME` reads a variable.
    #[serde(default)]
    pub properties: Properties,
}

impl DeadLetterConfig {
    /// Checks what the types cannot; returns every problem, each with its key and the fix.
    pub fn validate(&self) -> Result<(), ConfigProblems> {
        let mut problems = Vec::new();
        if self.topic.trim().is_empty() {
            problems.push(ConfigProblem::new(
                "topic",
                "is empty",
                "name the dead-letter topic, e.g. \"weir-dead-letters\"",
            ));
        }
        if let Some(brokers) = &self.brokers {
            problems.extend(brokers.problems("brokers"));
        }
        problems.extend(self.properties.problems(&RESERVED_PRODUCER));
        ConfigProblems(problems).into_result()
    }
}

/// The librdkafka configuration of weir's producers: idempotent, `acks=all`.
pub(crate) fn producer_config(
    brokers: &Brokers,
    properties: &Properties,
) -> Result<ClientConfig, ConfigProblem> {
    let mut config = ClientConfig::new();
    properties.apply(&mut config)?;
    config
        .set("bootstrap.servers", brokers.bootstrap_servers())
        .set("enable.idempotence", "true")
        .set("acks", "all");
    Ok(config)
}

/// Durations as humantime strings (`"500ms"`, `"2s"`).
mod duration {
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

    fn parse(text: &str) -> KafkaSourceConfig {
        toml::from_str(text).expect("config parses")
    }

    #[test]
    fn defaults_fill_everything_but_brokers_group_and_topics() {
        let c = parse("brokers = \"a:1, b:2\"\ngroup_id = \"g\"\ntopics = [\"t\", \"^u-.*\"]");
        assert_eq!(c.brokers, Brokers(vec!["a:1".into(), "b:2".into()]));
        assert_eq!(c.auto_offset_reset, AutoOffsetReset::Earliest);
        assert_eq!(c.commit_interval, Duration::from_secs(1));
        assert_eq!(c.max_buffered_events, 10_000);
        assert!(!c.stop_at_end, "a source runs until stopped unless asked");
        c.validate().expect("valid");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<KafkaSourceConfig>(
            "brokers = [\"a:1\"]\ngroup_id = \"g\"\ntopics = [\"t\"]\ngroupid = \"x\"",
        )
        .expect_err("unknown key");
        assert!(err.to_string().contains("groupid"), "{err}");
    }

    #[test]
    fn validate_reports_every_problem_with_its_key() {
        let c = parse(
            "brokers = [\"nope\"]\ngroup_id = \"\"\ntopics = []\ncommit_interval = \"0s\"\n\
             max_buffered_events = 0\n[properties]\n\"enable.auto.commit\" = true\n\
             \"sasl.password\" = \"env:WEIR_TEST_SURELY_UNSET_VARIABLE\"",
        );
        let problems = c.validate().expect_err("invalid").0;
        let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "brokers[0]",
                "group_id",
                "topics",
                "commit_interval",
                "max_buffered_events",
                "properties.\"enable.auto.commit\"",
                "properties.\"sasl.password\"",
            ]
        );
        assert!(
            problems[6]
                .fix
                .contains("export WEIR_TEST_SURELY_UNSET_VARIABLE")
        );
    }

    #[test]
    fn secret_property_values_are_never_printed() {
        let c = parse(
            "brokers = \"a:1\"\ngroup_id = \"g\"\ntopics = [\"t\"]\n[properties]\n\
             \"sasl.password\" = \"hunter2\"\n\"ssl.key.password\" = \"env:KEY_PW\"\n\
             \"session.timeout.ms\" = 6000",
        );
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("env:KEY_PW"), "{shown}");
        assert!(shown.contains("6000"), "{shown}");
        let error = "Invalid value \"hunter2\" for configuration property \"sasl.password\"";
        assert!(!c.properties.redact(error).contains("hunter2"));
    }

    #[test]
    fn dead_letter_config_refuses_weakening_delivery() {
        let c: DeadLetterConfig =
            toml::from_str("topic = \"dlq\"\n[properties]\nacks = \"1\"").expect("parses");
        let problems = c.validate().expect_err("acks refused").0;
        assert_eq!(problems[0].key, "properties.\"acks\"");
    }
}
