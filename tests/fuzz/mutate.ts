/**
 * Seeded mutations for the codec fuzz test: bit flips, byte sets, truncations, length-field
 * edits, splices from other corpus entries, insertions and deletions, with the header's Length
 * field optionally re-fitted so mutants get past the header check.
 */

/** A small seeded PRNG (mulberry32); the same seed gives the same sequence. */
export class Rng {
  #s: number;

  /** Starts the sequence for `seed`. */
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }

  /** Next 32-bit unsigned value. */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }

  /** One element of a non-empty list. */
  pick<T>(list: readonly T[]): T {
    return list[this.below(list.length)]!;
  }
}

/** A corpus entry: valid bytes plus the offsets of 16-bit length fields inside them. */
export interface Seed {
  /** Name for failure reports. */
  readonly name: string;
  /** "message" (header first) or "chain" (payloads only). */
  readonly kind: "message" | "chain";
  /** First payload type (chains). */
  readonly first: number;
  /** The valid bytes. */
  readonly bytes: Uint8Array;
  /** Offsets of 16-bit length fields (payload, substructure, attribute, selector). */
  readonly lengthFields: readonly number[];
}

const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 0x7f, 0x80, 0xfe, 0xff];

function setU16(b: Uint8Array, at: number, v: number): void {
  if (at + 1 < b.length) {
    b[at] = (v >>> 8) & 0xff;
    b[at + 1] = v & 0xff;
  }
}

/** One mutation step applied to a copy; returns the new bytes. */
function step(rng: Rng, b: Uint8Array, seed: Seed, corpus: readonly Seed[]): Uint8Array {
  const out = b.slice();
  switch (rng.below(8)) {
    case 0: { // bit flips
      for (let i = 1 + rng.below(4); i > 0 && out.length > 0; i--) {
        out[rng.below(out.length)]! ^= 1 << rng.below(8);
      }
      return out;
    }
    case 1: { // byte set
      if (out.length > 0) {
        out[rng.below(out.length)] = rng.below(2) === 0 ? rng.pick(INTERESTING) : rng.below(256);
      }
      return out;
    }
    case 2: // truncation
      return out.subarray(0, rng.below(out.length + 1));
    case 3:
    case 4: { // length-field edit: a known field, or any aligned 16-bit word
      const at = seed.lengthFields.length > 0 && rng.below(4) !== 0
        ? rng.pick(seed.lengthFields)
        : rng.below(Math.max(out.length - 1, 1));
      const old = at + 1 < out.length ? (out[at]! << 8) | out[at + 1]! : 0;
      const edits = [0, 1, 3, 4, 5, 0xffff, old + 1, old - 1, old + 4, old - 4, rng.below(65536)];
      setU16(out, at, rng.pick(edits) & 0xffff);
      return out;
    }
    case 5: { // splice: a slice of another entry replaces or is inserted at a random place
      const other = rng.pick(corpus).bytes;
      const from = rng.below(other.length);
      const piece = other.subarray(from, from + 1 + rng.below(64));
      const at = rng.below(out.length + 1);
      const cut = rng.below(2) === 0 ? piece.length : 0;
      return Uint8Array.of(...out.subarray(0, at), ...piece, ...out.subarray(at + cut));
    }
    case 6: { // insert random bytes
      const at = rng.below(out.length + 1);
      const extra = Array.from({ length: 1 + rng.below(8) }, () => rng.below(256));
      return Uint8Array.of(...out.subarray(0, at), ...extra, ...out.subarray(at));
    }
    default: { // delete a range
      const at = rng.below(out.length + 1);
      const n = 1 + rng.below(8);
      return Uint8Array.of(...out.subarray(0, at), ...out.subarray(at + n));
    }
  }
}

/**
 * A mutant of `seed`: one to three mutation steps; for messages, the header Length field is
 * usually re-fitted to the mutant's size so decoding reaches the payloads.
 */
export function mutate(rng: Rng, seed: Seed, corpus: readonly Seed[]): Uint8Array {
  let b = seed.bytes;
  for (let i = 1 + rng.below(3); i > 0; i--) b = step(rng, b, seed, corpus);
  if (seed.kind === "message" && b.length >= 28 && rng.below(10) < 8) {
    b = b.slice();
    const n = b.length;
    b[24] = n >>> 24;
    b[25] = (n >>> 16) & 0xff;
    b[26] = (n >>> 8) & 0xff;
    b[27] = n & 0xff;
  }
  return b;
}
