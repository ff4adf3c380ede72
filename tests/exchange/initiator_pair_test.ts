/**
 * The IKEv1 initiator against this project's own responder, in one process: Main Mode and
 * Aggressive Mode with Quick Mode and PFS, both sides' ESP SAs agreeing on SPIs, transforms and
 * keys; retransmission through loss; refusals; NAT-T float; Quick Mode rekey and Phase 1
 * re-authentication as initiator keeping the children.
 */

import assert from "node:assert/strict";
import {
  branchPolicy,
  connections,
  HUB_IP,
  hubPolicy,
  lines,
  matchedPairs,
  Wire,
} from "./pair/wire.ts";

Deno.test("initiator Main Mode + Quick Mode with PFS: up, SAs agree both ways", () => {
  const w = new Wire();
  w.dial();
  const up = connections(w.branch.log);
  assert.deepEqual(up.map((c) => c.event), ["up"], lines(w.branch.log).join("\n"));
  assert.equal(matchedPairs(w.branch, w.hub), 1);
  assert.equal(matchedPairs(w.hub, w.branch), 1);
  const out = [...w.branch.sas.values()].find((s) => s.direction === "out")!;
  assert.deepEqual(out.transform, { kind: "aead", alg: "aes128gcm16" });
  assert.equal(out.localSelectors[0]!.startAddress, "10.2.0.0");
  assert.equal(out.remoteSelectors[0]!.startAddress, "10.1.0.0");
  assert.equal(out.endpoints.encap, undefined, "no NAT: plain ESP");
  const ike = w.branch.engine.ikeSas(w.now);
  assert.equal(ike.length, 1);
  assert.equal(ike[0]!.state, "ESTABLISHED");
  assert.equal(ike[0]!.algorithms, "aes128-sha256-modp2048");
  assert.equal(w.hub.engine.childSas(w.now)[0]?.pfsGroup, 14);
  assert.equal(w.branch.engine.peerStates(w.now)[0]?.state, "up");
});

Deno.test("initiator Aggressive Mode with an FQDN identity", () => {
  const w = new Wire(
    branchPolicy({
      mode: "aggressive",
      local_id: "branch1.example",
      ike_proposals: ["aes128-sha256-modp2048"],
    }),
    hubPolicy({ mode: "aggressive", remote: "%any", remote_id: "branch1.example" }),
  );
  w.dial();
  assert.deepEqual(
    connections(w.branch.log).map((c) => c.event),
    ["up"],
    lines(w.branch.log).join("\n"),
  );
  assert.equal(matchedPairs(w.branch, w.hub), 1);
  assert.equal(w.hub.engine.ikeSas(w.now)[0]?.peer, "branch1");
});

Deno.test("lost messages are retransmitted 1, 2, 4 s apart and the tunnel still comes up", () => {
  const w = new Wire();
  let dropped = 0;
  // Drop the first copy of every message but the branch's Quick Mode message 3 (IKEv1 has no
  // recovery for a lost message 3 other than the responder's timeout, RFC 2409 §5.5).
  const seen = new Set<string>();
  w.drop = (s, from) => {
    if (from === "branch" && s.datagram[18] === 32 && s.datagram.length < 100) return false;
    const k = Array.from(s.datagram.subarray(0, 32)).join(",") + s.datagram.length;
    if (seen.has(k)) return false;
    seen.add(k);
    dropped++;
    return true;
  };
  w.dial();
  assert.equal(connections(w.branch.log).length, 0);
  w.advance(w.now + 60_000);
  assert.deepEqual(
    connections(w.branch.log).map((c) => c.event),
    ["up"],
    lines(w.branch.log).join("\n"),
  );
  assert.ok(dropped >= 4, `dropped ${dropped}`);
  assert.equal(matchedPairs(w.branch, w.hub), 1);
});

Deno.test("no answer: the attempt is abandoned after the bounded retransmissions", () => {
  const w = new Wire();
  w.drop = (_s, from) => from === "branch";
  const t0 = w.now;
  w.dial();
  w.advance(t0 + 120_000);
  const c = connections(w.branch.log);
  assert.equal(c.length, 1);
  assert.equal(c[0]!.event, "failed");
  const sends = w.branch.log.filter((a) => a.kind === "send").length;
  assert.equal(sends, 5, "message 1 and 4 retransmissions");
  assert.equal(w.branch.engine.ikeSas(w.now).length, 0);
  assert.equal(w.branch.engine.peerStates(w.now)[0]?.state, "down");
});

