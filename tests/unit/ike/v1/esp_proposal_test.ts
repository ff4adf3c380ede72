import assert from "node:assert/strict";
import {
  isEspMismatch,
  parseEspProposals,
  readEspTransform,
  selectEsp,
} from "../../../../src/ike/v1/esp_proposal.ts";
import {
  EncapsulationV1,
  EspTransformV1,
  IpsecAttrV1,
  IpsecAuthV1,
  LifeTypeV1,
  ProtocolV1,
} from "../../../../src/ike/message/v1/registry.ts";
import type { DataAttribute } from "../../../../src/ike/message/attributes.ts";
import type { ProposalV1, SaPayloadV1, TransformV1 } from "../../../../src/ike/message/v1/types.ts";

const A = IpsecAttrV1;
const attr = (type: number, value: number | Uint8Array): DataAttribute => ({ type, value });
const life = (seconds: number): DataAttribute[] => [
  attr(A.SA_LIFE_TYPE, LifeTypeV1.SECONDS),
  attr(A.SA_LIFE_DURATION, seconds),
];
const tf = (number: number, id: number, attributes: DataAttribute[]): TransformV1 => ({
  number,
  id,
  attributes,
});
const prop = (number: number, transforms: TransformV1[], protocol = 3): ProposalV1 => ({
  number,
  protocol,
  spi: Uint8Array.of(0xca, 0xfe, 0x00, 0x01),
  transforms,
});
const sa = (...proposals: ProposalV1[]): SaPayloadV1 => ({
  kind: "sa",
  doi: 1,
  situation: 1,
  proposals,
});
const gcm = (bits: number, extra: DataAttribute[] = []) =>
  tf(1, EspTransformV1.AES_GCM_16, [
    ...life(3600),
    attr(A.ENCAPSULATION_MODE, EncapsulationV1.TUNNEL),
    attr(A.KEY_LENGTH, bits),
    ...extra,
  ]);
const cbc = (bits: number, auth: number, extra: DataAttribute[] = []) =>
  tf(1, EspTransformV1.AES_CBC, [
    ...life(3600),
    attr(A.ENCAPSULATION_MODE, EncapsulationV1.TUNNEL),
    attr(A.AUTH_ALGORITHM, auth),
    attr(A.KEY_LENGTH, bits),
    ...extra,
  ]);
const limits = { seconds: 3600, bytes: 0 };

Deno.test("strongSwan-style offers map to transforms and names", () => {
  const g = readEspTransform(gcm(256));
  assert.ok(g.ok);
  assert.deepEqual(g.transform, { kind: "aead", alg: "aes256gcm16" });
  assert.equal(g.name, "aes256gcm16");
  const c = readEspTransform(cbc(128, IpsecAuthV1.HMAC_SHA2_256, [attr(A.GROUP_DESCRIPTION, 14)]));
  assert.ok(c.ok);
  assert.deepEqual(c.transform, {
    kind: "cipher+mac",
    cipher: "aes128cbc",
    mac: "hmac-sha256-128",
  });
  assert.equal(c.name, "aes128-sha256-modp2048");
  assert.equal(c.group, 14);
  const u = readEspTransform(gcm(128, [attr(A.ENCAPSULATION_MODE, EncapsulationV1.UDP_TUNNEL)]));
  assert.ok(u.ok && u.udpEncap);
  const d = readEspTransform(gcm(128, [attr(A.ENCAPSULATION_MODE, 61443)]));
  assert.ok(d.ok && d.udpEncap);
});

Deno.test("unusable transforms say why", () => {
  const cases: [TransformV1, RegExp][] = [
    [gcm(128, [attr(A.ENCAPSULATION_MODE, EncapsulationV1.TRANSPORT)]), /encapsulation mode 2/],
    [gcm(128, [attr(A.AUTH_ALGORITHM, IpsecAuthV1.HMAC_SHA)]), /with an AEAD/],
    [tf(1, EspTransformV1.AES_CBC, [attr(A.KEY_LENGTH, 128)]), /no integrity/],
    [tf(1, EspTransformV1.DES, [attr(A.AUTH_ALGORITHM, 1)]), /cipher des/],
    [gcm(128, [attr(A.KEY_ROUNDS, 3)]), /attribute 7/],
    [gcm(128, [attr(A.GROUP_DESCRIPTION, 1)]), /group 1/],
  ];
  for (const [t, re] of cases) {
    const o = readEspTransform(t);
    assert.ok(!o.ok);
    assert.match(o.reason, re);
  }
});

Deno.test("first acceptable transform in the peer's order wins", () => {
  const cfg = parseEspProposals(["aes128gcm16", "aes256-sha256"]);
  const offer = sa(
    prop(1, [
      cbc(128, IpsecAuthV1.HMAC_SHA),
      { ...cbc(256, IpsecAuthV1.HMAC_SHA2_256), number: 2 },
      { ...gcm(128), number: 3 },
    ]),
  );
  const s = selectEsp(offer, cfg, limits);
  assert.ok(!isEspMismatch(s));
  assert.equal(s.transformName, "aes256-sha256");
  assert.equal(s.chosen.number, 2);
  assert.equal(s.peerSpi, 0xcafe0001);
  assert.equal(s.pfsGroup, 0);
  assert.equal(s.responderLifetime, undefined);
  assert.equal(s.seconds, 3600);
});

