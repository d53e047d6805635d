//! Collecting the outputs of one event, straight into the batch's packed result.

use crate::bindings::weir::transform::types::{Header as WitHeader, Output as WitOutput, Span};
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

/// The packed result of one batch as it is built: every output's bytes in one buffer.
/// Writing an output appends to `data` instead of allocating per output, which is what
/// keeps the boundary cheap (see `wit/types.wit`).
#[derive(Debug, Default)]
pub(crate) struct Outputs {
    pub(crate) data: Vec<u8>,
    pub(crate) headers: Vec<WitHeader>,
    pub(crate) outputs: Vec<WitOutput>,
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
            headers: Vec::new(),
            outputs: Vec::with_capacity(events),
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

    /// Runs `plugin` on `event`, the batch's input number `input`. On error, whatever the
    /// plugin wrote for this event is taken back, so the event is failed and not emitted.
    pub(crate) fn run<P: Plugin>(
        &mut self,
        plugin: &mut P,
        event: &Event<'_>,
        input: u32,
    ) -> Result<(), EventError> {
        let mark = (self.data.len(), self.headers.len(), self.outputs.len());
        let mut emit = Emit {
            event,
            input,
            out: self,
            inherited: None,
            written: 0,
        };
        let outcome = plugin.process(event, &mut emit);
        if outcome.is_err() {
            self.data.truncate(mark.0);
            self.headers.truncate(mark.1);
            self.outputs.truncate(mark.2);
        }
        outcome
    }

    /// The outputs as owned values, for [`run`].
    fn into_owned(self) -> Vec<Output> {
        let bytes = |span: Span| -> Vec<u8> {
            let start = span.start as usize;
            self.data
                .get(start..start.saturating_add(span.len as usize))
                .unwrap_or_default()
                .to_vec()
        };
        self.outputs
            .iter()
            .map(|o| {
                let start = o.headers.start as usize;
                let headers = self
                    .headers
                    .get(start..start.saturating_add(o.headers.len as usize))
                    .unwrap_or_default()
                    .iter()
                    .map(|h| {
                        (
                            String::from_utf8_lossy(&bytes(h.name)).into_owned(),
                            bytes(h.value),
                        )
                    })
                    .collect();
                Output {
                    key: o.key.map(bytes),
                    value: bytes(o.value),
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
    event: &'e Event<'e>,
    input: u32,
    out: &'e mut Outputs,
    /// Where the input's key and headers were copied to, once an output inherited them:
    /// further outputs of the same event share the copy.
    inherited: Option<(Option<Span>, Span)>,
    written: usize,
}

impl Emit<'_> {
    /// The input's key and headers in the result, copied on first use.
    fn inherited(&mut self) -> (Option<Span>, Span) {
        if let Some(spans) = self.inherited {
            return spans;
        }
        let key = self.event.key.map(|k| self.out.push(k));
        let first = self.out.headers.len();
        for header in self.event.headers {
            let name = self.out.push(header.name.as_bytes());
            let value = self.out.push(header.value);
            self.out.headers.push(WitHeader { name, value });
        }
        let headers = Span {
            start: to_u32(first),
            len: to_u32(self.event.headers.len()),
        };
        self.inherited = Some((key, headers));
        (key, headers)
    }

    fn emit(&mut self, value: Span, key: Option<Span>, headers: Span) {
        self.out.outputs.push(WitOutput {
            input: self.input,
            key,
            value,
            headers,
        });
        self.written += 1;
    }

    /// Emits `value` with the input's key and headers.
    pub fn value(&mut self, value: impl AsRef<[u8]>) {
        let value = self.out.push(value.as_ref());
        let (key, headers) = self.inherited();
        self.emit(value, key, headers);
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
        let (key, headers) = self.inherited();
        self.emit(value, key, headers);
        Ok(())
    }

    /// Emits `value` serialised as JSON, with the input's key and headers.
    pub fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EventError> {
        self.value_with(|buffer| serde_json::to_writer(buffer, value))
            .map_err(|e| EventError::rejected(format!("could not serialise output: {e}")))
    }

    /// Emits the input event unchanged.
    pub fn forward(&mut self) {
        self.value(self.event.value);
    }

    /// Emits an output built by hand (own key and headers).
    pub fn output(&mut self, output: Output) {
        let value = self.out.push(&output.value);
        let key = output.key.as_deref().map(|k| self.out.push(k));
        let first = self.out.headers.len();
        for (name, value) in &output.headers {
            let name = self.out.push(name.as_bytes());
            let value = self.out.push(value);
            self.out.headers.push(WitHeader { name, value });
        }
        let headers = Span {
            start: to_u32(first),
            len: to_u32(output.headers.len()),
        };
        self.emit(value, key, headers);
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
    Ok(outputs.into_owned())
}
