//! The only place the WIT contract is turned into Rust for the host.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "transformer",
});

pub use exports::weir::transform::transform::{Event, Outcome};
pub use weir::transform::log::Level;
pub use weir::transform::types::{ErrorKind, EventError, Header, Output};
