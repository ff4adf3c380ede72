/**
 * Diffie-Hellman over libcrypto: MODP with BN_mod_exp_mont_consttime (RFC 2409 §6.2,
 * RFC 3526), ECP with EC_POINT (RFC 5903), X25519/X448 with raw EVP_PKEY keys (RFC 7748,
 * RFC 8031), each with the public value checks of RFC 6989. Control plane only: native objects
 * are made per operation and freed before returning; private values stay in JS memory.
 * @module
 */

import { type LibCrypto, POINT_CONVERSION_UNCOMPRESSED } from "../../hw/libcrypto.ts";
import { CryptoError, type DhGroup, type DhGroupId, type DhKeyPair } from "./types.ts";
import {
  allZero,
  bigintToBytes,
  bytesToBigint,
  groupInfo,
  MODP_GENERATOR,
  modpPrime,
} from "./dh/groups.ts";

type Random = (n: number) => Uint8Array;

/** libcrypto short names of the curves (resolved to NIDs with OBJ_sn2nid). */
const CURVE_NAME: Partial<Record<DhGroupId, string>> = {
  19: "prime256v1",
  20: "secp384r1",
  21: "secp521r1",
  31: "X25519",
  32: "X448",
};

function fail(id: DhGroupId, what: string): never {
  throw new CryptoError(what, `dh:${id}`);
}

function checkLength(id: DhGroupId, peer: Uint8Array, want: number): void {
  if (peer.length !== want) fail(id, `peer public value must be ${want} bytes, got ${peer.length}`);
}

function nid(c: LibCrypto, id: DhGroupId): number {
  const n = c.OBJ_sn2nid(new TextEncoder().encode(`${CURVE_NAME[id]}\0`));
  if (n <= 0) fail(id, "curve unknown to libcrypto");
  return n;
}

/** Runs `use` with native objects that `free` releases afterwards, whatever happens. */
function scoped<T>(use: (keep: (free: () => void) => void) => T): T {
  const frees: (() => void)[] = [];
  try {
    return use((free) => frees.push(free));
  } finally {
    for (const free of frees.reverse()) free();
  }
}

/** A BIGNUM from big-endian bytes, freed (cleared) with the scope. */
function bn(
  c: LibCrypto,
  keep: (free: () => void) => void,
  bytes: Uint8Array,
  id: DhGroupId,
): Deno.PointerValue {
  const b = c.BN_bin2bn(bytes, bytes.length, null);
  if (b === null) fail(id, "BN_bin2bn failed");
  keep(() => c.BN_clear_free(b));
  return b;
}

function modpGroup(c: LibCrypto, id: DhGroupId, random: Random): DhGroup {
  const info = groupInfo(id);
  const p = modpPrime(id)!;
  const pBytes = bigintToBytes(p, info.publicLength);
  const len = info.publicLength;
  // base^exp mod p in constant time with respect to the (secret) exponent.
  const modExp = (base: Uint8Array, exp: Uint8Array): Uint8Array =>
    scoped((keep) => {
      const ctx = c.BN_CTX_new();
      if (ctx === null) fail(id, "BN_CTX_new failed");
      keep(() => c.BN_CTX_free(ctx));
      const r = c.BN_new();
      if (r === null) fail(id, "BN_new failed");
      keep(() => c.BN_clear_free(r));
      const a = bn(c, keep, base, id);
      const e = bn(c, keep, exp, id);
      const m = bn(c, keep, pBytes, id);
      const out = new Uint8Array(len);
      if (
        c.BN_mod_exp_mont_consttime(r, a, e, m, ctx, null) !== 1 ||
        c.BN_bn2binpad(r, out, len) !== len
      ) {
        fail(id, "modular exponentiation failed");
      }
      return out;
    });
  const g = bigintToBytes(MODP_GENERATOR, 1);
  const pair = (priv: Uint8Array): DhKeyPair => {
    const x = bytesToBigint(priv);
    if (priv.length === 0 || x < 2n || x >= p - 1n) fail(id, "private value out of range");
    const k = priv.slice();
    return {
      group: id,
      publicValue: modExp(g, k),
      computeShared(peer: Uint8Array): Uint8Array {
        checkLength(id, peer, len);
        const y = bytesToBigint(peer);
        // RFC 6989 §2.1: 1 < y < p-1 (the groups use safe primes, so no subgroup test).
        if (y <= 1n || y >= p - 1n) fail(id, "peer public value out of range");
        return modExp(peer, k);
      },
    };
  };
  return {
    id,
    publicLength: len,
    generate: () => {
      const priv = random(info.privateLength);
      priv[0] = priv[0]! | 0x80; // full length, hence > 1 and < p-1
      return pair(priv);
    },
    fromPrivate: pair,
  };
}

