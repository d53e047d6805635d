//! Batches as the contract carries them (`weir:transform@0.2.0`): every byte string of a
//! batch in one `data` buffer, events and headers referring to it by span.
//!
//! Host events are packed once, at the head of the chain. A plugin's result is checked
//! ([`validate`]) and then becomes the next plugin's batch as it is ([`InFlight::advance`]):
//! its `data` buffer is moved, not copied, and no event is rebuilt between plugins. Only
//! after the last plugin are events unpacked ([`InFlight::unpack`]), each key and value a
//! zero-copy [`Bytes::slice`] of the last result's buffer.

use crate::bindings::{Batch, BatchResult, Event as WitEvent, Failure as WitFailure, Header, Span};
use bytes::Bytes;
use std::ops::Range;
use weir_core::{Event, EventResult};

/// Events on their way through the chain, packed, each with the source event it came from.
pub(crate) struct InFlight {
    /// The packed events, ready to hand to the next plugin.
    pub(crate) batch: Batch,
    /// For each entry of `batch.events`, the index of its source event in the chain's
    /// input. Non-decreasing, because plugins list outputs in input order.
    pub(crate) owners: Vec<usize>,
}

/// An empty batch, for reusing its buffers.
pub(crate) fn empty_batch() -> Batch {
    Batch {
        data: Vec::new(),
        topics: Vec::new(),
        headers: Vec::new(),
        events: Vec::new(),
    }
}

/// An empty result, to collect the results of single-event calls into.
pub(crate) fn empty_result() -> BatchResult {
    BatchResult {
        data: Vec::new(),
        headers: Vec::new(),
        outputs: Vec::new(),
        failures: Vec::new(),
    }
}

/// A length or offset as the contract's `u32`. Batches are far below 4 GiB (a plugin's
/// whole memory is), so saturating never happens in practice; if it did, the span would
/// point past the buffer and read as empty rather than as someone else's bytes.
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The byte range a span covers, if it lies within a buffer of `len` bytes (or entries).
fn range(span: Span, len: usize) -> Option<Range<usize>> {
    let start = usize::try_from(span.start).ok()?;
    let end = start.checked_add(usize::try_from(span.len).ok()?)?;
    (end <= len).then_some(start..end)
}

/// The bytes of `span` in `data`; empty if out of range. Spans read this way were made by
/// the host or passed [`validate`], so the fallback is never taken; it exists so that no
/// path can panic on plugin-provided numbers.
fn slice(data: &[u8], span: Span) -> &[u8] {
    range(span, data.len())
        .and_then(|r| data.get(r))
        .unwrap_or_default()
}

/// Appends `bytes` to `data` and returns their span.
fn push(data: &mut Vec<u8>, bytes: &[u8]) -> Span {
    let start = to_u32(data.len());
    data.extend_from_slice(bytes);
    Span {
        start,
        len: to_u32(bytes.len()),
    }
}

impl InFlight {
    /// Packs host events into `batch`, whose buffers are cleared and reused.
    pub(crate) fn pack(events: &[Event], mut batch: Batch) -> Self {
        batch.data.clear();
        batch.topics.clear();
        batch.headers.clear();
        batch.events.clear();
        let bytes: usize = events
            .iter()
            .map(|e| e.value.len() + e.key.as_ref().map_or(0, Bytes::len))
            .sum();
        batch.data.reserve(bytes);
        batch.events.reserve(events.len());
        for event in events {
            // Sources deliver runs of one topic; each name is sent once per run.
            let topic = match batch.topics.last() {
                Some(last) if **last == *event.position.topic => batch.topics.len() - 1,
                _ => {
                    batch.topics.push(event.position.topic.to_string());
                    batch.topics.len() - 1
                }
            };
            let key = event.key.as_ref().map(|k| push(&mut batch.data, k));
            let value = push(&mut batch.data, &event.value);
            let first_header = batch.headers.len();
            for header in &event.headers {
                let name = push(&mut batch.data, header.name.as_bytes());
                let value = push(&mut batch.data, &header.value);
                batch.headers.push(Header { name, value });
            }
            batch.events.push(WitEvent {
                key,
                value,
                headers: Span {
                    start: to_u32(first_header),
                    len: to_u32(event.headers.len()),
                },
                topic: to_u32(topic),
                partition: event.position.partition,
                offset: event.position.offset,
                timestamp_ms: event.timestamp_ms,
            });
        }
        InFlight {
            batch,
            owners: (0..events.len()).collect(),
        }
    }

