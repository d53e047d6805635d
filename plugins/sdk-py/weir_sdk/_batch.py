"""The packed batch layout of weir:transform@0.2.0, hidden from plugin authors: a batch is
unpacked into one `Event` per input and the outputs of every event are packed into one
result buffer. Independent of the generated bindings (passed in as `wit`), so that it runs
natively in tests."""

from ._errors import EventError, ErrorKind
from ._event import Emit, Event, Splice


def _headers_of(data, all_headers, span):
    def decode():
        out = []
        for h in all_headers[span.start:span.start + span.len]:
            name = data[h.name.start:h.name.start + h.name.len].decode("utf-8", "replace")
            out.append((name, data[h.value.start:h.value.start + h.value.len]))
        return out

    return decode


def process_batch(plugin, batch, wit):
    """Runs `plugin.process(event, emit)` over `batch` and returns the `batch-result`, built
    with the record types of `wit` (the generated `types` module, or a stand-in)."""
    Span, Output, Header = wit.Span, wit.Output, wit.Header
    data = batch.data
    topics = batch.topics
    # The result's data starts as a copy of the batch's, so outputs that keep their input's
    # key and headers refer to them by the input's spans instead of copying them.
    buf = bytearray(data)
    batch_headers = batch.headers
    headers = []
    outputs = []
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
        return Span(start, len(buf) - start)

    def sink(key, value, event_headers):
        key_span = None if key is None else write(key)
        value_span = write(value)
        first = len(headers)
        hs = event_headers() if callable(event_headers) else event_headers
        for name, v in hs:
            headers.append(Header(write(name), write(v)))
        outputs.append(Output(index, key_span, value_span, Span(first, len(hs))))

    no_headers = Span(0, 0)
    current = [None]

    def same(value):
        e = current[0]
        hs = e.headers
        if hs.len:
            header_span = Span(len(headers), hs.len)
            headers.extend(batch_headers[hs.start:hs.start + hs.len])
        else:
            header_span = no_headers
        outputs.append(Output(index, e.key, write(value), header_span))

    emit = Emit(sink, None, same)
    for index, e in enumerate(batch.events):
        current[0] = e
        v = e.value
        k = e.key
        hs = e.headers
        event = Event(
            data[v.start:v.start + v.len],
            e.timestamp_ms,
            None if k is None else data[k.start:k.start + k.len],
            _headers_of(data, batch.headers, hs) if hs.len else [],
            topics[e.topic] if e.topic < len(topics) else "",
            e.partition,
            e.offset,
        )
        emit._event = event
        mark = (len(buf), len(headers), len(outputs))
        try:
            plugin.process(event, emit)
        except MemoryError:
            # Out of memory leaves the interpreter in no state to go on: trap, and let the
            # host fail this event and start a fresh instance.
            raise
        except Exception as thrown:  # noqa: BLE001 - every other error fails this event alone
            del buf[mark[0]:]
            del headers[mark[1]:]
            del outputs[mark[2]:]
            failures.append(wit.Failure(index, _to_wit_error(thrown, wit)))
    return wit.BatchResult(bytes(buf), headers, outputs, failures)


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
