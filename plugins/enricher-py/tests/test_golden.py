"""The shared golden file, run natively through the SDK: the same outputs byte for byte
and the same error kinds and fields as the Rust enricher; plus the edge cases the Rust
enricher's own tests define."""

import json
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent.parent / "sdk-py")]

from weir_sdk import Config, Event, EventError, run  # noqa: E402
import enricher  # noqa: E402

GOLDEN = HERE.parent.parent.parent / "tests" / "fixtures" / "enricher-golden.jsonl"
JUNE_15_2024 = 1_718_452_800_000


def enrich(value: str, ts: int = JUNE_15_2024) -> str:
    plugin = enricher.Enricher.init(Config())
    return run(plugin, Event.of(value, ts))[0].value.decode()


class GoldenTest(unittest.TestCase):
    def test_every_golden_case_gives_the_expected_bytes_or_named_error(self):
        cases = [json.loads(line) for line in GOLDEN.read_text().splitlines() if line.strip()]
        self.assertGreater(len(cases), 20)
        plugin = enricher.Enricher.init(Config())
        for i, case in enumerate(cases):
            event = Event.of(case["value"], case["timestamp_ms"], key=f"k{i}")
            with self.subTest(case=i):
                if "output" in case:
                    outputs = run(plugin, event)
                    self.assertEqual(len(outputs), 1)
                    self.assertEqual(outputs[0].value.decode(), case["output"])
                    self.assertEqual(outputs[0].key, f"k{i}".encode())
                else:
                    with self.assertRaises(EventError) as caught:
                        run(plugin, event)
                    self.assertEqual(caught.exception.kind, case["error"]["kind"], caught.exception.message)
                    self.assertEqual(caught.exception.field, case["error"]["field"], caught.exception.message)

    def test_refuses_any_config(self):
        with self.assertRaisesRegex(ValueError, "unknown config key `x`"):
            enricher.Enricher.init(Config([("x", "1")]))


class EdgeCaseTest(unittest.TestCase):
    def test_existing_derived_fields_are_replaced_not_duplicated(self):
        self.assertEqual(
            enrich('{"age":"old","first_name":"A","last_name":"B","email":"a@B.c","dob":"2000-01-01","full_name":null}'),
            '{"age":24,"first_name":"A","last_name":"B","email":"a@B.c","dob":"2000-01-01","full_name":"A B","email_domain":"b.c","age_group":"18-24"}',
        )

    def test_the_slow_path_keeps_raw_values(self):
        self.assertEqual(
            enricher.members('{ "a\\u0041" : [1, {"x":"}"}] , "b":-1.5e3,"c":"q\\"" }'),
            [["aA", '[1, {"x":"}"}]'], ["b", "-1.5e3"], ["c", '"q\\""']],
        )

    def test_trim_follows_rust(self):
        self.assertEqual(enricher.trim("\u0085 Ada\u3000"), "Ada")
        self.assertEqual(enricher.trim("\x1cAda"), "\x1cAda")

    def test_nan_and_infinity_are_not_json(self):
        for bad in ('{"first_name":NaN}', '{"x":Infinity}'):
            with self.assertRaises(EventError) as caught:
                enrich(bad)
            self.assertEqual(caught.exception.kind, "invalid-input")

    def test_leap_day_birthdays_are_reached_on_march_first_in_common_years(self):
        value = '{"first_name":"A","last_name":"B","email":"a@b.c","dob":"2000-02-29T00:00:00Z"}'
        self.assertIn('"age":22,', enrich(value, 1_677_628_799_999))
        self.assertIn('"age":23,', enrich(value, 1_677_628_800_000))

    def test_dates_parse_and_refuse_like_date_rs(self):
        self.assertEqual(enricher.parse_iso8601("1985-12-31T23:59:60.5-0800"), (1985, 12, 31))
        self.assertEqual(enricher.parse_iso8601("1985-12-31 23:59"), (1985, 12, 31))
        for bad in ["1990-02-29", "1900-02-29", "1990-13-01", "1990-04-31", "90-01-01", "1990-01-01T",
                    "1990-01-01T24:00:00Z", "1990-01-01T10:60Z", "1990-01-01T10:11:12.Z",
                    "1990-01-01T10:11:12+25:00", "1990-01-01T10:11:12Q", "+1990-01-01", "1990-01-01T10:11:12+01:0"]:
            with self.assertRaises(enricher.DateError, msg=bad):
                enricher.parse_iso8601(bad)
        self.assertEqual(enricher.date_from_unix_ms(-1), (1969, 12, 31))
        self.assertEqual(enricher.date_from_unix_ms(951_782_400_000), (2000, 2, 29))
        self.assertEqual(enricher.date_from_unix_ms(1_767_225_600_000), (2026, 1, 1))


if __name__ == "__main__":
    unittest.main()
