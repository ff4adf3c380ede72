/**
 * IKEv2 SAs under operator control (`clear ike sa`, shutdown, a commit that changes the peer):
 * the engine sends an INFORMATIONAL Delete of the IKE SA (RFC 7296 §1.4.1) that the scripted
 * initiator can authenticate and answer, and removes every CHILD_SA from the data path.
 */

import assert from "node:assert/strict";
import { Exchange, Proto, Pt } from "./initiator_v2/consts.ts";
import { sends, spiNum, v2Policy, V2Setup } from "./initiator_v2/harness.ts";
import { parseDelete } from "./initiator_v2/wire.ts";
import type { IkeAction } from "../../src/ike/actions.ts";

/** The engine's Delete request, read by the initiator; returns the deleted protocol. */
function readDelete(s: V2Setup, actions: readonly IkeAction[]): number {
  const out = sends(actions);
  assert.equal(out.length, 1, "one INFORMATIONAL request");
  const back = s.i.respond(out[0]!.datagram); // authenticates it (throws otherwise)
  const req = s.i.lastPeerRequest!;
  assert.equal(req.header.exchange, Exchange.INFORMATIONAL);
  assert.equal(req.header.flags & 0x20, 0, "a request");
  assert.equal(back.length, 1, "we answer it");
  s.feed(back);
  return parseDelete(req.first(Pt.D)!.body).protocol;
}

function removed(actions: readonly IkeAction[]): number[] {
  return actions.flatMap((a) => a.kind === "deleteSa" ? [a.spi] : []).sort();
}

Deno.test("clear ike sa on an IKEv2 peer: Delete of the IKE SA sent, CHILD_SAs removed", () => {
  const s = new V2Setup();
  s.establish();
  s.answer(s.i.createChild(), (d) => s.i.readCreateChild(d));
  const spis = s.i.children.flatMap((c) => [spiNum(c.inSpi), spiNum(c.outSpi)]).sort();
  const act = s.r.deletePeer("branch1", s.now);
  assert.equal(readDelete(s, act), Proto.IKE);
  assert.deepEqual(removed(act), spis);
  assert.equal(s.r.ikeSas(s.now).length, 0);
  assert.equal(s.r.childSas(s.now).length, 0);
});

Deno.test("shutdown and a commit changing the peer both delete its IKEv2 SAs with a Delete", () => {
  const a = new V2Setup();
  a.establish();
  const act = a.r.shutdown(a.now);
  assert.equal(readDelete(a, act), Proto.IKE);
  assert.equal(removed(act).length, 2);
  assert.equal(a.r.ikeSas(a.now).length, 0);

  const b = new V2Setup();
  b.establish();
  const changed = b.r.setPolicy(v2Policy({ remote_ts: ["10.3.0.0/16"] }), b.now);
  assert.equal(readDelete(b, changed), Proto.IKE);
  assert.equal(removed(changed).length, 2);
  assert.equal(b.r.ikeSas(b.now).length, 0);
  // An unchanged commit keeps everything.
  const c = new V2Setup();
  c.establish();
  assert.equal(sends(c.r.setPolicy(v2Policy(), c.now)).length, 0);
  assert.equal(c.r.childSas(c.now).length, 1);
});
