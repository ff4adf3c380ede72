/**
 * IKEv2 INFORMATIONAL and message handling against the engine (RFC 7296 §1.4, §1.5, §2.1,
 * §2.3, §2.4, §2.5, §3.11): Deletes of ESP and IKE SAs, liveness both ways and a dead peer,
 * crossing exchanges, retransmissions answered from the stored response, message IDs with
 * window size 1, unknown payloads and SPIs.
 */

import assert from "node:assert/strict";
import { Exchange, Proto, Pt } from "./initiator_v2/consts.ts";
import { sends, spiNum, v2Policy, V2Setup } from "./initiator_v2/harness.ts";
import { deleteBody, hex, parseDelete } from "./initiator_v2/wire.ts";

function deletes(s: V2Setup, from: number): number[] {
  return s.log.slice(from).flatMap((a) => a.kind === "deleteSa" ? [a.spi] : []);
}

Deno.test("INFORMATIONAL: Delete of a CHILD_SA answered with the paired SPI; the IKE SA stays", () => {
  const s = new V2Setup();
  s.establish();
  const c = s.i.children[0]!;
  const mark = s.log.length;
  const r = s.answer(s.i.deleteChildren([c]), (d) => s.i.readResponse(d));
  assert.equal(r.header.exchange, Exchange.INFORMATIONAL);
  assert.equal(
    hex(r.first(Pt.D)!.body),
    hex(deleteBody({ protocol: Proto.ESP, spis: [c.outSpi] })),
  );
  assert.deepEqual(deletes(s, mark).sort(), [spiNum(c.inSpi), spiNum(c.outSpi)].sort());
  assert.equal(s.r.childSas(s.now).length, 0);
  assert.equal(s.r.ikeSas(s.now).filter((v) => v.state === "ESTABLISHED").length, 1);
});

Deno.test("INFORMATIONAL: Delete of an unknown ESP SPI is answered empty, nothing removed (§1.4.1)", () => {
  const s = new V2Setup();
  s.establish();
  const mark = s.log.length;
  const r = s.answer(
    s.i.informational([{
      type: Pt.D,
      body: deleteBody({ protocol: Proto.ESP, spis: [Uint8Array.of(1, 2, 3, 4)] }),
    }]),
    (d) => s.i.readResponse(d),
  );
  assert.deepEqual(r.errors, []);
  assert.equal(deletes(s, mark).length, 0);
});

Deno.test("INFORMATIONAL: Delete of the IKE SA removes it and all its CHILD_SAs", () => {
  const s = new V2Setup();
  s.establish();
  s.answer(s.i.createChild(), (d) => s.i.readCreateChild(d));
  const mark = s.log.length;
  const r = s.answer(s.i.deleteIke(), (d) => s.i.readResponse(d));
  assert.deepEqual(r.payloads, [], "§1.4.1: an empty response");
  assert.equal(deletes(s, mark).length, 4);
  assert.equal(s.r.ikeSas(s.now).length, 0);
  assert.equal(s.r.childSas(s.now).length, 0);
});

Deno.test("liveness: an empty INFORMATIONAL is answered empty; message IDs advance", () => {
  const s = new V2Setup();
  s.establish();
  for (let k = 0; k < 3; k++) {
    const r = s.answer(s.i.informational(), (d) => s.i.readResponse(d));
    assert.deepEqual(r.payloads, []);
    assert.equal(r.header.messageId, 2 + k);
  }
});

Deno.test("dead peer: unanswered liveness checks remove the SAs; an answer keeps them", () => {
  const s = new V2Setup(v2Policy({ dpd_delay: 10, dpd_timeout: 30 }));
  s.establish();
  // An answering peer: tick for a minute, answering every request.
  const t0 = s.now;
  let probes = 0;
  for (s.now = t0; s.now < t0 + 60_000; s.now += 1000) {
    for (const o of sends(s.r.tick(s.now))) {
      probes++;
      for (const back of s.i.respond(o.datagram)) s.feed([back]);
    }
  }
  assert.ok(probes >= 1, "the responder checked liveness (§1.4)");
  assert.ok(s.i.lastPeerRequest !== undefined);
  assert.equal(s.i.lastPeerRequest.header.exchange, Exchange.INFORMATIONAL);
  assert.equal(s.r.ikeSas(s.now).filter((v) => v.state === "ESTABLISHED").length, 1);
  // A silent peer: within dpd_delay + dpd_timeout (+ slack) everything is gone.
  const mark = s.log.length;
  const t1 = s.now;
  for (; s.now < t1 + 60_000 && s.r.ikeSas(s.now).length > 0; s.now += 1000) {
    s.log.push(...s.r.tick(s.now));
  }
  assert.equal(s.r.ikeSas(s.now).length, 0, "dead peer's IKE SA removed");
  assert.ok(s.now - t1 <= 10_000 + 30_000 + 5_000, `took ${s.now - t1} ms`);
  assert.equal(deletes(s, mark).length, 2, "its CHILD_SA removed from the data path");
});

