/**
 * The half-open Phase 1 table with admission limits keyed by what an attacker controls (the
 * source address): at most {@link HALF_OPEN_PER_SOURCE} per source address (strongSwan's
 * `block_threshold`), at most {@link MAX_HALF_OPEN} in all from sources that are not a
 * configured peer's address (the IKEv2 engine's half-open SAs count too: one IKE SA table); a configured peer's own address is never locked out by the total
 * and, when its own quota is full (someone spoofing it), its newest message 1 takes the place
 * of the oldest one that never showed return routability (no message 3 yet). Established SAs
 * leave the table, so they never count.
 * @module
 */

import type { IkeSa } from "../sa.ts";

/** Half-open Phase 1 SAs per source address (strongSwan's block_threshold default). */
export const HALF_OPEN_PER_SOURCE = 5;
/** Half-open Phase 1 SAs from sources that are not configured peer addresses, in all. */
export const MAX_HALF_OPEN = 512;

interface Entry {
  readonly sa: IkeSa;
  readonly source: string;
  readonly reserved: boolean;
}

/** What {@link HalfOpenTable.admit} decided. */
export type Admission =
  | { readonly ok: true; readonly evict?: IkeSa }
  | { readonly ok: false; readonly reason: "half-open-per-source" | "half-open-total" };

/** Half-open SAs by (source address, port, initiator cookie). */
export class HalfOpenTable {
  readonly #byIndex = new Map<string, Entry>();
  readonly #perSource = new Map<string, number>();
  #unreserved = 0;

  /** The half-open SA for `index`, if any. */
  get(index: string): IkeSa | undefined {
    return this.#byIndex.get(index)?.sa;
  }

  /** Number of half-open SAs. */
  get size(): number {
    return this.#byIndex.size;
  }

  /** Every half-open SA. */
  values(): IkeSa[] {
    return [...this.#byIndex.values()].map((e) => e.sa);
  }

  /**
   * May a new message 1 from `source` open an SA? `peerAddress`: the source is a configured
   * peer's address. `others`: half-open SAs of the other IKE version in the shared table, which
   * count toward the total. With `evict`, the caller removes that SA first.
   */
  admit(source: string, peerAddress: boolean, others = 0): Admission {
    if ((this.#perSource.get(source) ?? 0) >= HALF_OPEN_PER_SOURCE) {
      if (!peerAddress) return { ok: false, reason: "half-open-per-source" };
      for (const e of this.#byIndex.values()) {
        if (e.source === source && e.sa.state === "MM_SA_SENT") return { ok: true, evict: e.sa };
      }
      return { ok: false, reason: "half-open-per-source" };
    }
    if (!peerAddress && this.#unreserved + others >= MAX_HALF_OPEN) {
      return { ok: false, reason: "half-open-total" };
    }
    return { ok: true };
  }

  /** Adds a new half-open SA. */
  add(index: string, sa: IkeSa, source: string, peerAddress: boolean): void {
    this.#byIndex.set(index, { sa, source, reserved: peerAddress });
    this.#perSource.set(source, (this.#perSource.get(source) ?? 0) + 1);
    if (!peerAddress) this.#unreserved++;
  }

  /** Removes `sa` (established, failed or expired); no-op when absent. */
  remove(sa: IkeSa): void {
    for (const [k, e] of this.#byIndex) {
      if (e.sa !== sa) continue;
      this.#byIndex.delete(k);
      const n = (this.#perSource.get(e.source) ?? 1) - 1;
      if (n <= 0) this.#perSource.delete(e.source);
      else this.#perSource.set(e.source, n);
      if (!e.reserved) this.#unreserved--;
    }
  }
}
