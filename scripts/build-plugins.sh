#!/usr/bin/env bash
# Build every plugin crate (plugins/* and the test-only tests/plugins/*) as a wasm32-wasip2
# component and put each next to its crate: plugins/vpcs/ -> plugins/vpcs.wasm.
set -euo pipefail
cd "$(dirname "$0")/.."

crates=()
for dir in plugins/*/ tests/plugins/*/; do
  [ -f "$dir/Cargo.toml" ] || continue
  name=$(basename "$dir")
  [ "$name" = "sdk" ] && continue
  crates+=("$dir")
done

# Plugin artifacts are named without a hash (a component is a cdylib): checkouts that
# share a cargo build-dir would overwrite each other's. Keep them in this checkout's own.
export CARGO_BUILD_BUILD_DIR="${CARGO_TARGET_DIR:-$PWD/target}"

args=()
for dir in "${crates[@]}"; do
  args+=(-p "$(basename "$dir")")
done
cargo build --quiet --profile plugin --target wasm32-wasip2 "${args[@]}"

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
for dir in "${crates[@]}"; do
  name=$(basename "$dir")
  src="$target_dir/wasm32-wasip2/plugin/${name//-/_}.wasm"
  dest="$(dirname "$dir")/$name.wasm"
  # Copy only when changed, so the compile cache and mtimes stay quiet.
  if ! cmp -s "$src" "$dest" 2>/dev/null; then
    cp "$src" "$dest"
  fi
done
echo "built ${#crates[@]} plugins" >&2
