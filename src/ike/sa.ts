/**
 * The one IKE SA object of the responder: cookies, state, matched peer, endpoints (moved by a
 * NAT-T float), negotiated Phase 1 algorithms, SKEYID family, the Phase 1 IV chain, the
 * message-ID table for Quick Mode and Informational exchanges (RFC 2409 Appendix B), NAT-T and
 * DPD state. Pure data plus tiny helpers; the exchange handlers in src/ike/v1/ fill it in.
 * @module
 */

import type { PeerConfig } from "../config/schema.ts";
import type { CipherAlg, DhGroupId, DhKeyPair, HashAlg, PrfAlg } from "../crypto/types.ts";
import type { Endpoint } from "./actions.ts";
import type { PendingRequest } from "./initiator/retransmit.ts";

/**
 * IKEv1 Phase 1 states as `show ike sa` prints them: responder (MM_SA_SENT, MM_KEY_SENT,
 * AM_SENT) and initiator (MM_I1..3: message 1, 3 or 5 sent; AM_I1: Aggressive Mode message 1
 * sent).
 */
export type IkeSaState =
  | "MM_SA_SENT"
  | "MM_KEY_SENT"
  | "AM_SENT"
  | "MM_I1"
  | "MM_I3"
  | "MM_I5"
  | "AM_I1"
  | "ESTABLISHED"
  | "DELETED";

/** The Phase 1 algorithms agreed in the SA payload (RFC 2409 Appendix A). */
export interface Phase1Algorithms {
  /** CBC cipher. */
  readonly cipher: CipherAlg;
  /** Cipher key length in bytes. */
  readonly keyLength: number;
  /** Hash algorithm (IVs, NAT-D). */
  readonly hash: HashAlg;
  /** PRF: HMAC of the hash (RFC 2409 §5: no PRF attribute negotiated). */
  readonly prf: PrfAlg;
  /** Diffie-Hellman group. */
  readonly group: DhGroupId;
  /** Authentication method. */
  readonly auth: "psk" | "pubkey";
  /** Lifetime in seconds (bounded by ike_lifetime). */
  readonly lifetimeSeconds: number;
  /** Lifetime in kilobytes when the peer offered one (0: none). */
  readonly lifetimeKilobytes: number;
  /** Proposal syntax ("aes256-sha256-modp2048"). */
  readonly text: string;
}

/** Per message ID state of a Quick Mode or Informational exchange. */
export interface MessageIdState {
  /** The IV for the next message of this exchange (last CBC block of the previous one). */
  iv: Uint8Array;
  /** The last request received: its bytes and the IV that decrypted it (retransmits). */
  lastIn?: { readonly datagram: Uint8Array; readonly iv: Uint8Array };
  /** When this entry was last used (ms), for pruning. */
  touched: number;
}

/** NAT traversal state (RFC 3947). */
export interface NatState {
  /** The peer sent a NAT-T vendor ID we support: "rfc" (RFC 3947) or "draft" (02/03). */
  variant?: "rfc" | "draft";
  /** The peer is behind a NAT (its NAT-D hash did not match what we see), or faked. */
  peerBehindNat: boolean;
  /** We are behind a NAT (the peer saw a different address/port for us). */
  selfBehindNat: boolean;
  /** Encapsulation forced by `encap = true` in the peer config. */
  forced: boolean;
}

/** Dead peer detection state (RFC 3706). */
export interface DpdState {
  /** The peer announced DPD support with its vendor ID. */
  supported: boolean;
  /** The next R-U-THERE sequence number we send. */
  ourSeq: number;
  /** The R-U-THERE we await an ACK for, if any. */
  pendingSeq?: number;
  /** When we last sent an R-U-THERE (ms). */
  lastProbe: number;
  /** The highest sequence number the peer used in its R-U-THERE. */
  peerSeq?: number;
}

