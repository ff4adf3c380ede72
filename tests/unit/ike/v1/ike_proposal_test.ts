/** Phase 1 proposal selection: order, key lengths, lifetimes bounded, mismatch description. */

import assert from "node:assert/strict";
import * as v from "valibot";
import { ConfigSchema, type PeerConfig } from "../../../../src/config/schema.ts";
import type { DataAttribute, SaPayloadV1 } from "../../../../src/ike/message/v1/mod.ts";
import { isIkeMismatch, selectIke } from "../../../../src/ike/v1/ike_proposal.ts";

function peer(over: Record<string, unknown>): PeerConfig {
  return v.parse(ConfigSchema, {
    peer: [{
      name: "p",
      remote: "192.0.2.2",
      psk: "12345678",
      local_ts: ["10.1.0.0/16"],
      remote_ts: ["10.2.0.0/16"],
      ...over,
    }],
  }).peer[0]!;
}
const a = (type: number, value: number | Uint8Array): DataAttribute => ({ type, value });
const t = (
  enc: number,
  len: number | undefined,
  hash: number,
  group: number,
  extra: DataAttribute[] = [],
) => [
  a(1, enc),
  ...(len === undefined ? [] : [a(14, len)]),
  a(2, hash),
  a(3, 1),
  a(4, group),
  ...extra,
];
const sa = (...ts: DataAttribute[][]): SaPayloadV1 => ({
  kind: "sa",
  doi: 1,
  situation: 1,
  proposals: [{
    number: 1,
    protocol: 1,
    spi: new Uint8Array(0),
    transforms: ts.map((attributes, i) => ({ number: i + 1, id: 1, attributes })),
  }],
});

Deno.test("selectIke: the first acceptable transform in the peer's order, answered alone", () => {
  const r = selectIke(
    sa(t(7, 128, 4, 14), t(7, 256, 4, 15), t(7, 256, 2, 19)),
    peer({ ike_proposals: ["aes256-sha256-modp3072", "aes256-sha1-ecp256"] }),
  );
  assert.ok(!isIkeMismatch(r));
  assert.equal(r.alg.text, "aes256-sha256-modp3072");
  assert.equal(r.alg.keyLength, 32);
  assert.equal(r.alg.prf, "hmac-sha256");
  assert.equal(r.response.proposals[0]!.transforms.length, 1);
  assert.equal(r.response.proposals[0]!.transforms[0]!.number, 2);
});

Deno.test("selectIke: lifetime in seconds (TLV too) honoured, bounded by ike_lifetime; kilobytes kept", () => {
  const p = peer({ ike_proposals: ["aes128-sha256-modp2048"], ike_lifetime: 7200 });
  const short = selectIke(sa(t(7, 128, 4, 14, [a(11, 1), a(12, 3600), a(11, 2), a(12, 1000)])), p);
  assert.ok(!isIkeMismatch(short));
  assert.equal(short.alg.lifetimeSeconds, 3600);
  assert.equal(short.alg.lifetimeKilobytes, 1000);
  const long = selectIke(
    sa(t(7, 128, 4, 14, [a(11, 1), a(12, Uint8Array.of(0, 1, 0x51, 0x80))])),
    p,
  );
  assert.ok(!isIkeMismatch(long));
  assert.equal(long.alg.lifetimeSeconds, 7200);
  const zero = selectIke(sa(t(7, 128, 4, 14, [a(11, 1), a(12, 0)])), p);
  assert.ok(!isIkeMismatch(zero));
  assert.equal(zero.alg.lifetimeSeconds, 7200);
  const none = selectIke(sa(t(7, 128, 4, 14)), p);
  assert.ok(!isIkeMismatch(none));
  assert.equal(none.alg.lifetimeSeconds, 7200);
});

Deno.test("selectIke: mismatch lists offered beside configured; non-PSK refused", () => {
  const r = selectIke(
    sa(t(5, undefined, 2, 2), t(7, 192, 6, 20)),
    peer({ ike_proposals: ["aes256-sha256-modp3072"] }),
  );
  assert.ok(isIkeMismatch(r));
  assert.equal(r.offered, "3des-sha1-modp1024/psk, aes192-sha512-ecp384/psk");
  assert.equal(r.configured, "aes256-sha256-modp3072");
  const rsa = selectIke(
    sa([a(1, 7), a(14, 128), a(2, 4), a(3, 3), a(4, 14)]),
    peer({ ike_proposals: ["aes128-sha256-modp2048"] }),
  );
  assert.ok(isIkeMismatch(rsa));
  assert.match(rsa.reason, /not PSK/);
});
