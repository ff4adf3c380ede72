#!/usr/bin/env bash
# Builds the aarch64 library roots that qemu-aarch64-static runs the image's Deno in (-L ROOT),
# without touching the host's dpkg: a private apt state under .tools/aarch64-apt/ fetches the
# Debian arm64 packages, which are unpacked into
#   .tools/aarch64-root        libc6, libgcc-s1, libssl3 (libcrypto as on a router with OpenSSL)
#   .tools/aarch64-root-nossl  libc6, libgcc-s1 (a router without OpenSSL: software crypto)
# Runs once; later calls return at once. Prints the two roots.
set -euo pipefail
tools=$PWD/.tools
apt_dir=$tools/aarch64-apt
full=$tools/aarch64-root
bare=$tools/aarch64-root-nossl
if [ ! -f "$full/.complete" ] || [ ! -f "$bare/.complete" ]; then
  mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"
  touch "$apt_dir/state/status"
  # apt drops privileges to _apt for downloads: let it write the private dirs.
  chmod -R a+rwX "$apt_dir"
  opts=(-o "Dir::State=$apt_dir/state" -o "Dir::State::status=$apt_dir/state/status"
    -o "Dir::Cache=$apt_dir/cache" -o APT::Architecture=arm64 -o APT::Architectures::=arm64
    -o Acquire::Languages=none -q)
  echo "image: fetching Debian arm64 libc6, libgcc-s1, libssl3 for qemu" >&2
  apt-get "${opts[@]}" update >/dev/null
  rm -f "$apt_dir"/debs/*.deb
  (cd "$apt_dir/debs" && apt-get "${opts[@]}" download libc6 libgcc-s1 libssl3 >/dev/null)
  rm -rf "$full" "$bare"
  mkdir -p "$full" "$bare"
  for deb in "$apt_dir"/debs/*.deb; do
    dpkg-deb -x "$deb" "$full"
    case $(basename "$deb") in libssl3_*) ;; *) dpkg-deb -x "$deb" "$bare" ;; esac
  done
  [ -e "$full/lib/ld-linux-aarch64.so.1" ] || { echo "image: no aarch64 ld.so unpacked" >&2; exit 1; }
  ls "$apt_dir"/debs >"$full/.complete"
  cp "$full/.complete" "$bare/.complete"
fi
echo "$full"
echo "$bare"
