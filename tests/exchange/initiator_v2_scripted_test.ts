/**
 * This project's IKEv2 initiator against the independent scripted responder
 * (tests/exchange/responder_v2/, no code of src/ike/): IKE_SA_INIT + IKE_AUTH with a PSK and
 * the ESP keys checked against the responder's own derivation; INVALID_KE_PAYLOAD and COOKIE
 * round trips; narrowed selectors; AUTHENTICATION_FAILED both ways; a lost response answered
 * again on the retransmitted request.
 */

import assert from "node:assert/strict";
import { cat, cidr4, hex, tsBody } from "./initiator_v2/wire.ts";
import { Exchange, Nt, Pt } from "./initiator_v2/consts.ts";
import { connections, lines } from "./pair/wire.ts";
import { Link, v2Branch } from "./responder_v2/harness.ts";

const events = (l: Link) => connections(l.log).map((c) => `${c.event}:${c.reason}`);

/** The engine's SAs match the responder's child: SPIs both ways, keys from its KEYMAT. */
function assertKeys(l: Link): void {
  const why = lines(l.log).join("\n");
  assert.deepEqual(events(l), ["up:"], why);
  assert.equal(l.peer.children.length, 1);
  const c = l.peer.children[0]!;
  const spi = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  const out = l.sas.get(`out:${spi(c.inSpi)}`);
  const inb = l.sas.get(`in:${spi(c.outSpi)}`);
  assert.ok(out !== undefined && inb !== undefined, `SPIs ${[...l.sas.keys()]}: ${why}`);
  assert.equal(l.sas.size, 2);
  // c.keys.er/ar: what the engine sends the responder; ei/ai: what the responder sends it.
  assert.equal(hex(out.keyMaterial), hex(cat(c.keys.er, c.keys.ar)));
  assert.equal(hex(inb.keyMaterial), hex(cat(c.keys.ei, c.keys.ai)));
  const sa = l.engine.ikeSas(l.now);
  assert.equal(sa.length, 1);
  assert.equal(sa[0]!.state, "ESTABLISHED");
  const h = l.peer.sa!.sa!;
  assert.equal(sa[0]!.spis, `${hex(h.spiI)}_i ${hex(h.spiR)}_r`);
  assert.equal(l.engine.peerStates(l.now)[0]?.state, "up");
}

Deno.test("IKEv2 initiator vs scripted responder: PSK, keys derived independently agree", () => {
  const l = new Link(v2Branch(), { ike: ["aes256-sha256-modp3072"], esp: ["aes256gcm16"] });
  l.dial();
  assertKeys(l);
  assert.equal(l.peer.inits.length, 1);
  assert.equal(l.peer.authSeen?.authOk, true);
  const c = l.peer.children[0]!;
  assert.equal(c.suite.encrName, "aes256gcm16");
  assert.equal(c.keys.ei.length, 36, "AES-256 key and 4-byte salt");
  const out = [...l.sas.values()].find((s) => s.direction === "out")!;
  assert.deepEqual(out.transform, { kind: "aead", alg: "aes256gcm16" });
  assert.equal(l.engine.ikeSas(l.now)[0]!.algorithms, "aes256-sha256-prfsha256-modp3072");

  // Keyed AES-CBC + HMAC: encryption and integrity keys in KEYMAT order.
  const m = new Link(
    v2Branch({ esp_proposals: ["aes128-sha256"] }),
    { esp: ["aes128-sha256"] },
  );
  m.dial();
  assertKeys(m);
  assert.equal(m.peer.children[0]!.keys.ai.length, 32);
});

