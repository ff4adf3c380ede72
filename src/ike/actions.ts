/**
 * The contract of the sans-I/O IKE responder: what goes in (datagrams, clock ticks, lifetime
 * events from the data path, config changes) and what comes out (actions the caller carries out).
 *
 * The responder owns no socket, timer or SA database. The daemon (src/daemon/) reads datagrams
 * from UDP 500 and from the data path's NAT-T port (4500, after removing the 4-byte non-ESP
 * marker of RFC 3948 §2.2), passes them to {@link IkeResponder.handle} with the time, and
 * executes the returned {@link IkeAction}s in order. Tests drive the same interface with a
 * scripted initiator and a fake clock, without root.
 * @module
 */

import type { Config } from "../config/schema.ts";
import type { CredentialStore } from "./auth/credentials.ts";
import type { EspLifetimeEvent, EspSaSpec } from "../esp/sa_spec.ts";
import type { LogFields, LogLevel } from "../log.ts";
import type { ChildSaView, IkeSaView, PeerStateView } from "./views.ts";

export type { ChildSaView, IkeSaView, PeerStateView } from "./views.ts";

/** One side of a UDP exchange. */
export interface Endpoint {
  /** IP address as text ("192.0.2.1", "2001:db8::1"). */
  readonly address: string;
  /** UDP port. */
  readonly port: number;
}

/**
 * Send one IKE datagram. When `local.port` is the NAT-T port the caller prepends the non-ESP
 * marker (RFC 3948 §2.2) and sends from the shared ESP-in-UDP socket; otherwise from port 500.
 */
export interface SendAction {
  /** Discriminant. */
  readonly kind: "send";
  /** The whole ISAKMP message, header first. */
  readonly datagram: Uint8Array;
  /** Our address and port to send from. */
  readonly local: Endpoint;
  /** The peer's address and port. */
  readonly remote: Endpoint;
}

/** Install one unidirectional ESP SA in the data path (Quick Mode finished). */
export interface InstallSaAction {
  /** Discriminant. */
  readonly kind: "installSa";
  /** Everything the data path needs, keys included (never logged). */
  readonly spec: EspSaSpec;
}

/** Remove one ESP SA from the data path (Delete received, rekeyed SA expired, peer cleared). */
export interface DeleteSaAction {
  /** Discriminant. */
  readonly kind: "deleteSa";
  /** SPI in host order, as in the spec that installed it. */
  readonly spi: number;
  /** Direction, as in the spec that installed it. */
  readonly direction: "in" | "out";
  /** Peer name, for the log. */
  readonly peer: string;
}

/**
 * The responder's earliest pending deadline changed: call {@link IkeResponder.tick} at `at`
 * (milliseconds on the clock the caller passes as `now`). A later timer action replaces an
 * earlier one; the caller keeps one timer.
 */
export interface TimerAction {
  /** Discriminant. */
  readonly kind: "timer";
  /** When to call `tick`, in the caller's milliseconds. */
  readonly at: number;
}

/**
 * Something an operator should see: one clear line naming the peer and the cause (a proposal
 * mismatch names what was offered beside what is configured; a wrong PSK says so). Fields never
 * carry secrets: the daemon logs them as they are.
 */
export interface EventAction {
  /** Discriminant. */
  readonly kind: "event";
  /** Severity. */
  readonly level: LogLevel;
  /** Peer name, or the peer's address when no configured peer matched. */
  readonly peer: string;
  /** The line. */
  readonly message: string;
  /** Extra key/value pairs (SPIs, algorithms, exchange). */
  readonly fields: LogFields;
}

/**
 * For the connection manager (src/ike/initiator/connections.ts): a tunnel we dialled came up
 * (IKE SA and a child), our attempt failed, or an established peer was lost (dead, deleted,
 * expired without a successor).
 */
export interface ConnectionAction {
  /** Discriminant. */
  readonly kind: "connection";
  /** Peer name. */
  readonly peer: string;
  /** What happened. */
  readonly event: "up" | "failed" | "down";
  /** Why (failed, down), or "". */
  readonly reason: string;
}

/** Everything the responder asks its caller to do. */
export type IkeAction =
  | SendAction
  | InstallSaAction
  | DeleteSaAction
  | TimerAction
  | EventAction
  | ConnectionAction;

/**
 * What the engine answers from: the validated config with defaults applied and the credential
 * store (pre-shared keys from `psk` or `psk_file`; certificates later). A peer without
 * credentials cannot authenticate.
 */
export interface IkePolicy {
  /** The running config. */
  readonly config: Config;
  /** Credentials by peer name (src/ike/auth/credentials.ts). */
  readonly credentials: CredentialStore;
}

/**
 * The sans-I/O IKE engine (both versions behind src/ike/engine.ts). Every method returns the
 * actions to carry out, in order; none throws on bad input (a malformed datagram yields at most
 * an event and maybe a Notify). Times are milliseconds on one monotonic clock chosen by the
 * caller. Initiating (`initiate(peer, now)`) joins this interface with the initiator work.
 */
export interface IkeEngine {
  /**
   * One received IKE datagram (ISAKMP header first; the NAT-T marker already removed).
   * `local` is the address and port it was sent to, `remote` where it came from.
   */
  handle(datagram: Uint8Array, local: Endpoint, remote: Endpoint, now: number): IkeAction[];
  /** Timers: retransmits, half-open expiry, DPD, lifetimes. */
  tick(now: number): IkeAction[];
  /** A soft or hard lifetime event the data path raised. */
  espLifetime(event: EspLifetimeEvent, now: number): IkeAction[];
  /**
   * A new config (commit). Peers whose settings are unchanged keep their SAs; removed or
   * changed peers' SAs are deleted (Delete notifications sent).
   */
  setPolicy(policy: IkePolicy, now: number): IkeAction[];
  /**
   * Dial `peer` (its config's mode and proposals) at `remote` (an address the caller resolved
   * from the peer's `remote`), port 500. The outcome comes back as a {@link ConnectionAction}.
   * Optional: an engine that cannot dial (yet) leaves it out and the caller reports that.
   */
  initiate?(peer: string, remote: string, now: number): IkeAction[];
  /** `clear ike sa NAME`: Deletes for the peer's ESP and ISAKMP SAs, state dropped. */
  deletePeer(peer: string, now: number): IkeAction[];
  /** Shutdown: Deletes to every peer, all state dropped. */
  shutdown(now: number): IkeAction[];
  /** IKE SAs for `show ike sa`. */
  ikeSas(now: number): IkeSaView[];
  /** Child SAs for `show esp sa` (the daemon adds the data path's counters by SPI). */
  childSas(now: number): ChildSaView[];
  /** Per configured peer state for `show peers`. */
  peerStates(now: number): PeerStateView[];
  /** Unauthenticated input dropped since start, by reason (`show drops`). */
  drops?(): ReadonlyMap<string, number>;
}

/** The engine under its former name (callers written before the IKEv2 core). */
export type IkeResponder = IkeEngine;
