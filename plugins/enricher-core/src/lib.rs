//! The enrichment performed by weir's default plugin, as plain Rust with no WebAssembly
//! dependency: the `enricher` component wraps [`enrich`], and the host benchmark calls it
//! natively to compare the two paths on identical code.
//!
//! Input: a flat user event (`id, first_name, last_name, gender, address, post_code, email,
//! username, dob, registered_date, phone, picture`). Output: the same JSON object, bytes
//! unchanged, with four fields appended:
//!
//! | field | value |
//! |---|---|
//! | `full_name` | `first_name` and `last_name`, each trimmed, joined by one space (an empty part is left out) |
//! | `email_domain` | the part of `email` after its last `@`, trimmed and lowercased |
//! | `age` | completed years from `dob` to the event's timestamp (UTC calendar days; see [`Date::age_on`] for leap-day birthdays) |
//! | `age_group` | `<18`, `18-24`, `25-34`, `35-44`, `45-54`, `55-64` or `65+` |
//!
//! Only `first_name`, `last_name`, `email` and `dob` are read; other fields pass through
//! untouched and may be absent. The output depends only on the value and the timestamp,
//! never on a clock, so a replay produces identical bytes. If the input already has one of
//! the four fields, it is replaced in place rather than duplicated.
//!
//! ```
//! let value = br#"{"first_name":"Ada","last_name":"Lovelace","email":"ada@Example.ORG","dob":"1990-02-28T10:11:12.123Z"}"#;
//! let out = weir_enricher_core::enrich(value, 1_700_000_000_000).unwrap(); // 2023-11-14
//! assert_eq!(
//!     out,
//!     br#"{"first_name":"Ada","last_name":"Lovelace","email":"ada@Example.ORG","dob":"1990-02-28T10:11:12.123Z","full_name":"Ada Lovelace","email_domain":"example.org","age":33,"age_group":"25-34"}"#
//! );
//! ```
#![deny(missing_docs)]

mod date;
mod user;

pub use date::{Date, DateError};

use std::fmt;
use weir_json::{Object, Splice};

/// The fields [`enrich`] adds, in output order.
pub const DERIVED_FIELDS: [&str; 4] = ["full_name", "email_domain", "age", "age_group"];

/// Why an event could not be enriched. Each variant maps onto one WIT `error-kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrichError {
    /// The value is not a JSON object (or not valid JSON / UTF-8).
    InvalidInput(String),
    /// A required field is absent.
    MissingField(&'static str),
    /// A required field has the wrong type or an unusable value.
    InvalidField {
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

impl EnrichError {
    /// The field at fault, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            EnrichError::InvalidInput(_) => None,
            EnrichError::MissingField(field) | EnrichError::InvalidField { field, .. } => {
                Some(field)
            }
        }
    }

    /// The WIT `error-kind` name: `invalid-input`, `missing-field` or `invalid-field`.
    pub fn kind(&self) -> &'static str {
        match self {
            EnrichError::InvalidInput(_) => "invalid-input",
            EnrichError::MissingField(_) => "missing-field",
            EnrichError::InvalidField { .. } => "invalid-field",
        }
    }
}

impl fmt::Display for EnrichError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnrichError::InvalidInput(problem) => {
                write!(f, "value is not a JSON object: {problem}")
            }
            EnrichError::MissingField(field) => write!(f, "field `{field}` is missing"),
            EnrichError::InvalidField { field, problem } => write!(f, "field `{field}`: {problem}"),
        }
    }
}

impl std::error::Error for EnrichError {}

/// Age brackets for `age_group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgeGroup {
    /// 0–17.
    Under18,
    /// 18–24.
    From18To24,
    /// 25–34.
    From25To34,
    /// 35–44.
    From35To44,
    /// 45–54.
    From45To54,
    /// 55–64.
    From55To64,
    /// 65 and over.
    From65,
}

impl AgeGroup {
    /// The bracket `age` falls in.
    pub fn of(age: u32) -> Self {
        match age {
            0..=17 => AgeGroup::Under18,
            18..=24 => AgeGroup::From18To24,
            25..=34 => AgeGroup::From25To34,
            35..=44 => AgeGroup::From35To44,
            45..=54 => AgeGroup::From45To54,
            55..=64 => AgeGroup::From55To64,
            _ => AgeGroup::From65,
        }
    }

