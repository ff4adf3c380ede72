/**
 * IKEv1 golden bytes (tests/vectors/ike/v1_golden.json, assembled from the RFC layouts): each
 * vector decodes to the structure written out here, and encoding that structure gives the
 * golden bytes back.
 */

import assert from "node:assert/strict";
import {
  type DecodedPayloadV1,
  decodeV1Message,
  decodeV1Payloads,
  encodeV1Message,
  encodeV1Payloads,
  HEADER_LENGTH,
  payloadTypeV1,
  type PayloadV1,
} from "../../../../src/ike/message/v1/mod.ts";
import { content, loadGolden, plain, unhex } from "./helpers.ts";

const GOLDEN = loadGolden("v1_golden.json");
const u = unhex;
const I = "0123456789abcdef", R = "fedcba9876543210";

const EXPECTED: Record<string, PayloadV1[]> = {
  "main mode message 1: SA with two KEY_IKE transforms, NAT-T and DPD VIDs": [
    {
      kind: "sa",
      doi: 1,
      situation: 1,
      proposals: [{
        number: 1,
        protocol: 1,
        spi: u(""),
        transforms: [
          {
            number: 1,
            id: 1,
            attributes: [
              { type: 1, value: 7 },
              { type: 14, value: 128 },
              { type: 2, value: 4 },
              { type: 3, value: 1 },
              { type: 4, value: 14 },
              { type: 11, value: 1 },
              { type: 12, value: u("00007080") },
            ],
          },
          {
            number: 2,
            id: 1,
            attributes: [
              { type: 1, value: 5 },
              { type: 2, value: 2 },
              { type: 3, value: 1 },
              { type: 4, value: 2 },
              { type: 11, value: 1 },
              { type: 12, value: 3600 },
            ],
          },
        ],
      }],
    },
    { kind: "vid", data: u("4a131c81070358455c5728f20e95452f") },
    { kind: "vid", data: u("afcad71368a1f1c96b8696fc77570100") },
  ],
  "main mode message 3: KE, NONCE, NAT-D (20) and NAT-D (draft 130)": [
    { kind: "ke", data: u("aa".repeat(32)) },
    { kind: "nonce", data: u("bb".repeat(16)) },
    { kind: "nat-d", type: 20, hash: u("cc".repeat(20)) },
    { kind: "nat-d", type: 130, hash: u("dd".repeat(20)) },
  ],
  "quick mode message 1, decrypted: HASH(1), ESP SA with SPI, Ni, KE, IDci, IDcr, NAT-OA x2, padding":
    [
      { kind: "hash", data: u("11".repeat(32)) },
      {
        kind: "sa",
        doi: 1,
        situation: 1,
        proposals: [{
          number: 1,
          protocol: 3,
          spi: u("c0ffee01"),
          transforms: [{
            number: 1,
            id: 12,
            attributes: [
              { type: 1, value: 1 },
              { type: 2, value: u("00000e10") },
              { type: 4, value: 1 },
              { type: 5, value: 5 },
              { type: 6, value: 256 },
              { type: 3, value: 14 },
            ],
          }],
        }],
      },
      { kind: "nonce", data: u("22".repeat(16)) },
      { kind: "ke", data: u("33".repeat(32)) },
      { kind: "id", idType: 4, protocol: 0, port: 0, data: u("c0000200ffffff00") },
      { kind: "id", idType: 7, protocol: 17, port: 1701, data: u("c6336400c63364ff") },
      { kind: "nat-oa", type: 21, idType: 1, address: u("c0000201") },
      { kind: "nat-oa", type: 21, idType: 5, address: u("20010db8000000000000000000000001") },
    ],
  "informational, decrypted: HASH, INITIAL-CONTACT, Delete of two ESP SPIs, DPD R-U-THERE": [
    { kind: "hash", data: u("44".repeat(20)) },
    { kind: "n", doi: 1, protocol: 1, spi: u(I + R), notifyType: 24578, data: u("") },
    { kind: "d", doi: 1, protocol: 3, spiSize: 4, spis: [u("c0ffee01"), u("c0ffee02")] },
    { kind: "n", doi: 1, protocol: 1, spi: u(I + R), notifyType: 36136, data: u("0000002a") },
  ],
  "chain with ID (FQDN), CERT, CR, SIG, an unknown payload type and mode-config ATTR": [
    {
      kind: "id",
      idType: 2,
      protocol: 17,
      port: 500,
      data: new TextEncoder().encode("vpn.example.com"),
    },
    { kind: "cert", encoding: 4, data: u("3003020101") },
    { kind: "cr", encoding: 4, data: u("300a3108300606035504030c00") },
    { kind: "sig", data: u("55".repeat(8)) },
    { kind: "unknown", type: 77, data: u("deadbeef") },
    {
      kind: "attr",
      cfgType: 1,
      identifier: 0x1234,
      attributes: [
        { type: 1, value: u("") },
        { type: 7, value: u("6267") },
        { type: 16520, value: 0 },
      ],
    },
  ],
  "SA with a labeled situation (SECRECY|INTEGRITY), ESP+AH AND-proposal, and an SA of an unknown DOI":
    [
      {
        kind: "sa",
        doi: 1,
        situation: 7,
        labels: u(
          "00000000" + "00030000" + "01020300" + "00090000" + "ff800000" + "0000000000000000",
        ),
        proposals: [
          {
            number: 1,
            protocol: 3,
            spi: u("00000101"),
            transforms: [{ number: 1, id: 3, attributes: [] }],
          },
          {
            number: 1,
            protocol: 2,
            spi: u("00000102"),
            transforms: [{ number: 1, id: 5, attributes: [] }],
          },
        ],
      },
      { kind: "sa", doi: 2, situation: 0, proposals: [], opaque: u("00000001cafe") },
    ],
};

