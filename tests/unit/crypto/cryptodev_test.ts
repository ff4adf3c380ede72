/**
 * /dev/crypto offload through the fake device (tests/fakes/cryptodev, built here with gcc and
 * OpenSSL; never skipped): the raw backend probes the device, ESP SAs run on it when forced,
 * calibration keeps a slow device away, a device failing an operation mid-stream is dropped
 * for that algorithm while the SA carries on on libcrypto, one failing its known-answer test is
 * never used, and `off` never opens it.
 */

import assert from "node:assert/strict";
import { FakeDevice, fakeLibrary } from "../../fakes/cryptodev/fake.ts";
import { openCryptodevBackend } from "../../../src/crypto/cryptodev.ts";
import { deviceRange } from "../../../src/crypto/cryptodev_calibrate.ts";
import { type CryptoRegistry, initCrypto } from "../../../src/crypto/registry.ts";
import { selftest } from "../../../src/crypto/selftest.ts";
import type { AlgorithmName } from "../../../src/crypto/types.ts";
import {
  createInboundSa,
  createOutboundSa,
  keyMaterialLength,
} from "../../../src/esp/sa_factory.ts";
import type { EspSaSpec, EspTransform } from "../../../src/esp/sa_spec.ts";
import type { InboundSa, OutboundSa } from "../../../src/esp/esp_sa.ts";

const LIB = fakeLibrary();

const ESP: AlgorithmName[] = [
  "aead:aes128gcm16",
  "aead:aes256gcm16",
  "cipher:aes128cbc",
  "cipher:aes256cbc",
  "mac:hmac-sha1-96",
  "mac:hmac-sha256-128",
];

function registry(mode: "auto" | "cryptodev" | "off", dev: FakeDevice): Promise<CryptoRegistry> {
  return initCrypto({ needed: ESP, offload: dev.offload(mode) });
}

function spec(direction: "in" | "out", transform: EspTransform): EspSaSpec {
  const keyMaterial = Uint8Array.from(
    { length: keyMaterialLength(transform) },
    (_, i) => (i * 29 + 7) & 0xff,
  );
  return {
    spi: 0x1000,
    direction,
    peer: "p",
    childId: "c",
    transform,
    keyMaterial,
    endpoints: { local: "192.0.2.1", remote: "192.0.2.2" },
    localSelectors: [],
    remoteSelectors: [],
    esn: false,
    replayWindow: 64,
    lifetime: { softSeconds: 0, hardSeconds: 0, softBytes: 0, hardBytes: 0 },
  };
}

function pair(r: CryptoRegistry, t: EspTransform): [OutboundSa, InboundSa] {
  return [createOutboundSa(spec("out", t), r), createInboundSa(spec("in", t), r)];
}

/** One inner packet of `size` bytes through both SAs; true when it comes out intact. */
function roundTrip(out: OutboundSa, inn: InboundSa, size: number, seed: number): boolean {
  const buf = new Uint8Array(size + 128);
  const at = 48;
  for (let i = 0; i < size; i++) buf[at + i] = (i * 13 + seed) & 0xff;
  const n = out.encapsulate(buf, at, size, 4);
  const start = at - out.headerLength;
  const wire = buf.slice(start, start + n);
  const d = inn.decapsulate(wire, 0, n);
  if (d === undefined || d.length !== size) return false;
  for (let i = 0; i < size; i++) if (wire[d.offset + i] !== ((i * 13 + seed) & 0xff)) return false;
  return true;
}

const GCM: EspTransform = { kind: "aead", alg: "aes128gcm16" };
const CBC: EspTransform = { kind: "cipher+mac", cipher: "aes256cbc", mac: "hmac-sha256-128" };

