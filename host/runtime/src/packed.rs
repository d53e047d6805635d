//! Batches as the contract carries them (`weir:transform@0.3.0`): every byte string of a
//! batch in one `data` buffer, and everything per event (spans into `data`, positions) in
//! columns of integers, which cross the boundary as one copy each. An output may keep its
//! input's key, value or headers ([`INPUT`]) instead of carrying a copy.
//!
//! Host events are packed once, at the head of the chain. A plugin's result is checked
//! ([`validate`]) and then becomes the next plugin's batch ([`InFlight::advance`]): its
//! `data` buffer and span columns are moved, not copied, and no event is rebuilt between
//! plugins. Only after the last plugin are events unpacked ([`InFlight::unpack`]), each key
//! and value a zero-copy [`Bytes::slice`] of the last result's buffer.

use crate::bindings::{Batch, BatchResult, Events, Failure as WitFailure, Headers};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use weir_core::{Event, EventResult, Failure, Outputs};

/// The start of the key span of an event or output without a key (`wit/types.wit`).
pub(crate) const NO_KEY: u32 = u32::MAX;

/// The start of an output's key, value or headers span that stands for its input event's
/// own key, value or headers (`wit/types.wit`): what a plugin passes on unchanged is not
/// copied.
pub(crate) const INPUT: u32 = u32::MAX - 1;

/// The key span of an output without a key.
const NO_KEY_SPAN: Span = Span {
    start: NO_KEY,
    len: 0,
};

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
    push_span(list, key.unwrap_or(NO_KEY_SPAN));
}

