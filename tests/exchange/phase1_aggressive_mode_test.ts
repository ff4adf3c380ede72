/**
 * Aggressive Mode with a pre-shared key against the scripted initiator: peer chosen by ID,
 * keys equal both sides, retransmitted message 1, bad HASH_I, unknown identity, a peer
 * configured for Main Mode refusing Aggressive Mode.
 */

import assert from "node:assert/strict";
import { decodeV1Message } from "../../src/ike/message/v1/mod.ts";
import {
  BRANCH,
  events,
  GW,
  hasEvent,
  oneSend,
  policy,
  PSK,
  sends,
  setup,
} from "./initiator/p1_harness.ts";

const fqdn = (s: string) => ({ type: 2 as const, data: new TextEncoder().encode(s) });
const ANY = { address: "198.51.100.7", port: 500 };

Deno.test("Aggressive Mode: %any peer chosen by FQDN, established, keys agree", () => {
  const s = setup(
    policy({ mode: "aggressive", remote: "%any", remote_id: "branch1.example" }, [
      {
        name: "other",
        remote: "%any",
        mode: "aggressive",
        remote_id: "other.example",
        psk: "another key of this test",
        ike_proposals: ["aes128-sha256-modp2048"],
        local_ts: ["10.1.0.0/16"],
        remote_ts: ["10.3.0.0/16"],
      },
    ]),
    { id: fqdn("branch1.example"), self: ANY, natt: "rfc", dpd: true },
  );
  const a2 = s.r.handle(s.i.am1(), GW, ANY, s.now);
  s.i.readAm2(oneSend(a2)); // throws unless HASH_R verifies
  assert.equal(s.r.ikeSas(s.now)[0]?.state, "AM_SENT");
  assert.equal(s.r.ikeSas(s.now)[0]?.peer, "branch1");
  const a3 = s.r.handle(s.i.am3(), GW, ANY, s.now);
  assert.equal(sends(a3).length, 0);
  assert.ok(hasEvent(a3, /IKE SA established/), JSON.stringify(events(a3)));
  assert.equal(s.r.ikeSas(s.now)[0]?.state, "ESTABLISHED");
  // SKEYID_a agrees: a protected R-U-THERE is answered.
  const act = s.r.handle(
    s.i.informational(7, {
      kind: "n",
      doi: 1,
      protocol: 1,
      spi: new Uint8Array([...s.i.ckyI, ...s.i.ckyR]),
      notifyType: 36136,
      data: Uint8Array.of(0, 0, 0, 5),
    }),
    GW,
    ANY,
    s.now,
  );
  const ack = s.i.open(oneSend(act));
  assert.ok(s.i.checkInfoHash(ack.messageId, ack.payloads, ack.plain));
});

Deno.test("Aggressive Mode: retransmitted message 1 → identical message 2, one SA", () => {
  const s = setup(policy({ mode: "aggressive" }));
  const m1 = s.i.am1();
  const r1 = oneSend(s.r.handle(m1, GW, BRANCH, s.now));
  assert.deepEqual(oneSend(s.r.handle(m1, GW, BRANCH, s.now)), r1);
  assert.equal(s.r.ikeSas(s.now).length, 1);
});

Deno.test("Aggressive Mode: bad HASH_I → AUTHENTICATION_FAILED, SA gone", () => {
  const s = setup(policy({ mode: "aggressive" }));
  s.i.readAm2(oneSend(s.r.handle(s.i.am1(), GW, BRANCH, s.now)));
  const act = s.r.handle(s.i.am3({ corruptHash: true }), GW, BRANCH, s.now);
  const m = decodeV1Message(oneSend(act));
  assert.ok(m.ok && !m.value.encrypted);
  const n = m.value.payloads.find((p) => p.kind === "n");
  assert.equal(n?.kind === "n" ? n.notifyType : 0, 24);
  assert.ok(hasEvent(act, /wrong PSK/));
  assert.equal(s.r.ikeSas(s.now).length, 0);
});

Deno.test("Aggressive Mode: unknown identity → dropped with INVALID_ID_INFORMATION event", () => {
  const s = setup(policy({ mode: "aggressive", remote_id: "branch1.example" }), {
    id: fqdn("mallory.example"),
  });
  const act = s.r.handle(s.i.am1(), GW, BRANCH, s.now);
  assert.equal(sends(act).length, 0);
  assert.ok(hasEvent(act, /INVALID_ID_INFORMATION/));
  assert.equal(s.r.ikeSas(s.now).length, 0);
});

Deno.test("Aggressive Mode: refused for a peer configured for Main Mode", () => {
  const s = setup(policy());
  const act = s.r.handle(s.i.am1(), GW, BRANCH, s.now);
  assert.equal(sends(act).length, 0);
  assert.ok(hasEvent(act, /configured for main mode/));
  assert.ok(!JSON.stringify(act).includes(PSK));
});
