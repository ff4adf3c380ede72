/**
 * ESP framing with AEADs: the RFC 7634 Appendix A packet decapsulates on every backend;
 * encapsulation matches an independent computation with node:crypto; malformed, forged and
 * replayed packets are dropped and counted, never thrown.
 */

import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import vector from "../../vectors/data/esp_rfc7634.json" with { type: "json" };
import { availableBackends, hex, toHex } from "../../vectors/backends.ts";
import {
  ESP_HEADER,
  ESP_MAX_TRAILER,
  InboundAeadSa,
  NEXT_IPV4,
  OutboundAeadSa,
} from "../../../src/esp/esp_aead.ts";
import type { AeadAlg, CryptoBackend } from "../../../src/crypto/types.ts";

const NODE_NAME: Record<AeadAlg, string> = {
  aes128gcm16: "aes-128-gcm",
  aes256gcm16: "aes-256-gcm",
  chacha20poly1305: "chacha20-poly1305",
};
const KEY_LEN: Record<AeadAlg, number> = { aes128gcm16: 16, aes256gcm16: 32, chacha20poly1305: 32 };

/** ESP built independently from RFC 4303 §2 with node:crypto, padding given explicitly. */
function independentEsp(
  alg: AeadAlg,
  key: Uint8Array,
  salt: Uint8Array,
  spi: number,
  seq: number,
  inner: Uint8Array,
  pad: number[],
  nextHeader: number,
  esn = false,
): Uint8Array {
  const header = new Uint8Array(16);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, spi);
  dv.setUint32(4, seq);
  dv.setUint32(12, seq); // IV: the 64-bit sequence number
  const plain = new Uint8Array([...inner, ...pad, pad.length, nextHeader]);
  const nonce = new Uint8Array([...salt, ...header.subarray(8, 16)]);
  // deno-lint-ignore no-explicit-any
  const c = createCipheriv(NODE_NAME[alg] as any, key, nonce, { authTagLength: 16 } as any);
  const aad = esn // SPI, Seq(high) = 0 here, Seq(low)
    ? new Uint8Array([...header.subarray(0, 4), 0, 0, 0, 0, ...header.subarray(4, 8)])
    : header.subarray(0, 8);
  // deno-lint-ignore no-explicit-any
  (c as any).setAAD(aad);
  const ct = new Uint8Array([...c.update(plain), ...c.final()]);
  // deno-lint-ignore no-explicit-any
  const tag = (c as any).getAuthTag() as Uint8Array;
  return new Uint8Array([...header, ...ct, ...tag]);
}

function pair(b: CryptoBackend, alg: AeadAlg, window = 64, esn = false) {
  const key = Uint8Array.from({ length: KEY_LEN[alg] }, (_, i) => i * 3 + 1);
  const salt = hex("0badcafe");
  const out = new OutboundAeadSa(0xc0ffee01, b.aead(alg, key)!, salt, esn);
  const inb = new InboundAeadSa(0xc0ffee01, b.aead(alg, key)!, salt, esn, window);
  return { key, salt, out, inb };
}

/** Puts `inner` into a pooled-style buffer with headroom and tailroom, encapsulates it. */
function encap(out: OutboundAeadSa, inner: Uint8Array): Uint8Array {
  const buf = new Uint8Array(ESP_HEADER + inner.length + ESP_MAX_TRAILER + 8);
  buf.set(inner, ESP_HEADER);
  const n = out.encapsulate(buf, ESP_HEADER, inner.length, NEXT_IPV4);
  assert.ok(n > 0);
  return buf.subarray(0, n);
}

