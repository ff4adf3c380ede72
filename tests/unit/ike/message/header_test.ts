import assert from "node:assert/strict";
import { decodeHeader, encodeMessage, FlagV1 } from "../../../../src/ike/message/header.ts";
import { DecodeError } from "../../../../src/ike/message/errors.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));

// RFC 2408 §3.1 layout written out by hand: cookies, next payload SA (1), version 1.0,
// Identity Protection (2), flags E, message ID, length 0x20 = 28 + 4 body bytes.
const GOLDEN = hex(
  "0102030405060708" + "1112131415161718" + "01" + "10" + "02" + "01" + "deadbeef" + "00000020" +
    "aabbccdd",
);

Deno.test("header: decodes the RFC 2408 §3.1 layout field by field", () => {
  const r = decodeHeader(GOLDEN);
  assert.ok(r.ok);
  const h = r.value;
  assert.deepEqual([...h.spiI], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...h.spiR], [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]);
  assert.equal(h.nextPayload, 1);
  assert.equal(h.majorVersion, 1);
  assert.equal(h.minorVersion, 0);
  assert.equal(h.exchangeType, 2);
  assert.equal(h.flags, FlagV1.ENCRYPTION);
  assert.equal(h.messageId, 0xdeadbeef);
  assert.equal(h.length, 32);
});

Deno.test("header: encodeMessage reproduces the golden bytes", () => {
  const r = decodeHeader(GOLDEN);
  assert.ok(r.ok);
  assert.deepEqual(encodeMessage(r.value, GOLDEN.subarray(28)), GOLDEN);
});

Deno.test("header: SPIs are copies, not views of the datagram", () => {
  const d = GOLDEN.slice();
  const r = decodeHeader(d);
  assert.ok(r.ok);
  d[0] = 0xff;
  assert.equal(r.value.spiI[0], 1);
});

Deno.test("header: length field checked against the datagram", () => {
  const cases: [Uint8Array, string, number][] = [
    [GOLDEN.subarray(0, 27), "truncated", 24],
    [GOLDEN.subarray(0, 31), "truncated", 24],
    [Uint8Array.of(...GOLDEN, 0), "bad-length", 24],
  ];
  const short = GOLDEN.slice();
  short[27] = 27;
  cases.push([short, "bad-length", 24]);
  for (const [bytes, code, offset] of cases) {
    const r = decodeHeader(bytes);
    assert.ok(!r.ok);
    assert.ok(r.error instanceof DecodeError);
    assert.equal(r.error.code, code);
    assert.equal(r.error.payload, "header");
    assert.equal(r.error.offset, offset);
  }
});

Deno.test("header: every prefix of a header is rejected, never thrown", () => {
  for (let n = 0; n < 28; n++) {
    const r = decodeHeader(GOLDEN.subarray(0, n));
    assert.equal(r.ok, false);
  }
});
