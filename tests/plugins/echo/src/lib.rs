//! Returns every event unchanged: the cheapest possible plugin, for measuring what the
//! host/guest boundary costs per event.

use weir_sdk::{Config, Emit, Event, EventError, Plugin};

/// The plugin.
pub struct Echo;

impl Plugin for Echo {
    fn init(_: Config) -> Result<Self, String> {
        Ok(Echo)
    }

    fn process(&mut self, _: &Event, out: &mut Emit<'_>) -> Result<(), EventError> {
        out.forward();
        Ok(())
    }
}

weir_sdk::export!(Echo);
