"""The packed layout, natively: a batch is unpacked into events and the outputs packed into
one buffer with span columns, exactly as weir:transform@0.3.0 defines them. The generated WIT
record types are replaced by stand-ins with the same fields."""

import sys
import unittest
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from weir_sdk import Config, Event, EventError, Plugin, Splice, run  # noqa: E402
from weir_sdk._batch import process_batch  # noqa: E402
from weir_sdk import _producers  # noqa: E402


@dataclass
class Headers:
    names: List[int]
    values: List[int]


@dataclass
class Outputs:
    inputs: List[int]
    keys: List[int]
    values: List[int]
    headers: List[int]


@dataclass
class Failure:
    input: int
    error: Any


@dataclass
class WitEventError:
    kind: Any
    field: Optional[str]
    message: str


@dataclass
class BatchResult:
    data: bytes
    headers: Headers
    outputs: Outputs
    failures: List[Failure]


WIT = SimpleNamespace(Headers=Headers, Outputs=Outputs, Failure=Failure, EventError=WitEventError,
                      BatchResult=BatchResult,
                      ErrorKind=SimpleNamespace(INVALID_INPUT="invalid-input", MISSING_FIELD="missing-field",
                                                INVALID_FIELD="invalid-field", REJECTED="rejected"))
NO_KEY = 0xFFFFFFFF
INPUT = 0xFFFFFFFE


