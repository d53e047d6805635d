//! JSON values to CQL values, driven by the column's real type. Every conversion is exact or
//! refused: a number that does not fit, a string that does not parse, or a value of the wrong
//! shape is an error that names the CQL type, never a silent truncation.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use scylla::cluster::metadata::{CollectionType, ColumnType, NativeType};
use scylla::value::{CqlDate, CqlDecimal, CqlTimestamp, CqlTimeuuid, CqlValue, CqlVarint};
use serde_json::Value;
use std::net::IpAddr;

/// Why a JSON value cannot be written to a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError(pub String);

type Result<T> = std::result::Result<T, ConvertError>;

fn err<T>(why: impl Into<String>) -> Result<T> {
    Err(ConvertError(why.into()))
}

/// Converts a non-null JSON value to `typ`. (A top-level JSON `null` binds CQL null; the
/// caller handles it, since collections cannot hold nulls.)
pub fn to_cql(value: &Value, typ: &ColumnType<'_>) -> Result<CqlValue> {
    match typ {
        ColumnType::Native(native) => native_to_cql(value, native),
        ColumnType::Collection { typ, .. } => collection_to_cql(value, typ),
        other => err(format!(
            "columns of type {} are not supported by weir",
            cql_type_name(other)
        )),
    }
}

fn collection_to_cql(value: &Value, typ: &CollectionType<'_>) -> Result<CqlValue> {
    match (typ, value) {
        (CollectionType::List(elem), Value::Array(items)) => {
            Ok(CqlValue::List(elements(items, elem)?))
        }
        (CollectionType::Set(elem), Value::Array(items)) => {
            Ok(CqlValue::Set(elements(items, elem)?))
        }
        (CollectionType::Map(key, val), Value::Object(entries)) => {
            let mut pairs = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                // JSON object keys are always strings; `{"1": …}` fills a map<int, …>.
                let k = to_cql(&Value::String(k.clone()), key)
                    .map_err(|e| ConvertError(format!("map key {k:?}: {}", e.0)))?;
                let v = element(v, val)
                    .map_err(|e| ConvertError(format!("map value at {k:?}: {}", e.0)))?;
                pairs.push((k, v));
            }
            Ok(CqlValue::Map(pairs))
        }
        (CollectionType::Map(..), _) => err("expected a JSON object"),
        (_, _) => err("expected a JSON array"),
    }
}

fn elements(items: &[Value], typ: &ColumnType<'_>) -> Result<Vec<CqlValue>> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| element(v, typ).map_err(|e| ConvertError(format!("element {i}: {}", e.0))))
        .collect()
}

fn element(value: &Value, typ: &ColumnType<'_>) -> Result<CqlValue> {
    if value.is_null() {
        return err("collections cannot hold null");
    }
    to_cql(value, typ)
}

