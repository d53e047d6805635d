//! A borrowed parse of the four fields the enrichment reads, skipping everything else.

use crate::{DERIVED_FIELDS, EnrichError};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use weir_json::{same_key, scan_flat};

/// One field as found in the input: absent, a string, or some other JSON type. Reading
/// every value leniently lets the error name the field, which serde's own messages do not.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) enum Field<'a> {
    #[default]
    Absent,
    Str(Cow<'a, str>),
    Other(&'static str),
}

impl Field<'_> {
    pub(crate) fn string(&self, name: &'static str) -> Result<&str, EnrichError> {
        match self {
            Field::Str(text) => Ok(text),
            Field::Absent => Err(EnrichError::MissingField(name)),
            Field::Other(found) => Err(EnrichError::InvalidField {
                field: name,
                problem: format!("expected a string, found {found}"),
            }),
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct User<'a> {
    pub(crate) first_name: Field<'a>,
    pub(crate) last_name: Field<'a>,
    pub(crate) email: Field<'a>,
    pub(crate) dob: Field<'a>,
    /// The input already has one of [`DERIVED_FIELDS`]; appending would duplicate it.
    pub(crate) has_derived_field: bool,
}

impl<'a> User<'a> {
    pub(crate) fn parse(value: &'a [u8]) -> Result<Self, EnrichError> {
        if let Some(user) = Self::scan(value) {
            return Ok(user);
        }
        serde_json::from_slice(value).map_err(|e| EnrichError::InvalidInput(e.to_string()))
    }

    /// The common case in one pass ([`weir_json::scan_flat`]): a flat object whose fields
    /// the enrichment reads are strings without escapes. `None` for anything else (escapes,
    /// nesting, a field of another type, invalid JSON), which serde_json then reads,
    /// giving the same result or naming the problem.
    pub(crate) fn scan(value: &'a [u8]) -> Option<Self> {
        let mut user = User::default();
        let mut plain = true;
        let flat = scan_flat(value, |key, value| {
            // By length first: most keys of an event are none of these, and are told apart
            // by one compare.
            let slot = match key.len() {
                3 if same_key(key, b"dob") => &mut user.dob,
                5 if same_key(key, b"email") => &mut user.email,
                9 if same_key(key, b"last_name") => &mut user.last_name,
                10 if same_key(key, b"first_name") => &mut user.first_name,
                3 | 9 | 12 => {
                    user.has_derived_field |=
                        DERIVED_FIELDS.iter().any(|f| same_key(key, f.as_bytes()));
                    return;
                }
                _ => return,
            };
            match value.as_str() {
                Some(text) => *slot = Field::Str(Cow::Borrowed(text)),
                // Another type or invalid UTF-8: serde_json's reading decides.
                None => plain = false,
            }
        });
        (flat && plain).then_some(user)
    }
}

impl<'de> Deserialize<'de> for User<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UserVisitor;
        impl<'de> Visitor<'de> for UserVisitor {
            type Value = User<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<User<'de>, M::Error> {
                let mut user = User::default();
                // `Key` borrows the name from the input as bytes: serde's own `Cow<str>`
                // would allocate a `String` for every key of every event, and a `&str`
                // would be checked for UTF-8 although it is only compared with ASCII
                // names. (Like the values this code skips, keys pass through unchecked.)
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    let slot = match key.as_ref() {
                        b"first_name" => &mut user.first_name,
                        b"last_name" => &mut user.last_name,
                        b"email" => &mut user.email,
                        b"dob" => &mut user.dob,
                        other => {
                            user.has_derived_field |=
                                DERIVED_FIELDS.iter().any(|f| f.as_bytes() == other);
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = map.next_value()?;
                }
                Ok(user)
            }
        }
        deserializer.deserialize_map(UserVisitor)
    }
}

/// An object key's unescaped bytes, borrowed from the input unless it contains escapes.
struct Key<'a>(Cow<'a, [u8]>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_vec())))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v.as_bytes())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.as_bytes().to_vec())))
            }
        }
        deserializer.deserialize_bytes(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl<'de> Visitor<'de> for FieldVisitor {
            type Value = Field<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Field<'de>, E> {
                Ok(Field::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field<'de>, E> {
                Ok(Field::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Field<'de>, E> {
                Ok(Field::Str(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Field<'de>, E> {
                Ok(Field::Other("a boolean"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Field<'de>, E> {
                Ok(Field::Other("a number"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Field<'de>, E> {
                Ok(Field::Other("a number"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Field<'de>, E> {
                Ok(Field::Other("a number"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Field<'de>, E> {
                Ok(Field::Other("null"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Other("an array"))
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Field<'de>, M::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Other("an object"))
            }
        }
        deserializer.deserialize_any(FieldVisitor)
    }
}