    /// Number of events in flight.
    pub(crate) fn len(&self) -> usize {
        self.batch.events.len()
    }

    /// A batch holding only event `index`, with its bytes copied: for re-running one event
    /// on its own after a fault.
    pub(crate) fn single(&self, index: usize) -> Batch {
        let mut single = empty_batch();
        let Some(event) = self.batch.events.get(index) else {
            return single;
        };
        let data = &self.batch.data;
        let key = event.key.map(|k| push(&mut single.data, slice(data, k)));
        let value = push(&mut single.data, slice(data, event.value));
        let headers = range(event.headers, self.batch.headers.len())
            .and_then(|r| self.batch.headers.get(r))
            .unwrap_or_default();
        for header in headers {
            let name = push(&mut single.data, slice(data, header.name));
            let value = push(&mut single.data, slice(data, header.value));
            single.headers.push(Header { name, value });
        }
        let topic = usize::try_from(event.topic)
            .ok()
            .and_then(|t| self.batch.topics.get(t))
            .cloned()
            .unwrap_or_default();
        single.topics.push(topic);
        single.events.push(WitEvent {
            key,
            value,
            headers: Span {
                start: 0,
                len: to_u32(single.headers.len()),
            },
            topic: 0,
            ..*event
        });
        single
    }

    /// The next plugin's input: the outputs of `result` (which passed [`validate`] against
    /// this batch), each inheriting its input's position and timestamp. The result's data
    /// and headers are moved, not copied. Failures are reported through `fail` with the
    /// index of their source event.
    pub(crate) fn advance(
        &mut self,
        result: BatchResult,
        mut fail: impl FnMut(usize, &WitFailure),
    ) -> InFlight {
        for failure in &result.failures {
            if let Some(&owner) = usize::try_from(failure.input)
                .ok()
                .and_then(|i| self.owners.get(i))
            {
                fail(owner, failure);
            }
        }
        let mut events = Vec::with_capacity(result.outputs.len());
        let mut owners = Vec::with_capacity(result.outputs.len());
        for output in &result.outputs {
            let Some(index) = usize::try_from(output.input).ok() else {
                continue;
            };
            let (Some(input), Some(&owner)) =
                (self.batch.events.get(index), self.owners.get(index))
            else {
                continue;
            };
            events.push(WitEvent {
                key: output.key,
                value: output.value,
                headers: output.headers,
                ..*input
            });
            owners.push(owner);
        }
        InFlight {
            batch: Batch {
                data: result.data,
                // Positions are unchanged, so the topic indexes stay valid.
                topics: std::mem::take(&mut self.batch.topics),
                headers: result.headers,
                events,
            },
            owners,
        }
    }

    /// Drops the events whose source event has failed: they are not worth running further.
    pub(crate) fn retain_owners(&mut self, keep: impl Fn(usize) -> bool) {
        if self.owners.iter().all(|&o| keep(o)) {
            return;
        }
        let mut kept = 0;
        for i in 0..self.owners.len() {
            let owner = self.owners[i];
            if keep(owner) {
                self.owners[kept] = owner;
                self.batch.events[kept] = self.batch.events[i];
                kept += 1;
            }
        }
        self.owners.truncate(kept);
        self.batch.events.truncate(kept);
    }