fn native_to_cql(value: &Value, typ: &NativeType) -> Result<CqlValue> {
    use NativeType as N;
    match typ {
        N::Text => Ok(CqlValue::Text(text(value)?)),
        N::Ascii => {
            let s = text(value)?;
            if !s.is_ascii() {
                return err("not ASCII");
            }
            Ok(CqlValue::Ascii(s))
        }
        N::Boolean => match value {
            Value::Bool(b) => Ok(CqlValue::Boolean(*b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(CqlValue::Boolean(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(CqlValue::Boolean(false)),
            _ => err("expected true or false"),
        },
        N::TinyInt => fit(integer(value)?, "tinyint").map(CqlValue::TinyInt),
        N::SmallInt => fit(integer(value)?, "smallint").map(CqlValue::SmallInt),
        N::Int => fit(integer(value)?, "int").map(CqlValue::Int),
        N::BigInt => fit(integer(value)?, "bigint").map(CqlValue::BigInt),
        N::Counter => err("counter columns cannot be written with INSERT"),
        N::Varint => Ok(CqlValue::Varint(CqlVarint::from_signed_bytes_be(
            signed_be_bytes(&integer_digits(value)?)?,
        ))),
        N::Decimal => decimal(value),
        N::Double => Ok(CqlValue::Double(float(value)?)),
        N::Float => {
            let f = float(value)?;
            let narrowed = f as f32;
            if f.is_finite() && !narrowed.is_finite() {
                return err("out of range for float");
            }
            Ok(CqlValue::Float(narrowed))
        }
        N::Uuid => Ok(CqlValue::Uuid(uuid(value)?)),
        N::Timeuuid => {
            let u = uuid(value)?;
            if u.get_version_num() != 1 {
                return err("not a version-1 (time-based) UUID");
            }
            Ok(CqlValue::Timeuuid(CqlTimeuuid::from(u)))
        }
        N::Timestamp => timestamp(value).map(|ms| CqlValue::Timestamp(CqlTimestamp(ms))),
        N::Date => date(value),
        N::Inet => text(value)?
            .parse::<IpAddr>()
            .map(CqlValue::Inet)
            .or_else(|_| err("not an IPv4 or IPv6 address")),
        N::Blob => err("blob columns are not supported by weir (JSON has no bytes)"),
        other => err(format!(
            "columns of type {} are not supported by weir",
            native_name(other)
        )),
    }
}

fn text(value: &Value) -> Result<String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        // Numbers and booleans keep their JSON spelling; objects and arrays are refused so
        // that a nested structure never lands in a column as a surprise string.
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => err("expected a string"),
    }
}

fn integer(value: &Value) -> Result<i128> {
    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i.into())
            } else if let Some(u) = n.as_u64() {
                Ok(u.into())
            } else {
                err("not an integer")
            }
        }
        Value::String(s) => s.trim().parse::<i128>().or_else(|_| err("not an integer")),
        _ => err("expected an integer"),
    }
}

fn fit<T: TryFrom<i128>>(n: i128, name: &str) -> Result<T> {
    T::try_from(n).or_else(|_| err(format!("out of range for {name}")))
}

fn float(value: &Value) -> Result<f64> {
    match value {
        Value::Number(n) => n.as_f64().map_or_else(|| err("not a number"), Ok),
        Value::String(s) => s.trim().parse::<f64>().or_else(|_| err("not a number")),
        _ => err("expected a number"),
    }
}

fn uuid(value: &Value) -> Result<uuid::Uuid> {
    match value {
        Value::String(s) => uuid::Uuid::parse_str(s.trim()).or_else(|_| err("not a UUID")),
        _ => err("expected a UUID string"),
    }
}

/// Milliseconds since the epoch from an ISO-8601 string (with offset, or UTC when it has
/// none) or from an integer number of milliseconds.
fn timestamp(value: &Value) -> Result<i64> {
    match value {
        Value::Number(_) => fit(integer(value)?, "timestamp"),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Ok(t.timestamp_millis());
            }
            for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
                if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
                    return Ok(t.and_utc().timestamp_millis());
                }
            }
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                return Ok(d
                    .and_time(chrono::NaiveTime::MIN)
                    .and_utc()
                    .timestamp_millis());
            }
            err("not an ISO-8601 timestamp such as \"1990-02-28T10:11:12.123Z\"")
        }
        _ => err("expected an ISO-8601 string or epoch milliseconds"),
    }
}

/// A `date` from `"YYYY-MM-DD"` (or a full ISO-8601 timestamp's UTC date).
fn date(value: &Value) -> Result<CqlValue> {
    let days = match value {
        Value::String(s) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
            Ok(d) => d.signed_duration_since(NaiveDate::default()).num_days(),
            Err(_) => timestamp(value)
                .map_err(|_| ConvertError("not a date such as \"1990-02-28\"".into()))?
                .div_euclid(86_400_000),
        },
        _ => return err("expected a date string such as \"1990-02-28\""),
    };
    // CQL dates count days with 2^31 as the epoch.
    let raw = days
        .checked_add(1 << 31)
        .and_then(|d| u32::try_from(d).ok())
        .map_or_else(|| err("date out of range"), Ok)?;
    Ok(CqlValue::Date(CqlDate(raw)))
}

