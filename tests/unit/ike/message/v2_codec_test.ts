/**
 * IKEv2 codec behaviour: the strongSwan capture, the critical-bit rule, SK/SKF placement and
 * helpers, and typed errors naming payload and offset.
 */

import assert from "node:assert/strict";
import {
  DecodeError,
  decodeV2Message,
  decodeV2Payloads,
  DhGroupV2,
  encodeV2Message,
  EncrV2,
  ExchangeTypeV2,
  FlagV2,
  nameOf,
  NotifyTypeV2,
  PayloadTypeV2,
  type PayloadV2,
  PrfV2,
  splitEncrypted,
  stripPadding,
  TransformTypeV2,
} from "../../../../src/ike/message/v2/mod.ts";
import { loadCapture } from "./capture.ts";
import { tohex, unhex } from "./helpers.ts";

const V2 = loadCapture().filter((m) => m.name.startsWith("IKEv2"));
const HDR = {
  spiI: unhex("a1a2a3a4a5a6a7a8"),
  spiR: unhex("b1b2b3b4b5b6b7b8"),
  exchangeType: ExchangeTypeV2.INFORMATIONAL,
  flags: FlagV2.INITIATOR,
  messageId: 3,
};

function fails(
  r: { ok: true } | { ok: false; error: DecodeError },
  code: string,
  payload: string,
  offset: number,
): DecodeError {
  assert.equal(r.ok, false, "expected a decode error");
  if (r.ok) throw new Error("unreachable");
  assert.ok(r.error instanceof DecodeError);
  assert.deepEqual(
    { code: r.error.code, payload: r.error.payload, offset: r.error.offset },
    { code, payload, offset },
    r.error.message,
  );
  return r.error;
}

const msg = (payloads: PayloadV2[]) => encodeV2Message(HDR, payloads);

Deno.test("strongSwan IKEv2: every captured datagram decodes and re-encodes byte for byte", () => {
  assert.equal(V2.length, 6);
  for (const c of V2) {
    const r = decodeV2Message(c.bytes);
    assert.ok(r.ok, r.ok ? "" : `${c.name}: ${r.error.message}`);
    assert.equal(tohex(encodeV2Message(r.value.header, r.value.payloads)), tohex(c.bytes), c.name);
    assert.equal(r.value.encrypted !== undefined, c.name.includes("SK"), c.name);
  }
});

Deno.test("strongSwan IKEv2: IKE_SA_INIT request carries the configured proposals and NAT-D", () => {
  const r = decodeV2Message(V2[0]!.bytes);
  assert.ok(r.ok);
  const m = r.value;
  assert.equal(m.header.exchangeType, ExchangeTypeV2.IKE_SA_INIT);
  assert.equal(m.header.flags, FlagV2.INITIATOR);
  const sa = m.payloads[0]!;
  assert.ok(sa.kind === "sa");
  // aes128gcm16-prfsha256-x25519, aes256-sha256-modp2048
  const first = sa.proposals[0]!.transforms.map((t) => [t.type, t.id]);
  assert.deepEqual(first, [
    [TransformTypeV2.ENCR, EncrV2.AES_GCM_16],
    [TransformTypeV2.PRF, PrfV2.HMAC_SHA2_256],
    [TransformTypeV2.DH, DhGroupV2.CURVE25519],
  ]);
  const ke = m.payloads[1]!;
  assert.ok(ke.kind === "ke");
  assert.equal(ke.group, 31);
  assert.equal(ke.data.length, 32);
  const notes = m.payloads.flatMap((
    p,
  ) => (p.kind === "n" ? [nameOf(NotifyTypeV2, p.notifyType)] : []));
  assert.deepEqual(notes, [
    "NAT_DETECTION_SOURCE_IP",
    "NAT_DETECTION_DESTINATION_IP",
    "IKEV2_FRAGMENTATION_SUPPORTED",
    "SIGNATURE_HASH_ALGORITHMS",
    "REDIRECT_SUPPORTED",
  ]);
});

