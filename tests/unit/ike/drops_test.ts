/** Drop bookkeeping shared by both IKE versions: counters, the summary line, limits. */

import assert from "node:assert/strict";
import { DROP_SUMMARY_MS, DropCounters, LogLimiter, TokenBucket } from "../../../src/ike/drops.ts";

Deno.test("DropCounters: totals by reason, debug per drop, one summary line an interval", () => {
  const lines: [string, string, Record<string, unknown>][] = [];
  const log = {
    event: (level: string, _peer: string, message: string, fields = {}) =>
      void lines.push([level, message, fields]),
  };
  const c = new DropCounters("IKEv2");
  for (let k = 0; k < 5; k++) c.drop(log, 1000, "no-sa", "192.0.2.9", "unknown SPI");
  c.drop(log, 1000, "malformed", "192.0.2.9", "bad");
  assert.deepEqual([...c.totals()], [["no-sa", 5], ["malformed", 1]]);
  assert.ok(lines.every(([l]) => l === "debug"));
  assert.equal(c.summaryDue, 1000 + DROP_SUMMARY_MS);
  c.summarize(log, 2000);
  assert.equal(lines.length, 6, "not due yet");
  c.summarize(log, 1000 + DROP_SUMMARY_MS);
  assert.deepEqual(lines.at(-1), ["info", "6 unauthenticated IKEv2 datagrams dropped", {
    no_sa: 5,
    malformed: 1,
  }]);
  assert.equal(c.summaryDue, undefined);
});

Deno.test("LogLimiter: one line per key an interval, bounded keys", () => {
  const l = new LogLimiter(60_000, 3);
  assert.equal(l.level("a", 0, "warn"), "warn");
  assert.equal(l.level("a", 59_999, "warn"), "debug");
  assert.equal(l.level("a", 60_000, "warn"), "warn");
  assert.equal(l.level("b", 60_000, "info"), "info");
  assert.equal(l.level("c", 60_000, "info"), "info");
  // Full: a new key is quiet until old ones expire.
  assert.equal(l.level("d", 60_001, "warn"), "debug");
  assert.equal(l.level("d", 120_000, "warn"), "warn");
});

Deno.test("TokenBucket: burst, then the rate", () => {
  const b = new TokenBucket(20, 40);
  let n = 0;
  for (let k = 0; k < 100; k++) if (b.take(0)) n++;
  assert.equal(n, 40);
  assert.equal(b.take(0), false);
  assert.equal(b.take(100), true, "two tokens after 100 ms");
  assert.equal(b.take(100), true);
  assert.equal(b.take(100), false);
});
