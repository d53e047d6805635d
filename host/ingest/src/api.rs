//! The HTTP side: one request for `?results=N` users, retried with exponential backoff and
//! jitter on connection errors, timeouts, 429 (honouring `Retry-After`), 5xx and bodies that
//! are not randomuser documents, within a budget of attempts and time. Every attempt's
//! outcome is counted in [`RequestTally`].

use crate::user::{MappedResponse, ResponseProblem, map_response};
use reqwest::header::RETRY_AFTER;
use reqwest::{StatusCode, Url};
use std::fmt;
use std::time::{Duration, Instant};

/// How long and how often one batch is retried before giving up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Most attempts for one batch, the first included.
    pub max_attempts: u32,
    /// Most time spent on one batch, waits included; a wait that would pass it is not made.
    pub max_elapsed: Duration,
    /// Wait before the first retry; doubles with each further one (jittered).
    pub base_delay: Duration,
    /// The longest backoff wait (a server's `Retry-After` may ask for more, within budget).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            max_elapsed: Duration::from_secs(120),
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (1 for the first): `base * 2^(retry-1)`,
    /// capped at `max_delay`, then jittered into its upper half so clients that failed
    /// together do not come back together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(20);
        let full = self
            .base_delay
            .saturating_mul(1 << exponent)
            .min(self.max_delay);
        let half = full / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// What happened to every request, across batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestTally {
    /// Requests made.
    pub requests: u64,
    /// Requests that did not give a usable response (each one retried or given up on).
    pub failed: u64,
    /// Requests that were repeats of a failed one.
    pub retries: u64,
    /// Of the failed: connection errors.
    pub connection_errors: u64,
    /// Of the failed: no complete response within `--timeout`.
    pub timeouts: u64,
    /// Of the failed: 429 Too Many Requests.
    pub throttled: u64,
    /// Of the failed: 5xx.
    pub server_errors: u64,
    /// Of the failed: a body that is not a randomuser document.
    pub malformed: u64,
}

/// Why one attempt gave no users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptFailure {
    /// No connection, or it broke.
    Connection(String),
    /// No complete response within the timeout.
    Timeout(Duration),
    /// 429, with the server's `Retry-After` if it sent seconds.
    Throttled(Option<Duration>),
    /// A 5xx status.
    ServerError(StatusCode),
    /// A 2xx whose body is not a randomuser document.
    Malformed(ResponseProblem),
}

impl fmt::Display for AttemptFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connection(reason) => write!(f, "connection failed: {reason}"),
            Self::Timeout(after) => write!(f, "no complete response within {after:?}"),
            Self::Throttled(Some(wait)) => {
                write!(f, "429 Too Many Requests (Retry-After {}s)", wait.as_secs())
            }
            Self::Throttled(None) => write!(f, "429 Too Many Requests"),
            Self::ServerError(status) => write!(f, "server error {status}"),
            Self::Malformed(problem) => write!(f, "unusable response: {problem}"),
        }
    }
}

/// A batch could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Every attempt the budget allowed failed.
    #[error(
        "gave up on {url} after {attempts} attempt(s) in {elapsed:.1?}: {last}; raise --retry-budget, \
         or check that the API is reachable"
    )]
    GaveUp {
        /// The URL requested.
        url: Url,
        /// Attempts made.
        attempts: u32,
        /// Time spent on this batch.
        elapsed: Duration,
        /// The last attempt's failure.
        last: AttemptFailure,
    },
    /// The server answered a status that a retry cannot fix (a 4xx other than 429).
    #[error("{url} answered {status}: {body}; check --url")]
    Refused {
        /// The URL requested.
        url: Url,
        /// The status.
        status: StatusCode,
        /// The start of the body, for the reason.
        body: String,
    },
}

/// A client for a randomuser.me-compatible API. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    url: Url,
    timeout: Duration,
    retry: RetryPolicy,
}