Deno.test("strongSwan IKEv2: SK data splits for AES-GCM-16 (8-octet IV, 16-octet ICV)", () => {
  const r = decodeV2Message(V2[5]!.bytes); // INFORMATIONAL response with an empty SK
  assert.ok(r.ok);
  const sk = r.value.encrypted;
  assert.ok(sk !== undefined && sk.kind === "sk");
  assert.equal(sk.next, PayloadTypeV2.NONE);
  const parts = splitEncrypted(sk.data, 8, 16, sk.offset + 4);
  assert.ok(parts.ok);
  assert.equal(parts.value.iv.length, 8);
  assert.equal(parts.value.ciphertext.length, 1);
  assert.equal(parts.value.icv.length, 16);
  // The associated data is the message up to the SK data (RFC 5282 §5.1).
  assert.equal(sk.offset + 4 + sk.data.length, V2[5]!.bytes.length);
  fails(splitEncrypted(sk.data, 16, 16, 32), "truncated", "SK", 48);
});

Deno.test("IKEv2: stripPadding removes pad length and padding, rejects impossible pad lengths", () => {
  const inner = unhex("0000000c" + "0300000401020304");
  const plain = Uint8Array.of(...inner, 9, 9, 2);
  const r = stripPadding(plain);
  assert.ok(r.ok);
  assert.equal(tohex(r.value), tohex(inner));
  fails(stripPadding(Uint8Array.of(1, 5)), "bad-length", "SK", 1);
  fails(stripPadding(new Uint8Array(0)), "truncated", "SK", 0);
});

Deno.test("IKEv2: an unknown critical payload is reported with its type; non-critical is kept", () => {
  const kept = decodeV2Message(msg([
    { kind: "unknown", type: 60, data: unhex("01") },
    { kind: "nonce", data: unhex("02".repeat(16)) },
  ]));
  assert.ok(kept.ok);
  assert.deepEqual(kept.value.payloads.map((p) => p.kind), ["unknown", "nonce"]);
  const bytes = msg([
    { kind: "nonce", data: unhex("02".repeat(16)) },
    { kind: "unknown", type: 60, critical: true, data: unhex("01") },
  ]);
  const e = fails(decodeV2Message(bytes), "unsupported-critical", "payload 60", 48);
  assert.equal(e.payloadType, 60);
});

Deno.test("IKEv2: the critical bit of a known payload is kept and the payload decoded", () => {
  const r = decodeV2Message(msg([{ kind: "nonce", critical: true, data: unhex("03".repeat(16)) }]));
  assert.ok(r.ok);
  const n = r.value.payloads[0]!;
  assert.equal(n.kind, "nonce");
  assert.equal(n.critical, true);
});

Deno.test("IKEv2: SK must be last, on decode and on encode", () => {
  const bytes = msg([
    { kind: "nonce", data: unhex("04".repeat(16)) },
    { kind: "sk", next: PayloadTypeV2.D, data: unhex("05".repeat(30)) },
  ]);
  const r = decodeV2Message(bytes);
  assert.ok(r.ok);
  assert.equal(r.value.encrypted?.kind, "sk");
  const extra = Uint8Array.of(...bytes, 1, 2, 3, 4);
  extra[27] = extra.length;
  // Bytes after the SK payload: the SK header's length stays, so they are left over.
  fails(decodeV2Message(extra), "trailing-bytes", "payload chain", bytes.length);
  assert.throws(() =>
    msg([
      { kind: "sk", next: 0, data: unhex("00") },
      { kind: "nonce", data: unhex("00") },
    ])
  );
});