/** Checks the payload views: raw = generic header + body, at `offset` of `whole` (from `base`). */
function checkViews(payloads: readonly DecodedPayloadV1[], whole: Uint8Array, base: number): void {
  for (const p of payloads) {
    assert.equal(p.raw.length, p.body.length + 4);
    assert.deepEqual(p.raw, whole.subarray(p.offset - base, p.offset - base + p.raw.length));
    assert.deepEqual(p.raw.subarray(4), p.body);
    assert.equal((p.raw[2]! << 8) | p.raw[3]!, p.raw.length);
  }
}

for (const [name, { vector: v, bytes }] of GOLDEN) {
  Deno.test(`IKEv1 golden: ${name}`, () => {
    const expected = EXPECTED[name];
    assert.ok(expected, `no expectation for ${name}`);
    let payloads: readonly DecodedPayloadV1[];
    if (v.kind === "message") {
      const r = decodeV1Message(bytes);
      assert.ok(r.ok, r.ok ? "" : r.error.message);
      assert.equal(r.value.encrypted, false);
      if (r.value.encrypted) return;
      payloads = r.value.payloads;
      checkViews(payloads, bytes, 0);
      const h = r.value.header;
      const again = encodeV1Message(
        { spiI: h.spiI, spiR: h.spiR, exchangeType: h.exchangeType, flags: h.flags, messageId: 0 },
        expected,
      );
      assert.deepEqual(again, bytes);
    } else {
      const r = decodeV1Payloads(v.first!, bytes, HEADER_LENGTH);
      assert.ok(r.ok, r.ok ? "" : r.error.message);
      payloads = r.value.payloads;
      checkViews(payloads, bytes, HEADER_LENGTH);
      const enc = encodeV1Payloads(expected);
      assert.deepEqual(enc, r.value.bytes);
      assert.deepEqual(plain(r.value.padding), plain(bytes.subarray(enc.length)));
    }
    assert.deepEqual(payloads.map(content), expected.map(content));
    assert.deepEqual(payloads.map((p) => p.type), expected.map(payloadTypeV1));
  });
}
