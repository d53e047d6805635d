//! Dead letters: the original event plus why it failed.

use crate::event::{Event, Failure, Header};

/// An event that could not be delivered, kept whole (original key, value and headers) with
/// the failure that stopped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The event as it came from the source.
    pub event: Event,
    /// Why it was not delivered.
    pub failure: Failure,
}

/// The header names weir adds to a dead-lettered record. Stable: `weir dlq replay` and
/// operators' tooling filter on them.
pub struct DeadLetterHeaders;

impl DeadLetterHeaders {
    /// Error class, e.g. `missing-field`.
    pub const CLASS: &'static str = "weir.error.class";
    /// Human-readable message.
    pub const MESSAGE: &'static str = "weir.error.message";
    /// The field at fault, when known.
    pub const FIELD: &'static str = "weir.error.field";
    /// Stage: `source`, `plugin:NAME@VERSION` or `sink`.
    pub const STAGE: &'static str = "weir.error.stage";
    /// Source topic of the original record.
    pub const TOPIC: &'static str = "weir.source.topic";
    /// Source partition of the original record.
    pub const PARTITION: &'static str = "weir.source.partition";
    /// Source offset of the original record.
    pub const OFFSET: &'static str = "weir.source.offset";
    /// How many attempts were made.
    pub const ATTEMPTS: &'static str = "weir.attempts";
    /// Source timestamp (ms) of the original record.
    pub const TIMESTAMP: &'static str = "weir.source.timestamp";

    /// Every header weir adds, so a replay can strip them.
    pub const ALL: [&'static str; 9] = [
        Self::CLASS,
        Self::MESSAGE,
        Self::FIELD,
        Self::STAGE,
        Self::TOPIC,
        Self::PARTITION,
        Self::OFFSET,
        Self::ATTEMPTS,
        Self::TIMESTAMP,
    ];
}

impl DeadLetter {
    /// The original headers followed by weir's error headers.
    pub fn headers(&self) -> Vec<Header> {
        let f = &self.failure;
        let p = &self.event.position;
        let mut headers = self.event.headers.clone();
        headers.push(Header::new(DeadLetterHeaders::CLASS, f.class.as_str()));
        headers.push(Header::new(DeadLetterHeaders::MESSAGE, f.message.clone()));
        if let Some(field) = &f.field {
            headers.push(Header::new(DeadLetterHeaders::FIELD, field.clone()));
        }
        headers.push(Header::new(DeadLetterHeaders::STAGE, f.stage.to_string()));
        headers.push(Header::new(DeadLetterHeaders::TOPIC, p.topic.to_string()));
        headers.push(Header::new(
            DeadLetterHeaders::PARTITION,
            p.partition.to_string(),
        ));
        headers.push(Header::new(DeadLetterHeaders::OFFSET, p.offset.to_string()));
        headers.push(Header::new(
            DeadLetterHeaders::ATTEMPTS,
            f.attempts.to_string(),
        ));
        headers.push(Header::new(
            DeadLetterHeaders::TIMESTAMP,
            self.event.timestamp_ms.to_string(),
        ));
        headers
    }

    /// A JSON document describing this dead letter, for JSONL dead-letter files.
    /// The value is kept as a string when it is UTF-8 and as base64-free byte array otherwise.
    pub fn to_json(&self) -> serde_json::Value {
        let f = &self.failure;
        let p = &self.event.position;
        let bytes_json = |b: &[u8]| match std::str::from_utf8(b) {
            Ok(s) => serde_json::Value::String(s.to_owned()),
            Err(_) => serde_json::Value::from(b.to_vec()),
        };
        serde_json::json!({
            "error": {
                "class": f.class.as_str(),
                "stage": f.stage.to_string(),
                "field": f.field,
                "message": f.message,
                "attempts": f.attempts,
            },
            "source": { "topic": &*p.topic, "partition": p.partition, "offset": p.offset },
            "timestamp_ms": self.event.timestamp_ms,
            "key": self.event.key.as_deref().map(bytes_json),
            "value": bytes_json(&self.event.value),
        })
    }
}
