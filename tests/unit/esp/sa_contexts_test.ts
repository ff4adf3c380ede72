/**
 * Native cipher contexts of data-path SAs over libcrypto: made at a direction's first packet
 * (an idle SA holds none), one per SA (its own direction), and freed when the SA is removed, so
 * install/traffic/remove cycles leave their count where it started.
 */

import assert from "node:assert/strict";
import { createOpenSslBackend } from "../../../src/crypto/openssl.ts";
import { nativeContexts } from "../../../src/crypto/openssl_cipher.ts";
import { MAX_ESP_HEADER, type SaCrypto, SaDatabase } from "../../../src/esp/sad.ts";
import type { EspSaSpec } from "../../../src/esp/sa_spec.ts";
import { keyMaterialLength } from "../../../src/esp/sa_factory.ts";
import { packet, spec } from "./sad_fixtures.ts";

const TRANSFORMS: EspSaSpec["transform"][] = [
  { kind: "aead", alg: "aes128gcm16" },
  { kind: "cipher+mac", cipher: "aes128cbc", mac: "hmac-sha256-128" },
];

function specOf(spi: number, direction: "in" | "out", t: EspSaSpec["transform"]): EspSaSpec {
  const keyMaterial = Uint8Array.from({ length: keyMaterialLength(t) }, (_, i) => (spi + i) & 0xff);
  return spec(spi, direction, { transform: t, keyMaterial });
}

/** libcrypto's contexts only (the registry might pick another backend). */
function backend(): SaCrypto {
  const b = createOpenSslBackend();
  if (b === undefined) throw new Error("libcrypto not available");
  const must = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error("libcrypto refused the algorithm");
    return x;
  };
  return {
    aead: (alg, key) => must(b.aead(alg, key)),
    cipher: (alg, key) => must(b.cipher(alg, key)),
    mac: (alg, key) => must(b.mac(alg, key)),
  };
}

/** One packet branch → hq; true when it arrived. */
function cross(branch: SaDatabase, hq: SaDatabase): boolean {
  const { buf, len } = packet("198.51.100.5", "203.0.113.7", 40);
  const r = branch.encapsulate(buf, MAX_ESP_HEADER, len);
  if (r === undefined) return false;
  return hq.decapsulate(buf, r.offset, r.length) !== undefined;
}

Deno.test("idle SAs hold no native cipher context; the first packet makes one per SA", () => {
  const b = backend();
  const branch = new SaDatabase(b);
  const hq = new SaDatabase(b);
  const base = nativeContexts.live;
  for (const [i, t] of TRANSFORMS.entries()) {
    for (let n = 0; n < 100; n++) {
      branch.install(specOf(0x10000 + i * 1000 + n, "out", t), 0);
      hq.install(specOf(0x10000 + i * 1000 + n, "in", t), 0);
    }
  }
  assert.equal(nativeContexts.live, base, "200 idle SA pairs");
  assert.ok(cross(branch, hq)); // the newest outbound SA (CBC) and its inbound partner
  assert.equal(nativeContexts.live, base + 2, "one context per direction used");
  assert.ok(cross(branch, hq));
  assert.equal(nativeContexts.live, base + 2, "made once");
  for (const [i] of TRANSFORMS.entries()) {
    for (let n = 0; n < 100; n++) {
      assert.ok(branch.remove(0x10000 + i * 1000 + n, "out"));
      assert.ok(hq.remove(0x10000 + i * 1000 + n, "in"));
    }
  }
  assert.equal(nativeContexts.live, base);
});

Deno.test("1000 install/traffic/remove cycles leave the native context count flat", () => {
  const b = backend();
  const branch = new SaDatabase(b);
  const hq = new SaDatabase(b);
  const base = nativeContexts.live;
  for (let n = 0; n < 1000; n++) {
    const t = TRANSFORMS[n % TRANSFORMS.length]!;
    const spi = 0x20000 + n;
    branch.install(specOf(spi, "out", t), 0);
    hq.install(specOf(spi, "in", t), 0);
    assert.ok(cross(branch, hq), `cycle ${n}`);
    assert.equal(nativeContexts.live, base + 2);
    assert.ok(branch.remove(spi, "out"));
    assert.ok(hq.remove(spi, "in"));
    assert.equal(nativeContexts.live, base, `cycle ${n}`);
  }
});
