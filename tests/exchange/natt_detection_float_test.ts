/**
 * NAT traversal (RFC 3947): vendor IDs (RFC and draft), NAT-D hashes both ways, NAT detected
 * when the initiator's address is translated, the IKE SA floating to port 4500 when message 5
 * arrives there, child SAs UDP-encapsulated on the floated ports; a peer faking its NAT-D
 * (strongSwan's encap = yes) and `encap = true` in the config force encapsulation; no NAT → no
 * encapsulation.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { DecodedPayloadV1 } from "../../src/ike/message/v1/mod.ts";
import type { EspSaSpec } from "../../src/esp/sa_spec.ts";
import {
  gcmQuickMode,
  GW,
  hasEvent,
  mainMode,
  oneSend,
  policy,
  type Setup,
  setup,
} from "./initiator/p1_harness.ts";
import { type Ep } from "./initiator/phase1.ts";

const PRIVATE: Ep = { address: "198.51.100.5", port: 500 };
const PUBLIC: Ep = { address: "192.0.2.2", port: 500 };
const PUBLIC_NATT: Ep = { address: "192.0.2.2", port: 4501 };
const GW_NATT: Ep = { address: GW.address, port: 4500 };

const md5hex = (s: string) => createHash("md5").update(s).digest("hex");
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function natD(s: Setup, ep: Ep): string {
  const ip = Uint8Array.from(ep.address.split(".").map(Number));
  return createHash("sha256")
    .update(s.i.ckyI).update(s.i.ckyR).update(ip).update(Uint8Array.of(ep.port >> 8, ep.port & 255))
    .digest("hex");
}

/**
 * One Quick Mode offering UDP-tunnel mode `mode`; returns the installed specs (inbound with
 * message 2, outbound with message 3).
 */
function quickMode(s: Setup, mode: number, from: Ep, to: Ep): EspSaSpec[] {
  const mid = 0x11223344;
  const qm = gcmQuickMode(s, mid, 0xc0ffee02, mode);
  const a2 = s.r.handle(s.i.encrypted(32, mid, 8, qm.message1().bytes), to, from, s.now);
  const r2 = s.i.open(oneSend(a2));
  qm.readMessage2(r2.first, r2.plain);
  const act = s.r.handle(s.i.encrypted(32, mid, 8, qm.message3().bytes), to, from, s.now);
  return [...a2, ...act].flatMap((a) => a.kind === "installSa" ? [a.spec] : []);
}

function natDs(p: readonly DecodedPayloadV1[]) {
  return p.flatMap((x) => x.kind === "nat-d" ? [{ type: x.type, hash: hex(x.hash) }] : []);
}

Deno.test("NAT-T (RFC 3947): NAT detected, float to 4500, child SAs encapsulated on the floated ports", () => {
  const s = setup(policy(), { natt: "rfc", self: PRIVATE, responder: GW });
  const p2 = s.i.readPlain(oneSend(s.r.handle(s.i.mm1(), GW, PUBLIC, s.now)));
  assert.ok(p2.some((p) => p.kind === "vid" && hex(p.data) === md5hex("RFC 3947")));
  const m4 = s.r.handle(s.i.mm3(), GW, PUBLIC, s.now);
  const p4 = s.i.readMm4(oneSend(m4));
  assert.ok(hasEvent(m4, /NAT detected/));
  // RFC 3947 §3.2: first the destination (the initiator as we see it), then us.
  assert.deepEqual(natDs(p4), [
    { type: 20, hash: natD(s, PUBLIC) },
    { type: 20, hash: natD(s, GW) },
  ]);
  const m6 = s.r.handle(s.i.mm5(), GW_NATT, PUBLIC_NATT, s.now);
  s.i.readMm6(oneSend(m6));
  const send6 = m6.find((a) => a.kind === "send");
  assert.ok(send6?.kind === "send");
  assert.deepEqual(send6.remote, PUBLIC_NATT);
  assert.deepEqual(send6.local, GW_NATT);
  const view = s.r.ikeSas(s.now)[0]!;
  assert.equal(view.remote, "192.0.2.2:4501");
  assert.equal(view.local, "192.0.2.1:4500");
  const specs = quickMode(s, 3, PUBLIC_NATT, GW_NATT);
  assert.equal(specs.length, 2);
  for (const spec of specs) {
    assert.deepEqual(spec.endpoints.encap, { localPort: 4500, remotePort: 4501 });
  }
  assert.equal(s.r.childSas(s.now)[0]?.encap, true);
});

Deno.test("NAT-T draft VID: echoed, NAT-D payloads of type 130", () => {
  const s = setup(policy(), { natt: "draft", self: PRIVATE, responder: GW });
  const p2 = s.i.readPlain(oneSend(s.r.handle(s.i.mm1(), GW, PUBLIC, s.now)));
  assert.ok(
    p2.some((p) => p.kind === "vid" && hex(p.data) === md5hex("draft-ietf-ipsec-nat-t-ike-03")),
  );
  const p4 = s.i.readMm4(oneSend(s.r.handle(s.i.mm3(), GW, PUBLIC, s.now)));
  assert.deepEqual(natDs(p4).map((x) => x.type), [130, 130]);
});

Deno.test("NAT-T: no NAT → no float, no encapsulation", () => {
  const s = setup(policy(), { natt: "rfc", self: PUBLIC, responder: GW });
  const act = mainMode(s, { from: PUBLIC });
  assert.ok(!hasEvent(act, /NAT detected/));
  const specs = quickMode(s, 1, PUBLIC, GW);
  assert.equal(specs.length, 2);
  for (const spec of specs) assert.equal(spec.endpoints.encap, undefined);
});

Deno.test("NAT-T: a faked NAT-D (strongSwan encap = yes) forces encapsulation", () => {
  const s = setup(policy(), { natt: "rfc", self: PUBLIC, responder: GW, fakeNatD: true });
  mainMode(s, { from: PUBLIC, floatTo: GW_NATT, floatFrom: { ...PUBLIC, port: 4500 } });
  assert.equal(s.r.ikeSas(s.now)[0]?.remote, "192.0.2.2:4500");
  const specs = quickMode(s, 3, { ...PUBLIC, port: 4500 }, GW_NATT);
  for (const spec of specs) {
    assert.deepEqual(spec.endpoints.encap, { localPort: 4500, remotePort: 4500 });
  }
});

Deno.test("NAT-T: encap = true in the peer config encapsulates without a NAT", () => {
  const s = setup(policy({ encap: true }), { natt: "rfc", self: PUBLIC, responder: GW });
  mainMode(s, { from: PUBLIC });
  const specs = quickMode(s, 3, PUBLIC, GW);
  assert.equal(specs.length, 2);
  for (const spec of specs) assert.ok(spec.endpoints.encap !== undefined);
});
