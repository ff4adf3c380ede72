/**
 * Reassembly of RFC 7383 Encrypted Fragment messages with bounded memory, the same for the
 * peer's requests and the peer's responses to ours: one message at a time per IKE SA and
 * direction (window size 1), at most {@link MAX_FRAGMENTS} fragments and {@link MAX_BYTES}
 * octets each, {@link MAX_TOTAL_BYTES} over every SA ({@link FragmentQueues}). The engine
 * authenticates each fragment before it is added (§2.6); a fragment of another message ID, or
 * announcing more fragments, starts over, one announcing fewer is discarded (§2.6).
 * @module
 */

import { concat } from "../../crypto/kdf/primitives.ts";

/** Most fragments accepted for one message. */
export const MAX_FRAGMENTS = 64;
/** Most reassembled octets for one message. */
export const MAX_BYTES = 65_536;
/** Most octets held by every incomplete message together (all SAs, both directions). */
export const MAX_TOTAL_BYTES = 1_048_576;

/** The outcome of adding one authenticated fragment. */
export type FragmentOutcome =
  | { readonly kind: "incomplete" }
  | { readonly kind: "complete"; readonly first: number; readonly inner: Uint8Array }
  | { readonly kind: "refused"; readonly reason: string };

/** One message being reassembled. */
export class Reassembly {
  #mid = -1;
  #total = 0;
  #first = 0;
  #parts: (Uint8Array | undefined)[] = [];
  #bytes = 0;

  /**
   * Adds fragment `number` of `total` of message `mid`, already decrypted (`inner`); `next`
   * is the first inner payload type (fragment 1 only).
   */
  add(
    mid: number,
    number: number,
    total: number,
    next: number,
    inner: Uint8Array,
  ): FragmentOutcome {
    if (total > MAX_FRAGMENTS) {
      return { kind: "refused", reason: `${total} fragments (max ${MAX_FRAGMENTS})` };
    }
    if (number < 1 || number > total) {
      return { kind: "refused", reason: `fragment ${number} of ${total}` };
    }
    if (mid === this.#mid && total < this.#total) {
      // RFC 7383 §2.6: fewer fragments than those queued: silently discarded.
      return { kind: "refused", reason: `total ${total} below the ${this.#total} queued` };
    }
    if (mid !== this.#mid || total !== this.#total) {
      this.#mid = mid;
      this.#total = total;
      this.#parts = new Array(total).fill(undefined);
      this.#bytes = 0;
      this.#first = 0;
    }
    if (this.#parts[number - 1] !== undefined) return { kind: "incomplete" };
    if (this.#bytes + inner.length > MAX_BYTES) {
      this.clear();
      return { kind: "refused", reason: `reassembled message above ${MAX_BYTES} octets` };
    }
    this.#parts[number - 1] = inner.slice();
    this.#bytes += inner.length;
    if (number === 1) this.#first = next;
    if (this.#parts.some((p) => p === undefined)) return { kind: "incomplete" };
    const whole = concat(...(this.#parts as Uint8Array[]));
    const first = this.#first;
    this.clear();
    return { kind: "complete", first, inner: whole };
  }

  /** Octets held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Drops what is held. */
  clear(): void {
    this.#mid = -1;
    this.#total = 0;
    this.#parts = [];
    this.#bytes = 0;
    this.#first = 0;
  }
}

/** Whose message a fragment belongs to: the peer's request or the peer's answer to ours. */
export type FragmentDirection = "request" | "response";

/**
 * The incomplete messages of every IKE SA, one {@link Reassembly} per SA and direction (a
 * request and a response may share a message ID, RFC 7296 §2.2), within
 * {@link MAX_TOTAL_BYTES} in all.
 */
export class FragmentQueues {
  readonly #queues = new Map<string, Reassembly>();
  #total = 0;

  /** Adds an authenticated fragment of `direction` on the IKE SA `sa` (see {@link Reassembly.add}). */
  add(
    sa: string,
    direction: FragmentDirection,
    mid: number,
    number: number,
    total: number,
    next: number,
    inner: Uint8Array,
  ): FragmentOutcome {
    const key = `${sa}|${direction}`;
    if (this.#total + inner.length > MAX_TOTAL_BYTES) {
      return { kind: "refused", reason: `fragments of all SAs above ${MAX_TOTAL_BYTES} octets` };
    }
    let re = this.#queues.get(key);
    if (re === undefined) this.#queues.set(key, re = new Reassembly());
    const before = re.bytes;
    const r = re.add(mid, number, total, next, inner);
    this.#total += re.bytes - before;
    if (re.bytes === 0) this.#queues.delete(key);
    return r;
  }

  /** Drops what is held for the IKE SA `sa` (removed). */
  forget(sa: string): void {
    for (const d of ["request", "response"] as const) {
      const re = this.#queues.get(`${sa}|${d}`);
      if (re === undefined) continue;
      this.#total -= re.bytes;
      this.#queues.delete(`${sa}|${d}`);
    }
  }

  /** Octets held in all. */
  get bytes(): number {
    return this.#total;
  }
}
