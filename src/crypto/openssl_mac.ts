/**
 * Truncated-MAC contexts over libcrypto: HMAC through EVP_MAC (RFC 2104, RFC 2404, RFC 4868)
 * and AES-XCBC (RFC 3566, RFC 4434) through an AES-128-CBC context. One native context per key,
 * created once; per packet the context is re-initialised with the stored key, fed, finalised.
 * @module
 */

import { type LibCrypto, withUtf8Params } from "../../hw/libcrypto.ts";
import { CryptoError, type HashAlg, type MacAlg, type MacContext } from "./types.ts";
import { HASH_LENGTH, rangeOk } from "./params.ts";
import { checkXcbcKey, XCBC_BLOCK, XCBC_KEY_CONSTANTS, xcbcFinalBlock, xcbcSplit } from "./xcbc.ts";
import { newKeyedCtx } from "./openssl_cipher.ts";
import { sizeArg, viewFrom } from "./buffer_views.ts";

const DIGEST_NAME: Record<HashAlg, string> = {
  md5: "MD5",
  sha1: "SHA1",
  sha256: "SHA256",
  sha384: "SHA384",
  sha512: "SHA512",
};
const MAX_DIGEST = 64;

/** Checks a computeInto call's input and output ranges. */
function checkRanges(
  alg: string,
  data: Uint8Array,
  offset: number,
  length: number,
  out: Uint8Array,
  outOffset: number,
  icvLength: number,
): void {
  if (!rangeOk(data, offset, length) || !rangeOk(out, outOffset, icvLength)) {
    throw new CryptoError("MAC: data or output range invalid", alg);
  }
}

/** HMAC over EVP_MAC with the key set once (EVP_MAC_init with a NULL key re-uses it). */
export class EvpHmac implements MacContext {
  #ctx: Deno.PointerValue;
  readonly #digest = new Uint8Array(MAX_DIGEST);
  readonly #outl = new Uint8Array(8);

  /**
   * `mac` is the fetched EVP_MAC "HMAC"; `icvLength` the truncation (RFC 4868 §2.3: the
   * leftmost bits); `alg` names it in errors.
   */
  constructor(
    private readonly c: LibCrypto,
    mac: Deno.PointerValue,
    readonly alg: MacAlg,
    hash: HashAlg,
    key: Uint8Array,
    readonly icvLength: number,
  ) {
    if (icvLength > HASH_LENGTH[hash]) throw new CryptoError("ICV longer than the digest", alg);
    const ctx = c.EVP_MAC_CTX_new(mac);
    if (ctx === null) throw new CryptoError("EVP_MAC_CTX_new failed", alg);
    // A zero-length key must still be a non-NULL pointer for OpenSSL 3.
    const k = key.length > 0 ? key : new Uint8Array(1);
    const ok = withUtf8Params(
      c,
      "digest",
      DIGEST_NAME[hash],
      (params) => c.EVP_MAC_init(ctx, k, BigInt(key.length), params) === 1,
    );
    if (!ok) {
      c.EVP_MAC_CTX_free(ctx);
      throw new CryptoError("EVP_MAC_init (key) failed", alg);
    }
    this.#ctx = ctx;
  }

  computeInto(
    data: Uint8Array,
    offset: number,
    length: number,
    out: Uint8Array,
    outOffset: number,
  ): void {
    const ctx = this.#ctx;
    if (ctx === null) throw new CryptoError("MAC context disposed", this.alg);
    checkRanges(this.alg, data, offset, length, out, outOffset, this.icvLength);
    const c = this.c;
    const ok = c.EVP_MAC_init(ctx, null, 0n, null) === 1 &&
      (length === 0 ||
        c.EVP_MAC_update(ctx, viewFrom(data, offset), sizeArg(length)) === 1) &&
      c.EVP_MAC_final(ctx, this.#digest, this.#outl, sizeArg(MAX_DIGEST)) === 1;
    if (!ok) throw new CryptoError("HMAC failed", this.alg);
    for (let i = 0; i < this.icvLength; i++) out[outOffset + i] = this.#digest[i]!;
  }

  compute(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.icvLength);
    this.computeInto(data, 0, data.length, out, 0);
    return out;
  }

