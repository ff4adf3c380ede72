/**
 * SK protection and RFC 7383 fragmentation round trips (CBC+HMAC, AES-GCM, ChaCha20-Poly1305),
 * tampering refused, bounded reassembly, stateless cookies.
 */

import assert from "node:assert/strict";
import { getCrypto } from "../../../../src/crypto/registry.ts";
import { decodeV2Message } from "../../../../src/ike/message/v2/message.ts";
import type { PayloadV2 } from "../../../../src/ike/message/v2/types.ts";
import { CookieJar, SECRET_LIFETIME_MS } from "../../../../src/ike/v2/cookie.ts";
import {
  FragmentQueues,
  MAX_BYTES,
  MAX_FRAGMENTS,
  MAX_TOTAL_BYTES,
  Reassembly,
} from "../../../../src/ike/v2/fragments.ts";
import {
  decodeInner,
  type ProtectCrypto,
  type SkAlgorithms,
  SkCodec,
  skKeyLengths,
} from "../../../../src/ike/v2/protect.ts";

const c = getCrypto();
const HEADER = {
  spiI: new Uint8Array(8).fill(1),
  spiR: new Uint8Array(8).fill(2),
  exchangeType: 35,
  flags: 0x20,
  messageId: 1,
};
const SUITES: readonly SkAlgorithms[] = [
  { aead: undefined, cipher: "aes256cbc", integ: "hmac-sha256-128" },
  { aead: "aes128gcm16", cipher: undefined, integ: undefined },
  { aead: "chacha20poly1305", cipher: undefined, integ: undefined },
];

function pair(alg: SkAlgorithms): { tx: SkCodec; rx: SkCodec } {
  const l = skKeyLengths(alg);
  const a = { e: c.randomBytes(l.encr), a: c.randomBytes(l.integ) };
  const b = { e: c.randomBytes(l.encr), a: c.randomBytes(l.integ) };
  return { tx: new SkCodec(c, alg, a, b), rx: new SkCodec(c, alg, b, a) };
}

const payloads: PayloadV2[] = [
  { kind: "idr", idType: 2, data: new TextEncoder().encode("gw.example.net") },
  { kind: "n", protocol: 0, spi: new Uint8Array(0), notifyType: 16384, data: new Uint8Array(0) },
  { kind: "v", data: new Uint8Array(3000).fill(0x5a) },
];

Deno.test("SK: seal then open gives the payloads back; one flipped bit is refused", () => {
  for (const alg of SUITES) {
    const { tx, rx } = pair(alg);
    const [d] = tx.seal(HEADER, payloads.slice(0, 2));
    const m = decodeV2Message(d!);
    assert.ok(m.ok && m.value.encrypted?.kind === "sk");
    const r = rx.open(d!, m.value.encrypted);
    assert.ok(r.ok, JSON.stringify(alg));
    assert.deepEqual(r.payloads.map((p) => p.kind), ["idr", "n"]);
    for (const at of [3, 30, d!.length - 1]) {
      const bad = d!.slice();
      bad[at]! ^= 1;
      const mb = decodeV2Message(bad);
      if (!mb.ok || mb.value.encrypted?.kind !== "sk") continue;
      assert.equal(rx.open(bad, mb.value.encrypted).ok, false, `bit at ${at}`);
    }
  }
});

Deno.test("SK: keyed contexts are made once per codec and direction, refused input included; dispose frees them", () => {
  for (const alg of SUITES) {
    const made: string[] = [];
    const counting: ProtectCrypto = {
      randomBytes: (n: number) => c.randomBytes(n),
      aead: (a: Parameters<typeof c.aead>[0], k: Uint8Array) => (made.push("aead"), c.aead(a, k)),
      cipher: (a: Parameters<typeof c.cipher>[0], k: Uint8Array) => (
        made.push("cipher"), c.cipher(a, k)
      ),
      mac: (a: Parameters<typeof c.mac>[0], k: Uint8Array) => (made.push("mac"), c.mac(a, k)),
    };
    const l = skKeyLengths(alg);
    const a = { e: c.randomBytes(l.encr), a: c.randomBytes(l.integ) };
    const b = { e: c.randomBytes(l.encr), a: c.randomBytes(l.integ) };
    const tx = new SkCodec(counting, alg, a, b);
    const rx = new SkCodec(counting, alg, b, a);
    const perSide = alg.aead !== undefined ? 1 : 2;
    for (let i = 0; i < 5; i++) {
      const [d] = tx.seal({ ...HEADER, messageId: i }, payloads.slice(0, 2));
      const m = decodeV2Message(d!);
      assert.ok(m.ok && m.value.encrypted?.kind === "sk");
      assert.ok(rx.open(d!, m.value.encrypted).ok, JSON.stringify(alg));
      const bad = d!.slice();
      bad[bad.length - 1]! ^= 1;
      const mb = decodeV2Message(bad);
      assert.ok(mb.ok && mb.value.encrypted?.kind === "sk");
      assert.equal(rx.open(bad, mb.value.encrypted).ok, false);
    }
    assert.equal(made.length, 2 * perSide, JSON.stringify({ alg, made }));
    tx.dispose();
    rx.dispose();
    // A use after dispose makes the contexts again and still round-trips.
    const [d] = tx.seal(HEADER, payloads.slice(0, 1));
    const m = decodeV2Message(d!);
    assert.ok(m.ok && m.value.encrypted?.kind === "sk");
    assert.ok(rx.open(d!, m.value.encrypted).ok);
    assert.equal(made.length, 4 * perSide);
    tx.dispose();
    rx.dispose();
  }
});

