/**
 * IKEv2 payload structures (RFC 7296 §3.3–3.16, RFC 7383 §2.5). Encoders take these (the
 * critical bit defaults to clear); decoders return them with a {@link PayloadViewV2}. Byte
 * fields of decoded payloads are views into the message buffer.
 * @module
 */

import type { DataAttribute } from "../attributes.ts";

/** Fields every IKEv2 payload may carry. */
export interface BaseV2 {
  /** Critical bit (RFC 7296 §2.5/§3.2); clear when absent. */
  readonly critical?: boolean;
}

/** A transform substructure (RFC 7296 §3.3.2): type, ID, attributes (key length). */
export interface TransformV2 {
  /** Transform type (TransformTypeV2). */
  readonly type: number;
  /** Transform ID within its type. */
  readonly id: number;
  /** Transform attributes, TV/TLV (RFC 7296 §3.3.5). */
  readonly attributes: readonly DataAttribute[];
}

/** A proposal substructure (RFC 7296 §3.3.1). */
export interface ProposalV2 {
  /** Proposal number (first 1, then equal or one more). */
  readonly number: number;
  /** Protocol ID (ProtocolV2). */
  readonly protocol: number;
  /** Sender's SPI (empty in an initial IKE SA negotiation). */
  readonly spi: Uint8Array;
  /** Transforms. */
  readonly transforms: readonly TransformV2[];
}

/** Security Association payload (RFC 7296 §3.3). */
export interface SaPayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "sa";
  /** Proposals in wire order. */
  readonly proposals: readonly ProposalV2[];
}

/** Key Exchange payload (RFC 7296 §3.4). */
export interface KePayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "ke";
  /** Diffie-Hellman group number (DhGroupV2). */
  readonly group: number;
  /** Public value. */
  readonly data: Uint8Array;
}

/** Identification payload, initiator (IDi, 35) or responder (IDr, 36) (RFC 7296 §3.5). */
export interface IdPayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "idi" | "idr";
  /** ID type (IdTypeV2). */
  readonly idType: number;
  /** Identification data. */
  readonly data: Uint8Array;
}

/** Certificate (37) or certificate request (38) payload (RFC 7296 §3.6, §3.7). */
export interface CertPayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "cert" | "certreq";
  /** Certificate encoding (CertEncodingV2). */
  readonly encoding: number;
  /** Certificate data, or concatenated CA key hashes (CERTREQ). */
  readonly data: Uint8Array;
}

/** Authentication payload (RFC 7296 §3.8). */
export interface AuthPayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "auth";
  /** Authentication method (AuthMethodV2). */
  readonly method: number;
  /** Authentication data. */
  readonly data: Uint8Array;
}

/** Nonce (40, RFC 7296 §3.9) or Vendor ID (43, §3.12): opaque data. */
export interface DataPayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "nonce" | "v";
  /** Nonce or vendor ID. */
  readonly data: Uint8Array;
}

/** Notify payload (RFC 7296 §3.10). */
export interface NotifyPayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "n";
  /** Protocol ID (0 when not about an SA). */
  readonly protocol: number;
  /** SPI (may be empty). */
  readonly spi: Uint8Array;
  /** Notify message type (NotifyTypeV2). */
  readonly notifyType: number;
  /** Notification data. */
  readonly data: Uint8Array;
}

/** Delete payload (RFC 7296 §3.11). */
export interface DeletePayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "d";
  /** Protocol ID (ProtocolV2). */
  readonly protocol: number;
  /** Octets per SPI (0 for IKE, 4 for AH/ESP). */
  readonly spiSize: number;
  /** The SPIs. */
  readonly spis: readonly Uint8Array[];
}

/** An address-range traffic selector, TS_IPV4_ADDR_RANGE or TS_IPV6_ADDR_RANGE (§3.13.1). */
export interface IpTrafficSelectorV2 {
  /** TsTypeV2.IPV4_ADDR_RANGE (7) or IPV6_ADDR_RANGE (8). */
  readonly tsType: number;
  /** IP protocol (0: any). */
  readonly protocol: number;
  /** First port. */
  readonly startPort: number;
  /** Last port. */
  readonly endPort: number;
  /** First address (4 or 16 octets). */
  readonly start: Uint8Array;
  /** Last address (same length). */
  readonly end: Uint8Array;
}

