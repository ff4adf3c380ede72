/**
 * What key derivation needs from the crypto layer: a PRF and a hash by name. The registry
 * (`getCrypto()` in src/crypto/registry.ts) satisfies it; tests may pass any implementation.
 * @module
 */

import { CryptoError, type HashAlg, type PrfAlg } from "../types.ts";

/** The PRF and hash calls key derivation makes. */
export interface KdfPrimitives {
  /** prf(key, data) at full output length. */
  prf(alg: PrfAlg, key: Uint8Array, data: Uint8Array): Uint8Array;
  /** A plain hash. */
  hash(alg: HashAlg, data: Uint8Array): Uint8Array;
}

/** Concatenates byte strings (the `|` of the RFCs). */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A single octet. */
export function octet(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff);
}

/** A 32-bit big-endian integer (message IDs, SPIs). */
export function u32(v: number): Uint8Array {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new CryptoError(`not a 32-bit unsigned value: ${v}`);
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v);
  return out;
}

/** Throws a {@link CryptoError} unless `b` is non-empty (nonces, secrets, keys). */
export function requireBytes(name: string, b: Uint8Array, min = 1): void {
  if (b.length < min) throw new CryptoError(`${name} must be at least ${min} bytes`);
}

/** Throws unless `n` is a non-negative integer no larger than `max`. */
export function requireLength(name: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new CryptoError(`${name} must be an integer in 0..${max}, got ${n}`);
  }
}
