/**
 * An index of outbound SAs by the destination side of their traffic selectors (RFC 4301
 * §4.4.1: the SPD-S lookup on the packet path), so that the per-packet lookup is a binary
 * search instead of a scan over every SA's selectors.
 *
 * Keys are the first 32 bits of an address (IPv4: the whole address; IPv6: its top 32 bits),
 * so an address inside a selector's range always has a key inside the range of the selector's
 * first and last keys. The index returns, for the packet's key, the candidate entries in the
 * order they were given (newest first); the caller still runs the full selector match on each,
 * so the first candidate that matches is exactly what a linear scan would have found. Built
 * when SAs are installed or removed; the lookup allocates nothing.
 * @module
 */

import type { CompiledSelector } from "./selectors.ts";

/** What the index needs of an entry: its destination (remote) selectors. */
export interface Indexed {
  /** The selectors the packet's destination must match. */
  readonly remote: readonly CompiledSelector[];
}

const NONE: readonly never[] = [];

function key32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>>
    0;
}

/** Candidates per key range for one address family. */
class FamilyIndex<E extends Indexed> {
  /** Segment starts, ascending; segment k covers [starts[k], starts[k+1]). */
  readonly #starts: Float64Array;
  readonly #segments: (readonly E[])[];

  constructor(entries: readonly E[], addrLength: number) {
    const ranges: { lo: number; hi: number; e: E }[] = [];
    for (const e of entries) {
      for (const s of e.remote) {
        if (s.addrLength === addrLength) {
          ranges.push({ lo: key32(s.start, 0), hi: key32(s.end, 0), e });
        }
      }
    }
    const points = new Set<number>();
    for (const r of ranges) {
      points.add(r.lo);
      points.add(r.hi + 1); // up to 2^32: a Float64Array holds it
    }
    this.#starts = Float64Array.from([...points].sort((a, b) => a - b));
    this.#segments = Array.from(this.#starts, (p) => {
      const inSegment = new Set<E>();
      for (const r of ranges) if (r.lo <= p && p <= r.hi) inSegment.add(r.e);
      // Keep the callers' order (newest first), each entry once.
      return inSegment.size === 0 ? NONE : entries.filter((e) => inSegment.has(e));
    });
  }

  candidates(key: number): readonly E[] {
    const s = this.#starts;
    let lo = 0;
    let hi = s.length - 1;
    if (hi < 0 || key < s[0]!) return NONE;
    while (lo < hi) { // the last start ≤ key
      const mid = (lo + hi + 1) >>> 1;
      if (s[mid]! <= key) lo = mid;
      else hi = mid - 1;
    }
    return this.#segments[lo]!;
  }
}

/** Outbound entries indexed by their destination selectors, for both address families. */
export class SelectorIndex<E extends Indexed> {
  #v4: FamilyIndex<E>;
  #v6: FamilyIndex<E>;

  /** An index over `entries` (in lookup order: newest first). */
  constructor(entries: readonly E[] = []) {
    this.#v4 = new FamilyIndex(entries, 4);
    this.#v6 = new FamilyIndex(entries, 16);
  }

  /** Rebuilds the index after an install or a removal. */
  rebuild(entries: readonly E[]): void {
    this.#v4 = new FamilyIndex(entries, 4);
    this.#v6 = new FamilyIndex(entries, 16);
  }

  /**
   * The entries whose destination selectors may cover the address at `buf[at, at+addrLength)`,
   * in lookup order; a superset of those that do (check each with `matchesSelectors`).
   */
  candidates(buf: Uint8Array, at: number, addrLength: number): readonly E[] {
    return (addrLength === 4 ? this.#v4 : this.#v6).candidates(key32(buf, at));
  }
}
