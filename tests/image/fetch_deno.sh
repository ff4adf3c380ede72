#!/usr/bin/env bash
# Fetches the aarch64 (linux-arm64-glibc) Deno from npm with `npm pack` into .tools/image-cache/
# once, and prints the path of its binary. Usage: fetch_deno.sh VERSION
set -euo pipefail
version=${1:?usage: fetch_deno.sh VERSION}
pkg=@deno/linux-arm64-glibc
cache=.tools/image-cache
dir=$cache/deno-linux-arm64-glibc-$version
if [ ! -x "$dir/package/deno" ]; then
  mkdir -p "$cache"
  tgz=$cache/deno-linux-arm64-glibc-$version.tgz
  if [ ! -f "$tgz" ]; then
    echo "image: npm pack $pkg@$version" >&2
    if ! (cd "$cache" && npm pack --silent --loglevel=error "$pkg@$version" >/dev/null); then
      echo "image: $pkg@$version could not be fetched from the npm registry" >&2
      exit 1
    fi
  fi
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  tar -xzf "$tgz" -C "$dir.tmp"
  [ -x "$dir.tmp/package/deno" ] || { echo "image: $tgz holds no package/deno" >&2; exit 1; }
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
echo "$dir/package/deno"
