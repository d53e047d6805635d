//! The plugins weir ships, compiled to WebAssembly components when this crate is built
//! (the build script runs `cargo build --release --target wasm32-wasip2` on `plugins/`).
//!
//! - [`ENRICHER`], [`FILTER`], [`PII_MASK`]: the shipped plugins' bytes, embedded, so the
//!   `weir` binary runs its default pipeline with no files beside it.
//! - `*_WASM`: the path of every built component, for tests and tools that load from disk.
//!   With the `test-plugins` feature this includes the misbehaving plugins of
//!   `tests/plugins/` (`TRAP_ON_MARKER_WASM`, `SPIN_WASM`, `GROW_WASM`, `READ_FILE_WASM`,
//!   `WRONG_VERSION_WASM`, `ECHO_WASM`, `MALFORMED_WASM`); that feature is off by
//!   default so that building the binary does not compile them.
//!
//! Building needs the `wasm32-wasip2` target (`rustup target add wasm32-wasip2`); the build
//! script says so if it is missing.
#![deny(missing_docs)]

use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));

/// The path of the built plugin named `name` (its package name, e.g. `"enricher"`,
/// `"pii-mask"`, `"trap-on-marker"`), or `None` if no such plugin was built.
pub fn path(name: &str) -> Option<&'static Path> {
    ALL.iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| Path::new(*p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_plugin_exists_and_is_a_component() {
        for (name, file) in ALL {
            let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{name}: {e}"));
            // Component binaries carry layer 1 in the version field: \0asm 0d 00 01 00.
            assert_eq!(
                &bytes[..8],
                b"\0asm\x0d\x00\x01\x00",
                "{name} is not a component"
            );
        }
        assert_eq!(
            path("enricher").and_then(|p| std::fs::read(p).ok()),
            Some(ENRICHER.to_vec())
        );
        assert!(path("nope").is_none());
    }
}
