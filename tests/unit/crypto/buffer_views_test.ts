/**
 * The libcrypto packet contexts reach `buf[offset…]` through reused views (buffer_views.ts):
 * the views are reused and bounded, and AEAD, CBC and MAC results at many offsets inside shared
 * buffers (and inside subarrays of them) equal the software backend's on fresh copies.
 */

import assert from "node:assert/strict";
import { sizeArg, viewFrom } from "../../../src/crypto/buffer_views.ts";
import { createOpenSslBackend } from "../../../src/crypto/openssl.ts";
import { createSoftwareBackend } from "../../../src/crypto/software.ts";

const ssl = createOpenSslBackend()!;
const soft = createSoftwareBackend();

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + 3) & 0xff);
}

Deno.test("viewFrom: one view per buffer and offset, reused; subarrays share them; bounded", () => {
  const whole = bytes(256, 1);
  const a = viewFrom(whole, 10);
  assert.equal(viewFrom(whole, 10), a);
  assert.equal(a[0], whole[10]);
  assert.equal(viewFrom(whole, 0), whole);
  const sub = whole.subarray(4);
  assert.equal(viewFrom(sub, 6), a, "same memory, same view");
  for (let off = 1; off < 100; off++) assert.equal(viewFrom(whole, off)[0], whole[off]);
  assert.equal(viewFrom(whole, 77)[5], whole[82]);
  assert.equal(sizeArg(1400), 1400n);
  assert.equal(sizeArg(100_000), 100_000n);
});

Deno.test("AES-GCM at many offsets of one buffer equals the software backend; tags checked", () => {
  const key = bytes(16, 2);
  const nonce = bytes(12, 3);
  const aad = bytes(8, 4);
  const e = ssl.aead("aes128gcm16", key)!;
  const s = soft.aead("aes128gcm16", key)!;
  const shared = new Uint8Array(4096);
  const region = shared.subarray(100);
  for (const [offset, length] of [[0, 64], [24, 100], [24, 1400], [31, 17], [24, 0]] as const) {
    const plain = bytes(length, offset);
    region.set(plain, offset);
    e.seal(nonce, aad, region, offset, length);
    const ref = new Uint8Array(length + 16);
    ref.set(plain);
    s.seal(nonce, aad, ref, 0, length);
    assert.deepEqual(region.slice(offset, offset + length + 16), ref, `seal @${offset}+${length}`);
    assert.ok(e.open(nonce, aad, region, offset, length));
    assert.deepEqual(region.slice(offset, offset + length), plain);
    // A changed tag byte fails.
    region.set(ref, offset);
    region[offset + length + 15]! ^= 1;
    assert.equal(e.open(nonce, aad, region, offset, length), false);
  }
  e.dispose();
  s.dispose();
});

Deno.test("AES-CBC and HMAC-SHA-256-128 at offsets inside a shared buffer equal the software backend", () => {
  const key = bytes(16, 5);
  const iv = bytes(16, 6);
  const e = ssl.cipher("aes128cbc", key)!;
  const s = soft.cipher("aes128cbc", key)!;
  const m = ssl.mac("hmac-sha256-128", bytes(32, 7))!;
  const ms = soft.mac("hmac-sha256-128", bytes(32, 7))!;
  const shared = new Uint8Array(4096);
  for (const [offset, length] of [[8, 64], [24, 1408], [40, 16]] as const) {
    const plain = bytes(length, offset);
    shared.set(plain, offset);
    e.encrypt(iv, shared, offset, length);
    const ref = plain.slice();
    s.encrypt(iv, ref, 0, length);
    assert.deepEqual(shared.slice(offset, offset + length), ref);
    const icv = new Uint8Array(20);
    m.computeInto(shared, offset, length, icv, 2);
    assert.deepEqual(icv.slice(2, 18), ms.compute(ref));
    e.decrypt(iv, shared, offset, length);
    assert.deepEqual(shared.slice(offset, offset + length), plain);
  }
  for (const x of [e, s, m, ms]) x.dispose();
});
