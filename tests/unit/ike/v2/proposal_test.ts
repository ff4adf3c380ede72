/** IKEv2 proposal selection over every offer, from the shared keyword vocabulary. */

import assert from "node:assert/strict";
import { numberAttribute } from "../../../../src/ike/message/attributes.ts";
import type { ProposalV2, SaPayloadV2 } from "../../../../src/ike/message/v2/types.ts";
import { parseV2Proposals, selectEspV2, selectIkeV2 } from "../../../../src/ike/v2/proposal.ts";

const t = (type: number, id: number, bits?: number) => ({
  type,
  id,
  attributes: bits === undefined ? [] : [numberAttribute(14, bits)],
});
const prop = (n: number, protocol: number, spi: Uint8Array, ts: ProposalV2["transforms"]) => ({
  number: n,
  protocol,
  spi,
  transforms: ts,
});

Deno.test("IKE: the second offered proposal matches the second configured one", () => {
  const sa: SaPayloadV2 = {
    kind: "sa",
    proposals: [
      prop(1, 1, new Uint8Array(0), [t(1, 12, 192), t(2, 7), t(3, 14), t(4, 21)]),
      prop(2, 1, new Uint8Array(0), [t(1, 20, 128), t(1, 20, 256), t(2, 5), t(4, 14), t(4, 19)]),
    ],
  };
  const r = selectIkeV2(
    sa,
    parseV2Proposals(["aes256-sha256-modp3072", "aes128gcm16-prfsha256-ecp256"], "ike"),
  );
  assert.ok(r.ok);
  assert.equal(r.alg.text, "aes128gcm16-prfsha256-ecp256");
  assert.equal(r.alg.group, 19);
  assert.deepEqual(r.answer.transforms.map((x) => [x.type, x.id]), [[1, 20], [2, 5], [4, 19]]);
});

Deno.test("IKE: CBC proposal implies the PRF from the integrity keyword; mismatch names both", () => {
  const sa: SaPayloadV2 = {
    kind: "sa",
    proposals: [prop(1, 1, new Uint8Array(0), [t(1, 12, 256), t(2, 5), t(3, 12), t(4, 15)])],
  };
  const ok = selectIkeV2(sa, parseV2Proposals(["aes256-sha256-modp3072"], "ike"));
  assert.ok(ok.ok);
  assert.equal(ok.alg.prf, "hmac-sha256");
  assert.equal(ok.alg.integ, "hmac-sha256-128");
  const bad = selectIkeV2(sa, parseV2Proposals(["aes128-sha1-modp2048"], "ike"));
  assert.ok(!bad.ok);
  assert.equal(bad.offered, "aes256-sha256-prfsha256-modp3072");
  assert.equal(bad.configured, "aes128-sha1-modp2048");
});

Deno.test("ESP: IKE_AUTH ignores offered DH; CREATE_CHILD_SA needs the configured PFS group", () => {
  const spi = Uint8Array.of(1, 2, 3, 4);
  const sa: SaPayloadV2 = {
    kind: "sa",
    proposals: [prop(1, 3, spi, [t(1, 28), t(4, 31), t(5, 0)])],
  };
  const conf = parseV2Proposals(["chacha20poly1305-curve25519"], "esp");
  const auth = selectEspV2(sa, conf, "none");
  assert.ok(auth.ok);
  assert.equal(auth.alg.group, 0);
  assert.deepEqual(auth.answer.transforms.map((x) => x.type), [1, 5]);
  const child = selectEspV2(sa, conf, "as-configured");
  assert.ok(child.ok);
  assert.equal(child.alg.group, 31);
  assert.equal(child.alg.text, "chacha20poly1305-curve25519");
  const noPfs: SaPayloadV2 = { kind: "sa", proposals: [prop(1, 3, spi, [t(1, 28), t(5, 0)])] };
  assert.equal(selectEspV2(noPfs, conf, "as-configured").ok, false);
});