function ecpGroup(c: LibCrypto, id: DhGroupId, random: Random): DhGroup {
  const info = groupInfo(id);
  const curve = nid(c, id);
  const flen = info.sharedLength;
  /** Runs `use` with a fresh EC_GROUP and BN_CTX. */
  const withGroup = <T>(
    use: (g: Deno.PointerValue, ctx: Deno.PointerValue, keep: (f: () => void) => void) => T,
  ): T =>
    scoped((keep) => {
      const g = c.EC_GROUP_new_by_curve_name(curve);
      if (g === null) fail(id, "EC_GROUP_new_by_curve_name failed");
      keep(() => c.EC_GROUP_free(g));
      const ctx = c.BN_CTX_new();
      if (ctx === null) fail(id, "BN_CTX_new failed");
      keep(() => c.BN_CTX_free(ctx));
      return use(g, ctx, keep);
    });
  const newPoint = (g: Deno.PointerValue, keep: (f: () => void) => void): Deno.PointerValue => {
    const pt = c.EC_POINT_new(g);
    if (pt === null) fail(id, "EC_POINT_new failed");
    keep(() => c.EC_POINT_clear_free(pt));
    return pt;
  };
  /** x||y of a point (RFC 5903 §7: the SEC1 0x04 prefix dropped). */
  const coordinates = (
    g: Deno.PointerValue,
    pt: Deno.PointerValue,
    ctx: Deno.PointerValue,
  ): Uint8Array => {
    const oct = new Uint8Array(1 + 2 * flen);
    const n = c.EC_POINT_point2oct(
      g,
      pt,
      POINT_CONVERSION_UNCOMPRESSED,
      oct,
      BigInt(oct.length),
      ctx,
    );
    if (Number(n) !== oct.length) fail(id, "EC_POINT_point2oct failed");
    return oct.subarray(1);
  };
  // The group order n and field prime p, read once from libcrypto.
  const [order, prime] = withGroup((g, ctx, keep) => {
    const n = new Uint8Array(flen);
    const pBytes = new Uint8Array(flen);
    const pbn = c.BN_new();
    if (pbn === null) fail(id, "BN_new failed");
    keep(() => c.BN_clear_free(pbn));
    if (
      c.BN_bn2binpad(c.EC_GROUP_get0_order(g), n, flen) !== flen ||
      c.EC_GROUP_get_curve(g, pbn, null, null, ctx) !== 1 ||
      c.BN_bn2binpad(pbn, pBytes, flen) !== flen
    ) {
      fail(id, "reading the curve parameters failed");
    }
    return [bytesToBigint(n), bytesToBigint(pBytes)] as const;
  });

  const pair = (priv: Uint8Array): DhKeyPair => {
    const d = bytesToBigint(priv);
    if (priv.length !== info.privateLength || d < 1n || d >= order) {
      fail(id, "private value out of range");
    }
    const k = priv.slice();
    const publicValue = withGroup((g, ctx, keep) => {
      const q = newPoint(g, keep);
      if (c.EC_POINT_mul(g, q, bn(c, keep, k, id), null, null, ctx) !== 1) {
        fail(id, "EC_POINT_mul failed");
      }
      return coordinates(g, q, ctx).slice();
    });
    return {
      group: id,
      publicValue,
      computeShared(peer: Uint8Array): Uint8Array {
        checkLength(id, peer, info.publicLength);
        // RFC 6989 §2.3: both coordinates below p, the point on the curve, not infinity.
        if (
          bytesToBigint(peer.subarray(0, flen)) >= prime ||
          bytesToBigint(peer.subarray(flen)) >= prime
        ) {
          fail(id, "peer public value is not a point on the curve");
        }
        return withGroup((g, ctx, keep) => {
          const sec1 = new Uint8Array(1 + peer.length);
          sec1[0] = POINT_CONVERSION_UNCOMPRESSED;
          sec1.set(peer, 1);
          const q = newPoint(g, keep);
          if (
            c.EC_POINT_oct2point(g, q, sec1, BigInt(sec1.length), ctx) !== 1 ||
            c.EC_POINT_is_on_curve(g, q, ctx) !== 1 || c.EC_POINT_is_at_infinity(g, q) !== 0
          ) {
            fail(id, "peer public value is not a point on the curve");
          }
          const r = newPoint(g, keep);
          if (
            c.EC_POINT_mul(g, r, null, q, bn(c, keep, k, id), ctx) !== 1 ||
            c.EC_POINT_is_at_infinity(g, r) !== 0
          ) {
            fail(id, "ECDH failed");
          }
          // RFC 5903 §7: the shared secret is the x coordinate.
          return coordinates(g, r, ctx).slice(0, flen);
        });
      },
    };
  };
  return {
    id,
    publicLength: info.publicLength,
    generate: () => {
      // Rejection sampling of 1 <= d < n; P-521's top byte keeps only its one used bit.
      for (;;) {
        const priv = random(info.privateLength);
        if (id === 21) priv[0] = priv[0]! & 0x01;
        const d = bytesToBigint(priv);
        if (d >= 1n && d < order) return pair(priv);
      }
    },
    fromPrivate: pair,
  };
}

