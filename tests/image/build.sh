#!/usr/bin/env bash
# make image: the firmware image in the A/B slot layout the update bundles use (issue 6):
#   build/image/slots/a/{deno,branchgate.js,<chunk>.js…,<worker>.js,bin/branchgate}, slots/b/,
#   current -> slots/a
# with the aarch64 Deno from npm, and the same layout with the host's x86_64 Deno in
# build/image-x86_64/ (runs natively; the smoke test and measure.sh use both).
# Usage: build.sh DENO DENO_VERSION [AARCH64_DENO_VERSION]
set -euo pipefail
DENO=${1:?usage: build.sh DENO DENO_VERSION [AARCH64_DENO_VERSION]}
DENO_VERSION=${2:?usage: build.sh DENO DENO_VERSION [AARCH64_DENO_VERSION]}
ARM_VERSION=${3:-$DENO_VERSION}
export DENO_DIR=${DENO_DIR:-$PWD/.tools/deno-dir} DENO_NO_UPDATE_CHECK=1 NO_COLOR=1

arm_deno=$(bash tests/image/fetch_deno.sh "$ARM_VERSION")
host_deno=$(readlink -f "$(command -v "$DENO")")
[ "$ARM_VERSION" = "$DENO_VERSION" ] ||
  echo "image: note: aarch64 Deno $ARM_VERSION, host Deno $DENO_VERSION (Makefile AARCH64_DENO_VERSION)"

# One image: bundle into a fresh slot a, then add the runtime and the A/B skeleton.
layout() {
  local root=$1 runtime=$2
  rm -rf "$root.tmp"
  mkdir -p "$root.tmp/slots/a" "$root.tmp/slots/b"
  "$DENO" run --frozen --allow-all tests/image/bundle.ts "$DENO" "$root.tmp/slots/a"
  cp "$runtime" "$root.tmp/slots/a/deno"
  chmod 0755 "$root.tmp/slots/a/deno"
  # The factory image's version (src/update/slots.ts FACTORY_VERSION_FILE): anti-rollback.
  sed -n 's/^export const VERSION = "\(.*\)";$/\1/p' src/version.ts >"$root.tmp/slots/a/VERSION"
  ln -s slots/a "$root.tmp/current"
  rm -rf "$root"
  mv "$root.tmp" "$root"
}
layout build/image "$arm_deno"
layout build/image-x86_64 "$host_deno"

# Sizes: each file of the shipped (aarch64) slot, the slot, and the slot compressed (gzip -9).
echo "image: build/image (aarch64, Deno $ARM_VERSION)"
(cd build/image/slots/a && find . -type f -printf '%P\n' | sort | while read -r f; do
  printf '  %-22s %10d bytes\n' "$f" "$(stat -c %s "$f")"
done)
code=$(find build/image/slots/a -type f ! -name deno -printf '%s\n' | awk '{s+=$1} END {print s}')
printf '  %-22s %10d bytes\n' "code (all but deno)" "$code"
total=$(du -sb build/image/slots/a | cut -f1)
packed=$(tar -C build/image/slots/a -cf - . | gzip -9 | wc -c)
printf '  %-22s %10d bytes (%d MiB), tar.gz -9: %d bytes (%d MiB)\n' "slot total" "$total" \
  $((total / 1048576)) "$packed" $((packed / 1048576))
echo "image: build/image-x86_64 (host Deno $("$DENO" --version | head -n1 | cut -d' ' -f2))"
