/**
 * Forged and replayed datagrams against an established, NAT-T floated IKE SA (RFC 3947 §4:
 * the endpoints follow only authenticated messages). An attacker knows the cookies (they travel
 * in clear) and sends from another address to the NAT-T port: random encrypted bodies, a bad
 * HASH(1), and exact replays of the peer's genuine Informational and Quick Mode messages. The
 * SA must stay at the real peer, its liveness clock must not move (DPD still probes the real
 * peer), nothing is answered to the attacker, and the real peer's next exchanges still work. A
 * genuine fresh message from a new address does move the SA (the positive control).
 */

import assert from "node:assert/strict";
import { encodeV1EncryptedMessage } from "../../src/ike/message/v1/message.ts";
import type { IkeAction } from "../../src/ike/actions.ts";
import { u32 } from "./initiator/phase1.ts";
import {
  gcmQuickMode,
  GW,
  hasEvent,
  mainMode,
  oneSend,
  policy,
  sends,
  type Setup,
  setup,
} from "./initiator/p1_harness.ts";
import type { Ep } from "./initiator/phase1.ts";

const PEER: Ep = { address: "192.0.2.2", port: 4500 };
const PEER_500: Ep = { address: "192.0.2.2", port: 500 };
const GW_NATT: Ep = { address: GW.address, port: 4500 };
const ATTACKER: Ep = { address: "203.0.113.66", port: 49440 };
const NEW_MAPPING: Ep = { address: "198.51.100.77", port: 61000 };

/** An established SA floated to 4500 (the peer fakes NAT-D like strongSwan's encap = yes). */
function floated(dpd = true): Setup {
  const s = setup(policy({ dpd_delay: 10, dpd_timeout: 30 }), {
    natt: "rfc",
    dpd,
    self: PEER_500,
    responder: GW,
    fakeNatD: true,
  });
  mainMode(s, { from: PEER_500, floatTo: GW_NATT, floatFrom: PEER });
  assertAt(s, PEER);
  return s;
}

function assertAt(s: Setup, ep: Ep): void {
  const v = s.r.ikeSas(s.now);
  assert.equal(v.length, 1);
  assert.equal(v[0]!.remote, `${ep.address}:${ep.port}`);
}

function noSendTo(actions: readonly IkeAction[], ep: Ep): void {
  for (const x of sends(actions)) {
    assert.ok(x.remote.address !== ep.address, `nothing may be sent to ${ep.address}`);
  }
}

