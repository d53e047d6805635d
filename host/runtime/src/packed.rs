//! Batches as the contract carries them (`weir:transform@0.3.0`): every byte string of a
//! batch in one `data` buffer, and everything per event (spans into `data`, positions) in
//! columns of integers, which cross the boundary as one copy each.
//!
//! Host events are packed once, at the head of the chain. A plugin's result is checked
//! ([`validate`]) and then becomes the next plugin's batch ([`InFlight::advance`]): its
//! `data` buffer and span columns are moved, not copied, and no event is rebuilt between
//! plugins. Only after the last plugin are events unpacked ([`InFlight::unpack`]), each key
//! and value a zero-copy [`Bytes::slice`] of the last result's buffer.

use crate::bindings::{Batch, BatchResult, Events, Failure as WitFailure, Headers, Outputs};
use bytes::Bytes;
use std::ops::Range;
use std::sync::Arc;
use weir_core::{Event, EventResult};

/// The start of the key span of an event or output without a key (`wit/types.wit`).
pub(crate) const NO_KEY: u32 = u32::MAX;

/// A range `[start, start + len)` of a buffer (or of a list of headers), as the contract's
/// span lists carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

/// Entry `i` of a span list; an empty span where the list is too short. Lists read this
/// way were made by the host or passed [`validate`], so the fallback is never taken.
fn span(list: &[u32], i: usize) -> Span {
    match list.get(2 * i..2 * i + 2) {
        Some(&[start, len]) => Span { start, len },
        _ => Span::default(),
    }
}

/// The key span at entry `i` of a key list, `None` for [`NO_KEY`].
fn key(list: &[u32], i: usize) -> Option<Span> {
    let key = span(list, i);
    (key.start != NO_KEY).then_some(key)
}

fn push_span(list: &mut Vec<u32>, span: Span) {
    list.extend_from_slice(&[span.start, span.len]);
}

fn push_key(list: &mut Vec<u32>, key: Option<Span>) {
    push_span(
        list,
        key.unwrap_or(Span {
            start: NO_KEY,
            len: 0,
        }),
    );
}

/// Empty columns of headers.
fn empty_headers() -> Headers {
    Headers {
        names: Vec::new(),
        values: Vec::new(),
    }
}

/// An empty batch, for reusing its buffers.
pub(crate) fn empty_batch() -> Batch {
    Batch {
        data: Vec::new(),
        topics: Vec::new(),
        headers: empty_headers(),
        events: Events {
            keys: Vec::new(),
            values: Vec::new(),
            headers: Vec::new(),
            topics: Vec::new(),
            partitions: Vec::new(),
            offsets: Vec::new(),
            timestamps_ms: Vec::new(),
        },
    }
}

/// An empty result, to collect the results of single-event calls into.
pub(crate) fn empty_result() -> BatchResult {
    BatchResult {
        data: Vec::new(),
        headers: empty_headers(),
        outputs: Outputs {
            inputs: Vec::new(),
            keys: Vec::new(),
            values: Vec::new(),
            headers: Vec::new(),
        },
        failures: Vec::new(),
    }
}

/// A length or offset as the contract's `u32`. Batches are far below 4 GiB (a plugin's
/// whole memory is), so saturating never happens in practice; if it did, the span would
/// point past the buffer and read as empty rather than as someone else's bytes.
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The range a span covers, if it lies within a buffer of `len` bytes (or entries).
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

/// Appends a header to the header columns.
fn push_header(headers: &mut Headers, name: Span, value: Span) {
    push_span(&mut headers.names, name);
    push_span(&mut headers.values, value);
}

/// Number of headers in the header columns.
fn header_count(headers: &Headers) -> usize {
    headers.names.len() / 2
}

/// One event's entries in the event columns.
struct Row {
    key: Option<Span>,
    value: Span,
    headers: Span,
    topic: u32,
    partition: i32,
    offset: i64,
    timestamp_ms: i64,
}

fn push_event(columns: &mut Events, row: Row) {
    push_key(&mut columns.keys, row.key);
    push_span(&mut columns.values, row.value);
    push_span(&mut columns.headers, row.headers);
    columns.topics.push(row.topic);
    columns.partitions.push(row.partition);
    columns.offsets.push(row.offset);
    columns.timestamps_ms.push(row.timestamp_ms);
}

