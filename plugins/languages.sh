#!/usr/bin/env bash
# The JavaScript and Python side of weir's plugins: installs the pinned toolchains, builds
# the components, runs the native tests. Idempotent: each step is skipped when its output is
# newer than its inputs, and installs reuse the npm and pip caches (~/.npm, ~/.cache/pip).
#
#   plugins/languages.sh setup   # npm ci in sdk-js; a venv with the pinned componentize-py
#   plugins/languages.sh build   # enricher-js, enricher-py and the test plugins (.wasm)
#   plugins/languages.sh test    # the SDKs' and enrichers' native tests (node, CPython)
#   plugins/languages.sh all     # the three in order
#
# Everything comes from the npm registry and PyPI: componentize-js carries its engine
# (StarlingMonkey) and wizer inside npm packages, componentize-py is one wheel.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PLUGINS="$ROOT/plugins"
TESTS="$ROOT/tests/plugins"
# The Python that builds Python plugins; componentize-py's wheel is abi3 (CPython >= 3.9).
PYTHON="${WEIR_PYTHON:-python3}"
VENV="${WEIR_PY_VENV:-$ROOT/target/weir-py}"

log() { printf 'languages: %s\n' "$*" >&2; }

# True when $1 is missing or older than any file under the other arguments.
stale() {
  local out="$1"
  shift
  [[ ! -e "$out" ]] && return 0
  [[ -n "$(find "$@" -newer "$out" -type f -not -path '*/node_modules/*' -not -path '*/__pycache__/*' -print -quit)" ]]
}

setup() {
  if stale "$PLUGINS/sdk-js/node_modules/.package-lock.json" "$PLUGINS/sdk-js/package-lock.json"; then
    log "npm ci (plugins/sdk-js)"
    (cd "$PLUGINS/sdk-js" && npm ci --prefer-offline --no-audit --no-fund)
  fi
  for dir in "$PLUGINS/enricher-js" "$TESTS/misbehave-js"; do
    if [[ ! -e "$dir/node_modules/@weir/sdk" ]]; then
      (cd "$dir" && npm install --prefer-offline --no-audit --no-fund)
    fi
  done
  if stale "$VENV/.requirements" "$PLUGINS/sdk-py/requirements.txt"; then
    log "venv with componentize-py ($VENV)"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --require-hashes -r "$PLUGINS/sdk-py/requirements.txt"
    cp "$PLUGINS/sdk-py/requirements.txt" "$VENV/.requirements"
  fi
}

build_js() { # DIR ENTRY OUT
  if stale "$3" "$1/src" "$PLUGINS/sdk-js/src" "$PLUGINS/sdk-js/bin" "$ROOT/wit"; then
    log "build $3"
    (cd "$1" && node "$PLUGINS/sdk-js/bin/build.mjs" "$2" -o "$3")
  fi
}

build_py() { # DIR MODULE:CLASS OUT
  if stale "$3" "$1" "$PLUGINS/sdk-py/weir_sdk" "$ROOT/wit"; then
    log "build $3"
    (cd "$1" && "$VENV/bin/python" "$PLUGINS/sdk-py/bin/weir-build-py" "$2" -o "$3" -p .)
  fi
}

build() {
  mkdir -p "$PLUGINS/target" "$TESTS/target"
  build_js "$PLUGINS/enricher-js" src/plugin.js "$PLUGINS/target/enricher-js.wasm"
  build_py "$PLUGINS/enricher-py" enricher:Enricher "$PLUGINS/target/enricher-py.wasm"
  build_js "$TESTS/misbehave-js" src/plugin.js "$TESTS/target/misbehave-js.wasm"
  build_py "$TESTS/misbehave-py" misbehave:Misbehave "$TESTS/target/misbehave-py.wasm"
}

native_tests() {
  (cd "$PLUGINS/sdk-js" && npm test --silent)
  (cd "$PLUGINS/enricher-js" && node --test test/)
  (cd "$PLUGINS/sdk-py" && "$VENV/bin/python" -m unittest discover -s tests)
  (cd "$PLUGINS/enricher-py" && "$VENV/bin/python" -m unittest discover -s tests)
}

case "${1:-all}" in
  setup) setup ;;
  build) build ;;
  test) native_tests ;;
  # Not `setup && build && …`: inside an && list bash ignores `set -e`, and a failed build
  # would go unnoticed.
  all) setup; build; native_tests ;;
  *) echo "usage: $0 setup|build|test|all" >&2; exit 2 ;;
esac
