/**
 * Fixed algorithm parameters shared by every backend.
 * @module
 */

import type { AeadAlg, HashAlg, PrfAlg } from "./types.ts";

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
