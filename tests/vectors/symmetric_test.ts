/**
 * CBC ciphers, truncated MACs and AES-XCBC from tests/vectors/data, run over every backend that
 * offers them (a backend without an algorithm is skipped for it, and at least one must offer it).
 */

import assert from "node:assert/strict";
import cbc from "./data/cbc.json" with { type: "json" };
import des3 from "./data/des3_cbc.json" with { type: "json" };
import rfc4868 from "./data/hmac_rfc4868.json" with { type: "json" };
import rfc2202 from "./data/hmac_rfc2202.json" with { type: "json" };
import xcbc from "./data/xcbc.json" with { type: "json" };
import { availableBackends, hex, toHex } from "./backends.ts";
import type { CipherAlg, CryptoBackend, MacAlg, PrfAlg } from "../../src/crypto/types.ts";

const backends = await availableBackends();

function offering(alg: `cipher:${CipherAlg}` | `mac:${MacAlg}` | `prf:${PrfAlg}`) {
  const list = backends.filter((b) => b.supports(alg));
  assert.ok(list.length > 0, `no backend offers ${alg}`);
  return list;
}

for (const v of [...cbc.cases, ...des3.cases]) {
  Deno.test(`${v.name}: encrypt and decrypt in place on every backend`, () => {
    for (const b of offering(`cipher:${v.alg as CipherAlg}`)) {
      const ctx = b.cipher(v.alg as CipherAlg, hex(v.key))!;
      const pt = hex(v.plaintext);
      const buf = new Uint8Array(pt.length + 7);
      buf.set(pt, 3);
      ctx.encrypt(hex(v.iv), buf, 3, pt.length);
      assert.equal(toHex(buf.subarray(3, 3 + pt.length)), v.ciphertext, b.name);
      assert.deepEqual(
        [...buf.subarray(0, 3), ...buf.subarray(3 + pt.length)],
        new Array(7).fill(0),
      );
      ctx.decrypt(hex(v.iv), buf, 3, pt.length);
      assert.equal(toHex(buf.subarray(3, 3 + pt.length)), v.plaintext, b.name);
      ctx.dispose();
    }
  });
}

Deno.test("CBC refuses partial blocks, wrong IVs, ranges outside the buffer and wrong keys", () => {
  for (const b of offering("cipher:aes128cbc")) {
    assert.throws(() => b.cipher("aes128cbc", new Uint8Array(15)), { name: "CryptoError" });
    const ctx = b.cipher("aes128cbc", new Uint8Array(16))!;
    const iv = new Uint8Array(16);
    assert.throws(() => ctx.encrypt(iv, new Uint8Array(32), 0, 15), { name: "CryptoError" });
    assert.throws(() => ctx.encrypt(new Uint8Array(8), new Uint8Array(32), 0, 16), {
      name: "CryptoError",
    });
    assert.throws(() => ctx.decrypt(iv, new Uint8Array(32), 24, 16), { name: "CryptoError" });
    ctx.dispose();
  }
});

const MAC_OF: Record<string, MacAlg> = {
  "hmac-sha256-128": "hmac-sha256-128",
  "hmac-sha384-192": "hmac-sha384-192",
  "hmac-sha512-256": "hmac-sha512-256",
};

for (const v of rfc4868.cases) {
  for (const [field, alg] of Object.entries(MAC_OF)) {
    const want = (v as Record<string, string>)[field];
    if (want === undefined) continue;
    Deno.test(`RFC 4868 ${v.name} ${alg} on every backend`, () => {
      for (const b of offering(`mac:${alg}`)) {
        const ctx = b.mac(alg, hex(v.key))!;
        assert.equal(toHex(ctx.compute(hex(v.data))), want, b.name);
        const out = new Uint8Array(ctx.icvLength + 2);
        const data = hex("ff" + v.data + "ff");
        ctx.computeInto(data, 1, data.length - 2, out, 1);
        assert.equal(toHex(out.subarray(1, 1 + ctx.icvLength)), want, b.name);
        ctx.dispose();
      }
    });
  }
}

for (const v of rfc2202.cases.filter((c) => c.alg === "hmac-sha1")) {
  Deno.test(`${v.name} truncated to HMAC-SHA1-96 (RFC 2404) on every backend`, () => {
    const key = hex(v.key);
    if (key.length !== 20) return; // the ESP integrity key is exactly 20 bytes (RFC 2404 §3)
    for (const b of offering("mac:hmac-sha1-96")) {
      assert.equal(toHex(b.mac("hmac-sha1-96", key)!.compute(hex(v.data))), v.out.slice(0, 24));
    }
  });
}

for (const v of xcbc.mac) {
  Deno.test(`${v.name}: AES-XCBC-MAC-96 on every backend`, () => {
    for (const b of offering("mac:aes-xcbc-96")) {
      const ctx = b.mac("aes-xcbc-96", hex(v.key))!;
      assert.equal(toHex(ctx.compute(hex(v.message))), v.mac96, b.name);
      ctx.dispose();
    }
  });
}

for (const v of xcbc.prf) {
  Deno.test(`${v.name}: AES-XCBC-PRF-128 on every backend`, () => {
    for (const b of offering("prf:aes-xcbc-prf128")) {
      assert.equal(toHex(b.prf("aes-xcbc-prf128", hex(v.key), hex(v.message))!), v.prf, b.name);
    }
  });
}

for (const v of rfc2202.cases) {
  Deno.test(`${v.name} on every backend`, () => {
    for (const b of offering(`prf:${v.alg as PrfAlg}`)) {
      assert.equal(toHex(b.prf(v.alg as PrfAlg, hex(v.key), hex(v.data))!), v.out, b.name);
    }
  });
}

Deno.test("MAC contexts refuse wrong key lengths and out-of-range output", () => {
  for (const b of offering("mac:hmac-sha256-128")) {
    assert.throws(() => b.mac("hmac-sha256-128", new Uint8Array(31)), { name: "CryptoError" });
    const ctx: ReturnType<CryptoBackend["mac"]> = b.mac("hmac-sha256-128", new Uint8Array(32));
    assert.throws(() => ctx!.computeInto(new Uint8Array(4), 0, 4, new Uint8Array(15), 0), {
      name: "CryptoError",
    });
  }
});
