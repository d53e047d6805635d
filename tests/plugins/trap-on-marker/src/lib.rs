//! Traps on any event whose value contains `"trap":true` (no spaces); passes every other
//! event through unchanged. Tests that one poison event fails alone.

use weir_sdk::{Config, Emit, Event, EventError, Plugin};

/// The plugin.
pub struct TrapOnMarker;

impl Plugin for TrapOnMarker {
    fn init(_: Config) -> Result<Self, String> {
        Ok(TrapOnMarker)
    }

    fn process(&mut self, event: &Event, out: &mut Emit<'_>) -> Result<(), EventError> {
        if event.value.windows(11).any(|w| w == br#""trap":true"#) {
            // Deliberate: the point of this plugin is to trap.
            std::process::abort();
        }
        out.forward();
        Ok(())
    }
}

weir_sdk::export!(TrapOnMarker);
