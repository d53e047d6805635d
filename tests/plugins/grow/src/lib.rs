//! Allocates (and touches) memory without bound. By default on every call; with config
//! `only_marked=true`, only on events whose value contains `"grow":true` (others pass
//! through).

use weir_sdk::{Config, Emit, Event, EventError, Plugin};

/// The plugin.
pub struct Grow {
    only_marked: bool,
    hoard: Vec<Vec<u8>>,
}

impl Plugin for Grow {
    fn init(config: Config) -> Result<Self, String> {
        config.only(&["only_marked"])?;
        Ok(Grow {
            only_marked: config.parse("only_marked")?.unwrap_or(false),
            hoard: Vec::new(),
        })
    }

    fn process(&mut self, event: &Event, out: &mut Emit<'_>) -> Result<(), EventError> {
        if !self.only_marked || event.value.windows(11).any(|w| w == br#""grow":true"#) {
            loop {
                // 1 MiB per step, filled so the pages are really committed.
                self.hoard.push(std::hint::black_box(vec![0xA5; 1 << 20]));
            }
        }
        out.forward();
        Ok(())
    }
}

weir_sdk::export!(Grow);
