/**
 * RFC 7383 fragmented *responses* to our own requests, our IKEv2 initiator against our own
 * responder (both full engines, fake clock, seeded randomness; certificates made by the
 * `openssl` CLI): a hub with an RSA-4096 chain (root → intermediate → hub) and a small
 * fragment size answers IKE_AUTH in many SKF fragments, which the branch reassembles and
 * verifies; CREATE_CHILD_SA answers in fragments (CHILD_SA and IKE SA rekeys) and liveness
 * answers (an empty one as fragment 1 of 1); missing,
 * duplicated and mutated fragments install nothing until the message is whole, never crash,
 * and the retransmission of our request recovers.
 */

import assert from "node:assert/strict";
import type { SendAction } from "../../src/ike/actions.ts";
import { ExchangeTypeV2 } from "../../src/ike/message/v2/registry.ts";
import { DAY, issue, makeCa, NOW } from "../unit/pki/fixture.ts";
import { Pt } from "./initiator_v2/consts.ts";
import { seededRng } from "./initiator_v2/harness.ts";
import { rd16 } from "./initiator_v2/wire.ts";
import { mutateBytes } from "./mutate.ts";
import { certBranchPeer, certHubPeer, pubkeyPolicy } from "./pair/pki.ts";
import { v2Pair } from "./pair/v2.ts";
import {
  BRANCH_IP,
  branchPolicy,
  connections,
  HUB_IP,
  hubPolicy,
  installs,
  lines,
  matchedPairs,
  type Wire,
} from "./pair/wire.ts";

/** The hub's largest datagram: every answer above it leaves in fragments. */
const SMALL = 400;

const events = (w: Wire) => connections(w.branch.log).map((c) => `${c.event}:${c.reason}`);
const isSkf = (d: Uint8Array) => d[16] === Pt.SKF;
/** Fragment number and total of an SKF message (RFC 7383 §2.5). */
const fragOf = (d: Uint8Array) => ({ number: rd16(d, 32), total: rd16(d, 34) });
const isResponse = (s: SendAction, exchange: number) =>
  s.datagram[18] === exchange && (s.datagram[19]! & 0x20) !== 0;

function why(w: Wire): string {
  return lines(w.branch.log).concat(["--- hub"], lines(w.hub.log)).join("\n");
}

function assertUp(w: Wire): void {
  assert.deepEqual(events(w), ["up:"], why(w));
  assert.equal(matchedPairs(w.branch, w.hub), 1, why(w));
  assert.equal(matchedPairs(w.hub, w.branch), 1, why(w));
  const b = w.branch.engine.ikeSas(w.now);
  const h = w.hub.engine.ikeSas(w.now);
  assert.equal(b.length, 1);
  assert.equal(h.length, 1);
  assert.equal(b[0]!.spis, h[0]!.spis, "the same IKE SA on both sides");
  assert.ok(!lines(w.branch.log).some((l) => l.includes("internal error")), why(w));
}

const base = await Deno.makeTempDir({ prefix: "bg-v2-frag-pki-" });
const notBefore = new Date(NOW.getTime() - 10 * DAY);
const root = await makeCa(base, "root", undefined, { alg: "rsa4096", notBefore });
const inter = await makeCa(base, "inter", root, { alg: "rsa4096", notBefore });
const hubCert = await issue(base, "hub", inter, {
  subject: "/O=example/CN=hub.example.net",
  sans: "DNS:hub.example.net",
  alg: "rsa4096",
});
const brCert = await issue(base, "br", root, {
  subject: "/O=example/CN=br.example.net",
  sans: "DNS:br.example.net",
  alg: "p256",
});

/** Branch trusting the root only; hub sending its certificate and the intermediate. */
function rsaPair(): Wire {
  const common = {
    ike_version: 2,
    ike_proposals: ["aes128gcm16-prfsha256-ecp256"],
    esp_proposals: ["aes128gcm16"],
  };
  return v2Pair(
    "v2 fragmented responses (RSA-4096)",
    pubkeyPolicy(root, certBranchPeer(common), BRANCH_IP, brCert),
    pubkeyPolicy(root, certHubPeer({ ...common, ca: [root.cert, inter.cert] }), HUB_IP, hubCert),
    { hub: { maxDatagram: SMALL } },
  );
}

