/**
 * RFC 3948 demultiplexing of the shared UDP 4500 port.
 */

import assert from "node:assert/strict";
import { addNonEspMarker, classifyPort4500, NAT_KEEPALIVE } from "../../../src/esp/udp_encap.ts";

const ike = Uint8Array.from({ length: 28 }, (_, i) => i + 1); // an IKE header's worth

Deno.test("keepalive, IKE behind the Non-ESP Marker, and ESP are told apart", () => {
  assert.equal(classifyPort4500(NAT_KEEPALIVE, 0, 1), "keepalive");
  const out = new Uint8Array(64);
  const n = addNonEspMarker(ike, out);
  assert.equal(n, 32);
  assert.deepEqual([...out.subarray(0, 4)], [0, 0, 0, 0]);
  assert.equal(classifyPort4500(out, 0, n), "ike");
  const esp = new Uint8Array([0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 1, 9, 9]);
  assert.equal(classifyPort4500(esp, 0, esp.length), "esp");
  // Offsets inside a larger receive buffer work the same.
  const big = new Uint8Array(100);
  big.set(esp, 50);
  assert.equal(classifyPort4500(big, 50, esp.length), "esp");
});

Deno.test("malformed datagrams are invalid, never thrown", () => {
  assert.equal(classifyPort4500(new Uint8Array([0]), 0, 1), "invalid");
  assert.equal(classifyPort4500(new Uint8Array(3), 0, 3), "invalid");
  assert.equal(classifyPort4500(new Uint8Array(10), 0, 10), "invalid"); // marker, too short for IKE
  assert.equal(classifyPort4500(new Uint8Array([1, 2, 3, 4, 5]), 0, 5), "invalid"); // short ESP
  assert.equal(classifyPort4500(new Uint8Array(4), 2, 4), "invalid"); // past the end
  assert.equal(classifyPort4500(new Uint8Array(4), 0, 0), "invalid");
  assert.throws(() => addNonEspMarker(ike, new Uint8Array(10)), /too small/);
});
