#!/usr/bin/env bash
# PostgreSQL server binaries for the inventory tests and the bench: Debian's postgresql
# packages (initdb, pg_ctl, postgres, createdb). Idempotent and quick when present. The
# tests start their own throwaway server with scripts/pg-temp.sh; no system service is used.
# Under CI=true a missing PostgreSQL fails loudly; elsewhere the PostgreSQL tests say SKIPPED.
set -euo pipefail

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

have() { local b; b=$(pg_bin); [ -n "$b" ] && [ -x "$b/initdb" ] && [ -x "$b/pg_ctl" ]; }

if have; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
  fi
  echo "installing PostgreSQL (Debian's postgresql packages)..." >&2
  if $sudo apt-get update -qq >/dev/null 2>&1 &&
     DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1; then
    :
  fi
fi
if have; then
  exit 0
fi
if [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; then
  echo "error: PostgreSQL is required under CI=true and could not be installed (apt-get install postgresql)" >&2
  exit 1
fi
echo "warning: PostgreSQL is not installed (apt-get install postgresql); its tests will be SKIPPED" >&2