Deno.test("IKEv2: SKF fragment numbers are checked (RFC 7383 §2.5)", () => {
  const skf = (n: number, total: number, next: number) =>
    decodeV2Message(
      msg([{
        kind: "skf",
        next,
        fragmentNumber: n,
        totalFragments: total,
        data: unhex("00".repeat(24)),
      }]),
    );
  assert.ok(skf(1, 1, PayloadTypeV2.IDI).ok);
  assert.ok(skf(3, 3, 0).ok);
  fails(skf(0, 3, 0), "bad-syntax", "SKF", 32);
  fails(skf(4, 3, 0), "bad-syntax", "SKF", 32);
  fails(skf(2, 3, PayloadTypeV2.IDI), "bad-syntax", "SKF", 28);
});

Deno.test("IKEv2: structural errors name payload and offset", () => {
  const ts = msg([{
    kind: "tsi",
    selectors: [{
      tsType: 7,
      protocol: 0,
      startPort: 0,
      endPort: 65535,
      start: unhex("c0000200"),
      end: unhex("c00002ff"),
    }],
  }]);
  // TSi body at 32: count, 3 reserved; selector at 36 with its length at 38.
  const badLen = ts.slice();
  badLen[39] = 40;
  fails(decodeV2Message(badLen), "truncated", "TSi", 40);
  const v6 = ts.slice();
  v6[36] = 8; // IPv6 type with IPv4 length
  fails(decodeV2Message(v6), "bad-length", "TSi", 38);
  const count = ts.slice();
  count[32] = 2;
  fails(decodeV2Message(count), "truncated", "TSi", 52);
  const eap = msg([{ kind: "eap", code: 2, identifier: 1, eapType: 1, data: unhex("61") }]);
  const eapLen = eap.slice();
  eapLen[35] = 7;
  fails(decodeV2Message(eapLen), "bad-length", "EAP", 34);
  const v1 = msg([{ kind: "nonce", data: unhex("00") }]);
  v1[17] = 0x10;
  fails(decodeV2Message(v1), "bad-version", "header", 17);
});

Deno.test("IKEv2: CP attribute reserved bit is ignored on receipt and sent as zero", () => {
  const bytes = msg([{
    kind: "cp",
    cfgType: 2,
    attributes: [{ type: 1, value: unhex("c0000202") }],
  }]);
  const flagged = bytes.slice();
  flagged[36]! |= 0x80;
  const r = decodeV2Message(flagged);
  assert.ok(r.ok);
  const cp = r.value.payloads[0]!;
  assert.ok(cp.kind === "cp");
  assert.deepEqual(cp.attributes.map((a) => a.type), [1]);
  assert.deepEqual(encodeV2Message(r.value.header, r.value.payloads), bytes);
});

Deno.test("IKEv2: decodeV2Payloads decodes a decrypted inner chain and rejects leftovers", () => {
  const inner: PayloadV2[] = [{ kind: "d", protocol: 1, spiSize: 0, spis: [] }];
  const bytes = msg(inner).subarray(28);
  const r = decodeV2Payloads(PayloadTypeV2.D, bytes, 60);
  assert.ok(r.ok);
  assert.equal(r.value.payloads[0]!.offset, 60);
  fails(
    decodeV2Payloads(PayloadTypeV2.D, Uint8Array.of(...bytes, 0), 60),
    "trailing-bytes",
    "payload chain",
    68,
  );
});

Deno.test("IKEv2: bytes after the last proposal of an SA are an error (found by the fuzz test)", () => {
  const bytes = msg([{
    kind: "sa",
    proposals: [
      { number: 1, protocol: 1, spi: unhex(""), transforms: [{ type: 4, id: 31, attributes: [] }] },
      { number: 2, protocol: 1, spi: unhex(""), transforms: [{ type: 4, id: 19, attributes: [] }] },
    ],
  }]);
  assert.ok(decodeV2Message(bytes).ok);
  const cut = bytes.slice();
  cut[32] = 0; // the first proposal now claims to be the last
  fails(decodeV2Message(cut), "trailing-bytes", "SA", 48);
});
