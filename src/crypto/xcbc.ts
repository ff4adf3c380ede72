/**
 * AES-XCBC-MAC (RFC 3566) and AES-XCBC-PRF-128 (RFC 4434) on top of any AES-128 primitive.
 *
 * RFC 3566 §4 steps (3)-(4) are a CBC-MAC with key K1 and a zero IV whose last block is first
 * XORed with K2 (complete block) or padded with 10* and XORed with K3 (partial or empty block).
 * So XCBC(M) = last block of AES-128-CBC(K1, IV=0, M[1..n-1] || M'[n]) with
 * M'[n] = M[n] ^ K2 or pad(M[n]) ^ K3; each backend only supplies that CBC step.
 * @module
 */

import { CryptoError } from "./types.ts";

/** AES block size and the XCBC key length in bytes. */
export const XCBC_BLOCK = 16;

/** The 48 bytes 0x01×16 | 0x02×16 | 0x03×16 whose AES-ECB encryption under K gives K1|K2|K3. */
export const XCBC_KEY_CONSTANTS: Uint8Array = Uint8Array.from(
  { length: 48 },
  (_, i) => (i >> 4) + 1,
);

/** Splits M into its prefix M[1..n-1] (whole blocks) and the length of the last block M[n]. */
export function xcbcSplit(length: number): { prefix: number; last: number } {
  // RFC 3566 §4 NOTE1: the empty message is one padded block.
  if (length === 0) return { prefix: 0, last: 0 };
  const last = length % XCBC_BLOCK === 0 ? XCBC_BLOCK : length % XCBC_BLOCK;
  return { prefix: length - last, last };
}

/**
 * Writes M'[n] into `out[0..16)`: the last block XORed with K2 when complete, else padded with
 * a single 1 bit and zeros and XORed with K3 (RFC 3566 §4 step 4).
 */
export function xcbcFinalBlock(
  data: Uint8Array,
  offset: number,
  lastLength: number,
  k2: Uint8Array,
  k3: Uint8Array,
  out: Uint8Array,
): void {
  const k = lastLength === XCBC_BLOCK ? k2 : k3;
  for (let i = 0; i < XCBC_BLOCK; i++) {
    const m = i < lastLength ? data[offset + i]! : i === lastLength ? 0x80 : 0;
    out[i] = m ^ k[i]!;
  }
}

/**
 * The AES-XCBC-PRF-128 key (RFC 4434 §2): 16 bytes as-is, shorter keys zero-padded on the
 * right, longer keys replaced by AES-XCBC-PRF-128 with the all-zero key over the long key.
 */
export function xcbcPrfKey(
  key: Uint8Array,
  mac128: (key16: Uint8Array, data: Uint8Array) => Uint8Array,
): Uint8Array {
  if (key.length === XCBC_BLOCK) return key;
  if (key.length < XCBC_BLOCK) {
    const k = new Uint8Array(XCBC_BLOCK);
    k.set(key);
    return k;
  }
  return mac128(new Uint8Array(XCBC_BLOCK), key);
}

/** Checks the fixed AES-XCBC-MAC-96 key length (RFC 3566 §4.1: only 128-bit keys). */
export function checkXcbcKey(key: Uint8Array): void {
  if (key.length !== XCBC_BLOCK) throw new CryptoError("AES-XCBC key must be 16 bytes", "aes-xcbc");
}
