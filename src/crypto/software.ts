/**
 * The portable software backend (@noble/ciphers, @noble/hashes): used where libcrypto is
 * missing, and as the second implementation every known-answer test runs against.
 * CBC ciphers, truncated MACs and DH are not offered yet (`supports` says so).
 * @module
 */

import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256, sha384, sha512 } from "@noble/hashes/sha2.js";
import { md5, sha1 } from "@noble/hashes/legacy.js";
import {
  type AeadAlg,
  type AeadContext,
  type AlgorithmName,
  type CryptoBackend,
  CryptoError,
  type HashAlg,
} from "./types.ts";
import { AEAD_KEY_LENGTH, PRF_HASH } from "./params.ts";

const HASHES = { md5, sha1, sha256, sha384, sha512 } as const satisfies Record<HashAlg, unknown>;
const ICV = 16;

function makeCipher(alg: AeadAlg, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) {
  const a = aad.length > 0 ? aad : undefined;
  return alg === "chacha20poly1305" ? chacha20poly1305(key, nonce, a) : gcm(key, nonce, a);
}

/** Software AEAD: noble returns new arrays, copied back into the caller's buffer. */
class SoftAead implements AeadContext {
  readonly icvLength = ICV;
  #key: Uint8Array;

  constructor(readonly alg: AeadAlg, key: Uint8Array) {
    this.#key = key.slice();
  }

  seal(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    const sealed = makeCipher(this.alg, this.#key, nonce, aad).encrypt(
      buf.subarray(offset, offset + length),
    );
    buf.set(sealed, offset); // ciphertext followed by the 16-byte tag
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
    try {
      const plain = makeCipher(this.alg, this.#key, nonce, aad).decrypt(
        buf.subarray(offset, offset + length + ICV),
      );
      buf.set(plain, offset);
      return true;
    } catch {
      return false; // tag mismatch
    }
  }

  dispose(): void {
    this.#key.fill(0);
  }
}

/** Creates the software backend (always available). */
export function createSoftwareBackend(): CryptoBackend {
  return {
    name: "software",
    supports: (alg: AlgorithmName) =>
      alg.startsWith("aead:") || alg.startsWith("prf:hmac-") || alg.startsWith("hash:") ||
      alg === "random",
    aead: (alg, key) => {
      if (key.length !== AEAD_KEY_LENGTH[alg]) {
        throw new CryptoError(`key must be ${AEAD_KEY_LENGTH[alg]} bytes`, alg);
      }
      return new SoftAead(alg, key);
    },
    cipher: () => undefined,
    mac: () => undefined,
    prf: (alg, key, data) => {
      const md = PRF_HASH[alg];
      return md === undefined ? undefined : hmac(HASHES[md], key, data);
    },
    hash: (alg, data) => HASHES[alg](data),
    dh: () => undefined,
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
    close: () => {},
  };
}
