/**
 * A `start` peer's IKE SA that loses its last CHILD_SA to the peer's Delete or to its own hard
 * expiry (both full engines, the branch's connection manager in the loop, fake clock): the
 * branch makes the child again with CREATE_CHILD_SA (RFC 7296 §1.3.1) on the same IKE SA,
 * both sides' SAs agree, and nothing is reported down or re-dialled.
 */

import assert from "node:assert/strict";
import { lines, matchedPairs } from "./pair/wire.ts";
import { Managed } from "./pair/managed.ts";

Deno.test("IKEv2 the hub deletes the only CHILD_SA (hard lifetime): the branch makes it again", () => {
  const m = new Managed();
  m.advance(m.w.now + 1_000);
  assert.deepEqual(m.events, ["up:"]);
  const ike = m.w.branch.engine.ikeSas(m.w.now)[0]!.spis;
  // The hub's child reaches its hard lifetime: it goes, and the hub sends a Delete (§1.4.1).
  const child = m.expire("hub", "in");
  m.advance(m.w.now + 5_000);
  const why = lines(m.w.branch.log).concat(["--- hub"], lines(m.w.hub.log)).join("\n");
  assert.ok(lines(m.w.branch.log).some((l) => l.includes("CHILD_SA made again")), why);
  assert.equal(matchedPairs(m.w.branch, m.w.hub), 1, why);
  assert.equal(matchedPairs(m.w.hub, m.w.branch), 1, why);
  assert.ok(![...m.w.branch.sas.values()].some((s) => s.spi === child.inboundSpi));
  assert.equal(m.w.branch.engine.ikeSas(m.w.now)[0]!.spis, ike, "the same IKE SA");
  assert.deepEqual(m.events, ["up:"], "neither down nor re-dialled");
  assert.equal(m.dials.length, 1);
  const view = m.w.branch.engine.peerStates(m.w.now)[0]!;
  assert.equal(view.state, "up");
  assert.equal(view.childSas, 1);
});

Deno.test("IKEv2 the branch's only CHILD_SA expires (hard lifetime): Delete, then made again", () => {
  const m = new Managed();
  m.advance(m.w.now + 1_000);
  m.expire("branch", "out");
  m.advance(m.w.now + 5_000);
  const log = lines(m.w.branch.log);
  const why = log.concat(["--- hub"], lines(m.w.hub.log)).join("\n");
  const expired = log.findIndex((l) => l.includes("the last CHILD_SA expired; making it again"));
  assert.ok(expired > 0, why);
  assert.ok(log.slice(expired).some((l) => l.includes("CHILD_SA made again")), why);
  // The hub got our Delete of the old child before the new one (§1.4.1).
  assert.equal(m.w.hub.engine.childSas(m.w.now).length, 1, why);
  assert.equal(matchedPairs(m.w.branch, m.w.hub), 1, why);
  assert.equal(matchedPairs(m.w.hub, m.w.branch), 1, why);
  assert.deepEqual(m.events, ["up:"]);
  assert.equal(m.w.branch.engine.peerStates(m.w.now)[0]?.state, "up");
});
