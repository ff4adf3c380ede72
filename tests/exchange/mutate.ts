/**
 * Seeded message mutation for the exchange tests of both IKE versions: a xorshift32 generator
 * and the four byte-level mutations (bit flips past the SPIs/cookies, truncation, a payload
 * length lie, a random tail).
 * @module
 */

/** xorshift32 from `seed`: the same sequence for the same seed. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** Mutation `kind` (0 flips, 1 truncation, 2 payload length lie, 3 tail) of `msg`. */
export function mutateBytes(msg: Uint8Array, r: () => number, kind: number): Uint8Array {
  const m = msg.slice();
  switch (kind) {
    case 0: // bit flips, avoiding the SPIs (cookies) so the message reaches the SA
      for (let k = 0; k < 1 + (r() % 4); k++) {
        const i = 16 + (r() % (m.length - 16));
        m[i] = m[i]! ^ (1 << (r() % 8));
      }
      return m;
    case 1: // truncation
      return m.subarray(0, r() % m.length);
    case 2: { // a payload length lie
      const i = 28 + 2 + (r() % Math.max(1, m.length - 30));
      m[i] = r() & 0xff;
      return m;
    }
    default: { // random tail
      const extra = Uint8Array.from({ length: 1 + (r() % 40) }, () => r() & 0xff);
      const out = new Uint8Array(m.length + extra.length);
      out.set(m);
      out.set(extra, m.length);
      return out;
    }
  }
}
