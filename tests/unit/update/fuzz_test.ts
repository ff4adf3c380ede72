/**
 * Seeded mutations of a signed bundle (byte flips, truncation, insertion, length fields set to
 * edge values): every one is refused with an UpdateError, never another exception, and never
 * accepted. Replay with BRANCHGATE_FUZZ_SEED.
 * @module
 */

import assert from "node:assert/strict";
import { UpdateError } from "../../../src/update/errors.ts";
import { verifyBundleBytes } from "../../../src/update/stream.ts";
import { makeBundle, makeKeys, NOW } from "./fixture.ts";

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("fuzz: 800 mutated bundles are all refused with a typed error", () => {
  const seed = Number(Deno.env.get("BRANCHGATE_FUZZ_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  const rnd = prng(seed);
  console.log(`bundle fuzz: seed ${seed} (replay with BRANCHGATE_FUZZ_SEED=${seed})`);
  const int = (n: number) => Math.floor(rnd() * n);
  const keys = makeKeys();
  const good = makeBundle(keys, "1.0.0");
  const opts = { trust: keys.trust, now: NOW, maxSize: 1 << 20 };
  const edges = [0, 1, 0x7f, 0xff, 0xffff, 0xffffffff];
  const codes = new Map<string, number>();
  for (let i = 0; i < 800; i++) {
    let b = good.slice();
    switch (int(4)) {
      case 0:
        for (let k = 1 + int(4); k > 0; k--) {
          const at = int(b.length);
          b[at] = (b[at] as number) ^ (1 + int(255));
        }
        break;
      case 1:
        b = b.slice(0, int(b.length));
        break;
      case 2: {
        const at = int(b.length);
        const extra = new Uint8Array(1 + int(8)).map(() => int(256));
        const out = new Uint8Array(b.length + extra.length);
        out.set(b.subarray(0, at));
        out.set(extra, at);
        out.set(b.subarray(at), at + extra.length);
        b = out;
        break;
      }
      default: {
        const v = new DataView(b.buffer);
        const field = [10, 12, 16, 24][int(4)] as number;
        const value = edges[int(edges.length)] as number;
        if (field === 10) v.setUint16(field, value & 0xffff);
        else if (field === 24) v.setBigUint64(field, BigInt(value));
        else v.setUint32(field, value);
      }
    }
    if (b.length === good.length && b.every((x, k) => x === good[k])) continue;
    try {
      verifyBundleBytes(b, opts);
      assert.fail(`seed ${seed} case ${i}: a mutated bundle was accepted`);
    } catch (err) {
      assert.ok(err instanceof UpdateError, `seed ${seed} case ${i}: ${err}`);
      codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
    }
  }
  assert.ok((codes.get("format") ?? 0) > 0 && (codes.get("signature") ?? 0) > 0, `${[...codes]}`);
});
