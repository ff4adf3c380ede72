/**
 * Ed25519 (RFC 8032 §5.1) for update bundles, through `@noble/curves`. Verification is strict:
 * S must be reduced (RFC 8032 §5.1.7 step 1), and small-order public keys and R values are
 * refused, so a signature cannot be malleated or made to verify for every message.
 * Never throws on bad input: wrong lengths and undecodable points simply do not verify.
 * @module
 */

import { ed25519 } from "@noble/curves/ed25519.js";

/** Length of a secret key (the RFC 8032 32-byte seed). */
export const SECRET_KEY_LENGTH = 32;
/** Length of an encoded public key. */
export const PUBLIC_KEY_LENGTH = 32;
/** Length of a signature (R || S). */
export const SIGNATURE_LENGTH = 64;

/** An Ed25519 key pair. `secretKey` is the 32-byte seed and must never be logged. */
export interface Ed25519KeyPair {
  /** RFC 8032 private key (32 bytes). */
  readonly secretKey: Uint8Array;
  /** Encoded public key A (32 bytes). */
  readonly publicKey: Uint8Array;
}

/** A fresh key pair from the system's secure random source. */
export function generateKeyPair(): Ed25519KeyPair {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** The public key of a 32-byte secret key (RFC 8032 §5.1.5); undefined for a wrong length. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array | undefined {
  if (secretKey.length !== SECRET_KEY_LENGTH) return undefined;
  return ed25519.getPublicKey(secretKey);
}

/** Signs `message` (RFC 8032 §5.1.6). Throws only for a secret key of the wrong length. */
export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  if (secretKey.length !== SECRET_KEY_LENGTH) {
    throw new RangeError(`Ed25519 secret key must be ${SECRET_KEY_LENGTH} bytes`);
  }
  return ed25519.sign(message, secretKey);
}

/** True when `publicKey` decodes to a point of large order (usable as a signer's key). */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  try {
    const p = ed25519.Point.fromBytes(publicKey, false);
    return !p.isSmallOrder();
  } catch {
    return false;
  }
}

/** Verifies `signature` over `message` by `publicKey` (RFC 8032 §5.1.7, strict). */
export function verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) {
    return false;
  }
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
