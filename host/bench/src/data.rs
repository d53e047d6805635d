//! The benchmark's input: realistic user events, generated deterministically.
//!
//! The 141 users of `examples/users.jsonl` and `tests/fixtures/users.jsonl` are cycled and
//! varied (a fresh `id`, first and last names swapped between users) by a fixed-seed
//! generator, so every run on every machine sees the same bytes.

use bytes::Bytes;
use std::sync::Arc;
use weir_core::{Event, Position};

/// Every event's timestamp: 2024-06-15T12:00:00Z, so ages (and outputs) never drift.
pub const TIMESTAMP_MS: i64 = 1_718_452_800_000;

const USERS: [&str; 2] = [
    include_str!("../../../examples/users.jsonl"),
    include_str!("../../../tests/fixtures/users.jsonl"),
];

/// SplitMix64: tiny, seeded, and the same everywhere.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        // `from` is never empty here and its length fits in u64.
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// `count` user events as JSON values, varied from the bundled users by a fixed seed.
pub fn user_values(count: usize) -> Vec<String> {
    let users: Vec<&str> = USERS
        .iter()
        .flat_map(|file| file.lines())
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let first_names: Vec<&str> = users
        .iter()
        .filter_map(|u| string_field(u, "first_name"))
        .collect();
    let last_names: Vec<&str> = users
        .iter()
        .filter_map(|u| string_field(u, "last_name"))
        .collect();
    let mut rng = SplitMix64(0x5745_4952_4245_4E43); // "WEIRBENC"
    (0..count)
        .map(|i| {
            let user = users[i % users.len()];
            let id = format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                rng.next() as u32,
                rng.next() as u16,
                rng.next() & 0xfff,
                rng.next() & 0xfff,
                rng.next() & 0xffff_ffff_ffff
            );
            let mut value = replace_string_field(user, "id", &id);
            if !first_names.is_empty() && !last_names.is_empty() {
                value = replace_string_field(&value, "first_name", rng.pick(&first_names));
                value = replace_string_field(&value, "last_name", rng.pick(&last_names));
            }
            value
        })
        .collect()
}

/// The values as pipeline events, keyed by their position like Kafka records of one
/// partition.
pub fn events(values: &[String]) -> Vec<Event> {
    let topic: Arc<str> = Arc::from("users");
    values
        .iter()
        .enumerate()
        .map(|(offset, value)| Event {
            key: Some(Bytes::from(format!("user-{offset}"))),
            value: Bytes::copy_from_slice(value.as_bytes()),
            headers: Vec::new(),
            timestamp_ms: TIMESTAMP_MS,
            position: Position {
                topic: Arc::clone(&topic),
                partition: 0,
                offset: i64::try_from(offset).unwrap_or(i64::MAX),
            },
        })
        .collect()
}

/// The raw (still escaped) text of a top-level string field, if present.
fn string_field<'a>(json: &'a str, field: &str) -> Option<&'a str> {
    let (start, end) = string_field_span(json, field)?;
    Some(&json[start..end])
}

/// Byte range of the raw text of `"field":"…"`'s value, between its quotes.
fn string_field_span(json: &str, field: &str) -> Option<(usize, usize)> {
    let needle = format!("\"{field}\":\"");
    let start = json.find(&needle)? + needle.len();
    let bytes = json.as_bytes();
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some((start, i)),
            _ => i += 1,
        }
    }
    None
}

/// `json` with the string field's raw text replaced by `raw` (already JSON-escaped).
fn replace_string_field(json: &str, field: &str, raw: &str) -> String {
    match string_field_span(json, field) {
        Some((start, end)) => format!("{}{raw}{}", &json[..start], &json[end..]),
        None => json.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_count_gives_the_same_bytes_and_every_value_is_json() {
        let a = user_values(300);
        assert_eq!(a, user_values(300));
        assert_eq!(a.len(), 300);
        for value in &a {
            let parsed: serde_json::Value = serde_json::from_str(value).expect("valid JSON");
            assert!(parsed["id"].is_string());
        }
        assert_ne!(a[0], a[141], "cycled users are varied");
    }
}
