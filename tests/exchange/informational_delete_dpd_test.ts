/**
 * Informational exchanges on an established IKE SA: Delete of the ISAKMP SA, Delete of ESP
 * SPIs through Phase 2, bad HASH(1), DPD both ways (RFC 3706) with sequence checks and a dead
 * peer, INITIAL-CONTACT, clear and shutdown.
 */

import assert from "node:assert/strict";
import { u32 } from "./initiator/phase1.ts";
import {
  BRANCH,
  gcmQuickMode,
  GW,
  hasEvent,
  mainMode,
  oneSend,
  policy,
  PSK,
  sends,
  type Setup,
  setup,
} from "./initiator/p1_harness.ts";
import { Phase1Initiator } from "./initiator/phase1.ts";

function rUThere(s: Setup, seq: number, ack = false) {
  return {
    kind: "n" as const,
    doi: 1,
    protocol: 1,
    spi: new Uint8Array([...s.i.ckyI, ...s.i.ckyR]),
    notifyType: ack ? 36137 : 36136,
    data: u32(seq),
  };
}

/** Main Mode + one Quick Mode; returns the inbound SPI the responder allocated. */
function withChild(s: Setup): number {
  mainMode(s);
  const mid = 0x0a0b0c0d;
  const qm = gcmQuickMode(s, mid, 0xc0ffee01);
  const m1 = qm.message1();
  const r2 = s.i.open(oneSend(s.r.handle(s.i.encrypted(32, mid, 8, m1.bytes), GW, BRANCH, s.now)));
  const reply = qm.readMessage2(r2.first, r2.plain);
  s.r.handle(s.i.encrypted(32, mid, 8, qm.message3().bytes), GW, BRANCH, s.now);
  assert.equal(s.r.childSas(s.now).length, 1);
  return reply.responderSpi;
}

Deno.test("Informational: Delete of the ISAKMP SA removes it; children stay", () => {
  const s = setup();
  withChild(s);
  const spi = new Uint8Array([...s.i.ckyI, ...s.i.ckyR]);
  const act = s.r.handle(
    s.i.informational(11, { kind: "d", doi: 1, protocol: 1, spiSize: 16, spis: [spi] }),
    GW,
    BRANCH,
    s.now,
  );
  assert.ok(hasEvent(act, /peer deleted the IKE SA/));
  assert.equal(s.r.ikeSas(s.now).length, 0);
  assert.equal(s.r.childSas(s.now).length, 1);
});

Deno.test("Informational: Delete of an ESP SPI removes both directions via Phase 2", () => {
  const s = setup();
  const ourSpi = withChild(s);
  const act = s.r.handle(
    s.i.informational(12, { kind: "d", doi: 1, protocol: 3, spiSize: 4, spis: [u32(ourSpi)] }),
    GW,
    BRANCH,
    s.now,
  );
  assert.equal(act.filter((a) => a.kind === "deleteSa").length, 2);
  assert.equal(s.r.childSas(s.now).length, 0);
  assert.equal(s.r.ikeSas(s.now).length, 1);
});

Deno.test("Informational: bad HASH(1) is dropped, nothing deleted", () => {
  const s = setup();
  mainMode(s);
  const spi = new Uint8Array([...s.i.ckyI, ...s.i.ckyR]);
  const act = s.r.handle(
    s.i.informational(13, { kind: "d", doi: 1, protocol: 1, spiSize: 16, spis: [spi] }, {
      corruptHash: true,
    }),
    GW,
    BRANCH,
    s.now,
  );
  assert.equal(sends(act).length, 0);
  assert.ok(hasEvent(act, /HASH\(1\) mismatch/));
  assert.equal(s.r.ikeSas(s.now).length, 1);
});

Deno.test("DPD: R-U-THERE answered with R-U-THERE-ACK of the same sequence; old sequence dropped", () => {
  const s = setup(policy(), { dpd: true });
  mainMode(s);
  const ack = s.i.open(
    oneSend(s.r.handle(s.i.informational(21, rUThere(s, 100)), GW, BRANCH, s.now)),
  );
  assert.ok(s.i.checkInfoHash(ack.messageId, ack.payloads, ack.plain));
  const n = ack.payloads.find((p) => p.kind === "n");
  assert.ok(n?.kind === "n");
  assert.equal(n.notifyType, 36137);
  assert.deepEqual(n.data, u32(100));
  const old = s.r.handle(s.i.informational(22, rUThere(s, 99)), GW, BRANCH, s.now);
  assert.equal(sends(old).length, 0);
  assert.ok(hasEvent(old, /old sequence/));
});

