//! A fast scan of flat JSON objects: the common shape of an event, checked and taken apart
//! in one pass, eight bytes at a time where it matters.
//!
//! serde_json parses token by token through many small functions and loops. That costs
//! little natively but much more in WebAssembly, where the time budget adds a check at
//! every function entry and loop iteration. [`scan_flat`] handles the shape nearly every
//! event has (an object of strings without escapes, numbers, booleans and nulls) in one
//! function whose loops step through strings eight bytes at a time, and says so when an
//! input has any other shape: the caller then parses it with serde_json, which gives the
//! same result or the precise error. It never accepts what serde_json would refuse.

/// One top-level value found by [`scan_flat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlatValue<'a> {
    /// A string without escapes or control characters.
    Str(FlatStr<'a>),
    /// A number, as written.
    Number(&'a [u8]),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// A string found by [`scan_flat`]: its bytes between the quotes, unchanged (it has no
/// escapes). They are not checked for UTF-8, as serde_json does not check the strings it
/// skips either; [`FlatStr::as_str`] checks them, for free when they are all ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlatStr<'a> {
    raw: &'a [u8],
    /// Every byte of `raw` is below 0x80 (established by the scan, never set otherwise).
    ascii: bool,
}

impl<'a> FlatStr<'a> {
    /// The bytes between the quotes.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether every byte is ASCII.
    pub fn is_ascii(&self) -> bool {
        self.ascii
    }

    /// The string as text, if it is valid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        if self.ascii {
            debug_assert!(self.raw.is_ascii());
            #[allow(
                unsafe_code,
                reason = "ASCII is valid UTF-8; checking again would cost a loop per string"
            )]
            // SAFETY: `ascii` is only true when the scan saw every byte of `raw` below 0x80
            // (`string` ORs them all into the word it tests), and ASCII is valid UTF-8.
            return Some(unsafe { std::str::from_utf8_unchecked(self.raw) });
        }
        std::str::from_utf8(self.raw).ok()
    }
}

impl<'a> FlatValue<'a> {
    /// The value as text if it is a string that is valid UTF-8.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            FlatValue::Str(text) => text.as_str(),
            _ => None,
        }
    }
}

/// Scans `bytes` as one JSON object and calls `field` with each member's key (its bytes
/// between the quotes, valid UTF-8) and value, in order. Returns `true` if the whole input is such an
/// object and every member was reported, `false` as soon as it is anything else — not
/// JSON, or JSON that this scan leaves to a full parser: a key or string with an escape
/// or a control character, a nested object or array, a top level that is not an object.
/// After `false`, forget what `field` was told and parse the input with serde_json: it
/// gives the precise error, or the result for shapes this scan does not take.
///
/// What `true` guarantees: serde_json accepts `bytes` (`from_slice`, any whitespace
/// around tokens, nothing after the object), and visiting its map yields the same keys
/// and values in the same order (keys and strings borrowed, since they have no escapes).
/// Duplicate keys are reported as often as they occur, as serde_json's visitor sees them.
pub fn scan_flat<'a>(bytes: &'a [u8], mut field: impl FnMut(&'a [u8], FlatValue<'a>)) -> bool {
    // Every step first tests for the byte compact JSON has there, so that the common path
    // is a few compares: no jump table, no whitespace loop.
    let Some(mut at) = after(bytes, 0, b'{') else {
        return false;
    };
    if next(bytes, at) == Some(b'}') {
        return skip_whitespace(bytes, skip_whitespace(bytes, at) + 1) == bytes.len();
    }
    loop {
        // A member: "key" : value
        let Some(start) = after(bytes, at, b'"') else {
            return false;
        };
        let Some((key, ascii, end)) = string(bytes, start) else {
            return false;
        };
        // Keys must be UTF-8, as serde_json requires of keys read as text.
        if !ascii && std::str::from_utf8(key).is_err() {
            return false;
        }
        let Some(colon) = after(bytes, end, b':') else {
            return false;
        };
        let (value, end) = if let Some(start) = after(bytes, colon, b'"') {
            match string(bytes, start) {
                Some((raw, ascii, end)) => (FlatValue::Str(FlatStr { raw, ascii }), end),
                None => return false,
            }
        } else {
            match other_value(bytes, skip_whitespace(bytes, colon)) {
                Some(found) => found,
                None => return false,
            }
        };
        field(key, value);
        match next(bytes, end) {
            Some(b',') => at = skip_whitespace(bytes, end) + 1,
            Some(b'}') => {
                return skip_whitespace(bytes, skip_whitespace(bytes, end) + 1) == bytes.len();
            }
            _ => return false,
        }
    }
}

