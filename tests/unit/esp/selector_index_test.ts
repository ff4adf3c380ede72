/**
 * The outbound selector index against the linear model it replaces: for random SA sets
 * (IPv4 and IPv6, nested and overlapping ranges, protocols and ports) and random packets, the
 * first candidate that matches is the first entry a scan over every SA finds.
 */

import assert from "node:assert/strict";
import { SelectorIndex } from "../../../src/esp/selector_index.ts";
import {
  type CompiledSelector,
  type InnerHeader,
  matchesSelectors,
} from "../../../src/esp/selectors.ts";

interface E {
  readonly id: number;
  readonly local: CompiledSelector[];
  readonly remote: CompiledSelector[];
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

// Addresses from a few TEST-NET prefixes (IPv4) or 2001:db8::/32 (IPv6) so ranges overlap often.
const V4_PREFIXES = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];

function address(r: () => number, len: number): Uint8Array {
  const a = new Uint8Array(len);
  if (len === 4) {
    a.set(V4_PREFIXES[Math.floor(r() * 3)]!, 0);
    a[3] = Math.floor(r() * 256);
  } else {
    a.set([0x20, 0x01, 0x0d, 0xb8 + Math.floor(r() * 2)], 0);
    for (let i = 4; i < 16; i++) a[i] = r() < 0.7 ? 0 : Math.floor(r() * 256);
  }
  return a;
}

function cmp(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function selector(r: () => number): CompiledSelector {
  const len = r() < 0.75 ? 4 : 16;
  let start = address(r, len);
  let end = r() < 0.3 ? start : address(r, len);
  if (cmp(start, end) > 0) [start, end] = [end, start];
  const anyPort = r() < 0.6;
  const p = Math.floor(r() * 4) * 100;
  return {
    addrLength: len,
    start,
    end,
    protocol: r() < 0.6 ? 0 : [6, 17][Math.floor(r() * 2)]!,
    startPort: anyPort ? 0 : p,
    endPort: anyPort ? 65535 : p + 150,
  };
}

function entries(r: () => number, n: number): E[] {
  return Array.from({ length: n }, (_, id) => ({
    id,
    local: Array.from({ length: 1 + Math.floor(r() * 2) }, () => selector(r)),
    remote: Array.from({ length: 1 + Math.floor(r() * 3) }, () => selector(r)),
  }));
}

Deno.test("SelectorIndex: the first matching candidate is the linear scan's first match", () => {
  const r = rng(0x5e1ec7);
  const buf = new Uint8Array(64);
  let matched = 0;
  for (let round = 0; round < 40; round++) {
    const list = entries(r, 1 + Math.floor(r() * 60));
    const index = new SelectorIndex(list);
    for (let k = 0; k < 500; k++) {
      const len = r() < 0.75 ? 4 : 16;
      buf.set(address(r, len), 0);
      buf.set(address(r, len), 16);
      const h: InnerHeader = {
        addrLength: len,
        src: 0,
        dst: 16,
        protocol: [1, 6, 17][Math.floor(r() * 3)]!,
        srcPort: r() < 0.2 ? -1 : Math.floor(r() * 500),
        dstPort: r() < 0.2 ? -1 : Math.floor(r() * 500),
      };
      const model = list.find((e) => matchesSelectors(buf, h, e.local, e.remote));
      const got = index.candidates(buf, h.dst, len).find((e) =>
        matchesSelectors(buf, h, e.local, e.remote)
      );
      assert.equal(got?.id, model?.id, `round ${round}, packet ${k}`);
      if (model !== undefined) matched++;
    }
  }
  assert.ok(matched > 1000, `the random packets hit SAs often enough (${matched})`);
});

Deno.test("SelectorIndex: 100 disjoint tunnels give one candidate each; rebuild drops removed", () => {
  const sel = (a: number[]): CompiledSelector => ({
    addrLength: 4,
    start: Uint8Array.from(a),
    end: Uint8Array.from(a),
    protocol: 0,
    startPort: 0,
    endPort: 65535,
  });
  const list: E[] = Array.from({ length: 100 }, (_, i) => ({
    id: i,
    local: [sel([198, 51, 100, 100 + i])],
    remote: [sel([203, 0, 113, 100 + i])],
  }));
  const index = new SelectorIndex(list);
  const dst = Uint8Array.from([203, 0, 113, 142]);
  assert.deepEqual(index.candidates(dst, 0, 4).map((e) => e.id), [42]);
  assert.deepEqual(index.candidates(Uint8Array.from([203, 0, 113, 99]), 0, 4), []);
  assert.deepEqual(index.candidates(Uint8Array.from([255, 255, 255, 255]), 0, 4), []);
  index.rebuild(list.filter((e) => e.id !== 42));
  assert.deepEqual(index.candidates(dst, 0, 4), []);
});