Deno.test("DPD: idle peer probed after dpd_delay; ACK keeps it; silence past dpd_timeout kills it", () => {
  const s = setup(policy({ dpd_delay: 10, dpd_timeout: 30 }), { dpd: true });
  withChild(s);
  const t0 = s.now;
  assert.equal(sends(s.r.tick(t0 + 9_999)).length, 0);
  const probe = s.i.open(oneSend(s.r.tick(t0 + 10_000)));
  const n = probe.payloads.find((p) => p.kind === "n");
  assert.ok(n?.kind === "n" && n.notifyType === 36136);
  const seq = new DataView(n.data.buffer, n.data.byteOffset).getUint32(0);
  // Our ACK with the wrong sequence is ignored; the right one is taken.
  const wrong = s.r.handle(
    s.i.informational(31, rUThere(s, seq + 5, true)),
    GW,
    BRANCH,
    t0 + 11_000,
  );
  assert.ok(hasEvent(wrong, /no outstanding probe/));
  s.r.handle(s.i.informational(32, rUThere(s, seq, true)), GW, BRANCH, t0 + 11_000);
  // Silence: probes every 10 s, dead at 30 s after the last message.
  const p2 = s.r.tick(t0 + 21_000);
  assert.equal(sends(p2).length, 1);
  s.r.tick(t0 + 31_000);
  const dead = s.r.tick(t0 + 41_000);
  assert.ok(hasEvent(dead, /dead peer/), JSON.stringify(dead));
  assert.equal(dead.filter((a) => a.kind === "deleteSa").length, 2);
  assert.equal(s.r.ikeSas(s.now).length, 0);
  assert.equal(s.r.peerStates(s.now)[0]?.detail, "dead peer detected");
});

Deno.test("DPD: no probes to a peer that did not announce DPD", () => {
  const s = setup(policy({ dpd_delay: 10 }));
  mainMode(s);
  assert.equal(sends(s.r.tick(s.now + 60_000)).length, 0);
});

Deno.test("INITIAL-CONTACT: a new Main Mode with it drops the peer's older IKE SAs and children", () => {
  const s = setup();
  withChild(s);
  const s2: Setup = {
    r: s.r,
    i: new Phase1Initiator({ psk: PSK, self: BRANCH, responder: GW }),
    now: s.now + 1000,
  };
  const act = mainMode(s2, { initialContact: true });
  assert.equal(act.filter((a) => a.kind === "deleteSa").length, 2);
  assert.equal(sends(act).length, 1, "no Delete to a peer that rebooted");
  assert.equal(s.r.ikeSas(s2.now).length, 1);
  assert.equal(s.r.childSas(s2.now).length, 0);
});

Deno.test("clear and shutdown: ESP and ISAKMP Deletes sent, state dropped", () => {
  const s = setup();
  withChild(s);
  const act = s.r.deletePeer("branch1", s.now);
  assert.equal(act.filter((a) => a.kind === "deleteSa").length, 2);
  const infos = sends(act).map((x) => s.i.open(x.datagram));
  assert.deepEqual(infos.map((i) => i.payloads.find((p) => p.kind === "d")?.kind === "d"), [
    true,
    true,
  ]);
  assert.equal(s.r.ikeSas(s.now).length, 0);
  assert.equal(s.r.peerStates(s.now)[0]?.state, "down");
  const s2 = setup();
  withChild(s2);
  const down = s2.r.shutdown(s2.now);
  assert.equal(sends(down).length, 2);
  assert.equal(s2.r.ikeSas(s2.now).length, 0);
});

Deno.test("setPolicy: unchanged peer keeps its SAs, changed peer's SAs are deleted", () => {
  const s = setup();
  withChild(s);
  assert.equal(s.r.setPolicy(policy(), s.now).filter((a) => a.kind === "deleteSa").length, 0);
  assert.equal(s.r.ikeSas(s.now).length, 1);
  const act = s.r.setPolicy(policy({ dpd_delay: 5 }), s.now);
  assert.equal(act.filter((a) => a.kind === "deleteSa").length, 2);
  assert.equal(s.r.ikeSas(s.now).length, 0);
});

Deno.test("setPolicy: a log level change keeps SAs; an IKE port change deletes them", () => {
  const s = setup();
  withChild(s);
  const quiet = policy();
  const cfg = { ...quiet.config, gateway: { ...quiet.config.gateway, log_level: "warn" as const } };
  assert.equal(
    s.r.setPolicy({ ...quiet, config: cfg }, s.now).filter((a) => a.kind === "deleteSa").length,
    0,
  );
  assert.equal(s.r.ikeSas(s.now).length, 1);
  const moved = { ...quiet.config, gateway: { ...quiet.config.gateway, natt_port: 4501 } };
  const act = s.r.setPolicy({ ...quiet, config: moved }, s.now);
  assert.equal(act.filter((a) => a.kind === "deleteSa").length, 2);
  assert.equal(s.r.ikeSas(s.now).length, 0);
});
