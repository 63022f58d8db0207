#!/usr/bin/env bash
# The benchmark, in one command: builds what it needs (release mrhost, the vpcs plugin, the
# native baseline, a git-ignored bench/.venv with the pinned peers), starts latency-injecting
# servers on 127.0.0.1 and measures mrhost against a boto3 thread pool and an AWS CLI loop.
# Results: bench/out/report.md and bench/out/results.json. Not part of the CI test run.
#
#   bench/run.sh                     # everything (20-50 minutes on 2 cores, by load)
#   bench/run.sh --runs 3 --big-runs 0 --only fanout,startup
#   bench/run.sh --only serve [--runs 3]   # ten boto3 scripts through `mrhost serve` (serve_bench.py)
#
# Python/JS plugins are picked up from examples/python/vpcs.wasm and examples/js/vpcs.wasm
# when they have been built (or from MRHOST_BENCH_PY_PLUGIN / MRHOST_BENCH_JS_PLUGIN).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/env.sh
mkdir -p bench/out

target_dir=${CARGO_TARGET_DIR:-$root/target}

echo "== building (release mrhost, vpcs plugin, native baseline)" >&2
cargo build --release --locked -p mrhost
# A private copy: another checkout sharing the target dir may rebuild it mid-run.
cp "$target_dir/release/mrhost" bench/out/mrhost

want=$(sha256sum bench/requirements.txt | cut -c1-16)
setup_venv() {
  if [ ! -x bench/.venv/bin/python ] || [ "$(cat bench/.venv/.requirements 2>/dev/null)" != "$want" ]; then
    echo "== setting up bench/.venv (awscli, boto3)" >&2
    python3 -m venv bench/.venv
    bench/.venv/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
    echo "$want" > bench/.venv/.requirements
  fi
}

# `--only serve`: the serve scenario alone needs only the release mrhost and boto3.
only=""
prev=""
for a in "$@"; do
  case "$a" in --only=*) only=${a#--only=} ;; esac
  [ "$prev" = "--only" ] && only=$a
  prev=$a
done
if [ "$only" = "serve" ]; then
  setup_venv
  exec bench/.venv/bin/python bench/serve_bench.py --mrhost bench/out/mrhost "$@"
fi

rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
cargo build --quiet --locked --profile plugin --target wasm32-wasip2 -p vpcs
cp "$target_dir/wasm32-wasip2/plugin/vpcs.wasm" bench/out/vpcs.wasm
(cd bench/native && CARGO_TARGET_DIR="$root/bench/out/native-target" cargo build --release --locked --quiet)

setup_venv

py_plugin=${MRHOST_BENCH_PY_PLUGIN:-examples/python/vpcs.wasm}
js_plugin=${MRHOST_BENCH_JS_PLUGIN:-examples/js/vpcs.wasm}

exec bench/.venv/bin/python bench/bench.py \
  --mrhost bench/out/mrhost \
  --plugin bench/out/vpcs.wasm \
  --native bench/out/native-target/release/native-vpcs \
  --aws bench/.venv/bin/aws \
  --extra-plugin "python=$py_plugin" \
  --extra-plugin "js=$js_plugin" \
  "$@"