Deno.test("IKEv2 initiator: the hub's RSA-4096 chain in a fragmented IKE_AUTH answer is verified", () => {
  const w = rsaPair();
  const answers: Uint8Array[] = [];
  w.drop = (s, from) => {
    if (from === "hub" && isResponse(s, ExchangeTypeV2.IKE_AUTH)) answers.push(s.datagram);
    return false;
  };
  w.dial();
  assertUp(w);
  assert.ok(answers.length >= 8, `IKE_AUTH answered in ${answers.length} datagrams`);
  for (const d of answers) {
    assert.ok(isSkf(d), "every datagram of the answer is an SKF fragment");
    assert.ok(d.length <= SMALL, `fragment of ${d.length} octets`);
    assert.equal(fragOf(d).total, answers.length);
  }
  assert.ok(
    lines(w.branch.log).some((l) => l.includes("fragmented response reassembled")),
    why(w),
  );
});

Deno.test("IKEv2 initiator: missing, duplicated and forged answer fragments; retransmission recovers", async () => {
  const w = rsaPair();
  let round = 0;
  let forged = 0;
  const { next } = seededRng("v2 fragmented answer mutants");
  w.drop = (s, from) => {
    if (from !== "hub" || !isResponse(s, ExchangeTypeV2.IKE_AUTH)) return false;
    const { number } = fragOf(s.datagram);
    if (number === 1) round++;
    if (round > 1) return false;
    // First round: a forged copy of every fragment first, fragment 2 lost, 3 twice.
    const m = mutateBytes(s.datagram, next, number % 4);
    forged++;
    w.run("branch", w.branch.engine.handle(m, s.remote, s.local, w.now));
    if (number === 3) w.run("branch", w.branch.engine.handle(s.datagram, s.remote, s.local, w.now));
    return number === 2;
  };
  w.dial();
  assert.ok(forged >= 8, `${forged} forged fragments`);
  assert.equal(round, 1);
  assert.deepEqual(events(w), [], why(w));
  assert.equal(installs(w.branch.log).length, 0, "nothing installed before the answer is whole");
  assert.equal(w.branch.engine.peerStates(w.now)[0]?.state, "connecting");
  assert.ok(!lines(w.branch.log).some((l) => l.includes("internal error")), why(w));
  // Our IKE_AUTH is retransmitted after 1 s; the hub sends every fragment again (§2.6.1).
  w.advance(w.now + 1_500);
  assert.equal(round, 2);
  assertUp(w);
  assert.equal(installs(w.branch.log).length, 2, "one CHILD_SA, installed once");
  await Deno.remove(base, { recursive: true }).catch(() => {});
});

Deno.test("IKEv2 initiator: seeded mutants of one answer fragment never crash or half-install", () => {
  const { seed, next } = seededRng("v2 answer fragment mutants");
  for (let i = 0; i < 120; i++) {
    const w = v2Pair(
      next,
      branchPolicy({ ike_version: 2, ike_proposals: ["aes128-sha256-ecp256"] }),
      hubPolicy({ ike_version: 2, ike_proposals: ["aes128-sha256-ecp256"] }),
      { hub: { maxDatagram: 150 } },
    );
    let which = -1;
    let total = 0;
    w.drop = (s, from) => {
      if (from !== "hub" || !isResponse(s, ExchangeTypeV2.IKE_AUTH) || which === 0) return false;
      const f = fragOf(s.datagram);
      if (which < 0) {
        total = f.total;
        which = 1 + (next() % f.total);
      }
      if (f.number !== which) return false;
      which = 0;
      const m = mutateBytes(s.datagram, next, next() % 4);
      w.run("branch", w.branch.engine.handle(m, s.remote, s.local, w.now));
      return true; // the original is lost
    };
    w.dial();
    const ctx = `seed ${seed}, mutant ${i}:\n${why(w)}`;
    assert.ok(total >= 2, `answer in ${total} fragments`);
    if (events(w).length === 0) assert.equal(w.branch.sas.size, 0, ctx);
    w.advance(w.now + 40_000);
    assert.ok(!lines(w.branch.log).some((l) => l.includes("internal error")), ctx);
    assert.deepEqual(events(w), ["up:"], ctx);
    assert.equal(matchedPairs(w.branch, w.hub), 1, ctx);
    assert.equal(matchedPairs(w.hub, w.branch), 1, ctx);
  }
});

