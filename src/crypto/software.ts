/**
 * The portable software backend (@noble/ciphers, @noble/hashes, @noble/curves, node:crypto for
 * 3DES): used where libcrypto is missing, and as the second implementation every known-answer
 * test runs against. CBC and MAC contexts live in software_cipher.ts and software_mac.ts, DH in
 * software_dh.ts.
 * @module
 */

import { gcm } from "@noble/ciphers/aes.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hmac } from "@noble/hashes/hmac.js";
import {
  type AeadAlg,
  type AeadContext,
  type AlgorithmName,
  type CryptoBackend,
  CryptoError,
  type MacAlg,
  type MacContext,
  type PrfAlg,
} from "./types.ts";
import { AEAD_KEY_LENGTH, MAC_HASH, MAC_PARAMS, PRF_HASH } from "./params.ts";
import { SoftCbc } from "./software_cipher.ts";
import { HASHES, SoftHmac, SoftXcbc } from "./software_mac.ts";
import { XCBC_BLOCK, xcbcPrfKey } from "./xcbc.ts";
import { softwareDh } from "./software_dh.ts";
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

/** RFC 4434 §2: the untruncated AES-XCBC-MAC under a 16-byte key. */
function xcbc128(key16: Uint8Array, data: Uint8Array): Uint8Array {
  const ctx = new SoftXcbc("aes-xcbc-96", key16, XCBC_BLOCK);
  try {
    return ctx.compute(data);
  } finally {
    ctx.dispose();
  }
}

function mac(alg: MacAlg, key: Uint8Array): MacContext {
  const { keyLength, icvLength } = MAC_PARAMS[alg];
  if (key.length !== keyLength) throw new CryptoError(`key must be ${keyLength} bytes`, alg);
  const md = MAC_HASH[alg];
  return md === undefined
    ? new SoftXcbc(alg, key, icvLength)
    : new SoftHmac(alg, md, key, icvLength);
}

function prf(alg: PrfAlg, key: Uint8Array, data: Uint8Array): Uint8Array | undefined {
  if (alg === "aes-xcbc-prf128") return xcbc128(xcbcPrfKey(key, xcbc128), data);
  const md = PRF_HASH[alg];
  return md === undefined ? undefined : hmac(HASHES[md], key, data);
}

/** Algorithm kinds this backend implements. */
function claims(alg: AlgorithmName): boolean {
  return alg.startsWith("aead:") || alg.startsWith("cipher:") || alg.startsWith("mac:") ||
    alg.startsWith("prf:") || alg.startsWith("hash:") || alg.startsWith("dh:") || alg === "random";
}

/** Random bytes from the platform CSPRNG (getRandomValues fills at most 65536 bytes a call). */
function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

/** Creates the software backend (always available). */
export function createSoftwareBackend(): CryptoBackend {
  return {
    name: "software",
    supports: claims,
    aead: (alg, key) => {
      if (key.length !== AEAD_KEY_LENGTH[alg]) {
        throw new CryptoError(`key must be ${AEAD_KEY_LENGTH[alg]} bytes`, alg);
      }
      return new SoftAead(alg, key);
    },
    cipher: (alg, key) => new SoftCbc(alg, key),
    mac,
    prf,
    hash: (alg, data) => HASHES[alg](data),
    dh: (group) => softwareDh(group, randomBytes),
    randomBytes,
    close: () => {},
  };
}
