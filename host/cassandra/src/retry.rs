//! Which driver errors are worth another attempt. Retrying is this crate's job, not the
//! driver's (its retry policy is switched off), so every retry is counted, logged and
//! bounded by one budget.

use scylla::errors::{DbError, ExecutionError, RequestAttemptError};

/// What to do after a failed write attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The cluster answered but could not take the write now (overload, timeouts,
    /// unavailable replicas): retry within the event's budget.
    Retry,
    /// The attempt never reached a working node. Whether this is an outage (no node
    /// connected) or one bad connection is decided by the caller.
    Connection,
    /// The write itself is wrong (invalid, unauthorized, type error): do not retry.
    Reject,
}

/// Sorts a driver error into a [`Verdict`].
pub(crate) fn classify(error: &ExecutionError) -> Verdict {
    match error {
        ExecutionError::RequestTimeout(_) => Verdict::Retry,
        ExecutionError::ConnectionPoolError(_) | ExecutionError::EmptyPlan => Verdict::Connection,
        ExecutionError::LastAttemptError(attempt) => classify_attempt(attempt),
        ExecutionError::MetadataError(_) | ExecutionError::SchemaAgreementError(_) => {
            Verdict::Retry
        }
        _ => Verdict::Reject,
    }
}

pub(crate) fn classify_attempt(error: &RequestAttemptError) -> Verdict {
    match error {
        RequestAttemptError::BrokenConnectionError(_)
        | RequestAttemptError::UnableToAllocStreamId => Verdict::Connection,
        RequestAttemptError::DbError(
            DbError::Overloaded
            | DbError::Unavailable { .. }
            | DbError::WriteTimeout { .. }
            | DbError::ReadTimeout { .. }
            | DbError::WriteFailure { .. }
            | DbError::IsBootstrapping
            | DbError::TruncateError
            | DbError::RateLimitReached { .. }
            | DbError::ServerError,
            _,
        ) => Verdict::Retry,
        _ => Verdict::Reject,
    }
}

/// A short stable name for the kind of a driver error, for messages, logs and metrics.
pub(crate) fn label(error: &ExecutionError) -> &'static str {
    match error {
        ExecutionError::RequestTimeout(_) => "client-timeout",
        ExecutionError::ConnectionPoolError(_) | ExecutionError::EmptyPlan => "no-connection",
        ExecutionError::LastAttemptError(RequestAttemptError::BrokenConnectionError(_)) => {
            "connection-broken"
        }
        ExecutionError::LastAttemptError(RequestAttemptError::DbError(db, _)) => match db {
            DbError::Overloaded => "overloaded",
            DbError::Unavailable { .. } => "unavailable",
            DbError::WriteTimeout { .. } => "write-timeout",
            DbError::ReadTimeout { .. } => "read-timeout",
            DbError::WriteFailure { .. } => "write-failure",
            DbError::IsBootstrapping => "bootstrapping",
            DbError::RateLimitReached { .. } => "rate-limited",
            DbError::ServerError => "server-error",
            DbError::Invalid => "invalid",
            DbError::Unauthorized => "unauthorized",
            _ => "server-refused",
        },
        ExecutionError::BadQuery(_) => "bad-query",
        _ => "driver-error",
    }
}
