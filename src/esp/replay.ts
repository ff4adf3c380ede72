/**
 * The inbound anti-replay window (RFC 4303 §3.4.3), kept as a ring of 32-bit blocks that is
 * never shifted (RFC 6479 §2): advancing the window only clears the blocks it moves over.
 * With extended sequence numbers (RFC 4304) the high 32 bits are inferred per RFC 4303
 * Appendix A2.2.
 *
 * Usage per packet: `check(seqLow)` before the ICV is verified (cheap rejection of replays),
 * then `accept(seq)` only after the ICV verified, so forged packets never move the window
 * (RFC 4303 §3.4.3: "the receive window is updated only if the integrity verification
 * succeeds").
 * @module
 */

const BLOCK_BITS = 32;
const TWO_32 = 0x1_0000_0000;

/** Default window in packets. */
export const DEFAULT_REPLAY_WINDOW = 1024;

/** Sequence number sentinel returned by {@link ReplayWindow.check} for a rejected packet. */
export const REJECT = -1;

/** Per-SA anti-replay state. Sequence numbers are carried as JS numbers (exact below 2^53). */
export class ReplayWindow {
  /** The window in packets; 0 disables replay checks (sequence numbers are still tracked). */
  readonly size: number;
  readonly #blocks: Uint32Array;
  #top = 0; // T: the highest sequence number authenticated so far (0 = none yet)

  /**
   * @param size window in packets (0 disables checks); the ring gets one spare block so at
   *   least `size` packets below the top are always covered (RFC 6479 §2).
   * @param esn whether extended (64-bit) sequence numbers were negotiated (RFC 4304).
   */
  constructor(size: number, readonly esn: boolean) {
    if (!Number.isInteger(size) || size < 0 || size > 1 << 20) {
      throw new RangeError(`replay window must be 0..${1 << 20} packets, got ${size}`);
    }
    this.size = size;
    this.#blocks = new Uint32Array(size === 0 ? 1 : Math.ceil(size / BLOCK_BITS) + 1);
  }

  /** T, the highest authenticated sequence number (0 before the first packet). */
  get highest(): number {
    return this.#top;
  }

  /**
   * The full sequence number of a packet carrying `seqLow` (the 32 bits on the wire) if it may
   * be a new packet, else {@link REJECT}. Does not change the window.
   */
  check(seqLow: number): number {
    const seq = this.esn ? this.#inferEsn(seqLow >>> 0) : seqLow >>> 0;
    if (seq === 0) return REJECT; // sequence numbers start at 1 (RFC 4303 §3.3.3)
    if (seq > this.#top || this.size === 0) return seq;
    if (this.#top - seq >= this.size) return REJECT; // below the window
    return this.#seen(seq) ? REJECT : seq;
  }

  /**
   * Marks `seq` (from {@link check}) as received after its ICV verified, advancing the window
   * when it is new. Returns false when it turned out to be a replay after all (e.g. a duplicate
   * authenticated in between).
   */
  accept(seq: number): boolean {
    if (seq <= 0) return false;
    if (seq > this.#top) {
      this.#advance(seq);
      this.#mark(seq);
      return true;
    }
    if (this.size === 0) return true;
    if (this.#top - seq >= this.size || this.#seen(seq)) return false;
    this.#mark(seq);
    return true;
  }

  // RFC 4303 Appendix A2.2: choose Seqh from where Seql falls relative to the window bottom.
  #inferEsn(seqLow: number): number {
    const w = Math.max(this.size, 1);
    const th = Math.floor(this.#top / TWO_32);
    const tl = this.#top % TWO_32;
    const bl = (tl - w + 1 + TWO_32) % TWO_32; // Bl = Tl - W + 1 (mod 2^32)
    let seqHigh: number;
    if (tl >= w - 1) {
      seqHigh = seqLow >= bl ? th : th + 1; // Case A: window within one subspace
    } else {
      seqHigh = seqLow >= bl ? th - 1 : th; // Case B: window spans two subspaces
    }
    if (seqHigh < 0) seqHigh = 0; // before the first wrap there is no earlier subspace
    return seqHigh * TWO_32 + seqLow;
  }

  #advance(seq: number): void {
    // RFC 6479 §2: clear the blocks between the old top block and the new one (at most all).
    const n = this.#blocks.length;
    const oldBlock = Math.floor(this.#top / BLOCK_BITS);
    const newBlock = Math.floor(seq / BLOCK_BITS);
    const steps = Math.min(newBlock - oldBlock, n);
    for (let i = 1; i <= steps; i++) this.#blocks[(oldBlock + i) % n] = 0;
    this.#top = seq;
  }

  #seen(seq: number): boolean {
    const block = this.#blocks[Math.floor(seq / BLOCK_BITS) % this.#blocks.length]!;
    return (block & (1 << (seq % BLOCK_BITS))) !== 0;
  }

  #mark(seq: number): void {
    const i = Math.floor(seq / BLOCK_BITS) % this.#blocks.length;
    this.#blocks[i] = this.#blocks[i]! | (1 << (seq % BLOCK_BITS));
  }
}
