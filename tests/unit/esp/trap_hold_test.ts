/**
 * The packets held for `trap` peers (src/esp/trap_hold.ts): only trap destinations, bounded
 * per trap and in all with the oldest dropped and counted, released oldest first to whatever
 * SA takes them, expired after HOLD_MS, dropped when the traps change.
 */

import assert from "node:assert/strict";
import { HOLD_MS, HOLD_PER_TRAP, HOLD_TOTAL, TrapHold } from "../../../src/esp/trap_hold.ts";
import { udp4 } from "../../fakes/packets.ts";
import { rangeSelector } from "../../fakes/esp_peer.ts";

const HQ = rangeSelector("203.0.113.0", "203.0.113.255");
const LAB = rangeSelector("192.0.2.0", "192.0.2.127");

/** A packet to `dst` whose source port tells packets apart. */
const pkt = (dst: string, n: number) => udp4("198.51.100.5", dst, { sport: n, payload: 40 });
const sport = (p: Uint8Array) => (p[20]! << 8) | p[21]!;

/** Releases everything, returning the source ports in the order offered. */
function drain(h: TrapHold, now: number): number[] {
  const out: number[] = [];
  h.release(now, (p) => {
    out.push(sport(p));
    return true;
  });
  return out;
}

Deno.test("only packets for a trap's remote_ts are held, as copies", () => {
  const h = new TrapHold();
  const p = pkt("203.0.113.7", 1);
  assert.equal(h.keep(p, 0, p.length, 0), false, "no traps, nothing held");
  h.setTraps([[HQ]]);
  assert.equal(h.keep(pkt("10.9.9.9", 2), 0, p.length, 0), false);
  // The packet sits at an offset in a larger buffer, which is reused afterwards.
  const buf = new Uint8Array(200);
  buf.set(p, 32);
  assert.equal(h.keep(buf, 32, p.length, 0), true);
  buf.fill(0);
  const got: Uint8Array[] = [];
  h.release(1, (x) => got.push(x) > 0);
  assert.deepEqual(got, [p]);
  assert.deepEqual(h.stats, { held: 1, sent: 1, overflow: 0, expired: 0 });
  assert.equal(h.keep(new Uint8Array(10), 0, 10, 2), false, "not an IP packet");
});

Deno.test("per trap at most HOLD_PER_TRAP: the oldest go first, counted", () => {
  const h = new TrapHold();
  h.setTraps([[HQ], [LAB]]);
  for (let i = 1; i <= HOLD_PER_TRAP + 3; i++) {
    const p = pkt("203.0.113.7", i);
    h.keep(p, 0, p.length, i);
  }
  const lab = pkt("192.0.2.9", 100);
  h.keep(lab, 0, lab.length, 50);
  assert.equal(h.stats.overflow, 3);
  const expect = Array.from({ length: HOLD_PER_TRAP }, (_, i) => i + 4);
  assert.deepEqual(drain(h, 60), [...expect, 100]);
});

Deno.test("in all at most HOLD_TOTAL, whatever the traps", () => {
  const h = new TrapHold();
  const traps = Array.from(
    { length: 20 },
    (_, i) => [rangeSelector(`203.0.113.${i}`, `203.0.113.${i}`)],
  );
  h.setTraps(traps);
  let n = 0;
  for (let t = 0; t < 20; t++) {
    for (let k = 0; k < 5; k++) {
      const p = pkt(`203.0.113.${t}`, ++n);
      h.keep(p, 0, p.length, n);
    }
  }
  assert.equal(h.size, HOLD_TOTAL);
  assert.equal(h.stats.overflow, 100 - HOLD_TOTAL);
  assert.deepEqual(
    drain(h, 200),
    Array.from({ length: HOLD_TOTAL }, (_, i) => 100 - HOLD_TOTAL + i + 1),
  );
});

Deno.test("release keeps what no SA took, with its age; HOLD_MS later it is dropped", () => {
  const h = new TrapHold();
  h.setTraps([[HQ], [LAB]]);
  const a = pkt("203.0.113.7", 1);
  const b = pkt("192.0.2.9", 2);
  h.keep(a, 0, a.length, 0);
  h.keep(b, 0, b.length, 1000);
  // Only HQ has an SA yet.
  h.release(2000, (p) => p[16] === 203);
  assert.equal(h.size, 1);
  assert.deepEqual(h.stats, { held: 2, sent: 1, overflow: 0, expired: 0 });
  h.expire(1000 + HOLD_MS - 1);
  assert.equal(h.size, 1);
  h.expire(1000 + HOLD_MS);
  assert.equal(h.size, 0);
  assert.equal(h.stats.expired, 1);
  assert.deepEqual(drain(h, 1000 + HOLD_MS + 1), []);
});

Deno.test("new traps drop what was held (counted as expired)", () => {
  const h = new TrapHold();
  h.setTraps([[HQ]]);
  const p = pkt("203.0.113.7", 1);
  h.keep(p, 0, p.length, 0);
  h.setTraps([[LAB]]);
  assert.equal(h.size, 0);
  assert.equal(h.stats.expired, 1);
  assert.equal(h.keep(p, 0, p.length, 1), false);
});