    /// Turns the events in flight into host events, added to their source event's entry of
    /// `results` (skipped where that entry is a failure). Keys and values are slices of one
    /// shared buffer: no per-event copy.
    pub(crate) fn unpack(self, sources: &[Event], results: &mut [EventResult]) {
        let InFlight { batch, owners } = self;
        let data = Bytes::from(batch.data);
        let span_bytes = |span: Span| match range(span, data.len()) {
            Some(r) => data.slice(r),
            None => Bytes::new(),
        };
        let mut i = 0;
        while i < owners.len() {
            let owner = owners[i];
            // Outputs of one source event are consecutive (input order is preserved).
            let run = owners[i..].iter().take_while(|&&o| o == owner).count();
            let events = &batch.events[i..i + run];
            i += run;
            let (Some(source), Some(Ok(outputs))) = (sources.get(owner), results.get_mut(owner))
            else {
                continue;
            };
            outputs.reserve_exact(run);
            for event in events {
                let headers = range(event.headers, batch.headers.len())
                    .and_then(|r| batch.headers.get(r))
                    .unwrap_or_default()
                    .iter()
                    .map(|h| weir_core::Header {
                        // Names were checked to be UTF-8 by `validate` (or came from the host).
                        name: String::from_utf8_lossy(slice(&data, h.name)).into_owned(),
                        value: span_bytes(h.value),
                    })
                    .collect();
                outputs.push(Event {
                    key: event.key.map(span_bytes),
                    value: span_bytes(event.value),
                    headers,
                    timestamp_ms: source.timestamp_ms,
                    position: source.position.clone(),
                });
            }
        }
    }
}

/// Appends the result of a call on one event (`part`, validated against a batch of one) to
/// `into` as the result for input `input`, shifting its spans.
pub(crate) fn append(into: &mut BatchResult, part: BatchResult, input: u32) {
    let data_shift = to_u32(into.data.len());
    let header_shift = to_u32(into.headers.len());
    let shift = |span: Span, by: u32| Span {
        start: span.start.saturating_add(by),
        len: span.len,
    };
    into.data.extend_from_slice(&part.data);
    into.headers
        .extend(part.headers.into_iter().map(|h| Header {
            name: shift(h.name, data_shift),
            value: shift(h.value, data_shift),
        }));
    into.outputs
        .extend(part.outputs.into_iter().map(|o| crate::bindings::Output {
            input,
            key: o.key.map(|k| shift(k, data_shift)),
            value: shift(o.value, data_shift),
            headers: shift(o.headers, header_shift),
        }));
    into.failures
        .extend(part.failures.into_iter().map(|f| WitFailure {
            input,
            error: f.error,
        }));
}

/// Checks everything a plugin returned for a batch of `inputs` events before any of it is
/// used: every span lies within its buffer, header names are UTF-8, every index names an
/// input, outputs and failures are in input order, and no input is both emitted and failed.
/// The message says what is wrong, for the operator and the plugin's author.
pub(crate) fn validate(result: &BatchResult, inputs: usize) -> Result<(), String> {
    let data = result.data.len();
    let in_data = |span: Span, what: &dyn Fn() -> String| match range(span, data) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{} is bytes {}..{} but the result's data has {data} bytes",
            what(),
            span.start,
            u64::from(span.start) + u64::from(span.len)
        )),
    };
    for (i, header) in result.headers.iter().enumerate() {
        in_data(header.name, &|| format!("header {i}'s name"))?;
        in_data(header.value, &|| format!("header {i}'s value"))?;
        if std::str::from_utf8(slice(&result.data, header.name)).is_err() {
            return Err(format!("header {i}'s name is not UTF-8"));
        }
    }
    let input_index = |input: u32, what: &dyn Fn() -> String| match usize::try_from(input) {
        Ok(i) if i < inputs => Ok(i),
        _ => Err(format!(
            "{} names input {input}, but the batch has {inputs} events",
            what()
        )),
    };
    let mut previous = 0;
    for (i, output) in result.outputs.iter().enumerate() {
        let input = input_index(output.input, &|| format!("output {i}"))?;
        if input < previous {
            return Err(format!(
                "output {i} is for input {input} after an output for input {previous}; outputs must be in input order"
            ));
        }
        previous = input;
        if let Some(key) = output.key {
            in_data(key, &|| format!("output {i}'s key"))?;
        }
        in_data(output.value, &|| format!("output {i}'s value"))?;
        if range(output.headers, result.headers.len()).is_none() {
            return Err(format!(
                "output {i}'s headers are entries {}..{} but the result has {} headers",
                output.headers.start,
                u64::from(output.headers.start) + u64::from(output.headers.len),
                result.headers.len()
            ));
        }
    }
    // Both lists are in input order, so one merge walk finds an input in both.
    let mut outputs = result.outputs.iter().map(|o| o.input).peekable();
    let mut previous = None;
    for (i, failure) in result.failures.iter().enumerate() {
        let input = input_index(failure.input, &|| format!("failure {i}"))?;
        if previous.is_some_and(|p| input <= p) {
            return Err(format!(
                "failure {i} is for input {input}, not after the previous failure's input; failures must be in input order, one per input"
            ));
        }
        previous = Some(input);
        while outputs.next_if(|&o| o < failure.input).is_some() {}
        if outputs.peek() == Some(&failure.input) {
            return Err(format!(
                "input {input} is both emitted and failed; an event must be one or the other"
            ));
        }
    }
    Ok(())
}

