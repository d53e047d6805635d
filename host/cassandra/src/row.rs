//! One event to the bound values of the sink's INSERT: every column of the table, in schema
//! order, `unset` where the event has no such field (so a missing field neither writes a
//! tombstone nor overwrites an older value), CQL null for a JSON `null`.

use crate::config::UnknownFields;
use crate::convert::{cql_type_name, to_cql};
use crate::ident::quote;
use crate::schema::TableSchema;
use scylla::value::{CqlValue, MaybeUnset};
use serde_json::{Map, Value};
use weir_core::{ErrorClass, Event, Failure, Stage};

/// Bound values of one INSERT execution.
pub(crate) type RowValues = Vec<MaybeUnset<Option<CqlValue>>>;

/// Longest value excerpt quoted in a failure message.
const VALUE_EXCERPT: usize = 80;

/// The sink's single INSERT: all columns, plus `USING TIMESTAMP ?` when rows carry the
/// event's timestamp. One statement for every event keeps exactly one prepared statement,
/// whatever subset of fields events carry.
pub(crate) fn insert_statement(schema: &TableSchema, event_timestamp: bool) -> String {
    let names: Vec<String> = schema.columns.iter().map(|c| quote(&c.name)).collect();
    let markers = vec!["?"; names.len()].join(", ");
    let using = if event_timestamp {
        " USING TIMESTAMP ?"
    } else {
        ""
    };
    format!(
        "INSERT INTO {}.{} ({}) VALUES ({markers}){using}",
        quote(&schema.keyspace),
        quote(&schema.table),
        names.join(", ")
    )
}

/// Builds the values for `event`, or the failure that rejects it.
pub(crate) fn row_values(
    schema: &TableSchema,
    unknown_fields: UnknownFields,
    event: &Event,
    event_timestamp: bool,
) -> Result<RowValues, Failure> {
    let object = parse_object(&event.value)?;
    if unknown_fields == UnknownFields::Error
        && let Some(field) = object.keys().find(|k| schema.column(k).is_none())
    {
        return Err(reject(
            Some(field),
            format!(
                "field `{field}` has no column in {}.{} (unknown_fields = \"error\")",
                schema.keyspace, schema.table
            ),
        ));
    }
    let mut values = Vec::with_capacity(schema.columns.len() + 1);
    for column in &schema.columns {
        let value = match object.get(&column.name) {
            None | Some(Value::Null) if column.key => {
                return Err(reject(
                    Some(&column.name),
                    format!(
                        "primary-key field `{}` ({}) is missing or null",
                        column.name,
                        cql_type_name(&column.typ)
                    ),
                ));
            }
            None => MaybeUnset::Unset,
            Some(Value::Null) => MaybeUnset::Set(None),
            Some(v) => MaybeUnset::Set(Some(to_cql(v, &column.typ).map_err(|e| {
                reject(
                    Some(&column.name),
                    format!(
                        "field `{}`: value {} cannot be written to column `{}` of type {}: {}",
                        column.name,
                        excerpt(v),
                        column.name,
                        cql_type_name(&column.typ),
                        e.0
                    ),
                )
            })?)),
        };
        values.push(value);
    }
    if event_timestamp {
        // Kafka timestamps are milliseconds; CQL write timestamps are microseconds.
        let micros = event.timestamp_ms.saturating_mul(1000);
        values.push(MaybeUnset::Set(Some(CqlValue::BigInt(micros))));
    }
    Ok(values)
}

fn parse_object(value: &[u8]) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_slice::<Value>(value) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(reject(
            None,
            format!("the event is JSON but not an object: {}", excerpt(&other)),
        )),
        Err(e) => Err(reject(
            None,
            format!(
                "the event is not JSON ({e}): {:?}",
                truncate(&String::from_utf8_lossy(value))
            ),
        )),
    }
}

fn reject(field: Option<&String>, message: String) -> Failure {
    Failure {
        stage: Stage::Sink,
        class: ErrorClass::SinkRejected,
        field: field.cloned(),
        message,
        attempts: 1,
    }
}

fn excerpt(value: &Value) -> String {
    truncate(&value.to_string())
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(VALUE_EXCERPT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Column;
    use scylla::cluster::metadata::{ColumnType, NativeType};
    use std::sync::Arc;
    use weir_core::Position;

    fn schema() -> TableSchema {
        let col = |name: &str, typ, key| Column {
            name: name.into(),
            typ: ColumnType::Native(typ),
            key,
        };
        TableSchema {
            keyspace: "ks".into(),
            table: "t".into(),
            columns: vec![
                col("id", NativeType::Uuid, true),
                col("age", NativeType::Int, false),
                col("name", NativeType::Text, false),
            ],
        }
    }

    fn event(value: &str) -> Event {
        Event {
            key: None,
            value: value.to_owned().into(),
            headers: vec![],
            timestamp_ms: 7,
            position: Position {
                topic: Arc::from("t"),
                partition: 0,
                offset: 0,
            },
        }
    }

    const ID: &str = "5a3c9a1e-6f0b-4c39-9d43-2b7b5b0f8e11";

    #[test]
    fn absent_fields_are_unset_nulls_are_null_and_the_timestamp_is_in_micros() {
        let row = row_values(
            &schema(),
            UnknownFields::Ignore,
            &event(&format!(r#"{{"id":"{ID}","name":null,"extra":1}}"#)),
            true,
        )
        .expect("valid");
        assert!(matches!(row[1], MaybeUnset::Unset));
        assert!(matches!(row[2], MaybeUnset::Set(None)));
        assert!(matches!(
            row[3],
            MaybeUnset::Set(Some(CqlValue::BigInt(7000)))
        ));
        assert_eq!(
            insert_statement(&schema(), true),
            r#"INSERT INTO "ks"."t" ("id", "age", "name") VALUES (?, ?, ?) USING TIMESTAMP ?"#
        );
    }

    #[test]
    fn failures_name_field_value_and_column_type() {
        let f = row_values(
            &schema(),
            UnknownFields::Ignore,
            &event(&format!(r#"{{"id":"{ID}","age":"abc"}}"#)),
            true,
        )
        .expect_err("age is not an int");
        assert_eq!(f.field.as_deref(), Some("age"));
        assert_eq!(f.class, ErrorClass::SinkRejected);
        assert!(
            f.message
                .contains(r#"value "abc" cannot be written to column `age` of type int"#),
            "{}",
            f.message
        );

        let f = row_values(
            &schema(),
            UnknownFields::Ignore,
            &event(r#"{"age":1}"#),
            true,
        )
        .expect_err("no id");
        assert_eq!(f.field.as_deref(), Some("id"));
        let f = row_values(&schema(), UnknownFields::Ignore, &event("not json"), true)
            .expect_err("not json");
        assert!(f.message.contains("not JSON"), "{}", f.message);
        let f = row_values(
            &schema(),
            UnknownFields::Error,
            &event(&format!(r#"{{"id":"{ID}","extra":1}}"#)),
            true,
        )
        .expect_err("unknown field");
        assert_eq!(f.field.as_deref(), Some("extra"));
        assert!(truncate(&"x".repeat(500)).chars().count() <= VALUE_EXCERPT + 1);
    }
}
