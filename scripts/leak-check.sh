#!/usr/bin/env bash
# Runs the parser and codec over every sample (and hostile/broken inputs that take the error paths)
# many times, first watching resident memory, then under valgrind's leak checker.
# Usage: scripts/leak-check.sh [rounds]   (from the project folder; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-2000}"
swift build -c release --product timebok-bench >/dev/null
bench=".build/release/timebok-bench"
echo "== resident memory over $rounds rounds"
"$bench" rss "$rounds"
echo "== valgrind (20 rounds)"
valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
  --error-exitcode=3 "$bench" leak 20 2>&1 | grep -E "rounds|definitely lost|indirectly lost|possibly lost|ERROR SUMMARY|All heap blocks"
