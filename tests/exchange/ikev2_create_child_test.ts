/**
 * IKEv2 CREATE_CHILD_SA against the engine (RFC 7296 §1.3, §2.8, §2.17, §2.18): an additional
 * CHILD_SA, CHILD_SA rekeys with and without PFS (make-before-break: the new pair is installed
 * before the old one goes), INVALID_KE_PAYLOAD in a PFS rekey, an IKE SA rekey that moves the
 * children, and a rekey of an unknown SPI.
 */

import assert from "node:assert/strict";
import { Nt, Pt } from "./initiator_v2/consts.ts";
import { assertInstalled, spiNum, v2Policy, V2Setup } from "./initiator_v2/harness.ts";
import { cidr4, hex } from "./initiator_v2/wire.ts";

function deletes(s: V2Setup, from: number): number[] {
  return s.log.slice(from).flatMap((a) => a.kind === "deleteSa" ? [a.spi] : []);
}

Deno.test("CREATE_CHILD_SA: an additional CHILD_SA with its own selectors and keys", () => {
  const s = new V2Setup(v2Policy({ local_ts: ["10.1.0.0/16"], remote_ts: ["10.2.0.0/16"] }));
  s.establish();
  const mark = s.log.length;
  const r = s.answer(
    s.i.createChild({ tsi: [cidr4("10.2.7.0/24")], tsr: [cidr4("10.1.7.0/24")] }),
    (d) => s.i.readCreateChild(d),
  );
  assert.deepEqual(r.errors, []);
  assert.equal(r.first(Pt.KE), undefined, "no KE without PFS");
  assertInstalled(s, s.i.children[1]!, mark);
  assert.equal(deletes(s, mark).length, 0);
  assert.equal(s.r.childSas(s.now).length, 2);
});

Deno.test("CREATE_CHILD_SA: rekey without PFS, new pair first, old pair gone after its Delete", () => {
  const s = new V2Setup();
  s.establish();
  const old = s.i.children[0]!;
  const mark = s.log.length;
  const r = s.answer(s.i.createChild({ rekey: old }), (d) => s.i.readCreateChild(d));
  assert.deepEqual(r.errors, []);
  const fresh = s.i.children[1]!;
  assertInstalled(s, fresh, mark);
  assert.deepEqual(deletes(s, mark), [], "make-before-break: the old pair stays until deleted");
  const del = s.answer(s.i.deleteChildren([old]), (d) => s.i.readResponse(d));
  const d = del.first(Pt.D);
  assert.ok(d !== undefined, "§1.4.1: the Delete is answered with the responder's SPI");
  assert.equal(hex(d.body.subarray(4)), hex(old.outSpi));
  assert.deepEqual(deletes(s, mark).sort(), [spiNum(old.inSpi), spiNum(old.outSpi)].sort());
  const views = s.r.childSas(s.now);
  assert.equal(views.length, 1);
  assert.equal(views[0]!.inboundSpi, spiNum(fresh.outSpi));
});

/**
 * An IKE SA whose peer wants MODP-3072 PFS in rekeys (none in IKE_AUTH, §1.2), and the answer
 * to a rekey of its first CHILD_SA with a KE of `group` offering `esp`.
 */
function pfsRekey(group: number, esp: string) {
  const s = new V2Setup(v2Policy({ esp_proposals: ["aes128gcm16-modp3072"] }), {
    esp: ["aes128gcm16"],
  });
  s.establish();
  const old = s.i.children[0]!;
  const mark = s.log.length;
  const r = s.answer(
    s.i.createChild({ rekey: old, pfs: group, esp: [esp] }),
    (d) => s.i.readCreateChild(d),
  );
  return { s, old, mark, r };
}

