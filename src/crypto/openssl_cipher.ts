/**
 * CBC cipher contexts over libcrypto EVP: AES-CBC (RFC 3602) and 3DES-CBC (RFC 2451).
 * Up to two native contexts per key (AES needs separate encryption and decryption key
 * schedules), each made at its direction's first use (an ESP SA works in one direction only, an
 * idle one in none); per packet only the IV is reset. Padding is the caller's (ESP's) business, so
 * EVP padding is off and lengths must be whole blocks.
 * @module
 */

import type { LibCrypto } from "../../hw/libcrypto.ts";
import { type CipherAlg, type CipherContext, CryptoError } from "./types.ts";
import { CIPHER_BLOCK, CIPHER_KEY_LENGTH, rangeOk } from "./params.ts";
import { viewFrom } from "./buffer_views.ts";

/** Native EVP_CIPHER_CTXs of the packet-path contexts alive in this thread (leak checks). */
export const nativeContexts = { live: 0 };

function evpCipher(c: LibCrypto, alg: CipherAlg): Deno.PointerValue {
  switch (alg) {
    case "aes128cbc":
      return c.EVP_aes_128_cbc();
    case "aes192cbc":
      return c.EVP_aes_192_cbc();
    case "aes256cbc":
      return c.EVP_aes_256_cbc();
    case "3descbc":
      return c.EVP_des_ede3_cbc();
  }
}

/**
 * A native EVP_CIPHER_CTX keyed once for one direction, padding off. Throws (after freeing what
 * it made) when libcrypto refuses. `cipher` is an EVP_CIPHER such as EVP_aes_128_cbc().
 */
export function newKeyedCtx(
  c: LibCrypto,
  cipher: Deno.PointerValue,
  key: Uint8Array,
  enc: 0 | 1,
  alg: string,
): Deno.PointerValue {
  const ctx = c.EVP_CIPHER_CTX_new();
  if (ctx === null) throw new CryptoError("EVP_CIPHER_CTX_new failed", alg);
  if (
    c.EVP_CipherInit_ex(ctx, cipher, null, key, null, enc) !== 1 ||
    c.EVP_CIPHER_CTX_set_padding(ctx, 0) !== 1
  ) {
    c.EVP_CIPHER_CTX_free(ctx);
    throw new CryptoError("EVP_CipherInit_ex (key) failed", alg);
  }
  return ctx;
}

/** EVP_CipherUpdate's output length, shared by every context of this thread (calls are synchronous). */
const OUTL = new Uint8Array(4);

/** An EVP CBC context pair: encryption and decryption in place on caller-owned buffers. */
export class EvpCbc implements CipherContext {
  readonly blockSize: number;
  #enc: Deno.PointerValue = null;
  #dec: Deno.PointerValue = null;
  /** The key while a direction may still need a context (zeroed then); undefined once disposed. */
  #key: Uint8Array | undefined;

  /** `key` must have the algorithm's length; the contexts are keyed on first use. */
  constructor(private readonly c: LibCrypto, readonly alg: CipherAlg, key: Uint8Array) {
    if (key.length !== CIPHER_KEY_LENGTH[alg]) {
      throw new CryptoError(`key must be ${CIPHER_KEY_LENGTH[alg]} bytes`, alg);
    }
    this.blockSize = CIPHER_BLOCK[alg];
    this.#key = key.slice();
  }

  /** The context of one direction, made on first use (throws when disposed or refused). */
  #context(enc: 0 | 1): Deno.PointerValue {
    const have = enc === 1 ? this.#enc : this.#dec;
    if (have !== null) return have;
    const key = this.#key;
    if (key === undefined) throw new CryptoError("cipher context disposed", this.alg);
    const ctx = newKeyedCtx(this.c, evpCipher(this.c, this.alg), key, enc, this.alg);
    nativeContexts.live++;
    if (enc === 1) this.#enc = ctx;
    else this.#dec = ctx;
    if (this.#enc !== null && this.#dec !== null) {
      key.fill(0);
      this.#key = undefined;
    }
    return ctx;
  }

  encrypt(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    this.#run(1, iv, buf, offset, length);
  }

  decrypt(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    this.#run(0, iv, buf, offset, length);
  }

  #run(
    enc: 0 | 1,
    iv: Uint8Array,
    buf: Uint8Array,
    offset: number,
    length: number,
  ): void {
    // libcrypto reads blockSize IV bytes and rewrites `length` bytes: validate before calling.
    if (this.#key === undefined && this.#enc === null && this.#dec === null) {
      throw new CryptoError("cipher context disposed", this.alg);
    }
    if (
      iv.length !== this.blockSize || !rangeOk(buf, offset, length) ||
      length % this.blockSize !== 0
    ) {
      throw new CryptoError("CBC: IV length or buffer range invalid", this.alg);
    }
    if (length === 0) return;
    const ctx = this.#context(enc);
    const c = this.c;
    const data = viewFrom(buf, offset); // reused: no allocation per packet
    // RFC 3602 §2.3: a fresh IV per packet; EVP padding stays off (ESP pads, RFC 4303 §2.4).
    const ok = c.EVP_CipherInit_ex(ctx, null, null, null, iv, enc) === 1 &&
      c.EVP_CipherUpdate(ctx, data, OUTL, data, length) === 1;
    if (!ok) throw new CryptoError("EVP CBC operation failed", this.alg);
  }

  dispose(): void {
    for (const ctx of [this.#enc, this.#dec]) {
      if (ctx === null) continue;
      this.c.EVP_CIPHER_CTX_free(ctx);
      nativeContexts.live--;
    }
    this.#enc = null;
    this.#dec = null;
    this.#key?.fill(0);
    this.#key = undefined;
  }
}
