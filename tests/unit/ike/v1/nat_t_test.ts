/** NAT-D hashes (RFC 3947 §3.2) against node:crypto, and detection both ways. */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { getCrypto } from "../../../../src/crypto/registry.ts";
import { detectNat, natDHash } from "../../../../src/ike/v1/nat_t.ts";

const c = getCrypto();
const ckyI = new Uint8Array(8).fill(0x11);
const ckyR = new Uint8Array(8).fill(0x22);
const ref = (ip: number[], port: number) =>
  new Uint8Array(
    createHash("sha1").update(ckyI).update(ckyR).update(Uint8Array.from(ip)).update(
      Uint8Array.of(port >> 8, port & 255),
    ).digest(),
  );
const gw = { address: "192.0.2.1", port: 500 };
const peer = { address: "192.0.2.2", port: 500 };

Deno.test("natDHash = HASH(CKY-I | CKY-R | IP | Port)", () => {
  assert.deepEqual(natDHash(c, "sha1", ckyI, ckyR, gw), ref([192, 0, 2, 1], 500));
  assert.equal(natDHash(c, "sha1", ckyI, ckyR, { address: "not-an-ip", port: 1 }), undefined);
});

Deno.test("detectNat: no NAT, peer behind NAT, us behind NAT, too few hashes", () => {
  const us = ref([192, 0, 2, 1], 500);
  const them = ref([192, 0, 2, 2], 500);
  const other = ref([198, 51, 100, 5], 500);
  assert.deepEqual(detectNat(c, "sha1", ckyI, ckyR, [us, them], gw, peer), {
    selfBehindNat: false,
    peerBehindNat: false,
  });
  assert.deepEqual(detectNat(c, "sha1", ckyI, ckyR, [us, other], gw, peer), {
    selfBehindNat: false,
    peerBehindNat: true,
  });
  assert.deepEqual(detectNat(c, "sha1", ckyI, ckyR, [other, them], gw, peer), {
    selfBehindNat: true,
    peerBehindNat: false,
  });
  assert.equal(detectNat(c, "sha1", ckyI, ckyR, [us], gw, peer), undefined);
});
