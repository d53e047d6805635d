//! JSON helpers for plugins: [`Splice`] to append fields to the original bytes (fastest),
//! [`Object`] to read, replace or remove fields keeping order and untouched bytes, and
//! [`crate::Event::json`] to parse into your own serde type.

pub use weir_json::{FieldError, JsonError, Object, Splice, json_type};

use crate::EventError;

/// Maps a serde_json error to an [`EventError`], recognising "missing field `x`" so the
/// dead-letter record names the field.
pub(crate) fn to_event_error(error: &serde_json::Error) -> EventError {
    let message = error.to_string();
    if let Some((field, _)) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
    {
        return EventError::missing_field(field);
    }
    EventError::invalid_input(format!(
        "value does not match the expected shape: {message}"
    ))
}
