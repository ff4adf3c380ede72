/**
 * ESP framing with a CBC cipher and a truncated MAC (RFC 4303 §3.3.2.1, §3.4.4.1), on every
 * backend: encapsulation equals an independent computation with node:crypto (cipher and HMAC
 * over SPI … Next Header, ESN high bits appended for the ICV only); packets built by node:crypto
 * decapsulate; forged, malformed and replayed packets are dropped and counted, never thrown.
 */

import assert from "node:assert/strict";
import { createCipheriv, createHmac } from "node:crypto";
import { availableBackends, toHex } from "../../vectors/backends.ts";
import { InboundCbcSa, OutboundCbcSa } from "../../../src/esp/esp_cbc.ts";
import { NEXT_IPV4, NEXT_IPV6 } from "../../../src/esp/esp_sa.ts";
import { CIPHER_BLOCK, CIPHER_KEY_LENGTH, MAC_PARAMS } from "../../../src/crypto/params.ts";
import type { CipherAlg, CryptoBackend, MacAlg } from "../../../src/crypto/types.ts";

const SPI = 0x5eed0042;
const NODE_CIPHER: Record<CipherAlg, string> = {
  aes128cbc: "aes-128-cbc",
  aes192cbc: "aes-192-cbc",
  aes256cbc: "aes-256-cbc",
  "3descbc": "des-ede3-cbc",
};
const NODE_HMAC: Partial<Record<MacAlg, string>> = {
  "hmac-sha1-96": "sha1",
  "hmac-sha256-128": "sha256",
  "hmac-sha384-192": "sha384",
  "hmac-sha512-256": "sha512",
};

const SUITES: [CipherAlg, MacAlg][] = [
  ["aes128cbc", "hmac-sha256-128"],
  ["aes128cbc", "hmac-sha1-96"],
  ["aes256cbc", "hmac-sha256-128"],
  ["aes256cbc", "hmac-sha512-256"],
  ["3descbc", "hmac-sha1-96"],
];

interface Keys {
  cipher: CipherAlg;
  mac: MacAlg;
  encKey: Uint8Array;
  macKey: Uint8Array;
}

function keys(cipher: CipherAlg, mac: MacAlg): Keys {
  return {
    cipher,
    mac,
    encKey: Uint8Array.from({ length: CIPHER_KEY_LENGTH[cipher] }, (_, i) => (i * 29 + 7) & 0xff),
    macKey: Uint8Array.from({ length: MAC_PARAMS[mac].keyLength }, (_, i) => (i * 11 + 3) & 0xff),
  };
}

/** ESP built from RFC 4303 §2 with node:crypto, IV and padding given explicitly. */
function independentEsp(
  k: Keys,
  seq: number,
  iv: Uint8Array,
  inner: Uint8Array,
  pad: number[],
  nextHeader: number,
  esn = false,
): Uint8Array {
  const header = new Uint8Array(8);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, SPI);
  dv.setUint32(4, seq);
  const plain = new Uint8Array([...inner, ...pad, pad.length, nextHeader]);
  const c = createCipheriv(NODE_CIPHER[k.cipher], k.encKey, iv).setAutoPadding(false);
  const ct = new Uint8Array([...c.update(plain), ...c.final()]);
  const body = new Uint8Array([...header, ...iv, ...ct]);
  const h = createHmac(NODE_HMAC[k.mac]!, k.macKey).update(body);
  if (esn) h.update(new Uint8Array(4)); // Seq(high) = 0, for the ICV only (RFC 4304 §2)
  const icv = new Uint8Array(h.digest()).subarray(0, MAC_PARAMS[k.mac].icvLength);
  return new Uint8Array([...body, ...icv]);
}

function pair(b: CryptoBackend, k: Keys, window = 64, esn = false) {
  const out = new OutboundCbcSa(SPI, b.cipher(k.cipher, k.encKey)!, b.mac(k.mac, k.macKey)!, esn);
  const inb = new InboundCbcSa(
    SPI,
    b.cipher(k.cipher, k.encKey)!,
    b.mac(k.mac, k.macKey)!,
    esn,
    window,
  );
  return { out, inb };
}

/** Encapsulates `inner` in a buffer with 32 bytes of headroom and 64 of tailroom. */
function encap(out: OutboundCbcSa, inner: Uint8Array, next = NEXT_IPV4): Uint8Array {
  const buf = new Uint8Array(32 + inner.length + 64);
  buf.set(inner, 32);
  const n = out.encapsulate(buf, 32, inner.length, next);
  assert.ok(n > 0);
  return buf.subarray(32 - out.headerLength, 32 - out.headerLength + n);
}

const minimalPad = (len: number, bs: number) =>
  Array.from({ length: (bs - ((len + 2) % bs)) % bs }, (_, i) => i + 1);

