//! librdkafka's own logs and errors, routed into `tracing` so they reach weir's log output
//! (text or JSON) with everything else.

use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;

/// Forwards one librdkafka log line to `tracing`.
pub(crate) fn forward(level: RDKafkaLogLevel, facility: &str, message: &str) {
    match level {
        RDKafkaLogLevel::Emerg
        | RDKafkaLogLevel::Alert
        | RDKafkaLogLevel::Critical
        | RDKafkaLogLevel::Error => tracing::error!(target: "librdkafka", facility, "{message}"),
        RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", facility, "{message}"),
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
            tracing::info!(target: "librdkafka", facility, "{message}")
        }
        RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, "{message}"),
    }
}

/// Client-level errors (broker down, authentication failed): librdkafka retries most of
/// them, so they are warnings; fatal ones also surface through `poll` or delivery results.
pub(crate) fn client_error(error: &rdkafka::error::KafkaError, reason: &str) {
    // End-of-partition reports are asked for by `stop_at_end`: news, not trouble.
    if error.rdkafka_error_code() == Some(rdkafka::error::RDKafkaErrorCode::PartitionEOF) {
        tracing::debug!(target: "librdkafka", %error, "{reason}");
        return;
    }
    tracing::warn!(target: "librdkafka", %error, "{reason}");
}

/// The context of weir's producers and admin clients: logs through `tracing`.
pub(crate) struct TracingContext;

impl ClientContext for TracingContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        forward(level, facility, message);
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        client_error(&error, reason);
    }
}
