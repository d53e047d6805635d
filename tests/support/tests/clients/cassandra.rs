//! A scylla driver session as weir opens it.

use std::sync::Arc;
use std::time::Duration;

use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::errors::{DbError, ExecutionError, RequestAttemptError};
use scylla::policies::retry::FallthroughRetryPolicy;
use scylla::statement::Statement;

/// A session to `addr` that has reached schema agreement.
pub async fn session(addr: &str) -> Session {
    let session = SessionBuilder::new()
        .known_node(addr)
        .connection_timeout(Duration::from_secs(10))
        .build()
        .await
        .unwrap_or_else(|e| panic!("CQL session to {addr}: {e}"));
    session
        .await_schema_agreement()
        .await
        .expect("schema agreement");
    session
}

/// Creates a keyspace with the given replication factor (SimpleStrategy).
pub async fn create_keyspace(session: &Session, keyspace: &str, rf: u32) {
    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': {rf}}}"
            ),
            &[],
        )
        .await
        .expect("create keyspace");
}

/// An unprepared statement that is not retried by the driver, so a test sees the first error.
pub fn once(cql: impl Into<String>) -> Statement {
    let mut statement = Statement::new(cql.into());
    statement.set_retry_policy(Some(Arc::new(FallthroughRetryPolicy)));
    statement
}

/// The server error inside a driver error, if it is one.
pub fn db_error(error: &ExecutionError) -> Option<&DbError> {
    match error {
        ExecutionError::LastAttemptError(RequestAttemptError::DbError(db, _)) => Some(db),
        _ => None,
    }
}
