//! The running sink: one prepared INSERT, events written concurrently up to the configured
//! bound, each its own execution (never a multi-partition batch), retried within a budget.

use crate::config::{CassandraSinkConfig, Target, WriteTimestamp};
use crate::error::{CassandraError, session_unreachable};
use crate::metrics::SinkMetrics;
use crate::retry::{Verdict, classify, label};
use crate::row::{RowValues, insert_statement, row_values};
use crate::schema::{TableSchema, create_schema, read_table_schema};
use futures::StreamExt;
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::errors::ExecutionError;
use scylla::policies::retry::FallthroughRetryPolicy;
use scylla::statement::prepared::PreparedStatement;
use std::sync::Arc;
use std::time::Instant;
use weir_core::{BoxError, ErrorClass, Event, Failure, Sink, Stage, WriteResults};

/// Writes events as rows of one table. Build it with [`CassandraSink::connect`].
pub struct CassandraSink {
    session: Arc<Session>,
    insert: PreparedStatement,
    schema: TableSchema,
    config: CassandraSinkConfig,
    metrics: Arc<SinkMetrics>,
}

/// Opens a driver session as configured: contact points, credentials, TLS, consistency,
/// request timeout, and the driver's own retries switched off (the sink retries, and counts).
pub async fn connect_session(config: &CassandraSinkConfig) -> Result<Session, CassandraError> {
    let target = config.validate("sink")?;
    let profile = ExecutionProfile::builder()
        .consistency(config.consistency.0)
        .request_timeout(Some(config.request_timeout))
        .retry_policy(Arc::new(FallthroughRetryPolicy::new()))
        .build();
    let mut builder = SessionBuilder::new()
        .known_nodes(&config.nodes)
        .connection_timeout(config.connect_timeout)
        .default_execution_profile_handle(profile.into_handle())
        .keyspaces_to_fetch([target.keyspace.as_str().to_owned()]);
    if let (Some(user), Some(secret)) = (&config.username, &config.password) {
        // `validate` has already checked that the secret resolves.
        let password = secret.resolve().map_err(|reason| CassandraError::Connect {
            nodes: config.nodes.join(", "),
            reason,
            unreachable: false,
        })?;
        builder = builder.user(user, password);
    }
    if let Some(tls) = &config.tls {
        // `validate` has already built it once; the files may have changed since.
        let context = tls.context().map_err(|reason| CassandraError::Connect {
            nodes: config.nodes.join(", "),
            reason,
            unreachable: false,
        })?;
        builder = builder.tls_context(Some(context));
    }
    builder.build().await.map_err(|e| CassandraError::Connect {
        nodes: config.nodes.join(", "),
        reason: e.to_string(),
        unreachable: session_unreachable(&e),
    })
}