/// The index after `byte` if it is the next byte at or after `at` that is not whitespace.
#[inline(always)]
fn after(bytes: &[u8], at: usize, byte: u8) -> Option<usize> {
    match bytes.get(at) {
        Some(&found) if found == byte => Some(at + 1),
        // JSON whitespace is all at or below the space.
        Some(&found) if found <= b' ' => {
            let at = skip_whitespace_slow(bytes, at);
            (bytes.get(at) == Some(&byte)).then_some(at + 1)
        }
        _ => None,
    }
}

/// The next byte at or after `at` that is not whitespace.
#[inline(always)]
fn next(bytes: &[u8], at: usize) -> Option<u8> {
    match bytes.get(at) {
        Some(&found) if found > b' ' => Some(found),
        Some(_) => bytes.get(skip_whitespace_slow(bytes, at)).copied(),
        None => None,
    }
}

/// A value other than a string at `at`: a number, `true`, `false` or `null`.
fn other_value(bytes: &[u8], at: usize) -> Option<(FlatValue<'_>, usize)> {
    let literal = |word: &[u8], value| {
        (bytes.get(at..at + word.len()) == Some(word)).then_some((value, at + word.len()))
    };
    match bytes.get(at)? {
        b't' => literal(b"true", FlatValue::Bool(true)),
        b'f' => literal(b"false", FlatValue::Bool(false)),
        b'n' => literal(b"null", FlatValue::Null),
        b'-' | b'0'..=b'9' => {
            let end = number(bytes, at)?;
            Some((FlatValue::Number(&bytes[at..end]), end))
        }
        _ => None,
    }
}

/// The index of the first byte at or after `at` that is not JSON whitespace.
#[inline(always)]
fn skip_whitespace(bytes: &[u8], at: usize) -> usize {
    match bytes.get(at) {
        Some(&found) if found > b' ' => at,
        None => at,
        Some(_) => skip_whitespace_slow(bytes, at),
    }
}

