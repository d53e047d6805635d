//! Fast JSON helpers for weir plugins, with no WebAssembly dependency so the host can use
//! them too (the native enrichment the benchmark compares against is built on them).
//!
//! Two tools, both keeping the input's bytes wherever they can:
//! - [`Splice`] appends new top-level fields to a JSON object's original bytes. Nothing is
//!   re-serialised, which is what makes an enrichment plugin fast (measured 3.7x faster
//!   inside WebAssembly than rebuilding a `serde_json::Map`).
//! - [`Object`] is a borrowed, order-preserving view of a JSON object's fields for plugins
//!   that replace or remove fields: untouched values are written back byte for byte.
//!
//! ```
//! use weir_json::{Object, Splice};
//!
//! let input = br#"{"first":"Ada","email":"ada@example.org"}"#;
//! let mut out = Splice::new(input).unwrap();
//! out.push_str("greeting", "hello");
//! out.push_i64("age", 36);
//! assert_eq!(out.finish(), br#"{"first":"Ada","email":"ada@example.org","greeting":"hello","age":36}"#);
//!
//! let mut object = Object::parse(input).unwrap();
//! object.set_str("email", "hidden");
//! assert_eq!(object.to_vec(), br#"{"first":"Ada","email":"hidden"}"#);
//! ```
#![deny(missing_docs)]

mod flat;
#[cfg(any(test, feature = "mutate"))]
pub mod mutate;
mod object;
mod splice;

pub use flat::{FlatStr, FlatValue, same_key, scan_flat};
pub use object::{FieldError, Object, json_type};
pub use splice::Splice;

/// Why a value could not be read as a JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    /// The bytes are not valid JSON (or not UTF-8); the message is the parser's.
    Syntax(String),
    /// The bytes are valid JSON, but the top-level value is not an object.
    NotAnObject,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonError::Syntax(message) => write!(f, "value is not valid JSON: {message}"),
            JsonError::NotAnObject => f.write_str("value is JSON but not an object"),
        }
    }
}

impl std::error::Error for JsonError {}

/// Writes `value` as a JSON string (quoted, escaped) to `out`, exactly as serde_json
/// would. Written by hand because it runs for every field a plugin adds: copying runs of
/// plain bytes at once is several times faster than serde_json's per-byte writer calls.
pub(crate) fn write_str(out: &mut Vec<u8>, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = value.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if is_plain(bytes) {
        // Nearly every value: one copy, no per-byte loop.
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut plain = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => &[],
            _ => continue,
        };
        out.extend_from_slice(&bytes[plain..i]);
        plain = i + 1;
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
    }
    out.extend_from_slice(&bytes[plain..]);
    out.push(b'"');
}

/// Whether `bytes` need no escaping in a JSON string: no `"`, `\\` or control character.
/// Eight bytes at a time (a word-wide test for each kind of byte), the last few in a word
/// padded with a plain byte, because a per-byte loop is what made writing short strings
/// costly, in WebAssembly above all, where every loop iteration also checks the time
/// budget.
fn is_plain(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    /// High bit set in some byte of the result iff some byte of `word` is below `n` (n <= 0x80).
    fn any_below(word: u64, n: u8) -> u64 {
        word.wrapping_sub(ONES * u64::from(n)) & !word & HIGH
    }
    let special = |word: u64| {
        any_below(word, 0x20)
            | any_below(word ^ (ONES * u64::from(b'"')), 1)
            | any_below(word ^ (ONES * u64::from(b'\\')), 1)
    };
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        if special(u64::from_le_bytes(word)) != 0 {
            return false;
        }
    }
    let rest = chunks.remainder();
    if rest.is_empty() {
        return true;
    }
    // The last bytes, zero-filled; only the flags of real bytes count.
    let real = u64::MAX >> (8 * (8 - rest.len()));
    special(load_partial(rest)) & real == 0
}

/// The bytes of `rest` (fewer than eight) as a little-endian word, zero-filled above them.
/// Built from at most two loads and shifts: copying them into a word on the stack first
/// would stall the load that reads it back.
#[inline(always)]
pub(crate) fn load_partial(rest: &[u8]) -> u64 {
    let n = rest.len();
    let u32_at = |at: usize| {
        let mut word = [0; 4];
        word.copy_from_slice(&rest[at..at + 4]);
        u64::from(u32::from_le_bytes(word))
    };
    match n {
        4..=7 => u32_at(0) | (u32_at(n - 4) >> (8 * (8 - n))) << 32,
        1..=3 => {
            let byte = |i: usize| u64::from(rest[i.min(n - 1)]);
            let two = if n >= 2 { byte(1) << 8 } else { 0 };
            let three = if n == 3 { byte(2) << 16 } else { 0 };
            byte(0) | two | three
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn partial_loads_keep_every_byte_in_place() {
        let bytes = b"\x01\x02\x03\x04\x05\x06\x07";
        for n in 0..8 {
            let mut word = [0; 8];
            word[..n].copy_from_slice(&bytes[..n]);
            assert_eq!(
                super::load_partial(&bytes[..n]),
                u64::from_le_bytes(word),
                "{n}"
            );
        }
    }

    #[test]
    fn write_str_escapes_exactly_as_serde_json() {
        for text in [
            "",
            "plain",
            "q\"uote\\back",
            "\n\r\t\u{8}\u{c}\u{0}\u{1f}",
            "é ü 😀 \u{7f}",
            "eight by",
            "sixteen bytes ok\"",
            "a long plain string of more than sixteen bytes",
            "\u{1f}seven bytes plain",
            "plain for eight and then a \\",
        ] {
            let mut ours = Vec::new();
            super::write_str(&mut ours, text);
            assert_eq!(ours, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
    }
}
