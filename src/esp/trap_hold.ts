/**
 * `start_action = "trap"` in the data path: an outbound packet that reaches the TUN device for
 * a trap peer's remote_ts while no SA covers it is held (a copy), so the packet that makes the
 * daemon dial is not lost: at most {@link HOLD_PER_TRAP} per trap and {@link HOLD_TOTAL} in
 * all, the oldest dropped (and counted) first; once an outbound SA is installed the held
 * packets are offered to the SA database again, and those still uncovered after
 * {@link HOLD_MS} are dropped (counted). Memory is bounded by HOLD_TOTAL × MTU. Sans-I/O:
 * buffers and the caller's clock in, copies out; the pump (src/esp/pump.ts) calls it.
 * @module
 */

import type { TrafficSelector } from "./sa_spec.ts";
import {
  type CompiledSelector,
  compileSelectors,
  matchesSelectors,
  newInnerHeader,
  parseInnerHeader,
} from "./selectors.ts";

/** Packets held per trap (per trap peer). */
export const HOLD_PER_TRAP = 8;
/** Packets held in all. */
export const HOLD_TOTAL = 64;
/** How long a packet is held (ms) before it is dropped. */
export const HOLD_MS = 10_000;

/** What the hold did since the data path started. */
export interface TrapHoldStats {
  /** Packets taken into the hold. */
  held: number;
  /** Held packets that left through an SA. */
  sent: number;
  /** Held packets dropped to make room (per-trap or total bound). */
  overflow: number;
  /** Held packets dropped after {@link HOLD_MS} without an SA (or when the traps changed). */
  expired: number;
}

interface Held {
  readonly trap: number;
  readonly at: number;
  readonly packet: Uint8Array;
}

// Any source address of either family: a trap is about the destination.
const ANY = compileSelectors([
  {
    startAddress: "0.0.0.0",
    endAddress: "255.255.255.255",
    protocol: 0,
    startPort: 0,
    endPort: 65535,
  },
  {
    startAddress: "::",
    endAddress: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    protocol: 0,
    startPort: 0,
    endPort: 65535,
  },
]);

/** The packets held for trap peers. */
export class TrapHold {
  readonly stats: TrapHoldStats = { held: 0, sent: 0, overflow: 0, expired: 0 };
  #traps: CompiledSelector[][] = [];
  #queue: Held[] = []; // oldest first
  readonly #h = newInnerHeader();

  /** Packets held now. */
  get size(): number {
    return this.#queue.length;
  }

  /**
   * The traps' remote selectors, one list per trap peer (replacing the previous ones; what
   * was held for them is dropped as expired). Throws a RangeError for an unusable selector.
   */
  setTraps(traps: readonly (readonly TrafficSelector[])[]): void {
    this.#traps = traps.map((t) => compileSelectors(t));
    this.stats.expired += this.#queue.length;
    this.#queue = [];
  }

  /**
   * Holds a copy of the inner packet at `buf[offset, offset+length)` when its destination is
   * a trap's (no SA covered it); returns whether it did.
   */
  keep(buf: Uint8Array, offset: number, length: number, now: number): boolean {
    if (this.#traps.length === 0) return false;
    const h = this.#h;
    if (!parseInnerHeader(buf, offset, length, h)) return false;
    const trap = this.#traps.findIndex((dst) => matchesSelectors(buf, h, ANY, dst));
    if (trap < 0) return false;
    this.#expire(now);
    let mine = 0;
    for (const x of this.#queue) if (x.trap === trap) mine++;
    if (mine >= HOLD_PER_TRAP) {
      this.#queue.splice(this.#queue.findIndex((x) => x.trap === trap), 1);
      this.stats.overflow++;
    } else if (this.#queue.length >= HOLD_TOTAL) {
      this.#queue.shift();
      this.stats.overflow++;
    }
    this.#queue.push({ trap, at: now, packet: buf.slice(offset, offset + length) });
    this.stats.held++;
    return true;
  }

  /**
   * Offers every held packet, oldest first, to `send`, which returns true when an SA took it;
   * those are released, the rest stay (with their age). Expired ones are dropped first.
   */
  release(now: number, send: (packet: Uint8Array) => boolean): void {
    this.#expire(now);
    if (this.#queue.length === 0) return;
    const rest: Held[] = [];
    for (const x of this.#queue) {
      if (send(x.packet)) this.stats.sent++;
      else rest.push(x);
    }
    this.#queue = rest;
  }

  /** Drops packets held for {@link HOLD_MS} or longer. */
  expire(now: number): void {
    this.#expire(now);
  }

  #expire(now: number): void {
    let n = 0;
    while (n < this.#queue.length && now - this.#queue[n]!.at >= HOLD_MS) n++;
    if (n === 0) return;
    this.#queue.splice(0, n);
    this.stats.expired += n;
  }
}
