#!/usr/bin/env bash
# Builds the fake /dev/crypto library (fake_cryptodev.c) with the system compiler and OpenSSL
# (Debian: gcc, libssl-dev; tests/interop/apt.sh installs them). Prints the library's path.
# Usage: build.sh [OUT_DIR]   (default build/fake-cryptodev; rebuilt only when the source changed)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../../build/fake-cryptodev}
mkdir -p "$out"
lib=$out/libfakecryptodev.so
# Test modules run in parallel and may all build at once: one builds, the others wait.
exec 9>"$out/.build.lock"
flock 9
if [ ! -e "$lib" ] || [ "$here/fake_cryptodev.c" -nt "$lib" ]; then
  command -v gcc >/dev/null || { echo "build.sh: gcc missing (apt install gcc libssl-dev)" >&2; exit 1; }
  gcc -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -o "$lib.tmp.$$" "$here/fake_cryptodev.c" -lcrypto -lpthread
  mv "$lib.tmp.$$" "$lib"
fi
echo "$(cd "$out" && pwd)/libfakecryptodev.so"
