/**
 * The authenticator interface both IKE versions call: the exchanges compute what is to be
 * proved (IKEv1 HASH_I/HASH_R input, IKEv2 signed octets of RFC 7296 §2.15) and ask the
 * peer's authenticator to derive SKEYID (IKEv1), produce our proof and verify the peer's.
 * PSK is implemented in psk.ts; a public-key authenticator (RSA/ECDSA signatures, RFC 2409
 * §5.1, RFC 7296 §2.15, RFC 7427) implements the same interface and is chosen by
 * {@link authenticatorFor} from the peer's `auth`, without changes to the exchanges.
 * @module
 */

import type { KdfPrimitives } from "../../crypto/kdf/primitives.ts";
import type { PrfAlg } from "../../crypto/types.ts";
import type { PeerConfig } from "../../config/schema.ts";
import type { CredentialStore } from "./credentials.ts";
import { PskAuthenticator } from "./psk.ts";

/** A refusal with a line for the operator (never a secret). */
export interface AuthFailure {
  /** Discriminant. */
  readonly ok: false;
  /** Why, e.g. "no pre-shared key configured for this peer". */
  readonly reason: string;
}

/** IKEv1 proof payloads: HASH (PSK) or SIG (signatures, RFC 2409 §5.1) and optional CERTs. */
export interface V1Proof {
  /** Payload kind to send: "hash" for PSK, "sig" for signatures. */
  readonly kind: "hash" | "sig";
  /** Payload data. */
  readonly data: Uint8Array;
  /** DER certificates to send in CERT payloads before it (ours first, then intermediates). */
  readonly certs?: readonly Uint8Array[];
}

/**
 * What the peer presented beside its proof, for signature authentication (RFC 4945 §3): its
 * ID payload and the X.509 certificates of its CERT payloads.
 */
export interface PeerEvidence {
  /** ID type (the same numbers in IKEv1 and IKEv2). */
  readonly idType: number;
  /** ID payload data. */
  readonly idData: Uint8Array;
  /** DER certificates received (end entity and intermediates, any order). */
  readonly certs: readonly Uint8Array[];
}

/** IKEv2 AUTH payload contents (RFC 7296 §3.8). */
export interface V2Proof {
  /** Auth method (AuthMethodV2). */
  readonly method: number;
  /** Authentication data. */
  readonly data: Uint8Array;
  /** DER certificates to send in CERT payloads (ours first, then intermediates). */
  readonly certs?: readonly Uint8Array[];
}

/** What an IKEv2 proof is computed over (RFC 7296 §2.15). */
export interface V2SignedOctets {
  /** The PRF of the IKE SA. */
  readonly prf: PrfAlg;
  /** RealMessage | Nonce | prf(SK_p, ID') of the side that proves. */
  readonly octets: Uint8Array;
  /** The peer's SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4), when it sent them. */
  readonly signatureHashes?: readonly number[];
}

/** One peer's authentication method over the credential store. */
export interface Authenticator {
  /** Method name for logs ("psk", "pubkey"). */
  readonly name: string;
  /**
   * IKEv1 SKEYID (RFC 2409 §5): prf(PSK, Ni_b | Nr_b) for PSK, prf(Ni_b | Nr_b, g^xy) for
   * signatures.
   */
  skeyidV1(
    c: KdfPrimitives,
    prf: PrfAlg,
    ni: Uint8Array,
    nr: Uint8Array,
    gxy: Uint8Array,
  ): Uint8Array | AuthFailure;
  /** IKEv1: our proof over HASH_R (RFC 2409 §5: HASH payload for PSK, SIG for signatures). */
  proveV1(hashR: Uint8Array): V1Proof | AuthFailure;
  /**
   * IKEv1: checks the peer's proof of HASH_I; `proof` is its HASH or SIG payload data,
   * `evidence` its ID and certificates (used by signature methods).
   */
  verifyV1(
    hashI: Uint8Array,
    proof: V1Proof | undefined,
    evidence?: PeerEvidence,
  ): true | AuthFailure;
  /** IKEv2: our AUTH payload over our signed octets. */
  proveV2(c: KdfPrimitives, signed: V2SignedOctets): V2Proof | AuthFailure;
  /** IKEv2: checks the peer's AUTH payload over its signed octets. */
  verifyV2(
    c: KdfPrimitives,
    signed: V2SignedOctets,
    auth: V2Proof,
    evidence?: PeerEvidence,
  ): true | AuthFailure;
  /** IKEv1 Authentication Method attribute values this authenticator can use (RFC 2409 A). */
  readonly v1Methods?: readonly number[];
  /** Our ID payload (type, data) when the method defines a default (a certificate's subject). */
  localId?(configured: string | undefined): { type: number; data: Uint8Array } | undefined;
  /** IKEv1 CR payload data (RFC 2408 §3.10): DER names of the CAs we trust. */
  certRequestsV1?(): readonly Uint8Array[];
  /** IKEv2 CERTREQ data (RFC 7296 §3.7): SHA-1 hashes of our anchors' public keys. */
  certRequestsV2?(): Uint8Array;
}

/** True when `x` is an {@link AuthFailure}. */
export function isAuthFailure(x: unknown): x is AuthFailure {
  return typeof x === "object" && x !== null && (x as AuthFailure).ok === false;
}

/** The authenticator for `peer` (its `auth` setting) over `store`. */
export function authenticatorFor(peer: PeerConfig, store: CredentialStore): Authenticator {
  if (peer.auth === "pubkey") {
    // Certificate peers: loaded by the daemon (src/ike/auth/pubkey.ts, imported only then).
    return store.pubkey?.(peer.name) ?? new PskAuthenticator(undefined, NO_CERTS);
  }
  return new PskAuthenticator(store.sharedKey(peer.name));
}

const NO_CERTS = "no usable certificate credentials loaded for this peer";
