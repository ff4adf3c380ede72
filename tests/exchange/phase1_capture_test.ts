/**
 * A real strongSwan 5.9 Main Mode message 1 (tests/vectors/ike/strongswan_capture.json) gets an
 * acceptable answer: one proposal with the transform our config allows, its attributes as
 * offered, RFC 3947 and DPD vendor IDs.
 */

import assert from "node:assert/strict";
import { decodeV1Message } from "../../src/ike/message/v1/mod.ts";
import { createIkeV1Responder } from "../../src/ike/responder.ts";
import { oneSend, policy } from "./initiator/p1_harness.ts";

interface Capture {
  readonly messages: readonly { name: string; from: string; to: string; hex: string }[];
}

const capture: Capture = JSON.parse(
  await Deno.readTextFile(new URL("../vectors/ike/strongswan_capture.json", import.meta.url)),
);
const fromHex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

for (
  const [configured, group] of [["aes128-sha256-modp2048", 14], ["aes256-sha1-ecp256", 19]] as const
) {
  Deno.test(`strongSwan Main Mode message 1 answered with ${configured}`, () => {
    const m1 = capture.messages.find((m) => m.name.startsWith("IKEv1 Main Mode message 1"));
    assert.ok(m1);
    const request = fromHex(m1.hex);
    const r = createIkeV1Responder(policy({ remote: "192.0.2.1", ike_proposals: [configured] }));
    const out = r.handle(
      request,
      { address: "192.0.2.2", port: 500 },
      { address: "192.0.2.1", port: 500 },
      1000,
    );
    const reply = decodeV1Message(oneSend(out));
    assert.ok(reply.ok && !reply.value.encrypted);
    assert.deepEqual(reply.value.header.spiI, request.subarray(0, 8));
    assert.ok(reply.value.header.spiR.some((b) => b !== 0));
    const sa = reply.value.payloads.find((p) => p.kind === "sa");
    assert.ok(sa?.kind === "sa");
    assert.equal(sa.proposals.length, 1);
    assert.equal(sa.proposals[0]!.transforms.length, 1);
    const t = sa.proposals[0]!.transforms[0]!;
    assert.equal(t.attributes.find((a) => a.type === 4)?.value, group);
    const vids = reply.value.payloads.flatMap((p) => p.kind === "vid" ? [hex(p.data)] : []);
    assert.ok(vids.includes("4a131c81070358455c5728f20e95452f"), "RFC 3947 VID");
    assert.ok(vids.includes("afcad71368a1f1c96b8696fc77570100"), "DPD VID");
  });
}
