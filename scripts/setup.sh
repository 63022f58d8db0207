#!/usr/bin/env bash
# Everything a fresh machine needs besides Rust itself: the wasm32-wasip2 target and a
# git-ignored Python venv with moto (the local AWS-compatible server) and boto3.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-wasip2 >/dev/null 2>&1 || rustup target add wasm32-wasip2

want=$(sha256sum tests/py/requirements.txt | cut -c1-16)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.requirements 2>/dev/null)" != "$want" ]; then
  echo "setting up .venv (moto, boto3)..." >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/py/requirements.txt
  echo "$want" > .venv/.requirements
fi

# PostgreSQL server binaries for the inventory tests (mrhost sync --to postgres://...).
scripts/setup-postgres.sh
