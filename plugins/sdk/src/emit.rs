//! Collecting the outputs of one event.

use crate::{Event, EventError, Output, Plugin};

/// Where [`Plugin::process`] writes the outputs of one event. Writing nothing drops the
/// event; each write adds one output, in order. Outputs keep the input's key and headers
/// unless built with [`Emit::output`].
#[derive(Debug)]
pub struct Emit<'e> {
    event: &'e Event,
    outputs: Vec<Output>,
}

impl<'e> Emit<'e> {
    /// Outputs for `event`; `run` builds it, plugin code only receives it.
    fn new(event: &'e Event) -> Self {
        Emit {
            event,
            outputs: Vec::new(),
        }
    }

    /// Emits `value` with the input's key and headers.
    pub fn value(&mut self, value: impl Into<Vec<u8>>) {
        self.outputs.push(Output {
            key: self.event.key.clone(),
            value: value.into(),
            headers: self.event.headers.clone(),
        });
    }

    /// Emits `value` serialised as JSON, with the input's key and headers.
    pub fn json<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EventError> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| EventError::rejected(format!("could not serialise output: {e}")))?;
        self.value(bytes);
        Ok(())
    }

    /// Emits the input event unchanged.
    pub fn forward(&mut self) {
        self.value(self.event.value.clone());
    }

    /// Emits an output built by hand (own key and headers).
    pub fn output(&mut self, output: Output) {
        self.outputs.push(output);
    }

    /// How many outputs were written so far.
    pub fn len(&self) -> usize {
        self.outputs.len()
    }

    /// Whether nothing was written so far (the event would be dropped).
    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }
}

/// Runs `plugin` on one event and returns its outputs or its error: exactly what the
/// component returns to the host for that event. Use it in native unit tests.
pub fn run<P: Plugin>(plugin: &mut P, event: &Event) -> Result<Vec<Output>, EventError> {
    let mut emit = Emit::new(event);
    plugin.process(event, &mut emit)?;
    Ok(emit.outputs)
}
