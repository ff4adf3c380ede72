/**
 * The libcrypto backend (OpenSSL 3 EVP through FFI): AEADs, CBC ciphers, truncated MACs,
 * PRFs (HMAC, AES-XCBC-PRF-128), hashes, Diffie-Hellman and random bytes. Packet-path contexts
 * hold native contexts per key, made once (ciphers and AEADs at their first use, per direction;
 * see openssl_aead.ts, openssl_cipher.ts, openssl_mac.ts); DH lives in openssl_dh.ts.
 * @module
 */

import { type LibCrypto, openLibCrypto } from "../../hw/libcrypto.ts";
import {
  type AlgorithmName,
  type CryptoBackend,
  CryptoError,
  type HashAlg,
  type MacAlg,
  type MacContext,
  type PrfAlg,
} from "./types.ts";
import { AEAD_KEY_LENGTH, HASH_LENGTH, MAC_HASH, MAC_PARAMS, PRF_HASH } from "./params.ts";
import { EvpAead } from "./openssl_aead.ts";
import { EvpCbc } from "./openssl_cipher.ts";
import { EvpHmac, EvpXcbc } from "./openssl_mac.ts";
import { openSslDh } from "./openssl_dh.ts";
import { XCBC_BLOCK, xcbcPrfKey } from "./xcbc.ts";

const EMPTY_KEY = new Uint8Array(1);
const HMAC_NAME = new TextEncoder().encode("HMAC\0");

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

/** Algorithm kinds this backend implements. */
function claims(alg: AlgorithmName): boolean {
  return alg.startsWith("aead:") || alg.startsWith("cipher:") || alg.startsWith("mac:") ||
    alg.startsWith("prf:") || alg.startsWith("hash:") || alg.startsWith("dh:") ||
    alg === "random";
}

/** Creates the libcrypto backend, or undefined when libcrypto cannot be opened. */
export function createOpenSslBackend(): CryptoBackend | undefined {
  const c = openLibCrypto();
  if (c === undefined) return undefined;
  const lenBuf = new Uint8Array(4);
  let hmacMac: Deno.PointerValue | undefined; // EVP_MAC "HMAC", fetched on first use

  const hash = (alg: HashAlg, data: Uint8Array): Uint8Array => {
    const out = new Uint8Array(HASH_LENGTH[alg]);
    if (c.EVP_Digest(data, BigInt(data.length), out, lenBuf, mdFor(c, alg), null) !== 1) {
      throw new CryptoError("EVP_Digest failed", alg);
    }
    return out;
  };

  // RFC 4434 §2: AES-XCBC-PRF-128 is the untruncated MAC under a normalised 16-byte key.
  const xcbc128 = (key16: Uint8Array, data: Uint8Array): Uint8Array => {
    const ctx = new EvpXcbc(c, "aes-xcbc-96", key16, XCBC_BLOCK);
    try {
      return ctx.compute(data);
    } finally {
      ctx.dispose();
    }
  };

  const prf = (alg: PrfAlg, key: Uint8Array, data: Uint8Array): Uint8Array | undefined => {
    if (alg === "aes-xcbc-prf128") return xcbc128(xcbcPrfKey(key, xcbc128), data);
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

  const mac = (alg: MacAlg, key: Uint8Array): MacContext => {
    const { keyLength, icvLength } = MAC_PARAMS[alg];
    if (key.length !== keyLength) throw new CryptoError(`key must be ${keyLength} bytes`, alg);
    const md = MAC_HASH[alg];
    if (md === undefined) return new EvpXcbc(c, alg, key, icvLength);
    hmacMac ??= c.EVP_MAC_fetch(null, HMAC_NAME, null);
    if (hmacMac === null) throw new CryptoError("EVP_MAC_fetch(HMAC) failed", alg);
    return new EvpHmac(c, hmacMac, alg, md, key, icvLength);
  };

  const randomBytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    if (n > 0 && c.RAND_bytes(out, n) !== 1) throw new CryptoError("RAND_bytes failed");
    return out;
  };

  return {
    name: "libcrypto",
    supports: claims,
    aead: (alg, key) => {
      if (key.length !== AEAD_KEY_LENGTH[alg]) {
        throw new CryptoError(`key must be ${AEAD_KEY_LENGTH[alg]} bytes`, alg);
      }
      return new EvpAead(c, alg, key);
    },
    cipher: (alg, key) => new EvpCbc(c, alg, key),
    mac,
    prf,
    hash,
    dh: (group) => openSslDh(c, group, randomBytes),
    randomBytes,
    close: () => {
      if (hmacMac) c.EVP_MAC_free(hmacMac);
      hmacMac = undefined;
    },
  };
}