function montgomeryGroup(c: LibCrypto, id: DhGroupId, random: Random): DhGroup {
  const info = groupInfo(id);
  const type = nid(c, id);
  const len = BigInt(info.publicLength);
  const pkey = (keep: (f: () => void) => void, raw: Uint8Array, priv: boolean) => {
    const k = priv
      ? c.EVP_PKEY_new_raw_private_key(type, null, raw, len)
      : c.EVP_PKEY_new_raw_public_key(type, null, raw, len);
    if (k === null) fail(id, priv ? "private value refused" : "peer public value refused");
    keep(() => c.EVP_PKEY_free(k));
    return k;
  };
  const pair = (priv: Uint8Array): DhKeyPair => {
    if (priv.length !== info.privateLength) {
      fail(id, `private value must be ${info.privateLength} bytes`);
    }
    const k = priv.slice();
    const publicValue = scoped((keep) => {
      const out = new Uint8Array(info.publicLength);
      const outLen = new BigUint64Array([len]);
      if (
        c.EVP_PKEY_get_raw_public_key(pkey(keep, k, true), out, new Uint8Array(outLen.buffer)) !==
          1 || outLen[0] !== len
      ) {
        fail(id, "EVP_PKEY_get_raw_public_key failed");
      }
      return out;
    });
    return {
      group: id,
      publicValue,
      computeShared(peer: Uint8Array): Uint8Array {
        checkLength(id, peer, info.publicLength);
        const shared = scoped((keep) => {
          const ctx = c.EVP_PKEY_CTX_new(pkey(keep, k, true), null);
          if (ctx === null) fail(id, "EVP_PKEY_CTX_new failed");
          keep(() => c.EVP_PKEY_CTX_free(ctx));
          const out = new Uint8Array(info.sharedLength);
          const outLen = new BigUint64Array([BigInt(out.length)]);
          // libcrypto itself refuses an all-zero result (RFC 7748 §6.1): that is a failure here.
          if (
            c.EVP_PKEY_derive_init(ctx) !== 1 ||
            c.EVP_PKEY_derive_set_peer(ctx, pkey(keep, peer, false)) !== 1 ||
            c.EVP_PKEY_derive(ctx, out, new Uint8Array(outLen.buffer)) !== 1 ||
            outLen[0] !== BigInt(out.length)
          ) {
            fail(id, "shared secret is all zero or the peer value was refused");
          }
          return out;
        });
        // RFC 7748 §6.1/§6.2 (used by RFC 8031): an all-zero result means a low-order peer value.
        if (allZero(shared)) fail(id, "shared secret is all zero");
        return shared;
      },
    };
  };
  return {
    id,
    publicLength: info.publicLength,
    generate: () => pair(random(info.privateLength)),
    fromPrivate: pair,
  };
}

/** The libcrypto implementation of group `id`; `random` draws private values. */
export function openSslDh(c: LibCrypto, id: DhGroupId, random: Random): DhGroup {
  switch (groupInfo(id).kind) {
    case "modp":
      return modpGroup(c, id, random);
    case "ecp":
      return ecpGroup(c, id, random);
    case "montgomery":
      return montgomeryGroup(c, id, random);
  }
}
