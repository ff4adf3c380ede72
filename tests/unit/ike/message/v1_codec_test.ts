/**
 * IKEv1 codec behaviour beyond the golden bytes: encrypted bodies, hashing helpers, typed errors
 * naming payload and offset for malformed input, and the attribute helpers.
 */

import assert from "node:assert/strict";
import {
  attributeNumber,
  bytesAfterPayload,
  decodeAttributes,
  decodeV1Message,
  decodeV1Payloads,
  encodeAttributes,
  encodeV1Chain,
  encodeV1EncryptedMessage,
  encodeV1Message,
  ExchangeTypeV1,
  FlagV1,
  nameOf,
  NotifyTypeV1,
  numberAttribute,
  PayloadTypeV1,
  type PayloadV1,
} from "../../../../src/ike/message/v1/mod.ts";
import { DecodeError } from "../../../../src/ike/message/errors.ts";
import { loadGolden, tohex, unhex } from "./helpers.ts";

const GOLDEN = loadGolden("v1_golden.json");
const golden = (prefix: string) =>
  [...GOLDEN.values()].find((g) => g.vector.name.startsWith(prefix))!;
const HDR = { spiI: unhex("0123456789abcdef"), spiR: unhex("fedcba9876543210"), messageId: 7 };

/** Asserts a decode failure with the given code, payload name and offset. */
function fails(
  r: { ok: true } | { ok: false; error: DecodeError },
  code: string,
  payload: string,
  offset: number,
): void {
  assert.equal(r.ok, false, "expected a decode error");
  if (r.ok) return;
  assert.ok(r.error instanceof DecodeError);
  assert.deepEqual(
    { code: r.error.code, payload: r.error.payload, offset: r.error.offset },
    { code, payload, offset },
    r.error.message,
  );
}

/** Re-frames a chain as a plaintext Main Mode message. */
function message(payloads: PayloadV1[]): Uint8Array {
  return encodeV1Message({ ...HDR, exchangeType: 2, flags: 0 }, payloads);
}

Deno.test("IKEv1: an encrypted message exposes header and ciphertext; the plaintext decodes after", () => {
  const chain = golden("informational").bytes;
  const ct = unhex("99".repeat(48));
  const msg = encodeV1EncryptedMessage(
    { ...HDR, exchangeType: ExchangeTypeV1.INFORMATIONAL, flags: 0 },
    PayloadTypeV1.HASH,
    ct,
  );
  const r = decodeV1Message(msg);
  assert.ok(r.ok);
  assert.equal(r.value.encrypted, true);
  if (!r.value.encrypted) return;
  assert.equal(r.value.header.flags & FlagV1.ENCRYPTION, FlagV1.ENCRYPTION);
  assert.equal(r.value.header.nextPayload, PayloadTypeV1.HASH);
  assert.equal(r.value.header.messageId, 7);
  assert.deepEqual(r.value.body, ct);
  // What the responder does after decrypting: decode the plaintext with padding allowed.
  const padded = Uint8Array.of(...chain, 0, 0, 0, 0, 0, 0, 0, 7);
  const p = decodeV1Payloads(r.value.header.nextPayload, padded);
  assert.ok(p.ok);
  assert.equal(p.value.payloads.length, 4);
  assert.equal(tohex(p.value.padding), "0000000000000007");
});

Deno.test("IKEv1: bytesAfterPayload is the rest of the chain after HASH, padding excluded", () => {
  const g = golden("quick mode").bytes; // 3 octets of padding at the end
  const r = decodeV1Payloads(PayloadTypeV1.HASH, g);
  assert.ok(r.ok);
  const hash = r.value.payloads[0]!;
  assert.equal(hash.kind, "hash");
  assert.deepEqual(bytesAfterPayload(r.value, hash), g.subarray(hash.raw.length, g.length - 3));
  const last = r.value.payloads.at(-1)!;
  assert.equal(bytesAfterPayload(r.value, last).length, 0);
});

