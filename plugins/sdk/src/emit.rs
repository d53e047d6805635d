//! Collecting the outputs of one event, straight into the batch's packed result.

use crate::bindings::weir::transform::types::{Headers as WitHeaders, Outputs as WitOutputs};
use crate::{Event, EventError, Plugin};

/// One output event built by hand with [`Emit::output`], and what [`run`] returns for native
/// tests. It inherits the input event's position and timestamp.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// Key to write; `None` writes no key.
    pub key: Option<Vec<u8>>,
    /// Value to pass to the next plugin or the sink.
    pub value: Vec<u8>,
    /// Headers to carry along, as (name, value) pairs in order.
    pub headers: Vec<(String, Vec<u8>)>,
}

/// The start of the key span of an output (or event) without a key (`wit/types.wit`).
pub(crate) const NO_KEY: u32 = u32::MAX;

/// The start of an output's key, value or headers span that stands for the input event's
/// own (`wit/types.wit`): what passes through unchanged is not copied, by the plugin or
/// by the host.
pub(crate) const INPUT: u32 = u32::MAX - 1;

/// The key span of an output without a key.
const NO_KEY_SPAN: Span = Span {
    start: NO_KEY,
    len: 0,
};

/// The span of an output's key, value or headers that keeps the input's.
const SAME_AS_INPUT: Span = Span {
    start: INPUT,
    len: 0,
};

/// A range `[start, start + len)` of a buffer or of the header columns: one entry of a
/// contract's `span-list`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

/// Entry `i` of a span list; empty if the list is too short (the host never sends one).
pub(crate) fn span(list: &[u32], i: usize) -> Span {
    match list.get(2 * i..2 * i + 2) {
        Some(&[start, len]) => Span { start, len },
        _ => Span::default(),
    }
}

/// Entry `i` of a key span list; `None` for an event without a key.
pub(crate) fn key(list: &[u32], i: usize) -> Option<Span> {
    let key = span(list, i);
    (key.start != NO_KEY).then_some(key)
}

/// The bytes of `span` in `data`. The host only sends spans within the buffer; should one
/// ever be out of range, the plugin sees empty bytes rather than trapping.
pub(crate) fn bytes(data: &[u8], span: Span) -> &[u8] {
    let start = span.start as usize;
    data.get(start..start.saturating_add(span.len as usize))
        .unwrap_or_default()
}

fn push_span(list: &mut Vec<u32>, span: Span) {
    list.extend_from_slice(&[span.start, span.len]);
}

/// The packed result of one batch as it is built: every output's bytes in one buffer, and
/// the outputs and headers as columns of integers. Writing an output appends to these
/// instead of allocating per output, which is what keeps the boundary cheap (see
/// `wit/types.wit`).
#[derive(Debug)]
pub(crate) struct Outputs {
    pub(crate) data: Vec<u8>,
    pub(crate) headers: WitHeaders,
    pub(crate) outputs: WitOutputs,
}

impl Default for Outputs {
    fn default() -> Self {
        Outputs::with_capacity(0, 0)
    }
}

/// A length or offset as the contract's `u32`; a plugin's memory is below 4 GiB.
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Outputs {
    /// Room for `bytes` of output data and `events` outputs.
    pub(crate) fn with_capacity(bytes: usize, events: usize) -> Self {
        Outputs {
            data: Vec::with_capacity(bytes),
            headers: WitHeaders {
                names: Vec::new(),
                values: Vec::new(),
            },
            outputs: WitOutputs {
                inputs: Vec::with_capacity(events),
                keys: Vec::with_capacity(2 * events),
                values: Vec::with_capacity(2 * events),
                headers: Vec::with_capacity(2 * events),
            },
        }
    }

    fn push(&mut self, bytes: &[u8]) -> Span {
        let start = to_u32(self.data.len());
        self.data.extend_from_slice(bytes);
        Span {
            start,
            len: to_u32(bytes.len()),
        }
    }

    fn push_header(&mut self, name: &[u8], value: &[u8]) {
        let name = self.push(name);
        let value = self.push(value);
        push_span(&mut self.headers.names, name);
        push_span(&mut self.headers.values, value);
    }

    fn header_count(&self) -> usize {
        self.headers.names.len() / 2
    }

    fn output_count(&self) -> usize {
        self.outputs.inputs.len()
    }

    /// Runs `plugin` on `event`, the batch's input number `input`. On error, whatever the
    /// plugin wrote for this event is taken back, so the event is failed and not emitted.
    pub(crate) fn run<P: Plugin>(
        &mut self,
        plugin: &mut P,
        event: &Event<'_>,
        input: u32,
    ) -> Result<(), EventError> {
        let mark = (self.data.len(), self.header_count(), self.output_count());
        let mut emit = Emit {
            input,
            out: self,
            written: 0,
        };
        let outcome = plugin.process(event, &mut emit);
        if outcome.is_err() {
            self.data.truncate(mark.0);
            self.headers.names.truncate(2 * mark.1);
            self.headers.values.truncate(2 * mark.1);
            let outputs = &mut self.outputs;
            outputs.inputs.truncate(mark.2);
            outputs.keys.truncate(2 * mark.2);
            outputs.values.truncate(2 * mark.2);
            outputs.headers.truncate(2 * mark.2);
        }
        outcome
    }

    /// The outputs of `event` as owned values, for [`run`].
    fn into_owned(self, event: &Event<'_>) -> Vec<Output> {
        let data = self.data.as_slice();
        let owned = |span: Span| bytes(data, span).to_vec();
        (0..self.output_count())
            .map(|o| {
                let headers = span(&self.outputs.headers, o);
                let headers = if headers.start == INPUT {
                    event
                        .headers
                        .iter()
                        .map(|h| (h.name.to_owned(), h.value.to_vec()))
                        .collect()
                } else {
                    (headers.start as usize..(headers.start + headers.len) as usize)
                        .map(|h| {
                            (
                                String::from_utf8_lossy(bytes(data, span(&self.headers.names, h)))
                                    .into_owned(),
                                owned(span(&self.headers.values, h)),
                            )
                        })
                        .collect()
                };
                let value = span(&self.outputs.values, o);
                let value = if value.start == INPUT {
                    event.value.to_vec()
                } else {
                    owned(value)
                };
                let key = match span(&self.outputs.keys, o) {
                    Span { start: INPUT, .. } => event.key.map(<[u8]>::to_vec),
                    Span { start: NO_KEY, .. } => None,
                    key => Some(owned(key)),
                };
                Output {
                    key,
                    value,
                    headers,
                }
            })
            .collect()
    }
}

