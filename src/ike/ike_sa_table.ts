/**
 * The one IKE SA table of the gateway, shared by the IKEv1 responder and the IKEv2 engine
 * (issue 12: one IKE core, two versions). Each version files its SAs under its own SPI pair
 * (RFC 2408 §3.1 cookies, RFC 7296 §3.1 IKE SPIs; the SA's `key`), so the table is keyed by
 * (version, SPI pair); every entry is tagged with its version. SA state stays in each version's
 * SA type; the table only holds, finds and counts. Views, per-peer lookups (clear ike sa,
 * INITIAL_CONTACT, the connection manager) and the global half-open limits see both versions.
 * @module
 */

import type { IkeSa } from "./sa.ts";
import type { IkeSaV2 } from "./v2/sa.ts";

/** An IKE SA of either version, tagged. */
export type IkeSaEntry =
  | { readonly version: 1; readonly sa: IkeSa }
  | { readonly version: 2; readonly sa: IkeSaV2 };

/** What the table needs of an SA: its SPI-pair key and, once known, its peer. */
interface Filed {
  readonly key: string;
  readonly peer: { readonly name: string } | undefined;
}

/** The SAs of one version inside the shared table, by their SPI-pair key. */
export class VersionSas<S extends Filed> {
  readonly #byKey = new Map<string, S>();
  readonly #halfOpen: (sa: S) => boolean;

  /** `halfOpen`: whether an SA of this version is still before authentication. */
  constructor(halfOpen: (sa: S) => boolean) {
    this.#halfOpen = halfOpen;
  }

  /** The SA filed under `key` (the SPI pair in hex, "spiI:spiR"). */
  get(key: string): S | undefined {
    return this.#byKey.get(key);
  }

  /** Is an SA filed under `key`? */
  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** Files `sa` under `key` (its SPI pair; a v1 initiator's key changes once, see `rekey`). */
  set(key: string, sa: S): void {
    this.#byKey.set(key, sa);
  }

  /** Removes the SA filed under `key`; false when there was none. */
  delete(key: string): boolean {
    return this.#byKey.delete(key);
  }

  /** Every SA of this version (a copy: callers may remove while iterating). */
  values(): S[] {
    return [...this.#byKey.values()];
  }

  /** The SAs of this version whose peer is `peer`. */
  byPeer(peer: string): S[] {
    return this.values().filter((sa) => sa.peer?.name === peer);
  }

  /** Number of SAs of this version not yet authenticated. */
  halfOpen(): number {
    let n = 0;
    for (const sa of this.#byKey.values()) if (this.#halfOpen(sa)) n++;
    return n;
  }

  /** Number of SAs of this version. */
  get size(): number {
    return this.#byKey.size;
  }
}

/** IKEv1: every Phase 1 state before ESTABLISHED (responder and initiator). */
function halfOpenV1(sa: IkeSa): boolean {
  return sa.state !== "ESTABLISHED" && sa.state !== "DELETED";
}

/** IKEv2: IKE_SA_INIT done, IKE_AUTH not yet. */
function halfOpenV2(sa: IkeSaV2): boolean {
  return sa.state.kind === "half-open";
}

/** Both versions' IKE SAs, owned by the dispatcher (src/ike/engine.ts) and handed to both. */
export class IkeSaTable {
  /** IKEv1 SAs by cookie pair. */
  readonly v1: VersionSas<IkeSa> = new VersionSas(halfOpenV1);
  /** IKEv2 SAs by IKE SPI pair. */
  readonly v2: VersionSas<IkeSaV2> = new VersionSas(halfOpenV2);

  /** Every SA of both versions, tagged (IKEv1 first). */
  entries(): IkeSaEntry[] {
    return [
      ...this.v1.values().map((sa) => ({ version: 1 as const, sa })),
      ...this.v2.values().map((sa) => ({ version: 2 as const, sa })),
    ];
  }

  /** The SAs of both versions whose peer is `peer`, tagged. */
  byPeer(peer: string): IkeSaEntry[] {
    return this.entries().filter((e) => e.sa.peer?.name === peer);
  }

  /** Half-open SAs of both versions: what the global half-open limits count. */
  halfOpen(): number {
    return this.v1.halfOpen() + this.v2.halfOpen();
  }

  /** Number of SAs of both versions. */
  get size(): number {
    return this.v1.size + this.v2.size;
  }
}
