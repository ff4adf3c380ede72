/**
 * IKEv1 key derivation against values written out step by step from RFC 2409 §5, §5.5 and
 * Appendix B with node:crypto (createHmac, createHash), independent of the registry's PRFs.
 */

import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { getCrypto } from "../../../src/crypto/registry.ts";
import type { HashAlg, PrfAlg } from "../../../src/crypto/types.ts";
import {
  deriveSkeyids,
  encryptionKey,
  phase1Hash,
  phase1Iv,
  phase2Iv,
  quickModeKeymat,
  skeyidPsk,
  skeyidSig,
} from "../../../src/crypto/kdf/ikev1.ts";
import type { KdfPrimitives } from "../../../src/crypto/kdf/primitives.ts";

const c: KdfPrimitives = getCrypto();
const b = (n: number) => new Uint8Array(randomBytes(n));
const cat = (...d: Uint8Array[]) => new Uint8Array(Buffer.concat(d));
const hmac = (h: HashAlg, k: Uint8Array, ...d: Uint8Array[]) =>
  new Uint8Array(createHmac(h, k).update(cat(...d)).digest());
const hash = (h: HashAlg, ...d: Uint8Array[]) =>
  new Uint8Array(createHash(h).update(cat(...d)).digest());
const hex = (x: Uint8Array) => Buffer.from(x).toString("hex");
const one = (v: number) => Uint8Array.of(v);

const CASES: [PrfAlg, HashAlg][] = [
  ["hmac-md5", "md5"],
  ["hmac-sha1", "sha1"],
  ["hmac-sha256", "sha256"],
  ["hmac-sha512", "sha512"],
];

for (const [prf, h] of CASES) {
  Deno.test(`${prf}: SKEYID (PSK and signatures) and SKEYID_d/a/e per RFC 2409 §5`, () => {
    const psk = new TextEncoder().encode("branch-office secret");
    const ni = b(20), nr = b(16), gxy = b(256), ckyI = b(8), ckyR = b(8);
    const skeyid = skeyidPsk(c, prf, psk, ni, nr);
    assert.equal(hex(skeyid), hex(hmac(h, psk, ni, nr)));
    assert.equal(hex(skeyidSig(c, prf, ni, nr, gxy)), hex(hmac(h, cat(ni, nr), gxy)));

    const k = deriveSkeyids(c, prf, skeyid, gxy, ckyI, ckyR);
    const d = hmac(h, skeyid, gxy, ckyI, ckyR, one(0));
    const a = hmac(h, skeyid, d, gxy, ckyI, ckyR, one(1));
    const e = hmac(h, skeyid, a, gxy, ckyI, ckyR, one(2));
    assert.equal(hex(k.skeyidD), hex(d));
    assert.equal(hex(k.skeyidA), hex(a));
    assert.equal(hex(k.skeyidE), hex(e));
  });

  Deno.test(`${prf}: encryption key from SKEYID_e, expanded as Appendix B when short`, () => {
    const e = hmac(h, b(16), b(16));
    // Short enough: the leading bytes of SKEYID_e.
    assert.equal(hex(encryptionKey(c, prf, e, 16)), hex(e.subarray(0, 16)));
    // AES-256 (32 bytes) and more: Ka = K1 | K2 | K3, K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1).
    const k1 = hmac(h, e, one(0));
    const k2 = hmac(h, e, k1);
    const k3 = hmac(h, e, k2);
    const ka = cat(k1, k2, k3);
    for (const len of [e.length + 1, 32, 40]) {
      if (len > ka.length) continue;
      const want = len <= e.length ? e.subarray(0, len) : ka.subarray(0, len);
      assert.equal(hex(encryptionKey(c, prf, e, len)), hex(want), `length ${len}`);
    }
  });

  Deno.test(`${prf}: HASH_I and HASH_R per RFC 2409 §5`, () => {
    const skeyid = b(20), gxi = b(128), gxr = b(128), ckyI = b(8), ckyR = b(8);
    const sai = b(52), idi = b(12), idr = b(12);
    const base = { gxi, gxr, ckyI, ckyR, sai };
    assert.equal(
      hex(phase1Hash(c, prf, skeyid, { ...base, id: idi, responder: false })),
      hex(hmac(h, skeyid, gxi, gxr, ckyI, ckyR, sai, idi)),
    );
    assert.equal(
      hex(phase1Hash(c, prf, skeyid, { ...base, id: idr, responder: true })),
      hex(hmac(h, skeyid, gxr, gxi, ckyR, ckyI, sai, idr)),
    );
  });

  Deno.test(`${prf}: Quick Mode KEYMAT with and without PFS, expanded (RFC 2409 §5.5)`, () => {
    const skeyidD = b(20), spi = b(4), ni = b(16), nr = b(16), gqm = b(256);
    for (const pfs of [false, true]) {
      const tail = cat(pfs ? gqm : new Uint8Array(0), one(3), spi, ni, nr);
      const k1 = hmac(h, skeyidD, tail);
      const k2 = hmac(h, skeyidD, k1, tail);
      const k3 = hmac(h, skeyidD, k2, tail);
      const k4 = hmac(h, skeyidD, k3, tail);
      const want = cat(k1, k2, k3, k4);
      // AES-256-CBC + HMAC-SHA2-256: 32 + 32 bytes, longer than one PRF output for most PRFs.
      const got = quickModeKeymat(c, {
        prf,
        skeyidD,
        protocol: 3,
        spi,
        ni,
        nr,
        length: 64,
        ...(pfs ? { gqmxy: gqm } : {}),
      });
      assert.equal(hex(got), hex(want.subarray(0, 64)), pfs ? "PFS" : "no PFS");
    }
  });
}

Deno.test("Phase 1 IV = hash(g^xi | g^xr) truncated; Phase 2 IV = hash(last block | M-ID)", () => {
  const gxi = b(256), gxr = b(256);
  assert.equal(hex(phase1Iv(c, "sha1", gxi, gxr, 16)), hex(hash("sha1", gxi, gxr).subarray(0, 16)));
  assert.equal(hex(phase1Iv(c, "md5", gxi, gxr, 8)), hex(hash("md5", gxi, gxr).subarray(0, 8)));
  const last = b(16);
  const mid = 0x8a3b0c1d;
  assert.equal(
    hex(phase2Iv(c, "sha256", last, mid, 16)),
    hex(hash("sha256", last, Uint8Array.of(0x8a, 0x3b, 0x0c, 0x1d)).subarray(0, 16)),
  );
});

Deno.test("IKEv1 derivations refuse bad input with a CryptoError", () => {
  const bad: (() => unknown)[] = [
    () => skeyidPsk(c, "hmac-sha1", new Uint8Array(0), b(16), b(16)),
    () => skeyidSig(c, "hmac-sha1", b(4), b(16), b(128)),
    () => deriveSkeyids(c, "hmac-sha1", b(20), b(128), b(4), b(8)),
    () => phase1Iv(c, "md5", b(128), b(128), 32),
    () => phase2Iv(c, "sha1", b(8), 1, 16),
    () => phase2Iv(c, "sha1", b(16), -1, 16),
    () =>
      quickModeKeymat(c, {
        prf: "hmac-sha1",
        skeyidD: b(20),
        protocol: 300,
        spi: b(4),
        ni: b(16),
        nr: b(16),
        length: 32,
      }),
  ];
  for (const f of bad) assert.throws(f, { name: "CryptoError" });
});
