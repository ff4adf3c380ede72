/**
 * The libcrypto backend (OpenSSL 3 EVP through FFI): AEADs, HMAC PRFs, hashes, random bytes.
 * One native cipher context per key, created once (the packet path reuses it).
 * CBC ciphers, truncated MACs and DH are not offered by this backend yet (`supports` says so).
 * @module
 */

import {
  EVP_CTRL_AEAD_GET_TAG,
  EVP_CTRL_AEAD_SET_TAG,
  type LibCrypto,
  openLibCrypto,
} from "../../hw/libcrypto.ts";
import {
  type AeadAlg,
  type AeadContext,
  type AlgorithmName,
  type CryptoBackend,
  CryptoError,
  type HashAlg,
  type PrfAlg,
} from "./types.ts";
import { AEAD_KEY_LENGTH, HASH_LENGTH, PRF_HASH } from "./params.ts";

const ICV = 16;
const EMPTY_KEY = new Uint8Array(1);

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

function mdFor(c: LibCrypto, alg: HashAlg): Deno.PointerValue {
  switch (alg) {
    case "md5":
      return c.EVP_md5();
    case "sha1":
      return c.EVP_sha1();
    case "sha256":
      return c.EVP_sha256();
    case "sha384":
      return c.EVP_sha384();
    case "sha512":
      return c.EVP_sha512();
  }
}

/** An EVP AEAD context keyed once; nonce, AAD and data are supplied per packet. */
class EvpAead implements AeadContext {
  readonly icvLength = ICV;
  #ctx: Deno.PointerValue;
  readonly #outl = new Uint8Array(4);
  readonly #scratch = new Uint8Array(32);

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
    const c = this.c;
    const data = buf.subarray(offset, offset + length);
    const tag = buf.subarray(offset + length, offset + length + ICV);
    const ok = this.#start(nonce, aad, 1) &&
      (length === 0 || c.EVP_CipherUpdate(this.#ctx, data, this.#outl, data, length) === 1) &&
      c.EVP_CipherFinal_ex(this.#ctx, this.#scratch, this.#outl) === 1 &&
      c.EVP_CIPHER_CTX_ctrl(this.#ctx, EVP_CTRL_AEAD_GET_TAG, ICV, tag) === 1;
    if (!ok) throw new CryptoError("AEAD seal failed", this.alg);
  }

  open(
    nonce: Uint8Array,
    aad: Uint8Array,
    buf: Uint8Array,
    offset: number,
    length: number,
  ): boolean {
    if (offset < 0 || length < 0 || offset + length + ICV > buf.length || nonce.length !== 12) {
      return false;
    }
    const c = this.c;
    const data = buf.subarray(offset, offset + length);
    const tag = buf.subarray(offset + length, offset + length + ICV);
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

/** Creates the libcrypto backend, or undefined when libcrypto cannot be opened. */
export function createOpenSslBackend(): CryptoBackend | undefined {
  const c = openLibCrypto();
  if (c === undefined) return undefined;
  const lenBuf = new Uint8Array(4);
  const hash = (alg: HashAlg, data: Uint8Array): Uint8Array => {
    const out = new Uint8Array(HASH_LENGTH[alg]);
    if (c.EVP_Digest(data, BigInt(data.length), out, lenBuf, mdFor(c, alg), null) !== 1) {
      throw new CryptoError("EVP_Digest failed", alg);
    }
    return out;
  };
  const prf = (alg: PrfAlg, key: Uint8Array, data: Uint8Array): Uint8Array | undefined => {
    const md = PRF_HASH[alg];
    if (md === undefined) return undefined;
    const out = new Uint8Array(HASH_LENGTH[md]);
    // RFC 2104: HMAC(K, text); OpenSSL hashes keys longer than the block size itself.
    // An empty key must still be a non-NULL pointer, or OpenSSL 3 refuses it.
    const k = key.length > 0 ? key : EMPTY_KEY;
    const r = c.HMAC(mdFor(c, md), k, key.length, data, BigInt(data.length), out, lenBuf);
    if (r === null) throw new CryptoError("HMAC failed", alg);
    return out;
  };
  return {
    name: "libcrypto",
    supports: (alg: AlgorithmName) =>
      alg.startsWith("aead:") || (alg.startsWith("prf:hmac-")) || alg.startsWith("hash:") ||
      alg === "random",
    aead: (alg, key) => {
      if (key.length !== AEAD_KEY_LENGTH[alg]) {
        throw new CryptoError(`key must be ${AEAD_KEY_LENGTH[alg]} bytes`, alg);
      }
      return new EvpAead(c, alg, key);
    },
    cipher: () => undefined,
    mac: () => undefined,
    prf,
    hash,
    dh: () => undefined,
    randomBytes: (n) => {
      const out = new Uint8Array(n);
      if (n > 0 && c.RAND_bytes(out, n) !== 1) throw new CryptoError("RAND_bytes failed");
      return out;
    },
    close: () => {},
  };
}
