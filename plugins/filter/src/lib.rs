//! Keeps or drops events by a predicate on one top-level field of their JSON value.
//!
//! Config:
//!
//! | key | meaning |
//! |---|---|
//! | `field` | the top-level field to test (required) |
//! | `op` | `eq`, `ne`, `gt`, `lt` (need `value`), `exists` or `missing` (take no `value`) |
//! | `value` | what to compare with |
//! | `action` | `keep` (default: events matching the predicate pass, the rest are dropped) or `drop` (events matching are dropped) |
//!
//! Comparison: a string field compares as text (`gt`/`lt` byte-wise, which orders ISO-8601
//! dates correctly); a number field compares numerically with `value` parsed as a number
//! (never equal if `value` is not a number); `true`, `false` and `null` compare as those
//! words; an array or object equals `value` only if its compact JSON text does. An absent
//! field satisfies only `ne` and `missing`. A value that is not a JSON object fails the
//! event with `invalid-input`. For example `field=gender`, `op=eq`, `value=female` keeps
//! only events whose `gender` is `"female"`.

use std::cmp::Ordering;
use weir_sdk::json::Object;
use weir_sdk::{Config, Emit, Event, EventError, Plugin};

/// The comparison a filter applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Exists,
    Missing,
}

/// The filter plugin.
#[derive(Debug)]
pub struct Filter {
    field: String,
    op: Op,
    value: String,
    keep_matches: bool,
}

impl Plugin for Filter {
    fn init(config: Config) -> Result<Self, String> {
        config.only(&["field", "op", "value", "action"])?;
        let field = config.require("field")?.to_owned();
        let op = match config.require("op")? {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "lt" => Op::Lt,
            "exists" => Op::Exists,
            "missing" => Op::Missing,
            other => {
                return Err(format!(
                    "config key `op` = {other:?}: expected one of eq, ne, gt, lt, exists, missing"
                ));
            }
        };
        let value = match (op, config.get("value")) {
            (Op::Exists | Op::Missing, None) => String::new(),
            (Op::Exists | Op::Missing, Some(_)) => {
                return Err(
                    "config key `value` makes no sense with op exists/missing; remove it".into(),
                );
            }
            (_, Some(value)) => value.to_owned(),
            (_, None) => {
                return Err("missing config key `value` (required by op eq, ne, gt, lt)".into());
            }
        };
        let keep_matches = match config.get("action").unwrap_or("keep") {
            "keep" => true,
            "drop" => false,
            other => {
                return Err(format!(
                    "config key `action` = {other:?}: expected keep or drop"
                ));
            }
        };
        Ok(Filter {
            field,
            op,
            value,
            keep_matches,
        })
    }

    fn process(&mut self, event: &Event, out: &mut Emit<'_>) -> Result<(), EventError> {
        let object = event.object()?;
        if self.matches(&object) == self.keep_matches {
            out.forward();
        }
        Ok(())
    }
}

impl Filter {
    fn matches(&self, object: &Object<'_>) -> bool {
        let Some(raw) = object.get(&self.field) else {
            return matches!(self.op, Op::Ne | Op::Missing);
        };
        let ordering = compare(raw.get(), &self.value);
        match self.op {
            Op::Exists => true,
            Op::Missing => false,
            Op::Eq => ordering == Some(Ordering::Equal),
            Op::Ne => ordering != Some(Ordering::Equal),
            Op::Gt => ordering == Some(Ordering::Greater),
            Op::Lt => ordering == Some(Ordering::Less),
        }
    }
}

/// Compares a field's raw JSON text with the configured value; `None` if incomparable.
fn compare(raw: &str, value: &str) -> Option<Ordering> {
    match raw.as_bytes().first() {
        Some(b'"') => {
            let text: std::borrow::Cow<'_, str> = weir_sdk::serde_json::from_str(raw).ok()?;
            Some(text.as_ref().cmp(value))
        }
        Some(b'-' | b'0'..=b'9') => raw
            .parse::<f64>()
            .ok()?
            .partial_cmp(&value.trim().parse::<f64>().ok()?),
        Some(b't' | b'f' | b'n') => (raw == value).then_some(Ordering::Equal),
        _ => (compact(raw)? == value).then_some(Ordering::Equal),
    }
}

