/**
 * Thin FFI glue to OpenSSL 3 libcrypto (EVP). One symbol table, opened on first use, never at
 * import time. Only this file knows libcrypto's ABI; `src/crypto/openssl.ts` builds the backend.
 * @module
 */

const SYMBOLS = {
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_aes_128_gcm: { parameters: [], result: "pointer" },
  EVP_aes_256_gcm: { parameters: [], result: "pointer" },
  EVP_chacha20_poly1305: { parameters: [], result: "pointer" },
  EVP_CipherInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  EVP_CipherUpdate: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_CipherFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_md5: { parameters: [], result: "pointer" },
  EVP_sha1: { parameters: [], result: "pointer" },
  EVP_sha256: { parameters: [], result: "pointer" },
  EVP_sha384: { parameters: [], result: "pointer" },
  EVP_sha512: { parameters: [], result: "pointer" },
  HMAC: {
    parameters: ["pointer", "buffer", "i32", "buffer", "usize", "buffer", "buffer"],
    result: "pointer",
  },
  EVP_Digest: {
    parameters: ["buffer", "usize", "buffer", "buffer", "pointer", "pointer"],
    result: "i32",
  },
  RAND_bytes: { parameters: ["buffer", "i32"], result: "i32" },
} as const;

/** The libcrypto symbols branchgate uses. */
export type LibCrypto = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** EVP_CIPHER_CTX_ctrl codes for AEAD ciphers (openssl/evp.h). */
export const EVP_CTRL_AEAD_SET_IVLEN = 0x9;
/** Reads the tag after encryption. */
export const EVP_CTRL_AEAD_GET_TAG = 0x10;
/** Sets the expected tag before the final decryption step. */
export const EVP_CTRL_AEAD_SET_TAG = 0x11;

const CANDIDATES = ["libcrypto.so.3", "libcrypto.so"];
let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null | undefined;

/** Opens libcrypto on first call; returns undefined when it is not installed or not OpenSSL 3. */
export function openLibCrypto(): LibCrypto | undefined {
  if (lib === undefined) {
    lib = null;
    for (const name of CANDIDATES) {
      try {
        lib = Deno.dlopen(name, SYMBOLS);
        break;
      } catch {
        // try the next name; absence is reported as undefined below
      }
    }
  }
  return lib?.symbols;
}
