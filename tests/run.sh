#!/usr/bin/env bash
# make test: format check, lint, type check, unit tests, and (as root) the integration tests.
# Every phase runs even when an earlier one fails; the last line is "N passed, N failed".
set -u
DENO=$1
IS_ROOT=${2:-}
LOG=build/test-logs
mkdir -p "$LOG"
passed=0
failed=0

# A check phase counts as one test.
check() {
  local name=$1; shift
  echo "== $name"
  if "$@" >"$LOG/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; tail -n 40 "$LOG/$name.log"
  fi
}

# A deno test phase adds its own counts (read from deno's closing "| N passed | N failed" line).
suite() {
  local name=$1; shift
  echo "== $name"
  "$@" 2>&1 | tee "$LOG/$name.log"
  local rc=${PIPESTATUS[0]}
  local line p f
  line=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$LOG/$name.log" | tail -n 1)
  if [ -z "$line" ]; then
    echo "FAIL $name: no test summary (exit $rc)"; failed=$((failed + 1)); return
  fi
  p=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$line")
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then failed=$((failed + 1)); fi
}

check fmt "$DENO" fmt --check
check lint "$DENO" lint
check types "$DENO" check --frozen src/ hw/ tests/
# The fake /dev/crypto the crypto tests use is built with gcc and libssl-dev (apt.sh installs
# them as root, before any test needs them).
[ "$IS_ROOT" = yes ] && check apt bash tests/interop/apt.sh
check fake-cryptodev bash tests/fakes/cryptodev/build.sh
# Test directories that exist in this checkout (git keeps no empty folders).
has_tests() { [ -n "$(find "$1" -name '*_test.ts' 2>/dev/null | head -n 1)" ]; }
unit_dirs=()
for d in tests/unit tests/vectors tests/exchange tests/fuzz; do has_tests "$d" && unit_dirs+=("$d"); done
suite unit "$DENO" test --frozen --allow-all --parallel "${unit_dirs[@]}"
# Date independence: the time-dependent suites again with the injected test clock a year ahead
# of its default (tests/unit/update/fixture.ts). Nothing there may read the wall clock.
time_dirs=()
for d in tests/unit/update tests/unit/pki; do has_tests "$d" && time_dirs+=("$d"); done
BRANCHGATE_TEST_NOW=2027-11-23T08:00:00.000Z \
  suite date-plus-1y "$DENO" test --frozen --allow-all --parallel "${time_dirs[@]}"

if [ "$IS_ROOT" != yes ]; then
  echo "== integration: skipped (needs root)"
elif ! has_tests tests/interop; then
  echo "== integration: no root integration tests in this checkout yet"
else
  suite integration "$DENO" test --frozen --allow-all tests/interop
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