Deno.test("CREATE_CHILD_SA: rekey with PFS (KE in the rekey), keys from the new g^ir", () => {
  const { s, mark, r } = pfsRekey(15, "aes128gcm16-modp3072");
  assert.deepEqual(r.errors, []);
  assert.ok(r.first(Pt.KE) !== undefined, "KEr present");
  const fresh = s.i.children[1]!;
  assert.equal(fresh.pfs, 15);
  assertInstalled(s, fresh, mark);
  const v = s.r.childSas(s.now).find((c) => c.inboundSpi === spiNum(fresh.outSpi));
  assert.equal(v?.pfsGroup, 15);
});

Deno.test("CREATE_CHILD_SA: a PFS rekey with the wrong KE group gets INVALID_KE_PAYLOAD, then works", () => {
  const { s, old, mark, r } = pfsRekey(14, "aes128gcm16-modp2048-modp3072");
  assert.deepEqual(r.errors, [Nt.INVALID_KE_PAYLOAD]);
  assert.equal(hex(r.notify(Nt.INVALID_KE_PAYLOAD)!.data), "000f");
  assert.equal(s.installs(mark).length, 0);
  const again = s.answer(
    s.i.createChild({ rekey: old, pfs: 15, esp: ["aes128gcm16-modp2048-modp3072"] }),
    (d) => s.i.readCreateChild(d),
  );
  assert.deepEqual(again.errors, []);
  assertInstalled(s, s.i.children[1]!, mark);
});

Deno.test("CREATE_CHILD_SA: a rekey naming an unknown SPI gets CHILD_SA_NOT_FOUND", () => {
  const s = new V2Setup();
  s.establish();
  const ghost = { ...s.i.children[0]!, inSpi: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) };
  const mark = s.log.length;
  const r = s.answer(s.i.createChild({ rekey: ghost }), (d) => s.i.readCreateChild(d));
  assert.deepEqual(r.errors, [Nt.CHILD_SA_NOT_FOUND]);
  assert.equal(s.installs(mark).length, 0);
});

Deno.test("CREATE_CHILD_SA: an ESP offer the config lacks gets NO_PROPOSAL_CHOSEN", () => {
  const s = new V2Setup();
  s.establish();
  const r = s.answer(s.i.createChild({ esp: ["aes256-sha512"] }), (d) => s.i.readCreateChild(d));
  assert.deepEqual(r.errors, [Nt.NO_PROPOSAL_CHOSEN]);
});

Deno.test("CREATE_CHILD_SA: IKE SA rekey; children move, the old SA is deleted, the new one works", () => {
  const s = new V2Setup();
  s.establish();
  const child = s.i.children[0]!;
  const oldSpis = `${hex(s.i.sa!.spiI)}${hex(s.i.sa!.spiR)}`;
  const mark = s.log.length;
  const r = s.answer(s.i.rekeyIke(), (d) => s.i.readCreateChild(d));
  assert.deepEqual(r.errors, []);
  assert.ok(r.first(Pt.KE) !== undefined);
  assert.equal(s.i.sa!.spiR.length, 8);
  // The old IKE SA is deleted by us (§2.18); the children stay installed.
  const del = s.answer(s.i.deleteIke(), (d) => s.i.readResponse(d));
  assert.deepEqual(del.payloads, []);
  s.i.dropOld();
  assert.deepEqual(deletes(s, mark), [], "no CHILD_SA removed by an IKE rekey");
  const ike = s.r.ikeSas(s.now).filter((v) => v.state === "ESTABLISHED");
  assert.equal(ike.length, 1);
  assert.ok(!ike[0]!.spis.toLowerCase().replace(/[^0-9a-f]/g, "").includes(oldSpis));
  assert.match(ike[0]!.spis, new RegExp(hex(s.i.sa!.spiI), "i"));
  assert.equal(s.r.childSas(s.now)[0]!.inboundSpi, spiNum(child.outSpi));
  // On the new IKE SA: liveness and a child rekey with keys from the new SK_d.
  assert.deepEqual(s.answer(s.i.informational(), (d) => s.i.readResponse(d)).payloads, []);
  const m2 = s.log.length;
  s.answer(s.i.createChild({ rekey: child }), (d) => s.i.readCreateChild(d));
  assertInstalled(s, s.i.children[1]!, m2);
});