for (const b of await availableBackends()) {
  Deno.test({
    name: `${b.name}: RFC 7634 Appendix A ESP packet decapsulates to the source packet`,
    // /dev/crypto offers AES-GCM only: ChaCha20-Poly1305 is libcrypto's and the software one's.
    ignore: !b.supports("aead:chacha20poly1305"),
  }, () => {
    const esp = hex(vector.outerIpv4Packet).slice(20); // after the outer IPv4 header
    const sa = new InboundAeadSa(
      vector.spi,
      b.aead("chacha20poly1305", hex(vector.key))!,
      hex(vector.salt),
      false,
      64,
    );
    const r = sa.decapsulate(esp, 0, esp.length);
    assert.ok(r);
    assert.equal(r.seq, vector.seq);
    assert.equal(r.nextHeader, vector.nextHeader);
    assert.equal(toHex(esp.subarray(r.offset, r.offset + r.length)), vector.innerPacket);
    // The same packet again is a replay: dropped and counted.
    const again = hex(vector.outerIpv4Packet).slice(20);
    assert.equal(sa.decapsulate(again, 0, again.length), undefined);
    assert.equal(sa.counters.replayDrops, 1);
  });

  for (const alg of ["aes128gcm16", "aes256gcm16", "chacha20poly1305"] as const) {
    if (!b.supports(`aead:${alg}`)) continue;
    Deno.test(`${b.name}: ${alg} encapsulation equals an independent computation`, () => {
      for (const len of [1, 20, 84, 1399, 1400]) {
        const { key, salt, out } = pair(b, alg);
        const inner = Uint8Array.from({ length: len }, (_, i) => (i * 13 + len) & 0xff);
        const got = encap(out, inner);
        const pad = Array.from({ length: (4 - ((len + 2) & 3)) & 3 }, (_, i) => i + 1);
        const want = independentEsp(alg, key, salt, 0xc0ffee01, 1, inner, pad, NEXT_IPV4);
        assert.equal(toHex(got), toHex(want), `inner length ${len}`);
      }
    });

    Deno.test(`${b.name}: ${alg} round trip, forged and malformed packets counted`, () => {
      const { key, salt, out, inb } = pair(b, alg);
      const inner = Uint8Array.from({ length: 100 }, (_, i) => i);
      const p1 = encap(out, inner);
      const r = inb.decapsulate(p1, 0, p1.length);
      assert.ok(r);
      assert.equal(toHex(p1.subarray(r.offset, r.offset + r.length)), toHex(inner));

      const p2 = encap(out, inner).slice();
      p2[40] = p2[40]! ^ 1; // flipped ciphertext bit
      assert.equal(inb.decapsulate(p2, 0, p2.length), undefined);
      assert.equal(inb.counters.icvFailures, 1);
      assert.equal(inb.replay.highest, 1, "a forged packet must not move the window");

      for (const n of [0, 7, 33]) {
        assert.equal(inb.decapsulate(new Uint8Array(n), 0, n), undefined);
      }
      assert.equal(inb.decapsulate(p1, 10, p1.length), undefined); // runs past the buffer
      assert.equal(inb.counters.malformedDrops, 4);

      // Bad padding and an unknown next header, correctly authenticated.
      const badPad = independentEsp(alg, key, salt, 0xc0ffee01, 7, inner, [1, 9], NEXT_IPV4);
      assert.equal(inb.decapsulate(badPad, 0, badPad.length), undefined);
      const badNext = independentEsp(alg, key, salt, 0xc0ffee01, 8, inner, [1, 2], 17);
      assert.equal(inb.decapsulate(badNext, 0, badNext.length), undefined);
      assert.equal(inb.counters.malformedDrops, 6);
      // Dummy packets (next header 59) are discarded silently (RFC 4303 §2.6).
      const dummy = independentEsp(alg, key, salt, 0xc0ffee01, 9, inner, [1, 2], 59);
      assert.equal(inb.decapsulate(dummy, 0, dummy.length), undefined);
      assert.equal(inb.counters.malformedDrops, 6);
    });
  }

  Deno.test(`${b.name}: with ESN the AAD is SPI || Seq(high) || Seq(low) (RFC 4106 §5)`, () => {
    const { key, salt, out, inb } = pair(b, "aes256gcm16", 1024, true);
    const inner = Uint8Array.from({ length: 61 }, (_, i) => 255 - i);
    const got = encap(out, inner);
    const want = independentEsp(
      "aes256gcm16",
      key,
      salt,
      0xc0ffee01,
      1,
      inner,
      [1],
      NEXT_IPV4,
      true,
    );
    assert.equal(toHex(got), toHex(want));
    assert.ok(inb.decapsulate(got, 0, got.length));
    // A receiver without ESN computes a different AAD: the ICV fails.
    const plain = pair(b, "aes256gcm16", 1024, false).inb;
    assert.equal(plain.decapsulate(want, 0, want.length), undefined);
    assert.equal(plain.counters.icvFailures, 1);
  });
}
