/**
 * Known-answer test of one Diffie-Hellman group on one backend, from `kat/dh.json` (RFC 7748 §6,
 * RFC 5903 §8, the MODP cross-check of tests/vectors/data/modp_dh.json): both public values,
 * the shared secret from both sides, and one peer value that RFC 6989 says must be refused.
 * @module
 */

import dh from "./kat/dh.json" with { type: "json" };
import { bigintToBytes, groupInfo, modpPrime } from "./dh/groups.ts";
import { type CryptoBackend, CryptoError, type DhGroupId } from "./types.ts";

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function same(a: Uint8Array, hexText: string): boolean {
  return a.length * 2 === hexText.length &&
    a.every((x, i) => x === parseInt(hexText.slice(2 * i, 2 * i + 2), 16));
}

/** A peer value the group's RFC 6989 check must refuse. */
function badPeer(id: DhGroupId): Uint8Array {
  const len = groupInfo(id).publicLength;
  const p = modpPrime(id);
  if (p !== undefined) return bigintToBytes(p - 1n, len); // §2.1: y = p-1
  const v = new Uint8Array(len);
  if (groupInfo(id).kind === "ecp") {
    v[len / 2 - 1] = 1; // §2.3: (1, 1) is not on the curve
    v[len - 1] = 1;
  }
  return v; // Curve25519/448: u = 0 gives an all-zero secret (RFC 7748 §6)
}

/** True when backend `b` reproduces every vector of group `id` and refuses a bad peer value. */
export function dhKat(b: CryptoBackend, id: DhGroupId): boolean {
  const cases = dh.cases.filter((c) => c.group === id);
  const g = b.dh(id);
  if (cases.length === 0 || g === undefined) return false;
  const ok = cases.every((v) => {
    const i = g.fromPrivate(hex(v.privateI));
    const r = g.fromPrivate(hex(v.privateR));
    return same(i.publicValue, v.publicI) && same(r.publicValue, v.publicR) &&
      same(i.computeShared(hex(v.publicR)), v.shared) &&
      same(r.computeShared(hex(v.publicI)), v.shared);
  });
  if (!ok) return false;
  try {
    g.fromPrivate(hex(cases[0]!.privateI)).computeShared(badPeer(id));
    return false;
  } catch (e) {
    return e instanceof CryptoError;
  }
}
