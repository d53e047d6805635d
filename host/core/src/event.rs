//! The event type that flows through a pipeline and the typed failure that can replace it.

use bytes::Bytes;
use std::fmt;
use std::sync::Arc;

/// Where an event came from. The source uses it to acknowledge (commit) progress, and dead
/// letters carry it so an operator can find the original record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Position {
    /// Kafka topic, or the file name for file sources.
    pub topic: Arc<str>,
    /// Kafka partition; 0 for file sources.
    pub partition: i32,
    /// Offset within the partition; the line number for file sources.
    pub offset: i64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]@{}", self.topic, self.partition, self.offset)
    }
}

/// One record header: a name and opaque bytes, as Kafka carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: Bytes,
}

impl Header {
    /// Builds a header from anything byte-like.
    pub fn new(name: impl Into<String>, value: impl Into<Bytes>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// One event. Outputs of a plugin are events too: they inherit the position and timestamp of
/// the input they came from, so a replay produces identical rows and write timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Record key.
    pub key: Option<Bytes>,
    /// Record value (JSON for weir's own plugins and sinks).
    pub value: Bytes,
    /// Record headers, in order.
    pub headers: Vec<Header>,
    /// Record timestamp, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// Where the record came from.
    pub position: Position,
}

impl Event {
    /// Bytes of key, value and headers (names and values): what the event weighs in a batch
    /// and, roughly, in a Kafka record.
    pub fn size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|h| h.name.len() + h.value.len())
            .sum();
        self.key.as_ref().map_or(0, Bytes::len) + self.value.len() + headers
    }
}

/// The pipeline stage at which an event failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Reading the record from its source (for example, a line that is not valid UTF-8).
    Source,
    /// A plugin, named with its version.
    Plugin {
        /// The plugin's name as configured.
        name: String,
        /// The plugin's version (a short content hash of the component).
        version: String,
    },
    /// Writing to the sink.
    Sink,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Source => f.write_str("source"),
            Stage::Plugin { name, version } => write!(f, "plugin:{name}@{version}"),
            Stage::Sink => f.write_str("sink"),
        }
    }
}

/// The class of a failure; it decides what an operator does about it and is written into
/// the dead-letter headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The value could not be parsed (not JSON, not UTF-8, wrong shape).
    InvalidInput,
    /// A required field is absent.
    MissingField,
    /// A field has the wrong type or an unparsable value.
    InvalidField,
    /// A plugin chose to reject the event.
    Rejected,
    /// A plugin trapped (crashed) on this event.
    PluginTrap,
    /// A plugin ran past its time budget on this event.
    PluginTimeout,
    /// A plugin ran past its memory cap on this event.
    PluginMemory,
    /// A plugin returned a result that breaks the contract for this event (an index or a
    /// span out of range, an event both emitted and failed): a bug in the plugin or its SDK.
    PluginContract,
    /// The sink refused the event (conversion error, missing key column, …).
    SinkRejected,
    /// The sink kept failing with a retryable error until the retry budget ran out.
    SinkRetriesExhausted,
    /// The event is larger than `pipeline.max_event_bytes`; no plugin saw it.
    TooLarge,
}

impl ErrorClass {
    /// The stable kebab-case name used in headers, metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::InvalidInput => "invalid-input",
            ErrorClass::MissingField => "missing-field",
            ErrorClass::InvalidField => "invalid-field",
            ErrorClass::Rejected => "rejected",
            ErrorClass::PluginTrap => "plugin-trap",
            ErrorClass::PluginTimeout => "plugin-timeout",
            ErrorClass::PluginMemory => "plugin-memory",
            ErrorClass::PluginContract => "plugin-contract",
            ErrorClass::SinkRejected => "sink-rejected",
            ErrorClass::SinkRetriesExhausted => "sink-retries-exhausted",
            ErrorClass::TooLarge => "too-large",
        }
    }

    /// Parses the name written by [`ErrorClass::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Every class, for parsing and help texts.
    pub const ALL: [ErrorClass; 11] = [
        ErrorClass::InvalidInput,
        ErrorClass::MissingField,
        ErrorClass::InvalidField,
        ErrorClass::Rejected,
        ErrorClass::PluginTrap,
        ErrorClass::PluginTimeout,
        ErrorClass::PluginMemory,
        ErrorClass::PluginContract,
        ErrorClass::SinkRejected,
        ErrorClass::SinkRetriesExhausted,
        ErrorClass::TooLarge,
    ];
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why one event could not be delivered. Failures are data, not `Err`: they travel with the
/// event to the dead-letter destination while its neighbours carry on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Where it failed.
    pub stage: Stage,
    /// What kind of failure.
    pub class: ErrorClass,
    /// The field at fault, when one is known.
    pub field: Option<String>,
    /// Explanation for the operator.
    pub message: String,
    /// How many attempts were made (1 unless the sink retried).
    pub attempts: u32,
}

impl Failure {
    /// A failure with one attempt and no field.
    pub fn new(stage: Stage, class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            stage,
            class,
            field: None,
            message: message.into(),
            attempts: 1,
        }
    }

    /// Names the field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.class, self.stage)?;
        if let Some(field) = &self.field {
            write!(f, " (field `{field}`)")?;
        }
        write!(f, ": {}", self.message)
    }
}
