/**
 * Quick Mode against the scripted initiator: with and without PFS, keys equal on both sides,
 * retransmitted message 1, bad HASH(1)/HASH(3), proposal mismatch, selectors not allowed,
 * commit bit, RESPONDER-LIFETIME.
 */

import assert from "node:assert/strict";
import { IdTypeV1, NotifyTypeV1 } from "../../src/ike/message/v1/mod.ts";
import type { IdPayloadV1, NotifyPayloadV1 } from "../../src/ike/message/v1/mod.ts";
import { decodeAttributes } from "../../src/ike/message/v1/mod.ts";
import type { EspSaSpec } from "../../src/esp/sa_spec.ts";
import { MAX_PENDING_PER_IKE_SA, QuickModeResponder } from "../../src/ike/v1/quick_mode.ts";
import type { QmIkeSa } from "../../src/ike/v1/quick_mode.ts";
import { type OfferedTransform, qmMessage, QuickModeInitiator } from "./initiator/quick_mode.ts";
import { ikeSa, peerConfig, RecordingHost, type Seen } from "./initiator/qm_host.ts";

const GCM128: OfferedTransform = {
  id: 20,
  attributes: [
    { type: 1, value: 1 },
    { type: 2, value: 3600 },
    { type: 4, value: 1 },
    { type: 6, value: 128 },
  ],
};
const withGroup = (t: OfferedTransform, g: number): OfferedTransform => ({
  ...t,
  attributes: [...t.attributes, { type: 3, value: g }],
});
const CBC256_SHA256: OfferedTransform = {
  id: 12,
  attributes: [
    { type: 1, value: 1 },
    { type: 2, value: 3600 },
    { type: 4, value: 1 },
    { type: 5, value: 5 },
    { type: 6, value: 256 },
  ],
};
const subnet = (a: number[], m: number[]): IdPayloadV1 => ({
  kind: "id",
  idType: IdTypeV1.IPV4_ADDR_SUBNET,
  protocol: 0,
  port: 0,
  data: Uint8Array.from([...a, ...m]),
});
const IDS: [IdPayloadV1, IdPayloadV1] = [
  subnet([10, 2, 0, 0], [255, 255, 0, 0]),
  subnet([10, 1, 0, 0], [255, 255, 0, 0]),
];
const rnd = (n: number) => crypto.getRandomValues(new Uint8Array(n));

function setup(over: Record<string, unknown> = {}, saOver: Partial<QmIkeSa> = {}) {
  const host = new RecordingHost();
  const sa = ikeSa(peerConfig(over), saOver);
  const qm = new QuickModeResponder(rnd);
  return { host, sa, qm };
}

function initiator(sa: QmIkeSa, o: Partial<ConstructorParameters<typeof QuickModeInitiator>[0]>) {
  return new QuickModeInitiator({
    hash: "sha256",
    skeyidD: sa.skeyidD,
    skeyidA: sa.skeyidA,
    messageId: 0x0a0b0c0d,
    spi: 0xc0de0001,
    transforms: [GCM128],
    ids: IDS,
    ...o,
  });
}

const installs = (seen: Seen[]): EspSaSpec[] =>
  seen.flatMap((s) => s.what === "action" && s.action.kind === "installSa" ? [s.action.spec] : []);
const qmReplies = (seen: Seen[]) => seen.flatMap((s) => s.what === "qm" ? [s] : []);
const infos = (seen: Seen[]) => seen.flatMap((s) => s.what === "info" ? [s] : []);
const events = (seen: Seen[]) => seen.flatMap((s) => s.what === "event" ? [s] : []);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/**
 * Runs a whole Quick Mode; returns the installed specs (the inbound one with message 2, the
 * outbound one with message 3), what message 1 and message 3 caused, and the initiator.
 */
function runQm(
  ctx: ReturnType<typeof setup>,
  init: QuickModeInitiator,
  now = 1000,
  flags = 0,
) {
  const mid = init.offer.messageId;
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(mid, init.message1(), flags), now);
  const first = ctx.host.take();
  const [reply] = qmReplies(first);
  assert.ok(reply !== undefined, "message 2 sent");
  const r = init.readMessage2(reply.first, reply.bytes);
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(mid, init.message3()), now + 10);
  const seen = ctx.host.take();
  return { reply, r, first, seen, specs: [...installs(first), ...installs(seen)] };
}

