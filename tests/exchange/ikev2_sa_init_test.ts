/**
 * IKEv2 IKE_SA_INIT against the engine (RFC 7296 §1.2, §2.6, §2.23, §3.3; RFC 7383 §2.3) with
 * the independent scripted initiator: proposal selection over every offer, INVALID_KE_PAYLOAD
 * round trip, NO_PROPOSAL_CHOSEN with a log line naming both sides, NAT detection, COOKIE
 * challenges under a half-open flood, the fragmentation announcement.
 */

import assert from "node:assert/strict";
import { Nt, Pt } from "./initiator_v2/consts.ts";
import { BRANCH, events, GW, oneSend, sends, v2Policy, V2Setup } from "./initiator_v2/harness.ts";
import { Received, V2Initiator } from "./initiator_v2/initiator.ts";
import { decodeMessage, hex, parseSa } from "./initiator_v2/wire.ts";

function plain(d: Uint8Array): Received {
  const m = decodeMessage(d);
  return new Received(m.header, m.payloads);
}

Deno.test("IKE_SA_INIT: the responder walks every offered proposal and answers the one that fits", () => {
  const s = new V2Setup(
    v2Policy({ ike_proposals: ["aes256gcm16-prfsha384-ecp384", "aes128gcm16-prfsha256-ecp256"] }),
    {
      ike: ["aes128-sha1-modp2048", "aes256-sha256-modp3072", "aes128gcm16-prfsha256-ecp256"],
      keGroup: 19,
    },
  );
  const resp = oneSend(s.feed([s.i.init()]));
  const r = s.i.readInit(resp);
  assert.equal(r.kind, "done", JSON.stringify(r));
  if (r.kind !== "done") return;
  assert.equal(r.proposal, 2, "the third proposal");
  const sa = parseSa(plain(resp).first(Pt.SA)!.body);
  assert.equal(sa.length, 1);
  assert.equal(sa[0]!.num, 3, "§3.3.1: the accepted proposal keeps its number");
  assert.equal(sa[0]!.spi.length, 0, "§3.3.1: no SPI in an IKE_SA_INIT proposal");
  assert.deepEqual(plain(resp).types.slice(0, 3), [Pt.SA, Pt.KE, Pt.NONCE]);
  assert.equal(decodeMessage(resp).header.flags, 0x20, "§3.1: R set, I clear from the responder");
  // The whole exchange completes on the chosen suite.
  const auth = s.answer(s.i.auth(), (d) => s.i.readAuth(d));
  assert.deepEqual(auth.errors, []);
  const view = s.r.ikeSas(s.now);
  assert.equal(view.length, 1);
  assert.equal(view[0]!.version, 2);
  assert.equal(view[0]!.algorithms, "aes128gcm16-prfsha256-ecp256");
});

Deno.test("IKE_SA_INIT: INVALID_KE_PAYLOAD names the group we want; the retry completes", () => {
  const s = new V2Setup(v2Policy(), {
    ike: ["aes128gcm16-prfsha256-modp2048-ecp256"],
    keGroup: 14,
  });
  const firstRaw = oneSend(s.feed([s.i.init()]));
  const first = plain(firstRaw);
  const n = first.notify(Nt.INVALID_KE_PAYLOAD);
  assert.ok(n !== undefined, `INVALID_KE_PAYLOAD expected, got ${first.types}`);
  assert.equal(hex(n.data), "0013", "§3.10.1: the data is the accepted group, ECP-256");
  assert.equal(first.first(Pt.SA), undefined);
  assert.equal(first.first(Pt.KE), undefined);
  assert.deepEqual(s.i.readInit(firstRaw), { kind: "invalidKe", group: 19 });
  const again = s.i.readInit(oneSend(s.feed([s.i.init()])));
  assert.equal(again.kind, "done");
  const auth = s.answer(s.i.auth(), (d) => s.i.readAuth(d));
  assert.deepEqual(auth.errors, []);
  const sas = s.r.ikeSas(s.now).filter((v) => v.state === "ESTABLISHED");
  assert.equal(sas.length, 1);
  assert.match(sas[0]!.algorithms, /ecp256$/);
});