def pack(events):
    """Packs events like the host: one data buffer, columns of spans and positions."""
    data = bytearray()
    headers = Headers([], [])
    columns = SimpleNamespace(keys=[], values=[], headers=[], topics=[], partitions=[], offsets=[],
                              timestamps_ms=[])

    def put(b):
        b = b.encode() if isinstance(b, str) else b
        span = (len(data), len(b))
        data.extend(b)
        return span

    for i, e in enumerate(events):
        first = len(headers.names) // 2
        for name, value in e.get("headers", []):
            headers.names.extend(put(name))
            headers.values.extend(put(value))
        columns.keys.extend(put(e["key"]) if "key" in e else (NO_KEY, 0))
        columns.values.extend(put(e["value"]))
        columns.headers.extend((first, len(headers.names) // 2 - first))
        columns.topics.append(0)
        columns.partitions.append(3)
        columns.offsets.append(100 + i)
        columns.timestamps_ms.append(e.get("ts", 0))
    return SimpleNamespace(data=bytes(data), topics=["users"], headers=headers, events=columns)


def outputs(result, batch):
    """The result's outputs as one record per output: key (None without one), value and
    headers ((name, value) pairs) as bytes; what an output kept of its input (INPUT) is
    read from `batch`, as the host does."""
    o = result.outputs

    def where(column, i, input, inputs_column):
        """The record (result or batch), span column and index a span of output i is in."""
        return (batch, inputs_column, input) if column[2 * i] == INPUT else (result, column, i)

    def read(source, column, i):
        start, length = column[2 * i], column[2 * i + 1]
        return source.data[start:start + length]

    records = []
    for i, input in enumerate(o.inputs):
        source, column, j = where(o.keys, i, input, batch.events.keys)
        key = None if column[2 * j] == NO_KEY else read(source, column, j)
        value = read(*where(o.values, i, input, batch.events.values))
        source, column, j = where(o.headers, i, input, batch.events.headers)
        first, count = column[2 * j], column[2 * j + 1]
        headers = [(read(source, source.headers.names, h).decode(), read(source, source.headers.values, h))
                   for h in range(first, first + count)]
        records.append(SimpleNamespace(input=input, key=key, value=value, headers=headers))
    return records


class Tagger(Plugin):
    def process(self, event, out):
        value = event.json()
        if value.get("drop"):
            return
        if value.get("fail"):
            raise EventError.missing_field("name")
        out.value(event.splice().push("topic", event.topic).push("ts", event.timestamp_ms))
        if value.get("twice"):
            out.json({"again": event.offset})


class BatchTest(unittest.TestCase):
    def test_outputs_are_packed_in_input_order_with_the_input_key_and_headers(self):
        batch = pack([
            {"value": '{"a":1}', "key": "k0", "headers": [("h", b"x")], "ts": 7},
            {"value": '{"drop":true}'},
            {"value": '{"fail":true}', "key": "k2"},
            {"value": '{"twice":true}'},
        ])
        result = process_batch(Tagger(), batch, WIT)
        outs = outputs(result, batch)
        self.assertEqual([o.input for o in outs], [0, 3, 3])
        self.assertEqual(outs[0].value, b'{"a":1,"topic":"users","ts":7}')
        self.assertEqual(outs[0].key, b"k0")
        self.assertEqual(outs[0].headers, [("h", b"x")])
        self.assertIsNone(outs[1].key)
        self.assertEqual(outs[2].value, b'{"again":103}')
        self.assertEqual(len(result.failures), 1)
        self.assertEqual(result.failures[0].input, 2)
        self.assertEqual(result.failures[0].error,
                         WitEventError("missing-field", "name", "field `name` is missing"))

    def test_batch_events_read_key_headers_and_position_from_the_batch(self):
        seen = []

        class Look(Plugin):
            def process(self, event, out):
                seen.append((event.value, event.key, event.headers, event.topic, event.partition, event.offset,
                             event.timestamp_ms))
                out.forward()

        batch = pack([
            {"value": "{}", "key": "k", "headers": [("h", b"v"), ("i", b"w")], "ts": 5},
            {"value": "[]"},
        ])
        result = process_batch(Look(), batch, WIT)
        self.assertEqual(seen, [
            (b"{}", b"k", [("h", b"v"), ("i", b"w")], "users", 3, 100, 5),
            (b"[]", None, [], "users", 3, 101, 0),
        ])
        outs = outputs(result, batch)
        self.assertEqual([o.value for o in outs], [b"{}", b"[]"])
        self.assertEqual([o.key for o in outs], [b"k", None])
        self.assertEqual(outs[0].headers, [("h", b"v"), ("i", b"w")])
        # Forwarding copies nothing: every output keeps its input's bytes.
        self.assertEqual(bytes(result.data), b"")

    def test_a_failed_event_leaves_no_partial_output_behind(self):
        class Boom(Plugin):
            def process(self, event, out):
                out.value("first")
                if event.json().get("boom"):
                    raise KeyError("boom")

        batch = pack([{"value": '{"boom":true}'}, {"value": "{}"}])
        result = process_batch(Boom(), batch, WIT)
        self.assertEqual([(o.input, o.value) for o in outputs(result, batch)], [(1, b"first")])
        self.assertEqual(result.failures[0].error.kind, "rejected")
        self.assertIn("plugin raised KeyError", result.failures[0].error.message)

    def test_splice_and_event_helpers(self):
        self.assertEqual(Splice(b'{ "a" : 1 } \n').push("c", 'x"y').push("d", -4).to_bytes(),
                         b'{ "a" : 1 ,"c":"x\\"y","d":-4}')
        self.assertEqual(Splice(b"{ }").push("n", 1).to_bytes(), b'{ "n":1}')
        with self.assertRaises(ValueError):
            Splice(b"[1]")
        for bad in (Event.of(b"\xff").text, Event.of('{"a":').json, Event.of("\ufeff{}").json, Event.of("NaN").json):
            with self.assertRaises(EventError) as caught:
                bad()
            self.assertEqual(caught.exception.kind, "invalid-input")

    def test_run_and_config_for_native_tests(self):
        class Tag(Plugin):
            @classmethod
            def init(cls, config):
                config.only(["tag"])
                plugin = cls()
                plugin.tag = config.get("tag")
                return plugin

            def process(self, event, out):
                out.value(event.splice().push("tag", self.tag))

        [output] = run(Tag.init(Config({"tag": "t"})), Event.of('{"id":1}', key="k", headers=[("h", b"v")]))
        self.assertEqual(output.value, b'{"id":1,"tag":"t"}')
        self.assertEqual(output.key, b"k")
        self.assertEqual(output.headers, [("h", b"v")])
        self.assertEqual(Config([("a", "1"), ("a", "2")]).get("a"), "2")
        with self.assertRaisesRegex(ValueError, "unknown config key `b`"):
            Tag.init(Config([("b", "1")]))

    def test_producers_section_is_added_or_extended(self):
        empty = b"\x00asm\x0d\x00\x01\x00"
        tagged = _producers.add(empty, [("language", "Python", ""), ("processed-by", "componentize-py", "0.25.1")])
        again = _producers.add(tagged, [("processed-by", "componentize-py", "0.25.2")])
        self.assertIn(b"componentize-py\x060.25.2", again)
        self.assertNotIn(b"0.25.1", again)
        self.assertEqual(again.count(b"producers"), 1)


if __name__ == "__main__":
    unittest.main()
