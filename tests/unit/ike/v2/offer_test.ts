/**
 * What the IKEv2 initiator (and our own rekeys) offer, from configured proposals: wire form
 * (RFC 7296 §3.3: numbering, transform order, AES key lengths, none for ChaCha20-Poly1305, no
 * DH in IKE_AUTH children), and that the selection code of the responder side accepts each
 * offer against the same configuration after an encode/decode round trip.
 */

import assert from "node:assert/strict";
import { decodeV2Payloads, encodeV2Payloads } from "../../../../src/ike/message/v2/chain.ts";
import type { SaPayloadV2 } from "../../../../src/ike/message/v2/types.ts";
import { offeredGroups, offerV2, singleAnswer } from "../../../../src/ike/v2/offer.ts";
import { parseV2Proposals, selectEspV2, selectIkeV2 } from "../../../../src/ike/v2/proposal.ts";

/** The SA payload as a peer decodes it. */
function onWire(sa: SaPayloadV2): SaPayloadV2 {
  const d = decodeV2Payloads(33, encodeV2Payloads([sa]));
  assert.ok(d.ok);
  const p = d.value.payloads[0]!;
  assert.equal(p.kind, "sa");
  return p as SaPayloadV2;
}

Deno.test("IKE offer: every configured proposal, numbered, key lengths, groups in order", () => {
  const texts = [
    "aes256-sha256-modp3072",
    "aes128gcm16-prfsha256-ecp256",
    "chacha20poly1305-prfsha512-curve25519",
  ];
  const props = offerV2(texts, "ike", new Uint8Array(0));
  assert.deepEqual(props.map((p) => p.number), [1, 2, 3]);
  assert.deepEqual(
    props[0]!.transforms.map((t) => [t.type, t.id, t.attributes.length]),
    [[1, 12, 1], [2, 5, 0], [3, 12, 0], [4, 15, 0]],
  );
  assert.deepEqual(props[2]!.transforms[0], { type: 1, id: 28, attributes: [] });
  assert.deepEqual(offeredGroups(texts), [15, 19, 31]);
  for (let i = 0; i < texts.length; i++) {
    // The responder configured with only proposal i picks exactly it from the whole offer.
    const r = selectIkeV2(
      onWire({ kind: "sa", proposals: props }),
      parseV2Proposals([texts[i]!], "ike"),
    );
    assert.ok(r.ok, texts[i]);
    assert.equal(r.offered.number, i + 1);
    assert.ok(singleAnswer([r.answer]));
  }
});

Deno.test("ESP offer: our SPI, ESN added, DH only when asked for, unusable proposals skipped", () => {
  const spi = Uint8Array.of(0xc0, 0, 0x12, 0x34);
  const texts = ["aes128gcm16-modp2048", "des-sha1", "aes256-sha256-esn"];
  const noDh = offerV2(texts, "esp", spi, false);
  assert.equal(noDh.length, 2, "des has no IKEv2 form: skipped");
  assert.ok(noDh.every((p) => p.protocol === 3 && p.spi === spi));
  assert.ok(noDh.every((p) => p.transforms.every((t) => t.type !== 4)));
  assert.deepEqual(noDh[0]!.transforms.map((t) => [t.type, t.id]), [[1, 20], [5, 0]]);
  assert.deepEqual(noDh[1]!.transforms.map((t) => [t.type, t.id]), [[1, 12], [3, 12], [5, 1]]);
  const withDh = offerV2(texts, "esp", spi);
  assert.deepEqual(withDh[0]!.transforms.map((t) => t.type), [1, 4, 5]);
  assert.deepEqual(offeredGroups(texts, "esp"), [14]);
  const r = selectEspV2(
    onWire({ kind: "sa", proposals: noDh }),
    parseV2Proposals(texts, "esp"),
    "none",
  );
  assert.ok(r.ok);
  assert.equal(r.alg.transformName, "aes128gcm16");
  assert.deepEqual(Array.from(r.offered.spi), Array.from(spi));
});

Deno.test("an answer must carry one proposal with one transform per type", () => {
  const [p] = offerV2(["aes128-sha256-modp2048"], "ike", new Uint8Array(0));
  assert.ok(singleAnswer([p!]));
  assert.ok(!singleAnswer([p!, p!]));
  assert.ok(!singleAnswer([{ ...p!, transforms: [...p!.transforms, p!.transforms[0]!] }]));
  assert.ok(!singleAnswer([]));
});
