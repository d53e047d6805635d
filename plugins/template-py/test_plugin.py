import sys
import unittest

sys.path.insert(0, "{{sdk_path}}")

from weir_sdk import Config, Event, EventError, run  # noqa: E402
from plugin import {{class_name}}  # noqa: E402


class PluginTest(unittest.TestCase):
    def test_adds_the_field_and_keeps_the_rest(self):
        plugin = {{class_name}}.init(Config())
        outputs = run(plugin, Event.of('{"id":1}'))
        self.assertEqual([o.value for o in outputs], [b'{"id":1,"processed_by":"{{name}}"}'])

    def test_refuses_values_that_are_not_json_objects(self):
        plugin = {{class_name}}.init(Config())
        with self.assertRaises(EventError) as caught:
            run(plugin, Event.of("not json"))
        self.assertEqual(caught.exception.kind, "invalid-input")


if __name__ == "__main__":
    unittest.main()
