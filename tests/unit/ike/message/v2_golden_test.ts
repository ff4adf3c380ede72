/**
 * IKEv2 golden bytes (tests/vectors/ike/v2_golden.json, assembled from the RFC layouts): each
 * vector decodes to the structure written out here, and encoding it gives the bytes back.
 */

import assert from "node:assert/strict";
import {
  type DecodedPayloadV2,
  decodeV2Message,
  decodeV2Payloads,
  encodeV2Message,
  encodeV2Payloads,
  HEADER_LENGTH,
  payloadTypeV2,
  type PayloadV2,
} from "../../../../src/ike/message/v2/mod.ts";
import { content, loadGolden, tohex, unhex } from "./helpers.ts";

const GOLDEN = loadGolden("v2_golden.json");
const u = unhex;
const text = (s: string) => new TextEncoder().encode(s);

const EXPECTED: Record<string, PayloadV2[]> = {
  "IKE_SA_INIT request: SA with AES-GCM/ECP and AES-CBC/X25519 proposals, KE, Nonce, COOKIE, V, CERTREQ":
    [
      {
        kind: "sa",
        proposals: [
          {
            number: 1,
            protocol: 1,
            spi: u(""),
            transforms: [
              { type: 1, id: 20, attributes: [{ type: 14, value: 256 }] },
              { type: 2, id: 7, attributes: [] },
              { type: 4, id: 19, attributes: [] },
            ],
          },
          {
            number: 2,
            protocol: 1,
            spi: u(""),
            transforms: [
              { type: 1, id: 12, attributes: [{ type: 14, value: 128 }] },
              { type: 3, id: 12, attributes: [] },
              { type: 2, id: 5, attributes: [] },
              { type: 4, id: 31, attributes: [] },
            ],
          },
        ],
      },
      { kind: "ke", group: 19, data: u("ab".repeat(64)) },
      { kind: "nonce", data: u("cd".repeat(32)) },
      { kind: "n", protocol: 0, spi: u(""), notifyType: 16390, data: u("0102030405060708") },
      { kind: "v", data: u("882fe56d6fd20dbc2251613b2ebe5beb") },
      { kind: "certreq", encoding: 4, data: u("11".repeat(20) + "22".repeat(20)) },
    ],
  "IKE_AUTH request contents: IDi, CERT, AUTH, CP, ESP SA with ESN, TSi (IPv4+IPv6), TSr (IPv4+other type), N":
    [
      { kind: "idi", idType: 2, data: text("branch.example.com") },
      { kind: "cert", encoding: 4, data: u("3003020101") },
      { kind: "auth", method: 2, data: u("ee".repeat(32)) },
      {
        kind: "cp",
        cfgType: 1,
        attributes: [
          { type: 1, value: u("") },
          { type: 3, value: u("") },
          { type: 13, value: u("c0000200ffffff00") },
        ],
      },
      {
        kind: "sa",
        proposals: [{
          number: 1,
          protocol: 3,
          spi: u("c0ffee01"),
          transforms: [
            { type: 1, id: 20, attributes: [{ type: 14, value: 128 }] },
            { type: 5, id: 0, attributes: [] },
          ],
        }],
      },
      {
        kind: "tsi",
        selectors: [
          {
            tsType: 7,
            protocol: 0,
            startPort: 0,
            endPort: 65535,
            start: u("c6336400"),
            end: u("c63364ff"),
          },
          {
            tsType: 8,
            protocol: 17,
            startPort: 500,
            endPort: 500,
            start: u("20010db8" + "00".repeat(12)),
            end: u("20010db8" + "ff".repeat(12)),
          },
        ],
      },
      {
        kind: "tsr",
        selectors: [
          {
            tsType: 7,
            protocol: 6,
            startPort: 80,
            endPort: 443,
            start: u("cb007100"),
            end: u("cb0071ff"),
          },
          { tsType: 9, octet2: 0, data: u("0011223344556677") },
        ],
      },
      { kind: "n", protocol: 3, spi: u("c0ffee01"), notifyType: 16391, data: u("") },
    ],
  "EAP request and success, Delete of ESP SPIs and of the IKE SA, an unknown non-critical payload, a critical Nonce":
    [
      { kind: "eap", code: 1, identifier: 7, eapType: 1, data: text("alice") },
      { kind: "eap", code: 3, identifier: 7, data: u("") },
      { kind: "d", protocol: 3, spiSize: 4, spis: [u("c0ffee01"), u("c0ffee02")] },
      { kind: "d", protocol: 1, spiSize: 0, spis: [] },
      { kind: "unknown", type: 200, data: u("0badc0de") },
      { kind: "nonce", critical: true, data: u("5a".repeat(16)) },
    ],
  "IKE_AUTH fragment 1 of 3 (SKF) naming IDi as the first inner payload": [
    {
      kind: "skf",
      next: 35,
      fragmentNumber: 1,
      totalFragments: 3,
      data: u("00112233445566778899aabbccddeeff" + "77".repeat(32) + "99".repeat(16)),
    },
  ],
  "INFORMATIONAL response: empty SK payload (IV, one ciphertext octet, ICV)": [
    { kind: "sk", next: 0, data: u("0102030405060708" + "a5" + "c3".repeat(16)) },
  ],
};

function checkViews(payloads: readonly DecodedPayloadV2[], whole: Uint8Array, base: number): void {
  for (const p of payloads) {
    assert.equal(p.raw.length, p.body.length + 4);
    assert.deepEqual(p.raw, whole.subarray(p.offset - base, p.offset - base + p.raw.length));
    assert.equal(p.critical, (p.raw[1]! & 0x80) !== 0);
  }
}

for (const [name, { vector: v, bytes }] of GOLDEN) {
  Deno.test(`IKEv2 golden: ${name}`, () => {
    const expected = EXPECTED[name];
    assert.ok(expected, `no expectation for ${name}`);
    let payloads: readonly DecodedPayloadV2[];
    if (v.kind === "message") {
      const r = decodeV2Message(bytes);
      assert.ok(r.ok, r.ok ? "" : r.error.message);
      payloads = r.value.payloads;
      checkViews(payloads, bytes, 0);
      const h = r.value.header;
      assert.equal(r.value.encrypted, payloads.find((p) => p.kind === "sk" || p.kind === "skf"));
      assert.equal(tohex(encodeV2Message(h, expected)), tohex(bytes));
    } else {
      const r = decodeV2Payloads(v.first!, bytes, HEADER_LENGTH);
      assert.ok(r.ok, r.ok ? "" : r.error.message);
      payloads = r.value.payloads;
      checkViews(payloads, bytes, HEADER_LENGTH);
      assert.equal(tohex(encodeV2Payloads(expected)), tohex(bytes));
    }
    assert.deepEqual(payloads.map(content), expected.map(content));
    assert.deepEqual(payloads.map((p) => p.type), expected.map(payloadTypeV2));
    assert.deepEqual(payloads.map((p) => p.critical), expected.map((p) => p.critical === true));
  });
}