Deno.test("RFC 7383: a large message leaves as SKF fragments under the limit and reassembles", () => {
  for (const alg of SUITES) {
    const { tx, rx } = pair(alg);
    const frags = tx.seal(HEADER, payloads, 1000, true);
    assert.ok(frags.length >= 4, `${frags.length} fragments`);
    assert.ok(frags.every((f) => f.length <= 1000));
    const re = new Reassembly();
    let done: { first: number; inner: Uint8Array } | undefined;
    for (const f of [...frags].reverse()) {
      const m = decodeV2Message(f);
      assert.ok(m.ok && m.value.encrypted?.kind === "skf");
      const e = m.value.encrypted;
      const raw = rx.openRaw(f, e);
      assert.ok(raw.ok);
      const r = re.add(1, e.fragmentNumber, e.totalFragments, e.next, raw.inner);
      if (r.kind === "complete") done = r;
    }
    assert.ok(done !== undefined);
    const inner = decodeInner(done.first, done.inner);
    assert.ok(inner.ok);
    assert.deepEqual(inner.payloads.map((p) => p.kind), ["idr", "n", "v"]);
    // Below the limit no fragments are made.
    assert.equal(tx.seal(HEADER, payloads.slice(0, 1), 1000, true).length, 1);
  }
});

Deno.test("reassembly is bounded: too many fragments or bytes are refused, duplicates ignored", () => {
  const re = new Reassembly();
  assert.equal(re.add(1, 1, MAX_FRAGMENTS + 1, 35, new Uint8Array(1)).kind, "refused");
  assert.equal(re.add(1, 1, 3, 35, new Uint8Array(10)).kind, "incomplete");
  assert.equal(re.add(1, 1, 3, 35, new Uint8Array(10)).kind, "incomplete");
  assert.equal(re.bytes, 10);
  assert.equal(re.add(1, 2, 3, 0, new Uint8Array(70_000)).kind, "refused");
  assert.equal(re.bytes, 0);
  // A fragment of a newer message starts over.
  re.add(1, 1, 2, 35, new Uint8Array(4));
  re.add(2, 2, 2, 0, new Uint8Array(4));
  assert.equal(re.bytes, 4);
  // RFC 7383 §2.6: a fragment announcing fewer fragments than queued is discarded, more start over.
  assert.equal(re.add(2, 1, 1, 35, new Uint8Array(4)).kind, "refused");
  assert.equal(re.bytes, 4);
  assert.equal(re.add(2, 1, 3, 35, new Uint8Array(6)).kind, "incomplete");
  assert.equal(re.bytes, 6);
});

Deno.test("fragment queues: requests and responses apart per SA, bounded over all SAs", () => {
  const q = new FragmentQueues();
  // The same message ID both ways (RFC 7296 §2.2: separate counters) does not mix.
  assert.equal(q.add("a", "request", 3, 1, 2, 35, Uint8Array.of(1)).kind, "incomplete");
  assert.equal(q.add("a", "response", 3, 2, 2, 0, Uint8Array.of(9)).kind, "incomplete");
  const req = q.add("a", "request", 3, 2, 2, 0, Uint8Array.of(2));
  assert.ok(req.kind === "complete");
  assert.deepEqual([...req.inner], [1, 2]);
  assert.equal(req.first, 35);
  assert.equal(q.bytes, 1, "the response's fragment is still held");
  const resp = q.add("a", "response", 3, 1, 2, 41, Uint8Array.of(8));
  assert.ok(resp.kind === "complete");
  assert.deepEqual([...resp.inner], [8, 9]);
  assert.equal(resp.first, 41);
  assert.equal(q.bytes, 0);
  // Every SA may hold up to MAX_BYTES, but not more than MAX_TOTAL_BYTES in all.
  const big = new Uint8Array(MAX_BYTES / 2);
  let sas = 0;
  for (; sas < 1000; sas++) {
    if (q.add(`sa${sas}`, "response", 1, 1, 2, 35, big).kind === "refused") break;
  }
  assert.equal(sas, MAX_TOTAL_BYTES / big.length);
  assert.ok(q.bytes <= MAX_TOTAL_BYTES);
  q.forget("sa0");
  assert.equal(q.add("sa0", "request", 1, 1, 2, 35, big).kind, "incomplete", "room again");
  for (let k = 0; k < sas; k++) q.forget(`sa${k}`);
  assert.equal(q.bytes, 0);
});

Deno.test("cookies: valid for the same Ni/address/SPIi, across one secret change, not two", () => {
  let n = 0;
  const jar = new CookieJar((k) => new Uint8Array(k).fill(++n), 0);
  const ni = new Uint8Array(32).fill(7);
  const spi = new Uint8Array(8).fill(9);
  const ck = jar.make(c, ni, "192.0.2.2", spi, 0);
  assert.ok(jar.valid(c, ck, ni, "192.0.2.2", spi, 10));
  assert.ok(!jar.valid(c, ck, ni, "192.0.2.3", spi, 10));
  assert.ok(!jar.valid(c, ck, new Uint8Array(32), "192.0.2.2", spi, 10));
  assert.ok(jar.valid(c, ck, ni, "192.0.2.2", spi, SECRET_LIFETIME_MS + 1));
  assert.ok(!jar.valid(c, ck, ni, "192.0.2.2", spi, 2 * SECRET_LIFETIME_MS + 2));
});
