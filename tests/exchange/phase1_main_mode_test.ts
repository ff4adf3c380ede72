/**
 * Main Mode with a pre-shared key against the independent scripted initiator: success with
 * the same SKEYID_d/a/e both sides (checked through a Quick Mode), retransmissions, reordered
 * and truncated messages, wrong PSK, proposal mismatch, wrong identity, a new Main Mode
 * replacing the old one.
 */

import assert from "node:assert/strict";
import { decodeV1Message } from "../../src/ike/message/v1/mod.ts";
import {
  BRANCH,
  events,
  gcmQuickMode,
  GW,
  hasEvent,
  mainMode,
  oneSend,
  policy,
  PSK,
  sends,
  setup,
} from "./initiator/p1_harness.ts";
import { Phase1Initiator } from "./initiator/phase1.ts";

function notifyType(datagram: Uint8Array): number | undefined {
  const m = decodeV1Message(datagram);
  if (!m.ok || m.value.encrypted) return undefined;
  const n = m.value.payloads.find((p) => p.kind === "n");
  return n?.kind === "n" ? n.notifyType : undefined;
}

Deno.test("Main Mode: 6 messages, established, views", () => {
  const s = setup();
  const m2 = s.r.handle(s.i.mm1(), GW, BRANCH, s.now);
  const p2 = s.i.readPlain(oneSend(m2));
  assert.equal(s.i.chosen?.attributes.find((a) => a.type === 4)?.value, 14);
  assert.ok(p2.some((p) => p.kind === "vid"), "DPD vendor ID sent");
  assert.equal(s.r.ikeSas(s.now)[0]?.state, "MM_SA_SENT");
  s.i.readMm4(oneSend(s.r.handle(s.i.mm3(), GW, BRANCH, s.now)));
  assert.equal(s.r.ikeSas(s.now)[0]?.state, "MM_KEY_SENT");
  const m6 = s.r.handle(s.i.mm5(), GW, BRANCH, s.now);
  s.i.readMm6(oneSend(m6)); // throws unless HASH_R verifies with our SKEYID
  assert.ok(hasEvent(m6, /IKE SA established/));
  const view = s.r.ikeSas(s.now + 5000);
  assert.equal(view.length, 1);
  assert.equal(view[0]!.state, "ESTABLISHED");
  assert.equal(view[0]!.algorithms, "aes128-sha256-modp2048");
  assert.equal(view[0]!.ageSeconds, 5);
  assert.equal(view[0]!.expiresSeconds, 3595);
  assert.equal(s.r.peerStates(s.now)[0]?.state, "connecting");
  for (const e of events(m6)) assert.ok(!JSON.stringify(e).includes(PSK));
});

Deno.test("Main Mode then Quick Mode: SKEYID_d/a equal both sides, ESP SAs installed", () => {
  const s = setup();
  mainMode(s);
  const mid = 0x01020304;
  const qm = gcmQuickMode(s, mid, 0xc0ffee01);
  const m1 = qm.message1();
  const q1 = s.i.encrypted(32, mid, m1.chain.payloads[0]!.type, m1.bytes);
  const a2 = s.r.handle(q1, GW, BRANCH, s.now);
  const r2 = s.i.open(oneSend(a2));
  qm.readMessage2(r2.first, r2.plain); // HASH(2) verifies: SKEYID_a agrees
  // Retransmitted QM message 1: the same message 2 again.
  assert.deepEqual(oneSend(s.r.handle(q1, GW, BRANCH, s.now)), sends(a2)[0]!.datagram);
  const m3 = qm.message3();
  const a3 = s.r.handle(s.i.encrypted(32, mid, 8, m3.bytes), GW, BRANCH, s.now);
  const installs = [...a2, ...a3].filter((a) => a.kind === "installSa");
  assert.equal(installs.length, 2, JSON.stringify(events(a3).map((e) => e.message)));
  const inbound = installs.find((a) => a.kind === "installSa" && a.spec.direction === "in");
  assert.ok(inbound?.kind === "installSa");
  // KEYMAT equal both sides: SKEYID_d agrees.
  const key = inbound.spec.keyMaterial;
  assert.deepEqual(key, qm.keymat(inbound.spec.spi, key.length));
  assert.equal(s.r.childSas(s.now).length, 1);
  assert.equal(s.r.peerStates(s.now)[0]?.state, "up");
});