    /// The label written into `age_group`.
    pub fn as_str(self) -> &'static str {
        match self {
            AgeGroup::Under18 => "<18",
            AgeGroup::From18To24 => "18-24",
            AgeGroup::From25To34 => "25-34",
            AgeGroup::From35To44 => "35-44",
            AgeGroup::From45To54 => "45-54",
            AgeGroup::From55To64 => "55-64",
            AgeGroup::From65 => "65+",
        }
    }
}

/// The four derived values of one user event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// `full_name`.
    pub full_name: String,
    /// `email_domain`.
    pub email_domain: String,
    /// `age`.
    pub age: u32,
    /// `age_group`.
    pub age_group: AgeGroup,
}

/// Enriches one event value at the event's timestamp (milliseconds since the Unix epoch).
pub fn enrich(value: &[u8], timestamp_ms: i64) -> Result<Vec<u8>, EnrichError> {
    let mut out = Vec::with_capacity(value.len() + 96);
    enrich_into(value, timestamp_ms, &mut out)?;
    Ok(out)
}

/// Like [`enrich`], but appends the enriched value to `out` (after what it already holds),
/// so that a batch's outputs can share one buffer. On error `out` is unchanged.
pub fn enrich_into(value: &[u8], timestamp_ms: i64, out: &mut Vec<u8>) -> Result<(), EnrichError> {
    let user = user::User::parse(value)?;
    let derived = derive(&user, timestamp_ms)?;
    if user.has_derived_field {
        out.extend_from_slice(&replace_in_object(value, &derived)?);
        return Ok(());
    }
    let mut splice =
        Splice::append_to(value, out).map_err(|e| EnrichError::InvalidInput(e.to_string()))?;
    splice
        .push_str("full_name", &derived.full_name)
        .push_str("email_domain", &derived.email_domain)
        .push_i64("age", i64::from(derived.age))
        .push_str("age_group", derived.age_group.as_str());
    splice.finish();
    Ok(())
}

fn derive(user: &user::User<'_>, timestamp_ms: i64) -> Result<Derived, EnrichError> {
    let first = user.first_name.string("first_name")?;
    let last = user.last_name.string("last_name")?;
    let email = user.email.string("email")?;
    let dob = user.dob.string("dob")?;

    let full_name = match (trim(first), trim(last)) {
        ("", last) => last.to_owned(),
        (first, "") => first.to_owned(),
        // Not `format!`: the formatting machinery costs more than the copy itself.
        (first, last) => [first, last].join(" "),
    };
    let email_domain = match email.rsplit_once('@') {
        Some((_, domain)) if !trim(domain).is_empty() => lowercase(trim(domain)),
        _ => {
            return Err(EnrichError::InvalidField {
                field: "email",
                problem: "expected an address with a domain after `@`".into(),
            });
        }
    };
    let born = Date::parse_iso8601(dob).map_err(|e| EnrichError::InvalidField {
        field: "dob",
        problem: format!("{e} (got {dob:?})"),
    })?;
    let today = Date::from_unix_ms(timestamp_ms);
    let age = born
        .age_on(today)
        .ok_or_else(|| EnrichError::InvalidField {
            field: "dob",
            problem: format!("date of birth {born} is after the event's date {today}"),
        })?;
    Ok(Derived {
        full_name,
        email_domain,
        age,
        age_group: AgeGroup::of(age),
    })
}

/// `text.trim()`, without its character-by-character loops when there is nothing to trim
/// (nearly always): ASCII bytes above the space are never whitespace.
fn trim(text: &str) -> &str {
    let plain = |byte: u8| byte > b' ' && byte.is_ascii();
    match text.as_bytes() {
        [first, .., last] if plain(*first) && plain(*last) => text,
        [only] if plain(*only) => text,
        _ => text.trim(),
    }
}

/// `text` in lowercase; ASCII (nearly every domain) skips the Unicode tables.
fn lowercase(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    }
}

/// The slow path for inputs that already carry a derived field: edit in place.
fn replace_in_object(value: &[u8], derived: &Derived) -> Result<Vec<u8>, EnrichError> {
    let mut object = Object::parse(value).map_err(|e| EnrichError::InvalidInput(e.to_string()))?;
    object.set_str("full_name", &derived.full_name);
    object.set_str("email_domain", &derived.email_domain);
    let age = serde_json::value::RawValue::from_string(derived.age.to_string())
        .map_err(|e| EnrichError::InvalidInput(e.to_string()))?;
    object.set_raw("age", age);
    object.set_str("age_group", derived.age_group.as_str());
    Ok(object.to_vec())
}

#[cfg(test)]
mod tests;
