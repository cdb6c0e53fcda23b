#!/usr/bin/env bash
# The conformance lane: Earshot's platform rules against the platforms' own reference code. It
# installs npm twitter-text 3.1.0 (pinned by tests/conformance/package-lock.json) into .lane/ and
# runs tests/conformance: X's weighted length and validity, from the bot (bot.decide.voice) and from the
# X emulator (bot.sandbox.x), against twitter-text's parseTweet on 12,000 generated texts, the
# data the bot copies from the package, and the expected values of the fast suite's cases. It
# prints its figures and a final JSON line, and fails loudly, never skips, when node or the
# package is missing.
#
#   scripts/conformance-lane.sh            # from a clone, after the README's test command made .venv
#   PYTHON=python3 scripts/conformance-lane.sh -k corpus   # other interpreter; pytest arguments
#
# Cold (npm install) it takes about 20 s; with the cache in .lane/ (or EARSHOT_LANE_CACHE) kept,
# about 15 s.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
cache=${EARSHOT_LANE_CACHE:-$root/.lane}
pinned="$root/tests/conformance"
install="$cache/twitter-text"

say() { printf '[conformance-lane] %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

[ -x "$python" ] || fail "no Python at $python: run the README's test command first (it makes .venv)"

# ---- node and npm (the machine's; Debian's when there are none) ----------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  [ "$(id -u)" = 0 ] || fail "install node and npm (Debian: nodejs npm; needs root), then run again"
  say "installing node and npm from Debian"
  log=$(mktemp)
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; } \
    >"$log" 2>&1 || { tail -n 20 "$log" >&2; rm -f "$log"; fail "apt-get install nodejs npm"; }
  rm -f "$log"
fi
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 14 ? 0 : 1)' \
  || fail "node $(node --version) is too old for twitter-text's tests here (14 or later)"

# ---- twitter-text 3.1.0, as pinned ----------------------------------------------------------------
if ! cmp -s "$pinned/package-lock.json" "$install/package-lock.json" \
  || ! cmp -s "$pinned/package.json" "$install/package.json" \
  || [ ! -f "$install/node_modules/twitter-text/package.json" ]; then
  say "installing twitter-text (pinned by tests/conformance/package-lock.json) into $install"
  rm -rf "$install"
  mkdir -p "$install"
  cp "$pinned/package.json" "$pinned/package-lock.json" "$install/"
  (cd "$install" && npm ci --no-audit --no-fund --loglevel=error >&2) || fail "npm ci for twitter-text"
fi
version=$(node -p "require('$install/node_modules/twitter-text/package.json').version")
[ "$version" = 3.1.0 ] || fail "installed twitter-text is $version, not 3.1.0"
say "twitter-text $version, node $(node --version)"

# ---- the lane ------------------------------------------------------------------------------------
cd "$root"
report=$(mktemp "${TMPDIR:-/tmp}/earshot-conformance.XXXXXX")
trap 'rm -f "$report"' EXIT
status=0
EARSHOT_CONFORMANCE_NODE_MODULES="$install/node_modules" EARSHOT_CONFORMANCE_REPORT="$report" \
  "$python" -m pytest -q -p no:cacheprovider tests/conformance "$@" || status=$?
[ "$status" = 0 ] || say "FAILED: tests/conformance (pytest exit $status)"
[ ! -s "$report" ] || cat "$report"  # the figures, as the final line
exit "$status"
