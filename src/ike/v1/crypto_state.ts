/**
 * ISAKMP payload encryption with the IV chain of RFC 2409 Appendix B: the first Phase 1 IV is
 * hash(g^xi | g^xr); each later Phase 1 message's IV is the last CBC block of the previous one;
 * a Quick Mode or Informational exchange starts from hash(last Phase 1 block | M-ID) and then
 * chains the same way inside its message ID. Functions here are pure: they return the new IV
 * and the caller commits it only once the message was accepted.
 * @module
 */

import { CIPHER_BLOCK } from "../../crypto/params.ts";
import { phase2Iv } from "../../crypto/kdf/ikev1.ts";
import type { KdfPrimitives } from "../../crypto/kdf/primitives.ts";
import type { CipherAlg, CipherContext } from "../../crypto/types.ts";
import type { IkeSa } from "../sa.ts";

/** The cipher calls made here (the crypto registry satisfies it). */
export interface CipherProvider extends KdfPrimitives {
  /** A CBC cipher context for `key`. */
  cipher(alg: CipherAlg, key: Uint8Array): CipherContext;
}

/** A decrypted body and the IV that follows it. */
export interface Decrypted {
  /** Plaintext (payload chain plus padding). */
  readonly plaintext: Uint8Array;
  /** The last ciphertext block: the next IV of the chain. */
  readonly nextIv: Uint8Array;
}

/** Why a body could not be decrypted. */
export class DecryptError extends Error {
  /** The reason. */
  constructor(message: string) {
    super(message);
    this.name = "DecryptError";
  }
}

/** Decrypts `body` (not modified) with `iv`; the length must be a positive block multiple. */
export function decryptBody(
  c: CipherProvider,
  alg: CipherAlg,
  key: Uint8Array,
  iv: Uint8Array,
  body: Uint8Array,
): Decrypted {
  const block = CIPHER_BLOCK[alg];
  if (body.length === 0 || body.length % block !== 0) {
    throw new DecryptError(`encrypted body of ${body.length} bytes is not a multiple of ${block}`);
  }
  if (iv.length !== block) throw new DecryptError(`IV of ${iv.length} bytes for ${alg}`);
  const buf = body.slice();
  const ctx = c.cipher(alg, key);
  try {
    ctx.decrypt(iv.slice(), buf, 0, buf.length);
  } finally {
    ctx.dispose();
  }
  return { plaintext: buf, nextIv: body.slice(body.length - block) };
}

/** An encrypted body and the IV that follows it. */
export interface Encrypted {
  /** Ciphertext. */
  readonly ciphertext: Uint8Array;
  /** Its last block: the next IV of the chain. */
  readonly nextIv: Uint8Array;
}

/**
 * Pads `plaintext` with zero octets to the block size (RFC 2408 §3.1: padding is zeros and not
 * counted in the payload lengths) and encrypts it with `iv`.
 */
export function encryptBody(
  c: CipherProvider,
  alg: CipherAlg,
  key: Uint8Array,
  iv: Uint8Array,
  plaintext: Uint8Array,
): Encrypted {
  const block = CIPHER_BLOCK[alg];
  const padded = new Uint8Array(Math.ceil(Math.max(plaintext.length, 1) / block) * block);
  padded.set(plaintext);
  const ctx = c.cipher(alg, key);
  try {
    ctx.encrypt(iv.slice(), padded, 0, padded.length);
  } finally {
    ctx.dispose();
  }
  return { ciphertext: padded, nextIv: padded.slice(padded.length - block) };
}

/**
 * The IV for the next message in exchange `messageId` of an established SA: the chained IV
 * when the exchange is known, else hash(last Phase 1 block | M-ID) (RFC 2409 Appendix B).
 */
export function messageIv(c: KdfPrimitives, sa: IkeSa, messageId: number): Uint8Array {
  const known = sa.messages.get(messageId);
  if (known !== undefined) return known.iv;
  if (sa.alg === undefined) throw new DecryptError("no Phase 1 algorithms");
  return phase2Iv(
    c,
    sa.alg.hash,
    sa.lastPhase1Block,
    messageId,
    CIPHER_BLOCK[sa.alg.cipher],
  );
}
