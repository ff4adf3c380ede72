/**
 * Software Diffie-Hellman: MODP with bigint square-and-multiply, ECP 19/20/21 and X25519/X448
 * from @noble/curves, each with the RFC 6989 §2 public value checks.
 * @module
 */

import { p256, p384, p521 } from "@noble/curves/nist.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { x448 } from "@noble/curves/ed448.js";
import { CryptoError, type DhGroup, type DhGroupId, type DhKeyPair } from "./types.ts";
import {
  allZero,
  bigintToBytes,
  bytesToBigint,
  groupInfo,
  MODP_GENERATOR,
  modpPrime,
} from "./dh/groups.ts";

/** base^exp mod m by left-to-right square-and-multiply. */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  const b = base % m;
  for (let i = exp.toString(2), k = 0; k < i.length; k++) {
    result = (result * result) % m;
    if (i[k] === "1") result = (result * b) % m;
  }
  return result;
}

function checkLength(id: DhGroupId, peer: Uint8Array, want: number): void {
  if (peer.length !== want) {
    throw new CryptoError(
      `peer public value must be ${want} bytes, got ${peer.length}`,
      `dh:${id}`,
    );
  }
}

function modpGroup(id: DhGroupId, random: (n: number) => Uint8Array): DhGroup {
  const info = groupInfo(id);
  const p = modpPrime(id)!;
  const pair = (priv: Uint8Array): DhKeyPair => {
    const x = bytesToBigint(priv);
    if (x < 2n || x >= p - 1n) throw new CryptoError("private value out of range", `dh:${id}`);
    return {
      group: id,
      publicValue: bigintToBytes(modPow(MODP_GENERATOR, x, p), info.publicLength),
      computeShared(peer: Uint8Array): Uint8Array {
        checkLength(id, peer, info.publicLength);
        const y = bytesToBigint(peer);
        // RFC 6989 §2.1: 1 < y < p-1.
        if (y <= 1n || y >= p - 1n) {
          throw new CryptoError("peer public value out of range", `dh:${id}`);
        }
        return bigintToBytes(modPow(y, x, p), info.sharedLength);
      },
    };
  };
  return {
    id,
    publicLength: info.publicLength,
    generate: () => {
      const priv = random(info.privateLength);
      priv[0] = priv[0]! | 0x80; // full length, and therefore > 1
      return pair(priv);
    },
    fromPrivate: pair,
  };
}

type Weierstrass = typeof p256;

function ecpGroup(id: DhGroupId, curve: Weierstrass, random: (n: number) => Uint8Array): DhGroup {
  const info = groupInfo(id);
  const pair = (priv: Uint8Array): DhKeyPair => {
    if (!curve.utils.isValidSecretKey(priv)) {
      throw new CryptoError("private value out of range", `dh:${id}`);
    }
    return {
      group: id,
      // RFC 5903 §7: x || y without the SEC1 0x04 prefix.
      publicValue: curve.getPublicKey(priv, false).slice(1),
      computeShared(peer: Uint8Array): Uint8Array {
        checkLength(id, peer, info.publicLength);
        const sec1 = new Uint8Array(peer.length + 1);
        sec1[0] = 4;
        sec1.set(peer, 1);
        let shared: Uint8Array;
        try {
          // RFC 6989 §2.3: fromBytes validates the point (coordinates in range, on the curve).
          curve.Point.fromBytes(sec1).assertValidity();
          shared = curve.getSharedSecret(priv, sec1, true);
        } catch {
          throw new CryptoError("peer public value is not a point on the curve", `dh:${id}`);
        }
        return shared.slice(1); // RFC 5903 §7: the shared secret is the x coordinate
      },
    };
  };
  return {
    id,
    publicLength: info.publicLength,
    generate: () =>
      pair(curve.utils.randomSecretKey(random(curve.lengths.seed ?? 2 * info.privateLength))),
    fromPrivate: pair,
  };
}

type Montgomery = typeof x25519;

function montgomeryGroup(
  id: DhGroupId,
  curve: Montgomery,
  random: (n: number) => Uint8Array,
): DhGroup {
  const info = groupInfo(id);
  const pair = (priv: Uint8Array): DhKeyPair => {
    if (priv.length !== info.privateLength) {
      throw new CryptoError(`private value must be ${info.privateLength} bytes`, `dh:${id}`);
    }
    const k = priv.slice();
    return {
      group: id,
      publicValue: curve.getPublicKey(k),
      computeShared(peer: Uint8Array): Uint8Array {
        checkLength(id, peer, info.publicLength);
        let shared: Uint8Array;
        try {
          shared = curve.scalarMult(k, peer);
        } catch {
          shared = new Uint8Array(info.sharedLength);
        }
        // RFC 8031 §2 / RFC 7748 §6: an all-zero result means a low-order peer value.
        if (allZero(shared)) throw new CryptoError("shared secret is all zero", `dh:${id}`);
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

/** The software implementation of group `id`. */
export function softwareDh(id: DhGroupId, random: (n: number) => Uint8Array): DhGroup {
  switch (id) {
    case 19:
      return ecpGroup(id, p256, random);
    case 20:
      return ecpGroup(id, p384 as unknown as Weierstrass, random);
    case 21:
      return ecpGroup(id, p521 as unknown as Weierstrass, random);
    case 31:
      return montgomeryGroup(id, x25519, random);
    case 32:
      return montgomeryGroup(id, x448 as unknown as Montgomery, random);
    default:
      return modpGroup(id, random);
  }
}
