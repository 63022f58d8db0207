#!/usr/bin/env bash
# Build the example plugins in other languages as components (contract 0.2, wit/v0.2), next
# to their sources, each with its language's SDK helper module (plugins/sdk-python,
# plugins/sdk-js):
#   examples/python/vpcs/ -> examples/python/vpcs.wasm   (componentize-py)
#   examples/js/vpcs/     -> examples/js/vpcs.wasm       (componentize-js)
#
# Installs the pinned tools first: componentize-py (examples/python/requirements.txt) into
# the repo's git-ignored .venv, componentize-js (examples/js/package-lock.json) into
# examples/js/node_modules. Needs python3 (3.11) with pip and venv, node 20 with npm, and
# only PyPI and the npm registry. Quick when nothing changed: tools are reinstalled only
# when their pin changes, and a component is rebuilt only when a source, wit/ or a tool is
# newer than it (the builds are not byte-reproducible, and a new hash means a new, slow,
# first compile in mrhost's cache).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

stamp() { sha256sum "$1" | cut -c1-16; }

# --- tools ----------------------------------------------------------------------------
py_req=examples/python/requirements.txt
want=$(stamp "$py_req")
if [ ! -x .venv/bin/componentize-py ] || [ "$(cat .venv/.requirements-examples 2>/dev/null)" != "$want" ]; then
  echo "installing componentize-py into .venv..." >&2
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r "$py_req"
  echo "$want" > .venv/.requirements-examples
fi

want=$(stamp examples/js/package-lock.json)
if [ ! -f examples/js/node_modules/.mrhost-lock ] || [ "$(cat examples/js/node_modules/.mrhost-lock)" != "$want" ]; then
  echo "installing componentize-js into examples/js/node_modules..." >&2
  # `npm install --no-save` installs exactly what the lock pins and never rewrites it.
  # (`npm ci` refuses this lock: the registry reachable here serves only this platform's
  # optional native packages, so the lock cannot list the other platforms' ones.)
  rm -rf examples/js/node_modules
  (cd examples/js && npm install --no-save --no-audit --no-fund --loglevel=error)
  echo "$want" > examples/js/node_modules/.mrhost-lock
fi

# --- components -----------------------------------------------------------------------
# stale OUT INPUT...: OUT is missing, or some file under an INPUT is newer than it.
stale() {
  local out=$1
  shift
  [ -f "$out" ] || return 0
  [ -n "$(find "$@" -newer "$out" -type f -not -path '*/__pycache__/*' -print -quit)" ]
}

built=0

# Python: the app module from the plugin's directory, the SDK helper (mrhost.py) from
# plugins/sdk-python. --stub-wasi: the component imports only the mrhost interfaces
# (print/stderr go nowhere; the plugin logs through the host's `log` instead).
out=examples/python/vpcs.wasm
if stale "$out" examples/python/vpcs plugins/sdk-python wit/v0.2 .venv/.requirements-examples; then
  echo "building $out (componentize-py)..." >&2
  "$root/.venv/bin/componentize-py" -d "$root/wit/v0.2" -w plugin componentize app \
    -p "$root/examples/python/vpcs" -p "$root/plugins/sdk-python" \
    --stub-wasi -o "$root/${out%.wasm}.tmp.wasm" >/dev/null
  mv "${out%.wasm}.tmp.wasm" "$out"
  built=$((built + 1))
fi

# JavaScript: every optional engine feature off, so the component imports only the mrhost
# interfaces (`http`/`fetch-event` would import wasi:http, which the host does not provide;
# without stdio, console.* goes nowhere; without clocks, timers and Date.now() trap; without
# random, Math.random() is deterministic). Run from the repository root: the app imports the
# SDK helper (plugins/sdk-js/mrhost.js) by a relative path, which must lie inside the
# directory componentize-js maps. componentize-js is called directly: `jco componentize`
# does not work here.
out=examples/js/vpcs.wasm
if stale "$out" examples/js/vpcs plugins/sdk-js wit/v0.2 examples/js/node_modules/.mrhost-lock; then
  echo "building $out (componentize-js)..." >&2
  node examples/js/node_modules/@bytecodealliance/componentize-js/src/cli.js examples/js/vpcs/app.js \
    --wit "$root/wit/v0.2" -n plugin \
    --disable http fetch-event stdio random clocks \
    -o "$root/${out%.wasm}.tmp.wasm" >/dev/null
  # The CLI can report a failure without failing; a missing output says so.
  [ -s "${out%.wasm}.tmp.wasm" ] || { echo "componentize-js produced no $out" >&2; exit 1; }
  mv "${out%.wasm}.tmp.wasm" "$out"
  built=$((built + 1))
fi

echo "built $built of 2 example plugins (the rest were up to date)" >&2
