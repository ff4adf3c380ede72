/**
 * IKEv2 fragmentation (RFC 7383) against the engine: a fragmented IKE_AUTH in order, out of
 * order and with duplicates; forged and nonsensical fragments ignored without blocking the real
 * ones; bounded reassembly; a large response fragmented (each fragment within 1280 bytes).
 */

import assert from "node:assert/strict";
import { Pt } from "./initiator_v2/consts.ts";
import { v2Policy, V2Setup } from "./initiator_v2/harness.ts";
import { cidr4, decodeMessage, hex, parseTs, type Selector } from "./initiator_v2/wire.ts";

Deno.test("fragmented IKE_AUTH: in order, reversed, with duplicates: one answer each time", () => {
  for (const order of ["forward", "reverse", "dupes"]) {
    const s = new V2Setup(v2Policy(), { fragmentSize: 60 });
    s.init();
    const frags = s.i.auth();
    assert.ok(frags.length >= 3, `${frags.length} fragments`);
    for (const f of frags) assert.equal(decodeMessage(f).payloads[0]!.type, Pt.SKF);
    const seq = order === "forward"
      ? frags
      : order === "reverse"
      ? [...frags].reverse()
      : [frags[0]!, frags[0]!, ...frags.slice(1), frags[1]!];
    const back = s.exchange(seq);
    let r;
    for (const d of back) r = s.i.readAuth(d) ?? r;
    assert.ok(r !== undefined, `${order}: answered`);
    assert.deepEqual(r.errors, [], order);
    assert.equal(s.installs().length, 2, `${order}: one CHILD_SA`);
  }
});

Deno.test("fragments: forged ICV, number > total, total 0 are ignored; the real ones still work", () => {
  const s = new V2Setup(v2Policy(), { fragmentSize: 60 });
  s.init();
  const frags = s.i.auth();
  const forged = frags[1]!.slice();
  forged[forged.length - 1]! ^= 1;
  const beyond = frags[0]!.slice();
  beyond[28 + 4] = 0xff; // fragment number 0xff.. > total
  const zero = frags[0]!.slice();
  zero[28 + 6] = 0;
  zero[28 + 7] = 0; // total 0
  assert.deepEqual(s.exchange([forged, beyond, zero]), []);
  const back = s.exchange(frags);
  let r;
  for (const d of back) r = s.i.readAuth(d) ?? r;
  assert.deepEqual(r?.errors, []);
});

Deno.test("fragments: a flood of partial messages stays bounded and never blocks a real one", () => {
  const s = new V2Setup(v2Policy(), { fragmentSize: 40 });
  s.init();
  const frags = s.i.auth();
  const before = Deno.memoryUsage().heapUsed;
  // The same message ID claimed by 1000 bogus first fragments of a 60000-fragment message.
  for (let k = 0; k < 1000; k++) {
    const f = frags[0]!.slice();
    f[28 + 4] = 0;
    f[28 + 5] = 1 + (k % 200);
    f[28 + 6] = 0xea;
    f[28 + 7] = 0x60;
    s.exchange([f]);
  }
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.ok(grown < 32 * 1024 * 1024, `heap grew ${grown} bytes`);
  const back = s.exchange(frags);
  let r;
  for (const d of back) r = s.i.readAuth(d) ?? r;
  assert.deepEqual(r?.errors, []);
});

Deno.test("a response above the path limit is sent in fragments (RFC 7383 §2.5)", () => {
  // 100 narrowed selectors make an IKE_AUTH response of ~1.7 kB.
  const remote: string[] = [];
  const tsi: Selector[] = [];
  for (let k = 0; k < 100; k++) {
    remote.push(`10.2.${k}.0/24`);
    tsi.push(cidr4(`10.2.${k}.0/24`));
  }
  const s = new V2Setup(v2Policy({ remote_ts: remote }), { tsi });
  s.init();
  const frags = s.i.auth();
  const back = s.exchange(frags);
  assert.ok(back.length >= 2, `response in ${back.length} datagrams`);
  for (const d of back) {
    assert.equal(decodeMessage(d).payloads[0]!.type, Pt.SKF);
    assert.ok(d.length + 28 <= 1280, `fragment of ${d.length} bytes`);
  }
  let r;
  for (const d of back) r = s.i.readAuth(d) ?? r;
  assert.deepEqual(r?.errors, []);
  assert.equal(parseTs(r!.first(Pt.TSi)!.body).length, 100);
  // A retransmitted request gets every fragment of the stored response again (§2.1).
  const mark = s.log.length;
  assert.deepEqual(s.exchange(frags).map(hex), back.map(hex));
  assert.equal(s.installs(mark).length, 0);
});
