/**
 * Several Quick Modes on one IKE SA, rekeying make-before-break, the peer's ESP Delete, IKE SA
 * deletion, lifetime events and `clear`, through the Phase 2 facade and the scripted initiator.
 */

import assert from "node:assert/strict";
import { IdTypeV1 } from "../../src/ike/message/v1/mod.ts";
import type { DeletePayloadV1, IdPayloadV1 } from "../../src/ike/message/v1/mod.ts";
import type { IkeAction } from "../../src/ike/actions.ts";
import { Phase2 } from "../../src/ike/v1/phase2.ts";
import type { QmIkeSa } from "../../src/ike/v1/quick_mode.ts";
import { spiBytes } from "../../src/ike/child/spi.ts";
import { qmMessage, QuickModeInitiator } from "./initiator/quick_mode.ts";
import { ikeSa, peerConfig, RecordingHost, type Seen } from "./initiator/qm_host.ts";

const GCM = {
  id: 20,
  attributes: [{ type: 1, value: 1 }, { type: 2, value: 3600 }, { type: 4, value: 1 }, {
    type: 6,
    value: 256,
  }],
};
const net = (a: number[], bits: number): IdPayloadV1 => {
  const mask = [0, 1, 2, 3].map((i) => {
    const b = Math.max(0, Math.min(8, bits - 8 * i));
    return (0xff << (8 - b)) & 0xff;
  });
  return {
    kind: "id",
    idType: IdTypeV1.IPV4_ADDR_SUBNET,
    protocol: 0,
    port: 0,
    data: Uint8Array.from([...a, ...mask]),
  };
};
const rnd = (n: number) => crypto.getRandomValues(new Uint8Array(n));

function setup(over: Record<string, unknown> = {}) {
  const host = new RecordingHost();
  const sa = ikeSa(
    peerConfig({
      esp_proposals: ["aes256gcm16"],
      local_ts: ["10.1.0.0/16"],
      remote_ts: ["10.2.0.0/16", "10.3.0.0/24"],
      ...over,
    }),
  );
  host.live.set("branch1", sa);
  return { host, sa, p2: new Phase2(rnd) };
}

let nextMid = 0x100;
function qm(
  ctx: ReturnType<typeof setup>,
  sa: QmIkeSa,
  spi: number,
  remote: IdPayloadV1,
  now: number,
): { seen: Seen[]; responderSpi: number } {
  const init = new QuickModeInitiator({
    hash: "sha256",
    skeyidD: sa.skeyidD,
    skeyidA: sa.skeyidA,
    messageId: nextMid++,
    spi,
    transforms: [GCM],
    ids: [remote, net([10, 1, 0, 0], 16)],
  });
  ctx.p2.handleQuickMode(ctx.host, sa, qmMessage(init.offer.messageId, init.message1()), now);
  // The inbound SA is installed with message 2, the outbound one with message 3.
  const first = ctx.host.take();
  const reply = first.find((s) => s.what === "qm");
  assert.ok(reply?.what === "qm");
  const r = init.readMessage2(reply.first, reply.bytes);
  ctx.p2.handleQuickMode(ctx.host, sa, qmMessage(init.offer.messageId, init.message3()), now);
  return { seen: [...first, ...ctx.host.take()], responderSpi: r.responderSpi };
}

const actions = (seen: Seen[]): IkeAction[] =>
  seen.flatMap((s) => s.what === "action" ? [s.action] : []);
const brief = (a: IkeAction) =>
  a.kind === "installSa"
    ? `install ${a.spec.direction} ${a.spec.spi.toString(16)}`
    : a.kind === "deleteSa"
    ? `delete ${a.direction} ${a.spi.toString(16)}`
    : a.kind;
const infos = (seen: Seen[]) => seen.flatMap((s) => s.what === "info" ? [s.payload] : []);

