/**
 * Rekeys the engine starts itself (RFC 7296 §1.3.2, §1.3.3, §2.8), against the independent
 * scripted IKEv2 peer answering them: a CHILD_SA rekey at the soft lifetime without and with
 * PFS (make-before-break: the new pair installed, then our Delete of the old one), INVALID_KE
 * on a rekey (again with the group asked for), an IKE SA rekey before ike_lifetime (children
 * move, the old IKE SA is deleted, the engine is the new SA's original initiator), collisions
 * (§2.8.1 CHILD_SA and §2.8.2 IKE SA rekeys crossing: both sides keep the same survivor, for
 * either outcome of the nonce comparison), a rekey crossing the peer's Delete of the child
 * (CHILD_SA_NOT_FOUND), TEMPORARY_FAILURE while our IKE SA rekey is in flight (§2.25.2), and a
 * peer that never answers (retransmissions, then the IKE SA is dead).
 */

import assert from "node:assert/strict";
import type { IkeAction } from "../../src/ike/actions.ts";
import { Exchange, Flag, Nt, Pt } from "./initiator_v2/consts.ts";
import {
  assertInstalled,
  hasEvent,
  seededBytes,
  seededRng,
  sends,
  spiNum,
  v2Policy,
  V2Setup,
} from "./initiator_v2/harness.ts";
import type { IkeSaState } from "./initiator_v2/initiator.ts";
import { cat, cidr4, hex, parseDelete, parseKe, parseNotify } from "./initiator_v2/wire.ts";

/** The datagrams among actions. */
function out(actions: readonly IkeAction[]): Uint8Array[] {
  return sends(actions).map((s) => s.datagram);
}

/** The one datagram among actions. */
function one(actions: readonly IkeAction[]): Uint8Array {
  const ds = out(actions);
  assert.equal(ds.length, 1, `one datagram expected, got ${ds.length}`);
  return ds[0]!;
}

function deletes(s: V2Setup, from: number): number[] {
  return s.log.slice(from).flatMap((a) => a.kind === "deleteSa" ? [a.spi] : []);
}

/** The data path's soft lifetime of the engine's child whose inbound SPI is `spi`. */
function soft(s: V2Setup, spi: number): Uint8Array[] {
  const c = s.r.childSas(s.now).find((v) => v.inboundSpi === spi);
  assert.ok(c !== undefined, `child ${spi.toString(16)} exists`);
  const acts = s.r.espLifetime({ kind: "soft", spi, direction: "in", childId: c.childId }, s.now);
  s.log.push(...acts);
  return out(acts);
}

/** The ESP SPIs of a Delete payload in a request the engine sent (opened by the peer). */
function deletedSpis(s: V2Setup): string[] {
  const req = s.i.lastPeerRequest!;
  assert.equal(req.header.exchange, Exchange.INFORMATIONAL);
  return req.payloads.filter((p) => p.type === Pt.D).flatMap((p) =>
    parseDelete(p.body).spis.map(hex)
  );
}

Deno.test("own CHILD_SA rekey without PFS: REKEY_SA names our SPI, new pair first, then our Delete of the old", () => {
  const s = new V2Setup(v2Policy());
  s.establish();
  const old = s.i.children[0]!;
  const mark = s.log.length;
  const [req] = soft(s, spiNum(old.outSpi));
  assert.ok(req !== undefined, "the engine sends a CREATE_CHILD_SA request");
  assert.deepEqual(soft(s, spiNum(old.outSpi)), [], "the second direction's event starts nothing");
  const answer = s.i.respond(req);
  const r = s.i.lastPeerRequest!;
  assert.equal(r.header.exchange, Exchange.CREATE_CHILD_SA);
  assert.equal(r.header.flags & Flag.I, 0, "the engine is not the original initiator");
  const rekey = r.notify(Nt.REKEY_SA);
  assert.ok(rekey !== undefined);
  assert.equal(hex(rekey.spi), hex(old.outSpi), "§1.3.3: the SPI the engine receives on");
  assert.equal(r.first(Pt.KE), undefined, "no KE without a group in esp_proposals");
  const fresh = s.i.children.at(-1)!;
  const back = s.feed(answer);
  // Make-before-break: inbound, outbound, then the Delete of the old child.
  const kinds = back.filter((a) => a.kind !== "event" && a.kind !== "timer").map((a) =>
    a.kind === "installSa" ? `install-${a.spec.direction}` : a.kind
  );
  assert.deepEqual(kinds, ["install-in", "install-out", "send"]);
  assertInstalled(s, fresh, mark);
  assert.deepEqual(deletes(s, mark), [], "the old pair stays until its Delete is answered");
  const del = one(back);
  const delAnswer = s.i.respond(del);
  assert.deepEqual(deletedSpis(s), [hex(old.outSpi)]);
  s.feed(delAnswer);
  assert.deepEqual(
    deletes(s, mark).sort(),
    [spiNum(old.outSpi), spiNum(old.inSpi)].sort(),
    "the old pair goes once the Delete is answered",
  );
  const views = s.r.childSas(s.now);
  assert.equal(views.length, 1);
  assert.equal(views[0]!.inboundSpi, spiNum(fresh.outSpi));
  assert.equal(views[0]!.outboundSpi, spiNum(fresh.inSpi));
});