/// Where [`Plugin::process`] writes the outputs of one event. Writing nothing drops the
/// event; each write adds one output, in order. Outputs keep the input's key and headers
/// unless built with [`Emit::output`].
#[derive(Debug)]
pub struct Emit<'e> {
    input: u32,
    out: &'e mut Outputs,
    written: usize,
}

impl Emit<'_> {
    fn emit(&mut self, value: Span, key: Span, headers: Span) {
        let outputs = &mut self.out.outputs;
        outputs.inputs.push(self.input);
        push_span(&mut outputs.keys, key);
        push_span(&mut outputs.values, value);
        push_span(&mut outputs.headers, headers);
        self.written += 1;
    }

    /// Emits `value` with the input's key and headers.
    pub fn value(&mut self, value: impl AsRef<[u8]>) {
        let value = self.out.push(value.as_ref());
        self.emit(value, SAME_AS_INPUT, SAME_AS_INPUT);
    }

    /// Emits a value that `write` appends to the output buffer, with the input's key and
    /// headers: the fastest way to emit, as the bytes are written once, in place.
    ///
    /// `write` must only append to the buffer it is given (which already holds other
    /// outputs). If it returns an error, what it appended is removed, nothing is emitted and
    /// the error is returned.
    pub fn value_with<E>(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        let start = self.out.data.len();
        if let Err(error) = write(&mut self.out.data) {
            self.out.data.truncate(start);
            return Err(error);
        }
        // A writer that removed bytes broke its promise; emit what is certainly its own.
        let start = start.min(self.out.data.len());
        let value = Span {
            start: to_u32(start),
            len: to_u32(self.out.data.len() - start),
        };
        self.emit(value, SAME_AS_INPUT, SAME_AS_INPUT);
        Ok(())
    }

    /// Emits `value` serialised as JSON, with the input's key and headers.
    pub fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EventError> {
        self.value_with(|buffer| serde_json::to_writer(buffer, value))
            .map_err(|e| EventError::rejected(format!("could not serialise output: {e}")))
    }

    /// Emits the input event unchanged. Nothing is copied: the output refers to the
    /// input, which the host still holds.
    pub fn forward(&mut self) {
        self.emit(SAME_AS_INPUT, SAME_AS_INPUT, SAME_AS_INPUT);
    }

    /// Emits an output built by hand (own key and headers).
    pub fn output(&mut self, output: Output) {
        let value = self.out.push(&output.value);
        let key = output.key.as_deref().map(|k| self.out.push(k));
        let first = self.out.header_count();
        for (name, value) in &output.headers {
            self.out.push_header(name.as_bytes(), value);
        }
        let headers = Span {
            start: to_u32(first),
            len: to_u32(output.headers.len()),
        };
        self.emit(value, key.unwrap_or(NO_KEY_SPAN), headers);
    }

    /// How many outputs were written so far.
    pub fn len(&self) -> usize {
        self.written
    }

    /// Whether nothing was written so far (the event would be dropped).
    pub fn is_empty(&self) -> bool {
        self.written == 0
    }
}

/// Runs `plugin` on one event and returns its outputs or its error: exactly what the
/// component returns to the host for that event. Use it in native unit tests.
pub fn run<P: Plugin>(plugin: &mut P, event: &Event<'_>) -> Result<Vec<Output>, EventError> {
    let mut outputs = Outputs::default();
    outputs.run(plugin, event, 0)?;
    Ok(outputs.into_owned(event))
}
