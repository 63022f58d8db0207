#!/usr/bin/env bash
# Profile the largest cost (the per-resource path of `mrhost run` on a big response) once.
# perf's hardware counters are not available in this VM (`perf stat -e instructions true`
# says <not supported>), so this uses valgrind's callgrind on a smaller input (5,000 VPCs in
# 5 pages), and, as a cross-check, a perf cpu-clock (software timer) sample on 100k VPCs
# (PROFILE_VPCS and PERF_VPCS change the sizes).
# Run bench/run.sh first (it builds the binaries). Output: bench/out/profile-*.txt
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/env.sh
mrhost=bench/out/mrhost
plugin=bench/out/vpcs.wasm
export AWS_CONFIG_FILE=$root/bench/out/no-aws-config AWS_SHARED_CREDENTIALS_FILE=$root/bench/out/no-aws-credentials
export MRHOST_CACHE_DIR=$root/bench/out/mrhost-cache
vpcs=${PROFILE_VPCS:-5000}

python3 bench/server.py --port 0 --delays none --vpcs "$vpcs" --page-size 1000 --same-data --max-seconds 1800 > bench/out/profile-server.port &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q PORT bench/out/profile-server.port 2>/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$(awk '/PORT/ {print $2}' bench/out/profile-server.port)
"$mrhost" run "$plugin" --regions eu-west-1 --endpoint-url "$url" -o ndjson > /dev/null   # warm the cache

if command -v valgrind >/dev/null; then
  # Under valgrind the CPU looks different (no AVX-512), so wasmtime's compatibility hash and
  # the cache key differ: warm the cache under valgrind first, or the profile is cranelift's.
  valgrind --tool=none "$mrhost" run "$plugin" --regions eu-west-1 --endpoint-url "$url" -o ndjson > /dev/null 2>&1
  valgrind --tool=callgrind --callgrind-out-file=bench/out/callgrind.out \
    "$mrhost" run "$plugin" --regions eu-west-1 --endpoint-url "$url" -o ndjson > /dev/null 2> bench/out/callgrind.log
  callgrind_annotate --inclusive=yes --threshold=100 bench/out/callgrind.out > bench/out/profile-callgrind-inclusive.txt 2>/dev/null || true
  callgrind_annotate bench/out/callgrind.out 2>/dev/null | head -80 > bench/out/profile-callgrind-self.txt || true
  # The host functions the per-resource path goes through (see BENCHMARKS.md).
  grep -E 'Query as .*Protocol>::parse \[|xml::parse_document \[|XmlParser::structure \[|sink::add_to_linker_instance::\{\{closure\}\}::\{\{closure\}\}$|ResourceSink<W>::push \[|response_json \[|Models::service \[|PluginRuntime::load::\{\{closure\}\} \[|load_native_certs \[|PROGRAM TOTALS' \
    bench/out/profile-callgrind-inclusive.txt > bench/out/profile-callgrind-summary.txt || true
  echo "callgrind: bench/out/profile-callgrind-{inclusive,self}.txt" >&2
fi
if perf record -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
  kill $server 2>/dev/null || true
  python3 bench/server.py --port 0 --delays none --vpcs "${PERF_VPCS:-100000}" --page-size 1000 --same-data \
    --cache-dir bench/out/cache --max-seconds 1800 > bench/out/profile-server.port &
  server=$!
  for _ in $(seq 600); do grep -q PORT bench/out/profile-server.port 2>/dev/null && break; sleep 0.1; done
  url=http://127.0.0.1:$(awk '/PORT/ {print $2}' bench/out/profile-server.port)
  perf record -e cpu-clock -F 2000 -o bench/out/perf.data \
    "$mrhost" run "$plugin" --regions eu-west-1 --endpoint-url "$url" -o ndjson > /dev/null 2> bench/out/perf.log
  perf report -i bench/out/perf.data --no-children --sort dso,symbol --percent-limit 0.7 --stdio 2>/dev/null \
    | grep -v '^$' | grep -v '^#' | grep '%' | head -60 > bench/out/profile-perf.txt
  perf report -i bench/out/perf.data --no-children --sort dso --stdio 2>/dev/null | grep "%" > bench/out/profile-perf-dso.txt
  echo "perf: bench/out/profile-perf.txt" >&2
fi