Deno.test("own CHILD_SA rekey with PFS: KE of the ESP proposal's group, keys from the new g^ir", () => {
  const s = new V2Setup(v2Policy({ esp_proposals: ["aes128gcm16-ecp256"] }));
  s.establish();
  const old = s.i.children[0]!;
  assert.equal(old.pfs, 0, "no PFS in IKE_AUTH");
  const mark = s.log.length;
  const answer = s.i.respond(soft(s, spiNum(old.outSpi))[0]!);
  const ke = s.i.lastPeerRequest!.first(Pt.KE);
  assert.ok(ke !== undefined, "KEi in the rekey");
  assert.equal(parseKe(ke.body).group, 19);
  const fresh = s.i.children.at(-1)!;
  assert.equal(fresh.pfs, 19);
  s.feed(answer);
  assertInstalled(s, fresh, mark);
  const v = s.r.childSas(s.now).find((c) => c.inboundSpi === spiNum(fresh.outSpi));
  assert.equal(v?.pfsGroup, 19);
});

Deno.test("own CHILD_SA rekey: a peer choosing a proposal without a group ignores our KE (§1.3.1)", () => {
  const s = new V2Setup(v2Policy({ esp_proposals: ["aes128gcm16", "aes128gcm16-ecp256"] }));
  s.establish();
  const old = s.i.children[0]!;
  const mark = s.log.length;
  const answer = s.i.respond(soft(s, spiNum(old.outSpi))[0]!);
  const ke = s.i.lastPeerRequest!.first(Pt.KE);
  assert.equal(parseKe(ke!.body).group, 19, "§3.4: KE of the first group offered");
  const fresh = s.i.children.at(-1)!;
  assert.equal(fresh.pfs, 0, "the peer chose aes128gcm16 without a group");
  one(s.feed(answer));
  assertInstalled(s, fresh, mark);
  assert.equal(s.r.childSas(s.now).find((c) => c.inboundSpi === spiNum(fresh.outSpi))?.pfsGroup, 0);
});

Deno.test("own CHILD_SA rekey answered INVALID_KE_PAYLOAD: again with the group asked for", () => {
  const s = new V2Setup(v2Policy({ esp_proposals: ["aes128gcm16-ecp256-ecp384"] }), {
    answerGroup: 20,
  });
  s.establish();
  const old = s.i.children[0]!;
  const mark = s.log.length;
  const first = s.i.respond(soft(s, spiNum(old.outSpi))[0]!);
  assert.equal(parseKe(s.i.lastPeerRequest!.first(Pt.KE)!.body).group, 19);
  const again = one(s.feed(first));
  assert.equal(s.installs(mark).length, 0, "nothing installed on INVALID_KE_PAYLOAD");
  const answer = s.i.respond(again);
  const r = s.i.lastPeerRequest!;
  assert.equal(r.header.exchange, Exchange.CREATE_CHILD_SA);
  assert.equal(parseKe(r.first(Pt.KE)!.body).group, 20, "the group the peer asked for");
  const fresh = s.i.children.at(-1)!;
  s.feed(answer);
  assertInstalled(s, fresh, mark);
  assert.equal(fresh.pfs, 20);
});

