//! Write a [weir](https://example.invalid/weir) plugin in Rust: implement [`Plugin`], then
//! call [`export!`]. The SDK hides the WebAssembly bindings; your crate depends on
//! `weir-sdk` alone and its logic stays testable with a plain `cargo test`.
//!
//! A plugin receives events in batches; the SDK calls [`Plugin::process`] once per event
//! and turns each call into exactly one outcome, in input order: the outputs written to
//! [`Emit`] (none drops the event, several fan it out), or the [`EventError`] returned,
//! which sends that event alone to the dead-letter destination.
//!
//! # Example
//!
//! ```
//! use weir_sdk::{Config, Emit, Event, EventError, Plugin};
//!
//! /// Adds `"greeting": "<prefix> <name>"` to every event.
//! pub struct Greeter {
//!     prefix: String,
//! }
//!
//! impl Plugin for Greeter {
//!     fn init(config: Config) -> Result<Self, String> {
//!         config.only(&["prefix"])?;
//!         let prefix = config.get("prefix").unwrap_or("hello").to_owned();
//!         weir_sdk::log::info!("greeting with {prefix:?}");
//!         Ok(Greeter { prefix })
//!     }
//!
//!     fn process(&mut self, event: &Event, out: &mut Emit<'_>) -> Result<(), EventError> {
//!         // Borrowed, order-preserving view of the JSON value; errors name the field.
//!         let object = event.object()?;
//!         let name = object.get_str("name").map_err(|e| EventError::from_field("name", e))?;
//!         if name.is_empty() {
//!             return Ok(()); // no output: the event is dropped
//!         }
//!         // Append the new field to the original bytes instead of rebuilding the object.
//!         let mut value = event.splice()?;
//!         value.push_str("greeting", &format!("{} {name}", self.prefix));
//!         out.value(value.finish());
//!         Ok(())
//!     }
//! }
//!
//! weir_sdk::export!(Greeter);
//!
//! // The same code, tested natively:
//! let mut greeter = Greeter::init(Config::new([("prefix", "hi")])).unwrap();
//! let outputs = weir_sdk::run(&mut greeter, &Event::new(r#"{"name":"Ada"}"#, 0)).unwrap();
//! assert_eq!(outputs[0].value, br#"{"name":"Ada","greeting":"hi Ada"}"#);
//! let error = weir_sdk::run(&mut greeter, &Event::new(r#"{"name":7}"#, 0)).unwrap_err();
//! assert_eq!(error, EventError::invalid_field("name", "expected a string, found a number"));
//! ```
//!
//! Build the component with `cargo build --release --target wasm32-wasip2`; the `.wasm`
//! in `target/wasm32-wasip2/release/` is what weir loads.
#![deny(missing_docs)]

// The generated bindings name the runtime by its public path, `weir_sdk::__private::rt`.
extern crate self as weir_sdk;

#[cfg(feature = "arena")]
pub mod arena;
#[doc(hidden)]
pub mod bindings;
mod config;
mod emit;
mod error;
#[doc(hidden)]
pub mod export;
pub mod json;
pub mod log;

pub use config::Config;
pub use emit::{Emit, run};
pub use error::{ErrorKind, EventError};
/// The serde version the SDK uses, for `#[derive(Deserialize)]` on your own types without
/// a separate dependency: add `#[serde(crate = "weir_sdk::serde")]` to the type.
pub use serde;
/// The serde_json version the SDK uses.
pub use serde_json;

/// One input event: a Kafka record (or a file line) and where it came from. Fields are
/// public: `value` holds the bytes (JSON for weir's plugins), `timestamp_ms` is the time a
/// plugin must use instead of a clock so that a replay gives identical output.
pub type Event = bindings::weir::transform::types::Event;
/// One record header: a name and opaque bytes.
pub type Header = bindings::weir::transform::types::Header;
/// One output event; it inherits the input event's position and timestamp.
pub type Output = bindings::weir::transform::types::Output;

/// What a plugin is. The host creates one instance per worker and calls `process` for every
/// event, in order; the instance may keep state between calls, but output should depend
/// only on the input (and `init`'s config) so that a replay produces the same rows.
pub trait Plugin: Sized + 'static {
    /// Builds the plugin from its configuration. An `Err` refuses the plugin at load time;
    /// its message is shown to the operator, so name the key and the fix.
    fn init(config: Config) -> Result<Self, String>;

    /// Handles one event: write zero, one or many outputs to `out`, or return an error that
    /// fails this event alone (outputs already written for it are then discarded).
    fn process(&mut self, event: &Event, out: &mut Emit<'_>) -> Result<(), EventError>;
}

impl Event {
    /// An event with `value`, the given timestamp, no key, no headers and no position;
    /// what a unit test needs.
    pub fn new(value: impl Into<Vec<u8>>, timestamp_ms: i64) -> Self {
        Event {
            key: None,
            value: value.into(),
            headers: Vec::new(),
            topic: String::new(),
            partition: 0,
            offset: 0,
            timestamp_ms,
        }
    }

    /// The value as UTF-8 text.
    pub fn text(&self) -> Result<&str, EventError> {
        std::str::from_utf8(&self.value)
            .map_err(|e| EventError::invalid_input(format!("value is not UTF-8: {e}")))
    }

    /// Parses the value into `T`, borrowing strings from the value where `T` allows
    /// (`&'a str`, `Cow<'a, str>` with `#[serde(borrow)]`). A missing field is reported as
    /// [`ErrorKind::MissingField`] naming it; anything else as [`ErrorKind::InvalidInput`].
    pub fn json<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T, EventError> {
        serde_json::from_slice(&self.value).map_err(|error| json::to_event_error(&error))
    }

    /// A borrowed, order-preserving view of the value's fields, for reading fields and
    /// replacing or removing them (see [`json::Object`]).
    pub fn object(&self) -> Result<json::Object<'_>, EventError> {
        Ok(json::Object::parse(&self.value)?)
    }

    /// Starts a copy of the value to which new top-level fields are appended (see
    /// [`json::Splice`]); the fastest way to add fields.
    pub fn splice(&self) -> Result<json::Splice, EventError> {
        Ok(json::Splice::new(&self.value)?)
    }
}

/// With the `arena` feature, every allocation of the component goes through [`arena::Arena`].
#[cfg(all(
    feature = "arena",
    target_family = "wasm",
    not(target_feature = "atomics")
))]
#[global_allocator]
static ALLOCATOR: arena::Arena = arena::Arena::new();

#[doc(hidden)]
pub mod __private {
    pub use crate::export::{init, process};
    pub use wit_bindgen::rt;
}
