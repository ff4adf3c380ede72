/** Peer lookup by address and identity checks (RFC 2407 §4.6.2). */

import assert from "node:assert/strict";
import * as v from "valibot";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import {
  describeId,
  idAcceptable,
  idPayload,
  peersForAddress,
} from "../../../../src/ike/v1/policy.ts";

const base = { psk: "12345678", local_ts: ["10.1.0.0/16"], remote_ts: ["10.2.0.0/16"] };
const config = v.parse(ConfigSchema, {
  peer: [
    { name: "any1", remote: "%any", ...base },
    { name: "exact", remote: "192.0.2.2", ...base },
    { name: "v6", remote: "2001:db8::2", ...base },
  ],
});

Deno.test("peersForAddress: exact match first, then %any", () => {
  assert.deepEqual(peersForAddress(config, "192.0.2.2").map((p) => p.name), ["exact", "any1"]);
  assert.deepEqual(peersForAddress(config, "2001:db8:0::2").map((p) => p.name), ["v6", "any1"]);
  assert.deepEqual(peersForAddress(config, "203.0.113.1").map((p) => p.name), ["any1"]);
});

Deno.test("idPayload / describeId: address, FQDN, USER_FQDN, KEY_ID", () => {
  assert.equal(idPayload("192.0.2.9").idType, 1);
  assert.equal(idPayload("2001:db8::9").idType, 5);
  assert.equal(idPayload("gw.example").idType, 2);
  assert.equal(idPayload("ops@gw.example").idType, 3);
  const k = idPayload("keyid:abc");
  assert.equal(k.idType, 11);
  assert.equal(describeId(k), "keyid:abc");
  assert.equal(describeId(idPayload("192.0.2.9")), "192.0.2.9");
  assert.match(
    describeId({ kind: "id", idType: 1, protocol: 0, port: 0, data: new Uint8Array(3) }),
    /bad address/,
  );
});

Deno.test("idAcceptable: remote_id by type and value; protocol/port rules; none configured = any", () => {
  const p = config.peer[1]!;
  assert.equal(idAcceptable(p, idPayload("anything.example")), true);
  const withId = { ...p, remote_id: "Branch.Example" };
  assert.equal(idAcceptable(withId, idPayload("branch.example")), true);
  assert.equal(idAcceptable(withId, idPayload("other.example")), false);
  assert.equal(idAcceptable(withId, idPayload("ops@branch.example")), false);
  assert.equal(idAcceptable({ ...p, remote_id: "192.0.2.2" }, idPayload("192.0.2.2")), true);
  assert.equal(idAcceptable({ ...p, remote_id: "192.0.2.2" }, idPayload("192.0.2.3")), false);
  assert.equal(idAcceptable(p, { ...idPayload("a.example"), protocol: 6, port: 80 }), false);
  assert.equal(idAcceptable(p, { ...idPayload("a.example"), protocol: 17, port: 500 }), true);
});