/** Material of the Phase 1 exchange in flight (dropped once established). */
export interface Phase1Exchange {
  /** The initiator's SA payload body (SAi_b). */
  saiB: Uint8Array;
  /** Our DH key pair. */
  dh?: DhKeyPair;
  /** g^xi. */
  gxi?: Uint8Array;
  /** g^xr. */
  gxr?: Uint8Array;
  /** Ni_b. */
  ni?: Uint8Array;
  /** Nr_b. */
  nr?: Uint8Array;
  /** g^xy. */
  gxy?: Uint8Array;
  /** Our ID payload body (IDir_b) in Aggressive Mode. */
  idrB?: Uint8Array;
  /** The initiator's ID payload body (IDii_b) in Aggressive Mode. */
  idiB?: Uint8Array;
}

/** A zero-length key, shared: the value of key material not (or no longer) held. */
export const NO_KEY: Uint8Array = new Uint8Array(0);

/** One IKE (ISAKMP) SA. */
export class IkeSa {
  /** The role we play in Phase 1. */
  readonly role: "initiator" | "responder";
  /** Phase 1 mode. */
  readonly mode: "main" | "aggressive";
  /** Initiator cookie. */
  readonly ckyI: Uint8Array;
  /** Responder cookie (zero in an initiator's SA until message 2 arrives). */
  ckyR: Uint8Array;
  /** Cookie pair in hex, the table key ("ckyI:ckyR"). */
  key: string;
  /** As initiator: our outstanding Phase 1 request (retransmitted until answered). */
  request: PendingRequest | undefined;
  /** As initiator: when to re-authenticate (new Phase 1 before expiry, jittered margin; ms). */
  rekeyAt = 0;
  /** Exchange state. */
  state: IkeSaState;
  /** The matched peer config, once known. */
  peer: PeerConfig | undefined;
  /** Our address and port in use. */
  local: Endpoint;
  /** The peer's address and port in use. */
  remote: Endpoint;
  /** Agreed algorithms, once message 1 is answered. */
  alg: Phase1Algorithms | undefined;
  /** SKEYID, while Phase 1 authenticates (zeroed and dropped once established). */
  skeyid: Uint8Array = NO_KEY;
  /** SKEYID_d. */
  skeyidD: Uint8Array = NO_KEY;
  /** SKEYID_a. */
  skeyidA: Uint8Array = NO_KEY;
  /** The ISAKMP encryption key derived from SKEYID_e. */
  encKey: Uint8Array = NO_KEY;
  /** The current Phase 1 IV: the last CBC block of the previous Phase 1 message. */
  iv: Uint8Array = new Uint8Array(0);
  /** The last CBC block of the last Phase 1 message (base of Phase 2 IVs), once established. */
  lastPhase1Block: Uint8Array = new Uint8Array(0);
  /** Exchange material while negotiating. */
  exchange: Phase1Exchange | undefined;
  /** SHA-256 of the last Phase 1 request (v1/replay_guard.ts), to answer retransmissions. */
  lastRequest: Uint8Array | undefined;
  /** Our answer to {@link lastRequest}. */
  lastResponse: Uint8Array | undefined;
  /** Quick Mode / Informational exchanges by message ID. */
  readonly messages = new Map<number, MessageIdState>();
  /** Message IDs of authenticated inbound Informationals (replay check, v1/replay_guard.ts). */
  readonly seenInformational = new Set<number>();
  /** NAT-T state. */
  readonly nat: NatState;
  /** DPD state. */
  readonly dpd: DpdState = { supported: false, ourSeq: 1, lastProbe: 0 };
  /** The peer sent INITIAL-CONTACT during Phase 1. */
  initialContact = false;
  /** Created (ms). */
  readonly created: number;
  /** Established (ms), 0 before. */
  established = 0;
  /** Any authenticated message last received from the peer (ms). */
  lastSeen: number;

