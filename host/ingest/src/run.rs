//! The ingest loop: runs on the schedule, each fetching batches within its limits and
//! producing them to Kafka before fetching the next, counting every outcome.

use crate::api::{ApiClient, FetchError, RequestTally};
use crate::args::{IngestConfig, RunLimits, Schedule, UserSourceConfig};
use crate::progress::Progress;
use crate::synthetic::SyntheticUsers;
use crate::topic::UserTopic;
use crate::user::MappedResponse;
use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::time::MissedTickBehavior;
use weir_kafka::{KafkaError, create_topics};

/// How many skip reasons the summary keeps (every one is logged).
const SKIP_SAMPLES: usize = 20;
/// Responses in a row without a usable user before a run gives up (each is a successful
/// request, so the retry budget does not bound them).
const MAX_UNUSABLE_RESPONSES: u32 = 5;

/// What `weir ingest` did, for the final report.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestSummary {
    /// Destination topic.
    pub topic: String,
    /// Users produced and acknowledged by Kafka.
    pub produced: u64,
    /// Results skipped because a field did not fit.
    pub skipped: u64,
    /// Requests that gave no usable response.
    pub failed_requests: u64,
    /// Requests that repeated a failed one.
    pub retries: u64,
    /// From start to return.
    pub elapsed: Duration,
    /// Produced users per second of `elapsed`.
    pub rate: f64,
    /// Runs started (1 without a schedule).
    pub runs: u64,
    /// Scheduled runs that ended in an error (logged; the schedule went on).
    pub failed_runs: u64,
    /// Every request's outcome.
    pub requests: RequestTally,
    /// The first skip reasons, e.g. `results[3].dob.date: missing`.
    pub skip_samples: Vec<String>,
}

impl fmt::Display for IngestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "produced {} users to `{}`, skipped {}, failed requests {}, retries {}, in {:.2}s ({:.0} users/s)",
            self.produced,
            self.topic,
            self.skipped,
            self.failed_requests,
            self.retries,
            self.elapsed.as_secs_f64(),
            self.rate
        )?;
        if self.failed_runs > 0 {
            write!(f, ", {} of {} runs failed", self.failed_runs, self.runs)?;
        }
        Ok(())
    }
}

/// Why ingesting stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// A batch could not be fetched within the retry budget.
    #[error("{source} ({produced} users were produced before)")]
    Fetch {
        /// Users produced before, in this run.
        produced: u64,
        /// Why (boxed: it carries the URL and the last failure).
        #[source]
        source: Box<FetchError>,
    },
    /// Responses kept coming without a single usable user.
    #[error(
        "{responses} responses in a row had no usable user (last: {last}); check that --url \
         serves randomuser.me-shaped results"
    )]
    NoUsableUsers {
        /// Responses in a row.
        responses: u32,
        /// The last skip reason.
        last: String,
    },
    /// Creating the topic, or producing to it, failed.
    #[error("Kafka topic `{topic}`: {source}; check --brokers and that the broker is up")]
    Kafka {
        /// The topic.
        topic: String,
        /// Why (boxed: librdkafka's errors are large).
        #[source]
        source: Box<KafkaError>,
    },
    /// A user could not be serialised (cannot happen for text fields; kept typed anyway).
    #[error("cannot serialise user {id}: {source}")]
    Encode {
        /// The user's id.
        id: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The cron expression has no next time.
    #[error("the --cron schedule has no next time after {after}: {reason}")]
    Schedule {
        /// When it was asked.
        after: String,
        /// croner's reason.
        reason: String,
    },
}

/// Where a run's users come from.
enum Users {
    Api(ApiClient),
    Synthetic(SyntheticUsers),
}

impl Users {
    fn new(config: &UserSourceConfig) -> Result<Self, IngestError> {
        Ok(match config {
            UserSourceConfig::Api {
                url,
                timeout,
                retry,
            } => Users::Api(
                ApiClient::new(url.clone(), *timeout, *retry).map_err(IngestError::HttpClient)?,
            ),
            UserSourceConfig::Synthetic { seed } => Users::Synthetic(SyntheticUsers::new(*seed)),
        })
    }

    async fn next(
        &mut self,
        n: u32,
        tally: &mut RequestTally,
    ) -> Result<MappedResponse, FetchError> {
        match self {
            Users::Api(client) => client.fetch(n, tally).await,
            Users::Synthetic(generator) => Ok(MappedResponse {
                users: generator.take_users(n as usize),
                skipped: Vec::new(),
            }),
        }
    }
}

/// Counters across runs.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub(crate) produced: u64,
    pub(crate) skipped: u64,
    pub(crate) requests: RequestTally,
    runs: u64,
    failed_runs: u64,
    skip_samples: Vec<String>,
}

impl Totals {
    fn summary(self, topic: &str, elapsed: Duration) -> IngestSummary {
        IngestSummary {
            topic: topic.to_owned(),
            produced: self.produced,
            skipped: self.skipped,
            failed_requests: self.requests.failed,
            retries: self.requests.retries,
            elapsed,
            rate: self.produced as f64 / elapsed.as_secs_f64().max(1e-9),
            runs: self.runs,
            failed_runs: self.failed_runs,
            requests: self.requests,
            skip_samples: self.skip_samples,
        }
    }
}

