"""Write a weir plugin in Python: subclass `Plugin`, then build the module into a
WebAssembly component for weir:transform@0.3.0 with `python -m weir_sdk.build`.

The SDK hides the packed batch layout: `process` sees one `Event` at a time and writes its
outputs to an `Emit`, like the Rust SDK. Example::

    from weir_sdk import Config, Emit, Event, EventError, Plugin

    class Greeter(Plugin):
        @classmethod
        def init(cls, config: Config) -> "Greeter":
            config.only(["prefix"])
            return cls(config.get("prefix") or "hello")

        def __init__(self, prefix: str):
            self.prefix = prefix

        def process(self, event: Event, out: Emit) -> None:
            name = event.json().get("name")
            if not isinstance(name, str):
                raise EventError.invalid_field("name", "expected a string")
            if name:  # no output: the event is dropped
                out.value(event.splice().push("greeting", f"{self.prefix} {name}"))

    # Natively, in a test:
    greeter = Greeter.init(Config([("prefix", "hi")]))
    assert run(greeter, Event.of('{"name":"Ada"}'))[0].value == b'{"name":"Ada","greeting":"hi Ada"}'
"""

from ._config import Config
from ._errors import ErrorKind, EventError
from ._event import Emit, Event, Output, Plugin, Splice, run
from . import log

__all__ = [
    "Config",
    "Emit",
    "ErrorKind",
    "Event",
    "EventError",
    "Output",
    "Plugin",
    "Splice",
    "log",
    "run",
]