Deno.test("IKE_SA_INIT: NO_PROPOSAL_CHOSEN, and the log line names what was offered and what is configured", () => {
  const s = new V2Setup(v2Policy(), { ike: ["aes128-sha1-modp2048"] });
  const act = s.feed([s.i.init()]);
  const r = plain(oneSend(act));
  assert.deepEqual(r.errors, [Nt.NO_PROPOSAL_CHOSEN]);
  assert.equal(r.first(Pt.SA), undefined);
  const line = events(act).map((e) => `${e.message} ${JSON.stringify(e.fields)}`).join("\n");
  assert.match(line, /aes128-sha1-(prfsha1-)?modp2048/, "the offer is named");
  assert.match(line, /aes128gcm16-prfsha256-ecp256/, "the configured proposal is named");
  assert.equal(s.r.ikeSas(s.now).filter((v) => v.state === "ESTABLISHED").length, 0);
});

Deno.test("IKE_SA_INIT: NAT detection hashes are right; a NATed initiator gets UDP-encapsulated ESP", () => {
  const direct = new V2Setup();
  const r = direct.i.readInit(oneSend(direct.feed([direct.i.init()])));
  assert.equal(r.kind, "done");
  if (r.kind !== "done") return;
  assert.ok(
    r.natSourceOk,
    "§2.23: NAT_DETECTION_SOURCE_IP hashes the responder's address and port",
  );
  assert.ok(r.natDestOk, "§2.23: NAT_DETECTION_DESTINATION_IP hashes our address and port");
  direct.answer(direct.i.auth(), (d) => direct.i.readAuth(d));
  for (const a of direct.installs()) assert.equal(a.spec.endpoints.encap, undefined, "raw ESP");

  // The initiator believes it is 10.9.9.9:500 (a private address behind a NAT); the gateway
  // sees 192.0.2.2. After IKE_SA_INIT it moves to port 4500 (§2.23).
  const s = new V2Setup(v2Policy(), { natSource: { address: "10.9.9.9", port: 500 } });
  const n = s.i.readInit(oneSend(s.feed([s.i.init()])));
  assert.equal(n.kind, "done");
  if (n.kind !== "done") return;
  assert.ok(n.natSourceOk);
  assert.ok(!n.natDestOk, "the responder hashed the address it saw, not ours");
  s.from = { address: BRANCH.address, port: 4500 };
  s.to = { address: GW.address, port: 4500 };
  const act = s.feed(s.i.auth());
  const out = sends(act);
  assert.ok(out.length >= 1);
  for (const o of out) {
    assert.deepEqual(o.remote, { address: BRANCH.address, port: 4500 });
    assert.equal(o.local.port, 4500);
  }
  let auth: Received | undefined;
  for (const o of out) auth = s.i.readAuth(o.datagram) ?? auth;
  assert.deepEqual(auth?.errors, []);
  const installs = s.installs();
  assert.equal(installs.length, 2);
  for (const a of installs) {
    assert.deepEqual(a.spec.endpoints.encap, { localPort: 4500, remotePort: 4500 });
  }
  assert.ok(s.r.childSas(s.now).every((c) => c.encap));
});

Deno.test("IKE_SA_INIT: IKEV2_FRAGMENTATION_SUPPORTED answered only when offered (RFC 7383 §2.3)", () => {
  const s = new V2Setup();
  const r = s.i.readInit(oneSend(s.feed([s.i.init()])));
  assert.ok(r.kind === "done" && r.fragmentation);
  const q = new V2Setup(v2Policy(), { fragmentation: false });
  const resp = plain(oneSend(q.feed([q.i.init()])));
  assert.equal(resp.notify(Nt.IKEV2_FRAGMENTATION_SUPPORTED), undefined);
});

