/**
 * Quick Mode KEYMAT per direction against vectors computed outside branchgate (Python
 * hmac/hashlib, tests/vectors/ike/quick_mode_keymat.json) and against node:crypto for the
 * split into cipher/integrity keys and AEAD key/salt.
 */

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { getCrypto } from "../../../../src/crypto/registry.ts";
import type { PrfAlg } from "../../../../src/crypto/types.ts";
import type { EspTransform } from "../../../../src/esp/sa_spec.ts";
import { deriveChildKeys, keyMaterialLength } from "../../../../src/ike/v1/keymat.ts";

interface Case {
  name: string;
  prf: PrfAlg;
  transform: EspTransform;
  skeyidD: string;
  ni: string;
  nr: string;
  gqmxy: string | null;
  inboundSpi: number;
  outboundSpi: number;
  inbound: string;
  outbound: string;
}

const vectors = JSON.parse(
  await Deno.readTextFile(new URL("../../../vectors/ike/quick_mode_keymat.json", import.meta.url)),
) as { cases: Case[] };
const unhex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

for (const v of vectors.cases) {
  Deno.test(`KEYMAT vector: ${v.name}`, () => {
    const keys = deriveChildKeys(getCrypto(), {
      prf: v.prf,
      skeyidD: unhex(v.skeyidD),
      transform: v.transform,
      inboundSpi: v.inboundSpi,
      outboundSpi: v.outboundSpi,
      ni: unhex(v.ni),
      nr: unhex(v.nr),
      ...(v.gqmxy === null ? {} : { gqmxy: unhex(v.gqmxy) }),
    });
    assert.equal(keys.inbound.length, keyMaterialLength(v.transform));
    assert.equal(hex(keys.inbound), v.inbound);
    assert.equal(hex(keys.outbound), v.outbound);
    assert.notEqual(hex(keys.inbound), hex(keys.outbound));
  });
}

Deno.test("key material lengths: AEAD key + 4-byte salt, cipher key + integrity key", () => {
  assert.equal(keyMaterialLength({ kind: "aead", alg: "aes128gcm16" }), 20);
  assert.equal(keyMaterialLength({ kind: "aead", alg: "aes256gcm16" }), 36);
  assert.equal(keyMaterialLength({ kind: "aead", alg: "chacha20poly1305" }), 36);
  const cm = (cipher: "aes128cbc" | "3descbc", mac: "hmac-sha256-128" | "aes-xcbc-96") =>
    keyMaterialLength({ kind: "cipher+mac", cipher, mac });
  assert.equal(cm("aes128cbc", "hmac-sha256-128"), 48);
  assert.equal(cm("3descbc", "aes-xcbc-96"), 40);
});

Deno.test("KEYMAT with random inputs equals a node:crypto computation", () => {
  const r = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const skeyidD = r(32), ni = r(32), nr = r(32), g = r(32);
  const keys = deriveChildKeys(getCrypto(), {
    prf: "hmac-sha256",
    skeyidD,
    transform: { kind: "cipher+mac", cipher: "aes256cbc", mac: "hmac-sha256-128" },
    inboundSpi: 0xdeadbeef,
    outboundSpi: 0x00000200,
    ni,
    nr,
    gqmxy: g,
  });
  const spi = Uint8Array.of(0xde, 0xad, 0xbe, 0xef);
  const tail = Buffer.concat([g, Uint8Array.of(3), spi, ni, nr]);
  const k1 = createHmac("sha256", skeyidD).update(tail).digest();
  const k2 = createHmac("sha256", skeyidD).update(Buffer.concat([k1, tail])).digest();
  assert.equal(hex(keys.inbound), hex(new Uint8Array(Buffer.concat([k1, k2]))));
});