Deno.test("retransmission: a repeated request gets the stored response byte for byte (§2.1)", () => {
  const s = new V2Setup();
  s.init();
  const auth = s.i.auth();
  const first = s.exchange(auth);
  s.i.readAuth(first[first.length - 1]!);
  const mark = s.log.length;
  const again = s.exchange(auth);
  assert.deepEqual(again.map(hex), first.map(hex), "IKE_AUTH response repeated unchanged");
  assert.equal(s.installs(mark).length, 0, "no second CHILD_SA from a retransmit");
  const live = s.i.informational();
  const a = s.exchange(live);
  const b = s.exchange(live);
  assert.deepEqual(b.map(hex), a.map(hex));
  // An IKE_SA_INIT retransmit is answered with the same response too.
  const t = new V2Setup();
  const init = t.i.init();
  const r1 = t.exchange([init]);
  const r2 = t.exchange([init]);
  assert.deepEqual(r2.map(hex), r1.map(hex));
  assert.equal(t.r.ikeSas(t.now).length, 1, "one half-open SA, not two");
});

Deno.test("window size 1: a request ahead of the window is dropped; an old one never re-executed", () => {
  const s = new V2Setup();
  s.establish();
  const sa = s.i.sa!;
  // Skip message ID 2: the request with ID 3 is outside the window (§2.3).
  sa.msgId = 3;
  const ahead = s.i.informational();
  assert.deepEqual(s.exchange(ahead), [], "dropped");
  sa.msgId = 2;
  const ok = s.answer(s.i.informational(), (d) => s.i.readResponse(d));
  assert.deepEqual(ok.payloads, []);
  // A Delete replayed under an old message ID is not executed again: send a Delete of the
  // child as ID 3, then a fresh CREATE_CHILD_SA, then replay the Delete.
  const c = s.i.children[0]!;
  const del = s.i.deleteChildren([c]);
  s.exchange(del);
  s.answer(s.i.createChild(), (d) => s.i.readCreateChild(d));
  const mark = s.log.length;
  s.exchange(del);
  assert.equal(deletes(s, mark).length, 0, "an old request changes nothing");
  assert.equal(s.r.childSas(s.now).length, 1);
});

Deno.test("an unknown payload without the critical bit is skipped; the request is answered", () => {
  const s = new V2Setup();
  s.establish();
  const q = s.answer(
    s.i.informational([{ type: 200, body: Uint8Array.of(1, 2, 3) }]),
    (d) => s.i.readResponse(d),
  );
  assert.deepEqual(q.errors, []);
});

Deno.test("Notify errors: a message for an unknown IKE SPI changes nothing", () => {
  const s = new V2Setup();
  s.establish();
  const d = s.i.informational()[0]!.slice();
  d[0]! ^= 0xff; // another SPIi
  for (const o of s.exchange([d])) {
    // §2.21.4: at most an unprotected INVALID_IKE_SPI notification.
    assert.equal(o[18], Exchange.INFORMATIONAL);
  }
  assert.equal(s.r.ikeSas(s.now).filter((v) => v.state === "ESTABLISHED").length, 1);
});

Deno.test("crossing exchanges: the responder's liveness check and our CREATE_CHILD_SA both complete", () => {
  const s = new V2Setup(v2Policy({ dpd_delay: 10, dpd_timeout: 30 }));
  s.establish();
  // Wait until the responder sends its own request (its message ID 0, §2.2: separate windows).
  let probe: Uint8Array | undefined;
  const t0 = s.now;
  for (; probe === undefined && s.now < t0 + 60_000; s.now += 1000) {
    probe = sends(s.r.tick(s.now))[0]?.datagram;
  }
  assert.ok(probe !== undefined, "a liveness request from the responder");
  // Before answering it, we rekey the CHILD_SA: the responder answers although its own
  // request is outstanding.
  const old = s.i.children[0]!;
  const mark = s.log.length;
  const r = s.answer(s.i.createChild({ rekey: old }), (d) => s.i.readCreateChild(d));
  assert.deepEqual(r.errors, []);
  assert.equal(s.installs(mark).length, 2);
  // Now our answer to its liveness check; it keeps the SA alive.
  for (const back of s.i.respond(probe)) s.feed([back]);
  const t1 = s.now;
  for (; s.now < t1 + 25_000; s.now += 1000) {
    for (const o of sends(s.r.tick(s.now))) for (const b of s.i.respond(o.datagram)) s.feed([b]);
  }
  assert.equal(s.r.ikeSas(s.now).filter((v) => v.state === "ESTABLISHED").length, 1);
  assert.equal(s.r.childSas(s.now).length, 2);
});

Deno.test("INFORMATIONAL: one Delete payload naming two CHILD_SAs removes both", () => {
  const s = new V2Setup();
  s.establish();
  s.answer(s.i.createChild(), (d) => s.i.readCreateChild(d));
  const [a, b] = s.i.children;
  const mark = s.log.length;
  const r = s.answer(s.i.deleteChildren([a!, b!]), (d) => s.i.readResponse(d));
  const d = parseDelete(r.first(Pt.D)!.body);
  assert.equal(d.protocol, Proto.ESP);
  assert.deepEqual(d.spis.map(hex).sort(), [a!.outSpi, b!.outSpi].map(hex).sort());
  assert.equal(deletes(s, mark).length, 4);
  assert.equal(s.r.childSas(s.now).length, 0);
});
