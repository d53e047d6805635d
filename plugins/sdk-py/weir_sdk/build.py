"""Builds a plugin module into a weir:transform@0.3.0 WebAssembly component::

    python -m weir_sdk.build MODULE:CLASS -o OUT.wasm [-p PATH]... [--wit DIR] [--wasi]

`MODULE:CLASS` names the `weir_sdk.Plugin` subclass (`enricher:Enricher`); `-p` adds
folders to search for modules (default: the current directory). By default the component
imports no WASI at all (componentize-py `--stub-wasi`): weir grants no filesystem, network,
environment, clock or randomness unless configured, so a plugin that needs a grant builds
with `--wasi`.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from weir_sdk import _producers

SDK_ROOT = Path(__file__).resolve().parent.parent
#: The contract, from the weir checkout this SDK belongs to.
DEFAULT_WIT = SDK_ROOT.parent.parent / "wit"


def componentize_py() -> str:
    """The componentize-py next to this Python (the pinned one in the build venv)."""
    beside = Path(sys.executable).parent / "componentize-py"
    found = str(beside) if beside.exists() else shutil.which("componentize-py")
    if not found:
        sys.exit("componentize-py is not installed: pip install -r plugins/sdk-py/requirements.txt")
    return found


def build(target: str, out: Path, paths, wit: Path = DEFAULT_WIT, wasi: bool = False) -> int:
    module, _, attr = target.partition(":")
    if not module or not attr or not module.replace(".", "_").isidentifier() or not attr.isidentifier():
        raise ValueError(f"`{target}` is not MODULE:CLASS, e.g. enricher:Enricher")
    with tempfile.TemporaryDirectory(prefix="weir-build-py-") as stage:
        entry = Path(stage) / "weir_entry.py"
        entry.write_text(
            "from weir_sdk._component import export as _export\n"
            f"from {module} import {attr} as _Plugin\n"
            "Transform = _export(_Plugin)\n"
        )
        command = [componentize_py(), "-d", str(wit), "-w", "transformer", "componentize", "weir_entry",
                   "-p", stage, "-p", str(SDK_ROOT)]
        for p in paths:
            command += ["-p", str(Path(p).resolve())]
        if not wasi:
            command.append("--stub-wasi")
        command += ["-o", str(out.resolve())]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    version = subprocess.run([componentize_py(), "--version"], check=True, capture_output=True, text=True)
    tagged = _producers.add(out.read_bytes(), [
        ("language", "Python", ""),
        ("processed-by", "componentize-py", version.stdout.split()[-1]),
    ])
    out.write_bytes(tagged)
    return len(tagged)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m weir_sdk.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="MODULE:CLASS of the plugin, e.g. enricher:Enricher")
    parser.add_argument("-o", "--out", required=True, type=Path, help="the component to write")
    parser.add_argument("-p", "--path", action="append", default=[], help="module search folder (repeatable)")
    parser.add_argument("--wit", type=Path, default=DEFAULT_WIT, help="the weir WIT folder")
    parser.add_argument("--wasi", action="store_true", help="keep WASI imports (for plugins given grants)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        size = build(args.target, args.out, args.path or ["."], args.wit, args.wasi)
    except (ValueError, subprocess.CalledProcessError) as e:
        sys.exit(f"weir_sdk.build: {e}")
    print(f"built {args.out} ({size / 1e6:.1f} MB) in {time.monotonic() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
