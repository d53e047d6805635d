//! The flat user event the enricher plugin expects, and the mapping from a
//! randomuser.me-shaped response to it.
//!
//! A result that does not fit is reported with the offending field and skipped as a whole:
//! an event is produced with every field filled, or not at all.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// One user, as produced to the topic (keyed by [`UserEvent::id`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEvent {
    /// The user's UUID (randomuser's `login.uuid`), lower-case hyphenated.
    pub id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// As the API gives it (`male`, `female`).
    pub gender: String,
    /// `number street, city, state, country`.
    pub address: String,
    /// Always text, though the API sometimes sends a number.
    pub post_code: String,
    /// E-mail address.
    pub email: String,
    /// Login name.
    pub username: String,
    /// Date of birth, ISO-8601.
    pub dob: String,
    /// Registration time, ISO-8601.
    pub registered_date: String,
    /// Phone number, as formatted by the API.
    pub phone: String,
    /// URL of the medium-sized portrait.
    pub picture: String,
}

/// Why one result of a response was skipped: the field, by its path in the response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("results[{index}].{path}: {problem}")]
pub struct FieldProblem {
    /// Position of the result in `results`.
    pub index: usize,
    /// Dotted path of the field inside the result, e.g. `dob.date`.
    pub path: &'static str,
    /// What is wrong with it (`missing`, `expected text, found an array`...).
    pub problem: String,
}

/// A response body that is not a randomuser.me-shaped document at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseProblem {
    /// The body is not JSON.
    #[error("the body is not JSON ({0})")]
    NotJson(String),
    /// The API answered with its own `error` member instead of results.
    #[error("the API answered with an error: {0}")]
    ApiError(String),
    /// There is no `results` array.
    #[error("the body has no `results` array")]
    NoResults,
}

/// The users of one response, and the results that were skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappedResponse {
    /// Complete users, in response order.
    pub users: Vec<UserEvent>,
    /// One problem per skipped result.
    pub skipped: Vec<FieldProblem>,
}

/// Maps a randomuser.me response body (`{"results": [...]}`) to flat users.
pub fn map_response(body: &[u8]) -> Result<MappedResponse, ResponseProblem> {
    let document: Value =
        serde_json::from_slice(body).map_err(|e| ResponseProblem::NotJson(e.to_string()))?;
    if let Some(error) = document.get("error") {
        let text = error
            .as_str()
            .map_or_else(|| error.to_string(), str::to_owned);
        return Err(ResponseProblem::ApiError(text));
    }
    let results = document
        .get("results")
        .and_then(Value::as_array)
        .ok_or(ResponseProblem::NoResults)?;
    let mut mapped = MappedResponse::default();
    for (index, result) in results.iter().enumerate() {
        match map_result(index, result) {
            Ok(user) => mapped.users.push(user),
            Err(problem) => mapped.skipped.push(problem),
        }
    }
    Ok(mapped)
}

/// Maps one element of `results`; `index` is only used to name the offending field.
pub fn map_result(index: usize, result: &Value) -> Result<UserEvent, FieldProblem> {
    let field = Fields { index, result };
    let uuid_text = field.text("login.uuid")?;
    let id = uuid::Uuid::parse_str(&uuid_text)
        .map_err(|e| field.problem("login.uuid", format!("`{uuid_text}` is not a UUID ({e})")))?;
    let address = format!(
        "{} {}, {}, {}, {}",
        field.text_or_number("location.street.number")?,
        field.text("location.street.name")?,
        field.text("location.city")?,
        field.text("location.state")?,
        field.text("location.country")?,
    );
    Ok(UserEvent {
        id: id.hyphenated().to_string(),
        first_name: field.text("name.first")?,
        last_name: field.text("name.last")?,
        gender: field.text("gender")?,
        address,
        post_code: field.text_or_number("location.postcode")?,
        email: field.text("email")?,
        username: field.text("login.username")?,
        dob: field.timestamp("dob.date")?,
        registered_date: field.timestamp("registered.date")?,
        phone: field.text("phone")?,
        picture: field.text("picture.medium")?,
    })
}

/// Field access on one result, producing problems that name the path.
struct Fields<'a> {
    index: usize,
    result: &'a Value,
}