  dispose(): void {
    if (this.#ctx !== null) this.c.EVP_MAC_CTX_free(this.#ctx);
    this.#ctx = null;
    this.#digest.fill(0);
  }
}

/** Bytes of M[1..n-1] encrypted per EVP call into the (discarded) scratch output. */
const XCBC_CHUNK = 2048;

/**
 * AES-XCBC-MAC (RFC 3566 §4): K1, K2, K3 derived once with AES-ECB under K; per message one
 * AES-128-CBC pass under K1 with a zero IV whose last output block is the full 128-bit MAC.
 * `icvLength` 12 gives AES-XCBC-MAC-96, 16 the untruncated value AES-XCBC-PRF-128 uses.
 */
export class EvpXcbc implements MacContext {
  #ctx: Deno.PointerValue;
  readonly #k2 = new Uint8Array(XCBC_BLOCK);
  readonly #k3 = new Uint8Array(XCBC_BLOCK);
  readonly #iv = new Uint8Array(XCBC_BLOCK);
  readonly #block = new Uint8Array(XCBC_BLOCK);
  readonly #scratch = new Uint8Array(XCBC_CHUNK);
  readonly #outl = new Uint8Array(4);

  /** Derives the subkeys from the 16-byte key `key`. */
  constructor(
    private readonly c: LibCrypto,
    readonly alg: MacAlg,
    key: Uint8Array,
    readonly icvLength: number,
  ) {
    checkXcbcKey(key);
    const ecb = newKeyedCtx(c, c.EVP_aes_128_ecb(), key, 1, alg);
    const k123 = new Uint8Array(XCBC_KEY_CONSTANTS.length);
    try {
      // RFC 3566 §4 step 1: K1|K2|K3 = E_K(0x01…)|E_K(0x02…)|E_K(0x03…).
      if (c.EVP_CipherUpdate(ecb, k123, this.#outl, XCBC_KEY_CONSTANTS, k123.length) !== 1) {
        throw new CryptoError("AES-XCBC key derivation failed", alg);
      }
    } finally {
      c.EVP_CIPHER_CTX_free(ecb);
    }
    this.#k2.set(k123.subarray(16, 32));
    this.#k3.set(k123.subarray(32, 48));
    try {
      this.#ctx = newKeyedCtx(c, c.EVP_aes_128_cbc(), k123.subarray(0, 16), 1, alg);
    } finally {
      k123.fill(0);
    }
  }

  computeInto(
    data: Uint8Array,
    offset: number,
    length: number,
    out: Uint8Array,
    outOffset: number,
  ): void {
    const ctx = this.#ctx;
    if (ctx === null) throw new CryptoError("MAC context disposed", this.alg);
    checkRanges(this.alg, data, offset, length, out, outOffset, this.icvLength);
    const c = this.c;
    const { prefix, last } = xcbcSplit(length);
    let ok = c.EVP_CipherInit_ex(ctx, null, null, null, this.#iv, 1) === 1;
    // RFC 3566 §4 step 3: CBC over M[1..n-1]; only the chaining state matters.
    for (let done = 0; ok && done < prefix; done += XCBC_CHUNK) {
      const n = Math.min(XCBC_CHUNK, prefix - done);
      const chunk = viewFrom(data, offset + done);
      ok = c.EVP_CipherUpdate(ctx, this.#scratch, this.#outl, chunk, n) === 1;
    }
    // Step 4: the last block with K2 or 10*-padding and K3, then one more CBC step.
    xcbcFinalBlock(data, offset + prefix, last, this.#k2, this.#k3, this.#block);
    ok = ok &&
      c.EVP_CipherUpdate(ctx, this.#block, this.#outl, this.#block, XCBC_BLOCK) === 1;
    if (!ok) throw new CryptoError("AES-XCBC failed", this.alg);
    // Step 5 (MAC-96) or RFC 4434 §2 (PRF, no truncation).
    for (let i = 0; i < this.icvLength; i++) out[outOffset + i] = this.#block[i]!;
  }

  compute(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.icvLength);
    this.computeInto(data, 0, data.length, out, 0);
    return out;
  }

  dispose(): void {
    if (this.#ctx !== null) this.c.EVP_CIPHER_CTX_free(this.#ctx);
    this.#ctx = null;
    this.#k2.fill(0);
    this.#k3.fill(0);
    this.#block.fill(0);
  }
}
