/**
 * Anti-replay window edges (RFC 4303 §3.4.3, Appendix A; RFC 6479) and a differential test
 * against a plain set-based model.
 */

import assert from "node:assert/strict";
import { REJECT, ReplayWindow } from "../../../src/esp/replay.ts";

/** check + accept, as the data path does after a good ICV. */
function receive(w: ReplayWindow, seqLow: number): number {
  const seq = w.check(seqLow);
  if (seq === REJECT || !w.accept(seq)) return REJECT;
  return seq;
}

Deno.test("first packet, duplicates and sequence number zero", () => {
  const w = new ReplayWindow(64, false);
  assert.equal(w.check(0), REJECT);
  assert.equal(receive(w, 1), 1);
  assert.equal(receive(w, 1), REJECT);
  assert.equal(receive(w, 5), 5);
  assert.equal(receive(w, 3), 3); // late but inside the window
  assert.equal(receive(w, 3), REJECT);
  assert.equal(w.highest, 5);
});

Deno.test("window slides: exactly W-1 behind is accepted, W behind is refused", () => {
  const w = new ReplayWindow(1024, false);
  assert.equal(receive(w, 5000), 5000);
  assert.equal(receive(w, 5000 - 1023), 5000 - 1023);
  assert.equal(w.check(5000 - 1024), REJECT);
  assert.equal(w.check(1), REJECT); // far behind
});

Deno.test("a jump ahead clears stale bits without shifting (RFC 6479)", () => {
  const w = new ReplayWindow(64, false);
  for (let s = 1; s <= 64; s++) assert.equal(receive(w, s), s);
  // Jump by exactly the ring size: bits of old numbers sharing ring slots must be clear now.
  assert.equal(receive(w, 64 + 96), 160);
  for (let s = 97; s < 160; s++) assert.equal(w.check(s), s, `seq ${s} must be new`);
  assert.equal(w.check(96), REJECT); // 64 behind
  assert.equal(receive(w, 1_000_000), 1_000_000);
  assert.equal(w.check(999_999), 999_999);
});

Deno.test("the window only moves on accept (after the ICV verifies)", () => {
  const w = new ReplayWindow(32, false);
  receive(w, 10);
  assert.equal(w.check(1000), 1000); // a forged packet passes check ...
  assert.equal(w.highest, 10); // ... but does not move the window
  assert.equal(receive(w, 9), 9);
});

Deno.test("a window of 0 disables replay checks but still tracks the top", () => {
  const w = new ReplayWindow(0, false);
  assert.equal(receive(w, 7), 7);
  assert.equal(receive(w, 7), 7);
  assert.equal(receive(w, 2), 2);
  assert.equal(w.highest, 7);
});

Deno.test("ESN: the high bits are inferred across the 2^32 wrap (RFC 4303 A2.2)", () => {
  const w = new ReplayWindow(1024, true);
  const top = 0xffff_fff0;
  assert.equal(receive(w, top), top);
  // Case A: new numbers after the wrap carry Seqh = Th + 1.
  assert.equal(receive(w, 0x5), 0x1_0000_0005);
  // Now Case B (Tl < W - 1): late numbers from before the wrap get Seqh = Th - 1.
  assert.equal(receive(w, 0xffff_fff1), 0xffff_fff1);
  assert.equal(receive(w, 0xffff_fff1), REJECT);
  assert.equal(receive(w, 0x3), 0x1_0000_0003);
  assert.equal(w.highest, 0x1_0000_0005);
  // Without ESN the same wrap is a very old number.
  const plain = new ReplayWindow(1024, false);
  receive(plain, top);
  assert.equal(plain.check(5), REJECT);
});

Deno.test("bad window sizes are refused with a clear error", () => {
  assert.throws(() => new ReplayWindow(-1, false), /replay window/);
  assert.throws(() => new ReplayWindow(1.5, false), /replay window/);
});

Deno.test("differential: ring window equals a set-based model on random traffic", () => {
  let x = 12345; // seeded LCG so failures reproduce
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  for (const size of [32, 64, 100, 1024]) {
    const w = new ReplayWindow(size, false);
    const seen = new Set<number>();
    let top = 0;
    let base = 1;
    for (let i = 0; i < 20_000; i++) {
      const r = rand(100);
      base += r < 3 ? rand(3 * size) : rand(4); // mostly in order, sometimes a jump
      const seq = Math.max(1, base - rand(size + 40)); // some late, some too late
      const expectNew = seq > top || (top - seq < size && !seen.has(seq));
      const got = receive(w, seq);
      assert.equal(got !== REJECT, expectNew, `size ${size} step ${i} seq ${seq} top ${top}`);
      if (expectNew) {
        seen.add(seq);
        top = Math.max(top, seq);
      }
    }
  }
});
