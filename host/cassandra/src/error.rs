//! Errors that stop the sink as a whole. Problems with one event are not errors but
//! [`weir_core::Failure`]s in the write results.

use crate::config::ConfigError;
use crate::retry::{Verdict, classify, classify_attempt};
use scylla::errors::{
    ConnectionError, ConnectionPoolError, MetadataError, NewSessionError, PrepareError,
};
use std::time::Duration;

/// Why the Cassandra sink cannot start or cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum CassandraError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No session could be opened.
    #[error(
        "cannot connect to Cassandra at {nodes}: {reason}; check `sink.nodes`, that the cluster is up and reachable, the credentials, and `sink.tls` (set it when the nodes require TLS; its `ca_file` must hold the CA that signed their certificates)"
    )]
    Connect {
        /// The configured contact points.
        nodes: String,
        /// The driver's explanation.
        reason: String,
        /// Nothing answered (refused or timed out), as while a node is still starting;
        /// credentials or TLS that a node refused are not this.
        unreachable: bool,
    },
    /// A schema statement (`create_schema`) failed.
    #[error("Cassandra refused `{statement}`: {source}")]
    Schema {
        /// The CQL statement.
        statement: String,
        /// The driver's error.
        source: Box<scylla::errors::ExecutionError>,
    },
    /// The nodes did not agree on the schema in time.
    #[error("the Cassandra nodes did not agree on the schema: {0}; check that every node is up")]
    SchemaAgreement(String),
    /// Schema metadata could not be read.
    #[error("cannot read Cassandra schema metadata: {reason}")]
    Metadata {
        /// The driver's explanation.
        reason: String,
        /// The control connection was lost.
        unreachable: bool,
    },
    /// The keyspace does not exist.
    #[error("keyspace `{0}` does not exist; create it or set `sink.create_schema = true`")]
    NoKeyspace(String),
    /// The table does not exist.
    #[error(
        "table `{keyspace}.{table}` does not exist; create it or set `sink.create_schema = true`"
    )]
    NoTable {
        /// The keyspace.
        keyspace: String,
        /// The table.
        table: String,
    },
    /// Reading the table back failed.
    #[error("cannot read back with `{statement}`: {reason}")]
    Read {
        /// The CQL statement.
        statement: String,
        /// The driver's explanation.
        reason: String,
    },
    /// The INSERT could not be prepared.
    #[error("cannot prepare `{statement}`: {source}")]
    Prepare {
        /// The CQL statement.
        statement: String,
        /// The driver's error.
        source: Box<scylla::errors::PrepareError>,
    },
    /// No node was reachable for longer than `outage_timeout` (at start or while writing).
    #[error("no Cassandra node reachable for {0:?} (`sink.outage_timeout`); last error: {1}")]
    Outage(Duration, String),
}

impl CassandraError {
    /// Whether the cluster could not be reached (not listening yet, restarting, a dropped
    /// connection, overloaded or bootstrapping): worth waiting for at start-up. A refusal
    /// that will not change by waiting (credentials, TLS, a bad statement, a missing table)
    /// is not.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::Connect { unreachable, .. } | Self::Metadata { unreachable, .. } => *unreachable,
            Self::Schema { source, .. } => classify(source) != Verdict::Reject,
            Self::Prepare { source, .. } => match source.as_ref() {
                PrepareError::ConnectionPoolError(_) => true,
                PrepareError::AllAttemptsFailed { first_attempt } => {
                    classify_attempt(first_attempt) != Verdict::Reject
                }
                _ => false,
            },
            _ => false,
        }
    }
}

/// Whether a failed session start means nothing answered: the last connection attempt was
/// refused or timed out. A reset or end of stream after connecting is not counted: that is
/// how a node that requires TLS drops a plaintext client.
pub(crate) fn session_unreachable(error: &NewSessionError) -> bool {
    let NewSessionError::MetadataError(MetadataError::ConnectionPoolError(
        ConnectionPoolError::Broken {
            last_connection_error,
        },
    )) = error
    else {
        return false;
    };
    match last_connection_error {
        ConnectionError::ConnectTimeout => true,
        ConnectionError::IoError(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
        _ => false,
    }
}

/// Whether refreshing the metadata failed because the control connection is gone.
pub(crate) fn metadata_unreachable(error: &MetadataError) -> bool {
    matches!(error, MetadataError::ConnectionPoolError(_))
}
