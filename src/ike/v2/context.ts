/**
 * What an IKEv2 task gets from the engine (src/ike/v2/engine.ts): the clock, the policy, crypto,
 * the shared child store, an action sink, a log helper and the IKE SA table operations. Tasks
 * never send by themselves: a responder task returns the payloads of its answer and the engine
 * protects, stores (retransmissions) and sends them.
 * @module
 */

import type { DhGroup, DhGroupId } from "../../crypto/types.ts";
import type { CryptoRegistry } from "../../crypto/registry.ts";
import type { LogFields, LogLevel } from "../../log.ts";
import type { Endpoint, IkeAction, IkePolicy } from "../actions.ts";
import type { ChildStore } from "../child/store.ts";
import type { DropReason } from "../drops.ts";
import type { DecodedPayloadV2, PayloadV2 } from "../message/v2/types.ts";
import type { IkeSaV2 } from "./sa.ts";

/** Crypto the IKEv2 engine needs (the registry satisfies it). */
export type V2Crypto =
  & Pick<CryptoRegistry, "aead" | "cipher" | "mac" | "prf" | "hash" | "randomBytes">
  & { dh(group: DhGroupId): DhGroup };

/** The engine's services for tasks. */
export interface V2Context {
  /** The time of this call (ms). */
  readonly now: number;
  /** The policy in force (IKEv2 peers only). */
  readonly policy: IkePolicy;
  /** Crypto. */
  readonly crypto: V2Crypto;
  /** Child SAs and SPIs, shared with IKEv1. */
  readonly store: ChildStore;
  /** Adds an action to the output. */
  emit(action: IkeAction): void;
  /** One log line naming the peer; never secrets. */
  event(level: LogLevel, peer: string, message: string, fields?: LogFields): void;
  /**
   * Counts one unauthenticated datagram dropped for `reason` (`show drops`) and logs it at
   * debug; a summary line follows once a minute (a flood must not become a log flood).
   */
  drop(reason: DropReason, who: string, message: string, fields?: LogFields): void;
  /**
   * Sends an unprotected answer to unauthenticated input (RFC 7296 §2.21.4: "limit the rate"):
   * only within the notify rate and never with more bytes than the request had; false when
   * it was not sent.
   */
  unprotected(
    datagram: Uint8Array,
    local: Endpoint,
    remote: Endpoint,
    requestLength: number,
  ): boolean;
  /**
   * A line about a refusal of unauthenticated input (IKE_SA_INIT): at `level` once per peer
   * and `kind` a minute, else at debug (spoofed floods must not fill the log).
   */
  refusal(
    level: LogLevel,
    peer: string,
    kind: string,
    message: string,
    fields?: LogFields,
  ): void;
  /** Records why a peer is down (for `show peers`). */
  failure(peer: string, why: string): void;
  /** The IKEv2 SAs of `peer` in the shared IKE SA table. */
  peerSas(peer: string): IkeSaV2[];
  /** Adds an SA to the table. */
  addSa(sa: IkeSaV2): void;
  /** Removes an SA and its children (RFC 7296 §1.4.1); `notify` sends a Delete first. */
  removeSa(sa: IkeSaV2, why: string, notify: boolean): void;
}

/** A request as a task sees it: decrypted payloads and where it came from. */
export interface RequestV2 {
  /** Exchange type. */
  readonly exchange: number;
  /** Message ID. */
  readonly messageId: number;
  /** The inner payloads (decrypted). */
  readonly payloads: readonly DecodedPayloadV2[];
  /** Our endpoint it reached. */
  readonly local: Endpoint;
  /** The peer's endpoint. */
  readonly remote: Endpoint;
}

/**
 * What a CREATE_CHILD_SA we answered made (RFC 7296 §2.8.1 compares its nonces with those of
 * a rekey of ours that crossed it); `childId` is set once the child is installed.
 */
export interface CreatedV2 {
  /** A CHILD_SA (new or a rekey) or an IKE SA rekey. */
  readonly kind: "child" | "ike";
  /** The peer's nonce. */
  readonly ni: Uint8Array;
  /** Our nonce. */
  readonly nr: Uint8Array;
  /** The child the exchange rekeyed, if any. */
  readonly rekeys?: string;
  /** The new child, once installed. */
  childId?: string;
  /** The new IKE SA of an IKE SA rekey. */
  readonly ikeSa?: IkeSaV2;
}

/** A task's answer: payloads to protect and send, and what to do afterwards. */
export interface AnswerV2 {
  /** The response payloads. */
  readonly payloads: readonly PayloadV2[];
  /** What a successful CREATE_CHILD_SA made. */
  readonly created?: CreatedV2;
  /**
   * Runs before the response is sent: installs our new child SAs, since the initiator may send
   * on them as soon as it has processed the answer and the responder "MUST be prepared to
   * accept messages on an SA before sending its response" (RFC 7296 §2.8).
   */
  readonly install?: () => void;
  /** Runs after the response was sent (deletes that must follow the answer). */
  readonly after?: () => void;
}

/** The payloads of `kind` in a chain. */
export function allOf<K extends DecodedPayloadV2["kind"]>(
  payloads: readonly DecodedPayloadV2[],
  kind: K,
): (DecodedPayloadV2 & { kind: K })[] {
  return payloads.filter((p) => p.kind === kind) as (DecodedPayloadV2 & { kind: K })[];
}

/** The single payload of `kind`, or undefined when absent or repeated. */
export function oneOf<K extends DecodedPayloadV2["kind"]>(
  payloads: readonly DecodedPayloadV2[],
  kind: K,
): (DecodedPayloadV2 & { kind: K }) | undefined {
  const found = allOf(payloads, kind);
  return found.length === 1 ? found[0] : undefined;
}

/** The Notify payloads of one type. */
export function notifies(payloads: readonly DecodedPayloadV2[], type: number) {
  return allOf(payloads, "n").filter((n) => n.notifyType === type);
}

/** A Notify payload without SPI (RFC 7296 §3.10). */
export function notify(notifyType: number, data: Uint8Array = new Uint8Array(0)): PayloadV2 {
  return { kind: "n", protocol: 0, spi: new Uint8Array(0), notifyType, data };
}