function assertKeysMatch(init: QuickModeInitiator, inbound: EspSaSpec, outbound: EspSaSpec) {
  // The responder's inbound SA uses its own SPI; the initiator sends on it.
  assert.equal(hex(inbound.keyMaterial), hex(init.keymat(inbound.spi, inbound.keyMaterial.length)));
  assert.equal(
    hex(outbound.keyMaterial),
    hex(init.keymat(outbound.spi, outbound.keyMaterial.length)),
  );
}

Deno.test("Quick Mode without PFS: HASH(2) verifies, a first child's SAs in before message 2, keys equal", () => {
  const ctx = setup();
  const init = initiator(ctx.sa, {});
  const { r, specs, first, seen } = runQm(ctx, init);
  assert.equal(r.ke, undefined);
  assert.equal(r.chosen.id, 20);
  assert.deepEqual(r.ids.map((i) => hex(i.data)), IDS.map((i) => hex(i.data)));
  assert.deepEqual(specs.map((s) => s.direction), ["in", "out"]);
  // The peer may send on its new SA as soon as it has message 2 (no Commit bit), and with no
  // older child for these selectors our answers can go out at once as well.
  const order = first.map((s) => s.what === "action" ? s.action.kind : s.what);
  assert.ok(order.lastIndexOf("installSa") < order.indexOf("qm"));
  assert.deepEqual(installs(first).map((s) => s.direction), ["in", "out"]);
  assert.deepEqual(installs(seen), []);
  const [inb, outb] = specs as [EspSaSpec, EspSaSpec];
  assert.equal(inb.spi, r.responderSpi);
  assert.equal(outb.spi, 0xc0de0001);
  assert.ok(inb.spi >= 256);
  assert.deepEqual(inb.transform, { kind: "aead", alg: "aes128gcm16" });
  assert.equal(inb.keyMaterial.length, 20);
  assertKeysMatch(init, inb, outb);
  assert.deepEqual(inb.localSelectors, [{
    startAddress: "10.1.0.0",
    endAddress: "10.1.255.255",
    protocol: 0,
    startPort: 0,
    endPort: 65535,
  }]);
  assert.equal(inb.remoteSelectors[0]?.startAddress, "10.2.0.0");
  assert.equal(inb.endpoints.encap, undefined);
  assert.equal(inb.lifetime.hardSeconds, 3600);
  assert.equal(inb.replayWindow, 1024);
  assert.equal(outb.replayWindow, 0);
  assert.equal(inb.childId, outb.childId);
  assert.ok(events(seen).some((e) => e.message === "child SA established"));
  assert.equal(ctx.qm.children.size, 1);
  assert.equal(ctx.qm.pendingCount, 0);
});

for (const group of [14, 19] as const) {
  Deno.test(`Quick Mode with PFS group ${group}: KE answered, KEYMAT includes g(qm)^xy`, () => {
    const name = group === 14 ? "modp2048" : "ecp256";
    const ctx = setup({ esp_proposals: [`aes256-sha256-${name}`] });
    const init = initiator(ctx.sa, {
      transforms: [withGroup(CBC256_SHA256, group)],
      pfsGroup: group,
    });
    const { r, specs } = runQm(ctx, init);
    assert.ok(r.ke !== undefined && r.ke.length === (group === 14 ? 256 : 64));
    const [inb, outb] = specs as [EspSaSpec, EspSaSpec];
    assert.deepEqual(inb.transform, {
      kind: "cipher+mac",
      cipher: "aes256cbc",
      mac: "hmac-sha256-128",
    });
    assert.equal(inb.keyMaterial.length, 64);
    assertKeysMatch(init, inb, outb);
    assert.equal(ctx.qm.children.views(2000)[0]?.pfsGroup, group);
  });
}

Deno.test("PFS configured but no KE offered: NO_PROPOSAL_CHOSEN (group must match)", () => {
  const ctx = setup({ esp_proposals: ["aes128gcm16-modp2048"] });
  const init = initiator(ctx.sa, {});
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(init.offer.messageId, init.message1()), 0);
  const seen = ctx.host.take();
  assert.equal(qmReplies(seen).length, 0);
  const [n] = infos(seen);
  assert.equal((n?.payload as NotifyPayloadV1).notifyType, NotifyTypeV1.NO_PROPOSAL_CHOSEN);
  const e = events(seen).find((x) => x.message === "no acceptable ESP proposal");
  assert.ok(e !== undefined);
  assert.equal(e.fields["offered"], "aes128gcm16");
  assert.equal(e.fields["configured"], "aes128gcm16-modp2048");
});

