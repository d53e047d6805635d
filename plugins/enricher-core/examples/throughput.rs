//! Native throughput of [`weir_enricher_core::enrich`] on the fixture users, one core:
//!
//!     cargo run --release --example throughput --manifest-path plugins/Cargo.toml \
//!         --target x86_64-unknown-linux-gnu
//!
//! A quick check for plugin authors; the host benchmark compares this code with the
//! `enricher.wasm` component.

use std::time::Instant;

/// Event time for every call: 2024-06-15T12:00:00Z.
const TIMESTAMP_MS: i64 = 1_718_452_800_000;

fn main() {
    let users: Vec<&[u8]> = include_str!("../../../tests/fixtures/users.jsonl")
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::as_bytes)
        .collect();
    let events: Vec<&[u8]> = users.iter().copied().cycle().take(20_480).collect();
    let bytes: usize = events.iter().map(|e| e.len()).sum();
    let mut best = f64::MAX;
    for _ in 0..10 {
        let start = Instant::now();
        let mut out = 0usize;
        for event in &events {
            match weir_enricher_core::enrich(event, TIMESTAMP_MS) {
                Ok(value) => out += value.len(),
                Err(error) => panic!("fixture user refused: {error}"),
            }
        }
        std::hint::black_box(out);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let per_event = best / events.len() as f64;
    println!(
        "{} events of {} bytes on average: {:.0} events/s, {:.0} ns/event (best of 10 rounds)",
        events.len(),
        bytes / events.len(),
        1.0 / per_event,
        per_event * 1e9
    );
}