Deno.test("Main Mode: retransmitted messages 1, 3, 5 get identical responses and no new SA", () => {
  const s = setup();
  const m1 = s.i.mm1();
  const r1 = oneSend(s.r.handle(m1, GW, BRANCH, s.now));
  assert.deepEqual(oneSend(s.r.handle(m1, GW, BRANCH, s.now)), r1);
  s.i.readPlain(r1);
  const m3 = s.i.mm3();
  const r3 = oneSend(s.r.handle(m3, GW, BRANCH, s.now));
  assert.deepEqual(oneSend(s.r.handle(m3, GW, BRANCH, s.now)), r3);
  s.i.readMm4(r3);
  const m5 = s.i.mm5();
  const r5 = oneSend(s.r.handle(m5, GW, BRANCH, s.now));
  assert.deepEqual(oneSend(s.r.handle(m5, GW, BRANCH, s.now)), r5);
  s.i.readMm6(r5);
  assert.equal(s.r.ikeSas(s.now).length, 1);
});

Deno.test("Main Mode: reordered message (5 before 3) dropped with an event, state unchanged", () => {
  const s = setup();
  s.i.readPlain(oneSend(s.r.handle(s.i.mm1(), GW, BRANCH, s.now)));
  // A plausible encrypted message 5 arriving while we wait for message 3.
  const early = new Uint8Array(s.i.mm1());
  early[19] = 0x01; // E flag on a message that is not really encrypted
  early.set(s.i.ckyR, 8);
  const act = s.r.handle(early, GW, BRANCH, s.now);
  assert.equal(sends(act).length, 0);
  assert.ok(events(act).length >= 1);
  assert.equal(s.r.ikeSas(s.now)[0]?.state, "MM_SA_SENT");
  // The exchange still completes.
  s.i.readMm4(oneSend(s.r.handle(s.i.mm3(), GW, BRANCH, s.now)));
  s.i.readMm6(oneSend(s.r.handle(s.i.mm5(), GW, BRANCH, s.now)));
});

Deno.test("Main Mode: truncated message 3 is a typed drop and leaves the state unchanged", () => {
  const s = setup();
  s.i.readPlain(oneSend(s.r.handle(s.i.mm1(), GW, BRANCH, s.now)));
  const m3 = s.i.mm3();
  for (const cut of [27, 29, 40, m3.length - 1]) {
    const act = s.r.handle(m3.subarray(0, cut), GW, BRANCH, s.now);
    assert.equal(sends(act).length, 0, `cut ${cut}`);
    assert.ok(hasEvent(act, /dropped/), `cut ${cut}`);
  }
  // A length field that lies about the KE payload.
  const bad = m3.slice();
  bad[28 + 3] = 0xff;
  assert.equal(sends(s.r.handle(bad, GW, BRANCH, s.now)).length, 0);
  assert.equal(s.r.ikeSas(s.now)[0]?.state, "MM_SA_SENT");
  s.i.readMm4(oneSend(s.r.handle(m3, GW, BRANCH, s.now)));
});

Deno.test("Main Mode: wrong PSK → AUTHENTICATION_FAILED or drop, event says so without the key", () => {
  const s = setup(policy(), { psk: "not the right key at all" });
  s.i.readPlain(oneSend(s.r.handle(s.i.mm1(), GW, BRANCH, s.now)));
  s.i.readMm4(oneSend(s.r.handle(s.i.mm3(), GW, BRANCH, s.now)));
  const act = s.r.handle(s.i.mm5(), GW, BRANCH, s.now);
  assert.ok(hasEvent(act, /wrong PSK/), JSON.stringify(events(act)));
  for (const a of act) {
    assert.ok(!JSON.stringify(a).includes(PSK));
    assert.ok(!JSON.stringify(a).includes("not the right key"));
  }
  const sent = sends(act);
  if (sent.length > 0) assert.equal(notifyType(sent[0]!.datagram), 24);
  assert.ok(!s.r.ikeSas(s.now).some((v) => v.state === "ESTABLISHED"));
  assert.match(s.r.peerStates(s.now)[0]!.detail, /PSK/);
});

