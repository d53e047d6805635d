"""A Python plugin that misbehaves on demand, for the runtime's isolation and sandbox
tests. Each event is `{"do": ACTION}`:

- "ok": emitted unchanged;
- "throw": raises a plain exception (the SDK fails this event alone as `rejected`);
- "spin": loops forever (the host's time budget must stop it);
- "grow": allocates without bound (the host's memory cap must stop it);
- "probe:WHAT": emits what the sandbox lets it see of one capability (`time`, `random`,
  `env`, `file`, `network`): the value, or "denied: ERROR". Built without WASI, a call
  may also trap, which fails that event alone.
"""

import os

from weir_sdk import Emit, Event, Plugin


def _attempt(action):
    try:
        return repr(action())
    except BaseException as e:  # noqa: BLE001 - the probe reports whatever happens
        return f"denied: {type(e).__name__}"


def _read_file():
    with open("/etc/hostname") as f:
        return f.read()


def _connect():
    import socket

    s = socket.socket()
    s.settimeout(1)
    s.connect(("127.0.0.1", 9))
    return "connected"


class Misbehave(Plugin):
    def process(self, event: Event, out: Emit) -> None:
        action = event.json().get("do")
        if action == "throw":
            raise RuntimeError("thrown on purpose")
        if action == "spin":
            while True:
                pass
        if action == "grow":
            hoard = []
            while True:
                hoard.append(bytearray(1 << 20))
        if isinstance(action, str) and action.startswith("probe:"):
            import time

            probes = {
                "time": time.time,
                "random": lambda: os.urandom(8).hex(),
                "env": lambda: sorted(os.environ),
                "file": _read_file,
                "network": _connect,
            }
            out.json({"result": _attempt(probes[action[len("probe:"):]])})
            return
        out.forward()
