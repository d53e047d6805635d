use super::*;

/// 2024-06-15T12:00:00Z.
const JUNE_15_2024: i64 = 1_718_452_800_000;

fn user(dob: &str) -> String {
    format!(
        r#"{{"id":"u1","first_name":"Ada","last_name":"Lovelace","email":"ada@Example.org","dob":"{dob}","phone":"1"}}"#
    )
}

fn derived(value: &[u8]) -> serde_json::Value {
    serde_json::from_slice(value).unwrap()
}

#[test]
fn appends_the_four_fields_after_the_original_bytes() {
    let input = user("1990-06-15T08:00:00.000Z");
    let out = enrich(input.as_bytes(), JUNE_15_2024).unwrap();
    let expected = format!(
        r#"{},"full_name":"Ada Lovelace","email_domain":"example.org","age":34,"age_group":"25-34"}}"#,
        &input[..input.len() - 1]
    );
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

#[test]
fn the_birthday_counts_from_the_start_of_its_day_and_the_clock_is_never_read() {
    let on_birthday = derived(&enrich(user("2006-06-15").as_bytes(), JUNE_15_2024).unwrap());
    assert_eq!(
        (
            on_birthday["age"].as_u64(),
            on_birthday["age_group"].as_str()
        ),
        (Some(18), Some("18-24"))
    );
    let day_before = derived(&enrich(user("2006-06-16").as_bytes(), JUNE_15_2024).unwrap());
    assert_eq!(
        (day_before["age"].as_u64(), day_before["age_group"].as_str()),
        (Some(17), Some("<18"))
    );
}

#[test]
fn age_groups_switch_at_each_boundary() {
    for (age, group) in [
        (0, "<18"),
        (17, "<18"),
        (18, "18-24"),
        (24, "18-24"),
        (25, "25-34"),
        (34, "25-34"),
        (35, "35-44"),
        (44, "35-44"),
        (45, "45-54"),
        (54, "45-54"),
        (55, "55-64"),
        (64, "55-64"),
        (65, "65+"),
        (120, "65+"),
    ] {
        assert_eq!(AgeGroup::of(age).as_str(), group, "age {age}");
    }
}

#[test]
fn a_leap_day_birthday_is_reached_on_march_first_in_common_years() {
    // 2023-02-28T23:59:59.999Z and 2023-03-01T00:00:00Z.
    let feb_28 =
        derived(&enrich(user("2000-02-29T00:00:00Z").as_bytes(), 1_677_628_799_999).unwrap());
    let mar_1 =
        derived(&enrich(user("2000-02-29T00:00:00Z").as_bytes(), 1_677_628_800_000).unwrap());
    assert_eq!(feb_28["age"], 22);
    assert_eq!(mar_1["age"], 23);
}

#[test]
fn errors_name_the_field_at_fault() {
    let cases: [(&[u8], EnrichError); 7] = [
        (b"not json", EnrichError::InvalidInput(String::new())),
        (b"[1,2]", EnrichError::InvalidInput(String::new())),
        (
            br#"{"first_name":"A","last_name":"B","email":"a@b.c"}"#,
            EnrichError::MissingField("dob"),
        ),
        (
            br#"{"first_name":"A","last_name":"B","dob":"2000-01-01"}"#,
            EnrichError::MissingField("email"),
        ),
        (
            br#"{"first_name":7,"last_name":"B","email":"a@b.c","dob":"2000-01-01"}"#,
            EnrichError::InvalidField {
                field: "first_name",
                problem: "expected a string, found a number".into(),
            },
        ),
        (
            br#"{"first_name":"A","last_name":"B","email":"a@b.c","dob":"2000-02-30"}"#,
            EnrichError::InvalidField {
                field: "dob",
                problem: String::new(),
            },
        ),
        (
            br#"{"first_name":"A","last_name":"B","email":"nobody","dob":"2000-01-01"}"#,
            EnrichError::InvalidField {
                field: "email",
                problem: String::new(),
            },
        ),
    ];
    for (input, expected) in cases {
        let error = enrich(input, JUNE_15_2024).unwrap_err();
        assert_eq!(
            (error.kind(), error.field()),
            (expected.kind(), expected.field()),
            "{}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn a_birth_date_after_the_event_is_an_invalid_dob() {
    let error = enrich(user("2030-01-01").as_bytes(), JUNE_15_2024).unwrap_err();
    assert_eq!(
        (error.kind(), error.field()),
        ("invalid-field", Some("dob"))
    );
}

#[test]
fn existing_derived_fields_are_replaced_not_duplicated() {
    let input = br#"{"age":"old","first_name":"A","last_name":"B","email":"a@B.c","dob":"2000-01-01","full_name":null}"#;
    let out = enrich(input, JUNE_15_2024).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"age":24,"first_name":"A","last_name":"B","email":"a@B.c","dob":"2000-01-01","full_name":"A B","email_domain":"b.c","age_group":"18-24"}"#
    );
}

#[test]
fn escaped_strings_are_read_unescaped_and_written_escaped() {
    let input = br#"{"first_name":"Jos\u00e9","last_name":" \"Pepe\" ","email":"j@EXAMPLE.com","dob":"1980-01-01"}"#;
    let out = derived(&enrich(input, JUNE_15_2024).unwrap());
    assert_eq!(out["full_name"], "José \"Pepe\"");
    assert_eq!(out["email_domain"], "example.com");
}

/// The golden file the host runtime tests also run `enricher.wasm` over.
#[test]
fn matches_the_golden_file() {
    let golden = include_str!("../../../tests/fixtures/enricher-golden.jsonl");
    let mut checked = 0;
    for (number, line) in golden
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let value = case["value"].as_str().unwrap();
        let timestamp_ms = case["timestamp_ms"].as_i64().unwrap();
        let result = enrich(value.as_bytes(), timestamp_ms);
        match (&case["output"], &case["error"]) {
            (serde_json::Value::String(expected), _) => {
                assert_eq!(
                    String::from_utf8(result.unwrap()).unwrap(),
                    *expected,
                    "line {}",
                    number + 1
                )
            }
            (_, serde_json::Value::Object(expected)) => {
                let error = result.unwrap_err();
                assert_eq!(error.kind(), expected["kind"], "line {}", number + 1);
                assert_eq!(
                    error.field(),
                    expected["field"].as_str(),
                    "line {}",
                    number + 1
                );
            }
            _ => panic!("line {}: neither `output` nor `error`", number + 1),
        }
        checked += 1;
    }
    assert!(checked >= 20, "golden file has only {checked} cases");
}