Deno.test("IKEv2: CREATE_CHILD_SA answers in fragments (CHILD_SA and IKE SA rekeys), one lost", () => {
  const v2 = { ike_version: 2, ike_lifetime: 600, rekey_margin: 60 };
  // The hub's longer lifetime leaves the IKE SA rekey to the branch (its answer is the hub's).
  const w = v2Pair(
    "v2 fragmented rekey answers",
    branchPolicy(v2),
    hubPolicy({ ...v2, ike_lifetime: 1200 }),
    {
      hub: { maxDatagram: 150 },
    },
  );
  w.dial();
  assertUp(w);
  const answers: Uint8Array[] = [];
  let lost = 0;
  w.drop = (s, from) => {
    if (from !== "hub" || !isResponse(s, ExchangeTypeV2.CREATE_CHILD_SA)) return false;
    answers.push(s.datagram);
    // The first answer's second fragment is lost once.
    if (lost === 0 && fragOf(s.datagram).number === 2) return ++lost === 1;
    return false;
  };
  const child = w.branch.engine.childSas(w.now)[0]!;
  w.run(
    "branch",
    w.branch.engine.espLifetime(
      { kind: "soft", spi: child.inboundSpi, direction: "in", childId: child.childId },
      w.now,
    ),
  );
  assert.equal(lost, 1);
  assert.ok(answers.length >= 2 && answers.every(isSkf), `${answers.length} datagrams`);
  // Incomplete: the old child stays the only one, nothing new installed.
  const installed = installs(w.branch.log).length;
  assert.equal(w.branch.engine.childSas(w.now).length, 1);
  w.advance(w.now + 3_000);
  assert.ok(installs(w.branch.log).length > installed, why(w));
  const now = w.branch.engine.childSas(w.now).filter((c) => c.state === "installed");
  assert.ok(!now.some((c) => c.inboundSpi === child.inboundSpi), "the old child is gone");
  assert.equal(matchedPairs(w.branch, w.hub), 1, why(w));
  // The IKE SA rekey before expiry: its answer (SA, KE, Nr) is fragmented too.
  const before = w.branch.engine.ikeSas(w.now)[0]!.spis;
  const mark = answers.length;
  w.advance(w.now + 600_000);
  assert.ok(answers.length - mark >= 2, "the IKE SA rekey answered in fragments");
  const after = w.branch.engine.ikeSas(w.now);
  assert.equal(after.length, 1, why(w));
  assert.notEqual(after[0]!.spis, before, "a new IKE SA");
  assert.equal(after[0]!.spis, w.hub.engine.ikeSas(w.now)[0]!.spis);
  assert.equal(matchedPairs(w.branch, w.hub), 1);
  assert.equal(matchedPairs(w.hub, w.branch), 1);
  assert.deepEqual(events(w), ["up:"], "never down");
  assert.ok(
    lines(w.branch.log).filter((l) => l.includes("fragmented response reassembled")).length >= 3,
  );
});

Deno.test("IKEv2: liveness answers as SKF fragments (even an empty one, 1 of 1) keep the SA alive", () => {
  const v2 = { ike_version: 2, dpd_delay: 10 };
  // Only the branch checks liveness, so every INFORMATIONAL from the hub is an answer.
  const w = v2Pair(
    "v2 fragmented liveness answers",
    branchPolicy(v2),
    hubPolicy({ ike_version: 2 }),
    {
      hub: { maxDatagram: 60 },
    },
  );
  w.dial();
  assertUp(w);
  const answers: Uint8Array[] = [];
  w.drop = (s, from) => {
    if (from === "hub" && isResponse(s, ExchangeTypeV2.INFORMATIONAL)) answers.push(s.datagram);
    return false;
  };
  w.advance(w.now + 120_000);
  assert.ok(answers.length >= 5, `${answers.length} liveness answers`);
  for (const d of answers) {
    assert.ok(isSkf(d), "answered in an SKF fragment");
    assert.deepEqual(fragOf(d), { number: 1, total: 1 });
  }
  assert.deepEqual(events(w), ["up:"], why(w));
  assert.equal(w.branch.engine.ikeSas(w.now).length, 1);
  assert.equal(matchedPairs(w.branch, w.hub), 1);
});