Deno.test("IKEv1: encodeV1Chain spans let a HASH be patched over the payloads after it", () => {
  const rest: PayloadV1[] = [
    { kind: "nonce", data: unhex("aa".repeat(16)) },
    { kind: "id", idType: 1, protocol: 0, port: 0, data: unhex("c0000201") },
  ];
  const c = encodeV1Chain([{ kind: "hash", data: new Uint8Array(20) }, ...rest]);
  assert.equal(c.firstType, PayloadTypeV1.HASH);
  assert.deepEqual(c.spans.map((s) => [s.type, s.offset, s.bodyOffset, s.length]), [
    [8, 0, 4, 24],
    [10, 24, 28, 20],
    [5, 44, 48, 12],
  ]);
  assert.deepEqual(c.bytes.subarray(c.spans[1]!.offset), encodeV1Chain(rest).bytes);
  c.bytes.set(unhex("5a".repeat(20)), c.spans[0]!.bodyOffset);
  const r = decodeV1Payloads(c.firstType, c.bytes);
  assert.ok(r.ok);
  const h = r.value.payloads[0]!;
  assert.ok(h.kind === "hash");
  assert.equal(tohex(h.data), "5a".repeat(20));
});

Deno.test("IKEv1: a plaintext message must not carry bytes after its last payload", () => {
  const msg = message([{ kind: "vid", data: unhex("01020304") }]);
  const padded = Uint8Array.of(...msg, 0, 0, 0, 0);
  padded[27] = padded.length; // header length covers the extra bytes
  fails(decodeV1Message(padded), "trailing-bytes", "payload chain", msg.length);
});

Deno.test("IKEv1: a major version other than 1 is reported as bad-version", () => {
  const msg = message([{ kind: "vid", data: unhex("01") }]);
  msg[17] = 0x20;
  fails(decodeV1Message(msg), "bad-version", "header", 17);
});

Deno.test("IKEv1: payload lengths are checked and errors name payload and offset", () => {
  const msg = message([
    { kind: "vid", data: unhex("01020304") },
    { kind: "nonce", data: unhex("aa".repeat(16)) },
  ]);
  // NONCE starts at 28 + 8 = 36; its length field at 38.
  const long = msg.slice();
  long[39] = 21 + 4; // one octet beyond the message
  fails(decodeV1Message(long), "truncated", "NONCE", 38);
  const short = msg.slice();
  short[39] = 3;
  fails(decodeV1Message(short), "bad-length", "NONCE", 38);
  // The chain announces a payload after the last one but the message ends.
  const more = msg.slice();
  more[36] = PayloadTypeV1.KE;
  fails(decodeV1Message(more), "truncated", "payload chain", 56);
});

Deno.test("IKEv1: SA structure errors (transform chaining, counts, trailing bytes)", () => {
  const sa: PayloadV1 = {
    kind: "sa",
    doi: 1,
    situation: 1,
    proposals: [{
      number: 1,
      protocol: 3,
      spi: unhex("01020304"),
      transforms: [
        { number: 1, id: 12, attributes: [{ type: 6, value: 128 }] },
        { number: 2, id: 3, attributes: [] },
      ],
    }],
  };
  const msg = message([sa]);
  // SA at 28, body 32..; proposal at 40; proposal body 44: number, protocol, SPI size, count.
  assert.ok(decodeV1Message(msg).ok);
  const first = 52; // first transform's generic header
  const badNext = msg.slice();
  badNext[first] = PayloadTypeV1.NONCE;
  fails(decodeV1Message(badNext), "bad-syntax", "Transform", first);
  const fewer = msg.slice();
  fewer[47] = 1; // claims one transform, two are present
  fails(decodeV1Message(fewer), "bad-syntax", "Transform", first);
  const moreT = msg.slice();
  moreT[47] = 3; // claims three transforms: the second one says it is the last
  fails(decodeV1Message(moreT), "bad-syntax", "Transform", 64);
  const badProposal = msg.slice();
  badProposal[40] = PayloadTypeV1.TRANSFORM;
  fails(decodeV1Message(badProposal), "bad-syntax", "Proposal", 40);
  const bigSpi = msg.slice();
  bigSpi[46] = 200;
  fails(decodeV1Message(bigSpi), "truncated", "Proposal", 48);
});

Deno.test("IKEv1: a Proposal or Transform outside an SA payload is a syntax error", () => {
  const msg = message([{ kind: "unknown", type: PayloadTypeV1.PROPOSAL, data: unhex("00") }]);
  fails(decodeV1Message(msg), "bad-syntax", "Proposal", 28);
});

