//! Log lines that land in the host's log output, tagged with the plugin's name.
//!
//! Use the macros (`weir_sdk::log::info!("{} events", n)`) or [`write()`]. Outside
//! WebAssembly (in native unit tests) lines go to standard error instead.

pub use crate::bindings::weir::transform::log::Level;

/// Writes one log line at `level`.
pub fn write(level: Level, message: &str) {
    #[cfg(target_family = "wasm")]
    crate::bindings::weir::transform::log::write(level, message);
    #[cfg(not(target_family = "wasm"))]
    eprintln!("[{level:?}] {message}");
}

#[doc(hidden)]
#[macro_export]
macro_rules! __weir_log {
    ($level:ident, $($arg:tt)+) => {
        $crate::log::write($crate::log::Level::$level, &::std::format!($($arg)+))
    };
}

/// Logs a formatted line at `trace` level, like `format!`.
#[macro_export]
macro_rules! __weir_trace { ($($arg:tt)+) => { $crate::__weir_log!(Trace, $($arg)+) }; }
/// Logs a formatted line at `debug` level, like `format!`.
#[macro_export]
macro_rules! __weir_debug { ($($arg:tt)+) => { $crate::__weir_log!(Debug, $($arg)+) }; }
/// Logs a formatted line at `info` level, like `format!`.
#[macro_export]
macro_rules! __weir_info { ($($arg:tt)+) => { $crate::__weir_log!(Info, $($arg)+) }; }
/// Logs a formatted line at `warn` level, like `format!`.
#[macro_export]
macro_rules! __weir_warn { ($($arg:tt)+) => { $crate::__weir_log!(Warn, $($arg)+) }; }
/// Logs a formatted line at `error` level, like `format!`.
#[macro_export]
macro_rules! __weir_error { ($($arg:tt)+) => { $crate::__weir_log!(Error, $($arg)+) }; }

pub use crate::{
    __weir_debug as debug, __weir_error as error, __weir_info as info, __weir_trace as trace,
    __weir_warn as warn,
};
