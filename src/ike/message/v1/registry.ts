/**
 * IKEv1 / ISAKMP registry numbers with names (open-ended: unknown values are carried as
 * numbers). Sources: RFC 2408 §3.1 and §3.14.1, RFC 2407 §4.4–4.6, RFC 2409 Appendix A,
 * RFC 3947 (NAT-T), RFC 3706 (DPD), RFC 4304 (ESN), draft-dukes-ike-mode-cfg-02,
 * draft-beaulieu-ike-xauth-02, and the later IANA additions (RFC 3602, RFC 4106, RFC 4754,
 * RFC 4868 values for IKEv1).
 * @module
 */

/** Payload types, RFC 2408 §3.1; 14 = Attributes (mode config); 20/21 RFC 3947 §3.2/§5.2. */
export const PayloadTypeV1 = {
  NONE: 0,
  SA: 1,
  PROPOSAL: 2,
  TRANSFORM: 3,
  KE: 4,
  ID: 5,
  CERT: 6,
  CR: 7,
  HASH: 8,
  SIG: 9,
  NONCE: 10,
  N: 11,
  D: 12,
  VID: 13,
  ATTR: 14,
  NAT_D: 20,
  NAT_OA: 21,
  /** draft-ietf-ipsec-nat-t-ike-02/03 number, still sent by some peers. */
  NAT_D_DRAFT: 130,
  /** draft-ietf-ipsec-nat-t-ike-02/03 number. */
  NAT_OA_DRAFT: 131,
  /** IKEv1 fragmentation (vendor extension); decoded as an unknown payload. */
  FRAGMENT: 132,
} as const;

/** Exchange types, RFC 2408 §3.1 and RFC 2409 Appendix A; 6 = mode-config transaction. */
export const ExchangeTypeV1 = {
  NONE: 0,
  BASE: 1,
  /** Main Mode. */
  IDENTITY_PROTECTION: 2,
  AUTH_ONLY: 3,
  AGGRESSIVE: 4,
  INFORMATIONAL: 5,
  /** draft-dukes-ike-mode-cfg-02 §3.1. */
  TRANSACTION: 6,
  QUICK_MODE: 32,
  NEW_GROUP_MODE: 33,
} as const;

/** Domains of interpretation: 0 generic ISAKMP (RFC 2408 §3.4), 1 IPsec (RFC 2407). */
export const DoiV1 = { ISAKMP: 0, IPSEC: 1 } as const;

/** IPsec DOI situation bits, RFC 2407 §4.2. */
export const SituationV1 = { IDENTITY_ONLY: 0x01, SECRECY: 0x02, INTEGRITY: 0x04 } as const;

/** Security protocol identifiers, RFC 2407 §4.4.1. */
export const ProtocolV1 = { ISAKMP: 1, AH: 2, ESP: 3, IPCOMP: 4 } as const;

/** Transform IDs for PROTO_ISAKMP, RFC 2407 §4.4.2. */
export const IsakmpTransformV1 = { KEY_IKE: 1 } as const;

/** ESP transform IDs, RFC 2407 §4.4.4, RFC 3602 (AES-CBC 12), RFC 4106 (GCM 18–20). */
export const EspTransformV1 = {
  DES_IV64: 1,
  DES: 2,
  "3DES": 3,
  RC5: 4,
  IDEA: 5,
  CAST: 6,
  BLOWFISH: 7,
  "3IDEA": 8,
  DES_IV32: 9,
  RC4: 10,
  NULL: 11,
  AES_CBC: 12,
  AES_CTR: 13,
  AES_CCM_8: 14,
  AES_CCM_12: 15,
  AES_CCM_16: 16,
  AES_GCM_8: 18,
  AES_GCM_12: 19,
  AES_GCM_16: 20,
  NULL_AUTH_AES_GMAC: 23,
} as const;

/** AH transform IDs, RFC 2407 §4.4.3 and RFC 4868 §2. */
export const AhTransformV1 = {
  MD5: 2,
  SHA: 3,
  DES: 4,
  SHA2_256: 5,
  SHA2_384: 6,
  SHA2_512: 7,
} as const;

