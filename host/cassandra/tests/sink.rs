//! The Cassandra sink against the real Cassandra of the test run: schema creation, the JSON to
//! CQL mapping read back field by field, write timestamps, and per-event failures.

mod common;

use common::{config, event, golden_outputs, user};
use scylla::value::{CqlDate, CqlDecimal, CqlTimestamp, CqlTimeuuid, CqlValue, CqlVarint, Row};
use serde_json::{Value, json};
use weir_cassandra::{
    CassandraError, CassandraSink, ENRICHER_COLUMNS, FieldKind, UnknownFields, connect_session,
    enricher_fields, validate_against_table,
};
use weir_core::{ErrorClass, Sink, Stage};

const A: &str = "11111111-1111-4111-8111-111111111111";
const B: &str = "22222222-2222-4222-8222-222222222222";
const C: &str = "33333333-3333-4333-8333-333333333333";

async fn select_row(sink: &CassandraSink, columns: &str, table: &str, id: &str) -> Option<Row> {
    let schema = sink.schema();
    let query = format!(
        "SELECT {columns} FROM \"{}\".\"{table}\" WHERE id = ?",
        schema.keyspace
    );
    let id = uuid::Uuid::parse_str(id).expect("test ids are UUIDs");
    sink.session()
        .query_unpaged(query, (id,))
        .await
        .expect("select runs")
        .into_rows_result()
        .expect("select returns rows")
        .maybe_first_row::<Row>()
        .expect("row deserializes")
}

#[tokio::test]
async fn create_schema_makes_the_enricher_table_with_typed_columns_and_is_idempotent() {
    let config = config("create_schema");
    let sink = CassandraSink::connect(config.clone())
        .await
        .expect("sink connects and creates the schema");
    let schema = sink.schema();
    assert_eq!(schema.columns.len(), ENRICHER_COLUMNS.len());
    for (name, typ) in ENRICHER_COLUMNS {
        let column = schema
            .column(name)
            .unwrap_or_else(|| panic!("column {name} exists"));
        assert_eq!(
            weir_cassandra::cql_type_name(&column.typ),
            typ,
            "type of {name}"
        );
        assert_eq!(column.key, name == "id", "key flag of {name}");
    }
    // A second start (another weir process, a restart) finds everything in place.
    let again = CassandraSink::connect(config)
        .await
        .expect("second create_schema is a no-op");
    assert_eq!(again.schema(), sink.schema());
}

#[tokio::test]
async fn a_missing_table_without_create_schema_is_an_error_naming_the_fix() {
    let mut config = config("missing_table");
    config.create_schema = false;
    let err = CassandraSink::connect(config.clone())
        .await
        .err()
        .expect("no keyspace yet");
    assert!(matches!(err, CassandraError::NoKeyspace(_)), "{err}");
    assert!(err.to_string().contains("create_schema = true"), "{err}");
}

#[tokio::test]
async fn enriched_user_events_are_written_and_read_back_field_by_field() {
    let mut sink = CassandraSink::connect(config("golden"))
        .await
        .expect("sink connects");
    let outputs = golden_outputs();
    assert!(
        outputs.len() > 10,
        "the golden fixture has enricher outputs"
    );
    let batch = outputs
        .iter()
        .map(|(v, ts)| event(v.to_string(), *ts))
        .collect();
    let results = sink.write(batch).await.expect("the sink keeps going");
    assert!(results.iter().all(Result::is_ok), "{results:?}");

    // The fixture has one user several times at different record timestamps (age at event
    // time); whatever order the concurrent writes land in, the newest record wins.
    let mut newest: std::collections::HashMap<&str, (&Value, i64)> = Default::default();
    for (output, ts) in &outputs {
        let id = output["id"].as_str().expect("id is a string");
        let slot = newest.entry(id).or_insert((output, *ts));
        if *ts > slot.1 {
            *slot = (output, *ts);
        }
    }
    let names: Vec<&str> = ENRICHER_COLUMNS.iter().map(|(n, _)| *n).collect();
    for (expected, _) in newest.values() {
        let id = expected["id"].as_str().expect("id is a string");
        let row = select_row(&sink, &names.join(", "), "users", id)
            .await
            .expect("row exists");
        for ((name, _), value) in ENRICHER_COLUMNS.iter().zip(&row.columns) {
            assert_cell(name, value.as_ref(), &expected[*name]);
        }
    }
    assert_eq!(sink.metrics().snapshot().writes, outputs.len() as u64);
}

/// Compares a cell with the JSON the enricher produced, by the column's type.
fn assert_cell(name: &str, cell: Option<&CqlValue>, expected: &Value) {
    match cell {
        Some(CqlValue::Text(s)) => assert_eq!(Some(s.as_str()), expected.as_str(), "{name}"),
        Some(CqlValue::Int(i)) => assert_eq!(Some(i64::from(*i)), expected.as_i64(), "{name}"),
        Some(CqlValue::Uuid(u)) => assert_eq!(
            Some(u.to_string()),
            expected.as_str().map(str::to_lowercase),
            "{name}"
        ),
        Some(CqlValue::Timestamp(CqlTimestamp(ms))) => {
            let iso = expected.as_str().expect("timestamps are ISO strings");
            let want = chrono::DateTime::parse_from_rfc3339(iso)
                .expect("valid ISO-8601")
                .timestamp_millis();
            assert_eq!(*ms, want, "{name}");
        }
        None => assert!(expected.is_null(), "{name} is null but expected {expected}"),
        other => panic!("{name}: unexpected cell {other:?}"),
    }
}

