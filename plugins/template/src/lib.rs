//! The `{{name}}` weir plugin.
//!
//! It adds one field to every JSON event: `"processed_by": "{{name}}"` (the field name can
//! be changed with the config key `field`). Replace the body of `process` with your logic;
//! see the `weir_sdk` documentation (`cargo doc --open`) for the helpers.

use weir_sdk::{Config, Emit, Event, EventError, Plugin};

/// The plugin; one instance handles every event of a worker, in order.
pub struct Tagger {
    field: String,
}

impl Plugin for Tagger {
    fn init(config: Config) -> Result<Self, String> {
        config.only(&["field"])?;
        let field = config.get("field").unwrap_or("processed_by").to_owned();
        Ok(Tagger { field })
    }

    fn process(&mut self, event: &Event, out: &mut Emit<'_>) -> Result<(), EventError> {
        let object = event.object()?;
        if object.contains(&self.field) {
            return Err(EventError::invalid_field(&self.field, "already present"));
        }
        // Append the field to the original bytes: no re-serialisation of the event.
        let mut value = event.splice()?;
        value.push_str(&self.field, "{{name}}");
        out.value(value.finish());
        Ok(())
    }
}

weir_sdk::export!(Tagger);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_the_field_and_keeps_the_rest() {
        let mut plugin = Tagger::init(Config::default()).unwrap();
        let outputs = weir_sdk::run(&mut plugin, &Event::new(r#"{"id":1}"#, 0)).unwrap();
        assert_eq!(outputs.len(), 1);
        assert_eq!(outputs[0].value, br#"{"id":1,"processed_by":"{{name}}"}"#);
    }

    #[test]
    fn refuses_values_that_are_not_json_objects() {
        let mut plugin = Tagger::init(Config::default()).unwrap();
        let error = weir_sdk::run(&mut plugin, &Event::new("not json", 0)).unwrap_err();
        assert_eq!(error.kind, weir_sdk::ErrorKind::InvalidInput);
    }
}