Deno.test("the raw backend probes the device: ESP algorithms, driver name, hardware flag", () => {
  const dev = new FakeDevice();
  dev.set("hardware", 1);
  const b = openCryptodevBackend(dev.path, LIB);
  try {
    assert.deepEqual(
      b.offers.filter((o) => !("error" in o.info)).map((o) => o.alg),
      [
        "aead:aes128gcm16",
        "aead:aes256gcm16",
        "cipher:aes128cbc",
        "cipher:aes192cbc",
        "cipher:aes256cbc",
        "mac:hmac-sha1-96",
        "mac:hmac-sha256-128",
        "mac:hmac-sha384-192",
        "mac:hmac-sha512-256",
      ],
    );
    const info = b.offers[0]!.info;
    assert.ok(
      !("error" in info) && info.hardware && info.cipherDriver === "fake-cryptodev-openssl",
    );
    assert.equal(b.supports("aead:chacha20poly1305"), false);
    assert.equal(b.aead("chacha20poly1305", new Uint8Array(32)), undefined);
    // Every probe session was freed again; a context's session goes with dispose().
    assert.equal(dev.get("sessions"), dev.get("freed"));
    const ctx = b.aead("aes128gcm16", new Uint8Array(16))!;
    assert.equal(dev.get("sessions") - dev.get("freed"), 1);
    ctx.dispose();
    assert.equal(dev.get("sessions"), dev.get("freed"));
  } finally {
    b.close();
  }
  assert.throws(() => openCryptodevBackend("/nonexistent-dir/crypto", LIB), /open .* failed/);
});

Deno.test("a bad tag is the device's EBADMSG: open returns false, nothing thrown", () => {
  const dev = new FakeDevice();
  const b = openCryptodevBackend(dev.path, LIB);
  try {
    const ctx = b.aead("aes256gcm16", new Uint8Array(32).fill(1))!;
    const buf = new Uint8Array(100 + 16);
    const nonce = new Uint8Array(12);
    const aad = new Uint8Array(8);
    ctx.seal(nonce, aad, buf, 0, 100);
    buf[100] = buf[100]! ^ 1;
    assert.equal(ctx.open(nonce, aad, buf, 0, 100), false);
    assert.equal(dev.get("badTag"), 1);
    assert.throws(() => ctx.seal(nonce, aad, buf, 10, 100), { name: "CryptoError" }); // range
    ctx.dispose();
  } finally {
    b.close();
  }
});

Deno.test("forced offload: GCM and CBC+HMAC ESP SAs run full-size operations on the device", async () => {
  const dev = new FakeDevice();
  const r = await registry("cryptodev", dev);
  for (const alg of ESP) assert.equal(r.chosen(alg), "cryptodev", alg);
  assert.equal(r.chosen("prf:hmac-sha256"), "libcrypto");
  for (const t of [GCM, CBC]) {
    const [out, inn] = pair(r, t);
    for (let i = 0; i < 20; i++) assert.ok(roundTrip(out, inn, i === 0 ? 0 : 1400, i));
    out.dispose();
    inn.dispose();
  }
  const s = dev.snapshot();
  assert.ok(s.aeadEncrypt >= 20 && s.aeadDecrypt >= 20, JSON.stringify(s));
  assert.ok(s.cbcEncrypt >= 20 && s.cbcDecrypt >= 20 && s.mac >= 40, JSON.stringify(s));
  assert.ok(s.fullSize >= 4 * 19 && s.maxLength >= 1400, JSON.stringify(s));
  assert.equal(s.failed, 0);
  const routes = r.offload!.routes;
  assert.ok(routes.get("aead:aes128gcm16")!.deviceOps >= 40);
  assert.equal(routes.get("aead:aes128gcm16")!.softwareOps, 0);
  const text = selftest(r).lines.join("\n");
  assert.match(
    text,
    /crypto offload: cryptodev, device .*fake-cryptodev-openssl \(software driver\)/,
  );
  assert.match(text, /aead:aes128gcm16 +pass .*cryptodev \(all sizes\)/);
});

Deno.test("auto with a slow device: calibration keeps every ESP algorithm on libcrypto", async () => {
  const dev = new FakeDevice();
  dev.set("delayNs", 200_000); // 200 µs per operation: far slower than libcrypto
  const r = await registry("auto", dev);
  for (const alg of ESP) assert.equal(r.chosen(alg), "libcrypto", alg);
  const row = r.offload!.rows.find((x) => x.alg === "aead:aes128gcm16")!;
  assert.equal(row.kat, "pass");
  assert.ok(row.deviceNs![0]! > row.softwareNs![0]! && row.deviceNs![1]! > row.softwareNs![1]!);
  assert.equal(row.range, undefined);
  const before = dev.get("ops");
  const [out, inn] = pair(r, GCM);
  assert.ok(roundTrip(out, inn, 1400, 1));
  assert.equal(dev.get("ops"), before, "no ESP operation went to the slow device");
  assert.match(
    selftest(r).lines.join("\n"),
    /aead:aes128gcm16 .*libcrypto \(faster at both sizes\)/,
  );
});

