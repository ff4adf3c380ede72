/**
 * Admission of IKE datagrams from the data-path Worker to the main thread, decided before
 * anything is copied: a token bucket per source address (a fixed table, no allocation per
 * datagram) and the bound on datagrams in flight between the threads. One flooding source is
 * held to its rate; many (spoofed) sources meet the in-flight bound. IKE retransmits, so a
 * real peer gets through.
 * @module
 */

/** IKE datagrams per second one source address may send to the control plane. */
export const IKE_SOURCE_RATE = 100;
/** Burst allowance per source address. */
export const IKE_SOURCE_BURST = 200;
/** Slots in the source table (a power of two); colliding sources share a slot's bucket. */
const SLOTS = 1024;

/** Per-source token buckets over a fixed table. */
export class IkeSourceLimiter {
  readonly #key = new Int32Array(SLOTS);
  readonly #tokens = new Float64Array(SLOTS);
  readonly #at = new Float64Array(SLOTS);
  readonly #used = new Uint8Array(SLOTS);

  /**
   * Takes a token for the source `address[offset, offset+length)` (4 or 16 bytes) at `now`
   * (ms); false when that source is over its rate.
   */
  take(address: Uint8Array, offset: number, length: number, now: number): boolean {
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < length; i++) h = Math.imul(h ^ address[offset + i]!, 0x01000193);
    const slot = (h >>> 0) & (SLOTS - 1);
    if (this.#used[slot] === 0 || this.#key[slot] !== h) {
      this.#used[slot] = 1;
      this.#key[slot] = h;
      this.#tokens[slot] = IKE_SOURCE_BURST;
      this.#at[slot] = now;
    } else {
      const t = this.#tokens[slot]! + ((now - this.#at[slot]!) / 1000) * IKE_SOURCE_RATE;
      this.#tokens[slot] = Math.min(IKE_SOURCE_BURST, t);
      this.#at[slot] = now;
    }
    if (this.#tokens[slot]! < 1) return false;
    this.#tokens[slot]! -= 1;
    return true;
  }
}
