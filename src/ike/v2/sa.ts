/**
 * The IKEv2 IKE SA with typed states (RFC 7296 §1, §2.3): what exists in each state is in that
 * state's variant, so no `!` is needed to reach keys or the peer. `HalfOpen`: IKE_SA_INIT
 * answered, keys derived, no peer chosen; `Established`: authenticated, peer known; `Deleted`.
 * The message-ID window (size 1, §2.3) and the stored last response (retransmissions) are kept
 * per SA for the requests the peer sends, and for the requests we send (liveness, Delete).
 * @module
 */

import type { PeerConfig } from "../../config/schema.ts";
import type { Endpoint } from "../actions.ts";
import { FlagV2 } from "../message/header.ts";
import { hex } from "../sa.ts";
import type { IkeRole } from "./keys.ts";
import type { IkeAlgorithmsV2 } from "./proposal.ts";
import type { SkCodec } from "./protect.ts";

/** Keys of an IKE SA besides the SK codec (RFC 7296 §2.14). */
export interface SaSecrets {
  /** SK_d: child SA keys and the next IKE SA's SKEYSEED. */
  readonly skD: Uint8Array;
  /** SK_pi: the initiator's AUTH. */
  readonly skPi: Uint8Array;
  /** SK_pr: our AUTH. */
  readonly skPr: Uint8Array;
}

/**
 * IKE_SA_INIT done, keys derived, IKE_AUTH not yet: as responder waiting for the request, as
 * initiator waiting for the answer to ours.
 */
export interface HalfOpen {
  /** Discriminant. */
  readonly kind: "half-open";
  /** The IKE_SA_INIT request as sent by the initiator (InitiatorSignedOctets). */
  readonly initRequest: Uint8Array;
  /** The IKE_SA_INIT response as sent by the responder (ResponderSignedOctets). */
  readonly initResponse: Uint8Array;
  /** Ni. */
  readonly ni: Uint8Array;
  /** Nr. */
  readonly nr: Uint8Array;
  /** The peer's SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4), if it sent them. */
  readonly signatureHashes?: readonly number[];
}

/** Authenticated. */
export interface Established {
  /** Discriminant. */
  readonly kind: "established";
  /** The peer's config. */
  readonly peer: PeerConfig;
  /** When authenticated (ms). */
  readonly at: number;
  /** The peer's identity as text, for logs and `show`. */
  readonly remoteId: string;
}

/** Gone (kept only while actions referring to it are emitted). */
export interface Deleted {
  /** Discriminant. */
  readonly kind: "deleted";
}

/** One of the states. */
export type SaStateV2 = HalfOpen | Established | Deleted;

/** A request we sent and await the answer to (liveness check, Delete). */
export interface OutstandingRequest {
  /** Its message ID. */
  readonly messageId: number;
  /** Why we sent it (rekey: a CREATE_CHILD_SA of ours, rekey.ts). */
  readonly purpose: "liveness" | "delete" | "rekey";
  /** The datagrams (fragments) to retransmit. */
  readonly datagrams: readonly Uint8Array[];
  /** First sent (ms). */
  readonly firstSent: number;
  /** Retransmissions so far. */
  tries: number;
  /** Next retransmission due (ms). */
  nextAt: number;
}

/**
 * An IKEv2 IKE SA, of which we are the original responder or (`role` "initiator", we dialled)
 * the original initiator (RFC 7296 §2.2).
 */
export class IkeSaV2 {
  /** IKE major version. */
  readonly version = 2 as const;
  /** Whether we are the original initiator or responder of this SA. */
  readonly role: IkeRole;
  /** The original initiator's SPI. */
  readonly spiI: Uint8Array;
  /** The original responder's SPI. */
  readonly spiR: Uint8Array;
  /** "spiI:spiR" in hex, the table key. */
  readonly key: string;
  /** Agreed algorithms. */
  readonly alg: IkeAlgorithmsV2;
  /** Encryption/integrity of the SA. */
  readonly sk: SkCodec;
  /** SK_d, SK_pi, SK_pr. */
  readonly secrets: SaSecrets;
  /** State. */
  state: SaStateV2;
  /** Our endpoint now in use. */
  local: Endpoint;
  /** The peer's endpoint now in use. */
  remote: Endpoint;
  /** A NAT was detected on either side (§2.23): ESP goes in UDP, IKE moves to 4500. */
  natt: boolean;
  /** The peer announced IKEV2_FRAGMENTATION_SUPPORTED and we answered it (RFC 7383 §2.3). */
  fragmentation: boolean;
  /** Created (ms). */
  readonly created: number;
  /** Last authenticated message from the peer (ms). */
  lastSeen: number;
  /** The next request message ID we expect from the peer (§2.3, window 1). */
  expectedMid = 0;
  /** Our answer to the peer's last request, for retransmissions (§2.1). */
  lastResponse:
    | { readonly messageId: number; readonly datagrams: readonly Uint8Array[] }
    | undefined;
  /** The message ID of our next request. */
  nextOwnMid = 0;
  /** Our request in flight (window 1). */
  outstanding: OutstandingRequest | undefined;
  /** Hard expiry (ms) once established. */
  expiresAt = 0;

  /** A new SA after an IKE_SA_INIT exchange (or an IKE SA rekey, which starts established). */
  constructor(init: {
    spiI: Uint8Array;
    spiR: Uint8Array;
    alg: IkeAlgorithmsV2;
    sk: SkCodec;
    secrets: SaSecrets;
    state: SaStateV2;
    local: Endpoint;
    remote: Endpoint;
    natt: boolean;
    fragmentation: boolean;
    now: number;
    role?: IkeRole;
  }) {
    this.role = init.role ?? "responder";
    this.spiI = init.spiI.slice();
    this.spiR = init.spiR.slice();
    this.key = `${hex(init.spiI)}:${hex(init.spiR)}`;
    this.alg = init.alg;
    this.sk = init.sk;
    this.secrets = init.secrets;
    this.state = init.state;
    this.local = init.local;
    this.remote = init.remote;
    this.natt = init.natt;
    this.fragmentation = init.fragmentation;
    this.created = init.now;
    this.lastSeen = init.now;
  }

  /** RFC 7296 §3.1: the I flag on every message the original initiator sends. */
  get ownFlags(): number {
    return this.role === "initiator" ? FlagV2.INITIATOR : 0;
  }

  /** The peer's config once authenticated. */
  get peer(): PeerConfig | undefined {
    return this.state.kind === "established" ? this.state.peer : undefined;
  }

  /** The peer's name, or its address before authentication. */
  get peerName(): string {
    return this.peer?.name ?? this.remote.address;
  }

  /** The state as `show ike sa` prints it. */
  get stateName(): string {
    if (this.role === "initiator" && this.state.kind === "half-open") return "IKE_AUTH_SENT";
    const names = {
      "half-open": "IKE_SA_INIT_DONE",
      established: "ESTABLISHED",
      deleted: "DELETED",
    };
    return names[this.state.kind];
  }
}
