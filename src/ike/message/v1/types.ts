/**
 * IKEv1 payload structures (RFC 2408 §3.4–3.15, RFC 2407 §4.6, RFC 3947 §3.2/§5.2,
 * draft-dukes-ike-mode-cfg-02 §3.2). Encoders take these; decoders return them together with
 * a {@link PayloadViewV1} (type, offset, raw bytes) so callers can hash exact payload bytes.
 * Byte fields of decoded payloads are views into the message buffer.
 * @module
 */

import type { DataAttribute } from "../attributes.ts";

/** A transform (RFC 2408 §3.6): number, transform ID, SA attributes. */
export interface TransformV1 {
  /** Transform number within its proposal. */
  readonly number: number;
  /** Transform ID (e.g. KEY_IKE, ESP_AES). */
  readonly id: number;
  /** SA attributes in TV/TLV form, unknown ones kept (RFC 2408 §3.3). */
  readonly attributes: readonly DataAttribute[];
}

/** A proposal (RFC 2408 §3.5); proposals sharing a number are combined (AND). */
export interface ProposalV1 {
  /** Proposal number. */
  readonly number: number;
  /** Protocol ID (ProtocolV1). */
  readonly protocol: number;
  /** Sender's SPI for this protocol (empty for ISAKMP in Phase 1). */
  readonly spi: Uint8Array;
  /** Transforms offered, in order of preference. */
  readonly transforms: readonly TransformV1[];
}

/**
 * Security Association payload (RFC 2408 §3.4, IPsec DOI layout RFC 2407 §4.6.1). For the
 * IPsec DOI the situation bitmap, any labeled-domain bytes and the proposals are decoded; for
 * another DOI everything after the DOI is kept in `opaque` (the caller answers
 * DOI-NOT-SUPPORTED).
 */
export interface SaPayloadV1 {
  /** Kind tag. */
  readonly kind: "sa";
  /** Domain of interpretation (DoiV1). */
  readonly doi: number;
  /** Situation bitmap (SituationV1); 0 when `opaque` is set. */
  readonly situation: number;
  /** RFC 2407 §4.6.1 labeled domain identifier and levels, raw, when SECRECY/INTEGRITY. */
  readonly labels?: Uint8Array;
  /** Proposals in wire order. */
  readonly proposals: readonly ProposalV1[];
  /** Body after the DOI for a DOI other than IPsec, unparsed. */
  readonly opaque?: Uint8Array;
}

/** Payloads that are only opaque data: KE (§3.7), HASH (§3.11), SIG (§3.12), NONCE (§3.13), VID (§3.16). */
export interface DataPayloadV1 {
  /** Kind tag. */
  readonly kind: "ke" | "hash" | "sig" | "nonce" | "vid";
  /** Key exchange value, hash, signature, nonce or vendor ID. */
  readonly data: Uint8Array;
}

/** NAT discovery, RFC 3947 §3.2: a hash of address and port. Type 20, or draft 130. */
export interface NatDPayloadV1 {
  /** Kind tag. */
  readonly kind: "nat-d";
  /** Wire type: 20 (RFC 3947) or 130 (draft); 20 when absent. */
  readonly type?: number;
  /** HASH(CKY-I | CKY-R | IP | Port). */
  readonly hash: Uint8Array;
}

/** Identification (RFC 2408 §3.8, IPsec DOI RFC 2407 §4.6.2). */
export interface IdPayloadV1 {
  /** Kind tag. */
  readonly kind: "id";
  /** ID type (IdTypeV1). */
  readonly idType: number;
  /** IP protocol (0: any). */
  readonly protocol: number;
  /** Port (0: any). */
  readonly port: number;
  /** Identification data (address bytes, name octets, DER…). */
  readonly data: Uint8Array;
}

/** NAT original address, RFC 3947 §5.2: ID_IPV4_ADDR (4 octets) or ID_IPV6_ADDR (16). */
export interface NatOaPayloadV1 {
  /** Kind tag. */
  readonly kind: "nat-oa";
  /** Wire type: 21 (RFC 3947) or 131 (draft); 21 when absent. */
  readonly type?: number;
  /** IdTypeV1.IPV4_ADDR or IdTypeV1.IPV6_ADDR. */
  readonly idType: number;
  /** The address octets. */
  readonly address: Uint8Array;
}

/** Certificate (RFC 2408 §3.9) or certificate request (§3.10). */
export interface CertPayloadV1 {
  /** Kind tag: CERT or CR. */
  readonly kind: "cert" | "cr";
  /** Certificate encoding / type (CertEncodingV1). */
  readonly encoding: number;
  /** Certificate data, or the acceptable authority (CR). */
  readonly data: Uint8Array;
}

/** Notification (RFC 2408 §3.14). */
export interface NotifyPayloadV1 {
  /** Kind tag. */
  readonly kind: "n";
  /** Domain of interpretation. */
  readonly doi: number;
  /** Protocol ID (ProtocolV1). */
  readonly protocol: number;
  /** SPI (cookies for ISAKMP, SPI for AH/ESP, may be empty). */
  readonly spi: Uint8Array;
  /** Notify message type (NotifyTypeV1). */
  readonly notifyType: number;
  /** Notification data. */
  readonly data: Uint8Array;
}

/** Delete (RFC 2408 §3.15): SPIs of one protocol, all of `spiSize` octets. */
export interface DeletePayloadV1 {
  /** Kind tag. */
  readonly kind: "d";
  /** Domain of interpretation. */
  readonly doi: number;
  /** Protocol ID (ProtocolV1). */
  readonly protocol: number;
  /** Octets per SPI (16 for ISAKMP cookie pairs, 4 for ESP/AH). */
  readonly spiSize: number;
  /** The SPIs. */
  readonly spis: readonly Uint8Array[];
}

/** Mode-config attributes payload, draft-dukes-ike-mode-cfg-02 §3.2. */
export interface AttrPayloadV1 {
  /** Kind tag. */
  readonly kind: "attr";
  /** Message type (CfgTypeV1). */
  readonly cfgType: number;
  /** Transaction identifier. */
  readonly identifier: number;
  /** Attributes in TV/TLV form (CfgAttrV1). */
  readonly attributes: readonly DataAttribute[];
}

/** A payload type this codec does not interpret, kept whole. */
export interface UnknownPayloadV1 {
  /** Kind tag. */
  readonly kind: "unknown";
  /** Its payload type number. */
  readonly type: number;
  /** Its body. */
  readonly data: Uint8Array;
}

/** Any IKEv1 payload. */
export type PayloadV1 =
  | SaPayloadV1
  | DataPayloadV1
  | NatDPayloadV1
  | IdPayloadV1
  | NatOaPayloadV1
  | CertPayloadV1
  | NotifyPayloadV1
  | DeletePayloadV1
  | AttrPayloadV1
  | UnknownPayloadV1;

/** Where a decoded payload sat in the message, and its exact bytes. */
export interface PayloadViewV1 {
  /** Payload type number as on the wire. */
  readonly type: number;
  /** Absolute offset of its generic header in the message. */
  readonly offset: number;
  /** The whole payload, generic header included (view). */
  readonly raw: Uint8Array;
  /**
   * The payload after the generic header (view): e.g. RFC 2409 §5 SAi_b is `body` of the
   * initiator's SA payload, IDii_b the `body` of its ID payload.
   */
  readonly body: Uint8Array;
}

/** A decoded IKEv1 payload. */
export type DecodedPayloadV1 = PayloadV1 & PayloadViewV1;
