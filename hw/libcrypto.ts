/**
 * Thin FFI glue to OpenSSL 3 libcrypto (EVP). One symbol table, opened on first use, never at
 * import time. Only this file knows libcrypto's ABI; `src/crypto/openssl.ts` builds the backend.
 * @module
 */

/** struct ossl_param_st { const char *key; unsigned data_type; void *data; size_t data_size, return_size; } */
const OSSL_PARAM = ["pointer", "u32", "pointer", "usize", "usize"] as const;

const SYMBOLS = {
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_aes_128_gcm: { parameters: [], result: "pointer" },
  EVP_aes_256_gcm: { parameters: [], result: "pointer" },
  EVP_chacha20_poly1305: { parameters: [], result: "pointer" },
  EVP_aes_128_cbc: { parameters: [], result: "pointer" },
  EVP_aes_192_cbc: { parameters: [], result: "pointer" },
  EVP_aes_256_cbc: { parameters: [], result: "pointer" },
  EVP_des_ede3_cbc: { parameters: [], result: "pointer" },
  EVP_aes_128_ecb: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_set_padding: { parameters: ["pointer", "i32"], result: "i32" },
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
  // EVP_MAC (HMAC with a key set once; sizes are size_t, passed as bigint for the fast path)
  EVP_MAC_fetch: { parameters: ["pointer", "buffer", "pointer"], result: "pointer" },
  EVP_MAC_free: { parameters: ["pointer"], result: "void" },
  EVP_MAC_CTX_new: { parameters: ["pointer"], result: "pointer" },
  EVP_MAC_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_MAC_init: { parameters: ["pointer", "buffer", "usize", "buffer"], result: "i32" },
  EVP_MAC_update: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  EVP_MAC_final: { parameters: ["pointer", "buffer", "buffer", "usize"], result: "i32" },
  OSSL_PARAM_construct_utf8_string: {
    parameters: ["buffer", "buffer", "usize"],
    result: { struct: OSSL_PARAM },
  },
  OSSL_PARAM_construct_end: { parameters: [], result: { struct: OSSL_PARAM } },
  // Diffie-Hellman (control plane only): BIGNUM for MODP, EC_POINT for ECP, raw EVP_PKEY for
  // X25519/X448. Sizes are size_t (usize); object names are resolved with OBJ_sn2nid.
  OBJ_sn2nid: { parameters: ["buffer"], result: "i32" },
  BN_CTX_new: { parameters: [], result: "pointer" },
  BN_CTX_free: { parameters: ["pointer"], result: "void" },
  BN_new: { parameters: [], result: "pointer" },
  BN_clear_free: { parameters: ["pointer"], result: "void" },
  BN_bin2bn: { parameters: ["buffer", "i32", "pointer"], result: "pointer" },
  BN_bn2binpad: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BN_mod_exp_mont_consttime: {
    parameters: ["pointer", "pointer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  EC_GROUP_new_by_curve_name: { parameters: ["i32"], result: "pointer" },
  EC_GROUP_free: { parameters: ["pointer"], result: "void" },
  EC_GROUP_get0_order: { parameters: ["pointer"], result: "pointer" },
  EC_GROUP_get_curve: {
    parameters: ["pointer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  EC_POINT_new: { parameters: ["pointer"], result: "pointer" },
  EC_POINT_clear_free: { parameters: ["pointer"], result: "void" },
  EC_POINT_oct2point: {
    parameters: ["pointer", "pointer", "buffer", "usize", "pointer"],
    result: "i32",
  },
  EC_POINT_point2oct: {
    parameters: ["pointer", "pointer", "i32", "buffer", "usize", "pointer"],
    result: "usize",
  },
  EC_POINT_mul: {
    parameters: ["pointer", "pointer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  EC_POINT_is_on_curve: { parameters: ["pointer", "pointer", "pointer"], result: "i32" },
  EC_POINT_is_at_infinity: { parameters: ["pointer", "pointer"], result: "i32" },
  EVP_PKEY_new_raw_private_key: {
    parameters: ["i32", "pointer", "buffer", "usize"],
    result: "pointer",
  },
  EVP_PKEY_new_raw_public_key: {
    parameters: ["i32", "pointer", "buffer", "usize"],
    result: "pointer",
  },
  EVP_PKEY_get_raw_public_key: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_PKEY_free: { parameters: ["pointer"], result: "void" },
  EVP_PKEY_CTX_new: { parameters: ["pointer", "pointer"], result: "pointer" },
  EVP_PKEY_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_PKEY_derive_init: { parameters: ["pointer"], result: "i32" },
  EVP_PKEY_derive_set_peer: { parameters: ["pointer", "pointer"], result: "i32" },
  EVP_PKEY_derive: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
} as const;

/** The libcrypto symbols branchgate uses. */
export type LibCrypto = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** EVP_CIPHER_CTX_ctrl codes for AEAD ciphers (openssl/evp.h). */
export const EVP_CTRL_AEAD_SET_IVLEN = 0x9;
/** Reads the tag after encryption. */
export const EVP_CTRL_AEAD_GET_TAG = 0x10;
/** Sets the expected tag before the final decryption step. */
export const EVP_CTRL_AEAD_SET_TAG = 0x11;
/** EC_POINT_point2oct form for 0x04 || x || y (openssl/ec.h point_conversion_form_t). */
export const POINT_CONVERSION_UNCOMPRESSED = 4;

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

/**
 * Calls `use` with a two-entry OSSL_PARAM array (`key` = `value` as a UTF-8 string, then the
 * end marker), e.g. `digest` = `SHA256` for HMAC. The strings it points to stay reachable until
 * `use` returns; libcrypto must not keep the array beyond that call.
 */
export function withUtf8Params<T>(
  c: LibCrypto,
  key: string,
  value: string,
  use: (params: Uint8Array) => T,
): T {
  const enc = new TextEncoder();
  const strings = [enc.encode(key + "\0"), enc.encode(value + "\0")] as const;
  // bsize 0: libcrypto takes strlen(value) as the data size.
  const first = c.OSSL_PARAM_construct_utf8_string(strings[0], strings[1], 0n);
  const end = c.OSSL_PARAM_construct_end();
  const params = new Uint8Array(first.length + end.length);
  params.set(first);
  params.set(end, first.length);
  const result = use(params);
  strings[0].fill(0); // touches both strings after the call: they are live until here
  strings[1].fill(0);
  return result;
}