/// Ingests as `config` says until its runs are done or `stop` completes (a stopped run
/// abandons its current batch: it was not reported produced). Without a schedule, the run's
/// error is returned; on a schedule a failed run is logged and counted, and the next one
/// starts on time.
pub async fn ingest(
    config: &IngestConfig,
    stop: impl Future<Output = ()>,
) -> Result<IngestSummary, IngestError> {
    let started = Instant::now();
    if let Some(partitions) = config.create_topic {
        create_topics(
            &config.brokers,
            &config.properties,
            &[(&config.topic, partitions)],
        )
        .await
        .map_err(|source| IngestError::Kafka {
            topic: config.topic.clone(),
            source: Box::new(source),
        })?;
    }
    let topic = UserTopic::new(&config.brokers, &config.properties, &config.topic)?;
    let mut users = Users::new(&config.source)?;
    let mut totals = Totals::default();
    tokio::pin!(stop);
    let mut ticks = match &config.schedule {
        Schedule::Once => {
            tokio::select! {
                result = one_run(&mut users, &topic, &config.limits, &mut totals) => result?,
                () = &mut stop => tracing::info!("Stopped"),
            }
            return Ok(totals.summary(&config.topic, started.elapsed()));
        }
        Schedule::Every(interval) => {
            let mut ticker = tokio::time::interval(*interval);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
            Ticks::Every(ticker)
        }
        Schedule::Cron(cron) => Ticks::Cron(cron),
    };
    loop {
        tokio::select! {
            next = ticks.next() => next?,
            () = &mut stop => break,
        }
        tokio::select! {
            result = one_run(&mut users, &topic, &config.limits, &mut totals) => {
                if let Err(e) = result {
                    totals.failed_runs += 1;
                    tracing::error!("Run failed: {e}; the next one starts on schedule");
                }
            }
            () = &mut stop => break,
        }
    }
    tracing::info!("Stopped");
    Ok(totals.summary(&config.topic, started.elapsed()))
}

/// When scheduled runs start.
enum Ticks<'a> {
    Every(tokio::time::Interval),
    Cron(&'a croner::Cron),
}

impl Ticks<'_> {
    async fn next(&mut self) -> Result<(), IngestError> {
        match self {
            Ticks::Every(ticker) => {
                ticker.tick().await;
            }
            Ticks::Cron(cron) => {
                let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
                let next =
                    cron.find_next_occurrence(&now, false)
                        .map_err(|e| IngestError::Schedule {
                            after: now.to_rfc3339(),
                            reason: e.to_string(),
                        })?;
                tracing::info!("Next run at {}", next.to_rfc3339());
                tokio::time::sleep((next - now).to_std().unwrap_or_default()).await;
            }
        }
        Ok(())
    }
}

/// One run: batches until its count or duration is reached; one request without either.
async fn one_run(
    users: &mut Users,
    topic: &UserTopic,
    limits: &RunLimits,
    totals: &mut Totals,
) -> Result<(), IngestError> {
    totals.runs += 1;
    let single_request = limits.count.is_none() && limits.duration.is_none();
    let mut progress = Progress::start(
        limits
            .count
            .or(single_request.then_some(u64::from(limits.batch))),
    );
    let before = totals.produced;
    let result = batches(users, topic, limits, single_request, totals, &mut progress).await;
    progress.finish();
    let produced = totals.produced - before;
    match &result {
        Ok(()) => tracing::info!(produced, topic = topic.name(), "Run done"),
        Err(e) => tracing::warn!(produced, topic = topic.name(), "Run failed: {e}"),
    }
    result
}

async fn batches(
    users: &mut Users,
    topic: &UserTopic,
    limits: &RunLimits,
    single_request: bool,
    totals: &mut Totals,
    progress: &mut Progress,
) -> Result<(), IngestError> {
    let started = Instant::now();
    let deadline = limits.duration.map(|d| started + d);
    let passed = |deadline: Option<Instant>| deadline.is_some_and(|d| Instant::now() >= d);
    let mut produced = 0u64;
    let mut unusable_in_a_row = 0u32;
    loop {
        let mut want = u64::from(limits.batch);
        if let Some(count) = limits.count {
            want = want.min(count - produced);
        }
        if let Some(rate) = limits.rate {
            // Small batches at a low rate, so users are spread over the second.
            want = want.min((rate.ceil() as u64).max(1));
            let due = started + Duration::from_secs_f64(produced as f64 / rate);
            if deadline.is_some_and(|d| due >= d) {
                break;
            }
            tokio::time::sleep_until(due.into()).await;
        }
        if want == 0 || passed(deadline) {
            break;
        }
        // `want` is at most the batch size, a u32.
        let want32 = u32::try_from(want).unwrap_or(limits.batch);
        let fetch = users.next(want32, &mut totals.requests);
        let fetched = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline.into(), fetch).await {
                Ok(fetched) => fetched,
                Err(_) => break,
            },
            None => fetch.await,
        };
        let mut fetched = fetched.map_err(|source| IngestError::Fetch {
            produced,
            source: Box::new(source),
        })?;
        fetched.users.truncate(want as usize);
        for problem in &fetched.skipped {
            tracing::warn!("Skipped {problem}");
            if totals.skip_samples.len() < SKIP_SAMPLES {
                totals.skip_samples.push(problem.to_string());
            }
        }
        totals.skipped += fetched.skipped.len() as u64;
        if fetched.users.is_empty() && !single_request {
            unusable_in_a_row += 1;
            if unusable_in_a_row >= MAX_UNUSABLE_RESPONSES {
                return Err(IngestError::NoUsableUsers {
                    responses: unusable_in_a_row,
                    last: fetched
                        .skipped
                        .last()
                        .map_or_else(|| "no results".to_owned(), ToString::to_string),
                });
            }
            continue;
        }
        unusable_in_a_row = 0;
        topic.send(&fetched.users).await?;
        produced += fetched.users.len() as u64;
        totals.produced += fetched.users.len() as u64;
        progress.update(produced, totals);
        if single_request {
            break;
        }
    }
    Ok(())
}
