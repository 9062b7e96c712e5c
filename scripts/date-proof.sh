#!/usr/bin/env bash
# No test may depend on the date or the time it runs at: runs the built test binary under faketime
# (Debian package faketime) at instants chosen to break a suite that does:
#   - a day before the tests' injected business clocks (2026-12-01 12:00 Europe/Oslo),
#   - a year after them,
#   - 02:30 on the spring-forward Sunday in Oslo (2027-03-28; the wall clock jumps from 02:00 to
#     03:00, so 02:30 is read with the winter offset: 01:30 UTC),
#   - two seconds before that jump (the suite runs across it), and the same before the autumn one.
# Every run uses TZ=Europe/Oslo. Prints one line per instant and exits 1 when any run fails.
set -uo pipefail
cd "$(dirname "$0")/.."
command -v faketime >/dev/null 2>&1 || { echo "faketime is not installed (scripts/setup.sh test installs it)" >&2; exit 1; }
swift build --build-tests >/dev/null || { echo "the tests do not build" >&2; exit 1; }
binary=$(find .build/debug/ -maxdepth 1 -name '*PackageTests.xctest' -type f | head -1)
[ -n "$binary" ] || { echo "no test binary under .build/debug" >&2; exit 1; }

instants=(
  "2026-11-30 11:00:00"   # a day before the tests' clocks (12:00 Oslo = 11:00 UTC)
  "2027-12-01 11:00:00"   # a year after
  "2027-03-28 01:30:00"   # 02:30 on the spring-forward Sunday, winter offset
  "2027-03-28 00:59:58"   # across the spring-forward jump
  "2027-10-31 00:59:58"   # across the autumn fall-back
)
passed=0
failed=0
for instant in "${instants[@]}"; do
  log=$(mktemp)
  # Only the wall clock is faked (DONT_FAKE_MONOTONIC): the rules read the date from it. A faked
  # monotonic clock goes negative on a machine up for less than the offset, and then Dispatch's
  # timers (Task.sleep, a run loop's timeout) never fire: the run would hang on libfaketime, not on
  # anything of ours. The programs the tests start run without libfaketime (TimebokTestKit's
  # childEnvironment) and take their business time from TIMEBOK_NOW.
  TZ=UTC DONT_FAKE_MONOTONIC=1 faketime "$instant" env TZ=Europe/Oslo "$binary" --testing-library swift-testing >"$log" 2>&1
  status=$?
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E "Test run with" | tail -1)
  if [ $status -eq 0 ]; then
    passed=$((passed + 1))
    echo "date-proof: at ${instant} UTC (TZ=Europe/Oslo): ok: ${summary#* }"
  else
    failed=$((failed + 1))
    echo "date-proof: at ${instant} UTC (TZ=Europe/Oslo): FAILED (exit $status): ${summary#* }"
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E "✘" | head -10 | sed 's/^/    /'
  fi
  rm -f "$log"
done
echo "date-proof: $passed passed, $failed failed"
[ $failed -eq 0 ]
