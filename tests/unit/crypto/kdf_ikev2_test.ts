/**
 * IKEv2 key derivation against values written out step by step from RFC 7296 §2.13, §2.14,
 * §2.17 and §2.18 with node:crypto's createHmac (independent of the registry's PRFs).
 */

import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { getCrypto } from "../../../src/crypto/registry.ts";
import type { HashAlg, PrfAlg } from "../../../src/crypto/types.ts";
import {
  deriveChildKeys,
  deriveIkeSaKeys,
  prfPlus,
  rekeySkeyseed,
  skeyseed,
} from "../../../src/crypto/kdf/ikev2.ts";
import type { KdfPrimitives } from "../../../src/crypto/kdf/primitives.ts";

const c: KdfPrimitives = getCrypto();
const b = (n: number) => new Uint8Array(randomBytes(n));
const hmac = (h: HashAlg, k: Uint8Array, ...d: Uint8Array[]) => {
  const m = createHmac(h, k);
  for (const x of d) m.update(x);
  return new Uint8Array(m.digest());
};
const hex = (x: Uint8Array) => Buffer.from(x).toString("hex");

const CASES: [PrfAlg, HashAlg][] = [
  ["hmac-sha1", "sha1"],
  ["hmac-sha256", "sha256"],
  ["hmac-sha384", "sha384"],
  ["hmac-sha512", "sha512"],
];

for (const [prf, h] of CASES) {
  Deno.test(`${prf}: SKEYSEED and SK_* equal the RFC 7296 §2.14 formulas`, () => {
    const ni = b(32), nr = b(24), gir = b(256), spiI = b(8), spiR = b(8);
    const seed = skeyseed(c, prf, ni, nr, gir);
    const want = hmac(h, Buffer.concat([ni, nr]), gir);
    assert.equal(hex(seed), hex(want));

    // prf+ written out: T1 = prf(K, S|1), T2 = prf(K, T1|S|2), …
    const s = Buffer.concat([ni, nr, spiI, spiR]);
    let t = new Uint8Array(0);
    let stream = new Uint8Array(0);
    for (let n = 1; stream.length < 400; n++) {
      t = hmac(h, want, t, s, Uint8Array.of(n));
      stream = Buffer.concat([stream, t]);
    }
    const p = { "sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64 }[h as string]!;
    const k = deriveIkeSaKeys(c, {
      prf,
      skeyseed: seed,
      ni,
      nr,
      spiI,
      spiR,
      integKeyLength: 32,
      encKeyLength: 36,
    });
    const lens = [p, 32, 32, 36, 36, p, p];
    const got = [k.skD, k.skAi, k.skAr, k.skEi, k.skEr, k.skPi, k.skPr];
    let o = 0;
    got.forEach((key, i) => {
      assert.equal(hex(key), hex(stream.subarray(o, o + lens[i]!)), `key ${i}`);
      o += lens[i]!;
    });
  });

  Deno.test(`${prf}: Child SA KEYMAT with and without PFS (RFC 7296 §2.17)`, () => {
    const skD = b(32), ni = b(16), nr = b(16), gir = b(128);
    for (const pfs of [false, true]) {
      const s = pfs ? Buffer.concat([gir, ni, nr]) : Buffer.concat([ni, nr]);
      const t1 = hmac(h, skD, s, Uint8Array.of(1));
      const t2 = hmac(h, skD, t1, s, Uint8Array.of(2));
      const t3 = hmac(h, skD, t2, s, Uint8Array.of(3));
      const t4 = hmac(h, skD, t3, s, Uint8Array.of(4));
      const t5 = hmac(h, skD, t4, s, Uint8Array.of(5));
      const km = Buffer.concat([t1, t2, t3, t4, t5]);
      // AES-CBC-128 + HMAC-SHA1-96: 16 + 20 per direction, initiator's first (§2.17).
      const k = deriveChildKeys(c, prf, skD, ni, nr, 16, 20, pfs ? gir : undefined);
      assert.equal(hex(k.encI), hex(km.subarray(0, 16)));
      assert.equal(hex(k.integI), hex(km.subarray(16, 36)));
      assert.equal(hex(k.encR), hex(km.subarray(36, 52)));
      assert.equal(hex(k.integR), hex(km.subarray(52, 72)));
    }
  });

  Deno.test(`${prf}: rekeyed SKEYSEED = prf(SK_d, g^ir | Ni | Nr) (RFC 7296 §2.18)`, () => {
    const skD = b(32), gir = b(64), ni = b(16), nr = b(16);
    assert.equal(
      hex(rekeySkeyseed(c, prf, skD, gir, ni, nr)),
      hex(hmac(h, skD, gir, ni, nr)),
    );
  });
}

Deno.test("AES-XCBC-PRF-128: SKEYSEED uses the first 64 bits of each nonce as the key", () => {
  const calls: { key: string; data: string }[] = [];
  const rec: KdfPrimitives = {
    prf: (_alg, key, data) => {
      calls.push({ key: hex(key), data: hex(data) });
      return new Uint8Array(16).fill(7);
    },
    hash: () => new Uint8Array(0),
  };
  const ni = b(32), nr = b(32), gir = b(32);
  skeyseed(rec, "aes-xcbc-prf128", ni, nr, gir);
  assert.deepEqual(calls, [{
    key: hex(ni.subarray(0, 8)) + hex(nr.subarray(0, 8)),
    data: hex(gir),
  }]);
  calls.length = 0;
  // …but all the bits go into prf+ (RFC 7296 §2.14).
  deriveIkeSaKeys(rec, {
    prf: "aes-xcbc-prf128",
    skeyseed: new Uint8Array(16),
    ni,
    nr,
    spiI: b(8),
    spiR: b(8),
    integKeyLength: 16,
    encKeyLength: 16,
  });
  assert.ok(calls[0]!.data.startsWith(hex(ni) + hex(nr)));
});

Deno.test("prf+ stops at 255 blocks and refuses bad input with a CryptoError", () => {
  const k = b(32);
  assert.equal(prfPlus(c, "hmac-sha256", k, b(8), 255 * 32).length, 255 * 32);
  assert.throws(() => prfPlus(c, "hmac-sha256", k, b(8), 255 * 32 + 1), { name: "CryptoError" });
  assert.throws(() => skeyseed(c, "hmac-sha256", b(4), b(16), b(32)), { name: "CryptoError" });
  assert.throws(
    () =>
      deriveIkeSaKeys(c, {
        prf: "hmac-sha256",
        skeyseed: k,
        ni: b(16),
        nr: b(16),
        spiI: b(4),
        spiR: b(8),
        integKeyLength: 32,
        encKeyLength: 16,
      }),
    { name: "CryptoError" },
  );
});