/// Decimal from a string (exact) or a JSON number (its shortest decimal spelling).
fn decimal(value: &Value) -> Result<CqlValue> {
    let s = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return err("expected a decimal number or string"),
    };
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (
            &s[..i],
            s[i + 1..]
                .parse::<i32>()
                .or_else(|_| err("not a decimal"))?,
        ),
        None => (s.as_str(), 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if frac_part.starts_with(['+', '-']) || frac_part.contains(['.', '+', '-']) {
        return err("not a decimal");
    }
    let digits = format!("{int_part}{frac_part}");
    let scale = i32::try_from(frac_part.len())
        .ok()
        .and_then(|f| f.checked_sub(exponent))
        .map_or_else(|| err("decimal exponent out of range"), Ok)?;
    let bytes = signed_be_bytes(&digits).map_err(|_| ConvertError("not a decimal".into()))?;
    Ok(CqlValue::Decimal(
        CqlDecimal::from_signed_be_bytes_and_exponent(bytes, scale),
    ))
}

fn integer_digits(value: &Value) -> Result<String> {
    match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        Value::String(s) => Ok(s.trim().to_owned()),
        _ => err("expected an integer"),
    }
}

/// Two's-complement big-endian bytes of a decimal integer string of any length.
fn signed_be_bytes(digits: &str) -> Result<Vec<u8>> {
    let (negative, body) = match digits.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, digits.strip_prefix('+').unwrap_or(digits)),
    };
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return err("not an integer");
    }
    // Magnitude, little-endian base 256, built by repeated multiply-and-add.
    let mut mag: Vec<u8> = vec![0];
    for d in body.bytes() {
        let mut carry = u32::from(d - b'0');
        for byte in mag.iter_mut() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            mag.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    if negative {
        // Two's complement: invert and add one.
        let mut carry = 1u16;
        for byte in mag.iter_mut() {
            let v = u16::from(!*byte) + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        mag.push(0xff);
    } else {
        mag.push(0x00);
    }
    // Drop redundant sign bytes, keeping the sign bit right.
    while mag.len() > 1 {
        let top = mag[mag.len() - 1];
        let next = mag[mag.len() - 2];
        if (top == 0x00 && next & 0x80 == 0) || (top == 0xff && next & 0x80 != 0) {
            mag.pop();
        } else {
            break;
        }
    }
    mag.reverse();
    Ok(mag)
}

/// The CQL spelling of a column type, for messages.
pub fn cql_type_name(typ: &ColumnType<'_>) -> String {
    match typ {
        ColumnType::Native(n) => native_name(n).to_owned(),
        ColumnType::Collection { frozen, typ } => {
            let inner = match typ {
                CollectionType::List(e) => format!("list<{}>", cql_type_name(e)),
                CollectionType::Set(e) => format!("set<{}>", cql_type_name(e)),
                CollectionType::Map(k, v) => {
                    format!("map<{}, {}>", cql_type_name(k), cql_type_name(v))
                }
                _ => "collection".to_owned(),
            };
            if *frozen {
                format!("frozen<{inner}>")
            } else {
                inner
            }
        }
        ColumnType::Vector { typ, dimensions } => {
            format!("vector<{}, {dimensions}>", cql_type_name(typ))
        }
        ColumnType::UserDefinedType { definition, .. } => definition.name.to_string(),
        ColumnType::Tuple(items) => {
            let items: Vec<String> = items.iter().map(cql_type_name).collect();
            format!("tuple<{}>", items.join(", "))
        }
        _ => "unknown".into(),
    }
}

fn native_name(typ: &NativeType) -> &'static str {
    use NativeType as N;
    match typ {
        N::Ascii => "ascii",
        N::Boolean => "boolean",
        N::Blob => "blob",
        N::Counter => "counter",
        N::Date => "date",
        N::Decimal => "decimal",
        N::Double => "double",
        N::Duration => "duration",
        N::Float => "float",
        N::Int => "int",
        N::BigInt => "bigint",
        N::Text => "text",
        N::Timestamp => "timestamp",
        N::Inet => "inet",
        N::SmallInt => "smallint",
        N::TinyInt => "tinyint",
        N::Time => "time",
        N::Timeuuid => "timeuuid",
        N::Uuid => "uuid",
        N::Varint => "varint",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn native(n: NativeType) -> ColumnType<'static> {
        ColumnType::Native(n)
    }

    #[test]
    fn integers_must_fit_their_column() {
        assert_eq!(
            to_cql(&json!(42), &native(NativeType::Int)),
            Ok(CqlValue::Int(42))
        );
        assert_eq!(
            to_cql(&json!("42"), &native(NativeType::BigInt)),
            Ok(CqlValue::BigInt(42))
        );
        assert!(
            to_cql(&json!(300), &native(NativeType::TinyInt))
                .expect_err("must fail")
                .0
                .contains("out of range for tinyint")
        );
        assert!(
            to_cql(&json!("abc"), &native(NativeType::Int))
                .expect_err("must fail")
                .0
                .contains("not an integer")
        );
        assert!(to_cql(&json!(1.5), &native(NativeType::Int)).is_err());
    }

    #[test]
    fn timestamps_come_from_iso_8601_or_epoch_millis() {
        let ts = native(NativeType::Timestamp);
        assert_eq!(
            to_cql(&json!("1970-01-01T00:00:01.500Z"), &ts),
            Ok(CqlValue::Timestamp(CqlTimestamp(1500)))
        );
        assert_eq!(
            to_cql(&json!("1970-01-01T01:00:00+01:00"), &ts),
            Ok(CqlValue::Timestamp(CqlTimestamp(0)))
        );
        assert_eq!(
            to_cql(&json!(1234), &ts),
            Ok(CqlValue::Timestamp(CqlTimestamp(1234)))
        );
        assert!(to_cql(&json!("yesterday"), &ts).is_err());
    }

    #[test]
    fn dates_count_from_two_to_the_31() {
        assert_eq!(
            to_cql(&json!("1970-01-02"), &native(NativeType::Date)),
            Ok(CqlValue::Date(CqlDate((1 << 31) + 1)))
        );
    }

    #[test]
    fn big_integers_become_minimal_twos_complement() {
        for (n, bytes) in [
            ("0", vec![0]),
            ("127", vec![0x7f]),
            ("128", vec![0, 0x80]),
            ("-1", vec![0xff]),
            ("-128", vec![0x80]),
            ("-129", vec![0xff, 0x7f]),
            ("65536", vec![1, 0, 0]),
        ] {
            assert_eq!(signed_be_bytes(n), Ok(bytes), "{n}");
        }
        let big = "123456789012345678901234567890";
        let bytes = signed_be_bytes(big).expect("digits");
        assert_eq!(bytes.len(), 13);
    }

    #[test]
    fn decimals_keep_their_scale() {
        assert_eq!(
            to_cql(&json!("-12.50"), &native(NativeType::Decimal)),
            Ok(CqlValue::Decimal(
                CqlDecimal::from_signed_be_bytes_and_exponent(
                    signed_be_bytes("-1250").expect("n"),
                    2
                )
            ))
        );
        assert_eq!(
            to_cql(&json!("1.5e3"), &native(NativeType::Decimal)),
            Ok(CqlValue::Decimal(
                CqlDecimal::from_signed_be_bytes_and_exponent(vec![15], -2)
            ))
        );
        assert!(to_cql(&json!("1.2.3"), &native(NativeType::Decimal)).is_err());
    }

    #[test]
    fn collections_convert_each_element_and_refuse_nulls() {
        let list = ColumnType::Collection {
            frozen: false,
            typ: CollectionType::List(Box::new(native(NativeType::Int))),
        };
        assert_eq!(
            to_cql(&json!([1, 2]), &list),
            Ok(CqlValue::List(vec![CqlValue::Int(1), CqlValue::Int(2)]))
        );
        assert!(
            to_cql(&json!([1, null]), &list)
                .expect_err("must fail")
                .0
                .contains("element 1")
        );
        let map = ColumnType::Collection {
            frozen: false,
            typ: CollectionType::Map(
                Box::new(native(NativeType::Int)),
                Box::new(native(NativeType::Text)),
            ),
        };
        assert_eq!(
            to_cql(&json!({"7": "seven"}), &map),
            Ok(CqlValue::Map(vec![(
                CqlValue::Int(7),
                CqlValue::Text("seven".into())
            )]))
        );
        assert_eq!(cql_type_name(&map), "map<int, text>");
    }
}
