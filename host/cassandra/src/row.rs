//! One event to the bound values of the sink's INSERT: every column of the table, in schema
//! order, `unset` where the event has no such field (so a missing field neither writes a
//! tombstone nor overwrites an older value), CQL null for a JSON `null`.

use crate::config::UnknownFields;
use crate::convert::{ConvertError, cql_type_name, to_cql};
use crate::ident::quote;
use crate::schema::TableSchema;
use scylla::cluster::metadata::{ColumnType, NativeType};
use scylla::value::{CqlValue, MaybeUnset};
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::borrow::Cow;
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
    let fields = match Fields::parse(schema, unknown_fields, &event.value) {
        Ok(fields) => fields,
        // The one-pass parser only says that it failed; the full parse says why.
        Err(error) => {
            return Err(parse_object(&event.value)
                .err()
                .unwrap_or_else(|| reject(None, format!("the event cannot be read: {error}"))));
        }
    };
    if let Some(field) = &fields.unknown {
        return Err(reject(
            Some(field),
            format!(
                "field `{field}` has no column in {}.{} (unknown_fields = \"error\")",
                schema.keyspace, schema.table
            ),
        ));
    }
    let mut values = Vec::with_capacity(schema.columns.len() + 1);
    for (column, field) in schema.columns.iter().zip(fields.slots) {
        let value = match field {
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
            Some(v) => MaybeUnset::Set(Some(owned_to_cql(v, &column.typ).map_err(|(v, e)| {
                reject(
                    Some(&column.name),
                    format!(
                        "field `{}`: value {} cannot be written to column `{}` of type {}: {}",
                        column.name,
                        excerpt(&v),
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

/// [`to_cql`] for a value the row owns: a string bound to a text column is moved, not copied.
fn owned_to_cql(value: Value, typ: &ColumnType<'_>) -> Result<CqlValue, (Value, ConvertError)> {
    match (value, typ) {
        (Value::String(s), ColumnType::Native(NativeType::Text)) => Ok(CqlValue::Text(s)),
        (value, typ) => to_cql(&value, typ).map_err(|e| (value, e)),
    }
}

/// An event's top-level fields, one slot per column in schema order. Read in one pass over
/// the bytes: keys are borrowed and matched against the columns, no map is built, and
/// fields without a column are dropped as soon as they are read.
struct Fields {
    slots: Vec<Option<Value>>,
    /// With `unknown_fields = "error"`, the first field that has no column.
    unknown: Option<String>,
}

impl Fields {
    fn parse(
        schema: &TableSchema,
        unknown_fields: UnknownFields,
        bytes: &[u8],
    ) -> serde_json::Result<Fields> {
        let mut reader = serde_json::Deserializer::from_slice(bytes);
        let fields = FieldsSeed {
            schema,
            unknown_fields,
        }
        .deserialize(&mut reader)?;
        reader.end()?;
        Ok(fields)
    }
}

struct FieldsSeed<'s> {
    schema: &'s TableSchema,
    unknown_fields: UnknownFields,
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_> {
    type Value = Fields;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Fields, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_> {
    type Value = Fields;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        let mut slots: Vec<Option<Value>> = vec![None; self.schema.columns.len()];
        let mut unknown = None;
        while let Some(FieldName(name)) = map.next_key()? {
            match self.schema.columns.iter().position(|c| c.name == name) {
                // A repeated field: the last one wins, as in a parsed JSON object.
                Some(index) => slots[index] = Some(map.next_value()?),
                None => {
                    if self.unknown_fields == UnknownFields::Error && unknown.is_none() {
                        unknown = Some(name.into_owned());
                    }
                    // Read in full, not skipped: the nesting limit of a parsed value
                    // applies to every field, so a hostile one is refused, not written.
                    map.next_value::<Value>()?;
                }
            }
        }
        Ok(Fields { slots, unknown })
    }
}

/// A field name, borrowed from the event unless it has escapes.
struct FieldName<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for FieldName<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(FieldNameVisitor)
    }
}

struct FieldNameVisitor;

impl<'de> Visitor<'de> for FieldNameVisitor {
    type Value = FieldName<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, name: &'de str) -> Result<Self::Value, E> {
        Ok(FieldName(Cow::Borrowed(name)))
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Self::Value, E> {
        Ok(FieldName(Cow::Owned(name.to_owned())))
    }
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
    fn field_names_nesting_and_trailing_bytes_are_read_like_a_parsed_object() {
        let row = row_values(
            &schema(),
            UnknownFields::Error,
            &event(&format!(r#"{{"\u0069d":"{ID}","name":"a","name":"b"}}"#)),
            false,
        )
        .expect("valid");
        assert!(matches!(row[0], MaybeUnset::Set(Some(CqlValue::Uuid(_)))));
        assert!(matches!(&row[2], MaybeUnset::Set(Some(CqlValue::Text(t))) if t == "b"));
        assert_eq!(row.len(), 3);
        let f = row_values(
            &schema(),
            UnknownFields::Ignore,
            &event(&format!(r#"{{"id":"{ID}"}} trailing"#)),
            true,
        )
        .expect_err("trailing characters");
        assert!(f.message.contains("not JSON"), "{}", f.message);
        let f = row_values(&schema(), UnknownFields::Ignore, &event("[1]"), true)
            .expect_err("an array");
        assert!(f.message.contains("not an object"), "{}", f.message);
        let deep = format!(
            r#"{{"id":"{ID}","extra":{}1{}}}"#,
            r#"{"a":"#.repeat(500),
            "}".repeat(500)
        );
        let f = row_values(&schema(), UnknownFields::Ignore, &event(&deep), true)
            .expect_err("nested past the parser's limit, even in a field without a column");
        assert!(f.message.contains("recursion limit"), "{}", f.message);
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
