#!/usr/bin/env bash
# What a new user meets: a clone of this repository's HEAD in an empty temporary folder (no
# ../shared beside it), optionally on a machine without the build packages
# (--remove-packages: apt-get remove libxml2-dev libsqlite3-dev libssl-dev first; root only). Then the
# README's two commands: scripts/demo must exit 0 and show a free-slot answer and a booking;
# scripts/test must pass and list the reference-material tests as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
remove=false
[ "${1:-}" = "--remove-packages" ] && remove=true

work=$(mktemp -d /tmp/timebok-fresh-XXXXXX)
trap 'rm -rf "$work"' EXIT
git clone -q . "$work/timebok"
cd "$work/timebok"
[ ! -e ../shared ] || { echo "fresh-clone: ../shared exists beside the clone" >&2; exit 1; }

if $remove; then
  [ "$(id -u)" -eq 0 ] || { echo "fresh-clone: --remove-packages needs root" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq libxml2-dev libsqlite3-dev libssl-dev >/dev/null
  echo "fresh-clone: removed libxml2-dev, libsqlite3-dev and libssl-dev"
fi

failures=0
check() { # check NAME FILE PATTERN
  if grep -qE "$3" "$2"; then echo "fresh-clone: ok: $1"; else echo "fresh-clone: FAILED: $1 (no /$3/ in the output)"; failures=$((failures + 1)); fi
}

# Neither command may find the reference material, wherever this runs.
export TIMEBOK_REFERENCE="$work/no-reference"
unset TIMEBOK_REQUIRE_REFERENCE TIMEBOK_SCHEMAS TIMEBOK_OWN_SCHEMAS

if scripts/demo "$work/demo-spool" >"$work/demo.log" 2>&1; then
  echo "fresh-clone: ok: scripts/demo exited 0"
else
  echo "fresh-clone: FAILED: scripts/demo exited $?"; tail -20 "$work/demo.log"; failures=$((failures + 1))
fi
check "the demo says it checks with the built-in rules" "$work/demo.log" "^Checking: built-in rules"
check "the demo shows a free-slot answer" "$work/demo.log" "SvarLedigeTimer 03 Ledige timer: [0-9]+ free slots"
check "the demo shows a booking" "$work/demo.log" "ok: Booked .* for patient"
check "the demo shows the booking's push" "$work/demo.log" "Avtale 05 Timereservasjon bekreftet"
tail -3 "$work/demo.log" | sed 's/^/    demo: /'

if scripts/test >"$work/test.log" 2>&1; then
  echo "fresh-clone: ok: scripts/test exited 0"
else
  echo "fresh-clone: FAILED: scripts/test exited $?"; grep -E "✘" "$work/test.log" | head -10; failures=$((failures + 1))
fi
plain=$(sed 's/\x1b\[[0-9;]*m//g' "$work/test.log")
printf '%s\n' "$plain" >"$work/test.plain"
check "the tests passed" "$work/test.plain" "Test run with [0-9]+ tests.* passed"
check "the reference-material tests are listed as not run" "$work/test.plain" "skipped: \"not run: the official reference material is missing"
echo "    tests: $(grep -cE 'skipped: "not run' "$work/test.plain") tests or suites listed as not run"
grep -E "Test run with" "$work/test.plain" | tail -1 | sed 's/^/    tests: /'
echo "fresh-clone: $((failures == 0 ? 1 : 0)) passed, $((failures == 0 ? 0 : 1)) failed"
[ $failures -eq 0 ]
