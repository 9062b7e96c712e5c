#!/usr/bin/env bash
# Runs the parser and codec over every sample (and hostile/broken inputs that take the error paths)
# many times, first watching resident memory, then under valgrind's leak checker.
# Usage: scripts/leak-check.sh [rounds]   (from the project folder; needs valgrind)
# Exits 1 when valgrind finds memory definitely or indirectly lost.
#
# Note: valgrind also reports "Conditional jump or move depends on uninitialised value(s)" inside
# compiler-generated value witnesses of Swift enums (DecodedMessage) in release builds: the optimiser
# reads spare bits of an enum payload. That is not a leak and not our code's logic.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-2000}"
swift build -c release --product timebok-bench >/dev/null
bench=".build/release/timebok-bench"
echo "== resident memory over $rounds rounds"
"$bench" rss "$rounds"
echo "== valgrind (20 rounds)"
report=$(valgrind --leak-check=full --show-leak-kinds=definite,indirect "$bench" leak 20 2>&1)
echo "$report" | grep -E "rounds|definitely lost|indirectly lost|possibly lost|All heap blocks"
if echo "$report" | grep -qE "(definitely|indirectly) lost: [1-9]"; then
  echo "LEAK: memory definitely or indirectly lost" >&2
  exit 1
fi
echo "no memory definitely or indirectly lost"