Deno.test("Main Mode: bad HASH_I with the right key → AUTHENTICATION_FAILED notify, SA gone", () => {
  const s = setup();
  s.i.readPlain(oneSend(s.r.handle(s.i.mm1(), GW, BRANCH, s.now)));
  s.i.readMm4(oneSend(s.r.handle(s.i.mm3(), GW, BRANCH, s.now)));
  const act = s.r.handle(s.i.mm5({ corruptHash: true }), GW, BRANCH, s.now);
  assert.equal(notifyType(oneSend(act)), 24);
  assert.ok(hasEvent(act, /AUTHENTICATION_FAILED.*wrong PSK/));
  assert.equal(s.r.ikeSas(s.now).length, 0);
});

Deno.test("Main Mode: no acceptable proposal → NO_PROPOSAL_CHOSEN, event lists offered vs configured", () => {
  const s = setup(policy({ ike_proposals: ["aes256-sha384-ecp384"] }));
  const act = s.r.handle(s.i.mm1(), GW, BRANCH, s.now);
  assert.equal(notifyType(oneSend(act)), 14);
  const e = events(act).find((x) => /NO_PROPOSAL_CHOSEN/.test(x.message));
  assert.ok(e);
  assert.equal(e.fields["offered"], "aes128-sha256-modp2048/psk");
  assert.equal(e.fields["configured"], "aes256-sha384-ecp384");
  assert.equal(e.peer, "branch1");
  assert.equal(s.r.ikeSas(s.now).length, 0);
});

Deno.test("Main Mode: unknown address → dropped with an event naming it", () => {
  const s = setup();
  const act = s.r.handle(s.i.mm1(), GW, { address: "203.0.113.9", port: 500 }, s.now);
  assert.equal(sends(act).length, 0);
  assert.ok(hasEvent(act, /no peer is configured for 203\.0\.113\.9/));
});

Deno.test("Main Mode: identity not the configured remote_id → INVALID_ID_INFORMATION", () => {
  const s = setup(policy({ remote_id: "branch1.example" }), {
    id: { type: 2, data: new TextEncoder().encode("intruder.example") },
  });
  s.i.readPlain(oneSend(s.r.handle(s.i.mm1(), GW, BRANCH, s.now)));
  s.i.readMm4(oneSend(s.r.handle(s.i.mm3(), GW, BRANCH, s.now)));
  const act = s.r.handle(s.i.mm5(), GW, BRANCH, s.now);
  assert.equal(notifyType(oneSend(act)), 18);
  assert.ok(hasEvent(act, /INVALID_ID_INFORMATION/));
  assert.equal(s.r.ikeSas(s.now).length, 0);
});

Deno.test("Main Mode: FQDN identity matching remote_id is accepted (case-insensitive)", () => {
  const s = setup(policy({ remote_id: "Branch1.Example" }), {
    id: { type: 2, data: new TextEncoder().encode("branch1.example") },
  });
  mainMode(s);
  assert.equal(s.r.ikeSas(s.now)[0]?.state, "ESTABLISHED");
});

Deno.test("Main Mode: ID_DER_ASN1_DN identity matching a DN remote_id is accepted; another CN is not", () => {
  // DER of C=CH, O=Example, CN=<cn> with PrintableString values (RFC 5280 §4.1.2.4).
  const te = new TextEncoder();
  const atv = (oid: number, v: string) => {
    const val = te.encode(v);
    const seq = [0x06, 3, 0x55, 4, oid, 0x13, val.length, ...val];
    return [0x31, seq.length + 2, 0x30, seq.length, ...seq];
  };
  const dn = (cn: string) => {
    const body = [...atv(6, "CH"), ...atv(10, "Example"), ...atv(3, cn)];
    return Uint8Array.of(0x30, body.length, ...body);
  };
  const s = setup(policy({ remote_id: "C=CH, O=Example, CN=branch1" }), {
    id: { type: 9, data: dn("branch1") },
  });
  mainMode(s);
  assert.equal(s.r.ikeSas(s.now)[0]?.state, "ESTABLISHED");
  const t = setup(policy({ remote_id: "C=CH, O=Example, CN=branch1" }), {
    id: { type: 9, data: dn("branch2") },
  });
  t.i.readPlain(oneSend(t.r.handle(t.i.mm1(), GW, BRANCH, t.now)));
  t.i.readMm4(oneSend(t.r.handle(t.i.mm3(), GW, BRANCH, t.now)));
  const act = t.r.handle(t.i.mm5(), GW, BRANCH, t.now);
  assert.equal(notifyType(oneSend(act)), 18);
  assert.ok(hasEvent(act, /INVALID_ID_INFORMATION/));
});

