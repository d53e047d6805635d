//! Tries to read `/etc/hostname` for every event. If the read fails (the sandbox denied
//! it) the event fails with kind `rejected` and a message starting `read /etc/hostname:`
//! followed by the error; if it succeeds, the output is `{"read":"ok","content":"..."}`,
//! which a sandbox test treats as a breach.

use weir_sdk::{Config, Emit, Event, EventError, Plugin};

/// The plugin.
pub struct ReadFile;

impl Plugin for ReadFile {
    fn init(_: Config) -> Result<Self, String> {
        Ok(ReadFile)
    }

    fn process(&mut self, _: &Event, out: &mut Emit<'_>) -> Result<(), EventError> {
        match std::fs::read_to_string("/etc/hostname") {
            Ok(content) => {
                out.value(format!(r#"{{"read":"ok","content":{content:?}}}"#));
                Ok(())
            }
            Err(error) => Err(EventError::rejected(format!("read /etc/hostname: {error}"))),
        }
    }
}

weir_sdk::export!(ReadFile);