impl CassandraSink {
    /// Validates `config`, connects, creates the schema if asked to, reads the table's real
    /// schema and prepares the INSERT. A cluster that cannot be reached yet (still starting,
    /// restarting) is waited for, with the retry backoff, up to `outage_timeout`, as during
    /// writes; a refusal (credentials, TLS, schema) fails at once.
    pub async fn connect(config: CassandraSinkConfig) -> Result<Self, CassandraError> {
        let started = Instant::now();
        let mut waits = 0u32;
        loop {
            let attempt = async {
                let session = Arc::new(connect_session(&config).await?);
                Self::with_session(session, config.clone()).await
            };
            let error = match attempt.await {
                Ok(sink) => return Ok(sink),
                Err(error) if error.is_unreachable() => error,
                Err(error) => return Err(error),
            };
            let waited = started.elapsed();
            if waited >= config.outage_timeout {
                return Err(CassandraError::Outage(
                    config.outage_timeout,
                    error.to_string(),
                ));
            }
            waits += 1;
            let wait = config
                .retry
                .backoff(waits)
                .min(config.outage_timeout - waited);
            tracing::warn!(
                nodes = %config.nodes.join(","),
                waited = ?waited,
                retry_in = ?wait,
                %error,
                "Cassandra not reachable yet; waiting (gives up after `sink.outage_timeout`)"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Like [`connect`](Self::connect), on an existing session (shared with other users).
    pub async fn with_session(
        session: Arc<Session>,
        config: CassandraSinkConfig,
    ) -> Result<Self, CassandraError> {
        let target: Target = config.validate("sink")?;
        if config.create_schema {
            create_schema(&session, &config, &target).await?;
        }
        let schema = read_table_schema(&session, &target).await?;
        let statement = insert_statement(&schema, config.write_timestamp == WriteTimestamp::Event);
        let mut insert =
            session
                .prepare(statement.as_str())
                .await
                .map_err(|e| CassandraError::Prepare {
                    statement: statement.clone(),
                    source: Box::new(e),
                })?;
        // Every execution writes the same cells with the same (or a server) timestamp.
        insert.set_is_idempotent(true);
        tracing::info!(
            keyspace = %schema.keyspace,
            table = %schema.table,
            columns = schema.columns.len(),
            consistency = %config.consistency.0,
            concurrency = config.concurrency,
            "Cassandra sink ready"
        );
        Ok(Self {
            session,
            insert,
            schema,
            config,
            metrics: Arc::new(SinkMetrics::default()),
        })
    }

    /// The counters of this sink, to export.
    pub fn metrics(&self) -> Arc<SinkMetrics> {
        Arc::clone(&self.metrics)
    }

    /// The table schema read at start.
    pub fn schema(&self) -> &TableSchema {
        &self.schema
    }

    /// The driver session (for reading back, validation, or sharing).
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// Writes one row, retrying retryable errors within the budget and waiting out a full
    /// outage up to `outage_timeout`. `Ok(Err(_))` is this event's failure; `Err` stops the
    /// sink.
    async fn write_row(&self, values: RowValues) -> Result<Result<(), Failure>, CassandraError> {
        let retry = &self.config.retry;
        let mut attempts = 0u32;
        let mut budget_used = 0u32;
        let mut outage: Option<(Instant, u32)> = None;
        loop {
            attempts += 1;
            let started = Instant::now();
            let error = match self.session.execute_unpaged(&self.insert, &values).await {
                Ok(_) => {
                    self.metrics.write_succeeded(started.elapsed());
                    return Ok(Ok(()));
                }
                Err(error) => error,
            };
            let verdict = match classify(&error) {
                Verdict::Connection if self.no_node_connected() => None,
                Verdict::Connection => Some(Verdict::Retry),
                other => Some(other),
            };
            let wait = match verdict {
                Some(Verdict::Reject) => {
                    self.metrics.rejected();
                    return Ok(Err(self.failure(
                        ErrorClass::SinkRejected,
                        attempts,
                        &error,
                    )));
                }
                Some(_) => {
                    outage = None;
                    budget_used += 1;
                    if budget_used >= retry.max_attempts {
                        self.metrics.exhausted();
                        tracing::warn!(attempts, kind = label(&error), %error, "Cassandra write retries exhausted");
                        return Ok(Err(self.failure(
                            ErrorClass::SinkRetriesExhausted,
                            attempts,
                            &error,
                        )));
                    }
                    retry.backoff(budget_used)
                }
                None => {
                    // No node at all: dead-lettering would empty the topic into the DLQ, so
                    // wait for the cluster instead, without spending the event's budget.
                    let (since, waits) = outage.get_or_insert((Instant::now(), 0));
                    if since.elapsed() >= self.config.outage_timeout {
                        return Err(CassandraError::Outage(
                            self.config.outage_timeout,
                            error.to_string(),
                        ));
                    }
                    *waits += 1;
                    retry.backoff(*waits)
                }
            };
            self.metrics.retried();
            tracing::debug!(attempts, ?wait, kind = label(&error), %error, "retrying Cassandra write");
            tokio::time::sleep(wait).await;
        }
    }

    fn no_node_connected(&self) -> bool {
        !self
            .session
            .get_cluster_state()
            .get_nodes_info()
            .iter()
            .any(|node| node.is_connected())
    }

    fn failure(&self, class: ErrorClass, attempts: u32, error: &ExecutionError) -> Failure {
        let message = match class {
            ErrorClass::SinkRetriesExhausted => {
                format!(
                    "Cassandra write failed after {attempts} attempts; last error ({}): {error}",
                    label(error)
                )
            }
            _ => format!("Cassandra refused the write ({}): {error}", label(error)),
        };
        Failure {
            stage: Stage::Sink,
            class,
            field: None,
            message,
            attempts,
        }
    }

    async fn write_batch(&self, batch: Vec<Event>) -> Result<WriteResults, CassandraError> {
        let event_timestamp = self.config.write_timestamp == WriteTimestamp::Event;
        let mut results: WriteResults = Vec::with_capacity(batch.len());
        let mut rows = Vec::new();
        for (index, event) in batch.iter().enumerate() {
            match row_values(
                &self.schema,
                self.config.unknown_fields,
                event,
                event_timestamp,
            ) {
                Ok(values) => {
                    results.push(Ok(()));
                    rows.push((index, values));
                }
                Err(failure) => {
                    self.metrics.rejected();
                    results.push(Err(failure));
                }
            }
        }
        let mut written = futures::stream::iter(rows)
            .map(|(index, values)| async move { (index, self.write_row(values).await) })
            .buffer_unordered(self.config.concurrency);
        while let Some((index, outcome)) = written.next().await {
            let outcome = outcome?;
            if let Some(slot) = results.get_mut(index) {
                *slot = outcome;
            }
        }
        Ok(results)
    }
}

impl Sink for CassandraSink {
    async fn write(&mut self, batch: Vec<Event>) -> Result<WriteResults, BoxError> {
        self.write_batch(batch).await.map_err(BoxError::from)
    }
}
