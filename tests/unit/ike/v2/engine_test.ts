/**
 * The IKEv2 responder (through the dual-version engine) against the independent scripted
 * initiator of tests/exchange/initiator_v2/: IKE_SA_INIT + IKE_AUTH(PSK) + first CHILD_SA,
 * retransmissions answered from the stored response, INVALID_KE round trip, COOKIE under load,
 * CREATE_CHILD_SA (new child, rekey with PFS, IKE SA rekey moving children), liveness, Deletes.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../../../src/config/parse.ts";
import type { IkeAction, IkePolicy } from "../../../../src/ike/actions.ts";
import { MemoryCredentials } from "../../../../src/ike/auth/credentials.ts";
import { createIkeEngine } from "../../../../src/ike/engine.ts";
import { V2Initiator } from "../../../exchange/initiator_v2/initiator.ts";
import { cidr4 } from "../../../exchange/initiator_v2/wire.ts";

const GW = { address: "192.0.2.1", port: 500 };
const PEER = { address: "192.0.2.2", port: 500 };
const PSK = "ikev2-unit-psk-0001";

function policy(extra = ""): IkePolicy {
  const text = `
[gateway]
listen = ["192.0.2.1"]

[[peer]]
name = "hq"
remote = "%any"
ike_version = 2
psk = "${PSK}"
remote_id = "branch.example.net"
ike_proposals = ["aes128gcm16-prfsha256-ecp256", "aes256-sha256-modp3072"]
esp_proposals = ["aes128gcm16", "aes256-sha256-modp2048"]
local_ts = ["10.1.0.0/16"]
remote_ts = ["10.2.0.0/16"]
${extra}
`;
  const r = parseConfig(text);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return {
    config: r.config,
    credentials: new MemoryCredentials(new Map([["hq", new TextEncoder().encode(PSK)]])),
  };
}

const sends = (a: IkeAction[]) => a.filter((x) => x.kind === "send").map((x) => x.datagram);
const installs = (a: IkeAction[]) => a.filter((x) => x.kind === "installSa");
const events = (a: IkeAction[]) =>
  a.filter((x) => x.kind === "event").map((x) => x.kind === "event" ? x.message : "");

function initiator(o: Partial<ConstructorParameters<typeof V2Initiator>[0]> = {}) {
  return new V2Initiator({
    psk: PSK,
    self: PEER,
    responder: GW,
    ike: ["aes128gcm16-prfsha256-ecp256"],
    esp: ["aes128gcm16"],
    id: { type: 2, data: new TextEncoder().encode("branch.example.net") },
    tsi: [cidr4("10.2.0.0/16")],
    tsr: [cidr4("10.1.0.0/16")],
    ...o,
  });
}

function establish(i: V2Initiator, e = createIkeEngine(policy()), now = 1000) {
  const r1 = sends(e.handle(i.init(), GW, PEER, now));
  assert.equal(r1.length, 1);
  const init = i.readInit(r1[0]!);
  assert.equal(init.kind, "done");
  const [auth] = i.auth();
  const out = e.handle(auth!, GW, PEER, now + 10);
  const resp = sends(out);
  assert.equal(resp.length, 1, events(out).join("; "));
  const r = i.readAuth(resp[0]!);
  assert.ok(r !== undefined);
  assert.deepEqual(r.errors, []);
  return { e, out, auth: auth! };
}

Deno.test("IKEv2: IKE_SA_INIT, IKE_AUTH with PSK by identity (%any), first CHILD_SA", () => {
  const i = initiator();
  const { e, out, auth } = establish(i);
  assert.equal(installs(out).length, 2);
  assert.equal(i.children.length, 1);
  const sas = e.ikeSas(2000);
  assert.equal(sas.length, 1);
  assert.equal(sas[0]!.version, 2);
  assert.equal(sas[0]!.state, "ESTABLISHED");
  assert.equal(sas[0]!.algorithms, "aes128gcm16-prfsha256-ecp256");
  const kids = e.childSas(2000);
  assert.equal(kids.length, 1);
  assert.equal(kids[0]!.transform, "aes128gcm16");
  assert.equal(kids[0]!.localTs, "10.1.0.0/16");
  // Retransmitted IKE_AUTH: the same answer, nothing installed again.
  const again = e.handle(auth, GW, PEER, 3000);
  assert.equal(sends(again).length, 1);
  assert.equal(installs(again).length, 0);
  assert.equal(e.peerStates(3000)[0]!.state, "up");
});

Deno.test("IKEv2: wrong PSK is AUTHENTICATION_FAILED and leaves nothing", () => {
  const i = initiator({ psk: "not-the-right-psk-01" });
  const e = createIkeEngine(policy());
  i.readInit(sends(e.handle(i.init(), GW, PEER, 0))[0]!);
  const out = e.handle(i.auth()[0]!, GW, PEER, 10);
  const r = i.readAuth(sends(out)[0]!);
  assert.deepEqual(r?.errors, [24]);
  assert.equal(installs(out).length, 0);
  assert.equal(e.ikeSas(20).length, 0);
});

Deno.test("IKEv2: INVALID_KE_PAYLOAD names our group; the retry succeeds", () => {
  const i = initiator({ ike: ["aes128gcm16-prfsha256-ecp256"], keGroup: 14 });
  const e = createIkeEngine(policy());
  const r = i.readInit(sends(e.handle(i.init(), GW, PEER, 0))[0]!);
  assert.deepEqual(r, { kind: "invalidKe", group: 19 });
  const r2 = i.readInit(sends(e.handle(i.init(), GW, PEER, 5))[0]!);
  assert.equal(r2.kind, "done");
});

Deno.test("IKEv2: TS outside local_ts/remote_ts is TS_UNACCEPTABLE; the IKE SA stays", () => {
  const i = initiator({ tsi: [cidr4("172.16.0.0/16")] });
  const e = createIkeEngine(policy());
  i.readInit(sends(e.handle(i.init(), GW, PEER, 0))[0]!);
  const out = e.handle(i.auth()[0]!, GW, PEER, 10);
  const r = i.readAuth(sends(out)[0]!);
  assert.deepEqual(r?.errors, [38]);
  assert.equal(e.ikeSas(20)[0]?.state, "ESTABLISHED");
  assert.equal(e.childSas(20).length, 0);
});

Deno.test("IKEv2: CREATE_CHILD_SA child rekey with PFS, IKE SA rekey moves children, Deletes", () => {
  const i = initiator();
  const { e } = establish(i);
  const first = i.children[0]!;
  // Child rekey with PFS (modp2048 proposal).
  const req = i.createChild({ esp: ["aes256-sha256-modp2048"], pfs: 14, rekey: first });
  const out = e.handle(req[0]!, GW, PEER, 5000);
  const r = i.readCreateChild(sends(out)[0]!);
  assert.deepEqual(r?.errors, [], events(out).join("; "));
  assert.equal(installs(out).length, 2);
  assert.equal(e.childSas(5000).length, 2);
  // The initiator deletes the old child; we answer with our inbound SPI.
  const del = e.handle(i.deleteChildren([first])[0]!, GW, PEER, 6000);
  const dr = i.readResponse(sends(del)[0]!);
  assert.ok(dr !== undefined);
  assert.equal(del.filter((a) => a.kind === "deleteSa").length, 2);
  assert.equal(e.childSas(6000).length, 1);
  // IKE SA rekey: the child moves to the new SA; deleting the old SA keeps it.
  const rk = e.handle(i.rekeyIke({ ike: ["aes256-sha256-modp3072"] })[0]!, GW, PEER, 7000);
  const rr = i.readCreateChild(sends(rk)[0]!);
  assert.deepEqual(rr?.errors, [], events(rk).join("; "));
  assert.equal(e.ikeSas(7000).length, 2);
  const gone = e.handle(i.deleteIke()[0]!, GW, PEER, 8000);
  i.readResponse(sends(gone)[0]!);
  i.dropOld();
  assert.equal(e.ikeSas(8000).length, 1);
  assert.equal(e.ikeSas(8000)[0]!.algorithms, "aes256-sha256-prfsha256-modp3072");
  assert.equal(e.childSas(8000).length, 1);
  assert.equal(gone.filter((a) => a.kind === "deleteSa").length, 0);
  // Liveness on the new SA.
  const live = e.handle(i.informational()[0]!, GW, PEER, 9000);
  assert.ok(i.readResponse(sends(live)[0]!) !== undefined);
  // Delete of the IKE SA removes its children.
  const end = e.handle(i.deleteIke()[0]!, GW, PEER, 10000);
  assert.equal(end.filter((a) => a.kind === "deleteSa").length, 2);
  assert.equal(e.ikeSas(10000).length, 0);
});

Deno.test("IKEv2: COOKIE once half-open SAs reach the threshold", () => {
  const e = createIkeEngine(policy(), { v2: { cookieThreshold: 2 } });
  for (let k = 0; k < 2; k++) {
    const i = initiator();
    assert.equal(i.readInit(sends(e.handle(i.init(), GW, PEER, k))[0]!).kind, "done");
  }
  const i = initiator();
  assert.equal(i.readInit(sends(e.handle(i.init(), GW, PEER, 10))[0]!).kind, "cookie");
  assert.equal(e.ikeSas(10).length, 2);
  assert.equal(i.readInit(sends(e.handle(i.init(), GW, PEER, 11))[0]!).kind, "done");
});

Deno.test("IKEv2: liveness from our side; a silent peer is declared dead", () => {
  const i = initiator();
  const { e } = establish(i, createIkeEngine(policy("dpd_delay = 10\ndpd_timeout = 40")), 0);
  const probe = e.tick(10_100);
  const req = sends(probe);
  assert.equal(req.length, 1);
  const answer = i.respond(req[0]!);
  e.handle(answer[0]!, GW, PEER, 10_200);
  assert.equal(sends(e.tick(10_300)).length, 0);
  assert.equal(sends(e.tick(20_300)).length, 1);
  const dead = e.tick(70_000);
  assert.ok(events(dead).some((m) => m.includes("dead peer")), events(dead).join("; "));
  assert.equal(e.ikeSas(70_000).length, 0);
});

Deno.test("IKEv2: a version 3 request gets INVALID_MAJOR_VERSION; a version 3 response nothing", () => {
  const e = createIkeEngine(policy());
  const d = initiator().init();
  const v3 = d.slice();
  v3[17] = 0x30;
  const out = sends(e.handle(v3, GW, PEER, 0));
  assert.equal(out.length, 1);
  assert.equal(out[0]![17], 0x20);
  assert.equal(out[0]![19]! & 0x20, 0x20, "a response");
  // Notify type 5 (INVALID_MAJOR_VERSION) right after the Notify header's protocol/SPI size.
  assert.equal((out[0]![28 + 6]! << 8) | out[0]![28 + 7]!, 5);
  const resp = v3.slice();
  resp[19] = resp[19]! | 0x20;
  assert.equal(sends(e.handle(resp, GW, PEER, 1)).length, 0);
  assert.equal(e.ikeSas(1).length, 0);
});
