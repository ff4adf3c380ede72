/**
 * Software truncated MACs: HMAC (RFC 2104, RFC 2404, RFC 4868) with @noble/hashes, and
 * AES-XCBC (RFC 3566, RFC 4434) with @noble/ciphers AES.
 * @module
 */

import { cbc, ecb } from "@noble/ciphers/aes.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import { md5, sha1 } from "@noble/hashes/legacy.js";
import { CryptoError, type HashAlg, type MacAlg, type MacContext } from "./types.ts";
import { rangeOk } from "./params.ts";
import { checkXcbcKey, XCBC_BLOCK, XCBC_KEY_CONSTANTS, xcbcFinalBlock, xcbcSplit } from "./xcbc.ts";

/** The noble hash functions by name. */
export const HASHES = { md5, sha1, sha256, sha384, sha512 } as const satisfies Record<
  HashAlg,
  unknown
>;

const NO_PADDING = { disablePadding: true } as const;

/** Shared range checks and the allocating `compute` of both software MACs. */
abstract class SoftMac implements MacContext {
  abstract readonly alg: MacAlg;
  abstract readonly icvLength: number;
  protected disposed = false;

  /** The full (untruncated) MAC of `data`. */
  protected abstract full(data: Uint8Array): Uint8Array;

  computeInto(
    data: Uint8Array,
    offset: number,
    length: number,
    out: Uint8Array,
    outOffset: number,
  ): void {
    if (this.disposed) throw new CryptoError("MAC context disposed", this.alg);
    if (!rangeOk(data, offset, length) || !rangeOk(out, outOffset, this.icvLength)) {
      throw new CryptoError("MAC: data or output range invalid", this.alg);
    }
    const mac = this.full(data.subarray(offset, offset + length));
    out.set(mac.subarray(0, this.icvLength), outOffset);
  }

  compute(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.icvLength);
    this.computeInto(data, 0, data.length, out, 0);
    return out;
  }

  abstract dispose(): void;
}

/** HMAC with the keyed inner/outer state computed once and cloned per message. */
export class SoftHmac extends SoftMac {
  #base: ReturnType<typeof hmac.create>;

  /** Keys the context; truncation to `icvLength` follows RFC 4868 §2.3 (leftmost bytes). */
  constructor(readonly alg: MacAlg, hash: HashAlg, key: Uint8Array, readonly icvLength: number) {
    super();
    this.#base = hmac.create(HASHES[hash], key);
  }

  protected full(data: Uint8Array): Uint8Array {
    return this.#base.clone().update(data).digest();
  }

  dispose(): void {
    this.disposed = true;
    this.#base.destroy();
  }
}

/** AES-XCBC-MAC (RFC 3566 §4) with K1, K2, K3 derived once. */
export class SoftXcbc extends SoftMac {
  readonly #k1: Uint8Array;
  readonly #k2: Uint8Array;
  readonly #k3: Uint8Array;
  static readonly #zeroIv = new Uint8Array(XCBC_BLOCK);

  /** `icvLength` 12 is AES-XCBC-MAC-96; 16 the full value of AES-XCBC-PRF-128. */
  constructor(readonly alg: MacAlg, key: Uint8Array, readonly icvLength: number) {
    super();
    checkXcbcKey(key);
    // RFC 3566 §4 step 1.
    const k = ecb(key, NO_PADDING).encrypt(XCBC_KEY_CONSTANTS);
    this.#k1 = k.slice(0, 16);
    this.#k2 = k.slice(16, 32);
    this.#k3 = k.slice(32, 48);
    k.fill(0);
  }

  protected full(data: Uint8Array): Uint8Array {
    const { prefix, last } = xcbcSplit(data.length);
    // Steps 3-4: CBC-MAC under K1 (zero IV) over M[1..n-1] || M'[n]; E[n] is the last block.
    const msg = new Uint8Array(prefix + XCBC_BLOCK);
    msg.set(data.subarray(0, prefix));
    xcbcFinalBlock(data, prefix, last, this.#k2, this.#k3, msg.subarray(prefix));
    const ct = cbc(this.#k1, SoftXcbc.#zeroIv, NO_PADDING).encrypt(msg);
    return ct.subarray(prefix);
  }

  dispose(): void {
    this.disposed = true;
    this.#k1.fill(0);
    this.#k2.fill(0);
    this.#k3.fill(0);
  }
}