Deno.test("retransmitted message 1 gets the same message 2; no second SA", () => {
  const ctx = setup();
  const init = initiator(ctx.sa, {});
  const m1 = qmMessage(init.offer.messageId, init.message1());
  ctx.qm.handle(ctx.host, ctx.sa, m1, 0);
  const firstSeen = ctx.host.take();
  const [first] = qmReplies(firstSeen);
  assert.equal(installs(firstSeen).length, 2);
  ctx.qm.handle(ctx.host, ctx.sa, m1, 500);
  const again = ctx.host.take();
  assert.equal(installs(again).length, 0);
  const sends = again.flatMap((s) => s.what === "action" && s.action.kind === "send" ? [s] : []);
  assert.equal(sends.length, 1);
  assert.ok(first !== undefined && sends[0]!.what === "action");
  const act = sends[0]!.action;
  assert.ok(act.kind === "send");
  assert.equal(hex(act.datagram), hex(first.bytes));
  assert.equal(ctx.qm.spis.size, 1);
  init.readMessage2(first.first, first.bytes);
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(init.offer.messageId, init.message3()), 600);
  assert.deepEqual(installs(ctx.host.take()), []);
  assert.equal(ctx.qm.children.size, 1);
  // Replaying message 1 after completion creates nothing.
  ctx.qm.handle(ctx.host, ctx.sa, m1, 700);
  const late = ctx.host.take();
  assert.equal(qmReplies(late).length + installs(late).length, 0);
});

Deno.test("bad HASH(1): dropped, no reply, no SPI held, event", () => {
  const ctx = setup();
  const init = initiator(ctx.sa, {});
  const m = init.message1({ corruptHash: true });
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(init.offer.messageId, m), 0);
  const seen = ctx.host.take();
  assert.equal(qmReplies(seen).length + infos(seen).length, 0);
  assert.ok(events(seen).some((e) => /HASH\(1\) does not verify/.test(e.message)));
  assert.equal(ctx.qm.spis.size, 0);
});

Deno.test("rekey: the new pair before message 2, the outbound SA on standby until a good message 3", () => {
  const ctx = setup();
  runQm(ctx, initiator(ctx.sa, {}), 0);
  const init = initiator(ctx.sa, { messageId: 0x0a0b0c0e, spi: 0xc0de0002 });
  const mid = init.offer.messageId;
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(mid, init.message1()), 1000);
  const first = ctx.host.take();
  const early = installs(first);
  assert.deepEqual(early.map((s) => s.direction), ["in", "out"]);
  // The data path switches to it on the peer's first packet on the new inbound SA.
  assert.equal(early[1]!.activateOn, early[0]!.spi);
  assert.equal(early[0]!.activateOn, undefined);
  const [reply] = qmReplies(first);
  init.readMessage2(reply!.first, reply!.bytes);
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(mid, init.message3({ corruptHash: true })), 1010);
  assert.deepEqual(installs(ctx.host.take()), []);
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(mid, init.message3()), 1020);
  // Installed again without activateOn: in service now, if the peer sent nothing yet.
  const done = installs(ctx.host.take());
  assert.deepEqual(done.map((s) => [s.direction, s.spi, s.activateOn]), [
    ["out", 0xc0de0002, undefined],
  ]);
  assert.equal(ctx.qm.children.size, 2);
});

Deno.test("bad HASH(3): no child; a correct message 3 afterwards still completes", () => {
  const ctx = setup();
  const init = initiator(ctx.sa, {});
  const mid = init.offer.messageId;
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(mid, init.message1()), 0);
  const [reply] = qmReplies(ctx.host.take());
  init.readMessage2(reply!.first, reply!.bytes);
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(mid, init.message3({ corruptHash: true })), 10);
  const bad = ctx.host.take();
  assert.equal(installs(bad).length, 0);
  assert.ok(events(bad).some((e) => /HASH\(3\) does not verify/.test(e.message)));
  assert.equal(ctx.qm.children.size, 0);
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(mid, init.message3()), 20);
  assert.ok(events(ctx.host.take()).some((e) => e.message === "child SA established"));
  assert.equal(ctx.qm.children.size, 1);
});

