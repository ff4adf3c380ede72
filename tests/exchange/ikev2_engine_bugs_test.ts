/**
 * IKEv2 responder corner cases driven by the scripted initiator: an IKE_SA_INIT replayed after
 * IKE_AUTH (RFC 7296 §2.1), messages for unknown IKE SAs (§2.21.4, INVALID_IKE_SPI, rate
 * limited), unknown critical payloads inside an authenticated message (§2.5, §2.21.2), and
 * unauthenticated junk that must move counters, not fill the log (`show drops`).
 */

import assert from "node:assert/strict";
import { Exchange, Flag, Nt, Proto, Pt } from "./initiator_v2/consts.ts";
import { oneSend, seededRng, sends, V2Setup } from "./initiator_v2/harness.ts";
import { decodeHeader, decodeMessage, deleteBody, hex, parseNotify } from "./initiator_v2/wire.ts";

function established(s: V2Setup): number {
  return s.r.ikeSas(s.now).filter((v) => v.state === "ESTABLISHED").length;
}

Deno.test("IKE_SA_INIT replayed after IKE_AUTH: ignored, no second (half-open) IKE SA (§2.1)", () => {
  const s = new V2Setup();
  const init = s.i.init();
  s.i.readInit(oneSend(s.feed([init])));
  const a = s.answer(s.i.auth(), (d) => s.i.readAuth(d));
  assert.deepEqual(a.errors, []);
  assert.equal(s.r.ikeSas(s.now).length, 1);
  for (let k = 0; k < 3; k++) {
    s.now += 500;
    const back = s.exchange([init]);
    assert.deepEqual(back, [], "the IKE SA exists past IKE_AUTH: the request is ignored");
  }
  assert.equal(s.r.ikeSas(s.now).length, 1, "still one IKE SA");
  assert.equal(established(s), 1);
  // The established SA still works.
  const r = s.answer(s.i.informational(), (d) => s.i.readResponse(d));
  assert.deepEqual(r.payloads, []);
  // Another initiator behind the same address with another port is a new SA.
  const t = new V2Setup(undefined, {}, s.r);
  t.from = { address: s.from.address, port: 4501 };
  const other = t.exchange([t.i.init()]);
  assert.equal(other.length, 1);
  assert.equal(s.r.ikeSas(s.now).length, 2);
});

Deno.test("unknown IKE SA: a request gets an unprotected INVALID_IKE_SPI, rate-limited (§2.21.4)", () => {
  const s = new V2Setup();
  s.establish();
  const d = s.i.informational()[0]!.slice();
  d[0]! ^= 0xff; // another SPIi: no such IKE SA
  const back = s.exchange([d]);
  assert.equal(back.length, 1);
  const m = decodeMessage(back[0]!);
  assert.equal(hex(m.header.spiI), hex(d.subarray(0, 8)), "SPIs copied");
  assert.equal(hex(m.header.spiR), hex(d.subarray(8, 16)));
  assert.equal(m.header.messageId, decodeHeader(d).messageId, "message ID copied");
  assert.equal(m.header.exchange, Exchange.INFORMATIONAL, "exchange type copied");
  assert.equal(m.header.flags & Flag.R, Flag.R, "a response");
  assert.equal(m.payloads.length, 1, "not encrypted: one Notify");
  assert.equal(m.payloads[0]!.type, Pt.N);
  const n = parseNotify(m.payloads[0]!.body);
  assert.equal(n.type, Nt.INVALID_IKE_SPI);
  assert.equal(n.data.length, 0);
  assert.ok(back[0]!.length <= d.length, "never more bytes than the request");
  // A flood of them within one second: bounded answers, every one counted.
  let answers = 0;
  for (let k = 0; k < 1000; k++) answers += s.exchange([d]).length;
  assert.ok(answers <= 50, `${answers} INVALID_IKE_SPI answers in one second`);
  const drops = s.r.drops?.() ?? new Map();
  assert.equal(drops.get("ikev2/no-sa"), 1001);
  // Later the bucket has refilled.
  s.now += 10_000;
  assert.equal(s.exchange([d]).length, 1);
  // A response for an unknown IKE SA is never answered.
  const resp = d.slice();
  resp[19] = resp[19]! | Flag.R;
  assert.deepEqual(s.exchange([resp]), []);
  assert.equal(established(s), 1, "the real SA is untouched");
});

