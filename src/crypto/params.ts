/**
 * Fixed algorithm parameters shared by every backend.
 * @module
 */

import type { AeadAlg, CipherAlg, HashAlg, MacAlg, MacContext, PrfAlg } from "./types.ts";

/** AEAD key lengths without salt (RFC 4106 §8.1, RFC 7634 §4). */
export const AEAD_KEY_LENGTH: Record<AeadAlg, number> = {
  aes128gcm16: 16,
  aes256gcm16: 32,
  chacha20poly1305: 32,
};

/** Digest lengths in bytes. */
export const HASH_LENGTH: Record<HashAlg, number> = {
  md5: 16,
  sha1: 20,
  sha256: 32,
  sha384: 48,
  sha512: 64,
};

/** The hash under each HMAC-based PRF (RFC 2104, RFC 4868 §2.1); absent for AES-XCBC. */
export const PRF_HASH: Partial<Record<PrfAlg, HashAlg>> = {
  "hmac-md5": "md5",
  "hmac-sha1": "sha1",
  "hmac-sha256": "sha256",
  "hmac-sha384": "sha384",
  "hmac-sha512": "sha512",
};

/** CBC cipher key lengths (RFC 3602 §2.4, RFC 2451 §2.2: 3DES takes three 8-byte DES keys). */
export const CIPHER_KEY_LENGTH: Record<CipherAlg, number> = {
  aes128cbc: 16,
  aes192cbc: 24,
  aes256cbc: 32,
  "3descbc": 24,
};

/** CBC block sizes, which are also the IV lengths (RFC 3602 §2.1, RFC 2451 §2.3). */
export const CIPHER_BLOCK: Record<CipherAlg, number> = {
  aes128cbc: 16,
  aes192cbc: 16,
  aes256cbc: 16,
  "3descbc": 8,
};

/** Truncated MAC parameters: key length and ICV length (RFC 2404, RFC 4868 §2.1, RFC 3566). */
export const MAC_PARAMS: Record<MacAlg, { keyLength: number; icvLength: number }> = {
  "hmac-sha1-96": { keyLength: 20, icvLength: 12 },
  "hmac-sha256-128": { keyLength: 32, icvLength: 16 },
  "hmac-sha384-192": { keyLength: 48, icvLength: 24 },
  "hmac-sha512-256": { keyLength: 64, icvLength: 32 },
  "aes-xcbc-96": { keyLength: 16, icvLength: 12 },
};

/** The hash under each HMAC-based MAC; absent for AES-XCBC. */
export const MAC_HASH: Partial<Record<MacAlg, HashAlg>> = {
  "hmac-sha1-96": "sha1",
  "hmac-sha256-128": "sha256",
  "hmac-sha384-192": "sha384",
  "hmac-sha512-256": "sha512",
};

/** PRF output lengths in bytes (also the preferred key lengths, RFC 7296 §2.13). */
export const PRF_LENGTH: Record<PrfAlg, number> = {
  "hmac-md5": 16,
  "hmac-sha1": 20,
  "hmac-sha256": 32,
  "hmac-sha384": 48,
  "hmac-sha512": 64,
  "aes-xcbc-prf128": 16,
};

/** `ctx`'s truncated MAC over all of `data`, freshly allocated (MacContext.compute). */
export function freshMac(ctx: MacContext, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(ctx.icvLength);
  ctx.computeInto(data, 0, data.length, out, 0);
  return out;
}

/**
 * Checks an in-place range `buf[offset, offset+length+trailer)` (trailer: e.g. an ICV after the
 * data); false when it does not fit `buf` or `offset`/`length` are not non-negative integers.
 */
export function rangeOk(buf: Uint8Array, offset: number, length: number, trailer = 0): boolean {
  return Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 &&
    offset + length + trailer <= buf.length;
}