/// The one-pass reading of the four fields agrees with serde_json wherever it answers: on
/// the fixture users and on many inputs one or a few edits away from them (escapes,
/// other types, broken syntax, non-ASCII), which it must either read identically or leave
/// to serde_json.
#[test]
fn the_fast_reading_agrees_with_serde_json_wherever_it_answers() {
    let users = include_str!("../../../tests/fixtures/users.jsonl");
    let golden = include_str!("../../../tests/fixtures/enricher-golden.jsonl");
    let mut seeds: Vec<Vec<u8>> = users.lines().map(|l| l.as_bytes().to_vec()).collect();
    for line in golden.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        seeds.push(case["value"].as_str().unwrap().as_bytes().to_vec());
    }
    let alphabet: &[u8] = b"{}[]\":,\\ \n\t0123456789-+.eEtrufalsn\x01\x7f\xc3\xa9@Tz";
    let mut mutator = weir_json::mutate::Mutator::new(0x9e37_79b9_7f4a_7c15, alphabet);
    let (mut fast, mut total) = (0, 0);
    for seed in &seeds {
        for round in 0..400 {
            let mut bytes = seed.clone();
            mutator.edit(&mut bytes, round % 4);
            total += 1;
            let slow = serde_json::from_slice::<user::User<'_>>(&bytes).ok();
            if let Some(user) = user::User::scan(&bytes) {
                fast += 1;
                assert_eq!(Some(user), slow, "{}", String::from_utf8_lossy(&bytes));
            }
        }
    }
    // Unedited users and most single edits of string contents stay on the fast path.
    assert!(
        fast * 4 > total,
        "only {fast} of {total} inputs read in one pass"
    );
}

#[test]
fn each_derived_field_already_present_is_noticed_on_the_fast_path() {
    for field in DERIVED_FIELDS {
        let input = format!(
            r#"{{"first_name":"A","last_name":"B","email":"a@b.c","dob":"2000-01-01","{field}":"x"}}"#
        );
        let user = user::User::scan(input.as_bytes()).expect("read in one pass");
        assert!(user.has_derived_field, "{field}");
        let out = String::from_utf8(enrich(input.as_bytes(), JUNE_15_2024).unwrap()).unwrap();
        assert_eq!(out.matches(&format!("\"{field}\"")).count(), 1, "{out}");
    }
}
