"""Log lines that land in the host's log output, tagged with the plugin's name. Outside a
component (native tests) they go to standard error."""

import sys


def _stderr(level: str, message: str) -> None:
    print(f"[{level}] {message}", file=sys.stderr)


_write = _stderr


def _install(write) -> None:
    """Routes log lines to the host (called by the generated component entry)."""
    global _write
    _write = write


def trace(message: object) -> None:
    _write("trace", str(message))


def debug(message: object) -> None:
    _write("debug", str(message))


def info(message: object) -> None:
    _write("info", str(message))


def warn(message: object) -> None:
    _write("warn", str(message))


def error(message: object) -> None:
    _write("error", str(message))