impl ApiClient {
    /// A client for `url`; `timeout` bounds each attempt (connect to last body byte).
    pub fn new(url: Url, timeout: Duration, retry: RetryPolicy) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("weir-ingest/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            url,
            timeout,
            retry,
        })
    }

    /// The API's URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Fetches `results` users, retrying within the budget; counts every attempt in `tally`.
    pub async fn fetch(
        &self,
        results: u32,
        tally: &mut RequestTally,
    ) -> Result<MappedResponse, FetchError> {
        let mut url = self.url.clone();
        url.query_pairs_mut()
            .append_pair("results", &results.to_string());
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            tally.requests += 1;
            if attempts > 1 {
                tally.retries += 1;
            }
            let failure = match self.attempt(&url).await {
                Ok(Ok(mapped)) => return Ok(mapped),
                Ok(Err(failure)) => failure,
                Err(refused) => return Err(refused),
            };
            count_failure(&failure, tally);
            let wait = match &failure {
                AttemptFailure::Throttled(Some(asked)) => *asked,
                _ => self.retry.backoff(attempts),
            };
            let give_up = attempts >= self.retry.max_attempts
                || started.elapsed() + wait > self.retry.max_elapsed;
            if give_up {
                return Err(FetchError::GaveUp {
                    url,
                    attempts,
                    elapsed: started.elapsed(),
                    last: failure,
                });
            }
            tracing::warn!(url = %url, attempt = attempts, "{failure}; retrying in {wait:.1?}");
            tokio::time::sleep(wait).await;
        }
    }

    /// One request. `Err` only for an answer a retry cannot change.
    async fn attempt(
        &self,
        url: &Url,
    ) -> Result<Result<MappedResponse, AttemptFailure>, FetchError> {
        let response = match self.http.get(url.clone()).send().await {
            Ok(response) => response,
            Err(e) => return Ok(Err(self.transport_failure(&e))),
        };
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(e) => return Ok(Err(self.transport_failure(&e))),
        };
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Ok(Err(AttemptFailure::Throttled(retry_after)));
        }
        if status.is_server_error() {
            return Ok(Err(AttemptFailure::ServerError(status)));
        }
        if !status.is_success() {
            return Err(FetchError::Refused {
                url: url.clone(),
                status,
                body: String::from_utf8_lossy(&body).chars().take(200).collect(),
            });
        }
        Ok(map_response(&body).map_err(AttemptFailure::Malformed))
    }

    fn transport_failure(&self, error: &reqwest::Error) -> AttemptFailure {
        if error.is_timeout() {
            AttemptFailure::Timeout(self.timeout)
        } else {
            AttemptFailure::Connection(error_chain(error))
        }
    }
}

fn count_failure(failure: &AttemptFailure, tally: &mut RequestTally) {
    tally.failed += 1;
    let counter = match failure {
        AttemptFailure::Connection(_) => &mut tally.connection_errors,
        AttemptFailure::Timeout(_) => &mut tally.timeouts,
        AttemptFailure::Throttled(_) => &mut tally.throttled,
        AttemptFailure::ServerError(_) => &mut tally.server_errors,
        AttemptFailure::Malformed(_) => &mut tally.malformed,
    };
    *counter += 1;
}

/// `Retry-After` in seconds; the HTTP-date form falls back to the backoff.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// reqwest's message with its causes ("error sending request: connection refused").
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_into_the_upper_half() {
        let policy = RetryPolicy {
            max_attempts: 10,
            max_elapsed: Duration::from_secs(60),
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for _ in 0..100 {
            let first = policy.backoff(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = policy.backoff(3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            let capped = policy.backoff(30);
            assert!(capped >= Duration::from_millis(500) && capped <= Duration::from_millis(1000));
        }
    }

    #[test]
    fn retry_after_seconds_are_read_and_dates_fall_back_to_backoff() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(RETRY_AFTER, "3".parse().expect("header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().expect("header"),
        );
        assert_eq!(retry_after(&headers), None);
    }
}