  /** A new SA: a responder's for an initiator's first message, or our own as initiator. */
  constructor(
    mode: "main" | "aggressive",
    ckyI: Uint8Array,
    ckyR: Uint8Array,
    local: Endpoint,
    remote: Endpoint,
    now: number,
    role: "initiator" | "responder" = "responder",
  ) {
    this.role = role;
    this.request = undefined;
    this.mode = mode;
    // Both cookies in one buffer (an ArrayBuffer costs more than its 8 bytes, per SA).
    const cookies = new Uint8Array(ckyI.length + ckyR.length);
    cookies.set(ckyI);
    cookies.set(ckyR, ckyI.length);
    this.ckyI = cookies.subarray(0, ckyI.length);
    this.ckyR = cookies.subarray(ckyI.length);
    this.key = saKey(ckyI, ckyR);
    this.state = role === "initiator"
      ? (mode === "main" ? "MM_I1" : "AM_I1")
      : mode === "main"
      ? "MM_SA_SENT"
      : "AM_SENT";
    this.local = local;
    this.remote = remote;
    this.created = now;
    this.lastSeen = now;
    this.nat = { peerBehindNat: false, selfBehindNat: false, forced: false };
  }

  /**
   * Forgets the last Phase 1 request's digest and our answer, kept to answer a retransmission:
   * an authenticated Quick Mode message shows the peer has our last Phase 1 message (it checks
   * HASH_R/SIG_R before any Phase 2, RFC 2409 §5). An Informational does not: its HASH uses
   * SKEYID_a, which the initiator has before our last Main Mode message arrives.
   */
  forgetPhase1Answer(): void {
    this.lastRequest = undefined;
    this.lastResponse = undefined;
  }

  /** As initiator: the responder's cookie from message 2 (the table key changes with it). */
  setResponderCookie(ckyR: Uint8Array): void {
    this.ckyR = ckyR.slice();
    this.key = saKey(this.ckyI, this.ckyR);
  }

  /** The peer's name, or its address while no peer config matched. */
  get peerName(): string {
    return this.peer?.name ?? this.remote.address;
  }

  /** UDP encapsulation is due: a NAT either side, or forced. */
  get natt(): boolean {
    return this.nat.peerBehindNat || this.nat.selfBehindNat || this.nat.forced;
  }

  /** When the SA expires (ms), once established. */
  get expires(): number | undefined {
    if (this.established === 0 || this.alg === undefined) return undefined;
    return this.established + this.alg.lifetimeSeconds * 1000;
  }
}

/**
 * An IKEv1 SA whose Phase 1 algorithms and peer are known: every established SA, and one in
 * Phase 1 once the peer and the proposal were chosen. Code taking this type reaches `alg` and
 * `peer` without assertions; {@link isKeyed} narrows to it.
 */
export type KeyedIkeSa = IkeSa & { readonly alg: Phase1Algorithms; readonly peer: PeerConfig };

/** Whether `sa` has its algorithms and peer ({@link KeyedIkeSa}). */
export function isKeyed(sa: IkeSa): sa is KeyedIkeSa {
  return sa.alg !== undefined && sa.peer !== undefined;
}

/** A keyed SA during Phase 1: its exchange material exists too. */
export type NegotiatingIkeSa = KeyedIkeSa & { readonly exchange: Phase1Exchange };

/** Whether `sa` is keyed and still holds its Phase 1 exchange material. */
export function isNegotiating(sa: IkeSa): sa is NegotiatingIkeSa {
  return isKeyed(sa) && sa.exchange !== undefined;
}

/** Whether `sa` completed Phase 1 (established and keyed). */
export function isEstablished(sa: IkeSa): sa is KeyedIkeSa {
  return sa.state === "ESTABLISHED" && isKeyed(sa);
}

/** Hex of bytes. */
export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The table key of a cookie pair. */
export function saKey(ckyI: Uint8Array, ckyR: Uint8Array): string {
  return `${hex(ckyI)}:${hex(ckyR)}`;
}
