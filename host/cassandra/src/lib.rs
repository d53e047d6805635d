//! weir's Cassandra (and ScyllaDB) sink.
//!
//! The table's real schema is read from the cluster at start; each event's JSON fields are
//! mapped to columns by name and converted to the column's CQL type. Events are written with
//! one prepared INSERT, concurrently up to `concurrency`, each its own execution, with the
//! Kafka record timestamp as the write timestamp so a replay is an idempotent overwrite.
//! An event that cannot be written (not JSON, a missing key, a value that does not convert,
//! a write the cluster refuses or keeps failing past the retry budget) comes back as a
//! [`weir_core::Failure`] for the dead-letter topic; its neighbours are written. A cluster
//! that is unreachable as a whole is waited for (up to `outage_timeout`), never dead-lettered.
//!
//! ```no_run
//! # async fn demo() -> Result<(), weir_cassandra::CassandraError> {
//! use weir_cassandra::{CassandraSink, CassandraSinkConfig};
//! let mut config = CassandraSinkConfig::new(vec!["127.0.0.1:9042".into()], "demo", "users");
//! config.create_schema = true;
//! let sink = CassandraSink::connect(config).await?;
//! println!("writing {} columns", sink.schema().columns.len());
//! # Ok(()) }
//! ```

mod config;
mod convert;
mod error;
mod ident;
mod metrics;
mod read;
mod retry;
mod row;
mod schema;
mod sink;
mod tls;

pub use config::{
    CassandraSinkConfig, ConfigError, ConfigProblem, ConsistencyLevel, RetryConfig, Secret, Target,
    UnknownFields, WriteTimestamp,
};
pub use convert::{ConvertError, cql_type_name, to_cql};
pub use error::CassandraError;
pub use ident::{Ident, quote};
pub use metrics::{LATENCY_BUCKETS_SECONDS, SinkMetrics, SinkMetricsSnapshot};
pub use read::{count_rows, sample_rows};
pub use schema::{
    Column, ENRICHER_COLUMNS, ExpectedField, FieldKind, SchemaProblem, TableSchema, check_fields,
    create_schema, enricher_fields, read_table_schema, validate_against_table,
};
pub use sink::{CassandraSink, connect_session};
pub use tls::TlsConfig;
