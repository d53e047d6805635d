//! Per-event errors: one bad event fails alone, with a reason the operator can act on.

use std::fmt;

/// The class of a per-event failure; the host writes it into the dead-letter record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The value could not be parsed (not JSON, not UTF-8, wrong shape).
    InvalidInput,
    /// A field the plugin needs is absent.
    MissingField,
    /// A field has the wrong type or an unparsable value.
    InvalidField,
    /// The plugin refused the event for any other reason.
    Rejected,
}

/// Why a plugin refused one event. Build it with the constructors, which name the field
/// at fault so the dead-letter record says what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError {
    /// The class of the error.
    pub kind: ErrorKind,
    /// The field at fault, when there is one.
    pub field: Option<String>,
    /// A human-readable explanation for the operator.
    pub message: String,
}

impl EventError {
    /// Field `field` is absent.
    pub fn missing_field(field: impl Into<String>) -> Self {
        let field = field.into();
        EventError {
            kind: ErrorKind::MissingField,
            message: format!("field `{field}` is missing"),
            field: Some(field),
        }
    }

    /// Field `field` is present but unusable; `problem` says why (e.g. "expected a string").
    pub fn invalid_field(field: impl Into<String>, problem: impl fmt::Display) -> Self {
        let field = field.into();
        EventError {
            kind: ErrorKind::InvalidField,
            message: format!("field `{field}`: {problem}"),
            field: Some(field),
        }
    }

    /// The value as a whole could not be read (not JSON, not an object, not UTF-8).
    pub fn invalid_input(problem: impl fmt::Display) -> Self {
        EventError {
            kind: ErrorKind::InvalidInput,
            field: None,
            message: problem.to_string(),
        }
    }

    /// The plugin refuses the event for a reason of its own.
    pub fn rejected(reason: impl fmt::Display) -> Self {
        EventError {
            kind: ErrorKind::Rejected,
            field: None,
            message: reason.to_string(),
        }
    }

    /// Turns a typed field read from [`crate::json::Object`] into the matching error:
    /// [`missing_field`](Self::missing_field) or [`invalid_field`](Self::invalid_field).
    pub fn from_field(field: impl Into<String>, error: crate::json::FieldError) -> Self {
        match error {
            crate::json::FieldError::Missing => Self::missing_field(field),
            wrong => Self::invalid_field(field, wrong),
        }
    }
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EventError {}

impl From<crate::json::JsonError> for EventError {
    fn from(error: crate::json::JsonError) -> Self {
        EventError::invalid_input(error)
    }
}

impl From<EventError> for crate::bindings::weir::transform::types::EventError {
    fn from(error: EventError) -> Self {
        use crate::bindings::weir::transform::types::ErrorKind as Wit;
        let kind = match error.kind {
            ErrorKind::InvalidInput => Wit::InvalidInput,
            ErrorKind::MissingField => Wit::MissingField,
            ErrorKind::InvalidField => Wit::InvalidField,
            ErrorKind::Rejected => Wit::Rejected,
        };
        Self {
            kind,
            field: error.field,
            message: error.message,
        }
    }
}
