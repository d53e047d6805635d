//! The glue behind [`crate::export!`]: WIT calls in, [`Plugin`] calls out.

use crate::bindings::weir::transform::types::{Event, Outcome};
use crate::{Config, Plugin, run};
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

/// Implements `transform.process`: one outcome per event, in order.
pub fn process<P: Plugin>(slot: &'static Slot<P>, batch: Vec<Event>) -> Vec<Outcome> {
    slot.with_borrow_mut(|state| match state {
        Some(plugin) => batch
            .iter()
            .map(|event| match run(plugin, event) {
                Ok(outputs) => Outcome::Emit(outputs),
                Err(error) => Outcome::Fail(error.into()),
            })
            .collect(),
        None => batch
            .iter()
            .map(|_| {
                Outcome::Fail(
                    crate::EventError::rejected("plugin used before `init` succeeded").into(),
                )
            })
            .collect(),
    })
}

/// Makes a [`Plugin`] the component's implementation of the `transformer` world. Invoke it
/// once, at the top level of the plugin crate, with the type that implements [`Plugin`]:
///
/// ```ignore
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
                    batch: ::std::vec::Vec<$crate::Event>,
                ) -> ::std::vec::Vec<$crate::bindings::weir::transform::types::Outcome> {
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
            match event.value.as_slice() {
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

    fn batch(values: &[&str]) -> Vec<Event> {
        values.iter().map(|v| Event::new(*v, 0)).collect()
    }

    #[test]
    fn one_outcome_per_event_in_order_and_a_failure_discards_its_outputs() {
        init(&SLOT, Vec::new()).unwrap();
        let outcomes = process(&SLOT, batch(&["a", "drop", "fail", "b"]));
        let summary: Vec<String> = outcomes
            .into_iter()
            .map(|outcome| match outcome {
                Outcome::Emit(outputs) => outputs
                    .iter()
                    .map(|o| String::from_utf8_lossy(&o.value).into_owned())
                    .collect::<Vec<_>>()
                    .join("+"),
                Outcome::Fail(error) => format!("fail:{}", error.message),
            })
            .collect();
        assert_eq!(summary, ["a+a", "", "fail:asked to", "b+b"]);
    }

    #[test]
    fn a_refused_config_reaches_the_host_and_events_before_init_fail() {
        thread_local! {
            static FRESH: RefCell<Option<Twice>> = const { RefCell::new(None) };
        }
        let error = init(&FRESH, vec![("x".into(), "1".into())]).unwrap_err();
        assert!(error.contains("unknown config key `x`"), "{error}");
        let outcomes = process(&FRESH, batch(&["a"]));
        assert!(matches!(&outcomes[..], [Outcome::Fail(_)]));
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
