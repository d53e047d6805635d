//! Dead letters: the original event plus why it failed.

use crate::event::{ErrorClass, Event, Failure, Header};
use bytes::Bytes;

/// How much of a too-large event's value its dead letter keeps: enough to recognise it, small
/// enough for any dead-letter topic with Kafka's default 1 MB record limit.
pub const TRUNCATED_VALUE_BYTES: usize = 64 * 1024;

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
    /// Present when the value is only the first bytes of the original: its full length. The
    /// whole record stays at `weir.source.topic/partition/offset` while the topic retains it.
    pub const VALUE_TRUNCATED: &'static str = "weir.value.truncated";

    /// Every header weir adds, so a replay can strip them.
    pub const ALL: [&'static str; 10] = [
        Self::CLASS,
        Self::MESSAGE,
        Self::FIELD,
        Self::STAGE,
        Self::TOPIC,
        Self::PARTITION,
        Self::OFFSET,
        Self::ATTEMPTS,
        Self::TIMESTAMP,
        Self::VALUE_TRUNCATED,
    ];
}

impl DeadLetter {
    /// The dead letter of `event`. The value is kept whole, except for a `too-large` event:
    /// its value is cut to the first [`TRUNCATED_VALUE_BYTES`] (a header records the original
    /// length), so the dead letter itself is never too large to write.
    pub fn new(mut event: Event, failure: Failure) -> Self {
        let length = event.value.len();
        if failure.class == ErrorClass::TooLarge && length > TRUNCATED_VALUE_BYTES {
            event.value = event.value.slice(..TRUNCATED_VALUE_BYTES);
            event.headers.push(Header::new(
                DeadLetterHeaders::VALUE_TRUNCATED,
                Bytes::from(length.to_string()),
            ));
        }
        Self { event, failure }
    }

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

    /// The original value length when the value was truncated.
    fn truncated_from(&self) -> Option<u64> {
        self.event
            .headers
            .iter()
            .find(|h| h.name == DeadLetterHeaders::VALUE_TRUNCATED)
            .and_then(|h| std::str::from_utf8(&h.value).ok()?.parse().ok())
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
        let mut json = serde_json::json!({
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
        });
        if let Some(length) = self.truncated_from() {
            json["value_truncated_from"] = length.into();
        }
        json
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Position, Stage};

    #[test]
    fn a_too_large_events_dead_letter_keeps_a_prefix_and_says_how_long_the_value_was() {
        let value = Bytes::from(vec![b'v'; 10 << 20]);
        let event = Event {
            key: Some(Bytes::from_static(b"k")),
            value: value.clone(),
            headers: vec![Header::new("trace", "t1")],
            timestamp_ms: 1,
            position: Position {
                topic: "t".into(),
                partition: 0,
                offset: 7,
            },
        };
        let failure = Failure::new(Stage::Source, ErrorClass::TooLarge, "too large");
        let letter = DeadLetter::new(event.clone(), failure);
        assert_eq!(letter.event.value, value.slice(..TRUNCATED_VALUE_BYTES));
        let headers = letter.headers();
        let truncated = headers
            .iter()
            .find(|h| h.name == DeadLetterHeaders::VALUE_TRUNCATED)
            .expect("truncation header");
        assert_eq!(truncated.value.as_ref(), b"10485760");
        assert_eq!(letter.to_json()["value_truncated_from"], 10 << 20);
        let other = Failure::new(Stage::Sink, ErrorClass::SinkRejected, "no");
        let kept = DeadLetter::new(event, other);
        assert_eq!(
            kept.event.value.len(),
            10 << 20,
            "only too-large values are cut"
        );
        assert!(kept.to_json().get("value_truncated_from").is_none());
    }
}
