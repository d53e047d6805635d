//! Errors that stop the sink as a whole. Problems with one event are not errors but
//! [`weir_core::Failure`]s in the write results.

use crate::config::ConfigError;
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
    #[error("cannot read Cassandra schema metadata: {0}")]
    Metadata(String),
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
    /// No node was reachable for longer than `outage_timeout`.
    #[error("no Cassandra node reachable for {0:?} (`sink.outage_timeout`); last error: {1}")]
    Outage(Duration, String),
}
