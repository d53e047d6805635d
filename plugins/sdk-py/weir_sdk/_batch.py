"""The packed batch layout of weir:transform@0.3.0, hidden from plugin authors: a batch is
unpacked into one `Event` per input and the outputs of every event are packed into one
result buffer. Independent of the generated bindings (passed in as `wit`), so that it runs
natively in tests."""

from ._errors import EventError, ErrorKind
from ._event import Emit, Event, Splice


NO_KEY = 0xFFFFFFFF
"""The start of the key span of an event or output without a key."""

INPUT = 0xFFFFFFFE
"""The start of an output's key, value or headers span that keeps its input event's own:
nothing is copied, by the plugin or by the host."""

_SAME = (INPUT, 0)


def process_batch(plugin, batch, wit):
    """Runs `plugin.process(event, emit)` over `batch` and returns the `batch-result`, built
    with the record types of `wit` (the generated `types` module, or a stand-in). Events and
    outputs travel as columns of integers; a span is two entries, start and length.

    Inside the component this loop is interpreted once per event, so it does as little as
    it can per event: an event is its value, timestamp and index (the rest is read from the
    batch when asked for), and what an output keeps of its input (key, headers, or all of
    it for `forward`) is marked as kept (`INPUT`) rather than copied."""
    data = batch.data
    columns = batch.events
    values = columns.values
    buf = bytearray()
    names = []
    header_values = []
    inputs = []
    out_keys = []
    out_values = []
    out_headers = []
    failures = []
    index = 0

    def write(value):
        start = len(buf)
        if isinstance(value, Splice):  # the common case first
            buf.extend(value.body)
            buf.extend(value.tail.encode())
            buf.append(0x7D)
        elif isinstance(value, (bytes, bytearray, memoryview)):
            buf.extend(value)
        elif isinstance(value, str):
            buf.extend(value.encode())
        else:
            raise TypeError("an output value must be bytes, str or a Splice")
        return start, len(buf) - start

    def sink(key, value, hs):
        key_span = (NO_KEY, 0) if key is None else write(key)
        value_span = write(value)
        first = len(names) // 2
        for name, v in hs:
            names.extend(write(name))
            header_values.extend(write(v))
        inputs.append(index)
        out_keys.extend(key_span)
        out_values.extend(value_span)
        out_headers.extend((first, len(hs)))

    def same_key(value):
        out_values.extend(write(value))
        inputs.append(index)
        out_keys.extend(_SAME)
        out_headers.extend(_SAME)

    def forward():
        inputs.append(index)
        out_keys.extend(_SAME)
        out_values.extend(_SAME)
        out_headers.extend(_SAME)

    source = _Source(batch, data)
    emit = Emit(sink, None, same_key, forward)
    process = plugin.process
    new = object.__new__
    for index, timestamp_ms in enumerate(columns.timestamps_ms):
        i = 2 * index
        v = values[i]
        event = new(_BatchEvent)
        event.value = data[v:v + values[i + 1]]
        event.timestamp_ms = timestamp_ms
        event._source = source
        event._index = index
        emit._event = event
        mark = (len(buf), len(names), len(inputs))
        try:
            process(event, emit)
        except MemoryError:
            # Out of memory leaves the interpreter in no state to go on: trap, and let the
            # host fail this event and start a fresh instance.
            raise
        except Exception as thrown:  # noqa: BLE001 - every other error fails this event alone
            del buf[mark[0]:]
            del names[mark[1]:]
            del header_values[mark[1]:]
            del inputs[mark[2]:]
            for column in (out_keys, out_values, out_headers):
                del column[2 * mark[2]:]
            failures.append(wit.Failure(index, _to_wit_error(thrown, wit)))
    return wit.BatchResult(
        bytes(buf),
        wit.Headers(names, header_values),
        wit.Outputs(inputs, out_keys, out_values, out_headers),
        failures,
    )


class _Source:
    """The batch's columns, for the event attributes read only when asked for."""

    __slots__ = ("data", "topics", "columns", "names", "values")

    def __init__(self, batch, data):
        self.data = data
        self.topics = batch.topics
        self.columns = batch.events
        self.names = batch.headers.names
        self.values = batch.headers.values


class _BatchEvent(Event):
    """An event of a batch: `value` and `timestamp_ms` are set, the rest is read from the
    batch on access (most plugins never ask)."""

    __slots__ = ("_source", "_index")

    @property
    def key(self):
        i = 2 * self._index
        keys = self._source.columns.keys
        k = keys[i]
        return None if k == NO_KEY else self._source.data[k:k + keys[i + 1]]

    @property
    def headers(self):
        s = self._source
        i = 2 * self._index
        spans = s.columns.headers
        out = []
        for h in range(spans[i], spans[i] + spans[i + 1]):
            n, v = s.names, s.values
            name = s.data[n[2 * h]:n[2 * h] + n[2 * h + 1]].decode("utf-8", "replace")
            out.append((name, s.data[v[2 * h]:v[2 * h] + v[2 * h + 1]]))
        return out

    @property
    def topic(self):
        s = self._source
        t = s.columns.topics[self._index]
        return s.topics[t] if t < len(s.topics) else ""

    @property
    def partition(self):
        return self._source.columns.partitions[self._index]

    @property
    def offset(self):
        return self._source.columns.offsets[self._index]


_KINDS = {
    ErrorKind.INVALID_INPUT: "INVALID_INPUT",
    ErrorKind.MISSING_FIELD: "MISSING_FIELD",
    ErrorKind.INVALID_FIELD: "INVALID_FIELD",
    ErrorKind.REJECTED: "REJECTED",
}


def _to_wit_error(thrown, wit):
    if isinstance(thrown, EventError):
        return wit.EventError(getattr(wit.ErrorKind, _KINDS[thrown.kind]), thrown.field, thrown.message)
    message = f"plugin raised {type(thrown).__name__}: {thrown}"
    return wit.EventError(wit.ErrorKind.REJECTED, None, message)
