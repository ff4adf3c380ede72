/**
 * Reassembly of RFC 7383 Encrypted Fragment messages with bounded memory: one message at a
 * time per IKE SA (window size 1), at most {@link MAX_FRAGMENTS} fragments and
 * {@link MAX_BYTES} octets; each fragment is authenticated before it is kept (§2.6.1), a
 * fragment of another message ID or total starts over (§2.6.2: a newer message replaces an
 * older incomplete one).
 * @module
 */

import { concat } from "../../crypto/kdf/primitives.ts";

/** Most fragments accepted for one message. */
export const MAX_FRAGMENTS = 64;
/** Most reassembled octets for one message. */
export const MAX_BYTES = 65_536;

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
