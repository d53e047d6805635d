"""Events, outputs and the plugin base class, as plugin code sees them."""

import json
from typing import List, NamedTuple, Optional, Tuple, Union

from ._config import Config
from ._errors import EventError

_WHITESPACE = b" \t\n\r"


def _reject_constant(name: str):
    # Python's json accepts NaN and Infinity; JSON (and serde_json) do not.
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


class Splice:
    """The original bytes of a JSON object plus fields to append: `out.value(splice)` copies
    the bytes once and writes the new fields after them; nothing is re-serialised. The
    caller must not add a key the object already has."""

    __slots__ = ("body", "tail", "comma")

    def __init__(self, obj: bytes):
        end = len(obj.rstrip(_WHITESPACE))
        if end == 0 or obj[end - 1] != 0x7D:
            raise ValueError("value is JSON but not an object")
        self.body = obj[: end - 1]
        self.comma = not self.body.rstrip(_WHITESPACE).endswith(b"{")
        self.tail = ""

    def push(self, key: str, value) -> "Splice":
        """Appends `"key":value` with `value` any JSON-serialisable value."""
        sep = "," if self.comma else ""
        self.tail += f"{sep}{json.dumps(key, ensure_ascii=False)}:{json.dumps(value, ensure_ascii=False, separators=(',', ':'))}"
        self.comma = True
        return self

    def push_raw(self, key: str, raw: str) -> "Splice":
        """Appends `"key":raw` where `raw` is already JSON text."""
        sep = "," if self.comma else ""
        self.tail += f"{sep}{json.dumps(key, ensure_ascii=False)}:{raw}"
        self.comma = True
        return self

    def to_bytes(self) -> bytes:
        """The complete bytes."""
        return self.body + (self.tail + "}").encode()


class Event:
    """One input event: a Kafka record (or a file line) and where it came from. `value` and
    `key` are bytes; `timestamp_ms` is the time to use instead of a clock, so that a replay
    gives identical output."""

    __slots__ = ("value", "timestamp_ms", "key", "_headers", "topic", "partition", "offset")

    def __init__(self, value: bytes, timestamp_ms: int, key: Optional[bytes] = None, headers=(),
                 topic: str = "", partition: int = 0, offset: int = 0):
        self.value = value
        self.timestamp_ms = timestamp_ms
        self.key = key
        self._headers = headers
        self.topic = topic
        self.partition = partition
        self.offset = offset

    @classmethod
    def of(cls, value: Union[str, bytes], timestamp_ms: int = 0, key: Union[str, bytes, None] = None,
           headers: List[Tuple[str, bytes]] = ()) -> "Event":
        """An event for a unit test."""
        if isinstance(value, str):
            value = value.encode()
        if isinstance(key, str):
            key = key.encode()
        return cls(value, timestamp_ms, key, list(headers))

    @property
    def headers(self) -> List[Tuple[str, bytes]]:
        """Headers as `(name, value)` pairs, in record order."""
        if callable(self._headers):
            self._headers = self._headers()
        return self._headers

    def text(self) -> str:
        """The value as UTF-8 text; an invalid-input error if it is not UTF-8."""
        try:
            return self.value.decode("utf-8")
        except UnicodeDecodeError as e:
            raise EventError.invalid_input(f"value is not UTF-8: {e}") from None

    def json(self):
        """The value parsed as JSON; an invalid-input error if it does not parse."""
        text = self.text()
        try:
            return _DECODER.decode(text)
        except ValueError as e:
            raise EventError.invalid_input(f"value is not valid JSON: {e}") from None

    def splice(self) -> Splice:
        """Starts a copy of the value to which fields are appended (see `Splice`)."""
        try:
            return Splice(self.value)
        except ValueError as e:
            raise EventError.invalid_input(str(e)) from None


class Output(NamedTuple):
    """One output of `run`: bytes, for native tests."""

    value: bytes
    key: Optional[bytes]
    headers: List[Tuple[str, bytes]]


def _to_bytes(value) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, Splice):
        return value.to_bytes()
    raise TypeError("an output value must be bytes, str or a Splice")


class Emit:
    """Where `process` writes the outputs of one event. Writing nothing drops the event; each
    write adds one output, in order. Outputs keep the input's key and headers unless built
    with `output`."""

    __slots__ = ("_sink", "_event", "_same", "_forward")

    def __init__(self, sink, event: Optional[Event] = None, same=None, forward=None):
        self._sink = sink
        self._event = event
        # For events unpacked from a batch: emit a value (or the input's value) keeping the
        # input's key and headers by reusing their spans (no copy).
        self._same = same
        self._forward = forward

    def value(self, value) -> None:
        """Emits `value` (bytes, str or Splice) with the input's key and headers."""
        if self._same is not None:
            self._same(value)
            return
        event = self._event
        self._sink(event.key, value, event.headers)

    def json(self, value) -> None:
        """Emits `value` serialised as JSON, with the input's key and headers."""
        self.value(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def forward(self) -> None:
        """Emits the input event unchanged."""
        if self._forward is not None:
            self._forward()
            return
        self.value(self._event.value)

    def output(self, value, key: Optional[bytes] = None, headers: List[Tuple[str, bytes]] = ()) -> None:
        """Emits an output built by hand (own key and headers)."""
        self._sink(key, value, list(headers))


class Plugin:
    """What a plugin is. Subclass it, override `process` and, to read configuration,
    `init`. The host creates one instance per worker and calls `process` for every event, in
    order; output should depend only on the input and the config, so replays match."""

    @classmethod
    def init(cls, config: Config) -> "Plugin":
        """Builds the plugin from its configuration; raise to refuse it (the message is shown
        to the operator). The default takes no configuration."""
        config.only([])
        return cls()

    def process(self, event: Event, out: Emit) -> None:
        """Handles one event: write zero, one or many outputs to `out`, or raise
        `EventError` to fail this event alone (outputs already written are discarded)."""
        raise NotImplementedError


def run(plugin: Plugin, event: Event) -> List[Output]:
    """Runs `plugin` on one event and returns its outputs, or raises its `EventError`:
    exactly what the component returns for that event. For native unit tests."""
    outputs: List[Output] = []

    def sink(key, value, headers):
        hs = headers() if callable(headers) else headers
        outputs.append(Output(_to_bytes(value), key, [(n, bytes(v)) for n, v in hs]))

    plugin.process(event, Emit(sink, event))
    return outputs
