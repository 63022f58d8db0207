#!/usr/bin/env bash
# How many model-derived resource types (mrhost list --available) run against moto
# without params: starts moto on 127.0.0.1, runs every type that needs no params in one
# region, and prints the counts (and, with -v, each failing type). Not part of the tests:
# it makes thousands of calls and takes several minutes.
#   scripts/list-coverage.sh [MRHOST_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
bin=${1:-$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/mrhost}
[ -x "$bin" ] || { echo "no $bin: cargo build --release -p mrhost first" >&2; exit 1; }
scripts/setup.sh
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/python -m moto.server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null' EXIT
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null; do sleep 0.1; done
export MRHOST_NO_CACHE=1
total=0; ok=0; needs=0
failed=$(mktemp)
while IFS=$'\t' read -r service resource op key required; do
  total=$((total + 1))
  if [ "$required" != "-" ]; then needs=$((needs + 1)); continue; fi
  if "$bin" list "$service" "$resource" --regions us-east-1 --endpoint-url "http://127.0.0.1:$port" \
      --max-attempts 1 --request-timeout 10 -q -o ndjson >/dev/null 2>>"$failed"; then
    ok=$((ok + 1))
  fi
done < <("$bin" list --available)
echo "catalogue: $total types; $needs need params; of the $((total - needs)) that do not, $ok run on moto $(.venv/bin/python -c 'import moto; print(moto.__version__)')"
if [ "${2:-}" = "-v" ]; then sort "$failed" | uniq -c | sort -rn | head -40; fi
rm -f "$failed"
