//! Replaces configured top-level fields with a keyed hash, so records stay joinable on the
//! masked value without revealing it.
//!
//! Config:
//!
//! | key | meaning |
//! |---|---|
//! | `fields` | comma-separated top-level fields to mask, e.g. `email,phone` (required) |
//! | `key` | the secret HMAC key (required, non-empty); the same key gives the same hashes |
//!
//! Each present, non-null field becomes the lowercase hex HMAC-SHA256 of its content under
//! `key`: the unescaped text for a string, the JSON text as written for anything else.
//! Absent and `null` fields stay as they are; every other field keeps its place and bytes.
//! A value that is not a JSON object fails the event with `invalid-input`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use weir_sdk::{Config, Emit, Event, EventError, Plugin};

/// The PII masking plugin.
pub struct PiiMask {
    fields: Vec<String>,
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for PiiMask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("PiiMask")
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl Plugin for PiiMask {
    fn init(config: Config) -> Result<Self, String> {
        config.only(&["fields", "key"])?;
        let fields: Vec<String> = config
            .require("fields")?
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        if fields.is_empty() {
            return Err("config key `fields` lists no field; give e.g. fields=email,phone".into());
        }
        let key = config.require("key")?;
        if key.is_empty() {
            return Err("config key `key` is empty; give a secret key".into());
        }
        let mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
            .map_err(|e| format!("config key `key`: {e}"))?;
        Ok(PiiMask { fields, mac })
    }

    fn process(&mut self, event: &Event, out: &mut Emit<'_>) -> Result<(), EventError> {
        let mut object = event.object()?;
        let mut changed = false;
        for field in &self.fields {
            let Some(raw) = object.get(field) else {
                continue;
            };
            let hash = match raw.get() {
                "null" => continue,
                text if text.starts_with('"') => {
                    let content = object
                        .get_str(field)
                        .map_err(|e| EventError::from_field(field, e))?;
                    self.hash(content.as_bytes())
                }
                text => self.hash(text.as_bytes()),
            };
            object.set_str(field, &hash);
            changed = true;
        }
        // Untouched events keep their exact bytes.
        if changed {
            out.value(object.to_vec())
        } else {
            out.forward()
        }
        Ok(())
    }
}

impl PiiMask {
    fn hash(&self, content: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(content);
        let digest = mac.finalize().into_bytes();
        let mut hex = String::with_capacity(digest.len() * 2);
        for byte in digest {
            hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
        }
        hex
    }
}

weir_sdk::export!(PiiMask);

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(value: &str) -> String {
        let mut plugin = PiiMask::init(Config::new([
            ("fields", "email, phone,age"),
            ("key", "key"),
        ]))
        .unwrap();
        let outputs = weir_sdk::run(&mut plugin, &Event::new(value, 0)).unwrap();
        String::from_utf8(outputs[0].value.clone()).unwrap()
    }

    #[test]
    fn masks_with_rfc_4231_compatible_hmac_sha256() {
        // HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog").
        let out = mask(r#"{"id":1,"email":"The quick brown fox jumps over the lazy dog"}"#);
        assert_eq!(
            out,
            r#"{"id":1,"email":"f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"}"#
        );
    }

    #[test]
    fn is_deterministic_and_leaves_other_fields_in_place() {
        let input = r#"{"name":"Ada", "phone":"555-1234","age":36,"email":null}"#;
        let (first, second) = (mask(input), mask(input));
        assert_eq!(first, second);
        let value: weir_sdk::serde_json::Value = weir_sdk::serde_json::from_str(&first).unwrap();
        assert_eq!(value["name"], "Ada");
        assert_eq!(value["email"], weir_sdk::serde_json::Value::Null);
        assert_eq!(value["phone"].as_str().map(str::len), Some(64));
        assert_eq!(value["age"].as_str().map(str::len), Some(64));
        assert!(first.starts_with(r#"{"name":"Ada","phone":""#));
    }

    #[test]
    fn events_without_masked_fields_pass_byte_for_byte() {
        assert_eq!(mask(r#"{ "name" : "Ada" }"#), r#"{ "name" : "Ada" }"#);
    }

    #[test]
    fn config_needs_fields_and_a_key() {
        assert!(
            PiiMask::init(Config::new([("fields", "email")]))
                .unwrap_err()
                .contains("`key`")
        );
        assert!(
            PiiMask::init(Config::new([("fields", " , "), ("key", "k")]))
                .unwrap_err()
                .contains("`fields`")
        );
    }
}
