/**
 * The IKE SA table shared by both versions (src/ike/ike_sa_table.ts): entries tagged by
 * version and keyed by (version, SPI pair), lookups by peer across versions, half-open counts,
 * and the global half-open limits counting across IKEv1 and IKEv2 through the dual engine.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/parse.ts";
import type { IkeAction, IkePolicy } from "../../../src/ike/actions.ts";
import { MemoryCredentials } from "../../../src/ike/auth/credentials.ts";
import { createIkeEngine } from "../../../src/ike/engine.ts";
import { IkeSaTable } from "../../../src/ike/ike_sa_table.ts";
import { IkeSa } from "../../../src/ike/sa.ts";
import { HalfOpenTable, MAX_HALF_OPEN } from "../../../src/ike/v1/half_open.ts";
import type { IkeSaV2, SaStateV2 } from "../../../src/ike/v2/sa.ts";
import { V2Initiator } from "../../exchange/initiator_v2/initiator.ts";
import { cidr4 } from "../../exchange/initiator_v2/wire.ts";
import { Phase1Initiator } from "../../exchange/initiator/phase1.ts";

const GW = { address: "192.0.2.1", port: 500 };
const V1_PSK = "a key for roaming users";
const V2_PSK = "ikev2-table-psk-0001";

function v1Sa(n: number, source: string): IkeSa {
  const ckyI = new Uint8Array(8).fill(n);
  return new IkeSa("main", ckyI, new Uint8Array(8), GW, { address: source, port: 500 }, 0);
}

/**
 * The table only reads `key`, `peer` and `state` of an IKEv2 SA; a full one needs derived keys,
 * which this table test does not exercise.
 */
function v2Sa(key: string, state: SaStateV2, peer?: string): IkeSaV2 {
  const p = peer === undefined ? undefined : { name: peer };
  return { key, state, peer: p } as unknown as IkeSaV2;
}

Deno.test("IKE SA table: both versions, tagged; the same SPI pair in each does not collide", () => {
  const t = new IkeSaTable();
  const a = v1Sa(1, "198.51.100.1");
  t.v1.set(a.key, a);
  const b = v2Sa(a.key, { kind: "deleted" });
  t.v2.set(b.key, b);
  assert.equal(t.size, 2);
  assert.equal(t.v1.get(a.key), a);
  assert.equal(t.v2.get(a.key), b);
  assert.deepEqual(t.entries().map((e) => e.version), [1, 2]);
  assert.equal(t.v2.delete(a.key), true);
  assert.equal(t.v1.has(a.key), true);
  assert.equal(t.v2.has(a.key), false);
  assert.equal(t.size, 1);
});

Deno.test("IKE SA table: lookup by peer name across versions", () => {
  const t = new IkeSaTable();
  const a = v1Sa(1, "198.51.100.1");
  a.peer = { name: "hq" } as IkeSa["peer"];
  const b = v1Sa(2, "198.51.100.2");
  t.v1.set(a.key, a);
  t.v1.set(b.key, b);
  const c = v2Sa("c:c", { kind: "deleted" }, "hq");
  const d = v2Sa("d:d", { kind: "deleted" }, "other");
  t.v2.set(c.key, c);
  t.v2.set(d.key, d);
  assert.deepEqual(t.byPeer("hq").map((e) => [e.version, e.sa]), [[1, a], [2, c]]);
  assert.deepEqual(t.v1.byPeer("hq"), [a]);
  assert.deepEqual(t.v2.byPeer("other"), [d]);
  assert.deepEqual(t.byPeer("nobody"), []);
});

Deno.test("IKE SA table: half-open counts both versions; established and deleted do not count", () => {
  const t = new IkeSaTable();
  const a = v1Sa(1, "198.51.100.1");
  const b = v1Sa(2, "198.51.100.2");
  b.state = "ESTABLISHED";
  const c = v1Sa(3, "198.51.100.3");
  c.state = "DELETED";
  for (const s of [a, b, c]) t.v1.set(s.key, s);
  t.v2.set("h:h", v2Sa("h:h", { kind: "half-open" } as SaStateV2));
  t.v2.set("e:e", v2Sa("e:e", { kind: "established" } as SaStateV2, "hq"));
  assert.equal(t.v1.halfOpen(), 1);
  assert.equal(t.v2.halfOpen(), 1);
  assert.equal(t.halfOpen(), 2);
});