for (const b of await availableBackends()) {
  for (const [cipher, mac] of SUITES) {
    // /dev/crypto offers AES-CBC and HMAC only (no 3DES, no AES-XCBC).
    if (!b.supports(`cipher:${cipher}`) || !b.supports(`mac:${mac}`)) continue;
    const k = keys(cipher, mac);
    const bs = CIPHER_BLOCK[cipher];
    const name = `${b.name}: ${cipher} + ${mac}`;

    Deno.test(`${name}: encapsulation equals an independent computation`, () => {
      const { out } = pair(b, k);
      const ivs = new Set<string>();
      for (const [i, len] of [1, 14, 20, 84, 1399, 1400].entries()) {
        const inner = Uint8Array.from({ length: len }, (_, j) => (j * 13 + len) & 0xff);
        const got = encap(out, inner, i % 2 === 0 ? NEXT_IPV4 : NEXT_IPV6);
        const iv = got.slice(8, 8 + bs);
        ivs.add(toHex(iv));
        const want = independentEsp(
          k,
          i + 1,
          iv,
          inner,
          minimalPad(len, bs),
          i % 2 === 0 ? NEXT_IPV4 : NEXT_IPV6,
        );
        assert.equal(toHex(got), toHex(want), `inner length ${len}`);
        assert.equal((got.length - 8 - bs - MAC_PARAMS[mac].icvLength) % bs, 0);
      }
      assert.equal(ivs.size, 6, "every packet gets a fresh random IV (RFC 3602 §2.3)");
      assert.equal(out.counters.packets, 6);
    });

    Deno.test(`${name}: independent packets decapsulate; bad ones are counted`, () => {
      const { inb } = pair(b, k);
      const iv = Uint8Array.from({ length: bs }, (_, i) => 0xa0 + i);
      const inner = Uint8Array.from({ length: 100 }, (_, i) => i);
      // Longer padding than needed is legal (RFC 4303 §2.4: up to 255 bytes).
      const longPad = Array.from({ length: 2 * bs + minimalPad(100, bs).length }, (_, i) => i + 1);
      const p1 = independentEsp(k, 1, iv, inner, longPad, NEXT_IPV4);
      const r = inb.decapsulate(p1, 0, p1.length);
      assert.ok(r);
      assert.equal(r.seq, 1);
      assert.equal(r.nextHeader, NEXT_IPV4);
      assert.equal(toHex(p1.subarray(r.offset, r.offset + r.length)), toHex(inner));

      const again = independentEsp(k, 1, iv, inner, longPad, NEXT_IPV4);
      assert.equal(inb.decapsulate(again, 0, again.length), undefined);
      assert.equal(inb.counters.replayDrops, 1);

      const forged = independentEsp(k, 5, iv, inner, minimalPad(100, bs), NEXT_IPV4);
      forged[8 + bs + 3] = forged[8 + bs + 3]! ^ 0x40; // flipped ciphertext bit
      assert.equal(inb.decapsulate(forged, 0, forged.length), undefined);
      assert.equal(inb.counters.icvFailures, 1);
      assert.equal(inb.replay.highest, 1, "a forged packet must not move the window");

      const icvLength = MAC_PARAMS[mac].icvLength;
      for (const n of [0, 7, 8 + bs + icvLength, 8 + bs + icvLength + bs + 1]) {
        assert.equal(inb.decapsulate(new Uint8Array(n), 0, n), undefined, `length ${n}`);
      }
      assert.equal(inb.decapsulate(p1, 4, p1.length), undefined); // runs past the buffer
      assert.equal(inb.counters.malformedDrops, 5);

      const pad = minimalPad(100, bs); // 10 bytes for AES, 2 for 3DES
      assert.ok(pad.length > 0);
      const badPad = independentEsp(k, 7, iv, inner, pad.map(() => 9), NEXT_IPV4);
      assert.equal(inb.decapsulate(badPad, 0, badPad.length), undefined);
      const badNext = independentEsp(k, 8, iv, inner, pad, 17);
      assert.equal(inb.decapsulate(badNext, 0, badNext.length), undefined);
      assert.equal(inb.counters.malformedDrops, 7);
      const dummy = independentEsp(k, 9, iv, inner, pad, 59);
      assert.equal(inb.decapsulate(dummy, 0, dummy.length), undefined);
      assert.equal(inb.counters.malformedDrops, 7, "dummy packets are discarded silently");
      assert.equal(inb.replay.highest, 9);
    });
  }

  Deno.test(`${b.name}: with ESN the ICV covers Seq(high) but the packet does not carry it`, () => {
    const k = keys("aes128cbc", "hmac-sha256-128");
    const { out, inb } = pair(b, k, 1024, true);
    const inner = Uint8Array.from({ length: 61 }, (_, i) => 255 - i);
    const got = encap(out, inner);
    const want = independentEsp(k, 1, got.slice(8, 24), inner, minimalPad(61, 16), NEXT_IPV4, true);
    assert.equal(toHex(got), toHex(want));
    assert.ok(inb.decapsulate(got.slice(), 0, got.length));
    // A receiver without ESN computes the ICV without Seq(high): it fails.
    const plain = pair(b, k, 1024, false).inb;
    assert.equal(plain.decapsulate(want, 0, want.length), undefined);
    assert.equal(plain.counters.icvFailures, 1);
  });

  Deno.test({
    name: `${b.name}: aes128cbc + aes-xcbc-96 round trip`,
    ignore: !b.supports("mac:aes-xcbc-96"),
  }, () => {
    const k = keys("aes128cbc", "aes-xcbc-96");
    const { out, inb } = pair(b, k);
    const inner = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const p = encap(out, inner);
    assert.equal(p.length, 8 + 16 + 304 + 12);
    const r = inb.decapsulate(p, 0, p.length);
    assert.ok(r);
    assert.equal(toHex(p.subarray(r.offset, r.offset + r.length)), toHex(inner));
  });
}
