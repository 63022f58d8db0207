#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and the bench, in a directory of its own, on
# 127.0.0.1 only, as an unprivileged user when run as root (PostgreSQL refuses root).
#
#   scripts/pg-temp.sh start DIR PORT      initdb + pg_ctl start; prints the server's URL
#   scripts/pg-temp.sh createdb DIR NAME   a new database; prints its URL
#   scripts/pg-temp.sh stop DIR            stop the server and remove DIR
#
# User mrhost, password mrhost (scram-sha-256 over TCP, so a wrong password is refused).
# Durability is off (fsync, synchronous_commit): this server is for tests.
set -euo pipefail

cmd=${1:?usage: pg-temp.sh start|createdb|stop DIR ...}
dir=${2:?usage: pg-temp.sh start|createdb|stop DIR ...}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
  echo "error: PostgreSQL is not installed (scripts/setup-postgres.sh)" >&2
  exit 3
fi

as_user() {
  if [ "$(id -u)" -eq 0 ]; then
    local u=postgres
    id -u "$u" >/dev/null 2>&1 || u=nobody
    runuser -u "$u" -- "$@"
  else
    "$@"
  fi
}

case "$cmd" in
start)
  port=${3:?usage: pg-temp.sh start DIR PORT}
  mkdir -p "$dir"
  printf 'mrhost\n' > "$dir/pw"
  if [ "$(id -u)" -eq 0 ]; then
    u=postgres
    id -u "$u" >/dev/null 2>&1 || u=nobody
    chown -R "$u" "$dir"
  fi
  chmod 700 "$dir"
  as_user "$bin/initdb" -D "$dir/data" -U mrhost --pwfile="$dir/pw" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "$port" > "$dir/port"
  echo "postgres://mrhost:mrhost@127.0.0.1:$port/postgres"
  ;;
createdb)
  name=${3:?usage: pg-temp.sh createdb DIR NAME}
  port=$(cat "$dir/port")
  as_user "$bin/createdb" -h "$dir" -p "$port" -U mrhost "$name"
  echo "postgres://mrhost:mrhost@127.0.0.1:$port/$name"
  ;;
stop)
  if [ -d "$dir/data" ]; then
    as_user "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: pg-temp.sh start|createdb|stop DIR ..." >&2
  exit 2
  ;;
esac