#[tokio::test]
async fn an_older_replay_does_not_overwrite_a_newer_write() {
    let mut sink = CassandraSink::connect(config("timestamps"))
        .await
        .expect("sink connects");
    let newer = event(user(A, "Newer"), 2_000);
    let older = event(user(A, "Older"), 1_000);
    for e in [newer.clone(), older, newer] {
        let results = sink.write(vec![e]).await.expect("written");
        assert!(results[0].is_ok(), "{results:?}");
    }
    let row = select_row(&sink, "first_name, WRITETIME(first_name)", "users", A)
        .await
        .expect("row");
    assert_eq!(row.columns[0], Some(CqlValue::Text("Newer".into())));
    // The Kafka timestamp (ms) became the write timestamp (µs).
    assert_eq!(row.columns[1], Some(CqlValue::BigInt(2_000_000)));
}

#[tokio::test]
async fn one_bad_event_fails_alone_and_its_neighbours_are_written() {
    let mut sink = CassandraSink::connect(config("poison"))
        .await
        .expect("sink connects");
    let batch = vec![
        event(user(A, "Ann"), 1),
        event(json!({"id": B, "age": "abc"}).to_string(), 2),
        event(json!({"first_name": "No Id"}).to_string(), 3),
        event("this is not json", 4),
        event(json!([1, 2]).to_string(), 5),
        event(user(C, "Cid"), 6),
    ];
    let results = sink.write(batch).await.expect("the sink keeps going");
    assert_eq!(results.len(), 6);
    assert!(results[0].is_ok() && results[5].is_ok(), "{results:?}");
    let failure = |i: usize| results[i].clone().expect_err("this event fails");

    let age = failure(1);
    assert_eq!(
        (age.stage.clone(), age.class, age.field.as_deref()),
        (Stage::Sink, ErrorClass::SinkRejected, Some("age"))
    );
    assert!(
        age.message
            .contains(r#"value "abc" cannot be written to column `age` of type int"#),
        "{}",
        age.message
    );
    let id = failure(2);
    assert_eq!(id.field.as_deref(), Some("id"));
    assert!(
        id.message
            .contains("primary-key field `id` (uuid) is missing"),
        "{}",
        id.message
    );
    assert!(
        failure(3).message.contains("not JSON"),
        "{}",
        failure(3).message
    );
    assert!(
        failure(4).message.contains("not an object"),
        "{}",
        failure(4).message
    );

    assert!(
        select_row(&sink, "id", "users", A).await.is_some(),
        "Ann is written"
    );
    assert!(
        select_row(&sink, "id", "users", C).await.is_some(),
        "Cid is written"
    );
    assert!(
        select_row(&sink, "id", "users", B).await.is_none(),
        "the bad event is not"
    );
    let metrics = sink.metrics().snapshot();
    assert_eq!((metrics.writes, metrics.rejected), (2, 4));
}

#[tokio::test]
async fn with_unknown_fields_error_an_extra_field_rejects_the_event() {
    let mut config = config("unknown_fields");
    config.unknown_fields = UnknownFields::Error;
    let mut sink = CassandraSink::connect(config).await.expect("sink connects");
    let extra = json!({"id": A, "shoe_size": 44}).to_string();
    let results = sink
        .write(vec![event(extra, 1), event(user(B, "Bo"), 2)])
        .await
        .expect("written");
    let failure = results[0].clone().expect_err("extra field");
    assert_eq!(failure.field.as_deref(), Some("shoe_size"));
    assert!(results[1].is_ok(), "{results:?}");
}

#[tokio::test]
async fn every_supported_type_converts_including_collections_and_null() {
    let base = config("types");
    let session = std::sync::Arc::new(connect_session(&base).await.expect("session"));
    // The keyspace comes from create_schema; the table of every type is made by hand.
    CassandraSink::with_session(session.clone(), base.clone())
        .await
        .expect("keyspace created");
    let ddl = format!(
        "CREATE TABLE \"{}\".types (id uuid PRIMARY KEY, t text, v varchar, a ascii, i int, b bigint, \
         s smallint, ti tinyint, tu timeuuid, ts timestamp, ts_iso timestamp, d date, bo boolean, db double, \
         f float, dec decimal, vi varint, ip inet, l list<int>, st set<text>, m map<text, bigint>, \
         fl frozen<list<uuid>>, n text)",
        base.keyspace
    );
    session
        .query_unpaged(ddl, &[])
        .await
        .expect("types table created");
    let mut types = base.clone();
    types.table = "types".into();
    types.create_schema = false;
    let mut sink = CassandraSink::with_session(session, types)
        .await
        .expect("sink on types");

    let value = json!({
        "id": A, "t": "héllo", "v": "varchar", "a": "plain", "i": -5, "b": "9007199254740993",
        "s": 300, "ti": -7, "tu": "d0e1ba3c-7f22-11ee-b962-0242ac120002", "ts": 1_700_000_000_123_i64,
        "ts_iso": "2024-02-29T12:00:00.5+01:00", "d": "2024-02-29", "bo": true, "db": 1.25, "f": 0.5,
        "dec": "-12.345", "vi": "123456789012345678901234567890", "ip": "::1",
        "l": [3, 1, 2], "st": ["b", "a"], "m": {"k": 5}, "fl": [B, C], "n": null
    });
    let results = sink
        .write(vec![event(value.to_string(), 1)])
        .await
        .expect("written");
    assert!(results[0].is_ok(), "{results:?}");

    let columns =
        "t, v, a, i, b, s, ti, tu, ts, ts_iso, d, bo, db, f, dec, vi, ip, l, st, m, fl, n";
    let row = select_row(&sink, columns, "types", A).await.expect("row");
    let uuid = |s: &str| uuid::Uuid::parse_str(s).expect("uuid");
    let text = |s: &str| CqlValue::Text(s.into());
    let expected = vec![
        Some(text("héllo")),
        Some(text("varchar")),
        Some(CqlValue::Ascii("plain".into())),
        Some(CqlValue::Int(-5)),
        Some(CqlValue::BigInt(9_007_199_254_740_993)),
        Some(CqlValue::SmallInt(300)),
        Some(CqlValue::TinyInt(-7)),
        Some(CqlValue::Timeuuid(CqlTimeuuid::from(uuid(
            "d0e1ba3c-7f22-11ee-b962-0242ac120002",
        )))),
        Some(CqlValue::Timestamp(CqlTimestamp(1_700_000_000_123))),
        Some(CqlValue::Timestamp(CqlTimestamp(1_709_204_400_500))),
        Some(CqlValue::Date(CqlDate((1 << 31) + 19_782))),
        Some(CqlValue::Boolean(true)),
        Some(CqlValue::Double(1.25)),
        Some(CqlValue::Float(0.5)),
        Some(CqlValue::Decimal(
            CqlDecimal::from_signed_be_bytes_and_exponent(vec![0xcf, 0xc7], 3),
        )),
        Some(CqlValue::Varint(CqlVarint::from_signed_bytes_be(vec![
            0x01, 0x8e, 0xe9, 0x0f, 0xf6, 0xc3, 0x73, 0xe0, 0xee, 0x4e, 0x3f, 0x0a, 0xd2,
        ]))),
        Some(CqlValue::Inet("::1".parse().expect("ip"))),
        Some(CqlValue::List(vec![
            CqlValue::Int(3),
            CqlValue::Int(1),
            CqlValue::Int(2),
        ])),
        Some(CqlValue::Set(vec![text("a"), text("b")])),
        Some(CqlValue::Map(vec![(text("k"), CqlValue::BigInt(5))])),
        Some(CqlValue::List(vec![
            CqlValue::Uuid(uuid(B)),
            CqlValue::Uuid(uuid(C)),
        ])),
        None,
    ];
    for (name, (got, want)) in columns.split(", ").zip(row.columns.iter().zip(&expected)) {
        assert_eq!(got, want, "column {name}");
    }

    // A value out of range for its column fails that event only, naming the type.
    let bad = json!({"id": B, "ti": 1000}).to_string();
    let results = sink
        .write(vec![event(bad, 2)])
        .await
        .expect("sink keeps going");
    let failure = results[0].clone().expect_err("tinyint overflow");
    assert!(
        failure
            .message
            .contains("of type tinyint: out of range for tinyint"),
        "{}",
        failure.message
    );
}

#[tokio::test]
async fn validate_reports_a_missing_key_and_type_mismatches_against_the_real_table() {
    let config = config("validate");
    let sink = CassandraSink::connect(config.clone())
        .await
        .expect("schema created");
    let mut fields: Vec<_> = enricher_fields()
        .into_iter()
        .filter(|f| f.name != "id")
        .collect();
    if let Some(age) = fields.iter_mut().find(|f| f.name == "age") {
        age.kind = FieldKind::Bool;
    }
    let problems = validate_against_table(sink.session(), &config, &fields)
        .await
        .expect("table readable");
    let columns: Vec<&str> = problems.iter().map(|p| p.column.as_str()).collect();
    assert_eq!(columns, ["id", "age"], "{problems:?}");
    assert!(
        problems[0].message.contains("primary-key column `id`"),
        "{}",
        problems[0].message
    );
    assert!(
        problems[1].message.contains("column `age` is int"),
        "{}",
        problems[1].message
    );
    assert!(
        validate_against_table(sink.session(), &config, &enricher_fields())
            .await
            .expect("ok")
            .is_empty()
    );
}
