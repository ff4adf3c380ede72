#!/usr/bin/env bash
# make image-measure: start-up time (wall clock, median) and max resident set size of
# `branchgate version` and `branchgate selftest`, from source (`deno run <task permissions>
# src/main.ts`, what `deno task branchgate` runs) vs the bundle (the x86_64 image's launcher),
# natively with a warm DENO_DIR and with a cold one (no transpile or code cache: the first start
# after install; npm packages present), a one-file bundle for reference, and the
# aarch64 image under qemu-aarch64-static (emulated: times and RSS include the emulator).
# Usage: measure.sh DENO   (after make image)
set -euo pipefail
DENO=${1:?usage: measure.sh DENO}
RUNS=${RUNS:-5}
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
warm_dir=${DENO_DIR:-$PWD/.tools/deno-dir}
for f in build/image/slots/a/deno build/image-x86_64/slots/a/deno; do
  [ -x "$f" ] || { echo "measure: $f missing, run make image first" >&2; exit 1; }
done
permissions=$(sed -n 's/.*"branchgate": "deno run \(.*\) src\/main.ts".*/\1/p' deno.json)
[ -n "$permissions" ] || { echo "measure: deno.json tasks.branchgate not found" >&2; exit 1; }
scratch=$(mktemp -d /tmp/bg-measure.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# sample DENO_DIR CMD… : one run; prints "<ms> <max RSS KiB>"; fails when CMD fails.
sample() {
  local dir=$1; shift
  local t0 t1
  t0=$EPOCHREALTIME
  DENO_DIR=$dir /usr/bin/time -f %M -o "$scratch/rss" "$@" >"$scratch/out" 2>&1 ||
    { echo "measure: '$*' failed:" >&2; tail -n 5 "$scratch/out" >&2; return 1; }
  t1=$EPOCHREALTIME
  echo "$(( (${t1/./} - ${t0/./}) / 1000 )) $(tail -n 1 "$scratch/rss")"
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
# row LABEL RUNS cold|warm CMD… : RUNS samples (warm: after one untimed run; cold: each with a
# fresh DENO_DIR); prints median time and median max RSS.
row() {
  local label=$1 runs=$2 mode=$3; shift 3
  local dir=$warm_dir
  : >"$scratch/samples"
  [ "$mode" = warm ] && sample "$dir" "$@" >/dev/null
  for _ in $(seq "$runs"); do
    if [ "$mode" = cold ]; then
      # No transpile or V8 code cache; the npm packages as installed (a source install has them).
      dir=$scratch/denodir
      rm -rf "$dir" && mkdir -p "$dir"
      [ -d "$warm_dir/npm" ] && ln -s "$warm_dir/npm" "$dir/npm"
    fi
    sample "$dir" "$@" >>"$scratch/samples"
  done
  printf '%-44s %4d %9d %10.1f\n' "$label" "$runs" "$(cut -d' ' -f1 "$scratch/samples" | median)" \
    "$(echo "$(cut -d' ' -f2 "$scratch/samples" | median) / 1024" | bc -l)"
}

# shellcheck disable=SC2086 # the permissions are separate words
src=("$DENO" run --frozen $permissions src/main.ts)
bundle=(build/image-x86_64/current/bin/branchgate)
# For reference: the same code as one file without code splitting (every command's code parsed).
"$DENO" bundle --frozen --platform deno -o "$scratch/one.js" src/main.ts >/dev/null 2>&1 ||
  { echo "measure: deno bundle failed" >&2; exit 1; }
# shellcheck disable=SC2086 # the permissions are separate words
one=("$DENO" run --no-config --no-lock $permissions "$scratch/one.js")
printf '%-44s %4s %9s %10s\n' "command" "runs" "median ms" "RSS MiB"
for cmd in version selftest; do
  row "$cmd: source, warm DENO_DIR" "$RUNS" warm "${src[@]}" "$cmd"
  row "$cmd: bundle, warm DENO_DIR" "$RUNS" warm "${bundle[@]}" "$cmd"
  row "$cmd: one-file bundle, warm DENO_DIR" "$RUNS" warm "${one[@]}" "$cmd"
  row "$cmd: source, cold DENO_DIR" 3 cold "${src[@]}" "$cmd"
  row "$cmd: bundle, cold DENO_DIR" 3 cold "${bundle[@]}" "$cmd"
done

if ! command -v qemu-aarch64-static >/dev/null; then
  echo "qemu-aarch64-static not installed: aarch64 rows skipped"
  exit 0
fi
root=$(bash tests/image/sysroot.sh | head -n 1)
slot=$PWD/build/image/slots/a
# The image's aarch64 Deno on its bundle with the launcher's flags, through qemu.
launcher_flags=$(sed -n 's/^exec "$slot\/deno" run \(.*\) \\$/\1/p' "$slot/bin/branchgate")
[ -n "$launcher_flags" ] || { echo "measure: launcher flags not found" >&2; exit 1; }
# shellcheck disable=SC2086 # the flags are separate words
arm=(env QEMU_LD_PREFIX="$root" qemu-aarch64-static "$slot/deno" run $launcher_flags
  "$slot/branchgate.js")
mkdir -p "$scratch/arm-denodir"
warm_dir=$scratch/arm-denodir
row "version: aarch64 image under qemu, warm*" 3 warm "${arm[@]}" version
row "selftest: aarch64 image under qemu, warm*" 1 warm "${arm[@]}" selftest
echo "* emulated: the time and RSS include qemu-user (TCG), not what a router would show"
