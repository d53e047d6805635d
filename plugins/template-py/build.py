"""Builds {{name}}.wasm: `python build.py`, with a Python that has the weir SDK's pinned
componentize-py (`pip install -r {{sdk_path}}/requirements.txt`)."""

import sys

sys.path.insert(0, "{{sdk_path}}")

from weir_sdk.build import main  # noqa: E402

main(["plugin:{{class_name}}", "-o", "{{name}}.wasm", "-p", "."] + sys.argv[1:])
