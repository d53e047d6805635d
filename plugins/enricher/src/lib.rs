//! weir's default plugin: derives `full_name`, `email_domain`, `age` and `age_group` from a
//! flat user event, at the event's own timestamp. The logic lives in
//! [`weir_enricher_core`] so the host benchmark can run the identical code natively; this
//! crate only adapts it to the plugin contract. It takes no configuration.

use weir_enricher_core::{EnrichError, enrich_into};
use weir_sdk::{Config, Emit, Event, EventError, Plugin};

/// The enricher plugin; stateless.
pub struct Enricher;

impl Plugin for Enricher {
    fn init(config: Config) -> Result<Self, String> {
        config.only(&[])?;
        Ok(Enricher)
    }

    fn process(&mut self, event: &Event, out: &mut Emit<'_>) -> Result<(), EventError> {
        // Written straight into the batch's output buffer: no per-event allocation or copy.
        out.value_with(|buffer| enrich_into(event.value, event.timestamp_ms, buffer))
            .map_err(to_event_error)
    }
}

fn to_event_error(error: EnrichError) -> EventError {
    match error {
        EnrichError::InvalidInput(problem) => {
            EventError::invalid_input(format!("value is not a JSON object: {problem}"))
        }
        EnrichError::MissingField(field) => EventError::missing_field(field),
        EnrichError::InvalidField { field, problem } => EventError::invalid_field(field, problem),
    }
}

weir_sdk::export!(Enricher);

#[cfg(test)]
mod tests {
    use super::*;
    use weir_sdk::ErrorKind;

    #[test]
    fn enriches_and_keeps_key_and_headers() {
        let mut plugin = Enricher::init(Config::default()).unwrap();
        let mut event = Event::new(
            r#"{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.org","dob":"1990-02-28T10:11:12.123Z"}"#,
            1_700_000_000_000,
        );
        event.key = Some(b"k");
        let outputs = weir_sdk::run(&mut plugin, &event).unwrap();
        assert_eq!(outputs.len(), 1);
        assert_eq!(outputs[0].key.as_deref(), Some(&b"k"[..]));
        assert!(
            outputs[0]
                .value
                .ends_with(br#""age":33,"age_group":"25-34"}"#)
        );
    }

    #[test]
    fn a_bad_date_fails_the_event_naming_dob() {
        let mut plugin = Enricher::init(Config::default()).unwrap();
        let event = Event::new(
            r#"{"first_name":"A","last_name":"B","email":"a@b.c","dob":"soon"}"#,
            0,
        );
        let error = weir_sdk::run(&mut plugin, &event).unwrap_err();
        assert_eq!(
            (error.kind, error.field.as_deref()),
            (ErrorKind::InvalidField, Some("dob"))
        );
    }

    #[test]
    fn refuses_any_config() {
        assert!(Enricher::init(Config::new([("x", "1")])).is_err());
    }
}
