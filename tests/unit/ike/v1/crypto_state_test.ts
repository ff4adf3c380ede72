/** IV chain helpers against IVs computed independently with node:crypto (RFC 2409 App. B). */

import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import { getCrypto } from "../../../../src/crypto/registry.ts";
import { IkeSa } from "../../../../src/ike/sa.ts";
import {
  decryptBody,
  DecryptError,
  encryptBody,
  messageIv,
} from "../../../../src/ike/v1/crypto_state.ts";

const c = getCrypto();
const key = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const iv = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

Deno.test("encryptBody: zero padding to the block, AES-CBC as node computes, next IV = last block", () => {
  const plain = Uint8Array.from({ length: 20 }, (_, i) => i);
  const e = encryptBody(c, "aes128cbc", key, iv, plain);
  const padded = new Uint8Array(32);
  padded.set(plain);
  const ref = createCipheriv("aes-128-cbc", key, iv).setAutoPadding(false);
  const want = new Uint8Array(Buffer.concat([ref.update(padded), ref.final()]));
  assert.deepEqual(e.ciphertext, want);
  assert.deepEqual(e.nextIv, want.slice(16));
  const d = decryptBody(c, "aes128cbc", key, iv, e.ciphertext);
  assert.deepEqual(d.plaintext, padded);
  assert.deepEqual(d.nextIv, want.slice(16));
});

Deno.test("decryptBody: bad lengths are typed errors and the input is not modified", () => {
  assert.throws(() => decryptBody(c, "aes128cbc", key, iv, new Uint8Array(0)), DecryptError);
  assert.throws(() => decryptBody(c, "aes128cbc", key, iv, new Uint8Array(17)), DecryptError);
  assert.throws(
    () => decryptBody(c, "aes128cbc", key, new Uint8Array(8), new Uint8Array(16)),
    DecryptError,
  );
  const body = Uint8Array.from({ length: 32 }, (_, i) => i);
  const copy = body.slice();
  decryptBody(c, "aes128cbc", key, iv, body);
  assert.deepEqual(body, copy);
});

Deno.test("messageIv: hash(last Phase 1 block | M-ID) truncated, then the chained IV", () => {
  const sa = new IkeSa(
    "main",
    new Uint8Array(8).fill(1),
    new Uint8Array(8).fill(2),
    {
      address: "192.0.2.1",
      port: 500,
    },
    { address: "192.0.2.2", port: 500 },
    0,
  );
  sa.alg = {
    cipher: "aes128cbc",
    keyLength: 16,
    hash: "sha256",
    prf: "hmac-sha256",
    group: 14,
    auth: "psk",
    lifetimeSeconds: 3600,
    lifetimeKilobytes: 0,
    text: "aes128-sha256-modp2048",
  };
  sa.lastPhase1Block = iv;
  const want = createHash("sha256").update(iv).update(Uint8Array.of(0xde, 0xad, 0xbe, 0xef))
    .digest().subarray(0, 16);
  assert.deepEqual(messageIv(c, sa, 0xdeadbeef), new Uint8Array(want));
  const chained = new Uint8Array(16).fill(7);
  sa.messages.set(0xdeadbeef, { iv: chained, touched: 0 });
  assert.deepEqual(messageIv(c, sa, 0xdeadbeef), chained);
});
