/**
 * AEAD contexts over libcrypto EVP (AES-GCM per RFC 4106, ChaCha20-Poly1305 per RFC 7634):
 * one native context per key, created once; nonce, AAD and data are supplied per packet. The
 * packet path allocates nothing: data is reached through reused views (buffer_views.ts) and the
 * ICV goes through a scratch buffer.
 * @module
 */

import {
  EVP_CTRL_AEAD_GET_TAG,
  EVP_CTRL_AEAD_SET_TAG,
  type LibCrypto,
} from "../../hw/libcrypto.ts";
import { type AeadAlg, type AeadContext, CryptoError } from "./types.ts";
import { rangeOk } from "./params.ts";
import { viewFrom } from "./buffer_views.ts";

const ICV = 16;
const NONCE = 12;

function cipherFor(c: LibCrypto, alg: AeadAlg): Deno.PointerValue {
  switch (alg) {
    case "aes128gcm16":
      return c.EVP_aes_128_gcm();
    case "aes256gcm16":
      return c.EVP_aes_256_gcm();
    case "chacha20poly1305":
      return c.EVP_chacha20_poly1305();
  }
}

/** An EVP AEAD context keyed once; nonce, AAD and data are supplied per packet. */
export class EvpAead implements AeadContext {
  readonly icvLength = ICV;
  #ctx: Deno.PointerValue;
  readonly #outl = new Uint8Array(4);
  readonly #scratch = new Uint8Array(32);
  readonly #tag = new Uint8Array(ICV);

  constructor(private readonly c: LibCrypto, readonly alg: AeadAlg, key: Uint8Array) {
    const ctx = c.EVP_CIPHER_CTX_new();
    if (ctx === null) throw new CryptoError("EVP_CIPHER_CTX_new failed", alg);
    // The 12-byte nonce is the default IV length for all three ciphers (RFC 4106 §4, RFC 7634 §2).
    if (c.EVP_CipherInit_ex(ctx, cipherFor(c, alg), null, key, null, 1) !== 1) {
      c.EVP_CIPHER_CTX_free(ctx);
      throw new CryptoError("EVP_CipherInit_ex (key) failed", alg);
    }
    this.#ctx = ctx;
  }

  #start(nonce: Uint8Array, aad: Uint8Array, enc: number): boolean {
    const c = this.c;
    if (c.EVP_CipherInit_ex(this.#ctx, null, null, null, nonce, enc) !== 1) return false;
    return aad.length === 0 ||
      c.EVP_CipherUpdate(this.#ctx, null, this.#outl, aad, aad.length) === 1;
  }

  seal(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    // Native code writes length + ICV bytes and reads NONCE bytes: check both before any call.
    if (this.#ctx === null) throw new CryptoError("AEAD context disposed", this.alg);
    if (nonce.length !== NONCE || !rangeOk(buf, offset, length, ICV)) {
      throw new CryptoError("AEAD seal: nonce or buffer range invalid", this.alg);
    }
    const c = this.c;
    const data = viewFrom(buf, offset);
    const tag = this.#tag;
    const ok = this.#start(nonce, aad, 1) &&
      (length === 0 || c.EVP_CipherUpdate(this.#ctx, data, this.#outl, data, length) === 1) &&
      c.EVP_CipherFinal_ex(this.#ctx, this.#scratch, this.#outl) === 1 &&
      c.EVP_CIPHER_CTX_ctrl(this.#ctx, EVP_CTRL_AEAD_GET_TAG, ICV, tag) === 1;
    if (!ok) throw new CryptoError("AEAD seal failed", this.alg);
    const at = offset + length;
    for (let i = 0; i < ICV; i++) buf[at + i] = tag[i]!;
  }

  open(
    nonce: Uint8Array,
    aad: Uint8Array,
    buf: Uint8Array,
    offset: number,
    length: number,
  ): boolean {
    if (this.#ctx === null || nonce.length !== NONCE || !rangeOk(buf, offset, length, ICV)) {
      return false;
    }
    const c = this.c;
    const data = viewFrom(buf, offset);
    const tag = this.#tag;
    const at = offset + length;
    for (let i = 0; i < ICV; i++) tag[i] = buf[at + i]!;
    return this.#start(nonce, aad, 0) &&
      (length === 0 || c.EVP_CipherUpdate(this.#ctx, data, this.#outl, data, length) === 1) &&
      c.EVP_CIPHER_CTX_ctrl(this.#ctx, EVP_CTRL_AEAD_SET_TAG, ICV, tag) === 1 &&
      c.EVP_CipherFinal_ex(this.#ctx, this.#scratch, this.#outl) === 1;
  }

  dispose(): void {
    if (this.#ctx !== null) this.c.EVP_CIPHER_CTX_free(this.#ctx);
    this.#ctx = null;
  }
}
