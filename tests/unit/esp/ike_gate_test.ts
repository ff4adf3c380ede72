import assert from "node:assert/strict";
import { IKE_SOURCE_BURST, IKE_SOURCE_RATE, IkeSourceLimiter } from "../../../src/esp/ike_gate.ts";

const ip = (...b: number[]) => Uint8Array.from(b);

Deno.test("IKE source limiter: one source held to its burst and rate, others unaffected", () => {
  const g = new IkeSourceLimiter();
  const flood = ip(192, 0, 2, 66);
  const peer = ip(192, 0, 2, 4);
  let passed = 0;
  for (let i = 0; i < 10_000; i++) if (g.take(flood, 0, 4, 1000)) passed++;
  assert.equal(passed, IKE_SOURCE_BURST);
  assert.ok(g.take(peer, 0, 4, 1000), "another source still gets in");
  // One second later: the rate's worth of tokens again.
  passed = 0;
  for (let i = 0; i < 10_000; i++) if (g.take(flood, 0, 4, 2000)) passed++;
  assert.equal(passed, IKE_SOURCE_RATE);
  // IPv6 sources and offsets into a shared address array.
  const batch = new Uint8Array(32);
  batch.set([0x20, 0x01, 0x0d, 0xb8], 16);
  assert.ok(g.take(batch, 16, 16, 2000));
});
