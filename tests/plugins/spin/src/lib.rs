//! Loops forever. By default on every call; with config `only_marked=true`, only on events
//! whose value contains `"spin":true` (others pass through), so a test can check that the
//! neighbours of the spinning event survive.

use weir_sdk::{Config, Emit, Event, EventError, Plugin};

/// The plugin.
pub struct Spin {
    only_marked: bool,
}

impl Plugin for Spin {
    fn init(config: Config) -> Result<Self, String> {
        config.only(&["only_marked"])?;
        Ok(Spin {
            only_marked: config.parse("only_marked")?.unwrap_or(false),
        })
    }

    fn process(&mut self, event: &Event, out: &mut Emit<'_>) -> Result<(), EventError> {
        if !self.only_marked || event.value.windows(11).any(|w| w == br#""spin":true"#) {
            let mut counter = 0u64;
            loop {
                counter = std::hint::black_box(counter.wrapping_add(1));
            }
        }
        out.forward();
        Ok(())
    }
}

weir_sdk::export!(Spin);
