/**
 * Software CBC ciphers: AES-CBC (RFC 3602) with @noble/ciphers, 3DES-CBC (RFC 2451) with
 * node:crypto (noble has no DES). In place on the caller's buffer; padding is the caller's.
 * @module
 */

import { cbc } from "@noble/ciphers/aes.js";
import { createCipheriv, createDecipheriv } from "node:crypto";
import { type CipherAlg, type CipherContext, CryptoError } from "./types.ts";
import { CIPHER_BLOCK, CIPHER_KEY_LENGTH, rangeOk } from "./params.ts";

const NO_PADDING = { disablePadding: true } as const;

/** 3DES-CBC over node:crypto: a fresh cipher object per call (the software path allocates). */
function des3(enc: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): void {
  const c = enc
    ? createCipheriv("des-ede3-cbc", key, iv)
    : createDecipheriv("des-ede3-cbc", key, iv);
  c.setAutoPadding(false);
  const out = c.update(data);
  c.final();
  data.set(out);
}

/** A software CBC context; the key is copied and wiped on dispose. */
export class SoftCbc implements CipherContext {
  readonly blockSize: number;
  #key: Uint8Array | undefined;

  /** Keys the context; `key` must have the algorithm's length. */
  constructor(readonly alg: CipherAlg, key: Uint8Array) {
    if (key.length !== CIPHER_KEY_LENGTH[alg]) {
      throw new CryptoError(`key must be ${CIPHER_KEY_LENGTH[alg]} bytes`, alg);
    }
    this.blockSize = CIPHER_BLOCK[alg];
    this.#key = key.slice();
  }

  encrypt(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    this.#run(true, iv, buf, offset, length);
  }

  decrypt(iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    this.#run(false, iv, buf, offset, length);
  }

  #run(enc: boolean, iv: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    const key = this.#key;
    if (key === undefined) throw new CryptoError("cipher context disposed", this.alg);
    if (
      iv.length !== this.blockSize || !rangeOk(buf, offset, length) ||
      length % this.blockSize !== 0
    ) {
      throw new CryptoError("CBC: IV length or buffer range invalid", this.alg);
    }
    if (length === 0) return;
    const data = buf.subarray(offset, offset + length);
    if (this.alg === "3descbc") return des3(enc, key, iv, data);
    // RFC 3602 §2.3. noble writes over its input only when the bytes are 4-byte aligned (ESP
    // payloads often are not): otherwise it returns a fresh array that is copied back.
    const c = cbc(key, iv, NO_PADDING);
    if (data.byteOffset % 4 === 0) {
      if (enc) c.encrypt(data, data);
      else c.decrypt(data, data);
    } else {
      data.set(enc ? c.encrypt(data) : c.decrypt(data));
    }
  }

  dispose(): void {
    this.#key?.fill(0);
    this.#key = undefined;
  }
}