/// Overwrites entry `i` of a span list (which has one).
fn set_span(list: &mut [u32], i: usize, span: Span) {
    if let Some(entry) = list.get_mut(2 * i..2 * i + 2) {
        entry.copy_from_slice(&[span.start, span.len]);
    }
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
        outputs: crate::bindings::Outputs {
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

/// Copies the key of event `index` of `from` to the end of `data`; its span there.
fn copy_key(from: &Batch, index: usize, data: &mut Vec<u8>) -> Option<Span> {
    key(&from.events.keys, index).map(|k| push(data, slice(&from.data, k)))
}

/// Copies the value of event `index` of `from` to the end of `data`; its span there.
fn copy_value(from: &Batch, index: usize, data: &mut Vec<u8>) -> Span {
    push(data, slice(&from.data, span(&from.events.values, index)))
}

/// Copies the headers of event `index` of `from` to the end of `into`'s headers (bytes to
/// the end of its data); the range of header entries they take there.
fn copy_headers(from: &Batch, index: usize, into: &mut Batch) -> Span {
    let first = header_count(&into.headers);
    for (name, value) in InFlight::headers(from, index) {
        let name = push(&mut into.data, slice(&from.data, name));
        let value = push(&mut into.data, slice(&from.data, value));
        push_header(&mut into.headers, name, value);
    }
    Span {
        start: to_u32(first),
        len: to_u32(header_count(&into.headers) - first),
    }
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

/// Empties a batch for reuse, except its topic names (see [`InFlight::pack`]).
fn clear(batch: &mut Batch) {
    batch.data.clear();
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
    /// The packed events. Spans may still stand for their input's own bytes ([`INPUT`])
    /// while `parent` is set; [`InFlight::resolve`] makes them ready for the next plugin.
    pub(crate) batch: Batch,
    /// For each event of `batch`, the index of its source event in the chain's input.
    /// Non-decreasing, because plugins list outputs in input order.
    pub(crate) owners: Vec<usize>,
    /// The batch these events are the outputs of, kept while some of their spans refer to
    /// it ([`INPUT`]).
    parent: Option<Parent>,
}

/// The input batch of a plugin call whose result refers to it.
struct Parent {
    batch: Batch,
    /// For each event in flight, its input's index in `batch`.
    inputs: Vec<u32>,
}

/// The spans of a packed batch's events, over its data as a shared buffer: what host
/// events are cut from.
struct Cutter<'a> {
    data: &'a Bytes,
    headers: &'a Headers,
    events: &'a Events,
}

impl Cutter<'_> {
    fn bytes(&self, span: Span) -> Bytes {
        match range(span, self.data.len()) {
            Some(r) if !r.is_empty() => self.data.slice(r),
            _ => Bytes::new(),
        }
    }

    fn key(&self, index: usize) -> Option<Bytes> {
        key(&self.events.keys, index).map(|k| self.bytes(k))
    }

    fn value(&self, index: usize) -> Bytes {
        self.bytes(span(&self.events.values, index))
    }

    fn headers(&self, index: usize) -> Vec<weir_core::Header> {
        let headers = self.headers;
        let range = span(&self.events.headers, index);
        if range.len == 0 {
            // Most events have none: no iterator to set up.
            return Vec::new();
        }
        self::range(range, header_count(headers))
            .unwrap_or_default()
            .map(|h| weir_core::Header {
                // Names were checked to be UTF-8 by `validate` (or came from the host).
                name: String::from_utf8_lossy(slice(self.data, span(&headers.names, h)))
                    .into_owned(),
                value: self.bytes(span(&headers.values, h)),
            })
            .collect()
    }
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
        // Topic names already in `batch` from its last use are kept where they match: a
        // source usually reads one topic, whose name then costs no allocation per batch.
        let mut topics = 0;
        for event in events {
            // Sources deliver runs of one topic (usually one shared name); each name is sent
            // once per run.
            let name = &event.position.topic;
            let same = run_topic.is_some_and(|t| Arc::ptr_eq(t, name) || **t == **name);
            if !same {
                if batch.topics.get(topics).is_none_or(|kept| **kept != **name) {
                    batch.topics.truncate(topics);
                    batch.topics.push(name.to_string());
                }
                topics += 1;
                run_topic = Some(name);
            }
            let topic = topics - 1;
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
        batch.topics.truncate(topics);
        InFlight {
            batch,
            owners: (0..events.len()).collect(),
            parent: None,
        }
    }

    /// Number of events in flight.
    pub(crate) fn len(&self) -> usize {
        self.owners.len()
    }

    /// The headers of event `index` of `batch`, as (name, value) spans.
    fn headers(batch: &Batch, index: usize) -> impl Iterator<Item = (Span, Span)> + '_ {
        let headers = &batch.headers;
        range(span(&batch.events.headers, index), header_count(headers))
            .unwrap_or_default()
            .map(|h| (span(&headers.names, h), span(&headers.values, h)))
    }

    /// A batch holding only event `index`, with its bytes copied: for re-running one event
    /// on its own after a fault. The events must be resolved ([`InFlight::resolve`]).
    pub(crate) fn single(&self, index: usize) -> Batch {
        let mut single = empty_batch();
        if index >= self.len() {
            return single;
        }
        let events = &self.batch.events;
        let key = copy_key(&self.batch, index, &mut single.data);
        let value = copy_value(&self.batch, index, &mut single.data);
        let headers = copy_headers(&self.batch, index, &mut single);
        let topic = events
            .topics
            .get(index)
            .and_then(|&t| self.batch.topics.get(usize::try_from(t).ok()?))
            .cloned()
            .unwrap_or_default();
        single.topics.push(topic);
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
    /// headers and span columns are moved, not copied, and so are this batch's position
    /// columns when every input has exactly one output; outputs that keep their input's
    /// bytes ([`INPUT`]) keep referring to this batch, which the returned events hold on to
    /// until [`InFlight::resolve`] or [`InFlight::unpack`]. Otherwise this batch is
    /// returned too, for its buffers to be reused. Failures are reported through `fail`
    /// with the index of their source event.
    pub(crate) fn advance(
        mut self,
        result: BatchResult,
        mut fail: impl FnMut(usize, &WitFailure),
    ) -> (InFlight, Option<Batch>) {
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
        // The common case, one output per input: the positions are the inputs' own.
        let one_each = count == self.len()
            && outputs
                .inputs
                .iter()
                .zip(0u32..)
                .all(|(&input, i)| input == i);
        let (owners, topics, partitions, offsets, timestamps_ms) = if one_each {
            let inputs = &mut self.batch.events;
            (
                std::mem::take(&mut self.owners),
                std::mem::take(&mut inputs.topics),
                std::mem::take(&mut inputs.partitions),
                std::mem::take(&mut inputs.offsets),
                std::mem::take(&mut inputs.timestamps_ms),
            )
        } else {
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
            (owners, topics, partitions, offsets, timestamps_ms)
        };
        let refers = [&outputs.keys, &outputs.values, &outputs.headers]
            .iter()
            .any(|list| list.iter().step_by(2).any(|&start| start == INPUT));
        // Positions are unchanged, so the topic indexes stay valid.
        let topic_names = std::mem::take(&mut self.batch.topics);
        let (parent, spare) = if refers {
            let parent = Parent {
                batch: self.batch,
                inputs: outputs.inputs,
            };
            (Some(parent), None)
        } else {
            (None, Some(self.batch))
        };
        let next = InFlight {
            batch: Batch {
                data: result.data,
                topics: topic_names,
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
            parent,
        };
        (next, spare)
    }

    /// Copies the bytes that outputs kept from their input ([`INPUT`]) into this batch, so
    /// that it can go to the next plugin; returns the input batch, no longer needed.
    pub(crate) fn resolve(&mut self) -> Option<Batch> {
        let parent = self.parent.take()?;
        let from = &parent.batch;
        let batch = &mut self.batch;
        for (i, &input) in parent.inputs.iter().enumerate() {
            let input = usize::try_from(input).unwrap_or(usize::MAX);
            if span(&batch.events.keys, i).start == INPUT {
                let key = copy_key(from, input, &mut batch.data);
                set_span(&mut batch.events.keys, i, key.unwrap_or(NO_KEY_SPAN));
            }
            if span(&batch.events.values, i).start == INPUT {
                let value = copy_value(from, input, &mut batch.data);
                set_span(&mut batch.events.values, i, value);
            }
            if span(&batch.events.headers, i).start == INPUT {
                let headers = copy_headers(from, input, batch);
                set_span(&mut batch.events.headers, i, headers);
            }
        }
        Some(parent.batch)
    }

    /// Drops the events whose source event has failed: they are not worth running further.
    pub(crate) fn retain_owners(&mut self, keep: impl Fn(usize) -> bool) {
        if self.owners.iter().all(|&o| keep(o)) {
            return;
        }
        let events = &mut self.batch.events;
        let mut inputs = self.parent.as_mut().map(|p| &mut p.inputs);
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
            if let Some(inputs) = inputs.as_deref_mut() {
                inputs[kept] = inputs[i];
            }
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
        if let Some(inputs) = inputs {
            inputs.truncate(kept);
        }
    }

    /// Turns the events in flight into host events: one result per source event, its
    /// failure from `failures` if it has one, else its outputs in order. Keys and values
    /// are slices of shared buffers (this batch's data, or its parent's for what outputs
    /// kept from their input): no per-event copy. Also returns what is left of the
    /// batches (all but the data buffers), for their buffers to be reused.
    pub(crate) fn unpack(
        self,
        sources: &[Event],
        mut failures: BTreeMap<usize, Failure>,
    ) -> (Vec<EventResult>, [Option<Batch>; 2]) {
        let InFlight {
            mut batch,
            owners,
            parent,
        } = self;
        let data = Bytes::from(std::mem::take(&mut batch.data));
        let ours = Cutter {
            data: &data,
            headers: &batch.headers,
            events: &batch.events,
        };
        let (mut parent_batch, inputs) = match parent {
            Some(Parent { batch, inputs }) => (Some(batch), inputs),
            None => (None, Vec::new()),
        };
        let parent_data = parent_batch
            .as_mut()
            .map_or_else(Bytes::new, |b| Bytes::from(std::mem::take(&mut b.data)));
        let theirs = parent_batch.as_ref().map(|b| Cutter {
            data: &parent_data,
            headers: &b.headers,
            events: &b.events,
        });
        // The cutter and index for output `index`'s span in `list`: its own, or its input's.
        let pick = |list: &[u32], index: usize| match &theirs {
            Some(theirs) if span(list, index).start == INPUT => (
                theirs,
                inputs
                    .get(index)
                    .and_then(|&i| usize::try_from(i).ok())
                    .unwrap_or(usize::MAX),
            ),
            _ => (&ours, index),
        };
        let events = &batch.events;
        let mut results = Vec::with_capacity(sources.len());
        let mut next = 0;
        for (s, source) in sources.iter().enumerate() {
            let first = next;
            while owners.get(next).is_some_and(|&o| o <= s) {
                next += 1;
            }
            if !failures.is_empty()
                && let Some(failure) = failures.remove(&s)
            {
                results.push(Err(failure));
                continue;
            }
            // The result goes in first and the outputs into it, so that each event is
            // written once rather than moved in and moved again.
            results.push(Ok(Outputs::new()));
            let Some(Ok(outputs)) = results.last_mut() else {
                continue;
            };
            if next - first > 1 {
                outputs.reserve_exact(next - first);
            }
            for index in (first..next).filter(|&i| owners[i] == s) {
                let (from, i) = pick(&events.keys, index);
                let key = from.key(i);
                let (from, i) = pick(&events.values, index);
                let value = from.value(i);
                let (from, i) = pick(&events.headers, index);
                let headers = from.headers(i);
                outputs.push(Event {
                    key,
                    value,
                    headers,
                    timestamp_ms: source.timestamp_ms,
                    position: source.position.clone(),
                });
            }
        }
        (results, [Some(batch), parent_batch])
    }
}

/// Appends the result of a call on one event (`part`, validated against a batch of one) to
/// `into` as the result for input `input`, shifting its spans. A span that stands for the
/// input's own bytes ([`INPUT`]) still does: the input is the same event.
pub(crate) fn append(into: &mut BatchResult, part: BatchResult, input: u32) {
    let data_shift = to_u32(into.data.len());
    let header_shift = to_u32(header_count(&into.headers));
    let shift = |span: Span, by: u32| match span.start {
        INPUT => span,
        start => Span {
            start: start.saturating_add(by),
            len: span.len,
        },
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
        let (key, value, header_range) = (
            span(&outputs.keys, i),
            span(&outputs.values, i),
            span(&outputs.headers, i),
        );
        for (what, span) in [("key", key), ("value", value), ("headers", header_range)] {
            if span.start == INPUT && span.len != 0 {
                return Err(format!(
                    "output {i}'s {what} keeps its input's (start {INPUT:#x}) but has length {}, expected 0",
                    span.len
                ));
            }
        }
        if key.start != NO_KEY && key.start != INPUT {
            in_data(key, &|| format!("output {i}'s key"))?;
        }
        if value.start != INPUT {
            in_data(value, &|| format!("output {i}'s value"))?;
        }
        if header_range.start != INPUT && range(header_range, header_count(headers)).is_none() {
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
    fn spans_that_keep_the_input_need_no_data_and_no_length() {
        let mut same = result(vec![Out(0, sp(INPUT, 0)), Out(1, sp(0, 1))], vec![]);
        same.outputs.keys[0] = INPUT;
        same.outputs.headers[0] = INPUT;
        assert_eq!(validate(&same, 2), Ok(()));
        for column in 0..3 {
            let mut bad = same.clone();
            let list = match column {
                0 => &mut bad.outputs.keys,
                1 => &mut bad.outputs.values,
                _ => &mut bad.outputs.headers,
            };
            list[1] = 4;
            let error = validate(&bad, 2).unwrap_err();
            assert!(error.contains("keeps its input's"), "{error}");
        }
        // Appending a single-event result keeps such spans as they are and shifts the rest.
        let mut into = result(vec![Out(0, sp(0, 2))], vec![]);
        append(&mut into, same, 5);
        assert_eq!(&into.outputs.values[2..], [INPUT, 0, 6, 1]);
        assert_eq!(&into.outputs.keys[2..4], [INPUT, 0]);
        assert_eq!(&into.outputs.headers[2..4], [INPUT, 0]);
        assert_eq!(&into.outputs.inputs, &[0, 5, 5]);
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