#[cold]
#[inline(never)]
fn skip_whitespace_slow(bytes: &[u8], mut at: usize) -> usize {
    while let Some(&byte) = bytes.get(at) {
        if byte != b' ' && byte != b'\n' && byte != b'\t' && byte != b'\r' {
            break;
        }
        at += 1;
    }
    at
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The eight bytes at `at` as a little-endian word, zero-padded past the end of `bytes`.
#[inline(always)]
fn word(bytes: &[u8], at: usize) -> u64 {
    match bytes.get(at..at + 8) {
        Some(chunk) => {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            u64::from_le_bytes(word)
        }
        None => crate::load_partial(bytes.get(at..).unwrap_or_default()),
    }
}

/// The high bit of every byte of `word` that ends a plain run of string bytes: `"`, `\`
/// or a control character (below 0x20). Bytes above the lowest flagged one may be flagged
/// wrongly (a borrow propagates), but the lowest one is always right, and that is the
/// only one used.
#[inline(always)]
fn stops(word: u64) -> u64 {
    let below = |word: u64, n: u64| word.wrapping_sub(ONES * n) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    (below(word, 0x20) | below(quote, 1) | below(backslash, 1)) & HIGH
}

/// A string's bytes from `start` (just after its opening quote) to its closing quote,
/// whether they are all ASCII, and the index after the quote; `None` if the string has an
/// escape or a control character or is not closed.
#[inline(always)]
fn string(bytes: &[u8], start: usize) -> Option<(&[u8], bool, usize)> {
    let mut at = start;
    let mut high = 0;
    loop {
        let word = word(bytes, at);
        let stop = stops(word);
        if stop != 0 {
            let offset = (stop.trailing_zeros() / 8) as usize;
            // Zero padding past the end reads as a control character.
            let end = at + offset;
            if bytes.get(end) != Some(&b'"') {
                return None;
            }
            let before = (1u64 << (offset * 8)).wrapping_sub(1);
            let ascii = (high | (word & before)) & HIGH == 0;
            return Some((&bytes[start..end], ascii, end + 1));
        }
        high |= word;
        at += 8;
    }
}

/// The index after the number that starts at `at`, if it is one as JSON writes numbers:
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn number(bytes: &[u8], mut at: usize) -> Option<usize> {
    let digits = |at: usize| {
        let count = bytes
            .get(at..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        at + count
    };
    if bytes.get(at) == Some(&b'-') {
        at += 1;
    }
    match bytes.get(at) {
        Some(b'0') => at += 1,
        Some(b'1'..=b'9') => at = digits(at),
        _ => return None,
    }
    if bytes.get(at) == Some(&b'.') {
        let end = digits(at + 1);
        if end == at + 1 {
            return None;
        }
        at = end;
    }
    if let Some(b'e' | b'E') = bytes.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = bytes.get(at) {
            at += 1;
        }
        let end = digits(at);
        if end == at {
            return None;
        }
        at = end;
    }
    // A digit right after `0` is a leading zero, which JSON forbids.
    match bytes.get(at) {
        Some(b'0'..=b'9') => None,
        _ => Some(at),
    }
}

/// Whether `a` and `b` are the same short byte string: words compared instead of a
/// byte loop (or a call to `memcmp`), which matters for the many short keys of an event.
#[inline(always)]
pub fn same_key(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    let w8 = |s: &[u8], at: usize| word(s, at);
    let w4 = |s: &[u8], at: usize| {
        let mut word = [0; 4];
        word.copy_from_slice(&s[at..at + 4]);
        u32::from_le_bytes(word)
    };
    match len {
        0 => true,
        1..=3 => a[0] == b[0] && a[len / 2] == b[len / 2] && a[len - 1] == b[len - 1],
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, len - 4) == w4(b, len - 4),
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, len - 8) == w8(b, len - 8),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json's map visitor sees, or `None` if it refuses the input.
    fn serde_fields(bytes: &[u8]) -> Option<Vec<(Vec<u8>, String)>> {
        use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Vec<(Vec<u8>, String)>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<serde_bytes_key::Key>()? {
                    let value: &serde_json::value::RawValue = map.next_value()?;
                    out.push((key.0, value.get().to_owned()));
                }
                Ok(out)
            }
        }
        mod serde_bytes_key {
            pub struct Key(pub Vec<u8>);
            impl<'de> serde::Deserialize<'de> for Key {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    struct V;
                    impl<'de> serde::de::Visitor<'de> for V {
                        type Value = Key;
                        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                            f.write_str("a key")
                        }
                        fn visit_bytes<E>(self, v: &[u8]) -> Result<Key, E> {
                            Ok(Key(v.to_vec()))
                        }
                        fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                            Ok(Key(v.as_bytes().to_vec()))
                        }
                    }
                    d.deserialize_bytes(V)
                }
            }
        }
        let _ = IgnoredAny;
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let fields = (&mut de).deserialize_map(Fields).ok()?;
        de.end().ok()?;
        Some(fields)
    }

    /// Whether serde_json accepts `bytes` as an object whose keys are read as text and
    /// whose values are skipped (`IgnoredAny`), which is how plugins read the fields they
    /// do not need. Unlike [`serde_fields`], this does not need skipped strings to be UTF-8.
    fn serde_accepts(bytes: &[u8]) -> bool {
        use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
        struct Skip;
        impl<'de> Visitor<'de> for Skip {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
                while map.next_key::<&str>()?.is_some() {
                    map.next_value::<IgnoredAny>()?;
                }
                Ok(())
            }
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        (&mut de).deserialize_map(Skip).is_ok() && de.end().is_ok()
    }

    /// What the scan reports, as serde_json would show each value's text.
    fn scanned(bytes: &[u8]) -> Option<Vec<(Vec<u8>, String)>> {
        let mut out = Vec::new();
        let ok = scan_flat(bytes, |key, value| {
            let text = match value {
                FlatValue::Str(text) => format!("\"{}\"", String::from_utf8_lossy(text.raw())),
                FlatValue::Number(raw) => String::from_utf8_lossy(raw).into_owned(),
                FlatValue::Bool(b) => b.to_string(),
                FlatValue::Null => "null".into(),
            };
            out.push((key.to_vec(), text));
        });
        ok.then_some(out)
    }

    #[test]
    fn takes_flat_objects_apart_like_serde_json() {
        for input in [
            r#"{}"#,
            r#" { } "#,
            r#"{"a":"b"}"#,
            r#"{"id":"d23f0824-892f-4181-a5d9-0ed99531985d","first_name":"José","n":-12.5e+3,"t":true,"f":false,"z":null}"#,
            "\t{ \"a\" :\r\n \"\" , \"b\":0 ,\"c\":1E5}\n",
            r#"{"a":"1234567","b":"12345678","c":"123456789"}"#,
            r#"{"dup":"1","dup":"2"}"#,
            r#"{"a":0.0,"b":-0,"c":10,"d":1e-0}"#,
        ] {
            let ours = scanned(input.as_bytes()).unwrap_or_else(|| panic!("refused {input}"));
            assert_eq!(Some(ours), serde_fields(input.as_bytes()), "{input}");
        }
    }

    #[test]
    fn leaves_other_shapes_and_every_error_to_the_full_parser() {
        for input in [
            "",
            "[]",
            "7",
            r#"{"a":"b\"c"}"#,
            r#"{"a\n":"b"}"#,
            "{\"a\":\"b\u{1}\"}",
            r#"{"a":{"b":1}}"#,
            r#"{"a":[1]}"#,
            r#"{"a":"b",}"#,
            r#"{"a":"b"} x"#,
            r#"{"a":"b""#,
            r#"{"a" "b"}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":-}"#,
            r#"{"a":1e}"#,
            r#"{"a":tru}"#,
            r#"{"a":nulll}"#,
            r#"{a:"b"}"#,
            r#"{"a":"b" "c":"d"}"#,
            "\u{feff}{}",
            r#"{"a":"unterminated"#,
        ] {
            assert_eq!(scanned(input.as_bytes()), None, "{input}");
        }
    }

    /// Every input derived from real events by one edit: where the scan says yes, serde_json
    /// must agree on every key and value.
    #[test]
    fn never_accepts_what_serde_json_refuses_or_reads_differently() {
        let seeds = [
            r#"{"id":"d23f0824","first_name":"José","last_name":"O'Brien","age":33,"ok":true,"x":null,"f":-1.5e3}"#,
            r#"{ "a" : "1234567" , "bb":"12345678","ccc" :"123456789" }"#,
        ];
        let alphabet: &[u8] = b"{}[]\":,\\ \n\t0123456789-+.eEtrufalsn\x01\x7f\xc3\xa9ab";
        let mut mutator = crate::mutate::Mutator::new(0x1234_5678_9abc_def0, alphabet);
        let mut accepted = 0;
        for seed in seeds {
            for _ in 0..20_000 {
                let mut bytes = seed.as_bytes().to_vec();
                let edits = 1 + mutator.next_u64() % 3;
                mutator.edit(&mut bytes, edits);
                if let Some(ours) = scanned(&bytes) {
                    accepted += 1;
                    let shown = String::from_utf8_lossy(&bytes);
                    assert!(serde_accepts(&bytes), "{shown}");
                    // Values are compared as serde_json's raw text, which must be UTF-8.
                    if std::str::from_utf8(&bytes).is_ok() {
                        assert_eq!(Some(ours), serde_fields(&bytes), "{shown}");
                    }
                }
            }
        }
        assert!(accepted > 1_000, "only {accepted} mutants accepted");
    }

    #[test]
    fn strings_report_whether_they_are_ascii() {
        let mut seen = Vec::new();
        assert!(scan_flat(
            "{\"a\":\"plain ascii text\",\"b\":\"caf\u{e9}\",\"c\":\"12345678\u{e9}\"}".as_bytes(),
            |_, v| seen.push(v)
        ));
        let ascii: Vec<bool> = seen
            .iter()
            .map(|v| matches!(v, FlatValue::Str(text) if text.is_ascii()))
            .collect();
        assert_eq!(ascii, [true, false, false]);
    }

    #[test]
    fn same_key_compares_every_length() {
        let names: [&[u8]; 8] = [
            b"",
            b"a",
            b"ab",
            b"dob",
            b"email",
            b"last_name",
            b"first_name",
            b"a key longer than sixteen",
        ];
        for a in names {
            for b in names {
                assert_eq!(same_key(a, b), a == b);
            }
            let mut other = a.to_vec();
            for i in 0..other.len() {
                other[i] ^= 1;
                assert!(!same_key(a, &other));
                other[i] ^= 1;
            }
        }
    }
}