Deno.test("IKEv2 initiator vs scripted responder: INVALID_KE_PAYLOAD and COOKIE round trips", () => {
  // The branch's first KE is modp3072; the responder insists on modp2048 (§1.2).
  const l = new Link(v2Branch(), { group: 14 });
  l.dial();
  assertKeys(l);
  assert.equal(l.peer.inits.length, 2);
  const spis = l.peer.inits.map((d) => hex(d.subarray(0, 8)));
  assert.equal(spis[0], spis[1], "§2.6.1: the same SPIi through the retry");

  // COOKIE (§2.6), then INVALID_KE with the cookie kept in front.
  const c = new Link(v2Branch(), { cookie: true, group: 14 });
  c.dial();
  assertKeys(c);
  assert.equal(c.peer.inits.length, 3);
  const firstTypes = c.peer.inits.map((d) => d[16]);
  assert.deepEqual(firstTypes, [Pt.SA, Pt.N, Pt.N]);
  // RFC 7296 §2.6: the cookie notify comes first, and is echoed unchanged.
  assert.equal(hex(c.peer.inits[1]!.subarray(32, 36)), `0000${Nt.COOKIE.toString(16)}`);

  // Nothing in common: NO_PROPOSAL_CHOSEN, unauthenticated, so the attempt ends only when
  // given up (§2.21.1).
  const x = new Link(v2Branch(), { ike: ["aes128gcm16-prfsha256-ecp256"] });
  x.dial();
  assert.deepEqual(events(x), []);
  x.advance(x.now + 40_000);
  const ev = events(x);
  assert.equal(ev.length, 1, lines(x.log).join("\n"));
  assert.match(ev[0]!, /^failed:/);
  assert.ok(lines(x.log).some((t) => t.includes("NO_PROPOSAL_CHOSEN")), lines(x.log).join("\n"));
  assert.equal(x.sas.size, 0);
});

Deno.test("IKEv2 initiator vs scripted responder: narrowed selectors are installed as answered", () => {
  const l = new Link(v2Branch(), {
    tsi: [cidr4("10.2.7.0/24")],
    tsr: [cidr4("10.1.5.0/24", 6, [443, 443])],
  });
  l.dial();
  assertKeys(l);
  const out = [...l.sas.values()].find((s) => s.direction === "out")!;
  assert.deepEqual(out.localSelectors.map((s) => [s.startAddress, s.endAddress]), [[
    "10.2.7.0",
    "10.2.7.255",
  ]]);
  assert.deepEqual(out.remoteSelectors[0], {
    startAddress: "10.1.5.0",
    endAddress: "10.1.5.255",
    protocol: 6,
    startPort: 443,
    endPort: 443,
  });
});

Deno.test("IKEv2 initiator vs scripted responder: AUTHENTICATION_FAILED either way", () => {
  // The responder has another key: it refuses our AUTH.
  const l = new Link(v2Branch(), { psk: "another key" });
  l.dial();
  assert.equal(l.peer.authSeen?.authOk, false);
  assert.deepEqual(events(l), ["failed:the peer refused IKE_AUTH: AUTHENTICATION_FAILED"]);
  assert.equal(l.sas.size, 0);
  assert.equal(l.engine.ikeSas(l.now).length, 0);

  // Our AUTH is right but the responder's is made with another key: we refuse it.
  const r = new Link(v2Branch(), { ownPsk: "another key" });
  r.dial();
  assert.equal(r.peer.authSeen?.authOk, true);
  const ev = events(r);
  assert.equal(ev.length, 1, lines(r.log).join("\n"));
  assert.match(ev[0]!, /^failed:the peer.s AUTH: AUTH does not verify/);
  assert.equal(r.sas.size, 0);
  assert.equal(r.engine.ikeSas(r.now).length, 0);
});

Deno.test("IKEv2 initiator vs scripted responder: a lost IKE_AUTH response is asked for again", () => {
  const l = new Link();
  let dropped = 0;
  l.drop = (d, from) => {
    if (from !== "hub" || d[18] !== Exchange.IKE_AUTH || dropped > 1) return false;
    dropped++;
    return true;
  };
  l.dial();
  assert.deepEqual(events(l), []);
  assert.equal(l.engine.peerStates(l.now)[0]?.state, "connecting");
  l.advance(l.now + 999);
  assert.equal(l.peer.auths.length, 1, "no retransmission before 1 s");
  l.advance(l.now + 1);
  assert.equal(l.peer.auths.length, 2);
  assert.deepEqual(events(l), [], "the second answer was lost too");
  l.advance(l.now + 2_000);
  assertKeys(l);
  assert.equal(l.peer.auths.length, 3);
  // RFC 7296 §2.1: retransmissions are the same bytes; the responder answered each from its
  // stored response without a second child.
  assert.equal(new Set(l.peer.auths.map(hex)).size, 1);
  assert.equal(l.peer.children.length, 1);

  // A lost IKE_SA_INIT answer: the request is repeated, the stored answer sent again.
  const i = new Link(v2Branch(), { ike: ["aes256-sha256-modp3072"] });
  let lost = false;
  i.drop = (d, from) => {
    if (lost || from !== "hub" || d[18] !== Exchange.IKE_SA_INIT) return false;
    lost = true;
    return true;
  };
  i.dial();
  i.advance(i.now + 1_000);
  assertKeys(i);
  assert.equal(i.peer.inits.length, 2);
  assert.equal(hex(i.peer.inits[0]!), hex(i.peer.inits[1]!));
});

