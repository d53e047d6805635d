//! The Kafka and Cassandra of sections 4 and 5: given (`--kafka`, `--cassandra`), or started
//! for this run through `weir-peers` and stopped (by their recorded pids) when dropped.

use std::path::Path;

/// Where the peers are, and the pair this run started, if it started one.
#[derive(Debug)]
pub struct PeerSet {
    /// Kafka bootstrap server, `host:port`.
    pub kafka: String,
    /// Cassandra contact point, `host:port`.
    pub cassandra: String,
    /// The Cassandra JVM, when known, to read its CPU time.
    pub cassandra_pid: Option<u32>,
    /// Dropping this stops the pair this run started.
    _started: Option<weir_peers::Peers>,
}

impl PeerSet {
    /// Peers already running elsewhere.
    pub fn given(kafka: String, cassandra: String, cassandra_pid: Option<u32>) -> Self {
        Self {
            kafka,
            cassandra,
            cassandra_pid,
            _started: None,
        }
    }

    /// A fresh pair for this run, its state under `scratch`. Its Cassandra syncs its commit
    /// log periodically, as Cassandra ships and replicated production clusters run; the
    /// tests' `batch` (a sync before every acknowledgement, so that a single node's kill -9
    /// loses nothing) measured less than half the events/s of section 5 with the same weir.
    pub fn start(scratch: &Path) -> Result<Self, String> {
        let options = weir_peers::PeersOptions {
            state_dir: scratch.join("peers"),
            commitlog_sync: weir_peers::CommitlogSync::Periodic,
            ..weir_peers::PeersOptions::default()
        };
        let mut peers = weir_peers::Peers::start(&options)
            .map_err(|e| format!("cannot start Kafka and Cassandra: {e}"))?;
        Ok(Self {
            kafka: peers.kafka_addr().to_string(),
            cassandra: peers.cassandra_addr().to_string(),
            cassandra_pid: peers.cassandra().pid().and_then(|p| u32::try_from(p).ok()),
            _started: Some(peers),
        })
    }
}