Deno.test("refusals end the attempt with the reason: proposals, PSK, selectors", () => {
  const cases: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
    [{}, { ike_proposals: ["aes256-sha512-modp4096"] }, /NO_PROPOSAL_CHOSEN|refused/],
    [{}, { psk: "another key, twenty chars" }, /no answer .*wrong PSK/],
    [{}, { esp_proposals: ["aes256-sha512"] }, /NO_PROPOSAL_CHOSEN|Quick Mode/],
    [{}, { remote_ts: ["10.99.0.0/16"] }, /INVALID_ID_INFORMATION|Quick Mode/],
  ];
  for (const [b, h, re] of cases) {
    const w = new Wire(branchPolicy(b), hubPolicy(h));
    w.dial();
    w.advance(w.now + 120_000);
    const c = connections(w.branch.log);
    assert.ok(c.length >= 1 && c.every((x) => x.event === "failed"), JSON.stringify(c));
    assert.match(c[0]!.reason, re, lines(w.branch.log).join("\n"));
    assert.equal(w.branch.sas.size, 0, "no SA installed on a refusal");
    assert.equal(w.branch.engine.ikeSas(w.now).length, 0, "no IKE SA left");
  }
});

Deno.test("behind a NAT: float to 4500, UDP-encapsulated SAs both sides", () => {
  const w = new Wire(branchPolicy(), hubPolicy({ remote: "%any" }));
  w.nat = { address: "203.0.113.7", port500: 31000, port4500: 31001 };
  w.dial();
  assert.deepEqual(
    connections(w.branch.log).map((c) => c.event),
    ["up"],
    lines(w.branch.log).join("\n"),
  );
  const out = [...w.branch.sas.values()].find((s) => s.direction === "out")!;
  assert.deepEqual(out.endpoints.encap, { localPort: 4500, remotePort: 4500 });
  const hubOut = [...w.hub.sas.values()].find((s) => s.direction === "out")!;
  assert.equal(hubOut.endpoints.remote, "203.0.113.7");
  assert.equal(hubOut.endpoints.encap?.remotePort, 31001);
  assert.equal(w.branch.engine.ikeSas(w.now)[0]!.remote, `${HUB_IP}:4500`);
  assert.equal(matchedPairs(w.branch, w.hub), 1);
});

Deno.test("soft lifetime: the initiator rekeys the child (make-before-break, jittered margin)", () => {
  const w = new Wire(branchPolicy({ esp_lifetime: 600, rekey_margin: 120 }), hubPolicy());
  w.dial();
  const first = [...w.branch.sas.values()].find((s) => s.direction === "out")!;
  const soft = first.lifetime.softSeconds;
  assert.ok(soft <= 480 && soft >= 450, `soft ${soft} within margin + quarter-margin jitter`);
  w.now += soft * 1000;
  w.run(
    "branch",
    w.branch.engine.espLifetime({
      kind: "soft",
      childId: first.childId,
      spi: first.spi,
      direction: "out",
    }, w.now),
  );
  assert.equal(matchedPairs(w.branch, w.hub), 2, "old and new pair both installed");
  assert.equal(w.hub.engine.childSas(w.now).filter((c) => c.state === "rekeyed").length, 1);
});

Deno.test("Phase 1 re-authentication before expiry keeps the Quick Mode SAs", () => {
  const w = new Wire(branchPolicy({ ike_lifetime: 3600, rekey_margin: 300 }), hubPolicy());
  w.dial();
  const before = w.branch.engine.ikeSas(w.now)[0]!.spis;
  const children = w.branch.sas.size;
  w.advance(w.now + 3400 * 1000);
  const after = w.branch.engine.ikeSas(w.now);
  assert.equal(after.length, 1, lines(w.branch.log).slice(-10).join("\n"));
  assert.notEqual(after[0]!.spis, before);
  assert.equal(after[0]!.state, "ESTABLISHED");
  assert.equal(w.branch.sas.size, children, "children kept");
  assert.equal(w.hub.engine.ikeSas(w.now).length, 1, "the hub dropped the old IKE SA");
  assert.ok(connections(w.branch.log).every((c) => c.event === "up"));
});

Deno.test("the hub deletes the IKE SA: the branch reports the peer down", () => {
  const w = new Wire();
  w.dial();
  w.run("hub", w.hub.engine.deletePeer("branch1", w.now));
  const c = connections(w.branch.log);
  assert.deepEqual(c.map((x) => x.event), ["up", "down"], lines(w.branch.log).join("\n"));
});
