/**
 * AEAD contexts over libcrypto EVP (AES-GCM per RFC 4106, ChaCha20-Poly1305 per RFC 7634):
 * one native context per key, created at its first use (an SA that carries no traffic costs no
 * native memory; until then a copy of the key is kept, zeroed once the context has it); nonce,
 * AAD and data are supplied per packet. The
 * packet path allocates nothing: data is reached through reused views (buffer_views.ts) and the
 * ICV goes through a scratch buffer. The scratch buffers are shared by every context of this
 * module instance (one per thread): calls are synchronous, so no two use them at once, and an
 * SA costs no typed arrays of its own here.
 * @module
 */

import {
  EVP_CTRL_AEAD_GET_TAG,
  EVP_CTRL_AEAD_SET_TAG,
  type LibCrypto,
} from "../../hw/libcrypto.ts";
import { type AeadAlg, type AeadContext, CryptoError } from "./types.ts";
import { AEAD_KEY_LENGTH, rangeOk } from "./params.ts";
import { nativeContexts } from "./openssl_cipher.ts";
import { viewFrom } from "./buffer_views.ts";

const ICV = 16;
const NONCE = 12;

/** Output length of EVP_CipherUpdate/Final (int). */
const OUTL = new Uint8Array(4);
/** EVP_CipherFinal_ex's output (nothing for an AEAD, but it needs room). */
const SCRATCH = new Uint8Array(32);
/** The tag on its way to or from the context. */
const TAG = new Uint8Array(ICV);

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
  #ctx: Deno.PointerValue = null;
  /** The key until the native context is made (then zeroed and dropped) or disposed. */
  #key: Uint8Array | undefined;

  /** `key` must have the algorithm's length (libcrypto reads that many bytes). */
  constructor(private readonly c: LibCrypto, readonly alg: AeadAlg, key: Uint8Array) {
    if (key.length !== AEAD_KEY_LENGTH[alg]) {
      throw new CryptoError(`key must be ${AEAD_KEY_LENGTH[alg]} bytes`, alg);
    }
    this.#key = key.slice();
  }

  /** The native context, made and keyed on first use; null when disposed or refused. */
  #context(): Deno.PointerValue {
    const key = this.#key;
    if (this.#ctx !== null || key === undefined) return this.#ctx;
    const c = this.c;
    const ctx = c.EVP_CIPHER_CTX_new();
    if (ctx === null) return null;
    // The 12-byte nonce is the default IV length for all three ciphers (RFC 4106 §4, RFC 7634 §2).
    if (c.EVP_CipherInit_ex(ctx, cipherFor(c, this.alg), null, key, null, 1) !== 1) {
      c.EVP_CIPHER_CTX_free(ctx);
      return null;
    }
    nativeContexts.live++;
    key.fill(0);
    this.#key = undefined;
    this.#ctx = ctx;
    return ctx;
  }

  #start(ctx: Deno.PointerValue, nonce: Uint8Array, aad: Uint8Array, enc: number): boolean {
    const c = this.c;
    if (c.EVP_CipherInit_ex(ctx, null, null, null, nonce, enc) !== 1) return false;
    return aad.length === 0 ||
      c.EVP_CipherUpdate(ctx, null, OUTL, aad, aad.length) === 1;
  }

  seal(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    // Native code writes length + ICV bytes and reads NONCE bytes: check both before any call.
    if (nonce.length !== NONCE || !rangeOk(buf, offset, length, ICV)) {
      throw new CryptoError("AEAD seal: nonce or buffer range invalid", this.alg);
    }
    const ctx = this.#context();
    if (ctx === null) throw new CryptoError("AEAD context disposed or not keyed", this.alg);
    const c = this.c;
    const data = viewFrom(buf, offset);
    const tag = TAG;
    const ok = this.#start(ctx, nonce, aad, 1) &&
      (length === 0 || c.EVP_CipherUpdate(ctx, data, OUTL, data, length) === 1) &&
      c.EVP_CipherFinal_ex(ctx, SCRATCH, OUTL) === 1 &&
      c.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, ICV, tag) === 1;
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
    if (nonce.length !== NONCE || !rangeOk(buf, offset, length, ICV)) return false;
    const ctx = this.#context();
    if (ctx === null) return false;
    const c = this.c;
    const data = viewFrom(buf, offset);
    const tag = TAG;
    const at = offset + length;
    for (let i = 0; i < ICV; i++) tag[i] = buf[at + i]!;
    return this.#start(ctx, nonce, aad, 0) &&
      (length === 0 || c.EVP_CipherUpdate(ctx, data, OUTL, data, length) === 1) &&
      c.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, ICV, tag) === 1 &&
      c.EVP_CipherFinal_ex(ctx, SCRATCH, OUTL) === 1;
  }

  dispose(): void {
    if (this.#ctx !== null) {
      this.c.EVP_CIPHER_CTX_free(this.#ctx);
      nativeContexts.live--;
    }
    this.#ctx = null;
    this.#key?.fill(0);
    this.#key = undefined;
  }
}