Deno.test("PFS group must match the configured one", () => {
  const pfs = parseEspProposals(["aes128gcm16-modp2048"]);
  const none = parseEspProposals(["aes128gcm16"]);
  const withGroup = sa(prop(1, [gcm(128, [attr(A.GROUP_DESCRIPTION, 14)])]));
  const withoutGroup = sa(prop(1, [gcm(128)]));
  const a = selectEsp(withGroup, pfs, limits);
  assert.ok(!isEspMismatch(a));
  assert.equal(a.pfsGroup, 14);
  assert.ok(isEspMismatch(selectEsp(withoutGroup, pfs, limits)));
  assert.ok(isEspMismatch(selectEsp(withGroup, none, limits)));
  const ecp = selectEsp(
    sa(prop(1, [gcm(256, [attr(A.GROUP_DESCRIPTION, 19)])])),
    parseEspProposals(["aes256gcm16-ecp256-modp2048"]),
    limits,
  );
  assert.ok(!isEspMismatch(ecp) && ecp.pfsGroup === 19);
});

Deno.test("mismatch lists offered and configured", () => {
  const m = selectEsp(
    sa(prop(1, [cbc(128, IpsecAuthV1.HMAC_SHA), { ...gcm(128, [attr(A.KEY_ROUNDS, 1)]) }])),
    parseEspProposals(["aes256gcm16"]),
    limits,
  );
  assert.ok(isEspMismatch(m));
  assert.deepEqual(m.configured, ["aes256gcm16"]);
  assert.equal(m.offered[0], "aes128-sha1");
  assert.match(m.offered[1]!, /^aes128gcm16 \(attribute 7/);
});

Deno.test("AH bundles and non-ESP proposals are not chosen", () => {
  const cfg = parseEspProposals(["aes128gcm16"]);
  const bundle = sa(prop(1, [tf(1, 3, [])], ProtocolV1.AH), prop(1, [gcm(128)]));
  assert.ok(isEspMismatch(selectEsp(bundle, cfg, limits)));
  const badSpi = sa({ ...prop(1, [gcm(128)]), spi: Uint8Array.of(0, 0, 0, 9) });
  assert.ok(isEspMismatch(selectEsp(badSpi, cfg, limits)));
});

Deno.test("lifetimes: bounded by ours, RESPONDER-LIFETIME when lowered", () => {
  const cfg = parseEspProposals(["aes128gcm16"]);
  const long = sa(prop(1, [tf(1, EspTransformV1.AES_GCM_16, [
    ...life(86400),
    attr(A.SA_LIFE_TYPE, LifeTypeV1.KILOBYTES),
    attr(A.SA_LIFE_DURATION, Uint8Array.of(0, 0x10, 0, 0)), // 1 GiB in kB, TLV form
    attr(A.KEY_LENGTH, 128),
  ])]));
  const s = selectEsp(long, cfg, { seconds: 3600, bytes: 512 * 1024 * 1024 });
  assert.ok(!isEspMismatch(s));
  assert.equal(s.seconds, 3600);
  assert.equal(s.bytes, 512 * 1024 * 1024);
  assert.deepEqual(s.responderLifetime, [
    { type: A.SA_LIFE_TYPE, value: LifeTypeV1.SECONDS },
    { type: A.SA_LIFE_DURATION, value: 3600 },
    { type: A.SA_LIFE_TYPE, value: LifeTypeV1.KILOBYTES },
    { type: A.SA_LIFE_DURATION, value: Uint8Array.of(0, 8, 0, 0) },
  ]);
  // Shorter than ours: kept, nothing to announce.
  const short = selectEsp(sa(prop(1, [gcm(128)])), cfg, { seconds: 7200, bytes: 0 });
  assert.ok(!isEspMismatch(short));
  assert.equal(short.seconds, 3600);
  assert.equal(short.responderLifetime, undefined);
  // No lifetime offered: the RFC 2407 default 28800 s, lowered to ours.
  const dflt = selectEsp(
    sa(prop(1, [tf(1, EspTransformV1.AES_GCM_16, [attr(A.KEY_LENGTH, 128)])])),
    cfg,
    limits,
  );
  assert.ok(!isEspMismatch(dflt));
  assert.equal(dflt.seconds, 3600);
  assert.ok(dflt.responderLifetime !== undefined);
});

Deno.test("configured keywords this data path lacks match nothing", () => {
  const [c] = parseEspProposals(["3des-md5"]);
  assert.ok(c !== undefined);
  assert.equal(c.ciphers.length + c.macs.length + c.aeads.length, 0);
  const [e] = parseEspProposals(["aes128-aes256-sha1-sha256-esn-noesn"]);
  assert.deepEqual(e?.ciphers, ["aes128cbc", "aes256cbc"]);
  assert.deepEqual(e?.esn, [true, false]);
});