const deletes = (seen: Seen[]) =>
  seen.flatMap((s) => s.what === "action" && s.action.kind === "deleteSa" ? [s.action] : []);

Deno.test("half-open Quick Mode expires: its SAs removed, SPI released, event", () => {
  const ctx = setup();
  const init = initiator(ctx.sa, {});
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(init.offer.messageId, init.message1()), 0);
  const [inbound, outbound] = installs(ctx.host.take());
  assert.equal(inbound?.direction, "in");
  assert.equal(outbound?.direction, "out");
  assert.equal(ctx.qm.nextDeadline(), 60_000);
  ctx.qm.tick(ctx.host, 59_999);
  assert.equal(ctx.qm.pendingCount, 1);
  assert.equal(deletes(ctx.host.take()).length, 0);
  ctx.qm.tick(ctx.host, 60_000);
  assert.equal(ctx.qm.pendingCount, 0);
  assert.equal(ctx.qm.spis.size, 0);
  const seen = ctx.host.take();
  assert.deepEqual(deletes(seen).map((d) => [d.spi, d.direction]), [
    [inbound.spi, "in"],
    [outbound.spi, "out"],
  ]);
  assert.ok(events(seen).some((e) => /timed out/.test(e.message)));
});

Deno.test("IKE SA deleted mid-exchange: the half-open Quick Mode's SAs go too", () => {
  const ctx = setup();
  const init = initiator(ctx.sa, {});
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(init.offer.messageId, init.message1()), 0);
  const [inbound, outbound] = installs(ctx.host.take());
  ctx.qm.ikeSaDeleted(ctx.host, ctx.sa.key);
  assert.deepEqual(deletes(ctx.host.take()).map((d) => [d.spi, d.direction]), [
    [inbound!.spi, "in"],
    [outbound!.spi, "out"],
  ]);
  assert.equal(ctx.qm.spis.size, 0);
  assert.equal(ctx.qm.pendingCount, 0);
});

Deno.test("selectors outside local_ts/remote_ts: INVALID_ID_INFORMATION", () => {
  const ctx = setup();
  const init = initiator(ctx.sa, {
    ids: [subnet([10, 9, 0, 0], [255, 255, 0, 0]), IDS[1]],
  });
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(init.offer.messageId, init.message1()), 0);
  const seen = ctx.host.take();
  const [n] = infos(seen);
  assert.equal((n?.payload as NotifyPayloadV1).notifyType, NotifyTypeV1.INVALID_ID_INFORMATION);
  assert.equal(ctx.qm.spis.size, 0);
  // Absent IDs mean the Phase 1 addresses, which these selectors do not cover either.
  const ctx2 = setup();
  const init2 = new QuickModeInitiator({ ...initiator(ctx2.sa, {}).offer, ids: undefined });
  ctx2.qm.handle(ctx2.host, ctx2.sa, qmMessage(init2.offer.messageId, init2.message1()), 0);
  const [n2] = infos(ctx2.host.take());
  assert.equal((n2?.payload as NotifyPayloadV1).notifyType, NotifyTypeV1.INVALID_ID_INFORMATION);
});

Deno.test("absent IDs: host-to-host between the Phase 1 addresses when configured", () => {
  const ctx = setup({ local_ts: ["192.0.2.1/32"], remote_ts: ["192.0.2.2"] });
  const base = initiator(ctx.sa, {}).offer;
  const init = new QuickModeInitiator({ ...base, ids: undefined });
  const { r, specs } = runQm(ctx, init);
  assert.equal(r.ids.length, 0);
  assert.equal(specs[0]?.localSelectors[0]?.startAddress, "192.0.2.1");
  assert.equal(specs[0]?.remoteSelectors[0]?.endAddress, "192.0.2.2");
});

Deno.test("a wider proposal is narrowed and the narrowed IDs are returned", () => {
  const ctx = setup();
  const init = initiator(ctx.sa, {
    ids: [subnet([10, 0, 0, 0], [255, 0, 0, 0]), IDS[1]],
  });
  const { r, specs } = runQm(ctx, init);
  assert.deepEqual([...r.ids[0]!.data], [10, 2, 0, 0, 255, 255, 0, 0]);
  assert.equal(specs[0]?.remoteSelectors[0]?.endAddress, "10.2.255.255");
});

