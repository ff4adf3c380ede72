/**
 * Object identifiers of RFC 5280, RFC 4055, RFC 5758 and RFC 4945 that the PKI layer acts on.
 * @module
 */

/** Algorithm and extension OIDs. */
export const Oid = {
  RSA: "1.2.840.113549.1.1.1",
  RSA_PSS: "1.2.840.113549.1.1.10",
  MGF1: "1.2.840.113549.1.1.8",
  SHA1_RSA: "1.2.840.113549.1.1.5",
  SHA256_RSA: "1.2.840.113549.1.1.11",
  SHA384_RSA: "1.2.840.113549.1.1.12",
  SHA512_RSA: "1.2.840.113549.1.1.13",
  EC_PUBLIC_KEY: "1.2.840.10045.2.1",
  ECDSA_SHA1: "1.2.840.10045.4.1",
  ECDSA_SHA256: "1.2.840.10045.4.3.2",
  ECDSA_SHA384: "1.2.840.10045.4.3.3",
  ECDSA_SHA512: "1.2.840.10045.4.3.4",
  ED25519: "1.3.101.112",
  SHA1: "1.3.14.3.2.26",
  SHA256: "2.16.840.1.101.3.4.2.1",
  SHA384: "2.16.840.1.101.3.4.2.2",
  SHA512: "2.16.840.1.101.3.4.2.3",
  P256: "1.2.840.10045.3.1.7",
  P384: "1.3.132.0.34",
  P521: "1.3.132.0.35",
  SUBJECT_KEY_ID: "2.5.29.14",
  KEY_USAGE: "2.5.29.15",
  SUBJECT_ALT_NAME: "2.5.29.17",
  BASIC_CONSTRAINTS: "2.5.29.19",
  CRL_NUMBER: "2.5.29.20",
  CRL_REASON: "2.5.29.21",
  AUTHORITY_KEY_ID: "2.5.29.35",
  EXT_KEY_USAGE: "2.5.29.37",
  ANY_EKU: "2.5.29.37.0",
  EKU_SERVER_AUTH: "1.3.6.1.5.5.7.3.1",
  EKU_CLIENT_AUTH: "1.3.6.1.5.5.7.3.2",
  EKU_IPSEC_IKE: "1.3.6.1.5.5.7.3.17",
} as const;

/** Hash names node:crypto understands, by digest OID. */
export const HASH_BY_OID: Readonly<Record<string, string>> = {
  [Oid.SHA1]: "sha1",
  [Oid.SHA256]: "sha256",
  [Oid.SHA384]: "sha384",
  [Oid.SHA512]: "sha512",
};