Deno.test("unknown critical payload in an authenticated INFORMATIONAL: UNSUPPORTED_CRITICAL_PAYLOAD (§2.5)", () => {
  const s = new V2Setup();
  s.establish();
  const mark = s.log.length;
  const r = s.answer(
    s.i.informational([{ type: 200, body: Uint8Array.of(1, 2, 3), critical: true }]),
    (d) => s.i.readResponse(d),
  );
  const n = r.notify(Nt.UNSUPPORTED_CRITICAL_PAYLOAD);
  assert.ok(n !== undefined, `answer ${JSON.stringify(r.types)}`);
  assert.deepEqual([...n.data], [200], "the one-octet payload type");
  assert.equal(r.payloads.length, 1, "rejected in its entirety");
  assert.ok(!s.log.slice(mark).some((a) => a.kind === "deleteSa" || a.kind === "installSa"));
  assert.equal(established(s), 1, "the IKE SA stays");
  // The message ID was consumed; the next request is answered normally.
  const q = s.answer(s.i.informational(), (d) => s.i.readResponse(d));
  assert.deepEqual(q.payloads, []);
  // A Delete next to the critical payload is not executed.
  const c = s.i.children[0]!;
  const d = s.answer(
    s.i.informational([
      { type: Pt.D, body: deleteBody({ protocol: Proto.ESP, spis: [c.outSpi] }) },
      { type: 202, body: new Uint8Array(0), critical: true },
    ]),
    (x) => s.i.readResponse(x),
  );
  assert.deepEqual(d.errors, [Nt.UNSUPPORTED_CRITICAL_PAYLOAD]);
  assert.equal(s.r.childSas(s.now).length, 1, "the Delete was not executed");
});

Deno.test("unknown critical payload in IKE_AUTH: UNSUPPORTED_CRITICAL_PAYLOAD, no IKE SA (§2.21.2)", () => {
  const s = new V2Setup();
  s.init();
  const r = s.answer(
    s.i.auth({ extra: [{ type: 201, body: new Uint8Array(4), critical: true }] }),
    (d) => s.i.readAuth(d),
  );
  const n = r.notify(Nt.UNSUPPORTED_CRITICAL_PAYLOAD);
  assert.ok(n !== undefined, `answer ${JSON.stringify(r.types)}`);
  assert.deepEqual([...n.data], [201]);
  assert.equal(r.first(Pt.AUTH), undefined, "no authentication checked");
  assert.equal(s.installs().length, 0);
  assert.equal(s.r.ikeSas(s.now).length, 0, "the half-open SA is gone without a Delete");
});

Deno.test("malformed authenticated request: INVALID_SYNTAX, fatal for the IKE SA (§2.21.3)", () => {
  const s = new V2Setup();
  s.establish();
  assert.equal(s.r.childSas(s.now).length, 1);
  const mark = s.log.length;
  // A Notify payload of two octets (RFC 7296 §3.10 needs at least four).
  const r = s.answer(
    s.i.informational([{ type: Pt.N, body: Uint8Array.of(0, 0) }]),
    (d) => s.i.readResponse(d),
  );
  assert.deepEqual(r.errors, [Nt.INVALID_SYNTAX]);
  assert.equal(r.payloads.length, 1, "the notification alone, no Delete payload");
  assert.equal(s.r.ikeSas(s.now).length, 0, "the IKE SA is gone");
  assert.equal(s.r.childSas(s.now).length, 0, "with its CHILD_SA");
  const sent = sends(s.log.slice(mark));
  assert.equal(sent.length, 1, "only the answer: no INFORMATIONAL Delete of our own");
  // In IKE_AUTH: INVALID_SYNTAX and no IKE SA (§2.21.2).
  const t = new V2Setup();
  t.init();
  const a = t.answer(
    t.i.auth({ extra: [{ type: Pt.N, body: Uint8Array.of(1) }] }),
    (d) => t.i.readAuth(d),
  );
  assert.deepEqual(a.errors, [Nt.INVALID_SYNTAX]);
  assert.equal(t.installs().length, 0);
  assert.equal(t.r.ikeSas(t.now).length, 0);
});

