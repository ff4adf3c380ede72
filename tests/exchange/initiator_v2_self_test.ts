/**
 * Self-tests of the scripted IKEv2 initiator (tests/exchange/initiator_v2/) against RFC vectors
 * and an independent computation, so that exchange tests can trust it: ECP-256 KE payloads
 * (RFC 5903 §8.1), X25519 (RFC 7748 §6.1), the ChaCha20-Poly1305 IKEv2 message of RFC 7634
 * Appendix B, and SKEYSEED / SK_* / AUTH / KEYMAT / rekey keys (RFC 7296 §2.13-§2.18) against
 * values computed with Python's hmac module (initiator_v2/vectors/derive.py).
 */

import assert from "node:assert/strict";
import { Pt } from "./initiator_v2/consts.ts";
import { childKeys, dhKey, initKeys, pskAuth, rekeyKeys } from "./initiator_v2/crypto.ts";
import { type IkeSaState, V2Initiator } from "./initiator_v2/initiator.ts";
import { ikeKeySizes, parseSuite, proposals, skSuite } from "./initiator_v2/proposals.ts";
import { open, seal } from "./initiator_v2/sk.ts";
import {
  cat,
  cidr4,
  decodeChain,
  decodeMessage,
  deleteBody,
  encodeChain,
  hex,
  keBody,
  notify,
  parseDelete,
  parseSa,
  parseTs,
  saBody,
  tsBody,
  tsText,
  unhex,
  WireError,
} from "./initiator_v2/wire.ts";
import vectors from "./initiator_v2/vectors/derive.json" with { type: "json" };

Deno.test("RFC 5903 §8.1: ECP-256 KE payloads and shared secret", () => {
  const i = dhKey(
    19,
    unhex("C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 862D1433"),
  );
  const r = dhKey(
    19,
    unhex("C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 476BEE53"),
  );
  const kei = encodeChain([{ type: Pt.KE, body: keBody(19, i.pub) }]);
  assert.equal(
    hex(kei),
    hex(unhex(`00000048 00130000 DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF
      945D0C37 72581180 5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 389E0577 B8990BB3`)),
  );
  const ker = encodeChain([{ type: Pt.KE, body: keBody(19, r.pub) }]);
  assert.equal(
    hex(ker),
    hex(unhex(`00000048 00130000 D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C
      736FC755 4494BF63 56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 53E74F33 039872AB`)),
  );
  const girx = "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de";
  assert.equal(hex(i.shared(r.pub)), girx);
  assert.equal(hex(r.shared(i.pub)), girx);
  assert.throws(() => i.shared(r.pub.subarray(1)), /ECP KE of 63 bytes/);
});

