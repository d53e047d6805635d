//! Appending fields to a JSON object without re-serialising it.

use crate::{JsonError, write_str};
use serde::Serialize;
use serde_json::value::RawValue;

/// Appends top-level fields to the original bytes of a JSON object.
///
/// The input is copied once and each new field is written after the last existing one, so
/// the cost is one `memcpy` plus the new fields. The caller is responsible for not adding a
/// key the object already has (JSON readers disagree on duplicates); [`crate::Object`] is
/// the tool when a field may already exist.
///
/// The output goes to a buffer of its own ([`Splice::new`]) or is appended to one the
/// caller already has ([`Splice::append_to`]), such as a batch's output buffer.
#[derive(Debug, Clone)]
pub struct Splice<B = Vec<u8>> {
    out: B,
    /// Whether the next field needs a leading comma (false only for an empty object).
    comma: bool,
}

/// The body of `object` without its closing brace, and whether a field needs a leading
/// comma; only the outer shape is checked (see [`Splice::new`]).
fn open(object: &[u8]) -> Result<(&[u8], bool), JsonError> {
    let trimmed = trim_end(object);
    let Some((b'}', body)) = trimmed.split_last() else {
        return Err(JsonError::NotAnObject);
    };
    Ok((body, !matches!(trim_end(body).last(), Some(b'{'))))
}

impl Splice {
    /// Starts from `object`, which must be a complete JSON object. Only its outer shape is
    /// checked (a closing `}` after optional whitespace): callers normally have parsed the
    /// same bytes already, and checking twice would cost as much as the splice saves.
    pub fn new(object: &[u8]) -> Result<Self, JsonError> {
        let (body, comma) = open(object)?;
        let mut out = Vec::with_capacity(object.len() + 96);
        out.extend_from_slice(body);
        Ok(Splice { out, comma })
    }
}

impl<'b> Splice<&'b mut Vec<u8>> {
    /// Like [`Splice::new`], but writes the result at the end of `out`, after what it
    /// already holds, saving a buffer and a copy. On error `out` is unchanged.
    pub fn append_to(object: &[u8], out: &'b mut Vec<u8>) -> Result<Self, JsonError> {
        let (body, comma) = open(object)?;
        out.extend_from_slice(body);
        Ok(Splice { out, comma })
    }
}

impl<B: AsMut<Vec<u8>>> Splice<B> {
    fn key(&mut self, key: &str) {
        let comma = std::mem::replace(&mut self.comma, true);
        let out = self.out.as_mut();
        if comma {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
    }

    /// Appends `"key": "value"`.
    pub fn push_str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        write_str(self.out.as_mut(), value);
        self
    }

    /// Appends `"key": value` for an integer.
    pub fn push_i64(&mut self, key: &str, value: i64) -> &mut Self {
        self.key(key);
        // By hand rather than `write!`: the formatting machinery costs more than the digits.
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut rest = value.unsigned_abs();
        loop {
            at -= 1;
            // `rest % 10` is below 10, so the cast cannot truncate.
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let out = self.out.as_mut();
        if value < 0 {
            out.push(b'-');
        }
        out.extend_from_slice(&digits[at..]);
        self
    }

    /// Appends `"key": <raw>` where `raw` is already valid JSON.
    pub fn push_raw(&mut self, key: &str, raw: &RawValue) -> &mut Self {
        self.key(key);
        self.out.as_mut().extend_from_slice(raw.get().as_bytes());
        self
    }

    /// Appends `"key": value` for any serialisable value. Fails only if `value`'s
    /// `Serialize` implementation fails (for example a map with non-string keys); the
    /// splice is then left unchanged.
    pub fn push<T: Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &T,
    ) -> Result<&mut Self, serde_json::Error> {
        let mark = (self.out.as_mut().len(), self.comma);
        self.key(key);
        if let Err(error) = serde_json::to_writer(self.out.as_mut(), value) {
            self.out.as_mut().truncate(mark.0);
            self.comma = mark.1;
            return Err(error);
        }
        Ok(self)
    }

    /// Closes the object and returns its buffer: the bytes (from [`Splice::new`]), or the
    /// caller's buffer (from [`Splice::append_to`]).
    pub fn finish(mut self) -> B {
        self.out.as_mut().push(b'}');
        self.out
    }
}

fn trim_end(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_after_the_last_field_and_keeps_the_original_bytes() {
        let mut splice = Splice::new(br#"{ "a" : 1 , "b":[1, 2] }"#).unwrap();
        splice.push_str("c", "x\"y").push_i64("d", -4);
        assert_eq!(
            splice.finish(),
            br#"{ "a" : 1 , "b":[1, 2] ,"c":"x\"y","d":-4}"#
        );
    }

    #[test]
    fn integers_are_written_like_display() {
        for n in [0, 7, -7, 10, 33, -1_000_000, i64::MAX, i64::MIN] {
            let mut splice = Splice::new(b"{}").unwrap();
            splice.push_i64("n", n);
            assert_eq!(splice.finish(), format!(r#"{{"n":{n}}}"#).into_bytes());
        }
    }

    #[test]
    fn an_empty_object_gets_no_leading_comma() {
        let mut splice = Splice::new(b"{ }\n").unwrap();
        splice.push_i64("n", 1);
        assert_eq!(splice.finish(), br#"{ "n":1}"#);
    }

    #[test]
    fn append_to_writes_after_what_the_buffer_holds() {
        let mut out = b"[earlier]".to_vec();
        let mut splice = Splice::append_to(br#"{"a":1}"#, &mut out).unwrap();
        splice.push_i64("b", 2);
        splice.finish();
        assert_eq!(out, br#"[earlier]{"a":1,"b":2}"#);
        assert!(Splice::append_to(b"[1]", &mut out).is_err());
        assert_eq!(out, br#"[earlier]{"a":1,"b":2}"#, "unchanged on error");
    }

    #[test]
    fn refuses_what_is_not_an_object() {
        assert_eq!(Splice::new(b"[1]").unwrap_err(), JsonError::NotAnObject);
        assert_eq!(Splice::new(b"").unwrap_err(), JsonError::NotAnObject);
    }

    #[test]
    fn a_failed_push_leaves_the_splice_unchanged() {
        let mut map = std::collections::HashMap::new();
        map.insert(vec![1u8], 1);
        let mut splice = Splice::new(b"{}").unwrap();
        assert!(splice.push("bad", &map).is_err());
        splice.push("ok", &[1, 2]).unwrap();
        assert_eq!(splice.finish(), br#"{"ok":[1,2]}"#);
    }
}