/** IPsec SA attribute classes for Phase 2, RFC 2407 §4.5 (+ RFC 4304 ESN = 11). */
export const IpsecAttrV1 = {
  SA_LIFE_TYPE: 1,
  SA_LIFE_DURATION: 2,
  GROUP_DESCRIPTION: 3,
  ENCAPSULATION_MODE: 4,
  AUTH_ALGORITHM: 5,
  KEY_LENGTH: 6,
  KEY_ROUNDS: 7,
  COMPRESS_DICTIONARY_SIZE: 8,
  COMPRESS_PRIVATE_ALGORITHM: 9,
  ECN_TUNNEL: 10,
  EXTENDED_SEQUENCE_NUMBER: 11,
} as const;

/** SA life types, RFC 2407 §4.5 and RFC 2409 Appendix A. */
export const LifeTypeV1 = { SECONDS: 1, KILOBYTES: 2 } as const;

/** Encapsulation modes, RFC 2407 §4.5, RFC 3947 §4 (3/4) and the draft numbers 61443/61444. */
export const EncapsulationV1 = {
  TUNNEL: 1,
  TRANSPORT: 2,
  UDP_TUNNEL: 3,
  UDP_TRANSPORT: 4,
  UDP_TUNNEL_DRAFT: 61443,
  UDP_TRANSPORT_DRAFT: 61444,
} as const;

/** IPsec authentication algorithms, RFC 2407 §4.5, RFC 4868 §2.4, RFC 3566. */
export const IpsecAuthV1 = {
  HMAC_MD5: 1,
  HMAC_SHA: 2,
  DES_MAC: 3,
  KPDK: 4,
  HMAC_SHA2_256: 5,
  HMAC_SHA2_384: 6,
  HMAC_SHA2_512: 7,
  HMAC_RIPEMD: 8,
  AES_XCBC_MAC: 9,
} as const;

/** Phase 1 (IKE) attribute classes, RFC 2409 Appendix A. */
export const IkeAttrV1 = {
  ENCRYPTION_ALGORITHM: 1,
  HASH_ALGORITHM: 2,
  AUTHENTICATION_METHOD: 3,
  GROUP_DESCRIPTION: 4,
  GROUP_TYPE: 5,
  GROUP_PRIME: 6,
  GROUP_GENERATOR_ONE: 7,
  GROUP_GENERATOR_TWO: 8,
  GROUP_CURVE_A: 9,
  GROUP_CURVE_B: 10,
  LIFE_TYPE: 11,
  LIFE_DURATION: 12,
  PRF: 13,
  KEY_LENGTH: 14,
  FIELD_SIZE: 15,
  GROUP_ORDER: 16,
} as const;

/** Phase 1 encryption algorithms, RFC 2409 Appendix A, RFC 3602 §5 (AES-CBC 7). */
export const IkeEncryptionV1 = {
  DES_CBC: 1,
  IDEA_CBC: 2,
  BLOWFISH_CBC: 3,
  RC5_R16_B64_CBC: 4,
  "3DES_CBC": 5,
  CAST_CBC: 6,
  AES_CBC: 7,
  CAMELLIA_CBC: 8,
} as const;

/** Phase 1 hash algorithms, RFC 2409 Appendix A, RFC 4868 §2.4 (SHA-2). */
export const IkeHashV1 = {
  MD5: 1,
  SHA: 2,
  TIGER: 3,
  SHA2_256: 4,
  SHA2_384: 5,
  SHA2_512: 6,
} as const;

/** Phase 1 authentication methods, RFC 2409 App. A, RFC 4754 §7, XAUTH draft §6. */
export const AuthMethodV1 = {
  PRE_SHARED_KEY: 1,
  DSS_SIGNATURES: 2,
  RSA_SIGNATURES: 3,
  RSA_ENCRYPTION: 4,
  RSA_REVISED_ENCRYPTION: 5,
  ECDSA_SHA256_P256: 9,
  ECDSA_SHA384_P384: 10,
  ECDSA_SHA512_P521: 11,
  XAUTH_INIT_PRE_SHARED: 65001,
  XAUTH_RESP_PRE_SHARED: 65002,
  XAUTH_INIT_DSS: 65003,
  XAUTH_RESP_DSS: 65004,
  XAUTH_INIT_RSA: 65005,
  XAUTH_RESP_RSA: 65006,
} as const;

/** Identification types, RFC 2407 §4.6.2.1. */
export const IdTypeV1 = {
  IPV4_ADDR: 1,
  FQDN: 2,
  USER_FQDN: 3,
  IPV4_ADDR_SUBNET: 4,
  IPV6_ADDR: 5,
  IPV6_ADDR_SUBNET: 6,
  IPV4_ADDR_RANGE: 7,
  IPV6_ADDR_RANGE: 8,
  DER_ASN1_DN: 9,
  DER_ASN1_GN: 10,
  KEY_ID: 11,
} as const;

