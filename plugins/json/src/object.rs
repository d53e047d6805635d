//! A borrowed, order-preserving view of a JSON object.

use crate::{JsonError, write_str};
use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// The top-level fields of a JSON object, in input order, each value kept as its original
/// JSON text until someone replaces it.
///
/// Use it to replace or remove fields without disturbing the rest of the document (a
/// `serde_json::Map` would sort the keys and re-serialise every value). To only *add*
/// fields, [`crate::Splice`] is cheaper.
#[derive(Debug, Clone, Default)]
pub struct Object<'a> {
    fields: Vec<(Cow<'a, str>, Cow<'a, RawValue>)>,
}

/// Why a typed field read failed; the caller knows the field's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    /// The object has no such field.
    Missing,
    /// The field exists but holds another JSON type; `found` names that type.
    WrongType {
        /// What the caller asked for, e.g. `"a string"`.
        expected: &'static str,
        /// What the field holds, e.g. `"a number"`.
        found: &'static str,
    },
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldError::Missing => f.write_str("field is missing"),
            FieldError::WrongType { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
        }
    }
}

impl std::error::Error for FieldError {}

/// Names the JSON type of a raw value from its first byte (the value is valid JSON).
pub fn json_type(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

impl<'a> Object<'a> {
    /// Parses `bytes`, which must hold one JSON object. Values are not parsed beyond
    /// validation; they stay borrowed from `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, JsonError> {
        // Find the first non-whitespace byte to tell "not an object" from "not JSON".
        let first = bytes
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        let object: Object<'a> = serde_json::from_slice(bytes).map_err(|error| match first {
            Some(b'{') | None => JsonError::Syntax(error.to_string()),
            Some(_) if serde_json::from_slice::<de::IgnoredAny>(bytes).is_ok() => {
                JsonError::NotAnObject
            }
            Some(_) => JsonError::Syntax(error.to_string()),
        })?;
        Ok(object)
    }

    /// The raw JSON text of field `key` (the last one if the input repeats it).
    pub fn get(&self, key: &str) -> Option<&RawValue> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    }

    /// Field `key` as a string, unescaped (borrowed when the input had no escapes).
    pub fn get_str(&self, key: &str) -> Result<Cow<'_, str>, FieldError> {
        let raw = self.get(key).ok_or(FieldError::Missing)?;
        <Cow<'_, str> as Deserialize>::deserialize(raw).map_err(|_| FieldError::WrongType {
            expected: "a string",
            found: json_type(raw),
        })
    }

    /// Whether the object has field `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Replaces field `key` in place (every occurrence, if the input repeats it), or
    /// appends it when absent.
    pub fn set_raw(&mut self, key: &str, value: Box<RawValue>) {
        if !self.contains(key) {
            self.fields
                .push((Cow::Owned(key.to_owned()), Cow::Owned(value)));
            return;
        }
        // Repeated keys all take the new value so no stale copy survives.
        for (_, slot) in self.fields.iter_mut().filter(|(k, _)| k == key) {
            *slot = Cow::Owned(value.clone());
        }
    }

    /// Sets field `key` to the string `value`.
    pub fn set_str(&mut self, key: &str, value: &str) {
        // Serialising a `str` cannot fail.
        if let Ok(raw) = serde_json::value::to_raw_value(value) {
            self.set_raw(key, raw);
        }
    }

    /// Sets field `key` to any serialisable value. Fails only if `value`'s `Serialize`
    /// implementation fails; the object is then unchanged.
    pub fn set<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        let raw = serde_json::value::to_raw_value(value)?;
        self.set_raw(key, raw);
        Ok(())
    }

    /// Removes field `key` (every occurrence); returns whether it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        let before = self.fields.len();
        self.fields.retain(|(k, _)| k != key);
        self.fields.len() != before
    }

    /// Iterates over the fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RawValue)> {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    /// Writes the object as compact JSON; untouched values keep their original text.
    pub fn to_vec(&self) -> Vec<u8> {
        let size: usize = self
            .fields
            .iter()
            .map(|(k, v)| k.len() + v.get().len() + 4)
            .sum();
        let mut out = Vec::with_capacity(size + 2);
        out.push(b'{');
        for (i, (key, value)) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(&mut out, key);
            out.push(b':');
            out.extend_from_slice(value.get().as_bytes());
        }
        out.push(b'}');
        out
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Object<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Fields<'a> {
            type Value = Object<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Object<'a>, M::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    let value: &'de RawValue = map.next_value()?;
                    fields.push((key.0, Cow::Borrowed(value)));
                }
                Ok(Object { fields })
            }
        }
        deserializer.deserialize_map(Fields(std::marker::PhantomData))
    }
}

/// A map key, borrowed unless the input escaped it.
pub(crate) struct Key<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_untouched_bytes() {
        let input = br#"{"z": 1.50, "a": {"x" : [ 1 ]}, "m": "\u00e9"}"#;
        let mut object = Object::parse(input).unwrap();
        object.set_str("a", "replaced");
        object.set("new", &[true]).unwrap();
        assert_eq!(
            object.to_vec(),
            br#"{"z":1.50,"a":"replaced","m":"\u00e9","new":[true]}"#
        );
    }

    #[test]
    fn typed_reads_name_the_problem() {
        let object = Object::parse(br#"{"s":"a\nb","n":3}"#).unwrap();
        assert_eq!(object.get_str("s").unwrap(), "a\nb");
        assert_eq!(object.get_str("none"), Err(FieldError::Missing));
        assert_eq!(
            object.get_str("n"),
            Err(FieldError::WrongType {
                expected: "a string",
                found: "a number"
            })
        );
    }

    #[test]
    fn escaped_keys_are_found_and_rewritten_escaped() {
        let object = Object::parse(br#"{"a\"b":1}"#).unwrap();
        assert!(object.contains("a\"b"));
        assert_eq!(object.to_vec(), br#"{"a\"b":1}"#);
    }

    #[test]
    fn repeated_keys_all_take_the_new_value_and_remove_drops_them_all() {
        let mut object = Object::parse(br#"{"k":1,"j":0,"k":2}"#).unwrap();
        object.set("k", &3).unwrap();
        assert_eq!(object.to_vec(), br#"{"k":3,"j":0,"k":3}"#);
        assert!(object.remove("k"));
        assert_eq!(object.to_vec(), br#"{"j":0}"#);
    }

    #[test]
    fn tells_invalid_json_from_a_non_object() {
        assert_eq!(Object::parse(b"[1,2]").unwrap_err(), JsonError::NotAnObject);
        assert_eq!(Object::parse(b" 7").unwrap_err(), JsonError::NotAnObject);
        assert!(matches!(
            Object::parse(b"{\"a\":").unwrap_err(),
            JsonError::Syntax(_)
        ));
        assert!(matches!(
            Object::parse(b"hello").unwrap_err(),
            JsonError::Syntax(_)
        ));
    }
}
