/**
 * What Phase 2 (Quick Mode, ESP Deletes, lifetimes) needs from the IKEv1 responder around it:
 * the ISAKMP SA's keys and addresses, crypto, and ways to send encrypted Quick Mode and
 * Informational messages. The dispatcher (src/ike/responder.ts) implements {@link QmHost} over
 * its IKE SA table, IV state and message-ID table; tests implement it with a recorder.
 * @module
 */

import type { DhGroup, DhGroupId, PrfAlg } from "../../crypto/types.ts";
import type { KdfPrimitives } from "../../crypto/kdf/primitives.ts";
import type { GatewayConfig, PeerConfig } from "../../config/schema.ts";
import type { LogFields, LogLevel } from "../../log.ts";
import type { Endpoint, IkeAction } from "../actions.ts";
import type { ChainV1 } from "../message/v1/chain.ts";
import type { DeletePayloadV1, NotifyPayloadV1, PayloadV1 } from "../message/v1/types.ts";

/** The crypto calls Phase 2 makes (the registry satisfies it). */
export interface QmCrypto extends KdfPrimitives {
  /** A DH group (PFS). */
  dh(group: DhGroupId): DhGroup;
  /** Random bytes (nonces, SPIs). */
  randomBytes(n: number): Uint8Array;
}

/** The ISAKMP SA as Phase 2 sees it. */
export interface QmIkeSa {
  /** A key unique to this IKE SA (e.g. the cookie pair in hex). */
  readonly key: string;
  /** The matched peer's config. */
  readonly peer: PeerConfig;
  /** Phase 1 PRF. */
  readonly prf: PrfAlg;
  /** SKEYID_d (KEYMAT). */
  readonly skeyidD: Uint8Array;
  /** SKEYID_a (HASH(1..3)). */
  readonly skeyidA: Uint8Array;
  /** Our IKE address and port now in use (after a NAT-T float). */
  readonly local: Endpoint;
  /** The peer's IKE address and port now in use. */
  readonly remote: Endpoint;
  /** NAT-T in use (a NAT detected, or faked by a peer forcing encapsulation, RFC 3947 §3). */
  readonly natt: boolean;
  /** The NAT-T flavour the peer announced (the encapsulation mode number we offer). */
  readonly nattVariant?: "rfc" | "draft";
}

/** What Phase 2 needs from the responder around it. */
export interface QmHost {
  /** Crypto. */
  readonly crypto: QmCrypto;
  /** `[gateway]` settings (NAT-T port, default replay window). */
  readonly gateway: GatewayConfig;
  /** Carries out an action (installSa, deleteSa, send of stored bytes). */
  emit(action: IkeAction): void;
  /** One log line naming the peer; never secrets. */
  event(level: LogLevel, peer: string, message: string, fields?: LogFields): void;
  /**
   * Encrypts and sends one Quick Mode message in exchange `messageId` (IV chain of RFC 2409
   * Appendix B) with header flags `flags` (the E bit is added); returns the datagram sent, kept
   * for retransmission.
   */
  sendQuickMode(
    sa: QmIkeSa,
    messageId: number,
    payloads: readonly PayloadV1[],
    flags: number,
  ): Uint8Array;
  /**
   * Sends an Informational exchange protected by `sa` (HASH(1) of RFC 2409 §5.7) carrying one
   * Notify or Delete, with a fresh message ID unless `messageId` is given (CONNECTED,
   * RFC 2408 §3.1).
   */
  sendInformational(
    sa: QmIkeSa,
    payload: NotifyPayloadV1 | DeletePayloadV1,
    messageId?: number,
  ): void;
  /** The peer's established IKE SA, if any (for Deletes when an SA expires). */
  liveIkeSa(peer: string): QmIkeSa | undefined;
}

/** A Quick Mode message as the dispatcher hands it over (decrypted and decoded). */
export interface QmMessage {
  /** The ISAKMP header's message ID. */
  readonly messageId: number;
  /** The header's flags (the commit bit matters). */
  readonly flags: number;
  /** The decrypted payload chain (padding excluded from `bytes`). */
  readonly chain: ChainV1;
  /** The raw datagram, for recognising retransmissions. */
  readonly datagram: Uint8Array;
  /**
   * Called once HASH(1) or HASH(3) verified on a message that is not a retransmission, before
   * anything is sent: the dispatcher commits IV state, liveness and endpoints (RFC 3947 §4).
   */
  readonly accepted?: () => void;
}
