//! The glue behind [`crate::export!`]: WIT calls in, [`Plugin`] calls out.
//!
//! A batch arrives packed (`wit/types.wit`): one `data` buffer and spans into it. Each event
//! is handed to the plugin as an [`Event`] borrowing from that buffer, so unpacking costs
//! no allocation per event, and outputs are appended to one result buffer ([`Outputs`]).

use crate::bindings::weir::transform::types::{Batch, BatchResult, Failure as WitFailure};
use crate::emit::{Outputs, bytes, key, span};
use crate::{Config, Event, Header, Plugin};
use std::cell::RefCell;
use std::thread::LocalKey;

/// The instance of the plugin, created by `init`; one per component instance.
pub type Slot<P> = LocalKey<RefCell<Option<P>>>;

/// Implements `transform.init`.
pub fn init<P: Plugin>(
    slot: &'static Slot<P>,
    config: Vec<(String, String)>,
) -> Result<(), String> {
    let plugin = P::init(Config::from(config))?;
    slot.with_borrow_mut(|state| *state = Some(plugin));
    // The plugin's state now exists; what is allocated from here on is per call.
    #[cfg(feature = "arena")]
    crate::arena::activate();
    Ok(())
}

/// Implements `transform.process`: every event of the batch, in order, through the plugin.
pub fn process<P: Plugin>(slot: &'static Slot<P>, batch: Batch) -> BatchResult {
    let data = batch.data.as_slice();
    let columns = &batch.headers;
    // One allocation for all the batch's headers; events borrow their range of it.
    let headers: Vec<Header<'_>> = (0..columns.names.len() / 2)
        .map(|h| Header {
            // The host only sends UTF-8 names (they are Rust strings on its side).
            name: std::str::from_utf8(bytes(data, span(&columns.names, h))).unwrap_or_default(),
            value: bytes(data, span(&columns.values, h)),
        })
        .collect();
    let events = &batch.events;
    let count = events.timestamps_ms.len();
    // Outputs are usually about as large as the inputs; room for a little growth saves
    // reallocating (and copying) the buffer while the batch is written.
    let mut outputs = Outputs::with_capacity(data.len() + data.len() / 4 + 64 * count, count);
    let mut failures = Vec::new();
    slot.with_borrow_mut(|state| {
        for (input, i) in (0u32..).zip(0..count) {
            let range = span(&events.headers, i);
            let start = range.start as usize;
            let event = Event {
                key: key(&events.keys, i).map(|k| bytes(data, k)),
                value: bytes(data, span(&events.values, i)),
                headers: headers
                    .get(start..start.saturating_add(range.len as usize))
                    .unwrap_or_default(),
                topic: events
                    .topics
                    .get(i)
                    .and_then(|&t| batch.topics.get(t as usize))
                    .map_or("", String::as_str),
                partition: events.partitions.get(i).copied().unwrap_or_default(),
                offset: events.offsets.get(i).copied().unwrap_or_default(),
                timestamp_ms: events.timestamps_ms[i],
            };
            let outcome = match state {
                Some(plugin) => outputs.run(plugin, &event, input),
                None => Err(crate::EventError::rejected(
                    "plugin used before `init` succeeded",
                )),
            };
            if let Err(error) = outcome {
                failures.push(WitFailure {
                    input,
                    error: error.into(),
                });
            }
        }
    });
    BatchResult {
        data: outputs.data,
        headers: outputs.headers,
        outputs: outputs.outputs,
        failures,
    }
}