impl Fields<'_> {
    fn problem(&self, path: &'static str, problem: impl Into<String>) -> FieldProblem {
        FieldProblem {
            index: self.index,
            path,
            problem: problem.into(),
        }
    }

    fn lookup(&self, path: &'static str) -> Result<&Value, FieldProblem> {
        path.split('.')
            .try_fold(self.result, |value, key| value.get(key))
            .filter(|value| !value.is_null())
            .ok_or_else(|| self.problem(path, "missing"))
    }

    /// Non-blank text.
    fn text(&self, path: &'static str) -> Result<String, FieldProblem> {
        match self.lookup(path)? {
            Value::String(s) if s.trim().is_empty() => Err(self.problem(path, "is empty")),
            Value::String(s) => Ok(s.clone()),
            other => Err(self.problem(path, format!("expected text, found {}", kind(other)))),
        }
    }

    /// Text, or a number turned into text (the API sends `postcode` and `street.number`
    /// either way).
    fn text_or_number(&self, path: &'static str) -> Result<String, FieldProblem> {
        match self.lookup(path)? {
            Value::Number(n) => Ok(n.to_string()),
            _ => self.text(path),
        }
    }

    /// An RFC 3339 / ISO-8601 timestamp, kept as the API wrote it.
    fn timestamp(&self, path: &'static str) -> Result<String, FieldProblem> {
        let text = self.text(path)?;
        chrono::DateTime::parse_from_rfc3339(&text).map_err(|e| {
            self.problem(path, format!("`{text}` is not an ISO-8601 timestamp ({e})"))
        })?;
        Ok(text)
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl fmt::Display for UserEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.first_name, self.last_name, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result() -> Value {
        json!({
            "gender": "female",
            "name": {"title": "Ms", "first": "Aino", "last": "Koskinen"},
            "location": {
                "street": {"number": 5712, "name": "Hämeenkatu"},
                "city": "Kotka", "state": "Kymenlaakso", "country": "Finland",
                "postcode": "68391",
                "coordinates": {"latitude": "1", "longitude": "2"},
            },
            "email": "aino.koskinen@example.com",
            "login": {"uuid": "1B9D6BCD-BBFD-4B2D-9B5D-AB8DFBBD4BED", "username": "bluecat42"},
            "dob": {"date": "1988-03-01T10:20:30.456Z", "age": 38},
            "registered": {"date": "2012-07-09T01:02:03.004Z", "age": 14},
            "phone": "02-123-456",
            "picture": {"large": "l.jpg", "medium": "https://randomuser.me/api/portraits/med/women/3.jpg"},
            "nat": "FI",
        })
    }

    fn body(results: Vec<Value>) -> Vec<u8> {
        serde_json::to_vec(&json!({"results": results, "info": {"seed": "x"}})).expect("json")
    }

    #[test]
    fn a_complete_result_becomes_a_flat_user_with_every_field() {
        let user = map_result(0, &result()).expect("maps");
        assert_eq!(
            user,
            UserEvent {
                id: "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed".into(),
                first_name: "Aino".into(),
                last_name: "Koskinen".into(),
                gender: "female".into(),
                address: "5712 Hämeenkatu, Kotka, Kymenlaakso, Finland".into(),
                post_code: "68391".into(),
                email: "aino.koskinen@example.com".into(),
                username: "bluecat42".into(),
                dob: "1988-03-01T10:20:30.456Z".into(),
                registered_date: "2012-07-09T01:02:03.004Z".into(),
                phone: "02-123-456".into(),
                picture: "https://randomuser.me/api/portraits/med/women/3.jpg".into(),
            }
        );
    }

    #[test]
    fn a_numeric_postcode_becomes_text() {
        let mut r = result();
        r["location"]["postcode"] = json!(4021);
        assert_eq!(map_result(0, &r).expect("maps").post_code, "4021");
    }

    #[test]
    fn a_missing_field_skips_the_result_and_names_its_path() {
        let mut broken = result();
        broken["dob"]
            .as_object_mut()
            .expect("object")
            .remove("date");
        let mapped = map_response(&body(vec![result(), result(), result(), broken]))
            .expect("a well-formed response");
        assert_eq!(mapped.users.len(), 3);
        assert_eq!(mapped.skipped.len(), 1);
        assert_eq!(
            mapped.skipped[0].to_string(),
            "results[3].dob.date: missing"
        );
    }

    #[test]
    fn wrong_types_invalid_ids_and_bad_dates_are_named() {
        let cases: [(&str, Value, &str); 5] = [
            (
                "name.first",
                json!(["Aino"]),
                "results[0].name.first: expected text, found an array",
            ),
            ("email", json!("  "), "results[0].email: is empty"),
            ("phone", Value::Null, "results[0].phone: missing"),
            (
                "login.uuid",
                json!("nope"),
                "results[0].login.uuid: `nope` is not a UUID",
            ),
            (
                "registered.date",
                json!("yesterday"),
                "results[0].registered.date: `yesterday` is not an ISO-8601 timestamp",
            ),
        ];
        for (path, value, expected) in cases {
            let mut r = result();
            let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
            let target = if parent.is_empty() {
                &mut r
            } else {
                &mut r[parent]
            };
            target[key] = value;
            let problem = map_result(0, &r).expect_err(path).to_string();
            assert!(problem.starts_with(expected), "{problem} vs {expected}");
        }
    }

    #[test]
    fn bodies_that_are_not_randomuser_documents_are_refused_whole() {
        assert!(matches!(
            map_response(b"{\"results\": [ {\"gender\": "),
            Err(ResponseProblem::NotJson(_))
        ));
        assert_eq!(
            map_response(br#"{"error": "Uh oh, something has gone wrong."}"#),
            Err(ResponseProblem::ApiError(
                "Uh oh, something has gone wrong.".into()
            ))
        );
        assert_eq!(map_response(b"{}"), Err(ResponseProblem::NoResults));
    }

    #[test]
    fn the_example_events_have_the_same_shape() {
        let line = include_str!("../../../examples/users.jsonl")
            .lines()
            .next()
            .expect("one example");
        let example: UserEvent = serde_json::from_str(line).expect("example parses as a user");
        let back = serde_json::to_value(&example).expect("serialises");
        let original: Value = serde_json::from_str(line).expect("json");
        assert_eq!(back, original, "same fields, same names, nothing more");
    }
}
