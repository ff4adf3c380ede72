import assert from "node:assert/strict";
import { type ConnAction, ConnectionManager } from "../../../../src/ike/initiator/connections.ts";
import { backoffDelay } from "../../../../src/ike/initiator/backoff.ts";
import {
  pending,
  RETRANSMIT_GIVE_UP_MS,
  retransmitStep,
} from "../../../../src/ike/initiator/retransmit.ts";

const inits = (a: ConnAction[]) => a.filter((x) => x.kind === "initiate").map((x) => x.peer);
const timer = (a: ConnAction[]) => a.find((x) => x.kind === "timer")?.at;

Deno.test("backoff: 1 s doubling to a 60 s cap, jitter within [d/2, d]", () => {
  assert.equal(backoffDelay(1, () => 0), 500);
  assert.equal(backoffDelay(1, () => 0.999999), 1000);
  assert.equal(backoffDelay(2, () => 0.999999), 2000);
  assert.equal(backoffDelay(6, () => 0.999999), 32000);
  assert.equal(backoffDelay(7, () => 0.999999), 60000);
  assert.equal(backoffDelay(1000, () => 0.999999), 60000);
  assert.equal(backoffDelay(1000, () => 0), 30000);
});

Deno.test("start: dials at configure, retries forever with growing backoff on a fake clock", () => {
  let r = 0.5;
  const m = new ConnectionManager(() => r);
  let now = 1000;
  let a = m.configure([{ name: "hq", start_action: "start" }, {
    name: "road",
    start_action: "none",
  }], now);
  assert.deepEqual(inits(a), ["hq"]);
  assert.equal(m.state("road"), "idle");
  const waits: number[] = [];
  for (let i = 1; i <= 9; i++) {
    a = m.failed("hq", `no answer ${i}`, now);
    const at = timer(a)!;
    assert.equal(m.state("hq"), "backoff");
    const v = m.views().find((x) => x.name === "hq")!;
    assert.equal(v.until, at);
    assert.equal(v.lastError, `no answer ${i}`);
    waits.push(at - now);
    assert.deepEqual(inits(m.tick(at - 1)), [], "not before the deadline");
    now = at;
    a = m.tick(now);
    assert.deepEqual(a.filter((x) => x.kind === "initiate"), [{
      kind: "initiate",
      peer: "hq",
      attempt: i + 1,
    }]);
  }
  assert.deepEqual(waits, [750, 1500, 3000, 6000, 12000, 24000, 45000, 45000, 45000]);
  r = 0;
  m.established("hq", now);
  assert.equal(m.state("hq"), "up");
  assert.equal(m.views()[0]!.failures, 0);
});

Deno.test("start: a dead peer or a Delete dials again at once; clear re-initiates", () => {
  const m = new ConnectionManager(() => 0);
  m.configure([{ name: "hq", start_action: "start" }], 0);
  m.established("hq", 5);
  assert.deepEqual(inits(m.down("hq", "peer dead (DPD)", 10)), ["hq"]);
  assert.equal(m.views()[0]!.lastError, "peer dead (DPD)");
  m.established("hq", 20);
  assert.deepEqual(inits(m.clear("hq", 30)), ["hq"]);
  assert.equal(m.state("hq"), "connecting");
  // A second down while connecting changes nothing.
  assert.deepEqual(inits(m.down("hq", "x", 31)), []);
});

Deno.test("an attempt that never reports is abandoned and backed off", () => {
  const m = new ConnectionManager(() => 0);
  const a = m.configure([{ name: "hq", start_action: "start" }], 0);
  const deadline = timer(a)!;
  m.tick(deadline);
  assert.equal(m.state("hq"), "backoff");
  assert.equal(m.views()[0]!.lastError, "attempt timed out");
});

Deno.test("trap: dials on the first hit only; after a failure waits for the next packet", () => {
  const m = new ConnectionManager(() => 0);
  assert.deepEqual(inits(m.configure([{ name: "hq", start_action: "trap" }], 0)), []);
  assert.equal(m.state("hq"), "trapped");
  assert.deepEqual(inits(m.trapHit("hq", 1)), ["hq"]);
  assert.deepEqual(inits(m.trapHit("hq", 2)), [], "second hit while connecting");
  const at = timer(m.failed("hq", "refused", 3))!;
  assert.deepEqual(inits(m.trapHit("hq", 4)), [], "backing off");
  assert.deepEqual(inits(m.tick(at)), [], "trap re-armed, no dial by itself");
  assert.equal(m.state("hq"), "trapped");
  assert.deepEqual(inits(m.trapHit("hq", at + 1)), ["hq"]);
  m.established("hq", at + 2);
  m.down("hq", "deleted by the peer", at + 3);
  assert.equal(m.state("hq"), "trapped");
});

Deno.test("configure: removed peers are forgotten, changed start_action applies", () => {
  const m = new ConnectionManager(() => 0);
  m.configure([{ name: "a", start_action: "none" }, { name: "b", start_action: "start" }], 0);
  const a = m.configure([{ name: "a", start_action: "start" }], 1);
  assert.deepEqual(inits(a), ["a"]);
  assert.equal(m.state("b"), undefined);
  assert.deepEqual(inits(m.configure([{ name: "a", start_action: "start" }], 2)), []);
  assert.equal(m.trapHit("zz", 3).length, 0);
  assert.equal(m.failed("zz", "x", 3).length, 0);
});

Deno.test("retransmission: 1, 2, 4, 8 s apart, abandoned 31 s after the first send", () => {
  const p = pending(new Uint8Array([1]), 0);
  const sends: number[] = [];
  let gaveUp = -1;
  for (let t = 0; t <= 40_000 && gaveUp < 0; t += 250) {
    const s = retransmitStep(p, t);
    if (s === "resend") sends.push(t);
    if (s === "giveUp") gaveUp = t;
  }
  assert.deepEqual(sends, [1000, 3000, 7000, 15000]);
  assert.equal(gaveUp, 31000);
  assert.equal(RETRANSMIT_GIVE_UP_MS, 31000);
});