Deno.test("10k junk IKEv2 datagrams: counted in show drops, log lines bounded", () => {
  const { next } = seededRng("ikev2 junk");
  const s = new V2Setup();
  s.establish();
  const real = s.i.informational()[0]!;
  s.i.sa!.msgId--; // never sent: the next real request reuses its message ID
  // A well-formed IKE_SA_INIT from an address no peer is configured for.
  const stranger = { address: "203.0.113.9", port: 500 };
  const init = new V2Setup(undefined, { self: stranger }).i.init();
  const N = 10_000;
  let warnOrWorse = 0;
  let sent = 0;
  for (let k = 0; k < N; k++) {
    const kind = k % 5;
    let d: Uint8Array;
    if (kind === 0) {
      // Random bytes with an IKEv2 version octet.
      d = Uint8Array.from({ length: 28 + (next() % 200) }, () => next() & 0xff);
      d[17] = 0x20;
    } else if (kind === 1) {
      // The real SPIs and SK header with a random body: fails the ICV.
      d = real.slice();
      for (let j = 32; j < d.length; j++) d[j] = next() & 0xff;
    } else if (kind === 2) {
      // Header only, a truncated chain.
      d = real.slice(0, 28 + (next() % 8));
      new DataView(d.buffer).setUint32(24, d.length);
    } else if (kind === 3) {
      // Unknown SPIs.
      d = real.slice();
      for (let j = 0; j < 8; j++) d[j] = next() & 0xff;
    } else {
      d = init;
    }
    const out = kind === 4 ? s.r.handle(d, s.to, stranger, s.now) : s.feed([d]);
    sent += sends(out).length;
    for (const a of out) {
      if (a.kind === "event" && (a.level === "warn" || a.level === "error")) warnOrWorse++;
    }
    if (k % 100 === 0) s.now += 1; // ~100 ms of a flood
  }
  assert.equal(warnOrWorse, 0, "no warn line per junk datagram");
  assert.ok(sent <= 60, `${sent} answers to junk`);
  const drops = s.r.drops?.() ?? new Map();
  let total = 0;
  for (const [k, v] of drops) if (k.startsWith("ikev2/")) total += v;
  assert.equal(total, N, JSON.stringify([...drops]));
  for (const r of ["no-sa", "no-peer", "malformed", "unauthenticated"]) {
    assert.ok((drops.get(`ikev2/${r}`) ?? 0) > 0, `${r}: ${JSON.stringify([...drops])}`);
  }
  // One summary line after the interval, at info.
  s.now += 61_000;
  const summary = s.r.tick(s.now).filter((a) => a.kind === "event" && /dropped/.test(a.message));
  assert.equal(summary.length, 1);
  assert.equal(established(s), 1);
  const r = s.answer(s.i.informational(), (d) => s.i.readResponse(d));
  assert.deepEqual(r.payloads, []);
});

Deno.test("refused IKE_SA_INITs from a peer's (spoofable) address: one line per kind a minute", () => {
  const s = new V2Setup();
  // Every one is answered (the real peer needs the answer), but logged once a minute.
  const floods: [string, Uint8Array, RegExp, "warn" | "info"][] = [
    [
      "no proposal",
      new V2Setup(undefined, { ike: ["aes128-sha1-modp2048"] }).i.init(),
      /NO_PROPOSAL_CHOSEN/,
      "warn",
    ],
    [
      "another group",
      new V2Setup(undefined, { ike: ["aes128gcm16-prfsha256-modp2048-ecp256"], keGroup: 14 })
        .i.init(),
      /INVALID_KE_PAYLOAD/,
      "info",
    ],
  ];
  for (const [what, d, re, level] of floods) {
    let answers = 0;
    let loud = 0;
    const t0 = s.now;
    for (let k = 0; k < 500; k++) {
      const out = s.feed([d]);
      answers += sends(out).length;
      loud += out.filter((a) => a.kind === "event" && a.level === level && re.test(a.message))
        .length;
      s.now += 50; // 25 s
    }
    assert.equal(answers, 500, `${what}: every one answered`);
    assert.equal(loud, 1, `${what}: one ${level} line`);
    s.now = t0 + 61_000;
    const later = s.feed([d]);
    assert.equal(
      later.filter((a) => a.kind === "event" && a.level === level && re.test(a.message)).length,
      1,
      `${what}: a line again after a minute`,
    );
  }
  assert.equal(s.r.ikeSas(s.now).length, 0);
});