/** A traffic selector of a type this codec does not interpret, kept whole. */
export interface OtherTrafficSelectorV2 {
  /** Its TS type. */
  readonly tsType: number;
  /** The octet after the type (IP protocol ID for the address types). */
  readonly octet2: number;
  /** The selector after its 4-octet type/octet/length head. */
  readonly data: Uint8Array;
}

/** Any traffic selector; use `"start" in ts` to tell address ranges apart. */
export type TrafficSelectorV2 = IpTrafficSelectorV2 | OtherTrafficSelectorV2;

/** Traffic selector payload, initiator (TSi, 44) or responder (TSr, 45) (RFC 7296 §3.13). */
export interface TsPayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "tsi" | "tsr";
  /** Selectors in wire order. */
  readonly selectors: readonly TrafficSelectorV2[];
}

/**
 * Encrypted and authenticated payload (RFC 7296 §3.14): `next` is the type of the first
 * payload inside; `data` is IV | ciphertext (payloads, padding, pad length) | ICV, whose
 * boundaries depend on the negotiated algorithms (see `splitEncrypted`).
 */
export interface SkPayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "sk";
  /** Type of the first inner payload. */
  readonly next: number;
  /** IV, ciphertext and ICV. */
  readonly data: Uint8Array;
}

/** Encrypted fragment payload (RFC 7383 §2.5). */
export interface SkfPayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "skf";
  /** Type of the first inner payload in fragment 1, 0 in the others. */
  readonly next: number;
  /** Fragment number, 1-based. */
  readonly fragmentNumber: number;
  /** Total number of fragments. */
  readonly totalFragments: number;
  /** IV, ciphertext and ICV of this fragment. */
  readonly data: Uint8Array;
}

/** One configuration attribute (RFC 7296 §3.15.1). */
export interface CfgAttributeV2 {
  /** Attribute type, 15 bits (CfgAttrV2). */
  readonly type: number;
  /** Value octets (may be empty in a request). */
  readonly value: Uint8Array;
}

/** Configuration payload (RFC 7296 §3.15). */
export interface CpPayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "cp";
  /** CFG type (CfgTypeV2). */
  readonly cfgType: number;
  /** Attributes. */
  readonly attributes: readonly CfgAttributeV2[];
}

/** EAP payload (RFC 7296 §3.16): one EAP message (RFC 3748 §4). */
export interface EapPayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "eap";
  /** EAP code (EapCodeV2). */
  readonly code: number;
  /** EAP identifier. */
  readonly identifier: number;
  /** EAP method type, present for requests and responses. */
  readonly eapType?: number;
  /** Type data (requests/responses) or anything after the 4-octet header (other codes). */
  readonly data: Uint8Array;
}

/** A payload type this codec does not interpret (non-critical, or being encoded). */
export interface UnknownPayloadV2 extends BaseV2 {
  /** Kind tag. */
  readonly kind: "unknown";
  /** Its payload type. */
  readonly type: number;
  /** Its body. */
  readonly data: Uint8Array;
}

/** Any IKEv2 payload. */
export type PayloadV2 =
  | SaPayloadV2
  | KePayloadV2
  | IdPayloadV2
  | CertPayloadV2
  | AuthPayloadV2
  | DataPayloadV2
  | NotifyPayloadV2
  | DeletePayloadV2
  | TsPayloadV2
  | SkPayloadV2
  | SkfPayloadV2
  | CpPayloadV2
  | EapPayloadV2
  | UnknownPayloadV2;

/** Where a decoded payload sat in the message, and its exact bytes. */
export interface PayloadViewV2 {
  /** Payload type number as on the wire. */
  readonly type: number;
  /** Critical bit as received. */
  readonly critical: boolean;
  /** Absolute offset of its generic header in the message. */
  readonly offset: number;
  /** The whole payload, generic header included (view). */
  readonly raw: Uint8Array;
  /** The payload after the generic header (view); RFC 7296 §2.15 signs IDx' = IDi/IDr body. */
  readonly body: Uint8Array;
}

/** A decoded IKEv2 payload. */
export type DecodedPayloadV2 = PayloadV2 & PayloadViewV2;
