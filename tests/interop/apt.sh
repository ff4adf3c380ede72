#!/usr/bin/env bash
# Installs the Debian packages the root integration tests, the demo and the benchmarks use,
# once: it returns at once when they are all present.
set -eu
pkgs=(strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins
  libstrongswan-extra-plugins iperf3 ike-scan socat iproute2 iputils-ping tcpdump qemu-user-static openssl strongswan-pki
  gcc libc6-dev libssl-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
echo "apt: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
