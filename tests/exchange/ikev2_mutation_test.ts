/**
 * Seeded mutations and reordering of IKEv2 messages against the engine: every mutant of
 * IKE_SA_INIT, IKE_AUTH (fragments too), CREATE_CHILD_SA and INFORMATIONAL is handled without
 * an exception or an internal error, installs or removes nothing, and leaves the state so that
 * the real message still gets the right answer (nothing changes before authentication). The
 * seed is printed; BRANCHGATE_TEST_SEED repeats a run.
 */

import assert from "node:assert/strict";
import type { IkeAction } from "../../src/ike/actions.ts";
import { oneSend, seededBytes, seededRng, v2Policy, V2Setup } from "./initiator_v2/harness.ts";
import { mutateBytes } from "./mutate.ts";

/** A mutant that differs from `msg` (a rewrite with the same value is turned into a bit flip). */
function mutate(msg: Uint8Array, r: () => number): Uint8Array {
  const m = change(msg, r);
  if (m.length !== msg.length || m.some((b, i) => b !== msg[i])) return m;
  const out = msg.slice();
  out[out.length - 1] = out[out.length - 1]! ^ 1;
  return out;
}

function change(msg: Uint8Array, r: () => number): Uint8Array {
  const kind = r() % 5;
  if (kind < 4) return mutateBytes(msg, r, kind);
  // Header fields: exchange type, flags, message ID, length.
  const m = msg.slice();
  m[[18, 19, 20, 21, 22, 23, 24, 25, 26, 27][r() % 10]!] = r() & 0xff;
  return m;
}

function clean(actions: readonly IkeAction[], what: string): void {
  for (const a of actions) {
    if (a.kind === "event") assert.ok(!/internal error/i.test(a.message), `${what}: ${a.message}`);
    assert.notEqual(a.kind, "installSa", `${what}: a mutant installed an SA`);
    assert.notEqual(a.kind, "deleteSa", `${what}: a mutant removed an SA`);
  }
}

const ROUNDS = 25;

Deno.test("mutated IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL: no harm, real ones still work", () => {
  const { next } = seededRng("ikev2 mutation");
  const s = new V2Setup(v2Policy(), { fragmentSize: 80, random: seededBytes(next) });
  const feedMutants = (ds: readonly Uint8Array[], what: string) => {
    for (let k = 0; k < ROUNDS; k++) {
      const d = ds[next() % ds.length]!;
      clean(s.r.handle(mutate(d, next), s.to, s.from, s.now), `${what} mutant ${k}`);
    }
  };
  // IKE_SA_INIT: mutants may create half-open SAs but no SA may ever be ESTABLISHED by them.
  const init = s.i.init();
  feedMutants([init], "IKE_SA_INIT");
  s.i.readInit(oneSend(s.feed([init])));
  // IKE_AUTH fragments.
  const auth = s.i.auth({ initialContact: true });
  feedMutants(auth, "IKE_AUTH");
  assert.equal(s.r.ikeSas(s.now).filter((v) => v.state === "ESTABLISHED").length, 0);
  const a = s.answer(auth, (d) => s.i.readAuth(d));
  assert.deepEqual(a.errors, []);
  assert.equal(s.installs().length, 2);
  // CREATE_CHILD_SA (rekey).
  const rekey = s.i.createChild({ rekey: s.i.children[0]! });
  const mark = s.log.length;
  feedMutants(rekey, "CREATE_CHILD_SA");
  const c = s.answer(rekey, (d) => s.i.readCreateChild(d));
  assert.deepEqual(c.errors, []);
  assert.equal(s.installs(mark).length, 2);
  // INFORMATIONAL Delete of the old child.
  const del = s.i.deleteChildren([s.i.children[0]!]);
  feedMutants(del, "INFORMATIONAL");
  assert.equal(s.r.childSas(s.now).length, 2, "mutated Deletes removed nothing");
  s.answer(del, (d) => s.i.readResponse(d));
  assert.equal(s.r.childSas(s.now).length, 1);
});

Deno.test("reordered messages: a CREATE_CHILD_SA before IKE_AUTH changes nothing", () => {
  const { next } = seededRng("ikev2 reorder");
  const s = new V2Setup(v2Policy(), { random: seededBytes(next) });
  const init = s.i.init();
  s.i.readInit(oneSend(s.feed([init])));
  // A CREATE_CHILD_SA (message ID 2) built before IKE_AUTH (ID 1) arrives first.
  const auth = s.i.auth();
  const early = s.i.createChild();
  s.i.sa!.msgId = 2;
  clean(s.feed(early), "CREATE_CHILD_SA before IKE_AUTH");
  // IKE_AUTH itself still works.
  const back = s.exchange(auth);
  let r;
  for (const d of back) r = s.i.readAuth(d) ?? r;
  assert.deepEqual(r?.errors, []);
  assert.equal(s.installs().length, 2);
});
