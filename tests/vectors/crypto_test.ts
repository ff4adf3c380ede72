/**
 * AEAD, HMAC PRF and hash vectors from tests/vectors/data (GCM test cases 1-4 and 13-16,
 * RFC 8439 §2.8.2, RFC 7634 App. A, RFC 4868 §2.7.1, hashes), run over every available backend.
 * CBC/MAC/XCBC vectors are in symmetric_test.ts, DH vectors in dh_test.ts.
 */

import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import aeadVectors from "./data/aead.json" with { type: "json" };
import hmacVectors from "./data/hmac_rfc4868.json" with { type: "json" };
import hashVectors from "./data/hash.json" with { type: "json" };
import { availableBackends, hex, toHex } from "./backends.ts";
import type { AeadAlg, HashAlg, PrfAlg } from "../../src/crypto/types.ts";

const backends = await availableBackends();

Deno.test("libcrypto is available on this machine (Debian libssl3)", () => {
  assert.ok(backends.some((b) => b.name === "libcrypto"));
});

for (const b of backends) {
  for (const v of aeadVectors.cases) {
    if (!b.supports(`aead:${v.alg as AeadAlg}`)) continue; // /dev/crypto: AES-GCM only
    Deno.test(`${b.name}: AEAD ${v.name} seal and open`, () => {
      const ctx = b.aead(v.alg as AeadAlg, hex(v.key));
      assert.ok(ctx);
      const pt = hex(v.plaintext);
      const buf = new Uint8Array(4 + pt.length + 16 + 3); // offset and slack around the data
      buf.set(pt, 4);
      ctx.seal(hex(v.nonce), hex(v.aad), buf, 4, pt.length);
      assert.equal(toHex(buf.subarray(4, 4 + pt.length)), v.ciphertext);
      assert.equal(toHex(buf.subarray(4 + pt.length, 4 + pt.length + 16)), v.tag);
      assert.ok(ctx.open(hex(v.nonce), hex(v.aad), buf, 4, pt.length));
      assert.equal(toHex(buf.subarray(4, 4 + pt.length)), toHex(pt));
      ctx.dispose();
    });

    Deno.test(`${b.name}: AEAD ${v.name} rejects a flipped tag, AAD or ciphertext bit`, () => {
      const ctx = b.aead(v.alg as AeadAlg, hex(v.key));
      assert.ok(ctx);
      const sealed = hex(v.ciphertext + v.tag);
      const n = sealed.length - 16;
      for (const where of ["tag", "aad", "ct"] as const) {
        if (where === "ct" && n === 0) continue;
        const buf = sealed.slice();
        const aad = hex(v.aad.length > 0 ? v.aad : "00").subarray(0, v.aad.length / 2);
        const aadMut = aad.slice();
        if (where === "tag") buf[n] = buf[n]! ^ 1;
        if (where === "ct") buf[0] = buf[0]! ^ 0x80;
        if (where === "aad" && aadMut.length > 0) aadMut[0] = aadMut[0]! ^ 1;
        if (where === "aad" && aadMut.length === 0) continue;
        assert.equal(ctx.open(hex(v.nonce), aadMut, buf, 0, n), false, where);
      }
      // Short buffers are refused, never thrown.
      assert.equal(ctx.open(hex(v.nonce), hex(v.aad), new Uint8Array(8), 0, 0), false);
      ctx.dispose();
    });
  }

  for (const v of hmacVectors.cases) {
    for (const alg of ["hmac-sha256", "hmac-sha384", "hmac-sha512"] as const) {
      const want = (v as Record<string, string>)[alg];
      if (want === undefined || !b.supports(`prf:${alg}`)) continue;
      Deno.test(`${b.name}: ${alg} RFC 4868 ${v.name}`, () => {
        const out = b.prf(alg, hex(v.key), hex(v.data));
        assert.ok(out);
        assert.equal(toHex(out), want);
      });
    }
  }

  if (!b.supports("hash:sha256")) continue; // the rest is hashes, PRFs and random bytes
  Deno.test(`${b.name}: FIPS 180-2 / RFC 1321 digests`, () => {
    for (const v of hashVectors.cases) {
      assert.equal(toHex(b.hash(v.alg as HashAlg, hex(v.data))!), v.out, `${v.alg} ${v.data}`);
    }
  });

  Deno.test(`${b.name}: HMAC-MD5/SHA1 and hashes agree with node:crypto over many lengths`, () => {
    const hashes: HashAlg[] = ["md5", "sha1", "sha256", "sha384", "sha512"];
    for (let len = 0; len < 300; len += 37) {
      const data = Uint8Array.from({ length: len }, (_, i) => (i * 7 + len) & 0xff);
      const key = data.subarray(0, Math.min(len, 150)); // also keys longer than a block
      for (const h of hashes) {
        assert.equal(toHex(b.hash(h, data)!), createHash(h).update(data).digest("hex"));
        const prf = `hmac-${h}` as PrfAlg;
        assert.equal(toHex(b.prf(prf, key, data)!), createHmac(h, key).update(data).digest("hex"));
      }
    }
  });

  Deno.test(`${b.name}: random bytes are fresh`, () => {
    const a = b.randomBytes(32);
    const c = b.randomBytes(32);
    assert.equal(a.length, 32);
    assert.notEqual(toHex(a), toHex(c));
  });
}

Deno.test("backends agree on AES-256-GCM for random keys, nonces and lengths", () => {
  const [first, ...rest] = backends;
  assert.ok(first);
  for (let len = 0; len <= 1400; len += 97) {
    const key = first.randomBytes(32);
    const nonce = first.randomBytes(12);
    const aad = first.randomBytes(8);
    const pt = first.randomBytes(len);
    const ref = new Uint8Array(len + 16);
    ref.set(pt);
    first.aead("aes256gcm16", key)!.seal(nonce, aad, ref, 0, len);
    for (const other of rest) {
      const buf = new Uint8Array(len + 16);
      buf.set(pt);
      other.aead("aes256gcm16", key)!.seal(nonce, aad, buf, 0, len);
      assert.equal(toHex(buf), toHex(ref), `${other.name} at ${len} bytes`);
    }
  }
});
