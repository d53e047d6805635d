"""The `{{name}}` weir plugin.

It adds one field to every JSON event: `"processed_by": "{{name}}"` (the field name can be
changed with the config key `field`). Replace the body of `process` with your logic; see the
`weir_sdk` docstrings for the helpers.
"""

from weir_sdk import Config, Emit, Event, EventError, Plugin


class {{class_name}}(Plugin):
    """The plugin; one instance handles every event of a worker, in order."""

    @classmethod
    def init(cls, config: Config) -> "{{class_name}}":
        config.only(["field"])
        return cls(config.get("field") or "processed_by")

    def __init__(self, field: str):
        self.field = field

    def process(self, event: Event, out: Emit) -> None:
        value = event.json()
        if not isinstance(value, dict):
            raise EventError.invalid_input("value is JSON but not an object")
        if self.field in value:
            raise EventError.invalid_field(self.field, "already present")
        # Append the field to the original bytes: no re-serialisation of the event.
        out.value(event.splice().push(self.field, "{{name}}"))