fn clear(batch: &mut Batch) {
    batch.data.clear();
    batch.topics.clear();
    batch.headers.names.clear();
    batch.headers.values.clear();
    let events = &mut batch.events;
    events.keys.clear();
    events.values.clear();
    events.headers.clear();
    events.topics.clear();
    events.partitions.clear();
    events.offsets.clear();
    events.timestamps_ms.clear();
}

/// Events on their way through the chain, packed, each with the source event it came from.
pub(crate) struct InFlight {
    /// The packed events, ready to hand to the next plugin.
    pub(crate) batch: Batch,
    /// For each event of `batch`, the index of its source event in the chain's input.
    /// Non-decreasing, because plugins list outputs in input order.
    pub(crate) owners: Vec<usize>,
}

impl InFlight {
    /// Packs host events into `batch`, whose buffers are cleared and reused.
    pub(crate) fn pack(events: &[Event], mut batch: Batch) -> Self {
        clear(&mut batch);
        let bytes: usize = events
            .iter()
            .map(|e| e.value.len() + e.key.as_ref().map_or(0, Bytes::len))
            .sum();
        batch.data.reserve(bytes);
        let columns = &mut batch.events;
        columns.keys.reserve(2 * events.len());
        columns.values.reserve(2 * events.len());
        columns.headers.reserve(2 * events.len());
        columns.topics.reserve(events.len());
        columns.partitions.reserve(events.len());
        columns.offsets.reserve(events.len());
        columns.timestamps_ms.reserve(events.len());
        let mut run_topic: Option<&Arc<str>> = None;
        for event in events {
            // Sources deliver runs of one topic (usually one shared name); each name is sent
            // once per run.
            let name = &event.position.topic;
            let same = run_topic.is_some_and(|t| Arc::ptr_eq(t, name) || **t == **name);
            if !same {
                batch.topics.push(name.to_string());
                run_topic = Some(name);
            }
            let topic = batch.topics.len() - 1;
            let key = event.key.as_ref().map(|k| push(&mut batch.data, k));
            let value = push(&mut batch.data, &event.value);
            let first_header = header_count(&batch.headers);
            for header in &event.headers {
                let name = push(&mut batch.data, header.name.as_bytes());
                let value = push(&mut batch.data, &header.value);
                push_header(&mut batch.headers, name, value);
            }
            push_event(
                &mut batch.events,
                Row {
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
                },
            );
        }
        InFlight {
            batch,
            owners: (0..events.len()).collect(),
        }
    }

    /// Number of events in flight.
    pub(crate) fn len(&self) -> usize {
        self.owners.len()
    }

