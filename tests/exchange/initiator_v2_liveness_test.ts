/**
 * IKEv2 liveness of a tunnel we dialled, with the branch's connection manager in the loop
 * (fake clock, both full engines): the hub killed (silent, then restarted without state) is
 * declared dead after the configured dpd_timeout (RFC 7296 §2.4: the retransmissions' give-up)
 * rather than a fixed 30 s, and the `start` peer dials again and comes back up.
 */

import assert from "node:assert/strict";
import { matchedPairs } from "./pair/wire.ts";
import { Managed } from "./pair/managed.ts";

Deno.test("IKEv2 kill -9 of the hub: dead after ~dpd_timeout, re-dialled, up again", () => {
  const m = new Managed({ dpd_delay: 2, dpd_timeout: 6 });
  m.advance(m.w.now + 1_000);
  assert.deepEqual(m.events, ["up:"]);
  assert.equal(m.dials.length, 1);
  // Idle, the liveness checks keep it up.
  m.advance(m.w.now + 20_000);
  assert.deepEqual(m.events, ["up:"]);

  const killed = m.w.now;
  m.w.drop = () => true;
  m.advance(killed + 3_000);
  m.restartHub();
  m.w.drop = () => false;
  m.advance(killed + 30_000);
  const down = m.w.branch.log.findIndex((a) => a.kind === "connection" && a.event === "down");
  assert.deepEqual(m.events, ["up:", "down:dead peer", "up:"]);
  assert.equal(m.dials.length, 2);
  const redial = m.dials[1]! - killed;
  // At most dpd_delay until the check, dpd_timeout of retransmissions, one 100 ms step.
  assert.ok(redial >= 6_000 && redial <= 8_100, `re-dialled ${redial} ms after the kill`);
  assert.ok(down > 0);
  assert.equal(matchedPairs(m.w.branch, m.w.hub), 1);
  assert.equal(matchedPairs(m.w.hub, m.w.branch), 1);
  assert.equal(m.cm.views()[0]!.state, "up");
  assert.equal(m.w.branch.engine.peerStates(m.w.now)[0]?.state, "up");
});

Deno.test("IKEv2 dpd_timeout below the 5 s floor is taken as 5 s; longer ones as given", () => {
  for (const [timeout, want] of [[2, 5_000], [20, 20_000], [45, 45_000]] as const) {
    const m = new Managed({ dpd_delay: 1, dpd_timeout: timeout });
    m.advance(m.w.now + 1_000);
    assert.deepEqual(m.events, ["up:"]);
    m.w.drop = () => true;
    const t0 = m.w.now;
    m.advance(t0 + 60_000);
    const idx = m.events.indexOf("down:dead peer");
    assert.ok(idx > 0, `${timeout}: ${m.events}`);
    const after = m.dials[1]! - t0;
    // The check goes out within dpd_delay (1 s) of the last answer.
    assert.ok(
      after >= want && after <= want + 1_100,
      `dpd_timeout ${timeout}: dead after ${after}`,
    );
  }
});
