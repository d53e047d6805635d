//! Runs weir plugins: WebAssembly components that implement the `weir:transform` contract
//! (see `wit/` at the repository root).
//!
//! One [`PluginEngine`] per process compiles each plugin once ([`Plugin`]); a [`PluginChain`]
//! keeps one sandboxed instance per plugin and implements [`weir_core::Transform`]. A plugin
//! that traps, runs past its time budget or its memory cap fails only the event that caused
//! it: the chain re-runs the batch one event at a time on a fresh instance to find it.

mod bindings;
mod cache;
mod chain;
mod config;
mod engine;
mod error;
mod instance;
mod packed;
mod plugin;

pub use chain::PluginChain;
pub use config::{ByteSize, Grants, Limits, PluginSpec};
pub use engine::{EngineOptions, PluginEngine};
pub use error::PluginError;
pub use instance::{CallFault, PluginBatch, PluginInstance, PluginOutput};
pub use plugin::{CONTRACT_EXPORT, CONTRACT_PACKAGE, Plugin, PluginInfo, inspect};
