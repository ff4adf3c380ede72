import assert from "node:assert/strict";
import { createIkeEngine } from "../../../../src/ike/engine.ts";
import { branchPolicy, HUB_IP } from "../../../exchange/pair/wire.ts";

Deno.test("a tick that comes early (timer rounding) names the same deadline again", () => {
  const e = createIkeEngine(branchPolicy());
  const first = e.initiate!("hq", HUB_IP, 1000.4).find((a) => a.kind === "timer");
  assert.ok(first?.kind === "timer");
  // A timer rounded down fires just before the deadline: nothing is due yet ...
  const early = e.tick(first.at - 0.3);
  assert.equal(early.filter((a) => a.kind === "send").length, 0);
  // ... and the caller, whose timer is spent, is told the deadline again (else ticks stop).
  assert.deepEqual(early.filter((a) => a.kind === "timer"), [{ kind: "timer", at: first.at }]);
  const due = e.tick(first.at);
  assert.equal(due.filter((a) => a.kind === "send").length, 1, "message 1 retransmitted");
});