Deno.test("IKEv2 initiator vs scripted responder: its liveness checks and Delete are answered", () => {
  const l = new Link();
  l.dial();
  assertKeys(l);
  l.toEngine(l.peer.informational());
  assert.equal(l.peer.responses.length, 1);
  assert.deepEqual(l.peer.responses[0]!.types, []);
  // The responder deletes the only child; the engine answers with its own SPI (§1.4.1).
  const c = l.peer.children[0]!;
  l.toEngine(l.peer.deleteChildren([c]));
  const del = l.peer.responses[1]!;
  assert.deepEqual(del.types, [Pt.D]);
  assert.equal(hex(del.payloads[0]!.body.subarray(4)), hex(c.outSpi));
});

Deno.test("IKEv2 initiator vs scripted responder: the last CHILD_SA deleted by the peer is made again", () => {
  const l = new Link();
  l.dial();
  assertKeys(l);
  const first = l.peer.children[0]!;
  const before = l.engine.ikeSas(l.now)[0]!.spis;
  l.toEngine(l.peer.deleteChildren([first]));
  // Our answer named our SPI; then our CREATE_CHILD_SA (§1.3.1) made a new pair.
  assert.equal(l.peer.responses.length, 1);
  assert.equal(l.peer.children.length, 1, lines(l.log).join("\n"));
  const req = l.peer.sa!.lastPeerRequest!;
  assert.equal(req.header.exchange, Exchange.CREATE_CHILD_SA);
  assert.equal(req.notify(Nt.REKEY_SA), undefined, "a new child, not a rekey");
  assert.deepEqual(req.types.filter((t) => t !== Pt.KE), [Pt.SA, Pt.NONCE, Pt.TSi, Pt.TSr]);
  assert.equal(hex(req.first(Pt.TSi)!.body), hex(tsBody([cidr4("10.2.0.0/16")])));
  assert.equal(hex(req.first(Pt.TSr)!.body), hex(tsBody([cidr4("10.1.0.0/16")])));
  assert.notEqual(hex(l.peer.children[0]!.inSpi), hex(first.inSpi));
  assertKeys(l);
  assert.equal(l.engine.ikeSas(l.now)[0]!.spis, before, "the same IKE SA");
  assert.ok(lines(l.log).some((t) => t.includes("CHILD_SA made again")));

  // Refused: the IKE SA is deleted (Delete sent) and reported down, so the peer is re-dialled.
  const r = new Link();
  r.dial();
  assertKeys(r);
  r.peer.sa!.refuseNext = Nt.NO_PROPOSAL_CHOSEN;
  r.toEngine(r.peer.deleteChildren([r.peer.children[0]!]));
  assert.deepEqual(events(r), ["up:", "down:no CHILD_SA left"], lines(r.log).join("\n"));
  assert.equal(r.engine.ikeSas(r.now).length, 0);
  assert.equal(r.sas.size, 0);
  const del = r.peer.sa!.lastPeerRequest!;
  assert.equal(del.header.exchange, Exchange.INFORMATIONAL);
  assert.equal(del.payloads[0]?.body[0], 1, "a Delete of the IKE SA");
  assert.equal(
    r.engine.peerStates(r.now)[0]?.detail,
    "CHILD_SA not made again: the peer answered NO_PROPOSAL_CHOSEN",
  );

  // A peer with start_action = none is left as it is (responder-only behaviour).
  const n = new Link(v2Branch({ start_action: "none" }));
  n.dial();
  n.toEngine(n.peer.deleteChildren([n.peer.children[0]!]));
  assert.equal(n.peer.children.length, 0);
  assert.equal(n.engine.ikeSas(n.now).length, 1);
  assert.deepEqual(events(n), ["up:"]);
});
