"""The packed batch layout of weir:transform@0.3.0, hidden from plugin authors: a batch is
unpacked into one `Event` per input and the outputs of every event are packed into one
result buffer. Independent of the generated bindings (passed in as `wit`), so that it runs
natively in tests."""

from ._errors import EventError, ErrorKind
from ._event import Emit, Event, Splice


NO_KEY = 0xFFFFFFFF
"""The start of the key span of an event or output without a key."""


def _headers_of(data, names, values, start, count):
    def decode():
        out = []
        for h in range(start, start + count):
            n, v = 2 * h, 2 * h
            name = data[names[n]:names[n] + names[n + 1]].decode("utf-8", "replace")
            out.append((name, data[values[v]:values[v] + values[v + 1]]))
        return out

    return decode


def process_batch(plugin, batch, wit):
    """Runs `plugin.process(event, emit)` over `batch` and returns the `batch-result`, built
    with the record types of `wit` (the generated `types` module, or a stand-in). Events and
    outputs travel as columns of integers; a span is two entries, start and length."""
    data = batch.data
    topics = batch.topics
    columns = batch.events
    keys, values, event_headers = columns.keys, columns.values, columns.headers
    batch_names, batch_values = batch.headers.names, batch.headers.values
    # The result's data starts as a copy of the batch's, so outputs that keep their input's
    # key and headers refer to them by the input's spans instead of copying them.
    buf = bytearray(data)
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
        if isinstance(value, (bytes, bytearray, memoryview)):
            buf.extend(value)
        elif isinstance(value, Splice):
            buf.extend(value.body)
            buf.extend(value.tail.encode())
            buf.append(0x7D)
        elif isinstance(value, str):
            buf.extend(value.encode())
        else:
            raise TypeError("an output value must be bytes, str or a Splice")
        return (start, len(buf) - start)

    def sink(key, value, event_headers):
        key_span = (NO_KEY, 0) if key is None else write(key)
        value_span = write(value)
        first = len(names) // 2
        hs = event_headers() if callable(event_headers) else event_headers
        for name, v in hs:
            names.extend(write(name))
            header_values.extend(write(v))
        inputs.append(index)
        out_keys.extend(key_span)
        out_values.extend(value_span)
        out_headers.extend((first, len(hs)))

    def same(value):
        i = 2 * index
        start, count = event_headers[i], event_headers[i + 1]
        first = len(names) // 2
        if count:
            names.extend(batch_names[2 * start:2 * (start + count)])
            header_values.extend(batch_values[2 * start:2 * (start + count)])
        value_span = write(value)
        inputs.append(index)
        out_keys.extend((keys[i], keys[i + 1]))
        out_values.extend(value_span)
        out_headers.extend((first if count else 0, count))

    emit = Emit(sink, None, same)
    for index in range(len(columns.timestamps_ms)):
        i = 2 * index
        v, k, hs = values[i], keys[i], event_headers[i + 1]
        topic = columns.topics[index]
        event = Event(
            data[v:v + values[i + 1]],
            columns.timestamps_ms[index],
            None if k == NO_KEY else data[k:k + keys[i + 1]],
            _headers_of(data, batch_names, batch_values, event_headers[i], hs) if hs else [],
            topics[topic] if topic < len(topics) else "",
            columns.partitions[index],
            columns.offsets[index],
        )
        emit._event = event
        mark = (len(buf), len(names), len(inputs))
        try:
            plugin.process(event, emit)
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
