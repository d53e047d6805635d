//! The glue behind [`crate::export!`]: WIT calls in, [`Plugin`] calls out.

use crate::bindings::weir::transform::types::{Event, Outcome};
use crate::{Config, Plugin, run};
use std::cell::RefCell;
use std::thread::LocalKey;

/// The instance of the plugin, created by `init`; one per component instance.
pub type Slot<P> = LocalKey<RefCell<Option<P>>>;

/// Implements `transform.init`.
pub fn init<P: Plugin>(slot: &'static Slot<P>, config: Vec<(String, String)>) -> Result<(), String> {
    let plugin = P::init(Config::from(config))?;
    slot.with_borrow_mut(|state| *state = Some(plugin));
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
            .map(|_| Outcome::Fail(crate::EventError::rejected("plugin used before `init` succeeded").into()))
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
