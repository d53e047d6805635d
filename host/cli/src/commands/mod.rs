//! One module per subcommand.

pub mod components;
pub mod demo;
pub mod dlq;
pub mod plugin;
pub mod run;
pub mod scaffold;
pub mod toolchain;
