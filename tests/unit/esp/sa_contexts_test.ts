/**
 * Native cipher contexts of data-path SAs over libcrypto: made at a direction's first packet
 * (an idle SA holds none), one per SA (its own direction), and freed when the SA is removed, so
 * install/traffic/remove cycles leave their count where it started.
 */

import assert from "node:assert/strict";
import { createOpenSslBackend } from "../../../src/crypto/openssl.ts";
import { nativeContexts } from "../../../src/crypto/openssl_cipher.ts";
import {
  MAX_ESP_HEADER,
  MAX_ESP_TRAILER,
  type SaCrypto,
  SaDatabase,
} from "../../../src/esp/sad.ts";
import type { EspSaSpec, TrafficSelector } from "../../../src/esp/sa_spec.ts";
import { keyMaterialLength } from "../../../src/esp/sa_factory.ts";
import { udp4 } from "../../fakes/packets.ts";

const subnet = (start: string, end: string): TrafficSelector => ({
  startAddress: start,
  endAddress: end,
  protocol: 0,
  startPort: 0,
  endPort: 65535,
});
const BRANCH = subnet("198.51.100.0", "198.51.100.255");
const HQ = subnet("203.0.113.0", "203.0.113.255");
const NO_LIMITS = { softSeconds: 0, hardSeconds: 0, softBytes: 0, hardBytes: 0 };
const TRANSFORMS: EspSaSpec["transform"][] = [
  { kind: "aead", alg: "aes128gcm16" },
  { kind: "cipher+mac", cipher: "aes128cbc", mac: "hmac-sha256-128" },
];

function spec(spi: number, direction: "in" | "out", t: EspSaSpec["transform"]): EspSaSpec {
  return {
    spi,
    direction,
    peer: "hq",
    childId: `child-${spi}`,
    transform: t,
    keyMaterial: Uint8Array.from({ length: keyMaterialLength(t) }, (_, i) => (spi + i) & 0xff),
    endpoints: { local: "192.0.2.1", remote: "192.0.2.2" },
    localSelectors: direction === "out" ? [BRANCH] : [HQ],
    remoteSelectors: direction === "out" ? [HQ] : [BRANCH],
    esn: false,
    replayWindow: 64,
    lifetime: NO_LIMITS,
  };
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

/** One packet branch → hq over SA `spi`; true when it arrived. */
function cross(branch: SaDatabase, hq: SaDatabase): boolean {
  const p = udp4("198.51.100.5", "203.0.113.7", { payload: 40 });
  const buf = new Uint8Array(MAX_ESP_HEADER + p.length + MAX_ESP_TRAILER);
  buf.set(p, MAX_ESP_HEADER);
  const r = branch.encapsulate(buf, MAX_ESP_HEADER, p.length);
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
      branch.install(spec(0x10000 + i * 1000 + n, "out", t), 0);
      hq.install(spec(0x10000 + i * 1000 + n, "in", t), 0);
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
    branch.install(spec(spi, "out", t), 0);
    hq.install(spec(spi, "in", t), 0);
    assert.ok(cross(branch, hq), `cycle ${n}`);
    assert.equal(nativeContexts.live, base + 2);
    assert.ok(branch.remove(spi, "out"));
    assert.ok(hq.remove(spi, "in"));
    assert.equal(nativeContexts.live, base, `cycle ${n}`);
  }
});