/** Sets the clock to when the engine's IKE SA rekey is due, and ticks. */
function ikeRekeyDue(s: V2Setup): IkeAction[] {
  s.now += (3600 - 600) * 1000;
  const acts = s.r.tick(s.now);
  s.log.push(...acts);
  return acts;
}

Deno.test("own IKE SA rekey: new SPIs and keys (§2.18), children move, the old IKE SA is deleted", () => {
  const s = new V2Setup(v2Policy({ ike_lifetime: 3600, rekey_margin: 600 }));
  s.establish();
  const child = s.i.children[0]!;
  const old = s.i.sa!;
  const mark = s.log.length;
  s.now += 1000;
  assert.deepEqual(out(s.r.tick(s.now)), [], "nothing before the rekey margin");
  // show ike sa: due rekey_margin before expiry, up to a quarter of it earlier.
  const due = s.r.ikeSas(s.now)[0]!.rekeySeconds!;
  assert.ok(due <= 3000 - 1 && due >= 3000 - 1 - 150, `rekey in ${due} s`);
  const req = one(ikeRekeyDue(s));
  const answer = s.i.respond(req);
  const r = s.i.lastPeerRequest!;
  assert.equal(r.header.exchange, Exchange.CREATE_CHILD_SA);
  assert.ok(r.first(Pt.KE) !== undefined && r.notify(Nt.REKEY_SA) === undefined);
  const fresh = s.i.sa!;
  assert.notEqual(hex(fresh.spiI), hex(old.spiI));
  const back = s.feed(answer);
  // §1.3.2: the engine deletes the old IKE SA; the Delete goes on the old SA.
  const del = one(back);
  assert.equal(hex(del.subarray(0, 16)), hex(cat(old.spiI, old.spiR)));
  s.i.respond(del);
  assert.ok(s.i.lastPeerRequest!.payloads.some((p) => p.type === Pt.D));
  assert.deepEqual(deletes(s, mark), [], "no CHILD_SA removed by the IKE SA rekey");
  const ike = s.r.ikeSas(s.now);
  assert.equal(ike.length, 1);
  assert.match(ike[0]!.spis, new RegExp(`${hex(fresh.spiI)}_i ${hex(fresh.spiR)}_r`, "i"));
  // The new SA works both ways; the engine is its original initiator (I flag, §3.1).
  const live = s.answer(s.i.informational(), (d) => s.i.readResponse(d));
  assert.equal(live.header.flags & Flag.I, Flag.I);
  const m2 = s.log.length;
  const creq = soft(s, spiNum(child.outSpi))[0]!;
  assert.equal(hex(creq.subarray(0, 16)), hex(cat(fresh.spiI, fresh.spiR)));
  assert.equal(creq[19]! & Flag.I, Flag.I);
  const canswer = s.i.respond(creq);
  const c2 = s.i.children.at(-1)!;
  s.feed(canswer);
  assertInstalled(s, c2, m2);
});

Deno.test("own IKE SA rekey answered INVALID_KE_PAYLOAD: again with the group asked for", () => {
  const s = new V2Setup(
    v2Policy({
      ike_lifetime: 3600,
      rekey_margin: 600,
      ike_proposals: ["aes128gcm16-prfsha256-ecp256-ecp384"],
    }),
    { ike: ["aes128gcm16-prfsha256-ecp256-ecp384"], answerGroup: 20 },
  );
  s.establish();
  const first = s.i.respond(one(ikeRekeyDue(s)));
  assert.equal(parseKe(s.i.lastPeerRequest!.first(Pt.KE)!.body).group, 19);
  const again = one(s.feed(first));
  const answer = s.i.respond(again);
  assert.equal(parseKe(s.i.lastPeerRequest!.first(Pt.KE)!.body).group, 20);
  const fresh = s.i.sa!;
  one(s.feed(answer));
  assert.match(s.r.ikeSas(s.now)[0]!.spis, new RegExp(hex(fresh.spiR), "i"));
  assert.match(s.r.ikeSas(s.now)[0]!.algorithms, /ecp384/);
});

