#!/usr/bin/env bash
# make compile: one self-contained executable (build/branchgate) with `deno compile`, for
# machines that can download Deno's `denort` runtime, or that point DENORT_BIN
# at a denort binary of the same Deno version. Fails with one clear line (not a hang) otherwise.
# The firmware image (make image) does not need it. Usage: compile.sh DENO
set -uo pipefail
DENO=${1:?usage: compile.sh DENO}
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
mkdir -p build
log=build/compile.log
permissions=$(sed -n 's/.*"branchgate": "deno run \(.*\) src\/main.ts".*/\1/p' deno.json)
[ -n "$permissions" ] || { echo "compile: deno.json tasks.branchgate not found" >&2; exit 1; }
# shellcheck disable=SC2086 # the permissions are separate words
if timeout 300 "$DENO" compile --frozen $permissions --include src/esp/worker.ts \
  -o build/branchgate src/main.ts >"$log" 2>&1; then
  echo "compile: build/branchgate ($(stat -c %s build/branchgate) bytes)"
  exit 0
fi
rc=$?
if [ "$rc" = 124 ]; then
  echo "compile: deno compile did not finish in 300 s (see $log)" >&2
elif grep -q "denort" "$log"; then
  echo "compile: deno compile could not get its denort runtime (no download access;" \
    "set DENORT_BIN to a denort $("$DENO" --version | head -n1 | cut -d' ' -f2) binary)," \
    "see $log. Use 'make image' here." >&2
else
  echo "compile: deno compile failed (exit $rc), see $log:" >&2
  tail -n 5 "$log" >&2
fi
exit 1