/** Deterministic filler bytes (a seeded LCG; the content only has to be garbage). */
function junk(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** A datagram with the SA's real cookies and a random encrypted body. */
function forged(s: Setup, exchangeType: number, mid: number, seed: number): Uint8Array {
  return encodeV1EncryptedMessage(
    { spiI: s.i.ckyI, spiR: s.i.ckyR, exchangeType, flags: 0, messageId: mid },
    8,
    junk(64, seed),
  );
}

function rUThere(s: Setup, seq: number) {
  return {
    kind: "n" as const,
    doi: 1,
    protocol: 1,
    spi: new Uint8Array([...s.i.ckyI, ...s.i.ckyR]),
    notifyType: 36136,
    data: u32(seq),
  };
}

/** A whole Quick Mode from `from`; returns its two datagrams and the message-2 send. */
/** The directions of the SAs `actions` install, in order ("in,out"). */
function installs(actions: readonly IkeAction[]): string {
  return actions.flatMap((a) => a.kind === "installSa" ? [a.spec.direction] : []).join(",");
}

function quickMode(s: Setup, mid: number, spi: number, from: Ep) {
  const qm = gcmQuickMode(s, mid, spi, 3);
  const m1 = s.i.encrypted(32, mid, 8, qm.message1().bytes);
  const a2 = s.r.handle(m1, GW_NATT, from, s.now);
  const r2 = s.i.open(oneSend(a2));
  qm.readMessage2(r2.first, r2.plain);
  const m3 = s.i.encrypted(32, mid, 8, qm.message3().bytes);
  const a3 = s.r.handle(m3, GW_NATT, from, s.now);
  // A first child: both SAs went in before message 2 (RFC 2408 §3.1); message 3 completes it.
  assert.equal(installs(a2), "in,out");
  assert.equal(installs(a3), "", JSON.stringify(a3));
  assert.ok(hasEvent(a3, /child SA established/));
  return { m1, m3, send2: sends(a2)[0]! };
}

Deno.test("forged Informational (random body, real cookies) from another address: SA stays, DPD unchanged", () => {
  const s = floated();
  const t0 = s.now;
  for (let i = 0; i < 50; i++) {
    const act = s.r.handle(forged(s, 5, 0x100 + i, i), GW_NATT, ATTACKER, t0 + 9_000);
    noSendTo(act, ATTACKER);
    assert.ok(!hasEvent(act, /NAT mapping changed/));
  }
  assertAt(s, PEER);
  // Liveness did not move: the probe is due at dpd_delay after the real peer's last message,
  // and it goes to the real peer.
  const probe = sends(s.r.tick(t0 + 10_000));
  assert.equal(probe.length, 1);
  assert.deepEqual(probe[0]!.remote, PEER);
});

Deno.test("Informational with a bad HASH(1) from another address: dropped, SA stays", () => {
  const s = floated();
  const act = s.r.handle(
    s.i.informational(0x77, rUThere(s, 5), { corruptHash: true }),
    GW_NATT,
    ATTACKER,
    s.now,
  );
  assert.equal(sends(act).length, 0);
  assertAt(s, PEER);
});

Deno.test("replayed Informational from another address: not answered, SA stays (also after the message-ID table expired)", () => {
  const s = floated();
  const genuine = s.i.informational(0x21, rUThere(s, 100));
  const ack = sends(s.r.handle(genuine, GW_NATT, PEER, s.now));
  assert.equal(ack.length, 1);
  assert.deepEqual(ack[0]!.remote, PEER);
  const replay = s.r.handle(genuine, GW_NATT, ATTACKER, s.now + 1_000);
  assert.equal(sends(replay).length, 0);
  assertAt(s, PEER);
  // Keep the SA alive with real traffic past the 120 s message-ID table, then replay again.
  for (let t = 1; t <= 15; t++) {
    s.now += 10_000;
    s.r.tick(s.now);
    s.r.handle(s.i.informational(0x1000 + t, rUThere(s, 100 + t)), GW_NATT, PEER, s.now);
  }
  const late = s.r.handle(genuine, GW_NATT, ATTACKER, s.now);
  assert.equal(sends(late).length, 0);
  assertAt(s, PEER);
});

Deno.test("genuine Informational from a new address moves the SA (RFC 3947 §4) and is answered there", () => {
  const s = floated();
  const act = s.r.handle(s.i.informational(0x31, rUThere(s, 7)), GW_NATT, NEW_MAPPING, s.now);
  assert.ok(hasEvent(act, /NAT mapping changed/));
  assert.deepEqual(sends(act)[0]?.remote, NEW_MAPPING);
  assertAt(s, NEW_MAPPING);
});

Deno.test("forged Quick Mode from another address: SA stays, liveness and IV state untouched", () => {
  const s = floated();
  const t0 = s.now;
  const mid = 0x5150;
  // Random bodies under the message ID the real peer is about to use, and under others.
  for (let i = 0; i < 50; i++) {
    const id = i === 0 ? mid : 0x9000 + i;
    const act = s.r.handle(forged(s, 32, id, 1000 + i), GW_NATT, ATTACKER, t0 + 9_000);
    noSendTo(act, ATTACKER);
  }
  // A message 1 that decrypts and parses but whose HASH(1) is wrong (the worst forgery).
  const bad = gcmQuickMode(s, mid, 0xc0ffee04, 3).message1({ corruptHash: true });
  const act = s.r.handle(s.i.encrypted(32, mid, 8, bad.bytes), GW_NATT, ATTACKER, t0 + 9_000);
  assert.equal(sends(act).length, 0);
  assert.ok(hasEvent(act, /HASH\(1\) does not verify/));
  s.i.ivs.delete(mid); // the scripted initiator chained past it; the responder must not have
  assertAt(s, PEER);
  assert.equal(sends(s.r.tick(t0 + 10_000)).length, 1, "DPD probe still due");
  // The real peer's Quick Mode under the same message ID still decrypts and completes.
  s.now = t0 + 10_500;
  const qm = quickMode(s, mid, 0xc0ffee05, PEER);
  assert.deepEqual(qm.send2.remote, PEER);
  assert.equal(s.r.childSas(s.now).length, 1);
});

Deno.test("Quick Mode message 3 with a bad HASH(3) from another address: no SA, SA stays, real message 3 completes", () => {
  const s = floated();
  const mid = 0x5250;
  const qm = gcmQuickMode(s, mid, 0xc0ffee08, 3);
  const r2 = s.i.open(
    oneSend(s.r.handle(s.i.encrypted(32, mid, 8, qm.message1().bytes), GW_NATT, PEER, s.now)),
  );
  qm.readMessage2(r2.first, r2.plain);
  const ivBefore = s.i.ivs.get(mid)!;
  const bad = s.r.handle(
    s.i.encrypted(32, mid, 8, qm.message3({ corruptHash: true }).bytes),
    GW_NATT,
    ATTACKER,
    s.now,
  );
  assert.equal(installs(bad), "");
  assert.equal(s.r.childSas(s.now).length, 0);
  assertAt(s, PEER);
  s.i.ivs.set(mid, ivBefore);
  const good = s.r.handle(s.i.encrypted(32, mid, 8, qm.message3().bytes), GW_NATT, PEER, s.now);
  assert.ok(hasEvent(good, /child SA established/));
  assert.equal(s.r.childSas(s.now).length, 1);
  assertAt(s, PEER);
});

Deno.test("replayed Quick Mode (messages 1 and 3, during and after the exchange) from another address: SA stays", () => {
  const s = floated();
  const mid = 0x6160;
  const qm = gcmQuickMode(s, mid, 0xc0ffee06, 3);
  const m1 = s.i.encrypted(32, mid, 8, qm.message1().bytes);
  const a2 = s.r.handle(m1, GW_NATT, PEER, s.now);
  const r2 = s.i.open(oneSend(a2));
  qm.readMessage2(r2.first, r2.plain);
  // Message 1 replayed while the exchange is open: message 2 goes to the real peer only.
  const during = s.r.handle(m1, GW_NATT, ATTACKER, s.now + 100);
  noSendTo(during, ATTACKER);
  assertAt(s, PEER);
  const m3 = s.i.encrypted(32, mid, 8, qm.message3().bytes);
  assert.equal(installs(during), "");
  assert.ok(hasEvent(s.r.handle(m3, GW_NATT, PEER, s.now + 200), /child SA established/));
  for (const d of [m1, m3]) {
    const act = s.r.handle(d, GW_NATT, ATTACKER, s.now + 300);
    assert.equal(sends(act).length, 0);
    assert.equal(act.filter((a) => a.kind === "installSa").length, 0);
    assert.ok(!hasEvent(act, /NAT mapping changed/));
  }
  assertAt(s, PEER);
  assert.equal(s.r.childSas(s.now).length, 1);
});

Deno.test("genuine Quick Mode from a new address moves the SA; message 2 goes there", () => {
  const s = floated();
  const qm = quickMode(s, 0x7170, 0xc0ffee07, NEW_MAPPING);
  assert.deepEqual(qm.send2.remote, NEW_MAPPING);
  assertAt(s, NEW_MAPPING);
});
