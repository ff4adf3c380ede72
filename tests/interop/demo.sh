#!/usr/bin/env bash
# make run: the demo (tests/interop/demo/demo.ts) — branchgate and a strongSwan peer in network
# namespaces, an IKEv1 tunnel, pings across it, `show ike sa` / `show esp sa`, then the branch
# dialling the office itself (IKEv1, then IKEv2). Needs root;
# installs the Debian packages it uses first. Everything it creates is removed on exit.
set -eu
DENO=${1:?usage: demo.sh DENO}
if [ "$(id -u)" != 0 ]; then
  echo "make run: needs root (network namespaces and a TUN device)" >&2
  exit 2
fi
bash "$(dirname "$0")/apt.sh"
pid=
cleanup() {
  # The demo removes its namespaces itself on SIGINT/SIGTERM; pass the signal on and wait.
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM
"$DENO" run --frozen --allow-all "$(dirname "$0")/demo/demo.ts" &
pid=$!
rc=0
wait "$pid" || rc=$?
pid=
exit $rc
