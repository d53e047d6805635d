//! The only place the WIT contract is turned into Rust for the host.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "transformer",
});

pub use weir::transform::log::Level;
pub use weir::transform::types::{
    Batch, BatchResult, ErrorKind, EventError, Events, Failure, Headers, Outputs,
};