/** Certificate encodings for CERT and CR, RFC 2408 §3.9. */
export const CertEncodingV1 = {
  NONE: 0,
  PKCS7: 1,
  PGP: 2,
  DNS_SIGNED_KEY: 3,
  X509_SIGNATURE: 4,
  X509_KEY_EXCHANGE: 5,
  KERBEROS: 6,
  CRL: 7,
  ARL: 8,
  SPKI: 9,
  X509_ATTRIBUTE: 10,
} as const;

/**
 * Notify message types: errors RFC 2408 §3.14.1, CONNECTED, IPsec DOI status RFC 2407 §4.6.3,
 * DPD RFC 3706 §5.
 */
export const NotifyTypeV1 = {
  INVALID_PAYLOAD_TYPE: 1,
  DOI_NOT_SUPPORTED: 2,
  SITUATION_NOT_SUPPORTED: 3,
  INVALID_COOKIE: 4,
  INVALID_MAJOR_VERSION: 5,
  INVALID_MINOR_VERSION: 6,
  INVALID_EXCHANGE_TYPE: 7,
  INVALID_FLAGS: 8,
  INVALID_MESSAGE_ID: 9,
  INVALID_PROTOCOL_ID: 10,
  INVALID_SPI: 11,
  INVALID_TRANSFORM_ID: 12,
  ATTRIBUTES_NOT_SUPPORTED: 13,
  NO_PROPOSAL_CHOSEN: 14,
  BAD_PROPOSAL_SYNTAX: 15,
  PAYLOAD_MALFORMED: 16,
  INVALID_KEY_INFORMATION: 17,
  INVALID_ID_INFORMATION: 18,
  INVALID_CERT_ENCODING: 19,
  INVALID_CERTIFICATE: 20,
  CERT_TYPE_UNSUPPORTED: 21,
  INVALID_CERT_AUTHORITY: 22,
  INVALID_HASH_INFORMATION: 23,
  AUTHENTICATION_FAILED: 24,
  INVALID_SIGNATURE: 25,
  ADDRESS_NOTIFICATION: 26,
  NOTIFY_SA_LIFETIME: 27,
  CERTIFICATE_UNAVAILABLE: 28,
  UNSUPPORTED_EXCHANGE_TYPE: 29,
  UNEQUAL_PAYLOAD_LENGTHS: 30,
  CONNECTED: 16384,
  RESPONDER_LIFETIME: 24576,
  REPLAY_STATUS: 24577,
  INITIAL_CONTACT: 24578,
  R_U_THERE: 36136,
  R_U_THERE_ACK: 36137,
} as const;

/** Mode-config message types (ATTR payload), draft-dukes-ike-mode-cfg-02 §3.3. */
export const CfgTypeV1 = { REQUEST: 1, REPLY: 2, SET: 3, ACK: 4 } as const;

/** Mode-config attributes (draft-dukes §3.4) and XAUTH attributes (draft-beaulieu §6). */
export const CfgAttrV1 = {
  INTERNAL_IP4_ADDRESS: 1,
  INTERNAL_IP4_NETMASK: 2,
  INTERNAL_IP4_DNS: 3,
  INTERNAL_IP4_NBNS: 4,
  INTERNAL_ADDRESS_EXPIRY: 5,
  INTERNAL_IP4_DHCP: 6,
  APPLICATION_VERSION: 7,
  INTERNAL_IP6_ADDRESS: 8,
  INTERNAL_IP6_NETMASK: 9,
  INTERNAL_IP6_DNS: 10,
  INTERNAL_IP6_NBNS: 11,
  INTERNAL_IP6_DHCP: 12,
  INTERNAL_IP4_SUBNET: 13,
  SUPPORTED_ATTRIBUTES: 14,
  INTERNAL_IP6_SUBNET: 15,
  XAUTH_TYPE: 16520,
  XAUTH_USER_NAME: 16521,
  XAUTH_USER_PASSWORD: 16522,
  XAUTH_PASSCODE: 16523,
  XAUTH_MESSAGE: 16524,
  XAUTH_CHALLENGE: 16525,
  XAUTH_DOMAIN: 16526,
  XAUTH_STATUS: 16527,
  XAUTH_NEXT_PIN: 16528,
  XAUTH_ANSWER: 16529,
} as const;