Deno.test("two subnets: two Quick Modes on one IKE SA give two child SAs", () => {
  const ctx = setup();
  const a = qm(ctx, ctx.sa, 0xa001, net([10, 2, 0, 0], 16), 0);
  const b = qm(ctx, ctx.sa, 0xb001, net([10, 3, 0, 0], 24), 0);
  assert.equal(actions(a.seen).filter((x) => x.kind === "installSa").length, 2);
  assert.equal(actions(b.seen).filter((x) => x.kind === "installSa").length, 2);
  assert.ok(!actions(b.seen).some((x) => x.kind === "deleteSa"));
  const views = ctx.p2.childSas(0);
  assert.deepEqual(views.map((v) => v.remoteTs).sort(), ["10.2.0.0/16", "10.3.0.0/24"]);
  assert.ok(views.every((v) => v.state === "installed" && v.transform === "aes256gcm16"));
  assert.notEqual(views[0]!.inboundSpi, views[1]!.inboundSpi);
});

Deno.test("rekey: new pair installed, old pair kept until the peer's Delete", () => {
  const ctx = setup();
  const old = qm(ctx, ctx.sa, 0xa001, net([10, 2, 0, 0], 16), 0);
  const neu = qm(ctx, ctx.sa, 0xa002, net([10, 2, 0, 0], 16), 3_000_000);
  assert.deepEqual(actions(neu.seen).map(brief), [
    `install in ${neu.responderSpi.toString(16)}`,
    "install out a002", // on standby, with message 2
    "install out a002", // in service, with message 3
  ]);
  const views = ctx.p2.childSas(3_000_000);
  assert.deepEqual(views.map((v) => [v.outboundSpi, v.state]), [
    [0xa001, "rekeyed"],
    [0xa002, "installed"],
  ]);
  // The peer deletes the old SA naming its inbound SPI (our old outbound): both of its
  // directions go.
  ctx.p2.deleteSpis(ctx.host, ctx.sa, 3, [spiBytes(0xa001)]);
  assert.deepEqual(actions(ctx.host.take()).map(brief), [
    `delete in ${old.responderSpi.toString(16)}`,
    "delete out a001",
  ]);
  assert.equal(ctx.p2.childSas(0).length, 1);
  // Its SPI can be used again.
  assert.ok(!ctx.p2.qm.spis.holds(old.responderSpi));
});

Deno.test("Delete naming our own SPI works too; unknown SPI only logs INVALID_SPI", () => {
  const ctx = setup();
  const a = qm(ctx, ctx.sa, 0xa001, net([10, 2, 0, 0], 16), 0);
  ctx.p2.deleteSpis(ctx.host, ctx.sa, 3, [spiBytes(0x0badbad0)]);
  const u = ctx.host.take();
  assert.equal(actions(u).length, 0);
  assert.ok(u.some((s) => s.what === "event" && /INVALID_SPI/.test(s.message)));
  ctx.p2.deleteSpis(ctx.host, ctx.sa, 3, [spiBytes(a.responderSpi)]);
  assert.deepEqual(
    actions(ctx.host.take()).map(brief).sort(),
    [
      "delete in " + a.responderSpi.toString(16),
      "delete out a001",
    ].sort(),
  );
  assert.equal(ctx.p2.childSas(0).length, 0);
});

Deno.test("IKE SA deleted: children stay; a new IKE SA can rekey them", () => {
  const ctx = setup();
  qm(ctx, ctx.sa, 0xa001, net([10, 2, 0, 0], 16), 0);
  ctx.p2.ikeSaDeleted(ctx.host, ctx.sa.key);
  assert.equal(ctx.p2.childSas(0).length, 1);
  const sa2 = ikeSa(ctx.sa.peer, { key: "new-ike-sa" });
  const r = qm(ctx, sa2, 0xa002, net([10, 2, 0, 0], 16), 10_000);
  assert.deepEqual(actions(r.seen).map(brief).at(-1), "install out a002");
  assert.deepEqual(ctx.p2.childSas(10_000).map((v) => [v.outboundSpi, v.state]), [
    [0xa001, "rekeyed"],
    [0xa002, "installed"],
  ]);
});

