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

/// Whether a client error is the broker refusing the login (wrong password, unknown user,
/// mechanism not enabled): librdkafka retries it forever, but it does not heal by itself.
pub(crate) fn is_login_refused(error: &rdkafka::error::KafkaError) -> bool {
    error.rdkafka_error_code() == Some(rdkafka::error::RDKafkaErrorCode::Authentication)
}

/// The context of weir's producers and admin clients: logs through `tracing`, and remembers
/// a refused login so that a wait for deliveries ends with it instead of running into
/// `message.timeout.ms`.
pub(crate) struct TracingContext {
    refused: tokio::sync::watch::Sender<Option<String>>,
}

impl TracingContext {
    pub(crate) fn new() -> Self {
        Self {
            refused: tokio::sync::watch::channel(None).0,
        }
    }

    /// What [`login_refused`] waits on; the client owning this context must outlive it.
    pub(crate) fn refusals(&self) -> tokio::sync::watch::Receiver<Option<String>> {
        self.refused.subscribe()
    }
}

/// Completes with librdkafka's reason once a broker has refused the login of the client
/// whose [`TracingContext::refusals`] this is.
pub(crate) async fn login_refused(
    mut refusals: tokio::sync::watch::Receiver<Option<String>>,
) -> String {
    // The guard is dropped before any other await (it must not be held across one).
    let reason = refusals
        .wait_for(Option::is_some)
        .await
        .ok()
        .map(|reason| reason.clone().unwrap_or_default());
    match reason {
        Some(reason) => reason,
        // The client (and its context, the sender) is gone: nothing more will be refused.
        None => std::future::pending().await,
    }
}

impl ClientContext for TracingContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        forward(level, facility, message);
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        client_error(&error, reason);
        if is_login_refused(&error) {
            self.refused.send_replace(Some(reason.to_owned()));
        }
    }
}
