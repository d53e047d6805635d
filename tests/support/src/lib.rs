//! Shared setup for every weir integration test: the real Kafka and Cassandra (one pair for
//! the whole test run, shared by all test binaries), unique names so tests isolate
//! themselves, waiting on a condition with a deadline, and fault injection.
//!
//! ```no_run
//! # async fn demo() {
//! let peers = weir_test_support::peers();
//! let topic = weir_test_support::unique_topic("orders");
//! let keyspace = weir_test_support::unique_keyspace("orders");
//! println!("{} {} {topic} {keyspace}", peers.kafka, peers.cassandra);
//! # }
//! ```

mod cql;
mod proxy;
mod shared;

use std::future::Future;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use cql::{CqlError, CqlFault};
pub use proxy::FaultProxy;
pub use shared::SupportError;

/// The command that starts the peers by hand, quoted in every failure.
pub const UP_COMMAND: &str = "eval \"$(cargo run --release -p weir-peers -- up)\"";

/// Where the two servers are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAddrs {
    /// Kafka bootstrap server, `host:port`.
    pub kafka: String,
    /// Cassandra contact point, `host:port`.
    pub cassandra: String,
}

/// The peers for this test run, starting them on first use; panics (failing the test) with
/// the reason and the command to start them by hand when they cannot be had.
///
/// `WEIR_TEST_KAFKA` and `WEIR_TEST_CASSANDRA` (`host:port`) take precedence, so a suite can
/// run against `weir-peers up` or an external cluster. Otherwise one pair is started for all
/// test processes of the run (see [`try_peers`]).
pub fn peers() -> &'static PeerAddrs {
    static PEERS: OnceLock<Result<PeerAddrs, String>> = OnceLock::new();
    match PEERS.get_or_init(|| try_peers().map_err(|e| e.to_string())) {
        Ok(addrs) => addrs,
        Err(e) => {
            panic!("no Kafka/Cassandra peers for this test: {e}\nstart them with: {UP_COMMAND}")
        }
    }
}

/// Like [`peers`] but returns the error. Without the environment variables, takes the state
/// dir's lock, registers this process as a client, and reuses the recorded pair if it answers;
/// otherwise starts `weir-peers serve --idle-exit 15`, a detached supervisor that stops the
/// pair once no registered test process has been alive for 15 s.
pub fn try_peers() -> Result<PeerAddrs, SupportError> {
    let kafka = std::env::var("WEIR_TEST_KAFKA")
        .ok()
        .filter(|s| !s.is_empty());
    let cassandra = std::env::var("WEIR_TEST_CASSANDRA")
        .ok()
        .filter(|s| !s.is_empty());
    match (kafka, cassandra) {
        (Some(kafka), Some(cassandra)) => Ok(PeerAddrs { kafka, cassandra }),
        (None, None) => shared::shared_pair(&weir_peers::default_state_dir()),
        _ => Err(SupportError::HalfConfigured),
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_suffix() -> String {
    format!(
        "{}_{}_{:04x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        fastrand::u16(..)
    )
}

/// A topic name no other test (in this or another process) uses: `prefix-<pid>-<n>-<rand>`.
pub fn unique_topic(prefix: &str) -> String {
    let clean: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{clean}-{}", unique_suffix().replace('_', "-"))
}

/// A keyspace name no other test uses, valid unquoted in CQL (lower case, `_`, at most 48
/// characters): `prefix_<pid>_<n>_<rand>`.
pub fn unique_keyspace(prefix: &str) -> String {
    let suffix = unique_suffix();
    let room = 48usize.saturating_sub(suffix.len() + 1);
    let clean: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(room)
        .collect();
    let clean = if clean.starts_with(|c: char| c.is_ascii_alphabetic()) {
        clean
    } else {
        format!(
            "k{}",
            clean
                .chars()
                .take(room.saturating_sub(1))
                .collect::<String>()
        )
    };
    format!("{clean}_{suffix}")
}

/// The condition did not hold before the deadline.
#[derive(Debug, thiserror::Error)]
#[error("condition `{what}` still false after {waited:?}")]
pub struct TimedOut {
    /// What was waited for.
    pub what: String,
    /// How long.
    pub waited: Duration,
}

/// Polls `condition` (every 50 ms) until it is true or `within` has passed: the way tests
/// wait, instead of sleeping a fixed time.
pub async fn wait_until<F, Fut>(
    within: Duration,
    what: &str,
    mut condition: F,
) -> Result<(), TimedOut>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if condition().await {
            return Ok(());
        }
        if started.elapsed() >= within {
            return Err(TimedOut {
                what: what.to_string(),
                waited: started.elapsed(),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