Deno.test("commit bit: echoed in message 2, CONNECTED with the Quick Mode's M-ID after install", () => {
  const ctx = setup();
  const init = initiator(ctx.sa, {});
  const { reply, seen, specs } = runQm(ctx, init, 0, 0x02);
  assert.equal(reply.flags & 0x02, 0x02);
  const [n] = infos(seen);
  assert.equal((n?.payload as NotifyPayloadV1).notifyType, NotifyTypeV1.CONNECTED);
  assert.equal(n?.messageId, init.offer.messageId);
  // CONNECTED only after both SAs are installed.
  const order = seen.map((s) => s.what === "action" ? s.action.kind : s.what);
  assert.ok(order.lastIndexOf("installSa") < order.indexOf("info"));
  assert.equal(specs.length, 2);
});

Deno.test("longer offered lifetime: ours used and announced with RESPONDER-LIFETIME", () => {
  const ctx = setup({ esp_lifetime: 1800 });
  const init = initiator(ctx.sa, {});
  const { r, specs } = runQm(ctx, init);
  const n = r.notifies[0];
  assert.ok(n?.kind === "n");
  assert.equal(n.notifyType, NotifyTypeV1.RESPONDER_LIFETIME);
  assert.equal(new DataView(n.spi.buffer, n.spi.byteOffset, 4).getUint32(0), r.responderSpi);
  const attrs = decodeAttributes(n.data);
  assert.ok(attrs.ok);
  assert.deepEqual(attrs.value, [{ type: 1, value: 1 }, { type: 2, value: 1800 }]);
  assert.equal(specs[0]?.lifetime.hardSeconds, 1800);
  assert.equal(specs[0]?.lifetime.softSeconds, 1800 - 540);
});

Deno.test("NAT-T: UDP-encapsulated tunnel mode gives endpoints with the NAT-T ports", () => {
  const ctx = setup({}, {
    natt: true,
    local: { address: "192.0.2.1", port: 4500 },
    remote: { address: "198.51.100.7", port: 31000 },
  });
  const udp: OfferedTransform = {
    id: 20,
    attributes: GCM128.attributes.map((a) => a.type === 4 ? { type: 4, value: 3 } : a),
  };
  const init = initiator(ctx.sa, { transforms: [udp] });
  const { specs } = runQm(ctx, init);
  assert.deepEqual(specs[0]?.endpoints, {
    local: "192.0.2.1",
    remote: "198.51.100.7",
    encap: { localPort: 4500, remotePort: 31000 },
  });
});

Deno.test("message 1 without Ni (HASH(1) valid): PAYLOAD_MALFORMED, nothing held", () => {
  const ctx = setup();
  const init = initiator(ctx.sa, {});
  const m = init.message1({ drop: "nonce" });
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(init.offer.messageId, m), 0);
  const seen = ctx.host.take();
  assert.equal(qmReplies(seen).length, 0);
  const [n] = infos(seen);
  assert.equal((n?.payload as NotifyPayloadV1).notifyType, NotifyTypeV1.PAYLOAD_MALFORMED);
  assert.equal(ctx.qm.spis.size, 0);
});

Deno.test("message 1 with a KE but no PFS group: INVALID_KEY_INFORMATION", () => {
  const ctx = setup();
  const init = initiator(ctx.sa, { pfsGroup: 14 });
  ctx.qm.handle(ctx.host, ctx.sa, qmMessage(init.offer.messageId, init.message1()), 0);
  const [n] = infos(ctx.host.take());
  assert.equal((n?.payload as NotifyPayloadV1).notifyType, NotifyTypeV1.INVALID_KEY_INFORMATION);
  assert.equal(ctx.qm.spis.size, 0);
});

Deno.test("half-open Quick Modes per IKE SA are capped", () => {
  const ctx = setup();
  for (let i = 0; i < MAX_PENDING_PER_IKE_SA + 2; i++) {
    const init = initiator(ctx.sa, { messageId: 0x1000 + i });
    ctx.qm.handle(ctx.host, ctx.sa, qmMessage(init.offer.messageId, init.message1()), 0);
  }
  const seen = ctx.host.take();
  assert.equal(qmReplies(seen).length, MAX_PENDING_PER_IKE_SA);
  assert.equal(ctx.qm.pendingCount, MAX_PENDING_PER_IKE_SA);
  assert.ok(events(seen).some((e) => /too many half-open/.test(e.message)));
});
