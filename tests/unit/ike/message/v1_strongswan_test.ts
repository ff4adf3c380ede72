/**
 * IKEv1 datagrams captured between two strongSwan 5.9 daemons (tests/vectors/ike/
 * strongswan_capture.json): they decode to what the initiator's configuration says
 * (proposals aes128-sha256-modp2048 and aes256-sha1-ecp256, PSK), and re-encoding the decoded
 * plaintext messages reproduces the captured bytes exactly.
 */

import assert from "node:assert/strict";
import {
  AuthMethodV1,
  type DecodedPayloadV1,
  decodeV1Message,
  encodeV1Message,
  ExchangeTypeV1,
  FlagV1,
  IkeAttrV1,
  IkeEncryptionV1,
  IkeHashV1,
  type MessageV1,
  ProtocolV1,
} from "../../../../src/ike/message/v1/mod.ts";
import { loadCapture } from "./capture.ts";
import { tohex } from "./helpers.ts";

const V1 = loadCapture().filter((m) => m.name.startsWith("IKEv1"));

function decode(bytes: Uint8Array): MessageV1 {
  const r = decodeV1Message(bytes);
  assert.ok(r.ok, r.ok ? "" : r.error.message);
  return r.value;
}

function kinds(m: MessageV1): string[] {
  assert.equal(m.encrypted, false);
  return m.encrypted ? [] : m.payloads.map((p) => p.kind);
}

Deno.test("strongSwan IKEv1: every captured datagram decodes; plaintext ones re-encode byte for byte", () => {
  assert.equal(V1.length, 10);
  for (const c of V1) {
    const m = decode(c.bytes);
    assert.equal(m.header.majorVersion, 1, c.name);
    if (m.encrypted) {
      assert.ok(c.name.includes("encrypted"), c.name);
      assert.equal(m.body.length % 16, 0, `${c.name}: AES-CBC body is whole blocks`);
      continue;
    }
    const again = encodeV1Message(m.header, m.payloads);
    assert.equal(tohex(again), tohex(c.bytes), c.name);
  }
});

Deno.test("strongSwan IKEv1: Main Mode 1 carries the configured Phase 1 proposals", () => {
  const m = decode(V1[0]!.bytes);
  assert.equal(m.header.exchangeType, ExchangeTypeV1.IDENTITY_PROTECTION);
  assert.equal(m.header.messageId, 0);
  assert.equal(tohex(m.header.spiR), "0000000000000000");
  assert.deepEqual(kinds(m), ["sa", "vid", "vid", "vid", "vid", "vid"]);
  if (m.encrypted) return;
  const sa = m.payloads[0]!;
  assert.ok(sa.kind === "sa");
  assert.equal(sa.doi, 1);
  assert.equal(sa.proposals.length, 1);
  const p = sa.proposals[0]!;
  assert.equal(p.protocol, ProtocolV1.ISAKMP);
  const attrs = p.transforms.map((t) => new Map(t.attributes.map((a) => [a.type, a.value])));
  assert.deepEqual(
    attrs.map((a) => [
      a.get(IkeAttrV1.ENCRYPTION_ALGORITHM),
      a.get(IkeAttrV1.KEY_LENGTH),
      a.get(IkeAttrV1.HASH_ALGORITHM),
      a.get(IkeAttrV1.GROUP_DESCRIPTION),
      a.get(IkeAttrV1.AUTHENTICATION_METHOD),
    ]),
    [
      [IkeEncryptionV1.AES_CBC, 128, IkeHashV1.SHA2_256, 14, AuthMethodV1.PRE_SHARED_KEY],
      [IkeEncryptionV1.AES_CBC, 256, IkeHashV1.SHA, 19, AuthMethodV1.PRE_SHARED_KEY],
    ],
  );
  // RFC 3947 and RFC 3706 vendor IDs are among the VIDs.
  const vids = m.payloads.filter((x): x is DecodedPayloadV1 & { kind: "vid" } => x.kind === "vid")
    .map((v) => tohex(v.data));
  assert.ok(vids.includes("4a131c81070358455c5728f20e95452f"));
  assert.ok(vids.includes("afcad71368a1f1c96b8696fc77570100"));
});

Deno.test("strongSwan IKEv1: Main Mode 3/4 KE (modp2048), nonces and mirrored NAT-D hashes", () => {
  const m3 = decode(V1[2]!.bytes), m4 = decode(V1[3]!.bytes);
  assert.deepEqual(kinds(m3), ["ke", "nonce", "nat-d", "nat-d"]);
  assert.deepEqual(kinds(m4), ["ke", "nonce", "nat-d", "nat-d"]);
  if (m3.encrypted || m4.encrypted) return;
  const ke = m3.payloads[0]!;
  assert.ok(ke.kind === "ke");
  assert.equal(ke.data.length, 256);
  const hashes = (m: typeof m3) =>
    m.payloads.flatMap((p) => (p.kind === "nat-d" ? [tohex(p.hash)] : []));
  // RFC 3947 §3.2: the first NAT-D is the peer's address; without NAT each side's pair mirrors.
  assert.deepEqual(hashes(m3), [...hashes(m4)].reverse());
});

Deno.test("strongSwan IKEv1: encrypted messages expose the first payload type for the decryptor", () => {
  const types = V1.slice(4).map((c) => {
    const m = decode(c.bytes);
    assert.ok(m.encrypted);
    assert.equal(m.header.flags & FlagV1.ENCRYPTION, FlagV1.ENCRYPTION);
    return [m.header.exchangeType, m.header.nextPayload];
  });
  assert.deepEqual(types, [[2, 5], [2, 5], [32, 8], [32, 8], [5, 8], [5, 8]]);
});