/// Makes a [`Plugin`] the component's implementation of the `transformer` world. Invoke it
/// once, at the top level of the plugin crate, with the type that implements [`Plugin`]:
///
/// ```text
/// weir_sdk::export!(MyPlugin);
/// ```
#[macro_export]
macro_rules! export {
    ($plugin:ty) => {
        const _: () = {
            ::std::thread_local! {
                static WEIR_PLUGIN: ::std::cell::RefCell<::std::option::Option<$plugin>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }

            struct WeirExport;

            impl $crate::bindings::exports::weir::transform::transform::Guest for WeirExport {
                fn init(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<(), ::std::string::String> {
                    $crate::__private::init::<$plugin>(&WEIR_PLUGIN, config)
                }

                fn process(
                    batch: $crate::bindings::weir::transform::types::Batch,
                ) -> $crate::bindings::weir::transform::types::BatchResult {
                    $crate::__private::process::<$plugin>(&WEIR_PLUGIN, batch)
                }
            }

    $crate::bindings::__export_transformer!(WeirExport with_types_in $crate::bindings);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Emit, EventError};
    use std::cell::RefCell;

    /// Emits the value twice, fails on `"fail"` after writing one output, drops `"drop"`.
    struct Twice;

    impl Plugin for Twice {
        fn init(config: Config) -> Result<Self, String> {
            config.only(&[])?;
            Ok(Twice)
        }

        fn process(&mut self, event: &Event, out: &mut Emit<'_>) -> Result<(), EventError> {
            match event.value {
                b"drop" => Ok(()),
                b"fail" => {
                    out.forward();
                    Err(EventError::rejected("asked to"))
                }
                _ => {
                    out.forward();
                    out.forward();
                    Ok(())
                }
            }
        }
    }

    thread_local! {
        static SLOT: RefCell<Option<Twice>> = const { RefCell::new(None) };
    }

    /// A packed batch of `values`, each with key `k<i>` and one header `h: <i>`.
    fn batch(values: &[&str]) -> Batch {
        use crate::bindings::weir::transform::types::{Events, Headers};
        let mut data = Vec::new();
        let mut push = |bytes: &[u8], list: &mut Vec<u32>| {
            list.extend_from_slice(&[data.len() as u32, bytes.len() as u32]);
            data.extend_from_slice(bytes);
        };
        let mut headers = Headers {
            names: Vec::new(),
            values: Vec::new(),
        };
        let mut events = Events {
            keys: Vec::new(),
            values: Vec::new(),
            headers: Vec::new(),
            topics: Vec::new(),
            partitions: Vec::new(),
            offsets: Vec::new(),
            timestamps_ms: Vec::new(),
        };
        for (i, value) in values.iter().enumerate() {
            push(format!("k{i}").as_bytes(), &mut events.keys);
            push(value.as_bytes(), &mut events.values);
            push(b"h", &mut headers.names);
            push(i.to_string().as_bytes(), &mut headers.values);
            events.headers.extend_from_slice(&[i as u32, 1]);
            events.topics.push(0);
            events.partitions.push(0);
            events.offsets.push(i as i64);
            events.timestamps_ms.push(0);
        }
        Batch {
            data,
            topics: vec!["t".into()],
            headers,
            events,
        }
    }

    /// Each input's outcome as text: outputs `value@key[h=...]` joined by `+`, or `fail:...`.
    /// Spans that keep the input's bytes are read from `batch`.
    fn summary(result: &BatchResult, batch: &Batch) -> Vec<String> {
        use crate::emit::INPUT;
        let text = |data: &[u8], s| String::from_utf8_lossy(bytes(data, s)).into_owned();
        let outputs = &result.outputs;
        (0..batch.events.timestamps_ms.len() as u32)
            .map(|input| {
                if let Some(f) = result.failures.iter().find(|f| f.input == input) {
                    return format!("fail:{}", f.error.message);
                }
                let i = input as usize;
                (0..outputs.inputs.len())
                    .filter(|&o| outputs.inputs[o] == input)
                    .map(|o| {
                        let (value, key, headers) = (
                            span(&outputs.values, o),
                            span(&outputs.keys, o),
                            span(&outputs.headers, o),
                        );
                        let value = match value.start {
                            INPUT => text(&batch.data, span(&batch.events.values, i)),
                            _ => text(&result.data, value),
                        };
                        let key = match key.start {
                            INPUT => key_text(&batch.data, &batch.events.keys, i),
                            _ => key_text(&result.data, &outputs.keys, o),
                        };
                        let (data, columns, h) = match headers.start {
                            INPUT => (
                                &batch.data,
                                &batch.headers,
                                span(&batch.events.headers, i).start as usize,
                            ),
                            h => (&result.data, &result.headers, h as usize),
                        };
                        format!(
                            "{value}@{key}[{}={}]",
                            text(data, span(&columns.names, h)),
                            text(data, span(&columns.values, h))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("+")
            })
            .collect()
    }

    fn key_text(data: &[u8], keys: &[u32], i: usize) -> String {
        key(keys, i)
            .map(|k| String::from_utf8_lossy(bytes(data, k)).into_owned())
            .unwrap_or_default()
    }

    #[test]
    fn outputs_and_failures_are_listed_in_input_order_and_a_failure_discards_its_outputs() {
        init(&SLOT, Vec::new()).unwrap();
        let input = batch(&["a", "drop", "fail", "b"]);
        let result = process(&SLOT, input.clone());
        assert_eq!(
            summary(&result, &input),
            [
                "a@k0[h=0]+a@k0[h=0]",
                "",
                "fail:asked to",
                "b@k3[h=3]+b@k3[h=3]"
            ]
        );
        // Forwarded outputs refer to their input instead of copying it.
        assert!(result.data.is_empty() && result.headers.names.is_empty());
        assert_eq!(result.outputs.inputs, [0, 0, 3, 3]);
    }

    #[test]
    fn a_refused_config_reaches_the_host_and_events_before_init_fail() {
        thread_local! {
            static FRESH: RefCell<Option<Twice>> = const { RefCell::new(None) };
        }
        let error = init(&FRESH, vec![("x".into(), "1".into())]).unwrap_err();
        assert!(error.contains("unknown config key `x`"), "{error}");
        let result = process(&FRESH, batch(&["a"]));
        assert!(result.outputs.inputs.is_empty());
        assert_eq!(result.failures.len(), 1);
    }

    #[test]
    fn json_parse_errors_name_a_missing_field() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code, reason = "only the parse matters")]
        struct User<'a> {
            name: &'a str,
            dob: &'a str,
        }
        let event = Event::new(r#"{"name":"Ada"}"#, 0);
        let error = event.json::<User<'_>>().err().unwrap();
        assert_eq!(error, EventError::missing_field("dob"));
        let error = Event::new("nope", 0).json::<User<'_>>().err().unwrap();
        assert_eq!(error.kind, crate::ErrorKind::InvalidInput);
    }
}