Deno.test("IKEv1 total half-open cap counts the IKEv2 half-open SAs of the shared table", () => {
  const t = new IkeSaTable();
  for (let i = 0; i < MAX_HALF_OPEN; i++) {
    const k = `${i}:0`;
    t.v2.set(k, v2Sa(k, { kind: "half-open" } as SaStateV2));
  }
  const h = new HalfOpenTable();
  // Without the other version's SAs the first message 1 would be admitted.
  assert.deepEqual(h.admit("203.0.113.9", false), { ok: true });
  assert.deepEqual(h.admit("203.0.113.9", false, t.v2.halfOpen()), {
    ok: false,
    reason: "half-open-total",
  });
  // A configured peer's own address is never locked out by the total.
  assert.deepEqual(h.admit("192.0.2.2", true, t.v2.halfOpen()), { ok: true });
});

function dualPolicy(): IkePolicy {
  const text = `
[gateway]
listen = ["192.0.2.1"]

[[peer]]
name = "roam"
remote = "%any"
psk = "${V1_PSK}"
ike_proposals = ["aes128-sha256-modp2048"]
esp_proposals = ["aes128gcm16"]
local_ts = ["10.1.0.0/16"]
remote_ts = ["10.9.0.0/16"]

[[peer]]
name = "hq"
remote = "%any"
ike_version = 2
psk = "${V2_PSK}"
remote_id = "branch.example.net"
ike_proposals = ["aes128gcm16-prfsha256-ecp256"]
esp_proposals = ["aes128gcm16"]
local_ts = ["10.1.0.0/16"]
remote_ts = ["10.2.0.0/16"]
`;
  const r = parseConfig(text);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  const enc = (s: string) => new TextEncoder().encode(s);
  return {
    config: r.config,
    credentials: new MemoryCredentials(new Map([["roam", enc(V1_PSK)], ["hq", enc(V2_PSK)]])),
  };
}

const sends = (a: IkeAction[]) => a.flatMap((x) => x.kind === "send" ? [x.datagram] : []);

Deno.test("dual engine: IKEv1 half-open SAs count toward the IKEv2 COOKIE threshold", () => {
  const e = createIkeEngine(dualPolicy(), { v2: { cookieThreshold: 3 } });
  const v2Peer = { address: "192.0.2.2", port: 500 };
  const i2 = () =>
    new V2Initiator({
      psk: V2_PSK,
      self: v2Peer,
      responder: GW,
      ike: ["aes128gcm16-prfsha256-ecp256"],
      esp: ["aes128gcm16"],
      id: { type: 2, data: new TextEncoder().encode("branch.example.net") },
      tsi: [cidr4("10.2.0.0/16")],
      tsr: [cidr4("10.1.0.0/16")],
    });
  // Below the threshold an IKE_SA_INIT is answered normally.
  const first = i2();
  assert.equal(first.readInit(sends(e.handle(first.init(), GW, v2Peer, 1))[0]!).kind, "done");
  // Two IKEv1 message 1s from other sources: 1 + 2 half-open SAs, across the versions.
  for (let k = 0; k < 2; k++) {
    const from = { address: `198.51.100.${10 + k}`, port: 500 };
    const mm1 = new Phase1Initiator({ psk: V1_PSK, self: from, responder: GW }).mm1();
    assert.equal(sends(e.handle(mm1, GW, from, 2 + k)).length, 1);
  }
  assert.deepEqual(e.ikeSas(5).map((s) => s.version).sort(), [1, 1, 2]);
  const next = i2();
  assert.equal(next.readInit(sends(e.handle(next.init(), GW, v2Peer, 6))[0]!).kind, "cookie");
});