Deno.test("Main Mode: a new Main Mode from the same peer replaces the old IKE SA", () => {
  const s = setup();
  mainMode(s);
  const oldSpis = s.r.ikeSas(s.now)[0]!.spis;
  const s2 = {
    r: s.r,
    i: new Phase1Initiator({ psk: PSK, self: BRANCH, responder: GW }),
    now: s.now + 1000,
  };
  const act = mainMode(s2);
  const view = s.r.ikeSas(s2.now);
  assert.equal(view.length, 1);
  assert.notEqual(view[0]!.spis, oldSpis);
  assert.ok(hasEvent(act, /replaced by a new Phase 1/));
  // The old SA's Delete went out (msg 6 + one Informational).
  assert.equal(sends(act).length, 2);
});

Deno.test("Main Mode: half-open SA expires after 30 s with an event", () => {
  const s = setup();
  const a1 = s.r.handle(s.i.mm1(), GW, BRANCH, s.now);
  const timer = a1.find((a) => a.kind === "timer");
  assert.ok(timer?.kind === "timer");
  assert.equal(timer.at, s.now + 30_000);
  assert.equal(s.r.tick(s.now + 29_999).filter((a) => a.kind === "event").length, 0);
  const act = s.r.tick(s.now + 30_000);
  assert.ok(hasEvent(act, /not completed/));
  assert.equal(s.r.ikeSas(s.now).length, 0);
});

Deno.test("Main Mode: IKE SA lifetime bounded by ike_lifetime, expiry sends a Delete", () => {
  const s = setup(policy({ ike_lifetime: 600 }));
  mainMode(s);
  assert.equal(s.r.ikeSas(s.now)[0]!.expiresSeconds, 600);
  const act = s.r.tick(s.now + 600_000);
  assert.ok(hasEvent(act, /lifetime expired/));
  const d = s.i.open(oneSend(act));
  assert.equal(d.exchangeType, 5);
  assert.ok(s.i.checkInfoHash(d.messageId, d.payloads, d.plain));
  assert.ok(d.payloads.some((p) => p.kind === "d" && p.protocol === 1));
  assert.equal(s.r.ikeSas(s.now).length, 0);
});

Deno.test("Main Mode: an unknown payload type → INVALID_PAYLOAD_TYPE notify, no SA", () => {
  const s = setup();
  const m1 = s.i.mm1();
  // Append an unknown payload (type 77) after the last one: patch the last next-payload field.
  const extra = Uint8Array.of(0, 0, 0, 6, 0xaa, 0xbb);
  const bad = new Uint8Array(m1.length + extra.length);
  bad.set(m1);
  bad.set(extra, m1.length);
  new DataView(bad.buffer).setUint32(24, bad.length);
  // Walk the chain to the last payload and point it at type 77.
  let off = 28;
  for (;;) {
    const next = bad[off]!;
    const len = (bad[off + 2]! << 8) | bad[off + 3]!;
    if (next === 0) {
      bad[off] = 77;
      break;
    }
    off += len;
  }
  const act = s.r.handle(bad, GW, BRANCH, s.now);
  assert.equal(notifyType(oneSend(act)), 1);
  assert.ok(hasEvent(act, /INVALID_PAYLOAD_TYPE/));
  assert.equal(s.r.ikeSas(s.now).length, 0);
});
