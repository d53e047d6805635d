//! Errors of the Kafka components, typed so callers can tell configuration from transport.

use crate::config::{ConfigProblem, ConfigProblems, Properties};

/// What went wrong talking to Kafka.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    /// The configuration is invalid; nothing was started.
    #[error("invalid Kafka configuration:\n{0}")]
    Config(#[from] ConfigProblems),
    /// librdkafka refused to create a client (usually an unknown or invalid property).
    #[error("cannot create the Kafka {role}: {reason}; check the `properties` of that component")]
    Client {
        /// `consumer`, `producer` or `admin client`.
        role: &'static str,
        /// librdkafka's reason, with secret property values redacted.
        reason: String,
    },
    /// Subscribing to the topics failed.
    #[error("cannot subscribe to {topics:?}: {source}")]
    Subscribe {
        /// The topics and patterns.
        topics: Vec<String>,
        /// librdkafka's reason.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The consumer hit a fatal error and stopped.
    #[error("the Kafka consumer stopped: {0}")]
    Consumer(String),
    /// Committing offsets failed.
    #[error("committing offsets {offsets} failed: {source}")]
    Commit {
        /// The offsets, as `topic[partition]@offset` list.
        offsets: String,
        /// librdkafka's reason.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// A record could not be delivered (after librdkafka's own retries).
    #[error("delivering a record to `{topic}` failed: {source}")]
    Delivery {
        /// The destination topic.
        topic: String,
        /// librdkafka's reason.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// A broker refused the producer's login; deliveries would only time out.
    #[error(
        "Kafka refused the login ({reason}) while producing to `{topic}`; check `sasl.mechanism`, `sasl.username` and `sasl.password` in the producer's properties"
    )]
    LoginRefused {
        /// The destination topic.
        topic: String,
        /// librdkafka's reason (it never quotes the password).
        reason: String,
    },
    /// Creating a topic failed for a reason other than "it already exists".
    #[error("creating topic `{topic}` failed: {reason}")]
    CreateTopic {
        /// The topic.
        topic: String,
        /// The broker's reason.
        reason: String,
    },
    /// The background consumer thread could not be started or joined.
    #[error("Kafka consumer thread: {0}")]
    Thread(String),
}

impl From<ConfigProblem> for KafkaError {
    fn from(problem: ConfigProblem) -> Self {
        KafkaError::Config(ConfigProblems(vec![problem]))
    }
}

impl KafkaError {
    /// A client-creation error whose message cannot leak a secret property value.
    pub(crate) fn client(
        role: &'static str,
        properties: &Properties,
        source: &rdkafka::error::KafkaError,
    ) -> Self {
        KafkaError::Client {
            role,
            reason: properties.redact(&source.to_string()),
        }
    }
}