fn compact(raw: &str) -> Option<String> {
    let value: weir_sdk::serde_json::Value = weir_sdk::serde_json::from_str(raw).ok()?;
    Some(value.to_string())
}

weir_sdk::export!(Filter);

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(config: &[(&str, &str)], value: &str) -> bool {
        let mut filter = Filter::init(Config::new(config.iter().copied())).unwrap();
        !weir_sdk::run(&mut filter, &Event::new(value, 0))
            .unwrap()
            .is_empty()
    }

    #[test]
    fn eq_keeps_only_matching_strings() {
        let config = [("field", "gender"), ("op", "eq"), ("value", "female")];
        assert!(kept(&config, r#"{"gender":"female"}"#));
        assert!(!kept(&config, r#"{"gender":"male"}"#));
        assert!(!kept(&config, r#"{"name":"x"}"#));
    }

    #[test]
    fn drop_action_inverts_and_ne_matches_absent_fields() {
        let config = [
            ("field", "gender"),
            ("op", "ne"),
            ("value", "male"),
            ("action", "drop"),
        ];
        assert!(kept(&config, r#"{"gender":"male"}"#));
        assert!(!kept(&config, r#"{"gender":"female"}"#));
        assert!(!kept(&config, r#"{}"#));
    }

    #[test]
    fn numbers_compare_numerically_and_strings_bytewise() {
        assert!(kept(
            &[("field", "age"), ("op", "gt"), ("value", "9")],
            r#"{"age":10}"#
        ));
        assert!(!kept(
            &[("field", "age"), ("op", "gt"), ("value", "10.0")],
            r#"{"age":10}"#
        ));
        assert!(kept(
            &[("field", "age"), ("op", "eq"), ("value", "10")],
            r#"{"age":1e1}"#
        ));
        assert!(kept(
            &[("field", "dob"), ("op", "lt"), ("value", "2000")],
            r#"{"dob":"1999-12-31T00:00:00Z"}"#
        ));
        assert!(!kept(
            &[("field", "age"), ("op", "eq"), ("value", "ten")],
            r#"{"age":10}"#
        ));
    }

    #[test]
    fn exists_missing_and_literals() {
        assert!(kept(&[("field", "a"), ("op", "exists")], r#"{"a":null}"#));
        assert!(kept(&[("field", "b"), ("op", "missing")], r#"{"a":null}"#));
        assert!(kept(
            &[("field", "a"), ("op", "eq"), ("value", "true")],
            r#"{"a":true}"#
        ));
        assert!(kept(
            &[("field", "a"), ("op", "eq"), ("value", "[1,2]")],
            r#"{"a":[1, 2]}"#
        ));
    }

    #[test]
    fn bad_config_is_refused_with_the_key_named() {
        for (config, key) in [
            (vec![("op", "eq"), ("value", "x")], "field"),
            (vec![("field", "a"), ("op", "like"), ("value", "x")], "op"),
            (vec![("field", "a"), ("op", "eq")], "value"),
            (
                vec![("field", "a"), ("op", "exists"), ("value", "x")],
                "value",
            ),
            (
                vec![("field", "a"), ("op", "exists"), ("action", "maybe")],
                "action",
            ),
            (
                vec![("field", "a"), ("op", "exists"), ("fields", "x")],
                "fields",
            ),
        ] {
            let error = Filter::init(Config::new(config)).unwrap_err();
            assert!(error.contains(&format!("`{key}`")), "{error}");
        }
    }

    #[test]
    fn non_json_fails_the_event() {
        let mut filter = Filter::init(Config::new([("field", "a"), ("op", "exists")])).unwrap();
        let error = weir_sdk::run(&mut filter, &Event::new("nope", 0)).unwrap_err();
        assert_eq!(error.kind, weir_sdk::ErrorKind::InvalidInput);
    }
}
