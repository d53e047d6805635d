//! The `weir ingest` flags, and their validation into an [`IngestConfig`] the rest of the
//! crate trusts. Every problem names the flag and the fix.

use crate::api::RetryPolicy;
use clap::Args;
use croner::Cron;
use reqwest::Url;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;
use weir_kafka::{Brokers, Properties, PropertyValue};

/// The public API the Airflow DAG polled.
pub const DEFAULT_URL: &str = "https://randomuser.me/api/";
/// randomuser.me serves at most this many results per request.
pub const MAX_BATCH: u32 = 5000;

/// `weir ingest`: fetch users from a randomuser.me-compatible API (or generate them) and
/// produce each to Kafka, keyed by its id; once, or on a schedule until stopped.
#[derive(Debug, Clone, Args)]
pub struct IngestArgs {
    /// The randomuser.me-compatible API; `?results=N` is appended.
    #[arg(long, default_value = DEFAULT_URL, conflicts_with = "synthetic")]
    pub url: String,
    /// Users per request (`?results=N`), 1 to 5000.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub batch: u32,
    /// Users to produce per run. Without --count and --for, a run is one request.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Most users produced per second.
    #[arg(long, value_name = "EVENTS_PER_S")]
    pub rate: Option<f64>,
    /// How long a run lasts, e.g. `60s` (no new request starts after it).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
    pub for_duration: Option<Duration>,
    /// Run every INTERVAL (e.g. `1d`), the first run at once, until stopped.
    #[arg(long, value_name = "INTERVAL", value_parser = parse_duration, conflicts_with = "cron")]
    pub every: Option<Duration>,
    /// Run at the times of a cron expression (UTC; `0 0 * * *`, `@daily`), until stopped.
    #[arg(long, value_name = "EXPR")]
    pub cron: Option<String>,
    /// Kafka bootstrap servers, `host:port[,host:port...]`.
    #[arg(long, default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// A librdkafka producer property, `KEY=VALUE` (repeatable), e.g. for SASL or TLS:
    /// `--kafka-property sasl.password=env:KAFKA_PASSWORD`. A value `env:NAME` or
    /// `file:PATH` is read from that variable or file; secret values are never printed.
    #[arg(long = "kafka-property", value_name = "KEY=VALUE")]
    pub kafka_properties: Vec<String>,
    /// Topic the users are produced to.
    #[arg(long, default_value = "user.created.v1")]
    pub topic: String,
    /// Generate realistic users locally instead of calling the API (no network).
    #[arg(long)]
    pub synthetic: bool,
    /// Seed of --synthetic (default 0): one seed, one sequence of users.
    #[arg(long, value_name = "S", requires = "synthetic")]
    pub seed: Option<u64>,
    /// Most time one request may take, connection to last byte.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Retry budget of one request: attempts, total time, or both (`5`, `2m`, `5,2m`).
    #[arg(long, value_name = "ATTEMPTS,TIME", default_value = "5,2m")]
    pub retry_budget: String,
    /// Create the topic first if it does not exist.
    #[arg(long)]
    pub create_topic: bool,
    /// Partitions of a topic created by --create-topic.
    #[arg(long, value_name = "N", default_value_t = 3, requires = "create_topic")]
    pub partitions: i32,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text)
        .map_err(|e| format!("{e}; write e.g. `500ms`, `60s`, `1h` or `1d`"))
}

/// Where users come from.
#[derive(Debug, Clone, PartialEq)]
pub enum UserSourceConfig {
    /// A randomuser.me-compatible API.
    Api {
        /// The URL, without `results`.
        url: Url,
        /// Bound of one attempt.
        timeout: Duration,
        /// Retries of one batch.
        retry: RetryPolicy,
    },
    /// The local generator.
    Synthetic {
        /// Its seed.
        seed: u64,
    },
}

/// When runs start.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// One run, then return.
    Once,
    /// A run at once, then one every interval (a late run starts at once, missed ones are
    /// skipped), until stopped.
    Every(Duration),
    /// A run at each time of the expression (UTC), until stopped.
    Cron(Box<Cron>),
}

/// What one run produces before it ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunLimits {
    /// Users per request.
    pub batch: u32,
    /// Users per run; `None` with a `duration` runs until it passes.
    pub count: Option<u64>,
    /// Length of a run.
    pub duration: Option<Duration>,
    /// Most users per second.
    pub rate: Option<f64>,
}