Deno.test("lifetimes: soft only logs; hard removes the other direction and sends an ESP Delete", () => {
  const ctx = setup();
  const a = qm(ctx, ctx.sa, 0xa001, net([10, 2, 0, 0], 16), 0);
  const child = ctx.p2.childSas(0)[0]!;
  ctx.p2.espLifetime(ctx.host, {
    kind: "soft",
    spi: a.responderSpi,
    direction: "in",
    childId: child.childId,
  });
  const soft = ctx.host.take();
  assert.equal(actions(soft).length + infos(soft).length, 0);
  assert.ok(soft.some((s) => s.what === "event" && /soft lifetime/.test(s.message)));
  ctx.p2.espLifetime(ctx.host, {
    kind: "hard",
    spi: 0xa001,
    direction: "out",
    childId: child.childId,
  });
  const hard = ctx.host.take();
  assert.deepEqual(actions(hard).map(brief), [`delete in ${a.responderSpi.toString(16)}`]);
  const [d] = infos(hard) as DeletePayloadV1[];
  assert.equal(d?.protocol, 3);
  assert.deepEqual([...d!.spis[0]!], [...spiBytes(a.responderSpi)]);
  // The inbound's own hard event afterwards finds nothing.
  ctx.p2.espLifetime(ctx.host, {
    kind: "hard",
    spi: a.responderSpi,
    direction: "in",
    childId: child.childId,
  });
  assert.deepEqual(ctx.host.take(), []);
});

Deno.test("soft lifetime of a child whose lifetime we shortened (RESPONDER-LIFETIME): we rekey it", () => {
  // The peer offers 3600 s; ours is 1800 s, which the peer may not honour.
  const ctx = setup({ esp_lifetime: 1800, rekey_margin: 300 });
  const a = qm(ctx, ctx.sa, 0xa001, net([10, 2, 0, 0], 16), 0);
  const child = ctx.p2.childSas(0)[0]!;
  ctx.p2.espLifetime(ctx.host, {
    kind: "soft",
    spi: a.responderSpi,
    direction: "in",
    childId: child.childId,
  }, 1_500_000);
  const soft = ctx.host.take();
  const sent = soft.filter((s) => s.what === "qm");
  assert.equal(sent.length, 1, "a Quick Mode of ours (message 1) went out");
  const e = soft.find((s) => s.what === "event" && /soft lifetime/.test(s.message));
  assert.ok(e?.what === "event" && e.fields["rekey"] === "by us");
  // A second soft event (the other direction) while ours runs starts nothing more.
  ctx.p2.espLifetime(ctx.host, {
    kind: "soft",
    spi: 0xa001,
    direction: "out",
    childId: child.childId,
  }, 1_500_001);
  assert.equal(ctx.host.take().filter((s) => s.what === "qm").length, 0);
});

Deno.test("hard lifetime without a live IKE SA: SAs removed, no Delete sent", () => {
  const ctx = setup();
  ctx.host.live.clear();
  const a = qm(ctx, ctx.sa, 0xa001, net([10, 2, 0, 0], 16), 0);
  const child = ctx.p2.childSas(0)[0]!;
  ctx.p2.espLifetime(ctx.host, {
    kind: "hard",
    spi: a.responderSpi,
    direction: "in",
    childId: child.childId,
  });
  const seen = ctx.host.take();
  assert.deepEqual(actions(seen).map(brief), ["delete out a001"]);
  assert.equal(infos(seen).length, 0);
});

Deno.test("clear: every child of the peer deleted with ESP Deletes", () => {
  const ctx = setup();
  qm(ctx, ctx.sa, 0xa001, net([10, 2, 0, 0], 16), 0);
  qm(ctx, ctx.sa, 0xb001, net([10, 3, 0, 0], 24), 0);
  ctx.p2.deletePeer(ctx.host, "branch1");
  const seen = ctx.host.take();
  assert.equal(infos(seen).length, 2);
  assert.equal(actions(seen).filter((a) => a.kind === "deleteSa").length, 4);
  assert.equal(ctx.p2.childCount("branch1"), 0);
  assert.equal(ctx.p2.qm.spis.size, 0);
});

Deno.test("dropping a peer's children without notifying (INITIAL-CONTACT, dead peer)", () => {
  const ctx = setup();
  qm(ctx, ctx.sa, 0xa001, net([10, 2, 0, 0], 16), 0);
  ctx.p2.deletePeer(ctx.host, "branch1", false);
  const seen = ctx.host.take();
  assert.equal(infos(seen).length, 0);
  assert.equal(actions(seen).filter((a) => a.kind === "deleteSa").length, 2);
});
