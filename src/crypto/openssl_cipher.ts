/**
 * CBC cipher contexts over libcrypto EVP: AES-CBC (RFC 3602) and 3DES-CBC (RFC 2451).
 * Two native contexts per key (AES needs separate encryption and decryption key schedules),
 * created once; per packet only the IV is reset. Padding is the caller's (ESP's) business, so
 * EVP padding is off and lengths must be whole blocks.
 * @module
 */

import type { LibCrypto } from "../../hw/libcrypto.ts";
import { type CipherAlg, type CipherContext, CryptoError } from "./types.ts";
import { CIPHER_BLOCK, CIPHER_KEY_LENGTH, rangeOk } from "./params.ts";
import { viewFrom } from "./buffer_views.ts";

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

/** An EVP CBC context pair: encryption and decryption in place on caller-owned buffers. */
export class EvpCbc implements CipherContext {
  readonly blockSize: number;
  #enc: Deno.PointerValue;
  #dec: Deno.PointerValue;
  readonly #outl = new Uint8Array(4);

  /** Keys both directions; `key` must have the algorithm's length. */
  constructor(private readonly c: LibCrypto, readonly alg: CipherAlg, key: Uint8Array) {
    if (key.length !== CIPHER_KEY_LENGTH[alg]) {
      throw new CryptoError(`key must be ${CIPHER_KEY_LENGTH[alg]} bytes`, alg);
    }
    this.blockSize = CIPHER_BLOCK[alg];
    const cipher = evpCipher(c, alg);
    this.#enc = newKeyedCtx(c, cipher, key, 1, alg);
    try {
      this.#dec = newKeyedCtx(c, cipher, key, 0, alg);
    } catch (e) {
      c.EVP_CIPHER_CTX_free(this.#enc);
      throw e;
    }
  }

  encrypt(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    this.#run(this.#enc, 1, iv, buf, offset, length);
  }

  decrypt(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    this.#run(this.#dec, 0, iv, buf, offset, length);
  }

  #run(
    ctx: Deno.PointerValue,
    enc: 0 | 1,
    iv: Uint8Array,
    buf: Uint8Array,
    offset: number,
    length: number,
  ): void {
    // libcrypto reads blockSize IV bytes and rewrites `length` bytes: validate before calling.
    if (ctx === null) throw new CryptoError("cipher context disposed", this.alg);
    if (
      iv.length !== this.blockSize || !rangeOk(buf, offset, length) ||
      length % this.blockSize !== 0
    ) {
      throw new CryptoError("CBC: IV length or buffer range invalid", this.alg);
    }
    if (length === 0) return;
    const c = this.c;
    const data = viewFrom(buf, offset); // reused: no allocation per packet
    // RFC 3602 §2.3: a fresh IV per packet; EVP padding stays off (ESP pads, RFC 4303 §2.4).
    const ok = c.EVP_CipherInit_ex(ctx, null, null, null, iv, enc) === 1 &&
      c.EVP_CipherUpdate(ctx, data, this.#outl, data, length) === 1;
    if (!ok) throw new CryptoError("EVP CBC operation failed", this.alg);
  }

  dispose(): void {
    if (this.#enc !== null) this.c.EVP_CIPHER_CTX_free(this.#enc);
    if (this.#dec !== null) this.c.EVP_CIPHER_CTX_free(this.#dec);
    this.#enc = null;
    this.#dec = null;
  }
}