Deno.test("calibration's choice: all sizes, from the crossover up, below it, or none", () => {
  assert.deepEqual(deviceRange([1, 2], [3, 4]), { min: 0, max: Infinity });
  assert.equal(deviceRange([5, 9], [1, 2]), undefined);
  // Device: 10 µs fixed, cheap per byte; libcrypto: 1 µs fixed, dearer per byte.
  const r = deviceRange([10_000, 11_000], [1_000, 15_000])!;
  assert.equal(r.max, Infinity);
  assert.ok(r.min > 64 && r.min < 1400, String(r.min));
  const below = deviceRange([1_000, 15_000], [10_000, 11_000])!;
  assert.ok(below.min === 0 && below.max > 64 && below.max < 1400, JSON.stringify(below));
  // As fast as libcrypto (a software driver behind the ioctl) is not fast enough.
  assert.equal(deviceRange([1_000, 2_000], [1_050, 2_100]), undefined);
  assert.deepEqual(deviceRange([1_000, 2_000], [1_200, 2_400]), { min: 0, max: Infinity });
});

Deno.test("a device failing mid-stream: the SA carries on on libcrypto, the device never again", async () => {
  const dev = new FakeDevice();
  const r = await registry("cryptodev", dev);
  for (const t of [GCM, CBC]) {
    dev.set("fail", 0);
    const [out, inn] = pair(r, t);
    for (let i = 0; i < 5; i++) assert.ok(roundTrip(out, inn, 1400, i));
    const failedBefore = dev.get("failed");
    dev.set("fail", 1); // every operation now fails, after scribbling over its output
    for (let i = 5; i < 15; i++) assert.ok(roundTrip(out, inn, 1400, i), `packet ${i}`);
    assert.ok(dev.get("failed") > failedBefore);
    dev.set("fail", 0);
    const ops = dev.get("ops");
    for (let i = 15; i < 20; i++) assert.ok(roundTrip(out, inn, 1400, i));
    const [out2, inn2] = pair(r, t); // a new SA with the same algorithms stays off it too
    assert.ok(roundTrip(out2, inn2, 1400, 99));
    assert.equal(dev.get("ops"), ops, "the failed device got no more operations");
    [out, inn, out2, inn2].forEach((x) => x.dispose());
  }
  const gcm = r.offload!.routes.get("aead:aes128gcm16")!;
  assert.match(gcm.failed ?? "", /errno 5/);
  assert.ok(gcm.softwareOps >= 10);
  assert.match(
    selftest(r).lines.join("\n"),
    /aead:aes128gcm16 .*libcrypto \(device operation failed/,
  );
});

Deno.test("a device failing its known-answer tests is never used", async () => {
  const dev = new FakeDevice();
  dev.set("corrupt", 1); // one flipped bit in every output
  const r = await registry("cryptodev", dev);
  for (const alg of ESP) assert.equal(r.chosen(alg), "libcrypto", alg);
  assert.ok(r.offload!.rows.every((x) => x.kat === "fail" && x.range === undefined));
  const ops = dev.get("ops");
  const [out, inn] = pair(r, CBC);
  assert.ok(roundTrip(out, inn, 1400, 3));
  assert.equal(dev.get("ops"), ops);
});

Deno.test("offload off never opens the device; a missing device leaves libcrypto alone", async () => {
  const dev = new FakeDevice();
  const r = await registry("off", dev);
  assert.equal(dev.get("opens"), 0);
  assert.equal(r.chosen("aead:aes128gcm16"), "libcrypto");
  assert.match(selftest(r).lines.join("\n"), /crypto offload: off, .*not used \(offload off\)/);
  const missing = await initCrypto({
    needed: ESP,
    offload: { mode: "cryptodev", device: "/nonexistent-dir/crypto", library: LIB },
  });
  assert.equal(missing.chosen("aead:aes128gcm16"), "libcrypto");
  assert.match(
    selftest(missing).lines.join("\n"),
    /not used \(open \/nonexistent-dir\/crypto failed/,
  );
});
