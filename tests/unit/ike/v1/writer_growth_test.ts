/** The codec's Writer grows its buffer while writing bytes (an Aggressive Mode message 2 > 512 B). */

import assert from "node:assert/strict";
import { Writer } from "../../../../src/ike/message/writer.ts";
import { encodeV1Chain } from "../../../../src/ike/message/v1/mod.ts";

Deno.test("Writer.bytes and zeros across a buffer growth keep every byte", () => {
  const w = new Writer(4);
  w.u16(0x0102);
  const big = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  w.bytes(big).zeros(9).u8(7);
  const out = w.finish();
  assert.equal(out.length, 2 + 300 + 9 + 1);
  assert.deepEqual(out.subarray(2, 302), big);
  assert.ok(out.subarray(302, 311).every((b) => b === 0));
  assert.equal(out[311], 7);
});

Deno.test("encodeV1Chain of a KE past 512 bytes", () => {
  const ke = Uint8Array.from({ length: 256 }, (_, i) => i);
  const nonce = new Uint8Array(300).fill(5);
  const enc = encodeV1Chain([{ kind: "nonce", data: nonce }, { kind: "ke", data: ke }]);
  assert.equal(enc.bytes.length, 4 + 300 + 4 + 256);
  assert.deepEqual(enc.bytes.subarray(308), ke);
});

Deno.test("Writer.u8 that makes the buffer grow lands in the new buffer", () => {
  // Found by an IKEv2 CREATE_CHILD_SA answer with a MODP-3072 KE: a TS type octet written at
  // the growth boundary was lost (read back as 0).
  const w = new Writer(2);
  w.u16(0x0102).u8(0xab).u8(0xcd);
  assert.deepEqual([...w.finish()], [1, 2, 0xab, 0xcd]);
});