/** RFC 7296 §2.8.1, written here independently: octet by octet, a prefix is lower. */
function lower(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]!;
  }
  return a.length < b.length;
}

/** Whether exchange `x` holds the lowest of the four nonces of `x` and `y`. */
function holdsLowest(x: Uint8Array[], y: Uint8Array[]): boolean {
  const all = [...x, ...y];
  const low = all.reduce((m, n) => lower(n, m) ? n : m);
  return x.includes(low);
}

Deno.test("CHILD_SA rekey collision (§2.8.1): both sides keep the same new child, either outcome", () => {
  const rng = seededRng("child collision");
  const seen = new Set<string>();
  for (let round = 0; round < 40 && seen.size < 2; round++) {
    const s = new V2Setup(v2Policy(), { random: seededBytes(rng.next) });
    s.establish();
    const x = s.i.children[0]!;
    const mark = s.log.length;
    // Both start at once: the peer's request and the engine's cross.
    const peerReq = s.i.createChild({ rekey: x });
    const peerNi = s.i.pendingNonce!;
    const engReq = soft(s, spiNum(x.outSpi))[0]!;
    const engAnswer = s.exchange(peerReq);
    const peerAnswer = s.i.respond(engReq);
    const engNonces = [s.i.lastAnswered!.ni, s.i.lastAnswered!.nr];
    const engChild = s.i.children.at(-1)!; // the child of the engine's exchange
    const after = s.feed(peerAnswer);
    const r = s.i.readCreateChild(engAnswer[0]!)!;
    const peerChild = s.i.children.at(-1)!;
    const engineLoses = holdsLowest(engNonces, [peerNi, r.first(Pt.NONCE)!.body]);
    seen.add(engineLoses ? "engine loses" : "engine wins");
    // The engine's Delete: its redundant child if it lost, else the old one.
    const del = one(after);
    const delAnswer = s.i.respond(del);
    assert.deepEqual(deletedSpis(s), [hex(engineLoses ? engChild.outSpi : x.outSpi)]);
    s.feed(delAnswer);
    // The peer applies the same rule: it deletes the old child if it won, else its own.
    const gone = engineLoses ? x : peerChild;
    const back = s.answer(s.i.deleteChildren([gone]), (d) => s.i.readResponse(d));
    assert.ok(back.first(Pt.D) !== undefined, "the engine still had it");
    const survivor = engineLoses ? peerChild : engChild;
    const views = s.r.childSas(s.now);
    assert.equal(views.length, 1, `one child left (${[...seen]})`);
    assert.equal(views[0]!.inboundSpi, spiNum(survivor.outSpi));
    assert.equal(views[0]!.outboundSpi, spiNum(survivor.inSpi));
    assert.equal(deletes(s, mark).length, 4, "two pairs removed");
  }
  assert.equal(seen.size, 2, `both outcomes seen: ${[...seen]}`);
});

