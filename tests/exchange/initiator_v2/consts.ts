/**
 * IKEv2 numbers the scripted initiator needs (RFC 7296 §3, IANA "IKEv2 Parameters"), written
 * out here independently of src/ike/ so a wrong constant there cannot hide behind a shared one.
 * @module
 */

/** Exchange types (RFC 7296 §3.1). */
export const Exchange = {
  IKE_SA_INIT: 34,
  IKE_AUTH: 35,
  CREATE_CHILD_SA: 36,
  INFORMATIONAL: 37,
} as const;

/** Header flags (RFC 7296 §3.1). */
export const Flag = { I: 0x08, V: 0x10, R: 0x20 } as const;

/** Payload types (RFC 7296 §3.2, RFC 7383 §2.5 for SKF). */
export const Pt = {
  NONE: 0,
  SA: 33,
  KE: 34,
  IDi: 35,
  IDr: 36,
  CERT: 37,
  CERTREQ: 38,
  AUTH: 39,
  NONCE: 40,
  N: 41,
  D: 42,
  V: 43,
  TSi: 44,
  TSr: 45,
  SK: 46,
  CP: 47,
  EAP: 48,
  SKF: 53,
} as const;

/** Notify message types (RFC 7296 §3.10.1, RFC 7383 §2.3). */
export const Nt = {
  UNSUPPORTED_CRITICAL_PAYLOAD: 1,
  INVALID_IKE_SPI: 4,
  INVALID_MAJOR_VERSION: 5,
  INVALID_SYNTAX: 7,
  INVALID_MESSAGE_ID: 9,
  INVALID_SPI: 11,
  NO_PROPOSAL_CHOSEN: 14,
  INVALID_KE_PAYLOAD: 17,
  AUTHENTICATION_FAILED: 24,
  SINGLE_PAIR_REQUIRED: 34,
  NO_ADDITIONAL_SAS: 35,
  INTERNAL_ADDRESS_FAILURE: 36,
  FAILED_CP_REQUIRED: 37,
  TS_UNACCEPTABLE: 38,
  INVALID_SELECTORS: 39,
  TEMPORARY_FAILURE: 43,
  CHILD_SA_NOT_FOUND: 44,
  INITIAL_CONTACT: 16384,
  SET_WINDOW_SIZE: 16385,
  ADDITIONAL_TS_POSSIBLE: 16386,
  NAT_DETECTION_SOURCE_IP: 16388,
  NAT_DETECTION_DESTINATION_IP: 16389,
  COOKIE: 16390,
  USE_TRANSPORT_MODE: 16391,
  REKEY_SA: 16393,
  ESP_TFC_PADDING_NOT_SUPPORTED: 16394,
  NON_FIRST_FRAGMENTS_ALSO: 16395,
  IKEV2_FRAGMENTATION_SUPPORTED: 16430,
} as const;

/** Protocol IDs (RFC 7296 §3.3.1). */
export const Proto = { IKE: 1, AH: 2, ESP: 3 } as const;

/** Transform types (RFC 7296 §3.3.2). */
export const Tt = { ENCR: 1, PRF: 2, INTEG: 3, DH: 4, ESN: 5 } as const;

/** Identification types (RFC 7296 §3.5). */
export const IdType = {
  IPV4_ADDR: 1,
  FQDN: 2,
  RFC822_ADDR: 3,
  IPV6_ADDR: 5,
  DER_ASN1_DN: 9,
  DER_ASN1_GN: 10,
  KEY_ID: 11,
} as const;

/** Traffic selector types (RFC 7296 §3.13.1). */
export const TsType = { IPV4_ADDR_RANGE: 7, IPV6_ADDR_RANGE: 8 } as const;

/** Authentication method: shared key MIC (RFC 7296 §3.8). */
export const AUTH_PSK = 2;

/** An encryption algorithm (RFC 7296 §3.3.2 type 1; RFC 5282, RFC 7634 for the AEADs). */
export interface EncrAlg {
  /** Transform ID. */
  readonly id: number;
  /** Key length in bits (the Key Length attribute when `keyAttr`). */
  readonly keyBits: number;
  /** Whether the Key Length attribute (14) is sent. */
  readonly keyAttr: boolean;
  /** AEAD ICV length in bytes, 0 for a plain cipher. */
  readonly icv: number;
  /** node:crypto cipher name. */
  readonly cipher: string;
}

const gcm = (bits: number, icv: number, id: number): EncrAlg => ({
  id,
  keyBits: bits,
  keyAttr: true,
  icv,
  cipher: `aes-${bits}-gcm`,
});

/** strongSwan encryption keywords → algorithm. */
export const ENCR: Readonly<Record<string, EncrAlg>> = {
  aes128: { id: 12, keyBits: 128, keyAttr: true, icv: 0, cipher: "aes-128-cbc" },
  aes192: { id: 12, keyBits: 192, keyAttr: true, icv: 0, cipher: "aes-192-cbc" },
  aes256: { id: 12, keyBits: 256, keyAttr: true, icv: 0, cipher: "aes-256-cbc" },
  aes128gcm8: gcm(128, 8, 18),
  aes128gcm12: gcm(128, 12, 19),
  aes128gcm16: gcm(128, 16, 20),
  aes256gcm8: gcm(256, 8, 18),
  aes256gcm12: gcm(256, 12, 19),
  aes256gcm16: gcm(256, 16, 20),
  chacha20poly1305: { id: 28, keyBits: 256, keyAttr: false, icv: 16, cipher: "chacha20-poly1305" },
};

/** strongSwan PRF keywords → transform ID and hash (RFC 7296 §3.3.2 type 2, RFC 4868). */
export const PRF: Readonly<Record<string, { readonly id: number; readonly hash: string }>> = {
  prfsha1: { id: 2, hash: "sha1" },
  prfsha256: { id: 5, hash: "sha256" },
  prfsha384: { id: 6, hash: "sha384" },
  prfsha512: { id: 7, hash: "sha512" },
};

/** strongSwan integrity keywords → transform ID, hash, key and truncated ICV bytes (RFC 4868). */
export const INTEG: Readonly<
  Record<
    string,
    { readonly id: number; readonly hash: string; readonly key: number; readonly icv: number }
  >
> = {
  sha1: { id: 2, hash: "sha1", key: 20, icv: 12 },
  sha256: { id: 12, hash: "sha256", key: 32, icv: 16 },
  sha384: { id: 13, hash: "sha384", key: 48, icv: 24 },
  sha512: { id: 14, hash: "sha512", key: 64, icv: 32 },
};

/** strongSwan DH keywords → group number (RFC 3526, RFC 5903, RFC 8031). */
export const DH: Readonly<Record<string, number>> = {
  modp2048: 14,
  modp3072: 15,
  modp4096: 16,
  ecp256: 19,
  ecp384: 20,
  ecp521: 21,
  curve25519: 31,
  x25519: 31,
};
