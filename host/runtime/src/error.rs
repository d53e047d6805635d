//! Errors of loading and preparing plugins. Faults while processing events are not errors:
//! they become per-event failures (see [`crate::CallFault`]).

use std::path::PathBuf;

/// Why a plugin could not be loaded or initialised.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// The plugin file could not be read.
    #[error("cannot read plugin {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a WebAssembly component wasmtime can compile.
    #[error(
        "plugin `{plugin}` is not a valid WebAssembly component ({reason}); plugins are components built for wasm32-wasip2, e.g. `cargo build --release --target wasm32-wasip2`"
    )]
    Compile {
        /// Plugin name.
        plugin: String,
        /// Compiler message.
        reason: String,
    },
    /// The component implements another version of the contract.
    #[error(
        "plugin `{plugin}` targets `{found}`, but this weir supports `{expected}`; rebuild the plugin against weir-sdk for {expected}"
    )]
    VersionMismatch {
        /// Plugin name.
        plugin: String,
        /// What this host supports.
        expected: String,
        /// What the component exports.
        found: String,
    },
    /// The component does not export the weir contract at all.
    #[error(
        "plugin `{plugin}` does not export `{expected}` (its exports: {found}); is it a weir plugin built with weir-sdk?"
    )]
    NotAPlugin {
        /// Plugin name.
        plugin: String,
        /// What this host supports.
        expected: String,
        /// What the component exports.
        found: String,
    },
    /// The component imports something weir does not provide.
    #[error("plugin `{plugin}` cannot be linked: {reason}")]
    Link {
        /// Plugin name.
        plugin: String,
        /// Linker message.
        reason: String,
    },
    /// Instantiation failed (for example, the memory cap is below the plugin's initial memory).
    #[error("plugin `{plugin}` could not be instantiated: {reason}")]
    Instantiate {
        /// Plugin name.
        plugin: String,
        /// Why.
        reason: String,
    },
    /// The plugin's `init` refused its configuration.
    #[error("plugin `{plugin}` refused its configuration: {reason}")]
    Init {
        /// Plugin name.
        plugin: String,
        /// The plugin's message.
        reason: String,
    },
    /// A grant in the configuration cannot be honoured.
    #[error("plugin `{plugin}`: {reason}")]
    Grant {
        /// Plugin name.
        plugin: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The engine could not be created.
    #[error("cannot create the WebAssembly engine: {0}")]
    Engine(String),
}