Deno.test("IKE SA rekey collision (§2.8.2): the same IKE SA survives on both sides with the children", () => {
  const rng = seededRng("IKE collision");
  const seen = new Set<string>();
  for (let round = 0; round < 40 && seen.size < 2; round++) {
    const s = new V2Setup(v2Policy({ ike_lifetime: 3600, rekey_margin: 600 }), {
      random: seededBytes(rng.next),
    });
    s.establish();
    const child = s.i.children[0]!;
    const old = s.i.sa!;
    const mark = s.log.length;
    const peerReq = s.i.rekeyIke();
    const peerNi = s.i.pendingNonce!;
    const engReq = one(ikeRekeyDue(s));
    const engAnswer = s.exchange(peerReq);
    const peerAnswer = s.i.respond(engReq);
    const engNonces = [s.i.lastAnswered!.ni, s.i.lastAnswered!.nr];
    const ours: IkeSaState = s.i.sa!; // made by the engine's exchange
    const after = s.feed(peerAnswer);
    const r = s.i.readCreateChild(engAnswer[0]!)!;
    const theirs: IkeSaState = s.i.sa!; // made by the peer's exchange
    const engineLoses = holdsLowest(engNonces, [peerNi, r.first(Pt.NONCE)!.body]);
    seen.add(engineLoses ? "engine loses" : "engine wins");
    // The engine deletes its redundant new IKE SA if it lost, else the old one.
    const del = one(after);
    const closed = engineLoses ? ours : old;
    assert.equal(hex(del.subarray(0, 16)), hex(cat(closed.spiI, closed.spiR)));
    s.i.respond(del);
    // The peer: deletes its own new SA if it lost, else the old one.
    const survivor = engineLoses ? theirs : ours;
    const peerCloses = engineLoses ? old : theirs;
    s.answer(s.i.deleteIke(peerCloses), (d) => s.i.readResponse(d));
    const ike = s.r.ikeSas(s.now);
    assert.equal(ike.length, 1, `one IKE SA left (${[...seen]})`);
    assert.match(ike[0]!.spis, new RegExp(`${hex(survivor.spiI)}_i ${hex(survivor.spiR)}_r`, "i"));
    assert.deepEqual(deletes(s, mark), [], "the children moved, none removed");
    assert.equal(s.r.childSas(s.now).length, 1);
    // The survivor carries the child: a rekey of it on the survivor works.
    s.i.sa = survivor;
    const m2 = s.log.length;
    const creq = soft(s, spiNum(child.outSpi))[0]!;
    assert.equal(hex(creq.subarray(0, 16)), hex(cat(survivor.spiI, survivor.spiR)));
    const canswer = s.i.respond(creq);
    const c2 = s.i.children.at(-1)!;
    s.feed(canswer);
    assertInstalled(s, c2, m2);
  }
  assert.equal(seen.size, 2, `both outcomes seen: ${[...seen]}`);
});

Deno.test("own CHILD_SA rekey crossing the peer's Delete of it: CHILD_SA_NOT_FOUND, nothing left over", () => {
  const s = new V2Setup(v2Policy());
  s.establish();
  const x = s.i.children[0]!;
  const mark = s.log.length;
  const engReq = soft(s, spiNum(x.outSpi))[0]!;
  // The peer deletes the child while the engine's rekey is in flight.
  const back = s.answer(s.i.deleteChildren([x]), (d) => s.i.readResponse(d));
  assert.equal(hex(parseDelete(back.first(Pt.D)!.body).spis[0]!), hex(x.outSpi));
  s.i.children.splice(s.i.children.indexOf(x), 1);
  const answer = s.i.respond(engReq);
  assert.equal(parseNotify(s.i.lastPeerRequest!.first(Pt.N)!.body).type, Nt.REKEY_SA);
  const acts = s.feed(answer);
  assert.ok(hasEvent(acts, /CHILD_SA_NOT_FOUND; the child is gone meanwhile/));
  assert.deepEqual(out(acts), [], "no new request, no Delete");
  assert.equal(s.installs(mark).length, 0);
  assert.equal(s.r.childSas(s.now).length, 0);
});

Deno.test("§2.25.2: the peer's CHILD_SA rekey while our IKE SA rekey is in flight gets TEMPORARY_FAILURE", () => {
  const s = new V2Setup(v2Policy({ ike_lifetime: 3600, rekey_margin: 600 }));
  s.establish();
  const x = s.i.children[0]!;
  const engReq = one(ikeRekeyDue(s));
  const r = s.answer(s.i.createChild({ rekey: x }), (d) => s.i.readCreateChild(d));
  assert.deepEqual(r.errors, [Nt.TEMPORARY_FAILURE]);
  // Our IKE SA rekey still completes.
  one(s.feed(s.i.respond(engReq)));
  assert.equal(s.r.ikeSas(s.now).length, 1);
  assert.equal(s.r.childSas(s.now).length, 1);
});

