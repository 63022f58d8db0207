#!/usr/bin/env bash
# The test command: set up, build the plugins, run every test (unit, conformance,
# integration against moto). Under CI=true a missing moto fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

# Formatting first: it costs a second and fails before any build.
cargo fmt --all --check
scripts/setup.sh
scripts/build-plugins.sh
cargo test --locked
# The plugin SDK's unit tests and its rustdoc examples (compiled: they must be plugins that build).
cargo test --locked -p mrhost-plugin-sdk