Deno.test("IKEv1: attributes cut short inside a transform are rejected", () => {
  const msg = message([{
    kind: "attr",
    cfgType: 2,
    identifier: 1,
    attributes: [{ type: 1, value: unhex("c0000201") }],
  }]);
  const cut = msg.slice();
  cut[39] = 8; // TLV length 8, only 4 octets left
  fails(decodeV1Message(cut), "truncated", "ATTR", 40);
});

Deno.test("IKEv1: Delete SPI count must fill the payload; NAT-OA address must fit its type", () => {
  const del = message([{
    kind: "d",
    doi: 1,
    protocol: 3,
    spiSize: 4,
    spis: [unhex("00000001"), unhex("00000002")],
  }]);
  const extra = del.slice();
  extra[39] = 1; // one SPI announced, two present
  fails(decodeV1Message(extra), "trailing-bytes", "D", 44);
  const oa = message([{ kind: "nat-oa", idType: 1, address: unhex("c0000201") }]);
  const v6 = oa.slice();
  v6[32] = 5;
  fails(decodeV1Message(v6), "bad-length", "NAT-OA", 32);
  const fqdn = oa.slice();
  fqdn[32] = 2;
  fails(decodeV1Message(fqdn), "bad-syntax", "NAT-OA", 32);
});

Deno.test("IKEv1: unknown payload types and registry numbers round-trip, names are open-ended", () => {
  const payloads: PayloadV1[] = [
    { kind: "unknown", type: 200, data: unhex("0102") },
    { kind: "n", doi: 1, protocol: 3, spi: unhex(""), notifyType: 40000, data: unhex("ff") },
  ];
  const r = decodeV1Message(message(payloads));
  assert.ok(r.ok && !r.value.encrypted);
  assert.deepEqual(r.value.payloads.map((p) => p.type), [200, PayloadTypeV1.N]);
  assert.equal(nameOf(NotifyTypeV1, 36136), "R_U_THERE");
  assert.equal(nameOf(NotifyTypeV1, 40000), "UNKNOWN_40000");
  assert.equal(nameOf(ExchangeTypeV1, 32), "QUICK_MODE");
});

Deno.test("IKEv1: attribute helpers read TV and TLV numbers and pick the short form", () => {
  assert.equal(attributeNumber({ type: 12, value: 3600 }), 3600);
  assert.equal(attributeNumber({ type: 12, value: unhex("00015180") }), 86400);
  assert.equal(attributeNumber({ type: 12, value: unhex("") }), undefined);
  assert.equal(attributeNumber({ type: 12, value: unhex("0102030405060708") }), undefined);
  assert.deepEqual(numberAttribute(2, 28800), { type: 2, value: 28800 });
  assert.deepEqual(numberAttribute(2, 86400), { type: 2, value: unhex("00015180") });
  assert.throws(() => numberAttribute(2, -1));
});

Deno.test("IKEv1: encoders refuse values their fields cannot hold", () => {
  assert.throws(() =>
    message([{ kind: "id", idType: 256, protocol: 0, port: 0, data: unhex("") }])
  );
  assert.throws(() =>
    message([{ kind: "d", doi: 1, protocol: 3, spiSize: 4, spis: [unhex("01")] }])
  );
  assert.throws(() => message([{ kind: "vid", data: new Uint8Array(65532) }]));
});

Deno.test("IKEv1: RESPONDER-LIFETIME data (RFC 2407 §4.6.3.1) as a standalone attribute list", () => {
  // Life type seconds (TV), duration 3600 as a 4-octet TLV, life type kilobytes, 100000 KB.
  const golden = unhex("80010001" + "00020004" + "00000e10" + "80010002" + "00020004" + "000186a0");
  const attrs = decodeAttributes(golden, 40);
  assert.ok(attrs.ok);
  assert.deepEqual(attrs.value.map(attributeNumber), [1, 3600, 2, 100000]);
  assert.equal(tohex(encodeAttributes(attrs.value)), tohex(golden));
  fails(decodeAttributes(golden.subarray(0, 10), 40), "truncated", "attributes", 48);
});