    /// The headers of event `index` of the batch, as (name, value) spans.
    fn headers(&self, index: usize) -> impl Iterator<Item = (Span, Span)> + '_ {
        let headers = &self.batch.headers;
        range(
            span(&self.batch.events.headers, index),
            header_count(headers),
        )
        .unwrap_or_default()
        .map(|h| (span(&headers.names, h), span(&headers.values, h)))
    }

    /// A batch holding only event `index`, with its bytes copied: for re-running one event
    /// on its own after a fault.
    pub(crate) fn single(&self, index: usize) -> Batch {
        let mut single = empty_batch();
        if index >= self.len() {
            return single;
        }
        let data = &self.batch.data;
        let events = &self.batch.events;
        let key = key(&events.keys, index).map(|k| push(&mut single.data, slice(data, k)));
        let value = push(&mut single.data, slice(data, span(&events.values, index)));
        for (name, value) in self.headers(index) {
            let name = push(&mut single.data, slice(data, name));
            let value = push(&mut single.data, slice(data, value));
            push_header(&mut single.headers, name, value);
        }
        let topic = events
            .topics
            .get(index)
            .and_then(|&t| self.batch.topics.get(usize::try_from(t).ok()?))
            .cloned()
            .unwrap_or_default();
        single.topics.push(topic);
        let headers = Span {
            start: 0,
            len: to_u32(header_count(&single.headers)),
        };
        push_event(
            &mut single.events,
            Row {
                key,
                value,
                headers,
                topic: 0,
                partition: events.partitions.get(index).copied().unwrap_or_default(),
                offset: events.offsets.get(index).copied().unwrap_or_default(),
                timestamp_ms: events.timestamps_ms.get(index).copied().unwrap_or_default(),
            },
        );
        single
    }

    /// The next plugin's input: the outputs of `result` (which passed [`validate`] against
    /// this batch), each inheriting its input's position and timestamp. The result's data,
    /// headers and span columns are moved, not copied. Failures are reported through `fail`
    /// with the index of their source event.
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
        let outputs = result.outputs;
        let count = outputs.inputs.len();
        let mut owners = Vec::with_capacity(count);
        let mut topics = Vec::with_capacity(count);
        let mut partitions = Vec::with_capacity(count);
        let mut offsets = Vec::with_capacity(count);
        let mut timestamps_ms = Vec::with_capacity(count);
        let inputs = &self.batch.events;
        for &input in &outputs.inputs {
            // `validate` checked every index; an unknown one could only inherit nothing.
            let i = usize::try_from(input).unwrap_or(usize::MAX);
            owners.push(self.owners.get(i).copied().unwrap_or(usize::MAX));
            topics.push(inputs.topics.get(i).copied().unwrap_or_default());
            partitions.push(inputs.partitions.get(i).copied().unwrap_or_default());
            offsets.push(inputs.offsets.get(i).copied().unwrap_or_default());
            timestamps_ms.push(inputs.timestamps_ms.get(i).copied().unwrap_or_default());
        }
        InFlight {
            batch: Batch {
                data: result.data,
                // Positions are unchanged, so the topic indexes stay valid.
                topics: std::mem::take(&mut self.batch.topics),
                headers: result.headers,
                events: Events {
                    keys: outputs.keys,
                    values: outputs.values,
                    headers: outputs.headers,
                    topics,
                    partitions,
                    offsets,
                    timestamps_ms,
                },
            },
            owners,
        }
    }

    /// Drops the events whose source event has failed: they are not worth running further.
    pub(crate) fn retain_owners(&mut self, keep: impl Fn(usize) -> bool) {
        if self.owners.iter().all(|&o| keep(o)) {
            return;
        }
        let events = &mut self.batch.events;
        let mut kept = 0;
        for i in 0..self.owners.len() {
            let owner = self.owners[i];
            if !keep(owner) {
                continue;
            }
            self.owners[kept] = owner;
            events.keys.copy_within(2 * i..2 * i + 2, 2 * kept);
            events.values.copy_within(2 * i..2 * i + 2, 2 * kept);
            events.headers.copy_within(2 * i..2 * i + 2, 2 * kept);
            events.topics[kept] = events.topics[i];
            events.partitions[kept] = events.partitions[i];
            events.offsets[kept] = events.offsets[i];
            events.timestamps_ms[kept] = events.timestamps_ms[i];
            kept += 1;
        }
        self.owners.truncate(kept);
        events.keys.truncate(2 * kept);
        events.values.truncate(2 * kept);
        events.headers.truncate(2 * kept);
        events.topics.truncate(kept);
        events.partitions.truncate(kept);
        events.offsets.truncate(kept);
        events.timestamps_ms.truncate(kept);
    }

    /// Turns the events in flight into host events, added to their source event's entry of
    /// `results` (skipped where that entry is a failure). Keys and values are slices of one
    /// shared buffer: no per-event copy.
    pub(crate) fn unpack(mut self, sources: &[Event], results: &mut [EventResult]) {
        let data = Bytes::from(std::mem::take(&mut self.batch.data));
        let span_bytes = |span: Span| match range(span, data.len()) {
            Some(r) => data.slice(r),
            None => Bytes::new(),
        };
        let owners = &self.owners;
        let events = &self.batch.events;
        let mut i = 0;
        while i < owners.len() {
            let owner = owners[i];
            // Outputs of one source event are consecutive (input order is preserved).
            let run = owners[i..].iter().take_while(|&&o| o == owner).count();
            let first = i;
            i += run;
            let (Some(source), Some(Ok(outputs))) = (sources.get(owner), results.get_mut(owner))
            else {
                continue;
            };
            outputs.reserve_exact(run);
            for index in first..first + run {
                let headers = self
                    .headers(index)
                    .map(|(name, value)| weir_core::Header {
                        // Names were checked to be UTF-8 by `validate` (or came from the host).
                        name: String::from_utf8_lossy(slice(&data, name)).into_owned(),
                        value: span_bytes(value),
                    })
                    .collect();
                outputs.push(Event {
                    key: key(&events.keys, index).map(span_bytes),
                    value: span_bytes(span(&events.values, index)),
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
    let header_shift = to_u32(header_count(&into.headers));
    let shift = |span: Span, by: u32| Span {
        start: span.start.saturating_add(by),
        len: span.len,
    };
    into.data.extend_from_slice(&part.data);
    for h in 0..header_count(&part.headers) {
        push_header(
            &mut into.headers,
            shift(span(&part.headers.names, h), data_shift),
            shift(span(&part.headers.values, h), data_shift),
        );
    }
    let outputs = &mut into.outputs;
    for o in 0..part.outputs.inputs.len() {
        outputs.inputs.push(input);
        push_key(
            &mut outputs.keys,
            key(&part.outputs.keys, o).map(|k| shift(k, data_shift)),
        );
        push_span(
            &mut outputs.values,
            shift(span(&part.outputs.values, o), data_shift),
        );
        push_span(
            &mut outputs.headers,
            shift(span(&part.outputs.headers, o), header_shift),
        );
    }
    into.failures
        .extend(part.failures.into_iter().map(|f| WitFailure {
            input,
            error: f.error,
        }));
}

/// Checks everything a plugin returned for a batch of `inputs` events before any of it is
/// used: the columns have one entry per header and per output, every span lies within its
/// buffer, header names are UTF-8, every index names an input, outputs and failures are in
/// input order, and no input is both emitted and failed. The message says what is wrong,
/// for the operator and the plugin's author.
pub(crate) fn validate(result: &BatchResult, inputs: usize) -> Result<(), String> {
    let headers = &result.headers;
    let outputs = &result.outputs;
    let count = outputs.inputs.len();
    let columns = [
        ("headers.names", headers.names.len(), headers.values.len()),
        ("outputs.keys", outputs.keys.len(), 2 * count),
        ("outputs.values", outputs.values.len(), 2 * count),
        ("outputs.headers", outputs.headers.len(), 2 * count),
    ];
    for (name, len, expected) in columns {
        if len != expected || len % 2 != 0 {
            return Err(format!(
                "{name} has {len} entries, expected {expected} (two per {})",
                if name.starts_with("headers") {
                    "header, as many as headers.values"
                } else {
                    "output"
                }
            ));
        }
    }
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
    for i in 0..header_count(headers) {
        let name = span(&headers.names, i);
        in_data(name, &|| format!("header {i}'s name"))?;
        in_data(span(&headers.values, i), &|| format!("header {i}'s value"))?;
        if std::str::from_utf8(slice(&result.data, name)).is_err() {
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
    for (i, &input) in outputs.inputs.iter().enumerate() {
        let input = input_index(input, &|| format!("output {i}"))?;
        if input < previous {
            return Err(format!(
                "output {i} is for input {input} after an output for input {previous}; outputs must be in input order"
            ));
        }
        previous = input;
        if let Some(key) = key(&outputs.keys, i) {
            in_data(key, &|| format!("output {i}'s key"))?;
        }
        in_data(span(&outputs.values, i), &|| format!("output {i}'s value"))?;
        let header_range = span(&outputs.headers, i);
        if range(header_range, header_count(headers)).is_none() {
            return Err(format!(
                "output {i}'s headers are entries {}..{} but the result has {} headers",
                header_range.start,
                u64::from(header_range.start) + u64::from(header_range.len),
                header_count(headers)
            ));
        }
    }
    // Both lists are in input order, so one merge walk finds an input in both.
    let mut emitted = outputs.inputs.iter().copied().peekable();
    let mut previous = None;
    for (i, failure) in result.failures.iter().enumerate() {
        let input = input_index(failure.input, &|| format!("failure {i}"))?;
        if previous.is_some_and(|p| input <= p) {
            return Err(format!(
                "failure {i} is for input {input}, not after the previous failure's input; failures must be in input order, one per input"
            ));
        }
        previous = Some(input);
        while emitted.next_if(|&o| o < failure.input).is_some() {}
        if emitted.peek() == Some(&failure.input) {
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
    use crate::bindings::{ErrorKind, EventError};

    fn sp(start: u32, len: u32) -> Span {
        Span { start, len }
    }

    /// An output for `input` with `value` and no key or headers.
    struct Out(u32, Span);

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

    fn result(outs: Vec<Out>, failures: Vec<WitFailure>) -> BatchResult {
        let mut result = empty_result();
        result.data = b"abcdef".to_vec();
        push_header(&mut result.headers, sp(0, 1), sp(1, 2));
        for Out(input, value) in outs {
            result.outputs.inputs.push(input);
            push_key(&mut result.outputs.keys, None);
            push_span(&mut result.outputs.values, value);
            push_span(&mut result.outputs.headers, sp(0, 0));
        }
        result.failures = failures;
        result
    }

    #[test]
    fn a_well_formed_result_passes() {
        let ok = result(
            vec![Out(0, sp(0, 6)), Out(0, sp(2, 0)), Out(2, sp(1, 1))],
            vec![failure(1), failure(3)],
        );
        assert_eq!(validate(&ok, 4), Ok(()));
    }

    #[test]
    fn every_kind_of_malformed_result_is_named() {
        let cases = [
            (
                result(vec![Out(0, sp(4, 3))], vec![]),
                "output 0's value is bytes 4..7",
            ),
            (
                result(vec![Out(0, sp(u32::MAX, 2))], vec![]),
                "output 0's value",
            ),
            (
                result(vec![Out(5, sp(0, 1))], vec![]),
                "output 0 names input 5",
            ),
            (
                result(vec![Out(1, sp(0, 1)), Out(0, sp(0, 1))], vec![]),
                "outputs must be in input order",
            ),
            (result(vec![], vec![failure(9)]), "failure 0 names input 9"),
            (
                result(vec![], vec![failure(1), failure(1)]),
                "one per input",
            ),
            (
                result(vec![Out(1, sp(0, 1))], vec![failure(1)]),
                "input 1 is both emitted and failed",
            ),
        ];
        for (bad, expected) in cases {
            let error = validate(&bad, 3).expect_err(expected);
            assert!(error.contains(expected), "{error} (wanted {expected})");
        }
        let mut bad_header = result(vec![], vec![]);
        bad_header.headers.values[0] = 5;
        bad_header.headers.values[1] = 9;
        assert!(validate(&bad_header, 1).is_err());
        let mut bad_headers_span = result(vec![Out(0, sp(0, 1))], vec![]);
        bad_headers_span.outputs.headers[0] = 1;
        bad_headers_span.outputs.headers[1] = 1;
        assert!(validate(&bad_headers_span, 1).is_err());
        let mut not_utf8 = result(vec![], vec![]);
        not_utf8.data[0] = 0xff;
        assert!(validate(&not_utf8, 1).is_err());
    }

    #[test]
    fn columns_of_the_wrong_length_are_named() {
        let mut short = result(vec![Out(0, sp(0, 1))], vec![]);
        short.outputs.values.pop();
        let error = validate(&short, 1).unwrap_err();
        assert!(error.contains("outputs.values has 1 entries"), "{error}");
        let mut odd = result(vec![], vec![]);
        odd.headers.names.push(0);
        assert!(validate(&odd, 1).unwrap_err().contains("headers.names"));
    }

    #[test]
    fn a_key_start_of_no_key_means_no_key() {
        let mut keyed = result(vec![Out(0, sp(0, 1)), Out(1, sp(0, 1))], vec![]);
        keyed.outputs.keys[2] = 3;
        keyed.outputs.keys[3] = 2;
        assert_eq!(validate(&keyed, 2), Ok(()));
        assert_eq!(key(&keyed.outputs.keys, 0), None);
        assert_eq!(key(&keyed.outputs.keys, 1), Some(sp(3, 2)));
    }
}