Deno.test("own rekey never answered: retransmitted identically, then the IKE SA is dead (connection down)", () => {
  const s = new V2Setup(v2Policy());
  s.establish();
  const x = s.i.children[0]!;
  const req = soft(s, spiNum(x.outSpi))[0]!;
  const seen: Uint8Array[] = [];
  let down = false;
  for (let t = 0; t < 600 && !down; t++) {
    s.now += 1000;
    const acts = s.r.tick(s.now);
    seen.push(...out(acts));
    down = acts.some((a) => a.kind === "connection" && a.event === "down");
  }
  assert.ok(seen.length >= 3, `retransmissions: ${seen.length}`);
  assert.ok(seen.every((d) => hex(d) === hex(req)), "§2.1: retransmissions are identical");
  assert.ok(down, "the connection manager hears the peer is down");
  assert.equal(s.r.ikeSas(s.now).length, 0);
  assert.equal(s.r.childSas(s.now).length, 0);
});

Deno.test("a CHILD_SA rekey waiting for the window moves with the IKE SA the peer rekeys", () => {
  const s = new V2Setup(v2Policy({ dpd_delay: 10 }));
  s.establish();
  const x = s.i.children[0]!;
  s.now += 11_000;
  const live = one(s.r.tick(s.now)); // our liveness check holds the window
  assert.deepEqual(soft(s, spiNum(x.outSpi)), [], "the rekey waits for the window");
  s.answer(s.i.rekeyIke(), (d) => s.i.readCreateChild(d));
  s.answer(s.i.deleteIke(), (d) => s.i.readResponse(d));
  s.i.dropOld();
  assert.ok(live.length > 0);
  s.now += 1000;
  const acts = s.r.tick(s.now);
  s.log.push(...acts);
  const req = one(acts);
  const fresh = s.i.sa!;
  assert.equal(hex(req.subarray(0, 16)), hex(cat(fresh.spiI, fresh.spiR)), "on the new IKE SA");
  const m = s.log.length;
  const answer = s.i.respond(req);
  assert.ok(s.i.lastPeerRequest!.notify(Nt.REKEY_SA) !== undefined);
  const c2 = s.i.children.at(-1)!;
  s.feed(answer);
  assertInstalled(s, c2, m);
});

Deno.test("a hard-expiry Delete while our rekey is in flight goes out once the window is free", () => {
  const s = new V2Setup(v2Policy());
  s.establish();
  const a = s.i.children[0]!;
  s.answer(
    s.i.createChild({ tsi: [cidr4("10.2.7.0/24")], tsr: [cidr4("10.1.7.0/24")] }),
    (d) => s.i.readCreateChild(d),
  );
  const b = s.i.children[1]!;
  const req = soft(s, spiNum(a.outSpi))[0]!;
  const bView = s.r.childSas(s.now).find((c) => c.inboundSpi === spiNum(b.outSpi))!;
  const hard = s.r.espLifetime(
    { kind: "hard", spi: spiNum(b.outSpi), direction: "in", childId: bView.childId },
    s.now,
  );
  s.log.push(...hard);
  assert.deepEqual(out(hard), [], "window 1: nothing while the rekey is outstanding");
  assert.equal(s.r.childSas(s.now).length, 1, "the expired child is gone at once");
  const del = one(s.feed(s.i.respond(req)));
  s.i.respond(del);
  assert.deepEqual(deletedSpis(s).sort(), [hex(a.outSpi), hex(b.outSpi)].sort());
});

Deno.test("§2.25.1: the peer's rekey of a child whose Delete we sent gets TEMPORARY_FAILURE", () => {
  const s = new V2Setup(v2Policy());
  s.establish();
  const old = s.i.children[0]!;
  const answer = s.i.respond(soft(s, spiNum(old.outSpi))[0]!);
  const del = one(s.feed(answer)); // our Delete of the replaced child, not yet answered
  const r = s.answer(s.i.createChild({ rekey: old }), (d) => s.i.readCreateChild(d));
  assert.deepEqual(r.errors, [Nt.TEMPORARY_FAILURE]);
  s.feed(s.i.respond(del));
  assert.equal(s.r.childSas(s.now).length, 1, "only the new child is left");
});

