"""The component side: the `Transform` export componentize-py looks for, wired to a plugin
class. Imported only inside the component (it needs the generated `wit_world`)."""

from wit_world import exports
from wit_world.imports import log as wit_log
from wit_world.imports import types as wit_types
from componentize_py_types import Err

from . import log
from ._batch import process_batch
from ._config import Config

_LEVELS = {
    "trace": wit_log.Level.TRACE,
    "debug": wit_log.Level.DEBUG,
    "info": wit_log.Level.INFO,
    "warn": wit_log.Level.WARN,
    "error": wit_log.Level.ERROR,
}


def export(plugin_class):
    """The `Transform` class for `plugin_class` (a `weir_sdk.Plugin` subclass)."""
    log._install(lambda level, message: wit_log.write(_LEVELS[level], message))

    class Transform(exports.Transform):
        plugin = None

        def init(self, config):
            try:
                Transform.plugin = plugin_class.init(Config(config))
            except Exception as e:  # noqa: BLE001 - the operator sees the message
                raise Err(str(e)) from None

        def process(self, batch):
            if Transform.plugin is None:
                Transform.plugin = plugin_class.init(Config())
            return process_batch(Transform.plugin, batch, wit_types)

    return Transform
