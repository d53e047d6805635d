//! Write a [weir](https://example.invalid/weir) plugin in Rust: implement [`Plugin`], then
//! call [`export!`]. The SDK hides the WebAssembly bindings; your crate depends on
//! `weir-sdk` alone and its logic stays testable with a plain `cargo test`.
//!
//! A plugin receives events in batches; the SDK calls [`Plugin::process`] once per event,
//! in input order, and each call decides that event's fate: the outputs written to [`Emit`]
//! (none drops the event, several fan it out), or the [`EventError`] returned, which sends
//! that event alone to the dead-letter destination. Events borrow their bytes from the
//! batch the host sent, and outputs are appended to one buffer for the whole batch, so the
//! SDK allocates nothing per event ([`Emit::value_with`] writes an output in place).
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
pub use emit::{Emit, Output, run};
pub use error::{ErrorKind, EventError};
/// The serde version the SDK uses, for `#[derive(Deserialize)]` on your own types without
/// a separate dependency: add `#[serde(crate = "weir_sdk::serde")]` to the type.
pub use serde;
/// The serde_json version the SDK uses.
pub use serde_json;

/// One input event: a Kafka record (or a file line) and where it came from, borrowed from
/// the batch the host sent (no copy is made per event). `value` holds the bytes (JSON for
/// weir's plugins); `timestamp_ms` is the time a plugin must use instead of a clock so that
/// a replay gives identical output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// Record key, if the record has one.
    pub key: Option<&'a [u8]>,
    /// Record value; for weir's own plugins a JSON document.
    pub value: &'a [u8],
    /// Record headers, in record order.
    pub headers: &'a [Header<'a>],
    /// Source topic (empty for file sources).
    pub topic: &'a str,
    /// Source partition (0 for file sources).
    pub partition: i32,
    /// Offset within the partition (line number for file sources).
    pub offset: i64,
    /// Record timestamp in milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
}

/// One record header: a name and opaque bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// Header name.
    pub name: &'a str,
    /// Header value; Kafka allows any bytes here.
    pub value: &'a [u8],
}

/// What a plugin is. The host creates one instance per worker and calls `process` for every
/// event, in order; the instance may keep state between calls, but output should depend
/// only on the input (and `init`'s config) so that a replay produces the same rows.
pub trait Plugin: Sized + 'static {
    /// Builds the plugin from its configuration. An `Err` refuses the plugin at load time;
    /// its message is shown to the operator, so name the key and the fix.
    fn init(config: Config) -> Result<Self, String>;

    /// Handles one event: write zero, one or many outputs to `out`, or return an error that
    /// fails this event alone (outputs already written for it are then discarded).
    fn process(&mut self, event: &Event<'_>, out: &mut Emit<'_>) -> Result<(), EventError>;
}

impl<'a> Event<'a> {
    /// An event with `value`, the given timestamp, no key, no headers and no position;
    /// what a unit test needs.
    pub fn new(value: &'a (impl AsRef<[u8]> + ?Sized), timestamp_ms: i64) -> Self {
        Event {
            key: None,
            value: value.as_ref(),
            headers: &[],
            topic: "",
            partition: 0,
            offset: 0,
            timestamp_ms,
        }
    }

    /// The value as UTF-8 text.
    pub fn text(&self) -> Result<&str, EventError> {
        std::str::from_utf8(self.value)
            .map_err(|e| EventError::invalid_input(format!("value is not UTF-8: {e}")))
    }

    /// Parses the value into `T`, borrowing strings from the value where `T` allows
    /// (`&'a str`, `Cow<'a, str>` with `#[serde(borrow)]`). A missing field is reported as
    /// [`ErrorKind::MissingField`] naming it; anything else as [`ErrorKind::InvalidInput`].
    pub fn json<T: serde::Deserialize<'a>>(&self) -> Result<T, EventError> {
        serde_json::from_slice(self.value).map_err(|error| json::to_event_error(&error))
    }

    /// A borrowed, order-preserving view of the value's fields, for reading fields and
    /// replacing or removing them (see [`json::Object`]).
    pub fn object(&self) -> Result<json::Object<'a>, EventError> {
        Ok(json::Object::parse(self.value)?)
    }

    /// Starts a copy of the value to which new top-level fields are appended (see
    /// [`json::Splice`]); the fastest way to add fields.
    pub fn splice(&self) -> Result<json::Splice, EventError> {
        Ok(json::Splice::new(self.value)?)
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
