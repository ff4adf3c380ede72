import assert from "node:assert/strict";
import { QmRefusal, readQuickModeRequest } from "../../../../src/ike/v1/qm_request.ts";
import { NotifyTypeV1 } from "../../../../src/ike/message/v1/registry.ts";
import type { DecodedPayloadV1, PayloadV1 } from "../../../../src/ike/message/v1/types.ts";

const view = { type: 0, offset: 0, raw: new Uint8Array(0), body: new Uint8Array(0) };
const d = (p: PayloadV1): DecodedPayloadV1 => ({ ...p, ...view }) as DecodedPayloadV1;
const sa = (doi = 1, situation = 1) => d({ kind: "sa", doi, situation, proposals: [] });
const nonce = (n: number) => d({ kind: "nonce", data: new Uint8Array(n) });
const id = () => d({ kind: "id", idType: 1, protocol: 0, port: 0, data: new Uint8Array(4) });
const ke = () => d({ kind: "ke", data: new Uint8Array(32) });

function refused(body: DecodedPayloadV1[], notify: number | undefined) {
  const r = readQuickModeRequest(body);
  assert.ok(r instanceof QmRefusal, JSON.stringify(body.map((p) => p.kind)));
  assert.equal(r.notify, notify);
}

Deno.test("well-formed requests: with and without KE and IDs", () => {
  const a = readQuickModeRequest([sa(), nonce(16)]);
  assert.ok(!(a instanceof QmRefusal));
  assert.equal(a.ke, undefined);
  assert.equal(a.idci, undefined);
  const b = readQuickModeRequest([sa(), nonce(32), ke(), id(), id()]);
  assert.ok(!(b instanceof QmRefusal));
  assert.equal(b.ke?.length, 32);
  assert.ok(b.idci !== undefined && b.idcr !== undefined);
});

Deno.test("bad shapes are refused with the right Notify", () => {
  const N = NotifyTypeV1;
  refused([nonce(16)], N.PAYLOAD_MALFORMED);
  refused([sa(), sa(), nonce(16)], N.NO_PROPOSAL_CHOSEN);
  refused([sa()], N.PAYLOAD_MALFORMED);
  refused([sa(), nonce(16), nonce(16)], N.PAYLOAD_MALFORMED);
  refused([sa(), nonce(7)], N.PAYLOAD_MALFORMED);
  refused([sa(), nonce(257)], N.PAYLOAD_MALFORMED);
  refused([sa(), nonce(16), id()], N.PAYLOAD_MALFORMED);
  refused([sa(), nonce(16), id(), id(), id(), id()], N.PAYLOAD_MALFORMED);
  refused([sa(), nonce(16), ke(), ke()], N.PAYLOAD_MALFORMED);
  refused([sa(2), nonce(16)], N.DOI_NOT_SUPPORTED);
  refused([sa(1, 2), nonce(16)], N.SITUATION_NOT_SUPPORTED);
});