/** A fresh initiator from `address` (a distinct SPI and nonce each time). */
function flooder(address: string): V2Initiator {
  return new V2Initiator({
    psk: "x",
    self: { address, port: 500 },
    responder: GW,
  });
}

Deno.test("COOKIE: a half-open flood turns cookies on; no state grows; a cookie retry completes", () => {
  const s = new V2Setup();
  let n = 0;
  let cookieAt = -1;
  let cookieResp: Received | undefined;
  // Spoofed IKE_SA_INITs in the configured peer's name, each with its own SPI and port.
  for (; n < 5000 && cookieAt < 0; n++) {
    const f = flooder(BRANCH.address);
    const out = s.r.handle(f.init(), GW, { address: BRANCH.address, port: 1024 + n }, s.now);
    const d = sends(out)[0]?.datagram;
    if (d === undefined) continue;
    const r = plain(d);
    if (r.notify(Nt.COOKIE) !== undefined) {
      cookieAt = n;
      cookieResp = r;
    }
  }
  assert.ok(cookieAt >= 0, `no COOKIE after ${n} half-open IKE_SA_INITs`);
  // §2.6: only the COOKIE notify, responder SPI zero, 1..64 bytes of data.
  assert.deepEqual(cookieResp!.types, [Pt.N]);
  assert.equal(hex(cookieResp!.header.spiR), "0000000000000000");
  const c = cookieResp!.notify(Nt.COOKIE)!.data;
  assert.ok(c.length >= 1 && c.length <= 64, `cookie of ${c.length} bytes`);
  const halfOpen = s.r.ikeSas(s.now).length;
  // While cookies are on, cookie-less requests create no state.
  for (let k = 0; k < 300; k++) {
    const f = flooder(BRANCH.address);
    s.r.handle(f.init(), GW, { address: BRANCH.address, port: 20000 + k }, s.now);
  }
  assert.equal(s.r.ikeSas(s.now).length, halfOpen, "no half-open SA without a valid cookie");
  // The real initiator follows the challenge and completes IKE_SA_INIT and IKE_AUTH.
  const first = s.i.readInit(oneSend(s.feed([s.i.init()])));
  assert.equal(first.kind, "cookie");
  const retry = s.i.init();
  assert.equal(decodeMessage(retry).payloads[0]!.type, Pt.N, "§2.6: COOKIE first");
  // The same cookie from another address is challenged again, not accepted.
  const stolen = plain(
    oneSend(s.r.handle(retry, GW, { address: "192.0.2.77", port: 500 }, s.now)),
  );
  assert.ok(stolen.notify(Nt.COOKIE) !== undefined || stolen.errors.length > 0);
  assert.equal(stolen.first(Pt.SA), undefined, "a cookie is bound to the address it was sent to");
  // A tampered cookie is challenged again.
  const bent = retry.slice();
  bent[28 + 8]! ^= 0xff;
  assert.equal(plain(oneSend(s.feed([bent]))).first(Pt.SA), undefined);
  const done = s.i.readInit(oneSend(s.feed([retry])));
  assert.equal(done.kind, "done", JSON.stringify(done));
  const auth = s.answer(s.i.auth(), (d) => s.i.readAuth(d));
  assert.deepEqual(auth.errors, []);
});

Deno.test("IKE_SA_INIT: a higher major version gets INVALID_MAJOR_VERSION or nothing, never state", () => {
  const s = new V2Setup();
  const m = s.i.init().slice();
  m[17] = 0x30; // version 3.0
  for (const d of sends(s.feed([m])).map((x) => x.datagram)) {
    const r = plain(d);
    assert.deepEqual(r.errors, [Nt.INVALID_MAJOR_VERSION], "§2.5");
  }
  assert.equal(s.r.ikeSas(s.now).length, 0);
});