/// Validated `weir ingest` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestConfig {
    /// Where users come from.
    pub source: UserSourceConfig,
    /// How much a run produces.
    pub limits: RunLimits,
    /// When runs start.
    pub schedule: Schedule,
    /// Kafka.
    pub brokers: Brokers,
    /// Extra producer (and topic creation) properties: SASL, TLS, tuning.
    pub properties: Properties,
    /// Destination topic.
    pub topic: String,
    /// Create the topic with this many partitions first.
    pub create_topic: Option<i32>,
}

/// One invalid flag: which, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgProblem {
    /// The flag, e.g. `--batch`.
    pub flag: &'static str,
    /// What is wrong.
    pub problem: String,
    /// What to do.
    pub fix: String,
}

/// Every problem found in the flags.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ArgProblems(pub Vec<ArgProblem>);

impl fmt::Display for ArgProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid `weir ingest` arguments:")?;
        for p in &self.0 {
            write!(f, "\n  {}: {}; {}", p.flag, p.problem, p.fix)?;
        }
        Ok(())
    }
}

/// A retry budget: attempts and time, from `5`, `2m` or `5,2m`.
fn parse_retry_budget(text: &str) -> Result<(Option<u32>, Option<Duration>), String> {
    let mut attempts = None;
    let mut time = None;
    for part in text
        .split([',', '/'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if let Ok(n) = part.parse::<u32>() {
            attempts = Some(n);
        } else {
            time = Some(humantime::parse_duration(part).map_err(|e| format!("`{part}`: {e}"))?);
        }
    }
    if attempts.is_none() && time.is_none() {
        return Err("is empty".into());
    }
    Ok((attempts, time))
}

impl IngestArgs {
    /// The `--kafka-property` flags as properties; each malformed or unusable one is a problem.
    fn properties(&self, problem: &mut impl FnMut(&'static str, String, &str)) -> Properties {
        let mut properties = Properties::default();
        for flag in &self.kafka_properties {
            match flag.split_once('=') {
                Some((key, value)) if !key.trim().is_empty() => {
                    properties
                        .0
                        .insert(key.trim().to_owned(), PropertyValue::Text(value.to_owned()));
                }
                // The flag may hold a secret: name only its key part.
                _ => problem(
                    "--kafka-property",
                    format!(
                        "`{}` is not KEY=VALUE",
                        flag.split_once('=').map_or("…", |(k, _)| k)
                    ),
                    "write e.g. `sasl.mechanism=PLAIN`",
                ),
            }
        }
        if let Err(problems) = properties.validate_for_producer() {
            for p in problems.0 {
                problem(
                    "--kafka-property",
                    format!("`{}`: {}", p.key, p.problem),
                    &p.fix,
                );
            }
        }
        properties
    }

    /// Checks everything clap cannot and builds the config; returns every problem at once.
    pub fn validate(&self) -> Result<IngestConfig, ArgProblems> {
        let mut problems = Vec::new();
        let mut problem = |flag, problem: String, fix: &str| {
            problems.push(ArgProblem {
                flag,
                problem,
                fix: fix.to_owned(),
            });
        };
        if !(1..=MAX_BATCH).contains(&self.batch) {
            problem(
                "--batch",
                format!("{} is out of range", self.batch),
                "give 1 to 5000",
            );
        }
        if self.count == Some(0) {
            problem("--count", "is 0".into(), "give at least 1, or leave it out");
        }
        if let Some(rate) = self.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            problem(
                "--rate",
                format!("{rate} is not a positive number"),
                "give e.g. 100",
            );
        }
        if self.for_duration.is_some_and(|d| d.is_zero()) {
            problem("--for", "is 0".into(), "give a duration such as `60s`");
        }
        if self.every.is_some_and(|d| d.is_zero()) {
            problem("--every", "is 0".into(), "give an interval such as `1d`");
        }
        if self.timeout.is_zero() {
            problem("--timeout", "is 0".into(), "give a duration such as `10s`");
        }
        let cron = match &self.cron {
            Some(expr) => match Cron::from_str(expr) {
                Ok(cron) => Some(cron),
                Err(e) => {
                    problem(
                        "--cron",
                        format!("`{expr}` is not a cron expression ({e})"),
                        "write five fields such as `0 0 * * *`, or `@daily`",
                    );
                    None
                }
            },
            None => None,
        };
        let brokers = Brokers::parse(&self.brokers);
        if brokers.0.is_empty() {
            problem("--brokers", "is empty".into(), "give e.g. `127.0.0.1:9092`");
        }
        for broker in &brokers.0 {
            let fine = broker
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !fine {
                problem(
                    "--brokers",
                    format!("`{broker}` is not `host:port`"),
                    "write e.g. `kafka-1:9092`",
                );
            }
        }
        let properties = self.properties(&mut problem);
        let topic_fine = !self.topic.is_empty()
            && self.topic.len() <= 249
            && self
                .topic
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !topic_fine {
            problem(
                "--topic",
                format!("`{}` is not a Kafka topic name", self.topic),
                "use letters, digits, `.`, `_` and `-`, e.g. `user.created.v1`",
            );
        }
        if self.partitions < 1 {
            problem(
                "--partitions",
                format!("{} is below 1", self.partitions),
                "give 1 or more",
            );
        }
        let mut retry = RetryPolicy::default();
        match parse_retry_budget(&self.retry_budget) {
            Ok((attempts, time)) => {
                if attempts == Some(0) || time.is_some_and(|t| t.is_zero()) {
                    problem(
                        "--retry-budget",
                        "allows no attempt".into(),
                        "give e.g. `5,2m`",
                    );
                }
                retry.max_attempts = attempts.unwrap_or(u32::MAX);
                retry.max_elapsed = time.unwrap_or(Duration::MAX);
            }
            Err(e) => problem(
                "--retry-budget",
                format!("`{}` {e}", self.retry_budget),
                "give attempts, a time or both: `5`, `2m`, `5,2m`",
            ),
        }
        let source = if self.synthetic {
            UserSourceConfig::Synthetic {
                seed: self.seed.unwrap_or(0),
            }
        } else {
            match Url::parse(&self.url) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => UserSourceConfig::Api {
                    url,
                    timeout: self.timeout,
                    retry,
                },
                Ok(url) => {
                    problem(
                        "--url",
                        format!("scheme `{}` is not http(s)", url.scheme()),
                        "give an http:// or https:// URL",
                    );
                    UserSourceConfig::Synthetic { seed: 0 }
                }
                Err(e) => {
                    problem(
                        "--url",
                        format!("`{}` is not a URL ({e})", self.url),
                        "give e.g. `https://randomuser.me/api/`",
                    );
                    UserSourceConfig::Synthetic { seed: 0 }
                }
            }
        };
        if !problems.is_empty() {
            return Err(ArgProblems(problems));
        }
        let schedule = match (self.every, cron) {
            (Some(every), _) => Schedule::Every(every),
            (None, Some(cron)) => Schedule::Cron(Box::new(cron)),
            (None, None) => Schedule::Once,
        };
        Ok(IngestConfig {
            source,
            limits: RunLimits {
                batch: self.batch,
                count: self.count,
                duration: self.for_duration,
                rate: self.rate,
            },
            schedule,
            brokers,
            properties,
            topic: self.topic.clone(),
            create_topic: self.create_topic.then_some(self.partitions),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        ingest: IngestArgs,
    }

    fn parse(args: &[&str]) -> Result<IngestArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("ingest").chain(args.iter().copied()))
            .map(|cli| cli.ingest)
    }

    fn config(args: &[&str]) -> IngestConfig {
        parse(args).expect("parses").validate().expect("valid")
    }

    fn problems(args: &[&str]) -> Vec<&'static str> {
        let problems = parse(args)
            .expect("parses")
            .validate()
            .expect_err("invalid");
        problems.0.iter().map(|p| p.flag).collect()
    }

    #[test]
    fn no_flags_is_one_request_of_50_from_randomuser_to_user_created_v1() {
        let c = config(&[]);
        assert_eq!(c.schedule, Schedule::Once);
        assert_eq!(c.topic, "user.created.v1");
        assert_eq!(c.limits.batch, 50);
        assert_eq!(c.create_topic, None);
        let UserSourceConfig::Api {
            url,
            timeout,
            retry,
        } = c.source
        else {
            panic!("the API is the default source");
        };
        assert_eq!(url.as_str(), DEFAULT_URL);
        assert_eq!(timeout, Duration::from_secs(10));
        assert_eq!(
            (retry.max_attempts, retry.max_elapsed),
            (5, Duration::from_secs(120))
        );
    }

    #[test]
    fn the_dags_daily_minute_is_every_1d_for_60s() {
        let c = config(&["--every", "1d", "--for", "60s"]);
        assert_eq!(c.schedule, Schedule::Every(Duration::from_secs(86_400)));
        assert_eq!(c.limits.duration, Some(Duration::from_secs(60)));
        let c = config(&["--cron", "@daily", "--for", "60s"]);
        assert!(matches!(c.schedule, Schedule::Cron(_)));
    }

    #[test]
    fn synthetic_takes_a_seed_and_refuses_a_url() {
        let c = config(&["--synthetic", "--seed", "7", "--count", "100"]);
        assert_eq!(c.source, UserSourceConfig::Synthetic { seed: 7 });
        assert!(parse(&["--seed", "7"]).is_err(), "--seed needs --synthetic");
        assert!(parse(&["--synthetic", "--url", "http://x/"]).is_err());
    }

    #[test]
    fn the_retry_budget_takes_attempts_time_or_both() {
        let retry = |budget: &str| match config(&["--retry-budget", budget]).source {
            UserSourceConfig::Api { retry, .. } => (retry.max_attempts, retry.max_elapsed),
            other => panic!("{other:?}"),
        };
        assert_eq!(retry("3"), (3, Duration::MAX));
        assert_eq!(retry("30s"), (u32::MAX, Duration::from_secs(30)));
        assert_eq!(retry("3,30s"), (3, Duration::from_secs(30)));
        assert_eq!(retry("3/30s"), (3, Duration::from_secs(30)));
    }

    #[test]
    fn every_invalid_flag_is_named_at_once() {
        assert_eq!(
            problems(&[
                "--batch",
                "0",
                "--count",
                "0",
                "--rate",
                "0",
                "--for",
                "0s",
                "--cron",
                "not cron",
                "--brokers",
                "kafka",
                "--topic",
                "users topic",
                "--retry-budget",
                "soon",
                "--url",
                "ftp://x/",
            ]),
            [
                "--batch",
                "--count",
                "--rate",
                "--for",
                "--cron",
                "--brokers",
                "--topic",
                "--retry-budget",
                "--url"
            ]
        );
    }

    #[test]
    fn every_and_cron_exclude_each_other_and_partitions_need_create_topic() {
        assert!(parse(&["--every", "1h", "--cron", "@daily"]).is_err());
        assert!(parse(&["--partitions", "3"]).is_err());
        assert_eq!(config(&["--create-topic"]).create_topic, Some(3));
        assert_eq!(
            config(&["--create-topic", "--partitions", "1"]).create_topic,
            Some(1)
        );
    }

    #[test]
    fn kafka_properties_are_key_value_pairs_whose_secrets_resolve_and_never_show() {
        let c = config(&[
            "--kafka-property",
            "security.protocol=SASL_PLAINTEXT",
            "--kafka-property",
            "sasl.password=hunter2",
        ]);
        assert_eq!(c.properties.0.len(), 2);
        assert!(!format!("{c:?}").contains("hunter2"));
        let err = parse(&[
            "--kafka-property",
            "hunter2",
            "--kafka-property",
            "acks=1",
            "--kafka-property",
            "sasl.password=env:WEIR_TEST_SURELY_UNSET_VARIABLE",
        ])
        .expect("parses")
        .validate()
        .expect_err("invalid");
        assert_eq!(err.0.len(), 3, "{err}");
        assert!(err.0.iter().all(|p| p.flag == "--kafka-property"));
        let shown = err.to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("export WEIR_TEST_SURELY_UNSET_VARIABLE"),
            "{shown}"
        );
    }

    #[test]
    fn a_malformed_duration_names_the_flag_and_an_example() {
        let err = parse(&["--every", "daily"])
            .expect_err("not a duration")
            .to_string();
        assert!(err.contains("--every") && err.contains("1d"), "{err}");
    }
}
