//! Which language and toolchain built a component, from its `producers` custom sections
//! (the tool-conventions metadata every toolchain may write): `weir plugin inspect` shows
//! it so an operator knows what runs inside a plugin.
//!
//! Read with a small walker rather than a wasm parser dependency: only the section framing
//! and the producers payload are needed, and nested modules and components are visited.

/// One `name version` entry of a producers field (`language`, `processed-by`, `sdk`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Producer {
    /// `language`, `processed-by` or `sdk`.
    pub field: String,
    /// e.g. `ComponentizeJS`.
    pub name: String,
    /// e.g. `0.23.0`; may be empty.
    pub version: String,
}

/// Every producers entry of `wasm` and of the modules and components nested in it.
pub fn producers(wasm: &[u8]) -> Vec<Producer> {
    let mut out = Vec::new();
    walk(wasm, 0, &mut out);
    out
}

/// The language and toolchain that built `wasm`, e.g. `JavaScript (ComponentizeJS 0.23.0)`,
/// when the component tells.
pub fn describe(wasm: &[u8]) -> Option<String> {
    let all = producers(wasm);
    let find = |needle: &str| {
        all.iter()
            .find(|p| p.field == "processed-by" && p.name.eq_ignore_ascii_case(needle))
    };
    let label = |language: &str, p: &Producer| {
        format!("{language} ({} {})", p.name, p.version)
            .trim_end()
            .replace(" )", ")")
    };
    // JavaScript and Python components embed an engine written in C, C++ and Rust, so the
    // componentizer decides before any compiler does.
    if let Some(p) = find("ComponentizeJS") {
        return Some(label("JavaScript", p));
    }
    if let Some(p) = find("componentize-py") {
        return Some(label("Python", p));
    }
    if let Some(p) = find("wit-bindgen-rust").or_else(|| find("rustc")) {
        return Some(label("Rust", p));
    }
    all.iter()
        .find(|p| p.field == "language")
        .map(|p| p.name.clone())
}

fn walk(wasm: &[u8], depth: usize, out: &mut Vec<Producer>) {
    // A binary starts with `\0asm`, a version and a layer; 8 bytes in all.
    if depth > 16 || wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return;
    }
    let is_component = wasm[6] == 1;
    let mut reader = Reader { bytes: wasm, at: 8 };
    while let (Some(id), Some(size)) = (reader.byte(), reader.leb()) {
        let Some(body) = reader.take(size) else {
            return;
        };
        match id {
            0 => custom(body, out),
            // Nested core modules (1) and components (4) carry their own sections.
            1 | 4 if is_component => walk(body, depth + 1, out),
            _ => {}
        }
    }
}

fn custom(body: &[u8], out: &mut Vec<Producer>) {
    let mut reader = Reader { bytes: body, at: 0 };
    if reader.name().as_deref() != Some("producers") {
        return;
    }
    let fields = reader.leb().unwrap_or(0);
    for _ in 0..fields {
        let (Some(field), Some(count)) = (reader.name(), reader.leb()) else {
            return;
        };
        for _ in 0..count {
            let (Some(name), Some(version)) = (reader.name(), reader.name()) else {
                return;
            };
            out.push(Producer {
                field: field.clone(),
                name,
                version,
            });
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn leb(&mut self) -> Option<usize> {
        let mut value: usize = 0;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            value |= usize::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(value);
            }
        }
        None
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(len)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    fn name(&mut self) -> Option<String> {
        let len = self.leb()?;
        Some(String::from_utf8_lossy(self.take(len)?).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(id: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![id, u8::try_from(body.len()).expect("small")];
        out.extend_from_slice(body);
        out
    }

    fn name(text: &str) -> Vec<u8> {
        let mut out = vec![u8::try_from(text.len()).expect("small")];
        out.extend_from_slice(text.as_bytes());
        out
    }

    fn producers_section(entries: &[(&str, &str, &str)]) -> Vec<u8> {
        let mut body = name("producers");
        body.push(u8::try_from(entries.len()).expect("small"));
        for (field, n, v) in entries {
            body.extend(name(field));
            body.push(1);
            body.extend(name(n));
            body.extend(name(v));
        }
        section(0, &body)
    }

    const COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";
    const MODULE: &[u8] = b"\0asm\x01\x00\x00\x00";

    #[test]
    fn the_componentizer_wins_over_the_compilers_of_its_engine() {
        let mut module = MODULE.to_vec();
        module.extend(producers_section(&[("processed-by", "rustc", "1.88.0")]));
        let mut component = COMPONENT.to_vec();
        component.extend(producers_section(&[(
            "processed-by",
            "ComponentizeJS",
            "0.23.0",
        )]));
        component.extend(section(1, &module));
        assert_eq!(
            describe(&component).as_deref(),
            Some("JavaScript (ComponentizeJS 0.23.0)")
        );
    }

    #[test]
    fn a_nested_rust_module_names_rust_and_nothing_names_nothing() {
        let mut module = MODULE.to_vec();
        module.extend(producers_section(&[(
            "processed-by",
            "wit-bindgen-rust",
            "0.61.1",
        )]));
        let mut component = COMPONENT.to_vec();
        component.extend(section(1, &module));
        assert_eq!(
            describe(&component).as_deref(),
            Some("Rust (wit-bindgen-rust 0.61.1)")
        );
        assert_eq!(describe(COMPONENT), None);
        assert_eq!(describe(b"junk"), None);
    }
}