Deno.test("RFC 7748 §6.1: X25519 (group 31)", () => {
  const a = dhKey(31, unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  const b = dhKey(31, unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  assert.equal(hex(a.pub), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  assert.equal(hex(b.pub), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const k = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  assert.equal(hex(a.shared(b.pub)), k);
  assert.equal(hex(b.shared(a.pub)), k);
  // RFC 8031 §2.2: a small-order point gives zero, which must be refused.
  assert.throws(() => a.shared(new Uint8Array(32)), /all zero|derivation|invalid/i);
});

Deno.test("MODP-2048 KE data is padded to the prime length both ways", () => {
  const a = dhKey(14), b = dhKey(14);
  assert.equal(a.pub.length, 256);
  assert.equal(hex(a.shared(b.pub)), hex(b.shared(a.pub)));
  assert.equal(dhKey(15).pub.length, 384);
});

Deno.test("RFC 7634 Appendix B: ChaCha20-Poly1305 Encrypted payload, byte for byte", () => {
  const key = cat(
    unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"),
    unhex("a0a1a2a3"),
  );
  const suite = skSuite(parseSuite("chacha20poly1305-prfsha256-curve25519", "ike"));
  const h = {
    spiI: unhex("c0c1c2c3c4c5c6c7"),
    spiR: unhex("d0d1d2d3d4d5d6d7"),
    version: 0x20,
    exchange: 37,
    flags: 0,
    messageId: 9,
  };
  const inner = unhex("0000000c0000400100 00000a");
  const msg = seal(
    suite,
    { e: key, a: new Uint8Array(0) },
    h,
    Pt.N,
    inner,
    unhex("1011121314151617"),
  );
  assert.equal(
    hex(msg),
    hex(unhex(`c0c1c2c3c4c5c6c7d0d1d2d3d4d5d6d7 2e202500000000090000004529000029
      1011121314151617610394701f8d017f 7c129248896b71bfe25236efd7cdc670 66906315b2`)),
  );
  const o = open(suite, { e: key, a: new Uint8Array(0) }, msg);
  assert.equal(hex(o.inner), hex(inner));
  assert.equal(o.firstInner, Pt.N);
  const bad = msg.slice();
  bad[40]! ^= 1;
  assert.throws(() => open(suite, { e: key, a: new Uint8Array(0) }, bad), WireError);
});

Deno.test("SKEYSEED, SK_*, AUTH, KEYMAT and rekey keys match an independent computation", () => {
  const v = vectors;
  const ni = unhex(v.ni), nr = unhex(v.nr), gir = unhex(v.gir);
  const spiI = unhex(v.spiI), spiR = unhex(v.spiR);
  for (const c of v.cases) {
    const s = parseSuite(c.name + "-ecp256", "ike");
    const hash = s.prf!.hash;
    const sizes = ikeKeySizes(s);
    const { skeyseed, keys } = initKeys(hash, sizes, ni, nr, gir, spiI, spiR);
    assert.equal(hex(skeyseed), c.skeyseed, c.name);
    assert.deepEqual(
      [keys.d, keys.ai, keys.ar, keys.ei, keys.er, keys.pi, keys.pr].map(hex),
      c.keys,
      c.name,
    );
    const auth = pskAuth(
      hash,
      new TextEncoder().encode(v.psk),
      unhex(c.msg1),
      nr,
      keys.pi,
      unhex(c.idi),
    );
    assert.equal(hex(auth), c.auth, c.name);
    const cni = unhex(c.childNi), cnr = unhex(c.childNr);
    const km = childKeys(hash, keys.d, cni, cnr, 20, 0);
    assert.equal(hex(cat(km.ei, km.ai, km.er, km.ar)), c.keymat, c.name);
    const kp = childKeys(hash, keys.d, cni, cnr, 20, 0, gir);
    assert.equal(hex(cat(kp.ei, kp.er)), c.keymatPfs, c.name);
    const rk = rekeyKeys(
      hash,
      hash,
      sizes,
      keys.d,
      gir,
      cni,
      cnr,
      unhex(c.rekeySpiI),
      unhex(c.rekeySpiR),
    );
    assert.equal(hex(cat(rk.d, rk.ai, rk.ar, rk.ei, rk.er, rk.pi, rk.pr)), c.rekeyKeys, c.name);
  }
});

Deno.test("SK round trip for every IKE suite; a flipped bit anywhere is refused", () => {
  for (
    const name of [
      "aes128gcm16-prfsha256-ecp256",
      "aes256-sha256-modp3072",
      "aes128-sha1-modp2048",
      "aes256gcm16-prfsha384-ecp384",
      "chacha20poly1305-prfsha256-curve25519",
    ]
  ) {
    const s = parseSuite(name, "ike");
    const sk = skSuite(s);
    const sizes = ikeKeySizes(s);
    const k = { e: new Uint8Array(sizes.encr).fill(7), a: new Uint8Array(sizes.integ).fill(9) };
    const h = {
      spiI: new Uint8Array(8).fill(1),
      spiR: new Uint8Array(8).fill(2),
      version: 0x20,
      exchange: 37,
      flags: 8,
      messageId: 3,
    };
    const inner = encodeChain([notify(16384), {
      type: Pt.D,
      body: deleteBody({ protocol: 1, spis: [] }),
    }]);
    const iv = new Uint8Array(s.encr.icv > 0 ? 8 : 16).fill(5);
    for (const extra of [0, 2]) {
      const m = seal(sk, k, h, Pt.N, inner, iv, undefined, extra);
      assert.equal(decodeMessage(m).payloads[0]!.type, Pt.SK);
      const o = open(sk, k, m);
      assert.equal(hex(o.inner), hex(inner), name);
      assert.deepEqual(decodeChain(o.firstInner, o.inner).map((p) => p.type), [Pt.N, Pt.D]);
      for (const at of [0, 19, 28, 33, m.length - 1]) {
        const bad = m.slice();
        bad[at]! ^= 0x40;
        assert.throws(() => open(sk, k, bad), WireError, `${name} bit at ${at}`);
      }
    }
  }
});

/** Two initiator objects sharing one IKE SA in opposite roles. */
function mirroredPair(ike: string, fragmentSize: number) {
  const a = new V2Initiator({
    psk: "x",
    self: { address: "192.0.2.2", port: 500 },
    responder: { address: "192.0.2.1", port: 500 },
    ike: [ike],
    fragmentSize,
  });
  const b = new V2Initiator({
    psk: "x",
    self: { address: "192.0.2.1", port: 500 },
    responder: { address: "192.0.2.2", port: 500 },
    ike: [ike],
  });
  const s = parseSuite(ike, "ike");
  const { keys } = initKeys(
    s.prf!.hash,
    ikeKeySizes(s),
    a.ni,
    b.ni,
    new Uint8Array(32).fill(3),
    a.spiI,
    b.spiI,
  );
  const base: IkeSaState = {
    spiI: a.spiI,
    spiR: b.spiI,
    suite: s,
    keys,
    weInitiated: true,
    msgId: 1,
    peerMsgId: 0,
    lastResponse: [],
  };
  a.sa = { ...base };
  b.sa = { ...base, weInitiated: false };
  a.fragmentation = b.fragmentation = true;
  return { a, b };
}

Deno.test("RFC 7383: SKF fragments reassemble in any order, and only when all arrived", () => {
  for (const ike of ["aes128gcm16-prfsha256-ecp256", "aes256-sha256-modp3072"]) {
    const { a, b } = mirroredPair(ike, 100);
    const payloads = [notify(16384), { type: Pt.V, body: new Uint8Array(450).fill(0x5a) }];
    const frags = a.request(35, payloads);
    assert.equal(frags.length, 5, ike);
    for (const [i, f] of frags.entries()) {
      const m = decodeMessage(f);
      assert.equal(m.payloads[0]!.type, Pt.SKF);
      assert.equal(m.payloads[0]!.next, i === 0 ? Pt.N : 0, "Next Payload only in fragment 1");
      assert.equal(m.header.messageId, 1);
    }
    const order = [3, 0, 4, 1];
    for (const i of order) assert.equal(b.unprotect(frags[i]!), undefined);
    const r = b.unprotect(frags[2]!)!;
    assert.deepEqual(r.types, [Pt.N, Pt.V]);
    assert.equal(hex(r.first(Pt.V)!.body), hex(payloads[1]!.body));
    // Not fragmented when small.
    assert.equal(a.request(37, [notify(16384)]).length, 1);
  }
});

Deno.test("codec: SA, TS and Delete bodies round trip; bad lengths throw", () => {
  const suites = ["aes128gcm16-prfsha256-ecp256", "aes256-sha256-modp3072"].map((s) =>
    parseSuite(s, "ike")
  );
  const props = proposals(suites, 1, new Uint8Array(0));
  assert.deepEqual(parseSa(saBody(props)), props);
  const esp = proposals([parseSuite("aes128-sha256-modp2048", "esp")], 3, unhex("01020304"), false);
  assert.deepEqual(parseSa(saBody(esp)), esp);
  assert.deepEqual(esp[0]!.transforms.map((t) => t.type), [1, 3, 5]);
  const ts = [cidr4("10.2.0.0/16"), cidr4("10.2.1.5/32", 6, [80, 80])];
  assert.deepEqual(parseTs(tsBody(ts)).map(tsText), [
    "10.2.0.0-10.2.255.255",
    "10.2.1.5-10.2.1.5[6/80-80]",
  ]);
  // RFC 7296 §3.13.1: only types 7 (4-byte) and 8 (16-byte addresses) exist.
  const zeroType = tsBody([cidr4("10.2.0.0/16")]);
  zeroType[4] = 0;
  assert.throws(() => parseTs(zeroType), /selector of type 0/);
  const d = { protocol: 3, spis: [unhex("01020304"), unhex("0a0b0c0d")] };
  assert.deepEqual(parseDelete(deleteBody(d)), d);
  assert.throws(() => parseSa(saBody(props).subarray(0, 20)), WireError);
  assert.throws(() => decodeChain(Pt.N, Uint8Array.of(0, 0, 0, 3)), WireError);
  assert.throws(() => decodeChain(Pt.N, Uint8Array.of(0, 0, 0, 9, 1)), WireError);
});
