"""The packed layout, natively: a batch is unpacked into events and the outputs packed into
one buffer with spans, exactly as weir:transform@0.2.0 defines them. The generated WIT
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
class Span:
    start: int
    len: int


@dataclass
class Header:
    name: Span
    value: Span


@dataclass
class Output:
    input: int
    key: Optional[Span]
    value: Span
    headers: Span


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
    headers: List[Header]
    outputs: List[Output]
    failures: List[Failure]


WIT = SimpleNamespace(Span=Span, Header=Header, Output=Output, Failure=Failure, EventError=WitEventError,
                      BatchResult=BatchResult,
                      ErrorKind=SimpleNamespace(INVALID_INPUT="invalid-input", MISSING_FIELD="missing-field",
                                                INVALID_FIELD="invalid-field", REJECTED="rejected"))


def pack(events):
    """Packs events like the host: one data buffer, spans per event."""
    data = bytearray()
    headers = []

    def put(b):
        b = b.encode() if isinstance(b, str) else b
        span = Span(len(data), len(b))
        data.extend(b)
        return span

    packed = []
    for i, e in enumerate(events):
        first = len(headers)
        for name, value in e.get("headers", []):
            headers.append(Header(put(name), put(value)))
        packed.append(SimpleNamespace(
            key=put(e["key"]) if "key" in e else None, value=put(e["value"]),
            headers=Span(first, len(headers) - first), topic=0, partition=3, offset=100 + i,
            timestamp_ms=e.get("ts", 0)))
    return SimpleNamespace(data=bytes(data), topics=["users"], headers=headers, events=packed)


def text(result, span):
    return result.data[span.start:span.start + span.len].decode()


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
        result = process_batch(Tagger(), pack([
            {"value": '{"a":1}', "key": "k0", "headers": [("h", b"x")], "ts": 7},
            {"value": '{"drop":true}'},
            {"value": '{"fail":true}', "key": "k2"},
            {"value": '{"twice":true}'},
        ]), WIT)
        self.assertEqual([o.input for o in result.outputs], [0, 3, 3])
        self.assertEqual(text(result, result.outputs[0].value), '{"a":1,"topic":"users","ts":7}')
        self.assertEqual(text(result, result.outputs[0].key), "k0")
        h = result.headers[result.outputs[0].headers.start]
        self.assertEqual((text(result, h.name), text(result, h.value)), ("h", "x"))
        self.assertIsNone(result.outputs[1].key)
        self.assertEqual(text(result, result.outputs[2].value), '{"again":103}')
        self.assertEqual(len(result.failures), 1)
        self.assertEqual(result.failures[0].input, 2)
        self.assertEqual(result.failures[0].error,
                         WitEventError("missing-field", "name", "field `name` is missing"))

    def test_a_failed_event_leaves_no_partial_output_behind(self):
        class Boom(Plugin):
            def process(self, event, out):
                out.value("first")
                if event.json().get("boom"):
                    raise KeyError("boom")

        result = process_batch(Boom(), pack([{"value": '{"boom":true}'}, {"value": "{}"}]), WIT)
        self.assertEqual([(o.input, text(result, o.value)) for o in result.outputs], [(1, "first")])
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
