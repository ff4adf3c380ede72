/**
 * What a Phase 1 or Informational exchange handler gets from the dispatcher
 * (src/ike/responder.ts): the clock, policy, crypto, an action sink, a log helper, the SA
 * table operations and the send helpers that keep the IV chain (RFC 2409 Appendix B).
 * Phase 2 reaches the dispatcher through {@link QmHost} (phase2_host.ts) instead.
 * @module
 */

import type { LogFields, LogLevel } from "../../log.ts";
import type { Endpoint, IkeAction, IkePolicy } from "../actions.ts";
import type { DeletePayloadV1, NotifyPayloadV1, PayloadV1 } from "../message/v1/types.ts";
import type { IkeSa, KeyedIkeSa } from "../sa.ts";
import type { CipherProvider } from "./crypto_state.ts";
import type { Phase2 } from "./phase2.ts";
import type { QmCrypto } from "./phase2_host.ts";
import type { QmHost } from "./phase2_host.ts";
import type { CookieMaker } from "./cookies.ts";
import type { DropReason } from "../drops.ts";

/** Crypto the IKEv1 responder needs (the registry satisfies it). */
export type V1Crypto = QmCrypto & CipherProvider;

/** Where a datagram came in. */
export interface Arrival {
  /** The whole datagram. */
  readonly datagram: Uint8Array;
  /** Our address and port it reached. */
  readonly local: Endpoint;
  /** The peer's address and port. */
  readonly remote: Endpoint;
}

/** The dispatcher's services for exchange handlers. */
export interface ExchangeContext {
  /** The time of this call (ms). */
  readonly now: number;
  /** The policy in force. */
  readonly policy: IkePolicy;
  /** Crypto. */
  readonly crypto: V1Crypto;
  /** Responder cookies. */
  readonly cookies: CookieMaker;
  /** Phase 2 (Quick Mode, ESP Deletes). */
  readonly phase2: Phase2;
  /** The QmHost view of the dispatcher. */
  readonly host: QmHost;
  /** Adds an action to the output. */
  emit(action: IkeAction): void;
  /** One log line naming the peer; never secrets. */
  event(level: LogLevel, peer: string, message: string, fields?: LogFields): void;
  /** Counts and logs (at debug) input dropped before it authenticated (drops.ts). */
  drop(reason: DropReason, who: string, message: string, fields?: LogFields): void;
  /** Records why a peer is down (for `show peers`). */
  failure(peer: string, why: string): void;
  /** Adds a new SA to the table (half-open index included). */
  addSa(sa: IkeSa, ckyIndex: string): void;
  /** The SA's table key changed from `oldKey` (an initiator learnt the responder cookie). */
  rekeySa(sa: IkeSa, oldKey: string): void;
  /** Removes an SA from the table and tells Phase 2; no message is sent. */
  removeSa(sa: IkeSa, why: string): void;
  /** The IKEv1 SAs of `peer` in the shared IKE SA table. */
  peerSas(peer: string): IkeSa[];
  /** Sends an unencrypted Phase 1 message from `sa` and returns its bytes. */
  sendPlain(sa: IkeSa, exchangeType: number, payloads: readonly PayloadV1[]): Uint8Array;
  /** Sends an encrypted Phase 1 message (message ID 0, Phase 1 IV chain) and returns it. */
  sendPhase1Encrypted(
    sa: KeyedIkeSa,
    exchangeType: number,
    payloads: readonly PayloadV1[],
  ): Uint8Array;
  /** An unprotected Notify about `sa` (Phase 1 failures before keys are agreed). */
  notifyPlain(sa: IkeSa, notifyType: number): void;
  /** A protected Informational exchange (HASH(1), RFC 2409 §5.7) on an established SA. */
  sendInformational(
    sa: IkeSa,
    payload: NotifyPayloadV1 | DeletePayloadV1,
    messageId?: number,
  ): void;
}