Deno.test("own CHILD_SA rekey answered TEMPORARY_FAILURE: not at once, again after a wait (§2.25)", () => {
  const s = new V2Setup(v2Policy({ dpd_delay: 0 }));
  s.establish();
  const old = s.i.children[0]!;
  s.i.refuseNext = Nt.TEMPORARY_FAILURE;
  const refused = s.i.respond(soft(s, spiNum(old.outSpi))[0]!);
  assert.deepEqual(out(s.feed(refused)), [], "§2.25: MUST NOT retry immediately");
  s.now += 1000;
  assert.deepEqual(out(s.r.tick(s.now)), [], "still waiting");
  s.now += 10_000;
  const acts = s.r.tick(s.now);
  s.log.push(...acts);
  const mark = s.log.length;
  const answer = s.i.respond(one(acts));
  assert.ok(s.i.lastPeerRequest!.notify(Nt.REKEY_SA) !== undefined, "the same rekey again");
  const fresh = s.i.children.at(-1)!;
  s.feed(answer);
  assertInstalled(s, fresh, mark);
});

Deno.test("own CHILD_SA rekey answered NO_PROPOSAL_CHOSEN: logged, the child runs to its hard lifetime", () => {
  const s = new V2Setup(v2Policy({ dpd_delay: 0 }));
  s.establish();
  const old = s.i.children[0]!;
  s.i.refuseNext = Nt.NO_PROPOSAL_CHOSEN;
  const acts = s.feed(s.i.respond(soft(s, spiNum(old.outSpi))[0]!));
  assert.deepEqual(out(acts), []);
  assert.ok(hasEvent(acts, /CHILD_SA rekey failed: the peer answered NO_PROPOSAL_CHOSEN/));
  assert.equal(s.r.childSas(s.now).length, 1, "the child stays");
  s.now += 60_000;
  assert.deepEqual(out(s.r.tick(s.now)), [], "no retry storm");
  const c = s.r.childSas(s.now)[0]!;
  const hard = s.r.espLifetime(
    { kind: "hard", spi: c.inboundSpi, direction: "in", childId: c.childId },
    s.now,
  );
  s.i.respond(one(hard));
  assert.deepEqual(deletedSpis(s), [hex(old.outSpi)], "then its Delete");
});

Deno.test("a byte lifetime gets a soft limit at 80-90 % of it, and its soft event starts our rekey", () => {
  const s = new V2Setup(v2Policy({ esp_lifetime_bytes: 1_000_000 }));
  s.establish();
  const old = s.i.children[0]!;
  for (const a of s.installs()) {
    const l = a.spec.lifetime;
    assert.equal(l.hardBytes, 1_000_000);
    assert.ok(l.softBytes >= 800_000 && l.softBytes < 900_000, `soft ${l.softBytes} bytes`);
  }
  const c = s.r.childSas(s.now)[0]!;
  const acts = s.r.espLifetime(
    { kind: "soft", spi: c.outboundSpi, direction: "out", childId: c.childId },
    s.now,
  );
  s.i.respond(one(acts));
  assert.ok(s.i.lastPeerRequest!.notify(Nt.REKEY_SA) !== undefined);
  assert.equal(hex(s.i.lastPeerRequest!.notify(Nt.REKEY_SA)!.spi), hex(old.outSpi));
});

Deno.test("own IKE SA rekey answered TEMPORARY_FAILURE: again after a wait, then it completes", () => {
  const s = new V2Setup(v2Policy({ ike_lifetime: 3600, rekey_margin: 600, dpd_delay: 0 }));
  s.establish();
  s.i.refuseNext = Nt.TEMPORARY_FAILURE;
  const refused = s.i.respond(one(ikeRekeyDue(s)));
  assert.deepEqual(out(s.feed(refused)), [], "§2.25: MUST NOT retry immediately");
  s.now += 1000;
  assert.deepEqual(out(s.r.tick(s.now)), []);
  s.now += 10_000;
  const acts = s.r.tick(s.now);
  s.log.push(...acts);
  const answer = s.i.respond(one(acts));
  assert.ok(s.i.lastPeerRequest!.first(Pt.KE) !== undefined, "an IKE SA rekey again");
  const fresh = s.i.sa!;
  one(s.feed(answer)); // the Delete of the old IKE SA
  assert.match(s.r.ikeSas(s.now)[0]!.spis, new RegExp(hex(fresh.spiR), "i"));
  assert.equal(s.r.childSas(s.now).length, 1);
});