/// Host events from a chain of no plugins: the input, unchanged.
pub(crate) fn passthrough(batch: &[Event]) -> Vec<EventResult> {
    batch
        .iter()
        .map(|e| Ok(std::iter::once(e.clone()).collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::{ErrorKind, EventError, Output};

    fn span(start: u32, len: u32) -> Span {
        Span { start, len }
    }

    fn output(input: u32, value: Span) -> Output {
        Output {
            input,
            key: None,
            value,
            headers: span(0, 0),
        }
    }

    fn failure(input: u32) -> WitFailure {
        WitFailure {
            input,
            error: EventError {
                kind: ErrorKind::Rejected,
                field: None,
                message: "no".into(),
            },
        }
    }

    fn result(outputs: Vec<Output>, failures: Vec<WitFailure>) -> BatchResult {
        BatchResult {
            data: b"abcdef".to_vec(),
            headers: vec![Header {
                name: span(0, 1),
                value: span(1, 2),
            }],
            outputs,
            failures,
        }
    }

    #[test]
    fn a_well_formed_result_passes() {
        let ok = result(
            vec![
                output(0, span(0, 6)),
                output(0, span(2, 0)),
                output(2, span(1, 1)),
            ],
            vec![failure(1), failure(3)],
        );
        assert_eq!(validate(&ok, 4), Ok(()));
    }

    #[test]
    fn every_kind_of_malformed_result_is_named() {
        let cases = [
            (
                result(vec![output(0, span(4, 3))], vec![]),
                "output 0's value is bytes 4..7",
            ),
            (
                result(vec![output(0, span(u32::MAX, 2))], vec![]),
                "output 0's value",
            ),
            (
                result(vec![output(5, span(0, 1))], vec![]),
                "output 0 names input 5",
            ),
            (
                result(vec![output(1, span(0, 1)), output(0, span(0, 1))], vec![]),
                "outputs must be in input order",
            ),
            (result(vec![], vec![failure(9)]), "failure 0 names input 9"),
            (
                result(vec![], vec![failure(1), failure(1)]),
                "one per input",
            ),
            (
                result(vec![output(1, span(0, 1))], vec![failure(1)]),
                "input 1 is both emitted and failed",
            ),
        ];
        for (bad, expected) in cases {
            let error = validate(&bad, 3).expect_err(expected);
            assert!(error.contains(expected), "{error} (wanted {expected})");
        }
        let mut bad_header = result(vec![], vec![]);
        bad_header.headers[0].value = span(5, 9);
        assert!(validate(&bad_header, 1).is_err());
        let mut bad_headers_span = result(vec![output(0, span(0, 1))], vec![]);
        bad_headers_span.outputs[0].headers = span(1, 1);
        assert!(validate(&bad_headers_span, 1).is_err());
        let mut not_utf8 = result(vec![], vec![]);
        not_utf8.data[0] = 0xff;
        assert!(validate(&not_utf8, 1).is_err());
    }
}
